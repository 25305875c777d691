/*
 * rtpbench: load generator for an RTP relay driven by the ng protocol
 * (rtprelay or rtpengine).
 *
 * It creates N calls (offer + answer, each leg's SDP pointing at one of its
 * own UDP sockets), then sends 172-byte RTP (PCMU) in both directions of
 * every call at an aggregate rate spread evenly over all streams, paced in
 * 1 ms slots, and counts what the relay forwards. With a list of rates it
 * steps the load up on the same calls and prints one JSON line per step.
 * At the end it deletes the calls.
 *
 * Streams share a pool of --sockets generator sockets (callers' legs on one
 * half, callees' legs on the other), so that sendmmsg/recvmmsg batch many
 * streams per system call and the generator stays ahead of the relay. Every
 * leg still has its own relay port, so the relay's work hardly changes
 * (rtpengine measured about 5 % more CPU per packet with one generator
 * socket per leg, --sockets 2*calls).
 *
 * Loss is counted per step by a tag in the payload: a packet counts for the
 * step that sent it if its transit time stays within --grace ms (RTP that
 * late is useless to a jitter buffer); later arrivals are "late" and count
 * as lost. A step is reported one grace period after it ended. Rates and
 * CPU figures use a window that starts --settle ms into each step. A relay
 * can hide overload in its socket buffers for seconds without losing a
 * packet, so a step also reports the backlog growth over the window,
 * (sent - received) / sent: near zero while the relay keeps up, whatever
 * the latency. A step is "ok" when both loss and backlog growth stay under
 * their thresholds. It is "generator-limited" when the generator sent less
 * than 99 % of its schedule.
 *
 * With --relay-pid the relay's CPU time is read from
 * /proc/PID/task/TID/schedstat (exact run time; /proc/stat ticks alias with
 * the 1 ms slots) and its VmRSS from /proc/PID/status.
 *
 * Latency is the relay's own transit time plus the loopback: from just
 * before sendmmsg to the kernel's receive timestamp on our socket
 * (SO_TIMESTAMPNS, CLOCK_REALTIME on both ends), so time a packet waits in
 * our own receive queue does not count.
 *
 * Single thread, epoll, bounded: at most 20,000 calls and 120 s of traffic;
 * a watchdog alarm ends the process if setup or teardown hangs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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

#define BENCH_MAX_CALLS		20000
#define BENCH_MAX_SECONDS	120	/* traffic, all steps together */
#define BENCH_MAX_STEPS		32
/* 12-byte RTP header and 160 bytes of PCMU (20 ms). */
#define BENCH_PKT_LEN		172
#define BENCH_RTP_HDR		12
#define BENCH_BATCH		64	/* sendmmsg/recvmmsg vector */
#define BENCH_MAX_EVENTS	1024
#define BENCH_REPLY_NODES	8192	/* decoded ng reply */
/* Latency histogram: 50 us buckets up to 100 ms. */
#define BENCH_HIST_NS		50000ULL
#define BENCH_HIST_BUCKETS	2000
/* Room for SO_RXQ_OVFL and SO_TIMESTAMPNS control messages. */
#define BENCH_CTL_LEN		(CMSG_SPACE(sizeof(uint32_t)) + \
				 CMSG_SPACE(sizeof(struct timespec)))
#define BENCH_WARMUP_TAG	0xff	/* packets sent before step 0 */
#define BENCH_MAGIC		"RBEN"
/* A generator that falls behind sends at most this much backlog at once. */
#define BENCH_MAX_BACKLOG_NS	5000000ULL

struct bench_sock {
	int			 fd;
	uint32_t		 drops;	/* SO_RXQ_OVFL, cumulative */
	uint16_t		 port;	/* put in the SDP of its legs */
};

/* Stream j < calls is call j's caller leg, stream calls + j its callee. */
struct bench_stream {
	union sockaddr_any	 dst;	/* relay port it sends to */
	uint32_t		 sock;	/* index into the socket pool */
	uint32_t		 ssrc;
	uint32_t		 ts;
	uint16_t		 seq;
};

struct bench_step {
	uint64_t	 pps;		/* offered */
	uint64_t	 start_ns, end_ns;
	uint64_t	 scheduled;	/* packets due by the schedule */
	uint64_t	 skipped;	/* due but dropped: generator behind */
	uint64_t	 sent;		/* handed to the kernel */
	uint64_t	 rx;		/* arrived within --grace */
	uint64_t	 late;
	uint64_t	 win_sent, win_rx;	/* in the window, any tag */
	uint64_t	 lat_sum_ns, lat_max_ns;
	/* Latency histogram; the last bucket counts overflows. */
	uint32_t	 lat_hist[BENCH_HIST_BUCKETS + 1];
	uint64_t	 relay_cpu0, relay_cpu1, self_cpu0, self_cpu1;
	uint64_t	 win_start_ns, win_end_ns;
	long		 relay_rss_kb;
	bool		 window_open, window_closed, reported;
};

struct bench_opts {
	union sockaddr_any	 ng;
	struct addr		 bind;
	bool			 have_bind;
	int			 calls;
	int			 nsocks;
	uint64_t		 pps[BENCH_MAX_STEPS];
	int			 nsteps;
	int			 rate;	/* pps per leg and direction */
	int			 duration;	/* seconds per step */
	int			 cpu;
	int			 relay_pid;
	int			 settle_ms;
	int			 grace_ms;
	int			 warmup_ms;
	int			 stop_after_loss;
	double			 loss_threshold;	/* percent */
	double			 backlog_threshold;	/* percent */
	int			 ng_timeout_ms;
	int			 ng_tries;
	int			 ping_wait;	/* seconds */
	bool			 ping_only;
	bool			 no_delete;
	uint16_t		 port_lo[8], port_hi[8];
	int			 nranges;
};

struct bench {
	struct bench_opts	 o;
	struct ngc		*ngc;
	struct bench_stream	*streams;
	int			 nstreams;
	struct bench_sock	*socks;
	int			 nsocks;
	int			 ncalls_made;	/* calls on the relay */
	int			 ep, tfd;
	struct bench_step	 steps[BENCH_MAX_STEPS];
	int			 cur;	/* step sending; -1: warmup */
	uint64_t		 warm_start_ns;
	uint64_t		 warm_sent, warm_skipped, warm_rx, foreign;
	uint64_t		 gen_drops;	/* at our sockets */
	uint64_t		 gen_drops_rep;	/* ...at last report */
	uint64_t		 udp_errs_rep;	/* RcvbufErrors then */
	uint64_t		 rr;		/* round-robin cursor */
	int			 lossy_run;
	char			 callid_prefix[32];
};

static volatile sig_atomic_t bench_stop;

static void
bench_usage(void)
{
	fprintf(stderr,
"usage: rtpbench --ng HOST:PORT [--calls N] [--sockets N]\n"
"                [--pps N[,N...] | --rate N]\n"
"                [--duration S] [--cpu N] [--relay-pid PID] [--bind ADDR]\n"
"                [--ports LO-HI[,LO-HI...]] [--settle MS] [--grace MS]\n"
"                [--warmup MS] [--stop-after-loss N] [--loss-threshold PCT]\n"
"                [--backlog-threshold PCT]\n"
"                [--ng-timeout MS] [--ng-tries N] [--ping-wait S]\n"
"                [--ping-only] [--no-delete]\n"
"  --calls N            calls to create, 1..%d (default 1000)\n"
"  --sockets N          generator sockets shared by the streams, even,\n"
"                       2..2*calls (default 64)\n"
"  --pps LIST           offered packets/s over all streams; a list steps\n"
"                       the load up on the same calls\n"
"  --rate N             instead of --pps: packets/s per direction per call\n"
"                       (default 50)\n"
"  --duration S         seconds per step; all steps together <= %d s\n"
"  --relay-pid PID      report this process's CPU time and RSS per step\n"
"  --ports              local ports for the media sockets, outside the\n"
"                       relay's range (default 1024-19999,60000-65535)\n"
"  --grace MS           longest transit time of a packet that counts as\n"
"                       received (default 100)\n"
"  --stop-after-loss N  end the sweep after N steps in a row that were not\n"
"                       ok (loss >= --loss-threshold, default 0.1%%, or\n"
"                       backlog growth >= --backlog-threshold, default 0.5%%)\n"
"  --ping-only          wait until the server answers ping, then exit\n"
"Prints one JSON line per step on stdout.\n",
	    BENCH_MAX_CALLS, BENCH_MAX_SECONDS);
	exit(2);
}

static void
bench_on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

/* Integer option in [lo, hi], or exit with a message naming the option. */
static long
bench_num(const char *opt, const char *s, long lo, long hi)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		fatalx("--%s: '%s' is not a number in %ld..%ld", opt, s, lo,
		    hi);
	return v;
}

static double
bench_pct(const char *opt, const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0 && v <= 100))
		fatalx("--%s: '%s' is not a percentage", opt, s);
	return v;
}

static void
bench_parse_list(const char *opt, const char *s, char sep, char *tmp,
    size_t tmplen, char **items, int *n, int max)
{
	char	*p, *save = NULL;

	if (strlen(s) >= tmplen)
		fatalx("--%s: list too long", opt);
	strcpy(tmp, s);
	*n = 0;
	for (p = strtok_r(tmp, (char[]){ sep, '\0' }, &save); p != NULL;
	    p = strtok_r(NULL, (char[]){ sep, '\0' }, &save)) {
		if (*n == max)
			fatalx("--%s: more than %d items", opt, max);
		items[(*n)++] = p;
	}
	if (*n == 0)
		fatalx("--%s: empty list", opt);
}

static void
bench_parse(struct bench_opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "ng", required_argument, NULL, 'n' },
		{ "calls", required_argument, NULL, 'c' },
		{ "sockets", required_argument, NULL, 'S' },
		{ "pps", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "relay-pid", required_argument, NULL, 'P' },
		{ "bind", required_argument, NULL, 'b' },
		{ "ports", required_argument, NULL, 'o' },
		{ "settle", required_argument, NULL, 's' },
		{ "grace", required_argument, NULL, 'g' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "stop-after-loss", required_argument, NULL, 'L' },
		{ "loss-threshold", required_argument, NULL, 'T' },
		{ "backlog-threshold", required_argument, NULL, 'B' },
		{ "ng-timeout", required_argument, NULL, 't' },
		{ "ng-tries", required_argument, NULL, 'y' },
		{ "ping-wait", required_argument, NULL, 'W' },
		{ "ping-only", no_argument, NULL, 'O' },
		{ "no-delete", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	 err[128], tmp[512], *items[BENCH_MAX_STEPS], *dash;
	int	 ch, i, n;
	bool	 have_ng = false;
	long	 lo, hi;

	memset(o, 0, sizeof(*o));
	o->calls = 1000;
	o->nsocks = 64;
	o->rate = 50;
	o->duration = 5;
	o->cpu = -1;
	o->relay_pid = -1;
	o->settle_ms = 500;
	o->grace_ms = 100;
	o->warmup_ms = 1000;
	o->loss_threshold = 0.1;
	o->backlog_threshold = 0.5;
	o->ng_timeout_ms = 1000;
	o->ng_tries = 3;
	o->ping_wait = 5;
	o->port_lo[0] = 1024;
	o->port_hi[0] = 19999;
	o->port_lo[1] = 60000;
	o->port_hi[1] = 65535;
	o->nranges = 2;

	while ((ch = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (hostport_parse(optarg, &o->ng, err,
			    sizeof(err)) == -1)
				fatalx("--ng: %s", err);
			have_ng = true;
			break;
		case 'c':
			o->calls = (int)bench_num("calls", optarg, 1,
			    BENCH_MAX_CALLS);
			break;
		case 'S':
			o->nsocks = (int)bench_num("sockets", optarg, 2,
			    2 * BENCH_MAX_CALLS);
			break;
		case 'p':
			bench_parse_list("pps", optarg, ',', tmp, sizeof(tmp),
			    items, &o->nsteps, BENCH_MAX_STEPS);
			for (i = 0; i < o->nsteps; i++)
				o->pps[i] = (uint64_t)bench_num("pps",
				    items[i], 1, 10000000);
			break;
		case 'r':
			o->rate = (int)bench_num("rate", optarg, 1, 10000);
			break;
		case 'd':
			o->duration = (int)bench_num("duration", optarg, 1,
			    BENCH_MAX_SECONDS);
			break;
		case 'C':
			o->cpu = (int)bench_num("cpu", optarg, 0,
			    CPU_SETSIZE - 1);
			break;
		case 'P':
			o->relay_pid = (int)bench_num("relay-pid", optarg, 1,
			    INT_MAX);
			break;
		case 'b':
			if (addr_parse(optarg, &o->bind, err,
			    sizeof(err)) == -1)
				fatalx("--bind: %s", err);
			o->have_bind = true;
			break;
		case 'o':
			bench_parse_list("ports", optarg, ',', tmp,
			    sizeof(tmp), items, &n, 8);
			for (i = 0; i < n; i++) {
				if ((dash = strchr(items[i], '-')) == NULL)
					fatalx("--ports: '%s' is not LO-HI",
					    items[i]);
				*dash = '\0';
				lo = bench_num("ports", items[i], 1, 65535);
				hi = bench_num("ports", dash + 1, lo, 65535);
				o->port_lo[i] = (uint16_t)lo;
				o->port_hi[i] = (uint16_t)hi;
			}
			o->nranges = n;
			break;
		case 's':
			o->settle_ms = (int)bench_num("settle", optarg, 0,
			    10000);
			break;
		case 'g':
			o->grace_ms = (int)bench_num("grace", optarg, 1, 5000);
			break;
		case 'w':
			o->warmup_ms = (int)bench_num("warmup", optarg, 0,
			    10000);
			break;
		case 'L':
			o->stop_after_loss = (int)bench_num("stop-after-loss",
			    optarg, 0, BENCH_MAX_STEPS);
			break;
		case 'T':
			o->loss_threshold = bench_pct("loss-threshold", optarg);
			break;
		case 'B':
			o->backlog_threshold = bench_pct("backlog-threshold",
			    optarg);
			break;
		case 't':
			o->ng_timeout_ms = (int)bench_num("ng-timeout", optarg,
			    1, 60000);
			break;
		case 'y':
			o->ng_tries = (int)bench_num("ng-tries", optarg, 1,
			    100);
			break;
		case 'W':
			o->ping_wait = (int)bench_num("ping-wait", optarg, 0,
			    600);
			break;
		case 'O':
			o->ping_only = true;
			break;
		case 'D':
			o->no_delete = true;
			break;
		default:
			bench_usage();
		}
	}
	if (optind != argc || !have_ng)
		bench_usage();
	if (o->nsteps == 0) {
		o->pps[0] = (uint64_t)o->rate * 2 * (uint64_t)o->calls;
		o->nsteps = 1;
	}
	if (o->nsteps * o->duration > BENCH_MAX_SECONDS)
		fatalx("%d steps of %d s exceed the %d s limit", o->nsteps,
		    o->duration, BENCH_MAX_SECONDS);
	if (o->settle_ms >= o->duration * 1000)
		fatalx("--settle must be shorter than --duration");
	if (o->nsocks > 2 * o->calls)
		o->nsocks = 2 * o->calls;
	o->nsocks += o->nsocks % 2;
	if (!o->have_bind)
		sa_to_addr(&o->ng, &o->bind);
}

/* Sum of the first schedstat field (ns on CPU) over all threads of pid;
 * 0 if the process is gone. */
static uint64_t
bench_task_cpu_ns(int pid)
{
	char			 path[64], buf[128];
	DIR			*d;
	struct dirent		*de;
	unsigned long long	 v;
	uint64_t		 sum = 0;
	int			 fd;
	ssize_t			 n;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat",
		    pid, de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (sscanf(buf, "%llu", &v) == 1)
			sum += v;
	}
	closedir(d);
	return sum;
}

static long
bench_rss_kb(int pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * UDP RcvbufErrors of this network namespace (the relay's and our sockets
 * alike) from /proc/net/snmp; 0 if unreadable.
 */
static uint64_t
bench_udp_rcvbuf_errors(void)
{
	char		 hdr[1024], val[1024], *h, *v;
	char		*hs = NULL, *vs = NULL;
	FILE		*f;
	uint64_t	 n = 0;
	bool		 found = false;

	if ((f = fopen("/proc/net/snmp", "re")) == NULL)
		return 0;
	while (fgets(hdr, sizeof(hdr), f) != NULL) {
		if (strncmp(hdr, "Udp: ", 5) != 0)
			continue;
		if (fgets(val, sizeof(val), f) == NULL)
			break;
		found = true;
		break;
	}
	fclose(f);
	if (!found)
		return 0;
	for (h = strtok_r(hdr, " \n", &hs), v = strtok_r(val, " \n", &vs);
	    h != NULL && v != NULL;
	    h = strtok_r(NULL, " \n", &hs), v = strtok_r(NULL, " \n", &vs))
		if (strcmp(h, "RcvbufErrors") == 0)
			n = strtoull(v, NULL, 10);
	return n;
}

static void
bench_nofile(int need)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur >= (rlim_t)need)
		return;
	if (rl.rlim_max < (rlim_t)need)
		rl.rlim_max = (rlim_t)need;	/* works as root */
	rl.rlim_cur = (rlim_t)need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("cannot raise the open file limit to %d", need);
}

/*
 * The socket pool, each bound to the next free port of the ranges, and the
 * streams spread over it: callers' legs over the first half, callees' over
 * the second, consecutive streams on the same socket so one sendmmsg carries
 * a run of them.
 */
static void
bench_sockets(struct bench *b)
{
	union sockaddr_any	 sa;
	struct epoll_event	 ev;
	int			 i, r = 0, fd, half, one = 1;
	int			 rcvbuf = 4 << 20;
	uint32_t		 port;

	b->nstreams = b->o.calls * 2;
	b->nsocks = b->o.nsocks;
	bench_nofile(b->nsocks + 64);
	if ((b->streams = calloc((size_t)b->nstreams,
	    sizeof(*b->streams))) == NULL ||
	    (b->socks = calloc((size_t)b->nsocks, sizeof(*b->socks))) == NULL)
		fatal("calloc");
	port = b->o.port_lo[0];
	for (i = 0; i < b->nsocks; i++) {
		fd = socket(b->o.bind.af, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			fatal("socket");
		for (;;) {
			if (port > b->o.port_hi[r]) {
				if (++r == b->o.nranges)
					fatalx("--ports: no free port left "
					    "for socket %d of %d", i + 1,
					    b->nsocks);
				port = b->o.port_lo[r];
			}
			sa_from_addr(&sa, &b->o.bind, (uint16_t)port++);
			if (bind(fd, &sa.sa, sa_len(&sa)) == 0)
				break;
			if (errno != EADDRINUSE)
				fatal("bind");
		}
		/* Room for bursts while we are busy sending; root may
		 * exceed rmem_max. */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		    sizeof(rcvbuf)) == -1)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			    sizeof(rcvbuf));
		/* Drops at our own sockets must not pass for relay loss. */
		if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one,
		    sizeof(one)) == -1)
			fatal("SO_RXQ_OVFL");
		if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
		    sizeof(one)) == -1)
			fatal("SO_TIMESTAMPNS");
		b->socks[i].fd = fd;
		b->socks[i].port = sa_port(&sa);
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(b->ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			fatal("epoll_ctl");
	}
	half = b->nsocks / 2;
	for (i = 0; i < b->nstreams; i++) {
		struct bench_stream *st = &b->streams[i];
		int leg = i % b->o.calls;

		st->sock = (uint32_t)((int64_t)leg * half / b->o.calls +
		    (i >= b->o.calls ? half : 0));
		st->ssrc = (uint32_t)random() ^ ((uint32_t)i << 16);
		st->seq = (uint16_t)random();
		st->ts = (uint32_t)random();
	}
}

static void
bench_sdp(const struct bench *b, char *buf, size_t len, int call,
    uint16_t port)
{
	char	 abuf[INET6_ADDRSTRLEN];
	int	 v = b->o.bind.af == AF_INET6 ? 6 : 4;

	addr_fmt(&b->o.bind, abuf, sizeof(abuf));
	snprintf(buf, len,
	    "v=0\r\n"
	    "o=- %d 1 IN IP%d %s\r\n"
	    "s=rtpbench\r\n"
	    "c=IN IP%d %s\r\n"
	    "t=0 0\r\n"
	    "m=audio %u RTP/AVP 0\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n"
	    "a=sendrecv\r\n", call, v, abuf, v, abuf, port);
}

/* Send req and take the relay's media address out of the reply's SDP. */
/*
 * Call i: the caller's leg (stream i) offers, the callee's (stream calls + i)
 * answers. The offer's reply tells the callee where to send, the answer's
 * the caller. On failure the calls made so far stay in b->ncalls_made for
 * deletion.
 */
static int
bench_calls_create(struct bench *b)
{
	char		 rbuf[2048], sdp[512], callid[64];
	char		 ftag[16], ttag[16];
	char		 err[256];
	struct bencoder	 enc;
	uint64_t	 t0 = mono_ns();
	int		 i;

	for (i = 0; i < b->o.calls && !bench_stop; i++) {
		snprintf(callid, sizeof(callid), "%s-%d", b->callid_prefix, i);
		snprintf(ftag, sizeof(ftag), "a%d", i);
		snprintf(ttag, sizeof(ttag), "b%d", i);

		bench_sdp(b, sdp, sizeof(sdp), i,
		    b->socks[b->streams[i].sock].port);
		benc_init(&enc, rbuf, sizeof(rbuf));
		ngc_build_offer(&enc, callid, ftag, sdp);
		if (ngc_request_media(b->ngc, &enc,
		    &b->streams[b->o.calls + i].dst, err, sizeof(err)) == -1) {
			log_warnx("call %d of %d: offer: %s", i + 1,
			    b->o.calls, err);
			return -1;
		}
		b->ncalls_made = i + 1;

		bench_sdp(b, sdp, sizeof(sdp), i,
		    b->socks[b->streams[b->o.calls + i].sock].port);
		benc_init(&enc, rbuf, sizeof(rbuf));
		ngc_build_answer(&enc, callid, ftag, ttag, sdp);
		if (ngc_request_media(b->ngc, &enc, &b->streams[i].dst, err,
		    sizeof(err)) == -1) {
			log_warnx("call %d of %d: answer: %s", i + 1,
			    b->o.calls, err);
			return -1;
		}
	}
	log_info("%d calls created in %.2f s", b->ncalls_made,
	    (double)(mono_ns() - t0) / 1e9);
	return bench_stop ? -1 : 0;
}

static void
bench_calls_delete(struct bench *b)
{
	/* rtpengine answers a delete with the call's statistics. */
	static struct bnode nodes[BENCH_REPLY_NODES];
	struct bnode	*reply;
	char		 rbuf[256], callid[64], ftag[16], err[256];
	struct bencoder	 enc;
	uint64_t	 t0 = mono_ns();
	int		 i, ok = 0, failed = 0, inarow = 0;

	for (i = 0; i < b->ncalls_made; i++) {
		snprintf(callid, sizeof(callid), "%s-%d", b->callid_prefix, i);
		snprintf(ftag, sizeof(ftag), "a%d", i);
		benc_init(&enc, rbuf, sizeof(rbuf));
		ngc_build_delete(&enc, callid, ftag);
		if (ngc_request(b->ngc, &enc, nodes, BENCH_REPLY_NODES, &reply,
		    err, sizeof(err)) == 0) {
			ok++;
			inarow = 0;
			continue;
		}
		if (failed++ == 0)
			log_warnx("delete call %d: %s", i, err);
		/* A server that stopped answering would cost a timeout per
		 * call: give up. */
		if (++inarow == 5) {
			log_warnx("giving up deleting after 5 failures in a "
			    "row");
			break;
		}
	}
	log_info("%d calls deleted in %.2f s, %d failed", ok,
	    (double)(mono_ns() - t0) / 1e9, failed);
}

static uint64_t
bench_realtime_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The next RTP packet of a stream: header, then magic, step tag and the
 * send time. */
static void
bench_fill(struct bench_stream *s, uint8_t *p, uint8_t tag)
{
	uint64_t	 now = bench_realtime_ns();

	p[0] = 0x80;
	p[1] = 0;			/* PT 0, PCMU */
	p[2] = (uint8_t)(s->seq >> 8);
	p[3] = (uint8_t)s->seq;
	p[4] = (uint8_t)(s->ts >> 24);
	p[5] = (uint8_t)(s->ts >> 16);
	p[6] = (uint8_t)(s->ts >> 8);
	p[7] = (uint8_t)s->ts;
	p[8] = (uint8_t)(s->ssrc >> 24);
	p[9] = (uint8_t)(s->ssrc >> 16);
	p[10] = (uint8_t)(s->ssrc >> 8);
	p[11] = (uint8_t)s->ssrc;
	memcpy(p + BENCH_RTP_HDR, BENCH_MAGIC, 4);
	p[BENCH_RTP_HDR + 4] = tag;
	memcpy(p + BENCH_RTP_HDR + 8, &now, sizeof(now));
	s->seq++;
	s->ts += 160;
}

/* Packets for one socket, sent with one sendmmsg. */
struct bench_batch {
	struct mmsghdr	 mm[BENCH_BATCH];
	struct iovec	 iov[BENCH_BATCH];
	uint8_t		 pkts[BENCH_BATCH][BENCH_PKT_LEN];
	unsigned int	 n;
	uint32_t	 sock;
};

/* Returns the packets the kernel took; the rest (a full send buffer) are
 * dropped, not retried: the schedule counts them as skipped. */
static uint64_t
bench_flush(struct bench *b, struct bench_batch *bt)
{
	unsigned int	 off = 0;
	int		 r;

	while (off < bt->n) {
		r = sendmmsg(b->socks[bt->sock].fd, bt->mm + off, bt->n - off,
		    0);
		if (r <= 0)
			break;
		off += (unsigned int)r;
	}
	bt->n = 0;
	return off;
}

static uint64_t
bench_queue(struct bench *b, struct bench_batch *bt, uint64_t j, uint8_t tag)
{
	struct bench_stream	*s = &b->streams[j];
	struct mmsghdr		*m;
	uint64_t		 sent = 0;

	if (bt->n == BENCH_BATCH || (bt->n > 0 && bt->sock != s->sock))
		sent = bench_flush(b, bt);
	bench_fill(s, bt->pkts[bt->n], tag);
	bt->iov[bt->n].iov_base = bt->pkts[bt->n];
	bt->iov[bt->n].iov_len = BENCH_PKT_LEN;
	m = &bt->mm[bt->n];
	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_name = &s->dst;
	m->msg_hdr.msg_namelen = sa_len(&s->dst);
	m->msg_hdr.msg_iov = &bt->iov[bt->n];
	m->msg_hdr.msg_iovlen = 1;
	bt->sock = s->sock;
	bt->n++;
	return sent;
}

/*
 * Send what the schedule owes at time now: pps * elapsed packets since the
 * step (or warmup) started, spread round-robin over all streams so each
 * stream runs at pps / nstreams.
 */
static void
bench_send_due(struct bench *b, uint64_t now)
{
	struct bench_step	*st;
	uint64_t		 pps, start, due, owed, cap, per, extra, n;
	uint64_t		 sent = 0, j, k, ns = (uint64_t)b->nstreams;
	static struct bench_batch bt;
	uint64_t		*done, *skipped;
	uint8_t			 tag;

	if (b->cur < 0) {
		pps = b->o.pps[0];
		start = b->warm_start_ns;
		done = &b->warm_sent;
		skipped = &b->warm_skipped;
		tag = BENCH_WARMUP_TAG;
	} else {
		st = &b->steps[b->cur];
		pps = st->pps;
		start = st->start_ns;
		done = &st->sent;
		skipped = &st->skipped;
		tag = (uint8_t)b->cur;
	}
	due = pps * (now - start) / 1000000000ULL;
	if (b->cur >= 0)
		b->steps[b->cur].scheduled = due;
	owed = due > *done + *skipped ? due - *done - *skipped : 0;
	cap = pps * BENCH_MAX_BACKLOG_NS / 1000000000ULL + 1;
	if (owed > cap) {
		*skipped += owed - cap;
		owed = cap;
	}
	if (owed == 0)
		return;
	per = owed / ns;
	extra = owed % ns;
	for (j = 0; j < (per > 0 ? ns : extra); j++) {
		n = per + (j < extra ? 1 : 0);
		for (k = 0; k < n; k++)
			sent += bench_queue(b, &bt, (b->rr + j) % ns, tag);
	}
	sent += bench_flush(b, &bt);
	b->rr = (b->rr + extra) % ns;
	*done += sent;
	/* Packets the kernel refused are lost to the schedule, not owed. */
	*skipped += owed - sent;
	if (b->cur >= 0 && b->steps[b->cur].window_open &&
	    !b->steps[b->cur].window_closed)
		b->steps[b->cur].win_sent += sent;
}

static void
bench_recv(struct bench *b, uint32_t si)
{
	static uint8_t		 bufs[BENCH_BATCH][2048];
	static char		 ctl[BENCH_BATCH][BENCH_CTL_LEN];
	struct timespec		 ts;
	struct mmsghdr		 mm[BENCH_BATCH];
	struct iovec		 iov[BENCH_BATCH];
	struct bench_step	*st;
	struct cmsghdr		*cm;
	uint64_t		 sent_ns, rx_ns, lat, bucket;
	uint64_t		 grace_ns;
	uint32_t		 ovfl;
	uint8_t			*p;
	int			 k, r;

	for (k = 0; k < BENCH_BATCH; k++) {
		iov[k].iov_base = bufs[k];
		iov[k].iov_len = sizeof(bufs[k]);
		memset(&mm[k].msg_hdr, 0, sizeof(mm[k].msg_hdr));
		mm[k].msg_hdr.msg_iov = &iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
		mm[k].msg_hdr.msg_control = ctl[k];
		mm[k].msg_hdr.msg_controllen = sizeof(ctl[k]);
	}
	grace_ns = (uint64_t)b->o.grace_ms * 1000000ULL;
	r = recvmmsg(b->socks[si].fd, mm, BENCH_BATCH, MSG_DONTWAIT, NULL);
	for (k = 0; k < r; k++) {
		/* The socket's drop counter, cumulative, rides on packets
		 * once it is non-zero. */
		rx_ns = 0;
		for (cm = CMSG_FIRSTHDR(&mm[k].msg_hdr); cm != NULL;
		    cm = CMSG_NXTHDR(&mm[k].msg_hdr, cm)) {
			if (cm->cmsg_level != SOL_SOCKET)
				continue;
			if (cm->cmsg_type == SCM_TIMESTAMPNS) {
				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				rx_ns = (uint64_t)ts.tv_sec * 1000000000ULL +
				    (uint64_t)ts.tv_nsec;
				continue;
			}
			if (cm->cmsg_type != SO_RXQ_OVFL)
				continue;
			memcpy(&ovfl, CMSG_DATA(cm), sizeof(ovfl));
			if (ovfl > b->socks[si].drops) {
				b->gen_drops += ovfl - b->socks[si].drops;
				b->socks[si].drops = ovfl;
			}
		}
		p = bufs[k];
		if (mm[k].msg_len != BENCH_PKT_LEN ||
		    memcmp(p + BENCH_RTP_HDR, BENCH_MAGIC, 4) != 0) {
			b->foreign++;
			continue;
		}
		if (b->cur >= 0 && b->steps[b->cur].window_open &&
		    !b->steps[b->cur].window_closed)
			b->steps[b->cur].win_rx++;
		if (p[BENCH_RTP_HDR + 4] == BENCH_WARMUP_TAG) {
			b->warm_rx++;
			continue;
		}
		if (p[BENCH_RTP_HDR + 4] >= BENCH_MAX_STEPS) {
			b->foreign++;
			continue;
		}
		st = &b->steps[p[BENCH_RTP_HDR + 4]];
		memcpy(&sent_ns, p + BENCH_RTP_HDR + 8, sizeof(sent_ns));
		if (rx_ns == 0)		/* no kernel timestamp: ours */
			rx_ns = bench_realtime_ns();
		lat = rx_ns > sent_ns ? rx_ns - sent_ns : 0;
		if (lat > grace_ns || st->reported) {
			st->late++;
			continue;
		}
		st->rx++;
		bucket = lat / BENCH_HIST_NS;
		st->lat_hist[bucket < BENCH_HIST_BUCKETS ? bucket :
		    BENCH_HIST_BUCKETS]++;
		st->lat_sum_ns += lat;
		if (lat > st->lat_max_ns)
			st->lat_max_ns = lat;
	}
}

static double
bench_loss_pct(const struct bench_step *st)
{
	return st->sent > 0 ? (double)((int64_t)st->sent - (int64_t)st->rx) *
	    100.0 / (double)st->sent : 100.0;
}

/* Growth of the queues between us and back over the window. */
static double
bench_backlog_pct(const struct bench_step *st)
{
	return st->win_sent > 0 ? (double)((int64_t)st->win_sent -
	    (int64_t)st->win_rx) * 100.0 / (double)st->win_sent : 100.0;
}

static bool
bench_ok(const struct bench *b, const struct bench_step *st)
{
	return bench_loss_pct(st) < b->o.loss_threshold &&
	    bench_backlog_pct(st) < b->o.backlog_threshold;
}

/* Upper edge of the bucket holding the q-quantile, in us; -1 if none. */
static double
bench_lat_quantile(const struct bench_step *st, double q)
{
	uint64_t	 total = 0, acc = 0;
	int		 k;

	for (k = 0; k <= BENCH_HIST_BUCKETS; k++)
		total += st->lat_hist[k];
	if (total == 0)
		return -1;
	for (k = 0; k <= BENCH_HIST_BUCKETS; k++) {
		acc += st->lat_hist[k];
		if ((double)acc >= q * (double)total)
			break;
	}
	if (k == BENCH_HIST_BUCKETS)	/* overflow: at least the range */
		return (double)(BENCH_HIST_BUCKETS * BENCH_HIST_NS) / 1e3;
	return (double)((uint64_t)(k + 1) * BENCH_HIST_NS) / 1e3;
}

static void
bench_report(struct bench *b, int i)
{
	struct bench_step	*st = &b->steps[i];
	double			 win, loss, sent_pps, fwd_pps, gen_cpu;
	bool			 limited;
	uint64_t		 udp_errs = bench_udp_rcvbuf_errors();

	win = (double)(st->win_end_ns - st->win_start_ns) / 1e9;
	loss = bench_loss_pct(st);
	sent_pps = win > 0 ? (double)st->win_sent / win : 0;
	fwd_pps = win > 0 ? (double)st->win_rx / win : 0;
	gen_cpu = win > 0 ? (double)(st->self_cpu1 - st->self_cpu0) /
	    (win * 1e7) : 0;
	/* The generator, not the relay, set the pace. */
	limited = st->scheduled > 0 && (double)st->sent <
	    0.99 * (double)st->scheduled;

	printf("{\"step\":%d,\"calls\":%d,\"offered_pps\":%" PRIu64
	    ",\"sent_pps\":%.0f,\"forwarded_pps\":%.0f,\"sent\":%" PRIu64
	    ",\"received\":%" PRIu64 ",\"lost\":%" PRId64
	    ",\"loss_pct\":%.4f,\"late\":%" PRIu64
	    ",\"backlog_pct\":%.3f,\"ok\":%s"
	    ",\"lat_avg_us\":%.0f,\"lat_p50_us\":%.0f,\"lat_p99_us\":%.0f"
	    ",\"lat_max_us\":%.0f"
	    ",\"gen_cpu_pct\":%.1f,\"gen_limited\":%s"
	    ",\"gen_rx_drops\":%" PRIu64 ",\"udp_rcvbuf_errors\":%" PRIu64,
	    i, b->ncalls_made, st->pps, sent_pps, fwd_pps, st->sent, st->rx,
	    (int64_t)st->sent - (int64_t)st->rx, loss, st->late,
	    bench_backlog_pct(st), bench_ok(b, st) ? "true" : "false",
	    st->rx > 0 ? (double)st->lat_sum_ns / (double)st->rx / 1e3 : 0.0,
	    bench_lat_quantile(st, 0.5), bench_lat_quantile(st, 0.99),
	    (double)st->lat_max_ns / 1e3, gen_cpu,
	    limited ? "true" : "false", b->gen_drops - b->gen_drops_rep,
	    udp_errs - b->udp_errs_rep);
	b->gen_drops_rep = b->gen_drops;
	b->udp_errs_rep = udp_errs;
	if (b->o.relay_pid > 0 && st->relay_cpu1 >= st->relay_cpu0 &&
	    st->relay_cpu1 > 0) {
		printf(",\"relay_cpu_pct\":%.1f,\"relay_us_per_pkt\":%.2f"
		    ",\"relay_rss_kb\":%ld",
		    (double)(st->relay_cpu1 - st->relay_cpu0) / (win * 1e7),
		    st->win_rx > 0 ? (double)(st->relay_cpu1 -
		    st->relay_cpu0) / 1e3 / (double)st->win_rx : 0.0,
		    st->relay_rss_kb);
	}
	printf("}\n");
	fflush(stdout);
	st->reported = true;
	if (bench_ok(b, st))
		b->lossy_run = 0;
	else
		b->lossy_run++;
}

static void
bench_window(struct bench *b, struct bench_step *st, bool open, uint64_t now)
{
	int	pid = b->o.relay_pid;

	if (open) {
		st->window_open = true;
		st->win_start_ns = now;
		st->self_cpu0 = bench_task_cpu_ns(getpid());
		if (pid > 0)
			st->relay_cpu0 = bench_task_cpu_ns(pid);
	} else {
		st->window_closed = true;
		st->win_end_ns = now;
		st->self_cpu1 = bench_task_cpu_ns(getpid());
		if (pid > 0) {
			st->relay_cpu1 = bench_task_cpu_ns(pid);
			st->relay_rss_kb = bench_rss_kb(pid);
		}
	}
}

/*
 * The traffic loop: warmup, then each step in turn, then a drain of one
 * grace period. A step is reported once its grace period has passed.
 */
static void
bench_run(struct bench *b)
{
	struct epoll_event	 evs[BENCH_MAX_EVENTS];
	struct itimerspec	 its = { { 0, 1000000 }, { 0, 1000000 } };
	struct bench_step	*st;
	uint64_t		 now, grace, step_ns, exp;
	uint64_t		 drain_end = 0;
	int			 n, i, last = -1;
	bool			 sending = true;

	grace = (uint64_t)b->o.grace_ms * 1000000ULL;
	step_ns = (uint64_t)b->o.duration * 1000000000ULL;
	if (timerfd_settime(b->tfd, 0, &its, NULL) == -1)
		fatal("timerfd_settime");
	b->cur = -1;
	b->udp_errs_rep = bench_udp_rcvbuf_errors();
	b->warm_start_ns = mono_ns();
	for (i = 0; i < b->o.nsteps; i++)
		b->steps[i].pps = b->o.pps[i];

	for (;;) {
		n = epoll_wait(b->ep, evs, BENCH_MAX_EVENTS, 2);
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		now = mono_ns();
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == UINT32_MAX) {
				if (read(b->tfd, &exp, sizeof(exp)) == -1 &&
				    errno != EAGAIN)
					fatal("timerfd read");
				continue;
			}
			bench_recv(b, evs[i].data.u32);
		}

		/* Step transitions. */
		if (sending && bench_stop) {
			sending = false;
			if (b->cur >= 0)
				b->steps[b->cur].end_ns = now;
			drain_end = now + grace;
		}
		if (sending && b->cur < 0 && now - b->warm_start_ns >=
		    (uint64_t)b->o.warmup_ms * 1000000ULL) {
			if (b->warm_rx == 0 && b->warm_sent > 0)
				log_warnx("warmup: none of %" PRIu64 " packets "
				    "came back", b->warm_sent);
			b->cur = 0;
			b->steps[0].start_ns = now;
		}
		if (sending && b->cur >= 0) {
			st = &b->steps[b->cur];
			if (!st->window_open && now - st->start_ns >=
			    (uint64_t)b->o.settle_ms * 1000000ULL)
				bench_window(b, st, true, now);
			if (now - st->start_ns >= step_ns) {
				bench_window(b, st, false, now);
				st->end_ns = now;
				if (b->cur + 1 == b->o.nsteps) {
					sending = false;
					drain_end = now + grace;
				} else {
					b->cur++;
					b->steps[b->cur].start_ns = now;
				}
			}
		}
		/* Reports, in order, once a step's grace period is over. */
		while (last + 1 < b->o.nsteps && b->steps[last + 1].end_ns &&
		    b->steps[last + 1].window_closed &&
		    now >= b->steps[last + 1].end_ns + grace) {
			bench_report(b, ++last);
			if (b->o.stop_after_loss > 0 &&
			    b->lossy_run >= b->o.stop_after_loss && sending) {
				log_info("stopping after %d steps that were "
				    "not ok",
				    b->lossy_run);
				sending = false;
				drain_end = now + grace;
			}
		}
		if (sending)
			bench_send_due(b, now);
		else if (now >= drain_end)
			break;
	}
	its.it_value.tv_nsec = 0;
	its.it_interval.tv_nsec = 0;
	timerfd_settime(b->tfd, 0, &its, NULL);
	if (b->foreign > 0)
		log_warnx("%" PRIu64 " foreign packets received", b->foreign);
}

static int
bench_ping_wait(struct bench *b)
{
	char		 err[256];
	uint64_t	 deadline = mono_ms() + (uint64_t)b->o.ping_wait * 1000;
	struct ngc	*c;

	if ((c = ngc_open(&b->o.ng, 200, 1, err, sizeof(err))) == NULL)
		fatalx("ng: %s", err);
	while (ngc_ping(c, err, sizeof(err)) == -1) {
		if (mono_ms() >= deadline || bench_stop) {
			ngc_close(c);
			log_warnx("ng server not ready: %s", err);
			return -1;
		}
		usleep(100000);
	}
	ngc_close(c);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct bench		*b;
	struct sigaction	 sa;
	struct epoll_event	 ev;
	cpu_set_t		 set;
	char			 err[256];
	unsigned int		 budget;
	int			 rc;

	log_init("rtpbench", true, LOG_LEVEL_INFO);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("calloc");
	bench_parse(&b->o, argc, argv);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bench_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Watchdog: traffic, plus generous setup and teardown time. */
	budget = (unsigned int)(b->o.nsteps * b->o.duration) +
	    (unsigned int)b->o.ping_wait + 300;
	alarm(budget);

	if (b->o.cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(b->o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) == -1)
			fatal("sched_setaffinity %d", b->o.cpu);
	}
	if (bench_ping_wait(b) == -1)
		return 1;
	if (b->o.ping_only)
		return 0;

	srandom((unsigned int)(getpid() ^ mono_ns()));
	snprintf(b->callid_prefix, sizeof(b->callid_prefix), "rtpbench-%d-%x",
	    (int)getpid(), (unsigned int)random() & 0xffff);
	if ((b->ngc = ngc_open(&b->o.ng, b->o.ng_timeout_ms, b->o.ng_tries,
	    err, sizeof(err))) == NULL)
		fatalx("ng: %s", err);
	if ((b->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	if ((b->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC)) == -1)
		fatal("timerfd_create");
	ev.events = EPOLLIN;
	ev.data.u32 = UINT32_MAX;
	if (epoll_ctl(b->ep, EPOLL_CTL_ADD, b->tfd, &ev) == -1)
		fatal("epoll_ctl");

	bench_sockets(b);
	if ((rc = bench_calls_create(b)) == 0)
		bench_run(b);
	if (!b->o.no_delete)
		bench_calls_delete(b);
	ngc_close(b->ngc);
	return rc == 0 ? 0 : 1;
}
