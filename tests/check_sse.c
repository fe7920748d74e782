/* check_sse.c: lib/sse.c, round-tripped through tests/sseparse.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "harness.h"
#include "sseparse.h"

struct got {
	int	 n;
	char	 id[256];
	char	 event[128];
	char	*data;
	size_t	 datalen;
};

static void
on_msg(const struct sse_msg *m, void *arg)
{
	struct got	*g = arg;

	g->n++;
	snprintf(g->id, sizeof(g->id), "%s", m->id);
	snprintf(g->event, sizeof(g->event), "%s", m->event);
	free(g->data);
	g->data = strdup(m->data);
	g->datalen = strlen(m->data);
}

/* Encodes one event, decodes it, and returns what a browser sees. */
static struct got
roundtrip(const char *id, const char *event, const char *data, size_t len)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	struct sse_parser	 p;
	struct got		 g;

	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(pgsse_sse_event(&b, id, event, data, len), PGSSE_OK);
	sse_parser_init(&p, on_msg, &g);
	sse_parser_feed(&p, b.p, b.len);
	sse_parser_free(&p);
	pgsse_buf_free(&b);
	return g;
}

START_TEST(sse_wire_format)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };

	ck_assert_int_eq(pgsse_sse_event(&b, "7", "system_status",
	    "{\"a\":1}", 7), PGSSE_OK);
	ck_assert_str_eq(b.p,
	    "id: 7\nevent: system_status\ndata: {\"a\":1}\n\n");
	pgsse_buf_reset(&b);
	ck_assert_int_eq(pgsse_sse_event(&b, NULL, "log", "a\nb", 3),
	    PGSSE_OK);
	ck_assert_str_eq(b.p, "event: log\ndata: a\ndata: b\n\n");
	pgsse_buf_reset(&b);
	ck_assert_int_eq(pgsse_sse_retry(&b, 2000), PGSSE_OK);
	ck_assert_int_eq(pgsse_sse_comment(&b, "hi"), PGSSE_OK);
	ck_assert_str_eq(b.p, "retry: 2000\n\n: hi\n\n");
	pgsse_buf_free(&b);
}
END_TEST

START_TEST(sse_roundtrip)
{
	struct got	 g;

	g = roundtrip("12", "installed", "{\"demo_id\":\"d1\"}", 16);
	ck_assert_int_eq(g.n, 1);
	ck_assert_str_eq(g.id, "12");
	ck_assert_str_eq(g.event, "installed");
	ck_assert_str_eq(g.data, "{\"demo_id\":\"d1\"}");
	free(g.data);
}
END_TEST

START_TEST(sse_refuses_breaks_in_fields)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };

	ck_assert_int_eq(pgsse_sse_event(&b, "1\nevent: evil", "log", "x", 1),
	    PGSSE_ERR_INVAL);
	ck_assert_int_eq(pgsse_sse_event(&b, "1\r", "log", "x", 1),
	    PGSSE_ERR_INVAL);
	ck_assert_int_eq(pgsse_sse_event(&b, "1", "log\ndata: x", "x", 1),
	    PGSSE_ERR_INVAL);
	ck_assert_int_eq(pgsse_sse_event(&b, "1", "Log", "x", 1),
	    PGSSE_ERR_INVAL);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(pgsse_sse_comment(&b, "a\r\nevent: x\n\ndata: y"),
	    PGSSE_OK);
	ck_assert_ptr_null(strchr(b.p + 2, '\r'));
	ck_assert_ptr_eq(strstr(b.p, "\n"), b.p + b.len - 2);
	pgsse_buf_free(&b);
}
END_TEST

/*
 * Property: for any data, with any mix of CR, LF, CRLF and NUL, exactly
 * one event arrives, with the same name and id, and data equal to the
 * input with every line break normalised to LF and NUL to U+FFFD.
 */
START_TEST(sse_property_hostile_data)
{
	static const char	 alphabet[] = "ab\r\n\n\r:\0 event: id: data";
	char			 data[512], want[2048];
	struct got		 g;
	size_t			 len, i, w;
	int			 iter;

	srand(1234);
	for (iter = 0; iter < 20000; iter++) {
		len = (size_t)rand() % sizeof(data);
		for (i = 0; i < len; i++)
			data[i] = alphabet[rand() % (sizeof(alphabet) - 1)];
		for (i = w = 0; i < len; i++) {
			if (data[i] == '\r') {
				want[w++] = '\n';
				if (i + 1 < len && data[i + 1] == '\n')
					i++;
			} else if (data[i] == '\0') {
				memcpy(want + w, "\xef\xbf\xbd", 3);
				w += 3;
			} else
				want[w++] = data[i];
		}
		want[w] = '\0';
		g = roundtrip("99", "log", data, len);
		ck_assert_int_eq(g.n, 1);
		ck_assert_str_eq(g.event, "log");
		ck_assert_str_eq(g.id, "99");
		ck_assert_uint_eq(g.datalen, w);
		ck_assert_mem_eq(g.data, want, w);
		free(g.data);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("sse");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, sse_wire_format);
	tcase_add_test(tc, sse_roundtrip);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, sse_refuses_breaks_in_fields);
	tcase_add_test(tc, sse_property_hostile_data);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
