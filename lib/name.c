/*
 * name.c: the whitelists for channel and event names.
 * A channel matches ^[a-z][a-z0-9_]{0,62}$, an event ^[a-z][a-z0-9_]{0,63}$.
 * sql/pgsse.sql enforces the same patterns with CHECK constraints.
 */
#include <stddef.h>

#include "pgsse.h"
#include "extern.h"

static int
name_ok(const char *z, size_t max)
{
	size_t	 i;

	if (z == NULL || z[0] < 'a' || z[0] > 'z')
		return 0;
	for (i = 1; z[i] != '\0'; i++) {
		if (i >= max)
			return 0;
		if (!((z[i] >= 'a' && z[i] <= 'z') ||
		    (z[i] >= '0' && z[i] <= '9') || z[i] == '_'))
			return 0;
	}
	return 1;
}

/* Returns 1 if z is a well-formed channel name, else 0. Can't fail. */
int
pgsse_name_channel_ok(const char *z)
{
	return name_ok(z, PGSSE_CHANNEL_MAX);
}

/* Returns 1 if z is a well-formed event name, else 0. Can't fail. */
int
pgsse_name_event_ok(const char *z)
{
	return name_ok(z, PGSSE_EVENT_MAX);
}
