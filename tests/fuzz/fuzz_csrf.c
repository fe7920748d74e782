/*
 * fuzz_csrf.c: the CSRF check (lib/csrf.c), with its Origin, Referer
 * and Host parsers. Input: the request's fields one per line (HX-Request,
 * Origin, Referer, Host, HTTPS, REQUEST_SCHEME, Cookie, X-CSRF-Token);
 * an empty or missing line is a missing header. A request that passes has a token
 * the key signed, in the header as in the cookie.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "csrf.h"

/* The seed corpus's tokens are signed with this. */
#define FUZZ_KEY "pgsse-fuzz-key-0123456789abcdef0123456789"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pgsse_csrf_key	 key;
	struct pgsse_csrf_req		 r;
	const char			**f[] = { &r.hx_request, &r.origin,
	    &r.referer, &r.host, &r.https, &r.scheme, &r.cookie, &r.token };
	char				*z, *p;
	size_t				 i;
	enum pgsse_csrf_why		 why;

	if (key.len == 0 &&
	    pgsse_csrf_key_set(&key, FUZZ_KEY, strlen(FUZZ_KEY)) != PGSSE_OK)
		abort();
	if ((z = malloc(size + 1)) == NULL)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';
	memset(&r, 0, sizeof(r));
	for (i = 0, p = z; i < sizeof(f) / sizeof(f[0]) && p != NULL; i++) {
		*f[i] = *p != '\0' && *p != '\n' ? p : NULL;
		if ((p = strchr(p, '\n')) != NULL)
			*p++ = '\0';
	}
	why = pgsse_csrf_check(&key, &r);
	if (why >= PGSSE_CSRF__MAX || pgsse_csrf_why_str(why) == NULL)
		abort();
	if (why == PGSSE_CSRF_OK && (!pgsse_csrf_valid(&key, r.token) ||
	    strstr(r.cookie, r.token) == NULL))
		abort();
	free(z);
	return 0;
}
