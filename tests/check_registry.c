/* check_registry.c: lib/registry.c (the file side; the database side is
 * exercised by check_publish and check_stream). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "registry.h"
#include "harness.h"

static char *
read_file(const char *rel)
{
	char	 path[1024], *p;
	FILE	*f;
	long	 n;

	snprintf(path, sizeof(path), "%s/%s", h_srcdir(), rel);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = calloc(1, (size_t)n + 1);
	ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return p;
}

/* The demo registry carries exactly the seed's CHANNEL_EVENTS. */
START_TEST(registry_demo_is_the_seed)
{
	static const char *const want[][5] = {
		{ "logs", "log" },
		{ "operations", "operation_status" },
		{ "demos", "installed", "uninstalled", "operation_started",
		  "operation_completed" },
		{ "status", "system_status" },
		{ "validation", "check_result", "validation_complete",
		  "validation_error" },
		{ "job", "progress", "complete" },
	};
	struct pgsse_buf	 err = { NULL, 0, 0 };
	struct pgsse_registry	*reg;
	const struct pgsse_channel *ch;
	char			*text = read_file("sql/registry.json");
	size_t			 i, j;

	reg = pgsse_registry_parse(text, &err);
	ck_assert_msg(reg != NULL, "%s", err.p);
	ck_assert_uint_eq(reg->n, 6);
	for (i = 0; i < 6; i++) {
		ch = pgsse_registry_channel(reg, want[i][0]);
		ck_assert_ptr_nonnull(ch);
		for (j = 1; j < 5 && want[i][j] != NULL; j++)
			ck_assert_ptr_nonnull(pgsse_registry_event(ch,
			    want[i][j]));
		ck_assert_uint_eq(ch->nevents, j - 1);
		ck_assert(pgsse_registry_may_read(ch, NULL));
	}
	ck_assert_ptr_null(pgsse_registry_channel(reg, "nope"));
	pgsse_registry_free(reg);
	pgsse_buf_free(&err);
	free(text);
}
END_TEST

START_TEST(registry_private)
{
	struct pgsse_buf	 err = { NULL, 0, 0 };
	struct pgsse_registry	*reg;
	const struct pgsse_channel *ch;
	char			*text = read_file("tests/data/registry-test.json");

	reg = pgsse_registry_parse(text, &err);
	ck_assert_ptr_nonnull(reg);
	ch = pgsse_registry_channel(reg, "admin");
	ck_assert_ptr_nonnull(ch);
	ck_assert(ch->private);
	ck_assert(pgsse_registry_may_read(ch, "alice"));
	ck_assert(!pgsse_registry_may_read(ch, "bob"));
	ck_assert(!pgsse_registry_may_read(ch, ""));
	ck_assert(!pgsse_registry_may_read(ch, NULL));
	pgsse_registry_free(reg);
	pgsse_buf_free(&err);
	free(text);
}
END_TEST

START_TEST(registry_rejects_bad_names)
{
	static const char *const bad[] = {
		"{}",
		"[]",
		"not json",
		"{\"channels\": [{\"name\": \"Bad\", \"description\": \"x\", \"events\": []}]}",
		"{\"channels\": [{\"name\": \"pgsse\", \"description\": \"x\", \"events\": []}]}",
		"{\"channels\": [{\"name\": \"a\\nb\", \"description\": \"x\", \"events\": []}]}",
		"{\"channels\": [{\"name\": \"ok\", \"description\": \"x\", \"events\": [{\"name\": \"e-1\", \"description\": \"d\"}]}]}",
		"{\"channels\": [{\"name\": \"ok\", \"description\": \"x\", \"events\": [{\"name\": \"e\", \"description\": \"d\", \"fields\": {\"f\": \"date\"}}]}]}",
		"{\"channels\": [{\"name\": \"ok\", \"description\": \"x\", \"events\": []}, {\"name\": \"ok\", \"description\": \"x\", \"events\": []}]}",
		"{\"channels\": [{\"name\": \"ok\", \"events\": []}]}",
	};
	struct pgsse_buf	 err = { NULL, 0, 0 };
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pgsse_buf_reset(&err);
		ck_assert_msg(pgsse_registry_parse(bad[i], &err) == NULL,
		    "accepted %s", bad[i]);
		ck_assert_msg(err.len > 0, "no reason for %s", bad[i]);
	}
	pgsse_buf_free(&err);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("registry");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, registry_demo_is_the_seed);
	tcase_add_test(tc, registry_private);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, registry_rejects_bad_names);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
