/*
 * Unit tests for relay/rtp.c: every keepalive form of RFC 6263, the RTP
 * header length rules (CSRC, extension, padding) at their exact limits, the
 * RFC 5761 RTP/RTCP boundary, payload type sets, name tables, and seeded
 * fuzz loops (random bytes and mutations of valid packets) that check the
 * classification invariants on exact-size heap copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay/rtp.h"
#include "common/tests/testutil.h"

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


static void
put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

static void
put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, v & 0xffff);
}

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
	s.v = 1;
	n = build(b, sizeof(b), &s);
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
test_names(void **state)
{
	int i;

	(void)state;
	assert_string_equal(pkt_kind_name(PKT_RTP), "rtp");
	assert_string_equal(pkt_kind_name(PKT_RTCP), "rtcp");
	assert_string_equal(pkt_kind_name(PKT_KEEPALIVE), "keepalive");
	assert_string_equal(pkt_kind_name(PKT_INVALID), "invalid");
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
	assert_string_equal(pkt_error_name(PKT_ERR_MAX), "unknown");
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
		/* Steer half of them into version 2 to reach the length rules. */
		if (len > 0 && r % 2 == 0)
			b[0] = (uint8_t)(0x80 | (b[0] & 0x3f));
		fuzz_one(b, len, r % 3 == 0 ? NULL : mask, counts);
	}
	assert_true(counts[PKT_RTP] > 0);
	assert_true(counts[PKT_RTCP] > 0);
	assert_true(counts[PKT_KEEPALIVE] > 0);
	assert_true(counts[PKT_INVALID] > 0);
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

	(void)state;
	rng_state = UINT64_C(0x0123456789abcdef);
	for (r = 0; r < FUZZ_ROUNDS; r++) {
		switch (r % 3) {
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
		default:
			len = stun(b, 0x0001, (uint16_t)(4 * (rng() % 4)),
			    STUN_MAGIC_COOKIE);
			break;
		}
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
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_fuzz_random),
		cmocka_unit_test(test_fuzz_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
