/*
 * db.c: libpq connections. A connection belongs to one thread at a time:
 * the hub's LISTEN connection to the hub thread, pooled ones (pool.c) to
 * whichever client thread took them until it puts them back.
 *
 * Every connection gets TCP keepalives, a TCP user timeout and a connect
 * timeout (extern.h) unless its conninfo sets them: without them a LISTEN
 * connection whose peer went silent waits for notifications forever, and
 * a query on one waits for the kernel's retransmissions (15 minutes).
 */
#include <stdlib.h>

#include "pgsse.h"
#include "extern.h"

#define DB_STR(x) DB_STR2(x)
#define DB_STR2(x) #x

/* The defaults; env names the PG* variable that sets one, if any. */
static const struct {
	const char	*kw;
	const char	*env;
	const char	*val;
} db_defaults[] = {
	{ "keepalives", NULL, "1" },
	{ "keepalives_idle", NULL, DB_STR(PGSSE_DB_KEEPALIVE_IDLE_S) },
	{ "keepalives_interval", NULL, DB_STR(PGSSE_DB_KEEPALIVE_INTERVAL_S) },
	{ "keepalives_count", NULL, DB_STR(PGSSE_DB_KEEPALIVE_COUNT) },
	{ "tcp_user_timeout", NULL, DB_STR(PGSSE_DB_DEAD_MS) },
	{ "connect_timeout", "PGCONNECT_TIMEOUT",
	    DB_STR(PGSSE_DB_CONNECT_TIMEOUT_S) },
};
#define DB_NDEFAULTS (sizeof(db_defaults) / sizeof(db_defaults[0]))

/*
 * Opens a connection. conninfo "" or NULL uses the PG* environment.
 * The defaults come first and conninfo (a key=value string or a URI)
 * is expanded after them, so that what it sets wins (libpq's rule for
 * PQconnectdbParams). Returns NULL, after logging why, on failure. The
 * caller owns the connection and closes it with pgsse_db_close.
 */
PGconn *
pgsse_db_connect(const char *conninfo)
{
	const char	*kw[DB_NDEFAULTS + 2], *val[DB_NDEFAULTS + 2];
	PGconn		*conn;
	size_t		 i, n = 0;

	for (i = 0; i < DB_NDEFAULTS; i++) {
		if (db_defaults[i].env != NULL &&
		    getenv(db_defaults[i].env) != NULL)
			continue;
		kw[n] = db_defaults[i].kw;
		val[n++] = db_defaults[i].val;
	}
	kw[n] = "dbname";
	val[n++] = conninfo != NULL ? conninfo : "";
	kw[n] = val[n] = NULL;
	conn = PQconnectdbParams(kw, val, 1);
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
