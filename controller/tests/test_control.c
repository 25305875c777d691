/*
 * The control protocol: the request parser (every valid form, every error
 * with its exact message), reply-line parsing, and the socket server end to
 * end over real Unix sockets in a temporary directory with a real libev
 * loop: pipelined requests answered in order, async final replies, the
 * read-only socket, over-long lines, framing of replies, peers that vanish
 * before their reply, peers that stop reading, the client limit, stale and
 * live socket files. Last, the real failoverctl binary (FAILOVERCTL, or
 * build/bin/failoverctl from the repository root; skipped if absent) runs
 * against a server here for its output and exit status.
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
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/mono.h"
#include "controller/control.h"

#define DEADLINE_MS	5000
#define BIG_REPLY	(64 * 1024)
#define PENDING_MAX	8

static char logbuf[8192];

static void
log_capture(enum log_level level, const char *msg, void *arg)
{
	size_t n = strlen(logbuf);

	(void)level;
	(void)arg;
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

/*
 * Parser
 */

struct valid_case {
	const char	*line;
	enum control_op	 op;
	const char	*service;
	bool		 all;
	bool		 json;
	bool		 has_timeout;
	uint64_t	 timeout_us;
	uint32_t	 weight;
};

static void
test_parse_valid(void **state)
{
	static const struct valid_case cases[] = {
		{ "status", CONTROL_OP_STATUS, "", false, false, false, 0, 0 },
		{ "status --json", CONTROL_OP_STATUS, "", false, true, false,
		    0, 0 },
		{ "  status   --json  ", CONTROL_OP_STATUS, "", false, true,
		    false, 0, 0 },
		{ "drain web", CONTROL_OP_DRAIN, "web", false, false, false,
		    0, 0 },
		{ "drain --all", CONTROL_OP_DRAIN, "", true, false, false, 0,
		    0 },
		{ "drain web --timeout 30", CONTROL_OP_DRAIN, "web", false,
		    false, true, 30000000, 0 },
		{ "drain --timeout 500ms web", CONTROL_OP_DRAIN, "web", false,
		    false, true, 500000, 0 },
		{ "drain --all --timeout 0", CONTROL_OP_DRAIN, "", true, false,
		    true, 0, 0 },
		{ "drain --timeout 1.5s --all", CONTROL_OP_DRAIN, "", true,
		    false, true, 1500000, 0 },
		{ "drain web --timeout 24h", CONTROL_OP_DRAIN, "web", false,
		    false, true, 86400000000ULL, 0 },
		{ "drain web --timeout 86400", CONTROL_OP_DRAIN, "web", false,
		    false, true, 86400000000ULL, 0 },
		{ "drain web --timeout 2m", CONTROL_OP_DRAIN, "web", false,
		    false, true, 120000000, 0 },
		{ "undrain web", CONTROL_OP_UNDRAIN, "web", false, false,
		    false, 0, 0 },
		{ "undrain --all", CONTROL_OP_UNDRAIN, "", true, false, false,
		    0, 0 },
		{ "weight web 1", CONTROL_OP_WEIGHT, "web", false, false,
		    false, 0, 1 },
		{ "weight web 25600", CONTROL_OP_WEIGHT, "web", false, false,
		    false, 0, 25600 },
		{ "weight a.b-c_D9 100", CONTROL_OP_WEIGHT, "a.b-c_D9", false,
		    false, false, 0, 100 },
		{ "check web", CONTROL_OP_CHECK, "web", false, false, false,
		    0, 0 },
		{ "reload", CONTROL_OP_RELOAD, "", false, false, false, 0, 0 },
		{ "check "
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
		    CONTROL_OP_CHECK,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
		    false, false, false, 0, 0 },
	};
	struct control_cmd cmd;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct valid_case *c = &cases[i];

		err[0] = '\0';
		if (control_parse(c->line, &cmd, err, sizeof(err)) != 0)
			fail_msg("'%s': %s", c->line, err);
		assert_int_equal(cmd.op, c->op);
		assert_string_equal(cmd.service, c->service);
		assert_int_equal(cmd.all, c->all);
		assert_int_equal(cmd.json, c->json);
		assert_int_equal(cmd.has_timeout, c->has_timeout);
		assert_int_equal(cmd.timeout_us, c->timeout_us);
		assert_int_equal(cmd.weight, c->weight);
		assert_false(cmd.weight_auto);
	}
	/* weight SERVICE auto: back to the configured weight. */
	assert_int_equal(control_parse("weight web  auto", &cmd, err,
	    sizeof(err)), 0);
	assert_int_equal(cmd.op, CONTROL_OP_WEIGHT);
	assert_string_equal(cmd.service, "web");
	assert_true(cmd.weight_auto);
	assert_int_equal(cmd.weight, 0);
}

/* The longest request: 511 bytes of text. One more is too long. */
static void
test_parse_length(void **state)
{
	struct control_cmd cmd;
	char line[CONTROL_LINE_MAX + 8], err[256];

	(void)state;
	memset(line, ' ', sizeof(line));
	memcpy(line, "status", 6);
	line[CONTROL_LINE_MAX - 1] = '\0';
	assert_int_equal(control_parse(line, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.op, CONTROL_OP_STATUS);
	line[CONTROL_LINE_MAX - 1] = ' ';
	line[CONTROL_LINE_MAX] = '\0';
	assert_int_equal(control_parse(line, &cmd, err, sizeof(err)),
	    CONTROL_E_TOOLONG);
	assert_string_equal(err, "request longer than 511 bytes");
}

struct error_case {
	const char	*line;
	int		 code;
	const char	*msg;
};

static void
test_parse_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "", CONTROL_E_SYNTAX, "empty request" },
		{ "   ", CONTROL_E_SYNTAX, "empty request" },
		{ "drian web", CONTROL_E_SYNTAX, "unknown command 'drian' "
		    "(status, drain, undrain, weight, check, reload)" },
		{ "STATUS", CONTROL_E_SYNTAX, "unknown command 'STATUS' "
		    "(status, drain, undrain, weight, check, reload)" },
		{ "--all", CONTROL_E_SYNTAX, "unknown command '--all' "
		    "(status, drain, undrain, weight, check, reload)" },
		{ "st\xc3\xa4tus", CONTROL_E_SYNTAX, "unknown command "
		    "'st\\xc3\\xa4tus' (status, drain, undrain, weight, "
		    "check, reload)" },
		{ "status\t--json", CONTROL_E_SYNTAX,
		    "control character 0x09 in request" },
		{ "status\r", CONTROL_E_SYNTAX,
		    "control character 0x0d in request" },
		{ "status \x7f", CONTROL_E_SYNTAX,
		    "control character 0x7f in request" },
		/* status */
		{ "status web", CONTROL_E_SYNTAX, "status: unexpected 'web'" },
		{ "status --jsn", CONTROL_E_ARG,
		    "status: unknown option '--jsn'" },
		{ "status --json --json", CONTROL_E_SYNTAX,
		    "status: --json given twice" },
		/* drain */
		{ "drain", CONTROL_E_SYNTAX,
		    "drain: give a service name or --all" },
		{ "drain --timeout 5s", CONTROL_E_SYNTAX,
		    "drain: give a service name or --all" },
		{ "drain web --all", CONTROL_E_SYNTAX, "drain: service 'web' "
		    "and --all given together: give one of them" },
		{ "drain --all web", CONTROL_E_SYNTAX, "drain: service 'web' "
		    "and --all given together: give one of them" },
		{ "drain web db", CONTROL_E_SYNTAX, "drain: unexpected 'db'" },
		{ "drain --all --all", CONTROL_E_SYNTAX,
		    "drain: --all given twice" },
		{ "drain web --timeout", CONTROL_E_SYNTAX, "drain: --timeout "
		    "needs a duration (as 30, 30s or 500ms)" },
		{ "drain web --timeout 5s --timeout 6s", CONTROL_E_SYNTAX,
		    "drain: --timeout given twice" },
		{ "drain web --timeout 5x", CONTROL_E_ARG, "drain: --timeout: "
		    "'5x': unknown unit 'x' (us, ms, s, m or h)" },
		{ "drain web --timeout -1", CONTROL_E_ARG, "drain: --timeout: "
		    "'-1' is not a duration (expected a number and a unit, "
		    "as 20ms or 1s)" },
		{ "drain web --timeout 25h", CONTROL_E_ARG, "drain: --timeout: "
		    "25h is out of range 0ms..24h" },
		{ "drain web --timeout 86401", CONTROL_E_ARG, "drain: "
		    "--timeout: 86401s is out of range 0ms..24h" },
		{ "drain web --force", CONTROL_E_ARG,
		    "drain: unknown option '--force'" },
		{ "drain -w", CONTROL_E_ARG, "drain: unknown option '-w'" },
		{ "drain a/b", CONTROL_E_ARG, "drain: bad service name 'a/b' "
		    "(allowed: A-Z a-z 0-9 _ . -)" },
		{ "drain caf\xc3\xa9", CONTROL_E_ARG, "drain: bad service "
		    "name 'caf\\xc3\\xa9' (allowed: A-Z a-z 0-9 _ . -)" },
		{ "drain "
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_x",
		    CONTROL_E_ARG, "drain: service name "
		    "'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN...' is longer "
		    "than 63 bytes" },
		/* undrain */
		{ "undrain", CONTROL_E_SYNTAX,
		    "undrain: give a service name or --all" },
		{ "undrain web --timeout 5s", CONTROL_E_ARG,
		    "undrain: unknown option '--timeout'" },
		{ "undrain --all web", CONTROL_E_SYNTAX, "undrain: service "
		    "'web' and --all given together: give one of them" },
		/* weight */
		{ "weight", CONTROL_E_SYNTAX, "weight: give a service name "
		    "and a weight from 1 to 25600 or 'auto'" },
		{ "weight web", CONTROL_E_SYNTAX, "weight: give a weight from "
		    "1 to 25600 or 'auto' after the service name" },
		{ "weight web 12x", CONTROL_E_ARG,
		    "weight: '12x' is not a number from 1 to 25600 "
		    "nor 'auto'" },
		{ "weight web 0", CONTROL_E_ARG,
		    "weight: '0' is not a number from 1 to 25600 "
		    "nor 'auto'" },
		{ "weight web 25601", CONTROL_E_ARG,
		    "weight: '25601' is not a number from 1 to 25600 "
		    "nor 'auto'" },
		{ "weight web -1", CONTROL_E_ARG,
		    "weight: '-1' is not a number from 1 to 25600 "
		    "nor 'auto'" },
		{ "weight web +5", CONTROL_E_ARG,
		    "weight: '+5' is not a number from 1 to 25600 "
		    "nor 'auto'" },
		{ "weight web 99999999999999999999999", CONTROL_E_ARG,
		    "weight: '99999999999999999999999' is not a number from 1 "
		    "to 25600 nor 'auto'" },
		{ "weight web Auto", CONTROL_E_ARG,
		    "weight: 'Auto' is not a number from 1 to 25600 "
		    "nor 'auto'" },
		{ "weight web auto 5", CONTROL_E_SYNTAX,
		    "weight: unexpected '5'" },
		{ "weight web 5 6", CONTROL_E_SYNTAX,
		    "weight: unexpected '6'" },
		{ "weight --all 5", CONTROL_E_ARG,
		    "weight: unknown option '--all'" },
		{ "weight a:b 5", CONTROL_E_ARG, "weight: bad service name "
		    "'a:b' (allowed: A-Z a-z 0-9 _ . -)" },
		/* check */
		{ "check", CONTROL_E_SYNTAX, "check: give a service name" },
		{ "check web db", CONTROL_E_SYNTAX, "check: unexpected 'db'" },
		{ "check --all", CONTROL_E_ARG,
		    "check: unknown option '--all'" },
		/* reload */
		{ "reload now", CONTROL_E_SYNTAX, "reload: unexpected 'now'" },
		{ "reload --force", CONTROL_E_SYNTAX,
		    "reload: unexpected '--force'" },
	};
	struct control_cmd cmd;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct error_case *c = &cases[i];
		int rc;

		err[0] = '\0';
		rc = control_parse(c->line, &cmd, err, sizeof(err));
		if (rc != c->code || strcmp(err, c->msg) != 0)
			fail_msg("'%s': got %d '%s', want %d '%s'", c->line,
			    rc, err, c->code, c->msg);
	}
}

/* NUL is a control character like any other, wherever it is. */
static void
test_parse_buf_nul(void **state)
{
	struct control_cmd cmd;
	char err[256];

	(void)state;
	assert_int_equal(control_parse_buf("sta\0tus", 7, &cmd, err,
	    sizeof(err)), CONTROL_E_SYNTAX);
	assert_string_equal(err, "control character 0x00 in request");
	assert_int_equal(control_parse_buf("status\0", 7, &cmd, err,
	    sizeof(err)), CONTROL_E_SYNTAX);
	/* Only len bytes count. */
	assert_int_equal(control_parse_buf("reloadXYZ", 6, &cmd, err,
	    sizeof(err)), 0);
	assert_int_equal(cmd.op, CONTROL_OP_RELOAD);
}

/* An error message fits a small buffer by truncation, never overflow. */
static void
test_parse_small_err(void **state)
{
	struct control_cmd cmd;
	char err[8];

	(void)state;
	assert_int_equal(control_parse("drian", &cmd, err, sizeof(err)),
	    CONTROL_E_SYNTAX);
	assert_string_equal(err, "unknown");
}

static void
test_op_names(void **state)
{
	int op;

	(void)state;
	for (op = 0; op < CONTROL_OP_MAX; op++) {
		struct control_cmd cmd;
		char err[256], line[64];

		assert_non_null(control_op_names[op]);
		assert_string_equal(control_op_name(op), control_op_names[op]);
		/* Every name is its command word. */
		snprintf(line, sizeof(line), "%s", control_op_names[op]);
		if (control_parse(line, &cmd, err, sizeof(err)) == 0)
			assert_int_equal(cmd.op, op);
		else
			assert_null(strstr(err, "unknown command"));
	}
	assert_string_equal(control_op_name(CONTROL_OP_MAX), "unknown");
	assert_string_equal(control_op_name((enum control_op)-1), "unknown");
}

static void
test_reply_parse(void **state)
{
	static const char *const bad[] = {
		"", "0", "000", "0000", "000x ok", "0000:ok", " 0000 ok",
		"-000 ok", "00a0 ok", "ok",
	};
	const char *text;
	bool final;
	int code;
	size_t i;

	(void)state;
	assert_int_equal(control_reply_parse("0000 ok", &code, &final,
	    &text), 0);
	assert_int_equal(code, 0);
	assert_true(final);
	assert_string_equal(text, "ok");
	assert_int_equal(control_reply_parse("1000-web  up  1.2.3.4", &code,
	    &final, &text), 0);
	assert_int_equal(code, 1000);
	assert_false(final);
	assert_string_equal(text, "web  up  1.2.3.4");
	assert_int_equal(control_reply_parse("8002 weight: bad", &code,
	    &final, &text), 0);
	assert_int_equal(code, 8002);
	assert_true(final);
	assert_int_equal(control_reply_parse("9001-", &code, &final, &text),
	    0);
	assert_int_equal(code, 9001);
	assert_false(final);
	assert_string_equal(text, "");
	assert_int_equal(control_reply_parse("0001 ", &code, &final, &text),
	    0);
	assert_int_equal(code, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (control_reply_parse(bad[i], &code, &final, &text) != -1)
			fail_msg("'%s' accepted", bad[i]);

	assert_int_equal(control_exit_status(0), 0);
	assert_int_equal(control_exit_status(1), 0);
	assert_int_equal(control_exit_status(1000), 0);
	assert_int_equal(control_exit_status(7999), 0);
	assert_int_equal(control_exit_status(8000), 1);
	assert_int_equal(control_exit_status(8004), 1);
	assert_int_equal(control_exit_status(9001), 1);
}

/*
 * Server
 */

struct fx {
	char			 dir[64];
	char			 path[100];
	struct ev_loop		*loop;
	struct control_server	*srv;
	int			 calls;
	struct control_cmd	 last;
	bool			 async;		/* drain waits for the test */
	bool			 auto_reply;	/* answer pending drains */
	struct control_conn	*pending[PENDING_MAX];
	int			 npending;
	char			*big;		/* status --json text if set */
};

static void
handler(struct control_conn *conn, const struct control_cmd *cmd, void *arg)
{
	static const char json[] = "{\n  \"services\": []\n}\n";
	struct fx *f = arg;

	f->calls++;
	f->last = *cmd;
	switch (cmd->op) {
	case CONTROL_OP_STATUS:
		if (cmd->json && f->big != NULL)
			control_reply_text(conn, CONTROL_DATA, f->big,
			    strlen(f->big));
		else if (cmd->json)
			control_reply_text(conn, CONTROL_DATA, json,
			    sizeof(json) - 1);
		else
			control_reply(conn, CONTROL_DATA, false, "svc web up");
		control_reply(conn, CONTROL_OK, true, "ok");
		break;
	case CONTROL_OP_DRAIN:
		if (f->async) {
			assert_true(f->npending < PENDING_MAX);
			f->pending[f->npending++] = conn;
			return;
		}
		control_reply(conn, CONTROL_OK_PENDING, true, "draining %s",
		    cmd->all ? "all" : cmd->service);
		break;
	case CONTROL_OP_UNDRAIN:
		control_reply(conn, CONTROL_OK, true, "undrained %s",
		    cmd->all ? "all" : cmd->service);
		/* A bug in a handler: dropped with a warning. */
		control_reply(conn, CONTROL_OK, true, "again");
		break;
	case CONTROL_OP_WEIGHT:
		control_reply(conn, CONTROL_OK, true, "weight %s %u",
		    cmd->service, (unsigned int)cmd->weight);
		break;
	case CONTROL_OP_CHECK:
		/* Framing: newline splits, other control characters go. */
		control_reply(conn, CONTROL_DATA, false, "x\ty\x01z");
		control_reply_text(conn, CONTROL_DATA, "", 0);
		control_reply_text(conn, CONTROL_DATA, "t1\n\nt2", 6);
		control_reply(conn, CONTROL_OK, true, "a\nb\rc\n");
		break;
	case CONTROL_OP_RELOAD:
		control_reply(conn, CONTROL_E_FAILED, true,
		    "reload failed\nline 2");
		break;
	case CONTROL_OP_MAX:
		break;
	}
}

static void
pump(struct fx *f, int rounds)
{
	while (rounds-- > 0)
		ev_run(f->loop, EVRUN_NOWAIT);
}

static void
reply_pending(struct fx *f)
{
	int i;

	for (i = 0; i < f->npending; i++)
		control_reply(f->pending[i], CONTROL_OK_PENDING, true,
		    "draining late");
	f->npending = 0;
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_control.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* A directory that does not exist yet: control_listen makes it. */
	snprintf(f->path, sizeof(f->path), "%s/run/ctl.sock", f->dir);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	logbuf[0] = '\0';
	log_set_sink(log_capture, NULL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	reply_pending(f);
	control_close(f->srv);
	pump(f, 2);
	ev_loop_destroy(f->loop);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	log_set_sink(NULL, NULL);
	free(f->big);
	free(f);
	return 0;
}

static void
listen_rw(struct fx *f, bool readonly)
{
	f->srv = control_listen(f->loop, f->path, 0660, readonly, handler, f);
	if (f->srv == NULL)
		fail_msg("control_listen: %s", logbuf);
}

static int
client(struct fx *f)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	/* The listener's backlog takes it before the loop accepts. */
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void
send_str(struct fx *f, int fd, const char *s, size_t len)
{
	uint64_t deadline = mono_ms() + DEADLINE_MS;
	ssize_t n;

	while (len > 0) {
		n = send(fd, s, len, MSG_NOSIGNAL);
		if (n > 0) {
			s += n;
			len -= (size_t)n;
			continue;
		}
		assert_true(errno == EAGAIN);
		assert_true(mono_ms() < deadline);
		pump(f, 1);
		poll(NULL, 0, 1);
	}
}

static void
send_line(struct fx *f, int fd, const char *s)
{
	send_str(f, fd, s, strlen(s));
}

/* Count final reply lines in what has been read. */
static int
finals(const char *buf)
{
	const char *p = buf;
	int n = 0;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');

		if (nl == NULL)
			break;
		if (nl - p >= 5 && p[4] == ' ')
			n++;
		p = nl + 1;
	}
	return n;
}

/* Read until `want' final lines have arrived; returns a heap string. */
static char *
read_replies(struct fx *f, int fd, int want)
{
	uint64_t deadline = mono_ms() + DEADLINE_MS;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	assert_non_null(buf);
	buf[0] = '\0';
	while (finals(buf) < want) {
		pump(f, 1);
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			continue;
		}
		if (n == 0)
			fail_msg("EOF after '%s'", buf);
		assert_true(errno == EAGAIN);
		if (mono_ms() > deadline)
			fail_msg("no %d replies within %d ms: '%s'", want,
			    DEADLINE_MS, buf);
		poll(NULL, 0, 1);
	}
	return buf;
}

static void
expect(struct fx *f, int fd, int want, const char *text)
{
	char *got = read_replies(f, fd, want);

	assert_string_equal(got, text);
	free(got);
}

/* Nothing is waiting on fd after the loop has had its chances. */
static void
expect_silence(struct fx *f, int fd)
{
	char c;

	pump(f, 20);
	assert_int_equal(recv(fd, &c, 1, 0), -1);
	assert_int_equal(errno, EAGAIN);
}

/* Read until the server closes (EOF or reset); returns what came. */
static char *
read_to_eof(struct fx *f, int fd)
{
	uint64_t deadline = mono_ms() + DEADLINE_MS;
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;

	assert_non_null(buf);
	for (;;) {
		pump(f, 1);
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0 || errno == ECONNRESET)
			break;
		assert_true(errno == EAGAIN);
		if (mono_ms() > deadline)
			fail_msg("no EOF within %d ms", DEADLINE_MS);
		poll(NULL, 0, 1);
	}
	buf[len] = '\0';
	return buf;
}

static void
test_server_in_order(void **state)
{
	struct fx *f = *state;
	char dir[128];
	struct stat st;
	int fd;

	listen_rw(f, false);
	/* The directory was made 0755, the socket has the mode asked for. */
	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	fd = client(f);
	/* Pipelined in one write; answered one after the other. */
	send_line(f, fd, "status\nweight web 100\ncheck web\nstatus --json\n"
	    "undrain --all\ndrain web\nreload\n");
	expect(f, fd, 7,
	    "1000-svc web up\n"
	    "0000 ok\n"
	    "0000 weight web 100\n"
	    "1000-x\ty?z\n"
	    "1000-t1\n"
	    "1000-\n"
	    "1000-t2\n"
	    "0000-a\n"
	    "0000 b?c\n"
	    "1000-{\n"
	    "1000-  \"services\": []\n"
	    "1000-}\n"
	    "0000 ok\n"
	    "0000 undrained all\n"
	    "0001 draining web\n"
	    "9001-reload failed\n"
	    "9001 line 2\n");
	assert_int_equal(f->calls, 7);
	assert_int_equal(control_requests(f->srv), 7);
	assert_int_equal(control_errors(f->srv), 1);
	/* undrain's second final line was dropped, with a warning. */
	assert_non_null(strstr(logbuf, "reply line outside a request"));
	expect_silence(f, fd);

	/* A request that arrives a byte at a time. */
	for (const char *p = "weight db 7\n"; *p != '\0'; p++) {
		send_str(f, fd, p, 1);
		pump(f, 2);
	}
	expect(f, fd, 1, "0000 weight db 7\n");
	close(fd);
	control_close(f->srv);
	f->srv = NULL;
	/* The socket file goes with the server. */
	assert_int_equal(lstat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* Wrong requests on the wire: each gets its error, the connection lives. */
static void
test_server_bad_requests(void **state)
{
	static const char req[] = "sta\0tus\nstatus\t--json\n\nweight web 0\n"
	    "status\n";
	struct fx *f = *state;
	int fd;

	listen_rw(f, false);
	fd = client(f);
	send_str(f, fd, req, sizeof(req) - 1);
	expect(f, fd, 5,
	    "8001 control character 0x00 in request\n"
	    "8001 control character 0x09 in request\n"
	    "8001 empty request\n"
	    "8002 weight: '0' is not a number from 1 to 25600 nor 'auto'\n"
	    "1000-svc web up\n"
	    "0000 ok\n");
	assert_int_equal(f->calls, 1);
	assert_int_equal(control_requests(f->srv), 5);
	assert_int_equal(control_errors(f->srv), 4);
	close(fd);
}

static void
test_server_async(void **state)
{
	struct fx *f = *state;
	int fd;

	f->async = true;
	listen_rw(f, false);
	fd = client(f);
	send_line(f, fd, "drain web\nstatus\n");
	expect_silence(f, fd);
	/* status waits behind the drain: not even parsed yet. */
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->npending, 1);
	assert_true(control_conn_alive(f->pending[0]));

	control_reply(f->pending[0], CONTROL_DATA, false, "moving traffic");
	control_reply(f->pending[0], CONTROL_OK_PENDING, true, "draining web");
	f->npending = 0;
	/* The handler is not re-entered from inside control_reply. */
	assert_int_equal(f->calls, 1);
	expect(f, fd, 2,
	    "1000-moving traffic\n"
	    "0001 draining web\n"
	    "1000-svc web up\n"
	    "0000 ok\n");
	assert_int_equal(f->calls, 2);

	/* Two async requests in a row on one connection. */
	send_line(f, fd, "drain --all\ndrain db\n");
	expect_silence(f, fd);
	assert_int_equal(f->npending, 1);
	assert_true(f->pending[0] != NULL);
	control_reply(f->pending[0], CONTROL_OK_PENDING, true, "first");
	f->npending = 0;
	expect(f, fd, 1, "0001 first\n");
	pump(f, 5);
	assert_int_equal(f->npending, 1);
	assert_string_equal(f->last.service, "db");
	control_reply(f->pending[0], CONTROL_OK_PENDING, true, "second");
	f->npending = 0;
	expect(f, fd, 1, "0001 second\n");
	close(fd);
}

/* The peer goes before its async reply: the conn stays usable, the lines
 * are dropped, the final one frees it (ASan checks for the leak and for
 * any use after free). */
static void
test_server_peer_gone(void **state)
{
	struct fx *f = *state;
	int fd, fd2;

	f->async = true;
	listen_rw(f, false);
	fd = client(f);
	send_line(f, fd, "drain web\nstatus\n");
	pump(f, 10);
	assert_int_equal(f->npending, 1);
	close(fd);
	pump(f, 10);
	control_reply(f->pending[0], CONTROL_DATA, false, "to nobody");
	pump(f, 10);
	control_reply(f->pending[0], CONTROL_OK_PENDING, true, "to nobody");
	f->npending = 0;
	pump(f, 10);

	/* Pending while the server closes: the reply after close frees it. */
	fd2 = client(f);
	send_line(f, fd2, "drain db\n");
	pump(f, 10);
	assert_int_equal(f->npending, 1);
	control_close(f->srv);
	f->srv = NULL;
	assert_false(control_conn_alive(f->pending[0]));
	control_reply(f->pending[0], CONTROL_DATA, false, "late");
	control_reply(f->pending[0], CONTROL_OK, true, "late");
	f->npending = 0;
	close(fd2);

	/* A FIN (not a close) after the request: the reply still comes. */
	listen_rw(f, false);
	fd = client(f);
	send_line(f, fd, "drain web\nstatus");	/* the last without "\n" */
	shutdown(fd, SHUT_WR);
	pump(f, 10);
	assert_int_equal(f->npending, 1);
	control_reply(f->pending[0], CONTROL_OK_PENDING, true, "draining");
	f->npending = 0;
	{
		char *got = read_to_eof(f, fd);

		assert_string_equal(got, "0001 draining\n1000-svc web up\n"
		    "0000 ok\n");
		free(got);
	}
	close(fd);
}

static void
test_server_readonly(void **state)
{
	struct fx *f = *state;
	int fd;

	listen_rw(f, true);
	fd = client(f);
	send_line(f, fd, "drain web\nstatus\nreload\ndrian\nweight web 5\n");
	expect(f, fd, 5,
	    "8004 'drain' is not allowed on the read-only socket (status "
	    "only)\n"
	    "1000-svc web up\n"
	    "0000 ok\n"
	    "8004 'reload' is not allowed on the read-only socket (status "
	    "only)\n"
	    "8001 unknown command 'drian' (status, drain, undrain, weight, "
	    "check, reload)\n"
	    "8004 'weight' is not allowed on the read-only socket (status "
	    "only)\n");
	/* Only status reached the handler. */
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->last.op, CONTROL_OP_STATUS);
	assert_int_equal(control_errors(f->srv), 4);
	close(fd);
}

static void
test_server_too_long(void **state)
{
	struct fx *f = *state;
	char line[2000];
	int fd;

	listen_rw(f, false);
	fd = client(f);

	/* 511 bytes and its newline: the longest request. */
	memset(line, ' ', sizeof(line));
	memcpy(line, "status", 6);
	line[CONTROL_LINE_MAX - 1] = '\n';
	send_str(f, fd, line, CONTROL_LINE_MAX);
	expect(f, fd, 1, "1000-svc web up\n0000 ok\n");

	/* 512 bytes: one too many. Sent in pieces with the loop running,
	 * followed by a good request on the same connection. */
	line[CONTROL_LINE_MAX - 1] = 'x';
	line[CONTROL_LINE_MAX] = '\n';
	send_str(f, fd, line, 300);
	pump(f, 5);
	send_str(f, fd, line + 300, CONTROL_LINE_MAX + 1 - 300);
	send_line(f, fd, "weight web 9\n");
	expect(f, fd, 2, "8005 request longer than 511 bytes\n"
	    "0000 weight web 9\n");

	/* Far longer, with a newline only at the end: one error, then the
	 * rest of the line is skipped. */
	memset(line, 'y', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	send_str(f, fd, line, sizeof(line));
	send_line(f, fd, "weight web 10\n");
	expect(f, fd, 2, "8005 request longer than 511 bytes\n"
	    "0000 weight web 10\n");
	assert_int_equal(f->calls, 3);
	assert_int_equal(control_requests(f->srv), 5);
	assert_int_equal(control_errors(f->srv), 2);
	close(fd);
}

/* A client that sends requests and never reads is cut off at
 * CONTROL_OUTBUF_MAX queued bytes; other clients are not affected. */
static void
test_server_not_reading(void **state)
{
	struct fx *f = *state;
	int fd, other, i;
	char *got;
	size_t n;

	f->big = malloc(BIG_REPLY + 1);
	assert_non_null(f->big);
	for (n = 0; n < BIG_REPLY; n++)
		f->big[n] = n % 64 == 63 ? '\n' : 'j';
	f->big[BIG_REPLY] = '\0';
	listen_rw(f, false);
	fd = client(f);
	other = client(f);
	/* However large the kernel's socket buffers are, 500 replies of
	 * 70 KiB do not fit in them plus CONTROL_OUTBUF_MAX. */
	for (i = 0; i < 500 && strstr(logbuf, "does not read") == NULL; i++) {
		send_line(f, fd, "status --json\n");
		pump(f, 3);
	}
	assert_non_null(strstr(logbuf, "client does not read its replies"));
	/* 64 KiB of text makes about 1.1 times as much reply. */
	assert_true(i > CONTROL_OUTBUF_MAX / (BIG_REPLY * 11 / 10));
	assert_true(i < 500);
	got = read_to_eof(f, fd);
	/* Fewer replies than requests came: the rest was dropped. */
	assert_true(finals(got) < i);
	free(got);
	close(fd);

	send_line(f, other, "weight web 3\n");
	expect(f, other, 1, "0000 weight web 3\n");
	close(other);
}

static void
test_server_client_limit(void **state)
{
	struct fx *f = *state;
	int fds[CONTROL_CLIENTS_MAX], extra, i;
	char *got;

	listen_rw(f, false);
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		fds[i] = client(f);
		/* A reply proves the server has accepted it. */
		send_line(f, fds[i], "weight web 1\n");
		expect(f, fds[i], 1, "0000 weight web 1\n");
	}
	extra = client(f);
	got = read_to_eof(f, extra);
	assert_string_equal(got, "9001 too many control clients, try again "
	    "later\n");
	free(got);
	close(extra);
	assert_non_null(strstr(logbuf, "32 clients, refusing more"));

	/* A slot frees when a client leaves. */
	close(fds[0]);
	pump(f, 10);
	fds[0] = client(f);
	send_line(f, fds[0], "weight web 2\n");
	expect(f, fds[0], 1, "0000 weight web 2\n");
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		close(fds[i]);
}

/* A socket file nobody answers on (a crashed daemon) is replaced. */
static void
test_server_stale_socket(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	listen_rw(f, false);
	assert_non_null(strstr(logbuf, "removed stale socket"));
	fd = client(f);
	send_line(f, fd, "weight web 4\n");
	expect(f, fd, 1, "0000 weight web 4\n");
	close(fd);
}

/* A second server must not steal a live socket, nor replace a file that
 * is not a socket. */
static void
test_server_live_socket(void **state)
{
	struct fx *f = *state;
	struct control_server *second;
	struct stat st1, st2;
	char file[160];
	int fd;

	listen_rw(f, false);
	assert_int_equal(lstat(f->path, &st1), 0);
	second = control_listen(f->loop, f->path, 0660, false, handler, f);
	assert_null(second);
	assert_non_null(strstr(logbuf, "another process answers on it (is "
	    "failoverd already running?)"));
	assert_int_equal(lstat(f->path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	/* The first server still answers (the probe connection came and
	 * went without harm). */
	fd = client(f);
	send_line(f, fd, "weight web 5\n");
	expect(f, fd, 1, "0000 weight web 5\n");
	close(fd);

	snprintf(file, sizeof(file), "%s/plain", f->dir);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	logbuf[0] = '\0';
	second = control_listen(f->loop, file, 0660, false, handler, f);
	assert_null(second);
	assert_non_null(strstr(logbuf, "exists and is not a socket, not "
	    "replacing it"));
	assert_int_equal(access(file, F_OK), 0);

	/* Too long a path is refused before anything happens. */
	memset(file, 'a', sizeof(file) - 1);
	file[0] = '/';
	file[sizeof(file) - 1] = '\0';
	assert_null(control_listen(f->loop, file, 0660, false, handler, f));
	assert_non_null(strstr(logbuf, "longer than 107 bytes"));
}

/*
 * failoverctl, the real binary, against a server in this process.
 */

static const char *
ctl_binary(void)
{
	const char *p = getenv("FAILOVERCTL");

	return p != NULL ? p : "build/bin/failoverctl";
}

static void
slurp(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

/* Run failoverctl with args (NULL-terminated) while the loop serves; its
 * exit status, stdout and stderr. */
static int
run_ctl(struct fx *f, char *out, char *err, size_t len, ...)
{
	const char *argv[16];
	char opath[128], epath[128];
	uint64_t deadline = mono_ms() + DEADLINE_MS;
	va_list ap;
	pid_t pid;
	int n = 0, st;

	argv[n++] = "failoverctl";
	va_start(ap, len);
	while ((argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	snprintf(opath, sizeof(opath), "%s/stdout", f->dir);
	snprintf(epath, sizeof(epath), "%s/stderr", f->dir);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o == -1 || e == -1 || dup2(o, 1) == -1 || dup2(e, 2) == -1)
			_exit(126);
		execv(ctl_binary(), (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, WNOHANG) == 0) {
		pump(f, 1);
		if (f->auto_reply && f->npending > 0)
			reply_pending(f);
		if (mono_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fail_msg("failoverctl did not finish");
		}
		poll(NULL, 0, 1);
	}
	assert_true(WIFEXITED(st));
	slurp(opath, out, len);
	slurp(epath, err, len);
	return WEXITSTATUS(st);
}

static void
test_ctl(void **state)
{
	struct fx *f = *state;
	char out[4096], err[4096], none[160];

	if (access(ctl_binary(), X_OK) != 0) {
		print_message("%s not built: skipping\n", ctl_binary());
		skip();
	}
	listen_rw(f, false);

	/* Data lines to stdout, the final "ok" only ends the reply. */
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "status", NULL), 0);
	assert_string_equal(out, "svc web up\n");
	assert_string_equal(err, "");
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "-j", "status", NULL), 0);
	assert_string_equal(out, "{\n  \"services\": []\n}\n");
	assert_true(f->last.json);
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "weight", "web", "100", NULL), 0);
	assert_string_equal(out, "weight web 100\n");
	assert_int_equal(f->last.weight, 100);
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "drain", "--all", "--timeout", "90", NULL), 0);
	assert_string_equal(out, "draining all\n");
	assert_true(f->last.has_timeout);
	assert_int_equal(f->last.timeout_us, 90000000);
	/* Multi-line success text: every line printed. */
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "check", "web", NULL), 0);
	assert_string_equal(out, "x\ty?z\nt1\n\nt2\na\n");

	/* An error reply: its lines to stderr, exit 1. */
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "reload", NULL), 1);
	assert_string_equal(out, "");
	assert_string_equal(err, "failoverctl: reload failed\n"
	    "failoverctl: line 2\n");

	/* Usage errors never reach the daemon: exit 2. */
	f->calls = 0;
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "drian", "web", NULL), 2);
	assert_non_null(strstr(err, "failoverctl: unknown command 'drian'"));
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "weight", "web", "12x", NULL), 2);
	assert_non_null(strstr(err, "failoverctl: weight: '12x' is not a "
	    "number from 1 to 25600 nor 'auto'\n"));
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "-j", "drain", "web", NULL), 2);
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    NULL), 2);
	assert_non_null(strstr(err, "no command given"));
	assert_int_equal(f->calls, 0);

	/* No daemon. */
	snprintf(none, sizeof(none), "%s/none.sock", f->dir);
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", none,
	    "status", NULL), 1);
	{
		char want[256];

		snprintf(want, sizeof(want), "failoverctl: cannot connect to "
		    "%s: no such file (is failoverd running?)\n", none);
		assert_string_equal(err, want);
	}

	/* An async final reply reaches the client. */
	f->async = true;
	f->auto_reply = true;
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "drain", "web", NULL), 0);
	assert_string_equal(out, "draining late\n");

	/* A daemon that does not answer: a clear error, exit 1; the reply
	 * that comes after the client left is dropped. */
	f->auto_reply = false;
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "-t", "200ms", "drain", "web", NULL), 1);
	assert_string_equal(err, "failoverctl: no reply from failoverd within "
	    "200ms\n");
	assert_int_equal(f->npending, 1);
	reply_pending(f);
	pump(f, 10);

	/* The read-only socket refuses drain: exit 1 with the reason. */
	control_close(f->srv);
	listen_rw(f, true);
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "drain", "web", NULL), 1);
	assert_string_equal(err, "failoverctl: 'drain' is not allowed on the "
	    "read-only socket (status only)\n");
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "-s", f->path,
	    "status", NULL), 0);

	/* --help names every command, the exit codes and the sockets. */
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "--help", NULL), 0);
	for (int op = 0; op < CONTROL_OP_MAX; op++) {
		char w[32];

		snprintf(w, sizeof(w), "  %s ", control_op_names[op]);
		if (strstr(out, w) == NULL)
			fail_msg("--help does not show '%s'", w);
	}
	assert_non_null(strstr(out, CONTROL_SOCKET));
	assert_non_null(strstr(out, CONTROL_STATUS_SOCKET));
	assert_non_null(strstr(out, "Exit status"));
	assert_int_equal(run_ctl(f, out, err, sizeof(out), "--version", NULL),
	    0);
	assert_int_equal(strncmp(out, "failoverctl ", 12), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_length),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_buf_nul),
		cmocka_unit_test(test_parse_small_err),
		cmocka_unit_test(test_op_names),
		cmocka_unit_test(test_reply_parse),
		cmocka_unit_test_setup_teardown(test_server_in_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_server_bad_requests,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_async, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_server_peer_gone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_server_readonly, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_server_too_long, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_server_not_reading, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_server_client_limit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_stale_socket,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_live_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ctl, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
