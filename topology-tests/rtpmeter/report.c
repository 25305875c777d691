/*
 * rtpmeter's JSON report and human summary.
 *
 * Durations are milliseconds with microsecond resolution (3 decimals);
 * instants are CLOCK_REALTIME nanoseconds as integers, plus milliseconds
 * relative to the fault mark where that is what the reader wants. Whatever
 * did not happen is null, never 0, so a reader cannot mistake "no fault"
 * for "a fault at the epoch".
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "topology-tests/rtpmeter/report.h"

#define JW_MAX_DEPTH	8

/* A small streaming JSON writer: commas and line breaks by depth. */
struct jw {
	FILE	*f;
	int	 depth;
	bool	 more[JW_MAX_DEPTH];	/* the container has an element */
};

static void
jw_str_raw(struct jw *w, const char *s)
{
	const unsigned char *p;

	fputc('"', w->f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(w->f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(w->f, "\\u%04x", *p);
		else
			fputc(*p, w->f);
	}
	fputc('"', w->f);
}

/* Separator, line break for the outer levels, then the key if any. */
static void
jw_key(struct jw *w, const char *key)
{
	int	i;

	if (w->depth > 0) {
		if (w->more[w->depth - 1])
			fputc(',', w->f);
		w->more[w->depth - 1] = true;
		if (w->depth <= 2) {
			fputc('\n', w->f);
			for (i = 0; i < w->depth; i++)
				fputc(' ', w->f);
		}
	}
	if (key != NULL) {
		jw_str_raw(w, key);
		fputc(':', w->f);
	}
}

static void
jw_open(struct jw *w, const char *key, char c)
{
	jw_key(w, key);
	fputc(c, w->f);
	if (w->depth < JW_MAX_DEPTH)
		w->more[w->depth] = false;
	w->depth++;
}

static void
jw_close(struct jw *w, char c)
{
	w->depth--;
	if (w->depth <= 1 && w->more[w->depth])
		fputc('\n', w->f);
	fputc(c, w->f);
}

static void
jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str_raw(w, s);
}

static void
jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

static void
jw_i64(struct jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRId64, v);
}

static void
jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->f);
}

static void
jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

/* ns as milliseconds, 3 decimals, exact (no floating point). */
static void
jw_ms(struct jw *w, const char *key, int64_t ns)
{
	uint64_t	a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	a = (a + 500) / 1000;		/* microseconds, rounded */
	jw_key(w, key);
	fprintf(w->f, "%s%" PRIu64 ".%03" PRIu64, ns < 0 && a > 0 ? "-" : "",
	    a / 1000, a % 1000);
}

static void
jw_ms_if(struct jw *w, const char *key, bool have, uint64_t ns)
{
	if (have)
		jw_ms(w, key, (int64_t)ns);
	else
		jw_null(w, key);
}

/* t - ref in ms, or null if either instant did not happen. */
static void
jw_ms_rel(struct jw *w, const char *key, uint64_t t, uint64_t ref)
{
	if (t == 0 || ref == 0)
		jw_null(w, key);
	else
		jw_ms(w, key, (int64_t)(t - ref));
}

static void
jw_ns_if(struct jw *w, const char *key, uint64_t t)
{
	if (t == 0)
		jw_null(w, key);
	else
		jw_u64(w, key, t);
}

static void
jw_ttl(struct jw *w, const char *key, int ttl)
{
	if (ttl < 0)
		jw_null(w, key);
	else
		jw_i64(w, key, ttl);
}

uint64_t
report_lost(const struct report_dir *d)
{
	return d->sent > d->rx.received ? d->sent - d->rx.received : 0;
}

uint64_t
report_lost_after_fault(const struct report_dir *d)
{
	if (!d->have_mark || d->sent_after_fault < d->received_after_fault)
		return 0;
	return d->sent_after_fault - d->received_after_fault;
}

static int
report_cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least q of the values at or
 * below it. */
static uint64_t
report_quantile(const uint64_t *sorted, size_t n, unsigned pct)
{
	size_t	rank = (n * pct + 99) / 100;

	return sorted[rank > 0 ? rank - 1 : 0];
}

int
report_totals(const struct report_dir *d, size_t n, struct report_totals *t)
{
	uint64_t	*pf;
	bool		*broken_call;
	size_t		 i, ncalls = 0, npf = 0;

	memset(t, 0, sizeof(*t));
	t->streams = (int)n;
	for (i = 0; i < n; i++)
		if ((size_t)d[i].call + 1 > ncalls)
			ncalls = (size_t)d[i].call + 1;
	pf = malloc((n > 0 ? n : 1) * sizeof(*pf));
	broken_call = calloc(ncalls > 0 ? ncalls : 1, sizeof(*broken_call));
	if (pf == NULL || broken_call == NULL) {
		free(pf);
		free(broken_call);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct rx_result *r = &d[i].rx;

		t->sent += d[i].sent;
		t->received += r->received;
		t->lost += report_lost(&d[i]);
		t->duplicates += r->duplicates;
		t->reordered += r->reordered;
		if (r->broken) {
			t->streams_broken++;
			if (!broken_call[d[i].call]) {
				broken_call[d[i].call] = true;
				t->sessions_broken++;
			}
		}
		if (d[i].unserved)
			t->streams_unserved++;
		if (r->ttl_before >= 0 && r->ttl_last >= 0 &&
		    r->ttl_before != r->ttl_last)
			t->streams_moved++;
		if (r->have_gap && (!t->have_gap ||
		    r->max_gap_ns > t->max_gap_ns)) {
			t->max_gap_ns = r->max_gap_ns;
			t->have_gap = true;
		}
		if (r->have_pf_gap)
			pf[npf++] = r->pf_gap_ns;
	}
	if (npf > 0) {
		qsort(pf, npf, sizeof(*pf), report_cmp_u64);
		t->n_pf = (int)npf;
		t->pf_max_ns = pf[npf - 1];
		t->pf_median_ns = report_quantile(pf, npf, 50);
		t->pf_p95_ns = report_quantile(pf, npf, 95);
	}
	free(pf);
	free(broken_call);
	return 0;
}

void
report_warn(struct report_run *run, const char *fmt, ...)
{
	va_list	ap;

	if (run->nwarnings == REPORT_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(run->warnings[run->nwarnings++],
	    sizeof(run->warnings[0]), fmt, ap);
	va_end(ap);
}

static void
report_json_run(struct jw *w, const struct report_run *run)
{
	int	i;

	jw_open(w, "run", '{');
	jw_str(w, "ng", run->ng);
	jw_i64(w, "calls", run->calls);
	jw_i64(w, "calls_created", run->calls_created);
	jw_i64(w, "calls_deleted", run->calls_deleted);
	jw_i64(w, "streams", 2 * (int64_t)run->calls_created);
	jw_i64(w, "ptime_ms", run->ptime_ms);
	jw_i64(w, "size", run->size);
	jw_i64(w, "payload_type", run->pt);
	jw_bool(w, "rtcp_mux", run->rtcp_mux);
	jw_ms(w, "duration_ms", (int64_t)run->duration_us * 1000);
	jw_ms_if(w, "after_fault_ms", run->after_fault_us > 0,
	    run->after_fault_us * 1000);
	jw_ms(w, "broken_after_ms", (int64_t)run->broken_after_us * 1000);
	jw_ms(w, "long_gap_ms", (int64_t)run->long_gap_us * 1000);
	jw_ms(w, "drain_ms", (int64_t)run->drain_us * 1000);
	jw_ms_if(w, "settle_ms", run->settle_us > 0, run->settle_us * 1000);
	jw_bool(w, "ready", run->ready);
	jw_bool(w, "interrupted", run->interrupted);
	jw_ns_if(w, "start_ns", run->start_ns);
	jw_ns_if(w, "ready_ns", run->ready_ns);
	jw_ns_if(w, "fault_ns", run->fault_ns);
	jw_ns_if(w, "fault_mono_ns", run->fault_mono_ns);
	jw_i64(w, "fault_marks", run->fault_marks);
	jw_ns_if(w, "stop_ns", run->stop_ns);
	jw_ns_if(w, "end_ns", run->end_ns);
	jw_ms_rel(w, "stop_after_fault_ms", run->stop_ns, run->fault_ns);
	jw_ms(w, "clock_step_ms", run->clock_step_ns);
	jw_ms(w, "max_send_lag_ms", (int64_t)run->max_send_lag_ns);
	jw_open(w, "warnings", '[');
	for (i = 0; i < run->nwarnings; i++)
		jw_str(w, NULL, run->warnings[i]);
	jw_close(w, ']');
	jw_close(w, '}');
}

static void
report_json_totals(struct jw *w, const struct report_totals *t)
{
	jw_open(w, "summary", '{');
	jw_i64(w, "streams", t->streams);
	jw_u64(w, "sent", t->sent);
	jw_u64(w, "received", t->received);
	jw_u64(w, "lost", t->lost);
	jw_u64(w, "duplicates", t->duplicates);
	jw_u64(w, "reordered", t->reordered);
	jw_i64(w, "streams_broken", t->streams_broken);
	jw_i64(w, "sessions_broken", t->sessions_broken);
	jw_i64(w, "streams_moved", t->streams_moved);
	jw_i64(w, "streams_unserved", t->streams_unserved);
	jw_ms_if(w, "max_gap_ms", t->have_gap, t->max_gap_ns);
	jw_i64(w, "post_fault_streams", t->n_pf);
	jw_ms_if(w, "post_fault_gap_max_ms", t->n_pf > 0, t->pf_max_ns);
	jw_ms_if(w, "post_fault_gap_median_ms", t->n_pf > 0,
	    t->pf_median_ns);
	jw_ms_if(w, "post_fault_gap_p95_ms", t->n_pf > 0, t->pf_p95_ns);
	jw_close(w, '}');
}

static void
report_json_dir(struct jw *w, const struct report_dir *d, uint64_t fault_ns)
{
	const struct rx_result *r = &d->rx;

	jw_open(w, NULL, '{');
	jw_i64(w, "id", 2 * (int64_t)d->call + (d->b_to_a ? 1 : 0));
	jw_i64(w, "call", d->call);
	jw_str(w, "call_id", d->call_id);
	jw_str(w, "direction", d->b_to_a ? "b->a" : "a->b");
	jw_str(w, "src", d->src);
	jw_str(w, "relay_in", d->relay_in);
	jw_str(w, "relay_out", d->relay_out);
	jw_str(w, "dst", d->dst);
	jw_u64(w, "ssrc", d->ssrc);
	jw_u64(w, "sent", d->sent);
	jw_u64(w, "send_errors", d->send_errors);
	jw_u64(w, "received", r->received);
	jw_u64(w, "lost", report_lost(d));
	if (d->have_mark)
		jw_u64(w, "lost_after_fault", report_lost_after_fault(d));
	else
		jw_null(w, "lost_after_fault");
	jw_u64(w, "duplicates", r->duplicates);
	jw_u64(w, "reordered", r->reordered);
	jw_u64(w, "too_old", r->too_old);
	jw_u64(w, "foreign", d->foreign);
	jw_u64(w, "rx_overflow", d->rx_overflow);
	jw_u64(w, "src_mismatch", d->src_mismatch);
	jw_ns_if(w, "first_arrival_ns", r->first_ns);
	jw_ns_if(w, "last_arrival_ns", r->last_ns);
	jw_ms_if(w, "max_gap_ms", r->have_gap, r->max_gap_ns);
	jw_ms_rel(w, "max_gap_start_ms", r->have_gap ? r->max_gap_start_ns :
	    0, fault_ns);
	jw_ns_if(w, "max_gap_start_ns", r->have_gap ? r->max_gap_start_ns :
	    0);
	jw_ms_if(w, "post_fault_gap_ms", r->have_pf_gap, r->pf_gap_ns);
	jw_ms_rel(w, "post_fault_gap_start_ms", r->have_pf_gap ?
	    r->pf_gap_start_ns : 0, fault_ns);
	jw_bool(w, "post_fault_gap_open", r->pf_gap_open);
	jw_ms_if(w, "trailing_silence_ms", r->received > 0, r->trailing_ns);
	jw_u64(w, "long_gaps", r->long_gaps);
	jw_bool(w, "broken", r->broken);
	jw_bool(w, "unserved", d->unserved);
	jw_ms(w, "max_send_gap_ms", (int64_t)d->max_send_gap_ns);
	jw_ttl(w, "ttl_first", r->ttl_first);
	jw_ttl(w, "ttl_before_fault", fault_ns != 0 ? r->ttl_before : -1);
	jw_ttl(w, "ttl_last", r->ttl_last);
	jw_u64(w, "ttl_changes", r->ttl_changes);
	jw_close(w, '}');
}

void
report_json(FILE *f, const struct report_run *run,
    const struct report_totals *t, const struct report_dir *d, size_t n)
{
	struct jw	w = { .f = f };
	size_t		i;

	jw_open(&w, NULL, '{');
	jw_str(&w, "schema", REPORT_SCHEMA);
	jw_str(&w, "version", run->version);
	report_json_run(&w, run);
	report_json_totals(&w, t);
	jw_open(&w, "streams", '[');
	for (i = 0; i < n; i++)
		report_json_dir(&w, &d[i], run->fault_ns);
	jw_close(&w, ']');
	jw_close(&w, '}');
	fputc('\n', f);
}

static double
report_msd(uint64_t ns)
{
	return (double)ns / 1e6;
}

void
report_summary(FILE *f, const struct report_run *run,
    const struct report_totals *t)
{
	int	i;

	fprintf(f, "rtpmeter: %d calls, %d streams, ptime %d ms, %d bytes%s%s\n",
	    run->calls_created, t->streams, run->ptime_ms, run->size,
	    run->ready ? "" : ", NEVER READY",
	    run->interrupted ? ", interrupted" : "");
	fprintf(f, "  packets: sent %" PRIu64 ", received %" PRIu64
	    ", lost %" PRIu64 ", duplicates %" PRIu64 ", reordered %" PRIu64
	    "\n", t->sent, t->received, t->lost, t->duplicates, t->reordered);
	if (t->have_gap)
		fprintf(f, "  largest gap of any stream: %.3f ms\n",
		    report_msd(t->max_gap_ns));
	if (run->fault_ns == 0)
		fprintf(f, "  no fault marked\n");
	else if (t->n_pf > 0)
		fprintf(f, "  after the fault (%d streams): max %.3f ms, "
		    "median %.3f ms, p95 %.3f ms\n", t->n_pf,
		    report_msd(t->pf_max_ns), report_msd(t->pf_median_ns),
		    report_msd(t->pf_p95_ns));
	fprintf(f, "  broken: %d of %d streams, %d of %d sessions; moved "
	    "(TTL changed): %d\n", t->streams_broken, t->streams,
	    t->sessions_broken, run->calls_created, t->streams_moved);
	if (run->settle_us > 0)
		fprintf(f, "  unserved (silent when ready came, --settle): "
		    "%d of %d streams\n", t->streams_unserved, t->streams);
	for (i = 0; i < run->nwarnings; i++)
		fprintf(f, "  warning: %s\n", run->warnings[i]);
}
