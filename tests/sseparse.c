/*
 * sseparse.c: see sseparse.h. Follows "Interpreting an event stream"
 * in the WHATWG HTML standard step by step; test code, so it aborts on
 * allocation failure.
 */
#include <stdlib.h>
#include <string.h>

#include "sseparse.h"

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		abort();
	return p;
}

static char *
xstrndup(const char *z, size_t n)
{
	char	*p = xrealloc(NULL, n + 1);

	memcpy(p, z, n);
	p[n] = '\0';
	return p;
}

void
sse_parser_init(struct sse_parser *p,
    void (*cb)(const struct sse_msg *, void *), void *arg)
{
	memset(p, 0, sizeof(*p));
	p->lastid = xstrndup("", 0);
	p->idbuf = xstrndup("", 0);
	p->retry = -1;
	p->on_msg = cb;
	p->arg = arg;
}

static void
dispatch(struct sse_parser *p)
{
	struct sse_msg	 m;

	free(p->lastid);
	p->lastid = xstrndup(p->idbuf, strlen(p->idbuf));
	if (p->data == NULL) {
		free(p->event);
		p->event = NULL;
		return;
	}
	if (p->datalen > 0 && p->data[p->datalen - 1] == '\n')
		p->data[--p->datalen] = '\0';
	m.id = p->lastid;
	m.event = p->event ? p->event : "message";
	m.data = p->data;
	if (strcmp(m.event, "pgsse.heartbeat") == 0)
		p->heartbeats++;
	else if (p->on_msg)
		p->on_msg(&m, p->arg);
	free(p->data);
	free(p->event);
	p->data = p->event = NULL;
	p->datalen = 0;
}

static void
field(struct sse_parser *p, const char *name, const char *val, size_t vlen)
{
	size_t	 i;

	if (strcmp(name, "event") == 0) {
		free(p->event);
		p->event = xstrndup(val, vlen);
	} else if (strcmp(name, "data") == 0) {
		p->data = xrealloc(p->data, p->datalen + vlen + 2);
		memcpy(p->data + p->datalen, val, vlen);
		p->datalen += vlen;
		p->data[p->datalen++] = '\n';
		p->data[p->datalen] = '\0';
	} else if (strcmp(name, "id") == 0) {
		if (memchr(val, '\0', vlen) == NULL) {
			free(p->idbuf);
			p->idbuf = xstrndup(val, vlen);
		}
	} else if (strcmp(name, "retry") == 0) {
		for (i = 0; i < vlen; i++)
			if (val[i] < '0' || val[i] > '9')
				return;
		if (vlen > 0)
			p->retry = strtol(val, NULL, 10);
	}
}

static void
line(struct sse_parser *p, const char *z, size_t n)
{
	const char	*colon;
	char		*name;
	size_t		 nlen;

	if (n == 0) {
		dispatch(p);
		return;
	}
	if (z[0] == ':') {
		p->comments++;
		return;
	}
	colon = memchr(z, ':', n);
	nlen = colon ? (size_t)(colon - z) : n;
	name = xstrndup(z, nlen);
	if (colon == NULL)
		field(p, name, "", 0);
	else {
		colon++;
		if (colon < z + n && *colon == ' ')
			colon++;
		field(p, name, colon, (size_t)(z + n - colon));
	}
	free(name);
}

void
sse_parser_feed(struct sse_parser *p, const char *buf, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		char c = buf[i];
		if (!p->bom_done) {
			p->bom_done = 1;
			if (n - i >= 3 && memcmp(buf + i, "\xef\xbb\xbf", 3) == 0) {
				i += 2;
				continue;
			}
		}
		if (p->cr && c == '\n') {
			p->cr = 0;
			continue;
		}
		p->cr = 0;
		if (c == '\r' || c == '\n') {
			p->cr = c == '\r';
			line(p, p->line ? p->line : "", p->linelen);
			p->linelen = 0;
			continue;
		}
		/* Doubling: a byte at a time would copy a 1 MB line a
		 * million times (and ASan's realloc always copies). */
		if (p->linelen + 2 > p->linecap) {
			p->linecap = p->linecap ? p->linecap * 2 : 256;
			p->line = xrealloc(p->line, p->linecap);
		}
		p->line[p->linelen++] = c;
		p->line[p->linelen] = '\0';
	}
}

void
sse_parser_free(struct sse_parser *p)
{
	free(p->line);
	free(p->lastid);
	free(p->idbuf);
	free(p->event);
	free(p->data);
	memset(p, 0, sizeof(*p));
}
