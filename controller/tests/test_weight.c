/*
 * The announced weight: nominal from capacity, the load feedback and its
 * hysteresis, operator overrides, and what status says about each.
 * Time is a number passed in; nothing here sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "controller/weight.h"

#define S(x)	((uint64_t)(x) * 1000000)

static struct weight_config
auto_cfg(uint64_t calls, uint64_t pps, bool scale)
{
	struct weight_config c = {
		.mode = WEIGHT_AUTO,
		.cap_calls = calls,
		.cap_pps = pps,
		.scale_with_load = scale,
		.target_pct = 80,
		.min_pct = 10,
		.hysteresis_pct = 10,
		.interval_us = S(10),
	};
	return c;
}

static struct weight_load
load(uint64_t calls, uint64_t pps)
{
	struct weight_load l = { calls, pps };

	return l;
}

static void
test_nominal(void **state)
{
	struct weight_config c = auto_cfg(5000, 0, false);
	struct weight_config f = { .mode = WEIGHT_FIXED, .fixed = 300 };

	(void)state;
	assert_int_equal(weight_nominal(&c), 50);
	/* Units round up: a relay never counts as smaller than it is. */
	c.cap_calls = 5001;
	assert_int_equal(weight_nominal(&c), 51);
	c.cap_calls = 1;
	assert_int_equal(weight_nominal(&c), 1);
	/* Packet rate alone: 10,000 packets/s a unit. */
	c = auto_cfg(0, 500000, false);
	assert_int_equal(weight_nominal(&c), 50);
	/* Both: the tighter limit decides. */
	c = auto_cfg(10000, 300000, false);
	assert_int_equal(weight_nominal(&c), 30);
	c = auto_cfg(2000, 300000, false);
	assert_int_equal(weight_nominal(&c), 20);
	/* FRR's ceiling. */
	c = auto_cfg(100000000, 0, false);
	assert_int_equal(weight_nominal(&c), WEIGHT_MAX);
	assert_int_equal(weight_nominal(&f), 300);
}

static void
test_load_frac(void **state)
{
	struct weight_config c = auto_cfg(1000, 100000, true);
	struct weight_load l;

	(void)state;
	l = load(500, 20000);
	assert_true(weight_load_frac(&c, &l) == 0.5);
	l = load(100, 90000);
	assert_true(weight_load_frac(&c, &l) == 0.9);
	/* A limit not configured does not count, however high the value. */
	c.cap_pps = 0;
	l = load(100, 90000000);
	assert_true(weight_load_frac(&c, &l) == 0.1);
}

static void
test_target(void **state)
{
	struct weight_config c = auto_cfg(0, 100000, true);	/* nominal 10 */
	struct weight_load l;

	(void)state;
	c = auto_cfg(0, 1000000, true);			/* nominal 100 */
	l = load(0, 0);
	assert_int_equal(weight_target(&c, 100, &l), 100);
	/* Below the target load: nominal. */
	l = load(0, 500000);
	assert_int_equal(weight_target(&c, 100, &l), 100);
	l = load(0, 800000);
	assert_int_equal(weight_target(&c, 100, &l), 100);
	/* 90% at 100 -> 80/90 of 100. */
	l = load(0, 900000);
	assert_int_equal(weight_target(&c, 100, &l), 89);
	/* The same load measured at weight 50: 50 * 80/90. */
	assert_int_equal(weight_target(&c, 50, &l), 44);
	/* At weight 50 the relay carries 40%: at 100 it would carry 80%,
	 * exactly the target: nominal again. */
	l = load(0, 400000);
	assert_int_equal(weight_target(&c, 50, &l), 100);
	/* Never below the floor (10% of nominal), never above nominal. */
	l = load(0, 100000000);
	assert_int_equal(weight_target(&c, 100, &l), 10);
	l = load(0, 1);
	assert_int_equal(weight_target(&c, 25600, &l), 100);
	/* The floor is at least 1. */
	c = auto_cfg(100, 0, true);				/* nominal 1 */
	l = load(1000, 0);
	assert_int_equal(weight_target(&c, 1, &l), 1);
	/* Calls: nominal scaled by the headroom, whatever the weight they
	 * were measured under (the weight does not move calls). */
	c = auto_cfg(10000, 0, true);				/* nominal 100 */
	l = load(10000, 0);
	assert_int_equal(weight_target(&c, 100, &l), 80);
	assert_int_equal(weight_target(&c, 80, &l), 80);
	assert_int_equal(weight_target(&c, 20, &l), 80);
	l = load(5000, 0);
	assert_int_equal(weight_target(&c, 20, &l), 100);
	/* Both: the lower target wins. */
	c = auto_cfg(10000, 1000000, true);
	l = load(9000, 500000);		/* calls: 89, packets: nominal */
	assert_int_equal(weight_target(&c, 100, &l), 89);
	l = load(1000, 1000000);	/* calls: nominal, packets: 80 */
	assert_int_equal(weight_target(&c, 100, &l), 80);
}

static void
test_fixed_and_override(void **state)
{
	struct weight_config f = { .mode = WEIGHT_FIXED, .fixed = 100 };
	struct weight_state st;
	char buf[256];

	(void)state;
	weight_init(&st, &f);
	assert_int_equal(st.announced, 100);
	assert_int_equal(weight_source(&st, &f), WEIGHT_SRC_CONFIG);
	assert_string_equal(weight_explain(&st, &f, buf, sizeof(buf)),
	    "configured");
	/* Load samples do nothing to a fixed weight. */
	assert_false(weight_sample(&st, &f, &(struct weight_load){ 1, 1 },
	    0));
	assert_int_equal(st.announced, 100);

	assert_true(weight_set(&st, &f, 300));
	assert_int_equal(st.announced, 300);
	assert_true(st.overridden);
	assert_int_equal(weight_source(&st, &f), WEIGHT_SRC_OPERATOR);
	assert_string_equal(weight_explain(&st, &f, buf, sizeof(buf)),
	    "set by failoverctl (configured: 100)");
	assert_false(weight_set(&st, &f, 300));
	/* The configured value ends the override (the state file then has
	 * nothing to say). */
	assert_true(weight_set(&st, &f, 100));
	assert_false(st.overridden);
	assert_true(weight_set(&st, &f, 7));
	assert_true(weight_clear(&st));
	assert_int_equal(st.announced, 100);
	assert_false(st.overridden);
	assert_false(weight_clear(&st));
}

static void
test_auto_without_load(void **state)
{
	struct weight_config c = auto_cfg(5000, 500000, false);
	struct weight_state st;
	char buf[256];

	(void)state;
	weight_init(&st, &c);
	assert_int_equal(st.announced, 50);
	assert_int_equal(weight_source(&st, &c), WEIGHT_SRC_CAPACITY);
	assert_string_equal(weight_explain(&st, &c, buf, sizeof(buf)),
	    "auto from capacity (5000 calls, 500000 packets/s)");
	/* Without scale-with-load a sample changes nothing. */
	assert_false(weight_sample(&st, &c, &(struct weight_load){ 5000,
	    500000 }, S(100)));
	assert_int_equal(st.announced, 50);
	/* An override of an automatic weight stays even at its value. */
	assert_false(weight_set(&st, &c, 50));
	assert_true(st.overridden);
	assert_string_equal(weight_explain(&st, &c, buf, sizeof(buf)),
	    "set by failoverctl (configured: auto, now 50 of nominal 50)");
	assert_false(weight_clear(&st));
	assert_false(st.overridden);
}

static void
test_scale_with_load(void **state)
{
	struct weight_config c = auto_cfg(0, 1000000, true);	/* nominal 100 */
	struct weight_state st;
	char buf[256];
	uint64_t t = S(1000);

	(void)state;
	weight_init(&st, &c);
	assert_string_equal(weight_explain(&st, &c, buf, sizeof(buf)),
	    "auto from capacity (1000000 packets/s); load not measured yet");
	/* Light load: stays at nominal. */
	assert_false(weight_sample(&st, &c, &(struct weight_load){ 10,
	    300000 }, t));
	assert_int_equal(st.announced, 100);
	assert_string_equal(weight_explain(&st, &c, buf, sizeof(buf)),
	    "auto from capacity (1000000 packets/s); load 30% of capacity "
	    "(10 calls, 300000 packets/s), target 80%");
	/* 84%: the target (95) is within 10% of 100: held. */
	assert_false(weight_sample(&st, &c, &(struct weight_load){ 10,
	    840000 }, t += S(1)));
	assert_int_equal(st.announced, 100);
	assert_int_equal(st.hold, WEIGHT_HOLD_BAND);
	assert_string_equal(weight_explain(&st, &c, buf, sizeof(buf)),
	    "auto from capacity (1000000 packets/s); load 84% of capacity "
	    "(10 calls, 840000 packets/s), target 80%; 95 held (within "
	    "hysteresis)");
	/* 100%: down to 80 at once (the first change needs no interval). */
	assert_true(weight_sample(&st, &c, &(struct weight_load){ 10,
	    1000000 }, t += S(1)));
	assert_int_equal(st.announced, 80);
	assert_int_equal(weight_source(&st, &c), WEIGHT_SRC_LOAD);
	assert_string_equal(weight_explain(&st, &c, buf, sizeof(buf)),
	    "auto, lowered for load from nominal 100 (1000000 packets/s); "
	    "load 100% of capacity (10 calls, 1000000 packets/s), target 80%");
	/* The load follows the weight (80%): the target is 80 again, so
	 * nothing moves: no swing back to nominal. */
	assert_false(weight_sample(&st, &c, &(struct weight_load){ 10,
	    800000 }, t += S(1)));
	assert_int_equal(st.announced, 80);
	assert_int_equal(st.hold, WEIGHT_HOLD_NONE);
	/* More load soon after: held by the interval... */
	assert_false(weight_sample(&st, &c, &(struct weight_load){ 10,
	    1200000 }, t += S(1)));
	assert_int_equal(st.announced, 80);
	assert_int_equal(st.hold, WEIGHT_HOLD_INTERVAL);
	/* ...and taken once it has passed: 80 * 0.8 / 1.2. */
	assert_true(weight_sample(&st, &c, &(struct weight_load){ 10,
	    1200000 }, t += S(9)));
	assert_int_equal(st.announced, 53);
	/* The load goes: back to nominal in one step, an interval later. */
	assert_false(weight_sample(&st, &c, &(struct weight_load){ 10,
	    100000 }, t += S(1)));
	assert_true(weight_sample(&st, &c, &(struct weight_load){ 10,
	    100000 }, t += S(10)));
	assert_int_equal(st.announced, 100);
	assert_int_equal(weight_source(&st, &c), WEIGHT_SRC_CAPACITY);
}

/*
 * The loop closed over a model: a relay whose load is proportional to
 * the weight it announces, fed back every second, with some noise. The
 * weight must settle (change a bounded number of times) and the load end
 * near the target, not swing.
 */
static void
test_converges(void **state)
{
	struct weight_config c = auto_cfg(0, 1000000, true);
	struct weight_state st;
	uint64_t t = S(1), seed = 42;
	int changes = 0, i, late_changes = 0;
	double demand = 1.5;	/* load at nominal weight: 150% */
	double l;

	(void)state;
	weight_init(&st, &c);
	for (i = 0; i < 600; i++, t += S(1)) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		/* +-3% noise on the measured rate */
		l = demand * st.announced / 100. *
		    (0.97 + 0.06 * (double)(seed >> 40) / (double)(1 << 24));
		if (weight_sample(&st, &c, &(struct weight_load){ 0,
		    (uint64_t)(l * 1e6) }, t)) {
			changes++;
			if (i > 60)
				late_changes++;
		}
	}
	assert_true(changes >= 1 && changes <= 4);
	assert_int_equal(late_changes, 0);
	l = demand * st.announced / 100.;
	assert_true(l > 0.70 && l < 0.88);

	/* The demand falls to 50%: back to nominal, once. */
	demand = 0.5;
	changes = 0;
	for (i = 0; i < 120; i++, t += S(1))
		changes += weight_sample(&st, &c, &(struct weight_load){ 0,
		    (uint64_t)(demand * st.announced / 100. * 1e6) }, t);
	assert_int_equal(changes, 1);
	assert_int_equal(st.announced, 100);
}

/* Calls above the target do not ratchet the weight down sample after
 * sample: they are not moved by it. */
static void
test_calls_do_not_ratchet(void **state)
{
	struct weight_config c = auto_cfg(1000, 0, true);	/* nominal 10 */
	struct weight_state st;
	int i, changes = 0;

	(void)state;
	weight_init(&st, &c);
	for (i = 0; i < 100; i++)
		changes += weight_sample(&st, &c, &(struct weight_load){
		    1000, 0 }, S(1 + 20 * i));
	assert_int_equal(changes, 1);
	assert_int_equal(st.announced, 8);
}

static void
test_override_while_auto(void **state)
{
	struct weight_config c = auto_cfg(0, 1000000, true);
	struct weight_state st;

	(void)state;
	weight_init(&st, &c);
	assert_true(weight_set(&st, &c, 200));
	assert_int_equal(st.announced, 200);
	/* Measured under the operator's 200: 100% load; auto would be
	 * 200 * 0.8 = 160, capped at nominal 100: unchanged. */
	assert_false(weight_sample(&st, &c, &(struct weight_load){ 0,
	    1000000 }, S(1)));
	assert_int_equal(st.announced, 200);
	assert_int_equal(st.automatic, 100);
	/* Under 50: 100% load -> auto 40, followed while overridden... */
	assert_true(weight_set(&st, &c, 50));
	assert_false(weight_sample(&st, &c, &(struct weight_load){ 0,
	    1000000 }, S(2)));
	assert_int_equal(st.automatic, 40);
	assert_int_equal(st.announced, 50);
	/* ...and announced when the override ends. */
	assert_true(weight_clear(&st));
	assert_int_equal(st.announced, 40);
}

static void
test_reconfigure(void **state)
{
	struct weight_config c = auto_cfg(5000, 0, true);
	struct weight_config f = { .mode = WEIGHT_FIXED, .fixed = 100 };
	struct weight_state st;

	(void)state;
	weight_init(&st, &c);
	assert_true(weight_sample(&st, &c, &(struct weight_load){ 10000, 0 },
	    S(1)));
	assert_int_equal(st.announced, 20);
	/* A reload starts again from nominal. */
	c.cap_calls = 6000;
	assert_true(weight_reconfigure(&st, &c));
	assert_int_equal(st.announced, 60);
	assert_false(st.changed_once);
	/* An override survives a reload. */
	assert_true(weight_set(&st, &c, 7));
	assert_false(weight_reconfigure(&st, &f));
	assert_int_equal(st.announced, 7);
	assert_true(weight_clear(&st));
	assert_int_equal(st.announced, 100);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(weight_source_name(WEIGHT_SRC_LOAD), "load");
	assert_string_equal(weight_source_name(WEIGHT_SRC_MAX), "unknown");
	assert_string_equal(weight_hold_name(WEIGHT_HOLD_BAND),
	    "within hysteresis");
	assert_string_equal(weight_hold_name((enum weight_hold)99),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nominal),
		cmocka_unit_test(test_load_frac),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_fixed_and_override),
		cmocka_unit_test(test_auto_without_load),
		cmocka_unit_test(test_scale_with_load),
		cmocka_unit_test(test_converges),
		cmocka_unit_test(test_calls_do_not_ratchet),
		cmocka_unit_test(test_override_while_auto),
		cmocka_unit_test(test_reconfigure),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
