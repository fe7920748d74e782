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
 */
#include <stddef.h>

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
