/*
 * check_stream.c: pgsse-stream end to end, behind the real lighttpd with
 * the shipped etc/lighttpd/pgsse.conf and a real PostgreSQL, driven as a
 * browser's EventSource would drive it.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"
#include "harness.h"

#define WAIT_MS 15000

static struct h_pg	 pg;
static struct h_web	 web;

static void
stack_up(void)
{
	h_pg_start(&pg, "tests/data/registry-test.json");
	h_pg_load("demo/schema.sql");	/* pgsse-app serves the demo */
	h_web_start(&web, NULL);
}

static void
stack_down(void)
{
	h_web_stop(&web);
	h_pg_stop(&pg);
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

START_TEST(stream_named_events_with_ids)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s = h_sse_connect(web.port, "/api/sse/demos", NULL);
	int64_t		 id1, id2;
	char		 want[32];

	ck_assert_ptr_nonnull(strstr(s->head, "Content-Type: text/event-stream"));
	ck_assert_ptr_nonnull(strstr(s->head, "Cache-Control: no-cache"));
	ck_assert_int_ge(s->parser.retry, 100);
	id1 = h_publish(c, "demos", "installed",
	    "{\"demo_id\":\"d1\",\"name\":\"One\"}");
	h_publish(c, "status", "system_status", "{\"status\":\"ok\",\"uptime\":1}");
	id2 = h_publish(c, "demos", "uninstalled", "{\"demo_id\":\"d1\"}");
	ck_assert_int_eq(h_sse_wait(s, 2, WAIT_MS), 2);
	snprintf(want, sizeof(want), "%" PRId64, id1);
	ck_assert_str_eq(s->msgs[0].id, want);
	ck_assert_str_eq(s->msgs[0].event, "installed");
	ck_assert_str_eq(json_field(s->msgs[0].data, "name"), "One");
	snprintf(want, sizeof(want), "%" PRId64, id2);
	ck_assert_str_eq(s->msgs[1].id, want);
	ck_assert_str_eq(s->msgs[1].event, "uninstalled");
	/* Nothing else arrives: status is not subscribed. */
	h_sse_wait(s, 3, 500);
	ck_assert_uint_eq(s->nmsgs, 2);
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

START_TEST(stream_multi_channel)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s = h_sse_connect(web.port,
	    "/api/sse?channel=demos&channel=status&channel=demos", NULL);
	int64_t		 d, st;
	char		 want[64];

	d = h_publish(c, "demos", "uninstalled", "{\"demo_id\":\"m\"}");
	h_publish(c, "logs", "log", "{\"source\":\"t\",\"line\":\"no\"}");
	st = h_publish(c, "status", "system_status",
	    "{\"status\":\"ok\",\"uptime\":2}");
	ck_assert_int_eq(h_sse_wait(s, 2, WAIT_MS), 2);
	/* Several channels: each event is named for its channel. */
	ck_assert_str_eq(s->msgs[0].event, "demos.uninstalled");
	ck_assert_str_eq(s->msgs[1].event, "status.system_status");
	snprintf(want, sizeof(want), "demos:%" PRId64 ",status:%" PRId64, d,
	    st);
	ck_assert_str_eq(s->msgs[1].id, want);
	h_sse_close(s);
	/* Resuming from that composite id replays nothing twice. */
	s = h_sse_connect(web.port, "/api/sse?channel=demos&channel=status",
	    want);
	d = h_publish(c, "demos", "uninstalled", "{\"demo_id\":\"n\"}");
	ck_assert_int_eq(h_sse_wait(s, 1, WAIT_MS), 1);
	ck_assert_str_eq(json_field(s->msgs[0].data, "demo_id"), "n");
	h_sse_wait(s, 2, 300);
	ck_assert_uint_eq(s->nmsgs, 1);
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

/* The resume test's publisher: RESUME_EVENTS numbered log lines. */
#define RESUME_EVENTS 10000
#define RESUME_EVERY 500

static void *
resume_publisher(void *arg)
{
	PGconn	*c = h_pg_connect();
	char	 json[96];
	int	 i;

	(void)arg;
	for (i = 0; i < RESUME_EVENTS; i++) {
		if (i % 10 == 0)
			h_exec(c, "begin");
		snprintf(json, sizeof(json),
		    "{\"source\":\"resume\",\"line\":\"%d\"}", i);
		h_publish(c, "logs", "log", json);
		if (i % 10 == 9)
			h_exec(c, "commit");
	}
	PQfinish(c);
	return NULL;
}

/*
 * 10,000 events while the client reconnects every 500 with Last-Event-ID:
 * each arrives exactly once and in order.
 */
START_TEST(stream_resume_exactly_once)
{
	pthread_t	 t;
	struct h_sse	*s = h_sse_connect(web.port, "/api/sse/logs", NULL);
	char		 lastid[64];
	int		 next = 0, n, reconnects = 0;
	size_t		 i;

	pthread_create(&t, NULL, resume_publisher, NULL);
	while (next < RESUME_EVENTS) {
		h_sse_wait(s, RESUME_EVERY, WAIT_MS);
		ck_assert_msg(s->nmsgs > 0, "stalled after %d events", next);
		/*
		 * Take at most RESUME_EVERY and resume from the last one
		 * taken: one read may bring more, and those must come again.
		 */
		for (i = 0; i < s->nmsgs && i < RESUME_EVERY; i++) {
			n = atoi(json_field(s->msgs[i].data, "line"));
			ck_assert_msg(n == next, "got %d, expected %d", n, next);
			next++;
		}
		snprintf(lastid, sizeof(lastid), "%s", s->msgs[i - 1].id);
		h_sse_close(s);
		s = h_sse_connect(web.port, "/api/sse/logs", lastid);
		reconnects++;
	}
	pthread_join(t, NULL);
	/* And nothing more: no duplicate of the last events. */
	h_sse_wait(s, 1, 500);
	ck_assert_uint_eq(s->nmsgs, 0);
	ck_assert_int_ge(reconnects, RESUME_EVENTS / RESUME_EVERY);
	h_sse_close(s);
}
END_TEST

/* Connected clients lose nothing while PostgreSQL restarts. */
START_TEST(stream_survives_pg_restart)
{
	static const char *const modes[] = { "fast", "immediate" };
	PGconn		*c;
	struct h_sse	*s = h_sse_connect(web.port, "/api/sse/demos", NULL);
	char		 json[64];
	int		 i, round, total = 0;

	for (round = 0; round < 2; round++) {
		c = h_pg_connect();
		for (i = 0; i < 5; i++) {
			snprintf(json, sizeof(json), "{\"demo_id\":\"%d\"}",
			    total++);
			h_publish(c, "demos", "uninstalled", json);
		}
		PQfinish(c);
		ck_assert_int_eq(h_sse_wait(s, (size_t)total, WAIT_MS), total);
		h_pg_restart(&pg, modes[round]);
		/* Published before the hub is back: caught up from the log. */
		c = h_pg_connect();
		for (i = 0; i < 5; i++) {
			snprintf(json, sizeof(json), "{\"demo_id\":\"%d\"}",
			    total++);
			h_publish(c, "demos", "uninstalled", json);
		}
		PQfinish(c);
	}
	ck_assert_int_eq(h_sse_wait(s, (size_t)total, 30000), total);
	for (i = 0; i < total; i++)
		ck_assert_int_eq(atoi(json_field(s->msgs[i].data, "demo_id")), i);
	ck_assert(!s->eof);
	h_sse_close(s);
}
END_TEST

/*
 * Committed events vanish (as after a failover to a lagging replica) and
 * their ids are handed out again: clients are told to reset and then get
 * the new events, instead of silently skipping them.
 */
START_TEST(stream_log_went_back)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s = h_sse_connect(web.port, "/api/sse/status", NULL);
	int64_t		 keep;
	char		 sql[256];
	int		 i;

	keep = h_publish(c, "status", "system_status",
	    "{\"status\":\"a\",\"uptime\":1}");
	for (i = 0; i < 3; i++)
		h_publish(c, "status", "system_status",
		    "{\"status\":\"lost\",\"uptime\":2}");
	ck_assert_int_eq(h_sse_wait(s, 4, WAIT_MS), 4);
	snprintf(sql, sizeof(sql), "delete from pgsse.log where id > %" PRId64
	    "; select setval('pgsse.log_id_seq', %" PRId64 ")", keep, keep);
	h_exec(c, sql);
	PQfinish(c);
	h_pg_restart(&pg, "fast");
	/* Events published before the hub is back are covered by the reset:
	 * the client reloads its state after it. */
	ck_assert_int_eq(h_sse_wait(s, 5, 30000), 5);
	c = h_pg_connect();
	h_publish(c, "status", "system_status",
	    "{\"status\":\"new\",\"uptime\":3}");
	ck_assert_int_eq(h_sse_wait(s, 6, 30000), 6);
	ck_assert_str_eq(s->msgs[4].event, "stream_reset");
	ck_assert_str_eq(json_field(s->msgs[5].data, "status"), "new");
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

/* A client that stops reading is cut loose; the others keep up. */
START_TEST(stream_slow_client)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*slow, *fast;
	char		*json, *body = NULL;
	int		 rcv = 4096, i, n;

	slow = h_sse_connect(web.port, "/api/sse/logs", NULL);
	setsockopt(slow->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	fast = h_sse_connect(web.port, "/api/sse/logs", NULL);
	json = malloc(2048);
	snprintf(json, 40, "{\"source\":\"slow\",\"line\":\"");
	memset(json + strlen(json), 'z', 1500);
	strcpy(json + 25 + 1500, "\"}");
	/* Batches of 500 until the slow client's queue overflows. */
	for (n = 0; n < 40000; n += 500) {
		h_exec(c, "begin");
		for (i = 0; i < 500; i++)
			h_publish(c, "logs", "log", json);
		h_exec(c, "commit");
		ck_assert_int_eq(h_sse_wait(fast, (size_t)n + 500, 60000),
		    n + 500);
		free(body);
		ck_assert_int_eq(h_http_get(web.port, "/api/sse-health", NULL,
		    &body), 200);
		if (strstr(body, "\"slow\":0,") == NULL)
			break;
	}
	ck_assert_msg(strstr(body, "\"slow\":1,") != NULL, "%s", body);
	free(body);
	free(json);
	h_sse_close(slow);
	h_sse_close(fast);
	PQfinish(c);
}
END_TEST

START_TEST(stream_refusals)
{
	static const struct { const char *path; int status; const char *why; }
	    cases[] = {
		{ "/api/sse/nope", 404, "unknown channel" },
		{ "/api/sse/De%0Amos", 400, "" },	/* lighttpd refuses it */
		{ "/api/sse/..%2F..%2Fetc", 404, "" },	/* lighttpd: no such file */
		{ "/api/sse?channel=demos&channel=nope", 404, "unknown channel" },
		{ "/api/sse", 400, "no channel" },
		{ "/api/sse?channel=%zz", 404, "unknown channel" }, /* lighttpd re-encodes bad escapes */
		{ "/api/sse?channel=demos%00", 400, "" },
		{ "/api/sse/admin", 403, "private" },
		{ "/api/jobs/abc/stream", 404, "no such path" },
		{ "/api/jobs/0/stream", 404, "no such path" },
		{ "/api/nothing", 404, "no such path" },
	};
	char	*body, path[8192];
	size_t	 i;
	int	 st;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		body = NULL;
		st = h_http_get(web.port, cases[i].path, NULL, &body);
		ck_assert_msg(st == cases[i].status, "%s: %d %s",
		    cases[i].path, st, body);
		ck_assert_msg(strstr(body, cases[i].why) != NULL, "%s: %s",
		    cases[i].path, body);
		free(body);
	}
	strcpy(path, "/api/sse?channel=demos");
	for (i = 0; i < 16; i++)
		strcat(path, "&channel=demos");
	body = NULL;
	ck_assert_int_eq(h_http_get(web.port, path, NULL, &body), 400);
	ck_assert_ptr_nonnull(strstr(body, "too many channels"));
	free(body);
	strcpy(path, "/api/sse?x=");
	memset(path + 11, 'a', 5000);
	path[5011] = '\0';
	ck_assert_int_eq(h_http_get(web.port, path, NULL, NULL), 414);
}
END_TEST

/* Returns a Last-Event-ID header line, in a static buffer. */
static const char *
hdr(const char *id)
{
	static char	 line[256];

	snprintf(line, sizeof(line), "Last-Event-ID: %s\r\n", id);
	return line;
}

/* Makes job id in pgsse.jobs, as pgsse.enqueue() would. */
static void
make_job(PGconn *c, int64_t id)
{
	char	 sql[128];

	snprintf(sql, sizeof(sql), "insert into pgsse.jobs (id, kind) values "
	    "(%" PRId64 ", 'test')", id);
	h_exec(c, sql);
}

START_TEST(stream_job_closes_after_complete)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s;
	char		 lastid[64];

	make_job(c, 5);
	make_job(c, 6);
	s = h_sse_connect(web.port, "/api/jobs/5/stream", NULL);

	h_publish(c, "job", "progress",
	    "{\"job_id\":5,\"percent\":10,\"step\":\"a\"}");
	h_publish(c, "job", "progress",
	    "{\"job_id\":6,\"percent\":10,\"step\":\"other\"}");
	h_publish(c, "job", "progress",
	    "{\"job_id\":5,\"percent\":90,\"step\":\"b\"}");
	h_publish(c, "job", "complete", "{\"job_id\":5,\"state\":\"succeeded\"}");
	h_publish(c, "job", "progress",
	    "{\"job_id\":5,\"percent\":100,\"step\":\"after\"}");
	ck_assert_int_eq(h_sse_wait(s, 10, WAIT_MS), 3);
	ck_assert(s->eof);
	ck_assert_str_eq(s->msgs[0].event, "progress");
	ck_assert_str_eq(json_field(s->msgs[1].data, "step"), "b");
	ck_assert_str_eq(s->msgs[2].event, "complete");
	h_sse_close(s);
	/* A late client gets the job's history, then the stream closes. */
	s = h_sse_open(web.port, "/api/jobs/5/stream", NULL);
	ck_assert_int_eq(h_sse_wait(s, 10, WAIT_MS), 3);
	ck_assert(s->eof);
	snprintf(lastid, sizeof(lastid), "%s", s->parser.lastid);
	h_sse_close(s);
	/* Reconnecting after the end gets 204, which stops EventSource. */
	ck_assert_int_eq(h_http_get(web.port, "/api/jobs/5/stream",
	    hdr(lastid), NULL), 204);
	PQfinish(c);
}
END_TEST

/*
 * A per-job stream for a job that does not exist is answered 404, which
 * stops EventSource, after the grace period for a job that is about to
 * commit; nobody can hold such streams open.
 */
START_TEST(stream_job_unknown_404)
{
	struct h_sse	*s;
	int		 i;

	for (i = 0; i < 3; i++) {
		s = h_sse_open(web.port, i == 2 ? "/api/jobs/424242/stream" :
		    "/api/jobs/999999999/stream", i == 1 ? "7" : NULL);
		h_sse_wait(s, 1, PGSSE_JOB_GRACE_MS + WAIT_MS);
		ck_assert_msg(s->status == 404 && s->eof, "unknown job: status "
		    "%d, eof %d, %zu events", s->status, s->eof, s->nmsgs);
		h_sse_close(s);
	}
	ck_assert_int_eq(h_health_wait(web.port, "clients", 0, WAIT_MS), 0);
}
END_TEST

/*
 * A page may open a job's stream just before the job commits: within
 * the grace period the stream waits for it, and meanwhile holds no
 * pooled connection, so resumes are served while such streams wait.
 */
START_TEST(stream_job_grace)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s, *r, *wait[PGSSE_POOL_MAX + 2];
	size_t		 i, waiting;

	s = h_sse_open(web.port, "/api/jobs/31337/stream", NULL);
	usleep(200000);
	make_job(c, 31337);
	h_publish(c, "job", "progress",
	    "{\"job_id\":31337,\"percent\":1,\"step\":\"late\"}");
	ck_assert_int_eq(h_sse_wait(s, 1, PGSSE_JOB_GRACE_MS + WAIT_MS), 1);
	ck_assert_int_eq(s->status, 200);
	ck_assert_str_eq(json_field(s->msgs[0].data, "step"), "late");
	h_sse_close(s);
	/* More waiting streams than pooled connections; then a resume. */
	for (i = 0; i < PGSSE_POOL_MAX + 2; i++)
		wait[i] = h_sse_open(web.port, "/api/jobs/77777/stream", NULL);
	usleep(100000);
	r = h_sse_open(web.port, "/api/sse/demos", "1");
	ck_assert_int_eq(h_sse_ready(r, WAIT_MS), 0);
	for (waiting = 0, i = 0; i < PGSSE_POOL_MAX + 2; i++) {
		h_sse_read(wait[i], 0);
		waiting += wait[i]->status == 0;
	}
	ck_assert_msg(waiting == PGSSE_POOL_MAX + 2, "a resume waited for "
	    "%zu streams of a missing job to be answered",
	    PGSSE_POOL_MAX + 2 - waiting);
	h_sse_close(r);
	for (i = 0; i < PGSSE_POOL_MAX + 2; i++) {
		h_sse_wait(wait[i], 1, PGSSE_JOB_GRACE_MS + WAIT_MS);
		ck_assert_int_eq(wait[i]->status, 404);
		h_sse_close(wait[i]);
	}
	PQfinish(c);
}
END_TEST

/* Payloads and raw NOTIFYs built to break the framing cannot. */
START_TEST(stream_hostile_framing)
{
	static const char *const evil[] = {
		"a\\nevent: evil\\ndata: x",
		"\\r\\n\\r\\nid: 999999\\r\\n",
		"\\u2028\\u2029\\u0085 line separators",
		"<script>alert(1)</script>",
		"data: \\n\\n: comment\\nretry: 1",
	};
	PGconn		*c = h_pg_connect();
	struct h_sse	*s = h_sse_connect(web.port, "/api/sse/demos", NULL);
	char		 json[256], sql[512];
	size_t		 i, n = sizeof(evil) / sizeof(evil[0]);

	for (i = 0; i < n; i++) {
		snprintf(json, sizeof(json), "{\"demo_id\":\"%s\",\"name\":"
		    "\"%s\"}", evil[i], evil[i]);
		h_publish(c, "demos", "installed", json);
	}
	/* Raw NOTIFYs: garbage is dropped, the documented one goes out. */
	h_exec(c, "notify demos, 'not json'");
	h_exec(c, "select pg_notify('demos', '{\"event\":\"installed\\nevent: "
	    "evil\",\"data\":{}}')");
	h_exec(c, "select pg_notify('demos', '{\"event\":\"nope\"}')");
	h_exec(c, "select pg_notify('pgsse', 'demos:999999999')");
	h_exec(c, "select pg_notify('demos', '{\"event\":\"uninstalled\","
	    "\"data\":{\"demo_id\":\"raw\\r\\nevent: x\"}}')");
	snprintf(sql, sizeof(sql), "select pg_notify('demos', "
	    "'{\"event\":\"uninstalled\",\"data\":{\"demo_id\":\"' || "
	    "repeat('q', 7900) || '\"}}')");
	h_exec(c, sql);
	ck_assert_int_eq(h_sse_wait(s, n + 2, WAIT_MS), (int)n + 2);
	ck_assert_int_eq(h_sse_wait(s, n + 3, 500), (int)n + 2);
	for (i = 0; i < n; i++) {
		struct json_object *o = json_tokener_parse(s->msgs[i].data);
		ck_assert_ptr_nonnull(o);
		ck_assert_str_eq(s->msgs[i].event, "installed");
		json_object_put(o);
	}
	ck_assert_str_eq(s->msgs[n].event, "uninstalled");
	ck_assert_str_eq(json_field(s->msgs[n].data, "demo_id"),
	    "raw\r\nevent: x");
	ck_assert_uint_eq(strlen(json_field(s->msgs[n + 1].data, "demo_id")),
	    7900);
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

/* Bad Last-Event-IDs get stream_reset and a working stream. */
START_TEST(stream_hostile_last_event_id)
{
	static const char *const ids[] = {
		"-5", "abc", "99999999999999999999999", "999999999999",
		"demos:x", "demos:1,,", "1\xff",
	};
	PGconn		*c = h_pg_connect();
	struct h_sse	*s;
	char		 huge[3000];
	size_t		 i;

	memset(huge, '7', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	for (i = 0; i <= sizeof(ids) / sizeof(ids[0]); i++) {
		s = h_sse_connect(web.port, "/api/sse/demos",
		    i < sizeof(ids) / sizeof(ids[0]) ? ids[i] : huge);
		h_publish(c, "demos", "uninstalled", "{\"demo_id\":\"h\"}");
		ck_assert_int_eq(h_sse_wait(s, 2, WAIT_MS), 2);
		ck_assert_str_eq(s->msgs[0].event, "stream_reset");
		ck_assert_str_eq(s->msgs[1].event, "uninstalled");
		h_sse_close(s);
	}
	PQfinish(c);
}
END_TEST

/*
 * lighttpd notices that a client left only when it next writes to it, so
 * a closed stream holds its slot until the next heartbeat: this stack
 * beats every second and has room for the ones in flight.
 */
static void
cycles_up(void)
{
	h_pg_start(&pg, "tests/data/registry-test.json");
	h_pg_load("demo/schema.sql");	/* pgsse-app serves the demo */
	setenv("PGSSE_MAX_CLIENTS", "20000", 1);
	setenv("PGSSE_HEARTBEAT", "1", 1);
	h_web_start(&web, NULL);
	unsetenv("PGSSE_MAX_CLIENTS");
	unsetenv("PGSSE_HEARTBEAT");
}

/*
 * 10,000 connect and disconnect cycles: every slot, queue and
 * subscription is freed (the sanitizer build's LeakSanitizer checks the
 * memory when the stream program exits at the end of the suite).
 */
START_TEST(stream_connect_cycles)
{
	struct h_sse	*s;
	int		 i;

	for (i = 0; i < 10000; i++) {
		s = h_sse_connect(web.port, i % 2 ? "/api/sse/demos" :
		    "/api/sse?channel=demos&channel=logs", i % 3 ? NULL : "1");
		h_sse_close(s);
	}
	ck_assert_int_eq(h_health_wait(web.port, "clients", 0, 40000), 0);
}
END_TEST

START_TEST(stream_health_and_metrics)
{
	char	*body = NULL;

	ck_assert_int_eq(h_http_get(web.port, "/api/sse-health", NULL, &body),
	    200);
	ck_assert_ptr_nonnull(strstr(body, "\"db\":\"up\""));
	free(body);
	ck_assert_int_eq(h_http_get(web.port, "/api/sse-metrics", NULL,
	    &body), 200);
	ck_assert_ptr_nonnull(strstr(body, "pgsse_db_up 1"));
	ck_assert_ptr_nonnull(strstr(body, "# TYPE pgsse_deliveries_total "
	    "counter"));
	free(body);
}
END_TEST

/* A second stack: two clients at most, and basic auth for private. */
static void
limits_up(void)
{
	FILE	*f;
	char	 conf[2048], users[600];

	h_pg_start(&pg, "tests/data/registry-test.json");
	h_pg_load("demo/schema.sql");	/* pgsse-app serves the demo */
	snprintf(users, sizeof(users), "%s/users", pg.dir);
	f = fopen(users, "w");
	fputs("alice:secret\nbob:secret\n", f);
	fclose(f);
	snprintf(conf, sizeof(conf),
	    "auth.backend = \"plain\"\nauth.backend.plain.userfile = \"%s\"\n"
	    "$HTTP[\"url\"] =~ \"^/api/sse/admin\" {\n auth.require = (\"\" => "
	    "(\"method\" => \"basic\", \"realm\" => \"pgsse\", \"require\" => "
	    "\"valid-user\"))\n}\n", users);
	/* lighttpd learns that a browser left only when it next writes to
	 * it, so a short heartbeat frees slots quickly here. */
	setenv("PGSSE_MAX_CLIENTS", "2", 1);
	setenv("PGSSE_HEARTBEAT", "1", 1);
	setenv("PGSSE_RAW", "off", 1);
	h_web_start(&web, conf);
	unsetenv("PGSSE_MAX_CLIENTS");
	unsetenv("PGSSE_HEARTBEAT");
	unsetenv("PGSSE_RAW");
}

/* Waits until the stream process serves n clients. */
static void
wait_for_clients(int n)
{
	ck_assert_int_eq(h_health_wait(web.port, "clients", n, 10000), n);
}

START_TEST(stream_private_channel)
{
	/* alice:secret and bob:secret in base64. */
	ck_assert_int_eq(h_http_get(web.port, "/api/sse/admin", NULL, NULL),
	    401);
	ck_assert_int_eq(h_http_get(web.port, "/api/sse/admin",
	    "Authorization: Basic Ym9iOnNlY3JldA==\r\n", NULL), 403);
	{
		struct h_sse *s = h_sse_open_hdr(web.port, "/api/sse/admin",
		    "Authorization: Basic YWxpY2U6c2VjcmV0\r\n");
		ck_assert_int_eq(h_sse_ready(s, WAIT_MS), 0);
		h_sse_close(s);
	}
}
END_TEST

START_TEST(stream_full_process_turns_away)
{
	struct h_sse	*a, *b, *c;

	wait_for_clients(0);
	a = h_sse_connect(web.port, "/api/sse/demos", NULL);
	b = h_sse_connect(web.port, "/api/sse/demos", NULL);
	c = h_sse_open(web.port, "/api/sse/demos", NULL);
	h_sse_wait(c, 1, WAIT_MS);
	ck_assert_int_eq(c->status, 200);
	ck_assert(c->eof);
	ck_assert_int_ge(c->parser.retry, 1000);
	ck_assert_ptr_nonnull(strstr(c->head, "Retry-After:"));
	ck_assert_uint_ge(c->parser.comments, 1);
	h_sse_close(c);
	h_sse_close(a);
	/* A slot is free again once a client leaves. */
	c = NULL;
	for (int i = 0; i < 50 && c == NULL; i++) {
		c = h_sse_open(web.port, "/api/sse/demos", NULL);
		if (h_sse_ready(c, 2000) != 0) {
			h_sse_close(c);
			c = NULL;
			usleep(100000);
		}
	}
	ck_assert_ptr_nonnull(c);
	h_sse_close(c);
	h_sse_close(b);
}
END_TEST

/* With raw NOTIFY off, only events from the log reach clients. */
START_TEST(stream_raw_off)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s;

	wait_for_clients(0);
	s = h_sse_connect(web.port, "/api/sse/demos", NULL);
	h_exec(c, "select pg_notify('demos', '{\"event\":\"uninstalled\","
	    "\"data\":{\"demo_id\":\"raw\"}}')");
	h_publish(c, "demos", "uninstalled", "{\"demo_id\":\"logged\"}");
	ck_assert_int_eq(h_sse_wait(s, 1, WAIT_MS), 1);
	ck_assert_int_eq(h_sse_wait(s, 2, 500), 1);
	ck_assert_str_eq(json_field(s->msgs[0].data, "demo_id"), "logged");
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

/*
 * The replay tests' log: n events (BIG_EVENTS for most tests) of about
 * bytes each (BIG_BYTES, just under the max_payload setting of 1 MiB,
 * for most) on logs, whose line starts with the event's number. Returns
 * the id of the last.
 */
#define BIG_EVENTS 30
#define BIG_BYTES 1000000
#define MAX_PAYLOAD (1024 * 1024)

static int64_t
publish_big(int n_events, size_t bytes, int64_t *first)
{
	PGconn	*c = h_pg_connect();
	char	*json;
	int64_t	 id = 0;
	int	 i, n;

	json = malloc(bytes + 64);
	ck_assert_ptr_nonnull(json);
	for (i = 0; i < n_events; i++) {
		n = snprintf(json, 64, "{\"source\":\"big\",\"line\":\"%d:", i);
		memset(json + n, 'a' + i % 26, bytes);
		strcpy(json + n + bytes, "\"}");
		id = h_publish(c, "logs", "log", json);
		if (i == 0 && first != NULL)
			*first = id;
	}
	free(json);
	PQfinish(c);
	return id;
}

/* Returns the number at the start of a big event's line, or -1. */
static int
big_number(const char *data)
{
	const char	*p = strstr(data, "\"line\": \"");

	return p == NULL ? -1 : atoi(p + 9);
}

/*
 * Opens a stream from a client that has a tiny receive window and never
 * reads: a browser tab that stalled. Returns the socket.
 */
static int
stalled_client(int port, const char *path, const char *lastid)
{
	struct sockaddr_in	 sa;
	char			 req[512];
	int			 fd, rcv = 1024, n;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	    "Accept: text/event-stream\r\nLast-Event-ID: %s\r\n\r\n", path,
	    lastid);
	ck_assert_int_eq(write(fd, req, (size_t)n), n);
	return fd;
}

/* Waits up to timeout_ms for the health field to reach at least want. */
static long
health_at_least(const char *field, long want, int timeout_ms)
{
	long	 v = -1;
	int	 waited;

	for (waited = 0; waited <= timeout_ms; waited += 100) {
		if ((v = h_health(web.port, field)) >= want)
			break;
		usleep(100000);
	}
	return v;
}

/* The sanitizer build's stream program carries ASan's own memory. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/*
 * Returns the stream process's resident set in KiB, or -1, and in *own
 * whether it is the program itself rather than a checker around it
 * (valgrind, or an ASan build), whose memory says nothing about ours.
 */
static long
stream_rss_kib(int *own)
{
	char	 path[64], line[256];
	long	 pid, kib = -1;
	FILE	*f;

	*own = 0;
	if ((pid = h_health(web.port, "pid")) <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "Name:", 5) == 0)
			*own = strstr(line, "pgsse-stream") != NULL;
	fclose(f);
#ifdef UNDER_ASAN
	*own = 0;
#endif
	return kib;
}

/*
 * Asserts that the stream process grew by at most bound KiB since it
 * held base KiB, with n stalled resumes, unless a checker runs it.
 */
static void
assert_rss(long base, int n, long bound)
{
	long	 rss;
	int	 own;

	rss = stream_rss_kib(&own);
	fprintf(stderr, "stream RSS: %ld KiB before, %ld KiB with %d stalled "
	    "resumes (bound %ld KiB more)%s\n", base, rss, n, bound,
	    own ? "" : "; not checked: under a memory checker");
	ck_assert_msg(!own || rss - base <= bound, "RSS grew by %ld KiB with "
	    "%d stalled resumes; bound %ld KiB", rss - base, n, bound);
}

/* Stalled resumes from id 0 while the log holds 30 MB. */
#define STALLED (PGSSE_POOL_MAX + 2)
/*
 * What the stalled resumes may cost: each holds at most one replay's
 * bytes and the event that crossed the bound, framed; each pooled
 * connection that read the log keeps a buffer as large as one row and
 * the thread that used it one event. Past that, 16 MiB of slack.
 */
#define STALLED_RSS_KIB ((STALLED * (PGSSE_REPLAY_BYTES + \
	2 * MAX_PAYLOAD) + PGSSE_POOL_MAX * 2 * MAX_PAYLOAD) / 1024 + 16384)

/*
 * Clients that resume from the start of a big log and never read starve
 * neither the other resumes nor the process's memory: a client resuming
 * next to them is served at once, and the stream process stays within
 * what the replay limits allow.
 */
START_TEST(stream_stalled_resumes_starve_nobody)
{
	struct h_sse	*s;
	int		 fds[STALLED], i;
	int64_t		 last;
	long		 base;
	char		 lastid[32];
	int		 own;

	last = publish_big(BIG_EVENTS, BIG_BYTES, NULL);
	base = stream_rss_kib(&own);
	ck_assert_int_gt(base, 0);
	for (i = 0; i < STALLED; i++)
		fds[i] = stalled_client(web.port, "/api/sse/logs", "0");
	/* Let them start their replays. */
	ck_assert_int_eq(h_health_wait(web.port, "clients", STALLED, 10000),
	    STALLED);
	usleep(500000);
	/* A client one event behind gets that event, and a live stream. */
	snprintf(lastid, sizeof(lastid), "%" PRId64, last - 1);
	s = h_sse_open(web.port, "/api/sse/logs", lastid);
	h_sse_wait(s, 1, WAIT_MS);
	ck_assert_msg(s->status == 200 && s->nmsgs == 1 && !s->eof &&
	    s->parser.comments == 0, "resume next to %d stalled ones: status "
	    "%d, %zu events, eof %d, %zu comments (database unavailable?)",
	    STALLED, s->status, s->nmsgs, s->eof, s->parser.comments);
	ck_assert_int_eq(big_number(s->msgs[0].data), BIG_EVENTS - 1);
	h_sse_close(s);
	assert_rss(base, STALLED, STALLED_RSS_KIB);
	for (i = 0; i < STALLED; i++)
		close(fds[i]);
}
END_TEST

/* The resumes-together test: events in the log, clients resuming. */
#define TOGETHER_EVENTS 40
#define TOGETHER_CLIENTS 160

/*
 * Many clients resume at once from nearby ids, as after a restart, so
 * that they queue up and are started in groups that share one read of
 * the log: each gets exactly the events past its own id, in order, then
 * live events, and the replay budget is all given back.
 */
START_TEST(stream_resumes_together)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*live, *r[TOGETHER_CLIENTS];
	char		 ids[TOGETHER_EVENTS][64], json[96];
	size_t		 i, j, from, want;

	live = h_sse_connect(web.port, "/api/sse/logs", NULL);
	for (i = 0; i < TOGETHER_EVENTS; i++) {
		snprintf(json, sizeof(json),
		    "{\"source\":\"together\",\"line\":\"%zu\"}", i);
		h_publish(c, "logs", "log", json);
	}
	ck_assert_int_eq(h_sse_wait(live, TOGETHER_EVENTS, WAIT_MS),
	    TOGETHER_EVENTS);
	for (i = 0; i < TOGETHER_EVENTS; i++)
		snprintf(ids[i], sizeof(ids[i]), "%s", live->msgs[i].id);
	h_sse_close(live);
	/* All sent before any is read. */
	for (i = 0; i < TOGETHER_CLIENTS; i++)
		r[i] = h_sse_open(web.port, "/api/sse/logs",
		    ids[(i * 7) % TOGETHER_EVENTS]);
	for (i = 0; i < TOGETHER_CLIENTS; i++) {
		from = (i * 7) % TOGETHER_EVENTS;
		want = TOGETHER_EVENTS - from - 1;
		ck_assert_int_eq(h_sse_ready(r[i], WAIT_MS), 0);
		ck_assert_int_eq(r[i]->status, 200);
		ck_assert_int_eq(h_sse_wait(r[i], want, WAIT_MS), want);
		for (j = 0; j < want; j++) {
			ck_assert_str_eq(r[i]->msgs[j].id, ids[from + 1 + j]);
			ck_assert_int_eq(atoi(json_field(r[i]->msgs[j].data,
			    "line")), (int)(from + 1 + j));
		}
	}
	/* Nothing twice, and then the stream goes on live. */
	h_publish(c, "logs", "log",
	    "{\"source\":\"together\",\"line\":\"live\"}");
	for (i = 0; i < TOGETHER_CLIENTS; i++) {
		want = TOGETHER_EVENTS - (i * 7) % TOGETHER_EVENTS;
		ck_assert_int_eq(h_sse_wait(r[i], want, WAIT_MS), want);
		ck_assert_str_eq(json_field(r[i]->msgs[want - 1].data, "line"),
		    "live");
		h_sse_wait(r[i], want + 1, 100);
		ck_assert_uint_eq(r[i]->nmsgs, want);
		h_sse_close(r[i]);
	}
	ck_assert_int_eq(h_health_wait(web.port, "replay_bytes", 0, WAIT_MS),
	    0);
	ck_assert_int_eq(h_health_wait(web.port, "replays", 0, WAIT_MS), 0);
	PQfinish(c);
}
END_TEST

/*
 * A resume far behind, from a client that reads slowly: the replay is
 * cut at PGSSE_REPLAY_BYTES, the stream ends, and resuming from the
 * last id it got delivers the rest, every event exactly once and in
 * order, then a live stream.
 */
START_TEST(stream_big_resume_exactly_once)
{
	struct h_sse	*s;
	int64_t		 first;
	char		 lastid[64];
	int		 next = 0, rounds = 0, rcv = 16384;
	size_t		 i;

	publish_big(BIG_EVENTS, BIG_BYTES, &first);
	snprintf(lastid, sizeof(lastid), "%" PRId64, first - 1);
	while (next < BIG_EVENTS && rounds <= BIG_EVENTS) {
		s = h_sse_open(web.port, "/api/sse/logs", lastid);
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		rounds++;
		while (!s->eof && s->nmsgs < (size_t)(BIG_EVENTS - next) &&
		    h_sse_wait(s, s->nmsgs + 1, WAIT_MS) > 0)
			usleep(20000);	/* a slow reader */
		ck_assert_int_eq(s->status, 200);
		ck_assert_msg(s->nmsgs > 0, "round %d from %s: nothing",
		    rounds, lastid);
		for (i = 0; i < s->nmsgs; i++) {
			ck_assert_int_eq(big_number(s->msgs[i].data), next);
			ck_assert_uint_ge(strlen(s->msgs[i].data), BIG_BYTES);
			next++;
		}
		snprintf(lastid, sizeof(lastid), "%s", s->parser.lastid);
		if (next < BIG_EVENTS)
			h_sse_close(s);
	}
	ck_assert_int_eq(next, BIG_EVENTS);
	/* 30 MB did not fit in one replay. */
	ck_assert_int_ge(rounds, 2);
	fprintf(stderr, "30 MB replayed in %d rounds\n", rounds);
	/* The last round is live, with nothing sent twice. */
	h_sse_wait(s, s->nmsgs + 1, 500);
	ck_assert(!s->eof);
	ck_assert_int_eq(big_number(s->msgs[s->nmsgs - 1].data),
	    BIG_EVENTS - 1);
	h_sse_close(s);
}
END_TEST

/*
 * The over-bound test's fillers: PGSSE_REPLAYS_MAX stalled resumes of
 * FILL_EVENTS events of FILL_BYTES, under PGSSE_REPLAY_BYTES but more
 * than lighttpd and the sockets take from a client that never reads.
 * Together they leave less of the budget than a resume of a BIG_BYTES
 * event needs past its free first bytes.
 */
#define FILL_EVENTS 10
#define FILL_BYTES 415000
#define FILL_TAKES (FILL_EVENTS * FILL_BYTES - PGSSE_REPLAY_SMALL)
_Static_assert(PGSSE_REPLAY_BUDGET - PGSSE_REPLAYS_MAX * FILL_TAKES <
    BIG_BYTES - PGSSE_REPLAY_SMALL, "the fillers leave room for a resume");
_Static_assert(FILL_EVENTS * (FILL_BYTES + 100) < PGSSE_REPLAY_BYTES,
    "a filler's replay is cut");

/*
 * Past PGSSE_REPLAY_BUDGET bytes held by stalled resumes, a resume
 * whose first event finds no room is told to come back (200, retry:,
 * a comment, the end); the budget comes back when the stalled clients
 * go.
 */
START_TEST(stream_replays_over_bound)
{
	struct h_sse	*s;
	int		 fds[PGSSE_REPLAYS_MAX], i;
	int64_t		 big, first;
	long		 taken;
	char		 lastid[32];

	ck_assert_int_eq(h_health_wait(web.port, "replays", 0, WAIT_MS), 0);
	big = publish_big(1, BIG_BYTES, NULL);
	publish_big(FILL_EVENTS, FILL_BYTES, &first);
	snprintf(lastid, sizeof(lastid), "%" PRId64, first - 1);
	/* One after the other, so each gets its whole replay. */
	for (i = 0; i < PGSSE_REPLAYS_MAX; i++) {
		fds[i] = stalled_client(web.port, "/api/sse/logs", lastid);
		taken = health_at_least("replay_bytes", (i + 1L) * FILL_TAKES,
		    WAIT_MS);
		ck_assert_msg(taken >= (i + 1L) * FILL_TAKES && taken <=
		    PGSSE_REPLAY_BUDGET, "%d stalled resumes took %ld bytes "
		    "of the replay budget (%d)", i + 1, taken,
		    PGSSE_REPLAY_BUDGET);
	}
	snprintf(lastid, sizeof(lastid), "%" PRId64, big - 1);
	s = h_sse_open(web.port, "/api/sse/logs", lastid);
	h_sse_wait(s, 1, WAIT_MS);
	ck_assert_int_eq(s->status, 200);
	ck_assert_msg(s->eof && s->nmsgs == 0 && s->parser.comments == 1,
	    "eof %d, %zu events, %zu comments", s->eof, s->nmsgs,
	    s->parser.comments);
	ck_assert_int_ge(s->parser.retry, 1000);
	ck_assert_ptr_nonnull(strstr(s->head, "Retry-After:"));
	h_sse_close(s);
	for (i = 0; i < PGSSE_REPLAYS_MAX; i++)
		close(fds[i]);
	ck_assert_int_eq(h_health_wait(web.port, "replays", 0, WAIT_MS), 0);
	ck_assert_int_eq(h_health_wait(web.port, "replay_bytes", 0, WAIT_MS),
	    0);
	/* And that resume is served again. */
	s = h_sse_open(web.port, "/api/sse/logs", lastid);
	ck_assert_int_gt(h_sse_wait(s, 1, WAIT_MS), 0);
	ck_assert_int_eq(big_number(s->msgs[0].data), 0);
	h_sse_close(s);
}
END_TEST

/* The stranger's resumes: more than PGSSE_REPLAYS_MAX. */
#define STRANGERS (PGSSE_REPLAYS_MAX + 2)
/* Megabytes the stranger's channel holds past any earlier test's. */
#define STRANGER_MB 5
/*
 * What the stranger's resumes may cost: the replay budget and the free
 * first bytes of each, and what the pooled connections and threads keep
 * (see STALLED_RSS_KIB). Past that, 16 MiB of slack.
 */
#define STRANGER_RSS_KIB (((long)PGSSE_REPLAY_BUDGET + STRANGERS * \
	PGSSE_REPLAY_SMALL + PGSSE_POOL_MAX * 2 * MAX_PAYLOAD) / 1024 + 16384)

/*
 * Asserts that stream s got want events, is still live and was not
 * told to come back, within WAIT_MS.
 */
static void
assert_served(struct h_sse *s, size_t want, const char *what)
{
	h_sse_wait(s, want, WAIT_MS);
	ck_assert_msg(s->status == 200 && s->nmsgs == want && !s->eof &&
	    s->parser.comments == 0, "%s next to %d stalled resumes from 0: "
	    "status %d, %zu of %zu events, eof %d, %zu comments (told to "
	    "come back?)", what, STRANGERS, s->status, s->nmsgs, want, s->eof,
	    s->parser.comments);
}

/*
 * A stranger opens more resumes from 0 than PGSSE_REPLAYS_MAX on a
 * public channel holding megabytes, and never reads them. A per-job
 * stream (which always replays its job) and a resume one event behind
 * are still served at once: nobody can take every replay for himself.
 */
START_TEST(stream_stranger_replays_starve_nobody)
{
	PGconn		*c;
	struct h_sse	*job, *s;
	int		 fds[STRANGERS], i, own;
	int64_t		 big;
	long		 base, taken;
	char		 lastid[32];

	ck_assert_int_eq(h_health_wait(web.port, "replays", 0, WAIT_MS), 0);
	big = publish_big(STRANGER_MB, BIG_BYTES, NULL);
	base = stream_rss_kib(&own);
	ck_assert_int_gt(base, 0);
	c = h_pg_connect();
	make_job(c, 4242);
	h_publish(c, "job", "progress",
	    "{\"job_id\":4242,\"percent\":10,\"step\":\"a\"}");
	h_publish(c, "job", "progress",
	    "{\"job_id\":4242,\"percent\":20,\"step\":\"b\"}");
	h_publish(c, "logs", "log", "{\"source\":\"small\",\"line\":\"tail\"}");
	for (i = 0; i < STRANGERS; i++)
		fds[i] = stalled_client(web.port, "/api/sse/logs", "0");
	/* Let them take what they can. */
	ck_assert_int_ge(health_at_least("replays", PGSSE_REPLAYS_MAX,
	    WAIT_MS), PGSSE_REPLAYS_MAX);
	taken = health_at_least("replay_bytes", PGSSE_REPLAY_BUDGET / 2,
	    WAIT_MS);
	ck_assert_msg(taken >= PGSSE_REPLAY_BUDGET / 2, "the stranger took "
	    "%ld bytes of the replay budget", taken);
	job = h_sse_open(web.port, "/api/jobs/4242/stream", NULL);
	snprintf(lastid, sizeof(lastid), "%" PRId64, big);
	s = h_sse_open(web.port, "/api/sse/logs", lastid);
	assert_served(job, 2, "a per-job stream");
	ck_assert_str_eq(json_field(job->msgs[1].data, "step"), "b");
	assert_served(s, 1, "a resume one event behind");
	ck_assert_str_eq(json_field(s->msgs[0].data, "line"), "tail");
	h_sse_close(job);
	h_sse_close(s);
	assert_rss(base, STRANGERS, STRANGER_RSS_KIB);
	for (i = 0; i < STRANGERS; i++)
		close(fds[i]);
	ck_assert_int_eq(h_health_wait(web.port, "replays", 0, WAIT_MS), 0);
	PQfinish(c);
}
END_TEST

/*
 * The live registry: loads with bin/pgsse-registry reach the running
 * stream process with no restart. LIVE_WAIT_MS bounds each wait; the
 * issue asks for 1 s, which the test reports rather than asserts (it
 * also runs under valgrind).
 */
#define LIVE_WAIT_MS 5000

static long
ms_since(const struct timespec *t0)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Loads the registry file rel (in the source tree) as an operator would. */
static void
live_load(const char *rel)
{
	ck_assert_int_eq(h_run("%s/bin/pgsse-registry load %s/%s >/dev/null",
	    h_builddir(), h_srcdir(), rel), 0);
}

/* Returns the HTTP status of a stream on path, 0 if none came in time. */
static int
live_status(const char *path)
{
	struct h_sse	*s = h_sse_open(web.port, path, NULL);
	int		 st, waited;

	for (waited = 0; s->status == 0 && !s->eof && waited < LIVE_WAIT_MS;
	    waited += 50)
		h_sse_read(s, 50);
	st = s->status;
	h_sse_close(s);
	return st;
}

/*
 * Opens a stream on path, again and again until it is served (the
 * channel is unknown until the reload), for up to LIVE_WAIT_MS since
 * t0. Returns it subscribed, or NULL.
 */
static struct h_sse *
live_open(const char *path, const struct timespec *t0)
{
	struct h_sse	*s;

	while (ms_since(t0) < LIVE_WAIT_MS) {
		s = h_sse_open(web.port, path, NULL);
		if (h_sse_ready(s, LIVE_WAIT_MS) == 0)
			return s;
		h_sse_close(s);
		usleep(20000);
	}
	return NULL;
}

/*
 * A registry that adds a channel, and an event to a channel a client
 * reads, reaches the running stream process: a new stream on the new
 * channel gets what is published to it, the old stream gets the new
 * event, and the process never restarted.
 */
START_TEST(stream_registry_live_add)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*st, *b;
	struct timespec	 t0;
	long		 served, delivered, pid = h_health(web.port, "pid");

	st = h_sse_connect(web.port, "/api/sse/status", NULL);
	ck_assert_int_eq(live_status("/api/sse/orders"), 404);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	live_load("tests/data/registry-live-add.json");
	b = live_open("/api/sse/orders", &t0);
	ck_assert_msg(b != NULL, "no stream on the new channel within %d ms",
	    LIVE_WAIT_MS);
	served = ms_since(&t0);
	h_publish(c, "orders", "placed", "{\"order_id\":7}");
	ck_assert_int_eq(h_sse_wait(b, 1, LIVE_WAIT_MS), 1);
	delivered = ms_since(&t0);
	fprintf(stderr, "live registry: load to a stream on the new channel "
	    "%ld ms, to its first event %ld ms\n", served, delivered);
	ck_assert_str_eq(b->msgs[0].event, "placed");
	ck_assert_str_eq(json_field(b->msgs[0].data, "order_id"), "7");
	h_publish(c, "status", "paused", "{}");
	ck_assert_int_eq(h_sse_wait(st, 1, WAIT_MS), 1);
	ck_assert_str_eq(st->msgs[0].event, "paused");
	/* logs, demos, status, job, admin, orders, and the core operations. */
	ck_assert_int_eq(h_health(web.port, "channels"), 7);
	ck_assert_int_eq(h_health(web.port, "pid"), pid);
	h_sse_close(st);
	h_sse_close(b);
	PQfinish(c);
}
END_TEST

/* Reads s until EOF or LIVE_WAIT_MS; says whether it ended. */
static int
live_ended(struct h_sse *s)
{
	h_sse_wait(s, s->nmsgs + 1, LIVE_WAIT_MS);
	return s->eof;
}

/*
 * A registry without a channel that clients read ends their streams
 * with pgsse.channel_removed, on a stream of one channel and of
 * several; the channel is then unknown (404, which stops EventSource).
 * The core channels (logs) survive a registry that lacks them, and an
 * event the load removed is dropped, raw or from the log.
 */
START_TEST(stream_registry_live_remove)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*a, *m, *lg, *st;
	struct h_sse	*both[2];
	long		 dropped;
	int64_t		 before;
	char		 lastid[32];
	size_t		 i, n;

	a = h_sse_connect(web.port, "/api/sse/demos", NULL);
	m = h_sse_connect(web.port, "/api/sse?channel=demos&channel=status",
	    NULL);
	lg = h_sse_connect(web.port, "/api/sse/logs", NULL);
	before = h_publish(c, "status", "system_status",
	    "{\"status\":\"before\",\"uptime\":1}");
	h_publish(c, "status", "paused", "{}");
	ck_assert_int_eq(h_sse_wait(m, 2, WAIT_MS), 2);
	ck_assert_str_eq(m->msgs[1].event, "status.paused");
	dropped = h_health(web.port, "dropped");
	live_load("tests/data/registry-live-remove.json");
	both[0] = a;
	both[1] = m;
	for (i = 0; i < 2; i++) {
		n = both[i]->nmsgs;
		ck_assert_int_eq(h_sse_wait(both[i], n + 1, LIVE_WAIT_MS),
		    n + 1);
		ck_assert_str_eq(both[i]->msgs[n].event,
		    "pgsse.channel_removed");
		ck_assert_str_eq(json_field(both[i]->msgs[n].data, "channel"),
		    "demos");
		ck_assert_msg(live_ended(both[i]), "stream %zu goes on", i);
		ck_assert_uint_eq(both[i]->nmsgs, n + 1);
	}
	ck_assert_int_eq(live_status("/api/sse/demos"), 404);
	ck_assert_int_eq(live_status("/api/sse?channel=status&channel=demos"),
	    404);
	/* The core channel logs is not in the file, and stays. */
	h_publish(c, "logs", "log", "{\"source\":\"t\",\"line\":\"core\"}");
	ck_assert_int_eq(h_sse_wait(lg, 1, WAIT_MS), 1);
	ck_assert_str_eq(json_field(lg->msgs[0].data, "line"), "core");
	/* paused is gone: neither replayed from the log nor sent raw. */
	snprintf(lastid, sizeof(lastid), "%" PRId64, before);
	st = h_sse_connect(web.port, "/api/sse/status", lastid);
	h_exec(c, "select pg_notify('status', '{\"event\":\"paused\"}')");
	h_publish(c, "status", "system_status",
	    "{\"status\":\"after\",\"uptime\":2}");
	ck_assert_int_eq(h_sse_wait(st, 1, WAIT_MS), 1);
	h_sse_wait(st, 2, 300);
	ck_assert_uint_eq(st->nmsgs, 1);
	ck_assert_str_eq(json_field(st->msgs[0].data, "status"), "after");
	ck_assert_int_gt(h_health(web.port, "dropped"), dropped);
	h_sse_close(a);
	h_sse_close(m);
	h_sse_close(lg);
	h_sse_close(st);
	PQfinish(c);
}
END_TEST

/*
 * A load that makes a channel private ends the streams already open on
 * it, with no event, so that they come back and are checked: an
 * anonymous reader then gets 403. Streams of other channels go on.
 */
START_TEST(stream_registry_live_private)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*o, *st;

	o = h_sse_connect(web.port, "/api/sse/orders", NULL);
	st = h_sse_connect(web.port, "/api/sse/status", NULL);
	live_load("tests/data/registry-live-private.json");
	ck_assert_msg(live_ended(o), "the stream of a now private channel "
	    "goes on");
	ck_assert_uint_eq(o->nmsgs, 0);
	ck_assert_int_eq(live_status("/api/sse/orders"), 403);
	h_publish(c, "status", "system_status",
	    "{\"status\":\"on\",\"uptime\":3}");
	ck_assert_int_eq(h_sse_wait(st, 1, WAIT_MS), 1);
	h_sse_close(o);
	h_sse_close(st);
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("stream");
	TCase	*tc = tcase_create("core");

	signal(SIGPIPE, SIG_IGN);
	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, stream_named_events_with_ids);
	tcase_add_test(tc, stream_multi_channel);
	tcase_add_test(tc, stream_job_closes_after_complete);
	tcase_add_test(tc, stream_health_and_metrics);
	tcase_add_test(tc, stream_resume_exactly_once);
	tcase_add_test(tc, stream_survives_pg_restart);
	tcase_add_test(tc, stream_slow_client);
	tcase_add_test(tc, stream_log_went_back);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, stream_refusals);
	tcase_add_test(tc, stream_job_unknown_404);
	tcase_add_test(tc, stream_job_grace);
	tcase_add_test(tc, stream_hostile_framing);
	tcase_add_test(tc, stream_hostile_last_event_id);
	suite_add_tcase(s, tc);
	tc = tcase_create("cycles");
	tcase_add_unchecked_fixture(tc, cycles_up, stack_down);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, stream_connect_cycles);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_unchecked_fixture(tc, limits_up, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, stream_private_channel);
	tcase_add_test(tc, stream_full_process_turns_away);
	tcase_add_test(tc, stream_raw_off);
	suite_add_tcase(s, tc);
	tc = tcase_create("replay");
	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, stream_stalled_resumes_starve_nobody);
	tcase_add_test(tc, stream_big_resume_exactly_once);
	tcase_add_test(tc, stream_resumes_together);
	tcase_add_test(tc, stream_replays_over_bound);
	tcase_add_test(tc, stream_stranger_replays_starve_nobody);
	suite_add_tcase(s, tc);
	tc = tcase_create("live");
	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, stream_registry_live_add);
	tcase_add_test(tc, stream_registry_live_remove);
	tcase_add_test(tc, stream_registry_live_private);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
