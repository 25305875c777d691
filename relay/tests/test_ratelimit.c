/*
 * Unit tests for relay/ratelimit.c: the bucket starts full, refills at the
 * exact microsecond a token is due (fractions carry over), never holds more
 * than its burst, survives huge and backward time steps without overflow or
 * extra tokens, and, over seeded random schedules, never accepts more than
 * burst + rate * elapsed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "relay/ratelimit.h"
#include "common/tests/testutil.h"

#define FUZZ_ROUNDS	10000


/* Takes at one instant until refused; returns how many were accepted. */
static unsigned int
drain(struct ratelimit *rl, uint64_t now)
{
	unsigned int n = 0;

	while (ratelimit_take(rl, now))
		n++;
	return n;
}

static void
test_starts_full(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 10, 5, 1000);
	assert_int_equal(drain(&rl, 1000), 5);
	assert_false(ratelimit_take(&rl, 1000));
}

static void
test_refill_exact(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 10, 1, 0);		/* one token per 100 ms */
	assert_true(ratelimit_take(&rl, 0));
	assert_false(ratelimit_take(&rl, 99999));
	assert_true(ratelimit_take(&rl, 100000));
	assert_false(ratelimit_take(&rl, 100000));
	assert_false(ratelimit_take(&rl, 199999));
	assert_true(ratelimit_take(&rl, 200000));
}

static void
test_fractions_carry(void **state)
{
	struct ratelimit rl;
	uint64_t t;

	(void)state;
	/* 3/s: a token every 333333.33 us; small steps must add up. The
	 * burst of 2 keeps the bucket below its cap throughout. */
	ratelimit_init(&rl, 3, 2, 0);
	assert_int_equal(drain(&rl, 0), 2);
	for (t = 1; t < 333333; t += 7)
		assert_false(ratelimit_take(&rl, t));
	assert_false(ratelimit_take(&rl, 333333));
	assert_true(ratelimit_take(&rl, 333334));
	/* The 2/3 micro-token left over counts toward the next one. */
	assert_false(ratelimit_take(&rl, 666666));
	assert_true(ratelimit_take(&rl, 666667));

	/* A full bucket wastes what would overflow it: the next token after
	 * a take is due one full period later. */
	ratelimit_init(&rl, 3, 1, 0);
	assert_true(ratelimit_take(&rl, 0));
	assert_true(ratelimit_take(&rl, 333334));
	assert_false(ratelimit_take(&rl, 666667));
	assert_true(ratelimit_take(&rl, 666668));
}

static void
test_burst_cap(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 200, 20, 0);
	assert_int_equal(drain(&rl, 0), 20);
	/* An hour idle refills the bucket, not 720,000 tokens. */
	assert_int_equal(drain(&rl, 3600ULL * 1000000), 20);
	/* Half refilled: 10 tokens after 50 ms. */
	assert_int_equal(drain(&rl, 3600ULL * 1000000 + 50000), 10);
}

static void
test_steady_rate(void **state)
{
	struct ratelimit rl;
	unsigned int ok = 0;
	uint64_t ms;

	(void)state;
	/* 1000 requests/s for 10 s against 200/s, burst 20: 20 at once,
	 * then 0.2 per ms: floor(20 + 0.2 * 9999) = 2019. */
	ratelimit_init(&rl, 200, 20, 0);
	for (ms = 0; ms < 10000; ms++)
		ok += ratelimit_take(&rl, ms * 1000);
	assert_int_equal(ok, 2019);
}

static void
test_extremes(void **state)
{
	struct ratelimit rl;

	(void)state;
	/* No overflow with the largest values and the largest step. */
	ratelimit_init(&rl, UINT32_MAX, UINT32_MAX, 0);
	assert_true(ratelimit_take(&rl, UINT64_MAX));
	assert_int_equal(rl.micro, (uint64_t)UINT32_MAX * 1000000 - 1000000);
	ratelimit_init(&rl, 1, 1, 0);
	assert_true(ratelimit_take(&rl, 0));
	assert_true(ratelimit_take(&rl, UINT64_MAX));
	assert_false(ratelimit_take(&rl, UINT64_MAX));

	/* rate 0 never refills; burst 0 never accepts. */
	ratelimit_init(&rl, 0, 2, 0);
	assert_int_equal(drain(&rl, 0), 2);
	assert_int_equal(drain(&rl, UINT64_MAX), 0);
	ratelimit_init(&rl, 1000, 0, 0);
	assert_int_equal(drain(&rl, 0), 0);
	assert_int_equal(drain(&rl, 5000000), 0);
}

static void
test_clock_backwards(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 10, 1, 1000000);
	assert_true(ratelimit_take(&rl, 1000000));
	/* A step back refills nothing... */
	assert_false(ratelimit_take(&rl, 0));
	assert_false(ratelimit_take(&rl, 1050000));
	/* ...and time counts again only from the last instant seen. */
	assert_true(ratelimit_take(&rl, 1100000));
	assert_false(ratelimit_take(&rl, 1100000));
}

/* Random schedules, backward steps included: never more accepted than
 * burst + rate * (latest time seen - start), never more held than burst. */
static void
test_fuzz_schedules(void **state)
{
	struct ratelimit rl;
	uint64_t now, latest, start, accepted, bound;
	uint32_t rate, burst;
	int r, i, refused = 0;

	(void)state;
	rng_state = UINT64_C(0x9e3779b97f4a7c15);
	for (r = 0; r < FUZZ_ROUNDS; r++) {
		rate = (uint32_t)(rng() % 100001);
		burst = (uint32_t)(rng() % 64);
		start = rng() % (UINT64_C(1) << 50);
		ratelimit_init(&rl, rate, burst, start);
		now = latest = start;
		accepted = 0;
		for (i = 0; i < 50; i++) {
			switch (rng() % 4) {
			case 0:
				break;		/* same instant */
			case 1:
				now += rng() % 100;
				break;
			case 2:
				now += rng() % 100000;
				break;
			default:		/* backwards */
				now -= rng() % 1000;
				break;
			}
			if (now > latest)
				latest = now;
			if (ratelimit_take(&rl, now))
				accepted++;
			else
				refused++;
			bound = burst;
			bound += (uint64_t)rate * (latest - start) / 1000000;
			assert_true(accepted <= bound);
			assert_true(rl.micro <= (uint64_t)burst * 1000000);
		}
	}
	assert_true(refused > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts_full),
		cmocka_unit_test(test_refill_exact),
		cmocka_unit_test(test_fractions_carry),
		cmocka_unit_test(test_burst_cap),
		cmocka_unit_test(test_steady_rate),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_fuzz_schedules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
