/*
 * FRR vty framing and command sequences: replies split at every byte, status
 * codes, truncation, leftovers, NULs in text, seeded fuzz; command sequences
 * compared with the files in controller/tests/frr-cmds/ (run from the repo
 * root), and every way a config value could smuggle in a command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "controller/vty.h"

#define CMDS_DIR	"controller/tests/frr-cmds/"

static char err[256];
static struct vty_reader rd;	/* 64 KiB: not on the stack */

/* xorshift64*: deterministic across platforms, unlike rand(). */
static uint64_t
prng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Feed a whole buffer in one go; returns the feed result. */
static int
feed_all(const void *b, size_t len, size_t *used)
{
	vty_reader_reset(&rd);
	return vty_reader_feed(&rd, b, len, used, err, sizeof(err));
}

static void
test_status_names(void **state)
{
	(void)state;
	assert_string_equal(vty_status_name(0), "CMD_SUCCESS");
	assert_string_equal(vty_status_name(1), "CMD_WARNING");
	assert_string_equal(vty_status_name(2), "CMD_ERR_NO_MATCH");
	assert_string_equal(vty_status_name(3), "CMD_ERR_AMBIGUOUS");
	assert_string_equal(vty_status_name(4), "CMD_ERR_INCOMPLETE");
	assert_string_equal(vty_status_name(13), "CMD_WARNING_CONFIG_FAILED");
	assert_string_equal(vty_status_name(16), "CMD_ERR_NO_DAEMON");
	assert_string_equal(vty_status_name(17), "unknown");
	assert_string_equal(vty_status_name(255), "unknown");
	assert_string_equal(vty_status_name(-1), "unknown");
}

static void
test_reply_simple(void **state)
{
	size_t used;

	(void)state;
	/* Most config commands: empty text, success. */
	assert_int_equal(feed_all("\0\0\0\0", 4, &used), 1);
	assert_int_equal(used, 4);
	assert_int_equal(rd.status, 0);
	assert_int_equal(rd.len, 0);
	assert_string_equal(rd.text, "");

	assert_int_equal(feed_all("% Unknown command: foo\n\0\0\0\2", 27,
	    &used), 1);
	assert_int_equal(used, 27);
	assert_int_equal(rd.status, 2);
	assert_string_equal(rd.text, "% Unknown command: foo\n");
	assert_false(rd.truncated);

	/* Every status byte value comes through as is. */
	for (int s = 0; s < 256; s++) {
		unsigned char b[5] = { 'x', 0, 0, 0, (unsigned char)s };

		assert_int_equal(feed_all(b, sizeof(b), &used), 1);
		assert_int_equal(rd.status, s);
		assert_string_equal(rd.text, "x");
	}
}

static void
test_reply_incomplete(void **state)
{
	size_t used;

	(void)state;
	assert_int_equal(feed_all("", 0, &used), 0);
	assert_int_equal(used, 0);
	assert_int_equal(feed_all("abc", 3, &used), 0);
	assert_int_equal(feed_all("abc\0\0\0", 6, &used), 0);
	assert_int_equal(used, 6);
	assert_false(rd.done);
	assert_int_equal(rd.nuls, 3);
	/* The status byte completes it. */
	assert_int_equal(vty_reader_feed(&rd, "\4", 1, &used, err,
	    sizeof(err)), 1);
	assert_int_equal(rd.status, 4);
	assert_string_equal(rd.text, "abc");
	/* A complete reader refuses more until reset. */
	assert_int_equal(vty_reader_feed(&rd, "x", 1, &used, err,
	    sizeof(err)), -1);
	assert_int_equal(used, 0);
	assert_string_equal(err,
	    "reply already complete; reset before the next one");
}

/* Split one reply at every pair of positions: three chunks, same result. */
static void
test_reply_every_split(void **state)
{
	static const char reply[] = "BGP table version 7\nline two\n\0\0\0\1";
	size_t n = sizeof(reply) - 1, a, b, used;
	int rc;

	(void)state;
	for (a = 0; a <= n; a++) {
		for (b = a; b <= n; b++) {
			vty_reader_reset(&rd);
			rc = vty_reader_feed(&rd, reply, a, &used, err,
			    sizeof(err));
			assert_int_equal(rc, a == n ? 1 : 0);
			assert_int_equal(used, a);
			if (a < n) {
				rc = vty_reader_feed(&rd, reply + a, b - a,
				    &used, err, sizeof(err));
				assert_int_equal(rc, b == n ? 1 : 0);
				assert_int_equal(used, b - a);
			}
			if (b < n) {
				rc = vty_reader_feed(&rd, reply + b, n - b,
				    &used, err, sizeof(err));
				assert_int_equal(rc, 1);
				assert_int_equal(used, n - b);
			}
			assert_true(rd.done);
			assert_int_equal(rd.status, 1);
			assert_string_equal(rd.text,
			    "BGP table version 7\nline two\n");
			assert_int_equal(rd.off, n);
		}
	}
}

/*
 * Bytes after the status byte belong to the next reply: they are left
 * unconsumed, and feeding them after a reset parses that reply.
 */
static void
test_reply_leftover(void **state)
{
	static const char two[] = "one\0\0\0\0two\0\0\0\3";
	size_t used, used2;

	(void)state;
	assert_int_equal(feed_all(two, sizeof(two) - 1, &used), 1);
	assert_int_equal(used, 7);
	assert_string_equal(rd.text, "one");
	assert_int_equal(rd.status, 0);
	vty_reader_reset(&rd);
	assert_int_equal(vty_reader_feed(&rd, two + used,
	    sizeof(two) - 1 - used, &used2, err, sizeof(err)), 1);
	assert_int_equal(used2, 7);
	assert_string_equal(rd.text, "two");
	assert_int_equal(rd.status, 3);

	/* A fifth NUL is the first byte of the next reply, not text. */
	assert_int_equal(feed_all("\0\0\0\0\0", 5, &used), 1);
	assert_int_equal(used, 4);
	assert_int_equal(rd.status, 0);

	/* Garbage after the marker is left for the caller to judge. */
	assert_int_equal(feed_all("ok\0\0\0\0garbage", 13, &used), 1);
	assert_int_equal(used, 6);
	assert_string_equal(rd.text, "ok");
}

static void
test_reply_nul_in_text(void **state)
{
	size_t used;

	(void)state;
	assert_int_equal(feed_all("ab\0cd\0\0\0\0", 9, &used), -1);
	assert_string_equal(err, "NUL inside reply text at byte 2");
	assert_int_equal(used, 3);
	assert_true(rd.failed);
	/* Failed stays failed. */
	assert_int_equal(vty_reader_feed(&rd, "\0\0\0\0", 4, &used, err,
	    sizeof(err)), -1);
	assert_int_equal(used, 0);
	assert_string_equal(err, "reply stream already failed");

	assert_int_equal(feed_all("\0\0x", 3, &used), -1);
	assert_string_equal(err, "NUL inside reply text at byte 0");

	/* Split across chunks, the offset is still the reply's own. */
	vty_reader_reset(&rd);
	assert_int_equal(vty_reader_feed(&rd, "hello\0", 6, &used, err,
	    sizeof(err)), 0);
	assert_int_equal(vty_reader_feed(&rd, "\0", 1, &used, err,
	    sizeof(err)), 0);
	assert_int_equal(vty_reader_feed(&rd, "!", 1, &used, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "NUL inside reply text at byte 5");
}

static void
test_reply_truncation(void **state)
{
	static char big[VTY_REPLY_MAX + 1000 + 4];
	size_t n, used, i, step;

	(void)state;
	/* Exactly at the cap: not truncated. */
	memset(big, 'a', VTY_REPLY_MAX);
	memcpy(big + VTY_REPLY_MAX, "\0\0\0\0", 4);
	assert_int_equal(feed_all(big, VTY_REPLY_MAX + 4, &used), 1);
	assert_false(rd.truncated);
	assert_int_equal(rd.len, VTY_REPLY_MAX);
	assert_int_equal(strlen(rd.text), VTY_REPLY_MAX);

	/* One byte over, fed in odd-sized chunks. */
	for (i = 0; i < VTY_REPLY_MAX + 1000; i++)
		big[i] = (char)('a' + i % 26);
	n = VTY_REPLY_MAX + 1000;
	memcpy(big + n, "\0\0\0\15", 4);
	n += 4;
	for (step = 1; step <= 4099; step += 1049) {
		vty_reader_reset(&rd);
		for (i = 0; i < n; i += step) {
			size_t c = n - i < step ? n - i : step;
			int rc = vty_reader_feed(&rd, big + i, c, &used, err,
			    sizeof(err));

			assert_int_equal(used, c);
			assert_int_equal(rc, i + c == n ? 1 : 0);
		}
		assert_true(rd.truncated);
		assert_int_equal(rd.status, 13);
		assert_int_equal(rd.len, VTY_REPLY_MAX);
		assert_int_equal(rd.total, VTY_REPLY_MAX + 1000);
		assert_memory_equal(rd.text, big, VTY_REPLY_MAX);
		assert_int_equal(rd.text[VTY_REPLY_MAX], '\0');
	}
}

/*
 * Random replies under random chunkings: the result must not depend on the
 * chunking. Then random byte strings: never a crash, and on completion the
 * text must be the bytes before the marker.
 */
static void
test_reply_fuzz(void **state)
{
	static unsigned char in[600];
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	size_t n, tlen, i, c, used, total;
	int iter, rc, done = 0, fails = 0;

	(void)state;
	for (iter = 0; iter < 10000; iter++) {
		tlen = prng(&seed) % 500;
		for (i = 0; i < tlen; i++)
			in[i] = (unsigned char)(1 + prng(&seed) % 255);
		memcpy(in + tlen, "\0\0\0", 3);
		in[tlen + 3] = (unsigned char)prng(&seed);
		n = tlen + 4;
		vty_reader_reset(&rd);
		rc = 0;
		for (i = 0; i < n; i += c) {
			c = 1 + prng(&seed) % 64;
			if (c > n - i)
				c = n - i;
			rc = vty_reader_feed(&rd, in + i, c, &used, err,
			    sizeof(err));
			assert_int_equal(used, c);
			assert_int_equal(rc, i + c == n ? 1 : 0);
		}
		assert_int_equal(rc, 1);
		assert_int_equal(rd.status, in[tlen + 3]);
		assert_int_equal(rd.len, tlen);
		assert_memory_equal(rd.text, in, tlen);
	}

	for (iter = 0; iter < 10000; iter++) {
		n = prng(&seed) % sizeof(in);
		for (i = 0; i < n; i++) {
			uint64_t r = prng(&seed);
			/* Plenty of NULs, or the marker is never reached. */
			in[i] = (r & 3) == 0 ? 0 : (unsigned char)(r >> 8);
		}
		vty_reader_reset(&rd);
		rc = 0;
		total = 0;
		for (i = 0; i < n && rc == 0; i += c) {
			c = 1 + prng(&seed) % 32;
			if (c > n - i)
				c = n - i;
			rc = vty_reader_feed(&rd, in + i, c, &used, err,
			    sizeof(err));
			assert_true(used <= c);
			total += used;
			if (rc == 0)
				assert_int_equal(used, c);
		}
		if (rc == 1) {
			done++;
			assert_true(total >= 4);
			assert_int_equal(rd.len, total - 4);
			assert_memory_equal(rd.text, in, rd.len);
			assert_int_equal(rd.status, in[total - 1]);
			assert_null(memchr(in, 0, rd.len));
		} else if (rc == -1) {
			fails++;
			assert_true(rd.failed);
			assert_non_null(strstr(err, "NUL inside reply text"));
		}
	}
	/* Guard against a loop that never reaches either outcome. */
	assert_true(done > 100);
	assert_true(fails > 100);
}

/* Read an expected-sequence file: one command a line. */
static char *
read_expected(const char *name)
{
	static char buf[4096];
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), CMDS_DIR "%s", name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s (run the test from the repo root)",
		    path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The built list as lines, for a whole-file comparison. */
static void
expect_cmds(const char *buf, int n, const char *file)
{
	char lines[4096];
	const char *c;
	size_t off = 0, w = 0;
	int count = 0;

	lines[0] = '\0';
	while ((c = vty_cmds_next(buf, &off)) != NULL) {
		/* A command with a newline would be two commands to FRR. */
		assert_null(strchr(c, '\n'));
		w += (size_t)snprintf(lines + w, sizeof(lines) - w, "%s\n", c);
		count++;
	}
	assert_int_equal(count, n);
	assert_string_equal(lines, read_expected(file));
}

static void
vip(struct prefix *p, const char *s)
{
	assert_int_equal(prefix_parse(s, p, err, sizeof(err)), 0);
}

static void
test_cmds_files(void **state)
{
	char buf[VTY_CMDS_MAX], name[VTY_RMAP_NAME_MAX + 1];
	struct prefix p4, p6;
	int n;

	(void)state;
	vip(&p4, "198.51.100.10/32");
	vip(&p6, "2001:db8::10/128");
	assert_int_equal(vty_policy_name(name, sizeof(name), 100, false, err,
	    sizeof(err)), 0);
	assert_string_equal(name, "FO-BW100");

	n = vty_cmds_announce(buf, sizeof(buf), 65101, &p4, name, err,
	    sizeof(err));
	assert_int_equal(n, 6);
	expect_cmds(buf, n, "announce-v4.txt");

	n = vty_cmds_withdraw(buf, sizeof(buf), 65101, &p4, err, sizeof(err));
	assert_int_equal(n, 6);
	expect_cmds(buf, n, "withdraw-v4.txt");

	n = vty_cmds_policy(buf, sizeof(buf), name, 100, false, err,
	    sizeof(err));
	assert_int_equal(n, 5);
	expect_cmds(buf, n, "policy-weight.txt");

	assert_int_equal(vty_policy_name(name, sizeof(name), 100, true, err,
	    sizeof(err)), 0);
	assert_string_equal(name, "FO-BW100-GSHUT");
	n = vty_cmds_policy(buf, sizeof(buf), name, 100, true, err,
	    sizeof(err));
	assert_int_equal(n, 6);
	expect_cmds(buf, n, "policy-gshut.txt");

	n = vty_cmds_announce(buf, sizeof(buf), 4200000001ULL, &p6, name, err,
	    sizeof(err));
	assert_int_equal(n, 6);
	expect_cmds(buf, n, "announce-v6.txt");
}

/* The wire bytes: each command and its NUL, then the empty terminator. */
static void
test_cmds_wire(void **state)
{
	static const char wire[] = "configure terminal\0router bgp 1\0"
	    "address-family ipv4 unicast\0no network 198.51.100.0/24\0"
	    "exit-address-family\0end\0";
	char buf[VTY_CMDS_MAX];
	struct prefix p;
	size_t off = 0;

	(void)state;
	vip(&p, "198.51.100.0/24");
	assert_int_equal(vty_cmds_withdraw(buf, sizeof(buf), 1, &p, err,
	    sizeof(err)), 6);
	assert_memory_equal(buf, wire, sizeof(wire));	/* incl. final NUL */
	assert_string_equal(vty_cmds_next(buf, &off), "configure terminal");
	assert_int_equal(off, 19);
}

/* Every buffer size below the need fails cleanly, the exact one works. */
static void
test_cmds_buffer_sizes(void **state)
{
	char buf[VTY_CMDS_MAX];
	struct prefix p;
	size_t need, len;
	char *heap;
	int n;

	(void)state;
	vip(&p, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128");
	n = vty_cmds_announce(buf, sizeof(buf), 4294967295ULL, &p,
	    "A123456789012345678901234567890123456789012345678901234567890-_",
	    err, sizeof(err));
	assert_int_equal(n, 6);
	need = 0;
	while (buf[need] != '\0')
		need += strlen(buf + need) + 1;
	need++;
	for (len = 0; len <= need; len++) {
		/* Exact-size heap buffers so ASan sees any overrun. */
		heap = malloc(len > 0 ? len : 1);
		assert_non_null(heap);
		n = vty_cmds_announce(len > 0 ? heap : NULL, len,
		    4294967295ULL, &p, "A123456789012345678901234567890123"
		    "456789012345678901234567890-_", err, sizeof(err));
		if (len < need) {
			char want[128];

			assert_int_equal(n, -1);
			snprintf(want, sizeof(want), "command buffer too small "
			    "(%zu bytes, need %zu)", len, need);
			assert_string_equal(err, want);
			if (len > 0)
				assert_int_equal(heap[0], '\0');
		} else {
			assert_int_equal(n, 6);
			assert_memory_equal(heap, buf, need);
		}
		free(heap);
	}
}

static void
expect_announce_err(uint64_t asn, const struct prefix *p, const char *rmap,
    const char *msg)
{
	char buf[VTY_CMDS_MAX];
	size_t off = 0;

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(vty_cmds_announce(buf, sizeof(buf), asn, p, rmap, err,
	    sizeof(err)), -1);
	assert_string_equal(err, msg);
	/* A failed build is an empty list: nothing to send by mistake. */
	assert_null(vty_cmds_next(buf, &off));
}

static void
test_cmds_hostile(void **state)
{
	struct prefix p, bad;
	char buf[VTY_CMDS_MAX], name[8], big[VTY_RMAP_NAME_MAX + 1];

	(void)state;
	vip(&p, "198.51.100.10/32");
	expect_announce_err(0, &p, "FO", "ASN 0 out of range 1..4294967295");
	expect_announce_err(4294967296ULL, &p, "FO",
	    "ASN 4294967296 out of range 1..4294967295");
	expect_announce_err(1, NULL, "FO", "VIP prefix is missing");
	expect_announce_err(1, &p, NULL, "route-map name is empty");
	expect_announce_err(1, &p, "", "route-map name is empty");
	/* Injection attempts: a newline, a NUL-less second command, a space. */
	expect_announce_err(1, &p, "FO\nend",
	    "route-map name: byte 0x0a at offset 2 is not one of "
	    "A-Z a-z 0-9 _ -");
	expect_announce_err(1, &p, "FO label-index 5",
	    "route-map name: byte 0x20 at offset 2 is not one of "
	    "A-Z a-z 0-9 _ -");
	expect_announce_err(1, &p, "FO;x",
	    "route-map name: byte 0x3b at offset 2 is not one of "
	    "A-Z a-z 0-9 _ -");
	expect_announce_err(1, &p, "\xff",
	    "route-map name: byte 0xff at offset 0 is not one of "
	    "A-Z a-z 0-9 _ -");
	expect_announce_err(1, &p,
	    "A123456789012345678901234567890123456789012345678901234567890123",
	    "route-map name longer than 63 characters");

	bad = p;
	bad.addr.af = AF_UNIX;
	expect_announce_err(1, &bad, "FO",
	    "VIP prefix has unknown address family 1");
	bad = p;
	bad.len = 33;
	expect_announce_err(1, &bad, "FO",
	    "VIP prefix length 33 out of range 0..32");
	bad.len = -1;
	expect_announce_err(1, &bad, "FO",
	    "VIP prefix length -1 out of range 0..32");
	bad.len = 24;
	expect_announce_err(1, &bad, "FO",
	    "VIP prefix has host bits set past /24");
	vip(&bad, "2001:db8::/32");
	bad.len = 129;
	expect_announce_err(1, &bad, "FO",
	    "VIP prefix length 129 out of range 0..128");

	assert_int_equal(vty_cmds_withdraw(buf, sizeof(buf), 0, &p, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "ASN 0 out of range 1..4294967295");

	assert_int_equal(vty_cmds_policy(buf, sizeof(buf), "FO", 0, false, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "link bandwidth 0 out of range 1..25600 "
	    "(Mbit/s)");
	assert_int_equal(vty_cmds_policy(buf, sizeof(buf), "FO", 25601, true,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "link bandwidth 25601 out of range 1..25600 "
	    "(Mbit/s)");
	assert_int_equal(vty_cmds_policy(buf, sizeof(buf), "FO", 25600, true,
	    err, sizeof(err)), 6);
	assert_int_equal(vty_cmds_policy(buf, sizeof(buf), "a b", 1, false,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "route-map name: byte 0x20 at offset 1 is "
	    "not one of A-Z a-z 0-9 _ -");

	assert_int_equal(vty_policy_name(name, sizeof(name), 4294967295U,
	    false, err, sizeof(err)), -1);
	assert_string_equal(err, "link bandwidth 4294967295 out of range "
	    "1..25600 (Mbit/s)");
	assert_int_equal(vty_policy_name(name, sizeof(name), 25600, true, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "route-map name buffer too small "
	    "(8 bytes, need 17)");
	assert_string_equal(name, "");
	assert_int_equal(vty_policy_name(big, sizeof(big), 25600, true, err,
	    sizeof(err)), 0);
	assert_string_equal(big, "FO-BW25600-GSHUT");
	assert_int_equal(vty_check_rmap_name(big, err, sizeof(err)), 0);
}

/*
 * Random names: accepted exactly when they match [A-Za-z0-9_-]{1,63}, and an
 * accepted one always lands verbatim as the last word of the network line.
 */
static void
test_cmds_fuzz_names(void **state)
{
	char name[80], buf[VTY_CMDS_MAX], want[160];
	const char *c, *line = NULL;
	struct prefix p;
	uint64_t seed = 7;
	size_t n, i, off;
	int rc, ok, accepted = 0;

	(void)state;
	vip(&p, "198.51.100.10/32");
	for (int iter = 0; iter < 10000; iter++) {
		n = prng(&seed) % 70;
		ok = n >= 1 && n <= 63;
		for (i = 0; i < n; i++) {
			uint64_t r = prng(&seed);

			name[i] = (r & 31) ? "Az09_-"[(r >> 8) % 6] :
			    (char)(1 + (r >> 8) % 255);
			if (!((name[i] >= 'A' && name[i] <= 'Z') ||
			    (name[i] >= 'a' && name[i] <= 'z') ||
			    (name[i] >= '0' && name[i] <= '9') ||
			    name[i] == '_' || name[i] == '-'))
				ok = 0;
		}
		name[n] = '\0';
		rc = vty_cmds_announce(buf, sizeof(buf), 65000, &p, name, err,
		    sizeof(err));
		assert_int_equal(rc, ok ? 6 : -1);
		if (!ok)
			continue;
		accepted++;
		off = 0;
		while ((c = vty_cmds_next(buf, &off)) != NULL)
			if (strncmp(c, "network ", 8) == 0)
				line = c;
		snprintf(want, sizeof(want),
		    "network 198.51.100.10/32 route-map %s", name);
		assert_string_equal(line, want);
	}
	assert_true(accepted > 1000);
}

static void
test_config_has_bgp(void **state)
{
	const char *cfg = "frr version 8.4.4\nfrr defaults datacenter\n"
	    "hostname m1\n!\nrouter bgp 65101 vrf blue\nexit\n!\n"
	    "router bgp 65101 \r\n bgp router-id 198.51.100.129\nexit\n";

	(void)state;
	assert_true(vty_config_has_bgp(cfg, 65101));
	/* Another AS, a prefix of the number, a VRF instance, nothing. */
	assert_false(vty_config_has_bgp(cfg, 6510));
	assert_false(vty_config_has_bgp(cfg, 65102));
	assert_false(vty_config_has_bgp("router bgp 65101 vrf blue\n",
	    65101));
	assert_false(vty_config_has_bgp(" router bgp 65101\n", 65101));
	assert_false(vty_config_has_bgp("", 65101));
	assert_true(vty_config_has_bgp("router bgp 4200000001", 4200000001));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_reply_simple),
		cmocka_unit_test(test_reply_incomplete),
		cmocka_unit_test(test_reply_every_split),
		cmocka_unit_test(test_reply_leftover),
		cmocka_unit_test(test_reply_nul_in_text),
		cmocka_unit_test(test_reply_truncation),
		cmocka_unit_test(test_reply_fuzz),
		cmocka_unit_test(test_cmds_files),
		cmocka_unit_test(test_cmds_wire),
		cmocka_unit_test(test_cmds_buffer_sizes),
		cmocka_unit_test(test_cmds_hostile),
		cmocka_unit_test(test_cmds_fuzz_names),
		cmocka_unit_test(test_config_has_bgp),
	};

	return cmocka_run_group_tests_name("vty", tests, NULL, NULL);
}
