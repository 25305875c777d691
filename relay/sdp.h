/*
 * SDP (RFC 8866) as a media relay needs it for the ng offer and answer
 * commands: find each stream's address and ports, then rewrite the body so
 * the other side sends its media to the relay instead.
 *
 * Only what the relay depends on is checked; everything else passes through
 * untouched. Pure code: no I/O, no logging; errors go to a caller buffer as
 * one line naming the line number, e.g.
 * "line 5: m= port '99999' out of range 0..65535".
 *
 * Choices made where the RFCs leave room:
 * - Lines end in CRLF or LF (each line may use either). The first line's
 *   ending is "the input's style" and every output line uses it. Empty lines
 *   are an error, except that trailing line endings at the very end are
 *   ignored (and not reproduced). A CR not followed by LF, a NUL byte, and a
 *   type letter other than a-z are errors.
 * - c= must be "IN IP4 <IPv4>" or "IN IP6 <IPv6>". A multicast TTL/count
 *   suffix ("/127") is an error: the relay is unicast only and a rewrite
 *   would silently drop it. Host names are an error too. At most one c= per
 *   level (session, each media).
 * - m= port counts other than "/1" are an error (one RTP port per media).
 *   Runs of spaces between m= fields are tolerated. An RTP proto (RTP/AVP,
 *   RTP/AVPF, RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP, UDP/TLS/RTP/SAVPF,
 *   case-insensitive) requires every format to be a payload type 0..127.
 * - a=rtcp: needs a port 1..65535 and may carry "IN IP4|IP6 <addr>".
 *   a=rtcp and a=rtcp-mux at session level are not meaningful (RFC 3605,
 *   RFC 5761 define them per media): parse ignores them, rewrite drops them.
 * - ICE attributes: candidate, ice-ufrag, ice-pwd, ice-options, ice-lite,
 *   ice-pacing, end-of-candidates, remote-candidates, ice-mismatch.
 * - a=rtpmap:<pt> <name>/<clock>[/<channels>] is read for the codec
 *   manipulations of sdp_codec_select(); a malformed rtpmap is passed
 *   through and simply names no codec.
 * - DTLS (RFC 5763, RFC 8842): a media negotiated DTLS when its proto
 *   starts with UDP/TLS/ or UDP/DTLS/ (RFC 8841), or a=fingerprint is
 *   present at session or media level. a=setup is read (media level, else session level); a value other
 *   than active, passive, actpass or holdconn reads as "none". a=zrtp-hash
 *   (RFC 6189 s8.1) is noted at either level. Their values are not checked:
 *   the relay passes DTLS and ZRTP through and never terminates them.
 */
#ifndef RELAY_SDP_H
#define RELAY_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#define SDP_MAX_MEDIA	8		/* m= sections */
#define SDP_MAX_LEN	16384		/* bytes of input */
#define SDP_MAX_LINE	1024		/* bytes of one line, ending excluded */
/*
 * Output buffer size that always holds sdp_rewrite()'s result of any input
 * sdp_parse() accepts, NUL included. Growth comes from LF -> CRLF (at most
 * one byte per 3-byte line), up to 9 c= lines becoming IPv6 (43 each), 8 m=
 * ports growing to 5 digits, 8 added a=rtcp/a=rtcp-mux pairs (26 each, 73
 * with the full address), an o= address becoming IPv6 (47), 8 m= protocols
 * a character longer and the marker line (under 128 with its name).
 */
#define SDP_REWRITE_MAX	(SDP_MAX_LEN + SDP_MAX_LEN / 3 + 2048)

enum sdp_dir {
	SDP_DIR_SENDRECV,		/* also the default */
	SDP_DIR_SENDONLY,
	SDP_DIR_RECVONLY,
	SDP_DIR_INACTIVE,
	SDP_DIR_MAX
};
extern const char *const sdp_dir_names[SDP_DIR_MAX];
const char *sdp_dir_name(enum sdp_dir d);

/* Most formats of one m= line the relay keeps track of one by one. */
#define SDP_MAX_FMT	64

/* What a=rtpmap says about one payload type: where its encoding name is
 * in the SDP text, the clock rate and the channels (0 if not given). */
struct sdp_rtpmap {
	uint16_t	name_off;	/* offset into the SDP; len 0 = none */
	uint8_t		name_len;
	uint32_t	clock;
	uint16_t	channels;
};
/* a=setup (RFC 4145 s4) */
enum sdp_setup {
	SDP_SETUP_NONE,			/* absent, or a value not listed */
	SDP_SETUP_ACTIVE,
	SDP_SETUP_PASSIVE,
	SDP_SETUP_ACTPASS,
	SDP_SETUP_HOLDCONN,
	SDP_SETUP_MAX
};
extern const char *const sdp_setup_names[SDP_SETUP_MAX];
const char *sdp_setup_name(enum sdp_setup s);

struct sdp_media {
	int		line;		/* line number of the m= line */
	char		type[16];	/* "audio", "video", ... */
	uint16_t	port;		/* 0: rejected or disabled stream */
	char		proto[32];	/* "RTP/AVP", ... */
	bool		rtp;		/* RTP proto: pt_mask is meaningful */
	uint64_t	pt_mask[2];	/* bit n set: RTP payload type n listed */
	int		nfmt;		/* formats on the m= line */
	/* RTP media: the payload types in m= order (up to SDP_MAX_FMT; an
	 * m= line with more is passed through but not reordered) and the
	 * a=rtpmap of each PT seen in this media. */
	uint8_t		fmt[SDP_MAX_FMT];
	struct sdp_rtpmap rtpmap[128];
	bool		has_conn;	/* media-level c= present */
	struct addr	conn;
	bool		has_rtcp;	/* a=rtcp: present */
	uint16_t	rtcp_port;
	bool		has_rtcp_addr;	/* a=rtcp: carried an address */
	struct addr	rtcp_addr;
	bool		rtcp_mux;	/* a=rtcp-mux present */
	bool		has_ice;	/* media-level ICE attributes present */
	enum sdp_dir	dir;		/* effective: media, else session level */
	bool		fingerprint;	/* a=fingerprint, media or session level */
	enum sdp_setup	setup;		/* effective: media, else session level */
	bool		zrtp_hash;	/* a=zrtp-hash, media or session level */
	bool		dtls;		/* a DTLS proto or a=fingerprint */
};

struct sdp_info {
	bool		crlf;		/* the first line ended in CRLF */
	bool		has_conn;	/* session-level c= present */
	struct addr	conn;
	bool		has_ice;	/* session-level ICE attributes present */
	enum sdp_dir	dir;		/* session-level direction */
	bool		fingerprint;	/* session-level a=fingerprint */
	enum sdp_setup	setup;		/* session-level a=setup */
	bool		zrtp_hash;	/* session-level a=zrtp-hash */
	int		nmedia;
	struct sdp_media media[SDP_MAX_MEDIA];
};

/* What the relay allocated for media i (ignored when that media's port is 0). */
struct sdp_rewrite_media {
	uint16_t	rtp_port;	/* 1..65535 */
	uint16_t	rtcp_port;	/* 1..65535; unused when rtcp_mux */
	bool		rtcp_mux;	/* RTCP shares the RTP port (RFC 5761) */
	const char	*proto;		/* NULL: keep; else the m= protocol */
	bool		set_fmt;	/* write fmt[0..nfmt) as the format list */
	int		nfmt;
	uint8_t		fmt[SDP_MAX_FMT];
	bool		reject;		/* write port 0 (no codec left) */
};

enum sdp_rtcp_attr {
	SDP_RTCP_PORT,			/* a=rtcp:<port> */
	SDP_RTCP_NONE,			/* no a=rtcp line */
	SDP_RTCP_FULL,			/* a=rtcp:<port> IN IP4 <addr> */
};

struct sdp_rewrite {
	struct addr	addr;		/* relay address for every c= */
	bool		remove_ice;	/* drop all ICE attributes */
	bool		replace_origin;	/* o= address (and type) too */
	bool		replace_zero;	/* c= 0.0.0.0 / :: too (default: kept,
					   the old way of saying "hold") */
	bool		strip_extmap;	/* drop a=extmap */
	enum sdp_rtcp_attr rtcp_attr;
	const char	*marker;	/* a session-level "a=<marker>" line to
					   add after the last session line */
	int		nmedia;		/* must equal the SDP's m= count */
	struct sdp_rewrite_media media[SDP_MAX_MEDIA];
};

/*
 * Parse and validate sdp[0..len) (need not be NUL-terminated) into *out.
 * Every media with a non-zero port ends up with a connection address
 * (media or session level), else it is an error. Returns 0, or -1 with a
 * message in err.
 */
int	sdp_parse(const char *sdp, size_t len, struct sdp_info *out, char *err,
	    size_t errlen);

/*
 * Write the SDP to hand to the other side into out[0..outcap), always
 * NUL-terminated, *outlen bytes without the NUL:
 * - every c= line becomes "c=IN IP4 <rw->addr>" (or IP6, by its family);
 * - each m= port becomes rw->media[i].rtp_port, except that port 0 stays 0;
 * - in each media with a non-zero port, a=rtcp and a=rtcp-mux lines are
 *   dropped and, if its proto is RTP, "a=rtcp:<port>" (plus "a=rtcp-mux"
 *   if rtcp_mux, then with the RTP port) is appended as the last lines of
 *   that media section;
 *   session-level a=rtcp/a=rtcp-mux are dropped; rejected media keep theirs;
 * - with rw->remove_ice, every ICE attribute line (any level) is dropped;
 * - c= lines with an unspecified address (0.0.0.0, ::) stay as they are
 *   unless rw->replace_zero;
 * - with rw->replace_origin, the o= line's address type and address become
 *   the relay's;
 * - a media's proto, format list (with the a=rtpmap, a=fmtp and a=rtcp-fb
 *   lines of the formats it no longer lists) and port 0 for a rejected one
 *   as rw->media[i] says; rw->rtcp_attr shapes the a=rtcp line;
 * - with rw->strip_extmap, a=extmap lines are dropped; rw->marker adds one
 *   session-level attribute line;
 * - every other line is copied byte for byte, with the line
 *   ending of the input's first line, and the output ends with a line ending.
 * The input is parsed first (same errors as sdp_parse). Returns 0, or -1
 * with a message in err (*outlen 0), e.g. "rewritten SDP does not fit in
 * 100 bytes". SDP_REWRITE_MAX bytes of out are always enough.
 */
int	sdp_rewrite(const char *sdp, size_t len, const struct sdp_rewrite *rw,
	    char *out, size_t outcap, size_t *outlen, char *err, size_t errlen);

/* Connection address of media i (media level, else session level), or NULL
 * if there is none or i is out of range. An unspecified address (0.0.0.0,
 * ::) is returned as such: the caller decides what a hold means. */
const struct addr *sdp_media_addr(const struct sdp_info *info, int i);
/* True if RTP payload type pt is on media m's format list. */
bool	sdp_pt_has(const struct sdp_media *m, unsigned int pt);

/* True if the SDP carries the session-level attribute line "a=<attr>". */
bool	sdp_has_session_attr(const char *sdp, size_t len, const char *attr);

/*
 * Codec manipulations of rtpengine (codec strip, except, offer, single
 * codec) on the format list of RTP media m, whose SDP text is sdp. A spec
 * is a payload type number, "all" (or "full"), or an encoding name with an
 * optional clock rate and channel count ("PCMA", "opus/48000/2"), matched
 * against a=rtpmap or, for static payload types without one, RFC 3551's
 * names; names are compared without regard to case.
 *   strip:  remove the matching formats;
 *   except: keep the matching formats even if strip removed them;
 *   offer:  like except, and move them to the front in the order given;
 *   single: keep only the first format, plus telephone-event and CN.
 * Writes the resulting list to out[] and returns its length: 0 means every
 * format was removed. An m= line with more than SDP_MAX_FMT formats, or
 * media that is not RTP, is returned unchanged (-1: keep it as it is).
 */
struct sdp_codec_ops {
	const char *const *strip;
	int	nstrip;
	const char *const *except;
	int	nexcept;
	const char *const *offer;
	int	noffer;
	bool	single;
};
int	sdp_codec_select(const char *sdp, const struct sdp_media *m,
	    const struct sdp_codec_ops *ops, uint8_t out[SDP_MAX_FMT]);

#endif
