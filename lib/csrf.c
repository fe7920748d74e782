/*
 * csrf.c: the CSRF check of a POST to a fragment program, as a pure
 * function of the request's headers, and the tokens it takes.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "pgsse.h"
#include "extern.h"

/* Bytes of token entropy; the token is twice as many hex digits. */
#define CSRF_TOKEN_BYTES 16

static const char *const whys[PGSSE_CSRF__MAX] = {
	"ok",
	"missing HX-Request header",
	"cross-origin request refused",
	"missing or wrong CSRF token; reload the page",
};

/* Returns why's message for a 403 body. Can't fail; never NULL. */
const char *
pgsse_csrf_why_str(enum pgsse_csrf_why why)
{
	return why < PGSSE_CSRF__MAX ? whys[why] : "refused";
}

/*
 * Sets key to the len bytes of secret. Returns PGSSE_ERR_LIMIT if len
 * is out of bounds. key is the caller's.
 */
enum pgsse_err
pgsse_csrf_key_set(struct pgsse_csrf_key *key, const void *secret,
    size_t len)
{
	if (len > sizeof(key->k))
		return PGSSE_ERR_LIMIT;
	memcpy(key->k, secret, len);
	key->len = len;
	return PGSSE_OK;
}

/*
 * Writes a fresh token into out, of size outsz. Returns PGSSE_ERR_LIMIT
 * if out is too small, PGSSE_ERR_IO if no random bytes came; out then
 * holds the empty string.
 */
enum pgsse_err
pgsse_csrf_issue(const struct pgsse_csrf_key *key, char *out, size_t outsz)
{
	unsigned char	 raw[CSRF_TOKEN_BYTES];
	size_t		 i;

	(void)key;
	if (outsz < PGSSE_CSRF_TOKEN_LEN + 1)
		return PGSSE_ERR_LIMIT;
	out[0] = '\0';
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return PGSSE_ERR_IO;
	for (i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return PGSSE_OK;
}

/* Returns 1 if token is one pgsse_csrf_issue could have made. */
int
pgsse_csrf_valid(const struct pgsse_csrf_key *key, const char *token)
{
	size_t	 i;

	(void)key;
	for (i = 0; token[i] != '\0'; i++)
		if (!isxdigit((unsigned char)token[i]))
			return 0;
	return i == PGSSE_CSRF_TOKEN_LEN;
}

/* Returns 1 if the request's Origin or Referer names this host. */
static int
csrf_same_origin(const struct pgsse_csrf_req *r)
{
	const char	*host = r->host, *z = r->origin;
	size_t		 hlen;

	if (z == NULL)
		z = r->referer;
	if (host == NULL || z == NULL)
		return 0;
	if (strncmp(z, "http://", 7) == 0)
		z += 7;
	else if (strncmp(z, "https://", 8) == 0)
		z += 8;
	else
		return 0;
	hlen = strlen(host);
	return strncmp(z, host, hlen) == 0 &&
	    (z[hlen] == '\0' || z[hlen] == '/');
}

/*
 * Decides whether the POST described by r may proceed, with key being
 * the secret the tokens are issued under. Returns PGSSE_CSRF_OK, or why
 * not. Reads r only; can't fail otherwise.
 */
enum pgsse_csrf_why
pgsse_csrf_check(const struct pgsse_csrf_key *key,
    const struct pgsse_csrf_req *r)
{
	char	 cookie[PGSSE_CSRF_TOKEN_LEN * 2];

	if (r->hx_request == NULL || strcmp(r->hx_request, "true") != 0)
		return PGSSE_CSRF_NO_HX;
	if (!csrf_same_origin(r))
		return PGSSE_CSRF_CROSS_ORIGIN;
	if (pgsse_cookie_get(r->cookie, PGSSE_CSRF_COOKIE, cookie,
	    sizeof(cookie)) != PGSSE_OK || !pgsse_csrf_valid(key, cookie) ||
	    r->token == NULL || strcmp(r->token, cookie) != 0)
		return PGSSE_CSRF_BAD_TOKEN;
	return PGSSE_CSRF_OK;
}
