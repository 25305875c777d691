# common/: the small shared C library (logging, time, parsers, YAML layer).
COMMON_SRCS := $(wildcard common/*.c)
$(eval $(call library,common,$(COMMON_SRCS)))
$(eval $(call unittests,common,common))
