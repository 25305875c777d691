# controller/: failoverd (the per-host controller) and failoverctl (its CLI).
# Every controller/*.c except the two main files goes into libcontroller.
CONTROLLER_MAINS := controller/failoverd.c controller/failoverctl.c
CONTROLLER_SRCS := $(filter-out $(CONTROLLER_MAINS),$(wildcard controller/*.c))
$(eval $(call library,controller,$(CONTROLLER_SRCS)))
$(eval $(call program,failoverd,controller/failoverd.c,controller common))
$(eval $(call program,failoverctl,controller/failoverctl.c,controller common))
$(eval $(call unittests,controller,controller common))
# Test helper for controller/tests/topo: the FRR driver driven from stdin.
$(eval $(call program,frrdrv,controller/tests/frrdrv.c,controller common))
