/*
 * Unit tests for the pure parts of relay/metrics.c: the growable buffer and
 * its failure mode, the Prometheus text format (HELP/TYPE lines, values of
 * every float class, label escaping that never splits an escape when cut
 * short), request-head detection and the status of hostile request lines,
 * the exact bytes of each reply, and seeded fuzz loops (random bytes and
 * mutations of a valid request) into the request parser and the escaper.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "common/metrics.h"
#include "common/tests/testutil.h"

#define FUZZ_ROUNDS	10000


static void
test_mbuf(void **state)
{
	struct mbuf mb;
	size_t i;

	(void)state;
	mbuf_init(&mb);
	assert_string_equal(mbuf_str(&mb), "");
	assert_int_equal(mb.len, 0);
	assert_int_equal(mbuf_append(&mb, "", 0), 0);
	assert_string_equal(mbuf_str(&mb), "");
	assert_int_equal(mbuf_append(&mb, "ab", 2), 0);
	assert_int_equal(mbuf_printf(&mb, "%d-%s", 42, "x"), 0);
	assert_string_equal(mbuf_str(&mb), "ab42-x");
	assert_int_equal(mb.len, 6);

	/* Growth across many reallocations keeps every byte. */
	mbuf_reset(&mb);
	assert_string_equal(mbuf_str(&mb), "");
	for (i = 0; i < 100000; i++)
		assert_int_equal(mbuf_printf(&mb, "%c", 'a' + (int)(i % 26)),
		    0);
	assert_int_equal(mb.len, 100000);
	assert_int_equal(strlen(mb.buf), 100000);
	for (i = 0; i < 100000; i++)
		assert_int_equal(mb.buf[i], 'a' + (int)(i % 26));
	assert_false(mb.failed);
	mbuf_free(&mb);
	assert_null(mb.buf);
	assert_int_equal(mb.len, 0);
}

static void
test_mbuf_limit(void **state)
{
	struct mbuf mb;
	char *big;

	(void)state;
	big = malloc(MBUF_MAX);
	assert_non_null(big);
	memset(big, 'x', MBUF_MAX);
	mbuf_init(&mb);
	/* MBUF_MAX includes the NUL: one byte less fits, MBUF_MAX not. */
	assert_int_equal(mbuf_append(&mb, big, MBUF_MAX), -1);
	assert_true(mb.failed);
	assert_int_equal(mb.len, 0);
	/* Once failed, everything is dropped until a reset. */
	assert_int_equal(mbuf_append(&mb, "a", 1), -1);
	assert_int_equal(mbuf_printf(&mb, "b"), -1);
	assert_int_equal(mb.len, 0);
	mbuf_reset(&mb);
	assert_false(mb.failed);
	assert_int_equal(mbuf_append(&mb, big, MBUF_MAX - 1), 0);
	assert_int_equal(mb.len, MBUF_MAX - 1);
	assert_int_equal(mbuf_append(&mb, "a", 1), -1);
	assert_true(mb.failed);
	assert_int_equal(mb.len, MBUF_MAX - 1);
	/* A huge length must not wrap the size check. */
	mbuf_reset(&mb);
	assert_int_equal(mbuf_append(&mb, "a", SIZE_MAX), -1);
	assert_true(mb.failed);
	mbuf_free(&mb);
	free(big);
}

static void
test_family(void **state)
{
	struct mbuf mb;

	(void)state;
	mbuf_init(&mb);
	metrics_family(&mb, "rtprelay_calls", "gauge", "Calls in progress.");
	metrics_family(&mb, "rtprelay_drops_total", "counter",
	    "Dropped\\packets\nby reason");
	metrics_family(&mb, "x", NULL, NULL);
	assert_string_equal(mbuf_str(&mb),
	    "# HELP rtprelay_calls Calls in progress.\n"
	    "# TYPE rtprelay_calls gauge\n"
	    "# HELP rtprelay_drops_total Dropped\\\\packets\\nby reason\n"
	    "# TYPE rtprelay_drops_total counter\n"
	    "# HELP x \n"
	    "# TYPE x untyped\n");
	mbuf_free(&mb);
}

static void
test_names(void **state)
{
	static const char *const good[] = { "a", "_", ":", "a_b:c9",
	    "rtprelay_packets_total", "A", NULL };
	static const char *const bad[] = { "", "9a", "a-b", "a b", "a{",
	    "a\n", "é", "a.b", NULL };
	struct mbuf mb;
	int i;

	(void)state;
	for (i = 0; good[i] != NULL; i++)
		assert_true(metrics_name_valid(good[i]));
	for (i = 0; bad[i] != NULL; i++)
		assert_false(metrics_name_valid(bad[i]));
	assert_false(metrics_name_valid(NULL));

	/* A bad line is replaced by a comment; the rest stays valid. */
	mbuf_init(&mb);
	metrics_family(&mb, "bad name", "gauge", "h");
	metrics_value(&mb, "9x", NULL, 1);
	metrics_value_u64(&mb, "ok", "a=\"1\"\nb=\"2\"", 1);
	metrics_value_u64(&mb, "ok", NULL, 7);
	assert_string_equal(mbuf_str(&mb),
	    "# skipped a metric with an invalid name or labels\n"
	    "# skipped a metric with an invalid name or labels\n"
	    "# skipped a metric with an invalid name or labels\n"
	    "ok 7\n");
	mbuf_free(&mb);
}

static void
test_values(void **state)
{
	struct mbuf mb;

	(void)state;
	mbuf_init(&mb);
	metrics_value(&mb, "a", NULL, 0);
	metrics_value(&mb, "a", "", 1);
	metrics_value(&mb, "a", NULL, 0.1);
	metrics_value(&mb, "a", NULL, -2.5);
	metrics_value(&mb, "a", NULL, 1e21);
	metrics_value(&mb, "a", NULL, 1e-300);
	metrics_value(&mb, "a", NULL, 1.0 / 3.0);
	metrics_value(&mb, "a", NULL, 9007199254740993.0);
	metrics_value(&mb, "a", NULL, NAN);
	metrics_value(&mb, "a", NULL, INFINITY);
	metrics_value(&mb, "a", NULL, -INFINITY);
	metrics_value(&mb, "b", "reason=\"spoof\",leg=\"a\"", 12.25);
	metrics_value_u64(&mb, "c", "reason=\"spoof\"", 0);
	metrics_value_u64(&mb, "c", NULL, UINT64_MAX);
	assert_string_equal(mbuf_str(&mb),
	    "a 0\n"
	    "a 1\n"
	    "a 0.1\n"
	    "a -2.5\n"
	    "a 1e+21\n"
	    "a 1e-300\n"
	    "a 0.3333333333333333\n"
	    "a 9007199254740992\n"
	    "a NaN\n"
	    "a +Inf\n"
	    "a -Inf\n"
	    "b{reason=\"spoof\",leg=\"a\"} 12.25\n"
	    "c{reason=\"spoof\"} 0\n"
	    "c 18446744073709551615\n");
	mbuf_free(&mb);
}

static void
test_label_escape(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(metrics_label_escape(out, sizeof(out), ""), 0);
	assert_string_equal(out, "");
	assert_int_equal(metrics_label_escape(out, sizeof(out), "spoof"), 0);
	assert_string_equal(out, "spoof");
	assert_int_equal(metrics_label_escape(out, sizeof(out),
	    "a\\b\"c\nd"), 0);
	assert_string_equal(out, "a\\\\b\\\"c\\nd");
	/* Tabs and other bytes pass through; only the three are escaped. */
	assert_int_equal(metrics_label_escape(out, sizeof(out), "\t\r{}="), 0);
	assert_string_equal(out, "\t\r{}=");

	/* Exactly fitting, one short, and never half an escape. */
	assert_int_equal(metrics_label_escape(out, 6, "abcde"), 0);
	assert_string_equal(out, "abcde");
	assert_int_equal(metrics_label_escape(out, 5, "abcde"), -1);
	assert_string_equal(out, "abcd");
	assert_int_equal(metrics_label_escape(out, 5, "abc\""), -1);
	assert_string_equal(out, "abc");
	assert_int_equal(metrics_label_escape(out, 6, "abc\""), 0);
	assert_string_equal(out, "abc\\\"");
	assert_int_equal(metrics_label_escape(out, 2, "\\"), -1);
	assert_string_equal(out, "");
	assert_int_equal(metrics_label_escape(out, 1, "a"), -1);
	assert_string_equal(out, "");
	assert_int_equal(metrics_label_escape(out, 1, ""), 0);
	assert_string_equal(out, "");
	assert_int_equal(metrics_label_escape(out, 0, ""), -1);
}

static size_t
head(const char *s)
{
	return metrics_http_head_len(s, strlen(s));
}

static void
test_head_len(void **state)
{
	(void)state;
	assert_int_equal(metrics_http_head_len("", 0), 0);
	assert_int_equal(head("GET /metrics HTTP/1.0"), 0);
	assert_int_equal(head("GET /metrics HTTP/1.0\r\n"), 0);
	assert_int_equal(head("GET /metrics HTTP/1.0\r\n\r"), 0);
	assert_int_equal(head("GET /metrics HTTP/1.0\r\n\r\n"), 25);
	assert_int_equal(head("GET /metrics HTTP/1.0\n\n"), 23);
	assert_int_equal(head("GET /metrics HTTP/1.0\r\n\n"), 24);
	assert_int_equal(head("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nbody"),
	    34);
	assert_int_equal(head("GET /metrics HTTP/1.1\r\nHost: a\r\n"), 0);
	/* An empty first line ends the head at once (and is a 400). */
	assert_int_equal(head("\r\n"), 0);
	assert_int_equal(head("\r\n\r\n"), 4);
	assert_int_equal(head("\n\n"), 2);
	/* "\r" alone in the middle of a line does not end anything. */
	assert_int_equal(head("GET / HTTP/1.0\r\r\n\r\r\n"), 0);
}

static int
status(const char *s)
{
	char *copy;
	size_t len = strlen(s);
	int st;

	/* Exact-size heap copy: ASan catches a read past the end. */
	copy = malloc(len > 0 ? len : 1);
	assert_non_null(copy);
	memcpy(copy, s, len);
	st = metrics_http_status(copy, len);
	free(copy);
	return st;
}

static void
test_status(void **state)
{
	static const struct {
		const char	*req;
		int		 want;
	} cases[] = {
		{ "GET /metrics HTTP/1.0\r\n\r\n", 200 },
		{ "GET /metrics HTTP/1.1\r\n\r\n", 200 },
		{ "GET /metrics HTTP/1.0\n\n", 200 },
		{ "GET /metrics?x=1 HTTP/1.1\r\n\r\n", 200 },
		{ "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9224\r\n"
		    "User-Agent: Prometheus/2.45.0\r\nAccept: text/plain;"
		    "version=0.0.4;q=1,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n"
		    "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n", 200 },
		{ "GET /metrics HTTP/1.0\r\nX-Empty:\r\n\r\n", 200 },
		{ "GET /metrics HTTP/1.0\r\nX: a\tb\r\n\r\n", 200 },
		/* Half-closed before the empty line: judged on what came. */
		{ "GET /metrics HTTP/1.0\r\n", 200 },
		{ "GET /metrics HTTP/1.0\r\nHost: a\r\nUser-Ag", 200 },
		{ "GET / HTTP/1.0\r\n\r\n", 404 },
		{ "GET /metrics/ HTTP/1.0\r\n\r\n", 404 },
		{ "GET /metricsx HTTP/1.0\r\n\r\n", 404 },
		{ "GET /METRICS HTTP/1.0\r\n\r\n", 404 },
		{ "GET /metric HTTP/1.0\r\n\r\n", 404 },
		{ "GET * HTTP/1.1\r\n\r\n", 404 },
		{ "GET http://a/metrics HTTP/1.1\r\n\r\n", 404 },
		{ "GET /%00 HTTP/1.0\r\n\r\n", 404 },
		{ "POST /metrics HTTP/1.0\r\n\r\n", 405 },
		{ "HEAD /metrics HTTP/1.0\r\n\r\n", 405 },
		{ "get /metrics HTTP/1.0\r\n\r\n", 405 },
		{ "GETX /metrics HTTP/1.0\r\n\r\n", 405 },
		{ "DELETE /nothing HTTP/1.1\r\n\r\n", 405 },
		{ "", 400 },
		{ "\r\n", 400 },
		{ "\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.0", 400 },	/* no line end */
		{ "GET /metrics\r\n\r\n", 400 },	/* HTTP/0.9 */
		{ "GET /metrics HTTP/2.0\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.10\r\n\r\n", 400 },
		{ "GET /metrics http/1.0\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.0 \r\n\r\n", 400 },
		{ "GET  /metrics HTTP/1.0\r\n\r\n", 400 },
		{ " GET /metrics HTTP/1.0\r\n\r\n", 400 },
		{ "GET\t/metrics HTTP/1.0\r\n\r\n", 400 },
		{ "GET /metrics  HTTP/1.0\r\n\r\n", 400 },
		{ "GET metrics HTTP/1.0\r\n\r\n", 400 },
		{ "GET /met rics HTTP/1.0\r\n\r\n", 400 },
		{ "GET /metrics\x7f HTTP/1.0\r\n\r\n", 400 },
		{ "GET /m\xc3\xa9trics HTTP/1.0\r\n\r\n", 400 },
		{ "G(T /metrics HTTP/1.0\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.0\r\nno colon\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.0\r\n: novalue\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.0\r\nBad Name: x\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.0\r\nX: a\x01z\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.0\r\n folded: x\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.0\r\nX: a\rb\r\n\r\n", 400 },
		{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400 },
		{ "SSH-2.0-OpenSSH_9.2\r\n", 400 },
	};
	char longreq[METRICS_MAX_REQUEST + 64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (status(cases[i].req) != cases[i].want)
			fail_msg("case %zu '%s': %d, expected %d", i,
			    cases[i].req, status(cases[i].req), cases[i].want);

	/* NUL bytes are garbage wherever they are. */
	assert_int_equal(metrics_http_status("GET /metrics\0 HTTP/1.0\r\n\r\n",
	    27), 400);
	assert_int_equal(metrics_http_status("G\0T /metrics HTTP/1.0\r\n\r\n",
	    26), 400);
	assert_int_equal(metrics_http_status(
	    "GET /metrics HTTP/1.0\r\nX: \0\r\n\r\n", 31), 400);

	/* Overlong method and target. */
	memset(longreq, 'A', sizeof(longreq));
	memcpy(longreq + 33, " / HTTP/1.0\r\n\r\n", 15);
	assert_int_equal(metrics_http_status(longreq, 48), 400);
	memcpy(longreq + 32, " / HTTP/1.0\r\n\r\n", 15);
	assert_int_equal(metrics_http_status(longreq, 47), 405);
	/* Target of 2048 bytes ("/" and 2047 more) passes, 2049 does not. */
	memcpy(longreq, "GET /", 5);
	memset(longreq + 5, 'a', 2047);
	memcpy(longreq + 2052, " HTTP/1.0\r\n\r\n", 13);
	assert_int_equal(metrics_http_status(longreq, 2065), 404);
	memset(longreq + 5, 'a', 2048);
	memcpy(longreq + 2053, " HTTP/1.0\r\n\r\n", 13);
	assert_int_equal(metrics_http_status(longreq, 2066), 400);
}

static void
test_reply(void **state)
{
	struct mbuf out, body;

	(void)state;
	mbuf_init(&out);
	mbuf_init(&body);
	mbuf_printf(&body, "a 1\n");
	assert_int_equal(metrics_http_reply(&out, 200, &body), 0);
	assert_string_equal(mbuf_str(&out),
	    "HTTP/1.0 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4\r\n"
	    "Content-Length: 4\r\n"
	    "Connection: close\r\n\r\n"
	    "a 1\n");

	mbuf_reset(&out);
	assert_int_equal(metrics_http_reply(&out, 404, &body), 0);
	assert_string_equal(mbuf_str(&out),
	    "HTTP/1.0 404 Not Found\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: 10\r\n"
	    "Connection: close\r\n\r\n"
	    "Not Found\n");

	mbuf_reset(&out);
	assert_int_equal(metrics_http_reply(&out, 405, NULL), 0);
	assert_string_equal(mbuf_str(&out),
	    "HTTP/1.0 405 Method Not Allowed\r\n"
	    "Content-Type: text/plain\r\n"
	    "Allow: GET\r\n"
	    "Content-Length: 19\r\n"
	    "Connection: close\r\n\r\n"
	    "Method Not Allowed\n");

	mbuf_reset(&out);
	assert_int_equal(metrics_http_reply(&out, 400, NULL), 0);
	assert_string_equal(mbuf_str(&out),
	    "HTTP/1.0 400 Bad Request\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: 12\r\n"
	    "Connection: close\r\n\r\n"
	    "Bad Request\n");

	/* A body that could not be built completely is never served. */
	body.failed = true;
	mbuf_reset(&out);
	assert_int_equal(metrics_http_reply(&out, 200, &body), 0);
	assert_string_equal(mbuf_str(&out),
	    "HTTP/1.0 500 Internal Server Error\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: 22\r\n"
	    "Connection: close\r\n\r\n"
	    "Internal Server Error\n");
	mbuf_reset(&out);
	assert_int_equal(metrics_http_reply(&out, 302, NULL), 0);
	assert_non_null(strstr(mbuf_str(&out), "HTTP/1.0 500 "));
	mbuf_free(&body);

	/* An empty exposition is a valid 200. */
	mbuf_init(&body);
	mbuf_reset(&out);
	assert_int_equal(metrics_http_reply(&out, 200, &body), 0);
	assert_string_equal(mbuf_str(&out),
	    "HTTP/1.0 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4\r\n"
	    "Content-Length: 0\r\n"
	    "Connection: close\r\n\r\n");
	mbuf_free(&body);
	mbuf_free(&out);
}

/* Parser invariants on an exact-size copy: only the four statuses; 200
 * needs the exact request line prefix; head_len within bounds. */
static void
fuzz_one(const char *in, size_t len, int counts[4])
{
	char *p = malloc(len > 0 ? len : 1);
	size_t h;
	int st;

	assert_non_null(p);
	if (len > 0)
		memcpy(p, in, len);
	h = metrics_http_head_len(p, len);
	assert_true(h <= len);
	if (h > 0)
		assert_int_equal(p[h - 1], '\n');
	st = metrics_http_status(p, h > 0 ? h : len);
	switch (st) {
	case 200:
		assert_true(len >= 13 && memcmp(p, "GET /metrics", 12) == 0);
		counts[0]++;
		break;
	case 400:
		counts[1]++;
		break;
	case 404:
		counts[2]++;
		break;
	case 405:
		counts[3]++;
		break;
	default:
		fail_msg("status %d", st);
	}
	free(p);
}

static void
test_fuzz_random(void **state)
{
	static const char alphabet[] = "GETPOST /metrics?HTP1.0\r\n:aZ\t\x01";
	int counts[4] = { 0 };
	char b[300];
	size_t len, i;
	int r;

	(void)state;
	rng_state = UINT64_C(0x9e3779b97f4a7c15);
	for (r = 0; r < FUZZ_ROUNDS; r++) {
		len = rng() % sizeof(b);
		for (i = 0; i < len; i++)
			b[i] = r % 2 ? (char)rng() :
			    alphabet[rng() % (sizeof(alphabet) - 1)];
		fuzz_one(b, len, counts);
	}
	assert_true(counts[1] > 0);
}

static void
test_fuzz_mutations(void **state)
{
	static const char valid[] = "GET /metrics HTTP/1.1\r\nHost: a:9\r\n"
	    "Accept: */*\r\n\r\n";
	int counts[4] = { 0 };
	char b[sizeof(valid) + 16];
	size_t len, pos;
	int r, m, nmut;

	(void)state;
	rng_state = UINT64_C(0x243f6a8885a308d3);
	for (r = 0; r < FUZZ_ROUNDS; r++) {
		len = sizeof(valid) - 1;
		memcpy(b, valid, len);
		nmut = 1 + (int)(rng() % 3);
		for (m = 0; m < nmut; m++) {
			pos = rng() % len;
			switch (rng() % 3) {
			case 0:
				b[pos] = (char)rng();
				break;
			case 1:
				b[pos] = " \r\n:/?\t"[rng() % 7];
				break;
			default:
				len = pos;
				break;
			}
			if (len == 0)
				break;
		}
		fuzz_one(b, len, counts);
	}
	assert_true(counts[0] > 0 && counts[1] > 0 && counts[2] > 0 &&
	    counts[3] > 0);
}

static void
test_fuzz_escape(void **state)
{
	char in[64], out[160], back[64];
	size_t len, outlen, i, o;
	int r, rc;

	(void)state;
	rng_state = UINT64_C(0x13198a2e03707344);
	for (r = 0; r < FUZZ_ROUNDS; r++) {
		len = rng() % (sizeof(in) - 1);
		for (i = 0; i < len; i++)
			in[i] = "ab\\\"\n\t"[rng() % 6];
		in[len] = '\0';
		outlen = rng() % sizeof(out);
		rc = metrics_label_escape(out, outlen, in);
		if (outlen == 0) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_true(strlen(out) < outlen);
		/* Unescaping gives back a prefix (all of it when rc is 0),
		 * and no raw quote, newline or lone backslash remains. */
		for (i = o = 0; out[i] != '\0'; i++, o++) {
			assert_true(out[i] != '"' && out[i] != '\n');
			if (out[i] == '\\') {
				i++;
				assert_true(out[i] == '\\' || out[i] == '"' ||
				    out[i] == 'n');
				back[o] = out[i] == 'n' ? '\n' : out[i];
			} else
				back[o] = out[i];
		}
		assert_true(o <= len);
		assert_memory_equal(back, in, o);
		if (rc == 0)
			assert_int_equal(o, len);
		else
			assert_true(o < len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mbuf),
		cmocka_unit_test(test_mbuf_limit),
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_label_escape),
		cmocka_unit_test(test_head_len),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_fuzz_random),
		cmocka_unit_test(test_fuzz_mutations),
		cmocka_unit_test(test_fuzz_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
