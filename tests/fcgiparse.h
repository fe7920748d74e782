/*
 * fcgiparse.h: a FastCGI record reader written from the FastCGI 1.0
 * specification alone, independent of lib/fcgi.c, so tests can
 * round-trip the writer through it.
 */
#ifndef FCGIPARSE_H
#define FCGIPARSE_H

#include <stddef.h>

/* What a response's records carried. */
struct fcgi_resp {
	char	*out;		/* the STDOUT bytes, joined; caller frees */
	size_t	 outlen;
	size_t	 records;	/* records read */
	size_t	 maxbody;	/* largest content length seen */
	int	 closed;	/* the empty STDOUT record came */
	int	 ended;		/* END_REQUEST came */
	unsigned int app_status;
	int	 proto_status;
};

int	fcgi_read_response(const unsigned char *, size_t, unsigned int,
	    struct fcgi_resp *, const char **);

#endif
