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
 * fork/exec with pipes and a child watcher.
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
	 * (tcp: both optional; without send, connect alone is the check). */
	unsigned char		send[CHECK_PAYLOAD_MAX];
	size_t			send_len;
	unsigned char		expect[CHECK_PAYLOAD_MAX];
	size_t			expect_len;

	/* relay-process: the relay's pid file, and the name its
	 * /proc/PID/comm must carry so a stale pid file never names a
	 * stranger ("rtprelay" by default). */
	char			pidfile[CHECK_PATH_MAX + 1];
	char			process[16];

	/* exec: argv[0] is an absolute path; no shell. */
	char			argv_buf[1024];
	char			*argv[CHECK_ARGV_MAX + 1];
	int			argc;
};

/* Defaults for everything but name and kind. */
void	check_config_defaults(struct check_config *cc, enum check_kind kind);

/*
 * Parse one entry of the `checks:` map: `name` is its key, `map` its value.
 * Records every error in yc (file:line:col) and returns -1 if there was
 * any. Kind-specific keys are checked by the kind's own parser.
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

	struct check_result	 last;		/* valid once nresults > 0 */
	uint64_t		 nresults;
	uint64_t		 nfail;
};

/*
 * What a kind provides. start/stop: set up and tear down per-check state
 * (sockets, pidfd watchers); start returns -1 after logging when the check
 * cannot run at all (then every attempt fails with that reason). attempt:
 * begin one probe; report its verdict with check_done() (at once or later,
 * from a watcher). cancel: the attempt timed out or the check stops;
 * drop what is in flight so a late reply is not taken for the next one.
 */
struct check_kind_ops {
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

/* Engine API, used by failoverd. */
struct check	*check_new(struct ev_loop *loop, const struct check_config *cfg,
		    check_result_cb *cb, void *arg);
void		 check_free(struct check *c);	/* stops first */
void		 check_start(struct check *c);	/* first attempt at once */
void		 check_stop(struct check *c);
/* Run an attempt now (failoverctl check); no-op while one is in flight. */
void		 check_run_now(struct check *c);

/*
 * Kind API: deliver the verdict of the attempt in flight (or, with
 * definite, a death seen between attempts: relay-process). Formats detail
 * printf-style; stops the deadline timer and schedules the next attempt.
 * Calling it when no attempt is in flight and !definite is ignored.
 */
void	check_done(struct check *c, bool ok, bool definite, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));

#endif
