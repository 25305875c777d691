/*
 * Health checks: the part of failoverd that *observes* (relayd's hce).
 *
 * One check is one configured probe of the local relay, run every interval
 * on the daemon's libev loop. The engine (check.c) owns scheduling, the
 * timeout and result delivery; each kind lives in its own file and only
 * knows how to start one attempt and how to cancel it:
 *
 *   check_rtp_probe.c      RTP packet to the relay's probe mirror on the
 *                          VIP, echoed back; round trip measured
 *   check_relay_process.c  the relay process: pidfd, death seen at once
 *   check_ng_ping.c        ng "ping" to the relay's control port
 *   check_udp.c            datagram out, expected reply back
 *   check_tcp.c            TCP connect (optionally send, expect a reply)
 *   check_exec.c           a program with a timeout; output to the log
 *
 * Results go to one callback per check: ok or not, definite (the relay is
 * known dead, skip `fall'), the measured latency and a short detail
 * ("timeout after 50ms", "pid 4242 exited", "reply mismatch"). The caller
 * (failoverd) feeds them to the state machine (fsm.h); checks decide
 * nothing themselves.
 *
 * No attempt ever blocks the loop: sockets are non-blocking, exec uses
 * posix_spawn with a pipe and a child watcher. Stopping an exec check
 * with a run in flight is the one wait: for a SIGKILLed child.
 */
#ifndef CONTROLLER_CHECK_H
#define CONTROLLER_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ev.h>

#include "common/addr.h"
#include "common/yconf.h"

#define CHECK_NAME_MAX		63
#define CHECK_PATH_MAX		255
#define CHECK_PAYLOAD_MAX	512
#define CHECK_ARGV_MAX		16
#define CHECK_DETAIL_MAX	160

/* Bounds on the timing keys. */
#define CHECK_INTERVAL_MIN_US	(10 * 1000ULL)		/* 10 ms */
#define CHECK_INTERVAL_MAX_US	(3600 * 1000000ULL)
#define CHECK_TIMEOUT_MIN_US	(1 * 1000ULL)
#define CHECK_RISEFALL_MAX	100

/*
 * Defaults. The timeout defaults to half the interval (whatever interval
 * the config sets), so a late answer is never mistaken for the next one
 * and the check still has time to judge. rise 2 / fall 3 are HAProxy's:
 * one lost probe never withdraws a VIP; a dead relay process does at once
 * anyway (definite failures skip `fall').
 */
#define CHECK_DEFAULT_INTERVAL_US	(1000 * 1000ULL)	/* 1 s */
#define CHECK_DEFAULT_RISE		2
#define CHECK_DEFAULT_FALL		3
#define CHECK_DEFAULT_PROCESS		"rtprelay"

/* exec: output kept for the log per run; the rest is read and dropped. */
#define CHECK_EXEC_OUTPUT_MAX	1024

enum check_kind {
	CHECK_RTP_PROBE,
	CHECK_RELAY_PROCESS,
	CHECK_NG_PING,
	CHECK_UDP,
	CHECK_TCP,
	CHECK_EXEC,
	CHECK_KIND_MAX
};
/* "rtp-probe", "relay-process", "ng-ping", "udp", "tcp", "exec"; NULL-ended */
extern const char *const check_kind_names[];
const char	*check_kind_name(enum check_kind);

struct check_config {
	char			name[CHECK_NAME_MAX + 1];
	enum check_kind		kind;
	uint64_t		interval_us;
	uint64_t		timeout_us;	/* < interval_us */
	unsigned int		rise;
	unsigned int		fall;

	/* rtp-probe, ng-ping, udp, tcp */
	union sockaddr_any	target;
	bool			has_source;
	union sockaddr_any	source;		/* bind before sending */

	/* udp, tcp: bytes to send and a byte string the reply must contain
	 * (udp: send required, expect optional, any reply will do without
	 * it; tcp: both optional, without either the connect alone is the
	 * check). No NUL bytes: YAML strings. */
	unsigned char		send[CHECK_PAYLOAD_MAX];
	size_t			send_len;
	unsigned char		expect[CHECK_PAYLOAD_MAX];
	size_t			expect_len;

	/* relay-process: the relay's pid file, and the name its
	 * /proc/PID/comm must carry so a stale pid file never names a
	 * stranger ("rtprelay" by default). */
	char			pidfile[CHECK_PATH_MAX + 1];
	char			process[16];

	/* exec: argv[0] is an absolute path; no shell. The arguments sit
	 * one after the other, each NUL-terminated, in argv_buf; argv[]
	 * points into argv_buf, so in a copy made by assignment it still
	 * points into the original. The engine itself only reads argv_buf
	 * and argc, so a copied config runs correctly. */
	char			argv_buf[1024];
	char			*argv[CHECK_ARGV_MAX + 1];
	int			argc;
};

/*
 * Zero cc, then set kind and the defaults for everything but the name:
 * interval 1 s, timeout 500 ms (half the interval), rise 2, fall 3,
 * process "rtprelay".
 */
void	check_config_defaults(struct check_config *cc, enum check_kind kind);

/*
 * Parse one entry of the `checks:` map: `name` is its key, `map` its value.
 * Records every error in yc (file:line:col) and returns -1 if there was
 * any; cc is then only partly filled. Common keys: kind (required),
 * interval (10ms..1h), timeout (1ms, below the interval; default half the
 * interval), rise and fall (1..100). A key that neither the common set nor
 * the kind knows is an error (an unknown kind is reported once, and its
 * keys are not judged). Kind-specific keys are read by the kind's own
 * parse hook. Names are 1..63 characters of [A-Za-z0-9._-]: they reach
 * log lines and the control protocol.
 */
int	check_config_parse(struct yconf *yc, const char *name,
	    yaml_node_t *map, struct check_config *cc);

struct check_result {
	bool		ok;
	bool		definite;	/* only with !ok: the relay is dead */
	uint64_t	latency_us;	/* attempt start to verdict */
	uint64_t	at_us;		/* mono_us() of the verdict */
	char		detail[CHECK_DETAIL_MAX];
};

struct check;
typedef void	check_result_cb(struct check *, const struct check_result *,
		    void *arg);

/*
 * One check at run time. The kind's state sits in `priv' (allocated by its
 * start hook, freed by its stop hook). Fields are read-only outside check*.c.
 */
struct check {
	const struct check_config *cfg;	/* owned by the caller; stable */
	struct ev_loop		*loop;
	check_result_cb		*cb;
	void			*cb_arg;
	const struct check_kind_ops *ops;
	void			*priv;

	ev_timer		 interval;	/* next attempt */
	ev_timer		 deadline;	/* attempt timeout */
	bool			 running;	/* check_start() called */
	bool			 busy;		/* attempt in flight */
	uint64_t		 attempt_us;	/* start of the attempt */
	bool			 start_failed;	/* start hook returned -1 */
	char			 start_err[CHECK_DETAIL_MAX];	/* its reason */

	struct check_result	 last;		/* valid once nresults > 0 */
	uint64_t		 nresults;
	uint64_t		 nfail;
};

/*
 * What a kind provides. keys: the kind's own config keys (NULL
 * terminated), for the unknown-key check. start/stop: set up and tear
 * down per-check state (sockets, pidfd watchers); start returns -1 after
 * logging when the check cannot run at all, with the reason in
 * c->start_err (then every attempt fails with that reason until the
 * check is restarted). Anything that may come right later (a VIP not yet
 * on lo, a relay not yet started) belongs in attempt, not start: sockets
 * are opened lazily and reopened after errors. attempt: begin one probe;
 * report its verdict with check_done() (at once or later, from a
 * watcher); the check may be freed inside check_done (by the result
 * callback), so a kind returns right after calling it. cancel: the
 * attempt timed out or the check stops; drop what is in flight so a late
 * reply is not taken for the next one. cancel never calls check_done.
 */
struct check_kind_ops {
	const char *const *keys;
	int	(*parse)(struct yconf *yc, yaml_node_t *map,
		    struct check_config *cc);	/* kind keys only */
	int	(*start)(struct check *c);
	void	(*stop)(struct check *c);
	void	(*attempt)(struct check *c);
	void	(*cancel)(struct check *c);
};
extern const struct check_kind_ops check_rtp_probe_ops;
extern const struct check_kind_ops check_relay_process_ops;
extern const struct check_kind_ops check_ng_ping_ops;
extern const struct check_kind_ops check_udp_ops;
extern const struct check_kind_ops check_tcp_ops;
extern const struct check_kind_ops check_exec_ops;

/*
 * Engine API, used by failoverd. Results only ever arrive from the loop:
 * check_start and check_run_now schedule an attempt for the next loop
 * iteration and never call the callback themselves. The callback may
 * stop, restart or free its check. exec checks need the default loop
 * (libev watches children only there); on another loop they fail every
 * attempt with "exec checks need the default loop".
 */
struct check	*check_new(struct ev_loop *loop, const struct check_config *cfg,
		    check_result_cb *cb, void *arg);
void		 check_free(struct check *c);	/* stops first */
/* Start the schedule: first attempt at once, then every interval. */
void		 check_start(struct check *c);
/* Cancel what is in flight (no result is delivered) and stop. */
void		 check_stop(struct check *c);
/* Run an attempt now (failoverctl check) and count the interval from
 * there; no-op while one is in flight or when the check is stopped. */
void		 check_run_now(struct check *c);

/*
 * Kind API: deliver the verdict of the attempt in flight (or, with
 * definite, a death seen between attempts: relay-process). Formats detail
 * printf-style; stops the deadline timer; the interval timer already
 * holds the next attempt. Calling it when no attempt is in flight and
 * !definite, or when the check is stopped, is ignored. definite is
 * dropped from a success. latency_us is 0 for a result between attempts.
 */
void	check_done(struct check *c, bool ok, bool definite, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));

/*
 * Helpers shared by the kinds (check.c).
 *
 * check_sock_open: a non-blocking, close-on-exec socket of `type'
 * (SOCK_DGRAM or SOCK_STREAM) bound to cfg->source when set and connected
 * to cfg->target (a stream socket may still be connecting: EINPROGRESS is
 * success). Returns the fd, or -1 with a one-line reason in err.
 */
int	check_sock_open(const struct check_config *cfg, int type, char *err,
	    size_t errlen);
/* The kind's state: zeroed, in c->priv; fatal when out of memory. */
void	*check_priv_new(struct check *c, size_t size);

/*
 * A kind's socket and its read/write watcher (rtp-probe, ng-ping, udp,
 * tcp). A kept socket (rtp-probe, ng-ping) stays open across attempts
 * and is reopened after a hard error: the kind tells a late reply from
 * the current one, and `waiting' says a request is in flight. A
 * per-attempt socket (udp, tcp) is opened afresh by every attempt and
 * closed with its verdict, so a late reply never arrives. The helpers
 * that report a verdict return -1 after check_done: c may then be
 * freed, so the caller returns at once.
 */
struct check_sock {
	struct check	*c;
	ev_io		 io;
	int		 fd;
	bool		 keep;		/* kept across attempts */
	bool		 waiting;	/* a request is in flight */
};

/* No socket yet; cb runs with w->data == data. */
void	check_sock_init(struct check_sock *s, struct check *c, bool keep,
	    void (*cb)(struct ev_loop *, ev_io *, int), void *data);
/* Stop the watcher and close the socket, if open; nothing is waiting. */
void	check_sock_close(struct check_sock *s);
/* Have an open socket of `type' watched for `events' (a per-attempt one
 * afresh); -1 after reporting check_sock_open's reason. */
int	check_sock_ready(struct check_sock *s, int type, int events);
/*
 * Send one datagram; on success a reply is waiting. A kept socket sends
 * once more after ECONNREFUSED (an ICMP error left by an earlier packet)
 * and stays open after EAGAIN/ENOBUFS; any other failure closes the
 * socket. -1 after reporting "send to TARGET: ERROR".
 */
int	check_sock_send(struct check_sock *s, const void *buf, size_t len);
/*
 * Read one datagram of at most len bytes. Returns 1 with its length in
 * *np when it may answer the attempt in flight; 0 when the caller may
 * read again (EINTR, or a datagram or error with nothing waiting); -1
 * when it must return: nothing more to read, or an error (an ICMP error
 * on a connected socket) reported as "NOREPLY from TARGET: ERROR".
 */
int	check_sock_recv(struct check_sock *s, void *buf, size_t len,
	    size_t *np, const char *noreply);
/* The cancel hook of a socket kind: forget the request in flight (a
 * per-attempt socket is closed). */
void	check_sock_cancel(struct check_sock *s);

/*
 * Kind parse helpers; each records its errors in yc. check_parse_need:
 * the value of a required key, or NULL after recording "check 'NAME':
 * missing 'KEY'" at the map. check_parse_target: `target' (required) and
 * `source' (optional, same family). check_parse_bytes: an optional byte
 * string key (send, expect) of 1..CHECK_PAYLOAD_MAX bytes; *len stays 0
 * when absent. The last two return -1 after any error.
 */
yaml_node_t *check_parse_need(struct yconf *yc, yaml_node_t *map,
	    const struct check_config *cc, const char *key);
int	check_parse_target(struct yconf *yc, yaml_node_t *map,
	    struct check_config *cc);
int	check_parse_bytes(struct yconf *yc, yaml_node_t *map, const char *key,
	    unsigned char *buf, size_t *len);
/* udp, tcp: target, source, send (required with need_send), expect;
 * -1 after any error. check_exchange_keys names those keys. */
int	check_parse_exchange(struct yconf *yc, yaml_node_t *map,
	    struct check_config *cc, bool need_send);
extern const char *const check_exchange_keys[];
/* Sane text for a log line or a detail: printable ASCII, others as '?'. */
void	check_printable(char *dst, size_t dstlen, const void *src,
	    size_t srclen);

#endif
