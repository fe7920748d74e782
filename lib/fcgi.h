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
	PGSSE_FCGI_END_REQUEST = 3,
	PGSSE_FCGI_STDOUT = 6,
	PGSSE_FCGI_TYPE__MAX
};
enum pgsse_err	 pgsse_fcgi_header(struct pgsse_buf *, enum pgsse_fcgi_type,
		    unsigned int, size_t);

#endif /* PGSSE_FCGI_H */
