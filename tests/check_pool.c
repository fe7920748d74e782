/*
 * check_pool.c: lib/pool.c, the connections a stream process keeps for
 * replays, across a failover. A real primary and its synchronous
 * standby on loopback (tests/harness.c), a multi-host connection string
 * (target_session_attrs=read-write): after the primary is stopped
 * (immediate) and the standby promoted, the pooled connections to the
 * old primary are dead. The next one taken must be a working one to the
 * new primary, and a stream that resumes then must be served, not told
 * to retry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"
#include "harness.h"

/* How many connections the unit test's pool holds. */
#define POOL_N 2

static struct h_pg	 pg, standby;
static struct h_web	 web;

/* Starts the primary and its synchronous standby; the PG* environment
 * names both, so that what connects reaches whichever takes writes. */
static void
pair_up(void)
{
	char	 hosts[1200], ports[32];

	h_pg_start(&pg, "tests/data/registry-test.json");
	h_pg_standby(&standby, &pg, 1);
	snprintf(hosts, sizeof(hosts), "%s/c,%s/c", pg.dir, standby.dir);
	snprintf(ports, sizeof(ports), "%d,%d", pg.port, standby.port);
	setenv("PGHOST", hosts, 1);
	setenv("PGPORT", ports, 1);
	setenv("PGTARGETSESSIONATTRS", "read-write", 1);
}

static void
pair_down(void)
{
	h_pg_stop(&standby);
	h_pg_stop(&pg);
}

static void
stack_up(void)
{
	pair_up();
	h_web_start(&web, NULL);
}

static void
stack_down(void)
{
	h_web_stop(&web);
	pair_down();
}

/* Stops the primary as a crash does and promotes the standby. */
static void
promote_standby(void)
{
	ck_assert_int_eq(h_run("%s/bin/pgsse-cluster stop %s/c immediate",
	    h_srcdir(), pg.dir), 0);
	h_pg_promote(&standby);
}

/* Returns 1 if conn answers a query as a primary, else 0 (printing why). */
static int
on_primary(PGconn *conn)
{
	PGresult	*res = PQexec(conn, "select pg_is_in_recovery()");
	int		 ok;

	ok = PQresultStatus(res) == PGRES_TUPLES_OK &&
	    strcmp(PQgetvalue(res, 0, 0), "f") == 0;
	if (!ok)
		fprintf(stderr, "check_pool: query failed: %s",
		    PQerrorMessage(conn));
	PQclear(res);
	return ok;
}

/*
 * The pool's idle connections went to the old primary: each connection
 * taken after the failover answers, on the new primary.
 */
START_TEST(pool_after_failover)
{
	struct pgsse_pool	*p = pgsse_pool_new("", POOL_N);
	PGconn			*c[POOL_N];
	int			 i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < POOL_N; i++) {
		ck_assert_ptr_nonnull(c[i] = pgsse_pool_get(p));
		ck_assert(on_primary(c[i]));
	}
	for (i = 0; i < POOL_N; i++)
		pgsse_pool_put(p, c[i]);
	promote_standby();
	for (i = 0; i < POOL_N; i++) {
		ck_assert_ptr_nonnull(c[i] = pgsse_pool_get(p));
		ck_assert_msg(on_primary(c[i]), "connection %d taken after "
		    "the failover does not answer", i);
	}
	for (i = 0; i < POOL_N; i++)
		pgsse_pool_put(p, c[i]);
	pgsse_pool_free(p);
}
END_TEST

/*
 * A stream resuming after the failover (the replay takes a pooled
 * connection) is served at once: 200, with what was published since its
 * cursor, not turned away with Retry-After ("database unavailable").
 */
START_TEST(pool_resume_after_failover)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s;
	char		 lastid[64];

	s = h_sse_connect(web.port, "/api/sse/status", NULL);
	h_publish(c, "status", "system_status",
	    "{\"status\":\"before\",\"uptime\":1}");
	ck_assert_int_ge(h_sse_wait(s, 1, 10000), 1);
	snprintf(lastid, sizeof(lastid), "%s", s->msgs[0].id);
	h_sse_close(s);
	/* A resume: its replay leaves a connection in the pool. */
	h_sse_close(h_sse_connect(web.port, "/api/sse/status", lastid));
	PQfinish(c);

	promote_standby();
	ck_assert_int_eq(h_health_wait(web.port, "db_connects", 2, 30000), 2);
	c = h_pg_connect();
	h_publish(c, "status", "system_status",
	    "{\"status\":\"after\",\"uptime\":2}");
	s = h_sse_open(web.port, "/api/sse/status", lastid);
	ck_assert_msg(h_sse_ready(s, 10000) == 0, "resuming from %s after "
	    "the failover: turned away (status %d, eof %d), head %s", lastid,
	    s->status, s->eof, s->head);
	ck_assert_int_ge(h_sse_wait(s, 1, 10000), 1);
	ck_assert_msg(strstr(s->msgs[0].data, "\"after\"") != NULL,
	    "resumed with %s %s", s->msgs[0].event, s->msgs[0].data);
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

static Suite *
pool_suite(void)
{
	Suite	*s = suite_create("pool");
	TCase	*tc;

	tc = tcase_create("unit");
	tcase_add_checked_fixture(tc, pair_up, pair_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, pool_after_failover);
	suite_add_tcase(s, tc);
	tc = tcase_create("stream");
	tcase_add_checked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, pool_resume_after_failover);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(pool_suite());
}
