/*
 * hub.c: one LISTEN connection per process, fanned out to every client.
 *
 * Design. The hub thread alone owns the LISTEN connection. It waits on
 * the socket, drains notifications, and for each doorbell reads the new
 * rows of that channel from the log (pgsse.log is the only source of
 * durable events), then hands each event to every client subscribed to
 * its channel. Raw NOTIFYs that map to a documented event are handed out
 * as they are, without an id.
 *
 * The hub never blocks on a client: a full queue makes the client dead,
 * and the pump (pump.c), which does all writing to started clients
 * without blocking, closes the stream so the browser resumes with
 * Last-Event-ID. Hang-ups and heartbeats are the pump's too.
 *
 * Dependencies. The hub calls the client (client.c) to queue events
 * and the pump to start, attach and count; the pump calls the hub back
 * only through the two callbacks given to pgsse_pump_start
 * (hub_replayed, hub_ended). The stream (stream.c) calls the hub.
 *
 * Locking: see client.c, which has the one account of the lock order
 * (hub->lock, then a client's lock, then the pump's) and of who owns
 * what.
 *
 * Replays. A resume reads the log past its cursor (resumes started
 * together share one read: stream.c) and hands what it read, framed,
 * to the pump. Until the web server has taken
 * those bytes they cost memory, so every replay takes what it buffers,
 * event by event, from one budget of PGSSE_REPLAY_BUDGET bytes per
 * process (hub->replay_bytes, atomic, so a replay never waits for the
 * hub's lock); it goes back when the pump says the replay's last byte
 * is written or the stream ended (hub_replayed, hub_ended). Whoever
 * holds the budget (a stranger's stalled resumes, say) must not starve
 * the small replays: per-job streams and resumes a few events behind.
 * So the first PGSSE_REPLAY_SMALL bytes of a replay stay outside the
 * budget, for up to PGSSE_REPLAYS_SMALL_MAX replays at once
 * (hub->replays_small, under hub->lock): as many as the default client
 * slots, so starving them takes every slot; all replays together hold
 * PGSSE_REPLAY_MEMORY at most. Nothing waits for the budget: a replay
 * that gets no room for an event is cut there, or refused if it has
 * none.
 *
 * A live registry. pgsse.load_registry() rings PGSSE_REGISTRY_BELL when
 * it commits, and the hub LISTENs to it before anything else, so a load
 * reaches it in commit order with every doorbell: it catches up with
 * the doorbells before the bell, then reloads (hub_reload), then goes
 * on. It also reloads after every (re)connect, for loads it missed.
 * The registry is a series of snapshots whose slots never move
 * (registry.c): clients and events hold slots, so nothing they hold
 * goes stale. A reload makes the next snapshot, grows the per-slot
 * arrays (subs, cursor, dirty) under hub->lock, LISTENs to new channels
 * and UNLISTENs removed ones (raw NOTIFYs), starts new channels' cursors
 * at their tails (nobody can have read them yet), and swaps hub->reg
 * under hub->lock. The hub thread alone writes hub->reg, so it reads it
 * without the lock; every other thread takes a reference under the lock
 * (pgsse_hub_registry) and reads that snapshot, as long as it likes.
 * Subscribers of a removed channel get PGSSE_REMOVED_EVENT, which ends
 * their stream; those of a channel whose privacy or readers changed are
 * stopped, so that they come back and are checked again.
 *
 * Events to one user. An event published to a user (the log's
 * recipient, or a raw NOTIFY's "user") goes to that user's clients
 * that read its channel, and to those of the user_readers, never
 * through the channel's subscriber list: hub->users holds every client
 * with a user under its name (users.c), so handing it out costs as
 * much as those users' clients, whoever else is connected. The
 * user_readers are read from the newest snapshot for each event, so a
 * change of them holds from the next event on.
 *
 * Gaps and duplicates. publish() hands out ids in commit order per
 * channel, so "id > cursor" per channel is a complete and exact resume
 * point. The hub keeps one cursor per channel; after a reconnect it
 * LISTENs first and then reads everything past its cursors, so nothing
 * committed while it was away is lost, and anything both read and rung
 * is skipped by the cursor. Each client keeps its own cursors, and skips
 * what it already sent during its replay the same way.
 */
#include <pthread.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pgsse.h"
#include "extern.h"
#include "feed.h"
#include "metrics.h"
#include "hub.h"
#include "notify.h"
#include "registry.h"

/* Backoff between reconnect attempts, in milliseconds. */
#define HUB_BACKOFF_MIN_MS 100
#define HUB_BACKOFF_MAX_MS 5000
/* How often the hub wakes to check for shutdown, in milliseconds. */
#define HUB_POLL_MS 500

/* One channel's subscribers. */
struct pgsse_hub_sub {
	struct pgsse_client	**v;
	size_t			  n;
	size_t			  cap;
};
/* One channel's figures. */
struct hub_count {
	uint64_t		  events;	/* handed out */
	uint64_t		  delivered;	/* copies queued */
};
struct pgsse_hub {
	pthread_mutex_t		 lock;
	struct pgsse_registry	*reg;		/* newest snapshot: see above */
	const char		*conninfo;
	size_t			 queue_max;
	int			 raw;		/* LISTEN for raw NOTIFYs too */
	size_t			 cap;		/* lock: slots of the arrays */
	struct pgsse_hub_sub	*subs;		/* lock; per slot */
	struct hub_count	*counts;	/* lock; per slot */
	struct pgsse_users	*users;		/* lock: clients by user */
	int64_t			*cursor;	/* lock; per slot */
	int			 epoch;		/* lock: the log's, of cursor */
	char			*dirty;		/* hub thread's: slots rung */
	size_t			 nclients;	/* lock */
	size_t			 replays;	/* lock: replays in flight */
	size_t			 replays_small;	/* lock: of them, with free bytes */
	atomic_size_t		 replay_bytes;	/* of PGSSE_REPLAY_BUDGET taken */
	uint64_t		 events, delivered, dropped, slow, refused;
	uint64_t		 reconnects;
	time_t			 last_connect;
	uint64_t		 replays_total, replayed, replays_cut;
	uint64_t		 replay_reads;
	int			 db_up;		/* lock */
	int			 ready;		/* lock: cursors set */
	atomic_int		 stop;
	int			 started;
	pthread_t		 thread;
	struct pgsse_pump	*pump;		/* writes attached clients */
};

static void	hub_replayed(struct pgsse_client *, void *);
static void	hub_ended(struct pgsse_client *, void *);

static void
sub_remove(struct pgsse_hub_sub *s, struct pgsse_client *c)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == c) {
			s->v[i] = s->v[--s->n];
			return;
		}
}

static int
sub_add(struct pgsse_hub_sub *s, struct pgsse_client *c)
{
	struct pgsse_client	**v;
	size_t			  cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 8;
		if ((v = realloc(s->v, cap * sizeof(*v))) == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = c;
	return 0;
}

/*
 * Appends ev to c's queue, or makes c dead if the queue is full; the
 * client wakes the pump. Called with hub->lock held; takes c->lock.
 */
static void
client_push(struct pgsse_hub *hub, struct pgsse_client *c,
    struct pgsse_event *ev)
{
	if (pgsse_client_push(c, ev, hub->queue_max))
		hub->slow++;
}

/*
 * Hands ev to the clients of user that read its channel. Returns how
 * many. Called with hub->lock held.
 */
static size_t
hub_to_user(struct pgsse_hub *hub, const char *user, struct pgsse_event *ev)
{
	void *const	*v;
	size_t		 i, n, k = 0;

	v = pgsse_users_find(hub->users, user, &n);
	for (i = 0; i < n; i++)
		if (pgsse_client_has(v[i], ev->chan)) {
			client_push(hub, v[i], ev);
			k++;
		}
	return k;
}

/*
 * Hands ev to every subscriber of its channel or, if it is to one user,
 * to that user's and the user_readers' (see above); takes over ev's
 * ref.
 */
static int
hub_dispatch(struct pgsse_event *ev, void *arg)
{
	struct pgsse_hub	*hub = arg;
	struct pgsse_hub_sub	*s;
	const struct pgsse_registry *reg = hub->reg;
	size_t			 i, n;

	pthread_mutex_lock(&hub->lock);
	s = &hub->subs[ev->chan];
	if (ev->id != 0) {
		if (ev->id <= hub->cursor[ev->chan])
			goto out;
		hub->cursor[ev->chan] = ev->id;
	}
	hub->events++;
	hub->counts[ev->chan].events++;
	pgsse_pump_hold(hub->pump);
	if (ev->user != NULL) {
		n = hub_to_user(hub, ev->user, ev);
		for (i = 0; i < reg->nuser_readers; i++)
			if (strcmp(reg->user_readers[i], ev->user) != 0)
				n += hub_to_user(hub, reg->user_readers[i], ev);
	} else {
		for (i = 0; i < s->n; i++)
			client_push(hub, s->v[i], ev);
		n = s->n;
	}
	pgsse_pump_release(hub->pump);
	hub->delivered += n;
	hub->counts[ev->chan].delivered += n;
out:
	pthread_mutex_unlock(&hub->lock);
	pgsse_event_unref(ev);
	return 0;
}

/*
 * Reads and dispatches new log rows of the channels flagged in dirty
 * (NULL: of every channel). Hub thread only.
 */
static enum pgsse_err
hub_catch_up(struct pgsse_hub *hub, PGconn *conn, const char *dirty)
{
	int		*chans;
	int64_t		*after;
	size_t		 i, n = 0;
	enum pgsse_err	 er = PGSSE_ERR_NOMEM;

	chans = calloc(hub->reg->n, sizeof(*chans));
	after = calloc(hub->reg->n, sizeof(*after));
	if (chans == NULL || after == NULL)
		goto out;
	pthread_mutex_lock(&hub->lock);
	for (i = 0; i < hub->reg->n; i++)
		if ((dirty == NULL || dirty[i]) &&
		    !hub->reg->channels[i].removed) {
			chans[n] = (int)i;
			after[n++] = hub->cursor[i];
		}
	pthread_mutex_unlock(&hub->lock);
	er = n == 0 ? PGSSE_OK : pgsse_feed_fetch(conn, hub->reg, chans,
	    after, n, 0, NULL, hub_dispatch, hub);
out:
	free(chans);
	free(after);
	return er;
}

/* Runs "verb name" (LISTEN or UNLISTEN). Returns -1 on failure. */
static int
hub_listen_one(PGconn *conn, const char *verb, const char *name)
{
	PGresult	*res;
	char		*id, sql[PGSSE_CHANNEL_MAX * 2 + 16];
	int		 rc;

	if ((id = PQescapeIdentifier(conn, name, strlen(name))) == NULL)
		return -1;
	/* LISTEN takes no parameters; the name is whitelisted. */
	snprintf(sql, sizeof(sql), "%s %s", verb, id);
	PQfreemem(id);
	res = PQexec(conn, sql);
	rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
	PQclear(res);
	return rc;
}

/*
 * Makes the statements prepared on the hub's new connection run their
 * generic plan, made once, from the first run. The log's read (feed.c)
 * plans the same for any parameters, but the planner costs its generic
 * plan for ten channels and no user, and so, left to choose, made a
 * custom plan on every doorbell (0.8 ms of a 0.2 ms read on the
 * partitioned log). The hub's other statements with parameters run at
 * a (re)connect or a registry load, and plan the same either way. Can't
 * fail: a server that refuses plans every read, with a log line.
 */
static void
hub_plan_once(PGconn *conn)
{
	PGresult	*res;

	res = PQexec(conn, "set plan_cache_mode = force_generic_plan");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		pgsse_log(PGSSE_LOG_WARN, "the log's read will be planned on "
		    "every doorbell: %s", PQerrorMessage(conn));
	PQclear(res);
}

/*
 * LISTENs, on a new connection, to the registry bell, the doorbell and
 * (raw) every channel. Returns -1 on failure.
 */
static int
hub_listen(struct pgsse_hub *hub, PGconn *conn)
{
	size_t	 i;

	if (hub_listen_one(conn, "LISTEN", PGSSE_REGISTRY_BELL) == -1 ||
	    hub_listen_one(conn, "LISTEN", PGSSE_DOORBELL) == -1)
		return -1;
	for (i = 0; hub->raw && i < hub->reg->n; i++)
		if (!hub->reg->channels[i].removed && hub_listen_one(conn,
		    "LISTEN", hub->reg->channels[i].name) == -1)
			return -1;
	return 0;
}

/*
 * After a reconnect, the log may have lost events the hub handed out:
 * the database failed over to a standby that lacked them, or was
 * restored or recovered without them. Its epoch then changed
 * (pgsse.log_epoch), and keep[i] is the highest cursor of the hub's
 * epoch on slot i that the new history has; or, in the same epoch, the
 * channel's log ends below the hub's cursor. Ids past keep[i] may be
 * handed out again, for other events, so an id alone cannot tell: a
 * channel whose cursor is past keep[i] starts again at tails[i], and
 * every client gets one rebase event (feed.c), which resets the cursors
 * it has past keep (client.c) and moves them all to the new epoch.
 * Called with hub->lock held.
 */
static void
hub_rebase(struct pgsse_hub *hub, int epoch, const int64_t *keep,
    const int64_t *tails)
{
	struct pgsse_event	*ev;
	struct pgsse_client	*c;
	size_t			 i, j, n = hub->reg->n;
	int			 any = epoch != hub->epoch;

	for (i = 0; i < n; i++) {
		if (hub->cursor[i] <= keep[i] || hub->reg->channels[i].removed)
			continue;
		pgsse_log(PGSSE_LOG_WARN, "log of \"%s\" (epoch %d) lost the "
		    "events past %lld: cursor %lld, now %lld (epoch %d)",
		    hub->reg->channels[i].name, hub->epoch, (long long)keep[i],
		    (long long)hub->cursor[i], (long long)tails[i], epoch);
		hub->cursor[i] = tails[i];
		any = 1;
	}
	if (!any)
		return;
	ev = pgsse_event_rebase(epoch, hub->epoch, keep, tails, n, epoch !=
	    hub->epoch ? "events were lost in a failover" :
	    "the event log went back");
	hub->epoch = epoch;
	if (ev == NULL) {
		pgsse_log(PGSSE_LOG_ERROR, "out of memory: stopping every "
		    "stream, which resume from their ids");
		for (i = 0; i < n; i++)
			for (j = 0; j < hub->subs[i].n; j++)
				pgsse_client_stop(hub->subs[i].v[j]);
		return;
	}
	/* Once per client: under its first channel. */
	for (i = 0; i < n; i++)
		for (j = 0; j < hub->subs[i].n; j++) {
			c = hub->subs[i].v[j];
			if ((size_t)pgsse_client_chans(c)[0] == i)
				client_push(hub, c, ev);
		}
	pgsse_event_unref(ev);
}

/*
 * Sets the epoch, and the cursors to the log's tails, at the first
 * connection; after a reconnect, rebases on what the log lost
 * (hub_rebase). Returns -1 on failure.
 */
static int
hub_init_cursors(struct pgsse_hub *hub, PGconn *conn)
{
	int		*chans;
	int64_t		*tails, *keep;
	size_t		 i, n = hub->reg->n;
	int		 rc = -1, epoch, was;

	chans = calloc(n + 1, sizeof(*chans));
	tails = calloc(n + 1, sizeof(*tails));
	keep = calloc(n + 1, sizeof(*keep));
	if (chans == NULL || tails == NULL || keep == NULL)
		goto out;
	for (i = 0; i < n; i++)
		chans[i] = (int)i;
	if (pgsse_feed_epoch(conn, &epoch) ||
	    pgsse_feed_tails(conn, hub->reg, chans, tails, n))
		goto out;
	pthread_mutex_lock(&hub->lock);
	was = hub->ready ? hub->epoch : 0;
	pthread_mutex_unlock(&hub->lock);
	if (was != 0 && was < epoch && pgsse_feed_epoch_tails(conn, hub->reg,
	    chans, was, keep, n))
		goto out;
	pthread_mutex_lock(&hub->lock);
	if (!hub->ready) {
		memcpy(hub->cursor, tails, n * sizeof(*tails));
		hub->epoch = epoch;
	}
	for (i = 0; i < n; i++)
		if (hub->epoch == epoch)
			keep[i] = tails[i] < hub->cursor[i] ? tails[i] :
			    INT64_MAX;
		else if (hub->epoch > epoch)
			keep[i] = -1;
	hub_rebase(hub, epoch, keep, tails);
	pthread_mutex_unlock(&hub->lock);
	rc = 0;
out:
	free(chans);
	free(tails);
	free(keep);
	return rc;
}

/*
 * Grows the per-slot arrays to hold n slots, the new ones empty. Called
 * by the hub thread with hub->lock held. Returns -1 if memory ran out
 * (the arrays still hold hub->cap slots).
 */
static int
hub_grow(struct pgsse_hub *hub, size_t n)
{
	struct pgsse_hub_sub	*subs;
	struct hub_count	*counts;
	int64_t			*cursor;
	char			*dirty;

	if (n <= hub->cap)
		return 0;
	if ((counts = realloc(hub->counts, n * sizeof(*counts))) == NULL)
		return -1;
	memset(counts + hub->cap, 0, (n - hub->cap) * sizeof(*counts));
	hub->counts = counts;
	if ((subs = realloc(hub->subs, n * sizeof(*subs))) == NULL)
		return -1;
	memset(subs + hub->cap, 0, (n - hub->cap) * sizeof(*subs));
	hub->subs = subs;
	if ((cursor = realloc(hub->cursor, n * sizeof(*cursor))) == NULL)
		return -1;
	memset(cursor + hub->cap, 0, (n - hub->cap) * sizeof(*cursor));
	hub->cursor = cursor;
	if ((dirty = realloc(hub->dirty, n)) == NULL)
		return -1;
	memset(dirty + hub->cap, 0, n - hub->cap);
	hub->dirty = dirty;
	hub->cap = n;
	return 0;
}

/*
 * Says whether slot i is live in next but was not in old: new, or
 * declared again.
 */
static int
slot_added(const struct pgsse_registry *old,
    const struct pgsse_registry *next, size_t i)
{
	return !next->channels[i].removed &&
	    (i >= old->n || old->channels[i].removed);
}

/* Says whether who may read slot i changed from old to next. */
static int
slot_access_changed(const struct pgsse_registry *old,
    const struct pgsse_registry *next, size_t i)
{
	const struct pgsse_channel	*a = &old->channels[i];
	const struct pgsse_channel	*b = &next->channels[i];
	size_t				 k;

	if (a->private != b->private || a->nreaders != b->nreaders)
		return 1;
	for (k = 0; k < a->nreaders; k++)
		if (strcmp(a->readers[k], b->readers[k]) != 0)
			return 1;
	return 0;
}

/*
 * LISTENs (raw) to the channels next adds to old and UNLISTENs those it
 * removes. Returns -1 on failure.
 */
static int
hub_relisten(struct pgsse_hub *hub, PGconn *conn,
    const struct pgsse_registry *old, const struct pgsse_registry *next)
{
	size_t	 i;

	for (i = 0; hub->raw && i < next->n; i++) {
		if (slot_added(old, next, i) && hub_listen_one(conn, "LISTEN",
		    next->channels[i].name) == -1)
			return -1;
		if (i < old->n && !old->channels[i].removed &&
		    next->channels[i].removed && hub_listen_one(conn,
		    "UNLISTEN", next->channels[i].name) == -1)
			return -1;
	}
	return 0;
}

/*
 * Tells the subscribers of slot i that its channel was removed: the
 * event ends their streams. Called with hub->lock held.
 */
static void
hub_removed(struct pgsse_hub *hub, size_t i)
{
	struct pgsse_event	*ev;
	const char		*name = hub->reg->channels[i].name;
	size_t			 j;

	pgsse_log(PGSSE_LOG_INFO, "channel \"%s\" removed: ending %zu "
	    "streams", name, hub->subs[i].n);
	if (hub->subs[i].n == 0)
		return;
	ev = pgsse_event_removed((int)i, name);
	for (j = 0; j < hub->subs[i].n; j++) {
		if (ev == NULL)	/* out of memory: end them all the same */
			pgsse_client_stop(hub->subs[i].v[j]);
		else
			client_push(hub, hub->subs[i].v[j], ev);
	}
	pgsse_event_unref(ev);
}

/*
 * Makes next the hub's registry, with the tails of the channels it adds:
 * their cursors start there. Tells the subscribers of each channel it
 * removed, and stops those of each whose readers changed. Takes over
 * the hub's reference to the old snapshot and returns it.
 */
static struct pgsse_registry *
hub_swap(struct pgsse_hub *hub, struct pgsse_registry *next,
    const int *added, const int64_t *tails, size_t nadded)
{
	struct pgsse_registry	*old;
	size_t			 i, j;

	pthread_mutex_lock(&hub->lock);
	old = hub->reg;
	for (i = 0; i < nadded; i++)
		hub->cursor[added[i]] = tails[i];
	hub->reg = next;
	for (i = 0; i < old->n; i++) {
		if (old->channels[i].removed)
			continue;
		if (next->channels[i].removed)
			hub_removed(hub, i);
		else if (slot_access_changed(old, next, i))
			for (j = 0; j < hub->subs[i].n; j++)
				pgsse_client_stop(hub->subs[i].v[j]);
	}
	pthread_mutex_unlock(&hub->lock);
	return old;
}

/*
 * Reads the registry again over conn and makes it the hub's (see the
 * design essay). Hub thread only. A registry that cannot be read or
 * rebased leaves the old one in place, with a log line. Returns -1 if
 * the connection failed, else 0.
 */
static int
hub_reload(struct pgsse_hub *hub, PGconn *conn)
{
	struct pgsse_buf	 err = { NULL, 0, 0 };
	struct pgsse_registry	*next = NULL;
	int			*added = NULL;
	int64_t			*tails = NULL;
	size_t			 i, n = 0;
	int			 rc = 0, grown;

	if ((next = pgsse_registry_load(conn, &err)) == NULL ||
	    (next = pgsse_registry_rebase(hub->reg, next, &err)) == NULL ||
	    (added = calloc(next->n + 1, sizeof(*added))) == NULL ||
	    (tails = calloc(next->n + 1, sizeof(*tails))) == NULL)
		goto fail;
	pthread_mutex_lock(&hub->lock);
	grown = hub_grow(hub, next->n);
	pthread_mutex_unlock(&hub->lock);
	if (grown == -1)
		goto fail;
	for (i = 0; i < next->n; i++)
		if (slot_added(hub->reg, next, i))
			added[n++] = (int)i;
	rc = -1;
	if (hub_relisten(hub, conn, hub->reg, next) == -1 ||
	    (n > 0 && pgsse_feed_tails(conn, next, added, tails, n) !=
	    PGSSE_OK))
		goto out;
	next = hub_swap(hub, next, added, tails, n);
	pgsse_log(PGSSE_LOG_INFO, "registry: %zu channels, %zu added",
	    pgsse_registry_nlive(hub->reg), n);
	rc = 0;
	goto out;
fail:
	if (PQstatus(conn) != CONNECTION_OK)
		rc = -1;
	pgsse_log(PGSSE_LOG_ERROR, "registry not reloaded, the old one "
	    "stays: %s", err.p != NULL ? err.p : "out of memory");
out:
	pgsse_registry_free(next);
	pgsse_buf_free(&err);
	free(added);
	free(tails);
	return rc;
}

/*
 * Handles one notification: a doorbell marks its channel in hub->dirty;
 * a raw event is handed out at once, and a registry bell reloads the
 * registry, both after the doorbells before them, so events go out in
 * commit order. Returns -1 if reading the database failed.
 */
static int
hub_notification(struct pgsse_hub *hub, PGconn *conn, PGnotify *nf,
    int *any)
{
	struct pgsse_notify	 n;
	struct pgsse_event	*ev;
	int			 rc = 0;

	pgsse_notify_map(hub->reg, nf->relname, nf->extra, &n);
	if (*any && (n.kind == PGSSE_NOTIFY_RAW ||
	    n.kind == PGSSE_NOTIFY_REGISTRY)) {
		if (hub_catch_up(hub, conn, hub->dirty) == PGSSE_ERR_DB)
			rc = -1;
		memset(hub->dirty, 0, hub->reg->n);
		*any = 0;
	}
	switch (n.kind) {
	case PGSSE_NOTIFY_DOORBELL:
		hub->dirty[n.channel - hub->reg->channels] = 1;
		*any = 1;
		break;
	case PGSSE_NOTIFY_RAW:
		ev = pgsse_event_new(0, (int)(n.channel - hub->reg->channels),
		    n.channel->name, n.event, n.data, 0, n.user);
		if (ev != NULL)
			hub_dispatch(ev, hub);
		break;
	case PGSSE_NOTIFY_REGISTRY:
		if (rc == 0)
			rc = hub_reload(hub, conn);
		break;
	default:
		pthread_mutex_lock(&hub->lock);
		hub->dropped++;
		pthread_mutex_unlock(&hub->lock);
		pgsse_log(PGSSE_LOG_WARN, "dropped notification on \"%.64s\""
		    ": %s", nf->relname, n.why);
		break;
	}
	pgsse_notify_clear(&n);
	return rc;
}

/* Serves one connection until it breaks or the hub stops. */
static void
hub_serve(struct pgsse_hub *hub, PGconn *conn)
{
	struct pollfd	 pfd;
	PGnotify	*nf;
	int		 any, rc = 0;

	while (!atomic_load(&hub->stop) && rc == 0) {
		pfd.fd = PQsocket(conn);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, HUB_POLL_MS) == -1 && errno != EINTR)
			break;
		if (PQconsumeInput(conn) == 0) {
			pgsse_log(PGSSE_LOG_WARN, "listen connection lost: %s",
			    PQerrorMessage(conn));
			break;
		}
		memset(hub->dirty, 0, hub->reg->n);
		any = 0;
		while (rc == 0 && (nf = PQnotifies(conn)) != NULL) {
			rc = hub_notification(hub, conn, nf, &any);
			PQfreemem(nf);
		}
		if (rc == 0 && any && hub_catch_up(hub, conn, hub->dirty) ==
		    PGSSE_ERR_DB)
			break;
	}
}

static void
hub_set_up(struct pgsse_hub *hub, int up)
{
	pthread_mutex_lock(&hub->lock);
	hub->db_up = up;
	if (up) {
		hub->ready = 1;
		hub->reconnects++;
		hub->last_connect = time(NULL);
	}
	pthread_mutex_unlock(&hub->lock);
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec	 ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *
hub_main(void *arg)
{
	struct pgsse_hub	*hub = arg;
	PGconn			*conn;
	unsigned int		 backoff = HUB_BACKOFF_MIN_MS;

	while (!atomic_load(&hub->stop)) {
		if ((conn = pgsse_db_connect(hub->conninfo)) != NULL)
			hub_plan_once(conn);
		if (conn == NULL || hub_listen(hub, conn) == -1 ||
		    hub_reload(hub, conn) == -1 ||
		    hub_init_cursors(hub, conn) == -1 ||
		    hub_catch_up(hub, conn, NULL) != PGSSE_OK) {
			pgsse_db_close(conn);
			sleep_ms(backoff + (unsigned)rand() % 100);
			if ((backoff *= 2) > HUB_BACKOFF_MAX_MS)
				backoff = HUB_BACKOFF_MAX_MS;
			continue;
		}
		backoff = HUB_BACKOFF_MIN_MS;
		hub_set_up(hub, 1);
		pgsse_sdnotify_ready("serving; the LISTEN connection is up");
		pgsse_log(PGSSE_LOG_INFO, "listening on %zu channels",
		    pgsse_registry_nlive(hub->reg));
		hub_serve(hub, conn);
		hub_set_up(hub, 0);
		pgsse_db_close(conn);
	}
	return NULL;
}

/*
 * Makes a hub over reg (the hub takes over the caller's reference; it
 * reloads the registry while it runs) and starts its thread.
 * With raw 0 it LISTENs to the doorbell only: raw NOTIFYs are ignored.
 * Its pump beats every heartbeat seconds and waits wait_ms between two
 * rounds (pgsse_pump_start). Returns NULL on failure. Stop and free it
 * with pgsse_hub_free.
 */
struct pgsse_hub *
pgsse_hub_start(struct pgsse_registry *reg, const char *conninfo,
    size_t queue_max, int raw, unsigned int heartbeat, unsigned int wait_ms)
{
	struct pgsse_hub	*hub;

	if ((hub = calloc(1, sizeof(*hub))) == NULL)
		return NULL;
	pthread_mutex_init(&hub->lock, NULL);
	atomic_init(&hub->replay_bytes, 0);
	hub->reg = reg;
	hub->conninfo = conninfo;
	hub->queue_max = queue_max;
	hub->raw = raw;
	hub->cap = reg->n + 1;
	hub->subs = calloc(hub->cap, sizeof(*hub->subs));
	hub->counts = calloc(hub->cap, sizeof(*hub->counts));
	hub->cursor = calloc(hub->cap, sizeof(*hub->cursor));
	hub->dirty = calloc(hub->cap, 1);
	hub->users = pgsse_users_new();
	if (hub->subs == NULL || hub->counts == NULL || hub->cursor == NULL ||
	    hub->dirty == NULL || hub->users == NULL ||
	    (hub->pump = pgsse_pump_start(heartbeat, wait_ms, hub_replayed,
	    hub_ended, hub)) == NULL ||
	    pthread_create(&hub->thread, NULL, hub_main, hub) != 0) {
		pgsse_pump_free(hub->pump);
		free(hub->subs);
		free(hub->counts);
		free(hub->cursor);
		free(hub->dirty);
		pgsse_users_free(hub->users);
		pthread_mutex_destroy(&hub->lock);
		free(hub);
		return NULL;
	}
	hub->started = 1;
	return hub;
}

/*
 * Stops the hub thread and frees the hub and its reference to the
 * registry. Accepts NULL.
 */
void
pgsse_hub_free(struct pgsse_hub *hub)
{
	size_t	 i;

	if (hub == NULL)
		return;
	atomic_store(&hub->stop, 1);
	if (hub->started)
		pthread_join(hub->thread, NULL);
	pgsse_pump_free(hub->pump);
	for (i = 0; i < hub->cap; i++)
		free(hub->subs[i].v);
	free(hub->subs);
	free(hub->counts);
	free(hub->cursor);
	free(hub->dirty);
	pgsse_users_free(hub->users);
	pgsse_registry_free(hub->reg);
	pthread_mutex_destroy(&hub->lock);
	free(hub);
}

/*
 * Reserves a client slot. Returns PGSSE_ERR_LIMIT when max clients are
 * already served, PGSSE_ERR_DB before the hub has first connected.
 */
enum pgsse_err
pgsse_hub_reserve(struct pgsse_hub *hub, size_t max)
{
	enum pgsse_err	 er = PGSSE_OK;

	pthread_mutex_lock(&hub->lock);
	if (!hub->ready)
		er = PGSSE_ERR_DB;
	else if (hub->nclients >= max) {
		er = PGSSE_ERR_LIMIT;
		hub->refused++;
	} else
		hub->nclients++;
	pthread_mutex_unlock(&hub->lock);
	return er;
}

/*
 * Starts c's replay, with nothing of the budget taken yet; its first
 * PGSSE_REPLAY_SMALL bytes are free if fewer than
 * PGSSE_REPLAYS_SMALL_MAX replays have theirs. Can't fail. The caller
 * ends it with pgsse_hub_replay_end, or attaches c, and the pump's
 * news ends it (hub_replayed, hub_ended).
 */
void
pgsse_hub_replay_begin(struct pgsse_hub *hub, struct pgsse_client *c)
{
	int	 small;

	pthread_mutex_lock(&hub->lock);
	hub->replays++;
	hub->replays_total++;
	small = hub->replays_small < PGSSE_REPLAYS_SMALL_MAX;
	if (small)
		hub->replays_small++;
	pthread_mutex_unlock(&hub->lock);
	pgsse_client_replay_begin(c, small);
}

/*
 * Makes c's share of the replay budget cover n bytes buffered (past its
 * free first bytes), taking more if it must. Returns PGSSE_ERR_LIMIT,
 * with the share unchanged, if the budget lacks room.
 */
enum pgsse_err
pgsse_hub_replay_fit(struct pgsse_hub *hub, struct pgsse_client *c,
    size_t n)
{
	size_t	 more = pgsse_client_replay_more(c, n), used;

	if (more == 0)
		return PGSSE_OK;
	used = atomic_load(&hub->replay_bytes);
	do {
		if (more > PGSSE_REPLAY_BUDGET - used)
			return PGSSE_ERR_LIMIT;
	} while (!atomic_compare_exchange_weak(&hub->replay_bytes, &used,
	    used + more));
	pgsse_client_replay_took(c, more);
	return PGSSE_OK;
}

/* Ends c's replay, if it has one, and gives back its share. Can't fail. */
void
pgsse_hub_replay_end(struct pgsse_hub *hub, struct pgsse_client *c)
{
	size_t	 bytes;
	int	 small;

	if (!pgsse_client_replay_end(c, &bytes, &small))
		return;
	atomic_fetch_sub(&hub->replay_bytes, bytes);
	pthread_mutex_lock(&hub->lock);
	hub->replays--;
	if (small)
		hub->replays_small--;
	pthread_mutex_unlock(&hub->lock);
}

/* Gives back a slot taken by pgsse_hub_reserve. Can't fail. */
void
pgsse_hub_release(struct pgsse_hub *hub)
{
	pthread_mutex_lock(&hub->lock);
	hub->nclients--;
	pthread_mutex_unlock(&hub->lock);
}

/*
 * Subscribes c to its channels, and files it under its user. A cursor
 * below 0 is set to the hub's cursor, so the client starts with the
 * next event, and c's cursors take the hub's epoch if they had none.
 * Returns PGSSE_ERR_NOTFOUND if a registry load removed one of them
 * since c looked it up, PGSSE_ERR_DB if c's cursors were checked in
 * another epoch than the hub's (retry later), PGSSE_ERR_NOMEM if memory
 * ran out; c is then subscribed to nothing.
 */
enum pgsse_err
pgsse_hub_join(struct pgsse_hub *hub, struct pgsse_client *c)
{
	const int	*chans = pgsse_client_chans(c);
	const char	*user = pgsse_client_user(c);
	size_t		 i, n = pgsse_client_nchans(c);
	enum pgsse_err	 er = PGSSE_OK;

	pthread_mutex_lock(&hub->lock);
	for (i = 0; i < n; i++)
		if (hub->reg->channels[chans[i]].removed) {
			pthread_mutex_unlock(&hub->lock);
			return PGSSE_ERR_NOTFOUND;
		}
	/* A client checked against another history than the hub's (a
	 * failover the hub has not caught up with) comes back later. */
	if (pgsse_client_epoch(c) == 0)
		pgsse_client_set_epoch(c, hub->epoch);
	else if (pgsse_client_epoch(c) != hub->epoch) {
		pthread_mutex_unlock(&hub->lock);
		return PGSSE_ERR_DB;
	}
	pgsse_client_start_from(c, hub->cursor);
	if (user != NULL && pgsse_users_add(hub->users, user, c) != PGSSE_OK)
		n = 0;
	for (i = 0; i < n; i++) {
		if (sub_add(&hub->subs[chans[i]], c) == -1) {
			while (i-- > 0)
				sub_remove(&hub->subs[chans[i]], c);
			if (user != NULL)
				pgsse_users_remove(hub->users, user, c);
			break;
		}
	}
	if (i < pgsse_client_nchans(c))
		er = PGSSE_ERR_NOMEM;
	pthread_mutex_unlock(&hub->lock);
	return er;
}

/* Unsubscribes c and drops what is left in its queue. Can't fail. */
void
pgsse_hub_leave(struct pgsse_hub *hub, struct pgsse_client *c)
{
	const int	*chans = pgsse_client_chans(c);
	const char	*user = pgsse_client_user(c);
	size_t		 i, n = pgsse_client_nchans(c);

	pthread_mutex_lock(&hub->lock);
	for (i = 0; i < n; i++)
		sub_remove(&hub->subs[chans[i]], c);
	if (user != NULL)
		pgsse_users_remove(hub->users, user, c);
	pthread_mutex_unlock(&hub->lock);
	pgsse_client_drop(c);
}

/* The pump's news that c's replay is all written: its share goes back. */
static void
hub_replayed(struct pgsse_client *c, void *arg)
{
	pgsse_hub_replay_end(arg, c);
}

/*
 * The pump's news that it closed c: off every subscriber list, its
 * replay share back. The pump finishes c next.
 */
static void
hub_ended(struct pgsse_client *c, void *arg)
{
	pgsse_hub_leave(arg, c);
	pgsse_hub_replay_end(arg, c);
}

/*
 * Hands a started client to the hub's pump, which writes to it from now
 * on and ends it; the caller must not touch c afterwards.
 */
void
pgsse_hub_attach(struct pgsse_hub *hub, struct pgsse_client *c)
{
	pgsse_pump_attach(hub->pump, c);
}

/*
 * Returns the newest snapshot of the registry, which never changes; the
 * caller holds a reference and drops it with pgsse_registry_free. A slot
 * in it names the same channel in every later snapshot. Can't fail.
 */
struct pgsse_registry *
pgsse_hub_registry(struct pgsse_hub *hub)
{
	struct pgsse_registry	*reg;

	pthread_mutex_lock(&hub->lock);
	reg = pgsse_registry_ref(hub->reg);
	pthread_mutex_unlock(&hub->lock);
	return reg;
}

/* Returns 1 once the hub has first connected, else 0. Can't fail. */
int
pgsse_hub_ready(struct pgsse_hub *hub)
{
	int	 ready;

	pthread_mutex_lock(&hub->lock);
	ready = hub->ready;
	pthread_mutex_unlock(&hub->lock);
	return ready;
}

/* Counts one client refused for the replay budget. Can't fail. */
void
pgsse_hub_refused(struct pgsse_hub *hub)
{
	pthread_mutex_lock(&hub->lock);
	hub->refused++;
	pthread_mutex_unlock(&hub->lock);
}

/* Counts one read of the log for a group of replays. Can't fail. */
void
pgsse_hub_replay_read(struct pgsse_hub *hub)
{
	pthread_mutex_lock(&hub->lock);
	hub->replay_reads++;
	pthread_mutex_unlock(&hub->lock);
}

/*
 * Counts one replay's end: events framed, and whether it was cut.
 * Can't fail.
 */
void
pgsse_hub_replayed(struct pgsse_hub *hub, size_t events, int cut)
{
	pthread_mutex_lock(&hub->lock);
	hub->replayed += events;
	hub->replays_cut += cut != 0;
	pthread_mutex_unlock(&hub->lock);
}

/*
 * Adds up the queues of every joined client into st (queued and
 * queued_max): each is counted under its first channel, so once. Takes
 * hub->lock, then each client's lock in turn; costs as much as the
 * clients, so only the metrics page asks. Can't fail.
 */
void
pgsse_hub_queues(struct pgsse_hub *hub, struct pgsse_hub_stats *st)
{
	struct pgsse_client	*c;
	size_t			 i, j, n;

	st->queued = st->queued_max = 0;
	pthread_mutex_lock(&hub->lock);
	for (i = 0; i < hub->cap; i++)
		for (j = 0; j < hub->subs[i].n; j++) {
			c = hub->subs[i].v[j];
			if ((size_t)pgsse_client_chans(c)[0] != i)
				continue;
			n = pgsse_client_queued(c);
			st->queued += n;
			if (n > st->queued_max)
				st->queued_max = n;
		}
	pthread_mutex_unlock(&hub->lock);
}

/*
 * Copies the hub's figures into st, but the queues' (pgsse_hub_queues).
 * Can't fail.
 */
void
pgsse_hub_stats(struct pgsse_hub *hub, struct pgsse_hub_stats *st)
{
	pgsse_pump_stats(hub->pump, NULL, 0, &st->lag, &st->out_bytes,
	    &st->out_max);
	pthread_mutex_lock(&hub->lock);
	st->replays_total = hub->replays_total;
	st->replayed = hub->replayed;
	st->replays_cut = hub->replays_cut;
	st->replay_reads = hub->replay_reads;
	st->clients = hub->nclients;
	st->replays = hub->replays;
	st->replay_bytes = atomic_load(&hub->replay_bytes);
	st->channels = pgsse_registry_nlive(hub->reg);
	st->events = hub->events;
	st->delivered = hub->delivered;
	st->dropped = hub->dropped;
	st->slow = hub->slow + pgsse_pump_slow(hub->pump);
	st->refused = hub->refused;
	st->db_up = hub->db_up;
	st->reconnects = hub->reconnects;
	st->last_connect = hub->last_connect;
	pthread_mutex_unlock(&hub->lock);
}

/*
 * Copies the figures of registry slots 0 to n - 1 into v; slots the hub
 * has not grown to yet get zeros. Returns n. Returns 0 if memory ran
 * out.
 */
size_t
pgsse_hub_chans(struct pgsse_hub *hub, struct pgsse_hub_chan *v, size_t n)
{
	uint64_t	*sent;
	size_t		 i;

	if ((sent = calloc(n + 1, sizeof(*sent))) == NULL)
		return 0;
	pgsse_pump_stats(hub->pump, sent, n, NULL, NULL, NULL);
	memset(v, 0, n * sizeof(*v));
	pthread_mutex_lock(&hub->lock);
	for (i = 0; i < n && i < hub->cap; i++) {
		v[i].events = hub->counts[i].events;
		v[i].delivered = hub->counts[i].delivered;
		v[i].clients = hub->subs[i].n;
	}
	pthread_mutex_unlock(&hub->lock);
	for (i = 0; i < n; i++)
		v[i].sent = sent[i];
	free(sent);
	return n;
}

/*
 * Tells every client to stop and waits up to sec seconds for all of them
 * to leave. Returns PGSSE_ERR_LIMIT if some are still there.
 */
enum pgsse_err
pgsse_hub_drain(struct pgsse_hub *hub, unsigned int sec)
{
	size_t			 i, j, left = 1;
	unsigned int		 tick;

	for (tick = 0; tick < sec * 10 && left > 0; tick++) {
		pthread_mutex_lock(&hub->lock);
		for (i = 0; i < hub->reg->n; i++)
			for (j = 0; j < hub->subs[i].n; j++)
				pgsse_client_stop(hub->subs[i].v[j]);
		left = hub->nclients;
		pthread_mutex_unlock(&hub->lock);
		if (left > 0)
			sleep_ms(100);
	}
	return left == 0 ? PGSSE_OK : PGSSE_ERR_LIMIT;
}
