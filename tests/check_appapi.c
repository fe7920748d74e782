/*
 * check_appapi: the public fragment API (pgsse-app.h) in-process,
 * without a server or a database, the way kcgi's regress programs do
 * it: each case runs pgsse_app_main as a plain CGI program in a child,
 * with the request in its environment and standard input, and checks
 * what it wrote. Links the installed library's public symbols only.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "pgsse-app.h"

/* Bytes of one CGI answer the test reads at most. */
#define ANSWER_MAX 65536

/* What a route saw, reported through the body: the cases assert it. */
static enum pgsse_http_status
r_echo(pgsse_app *a)
{
	pgsse_app_html(a, "path=%s a=%s b=%s c=%s q=%s user=%s target=%s "
	    "method=%s pw=%s\n", pgsse_app_path(a), pgsse_app_arg(a, "a"),
	    pgsse_app_arg(a, "b"), pgsse_app_arg(a, "c") ? "set" : "none",
	    pgsse_app_get(a, "q"), pgsse_app_user(a),
	    pgsse_app_param(a, "HTTP_HX_TARGET"),
	    pgsse_app_param(a, "REQUEST_METHOD"),
	    pgsse_app_param(a, "PGPASSWORD"));
	return PGSSE_HTTP_200;
}

static enum pgsse_http_status
r_cookie(pgsse_app *a)
{
	char		 v[8];
	enum pgsse_err	 er;

	er = pgsse_app_cookie(a, "y", v, sizeof(v));
	pgsse_app_html(a, "y=%s er=%d ", er == PGSSE_OK ? v : "", (int)er);
	er = pgsse_app_cookie(a, "long", v, sizeof(v));
	pgsse_app_html(a, "long=%d ", er == PGSSE_ERR_LIMIT);
	er = pgsse_app_cookie(a, "none", v, sizeof(v));
	pgsse_app_html(a, "none=%d\n", er == PGSSE_ERR_NOTFOUND);
	return PGSSE_HTTP_200;
}

/* Every header a route cannot forge is refused, and says so. */
static enum pgsse_http_status
r_headers(pgsse_app *a)
{
	pgsse_app_html(a, "crlf=%d ", pgsse_app_header(a, "X-A",
	    "v\r\nSet-Cookie: evil=1") == PGSSE_ERR_INVAL);
	pgsse_app_html(a, "lf=%d ", pgsse_app_header(a, "X-A", "v\nX: y") ==
	    PGSSE_ERR_INVAL);
	pgsse_app_html(a, "space=%d ", pgsse_app_header(a, "X A", "v") ==
	    PGSSE_ERR_INVAL);
	pgsse_app_html(a, "status=%d ", pgsse_app_header(a, "status", "200") ==
	    PGSSE_ERR_INVAL);
	pgsse_app_html(a, "ctype=%d ", pgsse_app_header(a, "Content-Type",
	    "text/javascript") == PGSSE_ERR_INVAL);
	pgsse_app_html(a, "hx=%d ", pgsse_app_header(a, "HX-Trigger", "x") ==
	    PGSSE_ERR_INVAL);
	pgsse_app_html(a, "ok=%d ", pgsse_app_header(a, "X-Frame-Options",
	    "DENY") == PGSSE_OK);
	pgsse_app_html(a, "server=%d ", pgsse_app_header(a, "Location",
	    "/internal") == PGSSE_ERR_INVAL && pgsse_app_header(a,
	    "x-accel-redirect", "/internal") == PGSSE_ERR_INVAL &&
	    pgsse_app_header(a, "X-Sendfile", "/etc/passwd") ==
	    PGSSE_ERR_INVAL && pgsse_app_header(a, "Content-Length", "0") ==
	    PGSSE_ERR_INVAL && pgsse_app_header(a, "Cache-Control",
	    "max-age=60") == PGSSE_ERR_INVAL && pgsse_app_header(a,
	    "X-Content-Type-Options", "x") == PGSSE_ERR_INVAL);
	pgsse_app_html(a, "hxlf=%d ", pgsse_app_hx(a, PGSSE_HX_REDIRECT,
	    "/x\r\nSet-Cookie: evil=1") == PGSSE_ERR_INVAL);
	pgsse_app_html(a, "hxempty=%d ", pgsse_app_hx(a, PGSSE_HX_RETARGET,
	    "") == PGSSE_ERR_INVAL);
	pgsse_app_html(a, "hxbad=%d ", pgsse_app_hx(a, PGSSE_HX__MAX, "x") ==
	    PGSSE_ERR_INVAL);
	pgsse_app_html(a, "js=%d ", pgsse_app_hx(a, PGSSE_HX_REDIRECT,
	    "JavaScript:alert(1)") == PGSSE_ERR_INVAL);
	pgsse_app_html(a, "data=%d ", pgsse_app_hx(a, PGSSE_HX_PUSH_URL,
	    "data:text/html,x") == PGSSE_ERR_INVAL);
	pgsse_app_html(a, "https=%d ", pgsse_app_hx(a, PGSSE_HX_REDIRECT,
	    "https://example.org/a:b") == PGSSE_OK);
	pgsse_app_html(a, "rel=%d ", pgsse_app_hx(a, PGSSE_HX_REDIRECT,
	    "/x?y=a:b") == PGSSE_OK);
	pgsse_app_html(a, "slashes=%d ", pgsse_app_hx(a, PGSSE_HX_REDIRECT,
	    "//evil.example/") == PGSSE_ERR_INVAL);
	pgsse_app_html(a, "backslash=%d\n", pgsse_app_hx(a, PGSSE_HX_PUSH_URL,
	    "/\\evil.example/") == PGSSE_ERR_INVAL);
	return PGSSE_HTTP_200;
}

static enum pgsse_http_status
r_hx(pgsse_app *a)
{
	pgsse_app_hx(a, PGSSE_HX_TRIGGER, "first");
	pgsse_app_hx(a, PGSSE_HX_TRIGGER, "{\"noteAdded\": {\"id\": 7}}");
	pgsse_app_hx(a, PGSSE_HX_RETARGET, "#job-7");
	pgsse_app_hx(a, PGSSE_HX_RESWAP, "outerHTML");
	pgsse_app_hx(a, PGSSE_HX_REDIRECT, "/done");
	pgsse_app_hx(a, PGSSE_HX_REFRESH, NULL);
	pgsse_app_hx(a, PGSSE_HX_PUSH_URL, "false");
	pgsse_app_html(a, "<p title=\"%s\">%s %d%% %ld</p>\n", "a\"b",
	    "<script>&", -3, 12L);
	return PGSSE_HTTP_200;
}

static enum pgsse_http_status
r_error(pgsse_app *a)
{
	pgsse_app_html(a, "<p>half a page</p>");
	return pgsse_app_error(a, PGSSE_HTTP_404, "no such thing");
}

/* An error is plain text even with 200, and escaped all the same
 * (htmx swaps a 2xx as HTML); 204 sends no body. */
static enum pgsse_http_status
r_plain(pgsse_app *a)
{
	return pgsse_app_error(a, PGSSE_HTTP_200, pgsse_app_get(a, "m"));
}

/* A refused conversion appends nothing of its format. */
static enum pgsse_http_status
r_badfmt(pgsse_app *a)
{
	pgsse_app_html(a, "<p>");
	pgsse_app_html(a, "<ul><li>%i</li></ul>", 3);
	pgsse_app_html(a, "</p>");
	return PGSSE_HTTP_200;
}

static enum pgsse_http_status
r_empty(pgsse_app *a)
{
	pgsse_app_html(a, "<p>dropped</p>");
	return PGSSE_HTTP_204;
}

static enum pgsse_http_status
r_form(pgsse_app *a)
{
	pgsse_app_html(a, "title=%s method=%d token=%s\n",
	    pgsse_app_form(a, "title"), (int)pgsse_app_method(a),
	    pgsse_app_csrf_token(a) ? "yes" : "no");
	return PGSSE_HTTP_200;
}

static const struct pgsse_route get_routes[] = {
	{ PGSSE_METHOD_GET, "/echo/<a>/<b>", r_echo },
	{ PGSSE_METHOD_GET, "/cookie", r_cookie },
	{ PGSSE_METHOD_GET, "/headers", r_headers },
	{ PGSSE_METHOD_GET, "/hx", r_hx },
	{ PGSSE_METHOD_GET, "/error", r_error },
	{ PGSSE_METHOD_GET, "/plain", r_plain },
	{ PGSSE_METHOD_GET, "/badfmt", r_badfmt },
	{ PGSSE_METHOD_GET, "/empty", r_empty },
	{ PGSSE_METHOD__MAX, NULL, NULL }
};

static const struct pgsse_route post_routes[] = {
	{ PGSSE_METHOD_GET, "/form", r_form },
	{ PGSSE_METHOD_POST, "/form", r_form },
	{ PGSSE_METHOD__MAX, NULL, NULL }
};

/* The answer of the last run, and its exit status. */
static char	 answer[ANSWER_MAX + 1];
static int	 status;

/*
 * Runs pgsse_app_main over routes as a CGI program in a child: env is
 * "NAME=value" strings ending with NULL, body its standard input.
 * Fills answer and status; returns the HTTP status, or -1.
 */
static int
run(const struct pgsse_route *routes, const char *const *env,
    const char *body)
{
	int	 out[2], in[2], st;
	size_t	 len = 0;
	ssize_t	 n;
	pid_t	 pid;
	char	*argv[] = { "t", NULL };
	const char *s;

	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(in), 0);
	if ((pid = fork()) == 0) {
		clearenv();
		for (; *env != NULL; env++)
			putenv((char *)*env);
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[1]);
		close(out[0]);
		_exit(pgsse_app_main("t", routes, 1, argv));
	}
	close(in[0]);
	close(out[1]);
	/* A program that refuses the request may exit without reading the
	 * body: its pipe is closed then (EPIPE), and the answer tells. */
	if (body != NULL && write(in[1], body, strlen(body)) < 0 &&
	    errno != EPIPE)
		ck_abort_msg("write: %s", strerror(errno));
	close(in[1]);
	while (len < ANSWER_MAX && (n = read(out[0], answer + len,
	    ANSWER_MAX - len)) > 0)
		len += (size_t)n;
	answer[len] = '\0';
	close(out[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (strncmp(answer, "Status: ", 8) != 0)
		return -1;
	s = answer + 8;
	return atoi(s);
}

#define GET(uri, qs) "REQUEST_METHOD=GET", "REQUEST_URI=" uri, \
	"QUERY_STRING=" qs

START_TEST(appapi_request)
{
	const char *const env[] = { GET("/echo/x%20y/2?q=a%26b", "q=a%26b"),
	    "REMOTE_USER=alice", "HTTP_HX_TARGET=#list", "PGPASSWORD=hunter2",
	    NULL };

	ck_assert_int_eq(run(get_routes, env, NULL), 200);
	ck_assert_msg(strstr(answer, "path=&#x2F;echo&#x2F;x%20y&#x2F;2 a=x y "
	    "b=2 c=none q=a&amp;b user=alice target=#list method=GET pw=\n") != NULL,
	    "%s", answer);
	ck_assert_int_eq(status, 0);
}
END_TEST

START_TEST(appapi_no_user)
{
	const char *const env[] = { GET("/echo/1/2", ""), "REMOTE_USER=",
	    NULL };

	ck_assert_int_eq(run(get_routes, env, NULL), 200);
	ck_assert_msg(strstr(answer, "user= ") != NULL, "%s", answer);
}
END_TEST

START_TEST(appapi_cookie)
{
	const char *const env[] = { GET("/cookie", ""),
	    "HTTP_COOKIE=x=1; y=2; long=0123456789", NULL };

	ck_assert_int_eq(run(get_routes, env, NULL), 200);
	ck_assert_msg(strstr(answer, "y=2 er=0 long=1 none=1\n") != NULL, "%s",
	    answer);
}
END_TEST

/* No header a route sets can split the response or override one of
 * the library's. */
START_TEST(appapi_headers_refused)
{
	const char *const env[] = { GET("/headers", ""), NULL };
	char	*body;

	ck_assert_int_eq(run(get_routes, env, NULL), 200);
	ck_assert_msg(strstr(answer, "crlf=1 lf=1 space=1 status=1 ctype=1 "
	    "hx=1 ok=1 server=1 hxlf=1 hxempty=1 hxbad=1 js=1 data=1 https=1 rel=1 slashes=1 backslash=1\n") != NULL, "%s", answer);
	ck_assert_ptr_nonnull(body = strstr(answer, "\r\n\r\n"));
	body[2] = '\0';
	ck_assert_msg(strstr(answer, "evil") == NULL, "%s", answer);
	ck_assert_msg(strstr(answer, "X-Frame-Options: DENY\r\n") != NULL,
	    "%s", answer);
	ck_assert_msg(strstr(answer, "text/javascript") == NULL, "%s", answer);
	ck_assert_msg(strstr(answer, "/internal") == NULL, "%s", answer);
	ck_assert_msg(strstr(answer, "Content-Length") == NULL, "%s", answer);
}
END_TEST

START_TEST(appapi_hx_and_html)
{
	const char *const env[] = { GET("/hx", ""), NULL };

	ck_assert_int_eq(run(get_routes, env, NULL), 200);
	ck_assert_msg(strstr(answer, "HX-Trigger: {\"noteAdded\": {\"id\": "
	    "7}}\r\n") != NULL, "%s", answer);
	ck_assert_msg(strstr(answer, "first") == NULL, "%s", answer);
	ck_assert_msg(strstr(answer, "HX-Retarget: #job-7\r\nHX-Reswap: "
	    "outerHTML\r\nHX-Redirect: /done\r\nHX-Refresh: true\r\n"
	    "HX-Push-Url: false\r\n") != NULL, "%s", answer);
	ck_assert_msg(strstr(answer, "Content-Type: text/html; charset=utf-8"
	    "\r\n") != NULL, "%s", answer);
	ck_assert_msg(strstr(answer, "\r\n\r\n<p title=\"a&quot;b\">&lt;script"
	    "&gt;&amp; -3% 12</p>\n") != NULL, "%s", answer);
}
END_TEST

START_TEST(appapi_error_replaces_body)
{
	const char *const env[] = { GET("/error", ""), NULL };

	ck_assert_int_eq(run(get_routes, env, NULL), 404);
	ck_assert_msg(strstr(answer, "\r\n\r\nno such thing\n") != NULL, "%s",
	    answer);
	ck_assert_msg(strstr(answer, "half") == NULL, "%s", answer);
}
END_TEST

START_TEST(appapi_plain_and_empty)
{
	const char *const plain[] = { GET("/plain",
	    "m=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"), NULL };
	const char *const empty[] = { GET("/empty", ""), NULL };
	const char *const badfmt[] = { GET("/badfmt", ""), NULL };

	ck_assert_int_eq(run(get_routes, plain, NULL), 200);
	ck_assert_msg(strstr(answer, "Content-Type: text/plain; charset=utf-8"
	    "\r\n") != NULL, "%s", answer);
	ck_assert_msg(strstr(answer, "\r\n\r\n&lt;img src") != NULL, "%s",
	    answer);
	ck_assert_int_eq(run(get_routes, badfmt, NULL), 200);
	ck_assert_msg(strstr(answer, "\r\n\r\n<p></p>") != NULL, "%s", answer);
	ck_assert_int_eq(run(get_routes, empty, NULL), 204);
	ck_assert_msg(strstr(answer, "dropped") == NULL, "%s", answer);
	ck_assert_msg(strcmp(answer + strlen(answer) - 4, "\r\n\r\n") == 0,
	    "%s", answer);
}
END_TEST

START_TEST(appapi_not_found_and_method)
{
	const char *const nf[] = { GET("/nothing", ""), NULL };
	const char *const short_[] = { GET("/echo/1", ""), NULL };
	const char *const bad[] = { GET("/echo/1%00/2", ""), NULL };
	const char *const post[] = { "REQUEST_METHOD=POST",
	    "REQUEST_URI=/cookie", NULL };

	ck_assert_int_eq(run(get_routes, nf, NULL), 404);
	ck_assert_int_eq(run(get_routes, short_, NULL), 404);
	ck_assert_int_eq(run(get_routes, bad, NULL), 404);
	ck_assert_int_eq(run(get_routes, post, NULL), 405);
}
END_TEST

/* A path past PGSSE_APP_PATH_MAX is 404, not cut to a shorter one. */
START_TEST(appapi_path_max)
{
	char		 uri[PGSSE_APP_PATH_MAX + 64];
	const char	*env[] = { "REQUEST_METHOD=GET", uri, NULL };
	size_t		 n;

	n = (size_t)snprintf(uri, sizeof(uri), "REQUEST_URI=/echo/1/");
	memset(uri + n, 'x', PGSSE_APP_PATH_MAX - 8);	/* after "/echo/1/" */
	uri[n + PGSSE_APP_PATH_MAX - 8] = '\0';
	ck_assert_int_eq(run(get_routes, env, NULL), 200);
	uri[n + PGSSE_APP_PATH_MAX - 8] = 'x';
	uri[n + PGSSE_APP_PATH_MAX - 7] = '\0';
	ck_assert_int_eq(run(get_routes, env, NULL), 404);
}
END_TEST

/* With PGSSE_ALLOWED_HOSTS, a GET for another Host is refused too: a
 * rebound DNS name must not read fragments (or get a token). */
START_TEST(appapi_allowed_hosts)
{
	const char *const other[] = { GET("/echo/1/2", ""),
	    "PGSSE_ALLOWED_HOSTS=example.com", "HTTP_HOST=rebind.attacker.example",
	    NULL };
	const char *const ours[] = { GET("/echo/1/2", ""),
	    "PGSSE_ALLOWED_HOSTS=example.com", "HTTP_HOST=example.com", NULL };

	ck_assert_int_eq(run(get_routes, other, NULL), 403);
	ck_assert_msg(strstr(answer, "path=") == NULL, "%s", answer);
	ck_assert_int_eq(run(get_routes, ours, NULL), 200);
}
END_TEST

/* A program with a POST route does not start without a CSRF secret. */
START_TEST(appapi_post_needs_secret)
{
	const char *const env[] = { GET("/form", ""), NULL };

	ck_assert_int_eq(run(post_routes, env, NULL), -1);
	ck_assert_int_eq(status, 2);
}
END_TEST

/* With the secret, a POST without the token never reaches its route;
 * a GET gets a token. */
START_TEST(appapi_post_csrf)
{
	char	 secret[64] = "/tmp/pgsse-appapi.XXXXXX", file[96];
	char	 envs[128];
	const char *get[] = { GET("/form", ""), envs, NULL };
	const char *post[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/form",
	    "CONTENT_LENGTH=11", "HTTP_HX_REQUEST=true", envs, NULL };
	char	 cookie[256], token[256];
	const char *good[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/form",
	    "CONTENT_LENGTH=11", "HTTP_HX_REQUEST=true", envs,
	    "HTTP_HOST=example.com", "HTTP_ORIGIN=http://example.com", cookie,
	    token, NULL };
	const char *p;
	FILE	*f;

	ck_assert_ptr_nonnull(mkdtemp(secret));
	snprintf(file, sizeof(file), "%s/secret", secret);
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fputs("0123456789abcdef0123456789abcdef", f);
	fclose(f);
	chmod(file, 0600);
	snprintf(envs, sizeof(envs), "PGSSE_SECRET_FILE=%s", file);
	ck_assert_int_eq(run(post_routes, get, NULL), 200);
	ck_assert_msg(strstr(answer, "token=yes") != NULL, "%s", answer);
	ck_assert_msg(strstr(answer, "Set-Cookie: " PGSSE_CSRF_COOKIE "=") !=
	    NULL, "%s", answer);
	ck_assert_int_eq(run(post_routes, post, "title=hello"), 403);
	ck_assert_msg(strstr(answer, "title=") == NULL, "%s", answer);
	/* With the token it passes, unless the body is shorter than its
	 * Content-Length: a truncated form is 400, not a shorter one. */
	ck_assert_int_eq(run(post_routes, get, NULL), 200);
	ck_assert_ptr_nonnull(p = strstr(answer, PGSSE_CSRF_COOKIE "="));
	p += strlen(PGSSE_CSRF_COOKIE "=");
	snprintf(cookie, sizeof(cookie), "HTTP_COOKIE=" PGSSE_CSRF_COOKIE
	    "=%.*s", (int)strcspn(p, ";\r"), p);
	snprintf(token, sizeof(token), "HTTP_X_CSRF_TOKEN=%.*s",
	    (int)strcspn(p, ";\r"), p);
	ck_assert_int_eq(run(post_routes, good, "title=hello"), 200);
	ck_assert_msg(strstr(answer, "title=hello method=1") != NULL, "%s",
	    answer);
	good[2] = "CONTENT_LENGTH=100";
	ck_assert_int_eq(run(post_routes, good, "title=hello"), 400);
	ck_assert_msg(strstr(answer, "title=") == NULL, "%s", answer);
	unlink(file);
	rmdir(secret);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("appapi");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	signal(SIGPIPE, SIG_IGN);
	tcase_add_test(tc, appapi_request);
	tcase_add_test(tc, appapi_no_user);
	tcase_add_test(tc, appapi_cookie);
	tcase_add_test(tc, appapi_headers_refused);
	tcase_add_test(tc, appapi_hx_and_html);
	tcase_add_test(tc, appapi_error_replaces_body);
	tcase_add_test(tc, appapi_plain_and_empty);
	tcase_add_test(tc, appapi_not_found_and_method);
	tcase_add_test(tc, appapi_path_max);
	tcase_add_test(tc, appapi_allowed_hosts);
	tcase_add_test(tc, appapi_post_needs_secret);
	tcase_add_test(tc, appapi_post_csrf);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
