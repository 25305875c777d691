/*
 * rtpmeter's command line: parsed without I/O into struct meter_opts, every
 * error as one line in the caller's buffer naming the option.
 */
#ifndef RTPMETER_OPTIONS_H
#define RTPMETER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/addr.h"

#define OPTS_MAX_CALLS		20000
#define OPTS_MAX_LOCALS		1024
#define OPTS_PREFIX_MAX		40	/* call-id prefix, NUL excluded */

struct meter_opts {
	union sockaddr_any	 ng;
	/* Client addresses; endpoint k (call k / 2, side k % 2) uses
	 * locals[k % nlocals], so a call's two ends differ when there are
	 * two or more. */
	struct addr		 locals[OPTS_MAX_LOCALS];
	int			 nlocals;
	uint16_t		 port_lo, port_hi;	/* 0, 0: kernel picks */
	int			 calls;
	int			 call_rate;	/* calls/s at setup; 0: no limit */
	int			 ptime_ms;
	int			 size;	/* UDP payload, RTP header incl. */
	int			 pt;		/* 0 (PCMU) or 8 (PCMA) */
	uint64_t		 duration_us;	/* of traffic after "ready" */
	uint64_t		 after_fault_us;	/* 0: run the duration */
	uint64_t		 broken_after_us;
	uint64_t		 long_gap_us;
	uint64_t		 drain_us;
	uint64_t		 ready_timeout_us;
	/* 0: ready only when every stream flows. Else also ready once at
	 * least one flows and no other started for this long (streams that
	 * cannot flow, e.g. ECMP sends them to a relay without the call). */
	uint64_t		 settle_us;
	int			 ng_timeout_ms;
	int			 ng_tries;
	uint64_t		 ping_wait_us;
	const char		*out;		/* JSON file; NULL: none */
	char			 prefix[OPTS_PREFIX_MAX + 1];	/* or "" */
	bool			 no_delete;
	bool			 rtcp_mux;	/* a=rtcp-mux in both SDPs */
	bool			 verbose;
};

enum opts_result {
	OPTS_RUN,
	OPTS_HELP,
	OPTS_VERSION,
};

/*
 * Parse argv into o (defaults first). Returns OPTS_RUN, OPTS_HELP or
 * OPTS_VERSION, or -1 with a message in err. Resets getopt's state, so it
 * may be called more than once in one process.
 */
int	opts_parse(int argc, char *argv[], struct meter_opts *o, char *err,
	    size_t errlen);
void	opts_usage(FILE *f);

/*
 * "ADDR" or, for IPv4, "FIRST-LAST": append the addresses to
 * o->locals. All locals must share one family.
 */
int	opts_add_local(struct meter_opts *o, const char *s, char *err,
	    size_t errlen);

#endif
