/*
 * Unit tests for topology-tests/rtpmeter/options.c: defaults, every option
 * with a good value, the messages a user reads for bad ones, local address
 * lists and ranges, the checks between options, and repeated parsing in
 * one process.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "topology-tests/rtpmeter/options.h"

static char			err[256];
static struct meter_opts	o;

/* Parse a NULL-terminated list of arguments after the program name. */
static int
parse(const char *first, ...)
{
	char		*argv[64];
	const char	*a;
	va_list		 ap;
	int		 argc = 0;

	argv[argc++] = (char *)(uintptr_t)"rtpmeter";
	va_start(ap, first);
	for (a = first; a != NULL; a = va_arg(ap, const char *)) {
		assert_true(argc < 63);
		argv[argc++] = (char *)(uintptr_t)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return opts_parse(argc, argv, &o, err, sizeof(err));
}

static void
expect_err(const char *msg, const char *first, ...)
{
	char		*argv[64];
	const char	*a;
	va_list		 ap;
	int		 argc = 0;

	argv[argc++] = (char *)(uintptr_t)"rtpmeter";
	va_start(ap, first);
	for (a = first; a != NULL; a = va_arg(ap, const char *))
		argv[argc++] = (char *)(uintptr_t)a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	assert_int_equal(opts_parse(argc, argv, &o, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
}

static const char *
local_str(int i, char *buf, size_t len)
{
	return addr_fmt(&o.locals[i], buf, len);
}

static void
test_defaults(void **state)
{
	char	buf[64];

	(void)state;
	assert_int_equal(parse("--ng", "127.0.0.1:42223", NULL), OPTS_RUN);
	assert_int_equal(o.ng.sa.sa_family, AF_INET);
	assert_int_equal(sa_port(&o.ng), 42223);
	/* The local address defaults to the ng server's. */
	assert_int_equal(o.nlocals, 1);
	assert_string_equal(local_str(0, buf, sizeof(buf)), "127.0.0.1");
	assert_int_equal(o.port_lo, 0);
	assert_int_equal(o.port_hi, 0);
	assert_int_equal(o.calls, 10);
	assert_int_equal(o.ptime_ms, 20);
	assert_int_equal(o.size, 172);
	assert_int_equal(o.pt, 0);
	assert_int_equal(o.duration_us, 10000000);
	assert_int_equal(o.after_fault_us, 0);
	assert_int_equal(o.broken_after_us, 1000000);
	assert_int_equal(o.long_gap_us, 100000);
	assert_int_equal(o.drain_us, 300000);
	assert_int_equal(o.ready_timeout_us, 5000000);
	assert_int_equal(o.settle_us, 0);
	assert_int_equal(o.ng_timeout_ms, 500);
	assert_int_equal(o.ng_tries, 3);
	assert_int_equal(o.ping_wait_us, 5000000);
	assert_null(o.out);
	assert_string_equal(o.prefix, "");
	assert_false(o.no_delete);
	assert_false(o.rtcp_mux);
	assert_int_equal(o.call_rate, 0);
	assert_false(o.verbose);
}

static void
test_all_options(void **state)
{
	(void)state;
	assert_int_equal(parse("--ng", "[2001:db8::1]:2223",
	    "--local", "2001:db8:1::5", "--local", "2001:db8:1::6",
	    "--ports", "42000-42199", "--calls", "5000",
	    "--duration", "1.5s", "--after-fault", "3s", "--ptime", "10",
	    "--size", "92", "--pt", "8", "--broken-after", "500ms",
	    "--long-gap", "60ms", "--drain", "0ms", "--ready-timeout", "2s",
	    "--settle", "300ms", "--ng-timeout", "250", "--ng-tries", "5", "--ping-wait", "0s",
	    "--out", "/tmp/x.json", "--call-prefix", "lab-run_1.a",
	    "--no-delete", "--rtcp-mux", "--call-rate", "500", "-v", NULL),
	    OPTS_RUN);
	assert_int_equal(o.ng.sa.sa_family, AF_INET6);
	assert_int_equal(o.nlocals, 2);
	assert_int_equal(o.locals[1].af, AF_INET6);
	assert_int_equal(o.port_lo, 42000);
	assert_int_equal(o.port_hi, 42199);
	assert_int_equal(o.calls, 5000);
	assert_int_equal(o.duration_us, 1500000);
	assert_int_equal(o.after_fault_us, 3000000);
	assert_int_equal(o.ptime_ms, 10);
	assert_int_equal(o.size, 92);
	assert_int_equal(o.pt, 8);
	assert_int_equal(o.broken_after_us, 500000);
	assert_int_equal(o.long_gap_us, 60000);
	assert_int_equal(o.drain_us, 0);
	assert_int_equal(o.ready_timeout_us, 2000000);
	assert_int_equal(o.settle_us, 300000);
	assert_int_equal(o.ng_timeout_ms, 250);
	assert_int_equal(o.ng_tries, 5);
	assert_int_equal(o.ping_wait_us, 0);
	assert_string_equal(o.out, "/tmp/x.json");
	assert_string_equal(o.prefix, "lab-run_1.a");
	assert_true(o.no_delete);
	assert_true(o.rtcp_mux);
	assert_int_equal(o.call_rate, 500);
	assert_true(o.verbose);
}

static void
test_locals(void **state)
{
	char	buf[64];

	(void)state;
	assert_int_equal(parse("--ng", "198.51.100.1:2223", "--local",
	    "203.0.113.250-203.0.113.255", "--local", "203.0.113.7", NULL),
	    OPTS_RUN);
	assert_int_equal(o.nlocals, 7);
	assert_string_equal(local_str(0, buf, sizeof(buf)), "203.0.113.250");
	assert_string_equal(local_str(5, buf, sizeof(buf)), "203.0.113.255");
	assert_string_equal(local_str(6, buf, sizeof(buf)), "203.0.113.7");
	/* A range across an octet boundary, and one of a single address. */
	assert_int_equal(parse("--ng", "198.51.100.1:2223", "--local",
	    "203.0.113.255-203.0.114.1", "--local", "203.0.113.9-203.0.113.9",
	    NULL), OPTS_RUN);
	assert_int_equal(o.nlocals, 4);
	assert_string_equal(local_str(2, buf, sizeof(buf)), "203.0.114.1");
	assert_string_equal(local_str(3, buf, sizeof(buf)), "203.0.113.9");
	/* Exactly the limit, then one more. */
	assert_int_equal(parse("--ng", "198.51.100.1:2223", "--local",
	    "10.0.0.0-10.0.3.255", NULL), OPTS_RUN);
	assert_int_equal(o.nlocals, OPTS_MAX_LOCALS);
	expect_err("--local: more than 1024 local addresses", "--ng",
	    "198.51.100.1:2223", "--local", "10.0.0.0-10.0.4.0", NULL);
	expect_err("--local: more than 1024 local addresses", "--ng",
	    "198.51.100.1:2223", "--local", "10.0.0.0-10.0.3.255",
	    "--local", "10.9.9.9", NULL);
	expect_err("--local: range '203.0.113.9-203.0.113.1' ends before it "
	    "starts", "--ng", "198.51.100.1:2223", "--local",
	    "203.0.113.9-203.0.113.1", NULL);
	expect_err("--local: '2001:db8::1-2001:db8::2' is neither an address "
	    "nor an IPv4 range FIRST-LAST", "--ng", "198.51.100.1:2223",
	    "--local", "2001:db8::1-2001:db8::2", NULL);
	expect_err("--local: '203.0.113.1-' is neither an address nor an IPv4 "
	    "range FIRST-LAST", "--ng", "198.51.100.1:2223", "--local",
	    "203.0.113.1-", NULL);
	expect_err("--local: invalid IPv4 address '203.0.113.300'", "--ng",
	    "198.51.100.1:2223", "--local", "203.0.113.300", NULL);
	expect_err("--local: '2001:db8::5' is not of the family of the first "
	    "local address", "--ng", "198.51.100.1:2223", "--local",
	    "203.0.113.1", "--local", "2001:db8::5", NULL);
	expect_err("--local and --ng are of different address families",
	    "--ng", "[2001:db8::1]:2223", "--local", "203.0.113.1", NULL);
}

static void
test_bad_values(void **state)
{
	char	big[64];

	(void)state;
	expect_err("--ng HOST:PORT is required", NULL);
	expect_err("--ng HOST:PORT is required", "--calls", "3", NULL);
	expect_err("--calls: 0 is out of range 1..20000", "--ng",
	    "127.0.0.1:1", "--calls", "0", NULL);
	expect_err("--call-rate: 0 is out of range 1..100000", "--ng",
	    "127.0.0.1:1", "--call-rate", "0", NULL);
	expect_err("--calls: 20001 is out of range 1..20000", "--ng",
	    "127.0.0.1:1", "--calls", "20001", NULL);
	expect_err("--calls: '1e3' is not a number (trailing 'e3')", "--ng",
	    "127.0.0.1:1", "--calls", "1e3", NULL);
	expect_err("--ptime: 0 is out of range 1..1000", "--ng",
	    "127.0.0.1:1", "--ptime", "0", NULL);
	expect_err("--size: 12 is out of range 13..1400", "--ng",
	    "127.0.0.1:1", "--size", "12", NULL);
	expect_err("--pt: '9' is neither 0 (PCMU) nor 8 (PCMA)", "--ng",
	    "127.0.0.1:1", "--pt", "9", NULL);
	expect_err("--pt: '08' is neither 0 (PCMU) nor 8 (PCMA)", "--ng",
	    "127.0.0.1:1", "--pt", "08", NULL);
	expect_err("--duration: '10': missing unit (us, ms, s, m or h)",
	    "--ng", "127.0.0.1:1", "--duration", "10", NULL);
	assert_int_equal(parse("--ng", "127.0.0.1:1", "--duration", "50ms",
	    NULL), -1);
	assert_non_null(strstr(err, "--duration: "));
	expect_err("--ports: range '42199-42000': low end above high end", "--ng",
	    "127.0.0.1:1", "--ports", "42199-42000", NULL);
	assert_int_equal(parse("--ng", "127.0.0.1", NULL), -1);
	assert_non_null(strstr(err, "--ng: "));
	expect_err("--out: empty file name", "--ng", "127.0.0.1:1", "--out",
	    "", NULL);
	expect_err("--call-prefix: only letters, digits, '-', '_' and '.'",
	    "--ng", "127.0.0.1:1", "--call-prefix", "a b", NULL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_err("--call-prefix: 1 to 40 characters", "--ng", "127.0.0.1:1",
	    "--call-prefix", big, NULL);
	expect_err("unknown option '--bogus'", "--ng", "127.0.0.1:1",
	    "--bogus", NULL);
	expect_err("--calls needs a value", "--ng", "127.0.0.1:1", "--calls",
	    NULL);
	expect_err("unexpected argument 'extra'", "--ng", "127.0.0.1:1",
	    "extra", NULL);
}

static void
test_cross_checks(void **state)
{
	(void)state;
	expect_err("--after-fault 500ms is shorter than --broken-after 1s: a "
	    "stream the fault stopped could not be told from one that resumed",
	    "--ng", "127.0.0.1:1", "--after-fault", "500ms", NULL);
	assert_int_equal(parse("--ng", "127.0.0.1:1", "--after-fault", "1s",
	    NULL), OPTS_RUN);
	expect_err("--broken-after 30ms must be at least two packet intervals "
	    "(40 ms)", "--ng", "127.0.0.1:1", "--broken-after", "30ms", NULL);
	assert_int_equal(parse("--ng", "127.0.0.1:1", "--broken-after", "30ms",
	    "--ptime", "10", NULL), OPTS_RUN);
	/* A late stream must not pass for one that cannot flow. */
	expect_err("--settle 30ms must be at least two packet intervals "
	    "(40 ms)", "--ng", "127.0.0.1:1", "--settle", "30ms", NULL);
	assert_int_equal(parse("--ng", "127.0.0.1:1", "--settle", "40ms",
	    NULL), OPTS_RUN);
	expect_err("--settle 5s is not shorter than --ready-timeout 5s",
	    "--ng", "127.0.0.1:1", "--settle", "5s", NULL);
	expect_err("--settle: 0ms is out of range 10ms..1m", "--ng",
	    "127.0.0.1:1", "--settle", "0ms", NULL);
}

static void
test_help_version(void **state)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	(void)state;
	assert_int_equal(parse("--help", NULL), OPTS_HELP);
	assert_int_equal(parse("-h", NULL), OPTS_HELP);
	assert_int_equal(parse("--version", NULL), OPTS_VERSION);
	/* Help wins over missing options and comes before bad later ones. */
	assert_int_equal(parse("--help", "--calls", "0", NULL), OPTS_HELP);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	opts_usage(f);
	fclose(f);
	assert_non_null(strstr(buf, "usage: rtpmeter --ng HOST:PORT"));
	assert_non_null(strstr(buf, "SIGUSR1"));
	free(buf);
}

/* getopt keeps state between calls; opts_parse must reset it. */
static void
test_reparse(void **state)
{
	(void)state;
	assert_int_equal(parse("--ng", "127.0.0.1:1", "--calls", "7", NULL),
	    OPTS_RUN);
	assert_int_equal(o.calls, 7);
	assert_int_equal(parse("--calls", "8", "--ng", "127.0.0.1:2", NULL),
	    OPTS_RUN);
	assert_int_equal(o.calls, 8);
	assert_int_equal(sa_port(&o.ng), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_locals),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_cross_checks),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_reparse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
