/*
 * pgsse-stream: the Server-Sent Events program. Serves
 *   /api/sse/<channel>, /api/sse?channel=a&channel=b,
 *   /api/jobs/<id>/stream, /api/sse-health and /api/sse-metrics
 * as a FastCGI server (spawned with the socket on fd 0, or on --socket),
 * or as one plain CGI request.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"

static const struct option longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "max-clients", required_argument, NULL, 'c' },
	{ "heartbeat", required_argument, NULL, 'b' },
	{ "retry", required_argument, NULL, 'r' },
	{ "queue", required_argument, NULL, 'q' },
	{ "no-raw", no_argument, NULL, 'n' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Prints the usage and the configuration, its passwords masked. */
static void
usage(FILE *f, const struct pgsse_stream_cfg *cfg)
{
	struct pgsse_buf	 conninfo = { NULL, 0, 0 };

	if (pgsse_redact_conninfo(&conninfo, cfg->conninfo) != PGSSE_OK)
		pgsse_buf_free(&conninfo);
	fprintf(f,
	    "usage: pgsse-stream [--socket PATH|:PORT|HOST:PORT] [--max-clients N]\n"
	    "                    [--heartbeat SEC] [--retry MS] [--queue N]\n"
	    "                    [--no-raw]\n"
	    "Streams PostgreSQL events as text/event-stream over FastCGI.\n"
	    "The database comes from PGSSE_STREAM_CONNINFO, PGSSE_CONNINFO or the PG* variables.\n"
	    "Effective configuration:\n"
	    "  socket       %s\n  max-clients  %u (PGSSE_MAX_CLIENTS)\n"
	    "  heartbeat    %u s (PGSSE_HEARTBEAT)\n  retry        %u ms\n"
	    "  queue        %zu events per client\n"
	    "  raw NOTIFY   %s (PGSSE_RAW)\n  conninfo     \"%s\"\n",
	    cfg->socket ? cfg->socket : "fd 0 (spawned by the web server)",
	    cfg->max_clients, cfg->heartbeat, cfg->retry_ms, cfg->queue_max,
	    cfg->raw ? "mapped" : "ignored", conninfo.p != NULL ? conninfo.p :
	    PGSSE_REDACTED);
	pgsse_buf_free(&conninfo);
}

/* Parses a number in [lo, hi]; exits with a message otherwise. */
static unsigned long
number(const char *name, const char *z, unsigned long lo, unsigned long hi)
{
	char		*end;
	unsigned long	 v;

	v = strtoul(z, &end, 10);
	if (*z == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "pgsse-stream: %s must be %lu to %lu\n", name,
		    lo, hi);
		exit(2);
	}
	return v;
}

int
main(int argc, char *argv[])
{
	struct pgsse_stream_cfg	 cfg;
	const char		*z;
	int			 ch;

	pgsse_stream_cfg_default(&cfg);
	if ((z = getenv("PGSSE_STREAM_CONNINFO")) != NULL ||
	    (z = getenv("PGSSE_CONNINFO")) != NULL)
		cfg.conninfo = z;
	if ((z = getenv("PGSSE_SOCKET")) != NULL && *z != '\0')
		cfg.socket = z;
	if ((z = getenv("PGSSE_MAX_CLIENTS")) != NULL)
		cfg.max_clients = number("PGSSE_MAX_CLIENTS", z, 1, 1000000);
	if ((z = getenv("PGSSE_HEARTBEAT")) != NULL)
		cfg.heartbeat = number("PGSSE_HEARTBEAT", z, 1, 3600);
	if ((z = getenv("PGSSE_RAW")) != NULL)
		cfg.raw = strcmp(z, "off") != 0 && strcmp(z, "0") != 0;
	while ((ch = getopt_long(argc, argv, "s:c:b:r:q:nvhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			cfg.socket = optarg;
			break;
		case 'c':
			cfg.max_clients = number("--max-clients", optarg, 1,
			    1000000);
			break;
		case 'b':
			cfg.heartbeat = number("--heartbeat", optarg, 1, 3600);
			break;
		case 'r':
			cfg.retry_ms = number("--retry", optarg, 100, 600000);
			break;
		case 'q':
			cfg.queue_max = number("--queue", optarg, 8, 1 << 20);
			break;
		case 'n':
			cfg.raw = 0;
			break;
		case 'v':
			pgsse_log_set_level(PGSSE_LOG_DEBUG);
			break;
		case 'V':
			puts("pgsse-stream " PGSSE_VERSION);
			return 0;
		case 'h':
			usage(stdout, &cfg);
			return 0;
		default:
			usage(stderr, &cfg);
			return 2;
		}
	}
	return pgsse_stream_main(&cfg);
}
