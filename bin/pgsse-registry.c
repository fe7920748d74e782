/*
 * pgsse-registry: the tool for the event registry (sql/registry.json).
 *   pgsse-registry check FILE   validate it
 *   pgsse-registry docs FILE    print docs/SSE_EVENTS.md
 *   pgsse-registry js FILE      print www/js/channel-events.js
 *   pgsse-registry load FILE    load it into the database's pgsse tables
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"
#include "registry.h"

static const char docs_head[] =
"# SSE Events Reference\n\n"
"<!-- Generated from sql/registry.json by `bin/pgsse-registry docs`;\n"
"     `make regen` rewrites it and `make check` fails when it drifts. -->\n\n"
"Every event a stream sends is listed here. A notification that maps to\n"
"no event below is dropped by the stream process, with one log line and\n"
"the `pgsse_notifications_dropped_total` counter.\n\n"
"Streams: `/api/sse/<channel>`, `/api/sse?channel=a&channel=b` (several\n"
"channels on one connection) and `/api/jobs/<id>/stream` (the `job`\n"
"channel filtered on `job_id`, closed after `complete`).\n"
"Payload fields listed are required, with their JSON types; publishers\n"
"may add more.\n\n"
"**Event names on the wire.** A stream of one channel sends each event\n"
"under its name below (`event: installed`). A stream of several channels\n"
"names each event for its channel, `<channel>.<event>` (`event:\n"
"demos.installed`), so that two channels sharing an event name never\n"
"reach each other's handlers: listen for `sse:demos.installed` (or\n"
"`sse-swap=\"demos.installed\"`) under\n"
"`sse-connect=\"/api/sse?channel=demos&channel=status\"`, and for\n"
"`sse:installed` under `sse-connect=\"/api/sse/demos\"`.\n"
"`window.sseManager.connect(channel, onMessage)` listens for the right\n"
"form itself and passes `onMessage` an event of the plain name. System\n"
"events (below) keep their names on every stream. A channel is never\n"
"named `pgsse`, and event names hold no `.`, so no name can be read two\n"
"ways.\n\n"
"**Core and app registries.** The channels `logs`, `operations` and\n"
"`job` are pgsse's core registry: `sql/pgsse.sql` installs them, the\n"
"runner and `pgsse.enqueue` publish to them, and no registry load\n"
"removes or changes them. An app's registry (`pgsse-registry load\n"
"DIR/registry.json`, the shape of `sql/registry.json`) adds its own\n"
"channels: a load adds or replaces the channels it declares and removes\n"
"the app channels it lacks. It may leave the core channels out, or\n"
"redeclare them as `sql/registry.json` does: the same events, fields,\n"
"privacy and readers are accepted; other descriptions too, with a\n"
"NOTICE, and the core's stay; any other difference is refused (SQLSTATE\n"
"22023, naming the channel) and nothing is loaded.\n\n"
"**Live reload.** A load reaches every running stream process within a\n"
"second, with no restart: `pgsse.load_registry` sends `NOTIFY\n"
"\"pgsse.registry\"` in its transaction, and each process reloads the\n"
"registry when it commits (and after every reconnect to the database).\n"
"A new channel is served at once, from its next event; a new event on a\n"
"channel goes out to the streams already reading it; an event a load\n"
"removed is dropped with a log line, live or replayed, like any\n"
"undocumented one. The streams of a removed channel end with\n"
"`pgsse.channel_removed` (below). The streams of a channel whose\n"
"`private` or `readers` changed end with no event, so that the browser\n"
"comes back, from its last id, and is checked again.\n\n"
"**Events to one user.** `pgsse.publish(channel, event, payload, user)`\n"
"(`pgsse-publish -u USER`, or a raw NOTIFY with `\"user\":\"name\"`)\n"
"publishes to one user: the event reaches only the streams whose\n"
"`REMOTE_USER` is that user, and those of the users named in the\n"
"setting `user_readers` (`update pgsse.settings set value =\n"
"'admin,ops' where name = 'user_readers'`, names separated by\n"
"commas), live, on resume and through row-level security on\n"
"`pgsse.log`; a stream of nobody gets none. A channel declared\n"
"`\"personal\": true` takes only such events: without a user,\n"
"`publish()` refuses the event (SQLSTATE 22023) and a raw NOTIFY is\n"
"dropped. A stream of a personal channel needs a `REMOTE_USER` (403\n"
"without one); `private` and `readers` still say who may open it at\n"
"all. The runner publishes a job's events to its owner (the web user\n"
"who enqueued it: `pgsse.jobs.owner`), so `job`, `logs` and `operations`\n"
"carry each user's jobs to that user only; a job with no owner (one a\n"
"script enqueued) is everyone's.\n";

static const char docs_tail[] =
"\n## System events (every stream)\n\n"
"**Event Types:**\n"
"- **`stream_reset`** - The stream cannot resume from the client's last\n"
"  event id (from before retention, from the future, malformed, or at\n"
"  events a failover lost, see Ids below): reload state, then carry on\n"
"  from the events that follow (payload: `{reason: string}`). A per-job\n"
"  stream then replays its job from the start\n"
"- **`pgsse.heartbeat`** - Sent when a stream starts and whenever it was\n"
"  idle for the heartbeat interval (`--heartbeat`, `PGSSE_HEARTBEAT`, 15 s\n"
"  by default), with no `id:`, so it never moves the last event id.\n"
"  EventSource shows no SSE comment to a page, so the heartbeat is an\n"
"  event: the page's watchdog (www/js/sse-manager.js) reconnects, from\n"
"  its last id, a stream that sent nothing for two intervals and a\n"
"  second. Its name holds a dot and no channel is named `pgsse`, so it\n"
"  cannot clash with an app's event (payload: `{interval: integer, time:\n"
"  integer}`, seconds, and the server's Unix time)\n"
"- **`pgsse.channel_removed`** - A registry load removed a channel the\n"
"  stream reads: sent, with no `id:`, to every stream of that channel,\n"
"  of one channel or of several, and the stream then ends. Reconnecting\n"
"  with the same URL gets 404 (unknown channel), which stops an\n"
"  EventSource for good, so a page reconnects without that channel:\n"
"  `window.sseManager` drops it and reconnects with the others from its\n"
"  last id (payload: `{channel: string}`)\n\n"
"## Publishing and mapping rules\n\n"
"- **Durable:** `select pgsse.publish('demos', 'installed',\n"
"  '{\"demo_id\":\"d1\",\"name\":\"Demo\"}')`, or `pgsse-publish demos\n"
"  installed '{...}'`. The event is validated against this registry,\n"
"  appended to `pgsse.log` and announced with `NOTIFY pgsse, 'demos:<id>'`.\n"
"  Streams read the event from the log, send it with `id:`, and replay it\n"
"  to clients that reconnect with `Last-Event-ID` (or `?last_event_id=`).\n"
"- **Durable, in a batch:** `select pgsse.publish_batch('logs', 'log',\n"
"  array['{\"source\":\"a\",\"line\":\"1\"}', '{\"source\":\"a\",\"line\":\"2\"}']::jsonb[])`\n"
"  (or `pgsse-publish -b`, one payload a line of stdin; from C,\n"
"  pgsse_publish_batch(3)) publishes many events of one channel and\n"
"  event in one statement (optional fourth argument: the one user they\n"
"  are for, as\n"
"  `publish()`'s), and returns their ids, in the array's order\n"
"  (`bigint[]`: increasing, consecutive unless a publisher on another\n"
"  channel took ids meanwhile). Each event is checked as `publish()`\n"
"  checks one; one invalid event rejects the whole batch, with\n"
"  `publish()`'s error and SQLSTATE naming its place in the array\n"
"  (`event 3 of the batch: ...`). At most the setting\n"
"  `publish_batch_max` events a call (1,000, `PGSSE_PUBLISH_BATCH_MAX`;\n"
"  more: SQLSTATE 54000, none published). The batch rings one doorbell,\n"
"  `NOTIFY pgsse, 'logs:<last id>'`: a publisher pays for the\n"
"  transaction, its commit and the notification once per batch instead\n"
"  of once per event (docs/BENCHMARKS.md, W6).\n"
"- **Raw:** `NOTIFY demos, '{\"event\":\"installed\",\"data\":{...}}'`\n"
"  for scripts that cannot call a function. The channel is the NOTIFY\n"
"  channel, the event name is `event`, the payload is `data`, and the\n"
"  optional `user` (a string of 1 to 255 bytes, `PGSSE_USER_MAX`, no\n"
"  control character) the one user it is for, required on a personal\n"
"  channel. It must be\n"
"  documented here and carry the documented fields, or it is dropped.\n"
"  Trade-off: raw events are not in the log, carry no id, are lost while\n"
"  a stream process is disconnected, and are never replayed.\n"
"- **Ids:** one sequence for all channels, committed in order within a\n"
"  channel. A single-channel stream sends `id: <n>`; a multi-channel\n"
"  stream sends `id: a:<n>,b:<m>`, one cursor per channel. Once the\n"
"  database has failed over, been restored or recovered from a crash,\n"
"  the log is in a new epoch, and ids carry it first: `id: 2-<n>`,\n"
"  `id: 2-a:<n>,b:<m>`; an id with no epoch is epoch 1's, as every id\n"
"  was before epochs existed. A resume from an older epoch is exact if\n"
"  the new history has every event up to the id, and gets\n"
"  `stream_reset` if not (events lost with asynchronous replication),\n"
"  even where the new primary has handed the same ids out again. Pages\n"
"  keep the id as an opaque string, as EventSource does.\n";

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*p = NULL;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) != NULL) {
		if (fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		} else
			p[n] = '\0';
	}
	fclose(f);
	return p;
}

static void
docs(const struct pgsse_registry *reg)
{
	const struct pgsse_channel	*ch;
	const struct pgsse_event_def	*ev;
	size_t				 i, j, k;

	fputs(docs_head, stdout);
	for (i = 0; i < reg->n; i++) {
		ch = &reg->channels[i];
		printf("\n## Channel: /api/sse/%s\n\n%s\n", ch->name,
		    ch->description);
		if (ch->private) {
			printf("\nPrivate: readable only by");
			for (k = 0; k < ch->nreaders; k++)
				printf("%s `%s`", k ? "," : "",
				    ch->readers[k]);
			printf(" (`REMOTE_USER`).\n");
		}
		if (ch->personal)
			printf("\nPersonal: each event is published to one user "
			    "and reaches only that user's streams (and the "
			    "`user_readers`').\n");
		printf("\n**Event Types:**\n");
		for (j = 0; j < ch->nevents; j++) {
			ev = &ch->events[j];
			printf("- **`%s`** - %s (payload: `{", ev->name,
			    ev->description);
			for (k = 0; k < ev->nfields; k++)
				printf("%s%s: %s", k ? ", " : "",
				    ev->fields[k].name, ev->fields[k].type);
			printf("}`)\n");
		}
	}
	fputs(docs_tail, stdout);
}

static void
js(const struct pgsse_registry *reg)
{
	const struct pgsse_channel	*ch;
	size_t				 i, j;

	printf("// Generated from sql/registry.json by `bin/pgsse-registry "
	    "js`. Do not edit:\n// `make regen` rewrites it and `make check`"
	    " fails when it drifts.\nwindow.CHANNEL_EVENTS = Object.freeze({"
	    "\n");
	for (i = 0; i < reg->n; i++) {
		ch = &reg->channels[i];
		printf("    %s: [", ch->name);
		for (j = 0; j < ch->nevents; j++)
			printf("%s'%s'", j ? ", " : "", ch->events[j].name);
		printf("]%s\n", i + 1 < reg->n ? "," : "");
	}
	printf("});\n");
}

static int
load(const char *text)
{
	PGconn		*conn;
	PGresult	*res;
	const char	*params[1] = { text };
	char		 msg[1024];
	int		 rc = 1;

	conn = PQconnectdb(getenv("PGSSE_CONNINFO") ?
	    getenv("PGSSE_CONNINFO") : "");
	if (PQstatus(conn) != CONNECTION_OK) {
		pgsse_redact_message(msg, sizeof(msg), PQerrorMessage(conn),
		    getenv("PGSSE_CONNINFO"));
		fprintf(stderr, "pgsse-registry: %s", msg);
		goto out;
	}
	res = PQexecParams(conn, "select pgsse.load_registry($1::jsonb)", 1,
	    NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fprintf(stderr, "pgsse-registry: %s", PQerrorMessage(conn));
	else {
		printf("loaded %s events\n", PQgetvalue(res, 0, 0));
		rc = 0;
	}
	PQclear(res);
out:
	PQfinish(conn);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct pgsse_registry	*reg = NULL;
	struct pgsse_buf	 err = { NULL, 0, 0 };
	char			*text = NULL;
	int			 rc = 1, help;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		puts("pgsse-registry " PGSSE_VERSION);
		return 0;
	}
	if (argc != 3) {
		help = argc == 2 && strcmp(argv[1], "--help") == 0;
		fprintf(help ? stdout : stderr, "usage: pgsse-registry "
		    "check|docs|js|load FILE\n       pgsse-registry --help | "
		    "--version\n");
		return help ? 0 : 2;
	}
	if ((text = slurp(argv[2])) == NULL) {
		perror(argv[2]);
		goto out;
	}
	if ((reg = pgsse_registry_parse(text, &err)) == NULL) {
		fprintf(stderr, "pgsse-registry: %s: %s\n", argv[2],
		    err.p ? err.p : "out of memory");
		goto out;
	}
	rc = 0;
	if (strcmp(argv[1], "docs") == 0)
		docs(reg);
	else if (strcmp(argv[1], "js") == 0)
		js(reg);
	else if (strcmp(argv[1], "load") == 0)
		rc = load(text);
	else if (strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "pgsse-registry: unknown command %s\n",
		    argv[1]);
		rc = 2;
	}
out:
	pgsse_registry_free(reg);
	pgsse_buf_free(&err);
	free(text);
	return rc;
}
