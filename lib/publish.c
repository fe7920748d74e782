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
 * Appends z to b as one quoted element of a PostgreSQL array literal
 * ("...", with backslash before '"' and '\\'). Returns PGSSE_ERR_NOMEM
 * on failure; b keeps what it had, perhaps with part of the element.
 */
static enum pgsse_err
publish_quote(struct pgsse_buf *b, const char *z)
{
	size_t	 n;

	if (pgsse_buf_put(b, "\"", 1) != PGSSE_OK)
		return PGSSE_ERR_NOMEM;
	while (*z != '\0') {
		n = strcspn(z, "\"\\");
		if (pgsse_buf_put(b, z, n) != PGSSE_OK)
			return PGSSE_ERR_NOMEM;
		z += n;
		if (*z != '\0') {
			if (pgsse_buf_put(b, "\\", 1) != PGSSE_OK ||
			    pgsse_buf_put(b, z, 1) != PGSSE_OK)
				return PGSSE_ERR_NOMEM;
			z++;
		}
	}
	return pgsse_buf_put(b, "\"", 1);
}

/*
 * Stores the n ids of the bigint[] text z ("{1,2,3}") in ids. Returns
 * PGSSE_ERR_DB unless z holds exactly n of them.
 */
static enum pgsse_err
publish_ids(const char *z, int64_t *ids, size_t n)
{
	size_t	 i = 0;
	char	*end;

	if (*z++ != '{')
		return PGSSE_ERR_DB;
	while (*z != '}' && i < n) {
		ids[i++] = strtoll(z, &end, 10);
		if (end == z || (*end != ',' && *end != '}'))
			return PGSSE_ERR_DB;
		z = *end == ',' ? end + 1 : end;
	}
	return i == n && *z == '}' ? PGSSE_OK : PGSSE_ERR_DB;
}

/*
 * Publishes the n events json[0] ... json[n - 1] (NULL means "{}"),
 * each event on channel, to user (NULL: everyone), in one statement
 * over conn (pgsse.publish_batch: all or none, at most the setting
 * publish_batch_max), which must not be shared with another thread
 * while this runs. On success stores their ids, increasing, in ids[0]
 * ... ids[n - 1] (if ids is not NULL). On failure returns PGSSE_ERR_DB
 * (or PGSSE_ERR_NOMEM) and, if errmsg is not NULL, a newly allocated
 * message that the caller frees.
 */
enum pgsse_err
pgsse_publish_batch_user(PGconn *conn, const char *channel,
    const char *event, const char *const *json, size_t n, const char *user,
    int64_t *ids, char **errmsg)
{
	struct pgsse_buf	 arr;
	PGresult		*res = NULL;
	const char		*params[4], *m;
	enum pgsse_err		 er = PGSSE_ERR_NOMEM;
	size_t			 i;

	memset(&arr, 0, sizeof(arr));
	if (errmsg != NULL)
		*errmsg = NULL;
	if (pgsse_buf_put(&arr, "{", 1) != PGSSE_OK)
		goto out;
	for (i = 0; i < n; i++)
		if ((i > 0 && pgsse_buf_put(&arr, ",", 1) != PGSSE_OK) ||
		    publish_quote(&arr, json[i] != NULL ? json[i] : "{}") !=
		    PGSSE_OK)
			goto out;
	if (pgsse_buf_put(&arr, "}", 1) != PGSSE_OK)
		goto out;
	params[0] = channel;
	params[1] = event;
	params[2] = arr.p;
	params[3] = user;
	res = PQexecParams(conn, "select pgsse.publish_batch($1, $2, "
	    "$3::jsonb[], $4)", 4, NULL, params, NULL, NULL, 0);
	er = PGSSE_ERR_DB;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0)) {
		if (ids == NULL)
			er = PGSSE_OK;
		else
			er = publish_ids(PQgetvalue(res, 0, 0), ids, n);
		if (er != PGSSE_OK && errmsg != NULL)
			*errmsg = strdup("pgsse.publish_batch returned "
			    "other ids than events");
	} else if (errmsg != NULL) {
		m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		*errmsg = strdup(m != NULL ? m : PQerrorMessage(conn));
	}
out:
	PQclear(res);
	pgsse_buf_free(&arr);
	return er;
}

/*
 * Publishes the n events json[0] ... json[n - 1] to everyone, as
 * pgsse_publish_batch_user does.
 */
enum pgsse_err
pgsse_publish_batch(PGconn *conn, const char *channel, const char *event,
    const char *const *json, size_t n, int64_t *ids, char **errmsg)
{
	return pgsse_publish_batch_user(conn, channel, event, json, n, NULL,
	    ids, errmsg);
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
