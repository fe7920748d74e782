/*
 * pgsse-app: serves the HTMX fragments and actions that an app folder
 * declares (--app DIR or PGSSE_APP_DIR; docs/FRAGMENTS.md), on the
 * public API alone (pgsse-app.h), like any app built outside this tree.
 * It has no routes of its own.
 */
#include <stddef.h>

#include "pgsse-app.h"

int
main(int argc, char *argv[])
{
	return pgsse_app_main_folder("pgsse-app", NULL, NULL, argc, argv);
}
