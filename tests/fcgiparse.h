/*
 * fcgiparse.h: a FastCGI record reader, and a writer of requests as a
 * web server sends them, written from the FastCGI 1.0 specification
 * alone, independent of lib/fcgi.c, so tests can round-trip the writer
 * and feed the request reader.
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

/* Bytes a web server would send, built up by fcgi_put_*. Zero it. */
struct fcgi_out {
	unsigned char	*p;		/* fcgi_out_free frees */
	size_t		 len, cap;
	int		 failed;	/* memory ran out: p is short */
};

void	fcgi_put_record(struct fcgi_out *, int, unsigned int, const void *,
	    size_t, size_t);
void	fcgi_put_stream(struct fcgi_out *, int, unsigned int, const void *,
	    size_t);
void	fcgi_put_pair(struct fcgi_out *, const char *, size_t, const char *,
	    size_t, int);
void	fcgi_out_free(struct fcgi_out *);

#endif
