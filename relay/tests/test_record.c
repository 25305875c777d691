/*
 * Shared-state records: a call written by one relay's table and applied to
 * another's comes out the same; versions decide (an old write never
 * replaces a newer one, ties go to the higher node); tombstones delete;
 * truncated, oversized, other-format and hostile records are refused whole
 * and leave the table untouched; a record whose ports are taken here is a
 * conflict; keys newer relays add ("dt", "k") are optional. Also the port
 * blocks of the allocator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/tests/testutil.h"
#include "relay/record.h"

static int legs_open;

static int
op_open(struct leg *l, const struct addr *vip, void *arg)
{
	(void)vip;
	(void)arg;
	l->io = l;
	legs_open++;
	return 0;
}

static void
op_close(struct leg *l, void *arg)
{
	(void)l;
	(void)arg;
	legs_open--;
}

static const struct call_ops ops = { op_open, op_close, NULL, NULL };

struct fix {
	struct relay_config	cfg;
	struct call_table	a, b;	/* two relays */
	char			val[REC_VALUE_MAX + 64];
	size_t			len;
	char			err[256];
	struct rec_applied	info;
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	char err[64];

	relay_config_defaults(&f->cfg);
	addr_parse("203.0.113.10", &f->cfg.vip[0], err, sizeof(err));
	f->cfg.nvip = 1;
	assert_int_equal(call_table_init(&f->a, 30000, 30099, &ops), 0);
	assert_int_equal(call_table_init(&f->b, 30000, 30099, &ops), 0);
	legs_open = 0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	call_table_free(&f->a);
	call_table_free(&f->b);
	assert_int_equal(legs_open, 0);
	free(f);
	return 0;
}

static void
sa(union sockaddr_any *out, const char *s)
{
	char err[64];

	assert_int_equal(hostport_parse(s, out, err, sizeof(err)), 0);
}

/* A two-media answered call on table a, as an offer/answer leaves it. */
static struct call *
make_call(struct fix *f, const char *id)
{
	struct call *c;
	char err[128];
	int i, s;

	c = call_create(&f->a, id, 1000, 1700000000);
	assert_non_null(c);
	assert_int_equal(call_set_media(&f->a, c, 2, &f->cfg.vip[0], err,
	    sizeof(err)), 0);
	snprintf(c->from_tag, sizeof(c->from_tag), "ft-%s", id);
	snprintf(c->to_tag, sizeof(c->to_tag), "tt-%s", id);
	c->answered = true;
	for (i = 0; i < 2; i++) {
		snprintf(c->media[i]->type, sizeof(c->media[i]->type), "%s",
		    i == 0 ? "audio" : "video");
		for (s = 0; s < 2; s++) {
			struct leg *l = &c->media[i]->leg[s];
			union sockaddr_any rtp;

			sa(&rtp, s == 0 ? "198.51.100.7:4000" :
			    "198.51.100.9:5000");
			latch_init(&l->latch, &rtp);
			sa(&l->sdp_rtcp, s == 0 ? "198.51.100.7:4001" :
			    "198.51.100.9:5001");
			l->rtcp_dest = l->sdp_rtcp;
			l->rtcp_mux = s == 1;
			l->has_sdp = true;
			l->pt_mask[0] = 0x101;
			l->pt_mask[1] = 1ULL << 37;
			l->pt_known = true;
			snprintf(l->proto, sizeof(l->proto), "%s", s == 0 ?
			    "RTP/AVPF" : "RTP/AVP");
			l->strict = s == 0;
		}
	}
	c->sig_ver.ver = 0x1000;
	c->sig_ver.node = 7;
	return c;
}

static enum rec_outcome
apply(struct fix *f, struct call_table *t, const char *id, const char *field,
    const char *val, size_t len)
{
	return rec_apply(t, &f->cfg, id, field, strlen(field), val, len, 5000,
	    1700000100, &f->info, f->err, sizeof(f->err));
}

static void
encode_sig(struct fix *f, struct call *c, uint64_t ver, uint32_t node,
    bool deleted)
{
	struct rec_version v = { ver, node };

	f->len = rec_encode_sig(c, &v, deleted, 123456, f->val,
	    sizeof(f->val));
	assert_true(f->len > REC_HDR_LEN);
}

static void
test_sig_roundtrip(void **state)
{
	struct fix *f = *state;
	struct call *c = make_call(f, "call-1"), *d;
	int i, s;

	encode_sig(f, c, 0x1000, 7, false);
	assert_int_equal(apply(f, &f->b, "call-1", "s", f->val, f->len),
	    REC_APPLIED);
	assert_true(f->info.created);
	assert_int_equal(f->info.wrote_us, 123456);
	d = call_find(&f->b, "call-1");
	assert_non_null(d);
	assert_string_equal(d->from_tag, "ft-call-1");
	assert_string_equal(d->to_tag, "tt-call-1");
	assert_true(d->answered);
	assert_int_equal(d->nmedia, 2);
	assert_int_equal(d->created_wall, 1700000000);
	assert_int_equal(d->sig_ver.ver, 0x1000);
	assert_int_equal(d->sig_ver.node, 7);
	for (i = 0; i < 2; i++) {
		assert_string_equal(d->media[i]->type, c->media[i]->type);
		for (s = 0; s < 2; s++) {
			struct leg *l = &d->media[i]->leg[s];
			struct leg *o = &c->media[i]->leg[s];

			assert_int_equal(l->port, o->port);
			assert_true(call_port_used(&f->b, l->port));
			assert_true(sa_eq(&l->latch.sdp, &o->latch.sdp));
			assert_true(sa_eq(&l->sdp_rtcp, &o->sdp_rtcp));
			assert_int_equal(l->rtcp_mux, o->rtcp_mux);
			assert_int_equal(l->pt_mask[0], o->pt_mask[0]);
			assert_int_equal(l->pt_mask[1], o->pt_mask[1]);
			assert_true(l->pt_known);
			assert_string_equal(l->proto, o->proto);
			assert_int_equal(l->strict, o->strict);
			assert_non_null(l->io);
		}
	}
	/* The same write again, and an older one, change nothing. */
	assert_int_equal(apply(f, &f->b, "call-1", "s", f->val, f->len),
	    REC_STALE);
	encode_sig(f, c, 0xfff, 9, false);
	assert_int_equal(apply(f, &f->b, "call-1", "s", f->val, f->len),
	    REC_STALE);
	/* A tie goes to the higher node. */
	c->answered = false;
	encode_sig(f, c, 0x1000, 6, false);
	assert_int_equal(apply(f, &f->b, "call-1", "s", f->val, f->len),
	    REC_STALE);
	encode_sig(f, c, 0x1000, 8, false);
	assert_int_equal(apply(f, &f->b, "call-1", "s", f->val, f->len),
	    REC_APPLIED);
	assert_false(d->answered);
}

/* Remove every copy of cut from the value (a record of an older relay). */
static void
strip_all(struct fix *f, const char *cut)
{
	size_t n = strlen(cut);
	char *p;

	while ((p = memmem(f->val, f->len, cut, n)) != NULL) {
		memmove(p, p + n, f->len - (size_t)(p - f->val) - n);
		f->len -= n;
	}
}

/* The leg's protocol ("pr") and strict-source ("ss") came after the
 * format first shipped: a record without them applies, with no protocol
 * known and no strict-source; with a bad value it is refused whole. */
static void
test_sig_optional_keys(void **state)
{
	struct fix *f = *state;
	struct call *c = make_call(f, "call-o"), *d;

	encode_sig(f, c, 0x1000, 7, false);
	strip_all(f, "2:pr8:RTP/AVPF");
	strip_all(f, "2:pr7:RTP/AVP");
	strip_all(f, "2:ssi1e");
	strip_all(f, "2:ssi0e");
	assert_null(memmem(f->val, f->len, "2:pr", 4));
	assert_int_equal(apply(f, &f->b, "call-o", "s", f->val, f->len),
	    REC_APPLIED);
	d = call_find(&f->b, "call-o");
	assert_string_equal(d->media[0]->leg[0].proto, "");
	assert_false(d->media[0]->leg[0].strict);

	encode_sig(f, c, 0x1001, 7, false);
	assert_non_null(memmem(f->val, f->len, "2:ssi1e", 7));
	memcpy(memmem(f->val, f->len, "2:ssi1e", 7), "2:ssi7e", 7);
	assert_int_equal(apply(f, &f->b, "call-o", "s", f->val, f->len),
	    REC_INVALID);
	assert_non_null(strstr(f->err, "'ss'"));
}

/* A re-offer that drops a media frees its ports on the other relay. */
static void
test_sig_update_media(void **state)
{
	struct fix *f = *state;
	struct call *c = make_call(f, "call-2"), *d;
	uint16_t gone;
	char err[128];

	encode_sig(f, c, 0x1000, 7, false);
	assert_int_equal(apply(f, &f->b, "call-2", "s", f->val, f->len),
	    REC_APPLIED);
	d = call_find(&f->b, "call-2");
	gone = d->media[1]->leg[0].port;
	assert_int_equal(call_set_media(&f->a, c, 1, &f->cfg.vip[0], err,
	    sizeof(err)), 0);
	encode_sig(f, c, 0x2000, 7, false);
	assert_int_equal(apply(f, &f->b, "call-2", "s", f->val, f->len),
	    REC_APPLIED);
	assert_int_equal(d->nmedia, 1);
	assert_false(call_port_used(&f->b, gone));
	assert_int_equal(legs_open, 2 + 2);
}

static void
test_tombstone(void **state)
{
	struct fix *f = *state;
	struct call *c = make_call(f, "call-3");
	uint16_t p = c->media[0]->leg[0].port;

	encode_sig(f, c, 0x1000, 7, false);
	assert_int_equal(apply(f, &f->b, "call-3", "s", f->val, f->len),
	    REC_APPLIED);
	/* An older tombstone does not delete a newer call. */
	encode_sig(f, c, 0x0fff, 7, true);
	assert_int_equal(apply(f, &f->b, "call-3", "s", f->val, f->len),
	    REC_STALE);
	encode_sig(f, c, 0x1001, 7, true);
	assert_int_equal(apply(f, &f->b, "call-3", "s", f->val, f->len),
	    REC_APPLIED);
	assert_true(f->info.deleted);
	assert_null(call_find(&f->b, "call-3"));
	assert_false(call_port_used(&f->b, p));
	/* A tombstone for a call never seen creates nothing. */
	assert_int_equal(apply(f, &f->b, "call-3", "s", f->val, f->len),
	    REC_STALE);
	assert_null(call_find(&f->b, "call-3"));
	/* An older live copy arriving after the delete (another relay
	 * pushing what it held during an outage) does not revive it... */
	encode_sig(f, c, 0x1000, 7, false);
	assert_int_equal(apply(f, &f->b, "call-3", "s", f->val, f->len),
	    REC_STALE);
	assert_null(call_find(&f->b, "call-3"));
	/* ...a newer one (the call-id used again) does. */
	encode_sig(f, c, 0x2000, 7, false);
	assert_int_equal(apply(f, &f->b, "call-3", "s", f->val, f->len),
	    REC_APPLIED);
	assert_null(call_tomb_find(&f->b, "call-3"));
	/* The table that wrote the call learns its delete too. */
	encode_sig(f, c, 0x3000, 7, true);
	assert_int_equal(apply(f, &f->a, "call-3", "s", f->val, f->len),
	    REC_APPLIED);	/* table a held it: c is gone now */
	assert_int_equal(call_tomb_find(&f->a, "call-3")->ver, 0x3000);
	call_tomb_expire(&f->a, UINT64_MAX);
	assert_null(call_tomb_find(&f->a, "call-3"));
}

/* Tombstones expire in order; the table keeps a bounded number. */
static void
test_tomb_table(void **state)
{
	struct fix *f = *state;
	struct rec_version v = { 5, 1 }, w = { 6, 1 };
	char id[32];
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "t%d", i);
		call_tomb_add(&f->b, id, &v, (uint64_t)i);
	}
	assert_int_equal(f->b.ntombs, 1000);
	call_tomb_add(&f->b, "t7", &w, 5000);	/* newer: updated in place */
	assert_int_equal(call_tomb_find(&f->b, "t7")->ver, 6);
	call_tomb_add(&f->b, "t7", &v, 5000);	/* older: ignored */
	assert_int_equal(call_tomb_find(&f->b, "t7")->ver, 6);
	call_tomb_remove(&f->b, "t999");	/* the tail */
	call_tomb_add(&f->b, "new", &v, 2000);
	call_tomb_expire(&f->b, 499);
	assert_int_equal(f->b.ntombs, 500);
	assert_null(call_tomb_find(&f->b, "t499"));
	assert_non_null(call_tomb_find(&f->b, "t500"));
	call_tomb_expire(&f->b, 1999);
	assert_int_equal(f->b.ntombs, 1);
	assert_non_null(call_tomb_find(&f->b, "new"));
}

static void
test_latch_and_activity(void **state)
{
	struct fix *f = *state;
	struct call *c = make_call(f, "call-4"), *d;
	struct rec_version v = { 0x500, 3 };
	struct leg *l = &c->media[0]->leg[1];
	union sockaddr_any from;
	char val[REC_VALUE_MAX];
	size_t len;

	sa(&from, "198.51.100.200:6000");
	assert_int_equal(latch_restore(&l->latch, &from, LATCH_KNOWN_SEQ,
	    0xdeadbeef, 777, f->err, sizeof(f->err)), 0);
	len = rec_encode_latch(l, &v, 99, val, sizeof(val));
	assert_true(len > 0);
	/* Before the call: unknown, nothing created. */
	assert_int_equal(apply(f, &f->b, "call-4", "l0.1", val, len),
	    REC_UNKNOWN_CALL);
	assert_null(call_find(&f->b, "call-4"));
	encode_sig(f, c, 0x1000, 7, false);
	assert_int_equal(apply(f, &f->b, "call-4", "s", f->val, f->len),
	    REC_APPLIED);
	assert_int_equal(apply(f, &f->b, "call-4", "l1.1", val, len),
	    REC_APPLIED);	/* media 2 exists too */
	assert_int_equal(apply(f, &f->b, "call-4", "l0.1", val, len),
	    REC_APPLIED);
	d = call_find(&f->b, "call-4");
	assert_int_equal(d->media[0]->leg[1].latch.state, LATCH_LATCHED);
	assert_true(sa_eq(latch_dest(&d->media[0]->leg[1].latch), &from));
	assert_int_equal(d->media[0]->leg[1].latch.ssrc, 0xdeadbeef);
	assert_int_equal(d->media[0]->leg[1].latch.seq, 777);
	assert_int_equal(apply(f, &f->b, "call-4", "l0.1", val, len),
	    REC_STALE);
	/* A later signalling update with the same SDP keeps the latch. */
	encode_sig(f, c, 0x1001, 7, false);
	assert_int_equal(apply(f, &f->b, "call-4", "s", f->val, f->len),
	    REC_APPLIED);
	assert_int_equal(d->media[0]->leg[1].latch.state, LATCH_LATCHED);
	/* Media 3 does not exist: its latch waits for the call. */
	assert_int_equal(apply(f, &f->b, "call-4", "l2.0", val, len),
	    REC_UNKNOWN_CALL);

	v.ver = 0x777;
	len = rec_encode_act(&v, 1, val, sizeof(val));
	assert_int_equal(apply(f, &f->b, "call-4", "a", val, len),
	    REC_APPLIED);
	assert_int_equal(d->act_ver.ver, 0x777);
	assert_int_equal(apply(f, &f->b, "call-4", "a", val, len),
	    REC_STALE);
}

/* Ports in use here by another call: refused, the local call intact. */
static void
test_conflict(void **state)
{
	struct fix *f = *state;
	struct call *c = make_call(f, "call-5"), *mine;
	char err[128];

	mine = call_create(&f->b, "mine", 1, 1);
	assert_int_equal(call_port_claim(&f->b, c->media[1]->leg[1].port), 0);
	mine->nmedia = 0;
	encode_sig(f, c, 0x1000, 7, false);
	assert_int_equal(apply(f, &f->b, "call-5", "s", f->val, f->len),
	    REC_CONFLICT);
	assert_non_null(strstr(f->err, "used by another call"));
	assert_null(call_find(&f->b, "call-5"));
	assert_int_equal(f->b.pairs_used, 1);	/* only the claimed pair */
	assert_int_equal(legs_open, 4);		/* table a's */
	(void)err;
}

/* Every proper prefix of a valid record is refused, the table untouched. */
static void
test_truncated(void **state)
{
	struct fix *f = *state;
	struct call *c = make_call(f, "call-6");
	size_t n;
	char *p;

	encode_sig(f, c, 0x1000, 7, false);
	for (n = 0; n < f->len; n++) {
		p = dup_exact(f->val, n);
		assert_int_equal(apply(f, &f->b, "call-6", "s", p, n),
		    REC_INVALID);
		free(p);
	}
	assert_int_equal(f->b.ncalls, 0);
	assert_int_equal(f->b.pairs_used, 0);
}

/* Replace the first occurrence of from by to in the encoded record. */
static void
patch(struct fix *f, const char *from, const char *to)
{
	char *at = memmem(f->val, f->len, from, strlen(from));
	size_t tail;

	assert_non_null(at);
	tail = f->len - (size_t)(at - f->val) - strlen(from);
	memmove(at + strlen(to), at + strlen(from), tail);
	memcpy(at, to, strlen(to));
	f->len = f->len - strlen(from) + strlen(to);
}

static void
expect_invalid(struct fix *f, const char *from, const char *to,
    const char *why)
{
	struct call *c = call_find(&f->a, "call-7");

	encode_sig(f, c, 0x1000, 7, false);
	patch(f, from, to);
	assert_int_equal(apply(f, &f->b, "call-7", "s", f->val, f->len),
	    REC_INVALID);
	if (strstr(f->err, why) == NULL)
		fail_msg("%s -> %s: '%s' lacks '%s'", from, to, f->err, why);
	assert_int_equal(f->b.ncalls, 0);
	assert_int_equal(f->b.pairs_used, 0);
}

static void
test_hostile(void **state)
{
	struct fix *f = *state;
	char big[REC_VALUE_MAX + 10];
	char port[16];
	struct call *c = make_call(f, "call-7");

	expect_invalid(f, "2:fvi1e", "2:fvi2e", "format version 2");
	expect_invalid(f, "2:fvi1e", "2:fvi0e", "format version 0");
	expect_invalid(f, "2:fvi1e", "2:fxi1e", "no format version");
	expect_invalid(f, "6:call-7", "6:call-8", "stored under");
	expect_invalid(f, "2:afi4e", "2:afi5e", "'af' is 5");
	snprintf(port, sizeof(port), "1:pi%ue", c->media[0]->leg[0].port);
	expect_invalid(f, port, "1:pi30001e", "odd");
	expect_invalid(f, port, "1:pi80e", "'p' missing or out of range");
	expect_invalid(f, "17:198.51.100.7:4000", "18:[2001:db8::7]:4000",
	    "not of the call's family");
	expect_invalid(f, "198.51.100.7:4000", "198.51.100.7:x000",
	    "'sa'");
	expect_invalid(f, "2:pt32:", "2:pt31:", "body:");
	expect_invalid(f, "1:mld", "1:mli1ed", "media 1 is not a dictionary");
	expect_invalid(f, "Ld", "Xd", "neither 'L' nor 'D'");
	expect_invalid(f, "00000000000010", "0000000000001g", "hex");
	/* A NUL inside a tag. */
	encode_sig(f, c, 0x1000, 7, false);
	*(char *)memmem(f->val, f->len, "ft-call-7", 9) = '\0';
	assert_int_equal(apply(f, &f->b, "call-7", "s", f->val, f->len),
	    REC_INVALID);
	assert_non_null(strstr(f->err, "'ft'"));
	/* Nesting past the decoder's depth. */
	encode_sig(f, c, 0x1000, 7, false);
	memset(big, 'l', 200);
	memcpy(big, f->val, REC_HDR_LEN);
	assert_int_equal(apply(f, &f->b, "call-7", "s", big, 200),
	    REC_INVALID);
	/* Oversized, even if it started well. */
	memcpy(big, f->val, f->len);
	memset(big + f->len, ' ', sizeof(big) - f->len);
	assert_int_equal(apply(f, &f->b, "call-7", "s", big, sizeof(big)),
	    REC_INVALID);
	assert_non_null(strstr(f->err, "limit"));
	/* Version 0, a field this relay does not know, a bad call-id. */
	encode_sig(f, c, 0, 7, false);
	assert_int_equal(apply(f, &f->b, "call-7", "s", f->val, f->len),
	    REC_INVALID);
	encode_sig(f, c, 0x1000, 7, false);
	assert_int_equal(apply(f, &f->b, "call-7", "x", f->val, f->len),
	    REC_INVALID);
	assert_int_equal(apply(f, &f->b, "", "s", f->val, f->len),
	    REC_INVALID);
	assert_int_equal(f->b.ncalls, 0);
}

/*
 * What a leg's SDP negotiated ("dt") and what a latch knows ("k") travel
 * with the call; records from relays that did not write them still apply,
 * with the safe defaults: DTLS not negotiated, a latch set by RTP.
 */
static void
test_dtls_and_known(void **state)
{
	struct fix *f = *state;
	struct call *c = make_call(f, "call-9"), *d;
	struct rec_version v = { 0x600, 3 };
	struct leg *l = &c->media[0]->leg[0], *dl;
	union sockaddr_any from;

	l->dtls = true;
	encode_sig(f, c, 0x1000, 7, false);
	assert_non_null(memmem(f->val, f->len, "2:dti1e", 7));
	assert_int_equal(apply(f, &f->b, "call-9", "s", f->val, f->len),
	    REC_APPLIED);
	d = call_find(&f->b, "call-9");
	dl = &d->media[0]->leg[0];
	assert_true(dl->dtls);
	assert_false(d->media[0]->leg[1].dtls);
	assert_false(d->media[1]->leg[0].dtls);
	/* An older relay's record: no "dt" at all. */
	encode_sig(f, c, 0x1001, 7, false);
	patch(f, "2:dti1e", "");
	while (memmem(f->val, f->len, "2:dti0e", 7) != NULL)
		patch(f, "2:dti0e", "");
	assert_null(memmem(f->val, f->len, "2:dt", 4));
	assert_int_equal(apply(f, &f->b, "call-9", "s", f->val, f->len),
	    REC_APPLIED);
	assert_false(dl->dtls);
	/* Present, it must be 0 or 1. */
	encode_sig(f, c, 0x1002, 7, false);
	patch(f, "2:dti1e", "2:dti2e");
	assert_int_equal(apply(f, &f->b, "call-9", "s", f->val, f->len),
	    REC_INVALID);
	assert_non_null(strstr(f->err, "'dt' missing or out of range 0..1"));
	assert_false(dl->dtls);

	/* A latch set by a DTLS handshake: it knows no SSRC, and neither
	 * does the relay it is replicated to. */
	sa(&from, "203.0.113.50:7000");
	assert_int_equal(latch_restore(&l->latch, &from, LATCH_KNOWN_NONE, 0,
	    0, f->err, sizeof(f->err)), 0);
	f->len = rec_encode_latch(l, &v, 99, f->val, sizeof(f->val));
	assert_non_null(memmem(f->val, f->len, "1:ki0e", 6));
	assert_int_equal(apply(f, &f->b, "call-9", "l0.0", f->val, f->len),
	    REC_APPLIED);
	assert_int_equal(dl->latch.state, LATCH_LATCHED);
	assert_int_equal(dl->latch.known, LATCH_KNOWN_NONE);
	assert_true(sa_eq(latch_dest(&dl->latch), &from));
	/* Its first RTP made it known: ZRTP's SSRC, then SSRC and seq. */
	assert_int_equal(latch_restore(&l->latch, &from, LATCH_KNOWN_SSRC,
	    0xabcdef01, 0, f->err, sizeof(f->err)), 0);
	v.ver++;
	f->len = rec_encode_latch(l, &v, 99, f->val, sizeof(f->val));
	assert_int_equal(apply(f, &f->b, "call-9", "l0.0", f->val, f->len),
	    REC_APPLIED);
	assert_int_equal(dl->latch.known, LATCH_KNOWN_SSRC);
	assert_int_equal(dl->latch.ssrc, 0xabcdef01);
	/* An older relay's latch record has no "k": it latched on RTP. */
	assert_int_equal(latch_restore(&l->latch, &from, LATCH_KNOWN_SEQ,
	    0x1234, 99, f->err, sizeof(f->err)), 0);
	v.ver++;
	f->len = rec_encode_latch(l, &v, 99, f->val, sizeof(f->val));
	patch(f, "1:ki2e", "");
	assert_null(memmem(f->val, f->len, "1:k", 3));
	assert_int_equal(apply(f, &f->b, "call-9", "l0.0", f->val, f->len),
	    REC_APPLIED);
	assert_int_equal(dl->latch.known, LATCH_KNOWN_SEQ);
	assert_int_equal(dl->latch.ssrc, 0x1234);
	assert_int_equal(dl->latch.seq, 99);
	/* Present, it must be one of the three. */
	v.ver++;
	f->len = rec_encode_latch(l, &v, 99, f->val, sizeof(f->val));
	patch(f, "1:ki2e", "1:ki3e");
	assert_int_equal(apply(f, &f->b, "call-9", "l0.0", f->val, f->len),
	    REC_INVALID);
	assert_non_null(strstr(f->err, "'k' missing or out of range 0..2"));
	v.ver++;
	f->len = rec_encode_latch(l, &v, 99, f->val, sizeof(f->val));
	patch(f, "1:ki2e", "1:k1:2");
	assert_int_equal(apply(f, &f->b, "call-9", "l0.0", f->val, f->len),
	    REC_INVALID);
	assert_int_equal(dl->latch.known, LATCH_KNOWN_SEQ);
}

/* Random bytes after a valid header: never a crash, never applied. */
static void
test_fuzz(void **state)
{
	struct fix *f = *state;
	struct call *c = make_call(f, "call-8");
	char buf[REC_VALUE_MAX];
	size_t n, i;
	int round;

	encode_sig(f, c, 0x1000, 7, false);
	for (round = 0; round < 5000; round++) {
		n = REC_HDR_LEN + rng() % 512;
		memcpy(buf, f->val, REC_HDR_LEN);
		for (i = REC_HDR_LEN; i < n; i++)
			buf[i] = "dleli0123456789:e"[rng() % 17];
		assert_int_not_equal(apply(f, &f->b, "call-8", "s", buf, n),
		    REC_APPLIED);
		/* Flip one byte of the real record. */
		memcpy(buf, f->val, f->len);
		buf[REC_HDR_LEN + rng() % (f->len - REC_HDR_LEN)] ^=
		    (char)(1 + rng() % 255);
		(void)apply(f, &f->b, "call-8", "s", buf, f->len);
		if (call_find(&f->b, "call-8") != NULL)
			call_delete(&f->b, call_find(&f->b, "call-8"));
	}
	assert_int_equal(f->b.pairs_used, 0);
}

static void
test_event(void **state)
{
	struct rec_event ev;
	char msg[256], err[128];
	size_t n;

	(void)state;
	n = rec_encode_event("c-1", "l3.1", "v\0x", 3, 42, msg, sizeof(msg));
	assert_true(n > 0);
	assert_int_equal(rec_decode_event(msg, n, &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.id, "c-1");
	assert_string_equal(ev.field, "l3.1");
	assert_int_equal(ev.vlen, 3);
	assert_memory_equal(ev.val, "v\0x", 3);
	assert_int_equal(ev.node, 42);
	assert_int_equal(rec_encode_event("c-1", "s", "v", 1, 1, msg, 8), 0);
#define BAD(s, why) do {						\
	assert_int_equal(rec_decode_event(s, sizeof(s) - 1, &ev, err,	\
	    sizeof(err)), -1);						\
	assert_non_null(strstr(err, why));				\
} while (0)
	BAD("l3:c-11:s1:vi1ei2ee", "more than 4");
	BAD("l3:c-11:s1:ve", "3 elements");
	BAD("l3:c-12:zz1:vi1ee", "field name");
	BAD("l3:c-11:si1ei1ee", "not a string");
	BAD("l3:c-11:s1:vi0ee", "node hash");
	BAD("l0:1:s1:vi1ee", "call-id");
	BAD("d1:ai1ee", "not a list");
	BAD("l3:c-1", "event:");
#undef BAD
}

static void
test_fields_and_versions(void **state)
{
	struct rec_field fl;
	struct rec_version a = { 10, 1 }, b = { 10, 2 }, c = { 11, 0 };
	char name[REC_FIELD_MAX];

	(void)state;
	assert_int_equal(rec_field_parse("l7.1", 4, &fl), 0);
	assert_int_equal(fl.kind, REC_LATCH);
	assert_int_equal(fl.media, 7);
	assert_int_equal(fl.side, 1);
	rec_field_name(&fl, name, sizeof(name));
	assert_string_equal(name, "l7.1");
	assert_int_equal(rec_field_parse("l8.0", 4, &fl), -1);
	assert_int_equal(rec_field_parse("l0.2", 4, &fl), -1);
	assert_int_equal(rec_field_parse("s2", 2, &fl), -1);
	assert_int_equal(rec_field_parse("", 0, &fl), -1);
	assert_true(rec_newer(&b, &a));
	assert_false(rec_newer(&a, &b));
	assert_false(rec_newer(&a, &a));
	assert_true(rec_newer(&c, &b));
	assert_int_equal(rec_next_version(&a, 5), 11);
	assert_int_equal(rec_next_version(&a, 500), 500);
	assert_int_not_equal(rec_node_hash("M1"), rec_node_hash("M2"));
	assert_int_not_equal(rec_node_hash(""), 0);
}

/* The allocator hands out only pairs of owned blocks; counts stay right. */
static void
test_blocks(void **state)
{
	struct fix *f = *state;
	struct call_table *t = &f->b;	/* 50 pairs */
	uint16_t p;
	int i;

	assert_int_equal(call_table_use_blocks(t, 16), 0);
	assert_int_equal(t->nblocks, 4);	/* 16+16+16+2 */
	assert_int_equal(call_port_alloc(t), 0);	/* nothing owned */
	call_block_set_owned(t, 2, true);
	assert_int_equal(t->owned_free, 16);
	for (i = 0; i < 16; i++) {
		p = call_port_alloc(t);
		assert_true(p >= 30000 + 2 * 32 && p < 30000 + 2 * 48);
	}
	assert_int_equal(t->owned_free, 0);
	assert_int_equal(call_port_alloc(t), 0);
	/* Another relay's call in block 3 claims its port here. */
	assert_int_equal(call_port_claim(t, 30098), 0);
	assert_int_equal(call_port_claim(t, 30098), -1);
	assert_int_equal(call_port_claim(t, 30097), -1);
	assert_int_equal(call_port_claim(t, 30100), -1);
	call_block_set_owned(t, 3, true);
	assert_int_equal(call_block_free_pairs(t, 3), 1);
	assert_int_equal(t->owned_free, 1);
	assert_int_equal(call_port_alloc(t), 30096);
	call_port_free(t, 30070);
	assert_int_equal(t->owned_free, 1);
	call_block_set_owned(t, 2, false);
	assert_int_equal(t->owned_free, 0);
	call_port_free(t, 30072);	/* not owned: count unchanged */
	assert_int_equal(t->owned_free, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sig_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sig_optional_keys,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sig_update_media, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tombstone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tomb_table, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_latch_and_activity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_conflict, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dtls_and_known, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_fields_and_versions),
		cmocka_unit_test_setup_teardown(test_blocks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
