/*
 * check_streamconn.c: pgsse-stream's FastCGI connections, as a web
 * server (or a stranger that can reach the socket) makes them, over
 * TCP with FCGI_WEB_SERVER_ADDRS set (listen.c, accept.c):
 *  - a peer not in the list is closed unanswered, one in it is served;
 *  - peers that send nothing, or half a record, hold no one else
 *    (accept.c): they wait PGSSE_STREAM_READ_TIMEOUT_SEC at most,
 *    PGSSE_STREAM_PENDING_MAX of them at most;
 *  - a stream starts once its parameters are in: a body that trickles
 *    in holds neither it nor the acceptor, and an ABORT_REQUEST in the
 *    same read as the request's end ends it;
 *  - a role other than RESPONDER, and an aborted request, end with
 *    END_REQUEST and no answer, as pgsse-app ends them (libfcgi served
 *    every role as a responder);
 *  - a stream still starts, its headers in its first records;
 *  - FCGI_GET_VALUES is answered, as libfcgi answered it;
 *  - a request that lighttpd sends again on one connection, after what
 *    it had queued for a failed one, starts its stream.
 */
#define _GNU_SOURCE		/* memmem */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "pgsse.h"
#include "harness.h"
#include "fcgiparse.h"

/* Seconds to wait for an answer that must come. */
#define SC_WAIT_SEC 20
/* Seconds within which an answer must come while others wait. */
#define SC_QUICK_SEC 2
/* The allowed web server; 127.0.0.1 is not in the list. */
#define SC_WEB "127.0.0.2"

static struct h_pg	 pg;
static pid_t		 stream_pid;
static int		 stream_port;

/* Starts the cluster and pgsse-stream on a TCP port of its own. */
static void
stack_up(void)
{
	char	 bin[600], port[16];
	int	 i, fd;

	h_pg_start(&pg, "tests/data/registry-test.json");
	stream_port = h_free_port();
	snprintf(bin, sizeof(bin), "%s/pgsse-stream", h_cgibin());
	snprintf(port, sizeof(port), "127.0.0.1:%d", stream_port);
	if ((stream_pid = fork()) == 0) {
		setenv("PGUSER", "pgsse_stream", 1);
		setenv("FCGI_WEB_SERVER_ADDRS", SC_WEB, 1);
		execl(bin, bin, "--socket", port, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(stream_pid, 0);
	for (i = 0; i < 200; i++) {
		if ((fd = h_connect_from(SC_WEB, stream_port)) >= 0) {
			close(fd);
			return;
		}
		usleep(50000);
	}
	ck_abort_msg("pgsse-stream did not listen on port %d", stream_port);
}

static void
stack_down(void)
{
	int	 st;

	kill(stream_pid, SIGTERM);
	waitpid(stream_pid, &st, 0);
	h_pg_stop(&pg);
}

/*
 * Appends request 1 for uri to o: BEGIN_REQUEST in role, then its
 * PARAMS (GET uri), then, unless body is NULL, len bytes of STDIN,
 * ended with the empty record only if end is set (if not, the
 * parameters declare a longer body, as a web server's would).
 */
static void
sc_request(struct fcgi_out *o, int role, const char *uri, const char *body,
    size_t len, int end)
{
	unsigned char		 begin[8] = { 0, (unsigned char)role };
	struct fcgi_out		 p;

	memset(&p, 0, sizeof(p));
	fcgi_put_pair(&p, "REQUEST_METHOD", 14, "GET", 3, 0);
	fcgi_put_pair(&p, "REQUEST_URI", 11, uri, strlen(uri), 0);
	fcgi_put_pair(&p, "HTTP_HOST", 9, "localhost", 9, 0);
	if (body != NULL && !end)	/* a body that is still coming */
		fcgi_put_pair(&p, "CONTENT_LENGTH", 14, "1000000", 7, 0);
	fcgi_put_record(o, 1, 1, begin, sizeof(begin), 0);
	fcgi_put_stream(o, 4, 1, p.p, p.len);
	fcgi_out_free(&p);
	if (body != NULL && end)
		fcgi_put_stream(o, 5, 1, body, len);
	else if (body != NULL) {
		for (; len > 60000; len -= 60000, body += 60000)
			fcgi_put_record(o, 5, 1, body, 60000, 0);
		fcgi_put_record(o, 5, 1, body, len, 0);
	}
	ck_assert(!o->failed);
}

/*
 * Writes the n bytes at p on fd, as far as the peer takes them within
 * SC_WAIT_SEC (a server that stopped reading takes fewer).
 */
static void
sc_write(int fd, const unsigned char *p, size_t n)
{
	struct timeval	 tv = { SC_WAIT_SEC, 0 };
	ssize_t		 w;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n > 0 && (w = send(fd, p, n, MSG_NOSIGNAL)) > 0) {
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Reads what the server sends on fd till it closes, or secs pass, or
 * max bytes came. Returns how many bytes are at b.
 */
static size_t
sc_read(int fd, unsigned char *b, size_t max, int secs)
{
	struct timeval	 tv = { 1, 0 };
	time_t		 end = time(NULL) + secs;
	size_t		 got = 0;
	ssize_t		 k;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < max && time(NULL) < end) {
		if ((k = read(fd, b + got, max - got)) > 0)
			got += (size_t)k;
		else if (k == 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	return got;
}

/*
 * Sends the request in o from src and reads the whole answer into r
 * (free r->out). Returns 0 if it is a complete response, else -1.
 */
static int
sc_exchange(const char *src, const struct fcgi_out *o, struct fcgi_resp *r,
    int secs)
{
	static unsigned char	 b[1 << 16];
	const char		*why = NULL;
	size_t			 got;
	int			 fd;

	ck_assert_int_ge(fd = h_connect_from(src, stream_port), 0);
	sc_write(fd, o->p, o->len);
	got = sc_read(fd, b, sizeof(b), secs);
	close(fd);
	return fcgi_read_response(b, got, 1, r, &why);
}

/* Returns 1 if GET /api/sse-health from src is answered 200 in secs. */
static int
sc_health(const char *src, int secs)
{
	struct fcgi_out		 o;
	struct fcgi_resp	 r;
	int			 ok;

	memset(&o, 0, sizeof(o));
	sc_request(&o, 1, "/api/sse-health", "", 0, 1);
	ok = sc_exchange(src, &o, &r, secs) == 0 && r.out != NULL &&
	    strncmp(r.out, "Status: 200 OK\r\n", 16) == 0;
	free(r.out);
	fcgi_out_free(&o);
	return ok;
}

/*
 * Opens GET /api/sse/logs from SC_WEB with the body of len bytes at
 * body (its end sent if end is set). Returns the connection.
 */
static int
sc_stream_open(const char *body, size_t len, int end)
{
	struct fcgi_out		 o;
	int			 fd;

	memset(&o, 0, sizeof(o));
	sc_request(&o, 1, "/api/sse/logs", body, len, end);
	ck_assert_int_ge(fd = h_connect_from(SC_WEB, stream_port), 0);
	sc_write(fd, o.p, o.len);
	fcgi_out_free(&o);
	return fd;
}

/*
 * Returns 1 if a stream's start (a STDOUT record with the event-stream
 * headers) comes on fd within secs, else 0; the stream stays open, so
 * it reads for secs. Closes fd.
 */
static int
sc_stream_started(int fd, int secs)
{
	unsigned char	 b[4096];
	size_t		 got;

	got = sc_read(fd, b, sizeof(b), secs);
	close(fd);
	return got > 8 && b[1] == 6 && memmem(b, got,
	    "Content-Type: text/event-stream\r\n", 33) != NULL;
}

/*
 * FCGI_WEB_SERVER_ADDRS holds on pgsse-stream's TCP socket: a peer not
 * in it is closed with no answer, one in it is served.
 */
START_TEST(streamconn_peers)
{
	ck_assert_msg(!sc_health("127.0.0.1", 5), "a peer (127.0.0.1) not in "
	    "FCGI_WEB_SERVER_ADDRS=" SC_WEB " got an answer");
	ck_assert_msg(sc_health(SC_WEB, SC_WAIT_SEC), "no answer to a peer "
	    "in FCGI_WEB_SERVER_ADDRS");
}
END_TEST

/*
 * Peers that connect and send nothing, or half a record header, hold
 * no one else: with SC_SILENT of them waiting, a request on another
 * connection is answered within SC_QUICK_SEC; they are closed after
 * PGSSE_STREAM_READ_TIMEOUT_SEC, with nothing sent.
 */
#define SC_SILENT 4

START_TEST(streamconn_silent_peer)
{
	unsigned char	 b[64];
	int		 fd[SC_SILENT], i;

	for (i = 0; i < SC_SILENT; i++) {
		ck_assert_int_ge(fd[i] = h_connect_from(SC_WEB, stream_port),
		    0);
		if (i % 2)
			ck_assert_int_eq(write(fd[i], "\001\001\000", 3), 3);
	}
	usleep(200000);		/* the acceptor has them */
	ck_assert_msg(sc_health(SC_WEB, SC_QUICK_SEC), "no answer within %d s "
	    "while %d peers sent nothing whole: they hold the acceptor",
	    SC_QUICK_SEC, SC_SILENT);
	for (i = 0; i < SC_SILENT; i++) {
		ck_assert_msg(sc_read(fd[i], b, sizeof(b),
		    PGSSE_STREAM_READ_TIMEOUT_SEC + 3) == 0, "silent peer %d "
		    "got bytes", i);
		close(fd[i]);
	}
}
END_TEST

/*
 * At most PGSSE_STREAM_PENDING_MAX connections wait for their requests:
 * one more closes the oldest at once, long before its read timeout, and
 * a request is still answered.
 */
START_TEST(streamconn_pending_max)
{
	unsigned char	 b[64];
	int		 fd[PGSSE_STREAM_PENDING_MAX + 1], i, rc;

	for (i = 0; i <= PGSSE_STREAM_PENDING_MAX; i++) {
		ck_assert_int_ge(fd[i] = h_connect_from(SC_WEB, stream_port),
		    0);
		if (i == 0)
			usleep(100000);	/* the oldest, surely */
	}
	rc = (int)sc_read(fd[0], b, sizeof(b), SC_QUICK_SEC);
	ck_assert_msg(rc == 0 && sc_health(SC_WEB, SC_QUICK_SEC), "with %d "
	    "connections silent, the oldest was not closed within %d s, or "
	    "a request was not answered", PGSSE_STREAM_PENDING_MAX + 1,
	    SC_QUICK_SEC);
	ck_assert_msg(read(fd[0], b, 1) == 0, "the oldest silent connection "
	    "is still open %d s after there were %d", SC_QUICK_SEC,
	    PGSSE_STREAM_PENDING_MAX + 1);
	for (i = 0; i <= PGSSE_STREAM_PENDING_MAX; i++)
		close(fd[i]);
}
END_TEST

/*
 * A stream starts once its parameters are in, whatever follows: a body
 * that trickles in (mod_proxy_fcgi passes a browser's body on as it
 * comes) neither holds the stream's start nor the acceptor. The stream's
 * headers come at once, and a request on another connection is
 * answered within SC_QUICK_SEC, far less than
 * PGSSE_STREAM_READ_TIMEOUT_SEC.
 */
START_TEST(streamconn_trickling_body)
{
	int	 fd;

	fd = sc_stream_open("0123456789", 10, 0);
	ck_assert_msg(sc_health(SC_WEB, SC_QUICK_SEC), "no answer within %d "
	    "s while a stream request's body was still coming: it holds the "
	    "acceptor", SC_QUICK_SEC);
	ck_assert_msg(sc_stream_started(fd, SC_QUICK_SEC), "the stream did "
	    "not start within %d s of its parameters", SC_QUICK_SEC);
}
END_TEST

/*
 * An ABORT_REQUEST that comes in the same read as the end of the
 * request (the browser left at once) ends it: END_REQUEST comes, with
 * no stream left open to hold a slot till the connection closes.
 */
START_TEST(streamconn_abort_at_once)
{
	struct fcgi_out		 o;
	struct fcgi_resp	 r;

	memset(&o, 0, sizeof(o));
	sc_request(&o, 1, "/api/sse/logs", "", 0, 1);
	fcgi_put_record(&o, 2, 1, "", 0, 0);	/* ABORT_REQUEST */
	ck_assert_msg(sc_exchange(SC_WEB, &o, &r, SC_WAIT_SEC / 2) == 0,
	    "a stream aborted with its request did not end within %d s",
	    SC_WAIT_SEC / 2);
	ck_assert(r.ended);
	free(r.out);
	fcgi_out_free(&o);
}
END_TEST

/*
 * A request that declares no body is read to the end of its STDIN
 * before it is answered: answered and closed with that end unread, the
 * connection would be reset, and Apache's mod_proxy_fcgi, whose write of
 * the end then fails, answers 503 (check_deploy saw it). Its parameters
 * come first; no answer may come before the empty STDIN that follows
 * SC_GAP_MS later, and the answer must come after it.
 */
#define SC_GAP_MS 300

START_TEST(streamconn_reads_to_end)
{
	struct fcgi_out		 o, end;
	struct pollfd		 pfd;
	struct fcgi_resp	 r;
	static unsigned char	 b[1 << 16];
	const char		*why;
	int			 fd;

	memset(&o, 0, sizeof(o));
	memset(&end, 0, sizeof(end));
	sc_request(&o, 1, "/api/sse-health", NULL, 0, 0);
	fcgi_put_record(&end, 5, 1, "", 0, 0);	/* the empty STDIN */
	ck_assert_int_ge(fd = h_connect_from(SC_WEB, stream_port), 0);
	sc_write(fd, o.p, o.len);
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	ck_assert_msg(poll(&pfd, 1, SC_GAP_MS) == 0, "answered before the "
	    "end of STDIN of a request that declares no body");
	sc_write(fd, end.p, end.len);
	ck_assert_int_eq(fcgi_read_response(b, sc_read(fd, b, sizeof(b),
	    SC_WAIT_SEC), 1, &r, &why), 0);
	ck_assert_msg(r.out != NULL && strncmp(r.out, "Status: 200 OK", 14) ==
	    0, "%s", r.out ? r.out : "(none)");
	free(r.out);
	close(fd);
	fcgi_out_free(&o);
	fcgi_out_free(&end);
}
END_TEST

/*
 * A role other than RESPONDER ends with END_REQUEST, protocol status
 * FCGI_UNKNOWN_ROLE (3), and a request the server aborts before its
 * parameters are done with REQUEST_COMPLETE (0); neither is answered.
 */
START_TEST(streamconn_role_abort)
{
	struct fcgi_out		 o;
	struct fcgi_resp	 r;
	unsigned char		 begin[8] = { 0, 1 };

	memset(&o, 0, sizeof(o));
	sc_request(&o, 2, "/api/sse-health", "", 0, 1);
	ck_assert_int_eq(sc_exchange(SC_WEB, &o, &r, SC_WAIT_SEC), 0);
	ck_assert_int_eq(r.proto_status, 3);
	ck_assert_uint_eq(r.outlen, 0);
	free(r.out);
	fcgi_out_free(&o);

	memset(&o, 0, sizeof(o));
	fcgi_put_record(&o, 1, 1, begin, sizeof(begin), 0);
	fcgi_put_record(&o, 2, 1, "", 0, 0);	/* ABORT_REQUEST */
	ck_assert_int_eq(sc_exchange(SC_WEB, &o, &r, SC_WAIT_SEC), 0);
	ck_assert_int_eq(r.proto_status, 0);
	ck_assert_uint_eq(r.outlen, 0);
	free(r.out);
	fcgi_out_free(&o);
}
END_TEST

/*
 * A stream starts over a raw FastCGI connection: its first STDOUT
 * records carry the event-stream headers.
 */
START_TEST(streamconn_stream_starts)
{
	ck_assert_msg(sc_stream_started(sc_stream_open("", 0, 1), 3),
	    "no stream's start over a raw FastCGI connection");
}
END_TEST

/*
 * A web server that asks FCGI_GET_VALUES before its request gets
 * GET_VALUES_RESULT (FCGI_MPXS_CONNS "0": one request a connection at
 * a time), then its request's answer on the same connection.
 */
START_TEST(streamconn_get_values)
{
	static const unsigned char want[] = {
		1, 10, 0, 0, 0, 18, 0, 0, 15, 1, 'F', 'C', 'G', 'I', '_',
		'M', 'P', 'X', 'S', '_', 'C', 'O', 'N', 'N', 'S', '0',
	};
	static unsigned char	 b[1 << 16];
	struct fcgi_out		 o, pv;
	struct fcgi_resp	 r;
	const char		*why = NULL;
	size_t			 got;
	int			 fd;

	memset(&o, 0, sizeof(o));
	memset(&pv, 0, sizeof(pv));
	fcgi_put_pair(&pv, "FCGI_MPXS_CONNS", 15, "", 0, 0);
	fcgi_put_record(&o, 9, 0, pv.p, pv.len, 0);	/* GET_VALUES */
	sc_request(&o, 1, "/api/sse-health", "", 0, 1);
	ck_assert_int_ge(fd = h_connect_from(SC_WEB, stream_port), 0);
	sc_write(fd, o.p, o.len);
	got = sc_read(fd, b, sizeof(b), SC_WAIT_SEC);
	close(fd);
	ck_assert_msg(got >= sizeof(want) && memcmp(b, want, sizeof(want)) ==
	    0, "no GET_VALUES_RESULT with FCGI_MPXS_CONNS 0 first (%zu "
	    "bytes, type %d)", got, got > 1 ? b[1] : -1);
	ck_assert_int_eq(fcgi_read_response(b + sizeof(want),
	    got - sizeof(want), 1, &r, &why), 0);
	ck_assert_ptr_nonnull(r.out);
	ck_assert_int_eq(strncmp(r.out, "Status: 200 OK\r\n", 16), 0);
	free(r.out);
	fcgi_out_free(&pv);
	fcgi_out_free(&o);
}
END_TEST

/*
 * When lighttpd 1.4's connection for a stream fails (pgsse-stream's
 * listening queue was full, in a storm), it sends on the next one what
 * it had queued for the first (BEGIN_REQUEST and PARAMS, no STDIN) and
 * then the request whole, both of request id 1 (here the first is
 * another path, to tell which is served). The last one's stream starts;
 * it was closed unanswered, and lighttpd answered 500.
 */
START_TEST(streamconn_resent_request)
{
	struct fcgi_out		 o;
	size_t			 first;
	int			 fd;

	memset(&o, 0, sizeof(o));
	sc_request(&o, 1, "/api/sse-health", NULL, 0, 1);
	first = o.len;
	sc_request(&o, 1, "/api/sse/logs", "", 0, 1);
	ck_assert_uint_gt(o.len, first);
	ck_assert_int_ge(fd = h_connect_from(SC_WEB, stream_port), 0);
	sc_write(fd, o.p, o.len);
	fcgi_out_free(&o);
	ck_assert_msg(sc_stream_started(fd, 3), "a request sent again after "
	    "its BEGIN_REQUEST and PARAMS (lighttpd's resend) started no "
	    "stream");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("streamconn");
	TCase	*tc = tcase_create("fcgi");

	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, streamconn_peers);
	tcase_add_test(tc, streamconn_silent_peer);
	tcase_add_test(tc, streamconn_pending_max);
	tcase_add_test(tc, streamconn_trickling_body);
	tcase_add_test(tc, streamconn_abort_at_once);
	tcase_add_test(tc, streamconn_reads_to_end);
	tcase_add_test(tc, streamconn_role_abort);
	tcase_add_test(tc, streamconn_stream_starts);
	tcase_add_test(tc, streamconn_get_values);
	tcase_add_test(tc, streamconn_resent_request);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
