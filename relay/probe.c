/*
 * The probe mirror: one UDP socket on the VIP, drained in batches with
 * recvmmsg and answered with sendmmsg from the same buffers.
 */
#include "relay/probe.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/mono.h"

const char *const probe_verdict_names[] = {
	[PROBE_REPLY] = "reply",
	[PROBE_DROP_ACL] = "acl",
	[PROBE_DROP_SIZE] = "size",
	[PROBE_DROP_RATE] = "rate",
};

struct probe {
	struct ev_loop		*loop;
	ev_io			 io;
	int			 fd;
	union sockaddr_any	 local;
	struct prefix		 allow[RELAY_MAX_PROBE_ALLOW];
	int			 nallow;
	uint32_t		 rate;
	struct ratelimit	 rl;
	struct probe_stats	 stats;

	/* One batch: request i lives in buf[i]; replies reuse the buffers. */
	struct mmsghdr		 in[PROBE_BATCH];
	struct iovec		 in_iov[PROBE_BATCH];
	union sockaddr_any	 from[PROBE_BATCH];
	struct mmsghdr		 out[PROBE_BATCH];
	struct iovec		 out_iov[PROBE_BATCH];
	uint8_t			 buf[PROBE_BATCH][PROBE_MAX_PAYLOAD];
};

const char *
probe_verdict_name(enum probe_verdict v)
{
	if ((unsigned int)v >= PROBE_VERDICT_MAX)
		return "unknown";
	return probe_verdict_names[v];
}

uint32_t
probe_burst(uint32_t rate_per_s)
{
	return rate_per_s >= 10 ? rate_per_s / 10 : 1;
}

enum probe_verdict
probe_classify(const struct prefix *allow, int nallow,
    const union sockaddr_any *src, size_t len, bool truncated,
    struct ratelimit *rl, uint64_t now_us)
{
	struct addr a;
	int i;

	if (src->sa.sa_family != AF_INET && src->sa.sa_family != AF_INET6)
		return PROBE_DROP_ACL;
	sa_to_addr(src, &a);
	for (i = 0; i < nallow; i++)
		if (prefix_contains(&allow[i], &a))
			break;
	if (i == nallow)
		return PROBE_DROP_ACL;
	if (truncated || len > PROBE_MAX_PAYLOAD)
		return PROBE_DROP_SIZE;
	if (!ratelimit_take(rl, now_us))
		return PROBE_DROP_RATE;
	return PROBE_REPLY;
}

/*
 * Send out[0..n). A datagram the kernel refuses is skipped and counted;
 * a full socket buffer drops the rest of the batch (the prober retries,
 * and queueing echoes would only delay them into uselessness).
 */
static void
probe_send(struct probe *p, unsigned int n)
{
	unsigned int sent = 0;
	int r;

	while (sent < n) {
		r = sendmmsg(p->fd, p->out + sent, n - sent, MSG_DONTWAIT);
		if (r > 0) {
			sent += (unsigned int)r;
			p->stats.replied += (uint64_t)r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS)) {
			p->stats.send_errors += n - sent;
			return;
		}
		p->stats.send_errors++;
		sent++;
	}
}

static void
probe_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct probe *p = w->data;
	struct msghdr *h;
	unsigned int nout = 0;
	uint64_t now;
	int i, n;

	(void)loop;
	(void)revents;
	for (i = 0; i < PROBE_BATCH; i++) {
		h = &p->in[i].msg_hdr;
		memset(h, 0, sizeof(*h));
		p->in_iov[i].iov_base = p->buf[i];
		p->in_iov[i].iov_len = sizeof(p->buf[i]);
		h->msg_iov = &p->in_iov[i];
		h->msg_iovlen = 1;
		h->msg_name = &p->from[i];
		h->msg_namelen = sizeof(p->from[i]);
		p->in[i].msg_len = 0;
	}
	n = recvmmsg(p->fd, p->in, PROBE_BATCH, MSG_DONTWAIT, NULL);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			p->stats.recv_errors++;
		return;
	}
	now = mono_us();
	for (i = 0; i < n; i++) {
		h = &p->in[i].msg_hdr;
		switch (probe_classify(p->allow, p->nallow, &p->from[i],
		    p->in[i].msg_len, (h->msg_flags & MSG_TRUNC) != 0, &p->rl,
		    now)) {
		case PROBE_DROP_ACL:
			p->stats.dropped_acl++;
			continue;
		case PROBE_DROP_SIZE:
			p->stats.dropped_size++;
			continue;
		case PROBE_DROP_RATE:
			p->stats.dropped_rate++;
			continue;
		default:
			break;
		}
		p->out_iov[nout].iov_base = p->buf[i];
		p->out_iov[nout].iov_len = p->in[i].msg_len;
		memset(&p->out[nout], 0, sizeof(p->out[nout]));
		p->out[nout].msg_hdr.msg_name = &p->from[i];
		p->out[nout].msg_hdr.msg_namelen = h->msg_namelen;
		p->out[nout].msg_hdr.msg_iov = &p->out_iov[nout];
		p->out[nout].msg_hdr.msg_iovlen = 1;
		nout++;
	}
	probe_send(p, nout);
}

static int
probe_setopt(int fd, int level, int name, const char *what, const char *where,
    char *err, size_t errlen)
{
	int one = 1;

	if (setsockopt(fd, level, name, &one, sizeof(one)) == -1) {
		snprintf(err, errlen, "probe mirror %s: setsockopt %s: %s",
		    where, what, strerror(errno));
		return -1;
	}
	return 0;
}

struct probe *
probe_open(struct ev_loop *loop, const struct relay_config *cfg, char *err,
    size_t errlen)
{
	const union sockaddr_any *sa = &cfg->probe_listen;
	char where[ADDR_STRLEN];
	struct probe *p;
	socklen_t len;
	int fd;

	sa_fmt(sa, where, sizeof(where));
	if (sa->sa.sa_family != AF_INET && sa->sa.sa_family != AF_INET6) {
		snprintf(err, errlen, "probe mirror: no listen address");
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "probe mirror %s: out of memory", where);
		return NULL;
	}
	/*
	 * No SO_REUSEADDR: for UDP its only effect is to let a second socket
	 * bind the same address and port, so a relay started twice would
	 * share the mirror silently instead of failing here.
	 */
	fd = socket(sa->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "probe mirror %s: socket: %s", where,
		    strerror(errno));
		free(p);
		return NULL;
	}
	/* FREEBIND: the mirror may start before the VIP is put on lo. */
	if ((sa->sa.sa_family == AF_INET &&
	    probe_setopt(fd, IPPROTO_IP, IP_FREEBIND, "IP_FREEBIND", where,
	    err, errlen) == -1) ||
	    (sa->sa.sa_family == AF_INET6 &&
	    (probe_setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", where,
	    err, errlen) == -1 ||
	    probe_setopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, "IPV6_FREEBIND",
	    where, err, errlen) == -1)))
		goto fail;
	if (bind(fd, &sa->sa, sa_len(sa)) == -1) {
		snprintf(err, errlen, "probe mirror %s: bind: %s", where,
		    strerror(errno));
		goto fail;
	}
	len = sizeof(p->local);
	if (getsockname(fd, &p->local.sa, &len) == -1) {
		snprintf(err, errlen, "probe mirror %s: getsockname: %s",
		    where, strerror(errno));
		goto fail;
	}
	p->loop = loop;
	p->fd = fd;
	probe_reconfigure(p, cfg);
	ev_io_init(&p->io, probe_read_cb, fd, EV_READ);
	p->io.data = p;
	ev_io_start(loop, &p->io);
	return p;

fail:
	close(fd);
	free(p);
	return NULL;
}

void
probe_reconfigure(struct probe *p, const struct relay_config *cfg)
{
	int n = cfg->nprobe_allow;

	if (n < 0)
		n = 0;
	if (n > RELAY_MAX_PROBE_ALLOW)
		n = RELAY_MAX_PROBE_ALLOW;
	memcpy(p->allow, cfg->probe_allow, (size_t)n * sizeof(p->allow[0]));
	p->nallow = n;
	/* An unchanged rate keeps the bucket's state: a reload is no reason
	 * to hand out a fresh burst. */
	if (p->rate != cfg->probe_rate || p->rl.burst == 0) {
		p->rate = cfg->probe_rate;
		ratelimit_init(&p->rl, p->rate, probe_burst(p->rate),
		    mono_us());
	}
}

void
probe_stats(const struct probe *p, struct probe_stats *out)
{
	*out = p->stats;
}

void
probe_local_addr(const struct probe *p, union sockaddr_any *out)
{
	*out = p->local;
}

void
probe_close(struct probe *p)
{
	if (p == NULL)
		return;
	ev_io_stop(p->loop, &p->io);
	close(p->fd);
	free(p);
}
