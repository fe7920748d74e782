/*
 * sseparse.h: an SSE decoder written from the WHATWG algorithm alone,
 * independent of lib/sse.c, so tests can round-trip the encoder through
 * it and the stream tests can read what a browser would read. The
 * stream's heartbeat event (pgsse.heartbeat) is counted, as comments
 * are, and not handed on, so that tests see only the events they
 * published whatever the heartbeat interval.
 */
#ifndef SSEPARSE_H
#define SSEPARSE_H

#include <stddef.h>

struct sse_msg {
	char	*id;		/* last event id after this event */
	char	*event;		/* "message" when no event: field */
	char	*data;
};

struct sse_parser {
	char	*line;		/* partial line */
	size_t	 linelen;
	size_t	 linecap;	/* bytes allocated for line */
	int	 cr;		/* last byte was CR */
	char	*lastid;	/* committed at dispatch, as EventSource does */
	char	*idbuf;		/* the last event ID buffer */
	char	*event;
	char	*data;
	size_t	 datalen;
	long	 retry;		/* last retry: value, or -1 */
	size_t	 comments;
	size_t	 heartbeats;	/* pgsse.heartbeat events, counted only */
	int	 bom_done;
	void	(*on_msg)(const struct sse_msg *, void *);
	void	*arg;
};

void	sse_parser_init(struct sse_parser *,
	    void (*)(const struct sse_msg *, void *), void *);
void	sse_parser_feed(struct sse_parser *, const char *, size_t);
void	sse_parser_free(struct sse_parser *);

#endif
