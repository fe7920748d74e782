/*
 * pgsse-app.h: your own FastCGI program of HTMX fragments and actions,
 * on libpgsse. Build it with `pkg-config --cflags --libs pgsse`; the
 * pages are pgsse_app(3), pgsse_app_request(3), pgsse_app_response(3)
 * and pgsse_app_query(3).
 *
 * A program is a table of routes and a main() that calls
 * pgsse_app_main(). The library parses each request (with the limits
 * in pgsse.h), checks CSRF before any POST route runs, keeps one
 * PostgreSQL connection per worker thread with every query prepared
 * once on it, and writes the response: status, htmx headers, the HTML
 * that the route appended through the one HTML writer.
 *
 * Threads. pgsse_app_main() runs --threads workers (PGSSE_APP_THREADS
 * by default). Each worker owns one pgsse_app and one connection: a
 * route runs on its worker's thread and may use only the pgsse_app it
 * is given, and only until it returns. Nothing a pgsse_app_* call
 * returns may outlive the request or pass to another thread. A result
 * of pgsse_app_query() belongs to the caller and is freed with PQclear.
 * pgsse_log() and the pgsse_buf and pgsse_html calls on distinct
 * buffers are safe from any thread. Routes share nothing else through
 * the library: what they share between themselves, they lock.
 * The workers take requests from every FastCGI connection, new or kept
 * open by the web server between requests (nginx's fastcgi_keep_conn,
 * Apache's enablereuse): an idle kept connection holds no worker.
 */
#ifndef PGSSE_APP_H
#define PGSSE_APP_H

#include <stdint.h>

#include <libpq-fe.h>

#include "pgsse.h"

/* One request being served, its response, and its worker's database
 * connection; opaque. The library owns it. */
typedef struct pgsse_app pgsse_app;

/* Route parameters (<name> segments) per route. */
#define PGSSE_APP_ARGS_MAX 4
/* Bound parameters of one query. */
#define PGSSE_APP_PARAMS_MAX 16
/* Statements prepared per connection, beside one per route of an app
 * folder; more run unprepared. */
#define PGSSE_APP_STMTS_MAX 32
/* Worker threads: the default, and the most --threads accepts. */
#define PGSSE_APP_THREADS 4
#define PGSSE_APP_THREADS_MAX 64
/* Milliseconds a batch of requests at work keeps the other workers
 * from taking new ones (turns: pgsse_app(3)), the default; 0: no turns,
 * every idle worker takes what is ready. And the most it may be. */
#define PGSSE_APP_BATCH_WAIT_MS 1
#define PGSSE_APP_BATCH_WAIT_MS_MAX 10000
/* FastCGI connections a program keeps open for the web server between
 * requests (FCGI_KEEP_CONN); past it, one is closed after its request
 * and the server opens another. An idle kept one holds no thread. */
#define PGSSE_APP_KEPT_MAX 1024
/* Seconds a FastCGI connection may take to send a request (each read
 * of it waits that long at most, and all of them together too): past
 * it, the connection is closed, or, once the request's parameters are
 * in, the request is served without the rest of its body. A connection
 * that says nothing, or keeps sending, holds a worker that long at
 * most. */
#define PGSSE_APP_READ_TIMEOUT_SEC 5
/* Bytes of a request body its route did not read that a program reads
 * and drops after the response (which goes out first), within
 * PGSSE_APP_READ_TIMEOUT_SEC, to keep the connection; past either, the
 * connection is closed after the response. */
#define PGSSE_APP_DISCARD_MAX (64 * 1024)
/* Seconds the web server may take to read a response: past it, the
 * connection is closed, the rest unsent. A server that reads slowly
 * holds a worker that long at most. */
#define PGSSE_APP_WRITE_TIMEOUT_SEC 30
/* Bytes of a request path a route can match: 404 past it. */
#define PGSSE_APP_PATH_MAX 255
/* An app folder (pgsse_app_main_folder): bytes of app.json, of an SQL
 * file or a template; declared routes; the length a text parameter
 * takes unless it declares its own max_len (400 past it); bytes of an
 * htmx header's value with its columns filled in (not sent past it). */
#define PGSSE_APP_FILE_MAX (1024u * 1024)
#define PGSSE_APP_ROUTES_MAX 256
#define PGSSE_APP_TEXT_MAX 1024
#define PGSSE_APP_HX_MAX 2048
/* Where a fragment program answers its metrics page, before any route
 * (PGSSE_APP_METRICS_PATH changes it; "" turns it off). */
#define PGSSE_APP_METRICS_PATH_DEFAULT "/app-metrics"
/* The CSRF token's cookie, and the request header a page sends it in. */
#define PGSSE_CSRF_COOKIE "pgsse_csrf"
#define PGSSE_CSRF_HEADER "X-CSRF-Token"

enum pgsse_method {
	PGSSE_METHOD_GET,
	PGSSE_METHOD_POST,
	PGSSE_METHOD__MAX
};

/* A route answers with a status; its body is what it appended. */
typedef enum pgsse_http_status (*pgsse_route_fn)(pgsse_app *);

/* A route: "/notes/<id>/done" matches /notes/7/done with id "7". The
 * table ends with a route whose pattern is NULL. */
struct pgsse_route {
	enum pgsse_method	 method;
	const char		*pattern;
	pgsse_route_fn		 fn;
};

/* The program: pgsse_app(3). */
int		 pgsse_app_main(const char *name, const struct pgsse_route *,
		    int argc, char *argv[]);
/* A program serving an app folder, and routes of its own (may be NULL)
 * tried first: pgsse_app(3). dir NULL: --app DIR or PGSSE_APP_DIR. */
int		 pgsse_app_main_folder(const char *name, const char *dir,
		    const struct pgsse_route *, int argc, char *argv[]);

/* The request: pgsse_app_request(3). */
enum pgsse_method pgsse_app_method(const pgsse_app *);
const char	*pgsse_app_path(const pgsse_app *);
const char	*pgsse_app_arg(const pgsse_app *, const char *name);
const char	*pgsse_app_get(const pgsse_app *, const char *key);
const char	*pgsse_app_form(const pgsse_app *, const char *key);
enum pgsse_err	 pgsse_app_cookie(const pgsse_app *, const char *name,
		    char *out, size_t outsz);
const char	*pgsse_app_user(const pgsse_app *);
const char	*pgsse_app_param(const pgsse_app *, const char *cgi_name);
const char	*pgsse_app_csrf_token(const pgsse_app *);

/* The response: pgsse_app_response(3). */
enum pgsse_hx {
	PGSSE_HX_TRIGGER,	/* HX-Trigger: events to fire */
	PGSSE_HX_RETARGET,	/* HX-Retarget: a CSS selector */
	PGSSE_HX_RESWAP,	/* HX-Reswap: "outerHTML", ... */
	PGSSE_HX_REDIRECT,	/* HX-Redirect: a URL */
	PGSSE_HX_REFRESH,	/* HX-Refresh: "true" */
	PGSSE_HX_PUSH_URL,	/* HX-Push-Url: a URL or "false" */
	PGSSE_HX__MAX
};
enum pgsse_err	 pgsse_app_html(pgsse_app *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
enum pgsse_err	 pgsse_app_header(pgsse_app *, const char *name,
		    const char *value);
enum pgsse_err	 pgsse_app_hx(pgsse_app *, enum pgsse_hx, const char *value);
enum pgsse_http_status pgsse_app_error(pgsse_app *, enum pgsse_http_status,
		    const char *msg);
enum pgsse_http_status pgsse_app_db_error(pgsse_app *, const char *msg);

/* The database: pgsse_app_query(3). */
PGresult	*pgsse_app_query(pgsse_app *, const char *sql, int n, ...);
PGresult	*pgsse_app_queryv(pgsse_app *, const char *sql, int n,
		    const char *const *params);
const char	*pgsse_app_sqlstate(const pgsse_app *);
enum pgsse_err	 pgsse_app_publish(pgsse_app *, const char *channel,
		    const char *event, const char *json, int64_t *id);
enum pgsse_err	 pgsse_app_enqueue(pgsse_app *, const char *kind,
		    const char *json, const char *dedupe, int64_t *id,
		    int *existed);

#endif /* PGSSE_APP_H */
