/*
 * app.c: what a FastCGI program needs to answer HTMX requests with HTML
 * fragments rendered from PostgreSQL: request parsing (method, path,
 * query, urlencoded form, cookies), a router with <name> path segments,
 * a response with htmx headers, CSRF protection for POST, and queries
 * over one kept-open connection with bound parameters only.
 *
 * CSRF (see csrf.c). Every response sets a signed token in the
 * pgsse_csrf cookie when the browser has none valid; pages send it back
 * in the X-CSRF-Token header (www/js/csrf.js does it for htmx). A POST
 * passes only with HX-Request: true, an Origin (or Referer) of this
 * scheme, host and port, and a header token equal to the cookie, signed
 * with the site's secret (PGSSE_SECRET_FILE).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "pgsse.h"
#include "pgsse-app.h"
#include "extern.h"
#include "appdef.h"
#include "csrf.h"
#include "fcgi.h"
#include "http.h"
#include "query.h"

/* Where the app's connection settings come from, for messages. */
#define APP_SETTING "PGSSE_APP_CONNINFO, PGSSE_CONNINFO or the PG* variables"
/* Listen backlog of a socket we open ourselves (--socket). */
#define APP_BACKLOG 128
/* Requests a worker takes at one wake, and pipelines the statements
 * of (a descriptor and a request's buffers each). */
#define APP_BATCH_MAX 16
/* Bytes of a prepared statement's name (app_stmt). */
#define APP_STMT_NAME_MAX 32
/* Bytes one read of a request takes at most (on a worker's stack). */
#define APP_READ_MAX 16384
/* Bytes of one request read at most, records skipped included: past
 * it, as past PGSSE_APP_READ_TIMEOUT_SEC (app_read). */
#define APP_READ_TOTAL_MAX (PGSSE_FCGI_PARAMS_MAX + 2 * PGSSE_APP_DISCARD_MAX)
/* A response buffer a slot keeps for its next request at most. */
#define APP_OUT_KEEP_MAX (64 * 1024)

/*
 * A worker's connection and what is prepared on it. A worker has two
 * when PGSSE_APP_READ_CONNINFO names a read connection (a standby's):
 * GET requests query on that one, POST (actions) on the main one, and
 * the worker swaps them (app_use), so the code below knows only a->c.
 */
struct app_conn {
	PGconn			*db;
	const char		*conninfo;
	char			**stmts;	/* prepared on db */
	size_t			 nstmts;
	size_t			 stmtsalloc;
	unsigned long		 defgen;	/* the folder stmts are for */
	int			 unprepared;	/* statements get lost: don't */
	int			 read;		/* the read connection */
};

/* One worker's request, response and connections: see pgsse-app.h. */
struct pgsse_app {
	struct pgsse_req	*req;
	enum pgsse_method	 method;
	char			 path[PGSSE_APP_PATH_MAX + 1];
	const struct pgsse_route *route;	/* the one matched */
	struct pgsse_query	 query;
	struct pgsse_query	 form;		/* POST only */
	const char		*args[PGSSE_APP_ARGS_MAX];	/* <name> segments */
	char			 argbuf[PGSSE_APP_PATH_MAX + 1];
	struct pgsse_buf	 body;		/* the fragment */
	struct pgsse_buf	 headers;	/* extra header lines */
	struct pgsse_buf	 head;		/* the response's header */
	struct pgsse_buf	 hx[PGSSE_HX__MAX];	/* htmx headers' values */
	char			 csrf[128];	/* the session's token */
	const char		*user;		/* REMOTE_USER, or NULL */
	char			 sqlstate[6];	/* of the last failed query */
	char			 retry[16];	/* its HINT: seconds to wait */
	struct app_conn		 c;		/* the one queries use */
	struct app_conn		 spare;		/* the other one */
	size_t			 stmtsmax;	/* C's and the folder's */
	struct pgsse_appdef	*def;		/* the request's folder */
	int			 plain;		/* body is pgsse_app_error's text */
	int			 lost_tx;	/* the route's transaction died */
	enum pgsse_http_status	 status;	/* answered */
	const char		*label;		/* its route, if none matched */
};

static const char *const hx_names[PGSSE_HX__MAX] = {
	"HX-Trigger", "HX-Retarget", "HX-Reswap", "HX-Redirect", "HX-Refresh",
	"HX-Push-Url",
};

static const char *const methods[PGSSE_METHOD__MAX] = { "GET", "POST" };

/* Forgets the statements prepared on a connection that is gone. */
static void
app_forget(struct pgsse_app *a)
{
	while (a->c.nstmts > 0)
		free(a->c.stmts[--a->c.nstmts]);
}

/*
 * Returns 1 if res failed because a's prepared statements went stale:
 * gone (a pool in transaction mode hands out other sessions, so a
 * stops preparing) or planned for a table that changed (prepared
 * again). Either way the query is worth one more try.
 */
static int
app_stale(struct pgsse_app *a, const PGresult *res)
{
	const char	*st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	PGresult	*r;

	if (st == NULL || a->c.nstmts == 0 ||
	    (strcmp(st, "26000") != 0 && strcmp(st, "0A000") != 0))
		return 0;
	if (strcmp(st, "26000") == 0)
		a->c.unprepared = 1;
	r = PQexec(a->c.db, "DEALLOCATE ALL");
	PQclear(r);
	app_forget(a);
	return 1;
}

/* Returns 1 if res started a COPY, which fragment programs refuse. */
static int
app_copy(const PGresult *res)
{
	ExecStatusType	 st = PQresultStatus(res);

	if (st != PGRES_COPY_IN && st != PGRES_COPY_OUT &&
	    st != PGRES_COPY_BOTH)
		return 0;
	pgsse_log(PGSSE_LOG_ERROR, "a route ran COPY: refused, connection "
	    "closed");
	return 1;
}

/*
 * Makes the read connection a's current one if read (and a has one),
 * else the main one. Can't fail: each opens when first queried.
 */
static void
app_use(struct pgsse_app *a, int read)
{
	struct app_conn	 t;

	if (a->c.read == (read && (a->c.read || a->spare.read)))
		return;
	t = a->c;
	a->c = a->spare;
	a->spare = t;
}

/* Closes a's connection, forgetting what was prepared on it. */
static void
app_drop(struct pgsse_app *a)
{
	pgsse_db_close(a->c.db);
	a->c.db = NULL;
	app_forget(a);
}

/*
 * Rolls back the transaction open on a's connection; a connection that
 * is not idle after that is closed.
 */
static void
app_rollback(struct pgsse_app *a)
{
	PGresult	*res;

	res = PQexec(a->c.db, "rollback");
	if (PQresultStatus(res) != PGRES_COMMAND_OK ||
	    PQtransactionStatus(a->c.db) != PQTRANS_IDLE)
		app_drop(a);
	PQclear(res);
}

/*
 * Sends statement name (or, if NULL, sql) with n params on a's
 * connection; in pipeline mode it only queues it. Returns 1 if sent.
 */
static int
app_send(struct pgsse_app *a, const char *name, const char *sql, int n,
    const char *const *params)
{
	return name != NULL ? PQsendQueryPrepared(a->c.db, name, n, params,
	    NULL, NULL, 0) : PQsendQueryParams(a->c.db, sql, n, NULL, params,
	    NULL, NULL, 0);
}

/*
 * Reads the results of nq statements sent in pipeline mode on a's
 * connection (not of a sync after them). Returns the result of the
 * statement at (of 0 to nq - 1), or the first that failed or was skipped
 * after a failure (the caller frees it), or NULL if there was none:
 * *broken is then set if the connection was closed (a statement ran
 * COPY, which never ends).
 */
static PGresult *
app_collect(struct pgsse_app *a, int nq, int at, int *broken)
{
	PGresult	*res, *out = NULL;
	int		 q, failed, outfailed = 0;

	*broken = 0;
	for (q = 0; q < nq; q++)
		while ((res = PQgetResult(a->c.db)) != NULL) {
			if (app_copy(res)) {	/* it never ends */
				PQclear(res);
				PQclear(out);
				app_drop(a);
				*broken = 1;
				return NULL;
			}
			failed = PQresultStatus(res) == PGRES_FATAL_ERROR ||
			    PQresultStatus(res) == PGRES_PIPELINE_ABORTED;
			if ((failed && !outfailed) || (q == at && out == NULL)) {
				PQclear(out);
				out = res;
				outfailed = failed;
			} else
				PQclear(res);
		}
	return out;
}

/*
 * Queues the statement for a request with user (or NULL) on a's
 * connection, which is in pipeline mode, after set_config('pgsse.user',
 * user, true) if there is one, so that row-level security on pgsse.log
 * sees who asks. The caller ends the transaction they run in, which
 * ends the setting with it, so it cannot outlive the request, even
 * behind a transaction pooler. Returns the number of statements queued
 * (1 or 2), or 0 if they could not be sent.
 */
static int
app_queue(struct pgsse_app *a, const char *user, const char *name,
    const char *sql, int n, const char *const *params)
{
	const char	*u[1] = { user };

	if (user != NULL && !PQsendQueryParams(a->c.db, "select "
	    "set_config('pgsse.user', $1, true)", 1, NULL, u, NULL, NULL, 0))
		return 0;
	if (!app_send(a, name, sql, n, params))
		return 0;
	return user != NULL ? 2 : 1;
}

/*
 * Sends sql (a transaction's begin or end) on a's connection, which is
 * in pipeline mode. Returns 1 if queued, else 0.
 */
static int
app_queue_tx(struct pgsse_app *a, const char *sql)
{
	return PQsendQueryParams(a->c.db, sql, 0, NULL, NULL, NULL, NULL, 0);
}

/*
 * Runs the statement for a request with a user in one round trip
 * (app_queue, then a sync: the two run in one implicit transaction of
 * their own). Returns the statement's result (or set_config's error),
 * which the caller frees, or NULL if nothing could be sent; a
 * connection left in a bad state is closed.
 */
static PGresult *
app_exec_as(struct pgsse_app *a, const char *name, const char *sql, int n,
    const char *const *params)
{
	PGresult	*out = NULL;
	int		 nq, broken;

	if (!PQenterPipelineMode(a->c.db))
		return NULL;
	if ((nq = app_queue(a, a->user, name, sql, n, params)) > 0 &&
	    PQpipelineSync(a->c.db)) {
		if ((out = app_collect(a, nq, nq - 1, &broken)) == NULL &&
		    broken)
			return NULL;
		PQclear(PQgetResult(a->c.db));	/* PGRES_PIPELINE_SYNC */
	}
	if (!PQexitPipelineMode(a->c.db))
		app_drop(a);
	return out;
}

/*
 * Finds sql among the statements prepared on a's connection, preparing
 * it as n-parameter statement if it is new and there is room (fewer
 * than PGSSE_APP_STMTS_MAX, and one per route of the app folder), and
 * writes its name to name. Returns 1 if name is set; 0 if sql is to go
 * unprepared; -1 if preparing failed, with *res saying why (NULL: out
 * of memory), which the caller frees.
 */
static int
app_stmt(struct pgsse_app *a, const char *sql, int n, char *name,
    size_t namesz, PGresult **res)
{
	size_t		 i;
	char		**p;

	*res = NULL;
	for (i = 0; i < a->c.nstmts; i++)
		if (strcmp(a->c.stmts[i], sql) == 0)
			break;
	snprintf(name, namesz, "pgsse_app_%zu", i);
	if (i < a->c.nstmts)
		return 1;
	if (a->c.nstmts >= a->stmtsmax || a->c.unprepared)
		return 0;
	if (a->c.nstmts == a->c.stmtsalloc) {
		if ((p = reallocarray(a->c.stmts, a->c.stmtsalloc + 16,
		    sizeof(*p))) == NULL)
			return -1;
		a->c.stmts = p;
		a->c.stmtsalloc += 16;
	}
	*res = PQprepare(a->c.db, name, sql, n, NULL);
	if (PQresultStatus(*res) != PGRES_COMMAND_OK)
		return -1;
	PQclear(*res);
	*res = NULL;
	if ((a->c.stmts[i] = strdup(sql)) == NULL)
		return -1;
	a->c.nstmts++;
	return 1;
}

/*
 * Runs sql on a's connection as a prepared statement, preparing it on
 * first use (app_stmt), else unprepared. Returns the result (the caller
 * frees it) or NULL if it could not be sent.
 */
static PGresult *
app_exec(struct pgsse_app *a, const char *sql, int n,
    const char *const *params)
{
	char		 name[32];
	PGresult	*res;

	switch (app_stmt(a, sql, n, name, sizeof(name), &res)) {
	case -1:
		return res;
	case 0:
		return a->user != NULL ? app_exec_as(a, NULL, sql, n,
		    params) : PQexecParams(a->c.db, sql, n, NULL, params,
		    NULL, NULL, 0);
	default:
		break;
	}
	if (a->user != NULL)
		return app_exec_as(a, name, sql, n, params);
	return PQexecPrepared(a->c.db, name, n, params, NULL, NULL, 0);
}

/* Keeps the SQLSTATE and HINT of a failed result for pgsse_app_db_error. */
static void
app_keep_error(struct pgsse_app *a, const PGresult *res)
{
	const char	*st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char	*hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);

	snprintf(a->sqlstate, sizeof(a->sqlstate), "%s", st ? st : "");
	a->retry[0] = '\0';
	if (hint != NULL && strspn(hint, "0123456789") == strlen(hint))
		snprintf(a->retry, sizeof(a->retry), "%s", hint);
}

/*
 * Answers for the query that just failed: SQLSTATE PS429 (a cooldown or
 * cap, such as pgsse.web_enqueue's) is 429 with Retry-After from its
 * HINT; PS403 (the user may not, such as pgsse.cancel of someone
 * else's job) is 403; 22023 (invalid arguments) is 400; anything else
 * is 503 with msg. Returns the status. Can't fail.
 */
enum pgsse_http_status
pgsse_app_db_error(pgsse_app *a, const char *msg)
{
	if (strcmp(a->sqlstate, "PS429") == 0) {
		pgsse_app_header(a, "Retry-After", a->retry[0] ? a->retry : "1");
		return pgsse_app_error(a, PGSSE_HTTP_429, "too soon; retry "
		    "later");
	}
	if (strcmp(a->sqlstate, "PS403") == 0)
		return pgsse_app_error(a, PGSSE_HTTP_403, "forbidden");
	if (strcmp(a->sqlstate, "22023") == 0)
		return pgsse_app_error(a, PGSSE_HTTP_400, "invalid arguments");
	return pgsse_app_error(a, PGSSE_HTTP_503, msg);
}

/*
 * Runs sql with n text parameters (NULL for SQL NULL) on the worker's
 * connection as a prepared statement, reconnecting once if it broke.
 * Returns the result, which the caller frees with PQclear, or NULL
 * (after logging; pgsse_app_sqlstate says why) on failure.
 */
PGresult *
pgsse_app_queryv(pgsse_app *a, const char *sql, int n,
    const char *const *params)
{
	PGresult	*res;
	int		 tries, stale, intx;

	a->sqlstate[0] = '\0';
	if (n < 0 || n > PGSSE_APP_PARAMS_MAX) {
		pgsse_log(PGSSE_LOG_ERROR, "query with %d parameters (at most "
		    "PGSSE_APP_PARAMS_MAX): not sent", n);
		return NULL;
	}
	if (a->lost_tx) {
		pgsse_log(PGSSE_LOG_WARN, "%s: query refused: the connection "
		    "was lost inside the route's transaction", a->path);
		return NULL;
	}
	for (tries = 0; tries < 2; tries++) {
		if (a->c.db == NULL || PQstatus(a->c.db) != CONNECTION_OK) {
			pgsse_db_close(a->c.db);
			app_forget(a);
			if ((a->c.db = pgsse_db_connect(a->c.conninfo)) == NULL)
				return NULL;
		}
		intx = PQtransactionStatus(a->c.db) == PQTRANS_INTRANS ||
		    PQtransactionStatus(a->c.db) == PQTRANS_INERROR;
		res = app_exec(a, sql, n, params);
		if (PQresultStatus(res) == PGRES_TUPLES_OK ||
		    PQresultStatus(res) == PGRES_COMMAND_OK)
			return res;
		if (res != NULL && app_copy(res)) {
			PQclear(res);
			app_drop(a);
			return NULL;
		}
		pgsse_log(PGSSE_LOG_WARN, "query failed: %s",
		    PQerrorMessage(a->c.db));
		app_keep_error(a, res);
		stale = app_stale(a, res);
		PQclear(res);
		if (PQstatus(a->c.db) == CONNECTION_OK && !stale)
			return NULL;
		/* On a new connection it would run outside the route's
		 * transaction, which is gone: the route must fail. */
		if (intx && PQstatus(a->c.db) != CONNECTION_OK) {
			a->lost_tx = 1;
			return NULL;
		}
	}
	return NULL;
}

/*
 * pgsse_app_queryv with the n parameters as arguments, each a const
 * char * (or NULL). Returns what pgsse_app_queryv returns.
 */
PGresult *
pgsse_app_query(pgsse_app *a, const char *sql, int n, ...)
{
	const char	*params[PGSSE_APP_PARAMS_MAX];
	va_list		 ap;
	int		 i;

	a->sqlstate[0] = '\0';
	if (n < 0 || n > PGSSE_APP_PARAMS_MAX) {
		pgsse_log(PGSSE_LOG_ERROR, "query with %d parameters (at most "
		    "PGSSE_APP_PARAMS_MAX): not sent", n);
		return NULL;
	}
	va_start(ap, n);
	for (i = 0; i < n; i++)
		params[i] = va_arg(ap, const char *);
	va_end(ap);
	return pgsse_app_queryv(a, sql, n, params);
}

/* Returns the SQLSTATE of the last failed query, or "". a owns it. */
const char *
pgsse_app_sqlstate(const pgsse_app *a)
{
	return a->sqlstate;
}

/*
 * Publishes one event as the request's user (pgsse.publish), storing
 * its id in *id if id is not NULL; json NULL is "{}". Returns
 * PGSSE_ERR_DB if the database refused (pgsse_app_db_error answers).
 */
enum pgsse_err
pgsse_app_publish(pgsse_app *a, const char *channel, const char *event,
    const char *json, int64_t *id)
{
	PGresult	*res;

	res = pgsse_app_query(a, "select pgsse.publish($1, $2, $3::jsonb)",
	    3, channel, event, json != NULL ? json : "{}");
	if (res == NULL)
		return PGSSE_ERR_DB;
	if (id != NULL)
		*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return PGSSE_OK;
}

/*
 * Enqueues a job of a declared kind (pgsse.web_enqueue) with json
 * arguments (NULL: "{}") under dedupe (NULL: kind and arguments).
 * Stores its id in *id and, in *existed, 1 if that job was already
 * queued or running (either may be NULL). Returns PGSSE_ERR_DB if the
 * database refused: pgsse_app_db_error answers 429 or 400 for it.
 */
enum pgsse_err
pgsse_app_enqueue(pgsse_app *a, const char *kind, const char *json,
    const char *dedupe, int64_t *id, int *existed)
{
	PGresult	*res;

	res = pgsse_app_query(a, "select id, existed from pgsse.web_enqueue("
	    "$1, $2::jsonb, $3)", 3, kind, json != NULL ? json : "{}", dedupe);
	if (res == NULL)
		return PGSSE_ERR_DB;
	if (id != NULL)
		*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	if (existed != NULL)
		*existed = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	return PGSSE_OK;
}

/* The key CSRF tokens are issued under; set before any request. */
static struct pgsse_csrf_key app_key;
_Static_assert(sizeof(((pgsse_app *)0)->csrf) > PGSSE_CSRF_TOKEN_LEN,
    "pgsse_app's csrf holds a token");

/* Fills r with the request's parameters that the CSRF check reads. */
static void
app_csrf_req(const struct pgsse_app *a, struct pgsse_csrf_req *r)
{
	r->hx_request = pgsse_req_param(a->req, "HTTP_HX_REQUEST");
	r->origin = pgsse_req_param(a->req, "HTTP_ORIGIN");
	r->referer = pgsse_req_param(a->req, "HTTP_REFERER");
	r->host = pgsse_req_param(a->req, "HTTP_HOST");
	r->https = pgsse_req_param(a->req, "HTTPS");
	r->scheme = pgsse_req_param(a->req, "REQUEST_SCHEME");
	r->cookie = pgsse_req_param(a->req, "HTTP_COOKIE");
	r->token = pgsse_req_param(a->req, "HTTP_X_CSRF_TOKEN");
	r->hosts = getenv("PGSSE_ALLOWED_HOSTS");
	if (r->hosts != NULL && *r->hosts == '\0')
		r->hosts = NULL;
}

/*
 * Keeps the request's token in a->csrf if this site's secret signed
 * it, else makes a fresh one there with its Set-Cookie header. Without
 * a secret (a program with no POST route) there are no tokens.
 */
static void
app_token(struct pgsse_app *a)
{
	struct pgsse_csrf_req	 r;

	app_csrf_req(a, &r);
	if (app_key.len == 0 || (pgsse_cookie_get(r.cookie, PGSSE_CSRF_COOKIE,
	    a->csrf, sizeof(a->csrf)) == PGSSE_OK &&
	    pgsse_csrf_valid(&app_key, a->csrf)))
		return;
	if (pgsse_csrf_set_cookie(&app_key, &r, a->csrf, sizeof(a->csrf),
	    &a->headers) != PGSSE_OK)
		pgsse_log(PGSSE_LOG_WARN, "cannot issue a CSRF token");
}

/* Returns NULL if the POST may proceed, else why not. */
static const char *
app_csrf_check(const struct pgsse_app *a)
{
	struct pgsse_csrf_req	 r;
	enum pgsse_csrf_why	 why;

	app_csrf_req(a, &r);
	why = pgsse_csrf_check(&app_key, &r);
	return why == PGSSE_CSRF_OK ? NULL : pgsse_csrf_why_str(why);
}

/* Reads an urlencoded POST body into a->form. Returns an HTTP status. */
static enum pgsse_http_status
app_read_form(struct pgsse_app *a)
{
	const char	*len = pgsse_req_param(a->req, "CONTENT_LENGTH");
	char		*body;
	long		 n;
	int		 got = 0, r;

	n = len ? strtol(len, NULL, 10) : 0;
	if (n < 0 || n > PGSSE_QUERY_MAX)
		return PGSSE_HTTP_413;
	if ((body = calloc(1, (size_t)n + 1)) == NULL)
		return PGSSE_HTTP_500;
	if (a->req->own != NULL) {	/* read whole, up to PGSSE_QUERY_MAX */
		got = a->req->own->inlen < (size_t)n ?
		    (int)a->req->own->inlen : (int)n;
		if (got > 0)
			memcpy(body, a->req->own->in, (size_t)got);
	}
	while (a->req->own == NULL && got < n) {
		r = (int)read(STDIN_FILENO, body + got, (size_t)(n - got));
		if (r <= 0)
			break;
		got += r;
	}
	r = got != n || strlen(body) != (size_t)got ? PGSSE_ERR_INVAL :
	    (int)pgsse_query_parse(body, &a->form);
	free(body);
	return r == PGSSE_OK ? PGSSE_HTTP_200 : PGSSE_HTTP_400;
}

/* Writes the response: status, headers, then the body. */
static void
app_respond(struct pgsse_app *a, enum pgsse_http_status st)
{
	struct pgsse_buf	*h = &a->head;
	const char		*type = st == PGSSE_HTTP_200 && !a->plain ?
	    "text/html; charset=utf-8" : "text/plain; charset=utf-8";
	enum pgsse_err		 er;
	int			 i;

	a->status = st;
	pgsse_buf_reset(h);
	er = pgsse_buf_printf(h, "Status: %s\r\nContent-Type: %s\r\n"
	    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
	    "%s", pgsse_http_status_line(st), type,
	    a->headers.p ? a->headers.p : "");
	for (i = 0; i < PGSSE_HX__MAX && er == PGSSE_OK; i++)
		if (a->hx[i].len > 0)
			er = pgsse_buf_printf(h, "%s: %s\r\n", hx_names[i],
			    a->hx[i].p);
	if (st == PGSSE_HTTP_204)
		pgsse_buf_reset(&a->body);	/* 204 has no body */
	/* No flush: pgsse_req_end writes both with the end of the
	 * request, in one writev (under CGI, two writes at once). The
	 * header is kept in a, so that its room is there next time. */
	if (er == PGSSE_OK && pgsse_buf_put(h, "\r\n", 2) == PGSSE_OK &&
	    pgsse_req_write(a->req, h->p, h->len) == PGSSE_OK)
		pgsse_req_write(a->req, a->body.p, a->body.len);
}

/*
 * Replaces the body with an error message for htmx to show, sent as
 * text/plain but HTML-escaped all the same: htmx swaps a 2xx (and, if
 * told to, an error) as HTML whatever its type. Returns st. Can't fail.
 */
enum pgsse_http_status
pgsse_app_error(pgsse_app *a, enum pgsse_http_status st, const char *msg)
{
	pgsse_buf_reset(&a->body);
	pgsse_html_printf(&a->body, "%s\n", msg);
	a->plain = 1;
	return st;
}

/* Returns 1 if value is fit for a header line: no control byte. */
static int
app_header_value_ok(const char *value)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)value; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

/*
 * Returns 0 for a header a route may not set: one the library writes
 * (Status, Content-Type, Cache-Control, X-Content-Type-Options, the
 * htmx ones, which go through pgsse_app_hx), or one the web server acts
 * on (Location redirects internally under CGI, X-Accel-*, X-Sendfile*,
 * X-Lighttpd-Send-File, framing). Can't fail.
 */
static int
app_header_name_ok(const char *name)
{
	static const char *const refused[] = { "Status", "Content-Type",
	    "Content-Length", "Transfer-Encoding", "Connection",
	    "Cache-Control", "X-Content-Type-Options", "Location",
	    "X-Sendfile", "X-Sendfile2", "X-Lighttpd-Send-File", NULL };
	static const char *const prefixes[] = { "HX-", "X-Accel-", NULL };
	size_t	 i;

	for (i = 0; refused[i] != NULL; i++)
		if (strcasecmp(name, refused[i]) == 0)
			return 0;
	for (i = 0; prefixes[i] != NULL; i++)
		if (strncasecmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return 0;
	return 1;
}

/*
 * Adds a response header line. Returns PGSSE_ERR_INVAL if name is not
 * an HTTP token or is refused (app_header_name_ok: the library's own,
 * htmx's through pgsse_app_hx, and those the web server acts on), or if
 * value holds a control byte (a newline would forge headers);
 * PGSSE_ERR_NOMEM.
 */
enum pgsse_err
pgsse_app_header(pgsse_app *a, const char *name, const char *value)
{
	size_t	 n = strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~");

	if (n == 0 || name[n] != '\0' || value == NULL ||
	    !app_header_value_ok(value) || !app_header_name_ok(name))
		return PGSSE_ERR_INVAL;
	return pgsse_buf_printf(&a->headers, "%s: %s\r\n", name, value);
}

/*
 * Returns 1 if url is a path on this site or an http(s) URL: htmx
 * assigns HX-Redirect to window.location, where "javascript:" would run
 * script; "//host" and "/\\host" would leave the site unseen. Another
 * host's http(s) URL passes: whether it may be the caller's. Can't
 * fail.
 */
static int
app_url_ok(const char *url)
{
	size_t	 n = strcspn(url, ":/?#");

	if (url[0] == '\\' || (url[0] == '/' && (url[1] == '/' ||
	    url[1] == '\\')))
		return 0;	/* another host, without saying so */
	return url[n] != ':' || (n == 4 && strncasecmp(url, "http", 4) == 0) ||
	    (n == 5 && strncasecmp(url, "https", 5) == 0);
}

/*
 * Sets an htmx response header; a later call for the same header
 * replaces the value. PGSSE_HX_REFRESH takes NULL for "true". Returns
 * PGSSE_ERR_INVAL for an unknown header, a NULL or empty value, a
 * control byte in it, or a redirect or pushed URL with a scheme other
 * than http and https; PGSSE_ERR_NOMEM.
 */
enum pgsse_err
pgsse_app_hx(pgsse_app *a, enum pgsse_hx h, const char *value)
{
	if (h == PGSSE_HX_REFRESH && value == NULL)
		value = "true";
	if (!pgsse_app_hx_ok(h, value))
		return PGSSE_ERR_INVAL;
	pgsse_buf_reset(&a->hx[h]);
	return pgsse_buf_puts(&a->hx[h], value);
}

/*
 * Returns 1 if pgsse_app_hx takes value for h, else 0. Can't fail.
 */
int
pgsse_app_hx_ok(enum pgsse_hx h, const char *value)
{
	return (unsigned)h < PGSSE_HX__MAX && value != NULL &&
	    *value != '\0' && app_header_value_ok(value) &&
	    ((h != PGSSE_HX_REDIRECT && h != PGSSE_HX_PUSH_URL) ||
	    app_url_ok(value));
}

/* Returns the response's body, for appdef.c to render into. */
struct pgsse_buf *
pgsse_app_body(pgsse_app *a)
{
	return &a->body;
}

/*
 * Appends HTML to the response: fmt is trusted markup, every %s
 * argument is escaped (pgsse_html_printf). Returns PGSSE_ERR_NOMEM, or
 * PGSSE_ERR_INVAL on a conversion other than %s, %d, %u, %ld, %lld, %%;
 * either way none of it is appended.
 */
enum pgsse_err
pgsse_app_html(pgsse_app *a, const char *fmt, ...)
{
	va_list		 ap;
	enum pgsse_err	 er;

	size_t		 len = a->body.len;

	va_start(ap, fmt);
	er = pgsse_html_vprintf(&a->body, fmt, ap);
	va_end(ap);
	if (er != PGSSE_OK && a->body.len > len) {	/* none of it, then */
		a->body.len = len;
		a->body.p[len] = '\0';
	}
	if (er == PGSSE_ERR_INVAL)
		pgsse_log(PGSSE_LOG_ERROR, "%s: pgsse_app_html: a conversion "
		    "other than %%s, %%d, %%u, %%ld, %%lld, %%%%", a->path);
	return er;
}

/* Returns the request's method. */
enum pgsse_method
pgsse_app_method(const pgsse_app *a)
{
	return a->method;
}

/* Returns the request's path, without the query string. a owns it. */
const char *
pgsse_app_path(const pgsse_app *a)
{
	return a->path;
}

/*
 * Returns the path segment that the route's <name> matched,
 * percent-decoded, or NULL if the route has no such segment. a owns it.
 */
const char *
pgsse_app_arg(const pgsse_app *a, const char *name)
{
	int	 i;

	if (a->route == NULL ||
	    (i = pgsse_route_arg(a->route->pattern, name)) < 0)
		return NULL;
	return a->args[i];
}

/* Returns the query string's value of key, decoded, or NULL. */
const char *
pgsse_app_get(const pgsse_app *a, const char *key)
{
	return pgsse_query_get(&a->query, key);
}

/* Returns the POST form's value of key, decoded, or NULL. */
const char *
pgsse_app_form(const pgsse_app *a, const char *key)
{
	return pgsse_query_get(&a->form, key);
}

/*
 * Copies the value of cookie name into out, of outsz bytes. Returns
 * PGSSE_ERR_NOTFOUND if the request has none, PGSSE_ERR_LIMIT if it
 * does not fit.
 */
enum pgsse_err
pgsse_app_cookie(const pgsse_app *a, const char *name, char *out,
    size_t outsz)
{
	return pgsse_cookie_get(pgsse_req_param(a->req, "HTTP_COOKIE"), name,
	    out, outsz);
}

/* Returns REMOTE_USER, set by the web server's authentication, or NULL. */
const char *
pgsse_app_user(const pgsse_app *a)
{
	return a->user;
}

/*
 * Returns the request's CGI variable name: a header (HTTP_*, e.g.
 * "HTTP_HX_TARGET") or one of RFC 3875's meta-variables; NULL if the
 * request has none or name is neither (under plain CGI the variables
 * are the process environment, which holds more than the request).
 */
const char *
pgsse_app_param(const pgsse_app *a, const char *name)
{
	static const char *const meta[] = { "AUTH_TYPE", "CONTENT_LENGTH",
	    "CONTENT_TYPE", "GATEWAY_INTERFACE", "HTTPS", "PATH_INFO",
	    "PATH_TRANSLATED", "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST",
	    "REMOTE_IDENT", "REMOTE_PORT", "REMOTE_USER", "REQUEST_METHOD",
	    "REQUEST_SCHEME", "REQUEST_URI", "SCRIPT_NAME", "SERVER_NAME",
	    "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE", NULL };
	size_t	 i;

	if (strncmp(name, "HTTP_", 5) == 0)
		return pgsse_req_param(a->req, name);
	for (i = 0; meta[i] != NULL; i++)
		if (strcmp(name, meta[i]) == 0)
			return pgsse_req_param(a->req, name);
	return NULL;
}

/*
 * Returns the request's CSRF token, which a page sends back in
 * PGSSE_CSRF_HEADER with every POST, or NULL if the program has no
 * secret (and so no POST route). a owns it.
 */
const char *
pgsse_app_csrf_token(const pgsse_app *a)
{
	return a->csrf[0] != '\0' ? a->csrf : NULL;
}

/*
 * The app folder being served, if any: each request takes a reference
 * under the lock (app_def_take), so that a reload that swaps in a new
 * snapshot (app_def_swap) frees the old one only when the last request
 * that started with it has ended.
 */
static struct pgsse_appdef	*app_def;
static pthread_mutex_t		 app_def_lock = PTHREAD_MUTEX_INITIALIZER;

/* Returns a reference to the folder being served, or NULL. */
static struct pgsse_appdef *
app_def_take(void)
{
	struct pgsse_appdef	*def;

	pthread_mutex_lock(&app_def_lock);
	def = pgsse_appdef_hold(app_def);
	pthread_mutex_unlock(&app_def_lock);
	return def;
}

/* Serves def (whose reference it takes) from now on. */
static void
app_def_swap(struct pgsse_appdef *def)
{
	struct pgsse_appdef	*old;

	pthread_mutex_lock(&app_def_lock);
	old = app_def;
	app_def = def;
	pthread_mutex_unlock(&app_def_lock);
	pgsse_appdef_release(old);
}

/*
 * Takes the folder for a's request. Statements prepared for another
 * generation of it are deallocated, so that changed SQL is prepared
 * anew and the cache holds only what the folder and C routes use.
 */
static void
app_def_begin(struct pgsse_appdef *def, struct pgsse_app *a)
{
	size_t		 n = 0;
	PGresult	*res;

	a->def = def;
	if (a->def != NULL)
		pgsse_appdef_routes(a->def, &n, NULL);
	a->stmtsmax = PGSSE_APP_STMTS_MAX + n;
	if (a->def == NULL || pgsse_appdef_gen(a->def) == a->c.defgen)
		return;
	a->c.defgen = pgsse_appdef_gen(a->def);
	if (a->c.nstmts == 0 || a->c.db == NULL)
		return;
	res = PQexec(a->c.db, "DEALLOCATE ALL");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		app_drop(a);
	PQclear(res);
	app_forget(a);
}

/*
 * Returns the first of routes that matches a's path and method m, or
 * NULL; sets *method_seen if one matches the path alone.
 */
static const struct pgsse_route *
app_match(struct pgsse_app *a, const struct pgsse_route *routes,
    const char *m, int *method_seen)
{
	const struct pgsse_route	*rt;

	for (rt = routes; rt != NULL && rt->pattern != NULL; rt++) {
		if (!pgsse_route_match(rt->pattern, a->path, a->args,
		    PGSSE_APP_ARGS_MAX, a->argbuf, sizeof(a->argbuf)))
			continue;
		*method_seen = 1;
		if (m != NULL && strcmp(m, methods[rt->method]) == 0)
			return rt;
	}
	return NULL;
}

/*
 * Answers the metrics page (appstats.c) if a's path is its own, before
 * any route. Returns 1 if it did, else 0.
 */
static int
app_metrics(struct pgsse_app *a, const char *m)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	const char		*path = pgsse_appstats_path();

	if (path == NULL || strcmp(a->path, path) != 0)
		return 0;
	a->label = path;
	if (m == NULL || strcmp(m, "GET") != 0)
		app_respond(a, pgsse_app_error(a, PGSSE_HTTP_405,
		    "method not allowed"));
	else if (pgsse_appstats_page(&b) != PGSSE_OK)
		app_respond(a, pgsse_app_error(a, PGSSE_HTTP_500,
		    "out of memory"));
	else {
		a->status = PGSSE_HTTP_200;
		if (pgsse_req_write(a->req, b.p, b.len) == PGSSE_OK)
			pgsse_req_flush(a->req);
	}
	pgsse_buf_free(&b);
	return 1;
}

/*
 * Takes a's request as far as its route: the first matching one of
 * routes (may be NULL), then of the app folder; the metrics page comes
 * first. Answers at once a request that has none, or that is refused
 * before its route runs (host, path, query string, CSRF, form).
 * Returns the route to run, with *decl set to its index among the
 * folder's routes, or -1 for one of routes; NULL if answered.
 */
static const struct pgsse_route *
app_route(struct pgsse_app *a, const struct pgsse_route *routes, long *decl)
{
	const struct pgsse_route	*rt, *declared = NULL;
	struct pgsse_csrf_req		 r;
	const char			*m, *uri, *why, *qs;
	enum pgsse_http_status		 st;
	size_t				 len;
	int				 method_seen = 0;

	*decl = -1;
	m = pgsse_req_param(a->req, "REQUEST_METHOD");
	app_use(a, m != NULL && strcmp(m, "GET") == 0);
	app_def_begin(app_def_take(), a);

	uri = pgsse_req_param(a->req, "REQUEST_URI");
	a->user = pgsse_req_param(a->req, "REMOTE_USER");
	if (a->user != NULL && *a->user == '\0')
		a->user = NULL;
	app_csrf_req(a, &r);
	if (!pgsse_csrf_host_ok(&r)) {
		app_respond(a, pgsse_app_error(a, PGSSE_HTTP_403, "host not "
		    "allowed (PGSSE_ALLOWED_HOSTS)"));
		return NULL;
	}
	app_token(a);
	len = uri ? strcspn(uri, "?") : 0;
	if (uri == NULL || len >= sizeof(a->path)) {
		app_respond(a, pgsse_app_error(a, PGSSE_HTTP_404, "no such path"));
		return NULL;
	}
	memcpy(a->path, uri, len);
	a->path[len] = '\0';
	if (app_metrics(a, m))
		return NULL;
	qs = pgsse_req_param(a->req, "QUERY_STRING");
	if (qs != NULL && strlen(qs) > PGSSE_QUERY_MAX) {
		app_respond(a, pgsse_app_error(a, PGSSE_HTTP_414,
		    "query string too long (PGSSE_QUERY_MAX)"));
		return NULL;
	}
	if (pgsse_query_parse(qs, &a->query) != PGSSE_OK) {
		app_respond(a, pgsse_app_error(a, PGSSE_HTTP_400,
		    "malformed query string"));
		return NULL;
	}
	if ((rt = app_match(a, routes, m, &method_seen)) == NULL &&
	    a->def != NULL && (rt = app_match(a, declared =
	    pgsse_appdef_routes(a->def, NULL, NULL), m, &method_seen)) ==
	    NULL)
		declared = NULL;
	if (rt == NULL) {
		app_respond(a, method_seen ? pgsse_app_error(a, PGSSE_HTTP_405,
		    "method not allowed") : pgsse_app_error(a, PGSSE_HTTP_404,
		    "no such path"));
		return NULL;
	}
	a->method = rt->method;
	a->route = rt;
	if (rt->method == PGSSE_METHOD_POST) {
		if ((why = app_csrf_check(a)) != NULL) {
			app_respond(a, pgsse_app_error(a, PGSSE_HTTP_403, why));
			return NULL;
		}
		if ((st = app_read_form(a)) != PGSSE_HTTP_200) {
			app_respond(a, pgsse_app_error(a, st, st ==
			    PGSSE_HTTP_413 ? "form too large" :
			    "malformed form"));
			return NULL;
		}
	}
	if (declared != NULL)
		*decl = rt - declared;
	return rt;
}

/* Serves a's request with its route (app_route). */
static void
app_serve(struct pgsse_app *a, const struct pgsse_route *routes)
{
	const struct pgsse_route	*rt;
	long				 decl;

	if ((rt = app_route(a, routes, &decl)) != NULL)
		app_respond(a, decl >= 0 ? pgsse_appdef_serve(a, a->def,
		    (size_t)decl) : rt->fn(a));
}

/*
 * Rolls back a transaction that a route left open on a's current
 * connection: the next request on the connection must not run in it,
 * with its settings (pgsse.user among them) and its snapshot. A
 * connection that cannot is closed.
 */
static void
app_end_tx_one(struct pgsse_app *a)
{
	if (a->c.db == NULL || PQtransactionStatus(a->c.db) == PQTRANS_IDLE ||
	    PQtransactionStatus(a->c.db) == PQTRANS_UNKNOWN)
		return;
	pgsse_log(PGSSE_LOG_WARN, "%s left a transaction open: rolled back",
	    a->path);
	app_rollback(a);
}

/* app_end_tx_one on both of a's connections (main and read). */
static void
app_end_tx(struct pgsse_app *a)
{
	struct app_conn	 t;
	int		 i;

	for (i = 0; i < 2; i++) {
		app_end_tx_one(a);
		t = a->c;
		a->c = a->spare;
		a->spare = t;
	}
}

/* Forgets the request a served, keeping its buffers and connection. */
static void
app_reset(struct pgsse_app *a)
{
	int	 i;

	app_end_tx(a);

	pgsse_query_free(&a->query);
	pgsse_query_free(&a->form);
	pgsse_buf_reset(&a->body);
	pgsse_buf_reset(&a->headers);
	memset(a->args, 0, sizeof(a->args));
	for (i = 0; i < PGSSE_HX__MAX; i++)
		pgsse_buf_reset(&a->hx[i]);
	a->route = NULL;
	a->label = NULL;
	a->status = PGSSE_HTTP_200;
	pgsse_appdef_release(a->def);
	a->def = NULL;
	a->plain = 0;
	a->lost_tx = 0;
	a->csrf[0] = '\0';
	a->user = NULL;
	a->sqlstate[0] = a->retry[0] = '\0';
}

/*
 * Sets a's main connection settings (NULL: the PG* variables) and its
 * read connection's (NULL: none, GET uses the main one too).
 */
static void
app_conns(struct pgsse_app *a, const char *conninfo, const char *rconninfo)
{
	a->c.conninfo = conninfo;
	a->spare.conninfo = rconninfo;
	a->spare.read = rconninfo != NULL;
}

/* Frees what a holds. */
static void
app_free(struct pgsse_app *a)
{
	int	 i;

	app_reset(a);
	pgsse_buf_free(&a->body);
	pgsse_buf_free(&a->headers);
	pgsse_buf_free(&a->head);
	for (i = 0; i < PGSSE_HX__MAX; i++)
		pgsse_buf_free(&a->hx[i]);
	for (i = 0; i < 2; i++) {	/* both connections */
		app_drop(a);
		free(a->c.stmts);
		a->c.stmts = NULL;
		a->c.stmtsalloc = 0;
		app_use(a, !a->c.read);
	}
}

struct app_worker {
	pthread_t		 thread;
	atomic_int		 done;
	int			 sock;
	int			 ep;		/* app_ep's, shared */
	int			 tcp;		/* sock is TCP's */
	const struct pgsse_route *routes;
	const char		*conninfo;
	const char		*rconninfo;	/* for GET, or NULL */
	int			 busy;		/* app_turn.lock: a batch */
	struct timespec		 t0;		/* app_turn.lock: taken then */
};

/* A request as read from its connection (app_read), and its response. */
struct app_in {
	struct pgsse_fcgi_req	 q;		/* the request, as read */
	struct pgsse_buf	 out;		/* its response, not yet sent */
	int			 keep;		/* fd may serve another request */
	struct timespec		 t0;		/* its reading began */
	size_t			 len;		/* bytes of it read */
};

/*
 * One request of a worker's batch: what it was read from, and, for a
 * declared GET route, its statement waiting for the batch's pipeline.
 */
struct app_slot {
	struct pgsse_app	 a;
	struct pgsse_req	 req;
	struct app_in		 rd;
	int			 fd;
	int			 inset;		/* fd is in the set (kept) */
	struct timespec		 t0;
	int			 queued;	/* call waits for the pipeline */
	size_t			 route;		/* call's, of the folder */
	struct pgsse_appdef_call call;
	int			 later;		/* rt runs after the pipeline */
	const struct pgsse_route *rt;
	long			 decl;		/* rt's index if declared, or -1 */
	int			 read;		/* rt queries on the read conn */
};

/* Set by SIGTERM or SIGINT: the workers are to stop. */
static volatile sig_atomic_t app_stop;

/*
 * Connections. The workers share one epoll set holding the listening
 * socket and every connection that the web server keeps open between
 * requests (FCGI_KEEP_CONN: nginx's fastcgi_keep_conn, Apache's
 * enablereuse). A worker waits on the set, takes one connection (a new
 * one, or a kept one with a request waiting, armed one-shot so that only
 * it wakes), serves that one request, and puts the connection back in
 * the set if kept. So an idle kept connection holds no thread: a
 * server may keep more connections than there are workers. Every
 * connection, kept or not, is a descriptor the web server makes us
 * hold; past PGSSE_APP_KEPT_MAX kept ones, a connection is closed after
 * its request (the server opens another). The listening socket is
 * non-blocking: when two workers wake for one connection, one gets it
 * and the other waits again.
 */
static atomic_int app_kept;

/*
 * Turns. Requests that come while a batch is at the database go there
 * together in the next batch, in one pipeline, when one worker at a
 * time takes connections, and only while no batch younger than wait
 * (PGSSE_APP_BATCH_WAIT_MS) is at work. A worker whose batch is done
 * takes the next turn at once if it may, so that a busy program hands
 * no turn between threads. Past the wait, a slow batch holds no one:
 * the next worker takes one request, not all that are ready, and that
 * one holds no one either. So while something slow runs, requests are
 * taken one by one by every worker free, as with no turns, and none
 * shares a batch (a fast one would wait for a slow one taken with it).
 * With a wait of 0 there are no turns: every idle worker waits on the
 * set and takes what is ready when it wakes, so batches are small. Each
 * worker's batch (busy, and when it was taken) is in its struct
 * app_worker, under lock.
 */
static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* on CLOCK_MONOTONIC */
	int		 taker;		/* a worker is taking */
	int		 timed;		/* workers waiting till a batch is late */
	struct app_worker *w;		/* the workers */
	long		 nw;
	struct timespec	 wait;		/* zero: no turns */
} app_turn = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0,
    NULL, 0, { 0, 0 } };

static int	 app_turn_max(int);

/* Tag of the listening socket in the set (a connection's is its fd). */
#define APP_EP_LISTEN (-1)

/*
 * Accepts a connection on w's listening socket (pgsse_listen_accept),
 * with a receive and a send timeout of PGSSE_APP_READ_TIMEOUT_SEC: a
 * peer silent that long in a request, or not reading a response that
 * long, is dropped, so none holds a worker for ever. Returns the
 * descriptor, or -1 if there was none to take.
 */
static int
app_accept(struct app_worker *w)
{
	return pgsse_listen_accept(w->sock, w->tcp, PGSSE_APP_READ_TIMEOUT_SEC,
	    PGSSE_APP_READ_TIMEOUT_SEC);
}

/*
 * Takes the connections w's worker is to read a request from: those
 * the set says are ready, up to max (at most APP_BATCH_MAX; more once
 * no batch is at work, app_turn_max). Kept ones come first: their
 * events are one-shot, so one left would never come again; then new
 * ones are accepted while there is room and one is waiting. Fills s
 * with each descriptor and whether it was kept (in the set). Returns
 * how many (at least 1), or -1 once the program stops (or the set
 * fails) with none taken.
 */
static int
app_next_conns(struct app_worker *w, struct app_slot *s, int max)
{
	struct epoll_event	 ev[APP_BATCH_MAX];
	int			 i, k, n = 0, fd, listen;

	while (n == 0 && !app_stop) {
		if ((k = epoll_wait(w->ep, ev, max, -1)) == -1) {
			if (errno == EINTR)
				continue;
			pgsse_log(PGSSE_LOG_ERROR, "epoll_wait: %s",
			    strerror(errno));
			return -1;
		}
		max = app_turn_max(max);
		for (i = listen = 0; i < k; i++) {
			if (ev[i].data.fd == APP_EP_LISTEN) {
				listen = 1;
				continue;
			}
			atomic_fetch_sub(&app_kept, 1);
			s[n].fd = ev[i].data.fd;
			s[n++].inset = 1;
		}
		while (listen && n < max && (fd = app_accept(w)) != -1) {
			s[n].fd = fd;
			s[n++].inset = 0;
		}
	}
	return n > 0 ? n : -1;
}

/*
 * Puts fd back in w's set after its request if the web server keeps
 * it (keep) and fewer than PGSSE_APP_KEPT_MAX are kept, else closes it.
 * inset says whether fd is in the set already (then disarmed).
 */
static void
app_keep_conn(struct app_worker *w, int fd, int keep, int inset)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.fd = fd;
	if (keep && atomic_fetch_add(&app_kept, 1) < PGSSE_APP_KEPT_MAX &&
	    epoll_ctl(w->ep, inset ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd,
	    &ev) == 0)
		return;
	if (keep)
		atomic_fetch_sub(&app_kept, 1);
	close(fd);	/* leaves the set with it */
}

/* What reading a request found (app_read). */
enum app_rd {
	APP_RD_WHOLE,		/* a request to serve */
	APP_RD_PART,		/* not whole yet */
	APP_RD_GONE		/* none: the connection is closed */
};

/*
 * Says why the request on s's connection cannot be served
 * (pgsse_req_read_failed), and closes the connection.
 */
static void
app_read_failed(struct app_slot *s, enum pgsse_fcgi_req_st st)
{
	struct pgsse_req	 req;

	memset(&req, 0, sizeof(req));
	req.own = &s->rd.q;
	req.out = &s->rd.out;
	req.fd = s->fd;
	pgsse_req_read_failed(&req, st);
	pgsse_buf_reset(&s->rd.out);
	close(s->fd);	/* leaves the set with it */
	s->fd = -1;
}

/*
 * Returns 1 if a read that began at t0 has taken
 * PGSSE_APP_READ_TIMEOUT_SEC or more, else 0.
 */
static int
app_read_late(const struct timespec *t0)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec - t0->tv_sec >= PGSSE_APP_READ_TIMEOUT_SEC;
}

/*
 * Returns 1 if q's parameters declare a body (CONTENT_LENGTH) longer
 * than a form may be (PGSSE_QUERY_MAX), which no route reads, else 0.
 */
static int
app_body_big(const struct pgsse_fcgi_req *q)
{
	const char	*len = pgsse_fcgi_req_param(q, "CONTENT_LENGTH");
	long		 n = len != NULL ? strtol(len, NULL, 10) : 0;

	return n < 0 || n > PGSSE_QUERY_MAX;
}

/*
 * Reads s's request from its connection with pgsse's own reader
 * (pgsse_fcgi_req_feed; fcgi.c), keeping its standard input up to
 * PGSSE_QUERY_MAX bytes: with wait 0 only what is there now, else till
 * it is whole, each read waiting PGSSE_APP_READ_TIMEOUT_SEC at most
 * (app_accept). All the reads of one request together take that long,
 * and APP_READ_TOTAL_MAX bytes, at most, so that a peer that keeps
 * sending cannot hold the worker either. A request whose parameters are
 * in is served without the rest of its standard input if that is
 * declared longer than a form may be (app_body_big), runs past
 * PGSSE_APP_DISCARD_MAX bytes, or does not come within those bounds;
 * its connection is then not kept (app_end_request). Without its
 * parameters, the connection is closed. So is one followed by bytes of
 * another (no server sends them before its answer). Returns APP_RD_WHOLE, APP_RD_PART (wait 0: not whole
 * yet), or APP_RD_GONE once the connection is closed (app_read_failed).
 */
static enum app_rd
app_read(struct app_slot *s, int wait)
{
	unsigned char		 b[APP_READ_MAX];
	enum pgsse_fcgi_req_st	 st = PGSSE_FCGI_REQ_MORE;
	ssize_t			 n = 1;
	size_t			 used;

	while (st == PGSSE_FCGI_REQ_MORE) {
		if (s->rd.q.params_done && s->rd.q.intotal > PGSSE_APP_DISCARD_MAX)
			break;
		n = recv(s->fd, b, sizeof(b), wait ? 0 : MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && !wait && (errno == EAGAIN ||
		    errno == EWOULDBLOCK))
			return APP_RD_PART;
		if (n <= 0)
			break;	/* closed, broken, or silent too long */
		st = pgsse_fcgi_req_feed(&s->rd.q, b, (size_t)n, &used);
		if (pgsse_req_answer_mgmt(s->fd, &s->rd.q) == -1)
			st = PGSSE_FCGI_REQ_BAD;	/* an answer cut */
		s->rd.len += (size_t)n;
		if (used < (size_t)n)
			s->rd.keep = 0;
		if (st == PGSSE_FCGI_REQ_MORE && s->rd.q.params_done &&
		    app_body_big(&s->rd.q))
			break;
		if (st == PGSSE_FCGI_REQ_MORE && (s->rd.len > APP_READ_TOTAL_MAX ||
		    app_read_late(&s->rd.t0))) {
			n = -1;
			break;
		}
	}
	if (st == PGSSE_FCGI_REQ_OK) {
		s->rd.keep = s->rd.keep && s->rd.q.keep;
		return APP_RD_WHOLE;
	}
	if (st == PGSSE_FCGI_REQ_MORE && s->rd.q.params_done && n != 0) {
		s->rd.keep = 0;	/* standard input cut short */
		return APP_RD_WHOLE;
	}
	if (st == PGSSE_FCGI_REQ_MORE && n == -1 && s->rd.q.reqid != 0)
		st = PGSSE_FCGI_REQ_BAD;	/* too much, or too slowly */
	app_read_failed(s, st);
	return APP_RD_GONE;
}

/*
 * Reads and drops what is left of s's standard input once it is
 * answered: PGSSE_APP_DISCARD_MAX bytes of it in all at most (counted
 * here too, records and all, as a request that starts over counts its
 * STDIN from 0), for PGSSE_APP_READ_TIMEOUT_SEC at most, so that a body
 * that trickles in cannot hold the worker longer.
 */
static void
app_drain(struct app_slot *s)
{
	unsigned char	 b[APP_READ_MAX];
	struct timespec	 t0;
	ssize_t		 n;
	size_t		 used, got = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!s->rd.q.in_done && s->rd.q.intotal <= PGSSE_APP_DISCARD_MAX &&
	    got <= PGSSE_APP_DISCARD_MAX && !app_read_late(&t0)) {
		if ((n = recv(s->fd, b, sizeof(b), 0)) == -1 && errno == EINTR)
			continue;
		if (n > 0)
			got += (size_t)n;
		if (n <= 0 || pgsse_fcgi_req_feed(&s->rd.q, b, (size_t)n,
		    &used) != PGSSE_FCGI_REQ_MORE)
			break;
	}
}

/*
 * Ends s's request: what is left of its response goes out with the end
 * records in one writev, and its connection goes back to the set or is
 * closed (app_keep_conn). A request is read to the end of its standard
 * input before it is served (app_read), or else what is left of that
 * is read after the answer (app_drain), so that a close cannot reset
 * the connection before the server has the answer; a body too long or
 * too slow for that is cut short by the close.
 */
static void
app_end_request(struct app_worker *w, struct app_slot *s)
{
	int	 keep = s->rd.keep;

	if (pgsse_req_end(&s->req) != PGSSE_OK) {
		if (s->inset || keep)
			pgsse_log(PGSSE_LOG_DEBUG, "a kept FastCGI "
			    "connection broke");
		keep = 0;
	} else if (!s->rd.q.in_done)
		app_drain(s);
	if (s->rd.out.cap > APP_OUT_KEEP_MAX)
		pgsse_buf_free(&s->rd.out);
	if (s->a.head.cap > APP_OUT_KEEP_MAX)
		pgsse_buf_free(&s->a.head);
	pgsse_buf_reset(&s->rd.out);
	app_keep_conn(w, s->fd, keep, s->inset);
}

/* Swaps the database connections of x and y (one of them has none). */
static void
app_swap_conns(struct pgsse_app *x, struct pgsse_app *y)
{
	struct app_conn	 t;

	t = x->c;
	x->c = y->c;
	y->c = t;
	t = x->spare;
	x->spare = y->spare;
	y->spare = t;
}

/*
 * Takes s's request as far as its route, with the connections of own
 * lent to it (none if its fd is -1: it had none). A declared GET
 * route's statement is queued in s (bound, to run in app_run_queued);
 * any other route is to run after the pipeline (app_run_later), so
 * that a slow one holds no declared GET taken with it.
 */
static void
app_begin(struct app_worker *w, struct pgsse_app *own, struct app_slot *s)
{
	struct pgsse_app		*a = &s->a;
	const struct pgsse_route	*rt;
	enum pgsse_http_status		 st;
	long				 decl;

	s->queued = s->later = 0;
	if (s->fd == -1)
		return;
	memset(&s->req, 0, sizeof(s->req));
	s->req.own = &s->rd.q;
	s->req.out = &s->rd.out;
	s->req.fd = s->fd;
	a->req = &s->req;
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	app_swap_conns(own, a);
	if ((rt = app_route(a, w->routes, &decl)) == NULL)
		goto out;
	if (decl < 0 || rt->method != PGSSE_METHOD_GET) {
		s->rt = rt;
		s->decl = decl;
		s->read = a->c.read;
		s->later = 1;
	} else if ((st = pgsse_appdef_bind(a, a->def, (size_t)decl,
	    &s->call)) != PGSSE_HTTP_200)
		app_respond(a, st);
	else {
		s->route = (size_t)decl;
		s->queued = 1;
		own->stmtsmax = a->stmtsmax;
	}
out:
	app_swap_conns(own, a);
}

/*
 * Runs the route of s's request that app_begin left for later, with the
 * connections of own lent, on the connection it chose; a transaction
 * the route left open is rolled back before the next request uses the
 * connections.
 */
static void
app_run_later(struct pgsse_app *own, struct app_slot *s)
{
	struct pgsse_app	*a = &s->a;

	app_swap_conns(own, a);
	app_use(a, s->read);
	app_respond(a, s->decl >= 0 ? pgsse_appdef_serve(a, a->def,
	    (size_t)s->decl) : s->rt->fn(a));
	app_end_tx(a);
	app_swap_conns(own, a);
}

/*
 * Answers s's queued request from res (NULL: it failed in the
 * pipeline), or, if res is NULL, by running its statement alone with
 * the connections of own lent (pgsse_app_queryv: it reconnects, and
 * says why a statement failed).
 */
static void
app_answer(struct pgsse_app *own, struct app_slot *s, PGresult *res)
{
	struct pgsse_app	*a = &s->a;

	app_swap_conns(own, a);
	if (res == NULL)
		res = pgsse_app_queryv(a, s->call.sql, s->call.n, s->call.vals);
	app_respond(a, pgsse_appdef_answer(a, a->def, s->route, &s->call,
	    res));
	app_swap_conns(own, a);
}

/*
 * Reads the result of the sync ending a pipeline on a's connection.
 * Returns 1 if it is the sync's; else (the commit of the pipeline's
 * implicit transaction failed, say a deferred constraint, or the
 * connection did) 0, and the connection is closed, since what follows
 * on it is unknown.
 */
static int
app_synced(struct pgsse_app *a)
{
	PGresult	*res = PQgetResult(a->c.db);
	int		 ok = PQresultStatus(res) == PGRES_PIPELINE_SYNC;

	PQclear(res);
	if (!ok)
		app_drop(a);
	return ok;
}

/*
 * Queues the statements of the requests of s (of n) marked in todo on
 * own's connection, in pipeline mode, each request with tx set in a
 * transaction of its own (begin, app_queue's statements, commit), and
 * sets nq[i] to the number of app_queue's. Returns 1 if all were
 * queued.
 */
static int
app_pipeline_queue(struct pgsse_app *own, struct app_slot *s, int n,
    char name[][APP_STMT_NAME_MAX], const int *todo, int *nq, int tx)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (todo[i] && ((tx && !app_queue_tx(own, "begin")) ||
		    (nq[i] = app_queue(own, s[i].a.user, name[i][0] ? name[i] :
		    NULL, s[i].call.sql, s[i].call.n, s[i].call.vals)) == 0 ||
		    (tx && !app_queue_tx(own, "commit"))))
			return 0;
	return 1;
}

/*
 * Runs the statements of the requests of s (of n) marked in todo, if
 * two or more, on own's read connection in one pipeline with one sync.
 * One sync is one write to the server; a sync each cost one write, and
 * one wake-up of the server, a request.
 *
 * With tx set, each request runs in a transaction of its own (begin,
 * app_queue's statements, commit): that is needed when one has a user,
 * whose setting must end with its request. A statement that fails
 * aborts its own transaction, and the server skips the rest of the
 * pipeline: those requests stay marked, for the next pipeline.
 *
 * Without tx (no request has a user), the statements run in the
 * pipeline's one implicit transaction: two statements fewer a request
 * for the server. A failure then rolls back every request of the
 * pipeline, so none is answered from it: all stay marked, to run again
 * with tx (or, if the connection broke, alone).
 *
 * Sets res[i] of each that ran to its result, or NULL if it failed (it
 * is to run alone, app_answer, to be answered as a lone request would),
 * and unmarks it. Returns how many stay marked; with 0, none is.
 */
static int
app_pipeline(struct pgsse_app *own, struct app_slot *s, int n,
    char name[][APP_STMT_NAME_MAX], int *todo, PGresult **res, int tx)
{
	int	 nq[APP_BATCH_MAX], ran[APP_BATCH_MAX];
	int	 i, q = 0, broken = 0, again = 0, failed = 0;

	memset(nq, 0, sizeof(nq));
	for (i = 0; i < n; i++) {
		ran[i] = todo[i];
		q += todo[i];
	}
	if (q < 2 || !PQenterPipelineMode(own->c.db))
		goto out;
	if (!app_pipeline_queue(own, s, n, name, todo, nq, tx) ||
	    !PQpipelineSync(own->c.db)) {
		app_drop(own);	/* part of a request queued: not to be read */
		goto out;
	}
	for (i = 0; i < n && !broken; i++) {
		if (!todo[i] || (res[i] = app_collect(own, nq[i] + 2 * tx,
		    nq[i] - !tx, &broken)) == NULL)
			continue;
		if (PQresultStatus(res[i]) == PGRES_PIPELINE_ABORTED)
			again++;	/* skipped: stays marked */
		else
			todo[i] = 0;
		if (PQresultStatus(res[i]) != PGRES_TUPLES_OK &&
		    PQresultStatus(res[i]) != PGRES_COMMAND_OK) {
			PQclear(res[i]);
			res[i] = NULL;
			failed = 1;
		}
	}
	if (!broken && !app_synced(own))
		broken = 1;	/* the sync's commit failed, or the connection */
	if (!tx && (failed || broken))	/* rolled back, unless committed
					 * before a COPY broke it: run again */
		for (again = q, i = 0; i < n; i++)
			if (ran[i]) {
				PQclear(res[i]);
				res[i] = NULL;
				todo[i] = 1;
			}
	if (broken) {	/* each runs alone */
		pgsse_appstats_pipeline(0);	/* a round trip all the same */
		again = 0;
		goto out;
	}
	pgsse_appstats_pipeline((size_t)(q - again));
	if (!PQexitPipelineMode(own->c.db)) {
		app_drop(own);
		again = 0;
	} else if (PQtransactionStatus(own->c.db) != PQTRANS_IDLE)
		app_rollback(own);	/* the failed one's block */
	if (own->c.db == NULL)
		again = 0;
out:
	for (i = 0; i < n && again == 0; i++)
		todo[i] = 0;
	return again;
}

/*
 * Runs the queued statements of the n requests in s on own's read
 * connection in pipelines (app_pipeline: one, without a transaction
 * each unless one has a user, and one more for those a failure made the
 * server skip or roll back, and so on), and answers them; one that
 * fails runs again alone.
 */
static void
app_run_queued(struct pgsse_app *own, struct app_slot *s, int n)
{
	PGresult	*res[APP_BATCH_MAX];
	char		 name[APP_BATCH_MAX][APP_STMT_NAME_MAX];
	int		 todo[APP_BATCH_MAX];
	int		 i, q = 0, named, tx = 0;

	memset(res, 0, sizeof(res));
	memset(todo, 0, sizeof(todo));
	for (i = 0; i < n; i++)
		q += s[i].queued;
	app_use(own, 1);
	if (q < 2 || own->c.db == NULL || PQstatus(own->c.db) !=
	    CONNECTION_OK || PQtransactionStatus(own->c.db) != PQTRANS_IDLE)
		goto out;
	for (i = 0; i < n; i++) {
		if (!s[i].queued)
			continue;
		if ((named = app_stmt(own, s[i].call.sql, s[i].call.n, name[i],
		    sizeof(name[i]), &res[i])) == -1) {
			PQclear(res[i]);
			res[i] = NULL;
			goto out;	/* each alone says why */
		}
		if (!named)
			name[i][0] = '\0';
		todo[i] = 1;
		tx |= s[i].a.user != NULL;
	}
	while (app_pipeline(own, s, n, name, todo, res, tx) > 0)
		tx = 1;	/* each round, one fails or all run */
out:
	for (i = 0; i < n; i++)
		if (s[i].queued)
			app_answer(own, &s[i], res[i]);
}

/*
 * Ends s's request (none if its fd is -1): counts it, sends its response, and forgets it,
 * with the connections of own lent (a transaction its route left open
 * is rolled back).
 */
static void
app_finish(struct app_worker *w, struct pgsse_app *own, struct app_slot *s)
{
	struct pgsse_app	*a = &s->a;
	struct timespec		 t1;

	if (s->fd == -1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pgsse_appstats_count(pgsse_req_param(&s->req, "REQUEST_METHOD"),
	    a->route != NULL ? a->route->pattern : a->label, a->status,
	    (double)(t1.tv_sec - s->t0.tv_sec) +
	    (t1.tv_nsec - s->t0.tv_nsec) / 1e9);
	app_end_request(w, s);
	app_swap_conns(own, a);
	app_reset(a);
	app_swap_conns(own, a);
}

/* Swaps the connections of x and y, and what was read of them. */
static void
app_slot_swap(struct app_slot *x, struct app_slot *y)
{
	struct app_in	 rd;
	int		 fd = x->fd, inset = x->inset;

	x->fd = y->fd;
	x->inset = y->inset;
	y->fd = fd;
	y->inset = inset;
	memcpy(&rd, &x->rd, sizeof(rd));
	memcpy(&x->rd, &y->rd, sizeof(rd));
	memcpy(&y->rd, &rd, sizeof(rd));
}

/*
 * Reads what is there of the requests on the n connections in s
 * (app_read, without waiting), and puts first those with a whole
 * request, and those closed (fd -1). Returns how many there are; the
 * rest, not whole yet, come after.
 */
static int
app_ready(struct app_slot *s, int n)
{
	int	 i, k = 0;

	for (i = 0; i < n; i++) {
		pgsse_fcgi_req_reset(&s[i].rd.q);
		s[i].rd.q.inmax = PGSSE_QUERY_MAX;
		s[i].rd.keep = 1;
		s[i].rd.len = 0;
		clock_gettime(CLOCK_MONOTONIC, &s[i].rd.t0);
		if (app_read(&s[i], 0) == APP_RD_PART)
			continue;
		if (i != k)
			app_slot_swap(&s[k], &s[i]);
		k++;
	}
	return k;
}

/*
 * Serves the n requests on the connections in s, read already, or with
 * wait set, read now (app_read; one that cannot be is closed): takes
 * each as far as its route (one that needs no database is answered
 * then), runs the queued statements together and answers their
 * requests, then runs the other routes (C routes, POST) one by one,
 * each answered as it ends.
 */
static void
app_batch(struct app_worker *w, struct pgsse_app *own, struct app_slot *s,
    int n, int wait)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (wait && s[i].fd != -1 && app_read(&s[i], 1) != APP_RD_WHOLE)
			s[i].fd = -1;
	for (i = 0; i < n; i++) {
		app_begin(w, own, &s[i]);
		if (!s[i].queued && !s[i].later)  /* answered: out at once */
			app_finish(w, own, &s[i]);
	}
	app_run_queued(own, s, n);
	for (i = 0; i < n; i++)
		if (s[i].queued)
			app_finish(w, own, &s[i]);
	for (i = 0; i < n; i++)
		if (s[i].later) {
			app_run_later(own, &s[i]);
			app_finish(w, own, &s[i]);
		}
}

/*
 * Starts turns of ms milliseconds (0: none) among the n workers of w.
 * Returns 0, or -1 after logging why.
 */
static int
app_turn_init(long ms, struct app_worker *w, long n)
{
	pthread_condattr_t	 ca;
	int			 er;

	app_turn.wait.tv_sec = ms / 1000;
	app_turn.wait.tv_nsec = ms % 1000 * 1000000L;
	app_turn.w = w;
	app_turn.nw = n;
	if (ms == 0)
		return 0;
	if ((er = pthread_condattr_init(&ca)) == 0) {
		if ((er = pthread_condattr_setclock(&ca,
		    CLOCK_MONOTONIC)) == 0)
			er = pthread_cond_init(&app_turn.cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (er != 0)
		pgsse_log(PGSSE_LOG_ERROR, "turns: %s", strerror(er));
	return er != 0 ? -1 : 0;
}

/* Returns 1 if turns are on (PGSSE_APP_BATCH_WAIT_MS is not 0). */
static int
app_turn_on(void)
{
	return app_turn.wait.tv_sec != 0 || app_turn.wait.tv_nsec != 0;
}

/* Returns <0, 0 or >0 as a is before, at or after b. */
static int
app_ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	return (a->tv_nsec > b->tv_nsec) - (a->tv_nsec < b->tv_nsec);
}

/*
 * Sets *until to when the youngest batch at work is as old as the
 * wait. Returns 0 if no batch is at work, else 1. Under lock.
 */
static int
app_turn_until(struct timespec *until)
{
	long	 i;
	int	 any = 0;

	for (i = 0; i < app_turn.nw; i++)
		if (app_turn.w[i].busy && (!any || app_ts_cmp(
		    &app_turn.w[i].t0, until) > 0)) {
			*until = app_turn.w[i].t0;
			any = 1;
		}
	if (!any)
		return 0;
	until->tv_sec += app_turn.wait.tv_sec;
	if ((until->tv_nsec += app_turn.wait.tv_nsec) >= 1000000000L) {
		until->tv_sec++;
		until->tv_nsec -= 1000000000L;
	}
	return 1;
}

/*
 * Waits for the turn to take connections (at once if turns are off).
 * Returns how many to take: APP_BATCH_MAX if no batch is at work (or
 * turns are off), 1 if only batches older than the wait are.
 */
static int
app_turn_take(void)
{
	struct timespec	 now, until;
	int		 max = APP_BATCH_MAX;

	if (!app_turn_on())
		return max;
	pthread_mutex_lock(&app_turn.lock);
	while (!app_stop) {
		if (app_turn.taker) {
			pthread_cond_wait(&app_turn.cond, &app_turn.lock);
			continue;
		}
		if (!app_turn_until(&until))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (app_ts_cmp(&now, &until) >= 0) {
			max = 1;
			break;
		}
		app_turn.timed++;
		pthread_cond_timedwait(&app_turn.cond, &app_turn.lock, &until);
		app_turn.timed--;
	}
	app_turn.taker = 1;
	pthread_mutex_unlock(&app_turn.lock);
	return max;
}

/*
 * Returns how many connections the taker is to take, now that the set
 * woke it: APP_BATCH_MAX once no batch is at work (they ended while it
 * waited on the set: none can start meanwhile), else max.
 */
static int
app_turn_max(int max)
{
	struct timespec	 until;

	if (max == APP_BATCH_MAX || !app_turn_on())
		return max;
	pthread_mutex_lock(&app_turn.lock);
	if (!app_turn_until(&until))
		max = APP_BATCH_MAX;
	pthread_mutex_unlock(&app_turn.lock);
	return max;
}

/*
 * Ends w's turn to take; took says w's batch of n is now at work. One
 * request taken alone past the wait (n is 1 while others are at work)
 * holds no one: the next worker may take the next one at once.
 */
static void
app_turn_took(struct app_worker *w, int took, int n)
{
	struct timespec	 until;

	if (!app_turn_on())
		return;
	pthread_mutex_lock(&app_turn.lock);
	app_turn.taker = 0;
	if (took && (n > 1 || !app_turn_until(&until))) {
		w->busy = 1;
		clock_gettime(CLOCK_MONOTONIC, &w->t0);
	}
	if (app_turn.timed == 0)	/* else one wakes in time anyway */
		pthread_cond_signal(&app_turn.cond);
	pthread_mutex_unlock(&app_turn.lock);
}

/* Says w's batch is done. */
static void
app_turn_done(struct app_worker *w)
{
	if (!app_turn_on())
		return;
	pthread_mutex_lock(&app_turn.lock);
	w->busy = 0;
	pthread_mutex_unlock(&app_turn.lock);
}

/* Wakes every worker waiting for a turn: the program stops. */
static void
app_turn_wake(void)
{
	pthread_mutex_lock(&app_turn.lock);
	pthread_cond_broadcast(&app_turn.cond);
	pthread_mutex_unlock(&app_turn.lock);
}

/*
 * A worker thread: serves requests with its own database connections
 * (held in own, and lent to each request). At each wake it takes every
 * connection ready (app_next_conns) and serves those with a request
 * waiting together (app_batch): their declared GET routes' statements
 * run in one pipeline, one round trip to the database for all of them
 * (app_run_queued). A connection whose request has not come whole yet
 * is served alone afterwards, its reads bounded by
 * PGSSE_APP_READ_TIMEOUT_SEC (app_accept), so that it cannot hold the
 * others. It takes connections in its turn (app_turn_take).
 */
static void *
app_worker(void *arg)
{
	struct app_worker	*w = arg;
	struct app_slot		*s;
	struct pgsse_app	 own;
	int			 i, n, k;

	memset(&own, 0, sizeof(own));
	app_conns(&own, w->conninfo, w->rconninfo);
	if ((s = calloc(APP_BATCH_MAX, sizeof(*s))) == NULL) {
		pgsse_log(PGSSE_LOG_ERROR, "a worker: out of memory");
		goto out;
	}
	for (;;) {
		n = app_next_conns(w, s, app_turn_take());
		app_turn_took(w, n != -1, n);
		if (n == -1)
			break;
		k = app_ready(s, n);
		app_batch(w, &own, s, k, 0);
		for (i = k; i < n; i++)
			app_batch(w, &own, &s[i], 1, 1);
		app_turn_done(w);
	}
	for (i = 0; i < APP_BATCH_MAX; i++) {
		app_free(&s[i].a);
		pgsse_fcgi_req_free(&s[i].rd.q);
		pgsse_buf_free(&s[i].rd.out);
	}
	free(s);
out:
	app_free(&own);
	atomic_store(&w->done, 1);
	return NULL;
}

/* Set by SIGHUP: the app folder is to be loaded again. */
static volatile sig_atomic_t app_hup;

/*
 * The signal handler. libfcgi's accept gives up once shutdown is
 * pending and a signal interrupts it. Installed before FCGX_Init, which
 * then keeps it. SIGHUP only asks for a reload, which the main thread
 * does: the workers block it.
 */
static void
app_on_signal(int sig)
{
	if (sig == SIGHUP) {
		app_hup = 1;
		return;
	}
	if (sig != SIGUSR1)
		app_stop = 1;
	FCGX_ShutdownPending();
}

/* Installs the handlers; SIGHUP's only for a program with a folder. */
static void
app_signals(int folder)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = app_on_signal;	/* no SA_RESTART: accept returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (folder) {
		sa.sa_flags = SA_RESTART;
		sigaction(SIGHUP, &sa, NULL);
	}
}

/* Returns how many of the n started workers in w still run; with
 * interrupt set, interrupts each of them (its accept gives up). */
static long
app_running(struct app_worker *w, long n, int interrupt)
{
	long	 i, left = 0;

	for (i = 0; i < n; i++)
		if (!atomic_load(&w[i].done)) {
			if (interrupt)
				pthread_kill(w[i].thread, SIGUSR1);
			left++;
		}
	return left;
}

/*
 * Checks def's SQL against the database (pgsse_appdef_check_sql) on a
 * connection of its own, as the program's role. Returns 1 if it passed,
 * or if the database cannot be reached (logged: the statements are then
 * checked when first prepared); 0 with err set if the database refused
 * one.
 */
static const char *app_conninfo(void);

static int
app_check_sql(const char *name, const struct pgsse_appdef *def, char *err,
    size_t errsz)
{
	PGconn	*conn;
	int	 rc;

	if ((conn = pgsse_db_connect(app_conninfo())) == NULL) {
		pgsse_log(PGSSE_LOG_WARN, "%s: the database is unavailable, so "
		    "the app's SQL is checked only as requests prepare it",
		    name);
		return 1;
	}
	if ((rc = pgsse_appdef_check_sql(def, conn, err, errsz)) == -1)
		pgsse_log(PGSSE_LOG_WARN, "%s: the app's SQL went unchecked: "
		    "%s", name, err);
	pgsse_db_close(conn);
	return rc != 0;
}

/*
 * Loads the app folder dir again for program name: serves the new
 * definition if it loads, else logs why (file:line) and keeps the one
 * it serves. Requests in flight finish with the one they started with.
 */
static void
app_reload(const char *name, const char *dir, int secret)
{
	struct pgsse_appdef	*def;
	char			 err[1024];
	size_t			 n, nactions;

	if ((def = pgsse_appdef_load(dir, err, sizeof(err))) == NULL ||
	    !app_check_sql(name, def, err, sizeof(err))) {
		pgsse_log(PGSSE_LOG_ERROR, "%s: reload of %s failed, the "
		    "previous definition stays: %s", name, dir, err);
		pgsse_appdef_release(def);
		return;
	}
	pgsse_appdef_routes(def, &n, &nactions);
	if (nactions > 0 && !secret) {
		pgsse_log(PGSSE_LOG_ERROR, "%s: reload of %s refused, the "
		    "previous definition stays: its actions (POST) need a "
		    "CSRF secret (PGSSE_SECRET_FILE)", name, dir);
		pgsse_appdef_release(def);
		return;
	}
	app_def_swap(def);
	pgsse_log(PGSSE_LOG_INFO, "%s: reloaded %s: %zu routes", name, dir, n);
}

/*
 * Runs n workers in threads of their own, which block SIGHUP. This
 * thread, which the kernel hands the signals to, reloads dir (if not
 * NULL) on SIGHUP and waits for SIGTERM, then interrupts the workers
 * until all have stopped.
 */
static void
app_run_workers(struct app_worker *w, long n, const char *name,
    const char *dir, int secret)
{
	sigset_t	 hup, old;
	long		 i, started;

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hup, &old);
	for (started = 0; started < n; started++)
		if (pthread_create(&w[started].thread, NULL, app_worker,
		    &w[started]) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started > 0)
		pgsse_sdnotify_ready("serving");
	while (!app_stop && app_running(w, started, 0) > 0) {
		if (app_hup && dir != NULL) {
			app_hup = 0;
			app_reload(name, dir, secret);
		}
		usleep(100000);
	}
	pgsse_sdnotify("STOPPING=1");
	FCGX_ShutdownPending();
	while (app_running(w, started, 1) > 0) {
		app_turn_wake();
		usleep(50000);
	}
	for (i = 0; i < started; i++)
		pthread_join(w[i].thread, NULL);
}

/* What the command line says. */
struct app_opts {
	int		 sock;
	const char	*socket;	/* --socket, or NULL for fd 0 */
	long		 threads;
	long		 wait_ms;	/* PGSSE_APP_BATCH_WAIT_MS */
	const char	*secret;	/* the CSRF secret's file */
	const char	*dir;		/* the app folder */
};

/* Prints the usage of program name on f; --app only if folder. */
static void
app_usage(FILE *f, const char *name, int folder)
{
	fprintf(f, "usage: %s [--socket PATH|:PORT|HOST:PORT] [--threads N] "
	    "[--secret-file FILE]%s\n"
	    "Serves HTMX fragments over FastCGI (or one CGI request)\n"
	    "with N worker threads (default %d, PGSSE_APP_THREADS), each with "
	    "its own database\nconnection, from PGSSE_APP_CONNINFO, "
	    "PGSSE_CONNINFO or the PG* variables.\nCSRF tokens are signed "
	    "with the secret in FILE (PGSSE_SECRET_FILE).\n%s", name,
	    folder ? " [--app DIR]" : "", PGSSE_APP_THREADS, folder ?
	    "The fragments and actions are declared in the app folder DIR\n"
	    "(PGSSE_APP_DIR), loaded again on SIGHUP.\n" : "");
}

/*
 * Parses a thread count z (from where) into *n, or says why not on
 * standard error. Returns 0, or -2 (a usage error).
 */
static int
app_threads(const char *name, const char *where, const char *z, long *n)
{
	char	*end;

	*n = strtol(z, &end, 10);
	if (*z == '\0' || *end != '\0' || *n < 1 ||
	    *n > PGSSE_APP_THREADS_MAX) {
		fprintf(stderr, "%s: %s must be 1 to %d\n", name, where,
		    PGSSE_APP_THREADS_MAX);
		return -2;
	}
	return 0;
}

/*
 * Reads PGSSE_APP_BATCH_WAIT_MS into o (PGSSE_APP_BATCH_WAIT_MS if
 * unset), after saying why on standard error if it is no number of 0
 * to PGSSE_APP_BATCH_WAIT_MS_MAX. Returns 0, or -2 (a usage error).
 */
static int
app_batch_wait(const char *name, struct app_opts *o)
{
	return pgsse_env_num(name, "PGSSE_APP_BATCH_WAIT_MS",
	    PGSSE_APP_BATCH_WAIT_MS, PGSSE_APP_BATCH_WAIT_MS_MAX,
	    &o->wait_ms) == 0 ? 0 : -2;
}

/*
 * Reads the command line into o: --app only if folder (a program with
 * an app folder that it does not name itself). Returns -1 after printing
 * usage or the version (exit 0), -2 on a usage error, after saying why
 * on standard error (exit 2), else 0.
 */
static int
app_args(const char *name, int folder, int argc, char *argv[],
    struct app_opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "secret-file", required_argument, NULL, 'f' },
		{ "app", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*z = getenv("PGSSE_APP_THREADS");
	int		 ch;

	o->threads = PGSSE_APP_THREADS;
	if (z != NULL && app_threads(name, "PGSSE_APP_THREADS", z,
	    &o->threads) != 0)
		return -2;
	if (app_batch_wait(name, o) != 0)
		return -2;
	o->secret = getenv("PGSSE_SECRET_FILE");
	if (folder)
		o->dir = getenv("PGSSE_APP_DIR");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case 'f':
			o->secret = optarg;
			break;
		case 'a':
			if (!folder)
				goto usage;
			o->dir = optarg;
			break;
		case 't':
			if (app_threads(name, "--threads", optarg,
			    &o->threads) != 0)
				return -2;
			break;
		case 'V':
			printf("%s %s\n", name, PGSSE_VERSION);
			return -1;
		case 'h':
			app_usage(stdout, name, folder);
			return -1;
		default:
			goto usage;
		}
	}
	if (optind == argc)
		return 0;
	fprintf(stderr, "%s: unexpected argument %s\n", name, argv[optind]);
usage:
	app_usage(stderr, name, folder);
	return -2;
}

/*
 * Returns the database settings of fragment programs:
 * PGSSE_APP_CONNINFO, else PGSSE_CONNINFO, else NULL (the PG*
 * variables). The environment owns the string.
 */
static const char *
app_conninfo(void)
{
	const char	*z = getenv("PGSSE_APP_CONNINFO");

	return z != NULL ? z : getenv("PGSSE_CONNINFO");
}

/*
 * Returns the settings of the read connection, for GET requests:
 * PGSSE_APP_READ_CONNINFO, or NULL if unset or empty (GET requests then
 * query on the main connection). The environment owns the string.
 */
static const char *
app_read_conninfo(void)
{
	const char	*z = getenv("PGSSE_APP_READ_CONNINFO");

	return z != NULL && *z != '\0' ? z : NULL;
}

/*
 * Returns 1 if every route's pattern can match, else 0 after saying
 * which cannot on standard error.
 */
static int
app_routes_ok(const char *name, const struct pgsse_route *routes)
{
	const struct pgsse_route	*rt;

	for (rt = routes; rt != NULL && rt->pattern != NULL; rt++)
		if (!pgsse_route_valid(rt->pattern, PGSSE_APP_ARGS_MAX)) {
			fprintf(stderr, "%s: route %s is malformed: it must "
			    "start with /, each <name> a whole segment, at "
			    "most %d of them\n", name, rt->pattern,
			    PGSSE_APP_ARGS_MAX);
			return 0;
		}
	return 1;
}

/*
 * Loads the CSRF secret in the file at path into app_key. Returns 1, or
 * 0 after saying why on standard error: the file is unusable, or there
 * is none and a route takes POST, of routes or of the folder def.
 */
static int
app_secret(const char *name, const char *path,
    const struct pgsse_route *routes, const struct pgsse_appdef *def)
{
	const struct pgsse_route	*rt;
	char				 why[1024];
	int				 k;

	if (path != NULL && *path != '\0') {
		if (pgsse_csrf_key_load(&app_key, path, why, sizeof(why)) ==
		    PGSSE_OK)
			return 1;
		fprintf(stderr, "%s: CSRF secret (PGSSE_SECRET_FILE): %s\n",
		    name, why);
		return 0;
	}
	for (k = 0; k < 2; k++) {
		rt = k == 0 ? routes : def != NULL ?
		    pgsse_appdef_routes(def, NULL, NULL) : NULL;
		for (; rt != NULL && rt->pattern != NULL; rt++)
			if (rt->method == PGSSE_METHOD_POST) {
				fprintf(stderr, "%s: POST %s needs a CSRF "
				    "secret: set PGSSE_SECRET_FILE (or "
				    "--secret-file) to a file of %d to %d "
				    "random bytes, the same on every host, "
				    "that only the web programs can read:\n"
				    "  head -c 32 /dev/urandom "
				    ">/etc/pgsse/secret; chmod 640 "
				    "/etc/pgsse/secret\n", name, rt->pattern,
				    PGSSE_CSRF_SECRET_MIN,
				    PGSSE_CSRF_SECRET_MAX);
				return 0;
			}
	}
	return 1;
}

/*
 * Loads the app folder o->dir into app_def, if folder, and with check
 * has the database check its SQL (app_check_sql: not for one plain CGI
 * request, which prepares its one statement anyway). Returns 1, or 0
 * after saying why on standard error.
 */
static int
app_folder(const char *name, int folder, int check, const struct app_opts *o)
{
	struct pgsse_appdef	*def;
	char			 err[1024];

	if (!folder)
		return 1;
	if (o->dir == NULL || *o->dir == '\0') {
		fprintf(stderr, "%s: no app folder: give --app DIR or set "
		    "PGSSE_APP_DIR\n", name);
		return 0;
	}
	if ((def = pgsse_appdef_load(o->dir, err, sizeof(err))) == NULL ||
	    (check && !app_check_sql(name, def, err, sizeof(err)))) {
		fprintf(stderr, "%s: %s\n", name, err);
		pgsse_appdef_release(def);
		return 0;
	}
	app_def_swap(def);
	return 1;
}

/*
 * Checks the database once at start-up (pgsse_db_start). Returns -1 if
 * it will not do until someone changes something (logged, with the
 * fix), else 0: one that is down is tried again as requests come, with
 * the backoff.
 */
static int
app_db_start(void)
{
	PGconn		*conn;
	enum pgsse_err	 er;

	er = pgsse_db_start(app_conninfo(), APP_SETTING, &app_stop, 0, &conn);
	pgsse_db_close(conn);
	return er == PGSSE_ERR_INVAL ? -1 : 0;
}

/*
 * Makes the workers' epoll set (see app_next_conns) with the listening
 * socket sock in it, made non-blocking. Returns the set, or -1 after
 * logging why.
 */
static int
app_ep(int sock)
{
	struct epoll_event	 ev;
	int			 ep, fl;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = APP_EP_LISTEN;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (fl = fcntl(sock, F_GETFL)) == -1 ||
	    fcntl(sock, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, sock, &ev) == -1) {
		pgsse_log(PGSSE_LOG_ERROR, "the FastCGI socket: %s",
		    strerror(errno));
		if (ep != -1)
			close(ep);
		return -1;
	}
	return ep;
}

/*
 * Runs a fragment program: routes, then with folder the app folder's
 * (dir, or --app, or PGSSE_APP_DIR). Returns the exit status.
 */
static int
app_main(const char *name, int folder, const char *dir,
    const struct pgsse_route *routes, int argc, char *argv[])
{
	struct app_worker	 w[PGSSE_APP_THREADS_MAX];
	struct pgsse_app	 a;
	struct pgsse_req	 req;
	struct app_opts		 o;
	long			 i;
	int			 rc, cgi, ep;

	memset(&o, 0, sizeof(o));
	pgsse_appstats_start(name);
	app_signals(folder);
	if (FCGX_Init() != 0)
		return 1;
	if ((rc = app_args(name, folder && dir == NULL, argc, argv, &o)) < 0)
		return rc == -1 ? 0 : 2;
	if (!pgsse_listen_peers(name))
		return 2;
	if (o.socket != NULL && (o.sock = pgsse_listen(o.socket,
	    APP_BACKLOG, "--socket")) == -1)
		return 1;
	if (dir != NULL)
		o.dir = dir;
	cgi = o.socket == NULL && FCGX_IsCGI();
	if (!cgi)
		pgsse_sdnotify_init();
	if (!cgi && app_db_start() == -1)
		return 1;
	if (!app_routes_ok(name, routes) || !app_folder(name, folder, !cgi,
	    &o) || !app_secret(name, o.secret, routes, app_def)) {
		app_def_swap(NULL);
		return 2;
	}
	if (cgi) {
		memset(&a, 0, sizeof(a));
		memset(&req, 0, sizeof(req));
		app_conns(&a, app_conninfo(), app_read_conninfo());
		a.req = &req;
		app_serve(&a, routes);
		app_free(&a);
		app_def_swap(NULL);
		return 0;
	}
	if ((ep = app_ep(o.sock)) == -1 || app_turn_init(o.wait_ms, w,
	    o.threads) == -1)
		return 1;
	memset(w, 0, sizeof(w));
	for (i = 0; i < o.threads; i++) {
		w[i].sock = o.sock;
		w[i].ep = ep;
		w[i].tcp = pgsse_listen_is_tcp(o.sock);
		w[i].routes = routes;
		w[i].conninfo = app_conninfo();
		w[i].rconninfo = app_read_conninfo();
	}
	app_run_workers(w, o.threads, name, folder ? o.dir : NULL,
	    app_key.len > 0);
	close(ep);	/* and with it the connections still kept */
	app_def_swap(NULL);
	return 0;
}

/*
 * Runs a fragment program: serves routes over FastCGI (socket on fd 0,
 * or --socket PATH) with --threads workers, or one plain CGI request,
 * until SIGTERM. Returns the exit status: 2 on a usage error or if the
 * routes or the CSRF secret are unusable, 1 if it cannot listen. The database comes from PGSSE_CONNINFO or PG*
 * variables, the secret from PGSSE_SECRET_FILE or --secret-file.
 */
int
pgsse_app_main(const char *name, const struct pgsse_route *routes,
    int argc, char *argv[])
{
	return app_main(name, 0, NULL, routes, argc, argv);
}

/*
 * Runs a fragment program that serves the app folder dir (NULL: the
 * --app option's, else PGSSE_APP_DIR's) and routes of its own (NULL for
 * none), which are tried first; reloads the folder on SIGHUP. Returns
 * what pgsse_app_main returns, and 2 if the folder does not load (the
 * error, with its file and line, is on standard error).
 */
int
pgsse_app_main_folder(const char *name, const char *dir,
    const struct pgsse_route *routes, int argc, char *argv[])
{
	return app_main(name, 1, dir, routes, argc, argv);
}
