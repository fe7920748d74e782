/*
 * accept.h: an acceptor that reads FastCGI requests from many
 * connections at once (accept.c). Include after pgsse.h, extern.h and
 * fcgi.h.
 */
#ifndef PGSSE_ACCEPT_H
#define PGSSE_ACCEPT_H

#include <stddef.h>

struct pgsse_acceptor;

/* A connection whose request's parameters are in. */
struct pgsse_accepted {
	int			 fd;	/* the caller's to close */
	struct pgsse_fcgi_req	*q;	/* the caller's to free */
	struct pgsse_fcgi_in	 in;	/* where reading q stopped */
};

struct pgsse_acceptor	*pgsse_acceptor_new(int, int, int, size_t);
int			 pgsse_acceptor_next(struct pgsse_acceptor *,
			    struct pgsse_accepted *);
void			 pgsse_acceptor_free(struct pgsse_acceptor *);

#endif
