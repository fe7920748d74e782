/*
 * check_runner.c: bin/pgsse-runner and the job functions of sql/pgsse.sql
 * against a real PostgreSQL, with the job scripts in tests/data/jobs.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "harness.h"

/* Jobs run side by side to catch a pipe handed to the wrong one. */
#define SPRAY_JOBS 100
#define SPRAY_JOBS_STR "100"

static struct h_pg pg;

static void
pg_up(void)
{
	char	 path[4096];

	h_pg_start(&pg, NULL);
	snprintf(path, sizeof(path), "%s/bin:%s", h_builddir(),
	    getenv("PATH"));
	setenv("PATH", path, 1);
}

static void
pg_down(void)
{
	h_pg_stop(&pg);
}

static void
setup(void)
{
	PGconn	*c = h_pg_connect();

	h_exec(c, "truncate pgsse.log, pgsse.jobs");
	h_exec(c, "update pgsse.settings set value = '3' where name = "
	    "'job_max_attempts'");
	PQfinish(c);
}

static void
teardown(void)
{
}

static pid_t
runner_start(const char *timeout)
{
	return h_runner_start("tests/data/jobs", timeout);
}

static void
runner_stop(pid_t pid, int sig)
{
	h_runner_stop(pid, sig);
}

static char *
text(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);
	char		*z;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	z = strdup(PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return z;
}

static int64_t
enqueue(PGconn *c, const char *kind, const char *args)
{
	const char	*params[2] = { kind, args };
	PGresult	*res;
	int64_t		 id;

	res = PQexecParams(c, "select pgsse.enqueue($1, $2::jsonb)", 2, NULL,
	    params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s",
	    PQerrorMessage(c));
	id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return id;
}

/* Waits until job id is in state; returns "state exit error attempts". */
static char *
wait_state(PGconn *c, int64_t id, const char *state)
{
	char	 sql[256], *z = NULL;
	int	 i;

	snprintf(sql, sizeof(sql), "select state || ' ' || coalesce("
	    "exit_status, -1) || ' ' || coalesce(error, '-') || ' ' || "
	    "attempts from pgsse.jobs where id = %" PRId64, id);
	for (i = 0; i < 300; i++) {
		free(z);
		z = text(c, sql);
		if (strncmp(z, state, strlen(state)) == 0 &&
		    z[strlen(state)] == ' ')
			return z;
		usleep(100000);
	}
	ck_abort_msg("job %" PRId64 " never reached %s: %s", id, state, z);
	return NULL;
}

static int64_t
count(PGconn *c, const char *sql)
{
	char	*z = text(c, sql);
	int64_t	 n = strtoll(z, NULL, 10);

	free(z);
	return n;
}

START_TEST(runner_runs_and_publishes)
{
	PGconn	*c = h_pg_connect();
	pid_t	 r = runner_start("30");
	int64_t	 id = enqueue(c, "ok", "{\"word\":\"w\"}");
	char	*z, sql[512];

	z = wait_state(c, id, "succeeded");
	ck_assert_str_eq(z, "succeeded 0 - 1");
	free(z);
	runner_stop(r, SIGTERM);
	snprintf(sql, sizeof(sql), "select count(*) from pgsse.log where "
	    "channel = 'logs' and (payload ->> 'job_id')::bigint = %" PRId64
	    " and payload ->> 'line' in ('hello from job %" PRId64 "', "
	    "'arg: w')", id, id);
	ck_assert_int_eq(count(c, sql), 2);
	snprintf(sql, sizeof(sql), "select count(*) from pgsse.log where "
	    "channel = 'job' and event = 'progress' and payload @> "
	    "'{\"job_id\": %" PRId64 ", \"percent\": 50, \"step\": "
	    "\"halfway\"}'", id);
	ck_assert_int_eq(count(c, sql), 1);
	snprintf(sql, sizeof(sql), "select string_agg(payload ->> 'state', "
	    "',' order by id) from pgsse.log where channel = 'operations' "
	    "and (payload ->> 'job_id')::bigint = %" PRId64, id);
	z = text(c, sql);
	ck_assert_str_eq(z, "queued,running,succeeded");
	free(z);
	snprintf(sql, sizeof(sql), "select count(*) from pgsse.log where "
	    "channel = 'job' and event = 'complete' and payload @> "
	    "'{\"job_id\": %" PRId64 ", \"state\": \"succeeded\"}'", id);
	ck_assert_int_eq(count(c, sql), 1);
	PQfinish(c);
}
END_TEST

/*
 * The runner publishes on the core channels alone (logs, operations,
 * job), whatever a job's arguments hold: an app's own events, such as
 * the demo's demos.operation_started, are its job scripts' to publish.
 * It has no heartbeat of an app's either (--status-every is gone).
 */
START_TEST(runner_core_channels_only)
{
	PGconn	*c = h_pg_connect();
	pid_t	 r = runner_start("30");
	int64_t	 id = enqueue(c, "ok", "{\"demo_id\":\"todo\",\"name\":\"T\"}");
	char	*z;

	z = wait_state(c, id, "succeeded");
	free(z);
	runner_stop(r, SIGTERM);
	z = text(c, "select coalesce(string_agg(distinct channel || '.' || "
	    "event, ','), '') from pgsse.log where channel not in ('logs', "
	    "'operations', 'job')");
	ck_assert_msg(*z == '\0', "the runner published %s", z);
	free(z);
	ck_assert_int_eq(h_run("timeout 5 %s/bin/pgsse-runner --jobs "
	    "%s/tests/data/jobs --status-every 1 2>/dev/null", h_builddir(),
	    h_srcdir()), 2);
	PQfinish(c);
}
END_TEST

START_TEST(runner_handles_bad_jobs)
{
	PGconn	*c = h_pg_connect();
	pid_t	 r = runner_start("2");
	int64_t	 hang = enqueue(c, "hang", "{}");
	int64_t	 crash = enqueue(c, "crash", "{}");
	int64_t	 fail = enqueue(c, "fail", "{}");
	int64_t	 none = enqueue(c, "nope", "{}");
	char	*z;

	z = wait_state(c, crash, "failed");
	ck_assert_str_eq(z, "failed 139 killed by a signal 1");
	free(z);
	z = wait_state(c, fail, "failed");
	ck_assert_str_eq(z, "failed 3 exited non-zero 1");
	free(z);
	z = wait_state(c, none, "failed");
	ck_assert_str_eq(z, "failed -1 no runnable script for this kind 1");
	free(z);
	z = wait_state(c, hang, "failed");
	ck_assert_str_eq(z, "failed 143 timed out 1");
	free(z);
	/* The hanging script's process group is gone. */
	ck_assert_int_ne(h_run("pgrep -f 'slee[p] 1000' >/dev/null"), 0);
	runner_stop(r, SIGTERM);
	PQfinish(c);
}
END_TEST

/* A script that closes its output and keeps running still times out. */
START_TEST(runner_times_out_muted_job)
{
	PGconn	*c = h_pg_connect();
	pid_t	 r = runner_start("2");
	int64_t	 id = enqueue(c, "mute", "{}");
	char	*z;

	z = wait_state(c, id, "failed");
	ck_assert_str_eq(z, "failed 143 timed out 1");
	free(z);
	/* Its whole process group is gone, the sleep too. */
	ck_assert_int_ne(h_run("pgrep -f 'slee[p] 1001' >/dev/null"), 0);
	runner_stop(r, SIGTERM);
	PQfinish(c);
}
END_TEST

/*
 * Starts a runner whose every fork() first waits a while (the shim
 * tests/slowfork.c), so that a pipe one worker has open while it forks
 * is open long enough for the other worker's fork to copy it.
 */
static pid_t
runner_start_slowfork(const char *timeout)
{
	char		 so[1024], asan[1024];
	const char	*old = getenv("ASAN_OPTIONS");
	pid_t		 r;

	snprintf(so, sizeof(so), "%s/tests/.libs/slowfork.so", h_builddir());
	ck_assert_msg(access(so, R_OK) == 0, "%s: %s", so, strerror(errno));
	/* A sanitized runner would refuse a library loaded before ASan's. */
	snprintf(asan, sizeof(asan), "%s%sverify_asan_link_order=0",
	    old ? old : "", old ? ":" : "");
	setenv("ASAN_OPTIONS", asan, 1);
	setenv("LD_PRELOAD", so, 1);
	r = runner_start(timeout);
	unsetenv("LD_PRELOAD");
	return r;
}

/* Waits (90 s at most) until no job is queued or running. */
static void
wait_idle(PGconn *c)
{
	int	 i;

	for (i = 0; i < 900 && count(c, "select count(*) from pgsse.jobs "
	    "where state in ('queued', 'running')") > 0; i++)
		usleep(100000);
}

/* Kills each pid listed in the file path, and removes the file. */
static void
kill_listed(const char *path)
{
	FILE	*f;
	long	 pid;

	if ((f = fopen(path, "r")) != NULL) {
		while (fscanf(f, "%ld", &pid) == 1)
			if (pid > 1)
				kill((pid_t)pid, SIGKILL);
		fclose(f);
	}
	unlink(path);
}

/*
 * Jobs side by side, each writing a forged line into every pipe it was
 * started with besides its output, and leaving behind a process that
 * holds them: no job may get another's pipe, so none gets another's
 * line, and each ends when its script does.
 */
START_TEST(runner_jobs_share_no_pipe)
{
	PGconn	*c = h_pg_connect();
	pid_t	 r;
	char	 pids[1024], args[1200], *z;
	int	 fd, i;

	r = runner_start_slowfork("3");
	snprintf(pids, sizeof(pids), "%s/tests/tmp/spray.XXXXXX",
	    h_builddir());
	ck_assert_int_ne(fd = mkstemp(pids), -1);
	close(fd);
	snprintf(args, sizeof(args), "{\"pids\": \"%s\"}", pids);
	for (i = 0; i < SPRAY_JOBS; i++)
		enqueue(c, "spray", args);
	wait_idle(c);
	runner_stop(r, SIGTERM);
	kill_listed(pids);
	z = text(c, "select coalesce(string_agg(payload::text, ' '), '') "
	    "from pgsse.log where payload::text like '%forged%'");
	ck_assert_msg(*z == '\0', "a job got another's line: %s", z);
	free(z);
	z = text(c, "select string_agg(state || ' ' || coalesce(error, '-') || "
	    "' x' || n, ', ') from (select state, error, count(*) n from "
	    "pgsse.jobs group by 1, 2) s");
	ck_assert_str_eq(z, "succeeded - x" SPRAY_JOBS_STR);
	free(z);
	PQfinish(c);
}
END_TEST

/*
 * Output that is not UTF-8, or holds a NUL, is logged with U+FFFD in
 * place of each bad byte; a line split at the limit keeps its
 * characters whole.
 */
START_TEST(runner_replaces_bad_bytes)
{
	PGconn	*c = h_pg_connect();
	pid_t	 r = runner_start("30");
	int64_t	 id = enqueue(c, "bytes", "{}");
	char	*z, sql[512];

	free(wait_state(c, id, "succeeded"));
	runner_stop(r, SIGTERM);
	snprintf(sql, sizeof(sql), "select string_agg(case when "
	    "payload ->> 'line' = repeat('a', 4095) then '4095 a' else "
	    "payload ->> 'line' end, '|' order by id) from pgsse.log where "
	    "channel = 'logs' and (payload ->> 'job_id')::bigint = %" PRId64,
	    id);
	z = text(c, sql);
	ck_assert_str_eq(z, "caf\xef\xbf\xbd au lait|nul\xef\xbf\xbd" "byte|"
	    "\xc3\xa9t\xc3\xa9|4095 a|\xc3\xa9 end");
	free(z);
	PQfinish(c);
}
END_TEST

/*
 * An argument cannot forge a progress line: one that holds a control
 * character is refused, and the part of a long line past the split is
 * a log line whatever it says.
 */
START_TEST(runner_args_forge_no_progress)
{
	PGconn	*c = h_pg_connect();
	pid_t	 r = runner_start("30");
	char	 args[4200], *z, sql[512];
	int64_t	 nl, tab, lng;

	nl = enqueue(c, "ok", "{\"word\": \"x\\nPROGRESS 100 forged\"}");
	tab = enqueue(c, "ok", "{\"n\": 1, \"word\": \"x\\ty\"}");
	/* "arg: " and 4091 bytes fill the line; the rest is split off. */
	snprintf(args, sizeof(args), "{\"word\": \"%4091sPROGRESS 100 forged\"}",
	    "");
	lng = enqueue(c, "ok", args);
	wait_idle(c);
	runner_stop(r, SIGTERM);
	z = text(c, "select coalesce(string_agg(payload::text, ' '), '') "
	    "from pgsse.log where payload::text like '%forged%' and "
	    "event <> 'log'");
	ck_assert_msg(*z == '\0', "forged: %s", z);
	free(z);
	z = wait_state(c, nl, "failed");
	ck_assert_str_eq(z, "failed -1 argument \"word\" holds a control "
	    "character 1");
	free(z);
	z = wait_state(c, tab, "failed");
	ck_assert_str_eq(z, "failed -1 argument \"word\" holds a control "
	    "character 1");
	free(z);
	free(wait_state(c, lng, "succeeded"));
	snprintf(sql, sizeof(sql), "select count(*) from pgsse.log where "
	    "event = 'log' and payload ->> 'line' = 'PROGRESS 100 forged' and "
	    "(payload ->> 'job_id')::bigint = %" PRId64, lng);
	ck_assert_int_eq(count(c, sql), 1);
	PQfinish(c);
}
END_TEST

/* A runner killed mid-job: the job is retried, never stuck in running. */
START_TEST(runner_killed_mid_job)
{
	PGconn	*c = h_pg_connect();
	pid_t	 r = runner_start("30");
	int64_t	 id = enqueue(c, "slow", "{}");
	char	*z;

	free(wait_state(c, id, "running"));
	runner_stop(r, SIGKILL);
	h_run("pkill -KILL -f 'tests/data/jobs/slo[w]' 2>/dev/null");
	/* Still marked running: nobody has looked yet. */
	free(wait_state(c, id, "running"));
	r = runner_start("30");
	z = wait_state(c, id, "succeeded");
	ck_assert_str_eq(z, "succeeded 0 - 2");
	free(z);
	runner_stop(r, SIGTERM);
	/* With one attempt allowed, the lost job fails instead. */
	h_exec(c, "update pgsse.settings set value = '1' where name = "
	    "'job_max_attempts'");
	r = runner_start("30");
	id = enqueue(c, "slow", "{}");
	free(wait_state(c, id, "running"));
	runner_stop(r, SIGKILL);
	h_run("pkill -KILL -f 'tests/data/jobs/slo[w]' 2>/dev/null");
	ck_assert_int_eq(count(c, "select pgsse.recover()"), 1);
	z = wait_state(c, id, "failed");
	ck_assert_str_eq(z, "failed -1 runner lost 1");
	free(z);
	PQfinish(c);
}
END_TEST

START_TEST(enqueue_dedupes)
{
	PGconn		*c = h_pg_connect();
	const char	*params[3] = { "ok", "{}", "demo:todo" };
	PGresult	*a, *b;

	a = PQexecParams(c, "select pgsse.enqueue($1, $2::jsonb, $3)", 3,
	    NULL, params, NULL, NULL, 0);
	b = PQexecParams(c, "select pgsse.enqueue($1, $2::jsonb, $3)", 3,
	    NULL, params, NULL, NULL, 0);
	ck_assert_int_eq(PQresultStatus(a), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(a, 0, 0), PQgetvalue(b, 0, 0));
	PQclear(a);
	PQclear(b);
	ck_assert_int_eq(count(c, "select count(*) from pgsse.jobs"), 1);
	PQfinish(c);
}
END_TEST

/* Two runners with two workers each: every job runs exactly once. */
START_TEST(runners_share_the_queue)
{
	PGconn	*c = h_pg_connect();
	pid_t	 a = runner_start("30"), b = runner_start("30");
	int64_t	 last = 0;
	int	 i;

	for (i = 0; i < 20; i++)
		last = enqueue(c, "ok", "{}");
	free(wait_state(c, last, "succeeded"));
	for (i = 0; i < 100 && count(c, "select count(*) from pgsse.jobs "
	    "where state <> 'succeeded'") > 0; i++)
		usleep(100000);
	ck_assert_int_eq(count(c, "select count(*) from pgsse.jobs where "
	    "state = 'succeeded' and attempts = 1"), 20);
	ck_assert_int_eq(count(c, "select count(*) from pgsse.jobs where "
	    "runner is null"), 0);
	runner_stop(a, SIGTERM);
	runner_stop(b, SIGTERM);
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("runner");
	TCase	*tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, pg_up, pg_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, runner_runs_and_publishes);
	tcase_add_test(tc, runner_core_channels_only);
	tcase_add_test(tc, enqueue_dedupes);
	tcase_add_test(tc, runners_share_the_queue);
	suite_add_tcase(s, tc);
	tc = tcase_create("faults");
	tcase_add_unchecked_fixture(tc, pg_up, pg_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, runner_handles_bad_jobs);
	tcase_add_test(tc, runner_times_out_muted_job);
	tcase_add_test(tc, runner_jobs_share_no_pipe);
	tcase_add_test(tc, runner_replaces_bad_bytes);
	tcase_add_test(tc, runner_args_forge_no_progress);
	tcase_add_test(tc, runner_killed_mid_job);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
