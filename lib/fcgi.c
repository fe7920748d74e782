/*
 * fcgi.c: FastCGI records, as the responder side writes them.
 *
 * libfcgi reads requests and answers refusals; a started stream's
 * output is framed here and written by the pump (pump.c) without
 * blocking. A record is an 8-byte header (version 1, type, request id,
 * content length, padding length 0, reserved) and its body: STDOUT
 * records carry the response, an empty STDOUT ends it, and END_REQUEST
 * (application status 0, REQUEST_COMPLETE) ends the request. Bodies
 * over PGSSE_FCGI_BODY_MAX bytes are split over several records. No
 * padding is written: it is optional.
 *
 * Once a stream is started, the web server may still send on its
 * connection: the rest of STDIN (empty for a GET), and ABORT_REQUEST
 * when its browser left while it keeps the connection (nginx and Apache
 * with kept connections may). The pump reads these and hands them to
 * pgsse_fcgi_in_feed, which skips every record but the request's
 * ABORT_REQUEST. libfcgi may have read part of a record before handing
 * the connection over; a header of another version then says the
 * reader is not at a record, and it skips everything from there on
 * (the connection's close still ends the stream).
 */
#include <stddef.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "fcgi.h"

/*
 * Appends the header of a record of type for request reqid with a body
 * of len bytes (at most PGSSE_FCGI_BODY_MAX) to b. Returns
 * PGSSE_ERR_INVAL if reqid or len do not fit, PGSSE_ERR_NOMEM if
 * memory ran out.
 */
enum pgsse_err
pgsse_fcgi_header(struct pgsse_buf *b, enum pgsse_fcgi_type type,
    unsigned int reqid, size_t len)
{
	unsigned char	 h[PGSSE_FCGI_HEADER];

	if (reqid > 0xffff || len > PGSSE_FCGI_BODY_MAX)
		return PGSSE_ERR_INVAL;
	h[0] = PGSSE_FCGI_VERSION;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(reqid >> 8);
	h[3] = (unsigned char)(reqid & 0xff);
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)(len & 0xff);
	h[6] = 0;	/* padding length */
	h[7] = 0;	/* reserved */
	return pgsse_buf_put(b, h, sizeof(h));
}

/*
 * Returns how many bytes pgsse_fcgi_stdout appends for n bytes of
 * output. Can't fail.
 */
size_t
pgsse_fcgi_stdout_len(size_t n)
{
	return n + PGSSE_FCGI_HEADER *
	    ((n + PGSSE_FCGI_BODY_MAX - 1) / PGSSE_FCGI_BODY_MAX);
}

/*
 * Appends n bytes at p as STDOUT records of request reqid to b, as few
 * as fit; n of 0 appends nothing (an empty STDOUT ends the stream: see
 * pgsse_fcgi_end). Returns PGSSE_ERR_INVAL for a reqid over 65535,
 * PGSSE_ERR_NOMEM if memory ran out, with b then holding whole records
 * only.
 */
enum pgsse_err
pgsse_fcgi_stdout(struct pgsse_buf *b, unsigned int reqid, const void *p,
    size_t n)
{
	const char	*cp = p;
	size_t		 k;
	enum pgsse_err	 er = PGSSE_OK;

	while (n > 0 && er == PGSSE_OK) {
		k = n > PGSSE_FCGI_BODY_MAX ? PGSSE_FCGI_BODY_MAX : n;
		if ((er = pgsse_fcgi_header(b, PGSSE_FCGI_STDOUT, reqid, k)) ==
		    PGSSE_OK && (er = pgsse_buf_put(b, cp, k)) != PGSSE_OK)
			b->p[b->len -= PGSSE_FCGI_HEADER] = '\0';
		cp += k;
		n -= k;
	}
	return er;
}

/*
 * Appends the end of request reqid to b: an empty STDOUT record, then
 * END_REQUEST with application status 0 and REQUEST_COMPLETE. Returns
 * PGSSE_ERR_INVAL for a reqid over 65535, PGSSE_ERR_NOMEM if memory ran
 * out.
 */
enum pgsse_err
pgsse_fcgi_end(struct pgsse_buf *b, unsigned int reqid)
{
	static const unsigned char body[PGSSE_FCGI_END_BODY] = { 0 };
	enum pgsse_err		 er;

	if ((er = pgsse_fcgi_header(b, PGSSE_FCGI_STDOUT, reqid, 0)) ||
	    (er = pgsse_fcgi_header(b, PGSSE_FCGI_END_REQUEST, reqid,
	    sizeof(body))))
		return er;
	return pgsse_buf_put(b, body, sizeof(body));
}

/*
 * Reads n more bytes at p that the web server sent on the connection of
 * request reqid, into the record reader in. Returns
 * PGSSE_FCGI_IN_ABORT once an ABORT_REQUEST of reqid is whole, else
 * PGSSE_FCGI_IN_NONE (every other record is skipped). Can't fail.
 */
enum pgsse_fcgi_in_news
pgsse_fcgi_in_feed(struct pgsse_fcgi_in *in, unsigned int reqid,
    const void *p, size_t n)
{
	const unsigned char	*cp = p;
	size_t			 k;

	while (n > 0 && !in->lost) {
		if (in->skip > 0) {
			k = n < in->skip ? n : in->skip;
			in->skip -= k;
			cp += k;
			n -= k;
			continue;
		}
		k = PGSSE_FCGI_HEADER - in->hlen;
		k = n < k ? n : k;
		memcpy(in->head + in->hlen, cp, k);
		in->hlen += k;
		cp += k;
		n -= k;
		if (in->hlen < PGSSE_FCGI_HEADER)
			break;
		in->hlen = 0;
		if (in->head[0] != PGSSE_FCGI_VERSION) {
			in->lost = 1;
			break;
		}
		in->skip = ((size_t)in->head[4] << 8 | in->head[5]) +
		    in->head[6];
		if (in->head[1] == PGSSE_FCGI_ABORT_REQUEST &&
		    ((unsigned int)in->head[2] << 8 | in->head[3]) == reqid)
			return PGSSE_FCGI_IN_ABORT;
	}
	return PGSSE_FCGI_IN_NONE;
}

/*
 * Returns 1 if the len bytes at p begin with whole records up to and
 * including an empty STDIN record (the end of a request's standard
 * input: all that a responder reads of a request), else 0: a record is
 * cut short, or the end is not there yet. Bytes past it are not looked
 * at. Can't fail.
 */
int
pgsse_fcgi_request_whole(const void *p, size_t len)
{
	const unsigned char	*b = p;
	size_t			 off = 0, body;

	while (len - off >= PGSSE_FCGI_HEADER) {
		body = ((size_t)b[off + 4] << 8 | b[off + 5]) + b[off + 6];
		if (len - off - PGSSE_FCGI_HEADER < body)
			return 0;
		if (b[off + 1] == PGSSE_FCGI_STDIN && b[off + 4] == 0 &&
		    b[off + 5] == 0)
			return 1;
		off += PGSSE_FCGI_HEADER + body;
	}
	return 0;
}
