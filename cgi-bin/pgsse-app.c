/*
 * pgsse-app: the demo application's HTMX fragments, rendered from
 * PostgreSQL. Runs as a FastCGI server (socket on fd 0 or --socket).
 * It keeps one database connection open across requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"

static PGconn	*db;

/* Returns the open connection, reconnecting if it broke; or NULL. */
static PGconn *
app_db(void)
{
	if (db != NULL && PQstatus(db) == CONNECTION_OK)
		return db;
	pgsse_db_close(db);
	db = pgsse_db_connect(getenv("PGSSE_CONNINFO"));
	return db;
}

/* GET /status/content: the system status card. */
static enum pgsse_http_status
app_status(struct pgsse_buf *b)
{
	PGresult		*res = NULL;
	PGconn			*conn;
	enum pgsse_http_status	 st = PGSSE_HTTP_503;

	if ((conn = app_db()) == NULL)
		goto out;
	res = PQexecParams(conn, "select to_char(now(), 'YYYY-MM-DD HH24:MI:SS'),"
	    " current_setting('server_version'), (select count(*) from "
	    "pgsse.log)", 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto out;
	if (pgsse_html_trusted(b, "<div class=\"status-card\"><h2>System "
	    "status</h2><dl><dt>Database time</dt><dd>") ||
	    pgsse_html_text(b, PQgetvalue(res, 0, 0)) ||
	    pgsse_html_trusted(b, "</dd><dt>PostgreSQL</dt><dd>") ||
	    pgsse_html_text(b, PQgetvalue(res, 0, 1)) ||
	    pgsse_html_trusted(b, "</dd><dt>Events logged</dt><dd>") ||
	    pgsse_html_text(b, PQgetvalue(res, 0, 2)) ||
	    pgsse_html_trusted(b, "</dd></dl></div>\n"))
		st = PGSSE_HTTP_500;
	else
		st = PGSSE_HTTP_200;
out:
	PQclear(res);
	return st;
}

static void
app_serve(struct pgsse_req *r)
{
	struct pgsse_buf	 b = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	const char		*method, *uri;
	enum pgsse_http_status	 st;
	size_t			 len;

	method = pgsse_req_param(r, "REQUEST_METHOD");
	uri = pgsse_req_param(r, "REQUEST_URI");
	len = uri ? strcspn(uri, "?") : 0;
	if (method == NULL || strcmp(method, "GET") != 0) {
		pgsse_http_text(r, PGSSE_HTTP_405, "Allow: GET\r\n",
		    "only GET is allowed");
		return;
	}
	if (uri == NULL || len != strlen("/status/content") ||
	    strncmp(uri, "/status/content", len) != 0) {
		pgsse_http_text(r, PGSSE_HTTP_404, NULL, "no such path");
		return;
	}
	if ((st = app_status(&b)) != PGSSE_HTTP_200)
		pgsse_http_text(r, st, NULL, "the database is unavailable");
	else if (pgsse_buf_printf(&out, "Status: 200 OK\r\nContent-Type: "
	    "text/html; charset=utf-8\r\nCache-Control: no-store\r\n\r\n") ||
	    pgsse_buf_put(&out, b.p, b.len))
		pgsse_http_text(r, PGSSE_HTTP_500, NULL, "out of memory");
	else if (pgsse_req_write(r, out.p, out.len) == PGSSE_OK)
		pgsse_req_flush(r);
	pgsse_buf_free(&b);
	pgsse_buf_free(&out);
}

int
main(int argc, char *argv[])
{
	FCGX_Request	 fr;
	struct pgsse_req r;
	int		 sock = 0;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		puts("pgsse-app " PGSSE_VERSION);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		puts("usage: pgsse-app [--socket PATH|:PORT]\nServes the demo "
		    "application's HTMX fragments over FastCGI.\nThe database "
		    "comes from PGSSE_CONNINFO or the PG* variables.");
		return 0;
	}
	if (FCGX_Init() != 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "--socket") == 0 &&
	    (sock = FCGX_OpenSocket(argv[2], 128)) < 0)
		return 1;
	if (sock == 0 && FCGX_IsCGI()) {
		memset(&r, 0, sizeof(r));
		app_serve(&r);
		goto out;
	}
	FCGX_InitRequest(&fr, sock, 0);
	while (FCGX_Accept_r(&fr) >= 0) {
		memset(&r, 0, sizeof(r));
		r.fcgi = &fr;
		app_serve(&r);
		FCGX_Finish_r(&fr);
	}
out:
	pgsse_db_close(db);
	return 0;
}
