/*
 * Latching rules of one call leg (see relay/latch.h).
 *
 * The state machine has two states and one event (a classified datagram):
 *
 *   LATCH_SDP      valid RTP with a negotiated PT, any source -> LATCH_LATCHED
 *                  (knows SSRC and seq)
 *                  a DTLS epoch 0 hello on a leg that negotiated DTLS
 *                  -> LATCH_LATCHED (knows nothing)
 *                  a well-formed ZRTP Hello -> LATCH_LATCHED (knows the SSRC)
 *                  any datagram of a non-RTP leg -> LATCH_LATCHED (nothing)
 *   LATCH_LATCHED  RTP from the latched source -> learns SSRC and seq
 *                  RTP from another source, the latch knows SSRC and seq,
 *                  latched SSRC, seq 1..window ahead -> LATCH_LATCHED on
 *                  that source (a move)
 *
 * Keepalives and RTCP never latch: they carry no payload an attacker has to
 * guess, so latching on them would let anyone who can reach the port steal
 * the stream (RTPBleed). Requiring the SSRC and a nearby seq to move means
 * an attacker must observe the stream first, which a NAT rebinding peer
 * does trivially and an off-path spoofer cannot. A handshake may latch
 * only as long as RTP may (before the first latch), so it opens no new
 * way in; and a latch that does not know the seq yet never moves, because
 * "1..window ahead of nothing" would accept any seq.
 */
#include "relay/latch.h"

#include <stdio.h>
#include <string.h>

const char *const latch_state_names[] = {
	[LATCH_SDP] = "sdp",
	[LATCH_LATCHED] = "latched",
};

const char *const latch_verdict_names[] = {
	[LATCH_FORWARD] = "forward",
	[LATCH_FORWARD_LATCHED] = "forward-latched",
	[LATCH_FORWARD_MOVED] = "forward-moved",
	[LATCH_ACTIVITY] = "activity",
	[LATCH_DROP_SPOOF] = "drop-spoof",
	[LATCH_DROP_SSRC] = "drop-ssrc",
	[LATCH_DROP_SEQ] = "drop-seq",
	[LATCH_DROP_PT] = "drop-pt",
	[LATCH_DROP_KEEPALIVE] = "drop-keepalive",
	[LATCH_DROP_INVALID] = "drop-invalid",
	[LATCH_DROP_DTLS] = "drop-dtls",
	[LATCH_DROP_DTLS_SDP] = "drop-dtls-sdp",
	[LATCH_DROP_ZRTP] = "drop-zrtp",
	[LATCH_DROP_TURN] = "drop-turn",
	[LATCH_DROP_OPAQUE] = "drop-opaque",
};

const char *const latch_known_names[] = {
	[LATCH_KNOWN_NONE] = "none",
	[LATCH_KNOWN_SSRC] = "ssrc",
	[LATCH_KNOWN_SEQ] = "ssrc-seq",
};

static bool	latch_sa_usable(const union sockaddr_any *);
static bool	latch_same_ip(const union sockaddr_any *,
		    const union sockaddr_any *);
static void	latch_sa_copy(union sockaddr_any *,
		    const union sockaddr_any *);
static void	latch_set(struct latch *, const union sockaddr_any *,
		    enum latch_known, uint32_t, uint16_t);
static enum latch_verdict latch_rtp(struct latch *,
		    const struct latch_policy *, const union sockaddr_any *,
		    const struct rtp_info *);
static enum latch_verdict latch_dtls(struct latch *,
		    const struct latch_ctx *, const union sockaddr_any *,
		    const struct rtp_info *);
static enum latch_verdict latch_zrtp(struct latch *,
		    const union sockaddr_any *, const struct rtp_info *);
static enum latch_verdict latch_opaque(struct latch *,
		    const union sockaddr_any *);
static enum latch_verdict latch_decide(struct latch *,
		    const struct latch_policy *, const struct latch_ctx *,
		    const union sockaddr_any *, enum pkt_kind,
		    enum pkt_keepalive, const struct rtp_info *);

const char *
latch_state_name(enum latch_state s)
{
	if ((unsigned int)s >= LATCH_STATE_MAX)
		return "unknown";
	return latch_state_names[s];
}

const char *
latch_verdict_name(enum latch_verdict v)
{
	if ((unsigned int)v >= LATCH_VERDICT_MAX)
		return "unknown";
	return latch_verdict_names[v];
}

const char *
latch_known_name(enum latch_known k)
{
	if ((unsigned int)k >= LATCH_KNOWN_MAX)
		return "unknown";
	return latch_known_names[k];
}

/* An address media can be sent to: IPv4/IPv6, specified, non-zero port. */
static bool
latch_sa_usable(const union sockaddr_any *sa)
{
	if (sa == NULL)
		return false;
	switch (sa->sa.sa_family) {
	case AF_INET:
		return sa->sin.sin_addr.s_addr != htonl(INADDR_ANY) &&
		    sa->sin.sin_port != 0;
	case AF_INET6:
		return !IN6_IS_ADDR_UNSPECIFIED(&sa->sin6.sin6_addr) &&
		    sa->sin6.sin6_port != 0;
	default:
		return false;
	}
}

/* Same family and IP, any port: non-muxed RTCP comes from port + 1. */
static bool
latch_same_ip(const union sockaddr_any *a, const union sockaddr_any *b)
{
	struct addr aa, ab;

	if (!latch_sa_usable(a) || !latch_sa_usable(b))
		return false;
	sa_to_addr(a, &aa);
	sa_to_addr(b, &ab);
	return addr_eq(&aa, &ab);
}

/*
 * Copy only the family's own sockaddr so the stored union has no stray
 * bytes: the latched address is replicated to other relays.
 */
static void
latch_sa_copy(union sockaddr_any *dst, const union sockaddr_any *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src->sa.sa_family == AF_INET6) {
		dst->sin6.sin6_family = AF_INET6;
		dst->sin6.sin6_addr = src->sin6.sin6_addr;
		dst->sin6.sin6_port = src->sin6.sin6_port;
		dst->sin6.sin6_scope_id = src->sin6.sin6_scope_id;
	} else if (src->sa.sa_family == AF_INET) {
		dst->sin.sin_family = AF_INET;
		dst->sin.sin_addr = src->sin.sin_addr;
		dst->sin.sin_port = src->sin.sin_port;
	} else
		dst->sa.sa_family = AF_UNSPEC;
}

static void
latch_set(struct latch *l, const union sockaddr_any *src,
    enum latch_known known, uint32_t ssrc, uint16_t seq)
{
	l->state = LATCH_LATCHED;
	latch_sa_copy(&l->addr, src);
	l->known = known;
	l->ssrc = known >= LATCH_KNOWN_SSRC ? ssrc : 0;
	l->seq = known >= LATCH_KNOWN_SEQ ? seq : 0;
}

void
latch_policy_init(struct latch_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->seq_window = LATCH_SEQ_WINDOW;
}

void
latch_init(struct latch *l, const union sockaddr_any *sdp_addr)
{
	memset(l, 0, sizeof(*l));
	l->state = LATCH_SDP;
	l->sdp.sa.sa_family = AF_UNSPEC;
	l->addr.sa.sa_family = AF_UNSPEC;
	if (sdp_addr != NULL)
		latch_sa_copy(&l->sdp, sdp_addr);
}

int
latch_restore(struct latch *l, const union sockaddr_any *addr,
    enum latch_known known, uint32_t ssrc, uint16_t seq, char *err,
    size_t errlen)
{
	if ((unsigned int)known >= LATCH_KNOWN_MAX) {
		snprintf(err, errlen, "latch restore: known %d out of range",
		    (int)known);
		return -1;
	}
	if (addr == NULL) {
		snprintf(err, errlen, "latch restore: no address");
		return -1;
	}
	if (addr->sa.sa_family != AF_INET && addr->sa.sa_family != AF_INET6) {
		snprintf(err, errlen,
		    "latch restore: address family %d is not IPv4 or IPv6",
		    addr->sa.sa_family);
		return -1;
	}
	if (!latch_sa_usable(addr)) {
		snprintf(err, errlen,
		    "latch restore: unspecified address or port 0");
		return -1;
	}
	latch_set(l, addr, known, ssrc, seq);
	return 0;
}

const union sockaddr_any *
latch_dest(const struct latch *l)
{
	if (l->state == LATCH_LATCHED)
		return &l->addr;
	return latch_sa_usable(&l->sdp) ? &l->sdp : NULL;
}

static enum latch_verdict
latch_rtp(struct latch *l, const struct latch_policy *pol,
    const union sockaddr_any *src, const struct rtp_info *info)
{
	uint16_t ahead;

	if (l->state != LATCH_LATCHED) {
		if (!info->pt_ok)
			return LATCH_DROP_PT;
		latch_set(l, src, LATCH_KNOWN_SEQ, info->ssrc, info->seq);
		return LATCH_FORWARD_LATCHED;
	}
	if (sa_eq(src, &l->addr)) {
		/* The latched endpoint may restart its stream; after a
		 * handshake latched it, its first RTP says which it is. */
		if (l->known >= LATCH_KNOWN_SSRC && info->ssrc != l->ssrc)
			l->ssrc_changes++;
		l->known = LATCH_KNOWN_SEQ;
		l->ssrc = info->ssrc;
		l->seq = info->seq;
		return LATCH_FORWARD;
	}
	if (l->known < LATCH_KNOWN_SSRC || info->ssrc != l->ssrc)
		return LATCH_DROP_SSRC;
	if (l->known < LATCH_KNOWN_SEQ)
		return LATCH_DROP_SEQ;
	ahead = (uint16_t)(info->seq - l->seq);
	if (ahead == 0 || ahead > pol->seq_window)
		return LATCH_DROP_SEQ;
	if (!info->pt_ok)
		return LATCH_DROP_PT;
	latch_set(l, src, LATCH_KNOWN_SEQ, info->ssrc, info->seq);
	return LATCH_FORWARD_MOVED;
}

/* The first flight of either DTLS role opens with one of these. */
static bool
latch_dtls_hello(const struct rtp_dtls *d)
{
	return d->content == DTLS_CT_HANDSHAKE && d->epoch == 0 &&
	    (d->hs_type == DTLS_HS_CLIENT_HELLO ||
	    d->hs_type == DTLS_HS_SERVER_HELLO ||
	    d->hs_type == DTLS_HS_HELLO_VERIFY_REQUEST);
}

/*
 * DTLS only where the SDP negotiated it. On the RTCP port (a second DTLS
 * session for the RTCP component, RFC 5764 without rtcp-mux) RTCP's rule:
 * the latched IP, or the SDP's before the latch. On the RTP port the
 * latched source, or before the latch an epoch 0 hello from anyone.
 */
static enum latch_verdict
latch_dtls(struct latch *l, const struct latch_ctx *ctx,
    const union sockaddr_any *src, const struct rtp_info *info)
{
	bool latched = l->state == LATCH_LATCHED;

	if (!ctx->dtls)
		return LATCH_DROP_DTLS_SDP;
	if (ctx->rtcp_port)
		return latch_same_ip(src, latched ? &l->addr : &l->sdp) ?
		    LATCH_FORWARD : LATCH_DROP_DTLS;
	if (latched)
		return sa_eq(src, &l->addr) ? LATCH_FORWARD : LATCH_DROP_DTLS;
	if (!latch_dtls_hello(&info->dtls))
		return LATCH_DROP_DTLS;
	latch_set(l, src, LATCH_KNOWN_NONE, 0, 0);
	return LATCH_FORWARD_LATCHED;
}

/* ZRTP runs on the RTP port only (RFC 6189 s5); a Hello carries the SSRC
 * of the stream it keys as its source identifier. */
static enum latch_verdict
latch_zrtp(struct latch *l, const union sockaddr_any *src,
    const struct rtp_info *info)
{
	if (l->state == LATCH_LATCHED)
		return sa_eq(src, &l->addr) ? LATCH_FORWARD : LATCH_DROP_ZRTP;
	if (info->zrtp.msg != ZRTP_MSG_HELLO)
		return LATCH_DROP_ZRTP;
	latch_set(l, src, LATCH_KNOWN_SSRC, info->ssrc, 0);
	return LATCH_FORWARD_LATCHED;
}

/* A non-RTP leg: nothing in its datagrams could prove a move. */
static enum latch_verdict
latch_opaque(struct latch *l, const union sockaddr_any *src)
{
	if (l->state != LATCH_LATCHED) {
		latch_set(l, src, LATCH_KNOWN_NONE, 0, 0);
		return LATCH_FORWARD_LATCHED;
	}
	return sa_eq(src, &l->addr) ? LATCH_FORWARD : LATCH_DROP_OPAQUE;
}

static enum latch_verdict
latch_decide(struct latch *l, const struct latch_policy *pol,
    const struct latch_ctx *ctx, const union sockaddr_any *src,
    enum pkt_kind kind, enum pkt_keepalive ka, const struct rtp_info *info)
{
	bool latched = l->state == LATCH_LATCHED;

	if (!latch_sa_usable(src))
		return LATCH_DROP_INVALID;
	switch (kind) {
	case PKT_RTCP:
		if (latch_same_ip(src, latched ? &l->addr : &l->sdp))
			return LATCH_FORWARD;
		return LATCH_DROP_SPOOF;
	case PKT_KEEPALIVE:
		break;
	case PKT_RTP:
		/* A keepalive form under the RTP kind still never latches. */
		if (ka != KA_NONE)
			break;
		if (info == NULL || ctx->rtcp_port)
			return LATCH_DROP_INVALID;
		return latch_rtp(l, pol, src, info);
	case PKT_DTLS:
		if (info == NULL)
			return LATCH_DROP_INVALID;
		return latch_dtls(l, ctx, src, info);
	case PKT_ZRTP:
		if (info == NULL || ctx->rtcp_port)
			return LATCH_DROP_INVALID;
		return latch_zrtp(l, src, info);
	case PKT_TURN:
		return LATCH_DROP_TURN;
	case PKT_OPAQUE:
		if (ctx->rtcp_port)
			return LATCH_DROP_INVALID;
		return latch_opaque(l, src);
	default:
		return LATCH_DROP_INVALID;
	}
	/* Keepalive: proves the peer is alive, but says nothing about who. */
	if (!latched || sa_eq(src, &l->addr))
		return LATCH_ACTIVITY;
	return LATCH_DROP_KEEPALIVE;
}

enum latch_verdict
latch_input(struct latch *l, const struct latch_policy *pol,
    const struct latch_ctx *ctx, const union sockaddr_any *src,
    enum pkt_kind kind, enum pkt_keepalive ka, const struct rtp_info *info)
{
	static const struct latch_ctx ctx_def;
	struct latch_policy def;
	enum latch_verdict v;

	if (pol == NULL) {
		latch_policy_init(&def);
		pol = &def;
	}
	if (ctx == NULL)
		ctx = &ctx_def;
	v = latch_decide(l, pol, ctx, src, kind, ka, info);
	l->verdicts[v]++;
	return v;
}
