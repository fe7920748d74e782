/*
 * cursor.h: a parsed Last-Event-ID (cursor.c). Include after pgsse.h
 * and extern.h.
 */
#ifndef PGSSE_CURSOR_H
#define PGSSE_CURSOR_H

#include <stdint.h>

struct pgsse_cursor {
	int64_t		 id[PGSSE_CHANNELS_MAX];	/* given id, or -1 */
	int		 epoch;		/* of the log (1 if none given), or
					 * 0 if nothing applied */
	int		 given;		/* some id applied to a channel */
	const char	*reset;		/* static: why all were dropped */
};

#endif /* PGSSE_CURSOR_H */
