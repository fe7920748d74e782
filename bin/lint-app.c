/*
 * lint-app.c: pgsse-lint --app DIR, the checks of an app folder
 * (docs/FRAGMENTS.md describes the folder). With the registry made of
 * pgsse's core channels and DIR/registry.json, it checks:
 *  - the templates (DIR/templates/, where a fragment's sse: names may
 *    be of any channel, since the page around it has the sse-connect)
 *    and the pages and scripts (DIR/www/) as pgsse-lint checks a tree's;
 *  - every hx-get, hx-post, hx-put, hx-patch and hx-delete target of
 *    this site against the routes of DIR/app.json and their methods (a
 *    {{...}} segment of a template's target matches any segment, a
 *    <name> segment of a route any but an empty one; /api/ is the
 *    stream program's and a GET of a file under DIR/www/ is static);
 *  - that every event htmx.trigger() sends has a listener: an
 *    hx-trigger, an hx-on:, an Alpine x-on:/@ or an addEventListener;
 *  - the publishers of DIR/app.json, DIR/sql/, DIR/schema.sql and the
 *    job scripts, and the job kinds (lint-job.c);
 *  - that the engine loads the folder (lib/appdef.c), so that what
 *    pgsse-app would refuse, such as an interpolation into a URL or
 *    script attribute without an escaper, fails the lint too.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pgsse.h"
#include "pgsse-app.h"
#include "extern.h"
#include "registry.h"
#include "appdef.h"
#include "lint.h"

/* Folder levels under DIR/www/ that are searched for pages. */
#define LINT_APP_DEPTH_MAX 8
/* Bytes of the engine's error message. */
#define LINT_APP_ERR_MAX 1024

/*
 * The core registry, which every app has: the runner's lifecycle
 * events, per-job progress and job log lines (SSE_EVENTS.md).
 */
static const char core_registry[] = "{\"channels\": ["
    "{\"name\": \"logs\", \"description\": \"Job and service output\", "
    "\"events\": [{\"name\": \"log\", \"description\": \"A line\", "
    "\"fields\": {\"source\": \"string\", \"line\": \"string\"}}]}, "
    "{\"name\": \"operations\", \"description\": \"Every job's state\", "
    "\"events\": [{\"name\": \"operation_status\", \"description\": "
    "\"A job changed state\", \"fields\": {\"job_id\": \"integer\", "
    "\"kind\": \"string\", \"state\": \"string\"}}]}, "
    "{\"name\": \"job\", \"description\": \"Per-job progress\", "
    "\"events\": [{\"name\": \"progress\", \"description\": \"Progress\", "
    "\"fields\": {\"job_id\": \"integer\", \"percent\": \"integer\", "
    "\"step\": \"string\"}}, {\"name\": \"complete\", \"description\": "
    "\"The job ended\", \"fields\": {\"job_id\": \"integer\", "
    "\"state\": \"string\"}}]}]}";

/* A growing list of strings, each with the place it was seen. */
struct names {
	char	**v;
	char	**file;
	int	 *line;
	size_t	  n;
};

struct route {
	char			*pattern;
	enum pgsse_method	 method;
};

static const char	*app_dir;
static struct route	*routes;
static size_t		 nroutes;
static int		 have_routes;
static struct names	 listeners, triggers;

/* Adds z, seen at file:line (file may be NULL), to l. Aborts on OOM. */
static void
names_add(struct names *l, const char *z, size_t len, const char *file,
    int line)
{
	if ((l->v = reallocarray(l->v, l->n + 1, sizeof(*l->v))) == NULL ||
	    (l->file = reallocarray(l->file, l->n + 1, sizeof(*l->file))) ==
	    NULL || (l->line = reallocarray(l->line, l->n + 1,
	    sizeof(*l->line))) == NULL ||
	    (l->v[l->n] = strndup(z, len)) == NULL ||
	    (l->file[l->n] = strdup(file ? file : "")) == NULL)
		abort();
	l->line[l->n++] = line;
}

/* Returns 1 if l holds z. */
static int
names_has(const struct names *l, const char *z)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], z) == 0)
			return 1;
	return 0;
}

/* Frees what l holds and empties it. */
static void
names_free(struct names *l)
{
	while (l->n > 0) {
		l->n--;
		free(l->v[l->n]);
		free(l->file[l->n]);
	}
	free(l->v);
	free(l->file);
	free(l->line);
	memset(l, 0, sizeof(*l));
}

/*
 * Adds the channels of the registry document text to the core document
 * core, but those named like a core channel (core registry r).
 */
static void
app_merge(struct json_object *core, const struct pgsse_registry *r,
    const char *text)
{
	struct json_object	*app, *cch, *ach, *c, *name;
	size_t			 i;

	if ((app = json_tokener_parse(text)) == NULL ||
	    !json_object_object_get_ex(core, "channels", &cch) ||
	    !json_object_object_get_ex(app, "channels", &ach))
		abort();
	for (i = 0; i < json_object_array_length(ach); i++) {
		c = json_object_array_get_idx(ach, i);
		if (json_object_object_get_ex(c, "name", &name) &&
		    pgsse_registry_channel(r,
		    json_object_get_string(name)) == NULL &&
		    json_object_array_add(cch, json_object_get(c)) != 0)
			abort();
	}
	json_object_put(app);
}

/*
 * Builds the registry of the core channels and those of
 * DIR/registry.json, if there is one; a channel named like a core one is
 * the core's. Returns NULL with a finding if the app's registry is bad.
 * The caller frees the result with pgsse_registry_free.
 */
static struct pgsse_registry *
app_registry(const char *dir)
{
	struct pgsse_registry	*core_r, *r = NULL;
	struct pgsse_buf	 err = { NULL, 0, 0 };
	struct json_object	*core;
	char			 path[PATH_MAX], *text;

	snprintf(path, sizeof(path), "%s/registry.json", dir);
	if ((core = json_tokener_parse(core_registry)) == NULL ||
	    (core_r = pgsse_registry_parse(core_registry, &err)) == NULL)
		abort();
	if ((text = lint_slurp(path)) != NULL) {
		if ((r = pgsse_registry_parse(text, &err)) == NULL) {
			lint_fail(path, 1, "%s", err.p ? err.p :
			    "out of memory");
			goto out;
		}
		pgsse_registry_free(r);
		app_merge(core, core_r, text);
	}
	r = pgsse_registry_parse(json_object_to_json_string(core), &err);
	if (r == NULL)
		lint_fail(path, 1, "%s", err.p ? err.p : "out of memory");
out:
	free(text);
	pgsse_registry_free(core_r);
	json_object_put(core);
	pgsse_buf_free(&err);
	return r;
}

/*
 * Reads the routes of DIR/app.json into routes. Leaves have_routes 0 if
 * it cannot: the engine's load says why.
 */
static void
app_routes(const char *dir)
{
	static const char *const keys[2] = { "fragments", "actions" };
	struct json_object	*root, *arr, *v;
	char			 path[PATH_MAX];
	size_t			 k, i, n;

	snprintf(path, sizeof(path), "%s/app.json", dir);
	if ((root = json_object_from_file(path)) == NULL)
		return;
	for (k = 0; k < 2; k++) {
		if (!json_object_object_get_ex(root, keys[k], &arr) ||
		    !json_object_is_type(arr, json_type_array))
			continue;
		n = json_object_array_length(arr);
		if ((routes = reallocarray(routes, nroutes + n,
		    sizeof(*routes))) == NULL)
			abort();
		for (i = 0; i < n; i++)
			if (json_object_object_get_ex(
			    json_object_array_get_idx(arr, i), "route", &v) &&
			    json_object_is_type(v, json_type_string)) {
				routes[nroutes].method = k == 0 ?
				    PGSSE_METHOD_GET : PGSSE_METHOD_POST;
				if ((routes[nroutes++].pattern = strdup(
				    json_object_get_string(v))) == NULL)
					abort();
			}
	}
	have_routes = 1;
	json_object_put(root);
}

/*
 * Returns 1 if the target path t (its {{...}} segments matching any
 * segment) is one that route pattern p matches.
 */
static int
path_match(const char *t, const char *p)
{
	size_t	 tn, pn;

	while (*t == '/' && *p == '/') {
		t++;
		p++;
		tn = strcspn(t, "/");
		pn = strcspn(p, "/");
		if (!(pn > 2 && p[0] == '<' && p[pn - 1] == '>' && tn > 0) &&
		    memmem(t, tn, "{{", 2) == NULL &&
		    (tn != pn || strncmp(t, p, tn) != 0))
			return 0;
		t += tn;
		p += pn;
	}
	return *t == '\0' && *p == '\0';
}

/* Returns 1 if path names a file under DIR/www/. */
static int
static_file(const char *path)
{
	struct stat	 st;
	char		 f[PATH_MAX];

	snprintf(f, sizeof(f), "%s/www%s", app_dir, path);
	return strstr(path, "..") == NULL && stat(f, &st) == 0 &&
	    S_ISREG(st.st_mode);
}

/*
 * Checks the target val of attribute attr (hx-get and the like, at
 * file:line) against the routes of app.json and their methods.
 */
static void
check_target(const char *file, int line, const char *attr, const char *val)
{
	char			 path[PGSSE_APP_PATH_MAX * 8], verb[8];
	enum pgsse_method	 m = PGSSE_METHOD__MAX, other = m;
	size_t			 i;

	if (!have_routes || val[0] != '/' || val[1] == '/' ||
	    strncmp(val, "/api/", 5) == 0)
		return;
	for (i = 0; i + 1 < sizeof(verb) && attr[3 + i] != '\0'; i++)
		verb[i] = (char)toupper((unsigned char)attr[3 + i]);
	verb[i] = '\0';
	if (strcmp(verb, "GET") == 0)
		m = PGSSE_METHOD_GET;
	else if (strcmp(verb, "POST") == 0)
		m = PGSSE_METHOD_POST;
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(val, "?#"), val);
	if (m == PGSSE_METHOD_GET && static_file(path))
		return;
	for (i = 0; i < nroutes; i++)
		if (path_match(path, routes[i].pattern)) {
			if (routes[i].method == m)
				return;
			other = routes[i].method;
		}
	if (other == PGSSE_METHOD__MAX)
		lint_fail(file, line, "%s target \"%s\" matches no route of "
		    "app.json", attr, val);
	else
		lint_fail(file, line, "%s target \"%s\" is a route of app.json "
		    "for %s, not %s", attr, val, other == PGSSE_METHOD_GET ?
		    "GET" : "POST", verb);
}

/* Remembers the event names an hx-trigger value listens for. */
static void
add_listeners(const char *v)
{
	size_t	 n;

	for (;;) {
		v += strspn(v, " \t\r\n,");
		if ((n = strcspn(v, " \t\r\n,[")) == 0)
			return;
		if (strncmp(v, "sse:", 4) != 0 && strncmp(v, "every", n) != 0)
			names_add(&listeners, v, n, NULL, 0);
		v += strcspn(v, ",");
	}
}

/* The attribute hook: targets, and listeners of triggered events. */
static void
on_attr(const char *file, int line, const char *name, const char *val)
{
	if (strncmp(name, "data-hx-", 8) == 0)
		name += 5;
	if (strcmp(name, "hx-trigger") == 0)
		add_listeners(val);
	else if (strncmp(name, "hx-on:", 6) == 0 ||
	    strncmp(name, "hx-on-", 6) == 0)
		names_add(&listeners, name + 6, strlen(name + 6), NULL, 0);
	else if (strncmp(name, "x-on:", 5) == 0)
		names_add(&listeners, name + 5, strcspn(name + 5, "."),
		    NULL, 0);
	else if (name[0] == '@')
		names_add(&listeners, name + 1, strcspn(name + 1, "."),
		    NULL, 0);
	else if (strcmp(name, "hx-get") == 0 || strcmp(name, "hx-post") == 0 ||
	    strcmp(name, "hx-put") == 0 || strcmp(name, "hx-patch") == 0 ||
	    strcmp(name, "hx-delete") == 0)
		check_target(file, line, name, val);
}

static void
on_trigger(const char *file, int line, char g[][128], size_t n)
{
	(void)n;
	if (strncmp(g[1], "sse:", 4) != 0)
		names_add(&triggers, g[1], strlen(g[1]), file, line);
}

static void
on_listener(const char *file, int line, char g[][128], size_t n)
{
	(void)file;
	(void)line;
	(void)n;
	names_add(&listeners, g[0], strlen(g[0]), NULL, 0);
}

/* The script hook: htmx.trigger() calls and addEventListener()s. */
static void
on_js(const char *file, const char *text)
{
	lint_each_match(file, text, "htmx\\.trigger\\(([^,'\"()]|'[^']*'|"
	    "\"[^\"]*\"|\\([^()]*\\))*,[ ]*['\"]([^'\"]+)['\"]", on_trigger);
	lint_each_match(file, text, "addEventListener\\([ ]*['\"]([^'\"]+)"
	    "['\"]", on_listener);
}

/* Every event htmx.trigger() sends must have a listener. */
static void
check_triggers(void)
{
	size_t	 i;

	for (i = 0; i < triggers.n; i++)
		if (!names_has(&listeners, triggers.v[i]))
			lint_fail(triggers.file[i], triggers.line[i],
			    "htmx.trigger of \"%s\", which no hx-trigger "
			    "listens for", triggers.v[i]);
}

/*
 * Calls fn for each regular file under dir, in name order, and for those
 * in its folders to depth levels (but dot-folders, vendor and
 * node_modules).
 */
void
lint_walk(const char *dir, int depth, void (*fn)(const char *))
{
	struct dirent	**ents;
	struct stat	  st;
	char		  path[PATH_MAX];
	const char	 *z;
	int		  i, n;

	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0)
		return;
	for (i = 0; i < n; i++) {
		z = ents[i]->d_name;
		snprintf(path, sizeof(path), "%s/%s", dir, z);
		if (z[0] != '.' && stat(path, &st) == 0) {
			if (S_ISREG(st.st_mode))
				fn(path);
			else if (S_ISDIR(st.st_mode) && depth > 0 &&
			    strcmp(z, "vendor") != 0 &&
			    strcmp(z, "node_modules") != 0)
				lint_walk(path, depth - 1, fn);
		}
		free(ents[i]);
	}
	free(ents);
}

/* Remembers the Alpine components of a page's script. */
static void
on_funcs(const char *path)
{
	char	*text = NULL;

	if (lint_ends_with(path, ".js") && (text = lint_slurp(path)) != NULL)
		lint_collect_funcs(text);
	free(text);
}

/* Checks a template: its sse: names may be of any channel. */
static void
on_template(const char *path)
{
	char	*text;

	if ((text = lint_slurp(path)) == NULL)
		return;
	lint_loose = 1;
	lint_html(path, text);
	lint_loose = 0;
	free(text);
}

/* Checks a page or a script of DIR/www/. */
static void
on_page(const char *path)
{
	char	*text = NULL;

	if (lint_ends_with(path, ".html") && (text = lint_slurp(path)))
		lint_html(path, text);
	else if (lint_ends_with(path, ".js") && (text = lint_slurp(path)))
		lint_js(path, text);
	free(text);
}

/*
 * Checks the publishers of the file at path; the pgsse-publish(1)
 * commands too if shell (a job script).
 */
static void
publishers(const char *path, int shell)
{
	char	*text;

	if ((text = lint_slurp(path)) == NULL)
		return;
	lint_publishers(path, text, 0);
	lint_job_publish(path, text, shell);
	free(text);
}

static void
on_sql(const char *path)
{
	publishers(path, 0);
}

static void
on_job(const char *path)
{
	publishers(path, 1);
}

/*
 * Loads the folder with the engine, and reports what it refuses as
 * "file:line: message (column N)".
 */
static void
app_engine(const char *dir)
{
	struct pgsse_appdef	*def;
	char			 err[LINT_APP_ERR_MAX], app[PATH_MAX], *p, *e;
	long			 line = 0, col = 0;

	if ((def = pgsse_appdef_load(dir, err, sizeof(err))) != NULL) {
		pgsse_appdef_release(def);
		return;
	}
	/* "file:line:col: message", or "file: message". */
	for (p = err; (p = strchr(p, ':')) != NULL; p++)
		if ((line = strtol(p + 1, &e, 10)) > 0 && *e == ':' &&
		    (col = strtol(e + 1, &e, 10)) > 0 && e[0] == ':' &&
		    e[1] == ' ')
			break;
	snprintf(app, sizeof(app), "%s/app.json", dir);
	if (p == NULL)
		lint_fail(app, 1, "%s", err);
	else {
		*p = '\0';
		lint_fail(err, (int)line, "%s (column %ld)", e + 2, col);
	}
}

/* Checks the publishers of the folder's SQL, and its job scripts. */
static void
app_publishers(const char *dir)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/app.json", dir);
	on_sql(path);
	snprintf(path, sizeof(path), "%s/schema.sql", dir);
	if (access(path, F_OK) == 0)
		on_sql(path);
	snprintf(path, sizeof(path), "%s/sql", dir);
	lint_walk(path, 0, on_sql);
	snprintf(path, sizeof(path), "%s/jobs", dir);
	lint_walk(path, 0, on_job);
}

/*
 * Checks the app folder dir, printing each finding. Returns -1 if dir is
 * not a folder, else 0 (lint_errors counts the findings).
 */
int
lint_app(const char *dir)
{
	static const struct lint_hooks	 hooks = { on_attr, on_js };
	struct pgsse_registry		*r;
	struct stat			 st;
	char				 www[PATH_MAX], tmpl[PATH_MAX];
	size_t				 i;

	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return -1;
	if ((r = app_registry(dir)) == NULL)
		return 0;
	app_dir = dir;
	lint_reg = r;
	lint_hooks = &hooks;
	snprintf(www, sizeof(www), "%s/www", dir);
	snprintf(tmpl, sizeof(tmpl), "%s/templates", dir);
	app_routes(dir);
	app_engine(dir);
	lint_walk(www, LINT_APP_DEPTH_MAX, on_funcs);
	lint_walk(tmpl, 0, on_template);
	lint_walk(www, LINT_APP_DEPTH_MAX, on_page);
	check_triggers();
	app_publishers(dir);
	lint_job_kinds(dir);
	lint_hooks = NULL;
	lint_reg = NULL;
	pgsse_registry_free(r);
	for (i = 0; i < nroutes; i++)
		free(routes[i].pattern);
	free(routes);
	names_free(&listeners);
	names_free(&triggers);
	return 0;
}
