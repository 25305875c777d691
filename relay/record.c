/*
 * Call records of the shared state: encoding, decoding and applying
 * (relay/record.h has the format).
 */
#include "relay/record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bencode.h"

#define REC_NODES	512	/* a full 8-media record needs about 200 */

const char *const rec_outcome_names[] = {
	[REC_APPLIED] = "applied",
	[REC_STALE] = "stale",
	[REC_UNKNOWN_CALL] = "unknown_call",
	[REC_CONFLICT] = "conflict",
	[REC_INVALID] = "invalid",
};

const char *
rec_outcome_name(enum rec_outcome o)
{
	return o < REC_OUTCOME_MAX ? rec_outcome_names[o] : "?";
}

int
rec_field_parse(const char *s, size_t len, struct rec_field *f)
{
	memset(f, 0, sizeof(*f));
	if (len == 1 && s[0] == 's') {
		f->kind = REC_SIG;
		return 0;
	}
	if (len == 1 && s[0] == 'a') {
		f->kind = REC_ACT;
		return 0;
	}
	if (len == 4 && s[0] == 'l' && s[1] >= '0' &&
	    s[1] < '0' + CALL_MAX_MEDIA && s[2] == '.' &&
	    (s[3] == '0' || s[3] == '1')) {
		f->kind = REC_LATCH;
		f->media = s[1] - '0';
		f->side = s[3] - '0';
		return 0;
	}
	return -1;
}

void
rec_field_name(const struct rec_field *f, char *buf, size_t len)
{
	switch (f->kind) {
	case REC_SIG:
		snprintf(buf, len, "s");
		break;
	case REC_ACT:
		snprintf(buf, len, "a");
		break;
	case REC_LATCH:
		snprintf(buf, len, "l%d.%d", f->media, f->side);
		break;
	}
}

uint32_t
rec_node_hash(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name != '\0') {
		h ^= (unsigned char)*name++;
		h *= 16777619u;
	}
	return h == 0 ? 1 : h;
}

uint64_t
rec_next_version(const struct rec_version *v, uint64_t now_us)
{
	return now_us > v->ver ? now_us : v->ver + 1;
}

bool
rec_newer(const struct rec_version *a, const struct rec_version *b)
{
	return a->ver > b->ver || (a->ver == b->ver && a->node > b->node);
}

static int
rec_hex(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= (uint64_t)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= (uint64_t)(s[i] - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

int
rec_hdr_parse(const char *val, size_t len, struct rec_hdr *h, char *err,
    size_t errlen)
{
	uint64_t node;

	if (len < REC_HDR_LEN) {
		snprintf(err, errlen, "%zu bytes, shorter than the %d-byte "
		    "header", len, REC_HDR_LEN);
		return -1;
	}
	if (len > REC_VALUE_MAX) {
		snprintf(err, errlen, "%zu bytes, over the %d-byte limit", len,
		    REC_VALUE_MAX);
		return -1;
	}
	if (rec_hex(val, 16, &h->v.ver) == -1 ||
	    rec_hex(val + 16, 8, &node) == -1) {
		snprintf(err, errlen, "header is not 24 lower-case hex "
		    "digits");
		return -1;
	}
	h->v.node = (uint32_t)node;
	if (val[24] != 'L' && val[24] != 'D') {
		snprintf(err, errlen, "header state '%c' is neither 'L' nor "
		    "'D'", val[24] >= 0x20 && val[24] < 0x7f ? val[24] : '?');
		return -1;
	}
	h->deleted = val[24] == 'D';
	if (h->v.ver == 0) {
		snprintf(err, errlen, "version 0");
		return -1;
	}
	return 0;
}

/* Header, then the dictionary the caller appends. */
static void
rec_begin(struct bencoder *b, char *buf, size_t cap,
    const struct rec_version *v, bool deleted)
{
	char hdr[REC_HDR_LEN + 1];

	snprintf(hdr, sizeof(hdr), "%016" PRIx64 "%08" PRIx32 "%c", v->ver,
	    v->node, deleted ? 'D' : 'L');
	if (cap < REC_HDR_LEN) {
		benc_init(b, buf, 0);
		b->overflow = true;
		return;
	}
	memcpy(buf, hdr, REC_HDR_LEN);
	benc_init(b, buf + REC_HDR_LEN, cap - REC_HDR_LEN);
}

static size_t
rec_finish(const struct bencoder *b)
{
	return b->overflow ? 0 : REC_HDR_LEN + b->len;
}

static void
rec_kv_sa(struct bencoder *b, const char *key, const union sockaddr_any *sa)
{
	char buf[ADDR_STRLEN];

	if ((sa->sa.sa_family == AF_INET || sa->sa.sa_family == AF_INET6) &&
	    sa_port(sa) != 0)
		benc_kv_str(b, key, sa_fmt(sa, buf, sizeof(buf)));
	else
		benc_kv_str(b, key, "");
}

size_t
rec_encode_sig(const struct call *c, const struct rec_version *v,
    bool deleted, uint64_t wrote_us, char *buf, size_t cap)
{
	struct bencoder b;
	char pt[33];
	int i, s;

	rec_begin(&b, buf, cap, v, deleted);
	benc_dict(&b);
	benc_kv_int(&b, "af", c->af == AF_INET6 ? 6 : 4);
	benc_kv_int(&b, "an", c->answered);
	benc_kv_int(&b, "cr", (int64_t)c->created_wall);
	benc_kv_str(&b, "ft", c->from_tag);
	benc_kv_int(&b, "fv", REC_FORMAT);
	benc_kv_str(&b, "id", c->id);
	benc_str(&b, "m");
	benc_list(&b);
	for (i = 0; i < c->nmedia && !deleted; i++) {
		const struct media *m = c->media[i];

		benc_dict(&b);
		benc_str(&b, "l");
		benc_list(&b);
		for (s = 0; s < 2; s++) {
			const struct leg *l = &m->leg[s];

			benc_dict(&b);
			benc_kv_int(&b, "dt", l->dtls);
			benc_kv_int(&b, "mx", l->rtcp_mux);
			benc_kv_int(&b, "p", l->port);
			benc_kv_int(&b, "pk", l->pt_known);
			benc_kv_str(&b, "pr", l->proto);
			snprintf(pt, sizeof(pt), "%016" PRIx64 "%016" PRIx64,
			    l->pt_mask[0], l->pt_mask[1]);
			benc_kv_str(&b, "pt", pt);
			rec_kv_sa(&b, "rc", &l->sdp_rtcp);
			rec_kv_sa(&b, "sa", &l->latch.sdp);
			benc_kv_int(&b, "sd", l->has_sdp);
			benc_kv_int(&b, "ss", l->strict);
			benc_end(&b);
		}
		benc_end(&b);
		benc_kv_int(&b, "rj", m->rejected);
		benc_kv_str(&b, "t", m->type);
		benc_end(&b);
	}
	benc_end(&b);
	benc_kv_str(&b, "tt", c->to_tag);
	benc_kv_int(&b, "w", (int64_t)wrote_us);
	benc_end(&b);
	return rec_finish(&b);
}

size_t
rec_encode_latch(const struct leg *l, const struct rec_version *v,
    uint64_t wrote_us, char *buf, size_t cap)
{
	struct bencoder b;
	bool latched = l->latch.state == LATCH_LATCHED;

	rec_begin(&b, buf, cap, v, false);
	benc_dict(&b);
	if (latched)
		rec_kv_sa(&b, "a", &l->latch.addr);
	else
		benc_kv_str(&b, "a", "");
	benc_kv_int(&b, "fv", REC_FORMAT);
	benc_kv_int(&b, "k", l->latch.known);
	benc_kv_int(&b, "q", l->latch.seq);
	benc_kv_int(&b, "s", l->latch.ssrc);
	benc_kv_int(&b, "st", latched);
	benc_kv_int(&b, "w", (int64_t)wrote_us);
	benc_end(&b);
	return rec_finish(&b);
}

size_t
rec_encode_act(const struct rec_version *v, uint64_t wrote_us, char *buf,
    size_t cap)
{
	struct bencoder b;

	rec_begin(&b, buf, cap, v, false);
	benc_dict(&b);
	benc_kv_int(&b, "fv", REC_FORMAT);
	benc_kv_int(&b, "w", (int64_t)wrote_us);
	benc_end(&b);
	return rec_finish(&b);
}

size_t
rec_encode_event(const char *id, const char *field, const char *val,
    size_t vlen, uint32_t node, char *buf, size_t cap)
{
	struct bencoder b;

	benc_init(&b, buf, cap);
	benc_list(&b);
	benc_str(&b, id);
	benc_str(&b, field);
	benc_strn(&b, val, vlen);
	benc_int(&b, node);
	benc_end(&b);
	return b.overflow ? 0 : b.len;
}

int
rec_decode_event(const char *msg, size_t len, struct rec_event *ev,
    char *err, size_t errlen)
{
	struct bnode nodes[8], *root, *n[4];
	struct rec_field f;
	char sub[128];
	int i;

	memset(ev, 0, sizeof(*ev));
	if (len > REC_EVENT_MAX) {
		snprintf(err, errlen, "event of %zu bytes, over the %d-byte "
		    "limit", len, REC_EVENT_MAX);
		return -1;
	}
	if (bencode_decode(msg, len, nodes, 8, &root, sub, sizeof(sub)) ==
	    -1) {
		snprintf(err, errlen, "event: %s", sub);
		return -1;
	}
	if (root->type != BNODE_LIST) {
		snprintf(err, errlen, "event is not a list");
		return -1;
	}
	for (i = 0, n[0] = root->child; i < 4; i++) {
		if (n[i] == NULL) {
			snprintf(err, errlen, "event has %d elements, not 4", i);
			return -1;
		}
		if (i < 3)
			n[i + 1] = n[i]->next;
	}
	if (n[3]->next != NULL) {
		snprintf(err, errlen, "event has more than 4 elements");
		return -1;
	}
	if (bnode_strcpy(n[0], ev->id, sizeof(ev->id)) == -1 ||
	    ev->id[0] == '\0') {
		snprintf(err, errlen, "event: bad call-id");
		return -1;
	}
	if (n[1]->type != BNODE_STR ||
	    rec_field_parse(n[1]->s, n[1]->len, &f) == -1) {
		snprintf(err, errlen, "event: bad field name");
		return -1;
	}
	memcpy(ev->field, n[1]->s, n[1]->len);
	ev->field[n[1]->len] = '\0';
	if (n[2]->type != BNODE_STR) {
		snprintf(err, errlen, "event: value is not a string");
		return -1;
	}
	ev->val = n[2]->s;
	ev->vlen = n[2]->len;
	if (n[3]->type != BNODE_INT || n[3]->i <= 0 ||
	    n[3]->i > (int64_t)UINT32_MAX) {
		snprintf(err, errlen, "event: bad node hash");
		return -1;
	}
	ev->node = (uint32_t)n[3]->i;
	return 0;
}

/* The bencoded body after the header, with its format version checked. */
static struct bnode *
rec_body(const char *val, size_t len, struct bnode *nodes, uint64_t *wrote,
    char *err, size_t errlen)
{
	struct bnode *root, *n;
	char sub[128];

	if (bencode_decode(val + REC_HDR_LEN, len - REC_HDR_LEN, nodes,
	    REC_NODES, &root, sub, sizeof(sub)) == -1) {
		snprintf(err, errlen, "body: %s", sub);
		return NULL;
	}
	if (root->type != BNODE_DICT) {
		snprintf(err, errlen, "body is not a dictionary");
		return NULL;
	}
	n = bnode_get(root, "fv");
	if (n == NULL || n->type != BNODE_INT) {
		snprintf(err, errlen, "no format version");
		return NULL;
	}
	if (n->i != REC_FORMAT) {
		snprintf(err, errlen, "format version %" PRId64 " (this relay "
		    "reads %d)", n->i, REC_FORMAT);
		return NULL;
	}
	n = bnode_get(root, "w");
	*wrote = n != NULL && n->type == BNODE_INT && n->i > 0 ?
	    (uint64_t)n->i : 0;
	return root;
}

static int
rec_int(const struct bnode *d, const char *key, int64_t min, int64_t max,
    int64_t *out, char *err, size_t errlen)
{
	const struct bnode *n = bnode_get(d, key);

	if (n == NULL || n->type != BNODE_INT || n->i < min || n->i > max) {
		snprintf(err, errlen, "'%s' missing or out of range %" PRId64
		    "..%" PRId64, key, min, max);
		return -1;
	}
	*out = n->i;
	return 0;
}

/* An integer key that older relays did not write: def when absent. */
static int
rec_int_opt(const struct bnode *d, const char *key, int64_t min, int64_t max,
    int64_t def, int64_t *out, char *err, size_t errlen)
{
	if (bnode_get(d, key) == NULL) {
		*out = def;
		return 0;
	}
	return rec_int(d, key, min, max, out, err, errlen);
}

static int
rec_str(const struct bnode *d, const char *key, char *buf, size_t len,
    char *err, size_t errlen)
{
	if (bnode_strcpy(bnode_get(d, key), buf, len) == -1) {
		snprintf(err, errlen, "'%s' missing, not a string or over %zu "
		    "bytes", key, len - 1);
		return -1;
	}
	return 0;
}

/* "" = none; else an address of the family af with a port. */
static int
rec_sa(const struct bnode *d, const char *key, int af,
    union sockaddr_any *out, char *err, size_t errlen)
{
	char buf[ADDR_STRLEN + 8], sub[96];

	memset(out, 0, sizeof(*out));
	if (rec_str(d, key, buf, sizeof(buf), err, errlen) == -1)
		return -1;
	if (buf[0] == '\0')
		return 0;
	if (hostport_parse(buf, out, sub, sizeof(sub)) == -1) {
		snprintf(err, errlen, "'%s': %s", key, sub);
		return -1;
	}
	if (af != 0 && out->sa.sa_family != af) {
		snprintf(err, errlen, "'%s': %s is not of the call's family",
		    key, buf);
		return -1;
	}
	return 0;
}

struct rec_leg {
	uint16_t		port;
	bool			rtcp_mux, pt_known, has_sdp, strict, dtls;
	char			proto[24];
	uint64_t		pt_mask[2];
	union sockaddr_any	sdp, sdp_rtcp;
};

struct rec_sig {
	char		from_tag[CALL_TAG_MAX + 1];
	char		to_tag[CALL_TAG_MAX + 1];
	int		af;
	bool		answered;
	uint64_t	created_wall;
	int		nmedia;
	struct {
		char		type[16];
		bool		rejected;
		struct rec_leg	leg[2];
	} media[CALL_MAX_MEDIA];
};

static int
rec_decode_leg(const struct bnode *d, int af, struct rec_leg *l, char *err,
    size_t errlen)
{
	char pt[33];
	int64_t v;

	if (d->type != BNODE_DICT) {
		snprintf(err, errlen, "leg is not a dictionary");
		return -1;
	}
	if (rec_int(d, "p", 1024, 65534, &v, err, errlen) == -1)
		return -1;
	if (v % 2 != 0) {
		snprintf(err, errlen, "port %" PRId64 " is odd", v);
		return -1;
	}
	l->port = (uint16_t)v;
	if (rec_int(d, "mx", 0, 1, &v, err, errlen) == -1)
		return -1;
	l->rtcp_mux = v;
	if (rec_int(d, "pk", 0, 1, &v, err, errlen) == -1)
		return -1;
	l->pt_known = v;
	if (rec_int(d, "sd", 0, 1, &v, err, errlen) == -1)
		return -1;
	l->has_sdp = v;
	/* Not negotiated unless said: DTLS then cannot latch the leg. */
	if (rec_int_opt(d, "dt", 0, 1, 0, &v, err, errlen) == -1)
		return -1;
	l->dtls = v;
	if (rec_str(d, "pt", pt, sizeof(pt), err, errlen) == -1)
		return -1;
	if (strlen(pt) != 32 || rec_hex(pt, 16, &l->pt_mask[0]) == -1 ||
	    rec_hex(pt + 16, 16, &l->pt_mask[1]) == -1) {
		snprintf(err, errlen, "'pt' is not 32 hex digits");
		return -1;
	}
	if (rec_sa(d, "sa", af, &l->sdp, err, errlen) == -1 ||
	    rec_sa(d, "rc", af, &l->sdp_rtcp, err, errlen) == -1)
		return -1;
	/* Added after format 1 first shipped, like "dt": optional, so a
	 * record from a relay that does not write them still applies (no
	 * protocol known, no strict-source). */
	l->proto[0] = '\0';
	if (bnode_get(d, "pr") != NULL && rec_str(d, "pr", l->proto,
	    sizeof(l->proto), err, errlen) == -1)
		return -1;
	if (rec_int_opt(d, "ss", 0, 1, 0, &v, err, errlen) == -1)
		return -1;
	l->strict = v;
	return 0;
}

static int
rec_decode_sig(const char *id, const char *val, size_t len,
    const struct rec_hdr *h, struct rec_sig *sig, uint64_t *wrote,
    char *err, size_t errlen)
{
	struct bnode nodes[REC_NODES], *root, *m, *md, *l;
	char cid[CALL_ID_MAX + 1];
	int64_t v;
	int i, s;

	memset(sig, 0, sizeof(*sig));
	if ((root = rec_body(val, len, nodes, wrote, err, errlen)) == NULL)
		return -1;
	if (rec_str(root, "id", cid, sizeof(cid), err, errlen) == -1)
		return -1;
	if (strcmp(cid, id) != 0) {
		snprintf(err, errlen, "record of call '%.100s' stored under "
		    "'%.100s'", cid, id);
		return -1;
	}
	if (h->deleted)
		return 0;	/* a tombstone needs nothing else */
	if (rec_int(root, "af", 4, 6, &v, err, errlen) == -1)
		return -1;
	if (v == 5) {
		snprintf(err, errlen, "'af' is 5");
		return -1;
	}
	sig->af = v == 6 ? AF_INET6 : AF_INET;
	if (rec_int(root, "an", 0, 1, &v, err, errlen) == -1)
		return -1;
	sig->answered = v;
	if (rec_int(root, "cr", 0, INT64_MAX, &v, err, errlen) == -1)
		return -1;
	sig->created_wall = (uint64_t)v;
	if (rec_str(root, "ft", sig->from_tag, sizeof(sig->from_tag), err,
	    errlen) == -1 || rec_str(root, "tt", sig->to_tag,
	    sizeof(sig->to_tag), err, errlen) == -1)
		return -1;
	m = bnode_get(root, "m");
	if (m == NULL || m->type != BNODE_LIST) {
		snprintf(err, errlen, "'m' missing or not a list");
		return -1;
	}
	for (md = m->child; md != NULL; md = md->next) {
		if (sig->nmedia == CALL_MAX_MEDIA) {
			snprintf(err, errlen, "more than %d media",
			    CALL_MAX_MEDIA);
			return -1;
		}
		i = sig->nmedia++;
		if (md->type != BNODE_DICT) {
			snprintf(err, errlen, "media %d is not a dictionary",
			    i + 1);
			return -1;
		}
		if (rec_str(md, "t", sig->media[i].type,
		    sizeof(sig->media[i].type), err, errlen) == -1 ||
		    rec_int(md, "rj", 0, 1, &v, err, errlen) == -1)
			return -1;
		sig->media[i].rejected = v;
		l = bnode_get(md, "l");
		if (l == NULL || l->type != BNODE_LIST || l->child == NULL ||
		    l->child->next == NULL || l->child->next->next != NULL) {
			snprintf(err, errlen, "media %d: 'l' is not a list of "
			    "two legs", i + 1);
			return -1;
		}
		for (s = 0, l = l->child; s < 2; s++, l = l->next)
			if (rec_decode_leg(l, sig->af, &sig->media[i].leg[s],
			    err, errlen) == -1)
				return -1;
	}
	if (sig->nmedia == 0) {
		snprintf(err, errlen, "no media");
		return -1;
	}
	return 0;
}

/* Copy what one leg's endpoint said in SDP, as ng_leg_from_sdp() does. */
static void
rec_leg_apply(struct call_table *t, struct leg *l, const struct rec_leg *r)
{
	bool changed = !sa_eq(&l->latch.sdp, &r->sdp) ||
	    !sa_eq(&l->sdp_rtcp, &r->sdp_rtcp) || l->rtcp_mux != r->rtcp_mux;

	if (l->latch.state != LATCH_LATCHED || !sa_eq(&l->latch.sdp, &r->sdp))
		latch_init(&l->latch, &r->sdp);
	l->sdp_rtcp = r->sdp_rtcp;
	l->rtcp_mux = r->rtcp_mux;
	if (changed)
		l->rtcp_dest = r->rtcp_mux ? r->sdp : r->sdp_rtcp;
	memcpy(l->pt_mask, r->pt_mask, sizeof(l->pt_mask));
	l->pt_known = r->pt_known;
	l->has_sdp = r->has_sdp;
	memcpy(l->proto, r->proto, sizeof(l->proto));
	l->strict = r->strict;
	l->dtls = r->dtls;
	call_leg_sync_rtcp(t, l);
}

static enum rec_outcome
rec_apply_sig(struct call_table *t, const struct relay_config *cfg,
    const char *id, const char *val, size_t len, const struct rec_hdr *h,
    uint64_t now_us, uint64_t now_wall, struct rec_applied *info, char *err,
    size_t errlen)
{
	struct rec_sig *sig;
	uint16_t ports[CALL_MAX_MEDIA][2];
	const struct addr *vip;
	struct call *c = call_find(t, id);
	enum rec_outcome out = REC_INVALID;
	int i, s;

	const struct rec_version *tomb;

	if (c != NULL && !rec_newer(&h->v, &c->sig_ver))
		return REC_STALE;
	if (c == NULL && (tomb = call_tomb_find(t, id)) != NULL &&
	    !rec_newer(&h->v, tomb))
		return REC_STALE;	/* deleted after this was written */
	if (c == NULL && h->deleted) {
		/* Nothing to delete, but an older copy must not revive it. */
		call_tomb_add(t, id, &h->v, now_us + REC_TOMB_US);
		return REC_STALE;
	}
	if ((sig = malloc(sizeof(*sig))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return REC_INVALID;
	}
	if (rec_decode_sig(id, val, len, h, sig, &info->wrote_us, err,
	    errlen) == -1)
		goto done;
	if (h->deleted) {
		call_delete(t, c);
		call_tomb_add(t, id, &h->v, now_us + REC_TOMB_US);
		info->deleted = true;
		out = REC_APPLIED;
		goto done;
	}
	if ((vip = relay_config_vip(cfg, sig->af)) == NULL) {
		snprintf(err, errlen, "no service address for %s here",
		    sig->af == AF_INET6 ? "IPv6" : "IPv4");
		out = REC_CONFLICT;
		goto done;
	}
	if (c == NULL) {
		call_tomb_remove(t, id);	/* the id is live again */
		if ((c = call_create(t, id, now_us, now_wall)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		c->created_wall = sig->created_wall;
		info->created = true;
	}
	for (i = 0; i < sig->nmedia; i++)
		for (s = 0; s < 2; s++)
			ports[i][s] = sig->media[i].leg[s].port;
	if (call_restore_media(t, c, sig->nmedia, (const uint16_t (*)[2])ports,
	    vip, err, errlen) == -1) {
		call_delete(t, c);
		info->created = false;
		out = REC_CONFLICT;
		goto done;
	}
	memcpy(c->from_tag, sig->from_tag, sizeof(c->from_tag));
	memcpy(c->to_tag, sig->to_tag, sizeof(c->to_tag));
	c->answered = sig->answered;
	for (i = 0; i < sig->nmedia; i++) {
		struct media *m = c->media[i];

		memcpy(m->type, sig->media[i].type, sizeof(m->type));
		m->rejected = sig->media[i].rejected;
		for (s = 0; s < 2; s++)
			rec_leg_apply(t, &m->leg[s], &sig->media[i].leg[s]);
	}
	c->sig_ver = h->v;
	out = REC_APPLIED;
done:
	free(sig);
	return out;
}

static enum rec_outcome
rec_apply_latch(struct call_table *t, const char *id,
    const struct rec_field *f, const char *val, size_t len,
    const struct rec_hdr *h, struct rec_applied *info, char *err,
    size_t errlen)
{
	struct bnode nodes[REC_NODES], *root;
	struct call *c = call_find(t, id);
	union sockaddr_any addr;
	struct leg *l;
	int64_t st, ssrc, seq, known;

	if (c == NULL || f->media >= c->nmedia)
		return REC_UNKNOWN_CALL;
	l = &c->media[f->media]->leg[f->side];
	if (!rec_newer(&h->v, &l->latch_ver))
		return REC_STALE;
	if (h->deleted) {
		snprintf(err, errlen, "a latch marked deleted");
		return REC_INVALID;
	}
	if ((root = rec_body(val, len, nodes, &info->wrote_us, err,
	    errlen)) == NULL)
		return REC_INVALID;
	if (rec_int(root, "st", 0, 1, &st, err, errlen) == -1 ||
	    rec_int(root, "s", 0, UINT32_MAX, &ssrc, err, errlen) == -1 ||
	    rec_int(root, "q", 0, UINT16_MAX, &seq, err, errlen) == -1 ||
	    rec_sa(root, "a", c->af, &addr, err, errlen) == -1)
		return REC_INVALID;
	/* Relays that did not write "k" latched on RTP only. */
	if (rec_int_opt(root, "k", 0, LATCH_KNOWN_MAX - 1, LATCH_KNOWN_SEQ,
	    &known, err, errlen) == -1)
		return REC_INVALID;
	if (st == 1) {
		if (latch_restore(&l->latch, &addr, (enum latch_known)known,
		    (uint32_t)ssrc, (uint16_t)seq, err, errlen) == -1)
			return REC_INVALID;
	} else {
		addr = l->latch.sdp;
		latch_init(&l->latch, &addr);
	}
	l->latch_ver = h->v;
	return REC_APPLIED;
}

static enum rec_outcome
rec_apply_act(struct call_table *t, const char *id, const char *val,
    size_t len, const struct rec_hdr *h, struct rec_applied *info,
    char *err, size_t errlen)
{
	struct bnode nodes[REC_NODES];
	struct call *c = call_find(t, id);

	if (c == NULL)
		return REC_UNKNOWN_CALL;
	if (!rec_newer(&h->v, &c->act_ver))
		return REC_STALE;
	if (h->deleted) {
		snprintf(err, errlen, "an activity marked deleted");
		return REC_INVALID;
	}
	if (rec_body(val, len, nodes, &info->wrote_us, err, errlen) == NULL)
		return REC_INVALID;
	c->act_ver = h->v;
	return REC_APPLIED;
}

enum rec_outcome
rec_apply(struct call_table *t, const struct relay_config *cfg,
    const char *id, const char *field, size_t flen, const char *val,
    size_t vlen, uint64_t now_us, uint64_t now_wall,
    struct rec_applied *info, char *err, size_t errlen)
{
	struct rec_field f;
	struct rec_hdr h;

	memset(info, 0, sizeof(*info));
	if (id[0] == '\0' || strlen(id) > CALL_ID_MAX) {
		snprintf(err, errlen, "bad call-id");
		return REC_INVALID;
	}
	if (rec_field_parse(field, flen, &f) == -1) {
		snprintf(err, errlen, "unknown field '%.*s'",
		    (int)(flen > 16 ? 16 : flen), field);
		return REC_INVALID;
	}
	if (rec_hdr_parse(val, vlen, &h, err, errlen) == -1)
		return REC_INVALID;
	switch (f.kind) {
	case REC_SIG:
		return rec_apply_sig(t, cfg, id, val, vlen, &h, now_us,
		    now_wall, info, err, errlen);
	case REC_LATCH:
		return rec_apply_latch(t, id, &f, val, vlen, &h, info, err,
		    errlen);
	case REC_ACT:
		return rec_apply_act(t, id, val, vlen, &h, info, err, errlen);
	}
	return REC_INVALID;
}
