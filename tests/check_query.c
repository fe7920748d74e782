/* check_query.c: lib/query.c */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "query.h"
#include "harness.h"

START_TEST(query_parses)
{
	struct pgsse_query	 q;

	ck_assert_int_eq(pgsse_query_parse("channel=a&channel=b&x=1+2%2B3&&k",
	    &q), PGSSE_OK);
	ck_assert_uint_eq(q.n, 4);
	ck_assert_str_eq(q.pairs[0].key, "channel");
	ck_assert_str_eq(q.pairs[0].val, "a");
	ck_assert_str_eq(q.pairs[1].val, "b");
	ck_assert_str_eq(pgsse_query_get(&q, "x"), "1 2+3");
	ck_assert_str_eq(pgsse_query_get(&q, "k"), "");
	ck_assert_ptr_null(pgsse_query_get(&q, "nope"));
	pgsse_query_free(&q);
	ck_assert_int_eq(pgsse_query_parse(NULL, &q), PGSSE_OK);
	ck_assert_uint_eq(q.n, 0);
	pgsse_query_free(&q);
	ck_assert_int_eq(pgsse_query_parse("", &q), PGSSE_OK);
	ck_assert_uint_eq(q.n, 0);
	pgsse_query_free(&q);
}
END_TEST

START_TEST(query_limits)
{
	struct pgsse_query	 q;
	char			*z;
	size_t			 i;

	z = malloc(PGSSE_QUERY_MAX + 2);
	memset(z, 'a', PGSSE_QUERY_MAX + 1);
	z[PGSSE_QUERY_MAX + 1] = '\0';
	ck_assert_int_eq(pgsse_query_parse(z, &q), PGSSE_ERR_LIMIT);
	pgsse_query_free(&q);
	z[PGSSE_QUERY_MAX] = '\0';
	ck_assert_int_eq(pgsse_query_parse(z, &q), PGSSE_OK);
	pgsse_query_free(&q);
	for (i = 0; i < 2 * PGSSE_QUERY_PAIRS_MAX + 2; i += 2) {
		z[i] = 'k';
		z[i + 1] = '&';
	}
	z[i] = '\0';
	ck_assert_int_eq(pgsse_query_parse(z, &q), PGSSE_ERR_LIMIT);
	pgsse_query_free(&q);
	free(z);
}
END_TEST

START_TEST(query_hostile)
{
	static const char *const bad[] = {
		"a=%00", "a=%0", "a=%", "a=%zz", "%00=1", "a=1&b=%g1", "a=%%41",
	};
	struct pgsse_query	 q;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(pgsse_query_parse(bad[i], &q) == PGSSE_ERR_INVAL,
		    "accepted %s", bad[i]);
		pgsse_query_free(&q);
	}
	/* Bytes that are not UTF-8 are kept as they are. */
	ck_assert_int_eq(pgsse_query_parse("a=%ff%fe&a=2", &q), PGSSE_OK);
	ck_assert_str_eq(pgsse_query_get(&q, "a"), "\xff\xfe");
	pgsse_query_free(&q);
	ck_assert_int_eq(pgsse_query_parse("channel=..%2F..%2Fetc&x=%0D%0A",
	    &q), PGSSE_OK);
	ck_assert_str_eq(pgsse_query_get(&q, "channel"), "../../etc");
	ck_assert_str_eq(pgsse_query_get(&q, "x"), "\r\n");
	ck_assert(!pgsse_name_channel_ok(pgsse_query_get(&q, "channel")));
	pgsse_query_free(&q);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("query");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, query_parses);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, query_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, query_hostile);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
