#include "topology-tests/rtpmeter/sdp.h"

#include <stdio.h>

int
msdp_build(char *buf, size_t len, const struct addr *a, uint16_t port,
    uint32_t session_id, int pt, int ptime_ms, bool rtcp_mux)
{
	char	abuf[ADDR_STRLEN];
	int	v = a->af == AF_INET6 ? 6 : 4, n;

	addr_fmt(a, abuf, sizeof(abuf));
	n = snprintf(buf, len,
	    "v=0\r\n"
	    "o=- %u 1 IN IP%d %s\r\n"
	    "s=rtpmeter\r\n"
	    "c=IN IP%d %s\r\n"
	    "t=0 0\r\n"
	    "m=audio %u RTP/AVP %d\r\n"
	    "a=rtpmap:%d %s/8000\r\n"
	    "a=ptime:%d\r\n"
	    "%s"
	    "a=sendrecv\r\n", (unsigned int)session_id, v, abuf, v, abuf,
	    (unsigned int)port, pt, pt, pt == 0 ? "PCMU" : "PCMA", ptime_ms,
	    rtcp_mux ? "a=rtcp-mux\r\n" : "");
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}
