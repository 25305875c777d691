/*
 * PID files: written whole, read back strictly, removed only by their owner.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/pidfile.h"

static char dir[64], path[128], err[256];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_pidfile.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/relay.pid", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void
put(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_roundtrip(void **state)
{
	(void)state;
	assert_int_equal(pidfile_write(path, 4242, err, sizeof(err)), 0);
	assert_int_equal(pidfile_read(path, err, sizeof(err)), 4242);
	/* No temporary file is left behind. */
	strcat(path, ".tmp");
	assert_int_equal(access(path, F_OK), -1);
	path[strlen(path) - 4] = '\0';
}

static void
test_remove_only_own(void **state)
{
	(void)state;
	assert_int_equal(pidfile_write(path, 4242, err, sizeof(err)), 0);
	pidfile_remove(path, 4243);	/* a newer instance's file stays */
	assert_int_equal(access(path, F_OK), 0);
	pidfile_remove(path, 4242);
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_bad_content(void **state)
{
	char want[256];

	(void)state;
	assert_int_equal(pidfile_read(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "pid file %s: No such file or directory",
	    path);
	assert_string_equal(err, want);

	put("12x\n");
	assert_int_equal(pidfile_read(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "pid file %s: '12x' is not a pid", path);
	assert_string_equal(err, want);
	put(" \n");
	assert_int_equal(pidfile_read(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "pid file %s is empty", path);
	assert_string_equal(err, want);
	put("1\x1b[2J\n");
	assert_int_equal(pidfile_read(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "pid file %s: '1?[2J' is not a pid",
	    path);
	assert_string_equal(err, want);
	put("0\n");
	assert_int_equal(pidfile_read(path, err, sizeof(err)), -1);
	put("-5\n");
	assert_int_equal(pidfile_read(path, err, sizeof(err)), -1);
	put("99999999\n");
	assert_int_equal(pidfile_read(path, err, sizeof(err)), -1);
	put("17");			/* no newline is fine */
	assert_int_equal(pidfile_read(path, err, sizeof(err)), 17);
	put("18 \r\n");	/* trailing blanks too */
	assert_int_equal(pidfile_read(path, err, sizeof(err)), 18);
}

static void
test_write_error(void **state)
{
	(void)state;
	assert_int_equal(pidfile_write("/nonexistent-dir/x.pid", 1, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "pid file /nonexistent-dir/x.pid.tmp: "
	    "No such file or directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_remove_only_own, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_content, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_error, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
