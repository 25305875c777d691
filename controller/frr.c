/*
 * The FRR driver (see frr.h): bgpd's vty socket on libev, the vtysh
 * fallback, and the blocking withdraw for a clean stop. What to send next
 * is decided by frr_plan.c; this file only moves bytes, keeps time and
 * logs.
 *
 * One command is outstanding at a time. A sequence that fails halfway is
 * followed by "end" (bgpd leaves the session in the sub-node the failing
 * command ran in) before anything else is sent.
 */
#include "controller/frr.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mono.h"
#include "common/parse.h"
#include "controller/frr_plan.h"
#include "controller/vty.h"

#define FRR_DEFAULT_CMD_TIMEOUT_US	2000000ULL
#define FRR_DEFAULT_RECONNECT_MAX_US	5000000ULL
#define FRR_RECONNECT_MIN_US		100000ULL
/* bgpd's directory with -N, as FRR 8.4 builds it (DAEMON_VTY_DIR). */
#define FRR_VTY_DIR			"/var/run/frr"
/* vtysh output kept for the error message. */
#define FRR_CHILD_OUT_MAX		1024
/* vtysh argv: binary, -N, pathspace, then "-c cmd" pairs, then NULL. */
#define FRR_CHILD_ARGV_MAX		64

const uint64_t frr_lat_bounds_us[FRR_LAT_BUCKETS] = {
	250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000,
	1000000, UINT64_MAX
};

enum frr_conn {
	FRR_CONN_IDLE,		/* not started, or waiting to reconnect */
	FRR_CONN_CONNECTING,
	FRR_CONN_ENABLING,	/* "enable" sent */
	FRR_CONN_CHECKING,	/* running config asked: router bgp ASN? */
	FRR_CONN_READY,
	FRR_CONN_MAX
};

static const char *const frr_conn_names[] = {
	[FRR_CONN_IDLE] = "idle",
	[FRR_CONN_CONNECTING] = "connecting",
	[FRR_CONN_ENABLING] = "enabling",
	[FRR_CONN_CHECKING] = "checking",
	[FRR_CONN_READY] = "ready",
};

struct frr {
	struct ev_loop		*loop;
	struct frr_config	 cfg;
	frr_event_cb		*cb;
	void			*arg;
	struct frr_plan		 plan;
	bool			 started;

	/* The vty connection. */
	int			 fd;
	enum frr_conn		 conn;
	ev_io			 rw, ww;
	ev_timer		 cmd_w;		/* reply or connect deadline */
	ev_timer		 reconnect_w;
	ev_timer		 retry_w;	/* steps in backoff */
	uint64_t		 reconnect_us;	/* next reconnect delay */
	unsigned int		 connect_failures;	/* in a row */
	int			 connect_errno;	/* of the last failure */
	struct vty_reader	*rd;

	/* The sequence in flight on the socket. */
	bool			 busy;
	struct frr_step		 step;
	size_t			 off;		/* next command in step.cmds */
	const char		*cmd;		/* awaiting its reply */
	bool			 ending;	/* "end" after a failure */
	char			 wbuf[VTY_CMDS_MAX];
	size_t			 wlen, woff;
	uint64_t		 sent_us;

	/* The vtysh fallback. */
	pid_t			 child;		/* 0: none */
	ev_child		 child_w;
	ev_timer		 child_tw;
	ev_io			 child_rw;
	int			 child_fd;
	bool			 child_killed;
	struct frr_step		 child_step;
	char			 child_out[FRR_CHILD_OUT_MAX];
	size_t			 child_outlen;

	bool			 rep_connected, rep_synced;	/* reported */
	bool			 resyncing;	/* log the end of a resync */
	bool			 reset_pending;	/* frr_reset_sessions() */
	bool			 resetting;	/* "clear bgp *" in flight */
	struct frr_stats	 stats;
	char			 last_error[1024];
};

static void	frr_connect(struct frr *);
static void	frr_drop(struct frr *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	frr_pump(struct frr *);
static void	frr_notify(struct frr *);
static int	frr_send(struct frr *, const char *);

static const char *
frr_conn_name(enum frr_conn c)
{
	if ((unsigned int)c >= FRR_CONN_MAX)
		return "unknown";
	return frr_conn_names[c];
}

/* bgpd's text on one log line: control bytes become spaces, no trailer. */
static void
frr_clean_text(char *dst, size_t len, const char *src)
{
	size_t i, n = 0;

	if (len == 0)
		return;
	for (i = 0; src[i] != '\0' && n + 1 < len; i++)
		dst[n++] = (unsigned char)src[i] < 0x20 ||
		    (unsigned char)src[i] == 0x7f ? ' ' : src[i];
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

static void
frr_lat_record(struct frr *f, uint64_t us)
{
	int i;

	for (i = 0; i < FRR_LAT_BUCKETS; i++)
		if (us <= frr_lat_bounds_us[i])
			f->stats.lat_bucket[i]++;
	f->stats.lat_sum_us += us;
	f->stats.lat_count++;
}

static const char *
frr_vip_fmt(const struct frr *f, size_t vip, char *buf, size_t len)
{
	if (vip >= f->plan.nvips) {
		snprintf(buf, len, "?");
		return buf;
	}
	return prefix_fmt(&f->plan.vips[vip].prefix, buf, len);
}

/* "announce 198.51.100.10/32 route-map FO-BW100" and the like. */
static const char *
frr_step_fmt(const struct frr *f, const struct frr_step *s, char *buf,
    size_t len)
{
	char pfx[INET6_ADDRSTRLEN + 8];

	frr_vip_fmt(f, s->vip, pfx, sizeof(pfx));
	switch (s->kind) {
	case FRR_STEP_POLICY:
		snprintf(buf, len, "route-map %s (for %s)", s->rmap, pfx);
		break;
	case FRR_STEP_ANNOUNCE:
		snprintf(buf, len, "announce %s route-map %s", pfx, s->rmap);
		break;
	case FRR_STEP_WITHDRAW:
		snprintf(buf, len, "withdraw %s", pfx);
		break;
	default:
		snprintf(buf, len, "%s", frr_step_kind_name(s->kind));
		break;
	}
	return buf;
}

/*
 * A step ended, on the socket or in vtysh: record it in the plan and log
 * a failure once (the first in a row) and the recovery after it.
 */
static void
frr_step_result(struct frr *f, const struct frr_step *s, bool ok)
{
	char what[160];
	int n;

	n = frr_plan_done(&f->plan, s, ok, mono_us());
	frr_step_fmt(f, s, what, sizeof(what));
	if (n == -1)
		log_debug("frr: %s: result ignored (state forgotten since)",
		    what);
	else if (n == 1)
		log_warnx("frr: %s failed: %s; retrying with backoff", what,
		    f->last_error);
	else if (n > 1)
		log_debug("frr: %s failed again (%d in a row): %s", what, n,
		    f->last_error);
	else if (s->failures > 0)
		log_info("frr: %s done after %u failure(s)", what,
		    s->failures);
	else
		log_debug("frr: %s done", what);
}

static void
frr_schedule_reconnect(struct frr *f)
{
	ev_timer_stop(f->loop, &f->reconnect_w);
	ev_timer_set(&f->reconnect_w, (double)f->reconnect_us / 1e6, 0.);
	ev_timer_start(f->loop, &f->reconnect_w);
	f->reconnect_us *= 2;
	if (f->reconnect_us > f->cfg.reconnect_max_us)
		f->reconnect_us = f->cfg.reconnect_max_us;
}

/* Close the socket and forget the sequence in flight; no logging. */
static void
frr_close(struct frr *f)
{
	ev_io_stop(f->loop, &f->rw);
	ev_io_stop(f->loop, &f->ww);
	ev_timer_stop(f->loop, &f->cmd_w);
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	f->conn = FRR_CONN_IDLE;
	f->busy = false;
	f->ending = false;
	f->cmd = NULL;
}

/*
 * The connection is unusable: bgpd's state is unknown from here on, so
 * everything is re-applied after the next connect.
 */
static void
frr_drop(struct frr *f, const char *fmt, ...)
{
	char reason[384];
	va_list ap;
	bool was_up = f->conn == FRR_CONN_ENABLING ||
	    f->conn == FRR_CONN_CHECKING || f->conn == FRR_CONN_READY;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(f->last_error, sizeof(f->last_error), "%s", reason);
	frr_close(f);
	if (was_up) {
		f->stats.disconnects++;
		log_warnx("frr: bgpd vty %s: connection lost: %s; reconnecting",
		    f->cfg.vty_path, reason);
	}
	frr_plan_forget(&f->plan);
	ev_timer_stop(f->loop, &f->retry_w);
	f->resyncing = false;
	if (f->started)
		frr_schedule_reconnect(f);
	frr_notify(f);
}

static void
frr_connect_failed(struct frr *f, int err)
{
	frr_close(f);
	f->connect_errno = err;
	snprintf(f->last_error, sizeof(f->last_error),
	    "cannot connect to %s: %s", f->cfg.vty_path, strerror(err));
	if (++f->connect_failures == 1)
		log_warnx("frr: bgpd vty %s: cannot connect: %s; retrying "
		    "with backoff%s", f->cfg.vty_path, strerror(err),
		    f->cfg.vtysh[0] != '\0' && err != ENOENT &&
		    err != ECONNREFUSED ? ", vtysh fallback meanwhile" : "");
	else
		log_debug("frr: bgpd vty %s: cannot connect: %s (%u in a row)",
		    f->cfg.vty_path, strerror(err), f->connect_failures);
	frr_schedule_reconnect(f);
	/* The fallback, if any, takes over until the socket is back. */
	frr_pump(f);
}

static void
frr_sock_connected(struct frr *f)
{
	ev_timer_stop(f->loop, &f->cmd_w);
	ev_io_stop(f->loop, &f->ww);
	f->stats.connects++;
	f->conn = FRR_CONN_ENABLING;
	ev_io_set(&f->rw, f->fd, EV_READ);
	ev_io_start(f->loop, &f->rw);
	frr_send(f, VTY_CMD_ENABLE);
}

static void
frr_connect(struct frr *f)
{
	struct sockaddr_un sun;
	int fd;

	if (f->conn != FRR_CONN_IDLE)
		return;
	ev_timer_stop(f->loop, &f->reconnect_w);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->cfg.vty_path, strlen(f->cfg.vty_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		frr_connect_failed(f, errno);
		return;
	}
	f->fd = fd;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		frr_sock_connected(f);
		return;
	}
	if (errno != EINPROGRESS) {
		/* EAGAIN here means bgpd's listen backlog is full. */
		frr_connect_failed(f, errno);
		return;
	}
	f->conn = FRR_CONN_CONNECTING;
	ev_io_set(&f->ww, fd, EV_WRITE);
	ev_io_start(f->loop, &f->ww);
	ev_timer_set(&f->cmd_w, (double)f->cfg.cmd_timeout_us / 1e6, 0.);
	ev_timer_start(f->loop, &f->cmd_w);
}

/* Write what is left of wbuf; -1 after dropping the connection. */
static int
frr_flush(struct frr *f)
{
	ssize_t n;

	while (f->woff < f->wlen) {
		n = send(f->fd, f->wbuf + f->woff, f->wlen - f->woff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ev_io_set(&f->ww, f->fd, EV_WRITE);
				ev_io_start(f->loop, &f->ww);
				return 0;
			}
			frr_drop(f, "write: %s", strerror(errno));
			return -1;
		}
		f->woff += (size_t)n;
	}
	ev_io_stop(f->loop, &f->ww);
	return 0;
}

static int
frr_send(struct frr *f, const char *cmd)
{
	size_t len = strlen(cmd) + 1;	/* the NUL ends the command */

	if (len > sizeof(f->wbuf)) {
		frr_drop(f, "command too long");
		return -1;
	}
	memcpy(f->wbuf, cmd, len);
	f->wlen = len;
	f->woff = 0;
	f->cmd = cmd;
	vty_reader_reset(f->rd);
	log_debug("frr: bgpd <- %s", cmd);
	f->sent_us = mono_us();
	ev_timer_stop(f->loop, &f->cmd_w);
	ev_timer_set(&f->cmd_w, (double)f->cfg.cmd_timeout_us / 1e6, 0.);
	ev_timer_start(f->loop, &f->cmd_w);
	return frr_flush(f);
}

static void
frr_sock_step_end(struct frr *f, bool ok)
{
	struct frr_step s = f->step;

	f->busy = false;
	f->ending = false;
	f->cmd = NULL;
	if (f->resetting) {
		f->resetting = false;
		if (ok)
			log_info("frr: BGP sessions reset: peers drop this "
			    "host's routes without waiting for an UPDATE");
		else
			log_warnx("frr: 'clear bgp *' failed: %s",
			    f->last_error);
	} else
		frr_step_result(f, &s, ok);
	frr_pump(f);
}

static void
frr_reply(struct frr *f)
{
	const struct vty_reader *rd = f->rd;
	const char *cmd = f->cmd, *next;
	char text[256];
	uint64_t lat;

	lat = mono_us() - f->sent_us;
	frr_lat_record(f, lat);
	f->stats.commands++;
	f->cmd = NULL;
	ev_timer_stop(f->loop, &f->cmd_w);
	log_debug("frr: bgpd -> %s (%d) in %llu us", vty_status_name(rd->status),
	    rd->status, (unsigned long long)lat);

	if (f->conn == FRR_CONN_ENABLING) {
		if (rd->status != VTY_ST_SUCCESS) {
			frr_clean_text(text, sizeof(text), rd->text);
			frr_drop(f, "'enable' refused: %s: %s",
			    vty_status_name(rd->status), text);
			return;
		}
		f->conn = FRR_CONN_CHECKING;
		frr_send(f, VTY_CMD_SHOW_CONFIG);
		return;
	}
	if (f->conn == FRR_CONN_CHECKING) {
		if (rd->status != VTY_ST_SUCCESS ||
		    !vty_config_has_bgp(rd->text, f->cfg.asn)) {
			frr_drop(f, "bgpd's configuration has no 'router bgp "
			    "%llu' (not loaded yet, or another AS): not "
			    "touching it", (unsigned long long)f->cfg.asn);
			return;
		}
		f->conn = FRR_CONN_READY;
		f->reconnect_us = FRR_RECONNECT_MIN_US;
		if (f->connect_failures > 0)
			log_info("frr: bgpd vty %s: connected after %u failed "
			    "attempt(s); resyncing %zu VIP(s)", f->cfg.vty_path,
			    f->connect_failures, f->plan.nvips);
		else
			log_info("frr: bgpd vty %s: connected; resyncing %zu "
			    "VIP(s)", f->cfg.vty_path, f->plan.nvips);
		f->connect_failures = 0;
		/* Whatever happened before (vtysh, a bgpd restart), the
		 * running config is unknown now. */
		frr_plan_forget(&f->plan);
		f->resyncing = true;
		frr_pump(f);
		return;
	}
	if (f->ending) {
		frr_sock_step_end(f, false);
		return;
	}
	if (!frr_plan_reply_ok(cmd, rd->status, rd->text)) {
		frr_clean_text(text, sizeof(text), rd->text);
		snprintf(f->last_error, sizeof(f->last_error),
		    "bgpd answered '%s' with %s: %s", cmd,
		    vty_status_name(rd->status), text[0] ? text : "(no text)");
		f->stats.errors++;
		if (strcmp(cmd, "end") == 0) {
			frr_sock_step_end(f, false);
			return;
		}
		/* Leave whatever sub-node the command failed in. */
		f->ending = true;
		frr_send(f, "end");
		return;
	}
	next = vty_cmds_next(f->step.cmds, &f->off);
	if (next == NULL) {
		frr_sock_step_end(f, true);
		return;
	}
	frr_send(f, next);
}

static void
frr_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct frr *f = w->data;
	char buf[4096], err[160];
	size_t used;
	ssize_t n;
	int r;

	(void)loop;
	(void)revents;
	n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0) {
		frr_drop(f, "bgpd closed the connection");
		return;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		frr_drop(f, "read: %s", strerror(errno));
		return;
	}
	if (f->cmd == NULL) {
		frr_drop(f, "%zd bytes from bgpd with no command outstanding",
		    n);
		return;
	}
	r = vty_reader_feed(f->rd, buf, (size_t)n, &used, err, sizeof(err));
	if (r == -1) {
		frr_drop(f, "reply framing: %s", err);
		return;
	}
	if (r == 0)
		return;
	if (used < (size_t)n) {
		frr_drop(f, "%zu bytes after the reply to '%s'",
		    (size_t)n - used, f->cmd);
		return;
	}
	frr_reply(f);
}

static void
frr_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct frr *f = w->data;
	socklen_t sl;
	int err;

	(void)loop;
	(void)revents;
	if (f->conn == FRR_CONN_CONNECTING) {
		err = 0;
		sl = sizeof(err);
		if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
			err = errno;
		if (err != 0)
			frr_connect_failed(f, err);
		else
			frr_sock_connected(f);
		return;
	}
	frr_flush(f);
}

static void
frr_cmd_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct frr *f = w->data;
	char d[32];

	(void)loop;
	(void)revents;
	if (f->conn == FRR_CONN_CONNECTING) {
		frr_connect_failed(f, ETIMEDOUT);
		return;
	}
	frr_drop(f, "no reply to '%s' within %s",
	    f->cmd != NULL ? f->cmd : "?",
	    duration_fmt(f->cfg.cmd_timeout_us, d, sizeof(d)));
}

static void
frr_reconnect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	frr_connect(w->data);
}

static void
frr_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	frr_pump(w->data);
}

/* Keep the first FRR_CHILD_OUT_MAX - 1 bytes of vtysh's output. */
static void
frr_child_read(struct frr *f)
{
	char buf[1024];
	size_t room;
	ssize_t n;

	while (f->child_fd != -1) {
		n = read(f->child_fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			ev_io_stop(f->loop, &f->child_rw);
			close(f->child_fd);
			f->child_fd = -1;
			return;
		}
		room = sizeof(f->child_out) - 1 - f->child_outlen;
		if ((size_t)n > room)
			n = (ssize_t)room;
		memcpy(f->child_out + f->child_outlen, buf, (size_t)n);
		f->child_outlen += (size_t)n;
		f->child_out[f->child_outlen] = '\0';
	}
}

static void
frr_child_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	frr_child_read(w->data);
}

static void
frr_child_exit_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct frr *f = w->data;
	char text[256];
	int status = w->rstatus, code;
	bool ok;

	(void)loop;
	(void)revents;
	ev_child_stop(EV_DEFAULT, &f->child_w);
	ev_timer_stop(f->loop, &f->child_tw);
	frr_child_read(f);
	if (f->child_fd != -1) {
		/* Whatever a grandchild still holds open is not waited for. */
		ev_io_stop(f->loop, &f->child_rw);
		close(f->child_fd);
		f->child_fd = -1;
	}
	f->child = 0;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	ok = !f->child_killed &&
	    frr_plan_vtysh_ok(&f->child_step, code, f->child_out);
	if (!ok) {
		f->stats.errors++;
		frr_clean_text(text, sizeof(text), f->child_out);
		if (f->child_killed)
			snprintf(f->last_error, sizeof(f->last_error),
			    "%s: killed after the command timeout",
			    f->cfg.vtysh);
		else if (WIFSIGNALED(status))
			snprintf(f->last_error, sizeof(f->last_error),
			    "%s: killed by signal %d: %s", f->cfg.vtysh,
			    WTERMSIG(status), text);
		else
			snprintf(f->last_error, sizeof(f->last_error),
			    "%s: exit %d: %s", f->cfg.vtysh, code, text);
	}
	frr_step_result(f, &f->child_step, ok);
	frr_pump(f);
}

static void
frr_child_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct frr *f = w->data;

	(void)loop;
	(void)revents;
	if (f->child > 0) {
		f->child_killed = true;
		kill(f->child, SIGKILL);
	}
}

/*
 * Run one step as `vtysh [-N pathspace] -c cmd ...' (no shell). The exit
 * is seen by ev_child on the default loop, which libev reaps for us.
 */
static void
frr_vtysh_run(struct frr *f, const struct frr_step *s)
{
	char *argv[FRR_CHILD_ARGV_MAX];
	const char *c;
	size_t off = 0;
	sigset_t all;
	int n = 0, p[2], devnull;
	pid_t pid;

	argv[n++] = f->cfg.vtysh;
	if (f->cfg.pathspace[0] != '\0') {
		argv[n++] = (char *)(uintptr_t)"-N";
		argv[n++] = f->cfg.pathspace;
	}
	while ((c = vty_cmds_next(s->cmds, &off)) != NULL) {
		if (n + 3 > FRR_CHILD_ARGV_MAX) {
			snprintf(f->last_error, sizeof(f->last_error),
			    "vtysh: sequence has too many commands");
			frr_step_result(f, s, false);
			return;
		}
		argv[n++] = (char *)(uintptr_t)"-c";
		argv[n++] = (char *)(uintptr_t)c;
	}
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(f->last_error, sizeof(f->last_error), "vtysh: pipe: %s",
		    strerror(errno));
		frr_step_result(f, s, false);
		return;
	}
	f->child_step = *s;
	pid = fork();
	if (pid == 0) {
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		devnull = open("/dev/null", O_RDONLY);
		if (devnull != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		snprintf(f->last_error, sizeof(f->last_error), "vtysh: fork: %s",
		    strerror(errno));
		frr_step_result(f, s, false);
		return;
	}
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	f->child = pid;
	f->child_fd = p[0];
	f->child_killed = false;
	f->child_outlen = 0;
	f->child_out[0] = '\0';
	f->stats.fallback_runs++;
	ev_io_set(&f->child_rw, p[0], EV_READ);
	ev_io_start(f->loop, &f->child_rw);
	ev_child_set(&f->child_w, pid, 0);
	ev_child_start(EV_DEFAULT, &f->child_w);
	/* vtysh costs tens of ms per run plus one bgpd reply per command. */
	ev_timer_set(&f->child_tw, (double)f->cfg.cmd_timeout_us * 2 / 1e6,
	    0.);
	ev_timer_start(f->loop, &f->child_tw);
	log_debug("frr: vtysh pid %ld runs %d command(s)", (long)pid,
	    s->ncmds);
}

/*
 * Start the next step if the way to bgpd is free: the socket when it is
 * ready, vtysh (if configured) while the socket is waiting to reconnect.
 * Called after every event that can make work possible.
 */
static bool
frr_any_wanted(const struct frr *f)
{
	size_t i;

	for (i = 0; i < f->plan.nvips; i++)
		if (f->plan.vips[i].desired.ann != FRR_WITHDRAWN)
			return true;
	return false;
}

void
frr_reset_sessions(struct frr *f)
{
	if (frr_any_wanted(f)) {
		log_info("frr: session reset not done: a VIP is still wanted "
		    "announced");
		return;
	}
	f->reset_pending = true;
	frr_pump(f);
}

static void
frr_pump(struct frr *f)
{
	struct frr_step s;
	char err[256];
	uint64_t now;
	bool sock;

	if (!f->started || f->busy || f->child != 0) {
		frr_notify(f);
		return;
	}
	sock = f->conn == FRR_CONN_READY;
	/*
	 * vtysh only once the socket has refused us, not between a lost
	 * connection and the reconnect that usually follows at once; and
	 * never when bgpd is simply not there (no socket, nobody listening):
	 * vtysh would fail too, or worse, reach a bgpd that has just started
	 * without its configuration and create `router bgp' in it. What the
	 * fallback is for is a socket failoverd may not open (permissions).
	 */
	if (!sock && !(f->conn == FRR_CONN_IDLE && f->cfg.vtysh[0] != '\0' &&
	    f->connect_failures > 0 && f->connect_errno != ENOENT &&
	    f->connect_errno != ECONNREFUSED)) {
		frr_notify(f);
		return;
	}
	now = mono_us();
	if (frr_plan_next(&f->plan, now, &s, err, sizeof(err)) == -1) {
		/* The setters validated everything: a bug, not bgpd. */
		log_warnx("frr: cannot build the next sequence: %s", err);
		frr_notify(f);
		return;
	}
	if (sock && f->reset_pending && (s.kind == FRR_STEP_NONE ||
	    s.kind == FRR_STEP_WAIT)) {
		/* Every withdraw is acknowledged: now end the sessions. */
		f->reset_pending = false;
		if (frr_any_wanted(f)) {
			log_info("frr: session reset skipped: a VIP is wanted "
			    "announced again");
		} else {
			memset(&f->step, 0, sizeof(f->step));
			snprintf(f->step.cmds, sizeof(f->step.cmds), "%s%c",
			    "clear bgp *", '\0');
			f->step.ncmds = 1;
			f->busy = true;
			f->resetting = true;
			f->ending = false;
			f->off = 0;
			if (frr_send(f, vty_cmds_next(f->step.cmds,
			    &f->off)) == -1)
				return;
			frr_notify(f);
			return;
		}
	}
	switch (s.kind) {
	case FRR_STEP_NONE:
		ev_timer_stop(f->loop, &f->retry_w);
		break;
	case FRR_STEP_WAIT:
		ev_timer_stop(f->loop, &f->retry_w);
		ev_timer_set(&f->retry_w, (double)(s.wait_until_us - now) / 1e6,
		    0.);
		ev_timer_start(f->loop, &f->retry_w);
		break;
	default:
		if (!sock) {
			frr_vtysh_run(f, &s);
			break;
		}
		f->step = s;
		f->busy = true;
		f->ending = false;
		f->off = 0;
		if (frr_send(f, vty_cmds_next(f->step.cmds, &f->off)) == -1)
			return;	/* dropped, and notified */
		break;
	}
	frr_notify(f);
}

static bool
frr_is_synced(const struct frr *f)
{
	return f->started && !f->busy && f->child == 0 &&
	    frr_plan_synced(&f->plan);
}

/* Report a change of connected/synced, and log the end of a resync once. */
static void
frr_notify(struct frr *f)
{
	bool c = frr_connected(f), s = frr_is_synced(f);
	size_t i, ann = 0;

	if (s && f->resyncing) {
		f->resyncing = false;
		for (i = 0; i < f->plan.nvips; i++)
			if (f->plan.vips[i].applied.ann != FRR_WITHDRAWN)
				ann++;
		log_info("frr: bgpd synced: %zu VIP(s), %zu announced",
		    f->plan.nvips, ann);
	}
	if (c == f->rep_connected && s == f->rep_synced)
		return;
	f->rep_connected = c;
	f->rep_synced = s;
	if (f->cb != NULL)
		f->cb(f, f->arg);
}

struct frr *
frr_new(struct ev_loop *loop, const struct frr_config *cfg,
    frr_event_cb *cb, void *arg)
{
	struct frr *f;
	char err[256];
	int n;

	if (strchr(cfg->pathspace, '/') != NULL ||
	    strchr(cfg->pathspace, '.') != NULL) {
		/* FRR refuses these too (lib/libfrr.c, -N). */
		log_warnx("frr: pathspace must not contain '/' or '.'");
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("frr: calloc");
	if ((f->rd = malloc(sizeof(*f->rd))) == NULL)
		fatal("frr: malloc");
	f->loop = loop;
	f->cfg = *cfg;
	f->cb = cb;
	f->arg = arg;
	f->fd = -1;
	f->child_fd = -1;
	if (f->cfg.cmd_timeout_us == 0)
		f->cfg.cmd_timeout_us = FRR_DEFAULT_CMD_TIMEOUT_US;
	if (f->cfg.reconnect_max_us == 0)
		f->cfg.reconnect_max_us = FRR_DEFAULT_RECONNECT_MAX_US;
	if (f->cfg.reconnect_max_us < FRR_RECONNECT_MIN_US)
		f->cfg.reconnect_max_us = FRR_RECONNECT_MIN_US;
	if (f->cfg.vty_path[0] == '\0') {
		if (f->cfg.pathspace[0] != '\0')
			n = snprintf(f->cfg.vty_path, sizeof(f->cfg.vty_path),
			    FRR_VTY_DIR "/%s/bgpd.vty", f->cfg.pathspace);
		else
			n = snprintf(f->cfg.vty_path, sizeof(f->cfg.vty_path),
			    FRR_VTY_DIR "/bgpd.vty");
		if (n < 0 || (size_t)n > FRR_PATH_MAX) {
			log_warnx("frr: vty path for pathspace %s is too long",
			    f->cfg.pathspace);
			goto fail;
		}
	}
	if (strlen(f->cfg.vty_path) > FRR_PATH_MAX) {
		log_warnx("frr: vty path longer than %d bytes", FRR_PATH_MAX);
		goto fail;
	}
	if (frr_plan_init(&f->plan, cfg->asn, f->cfg.reconnect_max_us, err,
	    sizeof(err)) == -1) {
		log_warnx("frr: %s", err);
		goto fail;
	}
	f->reconnect_us = FRR_RECONNECT_MIN_US;
	ev_io_init(&f->rw, frr_read_cb, -1, EV_READ);
	ev_io_init(&f->ww, frr_write_cb, -1, EV_WRITE);
	ev_timer_init(&f->cmd_w, frr_cmd_timeout_cb, 0., 0.);
	ev_timer_init(&f->reconnect_w, frr_reconnect_cb, 0., 0.);
	ev_timer_init(&f->retry_w, frr_retry_cb, 0., 0.);
	ev_child_init(&f->child_w, frr_child_exit_cb, 0, 0);
	ev_timer_init(&f->child_tw, frr_child_timeout_cb, 0., 0.);
	ev_io_init(&f->child_rw, frr_child_read_cb, -1, EV_READ);
	f->rw.data = f->ww.data = f->cmd_w.data = f;
	f->reconnect_w.data = f->retry_w.data = f;
	f->child_w.data = f->child_tw.data = f->child_rw.data = f;
	return f;
fail:
	free(f->rd);
	free(f);
	return NULL;
}

void
frr_free(struct frr *f)
{
	if (f == NULL)
		return;
	frr_close(f);
	ev_timer_stop(f->loop, &f->reconnect_w);
	ev_timer_stop(f->loop, &f->retry_w);
	if (f->child > 0) {
		ev_child_stop(EV_DEFAULT, &f->child_w);
		ev_timer_stop(f->loop, &f->child_tw);
		kill(f->child, SIGKILL);
		/* libev may already have reaped it: ECHILD is fine. */
		waitpid(f->child, NULL, 0);
	}
	if (f->child_fd != -1) {
		ev_io_stop(f->loop, &f->child_rw);
		close(f->child_fd);
	}
	free(f->rd);
	free(f);
}

int
frr_add_vip(struct frr *f, const struct prefix *vip)
{
	char err[256];

	if (frr_plan_add_vip(&f->plan, vip, err, sizeof(err)) == -1) {
		log_warnx("frr: %s", err);
		return -1;
	}
	frr_pump(f);
	return 0;
}

void
frr_start(struct frr *f)
{
	if (f->started)
		return;
	f->started = true;
	f->resyncing = true;
	frr_connect(f);
	frr_notify(f);
}

int
frr_set(struct frr *f, const struct prefix *vip, enum frr_ann ann,
    uint32_t weight_bw)
{
	char err[256], pfx[INET6_ADDRSTRLEN + 8];
	int i, r;

	if ((i = frr_plan_find(&f->plan, vip)) == -1) {
		log_warnx("frr: VIP %s is not registered",
		    prefix_fmt(vip, pfx, sizeof(pfx)));
		return -1;
	}
	r = frr_plan_set(&f->plan, (size_t)i, ann, weight_bw, err,
	    sizeof(err));
	if (r == -1) {
		log_warnx("frr: VIP %s: %s", prefix_fmt(vip, pfx, sizeof(pfx)),
		    err);
		return -1;
	}
	if (r == 1) {
		log_debug("frr: VIP %s wanted %s weight %lu",
		    prefix_fmt(vip, pfx, sizeof(pfx)),
		    frr_ann_names[ann], (unsigned long)weight_bw);
		frr_pump(f);
	}
	return 0;
}

/* Time left until deadline in poll() milliseconds (at least 1 if any). */
static int
frr_ms_left(uint64_t deadline)
{
	uint64_t now = mono_us();

	if (now >= deadline)
		return 0;
	return (int)((deadline - now + 999) / 1000);
}

/* One command on a blocking path: 0 with the reply in f->rd, or -1. */
static int
frr_sync_cmd(struct frr *f, int fd, const char *cmd, uint64_t deadline,
    char *err, size_t errlen)
{
	struct pollfd pfd;
	size_t len = strlen(cmd) + 1, off = 0, used;
	char buf[4096];
	uint64_t t0 = mono_us();
	ssize_t n;
	int r, ms;

	vty_reader_reset(f->rd);
	pfd.fd = fd;
	while (off < len) {
		n = send(fd, cmd + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			return -1;
		}
		pfd.events = POLLOUT;
		if ((ms = frr_ms_left(deadline)) == 0 ||
		    (poll(&pfd, 1, ms) == -1 && errno != EINTR)) {
			snprintf(err, errlen, "timeout writing '%s'", cmd);
			return -1;
		}
	}
	for (;;) {
		pfd.events = POLLIN;
		if ((ms = frr_ms_left(deadline)) == 0) {
			snprintf(err, errlen, "no reply to '%s' in time", cmd);
			return -1;
		}
		if (poll(&pfd, 1, ms) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && (errno == EINTR || errno == EAGAIN ||
		    errno == EWOULDBLOCK))
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s", n == 0 ?
			    "bgpd closed the connection" : strerror(errno));
			return -1;
		}
		r = vty_reader_feed(f->rd, buf, (size_t)n, &used, err, errlen);
		if (r == -1)
			return -1;
		if (r == 1) {
			if (used < (size_t)n) {
				snprintf(err, errlen, "bytes after the reply");
				return -1;
			}
			f->stats.commands++;
			frr_lat_record(f, mono_us() - t0);
			return 0;
		}
	}
}

/* A fresh blocking-path connection, "enable" included; -1 with err. */
static int
frr_sync_connect(struct frr *f, uint64_t deadline, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct pollfd pfd;
	socklen_t sl;
	int fd, e, ms;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->cfg.vty_path, strlen(f->cfg.vty_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno != EINPROGRESS) {
			snprintf(err, errlen, "connect %s: %s", f->cfg.vty_path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		e = ETIMEDOUT;
		sl = sizeof(e);
		if ((ms = frr_ms_left(deadline)) == 0 ||
		    poll(&pfd, 1, ms) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1 ||
		    e != 0) {
			snprintf(err, errlen, "connect %s: %s", f->cfg.vty_path,
			    strerror(e != 0 ? e : ETIMEDOUT));
			close(fd);
			return -1;
		}
	}
	f->stats.connects++;
	if (frr_sync_cmd(f, fd, VTY_CMD_ENABLE, deadline, err, errlen) == -1 ||
	    f->rd->status != VTY_ST_SUCCESS) {
		if (f->rd->done && f->rd->status != VTY_ST_SUCCESS)
			snprintf(err, errlen, "'enable' refused: %s",
			    vty_status_name(f->rd->status));
		close(fd);
		f->stats.disconnects++;
		return -1;
	}
	return fd;
}

int
frr_withdraw_all_sync(struct frr *f, uint64_t timeout_us)
{
	uint64_t deadline = mono_us() + timeout_us;
	char cmds[VTY_CMDS_MAX], err[256], text[256], pfx[INET6_ADDRSTRLEN + 8];
	const char *c;
	size_t i, off;
	bool fresh, failed = false, vfail;
	int fd, n;

	for (i = 0; i < f->plan.nvips; i++)
		frr_plan_set(&f->plan, i, FRR_WITHDRAWN, 0, err, sizeof(err));
	if (f->child > 0) {
		/* Its sequence must not land after our withdraws. */
		f->child_killed = true;
		kill(f->child, SIGKILL);
	}
	ev_timer_stop(f->loop, &f->retry_w);
	fresh = !(f->conn == FRR_CONN_READY && !f->busy);
	if (fresh) {
		/* Mid-sequence or not connected: start clean. */
		frr_close(f);
		frr_plan_forget(&f->plan);
		fd = frr_sync_connect(f, deadline, err, sizeof(err));
		if (fd == -1) {
			snprintf(f->last_error, sizeof(f->last_error), "%s", err);
			log_warnx("frr: withdraw all: %s", err);
			if (f->started)
				frr_schedule_reconnect(f);
			frr_notify(f);
			return -1;
		}
	} else
		fd = f->fd;

	for (i = 0; i < f->plan.nvips; i++) {
		prefix_fmt(&f->plan.vips[i].prefix, pfx, sizeof(pfx));
		n = vty_cmds_withdraw(cmds, sizeof(cmds), f->plan.asn,
		    &f->plan.vips[i].prefix, err, sizeof(err));
		if (n < 0)
			goto ioerr;
		off = 0;
		vfail = false;
		while ((c = vty_cmds_next(cmds, &off)) != NULL) {
			if (frr_sync_cmd(f, fd, c, deadline, err,
			    sizeof(err)) == -1)
				goto ioerr;
			if (frr_plan_reply_ok(c, f->rd->status, f->rd->text))
				continue;
			frr_clean_text(text, sizeof(text), f->rd->text);
			snprintf(f->last_error, sizeof(f->last_error),
			    "bgpd answered '%s' with %s: %s", c,
			    vty_status_name(f->rd->status), text);
			f->stats.errors++;
			log_warnx("frr: withdraw %s: %s", pfx, f->last_error);
			vfail = true;
			if (strcmp(c, "end") != 0 && frr_sync_cmd(f, fd, "end",
			    deadline, err, sizeof(err)) == -1)
				goto ioerr;
			break;
		}
		if (vfail) {
			failed = true;
			f->plan.vips[i].known = false;
		} else {
			f->plan.vips[i].applied.ann = FRR_WITHDRAWN;
			f->plan.vips[i].applied.weight_bw = 0;
			f->plan.vips[i].known = true;
		}
	}
	if (fresh) {
		close(fd);
		f->stats.disconnects++;
		if (f->started)
			frr_schedule_reconnect(f);
	}
	log_info("frr: withdraw all: %zu VIP(s)%s", f->plan.nvips,
	    failed ? ", some refused" : " withdrawn");
	frr_notify(f);
	return failed ? -1 : 0;

ioerr:
	snprintf(f->last_error, sizeof(f->last_error), "%s", err);
	log_warnx("frr: withdraw all: %s", err);
	if (fresh) {
		close(fd);
		f->stats.disconnects++;
		frr_plan_forget(&f->plan);
		if (f->started)
			frr_schedule_reconnect(f);
		frr_notify(f);
	} else
		frr_drop(f, "withdraw all: %s", err);
	return -1;
}

bool
frr_connected(const struct frr *f)
{
	return f->conn == FRR_CONN_READY;
}

bool
frr_synced(const struct frr *f)
{
	return frr_is_synced(f);
}

const struct frr_stats *
frr_stats(const struct frr *f)
{
	return &f->stats;
}

const char *
frr_last_error(const struct frr *f)
{
	return f->last_error;
}

const char *
frr_conn_state(const struct frr *f)
{
	return frr_conn_name(f->conn);
}
