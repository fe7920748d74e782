/*
 * check_multiuser.c: several users on one site, end to end: pgsse-stream
 * and pgsse-app (the demo folder) behind the real lighttpd with basic
 * authentication on every path, a real PostgreSQL and the runner.
 * Personal channels reach their user's streams only, live, raw and on
 * resume. A job is its owner's (and the user_readers'): nobody else
 * sees it by any route. Its owner cancels it, nobody else.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "harness.h"

#define WAIT_MS 15000

static struct h_pg	 pg;
static struct h_web	 web;
static pid_t		 runner;

/* The users of the site's password file, and their basic credentials. */
static const struct {
	const char	*name;
	const char	*basic;
} users[] = {
	{ "alice", "YWxpY2U6c2VjcmV0" },
	{ "bob", "Ym9iOnNlY3JldA==" },
	{ "carol", "Y2Fyb2w6c2VjcmV0" },
};

/* Returns the Authorization header line of user, in a static buffer. */
static const char *
auth(const char *user)
{
	static char	 hdr[128];
	size_t		 i;

	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		if (strcmp(users[i].name, user) == 0) {
			snprintf(hdr, sizeof(hdr), "Authorization: Basic %s\r\n",
			    users[i].basic);
			return hdr;
		}
	ck_abort_msg("no user %s", user);
	return NULL;
}

/*
 * The demo's database with its registry with a personal channel
 * (notices), and lighttpd's password file of the users in pg's folder,
 * whose path goes to path, of len bytes.
 */
static void
pg_up(char *path, size_t len)
{
	FILE	*f;

	h_pg_start(&pg, "tests/data/registry-multiuser.json");
	h_pg_load("demo/schema.sql");
	snprintf(path, len, "%s/users", pg.dir);
	if ((f = fopen(path, "w")) == NULL)
		ck_abort_msg("cannot write %s", path);
	fputs("alice:secret\nbob:secret\ncarol:secret\n", f);
	fclose(f);
}

/*
 * The demo's app on the database of pg_up, every path behind basic
 * authentication.
 */
static void
stack_up(void)
{
	char	 conf[2048], path[600];

	pg_up(path, sizeof(path));
	snprintf(conf, sizeof(conf), "auth.backend = \"plain\"\n"
	    "auth.backend.plain.userfile = \"%s\"\n"
	    "$HTTP[\"url\"] =~ \"^/\" {\n auth.require = (\"\" => (\"method\" "
	    "=> \"basic\", \"realm\" => \"pgsse\", \"require\" => "
	    "\"valid-user\"))\n}\n", path);
	h_web_start(&web, conf);
}

static void
stack_down(void)
{
	h_web_stop(&web);
	h_pg_stop(&pg);
}

/*
 * Makes tests/data/jobs' scripts kinds the web may enqueue, and carol
 * one of the user_readers.
 */
static void
kinds_add(void)
{
	PGconn	*c;

	c = h_pg_connect();
	h_exec(c, "insert into pgsse.job_kinds (kind, description, args, "
	    "cooldown_sec) values ('ok', 'prints', '{\"word\": \"string\"}', 0),"
	    " ('linger', 'waits', '{\"word\": \"string\"}', 0),"
	    " ('stubborn', 'ignores TERM', '{\"word\": \"string\"}', 0)");
	h_exec(c, "update pgsse.settings set value = 'carol' where name = "
	    "'user_readers'");
	PQfinish(c);
}

/* The stack, with tests/data/jobs' kinds (kinds_add). */
static void
queue_up(void)
{
	stack_up();
	kinds_add();
}

/* As queue_up, with a runner. */
static void
jobs_up(void)
{
	queue_up();
	runner = h_runner_start("tests/data/jobs", "60");
}

static void
jobs_down(void)
{
	h_runner_stop(runner, SIGTERM);
	stack_down();
}

/* Opens path as user and waits until it is subscribed. */
static struct h_sse *
user_stream(const char *user, const char *path, const char *lastid)
{
	char		 hdr[512];
	struct h_sse	*s;

	snprintf(hdr, sizeof(hdr), "%s%s%s%s", auth(user),
	    lastid ? "Last-Event-ID: " : "", lastid ? lastid : "",
	    lastid ? "\r\n" : "");
	s = h_sse_open_hdr(web.port, path, hdr);
	if (h_sse_ready(s, WAIT_MS) != 0)
		ck_abort_msg("%s's stream %s not ready: status %d", user, path,
		    s->status);
	return s;
}

/* Runs sql with the text parameters; returns the first value (caller
 * frees) or aborts. */
static char *
value(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult	*res;
	char		*z;

	res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		ck_abort_msg("%s: %s", sql, PQerrorMessage(c));
	z = strdup(PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return z;
}

/* Publishes to user (pgsse.publish's 4-argument form); returns the id. */
static int64_t
publish_to(PGconn *c, const char *channel, const char *event,
    const char *json, const char *user)
{
	const char	*params[4] = { channel, event, json, user };
	char		*z;
	int64_t		 id;

	z = value(c, "select pgsse.publish($1, $2, $3::jsonb, $4)", 4,
	    params);
	id = strtoll(z, NULL, 10);
	free(z);
	return id;
}

/*
 * Enqueues a job of kind with argument word as the web role does for
 * user (pgsse.web_enqueue under pgsse.user). Returns its id.
 */
static int64_t
enqueue_as(const char *user, const char *kind, const char *word)
{
	PGconn		*w = PQconnectdb("user=pgsse_web");
	const char	*params[2] = { user, NULL };
	char		 args[128], *z;
	int64_t		 id;

	ck_assert_int_eq(PQstatus(w), CONNECTION_OK);
	free(value(w, "select set_config('pgsse.user', $1, false)", 1,
	    params));
	snprintf(args, sizeof(args), "{\"word\": \"%s\"}", word);
	params[0] = kind;
	params[1] = args;
	z = value(w, "select id from pgsse.web_enqueue($1, $2::jsonb)", 2,
	    params);
	id = strtoll(z, NULL, 10);
	free(z);
	PQfinish(w);
	return id;
}

/* Returns the number of s's events whose data holds needle. */
static size_t
holding(const struct h_sse *s, const char *needle)
{
	size_t	 i, n = 0;

	for (i = 0; i < s->nmsgs; i++)
		n += strstr(s->msgs[i].data, needle) != NULL;
	return n;
}

/*
 * Returns the job_id field of event data z, or 0; with state not NULL,
 * copies its state field (or "") there, of statelen bytes.
 */
static int64_t
job_of(const char *z, char *state, size_t statelen)
{
	struct json_object	*o, *v;
	int64_t			 id = 0;

	if (state != NULL)
		state[0] = '\0';
	if ((o = json_tokener_parse(z)) == NULL)
		return 0;
	if (json_object_object_get_ex(o, "job_id", &v))
		id = json_object_get_int64(v);
	if (state != NULL && json_object_object_get_ex(o, "state", &v))
		snprintf(state, statelen, "%s", json_object_get_string(v));
	json_object_put(o);
	return id;
}

/* Returns the number of s's events about job id (its job_id field). */
static size_t
about(const struct h_sse *s, int64_t id)
{
	size_t	 i, n = 0;

	for (i = 0; i < s->nmsgs; i++)
		n += job_of(s->msgs[i].data, NULL, 0) == id;
	return n;
}

/*
 * Returns the state of job id's complete event on s (static), or NULL
 * if none came.
 */
static const char *
completed(const struct h_sse *s, int64_t id)
{
	static char	 state[64];
	const char	*e;
	size_t		 i, len;

	for (i = 0; i < s->nmsgs; i++) {
		e = s->msgs[i].event;
		len = strlen(e);
		if (len >= 8 && strcmp(e + len - 8, "complete") == 0 &&
		    job_of(s->msgs[i].data, state, sizeof(state)) == id)
			return state;
	}
	return NULL;
}

/*
 * Reads s until job id's complete event came, at most wait_ms. Returns
 * its state (static), or NULL.
 */
static const char *
wait_complete(struct h_sse *s, int64_t id, int wait_ms)
{
	int	 i;

	for (i = 0; i < wait_ms / 100 && completed(s, id) == NULL && !s->eof;
	    i++)
		h_sse_read(s, 100);
	if (completed(s, id) == NULL)
		h_sse_read(s, 100);
	return completed(s, id);
}

/*
 * A personal event reaches every stream of its user, of one channel or
 * several, and no stream of anyone else: published, or raw NOTIFY with
 * a "user" key. A personal channel takes no event without a user.
 */
START_TEST(personal_reaches_its_user_only)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*a1, *a2, *b1, *b2;

	a1 = user_stream("alice", "/api/sse/notices", NULL);
	a2 = user_stream("alice", "/api/sse?channel=notices&channel=logs",
	    NULL);
	b1 = user_stream("bob", "/api/sse/notices", NULL);
	b2 = user_stream("bob", "/api/sse?channel=logs&channel=notices", NULL);
	ck_assert_str_eq(h_sqlstate(c, "select pgsse.publish('notices', "
	    "'notice', '{\"text\":\"nobody\"}')"), "22023");
	publish_to(c, "notices", "notice", "{\"text\":\"for alice\"}", "alice");
	publish_to(c, "notices", "notice", "{\"text\":\"for bob\"}", "bob");
	h_exec(c, "select pg_notify('notices', '{\"event\":\"notice\","
	    "\"data\":{\"text\":\"raw for alice\"},\"user\":\"alice\"}')");
	/* Raw without a user: dropped, as an undocumented event is. */
	h_exec(c, "select pg_notify('notices', '{\"event\":\"notice\","
	    "\"data\":{\"text\":\"raw for nobody\"}}')");
	publish_to(c, "notices", "notice", "{\"text\":\"last\"}", "bob");
	ck_assert_int_eq(h_sse_wait(a1, 2, WAIT_MS), 2);
	ck_assert_int_eq(h_sse_wait(a2, 2, WAIT_MS), 2);
	ck_assert_int_eq(h_sse_wait(b1, 2, WAIT_MS), 2);
	ck_assert_int_eq(h_sse_wait(b2, 2, WAIT_MS), 2);
	ck_assert_str_eq(a1->msgs[0].event, "notice");
	ck_assert_str_eq(a2->msgs[0].event, "notices.notice");
	ck_assert_uint_eq(holding(a1, "\"for alice\""), 1);
	ck_assert_uint_eq(holding(a1, "\"raw for alice\""), 1);
	ck_assert_uint_eq(holding(a2, "\"for alice\""), 1);
	ck_assert_uint_eq(holding(a2, "\"raw for alice\""), 1);
	ck_assert_uint_eq(holding(b1, "\"for bob\""), 1);
	ck_assert_uint_eq(holding(b1, "\"last\""), 1);
	ck_assert_uint_eq(holding(b2, "\"for bob\""), 1);
	/* Nothing else comes: bob's last event came after everything. */
	h_sse_wait(a1, 3, 300);
	ck_assert_uint_eq(a1->nmsgs, 2);
	ck_assert_uint_eq(holding(b1, "alice") + holding(b2, "alice") +
	    holding(b1, "nobody"), 0);
	h_sse_close(a1);
	h_sse_close(a2);
	h_sse_close(b1);
	h_sse_close(b2);
	PQfinish(c);
}
END_TEST

/*
 * Resuming a personal channel replays its own user's events only, and
 * the web role reads no other user's rows of the log (row-level
 * security), whatever a fragment's SQL asks.
 */
START_TEST(personal_resume_per_user)
{
	PGconn		*c = h_pg_connect(), *w;
	struct h_sse	*a, *b;
	const char	*params[1];
	char		 from[32], *z;
	int64_t		 first;

	first = publish_to(c, "notices", "notice", "{\"text\":\"r0\"}",
	    "carol");
	snprintf(from, sizeof(from), "%" PRId64, first);
	publish_to(c, "notices", "notice", "{\"text\":\"ra\"}", "alice");
	publish_to(c, "notices", "notice", "{\"text\":\"rb\"}", "bob");
	publish_to(c, "notices", "notice", "{\"text\":\"ra2\"}", "alice");
	a = user_stream("alice", "/api/sse/notices", from);
	b = user_stream("bob", "/api/sse/notices", from);
	ck_assert_int_eq(h_sse_wait(a, 2, WAIT_MS), 2);
	ck_assert_int_eq(h_sse_wait(b, 1, WAIT_MS), 1);
	h_sse_wait(b, 2, 300);
	ck_assert_uint_eq(b->nmsgs, 1);
	ck_assert_uint_eq(holding(a, "\"ra\""), 1);
	ck_assert_uint_eq(holding(a, "\"ra2\""), 1);
	ck_assert_uint_eq(holding(b, "\"rb\""), 1);
	h_sse_close(a);
	h_sse_close(b);
	/* As pgsse-app reads the log for bob. */
	w = PQconnectdb("user=pgsse_web");
	ck_assert_int_eq(PQstatus(w), CONNECTION_OK);
	params[0] = "bob";
	free(value(w, "select set_config('pgsse.user', $1, false)", 1,
	    params));
	z = value(w, "select count(*) from pgsse.log where channel = "
	    "'notices' and payload ->> 'text' in ('ra', 'ra2', 'r0')", 0, NULL);
	ck_assert_str_eq(z, "0");
	free(z);
	z = value(w, "select count(*) from pgsse.log where channel = "
	    "'notices' and payload ->> 'text' = 'rb'", 0, NULL);
	ck_assert_str_eq(z, "1");
	free(z);
	PQfinish(w);
	PQfinish(c);
}
END_TEST

/*
 * A job enqueued from the web is its owner's: its progress, output and
 * lifecycle reach the owner's streams and the user_readers', on a
 * multi-channel stream, its per-job stream, a resume and the demo's
 * fragments, and nobody else's; its per-job stream answers anyone else
 * 404, as for a job that does not exist. Two users' identical actions
 * are two jobs. A job with no owner is everyone's.
 */
START_TEST(jobs_seen_by_owner_only)
{
	static const char multi[] =
	    "/api/sse?channel=job&channel=logs&channel=operations";
	PGconn		*c = h_pg_connect();
	struct h_sse	*a, *b, *r;
	char		 path[128], hdr[256], *body, *z;
	int64_t		 ida, idb, idn;

	a = user_stream("alice", multi, NULL);
	b = user_stream("bob", multi, NULL);
	ida = enqueue_as("alice", "ok", "same");
	idb = enqueue_as("bob", "ok", "same");
	ck_assert_int_ne(ida, idb);
	ck_assert_msg(wait_complete(a, ida, WAIT_MS) != NULL, "alice got no complete");
	ck_assert_msg(wait_complete(b, idb, WAIT_MS) != NULL, "bob got no complete");
	ck_assert_uint_ge(about(a, ida), 5);	/* queued .. complete */
	ck_assert_uint_eq(about(a, idb), 0);
	ck_assert_uint_eq(about(b, ida), 0);
	h_sse_close(a);
	h_sse_close(b);
	/* The per-job stream: the owner and carol; bob gets 404. */
	snprintf(path, sizeof(path), "/api/jobs/%" PRId64 "/stream", ida);
	ck_assert_int_eq(h_http_get(web.port, path, auth("bob"), &body), 404);
	free(body);
	a = user_stream("alice", path, NULL);
	ck_assert(wait_complete(a, ida, WAIT_MS) != NULL);
	h_sse_close(a);
	r = user_stream("carol", path, NULL);
	ck_assert(wait_complete(r, ida, WAIT_MS) != NULL);
	h_sse_close(r);
	/* A resume from the start of the log: bob's own, nothing of alice's. */
	b = user_stream("bob", "/api/sse?channel=job&channel=logs",
	    "job:0,logs:0");
	ck_assert(wait_complete(b, idb, WAIT_MS) != NULL);
	ck_assert_uint_eq(about(b, ida), 0);
	h_sse_close(b);
	/* The demo's fragments, as pgsse-app reads them for each user. */
	snprintf(path, sizeof(path), "/jobs/%" PRId64, ida);
	ck_assert_int_eq(h_http_get(web.port, path, auth("alice"), &body),
	    200);
	ck_assert_msg(strstr(body, "job-row") != NULL, "%s", body);
	free(body);
	ck_assert_int_eq(h_http_get(web.port, path, auth("bob"), &body), 200);
	ck_assert_msg(strstr(body, "job-row") == NULL, "%s", body);
	free(body);
	snprintf(hdr, sizeof(hdr), "hello from job %" PRId64 "<", ida);
	ck_assert_int_eq(h_http_get(web.port, "/logs/tail?n=200",
	    auth("bob"), &body), 200);
	ck_assert_msg(strstr(body, hdr) == NULL, "%s", body);
	free(body);
	ck_assert_int_eq(h_http_get(web.port, "/logs/tail?n=200",
	    auth("alice"), &body), 200);
	ck_assert_msg(strstr(body, hdr) != NULL, "%s", body);
	free(body);
	/* A job with no owner (enqueued by a script) is everyone's. */
	z = value(c, "select pgsse.enqueue('ok', '{\"word\": \"n\"}')", 0,
	    NULL);
	idn = strtoll(z, NULL, 10);
	free(z);
	snprintf(path, sizeof(path), "/api/jobs/%" PRId64 "/stream", idn);
	b = user_stream("bob", path, NULL);
	ck_assert(wait_complete(b, idn, WAIT_MS) != NULL);
	h_sse_close(b);
	PQfinish(c);
}
END_TEST

/*
 * Waits up to WAIT_MS for job id's "pids LEADER CHILD" line, which
 * tests/data/jobs/linger and stubborn print once running. Fills pids.
 */
static void
job_pids(int64_t id, pid_t pids[2])
{
	PGconn		*c = h_pg_connect();
	char		 job[24], *z = NULL;
	const char	*params[1] = { job };
	long		 a = 0, b = 0;
	int		 i;

	snprintf(job, sizeof(job), "%" PRId64, id);
	for (i = 0; i < WAIT_MS / 100; i++) {
		free(z);
		z = value(c, "select payload ->> 'line' from pgsse.log where "
		    "channel = 'logs' and payload ->> 'job_id' = $1 and "
		    "payload ->> 'line' like 'pids %'", 1, params);
		if (sscanf(z, "pids %ld %ld", &a, &b) == 2)
			break;
		usleep(100000);
	}
	free(z);
	PQfinish(c);
	ck_assert_msg(a > 0 && b > 0, "job %" PRId64 " printed no pids", id);
	pids[0] = (pid_t)a;
	pids[1] = (pid_t)b;
}

/* Says whether process pid is alive: there, and no zombie. */
static int
alive(pid_t pid)
{
	char	 path[64], buf[256], *p;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
	    p[2] != 'Z' && p[2] != 'X';
}

/* Waits up to WAIT_MS for both pids to be gone. Returns 1 if they are. */
static int
gone(const pid_t pids[2])
{
	int	 i;

	for (i = 0; i < WAIT_MS / 100 && (alive(pids[0]) || alive(pids[1]));
	    i++)
		usleep(100000);
	return !alive(pids[0]) && !alive(pids[1]);
}

/* Returns the one value of sql about job id, as the superuser (static). */
static const char *
job_value(const char *sql, int64_t id)
{
	static char	 out[256];
	PGconn		*c = h_pg_connect();
	char		 job[24], *z;
	const char	*params[1] = { job };

	snprintf(job, sizeof(job), "%" PRId64, id);
	z = value(c, sql, 1, params);
	snprintf(out, sizeof(out), "%s", z);
	free(z);
	PQfinish(c);
	return out;
}

/*
 * Returns job_value(sql, id) once it is want, or what it is after
 * WAIT_MS: a runner's last writes may land just after what the test
 * waited for (its process group gone, its stream ended).
 */
static const char *
job_value_wait(const char *sql, int64_t id, const char *want)
{
	const char	*v;
	int		 i;

	for (i = 0; i < WAIT_MS / 50; i++) {
		if (strcmp(v = job_value(sql, id), want) == 0)
			break;
		usleep(50000);
	}
	return v;
}

/*
 * POSTs path as user, as htmx would: a CSRF token from a first GET in
 * cookie and header. Returns the status.
 */
static int
post_as(const char *user, const char *path)
{
	char	*r, tok[256], hdr[1024], *z;
	int	 st;

	snprintf(hdr, sizeof(hdr), "%s", auth(user));
	ck_assert_int_eq(h_http(web.port, "GET", "/jobs/active", hdr, NULL,
	    WAIT_MS / 1000, &r), 200);
	ck_assert_msg((z = strstr(r, "pgsse_csrf=")) != NULL, "%.300s", r);
	z += strlen("pgsse_csrf=");
	snprintf(tok, sizeof(tok), "%.*s", (int)strcspn(z, ";\r\n"), z);
	free(r);
	snprintf(hdr, sizeof(hdr), "%sHX-Request: true\r\nOrigin: "
	    "http://127.0.0.1:%d\r\nCookie: pgsse_csrf=%s\r\nX-CSRF-Token: "
	    "%s\r\n", auth(user), web.port, tok, tok);
	st = h_http(web.port, "POST", path, hdr, NULL, WAIT_MS / 1000, NULL);
	return st;
}

/* Cancels job id as the web role does for user; returns the SQLSTATE
 * ("" when it succeeds). */
static const char *
cancel_as(const char *user, int64_t id)
{
	static char	 st[6];
	PGconn		*w = PQconnectdb("user=pgsse_web");
	const char	*params[1] = { user };
	char		 sql[96];
	PGresult	*res;
	const char	*z;

	ck_assert_int_eq(PQstatus(w), CONNECTION_OK);
	free(value(w, "select set_config('pgsse.user', $1, false)", 1,
	    params));
	snprintf(sql, sizeof(sql), "select pgsse.cancel(%" PRId64 ")", id);
	res = PQexec(w, sql);
	z = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	snprintf(st, sizeof(st), "%s", z ? z : "");
	PQclear(res);
	PQfinish(w);
	return st;
}

/*
 * The demo's Cancel action stops a running job the user owns: its
 * process group gets TERM, the job ends cancelled, the lifecycle says
 * so, and the per-job stream ends with complete {state: cancelled}.
 */
START_TEST(cancel_running)
{
	struct h_sse	*a;
	char		 path[128];
	const char	*st;
	pid_t		 pids[2];
	int64_t		 id;

	id = enqueue_as("alice", "linger", "c1");
	job_pids(id, pids);
	snprintf(path, sizeof(path), "/api/jobs/%" PRId64 "/stream", id);
	a = user_stream("alice", path, NULL);
	snprintf(path, sizeof(path), "/jobs/%" PRId64 "/cancel", id);
	ck_assert_int_eq(post_as("alice", path), 200);
	st = wait_complete(a, id, WAIT_MS);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(st, "cancelled");
	h_sse_wait(a, a->nmsgs + 1, 2000);
	ck_assert_msg(a->eof, "the per-job stream did not end");
	h_sse_close(a);
	ck_assert_msg(gone(pids), "job %" PRId64 "'s processes live on", id);
	ck_assert_str_eq(job_value("select state from pgsse.jobs where id = "
	    "$1::bigint", id), "cancelled");
	ck_assert_str_eq(job_value_wait("select count(*) from pgsse.log "
	    "where channel = 'operations' and payload ->> 'job_id' = $1 and "
	    "payload ->> 'state' = 'cancelled'", id, "1"), "1");
}
END_TEST

/*
 * A job that ignores TERM is killed once the grace period is over, and
 * still ends cancelled.
 */
START_TEST(cancel_stubborn)
{
	struct h_sse	*a;
	char		 path[128];
	const char	*st;
	pid_t		 pids[2];
	int64_t		 id;

	id = enqueue_as("alice", "stubborn", "c2");
	job_pids(id, pids);
	snprintf(path, sizeof(path), "/api/jobs/%" PRId64 "/stream", id);
	a = user_stream("alice", path, NULL);
	ck_assert_str_eq(cancel_as("alice", id), "");
	st = wait_complete(a, id, 3 * WAIT_MS);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(st, "cancelled");
	h_sse_close(a);
	ck_assert_msg(gone(pids), "job %" PRId64 "'s processes live on", id);
}
END_TEST

/*
 * Someone else's job, or one that does not exist, cannot be cancelled:
 * 403 from the action, PS403 from pgsse.cancel, and the job runs on.
 */
START_TEST(cancel_foreign_refused)
{
	char	 path[128], *z;
	pid_t	 pids[2];
	int64_t	 id, script;
	PGconn	*c;

	id = enqueue_as("alice", "linger", "c3");
	job_pids(id, pids);
	snprintf(path, sizeof(path), "/jobs/%" PRId64 "/cancel", id);
	ck_assert_int_eq(post_as("bob", path), 403);
	ck_assert_str_eq(cancel_as("bob", id), "PS403");
	ck_assert_str_eq(cancel_as("carol", id), "PS403");
	ck_assert_str_eq(cancel_as("bob", 999999), "PS403");
	ck_assert_int_eq(post_as("bob", "/jobs/999999/cancel"), 403);
	/* Nobody logged in cancels anything, a script's job included. */
	c = h_pg_connect();
	z = value(c, "select pgsse.enqueue('linger', '{\"word\": \"c4\"}')",
	    0, NULL);
	script = strtoll(z, NULL, 10);
	free(z);
	ck_assert_str_eq(cancel_as("", id), "PS403");
	ck_assert_str_eq(cancel_as("", script), "PS403");
	usleep(500000);
	ck_assert_str_eq(job_value("select state from pgsse.jobs where id = "
	    "$1::bigint", id), "running");
	ck_assert_str_ne(job_value("select state from pgsse.jobs where id = "
	    "$1::bigint", script), "cancelled");
	ck_assert(alive(pids[0]) && alive(pids[1]));
	ck_assert_str_eq(cancel_as("alice", id), "");
	ck_assert(gone(pids));
	ck_assert_str_eq(h_sqlstate(c, "select pgsse.cancel(id) from pgsse.jobs "
	    "where owner is null and state in ('queued', 'running')"), "");
	PQfinish(c);
}
END_TEST

/*
 * One user cannot fill a job kind's queue for everyone: past
 * max_queued_per_user of their own queued jobs of a kind, that user's
 * next enqueue is refused with PS429 (429), and another user's still
 * goes through.
 */
START_TEST(queue_per_user)
{
	PGconn		*w = PQconnectdb("user=pgsse_web"), *c;
	const char	*params[1] = { "bob" };
	char		 sql[160];
	int		 i;

	ck_assert_int_eq(PQstatus(w), CONNECTION_OK);
	free(value(w, "select set_config('pgsse.user', $1, false)", 1,
	    params));
	for (i = 0; i < PGSSE_JOBS_QUEUED_USER_MAX; i++) {
		snprintf(sql, sizeof(sql), "select pgsse.web_enqueue('ok', "
		    "'{\"word\": \"bob%d\"}')", i);
		ck_assert_str_eq(h_sqlstate(w, sql), "");
	}
	ck_assert_str_eq(h_sqlstate(w, "select pgsse.web_enqueue('ok', "
	    "'{\"word\": \"one too many\"}')"), "PS429");
	PQfinish(w);
	ck_assert_int_gt(enqueue_as("alice", "ok", "mine"), 0);
	c = h_pg_connect();
	h_exec(c, "select pgsse.cancel(id) from pgsse.jobs where state = "
	    "'queued'");
	PQfinish(c);
}
END_TEST

/*
 * A job cancelled while queued ends cancelled at once, its per-job
 * stream says so, and no runner ever runs it.
 */
START_TEST(cancel_queued)
{
	struct h_sse	*a;
	char		 path[128];
	const char	*st;
	int64_t		 id, next;

	id = enqueue_as("alice", "ok", "q1");
	ck_assert_str_eq(cancel_as("alice", id), "");
	ck_assert_str_eq(job_value("select state from pgsse.jobs where id = "
	    "$1::bigint", id), "cancelled");
	snprintf(path, sizeof(path), "/api/jobs/%" PRId64 "/stream", id);
	a = user_stream("alice", path, NULL);
	st = wait_complete(a, id, WAIT_MS);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(st, "cancelled");
	h_sse_close(a);
	runner = h_runner_start("tests/data/jobs", "60");
	next = enqueue_as("alice", "ok", "q2");
	snprintf(path, sizeof(path), "/api/jobs/%" PRId64 "/stream", next);
	a = user_stream("alice", path, NULL);
	st = wait_complete(a, next, WAIT_MS);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(st, "succeeded");
	h_sse_close(a);
	ck_assert_str_eq(job_value("select state || ' ' || attempts || ' ' || "
	    "(started_at is null) from pgsse.jobs where id = $1::bigint", id),
	    "cancelled 0 true");
	ck_assert_str_eq(job_value("select count(*) from pgsse.log where "
	    "channel = 'logs' and payload ->> 'job_id' = $1", id), "0");
	h_runner_stop(runner, SIGTERM);
}
END_TEST

/*
 * The password file of the users for Apache and nginx (apr1 hashes,
 * which both read), at path.
 */
static void
htpasswd(const char *path)
{
	if (h_run("for u in alice bob carol; do printf '%%s:%%s\\n' $u "
	    "\"$(openssl passwd -apr1 secret)\"; done >%s && chmod 644 %s",
	    path, path) != 0)
		ck_abort_msg("cannot write %s", path);
}

/*
 * Waits, at most WAIT_MS, for the reloaded server to ask for a
 * password: its new configuration is live.
 */
static void
auth_wait(void)
{
	int	 i, st = 0;

	for (i = 0; i < WAIT_MS / 100; i++) {
		st = h_http_get(web.port, "/api/sse-health", NULL, NULL);
		if (st == 401)
			return;
		usleep(100000);
	}
	ck_abort_msg("the server does not ask for a password: %d", st);
}

/*
 * Apache with the shipped sample (proxy-fcgi or fcgid), and basic
 * authentication on every path as docs/DEPLOY.md says: a <Location
 * "/"> after the sample, with the modules it needs.
 */
static void
apache_up(const char *sample)
{
	char	 path[600];

	pg_up(path, sizeof(path));
	kinds_add();
	runner = h_runner_start("tests/data/jobs", "60");
	h_apache_start(&web, sample);
	snprintf(path, sizeof(path), "%s/htpasswd", web.pwdir);
	htpasswd(path);
	if (h_run("m=/usr/lib/apache2/modules; for x in auth_basic authn_core "
	    "authn_file authz_user; do echo \"LoadModule ${x}_module "
	    "$m/mod_$x.so\"; done >>%s/apache.conf && printf '<Location "
	    "\"/\">\\n AuthType Basic\\n AuthName pgsse\\n AuthUserFile %s\\n"
	    " Require valid-user\\n</Location>\\n' >>%s/apache.conf && "
	    "kill -HUP %d", web.dir, path, web.dir, (int)web.pid) != 0)
		ck_abort_msg("cannot add authentication to Apache");
	auth_wait();
}

static void apache_proxy_up(void) { apache_up("proxy-fcgi"); }
static void apache_fcgid_up(void) { apache_up("fcgid"); }

/*
 * nginx with the shipped sample and, as its comment says, auth_basic
 * and $pgsse_user set from the checked user in the locations that
 * match the sed pattern where.
 */
static void
nginx_auth(const char *where)
{
	char	 path[600];

	pg_up(path, sizeof(path));
	kinds_add();
	runner = h_runner_start("tests/data/jobs", "60");
	h_nginx_start(&web);
	snprintf(path, sizeof(path), "%s/htpasswd", web.dir);
	htpasswd(path);
	if (h_run("sed -i 's#^    %s {$#&\\n        auth_basic pgsse;"
	    "\\n        auth_basic_user_file %s;\\n        set $pgsse_user "
	    "$remote_user;#' %s/pgsse-site.conf && kill -HUP %d", where, path,
	    web.dir, (int)web.pid) != 0)
		ck_abort_msg("cannot add auth_basic to the nginx sample");
	auth_wait();
}

/*
 * In the two locations that reach the programs, /api/ and @app: all
 * that the sample's comment requires (location / only "to protect the
 * pages too"), so the pages stay public.
 */
static void nginx_up(void) { nginx_auth("location \\(/api/\\|@app\\)"); }

#define SECRET "only-alice-may-read-this"

/*
 * Reads path as user from the start of the log (Last-Event-ID lastid),
 * for at most 1 s: a stream does not end by itself. Returns the
 * stream, which the caller closes.
 */
static struct h_sse *
replay(const char *user, const char *path, const char *lastid)
{
	struct h_sse	*s = user_stream(user, path, lastid);

	h_sse_wait(s, 10000, 1000);
	return s;
}

/*
 * The private routes under another server: every path authenticated,
 * REMOTE_USER reaching both programs. A personal notice reaches its
 * user only; alice's running job and its events are hers on every
 * route, bob's guesses show nothing; bob's cancel gets 403 and changes
 * nothing, alice's cancels it.
 */
START_TEST(private_routes)
{
	static const char multi[] =
	    "/api/sse?channel=job&channel=logs&channel=operations";
	PGconn		*c = h_pg_connect();
	struct h_sse	*a, *b;
	char		 path[128], json[256], *body;
	pid_t		 pids[2];
	int64_t		 id;

	ck_assert_int_eq(h_http_get(web.port, "/api/sse/notices", NULL, NULL),
	    401);
	a = user_stream("alice", "/api/sse?channel=notices&channel=logs",
	    NULL);
	b = user_stream("bob", "/api/sse/notices", NULL);
	publish_to(c, "notices", "notice", "{\"text\":\"for alice\"}", "alice");
	publish_to(c, "notices", "notice", "{\"text\":\"for bob\"}", "bob");
	ck_assert_int_eq(h_sse_wait(a, 1, WAIT_MS), 1);
	ck_assert_int_eq(h_sse_wait(b, 1, WAIT_MS), 1);
	h_sse_wait(a, 2, 300);
	ck_assert_uint_eq(a->nmsgs, 1);
	ck_assert_uint_eq(holding(a, "\"for alice\""), 1);
	ck_assert_uint_eq(holding(b, "\"for bob\""), 1);
	h_sse_close(a);
	h_sse_close(b);
	/* Alice's job, running, with a step only she may read. */
	id = enqueue_as("alice", "linger", "p1");
	job_pids(id, pids);
	snprintf(json, sizeof(json), "{\"job_id\":%" PRId64 ",\"percent\":5,"
	    "\"step\":\"" SECRET "\"}", id);
	publish_to(c, "job", "progress", json, "alice");
	a = replay("alice", multi, "job:0,logs:0,operations:0");
	ck_assert_uint_ge(about(a, id), 3);	/* queued, running, progress */
	ck_assert_uint_eq(holding(a, SECRET), 1);
	h_sse_close(a);
	b = replay("bob", multi, "job:0,logs:0,operations:0");
	ck_assert_uint_eq(about(b, id) + holding(b, SECRET), 0);
	h_sse_close(b);
	b = replay("bob", "/api/sse/job", "0");
	ck_assert_uint_eq(about(b, id) + holding(b, SECRET), 0);
	h_sse_close(b);
	snprintf(path, sizeof(path), "/api/jobs/%" PRId64 "/stream", id);
	ck_assert_int_eq(h_http_get(web.port, path, auth("bob"), &body), 404);
	ck_assert_msg(strstr(body, SECRET) == NULL, "%s", body);
	free(body);
	snprintf(path, sizeof(path), "/jobs/%" PRId64, id);
	ck_assert_int_eq(h_http_get(web.port, path, auth("alice"), &body),
	    200);
	ck_assert_msg(strstr(body, SECRET) != NULL, "alice: %s", body);
	free(body);
	ck_assert_int_eq(h_http_get(web.port, path, auth("bob"), &body), 200);
	ck_assert_msg(strstr(body, "job-row") == NULL, "bob: %s", body);
	free(body);
	ck_assert_int_eq(h_http_get(web.port, "/logs/tail?n=200", auth("bob"),
	    &body), 200);
	ck_assert_msg(strstr(body, "pids ") == NULL, "bob: %s", body);
	free(body);
	/* Bob's cancel: 403, and the job runs on; alice's ends it. */
	snprintf(path, sizeof(path), "/jobs/%" PRId64 "/cancel", id);
	ck_assert_int_eq(post_as("bob", path), 403);
	usleep(300000);
	ck_assert_str_eq(job_value("select state from pgsse.jobs where id = "
	    "$1::bigint", id), "running");
	ck_assert(alive(pids[0]) && alive(pids[1]));
	ck_assert_int_eq(post_as("alice", path), 200);
	ck_assert(gone(pids));
	PQfinish(c);
}
END_TEST

/*
 * The metrics pages name every channel, private ones too, and every job
 * kind: the samples answer them to this host (127.0.0.1) only, and 403
 * to any other address, even with a good password.
 */
START_TEST(metrics_this_host_only)
{
	static const char *const paths[] = { "/api/sse-metrics",
	    "/app-metrics" };
	static const char *const tries[] = { "/api/sse-metrics",
	    "/app-metrics", "/api/sse-metrics?x=1", "/app-metrics?x=1",
	    "//app-metrics", "/api//sse-metrics", "/app-metrics/../app-metrics",
	    "/api/sse%2Dmetrics", "/app%2dmetrics", "/x/../app-metrics" };
	char	*body;
	size_t	 i;
	int	 st;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ck_assert_int_eq(h_http_get_from("127.0.0.1", web.port,
		    paths[i], auth("alice"), &body), 200);
		ck_assert_msg(strstr(body, "# TYPE ") != NULL, "%s", body);
		free(body);
	}
	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		st = h_http_get_from("127.0.0.2", web.port, tries[i],
		    auth("alice"), &body);
		ck_assert_msg(st != 200, "%s from 127.0.0.2: %d", tries[i], st);
		ck_assert_msg(strstr(body, "pgsse_") == NULL, "%s: %s",
		    tries[i], body);
		free(body);
	}
}
END_TEST

/*
 * The stack with the demo's job scripts, each step slow enough (8 s)
 * that a job is still running when the browser test cancels it.
 */
static void
demo_up(void)
{
	stack_up();
	setenv("PGSSE_DEMO_DELAY", "8", 1);
	runner = h_runner_start("demo/jobs", "60");
	unsetenv("PGSSE_DEMO_DELAY");
}

/*
 * Two users in Chromium (tests/browser/users.mjs): alice's job and her
 * personal notices are hers alone, on the page and by every route bob
 * can guess; bob's cancel gets 403; alice's shows the job cancelled.
 */
START_TEST(browser_two_users)
{
	ck_assert_int_eq(h_browser(web.port, "users"), 0);
}
END_TEST

/*
 * A stranger who claims to be alice (any password) reads nothing of
 * hers, also where the pages are public and only the programs'
 * locations authenticate (nginx_up): not her job's fragment, not its
 * log lines.
 */
START_TEST(forged_user_refused)
{
	PGconn		*c = h_pg_connect();
	char		 path[128], json[256], *body;
	static const char forged[] = "Authorization: Basic YWxpY2U6eA==\r\n";
	int64_t		 id;

	id = enqueue_as("alice", "ok", "f1");
	snprintf(json, sizeof(json), "{\"job_id\":%" PRId64 ",\"percent\":5,"
	    "\"step\":\"" SECRET "\"}", id);
	publish_to(c, "job", "progress", json, "alice");
	snprintf(path, sizeof(path), "/jobs/%" PRId64, id);
	ck_assert_int_eq(h_http_get(web.port, path, auth("alice"), &body),
	    200);
	ck_assert_msg(strstr(body, "job-row") != NULL, "alice: %s", body);
	free(body);
	h_http_get(web.port, path, forged, &body);
	ck_assert_msg(strstr(body, "job-row") == NULL, "alice:x got %s: %s",
	    path, body);
	free(body);
	h_http_get(web.port, "/logs/tail?n=200", forged, &body);
	ck_assert_msg(strstr(body, "hello from job") == NULL, "alice:x got "
	    "/logs/tail: %s", body);
	free(body);
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("multiuser");
	TCase	*tc;

	tc = tcase_create("personal");
	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, personal_reaches_its_user_only);
	tcase_add_test(tc, personal_resume_per_user);
	tcase_add_test(tc, metrics_this_host_only);
	suite_add_tcase(s, tc);
	tc = tcase_create("jobs");
	tcase_add_unchecked_fixture(tc, jobs_up, jobs_down);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, jobs_seen_by_owner_only);
	tcase_add_test(tc, cancel_running);
	tcase_add_test(tc, cancel_stubborn);
	tcase_add_test(tc, cancel_foreign_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("queued");
	tcase_add_unchecked_fixture(tc, queue_up, jobs_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, queue_per_user);
	tcase_add_test(tc, cancel_queued);
	suite_add_tcase(s, tc);
	tc = tcase_create("apache_proxy_fcgi");
	tcase_add_unchecked_fixture(tc, apache_proxy_up, jobs_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, private_routes);
	tcase_add_test(tc, forged_user_refused);
	tcase_add_test(tc, metrics_this_host_only);
	suite_add_tcase(s, tc);
	tc = tcase_create("apache_fcgid");
	tcase_add_unchecked_fixture(tc, apache_fcgid_up, jobs_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, private_routes);
	tcase_add_test(tc, forged_user_refused);
	tcase_add_test(tc, metrics_this_host_only);
	suite_add_tcase(s, tc);
	tc = tcase_create("nginx");
	tcase_add_unchecked_fixture(tc, nginx_up, jobs_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, private_routes);
	tcase_add_test(tc, forged_user_refused);
	tcase_add_test(tc, metrics_this_host_only);
	suite_add_tcase(s, tc);
	tc = tcase_create("browser");
	tcase_add_unchecked_fixture(tc, demo_up, jobs_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, browser_two_users);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
