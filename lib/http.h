/*
 * http.h: the request and response of one FastCGI or CGI exchange
 * (http.c); internal.
 */
#ifndef PGSSE_HTTP_H
#define PGSSE_HTTP_H

struct FCGX_Request;
struct pgsse_fcgi_req;

/*
 * One exchange: a request libfcgi read (fcgi), or one pgsse's own reader
 * read (own, on connection fd, its response gathered in out until it is
 * flushed or ended), or neither under plain CGI.
 */
struct pgsse_req {
	struct FCGX_Request	*fcgi;		/* libfcgi's, or NULL */
	struct pgsse_fcgi_req	*own;		/* pgsse's own reader's, or NULL */
	struct pgsse_buf	*out;		/* own: the response not yet sent */
	int			 fd;		/* own: the connection */
	int			 broken;	/* the peer is gone */
};
const char	*pgsse_http_status_line(enum pgsse_http_status);
const char	*pgsse_req_param(const struct pgsse_req *, const char *);
enum pgsse_err	 pgsse_req_write(struct pgsse_req *, const void *, size_t);
enum pgsse_err	 pgsse_req_flush(struct pgsse_req *);
enum pgsse_err	 pgsse_req_end(struct pgsse_req *);
enum pgsse_err	 pgsse_http_text(struct pgsse_req *, enum pgsse_http_status,
		    const char *, const char *);

#endif /* PGSSE_HTTP_H */
