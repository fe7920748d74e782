/*
 * check_multiuser.c: several users on one site, end to end: pgsse-stream
 * and pgsse-app (the demo folder) behind the real lighttpd with basic
 * authentication on every path, a real PostgreSQL and the runner.
 * Personal channels reach their user's streams only, live, raw and on
 * resume.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "harness.h"

#define WAIT_MS 15000

static struct h_pg	 pg;
static struct h_web	 web;

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
 * The demo's app, its registry with a personal channel (notices), every
 * path behind basic authentication.
 */
static void
stack_up(void)
{
	FILE	*f;
	char	 conf[2048], path[600];

	h_pg_start(&pg, "tests/data/registry-multiuser.json");
	h_pg_load("demo/schema.sql");
	snprintf(path, sizeof(path), "%s/users", pg.dir);
	if ((f = fopen(path, "w")) == NULL)
		ck_abort_msg("cannot write %s", path);
	fputs("alice:secret\nbob:secret\ncarol:secret\n", f);
	fclose(f);
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

/* Returns the SQLSTATE sql fails with, or "" if it succeeds (static). */
static const char *
sqlstate(PGconn *c, const char *sql)
{
	static char	 st[6];
	PGresult	*res = PQexec(c, sql);
	const char	*z = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	snprintf(st, sizeof(st), "%s", z ? z : "");
	PQclear(res);
	return st;
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
	ck_assert_str_eq(sqlstate(c, "select pgsse.publish('notices', "
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
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
