# topology-tests/: the namespace lab; rtpmeter is its C RTP meter.
$(eval $(call program,rtpmeter,topology-tests/rtpmeter/rtpmeter.c,common))
