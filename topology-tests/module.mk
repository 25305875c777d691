# topology-tests/: the namespace lab; rtpmeter is its C RTP meter.
# Every topology-tests/rtpmeter/*.c except the main file goes into libmeter
# (pure code: options, arrival accounting, report), which the unit tests
# in topology-tests/rtpmeter/tests/ link against.
METER_MAIN := topology-tests/rtpmeter/rtpmeter.c
METER_SRCS := $(filter-out $(METER_MAIN),$(wildcard topology-tests/rtpmeter/*.c))
$(eval $(call library,meter,$(METER_SRCS)))
$(eval $(call program,rtpmeter,$(METER_MAIN),meter common))
$(eval $(call unittests,topology-tests/rtpmeter,meter common))
