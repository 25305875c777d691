/*
 * Addresses, prefixes and host:port endpoints: parsing and formatting.
 *
 * The parsers do no I/O and never log: on failure they return -1 and leave a
 * one-line message in the caller's error buffer (for example
 * "invalid IPv6 address '2001:db8::g'"), which the caller prefixes with a
 * position (file:line:col) or a field name.
 */
#ifndef COMMON_ADDR_H
#define COMMON_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest text form of an address, "[v6]:port" included, with the NUL. */
#define ADDR_STRLEN	(INET6_ADDRSTRLEN + 8)

struct addr {
	int	af;			/* AF_INET or AF_INET6 */
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
	};
};

struct prefix {
	struct addr	addr;		/* host bits are zero */
	int		len;		/* 0..32 or 0..128 */
};

/* A socket address that is always one of the two families above. */
union sockaddr_any {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	struct sockaddr_storage	ss;
};

int	addr_parse(const char *s, struct addr *out, char *err, size_t errlen);
int	prefix_parse(const char *s, struct prefix *out, char *err,
	    size_t errlen);
/* "198.51.100.1:2223" or "[2001:db8::1]:2223"; the port is 1..65535. */
int	hostport_parse(const char *s, union sockaddr_any *out, char *err,
	    size_t errlen);

bool	addr_eq(const struct addr *a, const struct addr *b);
bool	prefix_contains(const struct prefix *p, const struct addr *a);
/* Text form ("2001:db8::1"); returns buf. */
const char *addr_fmt(const struct addr *a, char *buf, size_t len);
const char *prefix_fmt(const struct prefix *p, char *buf, size_t len);

/* Socket address helpers. */
socklen_t sa_len(const union sockaddr_any *sa);
uint16_t  sa_port(const union sockaddr_any *sa);
void	  sa_set_port(union sockaddr_any *sa, uint16_t port);
void	  sa_from_addr(union sockaddr_any *sa, const struct addr *a,
	    uint16_t port);
void	  sa_to_addr(const union sockaddr_any *sa, struct addr *a);
/* Same family, address and port. */
bool	  sa_eq(const union sockaddr_any *a, const union sockaddr_any *b);
/* "198.51.100.1:2223" or "[2001:db8::1]:2223"; returns buf. */
const char *sa_fmt(const union sockaddr_any *sa, char *buf, size_t len);

#endif
