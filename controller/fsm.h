/*
 * The state machine of one announced service (one VIP of one relay): what
 * failoverd *decides*, kept apart from the code that *acts* on FRR, as
 * relayd keeps its check engine apart from pfe.
 *
 * Pure: no I/O, no clock, no logging. Time comes in as now_us (monotonic
 * microseconds, common/mono.h). Every input returns true when the service
 * changed state and fills a struct fsm_transition; the caller logs it once,
 * "service NAME: state change X -> Y, reason: Z" (fsm_transition_fmt), and
 * then pushes fsm_announce() to FRR. Nothing is logged for inputs that
 * change nothing, so a transition is never reported twice.
 *
 * Checks. Each check has rise/fall hysteresis: it turns UP after `rise'
 * successes in a row and DOWN after `fall' failures in a row. A check
 * starts UNKNOWN, which counts as not healthy: a service is announced only
 * once every check has risen. An UNKNOWN check that fails goes DOWN at
 * once (there is no announcement to protect yet). A failure reported as
 * definite (the relay process died: pidfd readable, control connection
 * closed) takes the check DOWN at once whatever `fall' says; a definite
 * success does not exist, a restarted relay must rise like any other.
 *
 * States:
 *   DOWN      not announced: some check is not UP, or the service is in
 *             hold-down after a fall. Never admin-drained.
 *   UP        announced normally: every check UP, no drain.
 *   DRAINING  admin drain in progress: announced with the graceful-shutdown
 *             community (65535:0, RFC 8326) until the caller reports the
 *             relay's packet rate below its threshold, or the drain
 *             timeout passes.
 *   DRAINED   admin drain done (or restored from the state file):
 *             withdrawn whatever the health.
 * The admin drain is exactly "state is DRAINING or DRAINED": there is no
 * hidden flag, so the state shown to the operator and written to the state
 * file says everything. Transitions:
 *
 *   DOWN     all checks up, no hold-down  -> UP        "all checks up"
 *   DOWN     hold-down expired (tick)     -> UP        "hold-down expired"
 *   DOWN     drain                        -> DRAINED   "admin drain"
 *   UP       a check down                 -> DOWN      "check down" or
 *                                                "check failed definitely"
 *   UP       drain                        -> DRAINING  "admin drain"
 *   DRAINING rate below threshold         -> DRAINED   "traffic drained"
 *   DRAINING drain timeout (tick)         -> DRAINED   "drain timeout"
 *   DRAINING a check down                 -> DRAINED   "check down" (the
 *            relay no longer serves, so there is nothing to wait for:
 *            withdraw at once; an undrain later decides UP or DOWN)
 *   DRAINING undrain                      -> UP        "admin undrain"
 *   DRAINED  undrain                      -> UP if healthy and not in
 *            hold-down, else DOWN                      "admin undrain"
 *   any      restore (state file)         -> DRAINED   "drained state restored"
 * Health changes while DRAINED change nothing (still withdrawn); drain and
 * undrain are idempotent (no transition when already in effect).
 *
 * Hold-down (flap damping): when the service's health falls (every check
 * UP -> some check not UP), in any state, the service may not be announced
 * normally again until hold_down_us has passed since that fall. Each new
 * fall restarts the hold-down, so a flapping relay stays withdrawn until it
 * has been stable. The first UP after start is not delayed (there was no
 * fall). A healthy service waiting out its hold-down stays DOWN and goes UP
 * on the first fsm_tick() at or after the deadline fsm_next_deadline()
 * gives. hold_down_us = 0 disables it.
 */
#ifndef CONTROLLER_FSM_H
#define CONTROLLER_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Checks per service; a config naming more is rejected by fsm_init(). */
#define FSM_CHECKS_MAX		16

enum fsm_check_state {
	FSM_CHECK_UNKNOWN,	/* no verdict yet: not healthy */
	FSM_CHECK_UP,
	FSM_CHECK_DOWN,
	FSM_CHECK_STATE_MAX
};
extern const char *const fsm_check_state_names[];
const char	*fsm_check_state_name(enum fsm_check_state);

enum fsm_state {
	FSM_DOWN,
	FSM_UP,
	FSM_DRAINING,
	FSM_DRAINED,
	FSM_STATE_MAX
};
extern const char *const fsm_state_names[];
const char	*fsm_state_name(enum fsm_state);

enum fsm_reason {
	FSM_REASON_NONE,
	FSM_REASON_CHECKS_UP,		/* every check UP */
	FSM_REASON_CHECK_DOWN,		/* a check fell (fall reached) */
	FSM_REASON_CHECK_DEAD,		/* definite failure (process died) */
	FSM_REASON_HOLD_DOWN_EXPIRED,	/* healthy, hold-down just ended */
	FSM_REASON_ADMIN_DRAIN,
	FSM_REASON_ADMIN_UNDRAIN,
	FSM_REASON_DRAIN_DONE,		/* packet rate below threshold */
	FSM_REASON_DRAIN_TIMEOUT,
	FSM_REASON_RESTORED,		/* drained state from the state file */
	FSM_REASON_MAX
};
extern const char *const fsm_reason_names[];
const char	*fsm_reason_name(enum fsm_reason);

/* What the caller must make FRR announce for the service's VIP. */
enum fsm_announce {
	FSM_ANN_WITHDRAWN,	/* no network statement */
	FSM_ANN_NORMAL,		/* normal route-map */
	FSM_ANN_GSHUT,		/* route-map adding 65535:0 */
	FSM_ANN_MAX
};
extern const char *const fsm_announce_names[];
const char	*fsm_announce_name(enum fsm_announce);

struct fsm_check {
	unsigned int		rise;		/* oks in a row to go UP */
	unsigned int		fall;		/* fails in a row to go DOWN */
	unsigned int		ok_run;		/* oks in a row so far */
	unsigned int		fail_run;	/* fails in a row so far */
	enum fsm_check_state	state;
};

struct fsm_check_config {
	unsigned int	rise;
	unsigned int	fall;
};

struct fsm_config {
	uint64_t	hold_down_us;	/* "Hold-down" above; 0 = none */
	/* Longest DRAINING lasts before withdrawing anyway; 0 = first tick. */
	uint64_t	drain_timeout_us;
};

struct fsm_service {
	enum fsm_state		state;
	uint64_t		since_us;	/* last transition */
	bool			healthy;	/* every check UP */
	bool			fell;		/* health ever fell */
	uint64_t		fell_us;	/* last fall */
	uint64_t		drain_start_us;	/* entry into DRAINING */
	uint64_t		hold_down_us;
	uint64_t		drain_timeout_us;
	size_t			nchecks;
	struct fsm_check	checks[FSM_CHECKS_MAX];
};

struct fsm_transition {
	enum fsm_state	from;
	enum fsm_state	to;
	enum fsm_reason	reason;
	int		check;	/* check behind the reason, or -1 */
};

/* rise/fall of 0 are taken as 1. Starts FSM_CHECK_UNKNOWN. */
void	fsm_check_init(struct fsm_check *c, unsigned int rise,
	    unsigned int fall);
/*
 * Feed one check result; returns true when the check's state changed.
 * definite is only meaningful with ok == false: DOWN at once.
 */
bool	fsm_check_result(struct fsm_check *c, bool ok, bool definite);

/*
 * Start a service in FSM_DOWN with every check UNKNOWN, at time now_us.
 * Returns -1 and a message in err when nchecks is 0 or above
 * FSM_CHECKS_MAX, or a rise or fall is 0 ("check 2: rise must be at
 * least 1", checks counted from 0).
 */
int	fsm_init(struct fsm_service *s, const struct fsm_config *cfg,
	    const struct fsm_check_config *checks, size_t nchecks,
	    uint64_t now_us, char *err, size_t errlen);

/*
 * One result of check idx. Returns true and fills *tr when the service
 * changed state. An idx out of range changes nothing. The caller finds out
 * whether the check itself changed by comparing s->checks[idx].state.
 */
bool	fsm_check(struct fsm_service *s, size_t idx, bool ok, bool definite,
	    uint64_t now_us, struct fsm_transition *tr);
bool	fsm_drain(struct fsm_service *s, uint64_t now_us,
	    struct fsm_transition *tr);
bool	fsm_undrain(struct fsm_service *s, uint64_t now_us,
	    struct fsm_transition *tr);
/* The relay's packet rate on the VIP fell below the threshold. */
bool	fsm_drain_done(struct fsm_service *s, uint64_t now_us,
	    struct fsm_transition *tr);
/* Timers: hold-down expiry and drain timeout. Call at fsm_next_deadline(). */
bool	fsm_tick(struct fsm_service *s, uint64_t now_us,
	    struct fsm_transition *tr);
/* At start-up, when the state file says the service was drained. */
bool	fsm_restore_drained(struct fsm_service *s, uint64_t now_us,
	    struct fsm_transition *tr);

enum fsm_announce fsm_announce(const struct fsm_service *s);
/*
 * When the caller must call fsm_tick() next: returns true and sets *when_us
 * (which may already have passed) if a timer runs, false if none does.
 */
bool	fsm_next_deadline(const struct fsm_service *s, uint64_t *when_us);
/*
 * "state change up -> down, reason: check down (relay-pid)"; check_name,
 * if not NULL, is added when the transition names a check. Returns buf.
 */
const char *fsm_transition_fmt(const struct fsm_transition *tr,
	    const char *check_name, char *buf, size_t len);

#endif
