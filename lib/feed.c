/*
 * feed.c: events, and reading them back from the event log.
 *
 * An event is immutable once made and shared by every client queue that
 * holds it, so it is reference-counted; the frame is encoded once, and
 * each client adds only its own "id:" line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-events.h>

#include "pgsse.h"
#include "extern.h"
#include "feed.h"
#include "registry.h"

#define STR(x) #x
#define XSTR(x) STR(x)

/*
 * The read of the log past a cursor per channel: $1 the channels, $2
 * their cursors, $3 the reader's user (NULL reads every event, else
 * those to everyone and to $3, '' being nobody).
 *
 * Each channel is read on its own (the lateral subquery) as one range
 * of the log's (channel, id) index. The row comparisons, and ordering
 * by (channel, id), make that index the only one that yields the rows
 * in order, so the plan does not hang on the planner's guess of how
 * much of the log a channel holds: ordering by id alone, it walked the
 * primary key through every other channel's events (all 100,000 of
 * them, 50 ms, for one event). The plan is the same whether it is
 * custom or generic (made once for any parameters), so the read is
 * prepared once per connection (FEED_STMT, below), and the hub, which
 * reads on every doorbell, runs its generic plan (hub.c): planning
 * took 0.8 ms of a 0.2 ms read on a partitioned log. "l.id > c.after"
 * lets partitions below the cursor be skipped at execution. FEED_JOB adds $4, a per-job stream's job, whose read is
 * planned for that job each time (the log_job index); it is not
 * prepared.
 */
#define FEED_HEAD \
"select l.id, l.event, l.payload::text, l.channel," \
" coalesce(l.payload ->> 'job_id', '0'), l.recipient," \
" extract(epoch from l.created_at)" \
" from unnest($1::text[], $2::bigint[]) c (ch, after)" \
" cross join lateral (select l.id, l.event, l.payload, l.channel," \
" l.recipient, l.created_at from pgsse.log l" \
" where (l.channel, l.id) > (c.ch, c.after)" \
" and (l.channel, l.id) <= (c.ch, 9223372036854775807)" \
" and l.id > c.after" \
" and ($3::text is null or l.recipient is null or l.recipient = $3)"
#define FEED_JOB \
" and l.channel = 'job' and l.payload ->> 'job_id' = $4"
#define FEED_TAIL \
" order by l.channel, l.id limit " XSTR(PGSSE_FETCH_BATCH) ") l" \
" order by l.id limit " XSTR(PGSSE_FETCH_BATCH)

static const char *const fetch_sql = FEED_HEAD FEED_TAIL;
static const char *const fetch_job_sql = FEED_HEAD FEED_JOB FEED_TAIL;

/*
 * The name fetch_sql is prepared under, on every connection that reads
 * the log (the hub's, the pool's), once: feed_ready marks the
 * connection when it did. No other statement is prepared on those
 * connections (pgsse-app's, "pgsse_app_N", are on its own).
 */
#define FEED_STMT "pgsse_feed_read"
/* Its parameters: fetch_sql's. */
#define FEED_NPARAMS 3

/*
 * Makes an event whose frame carries event and data, for user (NULL:
 * everyone who reads its channel). If channel is not NULL, the event
 * also holds the header of its qualified form, "event:
 * <channel>.<event>\n", which multi-channel streams send instead of the
 * frame's own (pgsse_client_emit); system events have none. Returns
 * NULL if memory ran out or event is not a valid name. The caller holds
 * the one reference and drops it with pgsse_event_unref.
 */
struct pgsse_event *
pgsse_event_new(int64_t id, int chan, const char *channel, const char *event,
    const char *data, int64_t job_id, const char *user)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	struct pgsse_event	*ev = NULL;
	size_t			 len, qend = 0, head = strlen(event) + 8;

	if (pgsse_sse_event(&b, NULL, event, data, strlen(data)) != PGSSE_OK)
		goto out;
	len = b.len;
	/* The qualified header goes after the frame's NUL, the user after
	 * the header's. */
	if (channel != NULL && (pgsse_buf_put(&b, "", 1) != PGSSE_OK ||
	    pgsse_buf_printf(&b, "event: %s.%s\n", channel, event) != PGSSE_OK))
		goto out;
	qend = b.len;
	if (user != NULL && (pgsse_buf_put(&b, "", 1) != PGSSE_OK ||
	    pgsse_buf_puts(&b, user) != PGSSE_OK))
		goto out;
	if ((ev = malloc(sizeof(*ev) + b.len + 1)) == NULL)
		goto out;
	atomic_init(&ev->refs, 1);
	ev->id = id;
	ev->chan = chan;
	ev->job_id = job_id;
	ev->end = strcmp(event, PGSSE_JOB_END) == 0;
	ev->reset = 0;
	ev->epoch = ev->from = 0;
	ev->nslots = 0;
	ev->keep = ev->tails = NULL;
	ev->gone = 0;
	ev->published = 0;
	ev->len = len;
	ev->head = head;
	memcpy(ev->frame, b.p, b.len + 1);
	ev->qlen = channel == NULL ? 0 : qend - len - 1;
	ev->qhead = ev->frame + len + 1;
	ev->user = user == NULL ? NULL : ev->frame + qend + 1;
out:
	pgsse_buf_free(&b);
	return ev;
}

/*
 * Makes the PGSSE_REMOVED_EVENT of the channel in slot chan, named
 * channel: data {"channel": channel}, no id, and it ends the stream
 * that sends it. Its name holds a dot, which pgsse_event_new refuses,
 * so it is framed here, as the heartbeat is. Returns NULL if memory ran
 * out or channel is no channel name. The caller holds the one
 * reference.
 */
struct pgsse_event *
pgsse_event_removed(int chan, const char *channel)
{
	static const char	 head[] = "event: " PGSSE_REMOVED_EVENT "\n";
	struct pgsse_event	*ev;
	char			 frame[sizeof(head) + PGSSE_CHANNEL_MAX + 32];
	int			 len;

	if (!pgsse_name_channel_ok(channel))
		return NULL;
	len = snprintf(frame, sizeof(frame), "%sdata: {\"channel\":\"%s\"}"
	    "\n\n", head, channel);
	if (len < 0 || (size_t)len >= sizeof(frame) ||
	    (ev = calloc(1, sizeof(*ev) + (size_t)len + 1)) == NULL)
		return NULL;
	atomic_init(&ev->refs, 1);
	ev->chan = chan;
	ev->gone = 1;
	ev->len = (size_t)len;
	ev->head = sizeof(head) - 1;
	ev->qhead = ev->frame;
	memcpy(ev->frame, frame, (size_t)len + 1);
	return ev;
}

/*
 * Makes the rebase event the hub hands every client when the log's
 * history changed under it (hub.c): the log is now at epoch, and was at
 * from; per registry slot i (n of them), a cursor of epoch from above
 * keep[i] saw events the log no longer has, and starts again at
 * tails[i]. Its frame is PGSSE_RESET_EVENT with reason (a JSON string's
 * text), which a client sends only if one of its cursors started again.
 * The arrays are copied. Returns NULL if memory ran out. The caller
 * holds the one reference.
 */
struct pgsse_event *
pgsse_event_rebase(int epoch, int from, const int64_t *keep,
    const int64_t *tails, size_t n, const char *reason)
{
	struct pgsse_buf	 b = { NULL, 0, 0 }, d = { NULL, 0, 0 };
	struct pgsse_event	*ev = NULL;
	int64_t			*v;
	size_t			 off;

	if (pgsse_buf_printf(&d, "{\"reason\":\"%s\"}", reason) != PGSSE_OK ||
	    pgsse_sse_event(&b, NULL, PGSSE_RESET_EVENT, d.p, d.len) !=
	    PGSSE_OK)
		goto out;
	/* The arrays go after the frame, aligned. */
	off = (sizeof(*ev) + b.len + 1 + sizeof(int64_t) - 1) /
	    sizeof(int64_t) * sizeof(int64_t);
	if ((ev = calloc(1, off + 2 * (n ? n : 1) * sizeof(int64_t))) == NULL)
		goto out;
	atomic_init(&ev->refs, 1);
	ev->chan = -1;
	ev->reset = 1;
	ev->epoch = epoch;
	ev->from = from;
	ev->nslots = n;
	ev->len = b.len;
	ev->head = sizeof("event: " PGSSE_RESET_EVENT "\n") - 1;
	ev->qhead = ev->frame;
	memcpy(ev->frame, b.p, b.len + 1);
	v = (int64_t *)(void *)((char *)ev + off);
	memcpy(v, keep, n * sizeof(*v));
	memcpy(v + n, tails, n * sizeof(*v));
	ev->keep = v;
	ev->tails = v + n;
out:
	pgsse_buf_free(&b);
	pgsse_buf_free(&d);
	return ev;
}

/* Takes one more reference. Can't fail. */
void
pgsse_event_ref(struct pgsse_event *ev)
{
	atomic_fetch_add_explicit(&ev->refs, 1, memory_order_relaxed);
}

/* Drops one reference and frees the event with the last. Accepts NULL. */
void
pgsse_event_unref(struct pgsse_event *ev)
{
	if (ev != NULL &&
	    atomic_fetch_sub_explicit(&ev->refs, 1, memory_order_acq_rel) == 1)
		free(ev);
}

/* Writes "{a,b}" and "{1,2}" array literals for the given channels. */
static enum pgsse_err
feed_arrays(const struct pgsse_registry *reg, const int *chans,
    const int64_t *vals, size_t n, struct pgsse_buf *names,
    struct pgsse_buf *nums)
{
	size_t	 i;

	if (pgsse_buf_puts(names, "{") || pgsse_buf_puts(nums, "{"))
		return PGSSE_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (pgsse_buf_printf(names, "%s%s", i ? "," : "",
		    reg->channels[chans[i]].name) ||
		    pgsse_buf_printf(nums, "%s%" PRId64, i ? "," : "",
		    vals == NULL ? 0 : vals[i]))
			return PGSSE_ERR_NOMEM;
	}
	if (pgsse_buf_puts(names, "}") || pgsse_buf_puts(nums, "}"))
		return PGSSE_ERR_NOMEM;
	return PGSSE_OK;
}

/*
 * Asks the server to stop conn's running query, whose rows the caller
 * no longer wants; they are still drained. Can't fail: if the request
 * gets nowhere, the rest of the rows is read and dropped.
 */
static void
feed_cancel(PGconn *conn)
{
	PGcancel	*cn;
	char		 err[256];

	if ((cn = PQgetCancel(conn)) == NULL)
		return;
	if (!PQcancel(cn, err, sizeof(err)))
		pgsse_log(PGSSE_LOG_WARN, "cancelling a log read: %s", err);
	PQfreeCancel(cn);
}

/*
 * Makes the event of the row in res, with its publish time (the row's
 * created_at: when pgsse.publish()'s transaction began), and moves the cursors in cur of
 * the chans it is on past it. A row whose channel or event reg does not
 * document (a registry load removed it after it was logged) is dropped
 * with a log line. Returns 0 with the event in *ev (the caller holds
 * its reference), -1 with *ev NULL if the row was dropped, -2 if memory
 * ran out.
 */
static int
feed_row(const struct pgsse_registry *reg, PGresult *res, const int *chans,
    int64_t *cur, size_t n, struct pgsse_event **ev)
{
	const struct pgsse_channel	*ch;
	const char			*chan = PQgetvalue(res, 0, 3);
	const char			*event = PQgetvalue(res, 0, 1);
	int64_t				 id = strtoll(PQgetvalue(res, 0, 0),
					    NULL, 10);
	size_t				 k;

	*ev = NULL;
	for (k = 0; k < n; k++)
		if (id > cur[k] && strcmp(reg->channels[chans[k]].name,
		    chan) == 0)
			cur[k] = id;
	if ((ch = pgsse_registry_channel(reg, chan)) == NULL ||
	    pgsse_registry_event(ch, event) == NULL) {
		pgsse_log(PGSSE_LOG_WARN, "dropped logged event %" PRId64
		    ": \"%.64s\" is not documented on \"%.64s\"", id, event,
		    chan);
		return -1;
	}
	if (ch->personal && PQgetisnull(res, 0, 5)) {
		pgsse_log(PGSSE_LOG_WARN, "dropped logged event %" PRId64
		    ": \"%.64s\" is personal, and the event is to no user",
		    id, chan);
		return -1;
	}
	*ev = pgsse_event_new(id, (int)(ch - reg->channels), ch->name, event,
	    PQgetvalue(res, 0, 2), strtoll(PQgetvalue(res, 0, 4), NULL, 10),
	    PQgetisnull(res, 0, 5) ? NULL : PQgetvalue(res, 0, 5));
	if (*ev == NULL)
		return -2;
	(*ev)->published = strtod(PQgetvalue(res, 0, 6), NULL);
	return 0;
}

/* What feed_stale found of FEED_STMT. */
enum feed_stmt {
	FEED_STMT_OK,		/* there, or it was not used */
	FEED_STMT_GONE,		/* not on the server: prepare it */
	FEED_STMT_CHANGED	/* planned for columns that changed since (a
				 * schema upgrade): drop it and prepare it */
};

/* The mark of a connection that has FEED_STMT (feed_ready). */
static char	 feed_mark;

/*
 * libpq's news about a connection that feed_ready registered: a reset
 * one is a new session, without FEED_STMT. Returns 1; it can't fail.
 */
static int
feed_event(PGEventId id, void *info, void *pass)
{
	(void)pass;
	if (id == PGEVT_CONNRESET)
		PQsetInstanceData(((PGEventConnReset *)info)->conn,
		    feed_event, NULL);
	return 1;
}

/*
 * Makes sure conn has FEED_STMT: prepares it unless conn is marked as
 * having it, or, with how not FEED_STMT_OK, prepares it again (dropped
 * first if it changed), then marks conn. A new connection is unmarked,
 * so one that replaced a broken one (the hub's reconnect, the pool's)
 * prepares again. Returns 0, or -1 with a log line if the server
 * refused.
 */
static int
feed_ready(PGconn *conn, enum feed_stmt how)
{
	PGresult	*res;
	const char	*st;
	int		 rc = -1;

	if (how == FEED_STMT_OK && PQinstanceData(conn, feed_event) != NULL)
		return 0;
	if (how == FEED_STMT_CHANGED) {
		res = PQexec(conn, "deallocate " FEED_STMT);
		PQclear(res);
	}
	res = PQprepare(conn, FEED_STMT, fetch_sql, FEED_NPARAMS, NULL);
	st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	/* 42P05: prepared already, on a connection left unmarked. */
	if (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    (st != NULL && strcmp(st, "42P05") == 0)) {
		PQregisterEventProc(conn, feed_event, "pgsse feed", NULL);
		PQsetInstanceData(conn, feed_event, &feed_mark);
		rc = 0;
	} else
		pgsse_log(PGSSE_LOG_WARN, "preparing the log's read: %s",
		    PQerrorMessage(conn));
	PQclear(res);
	return rc;
}

/*
 * Returns what the failed result res says of FEED_STMT: gone from the
 * server (26000: a pool, or DISCARD ALL, reset the session), changed
 * (0A000: a schema upgrade changed the columns it returns), or
 * FEED_STMT_OK for any other failure. Can't fail.
 */
static enum feed_stmt
feed_stale(const PGresult *res)
{
	const char	*st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (st != NULL && strcmp(st, "26000") == 0)
		return FEED_STMT_GONE;
	if (st != NULL && strcmp(st, "0A000") == 0)
		return FEED_STMT_CHANGED;
	return FEED_STMT_OK;
}

/*
 * Sends one batch of the read with params, in single-row mode: a
 * per-job one (job set) as fetch_job_sql, any other as FEED_STMT,
 * prepared first if conn lacks it. Returns 0, or -1 if nothing was
 * sent.
 */
static int
feed_send(PGconn *conn, const char *const params[4], int job)
{
	if (job) {
		if (!PQsendQueryParams(conn, fetch_job_sql, 4, NULL, params,
		    NULL, NULL, 0))
			return -1;
	} else if (feed_ready(conn, FEED_STMT_OK) == -1 ||
	    !PQsendQueryPrepared(conn, FEED_STMT, FEED_NPARAMS, params, NULL,
	    NULL, 0))
		return -1;
	return PQsetSingleRowMode(conn) ? 0 : -1;
}

/*
 * Runs one batch of the read with params (feed_send) and passes each
 * row's event to cb, advancing cur. Rows are read one at a time
 * (single-row mode), so memory holds one row, whatever the batch. Sets
 * *rows to the rows read and *stop when cb asked to stop; the rest of
 * the query is then cancelled. If stale is not NULL and the read failed
 * at once because FEED_STMT was gone or changed (feed_stale), sets
 * *stale to which, with no log line, and returns PGSSE_ERR_DB. Returns
 * PGSSE_ERR_DB or PGSSE_ERR_NOMEM on failure. Every result is drained,
 * so conn is ready for the next query.
 */
static enum pgsse_err
feed_run(PGconn *conn, const struct pgsse_registry *reg,
    const char *const params[4], int job, const int *chans, int64_t *cur,
    size_t n, pgsse_feed_cb cb, void *arg, int *rows, int *stop,
    enum feed_stmt *stale)
{
	PGresult		*res;
	struct pgsse_event	*ev;
	enum pgsse_err		 er = PGSSE_OK;

	*rows = 0;
	if (feed_send(conn, params, job) == -1)
		er = PGSSE_ERR_DB;
	while ((res = PQgetResult(conn)) != NULL) {
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE:
			if (er != PGSSE_OK || *stop)
				break;
			(*rows)++;
			switch (feed_row(reg, res, chans, cur, n, &ev)) {
			case -1:
				break;
			case -2:
				er = PGSSE_ERR_NOMEM;
				feed_cancel(conn);
				break;
			default:
				if (cb(ev, arg)) {
					*stop = 1;
					feed_cancel(conn);
				}
				break;
			}
			break;
		case PGRES_TUPLES_OK:
			break;
		default:
			if (er != PGSSE_OK || *stop)
				break;
			er = PGSSE_ERR_DB;
			if (stale != NULL && *rows == 0 &&
			    (*stale = feed_stale(res)) != FEED_STMT_OK)
				break;
			pgsse_log(PGSSE_LOG_WARN, "reading the log: %s",
			    PQerrorMessage(conn));
			break;
		}
		PQclear(res);
	}
	return er;
}

/*
 * Runs one batch as feed_run does; if FEED_STMT was gone or changed,
 * prepares it again and runs the batch once more (nothing was read
 * yet). Returns as feed_run.
 */
static enum pgsse_err
feed_batch(PGconn *conn, const struct pgsse_registry *reg,
    const char *const params[4], int job, const int *chans, int64_t *cur,
    size_t n, pgsse_feed_cb cb, void *arg, int *rows, int *stop)
{
	enum feed_stmt	 stale = FEED_STMT_OK;
	enum pgsse_err	 er;

	er = feed_run(conn, reg, params, job, chans, cur, n, cb, arg, rows,
	    stop, job ? NULL : &stale);
	if (stale != FEED_STMT_OK && feed_ready(conn, stale) == 0)
		er = feed_run(conn, reg, params, job, chans, cur, n, cb, arg,
		    rows, stop, NULL);
	return er;
}

/*
 * Reads, in id order, every logged event on chans[i] with an id above
 * after[i] (when job_id is not 0, for that job only; when user is not
 * NULL, only those to everyone and to user, "" being nobody), and passes
 * each that reg documents to cb, which takes over the reference; the
 * rest are dropped with a log line. Stops early, with
 * PGSSE_OK, when cb returns non-zero. Reads in batches of
 * PGSSE_FETCH_BATCH rows, one row in memory at a time. Returns
 * PGSSE_ERR_DB or PGSSE_ERR_NOMEM on failure; events already passed to
 * cb stay passed.
 */
enum pgsse_err
pgsse_feed_fetch(PGconn *conn, const struct pgsse_registry *reg,
    const int *chans, const int64_t *after, size_t n, int64_t job_id,
    const char *user, pgsse_feed_cb cb, void *arg)
{
	struct pgsse_buf	 names = { NULL, 0, 0 }, nums = { NULL, 0, 0 };
	int64_t			*cur = NULL;
	char			 job[24];
	const char		*params[4];
	enum pgsse_err		 er = PGSSE_ERR_NOMEM;
	int			 rows, stop = 0;

	if ((cur = calloc(n ? n : 1, sizeof(*cur))) == NULL)
		goto out;
	memcpy(cur, after, n * sizeof(*cur));
	snprintf(job, sizeof(job), "%" PRId64, job_id);
	do {
		pgsse_buf_reset(&names);
		pgsse_buf_reset(&nums);
		er = PGSSE_ERR_NOMEM;
		if (feed_arrays(reg, chans, cur, n, &names, &nums))
			goto out;
		params[0] = names.p;
		params[1] = nums.p;
		params[2] = user;
		params[3] = job;
		er = feed_batch(conn, reg, params, job_id != 0, chans, cur, n,
		    cb, arg, &rows, &stop);
	} while (er == PGSSE_OK && !stop && rows == PGSSE_FETCH_BATCH);
out:
	pgsse_buf_free(&names);
	pgsse_buf_free(&nums);
	free(cur);
	return er;
}

/*
 * Fills pruned[i] with the highest id that retention removed from
 * chans[i], or 0. Returns PGSSE_ERR_DB or PGSSE_ERR_NOMEM on failure.
 */
enum pgsse_err
pgsse_feed_pruned(PGconn *conn, const struct pgsse_registry *reg,
    const int *chans, int64_t *pruned, size_t n)
{
	struct pgsse_buf	 names = { NULL, 0, 0 }, nums = { NULL, 0, 0 };
	const char		*params[1];
	PGresult		*res = NULL;
	enum pgsse_err		 er = PGSSE_ERR_NOMEM;
	size_t			 k;
	int			 i;

	memset(pruned, 0, n * sizeof(*pruned));
	if (feed_arrays(reg, chans, NULL, n, &names, &nums))
		goto out;
	params[0] = names.p;
	res = PQexecParams(conn, "select channel, pruned_through from "
	    "pgsse.channel_state where channel = any($1::text[])", 1, NULL,
	    params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		er = PGSSE_ERR_DB;
		goto out;
	}
	for (i = 0; i < PQntuples(res); i++)
		for (k = 0; k < n; k++)
			if (strcmp(reg->channels[chans[k]].name,
			    PQgetvalue(res, i, 0)) == 0)
				pruned[k] = strtoll(PQgetvalue(res, i, 1),
				    NULL, 10);
	er = PGSSE_OK;
out:
	PQclear(res);
	pgsse_buf_free(&names);
	pgsse_buf_free(&nums);
	return er;
}

/*
 * Reads the highest id ever handed out into *head (0 if none).
 * Returns PGSSE_ERR_DB on failure.
 */
enum pgsse_err
pgsse_feed_head(PGconn *conn, int64_t *head)
{
	PGresult	*res;
	enum pgsse_err	 er = PGSSE_ERR_DB;

	res = PQexecParams(conn, "select coalesce(pg_sequence_last_value("
	    "'pgsse.log_id_seq'), 0)", 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		*head = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		er = PGSSE_OK;
	}
	PQclear(res);
	return er;
}

/*
 * Fills tails[i] with the highest id logged on chans[i], or 0: a cursor
 * that is safe to start from, because publish() hands out ids in commit
 * order per channel. Returns PGSSE_ERR_DB or PGSSE_ERR_NOMEM on failure.
 */
enum pgsse_err
pgsse_feed_tails(PGconn *conn, const struct pgsse_registry *reg,
    const int *chans, int64_t *tails, size_t n)
{
	struct pgsse_buf	 names = { NULL, 0, 0 }, nums = { NULL, 0, 0 };
	const char		*params[1];
	PGresult		*res = NULL;
	enum pgsse_err		 er = PGSSE_ERR_NOMEM;
	size_t			 k;

	if (feed_arrays(reg, chans, NULL, n, &names, &nums))
		goto out;
	params[0] = names.p;
	res = PQexecParams(conn, "select coalesce((select max(id) from "
	    "pgsse.log where channel = c.ch), (select pruned_through from "
	    "pgsse.channel_state where channel = c.ch), 0) from "
	    "unnest($1::text[]) with ordinality c (ch, i) order by c.i",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK ||
	    (size_t)PQntuples(res) != n) {
		er = PGSSE_ERR_DB;
		goto out;
	}
	for (k = 0; k < n; k++)
		tails[k] = strtoll(PQgetvalue(res, (int)k, 0), NULL, 10);
	er = PGSSE_OK;
out:
	PQclear(res);
	pgsse_buf_free(&names);
	pgsse_buf_free(&nums);
	return er;
}

/*
 * Reads the log's epoch into *epoch (pgsse.log_epoch, which begins a
 * new one if this server has none of its own: sql/pgsse.sql). A schema
 * older than version 3 has no epochs: everything in it is epoch 1's.
 * Returns PGSSE_ERR_DB on failure.
 */
enum pgsse_err
pgsse_feed_epoch(PGconn *conn, int *epoch)
{
	PGresult	*res;
	const char	*st;
	enum pgsse_err	 er = PGSSE_ERR_DB;

	res = PQexecParams(conn, "select pgsse.log_epoch()", 0, NULL, NULL,
	    NULL, NULL, 0);
	st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		*epoch = atoi(PQgetvalue(res, 0, 0));
		er = *epoch > 0 ? PGSSE_OK : PGSSE_ERR_DB;
	} else if (st != NULL && strcmp(st, "42883") == 0) {
		*epoch = 1;	/* undefined_function: no epochs yet */
		er = PGSSE_OK;
	} else
		pgsse_log(PGSSE_LOG_WARN, "reading the log's epoch: %s",
		    PQerrorMessage(conn));
	PQclear(res);
	return er;
}

/*
 * Fills keep[i] with the highest cursor of epoch on chans[i] that
 * resumes exactly in the log as it is now: the channel's tail when the
 * next epoch began (events of epoch above it were lost), 0 if it had
 * none; -1 for every channel if epoch is not in this log's history (an
 * epoch it has not reached, or that another server began). Call it only
 * for an epoch below the log's. Returns PGSSE_ERR_DB or PGSSE_ERR_NOMEM
 * on failure.
 */
enum pgsse_err
pgsse_feed_epoch_tails(PGconn *conn, const struct pgsse_registry *reg,
    const int *chans, int epoch, int64_t *keep, size_t n)
{
	struct pgsse_buf	 names = { NULL, 0, 0 }, nums = { NULL, 0, 0 };
	char			 e[16];
	const char		*params[2] = { NULL, e };
	PGresult		*res = NULL;
	enum pgsse_err		 er = PGSSE_ERR_NOMEM;
	size_t			 k;

	for (k = 0; k < n; k++)
		keep[k] = -1;
	if (feed_arrays(reg, chans, NULL, n, &names, &nums))
		goto out;
	params[0] = names.p;
	snprintf(e, sizeof(e), "%d", epoch);
	res = PQexecParams(conn, "select coalesce((select t.tail from "
	    "pgsse.epoch_tails t where t.epoch = $2::int + 1 and t.channel = "
	    "c.ch), 0) from unnest($1::text[]) with ordinality c (ch, i) "
	    "where (select count(*) from pgsse.epochs where epoch in "
	    "($2::int, $2::int + 1)) = 2 order by c.i", 2, NULL, params, NULL,
	    NULL, 0);
	er = PGSSE_ERR_DB;
	if (PQresultStatus(res) != PGRES_TUPLES_OK ||
	    (PQntuples(res) != 0 && (size_t)PQntuples(res) != n))
		goto out;
	for (k = 0; k < (size_t)PQntuples(res); k++)
		keep[k] = strtoll(PQgetvalue(res, (int)k, 0), NULL, 10);
	er = PGSSE_OK;
out:
	PQclear(res);
	pgsse_buf_free(&names);
	pgsse_buf_free(&nums);
	return er;
}
