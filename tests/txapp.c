/*
 * txapp: a fragment program for check_app whose route leaves a
 * transaction open, the way a careless app might; on the public API.
 */
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

/* GET /tx/check: what the next request on the connection sees. */
static enum pgsse_http_status
tx_check(pgsse_app *a)
{
	PGresult	*res;

	res = pgsse_app_query(a, "select coalesce(current_setting("
	    "'txapp.mark', true), ''), now()", 0);
	if (res == NULL)
		return pgsse_app_db_error(a, "query failed");
	pgsse_app_html(a, "mark=%s at=%s\n", PQgetvalue(res, 0, 0),
	    PQgetvalue(res, 0, 1));
	PQclear(res);
	return PGSSE_HTTP_200;
}

static const struct pgsse_route routes[] = {
	{ PGSSE_METHOD_GET, "/tx/open", tx_open },
	{ PGSSE_METHOD_GET, "/tx/check", tx_check },
	{ PGSSE_METHOD__MAX, NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return pgsse_app_main("txapp", routes, argc, argv);
}
