/*
 * check_registry.c: lib/registry.c, and the registry's database side:
 * pgsse.load_registry merges an app's registry over the core registry
 * that sql/pgsse.sql installs (stream processes reloading it live are
 * exercised by check_stream).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libpq-fe.h>

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

/* Parses a registry of the channels named in names, one event "e" each
 * (an event "e2" too on those whose name is followed by "+"). */
static struct pgsse_registry *
reg_of(const char *const *names, size_t n)
{
	struct pgsse_buf	 doc = { NULL, 0, 0 }, err = { NULL, 0, 0 };
	struct pgsse_registry	*reg;
	size_t			 i, len;

	pgsse_buf_puts(&doc, "{\"channels\": [");
	for (i = 0; i < n; i++) {
		len = strcspn(names[i], "+");
		pgsse_buf_printf(&doc, "%s{\"name\": \"%.*s\", \"description\":"
		    " \"d\", \"events\": [{\"name\": \"e\", \"description\": "
		    "\"d\"}%s]}", i ? "," : "", (int)len, names[i],
		    names[i][len] ? ", {\"name\": \"e2\", \"description\": "
		    "\"d\"}" : "");
	}
	pgsse_buf_puts(&doc, "]}");
	reg = pgsse_registry_parse(doc.p, &err);
	ck_assert_msg(reg != NULL, "%s", err.p);
	pgsse_buf_free(&doc);
	pgsse_buf_free(&err);
	return reg;
}

/* Asserts reg's slots: "name" live, "-name" a tombstone. */
static void
assert_slots(const struct pgsse_registry *reg, const char *const *want,
    size_t n)
{
	const char	*z;
	size_t		 i;

	ck_assert_uint_eq(reg->n, n);
	for (i = 0; i < n; i++) {
		z = want[i] + (want[i][0] == '-');
		ck_assert_str_eq(reg->channels[i].name, z);
		ck_assert_int_eq(reg->channels[i].removed, want[i][0] == '-');
		if (want[i][0] == '-') {
			ck_assert_ptr_null(pgsse_registry_channel(reg, z));
			ck_assert_uint_eq(reg->channels[i].nevents, 0);
		} else
			ck_assert_ptr_eq(pgsse_registry_channel(reg, z),
			    &reg->channels[i]);
	}
}

/*
 * Snapshots keep every slot for good: a removed channel leaves a
 * tombstone, a new one is appended, one declared again gets its slot
 * back, and what a slot declares comes from the newest load.
 */
START_TEST(registry_rebase_keeps_slots)
{
	static const char *const v1[] = { "a", "b", "c" };
	static const char *const v2[] = { "c", "d", "a+" };
	static const char *const v3[] = { "b", "d" };
	static const char *const s2[] = { "a", "-b", "c", "d" };
	static const char *const s3[] = { "-a", "b", "-c", "d" };
	struct pgsse_buf	 err = { NULL, 0, 0 };
	struct pgsse_registry	*r1 = reg_of(v1, 3), *r2, *r3;

	r2 = pgsse_registry_rebase(r1, reg_of(v2, 3), &err);
	ck_assert_ptr_nonnull(r2);
	assert_slots(r2, s2, 4);
	ck_assert_uint_eq(pgsse_registry_nlive(r2), 3);
	ck_assert_ptr_nonnull(pgsse_registry_event(&r2->channels[0], "e2"));
	/* r1 is untouched, and may outlive its successors. */
	assert_slots(r1, v1, 3);
	ck_assert_ptr_null(pgsse_registry_event(&r1->channels[0], "e2"));
	r3 = pgsse_registry_rebase(r2, reg_of(v3, 2), &err);
	ck_assert_ptr_nonnull(r3);
	pgsse_registry_free(r2);
	assert_slots(r3, s3, 4);
	ck_assert_uint_eq(pgsse_registry_nlive(r3), 2);
	/* References: the last one frees (ASan/valgrind see a leak else). */
	ck_assert_ptr_eq(pgsse_registry_ref(r3), r3);
	pgsse_registry_free(r3);
	assert_slots(r3, s3, 4);
	pgsse_registry_free(r3);
	pgsse_registry_free(r1);
	ck_assert_uint_eq(err.len, 0);
	pgsse_buf_free(&err);
}
END_TEST

/* A reload that would pass PGSSE_CHANNEL_SLOTS_MAX is refused. */
START_TEST(registry_rebase_slots_max)
{
	static char		 names[PGSSE_CHANNEL_SLOTS_MAX + 1][16];
	const char		*v[PGSSE_CHANNEL_SLOTS_MAX + 1];
	struct pgsse_buf	 err = { NULL, 0, 0 };
	struct pgsse_registry	*full, *next;
	size_t			 i;

	for (i = 0; i <= PGSSE_CHANNEL_SLOTS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "c%zu", i);
		v[i] = names[i];
	}
	full = reg_of(v, PGSSE_CHANNEL_SLOTS_MAX);
	/* Every slot taken: the same channels load again... */
	next = pgsse_registry_rebase(full, reg_of(v, PGSSE_CHANNEL_SLOTS_MAX),
	    &err);
	ck_assert_ptr_nonnull(next);
	pgsse_registry_free(next);
	/* ...but one more name is refused, with the limit's name. */
	next = pgsse_registry_rebase(full, reg_of(v + PGSSE_CHANNEL_SLOTS_MAX,
	    1), &err);
	ck_assert_ptr_null(next);
	ck_assert_ptr_nonnull(strstr(err.p, "PGSSE_CHANNEL_SLOTS_MAX"));
	pgsse_registry_free(full);
	pgsse_buf_free(&err);
}
END_TEST

static struct h_pg	 pg;

static void
db_up(void)
{
	h_pg_start(&pg, NULL);
}

static void
db_down(void)
{
	h_pg_stop(&pg);
}

/* Returns the channels of pgsse.channels, "name:core,..." by name. */
static char *
db_channels(PGconn *c)
{
	PGresult	*res;
	char		*z;

	res = PQexec(c, "select string_agg(name || ':' || core, ',' order by "
	    "name) from pgsse.channels");
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s",
	    PQerrorMessage(c));
	z = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return z;
}

/* Collects NOTICE text into the buffer given as arg. */
static void
on_notice(void *arg, const char *msg)
{
	pgsse_buf_puts(arg, msg);
}

/*
 * Calls pgsse.load_registry(doc). Returns 1 if it succeeded, else 0 with
 * the error in err; notices go to notices.
 */
static int
db_load(PGconn *c, const char *doc, struct pgsse_buf *err,
    struct pgsse_buf *notices)
{
	const char	*params[1] = { doc };
	PGresult	*res;
	int		 ok;

	PQsetNoticeProcessor(c, on_notice, notices);
	res = PQexecParams(c, "select pgsse.load_registry($1::jsonb)", 1, NULL,
	    params, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		pgsse_buf_puts(err, PQerrorMessage(c));
	PQclear(res);
	return ok;
}

#define CORE_LOGS "{\"name\": \"logs\", \"description\": \"%s\", " \
	"\"events\": [{\"name\": \"log\", \"description\": \"One line " \
	"of output\", \"fields\": {%s}}]}"

/*
 * An app registry without logs, operations and job (the core registry)
 * removes the app channels it lacks and keeps the core ones; publishing
 * to them, as the runner and pgsse.enqueue do, still works.
 */
START_TEST(registry_core_survives_app_registry)
{
	PGconn		*c = h_pg_connect();
	char		*z;

	ck_assert_int_eq(h_run("%s/bin/pgsse-registry load "
	    "%s/tests/data/registry-app.json", h_builddir(), h_srcdir()), 0);
	z = db_channels(c);
	ck_assert_str_eq(z, "job:true,logs:true,operations:true,orders:false");
	free(z);
	h_publish(c, "logs", "log", "{\"source\":\"t\",\"line\":\"x\"}");
	h_publish(c, "job", "complete", "{\"job_id\":1,\"state\":\"failed\"}");
	h_exec(c, "select pgsse.enqueue('k')");
	h_publish(c, "orders", "placed", "{\"order_id\":1}");
	/* The seed's whole registry, which redeclares the core, still loads. */
	ck_assert_int_eq(h_run("%s/bin/pgsse-registry load "
	    "%s/sql/registry.json >/dev/null", h_builddir(), h_srcdir()), 0);
	z = db_channels(c);
	ck_assert_str_eq(z, "demos:false,job:true,logs:true,operations:true,"
	    "status:false,validation:false");
	free(z);
	PQfinish(c);
}
END_TEST

/* Loading sql/pgsse.sql installs the core channels itself. */
START_TEST(registry_schema_installs_core)
{
	PGconn		*c = h_pg_connect();
	char		*z;

	h_exec(c, "delete from pgsse.channels");
	h_pg_load("sql/pgsse.sql");
	z = db_channels(c);
	ck_assert_str_eq(z, "job:true,logs:true,operations:true");
	free(z);
	ck_assert_int_eq(h_pg_count("select count(*) from pgsse.event_fields "
	    "where channel = 'job' and event = 'progress'"), 3);
	PQfinish(c);
}
END_TEST

/*
 * A document may redeclare a core channel as the seed does: the same
 * events and fields load silently, other descriptions load with a
 * NOTICE (the core's are kept), and other events, fields or readers are
 * refused with an error naming the channel.
 */
START_TEST(registry_core_redeclared)
{
	PGconn			*c = h_pg_connect();
	struct pgsse_buf	 err = { NULL, 0, 0 }, notes = { NULL, 0, 0 };
	struct pgsse_buf	 doc = { NULL, 0, 0 };
	char			*seed = read_file("sql/registry.json");

	ck_assert_msg(db_load(c, seed, &err, &notes), "%s", err.p);
	ck_assert_msg(notes.len == 0, "the seed's core differs: %s", notes.p);
	pgsse_buf_printf(&doc, "{\"channels\": [" CORE_LOGS "]}", "Mine.",
	    "\"source\": \"string\", \"line\": \"string\"");
	ck_assert_msg(db_load(c, doc.p, &err, &notes), "%s", err.p);
	ck_assert_msg(notes.p != NULL && strstr(notes.p, "core channel "
	    "\"logs\"") != NULL, "no NOTICE for the core's descriptions");
	ck_assert_int_eq(h_pg_count("select count(*) from pgsse.channels "
	    "where name = 'logs' and description = 'Mine.'"), 0);
	pgsse_buf_reset(&doc);
	pgsse_buf_printf(&doc, "{\"channels\": [" CORE_LOGS "]}", "Mine.",
	    "\"line\": \"integer\"");
	ck_assert(!db_load(c, doc.p, &err, &notes));
	ck_assert_msg(err.p != NULL && strstr(err.p, "core channel \"logs\"") !=
	    NULL, "%s", err.p);
	ck_assert_int_eq(h_pg_count("select count(*) from pgsse.event_fields "
	    "where channel = 'logs' and field = 'source'"), 1);
	pgsse_buf_free(&err);
	pgsse_buf_free(&notes);
	pgsse_buf_free(&doc);
	free(seed);
	PQfinish(c);
}
END_TEST

/*
 * A document that declares one channel twice is refused by the
 * database too (not only by pgsse-registry check), and nothing of it
 * is loaded: the second declaration would silently replace the first.
 */
START_TEST(registry_duplicate_channel)
{
	PGconn			*c = h_pg_connect();
	struct pgsse_buf	 err = { NULL, 0, 0 }, notes = { NULL, 0, 0 };
	static const char	 doc[] = "{\"channels\": ["
	    "{\"name\": \"twice\", \"description\": \"a\", \"events\": []},"
	    "{\"name\": \"twice\", \"description\": \"b\", \"events\": []}]}";

	ck_assert(!db_load(c, doc, &err, &notes));
	ck_assert_msg(err.p != NULL && strstr(err.p, "\"twice\" is declared "
	    "twice") != NULL, "%s", err.p ? err.p : "(no error)");
	ck_assert_int_eq(h_pg_count("select count(*) from pgsse.channels "
	    "where name = 'twice'"), 0);
	pgsse_buf_free(&err);
	pgsse_buf_free(&notes);
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("registry");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, registry_demo_is_the_seed);
	tcase_add_test(tc, registry_private);
	tcase_add_test(tc, registry_rebase_keeps_slots);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, registry_rebase_slots_max);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, registry_rejects_bad_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("database");
	tcase_add_unchecked_fixture(tc, db_up, db_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, registry_core_survives_app_registry);
	tcase_add_test(tc, registry_core_redeclared);
	tcase_add_test(tc, registry_schema_installs_core);
	tcase_add_test(tc, registry_duplicate_channel);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
