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
#define PGSSE_FCGI_END_LEN (2 * PGSSE_FCGI_HEADER + PGSSE_FCGI_END_BODY)
#define PGSSE_FCGI_RESPONDER 1	/* the only role served */
#define PGSSE_FCGI_KEEP_CONN 1	/* BEGIN_REQUEST's flag */
#define PGSSE_FCGI_REQUEST_COMPLETE 0	/* END_REQUEST's protocol status */
#define PGSSE_FCGI_UNKNOWN_ROLE 3	/* the same, for a role not served */
#define PGSSE_FCGI_PARAMS_MAX (64 * 1024) /* bytes of a request's PARAMS */
#define PGSSE_FCGI_NPARAMS_MAX 256	/* name-value pairs of a request */
#define PGSSE_FCGI_MGMT_KEEP 256	/* bytes of a management body read */
#define PGSSE_FCGI_REPLY_MAX 256	/* bytes of answers held to send */
#define PGSSE_FCGI_RESTARTS_MAX 16	/* times a request may start over */
enum pgsse_fcgi_type {
	PGSSE_FCGI_BEGIN_REQUEST = 1,
	PGSSE_FCGI_ABORT_REQUEST = 2,
	PGSSE_FCGI_END_REQUEST = 3,
	PGSSE_FCGI_PARAMS = 4,
	PGSSE_FCGI_STDIN = 5,
	PGSSE_FCGI_STDOUT = 6,
	PGSSE_FCGI_GET_VALUES = 9,
	PGSSE_FCGI_GET_VALUES_RESULT = 10,
	PGSSE_FCGI_UNKNOWN_TYPE = 11,
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
/*
 * A request as the responder reads it (pgsse_fcgi_req_feed), record by
 * record across reads: BEGIN_REQUEST, its PARAMS up to the empty one,
 * its STDIN up to the empty one. Zero it to start; pgsse_fcgi_req_reset
 * readies it for the connection's next request, pgsse_fcgi_req_free
 * frees it.
 */
struct pgsse_fcgi_req {
	unsigned char	 head[PGSSE_FCGI_HEADER];
	size_t		 hlen;		/* header bytes in */
	size_t		 body;		/* record body bytes still to come */
	size_t		 pad;		/* then padding bytes */
	int		 type;		/* the record's, if of the request */
	size_t		 clen;		/* the record's body length */
	unsigned char	 begin[PGSSE_FCGI_END_BODY]; /* BEGIN_REQUEST's */
	size_t		 blen;
	unsigned int	 reqid;		/* 0 till BEGIN_REQUEST */
	int		 keep;		/* the server keeps the connection */
	int		 params_done;	/* the empty PARAMS came */
	int		 in_done;	/* the empty STDIN came */
	char		*params;	/* the PARAMS stream, then decoded */
	size_t		 plen, pcap;
	const char	*env[2 * PGSSE_FCGI_NPARAMS_MAX]; /* name, value */
	size_t		 nenv;		/* pairs */
	char		*in;		/* STDIN kept, NUL-terminated; NULL: none */
	size_t		 inlen, incap;
	size_t		 inmax;		/* most STDIN bytes kept */
	size_t		 intotal;	/* STDIN bytes seen */
	int		 mgmt;		/* in a management record */
	int		 mtype;		/* its type */
	unsigned char	 mbody[PGSSE_FCGI_MGMT_KEEP]; /* its body's start */
	size_t		 mlen;
	unsigned char	 reply[PGSSE_FCGI_REPLY_MAX]; /* answers to send */
	size_t		 rlen;
	int		 rfull;		/* one dropped: drop the rest */
	int		 restarts;	/* times it started over */
};
enum pgsse_fcgi_req_st {
	PGSSE_FCGI_REQ_MORE = 0,	/* not whole yet: feed more */
	PGSSE_FCGI_REQ_OK,		/* whole: params and STDIN read */
	PGSSE_FCGI_REQ_BAD,		/* not FastCGI as a server sends it */
	PGSSE_FCGI_REQ_ROLE,		/* a role other than RESPONDER */
	PGSSE_FCGI_REQ_ABORT,		/* the server aborted it */
	PGSSE_FCGI_REQ_LIMIT,		/* params over a limit */
	PGSSE_FCGI_REQ_NOMEM,
	PGSSE_FCGI_REQ__MAX
};
enum pgsse_fcgi_req_st pgsse_fcgi_req_feed(struct pgsse_fcgi_req *,
		    const void *, size_t, size_t *);
const char	*pgsse_fcgi_req_param(const struct pgsse_fcgi_req *,
		    const char *);
void		 pgsse_fcgi_req_reset(struct pgsse_fcgi_req *);
void		 pgsse_fcgi_req_free(struct pgsse_fcgi_req *);
void		 pgsse_fcgi_header_to(unsigned char *, enum pgsse_fcgi_type,
		    unsigned int, size_t);
void		 pgsse_fcgi_end_to(unsigned char *, unsigned int);
enum pgsse_err	 pgsse_fcgi_header(struct pgsse_buf *, enum pgsse_fcgi_type,
		    unsigned int, size_t);
enum pgsse_fcgi_in_news pgsse_fcgi_in_feed(struct pgsse_fcgi_in *,
		    unsigned int, const void *, size_t);
enum pgsse_fcgi_in_news pgsse_fcgi_in_from_req(struct pgsse_fcgi_in *,
		    const struct pgsse_fcgi_req *);

#endif /* PGSSE_FCGI_H */
