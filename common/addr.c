/*
 * Address, prefix and host:port parsing and formatting. No I/O: errors go to
 * the caller's buffer.
 */
#include "common/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/parse.h"

int
addr_parse(const char *s, struct addr *out, char *err, size_t errlen)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "empty address");
		return -1;
	}
	if (strlen(s) >= INET6_ADDRSTRLEN) {
		snprintf(err, errlen, "address too long (%zu characters)",
		    strlen(s));
		return -1;
	}
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, &a.v6) != 1) {
			snprintf(err, errlen, "invalid IPv6 address '%s'", s);
			return -1;
		}
		a.af = AF_INET6;
	} else {
		if (inet_pton(AF_INET, s, &a.v4) != 1) {
			snprintf(err, errlen, "invalid IPv4 address '%s'", s);
			return -1;
		}
		a.af = AF_INET;
	}
	*out = a;
	return 0;
}

static int
addr_maxlen(const struct addr *a)
{
	return a->af == AF_INET ? 32 : 128;
}

static uint8_t *
addr_bytes(struct addr *a)
{
	return a->af == AF_INET ? (uint8_t *)&a->v4 : (uint8_t *)&a->v6;
}

static const uint8_t *
addr_cbytes(const struct addr *a)
{
	return a->af == AF_INET ? (const uint8_t *)&a->v4 :
	    (const uint8_t *)&a->v6;
}

int
prefix_parse(const char *s, struct prefix *out, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8], sub[160];
	const char *slash;
	struct prefix p;
	uint64_t len;
	uint8_t *b;
	int i, bits;

	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "empty prefix");
		return -1;
	}
	slash = strchr(s, '/');
	if (slash == NULL) {
		snprintf(err, errlen, "prefix '%s' has no '/length'", s);
		return -1;
	}
	if ((size_t)(slash - s) >= sizeof(buf)) {
		snprintf(err, errlen, "prefix address too long");
		return -1;
	}
	memcpy(buf, s, slash - s);
	buf[slash - s] = '\0';
	memset(&p, 0, sizeof(p));
	if (addr_parse(buf, &p.addr, sub, sizeof(sub)) == -1) {
		snprintf(err, errlen, "prefix '%s': %s", s, sub);
		return -1;
	}
	if (parse_u64(slash + 1, 0, addr_maxlen(&p.addr), &len, sub,
	    sizeof(sub)) == -1) {
		snprintf(err, errlen, "prefix '%s': length: %s", s, sub);
		return -1;
	}
	p.len = (int)len;
	/* Host bits set (198.51.100.7/24) is almost always a typo. */
	b = addr_bytes(&p.addr);
	for (i = 0; i < addr_maxlen(&p.addr) / 8; i++) {
		bits = p.len - i * 8;
		if (bits >= 8)
			continue;
		if (b[i] & (bits <= 0 ? 0xff : (0xff >> bits))) {
			snprintf(err, errlen, "prefix '%s' has host bits set", s);
			return -1;
		}
	}
	*out = p;
	return 0;
}

int
hostport_parse(const char *s, union sockaddr_any *out, char *err,
    size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2], sub[160];
	const char *colon, *hs, *he;
	struct addr a;
	uint64_t port;

	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "empty host:port");
		return -1;
	}
	if (s[0] == '[') {
		hs = s + 1;
		he = strchr(s, ']');
		if (he == NULL) {
			snprintf(err, errlen, "'%s': missing ']'", s);
			return -1;
		}
		colon = he + 1;
		if (*colon != ':') {
			snprintf(err, errlen, "'%s': expected ':port' after ']'",
			    s);
			return -1;
		}
	} else {
		hs = s;
		colon = strrchr(s, ':');
		if (colon == NULL) {
			snprintf(err, errlen, "'%s': missing ':port'", s);
			return -1;
		}
		if (memchr(s, ':', colon - s) != NULL) {
			snprintf(err, errlen,
			    "'%s': IPv6 address must be in brackets, "
			    "as [2001:db8::1]:port", s);
			return -1;
		}
		he = colon;
	}
	if ((size_t)(he - hs) >= sizeof(host)) {
		snprintf(err, errlen, "'%s': address too long", s);
		return -1;
	}
	memcpy(host, hs, he - hs);
	host[he - hs] = '\0';
	if (addr_parse(host, &a, sub, sizeof(sub)) == -1) {
		snprintf(err, errlen, "'%s': %s", s, sub);
		return -1;
	}
	if (s[0] == '[' && a.af != AF_INET6) {
		snprintf(err, errlen, "'%s': brackets are for IPv6 only", s);
		return -1;
	}
	if (parse_u64(colon + 1, 1, 65535, &port, sub, sizeof(sub)) == -1) {
		snprintf(err, errlen, "'%s': port: %s", s, sub);
		return -1;
	}
	sa_from_addr(out, &a, (uint16_t)port);
	return 0;
}

bool
addr_eq(const struct addr *a, const struct addr *b)
{
	if (a->af != b->af)
		return false;
	return memcmp(addr_cbytes(a), addr_cbytes(b),
	    a->af == AF_INET ? 4 : 16) == 0;
}

bool
prefix_contains(const struct prefix *p, const struct addr *a)
{
	const uint8_t *pb, *ab;
	int full, rest;

	if (p->addr.af != a->af)
		return false;
	pb = addr_cbytes(&p->addr);
	ab = addr_cbytes(a);
	full = p->len / 8;
	rest = p->len % 8;
	if (memcmp(pb, ab, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((pb[full] ^ ab[full]) & (0xff << (8 - rest))) == 0;
}

const char *
addr_fmt(const struct addr *a, char *buf, size_t len)
{
	if (a->af != AF_INET && a->af != AF_INET6) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	if (inet_ntop(a->af, addr_cbytes(a), buf, len) == NULL)
		snprintf(buf, len, "(invalid)");
	return buf;
}

const char *
prefix_fmt(const struct prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s/%d", addr_fmt(&p->addr, a, sizeof(a)), p->len);
	return buf;
}

socklen_t
sa_len(const union sockaddr_any *sa)
{
	return sa->sa.sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

uint16_t
sa_port(const union sockaddr_any *sa)
{
	return ntohs(sa->sa.sa_family == AF_INET6 ? sa->sin6.sin6_port :
	    sa->sin.sin_port);
}

void
sa_set_port(union sockaddr_any *sa, uint16_t port)
{
	if (sa->sa.sa_family == AF_INET6)
		sa->sin6.sin6_port = htons(port);
	else
		sa->sin.sin_port = htons(port);
}

void
sa_from_addr(union sockaddr_any *sa, const struct addr *a, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	if (a->af == AF_INET6) {
		sa->sin6.sin6_family = AF_INET6;
		sa->sin6.sin6_addr = a->v6;
		sa->sin6.sin6_port = htons(port);
	} else {
		sa->sin.sin_family = AF_INET;
		sa->sin.sin_addr = a->v4;
		sa->sin.sin_port = htons(port);
	}
}

void
sa_to_addr(const union sockaddr_any *sa, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	a->af = sa->sa.sa_family;
	if (a->af == AF_INET6)
		a->v6 = sa->sin6.sin6_addr;
	else
		a->v4 = sa->sin.sin_addr;
}

bool
sa_eq(const union sockaddr_any *a, const union sockaddr_any *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET6)
		return a->sin6.sin6_port == b->sin6.sin6_port &&
		    memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, 16) == 0;
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_port == b->sin.sin_port &&
		    a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
	return false;
}

const char *
sa_fmt(const union sockaddr_any *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	struct addr ad;

	if (sa->sa.sa_family != AF_INET && sa->sa.sa_family != AF_INET6) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	sa_to_addr(sa, &ad);
	addr_fmt(&ad, a, sizeof(a));
	if (sa->sa.sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, sa_port(sa));
	else
		snprintf(buf, len, "%s:%u", a, sa_port(sa));
	return buf;
}
