/*
 * Monotonic time. Failover timings are intervals, so nothing here follows the
 * wall clock (NTP steps must not fire timers or skew measurements).
 */
#ifndef COMMON_MONO_H
#define COMMON_MONO_H

#include <stdint.h>
#include <time.h>

uint64_t mono_ns(void);
uint64_t mono_us(void);
uint64_t mono_ms(void);
/* Wall-clock microseconds since the epoch: only for what other hosts must
 * compare (shared-state versions, replication lag), never for intervals. */
uint64_t wall_us(void);
uint64_t ts_to_ns(const struct timespec *ts);
/* a - b in nanoseconds, as a signed value (b may be later than a). */
int64_t	 ts_diff_ns(const struct timespec *a, const struct timespec *b);

#endif
