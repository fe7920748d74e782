/*
 * pgsse-lint REGISTRY FILE...: proves that pages, scripts and publishers
 * agree with the event registry. It fails, naming file and line, on:
 *  - an sse: trigger or sse-swap naming an event that the channels of
 *    its sse-connect do not send (or used outside any sse-connect): a
 *    documented plain name under a connect of one channel, and
 *    "<channel>.<event>" under a connect of several;
 *  - an sse-connect to an unknown channel;
 *  - one element carrying both the htmx SSE extension (hx-ext="sse" or
 *    sse-connect) and an Alpine SSE manager connection;
 *  - htmx.trigger(..., 'sse:...'), where a camelCase event belongs;
 *  - a CHANNEL_EVENTS written by hand, or one that differs from the
 *    registry; sseManager.connect() to an unknown channel;
 *    event.type compared with an undocumented name;
 *  - a publish (pgsse.publish, pgsse-publish, pgsse_publish, emit, raw
 *    NOTIFY) of an event the registry does not document.
 * These are the seed's pitfalls 1 to 3, made impossible to ship.
 *
 * pgsse-lint --app DIR checks an app folder whole (lint-app.c).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgsse.h"
#include "extern.h"
#include "query.h"
#include "registry.h"
#include "lint.h"

/* Deepest element nesting followed in a page. */
#define LINT_DEPTH_MAX 256
/* Alpine component functions that call sseManager.connect. */
#define LINT_FUNCS_MAX 64

struct elem {
	char	 name[32];
	int	 sse;			/* has hx-ext="sse" or sse-connect */
	int	 connect;		/* has sse-connect */
	char	 chans[PGSSE_CHANNELS_MAX][PGSSE_CHANNEL_MAX + 1];
	size_t	 nchans;
};

const struct pgsse_registry		*lint_reg;
const struct lint_hooks			*lint_hooks;
int					 lint_loose;
int					 lint_errors;
static char				*funcs[LINT_FUNCS_MAX];
static size_t				 nfuncs;

/* Prints "file:line: message" (fmt, printf's) and counts a problem. */
void
lint_fail(const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	lint_errors++;
}

/*
 * Reads the file at path into a new NUL-terminated buffer that the
 * caller frees. Returns NULL if it cannot be read.
 */
char *
lint_slurp(const char *path)
{
	FILE	*f;
	char	*p = NULL;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = calloc(1, (size_t)n + 1)) &&
	    fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

/* Returns the line number of at in text. */
int
lint_line_of(const char *text, const char *at)
{
	int	 n = 1;

	for (; text < at; text++)
		n += *text == '\n';
	return n;
}

/* Returns 1 if channel ch of the registry documents event ev. */
int
lint_documented(const char *ch, const char *ev)
{
	const struct pgsse_channel *c = pgsse_registry_channel(lint_reg, ch);

	return c != NULL && pgsse_registry_event(c, ev) != NULL;
}

/* Returns 1 if ev is an event every stream may send (SSE_EVENTS.md). */
static int
system_event(const char *ev)
{
	return strcmp(ev, PGSSE_RESET_EVENT) == 0 ||
	    strcmp(ev, PGSSE_HEARTBEAT_EVENT) == 0;
}

/* Returns 1 if ev is an event of the registry or a system event. */
static int
documented_anywhere(const char *ev)
{
	size_t	 i;

	if (system_event(ev))
		return 1;
	for (i = 0; i < lint_reg->n; i++)
		if (pgsse_registry_event(&lint_reg->channels[i], ev) != NULL)
			return 1;
	return 0;
}

/* Returns 1 if ev is "<channel>.<event>", documented. */
static int
qualified(const char *ev)
{
	char		 ch[PGSSE_CHANNEL_MAX + 1];
	const char	*dot = strchr(ev, '.');

	if (dot == NULL || (size_t)(dot - ev) > PGSSE_CHANNEL_MAX)
		return 0;
	snprintf(ch, sizeof(ch), "%.*s", (int)(dot - ev), ev);
	return lint_documented(ch, dot + 1);
}

/*
 * Calls fn for every match of pattern (an extended regex, which must
 * compile) in text, with its first three groups, each cut to 127 bytes.
 */
void
lint_each_match(const char *file, const char *text, const char *pattern,
    void (*fn)(const char *, int, char [][128], size_t))
{
	regex_t		 re;
	regmatch_t	 m[4];
	char		 g[3][128];
	const char	*p = text;
	size_t		 i, n;

	if (regcomp(&re, pattern, REG_EXTENDED) != 0)
		abort();
	while (regexec(&re, p, 4, m, p == text ? 0 : REG_NOTBOL) == 0) {
		for (i = 1; i < 4; i++) {
			g[i - 1][0] = '\0';
			if (m[i].rm_so < 0)
				continue;
			n = (size_t)(m[i].rm_eo - m[i].rm_so);
			n = n < 127 ? n : 127;
			memcpy(g[i - 1], p + m[i].rm_so, n);
			g[i - 1][n] = '\0';
		}
		fn(file, lint_line_of(text, p + m[0].rm_so), g, 3);
		p += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
	}
	regfree(&re);
}

static void
on_publish(const char *file, int line, char g[][128], size_t n)
{
	(void)n;
	if (pgsse_registry_channel(lint_reg, g[0]) == NULL)
		lint_fail(file, line, "publishes on unknown channel \"%s\"",
		    g[0]);
	else if (!lint_documented(g[0], g[1]))
		lint_fail(file, line, "publishes undocumented event \"%s\" on "
		    "channel \"%s\"", g[1], g[0]);
}

static void
on_publish23(const char *file, int line, char g[][128], size_t n)
{
	on_publish(file, line, g + 1, n - 1);
}

static void
on_sse_trigger(const char *file, int line, char g[][128], size_t n)
{
	(void)g;
	(void)n;
	lint_fail(file, line, "htmx.trigger() with an sse: event; trigger a "
	    "camelCase event instead");
}

static void
on_connect(const char *file, int line, char g[][128], size_t n)
{
	(void)n;
	if (pgsse_registry_channel(lint_reg, g[0]) == NULL)
		lint_fail(file, line, "sseManager.connect to unknown channel "
		    "\"%s\"", g[0]);
}

static void
on_type(const char *file, int line, char g[][128], size_t n)
{
	(void)n;
	if (!documented_anywhere(g[0]))
		lint_fail(file, line, "event.type compared with undocumented "
		    "event \"%s\"", g[0]);
}

static void
on_handmade(const char *file, int line, char g[][128], size_t n)
{
	(void)g;
	(void)n;
	lint_fail(file, line, "CHANNEL_EVENTS written by hand; use the "
	    "generated www/js/channel-events.js");
}

/* The generated CHANNEL_EVENTS must list exactly the registry. */
static void
check_channel_events(const char *file, const char *text)
{
	char	 want[8192];
	size_t	 i, j, len = 0;

	for (i = 0; i < lint_reg->n && len < sizeof(want) - 512; i++) {
		len += (size_t)snprintf(want + len, sizeof(want) - len,
		    "    %s: [", lint_reg->channels[i].name);
		for (j = 0; j < lint_reg->channels[i].nevents; j++)
			len += (size_t)snprintf(want + len, sizeof(want) - len,
			    "%s'%s'", j ? ", " : "",
			    lint_reg->channels[i].events[j].name);
		len += (size_t)snprintf(want + len, sizeof(want) - len, "]%s\n",
		    i + 1 < lint_reg->n ? "," : "");
	}
	if (strstr(text, want) == NULL)
		lint_fail(file, 1, "CHANNEL_EVENTS differs from the registry; "
		    "run make regen");
}

/* Checks the JavaScript text of file. */
void
lint_js(const char *file, const char *text)
{
	const char	*base = strrchr(file, '/');

	base = base ? base + 1 : file;
	lint_each_match(file, text, "htmx\\.trigger\\([^)]*['\"`]sse:",
	    on_sse_trigger);
	lint_each_match(file, text,
	    "sseManager\\.connect\\(['\"]([^'\"]*)['\"]", on_connect);
	lint_each_match(file, text, "\\.type[ ]*===?[ ]*['\"]([^'\"]*)['\"]",
	    on_type);
	if (lint_hooks != NULL)
		lint_hooks->js(file, text);
	if (strcmp(base, "channel-events.js") == 0) {
		if (lint_hooks == NULL)
			check_channel_events(file, text);
	} else
		lint_each_match(file, text, "CHANNEL_EVENTS[ ]*=[ ]*"
		    "(Object\\.freeze\\()?\\{", on_handmade);
}

/* Remembers Alpine component functions whose body connects. */
void
lint_collect_funcs(const char *text)
{
	regex_t		 re;
	regmatch_t	 m[2];
	const char	*p = text, *next;
	char		*name;

	if (regcomp(&re, "function[ ]+([A-Za-z_$][A-Za-z0-9_$]*)[ ]*\\(",
	    REG_EXTENDED) != 0)
		abort();
	while (regexec(&re, p, 2, m, 0) == 0 && nfuncs < LINT_FUNCS_MAX) {
		next = strstr(p + m[0].rm_eo, "\nfunction");
		name = strndup(p + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
		if (name != NULL && (next == NULL ? strstr(p + m[0].rm_eo,
		    "sseManager.connect") != NULL : memmem(p + m[0].rm_eo,
		    (size_t)(next - p - m[0].rm_eo), "sseManager.connect", 18)
		    != NULL))
			funcs[nfuncs++] = name;
		else
			free(name);
		p += m[0].rm_eo;
	}
	regfree(&re);
}

/* Returns 1 if an x-data or x-init value opens an SSE manager connection. */
static int
alpine_connects(const char *v)
{
	size_t	 i, n;

	if (strstr(v, "sseManager") != NULL)
		return 1;
	for (i = 0; i < nfuncs; i++) {
		n = strlen(funcs[i]);
		if (strncmp(v, funcs[i], n) == 0 && v[n] == '(')
			return 1;
	}
	return 0;
}

/* Returns 1 if e already lists channel ch, as a stream counts it once. */
static int
has_chan(const struct elem *e, const char *ch)
{
	size_t	 i;

	for (i = 0; i < e->nchans; i++)
		if (strcmp(e->chans[i], ch) == 0)
			return 1;
	return 0;
}

/* Fills e->chans from an sse-connect URL. */
static void
connect_channels(const char *file, int line, struct elem *e, const char *url)
{
	struct pgsse_query	 q;
	const char		*p = NULL;
	size_t			 i;

	e->connect = e->sse = 1;
	if (strncmp(url, "/api/sse/", 9) == 0)
		p = url + 9;
	else if (strncmp(url, "/api/jobs/", 10) == 0)
		p = PGSSE_JOB_CHANNEL;
	if (p != NULL) {
		snprintf(e->chans[0], sizeof(e->chans[0]), "%.*s",
		    (int)strcspn(p, "?"), p);
		e->nchans = 1;
	} else if (strncmp(url, "/api/sse?", 9) == 0 &&
	    pgsse_query_parse(url + 9, &q) == PGSSE_OK) {
		for (i = 0; i < q.n && e->nchans < PGSSE_CHANNELS_MAX; i++)
			if (strcmp(q.pairs[i].key, "channel") == 0 &&
			    !has_chan(e, q.pairs[i].val))
				snprintf(e->chans[e->nchans++],
				    sizeof(e->chans[0]), "%s", q.pairs[i].val);
		pgsse_query_free(&q);
	}
	for (i = 0; i < e->nchans; i++)
		if (strstr(e->chans[i], "{{") == NULL &&
		    pgsse_registry_channel(lint_reg, e->chans[i]) == NULL)
			lint_fail(file, line, "sse-connect to unknown channel "
			    "\"%s\"", e->chans[i]);
}

/*
 * Returns 1 if ev is what a stream of the connect e's channels sends
 * for one of them: the plain name on a stream of one channel,
 * "<channel>.<event>" on a stream of several. Sets *why otherwise.
 */
static int
connect_sends(const struct elem *e, const char *ev, const char **why)
{
	const char	*dot = strchr(ev, '.');
	size_t		 j;

	for (j = 0; j < e->nchans; j++) {
		if (e->nchans == 1 && lint_documented(e->chans[j], ev))
			return 1;
		if (e->nchans > 1 && dot != NULL &&
		    strlen(e->chans[j]) == (size_t)(dot - ev) &&
		    strncmp(e->chans[j], ev, (size_t)(dot - ev)) == 0 &&
		    lint_documented(e->chans[j], dot + 1))
			return 1;
	}
	if (e->nchans > 1 && dot == NULL)
		*why = "; a stream of several channels names it "
		    "<channel>.<event>";
	else if (e->nchans == 1 && dot != NULL)
		*why = "; a stream of one channel sends plain names";
	return 0;
}

/*
 * Checks an event named by sse: or sse-swap against the nearest
 * connect, or with none (lint_loose) against the whole registry.
 */
static void
check_sse_event(const char *file, int line, struct elem *stack, size_t depth,
    const char *ev)
{
	const char	*why = "";
	size_t		 i;

	for (i = depth; i-- > 0;) {
		if (!stack[i].connect)
			continue;
		if (system_event(ev) || connect_sends(&stack[i], ev, &why))
			return;
		lint_fail(file, line, "sse event \"%s\" is not documented for "
		    "the channels of its sse-connect%s", ev, why);
		return;
	}
	/* A template's fragment lands in a page of some sse-connect. */
	if (!lint_loose)
		lint_fail(file, line, "sse event \"%s\" used outside any "
		    "sse-connect", ev);
	else if (!documented_anywhere(ev) && !qualified(ev))
		lint_fail(file, line, "sse event \"%s\" is not documented on "
		    "any channel", ev);
}

/* Checks the events named in hx-trigger (sse:NAME) or sse-swap. */
static void
check_names(const char *file, int line, struct elem *stack, size_t depth,
    const char *v, int swap)
{
	/* "<channel>.<event>", and one more byte to tell a longer one. */
	char		 ev[PGSSE_CHANNEL_MAX + PGSSE_EVENT_MAX + 3];
	const char	*p = v;
	size_t		 n;

	while (*p != '\0') {
		if (!swap) {
			if ((p = strstr(p, "sse:")) == NULL)
				return;
			p += 4;
		}
		p += strspn(p, " ,");
		n = strcspn(p, " ,[");
		if (n == 0)
			return;
		snprintf(ev, sizeof(ev), "%.*s", (int)(n > sizeof(ev) - 1 ?
		    sizeof(ev) - 1 : n), p);
		check_sse_event(file, line, stack, depth, ev);
		p += n;
		if (!swap)
			p += strcspn(p, ",");
	}
}

struct attr {
	char	 name[64];
	char	 val[2048];
};

/* Turns each "&amp;" of an attribute value into "&", as a browser does. */
static void
unescape_amp(char *v)
{
	char	*r, *w;

	for (r = w = v; *r != '\0'; r++) {
		*w++ = *r;
		if (strncmp(r, "&amp;", 5) == 0)
			r += 4;
	}
	*w = '\0';
}

/* Reads attributes from p up to '>'; returns the position after '>'. */
static const char *
read_attrs(const char *p, struct attr *a, size_t max, size_t *n, int *self)
{
	char	 q;
	size_t	 len;

	*n = 0;
	*self = 0;
	while (*p != '\0' && *p != '>') {
		p += strspn(p, " \t\r\n");
		if (*p == '/') {
			*self = 1;
			p++;
			continue;
		}
		if (*p == '>' || *p == '\0')
			break;
		len = strcspn(p, " \t\r\n=/>");
		if (*n < max) {
			snprintf(a[*n].name, sizeof(a[*n].name), "%.*s",
			    (int)len, p);
			a[*n].val[0] = '\0';
		}
		p += len;
		if (*p == '=') {
			p++;
			q = (*p == '"' || *p == '\'') ? *p++ : 0;
			len = q ? strcspn(p, q == '"' ? "\"" : "'") :
			    strcspn(p, " \t\r\n>");
			if (*n < max) {
				snprintf(a[*n].val, sizeof(a[*n].val), "%.*s",
				    (int)len, p);
				unescape_amp(a[*n].val);
			}
			p += len + (q && p[len] == q);
		}
		if (len > 0 || *p != '\0')
			(*n)++;
	}
	return *p == '>' ? p + 1 : p;
}

static int
void_elem(const char *name)
{
	static const char *const v[] = { "area", "base", "br", "col", "embed",
	    "hr", "img", "input", "link", "meta", "source", "track", "wbr",
	    NULL };
	size_t	 i;

	for (i = 0; v[i] != NULL; i++)
		if (strcasecmp(name, v[i]) == 0)
			return 1;
	return 0;
}

/* Checks one opening tag; pushes it unless it is void. */
static void
lint_tag(const char *file, int line, struct elem *stack, size_t *depth,
    const char *name, struct attr *a, size_t n, int self)
{
	struct elem	 e;
	const char	*alpine = NULL;
	size_t		 i;

	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "%s", name);
	for (i = 0; i < n; i++) {
		if (strcmp(a[i].name, "sse-connect") == 0)
			connect_channels(file, line, &e, a[i].val);
		else if (strcmp(a[i].name, "hx-ext") == 0 &&
		    strstr(a[i].val, "sse") != NULL)
			e.sse = 1;
		else if ((strcmp(a[i].name, "x-data") == 0 ||
		    strcmp(a[i].name, "x-init") == 0) &&
		    alpine_connects(a[i].val))
			alpine = a[i].val;
	}
	if (e.sse && alpine != NULL)
		lint_fail(file, line, "<%s> mixes the htmx SSE extension with "
		    "an Alpine SSE manager connection (%s)", name, alpine);
	if (*depth < LINT_DEPTH_MAX && !self && !void_elem(name))
		stack[(*depth)++] = e;
	for (i = 0; i < n; i++) {
		if (strcmp(a[i].name, "hx-trigger") == 0)
			check_names(file, line, stack, *depth, a[i].val, 0);
		else if (strcmp(a[i].name, "sse-swap") == 0)
			check_names(file, line, stack, *depth, a[i].val, 1);
		if (lint_hooks != NULL)
			lint_hooks->attr(file, line, a[i].name, a[i].val);
	}
}

/*
 * Returns a copy of text up to end in which all but the script from p
 * on is blanks, its newlines kept, so that a finding in the script has
 * its line of the page. The caller frees it. Aborts on OOM.
 */
static char *
script_text(const char *text, const char *p, const char *end)
{
	char	*js;
	size_t	 i;

	if ((js = calloc(1, (size_t)(end - text) + 1)) == NULL)
		abort();
	for (i = 0; text + i < p; i++)
		js[i] = text[i] == '\n' ? '\n' : ' ';
	memcpy(js + i, p, (size_t)(end - p));
	return js;
}

/* Checks the HTML text of file, and its inline scripts. */
void
lint_html(const char *file, const char *text)
{
	struct elem	*stack;
	struct attr	 a[32];
	char		 name[32], *js;
	const char	*p = text, *end;
	size_t		 depth = 0, n, len;
	int		 self, line;

	if ((stack = calloc(LINT_DEPTH_MAX, sizeof(*stack))) == NULL)
		abort();
	while ((p = strchr(p, '<')) != NULL) {
		line = lint_line_of(text, p);
		if (strncmp(p, "<!--", 4) == 0) {
			p = (end = strstr(p, "-->")) ? end + 3 : p + 4;
			continue;
		}
		if (p[1] == '/' || p[1] == '!') {
			len = strcspn(p + 2, " >");
			snprintf(name, sizeof(name), "%.*s", (int)len, p + 2);
			while (p[1] == '/' && depth > 0 &&
			    strcasecmp(stack[--depth].name, name) != 0)
				;
			p = (end = strchr(p, '>')) ? end + 1 : p + 1;
			continue;
		}
		len = strcspn(p + 1, " \t\r\n/>");
		snprintf(name, sizeof(name), "%.*s", (int)len, p + 1);
		p = read_attrs(p + 1 + len, a, 32, &n, &self);
		lint_tag(file, line, stack, &depth, name, a, n > 32 ? 32 : n,
		    self);
		if (strcasecmp(name, "script") == 0 &&
		    (end = strstr(p, "</script")) != NULL) {
			js = script_text(text, p, end);
			lint_collect_funcs(js);
			lint_js(file, js);
			free(js);
			p = end;
		}
	}
	free(stack);
}

/*
 * Checks the publishers in text of file; those of the pgsse-publish
 * command too if shell.
 */
void
lint_publishers(const char *file, const char *text, int shell)
{
	lint_each_match(file, text, "pgsse\\.publish\\([ ]*'([a-z0-9_]+)'[ ]*,"
	    "[ ]*'([^']+)'", on_publish);
	lint_each_match(file, text, "(pgsse_publish|emit)\\([^,\"]*,[ ]*"
	    "\"([a-z0-9_]+)\"[ ]*,[ ]*\"([^\"]+)\"", on_publish23);
	if (shell)
		lint_each_match(file, text, "pgsse-publish([ ]+-[sn][ ]+[^ ]+)*"
		    "[ ]+([a-z][a-z0-9_]*)[ ]+([a-z][a-z0-9_]*)", on_publish23);
	lint_each_match(file, text, "(NOTIFY|notify)[ ]+([a-z][a-z0-9_]*)[ ]*,"
	    "[ ]*'\\{\"event\"[ ]*:[ ]*\"([^\"]+)\"", on_publish23);
}

/* Returns 1 if z ends with suffix. */
int
lint_ends_with(const char *z, const char *suffix)
{
	size_t	 n = strlen(z), m = strlen(suffix);

	return n >= m && strcmp(z + n - m, suffix) == 0;
}

/* Prints how many problems there were; returns the exit status. */
static int
summary(void)
{
	if (lint_errors > 0)
		fprintf(stderr, "pgsse-lint: %d problem%s\n", lint_errors,
		    lint_errors == 1 ? "" : "s");
	return lint_errors > 0;
}

/* pgsse-lint --app DIR. Returns the exit status. */
static int
app_main(const char *dir)
{
	if (lint_app(dir) == -1) {
		fprintf(stderr, "pgsse-lint: %s: not a folder\n", dir);
		return 2;
	}
	while (nfuncs > 0)
		free(funcs[--nfuncs]);
	return summary();
}

int
main(int argc, char *argv[])
{
	struct pgsse_registry	*r;
	struct pgsse_buf	 err = { NULL, 0, 0 };
	char			*text;
	int			 i, pass, help;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		puts("pgsse-lint " PGSSE_VERSION);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    (strcmp(argv[1], "--app") == 0 && argc != 3) ||
	    (argv[1][0] == '-' && strcmp(argv[1], "--app") != 0)) {
		help = argc == 2 && strcmp(argv[1], "--help") == 0;
		fprintf(help ? stdout : stderr, "usage: pgsse-lint "
		    "REGISTRY FILE...\n       pgsse-lint --app DIR\n"
		    "       pgsse-lint --help | --version\nChecks "
		    "pages, scripts and publishers against the event "
		    "registry,\nor an app folder whole.\n");
		return help ? 0 : 2;
	}
	if (strcmp(argv[1], "--app") == 0)
		return app_main(argv[2]);
	if ((text = lint_slurp(argv[1])) == NULL ||
	    (r = pgsse_registry_parse(text, &err)) == NULL) {
		fprintf(stderr, "pgsse-lint: %s: %s\n", argv[1],
		    err.p ? err.p : "cannot read");
		return 2;
	}
	free(text);
	lint_reg = r;
	for (pass = 0; pass < 2; pass++)
		for (i = 2; i < argc; i++) {
			if ((text = lint_slurp(argv[i])) == NULL) {
				fprintf(stderr, "pgsse-lint: cannot read %s\n",
				    argv[i]);
				lint_errors++;
				continue;
			}
			if (pass == 0 && lint_ends_with(argv[i], ".js"))
				lint_collect_funcs(text);
			else if (pass == 1 && lint_ends_with(argv[i], ".html"))
				lint_html(argv[i], text);
			else if (pass == 1 && lint_ends_with(argv[i], ".js"))
				lint_js(argv[i], text);
			else if (pass == 1)
				lint_publishers(argv[i], text, 1);
			free(text);
		}
	pgsse_registry_free(r);
	pgsse_buf_free(&err);
	while (nfuncs > 0)
		free(funcs[--nfuncs]);
	return summary();
}
