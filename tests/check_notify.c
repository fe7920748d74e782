/* check_notify.c: lib/notify.c, the mapping of raw and doorbell NOTIFYs */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "harness.h"
#include "extern.h"
#include "notify.h"
#include "registry.h"

static const char reg_json[] =
"{\"channels\": ["
" {\"name\": \"demos\", \"description\": \"d\", \"events\": ["
"  {\"name\": \"installed\", \"description\": \"i\","
"   \"fields\": {\"demo_id\": \"string\", \"n\": \"integer\"}},"
"  {\"name\": \"ping\", \"description\": \"p\"}]},"
" {\"name\": \"mine\", \"description\": \"m\", \"personal\": true,"
"  \"events\": [{\"name\": \"note\", \"description\": \"n\"}]}]}";

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

/*
 * A raw NOTIFY's "user" sends it to one user; a personal channel takes
 * none without one, and a user is a short string with no control
 * character.
 */
START_TEST(notify_raw_user)
{
	static const char *const bad[] = {
		"{\"event\":\"note\"}",
		"{\"event\":\"note\",\"user\":\"\"}",
		"{\"event\":\"note\",\"user\":7}",
		"{\"event\":\"note\",\"user\":\"a\\nb\"}",
		"{\"event\":\"note\",\"user\":\"a\\u0000b\"}",
	};
	struct pgsse_notify	 n;
	char			 big[PGSSE_USER_MAX + 64];
	size_t			 i;

	pgsse_notify_map(reg, "mine", "{\"event\":\"note\",\"user\":"
	    "\"alice\"}", &n);
	ck_assert_int_eq(n.kind, PGSSE_NOTIFY_RAW);
	ck_assert_str_eq(n.user, "alice");
	pgsse_notify_clear(&n);
	pgsse_notify_map(reg, "demos", "{\"event\":\"ping\",\"user\":"
	    "\"bob\"}", &n);
	ck_assert_int_eq(n.kind, PGSSE_NOTIFY_RAW);
	ck_assert_str_eq(n.user, "bob");
	pgsse_notify_clear(&n);
	pgsse_notify_map(reg, "demos", "{\"event\":\"ping\"}", &n);
	ck_assert_ptr_null(n.user);
	pgsse_notify_clear(&n);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pgsse_notify_map(reg, "mine", bad[i], &n);
		ck_assert_msg(n.kind == PGSSE_NOTIFY_DROP, "%s", bad[i]);
		ck_assert_ptr_null(n.user);
		pgsse_notify_clear(&n);
	}
	snprintf(big, sizeof(big), "{\"event\":\"note\",\"user\":\"%0*d\"}",
	    PGSSE_USER_MAX + 1, 0);
	pgsse_notify_map(reg, "mine", big, &n);
	ck_assert_int_eq(n.kind, PGSSE_NOTIFY_DROP);
	snprintf(big, sizeof(big), "{\"event\":\"note\",\"user\":\"%0*d\"}",
	    PGSSE_USER_MAX, 0);
	pgsse_notify_map(reg, "mine", big, &n);
	ck_assert_int_eq(n.kind, PGSSE_NOTIFY_RAW);
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

/*
 * JSON that PostgreSQL's jsonb refuses, and so pgsse.publish() too, is
 * dropped with a reason: what a browser gets must be JSON.
 */
START_TEST(notify_not_jsonb_dropped)
{
	static const char *const bad[][2] = {
		{ "{\"event\": \"ping\", \"data\": {\"x\": NaN}}",
		    "payload is not JSON" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": Infinity}}",
		    "payload is not JSON" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": -Infinity}}",
		    "payload is not JSON" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": \"a\\u0000b\"}}",
		    "payload holds \\u0000" },
		{ "{\"event\": \"ping\\u0000x\"}", "payload holds \\u0000" },
		{ "{\"event\": \"ping\"} x", "payload is not JSON" },
		{ "{\"event\": \"ping\"}{\"event\": \"ping\"}",
		    "payload is not JSON" },
		{ "{\"event\": \"ping\"}// c", "payload is not JSON" },
		{ "{'event': 'ping'}", "payload is not JSON" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": 1.}}",
		    "payload is not JSON" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": \"a\tb\"}}",
		    "payload is not JSON" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": \"\\ud800\"}}",
		    "payload holds a lone surrogate" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": \"\\udc00\\ud800\"}}",
		    "payload holds a lone surrogate" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": \"\xc0\x80\"}}",
		    "payload is not UTF-8" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": \"\xed\xa0\x80\"}}",
		    "payload is not UTF-8" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": \"\xf4\x90\x80\x80\"}}",
		    "payload is not UTF-8" },
		/* jsonb keeps it; json-c would change it: dropped. */
		{ "{\"event\": \"ping\", \"data\": {\"x\": 99999999999999999999}}",
		    "payload holds an integer out of range" },
	};
	struct pgsse_notify	 n;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pgsse_notify_map(reg, "demos", bad[i][0], &n);
		ck_assert_msg(n.kind == PGSSE_NOTIFY_DROP, "mapped %s to %s",
		    bad[i][0], n.data);
		ck_assert_ptr_null(n.event);
		ck_assert_msg(n.why != NULL && strcmp(n.why, bad[i][1]) == 0,
		    "%s: dropped for %s", bad[i][0], n.why);
		pgsse_notify_clear(&n);
	}
}
END_TEST

/* JSON that jsonb takes is still mapped, its numbers as they were. */
START_TEST(notify_jsonb_kept)
{
	static const char *const good[][2] = {
		{ " {\"event\" : \"ping\", \"data\": {\"x\": 1e400}} \n",
		    "{\"x\":1e400}" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": -0.5E-3, "
		    "\"y\": 18446744073709551615, \"z\": -9223372036854775808}}",
		    "{\"x\":-0.5E-3,\"y\":18446744073709551615,"
		    "\"z\":-9223372036854775808}" },
		{ "{\"event\": \"ping\", \"data\": {\"x\": "
		    "\"\\ud83d\\ude00 \xc3\xa9 \\/\"}}",
		    "{\"x\":\"\xf0\x9f\x98\x80 \xc3\xa9 \\/\"}" },
		{ "{\"event\": \"ping\", \"data\": {\"a\": [true, false, "
		    "null, {}, []]}}",
		    "{\"a\":[true,false,null,{},[]]}" },
	};
	struct pgsse_notify	 n;
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		pgsse_notify_map(reg, "demos", good[i][0], &n);
		ck_assert_msg(n.kind == PGSSE_NOTIFY_RAW, "%s dropped: %s",
		    good[i][0], n.why);
		ck_assert_str_eq(n.data, good[i][1]);
		pgsse_notify_clear(&n);
	}
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
	tcase_add_test(tc, notify_raw_user);
	tcase_add_test(tc, notify_doorbell);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, notify_garbage_dropped);
	tcase_add_test(tc, notify_big_payload);
	tcase_add_test(tc, notify_not_jsonb_dropped);
	tcase_add_test(tc, notify_jsonb_kept);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
