/*
 * The relay's own traffic figures, read with the ng "statistics" command
 * (rtprelay and rtpengine both answer it): how many packets per second the
 * relay forwards now, and how many calls it holds. A drain waits for the
 * packet rate to fall; [weights] scales weights with the load.
 *
 * Asynchronous on the daemon's loop: one request in flight per target,
 * a fresh cookie each time, late replies to older requests ignored.
 */
#ifndef CONTROLLER_RELAYSTAT_H
#define CONTROLLER_RELAYSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ev.h>

#include "common/addr.h"
#include "common/bencode.h"

struct relaystat_sample {
	uint64_t	packet_rate;	/* currentstatistics.packetrate */
	uint64_t	sessions;	/* currentstatistics.sessionstotal */
};

/* Pure: pick the figures out of a decoded reply dict. 0 or -1 + err. */
int	relaystat_parse(const struct bnode *reply,
	    struct relaystat_sample *out, char *err, size_t errlen);

struct relaystat;
/* ok false: err says why (timeout, ICMP error, bad reply). */
typedef void	relaystat_cb(struct relaystat *, bool ok,
		    const struct relaystat_sample *, const char *err,
		    void *arg);

struct relaystat *relaystat_new(struct ev_loop *loop,
	    const union sockaddr_any *target, uint64_t timeout_us,
	    relaystat_cb *cb, void *arg);
void	relaystat_free(struct relaystat *rs);
/* Ask now; ignored while a request is in flight. */
void	relaystat_request(struct relaystat *rs);

#endif
