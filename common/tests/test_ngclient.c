/*
 * Unit tests for common/ngclient.c: exact request bytes of every builder,
 * framing and its limits, cookie matching, reply decoding with exact error
 * texts, SDP media address scanning, a seeded fuzz loop into every parser,
 * and the request loop against a fake ng server thread on loopback
 * (retransmission with the same cookie, stale replies, silence, refusal).
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/ngclient.h"
#include "common/tests/testutil.h"

#define NNODES	64

static void
assert_encoded(const struct bencoder *b, const char *want)
{
	assert_false(b->overflow);
	assert_int_equal(b->len, strlen(want));
	assert_memory_equal(b->buf, want, b->len);
}

static void
test_builders(void **state)
{
	char		 buf[512];
	struct bencoder	 b;

	(void)state;
	benc_init(&b, buf, sizeof(buf));
	ngc_build_ping(&b);
	assert_encoded(&b, "d7:command4:pinge");

	benc_init(&b, buf, sizeof(buf));
	ngc_build_offer(&b, "c1", "ft", "v=0\r\n");
	assert_encoded(&b, "d7:call-id2:c17:command5:offer8:from-tag2:ft"
	    "3:sdp5:v=0\r\ne");

	benc_init(&b, buf, sizeof(buf));
	ngc_build_answer(&b, "c1", "ft", "tt", "v=0\n");
	assert_encoded(&b, "d7:call-id2:c17:command6:answer8:from-tag2:ft"
	    "3:sdp4:v=0\n6:to-tag2:tte");

	benc_init(&b, buf, sizeof(buf));
	ngc_build_delete(&b, "c1", "ft");
	assert_encoded(&b, "d7:call-id2:c17:command6:delete8:from-tag2:fte");
}

static void
test_frame(void **state)
{
	char		 rbuf[64], out[64], err[128];
	struct bencoder	 b;
	ssize_t		 n;
	const size_t	 want = strlen("ab_1 d7:command4:pinge");

	(void)state;
	benc_init(&b, rbuf, sizeof(rbuf));
	ngc_build_ping(&b);

	n = ngc_frame(out, sizeof(out), "ab_1", &b, err, sizeof(err));
	assert_int_equal(n, want);
	assert_memory_equal(out, "ab_1 d7:command4:pinge", want);

	/* Exactly enough room, then one byte short. */
	memset(out, 'X', sizeof(out));
	assert_int_equal(ngc_frame(out, want, "ab_1", &b, err, sizeof(err)),
	    want);
	assert_int_equal(out[want], 'X');
	assert_int_equal(ngc_frame(out, want - 1, "ab_1", &b, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "request of 22 bytes does not fit in a "
	    "21-byte datagram buffer");

	assert_int_equal(ngc_frame(out, sizeof(out), "", &b, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "empty cookie");
	assert_int_equal(ngc_frame(out, sizeof(out), "a b", &b, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "cookie holds a space");
	assert_int_equal(ngc_frame(out, sizeof(out),
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "4", &b, err, sizeof(err)), -1);
	assert_string_equal(err, "cookie is 65 bytes long, the limit is 64");

	/* An overflowed request is refused, never sent truncated. */
	benc_init(&b, rbuf, 10);
	ngc_build_ping(&b);
	assert_true(b.overflow);
	assert_int_equal(ngc_frame(out, sizeof(out), "c", &b, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "request overflowed its 10-byte buffer");

	benc_init(&b, rbuf, sizeof(rbuf));
	assert_int_equal(ngc_frame(out, sizeof(out), "c", &b, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "empty request");
}

static void
test_cookie_match(void **state)
{
	const char	*body = NULL;
	size_t		 blen = 99;

	(void)state;
	assert_true(ngc_cookie_match("ab_1 d6:result2:oke", 19, "ab_1",
	    &body, &blen));
	assert_int_equal(blen, 14);
	assert_memory_equal(body, "d6:result2:oke", 14);

	/* An empty body still matches; decoding rejects it later. */
	assert_true(ngc_cookie_match("ab_1 ", 5, "ab_1", &body, &blen));
	assert_int_equal(blen, 0);

	body = NULL;
	blen = 99;
	assert_false(ngc_cookie_match("ab_12 d6:result2:oke", 20, "ab_1",
	    &body, &blen));
	assert_false(ngc_cookie_match("ab_ d6:result2:oke", 18, "ab_1",
	    &body, &blen));
	assert_false(ngc_cookie_match("ab_1", 4, "ab_1", &body, &blen));
	assert_false(ngc_cookie_match("ab_1d6:result2:oke", 18, "ab_1",
	    &body, &blen));
	assert_false(ngc_cookie_match("xb_1 d6:result2:oke", 19, "ab_1",
	    &body, &blen));
	assert_false(ngc_cookie_match(" x", 2, "", &body, &blen));
	assert_false(ngc_cookie_match("", 0, "ab_1", &body, &blen));
	assert_null(body);
	assert_int_equal(blen, 99);
}

static void
expect_decode_error(const char *in, const char *msg)
{
	struct bnode	 nodes[NNODES], *root;
	char		 err[128], *copy = dup_exact(in, strlen(in));

	memset(err, 'X', sizeof(err));
	assert_int_equal(ngc_reply_decode(copy, strlen(in), nodes, NNODES,
	    &root, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
	free(copy);
}

static void
test_reply_decode(void **state)
{
	const char	*ok = "d3:sdp3:v=06:result2:ok7:warning1:we";
	struct bnode	 nodes[NNODES], *root = NULL;
	const char	*s;
	size_t		 len;
	char		 err[128], *copy = dup_exact(ok, strlen(ok));

	(void)state;
	assert_int_equal(ngc_reply_decode(copy, strlen(ok), nodes, NNODES,
	    &root, err, sizeof(err)), 0);
	assert_non_null(root);
	s = bnode_get_str(root, "sdp", &len);
	assert_non_null(s);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "v=0", 3);
	assert_true(bnode_str_eq(bnode_get(root, "result"), "ok"));
	free(copy);

	expect_decode_error("d6:result5:error12:error-reason15:"
	    "Unknown call-ide", "ng error: Unknown call-id");
	expect_decode_error("d12:error-reason3:bad6:result5:errore",
	    "ng error: bad");
	expect_decode_error("d6:result5:errore",
	    "ng error: (no error-reason)");
	expect_decode_error("d6:result5:error12:error-reasoni7ee",
	    "ng error: (no error-reason)");
	expect_decode_error("l6:result5:errore", "reply is not a dictionary");
	expect_decode_error("4:pong", "reply is not a dictionary");
	expect_decode_error("de", "reply has no string 'result'");
	expect_decode_error("d6:resulti0ee", "reply has no string 'result'");
	expect_decode_error("d7:results2:oke", "reply has no string 'result'");
	expect_decode_error("", "bad reply: offset 0: empty input");
	expect_decode_error("d6:result2:ok",
	    "bad reply: offset 13: unexpected end of input");
	expect_decode_error("d6:result4:pongexyz",
	    "bad reply: offset 16: trailing bytes after the value");

	/* Node array too small for the reply. */
	copy = dup_exact(ok, strlen(ok));
	assert_int_equal(ngc_reply_decode(copy, strlen(ok), nodes, 2, &root,
	    err, sizeof(err)), -1);
	assert_true(strncmp(err, "bad reply: offset ", 18) == 0);
	assert_non_null(strstr(err, "too many nodes (limit 2)"));
	free(copy);
}

/* Scan an SDP literal and expect an address and port. */
static void
expect_media(const char *sdp, int af, const char *addr, uint16_t port)
{
	union sockaddr_any	 sa;
	char			 err[128], abuf[INET6_ADDRSTRLEN];
	char			*copy = dup_exact(sdp, strlen(sdp));
	const void		*a;

	memset(&sa, 0xa5, sizeof(sa));
	if (ngc_sdp_media(copy, strlen(sdp), &sa, err, sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
	assert_int_equal(sa.sa.sa_family, af);
	a = af == AF_INET ? (const void *)&sa.sin.sin_addr :
	    (const void *)&sa.sin6.sin6_addr;
	assert_non_null(inet_ntop(af, a, abuf, sizeof(abuf)));
	assert_string_equal(abuf, addr);
	assert_int_equal(sa_port(&sa), port);
	free(copy);
}

static void
expect_sdp_error(const char *sdp, size_t len, const char *msg)
{
	union sockaddr_any	 sa;
	char			 err[128], *copy = dup_exact(sdp, len);

	memset(err, 'X', sizeof(err));
	assert_int_equal(ngc_sdp_media(copy, len, &sa, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
	free(copy);
}
#define SDP_ERR(lit, msg)	expect_sdp_error(lit, sizeof(lit) - 1, msg)

/* What rtpengine answers to an offer, trimmed. */
static const char rtpengine_sdp[] =
	"v=0\r\n"
	"o=- 1545997027 1 IN IP4 127.0.0.1\r\n"
	"s=bench\r\n"
	"t=0 0\r\n"
	"m=audio 20014 RTP/AVP 0\r\n"
	"c=IN IP4 127.0.0.1\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=sendrecv\r\n"
	"a=rtcp:20015\r\n";

static void
test_sdp_media(void **state)
{
	(void)state;
	expect_media(rtpengine_sdp, AF_INET, "127.0.0.1", 20014);
	/* Session-level c=, LF endings, no final newline. */
	expect_media("v=0\nc=IN IP4 198.51.100.7\nm=audio 30000 RTP/AVP 0",
	    AF_INET, "198.51.100.7", 30000);
	/* Media-level c= overrides the session level; TTL suffix ignored. */
	expect_media("v=0\r\nc=IN IP4 198.51.100.7\r\nm=audio 65535/2 "
	    "RTP/AVP 8\r\nc=IN IP4 203.0.113.9/127\r\n",
	    AF_INET, "203.0.113.9", 65535);
	expect_media("v=0\r\nc=IN IP6 2001:db8::1\r\nm=audio 1 RTP/AVP 0\r\n",
	    AF_INET6, "2001:db8::1", 1);
	/* Only the first m= counts; later sections are not even parsed. */
	expect_media("c=IN IP4 198.51.100.1\nm=audio 4000 RTP/AVP 0\n"
	    "m=video 0 RTP/AVP 96\nc=IN IP4 nonsense\n",
	    AF_INET, "198.51.100.1", 4000);
	/* Lines without '=' in second place are skipped. */
	expect_media("junk\n\nx\nc=IN IP4 198.51.100.1\nm=audio 5 RTP/AVP 0\n",
	    AF_INET, "198.51.100.1", 5);

	SDP_ERR("", "no m= line");
	SDP_ERR("v=0\r\nc=IN IP4 127.0.0.1\r\n", "no m= line");
	SDP_ERR("v=0\r\nm=audio 4000 RTP/AVP 0\r\n",
	    "no c= line for the first m= line");
	SDP_ERR("m=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\n"
	    "c=IN IP4 127.0.0.1\n", "no c= line for the first m= line");
	SDP_ERR("v=0\nc=IN IP4 127.0.0.1\nm=audio 7x RTP/AVP 0\n",
	    "line 3: invalid port '7x' in m= line");
	SDP_ERR("c=IN IP4 127.0.0.1\nm=audio 0 RTP/AVP 0\n",
	    "line 2: invalid port '0' in m= line");
	SDP_ERR("c=IN IP4 127.0.0.1\nm=audio 65536 RTP/AVP 0\n",
	    "line 2: invalid port '65536' in m= line");
	SDP_ERR("c=IN IP4 127.0.0.1\nm=audio 99999999999999999999 RTP\n",
	    "line 2: invalid port '99999999999999999999' in m= line");
	SDP_ERR("c=IN IP4 127.0.0.1\nm=audio\n", "line 2: m= line has no port");
	SDP_ERR("c=IN IP4 127.0.0.1\nm=audio \n",
	    "line 2: invalid port '' in m= line");
	SDP_ERR("c=IN IP4 127.0.0.1\nm= 4000\n", "line 2: m= line has no port");
	SDP_ERR("c=IN IP4 10.0.0.300\nm=audio 4000 RTP/AVP 0\n",
	    "line 1: invalid IP4 address '10.0.0.300' in c= line");
	SDP_ERR("c=IN IP4 2001:db8::1\nm=audio 4000 RTP/AVP 0\n",
	    "line 1: invalid IP4 address '2001:db8::1' in c= line");
	SDP_ERR("c=IN IP6 127.0.0.1\nm=audio 4000 RTP/AVP 0\n",
	    "line 1: invalid IP6 address '127.0.0.1' in c= line");
	SDP_ERR("c=IN IP4 /1\nm=audio 4000 RTP/AVP 0\n",
	    "line 1: invalid IP4 address '' in c= line");
	SDP_ERR("c=IN IP4 \nm=audio 4000 RTP/AVP 0\n",
	    "line 1: c= line is not 'IN IP4|IP6 <address>'");
	SDP_ERR("c=IN IP5 127.0.0.1\nm=audio 4000 RTP/AVP 0\n",
	    "line 1: c= line is not 'IN IP4|IP6 <address>'");
	SDP_ERR("v=0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP6 "
	    "0000:0000:0000:0000:0000:0000:0000:0000:0000\r\n",
	    "line 3: invalid IP6 address '0000:0000:0000:0000:0000:0000:0000:"
	    "0000:' in c= line");
	/* A NUL byte inside the address must not end it early. */
	SDP_ERR("c=IN IP4 127.0.0.1\0x\nm=audio 4000 RTP/AVP 0\n",
	    "line 1: invalid IP4 address '127.0.0.1' in c= line");
}

static void
fuzz_one(const char *in, size_t len)
{
	struct bnode		 nodes[NNODES], *root;
	union sockaddr_any	 sa;
	const char		*body;
	size_t			 blen;
	char			 err[64], *copy = dup_exact(in, len);

	/* Small error buffers check that messages truncate safely. */
	(void)ngc_sdp_media(copy, len, &sa, err, sizeof(err));
	(void)ngc_reply_decode(copy, len, nodes, NNODES, &root, err,
	    sizeof(err));
	if (ngc_cookie_match(copy, len, "ab_1", &body, &blen))
		assert_true(body + blen == copy + len);
	free(copy);
}

static void
test_fuzz(void **state)
{
	static const char *const valid[] = {
		rtpengine_sdp,
		"d6:result5:error12:error-reason15:Unknown call-ide",
		"ab_1 d3:sdp3:v=06:result2:oke",
		"v=0\r\nc=IN IP6 2001:db8::1\r\nm=audio 1/2 RTP/AVP 0\r\n",
	};
	static const char alphabet[] = "cm= \r\n/:0123456789IN IP4IP6.de";
	char		 buf[512];
	uint64_t	 seed = 0x6e67636c69656e74ULL;
	size_t		 i, j, len, k;

	(void)state;
	for (i = 0; i < 10000; i++) {
		len = rng_r(&seed) % sizeof(buf);
		for (j = 0; j < len; j++) {
			/* Half the strings from an SDP-ish alphabet, so the
			 * scanners get past their first checks. */
			if (i % 2)
				buf[j] = (char)rng_r(&seed);
			else
				buf[j] = alphabet[rng_r(&seed) %
				    (sizeof(alphabet) - 1)];
		}
		fuzz_one(buf, len);
	}
	for (i = 0; i < 10000; i++) {
		const char *v = valid[i % 4];

		len = strlen(v);
		memcpy(buf, v, len);
		for (k = 0; k < 1 + rng_r(&seed) % 4; k++) {
			switch (rng_r(&seed) % 3) {
			case 0:		/* flip a byte */
				buf[rng_r(&seed) % len] = (char)rng_r(&seed);
				break;
			case 1:		/* truncate */
				len = 1 + rng_r(&seed) % len;
				break;
			default:	/* duplicate a tail */
				j = rng_r(&seed) % len;
				if (len + (len - j) <= sizeof(buf)) {
					memcpy(buf + len, buf + j, len - j);
					len += len - j;
				}
				break;
			}
		}
		fuzz_one(buf, len);
	}
}

/*
 * A fake ng server: for each scripted step it receives one datagram and
 * sends the scripted replies, each prefixed by the received cookie unless
 * it carries its own.
 */
struct fake {
	int		 fd;
	int		 steps;
	/* Per step; "=..." is sent as is. */
	const char	*replies[4][3];
	char		 got[4][256];	/* datagrams received */
	size_t		 gotlen[4];
};

static void *
fake_run(void *arg)
{
	struct fake	*f = arg;
	struct sockaddr_storage ss;
	socklen_t	 sl;
	char		 out[512];
	ssize_t		 n;
	size_t		 clen;
	int		 s, r;

	for (s = 0; s < f->steps; s++) {
		sl = sizeof(ss);
		n = recvfrom(f->fd, f->got[s], sizeof(f->got[s]) - 1, 0,
		    (struct sockaddr *)&ss, &sl);
		if (n <= 0)
			return NULL;
		f->gotlen[s] = (size_t)n;
		clen = strcspn(f->got[s], " ");
		for (r = 0; r < 3 && f->replies[s][r] != NULL; r++) {
			if (f->replies[s][r][0] == '=')
				snprintf(out, sizeof(out), "%s",
				    f->replies[s][r] + 1);
			else
				snprintf(out, sizeof(out), "%.*s %s",
				    (int)clen, f->got[s], f->replies[s][r]);
			(void)sendto(f->fd, out, strlen(out), 0,
			    (struct sockaddr *)&ss, sl);
		}
	}
	return NULL;
}

/* A UDP socket on the loopback address of af, any port; -1 if af has no
 * loopback here (IPv6 disabled). */
static int
bind_loopback_af(int af, union sockaddr_any *sa)
{
	struct timeval	 tv = { 3, 0 };
	socklen_t	 sl = sizeof(*sa);
	int		 fd;

	memset(sa, 0, sizeof(*sa));
	sa->sa.sa_family = (sa_family_t)af;
	if (af == AF_INET)
		sa->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		sa->sin6.sin6_addr = in6addr_loopback;
	if ((fd = socket(af, SOCK_DGRAM, 0)) == -1)
		return -1;
	if (bind(fd, &sa->sa, sa_len(sa)) == -1) {
		close(fd);
		return -1;
	}
	assert_int_equal(getsockname(fd, &sa->sa, &sl), 0);
	/* A fake server whose client never sends must not hang the test. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	return fd;
}

static int
bind_loopback(union sockaddr_any *sa)
{
	int	fd = bind_loopback_af(AF_INET, sa);

	assert_true(fd >= 0);
	return fd;
}

static void
test_request_retransmit(void **state)
{
	struct fake		 f = { 0 };
	union sockaddr_any	 sa;
	pthread_t		 th;
	struct ngc		*c;
	struct bencoder		 b;
	struct bnode		 nodes[NNODES], *reply;
	char			 err[160], rb[128], first[64];
	size_t			 clen;

	(void)state;
	f.fd = bind_loopback(&sa);
	f.steps = 2;
	/* First send: no answer, so the client must retransmit. Second:
	 * a stale reply and garbage first, then the real one. */
	f.replies[1][0] = "=deadbeef_0 d6:result5:error12:error-reason1:xe";
	f.replies[1][1] = "=no-space-here";
	f.replies[1][2] = "d6:result4:ponge";
	assert_int_equal(pthread_create(&th, NULL, fake_run, &f), 0);

	c = ngc_open(&sa, 100, 3, err, sizeof(err));
	assert_non_null(c);
	if (ngc_ping(c, err, sizeof(err)) != 0)
		fail_msg("ping failed: %s", err);
	pthread_join(th, NULL);

	/* The retransmission is byte for byte the first datagram. */
	assert_int_equal(f.gotlen[0], f.gotlen[1]);
	assert_memory_equal(f.got[0], f.got[1], f.gotlen[0]);
	clen = strcspn(f.got[0], " ");
	assert_true(clen > 0 && clen < sizeof(first));
	assert_string_equal(f.got[0] + clen, " d7:command4:pinge");

	/* A second request uses a fresh cookie. */
	memcpy(first, f.got[0], clen);
	first[clen] = '\0';
	memset(&f.got, 0, sizeof(f.got));
	f.steps = 1;
	f.replies[0][0] = "d6:result5:error12:error-reason15:Unknown call-ide";
	f.replies[1][0] = f.replies[1][1] = f.replies[1][2] = NULL;
	assert_int_equal(pthread_create(&th, NULL, fake_run, &f), 0);
	benc_init(&b, rb, sizeof(rb));
	ngc_build_delete(&b, "c1", "ft");
	assert_int_equal(ngc_request(c, &b, nodes, NNODES, &reply, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "ng error: Unknown call-id");
	pthread_join(th, NULL);
	assert_int_equal(strcspn(f.got[0], " "), clen);
	assert_memory_not_equal(f.got[0], first, clen);
	assert_string_equal(f.got[0] + clen,
	    " d7:call-id2:c17:command6:delete8:from-tag2:fte");
	ngc_close(c);
	close(f.fd);
}

static void
test_request_silent(void **state)
{
	union sockaddr_any	 sa;
	struct ngc		*c;
	char			 err[160], want[160];
	int			 fd;

	(void)state;
	fd = bind_loopback(&sa);
	c = ngc_open(&sa, 30, 2, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(ngc_ping(c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "no reply from 127.0.0.1:%u after 2 "
	    "tries of 30 ms", sa_port(&sa));
	assert_string_equal(err, want);
	ngc_close(c);
	close(fd);

	/* Nobody bound: the kernel's port unreachable shows in the error. */
	fd = bind_loopback(&sa);
	close(fd);
	c = ngc_open(&sa, 30, 2, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(ngc_ping(c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "no reply from 127.0.0.1:%u after 2 "
	    "tries of 30 ms (connection refused)", sa_port(&sa));
	assert_string_equal(err, want);
	ngc_close(c);

	assert_null(ngc_open(&sa, 0, 2, err, sizeof(err)));
	assert_string_equal(err, "timeout and tries must be positive");
}

static void
test_request_ipv6(void **state)
{
	struct fake		 f = { 0 };
	union sockaddr_any	 sa;
	pthread_t		 th;
	struct ngc		*c;
	char			 err[160];

	(void)state;
	if ((f.fd = bind_loopback_af(AF_INET6, &sa)) == -1)
		skip();
	f.steps = 1;
	f.replies[0][0] = "d6:result4:ponge";
	assert_int_equal(pthread_create(&th, NULL, fake_run, &f), 0);
	c = ngc_open(&sa, 500, 2, err, sizeof(err));
	assert_non_null(c);
	if (ngc_ping(c, err, sizeof(err)) != 0)
		fail_msg("ping over IPv6 failed: %s", err);
	pthread_join(th, NULL);
	ngc_close(c);
	close(f.fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builders),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_cookie_match),
		cmocka_unit_test(test_reply_decode),
		cmocka_unit_test(test_sdp_media),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_request_retransmit),
		cmocka_unit_test(test_request_silent),
		cmocka_unit_test(test_request_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
