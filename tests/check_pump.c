/*
 * check_pump.c: lib/pump.c in process, on a socketpair whose far end
 * plays the web server's side of the FastCGI connection. A web server
 * that learns its browser left closes that connection (lighttpd, Apache)
 * or sends ABORT_REQUEST; either must release the client at once, with
 * no write of the pump's own to find out.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "fcgi.h"
#include "registry.h"
#include "harness.h"

/* A heartbeat far beyond any wait here: only a hang-up can end one. */
#define BEAT_SEC 3600
#define WAIT_MS 10000
#define REQID 1

static atomic_int	 ended;		/* pump's ended callback calls */
static atomic_int	 finished;	/* the client's finish calls */

static void
on_replayed(struct pgsse_client *c, void *arg)
{
	(void)c;
	(void)arg;
}

static void
on_ended(struct pgsse_client *c, void *arg)
{
	(void)c;
	(void)arg;
	atomic_fetch_add(&ended, 1);
}

static void
on_finish(void *arg)
{
	pgsse_client_free(arg);
	atomic_fetch_add(&finished, 1);
}

/* Returns a registry of one channel; the caller frees it. */
static struct pgsse_registry *
one_channel(void)
{
	struct pgsse_buf	 err = { NULL, 0, 0 };
	struct pgsse_registry	*reg;

	reg = pgsse_registry_parse("{\"channels\": [{\"name\": \"logs\", "
	    "\"description\": \"Logs.\", \"events\": [{\"name\": \"log\", "
	    "\"description\": \"A line\", \"fields\": {}}]}]}", &err);
	ck_assert_msg(reg != NULL, "%s", err.p);
	pgsse_buf_free(&err);
	return reg;
}

/*
 * Starts a pump and attaches one FastCGI client of request REQID to it;
 * *web gets the web server's end of the connection.
 */
static struct pgsse_pump *
pump_with_client(int *web)
{
	struct pgsse_registry	*reg = one_channel();
	struct pgsse_pump	*pump;
	struct pgsse_client	*c;
	int			 sv[2];

	atomic_store(&ended, 0);
	atomic_store(&finished, 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pump = pgsse_pump_start(BEAT_SEC, on_replayed, on_ended, NULL);
	ck_assert_ptr_nonnull(pump);
	c = pgsse_client_new(reg);
	pgsse_registry_free(reg);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(pgsse_client_add(c, 0), PGSSE_OK);
	pgsse_client_set_conn(c, sv[0], REQID);
	pgsse_client_on_finish(c, on_finish, c);
	ck_assert_int_eq(pgsse_client_put(c, "retry: 1000\n\n", 13), PGSSE_OK);
	pgsse_pump_attach(pump, c);
	*web = sv[1];
	return pump;
}

/* Returns 1 once the pump has ended and finished its client, or 0 after
 * WAIT_MS. */
static int
wait_released(void)
{
	int	 i;

	for (i = 0; i < WAIT_MS / 10; i++) {
		if (atomic_load(&ended) == 1 && atomic_load(&finished) == 1)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* Reads what the pump wrote to web until want bytes are in, up to
 * WAIT_MS; returns how many bytes came. */
static size_t
read_some(int web, unsigned char *p, size_t want)
{
	struct pollfd	 pfd = { web, POLLIN, 0 };
	size_t		 n = 0;
	ssize_t		 r;

	while (n < want && poll(&pfd, 1, WAIT_MS) == 1) {
		if ((r = read(web, p + n, want - n)) <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

/* Writes the header of a record of type with a body of len zero bytes. */
static void
send_record(int web, int type, size_t len)
{
	unsigned char	 rec[PGSSE_FCGI_HEADER + 16];

	ck_assert_uint_le(len, 16);
	memset(rec, 0, sizeof(rec));
	rec[0] = PGSSE_FCGI_VERSION;
	rec[1] = (unsigned char)type;
	rec[3] = REQID;
	rec[5] = (unsigned char)len;
	ck_assert_int_eq(write(web, rec, PGSSE_FCGI_HEADER + len),
	    (ssize_t)(PGSSE_FCGI_HEADER + len));
}

/* The web server closes the connection: the client is released. */
START_TEST(pump_hangup_releases)
{
	struct pgsse_pump	*pump;
	unsigned char		 buf[64];
	int			 web;

	pump = pump_with_client(&web);
	ck_assert_uint_eq(read_some(web, buf, PGSSE_FCGI_HEADER + 13),
	    PGSSE_FCGI_HEADER + 13);
	close(web);
	ck_assert_msg(wait_released(), "closed connection not released: "
	    "ended %d, finished %d", atomic_load(&ended),
	    atomic_load(&finished));
	pgsse_pump_free(pump);
}
END_TEST

/*
 * The web server sends the rest of the request (an empty STDIN), which
 * the pump reads and ignores, then ABORT_REQUEST, keeping the connection
 * open: the pump ends the request (END_REQUEST) and releases the client.
 */
START_TEST(pump_abort_releases)
{
	struct pgsse_pump	*pump;
	unsigned char		 buf[64];
	int			 web, i;

	pump = pump_with_client(&web);
	ck_assert_uint_eq(read_some(web, buf, PGSSE_FCGI_HEADER + 13),
	    PGSSE_FCGI_HEADER + 13);
	send_record(web, 5, 0);		/* FCGI_STDIN, empty */
	for (i = 0; i < 20 && atomic_load(&ended) == 0; i++)
		usleep(10000);
	ck_assert_msg(atomic_load(&ended) == 0, "an empty STDIN ended it");
	send_record(web, 2, 0);		/* FCGI_ABORT_REQUEST */
	ck_assert_msg(wait_released(), "aborted request not released: "
	    "ended %d, finished %d", atomic_load(&ended),
	    atomic_load(&finished));
	/* The end of the request: an empty STDOUT, then END_REQUEST. */
	ck_assert_uint_eq(read_some(web, buf, 2 * PGSSE_FCGI_HEADER +
	    PGSSE_FCGI_END_BODY), 2 * PGSSE_FCGI_HEADER + PGSSE_FCGI_END_BODY);
	ck_assert_int_eq(buf[1], PGSSE_FCGI_STDOUT);
	ck_assert_int_eq(buf[PGSSE_FCGI_HEADER + 1], PGSSE_FCGI_END_REQUEST);
	close(web);
	pgsse_pump_free(pump);
}
END_TEST

/* Behind the shipped lighttpd: a stack beating every WEB_BEAT_SEC. */
#define WEB_BEAT_SEC 2

static struct h_pg	 pg;
static struct h_web	 web;

static void
web_up(void)
{
	h_pg_start(&pg, "tests/data/registry-test.json");
	h_pg_load("demo/schema.sql");	/* pgsse-app serves the demo */
	setenv("PGSSE_HEARTBEAT", "2", 1);
	h_web_start(&web, NULL);
	unsetenv("PGSSE_HEARTBEAT");
}

static void
web_down(void)
{
	h_web_stop(&web);
	h_pg_stop(&pg);
}

/*
 * A browser that leaves an idle stream is released within two
 * heartbeats: lighttpd learns of it when it writes the next heartbeat
 * (or the one after, as the first write to a closed socket succeeds),
 * then closes the FastCGI connection, which the pump sees at once.
 */
START_TEST(pump_departed_within_two_beats)
{
	struct h_sse	*s;
	struct timespec	 t0, t1;
	long		 v;

	ck_assert_int_eq(h_health_wait(web.port, "clients", 0, WAIT_MS), 0);
	s = h_sse_connect(web.port, "/api/sse/logs", NULL);
	ck_assert_int_eq(h_health_wait(web.port, "clients", 1, WAIT_MS), 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	h_sse_close(s);
	v = h_health_wait(web.port, "clients", 0, 2 * WEB_BEAT_SEC * 1000 +
	    1500);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "released after %.2f s\n", (double)(t1.tv_sec -
	    t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	ck_assert_int_eq(v, 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("pump");
	TCase	*tc = tcase_create("hangup");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pump_hangup_releases);
	tcase_add_test(tc, pump_abort_releases);
	suite_add_tcase(s, tc);
	tc = tcase_create("web");
	tcase_add_unchecked_fixture(tc, web_up, web_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, pump_departed_within_two_beats);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
