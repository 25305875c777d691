/*
 * The rtpengine "ng" control protocol: "<cookie> <bencode dictionary>" over
 * UDP. Commands ping, offer, answer, delete, query, list and statistics.
 *
 * ng_handle() turns one request datagram into one reply datagram. Every
 * request that carries a cookie gets a reply: malformed bencode, unknown
 * commands, unknown calls and bad SDP get "result: error" with an
 * "error-reason" saying what was wrong; nothing leaks a port. A retransmitted
 * cookie gets the cached reply without running the command again, so a
 * retransmitted offer does not allocate twice.
 */
#ifndef RELAY_NG_H
#define RELAY_NG_H

#include <stddef.h>
#include <stdint.h>

#include "relay/call.h"
#include "relay/config.h"
#include "relay/stats.h"

#define NG_COOKIE_MAX	64
#define NG_CACHE_SIZE	512
/* A reply that would be larger is replaced by an error reply. */
#define NG_REPLY_MAX	65000

struct ng_cache_entry {
	char		 cookie[NG_COOKIE_MAX + 1];
	uint64_t	 when_us;
	char		*reply;
	size_t		 len;
};

struct ng_cache {
	struct ng_cache_entry	e[NG_CACHE_SIZE];
	unsigned		next;
};

struct ng_ctx {
	struct call_table		*calls;
	const struct relay_config	*cfg;
	struct relay_stats		*stats;
	struct ng_cache			 cache;
	uint64_t			 now_us;	/* monotonic */
	uint64_t			 now_wall;	/* seconds since epoch */
	uint64_t			 started_us;	/* monotonic; uptime */
	/* Shared state (NULL when standalone): ready() says whether the
	 * relay may serve (ping answers pong only then) and why not;
	 * ended() sees every call ng_call_end() removes, before it goes. */
	bool	(*ready)(void *arg, char *why, size_t len);
	void	(*ended)(struct call *c, void *arg);
	void	 *hook_arg;
};

void	ng_init(struct ng_ctx *ng, struct call_table *calls,
	    const struct relay_config *cfg, struct relay_stats *stats);
void	ng_free(struct ng_ctx *ng);

/*
 * Handle msg[0..len) and write the reply into out[0..outcap), returning its
 * length; 0 when no reply can be addressed (no cookie at all). The caller
 * sets ng->now_us/now_wall first.
 */
size_t	ng_handle(struct ng_ctx *ng, const char *msg, size_t len, char *out,
	    size_t outcap);

/* Remove a call, counting it and logging why ("deleted", "timeout"). */
void	ng_call_end(struct ng_ctx *ng, struct call *c, const char *why);

#endif
