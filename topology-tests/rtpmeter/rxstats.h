/*
 * Arrival accounting for one direction of one RTP stream of rtpmeter:
 * sequence tracking, duplicates, reordering, the gaps between arrivals and
 * where they lie relative to the fault mark, and the IP TTL the packets
 * carried (which tells the lab which relay forwarded them).
 *
 * No I/O and no clock: every time is passed in, in nanoseconds of one clock
 * (rtpmeter uses CLOCK_REALTIME, the clock of the kernel's SO_TIMESTAMPNS
 * receive timestamps, for arrivals, sends and the fault mark alike).
 *
 * Definitions (topology-tests/rtpmeter/README.md repeats them):
 * - index: the position of a packet in its sender's sequence (0 for the
 *   first packet sent). rtpmeter sends and receives, so the receiver knows
 *   the sender's first sequence number and how many packets it has sent;
 *   rx_index extends the 16-bit sequence number against that count, which is
 *   RFC 3550 A.1 without its guesswork and cannot alias unless a packet is
 *   more than 65535 packets late.
 * - received: packets whose index was not seen before; a packet more than
 *   RX_WINDOW packets older than the newest one cannot be told from a
 *   duplicate and counts as too_old instead (neither received nor duplicate).
 * - duplicates: packets whose index was already received.
 * - reordered: received packets older than the newest one received before.
 * - gap: the time between two consecutive arrivals of received packets
 *   (duplicates do not end a gap: they carry no new media), and at the end
 *   the trailing silence from the last arrival to the last send of the
 *   stream, so a stream that died shows its silence as a gap too.
 * - post-fault gap: the largest gap that ends after the fault mark (a gap
 *   spanning the mark counts); it is "open" when it is the trailing silence.
 * - broken: no packet received at all, or a trailing silence of at least
 *   broken_after (the stream was not flowing when the run ended).
 */
#ifndef RTPMETER_RXSTATS_H
#define RTPMETER_RXSTATS_H

#include <stdbool.h>
#include <stdint.h>

/* Packets behind the newest one within which duplicates are recognised. */
#define RX_WINDOW	1024

enum rx_verdict {
	RX_NEW,			/* newest so far */
	RX_REORDERED,		/* new, but older than the newest */
	RX_DUPLICATE,
	RX_TOO_OLD,		/* older than the duplicate window */
	RX_VERDICT_MAX,
};

extern const char *const rx_verdict_names[];
const char *rx_verdict_name(enum rx_verdict);

struct rx {
	uint64_t	 long_gap_ns;	/* gaps this long are counted */
	int64_t		 highest;	/* newest index received; -1: none */
	uint64_t	 window[RX_WINDOW / 64];	/* received, by index */
	uint64_t	 received, duplicates, reordered, too_old;
	uint64_t	 first_ns, last_ns;	/* arrivals of received pkts */
	uint64_t	 max_gap_ns, max_gap_start_ns;
	bool		 have_gap;
	uint64_t	 pf_gap_ns, pf_gap_start_ns;
	bool		 have_pf_gap;
	uint64_t	 long_gaps;
	int		 ttl_first, ttl_last, ttl_before;	/* -1: unknown */
	uint64_t	 ttl_changes;
};

/* What rx_finish concludes; times are ns of the caller's clock. */
struct rx_result {
	uint64_t	 received, duplicates, reordered, too_old;
	uint64_t	 first_ns, last_ns;	/* 0: nothing received */
	bool		 have_gap;
	uint64_t	 max_gap_ns, max_gap_start_ns;
	bool		 have_pf_gap;	/* a gap ended after the mark */
	uint64_t	 pf_gap_ns, pf_gap_start_ns;
	bool		 pf_gap_open;	/* that gap never closed */
	uint64_t	 trailing_ns;	/* last send - last arrival, >= 0 */
	uint64_t	 long_gaps;
	bool		 broken;
	int		 ttl_first, ttl_before, ttl_last;
	uint64_t	 ttl_changes;
};

void	rx_init(struct rx *r, uint64_t long_gap_ns);

/*
 * The index of a packet with sequence number seq, sent by a sender whose
 * first packet carried seq0 and which has sent nsent packets so far: the
 * newest index <= nsent - 1 congruent to seq - seq0 modulo 2^16. -1 if
 * nsent is 0 or the packet would precede the first one (not ours).
 */
int64_t	rx_index(uint16_t seq, uint16_t seq0, uint64_t nsent);

/*
 * One arrival: index from rx_index, kernel receive time t_ns, the IP TTL or
 * hop limit (-1 if unknown), and the fault mark (0: none yet).
 */
enum rx_verdict rx_arrival(struct rx *r, int64_t idx, uint64_t t_ns,
	    int ttl, uint64_t fault_ns);

/*
 * Close the books at the end of the run. last_send_ns is when the sender
 * sent its last packet (0 if it sent none), fault_ns the fault mark (0:
 * none), broken_after_ns the trailing silence that makes a stream broken.
 */
void	rx_finish(const struct rx *r, uint64_t last_send_ns, uint64_t fault_ns,
	    uint64_t broken_after_ns, struct rx_result *res);

#endif
