/*
 * check_flood.c: pgsse-stream behind the real lighttpd (shipped config)
 * under connection floods: 10,000 streams opened and dropped at once,
 * and slowloris clients that never finish their request. In every case
 * the stream process stays up, an ordinary client keeps receiving every
 * event in order, new clients still get in, and every slot comes back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "harness.h"

#define WAIT_MS 15000
/* Streams opened at once; fewer only if the descriptor limit is lower. */
#define FLOOD_STREAMS 10000
/* Streams the process serves; the rest of the flood is turned away. */
#define FLOOD_MAX_CLIENTS "2000"
/* Slowloris clients, and how long they trickle. */
#define SLOW_CLIENTS 1000
#define SLOW_SECONDS 5

static struct h_pg	 pg;
static struct h_web	 web;

static void
stack_up(void)
{
	h_pg_start(&pg, "tests/data/registry-test.json");
	h_pg_load("demo/schema.sql");	/* pgsse-app serves the demo */
	setenv("PGSSE_MAX_CLIENTS", FLOOD_MAX_CLIENTS, 1);
	setenv("PGSSE_HEARTBEAT", "1", 1);
	/* Room in lighttpd for the flood: two descriptors per stream. */
	h_web_start(&web, "server.max-fds = 20000\n"
	    "server.max-connections = 12000\n");
	unsetenv("PGSSE_MAX_CLIENTS");
	unsetenv("PGSSE_HEARTBEAT");
}

static void
stack_down(void)
{
	h_web_stop(&web);
	h_pg_stop(&pg);
}

/* Raises this process's descriptor limit; returns how many it may open. */
static int
fd_room(void)
{
	struct rlimit	 rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur > 100000 ? 100000 : (int)rl.rlim_cur;
}

/* Opens a TCP connection to port and sends the first n bytes of req. */
static int
open_raw(int port, const char *req, size_t n)
{
	int	 fd;

	if ((fd = h_connect(port)) >= 0 && write(fd, req, n) != (ssize_t)n) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Publishes n events on demos and checks that s receives exactly them,
 * in order, after what it already had.
 */
static void
publish_and_check(PGconn *c, struct h_sse *s, int n)
{
	size_t	 had = s->nmsgs;
	int64_t	 ids[64];
	int	 i;
	char	 data[64];

	ck_assert_int_le(n, 64);
	for (i = 0; i < n; i++) {
		snprintf(data, sizeof(data), "{\"demo_id\":\"f%d\","
		    "\"name\":\"F\"}", i);
		ids[i] = h_publish(c, "demos", "installed", data);
	}
	ck_assert_int_eq(h_sse_wait(s, had + (size_t)n, WAIT_MS),
	    (int)had + n);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(strtoll(s->msgs[had + (size_t)i].id, NULL, 10),
		    ids[i]);
}

static const char stream_req[] = "GET /api/sse/demos HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";

/*
 * 10,000 streams opened at once, then all dropped at once. The process
 * serves as many as it may, turns the rest away, keeps serving the
 * client that was there first, and gets every slot back.
 */
START_TEST(flood_open_and_drop)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s = h_sse_connect(web.port, "/api/sse/demos", NULL);
	long		 pid = h_health(web.port, "pid");
	int		*fds, n, i, opened = 0;

	n = fd_room() - 200;
	if (n > FLOOD_STREAMS)
		n = FLOOD_STREAMS;
	fprintf(stderr, "flood: %d streams at once\n", n);
	ck_assert_int_ge(n, 1000);
	fds = calloc((size_t)n, sizeof(*fds));
	for (i = 0; i < n; i++)
		if ((fds[i] = open_raw(web.port, stream_req,
		    sizeof(stream_req) - 1)) >= 0)
			opened++;
	ck_assert_int_eq(opened, n);
	publish_and_check(c, s, 20);
	ck_assert_int_eq(h_health_wait(web.port, "clients",
	    atol(FLOOD_MAX_CLIENTS), WAIT_MS), atol(FLOOD_MAX_CLIENTS));
	ck_assert_int_gt(h_health(web.port, "refused"), 0);
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	publish_and_check(c, s, 20);
	ck_assert_int_eq(h_health_wait(web.port, "clients", 1, WAIT_MS), 1);
	ck_assert_int_eq(h_health(web.port, "pid"), pid);
	h_sse_close(s);
	s = h_sse_connect(web.port, "/api/sse/demos", NULL);
	publish_and_check(c, s, 5);
	h_sse_close(s);
	PQfinish(c);
}
END_TEST

/*
 * Slowloris: clients that send their request a byte at a time and never
 * finish it. The stream process never sees them; a client that was
 * there keeps receiving, and a new one gets in at once.
 */
START_TEST(flood_slowloris)
{
	PGconn		*c = h_pg_connect();
	struct h_sse	*s, *late;
	size_t		 part = 20, len = sizeof(stream_req) - 1;
	int		 fds[SLOW_CLIENTS], i, t;

	/* The last test's stream is gone once a heartbeat finds it closed. */
	ck_assert_int_eq(h_health_wait(web.port, "clients", 0, WAIT_MS), 0);
	s = h_sse_connect(web.port, "/api/sse/demos", NULL);
	fd_room();
	for (i = 0; i < SLOW_CLIENTS; i++)
		ck_assert_int_ge(fds[i] = open_raw(web.port, stream_req, part),
		    0);
	for (t = 0; t < SLOW_SECONDS; t++) {
		for (i = 0; i < SLOW_CLIENTS; i++)
			if (write(fds[i], stream_req + part, 1) != 1)
				ck_abort_msg("slow client %d cut off early", i);
		part++;
		publish_and_check(c, s, 2);
		ck_assert_int_eq(h_health(web.port, "clients"), 1);
		sleep(1);
	}
	ck_assert_uint_lt(part, len - 2);	/* still unfinished */
	late = h_sse_connect(web.port, "/api/sse/demos", NULL);
	publish_and_check(c, late, 3);
	ck_assert_int_eq(h_sse_wait(s, SLOW_SECONDS * 2 + 3, WAIT_MS),
	    SLOW_SECONDS * 2 + 3);
	ck_assert_int_eq(h_health(web.port, "clients"), 2);
	for (i = 0; i < SLOW_CLIENTS; i++)
		close(fds[i]);
	h_sse_close(late);
	h_sse_close(s);
	ck_assert_int_eq(h_health_wait(web.port, "clients", 0, WAIT_MS), 0);
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("flood");
	TCase	*tc = tcase_create("flood");

	signal(SIGPIPE, SIG_IGN);
	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, flood_open_and_drop);
	tcase_add_test(tc, flood_slowloris);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
