/*
 * env.c: numbers that programs read from their environment.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pgsse.h"
#include "extern.h"

/*
 * Reads the environment variable name into *v: dflt if it is unset, else
 * its decimal number, which must be 0 to max. Returns 0, or -1 after
 * saying so on standard error, as prog, if it is anything else (a usage
 * error: the program exits 2).
 */
int
pgsse_env_num(const char *prog, const char *name, long dflt, long max,
    long *v)
{
	const char	*z = getenv(name);
	char		*end;

	*v = dflt;
	if (z == NULL)
		return 0;
	*v = strtol(z, &end, 10);
	if (*z != '\0' && *end == '\0' && *v >= 0 && *v <= max)
		return 0;
	fprintf(stderr, "%s: %s must be 0 to %ld\n", prog, name, max);
	return -1;
}
