/*
 * rtpengine's codec strip, except, offer and single codec on one m= line:
 * names with and without clock and channels, static payload types without
 * an rtpmap, payload type numbers, "all", order, and the lists that leave
 * nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "relay/sdp.h"

static const char offer[] =
    "v=0\r\n"
    "o=- 1 1 IN IP4 198.51.100.10\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.10\r\n"
    "t=0 0\r\n"
    "m=audio 4000 RTP/AVP 111 9 0 8 96 101 13\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtpmap:96 OPUS/48000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "m=image 4002 udptl t38\r\n";

static struct sdp_info info;

/* Run the ops on media 0 and return the list as "111 9 0". */
static const char *
sel(const char *const *strip, int ns, const char *const *except, int ne,
    const char *const *offr, int no, bool single)
{
	static char buf[256];
	struct sdp_codec_ops ops = { strip, ns, except, ne, offr, no, single };
	uint8_t out[SDP_MAX_FMT];
	char err[256];
	size_t n = 0;
	int i, k;

	if (sdp_parse(offer, sizeof(offer) - 1, &info, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	k = sdp_codec_select(offer, &info.media[0], &ops, out);
	if (k < 0)
		return "keep";
	buf[0] = '\0';
	for (i = 0; i < k; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%u",
		    i > 0 ? " " : "", out[i]);
	return buf;
}

#define L(...)	((const char *const[]){ __VA_ARGS__ })
#define N(...)	L(__VA_ARGS__), (int)(sizeof(L(__VA_ARGS__)) / sizeof(char *))

static void
test_strip(void **state)
{
	(void)state;
	assert_string_equal(sel(NULL, 0, NULL, 0, NULL, 0, false),
	    "111 9 0 8 96 101 13");
	/* A static PT by its RFC 3551 name, case does not matter. */
	assert_string_equal(sel(N("pcmu"), NULL, 0, NULL, 0, false),
	    "111 9 8 96 101 13");
	/* A name matches every clock and channel count... */
	assert_string_equal(sel(N("opus"), NULL, 0, NULL, 0, false),
	    "9 0 8 101 13");
	/* ...unless the spec gives them; no channel count means one. */
	assert_string_equal(sel(N("opus/48000/2"), NULL, 0, NULL, 0, false),
	    "9 0 8 96 101 13");
	assert_string_equal(sel(N("opus/48000/1"), NULL, 0, NULL, 0, false),
	    "111 9 0 8 101 13");
	assert_string_equal(sel(N("opus/16000"), NULL, 0, NULL, 0, false),
	    "111 9 0 8 96 101 13");
	/* Numbers name payload types. */
	assert_string_equal(sel(N("101", "13"), NULL, 0, NULL, 0, false),
	    "111 9 0 8 96");
	/* Nonsense names nothing. */
	assert_string_equal(sel(N("PCMX", "1x", "opus/x"), NULL, 0, NULL, 0,
	    false), "111 9 0 8 96 101 13");
	/* Everything: the caller decides what an empty list means. */
	assert_string_equal(sel(N("all"), NULL, 0, NULL, 0, false), "");
}

static void
test_except_and_offer(void **state)
{
	(void)state;
	assert_string_equal(sel(N("all"), N("PCMA", "telephone-event"), NULL,
	    0, false), "8 101");
	/* offer: kept and moved to the front, in the order given. */
	assert_string_equal(sel(NULL, 0, NULL, 0, N("PCMA", "G722"), false),
	    "8 9 111 0 96 101 13");
	assert_string_equal(sel(N("all"), NULL, 0, N("PCMA", "G722"), false),
	    "8 9");
	assert_string_equal(sel(N("full"), N("CN"), N("opus"), false),
	    "111 96 13");
}

static void
test_single(void **state)
{
	(void)state;
	/* The first real codec, with telephone-event and CN. */
	assert_string_equal(sel(NULL, 0, NULL, 0, NULL, 0, true),
	    "111 101 13");
	assert_string_equal(sel(N("opus"), NULL, 0, NULL, 0, true),
	    "9 101 13");
}

/* Not RTP (T.38 over UDPTL): left alone. */
static void
test_not_rtp(void **state)
{
	struct sdp_codec_ops ops = { L("all"), 1, NULL, 0, NULL, 0, false };
	uint8_t out[SDP_MAX_FMT];
	char err[256];

	(void)state;
	assert_int_equal(sdp_parse(offer, sizeof(offer) - 1, &info, err,
	    sizeof(err)), 0);
	assert_int_equal(sdp_codec_select(offer, &info.media[1], &ops, out),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strip),
		cmocka_unit_test(test_except_and_offer),
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_not_rtp),
	};

	return cmocka_run_group_tests_name("sdpcodec", tests, NULL, NULL);
}
