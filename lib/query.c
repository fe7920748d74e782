/*
 * query.c: parses application/x-www-form-urlencoded text, which is both
 * the query string and the body of a plain HTML form.
 *
 * Bounded by PGSSE_QUERY_MAX bytes and PGSSE_QUERY_PAIRS_MAX pairs.
 * Decoding refuses bad percent escapes and NUL bytes (kcgi's urldecode
 * does the same). Bytes that are not UTF-8 are kept as they are: callers
 * check values against their own whitelists, and the HTML writer escapes
 * on output.
 */
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "query.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes n bytes of src into a new string in *out.
 * Returns PGSSE_ERR_INVAL on a bad escape or an encoded NUL,
 * PGSSE_ERR_NOMEM if memory ran out. The caller frees *out.
 */
static enum pgsse_err
query_decode(const char *src, size_t n, char **out)
{
	char	*dst;
	size_t	 i, j = 0;
	int	 hi, lo;

	*out = NULL;
	if ((dst = malloc(n + 1)) == NULL)
		return PGSSE_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (src[i] == '+')
			dst[j++] = ' ';
		else if (src[i] != '%')
			dst[j++] = src[i];
		else {
			if (i + 2 >= n)
				goto bad;
			hi = hexval((unsigned char)src[i + 1]);
			lo = hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			dst[j++] = (char)(hi * 16 + lo);
			i += 2;
		}
	}
	dst[j] = '\0';
	*out = dst;
	return PGSSE_OK;
bad:
	free(dst);
	return PGSSE_ERR_INVAL;
}

/*
 * Parses z into q, which the caller frees with pgsse_query_free, even on
 * error. Empty segments ("a=1&&b=2") are skipped; a key without "=" has
 * the empty value. Returns PGSSE_ERR_LIMIT past PGSSE_QUERY_MAX bytes or
 * PGSSE_QUERY_PAIRS_MAX pairs, PGSSE_ERR_INVAL on a malformed escape
 * or an encoded NUL, PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_query_parse(const char *z, struct pgsse_query *q)
{
	const char	*seg, *end, *eq;
	size_t		 len;
	enum pgsse_err	 er = PGSSE_OK;

	memset(q, 0, sizeof(*q));
	if (z == NULL)
		return PGSSE_OK;
	if ((len = strlen(z)) > PGSSE_QUERY_MAX)
		return PGSSE_ERR_LIMIT;
	for (seg = z; seg < z + len; seg = end + 1) {
		if ((end = strchr(seg, '&')) == NULL)
			end = z + len;
		if (end == seg)
			continue;
		if (q->n == PGSSE_QUERY_PAIRS_MAX) {
			er = PGSSE_ERR_LIMIT;
			goto out;
		}
		if (q->pairs == NULL &&
		    (q->pairs = calloc(PGSSE_QUERY_PAIRS_MAX,
		    sizeof(*q->pairs))) == NULL) {
			er = PGSSE_ERR_NOMEM;
			goto out;
		}
		eq = memchr(seg, '=', (size_t)(end - seg));
		if ((er = query_decode(seg, (size_t)((eq ? eq : end) - seg),
		    &q->pairs[q->n].key)) != PGSSE_OK)
			goto out;
		er = eq ? query_decode(eq + 1, (size_t)(end - eq - 1),
		    &q->pairs[q->n].val) : query_decode("", 0,
		    &q->pairs[q->n].val);
		q->n++;
		if (er != PGSSE_OK)
			goto out;
	}
out:
	return er;
}

/*
 * Returns the first value for key, or NULL. The query owns the string.
 */
const char *
pgsse_query_get(const struct pgsse_query *q, const char *key)
{
	size_t	 i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->pairs[i].key, key) == 0)
			return q->pairs[i].val;
	return NULL;
}

/* Frees what pgsse_query_parse allocated. Accepts NULL. */
void
pgsse_query_free(struct pgsse_query *q)
{
	size_t	 i;

	if (q == NULL)
		return;
	for (i = 0; i < q->n; i++) {
		free(q->pairs[i].key);
		free(q->pairs[i].val);
	}
	free(q->pairs);
	q->pairs = NULL;
	q->n = 0;
}
