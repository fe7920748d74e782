/*
 * check_publish.c: the event model in sql/pgsse.sql and lib/publish.c,
 * against a real PostgreSQL cluster started for this test.
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "harness.h"

static struct h_pg pg;

static void
pg_up(void)
{
	h_pg_start(&pg, NULL);
}

static void
pg_down(void)
{
	h_pg_stop(&pg);
}

/* Each test starts from an empty log and the default settings. */
static void
setup(void)
{
	PGconn	*c = h_pg_connect();

	h_exec(c, "truncate pgsse.log, pgsse.channel_state");
	h_exec(c, "update pgsse.settings set value = '100000' where name = "
	    "'retention_count'");
	h_exec(c, "update pgsse.settings set value = '24 hours' where name = "
	    "'retention_interval'");
	PQfinish(c);
}

static void
teardown(void)
{
}

/* Runs sql with params; returns the error's SQLSTATE, or "" on success. */
static char *
try_sql(PGconn *c, const char *sql, int n, const char *const *params,
    char *msg, size_t msglen)
{
	static char	 state[8];
	PGresult	*res;
	const char	*z;

	res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	state[0] = '\0';
	if (msg != NULL)
		msg[0] = '\0';
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK) {
		z = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		snprintf(state, sizeof(state), "%s", z ? z : "?????");
		if (msg != NULL)
			snprintf(msg, msglen, "%s", PQresultErrorField(res,
			    PG_DIAG_MESSAGE_PRIMARY));
	}
	PQclear(res);
	return state;
}

static int64_t
scalar(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);
	int64_t		 v;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

/* Waits up to ms for a notification on c. Caller frees it. */
static PGnotify *
wait_notify(PGconn *c, int ms)
{
	struct pollfd	 pfd;
	PGnotify	*n;

	PQconsumeInput(c);
	while ((n = PQnotifies(c)) == NULL) {
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms) <= 0)
			return NULL;
		PQconsumeInput(c);
	}
	return n;
}

START_TEST(publish_logs_and_rings)
{
	PGconn		*pub = h_pg_connect(), *lis = h_pg_connect();
	PGnotify	*n;
	int64_t		 id1, id2;
	char		 want[64], *err = NULL;

	h_exec(lis, "LISTEN pgsse");
	id1 = h_publish(pub, "demos", "installed",
	    "{\"demo_id\":\"d1\",\"name\":\"One\"}");
	ck_assert_int_eq(pgsse_publish(pub, "status", "system_status",
	    "{\"status\":\"ok\",\"uptime\":1.5}", &id2, &err), PGSSE_OK);
	ck_assert_ptr_null(err);
	ck_assert_int_gt(id2, id1);
	n = wait_notify(lis, 5000);
	ck_assert_ptr_nonnull(n);
	snprintf(want, sizeof(want), "demos:%" PRId64, id1);
	ck_assert_str_eq(n->relname, "pgsse");
	ck_assert_str_eq(n->extra, want);
	PQfreemem(n);
	ck_assert_int_eq(scalar(pub, "select count(*) from pgsse.log where "
	    "channel = 'demos' and payload ->> 'name' = 'One'"), 1);
	PQfinish(pub);
	PQfinish(lis);
}
END_TEST

START_TEST(publish_validates)
{
	static const char *const bad[][3] = {
		{ "nochan", "installed", "{}" },
		{ "demos", "nope", "{}" },
		{ "demos", "installed", "{\"demo_id\":\"d1\"}" },
		{ "demos", "installed", "{\"demo_id\":1,\"name\":\"x\"}" },
		{ "demos", "installed", "[1]" },
		{ "demos", "installed", "\"x\"" },
		{ "validation", "validation_complete", "{\"passed\":1.5,\"failed\":0}" },
		{ "validation", "check_result", "{\"check\":\"c\",\"ok\":\"yes\",\"detail\":\"\"}" },
		{ "Demos", "installed", "{}" },
		{ "demos\n", "installed", "{}" },
	};
	PGconn		*c = h_pg_connect();
	char		 msg[512];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *params[3] = { bad[i][0], bad[i][1], bad[i][2] };
		ck_assert_str_eq(try_sql(c, "select pgsse.publish($1, $2, "
		    "$3::jsonb)", 3, params, msg, sizeof(msg)), "22023");
	}
	{
		const char *params[3] = { "nochan", "x", "{}" };
		try_sql(c, "select pgsse.publish($1, $2, $3::jsonb)", 3,
		    params, msg, sizeof(msg));
		ck_assert_ptr_nonnull(strstr(msg, "valid channels: demos, "
		    "job, logs, operations, status, validation"));
		params[0] = "demos";
		try_sql(c, "select pgsse.publish($1, $2, $3::jsonb)", 3,
		    params, msg, sizeof(msg));
		ck_assert_ptr_nonnull(strstr(msg, "valid events: installed, "
		    "operation_completed, operation_started, uninstalled"));
	}
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 0);
	PQfinish(c);
}
END_TEST

START_TEST(publish_large_payloads)
{
	PGconn		*c = h_pg_connect(), *lis = h_pg_connect();
	char		*json, msg[512];
	const char	*params[3] = { "logs", "log", NULL };
	size_t		 n = 900 * 1024;
	PGnotify	*nf;

	h_exec(lis, "LISTEN pgsse");
	json = malloc(n + 64);
	snprintf(json, 40, "{\"source\":\"t\",\"line\":\"");
	memset(json + strlen(json), 'x', n);
	strcpy(json + 22 + n, "\"}");
	params[2] = json;
	ck_assert_str_eq(try_sql(c, "select pgsse.publish($1, $2, $3::jsonb)",
	    3, params, msg, sizeof(msg)), "");
	nf = wait_notify(lis, 5000);
	ck_assert_ptr_nonnull(nf);
	ck_assert_uint_lt(strlen(nf->extra), 64);
	PQfreemem(nf);
	/* Past max_payload (1 MiB by default): a clear error, nothing kept. */
	json = realloc(json, 1100 * 1024 + 64);
	snprintf(json, 40, "{\"source\":\"t\",\"line\":\"");
	memset(json + 22, 'y', 1100 * 1024);
	strcpy(json + 22 + 1100 * 1024, "\"}");
	params[2] = json;
	ck_assert_str_eq(try_sql(c, "select pgsse.publish($1, $2, $3::jsonb)",
	    3, params, msg, sizeof(msg)), "54000");
	ck_assert_ptr_nonnull(strstr(msg, "max_payload"));
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 1);
	free(json);
	PQfinish(c);
	PQfinish(lis);
}
END_TEST

/* Identical events in one transaction are two events, two doorbells. */
START_TEST(publish_not_merged)
{
	PGconn		*c = h_pg_connect(), *lis = h_pg_connect();
	PGnotify	*a, *b;

	h_exec(lis, "LISTEN pgsse");
	h_exec(c, "begin");
	h_publish(c, "demos", "uninstalled", "{\"demo_id\":\"d\"}");
	h_publish(c, "demos", "uninstalled", "{\"demo_id\":\"d\"}");
	h_exec(c, "commit");
	a = wait_notify(lis, 5000);
	b = wait_notify(lis, 5000);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_ne(a->extra, b->extra);
	PQfreemem(a);
	PQfreemem(b);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 2);
	PQfinish(c);
	PQfinish(lis);
}
END_TEST

START_TEST(log_is_append_only)
{
	PGconn	*c = h_pg_connect();

	h_publish(c, "demos", "uninstalled", "{\"demo_id\":\"d\"}");
	ck_assert_str_ne(try_sql(c, "update pgsse.log set event = 'x'", 0,
	    NULL, NULL, 0), "");
	PQfinish(c);
}
END_TEST

/*
 * Finished jobs go on the retention schedule too; queued and running
 * ones stay whatever their age.
 */
START_TEST(prune_finished_jobs)
{
	PGconn	*c = h_pg_connect();

	h_exec(c, "delete from pgsse.jobs");
	h_exec(c, "insert into pgsse.jobs (kind, state, created_at, "
	    "finished_at) values ('a', 'succeeded', now() - interval '2 days',"
	    " now() - interval '2 days'), ('b', 'failed', now() - interval "
	    "'2 days', now() - interval '2 days'), ('c', 'queued', now() - "
	    "interval '2 days', null), ('d', 'succeeded', now(), now())");
	h_exec(c, "select pgsse.prune()");
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.jobs where "
	    "kind in ('c', 'd')"), 2);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.jobs"), 2);
	PQfinish(c);
}
END_TEST

START_TEST(prune_keeps_retention)
{
	PGconn	*c = h_pg_connect();
	int64_t	 ids[25];
	int	 i;

	h_exec(c, "update pgsse.settings set value = '10' where name = "
	    "'retention_count'");
	for (i = 0; i < 25; i++)
		ids[i] = h_publish(c, "logs", "log",
		    "{\"source\":\"t\",\"line\":\"l\"}");
	h_publish(c, "status", "system_status",
	    "{\"status\":\"ok\",\"uptime\":1}");
	ck_assert_int_eq(scalar(c, "select pgsse.prune()"), 15);
	ck_assert_int_eq(scalar(c, "select min(id) from pgsse.log where "
	    "channel = 'logs'"), ids[15]);
	ck_assert_int_eq(scalar(c, "select pruned_through from "
	    "pgsse.channel_state where channel = 'logs'"), ids[14]);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log where "
	    "channel = 'status'"), 1);
	ck_assert_int_eq(scalar(c, "select pgsse.prune()"), 0);
	h_exec(c, "update pgsse.settings set value = '0 seconds' where name "
	    "= 'retention_interval'");
	ck_assert_int_eq(scalar(c, "select pgsse.prune()"), 11);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 0);
	PQfinish(c);
}
END_TEST

/*
 * Ordering: 8 publishers, each in its own transactions that linger
 * after taking an id, and a reader that keeps reading past its cursor.
 * Once the reader has seen id N on the channel, no smaller id may ever
 * appear there later. Half the publishers publish their pairs with one
 * publish_batch.
 */
#define ORDER_PUBLISHERS 8
#define ORDER_EVENTS 150

static atomic_int order_finished;

static void *
order_publisher(void *arg)
{
	PGconn	*c = h_pg_connect();
	int	 i, batch = *(const int *)arg % 2;

	for (i = 0; i < ORDER_EVENTS; i++) {
		h_exec(c, "begin");
		if (batch && i % 3 == 0)
			h_exec(c, "select pgsse.publish_batch('demos', "
			    "'uninstalled', array['{\"demo_id\":\"o\"}', "
			    "'{\"demo_id\":\"o\"}']::jsonb[])");
		else
			h_publish(c, "demos", "uninstalled",
			    "{\"demo_id\":\"o\"}");
		if (!batch && i % 3 == 0)
			h_publish(c, "demos", "uninstalled",
			    "{\"demo_id\":\"o\"}");
		h_exec(c, "select pg_sleep(random() * 0.003)");
		h_exec(c, "commit");
	}
	PQfinish(c);
	atomic_fetch_add(&order_finished, 1);
	return NULL;
}

START_TEST(publish_orders_per_channel)
{
	pthread_t	 t[ORDER_PUBLISHERS];
	int		 who[ORDER_PUBLISHERS];
	PGconn		*c = h_pg_connect();
	PGresult	*res;
	char		 cur[32], sql[128];
	const char	*params[1] = { cur };
	int64_t		 cursor = 0, id, seen = 0, late = 0, below, total;
	int		 i, r, done = 0;

	for (i = 0; i < ORDER_PUBLISHERS; i++) {
		who[i] = i;
		pthread_create(&t[i], NULL, order_publisher, &who[i]);
	}
	total = ORDER_PUBLISHERS * (ORDER_EVENTS + (ORDER_EVENTS + 2) / 3);
	while (!done) {
		done = atomic_load(&order_finished) == ORDER_PUBLISHERS;
		snprintf(cur, sizeof(cur), "%" PRId64, cursor);
		res = PQexecParams(c, "select id from pgsse.log where channel "
		    "= 'demos' and id > $1 order by id", 1, NULL, params, NULL,
		    NULL, 0);
		ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
		for (r = 0; r < PQntuples(res); r++) {
			id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
			ck_assert_int_gt(id, cursor);
			cursor = id;
			seen++;
		}
		PQclear(res);
		/* A row at or below the cursor that we did not see is late. */
		snprintf(sql, sizeof(sql), "select count(*) from pgsse.log "
		    "where channel = 'demos' and id <= %" PRId64, cursor);
		below = scalar(c, sql) - seen;
		if (below > late)
			late = below;
	}
	for (i = 0; i < ORDER_PUBLISHERS; i++)
		pthread_join(t[i], NULL);
	ck_assert_msg(late == 0, "%" PRId64 " events committed below an id "
	    "already seen", late);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), total);
	ck_assert_int_eq(seen, total);
	PQfinish(c);
}
END_TEST

/*
 * The batch form, pgsse.publish_batch: SQL that publishes n log lines
 * "line-1" ... "line-n" in one call, the bad-th (from 1; 0: none) being
 * what bad says instead.
 */
static char *
batch_sql(int n, int bad, const char *badjson)
{
	static char	 sql[1024];

	snprintf(sql, sizeof(sql), "select pgsse.publish_batch('logs', 'log', "
	    "(select array_agg(case when i = %d then '%s'::jsonb else "
	    "jsonb_build_object('source', 'b', 'line', 'line-' || i) end "
	    "order by i) from generate_series(1, %d) i))", bad,
	    bad > 0 ? badjson : "{}", n);
	return sql;
}

/* Runs sql, which returns one text value; returns it, in a static
 * buffer. */
static const char *
text_of(PGconn *c, const char *sql)
{
	static char	 out[65536];
	PGresult	*res = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	snprintf(out, sizeof(out), "%s", PQgetisnull(res, 0, 0) ? "(null)" :
	    PQgetvalue(res, 0, 0));
	PQclear(res);
	return out;
}

/* Asserts that no notification comes to c within a short while. */
static void
no_notify(PGconn *c)
{
	PGnotify	*n = wait_notify(c, 300);

	ck_assert_msg(n == NULL, "unexpected notification %s",
	    n != NULL ? n->extra : "");
}

/*
 * A batch publishes every event once, in the array's order, with
 * consecutive ids (no other publisher here), returns those ids, and
 * rings one doorbell, for its last id. An empty batch publishes
 * nothing and rings nothing.
 */
START_TEST(publish_batch_in_order)
{
	PGconn		*c = h_pg_connect(), *lis = h_pg_connect();
	PGnotify	*n;
	char		 ids[256], want[160];
	int64_t		 first;

	h_exec(lis, "LISTEN pgsse");
	snprintf(ids, sizeof(ids), "%s", text_of(c, batch_sql(5, 0, "")));
	first = scalar(c, "select min(id) from pgsse.log");
	snprintf(want, sizeof(want), "{%" PRId64 ",%" PRId64 ",%" PRId64 ",%"
	    PRId64 ",%" PRId64 "}", first, first + 1, first + 2, first + 3,
	    first + 4);
	ck_assert_str_eq(ids, want);
	ck_assert_str_eq(text_of(c, "select string_agg(payload ->> 'line', "
	    "',' order by id) || ' ' || count(distinct id) || ' ' || "
	    "count(*) from pgsse.log where channel = 'logs' and event = "
	    "'log' and recipient is null"),
	    "line-1,line-2,line-3,line-4,line-5 5 5");
	n = wait_notify(lis, 5000);
	ck_assert_ptr_nonnull(n);
	snprintf(want, sizeof(want), "logs:%" PRId64, first + 4);
	ck_assert_str_eq(n->extra, want);
	PQfreemem(n);
	no_notify(lis);
	ck_assert_str_eq(text_of(c, "select pgsse.publish_batch('logs', "
	    "'log', '{}')::text"), "{}");
	ck_assert_str_eq(text_of(c, "select pgsse.publish_batch('logs', "
	    "'log', null)::text"), "{}");
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 5);
	no_notify(lis);
	PQfinish(c);
	PQfinish(lis);
}
END_TEST

/* Runs sql on c, which must fail with state; returns its message. */
static const char *
fails_with(PGconn *c, const char *sql, const char *state)
{
	static char	 msg[512];

	ck_assert_str_eq(try_sql(c, sql, 0, NULL, msg, sizeof(msg)), state);
	return msg;
}

/*
 * One invalid event in a batch rejects the whole batch, with
 * publish()'s error and SQLSTATE naming the event's place in it; so
 * does an unknown channel or event, and a batch that is not a list.
 */
START_TEST(publish_batch_rejects_whole)
{
	PGconn		*c = h_pg_connect(), *lis = h_pg_connect();
	const char	*m;

	h_exec(lis, "LISTEN pgsse");
	m = fails_with(c, batch_sql(5, 3, "{\"source\":\"b\"}"), "22023");
	ck_assert_msg(strstr(m, "event 3 of the batch: payload of logs.log "
	    "lacks field \"line\"") != NULL, "%s", m);
	m = fails_with(c, batch_sql(4, 2, "\"x\""), "22023");
	ck_assert_msg(strstr(m, "event 2 of the batch: payload of logs.log "
	    "must be a JSON object") != NULL, "%s", m);
	m = fails_with(c, batch_sql(4, 4, "{\"source\":1,\"line\":\"l\"}"),
	    "22023");
	ck_assert_msg(strstr(m, "event 4 of the batch: field \"source\"") !=
	    NULL, "%s", m);
	m = fails_with(c, "select pgsse.publish_batch('logs', 'log', "
	    "array['{\"source\":\"b\",\"line\":\"l\"}', null]::jsonb[])",
	    "22023");
	ck_assert_msg(strstr(m, "event 2 of the batch") != NULL, "%s", m);
	h_exec(c, "update pgsse.settings set value = '64' where name = "
	    "'max_payload'");
	m = fails_with(c, batch_sql(3, 2, "{\"source\":\"b\",\"line\":\""
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"),
	    "54000");
	h_exec(c, "update pgsse.settings set value = '1048576' where name = "
	    "'max_payload'");
	ck_assert_msg(strstr(m, "event 2 of the batch: payload of ") != NULL &&
	    strstr(m, "over max_payload") != NULL, "%s", m);
	m = fails_with(c, "select pgsse.publish_batch('nochan', 'log', "
	    "array['{}']::jsonb[])", "22023");
	ck_assert_msg(strstr(m, "unknown channel \"nochan\"") != NULL, "%s", m);
	m = fails_with(c, "select pgsse.publish_batch('logs', 'nope', "
	    "'{}')", "22023");
	ck_assert_msg(strstr(m, "unknown event \"nope\"") != NULL, "%s", m);
	m = fails_with(c, "select pgsse.publish_batch('logs', 'log', "
	    "array[array['{\"source\":\"b\",\"line\":\"l\"}'::jsonb]])",
	    "22023");
	ck_assert_msg(strstr(m, "one-dimensional") != NULL, "%s", m);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 0);
	no_notify(lis);
	PQfinish(c);
	PQfinish(lis);
}
END_TEST

/*
 * A batch of more than publish_batch_max events (PGSSE_PUBLISH_BATCH_MAX
 * by default) is refused with 54000 and publishes none; one of exactly
 * that many is published.
 */
START_TEST(publish_batch_limit)
{
	PGconn		*c = h_pg_connect();
	const char	*m;

	ck_assert_int_eq(scalar(c, "select value from pgsse.settings where "
	    "name = 'publish_batch_max'"), PGSSE_PUBLISH_BATCH_MAX);
	m = fails_with(c, batch_sql(PGSSE_PUBLISH_BATCH_MAX + 1, 0, ""),
	    "54000");
	ck_assert_msg(strstr(m, "over publish_batch_max") != NULL, "%s", m);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 0);
	text_of(c, batch_sql(PGSSE_PUBLISH_BATCH_MAX, 0, ""));
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"),
	    PGSSE_PUBLISH_BATCH_MAX);
	h_exec(c, "update pgsse.settings set value = '3' where name = "
	    "'publish_batch_max'");
	m = fails_with(c, batch_sql(4, 0, ""), "54000");
	h_exec(c, "update pgsse.settings set value = '1000' where name = "
	    "'publish_batch_max'");
	ck_assert_msg(strstr(m, "a batch of 4 events is over "
	    "publish_batch_max (3 events)") != NULL, "%s", m);
	PQfinish(c);
}
END_TEST

/*
 * Without its publish_batch_max row in pgsse.settings a batch is still
 * capped, at PGSSE_PUBLISH_BATCH_MAX events.
 */
START_TEST(publish_batch_limit_unset)
{
	PGconn		*c = h_pg_connect();
	const char	*state;
	char		 msg[512];

	h_exec(c, "delete from pgsse.settings where name = "
	    "'publish_batch_max'");
	state = try_sql(c, batch_sql(PGSSE_PUBLISH_BATCH_MAX + 1, 0, ""), 0,
	    NULL, msg, sizeof(msg));
	h_exec(c, "insert into pgsse.settings (name, value, description) "
	    "values ('publish_batch_max', '1000', 'events that one "
	    "publish_batch() call takes at most (PGSSE_PUBLISH_BATCH_MAX)')");
	ck_assert_msg(strcmp(state, "54000") == 0, "a batch of %d events "
	    "without the setting: SQLSTATE \"%s\" (%s), %d published",
	    PGSSE_PUBLISH_BATCH_MAX + 1, state, msg, (int)scalar(c,
	    "select count(*) from pgsse.log"));
	ck_assert_msg(strstr(msg, "over publish_batch_max (1000 events)") !=
	    NULL, "%s", msg);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 0);
	PQfinish(c);
}
END_TEST

/*
 * A batch to one user reaches that user only, as publish() to a user
 * does; a personal channel takes a batch only to one user, and a bad
 * user name is refused.
 */
START_TEST(publish_batch_to_user)
{
	PGconn		*c = h_pg_connect();
	const char	*m;

	h_exec(c, "select pgsse.put_channel('{\"name\":\"inbox\","
	    "\"description\":\"d\",\"personal\":true,\"events\":[{\"name\":"
	    "\"note\",\"description\":\"d\",\"fields\":{\"text\":"
	    "\"string\"}}]}', false)");
	ck_assert_str_eq(text_of(c, "select cardinality(pgsse.publish_batch("
	    "'inbox', 'note', array['{\"text\":\"a\"}', '{\"text\":\"b\"}']"
	    "::jsonb[], 'alice'))"), "2");
	ck_assert_str_eq(text_of(c, "select string_agg(recipient || ':' || "
	    "(payload ->> 'text'), ',' order by id) from pgsse.log"),
	    "alice:a,alice:b");
	m = fails_with(c, "select pgsse.publish_batch('inbox', 'note', "
	    "array['{\"text\":\"a\"}']::jsonb[])", "22023");
	ck_assert_msg(strstr(m, "is personal") != NULL, "%s", m);
	m = fails_with(c, "select pgsse.publish_batch('inbox', 'note', "
	    "array['{\"text\":\"a\"}']::jsonb[], '')", "22023");
	ck_assert_msg(strstr(m, "user name") != NULL, "%s", m);
	m = fails_with(c, "select pgsse.publish_batch('inbox', 'note', "
	    "array['{\"text\":\"a\"}']::jsonb[], e'bob\\n')", "22023");
	ck_assert_msg(strstr(m, "user name") != NULL, "%s", m);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 2);
	h_exec(c, "delete from pgsse.channels where name = 'inbox'");
	PQfinish(c);
}
END_TEST

/*
 * pgsse_publish_batch (C): the payloads reach the log exactly, quotes
 * and backslashes too, in order, with their ids; one bad payload fails
 * the call with publish_batch's message and publishes none.
 */
START_TEST(publish_batch_c_api)
{
	static const char *const ok[] = {
		"{\"source\":\"c\",\"line\":\"plain\"}",
		"{\"source\":\"c\",\"line\":\"a \\\"q\\\" \\\\ b {x,y}\"}",
		"{\"source\":\"c\",\"line\":\"\\u00e9t\\u00e9\"}",
	};
	static const char *const bad[] = {
		"{\"source\":\"c\",\"line\":\"fine\"}", NULL,
	};
	PGconn		*c = h_pg_connect();
	int64_t		 ids[3];
	char		*err = NULL, sql[160];

	ck_assert_int_eq(pgsse_publish_batch(c, "logs", "log", ok, 3, ids,
	    &err), PGSSE_OK);
	ck_assert_ptr_null(err);
	ck_assert_int_eq(ids[1], ids[0] + 1);
	ck_assert_int_eq(ids[2], ids[0] + 2);
	snprintf(sql, sizeof(sql), "select string_agg(payload ->> 'line', "
	    "'|' order by id) from pgsse.log where id >= %" PRId64, ids[0]);
	ck_assert_str_eq(text_of(c, sql), "plain|a \"q\" \\ b {x,y}|\xc3\xa9t"
	    "\xc3\xa9");
	ck_assert_int_eq(pgsse_publish_batch(c, "logs", "log", bad, 2, ids,
	    &err), PGSSE_ERR_DB);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "event 2 of the batch") != NULL, "%s", err);
	free(err);
	ck_assert_int_eq(pgsse_publish_batch(c, "logs", "log", NULL, 0, NULL,
	    &err), PGSSE_OK);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 3);
	PQfinish(c);
}
END_TEST

/*
 * pgsse-publish -b: one event per line of stdin, -s fields added to
 * each, the ids printed in order; a line that is not a JSON object
 * stops it with status 1, and the batch it was in is not published.
 */
START_TEST(publish_batch_cli)
{
	PGconn	*c = h_pg_connect();
	char	 out[64], buf[256], want[256];
	FILE	*f;
	int64_t	 first;
	size_t	 n;

	snprintf(out, sizeof(out), "/tmp/pgsse-batch-cli.%d", (int)getpid());
	ck_assert_int_eq(h_run("printf '{\"line\":\"a\"}\\n\\n{\"line\":"
	    "\"b \\\\\"q\\\\\"\"}\\n{\"line\":\"c\"}\\n' | %s/bin/pgsse-publish "
	    "-b -s source=cli logs log >%s", h_builddir(), out), 0);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	first = scalar(c, "select min(id) from pgsse.log");
	snprintf(want, sizeof(want), "%" PRId64 "\n%" PRId64 "\n%" PRId64
	    "\n", first, first + 1, first + 2);
	ck_assert_str_eq(buf, want);
	ck_assert_str_eq(text_of(c, "select string_agg((payload ->> 'line') "
	    "|| '/' || (payload ->> 'source'), ',' order by id) from "
	    "pgsse.log"), "a/cli,b \"q\"/cli,c/cli");
	ck_assert_int_eq(h_run("printf '{\"line\":\"d\"}\\nnot json\\n' | "
	    "%s/bin/pgsse-publish -b -s source=cli logs log >%s 2>&1",
	    h_builddir(), out), 1);
	ck_assert_int_eq(h_run("grep -q 'line 2 is not a JSON object' %s",
	    out), 0);
	ck_assert_int_eq(h_run("printf '{\"line\":\"e\"}\\n' | "
	    "%s/bin/pgsse-publish -b logs log '{}' 2>/dev/null", h_builddir()),
	    2);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 3);
	unlink(out);
	PQfinish(c);
}
END_TEST

/*
 * Feeds what the shell commands feed print to pgsse-publish -b -s
 * source=cli logs log; returns its exit status, and asserts that what
 * it said (stdout and stderr) holds want.
 */
static int
cli_says(const char *feed, const char *want)
{
	char	 out[64], said[1024];
	FILE	*f;
	size_t	 n;
	int	 rc;

	snprintf(out, sizeof(out), "/tmp/pgsse-batch-cli.%d", (int)getpid());
	rc = h_run("{ %s; } | %s/bin/pgsse-publish -b -s source=cli logs log "
	    ">%s 2>&1", feed, h_builddir(), out);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(said, 1, sizeof(said) - 1, f);
	said[n] = '\0';
	fclose(f);
	unlink(out);
	ck_assert_msg(strstr(said, want) != NULL, "pgsse-publish (status %d) "
	    "said \"%s\", not \"%s\"", rc, said, want);
	return rc;
}

/*
 * pgsse-publish -b takes a line whole or not at all: a NUL byte in it
 * (which cut it, and past PGSSE_PUBLISH_LINE_MAX made its tail an event
 * of its own) or text after its JSON object (which was dropped) stops
 * it with status 1 naming the line, and its batch is not published.
 * Whitespace after the object is fine.
 */
START_TEST(publish_batch_cli_whole_lines)
{
	PGconn	*c = h_pg_connect();
	char	 feed[512];

	ck_assert_int_eq(cli_says("printf '{\"line\":\"a\"}\\000{\"line\":"
	    "\"b\"}\\n'", "line 1 holds a NUL byte"), 1);
	snprintf(feed, sizeof(feed), "printf '{\"line\":\"x\"}\\n{\"line\":"
	    "\"a\"}\\000'; head -c %d /dev/zero | tr '\\000' ' '; "
	    "printf '{\"line\":\"tail\"}\\n'", PGSSE_PUBLISH_LINE_MAX - 12);
	ck_assert_int_eq(cli_says(feed, "line 2 holds a NUL byte"), 1);
	ck_assert_int_eq(cli_says("printf '{\"line\":\"x\"}\\n{\"line\":"
	    "\"a\"} {\"line\":\"b\"}\\n'", "line 2 has text after its JSON "
	    "object"), 1);
	ck_assert_int_eq(cli_says("printf '{\"line\":\"a\"}]\\n'",
	    "line 1 has text after its JSON object"), 1);
	ck_assert_int_eq(cli_says("printf '{\"line\":\"a\"\\n'",
	    "line 1 is not a JSON object"), 1);
	ck_assert_int_eq(scalar(c, "select count(*) from pgsse.log"), 0);
	ck_assert_int_eq(cli_says("printf '{\"line\":\"w\"} \\t\\r\\n'", ""),
	    0);
	ck_assert_str_eq(text_of(c, "select string_agg(payload ->> 'line', "
	    "',') from pgsse.log"), "w");
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("publish");
	TCase	*tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, pg_up, pg_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, publish_logs_and_rings);
	tcase_add_test(tc, publish_not_merged);
	tcase_add_test(tc, log_is_append_only);
	tcase_add_test(tc, prune_keeps_retention);
	tcase_add_test(tc, prune_finished_jobs);
	tcase_add_test(tc, publish_orders_per_channel);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_unchecked_fixture(tc, pg_up, pg_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, publish_validates);
	tcase_add_test(tc, publish_large_payloads);
	suite_add_tcase(s, tc);
	tc = tcase_create("batch");
	tcase_add_unchecked_fixture(tc, pg_up, pg_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, publish_batch_in_order);
	tcase_add_test(tc, publish_batch_rejects_whole);
	tcase_add_test(tc, publish_batch_limit);
	tcase_add_test(tc, publish_batch_limit_unset);
	tcase_add_test(tc, publish_batch_to_user);
	tcase_add_test(tc, publish_batch_c_api);
	tcase_add_test(tc, publish_batch_cli);
	tcase_add_test(tc, publish_batch_cli_whole_lines);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
