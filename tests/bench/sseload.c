/*
 * sseload: an epoll SSE load client for the benchmarks.
 *
 *   sseload -p PORT -u PATH -c CONNS -d SECONDS [-R] [-e EVENTS]
 *       [-a USERFILE] [-E DELIVERIES] [-H SECONDS]
 *
 * Opens CONNS streams to 127.0.0.1:PORT, parses each incrementally, and
 * reads every event's JSON data for "seq" (the publisher's counter) and
 * "t" (its CLOCK_REALTIME in microseconds when it published). It counts
 * deliveries, gaps and duplicates per connection and the latency from
 * publish to arrival, and prints one line of key=value figures, after
 * DURATION seconds of reading (the clock starts once all are connected).
 * With -R a closed stream reconnects after 0.5 to 1 s with the last id
 * it saw as Last-Event-ID, as EventSource does. With -e it stops early
 * once every stream has seen seq EVENTS-1; with -X P each stream is
 * also dropped at random, P times a second on average, and comes back; "silence_ms" is then the
 * longest time in which no connection received anything.
 * With -a each connection sends basic authentication as the user on
 * its line of USERFILE ("user:password", one line a connection, the
 * lines used over again if there are fewer); "receivers" counts the
 * connections that got any event, "refused" the answers other than 200.
 * With -E it stops early once DELIVERIES events have arrived in all,
 * whichever streams had them. With -H it keeps its streams open for
 * SECONDS after it has printed its figures, so that their closing does
 * not fall in the window a caller measures.
 * With -W it waits at most SECONDS (30) for every stream to be
 * subscribed before it prints "ready" (a storm that never completes
 * shows as subscribed below connected), with cpu_ms, its own CPU time
 * until then (user and system). "back" counts the connections
 * that were dropped and then answered 200 again, and "back_ms" is the
 * time from the first drop until every connection was back (-1 if not
 * all were; "dropped" counts the connections cut at least once); with -B it stops as soon as every connection is back, so
 * that a resume storm is timed without publishing. With -N a stream
 * reconnects without Last-Event-ID. With -P it prints the line "primed"
 * once every connection has had an event (so that a caller can cut the
 * streams once all have an id to resume from).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Latency histogram: 10 µs buckets up to 10 s. */
#define HIST_STEP_US 10
#define HIST_BUCKETS 1000000
#define LINE_MAX_B 65536
/* An Authorization header line; a user file's line is at most half. */
#define AUTH_MAX_B 512

struct conn {
	int	 fd;
	char	 id[256];	/* last event id, committed at dispatch */
	char	 idbuf[256];
	char	 data[512];	/* the event's data line, counted at dispatch */
	int64_t	 retry_at;	/* reconnect time, µs, or 0 */
	int	 up;		/* headers seen */
	int	 subscribed;	/* first id block seen: the stream is live */
	int	 closed;
	int	 pending;	/* connecting: the request is not sent yet */
	int	 ok;		/* this answer's status is 200 */
	int	 dropped;	/* closed by the server at least once */
	int	 back;		/* answered 200 again after a drop */
	char	*line;
	size_t	 len;
	int64_t	 lastseq;
	int64_t	 firstseq;
	int64_t	 delivered;
	int64_t	 onconn;	/* events on the current connection */
	char	 from[256];	/* the Last-Event-ID it resumed from */
	char	 auth[AUTH_MAX_B];	/* its Authorization line, or "" */
};

static uint32_t	*hist;
static int64_t	 nlat, gaps, dups, delivered, maxlat, closed_early;
static int64_t	 last_delivery, max_silence, reconnects, nsubscribed;
static int64_t	 refused;	/* answers other than 200 */
static int64_t	 nback, first_drop, all_back;	/* resume storms */
static int64_t	 nlive;		/* connections opened, for "back" */
static int64_t	 ndropped;	/* connections the server closed */
static int64_t	 nprimed;	/* connections that have had an event */
static int64_t	 expect = -1, ndone;	/* -e: stop when all have it */
static int64_t	 expect_total = -1;	/* -E: stop at this many in all */
static double	 churn;			/* -X: disconnects per conn per s */
static int	 trace;			/* SSELOAD_TRACE: print each gap */
static struct conn *conns;

static int64_t
now_us(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int64_t
field(const char *z, const char *key)
{
	const char	*p = strstr(z, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* One "data:" line: the payload JSON, "seq": N and "t": T inside. */
static void
on_data(struct conn *c, const char *z)
{
	int64_t	 seq = field(z, "\"seq\": "), t = field(z, "\"t\": "), lat;

	if (seq < 0)
		seq = field(z, "\"seq\":");
	if (t < 0)
		t = field(z, "\"t\":");
	if (seq < 0 || t < 0)
		return;
	if (c->lastseq < 0 && c->delivered == 0)
		nprimed++;
	if (c->lastseq < 0)
		c->firstseq = seq;
	if (c->lastseq >= 0 && seq <= c->lastseq)
		dups++;
	else if (c->lastseq >= 0 && seq > c->lastseq + 1)
		gaps += seq - c->lastseq - 1;
	if (trace && c->lastseq >= 0 && seq != c->lastseq + 1)
		fprintf(stderr, "sseload: conn %td: seq %lld after %lld, "
		    "%lld events on this connection, resumed from id %s\n",
		    c - conns, (long long)seq, (long long)c->lastseq,
		    (long long)c->onconn, c->from);
	c->onconn++;
	if (seq > c->lastseq) {
		if (expect > 0 && c->lastseq < expect - 1 && seq >= expect - 1)
			ndone++;
		c->lastseq = seq;
	}
	c->delivered++;
	delivered++;
	if (last_delivery > 0 && now_us() - last_delivery > max_silence)
		max_silence = now_us() - last_delivery;
	last_delivery = now_us();
	lat = now_us() - t;
	if (lat < 0)
		lat = 0;
	if (lat > maxlat)
		maxlat = lat;
	hist[lat / HIST_STEP_US < HIST_BUCKETS ? lat / HIST_STEP_US :
	    HIST_BUCKETS - 1]++;
	nlat++;
}

static void
on_bytes(struct conn *c, const char *buf, size_t n)
{
	size_t	 i;
	char	*e;

	for (i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (c->len < LINE_MAX_B - 1)
				c->line[c->len++] = buf[i];
			continue;
		}
		c->line[c->len] = '\0';
		if (c->len > 0 && c->line[c->len - 1] == '\r')
			c->line[--c->len] = '\0';
		if (!c->up) {
			if (strncmp(c->line, "HTTP/", 5) == 0 &&
			    (e = strchr(c->line, ' ')) != NULL) {
				c->ok = strncmp(e + 1, "200", 3) == 0;
				if (!c->ok && refused++ < 3)
					fprintf(stderr, "sseload: conn %td: "
					    "%s\n", c - conns, c->line);
			}
			/* pgsse writes its headers only once the stream is
			 * subscribed; nchan subscribes before answering. */
			if (c->len == 0) {
				c->up = 1;
				if (c->dropped && c->ok && !c->back) {
					c->back = 1;
					if (++nback == nlive)
						all_back = now_us();
				}
				if (!c->subscribed) {
					c->subscribed = 1;
					nsubscribed++;
				}
			}
		} else if (strncmp(c->line, "data:", 5) == 0)
			snprintf(c->data, sizeof(c->data), "%s", c->line + 5);
		else if (strncmp(c->line, "id: ", 4) == 0)
			snprintf(c->idbuf, sizeof(c->idbuf), "%s", c->line + 4);
		else if (c->len == 0) {
			/* Dispatch, as EventSource does: an event cut short
			 * by a closed connection was never received. */
			memcpy(c->id, c->idbuf, sizeof(c->id));
			if (c->data[0] != '\0')
				on_data(c, c->data);
			c->data[0] = '\0';
		}
		else if ((e = strchr(c->line, ';')) != NULL && c->len < 12) {
			/* a chunked-encoding size line: ignore */
		}
		c->len = 0;
	}
}

/*
 * Writes the header line "Authorization: Basic <base64 of z>\r\n" into
 * out (AUTH_MAX_B bytes). Returns -1 if z is too long for it.
 */
static int
basic_auth(const char *z, char *out)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 n = strlen(z), i, o;
	uint32_t		 v;

	o = (size_t)snprintf(out, AUTH_MAX_B, "Authorization: Basic ");
	if (o + (n + 2) / 3 * 4 + 3 > AUTH_MAX_B)
		return -1;
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)(unsigned char)z[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)z[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)z[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	memcpy(out + o, "\r\n", 3);
	return 0;
}

/*
 * Gives each of the n connections the Authorization line of its line of
 * the file at path, the lines used over again if there are fewer.
 * Returns -1 (with a message) if the file cannot be read, is empty, or
 * has a line too long.
 */
static int
load_users(const char *path, struct conn *cs, int n)
{
	FILE	*f;
	char	 line[AUTH_MAX_B / 2];
	int	 i, nl = 0, rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "sseload: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (fgets(line, sizeof(line), f) == NULL) {
			if (nl == 0 || fseek(f, 0, SEEK_SET) != 0 ||
			    fgets(line, sizeof(line), f) == NULL)
				goto out;
		}
		nl++;
		line[strcspn(line, "\r\n")] = '\0';
		if (basic_auth(line, cs[i].auth) != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "sseload: %s: empty, or line %d too long\n",
		    path, nl + 1);
	fclose(f);
	return rc;
}

/*
 * Starts a connection to 127.0.0.1:port without waiting for it (a storm
 * of them must not wait in turn on a full listen queue). Returns the
 * descriptor, or -1 if the connection failed at once.
 */
static int
open_conn(int port)
{
	struct sockaddr_in	 sa;
	int			 fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Once c's connection is made, sends its request: path, its
 * Last-Event-ID (c->from) if any, its Authorization line. Returns -1 if
 * the connection failed or the request could not be sent whole.
 */
static int
send_req(int ep, struct conn *c, const char *path)
{
	struct epoll_event	 ev;
	char			 req[2048];
	int			 n, err = 0;
	socklen_t		 len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0)
		return -1;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	    "Accept: text/event-stream\r\n%s%s%s%s\r\n", path,
	    *c->from ? "Last-Event-ID: " : "", c->from, *c->from ? "\r\n" : "",
	    c->auth);
	if (n < 0 || (size_t)n >= sizeof(req) || write(c->fd, req, (size_t)n) != n)
		return -1;
	c->pending = 0;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/*
 * Closes c's connection, cut by the server or failed; with reconnect,
 * it comes back after 0.5 to 1 s, as EventSource would.
 */
static void
drop_conn(int ep, struct conn *c, int reconnect)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->closed = 1;
	closed_early++;
	if (first_drop == 0)
		first_drop = now_us();
	if (!c->dropped)
		ndropped++;
	c->dropped = 1;
	if (reconnect)
		c->retry_at = now_us() + 500000 + rand() % 500000;
}

/*
 * One epoll event on c: sends the request once connected, else reads
 * what arrived; drops the connection if it failed or was closed.
 */
static void
on_event(int ep, struct conn *c, const char *path, int reconnect)
{
	char	 buf[65536];
	ssize_t	 r;

	if (c->pending) {
		if (send_req(ep, c, path) != 0)
			drop_conn(ep, c, reconnect);
		return;
	}
	while ((r = read(c->fd, buf, sizeof(buf))) > 0)
		on_bytes(c, buf, (size_t)r);
	if (r == 0 || (r < 0 && errno != EAGAIN))
		drop_conn(ep, c, reconnect);
}

/*
 * Starts c's connection and watches it. Returns -1 if it failed at once.
 */
static int
start_conn(int ep, struct conn *c, int port)
{
	struct epoll_event	 ev;

	if ((c->fd = open_conn(port)) < 0)
		return -1;
	c->pending = 1;
	c->closed = 0;
	ev.events = EPOLLOUT;
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	return 0;
}

static int64_t
percentile(double q)
{
	int64_t	 want = (int64_t)(q * (double)nlat), seen = 0;
	int	 i;

	for (i = 0; i < HIST_BUCKETS; i++)
		if ((seen += hist[i]) > want)
			return (int64_t)i * HIST_STEP_US;
	return maxlat;
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 evs[512];
	struct rlimit		 rl;
	struct rusage		 ru;
	struct conn		*cs;
	const char		*path = "/api/sse/logs", *users = NULL;
	int64_t			 t0, tconn, end, connected = 0, receivers = 0;
	int			 port = 8080, nconn = 100, secs = 10, ep, i, n, ch;
	int			 reconnect = 0, hold = 0, wait_s = 30;
	int			 stop_back = 0, noid = 0, primed = 0;
	int64_t			 next_churn = 0;

	while ((ch = getopt(argc, argv, "a:Bp:Pu:c:d:e:E:H:NW:X:R")) != -1) {
		switch (ch) {
		case 'X': churn = atof(optarg); reconnect = 1; break;
		case 'a': users = optarg; break;
		case 'B': stop_back = 1; reconnect = 1; break;
		case 'W': wait_s = atoi(optarg); break;
		case 'N': noid = 1; break;
		case 'P': primed = 1; break;
		case 'e': expect = atoll(optarg); break;
		case 'E': expect_total = atoll(optarg); break;
		case 'H': hold = atoi(optarg); break;
		case 'R': reconnect = 1; break;
		case 'p': port = atoi(optarg); break;
		case 'u': path = optarg; break;
		case 'c': nconn = atoi(optarg); break;
		case 'd': secs = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: sseload -p PORT -u PATH -c CONNS "
			    "-d SECONDS [-R] [-B] [-N] [-P] [-e EVENTS] [-E DELIVERIES] "
			    "[-a USERFILE] [-H SECONDS] [-W SECONDS] "
			    "[-X RATE]\n");
			return 2;
		}
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	hist = calloc(HIST_BUCKETS, sizeof(*hist));
	cs = conns = calloc((size_t)nconn, sizeof(*cs));
	if (hist == NULL || cs == NULL || nconn < 1) {
		fprintf(stderr, "sseload: bad -c, or out of memory\n");
		return 1;
	}
	if (users != NULL && load_users(users, cs, nconn) != 0)
		return 1;
	trace = getenv("SSELOAD_TRACE") != NULL;
	ep = epoll_create1(0);
	t0 = now_us();
	for (i = 0; i < nconn; i++) {
		cs[i].lastseq = -1;
		cs[i].line = malloc(LINE_MAX_B);
		if (start_conn(ep, &cs[i], port) != 0) {
			fprintf(stderr, "sseload: connect %d failed: %s\n", i,
			    strerror(errno));
			cs[i].closed = 1;
			continue;
		}
		connected++;
	}
	/* Ready once every stream is subscribed (its headers arrived), or
	 * failed. */
	nlive = connected;
	end = now_us() + (int64_t)wait_s * 1000000;
	while (nsubscribed + closed_early < connected && now_us() < end) {
		n = epoll_wait(ep, evs, 512, 50);
		for (i = 0; i < n; i++)
			on_event(ep, evs[i].data.ptr, path, reconnect);
	}
	tconn = now_us() - t0;
	getrusage(RUSAGE_SELF, &ru);
	printf("ready connected=%" PRId64 " subscribed=%" PRId64
	    " cpu_ms=%ld\n", connected, nsubscribed,
	    (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000L +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000L);
	fflush(stdout);
	end = now_us() + (int64_t)secs * 1000000;
	while (now_us() < end && !(expect > 0 && ndone >= connected) &&
	    !(expect_total > 0 && delivered >= expect_total) &&
	    !(stop_back && nlive > 0 && nback == nlive)) {
		n = epoll_wait(ep, evs, 512, 50);
		/* Read first: once a stream is dropped below, its descriptor
		 * may go to a new stream, and an event from this wait would
		 * then be read into the wrong one. */
		for (i = 0; i < n; i++)
			on_event(ep, evs[i].data.ptr, path, reconnect);
		if (primed && nprimed >= connected) {
			printf("primed\n");
			fflush(stdout);
			primed = 0;
		}
		if (churn > 0 && now_us() >= next_churn) {
			/* Drop random streams, as users closing tabs would. */
			next_churn = now_us() + 100000;
			for (i = 0; i < nconn; i++) {
				struct conn *c = &cs[i];
				if (c->closed || (double)rand() / RAND_MAX >=
				    churn / 10)
					continue;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->closed = 1;
				c->retry_at = now_us() + 200000;
			}
		}
		for (i = 0; reconnect && i < nconn; i++) {
			struct conn *c = &cs[i];
			if (c->retry_at == 0 || c->retry_at > now_us())
				continue;
			c->retry_at = 0;
			c->up = 0;
			c->ok = 0;
			c->len = 0;
			/* A new stream starts with no half-read event. */
			memcpy(c->idbuf, c->id, sizeof(c->idbuf));
			c->data[0] = '\0';
			c->onconn = 0;
			if (noid)
				c->from[0] = '\0';
			else
				memcpy(c->from, c->id, sizeof(c->from));
			if (start_conn(ep, c, port) != 0) {
				c->retry_at = now_us() + 500000;
				continue;
			}
			reconnects++;
		}
	}
	{
		int64_t fmax = -1, lmin = -1, nlate = 0;
		for (i = 0; i < nconn; i++) {
			if (cs[i].lastseq < 0)
				continue;
			if (cs[i].firstseq > fmax)
				fmax = cs[i].firstseq;
			if (lmin < 0 || cs[i].lastseq < lmin)
				lmin = cs[i].lastseq;
			nlate += cs[i].firstseq > 0;
			receivers++;
		}
		printf("first_seq_max=%" PRId64 " late_starts=%" PRId64
		    " last_seq_min=%" PRId64 " ", fmax, nlate, lmin);
	}
	printf("subscribed=%" PRId64 " connected=%" PRId64 " connect_ms=%.1f delivered=%" PRId64
	    " gaps=%" PRId64 " dups=%" PRId64 " closed=%" PRId64
	    " p50_us=%" PRId64 " p99_us=%" PRId64 " max_us=%" PRId64
	    " reconnects=%" PRId64 " silence_ms=%" PRId64
	    " receivers=%" PRId64 " refused=%" PRId64
	    " dropped=%" PRId64 " back=%" PRId64 " back_ms=%.1f\n",
	    nsubscribed, connected, (double)tconn / 1000.0, delivered, gaps, dups,
	    closed_early, percentile(0.50), percentile(0.99), maxlat,
	    reconnects, max_silence / 1000, receivers, refused, ndropped, nback,
	    all_back > 0 ? (double)(all_back - first_drop) / 1000.0 : -1.0);
	fflush(stdout);
	if (hold > 0)
		sleep((unsigned int)hold);
	return 0;
}
