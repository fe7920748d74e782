/*
 * starter.h: the threads that start streams (starter.c). Include after
 * pgsse.h.
 */
#ifndef PGSSE_STARTER_H
#define PGSSE_STARTER_H

#include <stddef.h>

struct pgsse_starter;

/* Starts the n items of v, which it then owns; v[0] is the oldest. */
typedef void	(*pgsse_starter_fn)(void **v, size_t n, void *arg);
/* Returns non-zero if item may be started in one group with lead. */
typedef int	(*pgsse_starter_same)(const void *lead, const void *item,
		    void *arg);

struct pgsse_starter	*pgsse_starter_new(size_t, size_t, size_t,
			    pgsse_starter_fn, pgsse_starter_same, void *);
enum pgsse_err		 pgsse_starter_push(struct pgsse_starter *, void *);
size_t			 pgsse_starter_queued(struct pgsse_starter *);
void			 pgsse_starter_free(struct pgsse_starter *);

#endif
