# relay/: rtprelay, the RTP relay with the rtpengine ng control protocol.
# Every relay/*.c except the main file goes into librelay, so unit tests link
# only what they use.
RELAY_MAIN := relay/rtprelay.c
RELAY_SRCS := $(filter-out $(RELAY_MAIN),$(wildcard relay/*.c))
$(eval $(call library,relay,$(RELAY_SRCS)))
$(eval $(call program,rtprelay,$(RELAY_MAIN),relay common))
$(eval $(call unittests,relay,relay common))
$(eval $(call program,rtpbench,relay/bench/rtpbench.c,relay common))
bench-relay: all
	@relay/bench/bench-relay.sh
