/*
 * client.c: one streaming client: its channels and cursors, the queue
 * of events the hub hands it, its dead state, and the out buffer of
 * framed output waiting for its connection.
 *
 * Dependencies. A client calls only the modules below it: events
 * (feed.c), the registry, SSE and FastCGI framing and buffers. Its
 * owner (stream.c) makes it and frees it, the hub (hub.c) queues events
 * for it, and the pump (pump.c) writes it; it calls none of them by
 * name, only the two functions it is handed: the pump's wake function
 * (pgsse_client_attach) and its owner's finish (pgsse_client_on_finish).
 * The modules above call one another in one direction only:
 *
 *	stream.c -> hub.c -> pump.c -> client.c
 *	stream.c -> client.c, pool.c -> db.c; hub.c -> client.c
 *
 * The pump tells the hub about a client through callbacks the hub gives
 * it (pgsse_pump_start), never by name.
 *
 * Locking. This is the process's one account of it. Four kinds of
 * thread meet here: the acceptor, the threads that start streams
 * (stream.c: the starters of starter.c, and a per-job stream's own),
 * the hub thread and the pump thread; one of the first two starts a
 * client. Three kinds of lock, always
 * taken in this order:
 *   1. hub->lock (hub.c) guards the subscriber lists, the per-slot
 *      cursors and their size, the newest registry snapshot (which the
 *      hub thread swaps; others take a reference under the lock and
 *      read it unlocked, as snapshots never change), the client count,
 *      the replay counts and the figures.
 *   2. client->lock (here) guards the client's queue, its dead state,
 *      whether it is attached or closed, whether it is woken, and its
 *      wake function.
 *   3. pump->lock (pump.c) guards the pump's list of woken clients.
 * The hub thread takes hub->lock, then each subscriber's lock in turn,
 * appends a reference to the event and, if the client is attached and
 * not woken yet, wakes it: the pump's wake function takes pump->lock to
 * put it on the pump's list. It holds the pump's bell meanwhile
 * (pgsse_pump_hold, under hub->lock, taking pump->lock alone), so the
 * pump serves the event's subscribers in one round. The pump takes
 * each lock alone. Nothing blocks while holding a lock, and no lock is
 * taken under a later one.
 * Two counters need no lock: the hub's replay budget (hub->replay_bytes)
 * and the pump's slow clients, both atomic. The pool's lock (pool.c)
 * and the starters' queue lock (starter.c) stand apart: nothing else is
 * taken under either, and neither is taken under another.
 *
 * Who owns the rest of a client. Its channels, job id and user are set
 * by the thread that starts it and never change once it joins the hub (the hub
 * reads them under hub->lock). Its channels are registry slots, which name
 * the same channel in every snapshot (registry.c); it holds a reference
 * to the snapshot it was made with, for their names, whatever the hub
 * loads since, and drops it when freed. Its cursors, done flag, connection and out
 * buffer belong to that thread until pgsse_client_attach, and to
 * the pump thread after; so does its replay share (replaying,
 * replay_small, replay_bytes, replay_left), which the hub's replay
 * functions change on that thread's behalf. Only the pump thread, and
 * only after pgsse_client_detach, closes the connection and calls the
 * finish function, which frees the client once the hub has dropped it
 * (pgsse_hub_leave): nothing can reach it then. A client that is never
 * attached is dropped by the hub and freed by the thread that started
 * it (the acceptor, for one refused at once).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgsse.h"
#include "extern.h"
#include "client.h"
#include "fcgi.h"
#include "feed.h"
#include "registry.h"

/* Out buffers bigger than this are freed once written, so a burst does
 * not leave every client holding its peak. */
#define CLIENT_KEEP_BYTES 4096

struct pgsse_client {
	pthread_mutex_t		 lock;
	struct pgsse_event	**q;		/* lock: events to send */
	size_t			 qlen;		/* lock */
	size_t			 qcap;		/* lock */
	enum pgsse_client_dead	 dead;		/* lock */
	pgsse_client_wake	 wake;		/* lock: set while attached */
	void			*wake_arg;	/* lock */
	int			 woken;		/* lock: handed to wake */
	int			 closed;	/* lock: detached, takes nothing */
	struct pgsse_registry	*reg;		/* own ref: the id line's names */
	int			 chans[PGSSE_CHANNELS_MAX];
	int64_t			 cursor[PGSSE_CHANNELS_MAX];
	int			 epoch;		/* of the cursors; 0: not yet */
	size_t			 nchans;
	int64_t			 job_id;	/* per-job stream, else 0 */
	char			*user;		/* REMOTE_USER, or NULL */
	int			 done;		/* sends nothing more */
	int			 fd;		/* its connection */
	int			 reqid;		/* FastCGI request id; 0: CGI */
	struct pgsse_fcgi_in	 in;		/* where reading it stopped */
	int			 replaying;	/* counted as a replay (hub.c) */
	int			 replay_small;	/* its first bytes are free */
	size_t			 replay_bytes;	/* of the replay budget */
	size_t			 replay_left;	/* replay bytes not written */
	void			(*finish)(void *);
	void			*finish_arg;
	struct pgsse_buf	 out;		/* framed, not yet written */
	size_t			 outoff;	/* written part of out */
	int			 ending;	/* end of request is in out */
};

/*
 * Makes a client of no channel yet, writing to standard output (plain
 * CGI) until pgsse_client_set_conn; reg names its channels, and the
 * client takes a reference to it. Returns NULL if memory ran out. The
 * caller frees it with pgsse_client_free.
 */
struct pgsse_client *
pgsse_client_new(struct pgsse_registry *reg)
{
	struct pgsse_client	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->reg = pgsse_registry_ref(reg);
	c->fd = STDOUT_FILENO;
	return c;
}

/* Frees c and drops what its queue holds. Accepts NULL. */
void
pgsse_client_free(struct pgsse_client *c)
{
	if (c == NULL)
		return;
	pgsse_client_drop(c);
	free(c->q);
	pgsse_buf_free(&c->out);
	pgsse_registry_free(c->reg);
	free(c->user);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Sets c's connection and FastCGI request id (0: plain CGI). */
void
pgsse_client_set_conn(struct pgsse_client *c, int fd, int reqid)
{
	c->fd = fd;
	c->reqid = reqid;
}

/*
 * Sets where reading c's request stopped (fcgi.c): the pump reads on
 * from there what the web server sends after it.
 */
void
pgsse_client_set_in(struct pgsse_client *c, const struct pgsse_fcgi_in *in)
{
	c->in = *in;
}

/* Returns where reading c's request stopped. c owns it. Can't fail. */
const struct pgsse_fcgi_in *
pgsse_client_in(const struct pgsse_client *c)
{
	return &c->in;
}

/* Returns c's FastCGI request id, 0 under plain CGI. Can't fail. */
int
pgsse_client_reqid(const struct pgsse_client *c)
{
	return c->reqid;
}

/* Returns c's connection. Can't fail. */
int
pgsse_client_fd(const struct pgsse_client *c)
{
	return c->fd;
}

/*
 * Sets what ends c: fn(arg), called once by whoever ends it (the pump),
 * which may free c.
 */
void
pgsse_client_on_finish(struct pgsse_client *c, void (*fn)(void *),
    void *arg)
{
	c->finish = fn;
	c->finish_arg = arg;
}

/* Calls c's finish function; c may be gone afterwards. */
void
pgsse_client_finish(struct pgsse_client *c)
{
	c->finish(c->finish_arg);
}

/*
 * Adds the channel of registry slot chan to c, with no cursor yet,
 * unless c has it.
 * Returns PGSSE_ERR_LIMIT if c already has PGSSE_CHANNELS_MAX channels.
 */
enum pgsse_err
pgsse_client_add(struct pgsse_client *c, int chan)
{
	size_t	 i;

	for (i = 0; i < c->nchans; i++)
		if (c->chans[i] == chan)
			return PGSSE_OK;
	if (c->nchans == PGSSE_CHANNELS_MAX)
		return PGSSE_ERR_LIMIT;
	c->cursor[c->nchans] = -1;
	c->chans[c->nchans++] = chan;
	return PGSSE_OK;
}

/* Returns how many channels c has. Can't fail. */
size_t
pgsse_client_nchans(const struct pgsse_client *c)
{
	return c->nchans;
}

/* Returns 1 if c reads the channel of registry slot chan, else 0. */
int
pgsse_client_has(const struct pgsse_client *c, int chan)
{
	size_t	 i;

	for (i = 0; i < c->nchans; i++)
		if (c->chans[i] == chan)
			return 1;
	return 0;
}

/*
 * Sets c's user (REMOTE_USER; NULL or "": nobody). Returns
 * PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_client_set_user(struct pgsse_client *c, const char *user)
{
	free(c->user);
	c->user = NULL;
	if (user != NULL && *user != '\0' && (c->user = strdup(user)) == NULL)
		return PGSSE_ERR_NOMEM;
	return PGSSE_OK;
}

/* Returns c's user, or NULL for nobody; c owns it. */
const char *
pgsse_client_user(const struct pgsse_client *c)
{
	return c->user;
}

/* Returns c's channels, as registry slots; c owns them. */
const int *
pgsse_client_chans(const struct pgsse_client *c)
{
	return c->chans;
}

/* Returns c's cursors, one per channel, -1 if unset; c owns them. */
const int64_t *
pgsse_client_cursors(const struct pgsse_client *c)
{
	return c->cursor;
}

/* Moves each of c's cursors whose ids[i] is 0 or more to it. */
void
pgsse_client_seek(struct pgsse_client *c, const int64_t *ids)
{
	size_t	 i;

	for (i = 0; i < c->nchans; i++)
		if (ids[i] >= 0)
			c->cursor[i] = ids[i];
}

/*
 * Moves each of c's unset cursors to tails[its channel], so it starts
 * with the next event.
 */
void
pgsse_client_start_from(struct pgsse_client *c, const int64_t *tails)
{
	size_t	 i;

	for (i = 0; i < c->nchans; i++)
		if (c->cursor[i] < 0)
			c->cursor[i] = tails[c->chans[i]];
}

/* Sets the log epoch of c's cursors (cursor.c, hub.c). Can't fail. */
void
pgsse_client_set_epoch(struct pgsse_client *c, int epoch)
{
	c->epoch = epoch;
}

/* Returns the log epoch of c's cursors, 0 if not set yet. Can't fail. */
int
pgsse_client_epoch(const struct pgsse_client *c)
{
	return c->epoch;
}

/*
 * Checks c's cursors against the log, whose epoch is epoch: one of an
 * older epoch above its channel's keep[i] (pgsse_feed_epoch_tails; NULL
 * or -1: none is kept) or of a newer epoch saw events the log no longer
 * has; one past head is from the future, one below its channel's
 * pruned[i] expired. Each such cursor is unset, or, on a per-job
 * stream, set to the job's start, and c's cursors are then of epoch.
 * Returns why the last one was unset (static), or NULL if none was.
 */
const char *
pgsse_client_check(struct pgsse_client *c, int epoch, const int64_t *keep,
    int64_t head, const int64_t *pruned)
{
	const char	*why = NULL, *lost = NULL;
	size_t		 i;

	if (c->epoch != 0 && c->epoch != epoch)
		lost = c->epoch > epoch || keep == NULL ? "last event id is "
		    "from another history of the event log" : "events after "
		    "the last event id were lost in a failover";
	for (i = 0; i < c->nchans; i++) {
		if (lost != NULL && c->cursor[i] >= 0 && (c->epoch > epoch ||
		    keep == NULL || c->cursor[i] > keep[i]))
			why = lost;
		else if (c->cursor[i] > head)
			why = "last event id is from the future";
		else if (c->cursor[i] >= 0 && c->cursor[i] < pruned[i])
			why = "events after the last event id expired";
		else
			continue;
		c->cursor[i] = c->job_id != 0 ? 0 : -1;
	}
	c->epoch = epoch;
	return why;
}

/*
 * Makes c, of one channel, a per-job stream of job_id: it takes that
 * job's events only, from the start of the log.
 */
void
pgsse_client_set_job(struct pgsse_client *c, int64_t job_id)
{
	c->job_id = job_id;
	c->cursor[0] = 0;
}

/* Returns c's job id, or 0 if it is no per-job stream. */
int64_t
pgsse_client_job(const struct pgsse_client *c)
{
	return c->job_id;
}

/* Says c sends nothing more: its request ends after what is pending. */
void
pgsse_client_set_done(struct pgsse_client *c)
{
	c->done = 1;
}

/* Returns 1 if c sends nothing more, else 0. */
int
pgsse_client_done(const struct pgsse_client *c)
{
	return c->done;
}

/*
 * Appends the client's cursor as an SSE id value, after "<epoch>-" past
 * the log's first epoch (cursor.c).
 */
static enum pgsse_err
client_id(const struct pgsse_client *c, struct pgsse_buf *b)
{
	size_t		 i;
	enum pgsse_err	 er = PGSSE_OK;

	if (c->epoch > 1 && pgsse_buf_printf(b, "%d-", c->epoch) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	if (c->nchans == 1)
		return pgsse_buf_printf(b, "%" PRId64, c->cursor[0]);
	for (i = 0; i < c->nchans && er == PGSSE_OK; i++)
		er = pgsse_buf_printf(b, "%s%s:%" PRId64, i ? "," : "",
		    c->reg->channels[c->chans[i]].name, c->cursor[i]);
	return er;
}

/* Appends "id: <c's cursor>\n" to b. Returns PGSSE_ERR_NOMEM on
 * failure. */
enum pgsse_err
pgsse_client_id_line(const struct pgsse_client *c, struct pgsse_buf *b)
{
	if (pgsse_buf_puts(b, "id: ") || client_id(c, b) ||
	    pgsse_buf_puts(b, "\n"))
		return PGSSE_ERR_NOMEM;
	return PGSSE_OK;
}

/*
 * Takes a rebase (hub.c): each cursor of c past what the log's new
 * history keeps of it (all of them if c's epoch is not the one the
 * rebase is from) starts again at its channel's tail, and if one did,
 * appends an id line and the event's stream_reset to b. c's cursors are
 * then of the rebase's epoch. Returns PGSSE_ERR_NOMEM if memory ran out.
 */
static enum pgsse_err
client_rebase(struct pgsse_client *c, struct pgsse_buf *b,
    const struct pgsse_event *ev)
{
	size_t	 k, slot;
	int	 any = 0;

	for (k = 0; k < c->nchans; k++) {
		slot = (size_t)c->chans[k];
		if (c->epoch == ev->from && slot < ev->nslots &&
		    c->cursor[k] <= ev->keep[slot])
			continue;
		c->cursor[k] = slot < ev->nslots ? ev->tails[slot] : 0;
		any = 1;
	}
	c->epoch = ev->epoch;
	if (!any)
		return PGSSE_OK;
	if (pgsse_client_id_line(c, b) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	return pgsse_buf_put(b, ev->frame, ev->len);
}

/*
 * Appends ev to b unless c already has it or is done; durable events
 * get an id line with c's new cursor, and the end of a per-job stream
 * makes c done, as does PGSSE_REMOVED_EVENT (its channel was removed).
 * A stream of several channels names a channel's event
 * "<channel>.<event>", so that channels sharing an event name stay
 * apart in the browser; a stream of one channel and system events keep
 * the plain name. Returns PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_client_emit(struct pgsse_client *c, struct pgsse_buf *b,
    const struct pgsse_event *ev)
{
	size_t	 k;

	if (c->done)
		return PGSSE_OK;
	if (ev->reset)
		return client_rebase(c, b, ev);
	for (k = 0; k < c->nchans; k++)
		if (c->chans[k] == ev->chan)
			break;
	if (k == c->nchans)
		return PGSSE_OK;
	if (ev->id != 0) {
		if (ev->id <= c->cursor[k])
			return PGSSE_OK;
		c->cursor[k] = ev->id;
		if (pgsse_client_id_line(c, b) != PGSSE_OK)
			return PGSSE_ERR_NOMEM;
	}
	if ((c->job_id != 0 && ev->end) || ev->gone)
		c->done = 1;
	if (c->nchans > 1 && ev->qlen > 0)
		return pgsse_buf_put(b, ev->qhead, ev->qlen) ||
		    pgsse_buf_put(b, ev->frame + ev->head, ev->len - ev->head) ?
		    PGSSE_ERR_NOMEM : PGSSE_OK;
	return pgsse_buf_put(b, ev->frame, ev->len);
}

/*
 * Like pgsse_client_emit, but keeps what it appended only if fits(c, n,
 * arg) says yes, n being the bytes c's out buffer would hold once b is
 * framed into it. If not, b, c's cursors and done are as they were, and
 * it returns PGSSE_ERR_LIMIT; PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_client_emit_fit(struct pgsse_client *c, struct pgsse_buf *b,
    const struct pgsse_event *ev,
    int (*fits)(struct pgsse_client *, size_t, void *), void *arg)
{
	int64_t		 cursor[PGSSE_CHANNELS_MAX];
	size_t		 len = b->len, n;
	int		 done = c->done, epoch = c->epoch;
	enum pgsse_err	 er;

	memcpy(cursor, c->cursor, sizeof(cursor));
	if ((er = pgsse_client_emit(c, b, ev)) != PGSSE_OK || b->len == len)
		return er;
	n = c->out.len + (c->reqid == 0 ? b->len :
	    pgsse_fcgi_stdout_len(b->len));
	if (fits(c, n, arg))
		return PGSSE_OK;
	b->p[b->len = len] = '\0';
	memcpy(c->cursor, cursor, sizeof(cursor));
	c->done = done;
	c->epoch = epoch;
	return PGSSE_ERR_LIMIT;
}

/*
 * Appends n bytes of stream output to c's out buffer, framed for its
 * connection; once the end of the request is in it, drops them. Returns
 * PGSSE_ERR_LIMIT past PGSSE_OUT_MAX unwritten bytes (the client is too
 * slow), PGSSE_ERR_NOMEM if memory ran out.
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
void
pgsse_client_put_end(struct pgsse_client *c)
{
	if (c->ending)
		return;
	c->ending = 1;
	if (c->reqid != 0)
		pgsse_fcgi_end(&c->out, (unsigned int)c->reqid);
}

/* Returns 1 once the end of c's request is in its out buffer. */
int
pgsse_client_ending(const struct pgsse_client *c)
{
	return c->ending;
}

/* Notes that n more bytes of c's out buffer went; all: every byte. */
static void
client_written(struct pgsse_client *c, size_t n, int all)
{
	if (!c->replaying)
		return;
	c->replay_left = all || n >= c->replay_left ? 0 :
	    c->replay_left - n;
}

/*
 * Writes as much of c's out buffer as its connection takes now, adding
 * the bytes written to *n. A FastCGI connection is a socket, and send
 * skips write's file layer (vfs_write and the file position lock were
 * 15% of pgsse-stream's CPU at 100 events/s to 1,000 clients); plain
 * CGI's standard output may be a pipe. Returns -1 if the peer is gone, 1 if some is
 * left for when the connection is writable again, 0 once all is written
 * (the buffer is then emptied).
 */
int
pgsse_client_write(struct pgsse_client *c, size_t *n)
{
	ssize_t	 w;

	while (c->outoff < c->out.len) {
		w = c->reqid != 0 ? send(c->fd, c->out.p + c->outoff,
		    c->out.len - c->outoff, MSG_DONTWAIT | MSG_NOSIGNAL) :
		    write(c->fd, c->out.p + c->outoff, c->out.len - c->outoff);
		if (w > 0) {
			c->outoff += (size_t)w;
			*n += (size_t)w;
			client_written(c, (size_t)w, 0);
		} else if (w == -1 && errno == EINTR)
			continue;
		else if (w == -1 && errno == EAGAIN)
			return 1;
		else
			return -1;
	}
	c->outoff = 0;
	client_written(c, 0, 1);
	if (c->out.cap > CLIENT_KEEP_BYTES)
		pgsse_buf_free(&c->out);
	else
		pgsse_buf_reset(&c->out);
	return 0;
}

/*
 * Points *p at the bytes of c's out buffer not written yet, for a write
 * the caller makes (pgsse_client_sent), and returns how many there are.
 * The thread that owns the out buffer only. Can't fail.
 */
size_t
pgsse_client_unwritten(const struct pgsse_client *c, const char **p)
{
	*p = c->out.p + c->outoff;
	return c->out.len - c->outoff;
}

/*
 * Notes that the caller's write took w of the bytes pgsse_client_unwritten
 * named, adding them to *n, and writes the rest as pgsse_client_write
 * does. Returns as pgsse_client_write.
 */
int
pgsse_client_sent(struct pgsse_client *c, size_t w, size_t *n)
{
	if (w > c->out.len - c->outoff)
		w = c->out.len - c->outoff;
	c->outoff += w;
	*n += w;
	client_written(c, w, 0);
	return pgsse_client_write(c, n);
}

/* Returns the bytes of c's out buffer not written yet. The thread that
 * owns the out buffer (see above) only. Can't fail. */
size_t
pgsse_client_pending(const struct pgsse_client *c)
{
	return c->out.len - c->outoff;
}

/* Returns how many events c's queue holds. Takes c->lock. */
size_t
pgsse_client_queued(struct pgsse_client *c)
{
	size_t	 n;

	pthread_mutex_lock(&c->lock);
	n = c->qlen;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Closes c's connection and frees its out buffer. Can't fail. */
void
pgsse_client_close(struct pgsse_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	pgsse_buf_free(&c->out);
}

/*
 * Starts c's replay; small says its first PGSSE_REPLAY_SMALL bytes are
 * free of the replay budget. Can't fail.
 */
void
pgsse_client_replay_begin(struct pgsse_client *c, int small)
{
	c->replay_small = small;
	c->replay_bytes = 0;
	c->replaying = 1;
}

/*
 * Returns how many more bytes of the replay budget c must take to hold
 * n bytes buffered, past its free first bytes: 0 if it holds enough.
 */
size_t
pgsse_client_replay_more(const struct pgsse_client *c, size_t n)
{
	size_t	 free_bytes = c->replay_small ? PGSSE_REPLAY_SMALL : 0;
	size_t	 want = n > free_bytes ? n - free_bytes : 0;

	return want > c->replay_bytes ? want - c->replay_bytes : 0;
}

/* Notes that c took more bytes of the replay budget. Can't fail. */
void
pgsse_client_replay_took(struct pgsse_client *c, size_t more)
{
	c->replay_bytes += more;
}

/*
 * Notes that c's replay is all framed: the bytes its out buffer holds
 * now are the replay's, and it is over once they are written.
 */
void
pgsse_client_replay_framed(struct pgsse_client *c)
{
	c->replay_left = c->out.len;
}

/* Returns 1 if c has a replay and all its bytes are written, else 0. */
int
pgsse_client_replay_written(const struct pgsse_client *c)
{
	return c->replaying && c->replay_left == 0;
}

/*
 * Ends c's replay. Returns 0 if it had none; else 1, with the budget
 * bytes it held in *bytes and whether its first bytes were free in
 * *small, for the caller to give back.
 */
int
pgsse_client_replay_end(struct pgsse_client *c, size_t *bytes, int *small)
{
	if (!c->replaying)
		return 0;
	*bytes = c->replay_bytes;
	*small = c->replay_small;
	c->replay_bytes = 0;
	c->replay_small = 0;
	c->replay_left = 0;
	c->replaying = 0;
	return 1;
}

/* Hands c to its wake function, unless it is there already. Locked. */
static void
client_wake(struct pgsse_client *c)
{
	if (c->wake != NULL && !c->woken && c->wake(c, c->wake_arg) == 0)
		c->woken = 1;
}

/*
 * Appends ev to c's queue, if it is for c, and wakes c. A full queue
 * (queue_max events) makes c dead instead: returns 1 then, else 0.
 * Takes c->lock.
 */
int
pgsse_client_push(struct pgsse_client *c, struct pgsse_event *ev,
    size_t queue_max)
{
	struct pgsse_event	**q;
	size_t			  cap;
	int			  slow = 0;

	if (c->job_id != 0 && !ev->reset && !ev->gone &&
	    ev->job_id != c->job_id)
		return 0;
	pthread_mutex_lock(&c->lock);
	if (c->dead || c->closed)
		goto out;
	if (c->qlen == c->qcap) {
		cap = c->qcap ? c->qcap * 2 : 8;
		if (c->qlen >= queue_max || (q = realloc(c->q,
		    cap * sizeof(*q))) == NULL) {
			c->dead = PGSSE_CLIENT_SLOW;
			slow = 1;
			client_wake(c);
			goto out;
		}
		c->q = q;
		c->qcap = cap;
	}
	pgsse_event_ref(ev);
	c->q[c->qlen++] = ev;
	client_wake(c);
out:
	pthread_mutex_unlock(&c->lock);
	return slow;
}

/* Tells a live c the process is stopping, and wakes it. Takes c->lock. */
void
pgsse_client_stop(struct pgsse_client *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->dead == PGSSE_CLIENT_LIVE)
		c->dead = PGSSE_CLIENT_STOP;
	client_wake(c);
	pthread_mutex_unlock(&c->lock);
}

/* Drops what c's queue holds. Takes c->lock. */
void
pgsse_client_drop(struct pgsse_client *c)
{
	size_t	 i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->qlen; i++)
		pgsse_event_unref(c->q[i]);
	c->qlen = 0;
	pthread_mutex_unlock(&c->lock);
}

/*
 * Makes c's connection non-blocking and hands c to wake(c, arg) now and
 * whenever it gets news while not woken already. wake is called with
 * c->lock held; it returns -1 if it could not take c (c is then handed
 * to it again with its next news). After this only the thread wake
 * serves touches c's cursors, out buffer and connection.
 */
void
pgsse_client_attach(struct pgsse_client *c, pgsse_client_wake wake,
    void *arg)
{
	int	 on = 1;

	ioctl(c->fd, FIONBIO, &on);	/* one call: fcntl takes two */
	pthread_mutex_lock(&c->lock);
	c->wake = wake;
	c->wake_arg = arg;
	client_wake(c);
	pthread_mutex_unlock(&c->lock);
}

/*
 * Stops c waking and taking events: it is being ended. Returns 1 if it
 * had been handed to its wake function and not taken since (the caller
 * takes it off its list), else 0. Takes c->lock.
 */
int
pgsse_client_detach(struct pgsse_client *c)
{
	int	 woken;

	pthread_mutex_lock(&c->lock);
	woken = c->woken;
	c->woken = 0;
	c->wake = NULL;
	c->closed = 1;
	pthread_mutex_unlock(&c->lock);
	return woken;
}

/*
 * Swaps c's queue for the empty one in *q (of *cap entries), so the
 * caller gets c's events in *q, *n and *cap and owns their references;
 * c may be woken again from now on. Returns c's dead state. Takes
 * c->lock.
 */
enum pgsse_client_dead
pgsse_client_take(struct pgsse_client *c, struct pgsse_event ***q,
    size_t *n, size_t *cap)
{
	struct pgsse_event	**v = *q;
	size_t			  vcap = *cap;
	enum pgsse_client_dead	  dead;

	pthread_mutex_lock(&c->lock);
	*q = c->q;
	*cap = c->qcap;
	*n = c->qlen;
	c->q = v;
	c->qcap = vcap;
	c->qlen = 0;
	c->woken = 0;
	dead = c->dead;
	pthread_mutex_unlock(&c->lock);
	return dead;
}
