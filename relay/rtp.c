/*
 * Classification of received media datagrams (see relay/rtp.h).
 *
 * Order of the tests, first match wins:
 *   empty                      -> KA_EMPTY
 *   version bits 00, cookie    -> STUN (Binding only), else RTP v0 keepalive
 *   version bits 01 or 11      -> invalid
 *   version 2, octet 2 192-223 -> RTCP (RFC 5761 s4: RTP PTs 64-95 clash)
 *   version 2                  -> RTP, then empty payload -> keepalive
 * Every length read from the packet is checked against len before use.
 */
#include "relay/rtp.h"

#include <string.h>

const char *const pkt_kind_names[] = {
	[PKT_RTP] = "rtp",
	[PKT_RTCP] = "rtcp",
	[PKT_KEEPALIVE] = "keepalive",
	[PKT_INVALID] = "invalid",
};

const char *const pkt_keepalive_names[] = {
	[KA_NONE] = "none",
	[KA_EMPTY] = "empty",
	[KA_STUN] = "stun",
	[KA_RTP_V0] = "rtp-v0",
	[KA_EMPTY_PAYLOAD] = "empty-payload",
	[KA_UNKNOWN_PT] = "unknown-pt",
	[KA_RTCP] = "rtcp",
};

const char *const pkt_error_names[] = {
	[PKT_ERR_NONE] = "none",
	[PKT_ERR_NULL] = "no buffer",
	[PKT_ERR_VERSION] = "RTP version 1 or 3",
	[PKT_ERR_V0_SHORT] = "version 0 packet shorter than 12 bytes",
	[PKT_ERR_STUN_LEN] = "STUN message length does not match the datagram",
	[PKT_ERR_STUN_METHOD] = "STUN method is not Binding",
	[PKT_ERR_RTP_SHORT] = "RTP packet shorter than 12 bytes",
	[PKT_ERR_CSRC] = "RTP CSRC list runs past the end",
	[PKT_ERR_EXT] = "RTP header extension runs past the end",
	[PKT_ERR_PAD_ZERO] = "RTP padding count is 0",
	[PKT_ERR_PAD_LEN] = "RTP padding runs into the header",
	[PKT_ERR_RTCP_SHORT] = "RTCP packet shorter than 8 bytes",
	[PKT_ERR_RTCP_LEN] = "RTCP length field runs past the end",
};

static uint16_t	rtp_be16(const uint8_t *);
static uint32_t	rtp_be32(const uint8_t *);
static enum pkt_kind rtp_invalid(struct rtp_info *, enum pkt_error);
static enum pkt_kind rtp_classify_v0(const uint8_t *, size_t,
		    struct rtp_info *, enum pkt_keepalive *);
static enum pkt_kind rtp_classify_rtcp(const uint8_t *, size_t,
		    struct rtp_info *, enum pkt_keepalive *);
static enum pkt_kind rtp_classify_rtp(const uint8_t *, size_t,
		    const uint64_t [2], struct rtp_info *, enum pkt_keepalive *);

const char *
pkt_kind_name(enum pkt_kind k)
{
	if ((unsigned int)k >= PKT_KIND_MAX)
		return "unknown";
	return pkt_kind_names[k];
}

const char *
pkt_keepalive_name(enum pkt_keepalive k)
{
	if ((unsigned int)k >= KA_MAX)
		return "unknown";
	return pkt_keepalive_names[k];
}

const char *
pkt_error_name(enum pkt_error e)
{
	if ((unsigned int)e >= PKT_ERR_MAX)
		return "unknown";
	return pkt_error_names[e];
}

void
rtp_pt_mask_clear(uint64_t mask[2])
{
	mask[0] = mask[1] = 0;
}

void
rtp_pt_mask_add(uint64_t mask[2], unsigned int pt)
{
	if (pt < 128)
		mask[pt / 64] |= UINT64_C(1) << (pt % 64);
}

bool
rtp_pt_mask_has(const uint64_t mask[2], unsigned int pt)
{
	if (pt >= 128)
		return false;
	return (mask[pt / 64] >> (pt % 64)) & 1;
}

static uint16_t
rtp_be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t
rtp_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static enum pkt_kind
rtp_invalid(struct rtp_info *info, enum pkt_error e)
{
	memset(info, 0, sizeof(*info));
	info->error = e;
	return PKT_INVALID;
}

/*
 * Version bits 00: a STUN message (RFC 5389 s6: magic cookie at offset 4,
 * length field = bytes after the 20-byte header, a multiple of 4) or an
 * RTP version 0 keepalive. Only the Binding method is a keepalive; other
 * STUN methods (TURN) have no business on a media port. A matching cookie
 * with a wrong length is a broken STUN message, not RTP v0: the chance
 * that a v0 timestamp equals the cookie is 2^-32.
 */
static enum pkt_kind
rtp_classify_v0(const uint8_t *p, size_t len, struct rtp_info *info,
    enum pkt_keepalive *ka)
{
	uint16_t type, mlen;

	if (len >= 8 && rtp_be32(p + 4) == STUN_MAGIC_COOKIE) {
		if (len < STUN_HDR_LEN)
			return rtp_invalid(info, PKT_ERR_STUN_LEN);
		mlen = rtp_be16(p + 2);
		if ((size_t)mlen + STUN_HDR_LEN != len || mlen % 4 != 0)
			return rtp_invalid(info, PKT_ERR_STUN_LEN);
		/* Clear the two class bits (C0 = 0x010, C1 = 0x100). */
		type = rtp_be16(p);
		if ((type & 0x3eef) != 0x0001)
			return rtp_invalid(info, PKT_ERR_STUN_METHOD);
		*ka = KA_STUN;
		return PKT_KEEPALIVE;
	}
	if (len < RTP_HDR_LEN)
		return rtp_invalid(info, PKT_ERR_V0_SHORT);
	info->version = 0;
	*ka = KA_RTP_V0;
	return PKT_KEEPALIVE;
}

/*
 * Only the first packet of a compound is checked: SRTCP appends an index
 * and an auth tag after the compound, so the lengths need not add up to
 * len, but the first packet must still fit.
 */
static enum pkt_kind
rtp_classify_rtcp(const uint8_t *p, size_t len, struct rtp_info *info,
    enum pkt_keepalive *ka)
{
	if (len < RTCP_HDR_LEN)
		return rtp_invalid(info, PKT_ERR_RTCP_SHORT);
	if (((size_t)rtp_be16(p + 2) + 1) * 4 > len)
		return rtp_invalid(info, PKT_ERR_RTCP_LEN);
	info->version = 2;
	info->pt = p[1];
	info->pt_ok = true;
	info->ssrc = rtp_be32(p + 4);
	info->hdr_len = RTCP_HDR_LEN;
	info->payload_len = len - RTCP_HDR_LEN;
	*ka = KA_RTCP;
	return PKT_RTCP;
}

static enum pkt_kind
rtp_classify_rtp(const uint8_t *p, size_t len, const uint64_t pt_mask[2],
    struct rtp_info *info, enum pkt_keepalive *ka)
{
	size_t hdr, pad = 0;

	if (len < RTP_HDR_LEN)
		return rtp_invalid(info, PKT_ERR_RTP_SHORT);
	hdr = RTP_HDR_LEN + 4 * (size_t)(p[0] & 0x0f);
	if (hdr > len)
		return rtp_invalid(info, PKT_ERR_CSRC);
	if (p[0] & 0x10) {
		/* 16-bit profile id, 16-bit length in 32-bit words. */
		if (hdr + 4 > len)
			return rtp_invalid(info, PKT_ERR_EXT);
		hdr += 4 + 4 * (size_t)rtp_be16(p + hdr + 2);
		if (hdr > len)
			return rtp_invalid(info, PKT_ERR_EXT);
	}
	if (p[0] & 0x20) {
		/* The count includes itself (RFC 3550 s5.1), so 0 is bogus. */
		pad = p[len - 1];
		if (pad == 0)
			return rtp_invalid(info, PKT_ERR_PAD_ZERO);
		if (hdr + pad > len)
			return rtp_invalid(info, PKT_ERR_PAD_LEN);
	}
	info->version = 2;
	info->marker = (p[1] & 0x80) != 0;
	info->pt = p[1] & 0x7f;
	info->pt_ok = pt_mask == NULL || rtp_pt_mask_has(pt_mask, info->pt);
	info->seq = rtp_be16(p + 2);
	info->ts = rtp_be32(p + 4);
	info->ssrc = rtp_be32(p + 8);
	info->hdr_len = hdr;
	info->payload_len = len - hdr - pad;
	if (info->payload_len == 0) {
		*ka = info->pt_ok ? KA_EMPTY_PAYLOAD : KA_UNKNOWN_PT;
		return PKT_KEEPALIVE;
	}
	return PKT_RTP;
}

enum pkt_kind
rtp_classify(const uint8_t *p, size_t len, const uint64_t pt_mask[2],
    struct rtp_info *info, enum pkt_keepalive *ka)
{
	struct rtp_info info_local;
	enum pkt_keepalive ka_local;

	if (info == NULL)
		info = &info_local;
	if (ka == NULL)
		ka = &ka_local;
	memset(info, 0, sizeof(*info));
	*ka = KA_NONE;

	if (len == 0) {
		*ka = KA_EMPTY;
		return PKT_KEEPALIVE;
	}
	if (p == NULL)
		return rtp_invalid(info, PKT_ERR_NULL);
	switch (p[0] >> 6) {
	case 0:
		return rtp_classify_v0(p, len, info, ka);
	case 2:
		break;
	default:
		return rtp_invalid(info, PKT_ERR_VERSION);
	}
	if (len >= 2 && p[1] >= 192 && p[1] <= 223)
		return rtp_classify_rtcp(p, len, info, ka);
	return rtp_classify_rtp(p, len, pt_mask, info, ka);
}
