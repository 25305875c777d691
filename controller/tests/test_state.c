/*
 * The state file: operator decisions read back exactly; anything the
 * parser does not understand is refused whole, with its line number.
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

#include "controller/state.h"

static char err[256];

static int
parse(const char *text, struct state_entry *e)
{
	return state_parse(text, strlen(text), e, 4, err, sizeof(err));
}

static void
expect_err(const char *text, const char *msg)
{
	struct state_entry e[4];

	assert_int_equal(parse(text, e), -1);
	assert_string_equal(err, msg);
}

static void
test_parse_good(void **state)
{
	struct state_entry e[4];

	(void)state;
	assert_int_equal(parse("", e), 0);
	assert_int_equal(parse("# only a comment\n\n", e), 0);
	assert_int_equal(parse("drained media\nweight media 50\n"
	    "weight video 7", e), 2);
	assert_string_equal(e[0].service, "media");
	assert_true(e[0].drained);
	assert_true(e[0].has_weight);
	assert_int_equal(e[0].weight, 50);
	assert_string_equal(e[1].service, "video");
	assert_false(e[1].drained);
	assert_int_equal(e[1].weight, 7);
}

static void
test_parse_bad(void **state)
{
	char big[400];

	(void)state;
	expect_err("drained\n", "line 1: expected 'drained SERVICE'");
	expect_err("\nweight media\n", "line 2: expected 'weight SERVICE N'");
	expect_err("weight media 0\n", "line 1: weight: 0 is out of "
	    "range 1..25600");
	expect_err("weight media 25601\n", "line 1: weight: 25601 is out "
	    "of range 1..25600");
	expect_err("undrained media\n", "line 1: unknown entry 'undrained'");
	expect_err("drained media extra\n", "line 1: expected 'drained "
	    "SERVICE'");
	expect_err("drained me/dia\n", "line 1: expected 'drained SERVICE'");
	expect_err("drained a b c d\n", "line 1: too many words");
	expect_err("drained a\ndrained b\ndrained c\ndrained d\ndrained e\n",
	    "line 5: more than 4 services");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_err(big, "line 1: too long");
}

static void
test_format_roundtrip(void **state)
{
	struct state_entry in[3] = {
		{ .service = "a", .drained = true },
		{ .service = "b" },			/* nothing to say */
		{ .service = "c", .has_weight = true, .weight = 25600 },
	}, out[4];
	char buf[512];
	int len;

	(void)state;
	len = state_format(buf, sizeof(buf), in, 3);
	assert_true(len > 0);
	assert_int_equal(parse(buf, out), 2);
	assert_string_equal(out[0].service, "a");
	assert_true(out[0].drained);
	assert_string_equal(out[1].service, "c");
	assert_int_equal(out[1].weight, 25600);
	assert_int_equal(state_format(buf, 20, in, 3), -1);
}

static void
test_save_load(void **state)
{
	struct state_entry in[1] = {{ .service = "m", .drained = true }};
	struct state_entry out[4];
	char dir[64], path[128];

	(void)state;
	strcpy(dir, "/tmp/test_state.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/state", dir);
	/* Missing file: nothing saved yet, not an error. */
	assert_int_equal(state_load(path, out, 4, err, sizeof(err)), 0);
	assert_int_equal(state_save(path, in, 1, err, sizeof(err)), 0);
	assert_int_equal(state_load(path, out, 4, err, sizeof(err)), 1);
	assert_true(out[0].drained);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_save_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
