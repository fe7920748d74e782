/*
 * cursor.c: the Last-Event-ID a stream resumes from.
 *
 * A stream's id line carries its cursor: a bare id when it has one
 * channel, "channel:id,channel:id" when it has several (client.c writes
 * it), after "<epoch>-" once the log is past its first epoch (sql/
 * pgsse.sql, pgsse.log_epoch): "3-42", "3-demos:41,status:57". No
 * prefix means epoch 1, so ids from before epochs existed still hold.
 * The browser sends it back verbatim. Parsing it touches nothing but
 * its arguments, so it is tested and fuzzed on its own.
 */
#include <stdint.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "cursor.h"

/*
 * Returns the value of the len bytes at z if they are 1 to
 * PGSSE_ID_DIGITS_MAX decimal digits, else -1. Can't fail.
 */
int64_t
pgsse_cursor_id(const char *z, size_t len)
{
	int64_t	 v = 0;
	size_t	 i;

	if (len == 0 || len > PGSSE_ID_DIGITS_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		if (z[i] < '0' || z[i] > '9')
			return -1;
		v = v * 10 + (z[i] - '0');
	}
	return v;
}

/* Resets cur to "nothing given" with reason why (static, or NULL). */
static void
cursor_reset(struct pgsse_cursor *cur, const char *why)
{
	size_t	 i;

	for (i = 0; i < PGSSE_CHANNELS_MAX; i++)
		cur->id[i] = -1;
	cur->epoch = 0;
	cur->given = 0;
	cur->reset = why;
}

/*
 * Returns the epoch that prefixes z, 1 to 10^PGSSE_EPOCH_DIGITS_MAX - 1,
 * and moves *z past its "<epoch>-"; 1 if there is no prefix (z does not
 * start with digits and a dash); 0 if the prefix is malformed. Can't
 * fail.
 */
static int
cursor_epoch(const char **z)
{
	size_t	 len = strspn(*z, "0123456789");
	int	 v = 0;
	size_t	 i;

	if (len == 0 || (*z)[len] != '-')
		return 1;
	if (len > PGSSE_EPOCH_DIGITS_MAX)
		return 0;
	for (i = 0; i < len; i++)
		v = v * 10 + ((*z)[i] - '0');
	*z += len + 1;
	return v;
}

/*
 * Parses the Last-Event-ID z (NULL or "" when there is none) of a
 * stream on the n channels named names[] (n at most PGSSE_CHANNELS_MAX)
 * into cur: cur->epoch is its epoch (1 without one), cur->id[i] the id
 * given for names[i], or -1. A bare id applies to every channel; in
 * "channel:id,..." a channel the stream does not have is ignored, and a
 * later pair for the same channel wins. cur->given says whether any id
 * applied (cur->epoch is 0 if none did). An id that is too long,
 * malformed or negative, or a malformed epoch, is not an error: every
 * id is then -1 and cur->reset (static) says why the client must be
 * told to reload. Can't fail.
 */
void
pgsse_cursor_parse(struct pgsse_cursor *cur, const char *z,
    const char *const names[], size_t n)
{
	const char	*p, *colon, *end;
	int64_t		 v;
	size_t		 i, len;
	int		 epoch;

	cursor_reset(cur, NULL);
	if (n > PGSSE_CHANNELS_MAX)
		n = PGSSE_CHANNELS_MAX;
	if (z == NULL || *z == '\0')
		return;
	if (strlen(z) > PGSSE_LAST_ID_MAX) {
		cursor_reset(cur, "last event id too long");
		return;
	}
	if ((epoch = cursor_epoch(&z)) == 0 || *z == '\0') {
		cursor_reset(cur, "malformed last event id");
		return;
	}
	if ((v = pgsse_cursor_id(z, strlen(z))) >= 0) {
		for (i = 0; i < n; i++)
			cur->id[i] = v;
		cur->given = n > 0;
		cur->epoch = cur->given ? epoch : 0;
		return;
	}
	for (p = z; *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ",");
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon == NULL || (v = pgsse_cursor_id(colon + 1,
		    (size_t)(end - colon - 1))) < 0) {
			cursor_reset(cur, "malformed last event id");
			return;
		}
		len = (size_t)(colon - p);
		for (i = 0; i < n; i++)
			if (strlen(names[i]) == len &&
			    memcmp(names[i], p, len) == 0) {
				cur->id[i] = v;
				cur->given = 1;
			}
	}
	cur->epoch = cur->given ? epoch : 0;
}
