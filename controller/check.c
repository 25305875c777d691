/*
 * The check engine: configuration of the common keys, scheduling, the
 * attempt deadline and result delivery. The kinds (check_*.c) only start
 * and cancel attempts.
 *
 * Scheduling is two ev_timers per check and nothing else: `interval'
 * repeats (libev keeps its phase, and after a stalled loop fires once,
 * never in a burst), `deadline' is armed per attempt. An attempt costs
 * two clock reads and a few timer heap operations, so hundreds of checks
 * at 10 ms cost little and idle checks at 1 s cost nothing measurable.
 *
 * Both timers run at a priority below the kinds' watchers (default 0):
 * when a stalled loop finds a reply and the deadline due in the same
 * iteration, libev would otherwise run the timer first (it invokes the
 * most recently queued event first) and fail an attempt whose answer had
 * arrived. Likewise a pidfd that turned readable is seen before the next
 * attempt starts.
 */
#include "controller/check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mono.h"
#include "common/parse.h"

const char *const check_kind_names[] = {
	[CHECK_RTP_PROBE] = "rtp-probe",
	[CHECK_RELAY_PROCESS] = "relay-process",
	[CHECK_NG_PING] = "ng-ping",
	[CHECK_UDP] = "udp",
	[CHECK_TCP] = "tcp",
	[CHECK_EXEC] = "exec",
	[CHECK_KIND_MAX] = NULL,
};

static const struct check_kind_ops *const check_ops[CHECK_KIND_MAX] = {
	[CHECK_RTP_PROBE] = &check_rtp_probe_ops,
	[CHECK_RELAY_PROCESS] = &check_relay_process_ops,
	[CHECK_NG_PING] = &check_ng_ping_ops,
	[CHECK_UDP] = &check_udp_ops,
	[CHECK_TCP] = &check_tcp_ops,
	[CHECK_EXEC] = &check_exec_ops,
};

static const char *const check_common_keys[] = {
	"kind", "interval", "timeout", "rise", "fall", NULL
};

/* Below the kinds' I/O watchers: see the top of the file. */
#define CHECK_TIMER_PRI	(-1)

/* Common keys plus the longest list of kind keys, plus the NULL. */
#define CHECK_KEYS_MAX	16

static void	check_interval_cb(struct ev_loop *, ev_timer *, int);
static void	check_deadline_cb(struct ev_loop *, ev_timer *, int);

const char *
check_kind_name(enum check_kind k)
{
	if ((unsigned int)k >= CHECK_KIND_MAX)
		return "unknown";
	return check_kind_names[k];
}

void
check_config_defaults(struct check_config *cc, enum check_kind kind)
{
	memset(cc, 0, sizeof(*cc));
	cc->kind = kind;
	cc->interval_us = CHECK_DEFAULT_INTERVAL_US;
	cc->timeout_us = CHECK_DEFAULT_INTERVAL_US / 2;
	cc->rise = CHECK_DEFAULT_RISE;
	cc->fall = CHECK_DEFAULT_FALL;
	snprintf(cc->process, sizeof(cc->process), "%s",
	    CHECK_DEFAULT_PROCESS);
}

/* Names reach log lines and the control protocol: keep them plain. */
static bool
check_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > CHECK_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-'))
			return false;
	}
	return true;
}

static void
check_parse_keys(struct yconf *yc, yaml_node_t *map, enum check_kind kind)
{
	const char *allowed[CHECK_KEYS_MAX];
	const char *const *kk = check_ops[kind]->keys;
	size_t n = 0, i;

	for (i = 0; check_common_keys[i] != NULL; i++)
		allowed[n++] = check_common_keys[i];
	for (i = 0; kk != NULL && kk[i] != NULL && n < CHECK_KEYS_MAX - 1;
	    i++)
		allowed[n++] = kk[i];
	allowed[n] = NULL;
	yconf_check_keys(yc, map, allowed);
}

int
check_config_parse(struct yconf *yc, const char *name, yaml_node_t *map,
    struct check_config *cc)
{
	char what[CHECK_NAME_MAX + 16], a[32], b[32];
	yaml_node_t *n, *tn;
	uint64_t v;
	int before = yconf_nerrors(yc), kind = -1;
	bool interval_ok = true;

	check_config_defaults(cc, CHECK_RTP_PROBE);
	snprintf(what, sizeof(what), "check '%.*s'", CHECK_NAME_MAX, name);
	if (!check_name_valid(name))
		yconf_errorf(yc, map, "check '%.*s': names are 1 to %d "
		    "characters of A-Z a-z 0-9 . _ -", CHECK_NAME_MAX, name,
		    CHECK_NAME_MAX);
	if (yconf_map(yc, map, what) == -1)
		return -1;

	if ((n = yconf_get(yc, map, "kind")) == NULL)
		yconf_errorf(yc, map, "%s: missing 'kind' (one of: rtp-probe, "
		    "relay-process, ng-ping, udp, tcp, exec)", what);
	else
		kind = yconf_enum(yc, n, "kind", check_kind_names);
	if (kind >= 0)
		check_config_defaults(cc, (enum check_kind)kind);
	snprintf(cc->name, sizeof(cc->name), "%s", name);
	/* An unknown kind has no key list to judge the others by. */
	if (kind >= 0)
		check_parse_keys(yc, map, (enum check_kind)kind);

	if ((n = yconf_get(yc, map, "interval")) != NULL &&
	    yconf_duration_us(yc, n, "interval", CHECK_INTERVAL_MIN_US,
	    CHECK_INTERVAL_MAX_US, &cc->interval_us) == -1)
		interval_ok = false;
	if ((tn = yconf_get(yc, map, "timeout")) == NULL)
		cc->timeout_us = cc->interval_us / 2;
	else if (yconf_duration_us(yc, tn, "timeout", CHECK_TIMEOUT_MIN_US,
	    CHECK_INTERVAL_MAX_US, &cc->timeout_us) == 0 && interval_ok &&
	    cc->timeout_us >= cc->interval_us)
		yconf_errorf(yc, tn, "timeout: %s must be below the interval "
		    "(%s)", duration_fmt(cc->timeout_us, a, sizeof(a)),
		    duration_fmt(cc->interval_us, b, sizeof(b)));
	if ((n = yconf_get(yc, map, "rise")) != NULL &&
	    yconf_u64(yc, n, "rise", 1, CHECK_RISEFALL_MAX, &v) == 0)
		cc->rise = (unsigned int)v;
	if ((n = yconf_get(yc, map, "fall")) != NULL &&
	    yconf_u64(yc, n, "fall", 1, CHECK_RISEFALL_MAX, &v) == 0)
		cc->fall = (unsigned int)v;

	if (kind >= 0)
		check_ops[kind]->parse(yc, map, cc);
	return yconf_nerrors(yc) > before ? -1 : 0;
}

yaml_node_t *
check_parse_need(struct yconf *yc, yaml_node_t *map,
    const struct check_config *cc, const char *key)
{
	yaml_node_t *n = yconf_get(yc, map, key);

	if (n == NULL)
		yconf_errorf(yc, map, "check '%s': missing '%s'", cc->name,
		    key);
	return n;
}

int
check_parse_target(struct yconf *yc, yaml_node_t *map,
    struct check_config *cc)
{
	yaml_node_t *tn, *sn;
	struct addr src;
	int rc = 0;

	if ((tn = check_parse_need(yc, map, cc, "target")) == NULL ||
	    yconf_hostport(yc, tn, "target", &cc->target) == -1)
		rc = -1;
	if ((sn = yconf_get(yc, map, "source")) == NULL)
		return rc;
	if (yconf_addr(yc, sn, "source", &src) == -1)
		return -1;
	sa_from_addr(&cc->source, &src, 0);
	cc->has_source = true;
	if (rc == 0 && src.af != cc->target.sa.sa_family) {
		yconf_errorf(yc, sn, "source: an IPv%c address for an IPv%c "
		    "target", src.af == AF_INET ? '4' : '6',
		    cc->target.sa.sa_family == AF_INET ? '4' : '6');
		return -1;
	}
	return rc;
}

int
check_parse_bytes(struct yconf *yc, yaml_node_t *map, const char *key,
    unsigned char *buf, size_t *len)
{
	yaml_node_t *n;
	const char *s;
	size_t sl;

	*len = 0;
	if ((n = yconf_get(yc, map, key)) == NULL)
		return 0;
	if (yconf_str(yc, n, key, &s) == -1)
		return -1;
	if ((sl = strlen(s)) > CHECK_PAYLOAD_MAX) {
		yconf_errorf(yc, n, "%s: %zu bytes, at most %d", key, sl,
		    CHECK_PAYLOAD_MAX);
		return -1;
	}
	memcpy(buf, s, sl);
	*len = sl;
	return 0;
}

const char *const check_exchange_keys[] = {
	"target", "source", "send", "expect", NULL
};

int
check_parse_exchange(struct yconf *yc, yaml_node_t *map,
    struct check_config *cc, bool need_send)
{
	int rc = 0;

	if (check_parse_target(yc, map, cc) == -1)
		rc = -1;
	if (need_send && check_parse_need(yc, map, cc, "send") == NULL)
		rc = -1;
	if (check_parse_bytes(yc, map, "send", cc->send, &cc->send_len) == -1)
		rc = -1;
	if (check_parse_bytes(yc, map, "expect", cc->expect,
	    &cc->expect_len) == -1)
		rc = -1;
	return rc;
}

void
check_printable(char *dst, size_t dstlen, const void *src, size_t srclen)
{
	const unsigned char *s = src;
	size_t i;

	if (dstlen == 0)
		return;
	for (i = 0; i < srclen && i < dstlen - 1; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	dst[i] = '\0';
}

int
check_sock_open(const struct check_config *cfg, int type, char *err,
    size_t errlen)
{
	char buf[ADDR_STRLEN];
	int fd, saved;

	fd = socket(cfg->target.sa.sa_family, type | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (cfg->has_source && bind(fd, &cfg->source.sa,
	    sa_len(&cfg->source)) == -1) {
		saved = errno;
		snprintf(err, errlen, "bind to %s: %s",
		    sa_fmt(&cfg->source, buf, sizeof(buf)), strerror(saved));
		close(fd);
		return -1;
	}
	if (connect(fd, &cfg->target.sa, sa_len(&cfg->target)) == -1 &&
	    errno != EINPROGRESS) {
		saved = errno;
		snprintf(err, errlen, "connect to %s: %s",
		    sa_fmt(&cfg->target, buf, sizeof(buf)), strerror(saved));
		close(fd);
		return -1;
	}
	return fd;
}

void *
check_priv_new(struct check *c, size_t size)
{
	void *p;

	if ((p = calloc(1, size)) == NULL)
		fatal("check %s", c->cfg->name);
	c->priv = p;
	return p;
}

void
check_sock_init(struct check_sock *s, struct check *c, bool keep,
    void (*cb)(struct ev_loop *, ev_io *, int), void *data)
{
	s->c = c;
	s->fd = -1;
	s->keep = keep;
	s->waiting = false;
	ev_io_init(&s->io, cb, -1, EV_READ);
	s->io.data = data;
}

void
check_sock_close(struct check_sock *s)
{
	s->waiting = false;
	if (s->fd == -1)
		return;
	ev_io_stop(s->c->loop, &s->io);
	close(s->fd);
	s->fd = -1;
}

int
check_sock_ready(struct check_sock *s, int type, int events)
{
	struct check *c = s->c;
	char err[CHECK_DETAIL_MAX];

	if (!s->keep)
		check_sock_close(s);
	if (s->fd != -1)
		return 0;
	if ((s->fd = check_sock_open(c->cfg, type, err, sizeof(err))) == -1) {
		check_done(c, false, false, "%s", err);
		return -1;
	}
	ev_io_set(&s->io, s->fd, events);
	ev_io_start(c->loop, &s->io);
	return 0;
}

int
check_sock_send(struct check_sock *s, const void *buf, size_t len)
{
	struct check *c = s->c;
	char sbuf[ADDR_STRLEN];
	ssize_t n;
	int saved;

	n = send(s->fd, buf, len, 0);
	/* A pending ICMP error belongs to an earlier packet: send again. */
	if (s->keep && n == -1 && errno == ECONNREFUSED)
		n = send(s->fd, buf, len, 0);
	if (n != (ssize_t)len) {
		saved = n == -1 ? errno : EMSGSIZE;
		/* Routes and addresses come back: start afresh next time. */
		if (!s->keep || (saved != EAGAIN && saved != ENOBUFS))
			check_sock_close(s);
		check_done(c, false, false, "send to %s: %s",
		    sa_fmt(&c->cfg->target, sbuf, sizeof(sbuf)),
		    strerror(saved));
		return -1;
	}
	s->waiting = true;
	return 0;
}

int
check_sock_recv(struct check_sock *s, void *buf, size_t len, size_t *np,
    const char *noreply)
{
	struct check *c = s->c;
	char sbuf[ADDR_STRLEN];
	ssize_t n;
	int saved;

	n = recv(s->fd, buf, len, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -1;
		if (errno == EINTR)
			return 0;
		/* An ICMP error: reading it cleared it. */
		saved = errno;
		if (!s->waiting || !c->busy)
			return 0;
		if (s->keep)
			s->waiting = false;
		else
			check_sock_close(s);
		check_done(c, false, false, "%s from %s: %s", noreply,
		    sa_fmt(&c->cfg->target, sbuf, sizeof(sbuf)),
		    strerror(saved));
		return -1;
	}
	if (!s->waiting || !c->busy)
		return 0;
	*np = (size_t)n;
	return 1;
}

void
check_sock_cancel(struct check_sock *s)
{
	if (s->keep)
		s->waiting = false;
	else
		check_sock_close(s);
}

struct check *
check_new(struct ev_loop *loop, const struct check_config *cfg,
    check_result_cb *cb, void *arg)
{
	struct check *c;

	if ((unsigned int)cfg->kind >= CHECK_KIND_MAX)
		fatalx("check %s: unknown kind %d", cfg->name, (int)cfg->kind);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("check %s", cfg->name);
	c->cfg = cfg;
	c->loop = loop;
	c->cb = cb;
	c->cb_arg = arg;
	c->ops = check_ops[cfg->kind];
	ev_timer_init(&c->interval, check_interval_cb, 0., 0.);
	ev_set_priority(&c->interval, CHECK_TIMER_PRI);
	c->interval.data = c;
	ev_timer_init(&c->deadline, check_deadline_cb, 0., 0.);
	ev_set_priority(&c->deadline, CHECK_TIMER_PRI);
	c->deadline.data = c;
	return c;
}

void
check_free(struct check *c)
{
	if (c == NULL)
		return;
	check_stop(c);
	free(c);
}

/* The next attempt at the next loop iteration, then every interval. */
static void
check_schedule_now(struct check *c)
{
	ev_timer_stop(c->loop, &c->interval);
	ev_timer_set(&c->interval, 0., (double)c->cfg->interval_us / 1e6);
	ev_timer_start(c->loop, &c->interval);
}

void
check_start(struct check *c)
{
	if (c->running)
		return;
	c->running = true;
	c->busy = false;
	c->start_failed = false;
	c->start_err[0] = '\0';
	c->priv = NULL;
	if (c->ops->start(c) == -1) {
		c->start_failed = true;
		if (c->start_err[0] == '\0')
			snprintf(c->start_err, sizeof(c->start_err),
			    "%s check cannot start", check_kind_name(
			    c->cfg->kind));
	}
	check_schedule_now(c);
}

void
check_stop(struct check *c)
{
	if (!c->running)
		return;
	ev_timer_stop(c->loop, &c->interval);
	ev_timer_stop(c->loop, &c->deadline);
	if (c->busy && !c->start_failed)
		c->ops->cancel(c);
	c->busy = false;
	if (!c->start_failed)
		c->ops->stop(c);
	c->priv = NULL;
	c->running = false;
}

void
check_run_now(struct check *c)
{
	if (!c->running || c->busy)
		return;
	check_schedule_now(c);
}

static void
check_attempt(struct check *c)
{
	c->busy = true;
	/*
	 * The loop's idea of "now" dates from before this iteration's
	 * callbacks; a deadline armed on it could fire early and fail a
	 * healthy relay. Refresh it (one clock read).
	 */
	ev_now_update(c->loop);
	c->attempt_us = mono_us();
	ev_timer_set(&c->deadline, (double)c->cfg->timeout_us / 1e6, 0.);
	ev_timer_start(c->loop, &c->deadline);
	if (c->start_failed) {
		check_done(c, false, false, "%s", c->start_err);
		return;
	}
	c->ops->attempt(c);
	/* c may be gone: the verdict can come at once and free it. */
}

static void
check_interval_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct check *c = w->data;

	(void)loop;
	(void)revents;
	/*
	 * Only when the loop stalled past both the deadline and the next
	 * slot in one go, with the deadline's turn still pending: skip
	 * this slot rather than overlap attempts.
	 */
	if (c->busy)
		return;
	check_attempt(c);
}

static void
check_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct check *c = w->data;
	char buf[32];

	(void)loop;
	(void)revents;
	if (!c->busy)
		return;
	if (!c->start_failed)
		c->ops->cancel(c);
	check_done(c, false, false, "timeout after %s",
	    duration_fmt(c->cfg->timeout_us, buf, sizeof(buf)));
}

void
check_done(struct check *c, bool ok, bool definite, const char *fmt, ...)
{
	struct check_result r;
	va_list ap;

	if (!c->running || (!c->busy && (ok || !definite)))
		return;
	memset(&r, 0, sizeof(r));
	r.ok = ok;
	r.definite = !ok && definite;
	r.at_us = mono_us();
	r.latency_us = c->busy ? r.at_us - c->attempt_us : 0;
	va_start(ap, fmt);
	vsnprintf(r.detail, sizeof(r.detail), fmt, ap);
	va_end(ap);
	if (c->busy) {
		c->busy = false;
		ev_timer_stop(c->loop, &c->deadline);
	}
	c->last = r;
	c->nresults++;
	if (!ok)
		c->nfail++;
	/* The callback gets a copy: it may free c. */
	c->cb(c, &r, c->cb_arg);
}
