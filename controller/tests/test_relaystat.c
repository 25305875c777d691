/*
 * Reading the relay's packet rate out of an ng statistics reply, as
 * rtprelay and rtpengine send it, and refusing replies that lack it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/bencode.h"
#include "controller/relaystat.h"

static char err[256];

static int
parse(const char *reply, struct relaystat_sample *s)
{
	struct bnode nodes[64], *root;

	assert_int_equal(bencode_decode(reply, strlen(reply), nodes, 64,
	    &root, err, sizeof(err)), 0);
	return relaystat_parse(root, s, err, sizeof(err));
}

static void
test_good(void **state)
{
	struct relaystat_sample s;

	(void)state;
	assert_int_equal(parse("d6:result2:ok10:statisticsd17:"
	    "currentstatisticsd10:packetratei1234e13:sessionstotali7eeee",
	    &s), 0);
	assert_int_equal(s.packet_rate, 1234);
	assert_int_equal(s.sessions, 7);
}

static void
test_bad(void **state)
{
	struct relaystat_sample s;

	(void)state;
	assert_int_equal(parse("d6:result2:oke", &s), -1);
	assert_string_equal(err, "statistics reply: no 'statistics' "
	    "dictionary");
	assert_int_equal(parse("d10:statisticsi3ee", &s), -1);
	assert_string_equal(err, "statistics reply: no 'statistics' "
	    "dictionary");
	assert_int_equal(parse("d10:statisticsdee", &s), -1);
	assert_string_equal(err, "statistics reply: no 'currentstatistics' "
	    "dictionary");
	assert_int_equal(parse("d10:statisticsd17:currentstatisticsd"
	    "10:packetratei-1e13:sessionstotali0eeee", &s), -1);
	assert_string_equal(err, "statistics reply: no non-negative "
	    "integer 'packetrate'");
	assert_int_equal(parse("d10:statisticsd17:currentstatisticsd"
	    "10:packetrate1:5eee", &s), -1);
	assert_string_equal(err, "statistics reply: no non-negative "
	    "integer 'packetrate'");
	assert_int_equal(parse("d10:statisticsd17:currentstatisticsd"
	    "10:packetratei5eeee", &s), -1);
	assert_string_equal(err, "statistics reply: no non-negative "
	    "integer 'sessionstotal'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
