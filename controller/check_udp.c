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

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define UDP_RBUF	2048
#define UDP_SHOW	40	/* bytes of a wrong reply quoted in a detail */

struct check_udp {
	struct check_sock s;
	unsigned char	 rbuf[UDP_RBUF];
};

static int
udp_parse(struct yconf *yc, yaml_node_t *map, struct check_config *cc)
{
	return check_parse_exchange(yc, map, cc, true);
}

static void
udp_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct check_udp *u = w->data;
	struct check *c = u->s.c;
	const struct check_config *cfg = c->cfg;
	char text[UDP_SHOW + 1];
	size_t n;

	(void)loop;
	(void)revents;
	/* One try: an EINTR waits for the next wakeup. */
	if (check_sock_recv(&u->s, u->rbuf, sizeof(u->rbuf), &n,
	    "no reply") != 1)
		return;
	check_sock_close(&u->s);
	if (cfg->expect_len == 0) {
		check_done(c, true, false, "reply of %zu bytes", n);
		return;
	}
	if (memmem(u->rbuf, n, cfg->expect, cfg->expect_len) !=
	    NULL) {
		check_done(c, true, false, "reply matched");
		return;
	}
	check_printable(text, sizeof(text), u->rbuf, n);
	check_done(c, false, false, "reply mismatch: '%s'%s", text,
	    n > UDP_SHOW ? "..." : "");
}

static int
udp_start(struct check *c)
{
	struct check_udp *u = check_priv_new(c, sizeof(*u));

	check_sock_init(&u->s, c, false, udp_read_cb, u);
	return 0;
}

static void
udp_stop(struct check *c)
{
	struct check_udp *u = c->priv;

	check_sock_close(&u->s);
	free(u);
	c->priv = NULL;
}

static void
udp_attempt(struct check *c)
{
	struct check_udp *u = c->priv;

	if (check_sock_ready(&u->s, SOCK_DGRAM, EV_READ) == -1)
		return;
	check_sock_send(&u->s, c->cfg->send, c->cfg->send_len);
}

static void
udp_cancel(struct check *c)
{
	struct check_udp *u = c->priv;

	check_sock_cancel(&u->s);
}

const struct check_kind_ops check_udp_ops = {
	.keys = check_exchange_keys,
	.parse = udp_parse,
	.start = udp_start,
	.stop = udp_stop,
	.attempt = udp_attempt,
	.cancel = udp_cancel,
};
