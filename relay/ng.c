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

#include "common/bencode.h"
#include "common/log.h"
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

/* A request being answered: the decoded dictionary and the reply under
 * construction (the caller has written the cookie and opened the dict). */
struct ng_req {
	struct ng_ctx	*ng;
	struct bnode	*d;
	struct bencoder	*b;
	char		 err[640];
};

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

/* True if list `key` holds the string s (rtpengine's flags, rtcp-mux). */
static bool
ng_list_has(struct bnode *d, const char *key, const char *s)
{
	struct bnode *l = bnode_get(d, key), *n;

	if (l == NULL || l->type != BNODE_LIST)
		return false;
	for (n = l->child; n != NULL; n = n->next)
		if (bnode_str_eq(n, s))
			return true;
	return false;
}

/* rtpengine accepts flags with spaces or dashes ("SIP source address",
 * "SIP-source-address") and in any case. */
static bool
ng_flag(struct bnode *d, const char *canon)
{
	struct bnode *l = bnode_get(d, "flags"), *n;
	size_t i, clen = strlen(canon);

	if (l == NULL || l->type != BNODE_LIST)
		return false;
	for (n = l->child; n != NULL; n = n->next) {
		if (n->type != BNODE_STR || n->len != clen)
			continue;
		for (i = 0; i < clen; i++) {
			char a = n->s[i], c = canon[i];

			if (a == ' ' || a == '_')
				a = '-';
			if (a >= 'A' && a <= 'Z')
				a += 'a' - 'A';
			if (a != c)
				break;
		}
		if (i == clen)
			return true;
	}
	return false;
}

static void
ng_reply_error(struct bencoder *b, const char *reason)
{
	benc_kv_str(b, "result", "error");
	benc_kv_str(b, "error-reason", reason);
}

/* The address the offerer/answerer's media should be sent to before
 * latching: the SDP's, unless the proxy asks for the SIP source address. */
static int
ng_endpoint_addr(struct ng_req *r, const struct sdp_info *si, int i,
    struct addr *out)
{
	const struct addr *a = sdp_media_addr(si, i);
	struct bnode *rf, *fam, *ad;
	char buf[INET6_ADDRSTRLEN + 1], sub[128];

	if (ng_flag(r->d, "sip-source-address")) {
		rf = bnode_get(r->d, "received from");
		if (rf == NULL)
			rf = bnode_get(r->d, "received-from");
		if (rf == NULL || rf->type != BNODE_LIST ||
		    (fam = rf->child) == NULL || (ad = fam->next) == NULL ||
		    bnode_strcpy(ad, buf, sizeof(buf)) == -1) {
			snprintf(r->err, sizeof(r->err), "flag SIP-source-"
			    "address needs 'received from': [family, "
			    "address]");
			return -1;
		}
		if (addr_parse(buf, out, sub, sizeof(sub)) == -1) {
			snprintf(r->err, sizeof(r->err), "'received from': "
			    "%s", sub);
			return -1;
		}
		return 0;
	}
	if (a == NULL)
		memset(out, 0, sizeof(*out));
	else
		*out = *a;
	return 0;
}

/* Record what the endpoint of leg l said in its SDP about media i. */
static int
ng_leg_from_sdp(struct ng_req *r, struct leg *l, const struct sdp_info *si,
    int i)
{
	const struct sdp_media *sm = &si->media[i];
	union sockaddr_any rtp;
	struct addr a;

	if (ng_endpoint_addr(r, si, i, &a) == -1)
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
	l->rtcp_mux = sm->rtcp_mux && !ng_list_has(r->d, "rtcp-mux", "demux")
	    && !ng_list_has(r->d, "rtcp-mux", "reject");
	if (l->rtcp_mux)
		l->rtcp_dest = rtp;
	memcpy(l->pt_mask, sm->pt_mask, sizeof(l->pt_mask));
	l->pt_known = sm->rtp;
	l->dtls = sm->dtls;
	l->has_sdp = true;
	return 0;
}

/* Rewrite the SDP for the other side: c= to the VIP, m= to the ports of
 * the legs on side `ports_side`. */
static int
ng_rewrite(struct ng_req *r, struct call *c, const char *sdp, size_t len,
    const struct sdp_info *si, int ports_side, const struct addr *vip)
{
	struct sdp_rewrite rw;
	char *out;
	size_t outlen;
	int i;

	memset(&rw, 0, sizeof(rw));
	rw.addr = *vip;
	rw.remove_ice = true;	/* candidates would bypass the relay */
	rw.nmedia = si->nmedia;
	for (i = 0; i < si->nmedia; i++) {
		struct leg *l = &c->media[i]->leg[ports_side];

		rw.media[i].rtp_port = l->port;
		rw.media[i].rtcp_port = (uint16_t)(l->port + 1);
		/* Offer mux to whoever faces these ports when the endpoint on
		 * the far side muxes (or the proxy asks for it); answer mux
		 * when the offer had it. */
		rw.media[i].rtcp_mux = leg_peer(l)->rtcp_mux ||
		    ng_list_has(r->d, "rtcp-mux", "offer") ||
		    ng_list_has(r->d, "rtcp-mux", "require");
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
	free(out);
	return 0;
}

/* VIP for this request: "address family" if given, else the family of the
 * SDP's first address. */
static const struct addr *
ng_vip(struct ng_req *r, const struct sdp_info *si)
{
	const struct addr *vip, *a;
	char fam[8];
	int af = AF_INET, i;

	if (ng_str(r, "address family", fam, sizeof(fam), false) == -1)
		return NULL;
	if (strcmp(fam, "IP6") == 0)
		af = AF_INET6;
	else if (fam[0] != '\0' && strcmp(fam, "IP4") != 0) {
		snprintf(r->err, sizeof(r->err), "'address family' must be "
		    "IP4 or IP6, not '%s'", fam);
		return NULL;
	} else if (fam[0] == '\0') {
		for (i = 0; i < si->nmedia; i++)
			if ((a = sdp_media_addr(si, i)) != NULL) {
				af = a->af;
				break;
			}
	}
	vip = relay_config_vip(r->ng->cfg, af);
	if (vip == NULL && fam[0] == '\0')	/* relay the other family */
		vip = relay_config_vip(r->ng->cfg,
		    af == AF_INET ? AF_INET6 : AF_INET);
	if (vip == NULL)
		snprintf(r->err, sizeof(r->err), "no service address for %s",
		    af == AF_INET6 ? "IPv6" : "IPv4");
	return vip;
}

static int
ng_check_ice(struct ng_req *r)
{
	char ice[32];

	if (ng_str(r, "ICE", ice, sizeof(ice), false) == -1)
		return -1;
	if (ice[0] != '\0' && strcmp(ice, "remove") != 0) {
		snprintf(r->err, sizeof(r->err), "ICE=%s is not supported "
		    "(only 'remove'; ICE is always removed)", ice);
		return -1;
	}
	return 0;
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

/* After an offer or answer: RTCP sockets as the legs' mux state needs,
 * and the change queued for the other relays. */
static void
ng_call_changed(struct ng_ctx *ng, struct call *c)
{
	int i, s;

	for (i = 0; i < c->nmedia; i++)
		for (s = 0; s < 2; s++)
			call_leg_sync_rtcp(ng->calls, &c->media[i]->leg[s]);
	call_mark_dirty(ng->calls, c, CALL_DIRTY_SIG);
}

static int
ng_offer(struct ng_req *r)
{
	struct ng_ctx *ng = r->ng;
	char id[CALL_ID_MAX + 1], from[CALL_TAG_MAX + 1];
	const struct addr *vip;
	struct sdp_info si;
	struct call *c;
	const char *sdp;
	size_t sdplen;
	int i, side;
	bool created = false;

	if (ng_str(r, "call-id", id, sizeof(id), true) == -1 ||
	    ng_str(r, "from-tag", from, sizeof(from), true) == -1 ||
	    ng_check_ice(r) == -1)
		return -1;
	if ((sdp = ng_sdp(r, &sdplen, &si)) == NULL)
		return -1;
	if ((vip = ng_vip(r, &si)) == NULL)
		return -1;
	if ((c = call_find(ng->calls, id)) == NULL) {
		if (ng->calls->ncalls >= ng->cfg->max_calls) {
			snprintf(r->err, sizeof(r->err), "call limit reached "
			    "(%u calls)", ng->cfg->max_calls);
			return -1;
		}
		c = call_create(ng->calls, id, ng->now_us, ng->now_wall);
		if (c == NULL) {
			snprintf(r->err, sizeof(r->err), "out of memory");
			return -1;
		}
		created = true;
	}
	/* A re-offer from the callee (re-INVITE the other way) swaps the
	 * roles of the legs; any other tag takes the offerer's place. */
	side = (c->to_tag[0] != '\0' && strcmp(from, c->to_tag) == 0) ? 1 : 0;
	if (side == 0)
		memcpy(c->from_tag, from, strlen(from) + 1);
	if (call_set_media(ng->calls, c, si.nmedia, vip, r->err,
	    sizeof(r->err)) == -1)
		goto fail;
	for (i = 0; i < si.nmedia; i++) {
		struct media *m = c->media[i];

		snprintf(m->type, sizeof(m->type), "%s", si.media[i].type);
		m->rejected = si.media[i].port == 0;
		if (ng_leg_from_sdp(r, &m->leg[side], &si, i) == -1)
			goto fail;
	}
	if (ng_rewrite(r, c, sdp, sdplen, &si, 1 - side, vip) == -1)
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
	char id[CALL_ID_MAX + 1], from[CALL_TAG_MAX + 1], to[CALL_TAG_MAX + 1];
	const struct addr *vip;
	struct sdp_info si;
	struct call *c;
	const char *sdp;
	size_t sdplen;
	int i, side;

	if (ng_str(r, "call-id", id, sizeof(id), true) == -1 ||
	    ng_str(r, "from-tag", from, sizeof(from), true) == -1 ||
	    ng_str(r, "to-tag", to, sizeof(to), true) == -1 ||
	    ng_check_ice(r) == -1)
		return -1;
	if ((sdp = ng_sdp(r, &sdplen, &si)) == NULL)
		return -1;
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
	vip = relay_config_vip(ng->cfg, c->af);
	for (i = 0; i < si.nmedia; i++)
		if (ng_leg_from_sdp(r, &c->media[i]->leg[side], &si, i) == -1)
			return -1;
	if (ng_rewrite(r, c, sdp, sdplen, &si, 1 - side, vip) == -1)
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

static int
ng_delete(struct ng_req *r)
{
	char id[CALL_ID_MAX + 1];
	struct call *c;

	if (ng_str(r, "call-id", id, sizeof(id), true) == -1)
		return -1;
	if ((c = call_find(r->ng->calls, id)) == NULL) {
		snprintf(r->err, sizeof(r->err), "Unknown call-id '%.200s'", id);
		return -1;
	}
	ng_call_end(r->ng, c, "deleted");
	benc_kv_str(r->b, "result", "ok");
	return 0;
}

static void
ng_endpoint(struct bencoder *b, const char *key, const union sockaddr_any *sa)
{
	struct addr a;
	char buf[INET6_ADDRSTRLEN];

	benc_str(b, key);
	benc_dict(b);
	if (sa->sa.sa_family == AF_INET || sa->sa.sa_family == AF_INET6) {
		sa_to_addr(sa, &a);
		benc_kv_str(b, "family", a.af == AF_INET ? "IPv4" : "IPv6");
		benc_kv_str(b, "address", addr_fmt(&a, buf, sizeof(buf)));
		benc_kv_int(b, "port", sa_port(sa));
	}
	benc_end(b);
}

static void
ng_leg_stats(struct bencoder *b, const struct leg *l)
{
	const struct latch *la = &l->latch;
	const union sockaddr_any *dest = latch_dest(la);
	union sockaddr_any none;
	int v;

	memset(&none, 0, sizeof(none));
	benc_dict(b);
	benc_kv_int(b, "local port", l->port);
	benc_kv_int(b, "local RTCP port", l->rtcp_mux ? l->port : l->port + 1);
	ng_endpoint(b, "endpoint", dest != NULL ? dest : &none);
	ng_endpoint(b, "advertised endpoint", &la->sdp);
	ng_endpoint(b, "RTCP endpoint", &l->rtcp_dest);
	benc_kv_str(b, "latch", latch_state_name(la->state));
	if (la->state == LATCH_LATCHED)
		benc_kv_int(b, "SSRC", la->ssrc);
	benc_kv_int(b, "rtcp-mux", l->rtcp_mux);
	benc_str(b, "stats");
	benc_dict(b);
	benc_kv_int(b, "packets", (int64_t)l->stats.packets);
	benc_kv_int(b, "bytes", (int64_t)l->stats.bytes);
	benc_kv_int(b, "RTCP packets", (int64_t)l->stats.rtcp_packets);
	benc_kv_int(b, "DTLS packets", (int64_t)l->stats.dtls_packets);
	benc_kv_int(b, "ZRTP packets", (int64_t)l->stats.zrtp_packets);
	benc_kv_int(b, "keepalives", (int64_t)l->stats.keepalives);
	benc_kv_int(b, "errors", (int64_t)(l->stats.drops +
	    l->stats.send_errors));
	benc_kv_int(b, "latch moves",
	    (int64_t)la->verdicts[LATCH_FORWARD_MOVED]);
	benc_str(b, "drops");
	benc_dict(b);
	for (v = LATCH_DROP_SPOOF; v < LATCH_VERDICT_MAX; v++)
		benc_kv_int(b, latch_verdict_name(v),
		    (int64_t)la->verdicts[v]);
	benc_end(b);
	benc_end(b);
	benc_end(b);
}

static int
ng_query(struct ng_req *r)
{
	char id[CALL_ID_MAX + 1];
	struct bencoder *b = r->b;
	struct call *c;
	uint64_t pk = 0, by = 0, rt = 0, er = 0;
	int i, s;

	if (ng_str(r, "call-id", id, sizeof(id), true) == -1)
		return -1;
	if ((c = call_find(r->ng->calls, id)) == NULL) {
		snprintf(r->err, sizeof(r->err), "Unknown call-id '%.200s'", id);
		return -1;
	}
	benc_kv_str(b, "result", "ok");
	benc_kv_int(b, "created", (int64_t)c->created_wall);
	benc_kv_int(b, "last media", (int64_t)((r->ng->now_us -
	    c->last_media_us) / 1000000));
	benc_str(b, "tags");
	benc_dict(b);
	for (s = 0; s < 2; s++) {
		const char *tag = s == 0 ? c->from_tag : c->to_tag;

		if (tag[0] == '\0')
			continue;
		benc_str(b, tag);
		benc_dict(b);
		benc_kv_str(b, "tag", tag);
		benc_str(b, "medias");
		benc_list(b);
		for (i = 0; i < c->nmedia; i++) {
			struct leg *l = &c->media[i]->leg[s];

			benc_dict(b);
			benc_kv_int(b, "index", i + 1);
			benc_kv_str(b, "type", c->media[i]->type);
			benc_str(b, "streams");
			benc_list(b);
			ng_leg_stats(b, l);
			benc_end(b);
			benc_end(b);
			pk += l->stats.packets;
			by += l->stats.bytes;
			rt += l->stats.rtcp_packets;
			er += l->stats.drops + l->stats.send_errors;
		}
		benc_end(b);
		benc_end(b);
	}
	benc_end(b);
	benc_str(b, "totals");
	benc_dict(b);
	benc_str(b, "RTP");
	benc_dict(b);
	benc_kv_int(b, "packets", (int64_t)(pk - rt));
	benc_kv_int(b, "bytes", (int64_t)by);
	benc_kv_int(b, "errors", (int64_t)er);
	benc_end(b);
	benc_str(b, "RTCP");
	benc_dict(b);
	benc_kv_int(b, "packets", (int64_t)rt);
	benc_end(b);
	benc_end(b);
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
	struct relay_stats *st = r->ng->stats;
	struct bencoder *b = r->b;
	int v;

	benc_kv_str(b, "result", "ok");
	benc_str(b, "statistics");
	benc_dict(b);
	benc_str(b, "currentstatistics");
	benc_dict(b);
	benc_kv_int(b, "sessionsown", (int64_t)r->ng->calls->ncalls);
	benc_kv_int(b, "sessionsforeign", 0);
	benc_kv_int(b, "sessionstotal", (int64_t)r->ng->calls->ncalls);
	benc_kv_int(b, "packetrate", (int64_t)st->packet_rate);
	benc_kv_int(b, "byterate", (int64_t)st->byte_rate);
	benc_kv_int(b, "errorrate", 0);
	benc_end(b);
	benc_str(b, "totalstatistics");
	benc_dict(b);
	benc_kv_int(b, "managedsessions", (int64_t)st->calls_created);
	benc_kv_int(b, "timeoutsessions", (int64_t)st->calls_expired);
	benc_kv_int(b, "deletedsessions", (int64_t)st->calls_deleted);
	benc_kv_int(b, "packets", (int64_t)st->packets);
	benc_kv_int(b, "bytes", (int64_t)st->bytes);
	benc_kv_int(b, "rtcppackets", (int64_t)st->rtcp_packets);
	benc_kv_int(b, "dtlspackets", (int64_t)st->dtls_packets);
	benc_kv_int(b, "zrtppackets", (int64_t)st->zrtp_packets);
	benc_kv_int(b, "keepalives", (int64_t)st->keepalives);
	benc_kv_int(b, "latchmoves", (int64_t)st->latch_moves);
	benc_kv_int(b, "senderrors", (int64_t)st->send_errors);
	benc_str(b, "drops");
	benc_dict(b);
	for (v = LATCH_DROP_SPOOF; v < LATCH_VERDICT_MAX; v++)
		benc_kv_int(b, latch_verdict_name(v),
		    (int64_t)st->verdicts[v]);
	benc_end(b);
	benc_end(b);
	benc_kv_int(b, "portpairsused", r->ng->calls->pairs_used);
	benc_kv_int(b, "portpairstotal", r->ng->calls->npairs);
	benc_end(b);
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
		ng_printable(cmdn->s, cmdn->len, cmdname, sizeof(cmdname));
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
