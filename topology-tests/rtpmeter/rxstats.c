/*
 * Arrival accounting for one stream direction: see rxstats.h for the
 * definitions this file implements.
 */
#include <string.h>

#include "topology-tests/rtpmeter/rxstats.h"

const char *const rx_verdict_names[] = {
	[RX_NEW] = "new",
	[RX_REORDERED] = "reordered",
	[RX_DUPLICATE] = "duplicate",
	[RX_TOO_OLD] = "too_old",
};

const char *
rx_verdict_name(enum rx_verdict v)
{
	if ((unsigned)v >= RX_VERDICT_MAX)
		return "unknown";
	return rx_verdict_names[v];
}

void
rx_init(struct rx *r, uint64_t long_gap_ns)
{
	memset(r, 0, sizeof(*r));
	r->long_gap_ns = long_gap_ns;
	r->highest = -1;
	r->ttl_first = r->ttl_last = r->ttl_before = -1;
}

int64_t
rx_index(uint16_t seq, uint16_t seq0, uint64_t nsent)
{
	uint16_t	newest_seq, back;
	int64_t		newest;

	if (nsent == 0 || nsent > (uint64_t)INT64_MAX)
		return -1;
	newest = (int64_t)(nsent - 1);
	newest_seq = (uint16_t)(seq0 + (uint16_t)newest);
	back = (uint16_t)(newest_seq - seq);
	return newest >= back ? newest - back : -1;
}

static bool
rx_bit(const struct rx *r, int64_t idx)
{
	uint64_t	i = (uint64_t)idx % RX_WINDOW;

	return (r->window[i / 64] >> (i % 64)) & 1;
}

static void
rx_set_bit(struct rx *r, int64_t idx, bool on)
{
	uint64_t	i = (uint64_t)idx % RX_WINDOW;

	if (on)
		r->window[i / 64] |= UINT64_C(1) << (i % 64);
	else
		r->window[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* A silence of len ns from start to end; end may be an arrival or, at the
 * finish, the last send. */
static void
rx_gap(struct rx *r, uint64_t start, uint64_t len, uint64_t end,
    uint64_t fault_ns, bool *pf_updated)
{
	if (!r->have_gap || len > r->max_gap_ns) {
		r->max_gap_ns = len;
		r->max_gap_start_ns = start;
		r->have_gap = true;
	}
	if (fault_ns != 0 && end > fault_ns &&
	    (!r->have_pf_gap || len > r->pf_gap_ns)) {
		r->pf_gap_ns = len;
		r->pf_gap_start_ns = start;
		r->have_pf_gap = true;
		if (pf_updated != NULL)
			*pf_updated = true;
	}
	if (r->long_gap_ns > 0 && len >= r->long_gap_ns)
		r->long_gaps++;
}

enum rx_verdict
rx_arrival(struct rx *r, int64_t idx, uint64_t t_ns, int ttl,
    uint64_t fault_ns)
{
	enum rx_verdict	v;
	int64_t		i;

	if (idx > r->highest) {
		/* Indices entering the window were never received. */
		if (r->highest < 0 || idx - r->highest >= RX_WINDOW)
			memset(r->window, 0, sizeof(r->window));
		else
			for (i = r->highest + 1; i < idx; i++)
				rx_set_bit(r, i, false);
		rx_set_bit(r, idx, true);
		r->highest = idx;
		v = RX_NEW;
	} else if (r->highest - idx >= RX_WINDOW) {
		r->too_old++;
		return RX_TOO_OLD;
	} else if (rx_bit(r, idx)) {
		r->duplicates++;
		return RX_DUPLICATE;
	} else {
		rx_set_bit(r, idx, true);
		r->reordered++;
		v = RX_REORDERED;
	}

	if (r->received > 0)
		rx_gap(r, r->last_ns, t_ns > r->last_ns ? t_ns - r->last_ns :
		    0, t_ns, fault_ns, NULL);
	else
		r->first_ns = t_ns;
	/* A clock stepped back must not make time run backwards here. */
	if (r->received == 0 || t_ns > r->last_ns)
		r->last_ns = t_ns;
	r->received++;

	if (ttl >= 0) {
		if (r->ttl_last >= 0 && ttl != r->ttl_last)
			r->ttl_changes++;
		if (r->ttl_first < 0)
			r->ttl_first = ttl;
		r->ttl_last = ttl;
		if (fault_ns == 0 || t_ns <= fault_ns)
			r->ttl_before = ttl;
	}
	return v;
}

void
rx_finish(const struct rx *r, uint64_t last_send_ns, uint64_t fault_ns,
    uint64_t broken_after_ns, struct rx_result *res)
{
	struct rx	 f = *r;	/* the trailing silence is one more gap */
	bool		 pf_trailing = false;

	memset(res, 0, sizeof(*res));
	if (f.received > 0 && last_send_ns > f.last_ns) {
		res->trailing_ns = last_send_ns - f.last_ns;
		rx_gap(&f, f.last_ns, res->trailing_ns, last_send_ns,
		    fault_ns, &pf_trailing);
	}
	res->received = f.received;
	res->duplicates = f.duplicates;
	res->reordered = f.reordered;
	res->too_old = f.too_old;
	res->first_ns = f.received > 0 ? f.first_ns : 0;
	res->last_ns = f.received > 0 ? f.last_ns : 0;
	res->have_gap = f.have_gap;
	res->max_gap_ns = f.max_gap_ns;
	res->max_gap_start_ns = f.max_gap_start_ns;
	res->have_pf_gap = f.have_pf_gap;
	res->pf_gap_ns = f.pf_gap_ns;
	res->pf_gap_start_ns = f.pf_gap_start_ns;
	res->pf_gap_open = pf_trailing;
	res->long_gaps = f.long_gaps;
	res->broken = f.received == 0 || res->trailing_ns >= broken_after_ns;
	res->ttl_first = f.ttl_first;
	res->ttl_before = f.ttl_before;
	res->ttl_last = f.ttl_last;
	res->ttl_changes = f.ttl_changes;
}
