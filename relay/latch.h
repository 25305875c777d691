/*
 * Symmetric-RTP latching of one call leg (RFC 7362), hardened against the
 * RTPBleed class of attacks: where the relay sends this leg's media is the
 * source it latched onto, and once latched only a packet that continues the
 * latched stream (same SSRC, sequence number just ahead) may move it.
 *
 * A leg may also latch on the first packet of a DTLS or ZRTP handshake,
 * and a leg whose m= proto is not RTP on its first datagram; such a latch
 * knows less of the stream (enum latch_known) and cannot move until RTP
 * from the latched source has taught it the SSRC and sequence number.
 *
 * Pure: no I/O, no clock, no logging. The caller classifies each datagram
 * with rtp_classify() or rtp_classify_opaque() (relay/rtp.h), feeds it to
 * latch_input() and acts on the verdict: forward, refresh the media timer
 * only, or drop and count.
 *
 * Addresses are compared exactly as given: a dual-stack socket reports IPv4
 * peers as ::ffff:a.b.c.d, so the caller must hand both SDP and source
 * addresses in one form.
 */
#ifndef RELAY_LATCH_H
#define RELAY_LATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "relay/rtp.h"

/* Default forward distance (in packets) a moving source may have skipped. */
#define LATCH_SEQ_WINDOW	100

enum latch_state {
	LATCH_SDP,		/* sending to the SDP address, if any */
	LATCH_LATCHED,		/* sending to the latched source */
	LATCH_STATE_MAX
};
extern const char *const latch_state_names[];
const char	*latch_state_name(enum latch_state);

/* What the latch knows of the stream on the latched source. */
enum latch_known {
	LATCH_KNOWN_NONE,	/* latched by DTLS or an opaque datagram */
	LATCH_KNOWN_SSRC,	/* by a ZRTP Hello: its source identifier */
	LATCH_KNOWN_SEQ,	/* by RTP: SSRC and sequence number */
	LATCH_KNOWN_MAX
};
extern const char *const latch_known_names[];
const char	*latch_known_name(enum latch_known);

enum latch_verdict {
	LATCH_FORWARD,		/* forward, latch unchanged */
	LATCH_FORWARD_LATCHED,	/* forward; first latch on this source */
	LATCH_FORWARD_MOVED,	/* forward; latch moved to this source */
	LATCH_ACTIVITY,		/* keepalive: refresh the timer, do not forward */
	LATCH_DROP_SPOOF,	/* RTCP from an IP that is neither latched nor SDP */
	LATCH_DROP_SSRC,	/* RTP from another source with a foreign SSRC */
	LATCH_DROP_SEQ,		/* latched SSRC, seq outside the window */
	LATCH_DROP_PT,		/* RTP with a PT that was not negotiated */
	LATCH_DROP_KEEPALIVE,	/* keepalive from a source that is not latched */
	LATCH_DROP_INVALID,	/* not RTP, RTCP or a keepalive */
	LATCH_DROP_DTLS,	/* DTLS from another source, or before the
				   latch a record that is no epoch 0 hello */
	LATCH_DROP_DTLS_SDP,	/* DTLS, but the leg's SDP did not negotiate it */
	LATCH_DROP_ZRTP,	/* ZRTP from another source, or before the
				   latch a message that is no Hello */
	LATCH_DROP_TURN,	/* TURN ChannelData: the relay is no TURN server */
	LATCH_DROP_OPAQUE,	/* non-RTP leg: from another source */
	LATCH_VERDICT_MAX
};
extern const char *const latch_verdict_names[];
const char	*latch_verdict_name(enum latch_verdict);

struct latch_policy {
	/*
	 * A new source with the latched SSRC moves the latch only when its
	 * seq is 1..seq_window ahead of the last one seen (mod 2^16).
	 * 0 forbids moving altogether.
	 */
	uint16_t	seq_window;
};

/* What the caller knows of a datagram besides its bytes and source. */
struct latch_ctx {
	bool	rtcp_port;	/* it arrived on the leg's own RTCP port */
	bool	dtls;		/* the leg's SDP negotiated DTLS (RFC 5763) */
};

struct latch {
	enum latch_state	state;
	union sockaddr_any	sdp;	/* AF_UNSPEC when SDP gave none */
	union sockaddr_any	addr;	/* latched source, LATCH_LATCHED only */
	enum latch_known	known;	/* LATCH_LATCHED only */
	uint32_t		ssrc;	/* known >= LATCH_KNOWN_SSRC */
	uint16_t		seq;	/* last RTP seq accepted, known SEQ */
	uint64_t		ssrc_changes;	/* from the latched source */
	/* How often each verdict was returned; [LATCH_FORWARD_MOVED] = moves. */
	uint64_t		verdicts[LATCH_VERDICT_MAX];
};

/* Default policy (seq_window = LATCH_SEQ_WINDOW). */
void	latch_policy_init(struct latch_policy *pol);

/*
 * Start a leg in LATCH_SDP. sdp_addr may be NULL, or of a family other
 * than IPv4/IPv6, or unspecified (0.0.0.0, ::, port 0): then nothing is
 * sent until the leg latches, and RTCP is dropped until then.
 */
void	latch_init(struct latch *l, const union sockaddr_any *sdp_addr);

/*
 * Install a latched state learned elsewhere (a call record replicated from
 * another relay), so a relay taking over a stream keeps protecting it.
 * Counters are kept. Returns -1 and leaves l unchanged if addr is not a
 * usable IPv4/IPv6 address with a port, or known is out of range.
 */
int	latch_restore(struct latch *l, const union sockaddr_any *addr,
	    enum latch_known known, uint32_t ssrc, uint16_t seq, char *err,
	    size_t errlen);

/*
 * Apply one classified datagram from src (kind, ka and info as filled by
 * rtp_classify(); info may be NULL only for PKT_KEEPALIVE, PKT_INVALID,
 * PKT_TURN and PKT_OPAQUE). pol NULL means the default policy, ctx NULL
 * the RTP port of a leg that did not negotiate DTLS. Updates l and its
 * counters.
 */
enum latch_verdict latch_input(struct latch *l,
	    const struct latch_policy *pol, const struct latch_ctx *ctx,
	    const union sockaddr_any *src, enum pkt_kind kind,
	    enum pkt_keepalive ka, const struct rtp_info *info);

/* Where media for this leg goes now; NULL if nowhere yet. */
const union sockaddr_any *latch_dest(const struct latch *l);

#endif
