/*
 * rtprelay configuration (YAML). relay_config_parse() reads a loaded yconf
 * document and records every problem in it (file:line:col), so `rtprelay -n`
 * reports all errors of a file in one run. No I/O here.
 *
 * Example (relay/examples/loopback.yaml):
 *
 *   service-address: 127.0.0.1        # the VIP; one IPv4 and/or one IPv6
 *   control: 127.0.0.1:2223           # ng protocol listener(s)
 *   ports: 30000-30999                # media ports on the VIP
 *   media-timeout: 60s
 *   probe:
 *     listen: 127.0.0.1:2224          # probe mirror, on the VIP
 *     allow: [127.0.0.0/8]
 *     rate: 1000                      # replies per second, whole mirror
 *   metrics:
 *     listen: 127.0.0.1:9224          # Prometheus text over HTTP
 *   log-level: info
 *   redis:                            # shared session state (optional)
 *     server: 127.0.0.1:6379
 *     node: relay-1                   # unique in the cluster
 *     key-prefix: raf                 # several clusters on one Redis
 *     port-block: 64                  # port pairs leased at a time
 *     lease: 30s                      # a dead relay's blocks free after
 *     timeout: 1s                     # connect and command timeout
 */
#ifndef RELAY_CONFIG_H
#define RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/yconf.h"

#define RELAY_MAX_VIPS		2
#define RELAY_MAX_CONTROL	4
#define RELAY_MAX_PROBE_ALLOW	16
#define RELAY_NODE_MAX		63	/* bytes of redis.node */
#define RELAY_PREFIX_MAX	31	/* bytes of redis.key-prefix */

struct relay_config {
	/* Fixed for the life of the process (a reload that changes them is
	 * refused for these keys and says a restart is needed). */
	struct addr		vip[RELAY_MAX_VIPS];	/* at most one per family */
	int			nvip;
	union sockaddr_any	control[RELAY_MAX_CONTROL];
	int			ncontrol;
	uint16_t		port_min;	/* even */
	uint16_t		port_max;
	bool			probe_enabled;
	union sockaddr_any	probe_listen;
	bool			metrics_enabled;
	union sockaddr_any	metrics_listen;
	/* Shared state (relay/repl.h); redis_node "" = the host name. */
	bool			redis_enabled;
	union sockaddr_any	redis_server;
	char			redis_node[RELAY_NODE_MAX + 1];
	char			redis_prefix[RELAY_PREFIX_MAX + 1];
	uint32_t		redis_port_block;	/* pairs per block */
	uint64_t		redis_lease_us;
	uint64_t		redis_timeout_us;

	/* Reloadable with SIGHUP. */
	uint64_t		media_timeout_us;	/* no media: call ends */
	uint32_t		max_calls;
	uint16_t		latch_seq_window;
	struct prefix		probe_allow[RELAY_MAX_PROBE_ALLOW];
	int			nprobe_allow;
	uint32_t		probe_rate;	/* replies per second */
	enum log_level		log_level;
};

/* Defaults for every optional key. */
void	relay_config_defaults(struct relay_config *cfg);
/* Fill cfg from the loaded document; 0 if yconf_nerrors(yc) stayed 0. */
int	relay_config_parse(struct relay_config *cfg, struct yconf *yc);
/* The VIP of a family, or NULL. */
const struct addr *relay_config_vip(const struct relay_config *cfg, int af);
/*
 * For a reload: the keys fixed for the life of the process that differ
 * between the running and the new configuration, as a comma-separated list
 * in buf ("service-address, ports"; "" when none). Returns their number, so
 * a non-zero result means the reload must be refused.
 */
int	relay_config_fixed_changes(const struct relay_config *cur,
	    const struct relay_config *next, char *buf, size_t len);

#endif
