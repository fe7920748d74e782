/*
 * fuzz_mustache.c: the Mustache engine (lib/mustache.c, lib/htmlctx.c):
 * the input is a template, parsed with the HTML context check and
 * without it, and rendered with a fixed context; partials are a fixed
 * set and the input itself. Nothing may crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pgsse.h"
#include "mustache.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The input, which the partial "in" is. */
static const char	*in;
static size_t		 inlen;

static int
resolve(void *arg, const char *name, const char **text, size_t *len)
{
	static const char *const parts[][2] = {
		{ "p", "{{#l}}<li>{{.}}{{>p}}</li>{{/l}}" },
		{ "q", "<a href=\"{{u}}\" x-data=\"{{j}}\">{{a}}</a>" },
		{ "r", "  {{>r}}\n" },
	};
	size_t	 i;

	(void)arg;
	if (strcmp(name, "in") == 0) {
		*text = in;
		*len = inlen;
		return 1;
	}
	if (strcmp(name, "bad") == 0)
		return -1;
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strcmp(name, parts[i][0]) == 0) {
			*text = parts[i][1];
			*len = strlen(*text);
			return 1;
		}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	static const struct pgsse_mustache_var vars[] = {
		{ "u", PGSSE_MUSTACHE_ESC_URL },
		{ "p", PGSSE_MUSTACHE_ESC_URLPART },
		{ "j", PGSSE_MUSTACHE_ESC_JSON },
		{ "c", PGSSE_MUSTACHE_ESC_CSS },
		{ "a", PGSSE_MUSTACHE_ESC_JSON },
	};
	static const unsigned int flags[] = {
		0, PGSSE_MUSTACHE_RAW,
		PGSSE_MUSTACHE_RAW | PGSSE_MUSTACHE_NOCHECK
	};
	struct pgsse_mustache_opts	 o;
	struct pgsse_mustache		*t;
	struct pgsse_buf		 b = { NULL, 0, 0 };
	struct json_object		*ctx;
	char				 err[256];
	size_t				 i;

	ctx = json_tokener_parse("{\"a\": \"<x>&'\\\"/`=\", \"n\": 1.5, "
	    "\"i\": 42, \"t\": true, \"f\": false, \"z\": null, \"e\": \"\", "
	    "\"u\": \"javascript:alert(1)\", \"c\": \"12px\", "
	    "\"l\": [1, \"two\", {\"a\": \"b\"}, [3, [4]]], "
	    "\"o\": {\"a\": {\"b\": \"c\"}, \"l\": []}, "
	    "\"s\": \"\\u2028\\u00e9\\ud83d\\ude00\"}");
	in = (const char *)buf;
	inlen = size;
	memset(&o, 0, sizeof(o));
	o.vars = vars;
	o.nvars = sizeof(vars) / sizeof(vars[0]);
	o.partial = resolve;
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		o.flags = flags[i];
		t = pgsse_mustache_parse("fuzz", in, size, &o, err,
		    sizeof(err));
		if (t == NULL && strncmp(err, "fuzz:", 5) != 0 &&
		    strchr(err, ':') == NULL)
			abort();
		if (t != NULL && pgsse_mustache_render(t, ctx, &b) !=
		    PGSSE_OK && b.len != 0)
			abort();
		pgsse_buf_reset(&b);
		pgsse_mustache_free(t);
	}
	pgsse_buf_free(&b);
	json_object_put(ctx);
	return 0;
}
