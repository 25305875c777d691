/*
 * tcp: a non-blocking connect to `target'; optionally write `send' and
 * wait until the bytes received contain `expect' (expect alone suits
 * services that speak first, such as a banner). ok when connected, or
 * when expect has been seen. A fresh connection per attempt, closed with
 * the verdict.
 *
 * The reply is searched in a sliding window that keeps the last
 * expect_len - 1 bytes, so the expected string is found across reads and
 * anywhere in a long reply, with a fixed buffer.
 */
#include "controller/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define TCP_WINDOW	(2 * CHECK_PAYLOAD_MAX)

enum tcp_phase {
	TCP_IDLE,
	TCP_CONNECTING,
	TCP_SENDING,
	TCP_READING,
};

struct check_tcp {
	struct check_sock s;
	enum tcp_phase	 phase;
	size_t		 sent;
	size_t		 wlen;
	unsigned char	 window[TCP_WINDOW];
};

static int
tcp_parse(struct yconf *yc, yaml_node_t *map, struct check_config *cc)
{
	return check_parse_exchange(yc, map, cc, false);
}

static void
tcp_close(struct check_tcp *t)
{
	t->phase = TCP_IDLE;
	check_sock_close(&t->s);
}

static void
tcp_watch(struct check_tcp *t, int events)
{
	ev_io_stop(t->s.c->loop, &t->s.io);
	ev_io_set(&t->s.io, t->s.fd, events);
	ev_io_start(t->s.c->loop, &t->s.io);
}

/* Close and report; the caller returns at once (c may be freed). */
static void
tcp_verdict(struct check_tcp *t, bool ok, const char *what, int errnum)
{
	struct check *c = t->s.c;

	tcp_close(t);
	if (errnum != 0)
		check_done(c, ok, false, "%s: %s", what, strerror(errnum));
	else
		check_done(c, ok, false, "%s", what);
}

/* Returns true when the verdict has been given. */
static bool
tcp_send(struct check_tcp *t)
{
	const struct check_config *cfg = t->s.c->cfg;
	ssize_t n;

	while (t->sent < cfg->send_len) {
		n = send(t->s.fd, cfg->send + t->sent, cfg->send_len - t->sent,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return false;
			tcp_verdict(t, false, "send", errno);
			return true;
		}
		t->sent += (size_t)n;
	}
	if (cfg->expect_len == 0) {
		tcp_verdict(t, true, "connected, request sent", 0);
		return true;
	}
	t->phase = TCP_READING;
	tcp_watch(t, EV_READ);
	return false;
}

static void
tcp_read(struct check_tcp *t)
{
	const struct check_config *cfg = t->s.c->cfg;
	size_t keep;
	ssize_t n;

	for (;;) {
		if (TCP_WINDOW - t->wlen < CHECK_PAYLOAD_MAX) {
			keep = cfg->expect_len - 1;
			memmove(t->window, t->window + t->wlen - keep, keep);
			t->wlen = keep;
		}
		n = recv(t->s.fd, t->window + t->wlen, TCP_WINDOW - t->wlen, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			tcp_verdict(t, false, "recv", errno);
			return;
		}
		if (n == 0) {
			tcp_verdict(t, false, "connection closed before the "
			    "expected reply", 0);
			return;
		}
		t->wlen += (size_t)n;
		if (memmem(t->window, t->wlen, cfg->expect,
		    cfg->expect_len) != NULL) {
			tcp_verdict(t, true, "reply matched", 0);
			return;
		}
	}
}

static void
tcp_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct check_tcp *t = w->data;
	const struct check_config *cfg = t->s.c->cfg;
	char what[16 + ADDR_STRLEN], sbuf[ADDR_STRLEN];
	socklen_t len;
	int err;

	(void)loop;
	(void)revents;
	switch (t->phase) {
	case TCP_IDLE:
		return;
	case TCP_CONNECTING:
		err = 0;
		len = sizeof(err);
		if (getsockopt(t->s.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			snprintf(what, sizeof(what), "connect to %s",
			    sa_fmt(&cfg->target, sbuf, sizeof(sbuf)));
			tcp_verdict(t, false, what, err);
			return;
		}
		if (cfg->send_len > 0) {
			t->phase = TCP_SENDING;
			tcp_send(t);
			return;
		}
		if (cfg->expect_len > 0) {
			t->phase = TCP_READING;
			tcp_watch(t, EV_READ);
			return;
		}
		tcp_verdict(t, true, "connected", 0);
		return;
	case TCP_SENDING:
		tcp_send(t);
		return;
	case TCP_READING:
		tcp_read(t);
		return;
	}
}

static int
tcp_start(struct check *c)
{
	struct check_tcp *t = check_priv_new(c, sizeof(*t));

	check_sock_init(&t->s, c, false, tcp_io_cb, t);
	return 0;
}

static void
tcp_stop(struct check *c)
{
	struct check_tcp *t = c->priv;

	tcp_close(t);
	free(t);
	c->priv = NULL;
}

static void
tcp_attempt(struct check *c)
{
	struct check_tcp *t = c->priv;

	t->phase = TCP_IDLE;
	/* Writable once the handshake is done, or failed. */
	if (check_sock_ready(&t->s, SOCK_STREAM, EV_WRITE) == -1)
		return;
	t->phase = TCP_CONNECTING;
	t->sent = 0;
	t->wlen = 0;
}

static void
tcp_cancel(struct check *c)
{
	tcp_close(c->priv);
}

const struct check_kind_ops check_tcp_ops = {
	.keys = check_exchange_keys,
	.parse = tcp_parse,
	.start = tcp_start,
	.stop = tcp_stop,
	.attempt = tcp_attempt,
	.cancel = tcp_cancel,
};
