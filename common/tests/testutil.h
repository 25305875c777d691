/*
 * Helpers shared by the cmocka tests: a deterministic PRNG for the fuzz
 * loops (a failing case replays with the same seed) and exact-size heap
 * copies so AddressSanitizer sees any read past the input.
 *
 * Include after <cmocka.h>. Everything is static inline: each test binary
 * gets its own copy and unused helpers cost nothing.
 */
#ifndef COMMON_TESTS_TESTUTIL_H
#define COMMON_TESTS_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* xorshift64* on caller-held state (never seed it with 0). */
static inline uint64_t
rng_r(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* The same generator on one state per test binary; seed rng_state first. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static inline uint64_t
rng(void)
{
	return rng_r(&rng_state);
}

/* A heap copy of exactly len bytes (one byte for len 0). */
static inline char *
dup_exact(const char *in, size_t len)
{
	char *p = malloc(len > 0 ? len : 1);

	assert_non_null(p);
	if (len > 0)
		memcpy(p, in, len);
	return p;
}

/*
 * Bencode from a compact JSON-like text, so tests read like rtpengine's
 * documentation: {'command':'offer','flags':['SIP source address'],
 * 'TOS':-1}. Strings are in single quotes and hold any byte but a quote;
 * integers are decimal. Writes into out (NUL-terminated) and returns the
 * length; a description this does not understand fails the test.
 */
static inline const char *
jb_value(const char *p, char *out, size_t cap, size_t *n)
{
	const char *q;
	size_t len;
	int w;

	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		if (*n + 1 >= cap)
			fail_msg("jb: output too long");
		out[(*n)++] = *p == '{' ? 'd' : 'l';
		p++;
		while (*p != close) {
			p = jb_value(p, out, cap, n);
			if (close == '}') {
				if (*p++ != ':')
					fail_msg("jb: ':' expected");
				p = jb_value(p, out, cap, n);
			}
			if (*p == ',')
				p++;
			else if (*p != close)
				fail_msg("jb: ',' or '%c' expected at '%s'",
				    close, p);
		}
		if (*n + 1 >= cap)
			fail_msg("jb: output too long");
		out[(*n)++] = 'e';
		return p + 1;
	}
	if (*p == '\'') {
		if ((q = strchr(p + 1, '\'')) == NULL)
			fail_msg("jb: unterminated string");
		len = (size_t)(q - p - 1);
		w = snprintf(out + *n, cap - *n, "%zu:%.*s", len, (int)len,
		    p + 1);
		if (w < 0 || (size_t)w >= cap - *n)
			fail_msg("jb: output too long");
		*n += (size_t)w;
		return q + 1;
	}
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		char *e;
		long long v = strtoll(p, &e, 10);

		w = snprintf(out + *n, cap - *n, "i%llde", v);
		if (w < 0 || (size_t)w >= cap - *n)
			fail_msg("jb: output too long");
		*n += (size_t)w;
		return e;
	}
	fail_msg("jb: unexpected '%c'", *p);
	return p;
}

static inline size_t
jb(const char *desc, char *out, size_t cap)
{
	size_t n = 0;
	const char *end = jb_value(desc, out, cap, &n);

	if (*end != '\0')
		fail_msg("jb: trailing '%s'", end);
	out[n] = '\0';
	return n;
}

#endif
