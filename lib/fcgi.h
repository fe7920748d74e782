/*
 * fcgi.h: FastCGI record constants (fcgi.c), and the one function that
 * takes a record type. Include after pgsse.h and extern.h.
 */
#ifndef PGSSE_FCGI_H
#define PGSSE_FCGI_H

#include <stddef.h>

#define PGSSE_FCGI_VERSION 1
#define PGSSE_FCGI_HEADER 8		/* bytes in a record header */
#define PGSSE_FCGI_BODY_MAX 65535	/* most bytes in a record body */
#define PGSSE_FCGI_END_BODY 8		/* bytes in END_REQUEST's body */
enum pgsse_fcgi_type {
	PGSSE_FCGI_ABORT_REQUEST = 2,
	PGSSE_FCGI_END_REQUEST = 3,
	PGSSE_FCGI_STDIN = 5,
	PGSSE_FCGI_STDOUT = 6,
	PGSSE_FCGI_TYPE__MAX
};

/*
 * What the web server sends on a started request's connection, read
 * record by record across reads (pgsse_fcgi_in_feed). Zero it to start.
 */
struct pgsse_fcgi_in {
	unsigned char	 head[PGSSE_FCGI_HEADER];
	size_t		 hlen;		/* header bytes in */
	size_t		 skip;		/* body and padding bytes to skip */
	int		 lost;		/* not at a record: skips all */
};
enum pgsse_fcgi_in_news {
	PGSSE_FCGI_IN_NONE = 0,	/* nothing for the request */
	PGSSE_FCGI_IN_ABORT,	/* ABORT_REQUEST of the request */
	PGSSE_FCGI_IN__MAX
};
enum pgsse_err	 pgsse_fcgi_header(struct pgsse_buf *, enum pgsse_fcgi_type,
		    unsigned int, size_t);
enum pgsse_fcgi_in_news pgsse_fcgi_in_feed(struct pgsse_fcgi_in *,
		    unsigned int, const void *, size_t);
int		 pgsse_fcgi_request_whole(const void *, size_t);

#endif /* PGSSE_FCGI_H */
