/*
 * The endpoints' SDP: exact text with and without a=rtcp-mux, read back
 * by the same parser that reads the relay's answers, for both families,
 * and refused when it does not fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/addr.h"
#include "common/ngclient.h"
#include "topology-tests/rtpmeter/sdp.h"

static struct addr
mkaddr(const char *s)
{
	struct addr a;
	char err[128];

	assert_int_equal(addr_parse(s, &a, err, sizeof(err)), 0);
	return a;
}

static void
test_plain(void **state)
{
	struct addr a = mkaddr("198.51.100.15");
	char buf[MSDP_MAX];
	int n;

	(void)state;
	n = msdp_build(buf, sizeof(buf), &a, 42000, 7, 0, 20, false);
	assert_string_equal(buf,
	    "v=0\r\n"
	    "o=- 7 1 IN IP4 198.51.100.15\r\n"
	    "s=rtpmeter\r\n"
	    "c=IN IP4 198.51.100.15\r\n"
	    "t=0 0\r\n"
	    "m=audio 42000 RTP/AVP 0\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n"
	    "a=ptime:20\r\n"
	    "a=sendrecv\r\n");
	assert_int_equal(n, (int)strlen(buf));
	assert_null(strstr(buf, "rtcp"));
}

static void
test_mux(void **state)
{
	struct addr a = mkaddr("198.51.100.15");
	union sockaddr_any sa;
	char buf[MSDP_MAX], err[128], s[ADDR_STRLEN];

	(void)state;
	assert_true(msdp_build(buf, sizeof(buf), &a, 42000, 7, 8, 1000,
	    true) > 0);
	assert_non_null(strstr(buf, "m=audio 42000 RTP/AVP 8\r\n"
	    "a=rtpmap:8 PCMA/8000\r\na=ptime:1000\r\na=rtcp-mux\r\n"));
	/* The mux attribute sits in the media section, where it applies. */
	assert_true(strstr(buf, "a=rtcp-mux") > strstr(buf, "m=audio"));
	assert_int_equal(ngc_sdp_media(buf, strlen(buf), &sa, err,
	    sizeof(err)), 0);
	assert_string_equal(sa_fmt(&sa, s, sizeof(s)), "198.51.100.15:42000");
}

static void
test_ipv6_and_limits(void **state)
{
	struct addr a = mkaddr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	union sockaddr_any sa;
	char buf[MSDP_MAX], err[128];
	int n;

	(void)state;
	n = msdp_build(buf, sizeof(buf), &a, 65535, UINT32_MAX, 8, 1000,
	    true);
	assert_true(n > 0 && n < MSDP_MAX);
	assert_non_null(strstr(buf, "c=IN IP6 2001:db8:ffff:ffff:ffff:ffff:"
	    "ffff:ffff\r\n"));
	assert_non_null(strstr(buf, "o=- 4294967295 1 IN IP6 "));
	assert_int_equal(ngc_sdp_media(buf, strlen(buf), &sa, err,
	    sizeof(err)), 0);
	assert_int_equal(sa.sa.sa_family, AF_INET6);
	assert_int_equal(sa_port(&sa), 65535);
	/* One byte short: refused, not cut. */
	assert_int_equal(msdp_build(buf, (size_t)n, &a, 65535, UINT32_MAX,
	    8, 1000, true), -1);
	assert_int_equal(msdp_build(buf, (size_t)n + 1, &a, 65535,
	    UINT32_MAX, 8, 1000, true), n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_mux),
		cmocka_unit_test(test_ipv6_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
