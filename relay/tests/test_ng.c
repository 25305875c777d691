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

#include <arpa/inet.h>

#include "common/bencode.h"
#include "common/log.h"
#include "common/tests/testutil.h"
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
	expect_error(f, "ICE=force is not supported: rtprelay does not take "
	    "part in ICE; use ICE=remove");

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
	assert_int_equal(f->stats.ng_errors, 13);
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
	/* rtpengine's words: Kamailio then tries the next relay. */
	expect_error(f, "Ran out of ports");
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

/* Send a request written as jb() text (common/tests/testutil.h). */
static void
req(struct fixture *f, const char *desc)
{
	char buf[8192], cookie[32];
	size_t n = jb(desc, buf, sizeof(buf));

	snprintf(cookie, sizeof(cookie), "j%d", f->seq++);
	raw(f, cookie, buf, n);
}

static int64_t
rint_at(struct bnode *d, const char *k1, const char *k2, const char *k3)
{
	struct bnode *n = bnode_get(d, k1);

	if (k2 != NULL)
		n = bnode_get(n, k2);
	if (k3 != NULL)
		n = bnode_get(n, k3);
	assert_non_null(n);
	assert_int_equal(n->type, BNODE_INT);
	return n->i;
}

#define SDP_A "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\n" \
	"c=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n"
#define SDP_B "v=0\r\no=- 2 2 IN IP4 198.51.100.2\r\ns=-\r\n" \
	"c=IN IP4 198.51.100.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 8\r\n"

/* What Kamailio's module sends for rtpengine_manage("SIP-source-address
 * replace-origin replace-session-connection ICE=remove") on an INVITE from
 * a UA behind NAT, then on its 200 OK. */
static void
test_kamailio_manage(void **state)
{
	struct fixture *f = *state;
	struct call *c;

	req(f, "{'supports':['load limit'],'sdp':'" SDP_A "',"
	    "'ICE':'remove','flags':['SIP-source-address'],"
	    "'replace':['origin','session-connection'],'call-id':'k1',"
	    "'received-from':['IP4','198.51.100.99'],'from-tag':'ftag',"
	    "'command':'offer'}");
	assert_string_equal(rstr(f, "result"), "ok");
	assert_null(bnode_get(f->root, "warning"));
	assert_string_equal(rstr(f, "sdp"),
	    "v=0\r\no=- 1 1 IN IP4 203.0.113.10\r\ns=-\r\n"
	    "c=IN IP4 203.0.113.10\r\nt=0 0\r\nm=audio 30002 RTP/AVP 0 8\r\n"
	    "a=rtcp:30003\r\n");
	c = call_find(&f->calls, "k1");
	assert_non_null(c);
	/* Media goes to the SIP source address, at the SDP's port. */
	assert_string_equal(inet_ntoa(c->media[0]->leg[0].latch.sdp.sin.
	    sin_addr), "198.51.100.99");
	assert_int_equal(sa_port(&c->media[0]->leg[0].latch.sdp), 4000);
	assert_string_equal(c->media[0]->leg[0].proto, "RTP/AVP");

	req(f, "{'supports':['load limit'],'sdp':'" SDP_B "',"
	    "'ICE':'remove','replace':['origin','session-connection'],"
	    "'call-id':'k1','received-from':['IP4','198.51.100.2'],"
	    "'from-tag':'ftag','to-tag':'ttag','command':'answer'}");
	assert_string_equal(rstr(f, "result"), "ok");
	assert_string_equal(rstr(f, "sdp"),
	    "v=0\r\no=- 2 2 IN IP4 203.0.113.10\r\ns=-\r\n"
	    "c=IN IP4 203.0.113.10\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8\r\n"
	    "a=rtcp:30001\r\n");
	/* No SIP-source-address this time: the SDP's address. */
	assert_string_equal(inet_ntoa(c->media[0]->leg[1].latch.sdp.sin.
	    sin_addr), "198.51.100.2");

	/* The BYE: delete with the same flags (rtpengine_manage passes
	 * them), statistics in the reply. */
	req(f, "{'supports':['load limit'],'flags':['SIP-source-address'],"
	    "'replace':['origin'],'ICE':'remove','call-id':'k1',"
	    "'received-from':['IP4','198.51.100.99'],'from-tag':'ftag',"
	    "'command':'delete'}");
	assert_string_equal(rstr(f, "result"), "ok");
	assert_int_equal(rint_at(f->root, "totals", "RTP", "packets"), 0);
	assert_int_equal(rint_at(f->root, "totals", "RTCP", "errors"), 0);
	assert_null(call_find(&f->calls, "k1"));
	assert_int_equal(legs_open, 0);
}

/* The SIP-source-address needs the source; an address of the other family
 * than the call, or an "address family" that would need bridging, is
 * refused and leaves nothing behind. */
static void
test_addresses(void **state)
{
	struct fixture *f = *state;
	struct call *c;

	req(f, "{'command':'offer','call-id':'a1','from-tag':'ftag',"
	    "'sdp':'" SDP_A "','flags':['SIP source address']}");
	expect_error(f, "flag SIP-source-address needs 'received from': "
	    "[family, address]");
	req(f, "{'command':'offer','call-id':'a1','from-tag':'ftag',"
	    "'sdp':'" SDP_A "','flags':['SIP source address'],"
	    "'received from':['IP6','2001:db8::9']}");
	expect_error(f, "media 1: endpoint address 2001:db8::9 is not IPv4 "
	    "like the call: bridging IPv4 and IPv6 is not supported");
	req(f, "{'command':'offer','call-id':'a1','from-tag':'ftag',"
	    "'sdp':'" SDP_A "','address family':'IP6'}");
	expect_error(f, "'address family' IP6 for an IPv4 SDP is not "
	    "supported: rtprelay does not bridge IPv4 and IPv6");
	assert_int_equal(f->calls.ncalls, 0);
	assert_int_equal(legs_open, 0);

	/* Both spellings of a matching family; "media address" overrides
	 * the SDP and the SIP source. */
	req(f, "{'command':'offer','call-id':'a1','from-tag':'ftag',"
	    "'sdp':'" SDP_A "','address-family':'IP4',"
	    "'media address':'198.51.100.77','flags':['SIP-source-address'],"
	    "'received-from':['IP4','198.51.100.99']}");
	assert_string_equal(rstr(f, "result"), "ok");
	c = call_find(&f->calls, "a1");
	assert_string_equal(inet_ntoa(c->media[0]->leg[0].latch.sdp.sin.
	    sin_addr), "198.51.100.77");
	req(f, "{'command':'answer','call-id':'a1','from-tag':'ftag',"
	    "'to-tag':'ttag','sdp':'" SDP_B "','address family':'IP6'}");
	expect_error(f, "'address family' IP6 in an answer to an IPv4 call is "
	    "not supported: rtprelay does not bridge IPv4 and IPv6");
}

/* A hold by the old zero address: c=0.0.0.0 goes on as it is and nothing
 * is sent to the holder until it speaks; "replace zero-address" makes it
 * the VIP. */
static void
test_hold_zero_address(void **state)
{
	struct fixture *f = *state;
	struct call *c;

	offer(f, "h1", SDP_A);
	answer(f, "h1", SDP_B);
	req(f, "{'command':'offer','call-id':'h1','from-tag':'ftag',"
	    "'sdp':'v=0\r\no=- 1 2 IN IP4 198.51.100.1\r\ns=-\r\n"
	    "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n',"
	    "'flags':['SIP-source-address'],"
	    "'received-from':['IP4','198.51.100.1']}");
	assert_string_equal(rstr(f, "result"), "ok");
	assert_non_null(strstr(rstr(f, "sdp"), "c=IN IP4 0.0.0.0\r\n"));
	assert_non_null(strstr(rstr(f, "sdp"), "m=audio 30002 "));
	c = call_find(&f->calls, "h1");
	assert_null(latch_dest(&c->media[0]->leg[0].latch));
	req(f, "{'command':'offer','call-id':'h1','from-tag':'ftag',"
	    "'sdp':'v=0\r\no=- 1 2 IN IP4 198.51.100.1\r\ns=-\r\n"
	    "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n',"
	    "'replace':['zero-address']}");
	assert_non_null(strstr(rstr(f, "sdp"), "c=IN IP4 203.0.113.10\r\n"));
}

static void
test_delete(void **state)
{
	struct fixture *f = *state;

	req(f, "{'command':'delete','call-id':'nope','from-tag':'x'}");
	assert_string_equal(rstr(f, "result"), "ok");
	assert_string_equal(rstr(f, "warning"),
	    "Call-ID not found or tags didn't match");
	req(f, "{'command':'delete','call-id':'nope','flags':['fatal']}");
	expect_error(f, "Call-ID not found or tags didn't match");

	offer(f, "d1", SDP_A);
	answer(f, "d1", SDP_B);
	/* A tag of neither party deletes nothing. */
	req(f, "{'command':'delete','call-id':'d1','from-tag':'other'}");
	assert_string_equal(rstr(f, "warning"),
	    "Call-ID not found or tags didn't match");
	assert_non_null(call_find(&f->calls, "d1"));
	/* The callee's BYE: its tag is the from-tag; "fast" leaves out the
	 * statistics. */
	req(f, "{'command':'delete','call-id':'d1','from-tag':'ttag',"
	    "'flags':['fast'],'delete delay':30,'via-branch':'z9'}");
	assert_string_equal(rstr(f, "result"), "ok");
	assert_null(bnode_get(f->root, "totals"));
	assert_null(call_find(&f->calls, "d1"));
	assert_int_equal(f->stats.ng_errors, 1);
}

/* max-calls: rtpengine's "load limit" reply to a proxy that supports it,
 * its error string to one that does not (Kamailio then tries another
 * relay on both). */
static void
test_load_limit(void **state)
{
	struct fixture *f = *state;

	f->cfg.max_calls = 1;
	offer(f, "l1", SDP_A);
	assert_string_equal(rstr(f, "result"), "ok");
	req(f, "{'command':'offer','call-id':'l2','from-tag':'ftag',"
	    "'sdp':'" SDP_A "','supports':['load limit']}");
	assert_string_equal(rstr(f, "result"), "load limit");
	assert_non_null(rstr(f, "message"));
	offer(f, "l2", SDP_A);
	expect_error(f, "Parallel session limit reached");
	/* A re-offer of a call that exists is no new call. */
	offer(f, "l1", SDP_A);
	assert_string_equal(rstr(f, "result"), "ok");
	assert_int_equal(f->stats.calls_rejected, 2);
	assert_int_equal(f->calls.ncalls, 1);
}

/* transport-protocol within a security class rewrites the m= line, and
 * the answer goes back to the offerer in its own profile; across classes
 * it would need SRTP termination: refused. */
static void
test_transport_protocol(void **state)
{
	struct fixture *f = *state;

	req(f, "{'command':'offer','call-id':'t1','from-tag':'ftag',"
	    "'transport-protocol':'RTP/AVP','sdp':'v=0\r\n"
	    "o=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\n"
	    "t=0 0\r\nm=audio 4000 RTP/AVPF 0\r\na=rtcp-fb:0 nack\r\n'}");
	assert_string_equal(rstr(f, "result"), "ok");
	assert_non_null(strstr(rstr(f, "sdp"), "m=audio 30002 RTP/AVP 0\r\n"));
	answer(f, "t1", "v=0\r\no=- 2 2 IN IP4 198.51.100.2\r\ns=-\r\n"
	    "c=IN IP4 198.51.100.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n");
	assert_non_null(strstr(rstr(f, "sdp"),
	    "m=audio 30000 RTP/AVPF 0\r\n"));
	/* "accept": the answerer's profile goes through. */
	req(f, "{'command':'answer','call-id':'t1','from-tag':'ftag',"
	    "'to-tag':'ttag','transport-protocol':'accept','sdp':'v=0\r\n"
	    "o=- 2 2 IN IP4 198.51.100.2\r\ns=-\r\nc=IN IP4 198.51.100.2\r\n"
	    "t=0 0\r\nm=audio 5000 RTP/AVP 0\r\n'}");
	assert_non_null(strstr(rstr(f, "sdp"), "m=audio 30000 RTP/AVP 0\r\n"));

	req(f, "{'command':'offer','call-id':'t2','from-tag':'ftag',"
	    "'transport-protocol':'RTP/SAVP','sdp':'" SDP_A "'}");
	expect_error(f, "'transport protocol' RTP/SAVP for media audio "
	    "(RTP/AVP) is not supported: rtprelay passes SRTP, DTLS and ZRTP "
	    "through unchanged and does not terminate or re-encrypt them");
	req(f, "{'command':'offer','call-id':'t2','from-tag':'ftag',"
	    "'transport-protocol':'TCP/MSRP','sdp':'" SDP_A "'}");
	assert_string_equal(rstr(f, "result"), "error");
	assert_non_null(strstr(rstr(f, "error-reason"), "TCP/MSRP is not an "
	    "RTP profile"));
	assert_null(call_find(&f->calls, "t2"));
}

static void
test_codecs(void **state)
{
	struct fixture *f = *state;
	struct call *c;

	req(f, "{'command':'offer','call-id':'c1','from-tag':'ftag',"
	    "'codec':{'strip':['all'],'offer':['PCMA']},'sdp':'v=0\r\n"
	    "o=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\n"
	    "t=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n'}");
	assert_string_equal(rstr(f, "sdp"),
	    "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\n"
	    "c=IN IP4 203.0.113.10\r\nt=0 0\r\nm=audio 30002 RTP/AVP 8\r\n"
	    "a=rtcp:30003\r\n");
	/* The offerer may still send what it offered. */
	c = call_find(&f->calls, "c1");
	assert_true(rtp_pt_mask_has(c->media[0]->leg[0].pt_mask, 0));
	/* single-codec in the answer. */
	req(f, "{'command':'answer','call-id':'c1','from-tag':'ftag',"
	    "'to-tag':'ttag','flags':['single codec'],'sdp':'v=0\r\n"
	    "o=- 2 2 IN IP4 198.51.100.2\r\ns=-\r\nc=IN IP4 198.51.100.2\r\n"
	    "t=0 0\r\nm=audio 5000 RTP/AVP 8 0 101\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\n'}");
	assert_non_null(strstr(rstr(f, "sdp"), "m=audio 30000 RTP/AVP 8 "
	    "101\r\n"));

	/* Nothing left: the original list stays, as in rtpengine... */
	req(f, "{'command':'offer','call-id':'c2','from-tag':'ftag',"
	    "'flags':['codec-strip-all'],'sdp':'" SDP_A "'}");
	assert_non_null(strstr(rstr(f, "sdp"), "m=audio 30006 RTP/AVP 0 8\r\n"));
	/* ...or the media is rejected when that is the intent. */
	req(f, "{'command':'offer','call-id':'c2','from-tag':'ftag',"
	    "'flags':['codec-strip-all','allow no codec media'],"
	    "'sdp':'" SDP_A "'}");
	assert_non_null(strstr(rstr(f, "sdp"), "m=audio 0 RTP/AVP 0 8\r\n"));
	assert_null(strstr(rstr(f, "sdp"), "a=rtcp"));
}

/* loop-protect: our marker on the way out; an SDP carrying it comes back
 * unchanged and the call is not touched. */
static void
test_loop_protect(void **state)
{
	struct fixture *f = *state;
	char again[2048], desc[4096];

	req(f, "{'command':'offer','call-id':'p1','from-tag':'ftag',"
	    "'flags':['loop protect'],'sdp':'" SDP_A "'}");
	assert_non_null(strstr(rstr(f, "sdp"),
	    "t=0 0\r\na=rtpengine:rtprelay-203.0.113.10\r\nm=audio"));
	snprintf(again, sizeof(again), "%s", rstr(f, "sdp"));
	snprintf(desc, sizeof(desc), "{'command':'offer','call-id':'p2',"
	    "'from-tag':'ftag','flags':['loop-protect'],'sdp':'%s'}", again);
	req(f, desc);
	assert_string_equal(rstr(f, "result"), "ok");
	assert_string_equal(rstr(f, "sdp"), again);
	assert_null(call_find(&f->calls, "p2"));
	assert_int_equal(legs_open, 2);
}

/* No ICE key and an SDP with ICE: removed, and the reply says so (rtpengine
 * would have added its own candidates); ICE=default would need ICE. */
static void
test_ice(void **state)
{
	struct fixture *f = *state;

	offer(f, "i1", OFFER_SDP);
	assert_string_equal(rstr(f, "result"), "ok");
	assert_non_null(strstr(rstr(f, "warning"), "ICE attributes removed"));
	assert_null(strstr(rstr(f, "sdp"), "candidate"));
	req(f, "{'command':'offer','call-id':'i2','from-tag':'ftag',"
	    "'ICE':['remove'],'sdp':'" OFFER_SDP "'}");
	assert_null(bnode_get(f->root, "warning"));
	req(f, "{'command':'offer','call-id':'i3','from-tag':'ftag',"
	    "'ICE':'default','sdp':'" OFFER_SDP "'}");
	expect_error(f, "ICE=default is not supported for an SDP with ICE: "
	    "rtprelay does not take part in ICE; use ICE=remove");
	req(f, "{'command':'offer','call-id':'i3','from-tag':'ftag',"
	    "'ICE':'default','sdp':'" SDP_A "'}");
	assert_string_equal(rstr(f, "result"), "ok");
}

/* A refused option fails the request before the call changes: no call on
 * a first offer, the call as it was on a re-offer. */
static void
test_refused_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct call *c;

	req(f, "{'command':'offer','call-id':'r1','from-tag':'ftag',"
	    "'sdp':'" SDP_A "','flags':['record call']}");
	expect_error(f, "flag 'record call' is not supported: rtprelay does "
	    "not record calls");
	assert_null(call_find(&f->calls, "r1"));
	offer(f, "r1", SDP_A);
	answer(f, "r1", SDP_B);
	c = call_find(&f->calls, "r1");
	req(f, "{'command':'offer','call-id':'r1','from-tag':'other',"
	    "'sdp':'v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\n"
	    "c=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	    "m=video 4002 RTP/AVP 96\r\n','codec':{'transcode':['H264']}}");
	expect_error(f, "codec 'transcode' is not supported: rtprelay "
	    "forwards media unchanged and does not transcode or process "
	    "audio");
	assert_string_equal(c->from_tag, "ftag");
	assert_int_equal(c->nmedia, 1);
	assert_int_equal(legs_open, 2);

	req(f, "{'command':'start recording','call-id':'r1'}");
	expect_error(f, "command 'start recording' is not supported: "
	    "rtprelay does not record calls");
	req(f, "{'command':'block DTMF','call-id':'r1'}");
	expect_error(f, "command 'block DTMF' is not supported: rtprelay does "
	    "not inspect or alter DTMF");
}

static void
test_strict_source(void **state)
{
	struct fixture *f = *state;
	struct call *c;

	req(f, "{'command':'offer','call-id':'s1','from-tag':'ftag',"
	    "'flags':['strict source'],'sdp':'" SDP_A "'}");
	c = call_find(&f->calls, "s1");
	assert_true(c->media[0]->leg[0].strict);
	assert_false(c->media[0]->leg[1].strict);
	answer(f, "s1", SDP_B);
	assert_false(c->media[0]->leg[1].strict);
}

/* The query reply in rtpengine's layout: what Kamailio's $rtpstat reads. */
static void
test_query_layout(void **state)
{
	struct fixture *f = *state;
	struct bnode *tag, *media, *streams;
	struct call *c;
	struct leg *l;

	offer(f, "q1", SDP_A);
	answer(f, "q1", SDP_B);
	c = call_find(&f->calls, "q1");
	l = &c->media[0]->leg[0];
	l->stats.packets = 12;
	l->stats.bytes = 1200;
	l->stats.rtcp_packets = 2;
	l->stats.rtcp_bytes = 160;
	l->stats.drops = 3;
	c->media[0]->leg[1].stats.packets = 7;
	c->media[0]->leg[1].stats.bytes = 700;
	simple(f, "query", "q1");
	assert_int_equal(rint_at(f->root, "totals", "RTP", "packets"), 17);
	assert_int_equal(rint_at(f->root, "totals", "RTP", "bytes"), 1740);
	assert_int_equal(rint_at(f->root, "totals", "RTP", "errors"), 3);
	assert_int_equal(rint_at(f->root, "totals", "RTCP", "packets"), 2);
	assert_int_equal(rint_at(f->root, "totals", "RTCP", "bytes"), 160);
	assert_int_equal(rint_at(f->root, "totals", "RTCP", "errors"), 0);
	assert_non_null(bnode_get(f->root, "last signal"));
	tag = bnode_get(bnode_get(f->root, "tags"), "ftag");
	assert_true(bnode_str_eq(bnode_get(tag, "in dialogue with"), "ttag"));
	media = bnode_get(tag, "medias")->child;
	assert_true(bnode_str_eq(bnode_get(media, "protocol"), "RTP/AVP"));
	streams = bnode_get(media, "streams");
	assert_int_equal(rint_at(streams->child, "local port", NULL, NULL),
	    30000);
	assert_true(bnode_str_eq(bnode_get(streams->child, "flags")->child,
	    "RTP"));
	assert_int_equal(rint_at(streams->child, "stats", "packets", NULL),
	    10);
	assert_int_equal(rint_at(streams->child->next, "local port", NULL,
	    NULL), 30001);
	assert_int_equal(rint_at(streams->child->next, "stats", "bytes",
	    NULL), 160);
	assert_null(streams->child->next->next);
	/* A muxing leg's RTCP stream is on its RTP port. */
	c->media[0]->leg[1].rtcp_mux = true;
	simple(f, "query", "q1");
	tag = bnode_get(bnode_get(f->root, "tags"), "ttag");
	streams = bnode_get(bnode_get(tag, "medias")->child, "streams");
	assert_int_equal(rint_at(streams->child->next, "local port", NULL,
	    NULL), 30002);
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
		"d7:command5:offer7:call-id1:a8:from-tag1:b5:flagsl18:"
		    "SIP-source-address12:loop-protecte7:replacel6:origine"
		    "13:received froml3:IP47:1.2.3.4e5:codecd5:stripl3:alle"
		    "5:offerl4:PCMAee3:sdp66:v=0\r\nc=IN IP4 1.2.3.4\r\n"
		    "m=audio 9 RTP/AVP 0 8\r\na=rtpmap:8 PCMA/8000e",
		"d7:command6:answer7:call-id1:a8:from-tag1:b6:to-tag1:c"
		    "18:transport-protocol8:RTP/AVPF5:flagsl12:single codece"
		    "3:sdp42:v=0\r\nc=IN IP4 1.2.3.5\r\nm=audio 7 RTP/AVP 8e",
	};
	int i, j, n;

	srandom(5);
	for (i = 0; i < 10000; i++) {
		const char *s = seeds[i % 6];

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
	assert_int_equal(legs_open, (int)f->calls.pairs_used);
	assert_true(f->calls.ncalls > 0);	/* the offer seeds got through */
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
		cmocka_unit_test_setup_teardown(test_kamailio_manage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_addresses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hold_zero_address, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_transport_protocol, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_codecs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_protect, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_changes_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_strict_source, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_query_layout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
	};

	return cmocka_run_group_tests_name("ng", tests, NULL, NULL);
}
