/*
 * check_schema.c: schema versions and bin/pgsse-schema. A database made
 * from the first release's schema (tests/data/schema-v1.sql and
 * roles-v1.sql) and upgraded comes out exactly as a new install of
 * sql/pgsse.sql: whoever changes the schema without an upgrade step
 * fails here. An upgrade while pgsse-stream serves open streams and
 * publishers publish loses no event, delivers none twice, and keeps
 * every event and job. pgsse-schema refuses what it must, with exit 2
 * for bad usage, and never prints a password.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "harness.h"

#define WAIT_MS 15000
/* Events and jobs in the version 1 database before the upgrade. */
#define OLD_EVENTS 40
#define OLD_JOBS 6
/* Events each side of the upgrade that the publisher must get in. */
#define DURING_MIN 20
/* The publisher stops after this many rounds whatever happens. */
#define ROUNDS_MAX 20000
#define SENTINEL "Sentinel-Pw-7f3a"

static struct h_pg	 pg;
static struct h_web	 web;
static char		 out[16384];	/* the last pgsse-schema's output */
static char		 current[16];	/* the current version, "N\n" */

/*
 * Starts the cluster, and sets current: where the chain of steps in
 * sql/upgrade/ ends.
 */
static void
pg_up(void)
{
	char	 path[1024];
	int	 v;

	h_pg_start(&pg, NULL);
	for (v = 1;; v++) {
		snprintf(path, sizeof(path), "%s/sql/upgrade/pgsse-%d-%d.sql",
		    h_srcdir(), v, v + 1);
		if (access(path, R_OK) != 0)
			break;
	}
	snprintf(current, sizeof(current), "%d\n", v);
}
static void pg_down(void) { h_pg_stop(&pg); }
static void web_down(void) { h_web_stop(&web); }

static long
now_ms(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Runs the build's bin/pgsse-schema with args (shell words) on the
 * test cluster, with the source tree's SQL. Its output, both streams,
 * goes to out. Returns its exit status.
 */
static int
schema(const char *fmt, ...)
{
	char	 args[1024], path[700];
	va_list	 ap;
	FILE	*f;
	size_t	 n = 0;
	int	 rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/schema.out", pg.dir);
	rc = h_run("PGSSE_DATADIR=%s %s/bin/pgsse-schema %s >%s 2>&1",
	    h_srcdir(), h_builddir(), args, path);
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(out, 1, sizeof(out) - 1, f);
		fclose(f);
	}
	out[n] = '\0';
	return rc;
}

/* Runs psql with args on database db; returns its exit status. */
static int
psql(const char *db, const char *args)
{
	return h_run("psql -X -q -v ON_ERROR_STOP=1 -d %s %s >/dev/null",
	    db, args);
}

/* Makes database db at version 1, as released, with its roles or not. */
static void
make_v1(const char *db, int roles)
{
	char	 args[2048];

	ck_assert_int_eq(h_run("createdb %s", db), 0);
	snprintf(args, sizeof(args), "-f %s/tests/data/schema-v1.sql %s%s%s",
	    h_srcdir(), roles ? "-f " : "", roles ? h_srcdir() : "",
	    roles ? "/tests/data/roles-v1.sql" : "");
	ck_assert_int_eq(psql(db, args), 0);
}

/*
 * Writes to pg.dir/db.dump what makes db's pgsse schema: pg_dump's
 * schema (the grants and policies included, its \restrict lines with
 * their random key left out), then the rows that the schema installs
 * (settings, core registry), sorted.
 */
static void
dump(const char *db)
{
	ck_assert_int_eq(h_run("{ pg_dump --schema-only --schema=pgsse -d %s "
	    "| grep -v '^\\\\'; psql -X -At -d %s -c \"select 'settings ' "
	    "|| t::text from pgsse.settings t union all select 'channels ' "
	    "|| t::text from pgsse.channels t union all select 'events ' || "
	    "t::text from pgsse.events t union all select 'event_fields ' || "
	    "t::text from pgsse.event_fields t union all select 'job_kinds ' "
	    "|| t::text from pgsse.job_kinds t union all select "
	    "'channel_state ' || t::text from pgsse.channel_state t order by "
	    "1\"; } >%s/%s.dump && grep -q '^CREATE SCHEMA pgsse;' %s/%s.dump",
	    db, db, pg.dir, db, pg.dir, db), 0);
}

/* Says if dumps a and b (dump's files) are the same; shows how not. */
static int
same_files(const char *a, const char *b)
{
	return h_run("diff -u %s/%s.dump %s/%s.dump >&2", pg.dir, a, pg.dir,
	    b) == 0;
}

/* Says if databases a and b dump the same; shows how not. */
static int
same_dump(const char *a, const char *b)
{
	dump(a);
	dump(b);
	return same_files(a, b);
}

/* Returns the one value sql gives on conn, in a static buffer. */
static const char *
value(PGconn *conn, const char *sql)
{
	static char	 v[256];
	PGresult	*r = PQexec(conn, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		ck_abort_msg("%s: %s", sql, PQerrorMessage(conn));
	snprintf(v, sizeof(v), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/*
 * Upgraded from version 1, with or without the roles, a database is
 * exactly what pgsse-schema install makes of an empty one.
 */
START_TEST(schema_upgrade_equals_install)
{
	ck_assert_int_eq(h_run("createdb fresh && createdb fresh_bare"), 0);
	ck_assert_msg(schema("-d dbname=fresh install") == 0, "%s", out);
	ck_assert_msg(schema("-d dbname=fresh_bare --no-roles install") == 0,
	    "%s", out);
	make_v1("old", 1);
	make_v1("old_bare", 0);
	ck_assert_int_eq(schema("-d dbname=old version"), 0);
	ck_assert_str_eq(out, "1\n");
	ck_assert_msg(schema("-d dbname=old upgrade") == 0, "%s", out);
	ck_assert_msg(strstr(out, "upgraded pgsse schema version 1 to 2") !=
	    NULL, "%s", out);
	ck_assert_msg(schema("-d dbname=old_bare upgrade") == 0, "%s", out);
	ck_assert_msg(same_dump("fresh", "old"),
	    "an upgraded version 1 database differs from a new install "
	    "(diff above): did sql/pgsse.sql change without a step in "
	    "sql/upgrade/?");
	ck_assert_msg(same_dump("fresh_bare", "old_bare"),
	    "without the roles, an upgraded version 1 database differs "
	    "from a new install (diff above)");
	ck_assert_int_eq(schema("-d dbname=old version"), 0);
	ck_assert_str_eq(out, current);
}
END_TEST

/*
 * Returns the n values of the one column sql gives on conn, as strings
 * that the caller frees with rows_free.
 */
static char **
rows(PGconn *conn, const char *sql, size_t *n)
{
	PGresult	*r = PQexec(conn, sql);
	char		**v;
	int		 i;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		ck_abort_msg("%s: %s", sql, PQerrorMessage(conn));
	*n = (size_t)PQntuples(r);
	v = calloc(*n + 1, sizeof(*v));
	ck_assert_ptr_nonnull(v);
	for (i = 0; i < PQntuples(r); i++)
		ck_assert_ptr_nonnull(v[i] = strdup(PQgetvalue(r, i, 0)));
	PQclear(r);
	return v;
}

static void
rows_free(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Reads stream s until it has every event sql lists ("event|data",
 * in log order), then a moment more; fails unless it got exactly
 * those, in that order, each once.
 */
static void
got_exactly(struct h_sse *s, const char *name, PGconn *conn,
    const char *sql)
{
	char	**want, line[8192];
	size_t	 n, i;

	want = rows(conn, sql, &n);
	ck_assert_msg(n > 0, "%s: nothing to expect", name);
	h_sse_wait(s, n, WAIT_MS);
	h_sse_read(s, 200);
	ck_assert_msg(s->nmsgs == n, "%s got %zu events, the log has %zu",
	    name, s->nmsgs, n);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "%s|%s", s->msgs[i].event,
		    s->msgs[i].data);
		ck_assert_msg(strcmp(line, want[i]) == 0, "%s: event %zu is "
		    "%s, the log says %s", name, i, line, want[i]);
	}
	rows_free(want, n);
}

/*
 * As got_exactly for a stream of several channels, whose events are
 * "channel.event": each channel's events, in the log's order.
 * Channels are independent: one may run ahead of another.
 */
static void
got_channels(struct h_sse *s, const char *name, PGconn *conn,
    const char *sql)
{
	char	**want, line[8192];
	size_t	 n, i, j, k, len;

	want = rows(conn, sql, &n);
	h_sse_wait(s, n, WAIT_MS);
	h_sse_read(s, 200);
	ck_assert_msg(s->nmsgs == n, "%s got %zu events, the log has %zu",
	    name, s->nmsgs, n);
	/* The k-th event of a channel is the channel's k-th in the log. */
	for (i = 0; i < n; i++) {
		len = strcspn(s->msgs[i].event, ".");
		for (k = 0, j = 0; j < i; j++)
			k += strncmp(s->msgs[j].event, s->msgs[i].event,
			    len + 1) == 0;
		for (j = 0; j < n; j++)
			if (strncmp(want[j], s->msgs[i].event, len + 1) == 0 &&
			    k-- == 0)
				break;
		snprintf(line, sizeof(line), "%s|%s", s->msgs[i].event,
		    s->msgs[i].data);
		ck_assert_msg(j < n && strcmp(line, want[j]) == 0, "%s: "
		    "event %zu is %s, the log says %s", name, i, line,
		    j < n ? want[j] : "nothing more on its channel");
	}
	rows_free(want, n);
}

static volatile sig_atomic_t stop;

static void on_term(int sig) { (void)sig; stop = 1; }

/*
 * The publisher: until SIGTERM (or ROUNDS_MAX rounds), publishes a log
 * line, and every third round a progress of job job, and every fifth
 * enqueues a job (which takes pgsse.jobs, then pgsse.log). Exits 1 at
 * the first call that fails, saying why.
 */
static void
publisher(const char *job)
{
	PGconn		*c;
	PGresult	*r;
	char		 n[32], step[64];
	const char	*p[3];
	int		 i;

	signal(SIGTERM, on_term);
	if (PQstatus(c = PQconnectdb("")) != CONNECTION_OK)
		_exit(1);
	for (i = 0; !stop && i < ROUNDS_MAX; i++) {
		snprintf(n, sizeof(n), "during-%d", i);
		p[0] = n;
		r = PQexecParams(c, "select pgsse.publish('logs', 'log', "
		    "jsonb_build_object('source', 'pub', 'line', $1::text))",
		    1, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && i % 3 == 0) {
			PQclear(r);
			snprintf(step, sizeof(step), "step-%d", i);
			p[0] = job;
			p[1] = step;
			r = PQexecParams(c, "select pgsse.publish('job', "
			    "'progress', jsonb_build_object('job_id', "
			    "$1::bigint, 'percent', 50, 'step', $2::text))",
			    2, NULL, p, NULL, NULL, 0);
		}
		if (PQresultStatus(r) == PGRES_TUPLES_OK && i % 5 == 0) {
			PQclear(r);
			r = PQexec(c, "select pgsse.enqueue('upgrade_test')");
		}
		/* A page's read of the jobs, then of the log, in one
		 * transaction (as the demo's pgsse_demo.job_row). */
		if (PQresultStatus(r) == PGRES_TUPLES_OK && i % 4 == 0) {
			PQclear(r);
			r = PQexec(c, "begin; select count(*) from pgsse.jobs; "
			    "select pg_sleep(0.005); select count(*) from "
			    "pgsse.log where id < 0; commit");
			if (PQresultStatus(r) == PGRES_COMMAND_OK) {
				PQclear(r);
				r = PQexec(c, "select 1");
			}
		}
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			fprintf(stderr, "publisher, round %d: %s", i,
			    PQerrorMessage(c));
			_exit(1);
		}
		PQclear(r);
	}
	PQfinish(c);
	_exit(0);
}

/* Waits until the log has at least want lines from the publisher. */
static void
published(PGconn *conn, long want)
{
	long	 t0 = now_ms();

	while (atol(value(conn, "select count(*) from pgsse.log where "
	    "payload ->> 'source' = 'pub'")) < want) {
		ck_assert_msg(now_ms() - t0 < WAIT_MS,
		    "the publisher got fewer than %ld events in", want);
		usleep(20000);
	}
}

/* What identifies every event and job there was before the upgrade. */
#define OLD_LOG "select count(*) || ' ' || md5(string_agg(l::text, '|' " \
	"order by id)) from pgsse.log l where id <= %s"
#define OLD_JOBS_SQL "select count(*) || ' ' || md5(string_agg(j::text, " \
	"'|' order by id)) from pgsse.jobs j where id <= %s"
/* The log epochs and each one's tails, as one line. */
#define EPOCHS "select string_agg(e.epoch || ' ' || t.channel || ' ' || " \
	"t.tail, '|' order by e.epoch, t.channel) from pgsse.epochs e " \
	"join pgsse.epoch_tails t using (epoch)"

/*
 * The test. A version 1 database with events and jobs (and the
 * demo app's trigger on pgsse.log) is upgraded while pgsse-stream, under
 * lighttpd, serves streams (one channel, two channels, one job's) and a
 * publisher publishes and enqueues without pause. Every stream gets
 * every event published before, during and after, once and in order;
 * every event and job from before is still there, unchanged; new
 * streams replay the whole history across the upgrade.
 */
START_TEST(schema_upgrade_live)
{
	PGconn		*c;
	struct h_sse	*s[5], *r;
	char		 job[32], maxlog[32], maxjob[32], sql[512];
	char		 oldlog[128], oldjobs[128], path[128], oldmax[32];
	long		 t0, took, n;
	pid_t		 pid;
	int		 i, st;

	c = h_pg_connect();
	h_exec(c, "set client_min_messages = warning; drop schema pgsse "
	    "cascade");
	PQfinish(c);
	ck_assert_int_eq(h_run("psql -X -q -v ON_ERROR_STOP=1 -f "
	    "%s/tests/data/schema-v1.sql >/dev/null && %s/bin/pgsse-registry "
	    "load %s/sql/registry.json >/dev/null && psql -X -q -v "
	    "ON_ERROR_STOP=1 -f %s/tests/data/roles-v1.sql -f "
	    "%s/demo/schema.sql >/dev/null", h_srcdir(), h_builddir(),
	    h_srcdir(), h_srcdir(), h_srcdir()), 0);
	ck_assert_int_eq(schema("version"), 0);
	ck_assert_str_eq(out, "1\n");

	c = h_pg_connect();
	snprintf(sql, sizeof(sql), "select pgsse.publish('logs', 'log', "
	    "jsonb_build_object('source', 'old', 'line', 'old ' || i)) from "
	    "generate_series(1, %d) i", OLD_EVENTS);
	h_exec(c, sql);
	snprintf(sql, sizeof(sql), "select pgsse.enqueue('upgrade_old', "
	    "jsonb_build_object('n', i)) from generate_series(1, %d) i",
	    OLD_JOBS);
	h_exec(c, sql);
	/* One job ran and ended, one was cancelled. */
	h_exec(c, "select pgsse.claim('old-runner')");
	h_exec(c, "select pgsse.finish(id, 'succeeded', 0, null) from "
	    "pgsse.jobs where state = 'running'");
	h_exec(c, "select pgsse.cancel(max(id)) from pgsse.jobs");
	snprintf(job, sizeof(job), "%s", value(c, "select min(id) from "
	    "pgsse.jobs where state = 'queued'"));
	snprintf(sql, sizeof(sql), "select pgsse.publish('job', 'progress', "
	    "jsonb_build_object('job_id', %s, 'percent', i, 'step', 'old ' "
	    "|| i)) from generate_series(1, 3) i", job);
	h_exec(c, sql);
	ck_assert_int_ge(atol(value(c, "select count(*) from pgsse.log")),
	    OLD_EVENTS);
	ck_assert_int_eq(atol(value(c, "select count(*) from pgsse.jobs")),
	    OLD_JOBS);
	snprintf(maxlog, sizeof(maxlog), "%s", value(c, "select max(id) from "
	    "pgsse.log"));
	snprintf(maxjob, sizeof(maxjob), "%s", value(c, "select max(id) from "
	    "pgsse.jobs"));
	snprintf(oldmax, sizeof(oldmax), "%s", maxlog);
	snprintf(sql, sizeof(sql), OLD_LOG, oldmax);
	snprintf(oldlog, sizeof(oldlog), "%s", value(c, sql));
	snprintf(sql, sizeof(sql), OLD_JOBS_SQL, maxjob);
	snprintf(oldjobs, sizeof(oldjobs), "%s", value(c, sql));

	h_web_start(&web, NULL);
	snprintf(path, sizeof(path), "/api/jobs/%s/stream", job);
	s[0] = h_sse_connect(web.port, "/api/sse/logs", NULL);
	s[1] = h_sse_connect(web.port, "/api/sse/logs", NULL);
	s[2] = h_sse_connect(web.port, "/api/sse?channel=logs&channel="
	    "operations", NULL);
	s[3] = h_sse_connect(web.port, "/api/sse/operations", NULL);
	s[4] = h_sse_connect(web.port, path, NULL);
	/* Ids past this one came after every stream was subscribed. */
	snprintf(maxlog, sizeof(maxlog), "%s", value(c, "select max(id) from "
	    "pgsse.log"));
	h_exec(c, "select pgsse.publish('logs', 'log', jsonb_build_object("
	    "'source', 'before', 'line', 'before ' || i)) from "
	    "generate_series(1, 5) i");
	ck_assert_int_eq(h_sse_wait(s[0], 5, WAIT_MS), 5);

	if ((pid = fork()) == 0)
		publisher(job);
	ck_assert_int_gt(pid, 0);
	published(c, DURING_MIN);
	t0 = now_ms();
	st = schema("upgrade");
	took = now_ms() - t0;
	n = atol(value(c, "select count(*) from pgsse.log where payload ->> "
	    "'source' = 'pub'"));
	published(c, n + DURING_MIN);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &i, 0), pid);
	ck_assert_msg(st == 0, "pgsse-schema upgrade: %s", out);
	ck_assert_msg(WIFEXITED(i) && WEXITSTATUS(i) == 0,
	    "a publish or enqueue failed during the upgrade (see above)");
	fprintf(stderr, "schema_upgrade_live: the upgrade took %ld ms, with "
	    "%s events published meanwhile\n", took, value(c, "select "
	    "count(*) from pgsse.log where payload ->> 'source' = 'pub'"));
	h_exec(c, "select pgsse.publish('logs', 'log', jsonb_build_object("
	    "'source', 'after', 'line', 'after ' || i)) from "
	    "generate_series(1, 5) i");
	ck_assert_int_eq(atoi(value(c, "select pgsse.schema_version()")),
	    atoi(current));

	snprintf(sql, sizeof(sql), "select event || '|' || payload::text "
	    "from pgsse.log where channel = 'logs' and id > %s order by id",
	    maxlog);
	got_exactly(s[0], "logs stream 1", c, sql);
	got_exactly(s[1], "logs stream 2", c, sql);
	snprintf(sql, sizeof(sql), "select channel || '.' || event || '|' "
	    "|| payload::text from pgsse.log where channel in ('logs', "
	    "'operations') and id > %s order by id", maxlog);
	got_channels(s[2], "two-channel stream", c, sql);
	snprintf(sql, sizeof(sql), "select event || '|' || payload::text "
	    "from pgsse.log where channel = 'operations' and id > %s order "
	    "by id", maxlog);
	got_exactly(s[3], "operations stream", c, sql);
	snprintf(sql, sizeof(sql), "select event || '|' || payload::text "
	    "from pgsse.log where channel = 'job' and payload ->> 'job_id' = "
	    "'%s' order by id", job);
	got_exactly(s[4], "job stream", c, sql);
	for (i = 0; i < 5; i++)
		h_sse_close(s[i]);

	/* New streams replay the history across the upgrade. */
	r = h_sse_connect(web.port, path, NULL);
	got_exactly(r, "new job stream", c, sql);
	h_sse_close(r);
	r = h_sse_connect(web.port, "/api/sse/logs", "0");
	got_exactly(r, "logs stream from id 0", c, "select event || '|' || "
	    "payload::text from pgsse.log where channel = 'logs' order by id");
	h_sse_close(r);

	snprintf(sql, sizeof(sql), OLD_LOG, oldmax);
	ck_assert_str_eq(value(c, sql), oldlog);
	snprintf(sql, sizeof(sql), OLD_JOBS_SQL, maxjob);
	ck_assert_str_eq(value(c, sql), oldjobs);
	ck_assert_int_eq(atol(value(c, "select count(*) from pgsse.jobs where "
	    "kind = 'upgrade_old'")), OLD_JOBS);
	/* The app's trigger on pgsse.log is still there. */
	ck_assert_str_eq(value(c, "select count(*) from pg_trigger where "
	    "tgname = 'demos_apply' and tgrelid = 'pgsse.log'::regclass"), "1");
	PQfinish(c);
}
END_TEST

/*
 * A version 3 database (log epochs) whose log holds events (public
 * ones, and some to one user) becomes a partitioned log at version 4:
 * the old table is the first partition, attached as it is, with every
 * event unchanged; row-level security and the grants still hold, the
 * epochs and their tails are as they were, new events go to new
 * partitions, and retention drops the old table whole once its events
 * are past it.
 */
START_TEST(schema_upgrade_v3_log)
{
	PGconn	*c;
	char	 oldlog[128], sql[256], epochs[256];

	make_v1("v3log", 1);
	ck_assert_int_eq(psql("v3log", "-f $PGSSE_SRCDIR/sql/upgrade/"
	    "pgsse-1-2.sql -f $PGSSE_SRCDIR/sql/upgrade/pgsse-2-3.sql"), 0);
	c = PQconnectdb("dbname=v3log");
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	ck_assert_str_eq(value(c, "select pgsse.schema_version()"), "3");
	h_exec(c, "select pgsse.publish('logs', 'log', jsonb_build_object("
	    "'source', 'v2', 'line', 'v2 ' || i)) from generate_series(1, 30) i");
	h_exec(c, "select pgsse.publish('operations', 'operation_status', "
	    "jsonb_build_object('job_id', i, 'kind', 'k', 'state', 'queued'), "
	    "'alice') from generate_series(1, 5) i");
	snprintf(sql, sizeof(sql), OLD_LOG, "35");
	snprintf(oldlog, sizeof(oldlog), "%s", value(c, sql));
	snprintf(epochs, sizeof(epochs), "%s", value(c, EPOCHS));
	PQfinish(c);

	ck_assert_msg(schema("-d dbname=v3log upgrade") == 0, "%s", out);
	c = PQconnectdb("dbname=v3log");
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	ck_assert_str_eq(value(c, "select pgsse.schema_version()"), "5");
	ck_assert_str_eq(value(c, "select relkind from pg_class where oid = "
	    "'pgsse.log'::regclass"), "p");
	ck_assert_str_eq(value(c, sql), oldlog);
	ck_assert_str_eq(value(c, EPOCHS), epochs);
	ck_assert_str_eq(value(c, "select pgsse.log_epoch()"), "1");
	/* The old table is a partition, holding them all. */
	ck_assert_str_eq(value(c, "select count(*) from pgsse.log_partitions() "
	    "p where lo is null and hi = 36 and p.part = 'pgsse.log_v3'::"
	    "regclass"), "1");
	ck_assert_str_eq(value(c, "select count(*) from pgsse.log_v3"), "35");
	/* Row-level security and grants, through the parent only. */
	h_exec(c, "set role pgsse_web");
	ck_assert_str_eq(value(c, "select count(*) from pgsse.log"), "30");
	h_exec(c, "select set_config('pgsse.user', 'alice', false)");
	ck_assert_str_eq(value(c, "select count(*) from pgsse.log"), "35");
	ck_assert_str_eq(h_sqlstate(c, "select * from pgsse.log_v3"),
	    "42501");
	h_exec(c, "reset role; select set_config('pgsse.user', '', false)");
	ck_assert_str_eq(value(c, "select count(*) from pg_policies where "
	    "schemaname = 'pgsse' and tablename = 'log' and policyname in "
	    "('log_readers', 'log_stream')"), "2");
	/* New events go above it; retention drops it whole. */
	ck_assert_str_eq(value(c, "select pgsse.publish('logs', 'log', "
	    "'{\"source\": \"v3\", \"line\": \"new\"}') > 35"), "t");
	ck_assert_str_eq(value(c, "select tableoid = 'pgsse.log_36'::regclass "
	    "from pgsse.log where id = 36"), "t");
	h_exec(c, "select pgsse.publish('operations', 'operation_status', "
	    "jsonb_build_object('job_id', 6, 'kind', 'k', 'state', "
	    "'queued'), 'alice')");
	h_exec(c, "update pgsse.settings set value = '1' where name = "
	    "'retention_count'");
	ck_assert_str_eq(value(c, "select pgsse.prune()"), "35");
	ck_assert_str_eq(value(c, "select to_regclass('pgsse.log_v3') is "
	    "null"), "t");
	ck_assert_str_eq(value(c, "select string_agg(id::text, ',' order by "
	    "id) from pgsse.log"), "36,37");
	PQfinish(c);
}
END_TEST

/* Runs pgsse-schema with args; fails unless it exits with want and says
 * something naming the program. */
static void
refused(int want, const char *args)
{
	ck_assert_msg(schema("%s", args) == want, "pgsse-schema %s: exit "
	    "status not %d: %s", args, want, out);
	ck_assert_msg(strstr(out, "pgsse-schema: ") != NULL, "pgsse-schema "
	    "%s does not name itself: %s", args, out);
}

/*
 * What pgsse-schema refuses, and how: bad usage exits 2 and changes
 * nothing; an installed schema is not installed again; an upgrade at
 * the current version does nothing; a database newer than the program,
 * or a "pgsse" schema that pgsse did not make, is left alone; uninstall
 * needs --yes. sql/pgsse.sql loads twice, but not over version 1, not
 * even by a psql that goes on after errors.
 */
START_TEST(schema_refusals)
{
	PGconn	*c;
	char	 args[256];

	ck_assert_int_eq(h_run("createdb n && createdb u && createdb w"), 0);
	ck_assert_int_eq(schema("-d dbname=n version"), 0);
	ck_assert_str_eq(out, "none\n");
	refused(1, "-d dbname=n upgrade");
	ck_assert_ptr_nonnull(strstr(out, "pgsse-schema install"));
	ck_assert_msg(schema("-d dbname=n install") == 0, "%s", out);
	ck_assert_int_eq(schema("-d dbname=n version"), 0);
	ck_assert_str_eq(out, current);
	refused(1, "-d dbname=n install");
	ck_assert_ptr_nonnull(strstr(out, "pgsse-schema upgrade"));
	dump("n");
	ck_assert_int_eq(h_run("mv %s/n.dump %s/n0.dump", pg.dir, pg.dir), 0);
	ck_assert_msg(schema("-d dbname=n upgrade") == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "nothing to do"));
	dump("n");
	ck_assert_msg(same_files("n0", "n"), "a no-op upgrade changed it");
	ck_assert_int_eq(psql("n", "-f " "$PGSSE_SRCDIR/sql/pgsse.sql"), 0);

	/* Bad usage: exit 2, and nothing changed. */
	refused(2, "");
	refused(2, "frob");
	refused(2, "--frob install");
	refused(2, "-x install");
	refused(2, "install upgrade");
	refused(2, "version -d");
	refused(2, "--lock-timeout 0 upgrade");
	refused(2, "--lock-timeout 3601 upgrade");
	refused(2, "--lock-timeout 99999999999999999999 upgrade");
	refused(2, "-d dbname=n uninstall");
	ck_assert_int_eq(schema("-d dbname=n version"), 0);
	ck_assert_str_eq(out, current);
	ck_assert_int_eq(schema("--help"), 0);
	snprintf(args, sizeof(args), "version %d,", atoi(current));
	ck_assert_ptr_nonnull(strstr(out, args));

	/* No password in any answer. */
	refused(2, "'password=" SENTINEL "' install");
	ck_assert_ptr_null(strstr(out, SENTINEL));
	refused(2, "--x='password=" SENTINEL "' install");
	ck_assert_ptr_null(strstr(out, SENTINEL));
	refused(2, "-dpassword=" SENTINEL " install");
	ck_assert_ptr_null(strstr(out, SENTINEL));
	snprintf(args, sizeof(args), "-d 'host=127.0.0.1 port=%s dbname=n "
	    "user=pgsse_web password=" SENTINEL "' version", getenv("PGPORT"));
	refused(1, args);
	ck_assert_ptr_null(strstr(out, SENTINEL));
	ck_assert_ptr_nonnull(strstr(out, "password authentication failed"));

	/* Newer than this program. */
	make_v1("v2", 1);
	c = PQconnectdb("dbname=v2");
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	h_exec(c, "create function pgsse.schema_version() returns int "
	    "language sql as 'select 99'");
	PQfinish(c);
	refused(1, "-d dbname=v2 upgrade");
	ck_assert_ptr_nonnull(strstr(out, "newer"));
	refused(1, "-d dbname=v2 install");
	ck_assert_int_eq(schema("-d dbname=v2 version"), 0);
	ck_assert_str_eq(out, "99\n");

	/* Not pgsse's. */
	ck_assert_int_eq(psql("u", "-c 'create schema pgsse'"), 0);
	ck_assert_int_eq(schema("-d dbname=u version"), 0);
	ck_assert_str_eq(out, "unknown\n");
	refused(1, "-d dbname=u install");
	refused(1, "-d dbname=u upgrade");
	refused(1, "-d dbname=u --yes uninstall");

	/* pgsse.sql over version 1: refused, and nothing changes, even
	 * without ON_ERROR_STOP. */
	make_v1("v1", 1);
	ck_assert_int_ne(h_run("psql -X -q -d v1 -f %s/sql/pgsse.sql "
	    ">%s/v1.out 2>&1", h_srcdir(), pg.dir), -1);
	ck_assert_int_eq(h_run("grep -q 'pgsse schema version 1, this file is "
	    "version %d$' %s/v1.out", atoi(current), pg.dir), 0);
	ck_assert_int_eq(schema("-d dbname=v1 version"), 0);
	ck_assert_str_eq(out, "1\n");
	ck_assert_int_eq(h_run("psql -X -At -d v1 -c \"select "
	    "to_regprocedure('pgsse.schema_version()') is null\" | grep -qx t"),
	    0);

	/* A long transaction holds the log: the upgrade gives up after
	 * --lock-timeout, undone; once it ends, the upgrade goes. */
	c = PQconnectdb("dbname=v1");
	h_exec(c, "begin; select count(*) from pgsse.log");
	refused(1, "-d dbname=v1 --lock-timeout 1 upgrade");
	ck_assert_ptr_nonnull(strstr(out, "stayed in use for 1 s"));
	ck_assert_int_eq(schema("-d dbname=v1 version"), 0);
	ck_assert_str_eq(out, "1\n");
	h_exec(c, "commit");
	PQfinish(c);
	ck_assert_msg(schema("-d dbname=v1 upgrade") == 0, "%s", out);

	/* Uninstall: the schema goes, whatever depends on it, the roles
	 * stay; with --roles, a role that owns something stops it. */
	ck_assert_int_eq(psql("n", "-c 'create table public.t (id int "
	    "references pgsse.jobs (id))'"), 0);
	ck_assert_msg(schema("-d dbname=n --yes uninstall") == 0, "%s", out);
	ck_assert_int_eq(schema("-d dbname=n version"), 0);
	ck_assert_str_eq(out, "none\n");
	ck_assert_int_eq(h_pg_count("select count(*) from pg_roles where "
	    "rolname in ('pgsse_web', 'pgsse_stream', 'pgsse_publisher')"), 3);
	ck_assert_msg(schema("-d dbname=n --yes uninstall") == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "nothing to do"));
	ck_assert_msg(schema("-d dbname=w install") == 0, "%s", out);
	ck_assert_int_eq(psql("w", "-c 'create table public.mine (id int); "
	    "alter table public.mine owner to pgsse_web'"), 0);
	refused(1, "-d dbname=w --roles --yes uninstall");
	ck_assert_ptr_nonnull(strstr(out, "owns"));
	ck_assert_int_eq(schema("-d dbname=w version"), 0);
	ck_assert_str_eq(out, current);
	/* Granted in other databases: refused by PostgreSQL, undone. */
	ck_assert_int_eq(psql("w", "-c 'drop table public.mine'"), 0);
	refused(1, "-d dbname=w --roles --yes uninstall");
	ck_assert_int_eq(schema("-d dbname=w version"), 0);
	ck_assert_str_eq(out, current);
	ck_assert_int_eq(psql("u", "-c 'drop schema pgsse'"), 0);
	ck_assert_int_eq(psql("pgsse", "-c 'drop schema if exists pgsse_demo "
	    "cascade'"), 0);
	ck_assert_int_eq(h_run("for d in $(psql -X -At -d postgres -c \"select "
	    "datname from pg_database where datallowconn and datname <> "
	    "'w'\"); do PGSSE_DATADIR=%s %s/bin/pgsse-schema -d dbname=$d "
	    "--yes uninstall >/dev/null || exit 1; done", h_srcdir(),
	    h_builddir()), 0);
	ck_assert_msg(schema("-d dbname=w --roles --yes uninstall") == 0,
	    "%s", out);
	ck_assert_int_eq(schema("-d dbname=w version"), 0);
	ck_assert_str_eq(out, "none\n");
	ck_assert_int_eq(h_pg_count("select count(*) from pg_roles where "
	    "rolname in ('pgsse_web', 'pgsse_stream', 'pgsse_publisher')"), 0);
}
END_TEST

/*
 * One cluster for every test (they use databases of their own, and
 * schema_refusals, which drops the roles, comes last), started once.
 */
int
main(void)
{
	Suite	*s = suite_create("schema");
	TCase	*tc;

	tc = tcase_create("schema");
	tcase_add_unchecked_fixture(tc, pg_up, pg_down);
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, web_down);
	tcase_add_test(tc, schema_upgrade_equals_install);
	tcase_add_test(tc, schema_upgrade_live);
	tcase_add_test(tc, schema_upgrade_v3_log);
	tcase_add_test(tc, schema_refusals);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
