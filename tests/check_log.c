/*
 * check_log.c: lib/log.c, in process. Each test points standard error
 * at a file of its own, logs, and reads back what was written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "pgsse.h"
#include "harness.h"

/* Where standard error went before a capture. */
static int	 saved_stderr = -1;
static char	 cap_path[] = "/tmp/check_log.XXXXXX";

/* Points standard error at a new empty file. */
static void
cap_start(void)
{
	int	 fd;

	strcpy(cap_path, "/tmp/check_log.XXXXXX");
	if ((fd = mkstemp(cap_path)) == -1)
		ck_abort_msg("mkstemp: %s", strerror(errno));
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* Sets JOURNAL_STREAM to the device and inode of standard error. */
static void
cap_is_journal(void)
{
	struct stat	 st;
	char		 z[64];

	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(z, sizeof(z), "%lu:%lu", (unsigned long)st.st_dev,
	    (unsigned long)st.st_ino);
	setenv("JOURNAL_STREAM", z, 1);
}

/* Restores standard error; returns what was written (caller frees). */
static char *
cap_end(void)
{
	FILE	*f;
	char	*p;
	long	 n;

	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	if ((f = fopen(cap_path, "r")) == NULL)
		ck_abort_msg("cannot read %s", cap_path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(cap_path);
	unsetenv("JOURNAL_STREAM");
	unsetenv("PGSSE_LOG_PRIORITY");
	return p;
}

/* Counts the lines in z. */
static int
nlines(const char *z)
{
	int	 n = 0;

	for (; *z != '\0'; z++)
		n += *z == '\n';
	return n;
}

/* Each line names the program that wrote it, not "pgsse". */
START_TEST(log_names_program)
{
	char	*out, want[64];

	unsetenv("JOURNAL_STREAM");
	unsetenv("PGSSE_LOG_PRIORITY");
	cap_start();
	pgsse_log(PGSSE_LOG_WARN, "hello");
	out = cap_end();
	snprintf(want, sizeof(want), " check_log[%d] warn: hello\n",
	    (int)getpid());
	ck_assert_msg(strstr(out, want) != NULL, "got \"%s\", want \"%s\"",
	    out, want);
	free(out);
}
END_TEST

/* A multi-line message (libpq's) is one line, its lines joined. */
START_TEST(log_one_line)
{
	char	*out, *p;

	unsetenv("JOURNAL_STREAM");
	cap_start();
	pgsse_log(PGSSE_LOG_ERROR, "connecting: %s", "connection to server "
	    "failed: FATAL:  database \"x\" does not exist\nDETAIL:  "
	    "something\n  LINE 1: select\n\tIs the server running?\n\n");
	out = cap_end();
	ck_assert_int_eq(nlines(out), 1);
	ck_assert_ptr_nonnull(p = strstr(out, "error: connecting: "));
	ck_assert_str_eq(p, "error: connecting: connection to server failed: "
	    "FATAL:  database \"x\" does not exist; DETAIL:  something; "
	    "LINE 1: select; Is the server running?\n");
	free(out);
}
END_TEST

/* Other control characters still cannot forge anything. */
START_TEST(log_controls)
{
	char	*out;

	cap_start();
	pgsse_log(PGSSE_LOG_ERROR, "a\rb\033[31mc\td");
	out = cap_end();
	ck_assert_int_eq(nlines(out), 1);
	ck_assert_ptr_nonnull(strstr(out, "error: a?b?[31mc?d\n"));
	free(out);
}
END_TEST

/* With standard error the journal: <N> priorities, no timestamp. */
START_TEST(log_journal_priorities)
{
	char	*out;

	pgsse_log_set_level(PGSSE_LOG_DEBUG);
	cap_start();
	cap_is_journal();
	pgsse_log(PGSSE_LOG_ERROR, "e");
	pgsse_log(PGSSE_LOG_WARN, "w");
	pgsse_log(PGSSE_LOG_INFO, "i");
	pgsse_log(PGSSE_LOG_DEBUG, "d");
	out = cap_end();
	pgsse_log_set_level(PGSSE_LOG_INFO);
	ck_assert_msg(strncmp(out, "<3>", 3) == 0, "got \"%s\"", out);
	ck_assert_ptr_nonnull(strstr(out, "\n<4>"));
	ck_assert_ptr_nonnull(strstr(out, "\n<6>"));
	ck_assert_ptr_nonnull(strstr(out, "\n<7>"));
	ck_assert_int_eq(nlines(out), 4);
	/* journald stamps lines itself. */
	ck_assert_ptr_null(strstr(out, "Z "));
	free(out);
}
END_TEST

/*
 * JOURNAL_STREAM inherited from a unit whose stderr is not ours
 * (lighttpd's bin-path: our stderr is its error log): no prefixes.
 */
START_TEST(log_not_journal)
{
	char	*out;

	cap_start();
	setenv("JOURNAL_STREAM", "8:12345", 1);
	pgsse_log(PGSSE_LOG_ERROR, "e");
	out = cap_end();
	ck_assert_msg(out[0] != '<', "got \"%s\"", out);
	ck_assert_ptr_nonnull(strstr(out, "Z check_log["));
	free(out);
}
END_TEST

/* PGSSE_LOG_PRIORITY=1 asks for the prefixes anywhere, stamped. */
START_TEST(log_priority_asked)
{
	char	*out;

	cap_start();
	setenv("PGSSE_LOG_PRIORITY", "1", 1);
	pgsse_log(PGSSE_LOG_WARN, "w");
	out = cap_end();
	ck_assert_msg(strncmp(out, "<4>", 3) == 0, "got \"%s\"", out);
	ck_assert_ptr_nonnull(strstr(out, "Z check_log["));
	free(out);
}
END_TEST

/* ... and PGSSE_LOG_PRIORITY=0 turns them off, even on the journal. */
START_TEST(log_priority_off)
{
	char	*out;

	cap_start();
	cap_is_journal();
	setenv("PGSSE_LOG_PRIORITY", "0", 1);
	pgsse_log(PGSSE_LOG_WARN, "w");
	out = cap_end();
	ck_assert_msg(out[0] != '<', "got \"%s\"", out);
	free(out);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, log_names_program);
	tcase_add_test(tc, log_one_line);
	tcase_add_test(tc, log_controls);
	suite_add_tcase(s, tc);
	tc = tcase_create("journal");
	tcase_add_test(tc, log_journal_priorities);
	tcase_add_test(tc, log_not_journal);
	tcase_add_test(tc, log_priority_asked);
	tcase_add_test(tc, log_priority_off);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(log_suite());
}
