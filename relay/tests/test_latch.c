/*
 * Unit tests for relay/latch.c: first latch, keepalives and RTCP that must
 * never latch, moves only with the latched SSRC and a sequence number in
 * the window (wrap-around included), spoofers, SSRC restarts from the
 * latched source, latches set by a DTLS or ZRTP handshake and what they
 * may not do until RTP taught them the stream, DTLS on the RTCP port and
 * on legs that did not negotiate it, non-RTP (T.38) legs, IPv6, restore,
 * and a seeded fuzz run of random packets from random sources through
 * rtp_classify() and latch_input() with a property check on every step.
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

#include "common/addr.h"
#include "relay/latch.h"
#include "relay/rtp.h"
#include "common/tests/testutil.h"
#include "relay/tests/mkpkt.h"

#define FUZZ_ROUNDS	10000
#define SSRC_A		0x11111111u
#define SSRC_B		0x22222222u


static union sockaddr_any
sa(const char *ip, uint16_t port)
{
	union sockaddr_any a;

	memset(&a, 0, sizeof(a));
	if (strchr(ip, ':') != NULL) {
		a.sin6.sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6.sin6_addr), 1);
		a.sin6.sin6_port = htons(port);
	} else {
		a.sin.sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &a.sin.sin_addr), 1);
		a.sin.sin_port = htons(port);
	}
	return a;
}

/* RTP version 2 with PT pt and len - 12 payload bytes. */
static size_t
mk_rtp(uint8_t *b, unsigned int pt, uint32_t ssrc, uint16_t seq, size_t len)
{
	memset(b, 0xa5, len);
	b[0] = 0x80;
	b[1] = (uint8_t)pt;
	put16(b + 2, seq);
	put32(b + 4, 160u * seq);
	put32(b + 8, ssrc);
	return len;
}

static size_t
mk_rtcp(uint8_t *b, uint32_t ssrc)
{
	memset(b, 0, 8);
	b[0] = 0x80;
	b[1] = 201;
	put16(b + 2, 1);
	put32(b + 4, ssrc);
	return 8;
}

/* Classify bytes as the relay would (PT set {0, 8}) and feed the latch
 * with what the caller knows besides (ctx, NULL for the defaults). */
static enum latch_verdict
feed_full(struct latch *l, const struct latch_policy *pol,
    const struct latch_ctx *ctx, const union sockaddr_any *src,
    const uint8_t *in, size_t len)
{
	uint64_t mask[2] = { UINT64_C(1) | UINT64_C(1) << 8, 0 };
	char *p = dup_exact((const char *)in, len);
	struct rtp_info info;
	enum pkt_keepalive ka;
	enum pkt_kind k;

	k = rtp_classify((const uint8_t *)p, len, mask, &info, &ka);
	free(p);
	return latch_input(l, pol, ctx, src, k, ka, &info);
}

static enum latch_verdict
feed(struct latch *l, const struct latch_policy *pol,
    const union sockaddr_any *src, const uint8_t *in, size_t len)
{
	return feed_full(l, pol, NULL, src, in, len);
}

static enum latch_verdict
feed_ctx(struct latch *l, const struct latch_ctx *ctx,
    const union sockaddr_any *src, const uint8_t *in, size_t len)
{
	return feed_full(l, NULL, ctx, src, in, len);
}

static enum latch_verdict
feed_rtp(struct latch *l, const struct latch_policy *pol,
    const union sockaddr_any *src, uint32_t ssrc, uint16_t seq)
{
	uint8_t b[172];

	return feed(l, pol, src, b, mk_rtp(b, 0, ssrc, seq, sizeof(b)));
}

static void
assert_dest(const struct latch *l, const union sockaddr_any *want)
{
	const union sockaddr_any *d = latch_dest(l);

	if (want == NULL) {
		assert_null(d);
		return;
	}
	assert_non_null(d);
	assert_true(sa_eq(d, want));
}

/* A latch on S = 203.0.113.5:40000, SSRC_A, seq 1000. */
static void
latched(struct latch *l, union sockaddr_any *s)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000);

	*s = sa("203.0.113.5", 40000);
	latch_init(l, &sdp);
	assert_int_equal(feed_rtp(l, NULL, s, SSRC_A, 1000),
	    LATCH_FORWARD_LATCHED);
}

static void
test_init(void **state)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000), a;
	struct latch l;

	(void)state;
	memset(&l, 0x5a, sizeof(l));
	latch_init(&l, &sdp);
	assert_int_equal(l.state, LATCH_SDP);
	assert_dest(&l, &sdp);
	assert_int_equal(l.verdicts[LATCH_FORWARD_MOVED], 0);
	assert_int_equal(l.ssrc_changes, 0);

	latch_init(&l, NULL);
	assert_dest(&l, NULL);
	a = sa("0.0.0.0", 4000);
	latch_init(&l, &a);
	assert_dest(&l, NULL);
	a = sa("::", 4000);
	latch_init(&l, &a);
	assert_dest(&l, NULL);
	a = sa("198.51.100.10", 0);
	latch_init(&l, &a);
	assert_dest(&l, NULL);
	memset(&a, 0, sizeof(a));
	a.sa.sa_family = AF_UNIX;
	latch_init(&l, &a);
	assert_dest(&l, NULL);
	assert_int_equal(l.sdp.sa.sa_family, AF_UNSPEC);
}

static void
test_first_rtp_latches(void **state)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000);
	union sockaddr_any s = sa("203.0.113.5", 40000);
	struct latch l;

	(void)state;
	latch_init(&l, &sdp);
	/* Any source may latch first, not only the SDP one (NAT). */
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 1000),
	    LATCH_FORWARD_LATCHED);
	assert_int_equal(l.state, LATCH_LATCHED);
	assert_dest(&l, &s);
	assert_int_equal(l.ssrc, SSRC_A);
	assert_int_equal(l.seq, 1000);
	assert_int_equal(l.verdicts[LATCH_FORWARD_LATCHED], 1);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 1001), LATCH_FORWARD);
	assert_int_equal(l.seq, 1001);
	/* Reordered packet from the latched source is still forwarded. */
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 990), LATCH_FORWARD);
	assert_int_equal(l.seq, 990);
	assert_int_equal(l.verdicts[LATCH_FORWARD], 2);
	assert_int_equal(l.verdicts[LATCH_FORWARD_LATCHED], 1);

	/* SDP address unset: latching works the same. */
	latch_init(&l, NULL);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_B, 7),
	    LATCH_FORWARD_LATCHED);
	assert_dest(&l, &s);
}

static void
test_unknown_pt_never_latches(void **state)
{
	union sockaddr_any s = sa("203.0.113.5", 40000);
	union sockaddr_any t = sa("203.0.113.6", 40000);
	struct latch l;
	uint8_t b[172];

	(void)state;
	latch_init(&l, NULL);
	assert_int_equal(feed(&l, NULL, &s, b,
	    mk_rtp(b, 96, SSRC_A, 1000, sizeof(b))), LATCH_DROP_PT);
	assert_int_equal(l.state, LATCH_SDP);
	assert_int_equal(feed(&l, NULL, &s, b,
	    mk_rtp(b, 8, SSRC_A, 1001, sizeof(b))), LATCH_FORWARD_LATCHED);
	/* From the latched source an odd PT is forwarded. */
	assert_int_equal(feed(&l, NULL, &s, b,
	    mk_rtp(b, 96, SSRC_A, 1002, sizeof(b))), LATCH_FORWARD);
	assert_int_equal(l.seq, 1002);
	/* It cannot move the latch, even with SSRC and seq right. */
	assert_int_equal(feed(&l, NULL, &t, b,
	    mk_rtp(b, 96, SSRC_A, 1003, sizeof(b))), LATCH_DROP_PT);
	assert_dest(&l, &s);
	assert_int_equal(l.verdicts[LATCH_DROP_PT], 2);
}

/* Every RFC 6263 form, as bytes; n is set to the number of forms. */
static size_t
keepalive(int i, uint8_t *b, int *n)
{
	*n = 5;
	switch (i) {
	case 0:
		return 0;
	case 1:
		memset(b, 0, 20);
		b[1] = 0x11;			/* Binding indication */
		put32(b + 4, STUN_MAGIC_COOKIE);
		return 20;
	case 2:
		mk_rtp(b, 0, SSRC_A, 1001, 172);
		b[0] = 0x00;			/* version 0 */
		return 172;
	case 3:
		return mk_rtp(b, 0, SSRC_A, 1001, 12);	/* no payload */
	default:
		return mk_rtp(b, 96, SSRC_A, 1001, 12);	/* s4.6 */
	}
}

static void
test_keepalives_never_latch(void **state)
{
	static const enum pkt_keepalive want[] = { KA_EMPTY, KA_STUN,
	    KA_RTP_V0, KA_EMPTY_PAYLOAD, KA_UNKNOWN_PT };
	union sockaddr_any sdp = sa("198.51.100.10", 4000);
	union sockaddr_any s, t = sa("203.0.113.9", 40000);
	union sockaddr_any s2 = sa("203.0.113.5", 40001);
	uint64_t mask[2] = { 1, 0 };
	struct rtp_info info;
	enum pkt_keepalive ka;
	struct latch l;
	uint8_t b[172];
	size_t len;
	int i, n;

	(void)state;
	for (i = 0, n = 1; i < n; i++) {
		len = keepalive(i, b, &n);
		assert_int_equal(rtp_classify(b, len, mask, &info, &ka),
		    PKT_KEEPALIVE);
		assert_int_equal(ka, want[i]);

		/* Pre-latch: activity from anyone, never a latch. */
		latch_init(&l, &sdp);
		assert_int_equal(feed(&l, NULL, &t, b, len), LATCH_ACTIVITY);
		assert_int_equal(feed(&l, NULL, &sdp, b, len),
		    LATCH_ACTIVITY);
		assert_int_equal(l.state, LATCH_SDP);
		assert_dest(&l, &sdp);

		/* Latched: activity only from the latched source. */
		latched(&l, &s);
		assert_int_equal(feed(&l, NULL, &s, b, len), LATCH_ACTIVITY);
		assert_int_equal(feed(&l, NULL, &t, b, len),
		    LATCH_DROP_KEEPALIVE);
		assert_int_equal(feed(&l, NULL, &s2, b, len),
		    LATCH_DROP_KEEPALIVE);
		assert_dest(&l, &s);
		assert_int_equal(l.seq, 1000);
		assert_int_equal(l.verdicts[LATCH_ACTIVITY], 1);
		assert_int_equal(l.verdicts[LATCH_DROP_KEEPALIVE], 2);
	}
	assert_int_equal(i, 5);

	/* A keepalive form mislabelled PKT_RTP is still a keepalive. */
	latch_init(&l, &sdp);
	len = mk_rtp(b, 0, SSRC_A, 1, 172);
	assert_int_equal(rtp_classify(b, len, NULL, &info, &ka), PKT_RTP);
	assert_int_equal(latch_input(&l, NULL, NULL, &t,
	    PKT_RTP, KA_EMPTY_PAYLOAD, &info), LATCH_ACTIVITY);
	assert_int_equal(l.state, LATCH_SDP);
	/* Keepalive with no info at all. */
	assert_int_equal(latch_input(&l, NULL, NULL, &t,
	    PKT_KEEPALIVE, KA_EMPTY, NULL), LATCH_ACTIVITY);
	assert_int_equal(l.state, LATCH_SDP);
}

static void
test_rtcp_never_latches(void **state)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000);
	union sockaddr_any sdp_rtcp = sa("198.51.100.10", 4001);
	union sockaddr_any t = sa("203.0.113.9", 4001);
	union sockaddr_any s, s_rtcp = sa("203.0.113.5", 40001);
	struct latch l;
	uint8_t b[8];
	size_t len = mk_rtcp(b, SSRC_A);

	(void)state;
	/* Pre-latch: only from the SDP IP, any port. */
	latch_init(&l, &sdp);
	assert_int_equal(feed(&l, NULL, &sdp, b, len), LATCH_FORWARD);
	assert_int_equal(feed(&l, NULL, &sdp_rtcp, b, len), LATCH_FORWARD);
	assert_int_equal(feed(&l, NULL, &t, b, len), LATCH_DROP_SPOOF);
	assert_int_equal(l.state, LATCH_SDP);
	assert_dest(&l, &sdp);

	/* Pre-latch, no SDP address: nobody. */
	latch_init(&l, NULL);
	assert_int_equal(feed(&l, NULL, &sdp, b, len), LATCH_DROP_SPOOF);
	assert_int_equal(l.state, LATCH_SDP);

	/* Latched: the latched IP, any port; no longer the SDP IP. */
	latched(&l, &s);
	assert_int_equal(feed(&l, NULL, &s, b, len), LATCH_FORWARD);
	assert_int_equal(feed(&l, NULL, &s_rtcp, b, len), LATCH_FORWARD);
	assert_int_equal(feed(&l, NULL, &sdp, b, len), LATCH_DROP_SPOOF);
	assert_int_equal(feed(&l, NULL, &t, b, len), LATCH_DROP_SPOOF);
	/* Even with the latched SSRC, RTCP never moves the latch. */
	assert_dest(&l, &s);
	assert_int_equal(l.ssrc, SSRC_A);
	assert_int_equal(l.seq, 1000);
	assert_int_equal(l.verdicts[LATCH_DROP_SPOOF], 2);
	assert_int_equal(l.verdicts[LATCH_FORWARD], 2);
}

static void
test_ssrc_change_from_latched(void **state)
{
	union sockaddr_any s, t = sa("203.0.113.9", 40000);
	struct latch l;

	(void)state;
	latched(&l, &s);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_B, 5), LATCH_FORWARD);
	assert_int_equal(l.ssrc, SSRC_B);
	assert_int_equal(l.seq, 5);
	assert_int_equal(l.ssrc_changes, 1);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_B, 6), LATCH_FORWARD);
	assert_int_equal(l.ssrc_changes, 1);
	/* The old SSRC is now foreign. */
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 1001),
	    LATCH_DROP_SSRC);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_B, 7),
	    LATCH_FORWARD_MOVED);
	assert_dest(&l, &t);
}

static void
test_move(void **state)
{
	union sockaddr_any s, t = sa("203.0.113.9", 40000);
	union sockaddr_any s_port = sa("203.0.113.5", 40002);
	struct latch l;

	(void)state;
	latched(&l, &s);
	/* NAT rebinding: same IP, new port. */
	assert_int_equal(feed_rtp(&l, NULL, &s_port, SSRC_A, 1001),
	    LATCH_FORWARD_MOVED);
	assert_dest(&l, &s_port);
	assert_int_equal(l.seq, 1001);
	/* The old port is now just another source. */
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 1001),
	    LATCH_DROP_SEQ);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 1003),
	    LATCH_FORWARD_MOVED);
	assert_dest(&l, &t);
	assert_int_equal(l.verdicts[LATCH_FORWARD_MOVED], 2);
	assert_int_equal(l.verdicts[LATCH_DROP_SEQ], 1);
	assert_int_equal(l.state, LATCH_LATCHED);
}

static void
test_seq_window(void **state)
{
	static const struct {
		uint16_t		seq;
		enum latch_verdict	want;
	} cases[] = {
		{ 1000, LATCH_DROP_SEQ },	/* replay of the last one */
		{ 999, LATCH_DROP_SEQ },	/* just behind */
		{ 900, LATCH_DROP_SEQ },	/* far behind */
		{ 1001, LATCH_FORWARD_MOVED },
		{ 1100, LATCH_FORWARD_MOVED },	/* exactly the window */
		{ 1101, LATCH_DROP_SEQ },
		{ 30000, LATCH_DROP_SEQ },	/* far ahead */
		{ 0, LATCH_DROP_SEQ },
	};
	union sockaddr_any s, t = sa("203.0.113.9", 40000);
	struct latch l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		latched(&l, &s);
		assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, cases[i].seq),
		    cases[i].want);
		assert_dest(&l, cases[i].want == LATCH_FORWARD_MOVED ? &t : &s);
		assert_int_equal(l.seq, cases[i].want == LATCH_FORWARD_MOVED ?
		    cases[i].seq : 1000);
	}
}

static void
test_seq_wrap(void **state)
{
	union sockaddr_any s = sa("203.0.113.5", 40000);
	union sockaddr_any t = sa("203.0.113.9", 40000);
	struct latch l;
	char err[128];

	(void)state;
	latch_init(&l, NULL);
	assert_int_equal(latch_restore(&l, &s, LATCH_KNOWN_SEQ, SSRC_A, 65530,
	    err, sizeof(err)), 0);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 3),
	    LATCH_FORWARD_MOVED);
	assert_int_equal(l.seq, 3);

	/* 65530 + 100 = 94 (mod 2^16) is the last seq in the window. */
	assert_int_equal(latch_restore(&l, &s, LATCH_KNOWN_SEQ, SSRC_A, 65530,
	    err, sizeof(err)), 0);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 95), LATCH_DROP_SEQ);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 65529),
	    LATCH_DROP_SEQ);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 94),
	    LATCH_FORWARD_MOVED);
	/* And behind across the wrap: 94 -> 65535 is 95 back. */
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 65535),
	    LATCH_DROP_SEQ);
	assert_dest(&l, &t);
}

static void
test_policy(void **state)
{
	union sockaddr_any s, t = sa("203.0.113.9", 40000);
	struct latch_policy pol;
	struct latch l;

	(void)state;
	memset(&pol, 0x5a, sizeof(pol));
	latch_policy_init(&pol);
	assert_int_equal(pol.seq_window, 100);
	pol.seq_window = 10;
	latched(&l, &s);
	assert_int_equal(feed_rtp(&l, &pol, &t, SSRC_A, 1011),
	    LATCH_DROP_SEQ);
	assert_int_equal(feed_rtp(&l, &pol, &t, SSRC_A, 1010),
	    LATCH_FORWARD_MOVED);
	/* Window 0: the latch never moves. */
	pol.seq_window = 0;
	assert_int_equal(feed_rtp(&l, &pol, &s, SSRC_A, 1011),
	    LATCH_DROP_SEQ);
	assert_dest(&l, &t);
	/* The latched source is not subject to the window. */
	assert_int_equal(feed_rtp(&l, &pol, &t, SSRC_A, 5000),
	    LATCH_FORWARD);
}

static void
test_spoofer(void **state)
{
	union sockaddr_any s, t = sa("198.51.100.66", 40000);
	struct latch l;
	int i;

	(void)state;
	latched(&l, &s);
	/* Wrong SSRC: no sequence number helps. */
	for (i = 0; i < 1000; i++)
		assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_B,
		    (uint16_t)(1000 + i)), LATCH_DROP_SSRC);
	/* Right SSRC, seq behind or too far ahead. */
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 500), LATCH_DROP_SEQ);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 1000 + 101),
	    LATCH_DROP_SEQ);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 1000 + 32768),
	    LATCH_DROP_SEQ);
	assert_dest(&l, &s);
	assert_int_equal(l.ssrc, SSRC_A);
	assert_int_equal(l.seq, 1000);
	assert_int_equal(l.verdicts[LATCH_DROP_SSRC], 1000);
	assert_int_equal(l.verdicts[LATCH_DROP_SEQ], 3);
	assert_int_equal(l.verdicts[LATCH_FORWARD_MOVED], 0);
	/* The real source is unaffected. */
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 1001), LATCH_FORWARD);
}

static void
test_ipv6(void **state)
{
	union sockaddr_any sdp = sa("2001:db8::10", 4000);
	union sockaddr_any sdp_rtcp = sa("2001:db8::10", 4001);
	union sockaddr_any s = sa("2001:db8:1::5", 40000);
	union sockaddr_any s_rtcp = sa("2001:db8:1::5", 40001);
	union sockaddr_any t = sa("2001:db8:1::6", 40000);
	union sockaddr_any v4 = sa("203.0.113.5", 40000);
	struct latch l;
	uint8_t b[8];
	size_t len = mk_rtcp(b, SSRC_A);

	(void)state;
	latch_init(&l, &sdp);
	assert_dest(&l, &sdp);
	assert_int_equal(feed(&l, NULL, &sdp_rtcp, b, len), LATCH_FORWARD);
	assert_int_equal(feed(&l, NULL, &v4, b, len), LATCH_DROP_SPOOF);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 1),
	    LATCH_FORWARD_LATCHED);
	assert_dest(&l, &s);
	assert_int_equal(feed(&l, NULL, &s_rtcp, b, len), LATCH_FORWARD);
	assert_int_equal(feed(&l, NULL, &sdp_rtcp, b, len), LATCH_DROP_SPOOF);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_B, 2), LATCH_DROP_SSRC);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 200), LATCH_DROP_SEQ);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 2),
	    LATCH_FORWARD_MOVED);
	assert_dest(&l, &t);
	assert_int_equal(l.addr.sa.sa_family, AF_INET6);
	/* A source of the other family is just another source. */
	assert_int_equal(feed_rtp(&l, NULL, &v4, SSRC_B, 3), LATCH_DROP_SSRC);
	assert_dest(&l, &t);
}

static void
test_invalid(void **state)
{
	union sockaddr_any s, t = sa("203.0.113.9", 40000), bad;
	struct rtp_info info;
	struct latch l;
	uint8_t b[172];

	(void)state;
	latch_init(&l, NULL);
	memset(b, 0, sizeof(b));
	b[0] = 0x50;	/* version 1 (0x40-0x4f is TURN ChannelData) */
	assert_int_equal(feed(&l, NULL, &t, b, 172), LATCH_DROP_INVALID);
	assert_int_equal(l.state, LATCH_SDP);
	assert_int_equal(latch_input(&l, NULL, NULL, &t, PKT_INVALID, KA_NONE,
	    NULL), LATCH_DROP_INVALID);
	assert_int_equal(latch_input(&l, NULL, NULL, &t, PKT_KIND_MAX, KA_NONE,
	    NULL), LATCH_DROP_INVALID);
	/* PKT_RTP without its header fields cannot latch. */
	assert_int_equal(latch_input(&l, NULL, NULL, &t,
	    PKT_RTP, KA_NONE, NULL), LATCH_DROP_INVALID);
	/* Sources media cannot be sent back to. */
	mk_rtp(b, 0, SSRC_A, 1, sizeof(b));
	assert_int_equal(rtp_classify(b, sizeof(b), NULL, &info, NULL),
	    PKT_RTP);
	assert_int_equal(latch_input(&l, NULL, NULL, NULL,
	    PKT_RTP, KA_NONE, &info), LATCH_DROP_INVALID);
	bad = sa("203.0.113.9", 0);
	assert_int_equal(latch_input(&l, NULL, NULL, &bad,
	    PKT_RTP, KA_NONE, &info), LATCH_DROP_INVALID);
	bad = sa("0.0.0.0", 40000);
	assert_int_equal(latch_input(&l, NULL, NULL, &bad,
	    PKT_RTP, KA_NONE, &info), LATCH_DROP_INVALID);
	memset(&bad, 0, sizeof(bad));
	assert_int_equal(latch_input(&l, NULL, NULL, &bad,
	    PKT_RTP, KA_NONE, &info), LATCH_DROP_INVALID);
	assert_int_equal(l.state, LATCH_SDP);
	assert_int_equal(l.verdicts[LATCH_DROP_INVALID], 8);

	latched(&l, &s);
	assert_int_equal(latch_input(&l, NULL, NULL, &s, PKT_INVALID, KA_NONE,
	    NULL), LATCH_DROP_INVALID);
	assert_dest(&l, &s);
}

static void
test_restore(void **state)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000);
	union sockaddr_any s = sa("2001:db8::5", 40000);
	union sockaddr_any t = sa("2001:db8::6", 40000), bad;
	struct latch l;
	char err[128];

	(void)state;
	latch_init(&l, &sdp);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_B, 1),
	    LATCH_FORWARD_LATCHED);
	assert_int_equal(latch_restore(&l, &s, LATCH_KNOWN_SEQ, SSRC_A, 500,
	    err, sizeof(err)), 0);
	assert_int_equal(l.state, LATCH_LATCHED);
	assert_dest(&l, &s);
	assert_int_equal(l.ssrc, SSRC_A);
	assert_int_equal(l.seq, 500);
	/* Counters survive a restore. */
	assert_int_equal(l.verdicts[LATCH_FORWARD_LATCHED], 1);
	/* The restored latch protects the stream at once. */
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_B, 501), LATCH_DROP_SSRC);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 700), LATCH_DROP_SEQ);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 501), LATCH_FORWARD);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 502),
	    LATCH_FORWARD_MOVED);

	assert_int_equal(latch_restore(&l, NULL, LATCH_KNOWN_SEQ, 1, 2, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "latch restore: no address");
	memset(&bad, 0, sizeof(bad));
	assert_int_equal(latch_restore(&l, &bad, LATCH_KNOWN_SEQ, 1, 2, err,
	    sizeof(err)), -1);
	assert_string_equal(err,
	    "latch restore: address family 0 is not IPv4 or IPv6");
	bad = sa("0.0.0.0", 4000);
	assert_int_equal(latch_restore(&l, &bad, LATCH_KNOWN_SEQ, 1, 2, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "latch restore: unspecified address or port 0");
	bad = sa("2001:db8::5", 0);
	assert_int_equal(latch_restore(&l, &bad, LATCH_KNOWN_SEQ, 1, 2, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "latch restore: unspecified address or port 0");
	assert_int_equal(latch_restore(&l, &s, LATCH_KNOWN_MAX, 1, 2, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "latch restore: known 3 out of range");
	/* Failed restores left the latch alone. */
	assert_dest(&l, &t);
	assert_int_equal(l.ssrc, SSRC_A);
	assert_int_equal(l.seq, 502);
	assert_int_equal(l.known, LATCH_KNOWN_SEQ);

	/* A handshake latch restored: what it did not know stays unknown
	 * (the record's SSRC and seq are ignored), so no move. */
	assert_int_equal(latch_restore(&l, &s, LATCH_KNOWN_NONE, SSRC_A, 500,
	    err, sizeof(err)), 0);
	assert_int_equal(l.known, LATCH_KNOWN_NONE);
	assert_int_equal(l.ssrc, 0);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 501), LATCH_DROP_SSRC);
	assert_int_equal(feed_rtp(&l, NULL, &t, 0, 1), LATCH_DROP_SSRC);
	assert_int_equal(latch_restore(&l, &s, LATCH_KNOWN_SSRC, SSRC_A, 500,
	    err, sizeof(err)), 0);
	assert_int_equal(l.ssrc, SSRC_A);
	assert_int_equal(l.seq, 0);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 501), LATCH_DROP_SEQ);
	assert_dest(&l, &s);
}

#define SSRC_Z		0xdeadbeefu	/* zrtp_hello()'s source identifier */

static const struct latch_ctx dtls_rtp = { .dtls = true };
static const struct latch_ctx dtls_rtcp = { .dtls = true, .rtcp_port = true };
static const struct latch_ctx plain_rtcp = { .rtcp_port = true };

/* DTLS epoch 0 handshake record with first message type hs. */
static size_t
mk_hs(uint8_t *b, uint8_t hs)
{
	return dtls_rec(b, 22, 0xfeff, 0, hs, 100);
}

/* DTLS application data, epoch 1. */
static size_t
mk_appdata(uint8_t *b)
{
	return dtls_rec(b, 23, 0xfefd, 1, 0, 120);
}

static size_t
mk_zhello(uint8_t *b)
{
	static const unsigned int algs[5] = { 1, 1, 1, 1, 1 };

	return zrtp_hello(b, algs);
}

/* A leg on SDP 198.51.100.10:4000 that DTLS from S = 203.0.113.5:40000,
 * behind NAT, latched with a ClientHello. */
static void
dtls_latched(struct latch *l, union sockaddr_any *s)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000);
	uint8_t b[256];

	*s = sa("203.0.113.5", 40000);
	latch_init(l, &sdp);
	assert_int_equal(feed_ctx(l, &dtls_rtp, s, b,
	    mk_hs(b, DTLS_HS_CLIENT_HELLO)), LATCH_FORWARD_LATCHED);
}

static void
test_dtls_latches(void **state)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000);
	union sockaddr_any s = sa("203.0.113.5", 40000);
	struct latch l;
	uint8_t b[256];
	size_t n;

	(void)state;
	latch_init(&l, &sdp);
	/* Before the latch only a hello may come: nothing else proves a
	 * handshake starts here. */
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b, mk_appdata(b)),
	    LATCH_DROP_DTLS);
	n = dtls_rec(b, 20, 0xfefd, 0, 1, 1);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b, n), LATCH_DROP_DTLS);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b, mk_hs(b, 11)),
	    LATCH_DROP_DTLS);		/* Certificate */
	n = dtls_rec(b, 22, 0xfefd, 1, DTLS_HS_CLIENT_HELLO, 60);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b, n), LATCH_DROP_DTLS);
	assert_int_equal(l.state, LATCH_SDP);
	assert_dest(&l, &sdp);

	/* Behind NAT: the ClientHello's source, not the SDP address. */
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b,
	    mk_hs(b, DTLS_HS_CLIENT_HELLO)), LATCH_FORWARD_LATCHED);
	assert_int_equal(l.state, LATCH_LATCHED);
	assert_dest(&l, &s);
	assert_int_equal(l.known, LATCH_KNOWN_NONE);
	assert_int_equal(l.ssrc, 0);
	/* Retransmissions and the rest of the session: forwarded, and they
	 * change nothing. */
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b,
	    mk_hs(b, DTLS_HS_CLIENT_HELLO)), LATCH_FORWARD);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b, mk_appdata(b)),
	    LATCH_FORWARD);
	assert_int_equal(l.known, LATCH_KNOWN_NONE);
	assert_int_equal(l.verdicts[LATCH_FORWARD_LATCHED], 1);

	/* The answering role latches on its first flight as well. */
	latch_init(&l, &sdp);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b,
	    mk_hs(b, DTLS_HS_SERVER_HELLO)), LATCH_FORWARD_LATCHED);
	latch_init(&l, NULL);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b,
	    mk_hs(b, DTLS_HS_HELLO_VERIFY_REQUEST)), LATCH_FORWARD_LATCHED);
	assert_dest(&l, &s);
}

static void
test_dtls_spoofer(void **state)
{
	union sockaddr_any s, t = sa("198.51.100.66", 40000);
	union sockaddr_any s2 = sa("203.0.113.5", 40002);
	struct latch l;
	uint8_t b[256];
	int i;

	(void)state;
	dtls_latched(&l, &s);
	/* Another source, even the same IP: its hellos and records go
	 * nowhere. */
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &t, b,
	    mk_hs(b, DTLS_HS_CLIENT_HELLO)), LATCH_DROP_DTLS);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &t, b, mk_appdata(b)),
	    LATCH_DROP_DTLS);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s2, b,
	    mk_hs(b, DTLS_HS_SERVER_HELLO)), LATCH_DROP_DTLS);
	/* Nor can RTP move a latch that knows no SSRC: not with SSRC 0 (what
	 * the empty field holds), not with any other. */
	for (i = 0; i < 200; i++)
		assert_int_equal(feed_rtp(&l, NULL, &t, i % 2 ? 0 : SSRC_A,
		    (uint16_t)i), LATCH_DROP_SSRC);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &t, b, mk_zhello(b)),
	    LATCH_DROP_ZRTP);
	assert_dest(&l, &s);
	assert_int_equal(l.known, LATCH_KNOWN_NONE);
	assert_int_equal(l.verdicts[LATCH_DROP_DTLS], 3);
	assert_int_equal(l.verdicts[LATCH_DROP_SSRC], 200);
	assert_int_equal(l.verdicts[LATCH_FORWARD_MOVED], 0);
}

static void
test_dtls_then_rtp(void **state)
{
	union sockaddr_any s, t = sa("203.0.113.9", 40000);
	union sockaddr_any s_port = sa("203.0.113.5", 40002);
	struct latch l;
	uint8_t b[256];

	(void)state;
	dtls_latched(&l, &s);
	/* SRTP from the latched source tells the stream: no SSRC change. */
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 1000), LATCH_FORWARD);
	assert_int_equal(l.known, LATCH_KNOWN_SEQ);
	assert_int_equal(l.ssrc, SSRC_A);
	assert_int_equal(l.seq, 1000);
	assert_int_equal(l.ssrc_changes, 0);
	/* Now a NAT rebinding is recognised as for an RTP latch ... */
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_B, 1001),
	    LATCH_DROP_SSRC);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 1200),
	    LATCH_DROP_SEQ);
	assert_int_equal(feed_rtp(&l, NULL, &s_port, SSRC_A, 1001),
	    LATCH_FORWARD_MOVED);
	assert_dest(&l, &s_port);
	/* ... and DTLS follows the moved latch. */
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s_port, b, mk_appdata(b)),
	    LATCH_FORWARD);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b, mk_appdata(b)),
	    LATCH_DROP_DTLS);
	/* A DTLS record never moves a latch back, not even a hello. */
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b,
	    mk_hs(b, DTLS_HS_CLIENT_HELLO)), LATCH_DROP_DTLS);
	assert_dest(&l, &s_port);

	/* RTP may still latch a DTLS leg first (SDES keys, or media before
	 * the handshake); then DTLS from that source passes. */
	latch_init(&l, NULL);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 7),
	    LATCH_FORWARD_LATCHED);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b,
	    mk_hs(b, DTLS_HS_CLIENT_HELLO)), LATCH_FORWARD);
	assert_int_equal(l.known, LATCH_KNOWN_SEQ);
	assert_int_equal(l.seq, 7);
}

static void
test_dtls_not_negotiated(void **state)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000);
	union sockaddr_any s = sa("203.0.113.5", 40000);
	struct latch l;
	uint8_t b[256];

	(void)state;
	/* A ClientHello on a plain RTP/AVP leg, before and after a latch,
	 * on either port, from the SDP address too. */
	latch_init(&l, &sdp);
	assert_int_equal(feed(&l, NULL, &s, b, mk_hs(b, DTLS_HS_CLIENT_HELLO)),
	    LATCH_DROP_DTLS_SDP);
	assert_int_equal(feed(&l, NULL, &sdp, b,
	    mk_hs(b, DTLS_HS_CLIENT_HELLO)), LATCH_DROP_DTLS_SDP);
	assert_int_equal(feed_ctx(&l, &plain_rtcp, &sdp, b, mk_appdata(b)),
	    LATCH_DROP_DTLS_SDP);
	assert_int_equal(l.state, LATCH_SDP);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 1),
	    LATCH_FORWARD_LATCHED);
	assert_int_equal(feed(&l, NULL, &s, b, mk_appdata(b)),
	    LATCH_DROP_DTLS_SDP);
	assert_int_equal(l.verdicts[LATCH_DROP_DTLS_SDP], 4);
	assert_dest(&l, &s);
}

static void
test_dtls_rtcp_port(void **state)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000);
	union sockaddr_any sdp_rtcp = sa("198.51.100.10", 4001);
	union sockaddr_any s, s_rtcp = sa("203.0.113.5", 40001);
	union sockaddr_any t = sa("203.0.113.9", 40001);
	struct latch l;
	uint8_t b[256];

	(void)state;
	/* Before the latch: RTCP's rule, the SDP IP; and it never latches. */
	latch_init(&l, &sdp);
	assert_int_equal(feed_ctx(&l, &dtls_rtcp, &sdp_rtcp, b,
	    mk_hs(b, DTLS_HS_CLIENT_HELLO)), LATCH_FORWARD);
	assert_int_equal(feed_ctx(&l, &dtls_rtcp, &s_rtcp, b,
	    mk_hs(b, DTLS_HS_CLIENT_HELLO)), LATCH_DROP_DTLS);
	assert_int_equal(l.state, LATCH_SDP);
	/* Latched on the RTP port: the latched IP, any port. */
	dtls_latched(&l, &s);
	assert_int_equal(feed_ctx(&l, &dtls_rtcp, &s_rtcp, b,
	    mk_hs(b, DTLS_HS_CLIENT_HELLO)), LATCH_FORWARD);
	assert_int_equal(feed_ctx(&l, &dtls_rtcp, &s_rtcp, b, mk_appdata(b)),
	    LATCH_FORWARD);
	assert_int_equal(feed_ctx(&l, &dtls_rtcp, &sdp_rtcp, b,
	    mk_appdata(b)), LATCH_DROP_DTLS);
	assert_int_equal(feed_ctx(&l, &dtls_rtcp, &t, b, mk_appdata(b)),
	    LATCH_DROP_DTLS);
	assert_dest(&l, &s);
	/* What has no business on the RTCP port. */
	assert_int_equal(feed_ctx(&l, &dtls_rtcp, &s_rtcp, b,
	    mk_rtp(b, 0, SSRC_A, 1, 172)), LATCH_DROP_INVALID);
	assert_int_equal(feed_ctx(&l, &dtls_rtcp, &s_rtcp, b, mk_zhello(b)),
	    LATCH_DROP_INVALID);
	assert_int_equal(latch_input(&l, NULL, &dtls_rtcp, &s_rtcp,
	    PKT_OPAQUE, KA_NONE, NULL), LATCH_DROP_INVALID);
	/* RTCP keeps its rule. */
	assert_int_equal(feed_ctx(&l, &dtls_rtcp, &s_rtcp, b,
	    mk_rtcp(b, SSRC_A)), LATCH_FORWARD);
	assert_dest(&l, &s);
	assert_int_equal(l.known, LATCH_KNOWN_NONE);
}

static void
test_zrtp_latches(void **state)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000);
	union sockaddr_any s = sa("203.0.113.5", 40000);
	union sockaddr_any t = sa("203.0.113.9", 40000);
	struct latch l;
	uint8_t b[256];
	size_t n;

	(void)state;
	latch_init(&l, &sdp);
	/* No SDP flag needed (a=zrtp-hash is optional), but a Hello. */
	n = zrtp(b, "HelloACK", 0, SSRC_Z);
	assert_int_equal(feed(&l, NULL, &s, b, n), LATCH_DROP_ZRTP);
	n = zrtp(b, "Commit  ", 20, SSRC_Z);
	assert_int_equal(feed(&l, NULL, &s, b, n), LATCH_DROP_ZRTP);
	/* A Hello with a bad CRC is no ZRTP at all. */
	n = mk_zhello(b);
	b[30] ^= 1;
	assert_int_equal(feed(&l, NULL, &s, b, n), LATCH_DROP_INVALID);
	assert_int_equal(l.state, LATCH_SDP);

	assert_int_equal(feed(&l, NULL, &s, b, mk_zhello(b)),
	    LATCH_FORWARD_LATCHED);
	assert_dest(&l, &s);
	assert_int_equal(l.known, LATCH_KNOWN_SSRC);
	assert_int_equal(l.ssrc, SSRC_Z);
	n = zrtp(b, "Commit  ", 20, SSRC_Z);
	assert_int_equal(feed(&l, NULL, &s, b, n), LATCH_FORWARD);
	/* A spoofer: its ZRTP is dropped, whatever it is. */
	assert_int_equal(feed(&l, NULL, &t, b, n), LATCH_DROP_ZRTP);
	assert_int_equal(feed(&l, NULL, &t, b, mk_zhello(b)),
	    LATCH_DROP_ZRTP);
	/* The SSRC is known but not the seq: no move, whatever the seq,
	 * since "1..window ahead" of nothing is anything. */
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_Z, 1), LATCH_DROP_SEQ);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_Z, 0), LATCH_DROP_SEQ);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 1), LATCH_DROP_SSRC);
	assert_dest(&l, &s);
	/* SRTP from the latched source: now the seq is known. */
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_Z, 500), LATCH_FORWARD);
	assert_int_equal(l.known, LATCH_KNOWN_SEQ);
	assert_int_equal(l.ssrc_changes, 0);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_Z, 501),
	    LATCH_FORWARD_MOVED);
	assert_dest(&l, &t);

	/* If its RTP carries another SSRC than the Hello said, that is the
	 * latched source restarting its stream. */
	latch_init(&l, &sdp);
	assert_int_equal(feed(&l, NULL, &s, b, mk_zhello(b)),
	    LATCH_FORWARD_LATCHED);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 9), LATCH_FORWARD);
	assert_int_equal(l.ssrc, SSRC_A);
	assert_int_equal(l.ssrc_changes, 1);
	/* ZRTP also runs on a leg that negotiated DTLS. */
	latch_init(&l, NULL);
	assert_int_equal(feed_ctx(&l, &dtls_rtp, &s, b, mk_zhello(b)),
	    LATCH_FORWARD_LATCHED);
}

/* A non-RTP leg: what media.c hands over for T.38 over UDPTL. */
static enum latch_verdict
feed_opaque(struct latch *l, const struct latch_ctx *ctx,
    const union sockaddr_any *src, size_t len)
{
	struct rtp_info info;
	enum pkt_keepalive ka;
	enum pkt_kind k = rtp_classify_opaque(len, &info, &ka);

	return latch_input(l, NULL, ctx, src, k, ka, &info);
}

static void
test_opaque(void **state)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000);
	union sockaddr_any s = sa("203.0.113.5", 40000);
	union sockaddr_any t = sa("203.0.113.9", 40000);
	union sockaddr_any s_port = sa("203.0.113.5", 40002);
	struct latch l;
	int i;

	(void)state;
	latch_init(&l, &sdp);
	/* An empty datagram keeps the call alive, latches nothing. */
	assert_int_equal(feed_opaque(&l, NULL, &t, 0), LATCH_ACTIVITY);
	assert_int_equal(l.state, LATCH_SDP);
	/* The first datagram latches; nothing can move it after. */
	assert_int_equal(feed_opaque(&l, NULL, &s, 120),
	    LATCH_FORWARD_LATCHED);
	assert_dest(&l, &s);
	assert_int_equal(l.known, LATCH_KNOWN_NONE);
	for (i = 0; i < 50; i++)
		assert_int_equal(feed_opaque(&l, NULL, &s, 100 + i),
		    LATCH_FORWARD);
	assert_int_equal(feed_opaque(&l, NULL, &t, 120), LATCH_DROP_OPAQUE);
	assert_int_equal(feed_opaque(&l, NULL, &s_port, 120),
	    LATCH_DROP_OPAQUE);
	assert_int_equal(feed_opaque(&l, NULL, &t, 0), LATCH_DROP_KEEPALIVE);
	assert_int_equal(feed_opaque(&l, NULL, &s, 0), LATCH_ACTIVITY);
	assert_int_equal(feed_opaque(&l, &plain_rtcp, &s_port, 120),
	    LATCH_DROP_INVALID);
	assert_dest(&l, &s);
	assert_int_equal(l.verdicts[LATCH_DROP_OPAQUE], 2);

	/* Audio, then a T.38 re-INVITE to the same address: the RTP latch
	 * stays, and only its source may send fax. */
	latch_init(&l, &sdp);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 10),
	    LATCH_FORWARD_LATCHED);
	assert_int_equal(feed_opaque(&l, NULL, &s, 80), LATCH_FORWARD);
	assert_int_equal(feed_opaque(&l, NULL, &t, 80), LATCH_DROP_OPAQUE);
	/* Back to audio after a fax-first latch: the RTP of the latched
	 * source tells the stream, as after a DTLS latch. */
	latch_init(&l, &sdp);
	assert_int_equal(feed_opaque(&l, NULL, &s, 80),
	    LATCH_FORWARD_LATCHED);
	assert_int_equal(feed_rtp(&l, NULL, &t, 0, 11), LATCH_DROP_SSRC);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 11), LATCH_FORWARD);
	assert_int_equal(l.known, LATCH_KNOWN_SEQ);
	assert_int_equal(feed_rtp(&l, NULL, &t, SSRC_A, 12),
	    LATCH_FORWARD_MOVED);
}

static void
test_turn(void **state)
{
	union sockaddr_any s, t = sa("203.0.113.9", 40000);
	struct latch l;
	uint8_t b[64];

	(void)state;
	turn_channel_data(b, 0x4000, sizeof(b));
	latch_init(&l, NULL);
	assert_int_equal(feed(&l, NULL, &t, b, 64), LATCH_DROP_TURN);
	assert_int_equal(l.state, LATCH_SDP);
	latched(&l, &s);
	assert_int_equal(feed(&l, NULL, &s, b, 64), LATCH_DROP_TURN);
	assert_int_equal(feed_ctx(&l, &dtls_rtcp, &s, b, 64),
	    LATCH_DROP_TURN);
	assert_dest(&l, &s);
	assert_int_equal(l.verdicts[LATCH_DROP_TURN], 2);
}

static void
test_names(void **state)
{
	int i;

	(void)state;
	assert_string_equal(latch_state_name(LATCH_SDP), "sdp");
	assert_string_equal(latch_state_name(LATCH_LATCHED), "latched");
	assert_string_equal(latch_state_name(LATCH_STATE_MAX), "unknown");
	assert_string_equal(latch_verdict_name(LATCH_FORWARD), "forward");
	assert_string_equal(latch_verdict_name(LATCH_FORWARD_LATCHED),
	    "forward-latched");
	assert_string_equal(latch_verdict_name(LATCH_FORWARD_MOVED),
	    "forward-moved");
	assert_string_equal(latch_verdict_name(LATCH_ACTIVITY), "activity");
	assert_string_equal(latch_verdict_name(LATCH_DROP_SPOOF),
	    "drop-spoof");
	assert_string_equal(latch_verdict_name(LATCH_DROP_SSRC), "drop-ssrc");
	assert_string_equal(latch_verdict_name(LATCH_DROP_SEQ), "drop-seq");
	assert_string_equal(latch_verdict_name(LATCH_DROP_PT), "drop-pt");
	assert_string_equal(latch_verdict_name(LATCH_DROP_KEEPALIVE),
	    "drop-keepalive");
	assert_string_equal(latch_verdict_name(LATCH_DROP_INVALID),
	    "drop-invalid");
	assert_string_equal(latch_verdict_name(LATCH_DROP_DTLS), "drop-dtls");
	assert_string_equal(latch_verdict_name(LATCH_DROP_DTLS_SDP),
	    "drop-dtls-sdp");
	assert_string_equal(latch_verdict_name(LATCH_DROP_ZRTP), "drop-zrtp");
	assert_string_equal(latch_verdict_name(LATCH_DROP_TURN), "drop-turn");
	assert_string_equal(latch_verdict_name(LATCH_DROP_OPAQUE),
	    "drop-opaque");
	assert_string_equal(latch_verdict_name(LATCH_VERDICT_MAX), "unknown");
	for (i = 0; i < LATCH_VERDICT_MAX; i++)
		assert_non_null(latch_verdict_names[i]);
	assert_string_equal(latch_known_name(LATCH_KNOWN_NONE), "none");
	assert_string_equal(latch_known_name(LATCH_KNOWN_SSRC), "ssrc");
	assert_string_equal(latch_known_name(LATCH_KNOWN_SEQ), "ssrc-seq");
	assert_string_equal(latch_known_name(LATCH_KNOWN_MAX), "unknown");
}

/* Same family and IP, any port: what the RTCP-port rule compares. */
static bool
latch_same_ip_test(const union sockaddr_any *a, const union sockaddr_any *b)
{
	struct addr aa, ab;

	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	sa_to_addr(a, &aa);
	sa_to_addr(b, &ab);
	return addr_eq(&aa, &ab);
}

/* A source from a small pool, so that sources repeat and hit S itself. */
static union sockaddr_any
fuzz_src(const union sockaddr_any *s)
{
	static const char *const ips[] = { "203.0.113.5", "203.0.113.9",
	    "198.51.100.10", "2001:db8::5", "2001:db8:1::9" };
	static const uint16_t ports[] = { 40000, 40001, 4000 };

	if (rng() % 4 == 0)
		return *s;
	return sa(ips[rng() % 5], ports[rng() % 3]);
}

/*
 * Property: the latch moves only onto RTP carrying the SSRC that was
 * latched just before, with a seq 1..window ahead, from another source;
 * nothing else ever changes where media goes.
 */
static void
test_fuzz(void **state)
{
	union sockaddr_any sdp = sa("198.51.100.10", 4000), s, src;
	uint64_t mask[2] = { UINT64_C(1) | UINT64_C(1) << 8, 0 };
	struct latch l, before;
	struct latch_ctx ctx;
	struct rtp_info info;
	enum pkt_keepalive ka;
	enum latch_verdict v;
	enum pkt_kind k;
	uint8_t b[256], *p;
	size_t len, i;
	uint64_t total = 0;
	uint16_t ahead;
	bool fwd;
	int r;

	(void)state;
	rng_state = UINT64_C(0xfeedfacecafebeef);
	latch_init(&l, &sdp);
	s = sa("203.0.113.5", 40000);
	assert_int_equal(feed_rtp(&l, NULL, &s, SSRC_A, 1000),
	    LATCH_FORWARD_LATCHED);
	for (r = 0; r < FUZZ_ROUNDS; r++) {
		src = fuzz_src(&l.addr);
		ctx.dtls = rng() % 2;
		ctx.rtcp_port = rng() % 8 == 0;
		switch (r % 6) {
		case 0:		/* random bytes */
			len = rng() % sizeof(b);
			for (i = 0; i < len; i++)
				b[i] = (uint8_t)rng();
			break;
		case 1:		/* well-formed RTP, random SSRC and seq */
			len = mk_rtp(b, rng() % 2 ? 0 : 96, (uint32_t)rng(),
			    (uint16_t)rng(), 12 + rng() % 200);
			break;
		case 2:		/* the latched SSRC, seq near the last one */
			len = mk_rtp(b, rng() % 8 ? 0 : 8, l.ssrc,
			    (uint16_t)(l.seq + rng() % 300 - 100),
			    12 + rng() % 200);
			break;
		case 3:		/* keepalive or RTCP with the latched SSRC */
			if (rng() % 2)
				len = mk_rtcp(b, l.ssrc);
			else
				len = mk_rtp(b, 0, l.ssrc,
				    (uint16_t)(l.seq + 1), 12);
			break;
		case 4:		/* handshakes that may latch a fresh leg */
			len = rng() % 2 ? mk_hs(b, DTLS_HS_CLIENT_HELLO) :
			    mk_zhello(b);
			break;
		default:	/* DTLS records, TURN */
			len = rng() % 4 ? mk_appdata(b) :
			    turn_channel_data(b, 0x4000, 4 + rng() % 60);
			break;
		}
		p = malloc(len > 0 ? len : 1);
		assert_non_null(p);
		memcpy(p, b, len);
		k = rtp_classify(p, len, r % 5 ? mask : NULL, &info, &ka);
		free(p);
		before = l;
		v = latch_input(&l, NULL, &ctx, &src, k, ka, &info);
		assert_in_range(v, 0, LATCH_VERDICT_MAX - 1);
		assert_int_equal(l.state, LATCH_LATCHED);
		assert_int_equal(l.verdicts[v], before.verdicts[v] + 1);
		if (v == LATCH_FORWARD_MOVED) {
			assert_int_equal(k, PKT_RTP);
			assert_int_equal(ka, KA_NONE);
			assert_false(ctx.rtcp_port);
			assert_int_equal(before.known, LATCH_KNOWN_SEQ);
			assert_true(info.pt_ok);
			assert_int_equal(info.ssrc, before.ssrc);
			assert_false(sa_eq(&src, &before.addr));
			ahead = (uint16_t)(info.seq - before.seq);
			assert_in_range(ahead, 1, LATCH_SEQ_WINDOW);
			assert_true(sa_eq(&l.addr, &src));
			assert_int_equal(l.seq, info.seq);
		} else {
			assert_int_not_equal(v, LATCH_FORWARD_LATCHED);
			assert_true(sa_eq(&l.addr, &before.addr));
		}
		if (l.ssrc != before.ssrc && v != LATCH_FORWARD_MOVED) {
			/* Only the latched source may restart its stream. */
			assert_int_equal(v, LATCH_FORWARD);
			assert_true(sa_eq(&src, &before.addr));
			assert_int_equal(l.ssrc_changes,
			    before.ssrc_changes + 1);
		}
		if (k == PKT_KEEPALIVE)
			assert_true(v == LATCH_ACTIVITY ||
			    v == LATCH_DROP_KEEPALIVE);
		if (k == PKT_RTCP)
			assert_true(v == LATCH_FORWARD ||
			    v == LATCH_DROP_SPOOF);
		if (k == PKT_INVALID)
			assert_int_equal(v, LATCH_DROP_INVALID);
		if (k == PKT_TURN)
			assert_int_equal(v, LATCH_DROP_TURN);
		/* Handshakes never change where media goes, nor what the
		 * latch knows. */
		if (k == PKT_DTLS || k == PKT_ZRTP) {
			assert_true(v == LATCH_FORWARD ||
			    v == LATCH_DROP_DTLS || v == LATCH_DROP_DTLS_SDP ||
			    v == LATCH_DROP_ZRTP || v == LATCH_DROP_INVALID);
			assert_int_equal(l.known, before.known);
			assert_int_equal(l.ssrc, before.ssrc);
			if (k == PKT_DTLS)
				fwd = ctx.dtls && (ctx.rtcp_port ?
				    latch_same_ip_test(&src, &before.addr) :
				    sa_eq(&src, &before.addr));
			else
				fwd = !ctx.rtcp_port &&
				    sa_eq(&src, &before.addr);
			assert_int_equal(v == LATCH_FORWARD, fwd);
			if (k == PKT_DTLS && !ctx.dtls)
				assert_int_equal(v, LATCH_DROP_DTLS_SDP);
		}
	}
	for (i = 0; i < LATCH_VERDICT_MAX; i++)
		total += l.verdicts[i];
	assert_int_equal(total, FUZZ_ROUNDS + 1);
	/* The run must have exercised both sides of the property. */
	assert_true(l.verdicts[LATCH_FORWARD_MOVED] > 0);
	assert_true(l.verdicts[LATCH_DROP_SSRC] > 0);
	assert_true(l.verdicts[LATCH_DROP_SEQ] > 0);
	assert_true(l.verdicts[LATCH_DROP_SPOOF] > 0);
	assert_true(l.verdicts[LATCH_DROP_KEEPALIVE] > 0);
	assert_true(l.verdicts[LATCH_DROP_DTLS] > 0);
	assert_true(l.verdicts[LATCH_DROP_DTLS_SDP] > 0);
	assert_true(l.verdicts[LATCH_DROP_ZRTP] > 0);
	assert_true(l.verdicts[LATCH_DROP_TURN] > 0);
	assert_true(l.ssrc_changes > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_first_rtp_latches),
		cmocka_unit_test(test_unknown_pt_never_latches),
		cmocka_unit_test(test_keepalives_never_latch),
		cmocka_unit_test(test_rtcp_never_latches),
		cmocka_unit_test(test_ssrc_change_from_latched),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_seq_window),
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_spoofer),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_dtls_latches),
		cmocka_unit_test(test_dtls_spoofer),
		cmocka_unit_test(test_dtls_then_rtp),
		cmocka_unit_test(test_dtls_not_negotiated),
		cmocka_unit_test(test_dtls_rtcp_port),
		cmocka_unit_test(test_zrtp_latches),
		cmocka_unit_test(test_opaque),
		cmocka_unit_test(test_turn),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
