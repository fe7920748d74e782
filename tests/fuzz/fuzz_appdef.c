/*
 * fuzz_appdef.c: the app folder's loader (lib/appdef.c): the input is
 * app.json, in a folder made once with a template, a partial and an SQL
 * file to name. Whatever it holds, the load succeeds or fails with an
 * error; nothing may crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pgsse.h"
#include "pgsse-app.h"
#include "appdef.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The folder, and its files, made on the first input. */
static char		 dir[64];
static const char *const files[][2] = {
	{ "templates/t.html", "<ul>{{#rows}}{{> row}}{{/rows}}</ul>"
	    "<a href=\"{{u}}\">{{{raw}}}</a>\n" },
	{ "templates/row.html", "<li id=\"r-{{id}}\">{{title}}</li>\n" },
	{ "sql/q.sql", "select 1 as id\n" },
};

/* Removes the folder at exit. */
static void
cleanup(void)
{
	char	 path[256];
	size_t	 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/templates", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sql", dir);
	rmdir(path);
	rmdir(dir);
}

/* Makes the folder. */
static void
setup(void)
{
	char	 path[256];
	FILE	*f;
	size_t	 i;

	snprintf(dir, sizeof(dir), "/tmp/fuzz_appdef.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/templates", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sql", dir);
	mkdir(path, 0700);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		if ((f = fopen(path, "w")) == NULL)
			abort();
		fputs(files[i][1], f);
		fclose(f);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	struct pgsse_appdef	*def;
	char			 err[1024];

	if (dir[0] == '\0')
		setup();
	err[0] = '\0';
	def = pgsse_appdef_parse(dir, (const char *)buf, size, err,
	    sizeof(err));
	if (def == NULL && err[0] == '\0')
		abort();	/* every failure says why */
	pgsse_appdef_release(def);
	return 0;
}
