/*
 * pgsse-publish [-u USER] [-s KEY=TEXT]... [-n KEY=NUMBER]... CHANNEL
 * EVENT [JSON] publishes one event from a shell script through
 * pgsse.publish() and prints its id; with -u, to that user only. -s and -n add fields to the JSON payload with proper
 * quoting, so scripts never build JSON by hand from untrusted text.
 * The database comes from PGSSE_CONNINFO or the PG* variables.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: pgsse-publish [-u USER] [-s KEY=TEXT]... "
	    "[-n KEY=NUMBER]... CHANNEL EVENT [JSON]\nPublishes one event "
	    "through pgsse.publish() and prints its id;\nwith -u, to USER "
	    "only (REMOTE_USER; required on a personal channel).\n"
	    "The database comes from PGSSE_CONNINFO or the PG* variables.\n");
}

/* Adds KEY=VALUE from arg to o; returns -1 if malformed. */
static int
add_field(struct json_object *o, const char *arg, int number)
{
	const char	*eq = strchr(arg, '=');
	char		 key[PGSSE_EVENT_MAX + 1], *end;
	double		 d;

	if (eq == NULL || eq == arg || (size_t)(eq - arg) > PGSSE_EVENT_MAX)
		return -1;
	memcpy(key, arg, (size_t)(eq - arg));
	key[eq - arg] = '\0';
	if (!number) {
		json_object_object_add(o, key, json_object_new_string(eq + 1));
		return 0;
	}
	d = strtod(eq + 1, &end);
	if (eq[1] == '\0' || *end != '\0')
		return -1;
	json_object_object_add(o, key, d == (double)(int64_t)d ?
	    json_object_new_int64((int64_t)d) : json_object_new_double(d));
	return 0;
}

int
main(int argc, char *argv[])
{
	struct json_object	*o;
	PGconn			*conn = NULL;
	char			*err = NULL, msg[1024];
	const char		*user = NULL;
	int64_t			 id;
	int			 ch, rc = 1;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		puts("pgsse-publish " PGSSE_VERSION);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	o = json_object_new_object();
	while ((ch = getopt(argc, argv, "u:s:n:")) != -1) {
		if (ch == 'u') {
			user = optarg;
			continue;
		}
		if ((ch != 's' && ch != 'n') ||
		    add_field(o, optarg, ch == 'n') == -1) {
			usage(stderr);
			rc = 2;
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > 3) {
		usage(stderr);
		rc = 2;
		goto out;
	}
	if (argc == 3) {
		struct json_object *j = json_tokener_parse(argv[2]);
		if (j == NULL || !json_object_is_type(j, json_type_object)) {
			fprintf(stderr, "pgsse-publish: JSON must be an "
			    "object\n");
			json_object_put(j);
			rc = 2;
			goto out;
		}
		json_object_object_foreach(o, k, v)
			json_object_object_add(j, k, json_object_get(v));
		json_object_put(o);
		o = j;
	}
	conn = PQconnectdb(getenv("PGSSE_CONNINFO") ?
	    getenv("PGSSE_CONNINFO") : "");
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		pgsse_redact_message(msg, sizeof(msg), conn ?
		    PQerrorMessage(conn) : "out of memory\n",
		    getenv("PGSSE_CONNINFO"));
		fprintf(stderr, "pgsse-publish: %s", msg);
		goto out;
	}
	if (pgsse_publish_user(conn, argv[0], argv[1],
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), user,
	    &id, &err) != PGSSE_OK) {
		fprintf(stderr, "pgsse-publish: %s\n", err ? err : "failed");
		goto out;
	}
	printf("%" PRId64 "\n", id);
	rc = 0;
out:
	json_object_put(o);
	free(err);
	PQfinish(conn);
	return rc;
}
