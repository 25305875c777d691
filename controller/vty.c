/*
 * FRR vty protocol: reply framing and command sequences. No I/O: errors go
 * to the caller's buffer.
 */
#include "controller/vty.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const vty_status_names[VTY_ST_COUNT] = {
	[VTY_ST_SUCCESS] = "CMD_SUCCESS",
	[VTY_ST_WARNING] = "CMD_WARNING",
	[VTY_ST_ERR_NO_MATCH] = "CMD_ERR_NO_MATCH",
	[VTY_ST_ERR_AMBIGUOUS] = "CMD_ERR_AMBIGUOUS",
	[VTY_ST_ERR_INCOMPLETE] = "CMD_ERR_INCOMPLETE",
	[VTY_ST_ERR_EXEED_ARGC_MAX] = "CMD_ERR_EXEED_ARGC_MAX",
	[VTY_ST_ERR_NOTHING_TODO] = "CMD_ERR_NOTHING_TODO",
	[VTY_ST_COMPLETE_FULL_MATCH] = "CMD_COMPLETE_FULL_MATCH",
	[VTY_ST_COMPLETE_MATCH] = "CMD_COMPLETE_MATCH",
	[VTY_ST_COMPLETE_LIST_MATCH] = "CMD_COMPLETE_LIST_MATCH",
	[VTY_ST_SUCCESS_DAEMON] = "CMD_SUCCESS_DAEMON",
	[VTY_ST_ERR_NO_FILE] = "CMD_ERR_NO_FILE",
	[VTY_ST_SUSPEND] = "CMD_SUSPEND",
	[VTY_ST_WARNING_CONFIG_FAILED] = "CMD_WARNING_CONFIG_FAILED",
	[VTY_ST_NOT_MY_INSTANCE] = "CMD_NOT_MY_INSTANCE",
	[VTY_ST_NO_LEVEL_UP] = "CMD_NO_LEVEL_UP",
	[VTY_ST_ERR_NO_DAEMON] = "CMD_ERR_NO_DAEMON",
};

const char *
vty_status_name(int status)
{
	if (status < 0 || status >= VTY_ST_COUNT)
		return "unknown";
	return vty_status_names[status];
}

void
vty_reader_reset(struct vty_reader *r)
{
	r->text[0] = '\0';
	r->len = 0;
	r->total = 0;
	r->off = 0;
	r->truncated = false;
	r->nuls = 0;
	r->done = false;
	r->failed = false;
	r->status = -1;
}

int
vty_reader_feed(struct vty_reader *r, const void *buf, size_t len,
    size_t *used, char *err, size_t errlen)
{
	const unsigned char *p = buf;
	size_t i, room, run;

	*used = 0;
	if (r->failed) {
		snprintf(err, errlen, "reply stream already failed");
		return -1;
	}
	if (r->done) {
		snprintf(err, errlen,
		    "reply already complete; reset before the next one");
		return -1;
	}
	i = 0;
	while (i < len) {
		if (r->nuls == 3) {
			r->status = p[i++];
			r->done = true;
			break;
		}
		if (p[i] == '\0') {
			r->nuls++;
			i++;
			continue;
		}
		if (r->nuls > 0) {
			snprintf(err, errlen, "NUL inside reply text at byte %zu",
			    r->off + i - (size_t)r->nuls);
			r->failed = true;
			*used = i;
			r->off += i;
			return -1;
		}
		/* A run of text bytes: copy what fits, count the rest. */
		run = 0;
		while (i + run < len && p[i + run] != '\0')
			run++;
		room = VTY_REPLY_MAX - r->len;
		if (run > room) {
			r->truncated = true;
			memcpy(r->text + r->len, p + i, room);
			r->len += room;
		} else {
			memcpy(r->text + r->len, p + i, run);
			r->len += run;
		}
		r->total += run;
		i += run;
	}
	r->text[r->len] = '\0';
	r->off += i;
	*used = i;
	return r->done ? 1 : 0;
}

/* Appends one command; the needed size keeps counting past the end of buf. */
struct vty_cmdbuf {
	char	*buf;
	size_t	 len;
	size_t	 need;
	int	 n;
};

static void
vty_cmd_add(struct vty_cmdbuf *cb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
vty_cmd_add(struct vty_cmdbuf *cb, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	room = cb->need < cb->len ? cb->len - cb->need : 0;
	va_start(ap, fmt);
	n = vsnprintf(room > 0 ? cb->buf + cb->need : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	cb->need += (size_t)n + 1;	/* the NUL is the frame delimiter */
	cb->n++;
}

static int
vty_cmd_finish(struct vty_cmdbuf *cb, char *err, size_t errlen)
{
	cb->need++;			/* the empty string that ends the list */
	if (cb->need > cb->len) {
		snprintf(err, errlen,
		    "command buffer too small (%zu bytes, need %zu)", cb->len,
		    cb->need);
		if (cb->len > 0)
			cb->buf[0] = '\0';
		return -1;
	}
	cb->buf[cb->need - 1] = '\0';
	return cb->n;
}

static void
vty_cmd_init(struct vty_cmdbuf *cb, char *buf, size_t len)
{
	cb->buf = buf;
	cb->len = len;
	cb->need = 0;
	cb->n = 0;
	if (len > 0)
		buf[0] = '\0';
}

int
vty_check_asn(uint64_t asn, char *err, size_t errlen)
{
	if (asn < 1 || asn > UINT32_MAX) {
		snprintf(err, errlen, "ASN %llu out of range 1..4294967295",
		    (unsigned long long)asn);
		return -1;
	}
	return 0;
}

/*
 * The name is never echoed: it may hold control characters or newlines that
 * would corrupt a log line. The offset and byte value are enough to find it.
 */
int
vty_check_rmap_name(const char *name, char *err, size_t errlen)
{
	size_t i;
	unsigned char c;

	if (name == NULL || name[0] == '\0') {
		snprintf(err, errlen, "route-map name is empty");
		return -1;
	}
	for (i = 0; name[i] != '\0'; i++) {
		if (i == VTY_RMAP_NAME_MAX) {
			snprintf(err, errlen,
			    "route-map name longer than %d characters",
			    VTY_RMAP_NAME_MAX);
			return -1;
		}
		c = (unsigned char)name[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-')
			continue;
		snprintf(err, errlen,
		    "route-map name: byte 0x%02x at offset %zu is not one of "
		    "A-Z a-z 0-9 _ -", c, i);
		return -1;
	}
	return 0;
}

/* A prefix from a struct (not a parser) may be anything: check all of it. */
static int
vty_check_prefix(const struct prefix *p, char *err, size_t errlen)
{
	const uint8_t *b;
	int max, i, bits;

	if (p == NULL) {
		snprintf(err, errlen, "VIP prefix is missing");
		return -1;
	}
	if (p->addr.af == AF_INET) {
		max = 32;
		b = (const uint8_t *)&p->addr.v4;
	} else if (p->addr.af == AF_INET6) {
		max = 128;
		b = (const uint8_t *)&p->addr.v6;
	} else {
		snprintf(err, errlen, "VIP prefix has unknown address family %d",
		    p->addr.af);
		return -1;
	}
	if (p->len < 0 || p->len > max) {
		snprintf(err, errlen, "VIP prefix length %d out of range 0..%d",
		    p->len, max);
		return -1;
	}
	for (i = 0; i < max / 8; i++) {
		bits = p->len - i * 8;
		if (bits >= 8)
			continue;
		if (b[i] & (bits <= 0 ? 0xff : (0xff >> bits))) {
			snprintf(err, errlen, "VIP prefix has host bits set "
			    "past /%d", p->len);
			return -1;
		}
	}
	return 0;
}

/* Shared frame of announce and withdraw; rmap NULL means withdraw. */
static int
vty_cmds_network(char *buf, size_t len, uint64_t asn,
    const struct prefix *vip, const char *rmap, char *err, size_t errlen)
{
	struct vty_cmdbuf cb;
	char pfx[INET6_ADDRSTRLEN + 8];

	vty_cmd_init(&cb, buf, len);
	if (vty_check_asn(asn, err, errlen) == -1 ||
	    vty_check_prefix(vip, err, errlen) == -1)
		return -1;
	if (rmap != NULL && vty_check_rmap_name(rmap, err, errlen) == -1)
		return -1;
	prefix_fmt(vip, pfx, sizeof(pfx));
	vty_cmd_add(&cb, "configure terminal");
	vty_cmd_add(&cb, "router bgp %llu", (unsigned long long)asn);
	vty_cmd_add(&cb, "address-family %s unicast",
	    vip->addr.af == AF_INET ? "ipv4" : "ipv6");
	if (rmap != NULL)
		vty_cmd_add(&cb, "network %s route-map %s", pfx, rmap);
	else
		vty_cmd_add(&cb, "no network %s", pfx);
	vty_cmd_add(&cb, "exit-address-family");
	vty_cmd_add(&cb, "end");
	return vty_cmd_finish(&cb, err, errlen);
}

int
vty_cmds_announce(char *buf, size_t len, uint64_t asn,
    const struct prefix *vip, const char *route_map, char *err, size_t errlen)
{
	if (route_map == NULL) {
		if (len > 0)
			buf[0] = '\0';
		snprintf(err, errlen, "route-map name is empty");
		return -1;
	}
	return vty_cmds_network(buf, len, asn, vip, route_map, err, errlen);
}

int
vty_cmds_withdraw(char *buf, size_t len, uint64_t asn,
    const struct prefix *vip, char *err, size_t errlen)
{
	return vty_cmds_network(buf, len, asn, vip, NULL, err, errlen);
}

static int
vty_check_bw(uint32_t weight_bw, char *err, size_t errlen)
{
	if (weight_bw < VTY_BW_MIN || weight_bw > VTY_BW_MAX) {
		snprintf(err, errlen,
		    "link bandwidth %lu out of range %d..%d (Mbit/s)",
		    (unsigned long)weight_bw, VTY_BW_MIN, VTY_BW_MAX);
		return -1;
	}
	return 0;
}

int
vty_cmds_policy(char *buf, size_t len, const char *name, uint32_t weight_bw,
    bool gshut, char *err, size_t errlen)
{
	struct vty_cmdbuf cb;

	vty_cmd_init(&cb, buf, len);
	if (vty_check_rmap_name(name, err, errlen) == -1 ||
	    vty_check_bw(weight_bw, err, errlen) == -1)
		return -1;
	vty_cmd_add(&cb, "configure terminal");
	vty_cmd_add(&cb, "route-map %s permit 10", name);
	vty_cmd_add(&cb, "set extcommunity bandwidth %lu",
	    (unsigned long)weight_bw);
	/* additive: keep any community another clause or map has set. */
	if (gshut)
		vty_cmd_add(&cb, "set community graceful-shutdown additive");
	vty_cmd_add(&cb, "exit");
	vty_cmd_add(&cb, "end");
	return vty_cmd_finish(&cb, err, errlen);
}

int
vty_policy_name(char *buf, size_t len, uint32_t weight_bw, bool gshut,
    char *err, size_t errlen)
{
	int n;

	if (vty_check_bw(weight_bw, err, errlen) == -1)
		return -1;
	n = snprintf(buf, len, "FO-BW%lu%s", (unsigned long)weight_bw,
	    gshut ? "-GSHUT" : "");
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "route-map name buffer too small "
		    "(%zu bytes, need %d)", len, n + 1);
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}

const char *
vty_cmds_next(const char *buf, size_t *off)
{
	const char *c = buf + *off;

	if (*c == '\0')
		return NULL;
	*off += strlen(c) + 1;
	return c;
}

bool
vty_config_has_bgp(const char *text, uint64_t asn)
{
	char want[40];
	const char *p = text, *eol;
	size_t n;

	n = (size_t)snprintf(want, sizeof(want), "router bgp %llu",
	    (unsigned long long)asn);
	for (; *p != '\0'; p = *eol != '\0' ? eol + 1 : eol) {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		/* The line itself, without trailing blanks or CR: a
		 * "router bgp ASN vrf X" line is another instance. */
		while (eol > p && (eol[-1] == ' ' || eol[-1] == '\r'))
			eol--;
		if ((size_t)(eol - p) == n && memcmp(p, want, n) == 0)
			return true;
		while (*eol == ' ' || *eol == '\r')
			eol++;
	}
	return false;
}
