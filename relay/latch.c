/*
 * Latching rules of one call leg (see relay/latch.h).
 *
 * The state machine has two states and one event (a classified datagram):
 *
 *   LATCH_SDP      valid RTP with a negotiated PT, any source -> LATCH_LATCHED
 *   LATCH_LATCHED  RTP from another source, latched SSRC, seq 1..window
 *                  ahead -> LATCH_LATCHED on that source (a move)
 *
 * Keepalives and RTCP never latch: they carry no payload an attacker has to
 * guess, so latching on them would let anyone who can reach the port steal
 * the stream (RTPBleed). Requiring the SSRC and a nearby seq to move means
 * an attacker must observe the stream first, which a NAT rebinding peer
 * does trivially and an off-path spoofer cannot.
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
};

static bool	latch_sa_usable(const union sockaddr_any *);
static bool	latch_same_ip(const union sockaddr_any *,
		    const union sockaddr_any *);
static void	latch_sa_copy(union sockaddr_any *,
		    const union sockaddr_any *);
static void	latch_set(struct latch *, const union sockaddr_any *,
		    uint32_t, uint16_t);
static enum latch_verdict latch_decide(struct latch *,
		    const struct latch_policy *, const union sockaddr_any *,
		    enum pkt_kind, enum pkt_keepalive, const struct rtp_info *);

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
latch_set(struct latch *l, const union sockaddr_any *src, uint32_t ssrc,
    uint16_t seq)
{
	l->state = LATCH_LATCHED;
	latch_sa_copy(&l->addr, src);
	l->ssrc = ssrc;
	l->seq = seq;
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
latch_restore(struct latch *l, const union sockaddr_any *addr, uint32_t ssrc,
    uint16_t seq, char *err, size_t errlen)
{
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
	latch_set(l, addr, ssrc, seq);
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
latch_decide(struct latch *l, const struct latch_policy *pol,
    const union sockaddr_any *src, enum pkt_kind kind, enum pkt_keepalive ka,
    const struct rtp_info *info)
{
	bool latched = l->state == LATCH_LATCHED;
	uint16_t ahead;

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
		if (info == NULL)
			return LATCH_DROP_INVALID;
		if (!latched) {
			if (!info->pt_ok)
				return LATCH_DROP_PT;
			latch_set(l, src, info->ssrc, info->seq);
			return LATCH_FORWARD_LATCHED;
		}
		if (sa_eq(src, &l->addr)) {
			/* The latched endpoint may restart its stream. */
			if (info->ssrc != l->ssrc)
				l->ssrc_changes++;
			l->ssrc = info->ssrc;
			l->seq = info->seq;
			return LATCH_FORWARD;
		}
		if (info->ssrc != l->ssrc)
			return LATCH_DROP_SSRC;
		ahead = (uint16_t)(info->seq - l->seq);
		if (ahead == 0 || ahead > pol->seq_window)
			return LATCH_DROP_SEQ;
		if (!info->pt_ok)
			return LATCH_DROP_PT;
		latch_set(l, src, info->ssrc, info->seq);
		return LATCH_FORWARD_MOVED;
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
    const union sockaddr_any *src, enum pkt_kind kind, enum pkt_keepalive ka,
    const struct rtp_info *info)
{
	struct latch_policy def;
	enum latch_verdict v;

	if (pol == NULL) {
		latch_policy_init(&def);
		pol = &def;
	}
	v = latch_decide(l, pol, src, kind, ka, info);
	l->verdicts[v]++;
	return v;
}
