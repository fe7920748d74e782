/*
 * cookie.c: reads one cookie out of a request's Cookie header, as
 * browsers send it (RFC 6265: "a=1; b=2"). Spaces and tabs around
 * names and values are dropped, a value in double quotes loses them,
 * and a pair without '=' is skipped. Of two cookies with one name the
 * first wins: the browser sends the one with the longer path first.
 */
#include <string.h>

#include "pgsse.h"
#include "extern.h"

/* Returns 1 if c is a space or a tab. */
static int
cookie_ws(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Checks the n bytes of the value at *v, removing its double quotes.
 * Returns PGSSE_ERR_INVAL on an unpaired quote or a control character.
 */
static enum pgsse_err
cookie_value(const char **v, size_t *n)
{
	size_t	 i;

	if (*n > 0 && ((*v)[0] == '"' || (*v)[*n - 1] == '"')) {
		if (*n < 2 || (*v)[0] != (*v)[*n - 1])
			return PGSSE_ERR_INVAL;
		(*v)++;
		*n -= 2;
	}
	for (i = 0; i < *n; i++)
		if ((unsigned char)(*v)[i] < 0x20 || (*v)[i] == 0x7f ||
		    (*v)[i] == '"')
			return PGSSE_ERR_INVAL;
	return PGSSE_OK;
}

/*
 * Copies the value of the first cookie called name in header (which may
 * be NULL) into out, of size outsz. Returns PGSSE_OK, PGSSE_ERR_NOTFOUND
 * if there is none, PGSSE_ERR_LIMIT if it does not fit, PGSSE_ERR_INVAL
 * if it is malformed. out is the caller's; it holds a string only on
 * PGSSE_OK.
 */
enum pgsse_err
pgsse_cookie_get(const char *header, const char *name, char *out,
    size_t outsz)
{
	const char	*z = header, *end, *eq, *v;
	size_t		 nlen = strlen(name), klen, vlen;
	enum pgsse_err	 er;

	for (; z != NULL && *z != '\0'; z = *end == ';' ? end + 1 : end) {
		end = z + strcspn(z, ";");
		while (z < end && cookie_ws(*z))
			z++;
		if ((eq = memchr(z, '=', (size_t)(end - z))) == NULL)
			continue;
		klen = (size_t)(eq - z);
		while (klen > 0 && cookie_ws(z[klen - 1]))
			klen--;
		if (klen != nlen || memcmp(z, name, nlen) != 0)
			continue;
		for (v = eq + 1; v < end && cookie_ws(*v); v++)
			continue;
		vlen = (size_t)(end - v);
		while (vlen > 0 && cookie_ws(v[vlen - 1]))
			vlen--;
		if ((er = cookie_value(&v, &vlen)) != PGSSE_OK)
			return er;
		if (vlen >= outsz)
			return PGSSE_ERR_LIMIT;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		return PGSSE_OK;
	}
	return PGSSE_ERR_NOTFOUND;
}
