/*
 * metrics.h: the Prometheus text exposition format (metrics.c), which
 * pgsse-stream and pgsse-app write their metrics in; internal. Include
 * after pgsse.h.
 */
#ifndef PGSSE_METRICS_H
#define PGSSE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Upper bounds a histogram has at most, +Inf not counted. */
#define PGSSE_METRICS_BUCKETS_MAX 16

enum pgsse_metrics_type {
	PGSSE_METRICS_COUNTER,
	PGSSE_METRICS_GAUGE,
	PGSSE_METRICS_HISTOGRAM,
	PGSSE_METRICS__MAX
};

/* One label of a sample: a name of the code's, a value escaped on
 * output. */
struct pgsse_metrics_label {
	const char	*name;
	const char	*value;
};

/*
 * A histogram as it is filled: counts[i] holds the observations in
 * bucket i alone (not yet cumulative), counts[nbounds] those above the
 * last bound. The bounds are the caller's, ascending, and outlive it.
 */
struct pgsse_metrics_hist {
	const double	*bounds;
	size_t		 nbounds;
	uint64_t	 counts[PGSSE_METRICS_BUCKETS_MAX + 1];
	uint64_t	 count;
	double		 sum;
};

enum pgsse_err	 pgsse_metrics_header(struct pgsse_buf *);
enum pgsse_err	 pgsse_metrics_family(struct pgsse_buf *, const char *,
		    enum pgsse_metrics_type, const char *);
enum pgsse_err	 pgsse_metrics_value(struct pgsse_buf *, const char *,
		    const struct pgsse_metrics_label *, size_t, double);
enum pgsse_err	 pgsse_metrics_one(struct pgsse_buf *, const char *,
		    enum pgsse_metrics_type, const char *, double);
enum pgsse_err	 pgsse_metrics_hist(struct pgsse_buf *, const char *,
		    const struct pgsse_metrics_label *, size_t,
		    const struct pgsse_metrics_hist *);
enum pgsse_err	 pgsse_metrics_process(struct pgsse_buf *, const char *,
		    time_t);
void		 pgsse_metrics_hist_init(struct pgsse_metrics_hist *,
		    const double *, size_t);
void		 pgsse_metrics_hist_observe(struct pgsse_metrics_hist *,
		    double);
void		 pgsse_metrics_hist_add(struct pgsse_metrics_hist *,
		    const struct pgsse_metrics_hist *);

#endif /* PGSSE_METRICS_H */
