/*
 * udp: one datagram out (`send'), one reply back; with `expect' the reply
 * must contain that byte string. For UDP services that answer a fixed
 * request (a STUN binding, a custom health port).
 *
 * A fresh connected socket per attempt: a generic UDP service gives us
 * nothing to tell a late reply from the current one, but a late reply to
 * a closed socket never arrives. The socket is closed with the verdict.
 */
#include "controller/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

#define UDP_RBUF	2048
#define UDP_SHOW	40	/* bytes of a wrong reply quoted in a detail */

struct check_udp {
	struct check	*c;
	ev_io		 io;
	int		 fd;
	unsigned char	 rbuf[UDP_RBUF];
};

static const char *const udp_keys[] = {
	"target", "source", "send", "expect", NULL
};

static int
udp_parse(struct yconf *yc, yaml_node_t *map, struct check_config *cc)
{
	int rc = 0;

	if (check_parse_target(yc, map, cc) == -1)
		rc = -1;
	if (check_parse_need(yc, map, cc, "send") == NULL)
		rc = -1;
	if (check_parse_bytes(yc, map, "send", cc->send, &cc->send_len) == -1)
		rc = -1;
	if (check_parse_bytes(yc, map, "expect", cc->expect,
	    &cc->expect_len) == -1)
		rc = -1;
	return rc;
}

static void
udp_close(struct check_udp *u)
{
	if (u->fd == -1)
		return;
	ev_io_stop(u->c->loop, &u->io);
	close(u->fd);
	u->fd = -1;
}

static void
udp_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct check_udp *u = w->data;
	struct check *c = u->c;
	const struct check_config *cfg = c->cfg;
	char sbuf[ADDR_STRLEN], text[UDP_SHOW + 1];
	ssize_t n;
	int saved;

	(void)loop;
	(void)revents;
	n = recv(u->fd, u->rbuf, sizeof(u->rbuf), 0);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	saved = errno;
	udp_close(u);
	if (n == -1) {
		check_done(c, false, false, "no reply from %s: %s",
		    sa_fmt(&cfg->target, sbuf, sizeof(sbuf)), strerror(saved));
		return;
	}
	if (cfg->expect_len == 0) {
		check_done(c, true, false, "reply of %zd bytes", n);
		return;
	}
	if (memmem(u->rbuf, (size_t)n, cfg->expect, cfg->expect_len) !=
	    NULL) {
		check_done(c, true, false, "reply matched");
		return;
	}
	check_printable(text, sizeof(text), u->rbuf, (size_t)n);
	check_done(c, false, false, "reply mismatch: '%s'%s", text,
	    n > UDP_SHOW ? "..." : "");
}

static int
udp_start(struct check *c)
{
	struct check_udp *u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		fatal("check %s", c->cfg->name);
	u->c = c;
	u->fd = -1;
	ev_io_init(&u->io, udp_read_cb, -1, EV_READ);
	u->io.data = u;
	c->priv = u;
	return 0;
}

static void
udp_stop(struct check *c)
{
	struct check_udp *u = c->priv;

	udp_close(u);
	free(u);
	c->priv = NULL;
}

static void
udp_attempt(struct check *c)
{
	struct check_udp *u = c->priv;
	const struct check_config *cfg = c->cfg;
	char err[CHECK_DETAIL_MAX], sbuf[ADDR_STRLEN];
	ssize_t n;
	int saved;

	udp_close(u);
	if ((u->fd = check_sock_open(cfg, SOCK_DGRAM, err,
	    sizeof(err))) == -1) {
		check_done(c, false, false, "%s", err);
		return;
	}
	n = send(u->fd, cfg->send, cfg->send_len, 0);
	if (n != (ssize_t)cfg->send_len) {
		saved = n == -1 ? errno : EMSGSIZE;
		udp_close(u);
		check_done(c, false, false, "send to %s: %s",
		    sa_fmt(&cfg->target, sbuf, sizeof(sbuf)), strerror(saved));
		return;
	}
	ev_io_set(&u->io, u->fd, EV_READ);
	ev_io_start(c->loop, &u->io);
}

static void
udp_cancel(struct check *c)
{
	udp_close(c->priv);
}

const struct check_kind_ops check_udp_ops = {
	.keys = udp_keys,
	.parse = udp_parse,
	.start = udp_start,
	.stop = udp_stop,
	.attempt = udp_attempt,
	.cancel = udp_cancel,
};
