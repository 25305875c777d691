/*
 * The control protocol between failoverctl and failoverd, and the daemon's
 * Unix socket server (OpenBGPD's control.c; replies in BIRD's style).
 *
 * Request: one line of at most CONTROL_LINE_MAX bytes ending in "\n",
 * words separated by spaces. failoverctl sends its command words as typed:
 *
 *   status [--json]
 *   drain SERVICE|--all [--timeout DURATION]     (DURATION: 30, 30s, 500ms)
 *   undrain SERVICE|--all
 *   weight SERVICE N                              (N: 1..25600)
 *   check SERVICE                                 (run its checks now)
 *   reload
 *
 * Reply: one or more lines "CCCC-text" (more follows) and a last line
 * "CCCC text" (a space after the code), each ending in "\n". CCCC is four
 * digits: 0xxx success, 1xxx data lines, 8xxx the request was wrong, 9xxx
 * the daemon could not do it. The client's exit status follows the code of
 * the last line: 0 for codes below 8000, 1 otherwise. Every connection may
 * send several requests; each gets its complete reply in order.
 *
 * The read-only socket (status) answers only `status'; anything else gets
 * CONTROL_E_READONLY. Both sockets are created with the configured mode
 * (0660 by default) and removed on exit.
 */
#ifndef CONTROLLER_CONTROL_H
#define CONTROLLER_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ev.h>

#define CONTROL_LINE_MAX	512
#define CONTROL_SERVICE_MAX	63
#define CONTROL_CLIENTS_MAX	32
/* A client that has this much unsent reply queued is dropped. */
#define CONTROL_OUTBUF_MAX	(1024 * 1024)

/* Reply codes. */
enum {
	CONTROL_OK		= 0,	/* 0000 done */
	CONTROL_OK_PENDING	= 1,	/* 0001 accepted, runs in background */
	CONTROL_DATA		= 1000,	/* 1000 table or JSON lines */
	CONTROL_E_SYNTAX	= 8001,	/* unknown command, missing word */
	CONTROL_E_ARG		= 8002,	/* bad number, duration, option */
	CONTROL_E_SERVICE	= 8003,	/* unknown service */
	CONTROL_E_READONLY	= 8004,	/* not allowed on the status socket */
	CONTROL_E_TOOLONG	= 8005,	/* request line too long */
	CONTROL_E_FAILED	= 9001,	/* could not do it (reload errors...) */
};

enum control_op {
	CONTROL_OP_STATUS,
	CONTROL_OP_DRAIN,
	CONTROL_OP_UNDRAIN,
	CONTROL_OP_WEIGHT,
	CONTROL_OP_CHECK,
	CONTROL_OP_RELOAD,
	CONTROL_OP_MAX
};
extern const char *const control_op_names[];

struct control_cmd {
	enum control_op	op;
	char		service[CONTROL_SERVICE_MAX + 1];	/* "" with all */
	bool		all;
	bool		json;			/* status --json */
	bool		has_timeout;
	uint64_t	timeout_us;		/* drain --timeout */
	uint32_t	weight;			/* weight N */
};

/*
 * Parse one request line (without its "\n"). Pure. Returns 0, or the
 * 8xxx code to reply with and a message in err naming the offending word:
 * "unknown command 'drian'", "weight: '12x' is not a number from 1 to
 * 25600", "drain: give a service name or --all".
 */
int	control_parse(const char *line, struct control_cmd *cmd, char *err,
	    size_t errlen);

struct control_server;
struct control_conn;

/*
 * Called once per parsed request. The handler must end the reply with
 * exactly one control_reply(..., final = true) call, at once or later
 * (keep conn; it stays valid until the final line is queued, even if the
 * peer has gone, in which case the lines are dropped).
 */
typedef void	control_handler(struct control_conn *conn,
		    const struct control_cmd *cmd, void *arg);

/*
 * Listen on path (an existing socket file is replaced only if nobody
 * answers on it: a second daemon must not steal the first one's socket).
 * Returns NULL after logging on failure.
 */
struct control_server *control_listen(struct ev_loop *loop, const char *path,
	    unsigned int mode, bool readonly, control_handler *fn, void *arg);
void	control_close(struct control_server *srv);	/* unlinks the path */

/* Queue one reply line; "CCCC-" or "CCCC " chosen by final. */
void	control_reply(struct control_conn *conn, int code, bool final,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Queue a block of text (JSON): each of its lines becomes one
 * continuation line with code `code'. */
void	control_reply_text(struct control_conn *conn, int code,
	    const char *text, size_t len);

/* Counters for metrics. */
uint64_t control_requests(const struct control_server *srv);
uint64_t control_errors(const struct control_server *srv);

#endif
