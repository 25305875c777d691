#include "controller/relaystat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/ngclient.h"

#define RELAYSTAT_NODES		256
#define RELAYSTAT_BUF		8192

struct relaystat {
	struct ev_loop		*loop;
	union sockaddr_any	 target;
	relaystat_cb		*cb;
	void			*arg;
	int			 fd;
	ev_io			 io;
	ev_timer		 timeout;
	bool			 busy;
	uint64_t		 seq;
	uint32_t		 base;
	char			 cookie[32];
};

static int
relaystat_int(const struct bnode *d, const char *key, uint64_t *out,
    char *err, size_t errlen)
{
	const struct bnode *n = bnode_get(d, key);

	if (n == NULL || n->type != BNODE_INT || n->i < 0) {
		snprintf(err, errlen, "statistics reply: no non-negative "
		    "integer '%s'", key);
		return -1;
	}
	*out = (uint64_t)n->i;
	return 0;
}

int
relaystat_parse(const struct bnode *reply, struct relaystat_sample *out,
    char *err, size_t errlen)
{
	const struct bnode *st, *cur;

	st = bnode_get(reply, "statistics");
	if (st == NULL || st->type != BNODE_DICT) {
		snprintf(err, errlen, "statistics reply: no 'statistics' "
		    "dictionary");
		return -1;
	}
	cur = bnode_get(st, "currentstatistics");
	if (cur == NULL || cur->type != BNODE_DICT) {
		snprintf(err, errlen, "statistics reply: no "
		    "'currentstatistics' dictionary");
		return -1;
	}
	if (relaystat_int(cur, "packetrate", &out->packet_rate, err,
	    errlen) == -1 || relaystat_int(cur, "sessionstotal",
	    &out->sessions, err, errlen) == -1)
		return -1;
	return 0;
}

static void
relaystat_finish(struct relaystat *rs, bool ok,
    const struct relaystat_sample *s, const char *err)
{
	rs->busy = false;
	ev_timer_stop(rs->loop, &rs->timeout);
	rs->cb(rs, ok, s, err, rs->arg);
}

static void
relaystat_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relaystat *rs = w->data;
	struct bnode nodes[RELAYSTAT_NODES], *root;
	struct relaystat_sample s;
	char buf[RELAYSTAT_BUF], err[256];
	const char *body;
	size_t bodylen;
	ssize_t n;

	(void)loop;
	(void)revents;
	for (;;) {
		n = recv(rs->fd, buf, sizeof(buf), 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (rs->busy) {
				snprintf(err, sizeof(err), "%s",
				    strerror(errno));
				relaystat_finish(rs, false, NULL, err);
			}
			return;
		}
		if (!rs->busy || !ngc_cookie_match(buf, (size_t)n,
		    rs->cookie, &body, &bodylen))
			continue;	/* late or foreign: drop */
		if (ngc_reply_decode(body, bodylen, nodes, RELAYSTAT_NODES,
		    &root, err, sizeof(err)) == -1 ||
		    relaystat_parse(root, &s, err, sizeof(err)) == -1) {
			relaystat_finish(rs, false, NULL, err);
			return;
		}
		relaystat_finish(rs, true, &s, NULL);
		return;
	}
}

static void
relaystat_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relaystat *rs = w->data;

	(void)loop;
	(void)revents;
	if (rs->busy)
		relaystat_finish(rs, false, NULL, "no reply");
}

struct relaystat *
relaystat_new(struct ev_loop *loop, const union sockaddr_any *target,
    uint64_t timeout_us, relaystat_cb *cb, void *arg)
{
	struct relaystat *rs;
	char buf[ADDR_STRLEN];

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		fatal("relaystat");
	rs->loop = loop;
	rs->target = *target;
	rs->cb = cb;
	rs->arg = arg;
	rs->base = (uint32_t)getpid() ^ (uint32_t)(uintptr_t)rs;
	rs->fd = socket(target->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	/* connect() makes ICMP port unreachable come back as an error. */
	if (rs->fd == -1 || connect(rs->fd, &target->sa,
	    sa_len(target)) == -1) {
		log_warn("relay statistics %s", sa_fmt(target, buf,
		    sizeof(buf)));
		if (rs->fd != -1)
			close(rs->fd);
		rs->fd = -1;
	}
	ev_io_init(&rs->io, relaystat_read_cb, rs->fd, EV_READ);
	rs->io.data = rs;
	if (rs->fd != -1)
		ev_io_start(loop, &rs->io);
	ev_timer_init(&rs->timeout, relaystat_timeout_cb,
	    (double)timeout_us / 1e6, 0.);
	rs->timeout.data = rs;
	return rs;
}

void
relaystat_free(struct relaystat *rs)
{
	if (rs == NULL)
		return;
	ev_io_stop(rs->loop, &rs->io);
	ev_timer_stop(rs->loop, &rs->timeout);
	if (rs->fd != -1)
		close(rs->fd);
	free(rs);
}

void
relaystat_request(struct relaystat *rs)
{
	struct bencoder b;
	char req[128], dgram[256], err[128];
	ssize_t len;

	if (rs->busy)
		return;
	if (rs->fd == -1) {
		rs->cb(rs, false, NULL, "no socket", rs->arg);
		return;
	}
	benc_init(&b, req, sizeof(req));
	benc_dict(&b);
	benc_kv_str(&b, "command", "statistics");
	benc_end(&b);
	snprintf(rs->cookie, sizeof(rs->cookie), "fo%08x_%llu", rs->base,
	    (unsigned long long)++rs->seq);
	len = ngc_frame(dgram, sizeof(dgram), rs->cookie, &b, err,
	    sizeof(err));
	if (len == -1 || send(rs->fd, dgram, (size_t)len, 0) != len) {
		rs->cb(rs, false, NULL, len == -1 ? err : strerror(errno),
		    rs->arg);
		return;
	}
	rs->busy = true;
	ev_timer_start(rs->loop, &rs->timeout);
}
