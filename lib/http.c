/*
 * http.c: the request and response of one FastCGI or CGI exchange.
 *
 * Output goes through pgsse_req_write, to libfcgi's stream when the web
 * server speaks FastCGI, or to standard output under plain CGI, so every
 * program has one code path for both.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "pgsse.h"
#include "extern.h"
#include "http.h"

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
	if (r->fcgi != NULL)
		return FCGX_GetParam(name, r->fcgi->envp);
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
	if (r->fcgi != NULL) {
		if (n > 0 && FCGX_PutStr(p, (int)n, r->fcgi->out) != (int)n)
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
 * Pushes buffered output to the web server. Returns PGSSE_ERR_IO if the
 * peer is gone: only a write reveals that.
 */
enum pgsse_err
pgsse_req_flush(struct pgsse_req *r)
{
	if (r->broken)
		return PGSSE_ERR_IO;
	if (r->fcgi != NULL && (FCGX_FFlush(r->fcgi->out) == -1 ||
	    FCGX_GetError(r->fcgi->out) != 0))
		r->broken = 1;
	return r->broken ? PGSSE_ERR_IO : PGSSE_OK;
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
