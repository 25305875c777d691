/*
 * ng-ping: the rtpengine ng "ping" command to the relay's control port;
 * ok when it answers "pong". Proves the control plane (the part SIP
 * proxies need to set up new calls) is alive.
 *
 * One connected UDP socket kept open, a fresh cookie per attempt: a reply
 * carrying another cookie (a late answer to an earlier attempt) is
 * ignored, and ICMP errors fail the attempt at once, as in rtp-probe.
 * Framing and decoding are common/ngclient.h's pure helpers.
 */
#include "controller/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bencode.h"
#include "common/log.h"
#include "common/mono.h"
#include "common/ngclient.h"

#define NG_PING_BATCH		16	/* datagrams read per wakeup */
#define NG_PING_RBUF		4096	/* a pong is about 20 bytes */
#define NG_PING_NODES		32

struct ng_ping {
	struct check	*c;
	ev_io		 io;
	int		 fd;
	uint32_t	 cookie_base;
	uint64_t	 seq;
	bool		 waiting;
	char		 cookie[32];
	char		 sbuf[128];
	char		 rbuf[NG_PING_RBUF];
};

static const char *const ng_ping_keys[] = { "target", "source", NULL };

static int
ng_ping_parse(struct yconf *yc, yaml_node_t *map, struct check_config *cc)
{
	return check_parse_target(yc, map, cc);
}

static void
ng_ping_close(struct ng_ping *p)
{
	if (p->fd == -1)
		return;
	ev_io_stop(p->c->loop, &p->io);
	close(p->fd);
	p->fd = -1;
}

/* Judge one reply to the cookie in flight; calls check_done. */
static void
ng_ping_judge(struct ng_ping *p, const char *body, size_t len)
{
	struct bnode nodes[NG_PING_NODES], *root, *res;
	char err[CHECK_DETAIL_MAX], text[32];

	p->waiting = false;
	if (ngc_reply_decode(body, len, nodes, NG_PING_NODES, &root, err,
	    sizeof(err)) == -1) {
		check_done(p->c, false, false, "%s", err);
		return;
	}
	res = bnode_get(root, "result");
	if (bnode_str_eq(res, "pong")) {
		check_done(p->c, true, false, "pong");
		return;
	}
	check_printable(text, sizeof(text), res->s, res->len);
	check_done(p->c, false, false, "result '%s', expected 'pong'", text);
}

static void
ng_ping_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ng_ping *p = w->data;
	struct check *c = p->c;
	const char *body;
	char sbuf[ADDR_STRLEN];
	size_t bodylen;
	ssize_t n;
	int i, saved;

	(void)loop;
	(void)revents;
	for (i = 0; i < NG_PING_BATCH; i++) {
		n = recv(p->fd, p->rbuf, sizeof(p->rbuf), 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			saved = errno;
			if (!p->waiting || !c->busy)
				continue;
			p->waiting = false;
			check_done(c, false, false, "no reply from %s: %s",
			    sa_fmt(&c->cfg->target, sbuf, sizeof(sbuf)),
			    strerror(saved));
			return;
		}
		if (!p->waiting || !c->busy || !ngc_cookie_match(p->rbuf,
		    (size_t)n, p->cookie, &body, &bodylen))
			continue;
		ng_ping_judge(p, body, bodylen);
		return;
	}
}

static int
ng_ping_start(struct check *c)
{
	struct ng_ping *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("check %s", c->cfg->name);
	p->c = c;
	p->fd = -1;
	if (getrandom(&p->cookie_base, sizeof(p->cookie_base),
	    GRND_NONBLOCK) != sizeof(p->cookie_base))
		p->cookie_base = (uint32_t)getpid() ^ (uint32_t)mono_ns();
	ev_io_init(&p->io, ng_ping_read_cb, -1, EV_READ);
	p->io.data = p;
	c->priv = p;
	return 0;
}

static void
ng_ping_stop(struct check *c)
{
	struct ng_ping *p = c->priv;

	ng_ping_close(p);
	free(p);
	c->priv = NULL;
}

static void
ng_ping_attempt(struct check *c)
{
	struct ng_ping *p = c->priv;
	struct bencoder b;
	char req[64], err[CHECK_DETAIL_MAX], sbuf[ADDR_STRLEN];
	ssize_t len, n;
	int saved;

	if (p->fd == -1) {
		if ((p->fd = check_sock_open(c->cfg, SOCK_DGRAM, err,
		    sizeof(err))) == -1) {
			check_done(c, false, false, "%s", err);
			return;
		}
		ev_io_set(&p->io, p->fd, EV_READ);
		ev_io_start(c->loop, &p->io);
	}
	snprintf(p->cookie, sizeof(p->cookie), "fo%08x_%llu", p->cookie_base,
	    (unsigned long long)++p->seq);
	benc_init(&b, req, sizeof(req));
	ngc_build_ping(&b);
	if ((len = ngc_frame(p->sbuf, sizeof(p->sbuf), p->cookie, &b, err,
	    sizeof(err))) == -1) {
		/* Cannot happen with these sizes; say so if it does. */
		check_done(c, false, false, "ping request: %s", err);
		return;
	}
	n = send(p->fd, p->sbuf, (size_t)len, 0);
	if (n == -1 && errno == ECONNREFUSED)
		n = send(p->fd, p->sbuf, (size_t)len, 0);
	if (n != len) {
		saved = n == -1 ? errno : EMSGSIZE;
		if (saved != EAGAIN && saved != ENOBUFS)
			ng_ping_close(p);
		check_done(c, false, false, "send to %s: %s",
		    sa_fmt(&c->cfg->target, sbuf, sizeof(sbuf)),
		    strerror(saved));
		return;
	}
	p->waiting = true;
}

static void
ng_ping_cancel(struct check *c)
{
	struct ng_ping *p = c->priv;

	p->waiting = false;
}

const struct check_kind_ops check_ng_ping_ops = {
	.keys = ng_ping_keys,
	.parse = ng_ping_parse,
	.start = ng_ping_start,
	.stop = ng_ping_stop,
	.attempt = ng_ping_attempt,
	.cancel = ng_ping_cancel,
};
