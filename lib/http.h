/*
 * http.h: the request and response of one FastCGI or CGI exchange
 * (http.c); internal.
 */
#ifndef PGSSE_HTTP_H
#define PGSSE_HTTP_H

struct pgsse_fcgi_req;

/*
 * One exchange: a request pgsse's own reader read (own, on connection
 * fd, its response gathered in out until it is flushed or ended), or
 * plain CGI's (own NULL: standard input and output).
 */
struct pgsse_req {
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
int		 pgsse_req_answer_mgmt(int, struct pgsse_fcgi_req *);
void		 pgsse_req_read_failed(struct pgsse_req *, int);
enum pgsse_err	 pgsse_http_text(struct pgsse_req *, enum pgsse_http_status,
		    const char *, const char *);

#endif /* PGSSE_HTTP_H */
