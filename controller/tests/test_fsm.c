/*
 * Service state machine: each transition with its reason, rise/fall,
 * definite failures, hold-down, drain and undrain, restore, and a seeded
 * random run checked against an independent model of what may be announced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "controller/fsm.h"

#define MS	1000ULL
#define SEC	1000000ULL

static char err[256];
static char line[256];
static struct fsm_service svc;
static struct fsm_transition tr;

/* Two checks, rise 2 fall 2, hold-down 5 s, drain timeout 30 s. */
static void
setup_svc(uint64_t hold_us, uint64_t now_us)
{
	struct fsm_config cfg = { .hold_down_us = hold_us,
	    .drain_timeout_us = 30 * SEC };
	struct fsm_check_config cc[2] = { { 2, 2 }, { 2, 2 } };

	assert_int_equal(fsm_init(&svc, &cfg, cc, 2, now_us, err,
	    sizeof(err)), 0);
	memset(&tr, 0xa5, sizeof(tr));
}

static void
expect_tr(enum fsm_state from, enum fsm_state to, enum fsm_reason why,
    int check, const char *text)
{
	assert_int_equal(tr.from, from);
	assert_int_equal(tr.to, to);
	assert_int_equal(tr.reason, why);
	assert_int_equal(tr.check, check);
	assert_int_equal(svc.state, to);
	assert_string_equal(fsm_transition_fmt(&tr, "probe", line,
	    sizeof(line)), text);
}

/* Both checks from UNKNOWN to UP at now_us; returns with svc UP. */
static void
bring_up(uint64_t now_us)
{
	assert_false(fsm_check(&svc, 0, true, false, now_us, &tr));
	assert_false(fsm_check(&svc, 0, true, false, now_us, &tr));
	assert_false(fsm_check(&svc, 1, true, false, now_us, &tr));
	assert_true(fsm_check(&svc, 1, true, false, now_us, &tr));
	expect_tr(FSM_DOWN, FSM_UP, FSM_REASON_CHECKS_UP, -1,
	    "state change down -> up, reason: all checks up");
}

/* Check 1 fails twice (fall 2): the second failure is the fall. */
static bool
fall_check1(uint64_t now_us)
{
	assert_false(fsm_check(&svc, 1, false, false, now_us, &tr));
	return fsm_check(&svc, 1, false, false, now_us, &tr);
}

static bool
rise_check1(uint64_t now_us)
{
	assert_false(fsm_check(&svc, 1, true, false, now_us, &tr));
	return fsm_check(&svc, 1, true, false, now_us, &tr);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(fsm_state_name(FSM_DOWN), "down");
	assert_string_equal(fsm_state_name(FSM_UP), "up");
	assert_string_equal(fsm_state_name(FSM_DRAINING), "draining");
	assert_string_equal(fsm_state_name(FSM_DRAINED), "drained");
	assert_string_equal(fsm_state_name(FSM_STATE_MAX), "unknown");
	assert_string_equal(fsm_state_name((enum fsm_state)-1), "unknown");
	assert_string_equal(fsm_check_state_name(FSM_CHECK_UNKNOWN),
	    "unknown");
	assert_string_equal(fsm_check_state_name(FSM_CHECK_UP), "up");
	assert_string_equal(fsm_check_state_name(FSM_CHECK_DOWN), "down");
	assert_string_equal(fsm_check_state_name(FSM_CHECK_STATE_MAX),
	    "unknown");
	assert_string_equal(fsm_reason_name(FSM_REASON_NONE), "none");
	assert_string_equal(fsm_reason_name(FSM_REASON_RESTORED),
	    "drained state restored");
	assert_string_equal(fsm_reason_name(FSM_REASON_MAX), "unknown");
	assert_string_equal(fsm_announce_name(FSM_ANN_WITHDRAWN),
	    "withdrawn");
	assert_string_equal(fsm_announce_name(FSM_ANN_NORMAL), "normal");
	assert_string_equal(fsm_announce_name(FSM_ANN_GSHUT),
	    "graceful-shutdown");
	assert_string_equal(fsm_announce_name(FSM_ANN_MAX), "unknown");
}

static void
expect_init_err(const struct fsm_check_config *cc, size_t n,
    const char *msg)
{
	struct fsm_config cfg = { 0, 0 };

	err[0] = '\0';
	assert_int_equal(fsm_init(&svc, &cfg, cc, n, 0, err, sizeof(err)),
	    -1);
	assert_string_equal(err, msg);
}

static void
test_init_errors(void **state)
{
	struct fsm_check_config cc[FSM_CHECKS_MAX + 1];
	struct fsm_config cfg = { 0, 0 };
	size_t i;

	(void)state;
	for (i = 0; i < FSM_CHECKS_MAX + 1; i++) {
		cc[i].rise = 1;
		cc[i].fall = 1;
	}
	expect_init_err(cc, 0, "service has no checks");
	expect_init_err(cc, FSM_CHECKS_MAX + 1,
	    "too many checks (17, at most 16)");
	cc[3].rise = 0;
	expect_init_err(cc, 4, "check 3: rise must be at least 1");
	cc[3].rise = 1;
	cc[0].fall = 0;
	expect_init_err(cc, 1, "check 0: fall must be at least 1");
	cc[0].fall = 1;
	assert_int_equal(fsm_init(&svc, &cfg, cc, FSM_CHECKS_MAX, 7, err,
	    sizeof(err)), 0);
	assert_int_equal(svc.state, FSM_DOWN);
	assert_int_equal(svc.since_us, 7);
	assert_false(svc.healthy);
	for (i = 0; i < FSM_CHECKS_MAX; i++)
		assert_int_equal(svc.checks[i].state, FSM_CHECK_UNKNOWN);
	assert_int_equal(fsm_announce(&svc), FSM_ANN_WITHDRAWN);
}

static void
test_check_rise_fall(void **state)
{
	struct fsm_check c;

	(void)state;
	fsm_check_init(&c, 3, 2);
	assert_int_equal(c.state, FSM_CHECK_UNKNOWN);
	assert_false(fsm_check_result(&c, true, false));
	assert_false(fsm_check_result(&c, true, false));
	assert_true(fsm_check_result(&c, true, false));	/* 3rd: rise */
	assert_int_equal(c.state, FSM_CHECK_UP);
	assert_false(fsm_check_result(&c, true, false));
	assert_false(fsm_check_result(&c, false, false));
	assert_false(fsm_check_result(&c, true, false));	/* resets */
	assert_false(fsm_check_result(&c, false, false));
	assert_int_equal(c.state, FSM_CHECK_UP);
	assert_true(fsm_check_result(&c, false, false));	/* 2nd: fall */
	assert_int_equal(c.state, FSM_CHECK_DOWN);
	assert_false(fsm_check_result(&c, false, false));
	assert_false(fsm_check_result(&c, true, false));
	assert_false(fsm_check_result(&c, true, false));
	assert_false(fsm_check_result(&c, false, false));	/* resets */
	assert_false(fsm_check_result(&c, true, false));
	assert_false(fsm_check_result(&c, true, false));
	assert_true(fsm_check_result(&c, true, false));
	assert_int_equal(c.state, FSM_CHECK_UP);

	/* A definite failure skips fall; a "definite" success does not
	 * skip rise. */
	assert_true(fsm_check_result(&c, false, true));
	assert_int_equal(c.state, FSM_CHECK_DOWN);
	assert_false(fsm_check_result(&c, false, true));
	assert_false(fsm_check_result(&c, true, true));
	assert_false(fsm_check_result(&c, true, true));
	assert_true(fsm_check_result(&c, true, true));

	/* UNKNOWN goes DOWN on its first failure. */
	fsm_check_init(&c, 3, 2);
	assert_true(fsm_check_result(&c, false, false));
	assert_int_equal(c.state, FSM_CHECK_DOWN);

	/* rise/fall 0 act as 1. */
	fsm_check_init(&c, 0, 0);
	assert_int_equal(c.rise, 1);
	assert_int_equal(c.fall, 1);
	assert_true(fsm_check_result(&c, true, false));
	assert_true(fsm_check_result(&c, false, false));
}

static void
test_up_down(void **state)
{
	(void)state;
	setup_svc(0, 0);
	bring_up(10);
	assert_int_equal(svc.since_us, 10);
	assert_int_equal(fsm_announce(&svc), FSM_ANN_NORMAL);
	assert_false(fsm_next_deadline(&svc, &(uint64_t){ 0 }));
	/* One lost probe is not a fall. */
	assert_false(fsm_check(&svc, 1, false, false, 20, &tr));
	assert_false(fsm_check(&svc, 1, true, false, 30, &tr));
	assert_true(fall_check1(40));
	expect_tr(FSM_UP, FSM_DOWN, FSM_REASON_CHECK_DOWN, 1,
	    "state change up -> down, reason: check down (probe)");
	assert_string_equal(fsm_transition_fmt(&tr, NULL, line,
	    sizeof(line)), "state change up -> down, reason: check down");
	assert_int_equal(svc.since_us, 40);
	assert_int_equal(fsm_announce(&svc), FSM_ANN_WITHDRAWN);
	/* The other check falling too changes nothing more. */
	assert_false(fsm_check(&svc, 0, false, false, 50, &tr));
	assert_false(fsm_check(&svc, 0, false, false, 50, &tr));
	assert_int_equal(svc.checks[0].state, FSM_CHECK_DOWN);
	assert_false(rise_check1(60));
	assert_int_equal(svc.state, FSM_DOWN);
	assert_false(fsm_check(&svc, 0, true, false, 70, &tr));
	assert_true(fsm_check(&svc, 0, true, false, 80, &tr));
	expect_tr(FSM_DOWN, FSM_UP, FSM_REASON_CHECKS_UP, -1,
	    "state change down -> up, reason: all checks up");
	/* Out-of-range index: ignored. */
	assert_false(fsm_check(&svc, 2, false, true, 90, &tr));
	assert_false(fsm_check(&svc, SIZE_MAX, false, true, 90, &tr));
	assert_int_equal(svc.state, FSM_UP);
	/* Ticks do nothing while UP. */
	assert_false(fsm_tick(&svc, 100 * SEC, &tr));
}

static void
test_definite(void **state)
{
	(void)state;
	setup_svc(0, 0);
	bring_up(0);
	assert_true(fsm_check(&svc, 0, false, true, 5, &tr));
	expect_tr(FSM_UP, FSM_DOWN, FSM_REASON_CHECK_DEAD, 0,
	    "state change up -> down, reason: check failed definitely "
	    "(probe)");
	/* Not announced before every check has risen at start either. */
	setup_svc(0, 0);
	assert_false(fsm_check(&svc, 0, true, false, 0, &tr));
	assert_false(fsm_check(&svc, 0, true, false, 0, &tr));
	assert_int_equal(fsm_announce(&svc), FSM_ANN_WITHDRAWN);
	assert_false(fsm_check(&svc, 1, false, true, 0, &tr));
	assert_int_equal(svc.state, FSM_DOWN);
}

static void
test_hold_down(void **state)
{
	uint64_t when;

	(void)state;
	setup_svc(5 * SEC, 0);
	/* The first UP after start is not delayed by the hold-down. */
	bring_up(0);
	assert_true(fall_check1(1 * SEC));
	expect_tr(FSM_UP, FSM_DOWN, FSM_REASON_CHECK_DOWN, 1,
	    "state change up -> down, reason: check down (probe)");
	/* Unhealthy: no deadline to wake for. */
	assert_false(fsm_next_deadline(&svc, &when));
	/* Healthy again within the hold-down: stays DOWN. */
	assert_false(rise_check1(2 * SEC));
	assert_true(svc.healthy);
	assert_int_equal(svc.state, FSM_DOWN);
	assert_int_equal(fsm_announce(&svc), FSM_ANN_WITHDRAWN);
	assert_true(fsm_next_deadline(&svc, &when));
	assert_int_equal(when, 6 * SEC);
	/* Flaps again: the hold-down restarts from the new fall. */
	assert_false(fall_check1(3 * SEC));
	assert_false(rise_check1(4 * SEC));
	assert_true(fsm_next_deadline(&svc, &when));
	assert_int_equal(when, 8 * SEC);
	assert_false(fsm_tick(&svc, 6 * SEC, &tr));
	assert_false(fsm_tick(&svc, 8 * SEC - 1, &tr));
	assert_int_equal(svc.state, FSM_DOWN);
	assert_true(fsm_tick(&svc, 8 * SEC, &tr));
	expect_tr(FSM_DOWN, FSM_UP, FSM_REASON_HOLD_DOWN_EXPIRED, -1,
	    "state change down -> up, reason: hold-down expired");
	assert_int_equal(fsm_announce(&svc), FSM_ANN_NORMAL);
	assert_false(fsm_next_deadline(&svc, &when));

	/* Healthy again only after the hold-down: UP at once. */
	assert_true(fall_check1(10 * SEC));
	assert_true(rise_check1(15 * SEC));
	expect_tr(FSM_DOWN, FSM_UP, FSM_REASON_CHECKS_UP, -1,
	    "state change down -> up, reason: all checks up");

	/* A clock that goes backwards keeps the hold. */
	assert_true(fall_check1(20 * SEC));
	assert_false(rise_check1(20 * SEC));
	assert_false(fsm_tick(&svc, 19 * SEC, &tr));
	assert_int_equal(svc.state, FSM_DOWN);

	/* A hold-down so long the deadline would overflow. */
	setup_svc(UINT64_MAX, 0);
	bring_up(0);
	assert_true(fall_check1(SEC));
	assert_false(rise_check1(2 * SEC));
	assert_true(fsm_next_deadline(&svc, &when));
	assert_int_equal(when, UINT64_MAX);
	assert_false(fsm_tick(&svc, UINT64_MAX - 1, &tr));
}

static void
test_drain_done(void **state)
{
	uint64_t when;

	(void)state;
	setup_svc(0, 0);
	bring_up(0);
	assert_false(fsm_drain_done(&svc, 1, &tr));	/* not draining */
	assert_true(fsm_drain(&svc, 100 * SEC, &tr));
	expect_tr(FSM_UP, FSM_DRAINING, FSM_REASON_ADMIN_DRAIN, -1,
	    "state change up -> draining, reason: admin drain");
	assert_int_equal(fsm_announce(&svc), FSM_ANN_GSHUT);
	assert_true(fsm_next_deadline(&svc, &when));
	assert_int_equal(when, 130 * SEC);
	assert_false(fsm_drain(&svc, 101 * SEC, &tr));	/* idempotent */
	assert_int_equal(svc.drain_start_us, 100 * SEC);
	assert_false(fsm_tick(&svc, 110 * SEC, &tr));
	assert_true(fsm_drain_done(&svc, 112 * SEC, &tr));
	expect_tr(FSM_DRAINING, FSM_DRAINED, FSM_REASON_DRAIN_DONE, -1,
	    "state change draining -> drained, reason: traffic drained");
	assert_int_equal(fsm_announce(&svc), FSM_ANN_WITHDRAWN);
	assert_false(fsm_next_deadline(&svc, &when));
	assert_false(fsm_drain_done(&svc, 113 * SEC, &tr));
	assert_false(fsm_drain(&svc, 114 * SEC, &tr));
	assert_false(fsm_tick(&svc, 200 * SEC, &tr));
	assert_int_equal(svc.state, FSM_DRAINED);
}

static void
test_drain_timeout(void **state)
{
	(void)state;
	setup_svc(0, 0);
	bring_up(0);
	assert_true(fsm_drain(&svc, 10 * SEC, &tr));
	assert_false(fsm_tick(&svc, 40 * SEC - 1, &tr));
	assert_int_equal(svc.state, FSM_DRAINING);
	assert_false(fsm_tick(&svc, 5 * SEC, &tr));	/* clock backwards */
	assert_true(fsm_tick(&svc, 40 * SEC, &tr));
	expect_tr(FSM_DRAINING, FSM_DRAINED, FSM_REASON_DRAIN_TIMEOUT, -1,
	    "state change draining -> drained, reason: drain timeout");
	assert_int_equal(fsm_announce(&svc), FSM_ANN_WITHDRAWN);
}

static void
test_undrain(void **state)
{
	(void)state;
	setup_svc(5 * SEC, 0);
	assert_false(fsm_undrain(&svc, 0, &tr));	/* DOWN: no-op */
	bring_up(0);
	assert_false(fsm_undrain(&svc, 0, &tr));	/* UP: no-op */
	/* Undrain while draining: straight back to UP. */
	assert_true(fsm_drain(&svc, 1 * SEC, &tr));
	assert_true(fsm_undrain(&svc, 2 * SEC, &tr));
	expect_tr(FSM_DRAINING, FSM_UP, FSM_REASON_ADMIN_UNDRAIN, -1,
	    "state change draining -> up, reason: admin undrain");
	assert_int_equal(fsm_announce(&svc), FSM_ANN_NORMAL);
	/* Drained and healthy: UP. */
	assert_true(fsm_drain(&svc, 3 * SEC, &tr));
	assert_true(fsm_drain_done(&svc, 4 * SEC, &tr));
	assert_true(fsm_undrain(&svc, 5 * SEC, &tr));
	expect_tr(FSM_DRAINED, FSM_UP, FSM_REASON_ADMIN_UNDRAIN, -1,
	    "state change drained -> up, reason: admin undrain");
	/* Drained and unhealthy: DOWN, then UP once healthy. */
	assert_true(fsm_drain(&svc, 6 * SEC, &tr));
	assert_true(fsm_drain_done(&svc, 7 * SEC, &tr));
	assert_false(fall_check1(8 * SEC));
	assert_int_equal(svc.state, FSM_DRAINED);
	assert_true(fsm_undrain(&svc, 9 * SEC, &tr));
	expect_tr(FSM_DRAINED, FSM_DOWN, FSM_REASON_ADMIN_UNDRAIN, -1,
	    "state change drained -> down, reason: admin undrain");
	/* The fall while drained started a hold-down (until 13 s). */
	assert_false(rise_check1(10 * SEC));
	assert_int_equal(svc.state, FSM_DOWN);
	assert_true(fsm_tick(&svc, 13 * SEC, &tr));
	expect_tr(FSM_DOWN, FSM_UP, FSM_REASON_HOLD_DOWN_EXPIRED, -1,
	    "state change down -> up, reason: hold-down expired");
	/* Drained, healthy again but within the hold-down: DOWN. */
	assert_true(fsm_drain(&svc, 20 * SEC, &tr));
	assert_true(fsm_drain_done(&svc, 21 * SEC, &tr));
	assert_false(fall_check1(22 * SEC));
	assert_false(rise_check1(23 * SEC));
	assert_true(fsm_undrain(&svc, 24 * SEC, &tr));
	expect_tr(FSM_DRAINED, FSM_DOWN, FSM_REASON_ADMIN_UNDRAIN, -1,
	    "state change drained -> down, reason: admin undrain");
	assert_false(fsm_tick(&svc, 26 * SEC, &tr));
	assert_true(fsm_tick(&svc, 27 * SEC, &tr));
	assert_int_equal(svc.state, FSM_UP);
}

static void
test_drain_while_down(void **state)
{
	(void)state;
	setup_svc(0, 0);
	assert_true(fsm_drain(&svc, 1, &tr));
	expect_tr(FSM_DOWN, FSM_DRAINED, FSM_REASON_ADMIN_DRAIN, -1,
	    "state change down -> drained, reason: admin drain");
	/* Checks rising while drained announce nothing. */
	assert_false(fsm_check(&svc, 0, true, false, 2, &tr));
	assert_false(fsm_check(&svc, 0, true, false, 2, &tr));
	assert_false(rise_check1(3));
	assert_true(svc.healthy);
	assert_int_equal(svc.state, FSM_DRAINED);
	assert_int_equal(fsm_announce(&svc), FSM_ANN_WITHDRAWN);
	assert_true(fsm_undrain(&svc, 4, &tr));
	expect_tr(FSM_DRAINED, FSM_UP, FSM_REASON_ADMIN_UNDRAIN, -1,
	    "state change drained -> up, reason: admin undrain");
}

static void
test_health_loss_while_draining(void **state)
{
	(void)state;
	setup_svc(5 * SEC, 0);
	bring_up(0);
	assert_true(fsm_drain(&svc, 1 * SEC, &tr));
	assert_true(fall_check1(2 * SEC));
	expect_tr(FSM_DRAINING, FSM_DRAINED, FSM_REASON_CHECK_DOWN, 1,
	    "state change draining -> drained, reason: check down (probe)");
	assert_int_equal(fsm_announce(&svc), FSM_ANN_WITHDRAWN);
	/* Healthy again: still drained, not UP. */
	assert_false(rise_check1(3 * SEC));
	assert_int_equal(svc.state, FSM_DRAINED);
	assert_false(fsm_tick(&svc, 100 * SEC, &tr));
	/* A definite failure while draining also withdraws at once. */
	setup_svc(0, 0);
	bring_up(0);
	assert_true(fsm_drain(&svc, 1, &tr));
	assert_true(fsm_check(&svc, 0, false, true, 2, &tr));
	expect_tr(FSM_DRAINING, FSM_DRAINED, FSM_REASON_CHECK_DEAD, 0,
	    "state change draining -> drained, reason: check failed "
	    "definitely (probe)");
}

static void
test_restore(void **state)
{
	(void)state;
	setup_svc(5 * SEC, 0);
	assert_true(fsm_restore_drained(&svc, 1, &tr));
	expect_tr(FSM_DOWN, FSM_DRAINED, FSM_REASON_RESTORED, -1,
	    "state change down -> drained, reason: drained state restored");
	assert_false(fsm_restore_drained(&svc, 2, &tr));
	assert_false(fsm_check(&svc, 0, true, false, 3, &tr));
	assert_false(fsm_check(&svc, 0, true, false, 3, &tr));
	assert_false(rise_check1(4));
	assert_int_equal(fsm_announce(&svc), FSM_ANN_WITHDRAWN);
	/* No fall happened, so no hold-down either. */
	assert_true(fsm_undrain(&svc, 5, &tr));
	expect_tr(FSM_DRAINED, FSM_UP, FSM_REASON_ADMIN_UNDRAIN, -1,
	    "state change drained -> up, reason: admin undrain");
}

/* Seeded xorshift64*, so a failure reproduces. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

/* An independent model of one check, written from the contract. */
struct model_check {
	unsigned int		rise, fall, oks, fails;
	enum fsm_check_state	st;
};

static void
model_result(struct model_check *m, bool ok, bool definite)
{
	if (ok) {
		m->fails = 0;
		m->oks++;
		if (m->st != FSM_CHECK_UP && m->oks >= m->rise)
			m->st = FSM_CHECK_UP;
		if (m->st == FSM_CHECK_UP)
			m->oks = 0;
		return;
	}
	m->oks = 0;
	m->fails++;
	if (m->st == FSM_CHECK_UNKNOWN || definite || m->fails >= m->fall)
		m->st = FSM_CHECK_DOWN;
	if (m->st == FSM_CHECK_DOWN)
		m->fails = 0;
}

#define NCHK	3
#define HOLD	(50 * MS)
#define DTMO	(40 * MS)

static void
test_random(void **state)
{
	struct fsm_config cfg = { .hold_down_us = HOLD,
	    .drain_timeout_us = DTMO };
	struct fsm_check_config cc[NCHK] = { { 1, 1 }, { 2, 3 }, { 3, 2 } };
	struct model_check m[NCHK];
	unsigned int seen[FSM_STATE_MAX][FSM_STATE_MAX];
	unsigned int reasons[FSM_REASON_MAX];
	unsigned int anns[FSM_ANN_MAX];
	uint64_t now = 1000 * SEC, fell_at = 0, drain_start = 0, when;
	bool fell = false, admin = false, healthy, was_healthy = false;
	bool held, changed;
	enum fsm_state before;
	enum fsm_announce ann;
	int i, k, ev;

	(void)state;
	memset(seen, 0, sizeof(seen));
	memset(reasons, 0, sizeof(reasons));
	memset(anns, 0, sizeof(anns));
	assert_int_equal(fsm_init(&svc, &cfg, cc, NCHK, now, err,
	    sizeof(err)), 0);
	for (k = 0; k < NCHK; k++) {
		m[k] = (struct model_check){ .rise = cc[k].rise,
		    .fall = cc[k].fall, .st = FSM_CHECK_UNKNOWN };
	}

	for (i = 0; i < 10000; i++) {
		now += rnd(4) == 0 ? 0 : rnd(20 * MS);
		/* A real caller ticks at every deadline it was given. */
		if (fsm_next_deadline(&svc, &when) && when <= now) {
			before = svc.state;
			if (fsm_tick(&svc, now, &tr)) {
				assert_int_equal(tr.from, before);
				seen[tr.from][tr.to]++;
				reasons[tr.reason]++;
			}
		}
		if (fsm_next_deadline(&svc, &when))
			assert_true(when > now);

		before = svc.state;
		memset(&tr, 0xa5, sizeof(tr));
		ev = (int)rnd(100);
		k = (int)rnd(NCHK);
		if (ev < 45) {
			changed = fsm_check(&svc, (size_t)k, true, false, now,
			    &tr);
			model_result(&m[k], true, false);
		} else if (ev < 70) {
			changed = fsm_check(&svc, (size_t)k, false, false, now,
			    &tr);
			model_result(&m[k], false, false);
		} else if (ev < 73) {
			changed = fsm_check(&svc, (size_t)k, false, true, now,
			    &tr);
			model_result(&m[k], false, true);
		} else if (ev < 77) {
			changed = fsm_drain(&svc, now, &tr);
			if (before == FSM_UP)
				drain_start = now;
			admin = true;
		} else if (ev < 82) {
			changed = fsm_undrain(&svc, now, &tr);
			admin = false;
		} else if (ev < 84) {
			changed = fsm_drain_done(&svc, now, &tr);
		} else if (ev < 87) {
			changed = fsm_restore_drained(&svc, now, &tr);
			admin = true;
		} else
			changed = fsm_tick(&svc, now, &tr);

		/* A transition is reported exactly when the state changed. */
		assert_int_equal(changed, svc.state != before);
		if (changed) {
			assert_int_equal(tr.from, before);
			assert_int_equal(tr.to, svc.state);
			assert_true(tr.reason > FSM_REASON_NONE &&
			    tr.reason < FSM_REASON_MAX);
			assert_int_equal(svc.since_us, now);
			seen[tr.from][tr.to]++;
			reasons[tr.reason]++;
		}

		healthy = true;
		for (k = 0; k < NCHK; k++) {
			assert_int_equal(svc.checks[k].state, m[k].st);
			if (m[k].st != FSM_CHECK_UP)
				healthy = false;
		}
		if (was_healthy && !healthy) {
			fell = true;
			fell_at = now;
		}
		was_healthy = healthy;
		held = fell && now - fell_at < HOLD;

		ann = fsm_announce(&svc);
		anns[ann]++;
		/* NORMAL exactly when healthy, not drained, not held. */
		assert_int_equal(ann == FSM_ANN_NORMAL,
		    healthy && !admin && !held);
		/* GSHUT only while draining a healthy relay, in time. */
		if (ann == FSM_ANN_GSHUT) {
			assert_true(admin && healthy);
			assert_true(now - drain_start < DTMO);
		}
		/* The admin drain is the state, nothing hidden. */
		assert_int_equal(admin, svc.state == FSM_DRAINING ||
		    svc.state == FSM_DRAINED);
	}

	/* The run must have exercised every edge of the table. */
	assert_true(seen[FSM_DOWN][FSM_UP] > 0);
	assert_true(seen[FSM_DOWN][FSM_DRAINED] > 0);
	assert_true(seen[FSM_UP][FSM_DOWN] > 0);
	assert_true(seen[FSM_UP][FSM_DRAINING] > 0);
	assert_true(seen[FSM_UP][FSM_DRAINED] > 0);	/* restore */
	assert_true(seen[FSM_DRAINING][FSM_DRAINED] > 0);
	assert_true(seen[FSM_DRAINING][FSM_UP] > 0);
	assert_true(seen[FSM_DRAINED][FSM_UP] > 0);
	assert_true(seen[FSM_DRAINED][FSM_DOWN] > 0);
	for (k = FSM_REASON_NONE + 1; k < FSM_REASON_MAX; k++) {
		if (reasons[k] == 0)
			print_message("reason '%s' never seen\n",
			    fsm_reason_name((enum fsm_reason)k));
		assert_true(reasons[k] > 0);
	}
	for (k = 0; k < FSM_ANN_MAX; k++)
		assert_true(anns[k] > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_check_rise_fall),
		cmocka_unit_test(test_up_down),
		cmocka_unit_test(test_definite),
		cmocka_unit_test(test_hold_down),
		cmocka_unit_test(test_drain_done),
		cmocka_unit_test(test_drain_timeout),
		cmocka_unit_test(test_undrain),
		cmocka_unit_test(test_drain_while_down),
		cmocka_unit_test(test_health_loss_while_draining),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
