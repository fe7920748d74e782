/*
 * mustache.c: Mustache templates with the semantics of mustache.js 4.2.0
 * (no lambdas: JSON has no functions), parsed once and rendered from
 * json-c values, or from a table read in place (a query's result, as the
 * JSON it stands for), by any number of threads.
 *
 * Parsing. A text is parsed in two passes. The first scans it exactly as
 * mustache.js's parseTemplate does (the same delimiter, whitespace and
 * standalone-line rules, JavaScript's \s included) into tokens, marking
 * the bytes of standalone lines it removes. The second turns the tokens
 * into a flat array of nodes, in which a section holds the index of the
 * node after its end, and copies the literal text and names into one
 * buffer. A partial is resolved and parsed where it is included, as
 * mustache.js renders it: indented as the tag's line says, with the
 * default delimiters, in the HTML context of the tag. Each distinct
 * (name, indentation, context) is one more "part" of the template, so a
 * recursive partial refers to itself; the chain of partials in partials
 * stops at PGSSE_MUSTACHE_DEPTH_MAX with a node that fails the render.
 *
 * HTML contexts. The second pass also feeds the literal text, as it
 * will be output, to the tokenizer of lib/htmlctx.c, and checks each
 * interpolation where it stands: element text and ordinary quoted
 * attribute values are HTML-escaped (pgsse_html_textn); URL attributes
 * need a variable declared url or urlpart, script attributes and
 * <script> one declared json, style attributes and <style> one declared
 * css; anywhere else (names, unquoted values, comments) nothing goes.
 * A section must end in the context it began in, since it may render
 * zero or many times, and may not start or end inside a tag or attribute
 * name; a partial is checked in the context where it is included and
 * must end in it as well, as must every template (in element text).
 * Raw interpolation, when allowed, is allowed in element text only.
 *
 * Rendering walks the nodes with a context stack on the C stack: no
 * allocation but the output's. A table's rows, row and cells are
 * values of their own kinds on that stack, so a fragment's result is
 * read where it is, never copied into json-c objects. Each section and
 * partial is one level of C recursion, at most PGSSE_MUSTACHE_DEPTH_MAX
 * deep; output and work have limits too (mustache.h). *
 * Where we differ from mustache.js: names of Object.prototype (toString,
 * constructor, ...) are not properties of JSON objects; integers past
 * 2^53 render exactly; a string's character at an index that is half of
 * a surrogate pair is U+FFFD; a partial is parsed when the template is,
 * so one that does not parse fails the load even if never rendered; a
 * name looked up in a null view goes on up the stack where mustache.js
 * throws; delimiters are at most 15 bytes, without NUL; a partial nested
 * past the depth limit, or recursion mustache.js would overflow its
 * stack with, fails the render.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pgsse.h"
#include "extern.h"
#include "htmlctx.h"
#include "mustache.h"

/* Node kinds. */
enum nkind {
	N_TEXT,
	N_VAR,
	N_SECTION,
	N_INVERTED,
	N_PARTIAL,
	N_DEEP		/* a partial past PGSSE_MUSTACHE_DEPTH_MAX */
};

/* How a variable is written. */
enum how {
	W_HTML,
	W_RAW,
	W_URL,
	W_URLPART,
	W_JSON,		/* in <script> */
	W_JSON_HTML,	/* in an attribute */
	W_CSS
};

/* A partial that was not found: renders as nothing. */
#define NO_PART UINT32_MAX
/* A partial past PGSSE_MUSTACHE_DEPTH_MAX. */
#define TOO_DEEP (UINT32_MAX - 1)

struct node {
	unsigned char	 kind;		/* enum nkind */
	unsigned char	 how;		/* enum how */
	unsigned char	 dotted;	/* name's segments are NUL-separated */
	uint32_t	 off;		/* text or name in lit */
	uint32_t	 len;
	uint32_t	 end;		/* section: the node after; partial: part */
};

/* One parsed text: the template, or a partial where included. */
struct part {
	struct node		*nodes;
	size_t			 nnodes;
	char			*name;		/* the key, while parsing */
	char			*indent;
	int			 lnh;
	struct pgsse_htmltok	 h;		/* the HTML context it starts in */
};

struct pgsse_mustache {
	char		*lit;
	size_t		 litlen;
	size_t		 litcap;
	struct part	*parts;		/* parts[0] is the template */
	size_t		 nparts;
	size_t		 partscap;
};

/* First-pass tokens. */
enum tkind {
	T_TEXT,
	T_VAR,
	T_RAW,
	T_OPEN,
	T_INV,
	T_CLOSE,
	T_PARTIAL,
	T_OTHER		/* comment, set delimiters */
};

struct tok {
	enum tkind	 kind;
	size_t		 start;		/* text, or the whole tag */
	size_t		 end;
	size_t		 voff;		/* the tag's value */
	size_t		 vlen;
	size_t		 ioff;		/* partial: indentation in the pass's */
	size_t		 ilen;		/* buffer, if it applies */
	int		 lnh;		/* partial: text before it on its line */
};

/* A parse: the template being built and where errors go. */
struct parser {
	struct pgsse_mustache			*t;
	const struct pgsse_mustache_opts	*o;
	char					*err;
	size_t					 errsz;
	size_t					 bytes;
};

/* One text being parsed. */
struct text {
	const char	*name;
	const char	*z;
	size_t		 len;
	unsigned char	*del;		/* bytes standalone lines remove */
	struct tok	*toks;
	size_t		 ntoks;
	size_t		 tokscap;
	struct pgsse_buf ind;		/* partials' indentation */
};

static const char *const escs[PGSSE_MUSTACHE_ESC__MAX] = {
	"html", "url", "urlpart", "json", "css"
};

/*
 * Returns the escaper called z, or PGSSE_MUSTACHE_ESC__MAX if there is
 * none.
 */
enum pgsse_mustache_esc
pgsse_mustache_esc_parse(const char *z)
{
	size_t	 i;

	for (i = 0; i < PGSSE_MUSTACHE_ESC__MAX; i++)
		if (strcmp(z, escs[i]) == 0)
			break;
	return (enum pgsse_mustache_esc)i;
}

/*
 * Decodes the character at z (n bytes left), setting *len to its bytes
 * (1 for a byte that is not UTF-8, returned as itself). Can't fail.
 */
static uint32_t
u8(const char *z, size_t n, size_t *len)
{
	const unsigned char	*p = (const unsigned char *)z;
	uint32_t		 c;
	size_t			 k, i;

	*len = 1;
	if (p[0] < 0xc2 || p[0] > 0xf4)
		return p[0];
	k = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	if (n < k)
		return p[0];
	c = p[0] & (0x7f >> k);
	for (i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return p[0];
		c = (c << 6) | (p[i] & 0x3f);
	}
	*len = k;
	return c;
}

/* Whether c is in JavaScript's \s. */
static int
js_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0xa0 ||
	    c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
	    c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000 ||
	    c == 0xfeff;
}

/* The offset of the first non-space at or after i. */
static size_t
skip_space(const struct text *x, size_t i)
{
	size_t	 n;

	while (i < x->len && js_space(u8(x->z + i, x->len - i, &n)))
		i += n;
	return i;
}

/* Whether the bytes d (dn of them) are at i. */
static int
at(const struct text *x, size_t i, const char *d, size_t dn)
{
	return i + dn <= x->len && memcmp(x->z + i, d, dn) == 0;
}

/*
 * Where mustache.js's scanUntil(/\s*D/) stops, D being d then e (either
 * may be empty): before the spaces ahead of the first D at or after i,
 * or at the end.
 */
static size_t
until(const struct text *x, size_t i, const char *d, size_t dn,
    const char *e, size_t en)
{
	size_t	 sp = SIZE_MAX, n;

	while (i < x->len) {
		if (at(x, i, d, dn) && at(x, i + dn, e, en))
			return sp != SIZE_MAX ? sp : i;
		if (js_space(u8(x->z + i, x->len - i, &n))) {
			if (sp == SIZE_MAX)
				sp = i;
		} else
			sp = SIZE_MAX;
		i += n;
	}
	return x->len;
}

/*
 * Writes "name:line:col: message" into the parser's error buffer, the
 * position being byte off of x. Returns NULL, for the caller to pass on.
 */
static void *
fail(struct parser *p, const struct text *x, size_t off, const char *fmt,
    ...)
{
	va_list	 ap;
	size_t	 i, line = 1, col = 1, n;

	for (i = 0; i < off && i < x->len; i++) {
		if (x->z[i] == '\n') {
			line++;
			col = 1;
		} else if ((x->z[i] & 0xc0) != 0x80)
			col++;
	}
	if (p->errsz == 0)
		return NULL;
	n = (size_t)snprintf(p->err, p->errsz, "%s:%zu:%zu: ", x->name, line,
	    col);
	if (n < p->errsz) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errsz - n, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

/* Appends a token to x; returns it, or NULL on memory exhaustion. */
static struct tok *
tok_add(struct text *x, enum tkind kind, size_t start, size_t end)
{
	struct tok	*t;
	size_t		 cap;

	if (x->ntoks == x->tokscap) {
		cap = x->tokscap ? x->tokscap * 2 : 64;
		if ((t = reallocarray(x->toks, cap, sizeof(*t))) == NULL)
			return NULL;
		x->toks = t;
		x->tokscap = cap;
	}
	t = &x->toks[x->ntoks++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->start = start;
	t->end = end;
	return t;
}

/* The first pass's state of the current line (mustache.js's names). */
struct line {
	int		 has_tag;
	int		 non_space;
	int		 lnh;		/* lineHasNonSpace */
	size_t		 tag_index;
	size_t		 ind;		/* where its indentation starts in x->ind */
	size_t		 from;		/* first token of the line */
	size_t		 text;		/* start of the line's text */
};

/*
 * mustache.js's stripSpace for the line ending before byte upto: on a
 * line with tags and nothing but spaces, marks all its text removed (it
 * is all spaces). Can't fail.
 */
static void
strip(struct text *x, struct line *l, size_t upto)
{
	size_t	 i, j;

	if (l->has_tag && !l->non_space)
		for (i = l->from; i < x->ntoks; i++)
			if (x->toks[i].kind == T_TEXT)
				for (j = x->toks[i].start; j < x->toks[i].end &&
				    j < upto; j++)
					if (j >= l->text)
						x->del[j] = 1;
	l->has_tag = l->non_space = 0;
}

/*
 * Scans the text from i to the next tag: one token, with mustache.js's
 * bookkeeping per character. Returns -1 on memory exhaustion.
 */
static int
scan_text(struct text *x, struct line *l, size_t i, size_t end)
{
	size_t	 n, k;
	uint32_t c;

	if (i == end)
		return 0;
	if (tok_add(x, T_TEXT, i, end) == NULL)
		return -1;
	for (; i < end; i += n) {
		c = u8(x->z + i, end - i, &n);
		if (js_space(c)) {
			if ((c == ' ' || c == '\t') &&
			    pgsse_buf_put(&x->ind, &x->z[i], 1))
				return -1;
		} else {
			l->non_space = l->lnh = 1;
			for (k = 0; k < (n == 4 ? 2u : 1u); k++)
				if (pgsse_buf_put(&x->ind, " ", 1))
					return -1;
		}
		if (c == '\n') {
			strip(x, l, i + 1);
			l->ind = x->ind.len;
			l->tag_index = 0;
			l->lnh = 0;
			l->from = x->ntoks - 1;
			l->text = i + 1;
		}
	}
	return 0;
}

/*
 * mustache.js's compileTags: the delimiters in the value of {{=...=}},
 * into open and close (16 bytes each). Returns -1 if there are not two,
 * or one is too long or holds a NUL.
 */
static int
delims(const struct text *x, size_t v, size_t vlen, char *open,
    char *close)
{
	size_t	 a, b, c, n, e = v + vlen;

	for (a = v; a < e && !js_space(u8(x->z + a, e - a, &n)); a += n)
		continue;
	for (b = a; b < e && js_space(u8(x->z + b, e - b, &n)); b += n)
		continue;
	for (c = b; c < e && !js_space(u8(x->z + c, e - c, &n)); c += n)
		continue;
	if (a == v || a - v >= 16 || c == b || c - b >= 16 ||
	    memchr(x->z + v, '\0', a - v) != NULL ||
	    memchr(x->z + b, '\0', c - b) != NULL)
		return -1;
	memcpy(open, x->z + v, a - v);
	open[a - v] = '\0';
	memcpy(close, x->z + b, c - b);
	close[c - b] = '\0';
	return 0;
}

/*
 * The first pass over x: tokens, and standalone lines marked in x->del.
 * Returns 0, or -1 with the error written.
 */
static int
pass1(struct parser *p, struct text *x)
{
	char		 open[16] = "{{", close[16] = "}}", type;
	size_t		 i = 0, q, start, v, e, sec[PGSSE_MUSTACHE_DEPTH_MAX];
	size_t		 nsec = 0, on, cn, s;
	struct line	 l;
	struct tok	*t;
	static const char types[] = "#^/>{&=!";

	memset(&l, 0, sizeof(l));
	while (i < x->len) {
		on = strlen(open);
		cn = strlen(close);
		for (q = i; q < x->len && !at(x, q, open, on); q++)
			continue;
		if (scan_text(x, &l, i, q) == -1)
			goto nomem;
		if (q == x->len)
			break;
		start = q;
		l.has_tag = 1;
		i = skip_space(x, q + on);
		type = i < x->len && x->z[i] != '\0' &&
		    strchr(types, x->z[i]) != NULL ? x->z[i++] : 'n';
		v = i = skip_space(x, i);
		if (type == '=') {
			e = until(x, i, "=", 1, "", 0);
			s = skip_space(x, e);
			i = s < x->len && x->z[s] == '=' ? s + 1 : e;
			i = until(x, i, close, cn, "", 0);
		} else if (type == '{') {
			e = until(x, i, "}", 1, close, cn);
			s = skip_space(x, e);
			i = s < x->len && x->z[s] == '}' ? s + 1 : e;
			i = until(x, i, close, cn, "", 0);
			type = '&';
		} else
			e = i = until(x, i, close, cn, "", 0);
		i = skip_space(x, i);
		if (!at(x, i, close, cn)) {
			fail(p, x, start, "unclosed tag");
			return -1;
		}
		i += cn;
		t = tok_add(x, type == 'n' ? T_VAR : type == '&' ? T_RAW :
		    type == '#' ? T_OPEN : type == '^' ? T_INV :
		    type == '/' ? T_CLOSE : type == '>' ? T_PARTIAL : T_OTHER,
		    start, i);
		if (t == NULL)
			goto nomem;
		t->voff = v;
		t->vlen = e - v;
		if (type == '>') {
			t->lnh = l.lnh;
			if (l.tag_index == 0 && x->ind.len > l.ind) {
				t->ioff = l.ind;
				t->ilen = x->ind.len - l.ind;
			}
		}
		l.tag_index++;
		if (type == '#' || type == '^') {
			if (nsec == PGSSE_MUSTACHE_DEPTH_MAX) {
				fail(p, x, start, "sections nested deeper than "
				    "%d", PGSSE_MUSTACHE_DEPTH_MAX);
				return -1;
			}
			sec[nsec++] = x->ntoks - 1;
		} else if (type == '/') {
			if (nsec == 0) {
				fail(p, x, start, "unopened section \"%.*s\"",
				    (int)t->vlen, x->z + v);
				return -1;
			}
			s = sec[--nsec];
			if (x->toks[s].vlen != t->vlen || memcmp(x->z +
			    x->toks[s].voff, x->z + v, t->vlen) != 0) {
				fail(p, x, start, "unclosed section \"%.*s\"",
				    (int)x->toks[s].vlen, x->z +
				    x->toks[s].voff);
				return -1;
			}
		} else if (type == 'n' || type == '&')
			l.non_space = 1;
		else if (type == '=' && delims(x, v, e - v, open, close) == -1) {
			fail(p, x, start, "invalid delimiters \"%.*s\"",
			    (int)(e - v), x->z + v);
			return -1;
		}
	}
	strip(x, &l, x->len);
	if (nsec > 0) {
		s = sec[nsec - 1];
		fail(p, x, x->toks[s].start, "unclosed section \"%.*s\"",
		    (int)x->toks[s].vlen, x->z + x->toks[s].voff);
		return -1;
	}
	return 0;
nomem:
	fail(p, x, i, "out of memory");
	return -1;
}

/*
 * Appends n bytes to the template's literal text. Returns their offset,
 * or UINT32_MAX on memory exhaustion (or past 4 GiB, which the limits
 * keep us far from).
 */
static uint32_t
lit_add(struct pgsse_mustache *t, const char *z, size_t n)
{
	size_t	 cap, off = t->litlen;
	char	*np;

	if (t->litlen + n + 1 > t->litcap) {
		cap = t->litcap ? t->litcap : 1024;
		while (cap < t->litlen + n + 1)
			cap *= 2;
		if (cap > UINT32_MAX || (np = realloc(t->lit, cap)) == NULL)
			return UINT32_MAX;
		t->lit = np;
		t->litcap = cap;
	}
	memcpy(t->lit + t->litlen, z, n);
	t->litlen += n;
	t->lit[t->litlen] = '\0';
	return (uint32_t)off;
}

/* The nodes of one part being built. */
struct nodes {
	struct node	*v;
	size_t		 n;
	size_t		 cap;
};

/* Appends a node; returns it, or NULL on memory exhaustion. */
static struct node *
node_add(struct nodes *ns, enum nkind kind)
{
	struct node	*v;
	size_t		 cap;

	if (ns->n == ns->cap) {
		cap = ns->cap ? ns->cap * 2 : 32;
		if ((v = reallocarray(ns->v, cap, sizeof(*v))) == NULL)
			return NULL;
		ns->v = v;
		ns->cap = cap;
	}
	v = &ns->v[ns->n++];
	memset(v, 0, sizeof(*v));
	v->kind = (unsigned char)kind;
	return v;
}

/*
 * Sets the name of node n to the value of tok, NUL-terminated; the
 * segments of a dotted name (a dot after its first byte) each
 * NUL-terminated. Returns -1 on memory exhaustion.
 */
static int
node_name(struct pgsse_mustache *t, struct node *n, const struct text *x,
    const struct tok *k)
{
	const char	*z = x->z + k->voff;
	const char	*dot = memchr(z, '.', k->vlen);
	size_t		 i;

	if ((n->off = lit_add(t, z, k->vlen)) == UINT32_MAX ||
	    lit_add(t, "", 1) == UINT32_MAX)
		return -1;
	n->len = (uint32_t)k->vlen;
	if (dot != NULL && dot > z) {
		n->dotted = 1;
		for (i = 0; i < k->vlen; i++)
			if (t->lit[n->off + i] == '.')
				t->lit[n->off + i] = '\0';
	}
	return 0;
}

/* The escaper declared for the name of tok, HTML if none. */
static enum pgsse_mustache_esc
declared(const struct parser *p, const struct text *x, const struct tok *k)
{
	size_t	 i;

	for (i = 0; i < p->o->nvars; i++)
		if (strlen(p->o->vars[i].name) == k->vlen &&
		    memcmp(p->o->vars[i].name, x->z + k->voff, k->vlen) == 0)
			return p->o->vars[i].esc;
	return PGSSE_MUSTACHE_ESC_HTML;
}

/*
 * Decides how the interpolation tok, at h, is written: sets *how, or
 * returns -1 with the error written.
 */
static int
interp(struct parser *p, const struct text *x, const struct tok *k,
    const struct pgsse_htmltok *h, enum how *how)
{
	static const char *const needs[PGSSE_HTMLCTX__MAX] = {
		"", "url or urlpart", "json", "css", "json", "css", ""
	};
	enum pgsse_htmlctx_need	 need;
	enum pgsse_mustache_esc	 e;
	char			 where[128];

	if (k->kind == T_RAW && !(p->o->flags & PGSSE_MUSTACHE_RAW)) {
		fail(p, x, k->start, "\"%.*s\" is written unescaped (raw "
		    "interpolation), which this template may not do",
		    (int)k->vlen, x->z + k->voff);
		return -1;
	}
	*how = k->kind == T_RAW ? W_RAW : W_HTML;
	if (p->o->flags & PGSSE_MUSTACHE_NOCHECK)
		return 0;
	need = pgsse_htmltok_need(h);
	e = declared(p, x, k);
	pgsse_htmltok_where(h, where, sizeof(where));
	if (k->kind == T_RAW) {
		if (h->c.st == 0)
			return 0;
		fail(p, x, k->start, "\"%.*s\" is written unescaped in %s: "
		    "raw interpolation is for element text only",
		    (int)k->vlen, x->z + k->voff, where);
		return -1;
	}
	if (need == PGSSE_HTMLCTX_HTML)
		return 0;
	if ((need == PGSSE_HTMLCTX_URL && (e == PGSSE_MUSTACHE_ESC_URL ||
	    e == PGSSE_MUSTACHE_ESC_URLPART)) ||
	    ((need == PGSSE_HTMLCTX_JS || need == PGSSE_HTMLCTX_SCRIPT) &&
	    e == PGSSE_MUSTACHE_ESC_JSON) ||
	    ((need == PGSSE_HTMLCTX_CSS || need == PGSSE_HTMLCTX_STYLE) &&
	    e == PGSSE_MUSTACHE_ESC_CSS)) {
		*how = e == PGSSE_MUSTACHE_ESC_URL ? W_URL :
		    e == PGSSE_MUSTACHE_ESC_URLPART ? W_URLPART :
		    e == PGSSE_MUSTACHE_ESC_CSS ? W_CSS :
		    need == PGSSE_HTMLCTX_SCRIPT ? W_JSON : W_JSON_HTML;
		return 0;
	}
	if (need == PGSSE_HTMLCTX_NEVER)
		fail(p, x, k->start, "\"%.*s\" in %s: no escaper makes a "
		    "value safe there", (int)k->vlen, x->z + k->voff, where);
	else
		fail(p, x, k->start, "\"%.*s\" in %s needs an escaper: "
		    "declare it %s", (int)k->vlen, x->z + k->voff, where,
		    needs[need]);
	return -1;
}

static int	 parse_part(struct parser *, struct text *, size_t, int);

/*
 * Finds or makes the part for partial tok included at h, at partial
 * depth depth. Sets *part (NO_PART if the resolver has none, TOO_DEEP
 * past PGSSE_MUSTACHE_DEPTH_MAX). Returns -1 with the error written.
 */
static int
partial(struct parser *p, struct text *x, const struct tok *k,
    const struct pgsse_htmltok *h, int depth, uint32_t *part)
{
	struct pgsse_mustache	*t = p->t;
	struct part		*pt;
	struct text		 y;
	struct pgsse_buf	 b = { NULL, 0, 0 };
	char			*name = NULL, *ind = NULL;
	const char		*z;
	size_t			 i, len, cap;
	int			 r, rc = -1;

	if ((name = strndup(x->z + k->voff, k->vlen)) == NULL ||
	    (ind = strndup(x->ind.p ? x->ind.p + k->ioff : "", k->ilen)) ==
	    NULL)
		goto nomem;
	for (i = 0; i < t->nparts; i++) {
		pt = &t->parts[i];
		if (pt->name != NULL && strcmp(pt->name, name) == 0 &&
		    strcmp(pt->indent, ind) == 0 &&
		    pt->lnh == (k->ilen ? k->lnh : 0) &&
		    memcmp(&pt->h.c, &h->c, sizeof(h->c)) == 0) {
			*part = (uint32_t)i;
			rc = 0;
			goto out;
		}
	}
	if (depth >= PGSSE_MUSTACHE_DEPTH_MAX) {
		*part = TOO_DEEP;
		rc = 0;
		goto out;
	}
	r = p->o->partial == NULL ? 0 :
	    p->o->partial(p->o->arg, name, &z, &len);
	if (r <= 0) {
		*part = NO_PART;
		rc = r == 0 ? 0 : -1;
		if (rc == -1)
			fail(p, x, k->start, "cannot load partial \"%s\"",
			    name);
		goto out;
	}
	/* mustache.js's indentPartial. */
	for (i = 0; k->ilen > 0 && i <= len; i++) {
		if (i < len && z[i] != '\n' && (i == 0 || z[i - 1] == '\n') &&
		    (i > 0 || !k->lnh) && pgsse_buf_puts(&b, ind))
			goto nomem;
		if (i < len && pgsse_buf_put(&b, &z[i], 1))
			goto nomem;
	}
	if (k->ilen > 0) {
		z = b.p != NULL ? b.p : "";
		len = b.len;
	}
	if (t->nparts == t->partscap) {
		cap = t->partscap * 2;
		if ((pt = reallocarray(t->parts, cap, sizeof(*pt))) == NULL)
			goto nomem;
		t->parts = pt;
		t->partscap = cap;
	}
	*part = (uint32_t)t->nparts;
	pt = &t->parts[t->nparts++];
	memset(pt, 0, sizeof(*pt));
	pt->name = name;
	pt->indent = ind;
	pt->lnh = k->ilen ? k->lnh : 0;
	pt->h = *h;
	name = ind = NULL;
	memset(&y, 0, sizeof(y));
	y.name = t->parts[*part].name;
	y.z = z;
	y.len = len;
	rc = parse_part(p, &y, *part, depth + 1);
	goto out;
nomem:
	fail(p, x, k->start, "out of memory");
out:
	free(name);
	free(ind);
	pgsse_buf_free(&b);
	return rc;
}

/* A section's frame in the second pass. */
struct frame {
	size_t			 node;
	struct pgsse_htmltok	 h;
};

/*
 * Adds the text of tok, less what standalone lines remove, to the nodes
 * (to the last if *join) and the HTML tokenizer; sets *join if it added
 * any. Returns -1 with the error written.
 */
static int
pass2_text(struct parser *p, const struct text *x, const struct tok *k,
    struct nodes *ns, struct pgsse_htmltok *h, int *join)
{
	struct node	*n = *join ? &ns->v[ns->n - 1] : NULL;
	const char	*err;
	size_t		 i;
	uint32_t	 off;

	for (i = k->start; i < k->end; i++) {
		if (x->del[i])
			continue;
		if (!(p->o->flags & PGSSE_MUSTACHE_NOCHECK) &&
		    pgsse_htmltok_feed(h, &x->z[i], 1, &err) == -1) {
			fail(p, x, i, "%s", err);
			return -1;
		}
		if ((off = lit_add(p->t, &x->z[i], 1)) == UINT32_MAX)
			goto nomem;
		if (n == NULL || n->off + n->len != off) {
			if ((n = node_add(ns, N_TEXT)) == NULL)
				goto nomem;
			n->off = off;
		}
		n->len++;
		*join = 1;
	}
	return 0;
nomem:
	fail(p, x, k->start, "out of memory");
	return -1;
}

/*
 * The second pass over x's tokens: the nodes of part pi. Returns -1 with
 * the error written.
 */
static int
pass2(struct parser *p, struct text *x, size_t pi, int depth)
{
	struct nodes		 ns = { NULL, 0, 0 };
	struct frame		 fr[PGSSE_MUSTACHE_DEPTH_MAX];
	struct pgsse_htmltok	 h;
	struct node		*n;
	const struct tok	*k;
	enum how		 how;
	size_t			 i, nfr = 0;
	uint32_t		 part;
	int			 check = !(p->o->flags & PGSSE_MUSTACHE_NOCHECK);
	int			 join = 0;
	char			 w1[128], w2[128];

	h = p->t->parts[pi].h;
	for (i = 0; i < x->ntoks; i++) {
		k = &x->toks[i];
		if (k->kind == T_TEXT) {
			if (pass2_text(p, x, k, &ns, &h, &join) == -1)
				goto fail;
			continue;
		}
		if (k->kind == T_OTHER)
			continue;
		join = 0;
		if (check && k->kind != T_VAR && k->kind != T_RAW &&
		    pgsse_htmltok_naming(&h)) {
			pgsse_htmltok_where(&h, w1, sizeof(w1));
			fail(p, x, k->start, "a section or partial tag in %s: "
			    "end the name before it", w1);
			goto fail;
		}
		if (k->kind != T_VAR && k->kind != T_RAW)
			pgsse_htmltok_boundary(&h);
		switch (k->kind) {
		case T_VAR:
		case T_RAW:
			if (interp(p, x, k, &h, &how) == -1)
				goto fail;
			if ((n = node_add(&ns, N_VAR)) == NULL)
				goto nomem;
			n->how = (unsigned char)how;
			break;
		case T_OPEN:
		case T_INV:
			if ((n = node_add(&ns, k->kind == T_OPEN ? N_SECTION :
			    N_INVERTED)) == NULL)
				goto nomem;
			fr[nfr].node = ns.n - 1;
			fr[nfr++].h = h;
			break;
		case T_CLOSE:
			nfr--;
			ns.v[fr[nfr].node].end = (uint32_t)ns.n;
			if (check && memcmp(&fr[nfr].h.c, &h.c, sizeof(h.c))) {
				pgsse_htmltok_where(&fr[nfr].h, w1, sizeof(w1));
				pgsse_htmltok_where(&h, w2, sizeof(w2));
				fail(p, x, k->start, "section \"%.*s\" begins "
				    "in %s but ends in %s", (int)k->vlen,
				    x->z + k->voff, w1, w2);
				goto fail;
			}
			continue;
		default: /* T_PARTIAL */
			if (partial(p, x, k, &h, depth, &part) == -1)
				goto fail;
			if ((n = node_add(&ns, part == TOO_DEEP ? N_DEEP :
			    N_PARTIAL)) == NULL)
				goto nomem;
			n->end = part;
			break;
		}
		if (node_name(p->t, &ns.v[ns.n - 1], x, k) == -1)
			goto nomem;
	}
	if (check && pi > 0)
		pgsse_htmltok_boundary(&h);
	if (check && memcmp(&h.c, &p->t->parts[pi].h.c, sizeof(h.c)) != 0) {
		pgsse_htmltok_where(&h, w2, sizeof(w2));
		pgsse_htmltok_where(&p->t->parts[pi].h, w1, sizeof(w1));
		fail(p, x, x->len, "the template ends in %s, not where it "
		    "began, in %s", w2, w1);
		goto fail;
	}
	p->t->parts[pi].nodes = ns.v;
	p->t->parts[pi].nnodes = ns.n;
	return 0;
nomem:
	fail(p, x, x->len, "out of memory");
fail:
	free(ns.v);
	return -1;
}

/*
 * Parses the text x as part pi, at partial depth depth. Returns -1 with
 * the error written.
 */
static int
parse_part(struct parser *p, struct text *x, size_t pi, int depth)
{
	int	 rc = -1;

	if (x->len > PGSSE_MUSTACHE_TEMPLATE_MAX - p->bytes) {
		fail(p, x, 0, "templates and partials over %u bytes",
		    PGSSE_MUSTACHE_TEMPLATE_MAX);
		return -1;
	}
	p->bytes += x->len;
	if ((x->del = calloc(x->len + 1, 1)) == NULL) {
		fail(p, x, 0, "out of memory");
		return -1;
	}
	if (pass1(p, x) == 0 && pass2(p, x, pi, depth) == 0)
		rc = 0;
	free(x->del);
	free(x->toks);
	pgsse_buf_free(&x->ind);
	return rc;
}

/*
 * Parses the template text (len bytes) called name, for errors. Returns
 * a template the caller frees with pgsse_mustache_free, or NULL with
 * "name:line:col: message" in err (errsz bytes, NUL-terminated). opts
 * may be NULL: no partials, no raw interpolation, nothing declared.
 */
struct pgsse_mustache *
pgsse_mustache_parse(const char *name, const char *text, size_t len,
    const struct pgsse_mustache_opts *opts, char *err, size_t errsz)
{
	static const struct pgsse_mustache_opts none;
	struct pgsse_mustache	*t;
	struct parser		 p;
	struct text		 x;
	size_t			 i;

	if (errsz > 0)
		err[0] = '\0';
	memset(&p, 0, sizeof(p));
	p.o = opts != NULL ? opts : &none;
	p.err = err;
	p.errsz = errsz;
	memset(&x, 0, sizeof(x));
	x.name = name;
	x.z = text;
	x.len = len;
	if ((t = p.t = calloc(1, sizeof(*t))) == NULL ||
	    (t->parts = calloc(4, sizeof(*t->parts))) == NULL) {
		free(t);
		return fail(&p, &x, 0, "out of memory");
	}
	t->partscap = 4;
	t->nparts = 1;
	if (parse_part(&p, &x, 0, 0) == -1) {
		pgsse_mustache_free(t);
		return NULL;
	}
	for (i = 0; i < t->nparts; i++) {
		free(t->parts[i].name);
		free(t->parts[i].indent);
		t->parts[i].name = t->parts[i].indent = NULL;
	}
	return t;
}

/* Frees t and all it holds. Accepts NULL. */
void
pgsse_mustache_free(struct pgsse_mustache *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nparts; i++) {
		free(t->parts[i].nodes);
		free(t->parts[i].name);
		free(t->parts[i].indent);
	}
	free(t->parts);
	free(t->lit);
	free(t);
}

/*
 * Rendering. A value is what a lookup finds: nothing (JavaScript's
 * undefined), a json-c value (NULL is null), what mustache.js finds as
 * a property of an array or string (a length, a character), or a part
 * of a table (pgsse_mustache_render_table): its rows (an array), a row
 * (an object), a cell (a number, boolean or string; SQL NULL is a
 * json-c null), or the data around them (an object). Each kind behaves
 * as the JSON value it stands for would: vtype() names that JSON type.
 * An integer (V_INT) is a JSON integer in all but vtype, where it is
 * null; nothing tells the two apart after that.
 */
enum vkind {
	V_UNDEF,
	V_JSON,
	V_INT,		/* n */
	V_STR,		/* z, n bytes */
	V_DBL,		/* d */
	V_BOOL,		/* n: 0 or 1 */
	V_ROWS,		/* the table's rows */
	V_ROW,		/* the table's row n */
	V_TOP		/* the table's data: rows, ctx, row 0's cells */
};

struct val {
	enum vkind		 kind;
	struct json_object	*o;
	int64_t			 n;
	const char		*z;
	double			 d;
};

struct render {
	const struct pgsse_mustache	*t;
	const struct pgsse_mustache_table *tab;	/* or NULL */
	struct json_object		*ctx;	/* V_TOP's other members */
	struct pgsse_buf		*out;
	size_t				 out0;
	size_t				 steps;
	int				 depth;
	size_t				 nstack;
	struct val			 stack[PGSSE_MUSTACHE_DEPTH_MAX + 1];
};

/* The JSON type v stands for, json_type_null for undefined and lengths. */
static enum json_type
vtype(const struct val *v)
{
	switch (v->kind) {
	case V_JSON:
		return json_object_get_type(v->o);
	case V_STR:
		return json_type_string;
	case V_DBL:
		return json_type_double;
	case V_BOOL:
		return json_type_boolean;
	case V_ROWS:
		return json_type_array;
	case V_ROW:
	case V_TOP:
		return json_type_object;
	default:
		return json_type_null;
	}
}

/* The boolean v: V_BOOL, or a json-c boolean. */
static int
vbool(const struct val *v)
{
	return v->kind == V_BOOL ? (int)v->n : json_object_get_boolean(v->o);
}

/* The length of the array v: V_ROWS, or a json-c array. */
static size_t
alen(const struct render *r, const struct val *v)
{
	return v->kind == V_ROWS ? (size_t)r->tab->nrows :
	    json_object_array_length(v->o);
}

/* Element i (below alen) of the array v. */
static struct val
aget(const struct val *v, size_t i)
{
	struct val	 e;

	memset(&e, 0, sizeof(e));
	if (v->kind == V_ROWS) {
		e.kind = V_ROW;
		e.n = (int64_t)i;
	} else {
		e.kind = V_JSON;
		e.o = json_object_array_get_idx(v->o, i);
	}
	return e;
}

/* The column of the table called name, or -1. */
static int
col_of(const struct pgsse_mustache_table *tab, const char *name)
{
	int	 c;

	for (c = 0; c < tab->ncols; c++)
		if (strcmp(tab->names[c], name) == 0)
			return c;
	return -1;
}

/*
 * The cell at row row, column col of the table, typed by its column:
 * SQL NULL is null. Can't fail.
 */
static struct val
cell(const struct render *r, int row, int col)
{
	const struct pgsse_mustache_table *tab = r->tab;
	struct val	 v;
	size_t		 len = 0;

	memset(&v, 0, sizeof(v));
	v.kind = V_JSON;
	if ((v.z = tab->cell(tab->arg, row, col, &len)) == NULL)
		return v;
	switch (tab->kinds[col]) {
	case PGSSE_MUSTACHE_COL_INT:
		v.kind = V_INT;
		v.n = strtoll(v.z, NULL, 10);
		break;
	case PGSSE_MUSTACHE_COL_DOUBLE:
		v.kind = V_DBL;
		v.d = strtod(v.z, NULL);
		break;
	case PGSSE_MUSTACHE_COL_BOOL:
		v.kind = V_BOOL;
		v.n = *v.z == 't';
		break;
	default:
		v.kind = V_STR;
		v.n = (int64_t)len;
		break;
	}
	return v;
}

/*
 * Whether column c of row 0 is a member of V_TOP: not when ctx or
 * "rows" takes its name.
 */
static int
top_col(const struct render *r, int c)
{
	const char	*name = r->tab->names[c];

	return strcmp(name, "rows") != 0 && (r->ctx == NULL ||
	    !json_object_object_get_ex(r->ctx, name, NULL));
}

/* The bytes of the string v, *n of them. */
static const char *
sval(const struct val *v, size_t *n)
{
	if (v->kind == V_STR) {
		*n = (size_t)v->n;
		return v->z;
	}
	*n = (size_t)json_object_get_string_len(v->o);
	return json_object_get_string(v->o);
}

/*
 * Sets *out to the character at UTF-16 index idx of the string z (n
 * bytes), U+FFFD for half of a pair (JavaScript's lone surrogate).
 * Returns 0 past the end.
 */
static int
char_at(const char *z, size_t n, size_t idx, struct val *out)
{
	size_t	 i, k, units = 0;
	uint32_t c;

	for (i = 0; i < n; i += k) {
		c = u8(z + i, n - i, &k);
		if (units == idx || (c > 0xffff && units + 1 == idx)) {
			out->kind = V_STR;
			out->z = c > 0xffff ? "\xef\xbf\xbd" : z + i;
			out->n = c > 0xffff ? 3 : (int64_t)k;
			return 1;
		}
		units += c > 0xffff ? 2 : 1;
	}
	return 0;
}

/* Parses a canonical array index into *idx; returns 0 if seg is none. */
static int
index_of(const char *seg, size_t *idx)
{
	size_t	 i;

	*idx = 0;
	if (seg[0] == '\0' || (seg[0] == '0' && seg[1] != '\0'))
		return 0;
	for (i = 0; seg[i] != '\0'; i++) {
		if (!isdigit((unsigned char)seg[i]) || i > 9)
			return 0;
		*idx = *idx * 10 + (size_t)(seg[i] - '0');
	}
	return 1;
}

/* The length of the UTF-8 string z in UTF-16 units, as JavaScript's. */
static int64_t
utf16_len(const char *z, size_t n)
{
	size_t	 i, k;
	int64_t	 units = 0;

	for (i = 0; i < n; i += k)
		units += u8(z + i, n - i, &k) > 0xffff ? 2 : 1;
	return units;
}

/*
 * Property seg of v as mustache.js reads it from JSON: an object's
 * member, an array's element (by canonical index) or length, a string's
 * length. Returns whether there is one, setting *out.
 */
static int
prop(const struct render *r, const struct val *v, const char *seg,
    struct val *out)
{
	struct json_object	*o;
	const char		*z;
	size_t			 idx, n;
	int			 c;

	memset(out, 0, sizeof(*out));
	out->kind = V_JSON;
	switch (vtype(v)) {
	case json_type_object:
		if (v->kind == V_TOP && strcmp(seg, "rows") == 0) {
			out->kind = V_ROWS;
			return 1;
		}
		if (v->kind == V_TOP && r->ctx != NULL &&
		    json_object_object_get_ex(r->ctx, seg, &o)) {
			out->o = o;
			return 1;
		}
		if (v->kind == V_TOP || v->kind == V_ROW) {
			if ((v->kind == V_TOP && r->tab->nrows == 0) ||
			    (c = col_of(r->tab, seg)) == -1)
				return 0;
			*out = cell(r, v->kind == V_TOP ? 0 : (int)v->n, c);
			return 1;
		}
		if (!json_object_object_get_ex(v->o, seg, &o))
			return 0;
		out->o = o;
		return 1;
	case json_type_array:
		if (strcmp(seg, "length") == 0) {
			out->kind = V_INT;
			out->n = (int64_t)alen(r, v);
			return 1;
		}
		if (!index_of(seg, &idx) || idx >= alen(r, v))
			return 0;
		*out = aget(v, idx);
		return 1;
	case json_type_string:
		z = sval(v, &n);
		if (strcmp(seg, "length") != 0)
			return index_of(seg, &idx) && char_at(z, n, idx, out);
		out->kind = V_INT;
		out->n = utf16_len(z, n);
		return 1;
	default:
		return 0;
	}
}

/* mustache.js's Context.lookup of the name of node n. Can't fail. */
static struct val
lookup(const struct render *r, const struct node *n)
{
	const char	*name = r->t->lit + n->off, *seg;
	struct val	 v, cur;
	size_t		 k, i;
	int		 hit;
	enum json_type	 ty;

	v.kind = V_UNDEF;
	v.o = NULL;
	if (n->len == 1 && name[0] == '.')
		return r->stack[r->nstack - 1];
	for (k = r->nstack; k-- > 0; ) {
		if (!n->dotted) {
			ty = vtype(&r->stack[k]);
			if ((ty == json_type_object || ty == json_type_array) &&
			    prop(r, &r->stack[k], name, &v))
				return v;
			continue;
		}
		cur = r->stack[k];
		hit = 0;
		for (i = 0; i <= n->len; i += strlen(seg) + 1) {
			seg = name + i;
			if (cur.kind == V_UNDEF ||
			    (cur.kind == V_JSON && cur.o == NULL))
				break;
			hit = prop(r, &cur, seg, &v);
			cur = v;
			if (!hit)
				cur.kind = V_UNDEF;
		}
		if (hit && i > n->len)
			return cur;
	}
	v.kind = V_UNDEF;
	return v;
}

/* JavaScript's falsiness of v (an empty array is not falsy). */
static int
falsy(const struct val *v)
{
	double	 d;

	if (v->kind == V_UNDEF)
		return 1;
	if (v->kind == V_INT || v->kind == V_STR || v->kind == V_BOOL)
		return v->n == 0;
	if (v->kind == V_DBL)
		return v->d == 0 || isnan(v->d);
	if (v->kind != V_JSON)
		return 0;
	switch (json_object_get_type(v->o)) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return !json_object_get_boolean(v->o);
	case json_type_int:
		return json_object_get_int64(v->o) == 0;
	case json_type_double:
		d = json_object_get_double(v->o);
		return d == 0 || isnan(d);
	case json_type_string:
		return json_object_get_string_len(v->o) == 0;
	default:
		return 0;
	}
}

/*
 * Writes d as JavaScript's Number.prototype.toString does (the shortest
 * digits that read back as d) into z, which has room for 32 bytes.
 */
static void
js_double(double d, char *z)
{
	char	 e[40], dig[20];
	int	 prec, x, k = 0, n, i;
	char	*p;

	if (isnan(d) || isinf(d) || d == 0) {
		strcpy(z, isnan(d) ? "NaN" : d > 0 ? "Infinity" :
		    d < 0 ? "-Infinity" : "0");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, d);
		if (strtod(e, NULL) == d)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", prec - 1, d);
	p = e + (e[0] == '-');
	for (; *p != 'e'; p++)
		if (*p != '.')
			dig[k++] = *p;
	x = atoi(p + 1);
	while (k > 1 && dig[k - 1] == '0')
		k--;
	dig[k] = '\0';
	n = x + 1;
	p = z;
	if (d < 0)
		*p++ = '-';
	if (k <= n && n <= 21) {
		p += sprintf(p, "%s", dig);
		for (i = k; i < n; i++)
			*p++ = '0';
		*p = '\0';
	} else if (0 < n && n <= 21)
		sprintf(p, "%.*s.%s", n, dig, dig + n);
	else if (-6 < n && n <= 0) {
		p += sprintf(p, "0.");
		for (i = n; i < 0; i++)
			*p++ = '0';
		sprintf(p, "%s", dig);
	} else
		sprintf(p, "%c%s%s%se%c%d", dig[0], k > 1 ? "." : "", dig + 1,
		    "", x < 0 ? '-' : '+', x < 0 ? -x : x);
}

/*
 * Writes the number v (an integer, a double or a length) into z (32
 * bytes); returns 0, or -1 if v is no number. Integers are exact, also
 * past 2^53 where JavaScript's would not be.
 */
static int
number(const struct val *v, char *z)
{
	if (v->kind == V_INT)
		snprintf(z, 32, "%lld", (long long)v->n);
	else if (v->kind == V_DBL)
		js_double(v->d, z);
	else if (vtype(v) == json_type_int)
		snprintf(z, 32, "%lld", (long long)json_object_get_int64(v->o));
	else if (v->kind == V_JSON && vtype(v) == json_type_double)
		js_double(json_object_get_double(v->o), z);
	else
		return -1;
	return 0;
}

/* Appends to the output; PGSSE_ERR_LIMIT past PGSSE_MUSTACHE_OUT_MAX. */
static enum pgsse_err
put(struct render *r, const char *z, size_t n, int html)
{
	enum pgsse_err	 er;

	if (r->out->len - r->out0 + n > PGSSE_MUSTACHE_OUT_MAX)
		return PGSSE_ERR_LIMIT;
	er = html ? pgsse_html_textn(r->out, z, n) :
	    pgsse_buf_put(r->out, z, n);
	if (er == PGSSE_OK && r->out->len - r->out0 > PGSSE_MUSTACHE_OUT_MAX)
		er = PGSSE_ERR_LIMIT;
	return er;
}

/*
 * Appends JavaScript's String(v) (an array's elements joined with
 * commas), HTML-escaped if html. Returns PGSSE_ERR_NOMEM, or
 * PGSSE_ERR_LIMIT past the output limit or arrays nested too deep.
 */
static enum pgsse_err
string(struct render *r, const struct val *v, int html, int depth)
{
	struct val	 e;
	const char	*z;
	char		 num[32];
	size_t		 i, n;
	enum pgsse_err	 er = PGSSE_OK;

	if (number(v, num) == 0)
		return put(r, num, strlen(num), 0);
	switch (vtype(v)) {
	case json_type_null:
		return PGSSE_OK;
	case json_type_boolean:
		return put(r, vbool(v) ? "true" : "false", vbool(v) ? 4 : 5, 0);
	case json_type_string:
		z = sval(v, &n);
		return put(r, z, n, html);
	case json_type_object:
		return put(r, "[object Object]", 15, 0);
	default:
		break;
	}
	if (depth >= PGSSE_MUSTACHE_DEPTH_MAX)
		return PGSSE_ERR_LIMIT;
	n = alen(r, v);
	for (i = 0; i < n && er == PGSSE_OK; i++) {
		e = aget(v, i);
		if (i > 0)
			er = put(r, ",", 1, 0);
		if (er == PGSSE_OK)
			er = string(r, &e, html, depth + 1);
	}
	return er;
}

/*
 * Appends the JSON of the string z (n bytes), with <, >, &, U+2028 and
 * U+2029 escaped for script, HTML-escaped too if html. Returns as put.
 */
static enum pgsse_err
json_string(struct render *r, const char *z, size_t n, int html)
{
	char		 esc[8];
	size_t		 i, run = 0;
	unsigned char	 c;
	enum pgsse_err	 er = put(r, "\"", 1, html);

	for (i = 0; i < n && er == PGSSE_OK; i++) {
		c = (unsigned char)z[i];
		esc[0] = '\0';
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' ||
		    c == '\f')
			snprintf(esc, sizeof(esc), "\\%c", c == '\n' ? 'n' :
			    c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ?
			    'b' : 'f');
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		else if (c == 0xe2 && i + 2 < n && (unsigned char)z[i + 1] ==
		    0x80 && ((unsigned char)z[i + 2] & 0xfe) == 0xa8) {
			snprintf(esc, sizeof(esc), "\\u%04x", 0x2028 +
			    (z[i + 2] & 1));
			er = put(r, z + run, i - run, html);
			i += 2;
			run = i + 1;
			if (er == PGSSE_OK)
				er = put(r, esc, strlen(esc), html);
			continue;
		}
		if (esc[0] == '\0')
			continue;
		er = put(r, z + run, i - run, html);
		run = i + 1;
		if (er == PGSSE_OK)
			er = put(r, esc, strlen(esc), html);
	}
	if (er == PGSSE_OK)
		er = put(r, z + run, n - run, html);
	return er == PGSSE_OK ? put(r, "\"", 1, html) : er;
}

static enum pgsse_err	 json_member(struct render *, size_t, const char *,
			    const struct val *, int, int);
static enum pgsse_err	 json_table(struct render *, const struct val *, int,
			    int);

/*
 * Appends v as JSON (undefined, NaN and infinities as null), safe inside
 * <script>, HTML-escaped too if html. Returns as string.
 */
static enum pgsse_err
json(struct render *r, const struct val *v, int html, int depth)
{
	struct val	 e;
	const char	*z;
	char		 num[32];
	size_t		 i, n;
	enum pgsse_err	 er = PGSSE_OK;

	if (number(v, num) == 0)
		return isalpha((unsigned char)num[num[0] == '-']) ?
		    put(r, "null", 4, 0) : put(r, num, strlen(num), 0);
	switch (vtype(v)) {
	case json_type_null:
		return put(r, "null", 4, 0);
	case json_type_boolean:
	case json_type_int:
	case json_type_double:
		return string(r, v, 0, depth);
	case json_type_string:
		z = sval(v, &n);
		return json_string(r, z, n, html);
	default:
		break;
	}
	if (depth >= PGSSE_MUSTACHE_DEPTH_MAX)
		return PGSSE_ERR_LIMIT;
	if (vtype(v) == json_type_array) {
		n = alen(r, v);
		er = put(r, "[", 1, 0);
		for (i = 0; i < n && er == PGSSE_OK; i++) {
			e = aget(v, i);
			if (i > 0)
				er = put(r, ",", 1, 0);
			if (er == PGSSE_OK)
				er = json(r, &e, html, depth + 1);
		}
		return er == PGSSE_OK ? put(r, "]", 1, 0) : er;
	}
	if (v->kind == V_ROW || v->kind == V_TOP)
		return json_table(r, v, html, depth);
	er = put(r, "{", 1, 0);
	i = 0;
	memset(&e, 0, sizeof(e));
	e.kind = V_JSON;
	json_object_object_foreach(v->o, key, val) {
		e.o = val;
		if (er == PGSSE_OK)
			er = json_member(r, i++, key, &e, html, depth);
	}
	return er == PGSSE_OK ? put(r, "}", 1, 0) : er;
}

/*
 * Appends member i (from 0) of an object: its comma, the JSON of key
 * and that of v. Returns as json.
 */
static enum pgsse_err
json_member(struct render *r, size_t i, const char *key, const struct val *v,
    int html, int depth)
{
	enum pgsse_err	 er = PGSSE_OK;

	if (i > 0)
		er = put(r, ",", 1, 0);
	if (er == PGSSE_OK)
		er = json_string(r, key, strlen(key), html);
	if (er == PGSSE_OK)
		er = put(r, ":", 1, 0);
	return er == PGSSE_OK ? json(r, v, html, depth + 1) : er;
}

/*
 * Appends the row v (V_ROW) or the table's data (V_TOP) as the JSON
 * object it stands for: the data's members are "rows", ctx's, then row
 * 0's cells that neither names. Returns as json.
 */
static enum pgsse_err
json_table(struct render *r, const struct val *v, int html, int depth)
{
	const struct pgsse_mustache_table *tab = r->tab;
	struct val	 e;
	size_t		 i = 0;
	int		 c;
	enum pgsse_err	 er = put(r, "{", 1, 0);

	memset(&e, 0, sizeof(e));
	if (v->kind == V_TOP) {
		e.kind = V_ROWS;
		if (er == PGSSE_OK)
			er = json_member(r, i++, "rows", &e, html, depth);
		e.kind = V_JSON;
		if (r->ctx != NULL) {
			json_object_object_foreach(r->ctx, key, val) {
				e.o = val;
				if (er == PGSSE_OK)
					er = json_member(r, i++, key, &e, html,
					    depth);
			}
		}
	}
	for (c = 0; c < tab->ncols && er == PGSSE_OK; c++) {
		if (v->kind == V_TOP && (tab->nrows == 0 || !top_col(r, c)))
			continue;
		e = cell(r, v->kind == V_TOP ? 0 : (int)v->n, c);
		er = json_member(r, i++, tab->names[c], &e, html, depth);
	}
	return er == PGSSE_OK ? put(r, "}", 1, 0) : er;
}

/* Whether byte c passes unencoded in a URL (part, if part). */
static int
url_byte(unsigned char c, int part)
{
	if (isalnum(c) || strchr("-_.!~*'()", c) != NULL)
		return c != '\0';
	return !part && c > 0x20 && c < 0x7f && c != '%' &&
	    strchr("\"<>\\^`{|}", c) == NULL;
}

/*
 * Appends the scalar v as a URL: "#" if it has a scheme other than http
 * and https; else with what may not be in a URL percent-encoded (or all
 * but unreserved characters if part), then HTML-escaped. An array or
 * object is "#" (part: nothing). Returns as put.
 */
static enum pgsse_err
url(struct render *r, const struct val *v, int part)
{
	char		 num[32], pct[4];
	const char	*z = num;
	size_t		 n, i;
	enum pgsse_err	 er = PGSSE_OK;

	if (number(v, num) == 0)
		n = strlen(num);
	else if (vtype(v) == json_type_boolean)
		n = strlen(z = vbool(v) ? "true" : "false");
	else if (vtype(v) == json_type_string)
		z = sval(v, &n);
	else if (vtype(v) == json_type_null)
		return PGSSE_OK;
	else
		return part ? PGSSE_OK : put(r, "#", 1, 0);
	if (!part && n > 0 && isalpha((unsigned char)z[0])) {
		for (i = 1; i < n && (isalnum((unsigned char)z[i]) ||
		    z[i] == '+' || z[i] == '-' || z[i] == '.'); i++)
			continue;
		if (i < n && z[i] == ':' && !((i == 4 &&
		    strncasecmp(z, "http", 4) == 0) || (i == 5 &&
		    strncasecmp(z, "https", 5) == 0)))
			return put(r, "#", 1, 0);
	}
	for (i = 0; i < n && er == PGSSE_OK; i++) {
		if (url_byte((unsigned char)z[i], part) || (!part &&
		    z[i] == '%' && i + 2 < n && isxdigit((unsigned char)
		    z[i + 1]) && isxdigit((unsigned char)z[i + 2])))
			er = put(r, &z[i], 1, 1);
		else {
			snprintf(pct, sizeof(pct), "%%%02X",
			    (unsigned char)z[i]);
			er = put(r, pct, 3, 0);
		}
	}
	return er;
}

/*
 * Appends the scalar v if it is made of [A-Za-z0-9 _#%.,+-] only, else
 * nothing. Returns as put.
 */
static enum pgsse_err
css(struct render *r, const struct val *v)
{
	char		 num[32];
	const char	*z;
	size_t		 i, n;

	if (number(v, num) == 0)
		return put(r, num, strlen(num), 0);
	if (vtype(v) != json_type_string)
		return PGSSE_OK;
	z = sval(v, &n);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)z[i]) && (z[i] == '\0' ||
		    strchr(" _#%.,+-", z[i]) == NULL))
			return PGSSE_OK;
	return put(r, z, n, 0);
}

/* Writes the variable node n. Returns as put. */
static enum pgsse_err
var(struct render *r, const struct node *n)
{
	struct val	 v = lookup(r, n);

	switch (n->how) {
	case W_JSON:
	case W_JSON_HTML:
		return json(r, &v, n->how == W_JSON_HTML, 0);
	case W_URL:
	case W_URLPART:
		return url(r, &v, n->how == W_URLPART);
	case W_CSS:
		return css(r, &v);
	default:
		return v.kind == V_UNDEF ? PGSSE_OK :
		    string(r, &v, n->how == W_HTML, 0);
	}
}

static enum pgsse_err	 nodes(struct render *, size_t, size_t, size_t);

/*
 * Renders nodes from to end of part pi one level deeper, with v pushed
 * on the context stack if push. Returns PGSSE_ERR_LIMIT too deep, else
 * as nodes.
 */
static enum pgsse_err
descend(struct render *r, size_t pi, size_t from, size_t end,
    const struct val *v)
{
	enum pgsse_err	 er;

	if (r->depth >= PGSSE_MUSTACHE_DEPTH_MAX ||
	    ++r->steps > PGSSE_MUSTACHE_STEPS_MAX)
		return PGSSE_ERR_LIMIT;
	r->depth++;
	if (v != NULL)
		r->stack[r->nstack++] = *v;
	er = nodes(r, pi, from, end);
	if (v != NULL)
		r->nstack--;
	r->depth--;
	return er;
}

/* Renders the section node at i of part pi. Returns as nodes. */
static enum pgsse_err
section(struct render *r, size_t pi, size_t i)
{
	const struct node	*n = &r->t->parts[pi].nodes[i];
	struct val		 v = lookup(r, n), e;
	enum json_type		 ty = vtype(&v);
	size_t			 k, len;
	enum pgsse_err		 er = PGSSE_OK;

	if (n->kind == N_INVERTED)
		return falsy(&v) || (ty == json_type_array &&
		    alen(r, &v) == 0) ?
		    descend(r, pi, i + 1, n->end, NULL) : PGSSE_OK;
	if (falsy(&v))
		return PGSSE_OK;
	if (ty == json_type_array) {
		len = alen(r, &v);
		for (k = 0; k < len && er == PGSSE_OK; k++) {
			e = aget(&v, k);
			er = descend(r, pi, i + 1, n->end, &e);
		}
		return er;
	}
	return descend(r, pi, i + 1, n->end, ty == json_type_boolean ?
	    NULL : &v);
}

/*
 * Renders nodes from to end of part pi. Returns PGSSE_ERR_NOMEM, or
 * PGSSE_ERR_LIMIT past a limit.
 */
static enum pgsse_err
nodes(struct render *r, size_t pi, size_t from, size_t end)
{
	const struct part	*pt = &r->t->parts[pi];
	const struct node	*n;
	size_t			 i;
	enum pgsse_err		 er = PGSSE_OK;

	for (i = from; i < end && er == PGSSE_OK; ) {
		if (++r->steps > PGSSE_MUSTACHE_STEPS_MAX)
			return PGSSE_ERR_LIMIT;
		n = &pt->nodes[i];
		switch (n->kind) {
		case N_TEXT:
			er = put(r, r->t->lit + n->off, n->len, 0);
			break;
		case N_VAR:
			er = var(r, n);
			break;
		case N_SECTION:
		case N_INVERTED:
			er = section(r, pi, i);
			i = n->end;
			continue;
		case N_PARTIAL:
			if (n->end != NO_PART)
				er = descend(r, n->end, 0,
				    r->t->parts[n->end].nnodes, NULL);
			break;
		default: /* N_DEEP */
			return PGSSE_ERR_LIMIT;
		}
		i++;
	}
	return er;
}

static enum pgsse_err	 render(struct render *, const struct pgsse_mustache *,
			    struct pgsse_buf *);

/*
 * Renders t with the data ctx (NULL is JSON null), appending to out.
 * Safe from any number of threads on one template, each with its own
 * out. Returns PGSSE_ERR_NOMEM, or PGSSE_ERR_LIMIT past a limit of
 * mustache.h; on error, out is as it was.
 */
enum pgsse_err
pgsse_mustache_render(const struct pgsse_mustache *t, struct json_object *ctx,
    struct pgsse_buf *out)
{
	struct render	 r;

	memset(&r, 0, sizeof(r));
	r.stack[0].kind = V_JSON;
	r.stack[0].o = ctx;
	return render(&r, t, out);
}

/*
 * Renders t with the data the table tab and the object ctx (may be
 * NULL) stand for, appending to out: as pgsse_mustache_render would
 * with the JSON object {"rows": [one object per row, its cells keyed by
 * column name], ctx's members, row 0's cells that neither names}, but
 * reading the cells where they are, as they are looked up. Threads and
 * errors as pgsse_mustache_render.
 */
enum pgsse_err
pgsse_mustache_render_table(const struct pgsse_mustache *t,
    const struct pgsse_mustache_table *tab, struct json_object *ctx,
    struct pgsse_buf *out)
{
	struct render	 r;

	memset(&r, 0, sizeof(r));
	r.tab = tab;
	r.ctx = ctx;
	r.stack[0].kind = V_TOP;
	return render(&r, t, out);
}

/*
 * Renders t into out from r's bottom context (set by the caller, the
 * rest of r zero). Returns as pgsse_mustache_render.
 */
static enum pgsse_err
render(struct render *r, const struct pgsse_mustache *t,
    struct pgsse_buf *out)
{
	enum pgsse_err	 er;

	r->t = t;
	r->out = out;
	r->out0 = out->len;
	r->nstack = 1;
	er = nodes(r, 0, 0, t->parts[0].nnodes);
	if (er != PGSSE_OK && out->p != NULL) {
		out->len = r->out0;
		out->p[out->len] = '\0';
	}
	return er;
}
