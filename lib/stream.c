/*
 * stream.c: the SSE stream server.
 *
 * One acceptor thread takes FastCGI requests. Health and every refusal
 * are answered there at once, and a fresh stream (no Last-Event-ID, no
 * job) is started there too: it joins the hub and frames its headers
 * into the client's out buffer, which takes no database and no thread.
 * A resume waits in a bounded queue (PGSSE_START_QUEUE_MAX, refused
 * past it) for one of PGSSE_STARTERS starter threads (starter.c), which
 * takes with it the queued resumes alike to it (stream_alike), checks
 * their cursors and reads their replays with one read of the log, and
 * frames each. Either way the stream is then handed to the pump
 * (pump.c), which writes all of it without blocking. A per-job stream
 * still gets a short-lived thread of its own, as it may wait up to
 * PGSSE_JOB_GRACE_MS for its job, and so does a metrics page
 * (PGSSE_METRICS_SCRAPES_MAX at once). See client.c for the locking,
 * hub.c for the resume rules.
 *
 * Dependencies. The stream calls the hub (hub.c), its clients
 * (client.c), the pool (pool.c) and the log (feed.c); none of them
 * calls it but through a client's finish function (stream_done).
 *
 * Replays. A resume reads the log past its cursor with a pooled
 * connection, which it gives back before anything is written. Resumes
 * that queued up together and are alike (stream_alike: the same
 * channels, user and epoch, nearby cursors) share that connection, one
 * check of their cursors and one read of the log from the lowest of
 * them (stream_replay): each event read is offered to every replay of
 * the group, and each keeps it only past its own cursor, so each gets
 * exactly what it would have read alone, under the same bounds. A
 * replay keeps at most PGSSE_REPLAY_BYTES, each event's bytes taken from the
 * process's replay budget (hub.c) before the event is kept. A replay
 * that would pass PGSSE_REPLAY_BYTES, or finds the budget full, is cut
 * before that event, and the stream then ends instead of going on live
 * (that would skip what the cut left out), so the browser resumes from
 * the last id it got. A replay with no room for its first event is told
 * to retry; the first PGSSE_REPLAY_SMALL bytes of a replay are free, so
 * small replays are served whoever holds the budget.
 */
#include <pthread.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "pgsse.h"
#include "extern.h"
#include "query.h"
#include "http.h"
#include "cursor.h"
#include "client.h"
#include "fcgi.h"
#include "accept.h"
#include "metrics.h"
#include "hub.h"
#include "registry.h"
#include "starter.h"

/* Stack of a metrics page's or a per-job stream's thread. */
#define STREAM_STACK (128 * 1024)
/* Seconds to wait for the first database connection before serving. */
#define STREAM_READY_WAIT_SEC 10
/* Seconds to wait for the streams to end at shutdown. */
#define STREAM_DRAIN_SEC 5
/* Where the stream's connection settings come from, for messages. */
#define STREAM_SETTING "PGSSE_STREAM_CONNINFO, PGSSE_CONNINFO or the PG* " \
	"variables"
/* Bytes from which a buffer gets pages of its own (mmap), given back
 * when freed and grown in place (mremap). Fixed, so that glibc does not
 * raise it past replay-sized buffers: a starter grows many replays at
 * once in one arena, whose freed smaller copies then stay resident. */
#define STREAM_MMAP_THRESHOLD (128 * 1024)
/* Listen backlog of a socket we open ourselves: connections a storm may
 * queue before the acceptor takes them (the kernel caps it at
 * net.core.somaxconn, 4096 by default). lighttpd's 1024 overflowed in a
 * storm of 9,000 streams (etc/lighttpd/pgsse.conf); this is the same
 * room for nginx and systemd's sockets. */
#define STREAM_BACKLOG 4096
/* First pause, in milliseconds, between looks for a job that is not in
 * pgsse.jobs yet; each pause doubles, up to PGSSE_JOB_GRACE_MS in all. */
#define STREAM_JOB_POLL_MS 50
/* Replayed SSE text gathered before it is framed: one FastCGI record. */
#define STREAM_CHUNK PGSSE_FCGI_BODY_MAX

enum route {
	ROUTE_SSE,
	ROUTE_JOB,
	ROUTE_HEALTH,
	ROUTE_METRICS,
	ROUTE__MAX
};

struct stream {
	struct pgsse_req	 req;		/* own: q, out, the connection */
	struct pgsse_fcgi_req	*q;		/* the request, till started */
	struct pgsse_buf	 out;		/* an answer not yet sent */
	struct pgsse_fcgi_in	 in;		/* where reading q stopped */
	struct pgsse_registry	*reg;		/* own ref: names its channels */
	struct pgsse_client	*client;
	int			 replay;	/* read the log first */
	int			 resumed;	/* the client sent a cursor */
	int			 nojob;		/* per-job stream, no such job */
	int			 gone;		/* a channel of it was removed */
	int			 scrape;	/* the metrics page */
	const char		*reset;		/* why cursors were reset */
};

static struct {
	const struct pgsse_stream_cfg	*cfg;
	struct pgsse_hub		*hub;
	struct pgsse_pool		*pool;
	struct pgsse_scrape		*scrape;	/* the metrics page */
	struct pgsse_starter		*starter;	/* starts resumes */
	volatile sig_atomic_t		 stop;
} srv;

static const char sse_headers[] =
	"Status: 200 OK\r\n"
	"Content-Type: text/event-stream\r\n"
	"Cache-Control: no-cache\r\n"
	"X-Accel-Buffering: no\r\n";

/* Fills cfg with the defaults. Can't fail. */
void
pgsse_stream_cfg_default(struct pgsse_stream_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->conninfo = "";
	cfg->max_clients = PGSSE_CLIENTS_MAX;
	cfg->heartbeat = PGSSE_HEARTBEAT_SEC;
	cfg->retry_ms = PGSSE_RETRY_MS;
	cfg->queue_max = PGSSE_QUEUE_MAX;
	cfg->raw = 1;
}

/*
 * Turns a client away with 200, a jittered retry: hint and a comment,
 * so an EventSource comes back later; others get Retry-After.
 */
static void
stream_refuse(struct pgsse_req *r, const char *why)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	unsigned int		 ms;

	ms = srv.cfg->retry_ms + (unsigned)rand() % (srv.cfg->retry_ms + 1);
	if (pgsse_buf_printf(&b, "%sRetry-After: %u\r\n\r\n", sse_headers,
	    (ms + 999) / 1000) == PGSSE_OK &&
	    pgsse_sse_retry(&b, ms) == PGSSE_OK &&
	    pgsse_sse_comment(&b, why) == PGSSE_OK &&
	    pgsse_req_write(r, b.p, b.len) == PGSSE_OK)
		pgsse_req_flush(r);
	pgsse_buf_free(&b);
}

/* Answers the health page: JSON figures, 503 while the database is
 * down. The metrics page is scrape.c's. */
static void
stream_health(struct pgsse_req *r)
{
	struct pgsse_hub_stats	 st;
	struct pgsse_buf	 b = { NULL, 0, 0 };
	enum pgsse_err		 er;

	pgsse_hub_stats(srv.hub, &st);
	er = pgsse_buf_printf(&b, "Status: %s\r\nContent-Type: "
	    "application/json\r\nCache-Control: no-store\r\n\r\n"
	    "{\"status\":\"%s\",\"pid\":%d,\"clients\":%zu,"
	    "\"replays\":%zu,\"replay_bytes\":%zu,\"replays_total\":%"
	    PRIu64 ",\"replay_reads\":%" PRIu64 ",\"channels\":%zu,"
	    "\"events\":%" PRIu64
	    ",\"delivered\":%" PRIu64 ",\"dropped\":%" PRIu64
	    ",\"slow\":%" PRIu64 ",\"refused\":%" PRIu64
	    ",\"db\":\"%s\",\"db_connects\":%" PRIu64
	    ",\"db_last_connect\":%lld}\n",
	    pgsse_http_status_line(st.db_up ? PGSSE_HTTP_200 :
	    PGSSE_HTTP_503), st.db_up ? "ok" : "degraded", (int)getpid(),
	    st.clients, st.replays, st.replay_bytes, st.replays_total,
	    st.replay_reads, st.channels,
	    st.events, st.delivered, st.dropped, st.slow, st.refused,
	    st.db_up ? "up" : "down", st.reconnects,
	    (long long)st.last_connect);
	if (er == PGSSE_OK && pgsse_req_write(r, b.p, b.len) == PGSSE_OK)
		pgsse_req_flush(r);
	pgsse_buf_free(&b);
}

/*
 * Sets the client's cursors from a Last-Event-ID (cursor.c). A bad id
 * is not an error: the cursors stay as they were (from now, or a job's
 * start) and the client is told to reload with stream_reset.
 */
static void
stream_cursors(struct stream *s, const char *z)
{
	const struct pgsse_registry	*reg = s->reg;
	const int			*chans = pgsse_client_chans(s->client);
	struct pgsse_cursor		 cur;
	const char			*names[PGSSE_CHANNELS_MAX];
	size_t				 i, n = pgsse_client_nchans(s->client);

	for (i = 0; i < n; i++)
		names[i] = reg->channels[chans[i]].name;
	pgsse_cursor_parse(&cur, z, names, n);
	if ((s->reset = cur.reset) != NULL || !cur.given)
		return;
	pgsse_client_seek(s->client, cur.id);
	pgsse_client_set_epoch(s->client, cur.epoch);
	s->replay = s->resumed = 1;
}

/*
 * Adds channel name to the stream, as the stream's registry snapshot
 * has it. Returns an HTTP status.
 */
static enum pgsse_http_status
stream_add_channel(struct stream *s, const char *name, const char **why)
{
	const struct pgsse_registry	*reg = s->reg;
	const struct pgsse_channel	*ch;

	if (!pgsse_name_channel_ok(name) ||
	    (ch = pgsse_registry_channel(reg, name)) == NULL) {
		*why = "unknown channel";
		return PGSSE_HTTP_404;
	}
	if (!pgsse_registry_may_read(ch, pgsse_req_param(&s->req,
	    "REMOTE_USER"))) {
		*why = "channel is private";
		return PGSSE_HTTP_403;
	}
	if (ch->personal && pgsse_client_user(s->client) == NULL) {
		*why = "channel is personal: authenticate (REMOTE_USER)";
		return PGSSE_HTTP_403;
	}
	if (pgsse_client_add(s->client, (int)(ch - reg->channels)) !=
	    PGSSE_OK) {
		*why = "too many channels (PGSSE_CHANNELS_MAX)";
		return PGSSE_HTTP_400;
	}
	return PGSSE_HTTP_200;
}

static enum pgsse_http_status
stream_job(struct stream *s, const char *rest, const char **why)
{
	enum pgsse_http_status	 st;
	size_t			 len = strcspn(rest, "/");
	int64_t			 job_id;

	if (strcmp(rest + len, "/stream") != 0 ||
	    (job_id = pgsse_cursor_id(rest, len)) <= 0) {
		*why = "no such path";
		return PGSSE_HTTP_404;
	}
	if ((st = stream_add_channel(s, PGSSE_JOB_CHANNEL, why)) !=
	    PGSSE_HTTP_200)
		return st;
	pgsse_client_set_job(s->client, job_id);
	s->replay = 1;
	return PGSSE_HTTP_200;
}

/*
 * Reads the request into s and says which route it takes. Returns an
 * HTTP status; with anything but 200, *why says what was wrong.
 */
static enum pgsse_http_status
stream_parse(struct stream *s, enum route *route, const char **why)
{
	struct pgsse_query	 q;
	const char		*method, *uri, *qs, *id;
	char			 path[256];
	size_t			 len, i;
	enum pgsse_http_status	 st = PGSSE_HTTP_200;

	memset(&q, 0, sizeof(q));
	method = pgsse_req_param(&s->req, "REQUEST_METHOD");
	uri = pgsse_req_param(&s->req, "REQUEST_URI");
	qs = pgsse_req_param(&s->req, "QUERY_STRING");
	if (method == NULL || strcmp(method, "GET") != 0) {
		*why = "only GET is allowed";
		return PGSSE_HTTP_405;
	}
	if (uri == NULL || (len = strcspn(uri, "?")) >= sizeof(path)) {
		*why = "no such path";
		return PGSSE_HTTP_404;
	}
	memcpy(path, uri, len);
	path[len] = '\0';
	switch (pgsse_query_parse(qs, &q)) {
	case PGSSE_OK:
		break;
	case PGSSE_ERR_LIMIT:
		*why = "query string too long (PGSSE_QUERY_MAX)";
		st = qs != NULL && strlen(qs) > PGSSE_QUERY_MAX ?
		    PGSSE_HTTP_414 : PGSSE_HTTP_400;
		goto out;
	default:
		*why = "malformed query string";
		st = PGSSE_HTTP_400;
		goto out;
	}
	if (strcmp(path, "/api/sse-health") == 0)
		*route = ROUTE_HEALTH;
	else if (strcmp(path, "/api/sse-metrics") == 0)
		*route = ROUTE_METRICS;
	else if (strncmp(path, "/api/sse/", 9) == 0) {
		*route = ROUTE_SSE;
		st = stream_add_channel(s, path + 9, why);
	} else if (strcmp(path, "/api/sse") == 0) {
		*route = ROUTE_SSE;
		for (len = 0, i = 0; i < q.n; i++)
			len += strcmp(q.pairs[i].key, "channel") == 0;
		if (len > PGSSE_CHANNELS_MAX) {
			*why = "too many channels (PGSSE_CHANNELS_MAX)";
			st = PGSSE_HTTP_400;
			goto out;
		}
		for (i = 0; i < q.n && st == PGSSE_HTTP_200; i++)
			if (strcmp(q.pairs[i].key, "channel") == 0)
				st = stream_add_channel(s, q.pairs[i].val, why);
		if (st == PGSSE_HTTP_200 &&
		    pgsse_client_nchans(s->client) == 0) {
			*why = "no channel given";
			st = PGSSE_HTTP_400;
		}
	} else if (strncmp(path, "/api/jobs/", 10) == 0) {
		*route = ROUTE_JOB;
		st = stream_job(s, path + 10, why);
	} else {
		*why = "no such path";
		st = PGSSE_HTTP_404;
	}
	if (st != PGSSE_HTTP_200 || *route > ROUTE_JOB)
		goto out;
	if ((id = pgsse_req_param(&s->req, "HTTP_LAST_EVENT_ID")) == NULL)
		id = pgsse_query_get(&q, "last_event_id");
	stream_cursors(s, id);
out:
	pgsse_query_free(&q);
	return st;
}

struct replay {
	struct stream		*s;
	struct pgsse_buf	*b;		/* SSE text not yet framed */
	size_t			 events;	/* events kept */
	int			 cut;		/* events were left out */
	int			 stopped;	/* takes no more events */
	enum pgsse_err		 er;
};

/* One stream of a group started together (stream_start). */
struct start {
	struct stream		*s;
	struct pgsse_buf	 b;		/* headers and replay, unframed */
	struct replay		 rp;
	int			 joined;	/* in the hub, headers in b */
	enum pgsse_err		 er;
};

/* The streams of a group whose replays one read of the log serves. */
struct group {
	struct start		*v;
	size_t			 n;
	size_t			 live;		/* replays not stopped */
};

/*
 * Frames the SSE text in b into the client's out buffer and empties b.
 * Returns PGSSE_ERR_NOMEM if memory ran out or the buffer would pass
 * PGSSE_OUT_MAX (only an event that large can do that).
 */
static enum pgsse_err
stream_put(struct stream *s, struct pgsse_buf *b)
{
	enum pgsse_err	 er;

	er = pgsse_client_put(s->client, b->p, b->len);
	pgsse_buf_reset(b);
	return er == PGSSE_OK ? PGSSE_OK : PGSSE_ERR_NOMEM;
}

/*
 * Says if the client's out buffer may hold n bytes once the replay's
 * next event is framed into it: not past PGSSE_REPLAY_BYTES (unless it
 * is the first event), and with room in the replay budget, which then
 * holds them.
 */
static int
replay_fits(struct pgsse_client *c, size_t n, void *arg)
{
	struct replay	*rp = arg;

	return (rp->events == 0 || n <= PGSSE_REPLAY_BYTES) &&
	    pgsse_hub_replay_fit(srv.hub, c, n) == PGSSE_OK;
}

/*
 * Takes one replayed event, and its bytes from the replay budget, into
 * one replay of a group; the event stays the caller's. An event that
 * does not fit (replay_fits) is left out as if never read and stops
 * this replay: it is cut there, or, with no event kept yet, refused
 * (rp->er is PGSSE_ERR_LIMIT). Returns 1 once the replay takes no more.
 */
static int
replay_one(struct replay *rp, const struct pgsse_event *ev)
{
	struct pgsse_client	*c = rp->s->client;
	size_t			 len = rp->b->len;

	rp->er = pgsse_client_emit_fit(c, rp->b, ev, replay_fits, rp);
	if (rp->er == PGSSE_ERR_LIMIT) {
		if (rp->events > 0)
			rp->er = PGSSE_OK;
		rp->cut = 1;
		return 1;
	}
	if (rp->er != PGSSE_OK || rp->b->len == len)
		return rp->er != PGSSE_OK || pgsse_client_done(c);
	rp->events++;
	if (rp->b->len >= STREAM_CHUNK)
		rp->er = stream_put(rp->s, rp->b);
	return rp->er != PGSSE_OK || pgsse_client_done(c);
}

/*
 * Hands one event read from the log to every replay of the group that
 * still takes events, each of which keeps it only past its own cursors
 * (pgsse_client_emit). Stops the read once none takes more.
 */
static int
replay_cb(struct pgsse_event *ev, void *arg)
{
	struct group	*g = arg;
	size_t		 i;

	for (i = 0; i < g->n; i++) {
		if (g->v[i].rp.stopped)
			continue;
		if (replay_one(&g->v[i].rp, ev)) {
			g->v[i].rp.stopped = 1;
			g->live--;
		}
	}
	pgsse_event_unref(ev);
	return g->live == 0;
}

/*
 * Checks the cursors of a group's n clients, which read the same
 * channels from the same epoch (stream_alike), against the log, with
 * one look at it: one from an older epoch past what the log kept of it
 * (a failover lost events), from another history, from the future or
 * from before retention resets that channel to "now" (a per-job stream:
 * to the job's start) and makes the stream send stream_reset.
 */
static enum pgsse_err
stream_check_cursors(struct start *v, size_t n, PGconn *conn)
{
	struct stream		*s = v[0].s;
	struct pgsse_client	*c = s->client;
	int64_t			 head, pruned[PGSSE_CHANNELS_MAX];
	int64_t			 keep[PGSSE_CHANNELS_MAX];
	const char		*why;
	size_t			 k;
	int			 epoch, was = pgsse_client_epoch(c);

	for (k = 0; k < PGSSE_CHANNELS_MAX; k++)
		keep[k] = -1;
	if (pgsse_feed_epoch(conn, &epoch) || pgsse_feed_head(conn, &head) ||
	    pgsse_feed_pruned(conn, s->reg, pgsse_client_chans(c), pruned,
	    pgsse_client_nchans(c)))
		return PGSSE_ERR_DB;
	if (was != 0 && was < epoch && pgsse_feed_epoch_tails(conn, s->reg,
	    pgsse_client_chans(c), was, keep, pgsse_client_nchans(c)))
		return PGSSE_ERR_DB;
	for (k = 0; k < n; k++)
		if ((why = pgsse_client_check(v[k].s->client, epoch, keep,
		    head, pruned)) != NULL)
			v[k].s->reset = why;
	return PGSSE_OK;
}

/* Sends stream_reset, once per stream, if the cursors were reset. */
static enum pgsse_err
stream_send_reset(struct stream *s, struct pgsse_buf *b)
{
	struct pgsse_buf	 d = { NULL, 0, 0 };
	enum pgsse_err		 er;

	if (s->reset == NULL)
		return PGSSE_OK;
	pgsse_log(PGSSE_LOG_INFO, "stream reset: %s", s->reset);
	er = pgsse_buf_printf(&d, "{\"reason\":\"%s\"}", s->reset);
	if (er == PGSSE_OK)
		er = pgsse_sse_event(b, NULL, PGSSE_RESET_EVENT, d.p, d.len);
	pgsse_buf_free(&d);
	return er;
}

/*
 * Returns 1 if the client already had the end of its per-job stream:
 * its cursor is at or past the job's complete event.
 */
static int
stream_job_ended(struct stream *s, PGconn *conn)
{
	char		 job[24], cur[24];
	const char	*params[2] = { job, cur };
	PGresult	*res;
	int		 ended;

	snprintf(job, sizeof(job), "%" PRId64, pgsse_client_job(s->client));
	snprintf(cur, sizeof(cur), "%" PRId64,
	    pgsse_client_cursors(s->client)[0]);
	res = PQexecParams(conn, "select 1 from pgsse.log where channel = "
	    "'job' and payload ->> 'job_id' = $1 and event = 'complete' and "
	    "id <= $2::bigint", 2, NULL, params, NULL, NULL, 0);
	ended = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
	PQclear(res);
	return ended;
}

/*
 * Returns 1 if the per-job stream's job is in pgsse.jobs and its user
 * may read it (it has no owner, or the user owns it or is one of the
 * user_readers), 0 if not, -1 if the database could not say.
 */
static int
stream_job_exists(struct stream *s)
{
	char		 job[24];
	const char	*params[2] = { job, pgsse_client_user(s->client) };
	PGconn		*conn;
	PGresult	*res;
	int		 rc = -1;

	if ((conn = pgsse_pool_get(srv.pool)) == NULL)
		return -1;
	snprintf(job, sizeof(job), "%" PRId64, pgsse_client_job(s->client));
	res = PQexecParams(conn, "select 1 from pgsse.jobs where id = "
	    "$1::bigint and pgsse.user_may_read(owner, $2)", 2, NULL, params,
	    NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		rc = PQntuples(res) > 0;
	PQclear(res);
	pgsse_pool_put(srv.pool, conn);
	return rc;
}

/*
 * Waits up to PGSSE_JOB_GRACE_MS for the per-job stream's job to be in
 * pgsse.jobs, holding a pooled connection only while it looks; a job
 * the user may not read is never there, so a stranger's job id and one
 * that does not exist get the same 404 after the same wait. Returns
 * PGSSE_ERR_NOTFOUND (with s->nojob set) if it never came, PGSSE_ERR_DB
 * if the database could not say or the process is stopping.
 */
static enum pgsse_err
stream_job_wait(struct stream *s)
{
	struct timespec	 ts;
	unsigned int	 waited = 0, ms = STREAM_JOB_POLL_MS;
	int		 rc;

	while ((rc = stream_job_exists(s)) == 0 &&
	    waited < PGSSE_JOB_GRACE_MS && !srv.stop) {
		if (ms > PGSSE_JOB_GRACE_MS - waited)
			ms = PGSSE_JOB_GRACE_MS - waited;
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		waited += ms;
		ms *= 2;
	}
	if (rc == 0 && !srv.stop)
		s->nojob = 1;
	return rc == 1 ? PGSSE_OK : s->nojob ? PGSSE_ERR_NOTFOUND :
	    PGSSE_ERR_DB;
}

/*
 * Joins the hub and frames the stream's headers, retry hint, the reset
 * if its cursors were, the initial id and a first heartbeat (the page's
 * watchdog learns the interval from it) into st->b. Returns
 * PGSSE_ERR_NOTFOUND if a registry load removed one of its channels
 * (s->gone), PGSSE_ERR_DB if it was checked in another epoch than the
 * hub's, PGSSE_ERR_NOMEM if memory ran out.
 */
static enum pgsse_err
stream_head(struct start *st)
{
	struct stream		*s = st->s;
	struct pgsse_buf	*b = &st->b;
	enum pgsse_err		 er;

	if ((er = pgsse_hub_join(srv.hub, s->client)) != PGSSE_OK) {
		s->gone = er == PGSSE_ERR_NOTFOUND;
		return er;
	}
	st->joined = 1;
	if ((er = pgsse_buf_printf(b, "%s\r\n", sse_headers)) ||
	    (er = pgsse_sse_retry(b, srv.cfg->retry_ms)) ||
	    (er = stream_send_reset(s, b)) ||
	    (er = pgsse_client_id_line(s->client, b)) ||
	    (er = pgsse_buf_puts(b, "\n")))
		return er;
	return pgsse_sse_heartbeat(b, srv.cfg->heartbeat,
	    (long long)time(NULL));
}

/*
 * Reads the log once for the replays of a group's n streams that joined
 * the hub, from the lowest of their cursors, each replay keeping what is
 * past its own (the group is alike: stream_alike) and taking its bytes
 * from the budget as if alone. Sets each one's v[i].er.
 */
static void
stream_replay(struct start *v, size_t n, PGconn *conn)
{
	struct group		 g = { v, n, 0 };
	struct pgsse_client	*c = v[0].s->client;
	struct pgsse_registry	*reg;
	const int64_t		*cur;
	int64_t			 after[PGSSE_CHANNELS_MAX];
	const char		*user = pgsse_client_user(c);
	size_t			 i, k, nch = pgsse_client_nchans(c);
	enum pgsse_err		 er;

	for (i = 0; i < n; i++) {
		v[i].rp.s = v[i].s;
		v[i].rp.b = &v[i].b;
		if ((v[i].rp.stopped = v[i].er != PGSSE_OK))
			continue;
		cur = pgsse_client_cursors(v[i].s->client);
		for (k = 0; k < nch; k++)
			if (g.live == 0 || cur[k] < after[k])
				after[k] = cur[k];
		g.live++;
	}
	if (g.live == 0)
		return;
	/* The newest snapshot: it documents what was loaded since. */
	reg = pgsse_hub_registry(srv.hub);
	pgsse_hub_replay_read(srv.hub);
	er = pgsse_feed_fetch(conn, reg, pgsse_client_chans(c), after, nch,
	    pgsse_client_job(c), pgsse_registry_user_reader(reg, user) ? NULL :
	    user ? user : "", replay_cb, &g);
	pgsse_registry_free(reg);
	for (i = 0; i < n; i++) {
		if (v[i].er != PGSSE_OK)
			continue;
		v[i].er = er != PGSSE_OK ? er : v[i].rp.er;
		pgsse_hub_replayed(srv.hub, v[i].rp.events, v[i].rp.cut);
	}
}

/*
 * Starts a group of n alike streams (stream_alike; a per-job stream or
 * a stream without replay starts alone): the job's wait, the cursor
 * checks, joining the hub, the headers (stream_head) and the replays
 * read with one pooled connection, which goes back before anything is
 * written; all framed into each client's out buffer, nothing written
 * yet. Sets each v[i].er: PGSSE_ERR_DB if the log could not be read,
 * PGSSE_ERR_LIMIT if the replay budget had no room for the first event
 * (the client is then told to come back), PGSSE_ERR_NOTFOUND if a
 * per-job stream's job does not exist (s->nojob), a registry load
 * removed one of its channels (s->gone), or it already ended for this
 * client, PGSSE_ERR_NOMEM if memory ran out. On failure the caller ends
 * the replay (pgsse_hub_replay_end).
 */
static void
stream_start(struct start *v, size_t n)
{
	struct stream		*s = v[0].s;
	struct pgsse_client	*c;
	PGconn			*conn = NULL;
	enum pgsse_err		 er = PGSSE_OK;
	size_t			 i;

	if (pgsse_client_job(s->client) != 0)
		er = stream_job_wait(s);
	if (er == PGSSE_OK && s->replay) {
		for (i = 0; i < n; i++)
			pgsse_hub_replay_begin(srv.hub, v[i].s->client);
		if ((conn = pgsse_pool_get(srv.pool)) == NULL ||
		    stream_check_cursors(v, n, conn) != PGSSE_OK)
			er = PGSSE_ERR_DB;
	}
	if (er == PGSSE_OK && pgsse_client_job(s->client) != 0 &&
	    s->resumed && stream_job_ended(s, conn))
		er = PGSSE_ERR_NOTFOUND;
	for (i = 0; i < n; i++)
		v[i].er = er != PGSSE_OK ? er : stream_head(&v[i]);
	if (er == PGSSE_OK && s->replay)
		stream_replay(v, n, conn);
	pgsse_pool_put(srv.pool, conn);
	for (i = 0; i < n; i++) {
		if (!v[i].joined)
			continue;
		c = v[i].s->client;
		if (v[i].er == PGSSE_OK)
			v[i].er = stream_put(v[i].s, &v[i].b);
		if (v[i].er == PGSSE_OK && v[i].rp.cut) {
			pgsse_hub_leave(srv.hub, c);
			pgsse_client_set_done(c);
		}
		pgsse_client_replay_framed(c);
	}
}

/*
 * Frees s's request and its answer's buffer: once it is answered, or
 * its connection is the pump's. Its parameters are gone after.
 */
static void
stream_free_request(struct stream *s)
{
	if (s->q != NULL)
		pgsse_fcgi_req_free(s->q);
	free(s->q);
	s->q = NULL;
	s->req.own = NULL;
	s->req.fd = -1;
	s->req.broken = 1;	/* nothing more goes out through it */
	pgsse_buf_free(&s->out);
}

/* Frees s, but not its connection. */
static void
stream_free(struct stream *s)
{
	stream_free_request(s);
	pgsse_client_free(s->client);
	pgsse_registry_free(s->reg);
	free(s);
}

/*
 * The end of every request the pump did not take: the rest of its
 * answer and END_REQUEST go out, its connection is closed, and s is
 * freed.
 */
static void
stream_finish(struct stream *s)
{
	if (s->req.own != NULL) {
		pgsse_req_end(&s->req);
		close(s->req.fd);
	}
	stream_free(s);
}

/* The finish of a started stream, which the pump calls: frees it and
 * its slot. */
static void
stream_done(void *arg)
{
	struct stream	*s = arg;

	stream_free(s);
	pgsse_hub_release(srv.hub);
}

/*
 * Ends the start of s, which er says how went: hands a started stream
 * to the pump, or answers why not and frees everything it had. The
 * caller must not touch s afterwards.
 */
static void
stream_started(struct stream *s, enum pgsse_err er)
{
	if (er == PGSSE_OK) {
		stream_free_request(s);	/* the pump has the connection */
		pgsse_client_on_finish(s->client, stream_done, s);
		pgsse_hub_attach(srv.hub, s->client);
		return;
	}
	pgsse_hub_replay_end(srv.hub, s->client);
	if (er == PGSSE_ERR_DB)
		stream_refuse(&s->req, "database unavailable; retry later");
	else if (er == PGSSE_ERR_LIMIT) {
		pgsse_hub_refused(srv.hub);
		stream_refuse(&s->req, "too many resumes replaying the log "
		    "(PGSSE_REPLAY_BUDGET); retry later");
	} else if (er == PGSSE_ERR_NOTFOUND && s->nojob)	/* stops EventSource */
		pgsse_http_text(&s->req, PGSSE_HTTP_404, NULL, "no such job");
	else if (er == PGSSE_ERR_NOTFOUND && s->gone)
		pgsse_http_text(&s->req, PGSSE_HTTP_404, NULL,
		    "unknown channel");
	else if (er == PGSSE_ERR_NOTFOUND)	/* 204 stops EventSource */
		pgsse_http_text(&s->req, PGSSE_HTTP_204, NULL, "");
	pgsse_hub_leave(srv.hub, s->client);
	pgsse_hub_release(srv.hub);
	stream_finish(s);
}

/*
 * Starts one stream and hands it to the pump, or answers why not and
 * frees everything it had. Runs on the acceptor for a stream that needs
 * no database (stream_needs_db), on a starter for the others.
 */
static void
stream_begin(struct stream *s)
{
	struct start	 st;

	memset(&st, 0, sizeof(st));
	st.s = s;
	stream_start(&st, 1);
	pgsse_buf_free(&st.b);
	stream_started(s, st.er);
}

/*
 * A starter's work (starter.c): starts the n streams of v, which are
 * alike (stream_alike), together; one at a time if memory ran out.
 */
static void
stream_starter(void **v, size_t n, void *arg)
{
	struct start	*st;
	size_t		 i;

	(void)arg;
	if ((st = calloc(n, sizeof(*st))) == NULL) {
		for (i = 0; i < n; i++)
			stream_begin(v[i]);
		return;
	}
	for (i = 0; i < n; i++)
		st[i].s = v[i];
	stream_start(st, n);
	for (i = 0; i < n; i++) {
		pgsse_buf_free(&st[i].b);
		stream_started(st[i].s, st[i].er);
	}
	free(st);
}

/*
 * Says if queued stream item may start in one group with lead, the
 * oldest (starter.c): both resume, neither is a per-job stream, and
 * they read the same channels as the same user from the same epoch,
 * their cursors within PGSSE_START_GROUP_IDS of each other, so that one
 * read of the log, from the lowest cursor, serves both. Can't fail.
 */
static int
stream_alike(const void *lead, const void *item, void *arg)
{
	const struct pgsse_client	*a = ((const struct stream *)lead)->client;
	const struct pgsse_client	*b = ((const struct stream *)item)->client;
	const char			*ua = pgsse_client_user(a);
	const char			*ub = pgsse_client_user(b);
	const int64_t			*ca, *cb;
	size_t				 k, n = pgsse_client_nchans(a);

	(void)arg;
	if (!((const struct stream *)lead)->replay ||
	    !((const struct stream *)item)->replay ||
	    pgsse_client_job(a) != 0 || pgsse_client_job(b) != 0 ||
	    pgsse_client_nchans(b) != n ||
	    pgsse_client_epoch(a) != pgsse_client_epoch(b) ||
	    memcmp(pgsse_client_chans(a), pgsse_client_chans(b),
	    n * sizeof(int)) != 0 ||
	    (ua == NULL) != (ub == NULL) ||
	    (ua != NULL && strcmp(ua, ub) != 0))
		return 0;
	ca = pgsse_client_cursors(a);
	cb = pgsse_client_cursors(b);
	for (k = 0; k < n; k++)
		if (ca[k] - cb[k] > PGSSE_START_GROUP_IDS ||
		    cb[k] - ca[k] > PGSSE_START_GROUP_IDS)
			return 0;
	return 1;
}

/*
 * Returns 1 if starting s reads the database: a resume's replay, a
 * per-job stream's job; a fresh stream only joins the hub and frames
 * its headers.
 */
static int
stream_needs_db(const struct stream *s)
{
	return s->replay || pgsse_client_job(s->client) != 0;
}

/*
 * A metrics page's thread: writes the page (scrape.c), which may wait
 * for a pooled connection, then ends the request and gives back its
 * place.
 */
static void *
stream_scrape_thread(void *arg)
{
	struct stream		*s = arg;
	struct pgsse_buf	 b = { NULL, 0, 0 };

	if (pgsse_scrape_page(srv.scrape, srv.hub, srv.pool, &b) ==
	    PGSSE_OK) {
		if (pgsse_req_write(&s->req, b.p, b.len) == PGSSE_OK)
			pgsse_req_flush(&s->req);
	} else
		pgsse_http_text(&s->req, PGSSE_HTTP_500, NULL,
		    "out of memory");
	pgsse_buf_free(&b);
	stream_finish(s);
	pgsse_scrape_end(srv.scrape);
	return NULL;
}

/*
 * Makes a stream for the accepted request c, whose request it then owns,
 * or for plain CGI's if c is NULL; its registry and client come next
 * (stream_dispatch). Returns NULL if memory ran out. Free it with
 * stream_free; the connection stays the caller's till then.
 */
static struct stream *
stream_new(const struct pgsse_accepted *c)
{
	struct stream	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->req.fd = -1;
	if (c == NULL)
		return s;
	s->q = c->q;
	s->in = c->in;
	s->req.fd = c->fd;
	s->req.own = s->q;
	s->req.out = &s->out;
	return s;
}

/*
 * Takes the stream's connection and FastCGI request id for the pump. A
 * refusal written to a stalled web server blocks PGSSE_WRITE_TIMEOUT_SEC
 * at most (stream_accept).
 */
static void
stream_connection(struct stream *s)
{
	if (s->req.own != NULL) {
		pgsse_client_set_conn(s->client, s->req.fd, s->q->reqid);
		pgsse_client_set_in(s->client, &s->in);
	}
}

/*
 * Routes one accepted request. Returns the stream when it needs a thread
 * of its own (its slot, or its metrics place (s->scrape), is then
 * reserved), or NULL when it was answered and finished here.
 */
static struct stream *
stream_dispatch(struct stream *s)
{
	enum route		 route = ROUTE__MAX;
	enum pgsse_http_status	 st;
	const char		*why = "";

	/* The registry as it is now, not when the acceptor began to wait. */
	s->reg = pgsse_hub_registry(srv.hub);
	if ((s->client = pgsse_client_new(s->reg)) == NULL ||
	    pgsse_client_set_user(s->client, pgsse_req_param(&s->req,
	    "REMOTE_USER")) != PGSSE_OK)
		pgsse_http_text(&s->req, PGSSE_HTTP_500, NULL, "out of memory");
	else if ((st = stream_parse(s, &route, &why)) == PGSSE_HTTP_405)
		pgsse_http_text(&s->req, st, "Allow: GET\r\n", why);
	else if (st != PGSSE_HTTP_200)
		pgsse_http_text(&s->req, st, NULL, why);
	else if (route == ROUTE_HEALTH)
		stream_health(&s->req);
	else if (route == ROUTE_METRICS) {
		if (pgsse_scrape_begin(srv.scrape) == PGSSE_OK) {
			s->scrape = 1;
			return s;
		}
		pgsse_http_text(&s->req, PGSSE_HTTP_429, "Retry-After: 1\r\n",
		    "too many metrics requests at once "
		    "(PGSSE_METRICS_SCRAPES_MAX); retry later");
	} else {
		switch (pgsse_hub_reserve(srv.hub, srv.cfg->max_clients)) {
		case PGSSE_OK:
			stream_connection(s);
			return s;
		case PGSSE_ERR_LIMIT:
			stream_refuse(&s->req, "too many clients on this "
			    "process (max_clients); retry later");
			break;
		default:
			stream_refuse(&s->req, "database unavailable; retry "
			    "later");
			break;
		}
	}
	stream_finish(s);
	return NULL;
}

static void
on_term(int sig)
{
	(void)sig;
	srv.stop = 1;
}

/* Installs our handlers before FCGX_Init can install its own. */
static void
stream_signals(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

/* A per-job stream's thread: it may wait for its job (stream_job_wait). */
static void *
stream_job_thread(void *arg)
{
	stream_begin(arg);
	return NULL;
}

/*
 * Starts a routed stream: a fresh one here, a resume on a starter (past
 * PGSSE_START_QUEUE_MAX waiting, turned away), a per-job stream on a
 * thread of its own made with attr, as it may wait up to
 * PGSSE_JOB_GRACE_MS for its job and must not hold up the resumes.
 */
static void
stream_launch(struct stream *s, pthread_attr_t *attr)
{
	pthread_t	 t;
	const char	*why;

	if (!stream_needs_db(s)) {
		stream_begin(s);
		return;
	}
	if (pgsse_client_job(s->client) != 0) {
		if (pthread_create(&t, attr, stream_job_thread, s) == 0)
			return;
		pgsse_log(PGSSE_LOG_ERROR, "no thread for a client");
		why = "out of threads; retry later";
	} else if (pgsse_starter_push(srv.starter, s) == PGSSE_OK)
		return;
	else {
		pgsse_hub_refused(srv.hub);
		why = "too many streams waiting to start "
		    "(PGSSE_START_QUEUE_MAX); retry later";
	}
	pgsse_hub_release(srv.hub);
	stream_refuse(&s->req, why);
	stream_finish(s);
}

/*
 * Waits for the next request whose parameters are in (accept.c).
 * Returns its stream, or NULL if none came (a signal, a tick) or memory
 * ran out (the connection is then closed).
 */
static struct stream *
stream_accept(struct pgsse_acceptor *acc)
{
	struct pgsse_accepted	 c;
	struct stream		*s;

	if (pgsse_acceptor_next(acc, &c) == -1)
		return NULL;
	if ((s = stream_new(&c)) == NULL) {
		pgsse_log(PGSSE_LOG_ERROR, "a stream request: out of memory");
		close(c.fd);
		pgsse_fcgi_req_free(c.q);
		free(c.q);
	}
	return s;
}

/*
 * Accepts FastCGI requests on sock until told to stop. Returns 0, or -1
 * if it could not start accepting (logged).
 */
static int
stream_accept_loop(int sock)
{
	struct stream		*s;
	struct pgsse_acceptor	*acc;
	pthread_attr_t		 attr;
	pthread_t		 t;

	if ((acc = pgsse_acceptor_new(sock, PGSSE_STREAM_READ_TIMEOUT_SEC,
	    PGSSE_WRITE_TIMEOUT_SEC, PGSSE_STREAM_PENDING_MAX)) == NULL)
		return -1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STREAM_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while (!srv.stop) {
		if ((s = stream_accept(acc)) == NULL ||
		    (s = stream_dispatch(s)) == NULL)
			continue;
		if (!s->scrape) {
			stream_launch(s, &attr);
			continue;
		}
		if (pthread_create(&t, &attr, stream_scrape_thread, s) == 0)
			continue;
		pgsse_log(PGSSE_LOG_ERROR, "no thread for a metrics page");
		pgsse_scrape_end(srv.scrape);
		pgsse_http_text(&s->req, PGSSE_HTTP_503, "Retry-After: 1\r\n",
		    "out of threads; retry later");
		stream_finish(s);
	}
	pthread_attr_destroy(&attr);
	pgsse_acceptor_free(acc);
	return 0;
}

/*
 * Waits up to sec seconds for the hub's first connection, so the first
 * requests are served rather than told to come back.
 */
static void
stream_wait_ready(unsigned int sec)
{
	unsigned int	 i;
	int		 ready = 0;

	for (i = 0; i < sec * 20 && !ready && !srv.stop; i++) {
		if (!(ready = pgsse_hub_ready(srv.hub)))
			usleep(50000);
	}
}

/*
 * Serves the single request of a plain CGI run: starts it in this
 * thread, then waits while the pump serves it.
 */
static void
stream_cgi(void)
{
	struct stream		*s;
	struct pgsse_hub_stats	 st;

	if ((s = stream_new(NULL)) == NULL || (s = stream_dispatch(s)) == NULL)
		return;
	if (s->scrape) {
		stream_scrape_thread(s);
		return;
	}
	stream_begin(s);
	do {
		usleep(100000);
		pgsse_hub_stats(srv.hub, &st);
	} while (st.clients > 0 && !srv.stop);
}

/*
 * Loads the registry, retrying (with the database's backoff) until the
 * database answers, or stops for good (pgsse_db_start). Returns it, or
 * NULL on a fatal error or a stop.
 */
static struct pgsse_registry *
stream_registry(const char *conninfo)
{
	struct pgsse_registry	*reg = NULL;
	struct pgsse_buf	 err = { NULL, 0, 0 };
	PGconn			*conn;

	while (reg == NULL && !srv.stop) {
		if (pgsse_db_start(conninfo, STREAM_SETTING, &srv.stop, 1,
		    &conn) != PGSSE_OK)
			break;
		pgsse_buf_reset(&err);
		if ((reg = pgsse_registry_load(conn, &err)) == NULL) {
			pgsse_log(PGSSE_LOG_ERROR, "%s", err.p);
			pgsse_db_backoff();
		}
		pgsse_db_close(conn);
	}
	pgsse_buf_free(&err);
	return reg;
}

/*
 * Reads PGSSE_STREAM_BATCH_WAIT_MS into *ms. Returns 0, or -1 (a usage
 * error, said on standard error).
 */
static int
stream_batch_wait(unsigned int *ms)
{
	long	 v;

	if (pgsse_env_num("pgsse-stream", "PGSSE_STREAM_BATCH_WAIT_MS",
	    PGSSE_STREAM_BATCH_WAIT_MS, PGSSE_STREAM_BATCH_WAIT_MS_MAX,
	    &v) == -1)
		return -1;
	*ms = (unsigned int)v;
	return 0;
}

/*
 * Runs the stream server with cfg until SIGTERM. Returns the process
 * exit status: 0 after a clean stop, 1 if it could not start, 2 if
 * PGSSE_STREAM_BATCH_WAIT_MS is not a number of 0 to its _MAX or
 * FCGI_WEB_SERVER_ADDRS is no list of IPv4 addresses.
 */
int
pgsse_stream_main(const struct pgsse_stream_cfg *cfg)
{
	struct pgsse_registry	*reg;
	unsigned int		 wait_ms;
	int			 sock = 0, cgi, rc = 1;

	srv.cfg = cfg;
	if (stream_batch_wait(&wait_ms) == -1 ||
	    !pgsse_listen_peers("pgsse-stream"))
		return 2;
	stream_signals();
	mallopt(M_MMAP_THRESHOLD, STREAM_MMAP_THRESHOLD);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	if (FCGX_Init() != 0)
		return 1;
	cgi = cfg->socket == NULL && FCGX_IsCGI();
	if (!cgi)
		pgsse_sdnotify_init();
	if (cfg->socket != NULL && (sock = pgsse_listen(cfg->socket,
	    STREAM_BACKLOG, "--socket or PGSSE_SOCKET")) == -1)
		return 1;
	if ((reg = stream_registry(cfg->conninfo)) == NULL)
		return srv.stop ? 0 : 1;
	if ((srv.scrape = pgsse_scrape_new()) == NULL ||
	    (srv.pool = pgsse_pool_new(cfg->conninfo, PGSSE_POOL_MAX)) == NULL ||
	    (srv.hub = pgsse_hub_start(reg, cfg->conninfo, cfg->queue_max,
	    cfg->raw, cfg->heartbeat, wait_ms)) == NULL) {
		pgsse_registry_free(reg);
		goto out;
	}
	if ((srv.starter = pgsse_starter_new(PGSSE_STARTERS,
	    PGSSE_START_QUEUE_MAX, PGSSE_START_GROUP_MAX, stream_starter,
	    stream_alike, NULL)) == NULL)
		goto out;
	stream_wait_ready(STREAM_READY_WAIT_SEC);
	if (cgi)
		stream_cgi();
	else if (stream_accept_loop(sock) == -1)
		goto out;
	pgsse_sdnotify("STOPPING=1");
	pgsse_starter_free(srv.starter);	/* after what is queued */
	srv.starter = NULL;
	rc = 0;
	if (pgsse_hub_drain(srv.hub, STREAM_DRAIN_SEC) != PGSSE_OK ||
	    pgsse_scrape_wait(srv.scrape, STREAM_DRAIN_SEC) != PGSSE_OK)
		return rc;	/* a client is stuck in a write; exit anyway */
out:
	pgsse_starter_free(srv.starter);
	pgsse_hub_free(srv.hub);
	pgsse_pool_free(srv.pool);
	pgsse_scrape_free(srv.scrape);
	return rc;
}
