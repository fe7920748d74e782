/*
 * registry.c: the channels and event names that may be streamed.
 *
 * One JSON document (sql/registry.json) is the source of truth. The tools
 * read it from the file; stream processes read the same shape back from
 * the pgsse tables, so both go through registry_parse.
 *
 * Snapshots and slots. A stream process reloads the registry while it
 * runs (hub.c), and its clients and events name channels by index, so
 * the registry it holds is a series of snapshots, each immutable once
 * made and shared by reference: whoever reads one holds a reference
 * (pgsse_registry_ref) and drops it when done (pgsse_registry_free);
 * the last one frees it. An index is a slot, and a slot names one
 * channel for the life of the process: pgsse_registry_rebase makes the
 * next snapshot keep every slot of the one before, under the same name,
 * marks a channel the reload removed as a tombstone (its name, no
 * events: pgsse_registry_channel does not find it), and appends new
 * channels. A channel removed and declared again gets its old slot
 * back. So an index taken from any snapshot names the same channel in
 * every later one, and a snapshot's name for a slot never goes stale;
 * what a slot declares (events, readers) is read from the newest. A
 * process keeps at most PGSSE_CHANNEL_SLOTS_MAX slots.
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
"select json_build_object('user_readers', to_json(pgsse.user_readers()),"
" 'channels', coalesce(json_agg(json_build_object("
" 'name', c.name, 'description', c.description, 'private', c.private,"
" 'personal', c.personal,"
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

/*
 * Copies the strings of JSON array v into a new NULL-terminated vector
 * in *out, their count in *n. Returns -1 if memory ran out or one is
 * not a string (what was copied stays for the caller to free).
 */
static int
parse_names(struct json_object *v, char ***out, size_t *n)
{
	size_t	 i, len = json_object_array_length(v);

	if ((*out = calloc(len + 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		const char *z = json_object_get_string(
		    json_object_array_get_idx(v, i));
		if (z == NULL || ((*out)[i] = strdup(z)) == NULL)
			return -1;
		(*n)++;
	}
	return 0;
}

static void
names_free(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
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
	if (json_object_object_get_ex(o, "personal", &v))
		ch->personal = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "readers", &v) &&
	    json_object_is_type(v, json_type_array) &&
	    parse_names(v, &ch->readers, &ch->nreaders) == -1)
		return -1;
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
 * ran out, says why in err. The caller holds the one reference and
 * drops it with pgsse_registry_free.
 */
struct pgsse_registry *
pgsse_registry_parse(const char *text, struct pgsse_buf *err)
{
	struct pgsse_registry	*reg = NULL;
	struct json_object	*doc = NULL, *chans, *v;
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
	atomic_init(&reg->refs, 1);
	/* Only from the database: the setting user_readers. */
	if (json_object_object_get_ex(doc, "user_readers", &v) &&
	    json_object_is_type(v, json_type_array) &&
	    parse_names(v, &reg->user_readers, &reg->nuser_readers) == -1)
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

/*
 * Returns the slot named z, tombstone or not, or -1. A slot with no name
 * (moved out by pgsse_registry_rebase) names nothing.
 */
static long
registry_slot(const struct pgsse_registry *reg, const char *z)
{
	size_t	 i;

	for (i = 0; reg != NULL && i < reg->n; i++)
		if (reg->channels[i].name != NULL &&
		    strcmp(reg->channels[i].name, z) == 0)
			return (long)i;
	return -1;
}

/*
 * Returns the channel named z, or NULL (a removed channel too). The
 * registry owns it; its index in reg->channels is its slot.
 */
const struct pgsse_channel *
pgsse_registry_channel(const struct pgsse_registry *reg, const char *z)
{
	long	 i = registry_slot(reg, z);

	return i < 0 || reg->channels[i].removed ? NULL : &reg->channels[i];
}

/* Returns how many channels reg has, tombstones left out. */
size_t
pgsse_registry_nlive(const struct pgsse_registry *reg)
{
	size_t	 i, n = 0;

	for (i = 0; i < reg->n; i++)
		n += !reg->channels[i].removed;
	return n;
}

/*
 * Makes the snapshot that follows old from fresh, a registry just read,
 * which it takes over and frees: slot i below old->n holds fresh's
 * channel of old's name for slot i, or a tombstone if fresh lacks it;
 * fresh's other channels follow, in its order. Returns NULL if memory
 * ran out, or, with the reason in err, if the snapshot would pass
 * PGSSE_CHANNEL_SLOTS_MAX slots. The caller holds the one reference.
 */
struct pgsse_registry *
pgsse_registry_rebase(const struct pgsse_registry *old,
    struct pgsse_registry *fresh, struct pgsse_buf *err)
{
	struct pgsse_registry	*next = NULL;
	struct pgsse_channel	*ch;
	size_t			 i, n = old->n;
	long			 j;

	for (i = 0; i < fresh->n; i++)
		n += registry_slot(old, fresh->channels[i].name) < 0;
	if (n > PGSSE_CHANNEL_SLOTS_MAX) {
		pgsse_buf_printf(err, "%zu channel slots would pass "
		    "PGSSE_CHANNEL_SLOTS_MAX (%d); restart to compact", n,
		    PGSSE_CHANNEL_SLOTS_MAX);
		goto out;
	}
	if ((next = calloc(1, sizeof(*next))) == NULL ||
	    (next->channels = calloc(n + 1, sizeof(*ch))) == NULL)
		goto fail;
	atomic_init(&next->refs, 1);
	next->user_readers = fresh->user_readers;
	next->nuser_readers = fresh->nuser_readers;
	fresh->user_readers = NULL;
	fresh->nuser_readers = 0;
	for (i = 0; i < old->n; i++, next->n++) {
		ch = &next->channels[i];
		if ((j = registry_slot(fresh, old->channels[i].name)) >= 0) {
			*ch = fresh->channels[j];
			memset(&fresh->channels[j], 0, sizeof(*ch));
			fresh->channels[j].removed = 1;
		} else if ((ch->name = strdup(old->channels[i].name)) == NULL)
			goto fail;
		else
			ch->removed = 1;
	}
	for (i = 0; i < fresh->n; i++) {
		if (fresh->channels[i].removed)
			continue;
		next->channels[next->n++] = fresh->channels[i];
		memset(&fresh->channels[i], 0, sizeof(*ch));
	}
	goto out;
fail:
	pgsse_registry_free(next);
	next = NULL;
out:
	pgsse_registry_free(fresh);
	return next;
}

/* Takes one more reference to reg, and returns it. Can't fail. */
struct pgsse_registry *
pgsse_registry_ref(struct pgsse_registry *reg)
{
	atomic_fetch_add_explicit(&reg->refs, 1, memory_order_relaxed);
	return reg;
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
 * Which of its events reach user is pgsse_registry_user_reads's call.
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

/*
 * Returns 1 if user (NULL when unauthenticated) reads what was
 * published to every user: it is named in the setting user_readers.
 */
int
pgsse_registry_user_reader(const struct pgsse_registry *reg,
    const char *user)
{
	size_t	 i;

	if (user == NULL || *user == '\0')
		return 0;
	for (i = 0; i < reg->nuser_readers; i++)
		if (strcmp(reg->user_readers[i], user) == 0)
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

/*
 * Drops one reference to reg, and frees it with the last. Accepts NULL.
 */
void
pgsse_registry_free(struct pgsse_registry *reg)
{
	struct pgsse_channel	*ch;
	size_t			 i, j;

	if (reg == NULL || atomic_fetch_sub_explicit(&reg->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	for (i = 0; i < reg->n + (reg->channels != NULL); i++) {
		ch = &reg->channels[i];
		free(ch->name);
		free(ch->description);
		names_free(ch->readers, ch->nreaders);
		for (j = 0; j < ch->nevents + (ch->events != NULL); j++)
			event_free(&ch->events[j]);
		free(ch->events);
	}
	free(reg->channels);
	names_free(reg->user_readers, reg->nuser_readers);
	free(reg);
}
