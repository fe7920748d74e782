/*
 * check_db.c: lib/db.c, the connections pgsse holds. Each is opened
 * with TCP keepalives and a TCP user timeout, so that one whose peer
 * went silent (a half-open connection: no FIN, no RST) is noticed
 * within a bound; settings the user's conninfo gives are kept.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/*
 * Opens a TCP listener on 127.0.0.1 that drops every SYN, as a host that
 * went dark does (no RST): its accept queue (backlog 0) is filled by one
 * connection nobody accepts. Returns its port; the two descriptors go
 * to fds, the caller's to close.
 */
static int
silent_host(int fds[2])
{
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fds[0] = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(fds[0], (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fds[0], 0), 0);
	ck_assert_int_eq(getsockname(fds[0], (struct sockaddr *)&sa, &len), 0);
	ck_assert_int_ge(fds[1] = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(fds[1], (struct sockaddr *)&sa, sizeof(sa)),
	    0);
	return ntohs(sa.sin_port);
}

/*
 * A multi-host conninfo whose first host went dark (a primary's machine
 * gone, SYNs unanswered) still reaches the next host: the kernel ends
 * the first attempt at the TCP user timeout and libpq goes on, so the
 * wait for the connection must outlast that timeout.
 */
START_TEST(db_next_host_past_silent_one)
{
	PGconn	*conn;
	char	 ci[128];
	int	 fds[2];

	snprintf(ci, sizeof(ci), "host=127.0.0.1,127.0.0.1 port=%d,%d "
	    "target_session_attrs=read-write", silent_host(fds), pg.port);
	conn = pgsse_db_connect(ci);
	ck_assert_msg(conn != NULL, "%s: the second host was never tried "
	    "while the first dropped every SYN", ci);
	ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
	ck_assert_int_eq(atoi(PQport(conn)), pg.port);
	pgsse_db_close(conn);
	close(fds[0]);
	close(fds[1]);
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
	tcase_add_test(tc, db_next_host_past_silent_one);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
