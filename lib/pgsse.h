/*
 * pgsse.h: public API of libpgsse.
 *
 * libpgsse turns PostgreSQL LISTEN/NOTIFY and an append-only event log
 * into Server-Sent Events and HTML fragments served over FastCGI.
 * Every limit on outside input is named here with the HTTP status that
 * a request exceeding it receives; docs/SECURITY.md has the same table.
 *
 * This header and pgsse-app.h are the library's whole interface: the
 * library exports nothing else (lib/libpgsse.map). Build against it
 * with `pkg-config --cflags --libs pgsse`. Pages: pgsse_html(3) (with
 * the buffer), pgsse_publish(3), pgsse_log(3), pgsse_stream_main(3).
 *
 * Threads. A PGconn serves one thread at a time: give each thread its
 * own connection. pgsse_buf and pgsse_html calls are safe from any
 * thread on buffers no other thread touches; pgsse_log is safe from
 * any thread; pgsse_log_set_level and pgsse_stream_main belong to the
 * main thread, before any other thread starts.
 */
#ifndef PGSSE_H
#define PGSSE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define PGSSE_VERSION "0.1.0"

/* Length of a channel name ("^[a-z][a-z0-9_]{0,62}$"): 404 past it. */
#define PGSSE_CHANNEL_MAX 63
/* Length of an event name ("^[a-z][a-z0-9_]{0,63}$"). */
#define PGSSE_EVENT_MAX 64
/* Bytes in a query string or a urlencoded form: 414 past it. */
#define PGSSE_QUERY_MAX 4096
/* Key/value pairs in a query string or form: 400 past it. */
#define PGSSE_QUERY_PAIRS_MAX 64
/* Bytes in the host of the Host header and of the Origin or Referer
 * a POST is checked against: 403 past it. */
#define PGSSE_HOST_MAX 255
/* Channel slots a stream process keeps over its life: every channel
 * name any registry load declared takes one for good (lib/registry.c).
 * A reload past it is refused with a log line; restart to compact. */
#define PGSSE_CHANNEL_SLOTS_MAX 4096
/* Bytes in the name of the user an event is published to (a
 * REMOTE_USER), which holds no control character: pgsse.publish()
 * refuses a longer one (SQLSTATE 22023), a raw NOTIFY with one is
 * dropped. */
#define PGSSE_USER_MAX 255
/* Channels on one stream connection: 400 past it. */
#define PGSSE_CHANNELS_MAX 16
/* Bytes in a Last-Event-ID header or last_event_id parameter: 400. */
#define PGSSE_LAST_ID_MAX 1100
/* Decimal digits in one id of a Last-Event-ID (below 2^63): more is
 * malformed, answered with stream_reset. */
#define PGSSE_ID_DIGITS_MAX 18
/* Decimal digits of the log epoch that prefixes a Last-Event-ID
 * ("<epoch>-<id>", docs/SSE_EVENTS.md): more, or epoch 0, is malformed,
 * answered with stream_reset. */
#define PGSSE_EPOCH_DIGITS_MAX 9
/* Default streaming clients per process: 200 + retry: past it. */
#define PGSSE_CLIENTS_MAX 1000
/* Events waiting for one slow client before it is disconnected. */
#define PGSSE_QUEUE_MAX 4096
/* Default seconds between heartbeats (the pgsse.heartbeat event). */
#define PGSSE_HEARTBEAT_SEC 15
/* Default milliseconds at least between two of the stream's rounds of
 * writes under load (PGSSE_STREAM_BATCH_WAIT_MS in the environment; 0
 * to the _MAX): the events that come within half of it after a round
 * reach each stream in one write, in the next round; a later one goes
 * out at once. */
#define PGSSE_STREAM_BATCH_WAIT_MS 10
#define PGSSE_STREAM_BATCH_WAIT_MS_MAX 1000
/* Default reconnect hint sent in retry:, in milliseconds. */
#define PGSSE_RETRY_MS 2000
/* Bytes written for one client but not yet taken by the web server:
 * past it the client is too slow and its stream is closed. */
#define PGSSE_OUT_MAX (8 * 1024 * 1024)
/* Seconds a write to one client may block before it is dropped. */
#define PGSSE_WRITE_TIMEOUT_SEC 30
/* Seconds the web server may take to send a stream's parameters, all
 * reads together: past them its connection is closed. A body is not
 * waited for (the pump skips it, PGSSE_STREAM_IN_MAX). */
#define PGSSE_STREAM_READ_TIMEOUT_SEC 5
/* Connections to the stream's FastCGI socket that have not sent their
 * request's parameters yet, at most: past it the oldest is closed. */
#define PGSSE_STREAM_PENDING_MAX 128
/* Bytes a web server may send on a stream's FastCGI connection once the
 * stream started (a request body, which a stream does not read): past
 * them the stream ends (END_REQUEST). */
#define PGSSE_STREAM_IN_MAX (64 * 1024)
/* Rows fetched from the event log per query. */
#define PGSSE_FETCH_BATCH 1000
/* Rows one fragment shows at most, and bytes of one field in it: more
 * are left out, longer fields are cut. */
#define PGSSE_FRAGMENT_ROWS_MAX 200
#define PGSSE_FRAGMENT_FIELD_MAX 4096
/* Seconds between two web enqueues of the same job (kind and dedupe
 * key), queued jobs of one kind at most, and of those one web user's:
 * the defaults of pgsse.job_kinds. Past any, 429 with Retry-After. */
#define PGSSE_ENQUEUE_COOLDOWN_SEC 2
#define PGSSE_JOBS_QUEUED_MAX 100
#define PGSSE_JOBS_QUEUED_USER_MAX 10
/* Event ids per partition of pgsse.log: the default of the setting
 * log_partition_rows (1 to 1,000,000,000). pgsse.prune() drops a
 * partition once all its events are past retention. */
#define PGSSE_LOG_PARTITION_ROWS 1000000
/* Events one pgsse.publish_batch() call takes at most: the default of
 * the setting publish_batch_max. Past it, SQLSTATE 54000 and none is
 * published. */
#define PGSSE_PUBLISH_BATCH_MAX 1000
/* pgsse-publish -b: bytes of one line of stdin (one payload; the
 * default max_payload), past which it stops with status 1; and bytes of
 * payloads it sends in one batch at most (with at most
 * PGSSE_PUBLISH_BATCH_MAX lines). */
#define PGSSE_PUBLISH_LINE_MAX (1024 * 1024)
#define PGSSE_PUBLISH_BATCH_BYTES (4 * 1024 * 1024)
/* Bytes one resume's replay holds (at least one event): the event that
 * would pass it is left out, the stream sends what it has and ends, and
 * EventSource resumes from the last id it got. */
#define PGSSE_REPLAY_BYTES (4 * 1024 * 1024)
/* Replays of PGSSE_REPLAY_BYTES that PGSSE_REPLAY_BUDGET holds. */
#define PGSSE_REPLAYS_MAX 8
/* Bytes of replays per process that the web server has not taken yet,
 * past each replay's first PGSSE_REPLAY_SMALL: a replay that gets no
 * more is cut there and ends (EventSource resumes from the last id it
 * got); one that gets no room for its first event: 200 + retry:. */
#define PGSSE_REPLAY_BUDGET (PGSSE_REPLAYS_MAX * PGSSE_REPLAY_BYTES)
/* The first bytes of a replay, which stay outside the budget so that
 * nobody holding the budget can starve per-job streams and resumes a
 * few events behind; for PGSSE_REPLAYS_SMALL_MAX replays at once (as
 * many as the default client slots), past which they come from the
 * budget too. All replays together hold PGSSE_REPLAY_MEMORY at most. */
#define PGSSE_REPLAY_SMALL (64 * 1024)
#define PGSSE_REPLAYS_SMALL_MAX PGSSE_CLIENTS_MAX
#define PGSSE_REPLAY_MEMORY (PGSSE_REPLAY_BUDGET + \
	PGSSE_REPLAYS_SMALL_MAX * PGSSE_REPLAY_SMALL)
/* Streams waiting for a starter thread (stream.c): resumes and per-job
 * streams, which need the database to start; a fresh stream starts at
 * once. Past it: 200 + retry: (EventSource comes back), Retry-After for
 * others, as for every refused stream. */
#define PGSSE_START_QUEUE_MAX 4096
/* Threads that start queued streams, and the resumes one of them starts
 * together with one read of the log (alike: the same channels, user and
 * epoch, cursors within PGSSE_START_GROUP_IDS of the oldest's). */
#define PGSSE_STARTERS 2
#define PGSSE_START_GROUP_MAX 512
#define PGSSE_START_GROUP_IDS 10000
/* Milliseconds a per-job stream waits for its job to appear in
 * pgsse.jobs (a page may open it just before the job commits): 404
 * past it. */
#define PGSSE_JOB_GRACE_MS 2000

/* Metrics pages (/api/sse-metrics) a stream process answers at once:
 * 429 with Retry-After past it. Whoever asks, it samples the database
 * for them at most once every PGSSE_METRICS_SAMPLE_SEC seconds. */
#define PGSSE_METRICS_SCRAPES_MAX 2
#define PGSSE_METRICS_SAMPLE_SEC 5

/* Errors returned by library calls; PGSSE_OK is 0. */
enum pgsse_err {
	PGSSE_OK = 0,
	PGSSE_ERR_NOMEM,	/* allocation failed */
	PGSSE_ERR_INVAL,	/* malformed input */
	PGSSE_ERR_LIMIT,	/* input over a named limit */
	PGSSE_ERR_NOTFOUND,	/* unknown channel, event or path */
	PGSSE_ERR_FORBIDDEN,	/* private channel, user not allowed */
	PGSSE_ERR_DB,		/* the database failed or refused */
	PGSSE_ERR_IO,		/* the peer is gone or a write failed */
	PGSSE_ERR__MAX
};

/* HTTP statuses that pgsse answers with. */
enum pgsse_http_status {
	PGSSE_HTTP_200,
	PGSSE_HTTP_204,
	PGSSE_HTTP_400,
	PGSSE_HTTP_403,
	PGSSE_HTTP_404,
	PGSSE_HTTP_405,
	PGSSE_HTTP_413,
	PGSSE_HTTP_414,
	PGSSE_HTTP_429,
	PGSSE_HTTP_500,
	PGSSE_HTTP_503,
	PGSSE_HTTP__MAX
};

/* Returns a static string naming err; never NULL. */
const char	*pgsse_err_str(enum pgsse_err err);

/*
 * buf.c: a growable byte buffer. A value type, so that it lives on the
 * stack or inside a struct: start it zeroed ({ NULL, 0, 0 }), read p
 * (NUL-terminated when len > 0) and len, change it only through these
 * calls. Its owner frees p with pgsse_buf_free.
 */
struct pgsse_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};
enum pgsse_err	 pgsse_buf_put(struct pgsse_buf *, const void *, size_t);
enum pgsse_err	 pgsse_buf_puts(struct pgsse_buf *, const char *);
enum pgsse_err	 pgsse_buf_printf(struct pgsse_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 pgsse_buf_reset(struct pgsse_buf *);
void		 pgsse_buf_free(struct pgsse_buf *);

/* html.c: the one HTML writer. */
enum pgsse_err	 pgsse_html_text(struct pgsse_buf *, const char *);
enum pgsse_err	 pgsse_html_trusted(struct pgsse_buf *, const char *);
enum pgsse_err	 pgsse_html_printf(struct pgsse_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
enum pgsse_err	 pgsse_html_vprintf(struct pgsse_buf *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

/* log.c: one line per message on standard error, named for the
 * program; journald priorities when it is the journal (pgsse_log(3)). */
enum pgsse_log_level {
	PGSSE_LOG_DEBUG,
	PGSSE_LOG_INFO,
	PGSSE_LOG_WARN,
	PGSSE_LOG_ERROR,
	PGSSE_LOG__MAX
};
void		 pgsse_log_set_level(enum pgsse_log_level);
void		 pgsse_log(enum pgsse_log_level, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* redact.c: passwords out of what is printed (pgsse_log(3)). */
#define PGSSE_REDACTED "*****"
enum pgsse_err	 pgsse_redact_conninfo(struct pgsse_buf *, const char *);

/* publish.c: durable publishing through pgsse.publish() (and
 * pgsse.publish_batch()), and jobs through pgsse.enqueue(). */
struct pg_conn;
enum pgsse_err	 pgsse_publish(struct pg_conn *, const char *channel,
		    const char *event, const char *json, int64_t *id,
		    char **errmsg);
enum pgsse_err	 pgsse_publish_batch(struct pg_conn *, const char *channel,
		    const char *event, const char *const *json, size_t n,
		    int64_t *ids, char **errmsg);
enum pgsse_err	 pgsse_enqueue(struct pg_conn *, const char *kind,
		    const char *json, const char *dedupe, int64_t *id,
		    char **errmsg);

/* stream.c: the SSE stream server. */
struct pgsse_stream_cfg {
	const char	*conninfo;	/* libpq conninfo; "" uses PG* env */
	const char	*socket;	/* FastCGI socket path, or NULL */
	unsigned int	 max_clients;	/* PGSSE_CLIENTS_MAX by default */
	unsigned int	 heartbeat;	/* seconds, PGSSE_HEARTBEAT_SEC */
	unsigned int	 retry_ms;	/* PGSSE_RETRY_MS */
	size_t		 queue_max;	/* PGSSE_QUEUE_MAX */
	int		 raw;		/* map raw NOTIFYs (1), or only the log */
};
void		 pgsse_stream_cfg_default(struct pgsse_stream_cfg *);
int		 pgsse_stream_main(const struct pgsse_stream_cfg *);

#endif /* PGSSE_H */
