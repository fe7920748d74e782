/*
 * check_feed.c: reading the event log back (lib/feed.c), on a real
 * PostgreSQL. The read is a statement prepared once per connection
 * (pgsse_feed_read): it must return every event past each cursor,
 * once and in id order, batch after batch; on a connection that lost
 * the statement (DEALLOCATE ALL, a pool's reset) or whose statement a
 * schema change made stale, it is prepared again; and the hub, whose
 * connection is cut, reads on the new one it opens as before.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"
#include "feed.h"
#include "registry.h"
#include "harness.h"

#define WAIT_MS 15000
/* Events on logs, and one on status every STATUS_EVERY of them: more
 * than two batches of PGSSE_FETCH_BATCH. */
#define LOG_EVENTS 2500
#define STATUS_EVERY 7
/* The hub test's events before and after the cut. */
#define HUB_EVENTS 5
#define STMT "pgsse_feed_read"
#define STR(x) #x
#define XSTR(x) STR(x)

static struct h_pg	 pg;
static struct h_web	 web;

/* What a read handed over, in order. */
struct got {
	int64_t		*ids;
	int64_t		*jobs;
	int		*chans;
	size_t		 n;
	size_t		 cap;
};

static void
pg_up(void)
{
	h_pg_start(&pg, "tests/data/registry-test.json");
}

static void
pg_down(void)
{
	h_pg_stop(&pg);
}

static void
stack_up(void)
{
	pg_up();
	h_pg_load("demo/schema.sql");	/* pgsse-app serves the demo */
	h_web_start(&web, NULL);
}

static void
stack_down(void)
{
	h_web_stop(&web);
	pg_down();
}

/* Each feed test starts from an empty log. */
static void
setup(void)
{
	PGconn	*c = h_pg_connect();

	h_exec(c, "truncate pgsse.log, pgsse.channel_state");
	PQfinish(c);
}

static void teardown(void) { }

/* The read's callback: keeps the event's id and slot. */
static int
collect(struct pgsse_event *ev, void *arg)
{
	struct got	*g = arg;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 256;
		g->ids = realloc(g->ids, g->cap * sizeof(*g->ids));
		g->jobs = realloc(g->jobs, g->cap * sizeof(*g->jobs));
		g->chans = realloc(g->chans, g->cap * sizeof(*g->chans));
		ck_assert(g->ids != NULL && g->jobs != NULL &&
		    g->chans != NULL);
	}
	g->ids[g->n] = ev->id;
	g->jobs[g->n] = ev->job_id;
	g->chans[g->n++] = ev->chan;
	pgsse_event_unref(ev);
	return 0;
}

static void
got_free(struct got *g)
{
	free(g->ids);
	free(g->jobs);
	free(g->chans);
	memset(g, 0, sizeof(*g));
}

/* Returns reg's slot of channel name. */
static int
slot(const struct pgsse_registry *reg, const char *name)
{
	const struct pgsse_channel	*ch = pgsse_registry_channel(reg, name);

	ck_assert_ptr_nonnull(ch);
	return (int)(ch - reg->channels);
}

/* Publishes LOG_EVENTS on logs with one on status every STATUS_EVERY. */
static void
publish_mixed(PGconn *c)
{
	h_exec(c, "select case when g % " XSTR(STATUS_EVERY) " = 0 then "
	    "pgsse.publish('status', 'system_status', jsonb_build_object("
	    "'status', 'ok', 'uptime', g)) end, pgsse.publish('logs', 'log', "
	    "jsonb_build_object('source', 'feed', 'line', g::text)) from "
	    "generate_series(1, " XSTR(LOG_EVENTS) ") g");
}

/*
 * A test's connection, the registry read over it, the slots of logs and
 * status, their cursors and what the last read handed over.
 */
struct two {
	PGconn			*c;
	struct pgsse_buf	 err;
	struct pgsse_registry	*reg;
	int			 chans[2];
	int64_t			 after[2];
	struct got		 g;
};

/* Connects t, cursors at 0, and publishes the mixed events. */
static void
two_open(struct two *t)
{
	memset(t, 0, sizeof(*t));
	t->c = h_pg_connect();
	t->reg = pgsse_registry_load(t->c, &t->err);
	ck_assert_ptr_nonnull(t->reg);
	t->chans[0] = slot(t->reg, "logs");
	t->chans[1] = slot(t->reg, "status");
	publish_mixed(t->c);
}

static void
two_close(struct two *t)
{
	got_free(&t->g);
	pgsse_registry_free(t->reg);
	pgsse_buf_free(&t->err);
	PQfinish(t->c);
}

/* Moves t's cursors to the nlogs-th event of logs and the nstatus-th of
 * status. */
static void
two_from(struct two *t, int nlogs, int nstatus)
{
	char	 sql[128];

	snprintf(sql, sizeof(sql), "select id from pgsse.log where channel = "
	    "'logs' order by id offset %d limit 1", nlogs - 1);
	t->after[0] = h_pg_scalar(t->c, sql);
	snprintf(sql, sizeof(sql), "select id from pgsse.log where channel = "
	    "'status' order by id offset %d limit 1", nstatus - 1);
	t->after[1] = h_pg_scalar(t->c, sql);
}

/*
 * Reads logs and status past t's cursors, and checks that it got
 * exactly the events past them, in id order, each once.
 */
static void
two_read(struct two *t)
{
	const struct got	*g = &t->g;
	char			 sql[256];
	size_t			 i;

	got_free(&t->g);
	ck_assert_int_eq(pgsse_feed_fetch(t->c, t->reg, t->chans, t->after, 2,
	    0, NULL, collect, &t->g), PGSSE_OK);
	snprintf(sql, sizeof(sql), "select count(*) from pgsse.log where "
	    "(channel = 'logs' and id > %" PRId64 ") or (channel = 'status' "
	    "and id > %" PRId64 ")", t->after[0], t->after[1]);
	ck_assert_uint_eq(g->n, (size_t)h_pg_scalar(t->c, sql));
	for (i = 0; i < g->n; i++) {
		if (i > 0)
			ck_assert_int_gt(g->ids[i], g->ids[i - 1]);
		ck_assert(g->chans[i] == t->chans[0] ||
		    g->chans[i] == t->chans[1]);
		ck_assert_int_gt(g->ids[i], t->after[g->chans[i] ==
		    t->chans[0] ? 0 : 1]);
	}
}

/* Returns how many statements named STMT c has prepared. */
static int64_t
prepared(PGconn *c)
{
	return h_pg_scalar(c, "select count(*) from pg_prepared_statements "
	    "where name = '" STMT "'");
}

/* Every event past the cursors, in order, once: batch after batch. */
START_TEST(feed_reads_in_order)
{
	struct two	 t;

	two_open(&t);
	two_read(&t);
	ck_assert_uint_gt(t.g.n, PGSSE_FETCH_BATCH * 2);
	ck_assert_int_eq(prepared(t.c), 1);
	two_from(&t, 1200, 10);
	two_read(&t);
	two_close(&t);
}
END_TEST

/*
 * The hub's connection runs the read's generic plan (hub.c), made for
 * any cursors and user: it reads the same events as the custom plans.
 */
START_TEST(feed_generic_plan)
{
	struct two	 t;

	two_open(&t);
	h_exec(t.c, "set plan_cache_mode = force_generic_plan");
	two_read(&t);
	two_from(&t, 2001, 101);
	two_read(&t);
	/* Three batches, then one. */
	ck_assert_int_eq(h_pg_scalar(t.c, "select generic_plans from "
	    "pg_prepared_statements where name = '" STMT "'"), 4);
	ck_assert_int_eq(h_pg_scalar(t.c, "select custom_plans from "
	    "pg_prepared_statements where name = '" STMT "'"), 0);
	two_close(&t);
}
END_TEST

/* A connection whose statement went (a pool's reset) prepares it again. */
START_TEST(feed_prepares_again_when_gone)
{
	struct two	 t;

	two_open(&t);
	two_read(&t);
	ck_assert_int_eq(prepared(t.c), 1);
	h_exec(t.c, "deallocate all");
	ck_assert_int_eq(prepared(t.c), 0);
	two_read(&t);
	ck_assert_int_eq(prepared(t.c), 1);
	two_close(&t);
}
END_TEST

/*
 * A schema change that changes a column the read returns (the event's
 * type) makes the prepared read fail ("cached plan must not change
 * result type"): it is dropped and prepared again.
 */
START_TEST(feed_prepares_again_when_changed)
{
	struct two	 t;
	PGconn		*d = h_pg_connect();

	two_open(&t);
	two_read(&t);
	h_exec(d, "alter table pgsse.log alter column event type "
	    "varchar(200)");
	two_read(&t);
	ck_assert_int_eq(prepared(t.c), 1);
	h_exec(d, "alter table pgsse.log alter column event type text");
	two_close(&t);
	PQfinish(d);
}
END_TEST

/* A reader's user, and a per-job read (not prepared), still filter. */
START_TEST(feed_user_and_job)
{
	PGconn			*c = h_pg_connect();
	struct pgsse_buf	 err = { NULL, 0, 0 };
	struct pgsse_registry	*reg = pgsse_registry_load(c, &err);
	struct got		 g = { NULL, NULL, NULL, 0, 0 };
	int			 chans[1];
	int64_t			 after[1] = { 0 }, mine[2];
	size_t			 i;

	ck_assert_ptr_nonnull(reg);
	chans[0] = slot(reg, "logs");
	h_exec(c, "select pgsse.publish('logs', 'log', '{\"source\": \"a\", "
	    "\"line\": \"u2\"}', 'u2') from generate_series(1, 3)");
	mine[0] = h_pg_scalar(c, "select pgsse.publish('logs', 'log', "
	    "'{\"source\": \"a\", \"line\": \"u1\"}', 'u1')");
	mine[1] = h_pg_scalar(c, "select pgsse.publish('logs', 'log', "
	    "'{\"source\": \"a\", \"line\": \"all\"}')");
	ck_assert_int_eq(pgsse_feed_fetch(c, reg, chans, after, 1, 0, "u1",
	    collect, &g), PGSSE_OK);
	ck_assert_uint_eq(g.n, 2);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(g.ids[i], mine[i]);
	got_free(&g);
	ck_assert_int_eq(pgsse_feed_fetch(c, reg, chans, after, 1, 0, NULL,
	    collect, &g), PGSSE_OK);
	ck_assert_uint_eq(g.n, 5);
	got_free(&g);
	chans[0] = slot(reg, "job");
	h_exec(c, "select pgsse.publish('job', 'progress', jsonb_build_object("
	    "'job_id', g % 3, 'percent', g, 'step', 's')) from "
	    "generate_series(1, 30) g");
	ck_assert_int_eq(pgsse_feed_fetch(c, reg, chans, after, 1, 2, NULL,
	    collect, &g), PGSSE_OK);
	ck_assert_uint_eq(g.n, 10);
	for (i = 0; i < g.n; i++) {
		ck_assert_int_eq(g.jobs[i], 2);
		if (i > 0)
			ck_assert_int_gt(g.ids[i], g.ids[i - 1]);
	}
	got_free(&g);
	pgsse_registry_free(reg);
	pgsse_buf_free(&err);
	PQfinish(c);
}
END_TEST

/*
 * The hub's connection (and the pool's) is cut: the hub opens a new
 * one, which has no prepared read, and must still hand out every event
 * once and in order; a resume then replays on a new pooled connection.
 */
START_TEST(feed_hub_reads_after_reconnect)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s = h_sse_connect(web.port, "/api/sse/status", NULL);
	char		 json[64], last[32];
	long		 was;
	int		 i;

	for (i = 0; i < HUB_EVENTS; i++) {
		snprintf(json, sizeof(json), "{\"status\":\"a\",\"uptime\":%d}",
		    i);
		h_publish(c, "status", "system_status", json);
	}
	ck_assert_int_eq(h_sse_wait(s, HUB_EVENTS, WAIT_MS), HUB_EVENTS);
	snprintf(last, sizeof(last), "%s", s->msgs[HUB_EVENTS - 1].id);
	was = h_health(web.port, "db_connects");
	ck_assert_int_ge(was, 1);
	ck_assert_int_ge(h_pg_scalar(c, "select count(pg_terminate_backend(pid)) "
	    "from pg_stat_activity where usename = 'pgsse_stream'"), 1);
	ck_assert_int_eq(h_health_wait(web.port, "db_connects", was + 1,
	    WAIT_MS), was + 1);
	for (i = HUB_EVENTS; i < 2 * HUB_EVENTS; i++) {
		snprintf(json, sizeof(json), "{\"status\":\"b\",\"uptime\":%d}",
		    i);
		h_publish(c, "status", "system_status", json);
	}
	ck_assert_int_eq(h_sse_wait(s, 2 * HUB_EVENTS, WAIT_MS),
	    2 * HUB_EVENTS);
	h_sse_wait(s, 2 * HUB_EVENTS + 1, 500);
	ck_assert_uint_eq(s->nmsgs, 2 * HUB_EVENTS);
	for (i = 1; i < 2 * HUB_EVENTS; i++)
		ck_assert_int_gt(strtoll(s->msgs[i].id, NULL, 10),
		    strtoll(s->msgs[i - 1].id, NULL, 10));
	h_sse_close(s);
	/* The replay of the second half, on a new pooled connection. */
	s = h_sse_connect(web.port, "/api/sse/status", last);
	ck_assert_int_eq(h_sse_wait(s, HUB_EVENTS, WAIT_MS), HUB_EVENTS);
	h_sse_wait(s, HUB_EVENTS + 1, 500);
	ck_assert_uint_eq(s->nmsgs, HUB_EVENTS);
	ck_assert_int_gt(strtoll(s->msgs[0].id, NULL, 10),
	    strtoll(last, NULL, 10));
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("feed");
	TCase	*tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, pg_up, pg_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, feed_reads_in_order);
	tcase_add_test(tc, feed_generic_plan);
	tcase_add_test(tc, feed_prepares_again_when_gone);
	tcase_add_test(tc, feed_prepares_again_when_changed);
	tcase_add_test(tc, feed_user_and_job);
	suite_add_tcase(s, tc);
	tc = tcase_create("hub");
	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, feed_hub_reads_after_reconnect);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
