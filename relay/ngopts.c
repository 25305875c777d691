/*
 * ng request options (see relay/ngopts.h): tables of rtpengine's flags and
 * keys with what rtprelay does with each, and the walk over a request.
 *
 * The tables hold canonical names (lower case, '-' for ' ' and '_'); a
 * name is looked up with ngopts_name_eq(), so every spelling rtpengine
 * accepts matches. A refused option carries the reason the error reply
 * gives, one of the ngo_why strings below.
 */
#include "relay/ngopts.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Why the relay cannot serve an option: the tail of the error message. */
static const char ngo_why_transcode[] =
    "rtprelay forwards media unchanged and does not transcode or process "
    "audio";
static const char ngo_why_record[] = "rtprelay does not record calls";
static const char ngo_why_crypto[] =
    "rtprelay passes SRTP, DTLS and ZRTP through unchanged and does not "
    "terminate or re-encrypt them";
static const char ngo_why_ice[] =
    "rtprelay does not take part in ICE; use ICE=remove";
static const char ngo_why_latch[] =
    "rtprelay always latches onto the source it hears and moves a latch "
    "only for the same stream (RFC 7362, RTPBleed; docs/relay.md)";
static const char ngo_why_dtmf[] = "rtprelay does not inspect or alter DTMF";
static const char ngo_why_sdp[] =
    "rtprelay does not implement this SDP manipulation";
static const char ngo_why_media[] =
    "rtprelay does not generate, play, echo or drop media on request";

enum ngo_act {
	NGO_ACCEPT,		/* known, nothing to do */
	NGO_REFUSE,		/* known, cannot be served: error */
	NGO_SIP_SOURCE,
	NGO_TRUST,
	NGO_LOOP_PROTECT,
	NGO_STRIP_EXTMAP,
	NGO_SINGLE_CODEC,
	NGO_NO_RTCP_ATTR,
	NGO_FULL_RTCP_ATTR,
	NGO_STRICT_SOURCE,
	NGO_FATAL,
	NGO_FAST,
	NGO_REJECT_ICE,
	NGO_ALLOW_NO_CODEC,
};

struct ngo_flag {
	const char	*name;
	enum ngo_act	 act;
	const char	*why;		/* NGO_REFUSE */
};

/* The "flags" list: rtpengine's flags without a value. */
static const struct ngo_flag ngo_flags[] = {
	{ "sip-source-address",		NGO_SIP_SOURCE, NULL },
	{ "trust-address",		NGO_TRUST, NULL },
	{ "symmetric",			NGO_ACCEPT, NULL },
	{ "force",			NGO_ACCEPT, NULL },
	{ "unidirectional",		NGO_ACCEPT, NULL },
	{ "no-redis-update",		NGO_ACCEPT, NULL },
	{ "port-latching",		NGO_ACCEPT, NULL },
	{ "no-port-latching",		NGO_ACCEPT, NULL },
	{ "original-sendrecv",		NGO_ACCEPT, NULL },
	{ "reset",			NGO_ACCEPT, NULL },
	{ "provisional",		NGO_ACCEPT, NULL },
	{ "debug",			NGO_ACCEPT, NULL },
	{ "debugging",			NGO_ACCEPT, NULL },
	{ "directional",		NGO_ACCEPT, NULL },
	{ "new-branch",			NGO_ACCEPT, NULL },
	{ "static-codec",		NGO_ACCEPT, NULL },
	{ "static-codecs",		NGO_ACCEPT, NULL },
	{ "reuse-codecs",		NGO_ACCEPT, NULL },
	{ "no-codec-renegotiation",	NGO_ACCEPT, NULL },
	{ "allow-asymmetric-codec",	NGO_ACCEPT, NULL },
	{ "allow-asymmetric-codecs",	NGO_ACCEPT, NULL },
	{ "asymmetric-codecs",		NGO_ACCEPT, NULL },
	{ "symmetric-codecs",		NGO_ACCEPT, NULL },
	{ "reorder-codecs",		NGO_ACCEPT, NULL },
	{ "allow-transcoding",		NGO_ACCEPT, NULL },
	{ "passthrough",		NGO_ACCEPT, NULL },
	{ "no-jitter-buffer",		NGO_ACCEPT, NULL },
	{ "no-tls-id",			NGO_ACCEPT, NULL },
	{ "to-tag",			NGO_ACCEPT, NULL },
	{ "all",			NGO_ACCEPT, NULL },
	{ "bidirectional",		NGO_ACCEPT, NULL },
	{ "inactive",			NGO_ACCEPT, NULL },
	{ "unsubscribe",		NGO_ACCEPT, NULL },
	{ "egress",			NGO_ACCEPT, NULL },
	{ "loop-protect",		NGO_LOOP_PROTECT, NULL },
	{ "strip-extmap",		NGO_STRIP_EXTMAP, NULL },
	{ "single-codec",		NGO_SINGLE_CODEC, NULL },
	{ "no-rtcp-attribute",		NGO_NO_RTCP_ATTR, NULL },
	{ "full-rtcp-attribute",	NGO_FULL_RTCP_ATTR, NULL },
	{ "strict-source",		NGO_STRICT_SOURCE, NULL },
	{ "fatal",			NGO_FATAL, NULL },
	{ "fast",			NGO_FAST, NULL },
	{ "reject-ice",			NGO_REJECT_ICE, NULL },
	{ "ice-reject",			NGO_REJECT_ICE, NULL },
	{ "allow-no-codec-media",	NGO_ALLOW_NO_CODEC, NULL },
	{ "allow-no-codec-medias",	NGO_ALLOW_NO_CODEC, NULL },
	{ "allow-empty-codec-media",	NGO_ALLOW_NO_CODEC, NULL },
	{ "allow-empty-codec-medias",	NGO_ALLOW_NO_CODEC, NULL },
	{ "asymmetric",			NGO_REFUSE, ngo_why_latch },
	{ "media-handover",		NGO_REFUSE, ngo_why_latch },
	{ "always-transcode",		NGO_REFUSE, ngo_why_transcode },
	{ "force-transcoding",		NGO_REFUSE, ngo_why_transcode },
	{ "audio-player",		NGO_REFUSE, ngo_why_transcode },
	{ "player",			NGO_REFUSE, ngo_why_transcode },
	{ "early-media",		NGO_REFUSE, ngo_why_transcode },
	{ "block-short",		NGO_REFUSE, ngo_why_transcode },
	{ "block-shorts",		NGO_REFUSE, ngo_why_transcode },
	{ "block-short-packets",	NGO_REFUSE, ngo_why_transcode },
	{ "mix",			NGO_REFUSE, ngo_why_transcode },
	{ "mixed",			NGO_REFUSE, ngo_why_transcode },
	{ "generate-rtcp",		NGO_REFUSE, ngo_why_transcode },
	{ "mirror-rtcp",		NGO_REFUSE, ngo_why_transcode },
	{ "rtcp-mirror",		NGO_REFUSE, ngo_why_transcode },
	{ "block-dtmf",			NGO_REFUSE, ngo_why_dtmf },
	{ "inject-dtmf",		NGO_REFUSE, ngo_why_dtmf },
	{ "detect-dtmf",		NGO_REFUSE, ngo_why_dtmf },
	{ "block-egress",		NGO_REFUSE, ngo_why_media },
	{ "record-call",		NGO_REFUSE, ngo_why_record },
	{ "recording-announcement",	NGO_REFUSE, ngo_why_record },
	{ "recording-vsc",		NGO_REFUSE, ngo_why_record },
	{ "siprec",			NGO_REFUSE, ngo_why_record },
	{ "exclude-recording",		NGO_REFUSE, ngo_why_record },
	{ "discard-recording",		NGO_REFUSE, ngo_why_record },
	{ "skip-recording-db",		NGO_REFUSE, ngo_why_record },
	{ "skip-recording-database",	NGO_REFUSE, ngo_why_record },
	{ "recrypt",			NGO_REFUSE, ngo_why_crypto },
	{ "no-passthrough",		NGO_REFUSE, ngo_why_crypto },
	{ "pad-crypto",			NGO_REFUSE, ngo_why_crypto },
	{ "webrtc",			NGO_REFUSE, ngo_why_crypto },
	{ "trickle-ice",		NGO_REFUSE, ngo_why_ice },
	{ "fragment",			NGO_REFUSE, ngo_why_ice },
	{ "generate-mid",		NGO_REFUSE, ngo_why_sdp },
	{ "pierce-nat",			NGO_REFUSE, ngo_why_media },
	{ "nat-wait",			NGO_REFUSE, ngo_why_latch },
};

/* Prefixed flags ("replace-origin", "codec-strip-PCMA"): the prefix says
 * which list the rest belongs to. */
enum ngo_list {
	NGO_L_REPLACE,
	NGO_L_RTCP_MUX,
	NGO_L_SDES,
	NGO_L_OSRTP,
	NGO_L_CODEC_STRIP,
	NGO_L_CODEC_EXCEPT,
	NGO_L_CODEC_OFFER,
	NGO_L_CODEC_TRANSCODE,
	NGO_L_CODEC_REFUSED,
	NGO_L_REFUSED,
};

struct ngo_prefix {
	const char	*prefix;	/* canonical, with its final '-' */
	enum ngo_list	 list;
	const char	*why;		/* NGO_L_REFUSED */
};

static const struct ngo_prefix ngo_prefixes[] = {
	{ "replace-",			NGO_L_REPLACE, NULL },
	{ "rtcp-mux-",			NGO_L_RTCP_MUX, NULL },
	{ "sdes-",			NGO_L_SDES, NULL },
	{ "osrtp-",			NGO_L_OSRTP, NULL },
	{ "codec-strip-",		NGO_L_CODEC_STRIP, NULL },
	{ "codec-except-",		NGO_L_CODEC_EXCEPT, NULL },
	{ "codec-offer-",		NGO_L_CODEC_OFFER, NULL },
	{ "codec-transcode-",		NGO_L_CODEC_TRANSCODE, NULL },
	{ "transcode-",			NGO_L_CODEC_TRANSCODE, NULL },
	{ "codec-mask-",		NGO_L_CODEC_REFUSED, NULL },
	{ "codec-set-",			NGO_L_CODEC_REFUSED, NULL },
	{ "codec-accept-",		NGO_L_CODEC_REFUSED, NULL },
	{ "codec-consume-",		NGO_L_CODEC_REFUSED, NULL },
	{ "codec-ignore-",		NGO_L_CODEC_REFUSED, NULL },
	{ "endpoint-learning-",		NGO_L_REFUSED, ngo_why_latch },
	{ "from-tags-",			NGO_L_REFUSED, ngo_why_media },
	{ "bundle-",			NGO_L_REFUSED, ngo_why_sdp },
	{ "sdp-attr-",			NGO_L_REFUSED, ngo_why_sdp },
};

/* Dictionary keys. */
enum ngo_key {
	NGO_K_IGNORE,		/* read elsewhere, or nothing to do */
	NGO_K_REFUSE,		/* present at all: error */
	NGO_K_FLAGS,
	NGO_K_REPLACE,
	NGO_K_RTCP_MUX,
	NGO_K_SDES,
	NGO_K_OSRTP,
	NGO_K_T38,
	NGO_K_CODEC,
	NGO_K_ICE,
	NGO_K_ICE_LITE,
	NGO_K_DTLS,
	NGO_K_TRANSPORT,
	NGO_K_FAMILY,
	NGO_K_RECEIVED_FROM,
	NGO_K_MEDIA_ADDRESS,
	NGO_K_SUPPORTS,
	NGO_K_RECORD_CALL,
	NGO_K_OFF_ONLY,		/* "off"/"no"/"default" accepted, else refuse */
	NGO_K_ZERO_ONLY,	/* 0 or a negative value accepted, else refuse */
	NGO_K_EXTMAP,
	NGO_K_EMPTY_ONLY,	/* an empty list accepted, else refuse */
	NGO_K_DIRECTION,
};

struct ngo_keydef {
	const char	*name;
	enum ngo_key	 key;
	const char	*why;
};

static const struct ngo_keydef ngo_keys[] = {
	{ "command",			NGO_K_IGNORE, NULL },
	{ "call-id",			NGO_K_IGNORE, NULL },
	{ "from-tag",			NGO_K_IGNORE, NULL },
	{ "to-tag",			NGO_K_IGNORE, NULL },
	{ "sdp",			NGO_K_IGNORE, NULL },
	{ "via-branch",			NGO_K_IGNORE, NULL },
	{ "label",			NGO_K_IGNORE, NULL },
	{ "from-label",			NGO_K_IGNORE, NULL },
	{ "to-label",			NGO_K_IGNORE, NULL },
	{ "set-label",			NGO_K_IGNORE, NULL },
	{ "metadata",			NGO_K_IGNORE, NULL },
	{ "xmlrpc-callback",		NGO_K_IGNORE, NULL },
	{ "delete-delay",		NGO_K_IGNORE, NULL },
	{ "limit",			NGO_K_IGNORE, NULL },
	{ "all",			NGO_K_IGNORE, NULL },
	{ "sip-message-type",		NGO_K_IGNORE, NULL },
	{ "sip-code",			NGO_K_IGNORE, NULL },
	{ "dtls-fingerprint",		NGO_K_IGNORE, NULL },
	{ "address",			NGO_K_IGNORE, NULL },
	{ "direction",			NGO_K_DIRECTION, NULL },
	{ "from-interface",		NGO_K_DIRECTION, NULL },
	{ "to-interface",		NGO_K_DIRECTION, NULL },
	{ "interface",			NGO_K_DIRECTION, NULL },
	{ "inbound-peer",		NGO_K_DIRECTION, NULL },
	{ "outbound-peer",		NGO_K_DIRECTION, NULL },
	{ "peer",			NGO_K_DIRECTION, NULL },
	{ "flags",			NGO_K_FLAGS, NULL },
	{ "replace",			NGO_K_REPLACE, NULL },
	{ "rtcp-mux",			NGO_K_RTCP_MUX, NULL },
	{ "sdes",			NGO_K_SDES, NULL },
	{ "osrtp",			NGO_K_OSRTP, NULL },
	{ "t.38",			NGO_K_T38, NULL },
	{ "t38",			NGO_K_T38, NULL },
	{ "codec",			NGO_K_CODEC, NULL },
	{ "ice",			NGO_K_ICE, NULL },
	{ "ice-lite",			NGO_K_ICE_LITE, NULL },
	{ "dtls",			NGO_K_DTLS, NULL },
	{ "transport-protocol",		NGO_K_TRANSPORT, NULL },
	{ "address-family",		NGO_K_FAMILY, NULL },
	{ "received-from",		NGO_K_RECEIVED_FROM, NULL },
	{ "media-address",		NGO_K_MEDIA_ADDRESS, NULL },
	{ "supports",			NGO_K_SUPPORTS, NULL },
	{ "record-call",		NGO_K_RECORD_CALL, NULL },
	{ "generate-rtcp",		NGO_K_OFF_ONLY, ngo_why_transcode },
	{ "audio-player",		NGO_K_OFF_ONLY, ngo_why_transcode },
	{ "player",			NGO_K_OFF_ONLY, ngo_why_transcode },
	{ "alias-key",			NGO_K_OFF_ONLY, ngo_why_media },
	{ "delay-buffer",		NGO_K_ZERO_ONLY, ngo_why_transcode },
	{ "tos",			NGO_K_ZERO_ONLY,
	    "rtprelay does not set a TOS or traffic class on media" },
	{ "extmap",			NGO_K_EXTMAP, NULL },
	{ "bundle",			NGO_K_EMPTY_ONLY, ngo_why_sdp },
	{ "sdp-attr",			NGO_K_EMPTY_ONLY, ngo_why_sdp },
	{ "sdp-media-remove",		NGO_K_EMPTY_ONLY, ngo_why_sdp },
	{ "ptime",			NGO_K_REFUSE, ngo_why_transcode },
	{ "ptime-reverse",		NGO_K_REFUSE, ngo_why_transcode },
	{ "repacketize",		NGO_K_REFUSE, ngo_why_transcode },
	{ "t.38-version",		NGO_K_REFUSE, ngo_why_transcode },
	{ "media-echo",			NGO_K_REFUSE, ngo_why_media },
	{ "drop-traffic",		NGO_K_REFUSE, ngo_why_media },
	{ "output-destination",		NGO_K_REFUSE, ngo_why_record },
	{ "recording-file",		NGO_K_REFUSE, ngo_why_record },
	{ "recording-path",		NGO_K_REFUSE, ngo_why_record },
	{ "recording-pattern",		NGO_K_REFUSE, ngo_why_record },
	{ "endpoint-learning",		NGO_K_REFUSE, ngo_why_latch },
	{ "template",			NGO_K_REFUSE, ngo_why_sdp },
	{ "rtpp-flags",			NGO_K_REFUSE,
	    "flags given as one string are not parsed by rtprelay: let the "
	    "proxy module parse them into the request" },
	{ "dtmf-security",		NGO_K_REFUSE, ngo_why_dtmf },
	{ "dtmf-security-trigger",	NGO_K_REFUSE, ngo_why_dtmf },
	{ "dtmf-security-trigger-end",	NGO_K_REFUSE, ngo_why_dtmf },
	{ "dtmf-delay",			NGO_K_REFUSE, ngo_why_dtmf },
	{ "dtmf-log-dest",		NGO_K_REFUSE, ngo_why_dtmf },
	{ "trigger",			NGO_K_REFUSE, ngo_why_dtmf },
	{ "trigger-end",		NGO_K_REFUSE, ngo_why_dtmf },
	{ "end-trigger",		NGO_K_REFUSE, ngo_why_dtmf },
	{ "trigger-end-time",		NGO_K_REFUSE, ngo_why_dtmf },
	{ "trigger-end-digits",		NGO_K_REFUSE, ngo_why_dtmf },
	{ "digit",			NGO_K_REFUSE, ngo_why_dtmf },
	{ "code",			NGO_K_REFUSE, ngo_why_dtmf },
	{ "frequency",			NGO_K_REFUSE, ngo_why_dtmf },
	{ "frequencies",		NGO_K_REFUSE, ngo_why_dtmf },
	{ "volume",			NGO_K_REFUSE, ngo_why_dtmf },
};

/* Commands of rtpengine's protocol that rtprelay does not serve. */
static const struct {
	const char	*name;
	const char	*why;
} ngo_commands[] = {
	{ "start-recording",	ngo_why_record },
	{ "stop-recording",	ngo_why_record },
	{ "pause-recording",	ngo_why_record },
	{ "start-forwarding",	ngo_why_record },
	{ "stop-forwarding",	ngo_why_record },
	{ "block-dtmf",		ngo_why_dtmf },
	{ "unblock-dtmf",	ngo_why_dtmf },
	{ "play-dtmf",		ngo_why_dtmf },
	{ "block-media",	ngo_why_media },
	{ "unblock-media",	ngo_why_media },
	{ "silence-media",	ngo_why_media },
	{ "unsilence-media",	ngo_why_media },
	{ "play-media",		ngo_why_media },
	{ "stop-media",		ngo_why_media },
	{ "publish",		ngo_why_media },
	{ "subscribe-request",	ngo_why_media },
	{ "subscribe-answer",	ngo_why_media },
	{ "unsubscribe",	ngo_why_media },
	{ "inject-start",	ngo_why_media },
	{ "inject-stop",	ngo_why_media },
	{ "connect",		ngo_why_media },
	{ "create",		ngo_why_media },
	{ "create-answer",	ngo_why_media },
	{ "mesh",		ngo_why_media },
	{ "transform",		ngo_why_transcode },
};

#define NGO_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A request being read: where errors go and which command it is. */
struct ngo_ctx {
	struct ng_opts	*o;
	enum ng_cmd	 cmd;
	char		*err;
	size_t		 errlen;
};

static int	ngo_fail(struct ngo_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
ngo_fail(struct ngo_ctx *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static char
ngo_fold(char c)
{
	if (c == ' ' || c == '_')
		return '-';
	if (c >= 'A' && c <= 'Z')
		return (char)(c + ('a' - 'A'));
	return c;
}

bool
ngopts_name_eq(const char *s, size_t len, const char *canon)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (canon[i] == '\0' || ngo_fold(s[i]) != canon[i])
			return false;
	return canon[i] == '\0';
}

/* s starts with canonical prefix p (loosely): its length, else 0. */
static size_t
ngo_prefix_len(const char *s, size_t len, const char *p)
{
	size_t i;

	for (i = 0; p[i] != '\0'; i++)
		if (i >= len || ngo_fold(s[i]) != p[i])
			return 0;
	return i;
}

/* A string for messages: printable bytes, '?' for the others, cut. */
static const char *
ngo_show(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 4 < buflen; i++)
		buf[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < len && n + 3 < buflen) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static void
ngo_unknown(struct ngo_ctx *x, const char *kind, const char *s, size_t len)
{
	struct ng_opts *o = x->o;
	char show[NGO_NAME_LEN - 8];

	if (o->nunknown >= NGO_UNKNOWN_MAX)
		return;
	snprintf(o->unknown[o->nunknown++], NGO_NAME_LEN, "%s %s", kind,
	    ngo_show(s, len, show, sizeof(show)));
}

const char *
ngopts_unsupported_command(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NGO_NELEM(ngo_commands); i++)
		if (ngopts_name_eq(name, len, ngo_commands[i].name))
			return ngo_commands[i].why;
	return NULL;
}

/* True if n is a string naming one of "off", "no", "disable(d)",
 * "default" (what rtpengine takes as "do nothing special"). */
static bool
ngo_is_off(const struct bnode *n)
{
	static const char *const off[] = {
		"off", "no", "disable", "disabled", "default", "none",
	};
	size_t i;

	if (n->type != BNODE_STR)
		return false;
	for (i = 0; i < NGO_NELEM(off); i++)
		if (ngopts_name_eq(n->s, n->len, off[i]))
			return true;
	return false;
}

static int
ngo_codec_add(struct ngo_ctx *x, struct ngo_codecs *l, const char *what,
    const char *s, size_t len)
{
	char show[NGO_CODEC_LEN + 8];
	size_t i;

	if (len == 0)
		return ngo_fail(x, "empty codec name in '%s'", what);
	if (len >= NGO_CODEC_LEN)
		return ngo_fail(x, "codec '%s' in '%s' is longer than %d bytes",
		    ngo_show(s, len, show, sizeof(show)), what,
		    NGO_CODEC_LEN - 1);
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return ngo_fail(x, "codec '%s' in '%s' holds a "
			    "character that is not printable",
			    ngo_show(s, len, show, sizeof(show)), what);
	if (l->n >= NGO_CODECS_MAX)
		return ngo_fail(x, "more than %d codecs in '%s'",
		    NGO_CODECS_MAX, what);
	memcpy(l->name[l->n], s, len);
	l->name[l->n][len] = '\0';
	l->n++;
	return 0;
}

/* One element of "replace" (or a "replace-" flag). */
static int
ngo_replace(struct ngo_ctx *x, const char *s, size_t len)
{
	char show[64];

	if (ngopts_name_eq(s, len, "origin"))
		x->o->replace_origin = true;
	else if (ngopts_name_eq(s, len, "zero-address"))
		x->o->replace_zero_address = true;
	else if (ngopts_name_eq(s, len, "session-connection") ||
	    ngopts_name_eq(s, len, "sess-conn"))
		;	/* every c= line is the VIP already */
	else if (ngopts_name_eq(s, len, "origin-full") ||
	    ngopts_name_eq(s, len, "username") ||
	    ngopts_name_eq(s, len, "session-name") ||
	    ngopts_name_eq(s, len, "sdp-version") ||
	    ngopts_name_eq(s, len, "force-increment-sdp-ver"))
		return ngo_fail(x, "replace '%s' is not supported: %s",
		    ngo_show(s, len, show, sizeof(show)), ngo_why_sdp);
	else
		ngo_unknown(x, "replace", s, len);
	return 0;
}

static int
ngo_rtcp_mux(struct ngo_ctx *x, const char *s, size_t len)
{
	struct ng_opts *o = x->o;

	if (ngopts_name_eq(s, len, "offer"))
		o->rtcp_mux_offer = true;
	else if (ngopts_name_eq(s, len, "require"))
		o->rtcp_mux_require = true;
	else if (ngopts_name_eq(s, len, "demux"))
		o->rtcp_mux_demux = true;
	else if (ngopts_name_eq(s, len, "reject"))
		o->rtcp_mux_reject = true;
	else if (!ngopts_name_eq(s, len, "accept"))
		ngo_unknown(x, "rtcp-mux", s, len);
	return 0;
}

static int
ngo_sdes(struct ngo_ctx *x, const char *s, size_t len)
{
	char show[64];

	/* Only "do not offer SDES" means nothing to a relay that never
	 * offers it; every other SDES option shapes rtpengine's own SRTP. */
	if (ngopts_name_eq(s, len, "off") || ngopts_name_eq(s, len, "no") ||
	    ngopts_name_eq(s, len, "disable") ||
	    ngopts_name_eq(s, len, "disabled"))
		return 0;
	return ngo_fail(x, "SDES '%s' is not supported: %s",
	    ngo_show(s, len, show, sizeof(show)), ngo_why_crypto);
}

/* One element of a list or prefixed flag, by the list it belongs to. */
static int
ngo_list_item(struct ngo_ctx *x, enum ngo_list list, const char *what,
    const char *s, size_t len, const char *why)
{
	struct ng_opts *o = x->o;
	char show[64];

	switch (list) {
	case NGO_L_REPLACE:
		return ngo_replace(x, s, len);
	case NGO_L_RTCP_MUX:
		return ngo_rtcp_mux(x, s, len);
	case NGO_L_SDES:
		return ngo_sdes(x, s, len);
	case NGO_L_OSRTP:
		return ngo_fail(x, "OSRTP '%s' is not supported: %s",
		    ngo_show(s, len, show, sizeof(show)), ngo_why_crypto);
	case NGO_L_CODEC_STRIP:
		return ngo_codec_add(x, &o->codec_strip, what, s, len);
	case NGO_L_CODEC_EXCEPT:
		return ngo_codec_add(x, &o->codec_except, what, s, len);
	case NGO_L_CODEC_OFFER:
		return ngo_codec_add(x, &o->codec_offer, what, s, len);
	case NGO_L_CODEC_TRANSCODE:
	case NGO_L_CODEC_REFUSED:
		why = ngo_why_transcode;
		/* FALLTHROUGH */
	case NGO_L_REFUSED:
		return ngo_fail(x, "flag '%s%s' is not supported: %s", what,
		    ngo_show(s, len, show, sizeof(show)), why);
	}
	return 0;
}

/* Apply fn to every string of a list value, or to a single string. */
static int
ngo_each(struct ngo_ctx *x, const struct bnode *v, enum ngo_list list,
    const char *what)
{
	const struct bnode *n;

	if (v->type == BNODE_STR)
		return ngo_list_item(x, list, what, v->s, v->len, NULL);
	if (v->type != BNODE_LIST)
		return ngo_fail(x, "'%s' must be a list of strings", what);
	for (n = v->child; n != NULL; n = n->next) {
		if (n->type != BNODE_STR)
			return ngo_fail(x, "'%s' must be a list of strings",
			    what);
		if (ngo_list_item(x, list, what, n->s, n->len, NULL) == -1)
			return -1;
	}
	return 0;
}

static int
ngo_flag(struct ngo_ctx *x, const char *s, size_t len)
{
	struct ng_opts *o = x->o;
	const struct ngo_flag *f = NULL;
	size_t i, pl;
	char show[64];

	for (i = 0; i < NGO_NELEM(ngo_flags); i++)
		if (ngopts_name_eq(s, len, ngo_flags[i].name)) {
			f = &ngo_flags[i];
			break;
		}
	if (f == NULL) {
		for (i = 0; i < NGO_NELEM(ngo_prefixes); i++) {
			const struct ngo_prefix *p = &ngo_prefixes[i];

			if ((pl = ngo_prefix_len(s, len, p->prefix)) == 0 ||
			    pl == len)
				continue;
			return ngo_list_item(x, p->list, p->prefix, s + pl,
			    len - pl, p->why);
		}
		ngo_unknown(x, "flag", s, len);
		return 0;
	}
	switch (f->act) {
	case NGO_ACCEPT:
		break;
	case NGO_REFUSE:
		return ngo_fail(x, "flag '%s' is not supported: %s",
		    ngo_show(s, len, show, sizeof(show)), f->why);
	case NGO_SIP_SOURCE:
		o->sip_source = true;
		break;
	case NGO_TRUST:
		o->sip_source = false;
		break;
	case NGO_LOOP_PROTECT:
		o->loop_protect = true;
		break;
	case NGO_STRIP_EXTMAP:
		o->strip_extmap = true;
		break;
	case NGO_SINGLE_CODEC:
		o->single_codec = true;
		break;
	case NGO_NO_RTCP_ATTR:
		o->no_rtcp_attr = true;
		break;
	case NGO_FULL_RTCP_ATTR:
		o->full_rtcp_attr = true;
		break;
	case NGO_STRICT_SOURCE:
		o->strict_source = true;
		break;
	case NGO_FATAL:
		o->fatal = true;
		break;
	case NGO_FAST:
		o->fast = true;
		break;
	case NGO_REJECT_ICE:
		o->ice = NGO_ICE_REMOVE;
		break;
	case NGO_ALLOW_NO_CODEC:
		o->allow_no_codec = true;
		break;
	}
	return 0;
}

static int
ngo_flags_list(struct ngo_ctx *x, const struct bnode *v)
{
	const struct bnode *n;

	if (v->type != BNODE_LIST)
		return ngo_fail(x, "'flags' must be a list of strings");
	for (n = v->child; n != NULL; n = n->next) {
		if (n->type != BNODE_STR)
			return ngo_fail(x, "'flags' must be a list of strings");
		if (ngo_flag(x, n->s, n->len) == -1)
			return -1;
	}
	return 0;
}

/* ICE: a string or a list of strings (rtpengine takes both). */
static int
ngo_ice_value(struct ngo_ctx *x, const char *s, size_t len)
{
	char show[64];

	if (ngopts_name_eq(s, len, "remove"))
		x->o->ice = NGO_ICE_REMOVE;
	else if (ngopts_name_eq(s, len, "default")) {
		if (x->o->ice != NGO_ICE_REMOVE)
			x->o->ice = NGO_ICE_DEFAULT;
	} else if (ngopts_name_eq(s, len, "lite-off") ||
	    ngopts_name_eq(s, len, "lite-no") ||
	    ngopts_name_eq(s, len, "lite-none") ||
	    ngopts_name_eq(s, len, "no-lite"))
		;
	else
		return ngo_fail(x, "ICE=%s is not supported: %s",
		    ngo_show(s, len, show, sizeof(show)), ngo_why_ice);
	return 0;
}

static int
ngo_ice(struct ngo_ctx *x, const struct bnode *v)
{
	const struct bnode *n;

	if (v->type == BNODE_STR)
		return ngo_ice_value(x, v->s, v->len);
	if (v->type != BNODE_LIST)
		return ngo_fail(x, "'ICE' must be a string or a list of "
		    "strings");
	for (n = v->child; n != NULL; n = n->next) {
		if (n->type != BNODE_STR)
			return ngo_fail(x, "'ICE' must be a string or a list "
			    "of strings");
		if (ngo_ice_value(x, n->s, n->len) == -1)
			return -1;
	}
	return 0;
}

/* "IP4"/"IP6" (rtpengine also takes "IPv4"/"IPv6"). */
static int
ngo_family(const struct bnode *n)
{
	if (n->type != BNODE_STR)
		return -1;
	if (ngopts_name_eq(n->s, n->len, "ip4") ||
	    ngopts_name_eq(n->s, n->len, "ipv4"))
		return AF_INET;
	if (ngopts_name_eq(n->s, n->len, "ip6") ||
	    ngopts_name_eq(n->s, n->len, "ipv6"))
		return AF_INET6;
	return -1;
}

static int
ngo_addr(struct ngo_ctx *x, const struct bnode *n, const char *what,
    struct addr *out)
{
	char buf[INET6_ADDRSTRLEN + 1], sub[96], show[64];

	if (n->type != BNODE_STR)
		return ngo_fail(x, "'%s' must hold an address string", what);
	if (bnode_strcpy(n, buf, sizeof(buf)) == -1 ||
	    addr_parse(buf, out, sub, sizeof(sub)) == -1)
		return ngo_fail(x, "'%s': '%s' is not an IPv4 or IPv6 address",
		    what, ngo_show(n->s, n->len, show, sizeof(show)));
	return 0;
}

static int
ngo_received_from(struct ngo_ctx *x, const struct bnode *v)
{
	const struct bnode *fam, *ad;
	int af;

	if (v->type != BNODE_LIST || (fam = v->child) == NULL ||
	    (ad = fam->next) == NULL || ad->next != NULL)
		return ngo_fail(x, "'received from' must be a list "
		    "[family, address]");
	if (ngo_addr(x, ad, "received from", &x->o->received_from) == -1)
		return -1;
	af = ngo_family(fam);
	if (af != x->o->received_from.af)
		return ngo_fail(x, "'received from': family must be IP4 or IP6 "
		    "and match the address");
	x->o->has_received_from = true;
	return 0;
}

/* The "codec" dictionary: strip/except/offer honoured, the rest refused. */
static int
ngo_codec_dict(struct ngo_ctx *x, const struct bnode *v)
{
	const struct bnode *n;
	char show[64];

	if (v->type != BNODE_DICT)
		return ngo_fail(x, "'codec' must be a dictionary");
	for (n = v->child; n != NULL; n = n->next) {
		enum ngo_list l;

		if (ngopts_name_eq(n->key, n->keylen, "strip"))
			l = NGO_L_CODEC_STRIP;
		else if (ngopts_name_eq(n->key, n->keylen, "except"))
			l = NGO_L_CODEC_EXCEPT;
		else if (ngopts_name_eq(n->key, n->keylen, "offer"))
			l = NGO_L_CODEC_OFFER;
		else if (ngopts_name_eq(n->key, n->keylen, "transcode") ||
		    ngopts_name_eq(n->key, n->keylen, "mask") ||
		    ngopts_name_eq(n->key, n->keylen, "set") ||
		    ngopts_name_eq(n->key, n->keylen, "accept") ||
		    ngopts_name_eq(n->key, n->keylen, "consume") ||
		    ngopts_name_eq(n->key, n->keylen, "ignore"))
			return ngo_fail(x, "codec '%s' is not supported: %s",
			    ngo_show(n->key, n->keylen, show, sizeof(show)),
			    ngo_why_transcode);
		else {
			ngo_unknown(x, "codec", n->key, n->keylen);
			continue;
		}
		if (ngo_each(x, n, l, l == NGO_L_CODEC_STRIP ? "codec strip" :
		    l == NGO_L_CODEC_EXCEPT ? "codec except" :
		    "codec offer") == -1)
			return -1;
	}
	return 0;
}

/* "extmap": {"strip": ["all"]} is strip-extmap; the rest is refused. */
static int
ngo_extmap(struct ngo_ctx *x, const struct bnode *v)
{
	const struct bnode *n, *s;

	if (v->type != BNODE_DICT)
		return ngo_fail(x, "'extmap' must be a dictionary");
	for (n = v->child; n != NULL; n = n->next) {
		s = n->type == BNODE_LIST ? n->child : n;
		if (ngopts_name_eq(n->key, n->keylen, "strip") && s != NULL &&
		    s->type == BNODE_STR && ngopts_name_eq(s->s, s->len,
		    "all") && (n->type != BNODE_LIST || s->next == NULL)) {
			x->o->strip_extmap = true;
			continue;
		}
		return ngo_fail(x, "'extmap' other than strip all is not "
		    "supported: %s", ngo_why_sdp);
	}
	return 0;
}

static int
ngo_key(struct ngo_ctx *x, const struct bnode *n)
{
	struct ng_opts *o = x->o;
	const struct ngo_keydef *k = NULL;
	char show[64];
	size_t i;

	for (i = 0; i < NGO_NELEM(ngo_keys); i++)
		if (ngopts_name_eq(n->key, n->keylen, ngo_keys[i].name)) {
			k = &ngo_keys[i];
			break;
		}
	if (k == NULL) {
		ngo_unknown(x, "key", n->key, n->keylen);
		return 0;
	}
	ngo_show(n->key, n->keylen, show, sizeof(show));
	switch (k->key) {
	case NGO_K_IGNORE:
	case NGO_K_DIRECTION:
		return 0;
	case NGO_K_REFUSE:
		return ngo_fail(x, "'%s' is not supported: %s", show, k->why);
	case NGO_K_FLAGS:
		return ngo_flags_list(x, n);
	case NGO_K_REPLACE:
		return ngo_each(x, n, NGO_L_REPLACE, "replace");
	case NGO_K_RTCP_MUX:
		return ngo_each(x, n, NGO_L_RTCP_MUX, "rtcp-mux");
	case NGO_K_SDES:
		return ngo_each(x, n, NGO_L_SDES, "SDES");
	case NGO_K_OSRTP:
		return ngo_each(x, n, NGO_L_OSRTP, "OSRTP");
	case NGO_K_T38:
		if (n->type == BNODE_LIST && n->child == NULL)
			return 0;
		return ngo_fail(x, "'T.38' is not supported: %s",
		    ngo_why_transcode);
	case NGO_K_CODEC:
		return ngo_codec_dict(x, n);
	case NGO_K_ICE:
		return ngo_ice(x, n);
	case NGO_K_ICE_LITE:
		if (ngo_is_off(n))
			return 0;
		return ngo_fail(x, "'ICE-lite' is not supported: %s",
		    ngo_why_ice);
	case NGO_K_DTLS:
		/* rtprelay never offers DTLS of its own, so "off" holds;
		 * a role (passive, active) would need DTLS termination. */
		if (ngo_is_off(n))
			return 0;
		return ngo_fail(x, "'DTLS' other than off is not supported: "
		    "%s", ngo_why_crypto);
	case NGO_K_TRANSPORT:
		if (n->type != BNODE_STR || bnode_strcpy(n, o->transport,
		    sizeof(o->transport)) == -1)
			return ngo_fail(x, "'transport protocol' must be a "
			    "protocol name such as RTP/AVP");
		return 0;
	case NGO_K_FAMILY:
		if ((o->af = ngo_family(n)) == -1)
			return ngo_fail(x, "'address family' must be IP4 or "
			    "IP6");
		return 0;
	case NGO_K_RECEIVED_FROM:
		return ngo_received_from(x, n);
	case NGO_K_MEDIA_ADDRESS:
		if (ngo_addr(x, n, "media address", &o->media_address) == -1)
			return -1;
		o->has_media_address = true;
		return 0;
	case NGO_K_SUPPORTS:
		if (n->type != BNODE_LIST)
			return ngo_fail(x, "'supports' must be a list of "
			    "strings");
		for (n = n->child; n != NULL; n = n->next)
			if (n->type == BNODE_STR &&
			    ngopts_name_eq(n->s, n->len, "load-limit"))
				o->load_limit = true;
		return 0;
	case NGO_K_RECORD_CALL:
		if (ngo_is_off(n))
			return 0;
		return ngo_fail(x, "'record call' is not supported: %s",
		    ngo_why_record);
	case NGO_K_OFF_ONLY:
		if (ngo_is_off(n))
			return 0;
		return ngo_fail(x, "'%s' is not supported: %s", show, k->why);
	case NGO_K_ZERO_ONLY:
		if (n->type == BNODE_INT && n->i <= 0)
			return 0;
		if (n->type == BNODE_STR && n->len > 0 && (n->s[0] == '-' ||
		    (n->len == 1 && n->s[0] == '0')))
			return 0;
		return ngo_fail(x, "'%s' is not supported: %s", show, k->why);
	case NGO_K_EXTMAP:
		return ngo_extmap(x, n);
	case NGO_K_EMPTY_ONLY:
		if ((n->type == BNODE_LIST || n->type == BNODE_DICT) &&
		    n->child == NULL)
			return 0;
		return ngo_fail(x, "'%s' is not supported: %s", show, k->why);
	}
	return 0;
}

int
ngopts_parse(const struct bnode *d, enum ng_cmd cmd, struct ng_opts *o,
    char *err, size_t errlen)
{
	struct ngo_ctx x = { o, cmd, err, errlen };
	struct ng_opts keep;
	const struct bnode *n;
	int rc = 0;

	memset(o, 0, sizeof(*o));
	if (d == NULL || d->type != BNODE_DICT)
		return ngo_fail(&x, "request is not a dictionary");
	for (n = d->child; n != NULL; n = n->next)
		if ((rc = ngo_key(&x, n)) == -1)
			break;
	if (rc == 0 || cmd != NG_CMD_DELETE)
		return rc;
	/*
	 * A delete never fails over an option: rtpengine_manage() sends the
	 * offer's flags with the delete too, and a call must not outlive its
	 * BYE because of them. Keep only what a delete reads.
	 */
	keep = *o;
	memset(o, 0, sizeof(*o));
	for (n = d->child; n != NULL; n = n->next)
		if (ngopts_name_eq(n->key, n->keylen, "flags") &&
		    n->type == BNODE_LIST) {
			const struct bnode *f;

			for (f = n->child; f != NULL; f = f->next) {
				if (f->type != BNODE_STR)
					continue;
				if (ngopts_name_eq(f->s, f->len, "fatal"))
					o->fatal = true;
				else if (ngopts_name_eq(f->s, f->len, "fast"))
					o->fast = true;
			}
		}
	o->nunknown = keep.nunknown;
	memcpy(o->unknown, keep.unknown, sizeof(o->unknown));
	err[0] = '\0';
	return 0;
}
