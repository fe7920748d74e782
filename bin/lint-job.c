/*
 * lint-job.c: an app folder's jobs, for pgsse-lint --app.
 *
 * Kinds. Every kind that DIR/schema.sql inserts into pgsse.job_kinds,
 * and every kind that DIR/app.json or DIR/sql/ enqueues with a literal
 * (pgsse.web_enqueue('kind', ...)), has an executable script
 * DIR/jobs/<kind>; every script there has a kind; and a kind enqueued
 * is one that schema.sql inserts.
 *
 * Payloads. What a job script publishes with literals must be what the
 * registry documents, as pgsse.publish() would check it at run time:
 *   pgsse-publish [-s KEY=TEXT]... [-n KEY=NUMBER]... CHANNEL EVENT [JSON]
 * (read as the shell would split it; a value with $ or ` in it is
 * unknown but for its option's type) and
 *   pgsse.publish('CHANNEL', 'EVENT', '{JSON}')
 * in any SQL. Each field must be documented and of its type, and when
 * the whole payload is literal, every documented field must be there.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pgsse.h"
#include "extern.h"
#include "registry.h"
#include "lint.h"

/* Words of one pgsse-publish(1) command that are read. */
#define LINT_JOB_WORDS_MAX 64
/* Bytes of one shell word that are kept. */
#define LINT_JOB_WORD_MAX 1024
/* Fields of one payload that are checked. */
#define LINT_JOB_FIELDS_MAX 64
/* Job kinds and enqueues of a folder that are checked. */
#define LINT_JOB_KINDS_MAX 256

/* What a payload gives a field. */
enum kind {
	KIND_STRING,
	KIND_INTEGER,
	KIND_NUMBER,		/* a number that is not an integer */
	KIND_SOME_NUMBER,	/* a number not known until run time */
	KIND_BOOLEAN,
	KIND_OBJECT,
	KIND_ARRAY,
	KIND_NULL,
	KIND__MAX
};

static const char *const kinds[KIND__MAX] = { "string", "integer",
    "number", "number", "boolean", "object", "array", "null" };

struct field {
	char		 name[PGSSE_EVENT_MAX + 1];
	enum kind	 kind;
};

struct payload {
	struct field	 f[LINT_JOB_FIELDS_MAX];
	size_t		 n;
	int		 partial;	/* some fields are not literal */
};

struct word {
	char	 z[LINT_JOB_WORD_MAX];
	int	 var;			/* holds an expansion */
};

struct kindref {
	char	 kind[64];
	char	 file[PATH_MAX];
	int	 line;
};

struct kindlist {
	struct kindref	 v[LINT_JOB_KINDS_MAX];
	size_t		 n;
};

/* Returns 1 if a field of type t (the registry's) may take kind k. */
static int
kind_fits(const char *t, enum kind k)
{
	if (strcmp(t, "integer") == 0)
		return k == KIND_INTEGER || k == KIND_SOME_NUMBER;
	if (strcmp(t, "number") == 0)
		return k == KIND_INTEGER || k == KIND_NUMBER ||
		    k == KIND_SOME_NUMBER;
	return strcmp(t, kinds[k]) == 0;
}

/*
 * Adds field name (len bytes) of kind k to p; if p has one of that
 * name, replaces it if replace, else leaves it.
 */
static void
payload_add(struct payload *p, const char *name, size_t len, enum kind k,
    int replace)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (strlen(p->f[i].name) == len &&
		    strncmp(p->f[i].name, name, len) == 0)
			break;
	if (i == LINT_JOB_FIELDS_MAX || (i < p->n && !replace))
		return;
	snprintf(p->f[i].name, sizeof(p->f[0].name), "%.*s", (int)len, name);
	p->f[i].kind = k;
	if (i == p->n)
		p->n++;
}

/* Adds the members of the JSON object o to p, but those p has. */
static void
payload_json(struct payload *p, struct json_object *o)
{
	enum kind	 k;

	json_object_object_foreach(o, key, v) {
		switch (json_object_get_type(v)) {
		case json_type_string:
			k = KIND_STRING;
			break;
		case json_type_int:
			k = KIND_INTEGER;
			break;
		case json_type_double:
			k = json_object_get_double(v) ==
			    (double)(long long)json_object_get_double(v) ?
			    KIND_INTEGER : KIND_NUMBER;
			break;
		case json_type_boolean:
			k = KIND_BOOLEAN;
			break;
		case json_type_object:
			k = KIND_OBJECT;
			break;
		case json_type_array:
			k = KIND_ARRAY;
			break;
		default:
			k = KIND_NULL;
			break;
		}
		payload_add(p, key, strlen(key), k, 0);
	}
}

/*
 * Parses z as a JSON object (also with \" read as ", as it is written
 * inside a shell's double quotes). Returns it, which the caller puts,
 * or NULL.
 */
static struct json_object *
json_literal(const char *z)
{
	struct json_object	*o;
	char			*u, *w;
	const char		*r;

	if ((o = json_tokener_parse(z)) == NULL && (u = strdup(z)) != NULL) {
		for (r = z, w = u; *r != '\0'; r++)
			if (r[0] != '\\' || r[1] != '"')
				*w++ = *r;
		*w = '\0';
		o = json_tokener_parse(u);
		free(u);
	}
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/*
 * Checks payload p of event ev on channel ch at file:line against the
 * registry; unknown channels and events too if known is 0 (else they
 * are another check's).
 */
static void
check_payload(const char *file, int line, const char *ch, const char *ev,
    const struct payload *p, int known)
{
	const struct pgsse_channel	*c;
	const struct pgsse_event_def	*e;
	size_t				 i, j;

	if ((c = pgsse_registry_channel(lint_reg, ch)) == NULL) {
		if (!known)
			lint_fail(file, line, "publishes on unknown channel "
			    "\"%s\"", ch);
		return;
	}
	if ((e = pgsse_registry_event(c, ev)) == NULL) {
		if (!known)
			lint_fail(file, line, "publishes undocumented event "
			    "\"%s\" on channel \"%s\"", ev, ch);
		return;
	}
	for (i = 0; i < p->n; i++) {
		for (j = 0; j < e->nfields; j++)
			if (strcmp(e->fields[j].name, p->f[i].name) == 0)
				break;
		if (j == e->nfields)
			lint_fail(file, line, "publishes field \"%s\", which "
			    "%s.%s does not document", p->f[i].name, ch, ev);
		else if (!kind_fits(e->fields[j].type, p->f[i].kind))
			lint_fail(file, line, "field \"%s\" of %s.%s is %s, "
			    "not %s", p->f[i].name, ch, ev, e->fields[j].type,
			    kinds[p->f[i].kind]);
	}
	for (j = 0; j < e->nfields && !p->partial; j++) {
		for (i = 0; i < p->n; i++)
			if (strcmp(e->fields[j].name, p->f[i].name) == 0)
				break;
		if (i == p->n)
			lint_fail(file, line, "publishes %s.%s without its "
			    "field \"%s\"", ch, ev, e->fields[j].name);
	}
}

/* Appends c to w, as far as it holds. */
static void
word_put(struct word *w, char c)
{
	size_t	 n = strlen(w->z);

	if (n + 1 < sizeof(w->z)) {
		w->z[n] = c;
		w->z[n + 1] = '\0';
	}
}

/*
 * Splits the shell command at p into words, as far as its end (a
 * newline, ; | & ( ) < > or a comment), into w (at most max). A number
 * just before < or > is a redirection's, not a word. Returns how many.
 */
static size_t
shell_words(const char *p, struct word *w, size_t max)
{
	size_t	 n = 0;
	int	 in = 0;
	char	 q = 0;

	for (; *p != '\0' && n < max; p++) {
		if (!in && q == 0)
			memset(&w[n], 0, sizeof(w[n]));
		if (q != 0) {
			if (*p == q)
				q = 0;
			else if (q == '"' && p[0] == '\\' && p[1] != '\0' &&
			    strchr("\"\\$`", p[1]) != NULL)
				word_put(&w[n], *++p);
			else {
				w[n].var |= q == '"' && strchr("$`", *p);
				word_put(&w[n], *p);
			}
			continue;
		}
		if (p[0] == '\\' && p[1] == '\n') {
			p++;
			continue;
		}
		if (strchr("\n;|&()<>`", *p) != NULL || (*p == '#' && !in)) {
			if (in && strchr("<>", *p) != NULL &&
			    strspn(w[n].z, "0123456789") == strlen(w[n].z))
				in = 0;
			break;
		}
		if (*p == ' ' || *p == '\t') {
			n += in;
			in = 0;
			continue;
		}
		in = 1;
		if (*p == '\'' || *p == '"')
			q = *p;
		else if (p[0] == '\\' && p[1] != '\0')
			word_put(&w[n], *++p);
		else {
			w[n].var |= *p == '$';
			word_put(&w[n], *p);
		}
	}
	return n + (in && n < max);
}

/* Adds -s or -n's KEY=VALUE in w to p. */
static void
option_field(struct payload *p, const struct word *w, const char *arg,
    int number)
{
	const char	*eq = strchr(arg, '=');
	char		*end;
	double		 d;
	enum kind	 k = KIND_STRING;

	if (eq == NULL || eq == arg)
		return;
	if (number && w->var)
		k = KIND_SOME_NUMBER;
	else if (number) {
		d = strtod(eq + 1, &end);
		if (eq[1] == '\0' || *end != '\0')
			return;
		k = d == (double)(long long)d ? KIND_INTEGER : KIND_NUMBER;
	}
	payload_add(p, arg, (size_t)(eq - arg), k, 1);
}

/*
 * Checks the pgsse-publish(1) command whose arguments start at args, in
 * text of file. Words it cannot read as a publish are left alone.
 */
static void
check_command(const char *file, const char *text, const char *args)
{
	struct word		*w;
	struct payload		 p;
	struct json_object	*o;
	size_t			 n, i, pos[3], np = 0;
	int			 dashes = 0, number;

	if ((w = calloc(LINT_JOB_WORDS_MAX, sizeof(*w))) == NULL)
		abort();
	memset(&p, 0, sizeof(p));
	n = shell_words(args, w, LINT_JOB_WORDS_MAX);
	for (i = 0; i < n; i++) {
		if (!dashes && strcmp(w[i].z, "--") == 0)
			dashes = 1;
		else if (!dashes && (strncmp(w[i].z, "-s", 2) == 0 ||
		    strncmp(w[i].z, "-n", 2) == 0)) {
			number = w[i].z[1] == 'n';
			if (w[i].z[2] != '\0')
				option_field(&p, &w[i], w[i].z + 2, number);
			else if (++i < n)
				option_field(&p, &w[i], w[i].z, number);
		} else if (!dashes && w[i].z[0] == '-')
			goto out;
		else if (np < 3)
			pos[np++] = i;
		else
			goto out;
	}
	if (np < 2 || w[pos[0]].var || w[pos[1]].var)
		goto out;
	if (np == 3 && (w[pos[2]].var || (o = json_literal(w[pos[2]].z)) ==
	    NULL))
		p.partial = 1;
	else if (np == 3) {
		payload_json(&p, o);
		json_object_put(o);
	}
	check_payload(file, lint_line_of(text, args), w[pos[0]].z,
	    w[pos[1]].z, &p, 0);
out:
	free(w);
}

/* Returns 1 if "pgsse-publish" at at (in text) is a command's name. */
static int
command_at(const char *text, const char *at)
{
	const char	*bol = at, *end = at + strlen("pgsse-publish");

	while (bol > text && bol[-1] != '\n')
		bol--;
	bol += strspn(bol, " \t");
	if (*bol == '#')
		return 0;
	return (at == text || strchr(" \t\n;|&(`/\"'", at[-1]) != NULL) &&
	    (*end == '\0' || strchr(" \t\\\"'", *end) != NULL);
}

/* Checks every pgsse-publish(1) command in the shell script text of file. */
static void
check_commands(const char *file, const char *text)
{
	const char	*p = text, *args;

	while ((p = strstr(p, "pgsse-publish")) != NULL) {
		args = p + strlen("pgsse-publish");
		if (command_at(text, p))
			check_command(file, text, args + (*args == '"' ||
			    *args == '\''));
		p = args;
	}
}

/*
 * Reads the SQL string literal at p (after blanks) into a new string
 * that the caller frees, in *out. Returns the position after it, or
 * NULL if there is none.
 */
static const char *
sql_literal(const char *p, char **out)
{
	const char	*q;
	char		*w;

	p += strspn(p, " \t\r\n");
	if (*p != '\'' || (*out = w = calloc(1, strlen(p))) == NULL)
		return NULL;
	for (q = p + 1; *q != '\0'; q++) {
		if (q[0] == '\'' && q[1] == '\'')
			*w++ = *q++;
		else if (*q == '\'')
			return q + 1;
		else
			*w++ = *q;
	}
	free(*out);
	*out = NULL;
	return NULL;
}

/* Checks each pgsse.publish() whose three arguments are literals in text. */
static void
check_sql(const char *file, const char *text)
{
	struct payload		 p;
	struct json_object	*o;
	const char		*at = text, *q;
	char			*v[3];
	size_t			 n;

	while ((at = strstr(at, "pgsse.publish(")) != NULL) {
		at += strlen("pgsse.publish(");
		memset(v, 0, sizeof(v));
		for (q = at, n = 0; n < 3 && (q = sql_literal(q, &v[n])) !=
		    NULL; n++)
			if (n < 2 && *(q += strspn(q, " \t\r\n")) == ',')
				q++;
			else if (n < 2)
				break;
		memset(&p, 0, sizeof(p));
		if (n == 3 && (o = json_literal(v[2])) != NULL) {
			payload_json(&p, o);
			json_object_put(o);
			check_payload(file, lint_line_of(text, at), v[0], v[1],
			    &p, 1);
		}
		for (n = 0; n < 3; n++)
			free(v[n]);
	}
}

/*
 * Checks what the text of file publishes with literals: pgsse.publish()
 * calls, and if shell, pgsse-publish commands.
 */
void
lint_job_publish(const char *file, const char *text, int shell)
{
	check_sql(file, text);
	if (shell)
		check_commands(file, text);
}

/* Returns 1 if l holds kind z. */
static int
kind_has(const struct kindlist *l, const char *z)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].kind, z) == 0)
			return 1;
	return 0;
}

/* Adds kind z, seen at file:line, to l, as far as it holds. */
static void
kind_add(struct kindlist *l, const char *z, const char *file, int line)
{
	if (l->n == LINT_JOB_KINDS_MAX)
		return;
	snprintf(l->v[l->n].kind, sizeof(l->v[0].kind), "%s", z);
	snprintf(l->v[l->n].file, sizeof(l->v[0].file), "%s", file);
	l->v[l->n++].line = line;
}

/* Returns the position of the , or ) that ends the SQL value at p. */
static const char *
sql_skip_value(const char *p)
{
	int	 depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '\'') {
			while (*++p != '\0' && (*p != '\'' || p[1] == '\''))
				p += *p == '\'';
			if (*p == '\0')
				break;
		} else if (*p == '(')
			depth++;
		else if (*p == ')' && depth-- == 0)
			break;
		else if (*p == ',' && depth == 0)
			break;
	}
	return p;
}

/*
 * Returns the index of column "kind" in the column list cols (len
 * bytes), or -1.
 */
static int
kind_column(const char *cols, size_t len)
{
	size_t	 n;
	int	 i;

	for (i = 0; len > 0; i++) {
		n = strspn(cols, " \t\r\n");
		cols += n;
		len -= n;
		n = strcspn(cols, " \t\r\n,");
		if (n > len)
			n = len;
		if (n == 4 && strncmp(cols, "kind", 4) == 0)
			return i;
		cols += n;
		len -= n;
		n = strcspn(cols, ",");
		if (n >= len)
			break;
		cols += n + 1;
		len -= n + 1;
	}
	return -1;
}

/*
 * Adds the kinds of the rows of VALUES at p (in text of file), column
 * col of each, to l. Returns the position after the rows.
 */
static const char *
insert_rows(const char *file, const char *text, const char *p, int col,
    struct kindlist *l)
{
	char	*z;
	int	 i;

	while (*(p += strspn(p, " \t\r\n")) == '(') {
		for (p++, i = 0; *p != '\0' && *p != ')'; i++) {
			p += strspn(p, " \t\r\n");
			if (i == col && sql_literal(p, &z) != NULL) {
				kind_add(l, z, file, lint_line_of(text, p));
				free(z);
			}
			if (*(p = sql_skip_value(p)) == ',')
				p++;
		}
		if (*p == ')')
			p++;
		if (*(p += strspn(p, " \t\r\n")) != ',')
			break;
		p++;
	}
	return p;
}

/* Adds the kinds that text (of file) inserts into pgsse.job_kinds to l. */
static void
schema_kinds(const char *file, const char *text, struct kindlist *l)
{
	regex_t		 re;
	regmatch_t	 m[3];
	const char	*p = text;
	int		 col;

	if (regcomp(&re, "insert[[:space:]]+into[[:space:]]+pgsse\\.job_kinds"
	    "[[:space:]]*(\\(([^)]*)\\))?[[:space:]]*values",
	    REG_EXTENDED | REG_ICASE) != 0)
		abort();
	while (regexec(&re, p, 3, m, p == text ? 0 : REG_NOTBOL) == 0) {
		col = m[2].rm_so < 0 ? 0 : kind_column(p + m[2].rm_so,
		    (size_t)(m[2].rm_eo - m[2].rm_so));
		p = insert_rows(file, text, p + m[0].rm_eo, col, l);
	}
	regfree(&re);
}

/* What on_enqueue and on_script use. */
static struct kindlist	*schema, *enqueued;
static int		 have_schema;

static void
on_enqueue(const char *file, int line, char g[][128], size_t n)
{
	(void)n;
	kind_add(enqueued, g[0], file, line);
}

/* Adds the kinds the SQL of the file at path enqueues to enqueued. */
static void
enqueues(const char *path)
{
	char	*text;

	if ((text = lint_slurp(path)) == NULL)
		return;
	lint_each_match(path, text, "enqueue\\([ ]*'([a-z][a-z0-9_]*)'",
	    on_enqueue);
	free(text);
}

/* Checks a job script: it has a kind, and it can run. */
static void
on_script(const char *path)
{
	const char	*base = strrchr(path, '/') + 1;
	struct stat	 st;

	if (!kind_has(schema, base) && !kind_has(enqueued, base))
		lint_fail(path, 1, "job script of no kind: schema.sql inserts "
		    "no job kind \"%s\" into pgsse.job_kinds, and nothing "
		    "enqueues it", base);
	if (stat(path, &st) == 0 && (st.st_mode & 0111) == 0)
		lint_fail(path, 1, "job script is not executable");
}

/* Returns 1 if DIR/jobs/kind is a file. */
static int
has_script(const char *dir, const char *kind)
{
	struct stat	 st;
	char		 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/jobs/%s", dir, kind);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Checks that the kinds of schema.sql and of enqueues have scripts. */
static void
check_kinds(const char *dir)
{
	const struct kindref	*k;
	size_t			 i;

	for (i = 0; i < schema->n; i++) {
		k = &schema->v[i];
		if (!has_script(dir, k->kind))
			lint_fail(k->file, k->line, "job kind \"%s\" has no "
			    "script jobs/%s", k->kind, k->kind);
	}
	for (i = 0; i < enqueued->n; i++) {
		k = &enqueued->v[i];
		if (have_schema && !kind_has(schema, k->kind))
			lint_fail(k->file, k->line, "enqueues job kind \"%s\", "
			    "which schema.sql does not insert into "
			    "pgsse.job_kinds", k->kind);
		else if (!kind_has(schema, k->kind) &&
		    !has_script(dir, k->kind))
			lint_fail(k->file, k->line, "enqueues job kind \"%s\", "
			    "which has no script jobs/%s", k->kind, k->kind);
	}
}

/*
 * Checks the job kinds of the app folder dir against its scripts in
 * DIR/jobs/.
 */
void
lint_job_kinds(const char *dir)
{
	char	 path[PATH_MAX], *text;

	if ((schema = calloc(1, sizeof(*schema))) == NULL ||
	    (enqueued = calloc(1, sizeof(*enqueued))) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/schema.sql", dir);
	if ((text = lint_slurp(path)) != NULL) {
		have_schema = 1;
		schema_kinds(path, text, schema);
		free(text);
		enqueues(path);
	}
	snprintf(path, sizeof(path), "%s/app.json", dir);
	enqueues(path);
	snprintf(path, sizeof(path), "%s/sql", dir);
	lint_walk(path, 0, enqueues);
	check_kinds(dir);
	snprintf(path, sizeof(path), "%s/jobs", dir);
	lint_walk(path, 0, on_script);
	free(schema);
	free(enqueued);
	schema = enqueued = NULL;
	have_schema = 0;
}
