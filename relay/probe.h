/*
 * The probe mirror: a UDP echo on the VIP, so a health checker's probe takes
 * the same path as media (the anycast route, this host's socket layer and
 * this process's event loop) and a stalled relay stops answering.
 *
 * Each datagram is checked in this order and counted once:
 *   source outside every allowed prefix  -> dropped_acl
 *   longer than PROBE_MAX_PAYLOAD bytes  -> dropped_size
 *   token bucket empty                   -> dropped_rate
 *   otherwise the payload goes back to its sender unchanged -> replied
 * An echo is never larger than its request, so the mirror cannot amplify,
 * and the rate limit caps the work a flood can cause.
 */
#ifndef RELAY_PROBE_H
#define RELAY_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "common/addr.h"
#include "relay/config.h"
#include "relay/ratelimit.h"

#define PROBE_MAX_PAYLOAD	512	/* bytes echoed at most */
#define PROBE_BATCH		64	/* datagrams read per wakeup */

enum probe_verdict {
	PROBE_REPLY,
	PROBE_DROP_ACL,
	PROBE_DROP_SIZE,
	PROBE_DROP_RATE,
	PROBE_VERDICT_MAX
};
extern const char *const probe_verdict_names[];
const char	*probe_verdict_name(enum probe_verdict);

struct probe_stats {
	uint64_t	replied;
	uint64_t	dropped_acl;
	uint64_t	dropped_size;
	uint64_t	dropped_rate;
	uint64_t	send_errors;	/* echo accepted but not sent */
	uint64_t	recv_errors;
};

struct probe;

/*
 * Pure decision for one datagram of len bytes from src (truncated: the
 * kernel cut it, so it was longer than any buffer offered). Takes a token
 * from rl only when the datagram passed the other checks.
 */
enum probe_verdict probe_classify(const struct prefix *allow, int nallow,
	    const union sockaddr_any *src, size_t len, bool truncated,
	    struct ratelimit *rl, uint64_t now_us);

/* Token bucket depth for a rate: a tenth of a second's worth, at least 1. */
uint32_t probe_burst(uint32_t rate_per_s);

/*
 * Bind the mirror to cfg->probe_listen (call only when cfg->probe_enabled)
 * and start watching it on loop. The socket may bind before the VIP is on
 * an interface (IP_FREEBIND). On failure NULL and a message naming the
 * address: "probe mirror 127.0.0.1:2224: bind: Address already in use".
 */
struct probe	*probe_open(struct ev_loop *loop,
		    const struct relay_config *cfg, char *err, size_t errlen);
/* Apply a reloaded allow list and rate (probe_listen cannot change). */
void		 probe_reconfigure(struct probe *p,
		    const struct relay_config *cfg);
void		 probe_stats(const struct probe *p, struct probe_stats *out);
/* The bound address, with the port the kernel chose if 0 was asked. */
void		 probe_local_addr(const struct probe *p,
		    union sockaddr_any *out);
/* Stop the watcher, close the socket, free. NULL is ignored. */
void		 probe_close(struct probe *p);

#endif
