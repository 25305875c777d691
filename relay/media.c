/*
 * Media sockets and forwarding. The hot path does no allocation and no
 * formatting except when a latch is set or moves (logged once per event).
 */
#include "relay/media.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mono.h"

#define MEDIA_BATCH	32
#define MEDIA_PKT_MAX	2048	/* larger datagrams are cut and dropped */

enum media_sock {
	MEDIA_SOCK_RTP,
	MEDIA_SOCK_RTCP,
};

struct media_io {
	struct leg		*leg;
	struct media_engine	*me;
	struct addr		 vip;
	ev_io			 w[2];	/* by enum media_sock */
	bool			 open[2];
};

/* Batch buffers, shared by every socket: the loop is single-threaded and
 * a batch is sent before the next read. */
static uint8_t			 rx_buf[MEDIA_BATCH][MEDIA_PKT_MAX];
static union sockaddr_any	 rx_addr[MEDIA_BATCH];
static struct iovec		 rx_iov[MEDIA_BATCH];
static struct mmsghdr		 rx_msg[MEDIA_BATCH];
static union sockaddr_any	 tx_addr[MEDIA_BATCH];
static struct iovec		 tx_iov[MEDIA_BATCH];
static struct mmsghdr		 tx_msg[MEDIA_BATCH];
static int			 tx_fd[MEDIA_BATCH];

void
media_engine_init(struct media_engine *me, struct ev_loop *loop,
    struct relay_stats *stats, uint16_t seq_window)
{
	memset(me, 0, sizeof(*me));
	me->loop = loop;
	me->stats = stats;
	latch_policy_init(&me->policy);
	me->policy.seq_window = seq_window;
	/* strict-source: a latch never moves (rtpengine drops every packet
	 * from another source once it learned the endpoint). */
	latch_policy_init(&me->strict);
	me->strict.seq_window = 0;
}

static int
media_socket(const struct addr *vip, uint16_t port)
{
	union sockaddr_any sa;
	int fd, one = 1;

	fd = socket(vip->af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* The VIP may be configured after the relay starts (or moved by the
	 * controller); binding must not depend on it being local yet. */
	if (vip->af == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one,
		    sizeof(one));
	} else
		(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one,
		    sizeof(one));
	sa_from_addr(&sa, vip, port);
	if (bind(fd, &sa.sa, sa_len(&sa)) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void media_read_cb(struct ev_loop *, ev_io *, int);

/* Socket s (enum media_sock) of a leg, bound and watched. 0 or -1. */
static int
media_io_open(struct media_io *io, int s)
{
	char a[INET6_ADDRSTRLEN];
	int fd;

	fd = media_socket(&io->vip, (uint16_t)(io->leg->port + s));
	if (fd == -1) {
		log_warn("media socket %s port %u",
		    addr_fmt(&io->vip, a, sizeof(a)), io->leg->port + s);
		return -1;
	}
	ev_io_init(&io->w[s], media_read_cb, fd, EV_READ);
	io->w[s].data = io;
	ev_io_start(io->me->loop, &io->w[s]);
	io->open[s] = true;
	io->me->sockets++;
	return 0;
}

static void
media_io_close(struct media_io *io, int s)
{
	if (!io->open[s])
		return;
	ev_io_stop(io->me->loop, &io->w[s]);
	close(io->w[s].fd);
	io->open[s] = false;
	io->me->sockets--;
}

/* Both sockets; media_rtcp() may close the RTCP one once the leg muxes. */
int
media_open_leg(struct leg *l, const struct addr *vip, void *arg)
{
	struct media_engine *me = arg;
	struct media_io *io;
	int s;

	if ((io = calloc(1, sizeof(*io))) == NULL)
		return -1;
	io->leg = l;
	io->me = me;
	io->vip = *vip;
	for (s = 0; s < 2; s++)
		if (media_io_open(io, s) == -1) {
			media_io_close(io, MEDIA_SOCK_RTP);
			free(io);
			return -1;
		}
	l->io = io;
	return 0;
}

int
media_rtcp(struct leg *l, bool want, void *arg)
{
	struct media_io *io = l->io;

	(void)arg;
	if (io == NULL || io->open[MEDIA_SOCK_RTCP] == want)
		return 0;
	if (!want) {
		media_io_close(io, MEDIA_SOCK_RTCP);
		return 0;
	}
	return media_io_open(io, MEDIA_SOCK_RTCP);
}

void
media_close_leg(struct leg *l, void *arg)
{
	struct media_io *io = l->io;
	int s;

	(void)arg;
	if (io == NULL)
		return;
	for (s = 0; s < 2; s++)
		media_io_close(io, s);
	free(io);
	l->io = NULL;
}

static int
leg_fd(const struct leg *l, enum media_sock which)
{
	const struct media_io *io = l->io;

	return io == NULL || !io->open[which] ? -1 : io->w[which].fd;
}

static bool
sa_usable(const union sockaddr_any *sa)
{
	return sa != NULL && (sa->sa.sa_family == AF_INET ||
	    sa->sa.sa_family == AF_INET6) && sa_port(sa) != 0;
}

static void
media_log_latch(const struct leg *l, enum latch_verdict v,
    const union sockaddr_any *src, enum pkt_kind kind)
{
	char a[ADDR_STRLEN], ssrc[32];

	if (l->latch.known >= LATCH_KNOWN_SSRC)
		snprintf(ssrc, sizeof(ssrc), "SSRC %08" PRIx32, l->latch.ssrc);
	else
		snprintf(ssrc, sizeof(ssrc), "SSRC not known yet");
	log_info("call %s: media %d leg %d %s %s on %s (%s)",
	    l->media->call->id, l->media->index + 1, l->side,
	    v == LATCH_FORWARD_MOVED ? "latch moved to" : "latched to",
	    sa_fmt(src, a, sizeof(a)), pkt_kind_name(kind), ssrc);
}

/* Send tx_msg[0..n) in runs that share an output socket. */
static void
media_flush(struct media_engine *me, int n)
{
	int i = 0, j, sent;

	while (i < n) {
		for (j = i + 1; j < n && tx_fd[j] == tx_fd[i]; j++)
			;
		while (i < j) {
			sent = sendmmsg(tx_fd[i], &tx_msg[i], j - i,
			    MSG_DONTWAIT);
			if (sent <= 0) {
				/* Full socket buffer or an ICMP error from
				 * an earlier send: drop this packet, go on. */
				me->stats->send_errors++;
				i++;
			} else
				i += sent;
		}
	}
}

/*
 * Classify one datagram that arrived on leg l's socket `which` from src,
 * apply the latching rules and, if it is to be forwarded, queue it on tx
 * slot *ntx. Returns true if the call saw activity.
 */
static bool
media_input(struct media_engine *me, struct leg *l, enum media_sock which,
    uint8_t *p, size_t len, const union sockaddr_any *src, int *ntx)
{
	struct relay_stats *st = me->stats;
	struct leg *peer = leg_peer(l);
	const union sockaddr_any *dest;
	struct latch_ctx ctx = { .rtcp_port = which == MEDIA_SOCK_RTCP,
	    .dtls = l->dtls };
	enum latch_known known = l->latch.known;
	struct rtp_info info;
	enum pkt_keepalive ka;
	enum pkt_kind kind;
	enum latch_verdict v;
	int fd;

	/* A leg whose SDP has not arrived yet is taken for RTP, any PT. */
	if (l->has_sdp && !l->pt_known)
		kind = rtp_classify_opaque(len, &info, &ka);
	else
		kind = rtp_classify(p, len, l->pt_known ? l->pt_mask : NULL,
		    &info, &ka);
	v = latch_input(&l->latch, l->strict ? &me->strict : &me->policy,
	    &ctx, src, kind, ka, &info);
	switch (v) {
	case LATCH_FORWARD_LATCHED:
	case LATCH_FORWARD_MOVED:
		if (v == LATCH_FORWARD_MOVED)
			st->latch_moves++;
		media_log_latch(l, v, src, kind);
		/* Other relays must send this leg's media here too. */
		if (me->calls != NULL)
			call_mark_dirty(me->calls, l->media->call,
			    CALL_DIRTY_LATCH(l->media->index, l->side));
		break;
	case LATCH_FORWARD:
		/* First RTP after a handshake latched the leg: other relays
		 * learn its SSRC too (once per latch). */
		if (l->latch.known != known && me->calls != NULL)
			call_mark_dirty(me->calls, l->media->call,
			    CALL_DIRTY_LATCH(l->media->index, l->side));
		break;
	case LATCH_ACTIVITY:
		st->keepalives++;
		l->stats.keepalives++;
		return true;
	default:
		st->verdicts[v]++;
		l->stats.drops++;
		return false;
	}
	/* RTCP, and the DTLS session of the RTCP component (RFC 5764 without
	 * rtcp-mux), go to the peer's RTCP destination. */
	if (kind == PKT_RTCP || which == MEDIA_SOCK_RTCP) {
		/* RTCP follows its source: the latch vouched for the IP. */
		if (which == MEDIA_SOCK_RTCP)
			l->rtcp_dest = *src;
		if (peer->rtcp_mux) {
			dest = latch_dest(&peer->latch);
			fd = leg_fd(peer, MEDIA_SOCK_RTP);
		} else {
			dest = &peer->rtcp_dest;
			fd = leg_fd(peer, MEDIA_SOCK_RTCP);
		}
	} else {
		dest = latch_dest(&peer->latch);
		fd = leg_fd(peer, MEDIA_SOCK_RTP);
	}
	if (!sa_usable(dest) || fd == -1) {
		st->no_destination++;
		return true;
	}
	tx_addr[*ntx] = *dest;
	tx_iov[*ntx].iov_base = p;
	tx_iov[*ntx].iov_len = len;
	tx_msg[*ntx].msg_hdr.msg_name = &tx_addr[*ntx];
	tx_msg[*ntx].msg_hdr.msg_namelen = sa_len(dest);
	tx_msg[*ntx].msg_hdr.msg_iov = &tx_iov[*ntx];
	tx_msg[*ntx].msg_hdr.msg_iovlen = 1;
	tx_fd[*ntx] = fd;
	(*ntx)++;
	st->packets++;
	st->bytes += len;
	l->stats.packets++;
	l->stats.bytes += len;
	if (kind == PKT_RTCP) {
		st->rtcp_packets++;
		l->stats.rtcp_packets++;
		l->stats.rtcp_bytes += len;
	} else if (kind == PKT_DTLS) {
		st->dtls_packets++;
		l->stats.dtls_packets++;
	} else if (kind == PKT_ZRTP) {
		st->zrtp_packets++;
		l->stats.zrtp_packets++;
	}
	return true;
}

static void
media_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct media_io *io = w->data;
	struct media_engine *me = io->me;
	struct leg *l = io->leg;
	enum media_sock which = w == &io->w[MEDIA_SOCK_RTP] ?
	    MEDIA_SOCK_RTP : MEDIA_SOCK_RTCP;
	bool active = false;
	int i, n, ntx = 0, rounds;

	(void)loop;
	(void)revents;
	/* A few batches per wakeup, then yield to other sockets. */
	for (rounds = 0; rounds < 4; rounds++) {
		for (i = 0; i < MEDIA_BATCH; i++) {
			rx_iov[i].iov_base = rx_buf[i];
			rx_iov[i].iov_len = MEDIA_PKT_MAX;
			memset(&rx_msg[i].msg_hdr, 0,
			    sizeof(rx_msg[i].msg_hdr));
			rx_msg[i].msg_hdr.msg_name = &rx_addr[i];
			rx_msg[i].msg_hdr.msg_namelen = sizeof(rx_addr[i]);
			rx_msg[i].msg_hdr.msg_iov = &rx_iov[i];
			rx_msg[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(w->fd, rx_msg, MEDIA_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		ntx = 0;
		for (i = 0; i < n; i++) {
			if (rx_msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				me->stats->verdicts[LATCH_DROP_INVALID]++;
				continue;
			}
			if (media_input(me, l, which, rx_buf[i],
			    rx_msg[i].msg_len, &rx_addr[i], &ntx))
				active = true;
		}
		if (ntx > 0)
			media_flush(me, ntx);
		if (n < MEDIA_BATCH)
			break;
	}
	if (active)
		l->stats.last_us = l->media->call->last_media_us =
		    l->media->call->seen_us = mono_us();
}
