/*
 * check_partition.c: the partitioned event log (sql/pgsse.sql). The log
 * grows a partition at a time, log_partition_rows ids each, created
 * ahead by pgsse.log_maintain(); a publish that outruns it lands in the
 * default partition, never fails. pgsse.prune() drops whole partitions
 * whose events are all past retention, keeps the newer ones, and still
 * caps each channel at retention_count; a stream resuming from an id in
 * a dropped partition gets stream_reset, as after any pruning.
 * Publishers racing across partition boundaries lose nothing.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "harness.h"

#define WAIT_MS 15000
/* Ids per partition in these tests (the default is 1,000,000). */
#define ROWS 10
/* The race: publishers, and single-event transactions each. */
#define RACE_PUBLISHERS 8
#define RACE_EVENTS 100
#define LINE "{\"source\":\"t\",\"line\":\"l\"}"
#define STR(x) #x
#define XSTR(x) STR(x)

static struct h_pg	 pg;
static struct h_web	 web;

static void
stack_up(void)
{
	h_pg_start(&pg, NULL);
	h_web_start(&web, NULL);
}

static void
stack_down(void)
{
	h_web_stop(&web);
	h_pg_stop(&pg);
}

/*
 * Each test starts from an empty log, partitions of ROWS ids, the
 * default retention, and the next id the first of a new partition
 * (the sequence jumps past every partition, the old ones go).
 */
static void
setup(void)
{
	PGconn	*c = h_pg_connect();

	h_exec(c, "truncate pgsse.log, pgsse.channel_state");
	h_exec(c, "update pgsse.settings set value = '" XSTR(ROWS) "' "
	    "where name = 'log_partition_rows'");
	h_exec(c, "update pgsse.settings set value = '100000' where name = "
	    "'retention_count'");
	h_exec(c, "update pgsse.settings set value = '24 hours' where name = "
	    "'retention_interval'");
	h_exec(c, "select setval('pgsse.log_id_seq', max(hi) - 1) from "
	    "pgsse.log_partitions()");
	h_exec(c, "select pgsse.prune()");
	h_exec(c, "select pgsse.log_maintain()");
	PQfinish(c);
}

static void teardown(void) { }

/* The id the next publish gets. */
static int64_t
next_id(PGconn *c)
{
	return h_pg_scalar(c, "select coalesce(pg_sequence_last_value("
	    "'pgsse.log_id_seq'), 0) + 1");
}

/* Says whether a range partition of the log holds id. */
static int
covered(PGconn *c, int64_t id)
{
	char	 sql[256];

	snprintf(sql, sizeof(sql), "select count(*) from "
	    "pgsse.log_partitions() where (lo is null or lo <= %" PRId64
	    ") and hi > %" PRId64, id, id);
	return h_pg_scalar(c, sql) == 1;
}

/*
 * Appends n events to channel logs, created_at age ago ('0' for now),
 * as if published then: straight into the log, ids from its sequence.
 */
static void
old_events(PGconn *c, int n, const char *age)
{
	char	 sql[512];

	snprintf(sql, sizeof(sql), "insert into pgsse.log (id, channel, "
	    "event, payload, created_at) select nextval('pgsse.log_id_seq'), "
	    "'logs', 'log', '" LINE "', now() - interval '%s' from "
	    "generate_series(1, %d)", age, n);
	h_exec(c, sql);
}

/*
 * The log is partitioned by id; each call of pgsse.log_maintain()
 * keeps a whole partition's ids ahead of the next id, so as events
 * are published the partitions follow and the default one stays empty.
 */
START_TEST(partition_grows)
{
	PGconn	*c = h_pg_connect();
	int64_t	 first, id = 0;
	int	 i, j;

	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pg_class where oid = "
	    "'pgsse.log'::regclass and relkind = 'p'"), 1);
	first = next_id(c);
	for (i = 0; i < 5; i++) {
		for (j = 0; j < ROWS; j++)
			id = h_publish(c, "logs", "log", LINE);
		h_exec(c, "select pgsse.log_maintain()");
		ck_assert_msg(covered(c, id + 1) && covered(c, id + ROWS),
		    "no partition ahead of id %" PRId64, id);
	}
	ck_assert_int_eq(id, first + 5 * ROWS - 1);
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log_default"),
	    0);
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log"), 5 * ROWS);
	ck_assert_int_ge(h_pg_scalar(c, "select count(*) from "
	    "pgsse.log_partitions() where hi - lo = " XSTR(ROWS)), 6);
	ck_assert_int_eq(h_pg_scalar(c, "select count(distinct tableoid) from "
	    "pgsse.log"), 5);
	PQfinish(c);
}
END_TEST

/*
 * Publishing past every partition never fails: the events land in the
 * default partition, and the next pgsse.log_maintain() starts the
 * partitions above them; nothing is lost or moved.
 */
START_TEST(partition_outrun)
{
	PGconn	*c = h_pg_connect();
	int64_t	 first, id = 0;
	int	 i;

	first = next_id(c);
	for (i = 0; i < 4 * ROWS; i++)
		id = h_publish(c, "logs", "log", LINE);
	ck_assert_int_ge(h_pg_scalar(c, "select count(*) from pgsse.log_default"),
	    ROWS);
	ck_assert_int_eq(h_pg_scalar(c, "select pgsse.log_maintain()") > 0, 1);
	ck_assert(covered(c, id + 1));
	for (i = 0; i < ROWS; i++)
		h_publish(c, "logs", "log", LINE);
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log"), 5 * ROWS);
	ck_assert_int_eq(h_pg_scalar(c, "select count(distinct id) from pgsse.log"),
	    5 * ROWS);
	ck_assert_int_eq(h_pg_scalar(c, "select max(id) from pgsse.log_default"),
	    id);
	ck_assert_int_eq(h_pg_scalar(c, "select min(id) from pgsse.log"), first);
	/* Within retention, the default's events stay. */
	ck_assert_int_eq(h_pg_scalar(c, "select pgsse.prune()"), 0);
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log"), 5 * ROWS);
	PQfinish(c);
}
END_TEST

/*
 * Three partitions of events two days old, then fifteen new ones: prune
 * drops the three partitions whole and keeps every newer event; the
 * channel's pruned_through is the last id dropped. retention_count
 * still caps the channel: at 5, the rest go, and so does the partition
 * it empties.
 */
START_TEST(partition_prune_drops)
{
	PGconn	*c = h_pg_connect();
	int64_t	 b, id = 0;
	char	 sql[256];
	int	 i;

	b = next_id(c);
	for (i = 0; i < 3; i++) {
		old_events(c, ROWS, "2 days");
		h_exec(c, "select pgsse.log_maintain()");
	}
	for (i = 0; i < 15; i++) {
		id = h_publish(c, "logs", "log", LINE);
		h_exec(c, "select pgsse.log_maintain()");
	}
	ck_assert_int_eq(id, b + 3 * ROWS + 14);
	snprintf(sql, sizeof(sql), "select count(*) from pgsse.log_partitions()"
	    " where lo >= %" PRId64 " and hi <= %" PRId64, b, b + 3 * ROWS);
	ck_assert_int_eq(h_pg_scalar(c, sql), 3);
	ck_assert_int_eq(h_pg_scalar(c, "select pgsse.prune()"), 3 * ROWS);
	ck_assert_int_eq(h_pg_scalar(c, sql), 0);
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log"), 15);
	ck_assert_int_eq(h_pg_scalar(c, "select min(id) from pgsse.log"),
	    b + 3 * ROWS);
	ck_assert_int_eq(h_pg_scalar(c, "select pruned_through from "
	    "pgsse.channel_state where channel = 'logs'"), b + 3 * ROWS - 1);
	ck_assert_int_eq(h_pg_scalar(c, "select pgsse.prune()"), 0);

	h_exec(c, "update pgsse.settings set value = '5' where name = "
	    "'retention_count'");
	ck_assert_int_eq(h_pg_scalar(c, "select pgsse.prune()"), 10);
	ck_assert_int_eq(h_pg_scalar(c, "select min(id) from pgsse.log"),
	    b + 3 * ROWS + 10);
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log"), 5);
	ck_assert_int_eq(h_pg_scalar(c, "select pruned_through from "
	    "pgsse.channel_state where channel = 'logs'"), b + 3 * ROWS + 9);
	ck_assert(!covered(c, b + 3 * ROWS));
	PQfinish(c);
}
END_TEST

#define OPSTATUS "{\"job_id\":1,\"kind\":\"k\",\"state\":\"queued\"}"

/*
 * One event within retention keeps its whole partition, though the
 * partition's last event (the one the index finds first) is past it:
 * the rest of that partition goes row by row, retention_count being a
 * cap. Once that event is past retention too, the partition goes.
 */
START_TEST(partition_prune_pinned)
{
	PGconn	*c = h_pg_connect();
	int64_t	 b;
	int	 i;

	b = h_publish(c, "operations", "operation_status", OPSTATUS);
	for (i = 1; i < ROWS + 5; i++) {
		h_publish(c, "logs", "log", LINE);
		h_exec(c, "select pgsse.log_maintain()");
	}
	h_exec(c, "update pgsse.settings set value = '3' where name = "
	    "'retention_count'");
	ck_assert_int_eq(h_pg_scalar(c, "select pgsse.prune()"), ROWS + 1);
	ck_assert(covered(c, b));
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log where "
	    "channel = 'operations'"), 1);
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log where "
	    "channel = 'logs'"), 3);
	for (i = 0; i < 3; i++)
		h_publish(c, "operations", "operation_status", OPSTATUS);
	ck_assert_int_eq(h_pg_scalar(c, "select pgsse.prune()"), 1);
	ck_assert(!covered(c, b));
	ck_assert_int_eq(h_pg_scalar(c, "select pruned_through from "
	    "pgsse.channel_state where channel = 'operations'"), b);
	PQfinish(c);
}
END_TEST

/*
 * Resumes a stream on logs from lastid, then publishes an event whose
 * line is line: the stream gets stream_reset, then that event.
 */
static void
resume_reset(PGconn *c, const char *lastid, const char *line)
{
	struct h_sse	*s = h_sse_connect(web.port, "/api/sse/logs", lastid);
	char		 payload[128];

	snprintf(payload, sizeof(payload),
	    "{\"source\":\"t\",\"line\":\"%s\"}", line);
	h_publish(c, "logs", "log", payload);
	ck_assert_int_ge(h_sse_wait(s, 2, WAIT_MS), 2);
	ck_assert_str_eq(s->msgs[0].event, "stream_reset");
	ck_assert_ptr_nonnull(strstr(s->msgs[s->nmsgs - 1].data, line));
	h_sse_close(s);
}

/*
 * A stream resuming from an event whose partition was dropped gets
 * stream_reset, then the new events; one resuming from the last event
 * dropped missed nothing and gets the kept events, no reset.
 */
START_TEST(partition_resume_reset)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s;
	char		 early[64], last[64];
	int		 i;

	s = h_sse_connect(web.port, "/api/sse/logs", NULL);
	for (i = 0; i < 2 * ROWS; i++) {
		h_publish(c, "logs", "log", LINE);
		h_exec(c, "select pgsse.log_maintain()");
	}
	ck_assert_int_eq(h_sse_wait(s, 2 * ROWS, WAIT_MS), 2 * ROWS);
	snprintf(early, sizeof(early), "%s", s->msgs[4].id);
	snprintf(last, sizeof(last), "%s", s->msgs[2 * ROWS - 1].id);
	h_sse_close(s);
	for (i = 0; i < 3; i++)
		h_publish(c, "logs", "log", "{\"source\":\"t\",\"line\":\"new\"}");
	h_exec(c, "select pgsse.log_maintain()");
	/* The first two partitions are past retention_count; not the
	 * third, which holds the new events. */
	h_exec(c, "update pgsse.settings set value = '3' where name = "
	    "'retention_count'");
	ck_assert_int_eq(h_pg_scalar(c, "select pgsse.prune()"), 2 * ROWS);
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log"), 3);

	resume_reset(c, early, "after");

	s = h_sse_connect(web.port, "/api/sse/logs", last);
	ck_assert_int_eq(h_sse_wait(s, 4, WAIT_MS), 4);
	for (i = 0; i < 4; i++)
		ck_assert_str_eq(s->msgs[i].event, "log");
	ck_assert_ptr_nonnull(strstr(s->msgs[0].data, "new"));
	ck_assert_ptr_nonnull(strstr(s->msgs[3].data, "after"));
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

/*
 * log_partition_rows is PGSSE_LOG_PARTITION_ROWS in a new install; a
 * value out of its bounds makes pgsse.log_maintain() raise 22023 and
 * pgsse.prune() warn, while publishes go on (to the default partition).
 */
START_TEST(partition_setting)
{
	static const char *const bad[] = { "0", "-1", "abc", "1000000001",
	    "99999999999999999999", "" };
	PGconn	*c;
	char	 sql[256];
	size_t	 i;

	ck_assert_int_eq(h_run("createdb fresh && psql -X -q -v ON_ERROR_STOP=1 "
	    "-d fresh -f %s/sql/pgsse.sql", h_srcdir()), 0);
	c = PQconnectdb("dbname=fresh");
	ck_assert_int_eq(h_pg_scalar(c, "select value::bigint from pgsse.settings "
	    "where name = 'log_partition_rows'"), PGSSE_LOG_PARTITION_ROWS);
	ck_assert_int_eq(h_pg_scalar(c, "select hi - lo from pgsse.log_partitions()"),
	    PGSSE_LOG_PARTITION_ROWS);
	PQfinish(c);
	ck_assert_int_eq(h_run("dropdb fresh"), 0);

	c = h_pg_connect();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(sql, sizeof(sql), "update pgsse.settings set value = "
		    "'%s' where name = 'log_partition_rows'", bad[i]);
		h_exec(c, sql);
		ck_assert_str_eq(h_sqlstate(c, "select pgsse.log_maintain()"),
		    "22023");
		ck_assert_str_eq(h_sqlstate(c, "select pgsse.prune()"), "");
		h_publish(c, "logs", "log", LINE);
	}
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log"),
	    (int64_t)(sizeof(bad) / sizeof(bad[0])));
	PQfinish(c);
}
END_TEST

static atomic_int race_done;
static atomic_int race_failed;

/* One racing publisher: RACE_EVENTS publishes, one per transaction. */
static void *
race_publisher(void *arg)
{
	PGconn		*c = h_pg_connect();
	PGresult	*res;
	int		 i;

	(void)arg;
	for (i = 0; i < RACE_EVENTS; i++) {
		res = PQexec(c, "select pgsse.publish('logs', 'log', "
		    "'" LINE "')");
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			fprintf(stderr, "race: %s", PQerrorMessage(c));
			atomic_fetch_add(&race_failed, 1);
		}
		PQclear(res);
	}
	PQfinish(c);
	atomic_fetch_add(&race_done, 1);
	return NULL;
}

/*
 * Eight publishers cross many partition boundaries while partitions
 * are created and pruned under them: every publish succeeds and every
 * event is in the log, once.
 */
START_TEST(partition_race)
{
	pthread_t	 t[RACE_PUBLISHERS];
	PGconn		*c = h_pg_connect();
	int64_t		 first;
	int		 i, rounds = 0;

	atomic_store(&race_done, 0);
	atomic_store(&race_failed, 0);
	first = next_id(c);
	for (i = 0; i < RACE_PUBLISHERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, race_publisher,
		    NULL), 0);
	while (atomic_load(&race_done) < RACE_PUBLISHERS) {
		h_exec(c, (rounds++ % 2) ? "select pgsse.log_maintain()" :
		    "select pgsse.prune()");
		h_exec(c, "select pg_sleep(0.005)");
	}
	for (i = 0; i < RACE_PUBLISHERS; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(atomic_load(&race_failed), 0);
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log"),
	    RACE_PUBLISHERS * RACE_EVENTS);
	ck_assert_int_eq(h_pg_scalar(c, "select count(distinct id) from pgsse.log"),
	    RACE_PUBLISHERS * RACE_EVENTS);
	ck_assert_int_ge(h_pg_scalar(c, "select min(id) from pgsse.log"), first);
	ck_assert_int_ge(h_pg_scalar(c, "select count(distinct tableoid) from "
	    "pgsse.log"), 2);
	fprintf(stderr, "partition_race: %d maintenance rounds, %" PRId64
	    " partitions hold the events, %" PRId64 " of them are in the "
	    "default partition\n", rounds, h_pg_scalar(c, "select count(distinct "
	    "tableoid) from pgsse.log"), h_pg_scalar(c, "select count(*) from "
	    "pgsse.log_default"));
	PQfinish(c);
}
END_TEST

/*
 * Partition drops meet log epochs. A channel whose events all went with
 * dropped partitions still has them in its pruned_through, so the next
 * epoch's tail for it is the last id dropped, not 0: a cursor of the
 * old epoch there resumes with nothing missed and no stream_reset, one
 * below it gets stream_reset for the pruning. The new epoch begins as
 * on a server without its mark, and the stream process meets it when
 * its connections come back.
 */
START_TEST(partition_epoch_pruned)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s;
	char		 last[64], early[64], sql[256];
	int64_t		 b, top, epoch;
	long		 conns;
	int		 i;

	epoch = h_pg_scalar(c, "select pgsse.log_epoch()");
	b = next_id(c);
	for (i = 0; i < 2; i++) {
		old_events(c, ROWS, "2 days");
		h_exec(c, "select pgsse.log_maintain()");
	}
	top = b + 2 * ROWS - 1;
	ck_assert_int_eq(h_pg_scalar(c, "select pgsse.prune()"), 2 * ROWS);
	ck_assert(!covered(c, b) && !covered(c, top));
	ck_assert_int_eq(h_pg_scalar(c, "select count(*) from pgsse.log where "
	    "channel = 'logs'"), 0);
	ck_assert_int_eq(h_pg_scalar(c, "select pruned_through from "
	    "pgsse.channel_state where channel = 'logs'"), top);

	conns = h_health(web.port, "db_connects");
	h_exec(c, "delete from pgsse.epoch_mark");
	ck_assert_int_eq(h_pg_scalar(c, "select pgsse.log_epoch()"), epoch + 1);
	snprintf(sql, sizeof(sql), "select tail from pgsse.epoch_tails where "
	    "epoch = %" PRId64 " and channel = 'logs'", epoch + 1);
	ck_assert_int_eq(h_pg_scalar(c, sql), top);
	h_exec(c, "select pg_terminate_backend(pid) from pg_stat_activity "
	    "where usename = 'pgsse_stream'");
	ck_assert_int_eq(h_health_wait(web.port, "db_connects", conns + 1,
	    WAIT_MS), conns + 1);

	if (epoch == 1) {
		snprintf(last, sizeof(last), "%" PRId64, top);
		snprintf(early, sizeof(early), "%" PRId64, b + 4);
	} else {
		snprintf(last, sizeof(last), "%" PRId64 "-%" PRId64, epoch, top);
		snprintf(early, sizeof(early), "%" PRId64 "-%" PRId64, epoch,
		    b + 4);
	}
	s = h_sse_connect_retry(web.port, "/api/sse/logs", last);
	h_publish(c, "logs", "log", "{\"source\":\"t\",\"line\":\"after\"}");
	ck_assert_int_ge(h_sse_wait(s, 1, WAIT_MS), 1);
	ck_assert_msg(strcmp(s->msgs[0].event, "log") == 0 &&
	    strstr(s->msgs[0].data, "after") != NULL, "resuming from %s: got "
	    "%s %s, expected the new event", last, s->msgs[0].event,
	    s->msgs[0].data);
	h_sse_close(s);

	resume_reset(c, early, "later");
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("partition");
	TCase	*tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, partition_grows);
	tcase_add_test(tc, partition_outrun);
	tcase_add_test(tc, partition_prune_drops);
	tcase_add_test(tc, partition_prune_pinned);
	tcase_add_test(tc, partition_resume_reset);
	tcase_add_test(tc, partition_race);
	tcase_add_test(tc, partition_setting);
	tcase_add_test(tc, partition_epoch_pruned);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
