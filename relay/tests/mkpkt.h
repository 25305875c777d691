/*
 * Builders of media datagrams for the relay's cmocka tests: ZRTP packets
 * with a correct CRC, DTLS 1.0/1.2 records and DTLS 1.3 unified-header
 * records, laid out byte by byte from the RFCs rather than with the
 * classifier's code. The ZRTP CRC is rtp_crc32c()'s, which test_rtp pins
 * to the standard check values and to a packet Wireshark accepted.
 *
 * Include after <cmocka.h>. Everything is static inline, as in
 * common/tests/testutil.h.
 */
#ifndef RELAY_TESTS_MKPKT_H
#define RELAY_TESTS_MKPKT_H

#include <stdint.h>
#include <string.h>

#include "relay/rtp.h"

static inline void
put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

static inline void
put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, v & 0xffff);
}

/* Recompute the CRC of a ZRTP packet after an edit. */
static inline void
zrtp_fix_crc(uint8_t *b, size_t len)
{
	uint32_t crc = rtp_crc32c(b, len - 4);

	b[len - 4] = (uint8_t)crc;
	b[len - 3] = (uint8_t)(crc >> 8);
	b[len - 2] = (uint8_t)(crc >> 16);
	b[len - 1] = (uint8_t)(crc >> 24);
}

/* ZRTP packet, seq 1, source id ssrc, message type `type` (8 bytes) and
 * `words` words of body after the type block (0x5a bytes), CRC last. */
static inline size_t
zrtp(uint8_t *b, const char *type, size_t words, uint32_t ssrc)
{
	size_t len = 12 + 4 * (3 + words) + 4;

	memset(b, 0x5a, len);
	put16(b, 0x1000);
	put16(b + 2, 1);
	put32(b + 4, ZRTP_MAGIC_COOKIE);
	put32(b + 8, ssrc);
	put16(b + 12, ZRTP_PREAMBLE);
	put16(b + 14, (uint16_t)(3 + words));
	memcpy(b + 16, type, 8);
	zrtp_fix_crc(b, len);
	return len;
}

/*
 * A ZRTP Hello with n[0..4] hash, cipher, auth tag, key agreement and SAS
 * algorithms (4 bytes each). With none it is byte for byte the packet
 * Wireshark 4.0's ZRTP dissector reported "Checksum: 0x8a4192bf [correct]"
 * for (source id 0xdeadbeef, seq 1).
 */
static inline size_t
zrtp_hello(uint8_t *b, const unsigned int n[5])
{
	unsigned int algs = n[0] + n[1] + n[2] + n[3] + n[4];
	size_t len = zrtp(b, "Hello   ", 19 + algs, 0xdeadbeef);
	uint8_t *m = b + 16 + 8;

	memcpy(m, "1.10", 4);
	memcpy(m + 4, "PythonTest      ", 16);
	memset(m + 20, 0x11, 32);		/* H3 */
	memset(m + 52, 0x22, 12);		/* ZID */
	put32(m + 64, n[0] << 16 | n[1] << 12 | n[2] << 8 | n[3] << 4 |
	    n[4]);
	memset(m + 68, 0x44, 4 * algs);
	memset(m + 68 + 4 * algs, 0x33, 8);	/* MAC */
	zrtp_fix_crc(b, len);
	return len;
}

/* One DTLS 1.0/1.2 record: body[0] = first, the rest 0xd7. */
static inline size_t
dtls_rec(uint8_t *b, uint8_t type, uint16_t version, uint16_t epoch,
    uint8_t first, size_t n)
{
	b[0] = type;
	put16(b + 1, version);
	put16(b + 3, epoch);
	put16(b + 5, 0);
	put32(b + 7, 7);		/* 48-bit sequence number */
	put16(b + 11, (uint16_t)n);
	memset(b + 13, 0xd7, n);
	if (n > 0)
		b[13] = first;
	return 13 + n;
}

/* A DTLS 1.3 unified header record (RFC 9147 s4): first byte b0, then
 * the sequence number, the length if L is set, n bytes of ciphertext. */
static inline size_t
dtls13_rec(uint8_t *b, uint8_t b0, size_t n)
{
	size_t h = 1;

	b[0] = b0;
	if (b0 & 0x10)
		b[h++] = 0xc1;			/* a 1-byte connection ID */
	b[h++] = 0x42;
	if (b0 & 0x08)
		b[h++] = 0x43;
	if (b0 & 0x04) {
		put16(b + h, (uint16_t)n);
		h += 2;
	}
	memset(b + h, 0xe3, n);
	return h + n;
}

/* TURN ChannelData (RFC 8656 s12.4): channel, length, len - 4 bytes. */
static inline size_t
turn_channel_data(uint8_t *b, uint16_t channel, size_t len)
{
	memset(b, 0xab, len);
	put16(b, channel);
	put16(b + 2, (uint16_t)(len - 4));
	return len;
}

#endif
