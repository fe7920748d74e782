/*
 * check_grants.c: the roles of sql/roles.sql grant what docs/SECURITY.md
 * says, and nothing more, against a real PostgreSQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libpq-fe.h>

#include "harness.h"

static struct h_pg pg;

static void
pg_up(void)
{
	h_pg_start(&pg, NULL);
	h_pg_load("demo/schema.sql");
	h_pg_load("sql/roles.sql");
	h_pg_load("tests/data/secret.sql");
}

static void
pg_down(void)
{
	h_pg_stop(&pg);
}

static PGconn *
as(const char *role)
{
	char	 ci[128];
	PGconn	*c;

	snprintf(ci, sizeof(ci), "user=%s", role);
	c = PQconnectdb(ci);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	return c;
}

/* Returns 1 if sql succeeds as the connection's role. */
static int
allowed(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);
	int		 ok;

	ok = PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok && strstr(PQerrorMessage(c), "permission denied") == NULL)
		ck_abort_msg("%s failed for another reason: %s", sql,
		    PQerrorMessage(c));
	PQclear(res);
	return ok;
}

static const char publish[] = "select pgsse.publish('status', "
    "'system_status', '{\"status\":\"x\",\"uptime\":1}')";
static const char publish_batch[] = "select pgsse.publish_batch('status', "
    "'system_status', array['{\"status\":\"x\",\"uptime\":1}']::jsonb[])";

START_TEST(grants_web)
{
	PGconn	*c = as("pgsse_web");

	ck_assert(allowed(c, "select count(*) from pgsse.log"));
	ck_assert(allowed(c, "select * from pgsse.channels"));
	ck_assert(allowed(c, "select pg_sequence_last_value('pgsse.log_id_seq')"));
	ck_assert(allowed(c, "select * from pgsse_demo.demos"));
	ck_assert(allowed(c, "select pgsse.web_enqueue('demo_install', "
	    "'{\"demo_id\":\"todo\",\"name\":\"Todo\"}', 'demo:todo')"));
	ck_assert(!allowed(c, "select pgsse.enqueue('demo_install', "
	    "'{\"demo_id\":\"todo\"}', 'demo:todo')"));
	ck_assert(!allowed(c, publish));
	ck_assert(!allowed(c, publish_batch));
	ck_assert(!allowed(c, "insert into pgsse.log values (999, 'status', "
	    "'system_status', '{}')"));
	ck_assert(!allowed(c, "delete from pgsse.log"));
	ck_assert(!allowed(c, "update pgsse.jobs set state = 'failed'"));
	ck_assert(!allowed(c, "update pgsse_demo.demos set installed = true"));
	ck_assert(!allowed(c, "update pgsse.settings set value = '1'"));
	ck_assert(!allowed(c, "select pgsse.prune()"));
	ck_assert(!allowed(c, "select pgsse.claim('x')"));
	ck_assert(!allowed(c, "select pgsse.load_registry('{\"channels\":[]}')"));
	PQfinish(c);
}
END_TEST

START_TEST(grants_publisher)
{
	PGconn	*c = as("pgsse_publisher");

	ck_assert(allowed(c, publish));
	ck_assert(allowed(c, publish_batch));
	ck_assert(allowed(c, "select pgsse.recover()"));
	ck_assert(allowed(c, "select pgsse.prune()"));
	ck_assert(allowed(c, "select * from pgsse.claim('t')"));
	ck_assert(!allowed(c, "insert into pgsse.log values (999, 'status', "
	    "'system_status', '{}')"));
	ck_assert(!allowed(c, "delete from pgsse.log"));
	ck_assert(!allowed(c, "update pgsse.jobs set state = 'failed'"));
	ck_assert(!allowed(c, "select pgsse.load_registry('{\"channels\":[]}')"));
	ck_assert(!allowed(c, "insert into pgsse.channels values ('x', 'x')"));
	PQfinish(c);
}
END_TEST

/* Returns the number that sql, run by c, answers. */
static long
count(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);
	long		 n;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/*
 * Row-level security: the web role reads a private channel's events
 * only for a reader named in pgsse.user, so no fragment can forget the
 * check. The owner publishes one event to alice's channel "secret".
 */
START_TEST(grants_web_private_rows)
{
	PGconn	*owner = h_pg_connect(), *c = as("pgsse_web");
	static const char q[] = "select count(*) from pgsse.log where "
	    "channel = 'secret'";

	h_exec(owner, "select pgsse.publish('secret', 'note', '{}')");
	ck_assert_int_eq(count(c, q), 0);
	h_exec(c, "select set_config('pgsse.user', 'bob', false)");
	ck_assert_int_eq(count(c, q), 0);
	h_exec(c, "select set_config('pgsse.user', 'alice', false)");
	ck_assert_int_eq(count(c, q), 1);
	ck_assert_int_ge(count(c, "select count(*) from pgsse.log"), 1);
	h_exec(c, "begin");
	h_exec(c, "select set_config('pgsse.user', 'alice', true)");
	h_exec(c, "commit");
	h_exec(c, "select set_config('pgsse.user', '', false)");
	ck_assert_int_eq(count(c, q), 0);
	PQfinish(c);
	PQfinish(owner);
}
END_TEST

/*
 * The stream program's role reads every channel (it checks readers per
 * client itself) and nothing else: no enqueue, no publish, no writes.
 */
START_TEST(grants_stream)
{
	PGconn	*owner = h_pg_connect(), *c = as("pgsse_stream");

	h_exec(owner, "select pgsse.publish('secret', 'note', '{}')");
	ck_assert_int_ge(count(c, "select count(*) from pgsse.log where "
	    "channel = 'secret'"), 1);
	ck_assert(allowed(c, "select * from pgsse.channel_state"));
	ck_assert(allowed(c, "select * from pgsse.jobs"));
	ck_assert(allowed(c, "select pg_sequence_last_value('pgsse.log_id_seq')"));
	ck_assert(!allowed(c, publish));
	ck_assert(!allowed(c, publish_batch));
	ck_assert(!allowed(c, "select pgsse.enqueue('x', '{}', null)"));
	ck_assert(!allowed(c, "select * from pgsse.settings"));
	ck_assert(!allowed(c, "delete from pgsse.log"));
	ck_assert(!allowed(c, "select * from pgsse_demo.demos"));
	PQfinish(c);
	PQfinish(owner);
}
END_TEST

/*
 * The web role enqueues only the kinds an app declared for the web,
 * with exactly their declared arguments, no control characters, and a
 * cooldown and a cap per kind: past them SQLSTATE PS429 (HTTP 429).
 */
START_TEST(grants_web_enqueue_bounded)
{
	PGconn	*owner = h_pg_connect(), *c = as("pgsse_web");

	ck_assert_str_eq(h_sqlstate(c, "select pgsse.web_enqueue('rm_rf', "
	    "'{}', null)"), "22023");
	ck_assert_str_eq(h_sqlstate(c, "select pgsse.web_enqueue('demo_install',"
	    " '{\"demo_id\":\"todo\",\"name\":\"T\",\"x\":1}', null)"),
	    "22023");
	ck_assert_str_eq(h_sqlstate(c, "select pgsse.web_enqueue('demo_install',"
	    " '{\"demo_id\":1,\"name\":\"T\"}', null)"), "22023");
	ck_assert_str_eq(h_sqlstate(c, "select pgsse.web_enqueue('demo_install',"
	    " '{\"demo_id\":\"todo\",\"name\":\"a\\nPROGRESS 100 x\"}',"
	    " null)"), "22023");
	/* Once, then the same job again while it is queued. */
	ck_assert_str_eq(h_sqlstate(c, "select pgsse.web_enqueue('validation', "
	    "'{}', 'v')"), "");
	ck_assert_str_eq(h_sqlstate(c, "select pgsse.web_enqueue('validation', "
	    "'{}', 'v')"), "");
	ck_assert_int_eq(count(c, "select count(*) from pgsse.jobs where "
	    "kind = 'validation'"), 1);
	/* Finished a moment ago: too soon for another. */
	h_exec(owner, "update pgsse.jobs set state = 'succeeded', "
	    "finished_at = now() where kind = 'validation'");
	ck_assert_str_eq(h_sqlstate(c, "select pgsse.web_enqueue('validation', "
	    "'{}', 'v')"), "PS429");
	h_exec(owner, "update pgsse.jobs set created_at = now() - "
	    "interval '1 hour' where kind = 'validation'");
	ck_assert_str_eq(h_sqlstate(c, "select pgsse.web_enqueue('validation', "
	    "'{}', 'v')"), "");
	/* The cap on queued jobs of one kind, whatever the keys. */
	h_exec(owner, "update pgsse.job_kinds set max_queued = 2 where kind "
	    "= 'validation'");
	ck_assert_str_eq(h_sqlstate(c, "select pgsse.web_enqueue('validation', "
	    "'{}', 'w')"), "");
	ck_assert_str_eq(h_sqlstate(c, "select pgsse.web_enqueue('validation', "
	    "'{}', 'x')"), "PS429");
	PQfinish(c);
	PQfinish(owner);
}
END_TEST

/* Returns role's password from PGPASSFILE (static storage). */
static const char *
password_of(const char *role)
{
	static char	 pw[256];
	char		 line[512], want[128];
	FILE		*f = fopen(getenv("PGPASSFILE"), "r");

	ck_assert_ptr_nonnull(f);
	snprintf(want, sizeof(want), "*:*:*:%s:", role);
	pw[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, want, strlen(want)) == 0)
			snprintf(pw, sizeof(pw), "%.*s", (int)strcspn(line +
			    strlen(want), "\n"), line + strlen(want));
	fclose(f);
	ck_assert_msg(pw[0] != '\0', "no password for %s", role);
	return pw;
}

/*
 * The test cluster trusts nobody: over TCP every role needs the
 * cluster's generated password (scram-sha-256), so the least-privilege
 * roles mean something on a shared host.
 */
START_TEST(cluster_needs_password)
{
	static const char *const roles[] = { "pgsse", "pgsse_web",
	    "pgsse_stream", "pgsse_publisher" };
	char	 ci[256];
	PGconn	*c;
	size_t	 i;

	for (i = 0; i < sizeof(roles) / sizeof(*roles); i++) {
		snprintf(ci, sizeof(ci), "host=127.0.0.1 port=%d dbname=pgsse "
		    "user=%s passfile=/dev/null", pg.port, roles[i]);
		c = PQconnectdb(ci);
		ck_assert_msg(PQstatus(c) != CONNECTION_OK, "%s connected over "
		    "TCP with no password", roles[i]);
		PQfinish(c);
		/* With the password file that pgsse-cluster wrote. */
		snprintf(ci, sizeof(ci), "host=127.0.0.1 port=%d dbname=pgsse "
		    "user=%s", pg.port, roles[i]);
		c = PQconnectdb(ci);
		ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s: %s", roles[i],
		    PQerrorMessage(c));
		PQfinish(c);
	}
	/* One role's password is no other role's, the superuser's least. */
	for (i = 1; i < sizeof(roles) / sizeof(*roles); i++) {
		snprintf(ci, sizeof(ci), "host=127.0.0.1 port=%d dbname=pgsse "
		    "user=pgsse passfile=/dev/null password=%s", pg.port,
		    password_of(roles[i]));
		c = PQconnectdb(ci);
		ck_assert_msg(PQstatus(c) != CONNECTION_OK, "%s's password is "
		    "the superuser's", roles[i]);
		PQfinish(c);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("grants");
	TCase	*tc = tcase_create("roles");

	tcase_add_unchecked_fixture(tc, pg_up, pg_down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, grants_web);
	tcase_add_test(tc, grants_publisher);
	tcase_add_test(tc, grants_web_private_rows);
	tcase_add_test(tc, grants_stream);
	tcase_add_test(tc, grants_web_enqueue_bounded);
	tcase_add_test(tc, cluster_needs_password);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
