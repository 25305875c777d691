/*
 * Unit tests for relay/rtp.c: every keepalive form of RFC 6263, the RTP
 * header length rules (CSRC, extension, padding) at their exact limits, the
 * RFC 5761 RTP/RTCP boundary, the RFC 7983 first-byte ranges (every first
 * byte, 1-byte datagrams included), DTLS records (chains, truncations,
 * lying lengths, trailing garbage, the DTLS 1.3 unified header), ZRTP
 * (CRC-32C, cookie, lying lengths, Hello shape), payload type sets, name
 * tables, and seeded fuzz loops (random bytes and mutations of valid
 * packets) that check the classification invariants on exact-size heap
 * copies.
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

#include "relay/rtp.h"
#include "common/tests/testutil.h"
#include "relay/tests/mkpkt.h"

#define FUZZ_ROUNDS	10000

struct spec {
	unsigned int	v;		/* version bits */
	unsigned int	cc;		/* CSRC count */
	bool		m;
	unsigned int	pt;
	uint16_t	seq;
	uint32_t	ts;
	uint32_t	ssrc;
	int		ext;		/* extension words, -1 for none */
	size_t		payload;
	unsigned int	pad;		/* padding bytes incl. count, 0 = none */
};

static const struct spec base = {
	.v = 2, .pt = 0, .seq = 0x1234, .ts = 0xdeadbeef,
	.ssrc = 0x01020304, .ext = -1, .payload = 160,
};


/* Lay out an RTP packet from s; payload bytes are 0xa5, padding zeros. */
static size_t
build(uint8_t *b, size_t cap, const struct spec *s)
{
	size_t n = 12, i;

	assert_true(12 + 4 * s->cc + 4 + 4 * (s->ext < 0 ? 0 : s->ext) +
	    s->payload + s->pad <= cap);
	memset(b, 0, cap);
	b[0] = (uint8_t)(s->v << 6 | (s->pad ? 0x20 : 0) |
	    (s->ext >= 0 ? 0x10 : 0) | (s->cc & 0x0f));
	b[1] = (uint8_t)((s->m ? 0x80 : 0) | (s->pt & 0x7f));
	put16(b + 2, s->seq);
	put32(b + 4, s->ts);
	put32(b + 8, s->ssrc);
	for (i = 0; i < s->cc; i++, n += 4)
		put32(b + n, 0x10000000u + (uint32_t)i);
	if (s->ext >= 0) {
		put16(b + n, 0xbede);
		put16(b + n + 2, (uint16_t)s->ext);
		n += 4 + 4 * (size_t)s->ext;
	}
	memset(b + n, 0xa5, s->payload);
	n += s->payload;
	if (s->pad) {
		n += s->pad;
		b[n - 1] = (uint8_t)s->pad;
	}
	return n;
}

/* Classify an exact-size heap copy so ASan sees any over-read. */
static enum pkt_kind
classify(const uint8_t *in, size_t len, const uint64_t *mask,
    struct rtp_info *info, enum pkt_keepalive *ka)
{
	uint8_t *p = malloc(len > 0 ? len : 1);
	enum pkt_kind k;

	assert_non_null(p);
	if (len > 0)
		memcpy(p, in, len);
	k = rtp_classify(p, len, mask, info, ka);
	free(p);
	return k;
}

static void
expect_invalid(const uint8_t *in, size_t len, enum pkt_error e)
{
	struct rtp_info info;
	enum pkt_keepalive ka;

	memset(&info, 0x5a, sizeof(info));
	ka = KA_STUN;
	assert_int_equal(classify(in, len, NULL, &info, &ka), PKT_INVALID);
	assert_int_equal(ka, KA_NONE);
	assert_int_equal(info.error, e);
	assert_int_equal(info.hdr_len, 0);
	assert_int_equal(info.payload_len, 0);
	assert_int_equal(info.ssrc, 0);
}

static void
expect_ka(const uint8_t *in, size_t len, const uint64_t *mask,
    enum pkt_keepalive want)
{
	struct rtp_info info;
	enum pkt_keepalive ka;

	assert_int_equal(classify(in, len, mask, &info, &ka), PKT_KEEPALIVE);
	assert_int_equal(ka, want);
	assert_int_equal(info.error, PKT_ERR_NONE);
}

static size_t
stun(uint8_t *b, uint16_t type, uint16_t attrlen, uint32_t cookie)
{
	memset(b, 0, 20 + attrlen);
	put16(b, type);
	put16(b + 2, attrlen);
	put32(b + 4, cookie);
	memset(b + 8, 0x77, 12);	/* transaction id */
	return 20 + attrlen;
}

static void
expect_dtls(const uint8_t *in, size_t len, uint8_t content, uint16_t epoch,
    int hs_type, unsigned int records)
{
	struct rtp_info info;
	enum pkt_keepalive ka;

	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(classify(in, len, NULL, &info, &ka), PKT_DTLS);
	assert_int_equal(ka, KA_NONE);
	assert_int_equal(info.error, PKT_ERR_NONE);
	assert_int_equal(info.dtls.content, content);
	assert_int_equal(info.dtls.epoch, epoch);
	assert_int_equal(info.dtls.hs_type, hs_type);
	assert_int_equal(info.dtls.records, records);
	assert_int_equal(info.ssrc, 0);
	assert_int_equal(info.zrtp.msg, ZRTP_MSG_OTHER);
}

static void
test_empty(void **state)
{
	static const uint8_t one[1] = { 0 };
	struct rtp_info info;
	enum pkt_keepalive ka;

	(void)state;
	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(rtp_classify(NULL, 0, NULL, &info, &ka),
	    PKT_KEEPALIVE);
	assert_int_equal(ka, KA_EMPTY);
	assert_int_equal(info.version, 0);
	assert_int_equal(info.hdr_len, 0);
	assert_int_equal(info.error, PKT_ERR_NONE);
	assert_int_equal(rtp_classify(one, 0, NULL, &info, &ka),
	    PKT_KEEPALIVE);
	assert_int_equal(ka, KA_EMPTY);
}

static void
test_null_buffer(void **state)
{
	struct rtp_info info;
	enum pkt_keepalive ka;

	(void)state;
	assert_int_equal(rtp_classify(NULL, 172, NULL, &info, &ka),
	    PKT_INVALID);
	assert_int_equal(info.error, PKT_ERR_NULL);
	assert_int_equal(ka, KA_NONE);
}

static void
test_null_outputs(void **state)
{
	uint8_t b[256];
	size_t n = build(b, sizeof(b), &base);

	(void)state;
	assert_int_equal(rtp_classify(b, n, NULL, NULL, NULL), PKT_RTP);
	assert_int_equal(rtp_classify(b, 3, NULL, NULL, NULL), PKT_INVALID);
	assert_int_equal(rtp_classify(b, 0, NULL, NULL, NULL), PKT_KEEPALIVE);
}

static void
test_stun(void **state)
{
	/* Binding request, indication, success and error response. */
	static const uint16_t binding[] = { 0x0001, 0x0011, 0x0101, 0x0111 };
	uint8_t b[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(binding) / sizeof(binding[0]); i++) {
		n = stun(b, binding[i], 0, STUN_MAGIC_COOKIE);
		expect_ka(b, n, NULL, KA_STUN);
		n = stun(b, binding[i], 12, STUN_MAGIC_COOKIE);
		expect_ka(b, n, NULL, KA_STUN);
	}
	/* TURN Allocate request, ChannelBind indication. */
	n = stun(b, 0x0003, 0, STUN_MAGIC_COOKIE);
	expect_invalid(b, n, PKT_ERR_STUN_METHOD);
	n = stun(b, 0x0019, 8, STUN_MAGIC_COOKIE);
	expect_invalid(b, n, PKT_ERR_STUN_METHOD);
	/* Method 0x201 shares the low bits with Binding. */
	n = stun(b, 0x0201, 0, STUN_MAGIC_COOKIE);
	expect_invalid(b, n, PKT_ERR_STUN_METHOD);
	/* Length field says 4 more bytes than there are. */
	n = stun(b, 0x0001, 4, STUN_MAGIC_COOKIE);
	expect_invalid(b, n - 4, PKT_ERR_STUN_LEN);
	/* Length not a multiple of 4, though consistent. */
	n = stun(b, 0x0001, 2, STUN_MAGIC_COOKIE);
	expect_invalid(b, n, PKT_ERR_STUN_LEN);
	/* Datagram longer than the length field says. */
	n = stun(b, 0x0001, 0, STUN_MAGIC_COOKIE);
	expect_invalid(b, n + 4, PKT_ERR_STUN_LEN);
	/* Cookie present but shorter than a STUN header. */
	expect_invalid(b, 19, PKT_ERR_STUN_LEN);
	expect_invalid(b, 8, PKT_ERR_STUN_LEN);
	/* No cookie: an old RFC 3489 message looks like RTP v0. */
	n = stun(b, 0x0001, 0, 0x01020304);
	expect_ka(b, n, NULL, KA_RTP_V0);
}

static void
test_rtp_v0(void **state)
{
	struct spec s = base;
	struct rtp_info info;
	enum pkt_keepalive ka;
	uint8_t b[256];
	size_t n;

	(void)state;
	s.v = 0;
	s.payload = 0;
	n = build(b, sizeof(b), &s);
	assert_int_equal(n, 12);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_KEEPALIVE);
	assert_int_equal(ka, KA_RTP_V0);
	assert_int_equal(info.version, 0);
	assert_int_equal(info.ssrc, 0);
	s.payload = 160;
	n = build(b, sizeof(b), &s);
	expect_ka(b, n, NULL, KA_RTP_V0);
	expect_invalid(b, 11, PKT_ERR_V0_SHORT);
	expect_invalid(b, 7, PKT_ERR_V0_SHORT);
	expect_invalid(b, 1, PKT_ERR_V0_SHORT);
}

static void
test_bad_version(void **state)
{
	struct spec s = base;
	uint8_t b[256];
	size_t n;

	(void)state;
	/* Version 1 without the X bit is TURN ChannelData's range now. */
	s.v = 1;
	n = build(b, sizeof(b), &s);
	assert_int_equal(b[0], 0x40);
	assert_int_equal(classify(b, n, NULL, NULL, NULL), PKT_TURN);
	b[0] = 0x50;
	expect_invalid(b, n, PKT_ERR_VERSION);
	expect_invalid(b, 1, PKT_ERR_VERSION);
	s.v = 3;
	n = build(b, sizeof(b), &s);
	expect_invalid(b, n, PKT_ERR_VERSION);
	/* RTCP second octet does not rescue a wrong version. */
	b[1] = 200;
	expect_invalid(b, n, PKT_ERR_VERSION);
}

static void
test_rtp_fields(void **state)
{
	struct spec s = base;
	struct rtp_info info;
	enum pkt_keepalive ka;
	uint8_t b[256];
	size_t n;

	(void)state;
	s.m = true;
	s.pt = 8;
	n = build(b, sizeof(b), &s);
	assert_int_equal(n, 172);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_RTP);
	assert_int_equal(ka, KA_NONE);
	assert_int_equal(info.version, 2);
	assert_int_equal(info.pt, 8);
	assert_true(info.marker);
	assert_true(info.pt_ok);
	assert_int_equal(info.seq, 0x1234);
	assert_int_equal(info.ts, 0xdeadbeef);
	assert_int_equal(info.ssrc, 0x01020304);
	assert_int_equal(info.hdr_len, 12);
	assert_int_equal(info.payload_len, 160);
	assert_int_equal(info.error, PKT_ERR_NONE);

	s.m = false;
	s.payload = 1;
	n = build(b, sizeof(b), &s);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_RTP);
	assert_false(info.marker);
	assert_int_equal(info.payload_len, 1);
}

static void
test_rtp_short(void **state)
{
	uint8_t b[256];
	size_t n = build(b, sizeof(b), &base);

	(void)state;
	(void)n;
	expect_invalid(b, 11, PKT_ERR_RTP_SHORT);
	expect_invalid(b, 2, PKT_ERR_RTP_SHORT);
	expect_invalid(b, 1, PKT_ERR_RTP_SHORT);
}

static void
test_csrc(void **state)
{
	struct spec s = base;
	struct rtp_info info;
	enum pkt_keepalive ka;
	uint8_t b[256];
	size_t n;

	(void)state;
	s.cc = 15;
	s.payload = 0;
	n = build(b, sizeof(b), &s);
	assert_int_equal(n, 72);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_KEEPALIVE);
	assert_int_equal(ka, KA_EMPTY_PAYLOAD);
	assert_int_equal(info.hdr_len, 72);
	assert_int_equal(info.payload_len, 0);
	assert_int_equal(info.ssrc, 0x01020304);
	expect_invalid(b, 71, PKT_ERR_CSRC);
	expect_invalid(b, 12, PKT_ERR_CSRC);

	s.cc = 2;
	s.payload = 1;
	n = build(b, sizeof(b), &s);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_RTP);
	assert_int_equal(info.hdr_len, 20);
	assert_int_equal(info.payload_len, 1);
}

static void
test_extension(void **state)
{
	struct spec s = base;
	struct rtp_info info;
	enum pkt_keepalive ka;
	uint8_t b[256];
	size_t n;

	(void)state;
	s.ext = 0;
	s.payload = 10;
	n = build(b, sizeof(b), &s);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_RTP);
	assert_int_equal(info.hdr_len, 16);
	assert_int_equal(info.payload_len, 10);

	s.cc = 1;
	s.ext = 3;
	n = build(b, sizeof(b), &s);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_RTP);
	assert_int_equal(info.hdr_len, 32);
	assert_int_equal(info.payload_len, 10);
	/* Extension body exactly fills the packet: empty payload. */
	expect_ka(b, 32, NULL, KA_EMPTY_PAYLOAD);
	expect_invalid(b, 31, PKT_ERR_EXT);
	/* Extension header itself cut short. */
	expect_invalid(b, 19, PKT_ERR_EXT);
	expect_invalid(b, 16, PKT_ERR_EXT);

	/* Length field pointing far past the end. */
	s.cc = 0;
	s.ext = 0;
	n = build(b, sizeof(b), &s);
	put16(b + 14, 0xffff);
	expect_invalid(b, n, PKT_ERR_EXT);
}

static void
test_padding(void **state)
{
	struct spec s = base;
	struct rtp_info info;
	enum pkt_keepalive ka;
	uint8_t b[256];
	size_t n;

	(void)state;
	s.payload = 10;
	s.pad = 4;
	n = build(b, sizeof(b), &s);
	assert_int_equal(n, 26);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_RTP);
	assert_int_equal(info.hdr_len, 12);
	assert_int_equal(info.payload_len, 10);

	/* Padding eats all that follows the header. */
	s.payload = 0;
	n = build(b, sizeof(b), &s);
	expect_ka(b, n, NULL, KA_EMPTY_PAYLOAD);
	/* One byte more than follows the header. */
	b[n - 1] = 5;
	expect_invalid(b, n, PKT_ERR_PAD_LEN);
	b[n - 1] = 255;
	expect_invalid(b, n, PKT_ERR_PAD_LEN);
	b[n - 1] = 0;
	expect_invalid(b, n, PKT_ERR_PAD_ZERO);

	/* 12-byte packet with P set: the count is the SSRC's last byte. */
	s.pad = 0;
	n = build(b, sizeof(b), &s);
	b[0] |= 0x20;
	b[11] = 0;
	expect_invalid(b, 12, PKT_ERR_PAD_ZERO);
	b[11] = 1;
	expect_invalid(b, 12, PKT_ERR_PAD_LEN);

	/* Padding behind CSRCs and an extension. */
	s.cc = 3;
	s.ext = 2;
	s.payload = 7;
	s.pad = 3;
	n = build(b, sizeof(b), &s);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_RTP);
	assert_int_equal(info.hdr_len, 12 + 12 + 4 + 8);
	assert_int_equal(info.payload_len, 7);
	b[n - 1] = 10;
	expect_ka(b, n, NULL, KA_EMPTY_PAYLOAD);
	b[n - 1] = 11;
	expect_invalid(b, n, PKT_ERR_PAD_LEN);
}

static void
test_pt_mask(void **state)
{
	struct spec s = base;
	struct rtp_info info;
	enum pkt_keepalive ka;
	uint64_t mask[2];
	uint8_t b[256];
	size_t n;

	(void)state;
	memset(mask, 0xff, sizeof(mask));
	rtp_pt_mask_clear(mask);
	assert_int_equal(mask[0], 0);
	assert_int_equal(mask[1], 0);
	rtp_pt_mask_add(mask, 0);
	rtp_pt_mask_add(mask, 8);
	rtp_pt_mask_add(mask, 101);
	rtp_pt_mask_add(mask, 127);
	rtp_pt_mask_add(mask, 128);	/* ignored */
	rtp_pt_mask_add(mask, 1000);	/* ignored */
	assert_int_equal(mask[0], UINT64_C(1) | UINT64_C(1) << 8);
	assert_int_equal(mask[1], UINT64_C(1) << 37 | UINT64_C(1) << 63);
	assert_true(rtp_pt_mask_has(mask, 101));
	assert_false(rtp_pt_mask_has(mask, 96));
	assert_false(rtp_pt_mask_has(mask, 128));

	/* Negotiated PT with payload. */
	n = build(b, sizeof(b), &s);
	assert_int_equal(classify(b, n, mask, &info, &ka), PKT_RTP);
	assert_true(info.pt_ok);
	/* Unknown PT with payload: RTP, but flagged. */
	s.pt = 96;
	n = build(b, sizeof(b), &s);
	assert_int_equal(classify(b, n, mask, &info, &ka), PKT_RTP);
	assert_int_equal(ka, KA_NONE);
	assert_false(info.pt_ok);
	assert_int_equal(info.pt, 96);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_RTP);
	assert_true(info.pt_ok);
	/* Unknown PT, empty payload: the RFC 6263 s4.6 keepalive. */
	s.payload = 0;
	n = build(b, sizeof(b), &s);
	assert_int_equal(classify(b, n, mask, &info, &ka), PKT_KEEPALIVE);
	assert_int_equal(ka, KA_UNKNOWN_PT);
	assert_int_equal(info.ssrc, 0x01020304);
	assert_int_equal(info.seq, 0x1234);
	assert_false(info.pt_ok);
	/* Without a set any PT is known: only the payload is missing. */
	expect_ka(b, n, NULL, KA_EMPTY_PAYLOAD);
	s.pt = 101;
	n = build(b, sizeof(b), &s);
	expect_ka(b, n, mask, KA_EMPTY_PAYLOAD);
}

static void
test_rtcp_mux(void **state)
{
	struct spec s = base;
	struct rtp_info info;
	enum pkt_keepalive ka;
	uint8_t b[256];
	size_t n;
	unsigned int o;

	(void)state;
	/* RFC 5761 s4: 192..223 is RTCP, so RTP PT 64..95 is not usable. */
	s.m = true;
	s.pt = 63;
	n = build(b, sizeof(b), &s);
	assert_int_equal(b[1], 191);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_RTP);
	assert_int_equal(info.pt, 63);
	s.pt = 96;
	n = build(b, sizeof(b), &s);
	assert_int_equal(b[1], 224);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_RTP);
	assert_int_equal(info.pt, 96);
	for (o = 192; o <= 223; o++) {
		memset(b, 0, sizeof(b));
		b[0] = 0x81;
		b[1] = (uint8_t)o;
		put16(b + 2, 1);
		put32(b + 4, 0xcafef00d);
		assert_int_equal(classify(b, 8, NULL, &info, &ka), PKT_RTCP);
		assert_int_equal(ka, KA_RTCP);
		assert_int_equal(info.version, 2);
		assert_int_equal(info.pt, o);
		assert_int_equal(info.ssrc, 0xcafef00d);
		assert_int_equal(info.hdr_len, 8);
		assert_int_equal(info.payload_len, 0);
		assert_int_equal(info.error, PKT_ERR_NONE);
	}
	/* Receiver report with one block, then an SRTCP-like trailer. */
	memset(b, 0, sizeof(b));
	b[0] = 0x81;
	b[1] = 201;
	put16(b + 2, 7);
	put32(b + 4, 0x11223344);
	assert_int_equal(classify(b, 32, NULL, &info, &ka), PKT_RTCP);
	assert_int_equal(info.payload_len, 24);
	assert_int_equal(classify(b, 46, NULL, &info, &ka), PKT_RTCP);
	expect_invalid(b, 31, PKT_ERR_RTCP_LEN);
	put16(b + 2, 0xffff);
	expect_invalid(b, 46, PKT_ERR_RTCP_LEN);
	put16(b + 2, 0);
	expect_invalid(b, 7, PKT_ERR_RTCP_SHORT);
	expect_invalid(b, 2, PKT_ERR_RTCP_SHORT);
	/* A 4-byte RTCP header with length 0 does not reach the SSRC. */
	expect_invalid(b, 4, PKT_ERR_RTCP_SHORT);
}

static void
test_first_byte_ranges(void **state)
{
	struct rtp_info info;
	enum pkt_keepalive ka;
	enum pkt_kind k;
	uint8_t b[1];
	unsigned int v;

	(void)state;
	/* A 1-byte datagram of every first byte. */
	for (v = 0; v < 256; v++) {
		b[0] = (uint8_t)v;
		memset(&info, 0x5a, sizeof(info));
		k = classify(b, 1, NULL, &info, &ka);
		if (v <= 19) {
			/* STUN, v0 and ZRTP all need more: too short for v0. */
			assert_int_equal(k, PKT_INVALID);
			assert_int_equal(info.error, PKT_ERR_V0_SHORT);
		} else if (v <= 25) {
			assert_int_equal(k, PKT_INVALID);
			assert_int_equal(info.error, PKT_ERR_DTLS_SHORT);
		} else if (v <= 31) {
			assert_int_equal(k, PKT_INVALID);
			assert_int_equal(info.error, PKT_ERR_DTLS_TYPE);
		} else if (v <= 63) {
			/* Unified header: CID, seq, length, 16 bytes missing. */
			assert_int_equal(k, PKT_INVALID);
			assert_true(info.error == PKT_ERR_DTLS_SHORT ||
			    info.error == PKT_ERR_DTLS13_SHORT);
		} else if (v <= 79) {
			assert_int_equal(k, PKT_TURN);
			assert_int_equal(info.error, PKT_ERR_NONE);
		} else if (v <= 127 || v >= 192) {
			assert_int_equal(k, PKT_INVALID);
			assert_int_equal(info.error, PKT_ERR_VERSION);
		} else {
			assert_int_equal(k, PKT_INVALID);
			assert_int_equal(info.error, PKT_ERR_RTP_SHORT);
		}
		if (k != PKT_KEEPALIVE)
			assert_int_equal(ka, KA_NONE);
	}
}

static void
test_v0_ranges(void **state)
{
	uint8_t b[64];
	size_t n;
	unsigned int v;

	(void)state;
	/* 0-19 without a STUN or ZRTP cookie: an RTP v0 keepalive. */
	for (v = 0; v <= 19; v++) {
		memset(b, 0, 12);
		b[0] = (uint8_t)v;
		expect_ka(b, 12, NULL, KA_RTP_V0);
		expect_invalid(b, 11, PKT_ERR_V0_SHORT);
	}
	/* The STUN cookie counts only where STUN lives (0-3). */
	n = stun(b, 0x0401, 0, STUN_MAGIC_COOKIE);
	expect_ka(b, n, NULL, KA_RTP_V0);
	n = stun(b, 0x1001, 0, STUN_MAGIC_COOKIE);
	expect_ka(b, n, NULL, KA_RTP_V0);
	/* The ZRTP cookie only behind 0x1000. */
	n = zrtp(b, "HelloACK", 0, 1);
	b[0] = 0x04;
	expect_ka(b, n, NULL, KA_RTP_V0);
}

static void
test_crc32c(void **state)
{
	static const unsigned int none[5];
	uint8_t b[128];
	size_t n;

	(void)state;
	assert_int_equal(rtp_crc32c((const uint8_t *)"123456789", 9),
	    0xE3069283u);
	assert_int_equal(rtp_crc32c(b, 0), 0);
	/* 32 zero bytes: the RFC 3720 B.4 test vector. */
	memset(b, 0, 32);
	assert_int_equal(rtp_crc32c(b, 32), 0x8A9136AAu);
	/* The packet Wireshark checked: CRC carried LSB first. */
	n = zrtp_hello(b, none);
	assert_int_equal(n, 104);
	assert_int_equal(rtp_crc32c(b, n - 4), 0xbf92418au);
	assert_int_equal(b[100], 0x8a);
	assert_int_equal(b[101], 0x41);
	assert_int_equal(b[102], 0x92);
	assert_int_equal(b[103], 0xbf);
}

static void
test_zrtp(void **state)
{
	static const unsigned int none[5], some[5] = { 1, 2, 3, 1, 7 };
	struct rtp_info info;
	enum pkt_keepalive ka;
	uint8_t b[256];
	size_t n;
	int m;

	(void)state;
	n = zrtp_hello(b, none);
	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_ZRTP);
	assert_int_equal(ka, KA_NONE);
	assert_int_equal(info.error, PKT_ERR_NONE);
	assert_int_equal(info.zrtp.msg, ZRTP_MSG_HELLO);
	assert_int_equal(info.zrtp.seq, 1);
	assert_int_equal(info.ssrc, 0xdeadbeef);
	assert_int_equal(info.version, 0);
	assert_int_equal(info.dtls.records, 0);
	n = zrtp_hello(b, some);
	assert_int_equal(n, 104 + 4 * 14);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_ZRTP);
	assert_int_equal(info.zrtp.msg, ZRTP_MSG_HELLO);

	/* Every message type by its block; others are still ZRTP. */
	for (m = ZRTP_MSG_HELLOACK; m < ZRTP_MSG_MAX; m++) {
		char block[9];

		snprintf(block, sizeof(block), "%-8s", zrtp_msg_name(m));
		n = zrtp(b, block, 5, 0x01020304);
		assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_ZRTP);
		assert_int_equal(info.zrtp.msg, m);
		assert_int_equal(info.ssrc, 0x01020304);
	}
	n = zrtp(b, "Foo     ", 0, 1);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_ZRTP);
	assert_int_equal(info.zrtp.msg, ZRTP_MSG_OTHER);
	n = zrtp(b, "hello   ", 19, 1);	/* case matters */
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_ZRTP);
	assert_int_equal(info.zrtp.msg, ZRTP_MSG_OTHER);
	n = zrtp(b, "Hello  x", 19, 1);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_ZRTP);
	assert_int_equal(info.zrtp.msg, ZRTP_MSG_OTHER);
	n = zrtp(b, "HelloACK", 0, 1);
	assert_int_equal(n, ZRTP_MIN_LEN);
	assert_int_equal(classify(b, n, NULL, &info, &ka), PKT_ZRTP);
	assert_int_equal(info.zrtp.msg, ZRTP_MSG_HELLOACK);
}

static void
test_zrtp_hostile(void **state)
{
	static const unsigned int none[5], eight[5] = { 8, 0, 0, 0, 0 };
	struct rtp_info info;
	uint8_t b[256];
	size_t n, i;

	(void)state;
	/* Bad CRC: one bit of the body, one of the CRC, or big-endian. */
	n = zrtp_hello(b, none);
	b[40] ^= 0x01;
	expect_invalid(b, n, PKT_ERR_ZRTP_CRC);
	n = zrtp_hello(b, none);
	b[n - 1] ^= 0x80;
	expect_invalid(b, n, PKT_ERR_ZRTP_CRC);
	n = zrtp_hello(b, none);
	put32(b + n - 4, rtp_crc32c(b, n - 4));
	expect_invalid(b, n, PKT_ERR_ZRTP_CRC);
	/* A changed source id is caught by the CRC too. */
	n = zrtp_hello(b, none);
	b[8] ^= 0x01;
	expect_invalid(b, n, PKT_ERR_ZRTP_CRC);

	/* Bad cookie or header: not ZRTP at all, an RTP v0 keepalive. */
	n = zrtp_hello(b, none);
	b[7] = 'Q';
	expect_ka(b, n, NULL, KA_RTP_V0);
	n = zrtp_hello(b, none);
	b[1] = 0x01;
	expect_ka(b, n, NULL, KA_RTP_V0);
	n = zrtp_hello(b, none);
	b[0] = 0x11;
	expect_ka(b, n, NULL, KA_RTP_V0);

	/* Lying length fields (the CRC made right, so the length decides). */
	for (i = 0; i < 4; i++) {
		static const uint16_t lie[] = { 21, 23, 0, 0xffff };

		n = zrtp_hello(b, none);
		put16(b + 14, lie[i]);
		zrtp_fix_crc(b, n);
		expect_invalid(b, n, PKT_ERR_ZRTP_LEN);
	}
	/* Datagram longer than the message and its CRC. */
	n = zrtp_hello(b, none);
	memset(b + n, 0, 4);
	expect_invalid(b, n + 4, PKT_ERR_ZRTP_LEN);
	expect_invalid(b, n + 1, PKT_ERR_ZRTP_LEN);
	/* Wrong preamble. */
	n = zrtp_hello(b, none);
	put16(b + 12, 0x505b);
	zrtp_fix_crc(b, n);
	expect_invalid(b, n, PKT_ERR_ZRTP_PREAMBLE);

	/* Every truncation: never ZRTP, never read past the end. */
	n = zrtp_hello(b, none);
	for (i = 1; i < n; i++) {
		memset(&info, 0, sizeof(info));
		assert_int_equal(classify(b, i, NULL, &info, NULL),
		    PKT_INVALID);
		assert_int_equal(info.error, i < 8 ? PKT_ERR_V0_SHORT :
		    i < ZRTP_MIN_LEN ? PKT_ERR_ZRTP_SHORT : PKT_ERR_ZRTP_LEN);
	}

	/* A Hello whose counts and length disagree, or count over 7. */
	n = zrtp_hello(b, none);
	put32(b + 88, 1);		/* one SAS type, no room made */
	zrtp_fix_crc(b, n);
	expect_invalid(b, n, PKT_ERR_ZRTP_HELLO);
	n = zrtp_hello(b, eight);
	expect_invalid(b, n, PKT_ERR_ZRTP_HELLO);
	/* A Hello too short for its fixed fields. */
	n = zrtp(b, "Hello   ", 18, 1);
	expect_invalid(b, n, PKT_ERR_ZRTP_HELLO);
	n = zrtp(b, "Hello   ", 0, 1);
	expect_invalid(b, n, PKT_ERR_ZRTP_HELLO);
}

static void
test_dtls(void **state)
{
	uint8_t b[512];
	size_t n;

	(void)state;
	/* ClientHello: DTLS 1.0 record version, epoch 0. */
	n = dtls_rec(b, 22, 0xfeff, 0, DTLS_HS_CLIENT_HELLO, 150);
	expect_dtls(b, n, 22, 0, DTLS_HS_CLIENT_HELLO, 1);
	/* HelloVerifyRequest. */
	n = dtls_rec(b, 22, 0xfeff, 0, DTLS_HS_HELLO_VERIFY_REQUEST, 35);
	expect_dtls(b, n, 22, 0, DTLS_HS_HELLO_VERIFY_REQUEST, 1);
	/* ServerHello, Certificate (11), ServerHelloDone (14): one flight. */
	n = dtls_rec(b, 22, 0xfefd, 0, DTLS_HS_SERVER_HELLO, 90);
	n += dtls_rec(b + n, 22, 0xfefd, 0, 11, 300);
	n += dtls_rec(b + n, 22, 0xfefd, 0, 14, 12);
	expect_dtls(b, n, 22, 0, DTLS_HS_SERVER_HELLO, 3);
	/* ChangeCipherSpec, then the encrypted Finished in epoch 1. */
	n = dtls_rec(b, 20, 0xfefd, 0, 1, 1);
	n += dtls_rec(b + n, 22, 0xfefd, 1, 0x99, 48);
	expect_dtls(b, n, 20, 0, -1, 2);
	/* Encrypted handshake: no type is read from it. */
	n = dtls_rec(b, 22, 0xfefd, 1, DTLS_HS_CLIENT_HELLO, 48);
	expect_dtls(b, n, 22, 1, -1, 1);
	/* Handshake record with nothing in it. */
	n = dtls_rec(b, 22, 0xfefd, 0, 0, 0);
	expect_dtls(b, n, 22, 0, -1, 1);
	/* Application data, alert, heartbeat. */
	n = dtls_rec(b, 23, 0xfefd, 1, 0, 100);
	expect_dtls(b, n, 23, 1, -1, 1);
	n = dtls_rec(b, 21, 0xfefd, 1, 0, 26);
	expect_dtls(b, n, 21, 1, -1, 1);
	n = dtls_rec(b, 24, 0xfefd, 1, 0, 19);
	expect_dtls(b, n, 24, 1, -1, 1);
	/* tls12_cid: the walk stops, a CID of unknown length follows. */
	n = dtls_rec(b, 25, 0xfefd, 1, 0, 30);
	put16(b + 11, 0xffff);		/* not the length: a CID byte */
	expect_dtls(b, n, 25, 1, -1, 1);
	n = dtls_rec(b, 23, 0xfefd, 1, 0, 10);
	n += dtls_rec(b + n, 25, 0xfefd, 1, 0, 30);
	expect_dtls(b, n, 23, 1, -1, 2);
}

static void
test_dtls_hostile(void **state)
{
	uint8_t b[512];
	size_t n, m, i;
	unsigned int v;

	(void)state;
	/* Truncated header, truncated body. */
	n = dtls_rec(b, 22, 0xfeff, 0, DTLS_HS_CLIENT_HELLO, 150);
	for (i = 1; i < 13; i++)
		expect_invalid(b, i, PKT_ERR_DTLS_SHORT);
	for (i = 13; i < n; i++)
		expect_invalid(b, i, PKT_ERR_DTLS_LEN);
	/* Length field past the datagram. */
	put16(b + 11, 151);
	expect_invalid(b, n, PKT_ERR_DTLS_LEN);
	put16(b + 11, 0xffff);
	expect_invalid(b, n, PKT_ERR_DTLS_LEN);
	/* Type 25 needs its header too. */
	n = dtls_rec(b, 25, 0xfefd, 1, 0, 0);
	expect_invalid(b, 12, PKT_ERR_DTLS_SHORT);
	/* Versions other than DTLS 1.0 and 1.2. */
	n = dtls_rec(b, 22, 0x0303, 0, DTLS_HS_CLIENT_HELLO, 50);
	expect_invalid(b, n, PKT_ERR_DTLS_VERSION);
	n = dtls_rec(b, 22, 0xfefe, 0, DTLS_HS_CLIENT_HELLO, 50);
	expect_invalid(b, n, PKT_ERR_DTLS_VERSION);
	n = dtls_rec(b, 23, 0xfefc, 0, 0, 50);
	expect_invalid(b, n, PKT_ERR_DTLS_VERSION);
	/* 26-31 are in DTLS's range but no record starts so. */
	for (v = 26; v <= 31; v++) {
		n = dtls_rec(b, (uint8_t)v, 0xfefd, 0, 0, 50);
		expect_invalid(b, n, PKT_ERR_DTLS_TYPE);
	}

	/* A good record followed by garbage. */
	m = dtls_rec(b, 22, 0xfefd, 0, DTLS_HS_CLIENT_HELLO, 60);
	for (v = 0; v < 256; v++) {
		if ((v >= 20 && v <= 25) || (v & 0xe0) == 0x20)
			continue;
		b[m] = (uint8_t)v;
		expect_invalid(b, m + 1, PKT_ERR_DTLS_TYPE);
	}
	/* ... by a cut second header, or a second record that lies. */
	n = m + dtls_rec(b + m, 23, 0xfefd, 1, 0, 40);
	for (i = m + 1; i < m + 13; i++)
		expect_invalid(b, i, PKT_ERR_DTLS_SHORT);
	expect_invalid(b, n - 1, PKT_ERR_DTLS_LEN);
	put16(b + m + 1, 0x0302);
	expect_invalid(b, n, PKT_ERR_DTLS_VERSION);
	/* ... by a second record whose first byte is in 26-31. */
	b[m] = 26;
	expect_invalid(b, n, PKT_ERR_DTLS_TYPE);
}

static void
test_dtls13(void **state)
{
	uint8_t b[512];
	size_t n, m;

	(void)state;
	/* 001 C=0 S=1 L=1 EE=10: 16-bit seq, length, epoch 2 (low bits). */
	n = dtls13_rec(b, 0x2e, 40);
	assert_int_equal(n, 45);
	expect_dtls(b, n, 0, 2, -1, 1);
	/* Exactly 16 bytes of ciphertext, then 15. */
	n = dtls13_rec(b, 0x2c, 16);
	expect_dtls(b, n, 0, 0, -1, 1);
	n = dtls13_rec(b, 0x2c, 15);
	expect_invalid(b, n, PKT_ERR_DTLS13_SHORT);
	/* Length past the end; header cut. */
	n = dtls13_rec(b, 0x2c, 40);
	expect_invalid(b, n - 1, PKT_ERR_DTLS_LEN);
	expect_invalid(b, 4, PKT_ERR_DTLS_SHORT);
	expect_invalid(b, 2, PKT_ERR_DTLS_SHORT);
	/* No length (L=0): the record is the rest of the datagram. */
	n = dtls13_rec(b, 0x21, 20);
	assert_int_equal(n, 22);
	expect_dtls(b, n, 0, 1, -1, 1);
	expect_invalid(b, 17, PKT_ERR_DTLS13_SHORT);
	/* With a connection ID the boundary is unknown; the minimum is not. */
	n = dtls13_rec(b, 0x3c, 30);
	expect_dtls(b, n, 0, 0, -1, 1);
	n = dtls13_rec(b, 0x30, 16);
	assert_int_equal(n, 19);
	expect_dtls(b, n, 0, 0, -1, 1);
	expect_invalid(b, 18, PKT_ERR_DTLS13_SHORT);
	n = dtls13_rec(b, 0x3c, 16);
	assert_int_equal(n, 22);
	expect_invalid(b, 21, PKT_ERR_DTLS13_SHORT);
	/* Mixed: a plaintext ServerHello, then protected records. */
	m = dtls_rec(b, 22, 0xfefd, 0, DTLS_HS_SERVER_HELLO, 90);
	n = m + dtls13_rec(b + m, 0x2e, 300);
	n += dtls13_rec(b + n, 0x2e, 25);
	expect_dtls(b, n, 22, 0, DTLS_HS_SERVER_HELLO, 3);
	/* ... and the last one cut. */
	expect_invalid(b, n - 1, PKT_ERR_DTLS_LEN);
	/* A record without a length takes all that follows it. */
	n = m + dtls13_rec(b + m, 0x2a, 40);
	memset(b + n, 0x16, 13);	/* looks like a record, is ciphertext */
	expect_dtls(b, n + 13, 22, 0, DTLS_HS_SERVER_HELLO, 2);
}

static void
test_turn_and_opaque(void **state)
{
	struct rtp_info info;
	enum pkt_keepalive ka;
	uint8_t b[64];

	(void)state;
	/* ChannelData: channel 0x4000-0x4fff, length, data. */
	turn_channel_data(b, 0x4001, sizeof(b));
	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(classify(b, 64, NULL, &info, &ka), PKT_TURN);
	assert_int_equal(ka, KA_NONE);
	assert_int_equal(info.error, PKT_ERR_NONE);
	assert_int_equal(info.ssrc, 0);
	b[0] = 0x4f;
	assert_int_equal(classify(b, 4, NULL, &info, &ka), PKT_TURN);

	/* Non-RTP legs: nothing is read, only the length counts. */
	memset(&info, 0x5a, sizeof(info));
	ka = KA_STUN;
	assert_int_equal(rtp_classify_opaque(1, &info, &ka), PKT_OPAQUE);
	assert_int_equal(ka, KA_NONE);
	assert_int_equal(info.error, PKT_ERR_NONE);
	assert_int_equal(info.payload_len, 0);
	assert_int_equal(rtp_classify_opaque(0, &info, &ka), PKT_KEEPALIVE);
	assert_int_equal(ka, KA_EMPTY);
	assert_int_equal(rtp_classify_opaque(1400, NULL, NULL), PKT_OPAQUE);
}

static void
test_names(void **state)
{
	int i;

	(void)state;
	assert_string_equal(pkt_kind_name(PKT_RTP), "rtp");
	assert_string_equal(pkt_kind_name(PKT_RTCP), "rtcp");
	assert_string_equal(pkt_kind_name(PKT_KEEPALIVE), "keepalive");
	assert_string_equal(pkt_kind_name(PKT_INVALID), "invalid");
	assert_string_equal(pkt_kind_name(PKT_DTLS), "dtls");
	assert_string_equal(pkt_kind_name(PKT_ZRTP), "zrtp");
	assert_string_equal(pkt_kind_name(PKT_TURN), "turn");
	assert_string_equal(pkt_kind_name(PKT_OPAQUE), "opaque");
	assert_string_equal(pkt_kind_name(PKT_KIND_MAX), "unknown");
	assert_string_equal(pkt_kind_name((enum pkt_kind)-1), "unknown");
	assert_string_equal(pkt_keepalive_name(KA_NONE), "none");
	assert_string_equal(pkt_keepalive_name(KA_EMPTY), "empty");
	assert_string_equal(pkt_keepalive_name(KA_STUN), "stun");
	assert_string_equal(pkt_keepalive_name(KA_RTP_V0), "rtp-v0");
	assert_string_equal(pkt_keepalive_name(KA_EMPTY_PAYLOAD),
	    "empty-payload");
	assert_string_equal(pkt_keepalive_name(KA_UNKNOWN_PT), "unknown-pt");
	assert_string_equal(pkt_keepalive_name(KA_RTCP), "rtcp");
	assert_string_equal(pkt_keepalive_name(KA_MAX), "unknown");
	assert_string_equal(pkt_error_name(PKT_ERR_CSRC),
	    "RTP CSRC list runs past the end");
	assert_string_equal(pkt_error_name(PKT_ERR_STUN_METHOD),
	    "STUN method is not Binding");
	assert_string_equal(pkt_error_name(PKT_ERR_ZRTP_CRC),
	    "ZRTP CRC-32C does not match");
	assert_string_equal(pkt_error_name(PKT_ERR_MAX), "unknown");
	assert_string_equal(zrtp_msg_name(ZRTP_MSG_HELLO), "Hello");
	assert_string_equal(zrtp_msg_name(ZRTP_MSG_OTHER), "other");
	assert_string_equal(zrtp_msg_name(ZRTP_MSG_MAX), "unknown");
	for (i = 0; i < ZRTP_MSG_MAX; i++) {
		assert_non_null(zrtp_msg_names[i]);
		assert_true(strlen(zrtp_msg_names[i]) <= 8);
	}
	for (i = 0; i < PKT_KIND_MAX; i++)
		assert_non_null(pkt_kind_names[i]);
	for (i = 0; i < KA_MAX; i++)
		assert_non_null(pkt_keepalive_names[i]);
	for (i = 0; i < PKT_ERR_MAX; i++)
		assert_non_null(pkt_error_names[i]);
}

/* What must hold for any input, whatever its bytes. */
static void
check_invariants(const uint8_t *p, size_t len, enum pkt_kind k,
    enum pkt_keepalive ka, const struct rtp_info *info)
{
	assert_in_range(k, 0, PKT_KIND_MAX - 1);
	assert_in_range(ka, 0, KA_MAX - 1);
	assert_in_range(info->error, 0, PKT_ERR_MAX - 1);
	switch (k) {
	case PKT_INVALID:
		assert_int_equal(ka, KA_NONE);
		assert_int_not_equal(info->error, PKT_ERR_NONE);
		break;
	case PKT_RTP:
		assert_int_equal(ka, KA_NONE);
		assert_int_equal(info->error, PKT_ERR_NONE);
		assert_int_equal(p[0] >> 6, 2);
		assert_false(p[1] >= 192 && p[1] <= 223);
		assert_true(info->hdr_len >= 12 && info->hdr_len % 4 == 0);
		assert_true(info->payload_len > 0);
		assert_true(info->hdr_len + info->payload_len <= len);
		break;
	case PKT_RTCP:
		assert_int_equal(ka, KA_RTCP);
		assert_true(len >= 8);
		assert_in_range(info->pt, 192, 223);
		break;
	case PKT_KEEPALIVE:
		assert_int_equal(info->error, PKT_ERR_NONE);
		assert_true(ka != KA_NONE && ka != KA_RTCP);
		assert_int_equal(ka == KA_EMPTY, len == 0);
		if (ka == KA_EMPTY_PAYLOAD || ka == KA_UNKNOWN_PT) {
			assert_int_equal(info->payload_len, 0);
			assert_true(info->hdr_len <= len);
			assert_int_equal(ka == KA_UNKNOWN_PT, !info->pt_ok);
		}
		if (ka == KA_STUN)
			assert_int_equal(len % 4, 0);
		break;
	case PKT_DTLS:
		assert_int_equal(ka, KA_NONE);
		assert_int_equal(info->error, PKT_ERR_NONE);
		assert_in_range(p[0], 20, 63);
		assert_true(info->dtls.records >= 1);
		if (info->dtls.hs_type != -1) {
			assert_int_equal(info->dtls.content, 22);
			assert_int_equal(info->dtls.epoch, 0);
			assert_true(len > 13);
			assert_int_equal(info->dtls.hs_type, p[13]);
		}
		break;
	case PKT_ZRTP:
		assert_int_equal(ka, KA_NONE);
		assert_int_equal(info->error, PKT_ERR_NONE);
		assert_true(len >= ZRTP_MIN_LEN && len % 4 == 0);
		assert_int_equal(p[0], 0x10);
		assert_int_equal(p[1], 0x00);
		assert_memory_equal(p + 4, "ZRTP", 4);
		assert_int_equal(rtp_crc32c(p, len - 4),
		    (uint32_t)p[len - 1] << 24 | (uint32_t)p[len - 2] << 16 |
		    (uint32_t)p[len - 3] << 8 | p[len - 4]);
		assert_int_equal(info->ssrc, (uint32_t)p[8] << 24 |
		    (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11]);
		break;
	case PKT_TURN:
		assert_int_equal(ka, KA_NONE);
		assert_in_range(p[0], 64, 79);
		break;
	default:
		fail();
	}
}

static void
fuzz_one(const uint8_t *in, size_t len, const uint64_t *mask,
    unsigned int counts[PKT_KIND_MAX])
{
	uint8_t *p = malloc(len > 0 ? len : 1);
	struct rtp_info info;
	enum pkt_keepalive ka;
	enum pkt_kind k;

	assert_non_null(p);
	if (len > 0)
		memcpy(p, in, len);
	k = rtp_classify(p, len, mask, &info, &ka);
	check_invariants(p, len, k, ka, &info);
	counts[k]++;
	free(p);
}

static void
test_fuzz_random(void **state)
{
	unsigned int counts[PKT_KIND_MAX] = { 0 };
	uint64_t mask[2] = { UINT64_C(0x101), UINT64_C(1) << 37 };
	uint8_t b[300];
	size_t len, i;
	int r;

	(void)state;
	rng_state = UINT64_C(0x9e3779b97f4a7c15);
	for (r = 0; r < FUZZ_ROUNDS; r++) {
		len = rng() % (r % 4 == 0 ? 24 : sizeof(b));
		for (i = 0; i < len; i++)
			b[i] = (uint8_t)rng();
		/* Steer half of them into version 2 to reach the length rules,
		 * and some into DTLS records and ZRTP headers. */
		if (len > 0 && r % 2 == 0)
			b[0] = (uint8_t)(0x80 | (b[0] & 0x3f));
		else if (len >= 13 && r % 6 == 1) {
			/* The bytes are random already: no rng() call here
			 * keeps the other rounds' sequence. */
			b[0] = (uint8_t)(20 + b[0] % 4);
			put16(b + 1, 0xfefd);
			put16(b + 11, (uint16_t)(b[11] % len));
		} else if (len >= 8 && r % 6 == 3) {
			put16(b, 0x1000);
			put32(b + 4, ZRTP_MAGIC_COOKIE);
		}
		fuzz_one(b, len, r % 3 == 0 ? NULL : mask, counts);
	}
	assert_true(counts[PKT_RTP] > 0);
	assert_true(counts[PKT_RTCP] > 0);
	assert_true(counts[PKT_KEEPALIVE] > 0);
	assert_true(counts[PKT_INVALID] > 0);
	assert_true(counts[PKT_DTLS] > 0);
	assert_true(counts[PKT_TURN] > 0);
}

static void
test_fuzz_mutations(void **state)
{
	unsigned int counts[PKT_KIND_MAX] = { 0 };
	uint64_t mask[2] = { UINT64_C(0x101), 0 };
	uint8_t b[300];
	struct spec s;
	size_t len, i, nmut;
	int r;

	static const unsigned int algs[5] = { 1, 1, 1, 1, 1 };

	(void)state;
	rng_state = UINT64_C(0x0123456789abcdef);
	for (r = 0; r < FUZZ_ROUNDS; r++) {
		switch (r % 5) {
		case 0:
			s = base;
			s.cc = (unsigned int)(rng() % 16);
			s.ext = (int)(rng() % 6) - 1;
			s.payload = (size_t)(rng() % 40);
			s.pad = (unsigned int)(rng() % 5);
			s.pt = (unsigned int)(rng() % 128);
			len = build(b, sizeof(b), &s);
			break;
		case 1:
			memset(b, 0, sizeof(b));
			b[0] = 0x80;
			b[1] = (uint8_t)(192 + rng() % 32);
			len = 8 + 4 * (size_t)(rng() % 8);
			put16(b + 2, (uint16_t)(len / 4 - 1));
			break;
		case 2:
			len = stun(b, 0x0001, (uint16_t)(4 * (rng() % 4)),
			    STUN_MAGIC_COOKIE);
			break;
		case 3:
			len = rng() % 2 ? zrtp_hello(b, algs) :
			    zrtp(b, "Commit  ", rng() % 20, (uint32_t)rng());
			break;
		default:
			len = dtls_rec(b, 22, 0xfeff, 0, DTLS_HS_CLIENT_HELLO,
			    rng() % 100);
			len += dtls_rec(b + len, 23, 0xfefd, 1, 0, rng() % 100);
			if (rng() % 2)
				len += dtls13_rec(b + len, 0x2c, rng() % 40);
			break;
		}
		/* Half the time only the length or nothing changes, so some
		 * ZRTP packets keep their CRC. */
		nmut = rng() % 4;
		for (i = 0; i < nmut && len > 0; i++)
			b[rng() % len] ^= (uint8_t)(1u << (rng() % 8));
		if (rng() % 4 == 0 && len > 0)
			len = rng() % len;		/* truncate */
		else if (rng() % 8 == 0)
			len += rng() % (sizeof(b) - len);	/* extend */
		fuzz_one(b, len, r % 2 ? mask : NULL, counts);
	}
	assert_true(counts[PKT_RTP] > 0);
	assert_true(counts[PKT_RTCP] > 0);
	assert_true(counts[PKT_KEEPALIVE] > 0);
	assert_true(counts[PKT_INVALID] > 0);
	assert_true(counts[PKT_DTLS] > 0);
	assert_true(counts[PKT_ZRTP] > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_null_buffer),
		cmocka_unit_test(test_null_outputs),
		cmocka_unit_test(test_stun),
		cmocka_unit_test(test_rtp_v0),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_rtp_fields),
		cmocka_unit_test(test_rtp_short),
		cmocka_unit_test(test_csrc),
		cmocka_unit_test(test_extension),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_pt_mask),
		cmocka_unit_test(test_rtcp_mux),
		cmocka_unit_test(test_first_byte_ranges),
		cmocka_unit_test(test_v0_ranges),
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_zrtp),
		cmocka_unit_test(test_zrtp_hostile),
		cmocka_unit_test(test_dtls),
		cmocka_unit_test(test_dtls_hostile),
		cmocka_unit_test(test_dtls13),
		cmocka_unit_test(test_turn_and_opaque),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_fuzz_random),
		cmocka_unit_test(test_fuzz_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
