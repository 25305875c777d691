/*
 * rtp-probe: one RTP packet per attempt to the relay's probe mirror on the
 * VIP (relay/probe.c), which sends it back. An echo proves the relay's
 * event loop runs and the VIP's data path answers, through the same
 * kernel paths as media.
 *
 * One connected UDP socket is kept open (opened lazily, reopened after a
 * hard error), so the kernel filters foreign datagrams and an ICMP error
 * for our packets comes back as ECONNREFUSED (or EHOSTUNREACH...) on
 * recv: that fails the attempt at once instead of waiting for the
 * timeout. The packet carries a fixed SSRC chosen at start and a sequence
 * number that grows per attempt; only a byte-exact echo of the packet in
 * flight counts, so a late echo of an earlier attempt is ignored.
 */
#include "controller/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mono.h"

#define RTP_PROBE_PT		127	/* dynamic: no codec will claim it */
#define RTP_PROBE_LEN		20	/* 12-byte header, 8 bytes payload */
#define RTP_PROBE_BATCH		64	/* datagrams read per wakeup */
/* Eight bytes that name the packet in a capture. */
#define RTP_PROBE_PAYLOAD	"failover"

struct rtp_probe {
	struct check	*c;
	ev_io		 io;
	int		 fd;
	uint32_t	 ssrc;
	uint16_t	 seq;
	bool		 waiting;	/* pkt is in flight */
	unsigned char	 pkt[RTP_PROBE_LEN];
};

static const char *const rtp_probe_keys[] = { "target", "source", NULL };

static int
rtp_probe_parse(struct yconf *yc, yaml_node_t *map, struct check_config *cc)
{
	return check_parse_target(yc, map, cc);
}

static void
rtp_probe_close(struct rtp_probe *p)
{
	if (p->fd == -1)
		return;
	ev_io_stop(p->c->loop, &p->io);
	close(p->fd);
	p->fd = -1;
}

static void
rtp_probe_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct rtp_probe *p = w->data;
	struct check *c = p->c;
	unsigned char buf[CHECK_PAYLOAD_MAX];
	char sbuf[ADDR_STRLEN];
	ssize_t n;
	int i, saved;

	(void)loop;
	(void)revents;
	for (i = 0; i < RTP_PROBE_BATCH; i++) {
		n = recv(p->fd, buf, sizeof(buf), 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			/* An ICMP error: reading it cleared it. */
			saved = errno;
			if (!p->waiting || !c->busy)
				continue;
			p->waiting = false;
			check_done(c, false, false, "no echo from %s: %s",
			    sa_fmt(&c->cfg->target, sbuf, sizeof(sbuf)),
			    strerror(saved));
			return;
		}
		if (!p->waiting || !c->busy || n != RTP_PROBE_LEN ||
		    memcmp(buf, p->pkt, RTP_PROBE_LEN) != 0)
			continue;
		p->waiting = false;
		check_done(c, true, false, "echo of seq %u", p->seq);
		return;
	}
}

static int
rtp_probe_start(struct check *c)
{
	struct rtp_probe *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("check %s", c->cfg->name);
	p->c = c;
	p->fd = -1;
	if (getrandom(&p->ssrc, sizeof(p->ssrc), GRND_NONBLOCK) !=
	    sizeof(p->ssrc))
		p->ssrc = (uint32_t)getpid() ^ (uint32_t)mono_ns();
	p->seq = (uint16_t)(p->ssrc >> 7);
	ev_io_init(&p->io, rtp_probe_read_cb, -1, EV_READ);
	p->io.data = p;
	c->priv = p;
	return 0;
}

static void
rtp_probe_stop(struct check *c)
{
	struct rtp_probe *p = c->priv;

	rtp_probe_close(p);
	free(p);
	c->priv = NULL;
}

static void
rtp_probe_build(struct rtp_probe *p)
{
	/* An 8 kHz clock, as for narrowband audio; only its change matters. */
	uint32_t ts = (uint32_t)(mono_us() / 125);
	unsigned char *b = p->pkt;

	p->seq++;
	b[0] = 0x80;			/* V=2, no padding, extension, CSRC */
	b[1] = RTP_PROBE_PT;		/* no marker */
	b[2] = (unsigned char)(p->seq >> 8);
	b[3] = (unsigned char)p->seq;
	b[4] = (unsigned char)(ts >> 24);
	b[5] = (unsigned char)(ts >> 16);
	b[6] = (unsigned char)(ts >> 8);
	b[7] = (unsigned char)ts;
	b[8] = (unsigned char)(p->ssrc >> 24);
	b[9] = (unsigned char)(p->ssrc >> 16);
	b[10] = (unsigned char)(p->ssrc >> 8);
	b[11] = (unsigned char)p->ssrc;
	memcpy(b + 12, RTP_PROBE_PAYLOAD, RTP_PROBE_LEN - 12);
}

static void
rtp_probe_attempt(struct check *c)
{
	struct rtp_probe *p = c->priv;
	char err[CHECK_DETAIL_MAX], sbuf[ADDR_STRLEN];
	ssize_t n;
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
	rtp_probe_build(p);
	n = send(p->fd, p->pkt, RTP_PROBE_LEN, 0);
	/* A pending ICMP error belongs to an earlier packet: send again. */
	if (n == -1 && errno == ECONNREFUSED)
		n = send(p->fd, p->pkt, RTP_PROBE_LEN, 0);
	if (n != RTP_PROBE_LEN) {
		saved = n == -1 ? errno : EMSGSIZE;
		/* Routes and addresses come back: start afresh next time. */
		if (saved != EAGAIN && saved != ENOBUFS)
			rtp_probe_close(p);
		check_done(c, false, false, "send to %s: %s",
		    sa_fmt(&c->cfg->target, sbuf, sizeof(sbuf)),
		    strerror(saved));
		return;
	}
	p->waiting = true;
}

static void
rtp_probe_cancel(struct check *c)
{
	struct rtp_probe *p = c->priv;

	p->waiting = false;
}

const struct check_kind_ops check_rtp_probe_ops = {
	.keys = rtp_probe_keys,
	.parse = rtp_probe_parse,
	.start = rtp_probe_start,
	.stop = rtp_probe_stop,
	.attempt = rtp_probe_attempt,
	.cancel = rtp_probe_cancel,
};
