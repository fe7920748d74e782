/*
 * query.h: application/x-www-form-urlencoded pairs (query.c); internal.
 */
#ifndef PGSSE_QUERY_H
#define PGSSE_QUERY_H

struct pgsse_pair {
	char	*key;
	char	*val;
};
struct pgsse_query {
	struct pgsse_pair	*pairs;
	size_t			 n;
};
enum pgsse_err	 pgsse_query_parse(const char *, struct pgsse_query *);
const char	*pgsse_query_get(const struct pgsse_query *, const char *);
void		 pgsse_query_free(struct pgsse_query *);

#endif /* PGSSE_QUERY_H */
