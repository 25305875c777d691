/*
 * Logging: level filtering, errno preserved across every call, strerror
 * appended by log_warn only, messages reach a test sink unchanged.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/log.h"

static char last[1024];
static int last_level = -1, count;

static void
sink(enum log_level level, const char *msg, void *arg)
{
	(void)arg;
	snprintf(last, sizeof(last), "%s", msg);
	last_level = level;
	count++;
}

static int
setup(void **state)
{
	(void)state;
	log_set_sink(sink, NULL);
	log_set_level(LOG_LEVEL_INFO);
	count = 0;
	last[0] = '\0';
	return 0;
}

static void
test_levels(void **state)
{
	(void)state;
	log_debug("hidden %d", 1);
	assert_int_equal(count, 0);
	log_info("call %s created", "abc");
	assert_string_equal(last, "call abc created");
	assert_int_equal(last_level, LOG_LEVEL_INFO);
	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("shown %d", 2);
	assert_string_equal(last, "shown 2");
	assert_int_equal(count, 2);
	log_set_level(LOG_LEVEL_WARN);
	log_info("hidden");
	assert_int_equal(count, 2);
	log_errx("bad %s", "thing");
	assert_int_equal(last_level, LOG_LEVEL_ERR);
}

static void
test_errno(void **state)
{
	(void)state;
	errno = ENOENT;
	log_warn("open %s", "/x");
	assert_string_equal(last, "open /x: No such file or directory");
	assert_int_equal(errno, ENOENT);
	errno = EAGAIN;
	log_warnx("plain");
	assert_string_equal(last, "plain");
	assert_int_equal(errno, EAGAIN);
	errno = EINVAL;
	log_debug("filtered out");
	assert_int_equal(errno, EINVAL);
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("warn"), LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("verbose"), -1);
	assert_string_equal(log_level_name(LOG_LEVEL_ERR), "err");
	assert_string_equal(log_level_name((enum log_level)42), "unknown");
}

static void
test_long_message(void **state)
{
	char big[4000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	assert_int_equal(strlen(last), 1023);	/* truncated, not overrun */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_levels, setup),
		cmocka_unit_test_setup(test_errno, setup),
		cmocka_unit_test_setup(test_names, setup),
		cmocka_unit_test_setup(test_long_message, setup),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
