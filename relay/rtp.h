/*
 * Classification of one received UDP payload on a media port: RTP, RTCP
 * (RFC 5761 muxing), one of the RFC 6263 keepalive forms, or garbage.
 *
 * Pure: no I/O, no logging, no allocation. The data path calls
 * rtp_classify() once per datagram and hands the result to the latching
 * rules (relay/latch.h); an invalid packet carries a reason code instead of
 * an error string, so a flood of garbage costs no formatting.
 */
#ifndef RELAY_RTP_H
#define RELAY_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HDR_LEN		12
#define RTCP_HDR_LEN		8
#define STUN_HDR_LEN		20
#define STUN_MAGIC_COOKIE	0x2112A442u

enum pkt_kind {
	PKT_RTP,
	PKT_RTCP,		/* forwarded, but never latches */
	PKT_KEEPALIVE,		/* one of the KA_* forms: never forwarded */
	PKT_INVALID,
	PKT_KIND_MAX
};
extern const char *const pkt_kind_names[];
const char	*pkt_kind_name(enum pkt_kind);

/*
 * Forms that keep a NAT binding open without carrying media (RFC 6263 s4).
 * None of them may latch or move a latch; KA_RTCP is set with PKT_RTCP so
 * that "ka != KA_NONE" alone means "never latches".
 */
enum pkt_keepalive {
	KA_NONE,
	KA_EMPTY,		/* 0-byte UDP payload (s4.1) */
	KA_STUN,		/* STUN Binding request/indication/response (s4.4) */
	KA_RTP_V0,		/* RTP version 0 (s4.5) */
	KA_EMPTY_PAYLOAD,	/* valid RTP, no payload after header+padding */
	KA_UNKNOWN_PT,		/* valid RTP, PT not negotiated, no payload (s4.6) */
	KA_RTCP,		/* RTCP muxed on the RTP port (s4.3) */
	KA_MAX
};
extern const char *const pkt_keepalive_names[];
const char	*pkt_keepalive_name(enum pkt_keepalive);

/* Why a packet is PKT_INVALID; PKT_ERR_NONE for every other kind. */
enum pkt_error {
	PKT_ERR_NONE,
	PKT_ERR_NULL,		/* NULL buffer with a non-zero length */
	PKT_ERR_VERSION,	/* version 1 or 3 */
	PKT_ERR_V0_SHORT,	/* version 0 but shorter than an RTP header */
	PKT_ERR_STUN_LEN,	/* STUN cookie, message length disagrees */
	PKT_ERR_STUN_METHOD,	/* STUN, but not the Binding method */
	PKT_ERR_RTP_SHORT,	/* version 2, shorter than 12 bytes */
	PKT_ERR_CSRC,		/* CSRC list runs past the end */
	PKT_ERR_EXT,		/* header extension runs past the end */
	PKT_ERR_PAD_ZERO,	/* padding bit set, padding count 0 */
	PKT_ERR_PAD_LEN,	/* padding longer than what follows the header */
	PKT_ERR_RTCP_SHORT,	/* RTCP shorter than 8 bytes */
	PKT_ERR_RTCP_LEN,	/* first RTCP packet's length runs past the end */
	PKT_ERR_MAX
};
extern const char *const pkt_error_names[];
const char	*pkt_error_name(enum pkt_error);

/*
 * Header fields. For RTCP: version, pt (the RTCP packet type, 192..223),
 * ssrc (bytes 4..7), hdr_len 8 and payload_len = len - 8; the other fields
 * are zero. For KA_RTP_V0 only version is set; for KA_EMPTY and KA_STUN
 * everything is zero. pt_ok says the PT is in the negotiated set (always
 * true when no set was given); error says why a packet is PKT_INVALID.
 */
struct rtp_info {
	uint8_t		version;
	uint8_t		pt;
	bool		marker;
	bool		pt_ok;
	uint16_t	seq;
	uint32_t	ts;
	uint32_t	ssrc;
	size_t		hdr_len;	/* fixed header + CSRCs + extension */
	size_t		payload_len;	/* without padding */
	enum pkt_error	error;
};

/*
 * Classify the len bytes at p. pt_mask is the set of negotiated payload
 * types (bit n of pt_mask[n / 64] for PT n) or NULL for "any PT". info and
 * ka may be NULL when the caller does not want them; when given they are
 * always fully written. Never reads outside p[0..len).
 */
enum pkt_kind	rtp_classify(const uint8_t *p, size_t len,
		    const uint64_t pt_mask[2], struct rtp_info *info,
		    enum pkt_keepalive *ka);

/* Payload type sets as taken by rtp_classify(); pt above 127 is ignored. */
void		rtp_pt_mask_clear(uint64_t mask[2]);
void		rtp_pt_mask_add(uint64_t mask[2], unsigned int pt);
bool		rtp_pt_mask_has(const uint64_t mask[2], unsigned int pt);

#endif
