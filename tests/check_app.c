/*
 * check_app.c: lib/app.c end to end: pgsse-app behind two lighttpd
 * servers with the shipped config, which share one CSRF secret as the
 * hosts of one site do (each spawns two pgsse-app processes). A forged
 * POST gets 403 and enqueues nothing; a token one host issued passes on
 * the other. And pgsse-app refuses to start without a usable secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "harness.h"

/* Seconds a request may take before the test gives up on it. */
/* Bytes of one cycle of app_drain_restarts: STDIN, then the request. */
#define APP_TEST_CYCLE 61000
#define REQ_TIMEOUT_SEC 20

static struct h_pg	 pg;
static struct h_web	 web1, web2;

static void
stack_up(void)
{
	h_pg_start(&pg, NULL);
	h_pg_load("demo/schema.sql");
	h_pg_load("sql/roles.sql");
	setenv("PGUSER", "pgsse_web", 1);
	h_web_start(&web1, NULL);
	h_web_start(&web2, NULL);
	setenv("PGUSER", "pgsse", 1);
}

static void
stack_down(void)
{
	h_web_stop(&web1);
	h_web_stop(&web2);
	h_pg_stop(&pg);
}

/*
 * Sends method path with Host 127.0.0.1:port and the extra header
 * lines hdrs to port. Returns the status; *resp gets the whole
 * response (the caller frees it).
 */
static int
request(int port, const char *method, const char *path, const char *hdrs,
    char **resp)
{
	return h_http(port, method, path, hdrs, NULL, REQ_TIMEOUT_SEC, resp);
}

/* POSTs path to port as htmx would, with token in cookie and header. */
static int
post(int port, const char *origin, const char *token, char **resp)
{
	char	 hdrs[1024];

	snprintf(hdrs, sizeof(hdrs), "HX-Request: true\r\nOrigin: %s\r\n"
	    "Cookie: pgsse_csrf=%s\r\nX-CSRF-Token: %s\r\n", origin, token,
	    token);
	return request(port, "POST", "/validation/run", hdrs, resp);
}

/* Returns how many validation jobs were ever enqueued. */
static long
validations(void)
{
	PGconn		*c = h_pg_connect();
	PGresult	*r;
	long		 n;

	r = PQexec(c, "select count(*) from pgsse.jobs where kind = "
	    "'validation'");
	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	n = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return n;
}

/* Gets a token issued by the server on port, into tok. */
static void
issued(int port, char *tok, size_t len)
{
	char	*resp, *p;
	size_t	 n;

	ck_assert_int_eq(request(port, "GET", "/status/content", "", &resp),
	    200);
	p = strstr(resp, "Set-Cookie: pgsse_csrf=");
	ck_assert_msg(p != NULL, "no token in: %s", resp);
	p += strlen("Set-Cookie: pgsse_csrf=");
	n = strcspn(p, ";\r\n");
	ck_assert_uint_lt(n, len);
	memcpy(tok, p, n);
	tok[n] = '\0';
	free(resp);
}

/* A token the client chose itself, the same in cookie and header. */
START_TEST(app_forged_token)
{
	char	 origin[64], *resp;
	long	 before = validations();

	snprintf(origin, sizeof(origin), "http://127.0.0.1:%d", web1.port);
	ck_assert_int_eq(post(web1.port, origin,
	    "0123456789abcdef0123456789abcdef", &resp), 403);
	ck_assert_ptr_nonnull(strstr(resp, "missing or wrong CSRF token"));
	free(resp);
	ck_assert_int_eq(validations(), before);
}
END_TEST

/* An issued token, from a page on https:// of the same host and port. */
START_TEST(app_scheme_mismatch)
{
	char	 origin[64], tok[256], *resp;
	long	 before = validations();

	issued(web1.port, tok, sizeof(tok));
	snprintf(origin, sizeof(origin), "https://127.0.0.1:%d", web1.port);
	ck_assert_int_eq(post(web1.port, origin, tok, &resp), 403);
	ck_assert_ptr_nonnull(strstr(resp, "cross-origin request refused"));
	free(resp);
	ck_assert_int_eq(validations(), before);
}
END_TEST

/*
 * A token issued by one host passes on the other, and on every
 * process of the first: they share the secret.
 */
START_TEST(app_token_shared)
{
	char	 origin[64], tok[256], *resp;
	int	 i;

	issued(web1.port, tok, sizeof(tok));
	snprintf(origin, sizeof(origin), "http://127.0.0.1:%d", web2.port);
	ck_assert_int_eq(post(web2.port, origin, tok, &resp), 200);
	ck_assert_msg(strstr(resp, "class=\"job\"") != NULL, "%s", resp);
	free(resp);
	snprintf(origin, sizeof(origin), "http://127.0.0.1:%d", web1.port);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(post(web1.port, origin, tok, &resp), 200);
		free(resp);
	}
	ck_assert_int_ge(validations(), 1);
}
END_TEST

/*
 * Runs pgsse-app on the demo as one CGI request for /nope with
 * PGSSE_SECRET_FILE set to env (or unset, if NULL) and the arguments
 * args. Returns its exit status; out gets standard output and standard
 * error.
 */
static int
app_run(const char *env, const char *args, char *out, size_t len)
{
	char	 path[600];
	FILE	*f;
	size_t	 n;
	int	 rc;

	snprintf(path, sizeof(path), "%s/tests/tmp/app-run.%d",
	    h_builddir(), (int)getpid());
	rc = h_run("mkdir -p %s/tests/tmp && %s%s%s REQUEST_METHOD=GET "
	    "REQUEST_URI=/nope PGSSE_APP_DIR=%s %s/cgi-bin/pgsse-app %s "
	    "</dev/null >%s 2>&1", h_builddir(), env ?
	    "env PGSSE_SECRET_FILE='" : "env -u PGSSE_SECRET_FILE",
	    env ? env : "", env ? "'" : "", h_app_dir(), h_builddir(), args,
	    path);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(path);
	return rc;
}

/* Writes n bytes to a new file of mode; returns its path (static). */
static const char *
secret(size_t n, mode_t mode)
{
	static char	 path[600];

	snprintf(path, sizeof(path), "%s/tests/tmp/app-secret.%d",
	    h_builddir(), (int)getpid());
	ck_assert_int_eq(h_run("mkdir -p %s/tests/tmp && rm -f %s && "
	    "head -c %zu /dev/urandom >%s && chmod %o %s", h_builddir(), path,
	    n, path, (unsigned)mode, path), 0);
	return path;
}

START_TEST(app_no_secret)
{
	char	 out[4096];

	ck_assert_int_eq(app_run(NULL, "", out, sizeof(out)), 2);
	ck_assert_msg(strstr(out, "PGSSE_SECRET_FILE") != NULL &&
	    strstr(out, "POST /demos/<id>/install needs a CSRF secret") != NULL,
	    "%s", out);
	ck_assert_int_eq(app_run("", "", out, sizeof(out)), 2);
	ck_assert_int_eq(app_run("/nonexistent/secret", "", out, sizeof(out)),
	    2);
	ck_assert_msg(strstr(out, "cannot read /nonexistent/secret") != NULL,
	    "%s", out);
}
END_TEST

START_TEST(app_bad_secret)
{
	char	 out[4096];

	ck_assert_int_eq(app_run(secret(32, 0644), "", out, sizeof(out)), 2);
	ck_assert_msg(strstr(out, "chmod o-rwx") != NULL, "%s", out);
	ck_assert_int_eq(app_run(secret(16, 0600), "", out, sizeof(out)), 2);
	ck_assert_msg(strstr(out, "holds 16 bytes") != NULL, "%s", out);
}
END_TEST

/* With a good secret it serves, and issues a 96-digit token. */
START_TEST(app_good_secret)
{
	char	 out[4096], arg[700], *p;

	ck_assert_int_eq(app_run(secret(32, 0640), "", out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "Status: 404") != NULL, "%s", out);
	ck_assert_ptr_nonnull(p = strstr(out, "Set-Cookie: pgsse_csrf="));
	p += strlen("Set-Cookie: pgsse_csrf=");
	ck_assert_uint_eq(strspn(p, "0123456789abcdef"), 96);
	/* --secret-file wins over the environment. */
	snprintf(arg, sizeof(arg), "--secret-file %s", secret(32, 0600));
	ck_assert_int_eq(app_run("/nonexistent/secret", arg, out,
	    sizeof(out)), 0);
	ck_assert_msg(strstr(out, "Status: 404") != NULL, "%s", out);
}
END_TEST

static struct h_web	 txweb;

/* lighttpd with tests/txapp, one worker, so two requests share a
 * connection, and a user, so that queries take the pipelined path
 * that sets pgsse.user. GET requests read on a connection of their
 * own (PGSSE_APP_READ_CONNINFO), named pgsse-read; the main one is
 * pgsse-main. */
static void
tx_up(void)
{
	char	 conf[1024];
	PGconn	*c;

	h_pg_start(&pg, NULL);
	h_pg_load("sql/roles.sql");
	h_pg_load("demo/schema.sql");	/* the sample's pgsse-app serves it */
	c = h_pg_connect();	/* for the folder of pipe_app_with */
	h_exec(c, "create table public.pipe_hits (n int); "
	    "grant select, insert on public.pipe_hits to pgsse_web; "
	    "create function public.pipe_hits_check() returns trigger "
	    "language plpgsql as $$ begin if new.n = 99 then raise exception "
	    "'99 is refused at commit'; end if; return null; end $$; "
	    "create constraint trigger pipe_hits_99 after insert on "
	    "public.pipe_hits deferrable initially deferred for each row "
	    "execute function public.pipe_hits_check()");
	PQfinish(c);
	snprintf(conf, sizeof(conf), "server.modules += ( \"mod_setenv\" )\n"
	    "$HTTP[\"url\"] =~ \"^/tx/\" {\n"
	    " setenv.add-environment = ( \"REMOTE_USER\" => \"alice\" )\n"
	    " fastcgi.server = ( \"/tx/\" => ((\n"
	    "  \"socket\" => \"%s/txapp.sock\",\n"
	    "  \"bin-path\" => \"%s/tests/txapp\",\n"
	    "  \"max-procs\" => 1, \"check-local\" => \"disable\",\n"
	    "  \"bin-environment\" => ( \"PGUSER\" => \"pgsse_web\",\n"
	    "   \"PGSSE_APP_THREADS\" => \"1\",\n"
	    "   \"PGAPPNAME\" => \"pgsse-main\",\n"
	    "   \"PGSSE_APP_READ_CONNINFO\" => \"application_name=pgsse-read\""
	    " ),\n )))\n}\n",
	    h_builddir(), h_builddir());
	h_web_start(&txweb, conf);
}

static void
tx_down(void)
{
	h_web_stop(&txweb);
	h_pg_stop(&pg);
}

/*
 * A route that leaves a transaction open does not hand it to the next
 * request on its connection: that one would run in the old transaction,
 * with its settings (pgsse.user among them) and its snapshot.
 */
START_TEST(app_tx_not_inherited)
{
	char	*resp, at[128], *p;

	ck_assert_int_eq(h_http(txweb.port, "GET", "/tx/open", NULL, NULL,
	    REQ_TIMEOUT_SEC, &resp), 200);
	ck_assert_ptr_nonnull(p = strstr(resp, "\r\n\r\nat="));
	snprintf(at, sizeof(at), "%.*s", (int)strcspn(p + 4, "\n"), p + 4);
	free(resp);
	usleep(10000);
	ck_assert_int_eq(h_http(txweb.port, "GET", "/tx/check", NULL, NULL,
	    REQ_TIMEOUT_SEC, &resp), 200);
	ck_assert_msg(strstr(resp, "\r\n\r\nmark= at=") != NULL, "%s", resp);
	ck_assert_msg(strstr(resp, at) == NULL, "same transaction (%s): %s",
	    at, resp);
	ck_assert_msg(strstr(resp, " user=alice\n") != NULL, "%s", resp);
	free(resp);
}
END_TEST

/*
 * A connection lost inside a route's transaction fails the route's
 * later queries instead of running them on a new connection, outside
 * the transaction (where a later commit would report success); the
 * next request gets a fresh connection.
 */
START_TEST(app_tx_lost)
{
	char	*resp;

	ck_assert_int_eq(h_http(txweb.port, "GET", "/tx/lost", NULL, NULL,
	    REQ_TIMEOUT_SEC, &resp), 200);
	ck_assert_msg(strstr(resp, "\r\n\r\nafter=failed\n") != NULL, "%s",
	    resp);
	free(resp);
	ck_assert_int_eq(h_http(txweb.port, "GET", "/tx/check", NULL, NULL,
	    REQ_TIMEOUT_SEC, &resp), 200);
	ck_assert_msg(strstr(resp, "\r\n\r\nmark= at=") != NULL, "%s", resp);
	free(resp);
}
END_TEST

/* A COPY is refused (it would never hand the connection back), and the
 * worker serves the next request. */
START_TEST(app_copy_refused)
{
	char	*resp;

	ck_assert_int_eq(h_http(txweb.port, "GET", "/tx/copy", NULL, NULL,
	    REQ_TIMEOUT_SEC, &resp), 200);
	ck_assert_msg(strstr(resp, "\r\n\r\ncopy=refused\n") != NULL, "%s",
	    resp);
	free(resp);
	ck_assert_int_eq(h_http(txweb.port, "GET", "/tx/check", NULL, NULL,
	    REQ_TIMEOUT_SEC, &resp), 200);
	ck_assert_msg(strstr(resp, "\r\n\r\nmark= at=") != NULL, "%s", resp);
	free(resp);
}
END_TEST

/* Returns the status of method /tx/whoami on txweb; app gets the name. */
static int
whoami(const char *method, const char *tok, char *app, size_t len)
{
	char	 hdrs[1024], *resp, *p;
	int	 st;

	snprintf(hdrs, sizeof(hdrs), "HX-Request: true\r\nOrigin: "
	    "http://127.0.0.1:%d\r\nCookie: pgsse_csrf=%s\r\n"
	    "X-CSRF-Token: %s\r\n", txweb.port, tok, tok);
	st = request(txweb.port, method, "/tx/whoami", hdrs, &resp);
	app[0] = '\0';
	if ((p = strstr(resp, "\r\n\r\napp=")) != NULL)
		snprintf(app, len, "%.*s", (int)strcspn(p + 8, "\n"), p + 8);
	free(resp);
	return st;
}

/*
 * With PGSSE_APP_READ_CONNINFO, GET requests query on the read
 * connection (a standby's, in a cluster) and POST (actions, which
 * write) on the main one, however they alternate on one worker.
 */
START_TEST(app_read_conninfo)
{
	char	 tok[256], app[128];
	int	 i;

	issued(txweb.port, tok, sizeof(tok));
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(whoami("GET", tok, app, sizeof(app)), 200);
		ck_assert_str_eq(app, "pgsse-read");
		ck_assert_int_eq(whoami("POST", tok, app, sizeof(app)), 200);
		ck_assert_str_eq(app, "pgsse-main");
	}
}
END_TEST

/*
 * Connects to txapp's FastCGI socket (lighttpd names it txapp.sock-0).
 * Returns the descriptor.
 */
static int
fcgi_connect(void)
{
	struct sockaddr_un	 sun;
	glob_t			 g;
	char			 pat[600];
	int			 fd;

	snprintf(pat, sizeof(pat), "%s/txapp.sock*", h_builddir());
	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", g.gl_pathv[0]);
	globfree(&g);
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Appends a FastCGI record of type with n bytes of p to b at *len. */
static void
fcgi_record(unsigned char *b, size_t *len, int type, const void *p,
    size_t n)
{
	unsigned char	*h = b + *len;

	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = 0;
	h[3] = 1;
	h[4] = (unsigned char)(n >> 8);
	h[5] = (unsigned char)n;
	h[6] = h[7] = 0;
	memcpy(h + 8, p, n);
	*len += 8 + n;
}

/*
 * Reads the answer on fd up to its END_REQUEST, its STDOUT into out
 * (NUL-terminated, cut at size; none if out is NULL). Returns the
 * END_REQUEST's protocol status if it came within secs seconds, else -1.
 */
static int
fcgi_end_status_out(int fd, int secs, char *out, size_t size)
{
	unsigned char	 b[4096];
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	size_t		 have = 0, rlen, clen, got = 0;
	ssize_t		 r;

	if (out != NULL)
		out[0] = '\0';
	for (;;) {
		while (have < 8 || have < 8 + (size_t)(b[4] << 8 | b[5]) +
		    b[6]) {
			if (poll(&pfd, 1, secs * 1000) != 1 ||
			    (r = read(fd, b + have, sizeof(b) - have)) <= 0)
				return -1;
			have += (size_t)r;
		}
		if (b[1] == 3)
			return b[8 + 4];
		clen = (size_t)(b[4] << 8 | b[5]);
		if (out != NULL && b[1] == 6 && got + clen < size) {
			memcpy(out + got, b + 8, clen);
			out[got += clen] = '\0';
		}
		rlen = 8 + clen + b[6];
		memmove(b, b + rlen, have - rlen);
		have -= rlen;
	}
}

/* fcgi_end_status_out without the STDOUT. */
static int
fcgi_end_status(int fd, int secs)
{
	return fcgi_end_status_out(fd, secs, NULL, 0);
}

/*
 * Reads the STDOUT of the answer on fd into out (fcgi_end_status_out).
 * Returns 1 if its END_REQUEST came within secs seconds, else 0.
 */
static int
fcgi_stdout(int fd, int secs, char *out, size_t size)
{
	return fcgi_end_status_out(fd, secs, out, size) != -1;
}

/*
 * Sends GET /tx/whoami on fd, asking the program to keep the connection
 * if keep. Returns 1 if the whole answer (its END_REQUEST) came within
 * secs seconds, else 0.
 */
static int
fcgi_get(int fd, int keep, int secs)
{
	static const char	 params[] = "\016\003REQUEST_METHODGET"
	    "\013\012REQUEST_URI/tx/whoami";
	unsigned char		 b[512], begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t			 len = 0;

	begin[2] = keep ? 1 : 0;	/* FCGI_KEEP_CONN */
	fcgi_record(b, &len, 1, begin, sizeof(begin));
	fcgi_record(b, &len, 4, params, sizeof(params) - 1);
	fcgi_record(b, &len, 4, "", 0);
	fcgi_record(b, &len, 5, "", 0);
	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
	return fcgi_end_status(fd, secs) != -1;
}

/*
 * FCGI_GET_VALUES, as a web server may ask it before its requests, is
 * answered with GET_VALUES_RESULT (FCGI_MPXS_CONNS "0"), as libfcgi
 * answered it, and the connection then serves a request.
 */
START_TEST(app_get_values)
{
	static const unsigned char ask[] = {
		1, 9, 0, 0, 0, 17, 0, 0, 15, 0, 'F', 'C', 'G', 'I', '_',
		'M', 'P', 'X', 'S', '_', 'C', 'O', 'N', 'N', 'S',
	};
	static const unsigned char want[] = {
		1, 10, 0, 0, 0, 18, 0, 0, 15, 1, 'F', 'C', 'G', 'I', '_',
		'M', 'P', 'X', 'S', '_', 'C', 'O', 'N', 'N', 'S', '0',
	};
	unsigned char	 got[sizeof(want)];
	struct pollfd	 pfd;
	size_t		 have = 0;
	ssize_t		 r;
	int		 fd;

	fd = fcgi_connect();
	ck_assert_int_eq(write(fd, ask, sizeof(ask)), (ssize_t)sizeof(ask));
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (have < sizeof(want) && poll(&pfd, 1, REQ_TIMEOUT_SEC * 1000)
	    == 1 && (r = read(fd, got + have, sizeof(got) - have)) > 0)
		have += (size_t)r;
	ck_assert_msg(have == sizeof(want) && memcmp(got, want,
	    sizeof(want)) == 0, "no GET_VALUES_RESULT with FCGI_MPXS_CONNS 0 "
	    "(%zu bytes, type %d)", have, have > 1 ? got[1] : -1);
	ck_assert_msg(fcgi_get(fd, 0, REQ_TIMEOUT_SEC), "no answer to a "
	    "request after FCGI_GET_VALUES on the same connection");
	close(fd);
}
END_TEST

/*
 * A connection the web server keeps open between requests (nginx's
 * fastcgi_keep_conn, Apache's enablereuse) holds no worker while idle:
 * with one worker and one kept connection idle, a request on another
 * connection is still answered, and the kept one serves again.
 */
START_TEST(app_kept_conn_no_pin)
{
	int	 kept, other;

	kept = fcgi_connect();
	ck_assert_msg(fcgi_get(kept, 1, REQ_TIMEOUT_SEC), "no answer on the "
	    "connection to keep");
	other = fcgi_connect();
	ck_assert_msg(fcgi_get(other, 0, 5), "a request on a second "
	    "connection got no answer in 5 s: the idle kept connection "
	    "holds the one worker");
	close(other);
	ck_assert_msg(fcgi_get(kept, 1, REQ_TIMEOUT_SEC), "the kept "
	    "connection serves no second request");
	close(kept);
}
END_TEST

/*
 * Sends the start of GET /tx/whoami on fd (no FCGI_KEEP_CONN) with
 * CONTENT_LENGTH 1000000000 and one STDIN record of 100 bytes: a body
 * that has only begun to come, slowly.
 */
static void
fcgi_slow_body(int fd)
{
	static const char	 params[] = "\016\003REQUEST_METHODGET"
	    "\013\012REQUEST_URI/tx/whoami"
	    "\016\012CONTENT_LENGTH1000000000";
	unsigned char		 b[512], begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	char			 body[100];
	size_t			 len = 0;

	memset(body, 'x', sizeof(body));
	fcgi_record(b, &len, 1, begin, sizeof(begin));
	fcgi_record(b, &len, 4, params, sizeof(params) - 1);
	fcgi_record(b, &len, 4, "", 0);
	fcgi_record(b, &len, 5, body, sizeof(body));
	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
}

/*
 * Returns 1 if the whole answer to the request already sent on fd (its
 * END_REQUEST) comes within secs seconds, else 0.
 */
static int
fcgi_answer(int fd, int secs)
{
	return fcgi_end_status(fd, secs) != -1;
}

/*
 * A request whose body is declared huge and comes slowly gets its
 * answer without waiting for the body, and holds the one worker for a
 * bounded time only: a request on another connection is answered.
 */
START_TEST(app_slow_body)
{
	int	 slow, other;

	slow = fcgi_connect();
	fcgi_slow_body(slow);
	ck_assert_msg(fcgi_answer(slow, 5), "no answer in 5 s to a GET "
	    "whose declared body of 1e9 bytes comes slowly: the worker waits "
	    "for the whole body before it answers");
	other = fcgi_connect();
	ck_assert_msg(fcgi_get(other, 0, REQ_TIMEOUT_SEC), "a request on a "
	    "second connection got no answer in %d s: the slow body holds "
	    "the one worker", REQ_TIMEOUT_SEC);
	close(other);
	close(slow);
}
END_TEST

/*
 * A body drained after its answer is read PGSSE_APP_DISCARD_MAX bytes
 * at most, however often its request starts over (a BEGIN_REQUEST of
 * its own id: fcgi_req_restart, which counts STDIN from 0 again): a
 * peer that sends 8 MiB of it in pieces, each followed by the request
 * again, has the connection closed long before it is all sent.
 */
START_TEST(app_drain_restarts)
{
	static const char	 params[] = "\016\003REQUEST_METHODGET"
	    "\013\012REQUEST_URI/tx/whoami"
	    "\016\012CONTENT_LENGTH1000000000";
	static unsigned char	 cyc[APP_TEST_CYCLE];
	static char		 xs[60000];
	unsigned char		 b[512], begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t			 len = 0, clen = 0, i;
	pid_t			 pid;
	int			 fd, st;

	fd = fcgi_connect();
	fcgi_record(b, &len, 1, begin, sizeof(begin));
	fcgi_record(b, &len, 4, params, sizeof(params) - 1);
	fcgi_record(b, &len, 4, "", 0);
	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
	ck_assert_msg(fcgi_answer(fd, REQ_TIMEOUT_SEC), "no answer to a GET "
	    "that declares a body of 1e9 bytes");
	memset(xs, 'x', sizeof(xs));
	fcgi_record(cyc, &clen, 5, xs, sizeof(xs));	/* STDIN */
	fcgi_record(cyc, &clen, 1, begin, sizeof(begin));
	fcgi_record(cyc, &clen, 4, params, sizeof(params) - 1);
	fcgi_record(cyc, &clen, 4, "", 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		for (i = 0; i < 8 * 1024 * 1024 / clen; i++)
			if (write(fd, cyc, clen) != (ssize_t)clen)
				_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "8 MiB of a "
	    "drained body, starting over after each 60,000 bytes, were all "
	    "read: PGSSE_APP_DISCARD_MAX does not hold");
	close(fd);
}
END_TEST

/*
 * A connection that says nothing, and a kept one that sends half a
 * record header, hold the one worker for a bounded time only: a
 * request on a third connection is answered.
 */
START_TEST(app_silent_conn)
{
	int	 kept, silent, other;

	kept = fcgi_connect();
	ck_assert_msg(fcgi_get(kept, 1, REQ_TIMEOUT_SEC), "no answer on the "
	    "connection to keep");
	ck_assert_int_eq(write(kept, "\001\001\000", 3), 3);
	silent = fcgi_connect();
	other = fcgi_connect();
	ck_assert_msg(fcgi_get(other, 0, REQ_TIMEOUT_SEC), "a request got no "
	    "answer in %d s: a silent connection or a kept one with half a "
	    "record holds the one worker", REQ_TIMEOUT_SEC);
	close(other);
	close(silent);
	close(kept);
}
END_TEST

/*
 * A request whose parameters run past PGSSE_FCGI_PARAMS_MAX (64 KiB:
 * here one header of 70,000 bytes, over two PARAMS records) is answered
 * 400, and the one worker serves the next connection.
 */
START_TEST(app_params_over_limit)
{
	static const char	 get[] = "\016\003REQUEST_METHODGET"
	    "\013\012REQUEST_URI/tx/whoami";
	unsigned char		 begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	unsigned char		*b, *pair;
	char			 out[1024];
	size_t			 len = 0, vlen = 70000, plen;
	int			 fd, other;

	ck_assert_ptr_nonnull(b = malloc(vlen + 512));
	ck_assert_ptr_nonnull(pair = malloc(vlen + 16));
	pair[0] = 6;	/* "HTTP_X", then a 4-byte value length */
	pair[1] = 0x80;
	pair[2] = (unsigned char)(vlen >> 16);
	pair[3] = (unsigned char)(vlen >> 8);
	pair[4] = (unsigned char)vlen;
	memcpy(pair + 5, "HTTP_X", 6);
	memset(pair + 11, 'v', vlen);
	plen = 11 + vlen;
	fcgi_record(b, &len, 1, begin, sizeof(begin));
	fcgi_record(b, &len, 4, get, sizeof(get) - 1);
	fcgi_record(b, &len, 4, pair, 60000);
	fcgi_record(b, &len, 4, pair + 60000, plen - 60000);
	fcgi_record(b, &len, 4, "", 0);
	fcgi_record(b, &len, 5, "", 0);
	fd = fcgi_connect();
	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
	ck_assert_msg(fcgi_stdout(fd, REQ_TIMEOUT_SEC, out, sizeof(out)),
	    "no answer in %d s to a request with 70,000 bytes of "
	    "parameters", REQ_TIMEOUT_SEC);
	ck_assert_msg(strstr(out, "Status: 400") != NULL, "a request with "
	    "70,000 bytes of parameters was answered \"%.60s\", not 400",
	    out);
	other = fcgi_connect();
	ck_assert_msg(fcgi_get(other, 0, REQ_TIMEOUT_SEC), "a request after "
	    "one over the parameters' limit got no answer");
	close(other);
	close(fd);
	free(pair);
	free(b);
}
END_TEST

/*
 * A peer that sends what is no FastCGI (an HTTP request) is closed at
 * once, and the one worker serves the next connection.
 */
START_TEST(app_not_fastcgi)
{
	static const char	 http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct pollfd		 pfd;
	char			 c;
	int			 fd, other;

	fd = fcgi_connect();
	ck_assert_int_eq(write(fd, http, sizeof(http) - 1),
	    (ssize_t)sizeof(http) - 1);
	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_msg(poll(&pfd, 1, REQ_TIMEOUT_SEC * 1000) == 1 &&
	    read(fd, &c, 1) == 0, "a peer that sent HTTP, not FastCGI, was "
	    "not closed within %d s", REQ_TIMEOUT_SEC);
	other = fcgi_connect();
	ck_assert_msg(fcgi_get(other, 0, REQ_TIMEOUT_SEC), "a request after "
	    "a peer that sent HTTP got no answer");
	close(other);
	close(fd);
}
END_TEST

/*
 * A request in a role other than RESPONDER (here AUTHORIZER) ends with
 * END_REQUEST's UNKNOWN_ROLE (3), and one the web server aborts while
 * its parameters come ends with REQUEST_COMPLETE (0), as libfcgi
 * answered them.
 */
START_TEST(app_role_abort)
{
	unsigned char	 b[64], begin[8] = { 0, 2, 0, 0, 0, 0, 0, 0 };
	size_t		 len = 0;
	int		 fd;

	fd = fcgi_connect();
	fcgi_record(b, &len, 1, begin, sizeof(begin));
	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
	ck_assert_int_eq(fcgi_end_status(fd, REQ_TIMEOUT_SEC), 3);
	close(fd);
	fd = fcgi_connect();
	begin[1] = 1;
	len = 0;
	fcgi_record(b, &len, 1, begin, sizeof(begin));
	fcgi_record(b, &len, 4, "\001\001AB", 4);
	fcgi_record(b, &len, 2, "", 0);
	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
	ck_assert_int_eq(fcgi_end_status(fd, REQ_TIMEOUT_SEC), 0);
	close(fd);
}
END_TEST

/*
 * A kept connection that keeps sending records the reader does not take
 * for its request (management records, of request id 0, which it
 * answers with UNKNOWN_TYPE) within a request holds the one
 * worker for a bounded time only: a request on another connection is
 * answered. The flood comes from a child, which stops once it is closed
 * or after 30 s.
 */
START_TEST(app_flood_bounded)
{
	static unsigned char b[256 * 1024];
	unsigned char	 begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t		 len = 0, i;
	time_t		 t0;
	pid_t		 pid;
	int		 fd, other, st, sndbuf = 64 * 1024 * 1024;

	fd = fcgi_connect();
	/* A deep send buffer keeps the reader from ever finding the socket
	 * empty (as root; else the default, which only makes it likelier). */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
	    sizeof(sndbuf)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	ck_assert_msg(fcgi_get(fd, 1, REQ_TIMEOUT_SEC), "no answer on the "
	    "connection to keep");
	fcgi_record(b, &len, 1, begin, sizeof(begin));
	for (i = len; i + 8 <= sizeof(b); i += 8) {
		memset(b + i, 0, 8);
		b[i] = 1;
		b[i + 1] = 9;	/* GET_VALUES, id 0, empty */
	}
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		t0 = time(NULL);
		if (write(fd, b, sizeof(b)) > 0)	/* BEGIN, then the flood */
			while (time(NULL) - t0 < 30 &&
			    write(fd, b + len, sizeof(b) - len) > 0)
				;
		_exit(0);
	}
	usleep(200000);
	other = fcgi_connect();
	ck_assert_msg(fcgi_get(other, 0, 12), "a request got no answer in "
	    "12 s while another connection kept sending skipped records: "
	    "the flood holds the one worker");
	close(other);
	close(fd);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
}
END_TEST

/*
 * Starts tests/txapp on 127.0.0.1:port with FCGI_WEB_SERVER_ADDRS set
 * to addrs, one worker, in the background; its pid goes to pidfile.
 */
static void
tcp_app_start(const char *addrs, int port, const char *pidfile)
{
	int	 i, fd;

	ck_assert_int_eq(h_run("FCGI_WEB_SERVER_ADDRS='%s' PGUSER=pgsse_web "
	    "PGSSE_APP_THREADS=1 %s/tests/txapp --socket 127.0.0.1:%d "
	    ">/dev/null 2>&1 & echo $! >%s", addrs, h_builddir(), port,
	    pidfile), 0);
	for (i = 0; i < 200; i++) {
		if ((fd = h_connect(port)) >= 0) {
			close(fd);
			return;
		}
		usleep(50000);
	}
	ck_abort_msg("txapp did not listen on port %d", port);
}

/*
 * FCGI_WEB_SERVER_ADDRS, libfcgi's list of the web servers' IPv4
 * addresses, holds on a TCP socket: a peer not in it gets no answer,
 * one in it does; a malformed list stops the program at start.
 */
START_TEST(app_web_server_addrs)
{
	char	 pidfile[600], out[4096], path[600];
	FILE	*f;
	size_t	 n;
	int	 port = h_free_port(), fd, rc;

	snprintf(pidfile, sizeof(pidfile), "%s/tests/tmp/app-tcp.%d",
	    h_builddir(), (int)getpid());
	ck_assert_int_eq(h_run("mkdir -p %s/tests/tmp", h_builddir()), 0);
	tcp_app_start("127.0.0.2", port, pidfile);
	ck_assert_int_ge(fd = h_connect_from("127.0.0.1", port), 0);
	rc = fcgi_get(fd, 0, 5);
	close(fd);
	ck_assert_int_ge(fd = h_connect_from("127.0.0.2", port), 0);
	ck_assert_msg(fcgi_get(fd, 0, REQ_TIMEOUT_SEC), "no answer to a "
	    "peer in FCGI_WEB_SERVER_ADDRS");
	close(fd);
	h_run("kill $(cat %s)", pidfile);
	ck_assert_msg(rc == 0, "a peer (127.0.0.1) not in "
	    "FCGI_WEB_SERVER_ADDRS=127.0.0.2 got an answer");
	/* A list that does not parse: refused at start, not ignored. */
	snprintf(path, sizeof(path), "%s/tests/tmp/app-tcp-out.%d",
	    h_builddir(), (int)getpid());
	rc = h_run("FCGI_WEB_SERVER_ADDRS=127.0.0.1,nonsense timeout 10 "
	    "%s/tests/txapp --socket 127.0.0.1:%d >%s 2>&1", h_builddir(),
	    h_free_port(), path);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(path);
	unlink(pidfile);
	ck_assert_msg(rc == 2 && strstr(out, "FCGI_WEB_SERVER_ADDRS") !=
	    NULL && strstr(out, "nonsense") != NULL, "exit %d: %s", rc, out);
}
END_TEST

/* Returns the CPU time in clock ticks that process pid has used. */
static long
cpu_ticks(long pid)
{
	char	 path[64], buf[1024], *p;
	long	 ut = 0, st = 0;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	/* After ") ": state, then 10 fields, then utime and stime. */
	ck_assert_ptr_nonnull(p = strrchr(buf, ')'));
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	    "%*u %*u %ld %ld", &ut, &st), 2);
	return ut + st;
}

/*
 * Out of descriptors (a low limit, used up by kept connections), with
 * a connection waiting to be accepted, the workers do not spin on the
 * listening socket: they pause after each failed accept (logged), and
 * use a fraction of the CPU while the connection waits.
 */
START_TEST(app_emfile_no_spin)
{
	char	 pidfile[600], log[600], out[8192];
	int	 port = h_free_port(), fds[64], n, i, fd;
	long	 pid, t0, t1;
	FILE	*f;
	size_t	 len;

	snprintf(pidfile, sizeof(pidfile), "%s/tests/tmp/app-emfile.%d",
	    h_builddir(), (int)getpid());
	snprintf(log, sizeof(log), "%s/tests/tmp/app-emfile-log.%d",
	    h_builddir(), (int)getpid());
	ck_assert_int_eq(h_run("mkdir -p %s/tests/tmp && (ulimit -n 32; "
	    "PGUSER=pgsse_web PGSSE_APP_THREADS=2 exec %s/tests/txapp "
	    "--socket 127.0.0.1:%d >%s 2>&1) & echo $! >%s", h_builddir(),
	    h_builddir(), port, log, pidfile), 0);
	for (i = 0; i < 200 && (fd = h_connect(port)) < 0; i++)
		usleep(50000);
	ck_assert_int_ge(fd, 0);
	close(fd);
	/* Kept connections until one gets no answer: that one waits. */
	for (n = 0; n < 64; n++) {
		ck_assert_int_ge(fds[n] = h_connect(port), 0);
		if (!fcgi_get(fds[n], 1, 3))
			break;
	}
	ck_assert_msg(n < 64, "64 kept connections under ulimit -n 32");
	ck_assert_ptr_nonnull(f = fopen(pidfile, "r"));
	ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	t0 = cpu_ticks(pid);
	sleep(2);
	t1 = cpu_ticks(pid);
	h_run("kill %ld", pid);
	for (i = 0; i <= n && i < 64; i++)
		close(fds[i]);
	ck_assert_ptr_nonnull(f = fopen(log, "r"));
	len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = '\0';
	fclose(f);
	unlink(log);
	unlink(pidfile);
	ck_assert_msg(strstr(out, "Too many open files") != NULL, "no "
	    "accept failure logged: %s", out);
	ck_assert_msg(t1 - t0 < sysconf(_SC_CLK_TCK) / 2, "the workers used "
	    "%ld ticks of CPU in 2 s with a connection waiting and no "
	    "descriptor left (bound %ld): they spin on accept", t1 - t0,
	    sysconf(_SC_CLK_TCK) / 2);
}
END_TEST

/* Appends the FastCGI pair name=value to b at *len (each under 128). */
static void
fcgi_pair(unsigned char *b, size_t *len, const char *name, const char *value)
{
	size_t	 n = strlen(name), v = strlen(value);

	b[(*len)++] = (unsigned char)n;
	b[(*len)++] = (unsigned char)v;
	memcpy(b + *len, name, n);
	memcpy(b + *len + n, value, v);
	*len += n + v;
}

/*
 * Sends method uri on fd with the name/value pairs in kv (NULL-ended),
 * asking the program to keep the connection if keep.
 */
static void
fcgi_req(int fd, const char *method, const char *uri, int keep,
    const char *const *kv)
{
	unsigned char	 b[2048], p[1536], begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t		 len = 0, plen = 0;

	begin[2] = keep ? 1 : 0;	/* FCGI_KEEP_CONN */
	fcgi_pair(p, &plen, "REQUEST_METHOD", method);
	fcgi_pair(p, &plen, "REQUEST_URI", uri);
	for (; kv != NULL && kv[0] != NULL; kv += 2)
		fcgi_pair(p, &plen, kv[0], kv[1]);
	fcgi_record(b, &len, 1, begin, sizeof(begin));
	fcgi_record(b, &len, 4, p, plen);
	fcgi_record(b, &len, 4, "", 0);
	fcgi_record(b, &len, 5, "", 0);
	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
}

/* Sends GET uri on fd, as user if not NULL, on a connection not kept. */
static void
fcgi_send(int fd, const char *uri, const char *user)
{
	const char	*kv[3] = { "REMOTE_USER", user, NULL };

	fcgi_req(fd, "GET", uri, 0, user != NULL ? kv : NULL);
}

/*
 * Reads the answer on fd, up to its END_REQUEST, within secs seconds:
 * its STDOUT into out (size sz, NUL-terminated). Returns 1, or 0 if it
 * did not come whole.
 */
static int
fcgi_read(int fd, int secs, char *out, size_t sz)
{
	unsigned char	 h[8], c[65536 + 256];
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	size_t		 n, have, olen = 0;
	ssize_t		 r;

	out[0] = '\0';
	for (;;) {
		for (have = 0; have < 8; have += (size_t)r)
			if (poll(&pfd, 1, secs * 1000) != 1 ||
			    (r = read(fd, h + have, 8 - have)) <= 0)
				return 0;
		n = (size_t)(h[4] << 8 | h[5]) + h[6];
		for (have = 0; have < n; have += (size_t)r)
			if (poll(&pfd, 1, secs * 1000) != 1 ||
			    (r = read(fd, c + have, n - have)) <= 0)
				return 0;
		if (h[1] == 3)
			return 1;
		n -= h[6];
		if (h[1] == 6 && olen + n < sz) {
			memcpy(out + olen, c, n);
			out[olen += n] = '\0';
		}
	}
}

/* Returns the value of counter name on the metrics page in page, or -1. */
static long
metric(const char *page, const char *name)
{
	const char	*p = page;
	size_t		 n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == page || p[-1] == '\n') && p[n] == ' ')
			return atol(p + n + 1);
		p += n;
	}
	return -1;
}

/*
 * Requests that arrive together are served together. With the one
 * worker held by a slow request, 12 more wait; at its next wake it
 * takes them all, and runs their declared GET routes' statements in
 * one pipeline (the metrics page counts it). Each still gets its own
 * answer: its parameter, its own user (set for its statement alone,
 * so an anonymous one after a named one sees none), and a statement
 * that fails (division by zero) fails for its request alone.
 */
/*
 * Starts program prog (under the build folder), with the environment
 * settings env before it, with one worker on 127.0.0.1:port, serving a
 * folder made in dir: GET /twice/<n> (2n and the user, or -), GET
 * /inv/<n> (12 / (n - 3)), GET /hit/<n> (n, inserted into
 * public.pipe_hits, which the test makes) and GET /slow (half a
 * second). Its pid goes
 * to pidfile. Returns once it accepts connections.
 */
static void
pipe_app_with(const char *dir, const char *pidfile, int port,
    const char *prog, const char *env)
{
	int	 i, fd = -1;

	ck_assert_int_eq(h_run("mkdir -p %s/templates && printf '%%s' "
	    "'{{#rows}}{{v}} {{u}}{{/rows}}' >%s/templates/t.html", dir, dir),
	    0);
	ck_assert_int_eq(h_run("cat >%s/app.json <<'EOF'\n"
	    "{\"fragments\": [\n"
	    " {\"route\": \"/twice/<n>\", \"template\": \"t.html\", \"sql\": "
	    "\"select $1::int * 2 as v, coalesce(nullif(current_setting("
	    "'pgsse.user', true), ''), '-') as u\", \"params\": [{\"name\": "
	    "\"n\", \"from\": \"route\", \"type\": \"int\", \"min\": 0, "
	    "\"max\": 100}]},\n"
	    " {\"route\": \"/inv/<n>\", \"template\": \"t.html\", \"sql\": "
	    "\"select 12 / ($1::int - 3) as v, '-' as u\", \"params\": "
	    "[{\"name\": \"n\", \"from\": \"route\", \"type\": \"int\", "
	    "\"min\": 0, \"max\": 100}]},\n"
	    " {\"route\": \"/hit/<n>\", \"template\": \"t.html\", \"sql\": "
	    "\"with i as (insert into public.pipe_hits values ($1::int) "
	    "returning n) select n as v, '-' as u from i\", \"params\": "
	    "[{\"name\": \"n\", \"from\": \"route\", \"type\": \"int\", "
	    "\"min\": 0, \"max\": 100}]},\n"
	    " {\"route\": \"/slow\", \"template\": \"t.html\", \"sql\": "
	    "\"select pg_sleep(0.5)::text as v, '-' as u\"}]}\nEOF", dir), 0);
	ck_assert_int_eq(h_run("(PGUSER=pgsse_web PGSSE_APP_THREADS=1 %s exec "
	    "%s/%s --app %s --socket 127.0.0.1:%d) & echo $! >%s", env,
	    h_builddir(), prog, dir, port, pidfile), 0);
	for (i = 0; i < 200 && (fd = h_connect(port)) < 0; i++)
		usleep(50000);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

/* Sizes of a test pgsse-app's folder and pidfile names (pipe_paths). */
#define PIPE_DIR_MAX 600
#define PIPE_PID_MAX 700

/*
 * Names the app folder (dir, PIPE_DIR_MAX) and pidfile (PIPE_PID_MAX)
 * of a test's pgsse-app, after name and this process, under tests/tmp.
 */
static void
pipe_paths(char *dir, char *pidfile, const char *name)
{
	snprintf(dir, PIPE_DIR_MAX, "%s/tests/tmp/pipe-%s.%d", h_builddir(),
	    name, (int)getpid());
	snprintf(pidfile, PIPE_PID_MAX, "%s.pid", dir);
}

/* pipe_app_with pgsse-app itself. */
static void
pipe_app(const char *dir, const char *pidfile, int port)
{
	pipe_app_with(dir, pidfile, port, "cgi-bin/pgsse-app", "");
}

/* Stops the pgsse-app of pidfile, and removes dir and pidfile. */
static void
pipe_app_stop(const char *dir, const char *pidfile)
{
	FILE	*f;
	long	 pid;

	ck_assert_ptr_nonnull(f = fopen(pidfile, "r"));
	ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	h_run("kill %ld; rm -rf %s %s", pid, dir, pidfile);
}

/*
 * Holds the one worker of the program on port with GET /slow on a new
 * connection, and returns that connection once the worker is on it.
 */
static int
pipe_hold(int port)
{
	int	 slow;

	ck_assert_int_ge(slow = h_connect(port), 0);
	fcgi_send(slow, "/slow", NULL);
	usleep(200000);		/* the worker takes it, and waits */
	return slow;
}

/* A test batch's size, and the room for each answer (pipe_batch). */
#define PIPE_BATCH	12
#define PIPE_OUT_MAX	8192

/*
 * Sends the PIPE_BATCH requests uri[i], each as user[i] (none if
 * NULL), on connections of their own while the one worker of the
 * program on port is held (pipe_hold), so that they wait for it
 * together, and reads each answer into out[i].
 */
static void
pipe_batch(int port, char uri[][64], char user[][16],
    char out[][PIPE_OUT_MAX])
{
	int	 fds[PIPE_BATCH], slow = pipe_hold(port), i;

	for (i = 0; i < PIPE_BATCH; i++) {
		ck_assert_int_ge(fds[i] = h_connect(port), 0);
		fcgi_send(fds[i], uri[i], user[i][0] ? user[i] : NULL);
	}
	ck_assert_msg(fcgi_read(slow, REQ_TIMEOUT_SEC, out[0], PIPE_OUT_MAX),
	    "no answer to /slow");
	close(slow);
	for (i = 0; i < PIPE_BATCH; i++) {
		ck_assert_msg(fcgi_read(fds[i], REQ_TIMEOUT_SEC, out[i],
		    PIPE_OUT_MAX), "request %d: no answer", i);
		close(fds[i]);
	}
}

/* Reads the metrics page of the program on port into out. */
static void
pipe_metrics(int port, char *out, size_t outsz)
{
	int	 fd;

	ck_assert_int_ge(fd = h_connect(port), 0);
	fcgi_send(fd, "/app-metrics", NULL);
	ck_assert_msg(fcgi_read(fd, REQ_TIMEOUT_SEC, out, outsz),
	    "no metrics page");
	close(fd);
}

START_TEST(app_pipelined_batch)
{
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], want[64];
	char	 uri[PIPE_BATCH][64], user[PIPE_BATCH][16];
	char	 out[PIPE_BATCH][PIPE_OUT_MAX];
	int	 port = h_free_port(), i;
	long	 n;

	pipe_paths(dir, pidfile, "batch");
	pipe_app(dir, pidfile, port);
	for (i = 0; i < PIPE_BATCH; i++) {
		snprintf(uri[i], sizeof(uri[i]), i == 5 ? "/inv/3" : i == 6 ?
		    "/inv/4" : "/twice/%d", i);
		snprintf(user[i], sizeof(user[i]), i % 2 ? "u%d" : "", i);
	}
	pipe_batch(port, uri, user, out);
	for (i = 0; i < PIPE_BATCH; i++) {
		if (i == 5) {
			ck_assert_msg(strncmp(out[i], "Status: 503", 11) == 0 &&
			    strstr(out[i], "\r\n\r\ndatabase unavailable\n"),
			    "/inv/3 (division by zero): %s", out[i]);
			continue;
		}
		if (i == 6)
			snprintf(want, sizeof(want), "\r\n\r\n12 -");
		else if (i % 2)
			snprintf(want, sizeof(want), "\r\n\r\n%d u%d", 2 * i, i);
		else
			snprintf(want, sizeof(want), "\r\n\r\n%d -", 2 * i);
		ck_assert_msg(strncmp(out[i], "Status: 200", 11) == 0 &&
		    strstr(out[i], want) != NULL && strcmp(strstr(out[i], want),
		    want) == 0, "request %d: wanted body \"%s\", got: %s", i,
		    want + 4, out[i]);
	}
	pipe_metrics(port, out[0], sizeof(out[0]));
	pipe_app_stop(dir, pidfile);
	n = metric(out[0], "pgsse_app_pipelined_statements_total");
	ck_assert_msg(n >= 12 && metric(out[0], "pgsse_app_pipelines_total") <= 3,
	    "12 requests waiting together were not run in pipelines: "
	    "%ld statements in %ld pipelines (-1: not on the page)", n,
	    metric(out[0], "pgsse_app_pipelines_total"));
	/* The failure of /inv/3 makes the server skip those after it in its
	 * pipeline: they run in a second one, not one by one. */
	ck_assert_msg(metric(out[0], "pgsse_app_pipelines_total") >= 2,
	    "the requests after one that failed in a pipeline did not run "
	    "in another: %ld pipelines, %ld statements",
	    metric(out[0], "pgsse_app_pipelines_total"), n);
}
END_TEST

/* Returns the body of the FastCGI answer out (past its header). */
static const char *
body_of(const char *out)
{
	const char	*p = strstr(out, "\r\n\r\n");

	return p != NULL ? p + 4 : out;
}

/*
 * Sends 12 requests without a user that wait together (pipe_batch):
 * GET /hit/<i> (inserts i into public.pipe_hits) for each i but bad,
 * which is baduri instead and must fail. The others are each answered
 * with their own row, and have their effect exactly once: 11 rows,
 * all different, none of bad's.
 */
static void
pipe_hits_batch(const char *name, int bad, const char *baduri)
{
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], want[64];
	char	 uri[PIPE_BATCH][64], user[PIPE_BATCH][16];
	char	 out[PIPE_BATCH][PIPE_OUT_MAX];
	PGconn	*c = h_pg_connect();
	int	 port = h_free_port(), i;
	int64_t	 hits, distinct, wrong;

	h_exec(c, "truncate public.pipe_hits");
	pipe_paths(dir, pidfile, name);
	pipe_app(dir, pidfile, port);
	for (i = 0; i < PIPE_BATCH; i++) {
		snprintf(uri[i], sizeof(uri[i]), "/hit/%d", i);
		if (i == bad)
			snprintf(uri[i], sizeof(uri[i]), "%s", baduri);
		user[i][0] = '\0';
	}
	pipe_batch(port, uri, user, out);
	for (i = 0; i < PIPE_BATCH; i++) {
		if (i == bad) {
			ck_assert_msg(strncmp(out[i], "Status: 503", 11) == 0,
			    "%s, which fails: %s", baduri, out[i]);
			continue;
		}
		snprintf(want, sizeof(want), "%d -", i);
		ck_assert_msg(strncmp(out[i], "Status: 200", 11) == 0 &&
		    strcmp(body_of(out[i]), want) == 0,
		    "request %d: wanted body \"%s\", got: %s", i, want, out[i]);
	}
	pipe_metrics(port, out[0], sizeof(out[0]));
	pipe_app_stop(dir, pidfile);
	hits = h_pg_scalar(c, "select count(*) from public.pipe_hits");
	distinct = h_pg_scalar(c,
	    "select count(distinct n) from public.pipe_hits");
	wrong = h_pg_scalar(c,
	    "select count(*) from public.pipe_hits where n > 11");
	PQfinish(c);
	ck_assert_msg(hits == 11 && distinct == 11 && wrong == 0, "11 "
	    "requests that each insert a row left %lld rows, %lld distinct, "
	    "%lld of the one that failed", (long long)hits,
	    (long long)distinct, (long long)wrong);
	ck_assert_msg(metric(out[0], "pgsse_app_pipelines_total") >= 1,
	    "12 requests waiting together did not run in pipelines: "
	    "%ld pipelines", metric(out[0], "pgsse_app_pipelines_total"));
}

/*
 * 12 requests without a user run in one pipeline with no transaction
 * each, and the sixth fails (/inv/3, division by zero), which rolls
 * back what the others did: they all run again, so that a statement
 * with an effect has it exactly once a request.
 */
START_TEST(app_pipelined_effect_once)
{
	pipe_hits_batch("effect", 5, "/inv/3");
}
END_TEST

/*
 * The same, but every statement succeeds and the pipeline's commit
 * fails (a deferred constraint refuses /hit/99): none is answered from
 * the rolled-back pipeline; each runs again, and only /hit/99 fails.
 */
START_TEST(app_pipelined_commit_fails)
{
	pipe_hits_batch("commit", 6, "/hit/99");
}
END_TEST

/*
 * More connections ready at one wake than a batch holds: 4 kept ones
 * with a request each and 20 new ones. Every one is answered, the kept
 * ones included (their events are one-shot: one not taken would never
 * come again), and the program lives on.
 */
START_TEST(app_batch_full)
{
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], out[8192], uri[32], want[32];
	int	 port = h_free_port(), kept[4], f[20], slow, i;

	pipe_paths(dir, pidfile, "full");
	pipe_app(dir, pidfile, port);
	for (i = 0; i < 4; i++) {
		ck_assert_int_ge(kept[i] = h_connect(port), 0);
		fcgi_req(kept[i], "GET", "/twice/1", 1, NULL);
		ck_assert(fcgi_read(kept[i], REQ_TIMEOUT_SEC, out,
		    sizeof(out)));
	}
	slow = pipe_hold(port);
	for (i = 0; i < 20; i++) {
		ck_assert_int_ge(f[i] = h_connect(port), 0);
		snprintf(uri, sizeof(uri), "/twice/%d", i);
		fcgi_send(f[i], uri, NULL);
	}
	usleep(50000);		/* the new ones first in the backlog */
	for (i = 0; i < 4; i++)
		fcgi_req(kept[i], "GET", "/twice/50", 1, NULL);
	ck_assert_msg(fcgi_read(slow, REQ_TIMEOUT_SEC, out, sizeof(out)),
	    "no answer to /slow");
	close(slow);
	for (i = 0; i < 20; i++) {
		ck_assert_msg(fcgi_read(f[i], REQ_TIMEOUT_SEC, out,
		    sizeof(out)), "new connection %d: no answer", i);
		snprintf(want, sizeof(want), "%d -", 2 * i);
		ck_assert_str_eq(body_of(out), want);
		close(f[i]);
	}
	for (i = 0; i < 4; i++) {
		ck_assert_msg(fcgi_read(kept[i], REQ_TIMEOUT_SEC, out,
		    sizeof(out)), "kept connection %d: no answer", i);
		ck_assert_str_eq(body_of(out), "100 -");
		close(kept[i]);
	}
	pipe_app_stop(dir, pidfile);
}
END_TEST

/*
 * A route that leaves its transaction open, or aborted, in a batch:
 * the requests after it in the batch run outside it, with their own
 * user (none), not its settings; the pipeline's too.
 */
START_TEST(app_tx_in_batch)
{
	static const char *const alice[] = { "REMOTE_USER", "alice", NULL };
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], out[8192];
	int	 port = h_free_port(), f[4], slow, i, round;

	pipe_paths(dir, pidfile, "tx");
	pipe_app_with(dir, pidfile, port, "tests/txapp", "");
	for (round = 0; round < 2; round++) {
		slow = pipe_hold(port);
		for (i = 0; i < 4; i++)
			ck_assert_int_ge(f[i] = h_connect(port), 0);
		fcgi_req(f[0], "GET", round == 0 ? "/tx/open" : "/tx/err", 0,
		    alice);
		fcgi_send(f[1], "/tx/check", NULL);
		fcgi_send(f[2], "/twice/1", NULL);
		fcgi_send(f[3], "/twice/2", NULL);
		ck_assert(fcgi_read(slow, REQ_TIMEOUT_SEC, out, sizeof(out)));
		close(slow);
		for (i = 0; i < 4; i++) {
			ck_assert_msg(fcgi_read(f[i], REQ_TIMEOUT_SEC, out,
			    sizeof(out)), "request %d: no answer", i);
			close(f[i]);
			if (i == 1)
				ck_assert_msg(strncmp(body_of(out), "mark= at=",
				    9) == 0 && strstr(out, " user=\n") != NULL,
				    "round %d: /tx/check ran in the open "
				    "transaction: %s", round, out);
			else if (i > 1)
				ck_assert_msg(strncmp(out, "Status: 200", 11) ==
				    0 && strcmp(body_of(out), i == 2 ? "2 -" :
				    "4 -") == 0, "round %d: request %d ran in "
				    "the open transaction: %s", round, i, out);
		}
	}
	pipe_app_stop(dir, pidfile);
}
END_TEST

/*
 * With a read connection, an action (POST, on the main connection)
 * that leaves its transaction open does not hand it to the next action
 * on the worker: that one would run in it, and with its user.
 */
START_TEST(app_post_tx_read_conn)
{
	static const char *const get[] = { "HTTP_HOST", "h", NULL };
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], out[8192], tok[256];
	char	 cookie[300];
	const char *kv[] = { "HTTP_HOST", "h", "HTTP_ORIGIN", "http://h",
	    "HTTP_HX_REQUEST", "true", "HTTP_COOKIE", cookie,
	    "HTTP_X_CSRF_TOKEN", tok, "REMOTE_USER", "alice", NULL };
	const char *p;
	int	 port = h_free_port(), fd, i;

	pipe_paths(dir, pidfile, "post");
	pipe_app_with(dir, pidfile, port, "tests/txapp", "PGAPPNAME=pgsse-main "
	    "PGSSE_APP_READ_CONNINFO=application_name=pgsse-read");
	ck_assert_int_ge(fd = h_connect(port), 0);
	fcgi_req(fd, "GET", "/twice/1", 0, get);
	ck_assert(fcgi_read(fd, REQ_TIMEOUT_SEC, out, sizeof(out)));
	close(fd);
	ck_assert_ptr_nonnull(p = strstr(out, "pgsse_csrf="));
	p += strlen("pgsse_csrf=");
	snprintf(tok, sizeof(tok), "%.*s", (int)strcspn(p, ";\r\n"), p);
	snprintf(cookie, sizeof(cookie), "pgsse_csrf=%s", tok);
	for (i = 0; i < 2; i++) {
		kv[11] = i == 0 ? "alice" : "bob";
		ck_assert_int_ge(fd = h_connect(port), 0);
		fcgi_req(fd, "POST", i == 0 ? "/tx/open" : "/tx/check", 0, kv);
		ck_assert(fcgi_read(fd, REQ_TIMEOUT_SEC, out, sizeof(out)));
		close(fd);
		ck_assert_msg(strncmp(out, "Status: 200", 11) == 0, "%s", out);
	}
	ck_assert_msg(strncmp(body_of(out), "mark= at=", 9) == 0 &&
	    strstr(out, " user=bob\n") != NULL, "the second action ran in "
	    "the first one's open transaction: %s", out);
	pipe_app_stop(dir, pidfile);
}
END_TEST

/*
 * Takes a new connection that has sent nothing yet (or, if partial, only
 * its BEGIN record) at one wake with three whole requests, behind the
 * one worker held by /slow. Asserts that they are answered while it is
 * still waiting to be read: it holds none of them (else they would be
 * answered only once its read timed out and the program closed it,
 * PGSSE_APP_READ_TIMEOUT_SEC later).
 */
static void
batch_not_held(const char *name, int partial)
{
	unsigned char	 b[64], begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], out[8192];
	struct pollfd	 pfd;
	size_t	 len = 0;
	int	 port = h_free_port(), f[3], slow, late, i;

	pipe_paths(dir, pidfile, name);
	pipe_app(dir, pidfile, port);
	slow = pipe_hold(port);
	ck_assert_int_ge(late = h_connect(port), 0);
	if (partial) {
		fcgi_record(b, &len, 1, begin, sizeof(begin));
		ck_assert_int_eq(write(late, b, len), (ssize_t)len);
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_ge(f[i] = h_connect(port), 0);
		fcgi_send(f[i], "/twice/7", NULL);
	}
	ck_assert(fcgi_read(slow, REQ_TIMEOUT_SEC, out, sizeof(out)));
	close(slow);
	for (i = 0; i < 3; i++) {
		ck_assert_msg(fcgi_read(f[i], REQ_TIMEOUT_SEC, out,
		    sizeof(out)), "request %d: no answer", i);
		ck_assert_str_eq(body_of(out), "14 -");
		close(f[i]);
	}
	pfd.fd = late;
	pfd.events = POLLIN;
	pfd.revents = 0;
	ck_assert_msg(poll(&pfd, 1, 0) == 0, "the requests taken with a %s "
	    "connection were answered only after its read timed out (it is "
	    "closed already): it held them", name);
	close(late);
	pipe_app_stop(dir, pidfile);
}

/* A connection that has sent nothing holds none of its batch. */
START_TEST(app_silent_in_batch)
{
	batch_not_held("silent", 0);
}
END_TEST

/* A connection that has sent part of its request holds none either. */
START_TEST(app_partial_in_batch)
{
	batch_not_held("partial", 1);
}
END_TEST

/*
 * Turns: with two workers, while a batch is at the database the other
 * worker takes no connection (for PGSSE_APP_BATCH_WAIT_MS at most, here
 * long), so the 12 requests that arrive meanwhile wait for the batch's
 * end and go to the database together, in one pipeline.
 */
START_TEST(app_batch_turns)
{
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], out[8192], uri[32], want[32];
	int	 port = h_free_port(), f[12], slow, fd, i;
	long	 n, np;

	pipe_paths(dir, pidfile, "turns");
	pipe_app_with(dir, pidfile, port, "cgi-bin/pgsse-app",
	    "PGSSE_APP_THREADS=2 PGSSE_APP_BATCH_WAIT_MS=5000");
	slow = pipe_hold(port);
	for (i = 0; i < 12; i++) {
		ck_assert_int_ge(f[i] = h_connect(port), 0);
		snprintf(uri, sizeof(uri), "/twice/%d", i);
		fcgi_send(f[i], uri, NULL);
	}
	ck_assert(fcgi_read(slow, REQ_TIMEOUT_SEC, out, sizeof(out)));
	close(slow);
	for (i = 0; i < 12; i++) {
		ck_assert_msg(fcgi_read(f[i], REQ_TIMEOUT_SEC, out,
		    sizeof(out)), "request %d: no answer", i);
		snprintf(want, sizeof(want), "%d -", 2 * i);
		ck_assert_str_eq(body_of(out), want);
		close(f[i]);
	}
	ck_assert_int_ge(fd = h_connect(port), 0);
	fcgi_send(fd, "/app-metrics", NULL);
	ck_assert(fcgi_read(fd, REQ_TIMEOUT_SEC, out, sizeof(out)));
	close(fd);
	pipe_app_stop(dir, pidfile);
	n = metric(out, "pgsse_app_pipelined_statements_total");
	np = metric(out, "pgsse_app_pipelines_total");
	ck_assert_msg(n >= 12 && np >= 1 && np <= 2, "with two workers, 12 "
	    "requests that came while a batch was at the database were not "
	    "run together: %ld statements in %ld pipelines", n, np);
}
END_TEST

/*
 * A slow batch holds the others for PGSSE_APP_BATCH_WAIT_MS at most:
 * with two workers, one held by /slow, a request that comes meanwhile
 * is answered while /slow still runs.
 */
START_TEST(app_slow_batch_bounded)
{
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], out[8192];
	struct pollfd	 pfd;
	int	 port = h_free_port(), fd, slow;

	pipe_paths(dir, pidfile, "bounded");
	pipe_app_with(dir, pidfile, port, "cgi-bin/pgsse-app",
	    "PGSSE_APP_THREADS=2");
	slow = pipe_hold(port);
	ck_assert_int_ge(fd = h_connect(port), 0);
	fcgi_send(fd, "/twice/4", NULL);
	ck_assert_msg(fcgi_read(fd, REQ_TIMEOUT_SEC, out, sizeof(out)),
	    "no answer while /slow runs");
	ck_assert_str_eq(body_of(out), "8 -");
	close(fd);
	pfd.fd = slow;
	pfd.events = POLLIN;
	pfd.revents = 0;
	ck_assert_msg(poll(&pfd, 1, 0) == 0, "/twice/4 was answered only "
	    "after /slow: the slow batch held the other worker");
	ck_assert(fcgi_read(slow, REQ_TIMEOUT_SEC, out, sizeof(out)));
	close(slow);
	pipe_app_stop(dir, pidfile);
}
END_TEST

/*
 * Turns: a slow batch holds the others for PGSSE_APP_BATCH_WAIT_MS at
 * most, not every batch after it. With two workers, one held by /slow
 * (0.5 s) for longer than the wait (0.1 s), ten requests sent one after
 * another are each taken at once by the other, and all are answered
 * while /slow still runs: a fast batch that is done already holds none.
 */
START_TEST(app_turn_slow_no_toll)
{
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], out[8192], uri[32], want[32];
	struct pollfd	 pfd;
	int	 port = h_free_port(), fd, slow, i;

	pipe_paths(dir, pidfile, "toll");
	pipe_app_with(dir, pidfile, port, "cgi-bin/pgsse-app",
	    "PGSSE_APP_THREADS=2 PGSSE_APP_BATCH_WAIT_MS=100");
	slow = pipe_hold(port);
	for (i = 0; i < 10; i++) {
		ck_assert_int_ge(fd = h_connect(port), 0);
		snprintf(uri, sizeof(uri), "/twice/%d", i);
		fcgi_send(fd, uri, NULL);
		ck_assert_msg(fcgi_read(fd, REQ_TIMEOUT_SEC, out, sizeof(out)),
		    "request %d: no answer", i);
		snprintf(want, sizeof(want), "%d -", 2 * i);
		ck_assert_str_eq(body_of(out), want);
		close(fd);
	}
	pfd.fd = slow;
	pfd.events = POLLIN;
	pfd.revents = 0;
	ck_assert_msg(poll(&pfd, 1, 0) == 0, "10 requests one after another "
	    "were answered only after /slow (0.5 s): each waited "
	    "PGSSE_APP_BATCH_WAIT_MS (0.1 s) after the one before it, done "
	    "already, while /slow had been at work longer than that");
	ck_assert(fcgi_read(slow, REQ_TIMEOUT_SEC, out, sizeof(out)));
	close(slow);
	pipe_app_stop(dir, pidfile);
}
END_TEST

/*
 * Turns: a request taken in one batch with a slow one waits for it.
 * With three workers, /slow (0.5 s) holds one; another /slow and then
 * /twice/4 come within the wait (0.1 s), and go together to one worker
 * while the third has nothing to do. /twice/4 is to be answered while
 * the first /slow still runs: the slow batch holds it for the wait at
 * most, not for the whole of the second /slow.
 */
START_TEST(app_turn_fast_with_slow)
{
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], out[8192];
	struct pollfd	 pfd[2];
	int	 port = h_free_port(), fd, slow, slow2;

	pipe_paths(dir, pidfile, "mate");
	pipe_app_with(dir, pidfile, port, "cgi-bin/pgsse-app",
	    "PGSSE_APP_THREADS=3 PGSSE_APP_BATCH_WAIT_MS=100");
	ck_assert_int_ge(slow = h_connect(port), 0);
	fcgi_send(slow, "/slow", NULL);
	usleep(20000);		/* a worker takes it */
	ck_assert_int_ge(slow2 = h_connect(port), 0);
	fcgi_send(slow2, "/slow", NULL);
	usleep(20000);
	ck_assert_int_ge(fd = h_connect(port), 0);
	fcgi_send(fd, "/twice/4", NULL);
	ck_assert_msg(fcgi_read(fd, REQ_TIMEOUT_SEC, out, sizeof(out)),
	    "no answer to /twice/4");
	ck_assert_str_eq(body_of(out), "8 -");
	close(fd);
	pfd[0].fd = slow;
	pfd[1].fd = slow2;
	pfd[0].events = pfd[1].events = POLLIN;
	pfd[0].revents = pfd[1].revents = 0;
	ck_assert_msg(poll(pfd, 2, 0) == 0, "/twice/4 was answered only "
	    "after /slow (0.5 s), with a third worker idle: it went in one "
	    "batch with the /slow that came in the same wait (0.1 s) and "
	    "waited for all of it");
	ck_assert(fcgi_read(slow, REQ_TIMEOUT_SEC, out, sizeof(out)));
	ck_assert(fcgi_read(slow2, REQ_TIMEOUT_SEC, out, sizeof(out)));
	close(slow);
	close(slow2);
	pipe_app_stop(dir, pidfile);
}
END_TEST

/*
 * A batch answers its declared routes first: a slow C route taken in
 * one batch with a declared GET does not hold it. With two workers and
 * a long wait, /slow holds one; /tx/sleep (a C route of half a second)
 * and /twice/4 come meanwhile and are taken together once /slow is
 * done. /twice/4 is to be answered while /tx/sleep still runs.
 */
START_TEST(app_batch_declared_first)
{
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], out[8192];
	struct pollfd	 pfd;
	int	 port = h_free_port(), fd, slow, sleeper;

	pipe_paths(dir, pidfile, "first");
	pipe_app_with(dir, pidfile, port, "tests/txapp",
	    "PGSSE_APP_THREADS=2 PGSSE_APP_BATCH_WAIT_MS=5000");
	slow = pipe_hold(port);
	ck_assert_int_ge(sleeper = h_connect(port), 0);
	fcgi_send(sleeper, "/tx/sleep", NULL);
	ck_assert_int_ge(fd = h_connect(port), 0);
	fcgi_send(fd, "/twice/4", NULL);
	ck_assert(fcgi_read(slow, REQ_TIMEOUT_SEC, out, sizeof(out)));
	close(slow);
	ck_assert_msg(fcgi_read(fd, REQ_TIMEOUT_SEC, out, sizeof(out)),
	    "no answer to /twice/4");
	ck_assert_str_eq(body_of(out), "8 -");
	close(fd);
	pfd.fd = sleeper;
	pfd.events = POLLIN;
	pfd.revents = 0;
	ck_assert_msg(poll(&pfd, 1, 0) == 0, "/twice/4 was answered only "
	    "after /tx/sleep (a slow C route taken in its batch): the C "
	    "route ran first and held it");
	ck_assert(fcgi_read(sleeper, REQ_TIMEOUT_SEC, out, sizeof(out)));
	ck_assert_str_eq(body_of(out), "slept\n");
	close(sleeper);
	pipe_app_stop(dir, pidfile);
}
END_TEST

/*
 * Turns: past the wait, a request with a worker idle waits for the wait
 * at most, however many come together. With five workers, one held by
 * /slow past the wait (0.2 s), four more /slow come at once: one idle
 * worker each. They are to run side by side and be answered within the
 * wait of one another, not taken one per wait (the next taker waiting
 * for the one just taken to be as old as the wait), the last 0.6 s
 * after the first: with requests longer than the wait, that caps the
 * program at one request a wait, whatever its threads.
 */
START_TEST(app_turn_one_per_wait)
{
	char	 dir[PIPE_DIR_MAX], pidfile[PIPE_PID_MAX], out[8192];
	struct pollfd	 pfd[4];
	int	 port = h_free_port(), f[4], slow, i, left;

	pipe_paths(dir, pidfile, "perwait");
	pipe_app_with(dir, pidfile, port, "cgi-bin/pgsse-app",
	    "PGSSE_APP_THREADS=5 PGSSE_APP_BATCH_WAIT_MS=200");
	slow = pipe_hold(port);
	for (i = 0; i < 4; i++) {
		ck_assert_int_ge(f[i] = h_connect(port), 0);
		fcgi_send(f[i], "/slow", NULL);
		pfd[i].fd = f[i];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	ck_assert_msg(poll(pfd, 4, REQ_TIMEOUT_SEC * 1000) > 0,
	    "no answer to any of four /slow");
	left = 4;
	for (i = 0; i < 4; i++)
		left -= pfd[i].revents != 0;
	usleep(200000);		/* the wait, once */
	for (i = 0; i < 4; i++)
		pfd[i].revents = 0;
	ck_assert_msg(poll(pfd, 4, 0) == 4, "four /slow that came together "
	    "with four workers idle, past the wait (0.2 s) of a batch at "
	    "work: only %d of them answered a wait after the first (%d left "
	    "then): taken one per wait", poll(pfd, 4, 0), left);
	for (i = 0; i < 4; i++) {
		ck_assert(fcgi_read(f[i], REQ_TIMEOUT_SEC, out, sizeof(out)));
		ck_assert_str_eq(body_of(out), " -");
		close(f[i]);
	}
	ck_assert(fcgi_read(slow, REQ_TIMEOUT_SEC, out, sizeof(out)));
	close(slow);
	pipe_app_stop(dir, pidfile);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("app");
	TCase	*tc = tcase_create("csrf");

	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, app_forged_token);
	tcase_add_test(tc, app_scheme_mismatch);
	tcase_add_test(tc, app_token_shared);
	suite_add_tcase(s, tc);
	tc = tcase_create("secret");
	tcase_add_test(tc, app_no_secret);
	tcase_add_test(tc, app_bad_secret);
	tcase_add_test(tc, app_good_secret);
	suite_add_tcase(s, tc);
	tc = tcase_create("tx");
	tcase_add_unchecked_fixture(tc, tx_up, tx_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, app_tx_not_inherited);
	tcase_add_test(tc, app_tx_lost);
	tcase_add_test(tc, app_copy_refused);
	tcase_add_test(tc, app_read_conninfo);
	tcase_add_test(tc, app_kept_conn_no_pin);
	tcase_add_test(tc, app_get_values);
	tcase_add_test(tc, app_drain_restarts);
	tcase_add_test(tc, app_slow_body);
	tcase_add_test(tc, app_silent_conn);
	tcase_add_test(tc, app_params_over_limit);
	tcase_add_test(tc, app_not_fastcgi);
	tcase_add_test(tc, app_role_abort);
	tcase_add_test(tc, app_flood_bounded);
	tcase_add_test(tc, app_web_server_addrs);
	tcase_add_test(tc, app_emfile_no_spin);
	tcase_add_test(tc, app_pipelined_batch);
	tcase_add_test(tc, app_pipelined_effect_once);
	tcase_add_test(tc, app_pipelined_commit_fails);
	tcase_add_test(tc, app_silent_in_batch);
	tcase_add_test(tc, app_batch_full);
	tcase_add_test(tc, app_tx_in_batch);
	tcase_add_test(tc, app_post_tx_read_conn);
	tcase_add_test(tc, app_partial_in_batch);
	tcase_add_test(tc, app_batch_turns);
	tcase_add_test(tc, app_slow_batch_bounded);
	tcase_add_test(tc, app_turn_slow_no_toll);
	tcase_add_test(tc, app_turn_fast_with_slow);
	tcase_add_test(tc, app_batch_declared_first);
	tcase_add_test(tc, app_turn_one_per_wait);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
