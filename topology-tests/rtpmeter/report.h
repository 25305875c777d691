/*
 * rtpmeter's report: the JSON document the lab reads and the summary people
 * read on stderr. No I/O beyond the FILE the caller hands in, so tests write
 * into memory. The schema is described in topology-tests/rtpmeter/README.md;
 * REPORT_SCHEMA changes whenever a field changes meaning or disappears
 * (added fields keep it).
 */
#ifndef RTPMETER_REPORT_H
#define RTPMETER_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/addr.h"
#include "topology-tests/rtpmeter/rxstats.h"

#define REPORT_SCHEMA		"rtpmeter/1"
#define REPORT_MAX_WARNINGS	8
#define REPORT_CALLID_MAX	64

/* Times are CLOCK_REALTIME ns; 0 means "did not happen". */
struct report_run {
	const char	*version;
	char		 ng[ADDR_STRLEN];
	int		 calls, calls_created, calls_deleted;
	int		 ptime_ms, size, pt;
	uint64_t	 duration_us, after_fault_us;	/* 0: none */
	uint64_t	 broken_after_us, long_gap_us, drain_us;
	uint64_t	 settle_us;	/* 0: off */
	bool		 rtcp_mux;	/* --rtcp-mux */
	int		 streams_unserved;	/* silent at "ready" */
	bool		 ready, interrupted;
	uint64_t	 start_ns, ready_ns, stop_ns, end_ns;
	uint64_t	 fault_ns, fault_mono_ns;
	int		 fault_marks;
	/* Change of CLOCK_REALTIME - CLOCK_MONOTONIC over the run: a wall
	 * clock step would distort every gap that spans it. */
	int64_t		 clock_step_ns;
	/* How far the sender fell behind its schedule at worst. */
	uint64_t	 max_send_lag_ns;
	char		 warnings[REPORT_MAX_WARNINGS][160];
	int		 nwarnings;
};

/* One direction of one call. */
struct report_dir {
	int		 call;
	bool		 b_to_a;	/* else a->b */
	char		 call_id[REPORT_CALLID_MAX];
	/* Sender's socket, the relay port it sends to, the relay port the
	 * receiver hears from (as signalled), the receiver's socket. */
	char		 src[ADDR_STRLEN], relay_in[ADDR_STRLEN];
	char		 relay_out[ADDR_STRLEN], dst[ADDR_STRLEN];
	uint32_t	 ssrc;
	uint64_t	 sent, send_errors;
	uint64_t	 max_send_gap_ns;
	/* At the receiver's socket: datagrams that were not this stream's
	 * RTP, the socket's own drops, and stream packets from a source
	 * other than relay_out. */
	uint64_t	 foreign, rx_overflow, src_mismatch;
	/* Had received nothing when the run was declared ready (--settle):
	 * the path to the receiver did not exist, not a fault. */
	bool		 unserved;
	/* Sent after the fault mark, and of those received (have_mark). */
	bool		 have_mark;
	uint64_t	 sent_after_fault, received_after_fault;
	struct rx_result rx;
};

struct report_totals {
	int		 streams;
	uint64_t	 sent, received, lost, duplicates, reordered;
	int		 streams_broken, sessions_broken;
	int		 streams_unserved;
	/* Directions whose TTL before the fault differs from the last one:
	 * another relay (or path) carries them now. */
	int		 streams_moved;
	bool		 have_gap;
	uint64_t	 max_gap_ns;		/* worst over all directions */
	int		 n_pf;		/* directions with a pf gap */
	uint64_t	 pf_max_ns, pf_median_ns, pf_p95_ns;
};

/* Lost packets of one direction: sent but never received. */
uint64_t report_lost(const struct report_dir *d);
/* Of those, the ones sent after the fault mark (0 without a mark). */
uint64_t report_lost_after_fault(const struct report_dir *d);

/*
 * Totals over n directions. Quantiles are nearest-rank (the median of an
 * even count is the lower middle). -1 only when out of memory.
 */
int	report_totals(const struct report_dir *d, size_t n,
	    struct report_totals *t);

/* Add a warning to the run (dropped silently beyond the limit). */
void	report_warn(struct report_run *run, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The whole JSON document, one stream direction per line. */
void	report_json(FILE *f, const struct report_run *run,
	    const struct report_totals *t, const struct report_dir *d,
	    size_t n);

/* A few lines for people. */
void	report_summary(FILE *f, const struct report_run *run,
	    const struct report_totals *t);

#endif
