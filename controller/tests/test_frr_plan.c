/*
 * The FRR driver's planner (controller/frr_plan.c): stale cleanup at start,
 * route maps before the networks that name them, change order, coalescing
 * of states set while a step is in flight, resync after forget, error
 * backoff, stale results, reply classification, and a seeded random walk
 * checked against a model of bgpd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/tests/testutil.h"
#include "controller/frr_plan.h"

static char err[256];
static struct frr_plan plan;	/* about 10 KiB: keep it off the stack */

static struct prefix
pfx(const char *s)
{
	struct prefix p;

	assert_int_equal(prefix_parse(s, &p, err, sizeof(err)), 0);
	return p;
}

static void
setup_plan(int nvips)
{
	char s[32];
	struct prefix p;
	int i;

	assert_int_equal(frr_plan_init(&plan, 65101, 0, err, sizeof(err)), 0);
	for (i = 0; i < nvips; i++) {
		snprintf(s, sizeof(s), "198.51.100.%d/32", 10 + i);
		p = pfx(s);
		assert_int_equal(frr_plan_add_vip(&plan, &p, err, sizeof(err)),
		    i);
	}
}

/* The n-th command of a step ("" past the end). */
static const char *
cmd_at(const struct frr_step *s, int n)
{
	const char *c;
	size_t off = 0;

	while ((c = vty_cmds_next(s->cmds, &off)) != NULL)
		if (n-- == 0)
			return c;
	return "";
}

/* The command that makes the difference: 4th of a network sequence, 2nd
 * of a route-map definition. */
static const char *
key_cmd(const struct frr_step *s)
{
	return cmd_at(s, s->kind == FRR_STEP_POLICY ? 1 : 3);
}

static void
next_step(uint64_t now, struct frr_step *s)
{
	assert_int_equal(frr_plan_next(&plan, now, s, err, sizeof(err)), 0);
}

/* Next step at now must be kind with key command key; acknowledge it. */
static void
expect_ok(uint64_t now, enum frr_step_kind kind, const char *key)
{
	struct frr_step s;

	next_step(now, &s);
	assert_string_equal(frr_step_kind_name(s.kind),
	    frr_step_kind_name(kind));
	assert_string_equal(key_cmd(&s), key);
	assert_int_equal(frr_plan_done(&plan, &s, true, now), 0);
}

static void
expect_none(uint64_t now)
{
	struct frr_step s;

	next_step(now, &s);
	assert_int_equal(s.kind, FRR_STEP_NONE);
	assert_true(frr_plan_synced(&plan));
	assert_int_equal(frr_plan_pending(&plan), 0);
}

static void
set(int vip, enum frr_ann ann, uint32_t w, int changed)
{
	assert_int_equal(frr_plan_set(&plan, (size_t)vip, ann, w, err,
	    sizeof(err)), changed);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(frr_step_kind_name(FRR_STEP_NONE), "none");
	assert_string_equal(frr_step_kind_name(FRR_STEP_WAIT), "wait");
	assert_string_equal(frr_step_kind_name(FRR_STEP_POLICY), "policy");
	assert_string_equal(frr_step_kind_name(FRR_STEP_ANNOUNCE), "announce");
	assert_string_equal(frr_step_kind_name(FRR_STEP_WITHDRAW), "withdraw");
	assert_string_equal(frr_step_kind_name(FRR_STEP_KIND_MAX), "unknown");
	assert_string_equal(frr_ann_names[FRR_WITHDRAWN], "withdrawn");
	assert_string_equal(frr_ann_names[FRR_NORMAL], "normal");
	assert_string_equal(frr_ann_names[FRR_GSHUT], "graceful-shutdown");
}

static void
test_setup_errors(void **state)
{
	struct prefix p;
	char s[32];
	int i;

	(void)state;
	assert_int_equal(frr_plan_init(&plan, 0, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "ASN 0 out of range 1..4294967295");
	assert_int_equal(frr_plan_init(&plan, 1ULL << 32, 0, err,
	    sizeof(err)), -1);

	setup_plan(1);
	p = pfx("198.51.100.10/32");
	assert_int_equal(frr_plan_add_vip(&plan, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "VIP 198.51.100.10/32 registered twice");
	/* A struct, not parsed text: host bits must still be refused. */
	p = pfx("198.51.100.0/24");
	p.addr.v4.s_addr |= htonl(1);
	assert_int_equal(frr_plan_add_vip(&plan, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "VIP prefix has host bits set past /24");
	assert_int_equal(frr_plan_find(&plan, &p), -1);
	p = pfx("198.51.100.10/32");
	assert_int_equal(frr_plan_find(&plan, &p), 0);
	p = pfx("198.51.100.10/31");
	assert_int_equal(frr_plan_find(&plan, &p), -1);

	for (i = 1; i < FRR_VIPS_MAX; i++) {
		snprintf(s, sizeof(s), "2001:db8::%x/128", i);
		p = pfx(s);
		assert_int_equal(frr_plan_add_vip(&plan, &p, err, sizeof(err)),
		    i);
	}
	p = pfx("2001:db8::ffff/128");
	assert_int_equal(frr_plan_add_vip(&plan, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 64 VIPs");

	/* Setters: index, state and weight are checked; withdrawn ignores
	 * the weight. */
	assert_int_equal(frr_plan_set(&plan, FRR_VIPS_MAX, FRR_NORMAL, 100,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "no VIP number 64");
	assert_int_equal(frr_plan_set(&plan, 0, FRR_ANN_MAX, 100, err,
	    sizeof(err)), -1);
	assert_int_equal(frr_plan_set(&plan, 0, FRR_NORMAL, 0, err,
	    sizeof(err)), -1);
	assert_string_equal(err,
	    "link bandwidth 0 out of range 1..25600 (Mbit/s)");
	assert_int_equal(frr_plan_set(&plan, 0, FRR_GSHUT, 25601, err,
	    sizeof(err)), -1);
	set(0, FRR_WITHDRAWN, 0, 0);	/* already wanted withdrawn */
	set(0, FRR_WITHDRAWN, 99999, 0);
}

/* Before anything is known every VIP is withdrawn, in registration order,
 * even one nobody ever announced (stale cleanup after a crash). */
static void
test_first_sync_withdraws(void **state)
{
	(void)state;
	setup_plan(3);
	assert_false(frr_plan_synced(&plan));
	assert_int_equal(frr_plan_pending(&plan), 3);
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.10/32");
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.11/32");
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.12/32");
	expect_none(0);
}

static void
test_announce_weight_gshut(void **state)
{
	struct frr_step s;

	(void)state;
	setup_plan(2);
	/* Wanted before the first sync: no withdraw for it, and it counts as
	 * changed after the other VIP was registered. */
	set(0, FRR_NORMAL, 100, 1);
	set(0, FRR_NORMAL, 100, 0);
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.11/32");
	next_step(0, &s);
	assert_int_equal(s.kind, FRR_STEP_POLICY);
	assert_string_equal(s.rmap, "FO-BW100");
	assert_int_equal(s.ncmds, 5);
	assert_string_equal(cmd_at(&s, 0), "configure terminal");
	assert_string_equal(cmd_at(&s, 1), "route-map FO-BW100 permit 10");
	assert_string_equal(cmd_at(&s, 2), "set extcommunity bandwidth 100");
	assert_int_equal(frr_plan_done(&plan, &s, true, 0), 0);
	next_step(0, &s);
	assert_int_equal(s.kind, FRR_STEP_ANNOUNCE);
	assert_int_equal(s.vip, 0);
	assert_int_equal(s.ncmds, 6);
	assert_string_equal(cmd_at(&s, 1), "router bgp 65101");
	assert_string_equal(cmd_at(&s, 3),
	    "network 198.51.100.10/32 route-map FO-BW100");
	assert_string_equal(cmd_at(&s, 5), "end");
	assert_int_equal(frr_plan_done(&plan, &s, true, 0), 0);
	expect_none(0);

	/* The second VIP reuses the map: no definition again. */
	set(1, FRR_NORMAL, 100, 1);
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.11/32 route-map FO-BW100");
	expect_none(0);

	/* Weight change: new map, then switch without a withdraw. */
	set(0, FRR_NORMAL, 250, 1);
	assert_false(frr_plan_synced(&plan));
	expect_ok(0, FRR_STEP_POLICY, "route-map FO-BW250 permit 10");
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.10/32 route-map FO-BW250");
	expect_none(0);

	/* Drain: same weight, graceful-shutdown map. */
	set(0, FRR_GSHUT, 250, 1);
	next_step(0, &s);
	assert_int_equal(s.kind, FRR_STEP_POLICY);
	assert_int_equal(s.ncmds, 6);
	assert_string_equal(cmd_at(&s, 1),
	    "route-map FO-BW250-GSHUT permit 10");
	assert_string_equal(cmd_at(&s, 3),
	    "set community graceful-shutdown additive");
	assert_int_equal(frr_plan_done(&plan, &s, true, 0), 0);
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.10/32 route-map FO-BW250-GSHUT");
	set(0, FRR_WITHDRAWN, 0, 1);
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.10/32");
	expect_none(0);
	/* Back to an earlier weight: its map is still known. */
	set(0, FRR_NORMAL, 100, 1);
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.10/32 route-map FO-BW100");
	expect_none(0);
}

/* The VIP changed least recently goes first. */
static void
test_change_order(void **state)
{
	(void)state;
	setup_plan(3);
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.10/32");
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.11/32");
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.12/32");
	set(2, FRR_NORMAL, 10, 1);
	set(0, FRR_NORMAL, 10, 1);
	set(1, FRR_NORMAL, 20, 1);
	expect_ok(0, FRR_STEP_POLICY, "route-map FO-BW10 permit 10");
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.12/32 route-map FO-BW10");
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.10/32 route-map FO-BW10");
	expect_ok(0, FRR_STEP_POLICY, "route-map FO-BW20 permit 10");
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.11/32 route-map FO-BW20");
	expect_none(0);
}

/* Many changes while one step is in flight: one more step, for the last. */
static void
test_coalesce(void **state)
{
	struct frr_step s;

	(void)state;
	setup_plan(1);
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.10/32");
	set(0, FRR_NORMAL, 100, 1);
	expect_ok(0, FRR_STEP_POLICY, "route-map FO-BW100 permit 10");
	next_step(0, &s);
	assert_int_equal(s.kind, FRR_STEP_ANNOUNCE);
	/* In flight: the caller keeps changing its mind. */
	set(0, FRR_NORMAL, 200, 1);
	set(0, FRR_WITHDRAWN, 0, 1);
	set(0, FRR_GSHUT, 300, 1);
	set(0, FRR_NORMAL, 400, 1);
	assert_int_equal(frr_plan_done(&plan, &s, true, 0), 0);
	assert_int_equal(plan.vips[0].applied.weight_bw, 100);
	expect_ok(0, FRR_STEP_POLICY, "route-map FO-BW400 permit 10");
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.10/32 route-map FO-BW400");
	expect_none(0);

	/* Changed back to the applied state while a step was in flight:
	 * what the step did is undone, nothing else. */
	set(0, FRR_WITHDRAWN, 0, 1);
	next_step(0, &s);
	assert_int_equal(s.kind, FRR_STEP_WITHDRAW);
	set(0, FRR_NORMAL, 400, 1);
	assert_true(frr_plan_synced(&plan));	/* says the plan, not bgpd */
	assert_int_equal(frr_plan_done(&plan, &s, true, 0), 0);
	assert_false(frr_plan_synced(&plan));
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.10/32 route-map FO-BW400");
	expect_none(0);
}

/* A lost connection: maps first, then every VIP, withdrawn ones too. */
static void
test_forget_resync(void **state)
{
	struct frr_step s;

	(void)state;
	setup_plan(3);
	set(1, FRR_GSHUT, 50, 1);
	set(2, FRR_NORMAL, 50, 1);
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.10/32");
	expect_ok(0, FRR_STEP_POLICY, "route-map FO-BW50-GSHUT permit 10");
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.11/32 route-map FO-BW50-GSHUT");
	expect_ok(0, FRR_STEP_POLICY, "route-map FO-BW50 permit 10");
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.12/32 route-map FO-BW50");
	expect_none(0);
	/* A later change, then the connection goes: registration order. */
	set(0, FRR_NORMAL, 50, 1);
	next_step(0, &s);
	frr_plan_forget(&plan);
	assert_int_equal(frr_plan_done(&plan, &s, true, 0), -1);
	assert_int_equal(frr_plan_pending(&plan), 3);
	expect_ok(0, FRR_STEP_POLICY, "route-map FO-BW50 permit 10");
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.10/32 route-map FO-BW50");
	expect_ok(0, FRR_STEP_POLICY, "route-map FO-BW50-GSHUT permit 10");
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.11/32 route-map FO-BW50-GSHUT");
	expect_ok(0, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.12/32 route-map FO-BW50");
	expect_none(0);
}

static void
test_backoff(void **state)
{
	struct frr_step s;
	uint64_t t = 1000000, d;
	int i;

	(void)state;
	assert_int_equal(frr_plan_init(&plan, 65101, 1000000, err,
	    sizeof(err)), 0);
	for (i = 0; i < 2; i++) {
		struct prefix p = pfx(i == 0 ? "198.51.100.10/32" :
		    "198.51.100.11/32");

		assert_int_equal(frr_plan_add_vip(&plan, &p, err, sizeof(err)),
		    i);
	}
	/* VIP 0 fails: 100 ms, 200, 400, 800, then the 1 s cap. */
	d = 100000;
	for (i = 1; i <= 6; i++) {
		next_step(t, &s);
		assert_int_equal(s.kind, FRR_STEP_WITHDRAW);
		assert_int_equal(s.vip, 0);
		assert_int_equal(s.failures, (unsigned)(i - 1));
		assert_int_equal(frr_plan_done(&plan, &s, false, t), i);
		if (i == 1) {
			/* Meanwhile the other VIP goes ahead. */
			expect_ok(t, FRR_STEP_WITHDRAW,
			    "no network 198.51.100.11/32");
		}
		next_step(t, &s);
		assert_int_equal(s.kind, FRR_STEP_WAIT);
		assert_int_equal(s.wait_until_us, t + d);
		next_step(t + d - 1, &s);
		assert_int_equal(s.kind, FRR_STEP_WAIT);
		t += d;
		d = d * 2 > 1000000 ? 1000000 : d * 2;
	}
	assert_false(frr_plan_synced(&plan));
	/* Success clears it; the failure count told the caller to log the
	 * recovery. */
	next_step(t, &s);
	assert_int_equal(s.failures, 6);
	assert_int_equal(frr_plan_done(&plan, &s, true, t), 0);
	expect_none(t);

	/* A failed announce makes the VIP unknown: it may be half done. */
	set(0, FRR_NORMAL, 7, 1);
	expect_ok(t, FRR_STEP_POLICY, "route-map FO-BW7 permit 10");
	next_step(t, &s);
	assert_int_equal(s.kind, FRR_STEP_ANNOUNCE);
	assert_int_equal(frr_plan_done(&plan, &s, false, t), 1);
	assert_false(plan.vips[0].known);
	/* Backoff restarts at 100 ms after a success. */
	next_step(t, &s);
	assert_int_equal(s.wait_until_us, t + 100000);

	/* A forget clears backoffs (a new bgpd), not the failure count. */
	frr_plan_forget(&plan);
	next_step(t, &s);
	assert_int_equal(s.kind, FRR_STEP_POLICY);
	assert_int_equal(frr_plan_done(&plan, &s, true, t), 0);
	next_step(t, &s);
	assert_int_equal(s.kind, FRR_STEP_ANNOUNCE);
	assert_int_equal(s.failures, 1);
}

/* A map bgpd refuses holds back the VIPs that need it, not the others. */
static void
test_policy_failure(void **state)
{
	struct frr_step s;

	(void)state;
	setup_plan(2);
	set(0, FRR_NORMAL, 100, 1);
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.11/32");
	next_step(0, &s);
	assert_int_equal(s.kind, FRR_STEP_POLICY);
	assert_int_equal(frr_plan_done(&plan, &s, false, 0), 1);
	next_step(0, &s);
	assert_int_equal(s.kind, FRR_STEP_WAIT);
	assert_int_equal(s.wait_until_us, 100000);
	/* Another VIP wanting the same map waits too. */
	set(1, FRR_NORMAL, 100, 1);
	next_step(50000, &s);
	assert_int_equal(s.kind, FRR_STEP_WAIT);
	assert_int_equal(s.failures, 0);
	next_step(100000, &s);
	assert_int_equal(s.kind, FRR_STEP_POLICY);
	assert_int_equal(s.failures, 1);
	assert_int_equal(frr_plan_done(&plan, &s, true, 100000), 0);
	expect_ok(100000, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.10/32 route-map FO-BW100");
	expect_ok(100000, FRR_STEP_ANNOUNCE,
	    "network 198.51.100.11/32 route-map FO-BW100");
	expect_none(100000);
}

static void
test_reply_ok(void **state)
{
	const char *absent = "% Can't find static route specified\n";
	struct frr_step s;

	(void)state;
	assert_true(frr_plan_reply_ok("end", 0, ""));
	assert_true(frr_plan_reply_ok("configure terminal", 0, "any text"));
	/* What bgpd 8.4 answers for a prefix it has no network for. */
	assert_true(frr_plan_reply_ok("no network 198.51.100.10/32",
	    VTY_ST_WARNING_CONFIG_FAILED, absent));
	assert_true(frr_plan_reply_ok("no network 198.51.100.10/32",
	    VTY_ST_WARNING, absent));
	assert_false(frr_plan_reply_ok("no network 198.51.100.10/32",
	    VTY_ST_WARNING_CONFIG_FAILED, "% Unknown command\n"));
	assert_false(frr_plan_reply_ok("no network 198.51.100.10/32",
	    VTY_ST_ERR_NO_MATCH, absent));
	assert_false(frr_plan_reply_ok("network 198.51.100.10/32 route-map X",
	    VTY_ST_WARNING_CONFIG_FAILED, absent));
	assert_false(frr_plan_reply_ok("router bgp 65101",
	    VTY_ST_WARNING_CONFIG_FAILED,
	    "BGP is already running; AS is 65100\n"));
	assert_false(frr_plan_reply_ok(NULL, 13, absent));
	assert_false(frr_plan_reply_ok("no network 198.51.100.10/32", 13,
	    NULL));

	memset(&s, 0, sizeof(s));
	s.kind = FRR_STEP_WITHDRAW;
	assert_true(frr_plan_vtysh_ok(&s, 0, ""));
	assert_true(frr_plan_vtysh_ok(&s, 1, absent));
	assert_false(frr_plan_vtysh_ok(&s, 1, "% Unknown command: x\n"));
	assert_false(frr_plan_vtysh_ok(&s, 127, absent));
	assert_false(frr_plan_vtysh_ok(&s, -1, absent));
	assert_false(frr_plan_vtysh_ok(&s, 1, NULL));
	s.kind = FRR_STEP_ANNOUNCE;
	assert_true(frr_plan_vtysh_ok(&s, 0, ""));
	assert_false(frr_plan_vtysh_ok(&s, 1, absent));
}

/* Many weights over time: the map table recycles, and a network never
 * names a map the plan has not defined since the last forget. */
static void
test_policy_table_recycles(void **state)
{
	struct frr_step s;
	uint32_t w;

	(void)state;
	setup_plan(1);
	expect_ok(0, FRR_STEP_WITHDRAW, "no network 198.51.100.10/32");
	for (w = 1; w <= 3 * FRR_PLAN_POLICIES_MAX; w++) {
		set(0, FRR_NORMAL, w, 1);
		next_step(0, &s);
		assert_int_equal(s.kind, FRR_STEP_POLICY);
		assert_int_equal(frr_plan_done(&plan, &s, true, 0), 0);
		next_step(0, &s);
		assert_int_equal(s.kind, FRR_STEP_ANNOUNCE);
		assert_int_equal(frr_plan_done(&plan, &s, true, 0), 0);
		assert_true(plan.npols <= FRR_PLAN_POLICIES_MAX);
	}
	expect_none(0);
}

/*
 * Random walk: random desired states, steps that succeed or fail, results
 * that come back late, forgets. A model of bgpd (its networks and maps)
 * applies what succeeded; at the end, with every step succeeding, the
 * plan must converge and bgpd must hold exactly the desired state, every
 * network naming a map bgpd has.
 */
#define RW_VIPS		4
#define RW_MAPS		(2 * (VTY_BW_MAX + 1))

struct rw_bgpd {
	bool	net[RW_VIPS];
	char	rmap[RW_VIPS][VTY_RMAP_NAME_MAX + 1];
	bool	*map;		/* by weight * 2 + gshut */
};

static int
rw_map_index(const char *name)
{
	unsigned long w;
	char *end;

	assert_memory_equal(name, "FO-BW", 5);
	w = strtoul(name + 5, &end, 10);
	assert_true(w >= 1 && w <= VTY_BW_MAX);
	return (int)(w * 2 + (strcmp(end, "-GSHUT") == 0 ? 1 : 0));
}

static void
rw_apply(struct rw_bgpd *b, const struct frr_step *s)
{
	switch (s->kind) {
	case FRR_STEP_POLICY:
		b->map[rw_map_index(s->rmap)] = true;
		break;
	case FRR_STEP_ANNOUNCE:
		/* bgpd would announce nothing for an undefined map. */
		assert_true(b->map[rw_map_index(s->rmap)]);
		b->net[s->vip] = true;
		snprintf(b->rmap[s->vip], sizeof(b->rmap[s->vip]), "%s",
		    s->rmap);
		break;
	case FRR_STEP_WITHDRAW:
		b->net[s->vip] = false;
		break;
	default:
		fail();
	}
}

static void
test_random_walk(void **state)
{
	static const uint32_t weights[] = { 1, 100, 250, 25600 };
	struct rw_bgpd b;
	struct frr_step s, late;
	bool have_late = false;
	uint64_t now = 0;
	char want[VTY_RMAP_NAME_MAX + 1];
	int round, i, v;

	(void)state;
	rng_state = UINT64_C(0x5eed0f0f12345678);
	memset(&b, 0, sizeof(b));
	b.map = calloc(RW_MAPS, sizeof(bool));
	assert_non_null(b.map);
	/* Stale announcements from an earlier run. */
	b.net[1] = b.net[3] = true;
	setup_plan(RW_VIPS);
	for (round = 0; round < 20000; round++) {
		now += rng() % 50000;
		switch (rng() % 8) {
		case 0:
		case 1:
			v = (int)(rng() % RW_VIPS);
			i = (int)(rng() % FRR_ANN_MAX);
			assert_true(frr_plan_set(&plan, (size_t)v,
			    (enum frr_ann)i, weights[rng() % 4], err,
			    sizeof(err)) >= 0);
			break;
		case 2:
			if (rng() % 50 == 0) {
				/* bgpd restarted: it forgets everything. */
				memset(b.net, 0, sizeof(b.net));
				memset(b.map, 0, RW_MAPS * sizeof(bool));
				frr_plan_forget(&plan);
			}
			break;
		case 3:
			/* A result from before a forget must be ignored. */
			if (have_late && rng() % 2 == 0) {
				assert_int_equal(frr_plan_done(&plan, &late,
				    true, now), -1);
				have_late = false;
			}
			break;
		default:
			next_step(now, &s);
			if (s.kind == FRR_STEP_NONE ||
			    s.kind == FRR_STEP_WAIT)
				break;
			if (rng() % 10 == 0) {
				/* Failed; bgpd may have done part of it. */
				if (rng() % 2 == 0)
					rw_apply(&b, &s);
				assert_true(frr_plan_done(&plan, &s, false,
				    now) >= 1);
			} else if (rng() % 40 == 0) {
				late = s;
				have_late = true;
				frr_plan_forget(&plan);
				memset(b.net, 0, sizeof(b.net));
				memset(b.map, 0, RW_MAPS * sizeof(bool));
			} else {
				rw_apply(&b, &s);
				assert_int_equal(frr_plan_done(&plan, &s, true,
				    now), 0);
			}
			break;
		}
	}
	/* Let it converge: every step succeeds, time moves past backoffs. */
	for (i = 0; i < 10 * RW_VIPS + 10; i++) {
		next_step(now, &s);
		if (s.kind == FRR_STEP_NONE)
			break;
		if (s.kind == FRR_STEP_WAIT) {
			now = s.wait_until_us;
			continue;
		}
		rw_apply(&b, &s);
		assert_int_equal(frr_plan_done(&plan, &s, true, now), 0);
	}
	expect_none(now);
	for (v = 0; v < RW_VIPS; v++) {
		const struct frr_want *d = &plan.vips[v].desired;

		assert_int_equal(b.net[v], d->ann != FRR_WITHDRAWN);
		if (d->ann == FRR_WITHDRAWN)
			continue;
		assert_int_equal(vty_policy_name(want, sizeof(want),
		    d->weight_bw, d->ann == FRR_GSHUT, err, sizeof(err)), 0);
		assert_string_equal(b.rmap[v], want);
		assert_true(b.map[rw_map_index(want)]);
	}
	free(b.map);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_setup_errors),
		cmocka_unit_test(test_first_sync_withdraws),
		cmocka_unit_test(test_announce_weight_gshut),
		cmocka_unit_test(test_change_order),
		cmocka_unit_test(test_coalesce),
		cmocka_unit_test(test_forget_resync),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_policy_failure),
		cmocka_unit_test(test_reply_ok),
		cmocka_unit_test(test_policy_table_recycles),
		cmocka_unit_test(test_random_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
