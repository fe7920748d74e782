/*
 * check_mustache.c: lib/mustache.c and lib/htmlctx.c: parse errors with
 * their place, the limits, the HTML contexts refused at parse and the
 * escapers, rendering from several threads. Mustache itself is compared
 * with mustache.js by tests/check-mustache.sh.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <json-c/json.h>

#include "pgsse.h"
#include "mustache.h"
#include "harness.h"

/* Threads rendering one template at once, and renders each. */
#define THREADS 8
#define RENDERS 500

/* The variables the tests declare. */
static const struct pgsse_mustache_var vars[] = {
	{ "u", PGSSE_MUSTACHE_ESC_URL },
	{ "p", PGSSE_MUSTACHE_ESC_URLPART },
	{ "j", PGSSE_MUSTACHE_ESC_JSON },
	{ "c", PGSSE_MUSTACHE_ESC_CSS },
	{ "none", PGSSE_MUSTACHE_ESC_JSON },
};

/* Partials: name, text. */
static const char *const partials[][2] = {
	{ "li", "<li>{{x}}</li>" },
	{ "attrs", "class=\"{{x}}\" " },
	{ "href", "href=\"{{x}}\" " },
	{ "open", "<a href=\"" },
	{ "x", "{{x}}" },
	{ "self", "{{>self}}" },
	{ "tree", "{{#k}}\n  {{>tree}}\n{{/k}}" },
	{ "deep", "[{{#k}}{{>deep}}{{/k}}]" },
};

static int
resolve(void *arg, const char *name, const char **text, size_t *len)
{
	size_t	 i;

	(void)arg;
	if (strcmp(name, "broken") == 0)
		return -1;
	for (i = 0; i < sizeof(partials) / sizeof(partials[0]); i++)
		if (strcmp(name, partials[i][0]) == 0) {
			*text = partials[i][1];
			*len = strlen(*text);
			return 1;
		}
	return 0;
}

/* Parses tpl with the declarations and partials above and flags. */
static struct pgsse_mustache *
parse(const char *tpl, unsigned int flags, char *err, size_t errsz)
{
	struct pgsse_mustache_opts	 o;

	memset(&o, 0, sizeof(o));
	o.flags = flags;
	o.vars = vars;
	o.nvars = sizeof(vars) / sizeof(vars[0]);
	o.partial = resolve;
	return pgsse_mustache_parse("t", tpl, strlen(tpl), &o, err, errsz);
}

/*
 * Renders tpl with the JSON data; returns the output, or "ERROR: " and
 * the parse error, or "LIMIT" or "NOMEM" (a static buffer).
 */
static const char *
render(const char *tpl, const char *data, unsigned int flags)
{
	static char		 out[8192];
	struct pgsse_mustache	*t;
	struct pgsse_buf	 b = { NULL, 0, 0 };
	struct json_tokener	*tok = json_tokener_new_ex(128);
	struct json_object	*o;
	char			 err[512];
	enum pgsse_err		 er;

	ck_assert_ptr_nonnull(tok);
	o = json_tokener_parse_ex(tok, data, (int)strlen(data));
	ck_assert_msg(o != NULL || strcmp(data, "null") == 0, "%s", data);
	json_tokener_free(tok);
	if ((t = parse(tpl, flags, err, sizeof(err))) == NULL)
		snprintf(out, sizeof(out), "ERROR: %s", err);
	else if ((er = pgsse_mustache_render(t, o, &b)) != PGSSE_OK) {
		snprintf(out, sizeof(out), "%s", er == PGSSE_ERR_LIMIT ?
		    "LIMIT" : "NOMEM");
		ck_assert_uint_eq(b.len, 0);
	} else
		snprintf(out, sizeof(out), "%s", b.p ? b.p : "");
	pgsse_buf_free(&b);
	pgsse_mustache_free(t);
	json_object_put(o);
	return out;
}

/* Asserts that tpl is refused with an error holding want. */
static void
refused(const char *tpl, const char *want)
{
	const char	*got = render(tpl, "{}", 0);

	ck_assert_msg(strncmp(got, "ERROR: ", 7) == 0 &&
	    strstr(got, want) != NULL, "%s: got \"%s\", want \"%s\"", tpl,
	    got, want);
}

START_TEST(mustache_render_basics)
{
	ck_assert_str_eq(render("<p>{{x}}</p>",
	    "{\"x\": \"<a href='/'>=`&\\\"\"}", 0),
	    "<p>&lt;a href&#x3D;&#39;&#x2F;&#39;&gt;&#x3D;&#x60;&amp;&quot;"
	    "</p>");
	ck_assert_str_eq(render("{{a}} {{b}} {{c}} {{d}} {{e}}",
	    "{\"a\": 1.0, \"b\": 1.5, \"c\": 1e21, \"d\": 9007199254740993, "
	    "\"e\": 0.1}", 0), "1 1.5 1e+21 9007199254740993 0.1");
	ck_assert_str_eq(render("{{t}} {{f}} [{{n}}] [{{m}}]",
	    "{\"t\": true, \"f\": false, \"n\": null}", 0), "true false [] []");
	ck_assert_str_eq(render("<ul>\n  {{#l}}\n  <li>{{.}}</li>\n  {{/l}}\n"
	    "</ul>", "{\"l\": [1, \"b\"]}", 0),
	    "<ul>\n  <li>1</li>\n  <li>b</li>\n</ul>");
	ck_assert_str_eq(render("{{#l}}{{>li}}{{/l}}{{^l}}none{{/l}}",
	    "{\"l\": [{\"x\": \"a\"}, {\"x\": \"<\"}]}", 0),
	    "<li>a</li><li>&lt;</li>");
	ck_assert_str_eq(render("{{=<% %>=}}<%x%>{{x}}", "{\"x\": 1}", 0),
	    "1{{x}}");
	ck_assert_str_eq(render("{{#l}}x{{/l}}", "null", 0), "");
	ck_assert_int_eq(pgsse_mustache_esc_parse("url"),
	    PGSSE_MUSTACHE_ESC_URL);
	ck_assert_int_eq(pgsse_mustache_esc_parse("json"),
	    PGSSE_MUSTACHE_ESC_JSON);
	ck_assert_int_eq(pgsse_mustache_esc_parse("js"),
	    PGSSE_MUSTACHE_ESC__MAX);
}
END_TEST

START_TEST(mustache_parse_errors)
{
	ck_assert_str_eq(render("ab\n  {{#x}}\n", "{}", 0),
	    "ERROR: t:2:3: unclosed section \"x\"");
	ck_assert_str_eq(render("\xc3\xa9 {{x", "{}", 0),
	    "ERROR: t:1:3: unclosed tag");
	ck_assert_str_eq(render("a\nb\n{{#a}}{{/b}}", "{}", 0),
	    "ERROR: t:3:7: unclosed section \"a\"");
	ck_assert_str_eq(render("{{/y}}", "{}", 0),
	    "ERROR: t:1:1: unopened section \"y\"");
	ck_assert_str_eq(render("x {{=<%=}}", "{}", 0),
	    "ERROR: t:1:3: invalid delimiters \"<%\"");
	ck_assert_str_eq(render("{{>broken}}", "{}", 0),
	    "ERROR: t:1:1: cannot load partial \"broken\"");
	/* An error in a partial names the partial. */
	ck_assert_str_eq(render("<p>{{>open}}</p>", "{}", 0),
	    "ERROR: open:1:10: the template ends in the URL attribute "
	    "\"href\", not where it began, in element text");
	ck_assert_str_eq(render("x {{>missing}} y", "{}", 0), "x  y");
}
END_TEST

START_TEST(mustache_raw_refused)
{
	refused("<p>{{{x}}}</p>", "t:1:4: \"x\" is written unescaped (raw "
	    "interpolation), which this template may not do");
	refused("<p>{{& x }}</p>", "raw interpolation");
	ck_assert_str_eq(render("<p>{{{x}}}</p>", "{\"x\": \"<b>\"}",
	    PGSSE_MUSTACHE_RAW), "<p><b></p>");
	ck_assert_str_eq(render("<a title=\"{{{x}}}\">", "{}",
	    PGSSE_MUSTACHE_RAW), "ERROR: t:1:11: \"x\" is written unescaped "
	    "in the attribute \"title\": raw interpolation is for element "
	    "text only");
	ck_assert_str_eq(render("<textarea>{{&x}}</textarea>", "{}",
	    PGSSE_MUSTACHE_RAW), "ERROR: t:1:11: \"x\" is written unescaped "
	    "in <textarea>: raw interpolation is for element text only");
}
END_TEST

START_TEST(mustache_contexts_refused)
{
	static const char *const urls[] = {
		"<a href=\"{{x}}\">", "<img src='{{x}}'>",
		"<form action=\"{{x}}\">", "<button formaction=\"{{x}}\">",
		"<img srcset=\"{{x}}\">", "<svg><a xlink:href=\"{{x}}\">",
		"<video poster=\"{{x}}\">", "<q cite=\"{{x}}\">",
		"<object data=\"{{x}}\">", "<div hx-get=\"{{x}}\">",
		"<div data-hx-post=\"{{x}}\">", "<a HREF=\"/a/{{x}}\">",
		"<div sse-connect=\"{{x}}\">",
	};
	static const char *const js[] = {
		"<div onclick=\"{{x}}\">", "<div hx-on:click=\"{{x}}\">",
		"<div hx-on::after-request=\"{{x}}\">",
		"<div hx-vals='{{x}}'>", "<div hx-headers='{{x}}'>",
		"<div hx-trigger=\"{{x}}\">", "<div x-data=\"{{x}}\">",
		"<div @click=\"{{x}}\">", "<div :class=\"{{x}}\">",
		"<div x-on:click=\"{{x}}\">",
	};
	static const char *const never[][2] = {
		{ "<{{x}}>", "a tag name" },
		{ "<div {{x}}>", "an attribute name" },
		{ "<div a{{x}}>", "an attribute name" },
		{ "<div class={{x}}>", "an unquoted attribute value" },
		{ "<div class=a{{x}}>", "an unquoted attribute value" },
		{ "<!-- {{x}} -->", "a comment" },
		{ "<!DOCTYPE {{x}}>", "a comment" },
		{ "<iframe srcdoc=\"{{x}}\">", "the attribute \"srcdoc\"" },
		{ "<div x-html=\"{{x}}\">", "the attribute \"x-html\"" },
		{ "<a :href=\"{{x}}\">", "the attribute \":href\"" },
		{ "<a x-bind:innerHTML=\"{{x}}\">",
		    "the attribute \"x-bind:innerhtml\"" },
		{ "</div title=\"{{x}}\">", "of an end tag" },
		{ "<style></{{x}}</style>", "an end tag in <style>" },
	};
	size_t	 i;
	char	 tpl[128];

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		refused(urls[i], "needs an escaper: declare it url or urlpart");
	for (i = 0; i < sizeof(js) / sizeof(js[0]); i++)
		refused(js[i], "needs an escaper: declare it json");
	refused("<div style=\"color: {{x}}\">", "in the style attribute "
	    "\"style\" needs an escaper: declare it css");
	refused("<style>p { color: {{x}} }</style>", "in <style> needs an "
	    "escaper: declare it css");
	refused("<script>var a = {{x}};</script>", "t:1:17: \"x\" in "
	    "<script> needs an escaper: declare it json");
	refused("<SCRIPT type=module>{{x}}</SCRIPT>", "in <script>");
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		refused(never[i][0], never[i][1]);
		refused(never[i][0], "no escaper makes a value safe there");
		/* Declared escapers do not help. */
		snprintf(tpl, sizeof(tpl), "%s", never[i][0]);
		*strstr(tpl, "{{x}}") = '\0';
		strncat(tpl, "{{j}}", sizeof(tpl) - strlen(tpl) - 1);
		refused(tpl, "no escaper makes a value safe there");
	}
	/* An escaper that does not suit the place. */
	refused("<a href=\"{{j}}\">", "declare it url or urlpart");
	refused("<a onclick=\"{{u}}\">", "declare it json");
	refused("<a style=\"{{u}}\">", "declare it css");
	refused("<script>{{c}}</script>", "declare it json");
	refused("<script><!-- x</script>", "\"<!--\" inside <script>");
	refused("<div", "the template ends in a tag name");
	refused("<div class=\"x", "the template ends in the attribute "
	    "\"class\"");
}
END_TEST

START_TEST(mustache_sections_no_way_around)
{
	refused("<a {{#x}}href{{/x}}=\"{{u}}\">", "t:1:14: a section or "
	    "partial tag in an attribute name: end the name before it");
	refused("<a hr{{#x}}ef{{/x}}>", "a section or partial tag in an "
	    "attribute name");
	refused("<di{{^x}}v{{/x}}>", "in a tag name");
	refused("<a href=\"{{#x}}\" title=\"{{/x}}\">", "section \"x\" "
	    "begins in the URL attribute \"href\" but ends in the attribute "
	    "\"title\"");
	refused("{{#x}}<a href=\"{{/x}}\">", "section \"x\" begins in "
	    "element text but ends in the URL attribute \"href\"");
	refused("{{#x}}<script>{{/x}}</script>", "ends in <script>");
	/* A partial is checked where it is included. */
	refused("<a href=\"{{>x}}\">", "x:1:1: \"x\" in the URL attribute "
	    "\"href\" needs an escaper");
	refused("<a {{>href}}>", "href:1:7: \"x\" in the URL attribute "
	    "\"href\" needs an escaper");
	refused("<a b{{>li}}>", "a section or partial tag in an attribute "
	    "name");
	refused("<a href {{#x}}=\"{{u}}\"{{/x}}>", "t:1:15: \"=\" right "
	    "after a section or partial tag between attributes");
	refused("<a {{#x}}href {{/x}}=\"{{u}}\">", "t:1:21: \"=\" right "
	    "after");
	/* What is fine. */
	ck_assert_str_eq(render("<input {{#c}}checked {{/c}}type=\"text\" "
	    "{{>attrs}}value=\"{{x}}\">", "{\"c\": true, \"x\": \"a b\"}", 0),
	    "<input checked type=\"text\" class=\"a b\" value=\"a b\">");
	ck_assert_str_eq(render("<a title=\"{{#l}}{{.}} {{/l}}\">",
	    "{\"l\": [1, 2]}", 0), "<a title=\"1 2 \">");
	ck_assert_str_eq(render("<textarea>{{x}}</textarea><title>{{x}}"
	    "</title><p class='{{x}}' data-x=\"{{x}}\" hx-target=\"{{x}}\">"
	    "{{! <a href=\" }}", "{\"x\": \"</textarea>\"}", 0),
	    "<textarea>&lt;&#x2F;textarea&gt;</textarea><title>&lt;&#x2F;"
	    "textarea&gt;</title><p class='&lt;&#x2F;textarea&gt;' data-x=\""
	    "&lt;&#x2F;textarea&gt;\" hx-target=\"&lt;&#x2F;textarea&gt;\">");
	ck_assert_str_eq(render("<div\n{{#a}}\nclass=\"x\"\n{{/a}}\n>{{y}}"
	    "</div>", "{\"a\": true, \"y\": 1}", 0),
	    "<div\nclass=\"x\"\n>1</div>");
}
END_TEST

START_TEST(mustache_escapers)
{
	ck_assert_str_eq(render("<a href=\"{{u}}\">{{u}}</a>",
	    "{\"u\": \"https://e.com/a b?q=1&r=<x>\"}", 0),
	    "<a href=\"https:&#x2F;&#x2F;e.com&#x2F;a%20b?q&#x3D;1&amp;r&#x3D;"
	    "%3Cx%3E\">https:&#x2F;&#x2F;e.com&#x2F;a b?q&#x3D;1&amp;r&#x3D;"
	    "&lt;x&gt;</a>");
	ck_assert_str_eq(render("<a href=\"{{u}}\">", "{\"u\": "
	    "\"javascript:alert(1)\"}", 0), "<a href=\"#\">");
	ck_assert_str_eq(render("<a href=\"{{u}}\">", "{\"u\": "
	    "\"JaVaScRiPt:alert(1)\"}", 0), "<a href=\"#\">");
	ck_assert_str_eq(render("<a href=\"{{u}}\">", "{\"u\": "
	    "\"data:text/html,x\"}", 0), "<a href=\"#\">");
	ck_assert_str_eq(render("<a href=\"{{u}}\">", "{\"u\": "
	    "\" javascript:x\"}", 0), "<a href=\"%20javascript:x\">");
	ck_assert_str_eq(render("<a href=\"{{u}}\">", "{\"u\": "
	    "\"java\\tscript:x\"}", 0), "<a href=\"java%09script:x\">");
	ck_assert_str_eq(render("<a href=\"{{u}}\">", "{\"u\": "
	    "\"HTTP://e.com/%41%zz\\u00e9\"}", 0),
	    "<a href=\"HTTP:&#x2F;&#x2F;e.com&#x2F;%41%25zz%C3%A9\">");
	ck_assert_str_eq(render("<a href=\"{{u}}\" src=\"{{u}}\">",
	    "{\"u\": {\"a\": 1}}", 0), "<a href=\"#\" src=\"#\">");
	ck_assert_str_eq(render("<a href=\"{{u}}\">", "{\"u\": 12}", 0),
	    "<a href=\"12\">");
	ck_assert_str_eq(render("<a href=\"/s?q={{p}}\">",
	    "{\"p\": \"a b&c/d=\\u00e9:'\"}", 0),
	    "<a href=\"/s?q=a%20b%26c%2Fd%3D%C3%A9%3A&#39;\">");
	ck_assert_str_eq(render("<div x-data=\"{{j}}\" hx-vals='{{j}}'>",
	    "{\"j\": {\"a\": \"</script>&'\\u2028\", \"b\": [1.5, null]}}",
	    0), "<div x-data=\"{&quot;a&quot;:&quot;\\u003c&#x2F;script"
	    "\\u003e\\u0026&#39;\\u2028&quot;,&quot;b&quot;:[1.5,null]}\" "
	    "hx-vals='{&quot;a&quot;:&quot;\\u003c&#x2F;script\\u003e"
	    "\\u0026&#39;\\u2028&quot;,&quot;b&quot;:[1.5,null]}'>");
	ck_assert_str_eq(render("<script>var a = {{j}}, b = {{none}};</script>",
	    "{\"j\": \"</script><!--\\n\"}", 0),
	    "<script>var a = \"\\u003c/script\\u003e\\u003c!--\\n\", "
	    "b = null;</script>");
	ck_assert_str_eq(render("<p style=\"width: {{c}}\">", "{\"c\": "
	    "\"12.5%\"}", 0), "<p style=\"width: 12.5%\">");
	ck_assert_str_eq(render("<p style=\"color: {{c}}\">", "{\"c\": "
	    "\"red; background: url(x)\"}", 0), "<p style=\"color: \">");
	ck_assert_str_eq(render("<style>p { color: {{c}} }</style>",
	    "{\"c\": \"#fff\"}", 0), "<style>p { color: #fff }</style>");
	/* The context check off, as the differential test runs. */
	ck_assert_str_eq(render("<a href=\"{{x}}\">", "{\"x\": \"javascript:"
	    "x\"}", PGSSE_MUSTACHE_NOCHECK), "<a href=\"javascript:x\">");
}
END_TEST

START_TEST(mustache_depth)
{
	char	 tpl[1024], data[2048];
	size_t	 i;

	tpl[0] = '\0';
	for (i = 0; i <= PGSSE_MUSTACHE_DEPTH_MAX; i++)
		strcat(tpl, "{{#a}}");
	ck_assert_str_eq(render(tpl, "{}", 0), "ERROR: t:1:193: sections "
	    "nested deeper than 32");
	/* A partial that includes itself: the render stops at the limit. */
	ck_assert_str_eq(render("{{>self}}", "{}", 0), "LIMIT");
	/* One whose indentation grows at each level. */
	ck_assert_str_eq(render("{{>tree}}", "{\"k\": true}", 0), "LIMIT");
	ck_assert_str_eq(render("{{>tree}}", "{\"k\": false}", 0), "");
	/* Data that nests as deep as the limit allows, and deeper. */
	strcpy(data, "{\"k\": []}");
	for (i = 1; i < PGSSE_MUSTACHE_DEPTH_MAX / 2; i++) {
		memmove(data + 7, data, strlen(data) + 1);
		memcpy(data, "{\"k\": [", 7);
		strcat(data, "]}");
	}
	ck_assert_str_eq(render("{{>deep}}", data, 0),
	    "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]");
	memmove(data + 7, data, strlen(data) + 1);
	memcpy(data, "{\"k\": [", 7);
	strcat(data, "]}");
	ck_assert_str_eq(render("{{>deep}}", data, 0), "LIMIT");
}
END_TEST

START_TEST(mustache_limits)
{
	struct pgsse_mustache	*t;
	struct pgsse_buf	 b = { NULL, 0, 0 };
	struct json_object	*o, *l;
	char			*big, err[256];
	size_t			 i;

	big = malloc(PGSSE_MUSTACHE_TEMPLATE_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', PGSSE_MUSTACHE_TEMPLATE_MAX + 1);
	ck_assert_ptr_null(pgsse_mustache_parse("big", big,
	    PGSSE_MUSTACHE_TEMPLATE_MAX + 1, NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "big:1:1: templates and partials over 1048576 "
	    "bytes");
	t = pgsse_mustache_parse("big", big, PGSSE_MUSTACHE_TEMPLATE_MAX,
	    NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(t);
	pgsse_mustache_free(t);
	free(big);

	/* Output: 1000 times 10,000 bytes is past 8 MiB. */
	o = json_object_new_object();
	l = json_object_new_array();
	for (i = 0; i < 1000; i++)
		json_object_array_add(l, json_object_new_int((int)i));
	json_object_object_add(o, "l", l);
	big = calloc(10001, 1);
	memset(big, 'y', 10000);
	json_object_object_add(o, "s", json_object_new_string(big));
	free(big);
	t = pgsse_mustache_parse("t", "{{#l}}{{s}}{{/l}}", 17, NULL, err,
	    sizeof(err));
	ck_assert_ptr_nonnull(t);
	pgsse_buf_put(&b, "kept", 4);
	ck_assert_int_eq(pgsse_mustache_render(t, o, &b), PGSSE_ERR_LIMIT);
	ck_assert_str_eq(b.p, "kept");
	pgsse_mustache_free(t);

	/* Work: 1000^3 visits write nothing, and stop at the limit. */
	t = pgsse_mustache_parse("t", "{{#l}}{{#l}}{{#l}}{{/l}}{{/l}}{{/l}}",
	    36, NULL, err, sizeof(err));
	ck_assert_int_eq(pgsse_mustache_render(t, o, &b), PGSSE_ERR_LIMIT);
	pgsse_mustache_free(t);
	pgsse_buf_free(&b);
	json_object_put(o);
	pgsse_mustache_free(NULL);
}
END_TEST

struct job {
	const struct pgsse_mustache	*t;
	struct json_object		*o;
	const char			*want;
	int				 bad;
};

static void *
renderer(void *arg)
{
	struct job		*j = arg;
	struct pgsse_buf	 b = { NULL, 0, 0 };
	int			 i;

	for (i = 0; i < RENDERS; i++) {
		pgsse_buf_reset(&b);
		if (pgsse_mustache_render(j->t, j->o, &b) != PGSSE_OK ||
		    strcmp(b.p, j->want) != 0)
			j->bad++;
	}
	pgsse_buf_free(&b);
	return NULL;
}

START_TEST(mustache_threads)
{
	static const char tpl[] = "<ul>{{#rows}}<li id=\"r-{{id}}\" "
	    "x-data=\"{{j}}\"><a href=\"{{u}}\">{{name}}</a>{{>li}}</li>"
	    "{{/rows}}</ul>";
	struct pgsse_mustache	*t;
	struct pgsse_buf	 b = { NULL, 0, 0 };
	struct job		 j[THREADS];
	pthread_t		 th[THREADS];
	char			 err[256];
	int			 i;
	struct json_object	*o = json_tokener_parse("{\"rows\": ["
	    "{\"id\": 1, \"name\": \"<a>\", \"u\": \"/x\", \"j\": [1], "
	    "\"x\": \"y\"}, {\"id\": 2.5, \"name\": \"b\", \"u\": "
	    "\"javascript:x\", \"j\": {\"k\": \"'\"}}]}");

	t = parse(tpl, 0, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	ck_assert_int_eq(pgsse_mustache_render(t, o, &b), PGSSE_OK);
	ck_assert_str_eq(b.p, "<ul><li id=\"r-1\" x-data=\"[1]\"><a href=\""
	    "&#x2F;x\">&lt;a&gt;</a><li>y</li></li><li id=\"r-2.5\" "
	    "x-data=\"{&quot;k&quot;:&quot;&#39;&quot;}\"><a href=\"#\">b</a>"
	    "<li></li></li></ul>");
	for (i = 0; i < THREADS; i++) {
		j[i].t = t;
		j[i].o = o;
		j[i].want = b.p;
		j[i].bad = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, renderer, &j[i]),
		    0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(j[i].bad, 0);
	}
	pgsse_buf_free(&b);
	pgsse_mustache_free(t);
	json_object_put(o);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("mustache");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, mustache_render_basics);
	tcase_add_test(tc, mustache_parse_errors);
	tcase_add_test(tc, mustache_escapers);
	tcase_add_test(tc, mustache_threads);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, mustache_depth);
	tcase_add_test(tc, mustache_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, mustache_raw_refused);
	tcase_add_test(tc, mustache_contexts_refused);
	tcase_add_test(tc, mustache_sections_no_way_around);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
