/* check_metrics.c: lib/metrics.c, the Prometheus text writer. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "metrics.h"
#include "harness.h"

START_TEST(metrics_family_and_values)
{
	struct pgsse_buf		 b = { NULL, 0, 0 };
	struct pgsse_metrics_label	 l[2] = {
		{ "channel", "demos" }, { "state", "ok" },
	};

	ck_assert_int_eq(pgsse_metrics_family(&b, "pgsse_x_total",
	    PGSSE_METRICS_COUNTER, "Things counted."), PGSSE_OK);
	ck_assert_int_eq(pgsse_metrics_value(&b, "pgsse_x_total", l, 2, 3),
	    PGSSE_OK);
	ck_assert_int_eq(pgsse_metrics_value(&b, "pgsse_x_total", NULL, 0,
	    0.25), PGSSE_OK);
	ck_assert_int_eq(pgsse_metrics_one(&b, "pgsse_y", PGSSE_METRICS_GAUGE,
	    "A gauge.", 1e300 * 1e300), PGSSE_OK);
	ck_assert_str_eq(b.p, "# HELP pgsse_x_total Things counted.\n"
	    "# TYPE pgsse_x_total counter\n"
	    "pgsse_x_total{channel=\"demos\",state=\"ok\"} 3\n"
	    "pgsse_x_total 0.25\n"
	    "# HELP pgsse_y A gauge.\n# TYPE pgsse_y gauge\npgsse_y +Inf\n");
	pgsse_buf_free(&b);
}
END_TEST

/* The exposition format's escapes: \\, \" and \n in label values;
 * \\ and \n in HELP; nothing else changes. */
START_TEST(metrics_escapes)
{
	struct pgsse_buf		 b = { NULL, 0, 0 };
	struct pgsse_metrics_label	 l[1] = {
		{ "route", "/a\"b\\c\nd}e,f=g" },
	};

	ck_assert_int_eq(pgsse_metrics_family(&b, "m", PGSSE_METRICS_GAUGE,
	    "back\\slash \"quoted\"\nsecond line"), PGSSE_OK);
	ck_assert_int_eq(pgsse_metrics_value(&b, "m", l, 1, -2), PGSSE_OK);
	ck_assert_str_eq(b.p, "# HELP m back\\\\slash \"quoted\"\\nsecond line\n"
	    "# TYPE m gauge\n"
	    "m{route=\"/a\\\"b\\\\c\\nd}e,f=g\"} -2\n");
	pgsse_buf_reset(&b);
	l[0].value = "";
	ck_assert_int_eq(pgsse_metrics_value(&b, "m", l, 1, 1), PGSSE_OK);
	ck_assert_str_eq(b.p, "m{route=\"\"} 1\n");
	pgsse_buf_reset(&b);
	l[0].value = "\\\\\n\n\"";
	ck_assert_int_eq(pgsse_metrics_value(&b, "m", l, 1, 1), PGSSE_OK);
	ck_assert_str_eq(b.p, "m{route=\"\\\\\\\\\\n\\n\\\"\"} 1\n");
	pgsse_buf_free(&b);
}
END_TEST

START_TEST(metrics_histogram)
{
	static const double		 bounds[] = { 0.1, 1, 2.5 };
	struct pgsse_buf		 b = { NULL, 0, 0 };
	struct pgsse_metrics_hist	 h, g;
	struct pgsse_metrics_label	 l[1] = { { "route", "/x" } };

	pgsse_metrics_hist_init(&h, bounds, 3);
	pgsse_metrics_hist_observe(&h, 0.1);	/* le is inclusive */
	pgsse_metrics_hist_observe(&h, 0.5);
	pgsse_metrics_hist_observe(&h, 3);
	pgsse_metrics_hist_init(&g, bounds, 3);
	pgsse_metrics_hist_observe(&g, 2);
	pgsse_metrics_hist_add(&h, &g);
	ck_assert_int_eq(pgsse_metrics_hist(&b, "lat_seconds", l, 1, &h),
	    PGSSE_OK);
	ck_assert_str_eq(b.p,
	    "lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"
	    "lat_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
	    "lat_seconds_bucket{route=\"/x\",le=\"2.5\"} 3\n"
	    "lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
	    "lat_seconds_sum{route=\"/x\"} 5.6\n"
	    "lat_seconds_count{route=\"/x\"} 4\n");
	pgsse_buf_reset(&b);
	pgsse_metrics_hist_init(&g, bounds, 99);	/* capped */
	ck_assert_uint_eq(g.nbounds, PGSSE_METRICS_BUCKETS_MAX);
	pgsse_metrics_hist_init(&g, bounds, 0);
	ck_assert_int_eq(pgsse_metrics_hist(&b, "h", NULL, 0, &g), PGSSE_OK);
	ck_assert_str_eq(b.p, "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
	pgsse_buf_free(&b);
}
END_TEST

START_TEST(metrics_process)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };

	ck_assert_int_eq(pgsse_metrics_process(&b, "pgsse-app", 1700000000),
	    PGSSE_OK);
	ck_assert_ptr_nonnull(strstr(b.p, "pgsse_build_info{version=\""
	    PGSSE_VERSION "\",program=\"pgsse-app\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(b.p, "\nprocess_start_time_seconds "
	    "1700000000\n"));
	pgsse_buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, metrics_family_and_values);
	tcase_add_test(tc, metrics_histogram);
	tcase_add_test(tc, metrics_process);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, metrics_escapes);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
