/*
 * log.c: log lines on standard error, which every web server we run
 * under sends to its error log. One write(2) per line, so lines from
 * threads do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pgsse.h"

/* Longest log line; longer messages are cut. */
#define LOG_LINE_MAX 1024

static enum pgsse_log_level log_level = PGSSE_LOG_INFO;
static const char *const log_names[PGSSE_LOG__MAX] = {
	"debug", "info", "warn", "error",
};

/* Sets the lowest level that is written. Can't fail. */
void
pgsse_log_set_level(enum pgsse_log_level lvl)
{
	if ((unsigned)lvl < PGSSE_LOG__MAX)
		log_level = lvl;
}

/*
 * Writes one line: time, pid, level, message. Control characters in the
 * message become '?', so a hostile string cannot forge log lines.
 * Errors writing the log are ignored. Can't fail.
 */
void
pgsse_log(enum pgsse_log_level lvl, const char *fmt, ...)
{
	char		 line[LOG_LINE_MAX];
	va_list		 ap;
	struct tm	 tm;
	time_t		 now;
	size_t		 n, i, start;
	int		 rc;

	if ((unsigned)lvl >= PGSSE_LOG__MAX || lvl < log_level)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
	rc = snprintf(line + n, sizeof(line) - n, " pgsse[%d] %s: ",
	    (int)getpid(), log_names[lvl]);
	if (rc < 0)
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
	for (i = start; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
