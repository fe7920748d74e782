/* check_cookie.c: lib/cookie.c */
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "harness.h"

/* Returns what pgsse_cookie_get answers for name in header; *out. */
static enum pgsse_err
get(const char *header, const char *name, char *out, size_t outsz)
{
	memset(out, 'X', outsz);
	return pgsse_cookie_get(header, name, out, outsz);
}

START_TEST(cookie_several)
{
	char	 v[64];

	ck_assert_int_eq(get("a=1; pgsse_csrf=abc; b=2", "pgsse_csrf", v,
	    sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "abc");
	ck_assert_int_eq(get("a=1; b=2", "a", v, sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(get("a=1; b=2", "b", v, sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "2");
	ck_assert_int_eq(get("a=1;b=2", "b", v, sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "2");
	/* A value may hold '=' (base64). */
	ck_assert_int_eq(get("s=YQ==; t=1", "s", v, sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "YQ==");
	ck_assert_int_eq(get("a=1; b=2", "c", v, sizeof(v)),
	    PGSSE_ERR_NOTFOUND);
	ck_assert_int_eq(get(NULL, "a", v, sizeof(v)), PGSSE_ERR_NOTFOUND);
	ck_assert_int_eq(get("", "a", v, sizeof(v)), PGSSE_ERR_NOTFOUND);
	/* Names are whole, and case-sensitive. */
	ck_assert_int_eq(get("xpgsse_csrf=1; pgsse_csrfx=2; PGSSE_CSRF=3",
	    "pgsse_csrf", v, sizeof(v)), PGSSE_ERR_NOTFOUND);
}
END_TEST

START_TEST(cookie_spaces)
{
	char	 v[64];

	ck_assert_int_eq(get("  a=1 ;  pgsse_csrf=abc  ; b=2", "pgsse_csrf",
	    v, sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "abc");
	ck_assert_int_eq(get("a=1;\tpgsse_csrf = abc\t;b=2", "pgsse_csrf", v,
	    sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "abc");
	ck_assert_int_eq(get("pgsse_csrf=abc ", "pgsse_csrf", v, sizeof(v)),
	    PGSSE_OK);
	ck_assert_str_eq(v, "abc");
	/* An empty value is a value. */
	ck_assert_int_eq(get("a=; b=2", "a", v, sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "");
}
END_TEST

/*
 * The first of two cookies of one name wins: the browser sends the one
 * with the longest path first, and www/js/csrf.js reads the first too.
 */
START_TEST(cookie_duplicates)
{
	char	 v[64];

	ck_assert_int_eq(get("pgsse_csrf=first; a=1; pgsse_csrf=second",
	    "pgsse_csrf", v, sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "first");
}
END_TEST

START_TEST(cookie_quoted)
{
	char	 v[64];

	ck_assert_int_eq(get("a=1; q=\"abc\"; b=2", "q", v, sizeof(v)),
	    PGSSE_OK);
	ck_assert_str_eq(v, "abc");
	ck_assert_int_eq(get("q=\"\"", "q", v, sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "");
	ck_assert_int_eq(get("q=\"abc", "q", v, sizeof(v)), PGSSE_ERR_INVAL);
	ck_assert_int_eq(get("q=abc\"", "q", v, sizeof(v)), PGSSE_ERR_INVAL);
	ck_assert_int_eq(get("q=a\"b\"c", "q", v, sizeof(v)), PGSSE_ERR_INVAL);
	ck_assert_int_eq(get("q=\"", "q", v, sizeof(v)), PGSSE_ERR_INVAL);
}
END_TEST

START_TEST(cookie_overlong)
{
	char	 hdr[128], v[16];

	/* 15 characters and the NUL fit in 16 bytes; 16 do not. */
	ck_assert_int_eq(get("a=123456789012345; b=2", "a", v, sizeof(v)),
	    PGSSE_OK);
	ck_assert_str_eq(v, "123456789012345");
	ck_assert_int_eq(get("a=1234567890123456; b=2", "a", v, sizeof(v)),
	    PGSSE_ERR_LIMIT);
	ck_assert_int_eq(get("a=\"123456789012345\"", "a", v, sizeof(v)),
	    PGSSE_OK);
	ck_assert_str_eq(v, "123456789012345");
	memset(hdr, 'z', sizeof(hdr));
	memcpy(hdr, "a=", 2);
	hdr[sizeof(hdr) - 1] = '\0';
	ck_assert_int_eq(get(hdr, "a", v, sizeof(v)), PGSSE_ERR_LIMIT);
}
END_TEST

START_TEST(cookie_no_equals)
{
	char	 v[64];

	/* A pair without '=' is some other cookie: skipped. */
	ck_assert_int_eq(get("pgsse_csrf; pgsse_csrf=abc", "pgsse_csrf", v,
	    sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "abc");
	ck_assert_int_eq(get("junk;;; ;pgsse_csrf=abc", "pgsse_csrf", v,
	    sizeof(v)), PGSSE_OK);
	ck_assert_str_eq(v, "abc");
	ck_assert_int_eq(get("pgsse_csrf", "pgsse_csrf", v, sizeof(v)),
	    PGSSE_ERR_NOTFOUND);
	ck_assert_int_eq(get(";;;", "pgsse_csrf", v, sizeof(v)),
	    PGSSE_ERR_NOTFOUND);
}
END_TEST

START_TEST(cookie_hostile)
{
	char	 v[64];

	/* Control characters are not cookie octets. */
	ck_assert_int_eq(get("a=x\ry", "a", v, sizeof(v)), PGSSE_ERR_INVAL);
	ck_assert_int_eq(get("a=x\ny", "a", v, sizeof(v)), PGSSE_ERR_INVAL);
	ck_assert_int_eq(get("a=x\x7fy", "a", v, sizeof(v)), PGSSE_ERR_INVAL);
	/* No room for even the NUL. */
	ck_assert_int_eq(get("a=1", "a", v, 1), PGSSE_ERR_LIMIT);
	ck_assert_int_eq(pgsse_cookie_get("a=1", "a", v, 0), PGSSE_ERR_LIMIT);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("cookie");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, cookie_several);
	tcase_add_test(tc, cookie_spaces);
	tcase_add_test(tc, cookie_duplicates);
	tcase_add_test(tc, cookie_quoted);
	tcase_add_test(tc, cookie_no_equals);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, cookie_overlong);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, cookie_hostile);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
