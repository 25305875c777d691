/*
 * rtpmeter's command line. Durations take units ("20ms", "1.5s"), so the lab
 * never has to guess whether a number means seconds or milliseconds; counts
 * and sizes are plain numbers.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "topology-tests/rtpmeter/options.h"

#define OPTS_S	UINT64_C(1000000)
#define OPTS_MS	UINT64_C(1000)

void
opts_usage(FILE *f)
{
	fprintf(f,
"usage: rtpmeter --ng HOST:PORT [--local ADDR|FIRST-LAST]... [--ports LO-HI]\n"
"                [--calls N] [--call-rate N] [--duration D]\n"
"                [--after-fault D] [--ptime MS]\n"
"                [--size B] [--pt 0|8] [--broken-after D] [--long-gap D]\n"
"                [--drain D] [--ready-timeout D] [--settle D]\n"
"                [--ng-timeout MS]\n"
"                [--ng-tries N] [--ping-wait D] [--out FILE]\n"
"                [--call-prefix STR] [--no-delete] [--rtcp-mux] [-v]\n"
"Creates calls through an ng server (rtprelay, rtpengine) as a SIP proxy\n"
"would, sends RTP both ways on every call and reports, per stream and\n"
"direction, loss, duplicates, reordering and the gaps around a fault mark.\n"
"  --ng HOST:PORT       the relay's ng control address (required)\n"
"  --local ADDR         client address for the endpoints; repeatable, or an\n"
"                       IPv4 range FIRST-LAST; endpoints take them in turn\n"
"                       (default: the --ng address)\n"
"  --ports LO-HI        local ports for the endpoints (default: the kernel's)\n"
"  --calls N            calls, two endpoints and two directions each,\n"
"                       1..%d (default 10)\n"
"  --call-rate N        create at most N calls a second, 1..100000\n"
"                       (default: as fast as the relay answers)\n"
"  --duration D         traffic after every stream has flowed (default 10s)\n"
"  --after-fault D      end the run this long after the fault mark\n"
"                       (default: run the whole --duration)\n"
"  --ptime MS           packet interval, 1..1000 (default 20)\n"
"  --size B             UDP payload with the 12-byte RTP header, 13..1400\n"
"                       (default 172)\n"
"  --pt 0|8             payload type, PCMU or PCMA (default 0)\n"
"  --broken-after D     a stream silent this long when sending stops is\n"
"                       broken (default 1s)\n"
"  --long-gap D         gaps at least this long are counted (default 100ms)\n"
"  --drain D            keep receiving after the last send (default 300ms)\n"
"  --ready-timeout D    every stream must flow within this (default 5s)\n"
"  --settle D           also ready once some streams flow and no other has\n"
"                       started for D; the silent ones are 'unserved'\n"
"                       (default: off, every stream must flow)\n"
"  --ng-timeout MS      wait per ng request try (default 500)\n"
"  --ng-tries N         tries per ng request (default 3)\n"
"  --ping-wait D        wait this long for the ng server to answer ping\n"
"                       (default 5s)\n"
"  --out FILE           write the JSON report here\n"
"  --call-prefix STR    call-ids are STR-<n> (default rtpmeter-<pid>-<rand>)\n"
"  --no-delete          leave the calls on the relay at the end\n"
"  --rtcp-mux           offer and answer a=rtcp-mux: the relay then needs\n"
"                       no RTCP sockets (2 per call instead of 4)\n"
"SIGUSR1 marks the fault (first one wins). stdout carries one line per\n"
"event for the orchestrator: 'calls N', 'ready <ns>' (or 'not-ready F T'),\n"
"'fault <ns>', 'stop <ns>', 'done' (CLOCK_REALTIME ns); the summary goes to\n"
"stderr. See topology-tests/rtpmeter/README.md for the report.\n",
	    OPTS_MAX_CALLS);
}

static int
opts_ipv4_range(struct meter_opts *o, const char *s, const char *dash,
    char *err, size_t errlen)
{
	char		 a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	struct in_addr	 ia, ib;
	uint32_t	 lo, hi, v;
	size_t		 alen = (size_t)(dash - s);

	if (alen >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
		goto bad;
	memcpy(a, s, alen);
	a[alen] = '\0';
	strcpy(b, dash + 1);
	if (inet_pton(AF_INET, a, &ia) != 1 || inet_pton(AF_INET, b, &ib) != 1)
		goto bad;
	lo = ntohl(ia.s_addr);
	hi = ntohl(ib.s_addr);
	if (lo > hi) {
		snprintf(err, errlen, "range '%.60s' ends before it starts", s);
		return -1;
	}
	if (hi - lo >= (uint32_t)(OPTS_MAX_LOCALS - o->nlocals)) {
		snprintf(err, errlen, "more than %d local addresses",
		    OPTS_MAX_LOCALS);
		return -1;
	}
	for (v = lo;; v++) {
		o->locals[o->nlocals].af = AF_INET;
		o->locals[o->nlocals].v4.s_addr = htonl(v);
		o->nlocals++;
		if (v == hi)
			break;
	}
	return 0;
bad:
	snprintf(err, errlen, "'%.60s' is neither an address nor an IPv4 "
	    "range FIRST-LAST", s);
	return -1;
}

int
opts_add_local(struct meter_opts *o, const char *s, char *err, size_t errlen)
{
	const char	*dash = strchr(s, '-');
	struct addr	 a;
	int		 first = o->nlocals, i;

	if (dash != NULL) {
		if (opts_ipv4_range(o, s, dash, err, errlen) == -1)
			return -1;
	} else {
		if (addr_parse(s, &a, err, errlen) == -1)
			return -1;
		if (o->nlocals == OPTS_MAX_LOCALS) {
			snprintf(err, errlen, "more than %d local addresses",
			    OPTS_MAX_LOCALS);
			return -1;
		}
		o->locals[o->nlocals++] = a;
	}
	for (i = first; i < o->nlocals; i++)
		if (o->locals[i].af != o->locals[0].af) {
			o->nlocals = first;
			snprintf(err, errlen, "'%.60s' is not of the family of "
			    "the first local address", s);
			return -1;
		}
	return 0;
}

static int
opts_num(const char *opt, const char *s, uint64_t lo, uint64_t hi, int *out,
    char *err, size_t errlen)
{
	char		 e[128];
	uint64_t	 v;

	if (parse_u64(s, lo, hi, &v, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "--%s: %s", opt, e);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
opts_dur(const char *opt, const char *s, uint64_t lo, uint64_t hi,
    uint64_t *out, char *err, size_t errlen)
{
	char	e[128];

	if (parse_duration_us(s, lo, hi, out, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "--%s: %s", opt, e);
		return -1;
	}
	return 0;
}

static int
opts_prefix(struct meter_opts *o, const char *s, char *err, size_t errlen)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > OPTS_PREFIX_MAX) {
		snprintf(err, errlen, "--call-prefix: 1 to %d characters",
		    OPTS_PREFIX_MAX);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_.", s[i]) == NULL) {
			snprintf(err, errlen, "--call-prefix: only letters, "
			    "digits, '-', '_' and '.'");
			return -1;
		}
	memcpy(o->prefix, s, n + 1);
	return 0;
}

/* Checks between options, once all are known. */
static int
opts_check(struct meter_opts *o, bool have_ng, char *err, size_t errlen)
{
	char	a[32], b[32];

	if (!have_ng) {
		snprintf(err, errlen, "--ng HOST:PORT is required");
		return -1;
	}
	if (o->nlocals == 0) {
		sa_to_addr(&o->ng, &o->locals[0]);
		o->nlocals = 1;
	}
	if (o->locals[0].af != o->ng.sa.sa_family) {
		snprintf(err, errlen, "--local and --ng are of different "
		    "address families");
		return -1;
	}
	if (o->after_fault_us > 0 && o->after_fault_us < o->broken_after_us) {
		snprintf(err, errlen, "--after-fault %s is shorter than "
		    "--broken-after %s: a stream the fault stopped could not "
		    "be told from one that resumed",
		    duration_fmt(o->after_fault_us, a, sizeof(a)),
		    duration_fmt(o->broken_after_us, b, sizeof(b)));
		return -1;
	}
	if (o->broken_after_us < 2 * (uint64_t)o->ptime_ms * OPTS_MS) {
		snprintf(err, errlen, "--broken-after %s must be at least two "
		    "packet intervals (%d ms)",
		    duration_fmt(o->broken_after_us, a, sizeof(a)),
		    2 * o->ptime_ms);
		return -1;
	}
	/* Shorter than two packets, a stream that is merely late would be
	 * taken for one that cannot flow. */
	if (o->settle_us > 0 &&
	    o->settle_us < 2 * (uint64_t)o->ptime_ms * OPTS_MS) {
		snprintf(err, errlen, "--settle %s must be at least two "
		    "packet intervals (%d ms)",
		    duration_fmt(o->settle_us, a, sizeof(a)), 2 * o->ptime_ms);
		return -1;
	}
	if (o->settle_us >= o->ready_timeout_us) {
		snprintf(err, errlen, "--settle %s is not shorter than "
		    "--ready-timeout %s",
		    duration_fmt(o->settle_us, a, sizeof(a)),
		    duration_fmt(o->ready_timeout_us, b, sizeof(b)));
		return -1;
	}
	return 0;
}

int
opts_parse(int argc, char *argv[], struct meter_opts *o, char *err,
    size_t errlen)
{
	static const struct option lopts[] = {
		{ "ng", required_argument, NULL, 'n' },
		{ "local", required_argument, NULL, 'l' },
		{ "ports", required_argument, NULL, 'P' },
		{ "calls", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "after-fault", required_argument, NULL, 'F' },
		{ "ptime", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "pt", required_argument, NULL, 'T' },
		{ "broken-after", required_argument, NULL, 'B' },
		{ "long-gap", required_argument, NULL, 'G' },
		{ "drain", required_argument, NULL, 'D' },
		{ "ready-timeout", required_argument, NULL, 'R' },
		{ "settle", required_argument, NULL, 'S' },
		{ "call-rate", required_argument, NULL, 'r' },
		{ "ng-timeout", required_argument, NULL, 'o' },
		{ "ng-tries", required_argument, NULL, 'y' },
		{ "ping-wait", required_argument, NULL, 'W' },
		{ "out", required_argument, NULL, 'O' },
		{ "call-prefix", required_argument, NULL, 'x' },
		{ "no-delete", no_argument, NULL, 'N' },
		{ "rtcp-mux", no_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char		 e[128];
	uint64_t	 lo, hi;
	int		 ch;
	bool		 have_ng = false;

	memset(o, 0, sizeof(*o));
	o->calls = 10;
	o->ptime_ms = 20;
	o->size = 172;
	o->pt = 0;
	o->duration_us = 10 * OPTS_S;
	o->broken_after_us = OPTS_S;
	o->long_gap_us = 100 * OPTS_MS;
	o->drain_us = 300 * OPTS_MS;
	o->ready_timeout_us = 5 * OPTS_S;
	o->ng_timeout_ms = 500;
	o->ng_tries = 3;
	o->ping_wait_us = 5 * OPTS_S;

	optind = 0;		/* GNU: full re-initialisation */
	opterr = 0;		/* errors go to err, not stderr */
	while ((ch = getopt_long(argc, argv, ":hvV", lopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (hostport_parse(optarg, &o->ng, e,
			    sizeof(e)) == -1) {
				snprintf(err, errlen, "--ng: %s", e);
				return -1;
			}
			have_ng = true;
			break;
		case 'l':
			if (opts_add_local(o, optarg, e, sizeof(e)) == -1) {
				snprintf(err, errlen, "--local: %s", e);
				return -1;
			}
			break;
		case 'P':
			if (parse_range(optarg, 1, 65535, &lo, &hi, e,
			    sizeof(e)) == -1) {
				snprintf(err, errlen, "--ports: %s", e);
				return -1;
			}
			o->port_lo = (uint16_t)lo;
			o->port_hi = (uint16_t)hi;
			break;
		case 'c':
			if (opts_num("calls", optarg, 1, OPTS_MAX_CALLS,
			    &o->calls, err, errlen) == -1)
				return -1;
			break;
		case 'r':
			if (opts_num("call-rate", optarg, 1, 100000,
			    &o->call_rate, err, errlen) == -1)
				return -1;
			break;
		case 'd':
			if (opts_dur("duration", optarg, 100 * OPTS_MS,
			    3600 * OPTS_S, &o->duration_us, err, errlen) == -1)
				return -1;
			break;
		case 'F':
			if (opts_dur("after-fault", optarg, OPTS_MS,
			    3600 * OPTS_S, &o->after_fault_us, err,
			    errlen) == -1)
				return -1;
			break;
		case 't':
			if (opts_num("ptime", optarg, 1, 1000, &o->ptime_ms,
			    err, errlen) == -1)
				return -1;
			break;
		case 's':
			if (opts_num("size", optarg, 13, 1400, &o->size, err,
			    errlen) == -1)
				return -1;
			break;
		case 'T':
			if (strcmp(optarg, "0") != 0 &&
			    strcmp(optarg, "8") != 0) {
				snprintf(err, errlen, "--pt: '%.20s' is neither "
				    "0 (PCMU) nor 8 (PCMA)", optarg);
				return -1;
			}
			o->pt = optarg[0] - '0';
			break;
		case 'B':
			if (opts_dur("broken-after", optarg, OPTS_MS,
			    3600 * OPTS_S, &o->broken_after_us, err,
			    errlen) == -1)
				return -1;
			break;
		case 'G':
			if (opts_dur("long-gap", optarg, OPTS_MS,
			    3600 * OPTS_S, &o->long_gap_us, err, errlen) == -1)
				return -1;
			break;
		case 'D':
			if (opts_dur("drain", optarg, 0, 10 * OPTS_S,
			    &o->drain_us, err, errlen) == -1)
				return -1;
			break;
		case 'R':
			if (opts_dur("ready-timeout", optarg, 100 * OPTS_MS,
			    600 * OPTS_S, &o->ready_timeout_us, err,
			    errlen) == -1)
				return -1;
			break;
		case 'S':
			if (opts_dur("settle", optarg, 10 * OPTS_MS,
			    60 * OPTS_S, &o->settle_us, err, errlen) == -1)
				return -1;
			break;
		case 'o':
			if (opts_num("ng-timeout", optarg, 1, 60000,
			    &o->ng_timeout_ms, err, errlen) == -1)
				return -1;
			break;
		case 'y':
			if (opts_num("ng-tries", optarg, 1, 100, &o->ng_tries,
			    err, errlen) == -1)
				return -1;
			break;
		case 'W':
			if (opts_dur("ping-wait", optarg, 0, 600 * OPTS_S,
			    &o->ping_wait_us, err, errlen) == -1)
				return -1;
			break;
		case 'O':
			if (optarg[0] == '\0') {
				snprintf(err, errlen, "--out: empty file name");
				return -1;
			}
			o->out = optarg;
			break;
		case 'x':
			if (opts_prefix(o, optarg, err, errlen) == -1)
				return -1;
			break;
		case 'N':
			o->no_delete = true;
			break;
		case 'M':
			o->rtcp_mux = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			return OPTS_HELP;
		case 'V':
			return OPTS_VERSION;
		case ':':
			snprintf(err, errlen, "%.40s needs a value",
			    argv[optind - 1]);
			return -1;
		default:
			snprintf(err, errlen, "unknown option '%.40s'",
			    argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc) {
		snprintf(err, errlen, "unexpected argument '%.40s'",
		    argv[optind]);
		return -1;
	}
	return opts_check(o, have_ng, err, errlen);
}
