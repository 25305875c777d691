/*
 * Unit tests for relay/config.c: the shipped example and a full dual-stack
 * file parse to the exact struct, every error message with its exact
 * file:line:col, many errors from one document in one pass, the config-test
 * files (relay/tests/config/NAME.yaml against NAME.out, the text `rtprelay -n`
 * prints), the reload comparison, and seeded fuzz loops (random bytes and
 * mutations of the example) that must never crash and keep the contract
 * "0 exactly when no error was recorded".
 *
 * Run from the repository root (as `make unit-tests` does): the example and
 * the config-test files are read by their relative paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <glob.h>

#include <cmocka.h>

#include "relay/config.h"
#include "common/tests/testutil.h"

#define FUZZ_ROUNDS	10000
#define EXAMPLE		"relay/examples/loopback.yaml"

static const char minimal[] =
    "service-address: 127.0.0.1\n"
    "control: 127.0.0.1:2223\n"
    "ports: 30000-30999\n";


/* Parse doc as "t.yaml"; returns relay_config_parse's result (-1 when the
 * YAML did not load). The yconf is left for the caller to inspect. */
static int
parse_doc(struct yconf *yc, struct relay_config *cfg, const char *doc,
    size_t len)
{
	yconf_init(yc, "t.yaml");
	if (yconf_load_buf(yc, doc, len) == -1)
		return -1;
	return relay_config_parse(cfg, yc);
}

/* doc must fail with exactly the messages want[] (NULL terminated), in
 * this order. */
static void
check_errors(const char *doc, const char *const want[])
{
	struct relay_config cfg;
	struct yconf yc;
	int i, n = 0;

	while (want[n] != NULL)
		n++;
	assert_int_equal(parse_doc(&yc, &cfg, doc, strlen(doc)), -1);
	for (i = 0; i < yconf_nerrors(&yc) && i < n; i++)
		assert_string_equal(yconf_error(&yc, i), want[i]);
	if (yconf_nerrors(&yc) != n) {
		for (i = 0; i < yconf_nerrors(&yc); i++)
			print_error("got: %s\n", yconf_error(&yc, i));
		fail_msg("%d errors, expected %d", yconf_nerrors(&yc), n);
	}
	yconf_free(&yc);
}

/* doc must parse cleanly into cfg. */
static void
parse_ok(const char *doc, struct relay_config *cfg)
{
	struct yconf yc;

	if (parse_doc(&yc, cfg, doc, strlen(doc)) != 0) {
		for (int i = 0; i < yconf_nerrors(&yc); i++)
			print_error("error: %s\n", yconf_error(&yc, i));
		fail_msg("unexpected errors");
	}
	assert_int_equal(yconf_nerrors(&yc), 0);
	yconf_free(&yc);
}

static void
assert_sa(const union sockaddr_any *sa, const char *text)
{
	char buf[ADDR_STRLEN];

	assert_string_equal(sa_fmt(sa, buf, sizeof(buf)), text);
}

static void
assert_addr(const struct addr *a, const char *text)
{
	char buf[ADDR_STRLEN];

	assert_non_null(a);
	assert_string_equal(addr_fmt(a, buf, sizeof(buf)), text);
}

static void
assert_prefix(const struct prefix *p, const char *text)
{
	char buf[ADDR_STRLEN + 4];

	assert_string_equal(prefix_fmt(p, buf, sizeof(buf)), text);
}

static void
test_defaults(void **state)
{
	struct relay_config cfg;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	relay_config_defaults(&cfg);
	assert_int_equal(cfg.nvip, 0);
	assert_int_equal(cfg.ncontrol, 0);
	assert_int_equal(cfg.port_min, 0);
	assert_int_equal(cfg.port_max, 0);
	assert_false(cfg.probe_enabled);
	assert_false(cfg.metrics_enabled);
	assert_int_equal(cfg.media_timeout_us, 60000000);
	assert_int_equal(cfg.max_calls, 20000);
	assert_int_equal(cfg.latch_seq_window, 100);
	assert_int_equal(cfg.nprobe_allow, 0);
	assert_int_equal(cfg.probe_rate, 200);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_null(relay_config_vip(&cfg, AF_INET));
	assert_null(relay_config_vip(&cfg, AF_INET6));
}

static void
test_example(void **state)
{
	struct relay_config cfg;
	struct yconf yc;

	(void)state;
	yconf_init(&yc, EXAMPLE);
	if (yconf_load_file(&yc) == -1)
		fail_msg("%s (run the test from the repository root)",
		    yconf_error(&yc, 0));
	assert_int_equal(relay_config_parse(&cfg, &yc), 0);
	assert_int_equal(yconf_nerrors(&yc), 0);
	yconf_free(&yc);

	assert_int_equal(cfg.nvip, 1);
	assert_addr(&cfg.vip[0], "127.0.0.1");
	assert_ptr_equal(relay_config_vip(&cfg, AF_INET), &cfg.vip[0]);
	assert_null(relay_config_vip(&cfg, AF_INET6));
	assert_int_equal(cfg.ncontrol, 1);
	assert_sa(&cfg.control[0], "127.0.0.1:2223");
	assert_int_equal(cfg.port_min, 30000);
	assert_int_equal(cfg.port_max, 30999);
	assert_true(cfg.probe_enabled);
	assert_sa(&cfg.probe_listen, "127.0.0.1:2224");
	assert_int_equal(cfg.nprobe_allow, 1);
	assert_prefix(&cfg.probe_allow[0], "127.0.0.0/8");
	assert_int_equal(cfg.probe_rate, 1000);
	assert_true(cfg.metrics_enabled);
	assert_sa(&cfg.metrics_listen, "127.0.0.1:9224");
	assert_int_equal(cfg.media_timeout_us, 60000000);
	assert_int_equal(cfg.max_calls, 20000);
	assert_int_equal(cfg.latch_seq_window, 100);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
}

static void
test_minimal(void **state)
{
	struct relay_config cfg;

	(void)state;
	parse_ok(minimal, &cfg);
	assert_int_equal(cfg.nvip, 1);
	assert_int_equal(cfg.ncontrol, 1);
	assert_int_equal(cfg.port_min, 30000);
	assert_int_equal(cfg.port_max, 30999);
	assert_false(cfg.probe_enabled);
	assert_false(cfg.metrics_enabled);
	assert_int_equal(cfg.media_timeout_us, 60000000);
	assert_int_equal(cfg.max_calls, 20000);
	assert_int_equal(cfg.latch_seq_window, 100);
	assert_int_equal(cfg.probe_rate, 200);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
}

static void
test_full(void **state)
{
	struct relay_config cfg;

	(void)state;
	parse_ok("service-address: ['2001:db8::10', 198.51.100.10]\n"
	    "control:\n"
	    "  - 198.51.100.1:2223\n"
	    "  - '[2001:db8::1]:2223'\n"
	    "  - 0.0.0.0:2225\n"
	    "  - '[::]:2226'\n"
	    "ports: 30000-39999\n"
	    "media-timeout: 60m\n"
	    "max-calls: 100000\n"
	    "latch-seq-window: 0\n"
	    "probe: {listen: '[2001:db8::10]:2224', rate: 1,\n"
	    "  allow: [198.51.100.0/24, '2001:db8::/32', 0.0.0.0/0]}\n"
	    "metrics:\n"
	    "  listen: '[::1]:9224'\n"
	    "log-level: debug\n", &cfg);
	assert_int_equal(cfg.nvip, 2);
	assert_addr(&cfg.vip[0], "2001:db8::10");
	assert_addr(&cfg.vip[1], "198.51.100.10");
	assert_ptr_equal(relay_config_vip(&cfg, AF_INET6), &cfg.vip[0]);
	assert_ptr_equal(relay_config_vip(&cfg, AF_INET), &cfg.vip[1]);
	assert_int_equal(cfg.ncontrol, 4);
	assert_sa(&cfg.control[0], "198.51.100.1:2223");
	assert_sa(&cfg.control[1], "[2001:db8::1]:2223");
	assert_sa(&cfg.control[2], "0.0.0.0:2225");
	assert_sa(&cfg.control[3], "[::]:2226");
	assert_int_equal(cfg.port_min, 30000);
	assert_int_equal(cfg.port_max, 39999);
	assert_int_equal(cfg.media_timeout_us, 3600000000ULL);
	assert_int_equal(cfg.max_calls, 100000);
	assert_int_equal(cfg.latch_seq_window, 0);
	assert_true(cfg.probe_enabled);
	assert_sa(&cfg.probe_listen, "[2001:db8::10]:2224");
	assert_int_equal(cfg.nprobe_allow, 3);
	assert_prefix(&cfg.probe_allow[0], "198.51.100.0/24");
	assert_prefix(&cfg.probe_allow[1], "2001:db8::/32");
	assert_prefix(&cfg.probe_allow[2], "0.0.0.0/0");
	assert_int_equal(cfg.probe_rate, 1);
	assert_true(cfg.metrics_enabled);
	assert_sa(&cfg.metrics_listen, "[::1]:9224");
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);

	/* The limits themselves are accepted. */
	parse_ok("service-address: 127.0.0.1\ncontrol: 127.0.0.1:2223\n"
	    "ports: 65532-65535\nmedia-timeout: 1s\nmax-calls: 1\n"
	    "latch-seq-window: 1000\nprobe:\n  listen: 127.0.0.1:2224\n"
	    "  allow: 127.0.0.1/32\n  rate: 100000\nlog-level: err\n", &cfg);
	assert_int_equal(cfg.port_min, 65532);
	assert_int_equal(cfg.port_max, 65535);
	assert_int_equal(cfg.media_timeout_us, 1000000);
	assert_int_equal(cfg.max_calls, 1);
	assert_int_equal(cfg.latch_seq_window, 1000);
	assert_int_equal(cfg.probe_rate, 100000);
	assert_int_equal(cfg.nprobe_allow, 1);
	assert_int_equal(cfg.log_level, LOG_LEVEL_ERR);

	/* Sixteen allow prefixes fit; the control port may sit in the media
	 * range when it is on another address. */
	parse_ok("service-address: 127.0.0.1\n"
	    "control: 127.0.0.2:30100\n"
	    "ports: 30000-30999\n"
	    "probe:\n  listen: 127.0.0.1:2224\n  allow: [10.0.0.0/8, "
	    "10.1.0.0/16, 10.2.0.0/16, 10.3.0.0/16, 10.4.0.0/16, "
	    "10.5.0.0/16, 10.6.0.0/16, 10.7.0.0/16, 10.8.0.0/16, "
	    "10.9.0.0/16, 10.10.0.0/16, 10.11.0.0/16, 10.12.0.0/16, "
	    "10.13.0.0/16, 10.14.0.0/16, 10.15.0.0/16]\n", &cfg);
	assert_int_equal(cfg.nprobe_allow, 16);
	assert_prefix(&cfg.probe_allow[15], "10.15.0.0/16");
}

static void
test_err_document(void **state)
{
	(void)state;
	check_errors("", (const char *const[]){
	    "t.yaml: empty configuration", NULL });
	check_errors("# only a comment\n", (const char *const[]){
	    "t.yaml: empty configuration", NULL });
	check_errors("- a\n- b\n", (const char *const[]){
	    "t.yaml:1:1: configuration: expected a mapping, found a list",
	    NULL });
	check_errors("just text\n", (const char *const[]){
	    "t.yaml:1:1: configuration: expected a mapping, found a scalar",
	    NULL });
	check_errors("ports: [30000\n", (const char *const[]){
	    "t.yaml:2:1: did not find expected ',' or ']' while parsing a "
	    "flow sequence", NULL });
	check_errors("max-calls: 5\n", (const char *const[]){
	    "t.yaml:1:1: missing required key 'service-address'",
	    "t.yaml:1:1: missing required key 'control'",
	    "t.yaml:1:1: missing required key 'ports'", NULL });
}

static void
test_err_keys(void **state)
{
	(void)state;
	check_errors("service-address: 127.0.0.1\ncontrol: 127.0.0.1:2223\n"
	    "ports: 30000-30999\nport: 1\n", (const char *const[]){
	    "t.yaml:4:1: unknown key 'port' (expected one of: "
	    "service-address, control, ports, media-timeout, max-calls, "
	    "latch-seq-window, probe, metrics, log-level, redis)", NULL });
	check_errors("service-address: 127.0.0.1\ncontrol: 127.0.0.1:2223\n"
	    "ports: 30000-30999\nports: 30000-30999\n", (const char *const[]){
	    "t.yaml:4:1: duplicate key 'ports'", NULL });
	check_errors("service-address: 127.0.0.1\ncontrol: 127.0.0.1:2223\n"
	    "ports: 30000-30999\n[a]: 1\n", (const char *const[]){
	    "t.yaml:4:1: keys must be plain strings", NULL });
	check_errors("service-address: 127.0.0.1\ncontrol: 127.0.0.1:2223\n"
	    "ports: 30000-30999\nmetrics:\n  listen: 127.0.0.1:9224\n"
	    "  path: /metrics\n", (const char *const[]){
	    "t.yaml:6:3: unknown key 'path' (expected one of: listen)",
	    NULL });
}

static void
test_err_service_address(void **state)
{
	(void)state;
	check_errors("service-address: 127.0.0.256\ncontrol: 127.0.0.1:2223\n"
	    "ports: 30000-30999\n", (const char *const[]){
	    "t.yaml:1:18: service-address: invalid IPv4 address "
	    "'127.0.0.256'", NULL });
	check_errors("service-address: '2001:db8::1::2'\n"
	    "control: 127.0.0.1:2223\nports: 30000-30999\n",
	    (const char *const[]){
	    "t.yaml:1:18: service-address: invalid IPv6 address "
	    "'2001:db8::1::2'", NULL });
	check_errors("service-address: []\ncontrol: 127.0.0.1:2223\n"
	    "ports: 30000-30999\n", (const char *const[]){
	    "t.yaml:1:18: service-address: empty list", NULL });
	check_errors("service-address:\ncontrol: 127.0.0.1:2223\n"
	    "ports: 30000-30999\n", (const char *const[]){
	    "t.yaml:1:17: service-address: empty value", NULL });
	check_errors("service-address: {a: 1}\ncontrol: 127.0.0.1:2223\n"
	    "ports: 30000-30999\n", (const char *const[]){
	    "t.yaml:1:18: service-address: expected a list, found a mapping",
	    NULL });
	check_errors("service-address: [[127.0.0.1]]\n"
	    "control: 127.0.0.1:2223\nports: 30000-30999\n",
	    (const char *const[]){
	    "t.yaml:1:19: service-address: expected a value, found a list",
	    NULL });
	check_errors("service-address: [127.0.0.1, '::1', 127.0.0.2]\n"
	    "control: 127.0.0.1:2223\nports: 30000-30999\n",
	    (const char *const[]){
	    "t.yaml:1:18: service-address: more than 2 entries", NULL });
	check_errors("service-address: ['2001:db8::1', '2001:db8::2']\n"
	    "control: 127.0.0.1:2223\nports: 30000-30999\n",
	    (const char *const[]){
	    "t.yaml:1:34: service-address: second IPv6 address 2001:db8::2 "
	    "(at most one IPv4 and one IPv6)", NULL });
	check_errors("service-address: [0.0.0.0, '::']\n"
	    "control: 127.0.0.1:2223\nports: 30000-30999\n",
	    (const char *const[]){
	    "t.yaml:1:19: service-address: 0.0.0.0 is the wildcard address",
	    "t.yaml:1:28: service-address: :: is the wildcard address",
	    NULL });
	check_errors("service-address: [224.0.0.1, 'ff02::1']\n"
	    "control: 127.0.0.1:2223\nports: 30000-30999\n",
	    (const char *const[]){
	    "t.yaml:1:19: service-address: 224.0.0.1 is a multicast address",
	    "t.yaml:1:30: service-address: ff02::1 is a multicast address",
	    NULL });
	check_errors("service-address: [255.255.255.255, '::ffff:127.0.0.1']\n"
	    "control: 127.0.0.1:2223\nports: 30000-30999\n",
	    (const char *const[]){
	    "t.yaml:1:19: service-address: 255.255.255.255 is the broadcast "
	    "address",
	    "t.yaml:1:36: service-address: ::ffff:127.0.0.1 is IPv4-mapped "
	    "(write the IPv4 address itself)", NULL });
}

static void
test_err_control(void **state)
{
	(void)state;
	check_errors("service-address: 127.0.0.1\ncontrol: 127.0.0.1\n"
	    "ports: 30000-30999\n", (const char *const[]){
	    "t.yaml:2:10: control: '127.0.0.1': missing ':port'", NULL });
	check_errors("service-address: 127.0.0.1\ncontrol: 127.0.0.1:0\n"
	    "ports: 30000-30999\n", (const char *const[]){
	    "t.yaml:2:10: control: '127.0.0.1:0': port: 0 is out of range "
	    "1..65535", NULL });
	check_errors("service-address: 127.0.0.1\ncontrol: []\n"
	    "ports: 30000-30999\n", (const char *const[]){
	    "t.yaml:2:10: control: empty list", NULL });
	check_errors("service-address: 127.0.0.1\n"
	    "control: [127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3, 127.0.0.1:4, "
	    "127.0.0.1:5]\nports: 30000-30999\n", (const char *const[]){
	    "t.yaml:2:10: control: more than 4 entries", NULL });
	check_errors("service-address: 127.0.0.1\n"
	    "control: ['[::1]:2223', '[::1]:2223']\nports: 30000-30999\n",
	    (const char *const[]){
	    "t.yaml:2:25: control: [::1]:2223 listed twice", NULL });
	/* On the VIP (or a wildcard of its family) inside the media range
	 * it would take a media port; elsewhere it may. */
	check_errors("service-address: [127.0.0.1, '::1']\n"
	    "control: [127.0.0.1:30000, '[::]:30999', 127.0.0.2:30002, "
	    "127.0.0.1:31000]\n"
	    "ports: 30000-30999\n", (const char *const[]){
	    "t.yaml:2:11: control: port 30000 is inside the media port range "
	    "30000-30999",
	    "t.yaml:2:28: control: port 30999 is inside the media port range "
	    "30000-30999", NULL });
}

static void
test_err_ports(void **state)
{
	static const char *const head =
	    "service-address: 127.0.0.1\ncontrol: 127.0.0.1:2223\n";
	static const struct {
		const char	*ports;
		const char	*want;
	} cases[] = {
		{ "30001-30999", "t.yaml:3:8: ports: low end 30001 is odd "
		    "(RTP uses the even port of each pair)" },
		{ "30000-30002", "t.yaml:3:8: ports: 30000-30002 has 3 ports, "
		    "at least 4 needed" },
		{ "30000-30000", "t.yaml:3:8: ports: 30000-30000 has 1 ports, "
		    "at least 4 needed" },
		{ "1022-2000", "t.yaml:3:8: ports: range '1022-2000': low end: "
		    "1022 is out of range 1024..65535" },
		{ "30000-65536", "t.yaml:3:8: ports: range '30000-65536': high "
		    "end: 65536 is out of range 1024..65535" },
		{ "30999-30000", "t.yaml:3:8: ports: range '30999-30000': low "
		    "end above high end" },
		{ "30000", "t.yaml:3:8: ports: '30000' is not a range "
		    "(expected LOW-HIGH)" },
		{ "'-'", "t.yaml:3:8: ports: range '-': low end: empty number" },
		{ "[1, 2]", "t.yaml:3:8: ports: expected a value, found a list" },
	};
	char doc[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(doc, sizeof(doc), "%sports: %s\n", head,
		    cases[i].ports);
		check_errors(doc, (const char *const[]){ cases[i].want, NULL });
	}
}

static void
test_err_scalars(void **state)
{
	static const struct {
		const char	*line;
		const char	*want;
	} cases[] = {
		{ "media-timeout: 999ms", "t.yaml:4:16: media-timeout: 999ms "
		    "is out of range 1s..1h" },
		{ "media-timeout: 61m", "t.yaml:4:16: media-timeout: 61m is out "
		    "of range 1s..1h" },
		{ "media-timeout: 60", "t.yaml:4:16: media-timeout: '60': "
		    "missing unit (us, ms, s, m or h)" },
		{ "max-calls: 100001", "t.yaml:4:12: max-calls: 100001 is out "
		    "of range 1..100000" },
		{ "max-calls: 1e3", "t.yaml:4:12: max-calls: '1e3' is not a "
		    "number (trailing 'e3')" },
		{ "latch-seq-window: 1001", "t.yaml:4:19: latch-seq-window: "
		    "1001 is out of range 0..1000" },
		{ "log-level: INFO", "t.yaml:4:12: log-level: 'INFO' is not one "
		    "of: err, warn, info, debug" },
		{ "log-level: [info]", "t.yaml:4:12: log-level: expected a "
		    "value, found a list" },
	};
	char doc[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(doc, sizeof(doc), "%s%s\n", minimal, cases[i].line);
		check_errors(doc, (const char *const[]){ cases[i].want, NULL });
	}
}

static void
test_err_probe(void **state)
{
	static const struct {
		const char	*probe;
		const char	*want[3];
	} cases[] = {
		{ "probe: 127.0.0.1:2224", { "t.yaml:4:8: probe: expected a "
		    "mapping, found a scalar" } },
		{ "probe:", { "t.yaml:4:7: probe: expected a mapping, found a "
		    "scalar" } },
		{ "probe: {}", { "t.yaml:4:8: probe: missing required key "
		    "'listen'", "t.yaml:4:8: probe: missing required key "
		    "'allow'" } },
		{ "probe:\n  listen: 127.0.0.1:2224", { "t.yaml:5:3: probe: "
		    "missing required key 'allow'" } },
		{ "probe:\n  allow: 127.0.0.0/8", { "t.yaml:5:3: probe: missing "
		    "required key 'listen'" } },
		{ "probe:\n  listen: 127.0.0.1:2224\n  allow: []", {
		    "t.yaml:6:10: probe.allow: empty list" } },
		{ "probe:\n  listen: 127.0.0.1:2224\n  allow: 127.0.0.1", {
		    "t.yaml:6:10: probe.allow: prefix '127.0.0.1' has no "
		    "'/length'" } },
		{ "probe:\n  listen: 127.0.0.1:2224\n  allow: ['::/129']", {
		    "t.yaml:6:11: probe.allow: prefix '::/129': length: 129 is "
		    "out of range 0..128" } },
		{ "probe:\n  listen: 127.0.0.1:2224\n  allow: [10.0.0.0/8, "
		    "10.0.0.0/8, 10.0.0.0/8, 10.0.0.0/8, 10.0.0.0/8, 10.0.0.0/8, "
		    "10.0.0.0/8, 10.0.0.0/8, 10.0.0.0/8, 10.0.0.0/8, 10.0.0.0/8, "
		    "10.0.0.0/8, 10.0.0.0/8, 10.0.0.0/8, 10.0.0.0/8, 10.0.0.0/8, "
		    "10.0.0.0/8]", { "t.yaml:6:10: probe.allow: more than 16 "
		    "entries" } },
		{ "probe:\n  listen: 127.0.0.1:2224\n  allow: 127.0.0.0/8\n"
		    "  rate: 0", { "t.yaml:7:9: probe.rate: 0 is out of range "
		    "1..100000" } },
		{ "probe:\n  listen: 127.0.0.1:2224\n  allow: 127.0.0.0/8\n"
		    "  rate: 100001", { "t.yaml:7:9: probe.rate: 100001 is out "
		    "of range 1..100000" } },
		{ "probe:\n  listen: 127.0.0.2:2224\n  allow: 127.0.0.0/8", {
		    "t.yaml:5:11: probe.listen: 127.0.0.2 is not a service "
		    "address (the mirror must answer on the VIP)" } },
		{ "probe:\n  listen: '[::1]:2224'\n  allow: '::1/128'", {
		    "t.yaml:5:11: probe.listen: ::1 is not a service address "
		    "(the mirror must answer on the VIP)" } },
		{ "probe:\n  listen: 0.0.0.0:2224\n  allow: 127.0.0.0/8", {
		    "t.yaml:5:11: probe.listen: 0.0.0.0 is not a service "
		    "address (the mirror must answer on the VIP)" } },
		{ "probe:\n  listen: 127.0.0.1:30998\n  allow: 127.0.0.0/8", {
		    "t.yaml:5:11: probe.listen: port 30998 is inside the media "
		    "port range 30000-30999" } },
		{ "probe:\n  listen: 127.0.0.1:2223\n  allow: 127.0.0.0/8", {
		    "t.yaml:5:11: probe.listen: 127.0.0.1:2223 is also a "
		    "control address" } },
		{ "probe:\n  listen: 127.0.0.1\n  allow: 127.0.0.0/8", {
		    "t.yaml:5:11: probe.listen: '127.0.0.1': missing ':port'" } },
		{ "probe:\n  listen: 127.0.0.1:2224\n  allow: 127.0.0.0/8\n"
		    "  rate: 10\n  enabled: yes", { "t.yaml:8:3: unknown key "
		    "'enabled' (expected one of: listen, allow, rate)" } },
	};
	char doc[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(doc, sizeof(doc), "%s%s\n", minimal, cases[i].probe);
		check_errors(doc, cases[i].want);
	}
	/* With the VIP or the ports in error, the checks against them stay
	 * quiet: one mistake, one message. */
	check_errors("service-address: 127.0.0.x\ncontrol: 127.0.0.1:2223\n"
	    "ports: 30001-30999\nprobe:\n  listen: 127.0.0.9:30010\n"
	    "  allow: 127.0.0.0/8\n", (const char *const[]){
	    "t.yaml:1:18: service-address: invalid IPv4 address '127.0.0.x'",
	    "t.yaml:3:8: ports: low end 30001 is odd (RTP uses the even port "
	    "of each pair)", NULL });
}

static void
test_err_metrics(void **state)
{
	static const struct {
		const char	*metrics;
		const char	*want;
	} cases[] = {
		{ "metrics: 127.0.0.1:9224", "t.yaml:4:10: metrics: expected a "
		    "mapping, found a scalar" },
		{ "metrics: {}", "t.yaml:4:10: metrics: missing required key "
		    "'listen'" },
		{ "metrics:\n  listen: '::1:9224'", "t.yaml:5:11: "
		    "metrics.listen: '::1:9224': IPv6 address must be in "
		    "brackets, as [2001:db8::1]:port" },
		{ "metrics:\n  listen: '[::1]9224'", "t.yaml:5:11: "
		    "metrics.listen: '[::1]9224': expected ':port' after ']'" },
	};
	char doc[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(doc, sizeof(doc), "%s%s\n", minimal, cases[i].metrics);
		check_errors(doc, (const char *const[]){ cases[i].want, NULL });
	}
}

/* Every kind of mistake at once: all reported, in one pass, in order. */
static void
test_many_errors(void **state)
{
	(void)state;
	check_errors(
	    "service-address: [198.51.100.10, '2001:db8::zz']\n"
	    "control: [127.0.0.1:2223, 127.0.0.1:2223]\n"
	    "ports: 30001-30999\n"
	    "media-timeout: 0s\n"
	    "max-calls: lots\n"
	    "latch-seq-window: 2000\n"
	    "probe:\n"
	    "  listen: 198.51.100.11:2224\n"
	    "  allow: [198.51.100.0/33]\n"
	    "  rate: -5\n"
	    "  burst: 5\n"
	    "metrics: []\n"
	    "log-level: trace\n"
	    "colour: blue\n", (const char *const[]){
	    "t.yaml:14:1: unknown key 'colour' (expected one of: "
	    "service-address, control, ports, media-timeout, max-calls, "
	    "latch-seq-window, probe, metrics, log-level, redis)",
	    "t.yaml:1:34: service-address: invalid IPv6 address "
	    "'2001:db8::zz'",
	    "t.yaml:2:27: control: 127.0.0.1:2223 listed twice",
	    "t.yaml:3:8: ports: low end 30001 is odd (RTP uses the even port "
	    "of each pair)",
	    "t.yaml:4:16: media-timeout: 0s is out of range 1s..1h",
	    "t.yaml:5:12: max-calls: 'lots' is not a number",
	    "t.yaml:6:19: latch-seq-window: 2000 is out of range 0..1000",
	    "t.yaml:11:3: unknown key 'burst' (expected one of: listen, "
	    "allow, rate)",
	    "t.yaml:9:11: probe.allow: prefix '198.51.100.0/33': length: 33 "
	    "is out of range 0..32",
	    "t.yaml:10:9: probe.rate: '-5' is not a number",
	    "t.yaml:12:10: metrics: expected a mapping, found a list",
	    "t.yaml:13:12: log-level: 'trace' is not one of: err, warn, info, "
	    "debug", NULL });
}

/* Reads a whole small file into a NUL-terminated heap buffer. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = malloc(65536);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/*
 * relay/tests/config/NAME.yaml against NAME.out: the exact text `rtprelay
 * -n -f NAME.yaml` prints ("configuration OK", or one error per line). The
 * same files run through the real binary in `make config-tests`.
 */
static void
test_config_files(void **state)
{
	struct relay_config cfg;
	struct yconf yc;
	glob_t g;
	char *want, path[512], got[8192];
	size_t i, used;
	int j, good = 0, bad = 0;

	(void)state;
	assert_int_equal(glob("relay/tests/config/*.yaml", 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++) {
		snprintf(path, sizeof(path), "%.*s.out",
		    (int)(strlen(g.gl_pathv[i]) - 5), g.gl_pathv[i]);
		if ((want = slurp(path)) == NULL)
			fail_msg("%s: no expected output %s", g.gl_pathv[i],
			    path);
		yconf_init(&yc, g.gl_pathv[i]);
		if (yconf_load_file(&yc) == 0)
			relay_config_parse(&cfg, &yc);
		used = 0;
		got[0] = '\0';
		if (yconf_nerrors(&yc) == 0)
			used = snprintf(got, sizeof(got), "configuration OK\n");
		for (j = 0; j < yconf_nerrors(&yc) && used < sizeof(got); j++)
			used += snprintf(got + used, sizeof(got) - used, "%s\n",
			    yconf_error(&yc, j));
		if (strcmp(got, want) != 0)
			fail_msg("%s:\n--- expected\n%s--- got\n%s",
			    g.gl_pathv[i], want, got);
		if (yconf_nerrors(&yc) == 0)
			good++;
		else
			bad++;
		yconf_free(&yc);
		free(want);
	}
	globfree(&g);
	assert_true(good >= 1);
	assert_true(bad >= 5);
}

static void
test_fixed_changes(void **state)
{
	struct relay_config a, b;
	char buf[128];

	(void)state;
	parse_ok("service-address: [127.0.0.1, '::1']\n"
	    "control: [127.0.0.1:2223, '[::1]:2223']\nports: 30000-30999\n"
	    "probe: {listen: 127.0.0.1:2224, allow: 127.0.0.0/8}\n"
	    "metrics: {listen: 127.0.0.1:9224}\n", &a);

	/* Reloadable keys and list order do not count. */
	parse_ok("service-address: ['::1', 127.0.0.1]\n"
	    "control: ['[::1]:2223', 127.0.0.1:2223]\nports: 30000-30999\n"
	    "probe: {listen: 127.0.0.1:2224, allow: 10.0.0.0/8, rate: 5}\n"
	    "metrics: {listen: 127.0.0.1:9224}\nmax-calls: 3\n"
	    "media-timeout: 5s\nlog-level: debug\n", &b);
	assert_int_equal(relay_config_fixed_changes(&a, &b, buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, "");

	parse_ok("service-address: 127.0.0.1\n"
	    "control: [127.0.0.1:2223, '[::1]:2225']\nports: 30000-30997\n"
	    "probe: {listen: 127.0.0.1:2225, allow: 127.0.0.0/8}\n", &b);
	assert_int_equal(relay_config_fixed_changes(&a, &b, buf, sizeof(buf)),
	    5);
	assert_string_equal(buf, "service-address, control, ports, "
	    "probe.listen, metrics.listen");
	/* A short buffer truncates the list, never the count. */
	assert_int_equal(relay_config_fixed_changes(&a, &b, buf, 10), 5);
	assert_string_equal(buf, "service-a");
	assert_int_equal(relay_config_fixed_changes(&a, &b, NULL, 0), 5);
	assert_int_equal(relay_config_fixed_changes(&b, &b, buf, sizeof(buf)),
	    0);
}

/* What relay_config_parse promises whenever it returns 0. */
static void
check_valid(const struct relay_config *cfg)
{
	int i;

	assert_true(cfg->nvip >= 1 && cfg->nvip <= RELAY_MAX_VIPS);
	if (cfg->nvip == 2)
		assert_int_not_equal(cfg->vip[0].af, cfg->vip[1].af);
	assert_true(cfg->ncontrol >= 1 && cfg->ncontrol <= RELAY_MAX_CONTROL);
	assert_true(cfg->port_min >= 1024 && cfg->port_min % 2 == 0);
	assert_true(cfg->port_max >= cfg->port_min + 3);
	assert_true(cfg->media_timeout_us >= 1000000 &&
	    cfg->media_timeout_us <= 3600000000ULL);
	assert_true(cfg->max_calls >= 1 && cfg->max_calls <= 100000);
	assert_true(cfg->latch_seq_window <= 1000);
	assert_true(cfg->probe_rate >= 1 && cfg->probe_rate <= 100000);
	assert_true(cfg->log_level <= LOG_LEVEL_DEBUG);
	if (cfg->probe_enabled) {
		struct addr a;

		assert_true(cfg->nprobe_allow >= 1 &&
		    cfg->nprobe_allow <= RELAY_MAX_PROBE_ALLOW);
		sa_to_addr(&cfg->probe_listen, &a);
		for (i = 0; i < cfg->nvip; i++)
			if (addr_eq(&cfg->vip[i], &a))
				break;
		assert_true(i < cfg->nvip);
	}
}

static void
fuzz_one(const char *doc, size_t len, int *nok)
{
	struct relay_config cfg;
	struct yconf yc;
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, doc, len);
	rc = parse_doc(&yc, &cfg, copy, len);
	assert_int_equal(rc == 0, yconf_nerrors(&yc) == 0);
	if (rc == 0) {
		check_valid(&cfg);
		(*nok)++;
	}
	yconf_free(&yc);
	free(copy);
}

static void
test_fuzz_random(void **state)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789"
	    " \t\n:-[]{},.'\"#&*!|>%@`/\\?";
	char b[256];
	size_t len, i;
	int r, nok = 0;

	(void)state;
	rng_state = UINT64_C(0x9e3779b97f4a7c15);
	for (r = 0; r < FUZZ_ROUNDS; r++) {
		len = rng() % sizeof(b);
		for (i = 0; i < len; i++)
			b[i] = r % 2 ? (char)rng() :
			    alphabet[rng() % (sizeof(alphabet) - 1)];
		fuzz_one(b, len, &nok);
	}
	assert_int_equal(nok, 0);
}

static void
test_fuzz_mutations(void **state)
{
	static const char *const tokens[] = {
		"service-address", "control", "ports", "probe", "listen",
		"allow", "rate", "metrics", "::", "[", "]", "{", "}", ",", ":",
		"\n", "  ", "-", "/", "0", "65535", "127.0.0.1", "'", "&a", "*a",
	};
	const char *tok;
	char *example, b[2048];
	size_t len, pos, tl, n;
	int r, m, nmut, nok = 0, nbad = 0, before;

	(void)state;
	if ((example = slurp(EXAMPLE)) == NULL)
		fail_msg("cannot read %s (run from the repository root)",
		    EXAMPLE);
	rng_state = UINT64_C(0x243f6a8885a308d3);
	for (r = 0; r < FUZZ_ROUNDS; r++) {
		len = strlen(example);
		memcpy(b, example, len);
		nmut = 1 + (int)(rng() % 4);
		for (m = 0; m < nmut && len > 0; m++) {
			pos = rng() % len;
			switch (rng() % 4) {
			case 0:		/* flip a byte */
				b[pos] = (char)rng();
				break;
			case 1:		/* delete a run */
				n = 1 + rng() % 16;
				if (n > len - pos)
					n = len - pos;
				memmove(b + pos, b + pos + n, len - pos - n);
				len -= n;
				break;
			case 2:		/* insert a token */
				tok = tokens[rng() % (sizeof(tokens) /
				    sizeof(tokens[0]))];
				tl = strlen(tok);
				if (len + tl >= sizeof(b))
					break;
				memmove(b + pos + tl, b + pos, len - pos);
				memcpy(b + pos, tok, tl);
				len += tl;
				break;
			default:	/* truncate */
				len = pos;
				break;
			}
		}
		before = nok;
		fuzz_one(b, len, &nok);
		if (nok == before)
			nbad++;
	}
	free(example);
	/* Both outcomes must occur, or the loop tests nothing. */
	assert_true(nok > 0);
	assert_true(nbad > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_err_document),
		cmocka_unit_test(test_err_keys),
		cmocka_unit_test(test_err_service_address),
		cmocka_unit_test(test_err_control),
		cmocka_unit_test(test_err_ports),
		cmocka_unit_test(test_err_scalars),
		cmocka_unit_test(test_err_probe),
		cmocka_unit_test(test_err_metrics),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_config_files),
		cmocka_unit_test(test_fixed_changes),
		cmocka_unit_test(test_fuzz_random),
		cmocka_unit_test(test_fuzz_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
