/*
 * rtprelay: RTP relay with rtpengine-compatible ng control, safe latching
 * and a probe mirror for failoverd.
 *
 * main, the event loop, signals, configuration reload, the ng listeners,
 * the media timeout sweep and the metrics page.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "common/log.h"
#include "common/mono.h"
#include "common/yconf.h"
#include "relay/call.h"
#include "relay/config.h"
#include "relay/media.h"
#include "common/metrics.h"
#include "common/pidfile.h"
#include "relay/ng.h"
#include "relay/probe.h"
#include "relay/repl.h"
#include "relay/stats.h"

#define NG_DGRAM_MAX	65536

struct relay {
	const char		*conffile;
	struct relay_config	 cfg;
	struct ev_loop		*loop;
	struct relay_stats	 stats;
	struct call_table	 calls;
	struct media_engine	 media;
	struct ng_ctx		 ng;
	ev_io			 ng_w[RELAY_MAX_CONTROL];
	int			 nng;
	struct probe		*probe;
	struct metrics_server	*metrics;
	struct repl		*repl;		/* shared state, or NULL */
	ev_timer		 sweep_w;
	ev_signal		 term_w, int_w, hup_w;
	uint64_t		 last_packets, last_bytes;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: rtprelay [-dn] [-p pidfile] -f config.yaml\n"
	    "       rtprelay --help | --version\n"
	    "  -f FILE  configuration file (YAML)\n"
	    "  -n       check the configuration and exit\n"
	    "  -d       stay in the foreground and log to stderr\n"
	    "  -p FILE  write the process ID to FILE (failoverd's relay-process\n"
	    "           check reads it)\n"
	    "RTP relay driven by the rtpengine ng protocol; see "
	    "docs/relay.md.\n");
}

/*
 * Load and parse a configuration file and report every error: plainly on
 * stderr for -n (scripts compare that output), through the log otherwise.
 * 0 or -1.
 */
static int
relay_load_config(const char *file, struct relay_config *cfg, bool plain)
{
	struct yconf yc;
	int i, n;

	yconf_init(&yc, file);
	relay_config_defaults(cfg);
	if (yconf_load_file(&yc) == 0)
		relay_config_parse(cfg, &yc);
	n = yconf_nerrors(&yc);
	for (i = 0; i < n && i < YCONF_MAX_ERRORS; i++) {
		if (plain)
			fprintf(stderr, "%s\n", yconf_error(&yc, i));
		else
			log_errx("%s", yconf_error(&yc, i));
	}
	if (n > YCONF_MAX_ERRORS) {
		if (plain)
			fprintf(stderr, "%s: %d more errors not shown\n", file,
			    n - YCONF_MAX_ERRORS);
		else
			log_errx("%s: %d more errors not shown", file,
			    n - YCONF_MAX_ERRORS);
	}
	yconf_free(&yc);
	return n > 0 ? -1 : 0;
}

static void
ng_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	static char req[NG_DGRAM_MAX], rep[NG_DGRAM_MAX];
	struct relay *r = w->data;
	union sockaddr_any from;
	socklen_t fromlen;
	ssize_t n;
	size_t rlen;
	int i;

	(void)loop;
	(void)revents;
	for (i = 0; i < 16; i++) {
		fromlen = sizeof(from);
		n = recvfrom(w->fd, req, sizeof(req), MSG_DONTWAIT, &from.sa,
		    &fromlen);
		if (n < 0)
			return;
		r->ng.now_us = mono_us();
		r->ng.now_wall = (uint64_t)time(NULL);
		rlen = ng_handle(&r->ng, req, (size_t)n, rep,
		    NG_REPLY_MAX);
		if (rlen > 0 && sendto(w->fd, rep, rlen, MSG_DONTWAIT,
		    &from.sa, fromlen) == -1)
			log_warn("ng reply");
	}
}

static int
ng_listen(struct relay *r, const union sockaddr_any *sa)
{
	char a[ADDR_STRLEN];
	int fd, one = 1;

	fd = socket(sa->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (sa->sa.sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	/* No SO_REUSEADDR: on UDP it would let a second relay share the
	 * port silently instead of failing. */
	if (bind(fd, &sa->sa, sa_len(sa)) == -1) {
		log_warn("ng control %s: bind", sa_fmt(sa, a, sizeof(a)));
		close(fd);
		return -1;
	}
	ev_io_init(&r->ng_w[r->nng], ng_read_cb, fd, EV_READ);
	r->ng_w[r->nng].data = r;
	ev_io_start(r->loop, &r->ng_w[r->nng]);
	r->nng++;
	log_info("ng control listening on %s", sa_fmt(sa, a, sizeof(a)));
	return 0;
}

/*
 * How long call c has gone without media. With shared state a call's media
 * may flow through another relay: the call is idle only if no relay saw
 * media, so the relay that sees it publishes the time now and then (every
 * quarter of the timeout), and every relay counts from the latest.
 */
static uint64_t
sweep_idle(struct relay *r, struct call *c, uint64_t now, uint64_t wall)
{
	uint64_t idle = now - c->last_media_us, shared;

	if (r->repl == NULL)
		return idle;
	if (c->seen_us != 0 && now - c->seen_us < 2000000 &&
	    (c->act_ver.ver == 0 || wall < c->act_ver.ver ||
	    wall - c->act_ver.ver > r->cfg.media_timeout_us / 4))
		call_mark_dirty(&r->calls, c, CALL_DIRTY_ACT);
	if (c->act_ver.ver != 0) {
		shared = wall > c->act_ver.ver ? wall - c->act_ver.ver : 0;
		if (shared < idle)
			idle = shared;
	}
	return idle;
}

/* Once a second: end calls without media for media-timeout, and sample the
 * packet rate that failoverd reads to decide when a drain is complete. */
static void
sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay *r = w->data;
	struct call *c, *next;
	uint64_t now = mono_us(), wall = wall_us();

	(void)loop;
	(void)revents;
	r->ng.now_us = now;
	call_tomb_expire(&r->calls, now);
	for (c = r->calls.head; c != NULL; c = next) {
		next = c->next;
		if (sweep_idle(r, c, now, wall) > r->cfg.media_timeout_us)
			ng_call_end(&r->ng, c, "timeout");
	}
	r->stats.packet_rate = r->stats.packets - r->last_packets;
	r->stats.byte_rate = r->stats.bytes - r->last_bytes;
	r->last_packets = r->stats.packets;
	r->last_bytes = r->stats.bytes;
}

/* One unlabelled metric: its family lines and its value. */
struct metric_row {
	const char	*name;
	const char	*type;
	const char	*help;
	uint64_t	 value;
};

static void
render_rows(struct mbuf *m, const struct metric_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		metrics_family(m, rows[i].name, rows[i].type, rows[i].help);
		metrics_value_u64(m, rows[i].name, NULL, rows[i].value);
	}
}

static void
render_metrics(struct mbuf *m, void *arg)
{
	struct relay *r = arg;
	struct relay_stats *st = &r->stats;
	struct probe_stats ps;
	char labels[64];
	int i;
	const struct metric_row rows[] = {
		{ "rtprelay_calls", "gauge", "Calls in the table.",
		    r->calls.ncalls },
		{ "rtprelay_port_pairs_used", "gauge",
		    "Media port pairs in use.", r->calls.pairs_used },
		{ "rtprelay_port_pairs", "gauge",
		    "Media port pairs configured.", r->calls.npairs },
		{ "rtprelay_media_sockets", "gauge",
		    "Media sockets open (RTP, and RTCP where a leg does not "
		    "mux it).", r->media.sockets },
		{ "rtprelay_packets_total", "counter",
		    "Packets forwarded (every kind).", st->packets },
		{ "rtprelay_bytes_total", "counter", "Bytes forwarded.",
		    st->bytes },
		{ "rtprelay_rtcp_packets_total", "counter",
		    "RTCP packets forwarded.", st->rtcp_packets },
		{ "rtprelay_dtls_packets_total", "counter",
		    "DTLS datagrams forwarded.", st->dtls_packets },
		{ "rtprelay_zrtp_packets_total", "counter",
		    "ZRTP packets forwarded.", st->zrtp_packets },
		{ "rtprelay_keepalives_total", "counter",
		    "Keepalive packets consumed (RFC 6263 forms).",
		    st->keepalives },
		{ "rtprelay_latch_moves_total", "counter",
		    "Latches moved to a new source (same SSRC, sequence in "
		    "window).", st->latch_moves },
		{ "rtprelay_packet_rate", "gauge",
		    "Packets forwarded in the last second.", st->packet_rate },
		{ "rtprelay_ng_errors_total", "counter",
		    "ng requests answered with an error.", st->ng_errors },
		{ "rtprelay_ng_retransmits_total", "counter",
		    "ng requests answered from the cookie cache.",
		    st->ng_retransmits },
	};

	render_rows(m, rows, sizeof(rows) / sizeof(rows[0]));
	if (r->repl != NULL)
		repl_metrics(r->repl, m);
	metrics_family(m, "rtprelay_calls_total", "counter",
	    "Calls ended, by reason, and created.");
	metrics_value_u64(m, "rtprelay_calls_total", "event=\"created\"",
	    st->calls_created);
	metrics_value_u64(m, "rtprelay_calls_total", "event=\"deleted\"",
	    st->calls_deleted);
	metrics_value_u64(m, "rtprelay_calls_total", "event=\"expired\"",
	    st->calls_expired);
	metrics_family(m, "rtprelay_drops_total", "counter",
	    "Packets dropped, by reason.");
	for (i = LATCH_DROP_SPOOF; i < LATCH_VERDICT_MAX; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"",
		    latch_verdict_name(i));
		metrics_value_u64(m, "rtprelay_drops_total", labels,
		    st->verdicts[i]);
	}
	metrics_value_u64(m, "rtprelay_drops_total",
	    "reason=\"no_destination\"", st->no_destination);
	metrics_value_u64(m, "rtprelay_drops_total", "reason=\"send_error\"",
	    st->send_errors);
	metrics_family(m, "rtprelay_ng_requests_total", "counter",
	    "ng control requests, by command.");
	for (i = 0; i < NG_CMD_MAX; i++) {
		snprintf(labels, sizeof(labels), "command=\"%s\"",
		    ng_cmd_name(i));
		metrics_value_u64(m, "rtprelay_ng_requests_total", labels,
		    st->ng_requests[i]);
	}
	if (r->probe == NULL)
		return;
	probe_stats(r->probe, &ps);
	metrics_family(m, "rtprelay_probe_total", "counter",
	    "Probe mirror datagrams, by outcome.");
	metrics_value_u64(m, "rtprelay_probe_total", "outcome=\"replied\"",
	    ps.replied);
	metrics_value_u64(m, "rtprelay_probe_total", "outcome=\"dropped_acl\"",
	    ps.dropped_acl);
	metrics_value_u64(m, "rtprelay_probe_total",
	    "outcome=\"dropped_rate\"", ps.dropped_rate);
	metrics_value_u64(m, "rtprelay_probe_total",
	    "outcome=\"dropped_size\"", ps.dropped_size);
}

static void
hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct relay *r = w->data;
	struct relay_config next;
	char changed[256];

	(void)loop;
	(void)revents;
	log_info("SIGHUP: reloading %s", r->conffile);
	if (relay_load_config(r->conffile, &next, false) == -1) {
		log_warnx("reload failed: keeping the running configuration");
		return;
	}
	/* Keys that need a restart keep their running value. */
	if (relay_config_fixed_changes(&r->cfg, &next, changed,
	    sizeof(changed)) > 0)
		log_warnx("reload: %s changed; restart needed, keeping the "
		    "running value", changed);
	r->cfg.media_timeout_us = next.media_timeout_us;
	r->cfg.max_calls = next.max_calls;
	r->cfg.latch_seq_window = next.latch_seq_window;
	r->media.policy.seq_window = next.latch_seq_window;
	memcpy(r->cfg.probe_allow, next.probe_allow,
	    sizeof(r->cfg.probe_allow));
	r->cfg.nprobe_allow = next.nprobe_allow;
	r->cfg.probe_rate = next.probe_rate;
	r->cfg.log_level = next.log_level;
	log_set_level(next.log_level);
	if (r->probe != NULL)
		probe_reconfigure(r->probe, &r->cfg);
	log_info("reload done: %zu calls kept", r->calls.ncalls);
}

static void
term_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static bool
relay_ready(void *arg, char *why, size_t len)
{
	struct relay *r = arg;

	return repl_ready(r->repl, why, len);
}

static void
relay_call_ended(struct call *c, void *arg)
{
	struct relay *r = arg;

	repl_call_ended(r->repl, c);
}

/* Each leg needs two sockets: raise the descriptor limit as far as the
 * hard limit allows, and say what that means in calls. */
static void
raise_nofile(uint32_t max_calls)
{
	struct rlimit rl;

	rlim_t want = (rlim_t)max_calls * 4 + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	/* Root may raise the hard limit too; others get the hard limit. */
	if (rl.rlim_max < want) {
		struct rlimit up = { want, want };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)max_calls * 4 + 64)
		log_warnx("open files limit %llu allows about %llu calls, "
		    "max-calls is %u", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)(rl.rlim_cur - 64) / 4, max_calls);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct relay r;
	struct call_ops ops;
	char err[256];
	const char *pidfile = NULL;
	bool check = false, foreground = false;
	int ch, i;

	while ((ch = getopt_long(argc, argv, "dnf:p:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'f':
			r.conffile = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("rtprelay %s\n", VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rtprelay: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return 1;
	}
	if (r.conffile == NULL) {
		fprintf(stderr, "rtprelay: no configuration file (-f)\n");
		usage(stderr);
		return 1;
	}
	if (check) {
		if (relay_load_config(r.conffile, &r.cfg, true) == -1)
			return 1;
		printf("configuration OK\n");
		return 0;
	}

	log_init("rtprelay", true, LOG_LEVEL_INFO);
	if (relay_load_config(r.conffile, &r.cfg, false) == -1)
		return 1;
	log_set_level(r.cfg.log_level);
	raise_nofile(r.cfg.max_calls);
	signal(SIGPIPE, SIG_IGN);

	r.loop = ev_default_loop(EVFLAG_AUTO);
	media_engine_init(&r.media, r.loop, &r.stats, r.cfg.latch_seq_window);
	ops.open_leg = media_open_leg;
	ops.close_leg = media_close_leg;
	ops.rtcp = media_rtcp;
	ops.arg = &r.media;
	if (call_table_init(&r.calls, r.cfg.port_min, r.cfg.port_max,
	    &ops) == -1)
		fatalx("cannot allocate the call table");
	r.media.calls = &r.calls;
	ng_init(&r.ng, &r.calls, &r.cfg, &r.stats);
	r.ng.started_us = mono_us();
	for (i = 0; i < r.cfg.ncontrol; i++)
		if (ng_listen(&r, &r.cfg.control[i]) == -1)
			fatalx("cannot open the ng control socket");
	if (r.cfg.probe_enabled) {
		r.probe = probe_open(r.loop, &r.cfg, err, sizeof(err));
		if (r.probe == NULL)
			fatalx("%s", err);
	}
	if (r.cfg.metrics_enabled) {
		r.metrics = metrics_open(r.loop, &r.cfg.metrics_listen,
		    render_metrics, &r, err, sizeof(err));
		if (r.metrics == NULL)
			fatalx("%s", err);
	}
	/* Every socket is open before detaching, so a busy port or a bad
	 * address is reported on the terminal that started the relay. */
	if (!foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("rtprelay", false, r.cfg.log_level);
		ev_loop_fork(r.loop);
	}
	if (pidfile != NULL && pidfile_write(pidfile, getpid(), err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	if (r.cfg.redis_enabled) {
		if ((r.repl = repl_open(r.loop, &r.cfg, &r.calls, err,
		    sizeof(err))) == NULL)
			fatalx("shared state: %s", err);
		r.ng.ready = relay_ready;
		r.ng.ended = relay_call_ended;
		r.ng.hook_arg = &r;
	}
	ev_timer_init(&r.sweep_w, sweep_cb, 1.0, 1.0);
	r.sweep_w.data = &r;
	ev_timer_start(r.loop, &r.sweep_w);
	ev_signal_init(&r.term_w, term_cb, SIGTERM);
	ev_signal_init(&r.int_w, term_cb, SIGINT);
	ev_signal_init(&r.hup_w, hup_cb, SIGHUP);
	r.hup_w.data = &r;
	ev_signal_start(r.loop, &r.term_w);
	ev_signal_start(r.loop, &r.int_w);
	ev_signal_start(r.loop, &r.hup_w);
	log_info("rtprelay %s started: ports %u-%u, media timeout %" PRIu64
	    " s", VERSION, r.cfg.port_min, r.cfg.port_max,
	    r.cfg.media_timeout_us / 1000000);

	ev_run(r.loop, 0);

	/* Clean stop: close every socket so nothing lingers for a restart. */
	log_info("stopping: %zu calls dropped here%s", r.calls.ncalls,
	    r.repl != NULL ? " (they live on in the shared state)" : "");
	/* The table goes without deleting anything from the shared state. */
	repl_close(r.repl);
	call_table_free(&r.calls);
	ng_free(&r.ng);
	if (r.probe != NULL)
		probe_close(r.probe);
	if (r.metrics != NULL)
		metrics_close(r.metrics);
	for (i = 0; i < r.nng; i++)
		close(r.ng_w[i].fd);
	ev_loop_destroy(r.loop);
	if (pidfile != NULL)
		pidfile_remove(pidfile, getpid());
	return 0;
}
