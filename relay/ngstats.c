/*
 * Statistics parts of ng replies (see relay/ngstats.h).
 *
 * rtpengine reports, per tag (call party), the streams whose local ports
 * that party sends to: one RTP stream and, unless RTCP is muxed, one RTCP
 * stream (on the RTP port when the leg muxes), each with what arrived on it. rtprelay's leg is exactly that: the
 * leg of side s faces the party whose tag is s's, so leg[s] of every media
 * becomes that tag's medias. The RTP stream also carries what only rtprelay
 * has (latch state, SSRC, drops by reason).
 */
#include "relay/ngstats.h"

#include "common/addr.h"

struct ngs_counts {
	uint64_t	packets, bytes, errors;
};

static void
ngs_stats(struct bencoder *b, const struct ngs_counts *n)
{
	benc_str(b, "stats");
	benc_dict(b);
	benc_kv_int(b, "packets", (int64_t)n->packets);
	benc_kv_int(b, "bytes", (int64_t)n->bytes);
	benc_kv_int(b, "errors", (int64_t)n->errors);
	benc_end(b);
}

static void
ngs_endpoint(struct bencoder *b, const char *key, const union sockaddr_any *sa)
{
	struct addr a;
	char buf[INET6_ADDRSTRLEN];

	benc_str(b, key);
	benc_dict(b);
	if (sa != NULL && (sa->sa.sa_family == AF_INET ||
	    sa->sa.sa_family == AF_INET6)) {
		sa_to_addr(sa, &a);
		benc_kv_str(b, "family", a.af == AF_INET ? "IPv4" : "IPv6");
		benc_kv_str(b, "address", addr_fmt(&a, buf, sizeof(buf)));
		benc_kv_int(b, "port", sa_port(sa));
	}
	benc_end(b);
}

/* "drops": {verdict name: count} for every drop verdict of the latch. */
static void
ngs_drops(struct bencoder *b, const uint64_t verdicts[LATCH_VERDICT_MAX])
{
	int v;

	benc_str(b, "drops");
	benc_dict(b);
	for (v = LATCH_DROP_SPOOF; v < LATCH_VERDICT_MAX; v++)
		benc_kv_int(b, latch_verdict_name(v), (int64_t)verdicts[v]);
	benc_end(b);
}

/* "last packet": wall-clock seconds of a monotonic time, 0 if none. */
static void
ngs_last(struct bencoder *b, uint64_t last_us, uint64_t now_us,
    uint64_t now_wall)
{
	if (last_us == 0 || last_us > now_us)
		return;
	benc_kv_int(b, "last packet", (int64_t)(now_wall -
	    (now_us - last_us) / 1000000));
}

static void
ngs_rtp_stream(struct bencoder *b, const struct leg *l,
    const struct ngs_counts *n, uint64_t now_us, uint64_t now_wall)
{
	const struct latch *la = &l->latch;
	const union sockaddr_any *dest = latch_dest(la);

	benc_dict(b);
	benc_kv_int(b, "local port", l->port);
	benc_kv_int(b, "local RTCP port", l->rtcp_mux ? l->port : l->port + 1);
	ngs_endpoint(b, "endpoint", dest);
	ngs_endpoint(b, "advertised endpoint", &la->sdp);
	ngs_endpoint(b, "RTCP endpoint", &l->rtcp_dest);
	ngs_last(b, l->stats.last_us, now_us, now_wall);
	benc_str(b, "flags");
	benc_list(b);
	benc_str(b, "RTP");
	if (dest != NULL)
		benc_str(b, "filled");
	if (la->state == LATCH_LATCHED)
		benc_str(b, "confirmed");
	benc_end(b);
	benc_kv_str(b, "latch", latch_state_name(la->state));
	if (la->state == LATCH_LATCHED)
		benc_kv_int(b, "SSRC", la->ssrc);
	benc_kv_int(b, "rtcp-mux", l->rtcp_mux);
	ngs_stats(b, n);
	benc_kv_int(b, "keepalives", (int64_t)l->stats.keepalives);
	benc_kv_int(b, "DTLS packets", (int64_t)l->stats.dtls_packets);
	benc_kv_int(b, "ZRTP packets", (int64_t)l->stats.zrtp_packets);
	benc_kv_int(b, "latch moves",
	    (int64_t)la->verdicts[LATCH_FORWARD_MOVED]);
	ngs_drops(b, la->verdicts);
	benc_end(b);
}

static void
ngs_rtcp_stream(struct bencoder *b, const struct leg *l,
    const struct ngs_counts *n)
{
	benc_dict(b);
	benc_kv_int(b, "local port", l->rtcp_mux ? l->port : l->port + 1);
	ngs_endpoint(b, "endpoint", &l->rtcp_dest);
	ngs_endpoint(b, "advertised endpoint", &l->sdp_rtcp);
	benc_str(b, "flags");
	benc_list(b);
	benc_str(b, "RTCP");
	benc_end(b);
	ngs_stats(b, n);
	benc_end(b);
}

void
ngstats_call(struct bencoder *b, const struct call *c, uint64_t now_us,
    uint64_t now_wall)
{
	struct ngs_counts tot[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	int i, s;

	benc_kv_int(b, "created", (int64_t)c->created_wall);
	benc_kv_int(b, "last signal", (int64_t)(c->signal_wall != 0 ?
	    c->signal_wall : c->created_wall));
	benc_kv_int(b, "last media", (int64_t)((now_us - c->last_media_us) /
	    1000000));
	benc_str(b, "tags");
	benc_dict(b);
	for (s = 0; s < 2; s++) {
		const char *tag = s == 0 ? c->from_tag : c->to_tag;
		const char *other = s == 0 ? c->to_tag : c->from_tag;

		if (tag[0] == '\0')
			continue;
		benc_str(b, tag);
		benc_dict(b);
		benc_kv_str(b, "tag", tag);
		benc_kv_int(b, "created", (int64_t)c->created_wall);
		if (other[0] != '\0')
			benc_kv_str(b, "in dialogue with", other);
		benc_str(b, "medias");
		benc_list(b);
		for (i = 0; i < c->nmedia; i++) {
			const struct leg *l = &c->media[i]->leg[s];
			struct ngs_counts rtp, rtcp;

			rtcp.packets = l->stats.rtcp_packets;
			rtcp.bytes = l->stats.rtcp_bytes;
			rtcp.errors = 0;
			rtp.packets = l->stats.packets - rtcp.packets;
			rtp.bytes = l->stats.bytes - rtcp.bytes;
			rtp.errors = l->stats.drops + l->stats.send_errors;
			benc_dict(b);
			benc_kv_int(b, "index", i + 1);
			benc_kv_str(b, "type", c->media[i]->type);
			if (l->proto[0] != '\0')
				benc_kv_str(b, "protocol", l->proto);
			benc_str(b, "flags");
			benc_list(b);
			if (l->has_sdp)
				benc_str(b, "initialized");
			if (l->rtcp_mux)
				benc_str(b, "rtcp-mux");
			benc_end(b);
			benc_str(b, "streams");
			benc_list(b);
			ngs_rtp_stream(b, l, &rtp, now_us, now_wall);
			ngs_rtcp_stream(b, l, &rtcp);
			benc_end(b);
			benc_end(b);
			tot[0].packets += rtp.packets;
			tot[0].bytes += rtp.bytes;
			tot[0].errors += rtp.errors;
			tot[1].packets += rtcp.packets;
			tot[1].bytes += rtcp.bytes;
		}
		benc_end(b);
		benc_end(b);
	}
	benc_end(b);
	benc_str(b, "totals");
	benc_dict(b);
	for (s = 0; s < 2; s++) {
		benc_str(b, s == 0 ? "RTP" : "RTCP");
		benc_dict(b);
		benc_kv_int(b, "packets", (int64_t)tot[s].packets);
		benc_kv_int(b, "bytes", (int64_t)tot[s].bytes);
		benc_kv_int(b, "errors", (int64_t)tot[s].errors);
		benc_end(b);
	}
	benc_end(b);
}

void
ngstats_relay(struct bencoder *b, const struct relay_stats *st,
    const struct call_table *t, uint64_t uptime_s)
{
	uint64_t drops = 0;
	int v;

	for (v = LATCH_DROP_SPOOF; v < LATCH_VERDICT_MAX; v++)
		drops += st->verdicts[v];
	benc_str(b, "statistics");
	benc_dict(b);
	benc_str(b, "currentstatistics");
	benc_dict(b);
	benc_kv_int(b, "sessionsown", (int64_t)t->ncalls);
	benc_kv_int(b, "sessionsforeign", 0);
	benc_kv_int(b, "sessionstotal", (int64_t)t->ncalls);
	benc_kv_int(b, "transcodedmedia", 0);
	benc_kv_int(b, "packetrate", (int64_t)st->packet_rate);
	benc_kv_int(b, "byterate", (int64_t)st->byte_rate);
	benc_kv_int(b, "errorrate", 0);
	benc_end(b);
	benc_str(b, "totalstatistics");
	benc_dict(b);
	benc_kv_int(b, "uptime", (int64_t)uptime_s);
	benc_kv_int(b, "managedsessions", (int64_t)st->calls_created);
	benc_kv_int(b, "rejectedsessions", (int64_t)st->calls_rejected);
	benc_kv_int(b, "timeoutsessions", (int64_t)st->calls_expired);
	benc_kv_int(b, "regularterminatedsessions",
	    (int64_t)st->calls_deleted);
	benc_kv_int(b, "deletedsessions", (int64_t)st->calls_deleted);
	benc_kv_int(b, "relayedpackets", (int64_t)st->packets);
	benc_kv_int(b, "relayedpacketerrors", (int64_t)(st->send_errors +
	    drops));
	benc_kv_int(b, "packets", (int64_t)st->packets);
	benc_kv_int(b, "bytes", (int64_t)st->bytes);
	benc_kv_int(b, "rtcppackets", (int64_t)st->rtcp_packets);
	benc_kv_int(b, "dtlspackets", (int64_t)st->dtls_packets);
	benc_kv_int(b, "zrtppackets", (int64_t)st->zrtp_packets);
	benc_kv_int(b, "keepalives", (int64_t)st->keepalives);
	benc_kv_int(b, "latchmoves", (int64_t)st->latch_moves);
	benc_kv_int(b, "senderrors", (int64_t)st->send_errors);
	ngs_drops(b, st->verdicts);
	benc_end(b);
	benc_kv_int(b, "portpairsused", t->pairs_used);
	benc_kv_int(b, "portpairstotal", t->npairs);
	benc_end(b);
}
