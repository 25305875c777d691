/*
 * The weight a service announces: the value of the BGP link-bandwidth
 * extended community on its VIPs (FRR's unit, Mbit/s, 1..25600). Routers
 * split flows between relays in proportion to it, and pass the sum of
 * their relays' weights up the tree (frr-conf/README.md, docs/weights.md);
 * only the ratios between the relays of one VIP matter.
 *
 * Where the weight comes from, in order of precedence:
 *   operator  `failoverctl weight SERVICE N', until `weight SERVICE auto'
 *             (or, for a fixed weight, until N equals the configured one);
 *   config    `weight: N';
 *   auto      `weight: auto': the relay's configured capacity, in units of
 *             WEIGHT_CALLS_PER_UNIT calls or WEIGHT_PPS_PER_UNIT packets/s
 *             (the smaller when both are given) -- the "nominal" weight;
 *             with scale-with-load, lowered while the relay's load
 *             (calls held, packets/s forwarded, from its ng statistics)
 *             is above target-load of that capacity.
 *
 * Load scaling. The packet rate a relay forwards follows the weight it
 * announces (the weight moves flows), so mapping load to weight directly
 * would be a feedback loop that swings between nominal and a low value.
 * Assuming the rate is proportional to the announced weight, the weight
 * that brings it to the target is
 *     announced * target_load / (packet_rate / capacity.packet-rate)
 * which gets there in one step and then stays. Calls do not follow the
 * weight (the signalling places them; with shared state every relay holds
 * every call), so for them the weight is simply nominal scaled by the
 * headroom: nominal * target_load / (calls / capacity.calls). The lower
 * of the two wins, capped at nominal. Hysteresis: the automatic weight
 * changes only when the target differs from it by more than hysteresis
 * percent (or is back at nominal: the relay has room at full weight), and
 * at most once per interval, so the load sample a decision uses was
 * measured under the weight it was computed from. It never falls below
 * min-weight percent of nominal: a full relay still takes a share; taking
 * it out is a drain. When every relay of the pool is above its target
 * they all fall to that floor together, which keeps their ratios:
 * shifting load cannot help a pool that is full.
 *
 * Pure: no I/O, no clock (now_us comes in), no logging. Every input
 * returns true when the weight to announce changed; weight_explain() says
 * why it is what it is, for status and logs.
 */
#ifndef CONTROLLER_WEIGHT_H
#define CONTROLLER_WEIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEIGHT_MIN		1
#define WEIGHT_MAX		25600	/* FRR's link-bandwidth range */
/* One weight unit of capacity: 100 calls, or 10,000 packets/s (a call of
 * two 20 ms streams is 100 packets/s through the relay). */
#define WEIGHT_CALLS_PER_UNIT	100
#define WEIGHT_PPS_PER_UNIT	10000

enum weight_mode {
	WEIGHT_FIXED,
	WEIGHT_AUTO,
};

struct weight_config {
	enum weight_mode mode;
	uint32_t	 fixed;			/* WEIGHT_FIXED */
	/* WEIGHT_AUTO: capacity; 0 = not given (at least one is). */
	uint64_t	 cap_calls;
	uint64_t	 cap_pps;
	bool		 scale_with_load;
	unsigned int	 target_pct;		/* 1..100 of capacity */
	unsigned int	 min_pct;		/* 1..100 of nominal */
	unsigned int	 hysteresis_pct;	/* 0..100 */
	uint64_t	 interval_us;		/* between automatic changes */
};

/* Where the weight announced now comes from. */
enum weight_source {
	WEIGHT_SRC_CONFIG,	/* weight: N */
	WEIGHT_SRC_CAPACITY,	/* auto, at nominal */
	WEIGHT_SRC_LOAD,	/* auto, lowered for load */
	WEIGHT_SRC_OPERATOR,	/* failoverctl weight N */
	WEIGHT_SRC_MAX
};
extern const char *const weight_source_names[];
const char	*weight_source_name(enum weight_source);

/* Why the last load sample did not change the automatic weight. */
enum weight_hold {
	WEIGHT_HOLD_NONE,	/* it did, or it already was the target */
	WEIGHT_HOLD_BAND,	/* target within the hysteresis band */
	WEIGHT_HOLD_INTERVAL,	/* changed less than an interval ago */
	WEIGHT_HOLD_MAX
};
extern const char *const weight_hold_names[];
const char	*weight_hold_name(enum weight_hold);

struct weight_load {
	uint64_t	calls;		/* calls the relay holds */
	uint64_t	packet_rate;	/* packets/s it forwards */
};

struct weight_state {
	uint32_t	 announced;	/* what to announce now */
	uint32_t	 automatic;	/* config or auto weight, overridden or not */
	uint32_t	 nominal;	/* auto: from capacity; else = fixed */
	bool		 overridden;
	uint32_t	 override;	/* failoverctl weight N */
	/* The last load sample (auto with scale-with-load). */
	bool		 have_load;
	struct weight_load load;
	double		 load_frac;	/* of capacity, the tighter limit */
	uint32_t	 target;	/* computed from it */
	enum weight_hold hold;
	bool		 changed_once;
	uint64_t	 changed_us;	/* last automatic change */
};

/* The weight of a full-capacity relay (1..WEIGHT_MAX); the fixed weight
 * for WEIGHT_FIXED. */
uint32_t	weight_nominal(const struct weight_config *cfg);
/* Load as a fraction of capacity: the largest of calls / cap_calls and
 * packet_rate / cap_pps over the limits configured (0 for none). */
double		weight_load_frac(const struct weight_config *cfg,
		    const struct weight_load *load);
/*
 * The weight that would bring a relay announcing `announced' under `load'
 * to target_pct of its capacity (see above), between the floor (min_pct
 * of nominal, at least 1) and nominal. Nominal when the load is 0.
 */
uint32_t	weight_target(const struct weight_config *cfg,
		    uint32_t announced, const struct weight_load *load);

/* Start at the configured or nominal weight. */
void	weight_init(struct weight_state *st, const struct weight_config *cfg);
/*
 * A load sample (auto with scale-with-load; ignored otherwise). True when
 * the weight to announce changed. Even while overridden the automatic
 * weight follows, from the load measured under the operator's weight, so
 * `weight SERVICE auto' returns to a current value.
 */
bool	weight_sample(struct weight_state *st, const struct weight_config *cfg,
	    const struct weight_load *load, uint64_t now_us);
/* failoverctl weight N: an override, except that for a fixed weight
 * setting the configured value ends it. True when `announced' changed. */
bool	weight_set(struct weight_state *st, const struct weight_config *cfg,
	    uint32_t w);
/* failoverctl weight SERVICE auto: back to the configured source. */
bool	weight_clear(struct weight_state *st);
/* A reload: the automatic weight starts again from the new configuration
 * (an override stays). True when `announced' changed. */
bool	weight_reconfigure(struct weight_state *st,
	    const struct weight_config *cfg);

enum weight_source weight_source(const struct weight_state *st,
	    const struct weight_config *cfg);
/*
 * One line for status and logs, e.g.
 *   "auto from capacity (5000 calls, 500000 pps): nominal 50"
 *   "auto, lowered for load: 91% of capacity > target 80%; nominal 50"
 *   "set by failoverctl (configured: auto, would be 50)"
 * Returns buf.
 */
const char *weight_explain(const struct weight_state *st,
	    const struct weight_config *cfg, char *buf, size_t len);

#endif
