/*
 * pgsse-publish [-u USER] [-s KEY=TEXT]... [-n KEY=NUMBER]... CHANNEL
 * EVENT [JSON] publishes one event from a shell script through
 * pgsse.publish() and prints its id; with -u, to that user only. -s and -n add fields to the JSON payload with proper
 * quoting, so scripts never build JSON by hand from untrusted text.
 * With -b it publishes one event per line of stdin (a JSON object),
 * in batches (pgsse.publish_batch()), and prints their ids.
 * The database comes from PGSSE_CONNINFO or the PG* variables.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
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
	    "[-n KEY=NUMBER]... CHANNEL EVENT [JSON]\n"
	    "       pgsse-publish -b [-u USER] [-s KEY=TEXT]... "
	    "[-n KEY=NUMBER]... CHANNEL EVENT\nPublishes one event "
	    "through pgsse.publish() and prints its id;\nwith -b, one event "
	    "per line of stdin (a JSON object), in batches, and\nprints their "
	    "ids; with -u, to USER only (REMOTE_USER; required on a\npersonal "
	    "channel).\n"
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

/*
 * Parses the n bytes at p, NUL-terminated there, as one JSON object
 * with nothing after it but whitespace. Returns it (the caller owns
 * it), or NULL with *why saying what is wrong with the text.
 */
static struct json_object *
parse_object(const char *p, size_t n, const char **why)
{
	struct json_tokener	*tok = NULL;
	struct json_object	*j = NULL;
	size_t			 end;

	*why = "is not a JSON object";
	if (n > INT_MAX || (tok = json_tokener_new()) == NULL)
		goto out;
	j = json_tokener_parse_ex(tok, p, (int)n);
	if (j == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(j, json_type_object))
		goto fail;
	end = json_tokener_get_parse_end(tok);
	if (end + strspn(p + end, " \t\r") == n)
		goto out;
	*why = "has text after its JSON object";
fail:
	json_object_put(j);
	j = NULL;
out:
	json_tokener_free(tok);
	return j;
}

/*
 * Reads the next line of f into line, which has room for
 * PGSSE_PUBLISH_LINE_MAX bytes and a NUL, without its newline, and
 * NUL-terminates it; *len gets its length (NUL bytes in it count).
 * Returns 1 for a line, 0 at the end of input or a read error, -1 for a
 * line over PGSSE_PUBLISH_LINE_MAX bytes (of which line holds the
 * first PGSSE_PUBLISH_LINE_MAX).
 */
static int
read_line(FILE *f, char *line, size_t *len)
{
	size_t	 n = 0;
	int	 ch, rc = 1;

	while ((ch = getc_unlocked(f)) != EOF && ch != '\n') {
		if (n == PGSSE_PUBLISH_LINE_MAX) {
			rc = -1;
			break;
		}
		line[n++] = (char)ch;
	}
	line[n] = '\0';
	*len = n;
	if (ch == EOF && n == 0)
		rc = 0;
	return rc;
}

/* The events of stdin that -b has read and not yet published. */
struct batch {
	char	*json[PGSSE_PUBLISH_BATCH_MAX];
	int64_t	 ids[PGSSE_PUBLISH_BATCH_MAX];
	size_t	 n;
	size_t	 bytes;
	long	 from;		/* the line of json[0] */
	long	 to;		/* the line of json[n - 1] */
};

/*
 * Publishes b's events over conn to user (NULL: everyone), prints their
 * ids and empties b. Returns -1, having said why, if the database
 * refused them.
 */
static int
batch_flush(PGconn *conn, const char *channel, const char *event,
    const char *user, struct batch *b)
{
	char	*err = NULL;
	size_t	 i;
	int	 rc = 0;

	if (b->n == 0)
		return 0;
	if (pgsse_publish_batch_user(conn, channel, event,
	    (const char *const *)b->json, b->n, user, b->ids, &err) !=
	    PGSSE_OK) {
		fprintf(stderr, "pgsse-publish: lines %ld-%ld: %s\n", b->from,
		    b->to, err ? err : "failed");
		rc = -1;
	}
	for (i = 0; i < b->n; i++) {
		if (rc == 0)
			printf("%" PRId64 "\n", b->ids[i]);
		free(b->json[i]);
	}
	free(err);
	b->n = b->bytes = 0;
	return rc;
}

/*
 * Reads the payloads of -b from stdin, a JSON object a line (blank lines
 * skipped), adds fields to each, and publishes them in batches of at
 * most PGSSE_PUBLISH_BATCH_MAX events and PGSSE_PUBLISH_BATCH_BYTES.
 * Returns 0, or 1 having said why: a line over PGSSE_PUBLISH_LINE_MAX,
 * holding a NUL byte, not one JSON object (whitespace may follow it),
 * a read error, or a batch the database refused (the batches before it
 * stay published).
 */
static int
publish_lines(PGconn *conn, const char *channel, const char *event,
    const char *user, struct json_object *fields)
{
	struct batch		*b;
	struct json_object	*j;
	const char		*why;
	char			*line, *z;
	size_t			 len;
	long			 no = 0;
	int			 rc = 1, got;

	b = calloc(1, sizeof(*b));
	line = malloc(PGSSE_PUBLISH_LINE_MAX + 1);
	if (b == NULL || line == NULL) {
		fprintf(stderr, "pgsse-publish: out of memory\n");
		goto out;
	}
	while ((got = read_line(stdin, line, &len)) != 0) {
		no++;
		if (memchr(line, '\0', len) != NULL) {
			fprintf(stderr, "pgsse-publish: line %ld holds a NUL "
			    "byte\n", no);
			goto out;
		}
		if (got == -1) {
			fprintf(stderr, "pgsse-publish: line %ld is over "
			    "%d bytes (PGSSE_PUBLISH_LINE_MAX)\n", no,
			    PGSSE_PUBLISH_LINE_MAX);
			goto out;
		}
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		if ((j = parse_object(line, len, &why)) == NULL) {
			fprintf(stderr, "pgsse-publish: line %ld %s\n", no, why);
			goto out;
		}
		json_object_object_foreach(fields, k, v)
			json_object_object_add(j, k, json_object_get(v));
		z = strdup(json_object_to_json_string_ext(j,
		    JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
		if (z == NULL) {
			fprintf(stderr, "pgsse-publish: out of memory\n");
			goto out;
		}
		if ((b->n == PGSSE_PUBLISH_BATCH_MAX || b->bytes + strlen(z) >
		    PGSSE_PUBLISH_BATCH_BYTES) && batch_flush(conn, channel,
		    event, user, b) == -1) {
			free(z);
			goto out;
		}
		if (b->n == 0)
			b->from = no;
		b->to = no;
		b->json[b->n++] = z;
		b->bytes += strlen(z);
	}
	if (ferror(stdin)) {
		fprintf(stderr, "pgsse-publish: reading line %ld: %s\n", no + 1,
		    strerror(errno));
		goto out;
	}
	if (batch_flush(conn, channel, event, user, b) == 0)
		rc = 0;
out:
	if (b != NULL)
		while (b->n > 0)
			free(b->json[--b->n]);
	free(b);
	free(line);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct json_object	*o;
	PGconn			*conn = NULL;
	char			*err = NULL, msg[1024];
	const char		*user = NULL;
	int64_t			 id;
	int			 ch, rc = 1, lines = 0;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		puts("pgsse-publish " PGSSE_VERSION);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	o = json_object_new_object();
	while ((ch = getopt(argc, argv, "bu:s:n:")) != -1) {
		if (ch == 'u') {
			user = optarg;
			continue;
		}
		if (ch == 'b') {
			lines = 1;
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
	if (argc < 2 || argc > 3 - lines) {
		usage(stderr);
		rc = 2;
		goto out;
	}
	if (argc == 3) {
		const char *why;
		struct json_object *j = parse_object(argv[2], strlen(argv[2]),
		    &why);
		if (j == NULL) {
			fprintf(stderr, "pgsse-publish: JSON must be an "
			    "object\n");
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
	if (lines) {
		rc = publish_lines(conn, argv[0], argv[1], user, o);
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
