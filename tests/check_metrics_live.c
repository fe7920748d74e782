/*
 * check_metrics_live.c: the metrics pages of pgsse-stream and pgsse-app
 * after real traffic, behind the shipped lighttpd sample with a real
 * PostgreSQL and runner: promtool accepts them (it must be installed
 * when CI is set), and the values move as the traffic says.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "harness.h"

#define WAIT_MS 15000
/* How long a test polls a metrics page for a value: past the stream's
 * database sample interval (PGSSE_METRICS_SAMPLE_SEC) with room. */
#define POLL_MS 20000

static struct h_pg	 pg;
static struct h_web	 web;

static void
stack_up(void)
{
	char	 path[4096];

	h_pg_start(&pg, "tests/data/registry-test.json");
	h_pg_load("demo/schema.sql");	/* pgsse-app serves the demo */
	snprintf(path, sizeof(path), "%s/bin:%s", h_builddir(),
	    getenv("PATH"));
	setenv("PATH", path, 1);
	h_web_start(&web, NULL);
}

static void
stack_down(void)
{
	h_web_stop(&web);
	h_pg_stop(&pg);
}

/* Returns the body of GET path (status 200 asserted); caller frees. */
static char *
scrape(const char *path)
{
	char	*body = NULL;
	int	 st;

	st = h_http_get(web.port, path, NULL, &body);
	ck_assert_msg(st == 200, "GET %s: %d %s", path, st,
	    body ? body : "");
	return body;
}

/*
 * Returns the value of the sample key ("name" or "name{labels}") in the
 * metrics page body, or -1 if it has none.
 */
static double
value(const char *body, const char *key)
{
	const char	*p = body;
	size_t		 n = strlen(key);

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 :
	    NULL)
		if (strncmp(p, key, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/* Polls path until key reaches want; returns the last page (caller
 * frees). */
static char *
scrape_until(const char *path, const char *key, double want)
{
	char	*body = NULL;
	int	 waited;

	for (waited = 0; waited < POLL_MS; waited += 200) {
		free(body);
		body = scrape(path);
		if (value(body, key) >= want)
			break;
		usleep(200000);
	}
	return body;
}

/*
 * Runs promtool check metrics on body and asserts it says nothing: no
 * error and no lint. Without promtool the check fails under CI, and is
 * left out, said on standard error, elsewhere.
 */
static void
promtool(const char *body)
{
	char	 file[1024], out[1024], cmd[4096], text[8192] = "";
	FILE	*f;
	size_t	 n;
	int	 rc;

	if (h_run("command -v promtool >/dev/null") != 0) {
		ck_assert_msg(getenv("CI") == NULL, "promtool is missing "
		    "(Debian package prometheus): CI must have it");
		fprintf(stderr, "promtool is missing: not checked\n");
		return;
	}
	snprintf(file, sizeof(file), "%s/metrics.%d.txt", pg.dir, getpid());
	snprintf(out, sizeof(out), "%s.out", file);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs(body, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics <%s >%s 2>&1",
	    file, out);
	rc = h_run("%s", cmd);
	if ((f = fopen(out, "r")) != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		fclose(f);
	}
	fprintf(stderr, "promtool check metrics: exit %d, output: \"%s\"\n",
	    rc, text);
	ck_assert_msg(rc == 0 && text[0] == '\0', "promtool check metrics "
	    "(exit %d):\n%s", rc, text);
}

/* Runs sql, a notification or a query that returns nothing wanted. */
static void
run(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	PQclear(res);
}

#define SENT_DEMOS "pgsse_events_sent_total{channel=\"demos\"}"
#define SENT_STATUS "pgsse_events_sent_total{channel=\"status\"}"
#define LAG_COUNT "pgsse_publish_to_send_seconds_count"
#define DROPPED "pgsse_notifications_dropped_total"

/*
 * Two clients of demos and one of status get 3 and 2 events: sent
 * counts per channel are the copies written, the lag histogram counts
 * each, an undocumented NOTIFY is counted as dropped and names no
 * series, and a resume counts a replay of what it missed.
 */
START_TEST(metrics_stream_moves)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*a, *b, *s, *r;
	char		*m0, *m1, *m2, lastid[32];
	int64_t		 first;
	int		 i;

	a = h_sse_connect(web.port, "/api/sse/demos", NULL);
	b = h_sse_connect(web.port, "/api/sse/demos", NULL);
	s = h_sse_connect(web.port, "/api/sse/status", NULL);
	m0 = scrape_until("/api/sse-metrics",
	    "pgsse_channel_clients{channel=\"demos\"}", 2);
	promtool(m0);
	ck_assert_double_eq(value(m0, "pgsse_channel_clients{channel=\""
	    "demos\"}"), 2);
	ck_assert_double_eq(value(m0, "pgsse_channel_clients{channel=\""
	    "status\"}"), 1);
	ck_assert_ptr_nonnull(strstr(m0, "\npgsse_build_info{version=\""));
	first = h_publish(c, "demos", "installed",
	    "{\"demo_id\":\"d1\",\"name\":\"One\"}");
	for (i = 0; i < 2; i++)
		h_publish(c, "demos", "uninstalled", "{\"demo_id\":\"d1\"}");
	for (i = 0; i < 2; i++)
		h_publish(c, "status", "system_status",
		    "{\"status\":\"ok\",\"uptime\":1}");
	/* Undocumented: an unknown channel's doorbell, an unknown event. */
	run(c, "select pg_notify('pgsse', 'zz_stranger:1')");
	run(c, "select pg_notify('demos', '{\"event\":\"zz_forged\","
	    "\"data\":{}}')");
	ck_assert_int_eq(h_sse_wait(a, 3, WAIT_MS), 3);
	ck_assert_int_eq(h_sse_wait(b, 3, WAIT_MS), 3);
	ck_assert_int_eq(h_sse_wait(s, 2, WAIT_MS), 2);
	m1 = scrape_until("/api/sse-metrics", DROPPED, value(m0, DROPPED) +
	    2);
	promtool(m1);
	ck_assert_double_eq(value(m1, SENT_DEMOS) - value(m0, SENT_DEMOS), 6);
	ck_assert_double_eq(value(m1, SENT_STATUS) - value(m0, SENT_STATUS),
	    2);
	ck_assert_double_eq(value(m1, "pgsse_events_total{channel=\"demos\"}")
	    - value(m0, "pgsse_events_total{channel=\"demos\"}"), 3);
	ck_assert_double_eq(value(m1, "pgsse_deliveries_total{channel=\""
	    "demos\"}") - value(m0, "pgsse_deliveries_total{channel=\"demos"
	    "\"}"), 6);
	ck_assert_double_eq(value(m1, LAG_COUNT) - value(m0, LAG_COUNT), 8);
	ck_assert_double_eq(value(m1, "pgsse_publish_to_send_seconds_bucket"
	    "{le=\"+Inf\"}"), value(m1, LAG_COUNT));
	ck_assert_double_eq(value(m1, DROPPED) - value(m0, DROPPED), 2);
	ck_assert_ptr_null(strstr(m1, "zz_stranger"));
	ck_assert_ptr_null(strstr(m1, "zz_forged"));
	ck_assert_double_ge(value(m1, "pgsse_notification_queue_usage_ratio"),
	    0);
	ck_assert_double_ge(value(m1, "pgsse_db_last_connect_timestamp_"
	    "seconds"), 1e9);
	ck_assert_double_eq(value(m1, "pgsse_db_up"), 1);
	ck_assert_double_ge(value(m1, "pgsse_out_bytes"), 0);
	ck_assert_double_ge(value(m1, "pgsse_queue_events"), 0);

	/* A resume from the first event replays the other two. */
	snprintf(lastid, sizeof(lastid), "%" PRId64, first);
	r = h_sse_connect(web.port, "/api/sse/demos", lastid);
	ck_assert_int_eq(h_sse_wait(r, 2, WAIT_MS), 2);
	m2 = scrape_until("/api/sse-metrics", "pgsse_replayed_events_total",
	    value(m1, "pgsse_replayed_events_total") + 2);
	ck_assert_double_eq(value(m2, "pgsse_replays_total") -
	    value(m1, "pgsse_replays_total"), 1);
	ck_assert_double_eq(value(m2, "pgsse_replayed_events_total") -
	    value(m1, "pgsse_replayed_events_total"), 2);
	/* Replayed events are not sent live: the histogram stays. */
	ck_assert_double_eq(value(m2, LAG_COUNT), value(m1, LAG_COUNT));
	h_sse_close(r);
	h_sse_close(a);
	h_sse_close(b);
	h_sse_close(s);
	free(m0);
	free(m1);
	free(m2);
	PQfinish(c);
}
END_TEST

#define JOBS_OK "pgsse_jobs_finished_total{kind=\"ok\",state=\"succeeded\"}"
#define JOBS_FAIL "pgsse_jobs_finished_total{kind=\"fail\",state=\"failed\"}"

/*
 * Jobs a runner finishes after the stream's first database sample are
 * counted by kind and state, with their durations.
 */
START_TEST(metrics_jobs)
{
	PGconn	*c = h_pg_connect();
	char	*m0, *m1;
	pid_t	 runner;

	m0 = scrape_until("/api/sse-metrics",
	    "pgsse_db_sample_timestamp_seconds", 1);
	ck_assert_double_ge(value(m0, "pgsse_db_sample_timestamp_seconds"),
	    1e9);
	runner = h_runner_start("tests/data/jobs", "10");
	run(c, "select pgsse.enqueue('ok', '{}'), pgsse.enqueue('ok', '{}'),"
	    " pgsse.enqueue('fail', '{}')");
	m1 = scrape_until("/api/sse-metrics", JOBS_OK, 2);
	free(m1);
	m1 = scrape_until("/api/sse-metrics", JOBS_FAIL, 1);
	h_runner_stop(runner, SIGTERM);
	promtool(m1);
	ck_assert_double_eq(value(m1, JOBS_OK), 2);
	ck_assert_double_eq(value(m1, JOBS_FAIL), 1);
	ck_assert_double_eq(value(m1, "pgsse_job_duration_seconds_count"
	    "{kind=\"ok\"}"), 2);
	ck_assert_double_eq(value(m1, "pgsse_job_duration_seconds_bucket"
	    "{kind=\"ok\",le=\"+Inf\"}"), 2);
	ck_assert_double_ge(value(m1, "pgsse_jobs{kind=\"ok\","
	    "state=\"succeeded\"}"), 2);
	free(m0);
	free(m1);
	PQfinish(c);
}
END_TEST

/* Sends GET path on a connection of its own; returns it, unread. */
static int
request(const char *path)
{
	char	 req[256];
	int	 fd, n;

	fd = h_connect(web.port);
	ck_assert_int_ge(fd, 0);
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: "
	    "127.0.0.1\r\n\r\n", path);
	ck_assert_int_eq(write(fd, req, (size_t)n), n);
	return fd;
}

/* Reads the answer on fd to its end (WAIT_MS at most) and closes it.
 * Returns its status; *head gets its start. */
static int
answer(int fd, char *head, size_t headsz)
{
	struct timeval	 tv = { WAIT_MS / 1000, 0 };
	char		 buf[4096];
	size_t		 len = 0;
	ssize_t		 n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	head[0] = '\0';
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (len == 0) {
			len = (size_t)n < headsz ? (size_t)n : headsz - 1;
			memcpy(head, buf, len);
			head[len] = '\0';
		}
	close(fd);
	return strlen(head) > 12 ? atoi(head + 9) : -1;
}

/*
 * PGSSE_METRICS_SCRAPES_MAX: with pgsse.jobs locked, a page that
 * samples the database waits for its statement timeout and a second
 * waits for the first; a third is answered 429 with Retry-After at
 * once. Once the timeout passes both are answered, with the old sample.
 */
START_TEST(metrics_stream_busy)
{
	PGconn	*c = h_pg_connect();
	char	 head[4096], *m;
	int	 fd[2], st, busy = 0, attempt;

	for (attempt = 0; attempt < 3 && !busy; attempt++) {
		free(scrape("/api/sse-metrics"));	/* a sample now */
		run(c, "begin");
		run(c, "lock table pgsse.jobs in access exclusive mode");
		sleep(PGSSE_METRICS_SAMPLE_SEC + 1);	/* the next is due */
		fd[0] = request("/api/sse-metrics");
		usleep(200000);
		fd[1] = request("/api/sse-metrics");
		usleep(200000);
		st = h_http(web.port, "GET", "/api/sse-metrics", NULL, NULL,
		    WAIT_MS / 1000, &m);
		if ((busy = st == 429)) {
			ck_assert_ptr_nonnull(strstr(m, "Retry-After: 1\r\n"));
			ck_assert_ptr_nonnull(strstr(m,
			    "PGSSE_METRICS_SCRAPES_MAX"));
		} else
			ck_assert_int_eq(st, 200);
		free(m);
		ck_assert_int_eq(answer(fd[0], head, sizeof(head)), 200);
		ck_assert_int_eq(answer(fd[1], head, sizeof(head)), 200);
		run(c, "rollback");
	}
	ck_assert_msg(busy, "no metrics request was answered 429");
	m = scrape("/api/sse-metrics");
	ck_assert_double_ge(value(m, "pgsse_metrics_refused_total"), 1);
	free(m);
	PQfinish(c);
}
END_TEST

#define APP_PATH "/app-metrics"
#define REQS "pgsse_app_requests_total{method=\"GET\",route=\"/demos/grid\"," \
	"status=\"200\"}"
#define MISSES "pgsse_app_requests_total{method=\"GET\",route=\"unmatched\"," \
	"status=\"404\"}"
#define LAT "pgsse_app_request_duration_seconds_count{method=\"GET\"," \
	"route=\"/demos/grid\"}"

/*
 * pgsse-app counts requests by route (never the raw URL) and status,
 * with a latency histogram; its metrics path comes before the app
 * folder's routes.
 */
START_TEST(metrics_app_moves)
{
	char	*m0, *m1, *body = NULL;
	int	 i;

	m0 = scrape(APP_PATH);
	promtool(m0);
	ck_assert_ptr_nonnull(strstr(m0, "\npgsse_build_info{version=\""));
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(h_http_get(web.port, "/demos/grid", NULL,
		    &body), 200);
		free(body);
	}
	ck_assert_int_eq(h_http_get(web.port, "/zz/raw-url-1", NULL, &body),
	    404);
	free(body);
	ck_assert_int_eq(h_http_get(web.port, "/zz/raw-url-2?x=1", NULL,
	    &body), 404);
	free(body);
	m1 = scrape(APP_PATH);
	promtool(m1);
	ck_assert_double_eq(value(m1, REQS) - (value(m0, REQS) < 0 ? 0 :
	    value(m0, REQS)), 3);
	ck_assert_double_eq(value(m1, MISSES) - (value(m0, MISSES) < 0 ? 0 :
	    value(m0, MISSES)), 2);
	ck_assert_double_eq(value(m1, LAT) - (value(m0, LAT) < 0 ? 0 :
	    value(m0, LAT)), 3);
	ck_assert_ptr_null(strstr(m1, "raw-url"));
	free(m0);
	free(m1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("metrics_live");
	TCase	*tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, metrics_stream_moves);
	tcase_add_test(tc, metrics_jobs);
	tcase_add_test(tc, metrics_stream_busy);
	tcase_add_test(tc, metrics_app_moves);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
