/* check_notify.c: lib/notify.c, the mapping of raw and doorbell NOTIFYs */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "harness.h"
#include "extern.h"

static const char reg_json[] =
"{\"channels\": ["
" {\"name\": \"demos\", \"description\": \"d\", \"events\": ["
"  {\"name\": \"installed\", \"description\": \"i\","
"   \"fields\": {\"demo_id\": \"string\", \"n\": \"integer\"}},"
"  {\"name\": \"ping\", \"description\": \"p\"}]}]}";

static struct pgsse_registry *reg;

static void
setup(void)
{
	struct pgsse_buf err = { NULL, 0, 0 };

	reg = pgsse_registry_parse(reg_json, &err);
	ck_assert_msg(reg != NULL, "%s", err.p);
	pgsse_buf_free(&err);
}

static void
teardown(void)
{
	pgsse_registry_free(reg);
}

START_TEST(notify_raw_documented)
{
	struct pgsse_notify	 n;

	pgsse_notify_map(reg, "demos", "{\"event\":\"installed\",\"data\":"
	    "{\"demo_id\":\"x\",\"n\":3,\"extra\":true}}", &n);
	ck_assert_int_eq(n.kind, PGSSE_NOTIFY_RAW);
	ck_assert_str_eq(n.event, "installed");
	ck_assert_str_eq(n.channel->name, "demos");
	ck_assert_ptr_nonnull(strstr(n.data, "\"demo_id\":\"x\""));
	pgsse_notify_clear(&n);
	pgsse_notify_map(reg, "demos", "{\"event\":\"ping\"}", &n);
	ck_assert_int_eq(n.kind, PGSSE_NOTIFY_RAW);
	ck_assert_str_eq(n.data, "{}");
	pgsse_notify_clear(&n);
}
END_TEST

START_TEST(notify_doorbell)
{
	struct pgsse_notify	 n;

	pgsse_notify_map(reg, "pgsse", "demos:42", &n);
	ck_assert_int_eq(n.kind, PGSSE_NOTIFY_DOORBELL);
	ck_assert_str_eq(n.channel->name, "demos");
	pgsse_notify_clear(&n);
	pgsse_notify_map(reg, "pgsse", "nope:42", &n);
	ck_assert_int_eq(n.kind, PGSSE_NOTIFY_DROP);
	pgsse_notify_map(reg, "pgsse", "demos", &n);
	ck_assert_int_eq(n.kind, PGSSE_NOTIFY_DROP);
}
END_TEST

START_TEST(notify_garbage_dropped)
{
	static const char *const bad[][2] = {
		{ "demos", "" },
		{ "demos", "not json" },
		{ "demos", "[1,2]" },
		{ "demos", "{\"event\": 1}" },
		{ "demos", "{\"event\": \"nope\", \"data\": {}}" },
		{ "demos", "{\"event\": \"installed\\nevent: x\", \"data\": {}}" },
		{ "demos", "{\"event\": \"installed\"}" },
		{ "demos", "{\"event\": \"installed\", \"data\": [1]}" },
		{ "demos", "{\"event\": \"installed\", \"data\": {\"demo_id\": 1, \"n\": 1}}" },
		{ "demos", "{\"event\": \"installed\", \"data\": {\"demo_id\": \"x\", \"n\": 1.5}}" },
		{ "demos", "{\"event\": \"installed\", \"data\": {\"demo_id\": \"x\"}}" },
		{ "nope", "{\"event\": \"installed\", \"data\": {}}" },
		{ "demos", "{\"event\": \"installed\", \"data\": {\"demo_id\": \"x\", \"n\": 1}" },
	};
	struct pgsse_notify	 n;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pgsse_notify_map(reg, bad[i][0], bad[i][1], &n);
		ck_assert_msg(n.kind == PGSSE_NOTIFY_DROP, "mapped %s",
		    bad[i][1]);
		ck_assert_ptr_nonnull(n.why);
		ck_assert_ptr_null(n.event);
		pgsse_notify_clear(&n);
	}
	pgsse_notify_map(reg, NULL, NULL, &n);
	ck_assert_int_eq(n.kind, PGSSE_NOTIFY_DROP);
}
END_TEST

START_TEST(notify_big_payload)
{
	char			 z[8000];
	struct pgsse_notify	 n;
	size_t			 len;

	len = (size_t)snprintf(z, sizeof(z), "{\"event\":\"installed\","
	    "\"data\":{\"n\":1,\"demo_id\":\"");
	memset(z + len, 'x', sizeof(z) - len - 5);
	memcpy(z + sizeof(z) - 5, "\"}}", 4);
	ck_assert_uint_eq(strlen(z), 7998);
	pgsse_notify_map(reg, "demos", z, &n);
	ck_assert_int_eq(n.kind, PGSSE_NOTIFY_RAW);
	pgsse_notify_clear(&n);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("notify");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, notify_raw_documented);
	tcase_add_test(tc, notify_doorbell);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, notify_garbage_dropped);
	tcase_add_test(tc, notify_big_payload);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
