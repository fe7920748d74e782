/*
 * gridc: make bench's baseline for W5, GET /demos/grid written in C on
 * the public API alone (pgsse-app.h), as a program outside this tree
 * would be. The declared twin is the demo folder's (demo/app.json);
 * both render the same bytes, and the bench compares their rates.
 */
#include <string.h>

#include <pgsse-app.h>

/* SQL text of a number, such as a limit. */
#define STR(x) STR_(x)
#define STR_(x) #x
/* A text field cut to PGSSE_FRAGMENT_FIELD_MAX characters. */
#define CUT(x) "left(" x ", " STR(PGSSE_FRAGMENT_FIELD_MAX) ")"
/* The most rows of a fragment. */
#define ROWS " limit " STR(PGSSE_FRAGMENT_ROWS_MAX)

/* GET /demos/grid: one card per demo, with its action button. */
static enum pgsse_http_status
demos_grid(pgsse_app *a)
{
	PGresult	*res;
	const char	*id;
	int		 i, on;

	res = pgsse_app_query(a, "select id, " CUT("name") ", "
	    CUT("description") ", installed from pgsse_demo.demos order by "
	    "name" ROWS, 0);
	if (res == NULL)
		return pgsse_app_error(a, PGSSE_HTTP_503, "database unavailable");
	for (i = 0; i < PQntuples(res); i++) {
		id = PQgetvalue(res, i, 0);
		on = strcmp(PQgetvalue(res, i, 3), "t") == 0;
		if (pgsse_app_html(a, "<article class=\"demo\" id=\"demo-%s\" "
		    "data-installed=\"%s\"><h3>%s</h3><p>%s</p><span "
		    "class=\"badge %s\">%s</span><button class=\"%s\" "
		    "hx-post=\"/demos/%s/%s\" hx-target=\"#jobs\" "
		    "hx-swap=\"afterbegin\" hx-disabled-elt=\"this\">%s</button>"
		    "</article>\n", id, on ? "true" : "false",
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		    on ? "on" : "off", on ? "installed" : "not installed",
		    on ? "secondary" : "", id, on ? "uninstall" : "install",
		    on ? "Uninstall" : "Install") != PGSSE_OK) {
			PQclear(res);
			return pgsse_app_error(a, PGSSE_HTTP_500,
			    "out of memory");
		}
	}
	PQclear(res);
	return PGSSE_HTTP_200;
}

static const struct pgsse_route routes[] = {
	{ PGSSE_METHOD_GET, "/demos/grid", demos_grid },
	{ PGSSE_METHOD__MAX, NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return pgsse_app_main("gridc", routes, argc, argv);
}
