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
 *   weight SERVICE N|auto                         (N: 1..25600; auto:
 *                                                  back to the configured
 *                                                  weight, fixed or auto)
 *   check SERVICE                                 (run its checks now)
 *   reload
 *
 * Words are separated by one or more spaces; any other control character
 * (tab, CR, NUL...) makes the request invalid. Options may come in any order
 * after the command. A word starting with '-' is always an option, so a
 * service name cannot start with one; names are 1 to 63 bytes of
 * [A-Za-z0-9_.-].
 *
 * Reply: one or more lines "CCCC-text" (more follows) and a last line
 * "CCCC text" (a space after the code), each ending in "\n". CCCC is four
 * digits: 0xxx success, 1xxx data lines, 8xxx the request was wrong, 9xxx
 * the daemon could not do it. The client's exit status follows the code of
 * the last line: 0 for codes below 8000, 1 otherwise. Every connection may
 * send several requests; each gets its complete reply in order, and a
 * request is not read before the previous one has its last line.
 * Reply text never holds a newline (a text with one becomes several lines)
 * nor any other control character except tab (replaced by '?').
 *
 * failoverctl prints the text of 1xxx and 0xxx lines to stdout, except a
 * final 0xxx line after data lines, which only ends the reply (so
 * `failoverctl -j status' prints nothing but the JSON); 8xxx and 9xxx lines
 * go to stderr as "failoverctl: text".
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

/* Default socket paths (failoverd's config may change them). */
#define CONTROL_SOCKET		"/run/failoverd/failoverd.sock"
#define CONTROL_STATUS_SOCKET	"/run/failoverd/status.sock"

/* A request line with its "\n"; so at most 511 bytes of text. */
#define CONTROL_LINE_MAX	512
#define CONTROL_SERVICE_MAX	63
#define CONTROL_CLIENTS_MAX	32
/* A client that has this much unsent reply queued is dropped. */
#define CONTROL_OUTBUF_MAX	(1024 * 1024)
#define CONTROL_WEIGHT_MIN	1
#define CONTROL_WEIGHT_MAX	25600	/* FRR's link-bandwidth range, Mbit/s */
/* drain --timeout bounds; a bare number is seconds. */
#define CONTROL_TIMEOUT_MAX_US	(24ULL * 3600 * 1000000)

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
extern const char *const control_op_names[];	/* the command words */
const char *control_op_name(enum control_op);

struct control_cmd {
	enum control_op	op;
	char		service[CONTROL_SERVICE_MAX + 1];	/* "" with all */
	bool		all;
	bool		json;			/* status --json */
	bool		has_timeout;
	uint64_t	timeout_us;		/* drain --timeout */
	uint32_t	weight;			/* weight N */
	bool		weight_auto;		/* weight auto */
};

/*
 * Parse one request line (without its "\n"). Pure. Returns 0, or the
 * 8xxx code to reply with and a message in err naming the offending word:
 * "unknown command 'drian'", "weight: '12x' is not a number from 1 to
 * 25600 nor 'auto'", "drain: give a service name or --all".
 * CONTROL_E_SYNTAX for a
 * wrong shape (unknown command, missing or extra word, --all with a
 * service, an option twice, control characters, empty line),
 * CONTROL_E_ARG for a bad value (number, duration, service name, unknown
 * option), CONTROL_E_TOOLONG for CONTROL_LINE_MAX bytes or more.
 */
int	control_parse(const char *line, struct control_cmd *cmd, char *err,
	    size_t errlen);
/* The same for a buffer that may hold NUL bytes (an error, as any other
 * control character): what the server uses on the bytes it received. */
int	control_parse_buf(const char *line, size_t len, struct control_cmd *cmd,
	    char *err, size_t errlen);

/*
 * The client side of a reply, pure. Split one reply line (without its
 * "\n", NUL-terminated) into its code, whether it is the last line, and
 * its text (a pointer into line). Returns 0, or -1 if the line does not
 * start with four digits and '-' or ' '.
 */
int	control_reply_parse(const char *line, int *code, bool *final,
	    const char **text);
/* Exit status for the code of the last reply line: 0 below 8000, else 1. */
int	control_exit_status(int code);

struct control_server;
struct control_conn;

/*
 * Called once per parsed request. The handler must end the reply with
 * exactly one control_reply(..., final = true) call, at once or later
 * (keep conn; it stays valid until the final line is queued, even if the
 * peer has gone, in which case the lines are dropped). Requests on one
 * connection are handed over one at a time: the next line is not parsed
 * before this final reply. A final reply given later (outside the handler)
 * resumes the connection on the next loop iteration, never from inside
 * control_reply, so the caller is not re-entered.
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
/*
 * Stop listening, close every connection and unlink the path (only if it
 * is still the socket this server created). A request still waiting for its
 * final reply keeps its conn: the reply is dropped and frees it, so answer
 * pending requests (before or after) to free everything.
 */
void	control_close(struct control_server *srv);

/* False once the peer has gone or was dropped: replies are then discarded
 * (a handler may use it to skip work nobody waits for). */
bool	control_conn_alive(const struct control_conn *conn);

/* Queue one reply line; "CCCC-" or "CCCC " chosen by final. A text with
 * newlines becomes several lines with the same code (one trailing newline
 * is ignored). Outside a request (after the final line) it is a bug: the
 * line is dropped with a warning. */
void	control_reply(struct control_conn *conn, int code, bool final,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Queue a block of text (JSON): each of its lines becomes one
 * continuation line with code `code' (a trailing newline adds no empty
 * line; an empty text adds nothing). */
void	control_reply_text(struct control_conn *conn, int code,
	    const char *text, size_t len);

/* Counters for metrics: request lines received (valid or not), and final
 * replies with a code of 8000 or more. */
uint64_t control_requests(const struct control_server *srv);
uint64_t control_errors(const struct control_server *srv);

#endif
