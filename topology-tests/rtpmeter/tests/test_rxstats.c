/*
 * Unit tests for topology-tests/rtpmeter/rxstats.c: sequence extension
 * (wrap-around, stale and foreign numbers), duplicates, reordering, the
 * duplicate window as it slides, gaps and their place relative to the fault
 * mark, the trailing silence and the broken verdict, TTL tracking, and a
 * seeded fuzz run of shuffled, duplicated and dropped packets checked
 * against a reference set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "topology-tests/rtpmeter/rxstats.h"
#include "common/tests/testutil.h"

#define MS		UINT64_C(1000000)
#define T0		(UINT64_C(1700000000) * 1000000000)
#define LONG_GAP	(100 * MS)
#define FUZZ_PKTS	5000

static void
test_index(void **state)
{
	(void)state;
	assert_int_equal(rx_index(100, 100, 0), -1);	/* nothing sent */
	assert_int_equal(rx_index(100, 100, 1), 0);
	assert_int_equal(rx_index(104, 100, 10), 4);
	assert_int_equal(rx_index(109, 100, 10), 9);
	/* Not sent yet: looks like a packet 65536 older, before the first. */
	assert_int_equal(rx_index(110, 100, 10), -1);
	/* Wrap-around of the 16-bit number. */
	assert_int_equal(rx_index(0xffff, 0xfffe, 5), 1);
	assert_int_equal(rx_index(0x0002, 0xfffe, 5), 4);
	/* Beyond one cycle: the newest congruent index. */
	assert_int_equal(rx_index(100, 100, 70000), 65536);
	assert_int_equal(rx_index(99, 100, 70000), 65535);
	assert_int_equal(rx_index((uint16_t)(100 + 69999), 100, 70000),
	    69999);
	/* A packet 65535 behind the newest is still told apart. */
	assert_int_equal(rx_index((uint16_t)(100 + 4465), 100, 70000), 4465);
}

static void
test_in_order(void **state)
{
	struct rx		r;
	struct rx_result	res;
	int			i;

	(void)state;
	rx_init(&r, LONG_GAP);
	for (i = 0; i < 10; i++)
		assert_int_equal(rx_arrival(&r, i, T0 + (uint64_t)i * 20 * MS,
		    64, 0), RX_NEW);
	/* One late packet: a 45 ms gap from packet 9 to 10. */
	assert_int_equal(rx_arrival(&r, 10, T0 + 225 * MS, 64, 0), RX_NEW);
	rx_finish(&r, T0 + 220 * MS, 0, 1000 * MS, &res);
	assert_int_equal(res.received, 11);
	assert_int_equal(res.duplicates, 0);
	assert_int_equal(res.reordered, 0);
	assert_true(res.have_gap);
	assert_int_equal(res.max_gap_ns, 45 * MS);
	assert_int_equal(res.max_gap_start_ns, T0 + 180 * MS);
	assert_false(res.have_pf_gap);	/* no fault mark */
	assert_int_equal(res.first_ns, T0);
	assert_int_equal(res.last_ns, T0 + 225 * MS);
	assert_int_equal(res.trailing_ns, 0);	/* arrived after its send */
	assert_int_equal(res.long_gaps, 0);
	assert_false(res.broken);
	assert_int_equal(res.ttl_first, 64);
	assert_int_equal(res.ttl_last, 64);
	assert_int_equal(res.ttl_changes, 0);
}

static void
test_duplicates_and_reordering(void **state)
{
	struct rx		r;
	struct rx_result	res;

	(void)state;
	rx_init(&r, LONG_GAP);
	assert_int_equal(rx_arrival(&r, 0, T0, -1, 0), RX_NEW);
	assert_int_equal(rx_arrival(&r, 2, T0 + 20 * MS, -1, 0), RX_NEW);
	assert_int_equal(rx_arrival(&r, 1, T0 + 21 * MS, -1, 0),
	    RX_REORDERED);
	assert_int_equal(rx_arrival(&r, 1, T0 + 22 * MS, -1, 0),
	    RX_DUPLICATE);
	assert_int_equal(rx_arrival(&r, 2, T0 + 23 * MS, -1, 0),
	    RX_DUPLICATE);
	assert_int_equal(rx_arrival(&r, 0, T0 + 24 * MS, -1, 0),
	    RX_DUPLICATE);
	/* A duplicate does not end a gap: 2 arrived at 21, 3 at 90. */
	assert_int_equal(rx_arrival(&r, 3, T0 + 90 * MS, -1, 0), RX_NEW);
	rx_finish(&r, T0 + 60 * MS, 0, 1000 * MS, &res);
	assert_int_equal(res.received, 4);
	assert_int_equal(res.duplicates, 3);
	assert_int_equal(res.reordered, 1);
	assert_int_equal(res.max_gap_ns, 69 * MS);
	assert_int_equal(res.max_gap_start_ns, T0 + 21 * MS);
	/* No TTL seen at all. */
	assert_int_equal(res.ttl_first, -1);
	assert_int_equal(res.ttl_before, -1);
	assert_int_equal(res.ttl_last, -1);
}

static void
test_window(void **state)
{
	struct rx	r;
	int64_t		i;

	(void)state;
	rx_init(&r, LONG_GAP);
	for (i = 0; i <= 10; i++)
		assert_int_equal(rx_arrival(&r, i, T0, -1, 0), RX_NEW);
	/* Advance by less than the window: indices 11..1029 enter it and
	 * must read as never received, although 1024 shares index 0's bit
	 * and 1034 would share 10's. */
	assert_int_equal(rx_arrival(&r, 1030, T0, -1, 0), RX_NEW);
	assert_int_equal(rx_arrival(&r, 1024, T0, -1, 0), RX_REORDERED);
	assert_int_equal(rx_arrival(&r, 1024, T0, -1, 0), RX_DUPLICATE);
	assert_int_equal(rx_arrival(&r, 11, T0, -1, 0), RX_REORDERED);
	/* 6 is 1024 behind 1030: outside the window. */
	assert_int_equal(rx_arrival(&r, 6, T0, -1, 0), RX_TOO_OLD);
	assert_int_equal(rx_arrival(&r, 7, T0, -1, 0), RX_DUPLICATE);
	/* A jump beyond the window clears it entirely. */
	assert_int_equal(rx_arrival(&r, 5000, T0, -1, 0), RX_NEW);
	assert_int_equal(rx_arrival(&r, 5000 - RX_WINDOW + 1, T0, -1, 0),
	    RX_REORDERED);
	assert_int_equal(rx_arrival(&r, 5000 - RX_WINDOW, T0, -1, 0),
	    RX_TOO_OLD);
	assert_int_equal(r.received, 16);
	assert_int_equal(r.duplicates, 2);
	assert_int_equal(r.too_old, 2);
	assert_int_equal(r.reordered, 3);
	assert_string_equal(rx_verdict_name(RX_TOO_OLD), "too_old");
	assert_string_equal(rx_verdict_name(RX_VERDICT_MAX), "unknown");
}

/* 20 ms stream; the relay stalls 300 ms around the fault at 1000 ms. */
static void
test_fault_gap_closed(void **state)
{
	struct rx		r;
	struct rx_result	res;
	uint64_t		fault = T0 + 1000 * MS, t;
	int64_t			i;

	(void)state;
	rx_init(&r, LONG_GAP);
	/* A 50 ms hiccup before the fault is the overall max for now. */
	for (i = 0; i < 50; i++) {
		t = T0 + (uint64_t)i * 20 * MS + (i >= 20 ? 30 * MS : 0);
		rx_arrival(&r, i, t, 64, fault);
	}
	/* Packet 49 arrived at 1010, after the mark; then silence until
	 * 1320, and a burst of what the relay had queued. */
	for (i = 50; i < 65; i++)
		rx_arrival(&r, i, T0 + 1320 * MS + (uint64_t)(i - 50) * 1000,
		    63, fault);
	for (i = 65; i < 100; i++)
		rx_arrival(&r, i, T0 + (uint64_t)i * 20 * MS + 30 * MS, 63,
		    fault);
	rx_finish(&r, T0 + 99 * 20 * MS, fault, 1000 * MS, &res);
	assert_int_equal(res.received, 100);
	assert_int_equal(res.max_gap_ns, 310 * MS);
	assert_int_equal(res.max_gap_start_ns, T0 + 1010 * MS);
	assert_true(res.have_pf_gap);
	assert_int_equal(res.pf_gap_ns, 310 * MS);
	assert_int_equal(res.pf_gap_start_ns, T0 + 1010 * MS);
	assert_false(res.pf_gap_open);
	assert_false(res.broken);
	assert_int_equal(res.long_gaps, 1);
	/* The TTL of the last packet before the mark, and at the end. */
	assert_int_equal(res.ttl_before, 64);
	assert_int_equal(res.ttl_last, 63);
	assert_int_equal(res.ttl_changes, 1);
}

/* A gap that spans the mark counts after the fault; one before does not. */
static void
test_fault_gap_spanning(void **state)
{
	struct rx		r;
	struct rx_result	res;
	uint64_t		fault = T0 + 500 * MS;

	(void)state;
	rx_init(&r, LONG_GAP);
	rx_arrival(&r, 0, T0, 64, fault);
	rx_arrival(&r, 1, T0 + 400 * MS, 64, fault);	/* 400 before */
	rx_arrival(&r, 2, T0 + 450 * MS, 64, fault);
	rx_arrival(&r, 3, T0 + 700 * MS, 64, fault);	/* 250 spanning */
	rx_arrival(&r, 4, T0 + 720 * MS, 64, fault);
	rx_finish(&r, T0 + 720 * MS, fault, 1000 * MS, &res);
	assert_int_equal(res.max_gap_ns, 400 * MS);
	assert_int_equal(res.max_gap_start_ns, T0);
	assert_int_equal(res.pf_gap_ns, 250 * MS);
	assert_int_equal(res.pf_gap_start_ns, T0 + 450 * MS);
	assert_int_equal(res.long_gaps, 2);
	assert_false(res.broken);
}

/* The relay dies at the fault: the silence to the last send is the gap. */
static void
test_fault_broken(void **state)
{
	struct rx		r;
	struct rx_result	res;
	uint64_t		fault = T0 + 1000 * MS;
	int64_t			i;

	(void)state;
	rx_init(&r, LONG_GAP);
	for (i = 0; i < 50; i++)
		rx_arrival(&r, i, T0 + (uint64_t)i * 20 * MS, 64, fault);
	/* Sent until 3000 ms; the last arrival was at 980. */
	rx_finish(&r, T0 + 3000 * MS, fault, 1000 * MS, &res);
	assert_true(res.broken);
	assert_int_equal(res.trailing_ns, 2020 * MS);
	assert_true(res.have_pf_gap);
	assert_true(res.pf_gap_open);
	assert_int_equal(res.pf_gap_ns, 2020 * MS);
	assert_int_equal(res.pf_gap_start_ns, T0 + 980 * MS);
	assert_int_equal(res.max_gap_ns, 2020 * MS);
	assert_int_equal(res.long_gaps, 1);
	assert_int_equal(res.ttl_before, 64);
	assert_int_equal(res.ttl_last, 64);

	/* The same silence just under the threshold is not broken... */
	rx_finish(&r, T0 + 1979 * MS, fault, 1000 * MS, &res);
	assert_false(res.broken);
	assert_true(res.pf_gap_open);
	/* ...and at it, it is. */
	rx_finish(&r, T0 + 1980 * MS, fault, 1000 * MS, &res);
	assert_true(res.broken);

	/* rx_finish leaves the state alone: finishing twice agrees. */
	assert_int_equal(r.long_gaps, 0);
	assert_int_equal(r.max_gap_ns, 20 * MS);
}

static void
test_nothing_received(void **state)
{
	struct rx		r;
	struct rx_result	res;

	(void)state;
	rx_init(&r, LONG_GAP);
	rx_finish(&r, T0 + 3000 * MS, T0 + 1000 * MS, 1000 * MS, &res);
	assert_true(res.broken);
	assert_false(res.have_gap);
	assert_false(res.have_pf_gap);
	assert_int_equal(res.first_ns, 0);
	assert_int_equal(res.last_ns, 0);
	assert_int_equal(res.trailing_ns, 0);
	/* Nothing sent either. */
	rx_finish(&r, 0, 0, 1000 * MS, &res);
	assert_true(res.broken);
}

/* A wall clock stepped back never yields a negative or huge gap. */
static void
test_clock_backwards(void **state)
{
	struct rx		r;
	struct rx_result	res;

	(void)state;
	rx_init(&r, LONG_GAP);
	rx_arrival(&r, 0, T0 + 100 * MS, -1, 0);
	rx_arrival(&r, 1, T0 + 50 * MS, -1, 0);
	rx_arrival(&r, 2, T0 + 120 * MS, -1, 0);
	rx_finish(&r, T0 + 120 * MS, 0, 1000 * MS, &res);
	assert_int_equal(res.max_gap_ns, 20 * MS);
	assert_int_equal(res.last_ns, T0 + 120 * MS);
}

/*
 * Random loss, duplication and reordering within a distance smaller than
 * the window: every count must match a reference computed on the side.
 */
static void
test_fuzz(void **state)
{
	static int64_t	 order[2 * FUZZ_PKTS];
	static bool	 seen[FUZZ_PKTS];
	struct rx	 r;
	uint64_t	 dups = 0, uniq = 0, reord = 0;
	int64_t		 highest = -1, idx, tmp;
	size_t		 n = 0, i, j;
	int		 round;
	enum rx_verdict	 v;

	(void)state;
	rng_state = UINT64_C(0x243f6a8885a308d3);
	for (round = 0; round < 20; round++) {
		rx_init(&r, LONG_GAP);
		memset(seen, 0, sizeof(seen));
		dups = uniq = reord = 0;
		highest = -1;
		n = 0;
		for (idx = 0; idx < FUZZ_PKTS; idx++) {
			if (rng() % 10 == 0)
				continue;		/* lost */
			order[n++] = idx;
			if (rng() % 20 == 0)
				order[n++] = idx;	/* duplicated */
		}
		/* Local shuffles: swap with a neighbour up to 50 away. */
		for (i = 0; i < n; i++) {
			if (rng() % 4 != 0)
				continue;
			j = i + rng() % 50;
			if (j >= n)
				continue;
			tmp = order[i];
			order[i] = order[j];
			order[j] = tmp;
		}
		for (i = 0; i < n; i++) {
			idx = order[i];
			v = rx_arrival(&r, idx, T0 + i * MS, 64, 0);
			if (seen[idx]) {
				assert_int_equal(v, RX_DUPLICATE);
				dups++;
				continue;
			}
			seen[idx] = true;
			uniq++;
			if (idx < highest) {
				assert_int_equal(v, RX_REORDERED);
				reord++;
			} else {
				assert_int_equal(v, RX_NEW);
				highest = idx;
			}
		}
		assert_int_equal(r.received, uniq);
		assert_int_equal(r.duplicates, dups);
		assert_int_equal(r.reordered, reord);
		assert_int_equal(r.too_old, 0);
		assert_int_equal(r.highest, highest);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_duplicates_and_reordering),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_fault_gap_closed),
		cmocka_unit_test(test_fault_gap_spanning),
		cmocka_unit_test(test_fault_broken),
		cmocka_unit_test(test_nothing_received),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
