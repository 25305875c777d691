/*
 * Unit tests for common/bencode.c: round trips, every decoder error with its
 * exact text, dict lookups, encoder overflow at every capacity, and a seeded
 * fuzz loop whose successful decodes must re-encode to the very same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/bencode.h"
#include "common/tests/testutil.h"

#define NNODES	256

/* Decode a literal that is expected to fail; return nothing, check all. */
static void
expect_error(const char *in, size_t len, size_t nnodes, const char *msg)
{
	struct bnode	 nodes[NNODES], *root = nodes;
	char		 err[128], *copy = dup_exact(in, len);

	assert_true(nnodes <= NNODES);
	memset(err, 'X', sizeof(err));
	assert_int_equal(bencode_decode(copy, len, nodes, nnodes, &root, err,
	    sizeof(err)), -1);
	assert_null(root);
	assert_string_equal(err, msg);
	free(copy);
}

#define ERR(lit, msg)		expect_error(lit, sizeof(lit) - 1, NNODES, msg)
#define ERRN(lit, nn, msg)	expect_error(lit, sizeof(lit) - 1, nn, msg)

/* Re-encode a decoded tree; with canonical input this yields the input. */
static void
reencode(struct bencoder *b, const struct bnode *n)
{
	const struct bnode	*c;

	switch (n->type) {
	case BNODE_INT:
		benc_int(b, n->i);
		break;
	case BNODE_STR:
		benc_strn(b, n->s, n->len);
		break;
	case BNODE_LIST:
	case BNODE_DICT:
		if (n->type == BNODE_LIST)
			benc_list(b);
		else
			benc_dict(b);
		for (c = n->child; c != NULL; c = c->next) {
			if (n->type == BNODE_DICT)
				benc_strn(b, c->key, c->keylen);
			reencode(b, c);
		}
		benc_end(b);
		break;
	}
}

/* Structural checks on a tree decoded from buf[0..len); returns node count. */
static size_t
check_tree(const struct bnode *n, const char *buf, size_t len, int depth,
    int in_dict)
{
	const struct bnode	*c;
	size_t			 count = 1;

	assert_true(depth <= BENCODE_MAX_DEPTH);
	if (in_dict) {
		assert_non_null(n->key);
		assert_true(n->key >= buf && n->key + n->keylen <= buf + len);
	} else
		assert_null(n->key);
	if (n->type == BNODE_STR)
		assert_true(n->s >= buf && n->s + n->len <= buf + len);
	if (n->type == BNODE_LIST || n->type == BNODE_DICT) {
		for (c = n->child; c != NULL; c = c->next)
			count += check_tree(c, buf, len, depth + 1,
			    n->type == BNODE_DICT);
	} else
		assert_null(n->child);
	return (count);
}

/*
 * A typical offer reply, keys deliberately unsorted as some clients send
 * them. Shared by the round trip and the overflow test.
 */
static void
encode_reply(struct bencoder *b)
{
	benc_dict(b);
	benc_kv_str(b, "result", "ok");
	benc_kv_str(b, "sdp", "v=0\r\nc=IN IP4 192.0.2.10\r\n");
	benc_str(b, "flags");
	benc_list(b);
	benc_str(b, "trust-address");
	benc_str(b, "symmetric");
	benc_end(b);
	benc_str(b, "tags");
	benc_dict(b);
	benc_kv_str(b, "from-tag", "as2k");
	benc_str(b, "streams");
	benc_list(b);
	benc_dict(b);
	benc_kv_int(b, "port", 30000);
	benc_kv_int(b, "ssrc", 4294967295LL);
	benc_end(b);
	benc_dict(b);
	benc_kv_int(b, "port", 30002);
	benc_kv_int(b, "ssrc", 0);
	benc_end(b);
	benc_end(b);
	benc_end(b);
	benc_kv_int(b, "created", 1700000000);
	benc_kv_int(b, "delta", -42);
	benc_kv_strn(b, "blob", "a\0b", 3);
	benc_str(b, "none");
	benc_list(b);
	benc_end(b);
	benc_end(b);
}

static const char reply_text[] =
    "d6:result2:ok3:sdp26:v=0\r\nc=IN IP4 192.0.2.10\r\n"
    "5:flagsl13:trust-address9:symmetrice"
    "4:tagsd8:from-tag4:as2k7:streamsl"
    "d4:porti30000e4:ssrci4294967295ee"
    "d4:porti30002e4:ssrci0eee"
    "e7:createdi1700000000e5:deltai-42e4:blob3:a\0b4:nonelee";
#define REPLY_NODES	19

static void
test_roundtrip_reply(void **state)
{
	struct bnode	 nodes[NNODES], *root, *n, *s;
	struct bencoder	 b;
	char		 buf[512], err[128];
	const char	*p;
	size_t		 len = 0;

	(void)state;
	benc_init(&b, buf, sizeof(buf));
	encode_reply(&b);
	assert_false(b.overflow);
	assert_int_equal(b.len, sizeof(reply_text) - 1);
	assert_memory_equal(buf, reply_text, b.len);

	assert_int_equal(bencode_decode(buf, b.len, nodes, NNODES, &root, err,
	    sizeof(err)), 0);
	assert_int_equal(root->type, BNODE_DICT);
	assert_int_equal(check_tree(root, buf, b.len, 0, 0), REPLY_NODES);
	assert_true(bnode_str_eq(bnode_get(root, "result"), "ok"));
	p = bnode_get_str(root, "sdp", &len);
	assert_int_equal(len, 26);
	assert_memory_equal(p, "v=0\r\nc=IN IP4 192.0.2.10\r\n", 26);

	n = bnode_get(root, "flags");
	assert_non_null(n);
	assert_int_equal(n->type, BNODE_LIST);
	assert_true(bnode_str_eq(n->child, "trust-address"));
	assert_true(bnode_str_eq(n->child->next, "symmetric"));
	assert_null(n->child->next->next);

	n = bnode_get(bnode_get(root, "tags"), "streams");
	assert_non_null(n);
	assert_int_equal(n->type, BNODE_LIST);
	s = n->child;
	assert_int_equal(s->type, BNODE_DICT);
	assert_int_equal(bnode_get(s, "port")->i, 30000);
	assert_int_equal(bnode_get(s, "ssrc")->i, 4294967295LL);
	s = s->next;
	assert_int_equal(bnode_get(s, "port")->i, 30002);
	assert_int_equal(bnode_get(s, "ssrc")->i, 0);
	assert_null(s->next);

	assert_int_equal(bnode_get(root, "created")->i, 1700000000);
	assert_int_equal(bnode_get(root, "delta")->i, -42);
	p = bnode_get_str(root, "blob", &len);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "a\0b", 3);
	n = bnode_get(root, "none");
	assert_int_equal(n->type, BNODE_LIST);
	assert_null(n->child);

	/* The node count is exact: one node fewer must be refused. */
	assert_int_equal(bencode_decode(buf, b.len, nodes, REPLY_NODES, &root,
	    err, sizeof(err)), 0);
	assert_int_equal(bencode_decode(buf, b.len, nodes, REPLY_NODES - 1,
	    &root, err, sizeof(err)), -1);
	assert_string_equal(err, "offset 225: too many nodes (limit 18)");
}

static void
test_decode_scalars(void **state)
{
	struct bnode	 nodes[4], *root;
	char		 err[128];

	(void)state;
	assert_int_equal(bencode_decode("i0e", 3, nodes, 4, &root, err,
	    sizeof(err)), 0);
	assert_int_equal(root->type, BNODE_INT);
	assert_int_equal(root->i, 0);
	assert_int_equal(bencode_decode("i-17e", 5, nodes, 4, &root, err,
	    sizeof(err)), 0);
	assert_int_equal(root->i, -17);
	assert_int_equal(bencode_decode("0:", 2, nodes, 4, &root, err,
	    sizeof(err)), 0);
	assert_int_equal(root->type, BNODE_STR);
	assert_int_equal(root->len, 0);
	assert_non_null(root->s);
	assert_true(bnode_str_eq(root, ""));
	assert_int_equal(bencode_decode("4:spam", 6, nodes, 4, &root, err,
	    sizeof(err)), 0);
	assert_true(bnode_str_eq(root, "spam"));
	assert_int_equal(bencode_decode("le", 2, nodes, 4, &root, err,
	    sizeof(err)), 0);
	assert_int_equal(root->type, BNODE_LIST);
	assert_null(root->child);
	assert_int_equal(bencode_decode("de", 2, nodes, 4, &root, err,
	    sizeof(err)), 0);
	assert_int_equal(root->type, BNODE_DICT);
	assert_null(root->child);
}

static void
test_int64_limits(void **state)
{
	struct bnode	 nodes[2], *root;
	struct bencoder	 b;
	char		 buf[64], err[128];

	(void)state;
	benc_init(&b, buf, sizeof(buf));
	benc_int(&b, INT64_MAX);
	benc_int(&b, INT64_MIN);
	assert_false(b.overflow);
	assert_int_equal(b.len, 43);
	assert_memory_equal(buf,
	    "i9223372036854775807ei-9223372036854775808e", 43);

	assert_int_equal(bencode_decode(buf, 21, nodes, 2, &root, err,
	    sizeof(err)), 0);
	assert_true(root->i == INT64_MAX);
	assert_int_equal(bencode_decode(buf + 21, 22, nodes, 2, &root, err,
	    sizeof(err)), 0);
	assert_true(root->i == INT64_MIN);

	ERR("i9223372036854775808e", "offset 0: integer out of range");
	ERR("i-9223372036854775809e", "offset 0: integer out of range");
	ERR("i99999999999999999999999e", "offset 0: integer out of range");
	ERR("li1ei-99999999999999999999ee", "offset 4: integer out of range");
}

static void
test_decode_errors(void **state)
{
	(void)state;
	ERR("", "offset 0: empty input");
	ERR("x", "offset 0: unexpected byte 'x'");
	ERR("\x01", "offset 0: unexpected byte 0x01");
	ERR("\xff", "offset 0: unexpected byte 0xff");
	ERR("e", "offset 0: unexpected byte 'e'");
	ERR("-1:a", "offset 0: unexpected byte '-'");

	/* Integers. */
	ERR("ie", "offset 0: integer has no digits");
	ERR("i-e", "offset 0: integer has no digits");
	ERR("i03e", "offset 0: integer has a leading zero");
	ERR("i-03e", "offset 0: integer has a leading zero");
	ERR("i00e", "offset 0: integer has a leading zero");
	ERR("i-0e", "offset 0: negative zero");
	ERR("i", "offset 1: unexpected end of input");
	ERR("i-", "offset 2: unexpected end of input");
	ERR("i12", "offset 3: unexpected end of input");
	ERR("i1xe", "offset 2: unexpected byte 'x'");
	ERR("i+1e", "offset 1: unexpected byte '+'");
	ERR("i 1e", "offset 1: unexpected byte ' '");
	ERR("i--1e", "offset 2: unexpected byte '-'");
	ERR("i0x", "offset 2: unexpected byte 'x'");

	/* Strings. */
	ERR("05:hello", "offset 0: string length has a leading zero");
	ERR("00:", "offset 0: string length has a leading zero");
	ERR("5:abc",
	    "offset 0: string length 5 runs past the end of the input");
	ERR("d3:keyi1e3:sdp99:v=0e",
	    "offset 14: string length 99 runs past the end of the input");
	ERR("18446744073709551615:x", "offset 0: string length "
	    "18446744073709551615 runs past the end of the input");
	ERR("18446744073709551616:x",
	    "offset 0: string length out of range");
	ERR("99999999999999999999999999:",
	    "offset 0: string length out of range");
	ERR("3", "offset 1: unexpected end of input");
	ERR("3x", "offset 1: unexpected byte 'x'");
	ERR("1:", "offset 0: string length 1 runs past the end of the input");

	/* Lists and dicts. */
	ERR("l", "offset 1: unexpected end of input");
	ERR("li1e", "offset 4: unexpected end of input");
	ERR("l1:ax", "offset 4: unexpected byte 'x'");
	ERR("d", "offset 1: unexpected end of input");
	ERR("di1ei2ee", "offset 1: dictionary key is not a string");
	ERR("dli1ee1:ae", "offset 1: dictionary key is not a string");
	ERR("d1:ai1exe", "offset 7: dictionary key is not a string");
	ERR("d3:fooe", "offset 6: dictionary key without a value");
	ERR("d3:foo", "offset 6: unexpected end of input");
	ERR("d1:ai1e1:b", "offset 10: unexpected end of input");
	ERR("d1:ai1e", "offset 7: unexpected end of input");

	/* Exactly one top-level value. */
	ERR("i1ei2e", "offset 3: trailing bytes after the value");
	ERR("lee", "offset 2: trailing bytes after the value");
	ERR("le ", "offset 2: trailing bytes after the value");
	ERR("4:spam\0", "offset 6: trailing bytes after the value");
	ERR("d3:fooi1ee\n", "offset 10: trailing bytes after the value");
}

static void
test_decode_limits(void **state)
{
	char		 in[200], *big;
	struct bnode	 nodes[NNODES], *root, *n;
	char		 err[128];
	size_t		 i, len;
	int		 depth;

	(void)state;
	/* 32 nested lists are fine, the 33rd is refused at its offset. */
	memset(in, 'l', 32);
	memset(in + 32, 'e', 32);
	assert_int_equal(bencode_decode(in, 64, nodes, NNODES, &root, err,
	    sizeof(err)), 0);
	for (depth = 1, n = root; n->child != NULL; n = n->child)
		depth++;
	assert_int_equal(depth, BENCODE_MAX_DEPTH);
	memset(in, 'l', 33);
	memset(in + 33, 'e', 33);
	expect_error(in, 66, NNODES, "offset 32: nesting deeper than 32");

	/* The same through dicts: 32 of "d1:a" put the 33rd at 128. */
	for (len = 0, i = 0; i < 33; i++) {
		memcpy(in + len, "d1:a", 4);
		len += 4;
	}
	memcpy(in + len, "i1e", 3);
	len += 3;
	memset(in + len, 'e', 33);
	len += 33;
	expect_error(in, len, NNODES, "offset 128: nesting deeper than 32");

	/* A very deep input must not recurse past the limit. */
	big = malloc(200000);
	assert_non_null(big);
	memset(big, 'l', 100000);
	memset(big + 100000, 'e', 100000);
	expect_error(big, 200000, NNODES, "offset 32: nesting deeper than 32");
	free(big);

	/* Node limit; dict keys do not take nodes. */
	ERRN("li1ei2ei3ee", 3, "offset 7: too many nodes (limit 3)");
	assert_int_equal(bencode_decode("li1ei2ei3ee", 11, nodes, 4, &root,
	    err, sizeof(err)), 0);
	ERRN("i1e", 0, "offset 0: too many nodes (limit 0)");
	ERRN("d1:ai1e1:bi2ee", 2, "offset 10: too many nodes (limit 2)");
	assert_int_equal(bencode_decode("d1:ai1e1:bi2ee", 14, nodes, 3, &root,
	    err, sizeof(err)), 0);
}

static void
test_error_buffer(void **state)
{
	struct bnode	 nodes[2], *root;
	char		 err[16];

	(void)state;
	/* Truncated to the buffer, always terminated. */
	memset(err, 'X', sizeof(err));
	assert_int_equal(bencode_decode("x", 1, nodes, 2, &root, err, 8), -1);
	assert_string_equal(err, "offset ");
	assert_int_equal(err[8], 'X');
	memset(err, 'X', sizeof(err));
	assert_int_equal(bencode_decode("x", 1, nodes, 2, &root, err, 1), -1);
	assert_int_equal(err[0], '\0');
	assert_int_equal(err[1], 'X');
	/* No buffer at all is allowed. */
	assert_int_equal(bencode_decode("x", 1, nodes, 2, &root, NULL, 0), -1);
	assert_int_equal(bencode_decode(NULL, 0, nodes, 2, &root, NULL, 0),
	    -1);
}

static void
test_dict_lookup(void **state)
{
	static const char in[] = "d7:call-id4:abcd7:command5:offer"
	    "5:flagsl3:fooe1:ni7e7:call-id4:zzzz0:1:e3:a\0b1:xe";
	struct bnode	 nodes[16], *root, *n;
	char		 err[128], *copy;
	const char	*p;
	size_t		 len;

	(void)state;
	copy = dup_exact(in, sizeof(in) - 1);
	assert_int_equal(bencode_decode(copy, sizeof(in) - 1, nodes, 16,
	    &root, err, sizeof(err)), 0);

	/* Unsorted keys are accepted; with duplicates the first wins. */
	assert_true(bnode_str_eq(bnode_get(root, "call-id"), "abcd"));
	assert_true(bnode_str_eq(bnode_get(root, "command"), "offer"));
	assert_null(bnode_get(root, "call"));
	assert_null(bnode_get(root, "call-idx"));
	assert_null(bnode_get(root, "missing"));
	assert_true(bnode_str_eq(bnode_get(root, ""), "e"));
	/* A key with a NUL byte does not match its C-string prefix. */
	assert_null(bnode_get(root, "a"));

	len = 1234;
	p = bnode_get_str(root, "command", &len);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "offer", 5);
	len = 1234;
	assert_null(bnode_get_str(root, "flags", &len));
	assert_null(bnode_get_str(root, "n", &len));
	assert_null(bnode_get_str(root, "missing", &len));
	assert_int_equal(len, 1234);

	n = bnode_get(root, "flags");
	assert_null(bnode_get(n, "foo"));
	assert_null(bnode_get(NULL, "foo"));
	assert_int_equal(bnode_get(root, "n")->i, 7);
	assert_null(bnode_get(bnode_get(root, "n"), "x"));

	assert_false(bnode_str_eq(bnode_get(root, "command"), "offe"));
	assert_false(bnode_str_eq(bnode_get(root, "command"), "offers"));
	assert_false(bnode_str_eq(bnode_get(root, "n"), "7"));
	assert_false(bnode_str_eq(n, ""));
	assert_false(bnode_str_eq(NULL, ""));
	free(copy);
}

static void
test_strcpy(void **state)
{
	struct bnode	 nodes[4], *root;
	char		 err[128], buf[8];

	(void)state;
	assert_int_equal(bencode_decode("l4:abcd3:a\0bi1ee",
	    sizeof("l4:abcd3:a\0bi1ee") - 1, nodes, 4, &root, err,
	    sizeof(err)), 0);
	assert_int_equal(bnode_strcpy(root->child, buf, 5), 0);
	assert_string_equal(buf, "abcd");
	/* No room for the NUL: refused, and buf is left empty. */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(bnode_strcpy(root->child, buf, 4), -1);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'Z');
	/* Zero-size buffer: not touched at all. */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(bnode_strcpy(root->child, buf, 0), -1);
	assert_int_equal(buf[0], 'Z');
	/* Embedded NUL, wrong type, no node. */
	assert_int_equal(bnode_strcpy(root->child->next, buf, sizeof(buf)),
	    -1);
	assert_string_equal(buf, "");
	assert_int_equal(bnode_strcpy(root->child->next->next, buf,
	    sizeof(buf)), -1);
	assert_int_equal(bnode_strcpy(root, buf, sizeof(buf)), -1);
	assert_int_equal(bnode_strcpy(NULL, buf, sizeof(buf)), -1);
}

static void
test_encoder_overflow(void **state)
{
	struct bencoder	 b;
	char		 full[512], *buf;
	size_t		 flen, cap, i;
	struct bnode	 nodes[NNODES], *root;
	char		 err[128];

	(void)state;
	benc_init(&b, full, sizeof(full));
	encode_reply(&b);
	assert_false(b.overflow);
	flen = b.len;

	/* Every capacity: never a byte past cap, always a prefix. */
	buf = malloc(flen + 16);
	assert_non_null(buf);
	for (cap = 0; cap <= flen; cap++) {
		memset(buf, 0xa5, flen + 16);
		benc_init(&b, buf, cap);
		encode_reply(&b);
		assert_int_equal(b.overflow, cap < flen);
		assert_true(b.len <= cap);
		assert_memory_equal(buf, full, b.len);
		for (i = b.len; i < flen + 16; i++)
			assert_int_equal((unsigned char)buf[i], 0xa5);
		/* Every proper prefix of one value is itself invalid. */
		if (cap < flen)
			assert_int_equal(bencode_decode(buf, b.len, nodes,
			    NNODES, &root, err, sizeof(err)), -1);
	}
	free(buf);

	/*
	 * Overflow is sticky: "5:" fits, "hello" does not, and the later
	 * "i1e" that would fit is dropped too, so buf stays a prefix.
	 */
	benc_init(&b, full, 5);
	benc_str(&b, "hello");
	assert_true(b.overflow);
	assert_int_equal(b.len, 2);
	benc_int(&b, 1);
	assert_int_equal(b.len, 2);
	assert_memory_equal(full, "5:", 2);

	/* A NULL buffer of capacity 0 is valid and only reports overflow. */
	benc_init(&b, NULL, 0);
	benc_list(&b);
	assert_true(b.overflow);
	assert_int_equal(b.len, 0);
}

/* Bencode's own bytes, to get past the first byte more often than not. */
static const char alphabet[] = "ilde012:-";

/* With alpha, a byte of the alphabet; otherwise, half the time. */
static char
fuzz_byte(uint64_t *s, int alpha)
{
	uint64_t	 r = rng_r(s);

	if (alpha || (r & 1))
		return (alphabet[(r >> 8) % (sizeof(alphabet) - 1)]);
	return ((char)(r >> 8));
}

/*
 * Decode one input; on success the tree must be sane and re-encode to the
 * exact input, on failure the message must name an offset. Returns 0 on a
 * successful decode.
 */
static int
fuzz_one(const char *in, size_t len)
{
	struct bnode	 nodes[NNODES], *root;
	struct bencoder	 b;
	char		 err[128], out[1024], *copy = dup_exact(in, len);
	int		 rc;

	rc = bencode_decode(copy, len, nodes, NNODES, &root, err,
	    sizeof(err));
	if (rc == 0) {
		assert_non_null(root);
		assert_true(check_tree(root, copy, len, 0, 0) <= NNODES);
		benc_init(&b, out, sizeof(out));
		reencode(&b, root);
		assert_false(b.overflow);
		assert_int_equal(b.len, len);
		assert_memory_equal(out, copy, len);
	} else {
		assert_int_equal(rc, -1);
		assert_null(root);
		assert_memory_equal(err, "offset ", 7);
	}
	free(copy);
	return (rc);
}

static void
test_fuzz_random(void **state)
{
	uint64_t	 seed = 0x9e3779b97f4a7c15ULL;
	char		 in[64];
	size_t		 len, i;
	int		 iter, alpha, ok = 0;

	(void)state;
	for (iter = 0; iter < 10000; iter++) {
		/* Odd rounds: short, alphabet only, so some are valid. */
		alpha = iter & 1;
		len = rng_r(&seed) % (alpha ? 16 : sizeof(in));
		for (i = 0; i < len; i++)
			in[i] = fuzz_byte(&seed, alpha);
		if (fuzz_one(in, len) == 0)
			ok++;
	}
	/* Guard against a fuzz loop that never reaches a valid value. */
	assert_true(ok >= 10);
}

static void
test_fuzz_mutations(void **state)
{
	static const char *const bases[] = {
	    "d7:command5:offer7:call-id9:abc@host18:from-tag4:as2k"
	    "3:sdp23:v=0\r\nc=IN IP4 1.2.3.4\r\n5:flagsl13:trust-addresse"
	    "7:replacel6:origine4:porti30000ee",
	    "d6:result2:ok3:sdp5:v=0\r\ne",
	    "ld1:ai-1ee0:i0el4:abcdee",
	};
	uint64_t	 seed = 42;
	char		 in[320];
	size_t		 len, pos, base;
	int		 iter, nmut, m, ok = 0, bad = 0;

	(void)state;
	for (base = 0; base < sizeof(bases) / sizeof(bases[0]); base++)
		assert_int_equal(fuzz_one(bases[base], strlen(bases[base])),
		    0);
	for (iter = 0; iter < 10000; iter++) {
		base = iter % (sizeof(bases) / sizeof(bases[0]));
		len = strlen(bases[base]);
		memcpy(in, bases[base], len);
		nmut = 1 + rng_r(&seed) % 4;
		for (m = 0; m < nmut && len > 0; m++) {
			pos = rng_r(&seed) % len;
			switch (rng_r(&seed) % 4) {
			case 0:		/* replace */
				in[pos] = fuzz_byte(&seed, 0);
				break;
			case 1:		/* insert */
				if (len + 1 >= sizeof(in))
					break;
				memmove(in + pos + 1, in + pos, len - pos);
				in[pos] = fuzz_byte(&seed, 0);
				len++;
				break;
			case 2:		/* delete */
				memmove(in + pos, in + pos + 1, len - pos - 1);
				len--;
				break;
			case 3:		/* truncate */
				len = pos;
				break;
			}
		}
		if (fuzz_one(in, len) == 0)
			ok++;
		else
			bad++;
	}
	assert_true(ok > 0);
	assert_true(bad > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_reply),
		cmocka_unit_test(test_decode_scalars),
		cmocka_unit_test(test_int64_limits),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_limits),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_dict_lookup),
		cmocka_unit_test(test_strcpy),
		cmocka_unit_test(test_encoder_overflow),
		cmocka_unit_test(test_fuzz_random),
		cmocka_unit_test(test_fuzz_mutations),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
