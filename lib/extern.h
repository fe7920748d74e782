/*
 * extern.h: internal functions of libpgsse, which the library does not
 * export: in-tree programs and tests that include it link the
 * convenience library lib/libpgsse_priv.la. Applications use pgsse.h
 * and pgsse-app.h only.
 *
 * It declares functions, and names structs without their bodies: the
 * data types that several modules read are in their module's own
 * header (lib/registry.h, notify.h, feed.h, cursor.h, fcgi.h, hub.h,
 * client.h, query.h, http.h, csrf.h), included only where read, with
 * the few functions that take one of their enums; the hub, pump, pool
 * and client keep their structs in their own .c file
 * (tests/check-private-structs.sh).
 */
#ifndef PGSSE_EXTERN_H
#define PGSSE_EXTERN_H

#include <signal.h>

#include <libpq-fe.h>

/* The NOTIFY channel that pgsse.publish() rings: payload "channel:id". */
#define PGSSE_DOORBELL "pgsse"
/* The channel whose events the per-job stream filters on job_id. */
#define PGSSE_JOB_CHANNEL "job"
/* The event that ends a per-job stream. */
#define PGSSE_JOB_END "complete"
/* The event telling a client that it missed events and must reload. */
#define PGSSE_RESET_EVENT "stream_reset"
/* The heartbeat event: no channel is named pgsse and no event name holds
 * a dot, so it cannot clash with an app's event, plain or qualified. */
#define PGSSE_HEARTBEAT_EVENT "pgsse.heartbeat"

/* The NOTIFY channel that pgsse.load_registry() rings at commit: every
 * stream process reloads the registry. No channel name holds a dot. */
#define PGSSE_REGISTRY_BELL "pgsse.registry"
/* The event that ends a stream whose channel a registry load removed. */
#define PGSSE_REMOVED_EVENT "pgsse.channel_removed"

/* registry.c: data types in registry.h; snapshots and slots are
 * explained there. */
struct pgsse_registry;
struct pgsse_channel;
struct pgsse_event_def;
/* env.c */
int		 pgsse_env_num(const char *, const char *, long, long,
		    long *);

struct pgsse_registry	*pgsse_registry_parse(const char *, struct pgsse_buf *);
struct pgsse_registry	*pgsse_registry_load(PGconn *, struct pgsse_buf *);
const struct pgsse_channel *pgsse_registry_channel(
			    const struct pgsse_registry *, const char *);
const struct pgsse_event_def *pgsse_registry_event(
			    const struct pgsse_channel *, const char *);
int			 pgsse_registry_may_read(const struct pgsse_channel *,
			    const char *);
int			 pgsse_registry_user_reader(
			    const struct pgsse_registry *, const char *);
struct pgsse_registry	*pgsse_registry_rebase(const struct pgsse_registry *,
			    struct pgsse_registry *, struct pgsse_buf *);
size_t			 pgsse_registry_nlive(const struct pgsse_registry *);
struct pgsse_registry	*pgsse_registry_ref(struct pgsse_registry *);
void			 pgsse_registry_free(struct pgsse_registry *);

/* redact.c: a message with a conninfo's passwords masked. */
void		 pgsse_redact_message(char *, size_t, const char *msg,
		    const char *conninfo);

/* listen.c: the FastCGI socket of --socket, instead of libfcgi's, and
 * accepting on it or on the web server's. */
int		 pgsse_listen(const char *addr, int backlog,
		    const char *setting);
int		 pgsse_listen_peers(const char *name);
int		 pgsse_listen_accept(int sock, int tcp, int rsec, int wsec);
int		 pgsse_listen_is_tcp(int sock);

/* db.c: connections, the reconnect backoff, fatal start-up errors. */
/* After a failed connection no thread of the process tries again for
 * PGSSE_DB_BACKOFF_MIN_MS; each further failure doubles the pause, up
 * to PGSSE_DB_BACKOFF_MAX_MS; a success resets it. */
#define PGSSE_DB_BACKOFF_MIN_MS 500
#define PGSSE_DB_BACKOFF_MAX_MS 10000

/* db.c: what every connection gets unless its conninfo sets it. A
 * connection whose peer went silent (no FIN, no RST: a link down, a
 * dropped route, a host gone) fails within PGSSE_DB_DEAD_MS, whether it
 * waits for an answer (the user timeout) or, as LISTEN does, for
 * nothing (the keepalives: idle + interval * count <= the timeout). */
#define PGSSE_DB_KEEPALIVE_IDLE_S 4
#define PGSSE_DB_KEEPALIVE_INTERVAL_S 2
#define PGSSE_DB_KEEPALIVE_COUNT 3
#define PGSSE_DB_DEAD_MS 10000
/* Seconds one host of the conninfo may take to connect; a host that
 * answers no SYN is given up at the user timeout (db_wait_ms). */
#define PGSSE_DB_CONNECT_TIMEOUT_S 10
PGconn		*pgsse_db_connect(const char *conninfo);
void		 pgsse_db_close(PGconn *);
void		 pgsse_db_backoff(void);
void		 pgsse_db_wait(const volatile sig_atomic_t *);
enum pgsse_err	 pgsse_db_start(const char *conninfo, const char *setting,
		    const volatile sig_atomic_t *stop, int retry, PGconn **);

/* pool.c: the struct is private to it. */
struct pgsse_pool;
/* Seconds a client waits for a pooled connection. */
#define PGSSE_POOL_WAIT_SEC 5
/* Pooled connections per stream process, for replays. */
#define PGSSE_POOL_MAX 4
struct pgsse_pool *pgsse_pool_new(const char *, size_t);
PGconn		*pgsse_pool_get(struct pgsse_pool *);
void		 pgsse_pool_put(struct pgsse_pool *, PGconn *);
void		 pgsse_pool_free(struct pgsse_pool *);

/* notify.c: maps one notification to an event; see the comment there.
 * Data types in notify.h. */
struct pgsse_notify;
void		 pgsse_notify_map(const struct pgsse_registry *,
		    const char *relname, const char *payload,
		    struct pgsse_notify *);
void		 pgsse_notify_clear(struct pgsse_notify *);

/* publish.c: pgsse_publish and pgsse_publish_batch to one user (NULL:
 * everyone). */
enum pgsse_err	 pgsse_publish_user(PGconn *, const char *, const char *,
		    const char *, const char *, int64_t *, char **);
enum pgsse_err	 pgsse_publish_batch_user(PGconn *, const char *,
		    const char *, const char *const *, size_t, const char *,
		    int64_t *, char **);

/* html.c: pgsse_html_text over n bytes, NUL included. */
enum pgsse_err	 pgsse_html_textn(struct pgsse_buf *, const char *, size_t);

/* utf8.c: UTF-8 as PostgreSQL takes it. */
size_t		 pgsse_utf8_len(const unsigned char *, size_t);

/* feed.c: events, and reading the event log. Data types in feed.h. */
struct pgsse_event;
struct pgsse_event *pgsse_event_new(int64_t id, int chan,
		    const char *channel, const char *event, const char *data,
		    int64_t job_id, const char *user);
struct pgsse_event *pgsse_event_removed(int chan, const char *channel);
struct pgsse_event *pgsse_event_rebase(int epoch, int from,
		    const int64_t *keep, const int64_t *tails, size_t n,
		    const char *reason);
void		 pgsse_event_ref(struct pgsse_event *);
void		 pgsse_event_unref(struct pgsse_event *);

typedef int (*pgsse_feed_cb)(struct pgsse_event *, void *);
enum pgsse_err	 pgsse_feed_fetch(PGconn *, const struct pgsse_registry *,
		    const int *chans, const int64_t *after, size_t n,
		    int64_t job_id, const char *user, pgsse_feed_cb, void *);
enum pgsse_err	 pgsse_feed_pruned(PGconn *, const struct pgsse_registry *,
		    const int *chans, int64_t *pruned, size_t n);
enum pgsse_err	 pgsse_feed_head(PGconn *, int64_t *);
enum pgsse_err	 pgsse_feed_tails(PGconn *, const struct pgsse_registry *,
		    const int *chans, int64_t *tails, size_t n);
enum pgsse_err	 pgsse_feed_epoch(PGconn *, int *);
enum pgsse_err	 pgsse_feed_epoch_tails(PGconn *,
		    const struct pgsse_registry *, const int *chans, int epoch,
		    int64_t *keep, size_t n);

/* cursor.c: parsing a Last-Event-ID. Data types in cursor.h. */
struct pgsse_cursor;
int64_t		 pgsse_cursor_id(const char *, size_t);
void		 pgsse_cursor_parse(struct pgsse_cursor *, const char *,
		    const char *const [], size_t);

/* fcgi.c: FastCGI records a responder writes. Constants, and the
 * function taking a record type, in fcgi.h. */
size_t		 pgsse_fcgi_stdout_len(size_t);
enum pgsse_err	 pgsse_fcgi_stdout(struct pgsse_buf *, unsigned int,
		    const void *, size_t);
enum pgsse_err	 pgsse_fcgi_end(struct pgsse_buf *, unsigned int);

/* users.c: clients by user name; the struct is private to it. */
struct pgsse_users;
struct pgsse_users *pgsse_users_new(void);
void		 pgsse_users_free(struct pgsse_users *);
enum pgsse_err	 pgsse_users_add(struct pgsse_users *, const char *, void *);
void		 pgsse_users_remove(struct pgsse_users *, const char *,
		    void *);
void *const	*pgsse_users_find(const struct pgsse_users *, const char *,
		    size_t *);
size_t		 pgsse_users_count(const struct pgsse_users *);

/* client.c: one streaming client; its body is private to client.c,
 * its dead states in client.h. See client.c for the locking. */
struct pgsse_client;
typedef int (*pgsse_client_wake)(struct pgsse_client *, void *);
struct pgsse_client *pgsse_client_new(struct pgsse_registry *);
void		 pgsse_client_free(struct pgsse_client *);
void		 pgsse_client_set_conn(struct pgsse_client *, int, int);
int		 pgsse_client_fd(const struct pgsse_client *);
void		 pgsse_client_on_finish(struct pgsse_client *,
		    void (*)(void *), void *);
void		 pgsse_client_finish(struct pgsse_client *);
enum pgsse_err	 pgsse_client_add(struct pgsse_client *, int);
size_t		 pgsse_client_nchans(const struct pgsse_client *);
int		 pgsse_client_has(const struct pgsse_client *, int);
enum pgsse_err	 pgsse_client_set_user(struct pgsse_client *,
		    const char *);
const char	*pgsse_client_user(const struct pgsse_client *);
const int	*pgsse_client_chans(const struct pgsse_client *);
const int64_t	*pgsse_client_cursors(const struct pgsse_client *);
void		 pgsse_client_seek(struct pgsse_client *, const int64_t *);
void		 pgsse_client_start_from(struct pgsse_client *,
		    const int64_t *);
void		 pgsse_client_set_epoch(struct pgsse_client *, int);
int		 pgsse_client_epoch(const struct pgsse_client *);
const char	*pgsse_client_check(struct pgsse_client *, int,
		    const int64_t *, int64_t, const int64_t *);
void		 pgsse_client_set_job(struct pgsse_client *, int64_t);
int64_t		 pgsse_client_job(const struct pgsse_client *);
void		 pgsse_client_set_done(struct pgsse_client *);
int		 pgsse_client_done(const struct pgsse_client *);
enum pgsse_err	 pgsse_client_id_line(const struct pgsse_client *,
		    struct pgsse_buf *);
enum pgsse_err	 pgsse_client_emit(struct pgsse_client *, struct pgsse_buf *,
		    const struct pgsse_event *);
enum pgsse_err	 pgsse_client_emit_fit(struct pgsse_client *,
		    struct pgsse_buf *, const struct pgsse_event *,
		    int (*)(struct pgsse_client *, size_t, void *), void *);
enum pgsse_err	 pgsse_client_put(struct pgsse_client *, const char *,
		    size_t);
void		 pgsse_client_put_end(struct pgsse_client *);
int		 pgsse_client_ending(const struct pgsse_client *);
int		 pgsse_client_write(struct pgsse_client *, size_t *);
size_t		 pgsse_client_pending(const struct pgsse_client *);
size_t		 pgsse_client_queued(struct pgsse_client *);
void		 pgsse_client_close(struct pgsse_client *);
void		 pgsse_client_replay_begin(struct pgsse_client *, int);
size_t		 pgsse_client_replay_more(const struct pgsse_client *,
		    size_t);
void		 pgsse_client_replay_took(struct pgsse_client *, size_t);
void		 pgsse_client_replay_framed(struct pgsse_client *);
int		 pgsse_client_replay_written(const struct pgsse_client *);
int		 pgsse_client_replay_end(struct pgsse_client *, size_t *,
		    int *);
int		 pgsse_client_push(struct pgsse_client *, struct pgsse_event *,
		    size_t);
void		 pgsse_client_stop(struct pgsse_client *);
void		 pgsse_client_drop(struct pgsse_client *);
void		 pgsse_client_attach(struct pgsse_client *, pgsse_client_wake,
		    void *);
int		 pgsse_client_detach(struct pgsse_client *);

/* pump.c: writes every attached client; see the design comment there.
 * Its struct is private to pump.c. It calls its owner back only
 * through the two functions given to pgsse_pump_start. */
struct pgsse_pump;
typedef void (*pgsse_pump_cb)(struct pgsse_client *, void *);
struct pgsse_pump *pgsse_pump_start(unsigned int, unsigned int,
		    pgsse_pump_cb, pgsse_pump_cb, void *);
void		 pgsse_pump_free(struct pgsse_pump *);
uint64_t	 pgsse_pump_slow(struct pgsse_pump *);
struct pgsse_metrics_hist;
void		 pgsse_pump_stats(struct pgsse_pump *, uint64_t *, size_t,
		    struct pgsse_metrics_hist *, size_t *, size_t *);
void		 pgsse_pump_attach(struct pgsse_pump *, struct pgsse_client *);
void		 pgsse_pump_hold(struct pgsse_pump *);
void		 pgsse_pump_release(struct pgsse_pump *);

/* hub.c: see the design comment there. Its struct is private to hub.c,
 * its figures in hub.h. */
struct pgsse_hub;
struct pgsse_hub_stats;
struct pgsse_hub *pgsse_hub_start(struct pgsse_registry *, const char *,
		    size_t, int, unsigned int, unsigned int);
void		 pgsse_hub_free(struct pgsse_hub *);
enum pgsse_err	 pgsse_hub_reserve(struct pgsse_hub *, size_t);
void		 pgsse_hub_release(struct pgsse_hub *);
void		 pgsse_hub_replay_begin(struct pgsse_hub *,
		    struct pgsse_client *);
enum pgsse_err	 pgsse_hub_replay_fit(struct pgsse_hub *,
		    struct pgsse_client *, size_t);
void		 pgsse_hub_replay_end(struct pgsse_hub *, struct pgsse_client *);
enum pgsse_err	 pgsse_hub_join(struct pgsse_hub *, struct pgsse_client *);
void		 pgsse_hub_leave(struct pgsse_hub *, struct pgsse_client *);
void		 pgsse_hub_attach(struct pgsse_hub *, struct pgsse_client *);
enum pgsse_err	 pgsse_hub_drain(struct pgsse_hub *, unsigned int);
void		 pgsse_hub_stats(struct pgsse_hub *, struct pgsse_hub_stats *);
void		 pgsse_hub_queues(struct pgsse_hub *, struct pgsse_hub_stats *);
struct pgsse_hub_chan;
size_t		 pgsse_hub_chans(struct pgsse_hub *, struct pgsse_hub_chan *,
		    size_t);
void		 pgsse_hub_replayed(struct pgsse_hub *, size_t, int);
struct pgsse_registry *pgsse_hub_registry(struct pgsse_hub *);
int		 pgsse_hub_ready(struct pgsse_hub *);
void		 pgsse_hub_refused(struct pgsse_hub *);

/* scrape.c: the stream's metrics page; its struct is private to it. */
struct pgsse_scrape;
struct pgsse_scrape *pgsse_scrape_new(void);
void		 pgsse_scrape_free(struct pgsse_scrape *);
enum pgsse_err	 pgsse_scrape_begin(struct pgsse_scrape *);
void		 pgsse_scrape_end(struct pgsse_scrape *);
enum pgsse_err	 pgsse_scrape_wait(struct pgsse_scrape *, unsigned int);
enum pgsse_err	 pgsse_scrape_page(struct pgsse_scrape *, struct pgsse_hub *,
		    struct pgsse_pool *, struct pgsse_buf *);

/* appstats.c: a fragment program's request counts and metrics page. */
void		 pgsse_appstats_start(const char *);
const char	*pgsse_appstats_path(void);
void		 pgsse_appstats_count(const char *, const char *,
		    enum pgsse_http_status, double);
enum pgsse_err	 pgsse_appstats_page(struct pgsse_buf *);
void		 pgsse_appstats_pipeline(size_t);

/* cookie.c */
enum pgsse_err	 pgsse_cookie_get(const char *header, const char *name,
		    char *out, size_t outsz);

/* route.c */
int		 pgsse_route_match(const char *pattern, const char *path,
		    const char **args, size_t nargs, char *buf, size_t bufsz);
int		 pgsse_route_valid(const char *pattern, size_t nargs);
int		 pgsse_route_arg(const char *pattern, const char *name);

/* sse.c: the text/event-stream wire format. */
enum pgsse_err	 pgsse_sse_event(struct pgsse_buf *, const char *id,
		    const char *event, const char *data, size_t datalen);
enum pgsse_err	 pgsse_sse_comment(struct pgsse_buf *, const char *);
enum pgsse_err	 pgsse_sse_retry(struct pgsse_buf *, unsigned int ms);
enum pgsse_err	 pgsse_sse_heartbeat(struct pgsse_buf *, unsigned int interval,
		    long long now);

/* name.c: channel and event name whitelists. */
int		 pgsse_name_channel_ok(const char *);
int		 pgsse_name_event_ok(const char *);

/* sdnotify.c: readiness for systemd (NOTIFY_SOCKET), as sd_notify(3). */
void		 pgsse_sdnotify_init(void);
enum pgsse_err	 pgsse_sdnotify(const char *);
void		 pgsse_sdnotify_ready(const char *status);

#endif /* PGSSE_EXTERN_H */
