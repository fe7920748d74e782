/* check_route.c: lib/route.c */
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "pgsse-app.h"
#include "extern.h"
#include "harness.h"

static const char	*args[PGSSE_APP_ARGS_MAX];
static char		 buf[256];

/* Matches path against pattern with the buffers pgsse_app has. */
static int
match(const char *pattern, const char *path)
{
	memset(args, 0, sizeof(args));
	return pgsse_route_match(pattern, path, args, PGSSE_APP_ARGS_MAX, buf,
	    sizeof(buf));
}

START_TEST(route_literal)
{
	ck_assert(match("/status/content", "/status/content"));
	ck_assert(!match("/status/content", "/status/contents"));
	ck_assert(!match("/status/content", "/status/conten"));
	ck_assert(!match("/status/content", "/Status/content"));
	ck_assert(!match("/status/content", ""));
	ck_assert(match("/", "/"));
}
END_TEST

START_TEST(route_args)
{
	ck_assert(match("/demos/<id>/install", "/demos/todo/install"));
	ck_assert_str_eq(args[0], "todo");
	ck_assert_ptr_null(args[1]);
	ck_assert(!match("/demos/<id>/install", "/demos/todo/uninstall"));
	ck_assert(!match("/demos/<id>/install", "/demos/todo/installer"));
	ck_assert(match("/jobs/<id>", "/jobs/42"));
	ck_assert_str_eq(args[0], "42");
	ck_assert(match("/a/<x>/b/<y>", "/a/1/b/two"));
	ck_assert_str_eq(args[0], "1");
	ck_assert_str_eq(args[1], "two");
	ck_assert(match("/<a>/<b>/<c>/<d>", "/1/2/3/4"));
	ck_assert_str_eq(args[3], "4");
	/* A segment is percent-decoded; a bad escape or a NUL matches
	 * nothing; '+' is a plus in a path. */
	ck_assert(match("/jobs/<id>", "/jobs/a%2Fb"));
	ck_assert_str_eq(args[0], "a/b");
	ck_assert(match("/notes/<t>", "/notes/caf%C3%a9+x"));
	ck_assert_str_eq(args[0], "caf\xc3\xa9+x");
	ck_assert(!match("/jobs/<id>", "/jobs/a%00b"));
	ck_assert(!match("/jobs/<id>", "/jobs/a%zzb"));
	ck_assert(!match("/jobs/<id>", "/jobs/ab%4"));
	ck_assert(!match("/jobs/<id>", "/jobs/ab%"));
}
END_TEST

/* pgsse_app_arg's lookup: a <name>'s index in its pattern. */
START_TEST(route_arg_index)
{
	ck_assert_int_eq(pgsse_route_arg("/a/<x>/b/<y>", "x"), 0);
	ck_assert_int_eq(pgsse_route_arg("/a/<x>/b/<y>", "y"), 1);
	ck_assert_int_eq(pgsse_route_arg("/a/<x>/b/<y>", "z"), -1);
	ck_assert_int_eq(pgsse_route_arg("/a/<xy>", "x"), -1);
	ck_assert_int_eq(pgsse_route_arg("/a/<x>", "xy"), -1);
	ck_assert_int_eq(pgsse_route_arg("/a/b", "a"), -1);
}
END_TEST

START_TEST(route_too_many_args)
{
	ck_assert(!match("/<a>/<b>/<c>/<d>/<e>", "/1/2/3/4/5"));
	ck_assert(!match("/<a>/<b>/<c>/<d>/<e>", "/1/2/3/4"));
}
END_TEST

START_TEST(route_overlong)
{
	const char	*a[2];
	char		 b[8];

	/* Seven characters and the NUL fit in 8 bytes; eight do not. */
	ck_assert(pgsse_route_match("/x/<id>", "/x/1234567", a, 1, b,
	    sizeof(b)));
	ck_assert_str_eq(a[0], "1234567");
	ck_assert(!pgsse_route_match("/x/<id>", "/x/12345678", a, 1, b,
	    sizeof(b)));
	/* Two segments share the buffer: 4 + 4 bytes fit, 5 + 4 not. */
	ck_assert(pgsse_route_match("/<a>/<b>", "/123/456", a, 2, b,
	    sizeof(b)));
	ck_assert_str_eq(a[0], "123");
	ck_assert_str_eq(a[1], "456");
	ck_assert(!pgsse_route_match("/<a>/<b>", "/1234/567", a, 2, b,
	    sizeof(b)));
}
END_TEST

START_TEST(route_trailing_slash)
{
	ck_assert(!match("/jobs/active", "/jobs/active/"));
	ck_assert(!match("/jobs/<id>", "/jobs/42/"));
	ck_assert(!match("/jobs/<id>/", "/jobs/42"));
	ck_assert(match("/jobs/<id>/", "/jobs/42/"));
	ck_assert_str_eq(args[0], "42");
}
END_TEST

START_TEST(route_empty_segment)
{
	ck_assert(!match("/jobs/<id>", "/jobs/"));
	ck_assert(!match("/jobs/<id>", "/jobs"));
	ck_assert(!match("/demos/<id>/install", "/demos//install"));
	ck_assert(!match("/status/content", "/status//content"));
	ck_assert(!match("/a/<x>/<y>", "/a//y"));
}
END_TEST

START_TEST(route_bad_pattern)
{
	/* A '<' that never closes matches nothing. */
	ck_assert(!match("/jobs/<id", "/jobs/42"));
	ck_assert(!match("/jobs/<id", "/jobs/<id"));
}
END_TEST

START_TEST(route_valid)
{
	ck_assert(pgsse_route_valid("/status/content", 4));
	ck_assert(pgsse_route_valid("/demos/<id>/install", 4));
	ck_assert(pgsse_route_valid("/<a>/<b_2>/<c>/<D>", 4));
	ck_assert(pgsse_route_valid("/jobs/<id>/", 1));
	ck_assert(!pgsse_route_valid("/<a>/<b>/<c>/<d>/<e>", 4));
	ck_assert(!pgsse_route_valid("/<a>/<b>", 1));
	ck_assert(!pgsse_route_valid("status", 4));
	ck_assert(!pgsse_route_valid("", 4));
	ck_assert(!pgsse_route_valid("/jobs/<id", 4));
	ck_assert(!pgsse_route_valid("/jobs/<>", 4));
	ck_assert(!pgsse_route_valid("/jobs/id>", 4));
	ck_assert(!pgsse_route_valid("/jobs/x<id>", 4));
	ck_assert(!pgsse_route_valid("/jobs/<id>.json", 4));
	ck_assert(!pgsse_route_valid("/jobs/<i d>", 4));
	ck_assert(!pgsse_route_valid("/jobs/<<id>>", 4));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("route");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, route_literal);
	tcase_add_test(tc, route_args);
	tcase_add_test(tc, route_trailing_slash);
	tcase_add_test(tc, route_empty_segment);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, route_too_many_args);
	tcase_add_test(tc, route_arg_index);
	tcase_add_test(tc, route_overlong);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, route_bad_pattern);
	tcase_add_test(tc, route_valid);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
