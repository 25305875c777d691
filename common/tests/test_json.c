/* JSON string escaping: what a status document may carry in a detail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/json.h"

static void
expect(const char *in, const char *out)
{
	struct mbuf mb;

	mbuf_init(&mb);
	json_str(&mb, in);
	assert_false(mb.failed);
	assert_string_equal(mbuf_str(&mb), out);
	mbuf_free(&mb);
}

static void
test_escape(void **state)
{
	(void)state;
	expect("", "\"\"");
	expect("plain", "\"plain\"");
	expect("a\"b\\c", "\"a\\\"b\\\\c\"");
	expect("line\nnext\ttab", "\"line\\nnext\\ttab\"");
	expect("\x01\x1f end", "\"\\u0001\\u001f end\"");
	expect("caf\xc3\xa9", "\"caf\xc3\xa9\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
