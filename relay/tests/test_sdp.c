/*
 * SDP parse and rewrite: real offers compared as whole strings, every error
 * message, the limits at their edges, output overflow, and a seeded fuzz
 * loop whose successful parses must rewrite, re-parse and rewrite again to
 * the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "relay/sdp.h"
#include "common/tests/testutil.h"

static char err[512];

/* A Kamailio-relayed offer from a phone with ICE: audio and video, CRLF. */
static const char kamailio_offer[] =
    "v=0\r\n"
    "o=- 3912345678 3912345678 IN IP4 198.51.100.10\r\n"
    "s=pjmedia\r\n"
    "b=AS:84\r\n"
    "t=0 0\r\n"
    "a=X-nat:0\r\n"
    "a=ice-options:trickle\r\n"
    "m=audio 4000 RTP/AVP 0 8 101\r\n"
    "c=IN IP4 198.51.100.10\r\n"
    "b=TIAS:64000\r\n"
    "a=rtcp:4001 IN IP4 198.51.100.10\r\n"
    "a=sendrecv\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ice-ufrag:2b5f1a7e\r\n"
    "a=ice-pwd:6c1f0e3b2a5d4c7e6b1a0f9e\r\n"
    "a=candidate:Hc63364a 1 UDP 2130706431 198.51.100.10 4000 typ host\r\n"
    "a=candidate:Scb00717 1 UDP 1694498815 203.0.113.7 4000 typ srflx "
    "raddr 198.51.100.10 rport 4000\r\n"
    "a=candidate:Hc63364a 2 UDP 2130706430 198.51.100.10 4001 typ host\r\n"
    "a=end-of-candidates\r\n"
    "m=video 4002 RTP/AVP 96 97\r\n"
    "c=IN IP4 198.51.100.10\r\n"
    "b=TIAS:256000\r\n"
    "a=rtcp:4003\r\n"
    "a=recvonly\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 profile-level-id=42e01f\r\n"
    "a=rtpmap:97 VP8/90000\r\n"
    "a=ice-ufrag:2b5f1a7e\r\n"
    "a=ice-pwd:6c1f0e3b2a5d4c7e6b1a0f9e\r\n"
    "a=candidate:Hc63364a 1 UDP 2130706431 198.51.100.10 4002 typ host\r\n"
    "a=remote-candidates:1 198.51.100.20 5000\r\n"
    "a=ice-mismatch\r\n";

static const char kamailio_rewritten[] =
    "v=0\r\n"
    "o=- 3912345678 3912345678 IN IP4 198.51.100.10\r\n"
    "s=pjmedia\r\n"
    "b=AS:84\r\n"
    "t=0 0\r\n"
    "a=X-nat:0\r\n"
    "m=audio 30000 RTP/AVP 0 8 101\r\n"
    "c=IN IP4 203.0.113.1\r\n"
    "b=TIAS:64000\r\n"
    "a=sendrecv\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=rtcp:30001\r\n"
    "m=video 30002 RTP/AVP 96 97\r\n"
    "c=IN IP4 203.0.113.1\r\n"
    "b=TIAS:256000\r\n"
    "a=recvonly\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 profile-level-id=42e01f\r\n"
    "a=rtpmap:97 VP8/90000\r\n"
    "a=rtcp:30003\r\n";

static void
set_addr(struct addr *a, const char *s)
{
	assert_int_equal(addr_parse(s, a, err, sizeof(err)), 0);
}

static void
rw_init(struct sdp_rewrite *rw, const char *addr, int nmedia)
{
	int	i;

	memset(rw, 0, sizeof(*rw));
	set_addr(&rw->addr, addr);
	rw->nmedia = nmedia;
	for (i = 0; i < nmedia; i++) {
		rw->media[i].rtp_port = (uint16_t)(30000 + 2 * i);
		rw->media[i].rtcp_port = (uint16_t)(30001 + 2 * i);
	}
}

static void
parse_ok(const char *sdp, struct sdp_info *info)
{
	if (sdp_parse(sdp, strlen(sdp), info, err, sizeof(err)) != 0)
		fail_msg("sdp_parse: %s", err);
}

/* Rewrite into a buffer of exactly SDP_REWRITE_MAX bytes; returns it. */
static const char *
rewrite_ok(const char *sdp, const struct sdp_rewrite *rw)
{
	static char	out[SDP_REWRITE_MAX];
	size_t		outlen = 12345;

	if (sdp_rewrite(sdp, strlen(sdp), rw, out, sizeof(out), &outlen, err,
	    sizeof(err)) != 0)
		fail_msg("sdp_rewrite: %s", err);
	assert_int_equal(outlen, strlen(out));
	return out;
}

static const char *
fmt(const struct addr *a)
{
	static char	buf[ADDR_STRLEN];

	assert_non_null(a);
	return addr_fmt(a, buf, sizeof(buf));
}

static void
test_kamailio_offer(void **state)
{
	struct sdp_info		 info;
	struct sdp_rewrite	 rw;
	const struct sdp_media	*m;
	unsigned int		 pt, n;

	(void)state;
	parse_ok(kamailio_offer, &info);
	assert_true(info.crlf);
	assert_false(info.has_conn);
	assert_true(info.has_ice);		/* a=ice-options at session level */
	assert_int_equal(info.dir, SDP_DIR_SENDRECV);
	assert_int_equal(info.nmedia, 2);

	m = &info.media[0];
	assert_int_equal(m->line, 8);
	assert_string_equal(m->type, "audio");
	assert_int_equal(m->port, 4000);
	assert_string_equal(m->proto, "RTP/AVP");
	assert_true(m->rtp);
	assert_int_equal(m->nfmt, 3);
	assert_true(sdp_pt_has(m, 0));
	assert_true(sdp_pt_has(m, 8));
	assert_true(sdp_pt_has(m, 101));
	for (pt = 0, n = 0; pt < 300; pt++)
		n += sdp_pt_has(m, pt);
	assert_int_equal(n, 3);
	assert_true(m->has_conn);
	assert_string_equal(fmt(&m->conn), "198.51.100.10");
	assert_string_equal(fmt(sdp_media_addr(&info, 0)), "198.51.100.10");
	assert_true(m->has_rtcp);
	assert_int_equal(m->rtcp_port, 4001);
	assert_true(m->has_rtcp_addr);
	assert_string_equal(fmt(&m->rtcp_addr), "198.51.100.10");
	assert_false(m->rtcp_mux);
	assert_true(m->has_ice);
	assert_int_equal(m->dir, SDP_DIR_SENDRECV);

	m = &info.media[1];
	assert_int_equal(m->line, 23);
	assert_string_equal(m->type, "video");
	assert_int_equal(m->port, 4002);
	assert_int_equal(m->nfmt, 2);
	assert_true(sdp_pt_has(m, 96));
	assert_true(sdp_pt_has(m, 97));
	assert_false(sdp_pt_has(m, 0));
	assert_true(m->has_rtcp);
	assert_int_equal(m->rtcp_port, 4003);
	assert_false(m->has_rtcp_addr);
	assert_true(m->has_ice);
	assert_int_equal(m->dir, SDP_DIR_RECVONLY);
	assert_string_equal(sdp_dir_name(m->dir), "recvonly");

	rw_init(&rw, "203.0.113.1", 2);
	rw.remove_ice = true;
	assert_string_equal(rewrite_ok(kamailio_offer, &rw),
	    kamailio_rewritten);

	/* The rewritten offer is itself valid and rewrites to itself. */
	parse_ok(kamailio_rewritten, &info);
	assert_false(info.has_ice);
	assert_false(info.media[0].has_ice);
	assert_int_equal(info.media[0].port, 30000);
	assert_int_equal(info.media[1].rtcp_port, 30003);
	assert_string_equal(rewrite_ok(kamailio_rewritten, &rw),
	    kamailio_rewritten);
}

/* Without remove_ice the ICE lines stay, byte for byte and in place. */
static void
test_keep_ice(void **state)
{
	static const char in[] =
	    "v=0\n"
	    "o=- 1 1 IN IP4 198.51.100.10\n"
	    "s=-\n"
	    "a=ice-lite\n"
	    "c=IN IP4 198.51.100.10\n"
	    "t=0 0\n"
	    "m=audio 4000 RTP/SAVPF 111\n"
	    "a=ice-ufrag:abcd\n"
	    "a=rtcp:4001\n"
	    "a=candidate:1 1 udp 2130706431 198.51.100.10 4000 typ host\n"
	    "a=rtpmap:111 opus/48000/2\n";
	static const char want[] =
	    "v=0\n"
	    "o=- 1 1 IN IP4 198.51.100.10\n"
	    "s=-\n"
	    "a=ice-lite\n"
	    "c=IN IP4 203.0.113.1\n"
	    "t=0 0\n"
	    "m=audio 30000 RTP/SAVPF 111\n"
	    "a=ice-ufrag:abcd\n"
	    "a=candidate:1 1 udp 2130706431 198.51.100.10 4000 typ host\n"
	    "a=rtpmap:111 opus/48000/2\n"
	    "a=rtcp:30001\n";
	static const char want_noice[] =
	    "v=0\n"
	    "o=- 1 1 IN IP4 198.51.100.10\n"
	    "s=-\n"
	    "c=IN IP4 203.0.113.1\n"
	    "t=0 0\n"
	    "m=audio 30000 RTP/SAVPF 111\n"
	    "a=rtpmap:111 opus/48000/2\n"
	    "a=rtcp:30001\n";
	struct sdp_info		info;
	struct sdp_rewrite	rw;

	(void)state;
	parse_ok(in, &info);
	assert_false(info.crlf);
	assert_true(info.has_ice);
	assert_true(info.has_conn);
	assert_false(info.media[0].has_conn);
	assert_string_equal(fmt(sdp_media_addr(&info, 0)), "198.51.100.10");
	assert_true(info.media[0].has_ice);
	rw_init(&rw, "203.0.113.1", 1);
	assert_string_equal(rewrite_ok(in, &rw), want);
	rw.remove_ice = true;
	assert_string_equal(rewrite_ok(in, &rw), want_noice);
}

/*
 * What rtpengine's options ask of the rewrite: the o= address, a hold's
 * zero address kept, a protocol and format list per media with the
 * attributes of dropped formats gone, a rejected media, the a=rtcp line
 * in its three forms, a=extmap stripped, a marker line.
 */
static void
test_rewrite_options(void **state)
{
	static const char in[] =
	    "v=0\r\n"
	    "o=alice 7 8 IN IP4 198.51.100.10\r\n"
	    "s=-\r\n"
	    "c=IN IP4 0.0.0.0\r\n"
	    "t=0 0\r\n"
	    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	    "m=audio 4000 RTP/AVPF 0 8 101\r\n"
	    "c=IN IP4 198.51.100.10\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n"
	    "a=rtpmap:8 PCMA/8000\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\n"
	    "a=fmtp:101 0-15\r\n"
	    "a=rtcp-fb:0 nack\r\n"
	    "a=rtcp-fb:* ccm fir\r\n"
	    "a=sendonly\r\n"
	    "m=video 4002 RTP/AVP 96\r\n"
	    "a=rtpmap:96 VP8/90000\r\n";
	static const char want[] =
	    "v=0\r\n"
	    "o=alice 7 8 IN IP6 2001:db8::10\r\n"
	    "s=-\r\n"
	    "c=IN IP4 0.0.0.0\r\n"
	    "t=0 0\r\n"
	    "a=rtpengine:x\r\n"
	    "m=audio 30000 RTP/AVP 101 8\r\n"
	    "c=IN IP6 2001:db8::10\r\n"
	    "a=rtpmap:8 PCMA/8000\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\n"
	    "a=fmtp:101 0-15\r\n"
	    "a=rtcp-fb:* ccm fir\r\n"
	    "a=sendonly\r\n"
	    "a=rtcp:30001 IN IP6 2001:db8::10\r\n"
	    "m=video 0 RTP/AVP 96\r\n"
	    "a=rtpmap:96 VP8/90000\r\n";
	struct sdp_info		info;
	struct sdp_rewrite	rw;
	const char		*out;
	static char		out_buf[SDP_REWRITE_MAX];
	size_t			out_len;

	(void)state;
	parse_ok(in, &info);
	assert_int_equal(info.media[0].nfmt, 3);
	assert_int_equal(info.media[0].fmt[2], 101);
	assert_int_equal(info.media[0].rtpmap[8].clock, 8000);
	assert_int_equal(info.media[0].rtpmap[8].name_len, 4);
	assert_memory_equal(in + info.media[0].rtpmap[101].name_off,
	    "telephone-event", 15);
	assert_string_equal(fmt(sdp_media_addr(&info, 0)), "198.51.100.10");

	rw_init(&rw, "2001:db8::10", 2);
	rw.replace_origin = true;
	rw.strip_extmap = true;
	rw.rtcp_attr = SDP_RTCP_FULL;
	rw.marker = "rtpengine:x";
	rw.media[0].proto = "RTP/AVP";
	rw.media[0].set_fmt = true;
	rw.media[0].nfmt = 2;
	rw.media[0].fmt[0] = 101;
	rw.media[0].fmt[1] = 8;
	rw.media[1].reject = true;
	out = rewrite_ok(in, &rw);
	assert_string_equal(out, want);
	assert_true(sdp_has_session_attr(out, strlen(out), "rtpengine:x"));
	assert_false(sdp_has_session_attr(out, strlen(out), "rtpengine:y"));
	assert_false(sdp_has_session_attr(in, strlen(in), "rtpengine:x"));
	/* Only session-level lines count as the marker. */
	assert_false(sdp_has_session_attr(in, strlen(in), "sendonly"));

	/* The zero address too, when asked; no a=rtcp at all. */
	rw_init(&rw, "203.0.113.1", 2);
	rw.replace_zero = true;
	rw.rtcp_attr = SDP_RTCP_NONE;
	out = rewrite_ok(in, &rw);
	assert_null(strstr(out, "0.0.0.0"));
	assert_null(strstr(out, "a=rtcp:"));
	assert_non_null(strstr(out, "o=alice 7 8 IN IP4 198.51.100.10\r\n"));
	assert_non_null(strstr(out, "a=extmap:1 "));

	/* A format list outside 1..SDP_MAX_FMT, or a protocol with a space,
	 * is the caller's bug: refused, nothing written. */
	rw_init(&rw, "203.0.113.1", 2);
	rw.media[0].set_fmt = true;
	rw.media[0].nfmt = 0;
	assert_int_equal(sdp_rewrite(in, strlen(in), &rw, out_buf,
	    sizeof(out_buf), &out_len, err, sizeof(err)), -1);
	assert_string_equal(err, "media 1: 0 formats to write (1..64)");
	rw_init(&rw, "203.0.113.1", 2);
	rw.media[1].proto = "RTP/AVP x";
	assert_int_equal(sdp_rewrite(in, strlen(in), &rw, out_buf,
	    sizeof(out_buf), &out_len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "media 2: protocol"));
}

/* An o= line of another shape is left as it is. */
static void
test_origin_odd(void **state)
{
	static const char in[] =
	    "v=0\no=weird\ns=-\nc=IN IP4 198.51.100.10\nt=0 0\n"
	    "m=audio 4000 RTP/AVP 0\n";
	struct sdp_rewrite	rw;

	(void)state;
	rw_init(&rw, "203.0.113.1", 1);
	rw.replace_origin = true;
	assert_non_null(strstr(rewrite_ok(in, &rw), "o=weird\n"));
}

/* LF-only input, no final line ending: LF output that ends in LF. */
static void
test_lf_only(void **state)
{
	static const char in[] =
	    "v=0\n"
	    "o=alice 2890844526 2890844526 IN IP4 198.51.100.5\n"
	    "s=\n"
	    "c=IN IP4 198.51.100.5\n"
	    "t=0 0\n"
	    "m=audio 49170 RTP/AVP 0\n"
	    "a=rtpmap:0 PCMU/8000";
	static const char want[] =
	    "v=0\n"
	    "o=alice 2890844526 2890844526 IN IP4 198.51.100.5\n"
	    "s=\n"
	    "c=IN IP4 203.0.113.1\n"
	    "t=0 0\n"
	    "m=audio 30000 RTP/AVP 0\n"
	    "a=rtpmap:0 PCMU/8000\n"
	    "a=rtcp:30001\n";
	struct sdp_info		info;
	struct sdp_rewrite	rw;

	(void)state;
	parse_ok(in, &info);
	assert_false(info.crlf);
	assert_int_equal(info.nmedia, 1);
	assert_int_equal(info.media[0].port, 49170);
	rw_init(&rw, "203.0.113.1", 1);
	assert_string_equal(rewrite_ok(in, &rw), want);
}

/*
 * Mixed endings take the first line's style; trailing blank lines are
 * dropped; runs of spaces and a "/1" count on m= survive the rewrite.
 */
static void
test_mixed_endings(void **state)
{
	static const char in[] =
	    "v=0\r\n"
	    "o=- 1 1 IN IP4 198.51.100.5\n"
	    "s=-\r\n"
	    "t=0 0\n"
	    "m=audio  00049170/1  RTP/AVP  0 8 \n"
	    "c=IN IP4 198.51.100.5\r\n"
	    "\r\n\n\r\n";
	static const char want[] =
	    "v=0\r\n"
	    "o=- 1 1 IN IP4 198.51.100.5\r\n"
	    "s=-\r\n"
	    "t=0 0\r\n"
	    "m=audio  30000/1  RTP/AVP  0 8 \r\n"
	    "c=IN IP4 203.0.113.1\r\n"
	    "a=rtcp:30001\r\n";
	struct sdp_info		info;
	struct sdp_rewrite	rw;

	(void)state;
	parse_ok(in, &info);
	assert_true(info.crlf);
	assert_int_equal(info.media[0].port, 49170);
	assert_int_equal(info.media[0].nfmt, 2);
	rw_init(&rw, "203.0.113.1", 1);
	assert_string_equal(rewrite_ok(in, &rw), want);
}

static void
test_ipv6(void **state)
{
	static const char in[] =
	    "v=0\r\n"
	    "o=- 7 7 IN IP6 2001:db8::10\r\n"
	    "s=-\r\n"
	    "c=IN IP6 2001:DB8:0:0::10\r\n"
	    "t=0 0\r\n"
	    "m=audio 6000 RTP/AVP 9\r\n"
	    "a=rtcp:6001 IN IP6 2001:db8::10\r\n"
	    "m=audio 6002 RTP/AVP 0\r\n"
	    "c=IN IP4 198.51.100.7\r\n";
	static const char want6[] =
	    "v=0\r\n"
	    "o=- 7 7 IN IP6 2001:db8::10\r\n"
	    "s=-\r\n"
	    "c=IN IP6 2001:db8::1\r\n"
	    "t=0 0\r\n"
	    "m=audio 30000 RTP/AVP 9\r\n"
	    "a=rtcp:30001\r\n"
	    "m=audio 30002 RTP/AVP 0\r\n"
	    "c=IN IP6 2001:db8::1\r\n"
	    "a=rtcp:30003\r\n";
	static const char want4[] =
	    "v=0\r\n"
	    "o=- 7 7 IN IP6 2001:db8::10\r\n"
	    "s=-\r\n"
	    "c=IN IP4 203.0.113.1\r\n"
	    "t=0 0\r\n"
	    "m=audio 30000 RTP/AVP 9\r\n"
	    "a=rtcp:30001\r\n"
	    "m=audio 30002 RTP/AVP 0\r\n"
	    "c=IN IP4 203.0.113.1\r\n"
	    "a=rtcp:30003\r\n";
	struct sdp_info		info;
	struct sdp_rewrite	rw;

	(void)state;
	parse_ok(in, &info);
	assert_true(info.has_conn);
	assert_int_equal(info.conn.af, AF_INET6);
	assert_string_equal(fmt(&info.conn), "2001:db8::10");
	assert_string_equal(fmt(sdp_media_addr(&info, 0)), "2001:db8::10");
	assert_string_equal(fmt(&info.media[0].rtcp_addr), "2001:db8::10");
	assert_string_equal(fmt(sdp_media_addr(&info, 1)), "198.51.100.7");
	assert_null(sdp_media_addr(&info, 2));
	assert_null(sdp_media_addr(&info, -1));
	rw_init(&rw, "2001:db8::1", 2);
	assert_string_equal(rewrite_ok(in, &rw), want6);
	rw_init(&rw, "203.0.113.1", 2);
	assert_string_equal(rewrite_ok(in, &rw), want4);
}

/*
 * A rejected stream keeps port 0 and its own a=rtcp lines, gets no relay
 * RTCP line, needs no connection address, and its rewrite ports are unused.
 */
static void
test_rejected(void **state)
{
	static const char in[] =
	    "v=0\r\n"
	    "o=- 1 2 IN IP4 198.51.100.10\r\n"
	    "s=-\r\n"
	    "t=0 0\r\n"
	    "m=audio 4000 RTP/AVP 0\r\n"
	    "c=IN IP4 198.51.100.10\r\n"
	    "a=rtcp:4001\r\n"
	    "m=video 0 RTP/AVP 96\r\n"
	    "a=rtcp:4003\r\n"
	    "a=rtcp-mux\r\n"
	    "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	    "c=IN IP4 198.51.100.10\r\n";
	static const char want[] =
	    "v=0\r\n"
	    "o=- 1 2 IN IP4 198.51.100.10\r\n"
	    "s=-\r\n"
	    "t=0 0\r\n"
	    "m=audio 30000 RTP/AVP 0\r\n"
	    "c=IN IP4 203.0.113.1\r\n"
	    "a=rtcp:30001\r\n"
	    "m=video 0 RTP/AVP 96\r\n"
	    "a=rtcp:4003\r\n"
	    "a=rtcp-mux\r\n"
	    "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	    "c=IN IP4 203.0.113.1\r\n";
	struct sdp_info		info;
	struct sdp_rewrite	rw;

	(void)state;
	parse_ok(in, &info);
	assert_int_equal(info.nmedia, 3);
	assert_int_equal(info.media[1].port, 0);
	assert_null(sdp_media_addr(&info, 1));
	assert_false(info.media[2].rtp);
	assert_int_equal(info.media[2].nfmt, 1);
	assert_string_equal(info.media[2].proto, "UDP/DTLS/SCTP");
	rw_init(&rw, "203.0.113.1", 3);
	rw.media[1].rtp_port = 0;		/* nothing allocated */
	rw.media[1].rtcp_port = 0;
	assert_string_equal(rewrite_ok(in, &rw), want);
}

/* rtcp-mux offered: kept as a=rtcp:<rtp port> + a=rtcp-mux, or dropped. */
static void
test_rtcp_mux(void **state)
{
	static const char in[] =
	    "v=0\r\n"
	    "o=- 1 1 IN IP4 198.51.100.10\r\n"
	    "s=-\r\n"
	    "c=IN IP4 198.51.100.10\r\n"
	    "t=0 0\r\n"
	    "a=rtcp-mux\r\n"
	    "a=rtcp:9\r\n"
	    "a=sendonly\r\n"
	    "m=audio 4000 UDP/TLS/RTP/SAVPF 111 0\r\n"
	    "a=rtcp-mux\r\n"
	    "a=rtcp:4000\r\n"
	    "a=rtpmap:111 opus/48000/2\r\n"
	    "b=AS:64\r\n";
	static const char want_mux[] =
	    "v=0\r\n"
	    "o=- 1 1 IN IP4 198.51.100.10\r\n"
	    "s=-\r\n"
	    "c=IN IP4 203.0.113.1\r\n"
	    "t=0 0\r\n"
	    "a=sendonly\r\n"
	    "m=audio 30000 UDP/TLS/RTP/SAVPF 111 0\r\n"
	    "a=rtpmap:111 opus/48000/2\r\n"
	    "b=AS:64\r\n"
	    "a=rtcp:30000\r\n"
	    "a=rtcp-mux\r\n";
	static const char want_nomux[] =
	    "v=0\r\n"
	    "o=- 1 1 IN IP4 198.51.100.10\r\n"
	    "s=-\r\n"
	    "c=IN IP4 203.0.113.1\r\n"
	    "t=0 0\r\n"
	    "a=sendonly\r\n"
	    "m=audio 30000 UDP/TLS/RTP/SAVPF 111 0\r\n"
	    "a=rtpmap:111 opus/48000/2\r\n"
	    "b=AS:64\r\n"
	    "a=rtcp:30001\r\n";
	struct sdp_info		info;
	struct sdp_rewrite	rw;

	(void)state;
	parse_ok(in, &info);
	assert_true(info.media[0].rtcp_mux);
	assert_true(info.media[0].rtp);
	assert_true(info.media[0].has_rtcp);
	assert_int_equal(info.media[0].rtcp_port, 4000);
	assert_int_equal(info.dir, SDP_DIR_SENDONLY);
	assert_int_equal(info.media[0].dir, SDP_DIR_SENDONLY);
	rw_init(&rw, "203.0.113.1", 1);
	rw.media[0].rtcp_mux = true;
	rw.media[0].rtcp_port = 0;		/* unused with mux */
	assert_string_equal(rewrite_ok(in, &rw), want_mux);
	rw_init(&rw, "203.0.113.1", 1);
	assert_string_equal(rewrite_ok(in, &rw), want_nomux);
}

/* A ZRTP offer's first media. */
#define ZRTP_HEAD \
	    "v=0\n" \
	    "o=- 8 1 IN IP4 198.51.100.20\n" \
	    "s=-\n" \
	    "c=IN IP4 198.51.100.20\n" \
	    "t=0 0\n" \
	    "m=audio 5000 RTP/AVP 0\n" \
	    "a=zrtp-hash:1.10 fe30efd02423cb054e50efd0248742ac7a52c8f91bc2" \
	    "df881ae642c371ba46df\n" \
	    "a=setup:bogus\n"

/* DTLS-SRTP and ZRTP: what the relay learns, and the lines it keeps. */
static void
test_dtls_zrtp(void **state)
{
	static const char webrtc[] =
	    "v=0\r\n"
	    "o=- 7 2 IN IP4 198.51.100.10\r\n"
	    "s=-\r\n"
	    "t=0 0\r\n"
	    "a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:"
	    "5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF\r\n"
	    "a=setup:actpass\r\n"
	    "m=audio 4000 UDP/TLS/RTP/SAVPF 111\r\n"
	    "c=IN IP4 198.51.100.10\r\n"
	    "a=setup:active\r\n"
	    "a=rtcp-mux\r\n"
	    "a=rtpmap:111 opus/48000/2\r\n"
	    "m=video 4002 RTP/SAVPF 96\r\n"
	    "c=IN IP4 198.51.100.10\r\n"
	    "a=rtpmap:96 VP8/90000\r\n"
	    "m=image 4004 udptl t38\r\n"
	    "c=IN IP4 198.51.100.10\r\n"
	    "a=rtcp:4005\r\n"
	    "a=T38FaxVersion:0\r\n";
	static const char webrtc_rewritten[] =
	    "v=0\r\n"
	    "o=- 7 2 IN IP4 198.51.100.10\r\n"
	    "s=-\r\n"
	    "t=0 0\r\n"
	    "a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:"
	    "5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF\r\n"
	    "a=setup:actpass\r\n"
	    "m=audio 30000 UDP/TLS/RTP/SAVPF 111\r\n"
	    "c=IN IP4 203.0.113.1\r\n"
	    "a=setup:active\r\n"
	    "a=rtpmap:111 opus/48000/2\r\n"
	    "a=rtcp:30000\r\n"
	    "a=rtcp-mux\r\n"
	    "m=video 30002 RTP/SAVPF 96\r\n"
	    "c=IN IP4 203.0.113.1\r\n"
	    "a=rtpmap:96 VP8/90000\r\n"
	    "a=rtcp:30003\r\n"
	    "m=image 30004 udptl t38\r\n"
	    "c=IN IP4 203.0.113.1\r\n"
	    "a=T38FaxVersion:0\r\n";
	static const char zrtp[] =
	    ZRTP_HEAD
	    "m=audio 5002 udp/tls/rtp/savp 0\n"
	    "m=application 5004 UDP/DTLS/SCTP webrtc-datachannel\n"
	    "m=audio 5006 RTP/AVP 8\n"
	    "a=setup:passive\n";
	static const char zrtp_one[] = ZRTP_HEAD;
	static const char zrtp_one_rewritten[] =
	    "v=0\n"
	    "o=- 8 1 IN IP4 198.51.100.20\n"
	    "s=-\n"
	    "c=IN IP4 203.0.113.1\n"
	    "t=0 0\n"
	    "m=audio 30000 RTP/AVP 0\n"
	    "a=zrtp-hash:1.10 fe30efd02423cb054e50efd0248742ac7a52c8f91bc2"
	    "df881ae642c371ba46df\n"
	    "a=setup:bogus\n"
	    "a=rtcp:30001\n";
	struct sdp_info		info;
	struct sdp_rewrite	rw;
	const struct sdp_media	*m = info.media;

	(void)state;
	parse_ok(webrtc, &info);
	assert_true(info.fingerprint);
	assert_int_equal(info.setup, SDP_SETUP_ACTPASS);
	assert_int_equal(info.nmedia, 3);
	/* UDP/TLS proto and the session's fingerprint. */
	assert_true(m[0].dtls);
	assert_true(m[0].fingerprint);
	assert_true(m[0].rtp);
	assert_int_equal(m[0].setup, SDP_SETUP_ACTIVE);
	/* A session-level fingerprint covers every m= line. */
	assert_true(m[1].dtls);
	assert_true(m[1].rtp);
	assert_int_equal(m[1].setup, SDP_SETUP_ACTPASS);
	assert_false(m[2].rtp);
	assert_false(m[0].zrtp_hash);
	rw_init(&rw, "203.0.113.1", 3);
	rw.media[0].rtcp_mux = true;
	assert_string_equal(rewrite_ok(webrtc, &rw), webrtc_rewritten);

	parse_ok(zrtp, &info);
	assert_false(info.fingerprint);
	assert_false(info.zrtp_hash);
	assert_int_equal(info.setup, SDP_SETUP_NONE);
	assert_true(m[0].zrtp_hash);
	assert_false(m[0].dtls);
	assert_false(m[0].fingerprint);
	assert_int_equal(m[0].setup, SDP_SETUP_NONE);	/* "bogus" */
	/* The proto alone, in any case; SCTP over DTLS is not RTP. */
	assert_true(m[1].dtls);
	assert_true(m[1].rtp);
	assert_false(m[1].zrtp_hash);
	assert_true(m[2].dtls);
	assert_false(m[2].rtp);
	assert_false(m[3].dtls);
	assert_int_equal(m[3].setup, SDP_SETUP_PASSIVE);
	/* The first media alone, so the lines kept are easy to see. */
	rw_init(&rw, "203.0.113.1", 1);
	assert_string_equal(rewrite_ok(zrtp_one, &rw), zrtp_one_rewritten);

	/* Session-level zrtp-hash and setup reach every media; a bare or
	 * empty a=setup reads as none. */
	parse_ok("v=0\r\ns=-\r\nc=IN IP4 198.51.100.1\r\na=zrtp-hash:x\r\n"
	    "a=setup:holdconn\r\nm=audio 1 RTP/AVP 0\r\nm=audio 3 RTP/AVP 0\r\n"
	    "a=setup\r\nm=audio 5 RTP/AVP 0\r\na=setup:\r\n", &info);
	assert_true(info.zrtp_hash);
	assert_true(m[0].zrtp_hash && m[1].zrtp_hash && m[2].zrtp_hash);
	assert_int_equal(m[0].setup, SDP_SETUP_HOLDCONN);
	assert_int_equal(m[1].setup, SDP_SETUP_NONE);
	assert_int_equal(m[2].setup, SDP_SETUP_NONE);
	assert_false(m[0].dtls);
	/* A media-level fingerprint is that media's only. */
	parse_ok("v=0\r\ns=-\r\nc=IN IP4 198.51.100.1\r\n"
	    "m=audio 1 RTP/SAVPF 0\r\na=fingerprint:sha-1 00:11\r\n"
	    "m=audio 3 RTP/SAVPF 0\r\n", &info);
	assert_true(m[0].dtls && m[0].fingerprint);
	assert_false(m[1].dtls || m[1].fingerprint);
	assert_false(info.fingerprint);
}

static void
test_helpers(void **state)
{
	struct sdp_media	m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.pt_mask[0] = UINT64_C(1) << 63;
	m.pt_mask[1] = UINT64_C(1) << 63;
	assert_true(sdp_pt_has(&m, 63));
	assert_true(sdp_pt_has(&m, 127));
	assert_false(sdp_pt_has(&m, 64));
	assert_false(sdp_pt_has(&m, 128));
	assert_false(sdp_pt_has(&m, 191));
	assert_string_equal(sdp_dir_name(SDP_DIR_SENDRECV), "sendrecv");
	assert_string_equal(sdp_dir_name(SDP_DIR_SENDONLY), "sendonly");
	assert_string_equal(sdp_dir_name(SDP_DIR_RECVONLY), "recvonly");
	assert_string_equal(sdp_dir_name(SDP_DIR_INACTIVE), "inactive");
	assert_string_equal(sdp_dir_name(SDP_DIR_MAX), "unknown");
	assert_string_equal(sdp_setup_name(SDP_SETUP_ACTPASS), "actpass");
	assert_string_equal(sdp_setup_name(SDP_SETUP_NONE), "none");
	assert_string_equal(sdp_setup_name(SDP_SETUP_MAX), "unknown");
}

/* Parse from an exactly sized heap copy, so ASan sees any read past len. */
static int
parse_exact(const char *s, size_t len, struct sdp_info *info)
{
	char	*buf = malloc(len > 0 ? len : 1);
	int	 rc;

	assert_non_null(buf);
	memcpy(buf, s, len);
	rc = sdp_parse(buf, len, info, err, sizeof(err));
	free(buf);
	return rc;
}

static void
expect_err_len(const char *sdp, size_t len, const char *msg)
{
	struct sdp_info		info;
	struct sdp_rewrite	rw;
	char			out[64];
	size_t			outlen = 99;

	if (parse_exact(sdp, len, &info) != -1)
		fail_msg("parse of '%s' succeeded, wanted '%s'", sdp, msg);
	assert_string_equal(err, msg);
	/* rewrite reports the same parse error */
	rw_init(&rw, "203.0.113.1", 0);
	assert_int_equal(sdp_rewrite(sdp, len, &rw, out, sizeof(out), &outlen,
	    err, sizeof(err)), -1);
	assert_string_equal(err, msg);
	assert_int_equal(outlen, 0);
	assert_string_equal(out, "");
}

static void
expect_err(const char *sdp, const char *msg)
{
	expect_err_len(sdp, strlen(sdp), msg);
}

#define HDR	"v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\n"	/* lines 1-3 */

static void
test_errors(void **state)
{
	(void)state;
	expect_err("", "SDP is empty");
	expect_err("\r\n\n", "SDP is empty");
	expect_err("v=1\n", "line 1: SDP must start with v=0");
	expect_err("v=0 \n", "line 1: SDP must start with v=0");
	expect_err("o=- 1 1 IN IP4 198.51.100.1\nv=0\n",
	    "line 1: SDP must start with v=0");
	expect_err("\nv=0\n", "line 1: empty line");
	expect_err(HDR "\nt=0 0\n", "line 4: empty line");
	expect_err_len(HDR "s=a\0b\n", sizeof(HDR "s=a\0b\n") - 1,
	    "line 4: NUL byte");
	expect_err(HDR "s=a\rb\n", "line 4: CR not followed by LF");
	expect_err(HDR "t=0 0\r", "line 4: CR not followed by LF");
	expect_err(HDR "hello\n", "line 4: not a <type>=<value> line 'hello'");
	expect_err(HDR "C=IN IP4 198.51.100.1\n",
	    "line 4: not a <type>=<value> line 'C=IN IP4 198.51.100.1'");
	expect_err(HDR "x\n", "line 4: not a <type>=<value> line 'x'");
	expect_err(HDR "=x\n", "line 4: not a <type>=<value> line '=x'");
	expect_err(HDR "v=0\n", "line 4: second v= line");

	/* c= */
	expect_err(HDR "c=IN IP4 300.1.1.1\n",
	    "line 4: invalid c= line 'IN IP4 300.1.1.1': "
	    "invalid IPv4 address '300.1.1.1'");
	expect_err(HDR "c=IN IP4 2001:db8::1\n",
	    "line 4: invalid c= line 'IN IP4 2001:db8::1': "
	    "invalid IPv4 address '2001:db8::1'");
	expect_err(HDR "c=IN IP6 198.51.100.1\n",
	    "line 4: invalid c= line 'IN IP6 198.51.100.1': "
	    "invalid IPv6 address '198.51.100.1'");
	expect_err(HDR "c=IN IP6 2001:db8::g\n",
	    "line 4: invalid c= line 'IN IP6 2001:db8::g': "
	    "invalid IPv6 address '2001:db8::g'");
	expect_err(HDR "c=IN IP4 host.example.com\n",
	    "line 4: invalid c= line 'IN IP4 host.example.com': "
	    "invalid IPv4 address 'host.example.com'");
	expect_err(HDR "c=IN IP4 233.252.0.1/127\n",
	    "line 4: invalid c= line 'IN IP4 233.252.0.1/127': "
	    "multicast suffix '/127' not supported");
	expect_err(HDR "c=IN IP6 ff0e::101/3\n",
	    "line 4: invalid c= line 'IN IP6 ff0e::101/3': "
	    "multicast suffix '/3' not supported");
	expect_err(HDR "c=ATM NSAP 47.0005\n",
	    "line 4: invalid c= line 'ATM NSAP 47.0005': "
	    "network type must be IN");
	expect_err(HDR "c=\n",
	    "line 4: invalid c= line '': network type must be IN");
	expect_err(HDR "c=IN\n",
	    "line 4: invalid c= line 'IN': missing address type");
	expect_err(HDR "c=IN IPX 198.51.100.1\n",
	    "line 4: invalid c= line 'IN IPX 198.51.100.1': "
	    "address type must be IP4 or IP6");
	expect_err(HDR "c=IN ip4 198.51.100.1\n",
	    "line 4: invalid c= line 'IN ip4 198.51.100.1': "
	    "address type must be IP4 or IP6");
	expect_err(HDR "c=IN IP4 \n",
	    "line 4: invalid c= line 'IN IP4 ': missing address");
	expect_err(HDR "c=IN IP4 198.51.100.1 x\n",
	    "line 4: invalid c= line 'IN IP4 198.51.100.1 x': "
	    "unexpected 'x' after the address");
	expect_err(HDR "c=IN IP6 "
	    "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000\n",
	    "line 4: invalid c= line 'IN IP6 0000:0000:0000:0000:0000:0000:"
	    "0000:0000:0000:0000:0000:00...': invalid IPv6 address "
	    "'0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000'");
	expect_err(HDR "c=IN IP4 "
	    "1111111111222222222233333333334444444444555555555566666666667777\n",
	    "line 4: invalid c= line 'IN IP4 111111111122222222223333333333"
	    "444444444455555555556666666...': invalid IPv4 address "
	    "'1111111111222222222233333333334444444444555555555566666666667777'");
	expect_err(HDR "c=IN IP4 198.51.100.1\nc=IN IP4 198.51.100.2\n",
	    "line 5: duplicate c= line");
	expect_err(HDR "m=audio 4000 RTP/AVP 0\nc=IN IP4 198.51.100.1\n"
	    "c=IN IP4 198.51.100.1\n", "line 6: duplicate c= line");

	/* m= */
	expect_err(HDR "m=\n", "line 4: m= line has no media type");
	expect_err(HDR "m=audio\n", "line 4: m= line has no port");
	expect_err(HDR "m=audio 4000\n", "line 4: m= line has no protocol");
	expect_err(HDR "m=audio 4000 RTP/AVP\n", "line 4: m= line has no formats");
	expect_err(HDR "m=audio 4000 RTP/AVP   \n",
	    "line 4: m= line has no formats");
	expect_err(HDR "t=0 0\nm=audio 99999 RTP/AVP 0\n",
	    "line 5: m= port '99999' out of range 0..65535");
	expect_err(HDR "m=audio 65536 RTP/AVP 0\n",
	    "line 4: m= port '65536' out of range 0..65535");
	expect_err(HDR "m=audio 123456789012345678901234567890 RTP/AVP 0\n",
	    "line 4: m= port '123456789012345678901234567890' out of range "
	    "0..65535");
	expect_err(HDR "m=audio abc RTP/AVP 0\n",
	    "line 4: m= port 'abc' is not a number");
	expect_err(HDR "m=audio -1 RTP/AVP 0\n",
	    "line 4: m= port '-1' is not a number");
	expect_err(HDR "m=audio /2 RTP/AVP 0\n",
	    "line 4: m= port '' is not a number");
	expect_err(HDR "m=audio 4000/2 RTP/AVP 0\n",
	    "line 4: m= port count '/2' not supported (one port per media)");
	expect_err(HDR "m=audio 4000/ RTP/AVP 0\n",
	    "line 4: m= port count '/' not supported (one port per media)");
	expect_err(HDR "m=audio 4000/1/1 RTP/AVP 0\n",
	    "line 4: m= port count '/1/1' not supported (one port per media)");
	expect_err(HDR "m=audio 4000 RTP/AVP 0 128\n",
	    "line 4: m= payload type '128' out of range 0..127");
	expect_err(HDR "m=audio 4000 rtp/savpf 0 opus\n",
	    "line 4: m= payload type 'opus' is not a number");
	expect_err(HDR "m=audiovideotext12 4000 RTP/AVP 0\n",
	    "line 4: m= media type 'audiovideotext12' longer than 15 bytes");
	expect_err(HDR "m=audio 4000 UDP/TLS/RTP/SAVPF/EXTRA/EXTRA/XY 0\n",
	    "line 4: m= protocol 'UDP/TLS/RTP/SAVPF/EXTRA/EXTRA/XY' longer than "
	    "31 bytes");
	expect_err(HDR "c=IN IP4 198.51.100.1\n"
	    "m=audio 1 RTP/AVP 0\nm=audio 2 RTP/AVP 0\nm=audio 3 RTP/AVP 0\n"
	    "m=audio 4 RTP/AVP 0\nm=audio 5 RTP/AVP 0\nm=audio 6 RTP/AVP 0\n"
	    "m=audio 7 RTP/AVP 0\nm=audio 8 RTP/AVP 0\nm=audio 9 RTP/AVP 0\n",
	    "line 13: more than 8 m= sections");
	expect_err("v=0\ns=-\nm=audio 1 RTP/AVP 0\nm=audio 2 RTP/AVP 0\n"
	    "m=audio 0 RTP/AVP 0\nm=audio 3 RTP/AVP 0\nm=audio 4 RTP/AVP 0\n"
	    "m=audio 5 RTP/AVP 0\nm=audio 6 RTP/AVP 0\nm=audio 7 RTP/AVP 0\n"
	    "m=audio 8 RTP/AVP 0\n", "line 11: more than 8 m= sections");

	/* a=rtcp */
	expect_err(HDR "m=audio 4000 RTP/AVP 0\na=rtcp\n",
	    "line 5: a=rtcp without a port");
	expect_err(HDR "m=audio 4000 RTP/AVP 0\na=rtcp:\n",
	    "line 5: a=rtcp port '' is not a number");
	expect_err(HDR "m=audio 4000 RTP/AVP 0\na=rtcp:x1\n",
	    "line 5: a=rtcp port 'x1' is not a number");
	expect_err(HDR "m=audio 4000 RTP/AVP 0\na=rtcp:0\n",
	    "line 5: a=rtcp port '0' out of range 1..65535");
	expect_err(HDR "m=audio 4000 RTP/AVP 0\na=rtcp:70000\n",
	    "line 5: a=rtcp port '70000' out of range 1..65535");
	expect_err(HDR "m=audio 4000 RTP/AVP 0\na=rtcp:4001 IN IP4 1.2.3\n",
	    "line 5: invalid a=rtcp address 'IN IP4 1.2.3': "
	    "invalid IPv4 address '1.2.3'");
	expect_err(HDR "m=audio 4000 RTP/AVP 0\na=rtcp:4001 \n",
	    "line 5: invalid a=rtcp address '': network type must be IN");
	expect_err(HDR "m=audio 4000 RTP/AVP 0\na=rtcp:4001\na=rtcp:4001\n",
	    "line 6: duplicate a=rtcp line");

	/* connection address */
	expect_err(HDR "t=0 0\nm=audio 4000 RTP/AVP 0\n"
	    "c=IN IP4 198.51.100.1\nb=AS:64\na=sendrecv\n"
	    "m=video 4002 RTP/AVP 96\na=rtpmap:96 VP8/90000\n",
	    "media 2 (line 9) has no connection address");
	expect_err(HDR "m=audio 4000 RTP/AVP 0\n",
	    "media 1 (line 4) has no connection address");

	/* error messages quote at most 64 bytes, non-printables as '?' */
	expect_err(HDR "hello\x01\x7f\xff"
	    "0123456789012345678901234567890123456789012345678901234567\n",
	    "line 4: not a <type>=<value> line 'hello???"
	    "01234567890123456789012345678901234567890123456789012345...'");
}

static void
pad_line(char *buf, size_t *len, size_t n)
{
	/* one "a=xxx...x\n" line of n bytes, ending included */
	buf[(*len)++] = 'a';
	buf[(*len)++] = '=';
	memset(buf + *len, 'x', n - 3);
	*len += n - 3;
	buf[(*len)++] = '\n';
}

static void
test_limits(void **state)
{
	static char	buf[SDP_MAX_LEN + 64];
	struct sdp_info	info;
	size_t		len;

	(void)state;
	/* SDP_MAX_LEN exactly is fine, one more byte is not */
	len = 0;
	memcpy(buf, "v=0\n", 4);
	len = 4;
	while (SDP_MAX_LEN - len > 1000)
		pad_line(buf, &len, 1000);
	pad_line(buf, &len, SDP_MAX_LEN - len);
	assert_int_equal(len, SDP_MAX_LEN);
	assert_int_equal(parse_exact(buf, len, &info), 0);
	buf[len - 1] = 'x';
	buf[len++] = '\n';
	assert_int_equal(parse_exact(buf, len, &info), -1);
	assert_string_equal(err, "SDP longer than 16384 bytes");

	/* a 1024-byte line is fine (with either ending), 1025 is not */
	len = 4;
	pad_line(buf, &len, SDP_MAX_LINE + 1);
	assert_int_equal(parse_exact(buf, len, &info), 0);
	len = 4;
	pad_line(buf, &len, SDP_MAX_LINE + 1);
	buf[len - 1] = '\r';
	buf[len++] = '\n';
	assert_int_equal(parse_exact(buf, len, &info), 0);
	len = 4;
	pad_line(buf, &len, SDP_MAX_LINE + 2);
	assert_int_equal(parse_exact(buf, len, &info), -1);
	assert_string_equal(err, "line 2: longer than 1024 bytes");
	/* also when it is the last line and has no ending */
	assert_int_equal(parse_exact(buf, len - 1, &info), -1);
	assert_string_equal(err, "line 2: longer than 1024 bytes");

	/* eight m= sections are fine */
	parse_ok("v=0\ns=-\nc=IN IP4 198.51.100.1\n"
	    "m=audio 1 RTP/AVP 0\nm=audio 2 RTP/AVP 0\nm=audio 3 RTP/AVP 0\n"
	    "m=audio 4 RTP/AVP 0\nm=audio 5 RTP/AVP 0\nm=audio 6 RTP/AVP 0\n"
	    "m=audio 7 RTP/AVP 0\nm=audio 65535 RTP/AVP 0 127\n", &info);
	assert_int_equal(info.nmedia, 8);
	assert_int_equal(info.media[7].port, 65535);
	assert_true(sdp_pt_has(&info.media[7], 127));

	/* a bare v=0 is a valid (if useless) body with no media */
	parse_ok("v=0", &info);
	assert_int_equal(info.nmedia, 0);
	assert_false(info.crlf);
	parse_ok("v=0\r\n", &info);
	assert_true(info.crlf);
}

static void
test_rewrite_errors(void **state)
{
	static const char in[] =
	    "v=0\r\n"
	    "o=- 1 1 IN IP4 198.51.100.10\r\n"
	    "s=-\r\n"
	    "c=IN IP4 198.51.100.10\r\n"
	    "t=0 0\r\n"
	    "m=audio 4000 RTP/AVP 0\r\n"
	    "m=video 4002 RTP/AVP 96\r\n";
	static const char want[] =
	    "v=0\r\n"
	    "o=- 1 1 IN IP4 198.51.100.10\r\n"
	    "s=-\r\n"
	    "c=IN IP4 203.0.113.1\r\n"
	    "t=0 0\r\n"
	    "m=audio 30000 RTP/AVP 0\r\n"
	    "a=rtcp:30001\r\n"
	    "m=video 30002 RTP/AVP 96\r\n"
	    "a=rtcp:30003\r\n";
	struct sdp_rewrite	 rw;
	char			 out[sizeof(want) + 8], *exact;
	size_t			 outlen, cap;

	(void)state;
	rw_init(&rw, "203.0.113.1", 1);
	assert_int_equal(sdp_rewrite(in, strlen(in), &rw, out, sizeof(out),
	    &outlen, err, sizeof(err)), -1);
	assert_string_equal(err, "rewrite has ports for 1 media, SDP has 2");

	rw_init(&rw, "203.0.113.1", 2);
	rw.addr.af = 0;
	assert_int_equal(sdp_rewrite(in, strlen(in), &rw, out, sizeof(out),
	    &outlen, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "rewrite address family 0 is neither IPv4 nor IPv6");

	rw_init(&rw, "203.0.113.1", 2);
	rw.media[1].rtp_port = 0;
	assert_int_equal(sdp_rewrite(in, strlen(in), &rw, out, sizeof(out),
	    &outlen, err, sizeof(err)), -1);
	assert_string_equal(err, "media 2: relay RTP port is 0");

	rw_init(&rw, "203.0.113.1", 2);
	rw.media[0].rtcp_port = 0;
	assert_int_equal(sdp_rewrite(in, strlen(in), &rw, out, sizeof(out),
	    &outlen, err, sizeof(err)), -1);
	assert_string_equal(err, "media 1: relay RTCP port is 0");

	/* overflow at every capacity below the exact fit, into exact buffers */
	rw_init(&rw, "203.0.113.1", 2);
	for (cap = 0; cap <= sizeof(want); cap++) {
		exact = malloc(cap > 0 ? cap : 1);
		assert_non_null(exact);
		outlen = 777;
		if (cap < sizeof(want)) {
			char msg[64];

			assert_int_equal(sdp_rewrite(in, strlen(in), &rw,
			    cap > 0 ? exact : NULL, cap, &outlen, err,
			    sizeof(err)), -1);
			snprintf(msg, sizeof(msg),
			    "rewritten SDP does not fit in %zu bytes", cap);
			assert_string_equal(err, msg);
			assert_int_equal(outlen, 0);
			if (cap > 0)
				assert_int_equal(exact[0], '\0');
		} else {
			assert_int_equal(sdp_rewrite(in, strlen(in), &rw,
			    exact, cap, &outlen, err, sizeof(err)), 0);
			assert_int_equal(outlen, sizeof(want) - 1);
			assert_string_equal(exact, want);
		}
		free(exact);
	}
	assert_int_equal(sdp_rewrite(in, strlen(in), &rw, out, 10, &outlen,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "rewritten SDP does not fit in 10 bytes");

	/* a NULL or zero-sized error buffer is allowed */
	assert_int_equal(sdp_rewrite(in, strlen(in), &rw, out, 10, &outlen,
	    NULL, 0), -1);
}

/* The high half of the shared generator (common/tests/testutil.h). */
static uint32_t
prng(void)
{
	return (uint32_t)(rng() >> 32);
}

static const char *const fuzz_seeds[] = {
	kamailio_offer,
	"v=0\n"
	"o=- 1 1 IN IP6 2001:db8::1\n"
	"s=-\n"
	"c=IN IP6 2001:db8::1\n"
	"t=0 0\n"
	"a=ice-lite\n"
	"m=audio 4000 RTP/AVP 0 8\n"
	"a=rtcp:4001 IN IP6 2001:db8::1\n"
	"a=rtcp-mux\n"
	"m=video 0 RTP/AVP 96\n"
	"m=application 5000 UDP/DTLS/SCTP webrtc-datachannel\n"
	"c=IN IP4 198.51.100.1\n"
	"a=inactive\n",
	"v=0\r\n"
	"s=-\r\n"
	"c=IN IP4 198.51.100.1\r\n"
	"m=audio 1/1 RTP/SAVP 0\r\n"
	"m=audio 2 RTP/SAVP 1\r\n"
	"m=audio 3 RTP/SAVP 2\r\n"
	"m=audio 4 RTP/SAVP 3\r\n",
};

static const char *const fuzz_dict[] = {
	"\n", "\r\n", "\r", " ", "/", "0", "65536", ":", "=",
	"m=audio 0 RTP/AVP 0\n", "m=video 9 RTP/AVPF 96 97\n",
	"c=IN IP6 ::1\n", "c=IN IP4 198.51.100.9\n", "a=rtcp:1\n",
	"a=rtcp-mux\n", "a=candidate:1 1 udp 1 ::1 9 typ host\n",
	"a=ice-ufrag:x\n", "a=sendonly\n", "v=0\n",
};

static size_t
mutate(char *buf, size_t len, size_t cap)
{
	int	 k, nmut = 1 + (int)(prng() % 4);
	size_t	 pos, n;
	const char *d;

	for (k = 0; k < nmut; k++) {
		pos = len > 0 ? prng() % (len + 1) : 0;
		switch (prng() % 6) {
		case 0:			/* flip a byte */
			if (pos < len)
				buf[pos] = (char)prng();
			break;
		case 1:			/* printable byte */
			if (pos < len)
				buf[pos] = (char)(0x20 + prng() % 95);
			break;
		case 2:			/* delete a run */
			n = prng() % 8;
			if (pos + n > len)
				n = len - pos;
			memmove(buf + pos, buf + pos + n, len - pos - n);
			len -= n;
			break;
		case 3:			/* truncate */
			len = pos;
			break;
		default:		/* insert a dictionary word */
			d = fuzz_dict[prng() %
			    (sizeof(fuzz_dict) / sizeof(fuzz_dict[0]))];
			n = strlen(d);
			if (len + n > cap)
				break;
			memmove(buf + pos + n, buf + pos, len - pos);
			memcpy(buf + pos, d, n);
			len += n;
			break;
		}
	}
	return len;
}

/*
 * One fuzz input, in an exactly sized heap copy. When it parses, a rewrite
 * with random relay ports must succeed within SDP_REWRITE_MAX, re-parse
 * with the relay's values in place, and rewrite to itself.
 */
static int
fuzz_one(const char *data, size_t len)
{
	static char		out[SDP_REWRITE_MAX], out2[SDP_REWRITE_MAX];
	struct sdp_info		info, info2;
	struct sdp_rewrite	rw;
	char			*buf, small[48];
	size_t			outlen, outlen2;
	int			i;

	buf = malloc(len > 0 ? len : 1);
	assert_non_null(buf);
	memcpy(buf, data, len);
	memset(&rw, 0, sizeof(rw));
	set_addr(&rw.addr, prng() % 2 ? "203.0.113.1" :
	    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	rw.remove_ice = prng() % 2;

	if (sdp_parse(buf, len, &info, err, sizeof(err)) == -1) {
		assert_true(strlen(err) > 0);
		rw.nmedia = 0;
		assert_int_equal(sdp_rewrite(buf, len, &rw, out, sizeof(out),
		    &outlen, err, sizeof(err)), -1);
		free(buf);
		return 0;
	}
	assert_in_range(info.nmedia, 0, SDP_MAX_MEDIA);
	rw.nmedia = info.nmedia;
	for (i = 0; i < info.nmedia; i++) {
		rw.media[i].rtp_port = (uint16_t)(1 + prng() % 65535);
		rw.media[i].rtcp_port = (uint16_t)(1 + prng() % 65535);
		rw.media[i].rtcp_mux = prng() % 2;
	}
	if (sdp_rewrite(buf, len, &rw, out, sizeof(out), &outlen, err,
	    sizeof(err)) != 0)
		fail_msg("rewrite after successful parse: %s", err);
	assert_int_equal(strlen(out), outlen);
	assert_true(outlen > 0);
	assert_int_equal(out[outlen - 1], '\n');
	/* a small buffer fails cleanly or holds all of it */
	if (sdp_rewrite(buf, len, &rw, small, sizeof(small), &outlen2, err,
	    sizeof(err)) == 0)
		assert_true(outlen2 == outlen && memcmp(small, out, outlen) == 0);
	else
		assert_string_equal(err,
		    "rewritten SDP does not fit in 48 bytes");

	if (outlen <= SDP_MAX_LEN) {
		if (sdp_parse(out, outlen, &info2, err, sizeof(err)) != 0)
			fail_msg("rewritten SDP does not parse: %s", err);
		assert_int_equal(info2.nmedia, info.nmedia);
		for (i = 0; i < info.nmedia; i++) {
			const struct sdp_media	*m = &info2.media[i];

			if (info.media[i].port == 0) {
				assert_int_equal(m->port, 0);
				continue;
			}
			assert_int_equal(m->port, rw.media[i].rtp_port);
			assert_true(addr_eq(sdp_media_addr(&info2, i),
			    &rw.addr));
			if (rw.remove_ice)
				assert_false(m->has_ice);
			/* Non-RTP media (UDPTL, SCTP) get no RTCP lines. */
			if (!m->rtp) {
				assert_false(m->has_rtcp || m->rtcp_mux);
				continue;
			}
			assert_true(m->has_rtcp);
			assert_int_equal(m->rtcp_mux, rw.media[i].rtcp_mux);
			assert_int_equal(m->rtcp_port, rw.media[i].rtcp_mux ?
			    rw.media[i].rtp_port : rw.media[i].rtcp_port);
		}
		if (rw.remove_ice)
			assert_false(info2.has_ice);
		if (sdp_rewrite(out, outlen, &rw, out2, sizeof(out2), &outlen2,
		    err, sizeof(err)) != 0)
			fail_msg("second rewrite: %s", err);
		assert_int_equal(outlen2, outlen);
		assert_memory_equal(out2, out, outlen);
	}
	free(buf);
	return 1;
}

static void
test_fuzz_random(void **state)
{
	static const char alphabet[] = "v=0\r\n mcaIP46:./";
	char	buf[600];
	size_t	len, i;
	int	n, ok = 0;

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (n = 0; n < 10000; n++) {
		len = prng() % sizeof(buf);
		i = 0;
		if (n % 2 == 0 && len >= 4) {	/* get past line 1 */
			memcpy(buf, "v=0\n", 4);
			i = 4;
		}
		for (; i < len; i++)
			buf[i] = n % 4 < 2 ? (char)prng() :
			    alphabet[prng() % (sizeof(alphabet) - 1)];
		ok += fuzz_one(buf, len);
	}
	/* "v=0\n" + only line endings parses: shows the property branch runs */
	assert_true(ok > 0);
}

static void
test_fuzz_mutations(void **state)
{
	static char	buf[SDP_MAX_LEN + 128];
	const char	*seed;
	size_t		len;
	int		n, ok = 0;

	(void)state;
	rng_state = 0x0123456789abcdefULL;
	for (n = 0; n < 10000; n++) {
		seed = fuzz_seeds[n % (sizeof(fuzz_seeds) /
		    sizeof(fuzz_seeds[0]))];
		len = strlen(seed);
		memcpy(buf, seed, len);
		len = mutate(buf, len, sizeof(buf));
		ok += fuzz_one(buf, len);
	}
	/* enough mutants stay valid for the rewrite properties to matter */
	assert_true(ok > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kamailio_offer),
		cmocka_unit_test(test_keep_ice),
		cmocka_unit_test(test_rewrite_options),
		cmocka_unit_test(test_origin_odd),
		cmocka_unit_test(test_lf_only),
		cmocka_unit_test(test_mixed_endings),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_rtcp_mux),
		cmocka_unit_test(test_dtls_zrtp),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_rewrite_errors),
		cmocka_unit_test(test_fuzz_random),
		cmocka_unit_test(test_fuzz_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
