/*
 * Call records of the shared state: how a call is written to Redis and
 * published to the other relays, and how what they wrote is applied here.
 * Pure: no I/O, no clock (callers pass the time), no logging.
 *
 * A call is stored as one Redis hash with one field per part that a relay
 * may change on its own, so two relays changing different parts at once
 * (the two directions of a call often hash to different relays) never
 * overwrite each other:
 *
 *   "s"      signalling: tags, media, ports, SDP addresses, RTCP mux, PTs
 *   "l<m>.<s>" the latch of media m (0-based), side s (0 offerer, 1 answerer)
 *   "a"      the latest time a relay saw media of the call (media timeout)
 *
 * Each value is a 25-byte header, then a bencoded dictionary:
 *
 *   16 hex digits  version: wall-clock µs, or the last version + 1 if ahead
 *   8 hex digits   hash of the writing relay's name (breaks ties)
 *   'L' or 'D'     live, or deleted (a tombstone: "s" only)
 *
 * The header compares as a string in the same order as the versions, so a
 * Lua script in Redis keeps only the newest value of each field and every
 * relay keeps only the newest it has seen: applying is idempotent and the
 * order of arrival does not matter. The dictionary carries "fv" (format
 * version, REC_FORMAT) and "w" (wall-clock µs of the write, for the
 * replication lag). A value this code cannot read in full (truncated,
 * oversized, another format, hostile) is refused whole, never half applied.
 *
 * Published events are bencoded lists: [call-id, field, value, node hash].
 */
#ifndef RELAY_RECORD_H
#define RELAY_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/call.h"
#include "relay/config.h"

#define REC_FORMAT	1
#define REC_HDR_LEN	25
#define REC_VALUE_MAX	8192	/* far above a real record (~1.5 kB) */
#define REC_FIELD_MAX	8	/* "l7.1" and NUL */
#define REC_EVENT_MAX	(REC_VALUE_MAX + CALL_ID_MAX + 64)
/* How long a relay and Redis remember a delete (call_tomb_add). */
#define REC_TOMB_US	(600 * 1000000ULL)

enum rec_kind {
	REC_SIG,
	REC_LATCH,
	REC_ACT,
};

struct rec_field {
	enum rec_kind	kind;
	int		media;		/* REC_LATCH */
	int		side;
};

/* "s", "a", "l<m>.<s>" with m < CALL_MAX_MEDIA, s 0 or 1. 0 or -1. */
int	rec_field_parse(const char *s, size_t len, struct rec_field *f);
void	rec_field_name(const struct rec_field *f, char *buf, size_t len);

/* FNV-1a of the relay's name; never 0 (0 means "no version"). */
uint32_t rec_node_hash(const char *name);
/* The version to write next after v, at wall time now_us. */
uint64_t rec_next_version(const struct rec_version *v, uint64_t now_us);
/* a is newer than b (version, then node). */
bool	rec_newer(const struct rec_version *a, const struct rec_version *b);

struct rec_hdr {
	struct rec_version	v;
	bool			deleted;
};

int	rec_hdr_parse(const char *val, size_t len, struct rec_hdr *h,
	    char *err, size_t errlen);

/*
 * Encode a part of c with version v (the caller stores v in the call once
 * the write is queued) into buf. Returns the length, 0 if cap is too small.
 * wrote_us is the wall-clock time of the write.
 */
size_t	rec_encode_sig(const struct call *c, const struct rec_version *v,
	    bool deleted, uint64_t wrote_us, char *buf, size_t cap);
size_t	rec_encode_latch(const struct leg *l, const struct rec_version *v,
	    uint64_t wrote_us, char *buf, size_t cap);
size_t	rec_encode_act(const struct rec_version *v, uint64_t wrote_us,
	    char *buf, size_t cap);

/* The event published for one write. 0 if cap is too small. */
size_t	rec_encode_event(const char *id, const char *field, const char *val,
	    size_t vlen, uint32_t node, char *buf, size_t cap);

struct rec_event {
	char		 id[CALL_ID_MAX + 1];
	char		 field[REC_FIELD_MAX];
	const char	*val;		/* points into the message */
	size_t		 vlen;
	uint32_t	 node;
};

int	rec_decode_event(const char *msg, size_t len, struct rec_event *ev,
	    char *err, size_t errlen);

enum rec_outcome {
	REC_APPLIED,		/* the call changed here */
	REC_STALE,		/* we already had this version or a newer one */
	REC_UNKNOWN_CALL,	/* a latch or activity for a call not (yet) here */
	REC_CONFLICT,		/* its ports are used here by another call */
	REC_INVALID,		/* unreadable or hostile: refused whole */
	REC_OUTCOME_MAX
};
extern const char *const rec_outcome_names[];
const char *rec_outcome_name(enum rec_outcome);

struct rec_applied {
	uint64_t	wrote_us;	/* "w" of the value, 0 if unknown */
	bool		created;	/* a call new to this relay */
	bool		deleted;	/* a tombstone removed a call */
};

/*
 * Apply one field of call `id` written by another relay. The VIP of the
 * call's family comes from cfg. Sockets open and close through the table's
 * call_ops; nothing is marked dirty (what comes from the store does not go
 * back to it). err says why for REC_CONFLICT and REC_INVALID.
 */
enum rec_outcome rec_apply(struct call_table *t,
	    const struct relay_config *cfg, const char *id, const char *field,
	    size_t flen, const char *val, size_t vlen, uint64_t now_us,
	    uint64_t now_wall, struct rec_applied *info, char *err,
	    size_t errlen);

#endif
