/*
 * The check engine and every kind against real sockets and processes on
 * this host: an RTP echo, ng, UDP and TCP responders run on 127.0.0.1 in
 * the same libev loop as the checks; exec runs real programs; the
 * relay-process check watches a forked child that is then killed.
 *
 * The loop is driven with ev_run(EVRUN_ONCE) under a bound on
 * iterations and a generous wall-clock deadline; a wait that runs out
 * fails the test. Verdicts are asserted by their content (detail, ok,
 * definite, order), never by how long they took. Intervals are long
 * (10 s) wherever a test relies on "this came from the attempt at start"
 * or "this came before the next attempt", so only a wrong implementation
 * can reach them within the deadline.
 *
 * Ports: responders bind ephemeral ports; 41001-41003 must be closed
 * (this worktree's reserved range).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/mono.h"
#include "controller/check.h"

#define WAIT_MS		5000		/* bound on every wait */
#define MAX_ITER	100000
#define TICK_S		0.02		/* longest EVRUN_ONCE wait */
#define LONG_MS		10000		/* an interval no test waits for */
#define CLOSED_PORT_1	41001
#define CLOSED_PORT_2	41002
#define CLOSED_PORT_3	41003
#define MAX_RESULTS	32
#define MAX_LOG		64

static struct ev_loop *loop;
static char tmpdir[64];

/* ---- results and log capture ---- */

struct results {
	int			 n;
	struct check_result	 r[MAX_RESULTS];
	bool			 free_in_cb;
	struct check		*c;
};

static void
result_cb(struct check *c, const struct check_result *r, void *arg)
{
	struct results *res = arg;

	if (res->n < MAX_RESULTS)
		res->r[res->n] = *r;
	res->n++;
	if (res->free_in_cb) {
		assert_ptr_equal(c, res->c);
		check_free(c);
		res->c = NULL;
	}
}

static struct {
	int		 n;
	enum log_level	 level[MAX_LOG];
	char		 msg[MAX_LOG][1100];
} logs;

static void
log_capture(enum log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (logs.n < MAX_LOG) {
		logs.level[logs.n] = level;
		snprintf(logs.msg[logs.n], sizeof(logs.msg[0]), "%s", msg);
	}
	logs.n++;
}

/* Index of the first captured line equal to msg, or -1. */
static int
log_find(const char *msg)
{
	int i;

	for (i = 0; i < logs.n && i < MAX_LOG; i++)
		if (strcmp(logs.msg[i], msg) == 0)
			return i;
	return -1;
}

/* ---- driving the loop ---- */

static void
tick_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
}

/* Run until done(arg) holds; fail with what after WAIT_MS. */
static void
run_until(bool (*done)(void *), void *arg, const char *what)
{
	uint64_t deadline = mono_ms() + WAIT_MS;
	ev_timer tick;
	int iter;

	ev_timer_init(&tick, tick_cb, TICK_S, TICK_S);
	ev_timer_start(loop, &tick);
	for (iter = 0; !done(arg); iter++) {
		if (iter >= MAX_ITER || mono_ms() > deadline) {
			ev_timer_stop(loop, &tick);
			fail_msg("gave up waiting for %s", what);
		}
		ev_run(loop, EVRUN_ONCE);
	}
	ev_timer_stop(loop, &tick);
}

/* Run the loop for ms milliseconds whatever happens. */
static void
run_for(uint64_t ms)
{
	uint64_t end = mono_ms() + ms;
	ev_timer tick;

	ev_timer_init(&tick, tick_cb, TICK_S, TICK_S);
	ev_timer_start(loop, &tick);
	while (mono_ms() < end)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &tick);
}

struct want_n {
	struct results	*res;
	int		 n;
};

static bool
have_results(void *arg)
{
	struct want_n *w = arg;

	return w->res->n >= w->n;
}

static void
wait_results(struct results *res, int n)
{
	struct want_n w = { res, n };
	char what[64];

	snprintf(what, sizeof(what), "%d results (have %d)", n, res->n);
	run_until(have_results, &w, what);
}

/* ---- configs ---- */

static void
cfg_init(struct check_config *cc, enum check_kind kind, const char *name,
    uint64_t interval_ms, uint64_t timeout_ms)
{
	check_config_defaults(cc, kind);
	snprintf(cc->name, sizeof(cc->name), "%s", name);
	cc->interval_us = interval_ms * 1000;
	cc->timeout_us = timeout_ms * 1000;
}

static void
loopback(union sockaddr_any *sa, uint16_t port)
{
	char err[128];

	assert_int_equal(hostport_parse("127.0.0.1:1", sa, err, sizeof(err)),
	    0);
	sa_set_port(sa, port);
}

static void
cfg_exec(struct check_config *cc, const char *const argv[])
{
	size_t off = 0, len;
	int i;

	for (i = 0; argv[i] != NULL; i++) {
		len = strlen(argv[i]) + 1;
		assert_true(off + len <= sizeof(cc->argv_buf));
		memcpy(cc->argv_buf + off, argv[i], len);
		cc->argv[i] = cc->argv_buf + off;
		off += len;
	}
	cc->argv[i] = NULL;
	cc->argc = i;
}

/* Start a check and collect its first n results. */
static struct check *
start_check(const struct check_config *cc, struct results *res)
{
	struct check *c;

	memset(res, 0, sizeof(*res));
	c = check_new(loop, cc, result_cb, res);
	assert_non_null(c);
	res->c = c;
	check_start(c);
	return c;
}

static void
assert_result(const struct check_result *r, bool ok, bool definite,
    const char *detail)
{
	if (r->ok != ok || r->definite != definite ||
	    strcmp(r->detail, detail) != 0)
		fail_msg("result ok=%d definite=%d '%s', expected ok=%d "
		    "definite=%d '%s'", r->ok, r->definite, r->detail, ok,
		    definite, detail);
}

static void
assert_detail_has(const struct check_result *r, const char *part)
{
	if (strstr(r->detail, part) == NULL)
		fail_msg("detail '%s' lacks '%s'", r->detail, part);
}

/* ---- UDP responders: RTP echo, ng, plain ---- */

enum udp_mode {
	UDP_SILENT,
	RTP_ECHO,
	RTP_STALE_FIRST,	/* wrong copies first, then the echo */
	RTP_WRONG_ONLY,		/* wrong copies, never the echo */
	NG_PONG,
	NG_ERROR,
	NG_STALE_FIRST,		/* an error under another cookie first */
	NG_OTHER,		/* result "ok" */
	UDP_PONG,		/* "PONG:" + request */
};

struct udp_server {
	int			 fd;
	ev_io			 io;
	union sockaddr_any	 addr;
	enum udp_mode		 mode;
	int			 nreq;
};

static void
udp_reply(struct udp_server *s, const union sockaddr_any *to, const void *buf,
    size_t len)
{
	assert_int_equal(sendto(s->fd, buf, len, 0, &to->sa, sa_len(to)),
	    (ssize_t)len);
}

/* "<cookie> <body>" back to the sender of req. */
static void
ng_reply(struct udp_server *s, const union sockaddr_any *to, const char *req,
    size_t len, const char *cookie_override, const char *body)
{
	char out[512];
	const char *sp = memchr(req, ' ', len);
	int n;

	assert_non_null(sp);
	if (cookie_override != NULL)
		n = snprintf(out, sizeof(out), "%s %s", cookie_override, body);
	else
		n = snprintf(out, sizeof(out), "%.*s %s", (int)(sp - req), req,
		    body);
	udp_reply(s, to, out, (size_t)n);
}

static void
udp_server_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct udp_server *s = w->data;
	union sockaddr_any from;
	socklen_t fl = sizeof(from);
	char buf[2048], out[2100];
	unsigned char wrong[64];
	ssize_t n;

	(void)l;
	(void)revents;
	n = recvfrom(s->fd, buf, sizeof(buf), 0, &from.sa, &fl);
	if (n < 0)
		return;
	s->nreq++;
	switch (s->mode) {
	case UDP_SILENT:
		return;
	case RTP_STALE_FIRST:
	case RTP_WRONG_ONLY:
		assert_int_equal(n, 20);
		/* An older sequence number, as from an earlier attempt. */
		memcpy(wrong, buf, 20);
		wrong[3]--;
		if (wrong[3] == 0xff)
			wrong[2]--;
		udp_reply(s, &from, wrong, 20);
		/* Another SSRC. */
		memcpy(wrong, buf, 20);
		wrong[11] ^= 1;
		udp_reply(s, &from, wrong, 20);
		/* Short. */
		udp_reply(s, &from, buf, 19);
		if (s->mode == RTP_WRONG_ONLY)
			return;
		/* FALLTHROUGH */
	case RTP_ECHO:
		udp_reply(s, &from, buf, (size_t)n);
		return;
	case NG_PONG:
		ng_reply(s, &from, buf, (size_t)n, NULL, "d6:result4:ponge");
		return;
	case NG_ERROR:
		ng_reply(s, &from, buf, (size_t)n, NULL,
		    "d12:error-reason10:overloaded6:result5:errore");
		return;
	case NG_STALE_FIRST:
		ng_reply(s, &from, buf, (size_t)n, "stale_1",
		    "d12:error-reason5:stale6:result5:errore");
		ng_reply(s, &from, buf, (size_t)n, NULL, "d6:result4:ponge");
		return;
	case NG_OTHER:
		ng_reply(s, &from, buf, (size_t)n, NULL, "d6:result2:oke");
		return;
	case UDP_PONG:
		memcpy(out, "PONG:", 5);
		memcpy(out + 5, buf, (size_t)n);
		udp_reply(s, &from, out, (size_t)n + 5);
		return;
	}
}

static void
udp_server_open(struct udp_server *s, enum udp_mode mode)
{
	socklen_t len = sizeof(s->addr);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	loopback(&s->addr, 0);
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, &s->addr.sa, sa_len(&s->addr)), 0);
	assert_int_equal(getsockname(s->fd, &s->addr.sa, &len), 0);
	ev_io_init(&s->io, udp_server_cb, s->fd, EV_READ);
	s->io.data = s;
	ev_io_start(loop, &s->io);
}

static void
udp_server_close(struct udp_server *s)
{
	ev_io_stop(loop, &s->io);
	close(s->fd);
}

/* ---- TCP responder ---- */

enum tcp_mode {
	TCP_HOLD,		/* accept, say nothing */
	TCP_CLOSE,		/* accept, close at once */
	TCP_REPLY,		/* after "PING\r\n": junk, then "+OK\r\n" */
};

#define TCP_CONNS	8

struct tcp_conn {
	struct tcp_server	*s;
	int			 fd;
	ev_io			 io;
	char			 in[64];
	size_t			 inlen;
};

struct tcp_server {
	int			 fd;
	ev_io			 io;
	union sockaddr_any	 addr;
	enum tcp_mode		 mode;
	size_t			 junk;
	int			 nconn;
	struct tcp_conn		 conn[TCP_CONNS];
};

static void
tcp_conn_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct tcp_conn *cn = w->data;
	char junk[4096];
	size_t jn = cn->s->junk;
	ssize_t n;

	(void)revents;
	n = recv(cn->fd, cn->in + cn->inlen, sizeof(cn->in) - 1 - cn->inlen,
	    0);
	if (n <= 0) {
		ev_io_stop(l, w);
		return;
	}
	cn->inlen += (size_t)n;
	cn->in[cn->inlen] = '\0';
	if (cn->s->mode == TCP_REPLY && strstr(cn->in, "\r\n") != NULL) {
		assert_true(jn + 5 <= sizeof(junk));
		memset(junk, '-', jn);
		memcpy(junk + jn, "+OK\r\n", 5);
		assert_int_equal(send(cn->fd, junk, jn + 5, 0),
		    (ssize_t)(jn + 5));
	}
}

static void
tcp_server_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct tcp_server *s = w->data;
	struct tcp_conn *cn;
	int fd;

	(void)revents;
	fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (s->mode == TCP_CLOSE || s->nconn == TCP_CONNS) {
		close(fd);
		return;
	}
	cn = &s->conn[s->nconn++];
	cn->s = s;
	cn->fd = fd;
	ev_io_init(&cn->io, tcp_conn_cb, fd, EV_READ);
	cn->io.data = cn;
	ev_io_start(l, &cn->io);
}

static void
tcp_server_open(struct tcp_server *s, enum tcp_mode mode, bool accepting)
{
	socklen_t len = sizeof(s->addr);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	loopback(&s->addr, 0);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, &s->addr.sa, sa_len(&s->addr)), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, &s->addr.sa, &len), 0);
	ev_io_init(&s->io, tcp_server_cb, s->fd, EV_READ);
	s->io.data = s;
	if (accepting)
		ev_io_start(loop, &s->io);
}

static void
tcp_server_close(struct tcp_server *s)
{
	int i;

	ev_io_stop(loop, &s->io);
	for (i = 0; i < s->nconn; i++) {
		ev_io_stop(loop, &s->conn[i].io);
		close(s->conn[i].fd);
	}
	close(s->fd);
}

/* ---- files and processes ---- */

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* No child of ours is left, running or zombie. */
static bool
no_children(void *arg)
{
	siginfo_t si;

	(void)arg;
	memset(&si, 0, sizeof(si));
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 &&
	    errno == ECHILD;
}

/* The process is gone or a zombie (it died; someone else reaps it). */
static bool
process_dead(void *arg)
{
	char path[64], buf[256], *p;
	int pid = *(int *)arg, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static bool
file_has_line(void *arg)
{
	char buf[64];
	FILE *f = fopen(arg, "r");
	bool ok;

	if (f == NULL)
		return false;
	ok = fgets(buf, sizeof(buf), f) != NULL && strchr(buf, '\n') != NULL;
	fclose(f);
	return ok;
}

static void
my_comm(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/comm", "r");

	assert_non_null(f);
	assert_non_null(fgets(buf, (int)len, f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

static int
setup(void **state)
{
	(void)state;
	logs.n = 0;
	log_set_sink(log_capture, NULL);
	log_set_level(LOG_LEVEL_DEBUG);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	log_set_sink(NULL, NULL);
	log_set_level(LOG_LEVEL_INFO);
	/* Every test leaves no child behind. */
	run_until(no_children, NULL, "every child reaped");
	return 0;
}

/* ---- rtp-probe ---- */

static void
test_rtp_probe_echo(void **state)
{
	struct check_config cc;
	struct udp_server s;
	struct results res;
	struct check *c;
	uint64_t before;
	unsigned int seq;

	(void)state;
	udp_server_open(&s, RTP_ECHO);
	cfg_init(&cc, CHECK_RTP_PROBE, "probe", LONG_MS, 2000);
	cc.target = s.addr;
	before = mono_us();
	c = start_check(&cc, &res);
	/* Nothing happens inside check_start itself. */
	assert_int_equal(res.n, 0);
	assert_int_equal(s.nreq, 0);
	/* The first attempt runs at once, not after the 10 s interval. */
	wait_results(&res, 1);
	assert_true(res.r[0].ok);
	assert_false(res.r[0].definite);
	assert_int_equal(sscanf(res.r[0].detail, "echo of seq %u", &seq), 1);
	assert_true(res.r[0].latency_us > 0);
	assert_true(res.r[0].at_us >= before && res.r[0].at_us <= mono_us());
	assert_int_equal(c->nresults, 1);
	assert_int_equal(c->nfail, 0);
	assert_memory_equal(&c->last, &res.r[0], sizeof(c->last));

	/* run_now: a second attempt now, with the next sequence number. */
	check_run_now(c);
	assert_int_equal(res.n, 1);
	wait_results(&res, 2);
	assert_true(res.r[1].ok);
	{
		char want[32];

		snprintf(want, sizeof(want), "echo of seq %u",
		    (seq + 1) & 0xffff);
		assert_string_equal(res.r[1].detail, want);
	}
	assert_int_equal(s.nreq, 2);
	check_free(c);
	udp_server_close(&s);
}

static void
test_rtp_probe_stale(void **state)
{
	struct check_config cc;
	struct udp_server s;
	struct results res;
	struct check *c;

	(void)state;
	/* Wrong echoes first: ignored, the true one counts. */
	udp_server_open(&s, RTP_STALE_FIRST);
	cfg_init(&cc, CHECK_RTP_PROBE, "probe", LONG_MS, 2000);
	cc.target = s.addr;
	cc.has_source = true;
	loopback(&cc.source, 0);
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_true(res.r[0].ok);
	assert_detail_has(&res.r[0], "echo of seq ");
	check_free(c);
	udp_server_close(&s);

	/* Only wrong echoes: none of them may pass for the echo. */
	udp_server_open(&s, RTP_WRONG_ONLY);
	cfg_init(&cc, CHECK_RTP_PROBE, "probe", LONG_MS, 100);
	cc.target = s.addr;
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false, "timeout after 100ms");
	assert_int_equal(s.nreq, 1);
	check_free(c);
	udp_server_close(&s);
}

static void
test_rtp_probe_refused(void **state)
{
	struct check_config cc;
	struct results res;
	struct check *c;

	(void)state;
	/* ICMP port unreachable fails at once, well before the timeout. */
	cfg_init(&cc, CHECK_RTP_PROBE, "probe", LONG_MS, 3000);
	loopback(&cc.target, CLOSED_PORT_1);
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false,
	    "no echo from 127.0.0.1:41001: Connection refused");
	/* The socket stays usable: the next attempt says the same. */
	check_run_now(c);
	wait_results(&res, 2);
	assert_result(&res.r[1], false, false,
	    "no echo from 127.0.0.1:41001: Connection refused");
	check_free(c);

	/* A source address this host does not have. */
	cfg_init(&cc, CHECK_RTP_PROBE, "probe", LONG_MS, 3000);
	loopback(&cc.target, CLOSED_PORT_1);
	{
		char err[64];

		assert_int_equal(hostport_parse("203.0.113.1:1", &cc.source,
		    err, sizeof(err)), 0);
		sa_set_port(&cc.source, 0);
	}
	cc.has_source = true;
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false,
	    "bind to 203.0.113.1:0: Cannot assign requested address");
	check_free(c);
}

/* ---- ng-ping ---- */

static void
ng_case(enum udp_mode mode, uint64_t timeout_ms, bool ok, const char *detail)
{
	struct check_config cc;
	struct udp_server s;
	struct results res;
	struct check *c;

	udp_server_open(&s, mode);
	cfg_init(&cc, CHECK_NG_PING, "ng", LONG_MS, timeout_ms);
	cc.target = s.addr;
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], ok, false, detail);
	/* A fresh cookie each time: the server's second answer counts. */
	check_run_now(c);
	wait_results(&res, 2);
	assert_result(&res.r[1], ok, false, detail);
	assert_int_equal(s.nreq, 2);
	check_free(c);
	udp_server_close(&s);
}

static void
test_ng_ping(void **state)
{
	(void)state;
	ng_case(NG_PONG, 2000, true, "pong");
	/* An error under another cookie is someone else's. */
	ng_case(NG_STALE_FIRST, 2000, true, "pong");
	ng_case(NG_ERROR, 2000, false, "ng error: overloaded");
	ng_case(NG_OTHER, 2000, false, "result 'ok', expected 'pong'");
	/* A reply that does not start with our cookie is never taken. */
	ng_case(UDP_PONG, 100, false, "timeout after 100ms");
}

static void
test_ng_ping_refused(void **state)
{
	struct check_config cc;
	struct results res;
	struct check *c;

	(void)state;
	cfg_init(&cc, CHECK_NG_PING, "ng", LONG_MS, 3000);
	loopback(&cc.target, CLOSED_PORT_2);
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false,
	    "no reply from 127.0.0.1:41002: Connection refused");
	check_free(c);
}

/* ---- udp ---- */

static void
udp_case(const char *expect, bool ok, const char *detail)
{
	struct check_config cc;
	struct udp_server s;
	struct results res;
	struct check *c;

	udp_server_open(&s, UDP_PONG);
	cfg_init(&cc, CHECK_UDP, "udp", LONG_MS, 2000);
	cc.target = s.addr;
	memcpy(cc.send, "PING", 4);
	cc.send_len = 4;
	cc.expect_len = strlen(expect);
	memcpy(cc.expect, expect, cc.expect_len);
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], ok, false, detail);
	assert_int_equal(s.nreq, 1);
	check_free(c);
	udp_server_close(&s);
}

static void
test_udp(void **state)
{
	struct check_config cc;
	struct udp_server s;
	struct results res;
	struct check *c;

	(void)state;
	udp_case("", true, "reply of 9 bytes");
	udp_case("PONG", true, "reply matched");
	udp_case("G:PI", true, "reply matched");
	udp_case("PONG:PINGX", false, "reply mismatch: 'PONG:PING'");

	udp_server_open(&s, UDP_SILENT);
	cfg_init(&cc, CHECK_UDP, "udp", LONG_MS, 50);
	cc.target = s.addr;
	cc.send[0] = 'x';
	cc.send_len = 1;
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false, "timeout after 50ms");
	check_free(c);
	udp_server_close(&s);

	cfg_init(&cc, CHECK_UDP, "udp", LONG_MS, 3000);
	loopback(&cc.target, CLOSED_PORT_3);
	cc.send[0] = 'x';
	cc.send_len = 1;
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false,
	    "no reply from 127.0.0.1:41003: Connection refused");
	check_free(c);
}

/* ---- tcp ---- */

static void
tcp_expect_case(size_t junk)
{
	struct check_config cc;
	struct tcp_server s;
	struct results res;
	struct check *c;

	tcp_server_open(&s, TCP_REPLY, true);
	s.junk = junk;
	cfg_init(&cc, CHECK_TCP, "tcp", LONG_MS, 2000);
	cc.target = s.addr;
	memcpy(cc.send, "PING\r\n", 6);
	cc.send_len = 6;
	memcpy(cc.expect, "+OK", 3);
	cc.expect_len = 3;
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], true, false, "reply matched");
	assert_int_equal(s.nconn, 1);
	assert_string_equal(s.conn[0].in, "PING\r\n");
	check_free(c);
	tcp_server_close(&s);
}

static void
test_tcp(void **state)
{
	struct check_config cc;
	struct tcp_server s;
	struct results res;
	struct check *c;

	(void)state;
	/* Connect only: the kernel completes the handshake, no accept. */
	tcp_server_open(&s, TCP_HOLD, false);
	cfg_init(&cc, CHECK_TCP, "tcp", LONG_MS, 2000);
	cc.target = s.addr;
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], true, false, "connected");
	check_free(c);
	tcp_server_close(&s);

	/*
	 * Request, then the expected string after junk. The check reads
	 * 1024 bytes, then 1022 after keeping expect_len - 1 = 2: with 2045
	 * bytes of junk "+OK" straddles the second and third reads; 2046
	 * and 1000 put it inside one.
	 */
	tcp_expect_case(2045);
	tcp_expect_case(2046);
	tcp_expect_case(1000);
	tcp_expect_case(0);

	/* Send without expect: done once the request is written. */
	tcp_server_open(&s, TCP_HOLD, true);
	cfg_init(&cc, CHECK_TCP, "tcp", LONG_MS, 2000);
	cc.target = s.addr;
	memcpy(cc.send, "QUIT\r\n", 6);
	cc.send_len = 6;
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], true, false, "connected, request sent");
	check_free(c);
	tcp_server_close(&s);

	/* The server hangs up before saying the expected thing. */
	tcp_server_open(&s, TCP_CLOSE, true);
	cfg_init(&cc, CHECK_TCP, "tcp", LONG_MS, 2000);
	cc.target = s.addr;
	memcpy(cc.expect, "SSH-", 4);
	cc.expect_len = 4;
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false,
	    "connection closed before the expected reply");
	check_free(c);
	tcp_server_close(&s);

	/* The server says nothing at all. */
	tcp_server_open(&s, TCP_HOLD, true);
	cfg_init(&cc, CHECK_TCP, "tcp", LONG_MS, 100);
	cc.target = s.addr;
	memcpy(cc.expect, "SSH-", 4);
	cc.expect_len = 4;
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false, "timeout after 100ms");
	check_free(c);
	tcp_server_close(&s);

	/* Nobody listens. */
	cfg_init(&cc, CHECK_TCP, "tcp", LONG_MS, 2000);
	loopback(&cc.target, CLOSED_PORT_1);
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_false(res.r[0].ok);
	assert_detail_has(&res.r[0], "connect to 127.0.0.1:41001: "
	    "Connection refused");
	check_free(c);
}

/* ---- exec ---- */

static void
exec_case(const char *name, const char *const argv[], uint64_t timeout_ms,
    bool ok, const char *detail)
{
	struct check_config cc;
	struct results res;
	struct check *c;

	cfg_init(&cc, CHECK_EXEC, name, LONG_MS, timeout_ms);
	cfg_exec(&cc, argv);
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], ok, false, detail);
	check_free(c);
}

static void
test_exec_status(void **state)
{
	static const char *const t[] = { "/bin/true", NULL };
	static const char *const f[] = { "/bin/false", NULL };
	static const char *const none[] = { "/nonexistent/check", NULL };
	static const char *const sig[] = { "/bin/sh", "-c", "kill -TERM $$",
	    NULL };
	/* No shell: the argument reaches the program as is. */
	static const char *const args[] = { "/bin/sh", "-c",
	    "test \"$0\" = 'a b;c'", "a b;c", NULL };

	(void)state;
	exec_case("x-true", t, 2000, true, "exit 0");
	exec_case("x-false", f, 2000, false, "exit 1");
	exec_case("x-none", none, 2000, false,
	    "cannot run /nonexistent/check: No such file or directory");
	exec_case("x-sig", sig, 2000, false, "killed by signal 15 "
	    "(Terminated)");
	exec_case("x-args", args, 2000, true, "exit 0");
}

static void
test_exec_output(void **state)
{
	static const char *const fail[] = { "/bin/sh", "-c",
	    "echo hello; echo world >&2; printf 'no newline\\001'; exit 3",
	    NULL };
	static const char *const good[] = { "/bin/sh", "-c", "echo fine",
	    NULL };
	/* 100000 bytes: more than a pipe holds, so it must be drained. */
	static const char *const big[] = { "/bin/sh", "-c",
	    "head -c 100000 /dev/zero | tr '\\000' a; exit 1", NULL };
	/* Descriptors other than 0-2 never reach the program. */
	static const char *const fds[] = { "/bin/sh", "-c",
	    "ls /proc/self/fd | wc -l", NULL };
	int h, w;

	(void)state;
	exec_case("x-out", fail, 2000, false, "exit 3");
	h = log_find("check x-out: hello");
	w = log_find("check x-out: world");
	assert_true(h >= 0 && w > h);
	assert_int_equal(logs.level[h], LOG_LEVEL_INFO);
	assert_int_equal(logs.level[w], LOG_LEVEL_INFO);
	assert_true(log_find("check x-out: no newline?") > w);

	exec_case("x-good", good, 2000, true, "exit 0");
	h = log_find("check x-good: fine");
	assert_true(h >= 0);
	assert_int_equal(logs.level[h], LOG_LEVEL_DEBUG);

	exec_case("x-big", big, 3000, false, "exit 1");
	h = log_find("check x-big: (98976 more bytes of output not kept)");
	assert_true(h >= 0);
	assert_int_equal(logs.level[h], LOG_LEVEL_INFO);

	/* ls holds one more (the directory it reads): 0, 1, 2 and that. */
	exec_case("x-fds", fds, 2000, true, "exit 0");
	assert_true(log_find("check x-fds: 4") >= 0);
}

static void
test_exec_timeout(void **state)
{
	static const char *const slow[] = { "/bin/sleep", "30", NULL };
	char gcfile[128], script[256], line[32];
	const char *grand[4];
	struct check_config cc;
	struct results res;
	struct check *c;
	FILE *f;
	int gpid;

	(void)state;
	/* The timeout kills the child; the teardown checks it was reaped. */
	cfg_init(&cc, CHECK_EXEC, "x-slow", LONG_MS, 100);
	cfg_exec(&cc, slow);
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false, "timeout after 100ms");
	run_until(no_children, NULL, "the timed-out child reaped");
	/* A kill is not a result: nothing more arrives. */
	assert_int_equal(res.n, 1);
	check_free(c);

	/*
	 * A shell's own child dies with it (process group), here through
	 * check_stop with the run in flight.
	 */
	snprintf(gcfile, sizeof(gcfile), "%s/grandchild.pid", tmpdir);
	snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; wait",
	    gcfile);
	grand[0] = "/bin/sh";
	grand[1] = "-c";
	grand[2] = script;
	grand[3] = NULL;
	cfg_init(&cc, CHECK_EXEC, "x-group", LONG_MS, LONG_MS - 1);
	cfg_exec(&cc, grand);
	c = start_check(&cc, &res);
	run_until(file_has_line, gcfile, "the grandchild's pid");
	assert_non_null(f = fopen(gcfile, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	gpid = atoi(line);
	assert_true(gpid > 1);
	check_stop(c);
	/* Stopping reaps synchronously: no child is left right now. */
	assert_true(no_children(NULL));
	run_until(process_dead, &gpid, "the grandchild killed");
	assert_int_equal(res.n, 0);
	check_free(c);
	unlink(gcfile);
}

static void
test_exec_not_default_loop(void **state)
{
	static const char *const t[] = { "/bin/true", NULL };
	struct ev_loop *other = ev_loop_new(EVFLAG_AUTO);
	struct check_config cc;
	struct results res;
	struct check *c;
	int iter;

	(void)state;
	assert_non_null(other);
	cfg_init(&cc, CHECK_EXEC, "x-loop", 20, 10);
	cfg_exec(&cc, t);
	memset(&res, 0, sizeof(res));
	c = check_new(other, &cc, result_cb, &res);
	check_start(c);
	assert_true(log_find("check x-loop: exec checks need the default "
	    "loop") >= 0);
	/* Every attempt fails with the reason. */
	for (iter = 0; res.n < 2 && iter < 1000; iter++)
		ev_run(other, EVRUN_ONCE);
	assert_true(res.n >= 2);
	assert_result(&res.r[0], false, false,
	    "exec checks need the default loop");
	assert_result(&res.r[1], false, false,
	    "exec checks need the default loop");
	check_free(c);
	ev_loop_destroy(other);
}

/* ---- relay-process ---- */

/* A stand-in relay: named `name', it reports ready and waits to die. */
static pid_t
fake_relay(const char *name)
{
	pid_t parent = getpid(), pid;
	int p[2];
	char b;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Never outlive a test that failed before killing it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != parent)
			_exit(1);
		prctl(PR_SET_NAME, name, 0, 0, 0);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &b, 1), 1);
	close(p[0]);
	return pid;
}

static void
test_relay_process_death(void **state)
{
	struct check_config cc;
	struct results res;
	struct check *c;
	char pidfile[128], text[32], want[64];
	pid_t pid;

	(void)state;
	pid = fake_relay("rafck-relay");
	snprintf(pidfile, sizeof(pidfile), "%s/relay.pid", tmpdir);
	snprintf(text, sizeof(text), "%d\n", (int)pid);
	write_file(pidfile, text);

	cfg_init(&cc, CHECK_RELAY_PROCESS, "relay", LONG_MS, 1000);
	snprintf(cc.pidfile, sizeof(cc.pidfile), "%s", pidfile);
	snprintf(cc.process, sizeof(cc.process), "rafck-relay");
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	snprintf(want, sizeof(want), "pid %d", (int)pid);
	assert_result(&res.r[0], true, false, want);
	/* Attempts while it lives keep saying so. */
	check_run_now(c);
	wait_results(&res, 2);
	assert_result(&res.r[1], true, false, want);

	/*
	 * Death between attempts: reported by itself, definite, long before
	 * the next attempt (10 s away) could have noticed.
	 */
	assert_int_equal(kill(pid, SIGKILL), 0);
	wait_results(&res, 3);
	snprintf(want, sizeof(want), "pid %d exited", (int)pid);
	assert_result(&res.r[2], false, true, want);
	assert_int_equal(res.r[2].latency_us, 0);
	assert_false(c->busy);
	assert_int_equal(c->nresults, 3);
	assert_int_equal(c->nfail, 1);
	/* Reported once: nothing follows on its own. */
	run_for(100);
	assert_int_equal(res.n, 3);

	/* The next attempt finds the stale pid file. */
	check_run_now(c);
	wait_results(&res, 4);
	snprintf(want, sizeof(want), "pid %d is not running", (int)pid);
	assert_result(&res.r[3], false, false, want);

	/* A restarted relay is found again through the pid file. */
	pid = fake_relay("rafck-relay");
	snprintf(text, sizeof(text), "%d\n", (int)pid);
	write_file(pidfile, text);
	check_run_now(c);
	wait_results(&res, 5);
	snprintf(want, sizeof(want), "pid %d", (int)pid);
	assert_result(&res.r[4], true, false, want);
	check_free(c);
	assert_int_equal(kill(pid, SIGKILL), 0);
	unlink(pidfile);
}

static void
relay_case(const char *content, const char *process, bool ok,
    const char *detail)
{
	struct check_config cc;
	struct results res;
	struct check *c;
	char pidfile[128];

	snprintf(pidfile, sizeof(pidfile), "%s/case.pid", tmpdir);
	if (content != NULL)
		write_file(pidfile, content);
	else
		unlink(pidfile);
	cfg_init(&cc, CHECK_RELAY_PROCESS, "relay", LONG_MS, 1000);
	snprintf(cc.pidfile, sizeof(cc.pidfile), "%s", pidfile);
	snprintf(cc.process, sizeof(cc.process), "%s", process);
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], ok, false, detail);
	check_free(c);
	unlink(pidfile);
}

static void
test_relay_process_pidfile(void **state)
{
	char comm[16], mine[32], want[256];

	(void)state;
	my_comm(comm, sizeof(comm));
	snprintf(mine, sizeof(mine), "%d\n", (int)getpid());

	snprintf(want, sizeof(want), "pid file %s/case.pid: No such file or "
	    "directory", tmpdir);
	relay_case(NULL, "rtprelay", false, want);
	snprintf(want, sizeof(want), "pid file %s/case.pid is empty", tmpdir);
	relay_case("\n", "rtprelay", false, want);
	snprintf(want, sizeof(want), "pid file %s/case.pid: 'abc' is not a "
	    "pid", tmpdir);
	relay_case("abc\n", "rtprelay", false, want);
	snprintf(want, sizeof(want), "pid file %s/case.pid: '12 34' is not a "
	    "pid", tmpdir);
	relay_case("12 34\n", "rtprelay", false, want);
	snprintf(want, sizeof(want), "pid file %s/case.pid: '0' is not a "
	    "pid", tmpdir);
	relay_case("0\n", "rtprelay", false, want);
	/* A live process with another name: a stale pid file. */
	snprintf(want, sizeof(want), "pid %d is '%s', not 'rtprelay' (stale "
	    "pid file?)", (int)getpid(), comm);
	relay_case(mine, "rtprelay", false, want);
	/* This very process, by its own name, passes. */
	snprintf(want, sizeof(want), "pid %d", (int)getpid());
	relay_case(mine, comm, true, want);
	/* No newline is fine too. */
	snprintf(mine, sizeof(mine), "%d", (int)getpid());
	relay_case(mine, comm, true, want);
}

/* ---- the engine ---- */

static void
test_interval_repeats(void **state)
{
	struct check_config cc;
	struct results res;
	struct check *c;
	char comm[16], pidfile[128], text[32], want[32];
	int i;

	(void)state;
	my_comm(comm, sizeof(comm));
	snprintf(pidfile, sizeof(pidfile), "%s/self.pid", tmpdir);
	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	write_file(pidfile, text);
	cfg_init(&cc, CHECK_RELAY_PROCESS, "self", 10, 5);
	snprintf(cc.pidfile, sizeof(cc.pidfile), "%s", pidfile);
	snprintf(cc.process, sizeof(cc.process), "%s", comm);
	c = start_check(&cc, &res);
	wait_results(&res, 6);
	snprintf(want, sizeof(want), "pid %d", (int)getpid());
	for (i = 0; i < 6; i++)
		assert_result(&res.r[i], true, false, want);
	assert_int_equal(c->nfail, 0);
	check_free(c);
	unlink(pidfile);
}

static void
test_stop_in_flight(void **state)
{
	struct check_config cc;
	struct udp_server s;
	struct results res;
	struct check *c;

	(void)state;
	udp_server_open(&s, UDP_SILENT);
	cfg_init(&cc, CHECK_RTP_PROBE, "probe", LONG_MS, 100);
	cc.target = s.addr;
	c = start_check(&cc, &res);
	while (s.nreq == 0)
		ev_run(loop, EVRUN_ONCE);
	assert_true(c->busy);
	check_stop(c);
	assert_false(c->running);
	assert_false(c->busy);
	/* Past the deadline: nothing is delivered for a stopped check. */
	run_for(300);
	assert_int_equal(res.n, 0);
	/* run_now does not revive it. */
	check_run_now(c);
	run_for(50);
	assert_int_equal(res.n, 0);
	assert_int_equal(s.nreq, 1);
	/* It can start again. */
	check_start(c);
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false, "timeout after 100ms");
	assert_int_equal(s.nreq, 2);
	check_free(c);
	udp_server_close(&s);
}

static void
test_done_contract(void **state)
{
	struct check_config cc;
	struct udp_server s;
	struct results res;
	struct check *c;

	(void)state;
	udp_server_open(&s, RTP_ECHO);
	cfg_init(&cc, CHECK_RTP_PROBE, "probe", LONG_MS, 1000);
	cc.target = s.addr;
	c = start_check(&cc, &res);
	wait_results(&res, 1);
	assert_true(res.r[0].ok);
	/* With no attempt in flight only a definite failure counts. */
	check_done(c, true, false, "late ok");
	check_done(c, false, false, "late failure");
	check_done(c, true, true, "ok is never definite");
	assert_int_equal(res.n, 1);
	assert_int_equal(c->nresults, 1);
	check_done(c, false, true, "pid %d exited", 7);
	assert_int_equal(res.n, 2);
	assert_result(&res.r[1], false, true, "pid 7 exited");
	assert_int_equal(res.r[1].latency_us, 0);
	assert_int_equal(c->nfail, 1);
	check_free(c);
	udp_server_close(&s);
}

static bool
check_busy(void *arg)
{
	return ((struct check *)arg)->busy;
}

/*
 * The loop stalls while the echo arrives and the deadline passes: both
 * are due in the same iteration. The echo had come in time, so it wins.
 */
static void
test_reply_beats_deadline(void **state)
{
	struct check_config cc;
	union sockaddr_any addr, from;
	socklen_t len = sizeof(addr), fl = sizeof(from);
	struct results res;
	struct check *c;
	struct pollfd pfd;
	char buf[64];
	ssize_t n;
	int fd;

	(void)state;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	loopback(&addr, 0);
	assert_int_equal(bind(fd, &addr.sa, sa_len(&addr)), 0);
	assert_int_equal(getsockname(fd, &addr.sa, &len), 0);
	cfg_init(&cc, CHECK_RTP_PROBE, "probe", LONG_MS, 100);
	cc.target = addr;
	c = start_check(&cc, &res);
	run_until(check_busy, c, "the first attempt");
	/* Echo it by hand, outside the loop, then stall past the deadline. */
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
	n = recvfrom(fd, buf, sizeof(buf), 0, &from.sa, &fl);
	assert_int_equal(n, 20);
	assert_int_equal(sendto(fd, buf, (size_t)n, 0, &from.sa, fl), n);
	usleep(250 * 1000);
	wait_results(&res, 1);
	assert_true(res.r[0].ok);
	assert_detail_has(&res.r[0], "echo of seq ");
	check_free(c);
	close(fd);
}

/* The callback may free its check on every path a verdict takes. */
static void
test_free_in_callback(void **state)
{
	struct check_config cc;
	struct udp_server s;
	struct results res;
	char comm[16], pidfile[128], text[32];

	(void)state;
	/* From inside attempt(): relay-process answers at once. */
	my_comm(comm, sizeof(comm));
	snprintf(pidfile, sizeof(pidfile), "%s/self.pid", tmpdir);
	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	write_file(pidfile, text);
	cfg_init(&cc, CHECK_RELAY_PROCESS, "self", 10, 5);
	snprintf(cc.pidfile, sizeof(cc.pidfile), "%s", pidfile);
	snprintf(cc.process, sizeof(cc.process), "%s", comm);
	start_check(&cc, &res);
	res.free_in_cb = true;
	wait_results(&res, 1);
	assert_null(res.c);
	run_for(50);
	assert_int_equal(res.n, 1);
	unlink(pidfile);

	/* From a socket watcher. */
	udp_server_open(&s, RTP_ECHO);
	cfg_init(&cc, CHECK_RTP_PROBE, "probe", 20, 10);
	cc.target = s.addr;
	start_check(&cc, &res);
	res.free_in_cb = true;
	wait_results(&res, 1);
	assert_null(res.c);
	run_for(50);
	assert_int_equal(res.n, 1);
	udp_server_close(&s);

	/* From the deadline. */
	udp_server_open(&s, UDP_SILENT);
	cfg_init(&cc, CHECK_RTP_PROBE, "probe", 20, 10);
	cc.target = s.addr;
	start_check(&cc, &res);
	res.free_in_cb = true;
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false, "timeout after 10ms");
	assert_null(res.c);
	run_for(50);
	assert_int_equal(res.n, 1);
	udp_server_close(&s);

	/* From a child watcher. */
	{
		static const char *const t[] = { "/bin/true", NULL };

		cfg_init(&cc, CHECK_EXEC, "x", LONG_MS, 2000);
		cfg_exec(&cc, t);
		start_check(&cc, &res);
		res.free_in_cb = true;
		wait_results(&res, 1);
		assert_result(&res.r[0], true, false, "exit 0");
		assert_null(res.c);
	}
}

/* A copy of an exec config (argv still pointing into the original) runs. */
static void
test_exec_config_copy(void **state)
{
	static const char *const args[] = { "/bin/sh", "-c", "exit 4", NULL };
	struct check_config *orig, copy;
	struct results res;
	struct check *c;

	(void)state;
	orig = malloc(sizeof(*orig));
	assert_non_null(orig);
	cfg_init(orig, CHECK_EXEC, "x-copy", LONG_MS, 2000);
	cfg_exec(orig, args);
	copy = *orig;
	free(orig);
	c = start_check(&copy, &res);
	wait_results(&res, 1);
	assert_result(&res.r[0], false, false, "exit 4");
	check_free(c);
}

static int
group_setup(void **state)
{
	(void)state;
	loop = ev_default_loop(0);
	assert_non_null(loop);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rafck-checks-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
group_teardown(void **state)
{
	static const char *const files[] = { "relay.pid", "case.pid",
	    "self.pid", "grandchild.pid", NULL };
	char path[128];
	int i;

	(void)state;
	/* A failed test leaves its file behind. */
	for (i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rtp_probe_echo, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtp_probe_stale, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtp_probe_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ng_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ng_ping_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_status, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_exec_output, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_exec_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_exec_not_default_loop,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_config_copy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_relay_process_death, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_relay_process_pidfile,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_interval_repeats, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stop_in_flight, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_done_contract, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_in_callback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reply_beats_deadline,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
