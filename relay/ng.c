/*
 * ng protocol commands. Requests are decoded into a bencode tree on the
 * stack; replies are encoded into the caller's buffer. Sockets are opened and
 * closed only through the call table's ops, so this file is tested without
 * I/O (relay/tests/test_ng.c).
 */
#include "relay/ng.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "common/bencode.h"
#include "common/log.h"
#include "relay/ngopts.h"
#include "relay/ngstats.h"
#include "relay/sdp.h"

#define NG_NODES		512
#define NG_CACHE_TTL_US		(30ULL * 1000000)
#define NG_LIST_DEFAULT		32
#define NG_LIST_MAX		1000

const char *const ng_cmd_names[] = {
	[NG_CMD_PING] = "ping",
	[NG_CMD_OFFER] = "offer",
	[NG_CMD_ANSWER] = "answer",
	[NG_CMD_DELETE] = "delete",
	[NG_CMD_QUERY] = "query",
	[NG_CMD_LIST] = "list",
	[NG_CMD_STATISTICS] = "statistics",
	[NG_CMD_UNKNOWN] = "unknown",
};

const char *
ng_cmd_name(enum ng_cmd c)
{
	if ((unsigned)c >= NG_CMD_MAX)
		return "unknown";
	return ng_cmd_names[c];
}

void
ng_init(struct ng_ctx *ng, struct call_table *calls,
    const struct relay_config *cfg, struct relay_stats *stats)
{
	memset(ng, 0, sizeof(*ng));
	ng->calls = calls;
	ng->cfg = cfg;
	ng->stats = stats;
}

void
ng_free(struct ng_ctx *ng)
{
	int i;

	for (i = 0; i < NG_CACHE_SIZE; i++)
		free(ng->cache.e[i].reply);
	memset(&ng->cache, 0, sizeof(ng->cache));
}

static struct ng_cache_entry *
ng_cache_find(struct ng_ctx *ng, const char *cookie)
{
	struct ng_cache_entry *e;
	int i;

	for (i = 0; i < NG_CACHE_SIZE; i++) {
		e = &ng->cache.e[i];
		if (e->reply != NULL && strcmp(e->cookie, cookie) == 0 &&
		    ng->now_us - e->when_us < NG_CACHE_TTL_US)
			return e;
	}
	return NULL;
}

static void
ng_cache_store(struct ng_ctx *ng, const char *cookie, const char *reply,
    size_t len)
{
	struct ng_cache_entry *e = &ng->cache.e[ng->cache.next];
	char *copy;

	if ((copy = malloc(len)) == NULL)
		return;		/* a retransmit will run the command again */
	memcpy(copy, reply, len);
	free(e->reply);
	snprintf(e->cookie, sizeof(e->cookie), "%s", cookie);
	e->reply = copy;
	e->len = len;
	e->when_us = ng->now_us;
	ng->cache.next = (ng->cache.next + 1) % NG_CACHE_SIZE;
}

/* A request being answered: the decoded dictionary, its options and the
 * reply under construction (the caller has written the cookie and opened
 * the dict). */
struct ng_req {
	struct ng_ctx	*ng;
	struct bnode	*d;
	struct bencoder	*b;
	struct ng_opts	 o;
	char		 err[640];
	char		 warn[256];	/* "warning" of an ok reply */
};

/* rtpengine's error strings that SIP proxies act on: Kamailio's module
 * tries the next relay of its set on exactly these. */
#define NG_ERR_LIMIT	"Parallel session limit reached"
#define NG_ERR_PORTS	"Ran out of ports"
#define NG_ERR_NOTFOUND	"Call-ID not found or tags didn't match"

/* Copy a string field into buf; missing and required, or too long, or not
 * a string: error text in r->err and -1. Missing and optional: "" and 0. */
static int
ng_str(struct ng_req *r, const char *key, char *buf, size_t len,
    bool required)
{
	struct bnode *n = bnode_get(r->d, key);

	buf[0] = '\0';
	if (n == NULL) {
		if (!required)
			return 0;
		snprintf(r->err, sizeof(r->err), "missing '%s'", key);
		return -1;
	}
	if (n->type != BNODE_STR) {
		snprintf(r->err, sizeof(r->err), "'%s' must be a string", key);
		return -1;
	}
	if (n->len == 0 && required) {
		snprintf(r->err, sizeof(r->err), "'%s' is empty", key);
		return -1;
	}
	if (bnode_strcpy(n, buf, len) == -1) {
		snprintf(r->err, sizeof(r->err), "'%s' is longer than %zu "
		    "bytes or holds a NUL byte", key, len - 1);
		return -1;
	}
	return 0;
}

static void
ng_reply_error(struct bencoder *b, const char *reason)
{
	benc_kv_str(b, "result", "error");
	benc_kv_str(b, "error-reason", reason);
}

static bool
ng_addr_unspecified(const struct addr *a)
{
	if (a->af == AF_INET)
		return a->v4.s_addr == INADDR_ANY;
	return a->af == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a->v6);
}

/*
 * The address the endpoint's media goes to before it latches: "media
 * address" if given, else the SIP source address with SIP-source-address,
 * else the SDP's. An SDP address of 0.0.0.0 or :: (the old way to put a
 * call on hold) stays unspecified whatever the flags say: nothing is sent
 * there until the endpoint speaks.
 */
static int
ng_endpoint_addr(struct ng_req *r, const struct sdp_info *si, int i,
    int af, struct addr *out)
{
	const struct addr *a = sdp_media_addr(si, i);
	char buf[ADDR_STRLEN];

	memset(out, 0, sizeof(*out));
	if (a == NULL)
		return 0;
	*out = *a;
	if (ng_addr_unspecified(a))
		return 0;
	if (r->o.has_media_address)
		*out = r->o.media_address;
	else if (r->o.sip_source) {
		if (!r->o.has_received_from) {
			snprintf(r->err, sizeof(r->err), "flag SIP-source-"
			    "address needs 'received from': [family, "
			    "address]");
			return -1;
		}
		*out = r->o.received_from;
	}
	if (out->af != af) {
		snprintf(r->err, sizeof(r->err), "media %d: endpoint address "
		    "%s is not %s like the call: bridging IPv4 and IPv6 is "
		    "not supported", i + 1, addr_fmt(out, buf, sizeof(buf)),
		    af == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	return 0;
}

/* Record what the endpoint of leg l said in its SDP about media i. */
static int
ng_leg_from_sdp(struct ng_req *r, struct leg *l, const struct sdp_info *si,
    int i, int af)
{
	const struct sdp_media *sm = &si->media[i];
	union sockaddr_any rtp;
	struct addr a;

	if (ng_endpoint_addr(r, si, i, af, &a) == -1)
		return -1;
	memset(&rtp, 0, sizeof(rtp));
	if (a.af != 0 && sm->port != 0)
		sa_from_addr(&rtp, &a, sm->port);
	/* A changed address (re-INVITE to a new device) may be latched anew;
	 * an unchanged one keeps the latch and its protection. */
	if (l->latch.state != LATCH_LATCHED || !sa_eq(&l->latch.sdp, &rtp))
		latch_init(&l->latch, &rtp);
	memset(&l->sdp_rtcp, 0, sizeof(l->sdp_rtcp));
	if (a.af != 0 && sm->port != 0) {
		if (sm->has_rtcp)
			sa_from_addr(&l->sdp_rtcp, sm->has_rtcp_addr ?
			    &sm->rtcp_addr : &a, sm->rtcp_port);
		else
			sa_from_addr(&l->sdp_rtcp, &a,
			    (uint16_t)(sm->port + 1));
	}
	l->rtcp_dest = l->sdp_rtcp;
	/* The endpoint muxes if it said so, unless the proxy rejects mux
	 * (rtcp-mux "demux" only keeps mux from being offered onwards). */
	l->rtcp_mux = sm->rtcp_mux && !r->o.rtcp_mux_reject;
	if (l->rtcp_mux)
		l->rtcp_dest = rtp;
	memcpy(l->pt_mask, sm->pt_mask, sizeof(l->pt_mask));
	l->pt_known = sm->rtp;
	snprintf(l->proto, sizeof(l->proto), "%s", sm->proto);
	l->strict = r->o.strict_source;
	l->dtls = sm->dtls;
	l->has_sdp = true;
	return 0;
}

/*
 * Security class of an RTP profile: 0 plain RTP, 1 SRTP with keys in SDP
 * (SDES), 2 DTLS-SRTP; -1 for a protocol that is not RTP. The relay may
 * rewrite a protocol within its class (AVP <-> AVPF: the feedback profile
 * is an SDP matter), never across (that needs SRTP termination).
 */
static int
ng_proto_class(const char *p)
{
	static const struct {
		const char	*name;
		int		 cls;
	} protos[] = {
		{ "RTP/AVP", 0 }, { "RTP/AVPF", 0 },
		{ "RTP/SAVP", 1 }, { "RTP/SAVPF", 1 },
		{ "UDP/TLS/RTP/SAVP", 2 }, { "UDP/TLS/RTP/SAVPF", 2 },
	};
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcasecmp(p, protos[i].name) == 0)
			return protos[i].cls;
	return -1;
}

/* What one media of the SDP handed on looks like beyond its ports. */
struct ng_media_out {
	const char	*proto;		/* NULL: as received */
	bool		 set_fmt;
	int		 nfmt;
	uint8_t		 fmt[SDP_MAX_FMT];
	bool		 reject;
};

/*
 * The m= protocol to write for media i. In an offer, "transport protocol"
 * if given; in an answer, the one given, or else the protocol the offerer
 * used (rtpengine answers the offerer in its own profile unless told
 * "accept"). Refused across security classes.
 */
static int
ng_media_proto(struct ng_req *r, const struct sdp_media *sm,
    const struct leg *offerer, bool answer, struct ng_media_out *mo)
{
	const char *want = r->o.transport;
	int have;

	mo->proto = NULL;
	if ((have = ng_proto_class(sm->proto)) == -1 || sm->port == 0)
		return 0;
	if (answer && strcasecmp(want, "accept") == 0)
		return 0;
	if (want[0] == '\0') {
		if (!answer || offerer == NULL || offerer->proto[0] == '\0' ||
		    strcasecmp(offerer->proto, sm->proto) == 0 ||
		    ng_proto_class(offerer->proto) != have)
			return 0;
		want = offerer->proto;
	} else if (ng_proto_class(want) == -1) {
		snprintf(r->err, sizeof(r->err), "'transport protocol' %.24s "
		    "is not an RTP profile rtprelay knows (RTP/AVP, RTP/AVPF, "
		    "RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP, "
		    "UDP/TLS/RTP/SAVPF)", want);
		return -1;
	} else if (ng_proto_class(want) != have) {
		snprintf(r->err, sizeof(r->err), "'transport protocol' %.24s "
		    "for media %s (%s) is not supported: rtprelay passes SRTP, "
		    "DTLS and ZRTP through unchanged and does not terminate or "
		    "re-encrypt them", want, sm->type, sm->proto);
		return -1;
	}
	if (strcasecmp(want, sm->proto) != 0)
		mo->proto = want;
	return 0;
}

/* Codec strip/except/offer (offers) and single codec (answers). */
static void
ng_media_codecs(struct ng_req *r, const char *sdp, const struct sdp_media *sm,
    bool answer, struct ng_media_out *mo)
{
	const char *strip[NGO_CODECS_MAX], *except[NGO_CODECS_MAX],
	    *offer[NGO_CODECS_MAX];
	struct sdp_codec_ops ops;
	int i, n;

	memset(&ops, 0, sizeof(ops));
	if (answer)
		ops.single = r->o.single_codec;
	else {
		for (i = 0; i < r->o.codec_strip.n; i++)
			strip[i] = r->o.codec_strip.name[i];
		for (i = 0; i < r->o.codec_except.n; i++)
			except[i] = r->o.codec_except.name[i];
		for (i = 0; i < r->o.codec_offer.n; i++)
			offer[i] = r->o.codec_offer.name[i];
		ops.strip = strip;
		ops.nstrip = r->o.codec_strip.n;
		ops.except = except;
		ops.nexcept = r->o.codec_except.n;
		ops.offer = offer;
		ops.noffer = r->o.codec_offer.n;
	}
	if ((ops.nstrip == 0 && ops.noffer == 0 && !ops.single) ||
	    sm->port == 0)
		return;
	if ((n = sdp_codec_select(sdp, sm, &ops, mo->fmt)) == -1)
		return;
	if (n == 0) {
		/* rtpengine keeps the original list rather than offer a
		 * media without codecs, unless told that is the intent. */
		mo->reject = r->o.allow_no_codec;
		return;
	}
	if (n == sm->nfmt && memcmp(mo->fmt, sm->fmt, (size_t)n) == 0)
		return;
	mo->set_fmt = true;
	mo->nfmt = n;
}

/* The marker of rtpengine's loop-protect, made ours by the VIP. */
static void
ng_marker(const struct addr *vip, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	snprintf(buf, len, "rtpengine:rtprelay-%s", addr_fmt(vip, a,
	    sizeof(a)));
}

/* True if the SDP has ICE attributes anywhere. */
static bool
ng_sdp_has_ice(const struct sdp_info *si)
{
	int i;

	if (si->has_ice)
		return true;
	for (i = 0; i < si->nmedia; i++)
		if (si->media[i].has_ice)
			return true;
	return false;
}

/*
 * Everything about an offer or answer that can be refused, decided before
 * the call changes: ICE, protocols and codecs of every media. mo[] says
 * how each media is written.
 */
static int
ng_plan(struct ng_req *r, const char *sdp, const struct sdp_info *si,
    const struct call *c, int offerer_side, bool answer,
    struct ng_media_out mo[SDP_MAX_MEDIA])
{
	const struct leg *off;
	int i;

	if (ng_sdp_has_ice(si)) {
		if (r->o.ice == NGO_ICE_DEFAULT) {
			snprintf(r->err, sizeof(r->err), "ICE=default is not "
			    "supported for an SDP with ICE: rtprelay does not "
			    "take part in ICE; use ICE=remove");
			return -1;
		}
		if (r->o.ice == NGO_ICE_UNSET)
			snprintf(r->warn, sizeof(r->warn), "ICE attributes "
			    "removed: rtprelay does not take part in ICE "
			    "(ICE=remove says so)");
	}
	memset(mo, 0, sizeof(*mo) * SDP_MAX_MEDIA);
	for (i = 0; i < si->nmedia; i++) {
		off = c != NULL && i < c->nmedia ?
		    &c->media[i]->leg[offerer_side] : NULL;
		if (ng_media_proto(r, &si->media[i], off, answer, &mo[i]) ==
		    -1)
			return -1;
		ng_media_codecs(r, sdp, &si->media[i], answer, &mo[i]);
	}
	return 0;
}

/*
 * Rewrite the SDP for the other side: c= to the VIP, m= to the ports of
 * the legs on side `ports_side`, and what the options ask for.
 */
static int
ng_rewrite(struct ng_req *r, struct call *c, const char *sdp, size_t len,
    const struct sdp_info *si, int ports_side, bool answer,
    const struct ng_media_out mo[SDP_MAX_MEDIA])
{
	struct sdp_rewrite rw;
	char *out, marker[80];
	size_t outlen;
	int i;

	memset(&rw, 0, sizeof(rw));
	rw.addr = c->vip;
	rw.remove_ice = true;	/* candidates would bypass the relay */
	rw.replace_origin = r->o.replace_origin;
	rw.replace_zero = r->o.replace_zero_address;
	rw.strip_extmap = r->o.strip_extmap;
	rw.rtcp_attr = r->o.no_rtcp_attr ? SDP_RTCP_NONE :
	    r->o.full_rtcp_attr ? SDP_RTCP_FULL : SDP_RTCP_PORT;
	if (r->o.loop_protect) {
		ng_marker(&c->vip, marker, sizeof(marker));
		rw.marker = marker;
	}
	rw.nmedia = si->nmedia;
	for (i = 0; i < si->nmedia; i++) {
		struct leg *l = &c->media[i]->leg[ports_side];

		rw.media[i].rtp_port = l->port;
		rw.media[i].rtcp_port = (uint16_t)(l->port + 1);
		/* Offer mux to whoever faces these ports when the endpoint on
		 * the far side muxes (and the proxy does not demux), or when
		 * the proxy asks for it; answer mux to an offerer that offered
		 * it and was not refused. */
		if (answer)
			rw.media[i].rtcp_mux = l->rtcp_mux;
		else
			rw.media[i].rtcp_mux = (leg_peer(l)->rtcp_mux &&
			    !r->o.rtcp_mux_demux) || r->o.rtcp_mux_offer ||
			    r->o.rtcp_mux_require;
		rw.media[i].proto = mo[i].proto;
		rw.media[i].set_fmt = mo[i].set_fmt;
		rw.media[i].nfmt = mo[i].nfmt;
		memcpy(rw.media[i].fmt, mo[i].fmt, sizeof(rw.media[i].fmt));
		rw.media[i].reject = mo[i].reject;
	}
	if ((out = malloc(SDP_REWRITE_MAX)) == NULL) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -1;
	}
	if (sdp_rewrite(sdp, len, &rw, out, SDP_REWRITE_MAX, &outlen, r->err,
	    sizeof(r->err)) == -1) {
		free(out);
		return -1;
	}
	benc_kv_str(r->b, "result", "ok");
	benc_kv_strn(r->b, "sdp", out, outlen);
	if (r->warn[0] != '\0')
		benc_kv_str(r->b, "warning", r->warn);
	free(out);
	return 0;
}

/*
 * The family of the call's VIP: "address family" if given, which must be
 * the SDP's (the relay does not bridge IPv4 and IPv6), else the SDP's.
 */
static const struct addr *
ng_vip(struct ng_req *r, const struct sdp_info *si)
{
	const struct addr *vip, *a;
	int af = 0, i;

	for (i = 0; i < si->nmedia && af == 0; i++)
		if ((a = sdp_media_addr(si, i)) != NULL)
			af = a->af;
	if (r->o.af != 0 && af != 0 && r->o.af != af) {
		snprintf(r->err, sizeof(r->err), "'address family' %s for an "
		    "%s SDP is not supported: rtprelay does not bridge IPv4 "
		    "and IPv6", r->o.af == AF_INET6 ? "IP6" : "IP4",
		    af == AF_INET6 ? "IPv6" : "IPv4");
		return NULL;
	}
	if (r->o.af != 0)
		af = r->o.af;
	if (af == 0)
		af = AF_INET;
	if ((vip = relay_config_vip(r->ng->cfg, af)) == NULL)
		snprintf(r->err, sizeof(r->err), "no service address for %s",
		    af == AF_INET6 ? "IPv6" : "IPv4");
	return vip;
}

/* The request's SDP, parsed; NULL with r->err on a missing or bad one. */
static const char *
ng_sdp(struct ng_req *r, size_t *len, struct sdp_info *si)
{
	char sub[sizeof(r->err)];
	const char *sdp;

	if ((sdp = bnode_get_str(r->d, "sdp", len)) == NULL) {
		snprintf(r->err, sizeof(r->err), "missing 'sdp'");
		return NULL;
	}
	if (sdp_parse(sdp, *len, si, sub, sizeof(sub)) == -1) {
		snprintf(r->err, sizeof(r->err), "bad SDP: %.600s", sub);
		return NULL;
	}
	return sdp;
}

/* The options of an offer, answer or delete; -1 with r->err. */
static int
ng_opts(struct ng_req *r, enum ng_cmd cmd)
{
	int i;

	if (ngopts_parse(r->d, cmd, &r->o, r->err, sizeof(r->err)) == -1)
		return -1;
	for (i = 0; i < r->o.nunknown; i++)
		log_info("ng %s: ignored %s (unknown to rtpengine's protocol "
		    "as rtprelay knows it)", ng_cmd_name(cmd),
		    r->o.unknown[i]);
	return 0;
}

/*
 * loop-protect: an SDP that already carries our marker has been through
 * this cluster; it goes back unchanged and the call is not touched.
 */
static bool
ng_looped(struct ng_req *r, const char *sdp, size_t len)
{
	const struct addr *vip;
	char marker[80];
	int af;

	if (!r->o.loop_protect)
		return false;
	for (af = AF_INET; af != 0; af = af == AF_INET ? AF_INET6 : 0) {
		if ((vip = relay_config_vip(r->ng->cfg, af)) == NULL)
			continue;
		ng_marker(vip, marker, sizeof(marker));
		if (sdp_has_session_attr(sdp, len, marker)) {
			benc_kv_str(r->b, "result", "ok");
			benc_kv_strn(r->b, "sdp", sdp, len);
			return true;
		}
	}
	return false;
}

/* After an offer or answer: RTCP sockets as the legs' mux state needs,
 * and the change queued for the other relays. */
static void
ng_call_changed(struct ng_ctx *ng, struct call *c)
{
	int i, s;

	c->signal_wall = ng->now_wall;
	for (i = 0; i < c->nmedia; i++)
		for (s = 0; s < 2; s++)
			call_leg_sync_rtcp(ng->calls, &c->media[i]->leg[s]);
	call_mark_dirty(ng->calls, c, CALL_DIRTY_SIG);
}

/* max-calls reached: rtpengine's "load limit" reply to a proxy that
 * supports it (it then tries another relay), else its error. */
static int
ng_limit(struct ng_req *r)
{
	r->ng->stats->calls_rejected++;
	if (!r->o.load_limit) {
		snprintf(r->err, sizeof(r->err), NG_ERR_LIMIT);
		return -1;
	}
	benc_kv_str(r->b, "result", "load limit");
	benc_kv_str(r->b, "message", "call limit reached");
	return 0;
}

static int
ng_offer(struct ng_req *r)
{
	struct ng_ctx *ng = r->ng;
	struct ng_media_out mo[SDP_MAX_MEDIA];
	char id[CALL_ID_MAX + 1], from[CALL_TAG_MAX + 1];
	const struct addr *vip;
	struct sdp_info si;
	struct call *c;
	const char *sdp;
	size_t sdplen;
	int i, side, rc;
	bool created = false;

	if (ng_str(r, "call-id", id, sizeof(id), true) == -1 ||
	    ng_str(r, "from-tag", from, sizeof(from), true) == -1 ||
	    ng_opts(r, NG_CMD_OFFER) == -1)
		return -1;
	if ((sdp = ng_sdp(r, &sdplen, &si)) == NULL)
		return -1;
	if (ng_looped(r, sdp, sdplen))
		return 0;
	if ((vip = ng_vip(r, &si)) == NULL)
		return -1;
	c = call_find(ng->calls, id);
	/* A re-offer from the callee (re-INVITE the other way) swaps the
	 * roles of the legs; any other tag takes the offerer's place. */
	side = (c != NULL && c->to_tag[0] != '\0' &&
	    strcmp(from, c->to_tag) == 0) ? 1 : 0;
	if (ng_plan(r, sdp, &si, NULL, side, false, mo) == -1)
		return -1;
	if (c == NULL) {
		if (ng->calls->ncalls >= ng->cfg->max_calls)
			return ng_limit(r);
		c = call_create(ng->calls, id, ng->now_us, ng->now_wall);
		if (c == NULL) {
			snprintf(r->err, sizeof(r->err), "out of memory");
			return -1;
		}
		created = true;
	}
	if (side == 0)
		memcpy(c->from_tag, from, strlen(from) + 1);
	if ((rc = call_set_media(ng->calls, c, si.nmedia, vip, r->err,
	    sizeof(r->err))) != 0) {
		if (rc == CALL_NO_PORTS) {
			log_warn("call %s: %s", id, r->err);
			snprintf(r->err, sizeof(r->err), NG_ERR_PORTS);
		}
		goto fail;
	}
	for (i = 0; i < si.nmedia; i++) {
		struct media *m = c->media[i];

		snprintf(m->type, sizeof(m->type), "%s", si.media[i].type);
		m->rejected = si.media[i].port == 0;
		if (ng_leg_from_sdp(r, &m->leg[side], &si, i, vip->af) == -1)
			goto fail;
		/* rtcp-mux "require": the receiver is taken to mux already
		 * (WebRTC), so no separate RTCP port is ever offered. */
		if (r->o.rtcp_mux_require)
			m->leg[1 - side].rtcp_mux = true;
	}
	if (ng_rewrite(r, c, sdp, sdplen, &si, 1 - side, false, mo) == -1)
		goto fail;
	ng_call_changed(ng, c);
	if (created) {
		ng->stats->calls_created++;
		log_info("call %s: created by offer from tag %s, %d media, "
		    "ports %u-%u", c->id, from, c->nmedia,
		    c->media[0]->leg[0].port, c->media[0]->leg[1].port + 1);
	}
	return 0;
fail:
	if (created)
		call_delete(ng->calls, c);
	return -1;
}

static int
ng_answer(struct ng_req *r)
{
	struct ng_ctx *ng = r->ng;
	struct ng_media_out mo[SDP_MAX_MEDIA];
	char id[CALL_ID_MAX + 1], from[CALL_TAG_MAX + 1], to[CALL_TAG_MAX + 1];
	struct sdp_info si;
	struct call *c;
	const char *sdp;
	size_t sdplen;
	int i, side;

	if (ng_str(r, "call-id", id, sizeof(id), true) == -1 ||
	    ng_str(r, "from-tag", from, sizeof(from), true) == -1 ||
	    ng_str(r, "to-tag", to, sizeof(to), true) == -1 ||
	    ng_opts(r, NG_CMD_ANSWER) == -1)
		return -1;
	if ((sdp = ng_sdp(r, &sdplen, &si)) == NULL)
		return -1;
	if (ng_looped(r, sdp, sdplen))
		return 0;
	if ((c = call_find(ng->calls, id)) == NULL) {
		snprintf(r->err, sizeof(r->err), "Unknown call-id '%.200s'", id);
		return -1;
	}
	if (si.nmedia != c->nmedia) {
		snprintf(r->err, sizeof(r->err), "answer has %d media, the "
		    "offer had %d", si.nmedia, c->nmedia);
		return -1;
	}
	/* The answerer is whoever did not make the last offer. */
	if (strcmp(from, c->from_tag) == 0)
		side = 1;
	else if (c->to_tag[0] != '\0' && strcmp(from, c->to_tag) == 0)
		side = 0;
	else {
		snprintf(r->err, sizeof(r->err), "from-tag '%.130s' does not "
		    "belong to call '%.200s'", from, id);
		return -1;
	}
	if (r->o.af != 0 && r->o.af != c->af) {
		snprintf(r->err, sizeof(r->err), "'address family' %s in an "
		    "answer to an %s call is not supported: rtprelay does not "
		    "bridge IPv4 and IPv6", r->o.af == AF_INET6 ? "IP6" :
		    "IP4", c->af == AF_INET6 ? "IPv6" : "IPv4");
		return -1;
	}
	if (ng_plan(r, sdp, &si, c, 1 - side, true, mo) == -1)
		return -1;
	for (i = 0; i < si.nmedia; i++)
		if (ng_leg_from_sdp(r, &c->media[i]->leg[side], &si, i,
		    c->af) == -1)
			return -1;
	if (ng_rewrite(r, c, sdp, sdplen, &si, 1 - side, true, mo) == -1)
		return -1;
	if (side == 1)
		memcpy(c->to_tag, to, strlen(to) + 1);
	if (!c->answered)
		log_info("call %s: answered by tag %s", c->id, to);
	c->answered = true;
	ng_call_changed(ng, c);
	return 0;
}

void
ng_call_end(struct ng_ctx *ng, struct call *c, const char *why)
{
	uint64_t pk = 0;
	int i, s;

	for (i = 0; i < c->nmedia; i++)
		for (s = 0; s < 2; s++)
			pk += c->media[i]->leg[s].stats.packets;
	log_info("call %s: %s after %" PRIu64 " s, %" PRIu64 " packets "
	    "forwarded", c->id, why, (ng->now_us - c->created_us) / 1000000,
	    pk);
	if (strcmp(why, "timeout") == 0)
		ng->stats->calls_expired++;
	else
		ng->stats->calls_deleted++;
	if (ng->ended != NULL)
		ng->ended(c, ng->hook_arg);
	call_delete(ng->calls, c);
}

/*
 * delete: the whole call (rtprelay keeps one dialogue per call-id, so a
 * to-tag or via-branch selects nothing smaller). A call that is not here,
 * or a from-tag that belongs to neither party, is rtpengine's warning, or
 * its error with the flag "fatal". The reply carries the call's statistics
 * unless the flag "fast" says not to.
 */
static int
ng_delete(struct ng_req *r)
{
	char id[CALL_ID_MAX + 1], from[CALL_TAG_MAX + 1];
	struct call *c;

	if (ng_str(r, "call-id", id, sizeof(id), true) == -1 ||
	    ng_str(r, "from-tag", from, sizeof(from), false) == -1 ||
	    ng_opts(r, NG_CMD_DELETE) == -1)
		return -1;
	c = call_find(r->ng->calls, id);
	if (c != NULL && from[0] != '\0' && strcmp(from, c->from_tag) != 0 &&
	    strcmp(from, c->to_tag) != 0)
		c = NULL;
	if (c == NULL) {
		if (r->o.fatal) {
			snprintf(r->err, sizeof(r->err), NG_ERR_NOTFOUND);
			return -1;
		}
		benc_kv_str(r->b, "result", "ok");
		benc_kv_str(r->b, "warning", NG_ERR_NOTFOUND);
		return 0;
	}
	benc_kv_str(r->b, "result", "ok");
	if (!r->o.fast)
		ngstats_call(r->b, c, r->ng->now_us, r->ng->now_wall);
	ng_call_end(r->ng, c, "deleted");
	return 0;
}

static int
ng_query(struct ng_req *r)
{
	char id[CALL_ID_MAX + 1];
	struct call *c;

	if (ng_str(r, "call-id", id, sizeof(id), true) == -1)
		return -1;
	if ((c = call_find(r->ng->calls, id)) == NULL) {
		snprintf(r->err, sizeof(r->err), "Unknown call-id '%.200s'", id);
		return -1;
	}
	benc_kv_str(r->b, "result", "ok");
	ngstats_call(r->b, c, r->ng->now_us, r->ng->now_wall);
	return 0;
}

static int
ng_list(struct ng_req *r)
{
	struct bnode *n = bnode_get(r->d, "limit");
	struct bencoder *b = r->b;
	struct call *c;
	int64_t limit = NG_LIST_DEFAULT, i = 0;

	if (n != NULL) {
		if (n->type == BNODE_INT)
			limit = n->i;
		else if (n->type == BNODE_STR) {
			char buf[16];

			if (bnode_strcpy(n, buf, sizeof(buf)) == -1)
				limit = -1;
			else
				limit = strtoll(buf, NULL, 10);
		}
		if (limit < 1 || limit > NG_LIST_MAX) {
			snprintf(r->err, sizeof(r->err), "'limit' must be "
			    "1..%d", NG_LIST_MAX);
			return -1;
		}
	}
	benc_kv_str(b, "result", "ok");
	benc_str(b, "calls");
	benc_list(b);
	for (c = r->ng->calls->head; c != NULL && i < limit; c = c->next, i++)
		benc_str(b, c->id);
	benc_end(b);
	return 0;
}

static int
ng_statistics(struct ng_req *r)
{
	struct ng_ctx *ng = r->ng;

	benc_kv_str(r->b, "result", "ok");
	ngstats_relay(r->b, ng->stats, ng->calls, ng->started_us != 0 &&
	    ng->now_us > ng->started_us ? (ng->now_us - ng->started_us) /
	    1000000 : 0);
	return 0;
}

static enum ng_cmd
ng_cmd_parse(const struct bnode *n)
{
	int i;

	for (i = 0; i < NG_CMD_UNKNOWN; i++)
		if (bnode_str_eq(n, ng_cmd_names[i]))
			return i;
	return NG_CMD_UNKNOWN;
}

/* Run one decoded command; 0 with the reply written, or -1 with r->err. */
static int
ng_dispatch(struct ng_req *r, enum ng_cmd cmd)
{
	switch (cmd) {
	case NG_CMD_PING:
		/* SIP proxies and failoverd both take a relay into service
		 * on pong: not before it can serve every call. */
		if (r->ng->ready != NULL && !r->ng->ready(r->ng->hook_arg,
		    r->err, sizeof(r->err)))
			return -1;
		benc_kv_str(r->b, "result", "pong");
		return 0;
	case NG_CMD_OFFER:
		return ng_offer(r);
	case NG_CMD_ANSWER:
		return ng_answer(r);
	case NG_CMD_DELETE:
		return ng_delete(r);
	case NG_CMD_QUERY:
		return ng_query(r);
	case NG_CMD_LIST:
		return ng_list(r);
	case NG_CMD_STATISTICS:
		return ng_statistics(r);
	default:
		break;
	}
	return -1;
}

static size_t
ng_printable(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 1 < outlen; i++)
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[n] = '\0';
	return n;
}

size_t
ng_handle(struct ng_ctx *ng, const char *msg, size_t len, char *out,
    size_t outcap)
{
	struct bnode nodes[NG_NODES], *root, *cmdn;
	struct ng_cache_entry *ce;
	struct bencoder b;
	struct ng_req r;
	char cookie[NG_COOKIE_MAX + 1], cmdname[32];
	const char *sp, *body;
	size_t clen, hdr, blen;
	enum ng_cmd cmd = NG_CMD_UNKNOWN;
	int rc = -1;

	sp = memchr(msg, ' ', len < NG_COOKIE_MAX + 1 ? len :
	    NG_COOKIE_MAX + 1);
	if (sp == NULL || sp == msg) {
		/* No cookie to echo: the client could not match a reply. */
		ng->stats->ng_errors++;
		log_debug("ng: datagram of %zu bytes without a cookie "
		    "ignored", len);
		return 0;
	}
	clen = (size_t)(sp - msg);
	memcpy(cookie, msg, clen);
	cookie[clen] = '\0';
	if ((ce = ng_cache_find(ng, cookie)) != NULL && ce->len <= outcap) {
		ng->stats->ng_retransmits++;
		memcpy(out, ce->reply, ce->len);
		return ce->len;
	}
	body = sp + 1;
	blen = len - clen - 1;

	benc_init(&b, out, outcap);
	benc_strn(&b, "", 0);	/* placeholder, rewritten below */
	b.len = 0;
	memcpy(out, cookie, clen);
	out[clen] = ' ';
	hdr = clen + 1;
	b.len = hdr;
	benc_dict(&b);

	memset(&r, 0, sizeof(r));
	r.ng = ng;
	r.b = &b;
	if (blen > 0 && body[0] == '{')
		snprintf(r.err, sizeof(r.err), "JSON requests are not "
		    "supported: send bencode");
	else if (bencode_decode(body, blen, nodes, NG_NODES, &root, r.err,
	    sizeof(r.err)) == -1) {
		char sub[sizeof(r.err)];

		memcpy(sub, r.err, sizeof(sub));
		snprintf(r.err, sizeof(r.err), "malformed bencode: %.600s", sub);
	} else if (root->type != BNODE_DICT)
		snprintf(r.err, sizeof(r.err), "request is not a dictionary");
	else if ((cmdn = bnode_get(root, "command")) == NULL ||
	    cmdn->type != BNODE_STR)
		snprintf(r.err, sizeof(r.err), "missing 'command'");
	else if ((cmd = ng_cmd_parse(cmdn)) == NG_CMD_UNKNOWN) {
		const char *why = ngopts_unsupported_command(cmdn->s,
		    cmdn->len);

		ng_printable(cmdn->s, cmdn->len, cmdname, sizeof(cmdname));
		if (why != NULL)
			snprintf(r.err, sizeof(r.err), "command '%s' is not "
			    "supported: %s", cmdname, why);
		else
			snprintf(r.err, sizeof(r.err), "unknown command '%s'",
			    cmdname);
	} else {
		r.d = root;
		rc = ng_dispatch(&r, cmd);
	}
	ng->stats->ng_requests[cmd]++;
	benc_end(&b);
	if (rc == -1 || b.overflow) {
		if (rc == 0)
			snprintf(r.err, sizeof(r.err), "reply larger than %zu "
			    "bytes", outcap);
		ng->stats->ng_errors++;
		log_info("ng %s: error: %s", ng_cmd_name(cmd), r.err);
		b.len = hdr;
		b.overflow = false;
		benc_dict(&b);
		ng_reply_error(&b, r.err);
		benc_end(&b);
		if (b.overflow)
			return 0;
	}
	ng_cache_store(ng, cookie, out, b.len);
	return b.len;
}
