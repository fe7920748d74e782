/*
 * fcgi.c: FastCGI records, as the responder side reads and writes them.
 *
 * pgsse-app and pgsse-stream read their requests here
 * (pgsse_fcgi_req_feed, below); pgsse-app writes its responses with
 * pgsse_fcgi_stdout and pgsse_fcgi_end, and so do both programs' answers
 * through http.c. A started stream's output is framed here and written
 * by the pump (pump.c) without blocking. A record is an 8-byte header
 * (version 1, type, request id, content length, padding length 0,
 * reserved) and its body: STDOUT records carry the response, an empty
 * STDOUT ends it, and END_REQUEST (application status 0,
 * REQUEST_COMPLETE) ends the request. Bodies over PGSSE_FCGI_BODY_MAX
 * bytes are split over several records. No padding is written: it is
 * optional.
 *
 * Once a stream is started, the web server may still send on its
 * connection: the rest of STDIN (empty for a GET), and ABORT_REQUEST
 * when its browser left while it keeps the connection (nginx and Apache
 * with kept connections may). The pump reads these and hands them to
 * pgsse_fcgi_in_feed, which skips every record but the request's
 * ABORT_REQUEST. The request was read up to the end of its PARAMS, or
 * past it, before the connection was handed over; the pump's reader
 * starts where the request reader stopped (pgsse_fcgi_in_from_req).
 * Should it not be at a record (a header of another version), it skips
 * everything from there on (the connection's close still ends the
 * stream).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "fcgi.h"

/*
 * Writes the header of a record of type for request reqid with a body
 * of len bytes to the PGSSE_FCGI_HEADER bytes at h. The caller checks
 * that reqid and len fit.
 */
void
pgsse_fcgi_header_to(unsigned char *h,
    enum pgsse_fcgi_type type, unsigned int reqid, size_t len)
{
	h[0] = PGSSE_FCGI_VERSION;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(reqid >> 8);
	h[3] = (unsigned char)(reqid & 0xff);
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)(len & 0xff);
	h[6] = 0;	/* padding length */
	h[7] = 0;	/* reserved */
}

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
	pgsse_fcgi_header_to(h, type, reqid, len);
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
 * Writes the end of request reqid (at most 65535) to the
 * PGSSE_FCGI_END_LEN bytes at e: an empty STDOUT
 * record, then END_REQUEST with application status 0 and
 * REQUEST_COMPLETE. Can't fail.
 */
void
pgsse_fcgi_end_to(unsigned char *e, unsigned int reqid)
{
	pgsse_fcgi_header_to(e, PGSSE_FCGI_STDOUT, reqid, 0);
	pgsse_fcgi_header_to(e + PGSSE_FCGI_HEADER, PGSSE_FCGI_END_REQUEST,
	    reqid, PGSSE_FCGI_END_BODY);
	memset(e + 2 * PGSSE_FCGI_HEADER, 0, PGSSE_FCGI_END_BODY);
}

/*
 * Appends the end of request reqid to b (pgsse_fcgi_end_to). Returns
 * PGSSE_ERR_INVAL for a reqid over 65535, PGSSE_ERR_NOMEM if memory ran
 * out.
 */
enum pgsse_err
pgsse_fcgi_end(struct pgsse_buf *b, unsigned int reqid)
{
	unsigned char	 e[PGSSE_FCGI_END_LEN];

	if (reqid > 0xffff)
		return PGSSE_ERR_INVAL;
	pgsse_fcgi_end_to(e, reqid);
	return pgsse_buf_put(b, e, sizeof(e));
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
 * Makes in, the reader of what the web server sends once the request is
 * started, carry on where the request reader q stopped: inside the
 * record it was reading (its header, or its body and padding to skip),
 * or at a record. Returns PGSSE_FCGI_IN_ABORT if that record is the
 * request's ABORT_REQUEST, its header read but not its padding (q ends
 * the request only then), else PGSSE_FCGI_IN_NONE. Can't fail.
 */
enum pgsse_fcgi_in_news
pgsse_fcgi_in_from_req(struct pgsse_fcgi_in *in,
    const struct pgsse_fcgi_req *q)
{
	memset(in, 0, sizeof(*in));
	memcpy(in->head, q->head, q->hlen);
	in->hlen = q->hlen;
	in->skip = q->body + q->pad;
	return q->type == PGSSE_FCGI_ABORT_REQUEST ? PGSSE_FCGI_IN_ABORT :
	    PGSSE_FCGI_IN_NONE;
}

/*
 * The request reader. pgsse-app and pgsse-stream read their requests
 * themselves rather than through libfcgi: one read a request where it
 * can, no allocation per parameter, and parameters found without a scan
 * of "NAME=value" strings. It accepts what a web server sends:
 * BEGIN_REQUEST (role RESPONDER), PARAMS records up to an empty one,
 * STDIN records up to an empty one, in that order, all of one request
 * id; records of other ids are skipped, as is padding, and an
 * ABORT_REQUEST before BEGIN_REQUEST (of the connection's last request,
 * which ended as the server gave up on it); a BEGIN_REQUEST of the
 * request's own id starts it over (fcgi_req_restart),
 * PGSSE_FCGI_RESTARTS_MAX times at most. Management records (request
 * id 0) that come while a request is read are answered as libfcgi
 * answered them: GET_VALUES with GET_VALUES_RESULT, which gives
 * FCGI_MPXS_CONNS as "0" (one request a connection at a time) and
 * leaves out FCGI_MAX_CONNS and FCGI_MAX_REQS (neither program has a
 * fixed number; libfcgi said 1, which would hold a server that believed
 * it to one connection), and every other type with UNKNOWN_TYPE. Only
 * the first PGSSE_FCGI_MGMT_KEEP bytes of a GET_VALUES body are read
 * for names (a query without FCGI_MPXS_CONNS gets an empty result).
 * The answers wait in q->reply until the caller sends them after each
 * read (pgsse_req_answer_mgmt, http.c): PGSSE_FCGI_REPLY_MAX bytes of
 * them at most, the first ones; the rest of that read's are dropped,
 * so a peer that floods management records gets at most that much a
 * read, and none that it does not read.
 * The PARAMS stream is kept up to PGSSE_FCGI_PARAMS_MAX bytes and
 * PGSSE_FCGI_NPARAMS_MAX pairs, STDIN up to inmax bytes (the rest is
 * counted in intotal, not kept).
 */

/*
 * Appends n bytes at p to the growing buffer *b of *len bytes and *cap
 * room, keeping one byte for a NUL. Returns 0, or -1 if memory ran out.
 */
static int
fcgi_req_put(char **b, size_t *len, size_t *cap, const void *p, size_t n)
{
	char	*nb;
	size_t	 ncap;

	if (*len + n + 1 > *cap) {
		ncap = *cap ? *cap : 1024;
		while (ncap < *len + n + 1)
			ncap *= 2;
		if ((nb = realloc(*b, ncap)) == NULL)
			return -1;
		*b = nb;
		*cap = ncap;
	}
	memcpy(*b + *len, p, n);
	(*b)[*len += n] = '\0';
	return 0;
}

/*
 * Reads a name-value length at p + *off, of end bytes, into *v. Returns
 * 0, or -1 if it is cut short.
 */
static int
fcgi_req_len(const void *p, size_t *off, size_t end, size_t *v)
{
	const unsigned char	*b = (const unsigned char *)p + *off;

	if (*off >= end)
		return -1;
	if (!(b[0] & 0x80)) {
		*v = b[0];
		*off += 1;
		return 0;
	}
	if (end - *off < 4)
		return -1;
	*v = ((size_t)(b[0] & 0x7f) << 24) | ((size_t)b[1] << 16) |
	    ((size_t)b[2] << 8) | b[3];
	*off += 4;
	return 0;
}

/*
 * Decodes q's PARAMS stream in place into NUL-terminated names and
 * values, indexed in q->env. A decoded pair is never longer than its
 * encoding (two NULs for at least two length bytes), so writing never
 * overtakes reading. Returns PGSSE_FCGI_REQ_MORE (decoded), _BAD for a
 * pair cut short or a name holding a NUL, _LIMIT past
 * PGSSE_FCGI_NPARAMS_MAX pairs.
 */
static enum pgsse_fcgi_req_st
fcgi_req_decode(struct pgsse_fcgi_req *q)
{
	size_t	 r = 0, w = 0, nl, vl;

	while (r < q->plen) {
		if (fcgi_req_len(q->params, &r, q->plen, &nl) == -1 ||
		    fcgi_req_len(q->params, &r, q->plen, &vl) == -1 ||
		    nl > q->plen - r || vl > q->plen - r - nl ||
		    memchr(q->params + r, '\0', nl) != NULL)
			return PGSSE_FCGI_REQ_BAD;
		if (q->nenv == PGSSE_FCGI_NPARAMS_MAX)
			return PGSSE_FCGI_REQ_LIMIT;
		memmove(q->params + w, q->params + r, nl);
		q->env[2 * q->nenv] = q->params + w;
		w += nl;
		q->params[w++] = '\0';
		memmove(q->params + w, q->params + r + nl, vl);
		q->env[2 * q->nenv++ + 1] = q->params + w;
		w += vl;
		q->params[w++] = '\0';
		r += nl + vl;
	}
	return PGSSE_FCGI_REQ_MORE;
}

/*
 * Starts q's request over, at a BEGIN_REQUEST of its own id before its
 * STDIN ended. lighttpd 1.4 sends a request this way when its first
 * connection for it failed (pgsse's listening queue was full, in a
 * storm): on the next connection it sends what it had queued for the
 * first, BEGIN_REQUEST and PARAMS with no STDIN, and then the request
 * again, whole. The last is the one it means (libfcgi served the
 * first, whose parameters are the same, and skipped the rest; so does
 * a caller that takes a request once its parameters are in, as the
 * acceptor does one that declares a body). At most
 * PGSSE_FCGI_RESTARTS_MAX times a request (lighttpd sends one stale
 * copy a failed connection), so that a peer cannot renew its
 * parameters' and STDIN's limits for ever. Keeps the record being read
 * and the answers to send. Returns 0, or -1 past that many.
 */
static int
fcgi_req_restart(struct pgsse_fcgi_req *q)
{
	if (q->restarts++ == PGSSE_FCGI_RESTARTS_MAX)
		return -1;
	q->reqid = 0;
	q->keep = 0;
	q->blen = 0;
	q->params_done = q->in_done = 0;
	q->plen = q->nenv = 0;
	q->inlen = q->intotal = 0;
	if (q->in != NULL)
		q->in[0] = '\0';
	return 0;
}

/*
 * Takes the header in q->head: checks it, and notes what its body is.
 * Returns PGSSE_FCGI_REQ_MORE, or _BAD.
 */
static enum pgsse_fcgi_req_st
fcgi_req_head(struct pgsse_fcgi_req *q)
{
	unsigned int	 id = (unsigned int)q->head[2] << 8 | q->head[3];
	int		 type = q->head[1];

	q->hlen = 0;
	q->clen = q->body = (size_t)q->head[4] << 8 | q->head[5];
	q->pad = q->head[6];
	q->type = 0;	/* skipped */
	q->mgmt = 0;
	if (q->head[0] != PGSSE_FCGI_VERSION)
		return PGSSE_FCGI_REQ_BAD;
	if (id == 0) {
		q->mgmt = 1;
		q->mtype = type;
		q->mlen = 0;
		return PGSSE_FCGI_REQ_MORE;
	}
	if (type == PGSSE_FCGI_BEGIN_REQUEST && id == q->reqid &&
	    fcgi_req_restart(q) == -1)
		return PGSSE_FCGI_REQ_BAD;
	if (type == PGSSE_FCGI_BEGIN_REQUEST)
		return q->reqid != 0 || q->clen != sizeof(q->begin) ?
		    PGSSE_FCGI_REQ_BAD : (q->reqid = id, q->type = type,
		    PGSSE_FCGI_REQ_MORE);
	if (q->reqid == 0)	/* an abort of the request just ended: late */
		return type == PGSSE_FCGI_ABORT_REQUEST ? PGSSE_FCGI_REQ_MORE :
		    PGSSE_FCGI_REQ_BAD;
	if (id != q->reqid)
		return PGSSE_FCGI_REQ_MORE;
	if ((type == PGSSE_FCGI_PARAMS && q->params_done) ||
	    (type == PGSSE_FCGI_STDIN && !q->params_done) ||
	    (type != PGSSE_FCGI_PARAMS && type != PGSSE_FCGI_STDIN &&
	    type != PGSSE_FCGI_ABORT_REQUEST))
		return PGSSE_FCGI_REQ_BAD;
	q->type = type;
	return PGSSE_FCGI_REQ_MORE;
}

/*
 * Takes k bytes at p of the current record's body. Returns
 * PGSSE_FCGI_REQ_MORE, _LIMIT or _NOMEM.
 */
static enum pgsse_fcgi_req_st
fcgi_req_body(struct pgsse_fcgi_req *q, const unsigned char *p, size_t k)
{
	size_t	 keep;

	if (q->mgmt) {
		keep = PGSSE_FCGI_MGMT_KEEP - q->mlen;
		keep = k < keep ? k : keep;
		memcpy(q->mbody + q->mlen, p, keep);
		q->mlen += keep;
		return PGSSE_FCGI_REQ_MORE;
	}
	switch (q->type) {
	case PGSSE_FCGI_BEGIN_REQUEST:
		memcpy(q->begin + q->blen, p, k);
		q->blen += k;
		break;
	case PGSSE_FCGI_PARAMS:
		if (k > PGSSE_FCGI_PARAMS_MAX - q->plen)
			return PGSSE_FCGI_REQ_LIMIT;
		if (fcgi_req_put(&q->params, &q->plen, &q->pcap, p, k) == -1)
			return PGSSE_FCGI_REQ_NOMEM;
		break;
	case PGSSE_FCGI_STDIN:
		keep = q->inlen < q->inmax ? q->inmax - q->inlen : 0;
		keep = k < keep ? k : keep;
		q->intotal += k;
		if (keep > 0 &&
		    fcgi_req_put(&q->in, &q->inlen, &q->incap, p, keep) == -1)
			return PGSSE_FCGI_REQ_NOMEM;
		break;
	default:
		break;
	}
	return PGSSE_FCGI_REQ_MORE;
}

/*
 * Appends a record of type with the len bytes at body, request id 0, to
 * q->reply if it fits; drops it if not, and every later one till the
 * held ones are sent, so that what goes out is the first answers, in
 * order. Can't fail.
 */
static void
fcgi_req_reply(struct pgsse_fcgi_req *q, enum pgsse_fcgi_type type,
    const unsigned char *body, size_t len)
{
	if (q->rfull || PGSSE_FCGI_REPLY_MAX - q->rlen <
	    PGSSE_FCGI_HEADER + len) {
		q->rfull = 1;
		return;
	}
	pgsse_fcgi_header_to(q->reply + q->rlen, type, 0, len);
	memcpy(q->reply + q->rlen + PGSSE_FCGI_HEADER, body, len);
	q->rlen += PGSSE_FCGI_HEADER + len;
}

/*
 * Answers the management record just read (q->mtype, q->mbody): see the
 * reader's comment above. Can't fail.
 */
static void
fcgi_req_mgmt(struct pgsse_fcgi_req *q)
{
	static const char	 mpxs[] = "FCGI_MPXS_CONNS";
	unsigned char		 b[PGSSE_FCGI_END_BODY] = { 0 };
	unsigned char		 v[2 + sizeof(mpxs)];
	size_t			 r = 0, len = 0, nl, vl;

	q->mgmt = 0;
	if (q->mtype != PGSSE_FCGI_GET_VALUES) {
		b[0] = (unsigned char)q->mtype;
		fcgi_req_reply(q, PGSSE_FCGI_UNKNOWN_TYPE, b, sizeof(b));
		return;
	}
	while (len == 0 && fcgi_req_len(q->mbody, &r, q->mlen, &nl) == 0 &&
	    fcgi_req_len(q->mbody, &r, q->mlen, &vl) == 0 &&
	    nl <= q->mlen - r && vl <= q->mlen - r - nl) {
		if (nl == sizeof(mpxs) - 1 &&
		    memcmp(q->mbody + r, mpxs, nl) == 0) {
			v[0] = (unsigned char)(sizeof(mpxs) - 1);
			v[1] = 1;
			memcpy(v + 2, mpxs, sizeof(mpxs) - 1);
			v[sizeof(v) - 1] = '0';
			len = sizeof(v);
		}
		r += nl + vl;
	}
	fcgi_req_reply(q, PGSSE_FCGI_GET_VALUES_RESULT, v, len);
}

/*
 * Ends the current record, whole with its padding. Returns
 * PGSSE_FCGI_REQ_OK once STDIN ended, _ROLE for a role other than
 * RESPONDER, _ABORT, or what decoding PARAMS says; else _MORE.
 */
static enum pgsse_fcgi_req_st
fcgi_req_end(struct pgsse_fcgi_req *q)
{
	int	 type = q->type;

	if (q->mgmt) {
		fcgi_req_mgmt(q);
		return PGSSE_FCGI_REQ_MORE;
	}
	q->type = 0;
	switch (type) {
	case PGSSE_FCGI_BEGIN_REQUEST:
		q->keep = (q->begin[2] & PGSSE_FCGI_KEEP_CONN) != 0;
		return ((unsigned int)q->begin[0] << 8 | q->begin[1]) ==
		    PGSSE_FCGI_RESPONDER ? PGSSE_FCGI_REQ_MORE :
		    PGSSE_FCGI_REQ_ROLE;
	case PGSSE_FCGI_ABORT_REQUEST:
		return PGSSE_FCGI_REQ_ABORT;
	case PGSSE_FCGI_PARAMS:
		if (q->clen > 0)
			return PGSSE_FCGI_REQ_MORE;
		q->params_done = 1;
		return fcgi_req_decode(q);
	case PGSSE_FCGI_STDIN:
		if (q->clen > 0)
			return PGSSE_FCGI_REQ_MORE;
		q->in_done = 1;
		return PGSSE_FCGI_REQ_OK;
	default:
		return PGSSE_FCGI_REQ_MORE;
	}
}

/*
 * Reads n more bytes at p of a request into q, and sets *used to how
 * many it took: all of them, unless the request ended (or failed)
 * before their end. Returns PGSSE_FCGI_REQ_MORE while the request is
 * not whole, PGSSE_FCGI_REQ_OK once it is (its end of STDIN came: its
 * parameters are then pgsse_fcgi_req_param's, its STDIN q->in), or why
 * it cannot be read: then q is to be reset before it is fed again, and
 * the connection is not at a record any more. After _ROLE, q->reqid is
 * the request to refuse.
 */
enum pgsse_fcgi_req_st
pgsse_fcgi_req_feed(struct pgsse_fcgi_req *q, const void *p, size_t n,
    size_t *used)
{
	const unsigned char	*cp = p;
	enum pgsse_fcgi_req_st	 st = PGSSE_FCGI_REQ_MORE;
	size_t			 k, off = 0;

	while (off < n && st == PGSSE_FCGI_REQ_MORE) {
		if (q->hlen < PGSSE_FCGI_HEADER && q->body == 0 &&
		    q->pad == 0 && q->type == 0) {
			k = PGSSE_FCGI_HEADER - q->hlen;
			k = n - off < k ? n - off : k;
			memcpy(q->head + q->hlen, cp + off, k);
			q->hlen += k;
			off += k;
			if (q->hlen < PGSSE_FCGI_HEADER)
				break;
			if ((st = fcgi_req_head(q)) != PGSSE_FCGI_REQ_MORE)
				break;
		} else if (q->body > 0) {
			k = n - off < q->body ? n - off : q->body;
			st = fcgi_req_body(q, cp + off, k);
			q->body -= k;
			off += k;
		} else if (q->pad > 0) {
			k = n - off < q->pad ? n - off : q->pad;
			q->pad -= k;
			off += k;
		}
		if (st == PGSSE_FCGI_REQ_MORE && q->hlen == 0 &&
		    q->body == 0 && q->pad == 0)
			st = fcgi_req_end(q);
	}
	*used = off;
	return st;
}

/*
 * Returns the value of q's parameter name (the first, if sent twice),
 * or NULL. q owns it. Can't fail.
 */
const char *
pgsse_fcgi_req_param(const struct pgsse_fcgi_req *q, const char *name)
{
	size_t	 i;

	for (i = 0; i < q->nenv; i++)
		if (q->env[2 * i][0] == name[0] &&
		    strcmp(q->env[2 * i], name) == 0)
			return q->env[2 * i + 1];
	return NULL;
}

/*
 * Readies q for the next request on its connection, keeping its
 * buffers and inmax. Can't fail.
 */
void
pgsse_fcgi_req_reset(struct pgsse_fcgi_req *q)
{
	char	*params = q->params, *in = q->in;
	size_t	 pcap = q->pcap, incap = q->incap, inmax = q->inmax;

	memset(q, 0, sizeof(*q));
	q->params = params;
	q->pcap = pcap;
	q->in = in;
	q->incap = incap;
	q->inmax = inmax;
	if (in != NULL)
		in[0] = '\0';
}

/* Frees what q holds and zeroes it. */
void
pgsse_fcgi_req_free(struct pgsse_fcgi_req *q)
{
	free(q->params);
	free(q->in);
	memset(q, 0, sizeof(*q));
}
