/*
 * The data path: one pair of UDP sockets (RTP, RTCP) per leg on the VIP,
 * read in batches with recvmmsg, each datagram classified and checked
 * against the leg's latch, then sent in batches with sendmmsg from the
 * peer leg's socket to the peer endpoint. Payload, SSRC, sequence numbers
 * and timestamps pass unchanged (a transport translator).
 */
#ifndef RELAY_MEDIA_H
#define RELAY_MEDIA_H

#include <ev.h>

#include "relay/call.h"
#include "relay/latch.h"
#include "relay/stats.h"

struct media_engine {
	struct ev_loop		*loop;
	struct relay_stats	*stats;
	struct latch_policy	 policy;
	struct latch_policy	 strict;	/* legs with strict-source */
	uint64_t		 sockets;	/* open media sockets */
	struct call_table	*calls;		/* for latch changes; may be NULL */
};

void	media_engine_init(struct media_engine *me, struct ev_loop *loop,
	    struct relay_stats *stats, uint16_t seq_window);
/* struct call_ops callbacks; arg is the struct media_engine. */
int	media_open_leg(struct leg *l, const struct addr *vip, void *arg);
void	media_close_leg(struct leg *l, void *arg);
int	media_rtcp(struct leg *l, bool want, void *arg);

#endif
