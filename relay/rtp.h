/*
 * Classification of one received UDP payload on a media port by its first
 * byte, as RFC 7983 demultiplexes it: STUN, ZRTP, DTLS, TURN ChannelData,
 * RTP and RTCP (RFC 5761 muxing), one of the RFC 6263 keepalive forms, or
 * garbage. A leg whose m= proto is not RTP (T.38 over UDPTL) carries
 * datagrams the relay does not look into: rtp_classify_opaque().
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
#define DTLS_HDR_LEN		13	/* DTLS 1.0/1.2 record header */
#define DTLS13_CIPHERTEXT_MIN	16	/* RFC 9147 s4.2.3 */
#define ZRTP_HDR_LEN		12	/* RFC 6189 s5: before the message */
#define ZRTP_MAGIC_COOKIE	0x5a525450u	/* "ZRTP" */
#define ZRTP_PREAMBLE		0x505a
/* Header, preamble and length, message type block, CRC. */
#define ZRTP_MIN_LEN		(ZRTP_HDR_LEN + 4 + 8 + 4)

enum pkt_kind {
	PKT_RTP,
	PKT_RTCP,		/* forwarded, but never latches */
	PKT_KEEPALIVE,		/* one of the KA_* forms: never forwarded */
	PKT_INVALID,
	PKT_DTLS,		/* DTLS records (first byte 20-63) */
	PKT_ZRTP,		/* a ZRTP packet with a correct CRC */
	PKT_TURN,		/* TURN ChannelData (first byte 64-79) */
	PKT_OPAQUE,		/* on a non-RTP leg: not looked into */
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
	PKT_ERR_VERSION,	/* first byte 80-127 or 192-255 */
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
	PKT_ERR_DTLS_TYPE,	/* a record begins with no content type 20-25
				   and no DTLS 1.3 unified header */
	PKT_ERR_DTLS_SHORT,	/* record cut inside its header */
	PKT_ERR_DTLS_VERSION,	/* record version not 0xFEFF or 0xFEFD */
	PKT_ERR_DTLS_LEN,	/* record length runs past the end */
	PKT_ERR_DTLS13_SHORT,	/* unified header, under 16 bytes of ciphertext */
	PKT_ERR_ZRTP_SHORT,	/* ZRTP header and cookie, no room for a message */
	PKT_ERR_ZRTP_PREAMBLE,	/* ZRTP message does not start with 0x505a */
	PKT_ERR_ZRTP_LEN,	/* ZRTP message length disagrees with the datagram */
	PKT_ERR_ZRTP_CRC,	/* ZRTP CRC-32C does not match */
	PKT_ERR_ZRTP_HELLO,	/* ZRTP Hello length disagrees with its counts */
	PKT_ERR_MAX
};
extern const char *const pkt_error_names[];
const char	*pkt_error_name(enum pkt_error);

/* ZRTP message types (RFC 6189 s5.1.1); ZRTP_MSG_OTHER for any other. */
enum zrtp_msg {
	ZRTP_MSG_OTHER,
	ZRTP_MSG_HELLO,
	ZRTP_MSG_HELLOACK,
	ZRTP_MSG_COMMIT,
	ZRTP_MSG_DHPART1,
	ZRTP_MSG_DHPART2,
	ZRTP_MSG_CONFIRM1,
	ZRTP_MSG_CONFIRM2,
	ZRTP_MSG_CONF2ACK,
	ZRTP_MSG_ERROR,
	ZRTP_MSG_ERRORACK,
	ZRTP_MSG_GOCLEAR,
	ZRTP_MSG_CLEARACK,
	ZRTP_MSG_SASRELAY,
	ZRTP_MSG_RELAYACK,
	ZRTP_MSG_PING,
	ZRTP_MSG_PINGACK,
	ZRTP_MSG_MAX
};
/* The message type blocks without their padding ("Hello", "HelloACK"). */
extern const char *const zrtp_msg_names[];
const char	*zrtp_msg_name(enum zrtp_msg);

/* DTLS handshake types that open a flight of either role. */
#define DTLS_HS_CLIENT_HELLO		1
#define DTLS_HS_SERVER_HELLO		2
#define DTLS_HS_HELLO_VERIFY_REQUEST	3
#define DTLS_CT_HANDSHAKE		22

/*
 * PKT_DTLS: the first record of the datagram (a datagram may carry
 * several, and every one whose end can be found was checked).
 */
struct rtp_dtls {
	uint8_t		content;	/* 20..25, or 0 for a DTLS 1.3 unified
					   header (always protected) */
	uint16_t	epoch;		/* unified header: its low 2 bits */
	int		hs_type;	/* epoch 0 handshake with at least one
					   byte: its first msg_type; else -1 */
	unsigned int	records;
};

/* PKT_ZRTP; the source identifier (the SSRC of the stream) is in ssrc. */
struct rtp_zrtp {
	enum zrtp_msg	msg;		/* a Hello is only ever well-formed */
	uint16_t	seq;		/* ZRTP's own sequence number */
};

/*
 * Header fields. For RTCP: version, pt (the RTCP packet type, 192..223),
 * ssrc (bytes 4..7), hdr_len 8 and payload_len = len - 8; the other fields
 * are zero. For KA_RTP_V0 only version is set; for KA_EMPTY and KA_STUN
 * everything is zero. For PKT_DTLS only dtls is set, for PKT_ZRTP only
 * zrtp and ssrc (its source identifier), for PKT_TURN and PKT_OPAQUE
 * nothing (dtls and zrtp are zero for every other kind). pt_ok says the PT is in the negotiated set (always
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
	struct rtp_dtls	dtls;
	struct rtp_zrtp	zrtp;
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

/*
 * A datagram of a leg whose m= proto is not RTP: PKT_OPAQUE, or KA_EMPTY
 * for an empty one (an empty datagram carries no UDPTL packet, but it
 * keeps a NAT binding open like any other). Same contract for info and ka.
 */
enum pkt_kind	rtp_classify_opaque(size_t len, struct rtp_info *info,
		    enum pkt_keepalive *ka);

/* CRC-32C (Castagnoli, as in RFC 4960 Appendix B) of p[0..len). */
uint32_t	rtp_crc32c(const uint8_t *p, size_t len);

/* Payload type sets as taken by rtp_classify(); pt above 127 is ignored. */
void		rtp_pt_mask_clear(uint64_t mask[2]);
void		rtp_pt_mask_add(uint64_t mask[2], unsigned int pt);
bool		rtp_pt_mask_has(const uint64_t mask[2], unsigned int pt);

#endif
