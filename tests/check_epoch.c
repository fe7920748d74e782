/*
 * check_epoch.c: resuming across a failover. A real primary and its
 * streaming standby on loopback (tests/harness.c), pgsse-stream behind
 * lighttpd with a multi-host connection string (target_session_attrs=
 * read-write), so that it follows the promotion. With asynchronous
 * replication the events the standby never got are lost, and the new
 * primary hands their ids out again: a client whose cursor is at them
 * must get stream_reset. With synchronous replication nothing is lost,
 * and every client resumes exactly.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"
#include "harness.h"

#define WAIT_MS 15000
/* Events the old primary commits that the standby never gets: more
 * than a sequence logs ahead (32), so the new primary hands out some of
 * their ids again, and the last one again too. */
#define LOST 40

static struct h_pg	 pg, standby;
static struct h_web	 web;

/* Starts the primary, its standby (sync or not) and the web stack, whose
 * programs reach whichever of the two takes writes. */
static void
stack_up(int sync)
{
	char	 hosts[1200], ports[32];

	h_pg_start(&pg, "tests/data/registry-test.json");
	h_pg_load("demo/schema.sql");	/* pgsse-app serves the demo */
	h_pg_standby(&standby, &pg, sync);
	snprintf(hosts, sizeof(hosts), "%s/c,%s/c", pg.dir, standby.dir);
	snprintf(ports, sizeof(ports), "%d,%d", pg.port, standby.port);
	setenv("PGHOST", hosts, 1);
	setenv("PGPORT", ports, 1);
	setenv("PGTARGETSESSIONATTRS", "read-write", 1);
	h_web_start(&web, NULL);
}

static void stack_async(void) { stack_up(0); }
static void stack_sync(void) { stack_up(1); }

static void
stack_down(void)
{
	h_web_stop(&web);
	h_pg_stop(&standby);
	h_pg_stop(&pg);
}

/*
 * One cluster at schema version 2, as deployed before epochs (the first
 * release's schema and roles, then the step to 2), and the web stack.
 */
static void
stack_v2(void)
{
	PGconn	*c;

	h_pg_start(&pg, "tests/data/registry-test.json");
	c = h_pg_connect();
	h_exec(c, "set client_min_messages = warning; drop schema pgsse "
	    "cascade");
	PQfinish(c);
	ck_assert_int_eq(h_run("psql -X -q -v ON_ERROR_STOP=1 -f "
	    "%s/tests/data/schema-v1.sql -1 -f %s/sql/upgrade/pgsse-1-2.sql "
	    ">/dev/null && %s/bin/pgsse-registry load "
	    "%s/tests/data/registry-test.json >/dev/null && psql -X -q -v "
	    "ON_ERROR_STOP=1 -f %s/tests/data/roles-v1.sql -f "
	    "%s/demo/schema.sql >/dev/null", h_srcdir(), h_srcdir(),
	    h_builddir(), h_srcdir(), h_srcdir(), h_srcdir()), 0);
	ck_assert_int_eq(h_pg_count("select pgsse.schema_version()"), 2);
	h_web_start(&web, NULL);
}

/* One cluster at the current schema, and the web stack. */
static void
stack_one(void)
{
	h_pg_start(&pg, "tests/data/registry-test.json");
	h_pg_load("demo/schema.sql");	/* pgsse-app serves the demo */
	h_web_start(&web, NULL);
}

/* Returns the string field f of JSON text z, in a static buffer. */
static const char *
json_field(const char *z, const char *f)
{
	static char		 out[8192];
	struct json_object	*o, *v;

	out[0] = '\0';
	if ((o = json_tokener_parse(z)) != NULL &&
	    json_object_object_get_ex(o, f, &v))
		snprintf(out, sizeof(out), "%s", json_object_get_string(v));
	json_object_put(o);
	return out;
}

/* Publishes n status events named what (what-0, what-1, ...). Returns
 * the last id. */
static int64_t
publish_n(PGconn *c, const char *what, int n)
{
	char	 json[96];
	int64_t	 id = 0;
	int	 i;

	for (i = 0; i < n; i++) {
		snprintf(json, sizeof(json), "{\"status\":\"%s-%d\","
		    "\"uptime\":%d}", what, i, i);
		id = h_publish(c, "status", "system_status", json);
	}
	return id;
}

/* Stops the primary at once, as a crash does, and promotes the standby
 * (starting it first if a test stopped it, so that it cannot catch up). */
static void
fail_over(void)
{
	ck_assert_int_eq(h_run("%s/bin/pgsse-cluster stop %s/c immediate",
	    h_srcdir(), pg.dir), 0);
	ck_assert_int_eq(h_run("[ -f %s/c/data/postmaster.pid ] || env -u "
	    "PGHOST -u PGPORT -u PGTARGETSESSIONATTRS %s/bin/pgsse-cluster "
	    "start %s/c", standby.dir, h_srcdir(), standby.dir), 0);
	h_pg_promote(&standby);
}

/* Stops the standby's replication: what the primary commits from now on
 * is lost in a failover. */
static void
standby_cut(void)
{
	h_pg_catch_up(&pg, &standby);
	ck_assert_int_eq(h_run("%s/bin/pgsse-cluster stop %s/c fast",
	    h_srcdir(), standby.dir), 0);
}

/* Refuses (on 1) or lets in (0) the stream role on the standby; the file
 * is rewritten in place, so it keeps its owner. */
static void
standby_refuse_stream(int on)
{
	ck_assert_int_eq(h_run("f=%s/c/data/pg_hba.conf; { %s; } >$f.new && "
	    "cat $f.new >$f && rm $f.new", standby.dir, on ? "echo 'local all "
	    "pgsse_stream reject'; cat $f" : "sed 1d $f"), 0);
}

/* Waits until the stream process has connected to the database twice:
 * the old primary, then the new one. */
static void
stream_reconnected(void)
{
	ck_assert_int_eq(h_health_wait(web.port, "db_connects", 2, 30000), 2);
}

/* Opens a stream as an EventSource does after the failover
 * (h_sse_connect_retry). */
static struct h_sse *
sse_retry(const char *path, const char *lastid)
{
	return h_sse_connect_retry(web.port, path, lastid);
}

/*
 * Publishes a marker and waits until s has it, so that an event
 * published before s connected (its notification still on its way) is
 * behind it. Returns how many messages s has then.
 */
static size_t
settled(struct h_sse *s, PGconn *c)
{
	const struct h_msg	*m;
	int			 i;

	publish_n(c, "settled", 1);
	for (i = 0; i < 100; i++) {
		m = s->nmsgs > 0 ? &s->msgs[s->nmsgs - 1] : NULL;
		if (m != NULL && strcmp(json_field(m->data, "status"),
		    "settled-0") == 0)
			return s->nmsgs;
		h_sse_wait(s, s->nmsgs + 1, WAIT_MS / 20);
	}
	ck_abort_msg("the stream never had the marker");
	return 0;
}

/* Asserts that s's message i is the status event what. */
static void
assert_status(const struct h_sse *s, size_t i, const char *what)
{
	ck_assert_msg(i < s->nmsgs, "message %zu of %zu", i, s->nmsgs);
	ck_assert_msg(strcmp(s->msgs[i].event, "system_status") == 0 &&
	    strcmp(json_field(s->msgs[i].data, "status"), what) == 0,
	    "message %zu: got %s %s, expected system_status %s", i,
	    s->msgs[i].event, s->msgs[i].data, what);
}

/*
 * Asynchronous replication: the standby misses the last LOST events, the
 * primary dies, the standby is promoted and hands out ids past the
 * client's cursor (some of them the lost events' ids). A client that
 * comes back with the id of the last lost event gets stream_reset, then
 * the events that follow, not the new primary's events as if nothing
 * were lost.
 */
START_TEST(epoch_async_lost_resume)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s;
	char		 lastid[64];
	int64_t		 kept, lost, first, last;

	kept = publish_n(c, "kept", 3);
	standby_cut();
	snprintf(lastid, sizeof(lastid), "%" PRId64, kept);
	s = h_sse_connect(web.port, "/api/sse/status", lastid);
	lost = publish_n(c, "lost", LOST);
	ck_assert_int_eq(h_sse_wait(s, LOST, WAIT_MS), LOST);
	assert_status(s, LOST - 1, "lost-39");
	snprintf(lastid, sizeof(lastid), "%s", s->msgs[LOST - 1].id);
	h_sse_close(s);
	PQfinish(c);

	fail_over();
	c = h_pg_connect();
	first = h_publish(c, "status", "system_status",
	    "{\"status\":\"new-first\",\"uptime\":0}");
	last = publish_n(c, "new", LOST);
	/* The failure this guards against: an id handed out twice, and
	 * the new primary past the client's cursor. */
	ck_assert_int_le(first, lost);
	ck_assert_int_gt(last, lost);
	stream_reconnected();

	s = sse_retry("/api/sse/status", lastid);
	publish_n(c, "fresh", 1);
	h_sse_wait(s, 2, WAIT_MS);
	ck_assert_int_ge(s->nmsgs, 1);
	ck_assert_msg(strcmp(s->msgs[0].event, "stream_reset") == 0,
	    "resuming from lost event %s after the failover: got %s %s, "
	    "expected stream_reset", lastid, s->msgs[0].event,
	    s->msgs[0].data);
	assert_status(s, 1, "fresh-0");
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

/*
 * The same loss seen by a client connected through the failover: the
 * stream process reconnects only once the new primary has handed out
 * ids past the lost ones (its role is refused until then), and must
 * tell the client to reset rather than go on from its cursor.
 */
START_TEST(epoch_async_lost_live)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s;
	int64_t		 lost, last;
	size_t		 n, base;

	publish_n(c, "kept", 3);
	s = h_sse_connect(web.port, "/api/sse/status", NULL);
	base = settled(s, c);
	standby_cut();
	lost = publish_n(c, "lost", LOST);
	ck_assert_int_eq(h_sse_wait(s, base + LOST, WAIT_MS), base + LOST);
	PQfinish(c);

	/* Keep the stream process out of the new primary for now. */
	standby_refuse_stream(1);
	fail_over();
	c = h_pg_connect();
	last = publish_n(c, "new", LOST);
	ck_assert_int_gt(last, lost);
	standby_refuse_stream(0);
	h_exec(c, "select pg_reload_conf()");
	stream_reconnected();
	publish_n(c, "fresh", 1);
	n = (size_t)h_sse_wait(s, base + LOST + 2, WAIT_MS);
	ck_assert_msg(n > base + LOST && strcmp(s->msgs[base + LOST].event,
	    "stream_reset") == 0, "after the failover: got %s %s, expected "
	    "stream_reset", n > base + LOST ? s->msgs[base + LOST].event :
	    "nothing", n > base + LOST ? s->msgs[base + LOST].data : "");
	assert_status(s, base + LOST + 1, "fresh-0");
	ck_assert(!s->eof);
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

/* Publishes progress step what of job to everyone. Returns its id. */
static int64_t
job_step(PGconn *c, const char *job, const char *what)
{
	char	 json[128];

	snprintf(json, sizeof(json), "{\"job_id\":%s,\"percent\":1,"
	    "\"step\":\"%s\"}", job, what);
	return h_publish(c, "job", "progress", json);
}

/*
 * A per-job stream whose cursor is at a lost event: after stream_reset
 * it replays what the new primary has of the job, from its start, so the
 * page can show the job as it is now.
 */
START_TEST(epoch_async_job_stream)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s;
	char		 job[32], path[64], lastid[64], what[32];
	PGresult	*res;
	int		 i;

	res = PQexec(c, "select pgsse.enqueue('epoch_job')");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	snprintf(job, sizeof(job), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	snprintf(path, sizeof(path), "/api/jobs/%s/stream", job);
	job_step(c, job, "kept");
	standby_cut();
	s = h_sse_connect(web.port, path, NULL);
	for (i = 0; i < LOST; i++) {
		snprintf(what, sizeof(what), "lost-%d", i);
		job_step(c, job, what);
	}
	ck_assert_int_eq(h_sse_wait(s, LOST + 1, WAIT_MS), LOST + 1);
	snprintf(lastid, sizeof(lastid), "%s", s->msgs[LOST].id);
	h_sse_close(s);
	PQfinish(c);

	fail_over();
	c = h_pg_connect();
	for (i = 0; i < LOST; i++)
		job_step(c, job, "new");
	stream_reconnected();
	s = sse_retry(path, lastid);
	ck_assert_int_eq(h_sse_wait(s, 2 + LOST, WAIT_MS), 2 + LOST);
	ck_assert_msg(strcmp(s->msgs[0].event, "stream_reset") == 0,
	    "per-job stream from lost event %s: got %s %s", lastid,
	    s->msgs[0].event, s->msgs[0].data);
	ck_assert_str_eq(json_field(s->msgs[1].data, "step"), "kept");
	for (i = 0; i < LOST; i++)
		ck_assert_str_eq(json_field(s->msgs[2 + i].data, "step"), "new");
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

/*
 * Synchronous replication: nothing is lost. A client connected through
 * the failover and one that comes back with an id from before it (a
 * plain number, as every id was before the first failover) both get
 * every event exactly once, in order, with no stream_reset.
 */
START_TEST(epoch_sync_resume_exactly)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*live, *s;
	char		 lastid[64];
	size_t		 i, base;

	live = h_sse_connect(web.port, "/api/sse/status", NULL);
	base = settled(live, c);
	publish_n(c, "old", 5);
	ck_assert_int_eq(h_sse_wait(live, base + 5, WAIT_MS), base + 5);
	snprintf(lastid, sizeof(lastid), "%s", live->msgs[base + 2].id);
	ck_assert_msg(strspn(lastid, "0123456789") == strlen(lastid),
	    "id before any failover: %s", lastid);
	PQfinish(c);

	fail_over();
	c = h_pg_connect();
	publish_n(c, "new", 3);
	stream_reconnected();
	s = sse_retry("/api/sse/status", lastid);
	h_sse_wait(s, 5, WAIT_MS);
	ck_assert_int_eq(h_sse_wait(live, base + 8, WAIT_MS), base + 8);
	/* And nothing more. */
	h_sse_wait(s, 6, 500);
	h_sse_wait(live, base + 9, 500);
	ck_assert_uint_eq(s->nmsgs, 5);
	ck_assert_uint_eq(live->nmsgs, base + 8);
	assert_status(s, 0, "old-3");
	assert_status(s, 1, "old-4");
	for (i = 0; i < 3; i++) {
		assert_status(s, 2 + i, i == 0 ? "new-0" : i == 1 ? "new-1" :
		    "new-2");
		assert_status(live, base + 5 + i, i == 0 ? "new-0" : i == 1 ?
		    "new-1" : "new-2");
	}
	/* The last id resumes exactly too: nothing is replayed. */
	snprintf(lastid, sizeof(lastid), "%s", s->msgs[4].id);
	h_sse_close(s);
	s = h_sse_connect(web.port, "/api/sse/status", lastid);
	publish_n(c, "after", 1);
	ck_assert_int_eq(h_sse_wait(s, 1, WAIT_MS), 1);
	assert_status(s, 0, "after-0");
	h_sse_close(s);
	h_sse_close(live);
	PQfinish(c);
}
END_TEST

/*
 * Ids are plain numbers before the upgrade to schema 3, and stay so in
 * its first epoch, through the step to 4 (the partitioned log) that
 * the same upgrade takes: a stream open through the upgrade, and one that
 * comes back with an id from before it, get every event once, in order,
 * with no stream_reset. A restart begins epoch 2 (the server's mark is
 * its own: sql/pgsse.sql), which loses nothing: a plain id still
 * resumes exactly, and ids then carry "2-".
 */
START_TEST(epoch_plain_id_after_upgrade)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*live, *s;
	char		 lastid[64], want[64];
	int64_t		 id;
	size_t		 base;

	live = h_sse_connect(web.port, "/api/sse/status", NULL);
	base = settled(live, c);
	publish_n(c, "old", 3);
	ck_assert_int_eq(h_sse_wait(live, base + 3, WAIT_MS), base + 3);
	snprintf(lastid, sizeof(lastid), "%s", live->msgs[base + 1].id);
	ck_assert_msg(strspn(lastid, "0123456789") == strlen(lastid),
	    "id at schema 2: %s", lastid);
	ck_assert_int_eq(h_run("PGSSE_DATADIR=%s %s/bin/pgsse-schema upgrade "
	    ">/dev/null", h_srcdir(), h_builddir()), 0);
	ck_assert_int_eq(h_pg_count("select pgsse.schema_version()"), 5);
	ck_assert_int_eq(h_pg_count("select pgsse.log_epoch()"), 1);
	id = publish_n(c, "new", 2);
	snprintf(want, sizeof(want), "%" PRId64, id);
	ck_assert_int_eq(h_sse_wait(live, base + 5, WAIT_MS), base + 5);
	ck_assert_str_eq(live->msgs[base + 4].id, want);
	s = h_sse_connect(web.port, "/api/sse/status", lastid);
	ck_assert_int_eq(h_sse_wait(s, 3, WAIT_MS), 3);
	assert_status(s, 0, "old-2");
	assert_status(s, 1, "new-0");
	assert_status(s, 2, "new-1");
	h_sse_close(s);
	PQfinish(c);

	h_pg_restart(&pg, "fast");
	c = h_pg_connect();
	id = publish_n(c, "restarted", 1);
	ck_assert_int_eq(h_pg_count("select pgsse.log_epoch()"), 2);
	ck_assert_int_eq(h_sse_wait(live, base + 6, 30000), base + 6);
	assert_status(live, base + 5, "restarted-0");
	snprintf(want, sizeof(want), "2-%" PRId64, id);
	ck_assert_str_eq(live->msgs[base + 5].id, want);
	s = sse_retry("/api/sse/status", lastid);
	ck_assert_int_eq(h_sse_wait(s, 4, WAIT_MS), 4);
	assert_status(s, 0, "old-2");
	assert_status(s, 3, "restarted-0");
	ck_assert_str_eq(s->msgs[3].id, want);
	h_sse_wait(s, 5, 300);
	ck_assert_uint_eq(s->nmsgs, 4);
	h_sse_close(s);
	h_sse_close(live);
	PQfinish(c);
}
END_TEST

/*
 * Malformed epochs (zero, negative, too many digits, past 32 bits,
 * empty) and an epoch the log has not reached each get one
 * stream_reset, saying why, and the stream goes on from now; the
 * process stays up.
 */
START_TEST(epoch_hostile_ids)
{
	static const char *const bad[] = {
		"0-5", "-1-5", "1--5", "x-5", "5-", "1-2-3", "1234567890-5",
		"2147483648-1", "99999999999999999999-5",
		"1-99999999999999999999", "3-status:x", "2-5", "7-status:1",
		"999999999-0",
	};
	PGconn		*c = h_pg_connect();
	struct h_sse	*s;
	size_t		 i;
	char		 json[64];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = h_sse_connect(web.port, "/api/sse/status", bad[i]);
		snprintf(json, sizeof(json), "hostile%zu", i);
		publish_n(c, json, 1);
		ck_assert_int_eq(h_sse_wait(s, 2, WAIT_MS), 2);
		ck_assert_msg(strcmp(s->msgs[0].event, "stream_reset") == 0,
		    "Last-Event-ID %s: got %s", bad[i], s->msgs[0].event);
		ck_assert_msg(strstr(s->msgs[0].data, i < 11 ? "malformed" :
		    "another history") != NULL, "Last-Event-ID %s: %s", bad[i],
		    s->msgs[0].data);
		snprintf(json, sizeof(json), "hostile%zu-0", i);
		assert_status(s, 1, json);
		h_sse_close(s);
	}
	ck_assert_int_eq(h_health(web.port, "db_connects"), 1);
	PQfinish(c);
}
END_TEST

/* A primary and its asynchronous standby, without the web stack: only
 * the test's own sessions call pgsse.log_epoch(). */
static void
pair_up(void)
{
	h_pg_start(&pg, "tests/data/registry-test.json");
	h_pg_standby(&standby, &pg, 0);
}

static void
pair_down(void)
{
	h_pg_stop(&standby);
	h_pg_stop(&pg);
}

/* Returns the number that sql answers on c. */
static long
num(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);
	long		 n;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* 1 if session c has noted that its server's epoch has begun. */
#define NOTED "select (coalesce(current_setting('pgsse.log_epoch_server', " \
    "true), '') = pg_postmaster_start_time()::text)::int"

/*
 * publish() calls pgsse.log_epoch() only at a session's first publish
 * on a server (the session's note). A session that was connected to
 * the standby before its promotion noted nothing there, so its first
 * publish after the promotion begins the new epoch before it takes an
 * id; one that rolls back takes its note back with it, so the next
 * publish begins the epoch again; later publishes begin none.
 */
START_TEST(epoch_publish_after_promotion)
{
	PGconn	*c = h_pg_connect(), *t;
	char	 sql[160];
	int64_t	 last, id;

	last = publish_n(c, "before", 3);
	ck_assert_int_eq(num(c, NOTED), 1);
	ck_assert_int_eq(num(c, "select pgsse.log_epoch()"), 1);
	h_pg_catch_up(&pg, &standby);
	t = h_pg_connect_to(&standby);
	ck_assert_int_eq(num(t, "select pgsse.log_epoch()"), 1);
	ck_assert_int_eq(num(t, NOTED), 0);
	fail_over();
	PQfinish(c);

	h_exec(t, "begin");
	publish_n(t, "undone", 1);
	ck_assert_int_eq(num(t, NOTED), 1);
	ck_assert_int_eq(num(t, "select max(epoch) from pgsse.epochs"), 2);
	h_exec(t, "rollback");
	ck_assert_int_eq(num(t, NOTED), 0);
	ck_assert_int_eq(num(t, "select max(epoch) from pgsse.epochs"), 1);

	id = publish_n(t, "after", 1);
	ck_assert_int_gt(id, last);
	ck_assert_int_eq(num(t, NOTED), 1);
	ck_assert_int_eq(num(t, "select max(epoch) from pgsse.epochs"), 2);
	snprintf(sql, sizeof(sql), "select tail from pgsse.epoch_tails where "
	    "epoch = 2 and channel = 'status'");
	ck_assert_int_eq(num(t, sql), last);
	publish_n(t, "later", 2);
	ck_assert_int_eq(num(t, "select count(*) from pgsse.epochs"), 2);
	ck_assert_int_eq(num(t, "select count(*) from pgsse.log where "
	    "channel = 'status'"), 6);
	PQfinish(t);
}
END_TEST

static Suite *
epoch_suite(void)
{
	Suite	*s = suite_create("epoch");
	TCase	*tc;

	tc = tcase_create("async");
	tcase_add_checked_fixture(tc, stack_async, stack_down);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, epoch_async_lost_resume);
	tcase_add_test(tc, epoch_async_lost_live);
	tcase_add_test(tc, epoch_async_job_stream);
	suite_add_tcase(s, tc);
	tc = tcase_create("sync");
	tcase_add_checked_fixture(tc, stack_sync, stack_down);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, epoch_sync_resume_exactly);
	suite_add_tcase(s, tc);
	tc = tcase_create("upgrade");
	tcase_add_checked_fixture(tc, stack_v2, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, epoch_plain_id_after_upgrade);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, stack_one, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, epoch_hostile_ids);
	suite_add_tcase(s, tc);
	tc = tcase_create("cache");
	tcase_add_checked_fixture(tc, pair_up, pair_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, epoch_publish_after_promotion);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(epoch_suite());
}
