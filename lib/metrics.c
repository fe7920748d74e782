/*
 * metrics.c: the one writer of the Prometheus text exposition format
 * (version 0.0.4), for pgsse-stream's and pgsse-app's metrics pages.
 *
 * A family is its "# HELP" and "# TYPE" lines, then its samples, each
 * "name{label="value",...} value". Label values are escaped here, and
 * only here, as the format wants: a backslash, a double quote and a
 * line feed become \\, \" and \n; HELP text escapes the backslash and
 * the line feed. Metric and label names are the code's own constants,
 * never outside input. Callers keep every family's samples together and
 * never write a family twice.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "metrics.h"

static const char *const types[PGSSE_METRICS__MAX] = {
	"counter", "gauge", "histogram",
};

/* Appends z to b, with a backslash before each of esc's bytes and a
 * line feed as \n. Returns PGSSE_ERR_NOMEM if memory ran out. */
static enum pgsse_err
metrics_escape(struct pgsse_buf *b, const char *z, const char *esc)
{
	size_t	 n;

	while (*z != '\0') {
		n = strcspn(z, esc);
		if (n > 0 && pgsse_buf_put(b, z, n) != PGSSE_OK)
			return PGSSE_ERR_NOMEM;
		z += n;
		if (*z == '\0')
			break;
		if (pgsse_buf_put(b, *z == '\n' ? "\\n" : "\\", *z == '\n' ?
		    2 : 1) != PGSSE_OK || (*z != '\n' &&
		    pgsse_buf_put(b, z, 1) != PGSSE_OK))
			return PGSSE_ERR_NOMEM;
		z++;
	}
	return PGSSE_OK;
}

/* Appends v as the format writes a number, in the fewest digits that
 * read back as v. Returns PGSSE_ERR_NOMEM if memory ran out. */
static enum pgsse_err
metrics_number(struct pgsse_buf *b, double v)
{
	char	 z[32];
	int	 prec;

	if (isnan(v))
		return pgsse_buf_puts(b, "NaN");
	if (isinf(v))
		return pgsse_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		return pgsse_buf_printf(b, "%.0f", v);
	for (prec = 15; prec < 17; prec++) {
		snprintf(z, sizeof(z), "%.*g", prec, v);
		if (strtod(z, NULL) == v)
			break;
	}
	snprintf(z, sizeof(z), "%.*g", prec, v);
	return pgsse_buf_puts(b, z);
}

/* Appends name, then the labels in braces (none: no braces), with le
 * (if not NULL) as one more. Returns PGSSE_ERR_NOMEM if memory ran
 * out. */
static enum pgsse_err
metrics_name(struct pgsse_buf *b, const char *name, const char *suffix,
    const struct pgsse_metrics_label *l, size_t n, const char *le)
{
	size_t	 i;

	if (pgsse_buf_printf(b, "%s%s", name, suffix) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	if (n == 0 && le == NULL)
		return pgsse_buf_puts(b, " ");
	for (i = 0; i < n; i++)
		if (pgsse_buf_printf(b, "%s%s=\"", i ? "," : "{",
		    l[i].name) != PGSSE_OK || metrics_escape(b, l[i].value,
		    "\\\"\n") != PGSSE_OK || pgsse_buf_puts(b, "\"") !=
		    PGSSE_OK)
			return PGSSE_ERR_NOMEM;
	if (le != NULL && pgsse_buf_printf(b, "%sle=\"%s\"", n ? "," : "{",
	    le) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	return pgsse_buf_puts(b, "} ");
}

/*
 * Appends the CGI header of a metrics page. Returns PGSSE_ERR_NOMEM if
 * memory ran out.
 */
enum pgsse_err
pgsse_metrics_header(struct pgsse_buf *b)
{
	return pgsse_buf_puts(b, "Status: 200 OK\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n\r\n");
}

/*
 * Appends the HELP and TYPE lines of the family name. Returns
 * PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_metrics_family(struct pgsse_buf *b, const char *name,
    enum pgsse_metrics_type type, const char *help)
{
	if (pgsse_buf_printf(b, "# HELP %s ", name) != PGSSE_OK ||
	    metrics_escape(b, help, "\\\n") != PGSSE_OK ||
	    pgsse_buf_printf(b, "\n# TYPE %s %s\n", name, types[type]) !=
	    PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	return PGSSE_OK;
}

/*
 * Appends one sample of a counter or gauge: name, its n labels l, and
 * v. Returns PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_metrics_value(struct pgsse_buf *b, const char *name,
    const struct pgsse_metrics_label *l, size_t n, double v)
{
	if (metrics_name(b, name, "", l, n, NULL) != PGSSE_OK ||
	    metrics_number(b, v) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	return pgsse_buf_puts(b, "\n");
}

/*
 * Appends a family of one sample without labels. Returns
 * PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_metrics_one(struct pgsse_buf *b, const char *name,
    enum pgsse_metrics_type type, const char *help, double v)
{
	if (pgsse_metrics_family(b, name, type, help) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	return pgsse_metrics_value(b, name, NULL, 0, v);
}

/*
 * Appends the samples of histogram h with its n labels l: the
 * cumulative _bucket lines up to +Inf, _sum and _count. Returns
 * PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_metrics_hist(struct pgsse_buf *b, const char *name,
    const struct pgsse_metrics_label *l, size_t n,
    const struct pgsse_metrics_hist *h)
{
	char		 le[32];
	uint64_t	 cum = 0;
	size_t		 i;

	for (i = 0; i <= h->nbounds; i++) {
		cum += h->counts[i];
		if (i < h->nbounds)
			snprintf(le, sizeof(le), "%g", h->bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		if (metrics_name(b, name, "_bucket", l, n, le) != PGSSE_OK ||
		    pgsse_buf_printf(b, "%llu\n", (unsigned long long)cum) !=
		    PGSSE_OK)
			return PGSSE_ERR_NOMEM;
	}
	if (metrics_name(b, name, "_sum", l, n, NULL) != PGSSE_OK ||
	    metrics_number(b, h->sum) != PGSSE_OK ||
	    pgsse_buf_puts(b, "\n") != PGSSE_OK ||
	    metrics_name(b, name, "_count", l, n, NULL) != PGSSE_OK ||
	    pgsse_buf_printf(b, "%llu\n", (unsigned long long)h->count) !=
	    PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	return PGSSE_OK;
}

/*
 * Appends what every pgsse program says of itself: pgsse_build_info
 * with its version and program, and the time it started. Returns
 * PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_metrics_process(struct pgsse_buf *b, const char *program,
    time_t started)
{
	struct pgsse_metrics_label	 l[2] = {
		{ "version", PGSSE_VERSION }, { "program", program },
	};

	if (pgsse_metrics_family(b, "pgsse_build_info", PGSSE_METRICS_GAUGE,
	    "Always 1; its labels say which pgsse version and program "
	    "this is.") != PGSSE_OK ||
	    pgsse_metrics_value(b, "pgsse_build_info", l, 2, 1) != PGSSE_OK ||
	    pgsse_metrics_one(b, "process_start_time_seconds",
	    PGSSE_METRICS_GAUGE, "When the process started, in seconds since "
	    "the Unix epoch.", (double)started) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	return PGSSE_OK;
}

/* Empties h and gives it nbounds (at most PGSSE_METRICS_BUCKETS_MAX)
 * of bounds, which the caller keeps. Can't fail. */
void
pgsse_metrics_hist_init(struct pgsse_metrics_hist *h, const double *bounds,
    size_t nbounds)
{
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->nbounds = nbounds > PGSSE_METRICS_BUCKETS_MAX ?
	    PGSSE_METRICS_BUCKETS_MAX : nbounds;
}

/* Counts v in h; a bucket holds what is at most its bound. Can't fail. */
void
pgsse_metrics_hist_observe(struct pgsse_metrics_hist *h, double v)
{
	size_t	 i;

	for (i = 0; i < h->nbounds && v > h->bounds[i]; i++)
		continue;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

/* Adds what from holds to h, which has the same bounds. Can't fail. */
void
pgsse_metrics_hist_add(struct pgsse_metrics_hist *h,
    const struct pgsse_metrics_hist *from)
{
	size_t	 i;

	for (i = 0; i <= h->nbounds; i++)
		h->counts[i] += from->counts[i];
	h->count += from->count;
	h->sum += from->sum;
}
