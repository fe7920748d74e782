/* check_name.c: lib/name.c */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "harness.h"

START_TEST(names_good)
{
	char	 z[80];

	ck_assert(pgsse_name_channel_ok("demos"));
	ck_assert(pgsse_name_channel_ok("a"));
	ck_assert(pgsse_name_channel_ok("a_1"));
	ck_assert(pgsse_name_event_ok("operation_started"));
	memset(z, 'a', 63);
	z[63] = '\0';
	ck_assert(pgsse_name_channel_ok(z));
	z[63] = 'a';
	z[64] = '\0';
	ck_assert(!pgsse_name_channel_ok(z));
	ck_assert(pgsse_name_event_ok(z));
	z[64] = 'a';
	z[65] = '\0';
	ck_assert(!pgsse_name_event_ok(z));
}
END_TEST

START_TEST(names_hostile)
{
	static const char *const bad[] = {
		"", "1abc", "_a", "Demos", "de-mos", "a b", "a\n", "a\r",
		"a;drop table x", "a'", "a\"", "../etc", "a/b", "\xc3\xa9t\xc3\xa9",
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!pgsse_name_channel_ok(bad[i]), "%s", bad[i]);
		ck_assert_msg(!pgsse_name_event_ok(bad[i]), "%s", bad[i]);
	}
	ck_assert(!pgsse_name_channel_ok(NULL));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("name");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, names_good);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, names_hostile);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
