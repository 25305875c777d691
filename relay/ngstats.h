/*
 * The statistics parts of ng replies, in rtpengine's layout, so that what a
 * SIP proxy reads from rtpengine it reads from rtprelay: Kamailio's
 * $rtpstat takes totals.RTP and totals.RTCP (bytes, packets, errors) from
 * a query; its MOS and media-duration variables read the same dictionary
 * from a delete reply.
 *
 * Pure: encodes into a bencoder, no I/O.
 */
#ifndef RELAY_NGSTATS_H
#define RELAY_NGSTATS_H

#include <stdint.h>

#include "common/bencode.h"
#include "relay/call.h"
#include "relay/stats.h"

/*
 * Into the open reply dictionary: "created", "last signal", "tags" (per
 * tag: "tag", "created", "in dialogue with", "medias" with their
 * "streams": RTP, then RTCP, on the RTP port when the leg muxes) and "totals" ("RTP",
 * "RTCP": packets, bytes, errors). now_us is monotonic, now_wall the
 * matching wall clock in seconds.
 */
void	ngstats_call(struct bencoder *b, const struct call *c, uint64_t now_us,
	    uint64_t now_wall);

/* Into the open reply dictionary: "statistics" as rtpengine's `statistics`
 * command gives it, for the fields rtprelay has. */
void	ngstats_relay(struct bencoder *b, const struct relay_stats *st,
	    const struct call_table *t, uint64_t uptime_s);

#endif
