/*
 * Call table (hash by call-id plus an age-ordered list) and the media port
 * allocator. No I/O: legs are opened and closed through struct call_ops.
 */
#include "relay/call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALL_BUCKETS_MIN	1024
#define CALL_TOMB_BUCKETS	4096
#define CALL_TOMBS_MAX		100000
#define CALL_OPEN_TRIES		8

static uint64_t
call_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

int
call_table_init(struct call_table *t, uint16_t port_min, uint16_t port_max,
    const struct call_ops *ops)
{
	memset(t, 0, sizeof(*t));
	if (port_min % 2 != 0 || port_max < port_min + 1)
		return -1;
	t->port_min = port_min;
	t->npairs = ((uint32_t)port_max - port_min + 1) / 2;
	t->pairs = calloc((t->npairs + 63) / 64, sizeof(uint64_t));
	t->nbuckets = CALL_BUCKETS_MIN;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (t->pairs == NULL || t->buckets == NULL) {
		free(t->pairs);
		free(t->buckets);
		return -1;
	}
	t->ops = *ops;
	return 0;
}

void
call_table_free(struct call_table *t)
{
	while (t->head != NULL)
		call_delete(t, t->head);
	while (t->tomb_head != NULL) {
		struct call_tomb *tb = t->tomb_head;

		t->tomb_head = tb->qnext;
		free(tb);
	}
	free(t->tombs);
	free(t->pairs);
	free(t->buckets);
	free(t->block_own);
	memset(t, 0, sizeof(*t));
}

static bool
call_pair_used(const struct call_table *t, uint32_t i)
{
	return (t->pairs[i / 64] & (1ULL << (i % 64))) != 0;
}

static void
call_pair_take(struct call_table *t, uint32_t i)
{
	t->pairs[i / 64] |= 1ULL << (i % 64);
	t->pairs_used++;
	if (t->block_own != NULL && t->block_own[i / t->block_pairs])
		t->owned_free--;
}

static bool
call_pair_allowed(const struct call_table *t, uint32_t i)
{
	return t->block_own == NULL || t->block_own[i / t->block_pairs];
}

uint16_t
call_port_alloc(struct call_table *t)
{
	uint32_t i, n;

	if (t->pairs_used >= t->npairs)
		return 0;
	for (n = 0; n < t->npairs; n++) {
		i = (t->next_pair + n) % t->npairs;
		if (!call_pair_used(t, i) && call_pair_allowed(t, i)) {
			call_pair_take(t, i);
			t->next_pair = (i + 1) % t->npairs;
			return (uint16_t)(t->port_min + 2 * i);
		}
	}
	return 0;
}

int
call_port_claim(struct call_table *t, uint16_t port)
{
	uint32_t i;

	if (port < t->port_min || (port - t->port_min) % 2 != 0)
		return -1;
	i = (uint32_t)(port - t->port_min) / 2;
	if (i >= t->npairs || call_pair_used(t, i))
		return -1;
	call_pair_take(t, i);
	return 0;
}

bool
call_port_used(const struct call_table *t, uint16_t port)
{
	uint32_t i;

	if (port < t->port_min || (port - t->port_min) % 2 != 0)
		return false;
	i = (uint32_t)(port - t->port_min) / 2;
	return i < t->npairs && call_pair_used(t, i);
}

int
call_table_use_blocks(struct call_table *t, uint32_t block_pairs)
{
	if (block_pairs == 0)
		return -1;
	free(t->block_own);
	t->owned_free = 0;
	t->block_pairs = block_pairs;
	t->nblocks = (t->npairs + block_pairs - 1) / block_pairs;
	if ((t->block_own = calloc(t->nblocks, 1)) == NULL) {
		t->nblocks = 0;
		return -1;
	}
	return 0;
}

void
call_block_set_owned(struct call_table *t, uint32_t block, bool own)
{
	if (t->block_own == NULL || block >= t->nblocks ||
	    t->block_own[block] == own)
		return;
	t->block_own[block] = own;
	if (own)
		t->owned_free += call_block_free_pairs(t, block);
	else
		t->owned_free -= call_block_free_pairs(t, block);
}

bool
call_block_owned(const struct call_table *t, uint32_t block)
{
	return t->block_own != NULL && block < t->nblocks &&
	    t->block_own[block];
}

uint32_t
call_block_free_pairs(const struct call_table *t, uint32_t block)
{
	uint32_t i, lo, hi, n = 0;

	if (t->block_own == NULL || block >= t->nblocks)
		return 0;
	lo = block * t->block_pairs;
	hi = lo + t->block_pairs;
	if (hi > t->npairs)
		hi = t->npairs;
	for (i = lo; i < hi; i++)
		if (!call_pair_used(t, i))
			n++;
	return n;
}


void
call_port_free(struct call_table *t, uint16_t port)
{
	uint32_t i;

	if (port < t->port_min || (port - t->port_min) % 2 != 0)
		return;
	i = (uint32_t)(port - t->port_min) / 2;
	if (i >= t->npairs || (t->pairs[i / 64] & (1ULL << (i % 64))) == 0)
		return;
	t->pairs[i / 64] &= ~(1ULL << (i % 64));
	t->pairs_used--;
	if (t->block_own != NULL && t->block_own[i / t->block_pairs])
		t->owned_free++;
}

struct call *
call_find(struct call_table *t, const char *id)
{
	struct call *c;

	for (c = t->buckets[call_hash(id) % t->nbuckets]; c != NULL;
	    c = c->hnext)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

/* Double the buckets when chains grow past two on average. */
static void
call_rehash(struct call_table *t)
{
	struct call **nb, *c;
	size_t n = t->nbuckets * 2, b;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;		/* longer chains, still correct */
	for (c = t->head; c != NULL; c = c->next) {
		b = call_hash(c->id) % n;
		c->hnext = nb[b];
		nb[b] = c;
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
}

struct call *
call_create(struct call_table *t, const char *id, uint64_t now_us,
    uint64_t now_wall)
{
	struct call *c;
	size_t b;

	if (strlen(id) > CALL_ID_MAX || call_find(t, id) != NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	memcpy(c->id, id, strlen(id) + 1);
	c->created_us = now_us;
	c->created_wall = now_wall;
	c->last_media_us = now_us;
	if (t->ncalls + 1 > t->nbuckets * 2)
		call_rehash(t);
	b = call_hash(id) % t->nbuckets;
	c->hnext = t->buckets[b];
	t->buckets[b] = c;
	c->prev = t->tail;
	if (t->tail != NULL)
		t->tail->next = c;
	else
		t->head = c;
	t->tail = c;
	t->ncalls++;
	return c;
}

static void
media_free(struct call_table *t, struct media *m)
{
	int s;

	for (s = 0; s < 2; s++) {
		if (m->leg[s].io != NULL)
			t->ops.close_leg(&m->leg[s], t->ops.arg);
		m->leg[s].io = NULL;
		if (m->leg[s].port != 0)
			call_port_free(t, m->leg[s].port);
	}
	free(m);
}

void
call_delete(struct call_table *t, struct call *c)
{
	struct call **pp;
	int i;

	for (pp = &t->buckets[call_hash(c->id) % t->nbuckets]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		t->tail = c->prev;
	if (c->dirty != 0)
		for (pp = &t->dirty_head; *pp != NULL; pp = &(*pp)->dnext)
			if (*pp == c) {
				*pp = c->dnext;
				break;
			}
	for (i = 0; i < c->nmedia; i++)
		media_free(t, c->media[i]);
	t->ncalls--;
	free(c);
}

/*
 * Give leg l a port pair and open it. A pair that cannot be bound (another
 * program holds one of its ports) is released and the next one tried, so a
 * stray socket in the range costs one pair, not every offer.
 */
static int
media_open(struct call_table *t, struct leg *l, const struct addr *vip,
    char *err, size_t errlen)
{
	int tries;

	for (tries = 0; tries < CALL_OPEN_TRIES; tries++) {
		if ((l->port = call_port_alloc(t)) == 0) {
			if (t->block_own != NULL)
				snprintf(err, errlen, "no free media ports in "
				    "the blocks this relay leased (%u pairs in "
				    "use in the cluster)", t->pairs_used);
			else
				snprintf(err, errlen, "no free media ports (%u "
				    "pairs in use)", t->pairs_used);
			return CALL_NO_PORTS;
		}
		if (t->ops.open_leg(l, vip, t->ops.arg) == 0)
			return 0;
		call_port_free(t, l->port);
	}
	snprintf(err, errlen, "cannot open media ports: %d pairs tried, "
	    "the last %u-%u", CALL_OPEN_TRIES, l->port, l->port + 1);
	l->port = 0;
	return -1;
}

/*
 * A new media with both legs open: on ports[side] when given (learned from
 * another relay, claimed as they are), else on newly allocated pairs.
 */
static struct media *
media_new(struct call_table *t, struct call *c, int index,
    const struct addr *vip, const uint16_t *ports, int *rc, char *err,
    size_t errlen)
{
	struct media *m;
	int s;

	*rc = -1;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->call = c;
	m->index = index;
	for (s = 0; s < 2; s++) {
		m->leg[s].media = m;
		m->leg[s].side = s;
		latch_init(&m->leg[s].latch, NULL);
	}
	for (s = 0; s < 2; s++) {
		if (ports == NULL) {
			if ((*rc = media_open(t, &m->leg[s], vip, err,
			    errlen)) != 0)
				goto fail;
			continue;
		}
		if (call_port_claim(t, ports[s]) == -1) {
			snprintf(err, errlen, "port %u is %s", ports[s],
			    call_port_used(t, ports[s]) ? "used by another "
			    "call here" : "outside the media port range");
			goto fail;
		}
		m->leg[s].port = ports[s];
		if (t->ops.open_leg(&m->leg[s], vip, t->ops.arg) == -1) {
			snprintf(err, errlen, "cannot open media ports "
			    "%u-%u", ports[s], ports[s] + 1);
			goto fail;
		}
	}
	return m;
fail:
	media_free(t, m);
	return NULL;
}

/* Can c have n media on vip? */
static int
call_media_check(const struct call *c, int n, const struct addr *vip,
    char *err, size_t errlen)
{
	if (n < 1 || n > CALL_MAX_MEDIA) {
		snprintf(err, errlen, "%d media streams (1..%d supported)", n,
		    CALL_MAX_MEDIA);
		return -1;
	}
	if (c->nmedia > 0 && vip->af != c->af) {
		snprintf(err, errlen, "address family change within a call "
		    "is not supported");
		return -1;
	}
	return 0;
}

int
call_set_media(struct call_table *t, struct call *c, int n,
    const struct addr *vip, char *err, size_t errlen)
{
	int i, old = c->nmedia, rc;

	if (call_media_check(c, n, vip, err, errlen) == -1)
		return -1;
	for (i = old; i < n; i++) {
		c->media[i] = media_new(t, c, i, vip, NULL, &rc, err, errlen);
		if (c->media[i] == NULL) {
			while (--i >= old)
				media_free(t, c->media[i]);
			return rc;
		}
	}
	/* Media past n in a re-offer are released. */
	for (i = n; i < old; i++)
		media_free(t, c->media[i]);
	c->nmedia = n;
	c->af = vip->af;
	c->vip = *vip;
	return 0;
}

int
call_restore_media(struct call_table *t, struct call *c, int n,
    const uint16_t ports[][2], const struct addr *vip, char *err,
    size_t errlen)
{
	int i, j, old = c->nmedia, rc;

	if (call_media_check(c, n, vip, err, errlen) == -1)
		return -1;
	for (i = n; i < old; i++)
		media_free(t, c->media[i]);
	c->nmedia = n < old ? n : old;
	for (i = 0; i < n; i++) {
		if (i < c->nmedia) {
			if (c->media[i]->leg[0].port == ports[i][0] &&
			    c->media[i]->leg[1].port == ports[i][1])
				continue;
			media_free(t, c->media[i]);
		}
		c->media[i] = media_new(t, c, i, vip, ports[i], &rc, err,
		    errlen);
		if (c->media[i] == NULL) {
			/* Nothing half-built stays: the caller deletes it. */
			for (j = 0; j < c->nmedia; j++)
				if (j != i)
					media_free(t, c->media[j]);
			c->nmedia = 0;
			return -1;
		}
		if (i >= c->nmedia)
			c->nmedia = i + 1;
	}
	c->nmedia = n;
	c->af = vip->af;
	c->vip = *vip;
	return 0;
}

void
call_leg_sync_rtcp(struct call_table *t, struct leg *l)
{
	if (t->ops.rtcp == NULL || l->io == NULL)
		return;
	(void)t->ops.rtcp(l, !(l->has_sdp && l->rtcp_mux), t->ops.arg);
}

void
call_mark_dirty(struct call_table *t, struct call *c, uint32_t bits)
{
	if (t->block_own == NULL)
		return;		/* standalone: nothing replicates */
	if (c->dirty == 0) {
		c->dnext = t->dirty_head;
		t->dirty_head = c;
	}
	c->dirty |= bits;
}

struct call *
call_take_dirty(struct call_table *t)
{
	struct call *c = t->dirty_head;

	t->dirty_head = NULL;
	return c;
}

struct leg *
leg_peer(struct leg *l)
{
	return &l->media->leg[1 - l->side];
}

static struct call_tomb **
call_tomb_slot(const struct call_table *t, const char *id)
{
	struct call_tomb **pp;

	for (pp = &t->tombs[call_hash(id) % CALL_TOMB_BUCKETS]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (strcmp((*pp)->id, id) == 0)
			return pp;
	return pp;
}

/* Unlink from the hash chain and the expiry queue (usually its head). */
static void
call_tomb_unlink(struct call_table *t, struct call_tomb **slot)
{
	struct call_tomb *tb = *slot, **qp, *prev = NULL;

	*slot = tb->hnext;
	for (qp = &t->tomb_head; *qp != NULL; prev = *qp, qp = &(*qp)->qnext)
		if (*qp == tb) {
			*qp = tb->qnext;
			break;
		}
	if (t->tomb_tail == tb)
		t->tomb_tail = prev;
	t->ntombs--;
}

void
call_tomb_add(struct call_table *t, const char *id,
    const struct rec_version *v, uint64_t expires_us)
{
	struct call_tomb **slot, *tb;
	size_t len = strlen(id);

	if (t->tombs == NULL &&
	    (t->tombs = calloc(CALL_TOMB_BUCKETS, sizeof(*t->tombs))) == NULL)
		return;
	slot = call_tomb_slot(t, id);
	if (*slot != NULL) {
		if (v->ver > (*slot)->v.ver || (v->ver == (*slot)->v.ver &&
		    v->node > (*slot)->v.node))
			(*slot)->v = *v;
		return;
	}
	if (t->ntombs >= CALL_TOMBS_MAX && t->tomb_head != NULL) {
		tb = t->tomb_head;
		call_tomb_remove(t, tb->id);
		slot = call_tomb_slot(t, id);
	}
	if ((tb = malloc(sizeof(*tb) + len + 1)) == NULL)
		return;
	memcpy(tb->id, id, len + 1);
	tb->v = *v;
	tb->expires_us = expires_us;
	tb->hnext = NULL;
	tb->qnext = NULL;
	*slot = tb;
	if (t->tomb_tail != NULL)
		t->tomb_tail->qnext = tb;
	else
		t->tomb_head = tb;
	t->tomb_tail = tb;
	t->ntombs++;
}

const struct rec_version *
call_tomb_find(const struct call_table *t, const char *id)
{
	struct call_tomb **slot;

	if (t->tombs == NULL)
		return NULL;
	slot = call_tomb_slot(t, id);
	return *slot != NULL ? &(*slot)->v : NULL;
}

void
call_tomb_remove(struct call_table *t, const char *id)
{
	struct call_tomb **slot, *tb;

	if (t->tombs == NULL || *(slot = call_tomb_slot(t, id)) == NULL)
		return;
	tb = *slot;
	call_tomb_unlink(t, slot);
	free(tb);
}

void
call_tomb_expire(struct call_table *t, uint64_t now_us)
{
	while (t->tomb_head != NULL && t->tomb_head->expires_us <= now_us)
		call_tomb_remove(t, t->tomb_head->id);
}
