/*
 * html.c: the one HTML writer. Text is always escaped; markup passes
 * only through pgsse_html_trusted, which callers use for literals.
 */
#include <stdarg.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"

/*
 * Appends the n bytes of z with the characters mustache.js escapes
 * replaced by its entities: & < > " ' / ` and =, so the text is safe as
 * element text and inside a quoted attribute, and cannot end an
 * unquoted one early with = or a backquote. Other bytes, NUL and not
 * UTF-8 included, pass as they are. Returns PGSSE_ERR_NOMEM on failure.
 */
enum pgsse_err
pgsse_html_textn(struct pgsse_buf *b, const char *z, size_t n)
{
	static const char *const rep[] = {
		"&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#x2F;",
		"&#x60;", "&#x3D;"
	};
	static const char	 set[] = "&<>\"'/`=";
	size_t			 i, run;

	for (i = 0; i < n; ) {
		for (run = i; run < n && memchr(set, z[run], sizeof(set) - 1)
		    == NULL; run++)
			continue;
		if (run > i && pgsse_buf_put(b, z + i, run - i))
			return PGSSE_ERR_NOMEM;
		if (run == n)
			break;
		if (pgsse_buf_puts(b, rep[(const char *)memchr(set, z[run],
		    sizeof(set) - 1) - set]))
			return PGSSE_ERR_NOMEM;
		i = run + 1;
	}
	return PGSSE_OK;
}

/* pgsse_html_textn over the NUL-terminated z; returns the same. */
enum pgsse_err
pgsse_html_text(struct pgsse_buf *b, const char *z)
{
	return pgsse_html_textn(b, z, strlen(z));
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
