/*
 * appdef.c: an app folder's declared fragments and actions, loaded into
 * an immutable snapshot and served through the public fragment API.
 *
 * The folder. DIR/app.json declares "fragments" (GET routes) and
 * "actions" (POST routes). Each has a route pattern, one SQL statement
 * (inline, or a file under DIR/sql/), typed parameters taken from the
 * route's segments, the query string, the form or the request's user,
 * a Mustache template under DIR/templates/ (partials from there too)
 * and htmx headers. docs/FRAGMENTS.md describes the format.
 *
 * Loading checks everything that can be checked without the database:
 * the JSON, every key and its type, the route patterns and their
 * uniqueness, the parameters and their defaults, the SQL's presence and
 * encoding, and each template, parsed with the HTML-context check of
 * mustache.c. An error names the file, line and column: json-c's
 * tokener gives the offset of a syntax error; for the rest, the loader
 * keeps the JSON pointer of what it checks (/actions/1/params/0/type)
 * and finds its offset by scanning the text again (def_locate), which
 * is valid JSON by then.
 *
 * Serving. A request's parameters are checked in declared order before
 * any SQL runs; a bad or missing one is answered 400 with its name. The
 * statement gets them as bound text (pgsse_app_queryv prepares it once
 * per connection); casts are the SQL's business. The result becomes the
 * template's data as json-c values typed by column OID, and the htmx
 * headers take {{column}}s from its first row, unescaped, through
 * pgsse_app_hx, which refuses control bytes. A snapshot is never
 * changed once loaded: app.c swaps in a new one on SIGHUP, and each
 * request holds a reference to the one it started with.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pgsse.h"
#include "pgsse-app.h"
#include "extern.h"
#include "appdef.h"
#include "mustache.h"

/* Bytes of a parameter's name. */
#define DEF_NAME_MAX 63
/* Bytes of a file name under templates/ or sql/. */
#define DEF_FILE_NAME_MAX 255
/* Levels of the JSON pointer the loader keeps. */
#define DEF_DEPTH_MAX 6

/* Type OIDs (PostgreSQL's pg_type.dat) that are not JSON strings. */
#define OID_BOOL	16
#define OID_INT8	20
#define OID_INT2	21
#define OID_INT4	23
#define OID_JSON	114
#define OID_FLOAT4	700
#define OID_FLOAT8	701
#define OID_JSONB	3802
/* Columns of a result a template is rendered from in place; a wider one
 * is made into JSON first. */
#define DEF_TABLE_COLS	64

enum def_src {
	SRC_ROUTE,
	SRC_QUERY,
	SRC_FORM,
	SRC_USER,
	SRC__MAX
};

enum def_type {
	TYPE_TEXT,
	TYPE_INT,
	TYPE_BOOL,
	TYPE__MAX
};

static const char *const srcs[SRC__MAX] = { "route", "query", "form",
    "user" };
static const char *const types[TYPE__MAX] = { "text", "int", "bool" };
static const char *const hx_keys[PGSSE_HX__MAX] = { "trigger", "retarget",
    "reswap", "redirect", "refresh", "push_url" };

struct def_param {
	char		*name;
	enum def_src	 src;
	enum def_type	 type;
	size_t		 maxlen;	/* text: bytes */
	long long	 min;		/* int */
	long long	 max;
	int		 optional;	/* missing is SQL NULL */
	char		*dflt;		/* missing is this, normalised */
};

struct def_route {
	char			*sql;
	struct def_param	 params[PGSSE_APP_PARAMS_MAX];
	size_t			 nparams;
	struct pgsse_mustache	*tmpl;		/* NULL: none */
	char			*hx[PGSSE_HX__MAX];	/* NULL: not sent */
	char			*where;		/* "DIR/app.json:12", for logs */
};

struct pgsse_appdef {
	atomic_int		 refs;
	unsigned long		 gen;
	struct pgsse_route	*routes;	/* nroutes, then a NULL pattern */
	struct def_route	*defs;
	size_t			 nroutes;
	size_t			 nactions;
};

/* Generations of loaded snapshots, so that a worker sees a new one. */
static atomic_ulong def_gens;

/* A load: the folder, app.json's text, where the check stands. */
struct loader {
	const char	*dir;
	char		 file[PATH_MAX];
	const char	*z;
	size_t		 len;
	const char	*path[DEF_DEPTH_MAX];
	char		 idx[DEF_DEPTH_MAX][24];
	size_t		 depth;
	char		*err;
	size_t		 errsz;
};

/*
 * Sets *line and *col (from 1) of byte off of the len bytes of z.
 * Can't fail.
 */
static void
def_linecol(const char *z, size_t len, size_t off, size_t *line,
    size_t *col)
{
	size_t	 i;

	*line = *col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (z[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if ((z[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

/* Returns the offset of the first byte at or after i that is no space. */
static size_t
def_ws(const char *z, size_t len, size_t i)
{
	while (i < len && strchr(" \t\r\n", z[i]) != NULL && z[i] != '\0')
		i++;
	return i;
}

/* Returns the offset after the JSON value at i of valid JSON text. */
static size_t
def_skip(const char *z, size_t len, size_t i)
{
	int	 depth = 0;

	do {
		i = def_ws(z, len, i);
		if (i >= len)
			return len;
		if (z[i] == '"') {
			for (i++; i < len && z[i] != '"'; i++)
				if (z[i] == '\\')
					i++;
			i++;
		} else if (z[i] == '{' || z[i] == '[') {
			depth++;
			i++;
		} else if (z[i] == '}' || z[i] == ']') {
			depth--;
			i++;
		} else if (z[i] == ',' || z[i] == ':')
			i++;
		else
			while (i < len && strchr(",:]} \t\r\n", z[i]) == NULL)
				i++;
	} while (depth > 0 && i < len);
	return i;
}

/*
 * Returns the offset in app.json of the value at the loader's JSON
 * pointer, or of the nearest enclosing one that can be found.
 */
static size_t
def_locate(const struct loader *ld)
{
	const char	*z = ld->z, *key;
	size_t		 len = ld->len, i, k, j, want, start, end;

	i = def_ws(z, len, 0);
	for (k = 0; k < ld->depth && i < len; k++) {
		key = ld->path[k];
		if (z[i] == '[') {
			want = strtoul(key, NULL, 10);
			for (i++, j = 0; ; j++) {
				i = def_ws(z, len, i);
				if (i >= len || z[i] == ']')
					return i;
				if (j == want)
					break;
				i = def_ws(z, len, def_skip(z, len, i));
				if (i < len && z[i] == ',')
					i++;
			}
			continue;
		}
		if (z[i] != '{')
			return i;
		for (i++; ; ) {
			i = def_ws(z, len, i);
			if (i >= len || z[i] != '"')
				return i;
			start = i + 1;
			end = def_skip(z, len, i);
			i = def_ws(z, len, end);
			if (i < len && z[i] == ':')
				i = def_ws(z, len, i + 1);
			if (end - start - 1 == strlen(key) &&
			    memcmp(z + start, key, end - start - 1) == 0)
				break;
			i = def_ws(z, len, def_skip(z, len, i));
			if (i < len && z[i] == ',')
				i++;
		}
	}
	return i;
}

/*
 * Writes "file:line:col: /json/pointer/key: message" into the loader's
 * error buffer, the place being that of key (NULL: of the pointer
 * itself) in app.json. Returns -1.
 */
static int
def_fail(struct loader *ld, const char *key, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 line, col, n, i;
	int	 pushed = 0;

	if (key != NULL && ld->depth < DEF_DEPTH_MAX) {
		ld->path[ld->depth++] = key;
		pushed = 1;
	}
	def_linecol(ld->z, ld->len, def_locate(ld), &line, &col);
	n = (size_t)snprintf(ld->err, ld->errsz, "%s:%zu:%zu: ", ld->file,
	    line, col);
	for (i = 0; i < ld->depth && n < ld->errsz; i++)
		n += (size_t)snprintf(ld->err + n, ld->errsz - n, "/%s",
		    ld->path[i]);
	if (ld->depth > 0 && n < ld->errsz)
		n += (size_t)snprintf(ld->err + n, ld->errsz - n, ": ");
	if (n < ld->errsz) {
		va_start(ap, fmt);
		vsnprintf(ld->err + n, ld->errsz - n, fmt, ap);
		va_end(ap);
	}
	if (pushed)
		ld->depth--;
	return -1;
}

/* Enters key (or, if NULL, index i) of the value being checked. */
static void
def_push(struct loader *ld, const char *key, size_t i)
{
	if (ld->depth == DEF_DEPTH_MAX)
		return;
	if (key == NULL) {
		snprintf(ld->idx[ld->depth], sizeof(ld->idx[0]), "%zu", i);
		key = ld->idx[ld->depth];
	}
	ld->path[ld->depth++] = key;
}

/* Leaves the key or index entered last. */
static void
def_pop(struct loader *ld)
{
	if (ld->depth > 0)
		ld->depth--;
}

/*
 * Reads the file at path, of at most PGSSE_APP_FILE_MAX bytes and no
 * NUL, into a new NUL-terminated buffer that the caller frees, its
 * length in *len. Returns NULL with "path: why" in err.
 */
static char *
def_read(const char *path, size_t *len, char *err, size_t errsz)
{
	struct stat	 st;
	char		*z = NULL;
	ssize_t		 r;
	size_t		 got = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > PGSSE_APP_FILE_MAX) {
		snprintf(err, errsz, "%s: larger than %u bytes "
		    "(PGSSE_APP_FILE_MAX)", path, PGSSE_APP_FILE_MAX);
		goto out;
	}
	if ((z = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size &&
	    (r = read(fd, z + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	z[got] = '\0';
	if (got != (size_t)st.st_size || memchr(z, '\0', got) != NULL) {
		snprintf(err, errsz, got != (size_t)st.st_size ? "%s: read "
		    "failed" : "%s: holds a NUL byte", path);
		free(z);
		z = NULL;
		goto out;
	}
	*len = got;
out:
	close(fd);
	return z;
}

/*
 * Returns 1 if z names a file under the folder: segments of letters,
 * digits, '_', '-' and '.', none empty or starting with '.', joined by
 * '/'. Can't fail.
 */
static int
def_file_ok(const char *z)
{
	size_t	 n = strlen(z), i;

	if (n == 0 || n > DEF_FILE_NAME_MAX || strspn(z, "abcdefghijklmnopqrs"
	    "tuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./") != n)
		return 0;
	for (i = 0; i < n; i++)
		if ((i == 0 || z[i - 1] == '/') && (z[i] == '.' || z[i] == '/'))
			return 0;
	return z[n - 1] != '/';
}

/* Returns 1 if z is a parameter's or column's name. Can't fail. */
static int
def_name_ok(const char *z, size_t n)
{
	return n > 0 && n <= DEF_NAME_MAX && strspn(z, "abcdefghijklmnopqrstu"
	    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") >= n;
}

/*
 * Checks value z of parameter p. Sets *bound to what the SQL gets: z
 * itself, or its normal form written into num (24 bytes). Returns 0, or
 * -1 with the complaint in why (whysz bytes). Can't fail otherwise.
 */
static int
def_value(const struct def_param *p, const char *z, const char **bound,
    char *num, char *why, size_t whysz)
{
	static const char *const yes[] = { "true", "1", "on", NULL };
	static const char *const no[] = { "false", "0", "off", NULL };
	const unsigned char	*u = (const unsigned char *)z;
	size_t			 n = strlen(z), i, k;
	long long		 v;
	char			*end;

	*bound = z;
	switch (p->type) {
	case TYPE_TEXT:
		if (n > p->maxlen) {
			snprintf(why, whysz, "longer than %zu bytes",
			    p->maxlen);
			return -1;
		}
		for (i = 0; i < n; i += k)
			if ((k = pgsse_utf8_len(u + i, n - i)) == 0) {
				snprintf(why, whysz, "not UTF-8 text");
				return -1;
			}
		return 0;
	case TYPE_INT:
		errno = 0;
		v = strtoll(z, &end, 10);
		if ((*z != '-' && (*z < '0' || *z > '9')) || *end != '\0' ||
		    errno != 0 || v < p->min || v > p->max) {
			snprintf(why, whysz, "an integer from %lld to %lld, "
			    "please", p->min, p->max);
			return -1;
		}
		snprintf(num, 24, "%lld", v);
		*bound = num;
		return 0;
	default:
		for (i = 0; yes[i] != NULL; i++)
			if (strcmp(z, yes[i]) == 0 || strcmp(z, no[i]) == 0) {
				*bound = strcmp(z, yes[i]) == 0 ? "true" :
				    "false";
				return 0;
			}
		snprintf(why, whysz, "true or false (1 or 0, on or off), "
		    "please");
		return -1;
	}
}

/*
 * Looks up key in object o: sets *v and returns 1 if it is there and of
 * type t, 0 if it is absent, -1 (error written) if it has another type.
 */
static int
def_get(struct loader *ld, struct json_object *o, const char *key,
    enum json_type t, struct json_object **v)
{
	static const char *const names[] = { "null", "a boolean", "a number",
	    "a number", "an object", "an array", "a string" };

	if (!json_object_object_get_ex(o, key, v))
		return 0;
	if (json_object_is_type(*v, t) || (t == json_type_double &&
	    json_object_is_type(*v, json_type_int)))
		return 1;
	return def_fail(ld, key, "must be %s", names[t]);
}

/*
 * Returns -1 (error written) if object o has a key other than those in
 * the NULL-terminated keys.
 */
static int
def_keys(struct loader *ld, struct json_object *o, const char *const *keys)
{
	size_t	 i;

	json_object_object_foreach(o, key, val) {
		(void)val;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (keys[i] == NULL)
			return def_fail(ld, key, "unknown key \"%s\"", key);
	}
	return 0;
}

/*
 * Returns the index of z in the n strings of names, or n (error
 * written, naming what) if it is none of them.
 */
static size_t
def_pick(struct loader *ld, const char *key, const char *z,
    const char *const *names, size_t n, const char *what)
{
	char	 list[128];
	size_t	 i, len = 0;

	for (i = 0; i < n; i++)
		if (strcmp(z, names[i]) == 0)
			return i;
	list[0] = '\0';
	for (i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
	def_fail(ld, key, "unknown %s \"%s\" (%s)", what, z, list);
	return n;
}

/* Reads a parameter's integer bound key into *v; -1 on error. */
static int
def_bound(struct loader *ld, struct json_object *o, const char *key,
    long long *v)
{
	struct json_object	*j;
	int			 r;

	if ((r = def_get(ld, o, key, json_type_int, &j)) <= 0)
		return r;
	*v = (long long)json_object_get_int64(j);
	return 0;
}

/*
 * Checks parameter o of a route with pattern (GET if get) into p, whose
 * name must differ from the n before it. Returns -1 with the error.
 */
static int
def_param(struct loader *ld, struct json_object *o, const char *pattern,
    int get, struct def_param *p, const struct def_param *before, size_t n)
{
	static const char *const keys[] = { "name", "from", "type", "max_len",
	    "min", "max", "optional", "default", "description", NULL };
	struct json_object	*v;
	const char		*z, *bound;
	char			 num[24], why[128];
	size_t			 i;
	int			 r;

	if (!json_object_is_type(o, json_type_object))
		return def_fail(ld, NULL, "a parameter is an object: "
		    "{\"name\": ..., \"from\": ..., \"type\": ...}");
	if (def_keys(ld, o, keys) == -1)
		return -1;
	if ((r = def_get(ld, o, "name", json_type_string, &v)) <= 0)
		return r == 0 ? def_fail(ld, NULL, "\"name\" is missing") : -1;
	z = json_object_get_string(v);
	if (!def_name_ok(z, strlen(z)))
		return def_fail(ld, "name", "\"%s\" is not a name: 1 to %d "
		    "letters, digits or _", z, DEF_NAME_MAX);
	for (i = 0; i < n; i++)
		if (strcmp(before[i].name, z) == 0)
			return def_fail(ld, "name", "a second parameter "
			    "\"%s\"", z);
	if ((p->name = strdup(z)) == NULL)
		return def_fail(ld, NULL, "out of memory");
	if ((r = def_get(ld, o, "from", json_type_string, &v)) <= 0)
		return r == 0 ? def_fail(ld, NULL, "\"from\" is missing: "
		    "route, query, form or user") : -1;
	if ((p->src = def_pick(ld, "from", json_object_get_string(v), srcs,
	    SRC__MAX, "source")) == SRC__MAX)
		return -1;
	p->type = TYPE_TEXT;
	if ((r = def_get(ld, o, "type", json_type_string, &v)) == -1 ||
	    (r == 1 && (p->type = def_pick(ld, "type",
	    json_object_get_string(v), types, TYPE__MAX, "type")) ==
	    TYPE__MAX))
		return -1;
	if (p->src == SRC_ROUTE && pgsse_route_arg(pattern, p->name) < 0)
		return def_fail(ld, "from", "the route %s has no segment "
		    "<%s>", pattern, p->name);
	if (p->src == SRC_FORM && get)
		return def_fail(ld, "from", "a fragment (GET) has no form: "
		    "take \"%s\" from the query", p->name);
	if (p->src == SRC_USER && p->type != TYPE_TEXT)
		return def_fail(ld, "type", "the user is text");
	p->maxlen = PGSSE_APP_TEXT_MAX;
	if ((r = def_get(ld, o, "max_len", json_type_int, &v)) == -1)
		return -1;
	if (r == 1 && (p->type != TYPE_TEXT ||
	    json_object_get_int64(v) < 1 ||
	    json_object_get_int64(v) > PGSSE_QUERY_MAX))
		return def_fail(ld, "max_len", p->type != TYPE_TEXT ? "only a "
		    "text parameter has a length" : "from 1 to %d bytes "
		    "(PGSSE_QUERY_MAX)", PGSSE_QUERY_MAX);
	if (r == 1)
		p->maxlen = (size_t)json_object_get_int64(v);
	p->min = INT64_MIN;
	p->max = INT64_MAX;
	if (def_bound(ld, o, "min", &p->min) == -1 ||
	    def_bound(ld, o, "max", &p->max) == -1)
		return -1;
	if (p->type != TYPE_INT && (json_object_object_get_ex(o, "min",
	    NULL) || json_object_object_get_ex(o, "max", NULL)))
		return def_fail(ld, json_object_object_get_ex(o, "min", NULL) ?
		    "min" : "max", "only an int parameter has bounds");
	if (p->min > p->max)
		return def_fail(ld, "min", "greater than max");
	if ((r = def_get(ld, o, "optional", json_type_boolean, &v)) == -1)
		return -1;
	p->optional = r == 1 && json_object_get_boolean(v);
	if (!json_object_object_get_ex(o, "default", &v))
		v = NULL;
	if ((p->optional || v != NULL) && p->src == SRC_ROUTE)
		return def_fail(ld, v != NULL ? "default" : "optional", "a "
		    "route segment is never missing");
	if (v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_object) ||
	    json_object_is_type(v, json_type_array) ||
	    json_object_is_type(v, json_type_null))
		return def_fail(ld, "default", "must be a string, number or "
		    "boolean");
	z = json_object_get_string(v);
	if (def_value(p, z, &bound, num, why, sizeof(why)) == -1)
		return def_fail(ld, "default", "%s", why);
	if ((p->dflt = strdup(bound)) == NULL)
		return def_fail(ld, NULL, "out of memory");
	return 0;
}

/*
 * Checks an htmx header's value z: text with {{column}}s, no control
 * byte; one without columns must pass pgsse_app_hx as it is. Returns
 * -1 with the error.
 */
static int
def_hx_check(struct loader *ld, const char *key, enum pgsse_hx h,
    const char *z)
{
	const char	*p, *q;
	int		 cols = 0;

	if (*z == '\0')
		return def_fail(ld, key, "empty");
	for (p = z; (p = strstr(p, "{{")) != NULL; p = q + 2) {
		q = strstr(p + 2, "}}");
		if (q == NULL || !def_name_ok(p + 2, (size_t)(q - p - 2)))
			return def_fail(ld, key, "{{ must start a {{column}} "
			    "of the first row: a name, then }}");
		cols = 1;
	}
	for (p = z; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return def_fail(ld, key, "holds a control byte");
	if (!cols && !pgsse_app_hx_ok(h, z))
		return def_fail(ld, key, "refused: a redirect or pushed URL "
		    "must be a path on this site or http(s)");
	return 0;
}

/* Checks the "hx" object o into d. Returns -1 with the error. */
static int
def_hx(struct loader *ld, struct json_object *o, struct def_route *d)
{
	const char		*z;
	size_t			 h;

	if (!json_object_is_type(o, json_type_object))
		return def_fail(ld, NULL, "must be an object of htmx headers");
	json_object_object_foreach(o, key, v) {
		for (h = 0; h < PGSSE_HX__MAX; h++)
			if (strcmp(key, hx_keys[h]) == 0)
				break;
		if (h == PGSSE_HX__MAX)
			return def_fail(ld, key, "unknown htmx header \"%s\" "
			    "(trigger, retarget, reswap, redirect, refresh or "
			    "push_url)", key);
		if (h == PGSSE_HX_REFRESH && json_object_is_type(v,
		    json_type_boolean)) {
			if (!json_object_get_boolean(v))
				continue;
			z = "true";
		} else if (!json_object_is_type(v, json_type_string))
			return def_fail(ld, key, "must be a string");
		else
			z = json_object_get_string(v);
		if (def_hx_check(ld, key, (enum pgsse_hx)h, z) == -1)
			return -1;
		if ((d->hx[h] = strdup(z)) == NULL)
			return def_fail(ld, NULL, "out of memory");
	}
	return 0;
}

/* The partials of one template's parse: their texts live until it ends. */
struct def_partials {
	const char	*dir;
	char		*names[PGSSE_MUSTACHE_DEPTH_MAX * 4];
	char		*texts[PGSSE_MUSTACHE_DEPTH_MAX * 4];
	size_t		 n;
	char		 why[PATH_MAX + 128];
};

/* The partial resolver: reads DIR/templates/NAME.html. */
static int
def_partial(void *arg, const char *name, const char **text, size_t *len)
{
	struct def_partials	*ps = arg;
	char			 path[PATH_MAX];
	size_t			 i;

	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->names[i], name) == 0) {
			*text = ps->texts[i];
			*len = strlen(ps->texts[i]);
			return 1;
		}
	if (!def_file_ok(name)) {
		snprintf(ps->why, sizeof(ps->why), "\"%s\" names no file "
		    "under templates/", name);
		return -1;
	}
	if (ps->n == sizeof(ps->names) / sizeof(ps->names[0])) {
		snprintf(ps->why, sizeof(ps->why), "too many partials");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/templates/%s.html", ps->dir, name);
	if ((ps->texts[ps->n] = def_read(path, len, ps->why,
	    sizeof(ps->why))) == NULL)
		return -1;
	if ((ps->names[ps->n] = strdup(name)) == NULL) {
		free(ps->texts[ps->n]);
		snprintf(ps->why, sizeof(ps->why), "out of memory");
		return -1;
	}
	*text = ps->texts[ps->n++];
	return 1;
}

/*
 * Parses template file name (under DIR/templates/) of the route at
 * where, with raw allowed if raw and the escapers in the object esc
 * (may be NULL), into d->tmpl. Returns -1 with the error.
 */
static int
def_template(struct loader *ld, const char *name, int raw,
    struct json_object *esc, const char *where, struct def_route *d)
{
	struct pgsse_mustache_var	 vars[64];
	struct pgsse_mustache_opts	 o;
	struct def_partials		 ps;
	char				 path[PATH_MAX], *text, *msg;
	size_t				 len, i, n;
	int				 rc = -1;

	memset(&o, 0, sizeof(o));
	memset(&ps, 0, sizeof(ps));
	if (!def_file_ok(name))
		return def_fail(ld, "template", "\"%s\" names no file under "
		    "templates/", name);
	if (esc != NULL) {
		if (!json_object_is_type(esc, json_type_object))
			return def_fail(ld, "escape", "must be an object: "
			    "{\"variable\": \"url\", ...}");
		def_push(ld, "escape", 0);
		json_object_object_foreach(esc, key, v) {
			if (o.nvars == sizeof(vars) / sizeof(vars[0])) {
				def_pop(ld);
				return def_fail(ld, "escape", "more than %zu "
				    "escapers", sizeof(vars) / sizeof(vars[0]));
			}
			if (!json_object_is_type(v, json_type_string) ||
			    (vars[o.nvars].esc = pgsse_mustache_esc_parse(
			    json_object_get_string(v))) ==
			    PGSSE_MUSTACHE_ESC__MAX) {
				def_fail(ld, key, "escaper \"%s\": url, "
				    "urlpart, json, css or html", 
				    json_object_get_string(v));
				def_pop(ld);
				return -1;
			}
			vars[o.nvars++].name = key;
		}
		def_pop(ld);
	}
	snprintf(path, sizeof(path), "%s/templates/%s", ld->dir, name);
	if ((text = def_read(path, &len, ld->err, ld->errsz)) == NULL) {
		n = strlen(ld->err);
		snprintf(ld->err + n, ld->errsz - n, " (the template of %s)",
		    where);
		return -1;
	}
	o.flags = raw ? PGSSE_MUSTACHE_RAW : 0;
	o.vars = vars;
	o.partial = def_partial;
	o.arg = &ps;
	ps.dir = ld->dir;
	d->tmpl = pgsse_mustache_parse(path, text, len, &o, ld->err,
	    ld->errsz);
	if (d->tmpl == NULL) {
		/* An error in a partial is named after the partial. */
		for (i = 0; i < ps.n; i++) {
			n = strlen(ps.names[i]);
			if (strncmp(ld->err, ps.names[i], n) == 0 &&
			    ld->err[n] == ':' && (msg = strdup(ld->err + n)) !=
			    NULL) {
				snprintf(ld->err, ld->errsz, "%s/templates/"
				    "%s.html%s", ld->dir, ps.names[i], msg);
				free(msg);
				break;
			}
		}
		n = strlen(ld->err);
		if (ps.why[0] != '\0')
			n += (size_t)snprintf(ld->err + n, ld->errsz - n,
			    ": %s", ps.why);
		if (n < ld->errsz)
			snprintf(ld->err + n, ld->errsz - n, " (the template "
			    "of %s)", where);
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < ps.n; i++) {
		free(ps.names[i]);
		free(ps.texts[i]);
	}
	free(text);
	return rc;
}

/*
 * Reads the route's SQL, inline ("sql") or from DIR/sql/ ("sql_file"),
 * into d->sql. Returns -1 with the error.
 */
static int
def_sql(struct loader *ld, struct json_object *o, struct def_route *d)
{
	struct json_object	*v, *f;
	const unsigned char	*u;
	char			 path[PATH_MAX], why[PATH_MAX + 64];
	size_t			 len, i, k;
	int			 r, rf;

	if ((r = def_get(ld, o, "sql", json_type_string, &v)) == -1 ||
	    (rf = def_get(ld, o, "sql_file", json_type_string, &f)) == -1)
		return -1;
	if (r + rf != 1)
		return def_fail(ld, r ? "sql_file" : NULL, r ? "\"sql\" and "
		    "\"sql_file\": one or the other" : "the SQL is missing: "
		    "\"sql\" (the statement) or \"sql_file\" (a file under "
		    "sql/)");
	if (r == 1) {
		if ((d->sql = strdup(json_object_get_string(v))) == NULL)
			return def_fail(ld, NULL, "out of memory");
	} else {
		if (!def_file_ok(json_object_get_string(f)))
			return def_fail(ld, "sql_file", "\"%s\" names no file "
			    "under sql/", json_object_get_string(f));
		snprintf(path, sizeof(path), "%s/sql/%s", ld->dir,
		    json_object_get_string(f));
		if ((d->sql = def_read(path, &len, why, sizeof(why))) == NULL)
			return def_fail(ld, "sql_file", "%s", why);
	}
	len = strlen(d->sql);
	if (strspn(d->sql, " \t\r\n") == len)
		return def_fail(ld, r ? "sql" : "sql_file", "the SQL is empty");
	u = (const unsigned char *)d->sql;
	for (i = 0; i < len; i += k)
		if ((k = pgsse_utf8_len(u + i, len - i)) == 0)
			return def_fail(ld, r ? "sql" : "sql_file", "the SQL is "
			    "not UTF-8");
	return 0;
}

/* Returns 1 if patterns a and b match the same paths. Can't fail. */
static int
def_same_pattern(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (*a == '<' && *b == '<') {
			a += strcspn(a, ">");
			b += strcspn(b, ">");
		} else if (*a != *b)
			return 0;
		if (*a != '\0')
			a++;
		if (*b != '\0')
			b++;
	}
	return *a == *b;
}

/*
 * Checks route o (fragment if m is GET, else action) into rt and d,
 * the n routes before it being rts. Returns -1 with the error.
 */
static int
def_route(struct loader *ld, struct json_object *o, enum pgsse_method m,
    struct pgsse_route *rt, struct def_route *d,
    const struct pgsse_route *rts, size_t n)
{
	static const char *const keys[] = { "route", "description", "sql",
	    "sql_file", "params", "template", "escape", "raw", "hx", NULL };
	struct json_object	*v, *t, *esc, *raw;
	char			 where[PATH_MAX + 64];
	size_t			 i, line, col, np;
	int			 r;

	if (!json_object_is_type(o, json_type_object))
		return def_fail(ld, NULL, "a route is an object: {\"route\": "
		    "..., \"sql\": ..., \"template\": ...}");
	if (def_keys(ld, o, keys) == -1)
		return -1;
	if ((r = def_get(ld, o, "route", json_type_string, &v)) <= 0)
		return r == 0 ? def_fail(ld, NULL, "\"route\" is missing") :
		    -1;
	rt->method = m;
	if ((rt->pattern = strdup(json_object_get_string(v))) == NULL)
		return def_fail(ld, NULL, "out of memory");
	if (strlen(rt->pattern) > PGSSE_APP_PATH_MAX ||
	    !pgsse_route_valid(rt->pattern, PGSSE_APP_ARGS_MAX))
		return def_fail(ld, "route", "%s is malformed: it must start "
		    "with /, each <name> a whole segment, at most %d of them",
		    rt->pattern, PGSSE_APP_ARGS_MAX);
	for (i = 0; i < n; i++)
		if (rts[i].method == m && def_same_pattern(rts[i].pattern,
		    rt->pattern))
			return def_fail(ld, "route", "%s %s is declared twice "
			    "(as %s before)", m == PGSSE_METHOD_GET ? "GET" :
			    "POST", rt->pattern, rts[i].pattern);
	def_linecol(ld->z, ld->len, def_locate(ld), &line, &col);
	snprintf(where, sizeof(where), "%s %s at %s:%zu", m ==
	    PGSSE_METHOD_GET ? "GET" : "POST", rt->pattern, ld->file, line);
	if ((d->where = strdup(where)) == NULL)
		return def_fail(ld, NULL, "out of memory");
	if (def_sql(ld, o, d) == -1)
		return -1;
	if ((r = def_get(ld, o, "params", json_type_array, &v)) == -1)
		return -1;
	np = r == 1 ? json_object_array_length(v) : 0;
	if (np > PGSSE_APP_PARAMS_MAX)
		return def_fail(ld, "params", "more than %d parameters "
		    "(PGSSE_APP_PARAMS_MAX)", PGSSE_APP_PARAMS_MAX);
	def_push(ld, "params", 0);
	for (i = 0; i < np; i++) {
		def_push(ld, NULL, i);
		r = def_param(ld, json_object_array_get_idx(v, i), rt->pattern,
		    m == PGSSE_METHOD_GET, &d->params[i], d->params, i);
		d->nparams = i + 1;
		def_pop(ld);
		if (r == -1)
			return -1;
	}
	def_pop(ld);
	if (json_object_object_get_ex(o, "hx", &v)) {
		def_push(ld, "hx", 0);
		r = def_hx(ld, v, d);
		def_pop(ld);
		if (r == -1)
			return -1;
	}
	if ((r = def_get(ld, o, "raw", json_type_boolean, &raw)) == -1 ||
	    (r = def_get(ld, o, "template", json_type_string, &t)) == -1)
		return -1;
	if (!json_object_object_get_ex(o, "escape", &esc))
		esc = NULL;
	if (r == 0) {
		if (m == PGSSE_METHOD_GET)
			return def_fail(ld, NULL, "\"template\" is missing: a "
			    "fragment renders one");
		if (esc != NULL || raw != NULL)
			return def_fail(ld, esc != NULL ? "escape" : "raw",
			    "no template to apply it to");
		return 0;
	}
	return def_template(ld, json_object_get_string(t), raw != NULL &&
	    json_object_get_boolean(raw), esc, where, d);
}

/* Frees what d holds. */
static void
def_route_free(struct def_route *d)
{
	size_t	 i;

	free(d->sql);
	for (i = 0; i < d->nparams; i++) {
		free(d->params[i].name);
		free(d->params[i].dflt);
	}
	pgsse_mustache_free(d->tmpl);
	for (i = 0; i < PGSSE_HX__MAX; i++)
		free(d->hx[i]);
	free(d->where);
}

/* Frees def and all it holds. Accepts NULL. */
static void
def_free(struct pgsse_appdef *def)
{
	size_t	 i;

	if (def == NULL)
		return;
	for (i = 0; i < def->nroutes; i++) {
		free((char *)def->routes[i].pattern);
		def_route_free(&def->defs[i]);
	}
	free(def->routes);
	free(def->defs);
	free(def);
}

/*
 * Checks the arrays "fragments" and "actions" of the document root
 * into def. Returns -1 with the error.
 */
static int
def_routes(struct loader *ld, struct json_object *root,
    struct pgsse_appdef *def)
{
	static const char *const keys[] = { "fragments", "actions", NULL };
	struct json_object	*arr[2] = { NULL, NULL };
	size_t			 n[2] = { 0, 0 }, k, i;
	int			 r;

	if (def_keys(ld, root, keys) == -1)
		return -1;
	for (k = 0; k < 2; k++) {
		if ((r = def_get(ld, root, keys[k], json_type_array,
		    &arr[k])) == -1)
			return -1;
		n[k] = r == 1 ? json_object_array_length(arr[k]) : 0;
	}
	if (n[0] + n[1] > PGSSE_APP_ROUTES_MAX)
		return def_fail(ld, n[1] ? "actions" : "fragments", "more than "
		    "%d routes (PGSSE_APP_ROUTES_MAX)", PGSSE_APP_ROUTES_MAX);
	if ((def->routes = calloc(n[0] + n[1] + 1, sizeof(*def->routes))) ==
	    NULL || (def->defs = calloc(n[0] + n[1] + 1,
	    sizeof(*def->defs))) == NULL)
		return def_fail(ld, NULL, "out of memory");
	for (k = 0; k < 2; k++) {
		def_push(ld, keys[k], 0);
		for (i = 0; i < n[k]; i++) {
			def_push(ld, NULL, i);
			r = def_route(ld, json_object_array_get_idx(arr[k], i),
			    k == 0 ? PGSSE_METHOD_GET : PGSSE_METHOD_POST,
			    &def->routes[def->nroutes],
			    &def->defs[def->nroutes], def->routes,
			    def->nroutes);
			def->nroutes++;
			def_pop(ld);
			if (r == -1)
				return -1;
		}
		def_pop(ld);
	}
	def->nactions = n[1];
	def->routes[def->nroutes].method = PGSSE_METHOD__MAX;
	return 0;
}

/*
 * Loads the app folder dir: DIR/app.json, its SQL files and templates.
 * Returns what pgsse_appdef_parse returns.
 */
struct pgsse_appdef *
pgsse_appdef_load(const char *dir, char *err, size_t errsz)
{
	struct pgsse_appdef	*def;
	char			 path[PATH_MAX], *z;
	size_t			 len;

	snprintf(path, sizeof(path), "%s/app.json", dir);
	if ((z = def_read(path, &len, err, errsz)) == NULL)
		return NULL;
	def = pgsse_appdef_parse(dir, z, len, err, errsz);
	free(z);
	return def;
}

/*
 * Loads the app folder dir with text (len bytes) for its app.json.
 * Returns a snapshot holding one reference, which the caller gives up
 * with pgsse_appdef_release, or NULL with "file:line:col: message" in
 * err (errsz bytes).
 */
struct pgsse_appdef *
pgsse_appdef_parse(const char *dir, const char *text, size_t len,
    char *err, size_t errsz)
{
	struct pgsse_appdef	*def = NULL;
	struct json_tokener	*tok = NULL;
	struct json_object	*root = NULL;
	struct loader		 ld;
	enum json_tokener_error	 jerr;
	const char		*z = text;
	size_t			 off, line, col;

	memset(&ld, 0, sizeof(ld));
	ld.dir = dir;
	ld.err = err;
	ld.errsz = errsz;
	ld.z = text;
	ld.len = len;
	snprintf(ld.file, sizeof(ld.file), "%s/app.json", dir);
	if (len > PGSSE_APP_FILE_MAX || len > INT_MAX ||
	    memchr(text, '\0', len) != NULL) {
		snprintf(err, errsz, "%s: %s", ld.file, len > PGSSE_APP_FILE_MAX ||
		    len > INT_MAX ? "larger than PGSSE_APP_FILE_MAX" :
		    "holds a NUL byte");
		return NULL;
	}
	if ((tok = json_tokener_new()) == NULL ||
	    (def = calloc(1, sizeof(*def))) == NULL) {
		snprintf(err, errsz, "%s: out of memory", ld.file);
		goto fail;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_ALLOW_TRAILING_CHARS);
	root = json_tokener_parse_ex(tok, z, (int)ld.len);
	jerr = json_tokener_get_error(tok);
	off = jerr == json_tokener_continue ? ld.len :
	    json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_success &&
	    (off = def_ws(z, ld.len, off)) < ld.len)
		jerr = json_tokener_error_parse_unexpected;
	if (jerr != json_tokener_success) {
		def_linecol(z, ld.len, off, &line, &col);
		snprintf(err, errsz, "%s:%zu:%zu: %s", ld.file, line, col,
		    jerr == json_tokener_continue ? "the JSON ends too soon" :
		    root != NULL ? "text after the JSON document" :
		    json_tokener_error_desc(jerr));
		goto fail;
	}
	if (!json_object_is_type(root, json_type_object)) {
		def_fail(&ld, NULL, "the document is an object: "
		    "{\"fragments\": [...], \"actions\": [...]}");
		goto fail;
	}
	if (def_routes(&ld, root, def) == -1)
		goto fail;
	atomic_init(&def->refs, 1);
	def->gen = atomic_fetch_add(&def_gens, 1) + 1;
	json_object_put(root);
	json_tokener_free(tok);
	return def;
fail:
	def_free(def);
	json_object_put(root);
	if (tok != NULL)
		json_tokener_free(tok);
	return NULL;
}

/* Takes one more reference to def. Returns def. Can't fail. */
struct pgsse_appdef *
pgsse_appdef_hold(struct pgsse_appdef *def)
{
	if (def != NULL)
		atomic_fetch_add(&def->refs, 1);
	return def;
}

/* Gives up a reference to def, freeing it with the last. Accepts NULL. */
void
pgsse_appdef_release(struct pgsse_appdef *def)
{
	if (def != NULL && atomic_fetch_sub(&def->refs, 1) == 1)
		def_free(def);
}

/*
 * Returns def's routes, ending with a NULL pattern, their number in
 * *nroutes and that of actions (POST) in *nactions (either may be
 * NULL). def owns them.
 */
const struct pgsse_route *
pgsse_appdef_routes(const struct pgsse_appdef *def, size_t *nroutes,
    size_t *nactions)
{
	if (nroutes != NULL)
		*nroutes = def->nroutes;
	if (nactions != NULL)
		*nactions = def->nactions;
	return def->routes;
}

/*
 * Prepares each of def's statements on conn, unnamed so that nothing
 * stays behind, and checks that none uses a parameter its route does
 * not declare: the database finds syntax errors, unknown tables and
 * columns, and schemas the role may not use, at load rather than at a
 * request. Returns 1 if every statement passes; 0 with err set ("the
 * SQL of GET /x at DIR/app.json:3: what") if one does not; -1 with err
 * set if the connection failed and nothing could be checked.
 */
int
pgsse_appdef_check_sql(const struct pgsse_appdef *def, PGconn *conn,
    char *err, size_t errsz)
{
	const struct def_route	*d;
	PGresult		*res;
	const char		*msg;
	size_t			 i;
	int			 n, rc = 1;

	for (i = 0; rc == 1 && i < def->nroutes; i++) {
		d = &def->defs[i];
		res = PQprepare(conn, "", d->sql, (int)d->nparams, NULL);
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			res = PQdescribePrepared(conn, "");
		}
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = PQstatus(conn) == CONNECTION_OK ? 0 : -1;
			msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
			snprintf(err, errsz, "the SQL of %s: %s", d->where,
			    msg != NULL ? msg : PQerrorMessage(conn));
		} else if ((n = PQnparams(res)) > (int)d->nparams) {
			rc = 0;
			snprintf(err, errsz, "the SQL of %s: it uses $%d, and "
			    "%zu parameter%s declared", d->where, n,
			    d->nparams, d->nparams == 1 ? " is" : "s are");
		}
		PQclear(res);
	}
	return rc;
}

/* Returns def's generation: a later load has a greater one. */
unsigned long
pgsse_appdef_gen(const struct pgsse_appdef *def)
{
	return def->gen;
}

/* How a column's values become JSON. */
enum def_json {
	J_STRING,
	J_INT,
	J_DOUBLE,
	J_BOOL,
	J_JSON
};

/* Returns how values of type oid become JSON. Can't fail. */
static enum def_json
def_json_kind(Oid oid)
{
	switch (oid) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return J_INT;
	case OID_FLOAT4:
	case OID_FLOAT8:
		return J_DOUBLE;
	case OID_BOOL:
		return J_BOOL;
	case OID_JSON:
	case OID_JSONB:
		return J_JSON;
	default:
		return J_STRING;
	}
}

/*
 * Returns the value of row r, column c of res as JSON of kind k: NULL
 * for SQL NULL (json-c's null), and for a failed allocation too.
 */
static struct json_object *
def_cell(const PGresult *res, int r, int c, enum def_json k)
{
	const char		*z;
	struct json_object	*o;

	if (PQgetisnull(res, r, c))
		return NULL;
	z = PQgetvalue(res, r, c);
	switch (k) {
	case J_INT:
		return json_object_new_int64(strtoll(z, NULL, 10));
	case J_DOUBLE:
		return json_object_new_double(strtod(z, NULL));
	case J_BOOL:
		return json_object_new_boolean(*z == 't');
	case J_JSON:	/* as text if deeper than json-c parses */
		if ((o = json_tokener_parse(z)) != NULL || strcmp(z, "null") ==
		    0)
			return o;
		break;
	default:
		break;
	}
	return json_object_new_string_len(z, PQgetlength(res, r, c));
}

/*
 * Returns res's rows as a JSON array of objects, one key per column
 * (the column names are res's: free the array before res), each value
 * typed by its column's OID: int2/4/8 integers, float4/8 numbers, bool
 * booleans, json and jsonb parsed; numeric and all else their text.
 * Returns NULL on memory exhaustion. The caller frees it with
 * json_object_put.
 */
struct json_object *
pgsse_appdef_rows(const PGresult *res)
{
	struct json_object	*rows, *row;
	enum def_json		*kinds;
	int			 nf = PQnfields(res), nt = PQntuples(res), r, c;

	if ((kinds = calloc((size_t)nf + 1, sizeof(*kinds))) == NULL)
		return NULL;
	for (c = 0; c < nf; c++)
		kinds[c] = def_json_kind(PQftype(res, c));
	if ((rows = json_object_new_array_ext(nt > 0 ? nt : 1)) == NULL)
		goto out;
	for (r = 0; r < nt; r++) {
		if ((row = json_object_new_object()) == NULL ||
		    json_object_array_add(rows, row) != 0) {
			json_object_put(row);
			json_object_put(rows);
			rows = NULL;
			goto out;
		}
		for (c = 0; c < nf; c++)
			json_object_object_add_ex(row, PQfname(res, c),
			    def_cell(res, r, c, kinds[c]),
			    JSON_C_OBJECT_ADD_CONSTANT_KEY);
	}
out:
	free(kinds);
	return rows;
}

/*
 * Returns the part of the template's data that is not the result's for
 * a request of route d with bound parameter values vals: "params",
 * "user" and "csrf". NULL on memory exhaustion. The caller frees it with
 * json_object_put.
 */
static struct json_object *
def_context(pgsse_app *a, const struct def_route *d, const char *const *vals)
{
	struct json_object	*ctx, *params, *v;
	const char		*user = pgsse_app_user(a);
	const char		*csrf = pgsse_app_csrf_token(a);
	size_t			 i;
	int			 bad = 0;

	if ((ctx = json_object_new_object()) == NULL)
		return NULL;
	if ((params = json_object_new_object()) == NULL) {
		json_object_put(ctx);
		return NULL;
	}
	json_object_object_add_ex(ctx, "params", params,
	    JSON_C_OBJECT_ADD_CONSTANT_KEY);
	for (i = 0; i < d->nparams && !bad; i++) {
		v = vals[i] == NULL ? NULL : d->params[i].type == TYPE_INT ?
		    json_object_new_int64(strtoll(vals[i], NULL, 10)) :
		    d->params[i].type == TYPE_BOOL ?
		    json_object_new_boolean(vals[i][0] == 't') :
		    json_object_new_string(vals[i]);
		bad = (vals[i] != NULL && v == NULL) ||
		    json_object_object_add_ex(params, d->params[i].name, v,
		    JSON_C_OBJECT_ADD_CONSTANT_KEY) != 0;
	}
	if (!bad && ((user != NULL && (v = json_object_new_string(user)) ==
	    NULL) || json_object_object_add_ex(ctx, "user", user ? v : NULL,
	    JSON_C_OBJECT_ADD_CONSTANT_KEY) != 0))
		bad = 1;
	if (!bad && ((csrf != NULL && (v = json_object_new_string(csrf)) ==
	    NULL) || json_object_object_add_ex(ctx, "csrf", csrf ? v : NULL,
	    JSON_C_OBJECT_ADD_CONSTANT_KEY) != 0))
		bad = 1;
	if (bad) {
		json_object_put(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * Adds to data key's value v, taking a reference to it (v may be
 * NULL). Returns -1 on memory exhaustion.
 */
static int
def_add_ref(struct json_object *data, const char *key, struct json_object *v)
{
	if (json_object_object_add_ex(data, key, json_object_get(v),
	    JSON_C_OBJECT_ADD_CONSTANT_KEY) == 0)
		return 0;
	json_object_put(v);
	return -1;
}

/*
 * Renders t into out from the JSON of the template's data: "rows" (res
 * as pgsse_appdef_rows makes it), ctx's members, and the first row's
 * columns that neither names. Returns PGSSE_ERR_NOMEM, or as
 * pgsse_mustache_render.
 */
static enum pgsse_err
def_render_json(const struct pgsse_mustache *t, const PGresult *res,
    struct json_object *ctx, struct pgsse_buf *out)
{
	struct json_object	*data, *rows, *first;
	enum pgsse_err		 er = PGSSE_ERR_NOMEM;
	int			 bad = 0;

	if ((data = json_object_new_object()) == NULL)
		return PGSSE_ERR_NOMEM;
	if ((rows = pgsse_appdef_rows(res)) == NULL ||
	    json_object_object_add_ex(data, "rows", rows,
	    JSON_C_OBJECT_ADD_CONSTANT_KEY) != 0) {
		json_object_put(rows);
		goto out;
	}
	if (ctx != NULL) {
		json_object_object_foreach(ctx, key, val)
			if (!bad && def_add_ref(data, key, val) == -1)
				bad = 1;
	}
	if (!bad && (first = json_object_array_get_idx(rows, 0)) != NULL) {
		json_object_object_foreach(first, key, val)
			if (!bad && !json_object_object_get_ex(data, key,
			    NULL) && def_add_ref(data, key, val) == -1)
				bad = 1;
	}
	if (!bad)
		er = pgsse_mustache_render(t, data, out);
out:
	json_object_put(data);
	return er;
}

/* The text of a cell of the PGresult arg, for pgsse_mustache_table. */
static const char *
def_table_cell(const void *arg, int row, int col, size_t *len)
{
	const PGresult	*res = arg;

	if (PQgetisnull(res, row, col))
		return NULL;
	*len = (size_t)PQgetlength(res, row, col);
	return PQgetvalue(res, row, col);
}

/*
 * Fills names and kinds (DEF_TABLE_COLS each) for the columns of res.
 * Returns -1 if res cannot be rendered in place: too many columns, a
 * json or jsonb one (parsed, in the JSON data), or two of one name (the
 * last one's value, in the JSON data).
 */
static int
def_table(const PGresult *res, const char **names,
    enum pgsse_mustache_col *kinds)
{
	int	 nf = PQnfields(res), c, k;

	if (nf > DEF_TABLE_COLS)
		return -1;
	for (c = 0; c < nf; c++) {
		names[c] = PQfname(res, c);
		for (k = 0; k < c; k++)
			if (strcmp(names[k], names[c]) == 0)
				return -1;
		switch (def_json_kind(PQftype(res, c))) {
		case J_INT:
			kinds[c] = PGSSE_MUSTACHE_COL_INT;
			break;
		case J_DOUBLE:
			kinds[c] = PGSSE_MUSTACHE_COL_DOUBLE;
			break;
		case J_BOOL:
			kinds[c] = PGSSE_MUSTACHE_COL_BOOL;
			break;
		case J_STRING:
			kinds[c] = PGSSE_MUSTACHE_COL_TEXT;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/*
 * Renders template t for result res, appending to out. The data is
 * "rows" (res as pgsse_appdef_rows makes it), the members of ctx (may
 * be NULL; the caller's), and the first row's columns that neither
 * names. It is read from res in place, with no JSON made, unless json
 * is set or res has what only the JSON form renders (def_table); both
 * ways render the same bytes. Returns PGSSE_ERR_NOMEM, or as
 * pgsse_mustache_render.
 */
enum pgsse_err
pgsse_appdef_render(const struct pgsse_mustache *t, const PGresult *res,
    struct json_object *ctx, int json, struct pgsse_buf *out)
{
	const char			*names[DEF_TABLE_COLS];
	enum pgsse_mustache_col		 kinds[DEF_TABLE_COLS];
	struct pgsse_mustache_table	 tab;

	if (json || def_table(res, names, kinds) == -1)
		return def_render_json(t, res, ctx, out);
	tab.nrows = PQntuples(res);
	tab.ncols = PQnfields(res);
	tab.names = names;
	tab.kinds = kinds;
	tab.cell = def_table_cell;
	tab.arg = res;
	return pgsse_mustache_render_table(t, &tab, ctx, out);
}

/*
 * Appends htmx header value z to b with each {{column}} the value in
 * res's first row (unknown columns and NULLs are empty). Returns -1 if
 * z has a column and res no row, or b would pass PGSSE_APP_HX_MAX or
 * memory ran out.
 */
static int
def_hx_expand(const char *z, const PGresult *res, struct pgsse_buf *b)
{
	const char	*p, *q;
	size_t		 n;
	int		 c, nf = PQnfields(res);

	while ((p = strstr(z, "{{")) != NULL) {
		if (PQntuples(res) == 0 ||
		    pgsse_buf_put(b, z, (size_t)(p - z)) != PGSSE_OK)
			return -1;
		p += 2;
		q = strstr(p, "}}");
		n = (size_t)(q - p);
		for (c = 0; c < nf; c++)
			if (strncmp(PQfname(res, c), p, n) == 0 &&
			    PQfname(res, c)[n] == '\0')
				break;
		if (c < nf && pgsse_buf_puts(b, PQgetvalue(res, 0, c)) !=
		    PGSSE_OK)
			return -1;
		z = q + 2;
	}
	if (pgsse_buf_puts(b, z) != PGSSE_OK || b->len > PGSSE_APP_HX_MAX)
		return -1;
	return 0;
}

/*
 * Sets route d's htmx headers from res. A value that comes out empty
 * is left out (the way to send a header for some rows only); one
 * refused is logged.
 */
static void
def_hx_set(pgsse_app *a, const struct def_route *d, const PGresult *res)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	int			 h;

	for (h = 0; h < PGSSE_HX__MAX; h++) {
		if (d->hx[h] == NULL)
			continue;
		pgsse_buf_reset(&b);
		if (def_hx_expand(d->hx[h], res, &b) == -1 || b.len == 0)
			continue;	/* no first row, or nothing to send */
		if (pgsse_app_hx(a, (enum pgsse_hx)h, b.p) != PGSSE_OK)
			pgsse_log(PGSSE_LOG_WARN, "%s: hx %s refused: a control "
			    "byte, or a URL that is not this site's or "
			    "http(s)", d->where, hx_keys[h]);
	}
	pgsse_buf_free(&b);
}

/*
 * Finds and checks the request's value of parameter p into *bound (num
 * holds its normal form). Returns 200, or the status of the error
 * answered.
 */
static enum pgsse_http_status
def_param_get(pgsse_app *a, const struct def_param *p, const char **bound,
    char *num)
{
	const char	*z;
	char		 why[128], msg[256];

	switch (p->src) {
	case SRC_ROUTE:
		z = pgsse_app_arg(a, p->name);
		break;
	case SRC_QUERY:
		z = pgsse_app_get(a, p->name);
		break;
	case SRC_FORM:
		z = pgsse_app_form(a, p->name);
		break;
	default:
		z = pgsse_app_user(a);
		break;
	}
	if (z == NULL || (*z == '\0' && p->type != TYPE_TEXT)) {
		*bound = p->dflt;
		if (p->dflt != NULL || p->optional)
			return PGSSE_HTTP_200;
		snprintf(msg, sizeof(msg), p->src == SRC_USER ? "parameter %s: "
		    "this needs an authenticated user" : "parameter %s: "
		    "missing", p->name);
		return pgsse_app_error(a, p->src == SRC_USER ? PGSSE_HTTP_403 :
		    PGSSE_HTTP_400, msg);
	}
	if (def_value(p, z, bound, num, why, sizeof(why)) == 0)
		return PGSSE_HTTP_200;
	snprintf(msg, sizeof(msg), "parameter %s: %s", p->name, why);
	return pgsse_app_error(a, PGSSE_HTTP_400, msg);
}

/*
 * Checks the request a's parameters for route i of def into call (its
 * SQL and bound values, which point into a, def and call). Returns
 * 200, or the status of the error answered (400 or 403).
 */
enum pgsse_http_status
pgsse_appdef_bind(pgsse_app *a, const struct pgsse_appdef *def, size_t i,
    struct pgsse_appdef_call *call)
{
	const struct def_route	*d = &def->defs[i];
	enum pgsse_http_status	 st;
	size_t			 k;

	call->sql = d->sql;
	call->n = (int)d->nparams;
	for (k = 0; k < d->nparams; k++)
		if ((st = def_param_get(a, &d->params[k], &call->vals[k],
		    call->nums[k])) != PGSSE_HTTP_200)
			return st;
	return PGSSE_HTTP_200;
}

/*
 * Answers the request a with route i of def from res, the result of
 * call's SQL (NULL: it failed, and pgsse_app_sqlstate says why):
 * renders the template and sets the htmx headers. Frees res. Returns
 * the status: 200, or 204 for an action without a template; what
 * pgsse_app_db_error answers; 500 if the render fails.
 */
enum pgsse_http_status
pgsse_appdef_answer(pgsse_app *a, const struct pgsse_appdef *def, size_t i,
    const struct pgsse_appdef_call *call, PGresult *res)
{
	const struct def_route	*d = &def->defs[i];
	struct json_object	*ctx = NULL;
	enum pgsse_http_status	 st;
	enum pgsse_err		 er;

	if (res == NULL)
		return pgsse_app_db_error(a, "database unavailable");
	st = d->tmpl != NULL ? PGSSE_HTTP_200 : PGSSE_HTTP_204;
	if (d->tmpl != NULL) {
		if ((ctx = def_context(a, d, call->vals)) == NULL) {
			st = pgsse_app_error(a, PGSSE_HTTP_500, "out of memory");
			goto out;
		}
		if ((er = pgsse_appdef_render(d->tmpl, res, ctx, 0,
		    pgsse_app_body(a))) != PGSSE_OK) {
			pgsse_log(PGSSE_LOG_ERROR, "%s: the template failed: %s",
			    d->where, pgsse_err_str(er));
			st = pgsse_app_error(a, PGSSE_HTTP_500, "the page could "
			    "not be rendered");
			goto out;
		}
	}
	def_hx_set(a, d, res);
out:
	json_object_put(ctx);
	PQclear(res);
	return st;
}

/*
 * Serves the request a with route i of def: checks the parameters, runs
 * the SQL, renders the template and sets the htmx headers. Returns what
 * pgsse_appdef_bind or pgsse_appdef_answer returns.
 */
enum pgsse_http_status
pgsse_appdef_serve(pgsse_app *a, const struct pgsse_appdef *def, size_t i)
{
	struct pgsse_appdef_call call;
	enum pgsse_http_status	 st;

	if ((st = pgsse_appdef_bind(a, def, i, &call)) != PGSSE_HTTP_200)
		return st;
	return pgsse_appdef_answer(a, def, i, &call, pgsse_app_queryv(a,
	    call.sql, call.n, call.vals));
}
