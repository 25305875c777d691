/*
 * Unit tests for the configuration side of the checks (controller/check.c
 * and each kind's parse hook): defaults, every kind parsed to the exact
 * struct, and every error with its exact file:line:col, several errors
 * of one entry in one pass, plus a seeded fuzz loop over mutated entries
 * that must never crash and keep "0 exactly when no error was recorded".
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

#include "controller/check.h"
#include "common/tests/testutil.h"

#define FUZZ_ROUNDS	5000

/*
 * Parse every entry of the root mapping of doc (as "t.yaml") into cc[],
 * in order; returns -1 if any entry failed or the YAML did not load. The
 * yconf is left for the caller to inspect and free.
 */
static int
parse_doc(struct yconf *yc, const char *doc, struct check_config *cc,
    int max)
{
	yaml_node_t *root, *v;
	const char *name;
	int i, rc = 0;

	yconf_init(yc, "t.yaml");
	if (yconf_load_buf(yc, doc, strlen(doc)) == -1)
		return -1;
	if ((root = yconf_root(yc)) == NULL ||
	    yconf_map(yc, root, "checks") == -1)
		return -1;
	for (i = 0; i < yconf_map_len(yc, root) && i < max; i++) {
		if ((name = yconf_map_key(yc, root, i, NULL, &v)) == NULL) {
			yconf_errorf(yc, root, "check names are strings");
			rc = -1;
			continue;
		}
		if (check_config_parse(yc, name, v, &cc[i]) == -1)
			rc = -1;
	}
	return rc;
}

static void
parse_ok(const char *doc, struct check_config *cc)
{
	struct yconf yc;
	int i;

	if (parse_doc(&yc, doc, cc, 1) != 0) {
		for (i = 0; i < yconf_nerrors(&yc); i++)
			print_error("error: %s\n", yconf_error(&yc, i));
		fail_msg("unexpected errors");
	}
	assert_int_equal(yconf_nerrors(&yc), 0);
	yconf_free(&yc);
}

/* doc must fail with exactly the messages want[] (NULL terminated). */
static void
check_errors(const char *doc, const char *const want[])
{
	struct check_config cc[4];
	struct yconf yc;
	int i, n = 0;

	while (want[n] != NULL)
		n++;
	assert_int_equal(parse_doc(&yc, doc, cc, 4), -1);
	if (yconf_nerrors(&yc) != n) {
		for (i = 0; i < yconf_nerrors(&yc); i++)
			print_error("got: %s\n", yconf_error(&yc, i));
		fail_msg("%d errors, expected %d", yconf_nerrors(&yc), n);
	}
	for (i = 0; i < n; i++)
		assert_string_equal(yconf_error(&yc, i), want[i]);
	yconf_free(&yc);
}

/* The one-error form. */
static void
check_error(const char *doc, const char *want)
{
	const char *const w[] = { want, NULL };

	check_errors(doc, w);
}

static void
assert_sa(const union sockaddr_any *sa, const char *text)
{
	char buf[ADDR_STRLEN];

	assert_string_equal(sa_fmt(sa, buf, sizeof(buf)), text);
}

static void
test_names(void **state)
{
	int i;

	(void)state;
	assert_string_equal(check_kind_name(CHECK_RTP_PROBE), "rtp-probe");
	assert_string_equal(check_kind_name(CHECK_RELAY_PROCESS),
	    "relay-process");
	assert_string_equal(check_kind_name(CHECK_NG_PING), "ng-ping");
	assert_string_equal(check_kind_name(CHECK_UDP), "udp");
	assert_string_equal(check_kind_name(CHECK_TCP), "tcp");
	assert_string_equal(check_kind_name(CHECK_EXEC), "exec");
	assert_string_equal(check_kind_name(CHECK_KIND_MAX), "unknown");
	assert_string_equal(check_kind_name((enum check_kind)-1), "unknown");
	for (i = 0; i < CHECK_KIND_MAX; i++)
		assert_non_null(check_kind_names[i]);
	assert_null(check_kind_names[CHECK_KIND_MAX]);
}

static void
test_defaults(void **state)
{
	struct check_config cc;

	(void)state;
	memset(&cc, 0xa5, sizeof(cc));
	check_config_defaults(&cc, CHECK_TCP);
	assert_int_equal(cc.kind, CHECK_TCP);
	assert_string_equal(cc.name, "");
	assert_int_equal(cc.interval_us, 1000000);
	assert_int_equal(cc.timeout_us, 500000);
	assert_int_equal(cc.rise, 2);
	assert_int_equal(cc.fall, 3);
	assert_false(cc.has_source);
	assert_int_equal(cc.send_len, 0);
	assert_int_equal(cc.expect_len, 0);
	assert_string_equal(cc.pidfile, "");
	assert_string_equal(cc.process, "rtprelay");
	assert_int_equal(cc.argc, 0);
	assert_null(cc.argv[0]);
}

static void
test_rtp_probe(void **state)
{
	struct check_config cc;

	(void)state;
	parse_ok("probe:\n"
	    "  kind: rtp-probe\n"
	    "  target: 198.51.100.10:2224\n"
	    "  source: 198.51.100.1\n"
	    "  interval: 20ms\n"
	    "  timeout: 15ms\n"
	    "  rise: 1\n"
	    "  fall: 4\n", &cc);
	assert_string_equal(cc.name, "probe");
	assert_int_equal(cc.kind, CHECK_RTP_PROBE);
	assert_sa(&cc.target, "198.51.100.10:2224");
	assert_true(cc.has_source);
	assert_sa(&cc.source, "198.51.100.1:0");
	assert_int_equal(cc.interval_us, 20000);
	assert_int_equal(cc.timeout_us, 15000);
	assert_int_equal(cc.rise, 1);
	assert_int_equal(cc.fall, 4);
}

static void
test_timeout_default(void **state)
{
	struct check_config cc;

	(void)state;
	/* Half the interval, whatever the interval. */
	parse_ok("p:\n  kind: rtp-probe\n  target: '[2001:db8::1]:2224'\n"
	    "  interval: 20ms\n", &cc);
	assert_int_equal(cc.interval_us, 20000);
	assert_int_equal(cc.timeout_us, 10000);
	assert_sa(&cc.target, "[2001:db8::1]:2224");
	assert_false(cc.has_source);
	parse_ok("p:\n  kind: ng-ping\n  target: 127.0.0.1:2223\n", &cc);
	assert_int_equal(cc.kind, CHECK_NG_PING);
	assert_int_equal(cc.interval_us, 1000000);
	assert_int_equal(cc.timeout_us, 500000);
	assert_int_equal(cc.rise, 2);
	assert_int_equal(cc.fall, 3);
	/* The smallest interval still leaves a usable timeout. */
	parse_ok("p:\n  kind: ng-ping\n  target: 127.0.0.1:2223\n"
	    "  interval: 10ms\n", &cc);
	assert_int_equal(cc.timeout_us, 5000);
	parse_ok("p:\n  kind: ng-ping\n  target: 127.0.0.1:2223\n"
	    "  interval: 10ms\n  timeout: 9999us\n", &cc);
	assert_int_equal(cc.timeout_us, 9999);
}

static void
test_relay_process(void **state)
{
	struct check_config cc;

	(void)state;
	parse_ok("relay:\n  kind: relay-process\n"
	    "  pidfile: /run/rtprelay.pid\n", &cc);
	assert_int_equal(cc.kind, CHECK_RELAY_PROCESS);
	assert_string_equal(cc.pidfile, "/run/rtprelay.pid");
	assert_string_equal(cc.process, "rtprelay");
	parse_ok("relay:\n  kind: relay-process\n"
	    "  pidfile: /run/r.pid\n  process: rtprelay-b.15ch\n", &cc);
	assert_string_equal(cc.process, "rtprelay-b.15ch");
}

static void
test_udp_tcp(void **state)
{
	struct check_config cc;

	(void)state;
	parse_ok("u:\n  kind: udp\n  target: 127.0.0.1:3478\n"
	    "  send: \"PING\\r\\n\"\n  expect: PONG\n", &cc);
	assert_int_equal(cc.kind, CHECK_UDP);
	assert_sa(&cc.target, "127.0.0.1:3478");
	assert_int_equal(cc.send_len, 6);
	assert_memory_equal(cc.send, "PING\r\n", 6);
	assert_int_equal(cc.expect_len, 4);
	assert_memory_equal(cc.expect, "PONG", 4);

	parse_ok("u:\n  kind: udp\n  target: 127.0.0.1:3478\n  send: x\n",
	    &cc);
	assert_int_equal(cc.send_len, 1);
	assert_int_equal(cc.expect_len, 0);

	parse_ok("t:\n  kind: tcp\n  target: 127.0.0.1:9224\n", &cc);
	assert_int_equal(cc.kind, CHECK_TCP);
	assert_int_equal(cc.send_len, 0);
	assert_int_equal(cc.expect_len, 0);
	parse_ok("t:\n  kind: tcp\n  target: 127.0.0.1:9224\n"
	    "  source: 127.0.0.2\n  expect: SSH-\n", &cc);
	assert_int_equal(cc.send_len, 0);
	assert_int_equal(cc.expect_len, 4);
	assert_true(cc.has_source);
}

static void
test_exec(void **state)
{
	struct check_config cc;

	(void)state;
	parse_ok("x:\n  kind: exec\n"
	    "  command: [/usr/local/bin/check-disk, -w, '90%', ' ']\n", &cc);
	assert_int_equal(cc.kind, CHECK_EXEC);
	assert_int_equal(cc.argc, 4);
	assert_string_equal(cc.argv[0], "/usr/local/bin/check-disk");
	assert_string_equal(cc.argv[1], "-w");
	assert_string_equal(cc.argv[2], "90%");
	assert_string_equal(cc.argv[3], " ");
	assert_null(cc.argv[4]);
	/* argv points into argv_buf: NUL-terminated strings in a row. */
	assert_ptr_equal(cc.argv[0], cc.argv_buf);
	assert_ptr_equal(cc.argv[1], cc.argv_buf + 26);
	/* A single program may be a scalar. */
	parse_ok("x:\n  kind: exec\n  command: /bin/true\n", &cc);
	assert_int_equal(cc.argc, 1);
	assert_string_equal(cc.argv[0], "/bin/true");
}

static void
test_errors_common(void **state)
{
	(void)state;
	check_error("p:\n  kind: rtp-prob\n  target: 127.0.0.1:1\n",
	    "t.yaml:2:9: kind: 'rtp-prob' is not one of: rtp-probe, "
	    "relay-process, ng-ping, udp, tcp, exec");
	check_error("p:\n  target: 127.0.0.1:1\n",
	    "t.yaml:2:3: check 'p': missing 'kind' (one of: rtp-probe, "
	    "relay-process, ng-ping, udp, tcp, exec)");
	check_error("p: rtp-probe\n",
	    "t.yaml:1:4: check 'p': expected a mapping, found a scalar");
	check_error("p:\n  kind: rtp-probe\n  target: 127.0.0.1:1\n"
	    "  interval: 5ms\n",
	    "t.yaml:4:13: interval: 5ms is out of range 10ms..1h");
	check_error("p:\n  kind: rtp-probe\n  target: 127.0.0.1:1\n"
	    "  interval: 2h\n",
	    "t.yaml:4:13: interval: 2h is out of range 10ms..1h");
	check_error("p:\n  kind: rtp-probe\n  target: 127.0.0.1:1\n"
	    "  interval: 20ms\n  timeout: 20ms\n",
	    "t.yaml:5:12: timeout: 20ms must be below the interval (20ms)");
	check_error("p:\n  kind: rtp-probe\n  target: 127.0.0.1:1\n"
	    "  timeout: 2s\n",
	    "t.yaml:4:12: timeout: 2s must be below the interval (1s)");
	check_error("p:\n  kind: rtp-probe\n  target: 127.0.0.1:1\n"
	    "  timeout: 500us\n",
	    "t.yaml:4:12: timeout: 500us is out of range 1ms..1h");
	check_error("p:\n  kind: rtp-probe\n  target: 127.0.0.1:1\n"
	    "  rise: 0\n",
	    "t.yaml:4:9: rise: 0 is out of range 1..100");
	check_error("p:\n  kind: rtp-probe\n  target: 127.0.0.1:1\n"
	    "  fall: 101\n",
	    "t.yaml:4:9: fall: 101 is out of range 1..100");
	check_error("p:\n  kind: rtp-probe\n  target: 127.0.0.1:1\n"
	    "  targte: 127.0.0.1:2\n",
	    "t.yaml:4:3: unknown key 'targte' (expected one of: kind, "
	    "interval, timeout, rise, fall, target, source)");
	/* A key of another kind is unknown here. */
	check_error("p:\n  kind: tcp\n  target: 127.0.0.1:1\n"
	    "  pidfile: /run/x.pid\n",
	    "t.yaml:4:3: unknown key 'pidfile' (expected one of: kind, "
	    "interval, timeout, rise, fall, target, source, send, expect)");
	check_error("p:\n  kind: tcp\n  target: 127.0.0.1:1\n"
	    "  target: 127.0.0.1:2\n",
	    "t.yaml:4:3: duplicate key 'target'");
	check_error("bad name:\n  kind: tcp\n  target: 127.0.0.1:1\n",
	    "t.yaml:2:3: check 'bad name': names are 1 to 63 characters of "
	    "A-Z a-z 0-9 . _ -");
}

static void
test_errors_kinds(void **state)
{
	(void)state;
	check_error("p:\n  kind: rtp-probe\n",
	    "t.yaml:2:3: check 'p': missing 'target'");
	check_error("p:\n  kind: ng-ping\n  target: 127.0.0.1\n",
	    "t.yaml:3:11: target: '127.0.0.1': missing ':port'");
	check_error("p:\n  kind: rtp-probe\n  target: 127.0.0.1:2224\n"
	    "  source: '2001:db8::1'\n",
	    "t.yaml:4:11: source: an IPv6 address for an IPv4 target");
	check_error("p:\n  kind: rtp-probe\n  target: 127.0.0.1:2224\n"
	    "  source: 127.0.0.1:5\n",
	    "t.yaml:4:11: source: invalid IPv6 address '127.0.0.1:5'");
	check_error("r:\n  kind: relay-process\n",
	    "t.yaml:2:3: check 'r': missing 'pidfile'");
	check_error("r:\n  kind: relay-process\n  pidfile: run/rtprelay.pid\n",
	    "t.yaml:3:12: pidfile: 'run/rtprelay.pid' is not an absolute "
	    "path");
	check_error("r:\n  kind: relay-process\n  pidfile: ''\n",
	    "t.yaml:3:12: pidfile: empty value");
	check_error("r:\n  kind: relay-process\n  pidfile: /run/r.pid\n"
	    "  process: rtprelay-sixteen\n",
	    "t.yaml:4:12: process: longer than 15 characters");
	check_error("u:\n  kind: udp\n  target: 127.0.0.1:1\n",
	    "t.yaml:2:3: check 'u': missing 'send'");
	check_error("x:\n  kind: exec\n  command: [bin/check]\n",
	    "t.yaml:3:13: command: 'bin/check' is not an absolute path "
	    "(no shell, no PATH search)");
	check_error("x:\n  kind: exec\n  command: 'true'\n",
	    "t.yaml:3:12: command: 'true' is not an absolute path "
	    "(no shell, no PATH search)");
	/* An empty argument is refused, as every empty value is. */
	check_error("x:\n  kind: exec\n  command: [/bin/echo, '']\n",
	    "t.yaml:3:24: command: empty value");
	check_error("x:\n  kind: exec\n  command: []\n",
	    "t.yaml:3:12: command: empty list");
	check_error("x:\n  kind: exec\n",
	    "t.yaml:2:3: check 'x': missing 'command'");
	check_error("x:\n  kind: exec\n  command: {a: b}\n",
	    "t.yaml:3:12: command: expected a list, found a mapping");
	check_error("x:\n  kind: exec\n"
	    "  command: [/a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, "
	    "15, 16]\n",
	    "t.yaml:3:12: command: more than 16 entries");
}

static void
test_long_values(void **state)
{
	char doc[4096], big[CHECK_PAYLOAD_MAX + 2], want[128];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(doc, sizeof(doc), "u:\n  kind: udp\n  target: 127.0.0.1:1\n"
	    "  send: %s\n", big);
	check_error(doc, "t.yaml:4:9: send: 513 bytes, at most 512");
	/* Exactly the limit is fine. */
	big[CHECK_PAYLOAD_MAX] = '\0';
	snprintf(doc, sizeof(doc), "u:\n  kind: tcp\n  target: 127.0.0.1:1\n"
	    "  expect: %s\n", big);
	{
		struct check_config cc;

		parse_ok(doc, &cc);
		assert_int_equal(cc.expect_len, CHECK_PAYLOAD_MAX);
	}
	/* exec arguments share one 1 KiB buffer. */
	memset(big, 'b', 400);
	big[400] = '\0';
	snprintf(doc, sizeof(doc), "x:\n  kind: exec\n"
	    "  command: [/bin/echo, %s, %s, %s]\n", big, big, big);
	/* The fourth entry overflows: column 13 + 11 + 2 * 402. */
	snprintf(want, sizeof(want), "t.yaml:3:%d: command: longer than "
	    "1023 bytes in all", 13 + 11 + 2 * 402);
	check_error(doc, want);
	/* A path longer than the buffer. */
	memset(big, 'c', sizeof(big) - 1);
	big[0] = '/';
	big[CHECK_PATH_MAX + 1] = '\0';
	snprintf(doc, sizeof(doc), "r:\n  kind: relay-process\n"
	    "  pidfile: %s\n", big);
	check_error(doc, "t.yaml:3:12: pidfile: longer than 255 characters");
}

/* Every error of an entry in one pass, and of several entries. */
static void
test_many_errors(void **state)
{
	static const char *const want[] = {
		"t.yaml:3:3: unknown key 'colour' (expected one of: kind, "
		    "interval, timeout, rise, fall, target, source)",
		"t.yaml:4:13: interval: '1x': unknown unit 'x' (us, ms, s, m "
		    "or h)",
		"t.yaml:5:9: rise: 0 is out of range 1..100",
		"t.yaml:6:9: fall: 'x' is not a number",
		"t.yaml:2:3: check 'a': missing 'target'",
		"t.yaml:9:9: kind: 'icmp' is not one of: rtp-probe, "
		    "relay-process, ng-ping, udp, tcp, exec",
		"t.yaml:10:12: timeout: '0': missing unit (us, ms, s, m or h)",
		"t.yaml:13:12: timeout: 1s must be below the interval (1s)",
		"t.yaml:12:3: check 'c': missing 'pidfile'",
		NULL
	};

	(void)state;
	check_errors("a:\n"
	    "  kind: rtp-probe\n"
	    "  colour: blue\n"
	    "  interval: 1x\n"
	    "  rise: 0\n"
	    "  fall: x\n"
	    "  timeout: 100ms\n"
	    "b:\n"
	    "  kind: icmp\n"
	    "  timeout: 0\n"
	    "c:\n"
	    "  kind: relay-process\n"
	    "  timeout: 1s\n", want);
}

/*
 * Mutations of valid entries: any byte may change. Parsing must never
 * crash, and must return 0 exactly when nothing was recorded.
 */
static void
test_fuzz(void **state)
{
	static const char *const seeds[] = {
		"p:\n  kind: rtp-probe\n  target: 127.0.0.1:2224\n"
		    "  source: 127.0.0.1\n  interval: 20ms\n  timeout: 5ms\n",
		"r:\n  kind: relay-process\n  pidfile: /run/r.pid\n"
		    "  process: rtprelay\n  rise: 1\n  fall: 1\n",
		"x:\n  kind: exec\n  command: [/bin/sh, -c, 'exit 0']\n",
		"t:\n  kind: tcp\n  target: '[::1]:80'\n  send: GET\n"
		    "  expect: '200'\n",
	};
	static const char alphabet[] = "abc:-/ \n[]{}'\"0123456789.,#&*!|>";
	struct check_config cc[4];
	struct yconf yc;
	char doc[512];
	size_t len, k;
	int round, rc, m;

	(void)state;
	rng_state = UINT64_C(0x5eed0c4ec4);
	for (round = 0; round < FUZZ_ROUNDS; round++) {
		const char *seed = seeds[rng() % 4];

		len = strlen(seed);
		memcpy(doc, seed, len + 1);
		for (m = (int)(rng() % 4) + 1; m > 0; m--) {
			k = rng() % len;
			doc[k] = alphabet[rng() % (sizeof(alphabet) - 1)];
		}
		rc = parse_doc(&yc, doc, cc, 4);
		assert_int_equal(rc == 0, yconf_nerrors(&yc) == 0);
		yconf_free(&yc);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_rtp_probe),
		cmocka_unit_test(test_timeout_default),
		cmocka_unit_test(test_relay_process),
		cmocka_unit_test(test_udp_tcp),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_errors_common),
		cmocka_unit_test(test_errors_kinds),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
