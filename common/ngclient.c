/*
 * Synchronous ng protocol client: framing and reply matching (pure), request
 * builders, SDP media address scanning (pure), and the UDP request loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/mono.h"
#include "common/ngclient.h"

struct ngc {
	int			 fd;
	union sockaddr_any	 server;
	int			 timeout_ms;
	int			 tries;
	uint32_t		 cookie_base;	/* differs per client */
	uint64_t		 seq;
	char			 sbuf[NGC_MAX_DGRAM];
	/* The last reply: decoded nodes point into it. */
	char			 rbuf[NGC_MAX_DGRAM];
};

/* Longest token quoted back in an error message. */
#define NGC_QUOTE_MAX	40

ssize_t
ngc_frame(char *out, size_t cap, const char *cookie,
    const struct bencoder *req, char *err, size_t errlen)
{
	size_t	clen, need;

	clen = strlen(cookie);
	if (clen == 0) {
		snprintf(err, errlen, "empty cookie");
		return -1;
	}
	if (clen > NGC_COOKIE_MAX) {
		snprintf(err, errlen, "cookie is %zu bytes long, the limit is "
		    "%d", clen, NGC_COOKIE_MAX);
		return -1;
	}
	if (strchr(cookie, ' ') != NULL) {
		snprintf(err, errlen, "cookie holds a space");
		return -1;
	}
	if (req->overflow) {
		snprintf(err, errlen, "request overflowed its %zu-byte buffer",
		    req->cap);
		return -1;
	}
	if (req->len == 0) {
		snprintf(err, errlen, "empty request");
		return -1;
	}
	need = clen + 1 + req->len;
	if (need > cap) {
		snprintf(err, errlen, "request of %zu bytes does not fit in a "
		    "%zu-byte datagram buffer", need, cap);
		return -1;
	}
	memcpy(out, cookie, clen);
	out[clen] = ' ';
	memcpy(out + clen + 1, req->buf, req->len);
	return (ssize_t)need;
}

bool
ngc_cookie_match(const char *buf, size_t len, const char *cookie,
    const char **body, size_t *bodylen)
{
	size_t	clen = strlen(cookie);

	if (clen == 0 || len < clen + 1 || memcmp(buf, cookie, clen) != 0 ||
	    buf[clen] != ' ')
		return false;
	*body = buf + clen + 1;
	*bodylen = len - clen - 1;
	return true;
}

int
ngc_reply_decode(const char *body, size_t len, struct bnode *nodes,
    size_t nnodes, struct bnode **root, char *err, size_t errlen)
{
	char			 derr[160];
	const struct bnode	*res;
	const char		*reason;
	size_t			 rlen;

	if (bencode_decode(body, len, nodes, nnodes, root, derr,
	    sizeof(derr)) == -1) {
		snprintf(err, errlen, "bad reply: %s", derr);
		return -1;
	}
	if ((*root)->type != BNODE_DICT) {
		snprintf(err, errlen, "reply is not a dictionary");
		return -1;
	}
	res = bnode_get(*root, "result");
	if (res == NULL || res->type != BNODE_STR) {
		snprintf(err, errlen, "reply has no string 'result'");
		return -1;
	}
	if (bnode_str_eq(res, "error")) {
		reason = bnode_get_str(*root, "error-reason", &rlen);
		if (reason == NULL)
			snprintf(err, errlen, "ng error: (no error-reason)");
		else
			snprintf(err, errlen, "ng error: %.*s", (int)rlen,
			    reason);
		return -1;
	}
	return 0;
}

/*
 * The builders write keys in sorted order: call-id < command < from-tag <
 * sdp < to-tag.
 */
void
ngc_build_ping(struct bencoder *b)
{
	benc_dict(b);
	benc_kv_str(b, "command", "ping");
	benc_end(b);
}

void
ngc_build_offer(struct bencoder *b, const char *call_id,
    const char *from_tag, const char *sdp)
{
	benc_dict(b);
	benc_kv_str(b, "call-id", call_id);
	benc_kv_str(b, "command", "offer");
	benc_kv_str(b, "from-tag", from_tag);
	benc_kv_str(b, "sdp", sdp);
	benc_end(b);
}

void
ngc_build_answer(struct bencoder *b, const char *call_id,
    const char *from_tag, const char *to_tag, const char *sdp)
{
	benc_dict(b);
	benc_kv_str(b, "call-id", call_id);
	benc_kv_str(b, "command", "answer");
	benc_kv_str(b, "from-tag", from_tag);
	benc_kv_str(b, "sdp", sdp);
	benc_kv_str(b, "to-tag", to_tag);
	benc_end(b);
}

void
ngc_build_delete(struct bencoder *b, const char *call_id,
    const char *from_tag)
{
	benc_dict(b);
	benc_kv_str(b, "call-id", call_id);
	benc_kv_str(b, "command", "delete");
	benc_kv_str(b, "from-tag", from_tag);
	benc_end(b);
}

/* "c=IN IP4 198.51.100.1[/ttl]": the line body after "c=". */
static int
ngc_sdp_conn(const char *s, size_t len, int lineno, union sockaddr_any *sa,
    char *err, size_t errlen)
{
	char		 abuf[INET6_ADDRSTRLEN];
	const char	*a;
	size_t		 alen;
	int		 af;

	if (len > 7 && memcmp(s, "IN IP4 ", 7) == 0)
		af = AF_INET;
	else if (len > 7 && memcmp(s, "IN IP6 ", 7) == 0)
		af = AF_INET6;
	else {
		snprintf(err, errlen, "line %d: c= line is not "
		    "'IN IP4|IP6 <address>'", lineno);
		return -1;
	}
	a = s + 7;
	for (alen = 0; alen < len - 7 && a[alen] != '/' && a[alen] != ' ';
	    alen++)
		;
	memset(sa, 0, sizeof(*sa));
	if (alen == 0 || alen >= sizeof(abuf) ||
	    memchr(a, '\0', alen) != NULL)
		goto bad;
	memcpy(abuf, a, alen);
	abuf[alen] = '\0';
	if (af == AF_INET) {
		sa->sin.sin_family = AF_INET;
		if (inet_pton(AF_INET, abuf, &sa->sin.sin_addr) != 1)
			goto bad;
	} else {
		sa->sin6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, abuf, &sa->sin6.sin6_addr) != 1)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "line %d: invalid IP%c address '%.*s' in c= "
	    "line", lineno, af == AF_INET ? '4' : '6',
	    (int)(alen > NGC_QUOTE_MAX ? NGC_QUOTE_MAX : alen), a);
	return -1;
}

/* "m=audio 30000[/2] RTP/AVP 0": the line body after "m=". */
static int
ngc_sdp_port(const char *s, size_t len, int lineno, uint16_t *port,
    char *err, size_t errlen)
{
	const char	*p;
	size_t		 i, plen;
	unsigned long	 v = 0;

	for (i = 0; i < len && s[i] != ' '; i++)
		;
	if (i == 0 || i == len) {
		snprintf(err, errlen, "line %d: m= line has no port", lineno);
		return -1;
	}
	p = s + i + 1;
	for (plen = 0; i + 1 + plen < len && p[plen] != ' ' &&
	    p[plen] != '/'; plen++)
		;
	for (i = 0; i < plen; i++) {
		if (p[i] < '0' || p[i] > '9' || (v = v * 10 +
		    (unsigned long)(p[i] - '0')) > 65535)
			break;
	}
	if (plen == 0 || i < plen || v == 0) {
		snprintf(err, errlen, "line %d: invalid port '%.*s' in m= "
		    "line", lineno,
		    (int)(plen > NGC_QUOTE_MAX ? NGC_QUOTE_MAX : plen), p);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

int
ngc_sdp_media(const char *sdp, size_t len, union sockaddr_any *out,
    char *err, size_t errlen)
{
	union sockaddr_any	 sess, media;
	const char		*line, *nl;
	size_t			 pos = 0, llen;
	int			 lineno = 0, nmedia = 0;
	bool			 have_sess = false, have_media = false;
	uint16_t		 port = 0;

	while (pos < len && nmedia < 2) {
		line = sdp + pos;
		nl = memchr(line, '\n', len - pos);
		llen = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += llen + (nl != NULL ? 1 : 0);
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		lineno++;
		if (llen < 2 || line[1] != '=')
			continue;
		if (line[0] == 'm') {
			if (++nmedia > 1)
				break;
			if (ngc_sdp_port(line + 2, llen - 2, lineno, &port,
			    err, errlen) == -1)
				return -1;
		} else if (line[0] == 'c') {
			if (ngc_sdp_conn(line + 2, llen - 2, lineno,
			    nmedia == 0 ? &sess : &media, err, errlen) == -1)
				return -1;
			if (nmedia == 0)
				have_sess = true;
			else
				have_media = true;
		}
	}
	if (nmedia == 0) {
		snprintf(err, errlen, "no m= line");
		return -1;
	}
	if (!have_media && !have_sess) {
		snprintf(err, errlen, "no c= line for the first m= line");
		return -1;
	}
	*out = have_media ? media : sess;
	sa_set_port(out, port);
	return 0;
}

struct ngc *
ngc_open(const union sockaddr_any *server, int timeout_ms, int tries,
    char *err, size_t errlen)
{
	struct ngc	*c;
	char		 sbuf[ADDR_STRLEN];

	if (timeout_ms <= 0 || tries <= 0) {
		snprintf(err, errlen, "timeout and tries must be positive");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->server = *server;
	c->timeout_ms = timeout_ms;
	c->tries = tries;
	if (getrandom(&c->cookie_base, sizeof(c->cookie_base),
	    GRND_NONBLOCK) != sizeof(c->cookie_base))
		c->cookie_base = (uint32_t)getpid() ^ (uint32_t)mono_ns();
	c->fd = socket(server->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		free(c);
		return NULL;
	}
	if (connect(c->fd, &server->sa, sa_len(server)) == -1) {
		snprintf(err, errlen, "connect to %s: %s",
		    sa_fmt(server, sbuf, sizeof(sbuf)), strerror(errno));
		close(c->fd);
		free(c);
		return NULL;
	}
	return c;
}

void
ngc_close(struct ngc *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c);
}

/*
 * A pending ICMP error from an earlier datagram fails the next send on a
 * connected socket although this one could go out: try once more.
 */
static int
ngc_send(struct ngc *c, size_t len)
{
	if (send(c->fd, c->sbuf, len, 0) == (ssize_t)len)
		return 0;
	if (errno != ECONNREFUSED)
		return -1;
	return send(c->fd, c->sbuf, len, 0) == (ssize_t)len ? 0 : -1;
}

int
ngc_request(struct ngc *c, const struct bencoder *req, struct bnode *nodes,
    size_t nnodes, struct bnode **reply, char *err, size_t errlen)
{
	char		 cookie[32], sbuf[ADDR_STRLEN];
	const char	*body;
	size_t		 bodylen;
	ssize_t		 n, slen;
	int64_t		 deadline, left;
	struct pollfd	 pfd;
	int		 try, refused = 0;

	snprintf(cookie, sizeof(cookie), "%08x_%llu", c->cookie_base,
	    (unsigned long long)++c->seq);
	if ((slen = ngc_frame(c->sbuf, sizeof(c->sbuf), cookie, req, err,
	    errlen)) == -1)
		return -1;
	for (try = 0; try < c->tries; try++) {
		if (ngc_send(c, (size_t)slen) == -1) {
			if (errno != ECONNREFUSED) {
				snprintf(err, errlen, "send to %s: %s",
				    sa_fmt(&c->server, sbuf, sizeof(sbuf)),
				    strerror(errno));
				return -1;
			}
			refused = 1;
		}
		deadline = (int64_t)mono_ms() + c->timeout_ms;
		while ((left = deadline - (int64_t)mono_ms()) > 0) {
			pfd.fd = c->fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, (int)left) == -1) {
				if (errno == EINTR)
					continue;
				snprintf(err, errlen, "poll: %s",
				    strerror(errno));
				return -1;
			}
			if (!(pfd.revents & (POLLIN | POLLERR)))
				continue;
			n = recv(c->fd, c->rbuf, sizeof(c->rbuf), MSG_DONTWAIT);
			if (n == -1) {
				if (errno == ECONNREFUSED)
					refused = 1;
				else if (errno != EAGAIN && errno != EINTR) {
					snprintf(err, errlen, "recv: %s",
					    strerror(errno));
					return -1;
				}
				continue;
			}
			if (!ngc_cookie_match(c->rbuf, (size_t)n, cookie,
			    &body, &bodylen))
				continue;
			return ngc_reply_decode(body, bodylen, nodes, nnodes,
			    reply, err, errlen);
		}
	}
	snprintf(err, errlen, "no reply from %s after %d tries of %d ms%s",
	    sa_fmt(&c->server, sbuf, sizeof(sbuf)), c->tries, c->timeout_ms,
	    refused ? " (connection refused)" : "");
	return -1;
}

int
ngc_ping(struct ngc *c, char *err, size_t errlen)
{
	char		 buf[64];
	struct bencoder	 b;
	struct bnode	 nodes[16], *reply;

	benc_init(&b, buf, sizeof(buf));
	ngc_build_ping(&b);
	if (ngc_request(c, &b, nodes, 16, &reply, err, errlen) == -1)
		return -1;
	if (!bnode_str_eq(bnode_get(reply, "result"), "pong")) {
		snprintf(err, errlen, "ping: result is not 'pong'");
		return -1;
	}
	return 0;
}

/* Offer/answer replies carry SDP and little else; the bound is generous. */
#define NGC_MEDIA_NODES	1024

int
ngc_request_media(struct ngc *c, const struct bencoder *req,
    union sockaddr_any *media, char *err, size_t errlen)
{
	static struct bnode nodes[NGC_MEDIA_NODES];
	struct bnode *reply;
	const char *sdp;
	size_t len;
	char serr[128];

	if (ngc_request(c, req, nodes, NGC_MEDIA_NODES, &reply, err,
	    errlen) == -1)
		return -1;
	if ((sdp = bnode_get_str(reply, "sdp", &len)) == NULL) {
		snprintf(err, errlen, "reply has no sdp");
		return -1;
	}
	if (ngc_sdp_media(sdp, len, media, serr, sizeof(serr)) == -1) {
		snprintf(err, errlen, "reply sdp: %s", serr);
		return -1;
	}
	return 0;
}
