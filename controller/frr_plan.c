/*
 * The FRR driver's planner (see frr_plan.h): desired vs applied per VIP,
 * route maps defined so far, and the next command sequence. No I/O.
 */
#include "controller/frr_plan.h"

#include <stdio.h>
#include <string.h>

const char *const frr_ann_names[] = {
	[FRR_WITHDRAWN] = "withdrawn",
	[FRR_NORMAL] = "normal",
	[FRR_GSHUT] = "graceful-shutdown",
};

const char *const frr_step_kind_names[] = {
	[FRR_STEP_NONE] = "none",
	[FRR_STEP_WAIT] = "wait",
	[FRR_STEP_POLICY] = "policy",
	[FRR_STEP_ANNOUNCE] = "announce",
	[FRR_STEP_WITHDRAW] = "withdraw",
};

/* bgpd 8.4 bgp_static_unset(): the prefix has no `network' statement. */
#define FRR_PLAN_ABSENT_TEXT	"Can't find static route specified"

const char *
frr_step_kind_name(enum frr_step_kind k)
{
	if ((unsigned int)k >= FRR_STEP_KIND_MAX)
		return "unknown";
	return frr_step_kind_names[k];
}

int
frr_plan_init(struct frr_plan *p, uint64_t asn, uint64_t retry_max_us,
    char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (vty_check_asn(asn, err, errlen) == -1)
		return -1;
	p->asn = asn;
	p->retry_max_us = retry_max_us > 0 ? retry_max_us : 5000000;
	if (p->retry_max_us < FRR_PLAN_RETRY_MIN_US)
		p->retry_max_us = FRR_PLAN_RETRY_MIN_US;
	return 0;
}

static bool
frr_plan_prefix_eq(const struct prefix *a, const struct prefix *b)
{
	return a->len == b->len && addr_eq(&a->addr, &b->addr);
}

int
frr_plan_find(const struct frr_plan *p, const struct prefix *vip)
{
	size_t i;

	for (i = 0; i < p->nvips; i++)
		if (frr_plan_prefix_eq(&p->vips[i].prefix, vip))
			return (int)i;
	return -1;
}

int
frr_plan_add_vip(struct frr_plan *p, const struct prefix *vip, char *err,
    size_t errlen)
{
	struct frr_plan_vip *v;
	char buf[VTY_CMDS_MAX], pfx[INET6_ADDRSTRLEN + 8];

	/* The withdraw builder checks everything a prefix can get wrong. */
	if (vty_cmds_withdraw(buf, sizeof(buf), p->asn, vip, err, errlen) < 0)
		return -1;
	if (frr_plan_find(p, vip) != -1) {
		snprintf(err, errlen, "VIP %s registered twice",
		    prefix_fmt(vip, pfx, sizeof(pfx)));
		return -1;
	}
	if (p->nvips == FRR_VIPS_MAX) {
		snprintf(err, errlen, "more than %d VIPs", FRR_VIPS_MAX);
		return -1;
	}
	v = &p->vips[p->nvips];
	memset(v, 0, sizeof(*v));
	v->prefix = *vip;
	v->desired.ann = FRR_WITHDRAWN;
	v->known = false;
	v->changed = ++p->seq;
	v->backoff_us = FRR_PLAN_RETRY_MIN_US;
	return (int)p->nvips++;
}

int
frr_plan_set(struct frr_plan *p, size_t vip, enum frr_ann ann,
    uint32_t weight_bw, char *err, size_t errlen)
{
	struct frr_plan_vip *v;
	struct frr_want w;
	char name[VTY_RMAP_NAME_MAX + 1];

	if (vip >= p->nvips) {
		snprintf(err, errlen, "no VIP number %zu", vip);
		return -1;
	}
	if ((unsigned int)ann >= FRR_ANN_MAX) {
		snprintf(err, errlen, "unknown announcement state %d",
		    (int)ann);
		return -1;
	}
	w.ann = ann;
	w.weight_bw = 0;
	if (ann != FRR_WITHDRAWN) {
		if (vty_policy_name(name, sizeof(name), weight_bw,
		    ann == FRR_GSHUT, err, errlen) == -1)
			return -1;
		w.weight_bw = weight_bw;
	}
	v = &p->vips[vip];
	if (v->desired.ann == w.ann && v->desired.weight_bw == w.weight_bw)
		return 0;
	v->desired = w;
	v->changed = ++p->seq;
	return 1;
}

void
frr_plan_forget(struct frr_plan *p)
{
	size_t i;

	p->gen++;
	for (i = 0; i < p->nvips; i++) {
		p->vips[i].known = false;
		p->vips[i].retry_at_us = 0;
		p->vips[i].backoff_us = FRR_PLAN_RETRY_MIN_US;
		/* Registration order again, ahead of anything changed later. */
		p->vips[i].changed = i + 1;
	}
	if (p->seq < p->nvips)
		p->seq = p->nvips;
	for (i = 0; i < p->npols; i++) {
		p->pols[i].defined = false;
		p->pols[i].retry_at_us = 0;
		p->pols[i].backoff_us = FRR_PLAN_RETRY_MIN_US;
	}
}

static bool
frr_want_eq(const struct frr_want *a, const struct frr_want *b)
{
	return a->ann == b->ann && a->weight_bw == b->weight_bw;
}

static bool
frr_plan_dirty(const struct frr_plan_vip *v)
{
	return !v->known || !frr_want_eq(&v->applied, &v->desired);
}

bool
frr_plan_synced(const struct frr_plan *p)
{
	return frr_plan_pending(p) == 0;
}

size_t
frr_plan_pending(const struct frr_plan *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->nvips; i++)
		if (frr_plan_dirty(&p->vips[i]))
			n++;
	return n;
}

static bool
frr_plan_pol_in_use(const struct frr_plan *p, const struct frr_plan_policy *pol)
{
	const struct frr_plan_vip *v;
	size_t i;

	for (i = 0; i < p->nvips; i++) {
		v = &p->vips[i];
		if (v->desired.ann != FRR_WITHDRAWN &&
		    v->desired.weight_bw == pol->weight_bw &&
		    (v->desired.ann == FRR_GSHUT) == pol->gshut)
			return true;
	}
	return false;
}

/*
 * The table entry for (weight, gshut), made if needed. When the table is
 * full an entry no VIP wants is reused: bgpd keeps that map, the plan just
 * stops remembering it, and defining it again later is harmless.
 */
static size_t
frr_plan_policy(struct frr_plan *p, uint32_t weight_bw, bool gshut)
{
	struct frr_plan_policy *pol;
	size_t i;

	for (i = 0; i < p->npols; i++)
		if (p->pols[i].weight_bw == weight_bw &&
		    p->pols[i].gshut == gshut)
			return i;
	if (p->npols < FRR_PLAN_POLICIES_MAX)
		i = p->npols++;
	else {
		/* At most FRR_VIPS_MAX are in use: one is free. */
		for (i = 0; i < p->npols; i++)
			if (!frr_plan_pol_in_use(p, &p->pols[i]))
				break;
		if (i == p->npols)
			i = 0;
	}
	pol = &p->pols[i];
	memset(pol, 0, sizeof(*pol));
	pol->weight_bw = weight_bw;
	pol->gshut = gshut;
	pol->backoff_us = FRR_PLAN_RETRY_MIN_US;
	return i;
}

static void
frr_plan_wait(uint64_t *until, uint64_t t)
{
	if (*until == 0 || t < *until)
		*until = t;
}

int
frr_plan_next(struct frr_plan *p, uint64_t now_us, struct frr_step *s,
    char *err, size_t errlen)
{
	struct frr_plan_vip *v, *best = NULL;
	struct frr_plan_policy *pol = NULL;
	uint64_t until = 0;
	size_t i, bi = 0, pi = 0;
	bool gshut;
	int n;

	memset(s, 0, sizeof(*s));
	s->gen = p->gen;
	for (i = 0; i < p->nvips; i++) {
		v = &p->vips[i];
		if (!frr_plan_dirty(v))
			continue;
		if (v->retry_at_us > now_us) {
			frr_plan_wait(&until, v->retry_at_us);
			continue;
		}
		if (v->desired.ann != FRR_WITHDRAWN) {
			gshut = v->desired.ann == FRR_GSHUT;
			pi = frr_plan_policy(p, v->desired.weight_bw, gshut);
			if (!p->pols[pi].defined &&
			    p->pols[pi].retry_at_us > now_us) {
				/* Blocked until its map can be defined. */
				frr_plan_wait(&until, p->pols[pi].retry_at_us);
				continue;
			}
		}
		if (best == NULL || v->changed < best->changed) {
			best = v;
			bi = i;
		}
	}
	if (best == NULL) {
		s->kind = until != 0 ? FRR_STEP_WAIT : FRR_STEP_NONE;
		s->wait_until_us = until;
		return 0;
	}

	s->vip = bi;
	s->target = best->desired;
	if (best->desired.ann == FRR_WITHDRAWN) {
		s->kind = FRR_STEP_WITHDRAW;
		s->failures = best->failures;
		n = vty_cmds_withdraw(s->cmds, sizeof(s->cmds), p->asn,
		    &best->prefix, err, errlen);
	} else {
		gshut = best->desired.ann == FRR_GSHUT;
		if (vty_policy_name(s->rmap, sizeof(s->rmap),
		    best->desired.weight_bw, gshut, err, errlen) == -1)
			return -1;
		pi = frr_plan_policy(p, best->desired.weight_bw, gshut);
		pol = &p->pols[pi];
		if (!pol->defined) {
			s->kind = FRR_STEP_POLICY;
			s->pol = pi;
			s->failures = pol->failures;
			n = vty_cmds_policy(s->cmds, sizeof(s->cmds), s->rmap,
			    pol->weight_bw, pol->gshut, err, errlen);
		} else {
			s->kind = FRR_STEP_ANNOUNCE;
			s->failures = best->failures;
			n = vty_cmds_announce(s->cmds, sizeof(s->cmds), p->asn,
			    &best->prefix, s->rmap, err, errlen);
		}
	}
	if (n < 0) {
		s->kind = FRR_STEP_NONE;
		return -1;
	}
	s->ncmds = n;
	return 0;
}

static void
frr_plan_backoff(uint64_t *retry_at, uint64_t *backoff, uint64_t max,
    uint64_t now_us)
{
	*retry_at = now_us + *backoff;
	*backoff *= 2;
	if (*backoff > max)
		*backoff = max;
}

int
frr_plan_done(struct frr_plan *p, const struct frr_step *s, bool ok,
    uint64_t now_us)
{
	struct frr_plan_vip *v;
	struct frr_plan_policy *pol;

	if (s->gen != p->gen)
		return -1;
	switch (s->kind) {
	case FRR_STEP_POLICY:
		if (s->pol >= p->npols)
			return -1;
		pol = &p->pols[s->pol];
		/* The entry may have been reused for another map meanwhile. */
		if (pol->weight_bw != s->target.weight_bw ||
		    pol->gshut != (s->target.ann == FRR_GSHUT))
			return -1;
		if (ok) {
			pol->defined = true;
			pol->failures = 0;
			pol->retry_at_us = 0;
			pol->backoff_us = FRR_PLAN_RETRY_MIN_US;
			return 0;
		}
		pol->defined = false;
		frr_plan_backoff(&pol->retry_at_us, &pol->backoff_us,
		    p->retry_max_us, now_us);
		return (int)++pol->failures;
	case FRR_STEP_ANNOUNCE:
	case FRR_STEP_WITHDRAW:
		if (s->vip >= p->nvips)
			return -1;
		v = &p->vips[s->vip];
		if (ok) {
			v->applied = s->target;
			v->known = true;
			v->failures = 0;
			v->retry_at_us = 0;
			v->backoff_us = FRR_PLAN_RETRY_MIN_US;
			return 0;
		}
		/* Halfway through a sequence bgpd may hold either state. */
		v->known = false;
		frr_plan_backoff(&v->retry_at_us, &v->backoff_us,
		    p->retry_max_us, now_us);
		return (int)++v->failures;
	default:
		return -1;
	}
}

static bool
frr_plan_is_no_network(const char *cmd)
{
	return strncmp(cmd, "no network ", 11) == 0;
}

bool
frr_plan_reply_ok(const char *cmd, int status, const char *text)
{
	if (status == VTY_ST_SUCCESS)
		return true;
	if (cmd == NULL || text == NULL || !frr_plan_is_no_network(cmd))
		return false;
	return (status == VTY_ST_WARNING_CONFIG_FAILED ||
	    status == VTY_ST_WARNING) &&
	    strstr(text, FRR_PLAN_ABSENT_TEXT) != NULL;
}

bool
frr_plan_vtysh_ok(const struct frr_step *s, int exit_status,
    const char *output)
{
	if (exit_status == 0)
		return true;
	/* vtysh -c exits 1 at the first command that fails. */
	return s->kind == FRR_STEP_WITHDRAW && exit_status == 1 &&
	    output != NULL && strstr(output, FRR_PLAN_ABSENT_TEXT) != NULL;
}
