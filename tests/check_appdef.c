/*
 * check_appdef: lib/appdef.c. Without a server or a database: loading a
 * folder, where each kind of mistake fails with its file, line and
 * column; serving, where each bad parameter is answered before any SQL
 * runs (the program runs as a plain CGI child, as check_appapi does,
 * with no database to reach); and the JSON a result becomes, typed by
 * OID. Then live: tests/appdirapp behind lighttpd on PostgreSQL serves
 * a folder made here, with a fragment, a CSRF-protected action that
 * inserts and publishes, and a C route; SIGHUP reloads a changed folder
 * while requests keep coming, and keeps the old one if the new is bad.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "pgsse-app.h"
#include "appdef.h"
#include "extern.h"
#include "mustache.h"
#include "harness.h"

/* Bytes of one CGI answer the test reads at most. */
#define ANSWER_MAX 65536

static char	 dir[64];
static char	 err[2048];

/* Writes text into the folder's file rel, making its folder. */
static void
put(const char *rel, const char *text)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/templates", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sql", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	ck_assert_msg((f = fopen(path, "w")) != NULL, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* A fresh folder for each case. */
static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_appdef.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	put("templates/t.html", "<p>{{title}}</p>\n");
}

/* Removes the case's folder. */
static void
teardown(void)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/*
 * Loads the folder with app.json text, which must fail with an error
 * that starts with "DIR/" + where and holds what.
 */
static void
refused(const char *json, const char *where, const char *what)
{
	struct pgsse_appdef	*def;
	char			 want[256];

	put("app.json", json);
	def = pgsse_appdef_load(dir, err, sizeof(err));
	pgsse_appdef_release(def);
	ck_assert_msg(def == NULL, "loaded: %s", json);
	snprintf(want, sizeof(want), "%s/%s", dir, where);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0 &&
	    strstr(err, what) != NULL, "want %s ... %s, got: %s", want, what,
	    err);
}

/* Loads the folder with app.json text, which must load. */
static struct pgsse_appdef *
loaded(const char *json)
{
	struct pgsse_appdef	*def;

	put("app.json", json);
	def = pgsse_appdef_load(dir, err, sizeof(err));
	ck_assert_msg(def != NULL, "%s", err);
	return def;
}

START_TEST(load_ok)
{
	struct pgsse_appdef		*def, *def2;
	const struct pgsse_route	*rt;
	size_t				 n, na;

	put("sql/list.sql", "select 1 as title\n");
	put("templates/row.html", "<li>{{title}}</li>");
	put("templates/list.html", "<ul>{{#rows}}{{> row}}{{/rows}}</ul>"
	    "<a href=\"{{u}}\">x</a>{{{raw}}}");
	def = loaded("{\n"
	    " \"fragments\": [\n"
	    "  {\"route\": \"/n/<id>\", \"sql\": \"select $1::bigint\",\n"
	    "   \"params\": [{\"name\": \"id\", \"from\": \"route\",\n"
	    "    \"type\": \"int\"}], \"template\": \"t.html\"},\n"
	    "  {\"route\": \"/n\", \"sql_file\": \"list.sql\",\n"
	    "   \"template\": \"list.html\", \"escape\": {\"u\": \"url\"},\n"
	    "   \"raw\": true, \"description\": \"the list\"}\n"
	    " ],\n"
	    " \"actions\": [\n"
	    "  {\"route\": \"/n/<id>\", \"sql\": \"select 1\",\n"
	    "   \"params\": [{\"name\": \"id\", \"from\": \"route\"},\n"
	    "    {\"name\": \"done\", \"from\": \"form\", \"type\": \"bool\",\n"
	    "     \"default\": false},\n"
	    "    {\"name\": \"who\", \"from\": \"user\", \"optional\": true}],\n"
	    "   \"hx\": {\"trigger\": \"noted-{{id}}\", \"refresh\": true}}\n"
	    " ]\n"
	    "}\n");
	rt = pgsse_appdef_routes(def, &n, &na);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(na, 1);
	ck_assert_str_eq(rt[0].pattern, "/n/<id>");
	ck_assert_int_eq(rt[0].method, PGSSE_METHOD_GET);
	ck_assert_int_eq(rt[2].method, PGSSE_METHOD_POST);
	ck_assert_ptr_null(rt[3].pattern);
	/* A later load is a later generation; references are counted. */
	def2 = loaded("{}");
	ck_assert_uint_gt(pgsse_appdef_gen(def2), pgsse_appdef_gen(def));
	ck_assert_ptr_eq(pgsse_appdef_hold(def), def);
	pgsse_appdef_release(def);
	pgsse_appdef_release(def);
	pgsse_appdef_release(def2);
}
END_TEST

START_TEST(load_bad_json)
{
	refused("{\n \"fragments\": [\n  {\"route\": \"/a\",, }\n ]\n}\n",
	    "app.json:3:18: ", "");
	refused("{\"fragments\": []", "app.json:1:17: ", "ends too soon");
	refused("{} {}", "app.json:1:4: ", "text after the JSON document");
	refused("[]", "app.json:1:1: ", "the document is an object");
	refused("{\"fragments\": [], /* no */ \"actions\": []}",
	    "app.json:1:19: ", "");
}
END_TEST

START_TEST(load_unknown_key)
{
	refused("{\n \"fragments\": [\n  {\"route\": \"/a\", \"sql\": \"select "
	    "1\",\n   \"template\": \"t.html\",\n   \"colour\": \"red\"}\n"
	    " ]\n}\n", "app.json:5:14: /fragments/0/colour: ",
	    "unknown key \"colour\"");
	refused("{\"pages\": []}", "app.json:1:11: /pages: ", "unknown key");
	refused("{\"actions\": [{\"route\": \"/a\", \"sql\": \"x\", \"params\": "
	    "[{\"name\": \"a\", \"from\": \"form\", \"size\": 3}]}]}",
	    "app.json:1:91: /actions/0/params/0/size: ", "unknown key");
	refused("{\"actions\": [{\"route\": \"/a\", \"sql\": \"x\", \"hx\": "
	    "{\"trigger\": \"t\", \"location\": \"/x\"}}]}",
	    "app.json:1:77: /actions/0/hx/location: ",
	    "unknown htmx header \"location\"");
}
END_TEST

START_TEST(load_bad_route)
{
	refused("{\"fragments\": [\n {\"route\": \"/a/<b\", \"sql\": \"x\", "
	    "\"template\": \"t.html\"}]}", "app.json:2:12: /fragments/0/route: ",
	    "/a/<b is malformed");
	refused("{\"fragments\": [{\"route\": \"a\", \"sql\": \"x\", "
	    "\"template\": \"t.html\"}]}", "app.json:1:26: ", "a is malformed");
	refused("{\"fragments\": [{\"sql\": \"x\", \"template\": \"t.html\"}]}",
	    "app.json:1:16: /fragments/0: ", "\"route\" is missing");
	refused("{\"fragments\": [{\"route\": 7, \"sql\": \"x\", "
	    "\"template\": \"t.html\"}]}", "app.json:1:26: /fragments/0/route: ",
	    "must be a string");
}
END_TEST

START_TEST(load_duplicate_route)
{
	refused("{\"fragments\": [\n"
	    " {\"route\": \"/a/<x>\", \"sql\": \"x\", \"template\": \"t.html\"},\n"
	    " {\"route\": \"/a/<y>\", \"sql\": \"x\", \"template\": \"t.html\"}\n"
	    "]}", "app.json:3:12: /fragments/1/route: ",
	    "GET /a/<y> is declared twice (as /a/<x> before)");
	/* A GET and a POST of one path are two routes. */
	pgsse_appdef_release(loaded("{\"fragments\": [{\"route\": \"/a\", "
	    "\"sql\": \"x\", \"template\": \"t.html\"}], \"actions\": "
	    "[{\"route\": \"/a\", \"sql\": \"x\"}]}"));
}
END_TEST

START_TEST(load_bad_param)
{
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"x\",\n"
	    " \"template\": \"t.html\", \"params\": [\n"
	    "  {\"name\": \"n\", \"from\": \"query\", \"type\": \"integer\"}]}]}",
	    "app.json:3:42: /fragments/0/params/0/type: ",
	    "unknown type \"integer\" (text, int or bool)");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"template\": \"t.html\", \"params\": [{\"name\": \"n\", "
	    "\"from\": \"body\"}]}]}", "app.json:1:", "unknown source \"body\"");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"template\": \"t.html\", \"params\": [{\"name\": \"id\", "
	    "\"from\": \"route\"}]}]}", "app.json:1:", "no segment <id>");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"template\": \"t.html\", \"params\": [{\"name\": \"t\", "
	    "\"from\": \"form\"}]}]}", "app.json:1:", "a fragment (GET) has "
	    "no form");
	refused("{\"actions\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"params\": [{\"name\": \"n\", \"from\": \"form\", \"type\": "
	    "\"int\", \"max\": 5, \"default\": 9}]}]}",
	    "app.json:1:", "/default: an integer from -9223372036854775808 to 5");
	refused("{\"actions\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"params\": [{\"name\": \"n\", \"from\": \"form\"}, "
	    "{\"name\": \"n\", \"from\": \"query\"}]}]}",
	    "app.json:1:", "a second parameter \"n\"");
	refused("{\"actions\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"params\": [{\"name\": \"n\", \"from\": \"form\", "
	    "\"max_len\": 0}]}]}", "app.json:1:", "from 1 to 4096 bytes");
	refused("{\"actions\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"params\": [{\"name\": \"n-1\", \"from\": \"form\"}]}]}",
	    "app.json:1:", "\"n-1\" is not a name");
}
END_TEST

START_TEST(load_sql_missing)
{
	refused("{\"fragments\": [\n {\"route\": \"/a\", \"template\": "
	    "\"t.html\"}]}", "app.json:2:2: /fragments/0: ",
	    "the SQL is missing");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql_file\": \"no.sql\", "
	    "\"template\": \"t.html\"}]}", "app.json:1:", "sql/no.sql: No such "
	    "file");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"sql_file\": \"a.sql\", \"template\": \"t.html\"}]}",
	    "app.json:1:", "one or the other");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"  \", "
	    "\"template\": \"t.html\"}]}", "app.json:1:", "the SQL is empty");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql_file\": "
	    "\"../app.json\", \"template\": \"t.html\"}]}", "app.json:1:",
	    "names no file under sql/");
}
END_TEST

START_TEST(load_template_missing)
{
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"template\": \"none.html\"}]}", "templates/none.html: ",
	    "No such file or directory (the template of GET /a at ");
	refused("{\"fragments\": [\n {\"route\": \"/a\", \"sql\": \"x\"}]}",
	    "app.json:2:2: /fragments/0: ", "\"template\" is missing");
	put("templates/p.html", "<ul>\n{{> nopartial}}</ul>");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"template\": \"p.html\"}]}", "templates/p.html:2:1: ",
	    "cannot load partial \"nopartial\": ");
}
END_TEST

START_TEST(load_template_refused)
{
	put("templates/a.html", "<p>\n<a href=\"{{u}}\">x</a></p>");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"template\": \"a.html\"}]}", "templates/a.html:2:10: ",
	    "needs an escaper: declare it url or urlpart (the template of "
	    "GET /a at ");
	/* In a partial, the error names the partial's file. */
	put("templates/b.html", "<ul>{{#rows}}{{> row}}{{/rows}}</ul>");
	put("templates/row.html", "<li>\n<b onclick=\"f({{id}})\">x</b></li>");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"template\": \"b.html\"}]}", "templates/row.html:2:", "\"id\" in");
	put("templates/c.html", "<p>{{{html}}}</p>");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"template\": \"c.html\"}]}", "templates/c.html:1:4: ",
	    "raw interpolation");
	refused("{\"fragments\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"template\": \"a.html\", \"escape\": {\"u\": \"uri\"}}]}",
	    "app.json:1:", "/fragments/0/escape/u: escaper \"uri\"");
}
END_TEST

START_TEST(load_bad_hx)
{
	refused("{\"actions\": [{\"route\": \"/a\", \"sql\": \"x\", \"hx\": "
	    "{\"redirect\": \"javascript:alert(1)\"}}]}", "app.json:1:",
	    "/actions/0/hx/redirect: refused");
	refused("{\"actions\": [{\"route\": \"/a\", \"sql\": \"x\", \"hx\": "
	    "{\"retarget\": \"#job-{{ id }}\"}}]}", "app.json:1:",
	    "{{ must start a {{column}}");
	refused("{\"actions\": [{\"route\": \"/a\", \"sql\": \"x\", \"hx\": "
	    "{\"trigger\": \"a\\r\\nSet-Cookie: x=1\"}}]}", "app.json:1:",
	    "holds a control byte");
}
END_TEST

START_TEST(load_limits)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	int			 i;

	pgsse_buf_puts(&b, "{\"actions\": [");
	for (i = 0; i <= PGSSE_APP_ROUTES_MAX; i++)
		pgsse_buf_printf(&b, "%s{\"route\": \"/a%d\", \"sql\": \"x\"}",
		    i ? "," : "", i);
	pgsse_buf_puts(&b, "]}");
	refused(b.p, "app.json:1:13: /actions: ", "more than 256 routes");
	pgsse_buf_reset(&b);
	pgsse_buf_puts(&b, "{\"actions\": [{\"route\": \"/a\", \"sql\": \"x\", "
	    "\"params\": [");
	for (i = 0; i <= PGSSE_APP_PARAMS_MAX; i++)
		pgsse_buf_printf(&b, "%s{\"name\": \"p%d\", \"from\": \"form\"}",
		    i ? "," : "", i);
	pgsse_buf_puts(&b, "]}]}");
	refused(b.p, "app.json:1:", "more than 16 parameters");
	pgsse_buf_free(&b);
	ck_assert_ptr_null(pgsse_appdef_load("/nonexistent", err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/app.json: No such"));
}
END_TEST

/* The answer of the last run. */
static char	 answer[ANSWER_MAX + 1];

/*
 * Runs the folder as a CGI program in a child for GET uri (with user
 * as REMOTE_USER if not NULL). Fills answer; returns the HTTP status.
 */
static int
get(const char *uri, const char *user)
{
	int	 out[2], st;
	size_t	 len = 0;
	ssize_t	 n;
	pid_t	 pid;
	char	*argv[] = { "t", "--app", dir, NULL }, *q;
	char	 env[4][512];

	ck_assert_int_eq(pipe(out), 0);
	if ((pid = fork()) == 0) {
		clearenv();
		q = strchr(uri, '?');
		snprintf(env[0], sizeof(env[0]), "REQUEST_URI=%s", uri);
		snprintf(env[1], sizeof(env[1]), "QUERY_STRING=%s",
		    q ? q + 1 : "");
		snprintf(env[2], sizeof(env[2]), "REMOTE_USER=%s",
		    user ? user : "");
		putenv(env[0]);
		putenv(env[1]);
		putenv(env[2]);
		putenv("REQUEST_METHOD=GET");
		putenv("PGHOST=/nonexistent");
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		_exit(pgsse_app_main_folder("t", NULL, NULL, 3, argv));
	}
	close(out[1]);
	while (len < ANSWER_MAX &&
	    (n = read(out[0], answer + len, ANSWER_MAX - len)) > 0)
		len += (size_t)n;
	answer[len] = '\0';
	close(out[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit %d", st);
	return strncmp(answer, "Status: ", 8) == 0 ? atoi(answer + 8) : -1;
}

/* Asserts that GET uri is answered status with a body of msg. */
static void
answered(const char *uri, const char *user, int status, const char *msg)
{
	const char	*body;

	ck_assert_msg(get(uri, user) == status, "%s: %s", uri, answer);
	ck_assert_ptr_nonnull(body = strstr(answer, "\r\n\r\n"));
	ck_assert_msg(strcmp(body + 4, msg) == 0, "%s: %s", uri, answer);
}

/* Bad parameters are answered before the SQL, which has no database. */
START_TEST(serve_params)
{
	char	 uri[8192];

	put("app.json", "{\"fragments\": [{\"route\": \"/n/<id>\", \"sql\": "
	    "\"select 1\", \"template\": \"t.html\", \"params\": [\n"
	    " {\"name\": \"id\", \"from\": \"route\", \"type\": \"int\", "
	    "\"min\": 1, \"max\": 1000},\n"
	    " {\"name\": \"q\", \"from\": \"query\", \"max_len\": 5},\n"
	    " {\"name\": \"all\", \"from\": \"query\", \"type\": \"bool\", "
	    "\"default\": false},\n"
	    " {\"name\": \"t\", \"from\": \"query\", \"optional\": true},\n"
	    " {\"name\": \"who\", \"from\": \"user\"}]}]}");
	answered("/n/x?q=a", "al", 400, "parameter id: an integer from 1 to "
	    "1000, please\n");
	answered("/n/1001?q=a", "al", 400, "parameter id: an integer from 1 "
	    "to 1000, please\n");
	answered("/n/-0x1?q=a", "al", 400, "parameter id: an integer from 1 "
	    "to 1000, please\n");
	answered("/n/%2B5?q=a", "al", 400, "parameter id: an integer from 1 "
	    "to 1000, please\n");
	answered("/n/99999999999999999999?q=a", "al", 400, "parameter id: an "
	    "integer from 1 to 1000, please\n");
	answered("/n/5", "al", 400, "parameter q: missing\n");
	answered("/n/5?q=abcdef", "al", 400, "parameter q: longer than 5 "
	    "bytes\n");
	answered("/n/5?q=%FF", "al", 400, "parameter q: not UTF-8 text\n");
	answered("/n/5?q=a&all=maybe", "al", 400, "parameter all: true or "
	    "false (1 or 0, on or off), please\n");
	answered("/n/5?q=a", NULL, 403, "parameter who: this needs an "
	    "authenticated user\n");
	/* All good: on to the database, which is not there. */
	answered("/n/5?q=abcde&all=on&t=", "al", 503, "database "
	    "unavailable\n");
	answered("/n/5?q=&all=", "al", 503, "database unavailable\n");
	/* The message never echoes the value. */
	memset(uri, 0, sizeof(uri));
	snprintf(uri, sizeof(uri), "/n/5?q=<script>");
	answered(uri, "al", 400, "parameter q: longer than 5 bytes\n");
}
END_TEST

/* A bad folder stops the program with the error on standard error. */
START_TEST(serve_bad_folder)
{
	int	 err_pipe[2], st;
	pid_t	 pid;
	char	*argv[] = { "t", "--app", dir, NULL }, buf[1024];
	ssize_t	 n;

	put("app.json", "{\"fragments\": [{\"route\": \"/a\"}]}");
	ck_assert_int_eq(pipe(err_pipe), 0);
	if ((pid = fork()) == 0) {
		clearenv();
		putenv("REQUEST_METHOD=GET");
		putenv("REQUEST_URI=/a");
		dup2(err_pipe[1], STDERR_FILENO);
		_exit(pgsse_app_main_folder("t", NULL, NULL, 3, argv));
	}
	close(err_pipe[1]);
	n = read(err_pipe[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(err_pipe[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 2);
	ck_assert_msg(strstr(buf, "/app.json:1:16: /fragments/0: the SQL is "
	    "missing") != NULL, "%s", buf);
	/* A program that names no folder: --app is a usage error. */
	if ((pid = fork()) == 0) {
		close(STDERR_FILENO);
		_exit(pgsse_app_main("t", NULL, 3, argv));
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 2);
}
END_TEST

/* Describes column c of a result: its name and type OID. */
static void
column(PGresAttDesc *at, int c, const char *name, Oid oid)
{
	memset(&at[c], 0, sizeof(at[c]));
	at[c].name = (char *)name;
	at[c].typid = oid;
	at[c].typlen = -1;
	at[c].atttypmod = -1;
}

/* A result becomes JSON typed by column OID. */
START_TEST(rows_typed)
{
	static const char *const vals[2][9] = {
		{ "7", "-32768", "9223372036854775807", "1.5", "t", "1.50",
		  "{\"a\": [1, 2]}", "<b>", NULL },
		{ "8", "0", "-1", "NaN", "f", "0", "null", "", "x" },
	};
	PGresAttDesc		 at[9];
	PGresult		*res;
	struct json_object	*rows;
	int			 r, c;

	res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	column(at, 0, "i4", 23);
	column(at, 1, "i2", 21);
	column(at, 2, "i8", 20);
	column(at, 3, "f8", 701);
	column(at, 4, "b", 16);
	column(at, 5, "num", 1700);
	column(at, 6, "j", 3802);
	column(at, 7, "t", 25);
	column(at, 8, "z", 25);
	ck_assert_int_eq(PQsetResultAttrs(res, 9, at), 1);
	for (r = 0; r < 2; r++)
		for (c = 0; c < 9; c++)
			ck_assert_int_eq(PQsetvalue(res, r, c,
			    (char *)vals[r][c], vals[r][c] ?
			    (int)strlen(vals[r][c]) : -1), 1);
	rows = pgsse_appdef_rows(res);
	ck_assert_str_eq(json_object_to_json_string_ext(rows,
	    JSON_C_TO_STRING_PLAIN), "[{\"i4\":7,\"i2\":-32768,"
	    "\"i8\":9223372036854775807,\"f8\":1.5,\"b\":true,\"num\":\"1.50\","
	    "\"j\":{\"a\":[1,2]},\"t\":\"<b>\",\"z\":null},"
	    "{\"i4\":8,\"i2\":0,\"i8\":-1,\"f8\":NaN,\"b\":false,\"num\":\"0\","
	    "\"j\":null,\"t\":\"\",\"z\":\"x\"}]");
	json_object_put(rows);
	PQclear(res);
	/* No rows: an empty array. */
	res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	ck_assert_int_eq(PQsetResultAttrs(res, 1, at), 1);
	rows = pgsse_appdef_rows(res);
	ck_assert_str_eq(json_object_to_json_string_ext(rows,
	    JSON_C_TO_STRING_PLAIN), "[]");
	json_object_put(rows);
	PQclear(res);
}
END_TEST

/* Columns and rows of the results render_in_place makes. */
#define RIP_COLS 10
#define RIP_ROWS 4
/* What render_in_place's first template makes of its first row. */
#define FIRST_ROW "<p>7 9223372036854775807 1.5 1e+21 true 1.50 " \
	"&lt;b&gt;&amp;&quot;&#39;  \xc3\xa9\xf0\x9f\x98\x80x 2024-01-02 4 " \
	"\xef\xbf\xbd \xef\xbf\xbd &lt; </p>\n<p>0 "
/* Escapers one template of render_in_place declares at most. */
#define RIP_VARS 8

/* A result of ncols columns (names, type OIDs) and nrows rows of vals. */
static PGresult *
mkres(int ncols, const char *const *names, const Oid *oids, int nrows,
    const char *const vals[][RIP_COLS])
{
	PGresAttDesc	 at[RIP_COLS];
	PGresult	*res;
	int		 r, c;

	res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	for (c = 0; c < ncols; c++)
		column(at, c, names[c], oids[c]);
	ck_assert_int_eq(PQsetResultAttrs(res, ncols, at), 1);
	for (r = 0; r < nrows; r++)
		for (c = 0; c < ncols; c++)
			ck_assert_int_eq(PQsetvalue(res, r, c,
			    (char *)vals[r][c], vals[r][c] ?
			    (int)strlen(vals[r][c]) : -1), 1);
	return res;
}

/* A cell of the PGresult arg, for the table of render_in_place. */
static const char *
rip_cell(const void *arg, int row, int col, size_t *len)
{
	if (PQgetisnull(arg, row, col))
		return NULL;
	*len = (size_t)PQgetlength(arg, row, col);
	return PQgetvalue(arg, row, col);
}

/*
 * A template rendered from a result in place (pgsse_appdef_render, and
 * pgsse_mustache_render_table itself) gives the bytes it gives from
 * the result's JSON, for every kind of lookup, section, escaper and
 * column type; a result only the JSON renders (a json column, a name
 * twice) takes that way.
 */
START_TEST(render_in_place)
{
	static const char *const names[RIP_COLS] = { "i4", "i8", "f8", "f4",
	    "b", "num", "t", "z", "u", "d" };
	static const Oid oids[RIP_COLS] = { 23, 20, 701, 700, 16, 1700, 25,
	    25, 25, 1082 };
	static const char *const vals[RIP_ROWS][RIP_COLS] = {
		{ "7", "9223372036854775807", "1.5", "1e+21", "t", "1.50",
		  "<b>&\"'", NULL, "\xc3\xa9\xf0\x9f\x98\x80x",
		  "2024-01-02" },
		{ "0", "-9223372036854775808", "NaN", "-0", "f", "0", "",
		  "x", "", NULL },
		{ "-1", "0", "Infinity", "0.1", "t", "-3", "javascript:x",
		  "/a b?c=%zz&d=%41", "\xe2\x80\xa8</script>", "t" },
		{ "2", "1", "-Infinity", "1e-7", "f", "12.5", "color: red;",
		  "", "0", "0" },
	};
	/* Shadowing: "rows" and "csrf" are taken at the top level. */
	static const char *const snames[3] = { "rows", "csrf", "t" };
	static const Oid soids[3] = { 23, 25, 25 };
	static const char *const svals[1][RIP_COLS] = { { "5", "c", "s" } };
	/* Only the JSON renders these: a name twice, a jsonb column. */
	static const char *const dnames[3] = { "a", "a", "j" };
	static const Oid doids[3] = { 25, 23, 3802 };
	static const char *const dvals[2][RIP_COLS] = {
		{ "x", "1", "{\"k\": [1, \"<\"]}" }, { "y", "2", "null" } };
	static const struct {
		const char	*text;
		const char	*vars[RIP_VARS];	/* "name=escaper" */
	} tmpls[] = {
		{ "{{#rows}}<p>{{i4}} {{i8}} {{f8}} {{f4}} {{b}} {{num}} {{t}} "
		  "{{z}} {{u}} {{d}} {{u.length}} {{u.1}} {{u.2}} {{t.0}} "
		  "{{i4.length}}</p>\n{{/rows}}", { NULL } },
		{ "{{rows.length}} {{rows.0.t}} {{rows.2.i4}} {{rows.9.i4}} "
		  "{{rows.01.i4}} {{i4}} {{t}} {{params.id}} {{params.q}} "
		  "{{csrf}} {{user}} {{rows}} {{.}} {{rows.0}} {{params}} "
		  "{{rows.0.t.length}} {{rows.0.z.x}} {{nothing}}", { NULL } },
		{ "{{#rows}}{{#b}}B{{i4}}{{/b}}{{^b}}b{{/b}}{{#z}}[{{.}}]{{/z}}"
		  "{{^z}}-{{/z}}{{#i4}}({{.}}){{/i4}}{{^i4}}!{{/i4}}{{#f8}}={{.}}="
		  "{{/f8}}{{^f8}}~{{/f8}}{{#t}}{{t}}{{.}}{{/t}}{{#rows}}"
		  "{{rows.length}}{{/rows}}{{#params}}{{id}}{{/params}}{{/rows}}"
		  "{{^rows}}none{{/rows}}{{#rows.0}}{{t}}{{/rows.0}}"
		  "{{#nothing}}x{{/nothing}}{{^nothing}}y{{/nothing}}", { NULL } },
		{ "<script>var a = {{.}}; var b = {{rows}};</script>\n"
		  "{{#rows}}<script>var r = {{.}}, n = {{z}};</script>{{/rows}}"
		  "<div x-data=\"{{rows.0}}\"></div>",
		  { ".=json", "rows=json", "z=json", "rows.0=json" } },
		{ "{{#rows}}<a href=\"{{t}}\">1</a><a href=\"/p/{{z}}\">2</a>"
		  "<a href=\"{{b}}{{i4}}{{f8}}{{.}}\">3</a>{{/rows}}"
		  "<a href=\"{{rows}}\">4</a>",
		  { "t=url", "z=urlpart", "b=url", "i4=url", "f8=url", ".=url",
		    "rows=url" } },
		{ "{{#rows}}<p style=\"{{t}};{{z}};{{i4}};{{f8}};{{b}}\">"
		  "</p>{{/rows}}",
		  { "t=css", "z=css", "i4=css", "f8=css", "b=css" } },
	};
	struct { PGresult *res; int in_place; } rs[5];
	struct pgsse_mustache_var	 vars[RIP_VARS];
	struct pgsse_mustache_opts	 o;
	struct pgsse_mustache_table	 tab;
	const char			*cnames[RIP_COLS];
	enum pgsse_mustache_col		 kinds[RIP_COLS];
	struct pgsse_mustache		*t;
	struct pgsse_buf		 a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	struct json_object		*ctx, *params;
	char				 var[RIP_VARS][32], *eq;
	size_t				 i, k, r;
	int				 c;

	rs[0].res = mkres(RIP_COLS, names, oids, RIP_ROWS, vals);
	rs[1].res = mkres(RIP_COLS, names, oids, 0, vals);
	rs[2].res = mkres(3, snames, soids, 1, svals);
	rs[3].res = mkres(3, dnames, doids, 2, dvals);
	rs[4].res = mkres(2, dnames + 1, doids + 1, 2, dvals);
	rs[0].in_place = rs[1].in_place = rs[2].in_place = 1;
	rs[3].in_place = rs[4].in_place = 0;
	ctx = json_object_new_object();
	params = json_object_new_object();
	json_object_object_add(params, "id", json_object_new_int64(3));
	json_object_object_add(params, "q", json_object_new_string("a<b"));
	json_object_object_add(ctx, "params", params);
	json_object_object_add(ctx, "user", NULL);
	json_object_object_add(ctx, "csrf", json_object_new_string("tok&"));
	for (i = 0; i < sizeof(tmpls) / sizeof(tmpls[0]); i++) {
		memset(&o, 0, sizeof(o));
		for (k = 0; k < RIP_VARS && tmpls[i].vars[k] != NULL; k++) {
			snprintf(var[k], sizeof(var[k]), "%s", tmpls[i].vars[k]);
			eq = strchr(var[k], '=');
			*eq = '\0';
			vars[k].name = var[k];
			vars[k].esc = pgsse_mustache_esc_parse(eq + 1);
		}
		o.vars = vars;
		o.nvars = k;
		t = pgsse_mustache_parse("t", tmpls[i].text,
		    strlen(tmpls[i].text), &o, err, sizeof(err));
		ck_assert_msg(t != NULL, "template %zu: %s", i, err);
		for (r = 0; r < 5; r++) {
			pgsse_buf_reset(&a);
			pgsse_buf_reset(&b);
			ck_assert_int_eq(pgsse_appdef_render(t, rs[r].res, ctx, 1,
			    &a), PGSSE_OK);
			ck_assert_int_eq(pgsse_appdef_render(t, rs[r].res, ctx, 0,
			    &b), PGSSE_OK);
			ck_assert_msg(a.len == b.len && memcmp(a.p, b.p, a.len) ==
			    0, "template %zu, result %zu:\n%s\nin place:\n%s",
			    i, r, a.p ? a.p : "", b.p ? b.p : "");
			if (!rs[r].in_place)
				continue;
			tab.nrows = PQntuples(rs[r].res);
			tab.ncols = PQnfields(rs[r].res);
			for (c = 0; c < tab.ncols; c++) {
				cnames[c] = PQfname(rs[r].res, c);
				kinds[c] = PQftype(rs[r].res, c) == 16 ?
				    PGSSE_MUSTACHE_COL_BOOL :
				    PQftype(rs[r].res, c) == 701 ||
				    PQftype(rs[r].res, c) == 700 ?
				    PGSSE_MUSTACHE_COL_DOUBLE :
				    PQftype(rs[r].res, c) == 23 ||
				    PQftype(rs[r].res, c) == 20 ?
				    PGSSE_MUSTACHE_COL_INT : PGSSE_MUSTACHE_COL_TEXT;
			}
			tab.names = cnames;
			tab.kinds = kinds;
			tab.cell = rip_cell;
			tab.arg = rs[r].res;
			pgsse_buf_reset(&b);
			ck_assert_int_eq(pgsse_mustache_render_table(t, &tab, ctx,
			    &b), PGSSE_OK);
			ck_assert_msg(a.len == b.len && memcmp(a.p, b.p, a.len) ==
			    0, "template %zu, result %zu:\n%s\ntable:\n%s",
			    i, r, a.p ? a.p : "", b.p ? b.p : "");
		}
		pgsse_mustache_free(t);
	}
	/* Not vacuous: the cells are there, typed. */
	pgsse_buf_reset(&a);
	t = pgsse_mustache_parse("t", tmpls[0].text, strlen(tmpls[0].text),
	    NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(pgsse_appdef_render(t, rs[0].res, ctx, 0, &a),
	    PGSSE_OK);
	ck_assert_msg(strncmp(a.p, FIRST_ROW, strlen(FIRST_ROW)) == 0, "%s",
	    a.p);
	pgsse_mustache_free(t);
	for (r = 0; r < 5; r++)
		PQclear(rs[r].res);
	json_object_put(ctx);
	pgsse_buf_free(&a);
	pgsse_buf_free(&b);
}
END_TEST

/* Seconds a request may take before the test gives up on it. */
#define REQ_TIMEOUT_SEC 20

static struct h_pg	 pg;
static struct h_web	 web;
static pid_t		 app_pid;
static char		 app_log[600];

/* The folder's first version. */
static const char *const board_v1 =
    "{\n"
    " \"fragments\": [\n"
    "  {\"route\": \"/board/items/<id>\", \"sql_file\": \"item.sql\",\n"
    "   \"params\": [{\"name\": \"id\", \"from\": \"route\", \"type\": "
    "\"int\", \"min\": 1},\n"
    "    {\"name\": \"q\", \"from\": \"query\", \"max_len\": 20, "
    "\"default\": \"all\"}],\n"
    "   \"template\": \"item.html\"},\n"
    "  {\"route\": \"/board/version\", \"template\": \"version.html\",\n"
    "   \"sql\": \"select 'v1' as v, count(*) as stmts, count(*) filter "
    "(where position(chr(39) || 'v' || '1' || chr(39) in statement) > 0) "
    "as stale from pg_prepared_statements\"},\n"
    "  {\"route\": \"/board/slow\", \"template\": \"version.html\",\n"
    "   \"sql\": \"select 'old' as v, pg_sleep(1)::text as z\"}\n"
    " ],\n"
    " \"actions\": [\n"
    "  {\"route\": \"/board/add\", \"template\": \"item.html\",\n"
    "   \"sql\": \"with i as (insert into board.item (title, price) values "
    "($1, $2::numeric) returning *) select i.*, pgsse.publish('logs', "
    "'log', jsonb_build_object('source', 'board', 'line', i.title)) as "
    "event from i\",\n"
    "   \"params\": [{\"name\": \"title\", \"from\": \"form\", "
    "\"max_len\": 100},\n"
    "    {\"name\": \"price\", \"from\": \"form\", \"default\": "
    "\"0\"}],\n"
    "   \"hx\": {\"trigger\": \"itemAdded-{{id}}\", \"retarget\": "
    "\"#items\"}},\n"
    "  {\"route\": \"/board/mark/<id>\",\n"
    "   \"sql\": \"select case when done then '#item-' || id end as again, "
    "case when done then 'outerHTML' else '' end as swap from board.item "
    "where id = $1::bigint\",\n"
    "   \"params\": [{\"name\": \"id\", \"from\": \"route\", \"type\": "
    "\"int\"}],\n"
    "   \"hx\": {\"retarget\": \"{{again}}\", \"reswap\": \"{{swap}}\", "
    "\"trigger\": \"marked\"}}\n"
    " ]\n"
    "}\n";

/* Its second: changed SQL, a new fragment. */
static const char *const board_v2 =
    "{\"fragments\": [\n"
    "  {\"route\": \"/board/items/<id>\", \"sql_file\": \"item.sql\",\n"
    "   \"params\": [{\"name\": \"id\", \"from\": \"route\", \"type\": "
    "\"int\"},\n"
    "    {\"name\": \"q\", \"from\": \"query\", \"default\": \"all\"}],\n"
    "   \"template\": \"item.html\"},\n"
    "  {\"route\": \"/board/version\", \"template\": \"version.html\",\n"
    "   \"sql\": \"select 'v2' as v, count(*) as stmts, count(*) filter "
    "(where position(chr(39) || 'v' || '1' || chr(39) in statement) > 0) "
    "as stale from pg_prepared_statements\"},\n"
    "  {\"route\": \"/board/slow\", \"template\": \"version.html\",\n"
    "   \"sql\": \"select 'new' as v\"},\n"
    "  {\"route\": \"/board/count\", \"template\": \"count.html\",\n"
    "   \"sql\": \"select count(*) as n from board.item\"}\n"
    "]}\n";

/*
 * PostgreSQL with pgsse's roles and the board's table, which pgsse_web
 * may read, add to and publish about; the board's folder; appdirapp
 * under spawn-fcgi (so that its pid is known), with one worker, its
 * log in app_log; lighttpd sending /board/ and /c/ to it.
 */
static void
live_up(void)
{
	char	 conf[1024], sock[600];
	PGconn	*c;
	int	 i;

	setup();
	h_pg_start(&pg, NULL);
	h_pg_load("sql/roles.sql");
	h_pg_load("demo/schema.sql");	/* the sample's pgsse-app serves it */
	c = h_pg_connect();
	h_exec(c, "create schema board; create table board.item (id bigserial "
	    "primary key, title text not null, price numeric not null default "
	    "0, done bool not null default false, meta jsonb not null default "
	    "'{}'); grant usage on schema board to pgsse_web; grant select, "
	    "insert on board.item to pgsse_web; grant usage on sequence "
	    "board.item_id_seq to pgsse_web; grant pgsse_publisher to "
	    "pgsse_web; insert into board.item (title, price, done, meta) "
	    "values ('<b>first</b>', 12.50, true, '{\"tag\": \"x&y\"}')");
	PQfinish(c);
	put("app.json", board_v1);
	put("sql/item.sql", "select id, title, price, done, meta, $2::text as q "
	    "from board.item where id = $1::bigint\n");
	put("templates/item.html", "<li id=\"item-{{id}}\" data-q=\"{{q}}\">"
	    "{{title}} {{price}} {{#done}}done{{/done}}{{^done}}open{{/done}} "
	    "{{meta.tag}} {{params.id}}</li>\n");
	put("templates/version.html", "<p>{{v}} {{stmts}} {{stale}}</p>\n");
	put("templates/count.html", "<p>{{n}} items</p>\n");
	snprintf(sock, sizeof(sock), "%s/app.sock", dir);
	snprintf(app_log, sizeof(app_log), "%s/app.log", dir);
	snprintf(conf, sizeof(conf), "$HTTP[\"url\"] =~ \"^/(board|c)/\" {\n"
	    " fastcgi.server = ( \"/\" => ((\n"
	    "  \"socket\" => \"%s\", \"check-local\" => \"disable\",\n"
	    " )))\n}\n", sock);
	h_web_start(&web, conf);	/* first: it sets PGSSE_SECRET_FILE */
	if ((app_pid = fork()) == 0) {
		freopen(app_log, "w", stderr);
		setenv("PGUSER", "pgsse_web", 1);
		setenv("PGSSE_APP_THREADS", "1", 1);
		setenv("PGSSE_APP_DIR", dir, 1);
		snprintf(conf, sizeof(conf), "%s/tests/appdirapp",
		    h_builddir());
		execlp("spawn-fcgi", "spawn-fcgi", "-n", "-s", sock, "-M",
		    "0666", "--", conf, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		usleep(50000);
	if (i == 200) {
		kill(app_pid, SIGTERM);
		waitpid(app_pid, &i, 0);
		app_pid = 0;
		h_run("cat %s >&2", app_log);
		ck_abort_msg("appdirapp did not make %s", sock);
	}
}

/* Stops what live_up started and removes the folder. */
static void
live_down(void)
{
	int	 st;

	h_web_stop(&web);
	if (app_pid > 0) {
		kill(app_pid, SIGTERM);
		waitpid(app_pid, &st, 0);
	}
	h_pg_stop(&pg);
	teardown();
}

/* GETs path from the board; returns the status, *body the body. */
static int
board_get(const char *path, char **resp, const char **body)
{
	int	 st;

	st = h_http(web.port, "GET", path, NULL, NULL, REQ_TIMEOUT_SEC, resp);
	*body = strstr(*resp, "\r\n\r\n");
	*body = *body != NULL ? *body + 4 : "";
	return st;
}

/* A fragment with a route segment and a query parameter; a C route. */
START_TEST(live_fragment)
{
	char		*resp;
	const char	*body;

	ck_assert_int_eq(board_get("/board/items/1?q=%3Cq%3E", &resp, &body),
	    200);
	ck_assert_str_eq(body, "<li id=\"item-1\" data-q=\"&lt;q&gt;\">"
	    "&lt;b&gt;first&lt;&#x2F;b&gt; 12.50 done x&amp;y 1</li>\n");
	free(resp);
	ck_assert_int_eq(board_get("/board/items/1", &resp, &body), 200);
	ck_assert_ptr_nonnull(strstr(body, "data-q=\"all\""));
	free(resp);
	ck_assert_int_eq(board_get("/board/items/0", &resp, &body), 400);
	ck_assert_str_eq(body, "parameter id: an integer from 1 to "
	    "9223372036854775807, please\n");
	free(resp);
	ck_assert_int_eq(board_get("/c/hello", &resp, &body), 200);
	ck_assert_str_eq(body, "hello from C\n");
	free(resp);
	ck_assert_int_eq(board_get("/board/nothing", &resp, &body), 404);
	free(resp);
	ck_assert_int_eq(h_http(web.port, "POST", "/board/items/1", NULL, NULL,
	    REQ_TIMEOUT_SEC, &resp), 405);
	free(resp);
}
END_TEST


/* Fills hdrs with the header lines of a POST that passes CSRF. */
static void
board_csrf(char *hdrs, size_t len)
{
	char		 tok[256], *resp, *p;
	const char	*body;
	size_t		 n;

	ck_assert_int_eq(board_get("/board/version", &resp, &body), 200);
	ck_assert_ptr_nonnull(p = strstr(resp, "Set-Cookie: pgsse_csrf="));
	p += strlen("Set-Cookie: pgsse_csrf=");
	n = strcspn(p, ";\r\n");
	ck_assert_uint_lt(n, sizeof(tok));
	memcpy(tok, p, n);
	tok[n] = '\0';
	free(resp);
	snprintf(hdrs, len, "HX-Request: true\r\nOrigin: "
	    "http://127.0.0.1:%d\r\nCookie: pgsse_csrf=%s\r\n"
	    "X-CSRF-Token: %s\r\n", web.port, tok, tok);
}

/* An action: refused without CSRF; with it, inserts and publishes. */
START_TEST(live_action)
{
	char		 hdrs[1024], *resp;

	ck_assert_int_eq(h_http(web.port, "POST", "/board/add", NULL,
	    "title=x", REQ_TIMEOUT_SEC, &resp), 403);
	free(resp);
	board_csrf(hdrs, sizeof(hdrs));
	ck_assert_int_eq(h_http(web.port, "POST", "/board/add", hdrs,
	    "title=a+long+title+that+is+far+too+long+for+the+board+and+goes+"
	    "on+and+on+and+on+until+it+passes+one+hundred+bytes+at+last",
	    REQ_TIMEOUT_SEC, &resp), 400);
	ck_assert_ptr_nonnull(strstr(resp, "parameter title: longer than 100 "
	    "bytes"));
	free(resp);
	ck_assert_int_eq(h_http(web.port, "POST", "/board/add", hdrs,
	    "title=second&price=3.25", REQ_TIMEOUT_SEC, &resp), 200);
	ck_assert_msg(strstr(resp, "\r\nHX-Trigger: itemAdded-2\r\n") !=
	    NULL && strstr(resp, "\r\nHX-Retarget: #items\r\n") != NULL,
	    "%s", resp);
	ck_assert_msg(strstr(resp, "\r\n\r\n<li id=\"item-2\" data-q=\"\">"
	    "second 3.25 open  </li>\n") != NULL, "%s", resp);
	free(resp);
	ck_assert_int_eq(h_pg_count("select count(*) from board.item"), 2);
	ck_assert_int_eq(h_pg_count("select count(*) from pgsse.log where channel "
	    "= 'logs' and payload->>'line' = 'second'"), 1);
}
END_TEST

/*
 * Returns the app's log as a string, which the caller frees: empty if
 * the log is missing or empty, NUL bytes (a log written while it was
 * truncated) read as '?'.
 */
static char *
app_log_text(void)
{
	char	*log = NULL;
	size_t	 len = 0, i;
	ssize_t	 n = -1;
	FILE	*f;

	if ((f = fopen(app_log, "r")) != NULL) {
		n = getdelim(&log, &len, EOF, f);
		fclose(f);
	}
	if (n < 0) {
		free(log);
		ck_assert_ptr_nonnull(log = strdup(""));
		return log;
	}
	for (i = 0; i < (size_t)n; i++)
		if (log[i] == '\0')
			log[i] = '?';
	return log;
}

/*
 * An htmx header whose value comes out empty (its columns NULL or
 * empty) is left out, quietly: it is how an action sends a header only
 * for some rows, such as HX-Retarget for a job that existed already.
 */
START_TEST(live_hx_empty)
{
	char	 hdrs[1024], *resp, *log;

	board_csrf(hdrs, sizeof(hdrs));
	ck_assert_int_eq(h_http(web.port, "POST", "/board/mark/1", hdrs, NULL,
	    REQ_TIMEOUT_SEC, &resp), 204);
	ck_assert_msg(strstr(resp, "\r\nHX-Retarget: #item-1\r\n") != NULL &&
	    strstr(resp, "\r\nHX-Reswap: outerHTML\r\n") != NULL &&
	    strstr(resp, "\r\nHX-Trigger: marked\r\n") != NULL, "%s", resp);
	free(resp);
	ck_assert_int_eq(h_http(web.port, "POST", "/board/mark/2", hdrs, NULL,
	    REQ_TIMEOUT_SEC, &resp), 204);
	ck_assert_msg(strstr(resp, "HX-Retarget") == NULL &&
	    strstr(resp, "HX-Reswap") == NULL &&
	    strstr(resp, "\r\nHX-Trigger: marked\r\n") != NULL, "%s", resp);
	free(resp);
	log = app_log_text();
	ck_assert_msg(strstr(log, "refused") == NULL,
	    "an empty header is not an error: %s", log);
	free(log);
}
END_TEST

/* GETs from a thread until told to stop, counting what is not 200. */
struct hammer {
	pthread_t	 thread;
	volatile int	 stop;
	int		 ok;
	int		 bad;
	char		 last[256];
};

/* The thread of a struct hammer. */
static void *
hammer(void *arg)
{
	struct hammer	*h = arg;
	char		*resp;
	int		 st;

	while (!h->stop) {
		st = h_http(web.port, "GET", "/board/items/1", NULL, NULL,
		    REQ_TIMEOUT_SEC, &resp);
		if (st == 200 && strstr(resp, "&lt;b&gt;first") != NULL)
			h->ok++;
		else {
			h->bad++;
			snprintf(h->last, sizeof(h->last), "%s", resp);
		}
		free(resp);
	}
	return NULL;
}

/* GET /board/slow, from a thread. */
struct slow {
	pthread_t	 thread;
	int		 status;
	char		*resp;
};

/* The thread of a struct slow. */
static void *
slow(void *arg)
{
	struct slow	*s = arg;

	s->status = h_http(web.port, "GET", "/board/slow", NULL, NULL,
	    REQ_TIMEOUT_SEC, &s->resp);
	return NULL;
}

/*
 * SIGHUP loads the changed folder: the new route serves, the changed
 * SQL runs (prepared anew: no statement of the old one is left on the
 * connection), a request in flight finishes with the definition it
 * started with, and none of the requests sent all along fails.
 */
START_TEST(live_reload)
{
	struct hammer	 h;
	struct slow	 sl;
	char		*resp;
	const char	*body;
	int		 i, st = 0;

	ck_assert_int_eq(board_get("/board/version", &resp, &body), 200);
	ck_assert_msg(strncmp(body, "<p>v1 ", 6) == 0 &&
	    strstr(body, " 1</p>") != NULL, "%s", body);
	free(resp);
	ck_assert_int_eq(board_get("/board/count", &resp, &body), 404);
	free(resp);
	memset(&h, 0, sizeof(h));
	memset(&sl, 0, sizeof(sl));
	ck_assert_int_eq(pthread_create(&sl.thread, NULL, slow, &sl), 0);
	ck_assert_int_eq(pthread_create(&h.thread, NULL, hammer, &h), 0);
	usleep(300000);
	put("app.json", board_v2);
	ck_assert_int_eq(kill(app_pid, SIGHUP), 0);
	for (i = 0; i < 200 && st != 200; i++) {
		st = board_get("/board/count", &resp, &body);
		if (st == 200)
			ck_assert_str_eq(body, "<p>2 items</p>\n");
		free(resp);
		if (st != 200)
			usleep(50000);
	}
	ck_assert_int_eq(st, 200);
	pthread_join(sl.thread, NULL);
	ck_assert_int_eq(sl.status, 200);
	ck_assert_msg(strstr(sl.resp, "\r\n\r\n<p>old") != NULL, "%s",
	    sl.resp);
	free(sl.resp);
	usleep(200000);
	h.stop = 1;
	pthread_join(h.thread, NULL);
	ck_assert_msg(h.bad == 0, "%d of %d failed, the last: %s", h.bad,
	    h.bad + h.ok, h.last);
	ck_assert_int_gt(h.ok, 0);
	ck_assert_int_eq(board_get("/board/version", &resp, &body), 200);
	ck_assert_msg(strncmp(body, "<p>v2 ", 6) == 0 &&
	    strstr(body, " 0</p>") != NULL, "%s", body);
	free(resp);
	ck_assert_int_eq(board_get("/board/slow", &resp, &body), 200);
	ck_assert_str_eq(body, "<p>new  </p>\n");
	free(resp);
}
END_TEST

/* Reads the app's log until it holds want; fails the test if it never
 * does within 10 s. */
static void
log_has(const char *want)
{
	char	*log = NULL;
	int	 i;

	for (i = 0; i < 200; i++) {
		free(log);
		if (strstr(log = app_log_text(), want) != NULL)
			break;
		usleep(50000);
	}
	ck_assert_msg(strstr(log, want) != NULL, "no \"%s\" in the log:\n%s",
	    want, log);
	free(log);
}

/*
 * A statement the database refuses is answered with an error, and the
 * log says what the database said, not an empty "query failed: ".
 */
START_TEST(live_query_error_logged)
{
	char	 hdrs[1024], *resp;

	board_csrf(hdrs, sizeof(hdrs));
	ck_assert_int_ge(h_http(web.port, "POST", "/board/add", hdrs,
	    "title=x&price=abc", REQ_TIMEOUT_SEC, &resp), 400);
	free(resp);
	log_has("query failed: ERROR:  invalid input syntax for type numeric");
}
END_TEST

/* A broken edit: the error is logged with file:line, the old stays. */
START_TEST(live_reload_broken)
{
	char		*resp, want[700];
	const char	*body;

	put("app.json", "{\"fragments\": [\n"
	    "  {\"route\": \"/board/count\", \"template\": \"count.html\",\n"
	    "   \"sql\": \"select 1\" \"params\": []}\n]}\n");
	ck_assert_int_eq(kill(app_pid, SIGHUP), 0);
	snprintf(want, sizeof(want), "reload of %s failed, the previous "
	    "definition stays: %s/app.json:3:", dir, dir);
	log_has(want);
	ck_assert_int_eq(board_get("/board/count", &resp, &body), 200);
	ck_assert_str_eq(body, "<p>2 items</p>\n");
	free(resp);
	ck_assert_int_eq(board_get("/board/version", &resp, &body), 200);
	ck_assert_msg(strncmp(body, "<p>v2 ", 6) == 0, "%s", body);
	free(resp);
}
END_TEST

/*
 * SQL the database refuses (an unknown column; a $2 with one parameter
 * declared) fails the load, with the route's file:line and the
 * database's message, not a request; the old definition stays.
 */
START_TEST(live_reload_bad_sql)
{
	char		*resp, want[700];
	const char	*body;

	put("app.json", "{\"fragments\": [\n"
	    "  {\"route\": \"/board/count\", \"template\": \"count.html\",\n"
	    "   \"sql\": \"select count(nosuch) as n from board.item\"}\n]}\n");
	ck_assert_int_eq(kill(app_pid, SIGHUP), 0);
	snprintf(want, sizeof(want), "reload of %s failed, the previous "
	    "definition stays: the SQL of GET /board/count at %s/app.json:2: "
	    "column \"nosuch\" does not exist", dir, dir);
	log_has(want);
	put("app.json", "{\"fragments\": [\n"
	    "  {\"route\": \"/board/count\", \"template\": \"count.html\",\n"
	    "   \"params\": [{\"name\": \"q\", \"from\": \"query\"}],\n"
	    "   \"sql\": \"select count(*) as n from board.item where "
	    "title <> $1 and title <> $2\"}\n]}\n");
	ck_assert_int_eq(kill(app_pid, SIGHUP), 0);
	snprintf(want, sizeof(want), "the SQL of GET /board/count at %s/app.json:2: "
	    "it uses $2, and 1 parameter is declared", dir);
	log_has(want);
	ck_assert_int_eq(board_get("/board/count", &resp, &body), 200);
	ck_assert_str_eq(body, "<p>2 items</p>\n");
	free(resp);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("appdef");
	TCase	*tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, load_ok);
	tcase_add_test(tc, load_bad_json);
	tcase_add_test(tc, load_unknown_key);
	tcase_add_test(tc, load_bad_route);
	tcase_add_test(tc, load_duplicate_route);
	tcase_add_test(tc, load_bad_param);
	tcase_add_test(tc, load_sql_missing);
	tcase_add_test(tc, load_template_missing);
	tcase_add_test(tc, load_template_refused);
	tcase_add_test(tc, load_bad_hx);
	tcase_add_test(tc, load_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("serve");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, serve_params);
	tcase_add_test(tc, serve_bad_folder);
	tcase_add_test(tc, rows_typed);
	tcase_add_test(tc, render_in_place);
	suite_add_tcase(s, tc);
	tc = tcase_create("live");
	tcase_add_unchecked_fixture(tc, live_up, live_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, live_fragment);
	tcase_add_test(tc, live_action);
	tcase_add_test(tc, live_hx_empty);
	tcase_add_test(tc, live_query_error_logged);
	tcase_add_test(tc, live_reload);
	tcase_add_test(tc, live_reload_broken);
	tcase_add_test(tc, live_reload_bad_sql);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
