/*
 * SDP parsing and rewriting for ng offer/answer; see sdp.h for the rules.
 *
 * Both directions walk the same line cursor, so rewrite sees exactly the
 * lines parse validated. Rewrite parses first and only then writes, which
 * keeps its own walk free of error paths.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "relay/sdp.h"

const char *const sdp_dir_names[SDP_DIR_MAX] = {
	[SDP_DIR_SENDRECV] = "sendrecv",
	[SDP_DIR_SENDONLY] = "sendonly",
	[SDP_DIR_RECVONLY] = "recvonly",
	[SDP_DIR_INACTIVE] = "inactive",
};

/* Longest piece of input quoted in an error message. */
#define SDP_QUOTE_MAX	64
#define SDP_QUOTE_LEN	(SDP_QUOTE_MAX + 4)

struct sdp_cursor {
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	int		 no;		/* number of the last line returned */
};

struct sdp_line {
	const char	*p;		/* "<type>=<value>", no line ending */
	size_t		 n;
	int		 no;		/* 1-based */
	bool		 crlf;		/* ended in CRLF */
};

/* A space-separated token of a line value. */
struct sdp_tok {
	const char	*p;
	size_t		 n;
};

const char *const sdp_setup_names[SDP_SETUP_MAX] = {
	[SDP_SETUP_NONE] = "none",
	[SDP_SETUP_ACTIVE] = "active",
	[SDP_SETUP_PASSIVE] = "passive",
	[SDP_SETUP_ACTPASS] = "actpass",
	[SDP_SETUP_HOLDCONN] = "holdconn",
};

static const char *const sdp_ice_attrs[] = {
	"candidate", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite",
	"ice-pacing", "end-of-candidates", "remote-candidates", "ice-mismatch",
};

static const char *const sdp_rtp_protos[] = {
	"RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF",
	"UDP/TLS/RTP/SAVP", "UDP/TLS/RTP/SAVPF",
};

const char *
sdp_dir_name(enum sdp_dir d)
{
	if ((unsigned int)d >= SDP_DIR_MAX)
		return "unknown";
	return sdp_dir_names[d];
}

const char *
sdp_setup_name(enum sdp_setup s)
{
	if ((unsigned int)s >= SDP_SETUP_MAX)
		return "unknown";
	return sdp_setup_names[s];
}

static void
sdp_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
sdp_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Copy input bytes into dst for an error message: at most SDP_QUOTE_MAX of
 * them, non-printable bytes as '?', "..." when cut, so the message stays
 * one printable line whatever the input holds.
 */
static const char *
sdp_quote(char *dst, const char *s, size_t n)
{
	size_t	i, m;

	m = n > SDP_QUOTE_MAX ? SDP_QUOTE_MAX : n;
	for (i = 0; i < m; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if (m < n) {
		memcpy(dst + m, "...", 3);
		m += 3;
	}
	dst[m] = '\0';
	return dst;
}

static bool
sdp_eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Next token after *pos in v[0..n), skipping runs of spaces; false at end. */
static bool
sdp_next_tok(const char *v, size_t n, size_t *pos, struct sdp_tok *t)
{
	size_t	i = *pos;

	while (i < n && v[i] == ' ')
		i++;
	if (i == n) {
		*pos = i;
		return false;
	}
	t->p = v + i;
	while (i < n && v[i] != ' ')
		i++;
	t->n = (size_t)(v + i - t->p);
	*pos = i;
	return true;
}

/*
 * Decimal number of 1..n digits, nothing else. Returns 0, -1 if s is not a
 * number, -2 if it is one but above max (however many digits it has).
 */
static int
sdp_num(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long	v = 0;
	bool		big = false;
	size_t		i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (!big) {
			v = v * 10 + (unsigned long)(s[i] - '0');
			if (v > max)
				big = true;
		}
	}
	if (big)
		return -2;
	*out = v;
	return 0;
}

/*
 * Next line of the input. Returns 1 with *l filled, 0 at the end (trailing
 * line endings count as the end), -1 on a malformed line.
 */
static int
sdp_next_line(struct sdp_cursor *c, struct sdp_line *l, char *err,
    size_t errlen)
{
	const char	*start, *nl;
	size_t		 n, rest, i;
	bool		 crlf = false;

	if (c->pos >= c->len)
		return 0;
	start = c->buf + c->pos;
	rest = c->len - c->pos;
	nl = memchr(start, '\n', rest);
	n = nl != NULL ? (size_t)(nl - start) : rest;
	if (nl != NULL && n > 0 && start[n - 1] == '\r') {
		n--;
		crlf = true;
	}
	c->no++;
	if (n == 0) {
		for (i = 0; i < rest; i++)
			if (start[i] != '\r' && start[i] != '\n')
				break;
		if (i == rest) {
			c->pos = c->len;
			return 0;
		}
		sdp_err(err, errlen, "line %d: empty line", c->no);
		return -1;
	}
	if (n > SDP_MAX_LINE) {
		sdp_err(err, errlen, "line %d: longer than %d bytes", c->no,
		    SDP_MAX_LINE);
		return -1;
	}
	if (memchr(start, '\0', n) != NULL) {
		sdp_err(err, errlen, "line %d: NUL byte", c->no);
		return -1;
	}
	if (memchr(start, '\r', n) != NULL) {
		sdp_err(err, errlen, "line %d: CR not followed by LF", c->no);
		return -1;
	}
	l->p = start;
	l->n = n;
	l->no = c->no;
	l->crlf = crlf;
	c->pos += nl != NULL ? (size_t)(nl - start) + 1 : rest;
	return 1;
}

/*
 * "IN IP4 <addr>" / "IN IP6 <addr>", the tail of c= and a=rtcp: lines. On
 * failure, why says what is wrong with it.
 */
static int
sdp_conn_parse(const char *v, size_t n, struct addr *a, char *why,
    size_t whylen)
{
	struct sdp_tok	 net, type, host, extra;
	size_t		 pos = 0;
	const char	*slash;
	char		 buf[INET6_ADDRSTRLEN + 16], q[SDP_QUOTE_LEN];
	char		 aerr[128];
	int		 af;

	if (!sdp_next_tok(v, n, &pos, &net) || !sdp_eq(net.p, net.n, "IN")) {
		sdp_err(why, whylen, "network type must be IN");
		return -1;
	}
	if (!sdp_next_tok(v, n, &pos, &type)) {
		sdp_err(why, whylen, "missing address type");
		return -1;
	}
	if (sdp_eq(type.p, type.n, "IP4"))
		af = AF_INET;
	else if (sdp_eq(type.p, type.n, "IP6"))
		af = AF_INET6;
	else {
		sdp_err(why, whylen, "address type must be IP4 or IP6");
		return -1;
	}
	if (!sdp_next_tok(v, n, &pos, &host)) {
		sdp_err(why, whylen, "missing address");
		return -1;
	}
	if (sdp_next_tok(v, n, &pos, &extra)) {
		sdp_err(why, whylen, "unexpected '%s' after the address",
		    sdp_quote(q, extra.p, extra.n));
		return -1;
	}
	if ((slash = memchr(host.p, '/', host.n)) != NULL) {
		sdp_err(why, whylen, "multicast suffix '%s' not supported",
		    sdp_quote(q, slash, (size_t)(host.p + host.n - slash)));
		return -1;
	}
	/*
	 * The message is ours, not addr_parse's, so it names the family the
	 * SDP announced even when the text is an address of the other one.
	 */
	if (host.n >= sizeof(buf))
		goto bad;
	memcpy(buf, host.p, host.n);
	buf[host.n] = '\0';
	if (addr_parse(buf, a, aerr, sizeof(aerr)) == -1 || a->af != af)
		goto bad;
	return 0;
 bad:
	sdp_err(why, whylen, "invalid %s address '%s'",
	    af == AF_INET ? "IPv4" : "IPv6", sdp_quote(q, host.p, host.n));
	return -1;
}

static int
sdp_parse_c(struct sdp_info *info, struct sdp_media *m,
    const struct sdp_line *l, char *err, size_t errlen)
{
	const char	*v = l->p + 2;
	size_t		 vn = l->n - 2;
	bool		*has = m != NULL ? &m->has_conn : &info->has_conn;
	struct addr	*a = m != NULL ? &m->conn : &info->conn;
	char		 why[160], q[SDP_QUOTE_LEN];

	if (*has) {
		sdp_err(err, errlen, "line %d: duplicate c= line", l->no);
		return -1;
	}
	if (sdp_conn_parse(v, vn, a, why, sizeof(why)) == -1) {
		sdp_err(err, errlen, "line %d: invalid c= line '%s': %s",
		    l->no, sdp_quote(q, v, vn), why);
		return -1;
	}
	*has = true;
	return 0;
}

static bool
sdp_proto_is_rtp(const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < sizeof(sdp_rtp_protos) / sizeof(sdp_rtp_protos[0]);
	    i++)
		if (strlen(sdp_rtp_protos[i]) == n &&
		    strncasecmp(p, sdp_rtp_protos[i], n) == 0)
			return true;
	return false;
}

/* m=<media> <port>[/<count>] <proto> <fmt> ... */
static int
sdp_parse_m(struct sdp_info *info, const struct sdp_line *l, char *err,
    size_t errlen)
{
	const char	*v = l->p + 2, *slash;
	size_t		 vn = l->n - 2, pos = 0, pn;
	struct sdp_media *m;
	struct sdp_tok	 media, port, proto, fmt;
	unsigned long	 num;
	char		 q[SDP_QUOTE_LEN];
	int		 rc;

	if (info->nmedia == SDP_MAX_MEDIA) {
		sdp_err(err, errlen, "line %d: more than %d m= sections",
		    l->no, SDP_MAX_MEDIA);
		return -1;
	}
	m = &info->media[info->nmedia];
	memset(m, 0, sizeof(*m));
	m->line = l->no;
	m->dir = info->dir;
	m->setup = info->setup;
	m->fingerprint = info->fingerprint;
	m->zrtp_hash = info->zrtp_hash;

	if (!sdp_next_tok(v, vn, &pos, &media)) {
		sdp_err(err, errlen, "line %d: m= line has no media type",
		    l->no);
		return -1;
	}
	if (media.n >= sizeof(m->type)) {
		sdp_err(err, errlen,
		    "line %d: m= media type '%s' longer than %zu bytes", l->no,
		    sdp_quote(q, media.p, media.n), sizeof(m->type) - 1);
		return -1;
	}
	memcpy(m->type, media.p, media.n);

	if (!sdp_next_tok(v, vn, &pos, &port)) {
		sdp_err(err, errlen, "line %d: m= line has no port", l->no);
		return -1;
	}
	slash = memchr(port.p, '/', port.n);
	pn = slash != NULL ? (size_t)(slash - port.p) : port.n;
	if ((rc = sdp_num(port.p, pn, 65535, &num)) != 0) {
		sdp_err(err, errlen, rc == -2 ?
		    "line %d: m= port '%s' out of range 0..65535" :
		    "line %d: m= port '%s' is not a number", l->no,
		    sdp_quote(q, port.p, pn));
		return -1;
	}
	m->port = (uint16_t)num;
	if (slash != NULL) {
		size_t	cn = (size_t)(port.p + port.n - slash) - 1;

		if (sdp_num(slash + 1, cn, 65535, &num) != 0 || num != 1) {
			sdp_err(err, errlen, "line %d: m= port count '%s' not "
			    "supported (one port per media)", l->no,
			    sdp_quote(q, slash, cn + 1));
			return -1;
		}
	}

	if (!sdp_next_tok(v, vn, &pos, &proto)) {
		sdp_err(err, errlen, "line %d: m= line has no protocol", l->no);
		return -1;
	}
	if (proto.n >= sizeof(m->proto)) {
		sdp_err(err, errlen,
		    "line %d: m= protocol '%s' longer than %zu bytes", l->no,
		    sdp_quote(q, proto.p, proto.n), sizeof(m->proto) - 1);
		return -1;
	}
	memcpy(m->proto, proto.p, proto.n);
	m->rtp = sdp_proto_is_rtp(proto.p, proto.n);
	m->dtls = (proto.n > 8 && strncasecmp(proto.p, "UDP/TLS/", 8) == 0) ||
	    (proto.n > 9 && strncasecmp(proto.p, "UDP/DTLS/", 9) == 0);

	while (sdp_next_tok(v, vn, &pos, &fmt)) {
		m->nfmt++;
		if (!m->rtp)
			continue;
		if ((rc = sdp_num(fmt.p, fmt.n, 127, &num)) != 0) {
			sdp_err(err, errlen, rc == -2 ?
			    "line %d: m= payload type '%s' out of range 0..127" :
			    "line %d: m= payload type '%s' is not a number",
			    l->no, sdp_quote(q, fmt.p, fmt.n));
			return -1;
		}
		m->pt_mask[num / 64] |= UINT64_C(1) << (num % 64);
		if (m->nfmt <= SDP_MAX_FMT)
			m->fmt[m->nfmt - 1] = (uint8_t)num;
	}
	if (m->nfmt == 0) {
		sdp_err(err, errlen, "line %d: m= line has no formats", l->no);
		return -1;
	}
	info->nmedia++;
	return 0;
}

/* Attribute name of an a= line: up to the first ':' or the end. */
static size_t
sdp_attr_name(const struct sdp_line *l)
{
	const char	*colon = memchr(l->p + 2, ':', l->n - 2);

	return colon != NULL ? (size_t)(colon - (l->p + 2)) : l->n - 2;
}

static bool
sdp_attr_is_ice(const char *name, size_t n)
{
	size_t	i;

	for (i = 0; i < sizeof(sdp_ice_attrs) / sizeof(sdp_ice_attrs[0]); i++)
		if (sdp_eq(name, n, sdp_ice_attrs[i]))
			return true;
	return false;
}

/* a=rtcp:<port> [IN IP4|IP6 <addr>] (RFC 3605) */
static int
sdp_parse_rtcp(struct sdp_media *m, const struct sdp_line *l, char *err,
    size_t errlen)
{
	const char	*v = l->p + 2 + 5;	/* after "rtcp:" */
	size_t		 vn = l->n - 2 - 5, pn;
	const char	*sp;
	unsigned long	 num = 0;
	char		 why[160], q[SDP_QUOTE_LEN];
	int		 rc;

	if (m->has_rtcp) {
		sdp_err(err, errlen, "line %d: duplicate a=rtcp line", l->no);
		return -1;
	}
	sp = memchr(v, ' ', vn);
	pn = sp != NULL ? (size_t)(sp - v) : vn;
	if ((rc = sdp_num(v, pn, 65535, &num)) != 0 || num == 0) {
		sdp_err(err, errlen, rc == -1 ?
		    "line %d: a=rtcp port '%s' is not a number" :
		    "line %d: a=rtcp port '%s' out of range 1..65535", l->no,
		    sdp_quote(q, v, pn));
		return -1;
	}
	m->has_rtcp = true;
	m->rtcp_port = (uint16_t)num;
	if (sp == NULL)
		return 0;
	if (sdp_conn_parse(sp + 1, vn - pn - 1, &m->rtcp_addr, why,
	    sizeof(why)) == -1) {
		sdp_err(err, errlen, "line %d: invalid a=rtcp address '%s': %s",
		    l->no, sdp_quote(q, sp + 1, vn - pn - 1), why);
		return -1;
	}
	m->has_rtcp_addr = true;
	return 0;
}

/*
 * a=rtpmap:<pt> <name>/<clock>[/<channels>] of RTP media: remembered for
 * the codec manipulations. Anything that does not fit this shape names no
 * codec and passes through; it is the endpoints' business, not a reason to
 * refuse the call.
 */
static void
sdp_parse_rtpmap(struct sdp_media *m, const struct sdp_line *l,
    const char *base)
{
	const char	*v = l->p + 2 + 7;	/* after "rtpmap:" */
	size_t		 vn = l->n - 2 - 7, pos = 0;
	struct sdp_tok	 pt, enc;
	const char	*s1, *s2, *end;
	unsigned long	 num, clock, ch = 0;
	struct sdp_rtpmap *r;

	if (!m->rtp || !sdp_next_tok(v, vn, &pos, &pt) ||
	    sdp_num(pt.p, pt.n, 127, &num) != 0 ||
	    !sdp_next_tok(v, vn, &pos, &enc))
		return;
	end = enc.p + enc.n;
	if ((s1 = memchr(enc.p, '/', enc.n)) == NULL || s1 == enc.p ||
	    s1 - enc.p > 255)
		return;
	s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1));
	if (sdp_num(s1 + 1, (size_t)((s2 != NULL ? s2 : end) - s1 - 1),
	    UINT32_MAX, &clock) != 0)
		return;
	if (s2 != NULL && sdp_num(s2 + 1, (size_t)(end - s2 - 1), 65535,
	    &ch) != 0)
		return;
	r = &m->rtpmap[num];
	r->name_off = (uint16_t)(enc.p - base);
	r->name_len = (uint8_t)(s1 - enc.p);
	r->clock = (uint32_t)clock;
	r->channels = (uint16_t)ch;
}

/* a=setup:<role>; an unknown role reads as none (the line passes as is). */
static void
sdp_parse_setup(enum sdp_setup *setup, const struct sdp_line *l)
{
	const char	*v = l->p + 2 + 6;	/* after "setup:" */
	size_t		 vn = l->n - 2 - 6;
	int		 i;

	*setup = SDP_SETUP_NONE;
	if (l->n < 2 + 6)
		return;
	for (i = SDP_SETUP_NONE + 1; i < SDP_SETUP_MAX; i++)
		if (sdp_eq(v, vn, sdp_setup_names[i]))
			*setup = (enum sdp_setup)i;
}

static int
sdp_parse_a(struct sdp_info *info, struct sdp_media *m,
    const struct sdp_line *l, const char *base, char *err, size_t errlen)
{
	const char	*name = l->p + 2;
	size_t		 n = sdp_attr_name(l);
	bool		 bare = n == l->n - 2;	/* no ":<value>" */
	enum sdp_dir	*dir = m != NULL ? &m->dir : &info->dir;
	int		 d;

	if (sdp_eq(name, n, "rtcp")) {
		if (m == NULL)
			return 0;
		if (bare) {
			sdp_err(err, errlen, "line %d: a=rtcp without a port",
			    l->no);
			return -1;
		}
		return sdp_parse_rtcp(m, l, err, errlen);
	}
	if (sdp_eq(name, n, "rtpmap") && !bare && m != NULL) {
		sdp_parse_rtpmap(m, l, base);
		return 0;
	}
	if (sdp_eq(name, n, "rtcp-mux")) {
		if (m != NULL)
			m->rtcp_mux = true;
		return 0;
	}
	if (sdp_attr_is_ice(name, n)) {
		if (m != NULL)
			m->has_ice = true;
		else
			info->has_ice = true;
		return 0;
	}
	if (sdp_eq(name, n, "fingerprint")) {
		*(m != NULL ? &m->fingerprint : &info->fingerprint) = true;
		return 0;
	}
	if (sdp_eq(name, n, "zrtp-hash")) {
		*(m != NULL ? &m->zrtp_hash : &info->zrtp_hash) = true;
		return 0;
	}
	if (sdp_eq(name, n, "setup")) {
		sdp_parse_setup(m != NULL ? &m->setup : &info->setup, l);
		return 0;
	}
	if (!bare)
		return 0;
	for (d = 0; d < SDP_DIR_MAX; d++)
		if (sdp_eq(name, n, sdp_dir_names[d]))
			*dir = (enum sdp_dir)d;
	return 0;
}

int
sdp_parse(const char *sdp, size_t len, struct sdp_info *out, char *err,
    size_t errlen)
{
	struct sdp_cursor c = { .buf = sdp, .len = len };
	struct sdp_line	 l;
	struct sdp_media *m = NULL;
	char		 q[SDP_QUOTE_LEN];
	int		 i, r, rc, nlines = 0;

	memset(out, 0, sizeof(*out));
	out->dir = SDP_DIR_SENDRECV;
	if (len > SDP_MAX_LEN) {
		sdp_err(err, errlen, "SDP longer than %d bytes", SDP_MAX_LEN);
		return -1;
	}
	while ((r = sdp_next_line(&c, &l, err, errlen)) == 1) {
		nlines++;
		if (l.no == 1) {
			if (!sdp_eq(l.p, l.n, "v=0")) {
				sdp_err(err, errlen,
				    "line 1: SDP must start with v=0");
				return -1;
			}
			out->crlf = l.crlf;
			continue;
		}
		if (l.n < 2 || l.p[0] < 'a' || l.p[0] > 'z' || l.p[1] != '=') {
			sdp_err(err, errlen,
			    "line %d: not a <type>=<value> line '%s'", l.no,
			    sdp_quote(q, l.p, l.n));
			return -1;
		}
		switch (l.p[0]) {
		case 'v':
			sdp_err(err, errlen, "line %d: second v= line", l.no);
			return -1;
		case 'm':
			if ((rc = sdp_parse_m(out, &l, err, errlen)) == 0)
				m = &out->media[out->nmedia - 1];
			break;
		case 'c':
			rc = sdp_parse_c(out, m, &l, err, errlen);
			break;
		case 'a':
			rc = sdp_parse_a(out, m, &l, sdp, err, errlen);
			break;
		default:
			rc = 0;
			break;
		}
		if (rc == -1)
			return -1;
	}
	if (r == -1)
		return -1;
	if (nlines == 0) {
		/* Nothing, or nothing but line endings. */
		sdp_err(err, errlen, "SDP is empty");
		return -1;
	}
	for (i = 0; i < out->nmedia; i++) {
		if (out->media[i].fingerprint)
			out->media[i].dtls = true;
		if (out->media[i].port != 0 && sdp_media_addr(out, i) == NULL) {
			sdp_err(err, errlen,
			    "media %d (line %d) has no connection address",
			    i + 1, out->media[i].line);
			return -1;
		}
	}
	return 0;
}

const struct addr *
sdp_media_addr(const struct sdp_info *info, int i)
{
	if (i < 0 || i >= info->nmedia)
		return NULL;
	if (info->media[i].has_conn)
		return &info->media[i].conn;
	if (info->has_conn)
		return &info->conn;
	return NULL;
}

bool
sdp_pt_has(const struct sdp_media *m, unsigned int pt)
{
	if (pt > 127)
		return false;
	return (m->pt_mask[pt / 64] >> (pt % 64)) & 1;
}

/* Output that remembers overflow instead of writing past cap (NUL kept). */
struct sdp_out {
	char	*buf;
	size_t	 cap;
	size_t	 len;
	bool	 over;
};

static void
sdp_put(struct sdp_out *o, const char *p, size_t n)
{
	if (o->over || o->cap == 0 || n > o->cap - 1 - o->len) {
		o->over = true;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void
sdp_puts(struct sdp_out *o, const char *s)
{
	sdp_put(o, s, strlen(s));
}

/* The relay's RTCP lines, appended at the end of a live RTP media section
 * (a=rtcp means nothing to UDPTL and other non-RTP media). */
static void
sdp_put_rtcp(struct sdp_out *o, const struct sdp_rewrite *rw,
    const struct sdp_rewrite_media *rm, const char *abuf, const char *eol)
{
	char	line[32];

	if (rw->rtcp_attr != SDP_RTCP_NONE) {
		snprintf(line, sizeof(line), "a=rtcp:%u", (unsigned int)
		    (rm->rtcp_mux ? rm->rtp_port : rm->rtcp_port));
		sdp_puts(o, line);
		if (rw->rtcp_attr == SDP_RTCP_FULL) {
			sdp_puts(o, rw->addr.af == AF_INET ? " IN IP4 " :
			    " IN IP6 ");
			sdp_puts(o, abuf);
		}
		sdp_puts(o, eol);
	}
	if (rm->rtcp_mux) {
		sdp_puts(o, "a=rtcp-mux");
		sdp_puts(o, eol);
	}
}

/*
 * Copy an m= line with its port replaced (count suffix kept) and, as rm
 * says, its protocol and format list.
 */
static void
sdp_put_m(struct sdp_out *o, const struct sdp_line *l, uint16_t port,
    const struct sdp_rewrite_media *rm)
{
	const char	*v = l->p + 2;
	size_t		 vn = l->n - 2, pos = 0, pn;
	struct sdp_tok	 media, ptok, proto;
	char		 num[8];
	int		 i;

	/* parse validated the line, so the first three tokens exist */
	(void)sdp_next_tok(v, vn, &pos, &media);
	(void)sdp_next_tok(v, vn, &pos, &ptok);
	(void)sdp_next_tok(v, vn, &pos, &proto);
	for (pn = 0; pn < ptok.n && ptok.p[pn] >= '0' && ptok.p[pn] <= '9';
	    pn++)
		;
	snprintf(num, sizeof(num), "%u", (unsigned int)port);
	sdp_put(o, l->p, (size_t)(ptok.p - l->p));
	sdp_puts(o, num);
	if (rm == NULL || (rm->proto == NULL && !rm->set_fmt)) {
		sdp_put(o, ptok.p + pn, (size_t)(l->p + l->n - (ptok.p + pn)));
		return;
	}
	sdp_put(o, ptok.p + pn, (size_t)(proto.p - (ptok.p + pn)));
	if (rm->proto != NULL)
		sdp_puts(o, rm->proto);
	else
		sdp_put(o, proto.p, proto.n);
	if (!rm->set_fmt) {
		sdp_put(o, proto.p + proto.n, (size_t)(l->p + l->n -
		    (proto.p + proto.n)));
		return;
	}
	for (i = 0; i < rm->nfmt; i++) {
		snprintf(num, sizeof(num), " %u", (unsigned int)rm->fmt[i]);
		sdp_puts(o, num);
	}
}

/* "o=<user> <id> <version> IN <type> <addr>" with the last two replaced;
 * an o= line of another shape is copied as it is. */
static void
sdp_put_o(struct sdp_out *o, const struct sdp_line *l, const struct addr *a,
    const char *abuf)
{
	const char	*v = l->p + 2;
	size_t		 vn = l->n - 2, pos = 0;
	struct sdp_tok	 t[7];
	int		 n = 0;

	while (n < 7 && sdp_next_tok(v, vn, &pos, &t[n]))
		n++;
	if (n != 6 || !sdp_eq(t[3].p, t[3].n, "IN")) {
		sdp_put(o, l->p, l->n);
		return;
	}
	sdp_put(o, l->p, (size_t)(t[4].p - l->p));
	sdp_puts(o, a->af == AF_INET ? "IP4 " : "IP6 ");
	sdp_puts(o, abuf);
}

/* The c= line's address is 0.0.0.0 or :: (RFC 2543 hold). */
static bool
sdp_c_is_zero(const struct sdp_line *l)
{
	struct addr	a;
	char		why[8];

	if (sdp_conn_parse(l->p + 2, l->n - 2, &a, why, sizeof(why)) == -1)
		return false;
	if (a.af == AF_INET)
		return a.v4.s_addr == 0;
	return IN6_IS_ADDR_UNSPECIFIED(&a.v6);
}

/*
 * a=rtpmap, a=fmtp and a=rtcp-fb of a payload type the rewritten m= line
 * no longer lists: dropped with it ("a=rtcp-fb:*" stays).
 */
static bool
sdp_attr_of_dropped_pt(const struct sdp_line *l, const char *name, size_t n,
    const struct sdp_rewrite_media *rm)
{
	const char	*v;
	size_t		 vn, pn;
	unsigned long	 pt;
	int		 i;

	if (rm == NULL || !rm->set_fmt || !(sdp_eq(name, n, "rtpmap") ||
	    sdp_eq(name, n, "fmtp") || sdp_eq(name, n, "rtcp-fb")))
		return false;
	v = name + n + 1;
	vn = (size_t)(l->p + l->n - v);
	for (pn = 0; pn < vn && v[pn] != ' '; pn++)
		;
	if (sdp_num(v, pn, 127, &pt) != 0)
		return false;
	for (i = 0; i < rm->nfmt; i++)
		if (rm->fmt[i] == pt)
			return false;
	return true;
}

int
sdp_rewrite(const char *sdp, size_t len, const struct sdp_rewrite *rw,
    char *out, size_t outcap, size_t *outlen, char *err, size_t errlen)
{
	struct sdp_info	 info;
	struct sdp_cursor c = { .buf = sdp, .len = len };
	struct sdp_out	 o = { .buf = out, .cap = outcap };
	struct sdp_line	 l;
	const struct sdp_rewrite_media *rm = NULL;
	const char	*eol, *name;
	char		 abuf[ADDR_STRLEN];
	size_t		 n;
	int		 i, mi = -1;
	bool		 live = false;

	*outlen = 0;
	if (outcap > 0)
		out[0] = '\0';
	if (sdp_parse(sdp, len, &info, err, errlen) == -1)
		return -1;
	if (rw->addr.af != AF_INET && rw->addr.af != AF_INET6) {
		sdp_err(err, errlen, "rewrite address family %d is neither "
		    "IPv4 nor IPv6", rw->addr.af);
		return -1;
	}
	if (rw->nmedia != info.nmedia) {
		sdp_err(err, errlen, "rewrite has ports for %d media, SDP has "
		    "%d", rw->nmedia, info.nmedia);
		return -1;
	}
	for (i = 0; i < info.nmedia; i++) {
		const struct sdp_rewrite_media *r = &rw->media[i];

		if (r->set_fmt && (r->nfmt < 1 || r->nfmt > SDP_MAX_FMT)) {
			sdp_err(err, errlen, "media %d: %d formats to write "
			    "(1..%d)", i + 1, r->nfmt, SDP_MAX_FMT);
			return -1;
		}
		if (r->proto != NULL && (r->proto[0] == '\0' ||
		    strpbrk(r->proto, " \r\n") != NULL)) {
			sdp_err(err, errlen, "media %d: protocol to write is "
			    "empty or holds a space or line break", i + 1);
			return -1;
		}
		if (info.media[i].port == 0 || r->reject)
			continue;
		if (r->rtp_port == 0) {
			sdp_err(err, errlen, "media %d: relay RTP port is 0",
			    i + 1);
			return -1;
		}
		if (!r->rtcp_mux && r->rtcp_port == 0) {
			sdp_err(err, errlen, "media %d: relay RTCP port is 0",
			    i + 1);
			return -1;
		}
	}
	addr_fmt(&rw->addr, abuf, sizeof(abuf));
	eol = info.crlf ? "\r\n" : "\n";

	while (sdp_next_line(&c, &l, NULL, 0) == 1) {
		switch (l.p[0]) {
		case 'm':
			if (live && info.media[mi].rtp)
				sdp_put_rtcp(&o, rw, rm, abuf, eol);
			else if (mi < 0 && rw->marker != NULL) {
				sdp_puts(&o, "a=");
				sdp_puts(&o, rw->marker);
				sdp_puts(&o, eol);
			}
			mi++;
			rm = &rw->media[mi];
			live = info.media[mi].port != 0 && !rm->reject;
			sdp_put_m(&o, &l, live ? rm->rtp_port : 0, rm);
			break;
		case 'c':
			if (!rw->replace_zero && sdp_c_is_zero(&l)) {
				sdp_put(&o, l.p, l.n);
				break;
			}
			sdp_puts(&o, rw->addr.af == AF_INET ? "c=IN IP4 " :
			    "c=IN IP6 ");
			sdp_puts(&o, abuf);
			break;
		case 'o':
			if (rw->replace_origin)
				sdp_put_o(&o, &l, &rw->addr, abuf);
			else
				sdp_put(&o, l.p, l.n);
			break;
		case 'a':
			name = l.p + 2;
			n = sdp_attr_name(&l);
			if (rw->remove_ice && sdp_attr_is_ice(name, n))
				continue;
			if (rw->strip_extmap && sdp_eq(name, n, "extmap"))
				continue;
			if ((sdp_eq(name, n, "rtcp") ||
			    sdp_eq(name, n, "rtcp-mux")) && (mi < 0 || live))
				continue;
			if (mi >= 0 && sdp_attr_of_dropped_pt(&l, name, n, rm))
				continue;
			sdp_put(&o, l.p, l.n);
			break;
		default:
			sdp_put(&o, l.p, l.n);
			break;
		}
		sdp_puts(&o, eol);
	}
	if (live && info.media[mi].rtp)
		sdp_put_rtcp(&o, rw, rm, abuf, eol);
	else if (mi < 0 && rw->marker != NULL) {
		sdp_puts(&o, "a=");
		sdp_puts(&o, rw->marker);
		sdp_puts(&o, eol);
	}

	if (o.over) {
		if (outcap > 0)
			out[0] = '\0';
		sdp_err(err, errlen, "rewritten SDP does not fit in %zu bytes",
		    outcap);
		return -1;
	}
	out[o.len] = '\0';
	*outlen = o.len;
	return 0;
}

bool
sdp_has_session_attr(const char *sdp, size_t len, const char *attr)
{
	struct sdp_cursor c = { .buf = sdp, .len = len };
	struct sdp_line	 l;
	size_t		 alen = strlen(attr);

	while (sdp_next_line(&c, &l, NULL, 0) == 1) {
		if (l.p[0] == 'm')
			return false;
		if (l.n == alen + 2 && l.p[0] == 'a' && l.p[1] == '=' &&
		    memcmp(l.p + 2, attr, alen) == 0)
			return true;
	}
	return false;
}
