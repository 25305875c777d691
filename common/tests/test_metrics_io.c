/*
 * Loopback test of the metrics HTTP server (relay/metrics.c): exact replies
 * for each status, requests that arrive in pieces or half-closed, a reply
 * far larger than the client's socket buffer (the EV_WRITE path), the
 * request size cap, the idle timeout, the connection limit, closing with
 * connections open, and the bind error text. Only 127.0.0.1 is used; waits
 * poll with deadlines.
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
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/mono.h"
#include "common/metrics.h"

#define DEADLINE_MS	4000
#define BIG_BODY	(4 * 1024 * 1024)

struct fixture {
	struct ev_loop		*loop;
	struct metrics_server	*srv;
	union sockaddr_any	 addr;
	int			 renders;
	size_t			 big;		/* body size, 0: small body */
};

static void
render(struct mbuf *mb, void *arg)
{
	struct fixture *f = arg;
	size_t i;

	f->renders++;
	if (f->big == 0) {
		metrics_family(mb, "up", "gauge", "Relay is up.");
		metrics_value_u64(mb, "up", NULL, 1);
		return;
	}
	for (i = 0; i < f->big; i++)
		mbuf_append(mb, &"0123456789abcdef\n"[i % 17], 1);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	union sockaddr_any sa;
	char err[256];

	assert_non_null(f);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	assert_int_equal(hostport_parse("127.0.0.1:1", &sa, err, sizeof(err)),
	    0);
	sa_set_port(&sa, 0);
	f->srv = metrics_open(f->loop, &sa, render, f, err, sizeof(err));
	if (f->srv == NULL)
		fail_msg("metrics_open: %s", err);
	metrics_local_addr(f->srv, &f->addr);
	assert_int_not_equal(sa_port(&f->addr), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	metrics_close(f->srv);
	ev_loop_destroy(f->loop);
	free(f);
	return 0;
}

static void
pump(struct fixture *f, int rounds)
{
	while (rounds-- > 0)
		ev_run(f->loop, EVRUN_NOWAIT);
}

static int
client(struct fixture *f, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf)), 0);
	if (connect(fd, &f->addr.sa, sa_len(&f->addr)) == -1)
		assert_int_equal(errno, EINPROGRESS);
	return fd;
}

static void
send_all(struct fixture *f, int fd, const char *buf, size_t len)
{
	uint64_t deadline = mono_ms() + DEADLINE_MS;
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		assert_true(errno == EAGAIN || errno == EINPROGRESS ||
		    errno == ENOTCONN);
		assert_true(mono_ms() < deadline);
		pump(f, 1);
		poll(NULL, 0, 1);
	}
}

/* Read until the server closes; returns the elapsed milliseconds. */
static uint64_t
read_all(struct fixture *f, int fd, struct mbuf *out)
{
	uint64_t start = mono_ms();
	char buf[65536];
	ssize_t n;

	for (;;) {
		pump(f, 1);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			assert_int_equal(mbuf_append(out, buf, (size_t)n), 0);
			continue;
		}
		if (n == 0)
			return mono_ms() - start;
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		if (mono_ms() - start > DEADLINE_MS)
			fail_msg("no end of reply after %d ms", DEADLINE_MS);
		poll(NULL, 0, 1);
	}
}

/* One request, the whole reply. */
static void
exchange(struct fixture *f, const char *req, size_t len, struct mbuf *out)
{
	int fd = client(f, 0);

	send_all(f, fd, req, len);
	read_all(f, fd, out);
	close(fd);
}

static void
test_get(void **state)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n"
	    "Accept: */*\r\n\r\n";
	struct fixture *f = *state;
	struct mbuf out;

	mbuf_init(&out);
	exchange(f, req, sizeof(req) - 1, &out);
	assert_string_equal(mbuf_str(&out),
	    "HTTP/1.0 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4\r\n"
	    "Content-Length: 44\r\n"
	    "Connection: close\r\n\r\n"
	    "# HELP up Relay is up.\n"
	    "# TYPE up gauge\n"
	    "up 1\n");
	assert_int_equal(f->renders, 1);
	mbuf_free(&out);
}

static void
test_statuses(void **state)
{
	static const struct {
		const char	*req;
		const char	*first;
	} cases[] = {
		{ "GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 404 Not Found\r\n" },
		{ "PUT /metrics HTTP/1.0\r\n\r\n",
		    "HTTP/1.0 405 Method Not Allowed\r\n" },
		{ "\x16\x03\x01\x02\x05hello\r\n\r\n",
		    "HTTP/1.0 400 Bad Request\r\n" },
		{ "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\n" },
	};
	struct fixture *f = *state;
	struct mbuf out;
	size_t i;

	mbuf_init(&out);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mbuf_reset(&out);
		exchange(f, cases[i].req, strlen(cases[i].req), &out);
		assert_true(out.len > strlen(cases[i].first));
		assert_memory_equal(out.buf, cases[i].first,
		    strlen(cases[i].first));
	}
	/* Only the GET rendered. */
	assert_int_equal(f->renders, 1);
	mbuf_free(&out);
}

static void
test_pieces_and_half_close(void **state)
{
	struct fixture *f = *state;
	struct mbuf out;
	int fd;

	mbuf_init(&out);
	fd = client(f, 0);
	send_all(f, fd, "GE", 2);
	pump(f, 5);
	send_all(f, fd, "T /metrics HTTP/1.0\r", 20);
	pump(f, 5);
	send_all(f, fd, "\n\r\n", 3);
	read_all(f, fd, &out);
	close(fd);
	assert_memory_equal(out.buf, "HTTP/1.0 200 OK\r\n", 17);
	assert_string_equal(out.buf + out.len - 6, "\nup 1\n");

	/* A client that half-closes after the request line is answered. */
	mbuf_reset(&out);
	fd = client(f, 0);
	send_all(f, fd, "GET /metrics HTTP/1.0\r\n", 23);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	read_all(f, fd, &out);
	close(fd);
	assert_memory_equal(out.buf, "HTTP/1.0 200 OK\r\n", 17);
	assert_int_equal(f->renders, 2);
	mbuf_free(&out);
}

static void
test_big_reply(void **state)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	struct fixture *f = *state;
	struct mbuf out;
	char head[256];
	size_t i, hl;
	int fd;

	/* 4 MiB into a 4 KiB receive buffer: many partial writes. */
	f->big = BIG_BODY;
	mbuf_init(&out);
	fd = client(f, 4096);
	send_all(f, fd, req, sizeof(req) - 1);
	read_all(f, fd, &out);
	close(fd);
	hl = (size_t)snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n", BIG_BODY);
	assert_int_equal(out.len, hl + BIG_BODY);
	assert_memory_equal(out.buf, head, hl);
	for (i = 0; i < BIG_BODY; i++)
		if (out.buf[hl + i] != "0123456789abcdef\n"[i % 17])
			fail_msg("body byte %zu differs", i);
	mbuf_free(&out);
}

static void
test_request_cap(void **state)
{
	struct fixture *f = *state;
	char req[METRICS_MAX_REQUEST];
	struct mbuf out;
	size_t n;

	/* A head that never ends within the cap is a 400, and the server
	 * stops reading there. */
	n = (size_t)snprintf(req, sizeof(req), "GET /metrics HTTP/1.0\r\nX: ");
	memset(req + n, 'a', sizeof(req) - n);
	mbuf_init(&out);
	exchange(f, req, sizeof(req), &out);
	assert_memory_equal(out.buf, "HTTP/1.0 400 Bad Request\r\n", 26);
	assert_int_equal(f->renders, 0);
	mbuf_free(&out);
}

static void
test_timeout(void **state)
{
	struct fixture *f = *state;
	struct mbuf out;
	uint64_t ms;
	int fd;

	/* Silent after a partial request: closed, unanswered, after the
	 * idle timeout. */
	mbuf_init(&out);
	fd = client(f, 0);
	send_all(f, fd, "GET /met", 8);
	ms = read_all(f, fd, &out);
	close(fd);
	assert_int_equal(out.len, 0);
	assert_true(ms >= (uint64_t)(METRICS_TIMEOUT * 1000) - 100);
	mbuf_free(&out);
}

static void
test_conn_limit(void **state)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	struct fixture *f = *state;
	int idle[METRICS_MAX_CONNS], extra, i;
	struct mbuf out;

	for (i = 0; i < METRICS_MAX_CONNS; i++) {
		idle[i] = client(f, 0);
		pump(f, 3);
	}
	/* The 17th is accepted and closed at once, unanswered. */
	mbuf_init(&out);
	extra = client(f, 0);
	assert_true(read_all(f, extra, &out) < 1000);
	assert_int_equal(out.len, 0);
	close(extra);

	/* One slot freed: service resumes. */
	close(idle[0]);
	pump(f, 5);
	exchange(f, req, sizeof(req) - 1, &out);
	assert_memory_equal(out.buf, "HTTP/1.0 200 OK\r\n", 17);
	mbuf_free(&out);

	/* The rest stay open: metrics_close (teardown) must free them. */
	for (i = 1; i < METRICS_MAX_CONNS; i++)
		close(idle[i]);
}

static void
test_close_with_open_conns(void **state)
{
	struct fixture *f = *state;
	int a, b;

	a = client(f, 0);
	b = client(f, 0);
	send_all(f, b, "GET /", 5);
	pump(f, 5);
	metrics_close(f->srv);
	f->srv = NULL;
	close(a);
	close(b);
	metrics_close(NULL);
}

static void
test_bind_error(void **state)
{
	struct fixture *f = *state;
	char err[256], want[256], where[ADDR_STRLEN];
	union sockaddr_any none;

	assert_null(metrics_open(f->loop, &f->addr, render, f, err,
	    sizeof(err)));
	snprintf(want, sizeof(want), "metrics %s: bind: Address already in "
	    "use", sa_fmt(&f->addr, where, sizeof(where)));
	assert_string_equal(err, want);

	memset(&none, 0, sizeof(none));
	assert_null(metrics_open(f->loop, &none, render, f, err,
	    sizeof(err)));
	assert_string_equal(err, "metrics: no listen address");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pieces_and_half_close,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_reply, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_request_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conn_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_close_with_open_conns,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_error, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
