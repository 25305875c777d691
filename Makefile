# rtp-anycast-failover: one non-recursive Makefile, one fragment per directory.
#
#   make            build everything into build/bin/
#   make check      install deps, build, run unit, config and topology tests
#   make lab        install deps, build, run the lab demo
#   make deps       install the Debian packages the project needs
#   make clean
#
# Each directory's module.mk lists its programs; library sources are found by
# wildcard, so adding a .c file to relay/ or a test_*.c to relay/tests/ needs
# no Makefile change.

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

CC	?= cc
BUILD	:= build
BIN	:= $(BUILD)/bin
OBJ	:= $(BUILD)/obj
AOBJ	:= $(BUILD)/asan
TESTBIN	:= $(BUILD)/tests

VERSION	:= $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

WARN	:= -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	   -Wmissing-prototypes -Wcast-qual -Wsign-compare
CPPFLAGS += -I. -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -I/usr/include/hiredis
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 $(WARN)
ASANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all
EXTLIBS	:= -lev -lyaml -lhiredis -lm

# Programs and libraries are declared by the fragments.
PROGRAMS :=
TESTS	 :=

# $(call library,NAME,SOURCES): build/obj/libNAME.a and its ASan twin.
define library
$(1)_OBJS  := $$(patsubst %.c,$(OBJ)/%.o,$(2))
$(1)_AOBJS := $$(patsubst %.c,$(AOBJ)/%.o,$(2))
$(OBJ)/lib$(1).a: $$($(1)_OBJS)
	@mkdir -p $$(@D)
	$$(AR) rcs $$@ $$^
$(AOBJ)/lib$(1).a: $$($(1)_AOBJS)
	@mkdir -p $$(@D)
	$$(AR) rcs $$@ $$^
DEPFILES += $$($(1)_OBJS:.o=.d) $$($(1)_AOBJS:.o=.d)
endef

# $(call program,NAME,MAIN_SOURCES,LIBS): build/bin/NAME linked with the
# listed libraries (most dependent first).
define program
$(1)_MOBJS := $$(patsubst %.c,$(OBJ)/%.o,$(2))
$(BIN)/$(1): $$($(1)_MOBJS) $$(patsubst %,$(OBJ)/lib%.a,$(3))
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$($(1)_MOBJS) \
	    $$(patsubst %,$(OBJ)/lib%.a,$(3)) $$(EXTLIBS)
PROGRAMS += $(BIN)/$(1)
DEPFILES += $$($(1)_MOBJS:.o=.d)
endef

# $(call unittests,DIR,LIBS): every DIR/tests/test_*.c becomes
# build/tests/DIR/test_*, built with ASan+UBSan and linked with cmocka.
define unittests
$(1)_TSRCS := $$(wildcard $(1)/tests/test_*.c)
$$(foreach t,$$($(1)_TSRCS),$$(eval $$(call unittest,$(1),$$(t),$(2))))
endef
define unittest
$(TESTBIN)/$(1)/$$(basename $$(notdir $(2))): $(2) \
    $$(patsubst %,$(AOBJ)/lib%.a,$(3))
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) -std=c11 $$(WARN) $$(ASANFLAGS) -MMD -MP -o $$@ $(2) \
	    $$(patsubst %,$(AOBJ)/lib%.a,$(3)) $$(EXTLIBS) -lcmocka
TESTS += $(TESTBIN)/$(1)/$$(basename $$(notdir $(2)))
DEPFILES += $(TESTBIN)/$(1)/$$(basename $$(notdir $(2))).d
endef

include common/module.mk
include relay/module.mk
include controller/module.mk
include topology-tests/module.mk

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(AOBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=c11 $(WARN) $(ASANFLAGS) -MMD -MP -c -o $@ $<

.PHONY: all deps check unit-tests config-tests topo-test lab clean bench-relay

all: $(PROGRAMS)

deps:
	@tools/deps.sh

unit-tests: $(TESTS)
	@tools/run-unit-tests.sh $(TESTS)

config-tests: $(PROGRAMS)
	@tools/run-config-tests.sh

# The topology tests need root (network namespaces) and the real FRR and
# Redis; as a normal user they are skipped with a message saying so.
topo-test: $(PROGRAMS) $(TESTS)
	@tools/run-topo-tests.sh

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit-tests
	@$(MAKE) --no-print-directory config-tests
	@$(MAKE) --no-print-directory topo-test

lab: deps
	@$(MAKE) --no-print-directory all
	@tools/lab-demo.sh

clean:
	rm -rf $(BUILD)

-include $(DEPFILES)
