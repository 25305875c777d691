/*
 * Shared session state through Redis (relay/repl.h).
 */
#include "relay/repl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>
#include <async.h>
#include <adapters/libev.h>

#include "common/log.h"
#include "common/mono.h"

#define REPL_TOMBSTONE_TTL_MS	(REC_TOMB_US / 1000)
#define REPL_PENDING_MAX	100000	/* deletes kept while Redis is away */
#define REPL_CLAIMS_MAX		8	/* block leases in flight */
/* What this relay knows of a block it does not hold (claim_pending). */
#define REPL_BLOCK_UNKNOWN	0
#define REPL_BLOCK_ASKED	1	/* lease in flight */
#define REPL_BLOCK_TAKEN	2	/* leased by another relay */
#define REPL_RESERVE_PAIRS	256	/* free pairs kept leased, at least */
#define REPL_BACKOFF_MIN	0.1
#define REPL_BACKOFF_MAX	2.0
#define REPL_KEY_MAX		(RELAY_PREFIX_MAX + CALL_ID_MAX + 16)

/*
 * One write: store ARGV[2] in field ARGV[1] of the call's hash unless the
 * stored value is as new or newer (the 24-character header compares like
 * the versions), then publish the event. A latch or activity needs a live
 * call. A tombstone leaves the set of live calls and expires; a live call
 * joins it. Returns 1 when written, 0 when the call is not live, or the
 * newer stored value.
 */
static const char repl_write_lua[] =
	"local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"if cur and string.sub(cur, 1, 24) >= string.sub(ARGV[2], 1, 24) "
	"then return cur end\n"
	"if ARGV[1] ~= 's' then\n"
	"  local s = redis.call('HGET', KEYS[1], 's')\n"
	"  if not s or string.sub(s, 25, 25) == 'D' then return 0 end\n"
	"end\n"
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
	"if ARGV[1] == 's' then\n"
	"  if string.sub(ARGV[2], 25, 25) == 'D' then\n"
	"    redis.call('SREM', KEYS[2], ARGV[5])\n"
	"    redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
	"  else\n"
	"    redis.call('SADD', KEYS[2], ARGV[5])\n"
	"    redis.call('PERSIST', KEYS[1])\n"
	"  end\n"
	"end\n"
	"redis.call('PUBLISH', ARGV[3], ARGV[6])\n"
	"return 1\n";

/* Lease a port block: free, or ours already (a restart keeps its blocks). */
static const char repl_lease_lua[] =
	"local v = redis.call('GET', KEYS[1])\n"
	"if not v or v == ARGV[1] then\n"
	"  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
	"  return 1\n"
	"end\n"
	"return 0\n";

/* Replication lag histogram bounds, seconds. */
static const double repl_lag_le[] = {
	0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075,
	0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1.0,
};
#define REPL_LAG_BUCKETS	(sizeof(repl_lag_le) / sizeof(repl_lag_le[0]))

enum repl_state {
	REPL_DOWN,		/* waiting to reconnect */
	REPL_CONNECTING,
	REPL_SYNCING,		/* subscribed, pushing and loading */
	REPL_UP,
};

/* A delete made while Redis was away, written when it returns. */
struct repl_pending {
	struct repl_pending	*next;
	char			 id[CALL_ID_MAX + 1];
	size_t			 len;
	char			 val[];
};

struct repl {
	struct ev_loop			*loop;
	const struct relay_config	*cfg;
	struct call_table		*t;
	char				 node[RELAY_NODE_MAX + 1];
	uint32_t			 node_hash;
	char				 ip[64];
	int				 port;
	char				 channel[RELAY_PREFIX_MAX + 16];
	char				 calls_key[RELAY_PREFIX_MAX + 16];

	redisAsyncContext		*cmd, *sub;
	bool				 cmd_up, sub_up;
	enum repl_state			 state;
	uint64_t			 state_since;	/* mono µs */
	bool				 ready;
	bool				 load_done;
	uint32_t			 load_pending;	/* HGETALLs */
	uint32_t			 load_total;
	uint64_t			 ping_sent;	/* mono µs, 0 = none */
	double				 backoff;
	uint32_t			 claiming;	/* leases in flight */
	uint32_t			 reserve;	/* free pairs to hold */
	uint8_t				*claim_pending;	/* REPL_BLOCK_* */
	uint32_t			 claim_tries;
	uint32_t			 claim_next;
	uint32_t			 blocks;	/* held */
	struct repl_pending		*pending;
	uint32_t			 npending;

	ev_timer			 retry_w, health_w, lease_w, kill_w;
	ev_prepare			 flush_w;

	/* Counters for metrics and logs. */
	uint64_t			 outcomes[REC_OUTCOME_MAX];
	uint64_t			 loaded;
	uint64_t			 writes, write_rejected, write_gone,
					 write_errors, write_dropped;
	uint64_t			 disconnects;
	uint64_t			 blocks_lost;
	uint64_t			 lag_bucket[REPL_LAG_BUCKETS];
	uint64_t			 lag_count;
	double				 lag_sum;
};

static void repl_connect(struct repl *r);
static void repl_teardown(struct repl *r, const char *why);
static int repl_claim(struct repl *r);

static void
repl_set_state(struct repl *r, enum repl_state s)
{
	r->state = s;
	r->state_since = mono_us();
}

static void
repl_call_key(const struct repl *r, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s:call:%s", r->cfg->redis_prefix, id);
}

/* ---- applying what other relays wrote ---- */

static void
repl_lag(struct repl *r, uint64_t wrote_us)
{
	uint64_t now = wall_us();
	double s = now > wrote_us ? (double)(now - wrote_us) / 1e6 : 0;
	size_t i;

	for (i = 0; i < REPL_LAG_BUCKETS; i++)
		if (s <= repl_lag_le[i])
			r->lag_bucket[i]++;
	r->lag_count++;
	r->lag_sum += s;
}

static enum rec_outcome
repl_apply(struct repl *r, const char *id, const char *field, size_t flen,
    const char *val, size_t vlen, bool event)
{
	struct rec_applied info;
	enum rec_outcome o;
	char err[256];

	o = rec_apply(r->t, r->cfg, id, field, flen, val, vlen, mono_us(),
	    (uint64_t)time(NULL), &info, err, sizeof(err));
	r->outcomes[o]++;
	switch (o) {
	case REC_APPLIED:
		if (event && info.wrote_us != 0)
			repl_lag(r, info.wrote_us);
		if (info.created)
			log_debug("call %s: learned from the shared state", id);
		else if (info.deleted)
			log_info("call %s: deleted by another relay", id);
		break;
	case REC_CONFLICT:
		log_warnx("call %.200s: not served here: %s", id, err);
		break;
	case REC_INVALID:
		log_warnx("call %.200s: record field '%.*s' refused: %s", id,
		    (int)(flen > 8 ? 8 : flen), field, err);
		break;
	default:
		break;
	}
	return o;
}

static void
repl_event(struct repl *r, const char *msg, size_t len)
{
	struct rec_event ev;
	char err[256];

	if (rec_decode_event(msg, len, &ev, err, sizeof(err)) == -1) {
		r->outcomes[REC_INVALID]++;
		log_warnx("shared state: event refused: %s", err);
		return;
	}
	if (ev.node == r->node_hash)
		return;		/* our own write coming back */
	repl_apply(r, ev.id, ev.field, strlen(ev.field), ev.val, ev.vlen,
	    true);
}

/* ---- writing ---- */

struct repl_wreq {
	struct repl	*r;
	char		 field[REC_FIELD_MAX];
	char		 id[];
};

static void
repl_write_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct repl_wreq *w = priv;
	struct repl *r = w->r;
	redisReply *rep = reply;

	(void)ac;
	if (rep == NULL) {
		r->write_dropped++;	/* connection gone: pushed again later */
	} else if (rep->type == REDIS_REPLY_INTEGER) {
		if (rep->integer == 1)
			r->writes++;
		else
			r->write_gone++;	/* the call is deleted there */
	} else if (rep->type == REDIS_REPLY_STRING) {
		/* Someone wrote a newer version: take it. */
		r->write_rejected++;
		repl_apply(r, w->id, w->field, strlen(w->field), rep->str,
		    rep->len, false);
	} else {
		r->write_errors++;
		if (rep->type == REDIS_REPLY_ERROR)
			log_warnx("shared state: write of call %.200s: %s",
			    w->id, rep->str);
	}
	free(w);
}

static void
repl_send(struct repl *r, const char *id, const char *field,
    const char *val, size_t vlen)
{
	static char msg[REC_EVENT_MAX];
	char key[REPL_KEY_MAX], ttl[16];
	const char *argv[11];
	size_t argvlen[11], mlen, idlen = strlen(id);
	struct repl_wreq *w;
	int i;

	if (!r->cmd_up || r->state < REPL_SYNCING)
		return;
	mlen = rec_encode_event(id, field, val, vlen, r->node_hash, msg,
	    sizeof(msg));
	if (mlen == 0 || (w = malloc(sizeof(*w) + idlen + 1)) == NULL) {
		r->write_errors++;
		return;
	}
	w->r = r;
	snprintf(w->field, sizeof(w->field), "%s", field);
	memcpy(w->id, id, idlen + 1);
	repl_call_key(r, id, key, sizeof(key));
	snprintf(ttl, sizeof(ttl), "%llu",
	    (unsigned long long)REPL_TOMBSTONE_TTL_MS);
	argv[0] = "EVAL";
	argv[1] = repl_write_lua;
	argv[2] = "2";
	argv[3] = key;
	argv[4] = r->calls_key;
	argv[5] = field;
	argv[6] = val;
	argv[7] = r->channel;
	argv[8] = ttl;
	argv[9] = id;
	argv[10] = msg;
	for (i = 0; i < 11; i++)
		argvlen[i] = strlen(argv[i]);
	argvlen[6] = vlen;
	argvlen[10] = mlen;
	if (redisAsyncCommandArgv(r->cmd, repl_write_cb, w, 11, argv,
	    argvlen) != REDIS_OK) {
		r->write_errors++;
		free(w);
	}
}

/* Write the parts of c named by bits, with the versions they carry. */
static void
repl_write_parts(struct repl *r, struct call *c, uint32_t bits)
{
	static char val[REC_VALUE_MAX];
	uint64_t now = wall_us();
	struct rec_field f;
	char field[REC_FIELD_MAX];
	size_t len;
	int i, s;

	if ((bits & CALL_DIRTY_SIG) && c->sig_ver.ver != 0) {
		len = rec_encode_sig(c, &c->sig_ver, false, now, val,
		    sizeof(val));
		if (len > 0)
			repl_send(r, c->id, "s", val, len);
		else
			r->write_errors++;
	}
	for (i = 0; i < c->nmedia; i++)
		for (s = 0; s < 2; s++) {
			struct leg *l = &c->media[i]->leg[s];

			if (!(bits & CALL_DIRTY_LATCH(i, s)) ||
			    l->latch_ver.ver == 0)
				continue;
			len = rec_encode_latch(l, &l->latch_ver, now, val,
			    sizeof(val));
			f.kind = REC_LATCH;
			f.media = i;
			f.side = s;
			rec_field_name(&f, field, sizeof(field));
			if (len > 0)
				repl_send(r, c->id, field, val, len);
		}
	if ((bits & CALL_DIRTY_ACT) && c->act_ver.ver != 0) {
		len = rec_encode_act(&c->act_ver, now, val, sizeof(val));
		if (len > 0)
			repl_send(r, c->id, "a", val, len);
	}
}

/* New versions for what changed here, then the write (if connected;
 * otherwise the push after reconnecting carries them). */
static void
repl_flush_call(struct repl *r, struct call *c)
{
	uint64_t now = wall_us();
	uint32_t bits = c->dirty;
	int i, s;

	if (bits & CALL_DIRTY_SIG) {
		c->sig_ver.ver = rec_next_version(&c->sig_ver, now);
		c->sig_ver.node = r->node_hash;
	}
	for (i = 0; i < c->nmedia; i++)
		for (s = 0; s < 2; s++)
			if (bits & CALL_DIRTY_LATCH(i, s)) {
				struct leg *l = &c->media[i]->leg[s];

				l->latch_ver.ver = rec_next_version(
				    &l->latch_ver, now);
				l->latch_ver.node = r->node_hash;
			}
	if (bits & CALL_DIRTY_ACT) {
		c->act_ver.ver = rec_next_version(&c->act_ver, now);
		c->act_ver.node = r->node_hash;
	}
	c->dirty = 0;
	repl_write_parts(r, c, bits);
}

static void
repl_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct repl *r = w->data;
	struct call *c, *next;

	(void)loop;
	(void)revents;
	if (r->t->dirty_head != NULL)
		for (c = call_take_dirty(r->t); c != NULL; c = next) {
			next = c->dnext;
			c->dnext = NULL;
			repl_flush_call(r, c);
		}
	/* Keep a reserve of free pairs, asking for several blocks at once:
	 * offers come in bursts and must never wait for Redis. */
	while (r->state >= REPL_SYNCING && r->claiming < REPL_CLAIMS_MAX &&
	    r->claim_tries < r->t->nblocks &&
	    r->t->owned_free + r->claiming * r->t->block_pairs < r->reserve)
		if (repl_claim(r) == -1)
			break;
}

void
repl_call_ended(struct repl *r, struct call *c)
{
	static char val[REC_VALUE_MAX];
	struct repl_pending *p;
	struct rec_version v;
	uint64_t now = wall_us();
	size_t len;

	v.ver = rec_next_version(&c->sig_ver, now);
	v.node = r->node_hash;
	call_tomb_add(r->t, c->id, &v, mono_us() + REC_TOMB_US);
	len = rec_encode_sig(c, &v, true, now, val, sizeof(val));
	if (len == 0)
		return;
	if (r->cmd_up && r->state >= REPL_SYNCING) {
		repl_send(r, c->id, "s", val, len);
		return;
	}
	if (r->npending >= REPL_PENDING_MAX ||
	    (p = malloc(sizeof(*p) + len)) == NULL) {
		r->write_dropped++;
		return;
	}
	snprintf(p->id, sizeof(p->id), "%s", c->id);
	memcpy(p->val, val, len);
	p->len = len;
	p->next = r->pending;
	r->pending = p;
	r->npending++;
}

/* ---- port blocks ---- */

static void
repl_lease_send(struct repl *r, uint32_t block, redisCallbackFn *cb,
    void *priv)
{
	char key[RELAY_PREFIX_MAX + 32], ms[24];
	const char *argv[6];
	size_t argvlen[6];
	int i;

	snprintf(key, sizeof(key), "%s:block:%" PRIu32, r->cfg->redis_prefix,
	    block);
	snprintf(ms, sizeof(ms), "%" PRIu64, r->cfg->redis_lease_us / 1000);
	argv[0] = "EVAL";
	argv[1] = repl_lease_lua;
	argv[2] = "1";
	argv[3] = key;
	argv[4] = r->node;
	argv[5] = ms;
	for (i = 0; i < 6; i++)
		argvlen[i] = strlen(argv[i]);
	(void)redisAsyncCommandArgv(r->cmd, cb, priv, 6, argv, argvlen);
}

static void repl_check_ready(struct repl *r);

static void
repl_claim_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct repl *r = ac->data;
	redisReply *rep = reply;
	uint32_t block = (uint32_t)(uintptr_t)priv;

	if (r->claiming > 0)
		r->claiming--;
	r->claim_pending[block] = REPL_BLOCK_UNKNOWN;
	if (rep == NULL)
		return;
	if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 1) {
		r->claim_tries = 0;
		if (!call_block_owned(r->t, block)) {
			call_block_set_owned(r->t, block, true);
			r->blocks++;
			log_info("shared state: leased port block %" PRIu32
			    " (ports %u-%u)", block, r->t->port_min +
			    2 * block * r->t->block_pairs,
			    r->t->port_min + 2 * (block + 1) *
			    r->t->block_pairs - 1);
		}
	} else if (rep->type == REDIS_REPLY_ERROR)
		log_warnx("shared state: leasing a port block: %s", rep->str);
	else {
		/* Leased by another relay: not asked again until the
		 * lease timer (its owner may die), and the scan goes on
		 * elsewhere, since the neighbour likely leases the blocks
		 * after it too. After a whole round, wait for the timer. */
		r->claim_pending[block] = REPL_BLOCK_TAKEN;
		r->claim_next = (block + r->t->nblocks / 2 + 1) %
		    r->t->nblocks;
		if (++r->claim_tries == r->t->nblocks)
			log_warnx("shared state: every free port block is "
			    "leased by other relays; %" PRIu32 " held here",
			    r->blocks);
	}
	repl_check_ready(r);
	/* The next prepare round asks again if still short. */
}

/* Ask for the next block worth having. -1 if there is none to ask for. */
static int
repl_claim(struct repl *r)
{
	uint32_t i, b;

	for (i = 0; i < r->t->nblocks; i++) {
		b = (r->claim_next + i) % r->t->nblocks;
		if (call_block_owned(r->t, b) || r->claim_pending[b])
			continue;
		/* A block still full of a dead relay's calls is no help. */
		if (call_block_free_pairs(r->t, b) == 0)
			continue;
		r->claiming++;
		r->claim_pending[b] = REPL_BLOCK_ASKED;
		r->claim_next = (b + 1) % r->t->nblocks;
		repl_lease_send(r, b, repl_claim_cb, (void *)(uintptr_t)b);
		return 0;
	}
	return -1;
}

static void
repl_renew_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct repl *r = ac->data;
	redisReply *rep = reply;
	uint32_t block = (uint32_t)(uintptr_t)priv;

	if (rep == NULL || rep->type != REDIS_REPLY_INTEGER ||
	    rep->integer == 1 || !call_block_owned(r->t, block))
		return;
	/* Our lease ran out while Redis could not hear us, and another
	 * relay took the block: stop allocating from it. */
	call_block_set_owned(r->t, block, false);
	r->blocks--;
	r->blocks_lost++;
	log_warnx("shared state: port block %" PRIu32 " is leased by another "
	    "relay now; no new calls from it here", block);
}

static void
repl_lease_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct repl *r = w->data;
	uint32_t b;

	(void)loop;
	(void)revents;
	if (!r->cmd_up || r->state < REPL_SYNCING)
		return;
	r->claim_tries = 0;
	for (b = 0; b < r->t->nblocks; b++)
		if (r->claim_pending[b] == REPL_BLOCK_TAKEN)
			r->claim_pending[b] = REPL_BLOCK_UNKNOWN;
	for (b = 0; b < r->t->nblocks; b++)
		if (call_block_owned(r->t, b))
			repl_lease_send(r, b, repl_renew_cb,
			    (void *)(uintptr_t)b);
}

/* ---- loading ---- */

static void
repl_check_ready(struct repl *r)
{
	if (r->state == REPL_SYNCING && r->load_done) {
		repl_set_state(r, REPL_UP);
		r->backoff = REPL_BACKOFF_MIN;
	}
	/* Ready once loaded and the first leases are back (the reserve, or
	 * whatever the other relays left). */
	if (!r->ready && r->load_done && r->blocks > 0 && r->claiming == 0) {
		r->ready = true;
		log_info("shared state ready: %" PRIu64 " calls loaded, %zu "
		    "calls in the table, %" PRIu32 " port blocks", r->loaded,
		    r->t->ncalls, r->blocks);
	}
}

static void
repl_hgetall_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct repl *r = ac->data;
	redisReply *rep = reply;
	char *id = priv;
	size_t i;
	int pass;

	if (rep != NULL && rep->type == REDIS_REPLY_ARRAY) {
		/* The signalling part first: the others need the call. */
		for (pass = 0; pass < 2; pass++)
			for (i = 0; i + 1 < rep->elements; i += 2) {
				redisReply *f = rep->element[i];
				redisReply *v = rep->element[i + 1];
				bool sig;

				if (f->type != REDIS_REPLY_STRING ||
				    v->type != REDIS_REPLY_STRING)
					continue;
				sig = f->len == 1 && f->str[0] == 's';
				if (sig == (pass == 0))
					repl_apply(r, id, f->str, f->len,
					    v->str, v->len, false);
			}
		r->loaded++;
	}
	free(id);
	if (rep == NULL)
		return;		/* the load restarts with the connection */
	if (--r->load_pending == 0) {
		r->load_done = true;
		log_info("shared state: %" PRIu32 " calls loaded from Redis in "
		    "%" PRIu64 " ms", r->load_total,
		    (mono_us() - r->state_since) / 1000);
		repl_check_ready(r);
	}
}

static void
repl_members_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct repl *r = ac->data;
	redisReply *rep = reply;
	char key[REPL_KEY_MAX], *id;
	size_t i;

	(void)priv;
	if (rep == NULL)
		return;
	if (rep->type != REDIS_REPLY_ARRAY) {
		repl_teardown(r, rep->type == REDIS_REPLY_ERROR ? rep->str :
		    "unexpected reply to SMEMBERS");
		return;
	}
	r->load_pending = 0;
	r->load_total = 0;
	for (i = 0; i < rep->elements; i++) {
		redisReply *e = rep->element[i];

		if (e->type != REDIS_REPLY_STRING || e->len == 0 ||
		    e->len > CALL_ID_MAX || memchr(e->str, '\0', e->len))
			continue;
		if ((id = strndup(e->str, e->len)) == NULL)
			continue;
		repl_call_key(r, id, key, sizeof(key));
		if (redisAsyncCommand(r->cmd, repl_hgetall_cb, id,
		    "HGETALL %s", key) != REDIS_OK) {
			free(id);
			continue;
		}
		r->load_pending++;
		r->load_total++;
	}
	if (r->load_pending == 0) {
		r->load_done = true;
		log_info("shared state: no calls in Redis");
		repl_check_ready(r);
	}
}

/* Subscribed: push what we hold, then load what everyone holds. */
static void
repl_sync(struct repl *r)
{
	struct repl_pending *p, *next;
	struct call *c;
	uint32_t bits;
	int i, s;

	repl_set_state(r, REPL_SYNCING);
	r->load_done = false;
	r->loaded = 0;
	for (c = r->t->head; c != NULL; c = c->next) {
		bits = CALL_DIRTY_SIG | CALL_DIRTY_ACT;
		for (i = 0; i < c->nmedia; i++)
			for (s = 0; s < 2; s++)
				bits |= CALL_DIRTY_LATCH(i, s);
		repl_write_parts(r, c, bits);
	}
	for (p = r->pending; p != NULL; p = next) {
		next = p->next;
		repl_send(r, p->id, "s", p->val, p->len);
		free(p);
	}
	r->pending = NULL;
	r->npending = 0;
	redisAsyncCommand(r->cmd, repl_members_cb, NULL, "SMEMBERS %s",
	    r->calls_key);
	/* Blocks held before the outage are renewed (or found lost). */
	repl_lease_cb(r->loop, &r->lease_w, 0);
}

static void
repl_sub_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct repl *r = ac->data;
	redisReply *rep = reply;

	(void)priv;
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
	    rep->elements < 3 || rep->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(rep->element[0]->str, "message") == 0 &&
	    rep->element[2]->type == REDIS_REPLY_STRING)
		repl_event(r, rep->element[2]->str, rep->element[2]->len);
	else if (strcmp(rep->element[0]->str, "subscribe") == 0 &&
	    r->state == REPL_CONNECTING) {
		log_info("shared state: connected to Redis %s:%d as %s",
		    r->ip, r->port, r->node);
		repl_sync(r);
	}
}

/* ---- connections ---- */

static void
repl_both_up(struct repl *r)
{
	if (!r->cmd_up || !r->sub_up)
		return;
	redisAsyncCommand(r->sub, repl_sub_cb, NULL, "SUBSCRIBE %s",
	    r->channel);
}

static void
repl_connect_cb(const redisAsyncContext *ac, int status)
{
	struct repl *r = ac->data;

	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback. */
		if (ac == r->cmd)
			r->cmd = NULL;
		else if (ac == r->sub)
			r->sub = NULL;
		repl_teardown(r, ac->errstr);
		return;
	}
	if (ac == r->cmd)
		r->cmd_up = true;
	else if (ac == r->sub)
		r->sub_up = true;
	repl_both_up(r);
}

static void
repl_disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct repl *r = ac->data;

	if (ac == r->cmd) {
		r->cmd = NULL;
		r->cmd_up = false;
	} else if (ac == r->sub) {
		r->sub = NULL;
		r->sub_up = false;
	}
	repl_teardown(r, status == REDIS_OK ? "closed" : ac->errstr);
}

static redisAsyncContext *
repl_context(struct repl *r)
{
	redisAsyncContext *ac;

	ac = redisAsyncConnect(r->ip, r->port);
	if (ac == NULL)
		return NULL;
	if (ac->err) {
		log_warnx("shared state: Redis %s:%d: %s", r->ip, r->port,
		    ac->errstr);
		redisAsyncFree(ac);
		return NULL;
	}
	ac->data = r;
	redisLibevAttach(r->loop, ac);
	redisAsyncSetConnectCallback(ac, repl_connect_cb);
	redisAsyncSetDisconnectCallback(ac, repl_disconnect_cb);
	return ac;
}

static void
repl_connect(struct repl *r)
{
	repl_set_state(r, REPL_CONNECTING);
	r->ping_sent = 0;
	r->cmd = repl_context(r);
	r->sub = r->cmd != NULL ? repl_context(r) : NULL;
	if (r->cmd == NULL || r->sub == NULL)
		repl_teardown(r, "cannot create a connection");
}

static void
repl_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	repl_connect(w->data);
}

/*
 * Close what is left outside hiredis' own callbacks (a context may not be
 * freed from inside one), then reconnect after a backoff.
 */
static void
repl_kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct repl *r = w->data;
	redisAsyncContext *ac;

	(void)loop;
	(void)revents;
	if ((ac = r->cmd) != NULL) {
		r->cmd = NULL;
		redisAsyncFree(ac);
	}
	if ((ac = r->sub) != NULL) {
		r->sub = NULL;
		redisAsyncFree(ac);
	}
	ev_timer_set(&r->retry_w, r->backoff, 0);
	ev_timer_start(r->loop, &r->retry_w);
	r->backoff = r->backoff * 2 > REPL_BACKOFF_MAX ? REPL_BACKOFF_MAX :
	    r->backoff * 2;
}

static void
repl_teardown(struct repl *r, const char *why)
{
	if (r->state == REPL_DOWN)
		return;
	if (r->state >= REPL_SYNCING) {
		r->disconnects++;
		log_warnx("shared state: lost Redis %s:%d (%s); forwarding "
		    "every known call, new calls from %" PRIu32 " held port "
		    "blocks", r->ip, r->port, why, r->blocks);
	} else
		log_warnx("shared state: cannot reach Redis %s:%d (%s)%s",
		    r->ip, r->port, why, r->ready ? "" : "; not ready");
	repl_set_state(r, REPL_DOWN);
	r->cmd_up = r->sub_up = false;
	r->load_done = false;
	ev_timer_set(&r->kill_w, 0, 0);
	ev_timer_start(r->loop, &r->kill_w);
}

static void
repl_pong_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct repl *r = ac->data;

	(void)priv;
	if (reply != NULL)
		r->ping_sent = 0;
}

/* A stopped Redis keeps its TCP connections: only a reply proves it. */
static void
repl_health_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct repl *r = w->data;
	uint64_t now = mono_us();
	char why[96];

	(void)loop;
	(void)revents;
	if (r->state == REPL_CONNECTING &&
	    now - r->state_since > r->cfg->redis_timeout_us) {
		snprintf(why, sizeof(why), "no connection within %" PRIu64
		    " ms", r->cfg->redis_timeout_us / 1000);
		repl_teardown(r, why);
		return;
	}
	if (r->state < REPL_SYNCING || !r->cmd_up)
		return;
	if (r->ping_sent != 0) {
		if (now - r->ping_sent > r->cfg->redis_timeout_us) {
			snprintf(why, sizeof(why), "no reply for %" PRIu64
			    " ms", (now - r->ping_sent) / 1000);
			repl_teardown(r, why);
		}
		return;
	}
	r->ping_sent = now;
	redisAsyncCommand(r->cmd, repl_pong_cb, NULL, "PING");
}

/* ---- public ---- */

struct repl *
repl_open(struct ev_loop *loop, const struct relay_config *cfg,
    struct call_table *t, char *err, size_t errlen)
{
	struct repl *r;
	struct addr a;
	double iv;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->loop = loop;
	r->cfg = cfg;
	r->t = t;
	if (cfg->redis_node[0] != '\0')
		snprintf(r->node, sizeof(r->node), "%s", cfg->redis_node);
	else if (gethostname(r->node, sizeof(r->node) - 1) == -1 ||
	    r->node[0] == '\0') {
		snprintf(err, errlen, "redis.node is not set and the host "
		    "name is unknown");
		free(r);
		return NULL;
	}
	r->node_hash = rec_node_hash(r->node);
	sa_to_addr(&cfg->redis_server, &a);
	addr_fmt(&a, r->ip, sizeof(r->ip));
	r->port = sa_port(&cfg->redis_server);
	snprintf(r->channel, sizeof(r->channel), "%s:events",
	    cfg->redis_prefix);
	snprintf(r->calls_key, sizeof(r->calls_key), "%s:calls",
	    cfg->redis_prefix);
	if (call_table_use_blocks(t, cfg->redis_port_block) == -1) {
		snprintf(err, errlen, "out of memory");
		free(r);
		return NULL;
	}
	r->claim_next = r->node_hash % t->nblocks;
	/* Four blocks, or 256 pairs if blocks are small; never more than a
	 * quarter of the range, which the other relays need too. */
	r->reserve = 4 * t->block_pairs > REPL_RESERVE_PAIRS ?
	    4 * t->block_pairs : REPL_RESERVE_PAIRS;
	if (r->reserve > t->npairs / 4)
		r->reserve = t->npairs / 4 > t->block_pairs ? t->npairs / 4 :
		    t->block_pairs;
	if ((r->claim_pending = calloc(t->nblocks, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(r);
		return NULL;
	}
	r->backoff = REPL_BACKOFF_MIN;
	repl_set_state(r, REPL_DOWN);

	ev_timer_init(&r->retry_w, repl_retry_cb, 0, 0);
	r->retry_w.data = r;
	ev_timer_init(&r->kill_w, repl_kill_cb, 0, 0);
	r->kill_w.data = r;
	iv = (double)cfg->redis_timeout_us / 4e6;
	ev_timer_init(&r->health_w, repl_health_cb, iv, iv);
	r->health_w.data = r;
	ev_timer_start(loop, &r->health_w);
	iv = (double)cfg->redis_lease_us / 3e6;
	ev_timer_init(&r->lease_w, repl_lease_cb, iv, iv);
	r->lease_w.data = r;
	ev_timer_start(loop, &r->lease_w);
	ev_prepare_init(&r->flush_w, repl_flush_cb);
	r->flush_w.data = r;
	ev_prepare_start(loop, &r->flush_w);
	log_info("shared state: node %s, Redis %s:%d, key prefix %s, port "
	    "blocks of %" PRIu32 " pairs (%" PRIu32 " blocks)", r->node,
	    r->ip, r->port, cfg->redis_prefix, t->block_pairs, t->nblocks);
	repl_connect(r);
	return r;
}

void
repl_close(struct repl *r)
{
	struct repl_pending *p;

	if (r == NULL)
		return;
	ev_timer_stop(r->loop, &r->retry_w);
	ev_timer_stop(r->loop, &r->kill_w);
	ev_timer_stop(r->loop, &r->health_w);
	ev_timer_stop(r->loop, &r->lease_w);
	ev_prepare_stop(r->loop, &r->flush_w);
	r->state = REPL_DOWN;	/* no reconnect from the callbacks below */
	if (r->cmd != NULL)
		redisAsyncFree(r->cmd);
	if (r->sub != NULL)
		redisAsyncFree(r->sub);
	while ((p = r->pending) != NULL) {
		r->pending = p->next;
		free(p);
	}
	free(r->claim_pending);
	free(r);
}

bool
repl_ready(struct repl *r, char *why, size_t len)
{
	if (r->ready)
		return true;
	if (r->state < REPL_SYNCING)
		snprintf(why, len, "not ready: no connection to Redis %s:%d "
		    "yet (shared state not loaded)", r->ip, r->port);
	else if (!r->load_done)
		snprintf(why, len, "not ready: loading shared state from Redis "
		    "(%" PRIu64 " of %" PRIu32 " calls)", r->loaded,
		    r->load_total);
	else
		snprintf(why, len, "not ready: no media port block leased yet");
	return false;
}

void
repl_metrics(struct repl *r, struct mbuf *m)
{
	char labels[64];
	size_t i;
	int o;

	metrics_family(m, "rtprelay_shared_state_ready", "gauge",
	    "1 once the shared state was loaded and a port block leased.");
	metrics_value_u64(m, "rtprelay_shared_state_ready", NULL, r->ready);
	metrics_family(m, "rtprelay_redis_connected", "gauge",
	    "1 while Redis answers (subscribed and synchronised).");
	metrics_value_u64(m, "rtprelay_redis_connected", NULL,
	    r->state == REPL_UP);
	metrics_family(m, "rtprelay_redis_disconnects_total", "counter",
	    "Connections to Redis lost after they were synchronised.");
	metrics_value_u64(m, "rtprelay_redis_disconnects_total", NULL,
	    r->disconnects);
	metrics_family(m, "rtprelay_port_blocks", "gauge",
	    "Media port blocks leased by this relay.");
	metrics_value_u64(m, "rtprelay_port_blocks", NULL, r->blocks);
	metrics_family(m, "rtprelay_port_blocks_lost_total", "counter",
	    "Port blocks found leased by another relay at renewal.");
	metrics_value_u64(m, "rtprelay_port_blocks_lost_total", NULL,
	    r->blocks_lost);
	metrics_family(m, "rtprelay_replication_events_total", "counter",
	    "Changes from other relays (events and loads), by outcome.");
	for (o = 0; o < REC_OUTCOME_MAX; o++) {
		snprintf(labels, sizeof(labels), "outcome=\"%s\"",
		    rec_outcome_name(o));
		metrics_value_u64(m, "rtprelay_replication_events_total",
		    labels, r->outcomes[o]);
	}
	metrics_family(m, "rtprelay_replication_writes_total", "counter",
	    "Writes of this relay's changes, by outcome.");
	metrics_value_u64(m, "rtprelay_replication_writes_total",
	    "outcome=\"stored\"", r->writes);
	metrics_value_u64(m, "rtprelay_replication_writes_total",
	    "outcome=\"not_newer\"", r->write_rejected);
	metrics_value_u64(m, "rtprelay_replication_writes_total",
	    "outcome=\"call_gone\"", r->write_gone);
	metrics_value_u64(m, "rtprelay_replication_writes_total",
	    "outcome=\"error\"", r->write_errors);
	metrics_value_u64(m, "rtprelay_replication_writes_total",
	    "outcome=\"dropped\"", r->write_dropped);
	metrics_family(m, "rtprelay_replication_lag_seconds", "histogram",
	    "From a write on another relay to its apply here (wall clock).");
	for (i = 0; i < REPL_LAG_BUCKETS; i++) {
		snprintf(labels, sizeof(labels), "le=\"%g\"", repl_lag_le[i]);
		metrics_value_u64(m, "rtprelay_replication_lag_seconds_bucket",
		    labels, r->lag_bucket[i]);
	}
	metrics_value_u64(m, "rtprelay_replication_lag_seconds_bucket",
	    "le=\"+Inf\"", r->lag_count);
	metrics_value(m, "rtprelay_replication_lag_seconds_sum", NULL,
	    r->lag_sum);
	metrics_value_u64(m, "rtprelay_replication_lag_seconds_count", NULL,
	    r->lag_count);
}
