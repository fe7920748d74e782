/*
 * scrape.c: pgsse-stream's metrics page, /api/sse-metrics, in the
 * Prometheus text format (metrics.c).
 *
 * What it shows. The hub's and the pump's figures (hub.c, pump.c),
 * read when the page is asked for; per channel only for the channels
 * the registry documents, so no notification, request or stranger can
 * make a new series; and what only the database knows, sampled at most
 * once every PGSSE_METRICS_SAMPLE_SEC whoever asks: how full
 * PostgreSQL's notification queue is (pg_notification_queue_usage():
 * one stuck listener can fill it, and then every publish fails), the
 * jobs in pgsse.jobs by kind and state, and the jobs that finished
 * since the process started, with their durations.
 *
 * Finished jobs. A counter must only grow, and pgsse.prune() deletes
 * old jobs, so they are not counted from the table each time: each
 * sample reads the jobs whose finished_at is past the last one it saw,
 * less SCRAPE_GRACE_SEC (finished_at is when the finishing transaction
 * began, and it may commit later), remembers their ids so as to count
 * each once, and counts those it had not seen. The first sample only
 * remembers, so the counters start at 0 with the process. Jobs of more
 * than SCRAPE_KINDS_MAX kinds are left out, as are jobs past
 * SCRAPE_JOB_ROWS in one sample's window (logged).
 *
 * Abuse. The page is answered by a thread of its own (it may wait for
 * a pooled connection), at most PGSSE_METRICS_SCRAPES_MAX at once:
 * past that 429 with Retry-After, at once, from the acceptor. A sample
 * runs read-only with a statement timeout of SCRAPE_TIMEOUT_MS. The
 * page's size is bounded by the registry's channels and
 * SCRAPE_KINDS_MAX.
 *
 * Locking. sc->lock guards the samples and their figures; the page
 * holds it while it samples and writes them, so a second page waits
 * for a first one's sample instead of running its own. Under it only
 * the pool's lock is taken (pgsse_pool_get), which is a leaf; the hub's
 * figures are copied before it is taken.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pgsse.h"
#include "extern.h"
#include "metrics.h"
#include "hub.h"
#include "registry.h"

/* Job kinds the page names at most. */
#define SCRAPE_KINDS_MAX 64
/* Finished jobs read per sample at most. */
#define SCRAPE_JOB_ROWS 1000
/* Seconds a finishing transaction may take to commit and still count. */
#define SCRAPE_GRACE_SEC 60
/* Milliseconds a sample's queries may take. */
#define SCRAPE_TIMEOUT_MS 2000

#define STR(x) #x
#define XSTR(x) STR(x)

enum scrape_state {
	STATE_QUEUED,
	STATE_RUNNING,
	STATE_SUCCEEDED,
	STATE_FAILED,
	STATE_CANCELLED,
	STATE__MAX
};
static const char *const states[STATE__MAX] = {
	"queued", "running", "succeeded", "failed", "cancelled",
};

/* Upper bounds, in seconds, of the job duration histogram. */
static const double job_bounds[] = {
	0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600,
};

struct scrape_kind {
	char			 name[PGSSE_CHANNEL_MAX + 1];
	uint64_t		 rows[STATE__MAX];	/* in pgsse.jobs now */
	uint64_t		 finished[STATE__MAX];	/* since the start */
	struct pgsse_metrics_hist dur;
};

struct pgsse_scrape {
	pthread_mutex_t		 lock;		/* guards all but the atomics */
	atomic_int		 running;	/* pages being answered */
	atomic_uint_least64_t	 refused;	/* pages answered 429 */
	time_t			 started;
	time_t			 tried;		/* last sample, or 0 */
	double			 sampled;	/* last good one, db clock */
	double			 usage;		/* notification queue */
	double			 mark;		/* finished_at seen; 0: none */
	int64_t			 seen[SCRAPE_JOB_ROWS];
	size_t			 nseen;
	struct scrape_kind	 kinds[SCRAPE_KINDS_MAX];
	size_t			 nkinds;
};

/*
 * Makes the page's state, for a process that started now. Returns NULL
 * if memory ran out. Free it with pgsse_scrape_free.
 */
struct pgsse_scrape *
pgsse_scrape_new(void)
{
	struct pgsse_scrape	*sc;

	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	pthread_mutex_init(&sc->lock, NULL);
	atomic_init(&sc->running, 0);
	atomic_init(&sc->refused, 0);
	sc->started = time(NULL);
	return sc;
}

/* Frees sc. Accepts NULL. */
void
pgsse_scrape_free(struct pgsse_scrape *sc)
{
	if (sc == NULL)
		return;
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}

/*
 * Takes one of the PGSSE_METRICS_SCRAPES_MAX places for a page. Returns
 * PGSSE_ERR_LIMIT, counted, if none is free; else the caller gives it
 * back with pgsse_scrape_end.
 */
enum pgsse_err
pgsse_scrape_begin(struct pgsse_scrape *sc)
{
	int	 n = atomic_load(&sc->running);

	do {
		if (n >= PGSSE_METRICS_SCRAPES_MAX) {
			atomic_fetch_add(&sc->refused, 1);
			return PGSSE_ERR_LIMIT;
		}
	} while (!atomic_compare_exchange_weak(&sc->running, &n, n + 1));
	return PGSSE_OK;
}

/* Gives back a place taken by pgsse_scrape_begin. Can't fail. */
void
pgsse_scrape_end(struct pgsse_scrape *sc)
{
	atomic_fetch_sub(&sc->running, 1);
}

/*
 * Waits up to sec seconds for every page to be answered. Returns
 * PGSSE_ERR_LIMIT if some are still being answered.
 */
enum pgsse_err
pgsse_scrape_wait(struct pgsse_scrape *sc, unsigned int sec)
{
	unsigned int	 i;

	for (i = 0; i < sec * 10 && atomic_load(&sc->running) > 0; i++)
		usleep(100000);
	return atomic_load(&sc->running) > 0 ? PGSSE_ERR_LIMIT : PGSSE_OK;
}

/* Returns the index of state z, or STATE__MAX. */
static enum scrape_state
scrape_state(const char *z)
{
	int	 i;

	for (i = 0; i < STATE__MAX; i++)
		if (strcmp(states[i], z) == 0)
			break;
	return (enum scrape_state)i;
}

/* Returns the kind named z, added if new, or NULL past
 * SCRAPE_KINDS_MAX. */
static struct scrape_kind *
scrape_kind(struct pgsse_scrape *sc, const char *z)
{
	struct scrape_kind	*k;
	size_t			 i;

	for (i = 0; i < sc->nkinds; i++)
		if (strcmp(sc->kinds[i].name, z) == 0)
			return &sc->kinds[i];
	if (sc->nkinds == SCRAPE_KINDS_MAX ||
	    strlen(z) >= sizeof(k->name) || !pgsse_name_channel_ok(z))
		return NULL;
	k = &sc->kinds[sc->nkinds++];
	snprintf(k->name, sizeof(k->name), "%s", z);
	pgsse_metrics_hist_init(&k->dur, job_bounds,
	    sizeof(job_bounds) / sizeof(job_bounds[0]));
	return k;
}

/* Runs sql, with no parameters or one; returns its result, which the
 * caller clears, or NULL after clearing it if it failed. */
static PGresult *
scrape_exec(PGconn *conn, const char *sql, const char *param)
{
	PGresult	*res;

	res = PQexecParams(conn, sql, param != NULL, NULL, &param, NULL,
	    NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK)
		return res;
	pgsse_log(PGSSE_LOG_WARN, "metrics sample: %s", PQerrorMessage(conn));
	PQclear(res);
	return NULL;
}

/* Reads the jobs in pgsse.jobs by kind and state. Returns -1 on
 * failure. */
static int
scrape_rows(struct pgsse_scrape *sc, PGconn *conn)
{
	struct scrape_kind	*k;
	enum scrape_state	 st;
	PGresult		*res;
	size_t			 i;
	int			 r;

	if ((res = scrape_exec(conn, "select kind, state, count(*) from "
	    "pgsse.jobs group by kind, state order by kind, state", NULL)) ==
	    NULL)
		return -1;
	for (i = 0; i < sc->nkinds; i++)
		memset(sc->kinds[i].rows, 0, sizeof(sc->kinds[i].rows));
	for (r = 0; r < PQntuples(res); r++)
		if ((st = scrape_state(PQgetvalue(res, r, 1))) != STATE__MAX &&
		    (k = scrape_kind(sc, PQgetvalue(res, r, 0))) != NULL)
			k->rows[st] = strtoull(PQgetvalue(res, r, 2), NULL, 10);
	PQclear(res);
	return 0;
}

/* Returns 1 if sc saw job id in the last sample's window. */
static int
scrape_seen(const struct pgsse_scrape *sc, int64_t id)
{
	size_t	 i;

	for (i = 0; i < sc->nseen; i++)
		if (sc->seen[i] == id)
			return 1;
	return 0;
}

/*
 * Counts the jobs finished since the last sample (see above); the first
 * sample, at the database's time now, only remembers. Returns -1 on
 * failure.
 */
static int
scrape_finished(struct pgsse_scrape *sc, PGconn *conn, double now)
{
	struct scrape_kind	*k;
	enum scrape_state	 st;
	PGresult		*res;
	int64_t			 ids[SCRAPE_JOB_ROWS];
	char			 from[64];
	double			 mark = sc->mark == 0 ? now : sc->mark, t;
	int			 r, n;

	snprintf(from, sizeof(from), "%.6f", mark - SCRAPE_GRACE_SEC);
	if ((res = scrape_exec(conn, "select id, kind, state, extract(epoch "
	    "from finished_at), coalesce(extract(epoch from finished_at - "
	    "started_at), -1) from pgsse.jobs where finished_at >= "
	    "to_timestamp($1::float8) order by finished_at, id limit "
	    XSTR(SCRAPE_JOB_ROWS), from)) == NULL)
		return -1;
	n = PQntuples(res);
	if (n == SCRAPE_JOB_ROWS)
		pgsse_log(PGSSE_LOG_WARN, "metrics sample: over %d jobs "
		    "finished in %d s, some are not counted", SCRAPE_JOB_ROWS,
		    SCRAPE_GRACE_SEC);
	for (r = 0; r < n; r++) {
		ids[r] = strtoll(PQgetvalue(res, r, 0), NULL, 10);
		if ((t = strtod(PQgetvalue(res, r, 3), NULL)) > mark)
			mark = t;
		if (sc->mark == 0 || scrape_seen(sc, ids[r]) ||
		    (st = scrape_state(PQgetvalue(res, r, 2))) == STATE__MAX ||
		    (k = scrape_kind(sc, PQgetvalue(res, r, 1))) == NULL)
			continue;
		k->finished[st]++;
		if ((t = strtod(PQgetvalue(res, r, 4), NULL)) >= 0)
			pgsse_metrics_hist_observe(&k->dur, t);
	}
	PQclear(res);
	memcpy(sc->seen, ids, (size_t)n * sizeof(ids[0]));
	sc->nseen = (size_t)n;
	sc->mark = mark;
	return 0;
}

/*
 * Samples the database over conn, read-only and with a statement
 * timeout. Returns -1 on failure; what was sampled before stays.
 */
static int
scrape_sample(struct pgsse_scrape *sc, PGconn *conn)
{
	PGresult	*res;
	double		 now;
	int		 rc = -1;

	if ((res = scrape_exec(conn, "begin read only", NULL)) == NULL)
		return -1;
	PQclear(res);
	if ((res = scrape_exec(conn, "select set_config('statement_timeout',"
	    " $1, true)", XSTR(SCRAPE_TIMEOUT_MS))) == NULL)
		goto out;
	PQclear(res);
	if ((res = scrape_exec(conn, "select pg_notification_queue_usage(), "
	    "extract(epoch from now())", NULL)) == NULL)
		goto out;
	sc->usage = strtod(PQgetvalue(res, 0, 0), NULL);
	now = strtod(PQgetvalue(res, 0, 1), NULL);
	PQclear(res);
	if (scrape_rows(sc, conn) == -1 ||
	    scrape_finished(sc, conn, now) == -1)
		goto out;
	sc->sampled = now;
	rc = 0;
out:
	PQclear(PQexec(conn, rc == 0 ? "commit" : "rollback"));
	return rc;
}

/* Samples the database if the last sample is PGSSE_METRICS_SAMPLE_SEC
 * old, with a pooled connection. Called with sc->lock held. */
static void
scrape_maybe_sample(struct pgsse_scrape *sc, struct pgsse_pool *pool)
{
	PGconn	*conn;
	time_t	 now = time(NULL);

	if (sc->tried != 0 && now - sc->tried < PGSSE_METRICS_SAMPLE_SEC &&
	    now >= sc->tried)
		return;
	sc->tried = now;
	if ((conn = pgsse_pool_get(pool)) == NULL)
		return;
	scrape_sample(sc, conn);
	pgsse_pool_put(pool, conn);
}

/* A family of one sample without labels, for the tables below. */
struct scrape_one {
	const char		*name;
	enum pgsse_metrics_type	 type;
	const char		*help;
	double			 v;
};

/* Writes the families of n ones. Returns PGSSE_ERR_NOMEM if memory ran
 * out. */
static enum pgsse_err
scrape_ones(struct pgsse_buf *b, const struct scrape_one *o, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (pgsse_metrics_one(b, o[i].name, o[i].type, o[i].help,
		    o[i].v) != PGSSE_OK)
			return PGSSE_ERR_NOMEM;
	return PGSSE_OK;
}

/* Writes the hub's and the pump's figures but the channels'. Returns
 * PGSSE_ERR_NOMEM if memory ran out. */
static enum pgsse_err
scrape_hub(struct pgsse_scrape *sc, struct pgsse_buf *b,
    const struct pgsse_hub_stats *st)
{
	const struct scrape_one	 o[] = {
	{ "pgsse_clients", PGSSE_METRICS_GAUGE, "Streams this process "
	    "serves now (client slots taken).", (double)st->clients },
	{ "pgsse_channels", PGSSE_METRICS_GAUGE, "Channels the registry "
	    "documents now.", (double)st->channels },
	{ "pgsse_notifications_dropped_total", PGSSE_METRICS_COUNTER,
	    "Notifications dropped: undocumented channel or event, or a "
	    "malformed payload (each is logged).", (double)st->dropped },
	{ "pgsse_slow_clients_total", PGSSE_METRICS_COUNTER, "Streams "
	    "closed because the client fell behind (PGSSE_QUEUE_MAX or "
	    "PGSSE_OUT_MAX).", (double)st->slow },
	{ "pgsse_refused_total", PGSSE_METRICS_COUNTER, "Streams turned "
	    "away with retry: (max_clients or PGSSE_REPLAY_BUDGET).",
	    (double)st->refused },
	{ "pgsse_queue_events", PGSSE_METRICS_GAUGE, "Events queued for "
	    "all clients, not yet framed.", (double)st->queued },
	{ "pgsse_queue_events_max", PGSSE_METRICS_GAUGE, "Events queued "
	    "for the client with the longest queue (PGSSE_QUEUE_MAX closes "
	    "it).", (double)st->queued_max },
	{ "pgsse_out_bytes", PGSSE_METRICS_GAUGE, "Bytes framed for all "
	    "clients that the web server has not taken yet, sampled once a "
	    "second.", (double)st->out_bytes },
	{ "pgsse_out_bytes_max", PGSSE_METRICS_GAUGE, "Bytes not yet taken "
	    "of the client with most (PGSSE_OUT_MAX closes it), sampled "
	    "once a second.", (double)st->out_max },
	{ "pgsse_replays", PGSSE_METRICS_GAUGE, "Resumes whose replay is "
	    "not all written yet.", (double)st->replays },
	{ "pgsse_replay_bytes", PGSSE_METRICS_GAUGE, "Bytes of "
	    "PGSSE_REPLAY_BUDGET that replays hold now.",
	    (double)st->replay_bytes },
	{ "pgsse_replays_total", PGSSE_METRICS_COUNTER, "Replays of the "
	    "log begun (resumes and per-job streams).",
	    (double)st->replays_total },
	{ "pgsse_replayed_events_total", PGSSE_METRICS_COUNTER, "Events "
	    "framed by replays.", (double)st->replayed },
	{ "pgsse_replays_cut_total", PGSSE_METRICS_COUNTER, "Replays cut "
	    "at PGSSE_REPLAY_BYTES or the replay budget; the client resumes "
	    "for the rest.", (double)st->replays_cut },
	{ "pgsse_db_up", PGSSE_METRICS_GAUGE, "1 while the LISTEN "
	    "connection to PostgreSQL is up.", (double)st->db_up },
	{ "pgsse_db_connects_total", PGSSE_METRICS_COUNTER, "LISTEN "
	    "connections made: the first and every reconnect.",
	    (double)st->reconnects },
	{ "pgsse_db_last_connect_timestamp_seconds", PGSSE_METRICS_GAUGE,
	    "When the LISTEN connection was last made, in seconds since the "
	    "epoch; 0: never.", (double)st->last_connect },
	{ "pgsse_metrics_refused_total", PGSSE_METRICS_COUNTER, "Metrics "
	    "pages answered 429 (PGSSE_METRICS_SCRAPES_MAX).",
	    (double)atomic_load(&sc->refused) },
	};

	if (scrape_ones(b, o, sizeof(o) / sizeof(o[0])) != PGSSE_OK ||
	    pgsse_metrics_family(b, "pgsse_publish_to_send_seconds",
	    PGSSE_METRICS_HISTOGRAM, "From an event's publish (its log row's "
	    "created_at: when the publishing transaction began) to its being "
	    "framed for one client, live; replays and raw NOTIFYs are not "
	    "counted.") != PGSSE_OK ||
	    pgsse_metrics_hist(b, "pgsse_publish_to_send_seconds", NULL, 0,
	    &st->lag) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	return PGSSE_OK;
}

/* The per-channel families, in the order of the fields of
 * struct pgsse_hub_chan they show. */
static const struct scrape_one chan_families[] = {
	{ "pgsse_events_total", PGSSE_METRICS_COUNTER, "Events the hub "
	    "handed out, logged or raw, by channel.", 0 },
	{ "pgsse_deliveries_total", PGSSE_METRICS_COUNTER, "Copies of "
	    "events queued for clients, by channel.", 0 },
	{ "pgsse_events_sent_total", PGSSE_METRICS_COUNTER, "Copies of "
	    "events framed for clients live (not replays), by channel.", 0 },
	{ "pgsse_channel_clients", PGSSE_METRICS_GAUGE, "Streams subscribed "
	    "now, by channel.", 0 },
};

/* Writes the per-channel families for the live channels of reg, whose
 * figures are v. Returns PGSSE_ERR_NOMEM if memory ran out. */
static enum pgsse_err
scrape_chans(struct pgsse_buf *b, const struct pgsse_registry *reg,
    const struct pgsse_hub_chan *v)
{
	struct pgsse_metrics_label	 l = { "channel", NULL };
	const struct scrape_one		*f;
	size_t				 i, k;
	double				 x;

	for (k = 0; k < sizeof(chan_families) / sizeof(chan_families[0]);
	    k++) {
		f = &chan_families[k];
		if (pgsse_metrics_family(b, f->name, f->type, f->help) !=
		    PGSSE_OK)
			return PGSSE_ERR_NOMEM;
		for (i = 0; i < reg->n; i++) {
			if (reg->channels[i].removed)
				continue;
			l.value = reg->channels[i].name;
			x = k == 0 ? (double)v[i].events : k == 1 ?
			    (double)v[i].delivered : k == 2 ?
			    (double)v[i].sent : (double)v[i].clients;
			if (pgsse_metrics_value(b, f->name, &l, 1, x) !=
			    PGSSE_OK)
				return PGSSE_ERR_NOMEM;
		}
	}
	return PGSSE_OK;
}

/* Writes the jobs' families. Called with sc->lock held. Returns
 * PGSSE_ERR_NOMEM if memory ran out. */
static enum pgsse_err
scrape_jobs(struct pgsse_scrape *sc, struct pgsse_buf *b)
{
	struct pgsse_metrics_label	 l[2] = { { "kind", NULL },
					     { "state", NULL } };
	size_t				 i, j, pass;
	const uint64_t			*v;

	for (pass = 0; pass < 2; pass++) {
		if (pgsse_metrics_family(b, pass == 0 ? "pgsse_jobs" :
		    "pgsse_jobs_finished_total", pass == 0 ?
		    PGSSE_METRICS_GAUGE : PGSSE_METRICS_COUNTER, pass == 0 ?
		    "Jobs in pgsse.jobs by kind and state, as last sampled." :
		    "Jobs that finished since this process started, by kind "
		    "and state.") != PGSSE_OK)
			return PGSSE_ERR_NOMEM;
		for (i = 0; i < sc->nkinds; i++) {
			l[0].value = sc->kinds[i].name;
			v = pass == 0 ? sc->kinds[i].rows :
			    sc->kinds[i].finished;
			for (j = pass == 0 ? 0 : STATE_SUCCEEDED;
			    j < STATE__MAX; j++) {
				l[1].value = states[j];
				if (pgsse_metrics_value(b, pass == 0 ?
				    "pgsse_jobs" : "pgsse_jobs_finished_total",
				    l, 2, (double)v[j]) != PGSSE_OK)
					return PGSSE_ERR_NOMEM;
			}
		}
	}
	if (pgsse_metrics_family(b, "pgsse_job_duration_seconds",
	    PGSSE_METRICS_HISTOGRAM, "From start to finish of the jobs that "
	    "finished since this process started, by kind; jobs cancelled "
	    "before they started are not counted.") != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	for (i = 0; i < sc->nkinds; i++) {
		l[0].value = sc->kinds[i].name;
		if (pgsse_metrics_hist(b, "pgsse_job_duration_seconds", l, 1,
		    &sc->kinds[i].dur) != PGSSE_OK)
			return PGSSE_ERR_NOMEM;
	}
	return PGSSE_OK;
}

/* Samples the database if it is time, and writes what it knows.
 * Returns PGSSE_ERR_NOMEM if memory ran out. */
static enum pgsse_err
scrape_db(struct pgsse_scrape *sc, struct pgsse_pool *pool,
    struct pgsse_buf *b)
{
	enum pgsse_err	 er;

	pthread_mutex_lock(&sc->lock);
	scrape_maybe_sample(sc, pool);
	er = pgsse_metrics_one(b, "pgsse_db_sample_timestamp_seconds",
	    PGSSE_METRICS_GAUGE, "When the database was last sampled for the "
	    "figures below (at most every PGSSE_METRICS_SAMPLE_SEC), in "
	    "seconds since the epoch by its clock; 0: never.", sc->sampled);
	if (er == PGSSE_OK && sc->sampled > 0)
		er = pgsse_metrics_one(b,
		    "pgsse_notification_queue_usage_ratio",
		    PGSSE_METRICS_GAUGE, "PostgreSQL's "
		    "pg_notification_queue_usage(): how full the NOTIFY queue "
		    "is; at 1 every publish fails.", sc->usage);
	if (er == PGSSE_OK)
		er = scrape_jobs(sc, b);
	pthread_mutex_unlock(&sc->lock);
	return er;
}

/*
 * Appends the whole metrics page, CGI header first, to b: the process,
 * the hub over its registry, and the database sampled through pool.
 * May wait for a pooled connection (PGSSE_POOL_WAIT_SEC). Returns
 * PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_scrape_page(struct pgsse_scrape *sc, struct pgsse_hub *hub,
    struct pgsse_pool *pool, struct pgsse_buf *b)
{
	struct pgsse_hub_stats	 st;
	struct pgsse_registry	*reg;
	struct pgsse_hub_chan	*v;
	enum pgsse_err		 er = PGSSE_ERR_NOMEM;

	reg = pgsse_hub_registry(hub);
	if ((v = calloc(reg->n + 1, sizeof(*v))) == NULL ||
	    pgsse_hub_chans(hub, v, reg->n + 1) == 0)
		goto out;
	pgsse_hub_stats(hub, &st);
	pgsse_hub_queues(hub, &st);
	if (pgsse_metrics_header(b) == PGSSE_OK &&
	    pgsse_metrics_process(b, "pgsse-stream", sc->started) ==
	    PGSSE_OK && scrape_hub(sc, b, &st) == PGSSE_OK &&
	    scrape_chans(b, reg, v) == PGSSE_OK)
		er = scrape_db(sc, pool, b);
out:
	free(v);
	pgsse_registry_free(reg);
	return er;
}
