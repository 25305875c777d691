/*
 * Relay-wide counters: what `statistics`, the metrics endpoint and the logs
 * report. Per-call counters live in struct leg_stats (relay/call.h).
 */
#ifndef RELAY_STATS_H
#define RELAY_STATS_H

#include <stdint.h>

#include "relay/latch.h"

enum ng_cmd {
	NG_CMD_PING,
	NG_CMD_OFFER,
	NG_CMD_ANSWER,
	NG_CMD_DELETE,
	NG_CMD_QUERY,
	NG_CMD_LIST,
	NG_CMD_STATISTICS,
	NG_CMD_UNKNOWN,
	NG_CMD_MAX
};
extern const char *const ng_cmd_names[];
const char *ng_cmd_name(enum ng_cmd);

struct relay_stats {
	uint64_t	packets;		/* forwarded */
	uint64_t	bytes;
	uint64_t	rtcp_packets;
	uint64_t	dtls_packets;		/* forwarded; also in packets */
	uint64_t	zrtp_packets;		/* forwarded; also in packets */
	uint64_t	keepalives;
	uint64_t	verdicts[LATCH_VERDICT_MAX];	/* drops by reason */
	uint64_t	latch_moves;
	uint64_t	send_errors;
	uint64_t	no_destination;	/* nowhere to send yet */
	uint64_t	calls_created;
	uint64_t	calls_rejected;	/* offers refused at max-calls */
	uint64_t	calls_deleted;
	uint64_t	calls_expired;
	uint64_t	ng_requests[NG_CMD_MAX];
	uint64_t	ng_errors;
	uint64_t	ng_retransmits;	/* answered from the cookie cache */
	/* Rates over the last full second, for drain decisions. */
	uint64_t	packet_rate;
	uint64_t	byte_rate;
};

#endif
