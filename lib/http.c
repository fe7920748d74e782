/*
 * http.c: the request and response of one FastCGI or CGI exchange.
 *
 * Output goes through pgsse_req_write: to the response buffer of a
 * request pgsse's own reader read (framed as FastCGI records when
 * flushed or ended, and sent with one writev), or to standard output
 * under plain CGI, so every program has one code path for both.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "pgsse.h"
#include "pgsse-app.h"
#include "extern.h"
#include "fcgi.h"
#include "http.h"

/* Most iovecs one response's writev takes: two a record, and the end. */
#define HTTP_IOV_MAX 64

static const char *const status_lines[PGSSE_HTTP__MAX] = {
	"200 OK",
	"204 No Content",
	"400 Bad Request",
	"403 Forbidden",
	"404 Not Found",
	"405 Method Not Allowed",
	"413 Content Too Large",
	"414 URI Too Long",
	"429 Too Many Requests",
	"500 Internal Server Error",
	"503 Service Unavailable",
};

/* Returns the status line of st, e.g. "404 Not Found". Can't fail. */
const char *
pgsse_http_status_line(enum pgsse_http_status st)
{
	if ((unsigned)st >= PGSSE_HTTP__MAX)
		st = PGSSE_HTTP_500;
	return status_lines[st];
}

/* Returns the request's CGI variable, or NULL. The request owns it. */
const char *
pgsse_req_param(const struct pgsse_req *r, const char *name)
{
	if (r->own != NULL)
		return pgsse_fcgi_req_param(r->own, name);
	return getenv(name);
}

/*
 * Writes n bytes. Returns PGSSE_ERR_IO once the peer is gone; every
 * later call then fails at once.
 */
enum pgsse_err
pgsse_req_write(struct pgsse_req *r, const void *p, size_t n)
{
	const char	*cp = p;
	ssize_t		 w;

	if (r->broken)
		return PGSSE_ERR_IO;
	if (r->own != NULL) {
		if (pgsse_buf_put(r->out, p, n) != PGSSE_OK)
			r->broken = 1;
		return r->broken ? PGSSE_ERR_IO : PGSSE_OK;
	}
	while (n > 0) {
		if ((w = write(STDOUT_FILENO, cp, n)) == -1) {
			if (errno == EINTR)
				continue;
			r->broken = 1;
			return PGSSE_ERR_IO;
		}
		cp += w;
		n -= (size_t)w;
	}
	return PGSSE_OK;
}

/*
 * Writes all of the n iovecs at iov to fd, which may take several
 * writes (iov is changed), by the time until at most. Returns 0, or -1
 * if the peer is gone, or is too slow (each write waits the socket's
 * SO_SNDTIMEO at most).
 */
static int
http_writev(int fd, struct iovec *iov, int n, time_t until)
{
	struct timespec	 t;
	ssize_t		 w;

	while (n > 0) {
		if ((w = writev(fd, iov, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec > until)
			return -1;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/*
 * Sends what r's own response holds as STDOUT records, and then, with
 * end set, the request's end (an empty STDOUT, END_REQUEST), in as few
 * writev calls as HTTP_IOV_MAX allows: the records' headers are built
 * apart, so the response is not copied. The server has
 * PGSSE_APP_WRITE_TIMEOUT_SEC to take it all. Returns PGSSE_ERR_IO if
 * the peer is gone, or too slow.
 */
static enum pgsse_err
http_own_send(struct pgsse_req *r, int end)
{
	unsigned char	 h[HTTP_IOV_MAX / 2][PGSSE_FCGI_HEADER];
	unsigned char	 e[PGSSE_FCGI_END_LEN];
	struct iovec	 iov[HTTP_IOV_MAX];
	size_t		 off = 0, k, len = r->out->len;
	unsigned int	 id = r->own->reqid;
	struct timespec	 t;
	int		 n;

	clock_gettime(CLOCK_MONOTONIC, &t);
	do {
		for (n = 0; off < len && n + 3 <= HTTP_IOV_MAX; off += k) {
			k = len - off > PGSSE_FCGI_BODY_MAX ?
			    PGSSE_FCGI_BODY_MAX : len - off;
			pgsse_fcgi_header_to(h[n / 2], PGSSE_FCGI_STDOUT, id,
			    k);
			iov[n].iov_base = h[n / 2];
			iov[n++].iov_len = PGSSE_FCGI_HEADER;
			iov[n].iov_base = r->out->p + off;
			iov[n++].iov_len = k;
		}
		if (end && off == len) {
			pgsse_fcgi_end_to(e, id);
			iov[n].iov_base = e;
			iov[n++].iov_len = sizeof(e);
		}
		if (n > 0 && http_writev(r->fd, iov, n, t.tv_sec +
		    PGSSE_APP_WRITE_TIMEOUT_SEC) == -1)
			r->broken = 1;
	} while (!r->broken && off < len);
	pgsse_buf_reset(r->out);
	return r->broken ? PGSSE_ERR_IO : PGSSE_OK;
}

/*
 * Pushes buffered output to the web server. Returns PGSSE_ERR_IO if the
 * peer is gone: only a write reveals that.
 */
enum pgsse_err
pgsse_req_flush(struct pgsse_req *r)
{
	if (r->broken)
		return PGSSE_ERR_IO;
	if (r->own != NULL)
		return http_own_send(r, 0);
	return PGSSE_OK;	/* standard output is not buffered */
}

/*
 * Ends a request of pgsse's own reader: what is left of the response,
 * then its end, go out together. Returns PGSSE_ERR_IO if the peer is
 * gone (or was found gone before).
 */
enum pgsse_err
pgsse_req_end(struct pgsse_req *r)
{
	if (r->broken || r->own == NULL)
		return PGSSE_ERR_IO;
	return http_own_send(r, 1);
}

/*
 * Says why r's request (pgsse's own reader's) cannot be served, after
 * pgsse_fcgi_req_feed returned st: answers 400 if its parameters were
 * over a limit, ends it unserved with END_REQUEST's protocol status
 * for a role other than RESPONDER or a request the server aborted (as
 * libfcgi answered), and logs the others: not FastCGI as a server
 * sends it, out of memory, or cut short. A connection closed between
 * requests (no BEGIN_REQUEST yet) is not news. The caller closes the
 * connection.
 */
void
pgsse_req_read_failed(struct pgsse_req *r, int st)
{
	unsigned char	 e[PGSSE_FCGI_END_LEN];
	ssize_t		 n;

	if (st == PGSSE_FCGI_REQ_LIMIT) {
		pgsse_log(PGSSE_LOG_WARN, "a request over PGSSE_FCGI_PARAMS_MAX"
		    " bytes or PGSSE_FCGI_NPARAMS_MAX parameters: 400");
		if (pgsse_http_text(r, PGSSE_HTTP_400, NULL,
		    "request headers too large") == PGSSE_OK)
			pgsse_req_end(r);
	} else if (st == PGSSE_FCGI_REQ_ROLE || st == PGSSE_FCGI_REQ_ABORT) {
		pgsse_log(PGSSE_LOG_DEBUG, "a FastCGI request %s: ended "
		    "unserved", st == PGSSE_FCGI_REQ_ROLE ? "in a role other "
		    "than RESPONDER" : "aborted by the web server");
		pgsse_fcgi_end_to(e, r->own->reqid);
		e[2 * PGSSE_FCGI_HEADER + 4] = st == PGSSE_FCGI_REQ_ROLE ?
		    PGSSE_FCGI_UNKNOWN_ROLE : PGSSE_FCGI_REQUEST_COMPLETE;
		while ((n = write(r->fd, e, sizeof(e))) == -1 && errno == EINTR)
			;
	} else if (st == PGSSE_FCGI_REQ_BAD)
		pgsse_log(PGSSE_LOG_WARN, "a FastCGI peer sent what no web "
		    "server sends, or too much, or too slowly: closed");
	else if (st == PGSSE_FCGI_REQ_NOMEM)
		pgsse_log(PGSSE_LOG_ERROR, "a request: out of memory");
	else if (r->own->reqid != 0)
		pgsse_log(PGSSE_LOG_DEBUG, "a FastCGI request was cut short: "
		    "closed");
}

/*
 * Sends the answers to management records that q's reader holds
 * (fcgi.c) on fd, without waiting, and forgets them: a peer whose
 * socket has no room loses them whole. Returns 0, or -1 if only part
 * of them went out: the connection's records are then cut, and the
 * caller closes it.
 */
int
pgsse_req_answer_mgmt(int fd, struct pgsse_fcgi_req *q)
{
	ssize_t	 n = 0;

	if (q->rlen > 0)
		while ((n = send(fd, q->reply, q->rlen, MSG_DONTWAIT |
		    MSG_NOSIGNAL)) == -1 && errno == EINTR)
			;
	if (n > 0 && (size_t)n < q->rlen)
		return -1;
	q->rlen = 0;
	q->rfull = 0;
	return 0;
}

/*
 * Answers with status st, a plain-text body and the extra header lines
 * in headers (each ending in "\r\n", or NULL). Returns PGSSE_ERR_IO if
 * the peer is gone.
 */
enum pgsse_err
pgsse_http_text(struct pgsse_req *r, enum pgsse_http_status st,
    const char *headers, const char *body)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	enum pgsse_err		 er;

	er = pgsse_buf_printf(&b, "Status: %s\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nCache-Control: no-store\r\n%s\r\n%s\n",
	    pgsse_http_status_line(st), headers ? headers : "", body);
	if (er == PGSSE_OK)
		er = pgsse_req_write(r, b.p, b.len);
	if (er == PGSSE_OK)
		er = pgsse_req_flush(r);
	pgsse_buf_free(&b);
	return er;
}
