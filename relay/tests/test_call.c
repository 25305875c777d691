/*
 * Call table and port allocator: unique even ports, rotation (a freed port
 * is not handed out again at once), exhaustion, bogus frees ignored, the
 * hash table growing past thousands of calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "relay/call.h"

static int opened;

static int
op_open(struct leg *l, const struct addr *vip, void *arg)
{
	(void)vip;
	(void)arg;
	l->io = l;
	opened++;
	return 0;
}

static void
op_close(struct leg *l, void *arg)
{
	(void)l;
	(void)arg;
	opened--;
}

static const struct call_ops ops = { op_open, op_close, NULL, NULL };

static void
test_ports(void **state)
{
	struct call_table t;
	uint16_t p[4];
	int i;

	(void)state;
	assert_int_equal(call_table_init(&t, 30001, 30010, &ops), -1);
	assert_int_equal(call_table_init(&t, 30000, 30007, &ops), 0);
	assert_int_equal(t.npairs, 4);
	for (i = 0; i < 4; i++) {
		p[i] = call_port_alloc(&t);
		assert_int_equal(p[i], 30000 + 2 * i);
	}
	assert_int_equal(call_port_alloc(&t), 0);	/* exhausted */
	call_port_free(&t, 30002);
	call_port_free(&t, 30002);	/* double free ignored */
	call_port_free(&t, 30003);	/* odd: not a pair start */
	call_port_free(&t, 29998);	/* outside the range */
	call_port_free(&t, 40000);
	assert_int_equal(t.pairs_used, 3);
	assert_int_equal(call_port_alloc(&t), 30002);
	call_port_free(&t, 30000);
	call_port_free(&t, 30004);
	/* Rotation: after 30002 the search starts at 30004. */
	assert_int_equal(call_port_alloc(&t), 30004);
	assert_int_equal(call_port_alloc(&t), 30000);
	call_table_free(&t);
}

static void
test_table(void **state)
{
	struct call_table t;
	struct addr vip = { .af = AF_INET };
	struct call *c;
	char id[32], err[128];
	int i;

	(void)state;
	assert_int_equal(call_table_init(&t, 20000, 59999, &ops), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "call-%d", i);
		c = call_create(&t, id, 1, 1);
		assert_non_null(c);
		assert_int_equal(call_set_media(&t, c, 1, &vip, err,
		    sizeof(err)), 0);
	}
	assert_null(call_create(&t, "call-17", 1, 1));	/* duplicate */
	assert_true(t.nbuckets >= 2048);		/* grew */
	assert_int_equal(t.ncalls, 5000);
	assert_int_equal(opened, 10000);
	for (i = 0; i < 5000; i += 2) {
		snprintf(id, sizeof(id), "call-%d", i);
		call_delete(&t, call_find(&t, id));
	}
	assert_null(call_find(&t, "call-0"));
	assert_non_null(call_find(&t, "call-4999"));
	assert_int_equal(t.ncalls, 2500);
	assert_int_equal(t.pairs_used, 5000);
	/* The age list is intact: walk it and count. */
	for (i = 0, c = t.head; c != NULL; c = c->next)
		i++;
	assert_int_equal(i, 2500);
	c = call_find(&t, "call-1");
	assert_int_equal(call_set_media(&t, c, 9, &vip, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "9 media streams (1..8 supported)");
	assert_int_equal(call_set_media(&t, c, 3, &vip, err, sizeof(err)),
	    0);
	assert_int_equal(call_set_media(&t, c, 1, &vip, err, sizeof(err)),
	    0);
	assert_int_equal(t.pairs_used, 5000);
	call_table_free(&t);
	assert_int_equal(opened, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests_name("call", tests, NULL, NULL);
}
