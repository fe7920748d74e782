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
	h_pg_load("demo/schema.sql");
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

/*
 * The demo's pages, byte for byte: tests/data/demo-fragments.txt holds
 * every route's answer (status, htmx headers, body) over a fixed set of
 * demos, jobs and events, as the demo's C program answered them before
 * the demo became an app folder. PGSSE_GOLDEN_WRITE=1 rewrites it.
 */
static struct h_pg	 gpg;
static struct h_web	 gweb;

static void
golden_up(void)
{
	PGconn	*c;
	char	 sql[8192], big[PGSSE_FRAGMENT_FIELD_MAX + 200];

	h_pg_start(&gpg, NULL);
	h_pg_load("demo/schema.sql");
	c = h_pg_connect();
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(sql, sizeof(sql), "insert into pgsse_demo.demos (id, name, "
	    "description, installed) values ('evil', '<img src=x "
	    "onerror=\"a&b\">', '<script>x</script> & ''q''', false), "
	    "('long', 'Long', '%s', true); update pgsse_demo.demos set "
	    "installed = true where id = 'kanban'", big);
	h_exec(c, sql);
	PQfinish(c);
	h_web_start(&gweb, NULL);
}

static void
golden_down(void)
{
	h_web_stop(&gweb);
	h_pg_stop(&gpg);
}

/* Appends z to the string *out (which it reallocates). */
static void
golden_cat(char **out, const char *z, size_t n)
{
	size_t	 len = strlen(*out);

	ck_assert_ptr_nonnull(*out = realloc(*out, len + n + 1));
	memcpy(*out + len, z, n);
	(*out)[len + n] = '\0';
}

/*
 * Appends to *out what method path answered: the request, the status,
 * the HX-Retarget and HX-Reswap headers and the body, with the status
 * card's database time and server version masked.
 */
static void
golden_add(char **out, const char *method, const char *path,
    const char *hdrs)
{
	static const char *const hx[] = { "HX-Retarget: ", "HX-Reswap: " };
	static const char *const mask[] = { "<dt>Database time</dt><dd>",
	    "<dt>PostgreSQL</dt><dd>" };
	char	*r, *body, *p, *q, line[1024];
	size_t	 i;
	int	 st;

	st = h_http(gweb.port, method, path, hdrs, NULL, REQ_TIMEOUT_SEC, &r);
	ck_assert_ptr_nonnull(body = strstr(r, "\r\n\r\n"));
	*body = '\0';
	body += 4;
	for (i = 0; i < 2; i++)
		if ((p = strstr(body, mask[i])) != NULL &&
		    (q = strstr(p, "</dd>")) != NULL) {
			p += strlen(mask[i]);
			*p++ = 'X';
			memmove(p, q, strlen(q) + 1);
		}
	snprintf(line, sizeof(line), "== %s %s\n%d\n", method, path, st);
	golden_cat(out, line, strlen(line));
	for (i = 0; i < 2; i++)
		if ((p = strstr(r, hx[i])) != NULL) {
			golden_cat(out, p, strcspn(p, "\r\n"));
			golden_cat(out, "\n", 1);
		}
	golden_cat(out, body, strlen(body));
	free(r);
}

/* Events before the log lines, and after them. */
static const char *const events[][3] = {
	{ "job", "progress", "{\"job_id\":1,\"percent\":25,\"step\":"
	    "\"fetching\"}" },
	{ "job", "progress", "{\"job_id\":1,\"percent\":50,\"step\":"
	    "\"<unpacking> & \\\"more\\\"\"}" },
	{ "job", "progress", "{\"job_id\":3,\"percent\":75,\"step\":"
	    "\"checking\"}" },
};
static const char *const checks[][3] = {
	{ "validation", "check_result", "{\"check\":\"before\",\"ok\":true,"
	    "\"detail\":\"not shown\"}" },
	{ "operations", "operation_status", "{\"job_id\":3,\"kind\":"
	    "\"validation\",\"state\":\"running\"}" },
	{ "validation", "check_result", "{\"check\":\"a <b>\",\"ok\":true,"
	    "\"detail\":\"ok\"}" },
	{ "validation", "check_result", "{\"check\":\"c\",\"ok\":false,"
	    "\"detail\":\"it & <failed>\"}" },
	{ "validation", "validation_error", "{\"error\":\"database "
	    "<unreachable>\"}" },
	{ "validation", "validation_complete", "{\"passed\":1,\"failed\":1}" },
	{ "status", "system_status", "{\"status\":\"<ok>\",\"uptime\":3}" },
};

START_TEST(fragments_same_html)
{
	PGconn	*c = h_pg_connect();
	char	*out = strdup(""), *r, *want, tok[256], hdr[1024], path[600];
	FILE	*f;
	long	 n;
	int	 i;

	golden_add(&out, "GET", "/validation/results", NULL);
	golden_add(&out, "GET", "/logs/tail", NULL);
	h_exec(c, "select pgsse.enqueue('demo_install', '{\"demo_id\": "
	    "\"chat\", \"name\": \"Chat room\"}', 'demo:chat'); "
	    "select pgsse.enqueue('demo_uninstall', '{\"demo_id\": \"kanban\","
	    " \"name\": \"Kanban <board>\"}', 'demo:kanban'); "
	    "select pgsse.enqueue('validation', '{}', 'validation'); "
	    "select pgsse.enqueue('nothing', '{}'); "
	    "select pgsse.enqueue('demo_install', '{\"demo_id\": \"dashboard\","
	    " \"name\": \"Metrics\"}', 'demo:dashboard'); "
	    "update pgsse.jobs set state = 'running' where id = 1; "
	    "update pgsse.jobs set state = 'succeeded', finished_at = now() "
	    "where id = 2; update pgsse.jobs set state = 'failed', "
	    "finished_at = now() where id = 3; update pgsse.jobs set state = "
	    "'succeeded', finished_at = now() - interval '1 hour' where id = 5; "
	    "update pgsse.jobs set created_at = now() - interval '1 hour'");
	for (i = 0; i < (int)(sizeof(events) / sizeof(events[0])); i++)
		h_publish(c, events[i][0], events[i][1], events[i][2]);
	for (i = 0; i < 5; i++) {
		snprintf(hdr, sizeof(hdr), "{\"source\":\"s%d\",\"line\":"
		    "\"line <%d> & 'x'\"}", i, i);
		h_publish(c, "logs", "log", hdr);
	}
	for (i = 0; i < (int)(sizeof(checks) / sizeof(checks[0])); i++)
		h_publish(c, checks[i][0], checks[i][1], checks[i][2]);
	golden_add(&out, "GET", "/status/content", NULL);
	golden_add(&out, "GET", "/demos/grid", NULL);
	golden_add(&out, "GET", "/jobs/active", NULL);
	for (i = 1; i <= 5; i++) {
		snprintf(path, sizeof(path), "/jobs/%d", i);
		golden_add(&out, "GET", path, NULL);
	}
	golden_add(&out, "GET", "/logs/tail", NULL);
	golden_add(&out, "GET", "/logs/tail?n=2", NULL);
	golden_add(&out, "GET", "/logs/tail?n=200", NULL);
	golden_add(&out, "GET", "/validation/results", NULL);
	h_http(gweb.port, "GET", "/status/content", NULL, NULL,
	    REQ_TIMEOUT_SEC, &r);
	csrf_cookie(r, tok, sizeof(tok));
	free(r);
	snprintf(hdr, sizeof(hdr), "HX-Request: true\r\nOrigin: "
	    "http://127.0.0.1:%d\r\nCookie: pgsse_csrf=%s\r\nX-CSRF-Token: %s"
	    "\r\n", gweb.port, tok, tok);
	golden_add(&out, "POST", "/demos/todo/install", hdr);
	golden_add(&out, "POST", "/demos/todo/install", hdr);
	golden_add(&out, "POST", "/demos/chat/uninstall", hdr);
	golden_add(&out, "POST", "/demos/evil/uninstall", hdr);
	golden_add(&out, "POST", "/validation/run", hdr);
	h_exec(c, "update pgsse.jobs set state = 'succeeded', finished_at = "
	    "now(), created_at = now() - interval '1 hour' where kind = "
	    "'validation'");
	golden_add(&out, "POST", "/validation/run", hdr);
	golden_add(&out, "POST", "/validation/run", hdr);
	PQfinish(c);
	snprintf(path, sizeof(path), "%s/tests/data/demo-fragments.txt",
	    h_srcdir());
	if (getenv("PGSSE_GOLDEN_WRITE") != NULL) {
		ck_assert_ptr_nonnull(f = fopen(path, "w"));
		fputs(out, f);
		fclose(f);
	}
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	ck_assert_ptr_nonnull(want = calloc(1, (size_t)n + 1));
	ck_assert_int_eq(fread(want, 1, (size_t)n, f), n);
	fclose(f);
	ck_assert_msg(strcmp(out, want) == 0, "the demo's answers differ "
	    "from %s; they are:\n%s", path, out);
	free(want);
	free(out);
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
	tc = tcase_create("same");
	tcase_add_unchecked_fixture(tc, golden_up, golden_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fragments_same_html);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
