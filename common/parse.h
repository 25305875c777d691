/*
 * Safe parsing of numbers, durations and ranges. No I/O: on failure -1 and a
 * one-line message in err ("'12x' is not a number: trailing '12x'"). The whole
 * string must be consumed: trailing garbage is an error, never ignored.
 */
#ifndef COMMON_PARSE_H
#define COMMON_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Decimal unsigned integer in [min, max]; no sign, no spaces. */
int	parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
	    char *err, size_t errlen);

/*
 * Duration with a unit: "20ms", "1s", "1.5s", "2m", "250us". The result is in
 * microseconds and must lie in [min_us, max_us].
 */
int	parse_duration_us(const char *s, uint64_t min_us, uint64_t max_us,
	    uint64_t *out_us, char *err, size_t errlen);

/* "30000-30999": two integers in [min, max], lo <= hi. */
int	parse_range(const char *s, uint64_t min, uint64_t max, uint64_t *lo,
	    uint64_t *hi, char *err, size_t errlen);

/* "yes"/"no"/"true"/"false"/"on"/"off". */
int	parse_bool(const char *s, int *out, char *err, size_t errlen);

/* Format a duration in microseconds the way parse_duration_us reads it. */
const char *duration_fmt(uint64_t us, char *buf, size_t len);

#endif
