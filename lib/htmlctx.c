/*
 * htmlctx.c: a small HTML tokenizer over a template's literal text, which
 * tells the Mustache engine what an interpolation at a given point would
 * be: element text, an attribute value of some kind, script, style, or a
 * place where nothing is safe (a tag or attribute name, an unquoted value,
 * a comment).
 *
 * It follows the states of the HTML standard's tokenizer that matter for
 * this (tag open, tag and attribute names, the three kinds of attribute
 * value, comments, bogus comments, and the raw text of <script>, <style>,
 * <textarea>, <title> and the like) and leaves out character references
 * and the rest: they do not change which of those states text is in. It
 * refuses "<!--" inside <script>, where the standard's escaped states
 * would let "</script>" not end the element.
 *
 * Attribute names decide the kind of a value: URLs (href, src, hx-get,
 * ...), script (on*, hx-on*, hx-vals, Alpine's x-*, @* and :*), style,
 * and those no escaper makes safe (srcdoc, x-html, Alpine bindings of
 * URLs and of innerHTML). Names are compared in lower case, htmx's after
 * an optional "data-".
 */
#include <stdio.h>
#include <string.h>

#include "htmlctx.h"

enum hst {
	HS_TEXT = 0,
	HS_TAG_OPEN,		/* after < */
	HS_END_OPEN,		/* after </ */
	HS_TAG_NAME,
	HS_BEFORE_ATTR,
	HS_ATTR_NAME,
	HS_AFTER_ATTR,		/* after an attribute name */
	HS_BEFORE_VALUE,	/* after = */
	HS_VALUE_DQ,
	HS_VALUE_SQ,
	HS_VALUE_UNQ,
	HS_MARKUP,		/* after <! */
	HS_COMMENT,
	HS_BOGUS,		/* <? <!DOCTYPE and the like, to > */
	HS_RAW,			/* the text of a raw text element */
	HS__MAX
};

/* Elements whose text is not markup; EL_NONE for all others. */
enum elem {
	EL_NONE = 0,
	EL_SCRIPT,
	EL_STYLE,
	EL_TEXTAREA,
	EL_TITLE,
	EL_XMP,
	EL_IFRAME,
	EL_NOEMBED,
	EL_NOFRAMES,
	EL_NOSCRIPT,
	EL_PLAINTEXT,
	EL__MAX
};

static const char *const elems[EL__MAX] = {
	"", "script", "style", "textarea", "title", "xmp", "iframe",
	"noembed", "noframes", "noscript", "plaintext"
};

/* Kinds of attribute value. */
enum akind {
	AK_TEXT = 0,
	AK_URL,
	AK_JS,
	AK_CSS,
	AK_NEVER,
	AK__MAX
};

/* Comment states in the n of struct pgsse_htmlctx. */
#define CM_START	10	/* right after <!-- */
#define CM_START_DASH	11	/* after <!--- */
#define CM_DASHES	2	/* after -- */
#define CM_BANG		3	/* after --! */

static const char *const url_attrs[] = {
	"href", "src", "action", "formaction", "srcset", "imagesrcset",
	"xlink:href", "poster", "cite", "data", "background", "longdesc",
	"usemap", "codebase", "classid", "archive", "manifest", "icon",
	"profile", "ping", "dynsrc", "lowsrc", "xml:base", "to", "from",
	"values", "by", "attributionsrc", NULL
};

/* htmx's, compared after an optional "data-". */
static const char *const hx_url_attrs[] = {
	"hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete",
	"hx-push-url", "hx-replace-url", "sse-connect", "ws-connect",
	"hx-sse", "hx-ws", NULL
};

static const char *const hx_js_attrs[] = {
	"hx-vals", "hx-headers", "hx-vars", "hx-request", "hx-trigger", NULL
};

/* Properties an Alpine binding must not set from data. */
static const char *const never_props[] = {
	"innerhtml", "outerhtml", "srcdoc", NULL
};

/* Whether z is one of the NULL-terminated list. */
static int
in_list(const char *const *list, const char *z)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, z) == 0)
			return 1;
	return 0;
}

/* Whether the attribute or property z takes a URL or markup. */
static int
url_or_markup(const char *z)
{
	return in_list(url_attrs, z) || in_list(never_props, z);
}

/*
 * The kind of the attribute called z (lower case; cut says whether the
 * name was longer than we keep, so that only its prefix is known).
 */
static enum akind
classify(const char *z, int cut)
{
	const char	*hx = strncmp(z, "data-", 5) == 0 ? z + 5 : z;

	if (strncmp(z, "on", 2) == 0 || strncmp(hx, "hx-on", 5) == 0)
		return AK_JS;
	if (strcmp(z, "x-html") == 0 ||
	    (z[0] == ':' && url_or_markup(z + 1)) ||
	    (strncmp(z, "x-bind:", 7) == 0 && url_or_markup(z + 7)))
		return AK_NEVER;
	if (z[0] == '@' || z[0] == ':' || strncmp(z, "x-", 2) == 0)
		return AK_JS;
	if (cut)
		return AK_TEXT;
	if (strcmp(z, "srcdoc") == 0)
		return AK_NEVER;
	if (in_list(url_attrs, z) || in_list(hx_url_attrs, hx))
		return AK_URL;
	if (in_list(hx_js_attrs, hx))
		return AK_JS;
	if (strcmp(z, "style") == 0)
		return AK_CSS;
	return AK_TEXT;
}

/* Starts the tokenizer t at the state c (element text if NULL). */
void
pgsse_htmltok_init(struct pgsse_htmltok *t, const struct pgsse_htmlctx *c)
{
	memset(t, 0, sizeof(*t));
	if (c != NULL)
		t->c = *c;
}

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\f' ||
	    ch == '\r';
}

static int
is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static char
lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* Starts a name with ch. */
static void
name_start(struct pgsse_htmltok *t, char ch)
{
	t->nname = 0;
	t->name[0] = '\0';
	if (ch != '\0') {
		t->name[0] = lower(ch);
		t->name[1] = '\0';
		t->nname = 1;
	}
}

static void
name_add(struct pgsse_htmltok *t, char ch)
{
	if (t->nname < sizeof(t->name) - 1) {
		t->name[t->nname] = lower(ch);
		t->name[t->nname + 1] = '\0';
	}
	t->nname++;
}

/* The tag name is complete: remember its element. */
static void
tag_named(struct pgsse_htmltok *t)
{
	size_t	 i;

	t->c.elem = EL_NONE;
	for (i = 1; i < EL__MAX && t->nname < sizeof(t->name); i++)
		if (strcmp(t->name, elems[i]) == 0)
			t->c.elem = (unsigned char)i;
}

/* The attribute name is complete: remember its kind. */
static void
attr_named(struct pgsse_htmltok *t)
{
	t->c.attr = (unsigned char)classify(t->name,
	    t->nname >= sizeof(t->name));
	memcpy(t->attr, t->name, sizeof(t->attr));
}

/* A > ends the tag. */
static void
tag_end(struct pgsse_htmltok *t)
{
	if (!t->c.end && t->c.elem != EL_NONE) {
		t->c.st = HS_RAW;
		t->c.n = t->c.m = 0;
	} else {
		t->c.st = HS_TEXT;
		t->c.elem = EL_NONE;
	}
	t->c.attr = AK_TEXT;
	t->c.end = 0;
}

/* One character of raw text: looks for the element's end tag. */
static int
raw(struct pgsse_htmltok *t, char ch, const char **err)
{
	const char	*z = elems[t->c.elem];
	size_t		 len = strlen(z) + 2;
	static const char cmt[] = "<!--";

	if (t->c.elem == EL_SCRIPT) {
		t->c.m = ch == cmt[t->c.m] ? t->c.m + 1 : ch == '<';
		if (t->c.m == 4) {
			*err = "\"<!--\" inside <script>";
			return -1;
		}
	}
	if (t->c.elem == EL_PLAINTEXT)
		return 0;
	if (t->c.n < len) {
		if ((t->c.n == 0 && ch == '<') || (t->c.n == 1 && ch == '/') ||
		    (t->c.n >= 2 && lower(ch) == z[t->c.n - 2]))
			t->c.n++;
		else
			t->c.n = ch == '<';
		return 0;
	}
	if (is_space(ch) || ch == '/') {
		t->c.st = HS_BEFORE_ATTR;
		t->c.end = 1;
		t->c.elem = EL_NONE;
		t->c.n = t->c.m = 0;
	} else if (ch == '>') {
		t->c.st = HS_TEXT;
		t->c.elem = EL_NONE;
	} else
		t->c.n = ch == '<';
	return 0;
}

/* One character of a comment. */
static void
comment(struct pgsse_htmltok *t, char ch)
{
	switch (t->c.n) {
	case CM_START:
	case CM_START_DASH:
		if (ch == '>')
			t->c.st = HS_TEXT;
		else if (ch == '-')
			t->c.n = t->c.n == CM_START ? CM_START_DASH : CM_DASHES;
		else
			t->c.n = 0;
		break;
	case CM_DASHES:
	case CM_BANG:
		if (ch == '>')
			t->c.st = HS_TEXT;
		else if (ch == '-')
			t->c.n = t->c.n == CM_BANG ? 1 : CM_DASHES;
		else
			t->c.n = ch == '!' && t->c.n == CM_DASHES ? CM_BANG : 0;
		break;
	default:
		t->c.n = ch == '-' ? t->c.n + 1 : 0;
		break;
	}
}

/* One character in a tag, between its name and its >. */
static void
in_tag(struct pgsse_htmltok *t, char ch)
{
	switch (t->c.st) {
	case HS_BEFORE_ATTR:
		if (ch == '>')
			tag_end(t);
		else if (!is_space(ch) && ch != '/') {
			t->c.st = HS_ATTR_NAME;
			name_start(t, ch);
		}
		break;
	case HS_ATTR_NAME:
		if (is_space(ch) || ch == '/' || ch == '>' || ch == '=') {
			attr_named(t);
			t->c.st = is_space(ch) ? HS_AFTER_ATTR : ch == '=' ?
			    HS_BEFORE_VALUE : HS_BEFORE_ATTR;
			if (ch == '>')
				tag_end(t);
		} else
			name_add(t, ch);
		break;
	case HS_AFTER_ATTR:
		if (ch == '=')
			t->c.st = HS_BEFORE_VALUE;
		else if (ch == '>' || ch == '/') {
			t->c.st = HS_BEFORE_ATTR;
			if (ch == '>')
				tag_end(t);
		} else if (!is_space(ch)) {
			t->c.st = HS_ATTR_NAME;
			name_start(t, ch);
		}
		break;
	case HS_BEFORE_VALUE:
		if (ch == '"')
			t->c.st = HS_VALUE_DQ;
		else if (ch == '\'')
			t->c.st = HS_VALUE_SQ;
		else if (ch == '>')
			tag_end(t);
		else if (!is_space(ch))
			t->c.st = HS_VALUE_UNQ;
		break;
	case HS_VALUE_DQ:
	case HS_VALUE_SQ:
		if (ch == (t->c.st == HS_VALUE_DQ ? '"' : '\'')) {
			t->c.st = HS_BEFORE_ATTR;
			t->c.attr = AK_TEXT;
		}
		break;
	default: /* HS_VALUE_UNQ */
		if (is_space(ch) || ch == '>') {
			t->c.st = HS_BEFORE_ATTR;
			t->c.attr = AK_TEXT;
			if (ch == '>')
				tag_end(t);
		}
		break;
	}
}

/* One character outside tags and raw text. */
static void
markup(struct pgsse_htmltok *t, char ch)
{
	switch (t->c.st) {
	case HS_TEXT:
		if (ch == '<')
			t->c.st = HS_TAG_OPEN;
		break;
	case HS_TAG_OPEN:
	case HS_END_OPEN:
		if (is_alpha(ch)) {
			t->c.end = t->c.st == HS_END_OPEN;
			t->c.st = HS_TAG_NAME;
			name_start(t, ch);
		} else if (t->c.st == HS_END_OPEN)
			t->c.st = ch == '>' ? HS_TEXT : HS_BOGUS;
		else if (ch == '/')
			t->c.st = HS_END_OPEN;
		else if (ch == '!') {
			t->c.st = HS_MARKUP;
			t->c.n = 0;
		} else if (ch == '?')
			t->c.st = HS_BOGUS;
		else
			t->c.st = ch == '<' ? HS_TAG_OPEN : HS_TEXT;
		break;
	case HS_TAG_NAME:
		if (is_space(ch) || ch == '/' || ch == '>') {
			tag_named(t);
			t->c.st = HS_BEFORE_ATTR;
			if (ch == '>')
				tag_end(t);
		} else
			name_add(t, ch);
		break;
	case HS_MARKUP:
		if (ch == '-' && t->c.n == 0)
			t->c.n = 1;
		else if (ch == '-') {
			t->c.st = HS_COMMENT;
			t->c.n = CM_START;
		} else {
			t->c.st = ch == '>' ? HS_TEXT : HS_BOGUS;
			t->c.n = 0;
		}
		break;
	default: /* HS_BOGUS */
		if (ch == '>')
			t->c.st = HS_TEXT;
		break;
	}
}

/*
 * Feeds n bytes of literal text to t. Returns 0, or -1 with *err set to
 * a static message if the text is something we refuse.
 */
int
pgsse_htmltok_feed(struct pgsse_htmltok *t, const char *z, size_t n,
    const char **err)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (t->noeq && t->c.st == HS_BEFORE_ATTR && z[i] == '=') {
			*err = "\"=\" right after a section or partial tag "
			    "between attributes";
			return -1;
		}
		if (!is_space(z[i]))
			t->noeq = 0;
		switch (t->c.st) {
		case HS_RAW:
			if (raw(t, z[i], err) == -1)
				return -1;
			break;
		case HS_COMMENT:
			comment(t, z[i]);
			break;
		case HS_BEFORE_ATTR:
		case HS_ATTR_NAME:
		case HS_AFTER_ATTR:
		case HS_BEFORE_VALUE:
		case HS_VALUE_DQ:
		case HS_VALUE_SQ:
		case HS_VALUE_UNQ:
			in_tag(t, z[i]);
			break;
		default:
			markup(t, z[i]);
			break;
		}
		/* Element text is one state, whatever led to it. */
		if (t->c.st == HS_TEXT)
			memset(&t->c, 0, sizeof(t->c));
	}
	return 0;
}

/* Whether t is inside a name, where no section or partial may start. */
int
pgsse_htmltok_naming(const struct pgsse_htmltok *t)
{
	return t->c.st == HS_TAG_OPEN || t->c.st == HS_END_OPEN ||
	    t->c.st == HS_TAG_NAME || t->c.st == HS_ATTR_NAME ||
	    t->c.st == HS_MARKUP;
}

/*
 * A section or partial tag, or a partial's end, is at t: in a tag, what
 * follows may come after an attribute name on one path and not on the
 * other, so after an attribute name is between attributes, and no "="
 * may follow. Can't fail.
 */
void
pgsse_htmltok_boundary(struct pgsse_htmltok *t)
{
	if (t->c.st == HS_AFTER_ATTR) {
		t->c.st = HS_BEFORE_ATTR;
		t->c.attr = AK_TEXT;
	}
	if (t->c.st == HS_BEFORE_ATTR)
		t->noeq = 1;
}

/* What an interpolation needs at t; this function can't fail. */
enum pgsse_htmlctx_need
pgsse_htmltok_need(const struct pgsse_htmltok *t)
{
	static const enum pgsse_htmlctx_need attrs[AK__MAX] = {
		PGSSE_HTMLCTX_HTML, PGSSE_HTMLCTX_URL, PGSSE_HTMLCTX_JS,
		PGSSE_HTMLCTX_CSS, PGSSE_HTMLCTX_NEVER
	};

	switch (t->c.st) {
	case HS_TEXT:
		return PGSSE_HTMLCTX_HTML;
	case HS_RAW:
		if (t->c.n > 0 || t->c.m > 0)
			return PGSSE_HTMLCTX_NEVER;
		return t->c.elem == EL_SCRIPT ? PGSSE_HTMLCTX_SCRIPT :
		    t->c.elem == EL_STYLE ? PGSSE_HTMLCTX_STYLE :
		    PGSSE_HTMLCTX_HTML;
	case HS_VALUE_DQ:
	case HS_VALUE_SQ:
		return t->c.end ? PGSSE_HTMLCTX_NEVER : attrs[t->c.attr];
	default:
		return PGSSE_HTMLCTX_NEVER;
	}
}

/* Writes a description of where t is for messages into z (size sz). */
void
pgsse_htmltok_where(const struct pgsse_htmltok *t, char *z, size_t sz)
{
	static const char *const kinds[AK__MAX] = {
		"", "URL ", "script ", "style ", ""
	};

	switch (t->c.st) {
	case HS_TEXT:
		snprintf(z, sz, "element text");
		break;
	case HS_RAW:
		snprintf(z, sz, "%s<%s>", t->c.n > 0 ? "an end tag in " :
		    t->c.m > 0 ? "\"<!\" in " : "", elems[t->c.elem]);
		break;
	case HS_VALUE_DQ:
	case HS_VALUE_SQ:
		snprintf(z, sz, "the %sattribute \"%s\"%s", kinds[t->c.attr],
		    t->attr, t->c.end ? " of an end tag" : "");
		break;
	case HS_VALUE_UNQ:
	case HS_BEFORE_VALUE:
		snprintf(z, sz, "an unquoted attribute value");
		break;
	case HS_BEFORE_ATTR:
	case HS_ATTR_NAME:
	case HS_AFTER_ATTR:
		snprintf(z, sz, "an attribute name");
		break;
	case HS_COMMENT:
	case HS_BOGUS:
	case HS_MARKUP:
		snprintf(z, sz, "a comment");
		break;
	default:
		snprintf(z, sz, "a tag name");
		break;
	}
}
