/*
 * Token bucket. Pure: the caller passes the time (monotonic microseconds),
 * so tests drive it with exact instants and the bucket never reads a clock.
 *
 * The bucket holds at most `burst` tokens and gains `rate_per_s` tokens per
 * second; each accepted event takes one. It starts full. Tokens are kept in
 * millionths so that sub-token refills between close events are not lost.
 */
#ifndef RELAY_RATELIMIT_H
#define RELAY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	uint32_t	rate;		/* tokens per second */
	uint32_t	burst;		/* bucket size in tokens */
	uint64_t	micro;		/* tokens held, in 1e-6 token units */
	uint64_t	last_us;	/* time of the last refill */
};

/* rate 0: the bucket never refills; burst 0: nothing is ever accepted. */
void	ratelimit_init(struct ratelimit *rl, uint32_t rate_per_s,
	    uint32_t burst, uint64_t now_us);
/*
 * Refill for the time since the last call and take one token: true if
 * there was one. A clock that steps backwards refills nothing (and never
 * hands out extra tokens) until it has passed the last time seen.
 */
bool	ratelimit_take(struct ratelimit *rl, uint64_t now_us);

#endif
