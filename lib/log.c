/*
 * log.c: log lines on standard error, which every web server we run
 * under sends to its error log, and systemd to the journal. One
 * write(2) per line, so lines from threads do not interleave.
 *
 * A line is "TIME PROGRAM[PID] LEVEL: MESSAGE", PROGRAM being the
 * name the program was started as. A message is always one line: its
 * lines are joined with "; ", trailing newlines dropped, and any other
 * control character becomes '?', so a hostile string cannot forge
 * lines. When standard error is the journal (JOURNAL_STREAM names its
 * device and inode, as systemd sets it), a line starts with the
 * journald priority, "<3>" for an error down to "<7>" for debug, and
 * has no time: journald stamps it. A program that inherits
 * JOURNAL_STREAM but writes elsewhere (lighttpd's bin-path, whose
 * stderr is lighttpd's error log) gets no prefixes.
 * PGSSE_LOG_PRIORITY=1 asks for the prefixes anywhere (time kept), 0
 * never.
 */
#define _GNU_SOURCE		/* program_invocation_short_name */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pgsse.h"

/* Longest log line; longer messages are cut. */
#define LOG_LINE_MAX 1024
/* What a program's lines are joined with. */
#define LOG_JOIN "; "
/* Longest program name in a line. */
#define LOG_IDENT_MAX 64

static enum pgsse_log_level log_level = PGSSE_LOG_INFO;
static const char *const log_names[PGSSE_LOG__MAX] = {
	"debug", "info", "warn", "error",
};
/* syslog(3) priorities: LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR. */
static const int log_prios[PGSSE_LOG__MAX] = { 7, 6, 4, 3 };

/* Sets the lowest level that is written. Can't fail. */
void
pgsse_log_set_level(enum pgsse_log_level lvl)
{
	if ((unsigned)lvl < PGSSE_LOG__MAX)
		log_level = lvl;
}

/*
 * Says if standard error is the journal: JOURNAL_STREAM is
 * "DEVICE:INODE" of the stream systemd connected, which stays set in
 * children whose stderr went elsewhere. Can't fail.
 */
static int
log_is_journal(void)
{
	struct stat		 st;
	const char		*z = getenv("JOURNAL_STREAM");
	unsigned long long	 dev, ino;

	if (z == NULL || sscanf(z, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/*
 * Writes the program's name, as started, into ident (of LOG_IDENT_MAX
 * bytes): libtool's uninstalled "lt-" prefix dropped. Can't fail.
 */
static void
log_ident(char *ident)
{
	const char	*z = program_invocation_short_name;

	if (z == NULL || *z == '\0')
		z = "pgsse";
	if (strncmp(z, "lt-", 3) == 0 && z[3] != '\0')
		z += 3;
	snprintf(ident, LOG_IDENT_MAX, "%s", z);
}

/*
 * Makes the message in line[start..n) one line, in place: each run of
 * newlines, with the blanks (spaces, tabs) around it, becomes LOG_JOIN (none at the
 * end), other control characters '?'. Returns the new end. Can't fail.
 */
static size_t
log_one_line(char *line, size_t start, size_t n, size_t cap)
{
	char	 out[LOG_LINE_MAX];
	size_t	 i, k = 0, end = n;

	while (end > start && (line[end - 1] == '\n' || line[end - 1] == ' '))
		end--;
	for (i = start; i < end && k + sizeof(LOG_JOIN) < sizeof(out); i++) {
		if (line[i] != '\n') {
			out[k++] = (unsigned char)line[i] < 0x20 ||
			    line[i] == 0x7f ? '?' : line[i];
			continue;
		}
		while (k > 0 && out[k - 1] == ' ')
			k--;
		while (i + 1 < end && (line[i + 1] == '\n' ||
		    line[i + 1] == ' ' || line[i + 1] == '\t'))
			i++;
		memcpy(out + k, LOG_JOIN, sizeof(LOG_JOIN) - 1);
		k += sizeof(LOG_JOIN) - 1;
	}
	if (k > cap - start)
		k = cap - start;
	memcpy(line + start, out, k);
	return start + k;
}

/*
 * Writes one line: see the top of the file. Errors writing the log
 * are ignored. Can't fail.
 */
void
pgsse_log(enum pgsse_log_level lvl, const char *fmt, ...)
{
	char		 line[LOG_LINE_MAX], ident[LOG_IDENT_MAX];
	va_list		 ap;
	struct tm	 tm;
	time_t		 now;
	size_t		 n = 0, start;
	const char	*z;
	int		 rc, journal, prio, save = errno;

	if ((unsigned)lvl >= PGSSE_LOG__MAX || lvl < log_level)
		return;
	journal = log_is_journal();
	prio = journal;
	if ((z = getenv("PGSSE_LOG_PRIORITY")) != NULL && *z != '\0')
		prio = strcmp(z, "0") != 0;
	if (prio)
		n = (size_t)snprintf(line, sizeof(line), "<%d>",
		    log_prios[lvl]);
	if (!journal) {
		now = time(NULL);
		gmtime_r(&now, &tm);
		n += strftime(line + n, sizeof(line) - n,
		    "%Y-%m-%dT%H:%M:%SZ ", &tm);
	}
	log_ident(ident);
	rc = snprintf(line + n, sizeof(line) - n, "%s[%d] %s: ", ident,
	    (int)getpid(), log_names[lvl]);
	if (rc < 0 || (size_t)rc >= sizeof(line) - n)
		return;
	n += (size_t)rc;
	start = n;
	va_start(ap, fmt);
	rc = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return;
	n = (size_t)rc < sizeof(line) - n - 1 ? n + (size_t)rc :
	    sizeof(line) - 2;
	n = log_one_line(line, start, n, sizeof(line) - 1);
	line[n++] = '\n';
	(void)write(STDERR_FILENO, line, n);
	errno = save;
}
