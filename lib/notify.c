/*
 * notify.c: maps a PostgreSQL notification to a documented event.
 *
 * Three kinds arrive:
 *  - the registry bell: NOTIFY "pgsse.registry", sent by
 *    pgsse.load_registry() when it commits: the hub reloads the registry.
 *  - the doorbell: NOTIFY pgsse, 'channel:id', sent by pgsse.publish().
 *    It carries no data; the hub reads the event from the log, so the log
 *    stays the only source of what clients see and a forged doorbell
 *    can at worst cause one extra read.
 *  - raw: NOTIFY <channel>, '{"event":"name","data":{...}}', for scripts
 *    that cannot call a function, with "user":"name" for an event to one
 *    user (required on a personal channel). Raw events are not durable:
 *    they have no id and are not replayed after a reconnect.
 * Anything else is dropped with a reason: the caller logs and counts it.
 *
 * A raw payload must be JSON that PostgreSQL's jsonb would take, as an
 * event from pgsse.publish() is: json-c, even strict, takes NaN,
 * Infinity, 'quotes', "1.", \u0000, lone surrogates and bytes that are
 * not UTF-8, and clamps integers past 64 bits. So the payload is first
 * checked against the JSON grammar (RFC 8259) and jsonb's rules, then
 * parsed by json-c. Integers that json-c would change are dropped,
 * though jsonb keeps them.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pgsse.h"
#include "extern.h"
#include "notify.h"
#include "registry.h"

/* Deepest nesting of arrays and objects in a raw payload. */
#define NOTIFY_DEPTH_MAX 32

/* A payload being checked: the reason is set when it is refused. */
struct jv {
	const unsigned char	*z;
	size_t			 len, i;
	const char		*why;
};

static int	jv_value(struct jv *, int);

/* Refuses the payload with the static reason why. Returns -1. */
static int
jv_fail(struct jv *v, const char *why)
{
	if (v->why == NULL)
		v->why = why;
	return -1;
}

static void
jv_ws(struct jv *v)
{
	while (v->i < v->len && (v->z[v->i] == ' ' || v->z[v->i] == '\t' ||
	    v->z[v->i] == '\n' || v->z[v->i] == '\r'))
		v->i++;
}

/* Reads the 4 hex digits of a \u escape at v->i. Returns -1 if bad. */
static long
jv_hex4(struct jv *v)
{
	long	 u = 0;
	size_t	 k;
	int	 c;

	if (v->len - v->i < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		c = v->z[v->i + k];
		if (c >= '0' && c <= '9')
			u = u * 16 + c - '0';
		else if (c >= 'a' && c <= 'f')
			u = u * 16 + c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			u = u * 16 + c - 'A' + 10;
		else
			return -1;
	}
	v->i += 4;
	return u;
}

/* A \u escape after "\u": no NUL, surrogates only in pairs. */
static int
jv_escape_u(struct jv *v)
{
	long	 u, lo;

	if ((u = jv_hex4(v)) < 0)
		return jv_fail(v, "payload is not JSON");
	if (u == 0)
		return jv_fail(v, "payload holds \\u0000");
	if (u >= 0xdc00 && u <= 0xdfff)
		return jv_fail(v, "payload holds a lone surrogate");
	if (u < 0xd800 || u > 0xdbff)
		return 0;
	if (v->len - v->i < 2 || v->z[v->i] != '\\' || v->z[v->i + 1] != 'u')
		return jv_fail(v, "payload holds a lone surrogate");
	v->i += 2;
	if ((lo = jv_hex4(v)) < 0)
		return jv_fail(v, "payload is not JSON");
	if (lo < 0xdc00 || lo > 0xdfff)
		return jv_fail(v, "payload holds a lone surrogate");
	return 0;
}

static int
jv_string(struct jv *v)
{
	size_t	 n;

	v->i++;		/* the opening quote */
	while (v->i < v->len) {
		if (v->z[v->i] == '"') {
			v->i++;
			return 0;
		}
		if (v->z[v->i] < 0x20)
			return jv_fail(v, "payload is not JSON");
		if (v->z[v->i] != '\\') {
			if ((n = pgsse_utf8_len(v->z + v->i, v->len - v->i)) ==
			    0)
				return jv_fail(v, "payload is not UTF-8");
			v->i += n;
			continue;
		}
		if (++v->i == v->len)
			break;
		if (v->z[v->i] == 'u') {
			v->i++;
			if (jv_escape_u(v) == -1)
				return -1;
			continue;
		}
		if (strchr("\"\\/bfnrt", v->z[v->i]) == NULL ||
		    v->z[v->i] == '\0')
			return jv_fail(v, "payload is not JSON");
		v->i++;
	}
	return jv_fail(v, "payload is not JSON");
}

/* Skips the digits at v->i. Returns how many. */
static size_t
jv_digits(struct jv *v)
{
	size_t	 start = v->i;

	while (v->i < v->len && v->z[v->i] >= '0' && v->z[v->i] <= '9')
		v->i++;
	return v->i - start;
}

/* A number; an integer must fit json-c's int64 or uint64 unchanged. */
static int
jv_number(struct jv *v)
{
	char		 buf[32];
	size_t		 start = v->i;
	int		 integer = 1;

	if (v->z[v->i] == '-')
		v->i++;
	if (v->i < v->len && v->z[v->i] == '0')
		v->i++;
	else if (jv_digits(v) == 0)
		return jv_fail(v, "payload is not JSON");
	if (v->i < v->len && v->z[v->i] == '.') {
		v->i++;
		integer = 0;
		if (jv_digits(v) == 0)
			return jv_fail(v, "payload is not JSON");
	}
	if (v->i < v->len && (v->z[v->i] == 'e' || v->z[v->i] == 'E')) {
		v->i++;
		integer = 0;
		if (v->i < v->len && (v->z[v->i] == '+' || v->z[v->i] == '-'))
			v->i++;
		if (jv_digits(v) == 0)
			return jv_fail(v, "payload is not JSON");
	}
	if (!integer)
		return 0;
	if (v->i - start >= sizeof(buf))
		return jv_fail(v, "payload holds an integer out of range");
	memcpy(buf, v->z + start, v->i - start);
	buf[v->i - start] = '\0';
	errno = 0;
	if (buf[0] == '-')
		(void)strtoll(buf, NULL, 10);
	else
		(void)strtoull(buf, NULL, 10);
	return errno == ERANGE ?
	    jv_fail(v, "payload holds an integer out of range") : 0;
}

/* An object or array at v->i, nested depth deep. */
static int
jv_container(struct jv *v, int depth)
{
	unsigned char	 close = v->z[v->i] == '{' ? '}' : ']';

	if (depth >= NOTIFY_DEPTH_MAX)
		return jv_fail(v, "payload is nested too deep");
	v->i++;
	jv_ws(v);
	if (v->i < v->len && v->z[v->i] == close) {
		v->i++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (v->i == v->len || v->z[v->i] != '"' ||
			    jv_string(v) == -1)
				return jv_fail(v, "payload is not JSON");
			jv_ws(v);
			if (v->i == v->len || v->z[v->i++] != ':')
				return jv_fail(v, "payload is not JSON");
		}
		if (jv_value(v, depth + 1) == -1)
			return -1;
		jv_ws(v);
		if (v->i == v->len)
			break;
		if (v->z[v->i] == close) {
			v->i++;
			return 0;
		}
		if (v->z[v->i++] != ',')
			break;
		jv_ws(v);
	}
	return jv_fail(v, "payload is not JSON");
}

/* One value with the white space around it. Returns 0, or -1. */
static int
jv_value(struct jv *v, int depth)
{
	static const char *const lits[] = { "true", "false", "null" };
	size_t			 k, n;
	int			 rc = -1;

	jv_ws(v);
	if (v->i == v->len)
		return jv_fail(v, "payload is not JSON");
	switch (v->z[v->i]) {
	case '{':
	case '[':
		rc = jv_container(v, depth);
		break;
	case '"':
		rc = jv_string(v);
		break;
	default:
		if (v->z[v->i] == '-' ||
		    (v->z[v->i] >= '0' && v->z[v->i] <= '9')) {
			rc = jv_number(v);
			break;
		}
		for (k = 0; k < sizeof(lits) / sizeof(lits[0]); k++) {
			n = strlen(lits[k]);
			if (v->len - v->i >= n &&
			    memcmp(v->z + v->i, lits[k], n) == 0) {
				v->i += n;
				rc = 0;
				break;
			}
		}
		if (rc == -1)
			jv_fail(v, "payload is not JSON");
	}
	jv_ws(v);
	return rc;
}

/*
 * Parses payload as jsonb would take it: one JSON value, nothing after
 * it but white space. Returns the value (the caller owns it), or NULL
 * with a static reason in *why.
 */
static struct json_object *
parse_strict(const char *payload, const char **why)
{
	struct jv		 v;
	struct json_tokener	*tok;
	struct json_object	*doc = NULL;
	size_t			 len = strlen(payload);

	memset(&v, 0, sizeof(v));
	v.z = (const unsigned char *)payload;
	v.len = len;
	if (jv_value(&v, 0) == -1 || v.i != len) {
		*why = v.why ? v.why : "payload is not JSON";
		return NULL;
	}
	*why = "payload is not JSON";
	if (len > INT_MAX ||
	    (tok = json_tokener_new_ex(NOTIFY_DEPTH_MAX + 1)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	doc = json_tokener_parse_ex(tok, payload, (int)len);
	if (doc != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)) {
		json_object_put(doc);
		doc = NULL;
	}
	json_tokener_free(tok);
	return doc;
}

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

/*
 * Takes the raw payload's "user" into n->user, if it has one. Returns
 * a static reason to drop the notification, or NULL.
 */
static const char *
raw_user(const struct pgsse_channel *ch, struct json_object *doc,
    struct pgsse_notify *n)
{
	struct json_object	*u;
	const char		*z;
	size_t			 len, i;

	if (!json_object_object_get_ex(doc, "user", &u))
		return ch->personal ? "personal channel without \"user\"" :
		    NULL;
	if (!json_object_is_type(u, json_type_string))
		return "\"user\" is not a string";
	z = json_object_get_string(u);
	len = strlen(z);
	if (len == 0 || len > PGSSE_USER_MAX ||
	    (size_t)json_object_get_string_len(u) != len)
		return "\"user\" is no user name (PGSSE_USER_MAX)";
	for (i = 0; i < len; i++)
		if ((unsigned char)z[i] < 0x20 || z[i] == 0x7f)
			return "\"user\" is no user name (PGSSE_USER_MAX)";
	if ((n->user = strdup(z)) == NULL)
		return "out of memory";
	return NULL;
}

static void
map_raw(const struct pgsse_channel *ch, const char *payload,
    struct pgsse_notify *n)
{
	struct json_object		*doc, *ev, *data = NULL;
	const struct pgsse_event_def	*def;
	const char			*text;

	if ((doc = parse_strict(payload, &n->why)) == NULL)
		goto out;
	if (!json_object_is_type(doc, json_type_object)) {
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
	if ((n->why = raw_user(ch, doc, n)) != NULL)
		goto out;
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
	if (strcmp(relname, PGSSE_REGISTRY_BELL) == 0) {
		n->kind = PGSSE_NOTIFY_REGISTRY;
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
	free(n->user);
	n->event = n->data = n->user = NULL;
	if (n->kind == PGSSE_NOTIFY_RAW)
		n->kind = PGSSE_NOTIFY_DROP;
}
