/*
 * fuzz_sse.c: the SSE encoder (lib/sse.c), round-tripped through the
 * independent decoder (tests/sseparse.c). Input: id NUL event NUL data.
 * Whatever the bytes, an accepted event decodes to exactly one message
 * with the same id, the same name and the same data (line breaks
 * normalised to LF, NUL to U+FFFD).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "sseparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct got {
	int	 n;
	char	*id, *event, *data;
};

static void
on_msg(const struct sse_msg *m, void *arg)
{
	struct got	*g = arg;

	g->n++;
	free(g->id);
	free(g->event);
	free(g->data);
	g->id = strdup(m->id);
	g->event = strdup(m->event);
	g->data = strdup(m->data);
}

/* What a decoder must give back for data. */
static char *
expected(const char *data, size_t len, size_t *out)
{
	char	*w = malloc(len * 3 + 1);
	size_t	 i, n = 0;

	for (i = 0; i < len; i++) {
		if (data[i] == '\r') {
			w[n++] = '\n';
			if (i + 1 < len && data[i + 1] == '\n')
				i++;
		} else if (data[i] == '\0') {
			memcpy(w + n, "\xef\xbf\xbd", 3);
			n += 3;
		} else
			w[n++] = data[i];
	}
	w[n] = '\0';
	*out = n;
	return w;
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	const char		*id = (const char *)buf, *ev, *data;
	char			*copy, *want;
	struct pgsse_buf	 b = { NULL, 0, 0 };
	struct sse_parser	 p;
	struct got		 g = { 0, NULL, NULL, NULL };
	size_t			 idlen, evlen, dlen, wlen;

	if ((copy = malloc(size + 2)) == NULL)
		return 0;
	memcpy(copy, buf, size);
	copy[size] = copy[size + 1] = '\0';
	id = copy;
	idlen = strlen(id);
	ev = idlen < size ? id + idlen + 1 : id + idlen;
	evlen = strlen(ev);
	data = (size_t)(ev - copy) + evlen < size ? ev + evlen + 1 : ev + evlen;
	dlen = size - (size_t)(data - copy) <= size ?
	    size - (size_t)(data - copy) : 0;
	if (pgsse_sse_event(&b, id, ev, data, dlen) == PGSSE_OK) {
		sse_parser_init(&p, on_msg, &g);
		sse_parser_feed(&p, b.p, b.len);
		want = expected(data, dlen, &wlen);
		if (g.n != 1 || strcmp(g.id, id) != 0 ||
		    strcmp(g.event, ev) != 0 || strlen(g.data) != wlen ||
		    memcmp(g.data, want, wlen) != 0)
			abort();
		free(want);
		sse_parser_free(&p);
	}
	free(g.id);
	free(g.event);
	free(g.data);
	pgsse_buf_free(&b);
	free(copy);
	return 0;
}
