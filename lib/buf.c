/*
 * buf.c: growable byte buffers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"

/* Largest buffer we will ever grow to: a guard against runaway input. */
#define BUF_MAX (64u * 1024 * 1024)

static const char *const errs[PGSSE_ERR__MAX] = {
	"ok",
	"out of memory",
	"malformed input",
	"input over a limit",
	"not found",
	"forbidden",
	"database error",
	"i/o error",
};

/*
 * Returns the static name of err; never NULL.
 */
const char *
pgsse_err_str(enum pgsse_err err)
{
	if ((unsigned)err >= PGSSE_ERR__MAX)
		return "unknown error";
	return errs[err];
}

/*
 * Makes room for n more bytes plus a NUL.
 * Returns PGSSE_ERR_NOMEM (buffer unchanged) on failure.
 */
static enum pgsse_err
buf_grow(struct pgsse_buf *b, size_t n)
{
	size_t	 cap;
	char	*p;

	if (n > BUF_MAX || b->len > BUF_MAX - n - 1)
		return PGSSE_ERR_NOMEM;
	if (b->len + n + 1 <= b->cap)
		return PGSSE_OK;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return PGSSE_ERR_NOMEM;
	b->p = p;
	b->cap = cap;
	return PGSSE_OK;
}

/*
 * Appends n bytes of p. Returns PGSSE_ERR_NOMEM on failure, leaving
 * the buffer as it was. The buffer owns its memory until pgsse_buf_free.
 */
enum pgsse_err
pgsse_buf_put(struct pgsse_buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return PGSSE_OK;
}

/* Appends a NUL-terminated string; as pgsse_buf_put. */
enum pgsse_err
pgsse_buf_puts(struct pgsse_buf *b, const char *z)
{
	return pgsse_buf_put(b, z, strlen(z));
}

/*
 * Appends formatted text; as pgsse_buf_put. It formats into the room
 * the buffer has first, and only if that is too small measures, grows
 * and formats again (measuring first, each time, was 2% of pgsse-app's
 * CPU under W5).
 */
enum pgsse_err
pgsse_buf_printf(struct pgsse_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 room = b->cap > b->len ? b->cap - b->len : 0;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(room > 0 ? b->p + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < room) {
		b->len += (size_t)n;
		return PGSSE_OK;
	}
	if (room > 0)
		b->p[b->len] = '\0';	/* as it was */
	if (n < 0)
		return PGSSE_ERR_INVAL;
	if (buf_grow(b, (size_t)n) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return PGSSE_OK;
}

/* Empties the buffer and keeps its memory. Accepts NULL. */
void
pgsse_buf_reset(struct pgsse_buf *b)
{
	if (b == NULL)
		return;
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/* Frees the buffer's memory; the buffer may be used again. Accepts NULL. */
void
pgsse_buf_free(struct pgsse_buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
