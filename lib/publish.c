/*
 * publish.c: publishing from C. Everything goes through pgsse.publish(),
 * so C programs get the same validation, ordering and doorbell as SQL.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pgsse.h"

/*
 * Publishes one event over conn, which must not be shared with another
 * thread while this runs. json NULL means "{}". On success stores the
 * event id in *id (if not NULL). On failure returns PGSSE_ERR_DB and, if
 * errmsg is not NULL, a newly allocated message that the caller frees.
 */
enum pgsse_err
pgsse_publish(PGconn *conn, const char *channel, const char *event,
    const char *json, int64_t *id, char **errmsg)
{
	const char	*params[3];
	PGresult	*res;
	enum pgsse_err	 er = PGSSE_ERR_DB;

	if (errmsg != NULL)
		*errmsg = NULL;
	params[0] = channel;
	params[1] = event;
	params[2] = json != NULL ? json : "{}";
	res = PQexecParams(conn, "select pgsse.publish($1, $2, $3::jsonb)",
	    3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		if (id != NULL)
			*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		er = PGSSE_OK;
	} else if (errmsg != NULL) {
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		*errmsg = strdup(m != NULL ? m : PQerrorMessage(conn));
	}
	PQclear(res);
	return er;
}
