/*
 * Service state machine (see controller/fsm.h for the states and the
 * transition table). Each input is a switch on the state; set_state() is
 * the only place the state changes, so every change fills exactly one
 * transition for the caller to log.
 */
#include "controller/fsm.h"

#include <stdio.h>
#include <string.h>

const char *const fsm_check_state_names[] = {
	[FSM_CHECK_UNKNOWN] = "unknown",
	[FSM_CHECK_UP] = "up",
	[FSM_CHECK_DOWN] = "down",
};

const char *const fsm_state_names[] = {
	[FSM_DOWN] = "down",
	[FSM_UP] = "up",
	[FSM_DRAINING] = "draining",
	[FSM_DRAINED] = "drained",
};

const char *const fsm_reason_names[] = {
	[FSM_REASON_NONE] = "none",
	[FSM_REASON_CHECKS_UP] = "all checks up",
	[FSM_REASON_CHECK_DOWN] = "check down",
	[FSM_REASON_CHECK_DEAD] = "check failed definitely",
	[FSM_REASON_HOLD_DOWN_EXPIRED] = "hold-down expired",
	[FSM_REASON_ADMIN_DRAIN] = "admin drain",
	[FSM_REASON_ADMIN_UNDRAIN] = "admin undrain",
	[FSM_REASON_DRAIN_DONE] = "traffic drained",
	[FSM_REASON_DRAIN_TIMEOUT] = "drain timeout",
	[FSM_REASON_RESTORED] = "drained state restored",
};

const char *const fsm_announce_names[] = {
	[FSM_ANN_WITHDRAWN] = "withdrawn",
	[FSM_ANN_NORMAL] = "normal",
	[FSM_ANN_GSHUT] = "graceful-shutdown",
};

static bool	fsm_set_state(struct fsm_service *, enum fsm_state,
		    enum fsm_reason, int, uint64_t, struct fsm_transition *);
static bool	fsm_all_up(const struct fsm_service *);
static bool	fsm_held(const struct fsm_service *, uint64_t);
static bool	fsm_health_changed(struct fsm_service *, size_t, bool,
		    uint64_t, struct fsm_transition *);

const char *
fsm_check_state_name(enum fsm_check_state st)
{
	if ((unsigned int)st >= FSM_CHECK_STATE_MAX)
		return "unknown";
	return fsm_check_state_names[st];
}

const char *
fsm_state_name(enum fsm_state st)
{
	if ((unsigned int)st >= FSM_STATE_MAX)
		return "unknown";
	return fsm_state_names[st];
}

const char *
fsm_reason_name(enum fsm_reason r)
{
	if ((unsigned int)r >= FSM_REASON_MAX)
		return "unknown";
	return fsm_reason_names[r];
}

const char *
fsm_announce_name(enum fsm_announce a)
{
	if ((unsigned int)a >= FSM_ANN_MAX)
		return "unknown";
	return fsm_announce_names[a];
}

void
fsm_check_init(struct fsm_check *c, unsigned int rise, unsigned int fall)
{
	memset(c, 0, sizeof(*c));
	c->rise = rise > 0 ? rise : 1;
	c->fall = fall > 0 ? fall : 1;
	c->state = FSM_CHECK_UNKNOWN;
}

bool
fsm_check_result(struct fsm_check *c, bool ok, bool definite)
{
	enum fsm_check_state old = c->state;

	if (ok) {
		c->fail_run = 0;
		if (c->state != FSM_CHECK_UP && ++c->ok_run >= c->rise) {
			c->state = FSM_CHECK_UP;
			c->ok_run = 0;
		}
	} else {
		c->ok_run = 0;
		/*
		 * Hysteresis protects an announcement against one lost
		 * probe; an UNKNOWN check has none to protect, and a dead
		 * process is not a lost probe.
		 */
		if (c->state != FSM_CHECK_DOWN &&
		    (definite || c->state == FSM_CHECK_UNKNOWN ||
		    ++c->fail_run >= c->fall)) {
			c->state = FSM_CHECK_DOWN;
			c->fail_run = 0;
		}
	}
	return c->state != old;
}

int
fsm_init(struct fsm_service *s, const struct fsm_config *cfg,
    const struct fsm_check_config *checks, size_t nchecks, uint64_t now_us,
    char *err, size_t errlen)
{
	size_t i;

	if (nchecks == 0) {
		snprintf(err, errlen, "service has no checks");
		return -1;
	}
	if (nchecks > FSM_CHECKS_MAX) {
		snprintf(err, errlen, "too many checks (%zu, at most %d)",
		    nchecks, FSM_CHECKS_MAX);
		return -1;
	}
	for (i = 0; i < nchecks; i++) {
		if (checks[i].rise == 0) {
			snprintf(err, errlen, "check %zu: rise must be at "
			    "least 1", i);
			return -1;
		}
		if (checks[i].fall == 0) {
			snprintf(err, errlen, "check %zu: fall must be at "
			    "least 1", i);
			return -1;
		}
	}
	memset(s, 0, sizeof(*s));
	s->state = FSM_DOWN;
	s->since_us = now_us;
	s->hold_down_us = cfg->hold_down_us;
	s->drain_timeout_us = cfg->drain_timeout_us;
	s->nchecks = nchecks;
	for (i = 0; i < nchecks; i++)
		fsm_check_init(&s->checks[i], checks[i].rise, checks[i].fall);
	return 0;
}

/* The single place the state changes; no-op (false) when it would not. */
static bool
fsm_set_state(struct fsm_service *s, enum fsm_state to, enum fsm_reason why,
    int check, uint64_t now_us, struct fsm_transition *tr)
{
	if (s->state == to)
		return false;
	tr->from = s->state;
	tr->to = to;
	tr->reason = why;
	tr->check = check;
	s->state = to;
	s->since_us = now_us;
	return true;
}

static bool
fsm_all_up(const struct fsm_service *s)
{
	size_t i;

	for (i = 0; i < s->nchecks; i++)
		if (s->checks[i].state != FSM_CHECK_UP)
			return false;
	return true;
}

/*
 * In hold-down: a fall happened less than hold_down_us ago. Written as a
 * difference so a huge hold_down_us cannot overflow; a clock that went
 * backwards (caller bug) keeps the hold rather than lifting it.
 */
static bool
fsm_held(const struct fsm_service *s, uint64_t now_us)
{
	if (!s->fell || s->hold_down_us == 0)
		return false;
	if (now_us < s->fell_us)
		return true;
	return now_us - s->fell_us < s->hold_down_us;
}

/* s->healthy has just flipped because of check idx. */
static bool
fsm_health_changed(struct fsm_service *s, size_t idx, bool definite,
    uint64_t now_us, struct fsm_transition *tr)
{
	enum fsm_reason why;

	if (s->healthy) {
		if (s->state == FSM_DOWN && !fsm_held(s, now_us))
			return fsm_set_state(s, FSM_UP, FSM_REASON_CHECKS_UP,
			    -1, now_us, tr);
		/* Held DOWN: fsm_tick() lifts it. DRAINED: stays withdrawn. */
		return false;
	}

	s->fell = true;
	s->fell_us = now_us;
	why = definite ? FSM_REASON_CHECK_DEAD : FSM_REASON_CHECK_DOWN;
	switch (s->state) {
	case FSM_UP:
		return fsm_set_state(s, FSM_DOWN, why, (int)idx, now_us, tr);
	case FSM_DRAINING:
		/* The relay no longer serves: nothing left to wait for. */
		return fsm_set_state(s, FSM_DRAINED, why, (int)idx, now_us,
		    tr);
	case FSM_DOWN:
	case FSM_DRAINED:
	default:
		return false;
	}
}

bool
fsm_check(struct fsm_service *s, size_t idx, bool ok, bool definite,
    uint64_t now_us, struct fsm_transition *tr)
{
	bool was;

	if (idx >= s->nchecks)
		return false;
	if (!fsm_check_result(&s->checks[idx], ok, definite))
		return false;
	was = s->healthy;
	s->healthy = fsm_all_up(s);
	if (s->healthy == was)
		return false;
	return fsm_health_changed(s, idx, !ok && definite, now_us, tr);
}

bool
fsm_drain(struct fsm_service *s, uint64_t now_us, struct fsm_transition *tr)
{
	switch (s->state) {
	case FSM_UP:
		s->drain_start_us = now_us;
		return fsm_set_state(s, FSM_DRAINING, FSM_REASON_ADMIN_DRAIN,
		    -1, now_us, tr);
	case FSM_DOWN:
		/* Not announced, so no traffic to move first. */
		return fsm_set_state(s, FSM_DRAINED, FSM_REASON_ADMIN_DRAIN,
		    -1, now_us, tr);
	case FSM_DRAINING:
	case FSM_DRAINED:
	default:
		return false;
	}
}

bool
fsm_undrain(struct fsm_service *s, uint64_t now_us,
    struct fsm_transition *tr)
{
	enum fsm_state to;

	switch (s->state) {
	case FSM_DRAINING:
	case FSM_DRAINED:
		to = s->healthy && !fsm_held(s, now_us) ? FSM_UP : FSM_DOWN;
		return fsm_set_state(s, to, FSM_REASON_ADMIN_UNDRAIN, -1,
		    now_us, tr);
	case FSM_DOWN:
	case FSM_UP:
	default:
		return false;
	}
}

bool
fsm_drain_done(struct fsm_service *s, uint64_t now_us,
    struct fsm_transition *tr)
{
	if (s->state != FSM_DRAINING)
		return false;
	return fsm_set_state(s, FSM_DRAINED, FSM_REASON_DRAIN_DONE, -1,
	    now_us, tr);
}

bool
fsm_tick(struct fsm_service *s, uint64_t now_us, struct fsm_transition *tr)
{
	switch (s->state) {
	case FSM_DOWN:
		if (s->healthy && !fsm_held(s, now_us))
			return fsm_set_state(s, FSM_UP,
			    FSM_REASON_HOLD_DOWN_EXPIRED, -1, now_us, tr);
		return false;
	case FSM_DRAINING:
		if (now_us < s->drain_start_us ||
		    now_us - s->drain_start_us < s->drain_timeout_us)
			return false;
		return fsm_set_state(s, FSM_DRAINED, FSM_REASON_DRAIN_TIMEOUT,
		    -1, now_us, tr);
	case FSM_UP:
	case FSM_DRAINED:
	default:
		return false;
	}
}

bool
fsm_restore_drained(struct fsm_service *s, uint64_t now_us,
    struct fsm_transition *tr)
{
	return fsm_set_state(s, FSM_DRAINED, FSM_REASON_RESTORED, -1, now_us,
	    tr);
}

enum fsm_announce
fsm_announce(const struct fsm_service *s)
{
	switch (s->state) {
	case FSM_UP:
		return FSM_ANN_NORMAL;
	case FSM_DRAINING:
		return FSM_ANN_GSHUT;
	case FSM_DOWN:
	case FSM_DRAINED:
	default:
		return FSM_ANN_WITHDRAWN;
	}
}

bool
fsm_next_deadline(const struct fsm_service *s, uint64_t *when_us)
{
	uint64_t end;

	switch (s->state) {
	case FSM_DOWN:
		/* Only a healthy service has a hold-down worth waking for. */
		if (!s->healthy || !s->fell || s->hold_down_us == 0)
			return false;
		end = s->fell_us + s->hold_down_us;
		*when_us = end < s->fell_us ? UINT64_MAX : end;
		return true;
	case FSM_DRAINING:
		end = s->drain_start_us + s->drain_timeout_us;
		*when_us = end < s->drain_start_us ? UINT64_MAX : end;
		return true;
	case FSM_UP:
	case FSM_DRAINED:
	default:
		return false;
	}
}

const char *
fsm_transition_fmt(const struct fsm_transition *tr, const char *check_name,
    char *buf, size_t len)
{
	if (check_name != NULL && tr->check >= 0)
		snprintf(buf, len, "state change %s -> %s, reason: %s (%s)",
		    fsm_state_name(tr->from), fsm_state_name(tr->to),
		    fsm_reason_name(tr->reason), check_name);
	else
		snprintf(buf, len, "state change %s -> %s, reason: %s",
		    fsm_state_name(tr->from), fsm_state_name(tr->to),
		    fsm_reason_name(tr->reason));
	return buf;
}
