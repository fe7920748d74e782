/*
 * check_deploy.c: the shipped sample configurations, run by the real
 * servers (lighttpd, Apache with mod_proxy_fcgi and with mod_fcgid,
 * nginx), adjusted only for port and paths. Each must deliver events
 * unbuffered, to many streams at once, and resume after the stream
 * program dies.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "harness.h"

#define WAIT_MS 15000
/* Streams at once: mod_fcgid runs a process (and a LISTEN) per stream. */
#define MANY 200
#define MANY_FCGID 20

static struct h_pg	 pg;
static struct h_web	 web;
static int		 fcgid;

/* The private channel every set-up must keep from strangers. */
#define SECRET "only-alice-may-read-this"

/*
 * The demo database, plus a channel private to alice and the job
 * channel made private to her too. The samples configure no
 * authentication, so nobody may read either through them.
 */
static void
pg_up(void)
{
	PGconn	*c;

	h_pg_start(&pg, NULL);
	h_pg_load("demo/schema.sql");
	h_pg_load("tests/data/secret.sql");
	c = h_pg_connect();
	h_exec(c, "update pgsse.channels set private = true, readers = "
	    "'{alice}' where name = 'job'");
	PQfinish(c);
}

static void lighttpd_up(void) { pg_up(); h_web_start(&web, NULL); }
static void apache_proxy_up(void) { pg_up(); h_apache_start(&web, "proxy-fcgi"); }
static void apache_fcgid_up(void) { pg_up(); fcgid = 1; h_apache_start(&web, "fcgid"); }
static void nginx_up(void) { pg_up(); h_nginx_start(&web); }

static void
stack_down(void)
{
	h_web_stop(&web);
	h_pg_stop(&pg);
	fcgid = 0;
}

static long
now_ms(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

START_TEST(deploy_page_and_fragment)
{
	char	*body = NULL;

	ck_assert_int_eq(h_http_get(web.port, "/", NULL, &body), 200);
	ck_assert_ptr_nonnull(strstr(body, "sse-connect=\"/api/sse/status\""));
	free(body);
	ck_assert_int_eq(h_http_get(web.port, "/status/content", NULL, &body),
	    200);
	ck_assert_ptr_nonnull(strstr(body, "System status"));
	free(body);
	ck_assert_int_eq(h_http_get(web.port, "/demos/grid", NULL, &body), 200);
	ck_assert_ptr_nonnull(strstr(body, "hx-post=\"/demos/todo/install\""));
	free(body);
	ck_assert_int_eq(h_http_get(web.port, "/api/sse/nope", NULL, NULL),
	    404);
}
END_TEST

/*
 * Nothing buffers: an event arrives within 200 ms of publish(). A
 * buffering server would hold it for seconds (until a buffer fills or
 * the response ends), so one quick arrival out of three proves it.
 */
START_TEST(deploy_unbuffered)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s = h_sse_connect(web.port, "/api/sse/status", NULL);
	long		 t0, best = 1000000;
	int		 i;

	ck_assert_ptr_nonnull(strstr(s->head, "text/event-stream"));
	for (i = 0; i < 3; i++) {
		t0 = now_ms();
		h_publish(c, "status", "system_status",
		    "{\"status\":\"ok\",\"uptime\":1}");
		ck_assert_int_eq(h_sse_wait(s, (size_t)i + 1, WAIT_MS), i + 1);
		if (now_ms() - t0 < best)
			best = now_ms() - t0;
	}
	ck_assert_msg(best < 200, "fastest delivery took %ld ms", best);
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

/* Many concurrent streams all receive every event. */
START_TEST(deploy_many_streams)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s[MANY];
	int		 n = fcgid ? MANY_FCGID : MANY, i, j;

	for (i = 0; i < n; i++)
		s[i] = h_sse_connect(web.port, "/api/sse/demos", NULL);
	for (i = 0; i < 3; i++)
		h_publish(c, "demos", "uninstalled", "{\"demo_id\":\"many\"}");
	for (i = 0; i < n; i++) {
		ck_assert_msg(h_sse_wait(s[i], 3, WAIT_MS) == 3,
		    "stream %d got %zu of 3", i, s[i]->nmsgs);
		for (j = 1; j < 3; j++)
			ck_assert_int_gt(atoll(s[i]->msgs[j].id),
			    atoll(s[i]->msgs[j - 1].id));
	}
	for (i = 0; i < n; i++)
		h_sse_close(s[i]);
	PQfinish(c);
}
END_TEST

/* Reads from s, reconnecting after EOF with Last-Event-ID, as a browser. */
static struct h_sse *
follow(struct h_sse *s, const char *path, size_t want, int *seen)
{
	char	 id[256];
	long	 t0 = now_ms();

	while (now_ms() - t0 < 30000) {
		h_sse_wait(s, want - (size_t)*seen, 500);
		if (!s->eof && s->nmsgs + (size_t)*seen >= want)
			break;
		if (s->eof) {
			snprintf(id, sizeof(id), "%s", s->parser.lastid);
			*seen += (int)s->nmsgs;
			h_sse_close(s);
			usleep(300000);
			s = h_sse_open(web.port, path, id[0] ? id : NULL);
		}
	}
	return s;
}

/* The stream program dies; clients come back and lose nothing. */
START_TEST(deploy_stream_killed)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s = h_sse_connect(web.port, "/api/sse/logs", NULL);
	char		*body = NULL, *p;
	int		 i, seen = 0;
	pid_t		 pid;

	h_publish(c, "logs", "log", "{\"source\":\"t\",\"line\":\"before\"}");
	ck_assert_int_eq(h_sse_wait(s, 1, WAIT_MS), 1);
	if (web.fcgi[0] > 0) {
		kill(web.fcgi[0], SIGKILL);
		sleep(1);
		h_fcgi_spawn(&web, 0);	/* as systemd's Restart= would */
	} else if (fcgid) {
		/* A process per stream: kill every one Apache started. */
		ck_assert_int_ge(h_web_kill_streams(&web), 1);
	} else {
		ck_assert_int_eq(h_http_get(web.port, "/api/sse-health", NULL,
		    &body), 200);
		ck_assert_ptr_nonnull(p = strstr(body, "\"pid\":"));
		pid = (pid_t)atoi(p + 6);
		free(body);
		kill(pid, SIGKILL);
	}
	for (i = 0; i < 5; i++)
		h_publish(c, "logs", "log", "{\"source\":\"t\",\"line\":\"during\"}");
	s = follow(s, "/api/sse/logs", 6, &seen);
	ck_assert_int_eq(seen + (int)s->nmsgs, 6);
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

/* Apache (proxy_fcgi) and nginx side by side, for the idle test. */
static struct h_web	 web2;

static void
idle_up(void)
{
	pg_up();
	h_apache_start(&web, "proxy-fcgi");
	h_nginx_start(&web2);
}

static void
idle_down(void)
{
	h_web_stop(&web2);
	stack_down();
}

/*
 * A stream idle for longer than the server's default idle timeout (60 s
 * for Apache's ProxyPass and nginx's fastcgi_read_timeout) stays open:
 * the samples raise them and the heartbeat keeps the line busy.
 */
START_TEST(deploy_idle_streams_stay_open)
{
	PGconn		*c;
	struct h_sse	*a = h_sse_connect(web.port, "/api/sse/demos", NULL);
	struct h_sse	*b = h_sse_connect(web2.port, "/api/sse/demos", NULL);
	long		 t0 = now_ms();

	while (now_ms() - t0 < 65000) {
		h_sse_read(a, 250);
		h_sse_read(b, 250);
	}
	ck_assert(!a->eof && !b->eof);
	ck_assert_uint_ge(a->parser.heartbeats, 4);
	c = h_pg_connect();
	h_publish(c, "demos", "uninstalled", "{\"demo_id\":\"idle\"}");
	ck_assert_int_eq(h_sse_wait(a, 1, WAIT_MS), 1);
	ck_assert_int_eq(h_sse_wait(b, 1, WAIT_MS), 1);
	h_sse_close(a);
	h_sse_close(b);
	PQfinish(c);
}
END_TEST

static void
two_hosts_up(void)
{
	pg_up();
	h_web_start(&web, NULL);
	h_web_start(&web2, NULL);
}

/*
 * Two web hosts, each with its own stream process and LISTEN connection,
 * against one PostgreSQL: clients split between them all receive every
 * event exactly once, in order, even while a publisher runs.
 */
START_TEST(deploy_two_hosts)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s[40];
	char		 json[64];
	int		 i, j, n = 40, events = 300;

	for (i = 0; i < n; i++)
		s[i] = h_sse_connect(i % 2 ? web2.port : web.port,
		    "/api/sse/logs", NULL);
	for (i = 0; i < events; i++) {
		snprintf(json, sizeof(json), "{\"source\":\"h\",\"line\":\"%d\"}", i);
		h_publish(c, "logs", "log", json);
	}
	for (i = 0; i < n; i++) {
		ck_assert_msg(h_sse_wait(s[i], (size_t)events, WAIT_MS) == events,
		    "client %d got %zu", i, s[i]->nmsgs);
		h_sse_wait(s[i], (size_t)events + 1, 50);
		ck_assert_uint_eq(s[i]->nmsgs, (size_t)events);
		for (j = 0; j < events; j++)
			ck_assert_int_eq(atoi(strstr(s[i]->msgs[j].data,
			    "\"line\": \"") + 9), j);
	}
	for (i = 0; i < n; i++)
		h_sse_close(s[i]);
	PQfinish(c);
}
END_TEST

/*
 * Reads a whole answer from a raw request on port, waiting at most
 * 3 s: a stream that was wrongly opened never ends by itself. Returns
 * "status=N" and the data of every event that arrived (the caller
 * frees it).
 */
static char *
answer(int port, const char *path, const char *headers)
{
	struct h_sse	*s = h_sse_open_hdr(port, path, headers);
	char		*out;
	long		 t0 = now_ms();
	size_t		 i;

	while (!s->eof && now_ms() - t0 < 3000)
		h_sse_read(s, 100);
	out = calloc(1, 64 + 1024 * s->nmsgs);
	ck_assert_ptr_nonnull(out);
	snprintf(out, 64, "status=%d ", s->status);
	for (i = 0; i < s->nmsgs; i++)
		if (s->msgs[i].data != NULL)
			strncat(out, s->msgs[i].data, 1024);
	h_sse_close(s);
	return out;
}

/*
 * A stranger who sends "Authorization: Basic alice:x" (any password:
 * nothing checks it where no authentication is configured) must not
 * read alice's channels through any route: single, multi-channel,
 * per-job, or with resume ids. The same requests for a public channel
 * do deliver, so the routes themselves work.
 */
START_TEST(deploy_forged_user_refused)
{
	static const char *const forged[] = {
		"Authorization: Basic YWxpY2U6eA==\r\n",	/* alice:x */
		"",
	};
	static const char *const ids[] = { "0", "secret:0", "job:0" };
	PGconn		*c = h_pg_connect();
	PGresult	*res;
	char		 job[64], hdr[256], path[128], *body;
	const char	*paths[4];
	size_t		 f, p, i;

	res = PQexec(c, "select pgsse.enqueue('nothing', '{}')");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	snprintf(job, sizeof(job), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	h_publish(c, "secret", "note", "{\"x\":\"" SECRET "\"}");
	snprintf(hdr, sizeof(hdr), "{\"job_id\":%s,\"percent\":1,"
	    "\"step\":\"" SECRET "\"}", job);
	h_publish(c, "job", "progress", hdr);
	h_publish(c, "status", "system_status", "{\"status\":\"public\","
	    "\"uptime\":1}");
	snprintf(path, sizeof(path), "/api/jobs/%s/stream", job);
	paths[0] = "/api/sse/secret";
	paths[1] = "/api/sse?channel=status&channel=secret";
	paths[2] = "/api/sse?channel=secret&channel=status";
	paths[3] = path;
	for (f = 0; f < 2; f++)
		for (p = 0; p < 4; p++)
			for (i = 0; i < 3; i++) {
				snprintf(hdr, sizeof(hdr), "%sLast-Event-ID: "
				    "%s\r\n", forged[f], ids[i]);
				body = answer(web.port, paths[p], hdr);
				ck_assert_msg(strstr(body, SECRET) == NULL &&
				    strncmp(body, "status=200", 10) != 0,
				    "%s with %s got: %.300s", paths[p], hdr,
				    body);
				free(body);
			}
	/* Fragments read the log too: the job's step is alice's. */
	snprintf(path, sizeof(path), "/jobs/%s", job);
	for (f = 0; f < 2; f++) {
		ck_assert_int_eq(h_http_get(web.port, path, forged[f], &body),
		    200);
		ck_assert_msg(strstr(body, SECRET) == NULL, "%s: %.300s", path,
		    body);
		free(body);
		ck_assert_int_eq(h_http_get(web.port, "/jobs/active", forged[f],
		    &body), 200);
		ck_assert_msg(strstr(body, SECRET) == NULL, "/jobs/active: "
		    "%.300s", body);
		free(body);
	}
	body = answer(web.port, "/api/sse/status", "Authorization: Basic "
	    "YWxpY2U6eA==\r\nLast-Event-ID: 0\r\n");
	ck_assert_msg(strncmp(body, "status=200", 10) == 0 &&
	    strstr(body, "public") != NULL, "public channel: %.300s",
	    body);
	free(body);
	PQfinish(c);
}
END_TEST

/*
 * nginx with the authentication that the sample's comment describes:
 * auth_basic on /api/ and $pgsse_user set from the checked user.
 */
static void
nginx_auth_up(void)
{
	pg_up();
	h_nginx_start(&web);
	if (h_run("printf 'alice:{PLAIN}secret\\nbob:{PLAIN}secret\\n' "
	    ">%s/htpasswd && sed -i 's|^    location .*{$|&\\n auth_basic "
	    "pgsse; auth_basic_user_file %s/htpasswd; set $pgsse_user "
	    "$remote_user;|' %s/pgsse-site.conf && kill -HUP %d", web.dir,
	    web.dir, web.dir, (int)web.pid) != 0)
		ck_abort_msg("cannot add auth_basic to the nginx sample");
	sleep(1);
}

/*
 * lighttpd with mod_auth on the private paths, as the sample's comment
 * says: /jobs/ reaches pgsse-app through the routing rule's rewrite, to
 * a path no auth.require covers, and must keep the checked user.
 */
static void
lighttpd_auth_up(void)
{
	char	 conf[2048], users[600];

	pg_up();
	snprintf(users, sizeof(users), "%s/users", pg.dir);
	if (h_run("printf 'alice:secret\\nbob:secret\\n' >%s", users) != 0)
		ck_abort_msg("cannot write %s", users);
	snprintf(conf, sizeof(conf), "auth.backend = \"plain\"\n"
	    "auth.backend.plain.userfile = \"%s\"\n"
	    "$HTTP[\"url\"] =~ \"^/(jobs|api)/\" {\n auth.require = (\"\" => "
	    "(\"method\" => \"basic\", \"realm\" => \"pgsse\", \"require\" "
	    "=> \"valid-user\"))\n}\n", users);
	h_web_start(&web, conf);
}

/*
 * With real authentication, alice reads her channels, through streams
 * and fragments, and no one else does.
 */
static void
auth_checks(void)
{
	PGconn		*c = h_pg_connect();
	PGresult	*res;
	char		*body, path[64], json[128];

	res = PQexec(c, "select pgsse.enqueue('nothing', '{}')");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	snprintf(path, sizeof(path), "/jobs/%s", PQgetvalue(res, 0, 0));
	snprintf(json, sizeof(json), "{\"job_id\":%s,\"percent\":1,"
	    "\"step\":\"" SECRET "\"}", PQgetvalue(res, 0, 0));
	PQclear(res);
	h_publish(c, "job", "progress", json);
	ck_assert_int_eq(h_http_get(web.port, path, "Authorization: Basic "
	    "YWxpY2U6c2VjcmV0\r\n", &body), 200);
	ck_assert_msg(strstr(body, SECRET) != NULL, "alice: %.300s", body);
	free(body);
	ck_assert_int_eq(h_http_get(web.port, path, "Authorization: Basic "
	    "Ym9iOnNlY3JldA==\r\n", &body), 200);
	ck_assert_msg(strstr(body, SECRET) == NULL, "bob: %.300s", body);
	free(body);
	h_publish(c, "secret", "note", "{\"x\":\"" SECRET "\"}");
	body = answer(web.port, "/api/sse/secret", "Authorization: Basic "
	    "YWxpY2U6c2VjcmV0\r\nLast-Event-ID: 0\r\n");	/* alice:secret */
	ck_assert_msg(strncmp(body, "status=200", 10) == 0 &&
	    strstr(body, SECRET) != NULL, "alice: %.300s", body);
	free(body);
	ck_assert_int_eq(h_http_get(web.port, "/api/sse/secret",
	    "Authorization: Basic YWxpY2U6eA==\r\n", NULL), 401);
	ck_assert_int_eq(h_http_get(web.port, "/api/sse/secret",
	    "Authorization: Basic Ym9iOnNlY3JldA==\r\n", NULL), 403);
	ck_assert_int_eq(h_http_get(web.port, "/api/sse/secret", NULL, NULL),
	    401);
	PQfinish(c);
}

START_TEST(deploy_nginx_auth)
{
	auth_checks();
}
END_TEST

START_TEST(deploy_lighttpd_auth)
{
	auth_checks();
}
END_TEST

/*
 * Returns the value of the header name in the whole answer r, cut at
 * the end of its line, in a newly allocated string the caller frees;
 * NULL if the answer has no such header.
 */
static char *
header(const char *r, const char *name)
{
	const char	*p = strstr(r, "\r\n"), *end = strstr(r, "\r\n\r\n");
	size_t		 len = strlen(name);

	for (; p != NULL && p < end; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, name, len) == 0 && p[2 + len] == ':')
			return strndup(p + 3 + len + strspn(p + 3 + len, " "),
			    strcspn(p + 3 + len, "\r\n") - strspn(p + 3 + len,
			    " "));
	return NULL;
}

/* Returns the body of the whole answer r: r owns it. */
static const char *
body_of(const char *r)
{
	const char	*p = strstr(r, "\r\n\r\n");

	return p != NULL ? p + 4 : "";
}

/*
 * Returns whether the whole answer r comes from pgsse-app: only it sets
 * the CSRF cookie (on any answer to a request without a valid one).
 */
static int
from_app(const char *r)
{
	char	*v = header(r, "Set-Cookie");
	int	 yes = v != NULL && strncmp(v, "pgsse_csrf=", 11) == 0;

	free(v);
	return yes;
}

/* Returns the contents of www/rel, which the caller frees. */
static char *
www_file(const char *rel)
{
	char	 path[1024], *p = NULL;
	FILE	*f;
	long	 n;

	snprintf(path, sizeof(path), "%s/www/%s", h_srcdir(), rel);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (p = calloc(1, (size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n)
		ck_abort_msg("cannot read %s", path);
	fclose(f);
	return p;
}

/*
 * One routing rule in every sample: /api/ is pgsse-stream's, a file
 * under www/ is the web server's (a folder serves its index.html), and
 * every other path is pgsse-app's, with REQUEST_URI as sent, so a new
 * route needs no edit of the samples. pgsse-app answers a path it
 * lacks with its own 404, which the web server's would not be.
 */
START_TEST(deploy_one_routing_rule)
{
	static const struct {
		const char	*path, *file, *type;
	} files[] = {
		{ "/", "index.html", "text/html" },
		{ "/index.html", "index.html", "text/html" },
		{ "/css/pgsse.css", "css/pgsse.css", "text/css" },
		{ "/js/sse-manager.js", "js/sse-manager.js", "javascript" },
		{ "/vendor/htmx.min.js", "vendor/htmx.min.js", "javascript" },
	};
	static const char *const news[] = { "/brandnew/route", "/brandnew",
	    "/brandnew/route?x=1", "/css/nope.css", "/nope.html" };
	PGconn		*c = h_pg_connect();
	PGresult	*res;
	char		*r, *v, *want, tok[256], hdr[1024];
	size_t		 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		ck_assert_int_eq(h_http(web.port, "GET", files[i].path, NULL,
		    NULL, 10, &r), 200);
		v = header(r, "Content-Type");
		ck_assert_msg(v != NULL && strstr(v, files[i].type) != NULL,
		    "%s: type %s", files[i].path, v ? v : "(none)");
		free(v);
		ck_assert_msg(!from_app(r), "%s went to pgsse-app: %.300s",
		    files[i].path, r);
		want = www_file(files[i].file);
		ck_assert_msg(strcmp(body_of(r), want) == 0, "%s: not the "
		    "file: %.300s", files[i].path, r);
		free(want);
		free(r);
	}
	for (i = 0; i < sizeof(news) / sizeof(news[0]); i++) {
		h_http(web.port, "GET", news[i], NULL, NULL, 10, &r);
		ck_assert_msg(strncmp(r + 9, "404", 3) == 0 && from_app(r) &&
		    strcmp(body_of(r), "no such path\n") == 0,
		    "GET %s did not reach pgsse-app: %.400s", news[i], r);
		v = header(r, "X-Content-Type-Options");
		ck_assert_msg(v != NULL && strcmp(v, "nosniff") == 0,
		    "GET %s: %.400s", news[i], r);
		free(v);
		free(r);
	}
	/* The query string reaches it too. */
	ck_assert_int_eq(h_http(web.port, "GET", "/logs/tail?n=x", NULL, NULL,
	    10, &r), 400);
	ck_assert_msg(strstr(r, "parameter n: an integer from 1 to") != NULL,
	    "%.300s", r);
	free(r);
	/* /api/ stays pgsse-stream's, whatever follows. */
	ck_assert_int_eq(h_http(web.port, "GET", "/api/sse-health", NULL, NULL,
	    10, &r), 200);
	ck_assert_msg(strstr(r, "\"pid\":") != NULL && !from_app(r), "%.300s",
	    r);
	free(r);
	ck_assert_int_eq(h_http(web.port, "GET", "/api/brandnew", NULL, NULL,
	    10, &r), 404);
	ck_assert_msg(!from_app(r), "/api/brandnew went to pgsse-app: %.300s",
	    r);
	free(r);
	/* A POST action, with its form, as before. */
	h_http(web.port, "GET", "/status/content", NULL, NULL, 10, &r);
	v = header(r, "Set-Cookie");
	ck_assert_msg(v != NULL && strncmp(v, "pgsse_csrf=", 11) == 0,
	    "no CSRF cookie: %.300s", r);
	snprintf(tok, sizeof(tok), "%.*s", (int)strcspn(v + 11, ";"), v + 11);
	free(v);
	free(r);
	snprintf(hdr, sizeof(hdr), "HX-Request: true\r\nOrigin: "
	    "http://127.0.0.1:%d\r\nCookie: pgsse_csrf=%s\r\nX-CSRF-Token: %s"
	    "\r\n", web.port, tok, tok);
	ck_assert_int_eq(h_http(web.port, "POST", "/validation/run", hdr,
	    "x=1", 10, &r), 200);
	ck_assert_msg(strstr(body_of(r), "id=\"job-") != NULL, "%.300s", r);
	free(r);
	res = PQexec(c, "select count(*) from pgsse.jobs where kind = "
	    "'validation'");
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "1");
	PQclear(res);
	/* Without the token, pgsse-app (not the server) refuses it. */
	ck_assert_int_eq(h_http(web.port, "POST", "/validation/run", NULL,
	    "x=1", 10, &r), 403);
	ck_assert_msg(from_app(r), "%.300s", r);
	free(r);
	PQfinish(c);
}
END_TEST

static TCase *
server_case(const char *name, void (*up)(void), int kill_test)
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, up, stack_down);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, deploy_page_and_fragment);
	tcase_add_test(tc, deploy_unbuffered);
	tcase_add_test(tc, deploy_many_streams);
	tcase_add_test(tc, deploy_forged_user_refused);
	tcase_add_test(tc, deploy_one_routing_rule);
	if (kill_test)
		tcase_add_test(tc, deploy_stream_killed);
	return tc;
}

int
main(void)
{
	Suite	*s = suite_create("deploy");
	TCase	*tc;

	signal(SIGPIPE, SIG_IGN);
	suite_add_tcase(s, server_case("lighttpd", lighttpd_up, 1));
	suite_add_tcase(s, server_case("apache_proxy_fcgi", apache_proxy_up, 1));
	suite_add_tcase(s, server_case("apache_fcgid", apache_fcgid_up, 1));
	suite_add_tcase(s, server_case("nginx", nginx_up, 1));
	tc = tcase_create("nginx_auth");
	tcase_add_unchecked_fixture(tc, nginx_auth_up, stack_down);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, deploy_nginx_auth);
	suite_add_tcase(s, tc);
	tc = tcase_create("lighttpd_auth");
	tcase_add_unchecked_fixture(tc, lighttpd_auth_up, stack_down);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, deploy_lighttpd_auth);
	suite_add_tcase(s, tc);
	tc = tcase_create("two_hosts");
	tcase_add_unchecked_fixture(tc, two_hosts_up, idle_down);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, deploy_two_hosts);
	suite_add_tcase(s, tc);
	tc = tcase_create("idle");
	tcase_add_unchecked_fixture(tc, idle_up, idle_down);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, deploy_idle_streams_stay_open);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
