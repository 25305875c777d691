/*
 * The YAML layer: every error as file:line:col (1-based), all errors of a
 * document in one pass, syntax errors with their position.
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

#include "common/yconf.h"

static const char *const keys[] = { "name", "port", "timeout", "vip",
    "allow", "enabled", "mode", NULL };

/* Reads a small schema the way a daemon's config.c would. */
static void
walk(struct yconf *c)
{
	yaml_node_t *root, *items[4];
	struct prefix p;
	struct addr a;
	uint64_t v;
	bool b;
	char name[8];
	int n, i;
	static const char *const modes[] = { "active", "standby", NULL };

	if ((root = yconf_root(c)) == NULL || yconf_map(c, root, "top") == -1)
		return;
	yconf_check_keys(c, root, keys);
	if (yconf_get(c, root, "name") != NULL)
		yconf_strcpy(c, yconf_get(c, root, "name"), "name", name,
		    sizeof(name));
	if (yconf_get(c, root, "port") != NULL)
		yconf_u64(c, yconf_get(c, root, "port"), "port", 1, 65535, &v);
	if (yconf_get(c, root, "timeout") != NULL)
		yconf_duration_us(c, yconf_get(c, root, "timeout"), "timeout",
		    10000, 60000000, &v);
	if (yconf_get(c, root, "vip") != NULL)
		yconf_addr(c, yconf_get(c, root, "vip"), "vip", &a);
	if (yconf_get(c, root, "enabled") != NULL)
		yconf_bool(c, yconf_get(c, root, "enabled"), "enabled", &b);
	if (yconf_get(c, root, "mode") != NULL)
		yconf_enum(c, yconf_get(c, root, "mode"), "mode", modes);
	if (yconf_get(c, root, "allow") != NULL) {
		n = yconf_list(c, yconf_get(c, root, "allow"), "allow", items,
		    4);
		for (i = 0; i < n; i++)
			yconf_prefix(c, items[i], "allow", &p);
	}
}

static void
check(const char *doc, int nerr, const char *const want[])
{
	struct yconf c;
	int i;

	yconf_init(&c, "t.yaml");
	if (yconf_load_buf(&c, doc, strlen(doc)) == 0)
		walk(&c);
	for (i = 0; i < yconf_nerrors(&c) && i < nerr; i++)
		assert_string_equal(yconf_error(&c, i), want[i]);
	assert_int_equal(yconf_nerrors(&c), nerr);
	yconf_free(&c);
}

static void
test_good(void **state)
{
	(void)state;
	check("name: r1\nport: 2223\ntimeout: 20ms\nvip: 2001:db8::1\n"
	    "allow: [198.51.100.0/24, 2001:db8::/32]\nenabled: yes\n"
	    "mode: standby\n", 0, NULL);
	check("allow: 203.0.113.0/24\n", 0, NULL);	/* scalar as a list */
}

static void
test_all_errors_one_pass(void **state)
{
	static const char *const want[] = {
		"t.yaml:3:1: unknown key 'colour' (expected one of: name, "
		    "port, timeout, vip, allow, enabled, mode)",
		"t.yaml:6:1: duplicate key 'port'",
		"t.yaml:1:7: name: longer than 7 characters",
		"t.yaml:2:7: port: 70000 is out of range 1..65535",
		"t.yaml:4:11: timeout: '5x': unknown unit 'x' (us, ms, s, m or h)",
		"t.yaml:5:6: vip: invalid IPv6 address '2001:db8::g'",
		"t.yaml:7:10: enabled: 'maybe' is not a boolean (yes/no, "
		    "true/false, on/off)",
		"t.yaml:8:7: mode: 'both' is not one of: active, standby",
		"t.yaml:9:26: allow: prefix '198.51.100.1/24' has host bits set",
	};

	(void)state;
	check("name: relay-number-one\n"
	    "port: 70000\n"
	    "colour: red\n"
	    "timeout:  5x\n"
	    "vip: 2001:db8::g\n"
	    "port: 1\n"
	    "enabled: maybe\n"
	    "mode: both\n"
	    "allow: [198.51.100.0/24, 198.51.100.1/24]\n",
	    9, want);
}

static void
test_types(void **state)
{
	static const char *const want1[] = {
		"t.yaml:1:1: top: expected a mapping, found a list",
	};
	static const char *const want2[] = {
		"t.yaml:1:7: port: expected a value, found a list",
		"t.yaml:3:10: timeout: empty value",
		"t.yaml:2:8: allow: expected a list, found a mapping",
	};
	static const char *const want3[] = {
		"t.yaml:1:8: allow: more than 4 entries",
	};
	static const char *const want4[] = {
		"t.yaml: empty configuration",
	};

	(void)state;
	check("- a\n- b\n", 1, want1);
	check("port: [1]\nallow: {a: b}\ntimeout: ''\n", 3, want2);
	check("allow: [198.51.100.0/24, 198.51.100.0/25, 198.51.100.0/26, "
	    "198.51.100.0/27, 198.51.100.0/28]\n", 1, want3);
	check("", 1, want4);
	check("# only a comment\n", 1, want4);
}

static void
test_syntax_error(void **state)
{
	static const char *const want1[] = {
		"t.yaml:2:8: mapping values are not allowed in this context",
	};
	static const char *const want2[] = {
		"t.yaml:2:1: did not find expected ',' or ']' while parsing a "
		    "flow sequence",
	};
	static const char *const want3[] = {
		"t.yaml:1:8: found character that cannot start any token "
		    "while scanning for the next token",
	};

	(void)state;
	check("name: a\nport: 1: 2\n", 1, want1);
	check("allow: [a, b\n", 1, want2);
	check("name: \t@x\n", 1, want3);
}

static void
test_file(void **state)
{
	char path[] = "/tmp/yconf-test-XXXXXX";
	struct yconf c;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("port: 0\n", f);
	fclose(f);
	yconf_init(&c, path);
	assert_int_equal(yconf_load_file(&c), 0);
	walk(&c);
	assert_int_equal(yconf_nerrors(&c), 1);
	assert_true(strstr(yconf_error(&c, 0), ":1:7: port: 0 is out of "
	    "range 1..65535") != NULL);
	assert_true(strncmp(yconf_error(&c, 0), path, strlen(path)) == 0);
	yconf_free(&c);
	unlink(path);

	yconf_init(&c, "/nonexistent/relay.yaml");
	assert_int_equal(yconf_load_file(&c), -1);
	assert_string_equal(yconf_error(&c, 0), "/nonexistent/relay.yaml: "
	    "cannot open: No such file or directory");
	yconf_free(&c);
}

static void
test_many_errors_capped(void **state)
{
	struct yconf c;
	char doc[8192];
	size_t n = 0;
	int i;

	(void)state;
	for (i = 0; i < 150; i++)
		n += snprintf(doc + n, sizeof(doc) - n, "k%d: 1\n", i);
	yconf_init(&c, "t.yaml");
	assert_int_equal(yconf_load_buf(&c, doc, n), 0);
	walk(&c);
	assert_int_equal(yconf_nerrors(&c), 150);	/* all counted */
	assert_string_equal(yconf_error(&c, 120), "(more errors not shown)");
	yconf_free(&c);
}

/* Random bytes and mutations of a valid document never crash the loader
 * or the walker. */
static void
test_fuzz(void **state)
{
	static const char good[] = "name: r1\nport: 2223\ntimeout: 20ms\n"
	    "allow: [198.51.100.0/24]\nenabled: yes\n";
	char doc[sizeof(good)];
	struct yconf c;
	int i, j;

	(void)state;
	srandom(3);
	for (i = 0; i < 10000; i++) {
		memcpy(doc, good, sizeof(good));
		if (i % 2 == 0) {
			for (j = 0; j < 4; j++)
				doc[random() % (sizeof(good) - 1)] =
				    (char)(random() % 256);
		} else {
			for (j = 0; j < (int)sizeof(good) - 1; j++)
				doc[j] = "ab: -[]{}\n,'\"#&*!|>%@`1"
				    [random() % 24];
		}
		yconf_init(&c, "t.yaml");
		if (yconf_load_buf(&c, doc, sizeof(good) - 1) == 0)
			walk(&c);
		yconf_free(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_all_errors_one_pass),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_many_errors_capped),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests_name("yconf", tests, NULL, NULL);
}
