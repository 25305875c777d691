# controller/: failoverd (the per-host controller) and failoverctl (its CLI).
$(eval $(call program,failoverd,controller/failoverd.c,common))
$(eval $(call program,failoverctl,controller/failoverctl.c,common))
