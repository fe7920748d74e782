/* check_users.c: lib/users.c, clients filed by user name */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "harness.h"
#include "extern.h"

/* Names past the first table's buckets, so that it grows. */
#define NAMES 1000

/*
 * Each name finds its own clients only, through growth and removal; a
 * name leaves with its last client.
 */
START_TEST(users_core)
{
	struct pgsse_users	*u = pgsse_users_new();
	static int		 cl[NAMES][2];
	void *const		*v;
	char			 name[32];
	size_t			 i, n;

	ck_assert_ptr_nonnull(u);
	for (i = 0; i < NAMES; i++) {
		snprintf(name, sizeof(name), "user%zu", i);
		ck_assert_int_eq(pgsse_users_add(u, name, &cl[i][0]), PGSSE_OK);
		ck_assert_int_eq(pgsse_users_add(u, name, &cl[i][1]), PGSSE_OK);
	}
	ck_assert_uint_eq(pgsse_users_count(u), NAMES);
	for (i = 0; i < NAMES; i++) {
		snprintf(name, sizeof(name), "user%zu", i);
		v = pgsse_users_find(u, name, &n);
		ck_assert_uint_eq(n, 2);
		ck_assert(v[0] == &cl[i][0] || v[1] == &cl[i][0]);
		ck_assert(v[0] == &cl[i][1] || v[1] == &cl[i][1]);
	}
	ck_assert_ptr_null(pgsse_users_find(u, "nobody", &n));
	ck_assert_uint_eq(n, 0);
	pgsse_users_remove(u, "user7", &cl[7][0]);
	pgsse_users_remove(u, "user7", &cl[8][0]);	/* not there */
	pgsse_users_remove(u, "nobody", &cl[7][0]);
	v = pgsse_users_find(u, "user7", &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_eq(v[0], &cl[7][1]);
	pgsse_users_remove(u, "user7", &cl[7][1]);
	ck_assert_ptr_null(pgsse_users_find(u, "user7", &n));
	ck_assert_uint_eq(pgsse_users_count(u), NAMES - 1);
	pgsse_users_free(u);
	pgsse_users_free(NULL);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("users");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, users_core);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
