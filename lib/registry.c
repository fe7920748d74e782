/*
 * registry.c: the channels and event names that may be streamed.
 *
 * One JSON document (sql/registry.json) is the source of truth. The tools
 * read it from the file; stream processes read the same shape back from
 * the pgsse tables, so both go through registry_parse.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"
#include "registry.h"

/* Largest registry document we accept. */
#define REGISTRY_MAX (1024 * 1024)

static const char *const field_types[] = {
	"string", "number", "integer", "boolean", "object", "array", NULL
};

static const char *const registry_sql =
"select json_build_object('channels', coalesce(json_agg(json_build_object("
" 'name', c.name, 'description', c.description, 'private', c.private,"
" 'readers', to_json(c.readers), 'events', (select coalesce(json_agg("
"  json_build_object('name', e.name, 'description', e.description,"
"  'fields', (select coalesce(json_object_agg(f.field, f.type order by f.ord),"
"   '{}') from pgsse.event_fields f where f.channel = e.channel"
"   and f.event = e.name)) order by e.name), '[]')"
"  from pgsse.events e where e.channel = c.name)) order by c.name), '[]'))"
" from pgsse.channels c";

static char *
str_dup(struct json_object *o, const char *key, struct pgsse_buf *err)
{
	struct json_object	*v;
	char			*z;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		pgsse_buf_printf(err, "missing string \"%s\"", key);
		return NULL;
	}
	if ((z = strdup(json_object_get_string(v))) == NULL)
		pgsse_buf_puts(err, "out of memory");
	return z;
}

static int
type_ok(const char *z)
{
	size_t	 i;

	for (i = 0; field_types[i] != NULL; i++)
		if (strcmp(z, field_types[i]) == 0)
			return 1;
	return 0;
}

static int
parse_event(struct pgsse_event_def *ev, struct json_object *o,
    struct pgsse_buf *err)
{
	struct json_object	*fields;
	size_t			 n;

	if ((ev->name = str_dup(o, "name", err)) == NULL ||
	    (ev->description = str_dup(o, "description", err)) == NULL)
		return -1;
	if (!pgsse_name_event_ok(ev->name)) {
		pgsse_buf_printf(err, "bad event name \"%s\"", ev->name);
		return -1;
	}
	if (!json_object_object_get_ex(o, "fields", &fields))
		return 0;
	if (!json_object_is_type(fields, json_type_object)) {
		pgsse_buf_printf(err, "fields of \"%s\" must be an object",
		    ev->name);
		return -1;
	}
	n = (size_t)json_object_object_length(fields);
	if ((ev->fields = calloc(n + 1, sizeof(*ev->fields))) == NULL)
		return -1;
	json_object_object_foreach(fields, key, val) {
		struct pgsse_field *f = &ev->fields[ev->nfields];
		if (!pgsse_name_event_ok(key) ||
		    !json_object_is_type(val, json_type_string) ||
		    !type_ok(json_object_get_string(val))) {
			pgsse_buf_printf(err, "bad field \"%s\" in \"%s\"",
			    key, ev->name);
			return -1;
		}
		if ((f->name = strdup(key)) == NULL ||
		    (f->type = strdup(json_object_get_string(val))) == NULL)
			return -1;
		ev->nfields++;
	}
	return 0;
}

static int
parse_channel(struct pgsse_channel *ch, struct json_object *o,
    struct pgsse_buf *err)
{
	struct json_object	*v;
	size_t			 i, n;

	if ((ch->name = str_dup(o, "name", err)) == NULL ||
	    (ch->description = str_dup(o, "description", err)) == NULL)
		return -1;
	if (!pgsse_name_channel_ok(ch->name) ||
	    strcmp(ch->name, PGSSE_DOORBELL) == 0) {
		pgsse_buf_printf(err, "bad channel name \"%s\"", ch->name);
		return -1;
	}
	if (json_object_object_get_ex(o, "private", &v))
		ch->private = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "readers", &v) &&
	    json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		if ((ch->readers = calloc(n + 1, sizeof(char *))) == NULL)
			return -1;
		for (i = 0; i < n; i++) {
			const char *z = json_object_get_string(
			    json_object_array_get_idx(v, i));
			if (z == NULL || (ch->readers[i] = strdup(z)) == NULL)
				return -1;
			ch->nreaders++;
		}
	}
	if (!json_object_object_get_ex(o, "events", &v) ||
	    !json_object_is_type(v, json_type_array)) {
		pgsse_buf_printf(err, "channel \"%s\" has no events", ch->name);
		return -1;
	}
	n = json_object_array_length(v);
	if ((ch->events = calloc(n + 1, sizeof(*ch->events))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (parse_event(&ch->events[i],
		    json_object_array_get_idx(v, i), err) == -1)
			return -1;
		ch->nevents++;
	}
	return 0;
}

/*
 * Parses a registry document. On error returns NULL and, unless memory
 * ran out, says why in err. The caller frees the result with
 * pgsse_registry_free.
 */
struct pgsse_registry *
pgsse_registry_parse(const char *text, struct pgsse_buf *err)
{
	struct pgsse_registry	*reg = NULL;
	struct json_object	*doc = NULL, *chans;
	size_t			 i, j, n;

	if (strlen(text) > REGISTRY_MAX) {
		pgsse_buf_puts(err, "registry too large");
		goto fail;
	}
	if ((doc = json_tokener_parse(text)) == NULL) {
		pgsse_buf_puts(err, "registry is not valid JSON");
		goto fail;
	}
	if (!json_object_object_get_ex(doc, "channels", &chans) ||
	    !json_object_is_type(chans, json_type_array)) {
		pgsse_buf_puts(err, "\"channels\" must be an array");
		goto fail;
	}
	if ((reg = calloc(1, sizeof(*reg))) == NULL)
		goto fail;
	n = json_object_array_length(chans);
	if ((reg->channels = calloc(n + 1, sizeof(*reg->channels))) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		if (parse_channel(&reg->channels[i],
		    json_object_array_get_idx(chans, i), err) == -1)
			goto fail;
		reg->n++;
		for (j = 0; j < i; j++)
			if (strcmp(reg->channels[j].name,
			    reg->channels[i].name) == 0) {
				pgsse_buf_printf(err, "duplicate channel "
				    "\"%s\"", reg->channels[i].name);
				goto fail;
			}
	}
	json_object_put(doc);
	return reg;
fail:
	json_object_put(doc);
	pgsse_registry_free(reg);
	return NULL;
}

/*
 * Reads the registry from the pgsse tables over conn. Returns NULL on
 * error, with the reason in err. The caller frees the result.
 */
struct pgsse_registry *
pgsse_registry_load(PGconn *conn, struct pgsse_buf *err)
{
	PGresult		*res;
	struct pgsse_registry	*reg = NULL;

	res = PQexecParams(conn, registry_sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		pgsse_buf_printf(err, "loading registry: %s",
		    PQerrorMessage(conn));
	else
		reg = pgsse_registry_parse(PQgetvalue(res, 0, 0), err);
	PQclear(res);
	return reg;
}

/* Returns the channel named z, or NULL. The registry owns it. */
const struct pgsse_channel *
pgsse_registry_channel(const struct pgsse_registry *reg, const char *z)
{
	size_t	 i;

	for (i = 0; reg != NULL && i < reg->n; i++)
		if (strcmp(reg->channels[i].name, z) == 0)
			return &reg->channels[i];
	return NULL;
}

/* Returns the event named z on ch, or NULL. The registry owns it. */
const struct pgsse_event_def *
pgsse_registry_event(const struct pgsse_channel *ch, const char *z)
{
	size_t	 i;

	for (i = 0; ch != NULL && i < ch->nevents; i++)
		if (strcmp(ch->events[i].name, z) == 0)
			return &ch->events[i];
	return NULL;
}

/*
 * Returns 1 if user (REMOTE_USER, or NULL when unauthenticated) may read
 * ch: public channels are open to all, private ones to their readers.
 */
int
pgsse_registry_may_read(const struct pgsse_channel *ch, const char *user)
{
	size_t	 i;

	if (!ch->private)
		return 1;
	if (user == NULL || *user == '\0')
		return 0;
	for (i = 0; i < ch->nreaders; i++)
		if (strcmp(ch->readers[i], user) == 0)
			return 1;
	return 0;
}

static void
event_free(struct pgsse_event_def *ev)
{
	size_t	 i;

	free(ev->name);
	free(ev->description);
	for (i = 0; i < ev->nfields + (ev->fields != NULL); i++) {
		free(ev->fields[i].name);
		free(ev->fields[i].type);
	}
	free(ev->fields);
}

/* Frees a registry. Accepts NULL. */
void
pgsse_registry_free(struct pgsse_registry *reg)
{
	struct pgsse_channel	*ch;
	size_t			 i, j;

	if (reg == NULL)
		return;
	for (i = 0; i < reg->n + (reg->channels != NULL); i++) {
		ch = &reg->channels[i];
		free(ch->name);
		free(ch->description);
		for (j = 0; j < ch->nreaders; j++)
			free(ch->readers[j]);
		free(ch->readers);
		for (j = 0; j < ch->nevents + (ch->events != NULL); j++)
			event_free(&ch->events[j]);
		free(ch->events);
	}
	free(reg->channels);
	free(reg);
}
