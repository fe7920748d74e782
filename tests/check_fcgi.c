/* check_fcgi.c: lib/fcgi.c, FastCGI records, byte by byte. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "fcgi.h"
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
 * A request is whole once its records run up to the empty STDIN record:
 * not at any shorter cut, whatever comes after it, and not if that
 * record is only inside another's body.
 */
START_TEST(fcgi_request_whole)
{
	static const unsigned char in[] = {
		1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,	/* BEGIN */
		1, 4, 0, 1, 0, 3, 1, 0, 2, 0, 'x', 0,		/* PARAMS */
		1, 4, 0, 1, 0, 0, 0, 0,				/* its end */
		1, 5, 0, 1, 0, 2, 0, 0, 'h', 'i',		/* STDIN */
		1, 5, 0, 1, 0, 0, 0, 0,				/* its end */
		1, 2, 0, 1, 0, 0, 0, 0,				/* more */
	};
	static const unsigned char hidden[] = {
		1, 4, 0, 1, 0, 8, 0, 0, 1, 5, 0, 1, 0, 0, 0, 0,
	};
	size_t	 cut, end = sizeof(in) - 8;

	for (cut = 0; cut <= sizeof(in); cut++)
		ck_assert_msg(pgsse_fcgi_request_whole(in, cut) == (cut >= end),
		    "cut %zu", cut);
	ck_assert_int_eq(pgsse_fcgi_request_whole(hidden, sizeof(hidden)), 0);
	ck_assert_int_eq(pgsse_fcgi_request_whole(hidden + 8, 8), 1);
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
	tcase_add_test(tc, fcgi_request_whole);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
