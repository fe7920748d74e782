/*
 * htmlctx.h: the HTML context of a point in a template's literal text
 * (lib/htmlctx.c), for the Mustache engine's check of where each
 * interpolation lands.
 */
#ifndef PGSSE_HTMLCTX_H
#define PGSSE_HTMLCTX_H

/* Bytes of a tag or attribute name kept; longer names are cut. */
#define PGSSE_HTMLCTX_NAME_MAX 48

/* What an interpolation needs where the tokenizer stands. */
enum pgsse_htmlctx_need {
	PGSSE_HTMLCTX_HTML,	/* text, ordinary quoted value: HTML escape */
	PGSSE_HTMLCTX_URL,	/* a quoted URL attribute value */
	PGSSE_HTMLCTX_JS,	/* a quoted script attribute value */
	PGSSE_HTMLCTX_CSS,	/* a quoted style attribute value */
	PGSSE_HTMLCTX_SCRIPT,	/* inside <script> */
	PGSSE_HTMLCTX_STYLE,	/* inside <style> */
	PGSSE_HTMLCTX_NEVER,	/* nothing is safe here */
	PGSSE_HTMLCTX__MAX
};

/*
 * The state of the tokenizer that decides what the text that follows
 * means: two points with equal states (memcmp) treat what follows the
 * same. Zeroed is element text.
 */
struct pgsse_htmlctx {
	unsigned char	 st;	/* tokenizer state */
	unsigned char	 elem;	/* element of the tag, or of raw text */
	unsigned char	 attr;	/* kind of the attribute being read */
	unsigned char	 end;	/* in an end tag */
	unsigned char	 n;	/* characters matched of an end tag, dashes */
	unsigned char	 m;	/* characters matched of "<!--" in script */
};

/* The tokenizer: the state, and the name being read. */
struct pgsse_htmltok {
	struct pgsse_htmlctx	 c;
	char			 name[PGSSE_HTMLCTX_NAME_MAX];
	size_t			 nname;	/* may pass PGSSE_HTMLCTX_NAME_MAX */
	char			 attr[PGSSE_HTMLCTX_NAME_MAX]; /* last one */
	int			 noeq;	/* no = next: after a boundary */
};

void			 pgsse_htmltok_init(struct pgsse_htmltok *,
			    const struct pgsse_htmlctx *);
int			 pgsse_htmltok_feed(struct pgsse_htmltok *,
			    const char *, size_t, const char **);
enum pgsse_htmlctx_need	 pgsse_htmltok_need(const struct pgsse_htmltok *);
int			 pgsse_htmltok_naming(const struct pgsse_htmltok *);
void			 pgsse_htmltok_boundary(struct pgsse_htmltok *);
void			 pgsse_htmltok_where(const struct pgsse_htmltok *,
			    char *, size_t);

#endif /* !PGSSE_HTMLCTX_H */
