/*
 * Token bucket with integer arithmetic only.
 */
#include "relay/ratelimit.h"

#include <string.h>

#define RATELIMIT_UNIT	1000000ULL	/* micro-tokens per token */

void
ratelimit_init(struct ratelimit *rl, uint32_t rate_per_s, uint32_t burst,
    uint64_t now_us)
{
	memset(rl, 0, sizeof(*rl));
	rl->rate = rate_per_s;
	rl->burst = burst;
	rl->micro = (uint64_t)burst * RATELIMIT_UNIT;
	rl->last_us = now_us;
}

bool
ratelimit_take(struct ratelimit *rl, uint64_t now_us)
{
	uint64_t cap = (uint64_t)rl->burst * RATELIMIT_UNIT, elapsed, add;

	if (now_us > rl->last_us) {
		elapsed = now_us - rl->last_us;
		/*
		 * One microsecond adds `rate` micro-tokens. Past the time it
		 * takes to fill the bucket from empty the product could
		 * overflow, and it would be clamped anyway.
		 */
		if (rl->rate == 0)
			add = 0;
		else if (elapsed > cap / rl->rate)
			add = cap;
		else
			add = elapsed * rl->rate;
		rl->micro = add >= cap - rl->micro ? cap : rl->micro + add;
		rl->last_us = now_us;
	}
	if (rl->micro < RATELIMIT_UNIT)
		return false;
	rl->micro -= RATELIMIT_UNIT;
	return true;
}
