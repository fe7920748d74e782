/*
 * pgsse-publish CHANNEL EVENT [JSON]: publishes one event from a shell
 * script through pgsse.publish() and prints its id.
 * The database comes from PGSSE_CONNINFO or the PG* variables.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pgsse.h"

int
main(int argc, char *argv[])
{
	PGconn		*conn = NULL;
	char		*err = NULL;
	int64_t		 id;
	int		 rc = 1;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		puts("pgsse-publish " PGSSE_VERSION);
		return 0;
	}
	if (argc < 3 || argc > 4 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc == 2 ? stdout : stderr, "usage: pgsse-publish "
		    "CHANNEL EVENT [JSON]\nPublishes one event through "
		    "pgsse.publish() and prints its id.\nThe database comes "
		    "from PGSSE_CONNINFO or the PG* variables.\n");
		return argc == 2 ? 0 : 2;
	}
	conn = PQconnectdb(getenv("PGSSE_CONNINFO") ?
	    getenv("PGSSE_CONNINFO") : "");
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "pgsse-publish: %s", conn ?
		    PQerrorMessage(conn) : "out of memory\n");
		goto out;
	}
	if (pgsse_publish(conn, argv[1], argv[2], argc == 4 ? argv[3] : NULL,
	    &id, &err) != PGSSE_OK) {
		fprintf(stderr, "pgsse-publish: %s\n", err ? err : "failed");
		goto out;
	}
	printf("%" PRId64 "\n", id);
	rc = 0;
out:
	free(err);
	PQfinish(conn);
	return rc;
}
