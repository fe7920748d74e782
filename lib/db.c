/*
 * db.c: libpq connections. A connection belongs to one thread at a time:
 * the hub's LISTEN connection to the hub thread, pooled ones (pool.c) to
 * whichever client thread took them until it puts them back.
 */
#include <stdlib.h>

#include "pgsse.h"
#include "extern.h"

/*
 * Opens a connection. conninfo "" or NULL uses the PG* environment.
 * Returns NULL, after logging why, on failure. The caller owns the
 * connection and closes it with pgsse_db_close.
 */
PGconn *
pgsse_db_connect(const char *conninfo)
{
	PGconn	*conn;

	conn = PQconnectdb(conninfo ? conninfo : "");
	if (conn == NULL) {
		pgsse_log(PGSSE_LOG_ERROR, "connecting: out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		pgsse_log(PGSSE_LOG_WARN, "connecting: %s",
		    PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Closes a connection. Accepts NULL. */
void
pgsse_db_close(PGconn *conn)
{
	if (conn != NULL)
		PQfinish(conn);
}
