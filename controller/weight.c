/*
 * The announced weight of a service: configured, derived from capacity and
 * load, or set by the operator (see controller/weight.h for the rules and
 * why the load feedback is multiplicative).
 */
#include "controller/weight.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

const char *const weight_source_names[] = {
	[WEIGHT_SRC_CONFIG] = "config",
	[WEIGHT_SRC_CAPACITY] = "capacity",
	[WEIGHT_SRC_LOAD] = "load",
	[WEIGHT_SRC_OPERATOR] = "operator",
};

const char *const weight_hold_names[] = {
	[WEIGHT_HOLD_NONE] = "none",
	[WEIGHT_HOLD_BAND] = "within hysteresis",
	[WEIGHT_HOLD_INTERVAL] = "changed less than an interval ago",
};

const char *
weight_source_name(enum weight_source s)
{
	if ((unsigned int)s >= WEIGHT_SRC_MAX)
		return "unknown";
	return weight_source_names[s];
}

const char *
weight_hold_name(enum weight_hold h)
{
	if ((unsigned int)h >= WEIGHT_HOLD_MAX)
		return "unknown";
	return weight_hold_names[h];
}

static uint32_t
weight_clamp(uint64_t w)
{
	if (w < WEIGHT_MIN)
		return WEIGHT_MIN;
	if (w > WEIGHT_MAX)
		return WEIGHT_MAX;
	return (uint32_t)w;
}

static uint64_t
weight_units(uint64_t v, uint64_t per_unit)
{
	return v / per_unit + (v % per_unit != 0);
}

uint32_t
weight_nominal(const struct weight_config *cfg)
{
	uint64_t u = UINT64_MAX;

	if (cfg->mode == WEIGHT_FIXED)
		return weight_clamp(cfg->fixed);
	/* The tighter limit decides how big the relay is. */
	if (cfg->cap_calls > 0)
		u = weight_units(cfg->cap_calls, WEIGHT_CALLS_PER_UNIT);
	if (cfg->cap_pps > 0 && weight_units(cfg->cap_pps,
	    WEIGHT_PPS_PER_UNIT) < u)
		u = weight_units(cfg->cap_pps, WEIGHT_PPS_PER_UNIT);
	return weight_clamp(u == UINT64_MAX ? WEIGHT_MIN : u);
}

double
weight_load_frac(const struct weight_config *cfg,
    const struct weight_load *load)
{
	double f = 0., g;

	if (cfg->cap_calls > 0)
		f = (double)load->calls / (double)cfg->cap_calls;
	if (cfg->cap_pps > 0) {
		g = (double)load->packet_rate / (double)cfg->cap_pps;
		if (g > f)
			f = g;
	}
	return f;
}

static uint32_t
weight_floor(const struct weight_config *cfg, uint32_t nominal)
{
	return weight_clamp(((uint64_t)nominal * cfg->min_pct + 99) / 100);
}

uint32_t
weight_target(const struct weight_config *cfg, uint32_t announced,
    const struct weight_load *load)
{
	uint32_t nominal = weight_nominal(cfg);
	uint32_t lo = weight_floor(cfg, nominal);
	double tgt = (double)cfg->target_pct / 100., t = (double)nominal, u;

	/* Packets follow the weight: estimate from the weight they were
	 * measured under. */
	if (cfg->cap_pps > 0 && load->packet_rate > 0) {
		u = (double)announced * tgt * (double)cfg->cap_pps /
		    (double)load->packet_rate;
		if (u < t)
			t = u;
	}
	/* Calls do not: the signalling places them, and with shared state
	 * every relay holds every call. Scale by the headroom alone. */
	if (cfg->cap_calls > 0 && load->calls > 0) {
		u = (double)nominal * tgt * (double)cfg->cap_calls /
		    (double)load->calls;
		if (u < t)
			t = u;
	}
	if (t >= (double)nominal)
		return nominal;
	if (t <= (double)lo)
		return lo;
	return weight_clamp((uint64_t)llround(t));
}

static bool
weight_update(struct weight_state *st)
{
	uint32_t before = st->announced;

	st->announced = st->overridden ? st->override : st->automatic;
	return st->announced != before;
}

void
weight_init(struct weight_state *st, const struct weight_config *cfg)
{
	*st = (struct weight_state){ 0 };
	st->nominal = weight_nominal(cfg);
	st->automatic = st->nominal;
	st->target = st->nominal;
	st->announced = st->automatic;
}

bool
weight_sample(struct weight_state *st, const struct weight_config *cfg,
    const struct weight_load *load, uint64_t now_us)
{
	uint32_t t, a = st->automatic;
	uint64_t diff;

	if (cfg->mode != WEIGHT_AUTO || !cfg->scale_with_load)
		return false;
	st->have_load = true;
	st->load = *load;
	st->load_frac = weight_load_frac(cfg, load);
	t = st->target = weight_target(cfg, st->announced, load);
	st->hold = WEIGHT_HOLD_NONE;
	if (t == a)
		return false;
	diff = t > a ? t - a : a - t;
	/* Back at nominal is always taken: the relay has room at full
	 * weight, and a band would otherwise leave it a little short for
	 * good. */
	if (t != st->nominal && diff * 100 <= (uint64_t)cfg->hysteresis_pct *
	    a) {
		st->hold = WEIGHT_HOLD_BAND;
		return false;
	}
	if (st->changed_once && now_us - st->changed_us < cfg->interval_us) {
		st->hold = WEIGHT_HOLD_INTERVAL;
		return false;
	}
	st->automatic = t;
	st->changed_once = true;
	st->changed_us = now_us;
	return weight_update(st);
}

bool
weight_set(struct weight_state *st, const struct weight_config *cfg,
    uint32_t w)
{
	if (cfg->mode == WEIGHT_FIXED && w == cfg->fixed)
		st->overridden = false;
	else {
		st->overridden = true;
		st->override = weight_clamp(w);
	}
	return weight_update(st);
}

bool
weight_clear(struct weight_state *st)
{
	st->overridden = false;
	return weight_update(st);
}

bool
weight_reconfigure(struct weight_state *st, const struct weight_config *cfg)
{
	bool overridden = st->overridden;
	uint32_t override = st->override, before = st->announced;

	weight_init(st, cfg);
	st->overridden = overridden;
	st->override = override;
	weight_update(st);
	return st->announced != before;
}

enum weight_source
weight_source(const struct weight_state *st, const struct weight_config *cfg)
{
	if (st->overridden)
		return WEIGHT_SRC_OPERATOR;
	if (cfg->mode == WEIGHT_FIXED)
		return WEIGHT_SRC_CONFIG;
	return st->automatic < st->nominal ? WEIGHT_SRC_LOAD :
	    WEIGHT_SRC_CAPACITY;
}

static const char *
weight_capacity_fmt(const struct weight_config *cfg, char *buf, size_t len)
{
	if (cfg->cap_calls > 0 && cfg->cap_pps > 0)
		snprintf(buf, len, "%" PRIu64 " calls, %" PRIu64 " packets/s",
		    cfg->cap_calls, cfg->cap_pps);
	else if (cfg->cap_calls > 0)
		snprintf(buf, len, "%" PRIu64 " calls", cfg->cap_calls);
	else
		snprintf(buf, len, "%" PRIu64 " packets/s", cfg->cap_pps);
	return buf;
}

/* "; load 91% of capacity (4550 calls, 455000 packets/s), target 80%". */
static void
weight_load_fmt(const struct weight_state *st, const struct weight_config *cfg,
    char *buf, size_t len)
{
	int n;

	if (!cfg->scale_with_load) {
		buf[0] = '\0';
		return;
	}
	if (!st->have_load) {
		snprintf(buf, len, "; load not measured yet");
		return;
	}
	n = snprintf(buf, len, "; load %.0f%% of capacity (%" PRIu64
	    " calls, %" PRIu64 " packets/s), target %u%%",
	    st->load_frac * 100., st->load.calls, st->load.packet_rate,
	    cfg->target_pct);
	if (st->hold != WEIGHT_HOLD_NONE && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; %" PRIu32 " held (%s)",
		    st->target, weight_hold_name(st->hold));
}

const char *
weight_explain(const struct weight_state *st, const struct weight_config *cfg,
    char *buf, size_t len)
{
	char cap[96], ld[192];

	switch (weight_source(st, cfg)) {
	case WEIGHT_SRC_OPERATOR:
		if (cfg->mode == WEIGHT_FIXED)
			snprintf(buf, len, "set by failoverctl (configured: "
			    "%" PRIu32 ")", cfg->fixed);
		else
			snprintf(buf, len, "set by failoverctl (configured: "
			    "auto, now %" PRIu32 " of nominal %" PRIu32 ")",
			    st->automatic, st->nominal);
		break;
	case WEIGHT_SRC_CONFIG:
		snprintf(buf, len, "configured");
		break;
	case WEIGHT_SRC_CAPACITY:
		weight_load_fmt(st, cfg, ld, sizeof(ld));
		snprintf(buf, len, "auto from capacity (%s)%s",
		    weight_capacity_fmt(cfg, cap, sizeof(cap)), ld);
		break;
	case WEIGHT_SRC_LOAD:
		weight_load_fmt(st, cfg, ld, sizeof(ld));
		snprintf(buf, len, "auto, lowered for load from nominal %"
		    PRIu32 " (%s)%s", st->nominal,
		    weight_capacity_fmt(cfg, cap, sizeof(cap)), ld);
		break;
	default:
		snprintf(buf, len, "unknown");
		break;
	}
	return buf;
}
