/* check_redact.c: lib/redact.c */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "harness.h"

/* Returns conninfo z redacted; the caller frees it. */
static char *
redacted(const char *z)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };

	ck_assert_int_eq(pgsse_redact_conninfo(&b, z), PGSSE_OK);
	return b.p != NULL ? b.p : strdup("");
}

static const char *const cases[][2] = {
	{ "host=h password=pw1234 user=u", "host=h password=***** user=u" },
	{ "password = 'a b\\' c' port=5", "password = ***** port=5" },
	{ "PASSWORD=x sslpassword=yyyy", "PASSWORD=***** sslpassword=*****" },
	{ "host=h password", "host=h password" },
	{ "host=h password secret rest", "host=h password *****" },
	{ "postgresql://u:pw@h:5/db", "postgresql://u:*****@h:5/db" },
	{ "postgres://u@h/db?password=pw&sslmode=off",
	    "postgres://u@h/db?password=*****&sslmode=off" },
	{ "postgresql://u:p/w@h/db", "postgresql://u:*****@h/db" },
	{ "postgresql://u:a@b@h/db", "postgresql://u:*****@h/db" },
	{ "postgresql://h:5/db", "postgresql://h:5/db" },
	/* libpq decodes a URI parameter's name as well as its value. */
	{ "postgresql:///db?pass%77ord=hunter22", "postgresql:///db?pass%77ord=*****" },
	{ "postgresql:///db?%73slpassword=x&a=b", "postgresql:///db?%73slpassword=*****&a=b" },
	{ "postgresql:///db?%70%61%73%73%77%6F%72%64=x", "postgresql:///db?%70%61%73%73%77%6F%72%64=*****" },
	{ "postgresql:///db?host%3d=x", "postgresql:///db?host%3d=x" },
	{ "postgresql:///db?pass%zzord=x", "postgresql:///db?pass%zzord=*****" },
	{ "", "" },
};

START_TEST(redact_conninfo)
{
	char	*z = redacted(cases[_i][0]);

	ck_assert_str_eq(z, cases[_i][1]);
	free(z);
	z = redacted(NULL);
	ck_assert_str_eq(z, "");
	free(z);
}
END_TEST

/* A message loses each secret as written, decoded, and PGPASSWORD. */
START_TEST(redact_message)
{
	char	 out[256];

	unsetenv("PGPASSWORD");
	pgsse_redact_message(out, sizeof(out), "invalid token: \"s%41cret\" "
	    "and sAcret", "postgresql://u:s%41cret@h/db");
	ck_assert_str_eq(out, "invalid token: \"*****\" and *****");
	pgsse_redact_message(out, sizeof(out), "x 'q\\'uote' q'uote",
	    "password='q\\'uote'");
	ck_assert_str_eq(out, "x ***** *****");
	setenv("PGPASSWORD", "envsecret", 1);
	pgsse_redact_message(out, sizeof(out), "got envsecret!", NULL);
	ck_assert_str_eq(out, "got *****!");
	unsetenv("PGPASSWORD");
	/* Too short to hide without losing the message's letters. */
	pgsse_redact_message(out, sizeof(out), "a e i", "password=e");
	ck_assert_str_eq(out, "a e i");
}
END_TEST

/* A mask that does not fit cuts the message rather than leak. */
START_TEST(redact_message_small)
{
	char	 out[12];

	pgsse_redact_message(out, sizeof(out), "0123456secret", "password="
	    "secret");
	ck_assert_str_eq(out, "0123456****");
	pgsse_redact_message(out, sizeof(out), "01secret23456789",
	    "password=secret");
	ck_assert_str_eq(out, "01*****2345");
	pgsse_redact_message(out, 0, "x", NULL);
}
END_TEST

static Suite *
redact_suite(void)
{
	Suite	*s = suite_create("redact");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, redact_conninfo, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, redact_message);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, redact_message_small);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(redact_suite());
}
