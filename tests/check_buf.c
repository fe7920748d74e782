/* check_buf.c: lib/buf.c */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "harness.h"

START_TEST(buf_appends)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	int			 i;

	ck_assert_int_eq(pgsse_buf_puts(&b, "ab"), PGSSE_OK);
	ck_assert_int_eq(pgsse_buf_printf(&b, "%d-%s", 42, "x"), PGSSE_OK);
	ck_assert_str_eq(b.p, "ab42-x");
	ck_assert_uint_eq(b.len, 6);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(pgsse_buf_put(&b, "0123456789", 10), PGSSE_OK);
	ck_assert_uint_eq(b.len, 10006);
	ck_assert_uint_eq(strlen(b.p), 10006);
	pgsse_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.p, "");
	pgsse_buf_free(&b);
	ck_assert_ptr_null(b.p);
	pgsse_buf_free(NULL);
	pgsse_buf_reset(NULL);
}
END_TEST

/*
 * Formatted text that fits the room left, fills it to the byte, or
 * passes it by one: each time the whole text, NUL-terminated, and what
 * was there before it kept; text past the limit leaves the buffer as
 * it was.
 */
START_TEST(buf_printf_room)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	char			 want[600];
	size_t			 room, len;
	int			 k;

	ck_assert_int_eq(pgsse_buf_puts(&b, "ab"), PGSSE_OK);
	for (k = -1; k <= 1; k++) {
		pgsse_buf_reset(&b);
		ck_assert_int_eq(pgsse_buf_puts(&b, "ab"), PGSSE_OK);
		room = b.cap - b.len - 1;	/* text that fills it to the byte */
		len = room + k;
		memset(want, 'x', len);
		want[len] = '\0';
		ck_assert_int_eq(pgsse_buf_printf(&b, "%s", want), PGSSE_OK);
		ck_assert_uint_eq(b.len, 2 + len);
		ck_assert_uint_eq(strlen(b.p), 2 + len);
		ck_assert(strncmp(b.p, "ab", 2) == 0 &&
		    strcmp(b.p + 2, want) == 0);
	}
	len = b.len;
	ck_assert_int_eq(pgsse_buf_printf(&b, "%0*d", 70 * 1024 * 1024, 1),
	    PGSSE_ERR_NOMEM);
	ck_assert_uint_eq(b.len, len);
	ck_assert_uint_eq(strlen(b.p), len);
	pgsse_buf_free(&b);
}
END_TEST

START_TEST(buf_refuses_huge)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };

	ck_assert_int_eq(pgsse_buf_put(&b, "x", (size_t)-1 / 2),
	    PGSSE_ERR_NOMEM);
	ck_assert_uint_eq(b.len, 0);
	pgsse_buf_free(&b);
}
END_TEST

START_TEST(err_strings)
{
	int	 i;

	for (i = 0; i < PGSSE_ERR__MAX; i++)
		ck_assert_ptr_nonnull(pgsse_err_str((enum pgsse_err)i));
	ck_assert_str_eq(pgsse_err_str(PGSSE_OK), "ok");
	ck_assert_str_eq(pgsse_err_str((enum pgsse_err)999), "unknown error");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, buf_appends);
	tcase_add_test(tc, buf_printf_room);
	tcase_add_test(tc, err_strings);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, buf_refuses_huge);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
