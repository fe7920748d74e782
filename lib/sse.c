/*
 * sse.c: writes the text/event-stream format (WHATWG HTML 9.2).
 *
 * A field value ends at CR, LF or CRLF, so no value we write may contain
 * one unless it is split: data is split into one "data:" line per line,
 * ids and event names containing CR, LF or NUL are refused, and comments
 * have them replaced by spaces. NUL in data becomes U+FFFD, as a
 * decoder would do for bad input anyway.
 */
#include <string.h>

#include "pgsse.h"
#include "extern.h"

static int
has_break(const char *z)
{
	return z != NULL && strpbrk(z, "\r\n") != NULL;
}

/* Appends "data: <line>\n" for every line of data. */
static enum pgsse_err
sse_data(struct pgsse_buf *b, const char *data, size_t len)
{
	size_t	 i = 0, start;

	do {
		if (pgsse_buf_put(b, "data: ", 6) != PGSSE_OK)
			return PGSSE_ERR_NOMEM;
		for (start = i; i < len; i++) {
			if (data[i] == '\r' || data[i] == '\n')
				break;
			if (data[i] != '\0')
				continue;
			if (pgsse_buf_put(b, data + start, i - start) ||
			    pgsse_buf_put(b, "\xef\xbf\xbd", 3))
				return PGSSE_ERR_NOMEM;
			start = i + 1;
		}
		if (pgsse_buf_put(b, data + start, i - start) ||
		    pgsse_buf_put(b, "\n", 1))
			return PGSSE_ERR_NOMEM;
		if (i < len && data[i] == '\r' && i + 1 < len &&
		    data[i + 1] == '\n')
			i++;
		if (i < len)
			i++;
		else
			break;
	} while (1);
	return PGSSE_OK;
}

/*
 * Appends one event: "id:" if id is not NULL, "event:" if event is not
 * NULL, then data split into lines, then the blank line that ends it.
 * Returns PGSSE_ERR_INVAL, with nothing appended, if id contains CR, LF
 * or is too long, or event is not a valid event name; PGSSE_ERR_NOMEM
 * if memory ran out (the buffer may then hold part of the event).
 */
enum pgsse_err
pgsse_sse_event(struct pgsse_buf *b, const char *id, const char *event,
    const char *data, size_t datalen)
{
	if (has_break(id) || (id != NULL && strlen(id) > PGSSE_LAST_ID_MAX))
		return PGSSE_ERR_INVAL;
	if (event != NULL && !pgsse_name_event_ok(event))
		return PGSSE_ERR_INVAL;
	if (id != NULL && pgsse_buf_printf(b, "id: %s\n", id))
		return PGSSE_ERR_NOMEM;
	if (event != NULL && pgsse_buf_printf(b, "event: %s\n", event))
		return PGSSE_ERR_NOMEM;
	if (data != NULL && sse_data(b, data, datalen))
		return PGSSE_ERR_NOMEM;
	return pgsse_buf_put(b, "\n", 1);
}

/*
 * Appends a comment line ": text\n\n". CR and LF in text become spaces.
 * Returns PGSSE_ERR_NOMEM on failure.
 */
enum pgsse_err
pgsse_sse_comment(struct pgsse_buf *b, const char *text)
{
	size_t	 start = b->len, i;

	if (pgsse_buf_printf(b, ": %s\n\n", text))
		return PGSSE_ERR_NOMEM;
	for (i = start + 2; i < b->len - 2; i++)
		if (b->p[i] == '\r' || b->p[i] == '\n')
			b->p[i] = ' ';
	return PGSSE_OK;
}

/*
 * Appends the heartbeat event: PGSSE_HEARTBEAT_EVENT with no id, and the
 * interval in seconds and the server's Unix time as data. Returns
 * PGSSE_ERR_NOMEM on failure.
 */
enum pgsse_err
pgsse_sse_heartbeat(struct pgsse_buf *b, unsigned int interval,
    long long now)
{
	return pgsse_buf_printf(b, "event: " PGSSE_HEARTBEAT_EVENT "\n"
	    "data: {\"interval\":%u,\"time\":%lld}\n\n", interval, now);
}

/* Appends "retry: ms\n\n". Returns PGSSE_ERR_NOMEM on failure. */
enum pgsse_err
pgsse_sse_retry(struct pgsse_buf *b, unsigned int ms)
{
	return pgsse_buf_printf(b, "retry: %u\n\n", ms);
}
