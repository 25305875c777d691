/*
 * Classification of received media datagrams (see relay/rtp.h).
 *
 * By the first byte, as RFC 7983 (with RFC 9443's ranges) demultiplexes:
 *   empty datagram             -> KA_EMPTY
 *   0-3     STUN cookie        -> STUN (Binding only), else RTP v0 keepalive
 *   4-15                       -> RTP v0 keepalive
 *   16-19   ZRTP header/cookie -> ZRTP (CRC checked), else RTP v0 keepalive
 *   20-63                      -> DTLS (every record checked), else invalid
 *   64-79                      -> TURN ChannelData
 *   80-127, 192-255            -> invalid (RTP version 1 or 3)
 *   128-191, octet 2 192-223   -> RTCP (RFC 5761 s4: RTP PTs 64-95 clash)
 *   128-191                    -> RTP, then empty payload -> keepalive
 * An RTP v0 keepalive is at least 12 bytes (an RTP header). Every length
 * read from the packet is checked against len before use.
 */
#include "relay/rtp.h"

#include <string.h>

const char *const pkt_kind_names[] = {
	[PKT_RTP] = "rtp",
	[PKT_RTCP] = "rtcp",
	[PKT_KEEPALIVE] = "keepalive",
	[PKT_INVALID] = "invalid",
	[PKT_DTLS] = "dtls",
	[PKT_ZRTP] = "zrtp",
	[PKT_TURN] = "turn",
	[PKT_OPAQUE] = "opaque",
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
	[PKT_ERR_VERSION] = "first byte 80-127 or 192-255 (RTP version 1 or 3)",
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
	[PKT_ERR_DTLS_TYPE] = "DTLS record type is not 20-25 or a unified "
	    "header",
	[PKT_ERR_DTLS_SHORT] = "DTLS record shorter than its header",
	[PKT_ERR_DTLS_VERSION] = "DTLS record version is not 1.0 or 1.2",
	[PKT_ERR_DTLS_LEN] = "DTLS record length runs past the end",
	[PKT_ERR_DTLS13_SHORT] = "DTLS 1.3 record with under 16 bytes of "
	    "ciphertext",
	[PKT_ERR_ZRTP_SHORT] = "ZRTP packet shorter than 28 bytes",
	[PKT_ERR_ZRTP_PREAMBLE] = "ZRTP message preamble is not 0x505a",
	[PKT_ERR_ZRTP_LEN] = "ZRTP message length does not match the datagram",
	[PKT_ERR_ZRTP_CRC] = "ZRTP CRC-32C does not match",
	[PKT_ERR_ZRTP_HELLO] = "ZRTP Hello length does not match its "
	    "algorithm counts",
};

const char *const zrtp_msg_names[] = {
	[ZRTP_MSG_OTHER] = "other",
	[ZRTP_MSG_HELLO] = "Hello",
	[ZRTP_MSG_HELLOACK] = "HelloACK",
	[ZRTP_MSG_COMMIT] = "Commit",
	[ZRTP_MSG_DHPART1] = "DHPart1",
	[ZRTP_MSG_DHPART2] = "DHPart2",
	[ZRTP_MSG_CONFIRM1] = "Confirm1",
	[ZRTP_MSG_CONFIRM2] = "Confirm2",
	[ZRTP_MSG_CONF2ACK] = "Conf2ACK",
	[ZRTP_MSG_ERROR] = "Error",
	[ZRTP_MSG_ERRORACK] = "ErrorACK",
	[ZRTP_MSG_GOCLEAR] = "GoClear",
	[ZRTP_MSG_CLEARACK] = "ClearACK",
	[ZRTP_MSG_SASRELAY] = "SASrelay",
	[ZRTP_MSG_RELAYACK] = "RelayACK",
	[ZRTP_MSG_PING] = "Ping",
	[ZRTP_MSG_PINGACK] = "PingACK",
};

/* CRC-32C, reflected polynomial 0x82F63B78, four bits at a time. */
static const uint32_t rtp_crc32c_nibble[16] = {
	0x00000000u, 0x105ec76fu, 0x20bd8edeu, 0x30e349b1u,
	0x417b1dbcu, 0x5125dad3u, 0x61c69362u, 0x7198540du,
	0x82f63b78u, 0x92a8fc17u, 0xa24bb5a6u, 0xb21572c9u,
	0xc38d26c4u, 0xd3d3e1abu, 0xe330a81au, 0xf36e6f75u,
};

/* Words of a ZRTP Hello before its algorithm lists, and after (the MAC):
 * preamble, type (2), version, client id (4), H3 (8), ZID (3), flags. */
#define ZRTP_HELLO_FIXED_WORDS	(1 + 2 + 1 + 4 + 8 + 3 + 1 + 2)
#define ZRTP_HELLO_FLAGS_OFF	(ZRTP_HDR_LEN + 4 * (1 + 2 + 1 + 4 + 8 + 3))
#define ZRTP_HELLO_MAX_ALGS	7	/* per list (RFC 6189 s5.2) */

static uint16_t	rtp_be16(const uint8_t *);
static uint32_t	rtp_be32(const uint8_t *);
static enum pkt_kind rtp_invalid(struct rtp_info *, enum pkt_error);
static enum pkt_kind rtp_keepalive_v0(size_t, struct rtp_info *,
		    enum pkt_keepalive *);
static enum pkt_kind rtp_classify_stun(const uint8_t *, size_t,
		    struct rtp_info *, enum pkt_keepalive *);
static enum pkt_kind rtp_classify_zrtp(const uint8_t *, size_t,
		    struct rtp_info *, enum pkt_keepalive *);
static enum pkt_kind rtp_classify_dtls(const uint8_t *, size_t,
		    struct rtp_info *);
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

const char *
zrtp_msg_name(enum zrtp_msg m)
{
	if ((unsigned int)m >= ZRTP_MSG_MAX)
		return "unknown";
	return zrtp_msg_names[m];
}

uint32_t
rtp_crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;
	size_t i;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		crc = crc >> 4 ^ rtp_crc32c_nibble[crc & 0x0f];
		crc = crc >> 4 ^ rtp_crc32c_nibble[crc & 0x0f];
	}
	return ~crc;
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

static enum pkt_kind
rtp_keepalive_v0(size_t len, struct rtp_info *info, enum pkt_keepalive *ka)
{
	if (len < RTP_HDR_LEN)
		return rtp_invalid(info, PKT_ERR_V0_SHORT);
	info->version = 0;
	*ka = KA_RTP_V0;
	return PKT_KEEPALIVE;
}

/*
 * First byte 0-3: a STUN message (RFC 5389 s6: magic cookie at offset 4,
 * length field = bytes after the 20-byte header, a multiple of 4) or an
 * RTP version 0 keepalive. Only the Binding method is a keepalive; other
 * STUN methods (TURN) have no business on a media port. A matching cookie
 * with a wrong length is a broken STUN message, not RTP v0: the chance
 * that a v0 timestamp equals the cookie is 2^-32.
 */
static enum pkt_kind
rtp_classify_stun(const uint8_t *p, size_t len, struct rtp_info *info,
    enum pkt_keepalive *ka)
{
	uint16_t type, mlen;

	if (len < 8 || rtp_be32(p + 4) != STUN_MAGIC_COOKIE)
		return rtp_keepalive_v0(len, info, ka);
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

static enum zrtp_msg
rtp_zrtp_msg(const uint8_t *block)
{
	size_t n;
	int m;

	for (m = ZRTP_MSG_OTHER + 1; m < ZRTP_MSG_MAX; m++) {
		n = strlen(zrtp_msg_names[m]);
		if (memcmp(block, zrtp_msg_names[m], n) == 0 &&
		    memcmp(block + n, "        ", 8 - n) == 0)
			return (enum zrtp_msg)m;
	}
	return ZRTP_MSG_OTHER;
}

/*
 * First byte 16-19: ZRTP (RFC 6189 s5) when the first 16 bits are 0x1000
 * and the magic cookie follows the sequence number; then the message must
 * fill the datagram up to a CRC-32C of everything before it. The CRC is
 * carried least significant byte first, as SCTP carries its CRC-32C (RFC
 * 4960 Appendix B), which is how ZRTP implementations and Wireshark read
 * it. Without header and cookie it is an RTP v0 keepalive, as any packet
 * with version bits 00 was before RFC 7983.
 */
static enum pkt_kind
rtp_classify_zrtp(const uint8_t *p, size_t len, struct rtp_info *info,
    enum pkt_keepalive *ka)
{
	uint32_t crc, w;
	size_t words, algs;
	enum zrtp_msg msg;
	int i;

	if (len < 8 || rtp_be16(p) != 0x1000 ||
	    rtp_be32(p + 4) != ZRTP_MAGIC_COOKIE)
		return rtp_keepalive_v0(len, info, ka);
	if (len < ZRTP_MIN_LEN)
		return rtp_invalid(info, PKT_ERR_ZRTP_SHORT);
	if (rtp_be16(p + ZRTP_HDR_LEN) != ZRTP_PREAMBLE)
		return rtp_invalid(info, PKT_ERR_ZRTP_PREAMBLE);
	/* The length counts the message's words, preamble included. */
	words = rtp_be16(p + ZRTP_HDR_LEN + 2);
	if (ZRTP_HDR_LEN + 4 * words + 4 != len)
		return rtp_invalid(info, PKT_ERR_ZRTP_LEN);
	crc = (uint32_t)p[len - 1] << 24 | (uint32_t)p[len - 2] << 16 |
	    (uint32_t)p[len - 3] << 8 | p[len - 4];
	if (rtp_crc32c(p, len - 4) != crc)
		return rtp_invalid(info, PKT_ERR_ZRTP_CRC);
	msg = rtp_zrtp_msg(p + ZRTP_HDR_LEN + 4);
	if (msg == ZRTP_MSG_HELLO) {
		/* hc, cc, ac, kc, sc: 4 bits each, at most 7 of each. */
		if (words < ZRTP_HELLO_FIXED_WORDS)
			return rtp_invalid(info, PKT_ERR_ZRTP_HELLO);
		w = rtp_be32(p + ZRTP_HELLO_FLAGS_OFF);
		algs = 0;
		for (i = 0; i < 5; i++, w >>= 4) {
			if ((w & 0x0f) > ZRTP_HELLO_MAX_ALGS)
				return rtp_invalid(info, PKT_ERR_ZRTP_HELLO);
			algs += w & 0x0f;
		}
		if (words != ZRTP_HELLO_FIXED_WORDS + algs)
			return rtp_invalid(info, PKT_ERR_ZRTP_HELLO);
	}
	info->ssrc = rtp_be32(p + 8);
	info->zrtp.msg = msg;
	info->zrtp.seq = rtp_be16(p + 2);
	return PKT_ZRTP;
}

/*
 * First byte 20-63: DTLS. A datagram may carry several records; each must
 * be whole. A DTLS 1.0/1.2 record (RFC 6347 s4.1) has a 13-byte header:
 * content type 20-25, version 0xFEFF or 0xFEFD (DTLS 1.3 keeps 0xFEFD in
 * its plaintext records), epoch, 48-bit sequence number and length. A
 * DTLS 1.3 record may instead carry the unified header (RFC 9147 s4,
 * first bits 001CSLEE): with C set a connection ID of a length only the
 * endpoints know follows (so only the smallest possible record is
 * checked), and with L clear the record runs to the end of the datagram;
 * either way the walk stops there. Protected DTLS 1.3 records carry at
 * least 16 bytes of ciphertext (RFC 9147 s4.2.3). So does a tls12_cid
 * record (content type 25, RFC 9146), whose connection ID sits before its
 * length field.
 */
static enum pkt_kind
rtp_classify_dtls(const uint8_t *p, size_t len, struct rtp_info *info)
{
	struct rtp_dtls d = { .hs_type = -1 };
	size_t off = 0, rest, hdr, n;
	uint8_t b;

	while (off < len) {
		b = p[off];
		rest = len - off;
		if (b >= 20 && b <= 25) {
			if (rest < DTLS_HDR_LEN)
				return rtp_invalid(info, PKT_ERR_DTLS_SHORT);
			n = rtp_be16(p + off + 1);
			if (n != 0xfeff && n != 0xfefd)
				return rtp_invalid(info,
				    PKT_ERR_DTLS_VERSION);
			n = rtp_be16(p + off + 11);
			if (d.records++ == 0) {
				d.content = b;
				d.epoch = rtp_be16(p + off + 3);
				if (b == DTLS_CT_HANDSHAKE && d.epoch == 0 &&
				    n > 0 && rest > DTLS_HDR_LEN)
					d.hs_type = p[off + DTLS_HDR_LEN];
			}
			if (b == 25)
				break;
			if (n > rest - DTLS_HDR_LEN)
				return rtp_invalid(info, PKT_ERR_DTLS_LEN);
			off += DTLS_HDR_LEN + n;
			continue;
		}
		if ((b & 0xe0) != 0x20)
			return rtp_invalid(info, PKT_ERR_DTLS_TYPE);
		if (d.records++ == 0)
			d.epoch = b & 0x03;
		/* 8- or 16-bit sequence number, then the optional length. */
		hdr = 1 + (b & 0x08 ? 2 : 1) + (b & 0x04 ? 2 : 0);
		if (b & 0x10) {
			/* At least one byte of connection ID. */
			if (rest < hdr + 1 + DTLS13_CIPHERTEXT_MIN)
				return rtp_invalid(info,
				    PKT_ERR_DTLS13_SHORT);
			break;
		}
		if (rest < hdr)
			return rtp_invalid(info, PKT_ERR_DTLS_SHORT);
		n = b & 0x04 ? rtp_be16(p + off + hdr - 2) : rest - hdr;
		if (n > rest - hdr)
			return rtp_invalid(info, PKT_ERR_DTLS_LEN);
		if (n < DTLS13_CIPHERTEXT_MIN)
			return rtp_invalid(info, PKT_ERR_DTLS13_SHORT);
		off += hdr + n;
	}
	info->dtls = d;
	return PKT_DTLS;
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
	/* 128-191 first: nearly every datagram is RTP or RTCP. */
	if ((p[0] & 0xc0) == 0x80) {
		if (len >= 2 && p[1] >= 192 && p[1] <= 223)
			return rtp_classify_rtcp(p, len, info, ka);
		return rtp_classify_rtp(p, len, pt_mask, info, ka);
	}
	if (p[0] <= 3)
		return rtp_classify_stun(p, len, info, ka);
	if (p[0] <= 15)
		return rtp_keepalive_v0(len, info, ka);
	if (p[0] <= 19)
		return rtp_classify_zrtp(p, len, info, ka);
	if (p[0] <= 63)
		return rtp_classify_dtls(p, len, info);
	if (p[0] <= 79)
		return PKT_TURN;
	return rtp_invalid(info, PKT_ERR_VERSION);	/* 80-127, 192-255 */
}

enum pkt_kind
rtp_classify_opaque(size_t len, struct rtp_info *info, enum pkt_keepalive *ka)
{
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (ka != NULL)
		*ka = len == 0 ? KA_EMPTY : KA_NONE;
	return len == 0 ? PKT_KEEPALIVE : PKT_OPAQUE;
}
