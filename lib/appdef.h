/*
 * appdef.h: an app folder's declared fragments and actions
 * (lib/appdef.c), internal to pgsse, and what lib/app.c lends it.
 *
 * A folder is loaded into an immutable snapshot: its routes, each with
 * its SQL, typed parameters, parsed template and htmx headers. Any
 * number of threads serve requests from one snapshot at once; each
 * request holds a reference, so a reload that swaps in a new snapshot
 * frees the old one only when its last request has ended.
 */
#ifndef PGSSE_APPDEF_H
#define PGSSE_APPDEF_H

#include <libpq-fe.h>

#include "pgsse-app.h"

struct json_object;
struct pgsse_appdef;
struct pgsse_buf;
struct pgsse_mustache;

/*
 * A declared route's statement for one request (pgsse_appdef_bind):
 * its SQL and bound values, which live as long as the request, its
 * folder and this.
 */
struct pgsse_appdef_call {
	const char	*sql;
	int		 n;
	const char	*vals[PGSSE_APP_PARAMS_MAX];
	char		 nums[PGSSE_APP_PARAMS_MAX][24];
};

/* appdef.c */
struct pgsse_appdef	*pgsse_appdef_load(const char *dir, char *err,
			    size_t errsz);
struct pgsse_appdef	*pgsse_appdef_parse(const char *dir, const char *,
			    size_t, char *err, size_t errsz);
struct pgsse_appdef	*pgsse_appdef_hold(struct pgsse_appdef *);
void			 pgsse_appdef_release(struct pgsse_appdef *);
const struct pgsse_route *pgsse_appdef_routes(const struct pgsse_appdef *,
			    size_t *nroutes, size_t *nactions);
unsigned long		 pgsse_appdef_gen(const struct pgsse_appdef *);
int			 pgsse_appdef_check_sql(const struct pgsse_appdef *,
			    PGconn *, char *err, size_t errsz);
enum pgsse_http_status	 pgsse_appdef_serve(pgsse_app *,
			    const struct pgsse_appdef *, size_t route);
enum pgsse_http_status	 pgsse_appdef_bind(pgsse_app *,
			    const struct pgsse_appdef *, size_t route,
			    struct pgsse_appdef_call *);
enum pgsse_http_status	 pgsse_appdef_answer(pgsse_app *,
			    const struct pgsse_appdef *, size_t route,
			    const struct pgsse_appdef_call *, PGresult *);
struct json_object	*pgsse_appdef_rows(const PGresult *);
enum pgsse_err		 pgsse_appdef_render(const struct pgsse_mustache *,
			    const PGresult *, struct json_object *ctx,
			    int json, struct pgsse_buf *);

/* app.c, for appdef.c */
struct pgsse_buf	*pgsse_app_body(pgsse_app *);
int			 pgsse_app_hx_ok(enum pgsse_hx, const char *value);

#endif /* !PGSSE_APPDEF_H */
