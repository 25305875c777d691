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
 * ports growing to 5 digits and 8 added a=rtcp/a=rtcp-mux pairs (26 each).
 */
#define SDP_REWRITE_MAX	(SDP_MAX_LEN + SDP_MAX_LEN / 3 + 1024)

enum sdp_dir {
	SDP_DIR_SENDRECV,		/* also the default */
	SDP_DIR_SENDONLY,
	SDP_DIR_RECVONLY,
	SDP_DIR_INACTIVE,
	SDP_DIR_MAX
};
extern const char *const sdp_dir_names[SDP_DIR_MAX];
const char *sdp_dir_name(enum sdp_dir d);

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
};

struct sdp_rewrite {
	struct addr	addr;		/* relay address for every c= */
	bool		remove_ice;	/* drop all ICE attributes */
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
 * - every other line, o= included, is copied byte for byte, with the line
 *   ending of the input's first line, and the output ends with a line ending.
 * The input is parsed first (same errors as sdp_parse). Returns 0, or -1
 * with a message in err (*outlen 0), e.g. "rewritten SDP does not fit in
 * 100 bytes". SDP_REWRITE_MAX bytes of out are always enough.
 */
int	sdp_rewrite(const char *sdp, size_t len, const struct sdp_rewrite *rw,
	    char *out, size_t outcap, size_t *outlen, char *err, size_t errlen);

/* Connection address of media i (media level, else session level), or NULL
 * if there is none or i is out of range. */
const struct addr *sdp_media_addr(const struct sdp_info *info, int i);
/* True if RTP payload type pt is on media m's format list. */
bool	sdp_pt_has(const struct sdp_media *m, unsigned int pt);

#endif
