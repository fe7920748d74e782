/*
 * route.c: matches a request path against a route pattern such as
 * "/notes/<id>/done", where each <name> stands for one path segment.
 */
#include <string.h>

#include "pgsse.h"
#include "extern.h"

static int
route_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/*
 * Copies the n bytes of segment q into buf, percent-decoded, with a
 * NUL. Returns the bytes written without the NUL, or -1 if an escape
 * is malformed or decodes to NUL. buf holds at least n + 1 bytes.
 */
static long
route_decode(const char *q, size_t n, char *buf)
{
	size_t	 i, j = 0;
	int	 hi, lo;

	for (i = 0; i < n; i++) {
		if (q[i] != '%') {
			buf[j++] = q[i];
			continue;
		}
		if (i + 2 >= n)
			return -1;
		hi = route_hex((unsigned char)q[i + 1]);
		lo = route_hex((unsigned char)q[i + 2]);
		if (hi < 0 || lo < 0 || (hi | lo) == 0)
			return -1;
		buf[j++] = (char)(hi * 16 + lo);
		i += 2;
	}
	buf[j] = '\0';
	return (long)j;
}

/*
 * Matches path against pattern, storing each <name> segment in args (at
 * most nargs), percent-decoded, as strings copied into buf, of size
 * bufsz. Returns 1 on a match, else 0: a segment with a malformed
 * escape or an encoded NUL matches nothing. args point into buf, which
 * the caller owns.
 */
int
pgsse_route_match(const char *pattern, const char *path, const char **args,
    size_t nargs, char *buf, size_t bufsz)
{
	const char	*p = pattern, *q = path;
	size_t		 n, got = 0, used = 0;
	long		 w;

	while (*p != '\0' && *q != '\0') {
		if (*p == '<') {
			p = strchr(p, '>');
			if (p == NULL || got == nargs)
				return 0;
			p++;
			n = strcspn(q, "/");
			if (n == 0 || used + n + 1 > bufsz ||
			    (w = route_decode(q, n, buf + used)) <= 0)
				return 0;
			args[got++] = buf + used;
			used += (size_t)w + 1;
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

/*
 * Returns the index among pattern's <name> segments of the one called
 * name, or -1 if it has none of that name. Can't fail.
 */
int
pgsse_route_arg(const char *pattern, const char *name)
{
	const char	*p = pattern;
	size_t		 n = strlen(name);
	int		 i = 0;

	while ((p = strchr(p, '<')) != NULL) {
		if (strncmp(p + 1, name, n) == 0 && p[n + 1] == '>')
			return i;
		i++;
		p++;
	}
	return -1;
}
