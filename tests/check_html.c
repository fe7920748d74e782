/* check_html.c: lib/html.c */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "harness.h"

START_TEST(html_escapes)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };

	ck_assert_int_eq(pgsse_html_text(&b,
	    "<script>alert('x') & \"y\"</script>"), PGSSE_OK);
	ck_assert_str_eq(b.p, "&lt;script&gt;alert(&#39;x&#39;) &amp; "
	    "&quot;y&quot;&lt;&#x2F;script&gt;");
	pgsse_buf_reset(&b);
	ck_assert_int_eq(pgsse_html_text(&b, "a=`b`/c"), PGSSE_OK);
	ck_assert_str_eq(b.p, "a&#x3D;&#x60;b&#x60;&#x2F;c");
	pgsse_buf_reset(&b);
	ck_assert_int_eq(pgsse_html_text(&b, "plain"), PGSSE_OK);
	ck_assert_int_eq(pgsse_html_trusted(&b, "<b>"), PGSSE_OK);
	ck_assert_str_eq(b.p, "plain<b>");
	pgsse_buf_reset(&b);
	ck_assert_int_eq(pgsse_html_text(&b, ""), PGSSE_OK);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(pgsse_html_textn(&b, "a\0<", 3), PGSSE_OK);
	ck_assert_uint_eq(b.len, 6);
	ck_assert_mem_eq(b.p, "a\0&lt;", 6);
	pgsse_buf_free(&b);
}
END_TEST

START_TEST(html_printf_escapes_arguments)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	const char *volatile	 nul = NULL;	/* hidden from -Wformat */

	ck_assert_int_eq(pgsse_html_printf(&b, "<li id=\"d-%s\">%s %d%% %ld "
	    "%lld %u</li>", "x\"><script>", "<b>&", -3, 4L, 5LL, 6u), PGSSE_OK);
	ck_assert_str_eq(b.p, "<li id=\"d-x&quot;&gt;&lt;script&gt;\">&lt;b&gt;"
	    "&amp; -3% 4 5 6</li>");
	pgsse_buf_reset(&b);
	ck_assert_int_eq(pgsse_html_printf(&b, "%s", nul), PGSSE_OK);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(pgsse_html_printf(&b, "%x", 1), PGSSE_ERR_INVAL);
	pgsse_buf_free(&b);
}
END_TEST

START_TEST(html_no_markup_survives)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	char			 z[256];
	int			 i, j;

	srand(7);
	for (i = 0; i < 5000; i++) {
		for (j = 0; j < 255; j++)
			z[j] = (char)(1 + rand() % 255);
		z[255] = '\0';
		pgsse_buf_reset(&b);
		ck_assert_int_eq(pgsse_html_text(&b, z), PGSSE_OK);
		ck_assert_ptr_null(strpbrk(b.p, "<>\"'`=/"));
	}
	pgsse_buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("html");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, html_escapes);
	tcase_add_test(tc, html_printf_escapes_arguments);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, html_no_markup_survives);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
