/*
 * Addresses, prefixes and host:port: good forms and hostile input, with the
 * exact messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "common/addr.h"

static char err[256];

static void
test_addr(void **state)
{
	struct addr a, b;
	char buf[ADDR_STRLEN];

	(void)state;
	assert_int_equal(addr_parse("198.51.100.7", &a, err, sizeof(err)), 0);
	assert_int_equal(a.af, AF_INET);
	assert_string_equal(addr_fmt(&a, buf, sizeof(buf)), "198.51.100.7");
	assert_int_equal(addr_parse("2001:DB8::1", &b, err, sizeof(err)), 0);
	assert_int_equal(b.af, AF_INET6);
	assert_string_equal(addr_fmt(&b, buf, sizeof(buf)), "2001:db8::1");
	assert_false(addr_eq(&a, &b));
	assert_int_equal(addr_parse("::ffff:198.51.100.7", &b, err,
	    sizeof(err)), 0);
	assert_false(addr_eq(&a, &b));	/* mapped is not the same family */
}

static void
expect_addr_err(const char *s, const char *msg)
{
	struct addr a;

	assert_int_equal(addr_parse(s, &a, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
}

static void
test_addr_hostile(void **state)
{
	(void)state;
	expect_addr_err("", "empty address");
	expect_addr_err("198.51.100.256", "invalid IPv4 address '198.51.100.256'");
	expect_addr_err("198.51.100", "invalid IPv4 address '198.51.100'");
	expect_addr_err("198.51.100.1 ", "invalid IPv4 address '198.51.100.1 '");
	expect_addr_err("2001:db8::g", "invalid IPv6 address '2001:db8::g'");
	expect_addr_err("2001:db8:::1", "invalid IPv6 address '2001:db8:::1'");
	expect_addr_err("1:2:3:4:5:6:7:8:9",
	    "invalid IPv6 address '1:2:3:4:5:6:7:8:9'");
	expect_addr_err("[2001:db8::1]", "invalid IPv6 address '[2001:db8::1]'");
	expect_addr_err("2001:0db8:0000:0000:0000:0000:0000:0001:0000:00",
	    "address too long (47 characters)");
}

static void
test_prefix(void **state)
{
	struct prefix p;
	struct addr a;
	char buf[64];

	(void)state;
	assert_int_equal(prefix_parse("198.51.100.0/24", &p, err,
	    sizeof(err)), 0);
	assert_string_equal(prefix_fmt(&p, buf, sizeof(buf)),
	    "198.51.100.0/24");
	addr_parse("198.51.100.200", &a, err, sizeof(err));
	assert_true(prefix_contains(&p, &a));
	addr_parse("198.51.101.1", &a, err, sizeof(err));
	assert_false(prefix_contains(&p, &a));
	assert_int_equal(prefix_parse("2001:db8::/33", &p, err, sizeof(err)),
	    0);
	addr_parse("2001:db8:7fff::1", &a, err, sizeof(err));
	assert_true(prefix_contains(&p, &a));
	addr_parse("2001:db8:8000::1", &a, err, sizeof(err));
	assert_false(prefix_contains(&p, &a));
	assert_int_equal(prefix_parse("0.0.0.0/0", &p, err, sizeof(err)), 0);
	addr_parse("203.0.113.9", &a, err, sizeof(err));
	assert_true(prefix_contains(&p, &a));
	addr_parse("2001:db8::1", &a, err, sizeof(err));
	assert_false(prefix_contains(&p, &a));	/* other family */

	assert_int_equal(prefix_parse("198.51.100.7/24", &p, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "prefix '198.51.100.7/24' has host bits set");
	assert_int_equal(prefix_parse("198.51.100.0/33", &p, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "prefix '198.51.100.0/33': length: 33 is out "
	    "of range 0..32");
	assert_int_equal(prefix_parse("198.51.100.0", &p, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "prefix '198.51.100.0' has no '/length'");
	assert_int_equal(prefix_parse("2001:db8::/", &p, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "prefix '2001:db8::/': length: empty number");
	assert_int_equal(prefix_parse("2001:db8::/64x", &p, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "prefix '2001:db8::/64x': length: '64x' is "
	    "not a number (trailing 'x')");
	assert_int_equal(prefix_parse("foo/8", &p, err, sizeof(err)), -1);
	assert_string_equal(err, "prefix 'foo/8': invalid IPv4 address 'foo'");
}

static void
test_hostport(void **state)
{
	union sockaddr_any sa, sb;
	char buf[ADDR_STRLEN];

	(void)state;
	assert_int_equal(hostport_parse("127.0.0.1:2223", &sa, err,
	    sizeof(err)), 0);
	assert_int_equal(sa.sa.sa_family, AF_INET);
	assert_int_equal(sa_port(&sa), 2223);
	assert_string_equal(sa_fmt(&sa, buf, sizeof(buf)), "127.0.0.1:2223");
	assert_int_equal(sa_len(&sa), sizeof(struct sockaddr_in));
	assert_int_equal(hostport_parse("[2001:db8::1]:65535", &sb, err,
	    sizeof(err)), 0);
	assert_int_equal(sb.sa.sa_family, AF_INET6);
	assert_string_equal(sa_fmt(&sb, buf, sizeof(buf)),
	    "[2001:db8::1]:65535");
	assert_false(sa_eq(&sa, &sb));
	sa_set_port(&sb, 9);
	assert_int_equal(sa_port(&sb), 9);
}

static void
expect_hp_err(const char *s, const char *msg)
{
	union sockaddr_any sa;

	assert_int_equal(hostport_parse(s, &sa, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
}

static void
test_hostport_hostile(void **state)
{
	(void)state;
	expect_hp_err("", "empty host:port");
	expect_hp_err("127.0.0.1", "'127.0.0.1': missing ':port'");
	expect_hp_err("127.0.0.1:", "'127.0.0.1:': port: empty number");
	expect_hp_err("127.0.0.1:0", "'127.0.0.1:0': port: 0 is out of range "
	    "1..65535");
	expect_hp_err("127.0.0.1:65536", "'127.0.0.1:65536': port: 65536 is "
	    "out of range 1..65535");
	expect_hp_err("127.0.0.1:22x", "'127.0.0.1:22x': port: '22x' is not a "
	    "number (trailing 'x')");
	expect_hp_err("2001:db8::1:80", "'2001:db8::1:80': IPv6 address must "
	    "be in brackets, as [2001:db8::1]:port");
	expect_hp_err("[2001:db8::1]80", "'[2001:db8::1]80': expected ':port' "
	    "after ']'");
	expect_hp_err("[2001:db8::1:80", "'[2001:db8::1:80': missing ']'");
	expect_hp_err("[127.0.0.1]:80", "'[127.0.0.1]:80': brackets are for "
	    "IPv6 only");
	expect_hp_err("[2001:db8::zz]:80", "'[2001:db8::zz]:80': invalid IPv6 "
	    "address '2001:db8::zz'");
	expect_hp_err("host.example:80", "'host.example:80': invalid IPv4 "
	    "address 'host.example'");
}

static void
test_fuzz(void **state)
{
	union sockaddr_any sa;
	struct prefix p;
	struct addr a;
	char s[48];
	int i, j, n;

	(void)state;
	srandom(11);
	for (i = 0; i < 10000; i++) {
		n = random() % (int)(sizeof(s) - 1);
		for (j = 0; j < n; j++)
			s[j] = "0123456789abcdef:./[]x \x80"[random() % 25];
		s[n] = '\0';
		if (addr_parse(s, &a, err, sizeof(err)) == 0)
			assert_true(a.af == AF_INET || a.af == AF_INET6);
		if (prefix_parse(s, &p, err, sizeof(err)) == 0)
			assert_true(p.len <= (p.addr.af == AF_INET ? 32 : 128));
		if (hostport_parse(s, &sa, err, sizeof(err)) == 0)
			assert_true(sa_port(&sa) >= 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_addr_hostile),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_hostport_hostile),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
