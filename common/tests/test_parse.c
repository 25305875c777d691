/*
 * Number, duration, range and boolean parsers: good values and hostile input,
 * with the exact messages a user would read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/parse.h"

static char err[256];

static void
expect_u64_err(const char *s, uint64_t min, uint64_t max, const char *msg)
{
	uint64_t v = 12345;

	assert_int_equal(parse_u64(s, min, max, &v, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
	assert_int_equal(v, 12345);	/* untouched on error */
}

static void
test_u64_good(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_u64("0", 0, 10, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("65535", 1, 65535, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(parse_u64("18446744073709551615", 0, UINT64_MAX, &v,
	    err, sizeof(err)), 0);
	assert_true(v == UINT64_MAX);
}

static void
test_u64_hostile(void **state)
{
	char big[200];

	(void)state;
	expect_u64_err("", 0, 10, "empty number");
	expect_u64_err(NULL, 0, 10, "empty number");
	expect_u64_err("abc", 0, 10, "'abc' is not a number");
	expect_u64_err("-1", 0, 10, "'-1' is not a number");
	expect_u64_err(" 5", 0, 10, "' 5' is not a number");
	expect_u64_err("+5", 0, 10, "'+5' is not a number");
	expect_u64_err("12x", 0, 100, "'12x' is not a number (trailing 'x')");
	expect_u64_err("5 ", 0, 100, "'5 ' is not a number (trailing ' ')");
	expect_u64_err("11", 0, 10, "11 is out of range 0..10");
	expect_u64_err("0", 1, 65535, "0 is out of range 1..65535");
	expect_u64_err("18446744073709551616", 0, UINT64_MAX,
	    "'18446744073709551616' is too large");
	/* Overlong input is echoed shortened, never whole. */
	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_u64_err(big, 0, 10,
	    "'9999999999999999999999999999999999999999...' is too large");
}

static void
expect_dur(const char *s, uint64_t want)
{
	uint64_t v;

	assert_int_equal(parse_duration_us(s, 0, UINT64_MAX / 4, &v, err,
	    sizeof(err)), 0);
	assert_true(v == want);
}

static void
expect_dur_err(const char *s, uint64_t min, uint64_t max, const char *msg)
{
	uint64_t v;

	assert_int_equal(parse_duration_us(s, min, max, &v, err, sizeof(err)),
	    -1);
	assert_string_equal(err, msg);
}

static void
test_duration(void **state)
{
	(void)state;
	expect_dur("20ms", 20000);
	expect_dur("1s", 1000000);
	expect_dur("1.5s", 1500000);
	expect_dur("0.05s", 50000);
	expect_dur("2m", 120000000);
	expect_dur("250us", 250);
	expect_dur("0ms", 0);
	expect_dur_err("", 0, 10, "empty duration");
	expect_dur_err("20", 0, 1000000, "'20': missing unit (us, ms, s, m or h)");
	expect_dur_err("ms", 0, 10, "'ms' is not a duration (expected a "
	    "number and a unit, as 20ms or 1s)");
	expect_dur_err("-5ms", 0, 10, "'-5ms' is not a duration (expected a "
	    "number and a unit, as 20ms or 1s)");
	expect_dur_err("5x", 0, 100000000, "'5x': unknown unit 'x' (us, ms, s, "
	    "m or h)");
	expect_dur_err("5ms ", 0, 100000000, "'5ms ': unknown unit 'ms ' (us, "
	    "ms, s, m or h)");
	expect_dur_err("1.s", 0, 100000000, "'1.s': digits expected after '.'");
	expect_dur_err("5ms", 10000, 1000000, "5ms is out of range 10ms..1s");
	expect_dur_err("2d", 0, 100000000, "'2d': unknown unit 'd' (us, ms, s, "
	    "m or h)");
	expect_dur("2h", 7200000000ULL);
	expect_dur_err("99999999999999999999s", 0, UINT64_MAX,
	    "'99999999999999999999s' is too large");
	expect_dur_err("9999999999999999s", 0, UINT64_MAX,
	    "'9999999999999999s' is too large");
}

static void
test_range(void **state)
{
	uint64_t lo, hi;

	(void)state;
	assert_int_equal(parse_range("30000-30999", 1, 65535, &lo, &hi, err,
	    sizeof(err)), 0);
	assert_int_equal(lo, 30000);
	assert_int_equal(hi, 30999);
	assert_int_equal(parse_range("30000", 1, 65535, &lo, &hi, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "'30000' is not a range (expected LOW-HIGH)");
	assert_int_equal(parse_range("3-2", 1, 65535, &lo, &hi, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "range '3-2': low end above high end");
	assert_int_equal(parse_range("1-70000", 1, 65535, &lo, &hi, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "range '1-70000': high end: 70000 is out of "
	    "range 1..65535");
	assert_int_equal(parse_range("a-2", 1, 65535, &lo, &hi, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "range 'a-2': low end: 'a' is not a number");
	assert_int_equal(parse_range("1-2-3", 1, 65535, &lo, &hi, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "range '1-2-3': high end: '2-3' is not a "
	    "number (trailing '-3')");
}

static void
test_bool(void **state)
{
	int v;

	(void)state;
	assert_int_equal(parse_bool("yes", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1);
	assert_int_equal(parse_bool("off", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_bool("Yes!", &v, err, sizeof(err)), -1);
	assert_string_equal(err, "'Yes!' is not a boolean (yes/no, "
	    "true/false, on/off)");
}

static void
test_duration_fmt(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(duration_fmt(20000, b, sizeof(b)), "20ms");
	assert_string_equal(duration_fmt(1000000, b, sizeof(b)), "1s");
	assert_string_equal(duration_fmt(120000000, b, sizeof(b)), "2m");
	assert_string_equal(duration_fmt(3600000000ULL, b, sizeof(b)), "1h");
	assert_string_equal(duration_fmt(1500, b, sizeof(b)), "1500us");
	assert_string_equal(duration_fmt(0, b, sizeof(b)), "0ms");
}

/* Random strings must never crash a parser, and a success must be in
 * range. */
static void
test_fuzz(void **state)
{
	char s[24];
	uint64_t v, lo, hi;
	int i, j, b;

	(void)state;
	srandom(7);
	for (i = 0; i < 10000; i++) {
		int n = random() % (int)(sizeof(s) - 1);

		for (j = 0; j < n; j++)
			s[j] = "0123456789.-msuh x\xff"[random() % 20];
		s[n] = '\0';
		if (parse_u64(s, 5, 500, &v, err, sizeof(err)) == 0)
			assert_true(v >= 5 && v <= 500);
		if (parse_duration_us(s, 10, 5000000, &v, err,
		    sizeof(err)) == 0)
			assert_true(v >= 10 && v <= 5000000);
		if (parse_range(s, 1, 65535, &lo, &hi, err, sizeof(err)) == 0)
			assert_true(lo <= hi && hi <= 65535);
		(void)parse_bool(s, &b, err, sizeof(err));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_good),
		cmocka_unit_test(test_u64_hostile),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_duration_fmt),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
