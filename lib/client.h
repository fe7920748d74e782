/*
 * client.h: a client's dead states (client.c), which the pump acts on
 * when it takes the client's queue. Include after pgsse.h and extern.h.
 */
#ifndef PGSSE_CLIENT_H
#define PGSSE_CLIENT_H

#include <stddef.h>

enum pgsse_client_dead {
	PGSSE_CLIENT_LIVE = 0,
	PGSSE_CLIENT_SLOW,	/* queue overflowed */
	PGSSE_CLIENT_STOP,	/* process stopping */
	PGSSE_CLIENT_GONE,	/* the web server hung up */
	PGSSE_CLIENT__MAX
};
enum pgsse_client_dead pgsse_client_take(struct pgsse_client *,
		    struct pgsse_event ***, size_t *, size_t *);
struct pgsse_fcgi_in;
int		 pgsse_client_reqid(const struct pgsse_client *);
void		 pgsse_client_set_in(struct pgsse_client *,
		    const struct pgsse_fcgi_in *);
const struct pgsse_fcgi_in *pgsse_client_in(const struct pgsse_client *);
size_t		 pgsse_client_unwritten(const struct pgsse_client *,
		    const char **);
int		 pgsse_client_sent(struct pgsse_client *, size_t, size_t *);

#endif /* PGSSE_CLIENT_H */
