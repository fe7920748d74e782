/*
 * check_pump.c: lib/pump.c in process, on a socketpair whose far end
 * plays the web server's side of the FastCGI connection. A web server
 * that learns its browser left closes that connection (lighttpd, Apache)
 * or sends ABORT_REQUEST; either must release the client at once, with
 * no write of the pump's own to find out. One that sends more than a
 * request's body may hold gets the stream ended. Built with liburing,
 * the kernel's io_uring refusals are stood in for (ring_fault).
 */
#define _GNU_SOURCE		/* RTLD_NEXT */
#include <dlfcn.h>
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

#ifdef PGSSE_URING
#include <liburing.h>
#endif

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
 * Attaches a FastCGI client of request REQID, with the 13 bytes of a
 * retry: line to write, to pump; *web gets the web server's end of its
 * connection. Returns the client, which the pump owns.
 */
static struct pgsse_client *
attach_client(struct pgsse_pump *pump, int *web)
{
	struct pgsse_registry	*reg = one_channel();
	struct pgsse_client	*c;
	int			 sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = pgsse_client_new(reg);
	pgsse_registry_free(reg);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(pgsse_client_add(c, 0), PGSSE_OK);
	pgsse_client_set_conn(c, sv[0], REQID);
	pgsse_client_on_finish(c, on_finish, c);
	ck_assert_int_eq(pgsse_client_put(c, "retry: 1000\n\n", 13), PGSSE_OK);
	pgsse_pump_attach(pump, c);
	*web = sv[1];
	return c;
}

/*
 * Starts a pump and attaches one FastCGI client of request REQID to it;
 * *web gets the web server's end of the connection.
 */
static struct pgsse_pump *
pump_with_client(int *web)
{
	struct pgsse_pump	*pump;

	atomic_store(&ended, 0);
	atomic_store(&finished, 0);
	pump = pgsse_pump_start(BEAT_SEC, 0, on_replayed, on_ended, NULL);
	ck_assert_ptr_nonnull(pump);
	attach_client(pump, web);
	return pump;
}

/* Returns 1 once the pump has ended and finished n clients, or 0 after
 * WAIT_MS. */
static int
wait_released_n(int n)
{
	int	 i;

	for (i = 0; i < WAIT_MS / 10; i++) {
		if (atomic_load(&ended) == n && atomic_load(&finished) == n)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* Returns 1 once the pump has ended and finished its client, or 0 after
 * WAIT_MS. */
static int
wait_released(void)
{
	return wait_released_n(1);
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

/*
 * Writes a STDIN record with a body of len bytes (at most
 * PGSSE_FCGI_BODY_MAX) to web. Returns 0, or -1 if the pump closed the
 * connection before taking all of it.
 */
static int
send_stdin(int web, size_t len)
{
	static unsigned char	 rec[PGSSE_FCGI_HEADER + PGSSE_FCGI_BODY_MAX];
	size_t			 n = 0;
	ssize_t			 w;

	ck_assert_uint_le(len, PGSSE_FCGI_BODY_MAX);
	memset(rec, 'x', sizeof(rec));
	memset(rec, 0, PGSSE_FCGI_HEADER);
	rec[0] = PGSSE_FCGI_VERSION;
	rec[1] = PGSSE_FCGI_STDIN;
	rec[3] = REQID;
	rec[4] = (unsigned char)(len >> 8);
	rec[5] = (unsigned char)(len & 0xff);
	while (n < PGSSE_FCGI_HEADER + len) {
		if ((w = send(web, rec + n, PGSSE_FCGI_HEADER + len - n,
		    MSG_NOSIGNAL)) <= 0)
			return -1;
		n += (size_t)w;
	}
	return 0;
}

/*
 * A web server may send a request's body on a stream's connection,
 * which the pump reads and ignores, but not more than
 * PGSSE_STREAM_IN_MAX bytes: past that (a GET with a huge body, which
 * lighttpd buffers and then sends at local speed) the pump would spend
 * its time reading while every other stream waits, so the stream is
 * ended (END_REQUEST).
 */
START_TEST(pump_stdin_flood_ended)
{
	struct pgsse_pump	*pump;
	unsigned char		 buf[64];
	size_t			 left;
	int			 web, i;

	pump = pump_with_client(&web);
	ck_assert_uint_eq(read_some(web, buf, PGSSE_FCGI_HEADER + 13),
	    PGSSE_FCGI_HEADER + 13);
	for (left = PGSSE_STREAM_IN_MAX; left > 0;
	    left -= PGSSE_FCGI_HEADER + i) {
		i = left - PGSSE_FCGI_HEADER > PGSSE_FCGI_BODY_MAX ?
		    PGSSE_FCGI_BODY_MAX : (int)(left - PGSSE_FCGI_HEADER);
		ck_assert_int_eq(send_stdin(web, (size_t)i), 0);
	}
	for (i = 0; i < 20 && atomic_load(&ended) == 0; i++)
		usleep(10000);
	ck_assert_msg(atomic_load(&ended) == 0, "a body of "
	    "PGSSE_STREAM_IN_MAX bytes ended it");
	(void)send_stdin(web, 1);
	ck_assert_msg(wait_released(), "a stream sent %d bytes not ended: "
	    "ended %d, finished %d", PGSSE_STREAM_IN_MAX + PGSSE_FCGI_HEADER +
	    1, atomic_load(&ended), atomic_load(&finished));
	ck_assert_uint_eq(read_some(web, buf, 2 * PGSSE_FCGI_HEADER +
	    PGSSE_FCGI_END_BODY), 2 * PGSSE_FCGI_HEADER + PGSSE_FCGI_END_BODY);
	ck_assert_int_eq(buf[PGSSE_FCGI_HEADER + 1], PGSSE_FCGI_END_REQUEST);
	close(web);
	pgsse_pump_free(pump);
}
END_TEST

#ifdef PGSSE_URING
/*
 * What the kernel does to the pump's next io_uring submit, a fault it
 * produces only short of memory (io_uring_enter's -EAGAIN, -ENOMEM,
 * -EBUSY, or a short count): RING_REFUSE takes none of the sends,
 * RING_SHORT hides the second half of them from the kernel, as a short
 * submit leaves them, and RING_HOLD parks the pump in the call until
 * the test lets it go (ring_let_go). This program's
 * io_uring_submit_and_wait stands in for liburing's, which it calls.
 */
enum ring_fault {
	RING_PASS = 0,
	RING_REFUSE,
	RING_SHORT,
	RING_HOLD,
	RING__MAX
};
static atomic_int	 ring_fault;
static atomic_int	 ring_calls;
static pthread_mutex_t	 ring_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 ring_cond = PTHREAD_COND_INITIALIZER;
static int		 ring_held;	/* ring_lock: 1 parked, 2 let go */

int
io_uring_submit_and_wait(struct io_uring *ring, unsigned int wait_nr)
{
	static int	(*real)(struct io_uring *, unsigned int);
	struct timespec	 until;
	unsigned int	 hide;
	int		 rc;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "io_uring_submit_and_wait");
	ck_assert_ptr_nonnull(real);
	atomic_fetch_add(&ring_calls, 1);
	switch (atomic_exchange(&ring_fault, RING_PASS)) {
	case RING_REFUSE:
		return -EAGAIN;
	case RING_SHORT:
		hide = wait_nr / 2;
		ring->sq.sqe_tail -= hide;
		rc = real(ring, wait_nr - hide);
		ring->sq.sqe_tail += hide;
		return rc;
	case RING_HOLD:
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += WAIT_MS / 1000;
		pthread_mutex_lock(&ring_lock);
		ring_held = 1;
		pthread_cond_broadcast(&ring_cond);
		while (ring_held == 1 && pthread_cond_timedwait(&ring_cond,
		    &ring_lock, &until) == 0)
			continue;
		pthread_mutex_unlock(&ring_lock);
		break;
	default:
		break;
	}
	return real(ring, wait_nr);
}

/* Returns 1 if this kernel gives the process an io_uring, else 0 (the
 * pump then writes without it, and there is nothing to test). */
static int
ring_works(void)
{
	struct io_uring	 ring;

	if (io_uring_queue_init(4, &ring, 0) != 0) {
		fprintf(stderr, "no io_uring here: nothing to test\n");
		return 0;
	}
	io_uring_queue_exit(&ring);
	return 1;
}

/* Waits up to WAIT_MS for the pump to park in RING_HOLD; returns 1 if
 * it did. */
static int
ring_parked(void)
{
	int	 i, held = 0;

	for (i = 0; i < WAIT_MS / 10 && !held; i++) {
		pthread_mutex_lock(&ring_lock);
		held = ring_held == 1;
		pthread_mutex_unlock(&ring_lock);
		if (!held)
			usleep(10000);
	}
	return held;
}

/* Lets the pump parked in RING_HOLD go on. */
static void
ring_let_go(void)
{
	pthread_mutex_lock(&ring_lock);
	ring_held = 2;
	pthread_cond_broadcast(&ring_cond);
	pthread_mutex_unlock(&ring_lock);
}

/*
 * The kernel takes none of a round's sends: the pump writes them
 * without io_uring, and goes on serving (a hang-up still releases).
 */
START_TEST(pump_ring_refused)
{
	struct pgsse_pump	*pump;
	unsigned char		 buf[64];
	size_t			 n;
	int			 web;

	if (!ring_works())
		return;
	atomic_store(&ring_calls, 0);
	atomic_store(&ring_fault, RING_REFUSE);
	pump = pump_with_client(&web);
	n = read_some(web, buf, PGSSE_FCGI_HEADER + 13);
	ck_assert_int_ge(atomic_load(&ring_calls), 1);
	ck_assert_msg(n == PGSSE_FCGI_HEADER + 13, "after a refused submit "
	    "%zu of %d bytes written", n, PGSSE_FCGI_HEADER + 13);
	close(web);
	ck_assert_msg(wait_released(), "pump stuck after a refused submit");
	pgsse_pump_free(pump);
}
END_TEST

/*
 * The kernel takes one of a round's two sends: the pump waits for that
 * one only and writes the other without io_uring. The round is made
 * while the pump is parked in its first submit, so both clients are in
 * it.
 */
START_TEST(pump_ring_short)
{
	struct pgsse_pump	*pump;
	unsigned char		 buf[64];
	size_t			 n;
	int			 web[3], i;

	if (!ring_works())
		return;
	pthread_mutex_lock(&ring_lock);
	ring_held = 0;
	pthread_mutex_unlock(&ring_lock);
	atomic_store(&ring_calls, 0);
	atomic_store(&ring_fault, RING_HOLD);
	pump = pump_with_client(&web[0]);
	ck_assert_msg(ring_parked(), "the pump did not submit");
	attach_client(pump, &web[1]);
	attach_client(pump, &web[2]);
	atomic_store(&ring_fault, RING_SHORT);
	ring_let_go();
	for (i = 0; i < 3; i++) {
		n = read_some(web[i], buf, PGSSE_FCGI_HEADER + 13);
		ck_assert_msg(n == PGSSE_FCGI_HEADER + 13, "client %d: %zu of "
		    "%d bytes written after a short submit", i, n,
		    PGSSE_FCGI_HEADER + 13);
	}
	ck_assert_int_ge(atomic_load(&ring_calls), 2);
	for (i = 0; i < 3; i++)
		close(web[i]);
	ck_assert_msg(wait_released_n(3), "pump stuck after a short submit");
	pgsse_pump_free(pump);
}
END_TEST
#endif /* PGSSE_URING */

/* Pushes event id (data {"n":id}) to c. */
static void
push_event(struct pgsse_client *c, int64_t id)
{
	struct pgsse_event	*ev;
	char			 data[32];

	snprintf(data, sizeof(data), "{\"n\":%lld}", (long long)id);
	ev = pgsse_event_new(id, 0, "logs", "log", data, 0, NULL);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(pgsse_client_push(c, ev, 64), 0);
	pgsse_event_unref(ev);
}

/*
 * Events that come within the pump's wait after a round go out together
 * in its next round, in one write: one STDOUT record. The round of the
 * attach (the retry: line) is at once; the two events pushed after it,
 * BATCH_GAP_MS apart and well within BATCH_WAIT_MS, must wait for the
 * next and share it. With no wait, the first goes out on its own.
 */
#define BATCH_WAIT_MS 1000
#define BATCH_GAP_MS 100

/*
 * Starts a pump with a wait of BATCH_WAIT_MS and attaches one client,
 * whose web server end goes to *web, once its first round (the retry:
 * line) is read. Returns the pump; the client goes to *c.
 */
static struct pgsse_pump *
batch_pump(struct pgsse_client **c, int *web)
{
	struct pgsse_pump	*pump;
	unsigned char		 buf[PGSSE_FCGI_HEADER + 13];

	atomic_store(&ended, 0);
	atomic_store(&finished, 0);
	pump = pgsse_pump_start(BEAT_SEC, BATCH_WAIT_MS, on_replayed,
	    on_ended, NULL);
	ck_assert_ptr_nonnull(pump);
	*c = attach_client(pump, web);
	ck_assert_uint_eq(read_some(*web, buf, sizeof(buf)), sizeof(buf));
	return pump;
}

START_TEST(pump_batch_wait)
{
	struct pgsse_pump	*pump;
	struct pgsse_client	*c;
	unsigned char		 buf[512];
	size_t			 n, len;
	int			 web;

	pump = batch_pump(&c, &web);
	push_event(c, 1);
	usleep(BATCH_GAP_MS * 1000);
	push_event(c, 2);
	n = read_some(web, buf, PGSSE_FCGI_HEADER);
	ck_assert_uint_eq(n, PGSSE_FCGI_HEADER);
	ck_assert_int_eq(buf[1], PGSSE_FCGI_STDOUT);
	len = (size_t)buf[4] << 8 | buf[5];
	ck_assert_int_eq(buf[6], 0);	/* no padding */
	ck_assert_uint_lt(len, sizeof(buf));
	n = read_some(web, buf, len);
	ck_assert_uint_eq(n, len);
	buf[len] = '\0';
	ck_assert_msg(strstr((char *)buf, "{\"n\":1}") != NULL &&
	    strstr((char *)buf, "{\"n\":2}") != NULL, "two events %d ms "
	    "apart, within the pump's wait (%d ms), did not go out in one "
	    "record: the first was \"%s\"", BATCH_GAP_MS, BATCH_WAIT_MS, buf);
	close(web);
	ck_assert_msg(wait_released(), "pump stuck after a batch");
	pgsse_pump_free(pump);
}
END_TEST

/*
 * An event that comes more than half the pump's wait after a round's
 * start goes out at once: waiting for the rest of the wait would make it
 * late, and one more event would seldom share its round. The round of
 * the attach is at once; an event BATCH_LATE_MS after it (past half of
 * BATCH_WAIT_MS) must arrive within BATCH_WAIT_MS / 4, well before the
 * wait is over.
 */
#define BATCH_LATE_MS 600

START_TEST(pump_batch_late_event)
{
	struct pgsse_pump	*pump;
	struct pgsse_client	*c;
	struct pollfd		 pfd;
	int			 web;

	pump = batch_pump(&c, &web);
	usleep(BATCH_LATE_MS * 1000);
	push_event(c, 1);
	pfd.fd = web;
	pfd.events = POLLIN;
	pfd.revents = 0;
	ck_assert_msg(poll(&pfd, 1, BATCH_WAIT_MS / 4) == 1, "an event %d ms "
	    "after the last round, past half the pump's wait (%d ms), was "
	    "not out %d ms later: it waited for the rest of the wait",
	    BATCH_LATE_MS, BATCH_WAIT_MS, BATCH_WAIT_MS / 4);
	close(web);
	ck_assert_msg(wait_released(), "pump stuck after a late event");
	pgsse_pump_free(pump);
}
END_TEST

/*
 * The hub holds the pump's bell while it hands an event to every
 * subscriber (pgsse_pump_hold), so that after a quiet spell the pump
 * serves them all in one round: not the first at once and the others
 * the pump's wait later. Two clients get an event BATCH_GAP_MS apart
 * under one hold: the second's must come within half the wait of the
 * first's, that is in the same round.
 */
START_TEST(pump_hold_one_round)
{
	struct pgsse_pump	*pump;
	struct pgsse_client	*c[2];
	struct pollfd		 pfd;
	unsigned char		 buf[512];
	int			 web[2], i;

	atomic_store(&ended, 0);
	atomic_store(&finished, 0);
	pump = pgsse_pump_start(BEAT_SEC, BATCH_WAIT_MS, on_replayed,
	    on_ended, NULL);
	ck_assert_ptr_nonnull(pump);
	for (i = 0; i < 2; i++)
		c[i] = attach_client(pump, &web[i]);
	for (i = 0; i < 2; i++)
		ck_assert_uint_eq(read_some(web[i], buf, PGSSE_FCGI_HEADER + 13),
		    PGSSE_FCGI_HEADER + 13);
	usleep((BATCH_WAIT_MS + BATCH_GAP_MS) * 1000);	/* a quiet spell */
	pgsse_pump_hold(pump);
	push_event(c[0], 1);
	usleep(BATCH_GAP_MS * 1000);
	push_event(c[1], 1);
	pgsse_pump_release(pump);
	ck_assert_uint_eq(read_some(web[0], buf, PGSSE_FCGI_HEADER),
	    PGSSE_FCGI_HEADER);
	pfd.fd = web[1];
	pfd.events = POLLIN;
	pfd.revents = 0;
	ck_assert_msg(poll(&pfd, 1, BATCH_WAIT_MS / 2) == 1, "the second "
	    "subscriber of an event handed out under one hold was not served "
	    "in the first's round: nothing for it %d ms after the first's",
	    BATCH_WAIT_MS / 2);
	for (i = 0; i < 2; i++)
		close(web[i]);
	ck_assert_msg(wait_released_n(2), "pump stuck after a hold");
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
	tcase_add_test(tc, pump_stdin_flood_ended);
	tcase_add_test(tc, pump_batch_wait);
	tcase_add_test(tc, pump_batch_late_event);
	tcase_add_test(tc, pump_hold_one_round);
	suite_add_tcase(s, tc);
#ifdef PGSSE_URING
	tc = tcase_create("ring");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pump_ring_refused);
	tcase_add_test(tc, pump_ring_short);
	suite_add_tcase(s, tc);
#endif
	tc = tcase_create("web");
	tcase_add_unchecked_fixture(tc, web_up, web_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, pump_departed_within_two_beats);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
