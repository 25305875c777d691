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

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/mono.h"

#define RTP_PROBE_PT		127	/* dynamic: no codec will claim it */
#define RTP_PROBE_LEN		20	/* 12-byte header, 8 bytes payload */
#define RTP_PROBE_BATCH		64	/* datagrams read per wakeup */
/* Eight bytes that name the packet in a capture. */
#define RTP_PROBE_PAYLOAD	"failover"

struct rtp_probe {
	struct check_sock s;		/* waiting: pkt is in flight */
	uint32_t	 ssrc;
	uint16_t	 seq;
	unsigned char	 pkt[RTP_PROBE_LEN];
};

static const char *const rtp_probe_keys[] = { "target", "source", NULL };

static int
rtp_probe_parse(struct yconf *yc, yaml_node_t *map, struct check_config *cc)
{
	return check_parse_target(yc, map, cc);
}

static void
rtp_probe_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct rtp_probe *p = w->data;
	unsigned char buf[CHECK_PAYLOAD_MAX];
	size_t n;
	int i, rc;

	(void)loop;
	(void)revents;
	for (i = 0; i < RTP_PROBE_BATCH; i++) {
		if ((rc = check_sock_recv(&p->s, buf, sizeof(buf), &n,
		    "no echo")) == -1)
			return;
		if (rc == 0 || n != RTP_PROBE_LEN ||
		    memcmp(buf, p->pkt, RTP_PROBE_LEN) != 0)
			continue;
		p->s.waiting = false;
		check_done(p->s.c, true, false, "echo of seq %u", p->seq);
		return;
	}
}

static int
rtp_probe_start(struct check *c)
{
	struct rtp_probe *p = check_priv_new(c, sizeof(*p));

	check_sock_init(&p->s, c, true, rtp_probe_read_cb, p);
	if (getrandom(&p->ssrc, sizeof(p->ssrc), GRND_NONBLOCK) !=
	    sizeof(p->ssrc))
		p->ssrc = (uint32_t)getpid() ^ (uint32_t)mono_ns();
	p->seq = (uint16_t)(p->ssrc >> 7);
	return 0;
}

static void
rtp_probe_stop(struct check *c)
{
	struct rtp_probe *p = c->priv;

	check_sock_close(&p->s);
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

	if (check_sock_ready(&p->s, SOCK_DGRAM, EV_READ) == -1)
		return;
	rtp_probe_build(p);
	check_sock_send(&p->s, p->pkt, RTP_PROBE_LEN);
}

static void
rtp_probe_cancel(struct check *c)
{
	struct rtp_probe *p = c->priv;

	check_sock_cancel(&p->s);
}

const struct check_kind_ops check_rtp_probe_ops = {
	.keys = rtp_probe_keys,
	.parse = rtp_probe_parse,
	.start = rtp_probe_start,
	.stop = rtp_probe_stop,
	.attempt = rtp_probe_attempt,
	.cancel = rtp_probe_cancel,
};
