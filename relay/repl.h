/*
 * Shared session state through Redis: every relay of a cluster holds every
 * call, so whichever relay the fabric sends a stream to can forward it.
 *
 * Two connections (hiredis, libev adapter): one for commands, one
 * subscribed to "<prefix>:events". Changes made here (the call table's
 * dirty list: offer, answer, latch, media activity; deletes through
 * repl_call_ended) are written by a Lua script that keeps only the newest
 * version of each part of a call and publishes it; events from the other
 * relays are applied as they arrive (relay/record.h). The data path never
 * waits: writes are queued in hiredis' output buffer from an ev_prepare
 * watcher, never from a packet handler, and nothing blocks on a reply.
 *
 * Start and reconnect: subscribe, push every call held here (the script
 * keeps whichever version is newer), load every call of "<prefix>:calls",
 * lease a port block. The relay is ready (ng ping answers pong) once the
 * first load is complete and a block is held; it stays ready through a
 * later outage, because it keeps forwarding every call it knows and
 * allocating from the blocks it holds.
 *
 * Port blocks: "<prefix>:block:<n>" holds the name of the relay that leased
 * block n (port-block pairs) for `lease`; renewed every lease/3. A relay
 * allocates only from its blocks, so two relays never allocate the same
 * port, and a dead relay's blocks become free once its lease runs out.
 */
#ifndef RELAY_REPL_H
#define RELAY_REPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "common/metrics.h"
#include "relay/call.h"
#include "relay/config.h"
#include "relay/record.h"

struct repl;

/* cfg and t must outlive the replicator; cfg->redis_enabled is set. */
struct repl *repl_open(struct ev_loop *loop, const struct relay_config *cfg,
	    struct call_table *t, char *err, size_t errlen);
void	repl_close(struct repl *r);

/* Ready to serve: false with the reason in why. */
bool	repl_ready(struct repl *r, char *why, size_t len);
/* A call removed here (ng delete, media timeout): delete it everywhere. */
void	repl_call_ended(struct repl *r, struct call *c);
/* Prometheus lines of the replicator. */
void	repl_metrics(struct repl *r, struct mbuf *m);

#endif
