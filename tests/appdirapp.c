/*
 * appdirapp: a generic fragment program for check_appdef, on the public
 * API alone: it serves the app folder of --app or PGSSE_APP_DIR, and
 * one route of its own beside it.
 */
#include <pgsse-app.h>

/* GET /c/hello: a C route of the same site. */
static enum pgsse_http_status
c_hello(pgsse_app *a)
{
	pgsse_app_html(a, "hello from C\n");
	return PGSSE_HTTP_200;
}

static const struct pgsse_route routes[] = {
	{ PGSSE_METHOD_GET, "/c/hello", c_hello },
	{ PGSSE_METHOD__MAX, NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return pgsse_app_main_folder("appdirapp", NULL, routes, argc, argv);
}
