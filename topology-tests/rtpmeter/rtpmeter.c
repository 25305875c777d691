/*
 * rtpmeter: the RTP meter of the namespace lab.
 *
 * It plays a SIP proxy and both phones of N calls: it creates each call
 * through the relay's ng protocol (offer with the caller's SDP, answer with
 * the callee's), then every call's two endpoints, each one UDP socket of its
 * own, send RTP to the relay ports the replies gave them, every --ptime ms,
 * and receive each other's stream. Arrivals are stamped by the kernel
 * (SO_TIMESTAMPNS, CLOCK_REALTIME) and accounted per stream direction by
 * rxstats.c; the report (report.c) gives loss, duplicates, reordering, the
 * largest gap and the largest gap after the fault mark, and whether the
 * stream still flowed when the run ended.
 *
 * The fault mark is SIGUSR1: the orchestrator sends it right before it
 * injects a fault; the handler reads the clocks at once, so the mark does
 * not wait for the event loop. Which relay carried a stream is not in the
 * packets (the relay is a transport translator and must stay unmodified),
 * so rtpmeter records the IP TTL of every arrival: give each relay host a
 * distinct net.ipv4.ip_default_ttl and the TTL names the relay that sent
 * the packet, before the fault and at the end. The 5-tuples are in the
 * report too, for attribution by routing.
 *
 * One thread, one epoll loop: a timerfd paces the sends, staggered evenly
 * over the packet interval so N streams do not leave in one burst.
 * stdout carries one line per event for the orchestrator ("calls N",
 * "ready NS" or "not-ready F T", "fault NS", "stop NS", "done"); logs and
 * the summary go to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/bencode.h"
#include "common/log.h"
#include "common/mono.h"
#include "common/ngclient.h"
#include "topology-tests/rtpmeter/options.h"
#include "topology-tests/rtpmeter/report.h"
#include "topology-tests/rtpmeter/rxstats.h"
#include "topology-tests/rtpmeter/sdp.h"

#define METER_RTP_HDR		12
#define METER_BATCH		16	/* recvmmsg vector */
#define METER_MAX_EVENTS	1024
#define METER_REPLY_NODES	1024	/* decoded ng reply */
#define METER_TIMER_ID		UINT32_MAX
/* Files beyond the endpoint sockets: stdio, epoll, timerfd, ng, report. */
#define METER_FD_RESERVE	32
/* The pacing timer never fires more often than this. */
#define METER_MIN_WAKE_NS	200000ULL
/* Room for SO_TIMESTAMPNS, SO_RXQ_OVFL and IP_TTL/IPV6_HOPLIMIT. */
#define METER_CTL_LEN		(CMSG_SPACE(sizeof(struct timespec)) + \
				 CMSG_SPACE(sizeof(uint32_t)) + \
				 CMSG_SPACE(sizeof(int)))
#define METER_DELETE_GIVEUP	3	/* failed deletes in a row */
/* Packets sent per loop turn at most: a generator that fell behind must
 * still read its sockets; its lag shows as max_send_gap_ms. */
#define METER_SEND_BURST	4096

/*
 * One endpoint: a socket that sends one direction of a call and receives
 * the other. Endpoint 2c is call c's caller (A), 2c + 1 its callee (B);
 * the peer of endpoint k is k ^ 1.
 */
struct meter_ep {
	int			 fd;
	union sockaddr_any	 local;
	union sockaddr_any	 dst;		/* relay port we send to */
	/* Sending. "next" counts every index used, sent or not, so sequence
	 * numbers and timestamps follow time; "sent" what the kernel took. */
	uint32_t		 ssrc, ts0;
	uint16_t		 seq0;
	uint64_t		 next, sent, send_errors;
	uint64_t		 last_send_mono, last_send_rt, max_send_gap;
	/* Receiving the peer's stream. */
	struct rx		 rx;
	uint32_t		 ovfl;		/* SO_RXQ_OVFL, cumulative */
	uint64_t		 foreign, src_mismatch;
	bool			 unserved;	/* silent when ready came */
	/* Loss after the fault mark: the sender's counts when the mark was
	 * taken; the peer's packets with an index from then on received. */
	uint64_t		 next_at_mark, sent_at_mark, rx_after_mark;
};

struct meter {
	struct meter_opts	 o;
	struct ngc		*ngc;
	struct meter_ep		*eps;
	int			 neps;
	int			 ncalls;	/* created on the relay */
	int			 ep, tfd;
	uint8_t			 pkt[1500];
	uint64_t		 ptime_ns;
	/* Pacing: global packet g goes to endpoint g % neps, due at
	 * start + g * ptime / neps. */
	uint64_t		 send_start, g;
	uint64_t		 max_lag;	/* behind the schedule, ns */
	int			 nflowing;	/* endpoints that heard one */
	uint64_t		 last_flow_start;	/* mono ns */
	bool			 ready, sending;
	uint64_t		 ready_deadline, stop_at, drain_end;
	uint64_t		 fault_rt, fault_mono;
	int64_t			 clock_off0;
	struct report_run	 run;
};

static volatile sig_atomic_t	meter_stop;
static volatile sig_atomic_t	meter_marks;
static volatile uint64_t	meter_mark_rt, meter_mark_mono;

static uint64_t
meter_realtime_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts_to_ns(&ts);
}

static void
meter_on_stop(int sig)
{
	(void)sig;
	/* A second signal also cuts the drain short. */
	meter_stop = meter_stop + 1;
}

/* The fault mark: only the first counts, read before anything else. */
static void
meter_on_mark(int sig)
{
	struct timespec	rt, mo;

	(void)sig;
	if (meter_marks == 0) {
		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &mo);
		meter_mark_rt = ts_to_ns(&rt);
		meter_mark_mono = ts_to_ns(&mo);
	}
	meter_marks = meter_marks + 1;
}

/* One line for the orchestrator, at once. */
static void
meter_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
meter_event(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * Every endpoint needs a descriptor: raise the soft limit, and the hard one
 * if we may (root). Fails with the largest --calls that would fit.
 */
static int
meter_nofile(int neps)
{
	struct rlimit	 rl;
	rlim_t		 need = (rlim_t)neps + METER_FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit");
		return -1;
	}
	if (rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = need;
	if (rl.rlim_max < need) {
		struct rlimit raised = { need, need };

		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			return 0;
		log_warnx("--calls %d needs %llu open files, the hard limit "
		    "is %llu and cannot be raised (%s): at most --calls %lld "
		    "here", neps / 2, (unsigned long long)need,
		    (unsigned long long)rl.rlim_max, strerror(errno),
		    rl.rlim_max > METER_FD_RESERVE ?
		    (long long)(rl.rlim_max - METER_FD_RESERVE) / 2 : 0LL);
		return -1;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("setrlimit RLIMIT_NOFILE %llu",
		    (unsigned long long)need);
		return -1;
	}
	return 0;
}

static int
meter_sockopts(int fd, int af)
{
	int	one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
	    sizeof(one)) == -1) {
		log_warn("SO_TIMESTAMPNS");
		return -1;
	}
	/* Drops at our own sockets must not pass for relay loss. */
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) == -1) {
		log_warn("SO_RXQ_OVFL");
		return -1;
	}
	if (af == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one,
	    sizeof(one)) : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT,
	    &one, sizeof(one))) {
		log_warn("IP_RECVTTL/IPV6_RECVHOPLIMIT");
		return -1;
	}
	return 0;
}

/*
 * One socket per endpoint on the next local address in turn; with --ports
 * each address hands out the next free port of the range.
 */
static int
meter_sockets(struct meter *m)
{
	union sockaddr_any	 sa;
	struct epoll_event	 ev;
	char			 abuf[ADDR_STRLEN];
	uint32_t		*nextport = NULL;
	socklen_t		 slen;
	uint32_t		 port;
	int			 k, a, fd;

	if ((nextport = calloc((size_t)m->o.nlocals,
	    sizeof(*nextport))) == NULL)
		fatal("calloc");
	for (a = 0; a < m->o.nlocals; a++)
		nextport[a] = m->o.port_lo;
	for (k = 0; k < m->neps; k++) {
		struct meter_ep *e = &m->eps[k];

		a = k % m->o.nlocals;
		fd = socket(m->o.locals[a].af, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1) {
			log_warn("socket for endpoint %d of %d", k + 1,
			    m->neps);
			goto fail;
		}
		e->fd = fd;
		if (meter_sockopts(fd, m->o.locals[a].af) == -1)
			goto fail;
		for (;;) {
			port = m->o.port_lo == 0 ? 0 : nextport[a]++;
			if (m->o.port_lo != 0 && port > m->o.port_hi) {
				log_warnx("--ports %u-%u: no free port left "
				    "on %s for endpoint %d of %d",
				    m->o.port_lo, m->o.port_hi,
				    addr_fmt(&m->o.locals[a], abuf,
				    sizeof(abuf)), k + 1, m->neps);
				goto fail;
			}
			sa_from_addr(&sa, &m->o.locals[a], (uint16_t)port);
			if (bind(fd, &sa.sa, sa_len(&sa)) == 0)
				break;
			if (errno != EADDRINUSE || port == 0) {
				log_warn("bind %s", sa_fmt(&sa, abuf,
				    sizeof(abuf)));
				goto fail;
			}
		}
		slen = sizeof(e->local);
		if (getsockname(fd, &e->local.sa, &slen) == -1) {
			log_warn("getsockname");
			goto fail;
		}
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)k;
		if (epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
			log_warn("epoll_ctl");
			goto fail;
		}
	}
	free(nextport);
	return 0;
fail:
	free(nextport);
	return -1;
}

static void
meter_sdp(const struct meter *m, const struct meter_ep *e, char *buf,
    size_t len)
{
	struct addr	 a;

	sa_to_addr(&e->local, &a);
	/* MSDP_MAX holds the longest (IPv6) text: cannot fail. */
	(void)msdp_build(buf, len, &a, sa_port(&e->local), e->ssrc, m->o.pt,
	    m->o.ptime_ms, m->o.rtcp_mux);
}

static void
meter_callid(const struct meter *m, int c, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%d", m->o.prefix, c);
}

/* Send req and take the relay's media address out of the reply's SDP. */
/*
 * Call c as a SIP proxy makes it: the offer carries the caller's SDP and
 * its reply is where the callee sends; the answer carries the callee's SDP
 * and its reply is where the caller sends. A call counts as created once
 * its offer succeeded, so a failed answer still gets deleted.
 */
static int
meter_calls_create(struct meter *m)
{
	char		 rbuf[2048], sdp[MSDP_MAX], callid[REPORT_CALLID_MAX];
	char		 ftag[16], ttag[16], err[256];
	struct bencoder	 enc;
	uint64_t	 t0 = mono_ns();
	int		 c;

	for (c = 0; c < m->o.calls && !meter_stop; c++) {
		struct meter_ep *a = &m->eps[2 * c], *b = &m->eps[2 * c + 1];

		/* --call-rate: call c starts no sooner than c / rate after
		 * the first, as a proxy's offered load would. */
		if (m->o.call_rate > 0) {
			uint64_t due = t0 + (uint64_t)c * 1000000000ULL /
			    (uint64_t)m->o.call_rate, now = mono_ns();

			if (due > now) {
				struct timespec ts = {
					.tv_sec = (time_t)((due - now) /
					    1000000000ULL),
					.tv_nsec = (long)((due - now) %
					    1000000000ULL),
				};

				nanosleep(&ts, NULL);
			}
		}

		meter_callid(m, c, callid, sizeof(callid));
		snprintf(ftag, sizeof(ftag), "a%d", c);
		snprintf(ttag, sizeof(ttag), "b%d", c);

		meter_sdp(m, a, sdp, sizeof(sdp));
		benc_init(&enc, rbuf, sizeof(rbuf));
		ngc_build_offer(&enc, callid, ftag, sdp);
		if (ngc_request_media(m->ngc, &enc, &b->dst, err,
		    sizeof(err)) == -1) {
			log_warnx("call %s: offer: %s", callid, err);
			return -1;
		}
		m->ncalls = c + 1;

		meter_sdp(m, b, sdp, sizeof(sdp));
		benc_init(&enc, rbuf, sizeof(rbuf));
		ngc_build_answer(&enc, callid, ftag, ttag, sdp);
		if (ngc_request_media(m->ngc, &enc, &a->dst, err,
		    sizeof(err)) == -1) {
			log_warnx("call %s: answer: %s", callid, err);
			return -1;
		}
		if (a->dst.sa.sa_family != a->local.sa.sa_family ||
		    b->dst.sa.sa_family != b->local.sa.sa_family) {
			log_warnx("call %s: the relay answered with another "
			    "address family", callid);
			return -1;
		}
	}
	log_info("%d calls created in %.3f s", m->ncalls,
	    (double)(mono_ns() - t0) / 1e9);
	return meter_stop ? -1 : 0;
}

/*
 * Delete the calls made. A relay that no longer answers would cost a full
 * timeout per call, so ask it once first and give up after a few failures
 * in a row.
 */
static void
meter_calls_delete(struct meter *m)
{
	static struct bnode	 nodes[METER_REPLY_NODES];
	struct bnode		*reply;
	char			 rbuf[256], callid[REPORT_CALLID_MAX];
	char			 ftag[16], err[256];
	struct bencoder		 enc;
	int			 c, failed = 0, inarow = 0;

	if (m->ncalls == 0)
		return;
	if (ngc_ping(m->ngc, err, sizeof(err)) == -1) {
		report_warn(&m->run, "calls not deleted: %s", err);
		log_warnx("calls not deleted: %s", err);
		return;
	}
	for (c = 0; c < m->ncalls; c++) {
		meter_callid(m, c, callid, sizeof(callid));
		snprintf(ftag, sizeof(ftag), "a%d", c);
		benc_init(&enc, rbuf, sizeof(rbuf));
		ngc_build_delete(&enc, callid, ftag);
		if (ngc_request(m->ngc, &enc, nodes, METER_REPLY_NODES, &reply,
		    err, sizeof(err)) == 0) {
			m->run.calls_deleted++;
			inarow = 0;
			continue;
		}
		if (failed++ == 0)
			log_warnx("delete call %s: %s", callid, err);
		if (++inarow == METER_DELETE_GIVEUP) {
			log_warnx("giving up deleting after %d failures in a "
			    "row", inarow);
			break;
		}
	}
	if (m->run.calls_deleted < m->ncalls)
		report_warn(&m->run, "%d of %d calls deleted",
		    m->run.calls_deleted, m->ncalls);
}

/* Identities and starting points of every stream, as a phone picks them. */
static void
meter_streams_init(struct meter *m)
{
	uint32_t	 r[3];
	int		 k;

	for (k = 0; k < m->neps; k++) {
		struct meter_ep *e = &m->eps[k];

		if (getrandom(r, sizeof(r), 0) != sizeof(r))
			fatal("getrandom");
		/* Distinct within the run whatever the random draw. */
		e->ssrc = (r[0] & ~UINT32_C(0xffff)) | (uint32_t)k;
		e->seq0 = (uint16_t)r[1];
		e->ts0 = r[2];
		rx_init(&e->rx, m->o.long_gap_us * 1000);
	}
}

static void
meter_send_one(struct meter *m, struct meter_ep *e, uint64_t now,
    uint64_t now_rt)
{
	uint8_t		*p = m->pkt;
	char		 abuf[ADDR_STRLEN];
	uint16_t	 seq = (uint16_t)(e->seq0 + (uint16_t)e->next);
	uint32_t	 ts = e->ts0 + (uint32_t)(e->next *
			    (uint64_t)m->o.ptime_ms * 8);

	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(e->ssrc >> 24);
	p[9] = (uint8_t)(e->ssrc >> 16);
	p[10] = (uint8_t)(e->ssrc >> 8);
	p[11] = (uint8_t)e->ssrc;
	e->next++;
	if (sendto(e->fd, p, (size_t)m->o.size, 0, &e->dst.sa,
	    sa_len(&e->dst)) != m->o.size) {
		if (e->send_errors++ == 0)
			log_warn("send to %s", sa_fmt(&e->dst, abuf,
			    sizeof(abuf)));
		return;
	}
	if (e->sent > 0 && now - e->last_send_mono > e->max_send_gap)
		e->max_send_gap = now - e->last_send_mono;
	e->sent++;
	e->last_send_mono = now;
	e->last_send_rt = now_rt;
}

/* Send every packet due by now, then arm the timer for the next one. */
static void
meter_send_due(struct meter *m, uint64_t now)
{
	struct itimerspec	 its;
	uint64_t		 due, next, n = (uint64_t)m->neps;
	uint64_t		 now_rt = meter_realtime_ns();

	due = (now - m->send_start) * n / m->ptime_ns + 1;
	/* The oldest packet owed shows how far behind we are. */
	next = m->send_start + m->g * m->ptime_ns / n;
	if (m->g < due && now - next > m->max_lag)
		m->max_lag = now - next;
	if (due > m->g + METER_SEND_BURST)
		due = m->g + METER_SEND_BURST;
	while (m->g < due) {
		meter_send_one(m, &m->eps[m->g % n], now, now_rt);
		m->g++;
	}
	next = m->send_start + (m->g * m->ptime_ns + n - 1) / n;
	if (next < now + METER_MIN_WAKE_NS)
		next = now + METER_MIN_WAKE_NS;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(next / 1000000000ULL);
	its.it_value.tv_nsec = (long)(next % 1000000000ULL);
	if (timerfd_settime(m->tfd, TFD_TIMER_ABSTIME, &its, NULL) == -1)
		fatal("timerfd_settime");
}

static void	meter_take_mark(struct meter *);

/*
 * Ready: every stream flows, or (--settle) the streams that flow have
 * settled; the silent ones are marked unserved for the report.
 */
static void
meter_on_ready(struct meter *m, uint64_t now)
{
	int	k;

	for (k = 0; k < m->neps; k++)
		if (m->eps[k].rx.received == 0) {
			m->eps[k].unserved = true;
			m->run.streams_unserved++;
		}
	m->ready = true;
	m->run.ready = true;
	m->run.ready_ns = meter_realtime_ns();
	m->stop_at = now + m->o.duration_us * 1000;
	if (m->fault_mono != 0 && m->o.after_fault_us > 0 &&
	    m->fault_mono + m->o.after_fault_us * 1000 < m->stop_at)
		m->stop_at = m->fault_mono + m->o.after_fault_us * 1000;
	if (m->nflowing == m->neps)
		log_info("all %d streams flowing after %.3f s", m->neps,
		    (double)(now - m->send_start) / 1e9);
	else
		log_info("%d of %d streams flowing after %.3f s, none new "
		    "for %.3f s: %d unserved", m->nflowing, m->neps,
		    (double)(now - m->send_start) / 1e9,
		    (double)m->o.settle_us / 1e6, m->neps - m->nflowing);
	meter_event("ready %" PRIu64, m->run.ready_ns);
}

/* Is this datagram the next packet of the peer's stream? */
static bool
meter_is_peer_rtp(const struct meter *m, const struct meter_ep *peer,
    const uint8_t *p, size_t len)
{
	uint32_t	ssrc;

	if (len != (size_t)m->o.size || (p[0] >> 6) != 2 ||
	    (p[1] & 0x7f) != m->o.pt)
		return false;
	ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
	    (uint32_t)p[10] << 8 | p[11];
	return ssrc == peer->ssrc;
}

static void
meter_recv(struct meter *m, int k, uint64_t now)
{
	static uint8_t		 bufs[METER_BATCH][1536];
	static char		 ctl[METER_BATCH][METER_CTL_LEN];
	static union sockaddr_any names[METER_BATCH];
	struct meter_ep		*e = &m->eps[k], *peer = &m->eps[k ^ 1];
	struct mmsghdr		 mm[METER_BATCH];
	struct iovec		 iov[METER_BATCH];
	struct cmsghdr		*cm;
	struct timespec		 ts;
	enum rx_verdict		 verdict;
	uint64_t		 t_ns, before;
	uint32_t		 ovfl;
	int64_t			 idx;
	int			 i, r, ttl, v;

	for (i = 0; i < METER_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_name = &names[i];
		mm[i].msg_hdr.msg_namelen = sizeof(names[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_control = ctl[i];
		mm[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
	}
	if ((r = recvmmsg(e->fd, mm, METER_BATCH, MSG_DONTWAIT, NULL)) <= 0)
		return;
	/* A mark taken in the handler after the last look must apply to
	 * these packets: they may have arrived after it. */
	meter_take_mark(m);
	for (i = 0; i < r; i++) {
		t_ns = 0;
		ttl = -1;
		for (cm = CMSG_FIRSTHDR(&mm[i].msg_hdr); cm != NULL;
		    cm = CMSG_NXTHDR(&mm[i].msg_hdr, cm)) {
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_TIMESTAMPNS) {
				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				t_ns = ts_to_ns(&ts);
			} else if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SO_RXQ_OVFL) {
				memcpy(&ovfl, CMSG_DATA(cm), sizeof(ovfl));
				if (ovfl > e->ovfl)
					e->ovfl = ovfl;
			} else if ((cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_TTL) ||
			    (cm->cmsg_level == IPPROTO_IPV6 &&
			    cm->cmsg_type == IPV6_HOPLIMIT)) {
				memcpy(&v, CMSG_DATA(cm), sizeof(v));
				ttl = v;
			}
		}
		if (!meter_is_peer_rtp(m, peer, bufs[i], mm[i].msg_len) ||
		    (idx = rx_index((uint16_t)(bufs[i][2] << 8 | bufs[i][3]),
		    peer->seq0, peer->next)) < 0) {
			e->foreign++;
			continue;
		}
		if (!sa_eq(&names[i], &e->dst))
			e->src_mismatch++;
		/* No kernel stamp (never seen): the best we have. */
		if (t_ns == 0)
			t_ns = meter_realtime_ns();
		before = e->rx.received;
		verdict = rx_arrival(&e->rx, idx, t_ns, ttl, m->fault_rt);
		if ((verdict == RX_NEW || verdict == RX_REORDERED) &&
		    m->fault_rt != 0 && idx >= (int64_t)peer->next_at_mark)
			e->rx_after_mark++;
		if (before == 0 && e->rx.received == 1) {
			m->last_flow_start = now;
			if (++m->nflowing == m->neps && !m->ready)
				meter_on_ready(m, now);
		}
	}
}

/* Take a fault mark the signal handler recorded. */
static void
meter_take_mark(struct meter *m)
{
	int	k;

	if (meter_marks == 0 || m->fault_rt != 0)
		return;
	for (k = 0; k < m->neps; k++) {
		m->eps[k].next_at_mark = m->eps[k].next;
		m->eps[k].sent_at_mark = m->eps[k].sent;
	}
	m->fault_rt = meter_mark_rt;
	m->fault_mono = meter_mark_mono;
	m->run.fault_ns = m->fault_rt;
	m->run.fault_mono_ns = m->fault_mono;
	if (!m->ready)
		report_warn(&m->run, "fault marked before every stream "
		    "flowed");
	else if (m->o.after_fault_us > 0 && m->fault_mono +
	    m->o.after_fault_us * 1000 < m->stop_at)
		m->stop_at = m->fault_mono + m->o.after_fault_us * 1000;
	log_info("fault marked");
	meter_event("fault %" PRIu64, m->fault_rt);
}

static void
meter_stop_sending(struct meter *m, uint64_t now)
{
	struct itimerspec	its;

	m->sending = false;
	memset(&its, 0, sizeof(its));
	timerfd_settime(m->tfd, 0, &its, NULL);
	m->run.stop_ns = meter_realtime_ns();
	m->drain_end = now + m->o.drain_us * 1000;
	meter_event("stop %" PRIu64, m->run.stop_ns);
}

/*
 * The traffic loop: send until the duration (counted from "ready") or the
 * time after the fault ends, or a signal; then receive for the drain time.
 * Returns -1 if the streams never all flowed.
 */
static int
meter_run(struct meter *m)
{
	struct epoll_event	 evs[METER_MAX_EVENTS];
	uint64_t		 now, exp;
	int			 n, i;

	m->send_start = mono_ns();
	m->run.start_ns = meter_realtime_ns();
	m->ready_deadline = m->send_start + m->o.ready_timeout_us * 1000;
	m->sending = true;
	meter_send_due(m, m->send_start);

	for (;;) {
		n = epoll_wait(m->ep, evs, METER_MAX_EVENTS, 10);
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		now = mono_ns();
		meter_take_mark(m);
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == METER_TIMER_ID) {
				if (read(m->tfd, &exp, sizeof(exp)) == -1 &&
				    errno != EAGAIN)
					fatal("timerfd read");
				continue;
			}
			meter_recv(m, (int)evs[i].data.u32, now);
		}
		if (m->sending) {
			if (meter_stop) {
				m->run.interrupted = true;
				meter_stop_sending(m, now);
			} else if (m->ready && now >= m->stop_at) {
				meter_stop_sending(m, now);
			} else if (!m->ready && m->o.settle_us > 0 &&
			    m->nflowing > 0 && now - m->last_flow_start >=
			    m->o.settle_us * 1000) {
				meter_on_ready(m, now);
				meter_send_due(m, now);
			} else if (!m->ready && now >= m->ready_deadline) {
				log_warnx("only %d of %d streams flowed within "
				    "%.3f s", m->nflowing, m->neps,
				    (double)m->o.ready_timeout_us / 1e6);
				meter_event("not-ready %d %d", m->nflowing,
				    m->neps);
				meter_stop_sending(m, now);
			} else
				meter_send_due(m, now);
		} else if (now >= m->drain_end || meter_stop > 1)
			break;
	}
	m->run.end_ns = meter_realtime_ns();
	return m->ready ? 0 : -1;
}

/* One direction of call c: sender endpoint s, receiver r. */
static void
meter_report_dir(const struct meter *m, int c, bool b_to_a,
    struct report_dir *d)
{
	const struct meter_ep *s = &m->eps[2 * c + (b_to_a ? 1 : 0)];
	const struct meter_ep *r = &m->eps[2 * c + (b_to_a ? 0 : 1)];

	memset(d, 0, sizeof(*d));
	d->call = c;
	d->b_to_a = b_to_a;
	meter_callid(m, c, d->call_id, sizeof(d->call_id));
	sa_fmt(&s->local, d->src, sizeof(d->src));
	sa_fmt(&s->dst, d->relay_in, sizeof(d->relay_in));
	sa_fmt(&r->dst, d->relay_out, sizeof(d->relay_out));
	sa_fmt(&r->local, d->dst, sizeof(d->dst));
	d->ssrc = s->ssrc;
	d->sent = s->sent;
	d->send_errors = s->send_errors;
	d->max_send_gap_ns = s->max_send_gap;
	d->foreign = r->foreign;
	d->rx_overflow = r->ovfl;
	d->src_mismatch = r->src_mismatch;
	d->unserved = r->unserved;
	d->have_mark = m->fault_rt != 0;
	if (d->have_mark) {
		d->sent_after_fault = s->sent - s->sent_at_mark;
		d->received_after_fault = r->rx_after_mark;
	}
	rx_finish(&r->rx, s->last_send_rt, m->fault_rt,
	    m->o.broken_after_us * 1000, &d->rx);
}

/* Warnings about the run itself, so nobody reads a flawed run as data. */
static void
meter_run_warnings(struct meter *m, const struct report_dir *d, size_t n)
{
	struct report_run	*run = &m->run;
	uint64_t		 ovfl = 0, send_gap = 0, errs = 0;
	size_t			 i;

	if (run->clock_step_ns > 1000000 || run->clock_step_ns < -1000000)
		report_warn(run, "the wall clock moved %.3f ms against the "
		    "monotonic one during the run: gaps spanning the step "
		    "are wrong", (double)run->clock_step_ns / 1e6);
	if (meter_marks > 1)
		report_warn(run, "%d fault marks, only the first counts",
		    (int)meter_marks);
	if (run->fault_ns != 0 && run->stop_ns != 0 &&
	    run->stop_ns < run->fault_ns + m->o.broken_after_us * 1000)
		report_warn(run, "sending stopped %.3f ms after the fault, "
		    "less than --broken-after: streams the fault stopped may "
		    "not show as broken",
		    ((double)run->stop_ns - (double)run->fault_ns) / 1e6);
	for (i = 0; i < n; i++) {
		ovfl += d[i].rx_overflow;
		errs += d[i].send_errors;
		if (d[i].max_send_gap_ns > send_gap)
			send_gap = d[i].max_send_gap_ns;
	}
	if (ovfl > 0)
		report_warn(run, "our own sockets dropped %" PRIu64 " packets "
		    "(counted as lost)", ovfl);
	if (errs > 0)
		report_warn(run, "%" PRIu64 " sends failed", errs);
	if (send_gap > 3 * m->ptime_ns)
		report_warn(run, "the generator fell behind: a stream went "
		    "%.3f ms between two sends", (double)send_gap / 1e6);
	if (m->max_lag > m->ptime_ns)
		report_warn(run, "the generator fell up to %.3f ms behind its "
		    "schedule: gaps that long may be its own",
		    (double)m->max_lag / 1e6);
}

static int
meter_write_json(const struct meter *m, const struct report_totals *t,
    const struct report_dir *d, size_t n)
{
	char	 tmp[4096];
	FILE	*f;
	int	 rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", m->o.out) >=
	    (int)sizeof(tmp)) {
		log_warnx("--out: file name too long");
		return -1;
	}
	/* Whole or nothing: a reader never sees half a report. */
	if ((f = fopen(tmp, "we")) == NULL) {
		log_warn("%s", tmp);
		return -1;
	}
	report_json(f, &m->run, t, d, n);
	rc = ferror(f) ? -1 : 0;
	if (fclose(f) == EOF)
		rc = -1;
	if (rc == -1) {
		log_warn("writing %s", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, m->o.out) == -1) {
		log_warn("rename %s", tmp);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Build, write and print the report. */
static int
meter_report(struct meter *m)
{
	struct report_totals	 t;
	struct report_dir	*d;
	size_t			 n = 2 * (size_t)m->ncalls, i;
	int			 rc = 0;

	if ((d = calloc(n > 0 ? n : 1, sizeof(*d))) == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++)
		meter_report_dir(m, (int)(i / 2), i % 2 == 1, &d[i]);
	meter_run_warnings(m, d, n);
	if (report_totals(d, n, &t) == -1)
		fatal("report_totals");
	if (m->o.out != NULL)
		rc = meter_write_json(m, &t, d, n);
	report_summary(stderr, &m->run, &t);
	free(d);
	return rc;
}

static int
meter_ping_wait(struct meter *m)
{
	char		 err[256];
	uint64_t	 deadline = mono_ns() + m->o.ping_wait_us * 1000;
	struct ngc	*c;

	if ((c = ngc_open(&m->o.ng, 200, 1, err, sizeof(err))) == NULL) {
		log_warnx("ng: %s", err);
		return -1;
	}
	while (ngc_ping(c, err, sizeof(err)) == -1) {
		if (mono_ns() >= deadline || meter_stop) {
			ngc_close(c);
			log_warnx("ng server not answering: %s", err);
			return -1;
		}
		usleep(50000);
	}
	ngc_close(c);
	return 0;
}

static void
meter_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: epoll_wait returns at once and the loop looks. */
	sa.sa_handler = meter_on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = meter_on_mark;
	sigaction(SIGUSR1, &sa, NULL);
}

static void
meter_setup(struct meter *m)
{
	struct epoll_event	ev;
	uint32_t		r;
	int			k;
	uint8_t			silence;

	m->neps = 2 * m->o.calls;
	m->ptime_ns = (uint64_t)m->o.ptime_ms * 1000000ULL;
	if (m->o.prefix[0] == '\0') {
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			fatal("getrandom");
		snprintf(m->o.prefix, sizeof(m->o.prefix), "rtpmeter-%d-%04x",
		    (int)getpid(), r & 0xffff);
	}
	if ((m->eps = calloc((size_t)m->neps, sizeof(*m->eps))) == NULL)
		fatal("calloc");
	for (k = 0; k < m->neps; k++)
		m->eps[k].fd = -1;
	if ((m->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	if ((m->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC)) == -1)
		fatal("timerfd_create");
	ev.events = EPOLLIN;
	ev.data.u32 = METER_TIMER_ID;
	if (epoll_ctl(m->ep, EPOLL_CTL_ADD, m->tfd, &ev) == -1)
		fatal("epoll_ctl");

	/* The packet: RTP v2 and the payload type; seq, timestamp and SSRC
	 * are written per send; the payload is codec silence. */
	silence = m->o.pt == 0 ? 0xff : 0xd5;
	memset(m->pkt, silence, sizeof(m->pkt));
	m->pkt[0] = 0x80;
	m->pkt[1] = (uint8_t)m->o.pt;

	m->run.version = VERSION;
	sa_fmt(&m->o.ng, m->run.ng, sizeof(m->run.ng));
	m->run.calls = m->o.calls;
	m->run.ptime_ms = m->o.ptime_ms;
	m->run.size = m->o.size;
	m->run.pt = m->o.pt;
	m->run.duration_us = m->o.duration_us;
	m->run.after_fault_us = m->o.after_fault_us;
	m->run.broken_after_us = m->o.broken_after_us;
	m->run.long_gap_us = m->o.long_gap_us;
	m->run.drain_us = m->o.drain_us;
	m->run.settle_us = m->o.settle_us;
	m->run.rtcp_mux = m->o.rtcp_mux;
}

static void
meter_cleanup(struct meter *m)
{
	int	k;

	for (k = 0; k < m->neps; k++)
		if (m->eps[k].fd != -1)
			close(m->eps[k].fd);
	ngc_close(m->ngc);
	close(m->tfd);
	close(m->ep);
	free(m->eps);
}

int
main(int argc, char *argv[])
{
	struct meter	*m;
	char		 err[256];
	uint64_t	 budget_s;
	int		 rc;

	log_init("rtpmeter", true, LOG_LEVEL_INFO);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("calloc");
	switch (opts_parse(argc, argv, &m->o, err, sizeof(err))) {
	case OPTS_RUN:
		break;
	case OPTS_HELP:
		opts_usage(stdout);
		return 0;
	case OPTS_VERSION:
		printf("rtpmeter %s\n", VERSION);
		return 0;
	default:
		fprintf(stderr, "rtpmeter: %s (see --help)\n", err);
		return 2;
	}
	if (m->o.verbose)
		log_set_level(LOG_LEVEL_DEBUG);
	setvbuf(stdout, NULL, _IOLBF, 0);
	meter_signals();
	/* Watchdog: nothing here may hang the lab. Traffic, readiness and
	 * drain, plus generous setup and teardown time. */
	budget_s = (m->o.ping_wait_us + m->o.ready_timeout_us +
	    m->o.duration_us + m->o.drain_us) / 1000000 + 120 +
	    (uint64_t)m->o.calls / 50;
	alarm((unsigned int)budget_s);

	meter_setup(m);
	rc = 1;
	if (meter_nofile(m->neps) == -1 || meter_ping_wait(m) == -1 ||
	    meter_sockets(m) == -1)
		goto out;
	meter_streams_init(m);
	if ((m->ngc = ngc_open(&m->o.ng, m->o.ng_timeout_ms, m->o.ng_tries,
	    err, sizeof(err))) == NULL) {
		log_warnx("ng: %s", err);
		goto out;
	}
	m->clock_off0 = (int64_t)(meter_realtime_ns() - mono_ns());
	if (meter_calls_create(m) == -1) {
		if (!m->o.no_delete)
			meter_calls_delete(m);
		goto out;
	}
	m->run.calls_created = m->ncalls;
	meter_event("calls %d", m->ncalls);

	rc = meter_run(m) == 0 ? 0 : 1;
	meter_take_mark(m);
	m->run.fault_marks = (int)meter_marks;
	m->run.max_send_lag_ns = m->max_lag;
	m->run.clock_step_ns = (int64_t)(meter_realtime_ns() - mono_ns()) -
	    m->clock_off0;
	if (!m->o.no_delete)
		meter_calls_delete(m);
	if (meter_report(m) == -1)
		rc = 1;
	meter_event("done");
out:
	meter_cleanup(m);
	free(m);
	return rc;
}
