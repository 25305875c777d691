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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bencode.h"
#include "common/mono.h"
#include "common/ngclient.h"

#define NG_PING_BATCH		16	/* datagrams read per wakeup */
#define NG_PING_RBUF		4096	/* a pong is about 20 bytes */
#define NG_PING_NODES		32

struct ng_ping {
	struct check_sock s;		/* waiting: cookie is in flight */
	uint32_t	 cookie_base;
	uint64_t	 seq;
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

/* Judge one reply to the cookie in flight; calls check_done. */
static void
ng_ping_judge(struct ng_ping *p, const char *body, size_t len)
{
	struct bnode nodes[NG_PING_NODES], *root, *res;
	char err[CHECK_DETAIL_MAX], text[32];

	p->s.waiting = false;
	if (ngc_reply_decode(body, len, nodes, NG_PING_NODES, &root, err,
	    sizeof(err)) == -1) {
		check_done(p->s.c, false, false, "%s", err);
		return;
	}
	res = bnode_get(root, "result");
	if (bnode_str_eq(res, "pong")) {
		check_done(p->s.c, true, false, "pong");
		return;
	}
	check_printable(text, sizeof(text), res->s, res->len);
	check_done(p->s.c, false, false, "result '%s', expected 'pong'", text);
}

static void
ng_ping_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ng_ping *p = w->data;
	const char *body;
	size_t n, bodylen;
	int i, rc;

	(void)loop;
	(void)revents;
	for (i = 0; i < NG_PING_BATCH; i++) {
		if ((rc = check_sock_recv(&p->s, p->rbuf, sizeof(p->rbuf), &n,
		    "no reply")) == -1)
			return;
		if (rc == 0 || !ngc_cookie_match(p->rbuf, n, p->cookie, &body,
		    &bodylen))
			continue;
		ng_ping_judge(p, body, bodylen);
		return;
	}
}

static int
ng_ping_start(struct check *c)
{
	struct ng_ping *p = check_priv_new(c, sizeof(*p));

	check_sock_init(&p->s, c, true, ng_ping_read_cb, p);
	if (getrandom(&p->cookie_base, sizeof(p->cookie_base),
	    GRND_NONBLOCK) != sizeof(p->cookie_base))
		p->cookie_base = (uint32_t)getpid() ^ (uint32_t)mono_ns();
	return 0;
}

static void
ng_ping_stop(struct check *c)
{
	struct ng_ping *p = c->priv;

	check_sock_close(&p->s);
	free(p);
	c->priv = NULL;
}

static void
ng_ping_attempt(struct check *c)
{
	struct ng_ping *p = c->priv;
	struct bencoder b;
	char req[64], err[CHECK_DETAIL_MAX];
	ssize_t len;

	if (check_sock_ready(&p->s, SOCK_DGRAM, EV_READ) == -1)
		return;
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
	check_sock_send(&p->s, p->sbuf, (size_t)len);
}

static void
ng_ping_cancel(struct check *c)
{
	struct ng_ping *p = c->priv;

	check_sock_cancel(&p->s);
}

const struct check_kind_ops check_ng_ping_ops = {
	.keys = ng_ping_keys,
	.parse = ng_ping_parse,
	.start = ng_ping_start,
	.stop = ng_ping_stop,
	.attempt = ng_ping_attempt,
	.cancel = ng_ping_cancel,
};
