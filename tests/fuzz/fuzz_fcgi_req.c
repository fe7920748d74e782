/*
 * fuzz_fcgi_req.c: the request reader (pgsse_fcgi_req_feed in
 * lib/fcgi.c), fed the same bytes whole and in pieces. Input: one byte
 * for the size of the pieces, one for inmax, then what a web server
 * sends. Request by request (both reset after each OK), the two readers
 * say the same, take the same bytes (but after LIMIT or NOMEM, which
 * come where a piece ends), and hold the same parameters and STDIN;
 * each keeps to its limits, and a parameter's value is its first. The
 * answers to management records are whole records of id 0, the same
 * from both readers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "fcgi.h"

#define PIECE_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Feeds the n bytes at p to q in pieces of piece bytes, up to the first
 * status other than MORE, and sets *used to the bytes it took in all.
 * Returns that status.
 */
static enum pgsse_fcgi_req_st
feed_pieces(struct pgsse_fcgi_req *q, const uint8_t *p, size_t n,
    size_t piece, size_t *used)
{
	enum pgsse_fcgi_req_st	 st = PGSSE_FCGI_REQ_MORE;
	size_t			 off, k, u;

	*used = 0;
	for (off = 0; off < n && st == PGSSE_FCGI_REQ_MORE; off += k) {
		k = n - off < piece ? n - off : piece;
		st = pgsse_fcgi_req_feed(q, p + off, k, &u);
		if (u > k || (st == PGSSE_FCGI_REQ_MORE && u != k))
			abort();
		*used += u;
	}
	return st;
}

/* Aborts unless q's answers are whole GET_VALUES_RESULT or UNKNOWN_TYPE
 * records of request id 0. */
static void
check_reply(const struct pgsse_fcgi_req *q)
{
	const unsigned char	*h;
	size_t			 off, len;

	if (q->rlen > PGSSE_FCGI_REPLY_MAX || q->mlen > PGSSE_FCGI_MGMT_KEEP)
		abort();
	for (off = 0; off < q->rlen; off += PGSSE_FCGI_HEADER + len) {
		h = q->reply + off;
		if (q->rlen - off < PGSSE_FCGI_HEADER || h[0] != 1 ||
		    (h[1] != PGSSE_FCGI_GET_VALUES_RESULT &&
		    h[1] != PGSSE_FCGI_UNKNOWN_TYPE) || h[2] != 0 || h[3] != 0 ||
		    h[6] != 0)
			abort();
		len = (size_t)h[4] << 8 | h[5];
		if (len > q->rlen - off - PGSSE_FCGI_HEADER ||
		    (h[1] == PGSSE_FCGI_UNKNOWN_TYPE && len != 8))
			abort();
	}
}

/* Aborts unless q, after st, keeps to its limits and its contract. */
static void
check_one(const struct pgsse_fcgi_req *q, enum pgsse_fcgi_req_st st)
{
	size_t	 i, j;

	check_reply(q);
	if (q->inlen > q->inmax || q->inlen > q->intotal ||
	    q->nenv > PGSSE_FCGI_NPARAMS_MAX ||
	    q->plen > PGSSE_FCGI_PARAMS_MAX ||
	    (q->in == NULL ? q->inlen != 0 : q->in[q->inlen] != '\0'))
		abort();
	if (st == PGSSE_FCGI_REQ_OK && (!q->params_done || !q->in_done ||
	    q->reqid == 0))
		abort();
	if ((st == PGSSE_FCGI_REQ_ROLE || st == PGSSE_FCGI_REQ_ABORT) &&
	    q->reqid == 0)
		abort();
	for (i = 0; i < q->nenv; i++) {
		for (j = 0; strcmp(q->env[2 * j], q->env[2 * i]) != 0; j++)
			continue;
		if (pgsse_fcgi_req_param(q, q->env[2 * i]) !=
		    q->env[2 * j + 1])
			abort();
	}
}

/* Aborts unless a and b read the same request. */
static void
check_same(const struct pgsse_fcgi_req *a, const struct pgsse_fcgi_req *b)
{
	size_t	 i;

	if (a->reqid != b->reqid || a->keep != b->keep ||
	    a->nenv != b->nenv || a->inlen != b->inlen ||
	    a->intotal != b->intotal || a->rlen != b->rlen ||
	    memcmp(a->reply, b->reply, a->rlen) != 0 ||
	    (a->inlen > 0 && memcmp(a->in, b->in, a->inlen) != 0))
		abort();
	for (i = 0; i < 2 * a->nenv; i++)
		if (strcmp(a->env[i], b->env[i]) != 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgsse_fcgi_req	 a, b;
	struct pgsse_fcgi_in	 in;
	enum pgsse_fcgi_req_st	 sa, sb;
	size_t			 piece, inmax, ua, ub;

	if (size < 2)
		return 0;
	piece = 1 + data[0] % PIECE_MAX;
	inmax = data[1];
	data += 2;
	size -= 2;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.inmax = b.inmax = inmax;
	do {
		sa = pgsse_fcgi_req_feed(&a, data, size, &ua);
		sb = feed_pieces(&b, data, size, piece, &ub);
		if (sa != sb || ua > size ||
		    (sa == PGSSE_FCGI_REQ_MORE && ua != size) ||
		    (ua != ub && sa != PGSSE_FCGI_REQ_LIMIT &&
		    sa != PGSSE_FCGI_REQ_NOMEM))
			abort();
		check_one(&a, sa);
		check_one(&b, sb);
		check_same(&a, &b);
		/* The pump's reader takes over mid-STDIN (stream.c). */
		if (sa == PGSSE_FCGI_REQ_MORE && a.params_done &&
		    (pgsse_fcgi_in_from_req(&in, &a), in.hlen >=
		    PGSSE_FCGI_HEADER || in.lost))
			abort();
		data += ua;
		size -= ua;
		pgsse_fcgi_req_reset(&a);
		pgsse_fcgi_req_reset(&b);
		if (a.inmax != inmax || b.inmax != inmax || a.nenv != 0 ||
		    a.reqid != 0 || (a.in != NULL && a.in[0] != '\0') ||
		    a.rlen != 0 || a.rfull || a.mgmt)
			abort();
	} while (sa == PGSSE_FCGI_REQ_OK && size > 0);
	pgsse_fcgi_req_free(&a);
	pgsse_fcgi_req_free(&b);
	return 0;
}
