/*
 * Prometheus metrics: a text buffer with helpers for the text exposition
 * format (version 0.0.4), and a minimal HTTP/1.0 server on the event loop
 * that answers GET /metrics with whatever a render callback writes.
 *
 * The server never blocks the loop: non-blocking sockets, a request head of
 * at most METRICS_MAX_REQUEST bytes read within METRICS_TIMEOUT seconds, the
 * reply written as the socket accepts it, one request per connection, at
 * most METRICS_MAX_CONNS connections (more are accepted and closed at once).
 *
 * The pure parts (mbuf, formatting, escaping, request parsing, reply
 * building) do no I/O and are unit-tested directly.
 */
#ifndef COMMON_METRICS_H
#define COMMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "common/addr.h"

#define METRICS_MAX_REQUEST	4096	/* request line and headers */
#define METRICS_TIMEOUT		2.0	/* seconds without progress */
#define METRICS_MAX_CONNS	16
#define MBUF_MAX		(16 * 1024 * 1024)

/*
 * Growable text buffer. buf is NUL-terminated whenever it is non-NULL. An
 * allocation failure (or growth past MBUF_MAX) sets failed and drops every
 * later append, so a writer checks once at the end instead of after each
 * call.
 */
struct mbuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	bool	 failed;
};

void	mbuf_init(struct mbuf *mb);
void	mbuf_free(struct mbuf *mb);
/* Empty it (keeping the memory) and clear failed. */
void	mbuf_reset(struct mbuf *mb);
/* The text, "" when nothing was written. */
const char *mbuf_str(const struct mbuf *mb);
int	mbuf_append(struct mbuf *mb, const void *data, size_t len);
int	mbuf_printf(struct mbuf *mb, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Called for each scrape to write the exposition body into mb. */
typedef void (*metrics_render_fn)(struct mbuf *mb, void *arg);

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool	metrics_name_valid(const char *name);
/*
 * "# HELP name help" and "# TYPE name type" (type "counter" or "gauge";
 * backslashes and newlines in help are escaped). A metric with an invalid
 * name, or labels containing a newline, would make Prometheus reject the
 * whole scrape: it is replaced by a comment line saying it was skipped.
 */
void	metrics_family(struct mbuf *mb, const char *name, const char *type,
	    const char *help);
/* "name{labels} value"; labels is the inside of the braces, already
 * escaped (see metrics_label_escape), or NULL/"" for none. */
void	metrics_value(struct mbuf *mb, const char *name, const char *labels,
	    double v);
void	metrics_value_u64(struct mbuf *mb, const char *name,
	    const char *labels, uint64_t v);
/*
 * Escape a label value (backslash, double quote, newline) into out. -1 if
 * it did not fit: out then holds the longest prefix that ends on a whole
 * escape sequence, so it is still a valid label value.
 */
int	metrics_label_escape(char *out, size_t outlen, const char *in);

/*
 * Length of the request head in buf (request line, headers and the empty
 * line that ends them, "\r\n" or "\n" line ends), or 0 if it is not
 * complete yet.
 */
size_t	metrics_http_head_len(const char *buf, size_t len);
/*
 * The status a request deserves: 200 for GET /metrics (a query string is
 * ignored), 405 for another method, 404 for another path, 400 for anything
 * that is not a well-formed HTTP/1.0 or HTTP/1.1 request line followed by
 * well-formed header lines. buf need not hold the empty line that ends the
 * head (a client may half-close early), but must hold the whole request
 * line.
 */
int	metrics_http_status(const char *buf, size_t len);
/* The whole reply for status (body: the exposition for 200, else ignored;
 * a small text body is used). Returns -1 if out failed. */
int	metrics_http_reply(struct mbuf *out, int status,
	    const struct mbuf *body);

struct metrics_server;

/*
 * Listen on TCP listen_addr and serve scrapes on loop. On failure NULL and
 * a message naming the address ("metrics 127.0.0.1:9224: bind: Address
 * already in use").
 */
struct metrics_server *metrics_open(struct ev_loop *loop,
	    const union sockaddr_any *listen_addr, metrics_render_fn render,
	    void *arg, char *err, size_t errlen);
/* The bound address, with the port the kernel chose if 0 was asked. */
void	metrics_local_addr(const struct metrics_server *srv,
	    union sockaddr_any *out);
/* Close the listener and every open connection, free. NULL is ignored. */
void	metrics_close(struct metrics_server *srv);

#endif
