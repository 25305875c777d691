/*
 * A small synchronous client for the rtpengine "ng" control protocol
 * (bencode over UDP), used by the relay benchmark and the lab to drive
 * rtprelay or rtpengine.
 *
 * A request is one datagram "<cookie> <bencoded dict>"; the reply echoes the
 * cookie. Servers cache replies by cookie, so retransmitting a request with
 * the same cookie is safe even for offer and delete: the server resends its
 * cached reply instead of running the command twice. Replies carrying another
 * cookie (late answers to earlier requests) are ignored.
 *
 * The framing, matching, decoding, request building and SDP scanning
 * functions do no I/O and fill the caller's error buffer; only ngc_open,
 * ngc_request and ngc_ping touch the network.
 */
#ifndef COMMON_NGCLIENT_H
#define COMMON_NGCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/addr.h"
#include "common/bencode.h"

/* Largest datagram sent or accepted; an offer reply with SDP fits easily. */
#define NGC_MAX_DGRAM	65535
/* Longest cookie ngc_frame accepts, NUL excluded. */
#define NGC_COOKIE_MAX	64

struct ngc;

/*
 * Open a connected UDP socket to server. Each request is sent up to tries
 * times, waiting timeout_ms for the matching reply after each send.
 * Returns NULL with a message in err on failure.
 */
struct ngc	*ngc_open(const union sockaddr_any *server, int timeout_ms,
		    int tries, char *err, size_t errlen);
void		 ngc_close(struct ngc *c);

/*
 * Send the dict in req (complete, closed, not overflowed) under a fresh
 * cookie and wait for its reply, retransmitting as configured. On success
 * *reply is the decoded reply dict; its strings point into a buffer inside c
 * and stay valid until the next request on c. Returns -1 with "ng error:
 * <error-reason>" when the server answers with result "error", and with a
 * message naming the server and the number of tries when it stays silent.
 */
int	ngc_request(struct ngc *c, const struct bencoder *req,
	    struct bnode *nodes, size_t nnodes, struct bnode **reply,
	    char *err, size_t errlen);
/* One "ping" request; 0 if the server answered "pong". */
int	ngc_ping(struct ngc *c, char *err, size_t errlen);
/*
 * Send an offer or answer (req) and return in *media the transport address
 * of the first m= line of the reply's SDP: where the other party must send.
 * Errors: those of ngc_request, "reply has no sdp", "reply sdp: ...".
 */
int	ngc_request_media(struct ngc *c, const struct bencoder *req,
	    union sockaddr_any *media, char *err, size_t errlen);

/*
 * Write "<cookie> <req>" into out[0..cap). Returns the datagram length, or
 * -1 if the cookie is empty, too long or holds a space, if req overflowed
 * its own buffer, or if the datagram does not fit in cap.
 */
ssize_t	ngc_frame(char *out, size_t cap, const char *cookie,
	    const struct bencoder *req, char *err, size_t errlen);

/*
 * True if the datagram buf[0..len) is a reply to cookie, that is starts with
 * the cookie followed by one space; then *body and *bodylen give the rest.
 */
bool	ngc_cookie_match(const char *buf, size_t len, const char *cookie,
	    const char **body, size_t *bodylen);

/*
 * Decode a reply body (the part after the cookie) into nodes. The body must
 * be a dict with a string "result"; result "error" fails with
 * "ng error: <error-reason>". Any other result is returned to the caller.
 */
int	ngc_reply_decode(const char *body, size_t len, struct bnode *nodes,
	    size_t nnodes, struct bnode **root, char *err, size_t errlen);

/*
 * Request builders: each writes one complete dict into b (keys in sorted
 * order, as bencode wants). Check b->overflow before sending; ngc_frame
 * refuses an overflowed request.
 */
void	ngc_build_ping(struct bencoder *b);
void	ngc_build_offer(struct bencoder *b, const char *call_id,
	    const char *from_tag, const char *sdp);
void	ngc_build_answer(struct bencoder *b, const char *call_id,
	    const char *from_tag, const char *to_tag, const char *sdp);
void	ngc_build_delete(struct bencoder *b, const char *call_id,
	    const char *from_tag);

/*
 * The transport address of the first m= line of sdp[0..len): its port, and
 * the address of the c= line that applies to it (a c= line inside that media
 * section overrides the session-level one). Lines end in CRLF or LF.
 * Errors name the line, as in "line 4: invalid port '7x' in m= line".
 */
int	ngc_sdp_media(const char *sdp, size_t len, union sockaddr_any *out,
	    char *err, size_t errlen);

#endif
