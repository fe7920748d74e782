/* check_cursor.c: lib/cursor.c, the Last-Event-ID parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "cursor.h"
#include "harness.h"

static const char *const names[] = { "demos", "status", "logs" };
#define NNAMES (sizeof(names) / sizeof(names[0]))

/* Asserts that cur holds nothing and was reset for reason why. */
static void
assert_reset(const struct pgsse_cursor *cur, const char *z, const char *why)
{
	size_t	 i;

	ck_assert_msg(cur->reset != NULL && strcmp(cur->reset, why) == 0,
	    "\"%s\": reset %s, want %s", z, cur->reset ? cur->reset : "none",
	    why);
	ck_assert_msg(!cur->given, "\"%s\" was taken", z);
	for (i = 0; i < PGSSE_CHANNELS_MAX; i++)
		ck_assert_int_eq(cur->id[i], -1);
}

START_TEST(cursor_bare_id)
{
	struct pgsse_cursor	 cur;
	size_t			 i;

	pgsse_cursor_parse(&cur, "42", names, NNAMES);
	ck_assert(cur.given);
	ck_assert_ptr_null(cur.reset);
	for (i = 0; i < NNAMES; i++)
		ck_assert_int_eq(cur.id[i], 42);
	for (; i < PGSSE_CHANNELS_MAX; i++)
		ck_assert_int_eq(cur.id[i], -1);
	pgsse_cursor_parse(&cur, "0", names, 1);
	ck_assert(cur.given);
	ck_assert_int_eq(cur.id[0], 0);
	ck_assert_int_eq(cur.id[1], -1);
	/* Nothing given: no cursor, no reset. */
	pgsse_cursor_parse(&cur, NULL, names, NNAMES);
	ck_assert(!cur.given);
	ck_assert_ptr_null(cur.reset);
	pgsse_cursor_parse(&cur, "", names, NNAMES);
	ck_assert(!cur.given);
	ck_assert_ptr_null(cur.reset);
	ck_assert_int_eq(cur.id[0], -1);
}
END_TEST

START_TEST(cursor_composite)
{
	struct pgsse_cursor	 cur;

	pgsse_cursor_parse(&cur, "status:7,demos:5", names, NNAMES);
	ck_assert(cur.given);
	ck_assert_ptr_null(cur.reset);
	ck_assert_int_eq(cur.id[0], 5);
	ck_assert_int_eq(cur.id[1], 7);
	ck_assert_int_eq(cur.id[2], -1);
	/* A later pair wins; a trailing comma is harmless. */
	pgsse_cursor_parse(&cur, "demos:5,demos:9,", names, NNAMES);
	ck_assert_int_eq(cur.id[0], 9);
	/* A channel the stream lacks is ignored, not an error. */
	pgsse_cursor_parse(&cur, "other:3,logs:4", names, NNAMES);
	ck_assert(cur.given);
	ck_assert_ptr_null(cur.reset);
	ck_assert_int_eq(cur.id[0], -1);
	ck_assert_int_eq(cur.id[2], 4);
	pgsse_cursor_parse(&cur, "other:3,:5", names, NNAMES);
	ck_assert(!cur.given);
	ck_assert_ptr_null(cur.reset);
	ck_assert_int_eq(cur.id[0], -1);
	/* A prefix of a name is another name. */
	pgsse_cursor_parse(&cur, "demo:3,demosx:4", names, NNAMES);
	ck_assert(!cur.given);
}
END_TEST

/*
 * Writes a well-formed id of exactly len bytes (len above 24) and a NUL
 * to z: "logs:1," pairs, then "demos:" and 1 with leading zeros.
 */
static void
long_id(char *z, size_t len)
{
	size_t	 pos;

	for (pos = 0; len - pos > 6 + PGSSE_ID_DIGITS_MAX; pos += 7)
		memcpy(z + pos, "logs:1,", 7);
	memcpy(z + pos, "demos:", 6);
	pos += 6;
	memset(z + pos, '0', len - pos - 1);
	z[len - 1] = '1';
	z[len] = '\0';
}

START_TEST(cursor_limits)
{
	struct pgsse_cursor	 cur;
	char			 z[PGSSE_LAST_ID_MAX + 2];

	/* PGSSE_ID_DIGITS_MAX digits pass, one more is malformed. */
	memset(z, '9', PGSSE_ID_DIGITS_MAX);
	z[PGSSE_ID_DIGITS_MAX] = '\0';
	pgsse_cursor_parse(&cur, z, names, NNAMES);
	ck_assert(cur.given);
	ck_assert_int_eq(cur.id[1], 999999999999999999LL);
	ck_assert_int_eq(pgsse_cursor_id(z, strlen(z)), 999999999999999999LL);
	strcat(z, "9");
	pgsse_cursor_parse(&cur, z, names, NNAMES);
	assert_reset(&cur, z, "malformed last event id");
	ck_assert_int_eq(pgsse_cursor_id(z, strlen(z)), -1);
	/* INT64_MAX and past it: 19 digits. */
	pgsse_cursor_parse(&cur, "demos:9223372036854775807", names, NNAMES);
	assert_reset(&cur, "INT64_MAX", "malformed last event id");
	pgsse_cursor_parse(&cur, "demos:9223372036854775808", names, NNAMES);
	assert_reset(&cur, "INT64_MAX + 1", "malformed last event id");
	/* Empty pairs are malformed. */
	memset(z, ',', 100);
	memcpy(z, "demos:1", 7);
	z[100] = '\0';
	pgsse_cursor_parse(&cur, z, names, NNAMES);
	assert_reset(&cur, "commas", "malformed last event id");
	/* PGSSE_LAST_ID_MAX bytes pass, one more is too long. */
	long_id(z, PGSSE_LAST_ID_MAX);
	pgsse_cursor_parse(&cur, z, names, NNAMES);
	ck_assert_msg(cur.reset == NULL, "%s", cur.reset);
	ck_assert_int_eq(cur.id[0], 1);
	ck_assert_int_eq(cur.id[2], 1);
	long_id(z, PGSSE_LAST_ID_MAX + 1);
	pgsse_cursor_parse(&cur, z, names, NNAMES);
	assert_reset(&cur, "long", "last event id too long");
	/* At most PGSSE_CHANNELS_MAX names are looked at. */
	pgsse_cursor_parse(&cur, "5", names, PGSSE_CHANNELS_MAX + 5);
	ck_assert_int_eq(cur.id[PGSSE_CHANNELS_MAX - 1], 5);
}
END_TEST

START_TEST(cursor_hostile)
{
	static const char *const bad[] = {
		"-5", "abc", "+5", " 5", "5 ", "0x10", "1e3", "1\xff",
		"demos:", "demos:x", "demos:-1", "demos:1,,",
		"demos:1,status", "demos:1,status:", "demos:5:6",
		"demos:1\n", "demos:1\r\nevent: x", ",", ",,demos:1",
		"99999999999999999999999", "demos:1 ,status:2",
	};
	struct pgsse_cursor	 cur;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pgsse_cursor_parse(&cur, bad[i], names, NNAMES);
		assert_reset(&cur, bad[i], "malformed last event id");
	}
	/* No channels: a bare id applies to none. */
	pgsse_cursor_parse(&cur, "5", names, 0);
	ck_assert(!cur.given);
	ck_assert_int_eq(pgsse_cursor_id("12", 0), -1);
	ck_assert_int_eq(pgsse_cursor_id("12x", 2), 12);
}
END_TEST

/* Ids past the log's first epoch: "<epoch>-<cursor>" (lib/cursor.c). */
START_TEST(cursor_epoch)
{
	static const char *const bad[] = {
		"0-5", "00-5", "-1-5", "1--5", "x-5", "5-", "5-,", "1-2-3",
		"3-demos:x", "3-demos:1,,", "3- 5", "3-+5", "1234567890-5",
		"99999999999999999999-5", "1-99999999999999999999",
		"1-9223372036854775808", "2147483648-1", "3-\xff",
	};
	struct pgsse_cursor	 cur;
	size_t			 i;

	pgsse_cursor_parse(&cur, "3-42", names, NNAMES);
	ck_assert(cur.given);
	ck_assert_ptr_null(cur.reset);
	ck_assert_int_eq(cur.epoch, 3);
	ck_assert_int_eq(cur.id[0], 42);
	ck_assert_int_eq(cur.id[2], 42);
	/* No epoch: the first one's, as every id before epochs. */
	pgsse_cursor_parse(&cur, "42", names, NNAMES);
	ck_assert_int_eq(cur.epoch, 1);
	pgsse_cursor_parse(&cur, "1-42", names, NNAMES);
	ck_assert_int_eq(cur.epoch, 1);
	ck_assert_int_eq(cur.id[1], 42);
	pgsse_cursor_parse(&cur, "demos:5", names, NNAMES);
	ck_assert_int_eq(cur.epoch, 1);
	pgsse_cursor_parse(&cur, "12-status:7,demos:5", names, NNAMES);
	ck_assert_int_eq(cur.epoch, 12);
	ck_assert_int_eq(cur.id[0], 5);
	ck_assert_int_eq(cur.id[1], 7);
	/* PGSSE_EPOCH_DIGITS_MAX digits pass. */
	pgsse_cursor_parse(&cur, "999999999-0", names, NNAMES);
	ck_assert_ptr_null(cur.reset);
	ck_assert_int_eq(cur.epoch, 999999999);
	ck_assert_int_eq(cur.id[0], 0);
	/* An epoch applies only when an id does. */
	pgsse_cursor_parse(&cur, "7-other:1", names, NNAMES);
	ck_assert(!cur.given);
	ck_assert_ptr_null(cur.reset);
	ck_assert_int_eq(cur.epoch, 0);
	pgsse_cursor_parse(&cur, "7-5", names, 0);
	ck_assert(!cur.given);
	ck_assert_int_eq(cur.epoch, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pgsse_cursor_parse(&cur, bad[i], names, NNAMES);
		assert_reset(&cur, bad[i], "malformed last event id");
		ck_assert_int_eq(cur.epoch, 0);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("cursor");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, cursor_bare_id);
	tcase_add_test(tc, cursor_composite);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, cursor_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, cursor_hostile);
	tcase_add_test(tc, cursor_epoch);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
