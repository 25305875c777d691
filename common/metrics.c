/*
 * Prometheus text exposition and the HTTP/1.0 server that serves it.
 */
#include "common/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

#define MBUF_MIN	256
#define METRICS_RETRY	1.0	/* seconds: accept paused on EMFILE etc. */
#define METRICS_MAX_TARGET	2048
#define METRICS_MAX_METHOD	32

/*
 * mbuf
 */

void
mbuf_init(struct mbuf *mb)
{
	memset(mb, 0, sizeof(*mb));
}

void
mbuf_free(struct mbuf *mb)
{
	free(mb->buf);
	memset(mb, 0, sizeof(*mb));
}

void
mbuf_reset(struct mbuf *mb)
{
	mb->len = 0;
	mb->failed = false;
	if (mb->buf != NULL)
		mb->buf[0] = '\0';
}

const char *
mbuf_str(const struct mbuf *mb)
{
	return mb->buf != NULL ? mb->buf : "";
}

/* Room for need more bytes and the NUL. */
static int
mbuf_reserve(struct mbuf *mb, size_t need)
{
	size_t cap;
	char *nb;

	if (mb->failed)
		return -1;
	if (need > MBUF_MAX || mb->len + need + 1 > MBUF_MAX) {
		mb->failed = true;
		return -1;
	}
	if (mb->len + need + 1 <= mb->cap)
		return 0;
	cap = mb->cap > 0 ? mb->cap : MBUF_MIN;
	while (cap < mb->len + need + 1)
		cap *= 2;
	if (cap > MBUF_MAX)
		cap = MBUF_MAX;
	if ((nb = realloc(mb->buf, cap)) == NULL) {
		mb->failed = true;
		return -1;
	}
	mb->buf = nb;
	mb->cap = cap;
	return 0;
}

int
mbuf_append(struct mbuf *mb, const void *data, size_t len)
{
	if (mbuf_reserve(mb, len) == -1)
		return -1;
	if (len > 0)
		memcpy(mb->buf + mb->len, data, len);
	mb->len += len;
	mb->buf[mb->len] = '\0';
	return 0;
}

int
mbuf_printf(struct mbuf *mb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (mb->failed)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || mbuf_reserve(mb, (size_t)n) == -1) {
		mb->failed = true;
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(mb->buf + mb->len, mb->cap - mb->len, fmt, ap);
	va_end(ap);
	mb->len += (size_t)n;
	return 0;
}

/*
 * Exposition format
 */

bool
metrics_name_valid(const char *name)
{
	const char *p;

	if (name == NULL || *name == '\0' || (*name >= '0' && *name <= '9'))
		return false;
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == ':'))
			return false;
	return true;
}

static bool
metrics_ok(struct mbuf *mb, const char *name, const char *labels)
{
	if (metrics_name_valid(name) &&
	    (labels == NULL || strchr(labels, '\n') == NULL))
		return true;
	mbuf_printf(mb, "# skipped a metric with an invalid name or labels\n");
	return false;
}

void
metrics_family(struct mbuf *mb, const char *name, const char *type,
    const char *help)
{
	const char *p;

	if (!metrics_ok(mb, name, NULL))
		return;
	mbuf_printf(mb, "# HELP %s ", name);
	for (p = help != NULL ? help : ""; *p != '\0'; p++) {
		if (*p == '\\')
			mbuf_append(mb, "\\\\", 2);
		else if (*p == '\n')
			mbuf_append(mb, "\\n", 2);
		else
			mbuf_append(mb, p, 1);
	}
	mbuf_printf(mb, "\n# TYPE %s %s\n", name,
	    type != NULL ? type : "untyped");
}

static void
metrics_name_labels(struct mbuf *mb, const char *name, const char *labels)
{
	if (labels != NULL && *labels != '\0')
		mbuf_printf(mb, "%s{%s} ", name, labels);
	else
		mbuf_printf(mb, "%s ", name);
}

void
metrics_value(struct mbuf *mb, const char *name, const char *labels,
    double v)
{
	char buf[64];
	int prec;

	if (!metrics_ok(mb, name, labels))
		return;
	metrics_name_labels(mb, name, labels);
	if (isnan(v))
		snprintf(buf, sizeof(buf), "NaN");
	else if (isinf(v))
		snprintf(buf, sizeof(buf), "%cInf", v > 0 ? '+' : '-');
	else {
		/* Shortest form that reads back as the same double. */
		for (prec = 15; prec < 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
		if (prec == 17)
			snprintf(buf, sizeof(buf), "%.17g", v);
	}
	mbuf_printf(mb, "%s\n", buf);
}

void
metrics_value_u64(struct mbuf *mb, const char *name, const char *labels,
    uint64_t v)
{
	if (!metrics_ok(mb, name, labels))
		return;
	metrics_name_labels(mb, name, labels);
	mbuf_printf(mb, "%llu\n", (unsigned long long)v);
}

int
metrics_label_escape(char *out, size_t outlen, const char *in)
{
	size_t o = 0, w;
	const char *esc;
	char one[2];

	if (outlen == 0)
		return -1;
	for (; *in != '\0'; in++) {
		switch (*in) {
		case '\\':
			esc = "\\\\";
			break;
		case '"':
			esc = "\\\"";
			break;
		case '\n':
			esc = "\\n";
			break;
		default:
			one[0] = *in;
			one[1] = '\0';
			esc = one;
			break;
		}
		w = strlen(esc);
		if (o + w >= outlen) {
			out[o] = '\0';
			return -1;
		}
		memcpy(out + o, esc, w);
		o += w;
	}
	out[o] = '\0';
	return 0;
}

/*
 * HTTP request parsing (pure)
 */

size_t
metrics_http_head_len(const char *buf, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		/* The line [start, i) is empty, or just "\r". */
		if (start > 0 && (i == start ||
		    (i == start + 1 && buf[start] == '\r')))
			return i + 1;
		start = i + 1;
	}
	return 0;
}

/* RFC 9110 token characters. */
static bool
metrics_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Line [p, end) without its line end; returns its length, or -1 if no
 * "\n" in range. *next points past the line end. */
static ssize_t
metrics_line(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (nl == NULL)
		return -1;
	*next = nl + 1;
	n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return (ssize_t)n;
}

/* "name: value": a token, a colon, then no control characters but tab. */
static bool
metrics_header_ok(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && metrics_tchar(p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return false;
	for (i++; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') ||
		    p[i] == 0x7f)
			return false;
	return true;
}

int
metrics_http_status(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *next, *sp1, *sp2, *target;
	size_t mlen, tlen, vlen, i;
	ssize_t n;

	if ((n = metrics_line(p, end, &next)) <= 0)
		return 400;
	/* METHOD SP TARGET SP VERSION, single spaces, nothing else. */
	if ((sp1 = memchr(p, ' ', (size_t)n)) == NULL)
		return 400;
	mlen = (size_t)(sp1 - p);
	target = sp1 + 1;
	if ((sp2 = memchr(target, ' ', (size_t)(p + n - target))) == NULL)
		return 400;
	tlen = (size_t)(sp2 - target);
	vlen = (size_t)(p + n - (sp2 + 1));
	if (mlen == 0 || mlen > METRICS_MAX_METHOD || tlen == 0 ||
	    tlen > METRICS_MAX_TARGET)
		return 400;
	for (i = 0; i < mlen; i++)
		if (!metrics_tchar(p[i]))
			return 400;
	for (i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= 0x20 ||
		    (unsigned char)target[i] >= 0x7f)
			return 400;
	if (vlen != 8 || (memcmp(sp2 + 1, "HTTP/1.0", 8) != 0 &&
	    memcmp(sp2 + 1, "HTTP/1.1", 8) != 0))
		return 400;
	if (target[0] != '/' && target[0] != '*' &&
	    !(tlen > 7 && memcmp(target, "http://", 7) == 0))
		return 400;

	/* Header lines up to the empty line, or up to what has arrived. */
	for (p = next; p < end; p = next) {
		if ((n = metrics_line(p, end, &next)) == -1)
			break;		/* incomplete last line: not judged */
		if (n == 0)
			break;
		if (!metrics_header_ok(p, (size_t)n))
			return 400;
	}

	if (mlen != 3 || memcmp(buf, "GET", 3) != 0)
		return 405;
	if (tlen < 8 || memcmp(target, "/metrics", 8) != 0 ||
	    (tlen > 8 && target[8] != '?'))
		return 404;
	return 200;
}

static const char *
metrics_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	default:
		return "Internal Server Error";
	}
}

int
metrics_http_reply(struct mbuf *out, int status, const struct mbuf *body)
{
	const char *text;
	char small[64];
	size_t len;

	if (status != 200 && status != 400 && status != 404 && status != 405)
		status = 500;
	if (status == 200 && (body == NULL || body->failed))
		status = 500;
	if (status == 200) {
		text = mbuf_str(body);
		len = body->len;
	} else {
		snprintf(small, sizeof(small), "%s\n", metrics_reason(status));
		text = small;
		len = strlen(small);
	}
	mbuf_printf(out, "HTTP/1.0 %d %s\r\n", status, metrics_reason(status));
	if (status == 200)
		mbuf_printf(out, "Content-Type: text/plain; version=0.0.4\r\n");
	else
		mbuf_printf(out, "Content-Type: text/plain\r\n");
	if (status == 405)
		mbuf_printf(out, "Allow: GET\r\n");
	mbuf_printf(out, "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    len);
	mbuf_append(out, text, len);
	return out->failed ? -1 : 0;
}

/*
 * Server
 */

struct metrics_conn {
	struct metrics_server	*srv;
	int			 slot;
	int			 fd;
	ev_io			 io;
	ev_timer		 timer;
	char			 req[METRICS_MAX_REQUEST];
	size_t			 reqlen;
	struct mbuf		 out;
	size_t			 off;		/* bytes of out sent */
};

struct metrics_server {
	struct ev_loop		*loop;
	int			 fd;
	ev_io			 io;
	ev_timer		 retry;
	union sockaddr_any	 local;
	metrics_render_fn	 render;
	void			*arg;
	struct metrics_conn	*conns[METRICS_MAX_CONNS];
	int			 nconns;
};

static void
metrics_conn_close(struct metrics_conn *c)
{
	struct metrics_server *srv = c->srv;

	ev_io_stop(srv->loop, &c->io);
	ev_timer_stop(srv->loop, &c->timer);
	close(c->fd);
	mbuf_free(&c->out);
	srv->conns[c->slot] = NULL;
	srv->nconns--;
	free(c);
}

/* Send what the socket takes; done (or broken) closes the connection. */
static void
metrics_conn_write(struct metrics_conn *c)
{
	ssize_t n;

	while (c->off < c->out.len) {
		n = send(c->fd, c->out.buf + c->off, c->out.len - c->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->off += (size_t)n;
			ev_timer_again(c->srv->loop, &c->timer);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		metrics_conn_close(c);
		return;
	}
	/* FIN after the reply: the client reads to end of stream. */
	shutdown(c->fd, SHUT_WR);
	metrics_conn_close(c);
}

static void
metrics_conn_respond(struct metrics_conn *c, int status)
{
	struct metrics_server *srv = c->srv;
	struct mbuf body;

	mbuf_init(&body);
	if (status == 200)
		srv->render(&body, srv->arg);
	metrics_http_reply(&c->out, status, &body);
	mbuf_free(&body);
	if (c->out.failed) {
		metrics_conn_close(c);
		return;
	}
	ev_io_stop(srv->loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(srv->loop, &c->io);
	ev_timer_again(srv->loop, &c->timer);
	metrics_conn_write(c);
}

static void
metrics_conn_read(struct metrics_conn *c)
{
	size_t head;
	ssize_t n;

	for (;;) {
		n = recv(c->fd, c->req + c->reqlen,
		    sizeof(c->req) - c->reqlen, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1) {
			metrics_conn_close(c);
			return;
		}
		if (n == 0) {
			/* Half-closed: judge what came. */
			if (c->reqlen == 0)
				metrics_conn_close(c);
			else
				metrics_conn_respond(c,
				    metrics_http_status(c->req, c->reqlen));
			return;
		}
		c->reqlen += (size_t)n;
		ev_timer_again(c->srv->loop, &c->timer);
		if ((head = metrics_http_head_len(c->req, c->reqlen)) > 0) {
			metrics_conn_respond(c,
			    metrics_http_status(c->req, head));
			return;
		}
		if (c->reqlen == sizeof(c->req)) {
			metrics_conn_respond(c, 400);
			return;
		}
	}
}

static void
metrics_conn_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics_conn *c = w->data;

	(void)loop;
	if (revents & EV_WRITE)
		metrics_conn_write(c);
	else if (revents & EV_READ)
		metrics_conn_read(c);
}

static void
metrics_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	metrics_conn_close(w->data);
}

static void
metrics_add_conn(struct metrics_server *srv, int fd)
{
	struct metrics_conn *c;
	int i;

	for (i = 0; i < METRICS_MAX_CONNS; i++)
		if (srv->conns[i] == NULL)
			break;
	if (i == METRICS_MAX_CONNS || (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->slot = i;
	c->fd = fd;
	mbuf_init(&c->out);
	ev_io_init(&c->io, metrics_conn_cb, fd, EV_READ);
	c->io.data = c;
	ev_init(&c->timer, metrics_timeout_cb);
	c->timer.repeat = METRICS_TIMEOUT;
	c->timer.data = c;
	srv->conns[i] = c;
	srv->nconns++;
	ev_io_start(srv->loop, &c->io);
	ev_timer_again(srv->loop, &c->timer);
}

static void
metrics_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics_server *srv = w->data;
	int fd, i;

	(void)revents;
	for (i = 0; i < METRICS_MAX_CONNS; i++) {
		fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* The listener would stay readable and spin
				 * the loop: pause accepting for a while. */
				log_warn("metrics: accept");
				ev_io_stop(loop, &srv->io);
				ev_timer_set(&srv->retry, METRICS_RETRY, 0.);
				ev_timer_start(loop, &srv->retry);
			}
			return;
		}
		if (srv->nconns >= METRICS_MAX_CONNS) {
			close(fd);
			continue;
		}
		metrics_add_conn(srv, fd);
	}
}

static void
metrics_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct metrics_server *srv = w->data;

	(void)revents;
	ev_io_start(loop, &srv->io);
}

struct metrics_server *
metrics_open(struct ev_loop *loop, const union sockaddr_any *listen_addr,
    metrics_render_fn render, void *arg, char *err, size_t errlen)
{
	struct metrics_server *srv;
	char where[ADDR_STRLEN];
	const char *step;
	socklen_t len;
	int fd, one = 1;

	sa_fmt(listen_addr, where, sizeof(where));
	if (listen_addr->sa.sa_family != AF_INET &&
	    listen_addr->sa.sa_family != AF_INET6) {
		snprintf(err, errlen, "metrics: no listen address");
		return NULL;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		snprintf(err, errlen, "metrics %s: out of memory", where);
		return NULL;
	}
	fd = socket(listen_addr->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "metrics %s: socket: %s", where,
		    strerror(errno));
		free(srv);
		return NULL;
	}
	step = "setsockopt SO_REUSEADDR";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	step = "setsockopt IPV6_V6ONLY";
	if (listen_addr->sa.sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto fail;
	step = "bind";
	if (bind(fd, &listen_addr->sa, sa_len(listen_addr)) == -1)
		goto fail;
	step = "listen";
	if (listen(fd, METRICS_MAX_CONNS) == -1)
		goto fail;
	step = "getsockname";
	len = sizeof(srv->local);
	if (getsockname(fd, &srv->local.sa, &len) == -1)
		goto fail;

	srv->loop = loop;
	srv->fd = fd;
	srv->render = render;
	srv->arg = arg;
	ev_io_init(&srv->io, metrics_accept_cb, fd, EV_READ);
	srv->io.data = srv;
	ev_init(&srv->retry, metrics_retry_cb);
	srv->retry.data = srv;
	ev_io_start(loop, &srv->io);
	return srv;

fail:
	snprintf(err, errlen, "metrics %s: %s: %s", where, step,
	    strerror(errno));
	close(fd);
	free(srv);
	return NULL;
}

void
metrics_local_addr(const struct metrics_server *srv, union sockaddr_any *out)
{
	*out = srv->local;
}

void
metrics_close(struct metrics_server *srv)
{
	int i;

	if (srv == NULL)
		return;
	for (i = 0; i < METRICS_MAX_CONNS; i++)
		if (srv->conns[i] != NULL)
			metrics_conn_close(srv->conns[i]);
	ev_io_stop(srv->loop, &srv->io);
	ev_timer_stop(srv->loop, &srv->retry);
	close(srv->fd);
	free(srv);
}
