/*
 * html.c: the one HTML writer. Text is always escaped; markup passes
 * only through pgsse_html_trusted, which callers use for literals.
 */
#include <stdarg.h>
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

/*
 * Appends fmt to b: the format is trusted markup (a literal in the
 * program), every %s argument is escaped (NULL is empty), %d, %ld, %lld
 * and %u print numbers and %% a percent sign. Returns PGSSE_ERR_NOMEM
 * on failure, PGSSE_ERR_INVAL on any other conversion.
 */
enum pgsse_err
pgsse_html_vprintf(struct pgsse_buf *b, const char *fmt, va_list ap)
{
	const char	*p, *z;
	enum pgsse_err	 er = PGSSE_OK;

	for (p = fmt; *p != '\0' && er == PGSSE_OK; p++) {
		if (*p != '%') {
			z = p + strcspn(p, "%");
			er = pgsse_buf_put(b, p, (size_t)(z - p));
			p = z - 1;
			continue;
		}
		switch (*++p) {
		case 's':
			z = va_arg(ap, const char *);
			er = pgsse_html_text(b, z ? z : "");
			break;
		case 'd':
			er = pgsse_buf_printf(b, "%d", va_arg(ap, int));
			break;
		case 'u':
			er = pgsse_buf_printf(b, "%u", va_arg(ap, unsigned int));
			break;
		case 'l':
			if (p[1] == 'l' && p[2] == 'd') {
				p += 2;
				er = pgsse_buf_printf(b, "%lld",
				    va_arg(ap, long long));
			} else if (p[1] == 'd') {
				p++;
				er = pgsse_buf_printf(b, "%ld", va_arg(ap, long));
			} else
				er = PGSSE_ERR_INVAL;
			break;
		case '%':
			er = pgsse_buf_put(b, "%", 1);
			break;
		default:
			er = PGSSE_ERR_INVAL;
			p--;
			break;
		}
	}
	return er;
}

/* pgsse_html_vprintf with the arguments given here; returns the same. */
enum pgsse_err
pgsse_html_printf(struct pgsse_buf *b, const char *fmt, ...)
{
	va_list		 ap;
	enum pgsse_err	 er;

	va_start(ap, fmt);
	er = pgsse_html_vprintf(b, fmt, ap);
	va_end(ap);
	return er;
}
