/*
 * check_install: pgsse as a user gets it. Installs the tree with
 * `make install DESTDIR=...`, then, from a folder outside the source
 * tree, builds the notes program of docs/FRAGMENTS.md with nothing but
 * `pkg-config --cflags --libs pgsse` pointed at that DESTDIR, runs it
 * behind lighttpd and checks its answers. Also: the installed library
 * exports exactly what the installed headers declare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "harness.h"

/* Seconds one request may take. */
#define REQ_TIMEOUT_SEC 20

static struct h_pg	 pg;
static struct h_web	 web;
static char		 root[512];	/* outside the tree: DESTDIR, app */
static char		 dest[600];	/* the DESTDIR */
static char		 flags[4096];	/* pkg-config's answer */
static char		 incdir[1024], libdir[1024];

/* Runs cmd in a shell; returns its standard output, which the caller
 * frees, or aborts if it fails. */
static char *
capture(const char *cmd)
{
	FILE	*f;
	char	*out = NULL;
	size_t	 len = 0, cap = 0, n;
	int	 rc;

	if ((f = popen(cmd, "r")) == NULL)
		ck_abort_msg("popen %s", cmd);
	do {
		if (len + 4096 + 1 > cap && (out = realloc(out,
		    cap = len + 4096 + 1)) == NULL)
			ck_abort_msg("out of memory");
		n = fread(out + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	out[len] = '\0';
	rc = pclose(f);
	ck_assert_msg(rc == 0, "%s: exit %d: %s", cmd, rc, out);
	return out;
}

/*
 * The pkg-config command line that finds the DESTDIR's pgsse first and
 * moves its prefix into the DESTDIR (PKG_CONFIG_LIBDIR and
 * --define-variable: --define-prefix of pkgconf 1.8 would move libpq's
 * paths too, see lib/pgsse.pc.in).
 */
static void
pkgconfig(char *buf, size_t len, const char *args)
{
	snprintf(buf, len, "PKG_CONFIG_LIBDIR=%s%s:$(pkg-config --variable "
	    "pc_path pkg-config) pkg-config --define-variable=pgsse_prefix=%s%s"
	    " %s", dest, getenv("PGSSE_PKGCONFIGDIR"), dest,
	    getenv("PGSSE_PREFIX"), args);
}

/* Copies the first ```lang block of docs/FRAGMENTS.md into path. */
static void
doc_block(const char *lang, const char *path)
{
	ck_assert_int_eq(h_run("awk -v want='```%s' '$0 == want { on = 1; "
	    "next } on && /^```/ { exit } on { print }' %s/docs/FRAGMENTS.md "
	    ">%s && test -s %s", lang, h_srcdir(), path, path), 0);
}

static void
install_up(void)
{
	char	 cmd[4096], *z;

	snprintf(root, sizeof(root), "%s/pgsse-install.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(dest, sizeof(dest), "%s/dest", root);
	ck_assert_int_eq(h_run("make -s -C %s install DESTDIR=%s >%s/install.log "
	    "2>&1 || { cat %s/install.log; exit 1; }", h_builddir(), dest, root,
	    root), 0);
	pkgconfig(cmd, sizeof(cmd), "--cflags --libs pgsse");
	z = capture(cmd);
	z[strcspn(z, "\n")] = '\0';
	snprintf(flags, sizeof(flags), "%s", z);
	free(z);
	pkgconfig(cmd, sizeof(cmd), "--variable includedir pgsse");
	z = capture(cmd);
	z[strcspn(z, "\n")] = '\0';
	snprintf(incdir, sizeof(incdir), "%s", z);
	free(z);
	pkgconfig(cmd, sizeof(cmd), "--variable libdir pgsse");
	z = capture(cmd);
	z[strcspn(z, "\n")] = '\0';
	snprintf(libdir, sizeof(libdir), "%s", z);
	free(z);
}

static void
install_down(void)
{
	h_run("rm -rf %s", root);
}

/*
 * Every -I and -L path that pkg-config gives is in the DESTDIR, or is
 * one that pgsse's public dependencies (Requires) give: nothing else
 * installed on the machine can satisfy the build. The DESTDIR's own
 * paths hold the headers and the library.
 */
START_TEST(install_flags_inside_destdir)
{
	char	 cmd[4096], *deps, *req, *tok, *save, *copy;
	int	 inc = 0, lib = 0;

	/* pgsse.h exposes PGconn and pgsse-app.h PGresult: libpq is a
	 * public dependency. */
	pkgconfig(cmd, sizeof(cmd), "--print-requires pgsse");
	req = capture(cmd);
	ck_assert_msg(strncmp(req, "libpq", 5) == 0, "Requires: %s", req);
	free(req);
	/* pgsse's own dependencies, from its .pc file. */
	pkgconfig(cmd, sizeof(cmd), "--print-requires --print-requires-private "
	    "pgsse | tr '\\n' ' '");
	req = capture(cmd);
	snprintf(cmd, sizeof(cmd), "pkg-config --cflags --libs %s", req);
	deps = capture(cmd);
	free(req);
	ck_assert_ptr_nonnull(copy = strdup(flags));
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (strncmp(tok, "-I", 2) != 0 && strncmp(tok, "-L", 2) != 0)
			continue;
		if (strncmp(tok + 2, dest, strlen(dest)) == 0) {
			inc += h_run("test -f %s/pgsse-app.h", tok + 2) == 0;
			lib += h_run("test -f %s/libpgsse.so", tok + 2) == 0;
			continue;
		}
		ck_assert_msg(strstr(deps, tok) != NULL, "%s is outside %s and "
		    "not libpq's: %s", tok, dest, flags);
		ck_assert_msg(h_run("test ! -e %s/pgsse.h -a ! -e %s/libpgsse.so",
		    tok + 2, tok + 2) == 0, "%s holds another pgsse", tok);
	}
	ck_assert_msg(inc == 1 && lib == 1, "no -I or -L into %s: %s", dest,
	    flags);
	ck_assert_msg(strstr(flags, "-lpgsse") != NULL, "%s", flags);
	free(copy);
	free(deps);
}
END_TEST

/*
 * nm -D on the installed library lists exactly the functions that the
 * installed headers declare: taken from the headers, not from the
 * version script.
 */
START_TEST(install_exports_declared_only)
{
	char	 cmd[4096], *extra, *missing;

	snprintf(cmd, sizeof(cmd), "cd %s && printf '#include <pgsse-app.h>\\n' "
	    "| ${PGSSE_CC:-cc} -E -P -I%s $(pkg-config --cflags libpq) -x c - "
	    "| grep -oE 'pgsse_[a-z0-9_]+[[:space:]]*\\([^*]' | "
	    "sed 's/[[:space:]]*(.*//' | sort -u >declared && nm -D --defined-only "
	    "%s/libpgsse.so | awk '$2 != \"A\" { sub(/@.*/, \"\", $3); "
	    "print $3 }' | sort -u >exported && test -s declared && "
	    "test -s exported", root, incdir, libdir);
	ck_assert_int_eq(h_run("%s", cmd), 0);
	snprintf(cmd, sizeof(cmd), "cd %s && comm -13 declared exported", root);
	extra = capture(cmd);
	snprintf(cmd, sizeof(cmd), "cd %s && comm -23 declared exported", root);
	missing = capture(cmd);
	ck_assert_msg(*extra == '\0', "exported but not declared:\n%s", extra);
	ck_assert_msg(*missing == '\0', "declared but not exported:\n%s",
	    missing);
	/* The list is real: it holds the calls a program needs. */
	snprintf(cmd, sizeof(cmd), "grep -cxE 'pgsse_app_main|pgsse_publish|"
	    "pgsse_app_html' %s/declared", root);
	free(extra);
	extra = capture(cmd);
	ck_assert_int_eq(atoi(extra), 3);
	free(extra);
	free(missing);
}
END_TEST

/* Builds src (in the app folder) against the DESTDIR with flags; returns
 * the compiler's exit status. */
static int
build(const char *src, const char *out)
{
	return h_run("cd %s/app && ${PGSSE_CC:-cc} ${PGSSE_SAN_CFLAGS:-} "
	    "-Wall -Wextra -Werror -o %s %s %s -Wl,-rpath,%s "
	    ">%s.log 2>&1", root, out, src, flags, libdir, out);
}

/* pgsse_app_html's format is checked like printf's. */
START_TEST(install_html_format_checked)
{
	ck_assert_int_eq(h_run("mkdir -p %s/app && printf '%%s\\n' "
	    "'#include <pgsse-app.h>' 'enum pgsse_err f(pgsse_app *a);' "
	    "'enum pgsse_err f(pgsse_app *a) { return pgsse_app_html(a, "
	    "\"<b>%%s</b>\", 42); }' >%s/app/bad.c", root, root), 0);
	ck_assert_int_ne(build("-c bad.c", "bad.o"), 0);
	ck_assert_int_eq(h_run("grep -q Werror=format %s/app/bad.o.log", root), 0);
}
END_TEST

/* Returns the token a GET of /notes/list issued in its Set-Cookie. */
static void
token(char *tok, size_t len)
{
	char	*resp, *p;

	ck_assert_int_eq(h_http(web.port, "GET", "/notes/list", NULL, NULL,
	    REQ_TIMEOUT_SEC, &resp), 200);
	p = strstr(resp, "Set-Cookie: pgsse_csrf=");
	ck_assert_msg(p != NULL, "no token: %s", resp);
	p += strlen("Set-Cookie: pgsse_csrf=");
	snprintf(tok, len, "%.*s", (int)strcspn(p, ";\r"), p);
	free(resp);
}


/* Loads the app's SQL and starts lighttpd with the built notes program. */
static void
notes_up(void)
{
	char	 conf[2048], path[700];
	PGconn	*c;
	PGresult *r;

	snprintf(path, sizeof(path), "%s/notes.sql", root);
	doc_block("sql", path);
	c = h_pg_connect();
	ck_assert_int_eq(h_run("psql -q -v ON_ERROR_STOP=1 -f %s >/dev/null",
	    path), 0);
	r = PQexec(c, "alter role notes_app password 'notes-test-pw'; "
	    "insert into notes.note (title) values ('<b>first</b>')");
	ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
	snprintf(conf, sizeof(conf), "$HTTP[\"url\"] =~ \"^/notes/\" {\n"
	    " fastcgi.server = ( \"/notes/\" => ((\n"
	    "  \"socket\" => \"%s/notes.sock\",\n"
	    "  \"bin-path\" => \"%s/app/notes\",\n"
	    "  \"check-local\" => \"disable\",\n"
	    "  \"bin-environment\" => ( \"PGSSE_APP_CONNINFO\" => \"host=127.0.0.1"
	    " port=%d dbname=pgsse user=notes_app password=notes-test-pw\" ),\n"
	    " )))\n}\n", root, root, pg.port);
	h_web_start(&web, conf);
}

/*
 * The notes program of docs/FRAGMENTS.md, built from a folder outside
 * the tree against the DESTDIR alone, answers behind lighttpd: a query
 * with a parameter, a route argument, a POST refused without CSRF and
 * accepted with it, which inserts and publishes as the notes_app role.
 */
START_TEST(install_app_behind_lighttpd)
{
	char	 tok[256], hdrs[1024], *resp, want[128];
	long	 ev;

	ck_assert_int_eq(h_run("mkdir -p %s/app", root), 0);
	snprintf(hdrs, sizeof(hdrs), "%s/app/notes.c", root);
	doc_block("c", hdrs);
	if (build("notes.c", "notes") != 0) {
		h_run("cat %s/app/notes.log >&2", root);
		ck_abort_msg("notes.c did not build with %s", flags);
	}
	/* It runs on the installed library, not the build tree's. */
	ck_assert_int_eq(h_run("ldd %s/app/notes | grep -q '%s/.*libpgsse'",
	    root, dest), 0);
	notes_up();
	ck_assert_int_eq(h_http(web.port, "GET", "/notes/list", NULL, NULL,
	    REQ_TIMEOUT_SEC, &resp), 200);
	ck_assert_msg(strstr(resp, "<li id=\"note-1\">&lt;b&gt;first&lt;&#x2F;b&gt;"
	    "</li>") != NULL, "%s", resp);
	free(resp);
	ck_assert_int_eq(h_http(web.port, "GET", "/notes/list?q=zz", NULL,
	    NULL, REQ_TIMEOUT_SEC, &resp), 200);
	ck_assert_msg(strstr(resp, "<li") == NULL, "%s", resp);
	free(resp);
	ck_assert_int_eq(h_http(web.port, "GET", "/notes/1", NULL, NULL,
	    REQ_TIMEOUT_SEC, &resp), 200);
	ck_assert_msg(strstr(resp, "<h2>&lt;b&gt;first") != NULL, "%s", resp);
	free(resp);
	ck_assert_int_eq(h_http(web.port, "GET", "/notes/999", NULL, NULL,
	    REQ_TIMEOUT_SEC, NULL), 404);
	ck_assert_int_eq(h_http(web.port, "GET", "/notes/abc", NULL, NULL,
	    REQ_TIMEOUT_SEC, NULL), 404);
	/* A POST without the token changes nothing. */
	ck_assert_int_eq(h_http(web.port, "POST", "/notes/add",
	    "HX-Request: true\r\n", "title=forged", REQ_TIMEOUT_SEC, NULL),
	    403);
	ck_assert_int_eq(h_pg_count("select count(*) from notes.note"), 1);
	token(tok, sizeof(tok));
	snprintf(hdrs, sizeof(hdrs), "HX-Request: true\r\nOrigin: "
	    "http://127.0.0.1:%d\r\nCookie: pgsse_csrf=%s\r\n"
	    "X-CSRF-Token: %s\r\n", web.port, tok, tok);
	ck_assert_int_eq(h_http(web.port, "POST", "/notes/add", hdrs,
	    "title=second+%3Cnote%3E", REQ_TIMEOUT_SEC, &resp), 200);
	ck_assert_msg(strstr(resp, "HX-Trigger: noteAdded\r\n") != NULL, "%s",
	    resp);
	ck_assert_msg(strstr(resp, "&lt;note&gt;</li>") != NULL, "%s", resp);
	ev = h_pg_count("select max(id) from pgsse.log where channel = 'logs' and "
	    "payload = '{\"source\": \"notes\", \"line\": \"second <note>\"}'");
	ck_assert_int_gt(ev, 0);
	snprintf(want, sizeof(want), "data-event=\"%ld\"", ev);
	ck_assert_msg(strstr(resp, want) != NULL, "%s in %s", want, resp);
	free(resp);
	ck_assert_int_eq(h_pg_count("select count(*) from notes.note"), 2);
	ck_assert_int_eq(h_http(web.port, "POST", "/notes/add", hdrs,
	    "title=", REQ_TIMEOUT_SEC, NULL), 400);
	h_web_stop(&web);
}
END_TEST

/*
 * The demo is installed as an app folder, share/pgsse/demo, whole: the
 * installed pgsse-app loads it (its templates, partials and SQL files)
 * and serves it, its job scripts and heartbeat are executable, and
 * sql/registry.json is the full registry, a file of its own.
 */
START_TEST(install_demo_folder)
{
	char	 share[1024], app[1024], out[1200];

	snprintf(share, sizeof(share), "%s%s/share/pgsse", dest,
	    getenv("PGSSE_PREFIX"));
	snprintf(app, sizeof(app), "%s%s/libexec/pgsse/pgsse-app", dest,
	    getenv("PGSSE_PREFIX"));
	snprintf(out, sizeof(out), "%s/demo-run.txt", root);
	h_secret_init();
	ck_assert_int_eq(h_run("env -u PGSSE_APP_DIR LD_LIBRARY_PATH=%s "
	    "REQUEST_METHOD=GET REQUEST_URI=/nope %s --app %s/demo "
	    "</dev/null >%s 2>&1", libdir, app, share, out), 0);
	ck_assert_int_eq(h_run("grep -q '^Status: 404' %s", out), 0);
	ck_assert_int_eq(h_run("cd %s/demo && test -x jobs/demo_install && "
	    "test -x jobs/demo_uninstall && test -x jobs/validation && "
	    "test -x bin/status-loop && test -f schema.sql && test -f "
	    "registry.json", share), 0);
	ck_assert_int_eq(h_run("test -f %s/sql/registry.json && ! test -L "
	    "%s/sql/registry.json && grep -q '\"demos\"' %s/sql/registry.json "
	    "&& grep -q '\"logs\"' %s/sql/registry.json", share, share, share,
	    share), 0);
	/* Without a folder it says how to give one, and exits 2. */
	ck_assert_int_eq(h_run("env -u PGSSE_APP_DIR LD_LIBRARY_PATH=%s "
	    "REQUEST_METHOD=GET REQUEST_URI=/nope %s </dev/null >%s 2>&1",
	    libdir, app, out), 2);
	ck_assert_int_eq(h_run("grep -q 'no app folder: give --app DIR or "
	    "set PGSSE_APP_DIR' %s", out), 0);
}
END_TEST

/* Installs once, with a cluster for the app's case. */
static void
suite_up(void)
{
	install_up();
	h_pg_start(&pg, NULL);
	h_pg_load("demo/schema.sql");	/* the sample's pgsse-app serves it */
}

static void
suite_down(void)
{
	h_pg_stop(&pg);
	install_down();
}

int
main(void)
{
	Suite	*s = suite_create("install");
	TCase	*tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, suite_up, suite_down);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, install_flags_inside_destdir);
	tcase_add_test(tc, install_exports_declared_only);
	tcase_add_test(tc, install_html_format_checked);
	tcase_add_test(tc, install_app_behind_lighttpd);
	tcase_add_test(tc, install_demo_folder);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
