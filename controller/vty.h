/*
 * The FRR vty protocol, without the socket: reply framing and the command
 * sequences failoverd sends to bgpd (DESIGN.md decisions 1-4).
 *
 * Wire format (FRR lib/vty.c, as vtysh uses it): the client writes one
 * command followed by one NUL byte; bgpd answers with the command's output
 * text, then three NUL bytes, then one status byte (FRR's CMD_* code,
 * 0 = success). One command is outstanding at a time.
 *
 * Nothing here does I/O or logs: errors go to the caller's buffer.
 */
#ifndef CONTROLLER_VTY_H
#define CONTROLLER_VTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

/* Sent once after connecting, before any command sequence below. */
#define VTY_CMD_ENABLE		"enable"

/* Reply text kept per command; the rest is counted and dropped. */
#define VTY_REPLY_MAX		65536

/* Route-map names accepted: [A-Za-z0-9_-]{1,63}. */
#define VTY_RMAP_NAME_MAX	63

/* FRR 8.4 "set extcommunity bandwidth <(1-25600)>": Mbit/s. */
#define VTY_BW_MIN		1
#define VTY_BW_MAX		25600

/* Room for any one sequence built below, with its terminator. */
#define VTY_CMDS_MAX		512

/* FRR lib/command.h return codes, as they arrive in the status byte. */
enum vty_status {
	VTY_ST_SUCCESS = 0,
	VTY_ST_WARNING,
	VTY_ST_ERR_NO_MATCH,
	VTY_ST_ERR_AMBIGUOUS,
	VTY_ST_ERR_INCOMPLETE,
	VTY_ST_ERR_EXEED_ARGC_MAX,
	VTY_ST_ERR_NOTHING_TODO,
	VTY_ST_COMPLETE_FULL_MATCH,
	VTY_ST_COMPLETE_MATCH,
	VTY_ST_COMPLETE_LIST_MATCH,
	VTY_ST_SUCCESS_DAEMON,
	VTY_ST_ERR_NO_FILE,
	VTY_ST_SUSPEND,
	VTY_ST_WARNING_CONFIG_FAILED,
	VTY_ST_NOT_MY_INSTANCE,
	VTY_ST_NO_LEVEL_UP,
	VTY_ST_ERR_NO_DAEMON,
	VTY_ST_COUNT
};
extern const char *const vty_status_names[VTY_ST_COUNT];
/* "CMD_WARNING"; "unknown" for a code FRR does not define (byte 0..255). */
const char *vty_status_name(int status);

/*
 * Reassembles one reply from chunks as they come off the socket. The struct
 * holds the text inline (about 64 KiB): allocate it once per connection.
 */
struct vty_reader {
	char	 text[VTY_REPLY_MAX + 1];	/* NUL-terminated */
	size_t	 len;		/* bytes in text */
	size_t	 total;		/* text bytes seen, dropped ones included */
	size_t	 off;		/* bytes consumed for this reply */
	bool	 truncated;	/* total > VTY_REPLY_MAX */
	int	 nuls;		/* NULs of the end marker seen so far (0..3) */
	bool	 done;		/* status is valid */
	bool	 failed;	/* protocol error: drop the connection */
	int	 status;	/* 0..255 once done */
};

void	vty_reader_reset(struct vty_reader *r);

/*
 * Feed len bytes. Returns 1 when the reply is complete (r->status and
 * r->text are valid), 0 when more bytes are needed, -1 on a protocol error.
 * *used is the number of bytes consumed: on 1 it may be less than len, and
 * the remaining bytes are the start of the next reply (reset, then feed
 * them). bgpd never sends unsolicited output, so leftovers mean the stream
 * is out of step; the I/O layer decides what to do with them.
 *
 * NUL bytes: FRR never puts one in reply text, so one or two NULs followed
 * by a non-NUL byte are a protocol error (framing lost; reconnect and resync)
 * rather than text. The byte after three NULs is the status whatever it is,
 * so "\0\0\0\0" is an empty reply with status 0.
 * After -1, or after 1 without a reset, every feed fails.
 */
int	vty_reader_feed(struct vty_reader *r, const void *buf, size_t len,
	    size_t *used, char *err, size_t errlen);

/*
 * Command sequences. Each builder writes its commands into buf as
 * NUL-terminated strings back to back, followed by one empty string, so each
 * element with its NUL is exactly the bytes to write for that command. It
 * returns the number of commands, or -1 with err set (bad input or buf too
 * small; VTY_CMDS_MAX is always enough). Every value that ends up in a
 * command is validated first, so no configuration value can inject a
 * command or a keyword.
 *
 * The I/O layer sends them one by one and waits for each status; the
 * sequences end with "end", so a failure halfway leaves the session in a
 * sub-node: on a non-zero status send "end" before anything else.
 */

/* configure terminal / router bgp ASN / address-family ... / network ... */
int	vty_cmds_announce(char *buf, size_t len, uint64_t asn,
	    const struct prefix *vip, const char *route_map, char *err,
	    size_t errlen);
/* The same frame with "no network VIP". */
int	vty_cmds_withdraw(char *buf, size_t len, uint64_t asn,
	    const struct prefix *vip, char *err, size_t errlen);
/*
 * Route map `name`, permit 10: link bandwidth weight_bw (Mbit/s), plus the
 * graceful-shutdown community (65535:0, RFC 8326) when gshut is set. The
 * definition only adds set clauses, so a name must always stand for the same
 * (weight, gshut) pair: build names with vty_policy_name.
 */
int	vty_cmds_policy(char *buf, size_t len, const char *name,
	    uint32_t weight_bw, bool gshut, char *err, size_t errlen);
/* "FO-BW<weight>" or "FO-BW<weight>-GSHUT"; 0 or -1 with err. */
int	vty_policy_name(char *buf, size_t len, uint32_t weight_bw, bool gshut,
	    char *err, size_t errlen);

/* Walk a built sequence: returns the command at *off and advances, or NULL. */
const char *vty_cmds_next(const char *buf, size_t *off);

/*
 * Sent after "enable" on every connection: failoverd touches bgpd only once
 * its configuration holds `router bgp ASN' (see vty_config_has_bgp).
 */
#define VTY_CMD_SHOW_CONFIG	"show running-config"

/*
 * True if text (bgpd's running configuration) holds the line
 * "router bgp ASN" for the default VRF. Every announce sequence starts with
 * that command, and on a bgpd that has not loaded its configuration yet
 * (just restarted, or started without it) it would *create* the instance,
 * with no neighbours and an automatic router-id that could be the VIP.
 */
bool	vty_config_has_bgp(const char *text, uint64_t asn);

/* Validators used by the builders, for config checks at load time. */
int	vty_check_asn(uint64_t asn, char *err, size_t errlen);
int	vty_check_rmap_name(const char *name, char *err, size_t errlen);

#endif
