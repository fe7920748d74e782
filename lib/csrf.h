/*
 * csrf.h: signed CSRF tokens and the check of a POST (csrf.c);
 * internal. See the design comment in csrf.c.
 */
#ifndef PGSSE_CSRF_H
#define PGSSE_CSRF_H

/* Characters in a token: a nonce and its HMAC-SHA256, in hex. */
#define PGSSE_CSRF_TOKEN_LEN 96
/* Bytes in the secret file (PGSSE_SECRET_FILE): pgsse-app refuses to
 * start with fewer or more. */
#define PGSSE_CSRF_SECRET_MIN 32
#define PGSSE_CSRF_SECRET_MAX 1024
struct pgsse_csrf_key {
	unsigned char	 k[PGSSE_CSRF_SECRET_MAX];
	size_t		 len;		/* 0: no secret, no token valid */
};
/* A POST's CGI parameters the check reads; any may be NULL. */
struct pgsse_csrf_req {
	const char	*hx_request;	/* HTTP_HX_REQUEST */
	const char	*origin;	/* HTTP_ORIGIN */
	const char	*referer;	/* HTTP_REFERER */
	const char	*host;		/* HTTP_HOST */
	const char	*https;		/* HTTPS: "on" under TLS */
	const char	*scheme;	/* REQUEST_SCHEME */
	const char	*cookie;	/* HTTP_COOKIE */
	const char	*token;		/* HTTP_X_CSRF_TOKEN */
	const char	*hosts;		/* "host[:port], ...", or NULL: any */
};
enum pgsse_csrf_why {
	PGSSE_CSRF_OK,
	PGSSE_CSRF_NO_HX,		/* no HX-Request: true */
	PGSSE_CSRF_CROSS_ORIGIN,	/* Origin or Referer not this one */
	PGSSE_CSRF_BAD_TOKEN,		/* missing, forged or not the cookie */
	PGSSE_CSRF_BAD_HOST,		/* Host not in the allowed list */
	PGSSE_CSRF__MAX
};
enum pgsse_err	 pgsse_csrf_key_set(struct pgsse_csrf_key *, const void *,
		    size_t);
enum pgsse_err	 pgsse_csrf_key_load(struct pgsse_csrf_key *, const char *,
		    char *, size_t);
enum pgsse_err	 pgsse_csrf_issue(const struct pgsse_csrf_key *, char *,
		    size_t);
int		 pgsse_csrf_valid(const struct pgsse_csrf_key *, const char *);
int		 pgsse_csrf_host_ok(const struct pgsse_csrf_req *);
enum pgsse_csrf_why pgsse_csrf_check(const struct pgsse_csrf_key *,
		    const struct pgsse_csrf_req *);
const char	*pgsse_csrf_why_str(enum pgsse_csrf_why);
enum pgsse_err	 pgsse_csrf_set_cookie(const struct pgsse_csrf_key *,
		    const struct pgsse_csrf_req *, char *, size_t,
		    struct pgsse_buf *);

#endif /* PGSSE_CSRF_H */
