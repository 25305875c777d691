/*
 * Bencode decoder and encoder for the rtpengine "ng" control protocol.
 *
 * The decoder is a recursive descent parser whose recursion only happens for
 * lists and dicts and is cut off at BENCODE_MAX_DEPTH, so the stack use is
 * bounded whatever the input. Integers and string lengths must be in their
 * canonical form (no leading zeros, no "-0"), which makes decoding followed
 * by encoding reproduce the input byte for byte. Dict keys may come in any
 * order because rtpengine clients do not always sort them.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/bencode.h"

struct bencode_dec {
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	struct bnode	*nodes;
	size_t		 nnodes;
	size_t		 used;
	char		*err;
	size_t		 errlen;
};

static int	bencode_fail(struct bencode_dec *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Every decoder error is "offset N: what", N counting from the buffer start. */
static int
bencode_fail(struct bencode_dec *d, size_t off, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (d->err == NULL || d->errlen == 0)
		return (-1);
	n = snprintf(d->err, d->errlen, "offset %zu: ", off);
	if (n >= 0 && (size_t)n < d->errlen) {
		va_start(ap, fmt);
		vsnprintf(d->err + n, d->errlen - n, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

static int
bencode_eof(struct bencode_dec *d)
{
	return (bencode_fail(d, d->pos, "unexpected end of input"));
}

/* The byte at d->pos is not allowed there; quote it so logs stay readable. */
static int
bencode_unexpected(struct bencode_dec *d)
{
	unsigned char	 c = (unsigned char)d->buf[d->pos];

	if (c >= 0x20 && c < 0x7f)
		return (bencode_fail(d, d->pos, "unexpected byte '%c'", c));
	return (bencode_fail(d, d->pos, "unexpected byte 0x%02x", c));
}

/* isdigit() depends on the locale and takes an int; bencode is plain ASCII. */
static int
bencode_isdigit(char c)
{
	return (c >= '0' && c <= '9');
}

/* "i<int>e" at d->pos. Range errors name the 'i', byte errors the byte. */
static int
bencode_parse_int(struct bencode_dec *d, int64_t *v)
{
	size_t		 start = d->pos;
	uint64_t	 mag = 0, limit = INT64_MAX;
	unsigned	 digit;
	int		 neg = 0;

	d->pos++;
	if (d->pos < d->len && d->buf[d->pos] == '-') {
		neg = 1;
		limit = (uint64_t)INT64_MAX + 1;
		d->pos++;
	}
	if (d->pos >= d->len)
		return (bencode_eof(d));
	if (d->buf[d->pos] == 'e')
		return (bencode_fail(d, start, "integer has no digits"));
	if (!bencode_isdigit(d->buf[d->pos]))
		return (bencode_unexpected(d));
	if (d->buf[d->pos] == '0' && d->pos + 1 < d->len &&
	    bencode_isdigit(d->buf[d->pos + 1]))
		return (bencode_fail(d, start, "integer has a leading zero"));
	if (neg && d->buf[d->pos] == '0')
		return (bencode_fail(d, start, "negative zero"));
	while (d->pos < d->len && bencode_isdigit(d->buf[d->pos])) {
		digit = d->buf[d->pos] - '0';
		if (mag > (limit - digit) / 10)
			return (bencode_fail(d, start,
			    "integer out of range"));
		mag = mag * 10 + digit;
		d->pos++;
	}
	if (d->pos >= d->len)
		return (bencode_eof(d));
	if (d->buf[d->pos] != 'e')
		return (bencode_unexpected(d));
	d->pos++;
	/* -(INT64_MAX + 1) cannot be written as a negation of an int64_t. */
	if (neg)
		*v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
		    -(int64_t)mag;
	else
		*v = (int64_t)mag;
	return (0);
}

/* "<len>:<bytes>" at d->pos, which the caller has checked is a digit. */
static int
bencode_parse_str(struct bencode_dec *d, const char **s, size_t *slen)
{
	size_t		 start = d->pos;
	uint64_t	 n = 0;
	unsigned	 digit;

	if (d->buf[d->pos] == '0' && d->pos + 1 < d->len &&
	    bencode_isdigit(d->buf[d->pos + 1]))
		return (bencode_fail(d, start,
		    "string length has a leading zero"));
	while (d->pos < d->len && bencode_isdigit(d->buf[d->pos])) {
		digit = d->buf[d->pos] - '0';
		if (n > (UINT64_MAX - digit) / 10)
			return (bencode_fail(d, start,
			    "string length out of range"));
		n = n * 10 + digit;
		d->pos++;
	}
	if (d->pos >= d->len)
		return (bencode_eof(d));
	if (d->buf[d->pos] != ':')
		return (bencode_unexpected(d));
	d->pos++;
	if (n > d->len - d->pos)
		return (bencode_fail(d, start, "string length %" PRIu64
		    " runs past the end of the input", n));
	*s = d->buf + d->pos;
	*slen = (size_t)n;
	d->pos += (size_t)n;
	return (0);
}

/*
 * One value at d->pos; depth is the number of containers around it. Each
 * value takes one node; a dict's keys live in their value's node.
 */
static int
bencode_parse_value(struct bencode_dec *d, int depth, struct bnode **out)
{
	struct bnode	*n, *child, **tail;
	const char	*key;
	size_t		 start = d->pos, keylen;
	char		 c;

	if (d->pos >= d->len)
		return (bencode_eof(d));
	c = d->buf[d->pos];
	if (c != 'i' && c != 'l' && c != 'd' && !bencode_isdigit(c))
		return (bencode_unexpected(d));
	if ((c == 'l' || c == 'd') && depth >= BENCODE_MAX_DEPTH)
		return (bencode_fail(d, start, "nesting deeper than %d",
		    BENCODE_MAX_DEPTH));
	if (d->used >= d->nnodes)
		return (bencode_fail(d, start, "too many nodes (limit %zu)",
		    d->nnodes));
	n = &d->nodes[d->used++];
	memset(n, 0, sizeof(*n));
	*out = n;

	if (c == 'i') {
		n->type = BNODE_INT;
		return (bencode_parse_int(d, &n->i));
	}
	if (c != 'l' && c != 'd') {
		n->type = BNODE_STR;
		return (bencode_parse_str(d, &n->s, &n->len));
	}

	n->type = c == 'l' ? BNODE_LIST : BNODE_DICT;
	tail = &n->child;
	d->pos++;
	for (;;) {
		if (d->pos >= d->len)
			return (bencode_eof(d));
		if (d->buf[d->pos] == 'e')
			break;
		key = NULL;
		keylen = 0;
		if (n->type == BNODE_DICT) {
			if (!bencode_isdigit(d->buf[d->pos]))
				return (bencode_fail(d, d->pos,
				    "dictionary key is not a string"));
			if (bencode_parse_str(d, &key, &keylen) == -1)
				return (-1);
			if (d->pos < d->len && d->buf[d->pos] == 'e')
				return (bencode_fail(d, d->pos,
				    "dictionary key without a value"));
		}
		if (bencode_parse_value(d, depth + 1, &child) == -1)
			return (-1);
		child->key = key;
		child->keylen = keylen;
		*tail = child;
		tail = &child->next;
	}
	d->pos++;
	return (0);
}

int
bencode_decode(const char *buf, size_t len, struct bnode *nodes,
    size_t nnodes, struct bnode **root, char *err, size_t errlen)
{
	struct bencode_dec	 d = {
		.buf = buf, .len = len, .nodes = nodes, .nnodes = nnodes,
		.err = err, .errlen = errlen,
	};

	*root = NULL;
	if (len == 0)
		return (bencode_fail(&d, 0, "empty input"));
	if (bencode_parse_value(&d, 0, root) == -1) {
		*root = NULL;
		return (-1);
	}
	if (d.pos != len) {
		*root = NULL;
		return (bencode_fail(&d, d.pos,
		    "trailing bytes after the value"));
	}
	return (0);
}

struct bnode *
bnode_get(const struct bnode *d, const char *key)
{
	struct bnode	*n;
	size_t		 klen = strlen(key);

	if (d == NULL || d->type != BNODE_DICT)
		return (NULL);
	/* The first of duplicate keys wins: the scan stops there. */
	for (n = d->child; n != NULL; n = n->next)
		if (n->keylen == klen && memcmp(n->key, key, klen) == 0)
			return (n);
	return (NULL);
}

const char *
bnode_get_str(const struct bnode *d, const char *key, size_t *len)
{
	const struct bnode	*n = bnode_get(d, key);

	if (n == NULL || n->type != BNODE_STR)
		return (NULL);
	*len = n->len;
	return (n->s);
}

bool
bnode_str_eq(const struct bnode *n, const char *s)
{
	size_t	 slen = strlen(s);

	return (n != NULL && n->type == BNODE_STR && n->len == slen &&
	    memcmp(n->s, s, slen) == 0);
}

/* On failure buf is left as "" (if it has room) so callers never see junk. */
int
bnode_strcpy(const struct bnode *n, char *buf, size_t len)
{
	if (len > 0)
		buf[0] = '\0';
	if (n == NULL || n->type != BNODE_STR || n->len >= len ||
	    memchr(n->s, '\0', n->len) != NULL)
		return (-1);
	memcpy(buf, n->s, n->len);
	buf[n->len] = '\0';
	return (0);
}

void
benc_init(struct bencoder *b, char *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->overflow = false;
}

/*
 * All output goes through here. A piece that does not fit is dropped whole
 * and so is everything after it: buf keeps a prefix of the message.
 */
static void
benc_put(struct bencoder *b, const char *p, size_t n)
{
	if (b->overflow || n == 0)
		return;
	if (n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

void
benc_str(struct bencoder *b, const char *s)
{
	benc_strn(b, s, strlen(s));
}

void
benc_strn(struct bencoder *b, const char *s, size_t len)
{
	char	 hdr[32];
	int	 n;

	n = snprintf(hdr, sizeof(hdr), "%zu:", len);
	benc_put(b, hdr, (size_t)n);
	benc_put(b, s, len);
}

void
benc_int(struct bencoder *b, int64_t v)
{
	char	 tmp[32];
	int	 n;

	n = snprintf(tmp, sizeof(tmp), "i%" PRId64 "e", v);
	benc_put(b, tmp, (size_t)n);
}

void
benc_dict(struct bencoder *b)
{
	benc_put(b, "d", 1);
}

void
benc_list(struct bencoder *b)
{
	benc_put(b, "l", 1);
}

void
benc_end(struct bencoder *b)
{
	benc_put(b, "e", 1);
}

void
benc_kv_str(struct bencoder *b, const char *key, const char *val)
{
	benc_str(b, key);
	benc_str(b, val);
}

void
benc_kv_strn(struct bencoder *b, const char *key, const char *val,
    size_t len)
{
	benc_str(b, key);
	benc_strn(b, val, len);
}

void
benc_kv_int(struct bencoder *b, const char *key, int64_t val)
{
	benc_str(b, key);
	benc_int(b, val);
}
