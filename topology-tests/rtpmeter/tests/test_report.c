/*
 * Unit tests for topology-tests/rtpmeter/report.c: totals (broken streams
 * and sessions, moved streams, nearest-rank quantiles), lost packets, the
 * JSON document (nulls for what did not happen, millisecond formatting
 * with signs and rounding, string escaping, one stream per line) and the
 * summary, all written into memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "topology-tests/rtpmeter/report.h"

#define MS	UINT64_C(1000000)
#define T0	(UINT64_C(1700000000) * 1000000000)

static struct report_dir	dirs[4];
static struct report_run	run;

/* Two calls: call 0 broken both ways, call 1 fine, one direction of it
 * moved to another relay. */
static void
setup_dirs(void)
{
	int	i;

	memset(dirs, 0, sizeof(dirs));
	memset(&run, 0, sizeof(run));
	run.version = "test";
	snprintf(run.ng, sizeof(run.ng), "127.0.0.1:42223");
	run.calls = run.calls_created = 2;
	run.ptime_ms = 20;
	run.size = 172;
	run.duration_us = 2000000;
	run.broken_after_us = 1000000;
	run.long_gap_us = 100000;
	run.drain_us = 300000;
	run.ready = true;
	run.start_ns = T0;
	run.ready_ns = T0 + 19 * MS;
	run.stop_ns = T0 + 3000 * MS;
	run.end_ns = T0 + 3300 * MS;
	for (i = 0; i < 4; i++) {
		struct report_dir *d = &dirs[i];

		d->call = i / 2;
		d->b_to_a = i % 2 == 1;
		snprintf(d->call_id, sizeof(d->call_id), "c-%d", i / 2);
		snprintf(d->src, sizeof(d->src), "127.0.0.1:%d", 42000 + i);
		snprintf(d->relay_in, sizeof(d->relay_in), "127.0.0.1:%d",
		    42300 + i);
		snprintf(d->relay_out, sizeof(d->relay_out), "127.0.0.1:%d",
		    42300 + (i ^ 1));
		snprintf(d->dst, sizeof(d->dst), "127.0.0.1:%d",
		    42000 + (i ^ 1));
		d->ssrc = 1000 + (uint32_t)i;
		d->sent = 150;
		d->rx.received = i < 2 ? 50 : 150;
		d->rx.have_gap = true;
		d->rx.max_gap_ns = (uint64_t)(i + 1) * 10 * MS;
		d->rx.max_gap_start_ns = T0 + 980 * MS;
		d->rx.broken = i < 2;
		d->rx.ttl_first = d->rx.ttl_before = d->rx.ttl_last = 64;
		d->rx.first_ns = T0 + MS;
		d->rx.last_ns = T0 + 2990 * MS;
	}
	dirs[3].rx.ttl_last = 63;
}

static void
test_lost(void **state)
{
	struct report_dir	d;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.sent = 100;
	d.rx.received = 90;
	assert_int_equal(report_lost(&d), 10);
	d.rx.received = 101;	/* cannot happen; never wraps */
	assert_int_equal(report_lost(&d), 0);
	/* After the fault mark: only what was sent after it counts. */
	assert_int_equal(report_lost_after_fault(&d), 0);	/* no mark */
	d.have_mark = true;
	d.sent_after_fault = 40;
	d.received_after_fault = 37;
	assert_int_equal(report_lost_after_fault(&d), 3);
	d.received_after_fault = 41;	/* cannot happen; never wraps */
	assert_int_equal(report_lost_after_fault(&d), 0);
}

static void
test_totals(void **state)
{
	struct report_totals	t;
	int			i;

	(void)state;
	setup_dirs();
	assert_int_equal(report_totals(dirs, 4, &t), 0);
	assert_int_equal(t.streams, 4);
	assert_int_equal(t.sent, 600);
	assert_int_equal(t.received, 400);
	assert_int_equal(t.lost, 200);
	assert_int_equal(t.streams_broken, 2);
	assert_int_equal(t.sessions_broken, 1);
	assert_int_equal(t.streams_moved, 1);
	assert_int_equal(t.streams_unserved, 0);
	assert_true(t.have_gap);
	assert_int_equal(t.max_gap_ns, 40 * MS);
	assert_int_equal(t.n_pf, 0);	/* no fault */

	/* Post-fault gaps 40, 10, 30, 20: median (nearest rank) 20, p95 40. */
	for (i = 0; i < 4; i++)
		dirs[i].rx.have_pf_gap = true;
	dirs[0].rx.pf_gap_ns = 40 * MS;
	dirs[1].rx.pf_gap_ns = 10 * MS;
	dirs[2].rx.pf_gap_ns = 30 * MS;
	dirs[3].rx.pf_gap_ns = 20 * MS;
	assert_int_equal(report_totals(dirs, 4, &t), 0);
	assert_int_equal(t.n_pf, 4);
	assert_int_equal(t.pf_max_ns, 40 * MS);
	assert_int_equal(t.pf_median_ns, 20 * MS);
	assert_int_equal(t.pf_p95_ns, 40 * MS);
	/* One value is every quantile; three: median is the middle. */
	assert_int_equal(report_totals(dirs + 3, 1, &t), 0);
	assert_int_equal(t.pf_median_ns, 20 * MS);
	assert_int_equal(t.pf_p95_ns, 20 * MS);
	assert_int_equal(report_totals(dirs + 1, 3, &t), 0);
	assert_int_equal(t.pf_median_ns, 20 * MS);
	assert_int_equal(t.pf_max_ns, 30 * MS);
	assert_int_equal(t.sessions_broken, 1);
	/* Unserved directions are counted apart (and stay broken). */
	dirs[1].unserved = true;
	assert_int_equal(report_totals(dirs, 4, &t), 0);
	assert_int_equal(t.streams_unserved, 1);
	assert_int_equal(t.streams_broken, 2);
	dirs[1].unserved = false;
	/* Unknown TTLs never count as a move. */
	dirs[3].rx.ttl_before = -1;
	assert_int_equal(report_totals(dirs, 4, &t), 0);
	assert_int_equal(t.streams_moved, 0);
	/* Nothing at all. */
	assert_int_equal(report_totals(dirs, 0, &t), 0);
	assert_int_equal(t.streams, 0);
	assert_false(t.have_gap);
}

static char *
json(size_t n)
{
	struct report_totals	 t;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*f;

	assert_int_equal(report_totals(dirs, n, &t), 0);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	report_json(f, &run, &t, dirs, n);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
expect_in(const char *doc, const char *s)
{
	if (strstr(doc, s) == NULL)
		fail_msg("'%s' not in:\n%s", s, doc);
}

static void
test_json_no_fault(void **state)
{
	char	*doc;

	(void)state;
	setup_dirs();
	doc = json(4);
	assert_true(strncmp(doc, "{\n \"schema\":\"rtpmeter/1\",\n "
	    "\"version\":\"test\",\n \"run\":{\n  \"ng\":\"127.0.0.1:42223\",",
	    60) == 0);
	expect_in(doc, "\n  \"fault_ns\":null,");
	expect_in(doc, "\n  \"after_fault_ms\":null,");
	expect_in(doc, "\n  \"settle_ms\":null,");
	expect_in(doc, "\n  \"streams_unserved\":0,");
	expect_in(doc, "\"broken\":true,\"unserved\":false,");
	expect_in(doc, "\n  \"duration_ms\":2000.000,");
	expect_in(doc, "\n  \"stop_after_fault_ms\":null,");
	expect_in(doc, "\n  \"warnings\":[]");
	expect_in(doc, "\n  \"post_fault_gap_max_ms\":null,");
	expect_in(doc, "\n  \"sessions_broken\":1,");
	/* One stream direction per line, all its fields on it. */
	expect_in(doc, "\n  {\"id\":0,\"call\":0,\"call_id\":\"c-0\","
	    "\"direction\":\"a->b\",\"src\":\"127.0.0.1:42000\","
	    "\"relay_in\":\"127.0.0.1:42300\",\"relay_out\":\"127.0.0.1:42301\","
	    "\"dst\":\"127.0.0.1:42001\",\"ssrc\":1000,\"sent\":150,");
	expect_in(doc, "{\"id\":3,\"call\":1,\"call_id\":\"c-1\","
	    "\"direction\":\"b->a\"");
	expect_in(doc, "\"max_gap_ms\":10.000,\"max_gap_start_ms\":null,"
	    "\"max_gap_start_ns\":1700000000980000000,"
	    "\"post_fault_gap_ms\":null,\"post_fault_gap_start_ms\":null,"
	    "\"post_fault_gap_open\":false,");
	expect_in(doc, "\"ttl_first\":64,\"ttl_before_fault\":null,"
	    "\"ttl_last\":63,\"ttl_changes\":0}");
	assert_int_equal(doc[strlen(doc) - 1], '\n');
	assert_int_equal(doc[strlen(doc) - 2], '}');
	free(doc);
}

static void
test_json_fault(void **state)
{
	char	*doc;

	(void)state;
	setup_dirs();
	run.fault_ns = T0 + 980408000;		/* 980.408 ms */
	run.fault_mono_ns = 12345;
	run.fault_marks = 1;
	dirs[0].rx.have_pf_gap = true;
	dirs[0].rx.pf_gap_ns = 1999951234;		/* rounds down */
	dirs[0].rx.pf_gap_start_ns = T0 + 980 * MS;	/* before the mark */
	dirs[0].rx.pf_gap_open = true;
	dirs[0].rx.trailing_ns = 1999951500;		/* rounds up */
	dirs[1].rx.max_gap_start_ns = T0 + 980408000 - 400;	/* -0.0004 */
	dirs[2].rx.have_pf_gap = true;
	dirs[2].rx.pf_gap_ns = 500;
	dirs[2].rx.pf_gap_start_ns = T0 + 1300 * MS;
	dirs[3].rx.have_gap = false;
	dirs[3].unserved = true;
	run.settle_us = 400000;
	report_warn(&run, "a \"quoted\"\tword\\");
	doc = json(4);
	expect_in(doc, "\n  \"fault_ns\":1700000000980408000,");
	expect_in(doc, "\n  \"fault_mono_ns\":12345,");
	expect_in(doc, "\n  \"stop_after_fault_ms\":2019.592,");
	expect_in(doc, "\n  \"warnings\":[\"a \\\"quoted\\\"\\u0009word\\\\\"]");
	expect_in(doc, "\"max_gap_ms\":10.000,\"max_gap_start_ms\":-0.408,");
	expect_in(doc, "\"post_fault_gap_ms\":1999.951,"
	    "\"post_fault_gap_start_ms\":-0.408,\"post_fault_gap_open\":true,"
	    "\"trailing_silence_ms\":1999.952,");
	/* Less than half a microsecond before the mark is no sign. */
	expect_in(doc, "\"max_gap_start_ms\":0.000,");
	expect_in(doc, "\"post_fault_gap_ms\":0.001,"
	    "\"post_fault_gap_start_ms\":319.592,");
	expect_in(doc, "\"id\":3,");
	expect_in(doc, "\"max_gap_ms\":null,\"max_gap_start_ms\":null,"
	    "\"max_gap_start_ns\":null,");
	expect_in(doc, "\"ttl_before_fault\":64,");
	expect_in(doc, "\n  \"settle_ms\":400.000,");
	expect_in(doc, "\n  \"streams_unserved\":1,");
	expect_in(doc, "\"broken\":false,\"unserved\":true,");
	expect_in(doc, "\n  \"post_fault_streams\":2,");
	expect_in(doc, "\n  \"post_fault_gap_max_ms\":1999.951,");
	expect_in(doc, "\n  \"post_fault_gap_median_ms\":0.001,");
	free(doc);
}

static void
test_call_id_escaped(void **state)
{
	char	*doc;

	(void)state;
	setup_dirs();
	snprintf(dirs[0].call_id, sizeof(dirs[0].call_id), "x\"y\n");
	doc = json(1);
	expect_in(doc, "\"call_id\":\"x\\\"y\\u000a\"");
	free(doc);
}

static void
test_warnings_bounded(void **state)
{
	int	i;

	(void)state;
	setup_dirs();
	for (i = 0; i < REPORT_MAX_WARNINGS + 3; i++)
		report_warn(&run, "warning %d", i);
	assert_int_equal(run.nwarnings, REPORT_MAX_WARNINGS);
	assert_string_equal(run.warnings[REPORT_MAX_WARNINGS - 1],
	    "warning 7");
}

static void
test_summary(void **state)
{
	struct report_totals	 t;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*f;

	(void)state;
	setup_dirs();
	run.fault_ns = T0 + 1000 * MS;
	dirs[0].rx.have_pf_gap = true;
	dirs[0].rx.pf_gap_ns = 2000 * MS;
	report_warn(&run, "something odd");
	assert_int_equal(report_totals(dirs, 4, &t), 0);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	report_summary(f, &run, &t);
	fclose(f);
	expect_in(buf, "rtpmeter: 2 calls, 4 streams, ptime 20 ms, 172 bytes\n");
	expect_in(buf, "sent 600, received 400, lost 200, duplicates 0, "
	    "reordered 0\n");
	expect_in(buf, "after the fault (1 streams): max 2000.000 ms");
	expect_in(buf, "broken: 2 of 4 streams, 1 of 2 sessions; moved (TTL "
	    "changed): 1\n");
	expect_in(buf, "  warning: something odd\n");
	assert_null(strstr(buf, "unserved"));
	free(buf);
	/* With --settle the summary says how many never flowed. */
	run.settle_us = 400000;
	dirs[2].unserved = true;
	assert_int_equal(report_totals(dirs, 4, &t), 0);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	report_summary(f, &run, &t);
	fclose(f);
	expect_in(buf, "  unserved (silent when ready came, --settle): 1 of 4 "
	    "streams\n");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost),
		cmocka_unit_test(test_totals),
		cmocka_unit_test(test_json_no_fault),
		cmocka_unit_test(test_json_fault),
		cmocka_unit_test(test_call_id_escaped),
		cmocka_unit_test(test_warnings_bounded),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
