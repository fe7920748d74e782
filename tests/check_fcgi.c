/* check_fcgi.c: lib/fcgi.c, FastCGI records, byte by byte. */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "fcgi.h"
#include "http.h"
#include "fcgiparse.h"
#include "harness.h"

/* Asserts that b holds exactly the n bytes at want. */
static void
assert_bytes(const struct pgsse_buf *b, const unsigned char *want, size_t n)
{
	size_t	 i;

	ck_assert_uint_eq(b->len, n);
	for (i = 0; i < n; i++)
		ck_assert_msg((unsigned char)b->p[i] == want[i],
		    "byte %zu: %02x, want %02x", i, (unsigned char)b->p[i],
		    want[i]);
}

START_TEST(fcgi_header_bytes)
{
	static const unsigned char want[] = {
		1, 6, 0x12, 0x34, 0xab, 0xcd, 0, 0,
		1, 3, 0xff, 0xff, 0xff, 0xff, 0, 0,
		1, 6, 0, 0, 0, 0, 0, 0,
	};
	struct pgsse_buf	 b = { NULL, 0, 0 };

	ck_assert_int_eq(pgsse_fcgi_header(&b, PGSSE_FCGI_STDOUT, 0x1234,
	    0xabcd), PGSSE_OK);
	ck_assert_int_eq(pgsse_fcgi_header(&b, PGSSE_FCGI_END_REQUEST, 65535,
	    PGSSE_FCGI_BODY_MAX), PGSSE_OK);
	ck_assert_int_eq(pgsse_fcgi_header(&b, PGSSE_FCGI_STDOUT, 0, 0),
	    PGSSE_OK);
	assert_bytes(&b, want, sizeof(want));
	/* A request id or a length that does not fit adds nothing. */
	ck_assert_int_eq(pgsse_fcgi_header(&b, PGSSE_FCGI_STDOUT, 65536, 1),
	    PGSSE_ERR_INVAL);
	ck_assert_int_eq(pgsse_fcgi_header(&b, PGSSE_FCGI_STDOUT, 1,
	    PGSSE_FCGI_BODY_MAX + 1), PGSSE_ERR_INVAL);
	ck_assert_int_eq(pgsse_fcgi_stdout(&b, 70000, "x", 1),
	    PGSSE_ERR_INVAL);
	ck_assert_int_eq(pgsse_fcgi_end(&b, 70000), PGSSE_ERR_INVAL);
	ck_assert_uint_eq(b.len, sizeof(want));
	pgsse_buf_free(&b);
}
END_TEST

START_TEST(fcgi_stdout_small)
{
	static const unsigned char want[] = {
		1, 6, 0, 1, 0, 2, 0, 0, 'h', 'i',
	};
	struct pgsse_buf	 b = { NULL, 0, 0 };

	ck_assert_int_eq(pgsse_fcgi_stdout(&b, 1, "", 0), PGSSE_OK);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(pgsse_fcgi_stdout_len(0), 0);
	ck_assert_int_eq(pgsse_fcgi_stdout(&b, 1, "hi", 2), PGSSE_OK);
	assert_bytes(&b, want, sizeof(want));
	ck_assert_uint_eq(pgsse_fcgi_stdout_len(2), sizeof(want));
	pgsse_buf_free(&b);
}
END_TEST

START_TEST(fcgi_end_request)
{
	static const unsigned char want[] = {
		1, 6, 1, 2, 0, 0, 0, 0,		/* empty STDOUT */
		1, 3, 1, 2, 0, 8, 0, 0,		/* END_REQUEST */
		0, 0, 0, 0,			/* appStatus 0 */
		0,				/* REQUEST_COMPLETE */
		0, 0, 0,			/* reserved */
	};
	struct pgsse_buf	 b = { NULL, 0, 0 };

	ck_assert_int_eq(pgsse_fcgi_end(&b, 0x102), PGSSE_OK);
	assert_bytes(&b, want, sizeof(want));
	pgsse_buf_free(&b);
}
END_TEST

/* A body over the largest record is split at PGSSE_FCGI_BODY_MAX. */
START_TEST(fcgi_stdout_split)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	struct fcgi_resp	 r;
	const char		*why;
	unsigned char		*p;
	size_t			 n = 2 * PGSSE_FCGI_BODY_MAX + 1, i, off;

	p = malloc(n);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + i / 251);
	ck_assert_int_eq(pgsse_fcgi_stdout(&b, 9, p, n), PGSSE_OK);
	ck_assert_uint_eq(b.len, n + 3 * PGSSE_FCGI_HEADER);
	ck_assert_uint_eq(pgsse_fcgi_stdout_len(n), b.len);
	/* Headers at 0, 8 + 65535 and 16 + 2 * 65535; lengths 65535,
	 * 65535, 1; the bodies are the input in order. */
	for (i = 0, off = 0; i < 3; i++) {
		const unsigned char *h = (unsigned char *)b.p + off;
		size_t len = i < 2 ? PGSSE_FCGI_BODY_MAX : 1;

		ck_assert_int_eq(h[0], 1);
		ck_assert_int_eq(h[1], PGSSE_FCGI_STDOUT);
		ck_assert_int_eq(h[2], 0);
		ck_assert_int_eq(h[3], 9);
		ck_assert_uint_eq((size_t)h[4] << 8 | h[5], len);
		ck_assert_int_eq(h[6], 0);
		ck_assert_int_eq(h[7], 0);
		ck_assert(memcmp(h + PGSSE_FCGI_HEADER,
		    p + i * PGSSE_FCGI_BODY_MAX, len) == 0);
		off += PGSSE_FCGI_HEADER + len;
	}
	ck_assert_uint_eq(pgsse_fcgi_stdout_len(PGSSE_FCGI_BODY_MAX),
	    PGSSE_FCGI_BODY_MAX + PGSSE_FCGI_HEADER);
	ck_assert_uint_eq(pgsse_fcgi_stdout_len(PGSSE_FCGI_BODY_MAX + 1),
	    PGSSE_FCGI_BODY_MAX + 1 + 2 * PGSSE_FCGI_HEADER);
	/* And the independent reader gets the bytes back. */
	ck_assert_int_eq(pgsse_fcgi_end(&b, 9), PGSSE_OK);
	ck_assert_msg(fcgi_read_response((unsigned char *)b.p, b.len, 9, &r,
	    &why) == 0, "%s", why);
	ck_assert_uint_eq(r.outlen, n);
	ck_assert(memcmp(r.out, p, n) == 0);
	ck_assert_uint_eq(r.records, 5);
	ck_assert_uint_eq(r.maxbody, PGSSE_FCGI_BODY_MAX);
	ck_assert(r.closed && r.ended);
	ck_assert_uint_eq(r.app_status, 0);
	ck_assert_int_eq(r.proto_status, 0);
	free(r.out);
	free(p);
	pgsse_buf_free(&b);
}
END_TEST

/* The test's reader refuses what a web server would refuse. */
START_TEST(fcgi_reader_refuses)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	struct fcgi_resp	 r;
	const char		*why;

	pgsse_fcgi_stdout(&b, 1, "abc", 3);
	pgsse_fcgi_end(&b, 1);
	ck_assert_int_eq(fcgi_read_response((unsigned char *)b.p, b.len, 1,
	    &r, &why), 0);
	free(r.out);
	ck_assert_int_eq(fcgi_read_response((unsigned char *)b.p, b.len, 2,
	    &r, &why), -1);
	free(r.out);
	ck_assert_int_eq(fcgi_read_response((unsigned char *)b.p, b.len - 1,
	    1, &r, &why), -1);
	free(r.out);
	ck_assert_int_eq(fcgi_read_response((unsigned char *)b.p, 11, 1, &r,
	    &why), -1);
	free(r.out);
	pgsse_buf_free(&b);
}
END_TEST

/*
 * The reader of what a web server sends after the request: STDIN (with
 * a body and padding) and another request's ABORT_REQUEST are skipped,
 * the request's own ABORT_REQUEST is found whichever way the bytes are
 * cut, and a header of another version stops it finding anything.
 */
START_TEST(fcgi_in_abort)
{
	static const unsigned char in[] = {
		1, 5, 0, 7, 0, 3, 2, 0, 'a', 'b', 'c', 0, 0,	/* STDIN */
		1, 5, 0, 7, 0, 0, 0, 0,				/* STDIN end */
		1, 2, 0, 8, 0, 0, 0, 0,				/* other's */
		1, 2, 0, 7, 0, 0, 0, 0,				/* ABORT */
	};
	static const unsigned char lost[] = {
		'c', 0, 0, 1, 2, 0, 7, 0, 0, 0, 0,
	};
	struct pgsse_fcgi_in	 st;
	size_t			 cut, i;
	enum pgsse_fcgi_in_news	 got;

	for (cut = 1; cut <= sizeof(in); cut++) {
		memset(&st, 0, sizeof(st));
		got = PGSSE_FCGI_IN_NONE;
		for (i = 0; i < sizeof(in) && got == PGSSE_FCGI_IN_NONE;
		    i += cut)
			got = pgsse_fcgi_in_feed(&st, 7, in + i,
			    i + cut > sizeof(in) ? sizeof(in) - i : cut);
		ck_assert_msg(got == PGSSE_FCGI_IN_ABORT, "cut %zu", cut);
		ck_assert_uint_ge(i, sizeof(in) - cut + 1);
	}
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(pgsse_fcgi_in_feed(&st, 7, in, sizeof(in) - 8),
	    PGSSE_FCGI_IN_NONE);
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(pgsse_fcgi_in_feed(&st, 7, lost, sizeof(lost)),
	    PGSSE_FCGI_IN_NONE);
	ck_assert_int_eq(pgsse_fcgi_in_feed(&st, 7, in + 29, 8),
	    PGSSE_FCGI_IN_NONE);
}
END_TEST

/*
 * The request reader (pgsse_fcgi_req_feed). Requests are written with
 * tests/fcgiparse.c, from the specification; the small hostile ones are
 * spelt out byte by byte with these.
 */
#define REC_BEGIN(id, role) \
	1, 1, 0, id, 0, 8, 0, 0, 0, role, 0, 0, 0, 0, 0, 0
#define REC_EMPTY(type, id) 1, type, 0, id, 0, 0, 0, 0
#define REQ_ID 0x0102		/* both bytes of the id matter */
#define REQ_INMAX 64
#define REQ_WHOLE SIZE_MAX	/* a piece size: all at once */
#define REQ_NPIECES 3

/* Piece sizes most tests feed in. */
static const size_t req_pieces[REQ_NPIECES] = { 1, 3, REQ_WHOLE };

/*
 * Feeds the n bytes at p to q in pieces of piece bytes, up to the first
 * status other than MORE, and sets *used to the bytes it took in all.
 * Returns that status (MORE if none came).
 */
static enum pgsse_fcgi_req_st
req_feed(struct pgsse_fcgi_req *q, const unsigned char *p, size_t n,
    size_t piece, size_t *used)
{
	enum pgsse_fcgi_req_st	 st = PGSSE_FCGI_REQ_MORE;
	size_t			 off, k, u;

	*used = 0;
	for (off = 0; off < n && st == PGSSE_FCGI_REQ_MORE; off += k) {
		k = n - off < piece ? n - off : piece;
		u = k + 1;
		st = pgsse_fcgi_req_feed(q, p + off, k, &u);
		ck_assert_uint_le(u, k);
		if (st == PGSSE_FCGI_REQ_MORE)
			ck_assert_uint_eq(u, k);
		*used += u;
	}
	return st;
}

/*
 * Zeroes q, sets its inmax, and feeds it as req_feed does.
 */
static enum pgsse_fcgi_req_st
req_read(struct pgsse_fcgi_req *q, size_t inmax, const unsigned char *p,
    size_t n, size_t piece, size_t *used)
{
	memset(q, 0, sizeof(*q));
	q->inmax = inmax;
	return req_feed(q, p, n, piece, used);
}

/* Appends BEGIN_REQUEST of id, role and flags to o, with pad bytes. */
static void
req_begin(struct fcgi_out *o, unsigned int id, unsigned int role,
    int flags, size_t pad)
{
	unsigned char	 b[8] = { 0 };

	b[0] = (unsigned char)(role >> 8);
	b[1] = (unsigned char)role;
	b[2] = (unsigned char)flags;
	fcgi_put_record(o, PGSSE_FCGI_BEGIN_REQUEST, id, b, sizeof(b), pad);
}

/*
 * Appends a whole request of id to o: BEGIN_REQUEST (a responder's,
 * keeping the connection), the npairs pairs at kv as its PARAMS, and
 * the inlen bytes at in as its STDIN.
 */
static void
req_build(struct fcgi_out *o, unsigned int id, const char *const *kv,
    size_t npairs, const char *in, size_t inlen)
{
	struct fcgi_out	 pv = { NULL, 0, 0, 0 };
	size_t		 i;

	for (i = 0; i < 2 * npairs; i += 2)
		fcgi_put_pair(&pv, kv[i], strlen(kv[i]), kv[i + 1],
		    strlen(kv[i + 1]), 0);
	ck_assert(!pv.failed);
	req_begin(o, id, PGSSE_FCGI_RESPONDER, PGSSE_FCGI_KEEP_CONN, 0);
	fcgi_put_stream(o, PGSSE_FCGI_PARAMS, id, pv.p, pv.len);
	fcgi_put_stream(o, PGSSE_FCGI_STDIN, id, in, inlen);
	ck_assert(!o->failed);
	fcgi_out_free(&pv);
}

/*
 * Asserts that q read exactly the npairs pairs at kv, in order, and
 * kept the inlen bytes at in as its STDIN, NUL-terminated.
 */
static void
req_assert(const struct pgsse_fcgi_req *q, const char *const *kv,
    size_t npairs, const char *in, size_t inlen)
{
	size_t	 i;

	ck_assert_uint_eq(q->nenv, npairs);
	for (i = 0; i < 2 * npairs; i++)
		ck_assert_str_eq(q->env[i], kv[i]);
	ck_assert_uint_eq(q->inlen, inlen);
	if (inlen > 0) {
		ck_assert_ptr_nonnull(q->in);
		ck_assert_mem_eq(q->in, in, inlen);
	}
	/* NULL while no STDIN byte was ever kept (see the report). */
	if (q->in != NULL)
		ck_assert_int_eq(q->in[inlen], '\0');
}

/*
 * Reads the request in o into q, zeroed first, in pieces of
 * req_pieces[i] bytes, and asserts that it is whole at its last byte,
 * of id 3, with the npairs pairs at kv and in as its STDIN. The caller
 * frees q.
 */
static void
req_read_whole(struct pgsse_fcgi_req *q, const struct fcgi_out *o, size_t i,
    const char *const *kv, size_t npairs, const char *in)
{
	size_t	 used;

	ck_assert_int_eq(req_read(q, REQ_INMAX, o->p, o->len, req_pieces[i],
	    &used), PGSSE_FCGI_REQ_OK);
	ck_assert_uint_eq(used, o->len);
	ck_assert_uint_eq(q->reqid, 3);
	req_assert(q, kv, npairs, in, strlen(in));
}

/*
 * A request the way a web server may cut it: management records and
 * another request's records between its own, padding, a pair split
 * over two PARAMS records, STDIN in two records. Whole, byte by byte
 * and in pieces of every size, it reads the same, and only its last
 * byte (the empty STDIN's padding) makes it whole.
 */
START_TEST(fcgi_req_cuts)
{
	static const char *const kv[] = {
		"REQUEST_METHOD", "POST",
		"QUERY_STRING", "",
		"HTTP_HOST", "example.org",
	};
	static const unsigned char mgmt[] = { 15, 0, 'F', 'C', 'G', 'I', '_',
	    'M', 'P', 'X', 'S', '_', 'C', 'O', 'N', 'N', 'S' };
	struct fcgi_out		 o = { NULL, 0, 0, 0 };
	struct fcgi_out		 pv = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	size_t			 piece, used, i;

	for (i = 0; i < 6; i += 2)
		fcgi_put_pair(&pv, kv[i], strlen(kv[i]), kv[i + 1],
		    strlen(kv[i + 1]), 0);
	fcgi_put_record(&o, 9, 0, mgmt, sizeof(mgmt), 3); /* GET_VALUES */
	req_begin(&o, REQ_ID, PGSSE_FCGI_RESPONDER, PGSSE_FCGI_KEEP_CONN, 5);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 7, pv.p, 4, 0);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, REQ_ID, pv.p, 20, 7);
	fcgi_put_record(&o, 11, 0, "whatever", 8, 0);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, REQ_ID, pv.p + 20,
	    pv.len - 20, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 7, "nope", 4, 0);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, REQ_ID, NULL, 0, 2);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, REQ_ID, "hello ", 6, 1);
	fcgi_put_record(&o, PGSSE_FCGI_ABORT_REQUEST, 7, NULL, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, REQ_ID, "world", 5, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, REQ_ID, NULL, 0, 4);
	ck_assert(!o.failed && !pv.failed);
	for (piece = 1; piece <= o.len; piece++) {
		ck_assert_msg(req_read(&q, REQ_INMAX, o.p, o.len, piece,
		    &used) == PGSSE_FCGI_REQ_OK, "piece %zu", piece);
		ck_assert_msg(used == o.len, "piece %zu: used %zu of %zu",
		    piece, used, o.len);
		req_assert(&q, kv, 3, "hello world", 11);
		ck_assert_uint_eq(q.intotal, 11);
		ck_assert_uint_eq(q.reqid, REQ_ID);
		ck_assert_int_eq(q.keep, 1);
		ck_assert_str_eq(pgsse_fcgi_req_param(&q, "HTTP_HOST"),
		    "example.org");
		ck_assert_str_eq(pgsse_fcgi_req_param(&q, "QUERY_STRING"), "");
		ck_assert_ptr_null(pgsse_fcgi_req_param(&q, "HTTP"));
		ck_assert_ptr_null(pgsse_fcgi_req_param(&q, "X"));
		pgsse_fcgi_req_free(&q);
	}
	fcgi_out_free(&pv);
	fcgi_out_free(&o);
}
END_TEST

/*
 * Lengths in one byte (up to 127) and in four (128 up, or any length
 * sent wide), including ones whose second and third bytes count.
 */
START_TEST(fcgi_req_lengths)
{
	struct fcgi_out		 o = { NULL, 0, 0, 0 };
	struct fcgi_out		 pv = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	char			 n127[128], v127[128], v128[129], n300[301];
	char			 v5000[5001];
	size_t			 i, used;

	memset(n127, 'n', 127);
	n127[127] = '\0';
	memset(v127, 'v', 127);
	v127[127] = '\0';
	memset(v128, 'w', 128);
	v128[128] = '\0';
	memset(n300, 'N', 300);
	n300[300] = '\0';
	memset(v5000, 'x', 5000);
	v5000[4999] = 'y';
	v5000[5000] = '\0';
	fcgi_put_pair(&pv, "A", 1, "b", 1, 0);
	fcgi_put_pair(&pv, "WIDE", 4, "w", 1, 1);
	fcgi_put_pair(&pv, n127, 127, v127, 127, 0);
	fcgi_put_pair(&pv, "LONG", 4, v128, 128, 0);
	fcgi_put_pair(&pv, n300, 300, "x", 1, 0);
	fcgi_put_pair(&pv, "EMPTY", 5, "", 0, 0);
	fcgi_put_pair(&pv, "BIG", 3, v5000, 5000, 0);
	req_begin(&o, 1, PGSSE_FCGI_RESPONDER, 0, 0);
	fcgi_put_stream(&o, PGSSE_FCGI_PARAMS, 1, pv.p, pv.len);
	fcgi_put_stream(&o, PGSSE_FCGI_STDIN, 1, NULL, 0);
	ck_assert(!o.failed && !pv.failed);
	for (i = 0; i < REQ_NPIECES; i++) {
		ck_assert_int_eq(req_read(&q, 0, o.p, o.len, req_pieces[i],
		    &used), PGSSE_FCGI_REQ_OK);
		ck_assert_uint_eq(used, o.len);
		ck_assert_uint_eq(q.nenv, 7);
		ck_assert_int_eq(q.keep, 0);
		ck_assert_str_eq(pgsse_fcgi_req_param(&q, "A"), "b");
		ck_assert_str_eq(pgsse_fcgi_req_param(&q, "WIDE"), "w");
		ck_assert_str_eq(pgsse_fcgi_req_param(&q, n127), v127);
		ck_assert_str_eq(pgsse_fcgi_req_param(&q, "LONG"), v128);
		ck_assert_str_eq(pgsse_fcgi_req_param(&q, n300), "x");
		ck_assert_str_eq(pgsse_fcgi_req_param(&q, "EMPTY"), "");
		ck_assert_str_eq(pgsse_fcgi_req_param(&q, "BIG"), v5000);
		ck_assert_uint_eq(q.inlen, 0);
		ck_assert_uint_eq(q.intotal, 0);
		pgsse_fcgi_req_free(&q);
	}
	fcgi_out_free(&pv);
	fcgi_out_free(&o);
}
END_TEST

/*
 * Padding (255 bytes, not zeros) after every record is skipped, the
 * last record's too: the request is whole at its last padding byte and
 * the next request's header is left.
 */
START_TEST(fcgi_req_padding)
{
	static const char *const kv[] = { "A", "1" };
	struct fcgi_out		 o = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	size_t			 i, used;

	req_begin(&o, 1, PGSSE_FCGI_RESPONDER, 0, 255);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 1, "\1\1A1", 4, 255);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 1, NULL, 0, 255);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 1, "x", 1, 255);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 1, NULL, 0, 255);
	fcgi_put_record(&o, 9, 0, NULL, 0, 255);
	ck_assert(!o.failed);
	for (i = 0; i < REQ_NPIECES; i++) {
		ck_assert_int_eq(req_read(&q, REQ_INMAX, o.p, o.len,
		    req_pieces[i], &used), PGSSE_FCGI_REQ_OK);
		ck_assert_uint_eq(used, o.len - 8 - 255);
		req_assert(&q, kv, 1, "x", 1);
		pgsse_fcgi_req_free(&q);
	}
	fcgi_out_free(&o);
}
END_TEST

/*
 * Management records (request id 0) of every type a request has, and
 * another request's records (all but BEGIN_REQUEST), are skipped: none
 * begins, aborts, ends or adds to the request.
 */
START_TEST(fcgi_req_skips)
{
	static const char *const kv[] = { "REQUEST_METHOD", "GET" };
	static const unsigned char begin2[8] = { 0, 2 };
	struct fcgi_out		 o = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	size_t			 i;

	fcgi_put_record(&o, PGSSE_FCGI_BEGIN_REQUEST, 0, begin2, 8, 0);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 0, "\16\4REQUEST_METHODEVIL",
	    20, 0);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 0, NULL, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 0, NULL, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_ABORT_REQUEST, 0, NULL, 0, 0);
	req_begin(&o, 3, PGSSE_FCGI_RESPONDER, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_BEGIN_REQUEST, 0, begin2, 8, 0);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 4, "\16\4REQUEST_METHODEVIL",
	    20, 0);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 4, NULL, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 4, NULL, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 3, "\16\3REQUEST_METHODGET",
	    19, 0);
	fcgi_put_record(&o, PGSSE_FCGI_ABORT_REQUEST, 4, NULL, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 3, NULL, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 4, "junk", 4, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 0, "evil", 4, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 4, "evil", 4, 0);
	fcgi_put_record(&o, 11, 4, NULL, 0, 0);	/* UNKNOWN_TYPE */
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 3, "ok", 2, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 3, NULL, 0, 0);
	ck_assert(!o.failed);
	for (i = 0; i < REQ_NPIECES; i++) {
		req_read_whole(&q, &o, i, kv, 1, "ok");
		ck_assert_uint_eq(q.intotal, 2);
		pgsse_fcgi_req_free(&q);
	}
	fcgi_out_free(&o);
}
END_TEST

/*
 * A role other than RESPONDER (both bytes of it count) is refused at
 * the end of BEGIN_REQUEST, with the request's id to refuse; the keep
 * flag is bit 0 of the flags alone.
 */
START_TEST(fcgi_req_role)
{
	static const unsigned char authorizer[] = {
		1, 1, 3, 5, 0, 8, 2, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0xee, 0xee,
		REC_EMPTY(4, 5),
	};
	static const unsigned char role257[] = {
		1, 1, 0, 1, 0, 8, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0,
	};
	static const unsigned char flags[] = {
		1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0xfe, 0, 0, 0, 0, 0,
		1, 1, 0, 2, 0, 8, 0, 0, 0, 1, 0xff, 0, 0, 0, 0, 0,
	};
	struct pgsse_fcgi_req	 q;
	size_t			 piece, used;

	for (piece = 1; piece <= sizeof(authorizer); piece++) {
		ck_assert_int_eq(req_read(&q, 0, authorizer,
		    sizeof(authorizer), piece, &used), PGSSE_FCGI_REQ_ROLE);
		ck_assert_uint_eq(used, sizeof(authorizer) - 8);
		ck_assert_uint_eq(q.reqid, 0x0305);
		ck_assert_int_eq(q.keep, 1);
	}
	ck_assert_int_eq(req_read(&q, 0, role257, sizeof(role257), REQ_WHOLE,
	    &used), PGSSE_FCGI_REQ_ROLE);
	ck_assert_int_eq(req_read(&q, 0, flags, 16, REQ_WHOLE, &used),
	    PGSSE_FCGI_REQ_MORE);
	ck_assert_int_eq(q.keep, 0);
	ck_assert_int_eq(req_read(&q, 0, flags + 16, 16, REQ_WHOLE, &used),
	    PGSSE_FCGI_REQ_MORE);
	ck_assert_int_eq(q.keep, 1);
}
END_TEST

/*
 * The request's ABORT_REQUEST aborts it, while its PARAMS or its STDIN
 * come, at the end of the record (body and padding); another's does not,
 * nor one before BEGIN_REQUEST (the last request's, late: HAProxy sends
 * one when a client leaves as its answer goes out).
 */
START_TEST(fcgi_req_abort)
{
	static const unsigned char in_params[] = {
		REC_BEGIN(1, 1), 1, 4, 0, 1, 0, 2, 0, 0, 0, 0,
		1, 2, 0, 2, 0, 0, 0, 0,			/* other's */
		1, 2, 0, 1, 0, 3, 2, 0, 'a', 'b', 'c', 0, 0, /* ABORT */
		REC_EMPTY(4, 1),
	};
	static const unsigned char in_stdin[] = {
		REC_BEGIN(1, 1), REC_EMPTY(4, 1),
		1, 5, 0, 1, 0, 1, 0, 0, 'x', REC_EMPTY(2, 1), REC_EMPTY(5, 1),
	};
	static const unsigned char late[] = {
		REC_EMPTY(2, 1), REC_BEGIN(2, 1), REC_EMPTY(4, 2),
		REC_EMPTY(5, 2),
	};
	struct pgsse_fcgi_req	 q;
	size_t			 piece, used;

	for (piece = 1; piece <= sizeof(late); piece++) {
		ck_assert_msg(req_read(&q, REQ_INMAX, late, sizeof(late),
		    piece, &used) == PGSSE_FCGI_REQ_OK, "an ABORT_REQUEST "
		    "before BEGIN_REQUEST, read %zu bytes at a time, was not "
		    "skipped", piece);
		ck_assert_uint_eq(q.reqid, 2);
		ck_assert_uint_eq(used, sizeof(late));
		pgsse_fcgi_req_free(&q);
	}
	for (piece = 1; piece <= sizeof(in_params); piece++) {
		ck_assert_int_eq(req_read(&q, REQ_INMAX, in_params,
		    sizeof(in_params), piece, &used), PGSSE_FCGI_REQ_ABORT);
		ck_assert_uint_eq(used, sizeof(in_params) - 8);
		pgsse_fcgi_req_free(&q);
	}
	for (piece = 1; piece <= sizeof(in_stdin); piece++) {
		ck_assert_int_eq(req_read(&q, REQ_INMAX, in_stdin,
		    sizeof(in_stdin), piece, &used), PGSSE_FCGI_REQ_ABORT);
		ck_assert_uint_eq(used, sizeof(in_stdin) - 8);
		pgsse_fcgi_req_free(&q);
	}
}
END_TEST

/*
 * Asserts that the n bytes at p are BAD, fed whole and byte by byte,
 * found at the same byte.
 */
static void
req_bad(const char *what, const unsigned char *p, size_t n)
{
	struct pgsse_fcgi_req	 q;
	enum pgsse_fcgi_req_st	 st;
	size_t			 whole, bytes;

	st = req_read(&q, REQ_INMAX, p, n, REQ_WHOLE, &whole);
	ck_assert_msg(st == PGSSE_FCGI_REQ_BAD, "%s: %d whole", what, st);
	pgsse_fcgi_req_free(&q);
	st = req_read(&q, REQ_INMAX, p, n, 1, &bytes);
	ck_assert_msg(st == PGSSE_FCGI_REQ_BAD, "%s: %d bytewise", what, st);
	ck_assert_msg(whole == bytes, "%s: used %zu whole, %zu bytewise",
	    what, whole, bytes);
	pgsse_fcgi_req_free(&q);
}
#define REQ_BAD(a) req_bad(#a, (a), sizeof(a))

/*
 * What no web server sends is BAD. Each case ends as a whole request
 * would (empty PARAMS, empty STDIN), so a reader that let its fault
 * through would say OK.
 */
START_TEST(fcgi_req_bad)
{
	static const unsigned char version[] = {
		2, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	static const unsigned char version_later[] = {
		REC_BEGIN(1, 1), 0, 4, 0, 1, 0, 0, 0, 0, REC_EMPTY(5, 1),
	};
	static const unsigned char params_first[] = {
		REC_EMPTY(4, 1), REC_BEGIN(1, 1), REC_EMPTY(4, 1),
		REC_EMPTY(5, 1),
	};
	static const unsigned char begin_other[] = {
		REC_BEGIN(1, 1), REC_BEGIN(2, 1), REC_EMPTY(4, 1),
		REC_EMPTY(5, 1),
	};
	static const unsigned char stdin_early[] = {
		REC_BEGIN(1, 1), 1, 4, 0, 1, 0, 2, 0, 0, 0, 0,
		REC_EMPTY(5, 1), REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	static const unsigned char params_late[] = {
		REC_BEGIN(1, 1), REC_EMPTY(4, 1), REC_EMPTY(4, 1),
		REC_EMPTY(5, 1),
	};
	static const unsigned char begin_short[] = {
		1, 1, 0, 1, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0,
		REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	static const unsigned char begin_long[] = {
		1, 1, 0, 1, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
		REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	static const unsigned char begin_empty[] = {
		REC_EMPTY(1, 1), REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	static const unsigned char len_only[] = {
		REC_BEGIN(1, 1), 1, 4, 0, 1, 0, 1, 0, 0, 1,
		REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	static const unsigned char len4_cut[] = {
		REC_BEGIN(1, 1), 1, 4, 0, 1, 0, 4, 0, 0, 1, 0x80, 0, 0,
		REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	static const unsigned char name_cut[] = {
		REC_BEGIN(1, 1), 1, 4, 0, 1, 0, 4, 0, 0, 3, 0, 'a', 'b',
		REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	static const unsigned char value_cut[] = {
		REC_BEGIN(1, 1), 1, 4, 0, 1, 0, 5, 0, 0, 1, 3, 'a', 'b', 'c',
		REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	/* 65537 and 0x7f000001, not 1: the upper bytes count. */
	static const unsigned char len_b1[] = {
		REC_BEGIN(1, 1), 1, 4, 0, 1, 0, 7, 0, 0,
		0x80, 1, 0, 1, 1, 'a', 'b',
		REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	static const unsigned char len_b0[] = {
		REC_BEGIN(1, 1), 1, 4, 0, 1, 0, 7, 0, 0,
		0xff, 0, 0, 1, 1, 'a', 'b',
		REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	static const unsigned char name_nul[] = {
		REC_BEGIN(1, 1), 1, 4, 0, 1, 0, 5, 0, 0, 2, 1, 'a', 0, 'v',
		REC_EMPTY(4, 1), REC_EMPTY(5, 1),
	};
	/* Every type but PARAMS, STDIN and ABORT_REQUEST, once begun. */
	static const int types[] = { 1, 3, 6, 7, 8, 9, 10, 11, 0, 255 };
	unsigned char	 other[] = {
		REC_BEGIN(1, 1), REC_EMPTY(0, 1), REC_EMPTY(4, 1),
		REC_EMPTY(5, 1),
	};
	char		 what[32];
	size_t		 i;

	REQ_BAD(version);
	REQ_BAD(version_later);
	REQ_BAD(params_first);
	REQ_BAD(begin_other);
	REQ_BAD(stdin_early);
	REQ_BAD(params_late);
	REQ_BAD(begin_short);
	REQ_BAD(begin_long);
	REQ_BAD(begin_empty);
	REQ_BAD(len_only);
	REQ_BAD(len4_cut);
	REQ_BAD(name_cut);
	REQ_BAD(value_cut);
	REQ_BAD(len_b1);
	REQ_BAD(len_b0);
	REQ_BAD(name_nul);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		other[16 + 1] = (unsigned char)types[i];
		snprintf(what, sizeof(what), "type %d", types[i]);
		req_bad(what, other, sizeof(other));
	}
}
END_TEST

/*
 * Sends one PARAMS stream of a pair whose value makes it total bytes,
 * and returns what the reader says, fed whole or byte by byte.
 */
static enum pgsse_fcgi_req_st
req_params_of(size_t total, size_t piece)
{
	struct fcgi_out		 o = { NULL, 0, 0, 0 };
	struct fcgi_out		 pv = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	enum pgsse_fcgi_req_st	 st;
	char			*v;
	size_t			 vl = total - 6, used; /* 1 + 4 + "V" */

	ck_assert_ptr_nonnull(v = malloc(vl + 1));
	memset(v, 'v', vl);
	v[vl] = '\0';
	fcgi_put_pair(&pv, "V", 1, v, vl, 0);
	ck_assert_uint_eq(pv.len, total);
	req_begin(&o, 1, PGSSE_FCGI_RESPONDER, 0, 0);
	fcgi_put_stream(&o, PGSSE_FCGI_PARAMS, 1, pv.p, pv.len);
	fcgi_put_stream(&o, PGSSE_FCGI_STDIN, 1, NULL, 0);
	ck_assert(!o.failed && !pv.failed);
	st = req_read(&q, 0, o.p, o.len, piece, &used);
	if (st == PGSSE_FCGI_REQ_OK) {
		ck_assert_uint_eq(used, o.len);
		ck_assert_str_eq(pgsse_fcgi_req_param(&q, "V"), v);
	}
	pgsse_fcgi_req_free(&q);
	fcgi_out_free(&pv);
	fcgi_out_free(&o);
	free(v);
	return st;
}

/* PARAMS of PGSSE_FCGI_PARAMS_MAX bytes pass; one more is LIMIT. */
START_TEST(fcgi_req_params_max)
{
	ck_assert_int_eq(req_params_of(PGSSE_FCGI_PARAMS_MAX, REQ_WHOLE),
	    PGSSE_FCGI_REQ_OK);
	ck_assert_int_eq(req_params_of(PGSSE_FCGI_PARAMS_MAX, 1),
	    PGSSE_FCGI_REQ_OK);
	ck_assert_int_eq(req_params_of(PGSSE_FCGI_PARAMS_MAX + 1, REQ_WHOLE),
	    PGSSE_FCGI_REQ_LIMIT);
	ck_assert_int_eq(req_params_of(PGSSE_FCGI_PARAMS_MAX + 1, 1),
	    PGSSE_FCGI_REQ_LIMIT);
}
END_TEST

/*
 * Sends n pairs P0.. of value v0.. and returns what the reader says;
 * if OK, all are there.
 */
static enum pgsse_fcgi_req_st
req_npairs(size_t n)
{
	struct fcgi_out		 o = { NULL, 0, 0, 0 };
	struct fcgi_out		 pv = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	enum pgsse_fcgi_req_st	 st;
	char			 name[16], val[16];
	size_t			 i, used;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "P%zu", i);
		snprintf(val, sizeof(val), "v%zu", i);
		fcgi_put_pair(&pv, name, strlen(name), val, strlen(val), 0);
	}
	req_begin(&o, 1, PGSSE_FCGI_RESPONDER, 0, 0);
	fcgi_put_stream(&o, PGSSE_FCGI_PARAMS, 1, pv.p, pv.len);
	fcgi_put_stream(&o, PGSSE_FCGI_STDIN, 1, NULL, 0);
	ck_assert(!o.failed && !pv.failed);
	st = req_read(&q, 0, o.p, o.len, REQ_WHOLE, &used);
	if (st == PGSSE_FCGI_REQ_OK) {
		ck_assert_uint_eq(q.nenv, n);
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "P%zu", i);
			snprintf(val, sizeof(val), "v%zu", i);
			ck_assert_str_eq(pgsse_fcgi_req_param(&q, name), val);
		}
	}
	ck_assert_uint_le(q.nenv, PGSSE_FCGI_NPARAMS_MAX);
	pgsse_fcgi_req_free(&q);
	fcgi_out_free(&pv);
	fcgi_out_free(&o);
	return st;
}

/* PGSSE_FCGI_NPARAMS_MAX pairs pass; one more is LIMIT. */
START_TEST(fcgi_req_nparams_max)
{
	ck_assert_int_eq(req_npairs(PGSSE_FCGI_NPARAMS_MAX),
	    PGSSE_FCGI_REQ_OK);
	ck_assert_int_eq(req_npairs(PGSSE_FCGI_NPARAMS_MAX + 1),
	    PGSSE_FCGI_REQ_LIMIT);
}
END_TEST

/*
 * STDIN is kept up to inmax bytes, NUL-terminated, and counted whole in
 * intotal, across records and pieces; inmax 0 keeps none.
 */
START_TEST(fcgi_req_stdin_max)
{
	static const size_t inmax[] = { 0, 5, 6, 11, 12, 70000 };
	struct fcgi_out		 o = { NULL, 0, 0, 0 };
	struct fcgi_out		 big = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	char			*b;
	size_t			 i, j, n = 70000, used;

	req_begin(&o, 1, PGSSE_FCGI_RESPONDER, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 1, NULL, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 1, "hello ", 6, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 1, "world", 5, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 1, NULL, 0, 0);
	ck_assert(!o.failed);
	for (i = 0; i < sizeof(inmax) / sizeof(inmax[0]); i++)
		for (j = 0; j < REQ_NPIECES; j++) {
			ck_assert_int_eq(req_read(&q, inmax[i], o.p, o.len,
			    req_pieces[j], &used), PGSSE_FCGI_REQ_OK);
			req_assert(&q, NULL, 0, "hello world",
			    inmax[i] < 11 ? inmax[i] : 11);
			ck_assert_uint_eq(q.intotal, 11);
			pgsse_fcgi_req_free(&q);
		}
	/* Over a record's worth. */
	ck_assert_ptr_nonnull(b = malloc(n));
	for (i = 0; i < n; i++)
		b[i] = (char)('a' + i % 26);
	req_build(&big, 1, NULL, 0, b, n);
	ck_assert_int_eq(req_read(&q, n, big.p, big.len, REQ_WHOLE, &used),
	    PGSSE_FCGI_REQ_OK);
	req_assert(&q, NULL, 0, b, n);
	pgsse_fcgi_req_reset(&q);
	q.inmax = n - 1;
	ck_assert_int_eq(req_feed(&q, big.p, big.len, REQ_WHOLE, &used),
	    PGSSE_FCGI_REQ_OK);
	req_assert(&q, NULL, 0, b, n - 1);
	ck_assert_uint_eq(q.intotal, n);
	pgsse_fcgi_req_free(&q);
	free(b);
	fcgi_out_free(&big);
	fcgi_out_free(&o);
}
END_TEST

/* Of a name sent twice, the first value is the parameter's. */
START_TEST(fcgi_req_duplicate)
{
	static const char *const kv[] = { "A", "first", "B", "b",
	    "A", "second" };
	struct fcgi_out		 o = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	size_t			 used;

	req_build(&o, 1, kv, 3, NULL, 0);
	ck_assert_int_eq(req_read(&q, 0, o.p, o.len, REQ_WHOLE, &used),
	    PGSSE_FCGI_REQ_OK);
	req_assert(&q, kv, 3, NULL, 0);
	ck_assert_str_eq(pgsse_fcgi_req_param(&q, "A"), "first");
	pgsse_fcgi_req_free(&q);
	fcgi_out_free(&o);
}
END_TEST

/*
 * Two requests in one read: the first takes only its own bytes; reset,
 * the same struct reads the second (another id, fewer parameters, less
 * STDIN) with nothing of the first left and inmax kept. After a BAD
 * request, reset readies it too.
 */
START_TEST(fcgi_req_next)
{
	static const char *const kv1[] = { "A", "1", "B", "2" };
	static const char *const kv2[] = { "C", "3" };
	static const unsigned char bad[] = { REC_BEGIN(1, 1),
	    REC_EMPTY(5, 1) };
	struct fcgi_out		 o = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	size_t			 first, used, i;

	req_build(&o, 1, kv1, 2, "long stdin", 10);
	first = o.len;
	req_build(&o, 9, kv2, 1, "s", 1);
	for (i = 0; i < REQ_NPIECES; i++) {
		ck_assert_int_eq(req_read(&q, 4, o.p, o.len, req_pieces[i],
		    &used), PGSSE_FCGI_REQ_OK);
		ck_assert_uint_eq(used, first);
		req_assert(&q, kv1, 2, "long", 4);
		ck_assert_uint_eq(q.intotal, 10);
		pgsse_fcgi_req_reset(&q);
		ck_assert_uint_eq(q.inmax, 4);
		ck_assert_uint_eq(q.nenv, 0);
		ck_assert_uint_eq(q.reqid, 0);
		ck_assert_ptr_null(pgsse_fcgi_req_param(&q, "A"));
		ck_assert_int_eq(req_feed(&q, o.p + used, o.len - used,
		    req_pieces[i], &used), PGSSE_FCGI_REQ_OK);
		ck_assert_uint_eq(used, o.len - first);
		ck_assert_uint_eq(q.reqid, 9);
		req_assert(&q, kv2, 1, "s", 1);
		ck_assert_uint_eq(q.intotal, 1);
		ck_assert_ptr_null(pgsse_fcgi_req_param(&q, "A"));
		pgsse_fcgi_req_free(&q);
	}
	ck_assert_int_eq(req_read(&q, 4, bad, sizeof(bad), 1, &used),
	    PGSSE_FCGI_REQ_BAD);
	pgsse_fcgi_req_reset(&q);
	ck_assert_int_eq(req_feed(&q, o.p, o.len, REQ_WHOLE, &used),
	    PGSSE_FCGI_REQ_OK);
	req_assert(&q, kv1, 2, "long", 4);
	pgsse_fcgi_req_free(&q);
	fcgi_out_free(&o);
}
END_TEST

/* Free frees and zeroes, on a zeroed struct too, and twice. */
START_TEST(fcgi_req_free)
{
	static const char *const kv[] = { "A", "1" };
	struct fcgi_out		 o = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q, zero;
	size_t			 used;

	memset(&zero, 0, sizeof(zero));
	memset(&q, 0, sizeof(q));
	pgsse_fcgi_req_free(&q);
	pgsse_fcgi_req_reset(&q);
	ck_assert(memcmp(&q, &zero, sizeof(q)) == 0);
	req_build(&o, 1, kv, 1, "x", 1);
	q.inmax = 8;
	ck_assert_int_eq(req_feed(&q, o.p, o.len, REQ_WHOLE, &used),
	    PGSSE_FCGI_REQ_OK);
	ck_assert_ptr_nonnull(q.params);
	ck_assert_ptr_nonnull(q.in);
	pgsse_fcgi_req_free(&q);
	ck_assert(memcmp(&q, &zero, sizeof(q)) == 0);
	pgsse_fcgi_req_free(&q);
	fcgi_out_free(&o);
}
END_TEST

/*
 * lighttpd 1.4, when its connection for a request failed (pgsse's
 * listening queue was full), sends on the next one what it had queued
 * for the first, BEGIN_REQUEST and PARAMS with no STDIN, and then the
 * whole request again, of the same id. A BEGIN_REQUEST of the request's
 * own id before its STDIN ended starts it over: the last is read, in
 * every piece size, and nothing of the first is kept, wherever it was
 * cut, PGSSE_FCGI_RESTARTS_MAX times; once more is BAD, as is one of
 * another id (fcgi_req_bad).
 */
START_TEST(fcgi_req_resent)
{
	static const char *const kva[] = {
		"REQUEST_METHOD", "POST",
		"REQUEST_URI", "/first",
		"HTTP_X_FIRST", "only in the first",
	};
	static const char *const kvb[] = {
		"REQUEST_METHOD", "GET",
		"REQUEST_URI", "/api/sse/logs",
	};
	static const unsigned char begin_twice[] = {
		REC_BEGIN(1, 1), REC_BEGIN(1, 1), REC_EMPTY(4, 1),
		REC_EMPTY(5, 1),
	};
	struct fcgi_out		 a = { NULL, 0, 0, 0 }, b = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	unsigned char		*p;
	size_t			 i, cut, used, cuts = 0;

	req_build(&a, REQ_ID, kva, 3, "left", 4);
	req_build(&b, REQ_ID, kvb, 2, "ok", 2);
	ck_assert_ptr_nonnull(p = malloc(a.len + b.len));
	/* The first cut at each of its records' ends before the last. */
	for (cut = 16; cut < a.len; cut += 8 + (a.p[cut + 4] << 8 |
	    a.p[cut + 5]) + a.p[cut + 6]) {
		memcpy(p, a.p, cut);
		memcpy(p + cut, b.p, b.len);
		for (i = 0; i < REQ_NPIECES; i++) {
			ck_assert_msg(req_read(&q, REQ_INMAX, p, cut + b.len,
			    req_pieces[i], &used) == PGSSE_FCGI_REQ_OK,
			    "the first request cut after %zu bytes, the second "
			    "whole: not read", cut);
			ck_assert_uint_eq(used, cut + b.len);
			ck_assert_uint_eq(q.reqid, REQ_ID);
			req_assert(&q, kvb, 2, "ok", 2);
			ck_assert_uint_eq(q.intotal, 2);
			pgsse_fcgi_req_free(&q);
		}
		cuts++;
	}
	ck_assert_uint_ge(cuts, 4);	/* BEGIN, PARAMS, their end, STDIN */
	free(p);
	fcgi_out_free(&b);
	/* PGSSE_FCGI_RESTARTS_MAX starts over are read; one more is BAD. */
	memset(&b, 0, sizeof(b));
	for (i = 0; i <= PGSSE_FCGI_RESTARTS_MAX; i++)
		fcgi_put_record(&b, PGSSE_FCGI_BEGIN_REQUEST, REQ_ID, a.p + 8, 8,
		    0);
	ck_assert(!b.failed);
	ck_assert_int_eq(req_read(&q, REQ_INMAX, b.p, b.len, REQ_WHOLE,
	    &used), PGSSE_FCGI_REQ_MORE);
	pgsse_fcgi_req_free(&q);
	fcgi_put_record(&b, PGSSE_FCGI_BEGIN_REQUEST, REQ_ID, a.p + 8, 8, 0);
	ck_assert_int_eq(req_read(&q, REQ_INMAX, b.p, b.len, REQ_WHOLE,
	    &used), PGSSE_FCGI_REQ_BAD);
	pgsse_fcgi_req_free(&q);
	fcgi_out_free(&a);
	fcgi_out_free(&b);
	for (i = 0; i < REQ_NPIECES; i++) {
		ck_assert_int_eq(req_read(&q, REQ_INMAX, begin_twice,
		    sizeof(begin_twice), req_pieces[i], &used),
		    PGSSE_FCGI_REQ_OK);
		ck_assert_uint_eq(used, sizeof(begin_twice));
		req_assert(&q, NULL, 0, "", 0);
		pgsse_fcgi_req_free(&q);
	}
}
END_TEST

/*
 * Management records (request id 0) are answered while a request is
 * read, as libfcgi answered them: GET_VALUES with GET_VALUES_RESULT
 * giving FCGI_MPXS_CONNS "0" and leaving out the names with no fixed
 * value (FCGI_MAX_CONNS, FCGI_MAX_REQS) and those it does not know, a
 * query cut short with an empty result, any other type with
 * UNKNOWN_TYPE naming it. The request around them reads as if they
 * were not there, in every piece size; pgsse_req_answer_mgmt sends the
 * answers, in order, and forgets them.
 */
START_TEST(fcgi_req_mgmt)
{
	static const char *const kv[] = { "REQUEST_METHOD", "GET" };
	static const unsigned char want[] = {
		1, 10, 0, 0, 0, 18, 0, 0, 15, 1, 'F', 'C', 'G', 'I', '_',
		'M', 'P', 'X', 'S', '_', 'C', 'O', 'N', 'N', 'S', '0',
		1, 11, 0, 0, 0, 8, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0,
		1, 10, 0, 0, 0, 0, 0, 0,
	};
	struct fcgi_out		 o = { NULL, 0, 0, 0 }, pv = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	unsigned char		 got[sizeof(want) + 1];
	size_t			 i;
	int			 sv[2];

	fcgi_put_pair(&pv, "FCGI_MAX_CONNS", 14, "", 0, 0);
	fcgi_put_pair(&pv, "FCGI_UNHEARD_OF", 15, "", 0, 0);
	fcgi_put_pair(&pv, "FCGI_MPXS_CONNS", 15, "", 0, 0);
	fcgi_put_pair(&pv, "FCGI_MAX_REQS", 13, "", 0, 0);
	req_begin(&o, 3, PGSSE_FCGI_RESPONDER, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_GET_VALUES, 0, pv.p, pv.len, 5);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 3, "\16\3REQUEST_METHODGET",
	    19, 0);
	fcgi_put_record(&o, 99, 0, "xyz", 3, 2);
	fcgi_put_record(&o, PGSSE_FCGI_PARAMS, 3, NULL, 0, 0);
	/* A name said to be 40 bytes long in a body of 17. */
	fcgi_put_record(&o, PGSSE_FCGI_GET_VALUES, 0, "\50\0FCGI_MPXS_CONNS",
	    17, 0);
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 3, NULL, 0, 0);
	ck_assert(!o.failed && !pv.failed);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (i = 0; i < REQ_NPIECES; i++) {
		req_read_whole(&q, &o, i, kv, 1, "");
		ck_assert_uint_eq(q.rlen, sizeof(want));
		ck_assert_mem_eq(q.reply, want, sizeof(want));
		pgsse_req_answer_mgmt(sv[0], &q);
		ck_assert_uint_eq(q.rlen, 0);
		ck_assert_int_eq(read(sv[1], got, sizeof(got)),
		    (ssize_t)sizeof(want));
		ck_assert_mem_eq(got, want, sizeof(want));
		pgsse_fcgi_req_free(&q);
	}
	close(sv[0]);
	close(sv[1]);
	fcgi_out_free(&pv);
	fcgi_out_free(&o);
}
END_TEST

/*
 * Answers that a peer's socket has room for only in part are not sent
 * cut without a word: pgsse_req_answer_mgmt says so (-1), so that the
 * caller closes the connection rather than write records after half of
 * one. Over real TCP on loopback, to a peer that reads nothing: answers
 * of 8 to 256 bytes go out whole (0, and forgotten) till the socket is
 * full, where one goes out in part.
 */
START_TEST(fcgi_req_mgmt_partial)
{
	struct sockaddr_in	 sin;
	struct pgsse_fcgi_req	 q;
	socklen_t		 sl = sizeof(sin);
	size_t			 tries;
	int			 ls, a, b, cut = 0;

	ck_assert_int_ge(ls = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&sin, &sl), 0);
	ck_assert_int_eq(listen(ls, 1), 0);
	ck_assert_int_ge(a = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(a, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_ge(b = accept(ls, NULL, NULL), 0);
	memset(&q, 0, sizeof(q));
	/* Answers of 8 to 256 bytes to a peer that reads none. */
	for (tries = 0; tries < 1000000 && !cut; tries++) {
		q.rlen = 8 * (1 + tries * 7 % 32);
		if (pgsse_req_answer_mgmt(a, &q) == -1)
			cut = 1;
		else
			ck_assert_uint_eq(q.rlen, 0);
	}
	ck_assert_msg(cut, "no send of the answers went out in part in %zu "
	    "tries", tries);
	ck_assert_uint_gt(q.rlen, 0);
	close(a);
	close(b);
	close(ls);
}
END_TEST

/*
 * A peer that sends management records without reading the answers
 * gets PGSSE_FCGI_REPLY_MAX bytes of whole answers held, no more; the
 * rest are dropped, the first ones kept. A GET_VALUES body is read for
 * names only up to PGSSE_FCGI_MGMT_KEEP bytes: FCGI_MPXS_CONNS after a
 * long name goes unanswered, and the request after it still reads.
 */
START_TEST(fcgi_req_mgmt_bounds)
{
	static const char *const kv[] = { "REQUEST_METHOD", "GET" };
	struct fcgi_out		 o = { NULL, 0, 0, 0 }, pv = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	char			 name[PGSSE_FCGI_MGMT_KEEP];
	size_t			 i, used;

	for (i = 0; i < PGSSE_FCGI_REPLY_MAX / 16 + 4; i++)
		fcgi_put_record(&o, 50, 0, NULL, 0, 0);
	ck_assert(!o.failed);
	memset(&q, 0, sizeof(q));
	ck_assert_int_eq(req_feed(&q, o.p, o.len, REQ_WHOLE, &used),
	    PGSSE_FCGI_REQ_MORE);
	ck_assert_uint_eq(q.rlen, PGSSE_FCGI_REPLY_MAX / 16 * 16);
	for (i = 0; i < q.rlen; i += 16) {
		ck_assert_int_eq(q.reply[i + 1], PGSSE_FCGI_UNKNOWN_TYPE);
		ck_assert_int_eq(q.reply[i + 8], 50);
	}
	fcgi_out_free(&o);

	/* 15 answers of 16 bytes, then one of 26 that does not fit: the
	 * next of 16, which would, is dropped too, so none is skipped. */
	memset(&o, 0, sizeof(o));
	for (i = 0; i < PGSSE_FCGI_REPLY_MAX / 16 - 1; i++)
		fcgi_put_record(&o, 50, 0, NULL, 0, 0);
	fcgi_put_record(&o, PGSSE_FCGI_GET_VALUES, 0, "\17\0FCGI_MPXS_CONNS",
	    17, 0);
	fcgi_put_record(&o, 51, 0, NULL, 0, 0);
	ck_assert(!o.failed);
	memset(&q, 0, sizeof(q));
	ck_assert_int_eq(req_feed(&q, o.p, o.len, REQ_WHOLE, &used),
	    PGSSE_FCGI_REQ_MORE);
	ck_assert_uint_eq(q.rlen, PGSSE_FCGI_REPLY_MAX - 16);
	ck_assert_int_eq(q.reply[q.rlen - 8], 50);
	fcgi_out_free(&o);

	memset(name, 'N', sizeof(name));
	fcgi_put_pair(&pv, name, sizeof(name), "", 0, 0);
	fcgi_put_pair(&pv, "FCGI_MPXS_CONNS", 15, "", 0, 0);
	memset(&o, 0, sizeof(o));
	fcgi_put_record(&o, PGSSE_FCGI_GET_VALUES, 0, pv.p, pv.len, 0);
	req_begin(&o, 3, PGSSE_FCGI_RESPONDER, 0, 0);
	fcgi_put_stream(&o, PGSSE_FCGI_PARAMS, 3, "\16\3REQUEST_METHODGET",
	    19);
	fcgi_put_stream(&o, PGSSE_FCGI_STDIN, 3, NULL, 0);
	ck_assert(!o.failed && !pv.failed);
	for (i = 0; i < REQ_NPIECES; i++) {
		ck_assert_int_eq(req_read(&q, REQ_INMAX, o.p, o.len,
		    req_pieces[i], &used), PGSSE_FCGI_REQ_OK);
		req_assert(&q, kv, 1, "", 0);
		ck_assert_uint_eq(q.rlen, PGSSE_FCGI_HEADER);
		ck_assert_int_eq(q.reply[1], PGSSE_FCGI_GET_VALUES_RESULT);
		ck_assert_int_eq(q.reply[4] << 8 | q.reply[5], 0);
		pgsse_fcgi_req_free(&q);
	}
	fcgi_out_free(&pv);
	fcgi_out_free(&o);
}
END_TEST

/*
 * The pump's reader carries on where the request reader stopped once
 * the parameters were in (pgsse_fcgi_in_from_req): cut anywhere after
 * the end of PARAMS (inside a STDIN record's header, body or padding,
 * or between records), the rest still reads as records, and the
 * ABORT_REQUEST after the body is found, once, at its end.
 */
START_TEST(fcgi_in_from_req)
{
	static const char *const kv[] = { "REQUEST_METHOD", "GET" };
	struct fcgi_out		 o = { NULL, 0, 0, 0 }, pv = { NULL, 0, 0, 0 };
	struct pgsse_fcgi_req	 q;
	struct pgsse_fcgi_in	 in;
	char			 body[30];
	size_t			 k, params, used;

	memset(body, 'b', sizeof(body));
	fcgi_put_pair(&pv, kv[0], strlen(kv[0]), kv[1], strlen(kv[1]), 0);
	req_begin(&o, 1, PGSSE_FCGI_RESPONDER, 0, 0);
	fcgi_put_stream(&o, PGSSE_FCGI_PARAMS, 1, pv.p, pv.len);
	fcgi_out_free(&pv);
	params = o.len;
	fcgi_put_record(&o, PGSSE_FCGI_STDIN, 1, body, sizeof(body), 2);
	fcgi_put_record(&o, PGSSE_FCGI_ABORT_REQUEST, 1, "", 0, 3);
	ck_assert(!o.failed);
	for (k = params; k < o.len; k++) {
		ck_assert_int_eq(req_read(&q, 0, o.p, k, REQ_WHOLE, &used),
		    PGSSE_FCGI_REQ_MORE);
		ck_assert_uint_eq(used, k);
		ck_assert(q.params_done);
		ck_assert_msg((pgsse_fcgi_in_from_req(&in, &q) ==
		    PGSSE_FCGI_IN_ABORT) + (pgsse_fcgi_in_feed(&in, 1, o.p + k,
		    o.len - k) == PGSSE_FCGI_IN_ABORT) == 1, "cut after %zu of "
		    "%zu bytes: the ABORT_REQUEST after it was not found once",
		    k, o.len);
		ck_assert_int_eq(in.lost, 0);
		pgsse_fcgi_req_free(&q);
	}
	fcgi_out_free(&o);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("fcgi");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, fcgi_header_bytes);
	tcase_add_test(tc, fcgi_stdout_small);
	tcase_add_test(tc, fcgi_end_request);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, fcgi_stdout_split);
	tcase_add_test(tc, fcgi_reader_refuses);
	tcase_add_test(tc, fcgi_in_abort);
	suite_add_tcase(s, tc);
	tc = tcase_create("req");
	tcase_add_test(tc, fcgi_req_cuts);
	tcase_add_test(tc, fcgi_req_lengths);
	tcase_add_test(tc, fcgi_req_padding);
	tcase_add_test(tc, fcgi_req_skips);
	tcase_add_test(tc, fcgi_req_role);
	tcase_add_test(tc, fcgi_req_abort);
	tcase_add_test(tc, fcgi_req_duplicate);
	tcase_add_test(tc, fcgi_req_next);
	tcase_add_test(tc, fcgi_req_free);
	tcase_add_test(tc, fcgi_in_from_req);
	tcase_add_test(tc, fcgi_req_mgmt);
	tcase_add_test(tc, fcgi_req_mgmt_partial);
	tcase_add_test(tc, fcgi_req_resent);
	tcase_add_test(tc, fcgi_req_mgmt_bounds);
	suite_add_tcase(s, tc);
	tc = tcase_create("req_limits");
	tcase_add_test(tc, fcgi_req_params_max);
	tcase_add_test(tc, fcgi_req_nparams_max);
	tcase_add_test(tc, fcgi_req_stdin_max);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, fcgi_req_bad);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
