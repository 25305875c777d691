/*
 * The options of an ng request: rtpengine's flags and keys, in every
 * spelling the SIP proxies send them, turned into one struct the commands
 * act on.
 *
 * The contract is rtpengine's ng protocol as Kamailio's and OpenSIPS's
 * rtpengine modules and rtpengine-ng-client speak it. Every option falls in
 * one of three groups, and docs/relay.md lists them all:
 *   - honoured: it changes what the relay does, as it does in rtpengine
 *     (SIP-source-address, replace origin, ICE remove, codec strip, ...);
 *   - accepted: rtpengine's meaning is already what a pass-through relay
 *     does, or it concerns something rtprelay does not have (trust-address,
 *     symmetric, via-branch, label, DTLS=off, delete delay, ...);
 *   - refused: the relay cannot serve it (transcoding, recording, SRTP or
 *     DTLS termination, ICE other than remove, media playback, ...). The
 *     request then fails with an error naming the option and why, never
 *     with a silently different SDP.
 * Options rtpengine does not know either are ignored, as rtpengine ignores
 * them; their names are collected so the caller can log them.
 *
 * Names are compared without regard to case, and ' ', '_' and '-' are the
 * same character: rtpengine accepts "SIP source address" and
 * "SIP-source-address", Kamailio sends "address-family" and
 * "received-from" where rtpengine-ng-client sends "address family" and
 * "received from".
 *
 * Pure: no I/O, no logging. Errors go to a caller buffer as one line.
 */
#ifndef RELAY_NGOPTS_H
#define RELAY_NGOPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/addr.h"
#include "common/bencode.h"
#include "relay/stats.h"

#define NGO_CODECS_MAX	16	/* names per codec list */
#define NGO_CODEC_LEN	48	/* bytes of one codec spec, NUL included */
#define NGO_UNKNOWN_MAX	4	/* unknown names kept for the log */
#define NGO_NAME_LEN	40

enum ngo_ice {
	NGO_ICE_UNSET,		/* no ICE key: remove, with a warning if
				   the SDP had ICE (rtpengine would add
				   its own candidates) */
	NGO_ICE_REMOVE,		/* ICE=remove, or the "reject ICE" flag */
	NGO_ICE_DEFAULT,	/* ICE=default: refused only if the SDP
				   has ICE */
};

/* A list of codec specs ("PCMA", "opus/48000/2", "101", "all"). */
struct ngo_codecs {
	int	n;
	char	name[NGO_CODECS_MAX][NGO_CODEC_LEN];
};

struct ng_opts {
	/* Where an endpoint's media goes before it latches. */
	bool		sip_source;	/* SIP-source-address */
	bool		has_received_from;
	struct addr	received_from;	/* "received from": [family, address] */
	bool		has_media_address;
	struct addr	media_address;	/* "media address": overrides both */
	int		af;		/* "address family": 0, AF_INET, AF_INET6 */

	/* How the SDP handed on is written. */
	enum ngo_ice	ice;
	bool		replace_origin;	/* o= address becomes the VIP */
	bool		replace_zero_address;	/* c=0.0.0.0 becomes the VIP */
	char		transport[24];	/* "transport protocol"; "" = keep */
	bool		rtcp_mux_offer, rtcp_mux_require, rtcp_mux_demux,
			rtcp_mux_reject;
	bool		no_rtcp_attr;	/* no a=rtcp line */
	bool		full_rtcp_attr;	/* a=rtcp with the address */
	bool		loop_protect;	/* a=rtpengine marker, skip if present */
	bool		strip_extmap;	/* drop a=extmap */
	bool		single_codec;	/* answer: first codec only */
	bool		allow_no_codec;	/* a media stripped of every codec is
					   rejected instead of restored */
	struct ngo_codecs codec_strip, codec_except, codec_offer;

	/* Latching. */
	bool		strict_source;	/* a latch never moves */

	/* delete */
	bool		fatal;		/* unknown call: error, not a warning */
	bool		fast;		/* no statistics in the reply */

	/* Protocol. */
	bool		load_limit;	/* "supports": ["load limit"] */

	/* Names rtpengine does not know either: ignored, for the log. */
	int		nunknown;
	char		unknown[NGO_UNKNOWN_MAX][NGO_NAME_LEN];
};

/*
 * Read the options of request d (a dictionary) for command cmd into *o.
 * Returns 0, or -1 with err naming the option that cannot be served or is
 * malformed ("flag 'always-transcode' is not supported: rtprelay forwards
 * media unchanged and does not transcode"; "'received from' must be a list
 * [family, address]").
 */
int	ngopts_parse(const struct bnode *d, enum ng_cmd cmd, struct ng_opts *o,
	    char *err, size_t errlen);

/*
 * Compare a name as rtpengine does, loosely: case, ' ', '_' and '-' do
 * not matter. canon is lower-case with '-'.
 */
bool	ngopts_name_eq(const char *s, size_t len, const char *canon);

/*
 * Commands of rtpengine's protocol rtprelay does not serve, with why:
 * NULL if name (len bytes) is not one of them.
 */
const char *ngopts_unsupported_command(const char *name, size_t len);

#endif
