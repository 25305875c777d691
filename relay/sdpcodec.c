/*
 * rtpengine's codec manipulations that need no transcoding: strip, except,
 * offer and single codec, on the format list of one m= line (see
 * sdp_codec_select() in relay/sdp.h). Pure.
 *
 * The relay forwards whatever payload the endpoints agree on, so removing
 * or reordering offered formats is only an edit of the SDP: the answerer
 * picks among what is left, and both ends then send that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay/sdp.h"

/* RFC 3551 section 6: the static payload types, for formats without an
 * a=rtpmap line. */
static const struct {
	uint8_t		 pt;
	const char	*name;
	uint32_t	 clock;
	uint16_t	 channels;
} sdpc_static[] = {
	{ 0, "PCMU", 8000, 1 },		{ 3, "GSM", 8000, 1 },
	{ 4, "G723", 8000, 1 },		{ 5, "DVI4", 8000, 1 },
	{ 6, "DVI4", 16000, 1 },	{ 7, "LPC", 8000, 1 },
	{ 8, "PCMA", 8000, 1 },		{ 9, "G722", 8000, 1 },
	{ 10, "L16", 44100, 2 },	{ 11, "L16", 44100, 1 },
	{ 12, "QCELP", 8000, 1 },	{ 13, "CN", 8000, 1 },
	{ 14, "MPA", 90000, 0 },	{ 15, "G728", 8000, 1 },
	{ 16, "DVI4", 11025, 1 },	{ 17, "DVI4", 22050, 1 },
	{ 18, "G729", 8000, 1 },	{ 25, "CelB", 90000, 0 },
	{ 26, "JPEG", 90000, 0 },	{ 28, "nv", 90000, 0 },
	{ 31, "H261", 90000, 0 },	{ 32, "MPV", 90000, 0 },
	{ 33, "MP2T", 90000, 0 },	{ 34, "H263", 90000, 0 },
};

/* What one format of the media is called. */
struct sdpc_codec {
	const char	*name;		/* not NUL-terminated */
	size_t		 len;		/* 0: unknown (dynamic PT, no rtpmap) */
	uint32_t	 clock;
	uint16_t	 channels;	/* 0: not given */
};

static void
sdpc_describe(const char *sdp, const struct sdp_media *m, uint8_t pt,
    struct sdpc_codec *c)
{
	const struct sdp_rtpmap *r = &m->rtpmap[pt & 0x7f];
	size_t i;

	memset(c, 0, sizeof(*c));
	if (r->name_len > 0) {
		c->name = sdp + r->name_off;
		c->len = r->name_len;
		c->clock = r->clock;
		c->channels = r->channels;
		return;
	}
	for (i = 0; i < sizeof(sdpc_static) / sizeof(sdpc_static[0]); i++)
		if (sdpc_static[i].pt == pt) {
			c->name = sdpc_static[i].name;
			c->len = strlen(c->name);
			c->clock = sdpc_static[i].clock;
			c->channels = sdpc_static[i].channels;
			return;
		}
}

/*
 * Does spec ("all", "8", "PCMA", "opus/48000", "opus/48000/2") name the
 * format pt? A number names a payload type; a name matches the encoding
 * name, then the clock rate and the channels when the spec gives them (a
 * format without a channel count has one).
 */
static bool
sdpc_match(const char *spec, uint8_t pt, const struct sdpc_codec *c)
{
	const char *s1, *s2;
	size_t nlen;
	char *end;
	unsigned long v;

	if (strcasecmp(spec, "all") == 0 || strcasecmp(spec, "full") == 0)
		return true;
	if (spec[0] >= '0' && spec[0] <= '9') {
		v = strtoul(spec, &end, 10);
		return *end == '\0' && v == pt;
	}
	if (c->len == 0)
		return false;
	s1 = strchr(spec, '/');
	nlen = s1 != NULL ? (size_t)(s1 - spec) : strlen(spec);
	if (nlen != c->len || strncasecmp(spec, c->name, nlen) != 0)
		return false;
	if (s1 == NULL)
		return true;
	v = strtoul(s1 + 1, &end, 10);
	if (end == s1 + 1 || (*end != '\0' && *end != '/') || v != c->clock)
		return false;
	if ((s2 = strchr(s1 + 1, '/')) == NULL || s2[1] == '\0')
		return true;
	v = strtoul(s2 + 1, &end, 10);
	if (end == s2 + 1 || (*end != '\0' && *end != '/'))
		return false;
	return v == (c->channels == 0 ? 1 : c->channels);
}

static bool
sdpc_listed(const char *const *specs, int n, uint8_t pt,
    const struct sdpc_codec *c)
{
	int i;

	for (i = 0; i < n; i++)
		if (sdpc_match(specs[i], pt, c))
			return true;
	return false;
}

/* telephone-event and comfort noise ride along with the chosen codec. */
static bool
sdpc_supplemental(const struct sdpc_codec *c)
{
	return (c->len == 15 && strncasecmp(c->name, "telephone-event",
	    15) == 0) || (c->len == 2 && strncasecmp(c->name, "CN", 2) == 0);
}

int
sdp_codec_select(const char *sdp, const struct sdp_media *m,
    const struct sdp_codec_ops *ops, uint8_t out[SDP_MAX_FMT])
{
	struct sdpc_codec codec[SDP_MAX_FMT];
	bool keep[SDP_MAX_FMT], taken[SDP_MAX_FMT], have = false;
	int i, j, n = 0;

	if (!m->rtp || m->nfmt > SDP_MAX_FMT)
		return -1;
	for (i = 0; i < m->nfmt; i++) {
		sdpc_describe(sdp, m, m->fmt[i], &codec[i]);
		keep[i] = !sdpc_listed(ops->strip, ops->nstrip, m->fmt[i],
		    &codec[i]) || sdpc_listed(ops->except, ops->nexcept,
		    m->fmt[i], &codec[i]) || sdpc_listed(ops->offer,
		    ops->noffer, m->fmt[i], &codec[i]);
		taken[i] = false;
	}
	/* Offered codecs first, in the order the offer list names them. */
	for (j = 0; j < ops->noffer; j++)
		for (i = 0; i < m->nfmt; i++)
			if (!taken[i] && sdpc_match(ops->offer[j], m->fmt[i],
			    &codec[i])) {
				out[n++] = m->fmt[i];
				taken[i] = true;
			}
	for (i = 0; i < m->nfmt; i++)
		if (keep[i] && !taken[i]) {
			out[n++] = m->fmt[i];
			taken[i] = true;
		}
	if (!ops->single || n == 0)
		return n;
	/* Single codec: the first that is not supplemental, and the
	 * supplemental ones, in their order. */
	for (i = 0, j = 0; i < n; i++) {
		struct sdpc_codec c;

		sdpc_describe(sdp, m, out[i], &c);
		if (sdpc_supplemental(&c))
			out[j++] = out[i];
		else if (!have) {
			out[j++] = out[i];
			have = true;
		}
	}
	return j;
}
