/*
 * notify.c: maps a PostgreSQL notification to a documented event.
 *
 * Two kinds arrive:
 *  - the doorbell: NOTIFY pgsse, 'channel:id', sent by pgsse.publish().
 *    It carries no data; the hub reads the event from the log, so the log
 *    stays the only source of what clients see and a forged doorbell
 *    can at worst cause one extra read.
 *  - raw: NOTIFY <channel>, '{"event":"name","data":{...}}', for scripts
 *    that cannot call a function. Raw events are not durable: they have
 *    no id and are not replayed after a reconnect.
 * Anything else is dropped with a reason: the caller logs and counts it.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pgsse.h"
#include "extern.h"

static int
field_ok(struct json_object *v, const char *type)
{
	double	 d;

	switch (json_object_get_type(v)) {
	case json_type_string:
		return strcmp(type, "string") == 0;
	case json_type_boolean:
		return strcmp(type, "boolean") == 0;
	case json_type_object:
		return strcmp(type, "object") == 0;
	case json_type_array:
		return strcmp(type, "array") == 0;
	case json_type_int:
		return strcmp(type, "number") == 0 ||
		    strcmp(type, "integer") == 0;
	case json_type_double:
		d = json_object_get_double(v);
		if (strcmp(type, "number") == 0)
			return 1;
		/* Out of range (or NaN) is no integer, and no cast is safe. */
		if (!(d > -9.0e18 && d < 9.0e18))
			return 0;
		return strcmp(type, "integer") == 0 && d == (double)(long long)d;
	default:
		return 0;
	}
}

static const char *
raw_check(const struct pgsse_event_def *ev, struct json_object *data)
{
	struct json_object	*v;
	size_t			 i;

	if (!json_object_is_type(data, json_type_object))
		return "\"data\" is not an object";
	for (i = 0; i < ev->nfields; i++) {
		if (!json_object_object_get_ex(data, ev->fields[i].name, &v))
			return "a documented field is missing";
		if (!field_ok(v, ev->fields[i].type))
			return "a documented field has the wrong type";
	}
	return NULL;
}

static void
map_raw(const struct pgsse_channel *ch, const char *payload,
    struct pgsse_notify *n)
{
	struct json_object		*doc, *ev, *data = NULL;
	const struct pgsse_event_def	*def;
	const char			*text;

	if ((doc = json_tokener_parse(payload)) == NULL ||
	    !json_object_is_type(doc, json_type_object)) {
		n->why = "payload is not a JSON object";
		goto out;
	}
	if (!json_object_object_get_ex(doc, "event", &ev) ||
	    !json_object_is_type(ev, json_type_string)) {
		n->why = "payload has no \"event\" string";
		goto out;
	}
	if ((def = pgsse_registry_event(ch, json_object_get_string(ev))) ==
	    NULL) {
		n->why = "event is not documented for the channel";
		goto out;
	}
	if (json_object_object_get_ex(doc, "data", &data) &&
	    (n->why = raw_check(def, data)) != NULL)
		goto out;
	if (data == NULL && def->nfields > 0) {
		n->why = "payload has no \"data\"";
		goto out;
	}
	text = data ? json_object_to_json_string_ext(data,
	    JSON_C_TO_STRING_PLAIN) : "{}";
	if ((n->event = strdup(def->name)) == NULL ||
	    (n->data = strdup(text)) == NULL) {
		n->why = "out of memory";
		goto out;
	}
	n->kind = PGSSE_NOTIFY_RAW;
out:
	if (n->kind != PGSSE_NOTIFY_RAW)
		pgsse_notify_clear(n);
	json_object_put(doc);
}

static void
map_doorbell(const struct pgsse_registry *reg, const char *payload,
    struct pgsse_notify *n)
{
	char	 name[PGSSE_CHANNEL_MAX + 1];
	size_t	 len;

	len = strcspn(payload, ":");
	if (payload[len] != ':' || len > PGSSE_CHANNEL_MAX) {
		n->why = "doorbell payload is not channel:id";
		return;
	}
	memcpy(name, payload, len);
	name[len] = '\0';
	if ((n->channel = pgsse_registry_channel(reg, name)) == NULL) {
		n->why = "doorbell names an unknown channel";
		return;
	}
	n->kind = PGSSE_NOTIFY_DOORBELL;
}

/*
 * Fills n from one notification. Never fails: a notification that cannot
 * be mapped gets kind PGSSE_NOTIFY_DROP and a static reason in n->why.
 * The caller frees n's strings with pgsse_notify_clear.
 */
void
pgsse_notify_map(const struct pgsse_registry *reg, const char *relname,
    const char *payload, struct pgsse_notify *n)
{
	memset(n, 0, sizeof(*n));
	n->kind = PGSSE_NOTIFY_DROP;
	if (relname == NULL || payload == NULL) {
		n->why = "empty notification";
		return;
	}
	if (strcmp(relname, PGSSE_DOORBELL) == 0) {
		map_doorbell(reg, payload, n);
		return;
	}
	if ((n->channel = pgsse_registry_channel(reg, relname)) == NULL) {
		n->why = "unknown channel";
		return;
	}
	map_raw(n->channel, payload, n);
}

/* Frees the strings in n and marks it dropped. Accepts NULL. */
void
pgsse_notify_clear(struct pgsse_notify *n)
{
	if (n == NULL)
		return;
	free(n->event);
	free(n->data);
	n->event = n->data = NULL;
	if (n->kind == PGSSE_NOTIFY_RAW)
		n->kind = PGSSE_NOTIFY_DROP;
}
