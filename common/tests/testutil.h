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

#endif
