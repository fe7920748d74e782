/*
 * pump.c: one thread writes every live stream.
 *
 * Design. A stream's own thread only starts it: it checks the cursors,
 * reads the replay from the log and frames the headers and the replay
 * into the client's out buffer, writing nothing. Then it attaches the
 * client to the pump and ends. From there on the pump thread alone
 * writes to that client: it frames SSE text as FastCGI STDOUT records
 * (fcgi.c; plain bytes under CGI) and writes them without blocking.
 * Whatever the web server cannot take yet waits in the client's out
 * buffer, and the pump asks epoll to say when the connection is
 * writable again. A stream that is done (a per-job stream's end, a
 * replay cut at PGSSE_REPLAY_BYTES) gets the end of its request after
 * its pending output and is closed once all of it is written. An idle
 * stream therefore costs a descriptor and a few hundred bytes, not a
 * thread, and one wake-up of the pump serves every client an event
 * reached.
 *
 * Work. The hub appends events to a client's queue and, when the queue
 * was empty, marks the client: it joins the pump's list and the pump's
 * eventfd is rung. The pump swaps the list for an empty one, and for
 * each client swaps its queue for an empty one, encodes everything in
 * it and writes once. Under load several events go out in one write.
 *
 * Locking. The order is hub->lock, then client->lock, then pump->lock.
 * The hub marks clients holding the first two; the pump takes each lock
 * alone. Only the pump thread touches a client's out buffer, its epoll
 * registration and the by-descriptor table, and only it frees attached
 * clients, after pgsse_hub_leave has taken them off every subscriber
 * list, so nothing else can reach them.
 *
 * Time. Once a second the pump walks its clients: a heartbeat comment
 * to those idle for the heartbeat interval, and the end for those whose
 * pending output has not moved for PGSSE_WRITE_TIMEOUT_SEC.
 *
 * Replays. A resume's thread hands the client over holding its share
 * of the hub's replay budget (hub.c) for the bytes it framed; the pump
 * gives it back once they are all written, or when it closes the
 * client. Until then the out buffer keeps its size, so the share is
 * given back whole, not as the bytes go.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pgsse.h"
#include "extern.h"
#include "feed.h"
#include "registry.h"

/* Milliseconds the pump sleeps at most: the heartbeat walk's period. */
#define PUMP_TICK_MS 1000
/* Epoll events taken per wait. */
#define PUMP_EVENTS 256
/* Out buffers bigger than this are freed once written, and queue
 * arrays longer than this are freed once served, so a burst does not
 * leave every client holding its peak. */
#define PUMP_KEEP_BYTES 4096
#define PUMP_KEEP_QUEUE 64

struct pgsse_pump {
	pthread_mutex_t		 lock;
	struct pgsse_client	**marked;	/* lock: clients with news */
	size_t			 nmarked;	/* lock */
	size_t			 capmarked;	/* lock */
	/* The pump thread's alone: */
	struct pgsse_client	**work;		/* the list being served */
	size_t			 capwork;
	struct pgsse_event	**spare;	/* an empty queue to swap in */
	size_t			 nspare;
	struct pgsse_client	**byfd;		/* attached, by descriptor */
	size_t			 nbyfd;
	struct pgsse_buf	 scratch;
	time_t			 now;
	struct pgsse_hub	*hub;
	unsigned int		 heartbeat;
	int			 efd;		/* eventfd that wakes it */
	int			 epfd;
	atomic_uint_least64_t	 slow;		/* clients too slow for PGSSE_OUT_MAX */
	atomic_int		 stop;
	int			 started;
	pthread_t		 thread;
};

/*
 * Appends n bytes of stream output to c's out buffer, framed for its
 * connection; once the end of the request is in it, drops them. The
 * thread starting c calls it until it attaches c, the pump after.
 * Returns PGSSE_ERR_LIMIT past PGSSE_OUT_MAX unwritten bytes (the
 * client is too slow), PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_client_put(struct pgsse_client *c, const char *p, size_t n)
{
	if (c->ending)
		return PGSSE_OK;
	if (c->outoff > 0) {
		memmove(c->out.p, c->out.p + c->outoff, c->out.len - c->outoff);
		c->out.len -= c->outoff;
		c->outoff = 0;
	}
	if (c->out.len + n > PGSSE_OUT_MAX)
		return PGSSE_ERR_LIMIT;
	if (c->reqid == 0)
		return pgsse_buf_put(&c->out, p, n);
	return pgsse_fcgi_stdout(&c->out, (unsigned int)c->reqid, p, n);
}

/* Appends the end of c's FastCGI request to its out buffer, once. */
static void
pump_put_end(struct pgsse_client *c)
{
	if (c->ending)
		return;
	c->ending = 1;
	if (c->reqid != 0)
		pgsse_fcgi_end(&c->out, (unsigned int)c->reqid);
}

/*
 * Notes that n more bytes of c's out buffer were written: once its
 * replay is, ends it (its share of the replay budget goes back). all
 * says the buffer is empty.
 */
static void
pump_written(struct pgsse_pump *pump, struct pgsse_client *c, size_t n,
    int all)
{
	if (!c->replaying)
		return;
	if (!all && n < c->replay_left) {
		c->replay_left -= n;
		return;
	}
	c->replay_left = 0;
	pgsse_hub_replay_end(pump->hub, c);
}

/* Sets the epoll events the pump wants for c. */
static void
pump_want(struct pgsse_pump *pump, struct pgsse_client *c, int out)
{
	struct epoll_event	 ev;

	if (!c->watched || c->wantout == out)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLRDHUP | (out ? EPOLLOUT : 0);
	ev.data.fd = c->fd;
	epoll_ctl(pump->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->wantout = out;
}

/*
 * Writes as much of c's out buffer as the connection takes now. Returns
 * -1 if the peer is gone, else 0 (what is left waits for EPOLLOUT).
 */
static int
pump_flush(struct pgsse_pump *pump, struct pgsse_client *c)
{
	ssize_t	 w;

	while (c->outoff < c->out.len) {
		w = write(c->fd, c->out.p + c->outoff, c->out.len - c->outoff);
		if (w > 0) {
			c->outoff += (size_t)w;
			c->last_write = pump->now;
			pump_written(pump, c, (size_t)w, 0);
		} else if (w == -1 && errno == EINTR)
			continue;
		else if (w == -1 && errno == EAGAIN) {
			if (c->stalled == 0)
				c->stalled = pump->now;
			pump_want(pump, c, 1);
			return 0;
		} else
			return -1;
	}
	c->outoff = 0;
	c->stalled = 0;
	pump_written(pump, c, 0, 1);
	if (c->out.cap > PUMP_KEEP_BYTES)
		pgsse_buf_free(&c->out);
	else
		pgsse_buf_reset(&c->out);
	pump_want(pump, c, 0);
	return 0;
}

/* Adds c to the by-descriptor table and to epoll, for hang-ups. */
static void
pump_watch(struct pgsse_pump *pump, struct pgsse_client *c)
{
	struct epoll_event	  ev;
	struct pgsse_client	**v;
	size_t			  n;

	if ((size_t)c->fd >= pump->nbyfd) {
		n = (size_t)c->fd * 2 + 64;
		if ((v = realloc(pump->byfd, n * sizeof(*v))) == NULL)
			return;
		memset(v + pump->nbyfd, 0, (n - pump->nbyfd) * sizeof(*v));
		pump->byfd = v;
		pump->nbyfd = n;
	}
	pump->byfd[c->fd] = c;
	c->added = 1;
	c->last_write = pump->now;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLRDHUP;
	ev.data.fd = c->fd;
	c->watched = epoll_ctl(pump->epfd, EPOLL_CTL_ADD, c->fd, &ev) == 0;
}

/*
 * Ends c: off the hub, off the pump, the end of its FastCGI request if
 * clean (written if the connection takes it now), its connection closed
 * and its owner's finish called, which frees it.
 */
static void
pump_close(struct pgsse_pump *pump, struct pgsse_client *c, int clean)
{
	size_t	 i;

	pgsse_hub_leave(pump->hub, c);
	pthread_mutex_lock(&pump->lock);
	for (i = 0; c->marked && i < pump->nmarked; i++)
		if (pump->marked[i] == c)
			pump->marked[i] = pump->marked[--pump->nmarked];
	pthread_mutex_unlock(&pump->lock);
	if (c->added)
		pump->byfd[c->fd] = NULL;
	if (c->watched)
		epoll_ctl(pump->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (clean) {
		pump_put_end(c);
		pump_flush(pump, c);
	}
	if (c->fd >= 0)
		close(c->fd);
	pgsse_buf_free(&c->out);
	pump_written(pump, c, 0, 1);
	c->finish(c);
}

/*
 * Ends c's request once its stream is done: the end goes after what is
 * pending, and c is closed when all of it is written (or when it stalls
 * for the write timeout).
 */
static void
pump_end(struct pgsse_pump *pump, struct pgsse_client *c)
{
	pump_put_end(c);
	if (pump_flush(pump, c) == -1 || c->out.len == 0)
		pump_close(pump, c, 0);
}

/* Writes what c's queue holds, or ends c if it is dead or done. */
static void
pump_serve(struct pgsse_pump *pump, struct pgsse_client *c)
{
	struct pgsse_buf	*b = &pump->scratch;
	struct pgsse_event	**q;
	size_t			  n, cap, i;
	enum pgsse_client_dead	  dead;
	enum pgsse_err		  er = PGSSE_OK;

	pthread_mutex_lock(&c->lock);
	q = c->q;
	cap = c->qcap;
	n = c->qlen;
	c->q = pump->spare;
	c->qcap = pump->nspare;
	c->qlen = 0;
	c->marked = 0;
	dead = c->dead;
	pthread_mutex_unlock(&c->lock);
	if (!c->added)
		pump_watch(pump, c);
	for (i = 0; i < n; i++) {
		if (er == PGSSE_OK)
			er = pgsse_client_emit(pgsse_hub_registry(pump->hub), c, b, q[i]);
		pgsse_event_unref(q[i]);
	}
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
	if (er != PGSSE_OK || pump_flush(pump, c) == -1)
		pump_close(pump, c, 0);
	else if (dead != PGSSE_CLIENT_LIVE)
		pump_close(pump, c, dead != PGSSE_CLIENT_GONE);
	else if (c->done)
		pump_end(pump, c);
}

/* Serves every client marked since the last round. */
static void
pump_serve_marked(struct pgsse_pump *pump)
{
	struct pgsse_client	**v;
	size_t			  n, cap, i;

	pthread_mutex_lock(&pump->lock);
	v = pump->marked;
	n = pump->nmarked;
	cap = pump->capmarked;
	pump->marked = pump->work;
	pump->capmarked = pump->capwork;
	pump->nmarked = 0;
	pthread_mutex_unlock(&pump->lock);
	for (i = 0; i < n; i++)
		pump_serve(pump, v[i]);
	pump->work = v;
	pump->capwork = cap;
}

/*
 * Handles epoll's news about one connection: writable again, or hung
 * up. A web server closes the FastCGI connection when the browser goes.
 */
static void
pump_io(struct pgsse_pump *pump, int fd, uint32_t events)
{
	struct pgsse_client	*c;
	char			 trash[256];
	ssize_t			 r;

	if (fd < 0 || (size_t)fd >= pump->nbyfd ||
	    (c = pump->byfd[fd]) == NULL)
		return;
	if (events & (EPOLLERR | EPOLLHUP)) {
		pump_close(pump, c, 0);
		return;
	}
	if (events & EPOLLRDHUP) {
		while ((r = recv(fd, trash, sizeof(trash), MSG_DONTWAIT)) > 0)
			continue;
		if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			pump_close(pump, c, 0);
			return;
		}
	}
	if ((events & EPOLLOUT) && (pump_flush(pump, c) == -1 ||
	    (c->ending && c->out.len == 0)))
		pump_close(pump, c, 0);
}

/*
 * The once-a-second walk: a heartbeat to clients idle for the interval,
 * the end to those whose output has not moved for the write timeout.
 */
static void
pump_tick(struct pgsse_pump *pump)
{
	struct pgsse_client	*c;
	size_t			 fd;
	static const char	 ping[] = ": ping\n\n";

	for (fd = 0; fd < pump->nbyfd; fd++) {
		if ((c = pump->byfd[fd]) == NULL)
			continue;
		if (c->stalled != 0) {
			if (pump->now - c->stalled >= PGSSE_WRITE_TIMEOUT_SEC)
				pump_close(pump, c, 0);
			continue;
		}
		if (c->ending ||
		    pump->now - c->last_write < (time_t)pump->heartbeat)
			continue;
		if (pgsse_client_put(c, ping, sizeof(ping) - 1) != PGSSE_OK ||
		    pump_flush(pump, c) == -1)
			pump_close(pump, c, 0);
	}
}

static void *
pump_main(void *arg)
{
	struct pgsse_pump	*pump = arg;
	struct epoll_event	 evs[PUMP_EVENTS];
	uint64_t		 v;
	time_t			 walked = 0;
	int			 i, n;

	while (!atomic_load(&pump->stop)) {
		n = epoll_wait(pump->epfd, evs, PUMP_EVENTS, PUMP_TICK_MS);
		pump->now = time(NULL);
		for (i = 0; i < n; i++)
			if (evs[i].data.fd == pump->efd) {
				if (read(pump->efd, &v, sizeof(v)) == -1)
					continue;
			} else
				pump_io(pump, evs[i].data.fd, evs[i].events);
		pump_serve_marked(pump);
		if (pump->now != walked) {
			walked = pump->now;
			pump_tick(pump);
		}
	}
	return NULL;
}

/*
 * Makes a pump for hub's clients, heartbeat seconds between comments,
 * and starts its thread. Returns NULL on failure. The hub owns it and
 * frees it with pgsse_pump_free.
 */
struct pgsse_pump *
pgsse_pump_start(struct pgsse_hub *hub, unsigned int heartbeat)
{
	struct pgsse_pump	*pump;
	struct epoll_event	 ev;

	if ((pump = calloc(1, sizeof(*pump))) == NULL)
		return NULL;
	pthread_mutex_init(&pump->lock, NULL);
	atomic_init(&pump->slow, 0);
	pump->hub = hub;
	pump->heartbeat = heartbeat;
	pump->now = time(NULL);
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
	free(pump->byfd);
	free(pump->marked);
	free(pump->work);
	free(pump->spare);
	pgsse_buf_free(&pump->scratch);
	pthread_mutex_destroy(&pump->lock);
	free(pump);
}

/* Returns how many clients the pump cut loose for PGSSE_OUT_MAX. */
uint64_t
pgsse_pump_slow(struct pgsse_pump *pump)
{
	return atomic_load_explicit(&pump->slow, memory_order_relaxed);
}

/*
 * Puts an attached client c on the pump's list and wakes the pump,
 * unless c is already there. Called with c->lock held.
 */
void
pgsse_pump_mark(struct pgsse_pump *pump, struct pgsse_client *c)
{
	struct pgsse_client	**v;
	size_t			  cap;
	uint64_t		  one = 1;
	int			  wake;

	if (!c->attached || c->marked)
		return;
	pthread_mutex_lock(&pump->lock);
	if (pump->nmarked == pump->capmarked) {
		cap = pump->capmarked ? pump->capmarked * 2 : 64;
		if ((v = realloc(pump->marked, cap * sizeof(*v))) == NULL) {
			pthread_mutex_unlock(&pump->lock);
			return;	/* served at its next event or heartbeat */
		}
		pump->marked = v;
		pump->capmarked = cap;
	}
	pump->marked[pump->nmarked++] = c;
	c->marked = 1;
	wake = pump->nmarked == 1;
	pthread_mutex_unlock(&pump->lock);
	if (wake && write(pump->efd, &one, sizeof(one)) == -1)
		return;	/* the counter is full: the pump is awake anyway */
}

/*
 * Hands c to the pump, which from now on writes to c->fd (made
 * non-blocking here) and calls c->finish when it is done with c. The
 * caller must not touch c afterwards.
 */
void
pgsse_pump_attach(struct pgsse_pump *pump, struct pgsse_client *c)
{
	int	 fl;

	if ((fl = fcntl(c->fd, F_GETFL)) != -1)
		fcntl(c->fd, F_SETFL, fl | O_NONBLOCK);
	pthread_mutex_lock(&c->lock);
	c->attached = 1;
	pgsse_pump_mark(pump, c);
	pthread_mutex_unlock(&c->lock);
}

/* Appends the client's cursor as an SSE id value. */
static enum pgsse_err
client_id(const struct pgsse_registry *reg, const struct pgsse_client *c,
    struct pgsse_buf *b)
{
	size_t		 i;
	enum pgsse_err	 er = PGSSE_OK;

	if (c->nchans == 1)
		return pgsse_buf_printf(b, "%" PRId64, c->cursor[0]);
	for (i = 0; i < c->nchans && er == PGSSE_OK; i++)
		er = pgsse_buf_printf(b, "%s%s:%" PRId64, i ? "," : "",
		    reg->channels[c->chans[i]].name, c->cursor[i]);
	return er;
}

/* Appends "id: <c's cursor>\n" to b. */
enum pgsse_err
pgsse_client_id_line(const struct pgsse_registry *reg,
    const struct pgsse_client *c, struct pgsse_buf *b)
{
	if (pgsse_buf_puts(b, "id: ") || client_id(reg, c, b) ||
	    pgsse_buf_puts(b, "\n"))
		return PGSSE_ERR_NOMEM;
	return PGSSE_OK;
}

/*
 * Appends ev to b unless c already has it or is done; durable events
 * get an id line with c's new cursor, and the end of a per-job stream
 * sets c->done.
 */
enum pgsse_err
pgsse_client_emit(const struct pgsse_registry *reg, struct pgsse_client *c,
    struct pgsse_buf *b, const struct pgsse_event *ev)
{
	size_t	 k;

	if (c->done)
		return PGSSE_OK;
	for (k = 0; k < c->nchans; k++)
		if (c->chans[k] == ev->chan)
			break;
	if (k == c->nchans)
		return PGSSE_OK;
	if (ev->reset || ev->id != 0) {
		if (ev->reset ? ev->id >= c->cursor[k] : ev->id <= c->cursor[k])
			return PGSSE_OK;
		c->cursor[k] = ev->id;
		if (pgsse_client_id_line(reg, c, b) != PGSSE_OK)
			return PGSSE_ERR_NOMEM;
	}
	if (c->job_id != 0 && ev->end)
		c->done = 1;
	return pgsse_buf_put(b, ev->frame, ev->len);
}
