/*
 * failoverd configuration (YAML). config_parse() reads a loaded yconf
 * document and records every problem with its position, so `failoverd -n`
 * lists all errors of a file in one run, and start-up and reload share the
 * same path. No I/O here. Reference: docs/controller.md; examples in
 * controller/examples/.
 *
 *   frr:
 *     pathspace: m1               # vtysh -N name; or vty: /path/bgpd.vty
 *     asn: 65101                  # the host's own AS (router bgp ASN)
 *   anchor: fo-anchor             # fail-closed TUN device ("none": off)
 *   control: /run/failoverd/failoverd.sock
 *   status-socket: /run/failoverd/status.sock
 *   state-file: /var/lib/failoverd/state
 *   metrics: 127.0.0.1:9225
 *   hold-down: 2s
 *   checks:
 *     relay: { kind: relay-process, pidfile: /run/rtprelay.pid }
 *     probe: { kind: rtp-probe, target: 203.0.113.10:2224,
 *              interval: 20ms, timeout: 15ms, rise: 3, fall: 2 }
 *   services:
 *     media:
 *       vips: [203.0.113.10/32]
 *       weight: 100                   # or auto (controller/weight.h):
 *       # capacity: { calls: 5000, packet-rate: 500000 }
 *       # auto-weight: { scale-with-load: yes, target-load: 80%,
 *       #                min-weight: 10%, hysteresis: 10%, interval: 10s }
 *       checks: [relay, probe]
 *       relay-control: 127.0.0.1:2223
 *       drain: { threshold: 5, timeout: 30s }
 */
#ifndef CONTROLLER_CONFIG_H
#define CONTROLLER_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/yconf.h"
#include "controller/check.h"
#include "controller/frr.h"
#include "controller/fsm.h"
#include "controller/weight.h"

#define CONFIG_SERVICES_MAX	16
#define CONFIG_CHECKS_MAX	64
#define CONFIG_VIPS_MAX		4	/* per service */
#define CONFIG_NAME_MAX		63
#define CONFIG_PATH_MAX		107	/* sun_path, for the sockets */

#define CONFIG_DEFAULT_CONTROL		"/run/failoverd/failoverd.sock"
#define CONFIG_DEFAULT_STATUS		"/run/failoverd/status.sock"
#define CONFIG_DEFAULT_STATE_FILE	"/var/lib/failoverd/state"
#define CONFIG_DEFAULT_VTY		"/var/run/frr/bgpd.vty"
#define CONFIG_DEFAULT_ANCHOR		"fo-anchor"

struct service_config {
	char		 name[CONFIG_NAME_MAX + 1];
	struct prefix	 vips[CONFIG_VIPS_MAX];	/* /32 and /128 only */
	int		 nvips;
	struct weight_config weight;		/* fixed or auto */
	uint64_t	 weight_poll_us;	/* load samples (auto) */
	int		 checks[FSM_CHECKS_MAX];	/* into fo_config.checks */
	size_t		 nchecks;
	/* The relay's ng control address, for its packet rate (drain)
	 * and load (auto weight). */
	bool		 has_relay_control;
	union sockaddr_any relay_control;
	uint64_t	 drain_threshold_pps;	/* drained below this rate */
	uint64_t	 drain_timeout_us;	/* withdraw anyway after */
	uint64_t	 drain_poll_us;		/* statistics request period */
};

struct fo_config {
	/* Fixed for the life of the process. */
	struct frr_config	frr;
	char			anchor[IF_NAMESIZE];	/* "" = no anchor */
	char			control_path[CONFIG_PATH_MAX + 1];
	char			status_path[CONFIG_PATH_MAX + 1];
	unsigned int		socket_mode;
	char			state_file[256];
	bool			metrics_enabled;
	union sockaddr_any	metrics_listen;

	/* Reloadable (see config_reload_problems). */
	uint64_t		hold_down_us;
	enum log_level		log_level;
	struct check_config	checks[CONFIG_CHECKS_MAX];
	int			nchecks;
	struct service_config	services[CONFIG_SERVICES_MAX];
	int			nservices;
};

void	config_defaults(struct fo_config *cfg);
/* Fill cfg from the loaded document; 0 if yconf_nerrors(yc) stayed 0. */
int	config_parse(struct fo_config *cfg, struct yconf *yc);
/* Load file into cfg (heap-free: cfg is the caller's); every error goes
 * to err_fn one line at a time. 0 or -1. */
int	config_load(const char *file, struct fo_config *cfg,
	    void (*err_fn)(const char *line, void *arg), void *arg);

const struct service_config *config_service(const struct fo_config *cfg,
	    const char *name);
int	config_check_index(const struct fo_config *cfg, const char *name);

/*
 * For a reload: what differs between cur and next that cannot change
 * without a restart (FRR target, sockets, anchor, state file, metrics, the
 * set of services, their VIPs and the checks they use), as a
 * comma-separated list in buf. Returns the number of such differences;
 * non-zero means the reload is refused and nothing changes.
 */
int	config_reload_problems(const struct fo_config *cur,
	    const struct fo_config *next, char *buf, size_t len);

#endif
