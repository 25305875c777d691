/*
 * The FRR driver: the part of failoverd that *acts* (relayd's pfe_route).
 *
 * It keeps one persistent connection to bgpd's vty socket (DESIGN.md
 * decision 1; framing and command sequences in vty.h) and makes bgpd's
 * running configuration match the desired state the caller sets per VIP:
 * withdrawn, announced normally, or announced with the graceful-shutdown
 * community, each with a link-bandwidth weight.
 *
 * Desired vs applied: frr_set() only records what is wanted; the driver
 * sends the commands that close the difference, one command outstanding at
 * a time, in the order the VIPs changed. Setting the same state twice sends
 * nothing. Commands are idempotent on bgpd's side too (re-announcing with
 * another route-map switches policy without a withdraw; a `no network` for
 * a prefix bgpd does not have is taken as done).
 *
 * Connection loss (EOF, write error, framing error, a reply that does not
 * come within the command timeout): the applied state becomes unknown,
 * the driver reconnects with exponential backoff (100 ms doubling up to
 * reconnect_max_us) and, once connected, re-applies the whole desired
 * state: route-maps first, then every VIP. A bgpd restart looks exactly
 * like that. The very first sync after start withdraws every configured
 * VIP that is not wanted (stale announcements left by an earlier run);
 * frr_synced() turns true once a full sync has completed.
 *
 * When the vty socket cannot be used and `vtysh' is configured, each
 * pending sequence is run as one `vtysh [-N pathspace] -c ... -c ...'
 * child process instead (tens of ms each, about 25 ms measured with FRR
 * 8.4 against well under 1 ms on the socket: a fallback, not the normal way),
 * while the socket is retried with backoff. vtysh exiting 0 is success
 * (and, for a withdraw, exit 1 with bgpd's "Can't find static route
 * specified"). Its exit is watched with ev_child, which libev supports on
 * the default loop only: the fallback needs the default loop to run.
 *
 * Which sequence comes next, coalescing and error backoff are decided by
 * the pure planner in frr_plan.h.
 *
 * Logging: each connect, disconnect and completed resync once at info or
 * warning level; a failing sequence once (warning) until it succeeds again
 * (info); single commands only at debug level.
 */
#ifndef CONTROLLER_FRR_H
#define CONTROLLER_FRR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ev.h>

#include "common/addr.h"

#define FRR_PATH_MAX		107	/* sun_path */
#define FRR_VIPS_MAX		64

enum frr_ann {
	FRR_WITHDRAWN,
	FRR_NORMAL,
	FRR_GSHUT,
	FRR_ANN_MAX
};
extern const char *const frr_ann_names[];	/* "withdrawn", ... */

struct frr_config {
	/* bgpd.vty; "" means FRR 8.4's own default: /var/run/frr/bgpd.vty,
	 * or /var/run/frr/<pathspace>/bgpd.vty with a pathspace (bgpd -N). */
	char		vty_path[FRR_PATH_MAX + 1];
	char		pathspace[64];	/* vtysh -N; "" for none */
	char		vtysh[256];	/* fallback binary; "" disables */
	uint64_t	asn;
	uint64_t	cmd_timeout_us;	/* one reply; default 2 s */
	uint64_t	reconnect_max_us;	/* default 5 s */
	/* failoverd calls frr_reset_sessions() when a failure leaves
	 * nothing announced (config frr.reset-sessions-on-failure). */
	bool		reset_on_failure;
};

/* Counters for metrics and status. */
#define FRR_LAT_BUCKETS		12
extern const uint64_t frr_lat_bounds_us[FRR_LAT_BUCKETS];	/* upper bounds */
struct frr_stats {
	uint64_t	connects;	/* successful connections */
	uint64_t	disconnects;
	uint64_t	commands;	/* replies received */
	uint64_t	errors;		/* non-zero status, fallback failures */
	uint64_t	fallback_runs;	/* vtysh children */
	/* Command latency (send to status byte) histogram, cumulative
	 * buckets as Prometheus wants, plus sum and count. */
	uint64_t	lat_bucket[FRR_LAT_BUCKETS];
	uint64_t	lat_sum_us;
	uint64_t	lat_count;
};

struct frr;

/* Called after every change of connected/synced (for logs, metrics, and
 * deferring work that needs a synced FRR). It may call frr_set, not
 * frr_free. */
typedef void	frr_event_cb(struct frr *, void *arg);

/* NULL (logged) for a bad ASN or pathspace, or a path too long. */
struct frr	*frr_new(struct ev_loop *loop, const struct frr_config *cfg,
		    frr_event_cb *cb, void *arg);
void		 frr_free(struct frr *f);

/*
 * Register a VIP (every configured VIP, before frr_start, so the first sync
 * can clean stale announcements). Returns -1 when FRR_VIPS_MAX is reached.
 */
int	frr_add_vip(struct frr *f, const struct prefix *vip);
/* Connect and sync. */
void	frr_start(struct frr *f);
/*
 * Desired state of a registered VIP; weight_bw is the link-bandwidth value
 * (vty.h VTY_BW_MIN..VTY_BW_MAX), ignored when withdrawn. Returns -1 for
 * an unknown VIP or a weight out of range.
 */
int	frr_set(struct frr *f, const struct prefix *vip, enum frr_ann ann,
	    uint32_t weight_bw);
/*
 * Fast withdraw (frr.reset-sessions-on-failure): once every VIP is applied
 * as withdrawn, send "clear bgp *" so bgpd ends its sessions at once. Its
 * peers then drop the host's routes when the session goes (a NOTIFICATION,
 * no UPDATE), which spares the 50 ms route-processing hold bgpd 8.4 puts
 * on every UPDATE it sends. Ignored (logged) while some VIP is wanted
 * announced: the reset would take those down too.
 */
void	frr_reset_sessions(struct frr *f);

/*
 * Clean stop: withdraw every VIP now, waiting at most timeout_us for bgpd's
 * replies (blocking: used only on the way out). Uses the connection when it
 * is idle, else a fresh one (a vtysh child still running is killed first);
 * sets every VIP's desired state to withdrawn, so a loop that keeps running
 * does not announce again. Returns 0 when every withdraw was acknowledged.
 */
int	frr_withdraw_all_sync(struct frr *f, uint64_t timeout_us);

bool	frr_connected(const struct frr *f);
bool	frr_synced(const struct frr *f);	/* applied == desired, known */
const struct frr_stats *frr_stats(const struct frr *f);
/* Last error text ("" if none), for status. */
const char *frr_last_error(const struct frr *f);
/* "idle", "connecting", "enabling" or "ready", for status. */
const char *frr_conn_state(const struct frr *f);

#endif
