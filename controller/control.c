/*
 * The control protocol (request parser, reply lines) and failoverd's Unix
 * socket server (see control.h).
 *
 * Connection lifetime: a conn is reference counted. The open socket holds
 * one reference, a request waiting for its final reply holds one, and each
 * callback working on the conn holds one while it runs. Closing the socket
 * (peer gone, write error, client not reading, server closed) drops only the
 * first, so a handler that answers later always finds its conn; its lines
 * are then discarded and the final one frees it.
 */
#include "controller/control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/parse.h"

/* Longest word echoed back in an error, so a reply stays one short line. */
#define ECHO_MAX		40
/* Accepts, or reads, per callback: one busy client cannot starve others. */
#define CONTROL_BATCH		16
#define CONTROL_RETRY		1.0	/* s: accept paused on EMFILE etc. */

const char *const control_op_names[] = {
	[CONTROL_OP_STATUS] = "status",
	[CONTROL_OP_DRAIN] = "drain",
	[CONTROL_OP_UNDRAIN] = "undrain",
	[CONTROL_OP_WEIGHT] = "weight",
	[CONTROL_OP_CHECK] = "check",
	[CONTROL_OP_RELOAD] = "reload",
};

const char *
control_op_name(enum control_op op)
{
	if ((unsigned int)op >= CONTROL_OP_MAX)
		return "unknown";
	return control_op_names[op];
}

/*
 * Request parser
 */

/* A word as it appears in a message: at most ECHO_MAX bytes, bytes outside
 * printable ASCII as \xNN (control characters never get this far). */
static const char *
control_echo(const char *s, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 5 < len; i++) {
		if (i == ECHO_MAX) {
			snprintf(buf + o, len - o, "...");
			return buf;
		}
		if ((unsigned char)s[i] >= 0x80)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x",
			    (unsigned char)s[i]);
		else
			buf[o++] = s[i];
	}
	buf[o] = '\0';
	return buf;
}

/* A service name word; the command name prefixes the message. */
static int
control_parse_service(const char *cmdname, const char *w,
    struct control_cmd *cmd, char *err, size_t errlen)
{
	char e[ECHO_MAX * 4 + 8];
	size_t i, n = strlen(w);

	control_echo(w, e, sizeof(e));
	if (w[0] == '-') {
		snprintf(err, errlen, "%s: unknown option '%s'", cmdname, e);
		return CONTROL_E_ARG;
	}
	if (n > CONTROL_SERVICE_MAX) {
		snprintf(err, errlen, "%s: service name '%s' is longer than "
		    "%d bytes", cmdname, e, CONTROL_SERVICE_MAX);
		return CONTROL_E_ARG;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-')) {
			snprintf(err, errlen, "%s: bad service name '%s' "
			    "(allowed: A-Z a-z 0-9 _ . -)", cmdname, e);
			return CONTROL_E_ARG;
		}
	}
	memcpy(cmd->service, w, n + 1);
	return 0;
}

/* drain/undrain: SERVICE|--all, and for drain [--timeout DURATION]. */
static int
control_parse_drain(char **w, int nw, struct control_cmd *cmd, char *err,
    size_t errlen)
{
	const char *name = control_op_names[cmd->op];
	const char *service = NULL;
	char e[ECHO_MAX * 4 + 8], sub[200], tmp[CONTROL_LINE_MAX + 2];
	int i, rc;

	for (i = 1; i < nw; i++) {
		control_echo(w[i], e, sizeof(e));
		if (strcmp(w[i], "--all") == 0) {
			if (cmd->all) {
				snprintf(err, errlen, "%s: --all given twice",
				    name);
				return CONTROL_E_SYNTAX;
			}
			cmd->all = true;
		} else if (strcmp(w[i], "--timeout") == 0 &&
		    cmd->op == CONTROL_OP_DRAIN) {
			if (cmd->has_timeout) {
				snprintf(err, errlen, "%s: --timeout given "
				    "twice", name);
				return CONTROL_E_SYNTAX;
			}
			if (++i == nw) {
				snprintf(err, errlen, "%s: --timeout needs a "
				    "duration (as 30, 30s or 500ms)", name);
				return CONTROL_E_SYNTAX;
			}
			/* A bare number means seconds. */
			if (strspn(w[i], "0123456789") == strlen(w[i]))
				snprintf(tmp, sizeof(tmp), "%ss", w[i]);
			else
				snprintf(tmp, sizeof(tmp), "%s", w[i]);
			if (parse_duration_us(tmp, 0, CONTROL_TIMEOUT_MAX_US,
			    &cmd->timeout_us, sub, sizeof(sub)) == -1) {
				snprintf(err, errlen, "%s: --timeout: %s",
				    name, sub);
				return CONTROL_E_ARG;
			}
			cmd->has_timeout = true;
		} else if (w[i][0] == '-') {
			snprintf(err, errlen, "%s: unknown option '%s'", name,
			    e);
			return CONTROL_E_ARG;
		} else if (service != NULL) {
			snprintf(err, errlen, "%s: unexpected '%s'", name, e);
			return CONTROL_E_SYNTAX;
		} else {
			if ((rc = control_parse_service(name, w[i], cmd, err,
			    errlen)) != 0)
				return rc;
			service = w[i];
		}
	}
	if (service != NULL && cmd->all) {
		control_echo(service, e, sizeof(e));
		snprintf(err, errlen, "%s: service '%s' and --all given "
		    "together: give one of them", name, e);
		return CONTROL_E_SYNTAX;
	}
	if (service == NULL && !cmd->all) {
		snprintf(err, errlen, "%s: give a service name or --all", name);
		return CONTROL_E_SYNTAX;
	}
	return 0;
}

static int
control_parse_words(char **w, int nw, struct control_cmd *cmd, char *err,
    size_t errlen)
{
	char e[ECHO_MAX * 4 + 8], sub[200];
	const char *name;
	uint64_t v;
	int op, i, rc;

	for (op = 0; op < CONTROL_OP_MAX; op++)
		if (strcmp(w[0], control_op_names[op]) == 0)
			break;
	if (op == CONTROL_OP_MAX) {
		snprintf(err, errlen, "unknown command '%s' (status, drain, "
		    "undrain, weight, check, reload)",
		    control_echo(w[0], e, sizeof(e)));
		return CONTROL_E_SYNTAX;
	}
	cmd->op = op;
	name = control_op_names[op];

	switch (cmd->op) {
	case CONTROL_OP_STATUS:
		for (i = 1; i < nw; i++) {
			control_echo(w[i], e, sizeof(e));
			if (strcmp(w[i], "--json") == 0) {
				if (cmd->json) {
					snprintf(err, errlen, "%s: --json "
					    "given twice", name);
					return CONTROL_E_SYNTAX;
				}
				cmd->json = true;
			} else if (w[i][0] == '-') {
				snprintf(err, errlen, "%s: unknown option "
				    "'%s'", name, e);
				return CONTROL_E_ARG;
			} else {
				snprintf(err, errlen, "%s: unexpected '%s'",
				    name, e);
				return CONTROL_E_SYNTAX;
			}
		}
		return 0;
	case CONTROL_OP_DRAIN:
	case CONTROL_OP_UNDRAIN:
		return control_parse_drain(w, nw, cmd, err, errlen);
	case CONTROL_OP_WEIGHT:
		if (nw < 2) {
			snprintf(err, errlen, "%s: give a service name and a "
			    "weight from %d to %d or 'auto'", name,
			    CONTROL_WEIGHT_MIN, CONTROL_WEIGHT_MAX);
			return CONTROL_E_SYNTAX;
		}
		if ((rc = control_parse_service(name, w[1], cmd, err,
		    errlen)) != 0)
			return rc;
		if (nw < 3) {
			snprintf(err, errlen, "%s: give a weight from %d to %d "
			    "or 'auto' after the service name", name,
			    CONTROL_WEIGHT_MIN, CONTROL_WEIGHT_MAX);
			return CONTROL_E_SYNTAX;
		}
		if (strcmp(w[2], "auto") == 0)
			cmd->weight_auto = true;
		else if (parse_u64(w[2], CONTROL_WEIGHT_MIN,
		    CONTROL_WEIGHT_MAX, &v, sub, sizeof(sub)) == -1) {
			snprintf(err, errlen, "%s: '%s' is not a number from "
			    "%d to %d nor 'auto'", name,
			    control_echo(w[2], e, sizeof(e)),
			    CONTROL_WEIGHT_MIN, CONTROL_WEIGHT_MAX);
			return CONTROL_E_ARG;
		} else
			cmd->weight = (uint32_t)v;
		if (nw > 3) {
			snprintf(err, errlen, "%s: unexpected '%s'", name,
			    control_echo(w[3], e, sizeof(e)));
			return CONTROL_E_SYNTAX;
		}
		return 0;
	case CONTROL_OP_CHECK:
		if (nw < 2) {
			snprintf(err, errlen, "%s: give a service name", name);
			return CONTROL_E_SYNTAX;
		}
		if ((rc = control_parse_service(name, w[1], cmd, err,
		    errlen)) != 0)
			return rc;
		if (nw > 2) {
			snprintf(err, errlen, "%s: unexpected '%s'", name,
			    control_echo(w[2], e, sizeof(e)));
			return CONTROL_E_SYNTAX;
		}
		return 0;
	case CONTROL_OP_RELOAD:
		if (nw > 1) {
			snprintf(err, errlen, "%s: unexpected '%s'", name,
			    control_echo(w[1], e, sizeof(e)));
			return CONTROL_E_SYNTAX;
		}
		return 0;
	case CONTROL_OP_MAX:
		break;
	}
	snprintf(err, errlen, "unknown command");
	return CONTROL_E_SYNTAX;
}

int
control_parse_buf(const char *line, size_t len, struct control_cmd *cmd,
    char *err, size_t errlen)
{
	char buf[CONTROL_LINE_MAX];
	char *w[CONTROL_LINE_MAX / 2 + 1];
	size_t i;
	int nw = 0;

	memset(cmd, 0, sizeof(*cmd));
	if (len >= CONTROL_LINE_MAX) {
		snprintf(err, errlen, "request longer than %d bytes",
		    CONTROL_LINE_MAX - 1);
		return CONTROL_E_TOOLONG;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f) {
			snprintf(err, errlen, "control character 0x%02x in "
			    "request", c);
			return CONTROL_E_SYNTAX;
		}
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (i = 0; i < len; ) {
		while (buf[i] == ' ')
			buf[i++] = '\0';
		if (buf[i] == '\0')
			break;
		w[nw++] = buf + i;
		while (buf[i] != ' ' && buf[i] != '\0')
			i++;
	}
	if (nw == 0) {
		snprintf(err, errlen, "empty request");
		return CONTROL_E_SYNTAX;
	}
	return control_parse_words(w, nw, cmd, err, errlen);
}

int
control_parse(const char *line, struct control_cmd *cmd, char *err,
    size_t errlen)
{
	return control_parse_buf(line, strlen(line), cmd, err, errlen);
}

/*
 * Client side of replies
 */

int
control_reply_parse(const char *line, int *code, bool *final,
    const char **text)
{
	int i;

	for (i = 0; i < 4; i++)
		if (line[i] < '0' || line[i] > '9')
			return -1;
	if (line[4] != '-' && line[4] != ' ')
		return -1;
	*code = (line[0] - '0') * 1000 + (line[1] - '0') * 100 +
	    (line[2] - '0') * 10 + (line[3] - '0');
	*final = line[4] == ' ';
	*text = line + 5;
	return 0;
}

int
control_exit_status(int code)
{
	return code < 8000 ? 0 : 1;
}

/*
 * Server
 */

struct control_conn {
	struct control_server	*srv;	/* NULL once the server has closed */
	struct control_conn	*prev, *next;	/* srv->conns */
	int			 fd;	/* -1 once closed: replies dropped */
	int			 refs;
	bool			 busy;	/* a request waits for its final line */
	bool			 processing;	/* in control_conn_process */
	bool			 eof;	/* peer sent FIN: no more requests */
	bool			 discarding;	/* rest of a too-long line */
	ev_io			 rio;
	ev_io			 wio;
	ev_timer		 resume;
	char			 in[CONTROL_LINE_MAX];
	size_t			 inlen;
	char			*out;
	size_t			 outlen;	/* bytes in out */
	size_t			 outoff;	/* bytes of out sent */
	size_t			 outcap;
};

struct control_server {
	struct ev_loop		*loop;
	char			*path;
	dev_t			 dev;	/* of the socket file we created */
	ino_t			 ino;
	int			 fd;
	bool			 readonly;
	bool			 full_warned;
	control_handler		*fn;
	void			*arg;
	ev_io			 io;
	ev_timer		 retry;
	struct control_conn	*conns;
	int			 nconns;	/* with an open socket */
	uint64_t		 requests;
	uint64_t		 errors;
};

static void	control_conn_process(struct control_conn *);

static void
control_conn_unref(struct control_conn *c)
{
	if (--c->refs > 0)
		return;
	if (c->srv != NULL) {
		if (c->prev != NULL)
			c->prev->next = c->next;
		else
			c->srv->conns = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
	}
	free(c->out);
	free(c);
}

/* Close the socket; the conn lives on while a request or callback holds
 * it. Safe to call twice. */
static void
control_conn_close(struct control_conn *c)
{
	struct control_server *srv = c->srv;

	if (c->fd == -1)
		return;
	ev_io_stop(srv->loop, &c->rio);
	ev_io_stop(srv->loop, &c->wio);
	ev_timer_stop(srv->loop, &c->resume);
	close(c->fd);
	c->fd = -1;
	srv->nconns--;
	if (srv->nconns < CONTROL_CLIENTS_MAX)
		srv->full_warned = false;
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = c->outcap = 0;
	c->inlen = 0;
	control_conn_unref(c);
}

bool
control_conn_alive(const struct control_conn *c)
{
	return c->fd != -1;
}

/* Room for n more bytes at the end of out; NULL after dropping the client
 * (not reading its replies, or no memory). */
static char *
control_conn_reserve(struct control_conn *c, size_t n)
{
	size_t queued = c->outlen - c->outoff, cap;
	char *p;

	if (c->fd == -1)
		return NULL;
	if (queued + n > CONTROL_OUTBUF_MAX) {
		log_warnx("control: client does not read its replies "
		    "(%zu bytes queued), dropping it", queued);
		control_conn_close(c);
		return NULL;
	}
	if (c->outoff > 0 && c->outlen + n > c->outcap) {
		memmove(c->out, c->out + c->outoff, queued);
		c->outlen = queued;
		c->outoff = 0;
	}
	if (c->outlen + n > c->outcap) {
		cap = c->outcap == 0 ? 1024 : c->outcap;
		while (cap < c->outlen + n)
			cap *= 2;
		if ((p = realloc(c->out, cap)) == NULL) {
			log_warnx("control: out of memory for a reply, "
			    "dropping the client");
			control_conn_close(c);
			return NULL;
		}
		c->out = p;
		c->outcap = cap;
	}
	return c->out + c->outlen;
}

/* Queue one line "CCCC" sep text "\n", with control characters other than
 * tab replaced so the text cannot break the framing. */
static void
control_conn_line(struct control_conn *c, int code, char sep,
    const char *text, size_t len)
{
	char *p;
	size_t i;

	if ((p = control_conn_reserve(c, len + 6)) == NULL)
		return;
	snprintf(p, 6, "%04d%c", code, sep);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		p[5 + i] = ((ch < 0x20 && ch != '\t') || ch == 0x7f) ?
		    '?' : (char)ch;
	}
	p[5 + len] = '\n';
	c->outlen += len + 6;
	ev_io_start(c->srv->loop, &c->wio);
}

/* Each line of text as one reply line; the last one gets last_sep. */
static void
control_conn_lines(struct control_conn *c, int code, char last_sep,
    const char *text, size_t len)
{
	const char *nl;

	if (len > 0 && text[len - 1] == '\n')
		len--;
	while ((nl = memchr(text, '\n', len)) != NULL) {
		control_conn_line(c, code, '-', text, (size_t)(nl - text));
		len -= (size_t)(nl - text) + 1;
		text = nl + 1;
	}
	control_conn_line(c, code, last_sep, text, len);
}

static int
control_check_code(int code)
{
	if (code < 0 || code > 9999) {
		log_warnx("control: reply code %d out of range", code);
		return CONTROL_E_FAILED;
	}
	return code;
}

/* The request's final line is queued: count it, release the request's
 * reference, and let the conn read its next request. */
static void
control_conn_done(struct control_conn *c, int code)
{
	c->busy = false;
	if (c->srv != NULL && code >= 8000)
		c->srv->errors++;
	/* Inside control_conn_process the loop goes on by itself; from
	 * elsewhere resume on the next loop iteration rather than calling
	 * the handler again from inside its own control_reply. */
	if (!c->processing && c->fd != -1)
		ev_timer_start(c->srv->loop, &c->resume);
	control_conn_unref(c);
}

void
control_reply(struct control_conn *c, int code, bool final, const char *fmt,
    ...)
{
	va_list ap;
	char *text;
	int n;

	if (!c->busy) {
		log_warnx("control: reply line outside a request dropped");
		return;
	}
	code = control_check_code(code);
	if (c->fd != -1) {
		va_start(ap, fmt);
		n = vasprintf(&text, fmt, ap);
		va_end(ap);
		if (n < 0) {
			/* The framing must still end: an empty line. */
			control_conn_line(c, code, final ? ' ' : '-', "", 0);
		} else {
			control_conn_lines(c, code, final ? ' ' : '-', text,
			    (size_t)n);
			free(text);
		}
	}
	if (final)
		control_conn_done(c, code);
}

void
control_reply_text(struct control_conn *c, int code, const char *text,
    size_t len)
{
	if (!c->busy) {
		log_warnx("control: reply text outside a request dropped");
		return;
	}
	if (c->fd == -1 || len == 0)
		return;
	control_conn_lines(c, control_check_code(code), '-', text, len);
}

/* One request line (without "\n"): parse, check, hand to the handler. */
static void
control_conn_request(struct control_conn *c, const char *line, size_t len)
{
	struct control_server *srv = c->srv;
	struct control_cmd cmd;
	char err[256];
	int code;

	srv->requests++;
	c->busy = true;
	c->refs++;
	code = control_parse_buf(line, len, &cmd, err, sizeof(err));
	if (code == 0 && srv->readonly && cmd.op != CONTROL_OP_STATUS) {
		code = CONTROL_E_READONLY;
		snprintf(err, sizeof(err), "'%s' is not allowed on the "
		    "read-only socket (status only)", control_op_name(cmd.op));
	}
	if (code != 0) {
		control_reply(c, code, true, "%s", err);
		return;
	}
	srv->fn(c, &cmd, srv->arg);
}

static void
control_conn_consume(struct control_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
}

/*
 * Handle the complete lines in the input buffer, one request at a time,
 * then decide what to wait for: more input, the pending final reply, or
 * the end of the output (after the peer's FIN) before closing.
 */
static void
control_conn_process(struct control_conn *c)
{
	char line[CONTROL_LINE_MAX];
	char *nl;
	size_t n;

	c->refs++;
	c->processing = true;
	while (c->fd != -1 && !c->busy) {
		nl = memchr(c->in, '\n', c->inlen);
		if (c->discarding) {
			if (nl == NULL) {
				c->inlen = 0;
				break;
			}
			control_conn_consume(c, (size_t)(nl - c->in) + 1);
			c->discarding = false;
			continue;
		}
		if (nl != NULL) {
			n = (size_t)(nl - c->in);
			memcpy(line, c->in, n);
			control_conn_consume(c, n + 1);
			control_conn_request(c, line, n);
			continue;
		}
		if (c->inlen == sizeof(c->in)) {
			c->srv->requests++;
			c->busy = true;
			c->refs++;
			control_reply(c, CONTROL_E_TOOLONG, true, "request "
			    "longer than %d bytes", CONTROL_LINE_MAX - 1);
			c->inlen = 0;
			c->discarding = true;
			continue;
		}
		if (c->eof && c->inlen > 0) {
			/* A last request without its newline: take it. */
			n = c->inlen;
			memcpy(line, c->in, n);
			c->inlen = 0;
			control_conn_request(c, line, n);
			continue;
		}
		break;
	}
	c->processing = false;
	if (c->fd != -1) {
		if (c->busy || c->eof)
			ev_io_stop(c->srv->loop, &c->rio);
		else
			ev_io_start(c->srv->loop, &c->rio);
		if (c->eof && !c->busy && c->outoff == c->outlen)
			control_conn_close(c);
	}
	control_conn_unref(c);
}

static void
control_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_conn *c = w->data;
	ssize_t n;
	int i;

	(void)loop;
	(void)revents;
	c->refs++;
	for (i = 0; i < CONTROL_BATCH && c->fd != -1 && !c->busy && !c->eof;
	    i++) {
		n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
		if (n > 0) {
			c->inlen += (size_t)n;
			control_conn_process(c);
		} else if (n == 0) {
			c->eof = true;
			control_conn_process(c);
		} else if (errno == EINTR)
			continue;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		else {
			log_debug("control: client read: %s", strerror(errno));
			control_conn_close(c);
		}
	}
	control_conn_unref(c);
}

static void
control_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_conn *c = w->data;
	ssize_t n;

	(void)revents;
	c->refs++;
	while (c->fd != -1 && c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			c->outoff += (size_t)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else {
			/* EPIPE, ECONNRESET: the peer has gone. */
			log_debug("control: client write: %s", strerror(errno));
			control_conn_close(c);
		}
	}
	if (c->fd != -1 && c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		ev_io_stop(loop, &c->wio);
		if (c->eof && !c->busy)
			control_conn_close(c);
	}
	control_conn_unref(c);
}

static void
control_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	control_conn_process(w->data);
}

static void
control_add_conn(struct control_server *srv, int fd)
{
	struct control_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("control: out of memory for a client");
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->refs = 1;
	ev_io_init(&c->rio, control_read_cb, fd, EV_READ);
	c->rio.data = c;
	ev_io_init(&c->wio, control_write_cb, fd, EV_WRITE);
	c->wio.data = c;
	ev_timer_init(&c->resume, control_resume_cb, 0., 0.);
	c->resume.data = c;
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	ev_io_start(srv->loop, &c->rio);
}

static void
control_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	static const char full[] = "9001 too many control clients, try "
	    "again later\n";
	struct control_server *srv = w->data;
	int fd, i;

	(void)revents;
	for (i = 0; i < CONTROL_BATCH; i++) {
		fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* The listener would stay readable and spin
				 * the loop: pause accepting for a while. */
				log_warn("control: %s: accept", srv->path);
				ev_io_stop(loop, &srv->io);
				ev_timer_set(&srv->retry, CONTROL_RETRY, 0.);
				ev_timer_start(loop, &srv->retry);
			}
			return;
		}
		if (srv->nconns >= CONTROL_CLIENTS_MAX) {
			if (!srv->full_warned)
				log_warnx("control: %s: %d clients, refusing "
				    "more", srv->path, CONTROL_CLIENTS_MAX);
			srv->full_warned = true;
			/* A fresh socket buffer takes one short line. */
			(void)send(fd, full, sizeof(full) - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		control_add_conn(srv, fd);
	}
}

static void
control_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control_server *srv = w->data;

	(void)revents;
	ev_io_start(loop, &srv->io);
}

/* Create the socket's directory (one level) if it does not exist. */
static int
control_mkparent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0) {
		/* Exactly 0755 whatever the umask. */
		if (chmod(dir, 0755) == -1) {
			log_warn("control: chmod %s", dir);
			return -1;
		}
		log_info("control: created directory %s", dir);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	log_warn("control: mkdir %s", dir);
	return -1;
}

/*
 * An existing file at path: a socket nobody answers on is stale (a daemon
 * that crashed) and is removed; a socket someone answers on belongs to a
 * running daemon and is left alone; anything else is not ours to remove.
 */
static int
control_clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("control: %s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control: %s exists and is not a socket, not "
		    "replacing it", path);
		return -1;
	}
	/* Non-blocking: a live daemon with a full backlog answers EAGAIN
	 * instead of blocking start-up. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("control: socket");
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		log_warnx("control: %s: another process answers on it "
		    "(is failoverd already running?)", path);
		return -1;
	}
	if (errno == ENOENT)
		return 0;
	if (errno != ECONNREFUSED) {
		log_warn("control: %s: connect", path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("control: %s: removing stale socket", path);
		return -1;
	}
	log_info("control: %s: removed stale socket", path);
	return 0;
}

struct control_server *
control_listen(struct ev_loop *loop, const char *path, unsigned int mode,
    bool readonly, control_handler *fn, void *arg)
{
	struct control_server *srv;
	struct sockaddr_un sun;
	struct stat st;
	const char *step;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control: socket path '%s' is empty or longer than "
		    "%zu bytes", path, sizeof(sun.sun_path) - 1);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (control_mkparent(path) == -1 ||
	    control_clear_stale(path, &sun) == -1)
		return NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL ||
	    (srv->path = strdup(path)) == NULL) {
		free(srv);
		log_warnx("control: out of memory");
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("control: socket");
		free(srv->path);
		free(srv);
		return NULL;
	}
	step = "bind";
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		goto fail;
	/* Before listen(): until then a connect is refused, so nobody gets
	 * in while the mode is still the umask's. */
	step = "chmod";
	if (chmod(path, mode) == -1)
		goto fail_unlink;
	step = "stat";
	if (lstat(path, &st) == -1)
		goto fail_unlink;
	step = "listen";
	if (listen(fd, CONTROL_CLIENTS_MAX) == -1)
		goto fail_unlink;

	srv->loop = loop;
	srv->fd = fd;
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	srv->readonly = readonly;
	srv->fn = fn;
	srv->arg = arg;
	ev_io_init(&srv->io, control_accept_cb, fd, EV_READ);
	srv->io.data = srv;
	ev_init(&srv->retry, control_retry_cb);
	srv->retry.data = srv;
	ev_io_start(loop, &srv->io);
	log_debug("control: listening on %s%s", path,
	    readonly ? " (read-only)" : "");
	return srv;

fail_unlink:
	log_warn("control: %s: %s", path, step);
	unlink(path);
	goto out;
fail:
	log_warn("control: %s: %s", path, step);
out:
	close(fd);
	free(srv->path);
	free(srv);
	return NULL;
}

void
control_close(struct control_server *srv)
{
	struct control_conn *c, *next;
	struct stat st;

	if (srv == NULL)
		return;
	ev_io_stop(srv->loop, &srv->io);
	ev_timer_stop(srv->loop, &srv->retry);
	close(srv->fd);
	/* Another daemon may have replaced a socket we thought stale-proof;
	 * remove only our own. */
	if (lstat(srv->path, &st) == 0 && st.st_dev == srv->dev &&
	    st.st_ino == srv->ino)
		unlink(srv->path);
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		/* Hold it so it cannot be freed (and unlinked) under us. */
		c->refs++;
		control_conn_close(c);
		c->srv = NULL;
		c->prev = c->next = NULL;
		control_conn_unref(c);
	}
	free(srv->path);
	free(srv);
}

uint64_t
control_requests(const struct control_server *srv)
{
	return srv->requests;
}

uint64_t
control_errors(const struct control_server *srv)
{
	return srv->errors;
}
