/*
 * failoverd: the per-host controller. It watches the local relay with
 * health checks (check*.c), decides per service with the state machine
 * (fsm.c), and acts through bgpd (frr.c): announce, withdraw, re-weight,
 * drain the service's VIPs. Operators drive it with failoverctl over the
 * control socket (control.c). This file wires them together: main, the
 * loop, signals, reload, status and metrics.
 *
 * Fail closed: the VIPs reach zebra's RIB only through the anchor
 * (anchor.c), a TUN device that dies with this process.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/mono.h"
#include "common/parse.h"
#include "common/pidfile.h"
#include "controller/anchor.h"
#include "controller/check.h"
#include "controller/config.h"
#include "controller/control.h"
#include "controller/frr.h"
#include "controller/fsm.h"
#include "controller/relaystat.h"
#include "controller/state.h"
#include "controller/weight.h"

/* Check latency histogram bounds (seconds), for the metrics page. */
#define LAT_BUCKETS	10
static const double lat_bounds_s[LAT_BUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1
};

/* A clean stop waits this long for bgpd to take the withdraws. */
#define STOP_WITHDRAW_US	(2 * 1000000ULL)

struct fo;

struct fo_check {
	struct fo		*fo;
	int			 idx;		/* into cfg->checks */
	struct check		*chk;		/* NULL: no service uses it */
	uint64_t		 lat_bucket[LAT_BUCKETS];
	uint64_t		 lat_count;
	double			 lat_sum_s;
	uint64_t		 ok_total, fail_total;
};

struct fo_service {
	struct fo		*fo;
	int			 idx;		/* into cfg->services */
	struct fsm_service	 fsm;
	struct weight_state	 w;		/* w.announced is in effect */
	ev_timer		 weight_poll;	/* load samples (auto) */
	uint64_t		 transitions;
	ev_timer		 fsm_timer;	/* fsm_next_deadline */
	/* Drain and auto weight: the relay's packet rate and calls. */
	struct relaystat	*stat;
	ev_timer		 drain_poll;
	bool			 have_rate;
	uint64_t		 last_rate;
	char			 stat_err[128];
};

/* A `check SERVICE' request waiting for its checks' results. */
struct fo_pending {
	struct fo_pending	*next;
	struct control_conn	*conn;
	int			 service;
	bool			 waiting[FSM_CHECKS_MAX];
	size_t			 left;
};

struct fo {
	const char		*conffile;
	struct fo_config	*cfg;
	struct ev_loop		*loop;
	struct frr		*frr;
	struct anchor		 anchor;
	bool			 anchored;	/* routes installed */
	struct control_server	*ctl, *ctl_ro;
	struct metrics_server	*metrics;
	struct fo_check		 checks[CONFIG_CHECKS_MAX];
	struct fo_service	 svcs[CONFIG_SERVICES_MAX];
	struct fo_pending	*pending;
	uint64_t		 started_us;
	uint64_t		 reloads, reload_failures;
	ev_signal		 term_w, int_w, hup_w;
};

static void	fo_apply(struct fo_service *s);
static void	fo_schedule(struct fo_service *s);

static const struct service_config *
svc_cfg(const struct fo_service *s)
{
	return &s->fo->cfg->services[s->idx];
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: failoverd [-dn] [-p pidfile] -f failoverd.yaml\n"
	    "       failoverd --help | --version\n"
	    "  -f FILE  configuration file (YAML)\n"
	    "  -n       check the configuration: print every error as\n"
	    "           file:line:col, or \"configuration OK\"\n"
	    "  -d       stay in the foreground and log to stderr\n"
	    "  -p FILE  write the process ID to FILE\n"
	    "Health-checks the local relay and announces, withdraws, "
	    "re-weights and\ndrains its anycast service addresses in FRR's "
	    "bgpd. Control it with\nfailoverctl; see docs/controller.md.\n");
}

/* ---- state file ---------------------------------------------------- */

static void
fo_save_state(struct fo *fo)
{
	struct state_entry e[CONFIG_SERVICES_MAX];
	char err[512];
	int i;

	memset(e, 0, sizeof(e));
	for (i = 0; i < fo->cfg->nservices; i++) {
		struct fo_service *s = &fo->svcs[i];

		snprintf(e[i].service, sizeof(e[i].service), "%s",
		    svc_cfg(s)->name);
		e[i].drained = s->fsm.state == FSM_DRAINING ||
		    s->fsm.state == FSM_DRAINED;
		e[i].has_weight = s->w.overridden;
		e[i].weight = s->w.override;
	}
	if (state_save(fo->cfg->state_file, e, fo->cfg->nservices, err,
	    sizeof(err)) == -1)
		log_warnx("state file not saved (a restart would forget "
		    "drains and weights): %s", err);
}

/* ---- acting on transitions ------------------------------------------ */

static enum frr_ann
fo_ann(enum fsm_announce a)
{
	switch (a) {
	case FSM_ANN_NORMAL:
		return FRR_NORMAL;
	case FSM_ANN_GSHUT:
		return FRR_GSHUT;
	default:
		return FRR_WITHDRAWN;
	}
}

static void
fo_apply(struct fo_service *s)
{
	const struct service_config *sc = svc_cfg(s);
	enum frr_ann ann = fo_ann(fsm_announce(&s->fsm));
	int i;

	for (i = 0; i < sc->nvips; i++)
		frr_set(s->fo->frr, &sc->vips[i], ann, s->w.announced);
}

/* Log a change of the announced weight once, with its reason, and
 * re-announce: another route-map on the same `network', never a withdraw. */
static void
fo_weight_changed(struct fo_service *s, uint32_t before, const char *by)
{
	char why[256];

	log_info("service %s: weight %u -> %u%s: %s", svc_cfg(s)->name,
	    before, s->w.announced, by, weight_explain(&s->w,
	    &svc_cfg(s)->weight, why, sizeof(why)));
	fo_apply(s);
}

static void
drain_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fo_service *s = w->data;

	(void)loop;
	(void)revents;
	if (s->stat != NULL)
		relaystat_request(s->stat);
}

static bool
fo_any_announced(const struct fo *fo)
{
	int i;

	for (i = 0; i < fo->cfg->nservices; i++)
		if (fsm_announce(&fo->svcs[i].fsm) != FSM_ANN_WITHDRAWN)
			return true;
	return false;
}

/* Log a transition once, then act on it. */
static void
fo_transition(struct fo_service *s, const struct fsm_transition *tr)
{
	const char *cname = NULL;
	char buf[256];

	if (tr->check >= 0 && (size_t)tr->check < svc_cfg(s)->nchecks)
		cname = s->fo->cfg->checks[svc_cfg(s)->checks[tr->check]].name;
	log_info("service %s: %s", svc_cfg(s)->name,
	    fsm_transition_fmt(tr, cname, buf, sizeof(buf)));
	s->transitions++;
	fo_apply(s);
	if (tr->to == FSM_DOWN && (tr->reason == FSM_REASON_CHECK_DOWN ||
	    tr->reason == FSM_REASON_CHECK_DEAD) &&
	    s->fo->cfg->frr.reset_on_failure && !fo_any_announced(s->fo))
		frr_reset_sessions(s->fo->frr);
	fo_schedule(s);
	/* Poll the relay's rate only while a drain waits for it. */
	if (s->fsm.state == FSM_DRAINING && s->stat != NULL) {
		s->have_rate = false;
		ev_timer_set(&s->drain_poll, 0.,
		    (double)svc_cfg(s)->drain_poll_us / 1e6);
		ev_timer_start(s->fo->loop, &s->drain_poll);
	} else
		ev_timer_stop(s->fo->loop, &s->drain_poll);
	if (tr->from == FSM_DRAINING || tr->from == FSM_DRAINED ||
	    tr->to == FSM_DRAINING || tr->to == FSM_DRAINED)
		fo_save_state(s->fo);
}

static void
fsm_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fo_service *s = w->data;
	struct fsm_transition tr;

	(void)loop;
	(void)revents;
	if (fsm_tick(&s->fsm, mono_us(), &tr))
		fo_transition(s, &tr);
	else
		fo_schedule(s);
}

static void
fo_schedule(struct fo_service *s)
{
	uint64_t when, now = mono_us();

	ev_timer_stop(s->fo->loop, &s->fsm_timer);
	if (!fsm_next_deadline(&s->fsm, &when))
		return;
	ev_timer_set(&s->fsm_timer, when > now ? (double)(when - now) / 1e6 :
	    0., 0.);
	ev_timer_start(s->fo->loop, &s->fsm_timer);
}

static void
on_relaystat(struct relaystat *rs, bool ok, const struct relaystat_sample *st,
    const char *err, void *arg)
{
	struct fo_service *s = arg;
	const struct service_config *sc = svc_cfg(s);
	struct fsm_transition tr;
	struct weight_load wl;
	uint32_t before;

	(void)rs;
	if (!ok) {
		if (strcmp(s->stat_err, err) != 0)
			log_warnx("service %s: relay statistics: %s",
			    svc_cfg(s)->name, err);
		snprintf(s->stat_err, sizeof(s->stat_err), "%s", err);
		return;
	}
	s->stat_err[0] = '\0';
	s->have_rate = true;
	s->last_rate = st->packet_rate;
	if (s->fsm.state == FSM_DRAINING &&
	    st->packet_rate < sc->drain_threshold_pps &&
	    fsm_drain_done(&s->fsm, mono_us(), &tr))
		fo_transition(s, &tr);
	wl.calls = st->sessions;
	wl.packet_rate = st->packet_rate;
	before = s->w.announced;
	if (weight_sample(&s->w, &sc->weight, &wl, mono_us()))
		fo_weight_changed(s, before, " by load");
}

/* ---- check results ---------------------------------------------------- */

static void
fo_pending_result(struct fo *fo, int check_idx, const struct check_result *r)
{
	struct fo_pending **pp, *p;
	const struct service_config *sc;
	size_t j;

	for (pp = &fo->pending; (p = *pp) != NULL;) {
		sc = &fo->cfg->services[p->service];
		for (j = 0; j < sc->nchecks; j++) {
			if (sc->checks[j] != check_idx || !p->waiting[j])
				continue;
			p->waiting[j] = false;
			p->left--;
			control_reply(p->conn, CONTROL_DATA, false,
			    "%-16s %-4s %8.3f ms  %s",
			    fo->cfg->checks[check_idx].name,
			    r->ok ? "ok" : "FAIL",
			    (double)r->latency_us / 1000., r->detail);
		}
		if (p->left == 0) {
			control_reply(p->conn, CONTROL_OK, true, "checked %s",
			    sc->name);
			*pp = p->next;
			free(p);
		} else
			pp = &p->next;
	}
}

static void
on_check_result(struct check *chk, const struct check_result *r, void *arg)
{
	struct fo_check *fc = arg;
	struct fo *fo = fc->fo;
	struct fsm_transition tr;
	enum fsm_check_state before;
	double lat = (double)r->latency_us / 1e6;
	const struct service_config *sc;
	bool changed;
	int i, b;
	size_t j;

	(void)chk;
	if (r->ok)
		fc->ok_total++;
	else
		fc->fail_total++;
	for (b = 0; b < LAT_BUCKETS; b++)
		if (lat <= lat_bounds_s[b])
			fc->lat_bucket[b]++;
	fc->lat_count++;
	fc->lat_sum_s += lat;

	for (i = 0; i < fo->cfg->nservices; i++) {
		struct fo_service *s = &fo->svcs[i];

		sc = &fo->cfg->services[i];
		for (j = 0; j < sc->nchecks; j++) {
			if (sc->checks[j] != fc->idx)
				continue;
			before = s->fsm.checks[j].state;
			changed = fsm_check(&s->fsm, j, r->ok, r->definite,
			    mono_us(), &tr);
			/* Check state changes are logged once per service,
			 * before the transition they cause: they explain
			 * what the operator sees in status. */
			if (s->fsm.checks[j].state != before)
				log_info("service %s: check %s %s -> %s%s%s",
				    sc->name, fo->cfg->checks[fc->idx].name,
				    fsm_check_state_name(before),
				    fsm_check_state_name(
				    s->fsm.checks[j].state),
				    r->detail[0] != '\0' ? ": " : "",
				    r->detail);
			if (changed)
				fo_transition(s, &tr);
			else
				fo_schedule(s);
		}
	}
	fo_pending_result(fo, fc->idx, r);
}

/* ---- FRR events ----------------------------------------------------- */

static void
fo_anchor_routes(struct fo *fo)
{
	char err[256];
	int i, j;

	if (fo->cfg->anchor[0] == '\0' || fo->anchored)
		return;
	for (i = 0; i < fo->cfg->nservices; i++)
		for (j = 0; j < fo->cfg->services[i].nvips; j++)
			if (anchor_route_add(&fo->anchor,
			    &fo->cfg->services[i].vips[j], err,
			    sizeof(err)) == -1)
				log_warnx("%s", err);
	fo->anchored = true;
	log_info("anchor %s: VIP routes installed; they go with this "
	    "process", fo->anchor.name);
}

static void
on_frr_event(struct frr *f, void *arg)
{
	struct fo *fo = arg;

	/* Only after the first sync: by then any announcement an earlier
	 * run left in bgpd's running configuration is gone, so a VIP can
	 * reach the RIB without being announced by mistake. */
	if (frr_synced(f))
		fo_anchor_routes(fo);
}

/* ---- status ------------------------------------------------------- */

/* "850ms", "9.6s", "12m03s", "5h07m": short enough for a table column. */
static const char *
fo_age(uint64_t us, char *buf, size_t len)
{
	uint64_t s = us / 1000000;

	if (us < 1000000)
		snprintf(buf, len, "%" PRIu64 "ms", us / 1000);
	else if (s < 60)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", s,
		    us / 100000 % 10);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
		    s / 60 % 60);
	return buf;
}

static const char *
fo_vips(const struct service_config *sc, char *buf, size_t len)
{
	char p[ADDR_STRLEN];
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < sc->nvips && used < len; i++) {
		prefix_fmt(&sc->vips[i], p, sizeof(p));
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    i > 0 ? "," : "", p);
	}
	return buf;
}

static void
fo_status_table(struct fo *fo, struct control_conn *conn)
{
	const struct frr_stats *fs = frr_stats(fo->frr);
	uint64_t now = mono_us();
	char vips[256], since[32], why[256];
	int i;
	size_t j;

	control_reply(conn, CONTROL_DATA, false, "%-16s %-9s %9s %7s %-9s %s",
	    "SERVICE", "STATE", "SINCE", "WEIGHT", "ANNOUNCE", "VIPS");
	for (i = 0; i < fo->cfg->nservices; i++) {
		struct fo_service *s = &fo->svcs[i];
		const struct service_config *sc = svc_cfg(s);

		fo_age(now - s->fsm.since_us, since, sizeof(since));
		control_reply(conn, CONTROL_DATA, false,
		    "%-16s %-9s %9s %7u %-9s %s", sc->name,
		    fsm_state_name(s->fsm.state), since, s->w.announced,
		    frr_ann_names[fo_ann(fsm_announce(&s->fsm))],
		    fo_vips(sc, vips, sizeof(vips)));
		control_reply(conn, CONTROL_DATA, false, "  weight %u: %s",
		    s->w.announced, weight_explain(&s->w, &sc->weight, why,
		    sizeof(why)));
		if (s->fsm.state == FSM_DRAINING)
			control_reply(conn, CONTROL_DATA, false,
			    "  drain: relay rate %s pps, threshold %" PRIu64
			    " pps%s%s", s->have_rate ? "" : "unknown",
			    sc->drain_threshold_pps,
			    s->stat_err[0] != '\0' ? ", " : "", s->stat_err);
		for (j = 0; j < sc->nchecks; j++) {
			const struct fo_check *fc = &fo->checks[sc->checks[j]];
			const struct check *c = fc->chk;

			control_reply(conn, CONTROL_DATA, false,
			    "  check %-16s %-13s %-7s %8.3f ms  %s",
			    fo->cfg->checks[fc->idx].name,
			    check_kind_name(fo->cfg->checks[fc->idx].kind),
			    fsm_check_state_name(s->fsm.checks[j].state),
			    c != NULL && c->nresults > 0 ?
			    (double)c->last.latency_us / 1000. : 0.,
			    c != NULL && c->nresults > 0 ? c->last.detail :
			    "no result yet");
		}
	}
	control_reply(conn, CONTROL_OK, true, "frr %s, %s; %" PRIu64
	    " commands, %" PRIu64 " errors, %" PRIu64 " connects%s%s",
	    frr_connected(fo->frr) ? "connected" : "DISCONNECTED",
	    frr_synced(fo->frr) ? "in sync" : "syncing", fs->commands,
	    fs->errors, fs->connects, frr_last_error(fo->frr)[0] != '\0' ?
	    "; last error: " : "", frr_last_error(fo->frr));
}

/* "weight_detail":{...}: where the weight comes from, for programs. */
static void
fo_weight_json(const struct fo_service *s, struct mbuf *mb)
{
	const struct weight_config *wc = &svc_cfg(s)->weight;
	const struct weight_state *w = &s->w;
	char why[256];

	mbuf_printf(mb, "\"weight_detail\":{\"source\":\"%s\",\"mode\":"
	    "\"%s\",\"explain\":", weight_source_name(weight_source(w, wc)),
	    wc->mode == WEIGHT_AUTO ? "auto" : "fixed");
	json_str(mb, weight_explain(w, wc, why, sizeof(why)));
	mbuf_printf(mb, ",\"configured\":%u,\"nominal\":%u,"
	    "\"override\":", w->automatic, w->nominal);
	if (w->overridden)
		mbuf_printf(mb, "%u", w->override);
	else
		mbuf_printf(mb, "null");
	mbuf_printf(mb, ",\"capacity\":");
	if (wc->mode == WEIGHT_AUTO)
		mbuf_printf(mb, "{\"calls\":%" PRIu64 ",\"packet_rate\":%"
		    PRIu64 "}", wc->cap_calls, wc->cap_pps);
	else
		mbuf_printf(mb, "null");
	mbuf_printf(mb, ",\"load\":");
	if (w->have_load)
		mbuf_printf(mb, "{\"calls\":%" PRIu64 ",\"packet_rate\":%"
		    PRIu64 ",\"fraction\":%.4f,\"target\":%u,\"held\":"
		    "\"%s\"}", w->load.calls, w->load.packet_rate,
		    w->load_frac, w->target, weight_hold_name(w->hold));
	else
		mbuf_printf(mb, "null");
	mbuf_printf(mb, "}");
}

static void
fo_status_json(struct fo *fo, struct mbuf *mb)
{
	const struct frr_stats *fs = frr_stats(fo->frr);
	uint64_t now = mono_us();
	char p[ADDR_STRLEN];
	int i, k;
	size_t j;

	mbuf_printf(mb, "{\"version\":");
	json_str(mb, VERSION);
	mbuf_printf(mb, ",\"uptime_ms\":%" PRIu64 ",\"frr\":{\"vty\":",
	    (now - fo->started_us) / 1000);
	json_str(mb, fo->cfg->frr.vty_path);
	mbuf_printf(mb, ",\"connected\":%s,\"synced\":%s,\"commands\":%"
	    PRIu64 ",\"errors\":%" PRIu64 ",\"connects\":%" PRIu64
	    ",\"last_error\":", frr_connected(fo->frr) ? "true" : "false",
	    frr_synced(fo->frr) ? "true" : "false", fs->commands, fs->errors,
	    fs->connects);
	json_str(mb, frr_last_error(fo->frr));
	mbuf_printf(mb, "},\"anchor\":");
	if (fo->cfg->anchor[0] != '\0')
		json_str(mb, fo->anchor.name);
	else
		mbuf_printf(mb, "null");
	mbuf_printf(mb, ",\"services\":[");
	for (i = 0; i < fo->cfg->nservices; i++) {
		struct fo_service *s = &fo->svcs[i];
		const struct service_config *sc = svc_cfg(s);

		mbuf_printf(mb, "%s{\"name\":", i > 0 ? "," : "");
		json_str(mb, sc->name);
		mbuf_printf(mb, ",\"state\":\"%s\",\"since_ms\":%" PRIu64
		    ",\"announce\":\"%s\",\"weight\":%u,"
		    "\"weight_runtime\":%s,\"transitions\":%" PRIu64
		    ",\"vips\":[", fsm_state_name(s->fsm.state),
		    (now - s->fsm.since_us) / 1000,
		    frr_ann_names[fo_ann(fsm_announce(&s->fsm))],
		    s->w.announced, s->w.overridden ? "true" : "false",
		    s->transitions);
		for (k = 0; k < sc->nvips; k++) {
			mbuf_printf(mb, "%s", k > 0 ? "," : "");
			json_str(mb, prefix_fmt(&sc->vips[k], p, sizeof(p)));
		}
		mbuf_printf(mb, "],");
		fo_weight_json(s, mb);
		mbuf_printf(mb, ",\"drain\":{\"threshold_pps\":%" PRIu64
		    ",\"timeout_ms\":%" PRIu64 ",\"packet_rate\":",
		    sc->drain_threshold_pps, s->fsm.drain_timeout_us / 1000);
		if (s->have_rate)
			mbuf_printf(mb, "%" PRIu64, s->last_rate);
		else
			mbuf_printf(mb, "null");
		mbuf_printf(mb, "},\"checks\":[");
		for (j = 0; j < sc->nchecks; j++) {
			const struct fo_check *fc = &fo->checks[sc->checks[j]];
			const struct check_config *cc =
			    &fo->cfg->checks[fc->idx];
			const struct check *c = fc->chk;

			mbuf_printf(mb, "%s{\"name\":", j > 0 ? "," : "");
			json_str(mb, cc->name);
			mbuf_printf(mb, ",\"kind\":\"%s\",\"state\":\"%s\","
			    "\"interval_ms\":%" PRIu64 ",\"results\":%" PRIu64
			    ",\"failures\":%" PRIu64 ",\"last\":",
			    check_kind_name(cc->kind),
			    fsm_check_state_name(s->fsm.checks[j].state),
			    cc->interval_us / 1000, fc->ok_total +
			    fc->fail_total, fc->fail_total);
			if (c == NULL || c->nresults == 0) {
				mbuf_printf(mb, "null}");
				continue;
			}
			mbuf_printf(mb, "{\"ok\":%s,\"definite\":%s,"
			    "\"latency_us\":%" PRIu64 ",\"age_ms\":%" PRIu64
			    ",\"detail\":", c->last.ok ? "true" : "false",
			    c->last.definite ? "true" : "false",
			    c->last.latency_us, (now - c->last.at_us) / 1000);
			json_str(mb, c->last.detail);
			mbuf_printf(mb, "}}");
		}
		mbuf_printf(mb, "]}");
	}
	mbuf_printf(mb, "]}\n");
}

/* ---- control ---------------------------------------------------------- */

static int	fo_reload(struct fo *fo, struct control_conn *conn);

static int
fo_find(struct fo *fo, const char *name)
{
	int i;

	for (i = 0; i < fo->cfg->nservices; i++)
		if (strcmp(fo->cfg->services[i].name, name) == 0)
			return i;
	return -1;
}

static void
fo_drain_one(struct fo *fo, struct control_conn *conn, struct fo_service *s,
    const struct control_cmd *cmd, bool drain)
{
	struct fsm_transition tr;
	char d[32];
	bool changed;

	if (drain && cmd->has_timeout)
		s->fsm.drain_timeout_us = cmd->timeout_us;
	changed = drain ? fsm_drain(&s->fsm, mono_us(), &tr) :
	    fsm_undrain(&s->fsm, mono_us(), &tr);
	if (changed) {
		log_info("service %s: %s by operator", svc_cfg(s)->name,
		    drain ? "drain" : "undrain");
		fo_transition(s, &tr);
	}
	if (!drain)
		control_reply(conn, CONTROL_DATA, false, "%s: %s",
		    svc_cfg(s)->name, changed ? fsm_state_name(s->fsm.state) :
		    "not drained");
	else if (s->fsm.state == FSM_DRAINING)
		control_reply(conn, CONTROL_DATA, false, "%s: draining (gshut "
		    "announced; withdrawn below %" PRIu64 " pps or after %s)",
		    svc_cfg(s)->name, svc_cfg(s)->drain_threshold_pps,
		    duration_fmt(s->fsm.drain_timeout_us, d, sizeof(d)));
	else
		control_reply(conn, CONTROL_DATA, false, "%s: %s",
		    svc_cfg(s)->name, changed ? "drained (withdrawn)" :
		    "already drained");
	(void)fo;
}

static void
control_cb(struct control_conn *conn, const struct control_cmd *cmd,
    void *arg)
{
	struct fo *fo = arg;
	struct fo_service *s = NULL;
	struct fo_pending *p;
	struct mbuf mb;
	char why[256];
	uint32_t before;
	int i, idx = -1;
	size_t j;
	bool pending;

	if (cmd->service[0] != '\0') {
		if ((idx = fo_find(fo, cmd->service)) == -1) {
			control_reply(conn, CONTROL_E_SERVICE, true,
			    "unknown service '%s' (configured: %s%s)",
			    cmd->service, fo->cfg->services[0].name,
			    fo->cfg->nservices > 1 ? ", ..." : "");
			return;
		}
		s = &fo->svcs[idx];
	}
	switch (cmd->op) {
	case CONTROL_OP_STATUS:
		if (cmd->json) {
			mbuf_init(&mb);
			fo_status_json(fo, &mb);
			if (mb.failed) {
				control_reply(conn, CONTROL_E_FAILED, true,
				    "out of memory");
			} else {
				control_reply_text(conn, CONTROL_DATA,
				    mbuf_str(&mb), mb.len);
				control_reply(conn, CONTROL_OK, true, "ok");
			}
			mbuf_free(&mb);
		} else
			fo_status_table(fo, conn);
		return;
	case CONTROL_OP_DRAIN:
	case CONTROL_OP_UNDRAIN:
		pending = false;
		for (i = 0; i < fo->cfg->nservices; i++) {
			if (!cmd->all && i != idx)
				continue;
			fo_drain_one(fo, conn, &fo->svcs[i], cmd,
			    cmd->op == CONTROL_OP_DRAIN);
			if (fo->svcs[i].fsm.state == FSM_DRAINING)
				pending = true;
		}
		/* 0001: the drain goes on in the background. */
		control_reply(conn, pending ? CONTROL_OK_PENDING : CONTROL_OK,
		    true, pending ? "drain in progress; see status" : "ok");
		return;
	case CONTROL_OP_WEIGHT:
		before = s->w.announced;
		if (cmd->weight_auto ? weight_clear(&s->w) : weight_set(&s->w,
		    &svc_cfg(s)->weight, cmd->weight))
			fo_weight_changed(s, before, " by operator");
		fo_save_state(fo);
		control_reply(conn, CONTROL_OK, true, "%s: weight %u: %s",
		    svc_cfg(s)->name, s->w.announced, weight_explain(&s->w,
		    &svc_cfg(s)->weight, why, sizeof(why)));
		return;
	case CONTROL_OP_CHECK:
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			control_reply(conn, CONTROL_E_FAILED, true,
			    "out of memory");
			return;
		}
		p->conn = conn;
		p->service = idx;
		for (j = 0; j < svc_cfg(s)->nchecks; j++) {
			p->waiting[j] = true;
			p->left++;
		}
		p->next = fo->pending;
		fo->pending = p;
		/* Results may come back inside check_run_now (pid checks
		 * answer at once): the request is registered first. */
		for (j = 0; j < svc_cfg(s)->nchecks; j++)
			check_run_now(fo->checks[svc_cfg(s)->checks[j]].chk);
		return;
	case CONTROL_OP_RELOAD:
		if (fo_reload(fo, conn) == 0)
			control_reply(conn, CONTROL_OK, true,
			    "configuration reloaded");
		else
			control_reply(conn, CONTROL_E_FAILED, true,
			    "reload refused; the running configuration "
			    "stays");
		return;
	default:
		control_reply(conn, CONTROL_E_SYNTAX, true, "unsupported");
		return;
	}
}

/* ---- metrics ------------------------------------------------------- */

static void
render_metrics(struct mbuf *mb, void *arg)
{
	struct fo *fo = arg;
	const struct frr_stats *fs = frr_stats(fo->frr);
	char lab[256], name[160];
	int i, b, st;

	metrics_family(mb, "failoverd_service_state", "gauge",
	    "1 for the state each service is in");
	for (i = 0; i < fo->cfg->nservices; i++) {
		metrics_label_escape(name, sizeof(name),
		    fo->cfg->services[i].name);
		for (st = 0; st < FSM_STATE_MAX; st++) {
			snprintf(lab, sizeof(lab), "service=\"%s\","
			    "state=\"%s\"", name, fsm_state_name(st));
			metrics_value_u64(mb, "failoverd_service_state", lab,
			    fo->svcs[i].fsm.state == (enum fsm_state)st);
		}
	}
	metrics_family(mb, "failoverd_service_transitions_total", "counter",
	    "State changes per service");
	for (i = 0; i < fo->cfg->nservices; i++) {
		metrics_label_escape(name, sizeof(name),
		    fo->cfg->services[i].name);
		snprintf(lab, sizeof(lab), "service=\"%s\"", name);
		metrics_value_u64(mb, "failoverd_service_transitions_total",
		    lab, fo->svcs[i].transitions);
	}
	metrics_family(mb, "failoverd_service_weight", "gauge",
	    "Link-bandwidth weight announced per service");
	for (i = 0; i < fo->cfg->nservices; i++) {
		metrics_label_escape(name, sizeof(name),
		    fo->cfg->services[i].name);
		snprintf(lab, sizeof(lab), "service=\"%s\"", name);
		metrics_value_u64(mb, "failoverd_service_weight", lab,
		    fo->svcs[i].w.announced);
	}
	metrics_family(mb, "failoverd_check_results_total", "counter",
	    "Check verdicts by result");
	for (i = 0; i < fo->cfg->nchecks; i++) {
		if (fo->checks[i].chk == NULL)
			continue;
		metrics_label_escape(name, sizeof(name),
		    fo->cfg->checks[i].name);
		snprintf(lab, sizeof(lab), "check=\"%s\",result=\"ok\"", name);
		metrics_value_u64(mb, "failoverd_check_results_total", lab,
		    fo->checks[i].ok_total);
		snprintf(lab, sizeof(lab), "check=\"%s\",result=\"fail\"",
		    name);
		metrics_value_u64(mb, "failoverd_check_results_total", lab,
		    fo->checks[i].fail_total);
	}
	metrics_family(mb, "failoverd_check_latency_seconds", "histogram",
	    "Check attempt latency (round trip for probes)");
	for (i = 0; i < fo->cfg->nchecks; i++) {
		const struct fo_check *fc = &fo->checks[i];

		if (fc->chk == NULL)
			continue;
		metrics_label_escape(name, sizeof(name),
		    fo->cfg->checks[i].name);
		for (b = 0; b < LAT_BUCKETS; b++) {
			snprintf(lab, sizeof(lab), "check=\"%s\",le=\"%g\"",
			    name, lat_bounds_s[b]);
			metrics_value_u64(mb,
			    "failoverd_check_latency_seconds_bucket", lab,
			    fc->lat_bucket[b]);
		}
		snprintf(lab, sizeof(lab), "check=\"%s\",le=\"+Inf\"", name);
		metrics_value_u64(mb, "failoverd_check_latency_seconds_bucket",
		    lab, fc->lat_count);
		snprintf(lab, sizeof(lab), "check=\"%s\"", name);
		metrics_value(mb, "failoverd_check_latency_seconds_sum", lab,
		    fc->lat_sum_s);
		metrics_value_u64(mb, "failoverd_check_latency_seconds_count",
		    lab, fc->lat_count);
	}
	metrics_family(mb, "failoverd_frr_command_seconds", "histogram",
	    "bgpd vty command latency, send to status byte");
	for (b = 0; b < FRR_LAT_BUCKETS; b++) {
		if (frr_lat_bounds_us[b] == UINT64_MAX)
			snprintf(lab, sizeof(lab), "le=\"+Inf\"");
		else
			snprintf(lab, sizeof(lab), "le=\"%g\"",
			    (double)frr_lat_bounds_us[b] / 1e6);
		metrics_value_u64(mb, "failoverd_frr_command_seconds_bucket",
		    lab, fs->lat_bucket[b]);
	}
	if (frr_lat_bounds_us[FRR_LAT_BUCKETS - 1] != UINT64_MAX)
		metrics_value_u64(mb, "failoverd_frr_command_seconds_bucket",
		    "le=\"+Inf\"", fs->lat_count);
	metrics_value(mb, "failoverd_frr_command_seconds_sum", NULL,
	    (double)fs->lat_sum_us / 1e6);
	metrics_value_u64(mb, "failoverd_frr_command_seconds_count", NULL,
	    fs->lat_count);
	metrics_family(mb, "failoverd_frr_connected", "gauge",
	    "1 while the bgpd vty connection is up");
	metrics_value_u64(mb, "failoverd_frr_connected", NULL,
	    frr_connected(fo->frr));
	metrics_family(mb, "failoverd_frr_connects_total", "counter",
	    "Successful connections to bgpd (reconnects are the excess "
	    "over 1)");
	metrics_value_u64(mb, "failoverd_frr_connects_total", NULL,
	    fs->connects);
	metrics_family(mb, "failoverd_frr_errors_total", "counter",
	    "bgpd commands that failed");
	metrics_value_u64(mb, "failoverd_frr_errors_total", NULL, fs->errors);
	metrics_family(mb, "failoverd_control_requests_total", "counter",
	    "Control socket requests");
	metrics_value_u64(mb, "failoverd_control_requests_total", NULL,
	    control_requests(fo->ctl) + control_requests(fo->ctl_ro));
	metrics_family(mb, "failoverd_reloads_total", "counter",
	    "Configuration reloads, by result");
	metrics_value_u64(mb, "failoverd_reloads_total", "result=\"ok\"",
	    fo->reloads);
	metrics_value_u64(mb, "failoverd_reloads_total", "result=\"refused\"",
	    fo->reload_failures);
}

/* ---- set-up, reload, stop ------------------------------------------- */

static bool
fo_check_used(const struct fo_config *cfg, int idx)
{
	int i;
	size_t j;

	for (i = 0; i < cfg->nservices; i++)
		for (j = 0; j < cfg->services[i].nchecks; j++)
			if (cfg->services[i].checks[j] == idx)
				return true;
	return false;
}

static void
fo_start_checks(struct fo *fo)
{
	int i;

	for (i = 0; i < fo->cfg->nchecks; i++) {
		struct fo_check *fc = &fo->checks[i];

		fc->fo = fo;
		fc->idx = i;
		if (!fo_check_used(fo->cfg, i)) {
			log_warnx("check %s guards no service: not run",
			    fo->cfg->checks[i].name);
			continue;
		}
		fc->chk = check_new(fo->loop, &fo->cfg->checks[i],
		    on_check_result, fc);
	}
	for (i = 0; i < fo->cfg->nchecks; i++)
		if (fo->checks[i].chk != NULL)
			check_start(fo->checks[i].chk);
}

/* Sample the relay's load while the weight follows it. */
static void
fo_weight_poll(struct fo_service *s)
{
	const struct service_config *sc = svc_cfg(s);

	ev_timer_stop(s->fo->loop, &s->weight_poll);
	if (sc->weight.mode != WEIGHT_AUTO || !sc->weight.scale_with_load ||
	    s->stat == NULL)
		return;
	ev_timer_set(&s->weight_poll, 0., (double)sc->weight_poll_us / 1e6);
	ev_timer_start(s->fo->loop, &s->weight_poll);
}

static void
fo_init_service(struct fo *fo, int i, const struct state_entry *saved,
    int nsaved)
{
	struct fo_service *s = &fo->svcs[i];
	const struct service_config *sc = &fo->cfg->services[i];
	struct fsm_check_config cc[FSM_CHECKS_MAX];
	struct fsm_config fc;
	struct fsm_transition tr;
	char err[128];
	size_t j;
	int k;

	s->fo = fo;
	s->idx = i;
	weight_init(&s->w, &sc->weight);
	fc.hold_down_us = fo->cfg->hold_down_us;
	fc.drain_timeout_us = sc->drain_timeout_us;
	for (j = 0; j < sc->nchecks; j++) {
		cc[j].rise = fo->cfg->checks[sc->checks[j]].rise;
		cc[j].fall = fo->cfg->checks[sc->checks[j]].fall;
	}
	if (fsm_init(&s->fsm, &fc, cc, sc->nchecks, mono_us(), err,
	    sizeof(err)) == -1)
		fatalx("service %s: %s", sc->name, err);
	ev_timer_init(&s->fsm_timer, fsm_timer_cb, 0., 0.);
	s->fsm_timer.data = s;
	ev_timer_init(&s->drain_poll, drain_poll_cb, 0., 0.);
	s->drain_poll.data = s;
	ev_timer_init(&s->weight_poll, drain_poll_cb, 0., 0.);
	s->weight_poll.data = s;
	if (sc->has_relay_control)
		s->stat = relaystat_new(fo->loop, &sc->relay_control,
		    sc->drain_poll_us, on_relaystat, s);
	fo_weight_poll(s);
	for (k = 0; k < nsaved; k++) {
		if (strcmp(saved[k].service, sc->name) != 0)
			continue;
		if (saved[k].has_weight) {
			weight_set(&s->w, &sc->weight, saved[k].weight);
			log_info("service %s: weight %u restored from the "
			    "state file", sc->name, s->w.announced);
		}
		if (saved[k].drained &&
		    fsm_restore_drained(&s->fsm, mono_us(), &tr))
			fo_transition(s, &tr);
	}
}

static void
log_line(const char *line, void *arg)
{
	(void)arg;
	log_warnx("%s", line);
}

static void
print_line(const char *line, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

struct reload_ctx {
	struct control_conn	*conn;
};

static void
reload_line(const char *line, void *arg)
{
	struct reload_ctx *rc = arg;

	log_warnx("reload: %s", line);
	if (rc->conn != NULL)
		control_reply(rc->conn, CONTROL_E_FAILED, false, "%s", line);
}

/*
 * Reload: parse the file again; if it is valid and changes nothing that
 * needs a restart, swap it in. Checks whose settings changed restart (a
 * fresh attempt at once); the state machines keep their states, and only
 * their rise/fall, hold-down and drain timeout follow the new file.
 */
static int
fo_reload(struct fo *fo, struct control_conn *conn)
{
	struct fo_config *next, *old = fo->cfg;
	struct reload_ctx rc = { conn };
	char problems[512];
	uint32_t before;
	int i;
	size_t j;

	if ((next = malloc(sizeof(*next))) == NULL) {
		log_warnx("reload: out of memory");
		fo->reload_failures++;
		return -1;
	}
	if (config_load(fo->conffile, next, reload_line, &rc) == -1) {
		free(next);
		fo->reload_failures++;
		return -1;
	}
	if (config_reload_problems(old, next, problems,
	    sizeof(problems)) > 0) {
		reload_line("these settings need a restart:", &rc);
		reload_line(problems, &rc);
		free(next);
		fo->reload_failures++;
		return -1;
	}
	/* Same services and checks by position (config_reload_problems
	 * compared names), so indexes stay valid. */
	for (i = 0; i < old->nchecks; i++) {
		struct fo_check *fc = &fo->checks[i];
		bool changed = memcmp(&old->checks[i], &next->checks[i],
		    offsetof(struct check_config, argv)) != 0;

		if (fc->chk == NULL)
			continue;
		if (changed) {
			check_free(fc->chk);
			fc->chk = NULL;
		}
	}
	fo->cfg = next;
	for (i = 0; i < next->nchecks; i++) {
		struct fo_check *fc = &fo->checks[i];

		if (fc->chk != NULL) {
			/* Unchanged: point it at the new copy. */
			fc->chk->cfg = &next->checks[i];
			continue;
		}
		if (!fo_check_used(next, i))
			continue;
		fc->chk = check_new(fo->loop, &next->checks[i],
		    on_check_result, fc);
		check_start(fc->chk);
	}
	for (i = 0; i < next->nservices; i++) {
		struct fo_service *s = &fo->svcs[i];
		const struct service_config *sc = &next->services[i];

		s->fsm.hold_down_us = next->hold_down_us;
		s->fsm.drain_timeout_us = sc->drain_timeout_us;
		for (j = 0; j < sc->nchecks; j++) {
			s->fsm.checks[j].rise = next->checks[sc->checks[j]].rise;
			s->fsm.checks[j].fall = next->checks[sc->checks[j]].fall;
		}
		/* A weight setting that did not change keeps its automatic
		 * weight and history. */
		before = s->w.announced;
		if (memcmp(&old->services[i].weight, &sc->weight,
		    sizeof(sc->weight)) != 0 && weight_reconfigure(&s->w,
		    &sc->weight))
			fo_weight_changed(s, before, " by reload");
		relaystat_free(s->stat);
		s->stat = sc->has_relay_control ? relaystat_new(fo->loop,
		    &sc->relay_control, sc->drain_poll_us, on_relaystat, s) :
		    NULL;
		fo_weight_poll(s);
		fo_schedule(s);
	}
	log_set_level(next->log_level);
	free(old);
	fo->reloads++;
	log_info("configuration reloaded from %s", fo->conffile);
	return 0;
}

static void
hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	fo_reload(w->data, NULL);
}

static void
term_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct fo fo;
	struct state_entry saved[STATE_ENTRIES_MAX];
	const char *pidfile = NULL;
	char err[512];
	bool check = false, foreground = false;
	int ch, i, j, nsaved;

	while ((ch = getopt_long(argc, argv, "dnf:p:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'f':
			fo.conffile = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("failoverd %s\n", VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "failoverd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return 1;
	}
	if (fo.conffile == NULL) {
		fprintf(stderr, "failoverd: no configuration file (-f)\n");
		usage(stderr);
		return 1;
	}
	if ((fo.cfg = malloc(sizeof(*fo.cfg))) == NULL) {
		fprintf(stderr, "failoverd: out of memory\n");
		return 1;
	}
	if (check) {
		if (config_load(fo.conffile, fo.cfg, print_line, NULL) == -1)
			return 1;
		printf("configuration OK\n");
		return 0;
	}

	log_init("failoverd", true, LOG_LEVEL_INFO);
	if (config_load(fo.conffile, fo.cfg, log_line, NULL) == -1)
		return 1;
	log_set_level(fo.cfg->log_level);
	signal(SIGPIPE, SIG_IGN);
	fo.loop = ev_default_loop(EVFLAG_AUTO);
	fo.started_us = mono_us();

	/* Everything that can fail for a reason the operator must fix is
	 * opened before detaching, so the error lands on the terminal. */
	if (fo.cfg->anchor[0] != '\0' && anchor_open(&fo.anchor,
	    fo.cfg->anchor, err, sizeof(err)) == -1)
		fatalx("%s (fail-closed needs it; 'anchor: none' turns it "
		    "off)", err);
	fo.ctl = control_listen(fo.loop, fo.cfg->control_path,
	    fo.cfg->socket_mode, false, control_cb, &fo);
	fo.ctl_ro = control_listen(fo.loop, fo.cfg->status_path,
	    fo.cfg->socket_mode | 0006, true, control_cb, &fo);
	if (fo.ctl == NULL || fo.ctl_ro == NULL)
		fatalx("cannot open the control sockets");
	if (fo.cfg->metrics_enabled) {
		fo.metrics = metrics_open(fo.loop, &fo.cfg->metrics_listen,
		    render_metrics, &fo, err, sizeof(err));
		if (fo.metrics == NULL)
			fatalx("%s", err);
	}
	if (!foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("failoverd", false, fo.cfg->log_level);
		ev_loop_fork(fo.loop);
	}
	if (pidfile != NULL && pidfile_write(pidfile, getpid(), err,
	    sizeof(err)) == -1)
		fatalx("%s", err);

	fo.frr = frr_new(fo.loop, &fo.cfg->frr, on_frr_event, &fo);
	if (fo.frr == NULL)
		fatalx("cannot set up the FRR driver");
	for (i = 0; i < fo.cfg->nservices; i++)
		for (j = 0; j < fo.cfg->services[i].nvips; j++)
			if (frr_add_vip(fo.frr,
			    &fo.cfg->services[i].vips[j]) == -1)
				fatalx("too many VIPs");
	nsaved = state_load(fo.cfg->state_file, saved, STATE_ENTRIES_MAX,
	    err, sizeof(err));
	if (nsaved == -1) {
		log_warnx("state file ignored: %s", err);
		nsaved = 0;
	}
	for (i = 0; i < fo.cfg->nservices; i++)
		fo_init_service(&fo, i, saved, nsaved);
	frr_start(fo.frr);
	fo_start_checks(&fo);

	ev_signal_init(&fo.term_w, term_cb, SIGTERM);
	ev_signal_init(&fo.int_w, term_cb, SIGINT);
	ev_signal_init(&fo.hup_w, hup_cb, SIGHUP);
	fo.hup_w.data = &fo;
	ev_signal_start(fo.loop, &fo.term_w);
	ev_signal_start(fo.loop, &fo.int_w);
	ev_signal_start(fo.loop, &fo.hup_w);
	log_info("failoverd %s started: %d services, %d checks, bgpd at %s",
	    VERSION, fo.cfg->nservices, fo.cfg->nchecks,
	    fo.cfg->frr.vty_path);

	ev_run(fo.loop, 0);

	/* Clean stop: withdraw at once rather than wait for the anchor. */
	for (i = 0; i < fo.cfg->nchecks; i++)
		if (fo.checks[i].chk != NULL)
			check_free(fo.checks[i].chk);
	if (frr_withdraw_all_sync(fo.frr, STOP_WITHDRAW_US) == -1)
		log_warnx("bgpd did not confirm every withdraw; the anchor "
		    "takes the VIPs out of the RIB as this process ends");
	anchor_close(&fo.anchor);
	control_close(fo.ctl);
	control_close(fo.ctl_ro);
	if (fo.metrics != NULL)
		metrics_close(fo.metrics);
	for (i = 0; i < fo.cfg->nservices; i++)
		relaystat_free(fo.svcs[i].stat);
	frr_free(fo.frr);
	if (pidfile != NULL)
		pidfile_remove(pidfile, getpid());
	log_info("stopped");
	free(fo.cfg);
	return 0;
}
