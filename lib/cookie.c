/*
 * cookie.c: reads one cookie out of a request's Cookie header
 * ("a=1; b=2"), as browsers send it.
 */
#include <string.h>

#include "pgsse.h"
#include "extern.h"

/*
 * Copies the value of the cookie called name in header (which may be
 * NULL) into out, of size outsz. Returns PGSSE_OK, PGSSE_ERR_NOTFOUND if
 * there is none, or PGSSE_ERR_LIMIT if it is empty or does not fit. out
 * is the caller's; it holds a string only on PGSSE_OK.
 */
enum pgsse_err
pgsse_cookie_get(const char *header, const char *name, char *out,
    size_t outsz)
{
	const char	*z = header, *v;
	size_t		 nlen = strlen(name), vlen;

	for (; z != NULL && *z != '\0'; z += strcspn(z, ";"), z += *z == ';') {
		while (*z == ' ')
			z++;
		if (strncmp(z, name, nlen) != 0 || z[nlen] != '=')
			continue;
		v = z + nlen + 1;
		vlen = strcspn(v, ";");
		if (vlen == 0 || vlen >= outsz)
			return PGSSE_ERR_LIMIT;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		return PGSSE_OK;
	}
	return PGSSE_ERR_NOTFOUND;
}
