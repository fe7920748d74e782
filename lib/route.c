/*
 * route.c: matches a request path against a route pattern such as
 * "/demos/<id>/install", where each <name> stands for one path segment.
 */
#include <string.h>

#include "pgsse.h"
#include "extern.h"

/*
 * Matches path against pattern, storing each <name> segment in args (at
 * most nargs) as strings copied into buf, of size bufsz. Returns 1 on a
 * match, else 0. args point into buf, which the caller owns.
 */
int
pgsse_route_match(const char *pattern, const char *path, const char **args,
    size_t nargs, char *buf, size_t bufsz)
{
	const char	*p = pattern, *q = path;
	size_t		 n, got = 0, used = 0;

	while (*p != '\0' && *q != '\0') {
		if (*p == '<') {
			p = strchr(p, '>');
			if (p == NULL || got == nargs)
				return 0;
			p++;
			n = strcspn(q, "/");
			if (n == 0 || used + n + 1 > bufsz)
				return 0;
			memcpy(buf + used, q, n);
			buf[used + n] = '\0';
			args[got++] = buf + used;
			used += n + 1;
			q += n;
		} else if (*p++ != *q++)
			return 0;
	}
	return *p == '\0' && *q == '\0';
}

/*
 * Returns 1 if pattern is well-formed: it starts with '/', and each
 * <name> (letters, digits, '_') is a whole segment, at most nargs of
 * them. Else 0: such a pattern could never match. Can't fail.
 */
int
pgsse_route_valid(const char *pattern, size_t nargs)
{
	const char	*p = pattern;
	size_t		 n, got = 0;

	if (*p != '/')
		return 0;
	for (; *p != '\0'; p++) {
		if (*p == '>')
			return 0;
		if (*p != '<')
			continue;
		n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		if (p[-1] != '/' || n == 0 || p[n + 1] != '>' ||
		    (p[n + 2] != '/' && p[n + 2] != '\0') || ++got > nargs)
			return 0;
		p += n + 1;
	}
	return 1;
}
