/*
 * The FRR driver's planner: which command sequence closes the difference
 * between the desired and the applied state next. Pure: no I/O, no clock,
 * no logging; time comes in as now_us. controller/frr.c owns the socket,
 * the vtysh fallback and the timers, and asks this file what to send.
 *
 * Per VIP the plan keeps the desired state (set by the caller) and the
 * applied state as far as bgpd has acknowledged it. Applied starts
 * unknown, and becomes unknown again when the connection is lost
 * (frr_plan_forget) or a sequence for the VIP fails: an unknown VIP is
 * dirty whatever it wants, so the first sync after start withdraws every
 * VIP that is not wanted, and a resync re-applies everything.
 *
 * Route maps: a VIP announced with weight W and flag gshut uses route-map
 * vty_policy_name(W, gshut). The plan remembers which maps bgpd has been
 * given since the last forget; a map is defined right before the first VIP
 * that needs it, so after a reconnect bgpd gets maps before the networks
 * that name them (a `network ... route-map` naming an undefined map
 * announces nothing).
 *
 * Order and coalescing: the next step always serves the dirty VIP whose
 * desired state changed least recently (a resync takes them in
 * registration order) and is built from the desired state at that moment.
 * While a step is in flight the caller may change the desired state as
 * often as it likes; frr_plan_done records what the step applied, and the
 * next frr_plan_next starts from the newest desired state again, so no
 * backlog of stale transitions ever builds up.
 *
 * Failures: a step that fails makes its VIP unknown (or its route map
 * undefined) and puts it in backoff, 100 ms doubling up to retry_max_us;
 * other VIPs go on meanwhile. The consecutive failure count survives a
 * forget, so the caller can log a failure once (count 1) and its recovery.
 */
#ifndef CONTROLLER_FRR_PLAN_H
#define CONTROLLER_FRR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "controller/frr.h"
#include "controller/vty.h"

#define FRR_PLAN_RETRY_MIN_US	100000ULL
/* Room for every VIP's desired map plus as many that are no longer used. */
#define FRR_PLAN_POLICIES_MAX	(2 * FRR_VIPS_MAX)

/* One announcement state: ann plus weight (0 when withdrawn). */
struct frr_want {
	enum frr_ann	ann;
	uint32_t	weight_bw;
};

struct frr_plan_vip {
	struct prefix	prefix;
	struct frr_want	desired;
	struct frr_want	applied;	/* valid when known */
	bool		known;
	uint64_t	changed;	/* change order (plan->seq) */
	uint64_t	retry_at_us;	/* in backoff until then */
	uint64_t	backoff_us;	/* next backoff */
	unsigned int	failures;	/* consecutive */
};

struct frr_plan_policy {
	uint32_t	weight_bw;
	bool		gshut;
	bool		defined;	/* bgpd has it (since last forget) */
	uint64_t	retry_at_us;
	uint64_t	backoff_us;
	unsigned int	failures;
};

struct frr_plan {
	uint64_t		asn;
	uint64_t		retry_max_us;
	struct frr_plan_vip	vips[FRR_VIPS_MAX];
	size_t			nvips;
	struct frr_plan_policy	pols[FRR_PLAN_POLICIES_MAX];
	size_t			npols;
	uint64_t		seq;	/* change counter */
	uint64_t		gen;	/* bumped by forget */
};

enum frr_step_kind {
	FRR_STEP_NONE,		/* applied == desired everywhere */
	FRR_STEP_WAIT,		/* work left, all of it in backoff */
	FRR_STEP_POLICY,	/* define a route map */
	FRR_STEP_ANNOUNCE,
	FRR_STEP_WITHDRAW,
	FRR_STEP_KIND_MAX
};
extern const char *const frr_step_kind_names[];
const char	*frr_step_kind_name(enum frr_step_kind);

/* What to send next, and what it means once bgpd acknowledges it. */
struct frr_step {
	enum frr_step_kind kind;
	uint64_t	gen;		/* plan->gen when built */
	size_t		vip;		/* ANNOUNCE, WITHDRAW, and the VIP
					 * a POLICY is defined for */
	size_t		pol;		/* POLICY */
	struct frr_want	target;		/* the VIP's desired state */
	char		rmap[VTY_RMAP_NAME_MAX + 1];	/* POLICY, ANNOUNCE */
	uint64_t	wait_until_us;	/* WAIT */
	unsigned int	failures;	/* of the item, before this step */
	char		cmds[VTY_CMDS_MAX];	/* vty_cmds_* format */
	int		ncmds;
};

/* asn is checked (vty_check_asn); retry_max_us 0 means 5 s. */
int	frr_plan_init(struct frr_plan *p, uint64_t asn, uint64_t retry_max_us,
	    char *err, size_t errlen);
/* Index of a new VIP (desired withdrawn, applied unknown); -1 with err on
 * a bad or duplicate prefix, or when FRR_VIPS_MAX is reached. */
int	frr_plan_add_vip(struct frr_plan *p, const struct prefix *vip,
	    char *err, size_t errlen);
/* Index of a registered VIP, or -1. */
int	frr_plan_find(const struct frr_plan *p, const struct prefix *vip);
/* Set the desired state. Returns 1 if it changed, 0 if not, -1 with err
 * for a bad index, state or weight. */
int	frr_plan_set(struct frr_plan *p, size_t vip, enum frr_ann ann,
	    uint32_t weight_bw, char *err, size_t errlen);
/* The connection is gone: applied unknown everywhere, no route map known
 * to be defined, backoffs cleared (a new bgpd deserves a fresh try). */
void	frr_plan_forget(struct frr_plan *p);
/* Fill *s with the next step at now_us. Returns 0, or -1 with err when a
 * sequence cannot be built (cannot happen with inputs the setters took). */
int	frr_plan_next(struct frr_plan *p, uint64_t now_us, struct frr_step *s,
	    char *err, size_t errlen);
/*
 * A step ended: ok means bgpd acknowledged every command. Returns the item's
 * consecutive failure count after this (0 on success), or -1 when the step
 * was built before the last forget (its result says nothing now).
 */
int	frr_plan_done(struct frr_plan *p, const struct frr_step *s, bool ok,
	    uint64_t now_us);
/* applied == desired and known for every VIP. */
bool	frr_plan_synced(const struct frr_plan *p);
/* Dirty VIPs (unknown or different). */
size_t	frr_plan_pending(const struct frr_plan *p);

/*
 * Whether bgpd's reply to one command means it is done. Success, and also
 * `no network P' answered "% Can't find static route specified" (bgpd 8.4:
 * status CMD_WARNING_CONFIG_FAILED), which means P is already withdrawn.
 */
bool	frr_plan_reply_ok(const char *cmd, int status, const char *text);
/* The same for a whole vtysh run of a step: vtysh stops at the first
 * failing command and exits 1, printing bgpd's text. */
bool	frr_plan_vtysh_ok(const struct frr_step *s, int exit_status,
	    const char *output);

#endif
