/*
 * The SDP rtpmeter's endpoints offer and answer: one audio stream of
 * PCMU or PCMA on the endpoint's own address and port. Pure: the text
 * goes into the caller's buffer.
 */
#ifndef RTPMETER_SDP_H
#define RTPMETER_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#define MSDP_MAX	512

/*
 * SDP for an endpoint at a:port. With rtcp_mux the media section carries
 * a=rtcp-mux (RFC 5761): RTCP would share the RTP port, and a relay needs
 * no RTCP socket for that leg (rtprelay then holds 2 sockets per call
 * instead of 4). rtpmeter sends no RTCP either way. Returns the length,
 * or -1 when it does not fit in len.
 */
int	msdp_build(char *buf, size_t len, const struct addr *a, uint16_t port,
	    uint32_t session_id, int pt, int ptime_ms, bool rtcp_mux);

#endif
