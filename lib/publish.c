/*
 * publish.c: publishing from C. Everything goes through pgsse.publish(),
 * so C programs get the same validation, ordering and doorbell as SQL.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"

/*
 * Runs sql, a call of one function returning a bigint, with n params
 * over conn. On success stores the value in *id (if not NULL). On
 * failure returns PGSSE_ERR_DB and, if errmsg is not NULL, a newly
 * allocated message that the caller frees.
 */
static enum pgsse_err
publish_call(PGconn *conn, const char *sql, int n, const char *const *params,
    int64_t *id, char **errmsg)
{
	PGresult	*res;
	const char	*m;
	enum pgsse_err	 er = PGSSE_ERR_DB;

	if (errmsg != NULL)
		*errmsg = NULL;
	res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		if (id != NULL)
			*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		er = PGSSE_OK;
	} else if (errmsg != NULL) {
		m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		*errmsg = strdup(m != NULL ? m : PQerrorMessage(conn));
	}
	PQclear(res);
	return er;
}

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

	params[0] = channel;
	params[1] = event;
	params[2] = json != NULL ? json : "{}";
	return publish_call(conn, "select pgsse.publish($1, $2, $3::jsonb)",
	    3, params, id, errmsg);
}

/*
 * Publishes one event over conn to user (pgsse.publish's four-argument
 * form; NULL: to everyone, as pgsse_publish). Otherwise as
 * pgsse_publish.
 */
enum pgsse_err
pgsse_publish_user(PGconn *conn, const char *channel, const char *event,
    const char *json, const char *user, int64_t *id, char **errmsg)
{
	const char	*params[4];

	params[0] = channel;
	params[1] = event;
	params[2] = json != NULL ? json : "{}";
	params[3] = user;
	return publish_call(conn, "select pgsse.publish($1, $2, $3::jsonb, "
	    "$4)", 4, params, id, errmsg);
}

/*
 * Enqueues a job of kind over conn (pgsse.enqueue), for a runner to
 * claim; json NULL means "{}". With dedupe, a job of that key still
 * queued or running is returned instead. Stores the job's id in *id (if
 * not NULL). Fails as pgsse_publish does.
 */
enum pgsse_err
pgsse_enqueue(PGconn *conn, const char *kind, const char *json,
    const char *dedupe, int64_t *id, char **errmsg)
{
	const char	*params[3];

	params[0] = kind;
	params[1] = json != NULL ? json : "{}";
	params[2] = dedupe;
	return publish_call(conn, "select pgsse.enqueue($1, $2::jsonb, $3)",
	    3, params, id, errmsg);
}
