/*
 * ng commands end to end over the call table, with the sockets replaced by
 * counters: replies as a SIP proxy reads them, errors for every kind of bad
 * request, no port leaked whatever the input, cached replies for
 * retransmitted cookies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/bencode.h"
#include "common/log.h"
#include "relay/ng.h"

static int legs_open, fail_open_after = -1, fail_nth = -1, opens_seen;

static int
mock_open(struct leg *l, const struct addr *vip, void *arg)
{
	(void)vip;
	(void)arg;
	if (++opens_seen == fail_nth)
		return -1;
	if (fail_open_after == 0)
		return -1;
	if (fail_open_after > 0)
		fail_open_after--;
	legs_open++;
	l->io = l;	/* anything non-NULL */
	return 0;
}

static void
mock_close(struct leg *l, void *arg)
{
	(void)l;
	(void)arg;
	legs_open--;
}

static void
quiet(enum log_level lvl, const char *msg, void *arg)
{
	(void)lvl;
	(void)msg;
	(void)arg;
}

struct fixture {
	struct relay_config	cfg;
	struct relay_stats	stats;
	struct call_table	calls;
	struct ng_ctx		ng;
	char			reply[NG_REPLY_MAX];
	size_t			rlen;
	struct bnode		nodes[1024];
	struct bnode		*root;
	int			seq;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct call_ops ops = { mock_open, mock_close, NULL, NULL };
	char err[64];

	log_set_sink(quiet, NULL);
	relay_config_defaults(&f->cfg);
	addr_parse("203.0.113.10", &f->cfg.vip[0], err, sizeof(err));
	addr_parse("2001:db8::10", &f->cfg.vip[1], err, sizeof(err));
	f->cfg.nvip = 2;
	f->cfg.port_min = 30000;
	f->cfg.port_max = 30019;	/* 10 pairs */
	f->cfg.max_calls = 100;
	assert_int_equal(call_table_init(&f->calls, f->cfg.port_min,
	    f->cfg.port_max, &ops), 0);
	ng_init(&f->ng, &f->calls, &f->cfg, &f->stats);
	f->ng.now_us = 1000000;
	legs_open = 0;
	fail_open_after = -1;
	fail_nth = -1;
	opens_seen = 0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	call_table_free(&f->calls);
	assert_int_equal(legs_open, 0);
	ng_free(&f->ng);
	free(f);
	return 0;
}

/* Send raw bytes; decode the reply dictionary after the cookie. */
static void
raw(struct fixture *f, const char *cookie, const char *body, size_t blen)
{
	char msg[70000];
	size_t clen = strlen(cookie), n;
	char err[128];

	memcpy(msg, cookie, clen);
	msg[clen] = ' ';
	memcpy(msg + clen + 1, body, blen);
	f->rlen = ng_handle(&f->ng, msg, clen + 1 + blen, f->reply,
	    sizeof(f->reply));
	assert_true(f->rlen > clen + 1);
	assert_memory_equal(f->reply, cookie, clen);
	assert_int_equal(f->reply[clen], ' ');
	n = f->rlen - clen - 1;
	assert_int_equal(bencode_decode(f->reply + clen + 1, n, f->nodes,
	    1024, &f->root, err, sizeof(err)), 0);
}

static void
send_req(struct fixture *f, struct bencoder *b)
{
	char cookie[32];

	snprintf(cookie, sizeof(cookie), "c%d", f->seq++);
	assert_false(b->overflow);
	raw(f, cookie, b->buf, b->len);
}

static const char *
rstr(struct fixture *f, const char *key)
{
	static char buf[20000];
	struct bnode *n = bnode_get(f->root, key);

	if (n == NULL || bnode_strcpy(n, buf, sizeof(buf)) == -1)
		return NULL;
	return buf;
}

static void
expect_error(struct fixture *f, const char *reason)
{
	assert_string_equal(rstr(f, "result"), "error");
	assert_string_equal(rstr(f, "error-reason"), reason);
}

#define OFFER_SDP "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\n" \
	"c=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n" \
	"a=rtcp:4001\r\na=candidate:1 1 UDP 1 198.51.100.1 4000 typ host\r\n"
#define ANSWER_SDP "v=0\r\no=- 2 2 IN IP4 198.51.100.2\r\ns=-\r\n" \
	"c=IN IP4 198.51.100.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"

static void
offer(struct fixture *f, const char *callid, const char *sdp)
{
	struct bencoder b;
	char buf[4096];

	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	benc_kv_str(&b, "command", "offer");
	benc_kv_str(&b, "call-id", callid);
	benc_kv_str(&b, "from-tag", "ftag");
	benc_kv_str(&b, "sdp", sdp);
	benc_end(&b);
	send_req(f, &b);
}

static void
answer(struct fixture *f, const char *callid, const char *sdp)
{
	struct bencoder b;
	char buf[4096];

	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	benc_kv_str(&b, "command", "answer");
	benc_kv_str(&b, "call-id", callid);
	benc_kv_str(&b, "from-tag", "ftag");
	benc_kv_str(&b, "to-tag", "ttag");
	benc_kv_str(&b, "sdp", sdp);
	benc_end(&b);
	send_req(f, &b);
}

static void
simple(struct fixture *f, const char *cmd, const char *callid)
{
	struct bencoder b;
	char buf[1024];

	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	benc_kv_str(&b, "command", cmd);
	if (callid != NULL)
		benc_kv_str(&b, "call-id", callid);
	benc_end(&b);
	send_req(f, &b);
}

static void
test_ping(void **state)
{
	struct fixture *f = *state;

	simple(f, "ping", NULL);
	assert_string_equal(rstr(f, "result"), "pong");
}

static void
test_offer_answer(void **state)
{
	struct fixture *f = *state;
	struct call *c;

	offer(f, "call-1", OFFER_SDP);
	assert_string_equal(rstr(f, "result"), "ok");
	/* Callee is told to send to leg 1's ports on the VIP; ICE gone. */
	assert_string_equal(rstr(f, "sdp"),
	    "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\n"
	    "c=IN IP4 203.0.113.10\r\nt=0 0\r\nm=audio 30002 RTP/AVP 0 8\r\n"
	    "a=rtcp:30003\r\n");
	assert_int_equal(legs_open, 2);
	c = call_find(&f->calls, "call-1");
	assert_non_null(c);
	assert_int_equal(c->media[0]->leg[0].port, 30000);
	assert_int_equal(c->media[0]->leg[1].port, 30002);
	assert_int_equal(sa_port(&c->media[0]->leg[0].latch.sdp), 4000);
	assert_int_equal(sa_port(&c->media[0]->leg[0].rtcp_dest), 4001);

	answer(f, "call-1", ANSWER_SDP);
	assert_string_equal(rstr(f, "result"), "ok");
	assert_string_equal(rstr(f, "sdp"),
	    "v=0\r\no=- 2 2 IN IP4 198.51.100.2\r\ns=-\r\n"
	    "c=IN IP4 203.0.113.10\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n"
	    "a=rtcp:30001\r\n");
	assert_string_equal(c->to_tag, "ttag");
	assert_int_equal(sa_port(&c->media[0]->leg[1].latch.sdp), 5000);
	/* Answerer did not list PT 8: it is not negotiated on its leg. */
	assert_false(rtp_pt_mask_has(c->media[0]->leg[1].pt_mask, 8));

	/* A re-offer keeps the ports. */
	offer(f, "call-1", OFFER_SDP);
	assert_string_equal(rstr(f, "result"), "ok");
	assert_int_equal(legs_open, 2);
	assert_int_equal(f->stats.calls_created, 1);

	simple(f, "delete", "call-1");
	assert_string_equal(rstr(f, "result"), "ok");
	assert_int_equal(legs_open, 0);
	assert_int_equal(f->calls.pairs_used, 0);
	assert_null(call_find(&f->calls, "call-1"));
}

static void
test_rtcp_mux_and_ipv6(void **state)
{
	struct fixture *f = *state;

	offer(f, "call-6", "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\n"
	    "c=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	    "a=rtcp-mux\r\n");
	assert_string_equal(rstr(f, "result"), "ok");
	assert_string_equal(rstr(f, "sdp"),
	    "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\n"
	    "c=IN IP6 2001:db8::10\r\nt=0 0\r\nm=audio 30002 RTP/AVP 0\r\n"
	    "a=rtcp:30002\r\na=rtcp-mux\r\n");
	assert_true(call_find(&f->calls, "call-6")->media[0]->leg[0].rtcp_mux);
}

static void
test_errors(void **state)
{
	struct fixture *f = *state;
	struct bencoder b;
	char buf[512];

	raw(f, "e1", "d7:command4:pinge", 17);	/* fine */
	assert_string_equal(rstr(f, "result"), "pong");
	raw(f, "e2", "d7:command4:pin", 15);
	expect_error(f, "malformed bencode: offset 10: string length 4 runs "
	    "past the end of the input");
	raw(f, "e3", "l4:pinge", 8);
	expect_error(f, "request is not a dictionary");
	raw(f, "e4", "de", 2);
	expect_error(f, "missing 'command'");
	raw(f, "e5", "d7:command5:fly\x01\x02" "e", 18);
	expect_error(f, "unknown command 'fly?" "?'");
	raw(f, "e6", "{\"command\":\"ping\"}", 18);
	expect_error(f, "JSON requests are not supported: send bencode");
	raw(f, "e7", "", 0);
	expect_error(f, "malformed bencode: offset 0: empty input");

	simple(f, "delete", "nope");
	expect_error(f, "Unknown call-id 'nope'");
	simple(f, "query", "nope");
	expect_error(f, "Unknown call-id 'nope'");
	simple(f, "delete", NULL);
	expect_error(f, "missing 'call-id'");
	answer(f, "nope", ANSWER_SDP);
	expect_error(f, "Unknown call-id 'nope'");

	offer(f, "bad-sdp", "v=1\r\n");
	expect_error(f, "bad SDP: line 1: SDP must start with v=0");
	offer(f, "bad-sdp", "v=0\r\ns=-\r\nc=IN IP4 300.1.1.1\r\nt=0 0\r\n"
	    "m=audio 4000 RTP/AVP 0\r\n");
	assert_string_equal(rstr(f, "result"), "error");
	assert_non_null(strstr(rstr(f, "error-reason"), "line 3"));

	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	benc_kv_str(&b, "command", "offer");
	benc_kv_str(&b, "call-id", "x");
	benc_kv_str(&b, "from-tag", "f");
	benc_kv_str(&b, "ICE", "force");
	benc_kv_str(&b, "sdp", OFFER_SDP);
	benc_end(&b);
	send_req(f, &b);
	expect_error(f, "ICE=force is not supported (only 'remove'; ICE is "
	    "always removed)");

	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	benc_kv_str(&b, "command", "offer");
	benc_kv_int(&b, "call-id", 5);
	benc_end(&b);
	send_req(f, &b);
	expect_error(f, "'call-id' must be a string");

	/* Nothing above left a call or a port behind. */
	assert_int_equal(f->calls.ncalls, 0);
	assert_int_equal(f->calls.pairs_used, 0);
	assert_int_equal(legs_open, 0);
	assert_int_equal(f->stats.ng_errors, 14);
}

static void
test_no_cookie(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ng_handle(&f->ng, "d7:command4:pinge", 17, f->reply,
	    sizeof(f->reply)), 0);
	assert_int_equal(ng_handle(&f->ng, " x", 2, f->reply,
	    sizeof(f->reply)), 0);
}

static void
test_answer_mismatch(void **state)
{
	struct fixture *f = *state;

	offer(f, "call-m", OFFER_SDP);
	answer(f, "call-m", "v=0\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\n"
	    "m=audio 5000 RTP/AVP 0\r\nm=video 5002 RTP/AVP 96\r\n");
	expect_error(f, "answer has 2 media, the offer had 1");
	assert_int_equal(legs_open, 2);	/* the call itself is still there */
}

static void
test_ports_exhausted(void **state)
{
	struct fixture *f = *state;
	char id[32];
	int i;

	for (i = 0; i < 5; i++) {	/* 10 pairs = 5 calls */
		snprintf(id, sizeof(id), "full-%d", i);
		offer(f, id, OFFER_SDP);
		assert_string_equal(rstr(f, "result"), "ok");
	}
	offer(f, "full-5", OFFER_SDP);
	expect_error(f, "no free media ports (10 pairs in use)");
	assert_int_equal(f->calls.ncalls, 5);
	assert_int_equal(f->calls.pairs_used, 10);
	simple(f, "delete", "full-2");
	offer(f, "full-5", OFFER_SDP);
	assert_string_equal(rstr(f, "result"), "ok");
}

static void
test_open_failure_leaks_nothing(void **state)
{
	struct fixture *f = *state;

	fail_open_after = 1;	/* every leg after the first fails to bind */
	offer(f, "call-f", OFFER_SDP);
	expect_error(f, "cannot open media ports: 8 pairs tried, the last "
	    "30016-30017");
	assert_int_equal(f->calls.ncalls, 0);
	assert_int_equal(f->calls.pairs_used, 0);
	assert_int_equal(legs_open, 0);
}

/* A pair held by another program is skipped, not fatal to the offer. */
static void
test_busy_pair_skipped(void **state)
{
	struct fixture *f = *state;
	struct call *c;

	fail_nth = 2;	/* leg 1's first pair (30002) is busy */
	offer(f, "call-b", OFFER_SDP);
	assert_string_equal(rstr(f, "result"), "ok");
	assert_non_null(strstr(rstr(f, "sdp"), "m=audio 30004 "));
	c = call_find(&f->calls, "call-b");
	assert_int_equal(c->media[0]->leg[1].port, 30004);
	assert_int_equal(legs_open, 2);
	assert_int_equal(f->calls.pairs_used, 2);
}

static void
test_retransmit(void **state)
{
	struct fixture *f = *state;
	struct bencoder b;
	char buf[4096], first[NG_REPLY_MAX];
	size_t flen;

	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	benc_kv_str(&b, "command", "offer");
	benc_kv_str(&b, "call-id", "call-r");
	benc_kv_str(&b, "from-tag", "ftag");
	benc_kv_str(&b, "sdp", OFFER_SDP);
	benc_end(&b);
	raw(f, "same-cookie", b.buf, b.len);
	memcpy(first, f->reply, f->rlen);
	flen = f->rlen;
	raw(f, "same-cookie", b.buf, b.len);
	assert_int_equal(f->rlen, flen);
	assert_memory_equal(f->reply, first, flen);
	assert_int_equal(f->stats.ng_retransmits, 1);
	assert_int_equal(legs_open, 2);	/* not allocated twice */
}

static void
test_query_list_statistics(void **state)
{
	struct fixture *f = *state;
	struct bnode *calls, *tags;

	offer(f, "call-q", OFFER_SDP);
	answer(f, "call-q", ANSWER_SDP);
	offer(f, "call-r", OFFER_SDP);
	simple(f, "list", NULL);
	calls = bnode_get(f->root, "calls");
	assert_non_null(calls);
	assert_true(bnode_str_eq(calls->child, "call-q"));
	assert_true(bnode_str_eq(calls->child->next, "call-r"));
	assert_null(calls->child->next->next);

	simple(f, "query", "call-q");
	assert_string_equal(rstr(f, "result"), "ok");
	tags = bnode_get(f->root, "tags");
	assert_non_null(bnode_get(tags, "ftag"));
	assert_non_null(bnode_get(tags, "ttag"));

	simple(f, "statistics", NULL);
	assert_string_equal(rstr(f, "result"), "ok");
	assert_int_equal(bnode_get(bnode_get(bnode_get(f->root, "statistics"),
	    "currentstatistics"), "sessionsown")->i, 2);
}

static void
test_fuzz(void **state)
{
	struct fixture *f = *state;
	char msg[300], reply[NG_REPLY_MAX];
	static const char *const seeds[] = {
		"d7:command5:offer7:call-id1:a8:from-tag1:b3:sdp30:v=0\r\n"
		    "c=IN IP4 1.2.3.4\r\nm=e",
		"d7:command6:delete7:call-id1:ae",
		"d7:command5:querye",
		"d7:command4:list5:limiti3ee",
	};
	int i, j, n;

	srandom(5);
	for (i = 0; i < 10000; i++) {
		const char *s = seeds[i % 4];

		n = snprintf(msg, sizeof(msg), "k%d %s", i, s);
		for (j = 0; j < 3; j++)
			msg[3 + random() % (n - 3)] = (char)random();
		if (i % 7 == 0)
			n = 1 + random() % n;	/* truncated */
		(void)ng_handle(&f->ng, msg, (size_t)n, reply, sizeof(reply));
	}
	for (i = 0; i < 10000; i++) {
		n = 1 + random() % (int)sizeof(msg);
		for (j = 0; j < n; j++)
			msg[j] = (char)random();
		(void)ng_handle(&f->ng, msg, (size_t)n, reply, sizeof(reply));
	}
	/* Whatever got created, the table is consistent. */
	assert_int_equal(legs_open, 2 * (int)f->calls.pairs_used);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_answer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtcp_mux_and_ipv6, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_cookie, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_answer_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ports_exhausted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_failure_leaks_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_pair_skipped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retransmit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_query_list_statistics,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
	};

	return cmocka_run_group_tests_name("ng", tests, NULL, NULL);
}
