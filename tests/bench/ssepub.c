/*
 * ssepub: the benchmarks' publisher. Publishes COUNT events at RATE per
 * second, each carrying "seq" and "t" (CLOCK_REALTIME, µs):
 *   ssepub pgsse RATE COUNT            through pgsse.publish() (PG* env)
 *   ssepub nchan RATE COUNT PORT PATH  by HTTP POST to nchan
 *   ssepub user RATE COUNT USER        to USER alone, on the personal
 *                                      channel notices (event notice)
 * Prints the rate it achieved. When the database goes away it keeps
 * reconnecting and retries the same event, so "seq" stays gap-free in
 * the log and a gap seen by a client is a real loss.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

static int64_t
now_us(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* The statement of each mode that publishes through PostgreSQL. */
#define PUB_SQL "select pgsse.publish('logs', 'log', $1::jsonb)"
#define PUB_USER_SQL "select pgsse.publish('notices', 'notice', $1::jsonb, $2)"

static int
post(int port, const char *path, const char *body)
{
	struct sockaddr_in	 sa;
	char			 req[2048], resp[512];
	int			 fd, n;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	n = snprintf(req, sizeof(req), "POST %s HTTP/1.0\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    path, strlen(body), body);
	if (write(fd, req, (size_t)n) != n || read(fd, resp, sizeof(resp)) <= 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
main(int argc, char *argv[])
{
	PGconn		*conn = NULL;
	PGresult	*res;
	char		 json[256];
	const char	*params[2] = { json, NULL }, *sql = PUB_SQL;
	int64_t		 rate, count, i, start, due, failures = 0;
	int		 nchan, nparams = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: ssepub pgsse|nchan|user RATE COUNT "
		    "[PORT PATH | USER]\n");
		return 2;
	}
	nchan = strcmp(argv[1], "nchan") == 0;
	if (strcmp(argv[1], "user") == 0) {
		if (argc < 5) {
			fprintf(stderr, "ssepub: user needs USER\n");
			return 2;
		}
		sql = PUB_USER_SQL;
		params[1] = argv[4];
		nparams = 2;
	}
	rate = atoll(argv[2]);
	count = atoll(argv[3]);
	if (!nchan) {
		conn = PQconnectdb("");
		if (PQstatus(conn) != CONNECTION_OK) {
			fprintf(stderr, "ssepub: %s", PQerrorMessage(conn));
			return 1;
		}
		res = PQprepare(conn, "pub", sql, nparams, NULL);
		PQclear(res);
	}
	start = now_us();
	for (i = 0; i < count; i++) {
		due = start + i * 1000000 / rate;
		while (now_us() < due)
			usleep((useconds_t)(due - now_us() > 1000 ? 500 : 50));
		snprintf(json, sizeof(json), "{%s,\"seq\":%" PRId64 ",\"t\":%"
		    PRId64 "}", nparams == 2 ? "\"text\":\"x\"" :
		    "\"source\":\"bench\",\"line\":\"x\"", i, now_us());
		if (nchan) {
			if (post(atoi(argv[4]), argv[5], json) != 0)
				fprintf(stderr, "ssepub: post failed\n");
		} else {
			res = PQexecPrepared(conn, "pub", nparams, params, NULL,
			    NULL, 0);
			if (PQresultStatus(res) != PGRES_TUPLES_OK) {
				PQclear(res);
				if (++failures > 600) {
					fprintf(stderr, "ssepub: giving up\n");
					break;
				}
				usleep(100000);
				if (PQstatus(conn) != CONNECTION_OK) {
					PQreset(conn);
					PQclear(PQprepare(conn, "pub", sql,
					    nparams, NULL));
				}
				i--;	/* the same seq again */
				start += 100000;
				continue;
			}
			PQclear(res);
		}
	}
	printf("published=%" PRId64 " rate=%.0f failures=%" PRId64 "\n", count,
	    (double)count * 1e6 / (double)(now_us() - start), failures);
	PQfinish(conn);
	return 0;
}
