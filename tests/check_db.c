/*
 * check_db.c: lib/db.c, the connections pgsse holds. Each is opened
 * with TCP keepalives and a TCP user timeout, so that one whose peer
 * went silent (a half-open connection: no FIN, no RST) is noticed
 * within a bound; settings the user's conninfo gives are kept.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"
#include "harness.h"

static struct h_pg	 pg;

static void
db_up(void)
{
	h_pg_start(&pg, NULL);
}

static void
db_down(void)
{
	h_pg_stop(&pg);
}

/* Returns conn's value of option kw as a number, -1 if unset. */
static long
opt(PGconn *conn, const char *kw)
{
	PQconninfoOption	*o, *p;
	long			 v = -1;

	ck_assert_ptr_nonnull(o = PQconninfo(conn));
	for (p = o; p->keyword != NULL; p++)
		if (strcmp(p->keyword, kw) == 0 && p->val != NULL &&
		    *p->val != '\0')
			v = strtol(p->val, NULL, 10);
	PQconninfoFree(o);
	return v;
}

/* A connection opened with no settings gets keepalives and a user
 * timeout whose sum bounds a silent peer. */
START_TEST(db_keepalives_default)
{
	PGconn	*conn;
	long	 idle, intvl, cnt, user;

	ck_assert_ptr_nonnull(conn = pgsse_db_connect(""));
	ck_assert_int_eq(opt(conn, "keepalives"), 1);
	idle = opt(conn, "keepalives_idle");
	intvl = opt(conn, "keepalives_interval");
	cnt = opt(conn, "keepalives_count");
	user = opt(conn, "tcp_user_timeout");
	ck_assert_msg(idle > 0 && intvl > 0 && cnt > 0 && user > 0,
	    "keepalives_idle %ld, interval %ld, count %ld, "
	    "tcp_user_timeout %ld", idle, intvl, cnt, user);
	/* The keepalives give up no later than the user timeout. */
	ck_assert_int_le((idle + intvl * cnt) * 1000, user);
	ck_assert_int_gt(opt(conn, "connect_timeout"), 0);
	pgsse_db_close(conn);
}
END_TEST

/* What the user's conninfo sets wins, in either form. */
START_TEST(db_keepalives_user)
{
	PGconn	*conn;

	ck_assert_ptr_nonnull(conn = pgsse_db_connect("keepalives_idle=7 "
	    "tcp_user_timeout=21000"));
	ck_assert_int_eq(opt(conn, "keepalives_idle"), 7);
	ck_assert_int_eq(opt(conn, "tcp_user_timeout"), 21000);
	ck_assert_int_gt(opt(conn, "keepalives_count"), 0);
	pgsse_db_close(conn);
	ck_assert_ptr_nonnull(conn = pgsse_db_connect(
	    "postgresql:///?keepalives_interval=3"));
	ck_assert_int_eq(opt(conn, "keepalives_interval"), 3);
	ck_assert_int_gt(opt(conn, "tcp_user_timeout"), 0);
	pgsse_db_close(conn);
	ck_assert_ptr_nonnull(conn = pgsse_db_connect(NULL));
	ck_assert_int_gt(opt(conn, "tcp_user_timeout"), 0);
	pgsse_db_close(conn);
}
END_TEST

/* A malformed conninfo is refused, not crashed on. */
START_TEST(db_conninfo_bad)
{
	ck_assert_ptr_null(pgsse_db_connect("host"));
	ck_assert_ptr_null(pgsse_db_connect("keepalives_idle='"));
	ck_assert_ptr_null(pgsse_db_connect("postgresql://%zz"));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("db");
	TCase	*tc = tcase_create("keepalives");

	tcase_add_unchecked_fixture(tc, db_up, db_down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, db_keepalives_default);
	tcase_add_test(tc, db_keepalives_user);
	tcase_add_test(tc, db_conninfo_bad);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
