/*
 * http.h: the request and response of one FastCGI or CGI exchange
 * (http.c); internal.
 */
#ifndef PGSSE_HTTP_H
#define PGSSE_HTTP_H

struct FCGX_Request;
struct pgsse_req {
	struct FCGX_Request	*fcgi;		/* NULL under plain CGI */
	int			 broken;	/* the peer is gone */
};
const char	*pgsse_http_status_line(enum pgsse_http_status);
const char	*pgsse_req_param(const struct pgsse_req *, const char *);
enum pgsse_err	 pgsse_req_write(struct pgsse_req *, const void *, size_t);
enum pgsse_err	 pgsse_req_flush(struct pgsse_req *);
enum pgsse_err	 pgsse_http_text(struct pgsse_req *, enum pgsse_http_status,
		    const char *, const char *);

#endif /* PGSSE_HTTP_H */
