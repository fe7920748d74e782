/*
 * accept.c: accepts FastCGI connections on a listening socket and reads
 * their requests' parameters, many connections at once on one thread,
 * without blocking on any: a peer that sends nothing, or half a
 * request, holds its own place for the read timeout and nobody else's.
 *
 * A connection whose parameters are there when it is accepted (a web
 * server writes them as it connects) costs no more than the accept and
 * one read. Any other waits in an epoll set with the listening socket,
 * up to max of them; past that the oldest is closed, so that peers that
 * never send cannot fill it, and past its timeout one is closed too.
 * The reading stops at the end of the parameters: the caller gets the
 * connection, the request, and where the reader stopped, so that it
 * can read on (fcgi.c, pgsse_fcgi_in_from_req). A request that cannot
 * be served is answered here (http.c, pgsse_req_read_failed).
 */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pgsse.h"
#include "extern.h"
#include "fcgi.h"
#include "http.h"
#include "accept.h"

/* epoll events taken at once. */
#define ACCEPT_EVENTS 64
/* Bytes one read takes at most (on the acceptor's stack). */
#define ACCEPT_READ_MAX 16384
/* Longest wait for news, so that the caller looks at its stop flag. */
#define ACCEPT_TICK_MS 1000
/* Bytes read of one connection at most before its parameters are in,
 * records it skips included (a peer that keeps sending them). */
#define ACCEPT_TOTAL_MAX (PGSSE_FCGI_PARAMS_MAX + PGSSE_STREAM_IN_MAX)

/* A connection whose request is not whole yet. */
struct accept_conn {
	int			 fd;
	struct pgsse_fcgi_req	*q;
	struct timespec		 t0;	/* when it was accepted */
	size_t			 total;	/* bytes read of it */
};

struct pgsse_acceptor {
	int			 sock;	/* listening, non-blocking */
	int			 tcp;	/* sock is TCP's */
	int			 ep;	/* sock and every conn */
	int			 rsec;	/* the read timeout */
	int			 wsec;	/* each write's timeout */
	struct accept_conn	*conn;	/* max of them */
	size_t			 n, max;
	struct epoll_event	 ev[ACCEPT_EVENTS];
	int			 nev, iev;	/* taken, and handled */
	int			 burst;		/* accepted at this event */
	int			 evicted;	/* logged once */
};

/* Returns the milliseconds since t0. */
static long long
accept_ms_since(const struct timespec *t0)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)(t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Answers why q, on fd, cannot be served (pgsse_req_read_failed). The
 * caller closes fd and frees q.
 */
static void
accept_failed(int fd, struct pgsse_fcgi_req *q, enum pgsse_fcgi_req_st st)
{
	struct pgsse_buf	 out = { NULL, 0, 0 };
	struct pgsse_req	 req;

	memset(&req, 0, sizeof(req));
	req.own = q;
	req.out = &out;
	req.fd = fd;
	pgsse_req_read_failed(&req, st);
	pgsse_buf_free(&out);
}

/*
 * Returns 1 if q's parameters declare a body (CONTENT_LENGTH over 0),
 * else 0: without one, a web server ends STDIN right after them.
 */
static int
accept_body(const struct pgsse_fcgi_req *q)
{
	const char	*len = pgsse_fcgi_req_param(q, "CONTENT_LENGTH");

	return len != NULL && strtol(len, NULL, 10) != 0;
}

/*
 * Reads what fd has of q's request without waiting, and sets *in to
 * where reading stopped: to the end of its STDIN, or, for a request
 * that declares a body, to the end of its parameters (the body is not
 * waited for: the caller's reader skips it). Counts the bytes in
 * *total, ACCEPT_TOTAL_MAX at most. Returns 1 once the request is in, 0
 * if more is to come, or -1 once it was answered why not (an
 * ABORT_REQUEST right after the request counts): the caller then closes
 * fd and frees q.
 */
static int
accept_read(int fd, struct pgsse_fcgi_req *q, struct pgsse_fcgi_in *in,
    size_t *total)
{
	unsigned char		 b[ACCEPT_READ_MAX];
	enum pgsse_fcgi_req_st	 st = PGSSE_FCGI_REQ_MORE;
	size_t			 used = 0;
	ssize_t			 n = 0;

	while (st == PGSSE_FCGI_REQ_MORE && !(q->params_done &&
	    accept_body(q))) {
		if (*total > ACCEPT_TOTAL_MAX) {
			st = PGSSE_FCGI_REQ_BAD;	/* keeps sending */
			break;
		}
		n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			break;	/* closed, or broken */
		*total += (size_t)n;
		st = pgsse_fcgi_req_feed(q, b, (size_t)n, &used);
		if (pgsse_req_answer_mgmt(fd, q) == -1)
			st = PGSSE_FCGI_REQ_BAD;	/* an answer cut */
	}
	memset(in, 0, sizeof(*in));
	if (st == PGSSE_FCGI_REQ_MORE && q->params_done)	/* in STDIN */
		st = pgsse_fcgi_in_from_req(in, q) == PGSSE_FCGI_IN_ABORT ?
		    PGSSE_FCGI_REQ_ABORT : PGSSE_FCGI_REQ_OK;
	else if (st == PGSSE_FCGI_REQ_OK && used < (size_t)n &&
	    pgsse_fcgi_in_feed(in, q->reqid, b + used, (size_t)n - used) ==
	    PGSSE_FCGI_IN_ABORT)
		st = PGSSE_FCGI_REQ_ABORT;
	if (st == PGSSE_FCGI_REQ_OK)
		return 1;
	accept_failed(fd, q, st);
	return -1;
}

/* Closes the connection and frees the request of a's i-th waiting one. */
static void
accept_drop(struct pgsse_acceptor *a, size_t i, int close_it)
{
	epoll_ctl(a->ep, EPOLL_CTL_DEL, a->conn[i].fd, NULL);
	if (close_it) {
		close(a->conn[i].fd);
		pgsse_fcgi_req_free(a->conn[i].q);
		free(a->conn[i].q);
	}
	a->conn[i] = a->conn[--a->n];
}

/* Closes the waiting connections past the read timeout. */
static void
accept_expire(struct pgsse_acceptor *a)
{
	size_t	 i;

	for (i = 0; i < a->n;) {
		if (accept_ms_since(&a->conn[i].t0) < a->rsec * 1000LL) {
			i++;
			continue;
		}
		pgsse_log(PGSSE_LOG_WARN, "a FastCGI peer sent no whole request "
		    "within PGSSE_STREAM_READ_TIMEOUT_SEC: closed");
		accept_drop(a, i, 1);
	}
}

/* Returns the milliseconds to wait for news: till the next timeout. */
static int
accept_wait_ms(const struct pgsse_acceptor *a)
{
	long long	 ms = ACCEPT_TICK_MS, left;
	size_t		 i;

	for (i = 0; i < a->n; i++) {
		left = a->rsec * 1000LL - accept_ms_since(&a->conn[i].t0) + 1;
		if (left < ms)
			ms = left < 0 ? 0 : left;
	}
	return (int)ms;
}

/* Closes the oldest waiting connection, to make room for a new one. */
static void
accept_evict(struct pgsse_acceptor *a)
{
	size_t	 i, old = 0;

	for (i = 1; i < a->n; i++)
		if (a->conn[i].t0.tv_sec < a->conn[old].t0.tv_sec ||
		    (a->conn[i].t0.tv_sec == a->conn[old].t0.tv_sec &&
		    a->conn[i].t0.tv_nsec < a->conn[old].t0.tv_nsec))
			old = i;
	if (!a->evicted)
		pgsse_log(PGSSE_LOG_WARN, "more than PGSSE_STREAM_PENDING_MAX "
		    "FastCGI connections sent no whole request: the oldest is "
		    "closed for each new one (logged once)");
	a->evicted = 1;
	accept_drop(a, old, 1);
}

/*
 * Accepts one connection on a's socket and reads what it has. Returns 1
 * with *out filled if its parameters are in, 0 if it waits in the set
 * or was answered and closed, -1 if there was none to accept.
 */
static int
accept_take(struct pgsse_acceptor *a, struct pgsse_accepted *out)
{
	struct epoll_event	 ev;
	struct accept_conn	*c;
	size_t			 total = 0;
	int			 fd, r;

	if ((fd = pgsse_listen_accept(a->sock, a->tcp, 0, a->wsec)) == -1) {
		if (errno == EBADF || errno == EINVAL || errno == ENOTSOCK)
			sleep(1);	/* not a listening socket: no spin */
		return -1;
	}
	if ((out->q = calloc(1, sizeof(*out->q))) == NULL) {
		pgsse_log(PGSSE_LOG_ERROR, "a FastCGI request: out of memory");
		close(fd);
		return 0;
	}
	if ((r = accept_read(fd, out->q, &out->in, &total)) == 1) {
		out->fd = fd;
		return 1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (r == -1 || epoll_ctl(a->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		close(fd);
		pgsse_fcgi_req_free(out->q);
		free(out->q);
		return 0;
	}
	if (a->n == a->max)
		accept_evict(a);
	c = &a->conn[a->n++];
	c->fd = fd;
	c->q = out->q;
	c->total = total;
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	return 0;
}

/*
 * Reads on the waiting connection fd. Returns 1 with *out filled if its
 * parameters are now in, else 0.
 */
static int
accept_more(struct pgsse_acceptor *a, int fd, struct pgsse_accepted *out)
{
	size_t	 i;
	int	 r;

	for (i = 0; i < a->n && a->conn[i].fd != fd; i++)
		;
	if (i == a->n || (r = accept_read(fd, a->conn[i].q, &out->in,
	    &a->conn[i].total)) == 0)
		return 0;
	out->fd = fd;
	out->q = a->conn[i].q;
	accept_drop(a, i, r == -1);
	return r == 1;
}

/*
 * Makes an acceptor on the listening socket sock, which it makes
 * non-blocking: a request's reads take rsec seconds in all at most, a
 * write of its answer wsec at most (pgsse_listen_accept), and at most
 * max connections wait for their requests at once. Returns it, or NULL
 * after logging why. Free it with pgsse_acceptor_free.
 */
struct pgsse_acceptor *
pgsse_acceptor_new(int sock, int rsec, int wsec, size_t max)
{
	struct pgsse_acceptor	*a = NULL;
	struct epoll_event	 ev;
	int			 on = 1;

	if (max == 0 || (a = calloc(1, sizeof(*a))) == NULL ||
	    (a->conn = calloc(max, sizeof(*a->conn))) == NULL) {
		free(a);
		pgsse_log(PGSSE_LOG_ERROR, "acceptor: out of memory");
		return NULL;
	}
	a->sock = sock;
	a->tcp = pgsse_listen_is_tcp(sock);
	a->rsec = rsec;
	a->wsec = wsec;
	a->max = max;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = sock;
	if ((a->ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    ioctl(sock, FIONBIO, &on) == -1 ||
	    epoll_ctl(a->ep, EPOLL_CTL_ADD, sock, &ev) == -1) {
		pgsse_log(PGSSE_LOG_ERROR, "acceptor: %s", strerror(errno));
		pgsse_acceptor_free(a);
		return NULL;
	}
	return a;
}

/*
 * Waits for the next connection whose request is in, and fills *out
 * with it: its descriptor, request and reader's place, all the caller's.
 * A ready listening socket is accepted on till it has no more, or
 * ACCEPT_EVENTS were (one epoll_wait for a storm's many), then the
 * waiting ones are read. Returns 0, or -1 when a signal came, or
 * ACCEPT_TICK_MS passed, or a batch of news ended, with none (the
 * caller looks at its stop flag and calls again).
 */
int
pgsse_acceptor_next(struct pgsse_acceptor *a, struct pgsse_accepted *out)
{
	int	 fd, r, batches = 0;

	for (;;) {
		if (a->iev == a->nev) {
			if (batches++ > 0)
				return -1;
			accept_expire(a);
			a->iev = 0;
			a->nev = epoll_wait(a->ep, a->ev, ACCEPT_EVENTS,
			    accept_wait_ms(a));
			if (a->nev <= 0) {
				a->nev = 0;
				return -1;
			}
		}
		fd = a->ev[a->iev].data.fd;
		if (fd == a->sock) {	/* accepts till none is left */
			if ((r = accept_take(a, out)) == -1 ||
			    ++a->burst == ACCEPT_EVENTS) {
				a->iev++;
				a->burst = 0;
			}
			if (r == 1)
				return 0;
			continue;
		}
		a->iev++;
		if (accept_more(a, fd, out))
			return 0;
	}
}

/* Frees a and closes the connections waiting in it, not its socket. */
void
pgsse_acceptor_free(struct pgsse_acceptor *a)
{
	if (a == NULL)
		return;
	while (a->n > 0)
		accept_drop(a, a->n - 1, 1);
	if (a->ep != -1)
		close(a->ep);
	free(a->conn);
	free(a);
}
