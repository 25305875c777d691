#include "common/mono.h"

uint64_t
ts_to_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ULL + (uint64_t)ts->tv_nsec;
}

int64_t
ts_diff_ns(const struct timespec *a, const struct timespec *b)
{
	return ((int64_t)a->tv_sec - (int64_t)b->tv_sec) * 1000000000LL +
	    ((int64_t)a->tv_nsec - (int64_t)b->tv_nsec);
}

uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_to_ns(&ts);
}

uint64_t
mono_us(void)
{
	return mono_ns() / 1000;
}

uint64_t
mono_ms(void)
{
	return mono_ns() / 1000000;
}

uint64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
