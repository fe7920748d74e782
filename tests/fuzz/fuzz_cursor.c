/*
 * fuzz_cursor.c: the Last-Event-ID parser (lib/cursor.c). Whatever the
 * bytes: every id is -1 or a value below 10^PGSSE_ID_DIGITS_MAX; the
 * epoch is 0 exactly when no id applied, else below
 * 10^PGSSE_EPOCH_DIGITS_MAX; a reset drops every id; and an accepted
 * cursor, written back as the stream's id line writes it ("<epoch>-"
 * past the first epoch), parses to the same epoch and ids.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const names[] = { "demos", "status", "job", "d" };
#define NNAMES (sizeof(names) / sizeof(names[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgsse_cursor	 cur, again;
	char			*z, line[NNAMES * 96];
	size_t			 i, n, len = 0;

	line[0] = '\0';
	if (size == 0 || (z = malloc(size)) == NULL)
		return 0;
	/* The first byte picks how many channels the stream has. */
	n = data[0] % (NNAMES + 1);
	memcpy(z, data + 1, size - 1);
	z[size - 1] = '\0';
	pgsse_cursor_parse(&cur, z, names, n);
	for (i = 0; i < PGSSE_CHANNELS_MAX; i++)
		if (cur.id[i] < -1 || cur.id[i] > 999999999999999999LL ||
		    (i >= n && cur.id[i] != -1) ||
		    (cur.reset != NULL && cur.id[i] != -1))
			abort();
	if (cur.reset != NULL && cur.given)
		abort();
	if ((cur.epoch == 0) != !cur.given || cur.epoch < 0 ||
	    cur.epoch > 999999999)
		abort();
	if (cur.epoch > 1)
		len = (size_t)snprintf(line, sizeof(line), "%d-", cur.epoch);
	if (strlen(z) > PGSSE_LAST_ID_MAX && cur.reset == NULL)
		abort();
	for (i = 0; i < n; i++)
		if (cur.id[i] >= 0)
			len += (size_t)snprintf(line + len, sizeof(line) - len,
			    "%s%s:%" PRId64, len && line[len - 1] != '-' ?
			    "," : "", names[i], cur.id[i]);
	pgsse_cursor_parse(&again, line, names, n);
	if (again.reset != NULL || again.given != cur.given ||
	    again.epoch != cur.epoch ||
	    memcmp(again.id, cur.id, sizeof(cur.id)) != 0)
		abort();
	free(z);
	return 0;
}
