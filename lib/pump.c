/*
 * pump.c: one thread writes every live stream.
 *
 * Dependencies. The pump is a leaf under the hub, as an event loop is
 * under its server: it knows clients (client.c), epoll and nothing of
 * the hub or the stream. Its owner (hub.c) starts it with two callbacks,
 * for a client whose replay is written and for a client it closed, and
 * the client's own owner gets it back through its finish function.
 *
 * Design. Whoever starts a stream (the acceptor for a fresh one, a
 * starter thread for a resume, a short-lived thread for a per-job
 * stream: stream.c) checks the cursors, reads the replay from the log
 * and frames the headers and the replay into the client's out buffer,
 * writing nothing, then attaches the client to the pump. From there on
 * the pump thread alone
 * writes to that client: it frames SSE text as FastCGI STDOUT records
 * (fcgi.c; plain bytes under CGI) and writes them without blocking.
 * Whatever the web server cannot take yet waits in the client's out
 * buffer, and the pump asks epoll to say when the connection is
 * writable again. epoll also watches every connection for the web
 * server's hang-up and for what it sends (pump_io): a closed connection
 * or an ABORT_REQUEST releases the client at once, not at the pump's
 * next write, and so does a request body past PGSSE_STREAM_IN_MAX. A
 * stream that is done (a per-job stream's end, a replay cut at
 * PGSSE_REPLAY_BYTES) gets the end of its request after its pending
 * output and is closed once all of it is written. An idle
 * stream therefore costs a descriptor and a few hundred bytes, not a
 * thread, and one wake-up of the pump serves every client an event
 * reached.
 *
 * Work. The hub appends events to a client's queue and, when the client
 * was not woken yet, the client wakes the pump (pump_wake): it joins
 * the pump's list and the pump's eventfd is rung. The pump swaps the
 * list for an empty one, and for each client swaps its queue for an
 * empty one, encodes everything in it into the client's out buffer.
 * Rounds start at least the pump's wait apart
 * (PGSSE_STREAM_BATCH_WAIT_MS) under load: a wake-up within half the
 * wait after a round's start is served when the wait is over, so the
 * events that come in it go out in one write per client; a later one,
 * and an event after a quiet spell, go out at once (pump_round_in). The hub holds the bell while it hands an
 * event to its subscribers (pgsse_pump_hold), so that such a round has
 * them all, not the first few with the rest a wait later. Under load
 * several events go out in one write. Built with liburing,
 * the pump then hands the writes of every client it served in the round
 * to io_uring, PUMP_RING in one system call (pump_write_batch); without
 * it, or where the kernel refuses io_uring (at the start, or any of a
 * batch's sends later: pump_ring_send), it writes each client with a
 * send of its own.
 *
 * Locking: see client.c. The pump takes each lock alone; its list of
 * woken clients is under pump->lock, and everything else here (the
 * by-descriptor table with each client's epoll registration and write
 * times) is the pump thread's alone.
 *
 * Figures. The pump counts what it frames for clients, per registry
 * slot, and how long each logged event took from its publish to the
 * start of the round that framed it (one clock read a round: one a
 * client cost 9% of the pump's CPU at 400 events/s), under
 * pump->statlock, a leaf lock that the metrics page takes to copy them
 * (pgsse_pump_stats); its walk samples the out buffers'
 * unwritten bytes into two atomics.
 *
 * Time. Once a second the pump walks its clients: a heartbeat to those
 * idle for the heartbeat interval, and the end for those whose pending
 * output has not moved for PGSSE_WRITE_TIMEOUT_SEC. The heartbeat is an
 * event, PGSSE_HEARTBEAT_EVENT with no id, not a comment: EventSource
 * shows no comment to a page, and the page's watchdog (sse-manager.js)
 * must see the stream alive. It is framed once per walk, not per client.
 * What it costs: at 9,000 idle streams and the default 15 s, 600
 * heartbeats a second, pgsse-stream spent 1.7 ms of CPU a second (0.2%
 * of a core, about 3 us a heartbeat) and lighttpd, which reads and
 * writes each one, 7.8 ms (docs/ARCHITECTURE.md). The
 * heartbeat is also how a departed client is found behind lighttpd and
 * Apache, which learn that a browser left only when they write to it:
 * within two heartbeats they close the FastCGI connection, which the
 * pump sees at once (pump_io).
 *
 * Replays. A resume's thread hands the client over holding its share
 * of the hub's replay budget (hub.c) for the bytes it framed; the pump
 * tells its owner once they are all written, or when it closes the
 * client, and the owner gives the share back. Until then the out buffer
 * keeps its size, so the share is given back whole, not as the bytes
 * go.
 */
#include <pthread.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef PGSSE_URING
#include <liburing.h>
#endif

#include "pgsse.h"
#include "extern.h"
#include "client.h"
#include "fcgi.h"
#include "feed.h"
#include "metrics.h"

/* Milliseconds the pump sleeps at most: the heartbeat walk's period. */
#define PUMP_TICK_MS 1000
/* Epoll events taken per wait. */
#define PUMP_EVENTS 256
/* Clients closed after which the pump gives the memory freed back to
 * the system (malloc_trim) once a walk finds no close since the last
 * one, or at once past PUMP_TRIM_CLOSES_MAX. */
#define PUMP_TRIM_CLOSES 256
#define PUMP_TRIM_CLOSES_MAX 8192
/* Writes handed to io_uring in one call at most (its ring's size). */
#define PUMP_RING 256
/* Bytes the pump reads at once of what a web server sends. */
#define PUMP_READ 512
/* Queue arrays longer than this are freed once served, so a burst does
 * not leave every client holding its peak. */
#define PUMP_KEEP_QUEUE 64

/* Upper bounds, in seconds, of the publish-to-send histogram. */
static const double pump_lag_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10, 30,
};

/* An attached client's place in the by-descriptor table. */
struct pump_slot {
	struct pgsse_client	*c;		/* NULL: free */
	struct pgsse_fcgi_in	 in;		/* what the web server sends */
	size_t			 inbytes;	/* of it read so far */
	uint32_t		 events;	/* always watched for */
	int			 watched;	/* in the pump's epoll */
	int			 wantout;	/* waiting to be writable */
	time_t			 last_write;
	time_t			 stalled;	/* out stuck since, or 0 */
};

struct pgsse_pump {
	pthread_mutex_t		 lock;
	struct pgsse_client	**marked;	/* lock: clients with news */
	size_t			 nmarked;	/* lock */
	size_t			 capmarked;	/* lock */
	unsigned int		 held;		/* lock: pgsse_pump_hold's */
	int			 unrung;	/* lock: a ring held back */
	/* The pump thread's alone: */
	struct pgsse_client	**work;		/* the list being served */
	size_t			 capwork;
	struct pgsse_event	**spare;	/* an empty queue to swap in */
	size_t			 nspare;
	struct pump_slot	*byfd;		/* attached, by descriptor */
	size_t			 nbyfd;
	struct pgsse_buf	 scratch;
	struct pgsse_buf	 beat;		/* this walk's heartbeat */
	time_t			 now;
	size_t			 closes;	/* since the last trim */
	size_t			 closes_seen;	/* at the last walk */
	unsigned int		 heartbeat;
	pgsse_pump_cb		 replayed;	/* a client's replay is written */
	pgsse_pump_cb		 ended;		/* a client is closed */
	void			*arg;		/* theirs */
	int			 efd;		/* eventfd that wakes it */
	int			 epfd;
	atomic_uint_least64_t	 slow;		/* cut for PGSSE_OUT_MAX */
	pthread_mutex_t		 statlock;	/* the three below */
	uint64_t		*sent;		/* per registry slot */
	size_t			 nsent;
	struct pgsse_metrics_hist lag;		/* publish to send */
	atomic_size_t		 out_bytes;	/* sampled each tick */
	atomic_size_t		 out_max;
	atomic_int		 stop;
	int			 started;
	pthread_t		 thread;
	struct pgsse_client	**batch;	/* to write in one call */
	size_t			 nbatch;
	size_t			 capbatch;
#ifdef PGSSE_URING
	struct io_uring		 ring;
#endif
	int			 ring_up;	/* ring made */
	int			 ring_ok;	/* batch writes through ring */
	unsigned int		 wait_ms;	/* least time between rounds */
	struct timespec		 round;		/* the last round's start */
};

/* Returns c's place in the by-descriptor table, or NULL. */
static struct pump_slot *
pump_slot(struct pgsse_pump *pump, const struct pgsse_client *c)
{
	int	 fd = pgsse_client_fd(c);

	if (fd < 0 || (size_t)fd >= pump->nbyfd || pump->byfd[fd].c != c)
		return NULL;
	return &pump->byfd[fd];
}

/* Sets the epoll events the pump wants for the client in sl. */
static void
pump_want(struct pgsse_pump *pump, struct pump_slot *sl, int fd, int out)
{
	struct epoll_event	 ev;

	if (sl == NULL || !sl->watched || sl->wantout == out)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = sl->events | (out ? EPOLLOUT : 0);
	ev.data.fd = fd;
	epoll_ctl(pump->epfd, EPOLL_CTL_MOD, fd, &ev);
	sl->wantout = out;
}

/*
 * Notes a write to c that took n bytes and returned rc (as
 * pgsse_client_write), and tells the owner when that finished c's
 * replay. Returns rc.
 */
static int
pump_wrote(struct pgsse_pump *pump, struct pgsse_client *c, int rc,
    size_t n)
{
	struct pump_slot	*sl = pump_slot(pump, c);

	if (sl != NULL && n > 0)
		sl->last_write = pump->now;
	if (pgsse_client_replay_written(c))
		pump->replayed(c, pump->arg);
	if (rc == -1)
		return -1;
	if (sl != NULL)
		sl->stalled = rc == 0 ? 0 : sl->stalled != 0 ? sl->stalled :
		    pump->now;
	pump_want(pump, sl, pgsse_client_fd(c), rc);
	return rc;
}

/*
 * Writes as much of c's out buffer as the connection takes now. Returns
 * -1 if the peer is gone, 1 if some is left (it waits for EPOLLOUT), 0
 * once all is written.
 */
static int
pump_flush(struct pgsse_pump *pump, struct pgsse_client *c)
{
	size_t	 n = 0;
	int	 rc;

	rc = pgsse_client_write(c, &n);
	return pump_wrote(pump, c, rc, n);
}

/*
 * Adds c to the by-descriptor table and to epoll, for hang-ups and, on
 * a FastCGI connection, for what the web server sends (ABORT_REQUEST).
 */
static void
pump_watch(struct pgsse_pump *pump, struct pgsse_client *c)
{
	struct epoll_event	 ev;
	struct pump_slot	*v;
	size_t			 n;
	int			 fd = pgsse_client_fd(c);

	if ((size_t)fd >= pump->nbyfd) {
		n = (size_t)fd * 2 + 64;
		if ((v = realloc(pump->byfd, n * sizeof(*v))) == NULL)
			return;
		memset(v + pump->nbyfd, 0, (n - pump->nbyfd) * sizeof(*v));
		pump->byfd = v;
		pump->nbyfd = n;
	}
	v = &pump->byfd[fd];
	memset(v, 0, sizeof(*v));
	v->c = c;
	v->in = *pgsse_client_in(c);
	v->last_write = pump->now;
	v->events = EPOLLRDHUP | (pgsse_client_reqid(c) != 0 ? EPOLLIN : 0);
	memset(&ev, 0, sizeof(ev));
	ev.events = v->events;
	ev.data.fd = fd;
	v->watched = epoll_ctl(pump->epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

/*
 * Ends c: no more wake-ups, off the pump, the end of its FastCGI
 * request if clean (written if the connection takes it now), its
 * connection closed, the owner told, and its finish called, which frees
 * it.
 */
static void
pump_close(struct pgsse_pump *pump, struct pgsse_client *c, int clean)
{
	struct pump_slot	*sl = pump_slot(pump, c);
	size_t			 i;

	if (pgsse_client_detach(c)) {
		pthread_mutex_lock(&pump->lock);
		for (i = 0; i < pump->nmarked; i++)
			if (pump->marked[i] == c)
				pump->marked[i] = pump->marked[--pump->nmarked];
		pthread_mutex_unlock(&pump->lock);
	}
	if (sl != NULL) {
		if (sl->watched)
			epoll_ctl(pump->epfd, EPOLL_CTL_DEL, pgsse_client_fd(c),
			    NULL);
		memset(sl, 0, sizeof(*sl));
	}
	if (clean) {
		pgsse_client_put_end(c);
		pump_flush(pump, c);
	}
	pgsse_client_close(c);
	pump->ended(c, pump->arg);
	pgsse_client_finish(c);
	pump->closes++;
}

/*
 * Gives the memory of closed clients back to the system after a burst
 * of closes, and shrinks the by-descriptor table to the highest
 * descriptor in use, top. Each stream's start thread may have used a
 * malloc arena of its own, and glibc returns an arena's free pages only
 * from its top, so without this the process kept about 7 MB (84% over
 * its start) after 5,000 streams closed.
 */
static void
pump_trim(struct pgsse_pump *pump, size_t top)
{
	struct pump_slot	*v;
	size_t			 n = top + 64;

	if (pump->closes < PUMP_TRIM_CLOSES || (pump->closes !=
	    pump->closes_seen && pump->closes < PUMP_TRIM_CLOSES_MAX)) {
		pump->closes_seen = pump->closes;
		return;
	}
	if (n < pump->nbyfd / 2) {
		if ((v = realloc(pump->byfd, n * sizeof(*v))) != NULL) {
			pump->byfd = v;
			pump->nbyfd = n;
		}
	}
	pump->closes = pump->closes_seen = 0;
	malloc_trim(0);
}

/*
 * Ends c's request once its stream is done: the end goes after what is
 * pending, and c is closed when all of it is written (or when it stalls
 * for the write timeout).
 */
static void
pump_end(struct pgsse_pump *pump, struct pgsse_client *c)
{
	pgsse_client_put_end(c);
	if (pump_flush(pump, c) != 1)
		pump_close(pump, c, 0);
}

/*
 * Counts ev as framed for one client at now: its channel's sent count,
 * and if it came from the log, how long since it was published (a
 * clock behind the database's counts as 0). Called with pump->statlock
 * held. Memory running out leaves the count uncounted.
 */
static void
pump_count(struct pgsse_pump *pump, const struct pgsse_event *ev,
    const struct timespec *now)
{
	uint64_t	*v;
	size_t		 n, k = (size_t)ev->chan;
	double		 lag;

	if (k >= pump->nsent && k < PGSSE_CHANNEL_SLOTS_MAX) {
		n = k + 64 > PGSSE_CHANNEL_SLOTS_MAX ?
		    PGSSE_CHANNEL_SLOTS_MAX : k + 64;
		if ((v = realloc(pump->sent, n * sizeof(*v))) != NULL) {
			memset(v + pump->nsent, 0, (n - pump->nsent) *
			    sizeof(*v));
			pump->sent = v;
			pump->nsent = n;
		}
	}
	if (k < pump->nsent)
		pump->sent[k]++;
	if (ev->published <= 0)
		return;
	lag = (double)now->tv_sec + now->tv_nsec / 1e9 - ev->published;
	pgsse_metrics_hist_observe(&pump->lag, lag > 0 ? lag : 0);
}

/*
 * Puts live c on the list of clients written together once this round
 * is served (pump_write_batch), if the pump writes in batches and c has
 * something to write. Returns 1 if it did, 0 if the caller writes c.
 */
static int
pump_defer(struct pgsse_pump *pump, struct pgsse_client *c)
{
	struct pgsse_client	**v;
	const char		 *p;
	size_t			  cap;

	if (!pump->ring_ok || pgsse_client_unwritten(c, &p) == 0)
		return 0;
	if (pump->nbatch == pump->capbatch) {
		cap = pump->capbatch ? pump->capbatch * 2 : 64;
		if ((v = realloc(pump->batch, cap * sizeof(*v))) == NULL)
			return 0;
		pump->batch = v;
		pump->capbatch = cap;
	}
	pump->batch[pump->nbatch++] = c;
	return 1;
}

#ifdef PGSSE_URING
/*
 * Notes how the batched send to c went: res bytes taken, or -errno.
 * Writes the rest, if any, as pump_flush does; ends c if it is gone.
 */
static void
pump_sent(struct pgsse_pump *pump, struct pgsse_client *c, int res)
{
	size_t	 n = 0;
	int	 rc;

	if (res >= 0)
		rc = pgsse_client_sent(c, (size_t)res, &n);
	else if (res == -EAGAIN)
		rc = 1;
	else if (res == -EINTR)
		rc = pgsse_client_write(c, &n);
	else
		rc = -1;
	if (pump_wrote(pump, c, rc, n) == -1)
		pump_close(pump, c, 0);
}

/*
 * Stops writing through io_uring after trouble with it, with a log line
 * saying what of how many sends (the errno err); the caller writes the
 * rest of the batch without it. The ring stays made until the pump is
 * freed: sends the kernel did not take stay in it, never submitted.
 */
static void
pump_ring_off(struct pgsse_pump *pump, const char *what, size_t n,
    size_t of, int err)
{
	pgsse_log(PGSSE_LOG_WARN, "pump: io_uring %s %zu of %zu sends (%s); "
	    "writing each stream with a send of its own from now on", what,
	    n, of, strerror(err));
	pump->ring_ok = 0;
}

/*
 * Hands the sends of the batch's clients from i on, PUMP_RING at most,
 * to io_uring in one system call, and waits for those the kernel took:
 * a send that would block fails at once (MSG_DONTWAIT), so the wait is
 * short. Written one by one, each client cost pgsse-stream a system
 * call, whose entry, file lookup and return were about a quarter of its
 * CPU at 10 and 100 events/s.
 *
 * Returns the index of the first client it did not hand over. If the
 * kernel took fewer sends than it was given (short of memory: none, or
 * some, with -EAGAIN, -ENOMEM, -EBUSY), the pump stops using the ring
 * (pump_ring_off), as the sends left in it would go with the next
 * submit, and the caller writes the rest without it. If waiting for a
 * completion fails, the ring is off too and the clients whose send it
 * did not see are closed: their connection may have taken part of it,
 * so nothing more can be framed after it; they resume with
 * Last-Event-ID.
 */
static size_t
pump_ring_send(struct pgsse_pump *pump, size_t i)
{
	struct io_uring_sqe	*sqe;
	struct io_uring_cqe	*cqe;
	const char		*p;
	unsigned char		 seen[PUMP_RING];
	size_t			 k, j, n, left;
	int			 rc, res;

	for (k = i; k < pump->nbatch && k - i < PUMP_RING; k++) {
		if ((sqe = io_uring_get_sqe(&pump->ring)) == NULL)
			break;
		n = pgsse_client_unwritten(pump->batch[k], &p);
		io_uring_prep_send(sqe, pgsse_client_fd(pump->batch[k]), p, n,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		io_uring_sqe_set_data64(sqe, k);
	}
	rc = k == i ? -EBUSY :
	    io_uring_submit_and_wait(&pump->ring, (unsigned int)(k - i));
	n = rc > 0 ? (size_t)rc : 0;
	memset(seen, 0, sizeof(seen));
	for (left = n; left > 0; left--) {
		while ((rc = io_uring_wait_cqe(&pump->ring, &cqe)) == -EINTR)
			continue;
		if (rc != 0)
			break;
		res = cqe->res;
		j = (size_t)io_uring_cqe_get_data64(cqe);
		io_uring_cqe_seen(&pump->ring, cqe);
		if (j < i || j >= i + n || seen[j - i]) {
			rc = -EPROTO;
			break;
		}
		seen[j - i] = 1;
		pump_sent(pump, pump->batch[j], res);
	}
	if (left > 0) {
		pump_ring_off(pump, "lost the outcome of", left, k - i, -rc);
		for (j = i; j < i + n; j++)
			if (!seen[j - i])
				pump_close(pump, pump->batch[j], 0);
	} else if (n < k - i)
		pump_ring_off(pump, "took", n, k - i, rc < 0 ? -rc : EAGAIN);
	return i + n;
}

/*
 * Writes the batch's clients: through io_uring while it works, the rest
 * each with a send of its own.
 */
static void
pump_write_batch(struct pgsse_pump *pump)
{
	size_t	 i = 0;

	while (i < pump->nbatch && pump->ring_ok)
		i = pump_ring_send(pump, i);
	for (; i < pump->nbatch; i++)
		if (pump_flush(pump, pump->batch[i]) == -1)
			pump_close(pump, pump->batch[i], 0);
	pump->nbatch = 0;
}
#else
/* Without io_uring nothing is batched (pump_defer). */
static void
pump_write_batch(struct pgsse_pump *pump)
{
	pump->nbatch = 0;
}
#endif

/*
 * Writes what c's queue holds, or ends c if it is dead or done; now is
 * the round's start, the moment the lag of its events is counted to.
 */
static void
pump_serve(struct pgsse_pump *pump, struct pgsse_client *c,
    const struct timespec *now)
{
	struct pgsse_buf	*b = &pump->scratch;
	struct pgsse_event	**q = pump->spare;
	size_t			  n, cap = pump->nspare, i, len;
	enum pgsse_client_dead	  dead;
	enum pgsse_err		  er = PGSSE_OK;

	dead = pgsse_client_take(c, &q, &n, &cap);
	if (pump_slot(pump, c) == NULL)
		pump_watch(pump, c);
	pthread_mutex_lock(&pump->statlock);
	for (i = 0; i < n; i++) {
		len = b->len;
		if (er == PGSSE_OK &&
		    (er = pgsse_client_emit(c, b, q[i])) == PGSSE_OK &&
		    b->len > len)
			pump_count(pump, q[i], now);
		pgsse_event_unref(q[i]);
	}
	pthread_mutex_unlock(&pump->statlock);
	if (cap > PUMP_KEEP_QUEUE) {
		free(q);
		q = NULL;
		cap = 0;
	}
	pump->spare = q;
	pump->nspare = cap;
	if (er == PGSSE_OK && dead == PGSSE_CLIENT_SLOW)
		er = pgsse_sse_comment(b, "client too slow; reconnect");
	if (er == PGSSE_OK && b->len > 0)
		er = pgsse_client_put(c, b->p, b->len);
	pgsse_buf_reset(b);
	if (er == PGSSE_ERR_LIMIT && dead == PGSSE_CLIENT_LIVE)
		atomic_fetch_add_explicit(&pump->slow, 1, memory_order_relaxed);
	if (er == PGSSE_OK && dead == PGSSE_CLIENT_LIVE &&
	    !pgsse_client_done(c) && pump_defer(pump, c))
		return;
	if (er != PGSSE_OK || pump_flush(pump, c) == -1)
		pump_close(pump, c, 0);
	else if (dead != PGSSE_CLIENT_LIVE)
		pump_close(pump, c, dead != PGSSE_CLIENT_GONE);
	else if (pgsse_client_done(c))
		pump_end(pump, c);
}

/* Serves every client marked since the last round. */
static void
pump_serve_marked(struct pgsse_pump *pump)
{
	struct pgsse_client	**v;
	struct timespec		  now;
	size_t			  n, cap, i;

	pthread_mutex_lock(&pump->lock);
	v = pump->marked;
	n = pump->nmarked;
	cap = pump->capmarked;
	pump->marked = pump->work;
	pump->capmarked = pump->capwork;
	pump->nmarked = 0;
	pthread_mutex_unlock(&pump->lock);
	if (n > 0)
		clock_gettime(CLOCK_REALTIME, &now);	/* once: see pump_count */
	for (i = 0; i < n; i++)
		pump_serve(pump, v[i], &now);
	pump_write_batch(pump);
	pump->work = v;
	pump->capwork = cap;
}

/*
 * Reads what the web server sent on c's connection, in sl: a request's
 * body, which a stream does not read, and ABORT_REQUEST. Returns -1 if
 * it hung up (or the read failed), 1 if it aborted c's request or sent
 * more than PGSSE_STREAM_IN_MAX bytes in all, 0 if nothing was for c.
 * The bound keeps a wake-up from reading for long while every other
 * stream waits: a web server that buffered a huge body sends it at
 * local speed.
 */
static int
pump_read(struct pump_slot *sl, int fd)
{
	char		 buf[PUMP_READ];
	ssize_t		 r;
	unsigned int	 reqid = (unsigned int)pgsse_client_reqid(sl->c);

	while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (reqid != 0 && pgsse_fcgi_in_feed(&sl->in, reqid, buf,
		    (size_t)r) == PGSSE_FCGI_IN_ABORT)
			return 1;
		if ((sl->inbytes += (size_t)r) > PGSSE_STREAM_IN_MAX)
			return 1;
	}
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1;
}

/*
 * Handles epoll's news about one connection: writable again, something
 * sent, or hung up. A web server closes the FastCGI connection when the
 * browser goes (lighttpd, Apache), or sends ABORT_REQUEST on it (the
 * request then ends cleanly): either ends the client at once, without
 * waiting for a write of the pump's own to fail.
 */
static void
pump_io(struct pgsse_pump *pump, int fd, uint32_t events)
{
	struct pgsse_client	*c;
	int			 rc;

	if (fd < 0 || (size_t)fd >= pump->nbyfd ||
	    (c = pump->byfd[fd].c) == NULL)
		return;
	if (events & (EPOLLERR | EPOLLHUP)) {
		pump_close(pump, c, 0);
		return;
	}
	if ((events & (EPOLLIN | EPOLLRDHUP)) &&
	    (rc = pump_read(&pump->byfd[fd], fd)) != 0) {
		pump_close(pump, c, rc == 1);
		return;
	}
	if ((events & EPOLLOUT) && ((rc = pump_flush(pump, c)) == -1 ||
	    (rc == 0 && pgsse_client_ending(c))))
		pump_close(pump, c, 0);
}

/*
 * The once-a-second walk: a heartbeat to clients idle for the interval,
 * the end to those whose output has not moved for the write timeout.
 */
static void
pump_tick(struct pgsse_pump *pump)
{
	struct pump_slot	*sl;
	struct pgsse_client	*c;
	struct pgsse_buf	*beat = &pump->beat;
	size_t			 fd, n, out = 0, max = 0, top = 0;
	int			 beats;

	pgsse_buf_reset(beat);
	beats = pgsse_sse_heartbeat(beat, pump->heartbeat,
	    (long long)pump->now) == PGSSE_OK;
	for (fd = 0; fd < pump->nbyfd; fd++) {
		sl = &pump->byfd[fd];
		if ((c = sl->c) == NULL)
			continue;
		top = fd + 1;
		n = pgsse_client_pending(c);
		out += n;
		if (n > max)
			max = n;
		if (sl->stalled != 0) {
			if (pump->now - sl->stalled >= PGSSE_WRITE_TIMEOUT_SEC)
				pump_close(pump, c, 0);
			continue;
		}
		if (!beats || pgsse_client_ending(c) ||
		    pump->now - sl->last_write < (time_t)pump->heartbeat)
			continue;
		if (pgsse_client_put(c, beat->p, beat->len) != PGSSE_OK ||
		    (!pump_defer(pump, c) && pump_flush(pump, c) == -1))
			pump_close(pump, c, 0);
	}
	pump_write_batch(pump);
	atomic_store(&pump->out_bytes, out);
	atomic_store(&pump->out_max, max);
	pump_trim(pump, top);
}

/*
 * Returns the milliseconds left, rounded up, until the next round may
 * start (0: now): the pump's wait after the last round's start, or none
 * once half of it has passed. Events that come that far apart would
 * rarely share a round, so waiting would only make them late: at 100
 * events/s with the default 10 ms wait, the full wait put 6 to 10 ms on
 * the median lag and saved no CPU. Reads the monotonic clock.
 */
static int
pump_round_in(const struct pgsse_pump *pump)
{
	struct timespec	 now;
	long long	 wait = (long long)pump->wait_ms * 1000000, since;

	clock_gettime(CLOCK_MONOTONIC, &now);
	since = (long long)(now.tv_sec - pump->round.tv_sec) * 1000000000 +
	    (now.tv_nsec - pump->round.tv_nsec);
	if (2 * since >= wait)
		return 0;
	return (int)((wait - since + 999999) / 1000000);
}

static void *
pump_main(void *arg)
{
	struct pgsse_pump	*pump = arg;
	struct epoll_event	 evs[PUMP_EVENTS];
	uint64_t		 v;
	time_t			 walked = 0;
	int			 i, n, due = 0;

	while (!atomic_load(&pump->stop)) {
		n = epoll_wait(pump->epfd, evs, PUMP_EVENTS,
		    due ? pump_round_in(pump) : PUMP_TICK_MS);
		pump->now = time(NULL);
		for (i = 0; i < n; i++)
			if (evs[i].data.fd == pump->efd) {
				if (read(pump->efd, &v, sizeof(v)) == -1)
					continue;
				due = 1;
			} else
				pump_io(pump, evs[i].data.fd, evs[i].events);
		if (due && pump_round_in(pump) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &pump->round);
			pump_serve_marked(pump);
			due = 0;
		}
		if (pump->now != walked) {
			walked = pump->now;
			pump_tick(pump);
		}
	}
	return NULL;
}

/*
 * Makes a pump, heartbeat seconds between heartbeats and wait_ms at
 * least between the starts of two rounds (0: none), and starts its
 * thread. It calls replayed(c, arg) once c's replay is all written, and
 * ended(c, arg) when it closed c, before c's finish; both on its thread,
 * holding no lock. Returns NULL on failure. The caller owns it and
 * frees it with pgsse_pump_free.
 */
struct pgsse_pump *
pgsse_pump_start(unsigned int heartbeat, unsigned int wait_ms,
    pgsse_pump_cb replayed, pgsse_pump_cb ended, void *arg)
{
	struct pgsse_pump	*pump;
	struct epoll_event	 ev;

	if ((pump = calloc(1, sizeof(*pump))) == NULL)
		return NULL;
	pthread_mutex_init(&pump->lock, NULL);
	pthread_mutex_init(&pump->statlock, NULL);
	pgsse_metrics_hist_init(&pump->lag, pump_lag_bounds,
	    sizeof(pump_lag_bounds) / sizeof(pump_lag_bounds[0]));
	atomic_init(&pump->slow, 0);
	atomic_init(&pump->out_bytes, 0);
	atomic_init(&pump->out_max, 0);
	pump->replayed = replayed;
	pump->ended = ended;
	pump->arg = arg;
	pump->heartbeat = heartbeat;
	pump->now = time(NULL);
	pump->wait_ms = wait_ms;
#ifdef PGSSE_URING
	pump->ring_up = io_uring_queue_init(PUMP_RING, &pump->ring, 0) == 0;
	pump->ring_ok = pump->ring_up;
#endif
	pump->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pump->epfd = epoll_create1(EPOLL_CLOEXEC);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = pump->efd;
	if (pump->efd < 0 || pump->epfd < 0 ||
	    epoll_ctl(pump->epfd, EPOLL_CTL_ADD, pump->efd, &ev) == -1 ||
	    pthread_create(&pump->thread, NULL, pump_main, pump) != 0) {
		pgsse_pump_free(pump);
		return NULL;
	}
	pump->started = 1;
	return pump;
}

/*
 * Stops the pump thread and frees the pump. Clients still attached are
 * left alone: the process is ending. Accepts NULL.
 */
void
pgsse_pump_free(struct pgsse_pump *pump)
{
	if (pump == NULL)
		return;
	atomic_store(&pump->stop, 1);
	if (pump->started)
		pthread_join(pump->thread, NULL);
	if (pump->efd >= 0)
		close(pump->efd);
	if (pump->epfd >= 0)
		close(pump->epfd);
#ifdef PGSSE_URING
	if (pump->ring_up)
		io_uring_queue_exit(&pump->ring);
#endif
	free(pump->batch);
	free(pump->byfd);
	free(pump->marked);
	free(pump->work);
	free(pump->spare);
	pgsse_buf_free(&pump->scratch);
	pgsse_buf_free(&pump->beat);
	free(pump->sent);
	pthread_mutex_destroy(&pump->lock);
	pthread_mutex_destroy(&pump->statlock);
	free(pump);
}

/* Returns how many clients the pump cut loose for PGSSE_OUT_MAX. */
uint64_t
pgsse_pump_slow(struct pgsse_pump *pump)
{
	return atomic_load_explicit(&pump->slow, memory_order_relaxed);
}

/*
 * Copies the pump's figures: sent[i] (for n slots) gets how many events
 * of slot i it framed for clients, lag the publish-to-send histogram,
 * out and outmax the unwritten bytes of all attached clients and of the
 * one with most, as its last once-a-second walk found them; lag, out
 * and outmax may be NULL. Can't fail.
 */
void
pgsse_pump_stats(struct pgsse_pump *pump, uint64_t *sent, size_t n,
    struct pgsse_metrics_hist *lag, size_t *out, size_t *outmax)
{
	size_t	 i;

	pthread_mutex_lock(&pump->statlock);
	for (i = 0; i < n; i++)
		sent[i] = i < pump->nsent ? pump->sent[i] : 0;
	if (lag != NULL)
		*lag = pump->lag;
	pthread_mutex_unlock(&pump->statlock);
	if (out != NULL)
		*out = atomic_load(&pump->out_bytes);
	if (outmax != NULL)
		*outmax = atomic_load(&pump->out_max);
}

/* Wakes the pump thread. */
static void
pump_ring(struct pgsse_pump *pump)
{
	uint64_t	 one = 1;
	ssize_t		 w;

	w = write(pump->efd, &one, sizeof(one));
	(void)w;	/* -1: the counter is full, the pump is awake anyway */
}

/*
 * The wake function the pump gives its clients: puts c on the pump's
 * list and rings the pump if the list was empty, unless the bell is
 * held (pgsse_pump_hold). Called with c's lock held. Returns -1 if
 * memory ran out (c is woken again with its next event).
 */
static int
pump_wake(struct pgsse_client *c, void *arg)
{
	struct pgsse_pump	 *pump = arg;
	struct pgsse_client	**v;
	size_t			  cap;
	int			  ring;

	pthread_mutex_lock(&pump->lock);
	if (pump->nmarked == pump->capmarked) {
		cap = pump->capmarked ? pump->capmarked * 2 : 64;
		if ((v = realloc(pump->marked, cap * sizeof(*v))) == NULL) {
			pthread_mutex_unlock(&pump->lock);
			return -1;
		}
		pump->marked = v;
		pump->capmarked = cap;
	}
	pump->marked[pump->nmarked++] = c;
	ring = pump->nmarked == 1 && pump->held == 0;
	if (pump->nmarked == 1 && pump->held > 0)
		pump->unrung = 1;
	pthread_mutex_unlock(&pump->lock);
	if (ring)
		pump_ring(pump);
	return 0;
}

/*
 * Holds back the pump's bell until pgsse_pump_release: the clients
 * woken meanwhile wait on its list, so that the hub, handing one event
 * to every subscriber, has the pump serve them all in one round rather
 * than the first few at once and the rest a wait later. Takes
 * pump->lock (a leaf: see client.c).
 */
void
pgsse_pump_hold(struct pgsse_pump *pump)
{
	pthread_mutex_lock(&pump->lock);
	pump->held++;
	pthread_mutex_unlock(&pump->lock);
}

/* Ends a pgsse_pump_hold, ringing the bell it held back, if any. */
void
pgsse_pump_release(struct pgsse_pump *pump)
{
	int	 ring;

	pthread_mutex_lock(&pump->lock);
	ring = --pump->held == 0 && pump->unrung;
	if (ring)
		pump->unrung = 0;
	pthread_mutex_unlock(&pump->lock);
	if (ring)
		pump_ring(pump);
}

/*
 * Hands c to the pump, which from now on writes to c's connection and
 * finishes c (pgsse_client_finish) when it is done with it. The caller
 * must not touch c afterwards.
 */
void
pgsse_pump_attach(struct pgsse_pump *pump, struct pgsse_client *c)
{
	pgsse_client_attach(c, pump_wake, pump);
}
