/*
 * txapp: a fragment program for check_app whose route leaves a
 * transaction open, the way a careless app might; on the public API.
 * /tx/whoami says which connection a request's queries ran on. Given
 * --app DIR, it serves that folder's routes too.
 */
#include <string.h>

#include <pgsse-app.h>

/* GET /tx/open: begins, marks the transaction, and returns. */
static enum pgsse_http_status
tx_open(pgsse_app *a)
{
	PGresult	*res;

	if ((res = pgsse_app_query(a, "begin", 0)) == NULL)
		return pgsse_app_db_error(a, "begin failed");
	PQclear(res);
	res = pgsse_app_query(a, "select set_config('txapp.mark', 'leaked', "
	    "true), now()", 0);
	if (res == NULL)
		return pgsse_app_db_error(a, "set_config failed");
	pgsse_app_html(a, "at=%s\n", PQgetvalue(res, 0, 1));
	PQclear(res);
	return PGSSE_HTTP_200;
}

/* GET /tx/err: begins, and fails inside: the transaction is aborted. */
static enum pgsse_http_status
tx_err(pgsse_app *a)
{
	PGresult	*res;

	if ((res = pgsse_app_query(a, "begin", 0)) == NULL)
		return pgsse_app_db_error(a, "begin failed");
	PQclear(res);
	PQclear(pgsse_app_query(a, "select 1 / 0", 0));
	pgsse_app_html(a, "err\n");
	return PGSSE_HTTP_200;
}

/* GET /tx/check: what the next request on the connection sees. */
static enum pgsse_http_status
tx_check(pgsse_app *a)
{
	PGresult	*res;

	res = pgsse_app_query(a, "select coalesce(current_setting("
	    "'txapp.mark', true), ''), now(), coalesce(current_setting("
	    "'pgsse.user', true), '')", 0);
	if (res == NULL)
		return pgsse_app_db_error(a, "query failed");
	pgsse_app_html(a, "mark=%s at=%s user=%s\n", PQgetvalue(res, 0, 0),
	    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);
	return PGSSE_HTTP_200;
}

/*
 * GET /tx/lost: begins, marks the transaction, loses the connection,
 * then asks for the mark again: that must fail, not run on a new
 * connection outside the transaction.
 */
static enum pgsse_http_status
tx_lost(pgsse_app *a)
{
	PGresult	*res;

	if ((res = pgsse_app_query(a, "begin", 0)) == NULL)
		return pgsse_app_db_error(a, "begin failed");
	PQclear(res);
	PQclear(pgsse_app_query(a, "select set_config('txapp.mark', 'mine', "
	    "true)", 0));
	PQclear(pgsse_app_query(a, "select pg_terminate_backend("
	    "pg_backend_pid())", 0));
	res = pgsse_app_query(a, "select coalesce(current_setting("
	    "'txapp.mark', true), '')", 0);
	pgsse_app_html(a, "after=%s\n", res ? PQgetvalue(res, 0, 0) :
	    "failed");
	PQclear(res);
	return PGSSE_HTTP_200;
}

/* GET /tx/copy: a COPY, which never returns to the route. */
static enum pgsse_http_status
tx_copy(pgsse_app *a)
{
	PGresult	*res;

	res = pgsse_app_query(a, "copy (select 1) to stdout", 0);
	pgsse_app_html(a, "copy=%s\n", res ? "ran" : "refused");
	PQclear(res);
	return PGSSE_HTTP_200;
}

/* GET or POST /tx/whoami: the connection's application_name. */
static enum pgsse_http_status
tx_whoami(pgsse_app *a)
{
	PGresult	*res;

	res = pgsse_app_query(a, "select current_setting('application_name')",
	    0);
	if (res == NULL)
		return pgsse_app_db_error(a, "query failed");
	pgsse_app_html(a, "app=%s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	return PGSSE_HTTP_200;
}

/* GET /tx/sleep: a slow C route (half a second in the database). */
static enum pgsse_http_status
tx_sleep(pgsse_app *a)
{
	PGresult	*res;

	if ((res = pgsse_app_query(a, "select pg_sleep(0.5)", 0)) == NULL)
		return pgsse_app_db_error(a, "query failed");
	PQclear(res);
	pgsse_app_html(a, "slept\n");
	return PGSSE_HTTP_200;
}

static const struct pgsse_route routes[] = {
	{ PGSSE_METHOD_GET, "/tx/whoami", tx_whoami },
	{ PGSSE_METHOD_POST, "/tx/whoami", tx_whoami },
	{ PGSSE_METHOD_GET, "/tx/lost", tx_lost },
	{ PGSSE_METHOD_GET, "/tx/copy", tx_copy },
	{ PGSSE_METHOD_GET, "/tx/open", tx_open },
	{ PGSSE_METHOD_POST, "/tx/open", tx_open },
	{ PGSSE_METHOD_GET, "/tx/err", tx_err },
	{ PGSSE_METHOD_GET, "/tx/check", tx_check },
	{ PGSSE_METHOD_GET, "/tx/sleep", tx_sleep },
	{ PGSSE_METHOD_POST, "/tx/check", tx_check },
	{ PGSSE_METHOD__MAX, NULL, NULL }
};

int
main(int argc, char *argv[])
{
	int	 i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--app") == 0)
			return pgsse_app_main_folder("txapp", NULL, routes,
			    argc, argv);
	return pgsse_app_main("txapp", routes, argc, argv);
}
