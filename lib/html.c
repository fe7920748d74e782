/*
 * html.c: the one HTML writer. Text is always escaped; markup passes
 * only through pgsse_html_trusted, which callers use for literals.
 */
#include <string.h>

#include "pgsse.h"
#include "extern.h"

/*
 * Appends z with &, <, >, " and ' escaped, so it is safe both as element
 * text and inside a quoted attribute. Returns PGSSE_ERR_NOMEM on failure.
 */
enum pgsse_err
pgsse_html_text(struct pgsse_buf *b, const char *z)
{
	const char	*rep;
	size_t		 run;

	while (*z != '\0') {
		run = strcspn(z, "&<>\"'");
		if (run > 0 && pgsse_buf_put(b, z, run))
			return PGSSE_ERR_NOMEM;
		z += run;
		switch (*z) {
		case '\0':
			return PGSSE_OK;
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		default:
			rep = "&#39;";
			break;
		}
		if (pgsse_buf_puts(b, rep))
			return PGSSE_ERR_NOMEM;
		z++;
	}
	return PGSSE_OK;
}

/*
 * Appends markup the caller vouches for (a literal in the program, never
 * data). Returns PGSSE_ERR_NOMEM on failure.
 */
enum pgsse_err
pgsse_html_trusted(struct pgsse_buf *b, const char *markup)
{
	return pgsse_buf_puts(b, markup);
}
