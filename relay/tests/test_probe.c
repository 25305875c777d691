/*
 * Unit tests for the decision part of relay/probe.c: the order of the
 * checks (ACL, then size, then rate), that only an accepted datagram costs
 * a token, prefix matching for both families, the exact size limit, the
 * burst rule and the verdict name table. The socket side is exercised on
 * loopback by test_probe_io.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "relay/probe.h"

static struct prefix allow[3];
static int nallow;

static void
add_allow(const char *s)
{
	char err[128];

	assert_int_equal(prefix_parse(s, &allow[nallow], err, sizeof(err)), 0);
	nallow++;
}

static union sockaddr_any
src(const char *s)
{
	union sockaddr_any sa;
	char err[128];

	assert_int_equal(hostport_parse(s, &sa, err, sizeof(err)), 0);
	return sa;
}

static int
setup(void **state)
{
	(void)state;
	nallow = 0;
	add_allow("198.51.100.0/24");
	add_allow("2001:db8:1::/48");
	add_allow("203.0.113.7/32");
	return 0;
}

static enum probe_verdict
classify(const char *from, size_t len, bool trunc, struct ratelimit *rl)
{
	union sockaddr_any sa = src(from);

	return probe_classify(allow, nallow, &sa, len, trunc, rl, 0);
}

static void
test_acl(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 1000, 100, 0);
	assert_int_equal(classify("198.51.100.1:5000", 10, false, &rl),
	    PROBE_REPLY);
	assert_int_equal(classify("198.51.100.255:1", 10, false, &rl),
	    PROBE_REPLY);
	assert_int_equal(classify("198.51.101.1:5000", 10, false, &rl),
	    PROBE_DROP_ACL);
	assert_int_equal(classify("203.0.113.7:9", 10, false, &rl),
	    PROBE_REPLY);
	assert_int_equal(classify("203.0.113.6:9", 10, false, &rl),
	    PROBE_DROP_ACL);
	assert_int_equal(classify("[2001:db8:1:ffff::1]:9", 10, false, &rl),
	    PROBE_REPLY);
	assert_int_equal(classify("[2001:db8:2::1]:9", 10, false, &rl),
	    PROBE_DROP_ACL);
	/* A v4-mapped source is not its IPv4 address: the mirror's socket
	 * is single-family, so this form only comes from a misconfiguration
	 * and must not slip past the list. */
	assert_int_equal(classify("[::ffff:198.51.100.1]:9", 10, false, &rl),
	    PROBE_DROP_ACL);
	/* Empty list: nothing is answered. */
	{
		union sockaddr_any sa = src("198.51.100.1:1");

		assert_int_equal(probe_classify(allow, 0, &sa, 1, false, &rl,
		    0), PROBE_DROP_ACL);
		sa.sa.sa_family = AF_UNIX;
		assert_int_equal(probe_classify(allow, nallow, &sa, 1, false,
		    &rl, 0), PROBE_DROP_ACL);
	}
}

static void
test_size(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 1000, 100, 0);
	assert_int_equal(classify("198.51.100.1:1", 0, false, &rl),
	    PROBE_REPLY);
	assert_int_equal(classify("198.51.100.1:1", PROBE_MAX_PAYLOAD, false,
	    &rl), PROBE_REPLY);
	assert_int_equal(classify("198.51.100.1:1", PROBE_MAX_PAYLOAD + 1,
	    false, &rl), PROBE_DROP_SIZE);
	assert_int_equal(classify("198.51.100.1:1", 65507, false, &rl),
	    PROBE_DROP_SIZE);
	/* The kernel cut it: whatever length is reported, it was too big. */
	assert_int_equal(classify("198.51.100.1:1", PROBE_MAX_PAYLOAD, true,
	    &rl), PROBE_DROP_SIZE);
}

static void
test_order_and_tokens(void **state)
{
	struct ratelimit rl;
	int i;

	(void)state;
	ratelimit_init(&rl, 1, 2, 0);
	/* Drops for ACL or size cost no token... */
	for (i = 0; i < 10; i++) {
		assert_int_equal(classify("203.0.113.9:1", 10, false, &rl),
		    PROBE_DROP_ACL);
		assert_int_equal(classify("198.51.100.1:1", 600, false, &rl),
		    PROBE_DROP_SIZE);
		/* ...and a foreign oversized datagram is an ACL drop. */
		assert_int_equal(classify("203.0.113.9:1", 600, true, &rl),
		    PROBE_DROP_ACL);
	}
	/* ...so both tokens are still there. */
	assert_int_equal(classify("198.51.100.1:1", 10, false, &rl),
	    PROBE_REPLY);
	assert_int_equal(classify("198.51.100.1:1", 10, false, &rl),
	    PROBE_REPLY);
	assert_int_equal(classify("198.51.100.1:1", 10, false, &rl),
	    PROBE_DROP_RATE);
	/* An empty bucket still reports ACL and size drops as such. */
	assert_int_equal(classify("203.0.113.9:1", 10, false, &rl),
	    PROBE_DROP_ACL);
	assert_int_equal(classify("198.51.100.1:1", 513, false, &rl),
	    PROBE_DROP_SIZE);
}

static void
test_refill(void **state)
{
	union sockaddr_any sa = src("198.51.100.1:1");
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 200, probe_burst(200), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(probe_classify(allow, nallow, &sa, 1, false,
		    &rl, 0), PROBE_REPLY);
	assert_int_equal(probe_classify(allow, nallow, &sa, 1, false, &rl,
	    4999), PROBE_DROP_RATE);
	assert_int_equal(probe_classify(allow, nallow, &sa, 1, false, &rl,
	    5000), PROBE_REPLY);
}

static void
test_burst(void **state)
{
	(void)state;
	assert_int_equal(probe_burst(0), 1);
	assert_int_equal(probe_burst(1), 1);
	assert_int_equal(probe_burst(9), 1);
	assert_int_equal(probe_burst(10), 1);
	assert_int_equal(probe_burst(19), 1);
	assert_int_equal(probe_burst(200), 20);
	assert_int_equal(probe_burst(100000), 10000);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(probe_verdict_name(PROBE_REPLY), "reply");
	assert_string_equal(probe_verdict_name(PROBE_DROP_ACL), "acl");
	assert_string_equal(probe_verdict_name(PROBE_DROP_SIZE), "size");
	assert_string_equal(probe_verdict_name(PROBE_DROP_RATE), "rate");
	assert_string_equal(probe_verdict_name(PROBE_VERDICT_MAX), "unknown");
	assert_string_equal(probe_verdict_name((enum probe_verdict)-1),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_acl, setup),
		cmocka_unit_test_setup(test_size, setup),
		cmocka_unit_test_setup(test_order_and_tokens, setup),
		cmocka_unit_test_setup(test_refill, setup),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
