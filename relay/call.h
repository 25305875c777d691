/*
 * Calls, their media and legs, the call table and the media port allocator.
 *
 * A call has one entry per m= line ("media"); each media has two legs:
 * leg 0 faces the endpoint that sent the offer (from-tag), leg 1 the one that
 * answered (to-tag). A leg owns two ports on the VIP, RTP on an even port and
 * RTCP on the next (unused when the leg muxes RTCP). The endpoint of a leg
 * sends to that leg's ports; the relay forwards what arrives to the other
 * leg's endpoint, from the other leg's ports.
 *
 * No sockets here: opening and closing a leg's sockets goes through
 * struct call_ops, so this file and the ng command logic above it are unit
 * tested without I/O.
 *
 * Shared state (relay/repl.h): every relay of a cluster holds every call.
 * Each part of a call that one relay may change (the signalling state, the
 * latch of each leg, the time media was last seen) carries the version it
 * was last written with, and a call changed here is queued on the table's
 * dirty list for the replicator. The port allocator then hands out only
 * pairs of the blocks this relay leased, while calls learned from other
 * relays claim their ports with call_restore_media().
 */
#ifndef RELAY_CALL_H
#define RELAY_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "relay/latch.h"
#include "relay/rtp.h"

#define CALL_ID_MAX	256	/* bytes of call-id, NUL excluded */
#define CALL_TAG_MAX	128
#define CALL_MAX_MEDIA	8

struct call;
struct media;

/*
 * Version of one replicated part of a call: a hybrid clock (wall time in
 * microseconds, or one more than the last version seen if that is ahead)
 * and a hash of the relay that wrote it, which breaks ties. 0 = never.
 */
struct rec_version {
	uint64_t	ver;
	uint32_t	node;
};

/* Per-leg counters; what the statistics, query and metrics report. */
struct leg_stats {
	uint64_t	packets;	/* received and forwarded */
	uint64_t	bytes;
	uint64_t	rtcp_packets;	/* of packets */
	uint64_t	rtcp_bytes;	/* of bytes */
	uint64_t	dtls_packets;	/* forwarded; also in packets */
	uint64_t	zrtp_packets;	/* forwarded; also in packets */
	uint64_t	last_us;	/* monotonic: last datagram, 0 none */
	uint64_t	keepalives;	/* consumed, not forwarded */
	uint64_t	drops;		/* every latch drop verdict */
	uint64_t	send_errors;
};

struct leg {
	struct media		*media;
	int			 side;		/* 0 offerer, 1 answerer */
	uint16_t		 port;		/* local RTP port; RTCP = port+1 */
	bool			 rtcp_mux;	/* RTCP arrives on the RTP port */
	bool			 has_sdp;	/* the endpoint's SDP was seen */
	union sockaddr_any	 sdp_rtcp;	/* RTCP destination from SDP */
	union sockaddr_any	 rtcp_dest;	/* current RTCP destination */
	struct latch		 latch;		/* RTP: where this leg's media goes */
	uint64_t		 pt_mask[2];	/* PTs of the endpoint's m= line */
	bool			 pt_known;	/* m= proto is RTP (with has_sdp) */
	char			 proto[24];	/* its endpoint's m= protocol */
	bool			 strict;	/* strict-source: never moves */
	bool			 dtls;		/* the endpoint's SDP negotiated
						   DTLS (relay/sdp.h) */
	struct leg_stats	 stats;
	struct rec_version	 latch_ver;	/* replicated latch */
	void			*io;		/* the sockets, owned by call_ops */
};

struct media {
	struct call	*call;
	int		 index;		/* 0-based m= position */
	char		 type[16];
	bool		 rejected;	/* port 0 in the offer */
	struct leg	 leg[2];
};

struct call {
	char		 id[CALL_ID_MAX + 1];
	char		 from_tag[CALL_TAG_MAX + 1];
	char		 to_tag[CALL_TAG_MAX + 1];
	int		 af;		/* family of the VIP used */
	int		 nmedia;
	/* Allocated one by one: sockets keep pointers to their legs. */
	struct media	*media[CALL_MAX_MEDIA];
	uint64_t	 created_us;	/* monotonic */
	uint64_t	 created_wall;	/* seconds since the epoch */
	uint64_t	 signal_wall;	/* last offer/answer here, 0 none */
	uint64_t	 last_media_us;	/* monotonic: last packet or keepalive */
	uint64_t	 seen_us;	/* the same, 0 if none arrived here */
	bool		 answered;
	struct addr	 vip;		/* the VIP its legs are bound to */
	/* Shared state: versions of the replicated parts, the latest time a
	 * relay reported media (wall µs, 0 = none) and what changed here. */
	struct rec_version sig_ver;
	struct rec_version act_ver;
	uint32_t	 dirty;		/* CALL_DIRTY_* bits */
	struct call	*dnext;		/* dirty list, while dirty != 0 */
	struct call	*hnext;		/* hash chain */
	struct call	*prev, *next;	/* all calls, oldest first */
};

/*
 * A call deleted lately (shared state): the version of its delete, so that
 * an older copy of the call arriving afterwards (a relay pushing what it
 * held during a store outage, a load reply racing an event) does not bring
 * it back.
 */
struct call_tomb {
	struct call_tomb	*hnext, *qnext;
	uint64_t		 expires_us;	/* monotonic */
	struct rec_version	 v;
	char			 id[];
};

/* What changed in a call and is still to be written to the shared store. */
#define CALL_DIRTY_SIG		0x1u	/* tags, media, ports, SDP */
#define CALL_DIRTY_ACT		0x2u	/* media seen here lately */
#define CALL_DIRTY_LATCH(m, s)	(1u << (2 + 2 * (m) + (s)))

/* How a leg's sockets are opened and closed (media.c in the daemon). */
struct call_ops {
	/* Bind RTP and RTCP sockets on vip:port and vip:port+1. 0 or -1. */
	int	(*open_leg)(struct leg *, const struct addr *vip, void *arg);
	void	(*close_leg)(struct leg *, void *arg);
	void	*arg;
	/* Optional: open (want) or close the RTCP socket of an open leg,
	 * which a leg whose endpoint muxes RTCP does not need. NULL: the
	 * RTCP socket lives as long as the leg. 0 or -1. */
	int	(*rtcp)(struct leg *, bool want, void *arg);
};

struct call_table {
	struct call	**buckets;
	size_t		  nbuckets;
	size_t		  ncalls;
	struct call	 *head, *tail;
	/* Port pairs: bit i set = pair (port_min + 2*i, +1) in use. */
	uint64_t	 *pairs;
	uint32_t	  npairs;
	uint32_t	  pairs_used;
	uint32_t	  next_pair;	/* rotating start: ports are not
					   reused at once after a delete */
	uint16_t	  port_min;
	struct call_ops	  ops;
	/* Port blocks (shared state): NULL = every pair may be allocated;
	 * else only pairs of the blocks marked here. */
	uint8_t		 *block_own;
	uint32_t	  block_pairs;
	uint32_t	  nblocks;
	uint32_t	  owned_free;	/* free pairs in owned blocks */
	/* Calls changed here, not yet written (see CALL_DIRTY_*). */
	struct call	 *dirty_head;
	/* Deleted calls, hashed, and in order of expiry. */
	struct call_tomb **tombs;
	struct call_tomb  *tomb_head, *tomb_tail;
	size_t		   ntombs;
};

/* Ports port_min..port_max (port_min even). 0 or -1 (allocation). */
int	call_table_init(struct call_table *t, uint16_t port_min,
	    uint16_t port_max, const struct call_ops *ops);
/* Frees every call (closing its legs). */
void	call_table_free(struct call_table *t);

struct call *call_find(struct call_table *t, const char *id);
/* New empty call (no media); NULL if id is already present. */
struct call *call_create(struct call_table *t, const char *id,
	    uint64_t now_us, uint64_t now_wall);
/* Close every leg, free its ports and remove the call. */
void	call_delete(struct call_table *t, struct call *c);

/*
 * Give the call n media (1..CALL_MAX_MEDIA), allocating and opening both legs
 * of each new media on vip. Existing media keep their ports (re-offer). On
 * failure nothing new stays allocated; err says why ("no free media ports
 * (1000 pairs in use)"). 0, CALL_NO_PORTS when no port pair was free (a
 * SIP proxy may then try another relay), or -1.
 */
#define CALL_NO_PORTS	(-2)
int	call_set_media(struct call_table *t, struct call *c, int n,
	    const struct addr *vip, char *err, size_t errlen);

/*
 * Learned from another relay: give the call n media with the given RTP
 * ports (ports[i][side]), claiming exactly those pairs. Media whose ports
 * are unchanged are kept; others are replaced. A port already used by
 * another call is a conflict: err says which, -1 is returned and the call
 * is left without media, for the caller to delete.
 */
int	call_restore_media(struct call_table *t, struct call *c, int n,
	    const uint16_t ports[][2], const struct addr *vip, char *err,
	    size_t errlen);

/* Open or close the leg's RTCP socket as its RTCP mux state requires. */
void	call_leg_sync_rtcp(struct call_table *t, struct leg *l);

/* Queue a change of c for the replicator (no-op without port blocks
 * configured, i.e. standalone). */
void	call_mark_dirty(struct call_table *t, struct call *c, uint32_t bits);
/* Take the dirty list (the caller clears each call's dirty bits). */
struct call *call_take_dirty(struct call_table *t);

/* Remember the delete of call id at version v until expires_us (a newer
 * version replaces an older one). The oldest go first beyond 100000. */
void	call_tomb_add(struct call_table *t, const char *id,
	    const struct rec_version *v, uint64_t expires_us);
/* The version of id's delete, or NULL. */
const struct rec_version *call_tomb_find(const struct call_table *t,
	    const char *id);
void	call_tomb_remove(struct call_table *t, const char *id);
void	call_tomb_expire(struct call_table *t, uint64_t now_us);

/* Port allocator, exposed for tests: an even port, or 0 if none is free. */
uint16_t call_port_alloc(struct call_table *t);
void	 call_port_free(struct call_table *t, uint16_t port);
/* Mark a given pair used; -1 if it is outside the range or already used. */
int	 call_port_claim(struct call_table *t, uint16_t port);
bool	 call_port_used(const struct call_table *t, uint16_t port);

/*
 * Port blocks: from now on allocate only from blocks of block_pairs pairs
 * that are marked owned (none yet). 0 or -1 (allocation).
 */
int	 call_table_use_blocks(struct call_table *t, uint32_t block_pairs);
void	 call_block_set_owned(struct call_table *t, uint32_t block, bool own);
bool	 call_block_owned(const struct call_table *t, uint32_t block);
/* Free pairs in one block (t->owned_free: in all owned blocks). */
uint32_t call_block_free_pairs(const struct call_table *t, uint32_t block);

/* The leg on the other side of l. */
struct leg *leg_peer(struct leg *l);

#endif
