/*
 * check_fragments.c: the demo's fragments and actions through the real
 * lighttpd and pgsse-app, run with the web role: every fragment's rows
 * and fields are bounded, and actions answer 429 past their cooldown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "harness.h"
#include "pgsse.h"

/* Seconds a request may take before the test gives up on it. */
#define REQ_TIMEOUT_SEC 20

static struct h_pg	 pg;
static struct h_web	 web;

static void
stack_up(void)
{
	h_pg_start(&pg, NULL);
	h_pg_load("sql/demo.sql");
	h_web_start(&web, NULL);
}

static void
stack_down(void)
{
	h_web_stop(&web);
	h_pg_stop(&pg);
}

/*
 * Sends one request (method, path, extra header lines, body) and
 * returns the whole answer, headers included, which the caller frees.
 */
static char *
request(const char *method, const char *path, const char *headers,
    const char *body)
{
	static char	*resp;	/* not a local: gcc 12 sees a dangling one */

	h_http(web.port, method, path, headers, body, REQ_TIMEOUT_SEC, &resp);
	return resp;
}

/* Returns how often needle occurs in z. */
static size_t
occurs(const char *z, const char *needle)
{
	size_t	 n = 0;

	while ((z = strstr(z, needle)) != NULL) {
		n++;
		z += strlen(needle);
	}
	return n;
}

/*
 * /validation/results shows at most PGSSE_FRAGMENT_ROWS_MAX checks of
 * at most PGSSE_FRAGMENT_FIELD_MAX bytes of detail each, however many
 * and however large the events are.
 */
START_TEST(fragments_bounded)
{
	PGconn	*c = h_pg_connect();
	char	*big, *r;
	size_t	 i;

	ck_assert_ptr_nonnull(big = malloc(300000));
	memcpy(big, "{\"check\":\"c\",\"ok\":true,\"detail\":\"", 33);
	memset(big + 33, 'x', 200000);
	strcpy(big + 33 + 200000, "\"}");
	h_publish(c, "operations", "operation_status", "{\"job_id\":1,"
	    "\"kind\":\"validation\",\"state\":\"running\"}");
	for (i = 0; i < 10; i++)
		h_publish(c, "validation", "check_result", big);
	for (i = 0; i < PGSSE_FRAGMENT_ROWS_MAX + 50; i++)
		h_publish(c, "validation", "check_result", "{\"check\":\"c\","
		    "\"ok\":true,\"detail\":\"small\"}");
	r = request("GET", "/validation/results", "", "");
	ck_assert_msg(strncmp(r, "HTTP/1.0 200", 12) == 0, "%.200s", r);
	ck_assert_uint_le(occurs(r, "<li"), PGSSE_FRAGMENT_ROWS_MAX);
	ck_assert_uint_ge(occurs(r, "<li"), 10);
	ck_assert_uint_le(strlen(r), PGSSE_FRAGMENT_ROWS_MAX * 200 +
	    10 * PGSSE_FRAGMENT_FIELD_MAX);
	free(r);
	free(big);
	PQfinish(c);
}
END_TEST

/* Copies the pgsse_csrf cookie that answer r sets into tok. */
static void
csrf_cookie(const char *r, char *tok, size_t len)
{
	const char	*z = strstr(r, "pgsse_csrf=");

	ck_assert_msg(z != NULL, "no CSRF cookie in %.300s", r);
	z += strlen("pgsse_csrf=");
	snprintf(tok, len, "%.*s", (int)strcspn(z, ";\r\n"), z);
}

/*
 * An action repeated right after its job finished is refused with 429
 * and Retry-After, and enqueues nothing.
 */
START_TEST(action_cooldown)
{
	PGconn		*c = h_pg_connect();
	PGresult	*res;
	char		*r, tok[256], hdr[1024];

	r = request("GET", "/status/content", "", "");
	csrf_cookie(r, tok, sizeof(tok));
	free(r);
	snprintf(hdr, sizeof(hdr), "HX-Request: true\r\nOrigin: "
	    "http://127.0.0.1:%d\r\nCookie: pgsse_csrf=%s\r\nX-CSRF-Token: %s"
	    "\r\n", web.port, tok, tok);
	r = request("POST", "/validation/run", hdr, "");
	ck_assert_msg(strncmp(r, "HTTP/1.0 200", 12) == 0, "%.300s", r);
	free(r);
	h_exec(c, "update pgsse.jobs set state = 'succeeded', finished_at = "
	    "now() where kind = 'validation'");
	r = request("POST", "/validation/run", hdr, "");
	ck_assert_msg(strncmp(r, "HTTP/1.0 429", 12) == 0, "%.300s", r);
	ck_assert_ptr_nonnull(strstr(r, "Retry-After: "));
	free(r);
	res = PQexec(c, "select count(*) from pgsse.jobs where kind = "
	    "'validation'");
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "1");
	PQclear(res);
	PQfinish(c);
}
END_TEST

/* A query string over PGSSE_QUERY_MAX is 414, as the stream says too. */
START_TEST(fragment_query_too_long)
{
	char	*path, *r;

	ck_assert_ptr_nonnull(path = malloc(PGSSE_QUERY_MAX + 64));
	strcpy(path, "/logs/tail?n=");
	memset(path + 13, '1', PGSSE_QUERY_MAX);
	path[13 + PGSSE_QUERY_MAX] = '\0';
	r = request("GET", path, "", "");
	ck_assert_msg(strncmp(r, "HTTP/1.0 414", 12) == 0, "%.200s", r);
	free(r);
	free(path);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("fragments");
	TCase	*tc = tcase_create("demo");

	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fragments_bounded);
	tcase_add_test(tc, action_cooldown);
	tcase_add_test(tc, fragment_query_too_long);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
