/*
 * Number, duration and range parsers. strtoull alone accepts leading spaces,
 * signs and silently wraps "-1", so digits are checked by hand first.
 */
#include "common/parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest input echoed back in a message, so a hostile string cannot flood
 * the log. */
#define ECHO_MAX	40

static void
echo(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);

	if (n > ECHO_MAX)
		snprintf(buf, len, "%.*s...", ECHO_MAX, s);
	else
		snprintf(buf, len, "%s", s);
}

/* Digits only, at least one, value fits in uint64_t. *end is set past the
 * digits. */
static int
scan_u64(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	while (isdigit((unsigned char)*p)) {
		unsigned d = *p - '0';

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		p++;
	}
	if (p == s)
		return -1;
	*out = v;
	*end = p;
	return 0;
}

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t errlen)
{
	char e[ECHO_MAX + 4];
	const char *end;
	uint64_t v;

	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "empty number");
		return -1;
	}
	echo(s, e, sizeof(e));
	if (!isdigit((unsigned char)*s)) {
		snprintf(err, errlen, "'%s' is not a number", e);
		return -1;
	}
	if (scan_u64(s, &v, &end) == -1) {
		snprintf(err, errlen, "'%s' is too large", e);
		return -1;
	}
	if (*end != '\0') {
		snprintf(err, errlen, "'%s' is not a number (trailing '%s')",
		    e, end);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "%" PRIu64 " is out of range %" PRIu64
		    "..%" PRIu64, v, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static const struct {
	const char	*name;
	uint64_t	 us;
} units[] = {
	{ "us", 1 },
	{ "ms", 1000 },
	{ "s", 1000000 },
	{ "m", 60000000 },
	{ "h", (uint64_t)3600000000ULL },
};

int
parse_duration_us(const char *s, uint64_t min_us, uint64_t max_us,
    uint64_t *out_us, char *err, size_t errlen)
{
	char e[ECHO_MAX + 4], lo[32], hi[32];
	const char *p, *end;
	uint64_t whole, frac = 0, fracdiv = 1, mult = 0, v;
	size_t i;

	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "empty duration");
		return -1;
	}
	echo(s, e, sizeof(e));
	if (isdigit((unsigned char)*s) && scan_u64(s, &whole, &end) == -1) {
		snprintf(err, errlen, "'%s' is too large", e);
		return -1;
	}
	if (scan_u64(s, &whole, &end) == -1) {
		snprintf(err, errlen, "'%s' is not a duration "
		    "(expected a number and a unit, as 20ms or 1s)", e);
		return -1;
	}
	p = end;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p)) {
			snprintf(err, errlen, "'%s': digits expected after "
			    "'.'", e);
			return -1;
		}
		while (isdigit((unsigned char)*p)) {
			/* Beyond nanoseconds nothing counts; stop scaling. */
			if (fracdiv < 1000000000ULL) {
				frac = frac * 10 + (*p - '0');
				fracdiv *= 10;
			}
			p++;
		}
	}
	if (*p == '\0') {
		snprintf(err, errlen, "'%s': missing unit (us, ms, s, m or h)", e);
		return -1;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].name) == 0) {
			mult = units[i].us;
			break;
		}
	}
	if (mult == 0) {
		snprintf(err, errlen, "'%s': unknown unit '%s' (us, ms, s, m or h)",
		    e, p);
		return -1;
	}
	if (whole > UINT64_MAX / mult / 2) {
		snprintf(err, errlen, "'%s' is too large", e);
		return -1;
	}
	v = whole * mult + frac * mult / fracdiv;
	if (v < min_us || v > max_us) {
		snprintf(err, errlen, "%s is out of range %s..%s", e,
		    duration_fmt(min_us, lo, sizeof(lo)),
		    duration_fmt(max_us, hi, sizeof(hi)));
		return -1;
	}
	*out_us = v;
	return 0;
}

const char *
duration_fmt(uint64_t us, char *buf, size_t len)
{
	if (us % 3600000000ULL == 0 && us != 0)
		snprintf(buf, len, "%" PRIu64 "h", us / (uint64_t)3600000000ULL);
	else if (us % 60000000 == 0 && us != 0)
		snprintf(buf, len, "%" PRIu64 "m", us / 60000000);
	else if (us % 1000000 == 0 && us != 0)
		snprintf(buf, len, "%" PRIu64 "s", us / 1000000);
	else if (us % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "ms", us / 1000);
	else
		snprintf(buf, len, "%" PRIu64 "us", us);
	return buf;
}

int
parse_range(const char *s, uint64_t min, uint64_t max, uint64_t *lo,
    uint64_t *hi, char *err, size_t errlen)
{
	char e[ECHO_MAX + 4], part[32], sub[128];
	const char *dash;
	uint64_t a, b;

	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "empty range");
		return -1;
	}
	echo(s, e, sizeof(e));
	dash = strchr(s, '-');
	if (dash == NULL || (size_t)(dash - s) >= sizeof(part)) {
		snprintf(err, errlen, "'%s' is not a range (expected LOW-HIGH)",
		    e);
		return -1;
	}
	memcpy(part, s, dash - s);
	part[dash - s] = '\0';
	if (parse_u64(part, min, max, &a, sub, sizeof(sub)) == -1) {
		snprintf(err, errlen, "range '%s': low end: %s", e, sub);
		return -1;
	}
	if (parse_u64(dash + 1, min, max, &b, sub, sizeof(sub)) == -1) {
		snprintf(err, errlen, "range '%s': high end: %s", e, sub);
		return -1;
	}
	if (a > b) {
		snprintf(err, errlen, "range '%s': low end above high end", e);
		return -1;
	}
	*lo = a;
	*hi = b;
	return 0;
}

int
parse_bool(const char *s, int *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on" };
	static const char *const no[] = { "no", "false", "off" };
	char e[ECHO_MAX + 4];
	size_t i;

	for (i = 0; i < 3; i++) {
		if (s != NULL && strcmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (s != NULL && strcmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	echo(s == NULL ? "" : s, e, sizeof(e));
	snprintf(err, errlen, "'%s' is not a boolean (yes/no, true/false, "
	    "on/off)", e);
	return -1;
}
