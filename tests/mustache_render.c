/*
 * mustache_render.c: the C half of the differential test against
 * mustache.js (tests/check-mustache.sh). Usage:
 *	mustache_render EXPECTED CASES...
 * EXPECTED is what tests/mustache/render.js wrote: for each CASES file,
 * in order, an array of {"out": text} or {"error": message} per case.
 * Each case, {"name", "template", "data", "partials"}, is parsed with
 * raw interpolation allowed and the HTML context check off (the cases
 * are about Mustache, not HTML), rendered, and compared byte for byte;
 * a template mustache.js refuses must be refused. Prints the cases per
 * section (the file's name less a "gen-" prefix) and the first that
 * differ; exits 1 if any does.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pgsse.h"
#include "mustache.h"

/* Differing cases printed in full. */
#define SHOW_MAX 10
/* Sections (case files less "gen-") counted apart. */
#define SECTIONS_MAX 32

struct section {
	char	 name[64];
	size_t	 cases;
	size_t	 differ;
};

/* The resolver over a case's "partials" object. */
static int
resolve(void *arg, const char *name, const char **text, size_t *len)
{
	struct json_object	*v;

	if (arg == NULL || !json_object_object_get_ex(arg, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return 0;
	*text = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return 1;
}

/* The string member key of o, "" if none. */
static const char *
member(struct json_object *o, const char *key, size_t *len)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		*len = 0;
		return "";
	}
	*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/*
 * Runs case c against the expectation e. Returns 0 if they agree, else
 * 1 with what differs printed if *shown is under SHOW_MAX.
 */
static int
run(const char *file, size_t i, struct json_object *c, struct json_object *e,
    int *shown)
{
	struct pgsse_mustache_opts	 o;
	struct pgsse_mustache		*t;
	struct pgsse_buf		 b = { NULL, 0, 0 };
	struct json_object		*data = NULL, *parts = NULL, *err;
	const char			*z, *want, *name;
	size_t				 len, wlen, nlen;
	char				 msg[256];
	int				 bad;

	memset(&o, 0, sizeof(o));
	o.flags = PGSSE_MUSTACHE_RAW | PGSSE_MUSTACHE_NOCHECK;
	o.partial = resolve;
	json_object_object_get_ex(c, "partials", &parts);
	json_object_object_get_ex(c, "data", &data);
	o.arg = parts;
	name = member(c, "name", &nlen);
	z = member(c, "template", &len);
	want = member(e, "out", &wlen);
	t = pgsse_mustache_parse("case", z, len, &o, msg, sizeof(msg));
	if (json_object_object_get_ex(e, "error", &err) &&
	    strstr(json_object_get_string(err), "call stack") == NULL)
		bad = t != NULL;
	else if (t == NULL)
		bad = 1;
	else if (pgsse_mustache_render(t, data, &b) != PGSSE_OK) {
		/* Where mustache.js runs out of stack, we stop at a limit. */
		bad = !json_object_object_get_ex(e, "error", &err) ||
		    strstr(json_object_get_string(err), "call stack") == NULL;
		snprintf(msg, sizeof(msg), "render failed");
	} else
		bad = b.len != wlen || memcmp(b.p ? b.p : "", want, wlen) != 0;
	if (bad && (*shown)++ < SHOW_MAX) {
		printf("DIFFER %s case %zu \"%s\"\n  template: %s\n  data: %s\n"
		    "  partials: %s\n  mustache.js: %s\n  pgsse: ", file, i,
		    name, json_object_to_json_string(json_object_object_get(c,
		    "template")), json_object_to_json_string(data),
		    json_object_to_json_string(parts),
		    json_object_to_json_string(e));
		if (t == NULL)
			printf("error %s\n", msg);
		else {
			err = json_object_new_string_len(b.p ? b.p : "",
			    (int)b.len);
			printf("%s\n", json_object_to_json_string(err));
			json_object_put(err);
		}
	}
	pgsse_buf_free(&b);
	pgsse_mustache_free(t);
	return bad;
}

/* The section of the case file path, in sec (64 bytes). */
static void
section_of(const char *path, char *sec)
{
	char	*dup = strdup(path), *base, *dot;

	base = dup != NULL ? basename(dup) : "?";
	if (strncmp(base, "gen-", 4) == 0)
		base += 4;
	snprintf(sec, 64, "%s", base);
	if ((dot = strrchr(sec, '.')) != NULL)
		*dot = '\0';
	free(dup);
}

int
main(int argc, char *argv[])
{
	struct json_object	*exp, *cases, *e;
	struct section		 secs[SECTIONS_MAX];
	char			 sec[64];
	size_t			 nsecs = 0, s, i, n, total = 0, differ = 0;
	int			 f, shown = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s EXPECTED CASES...\n", argv[0]);
		return 2;
	}
	if ((exp = json_object_from_file(argv[1])) == NULL ||
	    json_object_array_length(exp) != (size_t)(argc - 2)) {
		fprintf(stderr, "%s: not the expectations of %d files\n",
		    argv[1], argc - 2);
		return 2;
	}
	for (f = 2; f < argc; f++) {
		if ((cases = json_object_from_file(argv[f])) == NULL) {
			fprintf(stderr, "%s: %s\n", argv[f],
			    json_util_get_last_err());
			return 2;
		}
		e = json_object_array_get_idx(exp, (size_t)f - 2);
		n = json_object_array_length(cases);
		if (json_object_array_length(e) != n) {
			fprintf(stderr, "%s: %zu expectations for %zu cases\n",
			    argv[f], json_object_array_length(e), n);
			return 2;
		}
		section_of(argv[f], sec);
		for (s = 0; s < nsecs && strcmp(secs[s].name, sec) != 0; s++)
			continue;
		if (s == nsecs) {
			if (nsecs == SECTIONS_MAX)
				return 2;
			memset(&secs[s], 0, sizeof(secs[s]));
			snprintf(secs[s].name, sizeof(secs[s].name), "%s", sec);
			nsecs++;
		}
		for (i = 0; i < n; i++) {
			secs[s].cases++;
			secs[s].differ += run(argv[f], i,
			    json_object_array_get_idx(cases, i),
			    json_object_array_get_idx(e, i), &shown);
		}
		json_object_put(cases);
	}
	for (s = 0; s < nsecs; s++) {
		printf("%s: %zu cases, %zu differ\n", secs[s].name,
		    secs[s].cases, secs[s].differ);
		total += secs[s].cases;
		differ += secs[s].differ;
	}
	printf("all: %zu cases, %zu differ from mustache.js\n", total, differ);
	json_object_put(exp);
	return differ > 0 || total == 0;
}
