/*
 * mustache.h: Mustache templates (lib/mustache.c), internal to pgsse.
 *
 * A template is parsed once, at start-up, into an immutable struct
 * pgsse_mustache that any number of threads may render at once. Parsing
 * checks the HTML context of every interpolation and refuses the places
 * where HTML escaping is not enough unless the variable has an escaper
 * suited to the place (see the essay in mustache.c).
 */
#ifndef PGSSE_MUSTACHE_H
#define PGSSE_MUSTACHE_H

struct json_object;
struct pgsse_buf;

/* Bytes of template text parsed for one template, partials included. */
#define PGSSE_MUSTACHE_TEMPLATE_MAX (1024u * 1024)
/* Nested sections and partials, parsing and rendering. */
#define PGSSE_MUSTACHE_DEPTH_MAX 32
/* Bytes one render may append to its output. */
#define PGSSE_MUSTACHE_OUT_MAX (8u * 1024 * 1024)
/* Nodes one render may visit (a bound on work that writes nothing). */
#define PGSSE_MUSTACHE_STEPS_MAX 4000000u

/*
 * The escapers an application declares for variables used where HTML
 * escaping is not enough. In element text and in ordinary quoted
 * attribute values every variable is HTML-escaped whatever it declares.
 */
enum pgsse_mustache_esc {
	PGSSE_MUSTACHE_ESC_HTML = 0,	/* the default: nothing declared */
	PGSSE_MUSTACHE_ESC_URL,		/* a whole URL: relative, http, https */
	PGSSE_MUSTACHE_ESC_URLPART,	/* a piece of a URL: percent-encoded */
	PGSSE_MUSTACHE_ESC_JSON,	/* a JSON value for script */
	PGSSE_MUSTACHE_ESC_CSS,		/* a CSS value: [A-Za-z0-9 _#%.,+-] */
	PGSSE_MUSTACHE_ESC__MAX
};

/* One declaration: the variable as written in its tag, and its escaper. */
struct pgsse_mustache_var {
	const char		*name;
	enum pgsse_mustache_esc	 esc;
};

/*
 * Looks up the partial called name: sets *text and *len (the text stays
 * the caller's and must live until pgsse_mustache_parse returns) and
 * returns 1; returns 0 if there is none (it renders as nothing, as in
 * mustache.js), -1 to fail the parse.
 */
typedef int (*pgsse_mustache_partial)(void *arg, const char *name,
    const char **text, size_t *len);

/* Allow {{{x}}} and {{&x}}, in element text only. */
#define PGSSE_MUSTACHE_RAW	0x01
/* For the differential tests only: no HTML context check (every
 * interpolation HTML-escaped, escapers unused). */
#define PGSSE_MUSTACHE_NOCHECK	0x02

struct pgsse_mustache_opts {
	unsigned int			 flags;	/* PGSSE_MUSTACHE_* */
	const struct pgsse_mustache_var	*vars;	/* declared escapers */
	size_t				 nvars;
	pgsse_mustache_partial		 partial; /* NULL: no partials */
	void				*arg;	/* for partial */
};

struct pgsse_mustache;

/* How a table's column renders: as text, or as a JSON integer, number
 * or boolean (text starting with 't' is true). */
enum pgsse_mustache_col {
	PGSSE_MUSTACHE_COL_TEXT = 0,
	PGSSE_MUSTACHE_COL_INT,
	PGSSE_MUSTACHE_COL_DOUBLE,
	PGSSE_MUSTACHE_COL_BOOL,
	PGSSE_MUSTACHE_COL__MAX
};

/*
 * A table of rows for pgsse_mustache_render_table, such as a query's
 * result, read in place: nrows rows of ncols columns with distinct
 * names. cell returns the text of a cell and sets *len to its bytes,
 * or returns NULL for a null; it must stay the same during the render.
 */
struct pgsse_mustache_table {
	int			 nrows;
	int			 ncols;
	const char *const	*names;
	const enum pgsse_mustache_col *kinds;
	const char		*(*cell)(const void *arg, int row, int col,
				    size_t *len);
	const void		*arg;
};

struct pgsse_mustache	*pgsse_mustache_parse(const char *name,
			    const char *text, size_t len,
			    const struct pgsse_mustache_opts *,
			    char *err, size_t errsz);
enum pgsse_err		 pgsse_mustache_render(const struct pgsse_mustache *,
			    struct json_object *, struct pgsse_buf *);
enum pgsse_err		 pgsse_mustache_render_table(
			    const struct pgsse_mustache *,
			    const struct pgsse_mustache_table *,
			    struct json_object *ctx, struct pgsse_buf *);
void			 pgsse_mustache_free(struct pgsse_mustache *);
enum pgsse_mustache_esc	 pgsse_mustache_esc_parse(const char *);

#endif /* !PGSSE_MUSTACHE_H */
