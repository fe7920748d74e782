/*
 * fuzz_route.c: the route matcher (lib/route.c). Input: a pattern, a
 * newline, a path. A match of a valid pattern fills every <name> with a
 * non-empty segment, and putting them back into the pattern gives the
 * path again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "pgsse-app.h"
#include "extern.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Writes pattern with its <name>s replaced by args into out. */
static void
rebuild(const char *pattern, const char **args, char *out, size_t len)
{
	const char	*p;
	size_t		 n = 0, i = 0, a;

	for (p = pattern; *p != '\0' && n + 1 < len; p++) {
		if (*p != '<') {
			out[n++] = *p;
			continue;
		}
		a = strlen(args[i]);
		if (n + a + 1 >= len)
			abort();
		memcpy(out + n, args[i++], a);
		n += a;
		p = strchr(p, '>');
	}
	out[n] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*args[PGSSE_APP_ARGS_MAX];
	char		*z, *path, *back = NULL, buf[64];
	size_t		 i;
	int		 valid, match;

	if ((z = malloc(size + 1)) == NULL)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';
	if ((path = strchr(z, '\n')) == NULL)
		goto out;
	*path++ = '\0';
	valid = pgsse_route_valid(z, PGSSE_APP_ARGS_MAX);
	memset(args, 0, sizeof(args));
	match = pgsse_route_match(z, path, args, PGSSE_APP_ARGS_MAX, buf,
	    sizeof(buf));
	if (!match || !valid)
		goto out;
	for (i = 0; i < PGSSE_APP_ARGS_MAX && args[i] != NULL; i++)
		if (args[i] < buf || args[i] >= buf + sizeof(buf) ||
		    *args[i] == '\0' || args[i] + strlen(args[i]) >=
		    buf + sizeof(buf))
			abort();
	/* Segments are percent-decoded: without escapes, the args put
	 * back into the pattern give the path again. */
	if (strchr(path, '%') != NULL)
		goto out;
	for (i = 0; i < PGSSE_APP_ARGS_MAX && args[i] != NULL; i++)
		if (strchr(args[i], '/') != NULL)
			abort();
	if ((back = malloc(size + 1)) == NULL)
		goto out;
	rebuild(z, args, back, size + 1);
	if (strcmp(back, path) != 0)
		abort();
out:
	free(back);
	free(z);
	return 0;
}
