/*
 * appstats.c: what a fragment program (pgsse-app) counts of the
 * requests it answers, and its metrics page, in the Prometheus text
 * format (metrics.c).
 *
 * Requests are counted by method, route and status, with a latency
 * histogram by method and route. The route is the pattern that matched
 * ("/jobs/<id>"), as the program or its app folder declares it, never
 * the path asked for: a stranger's paths all count as "unmatched", and
 * a method other than GET and POST as "other", so no request makes a
 * new series. Patterns are the program's, but an app folder reloaded
 * with new ones adds series; past APPSTATS_SERIES_MAX method and route
 * pairs the rest count as route "other".
 *
 * The page is served at PGSSE_APP_METRICS_PATH_DEFAULT, or the path
 * PGSSE_APP_METRICS_PATH names ("" turns it off), before any route is
 * tried, so an app folder cannot shadow it. It costs what its series
 * cost to write, and takes one lock: every worker's count waits for it
 * that long.
 *
 * Locking: appstats.lock guards everything here; workers take it once
 * per request, and nothing else is taken under it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgsse.h"
#include "pgsse-app.h"
#include "extern.h"
#include "http.h"
#include "metrics.h"

/* Method and route pairs counted apart at most. */
#define APPSTATS_SERIES_MAX (2 * PGSSE_APP_ROUTES_MAX)

/* Upper bounds, in seconds, of the request latency histogram. */
static const double latency_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10,
};

struct appstats_series {
	const char		*route;		/* for good */
	const char		*method;	/* static */
	uint64_t		 status[PGSSE_HTTP__MAX];
	struct pgsse_metrics_hist latency;
};

static struct {
	pthread_mutex_t		 lock;
	const char		*program;
	const char		*path;		/* of the page, or NULL */
	time_t			 started;
	struct appstats_series	 v[APPSTATS_SERIES_MAX + 1];	/* + "other" */
	size_t			 n;
	uint64_t		 pipelines;	/* batches of statements */
	uint64_t		 pipelined;	/* statements in them */
} appstats = { PTHREAD_MUTEX_INITIALIZER, "pgsse-app", NULL, 0, {{0}}, 0,
    0, 0 };

/*
 * Starts counting for program (whose name the caller keeps): the page's
 * path is read from PGSSE_APP_METRICS_PATH, which must start with "/"
 * ("" turns the page off; anything else is ignored with a log line).
 * Can't fail.
 */
void
pgsse_appstats_start(const char *program)
{
	const char	*z = getenv("PGSSE_APP_METRICS_PATH");

	pthread_mutex_lock(&appstats.lock);
	appstats.program = program;
	appstats.started = time(NULL);
	appstats.path = PGSSE_APP_METRICS_PATH_DEFAULT;
	if (z != NULL && *z == '\0')
		appstats.path = NULL;
	else if (z != NULL && *z == '/' && strlen(z) <= PGSSE_APP_PATH_MAX)
		appstats.path = z;
	else if (z != NULL)
		pgsse_log(PGSSE_LOG_WARN, "%s: PGSSE_APP_METRICS_PATH must be "
		    "a path (/...) or empty: %s stays", program,
		    PGSSE_APP_METRICS_PATH_DEFAULT);
	pthread_mutex_unlock(&appstats.lock);
}

/* Returns the metrics page's path, or NULL if it is off. The
 * environment or a static string owns it. */
const char *
pgsse_appstats_path(void)
{
	const char	*z;

	pthread_mutex_lock(&appstats.lock);
	z = appstats.path;
	pthread_mutex_unlock(&appstats.lock);
	return z;
}

/*
 * Returns the series of method and route, added if new; the one of
 * method and route "other" past APPSTATS_SERIES_MAX or when memory runs
 * out. Called with the lock held.
 */
static struct appstats_series *
appstats_series(const char *method, const char *route)
{
	struct appstats_series	*s;
	char			*z;
	size_t			 i;

	for (i = 0; i < appstats.n; i++)
		if (appstats.v[i].method == method &&
		    strcmp(appstats.v[i].route, route) == 0)
			return &appstats.v[i];
	if (appstats.n < APPSTATS_SERIES_MAX && (z = strdup(route)) != NULL) {
		s = &appstats.v[appstats.n++];
		s->route = z;
		s->method = method;
	} else if ((s = &appstats.v[APPSTATS_SERIES_MAX])->route != NULL)
		return s;
	else
		s->route = s->method = "other";
	pgsse_metrics_hist_init(&s->latency, latency_bounds,
	    sizeof(latency_bounds) / sizeof(latency_bounds[0]));
	return s;
}

/*
 * Counts one request: its REQUEST_METHOD (any; NULL for none), the
 * pattern of the route that answered it (NULL: none did), its status
 * and how long it took. Can't fail.
 */
void
pgsse_appstats_count(const char *method, const char *route,
    enum pgsse_http_status st, double seconds)
{
	struct appstats_series	*s;

	method = method == NULL ? "other" : strcmp(method, "GET") == 0 ?
	    "GET" : strcmp(method, "POST") == 0 ? "POST" : "other";
	pthread_mutex_lock(&appstats.lock);
	s = appstats_series(method, route != NULL ? route : "unmatched");
	if ((unsigned)st < PGSSE_HTTP__MAX)
		s->status[st]++;
	pgsse_metrics_hist_observe(&s->latency, seconds);
	pthread_mutex_unlock(&appstats.lock);
}

/* Writes every series' families. Called with the lock held. Returns
 * PGSSE_ERR_NOMEM if memory ran out. */
static enum pgsse_err
appstats_series_write(struct pgsse_buf *b)
{
	struct pgsse_metrics_label	 l[3] = { { "method", NULL },
					     { "route", NULL },
					     { "status", NULL } };
	struct appstats_series		*s;
	char				 code[4];
	size_t				 i, n = appstats.n;
	int				 k;

	if (appstats.v[APPSTATS_SERIES_MAX].route != NULL)
		n = APPSTATS_SERIES_MAX + 1;
	if (pgsse_metrics_family(b, "pgsse_app_requests_total",
	    PGSSE_METRICS_COUNTER, "Requests answered, by method, route "
	    "pattern (unmatched: no route) and status.") != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if ((s = &appstats.v[i])->route == NULL)
			continue;
		l[0].value = s->method;
		l[1].value = s->route;
		for (k = 0; k < PGSSE_HTTP__MAX; k++) {
			if (s->status[k] == 0)
				continue;
			memcpy(code, pgsse_http_status_line(k), 3);
			code[3] = '\0';
			l[2].value = code;
			if (pgsse_metrics_value(b, "pgsse_app_requests_total",
			    l, 3, (double)s->status[k]) != PGSSE_OK)
				return PGSSE_ERR_NOMEM;
		}
	}
	if (pgsse_metrics_family(b, "pgsse_app_request_duration_seconds",
	    PGSSE_METRICS_HISTOGRAM, "From a request's start to its response "
	    "written, by method and route pattern.") != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if ((s = &appstats.v[i])->route == NULL)
			continue;
		l[0].value = s->method;
		l[1].value = s->route;
		if (pgsse_metrics_hist(b, "pgsse_app_request_duration_seconds",
		    l, 2, &s->latency) != PGSSE_OK)
			return PGSSE_ERR_NOMEM;
	}
	return PGSSE_OK;
}

/* Counts a pipeline that ran n requests' statements together. */
void
pgsse_appstats_pipeline(size_t n)
{
	pthread_mutex_lock(&appstats.lock);
	appstats.pipelines++;
	appstats.pipelined += n;
	pthread_mutex_unlock(&appstats.lock);
}

/* Appends the pipelines' counters to b. Returns PGSSE_ERR_NOMEM if
 * memory ran out. */
static enum pgsse_err
appstats_pipelines_write(struct pgsse_buf *b)
{
	if (pgsse_metrics_family(b, "pgsse_app_pipelines_total",
	    PGSSE_METRICS_COUNTER, "Round trips that ran the statements of "
	    "several requests together (declared GET routes).") != PGSSE_OK ||
	    pgsse_metrics_value(b, "pgsse_app_pipelines_total", NULL, 0,
	    (double)appstats.pipelines) != PGSSE_OK ||
	    pgsse_metrics_family(b, "pgsse_app_pipelined_statements_total",
	    PGSSE_METRICS_COUNTER, "Requests' statements run in those round "
	    "trips.") != PGSSE_OK ||
	    pgsse_metrics_value(b, "pgsse_app_pipelined_statements_total",
	    NULL, 0, (double)appstats.pipelined) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	return PGSSE_OK;
}

/*
 * Appends the whole metrics page, CGI header first, to b. Returns
 * PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_appstats_page(struct pgsse_buf *b)
{
	enum pgsse_err	 er = PGSSE_ERR_NOMEM;

	pthread_mutex_lock(&appstats.lock);
	if (pgsse_metrics_header(b) == PGSSE_OK &&
	    pgsse_metrics_process(b, appstats.program, appstats.started) ==
	    PGSSE_OK)
		er = appstats_series_write(b);
	if (er == PGSSE_OK)
		er = appstats_pipelines_write(b);
	pthread_mutex_unlock(&appstats.lock);
	return er;
}
