/*
 * pgsse-app: the demo application's HTMX fragments and actions, rendered
 * from PostgreSQL, on the public API alone (pgsse-app.h), like any app
 * built outside this tree. Every value from the database goes through
 * the escaping writer (pgsse_app_html's %s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pgsse-app.h"

/* Log lines /logs/tail shows by default. */
#define APP_TAIL_DEFAULT 30

/* SQL text of a number, such as a limit. */
#define STR(x) STR_(x)
#define STR_(x) #x
/* A text field cut to PGSSE_FRAGMENT_FIELD_MAX characters. */
#define CUT(x) "left(" x ", " STR(PGSSE_FRAGMENT_FIELD_MAX) ")"
/* The most rows of a fragment. */
#define ROWS " limit " STR(PGSSE_FRAGMENT_ROWS_MAX)

#define HTML(...) do { \
	if (pgsse_app_html(a, __VA_ARGS__) != PGSSE_OK) \
		goto fail; \
} while (0)

static const char *
val(PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col);
}

/* GET /status/content: the system status card. */
static enum pgsse_http_status
status_content(pgsse_app *a)
{
	PGresult	*res;

	res = pgsse_app_query(a, "select to_char(now(), 'YYYY-MM-DD "
	    "HH24:MI:SS'), current_setting('server_version'), (select "
	    "coalesce(max(id), 0) from pgsse.log), coalesce((select "
	    CUT("payload ->> 'status'") " from "
	    "pgsse.log where channel = 'status' order by id desc limit 1), "
	    "'unknown'), (select count(*) from pgsse.jobs where state in "
	    "('queued', 'running'))", 0);
	if (res == NULL)
		return pgsse_app_error(a, PGSSE_HTTP_503, "database unavailable");
	HTML("<div class=\"status-card\"><h2>System status</h2><dl>"
	    "<dt>Database time</dt><dd>%s</dd><dt>PostgreSQL</dt><dd>%s</dd>"
	    "<dt>Last event id</dt><dd>%s</dd><dt>Last status</dt>"
	    "<dd class=\"status-%s\">%s</dd><dt>Active jobs</dt><dd>%s</dd>"
	    "</dl></div>\n", val(res, 0, 0), val(res, 0, 1), val(res, 0, 2),
	    val(res, 0, 3), val(res, 0, 3), val(res, 0, 4));
	PQclear(res);
	return PGSSE_HTTP_200;
fail:
	PQclear(res);
	return pgsse_app_error(a, PGSSE_HTTP_500, "out of memory");
}

/* GET /demos/grid: one card per demo, with its action button. */
static enum pgsse_http_status
demos_grid(pgsse_app *a)
{
	PGresult	*res;
	int		 i, on;

	res = pgsse_app_query(a, "select id, " CUT("name") ", "
	    CUT("description") ", installed from pgsse_demo.demos order by "
	    "name" ROWS, 0);
	if (res == NULL)
		return pgsse_app_error(a, PGSSE_HTTP_503, "database unavailable");
	for (i = 0; i < PQntuples(res); i++) {
		on = strcmp(val(res, i, 3), "t") == 0;
		HTML("<article class=\"demo\" id=\"demo-%s\" data-installed=\"%s\">"
		    "<h3>%s</h3><p>%s</p><span class=\"badge %s\">%s</span>"
		    "<button class=\"%s\" hx-post=\"/demos/%s/%s\" "
		    "hx-target=\"#jobs\" hx-swap=\"afterbegin\" "
		    "hx-disabled-elt=\"this\">%s</button></article>\n",
		    val(res, i, 0), on ? "true" : "false", val(res, i, 1),
		    val(res, i, 2), on ? "on" : "off",
		    on ? "installed" : "not installed", on ? "secondary" : "",
		    val(res, i, 0), on ? "uninstall" : "install",
		    on ? "Uninstall" : "Install");
	}
	PQclear(res);
	return PGSSE_HTTP_200;
fail:
	PQclear(res);
	return pgsse_app_error(a, PGSSE_HTTP_500, "out of memory");
}

/* Appends one job's row: its progress, refreshed on the job's events. */
static enum pgsse_err
job_row(pgsse_app *a, PGresult *res, int i)
{
	const char	*id = val(res, i, 0), *state = val(res, i, 2);

	return pgsse_app_html(a, "<div class=\"job-row state-%s\" "
	    "hx-get=\"/jobs/%s\" hx-trigger=\"sse:progress, sse:complete\" "
	    "hx-swap=\"outerHTML\"><span class=\"job-kind\">%s</span> "
	    "<span class=\"job-target\">%s</span><progress max=\"100\" "
	    "value=\"%s\"></progress><span class=\"job-step\">%s</span> "
	    "<span class=\"job-state\">%s</span></div>", state, id,
	    val(res, i, 1), val(res, i, 3), val(res, i, 4), val(res, i, 5),
	    state);
}

static const char job_sql[] =
    "select j.id, j.kind, j.state, " CUT("coalesce(j.args ->> 'name', "
    "j.args ->> 'demo_id', '')") ", case when j.state = 'succeeded' then "
    "'100' else coalesce(p.payload ->> 'percent', '0') end, "
    CUT("coalesce(p.payload ->> 'step', j.state)") " from pgsse.jobs j "
    "left join lateral (select payload from pgsse.log where channel = 'job'"
    " and payload ->> 'job_id' = j.id::text and event = 'progress' "
    "order by id desc limit 1) p on true ";

/* GET /jobs/<id>: one job's row. */
static enum pgsse_http_status
job_get(pgsse_app *a)
{
	char		 sql[sizeof(job_sql) + 64];
	PGresult	*res;
	enum pgsse_http_status st = PGSSE_HTTP_200;

	if (strspn(pgsse_app_arg(a, "id"), "0123456789") != strlen(pgsse_app_arg(a, "id")) ||
	    strlen(pgsse_app_arg(a, "id")) > 18)
		return pgsse_app_error(a, PGSSE_HTTP_404, "no such job");
	snprintf(sql, sizeof(sql), "%s where j.id = $1::bigint", job_sql);
	if ((res = pgsse_app_query(a, sql, 1, pgsse_app_arg(a, "id"))) == NULL)
		return pgsse_app_error(a, PGSSE_HTTP_503, "database unavailable");
	if (PQntuples(res) != 1)
		st = pgsse_app_error(a, PGSSE_HTTP_404, "no such job");
	else if (job_row(a, res, 0) != PGSSE_OK)
		st = pgsse_app_error(a, PGSSE_HTTP_500, "out of memory");
	PQclear(res);
	return st;
}

/*
 * Appends a job's container: the dedicated per-job stream (htmx SSE
 * extension, closed on complete) around the row it refreshes.
 */
static enum pgsse_err
job_container(pgsse_app *a, PGresult *res, int i)
{
	int	 done = strcmp(val(res, i, 2), "queued") != 0 &&
	    strcmp(val(res, i, 2), "running") != 0;

	if (done)
		return pgsse_app_html(a, "<div class=\"job\" id=\"job-%s"
		    "\">", val(res, i, 0)) || job_row(a, res, i) ||
		    pgsse_app_html(a, "</div>\n");
	return pgsse_app_html(a, "<div class=\"job\" id=\"job-%s\" "
	    "hx-ext=\"sse\" sse-connect=\"/api/jobs/%s/stream\" "
	    "sse-close=\"complete\">", val(res, i, 0), val(res, i, 0)) ||
	    job_row(a, res, i) || pgsse_app_html(a, "</div>\n");
}

/* GET /jobs/active: containers of the jobs still queued or running. */
static enum pgsse_http_status
jobs_active(pgsse_app *a)
{
	char		 sql[sizeof(job_sql) + 128];
	PGresult	*res;
	int		 i;

	snprintf(sql, sizeof(sql), "%s where j.state in ('queued', 'running')"
	    " or j.finished_at > now() - interval '1 minute' order by j.id "
	    "desc limit 20", job_sql);
	if ((res = pgsse_app_query(a, sql, 0)) == NULL)
		return pgsse_app_error(a, PGSSE_HTTP_503, "database unavailable");
	for (i = 0; i < PQntuples(res); i++)
		if (job_container(a, res, i) != PGSSE_OK) {
			PQclear(res);
			return pgsse_app_error(a, PGSSE_HTTP_500, "out of memory");
		}
	PQclear(res);
	return PGSSE_HTTP_200;
}

/*
 * Enqueues kind with args under dedupe key, answering with the job's
 * container. A job already queued or running under that key is not
 * started twice: the answer re-targets its existing container (decided
 * by web_enqueue under its lock, so two clicks at once agree).
 */
static enum pgsse_http_status
enqueue(pgsse_app *a, const char *kind, const char *args,
    const char *key)
{
	char		 sql[sizeof(job_sql) + 64], target[48];
	PGresult	*res;
	int64_t		 id;
	int		 existed;

	if (pgsse_app_enqueue(a, kind, args, key, &id, &existed) != PGSSE_OK)
		return pgsse_app_db_error(a, "could not enqueue");
	snprintf(target, sizeof(target), "#job-%lld", (long long)id);
	snprintf(sql, sizeof(sql), "%s where j.id = $1::bigint", job_sql);
	if ((res = pgsse_app_query(a, sql, 1, target + 5)) == NULL ||
	    PQntuples(res) != 1) {
		PQclear(res);
		return pgsse_app_error(a, PGSSE_HTTP_503, "database unavailable");
	}
	if (existed) {
		pgsse_app_hx(a, PGSSE_HX_RETARGET, target);
		pgsse_app_hx(a, PGSSE_HX_RESWAP, "outerHTML");
	}
	if (job_container(a, res, 0) != PGSSE_OK) {
		PQclear(res);
		return pgsse_app_error(a, PGSSE_HTTP_500, "out of memory");
	}
	PQclear(res);
	return PGSSE_HTTP_200;
}

/* POST /demos/<id>/install and /uninstall. */
static enum pgsse_http_status
demo_action(pgsse_app *a, const char *kind)
{
	PGresult		*res;
	char			 key[128];
	enum pgsse_http_status	 st;

	res = pgsse_app_query(a, "select json_build_object('demo_id', id, "
	    "'name', name)::text from pgsse_demo.demos where id = $1", 1,
	    pgsse_app_arg(a, "id"));
	if (res == NULL)
		return pgsse_app_error(a, PGSSE_HTTP_503, "database unavailable");
	if (PQntuples(res) != 1) {
		PQclear(res);
		return pgsse_app_error(a, PGSSE_HTTP_404, "no such demo");
	}
	snprintf(key, sizeof(key), "demo:%s", pgsse_app_arg(a, "id"));
	st = enqueue(a, kind, val(res, 0, 0), key);
	PQclear(res);
	return st;
}

static enum pgsse_http_status
demo_install(pgsse_app *a)
{
	return demo_action(a, "demo_install");
}

static enum pgsse_http_status
demo_uninstall(pgsse_app *a)
{
	return demo_action(a, "demo_uninstall");
}

/* POST /validation/run */
static enum pgsse_http_status
validation_run(pgsse_app *a)
{
	return enqueue(a, "validation", "{}", "validation");
}

/* GET /logs/tail?n=N: the last N log lines, oldest first. */
static enum pgsse_http_status
logs_tail(pgsse_app *a)
{
	const char	*n = pgsse_app_get(a, "n");
	char		 lim[16];
	PGresult	*res;
	long		 v = APP_TAIL_DEFAULT;
	int		 i;

	if (n != NULL && (strspn(n, "0123456789") != strlen(n) ||
	    strlen(n) > 4 || (v = strtol(n, NULL, 10)) < 1 ||
	    v > PGSSE_FRAGMENT_ROWS_MAX))
		return pgsse_app_error(a, PGSSE_HTTP_400, "n must be a number "
		    "from 1 to " STR(PGSSE_FRAGMENT_ROWS_MAX));
	snprintf(lim, sizeof(lim), "%ld", v);
	res = pgsse_app_query(a, "select id, " CUT("payload ->> 'source'") ", "
	    CUT("payload ->> 'line'") " from (select id, payload from "
	    "pgsse.log where channel = 'logs' order by id desc limit $1::int) "
	    "t order by id", 1, lim);
	if (res == NULL)
		return pgsse_app_error(a, PGSSE_HTTP_503, "database unavailable");
	for (i = 0; i < PQntuples(res); i++)
		HTML("<li data-id=\"%s\"><span class=\"src\">%s</span> "
		    "<span class=\"line\">%s</span></li>\n", val(res, i, 0),
		    val(res, i, 1), val(res, i, 2));
	PQclear(res);
	return PGSSE_HTTP_200;
fail:
	PQclear(res);
	return pgsse_app_error(a, PGSSE_HTTP_500, "out of memory");
}

/* GET /validation/results: the latest run's checks and summary. */
static enum pgsse_http_status
validation_results(pgsse_app *a)
{
	PGresult	*res;
	int		 i;

	res = pgsse_app_query(a, "with start as (select coalesce(max(id), 0) "
	    "as id from pgsse.log where channel = 'operations' and payload ->> "
	    "'kind' = 'validation' and payload ->> 'state' = 'running'), "
	    "last as (select log.id, event, payload from pgsse.log, start "
	    "where channel = 'validation' and log.id > start.id order by "
	    "log.id desc" ROWS ") select event, " CUT("coalesce(payload ->> "
	    "'check', '')") ", coalesce(payload ->> 'ok', ''), "
	    CUT("coalesce(payload ->> 'detail', payload ->> 'error', '')") ", "
	    "coalesce(payload ->> 'passed', ''), coalesce(payload ->> "
	    "'failed', '') from last order by id", 0);
	if (res == NULL)
		return pgsse_app_error(a, PGSSE_HTTP_503, "database unavailable");
	if (PQntuples(res) == 0)
		HTML("<p class=\"muted\">No validation has run yet.</p>\n");
	else
		HTML("<ul class=\"checks\">\n");
	for (i = 0; i < PQntuples(res); i++) {
		if (strcmp(val(res, i, 0), "check_result") == 0)
			HTML("<li class=\"%s\">%s: %s</li>\n",
			    strcmp(val(res, i, 2), "true") == 0 ? "ok" : "bad",
			    val(res, i, 1), val(res, i, 3));
		else if (strcmp(val(res, i, 0), "validation_complete") == 0)
			HTML("<li class=\"summary\">%s passed, %s failed</li>\n",
			    val(res, i, 4), val(res, i, 5));
		else
			HTML("<li class=\"bad\">error: %s</li>\n",
			    val(res, i, 3));
	}
	if (PQntuples(res) > 0)
		HTML("</ul>\n");
	PQclear(res);
	return PGSSE_HTTP_200;
fail:
	PQclear(res);
	return pgsse_app_error(a, PGSSE_HTTP_500, "out of memory");
}

static const struct pgsse_route routes[] = {
	{ PGSSE_METHOD_GET, "/status/content", status_content },
	{ PGSSE_METHOD_GET, "/demos/grid", demos_grid },
	{ PGSSE_METHOD_POST, "/demos/<id>/install", demo_install },
	{ PGSSE_METHOD_POST, "/demos/<id>/uninstall", demo_uninstall },
	{ PGSSE_METHOD_GET, "/jobs/active", jobs_active },
	{ PGSSE_METHOD_GET, "/jobs/<id>", job_get },
	{ PGSSE_METHOD_GET, "/logs/tail", logs_tail },
	{ PGSSE_METHOD_GET, "/validation/results", validation_results },
	{ PGSSE_METHOD_POST, "/validation/run", validation_run },
	{ PGSSE_METHOD__MAX, NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return pgsse_app_main("pgsse-app", routes, argc, argv);
}
