/*
 * ssecheck: the cluster test's client (tests/cluster/run.sh).
 *
 *   ssecheck -c CONNS -e EVENTS [-r RESETS] -t SECONDS -u PATH HOST:PORT...
 *
 * Opens CONNS streams of PATH, spread over the web hosts in turn, and
 * checks that each receives the events with "seq" 0 to EVENTS-1 exactly
 * once and in order, with ids that increase (the number that ends an id
 * increases while what comes before it stays), and exactly RESETS
 * stream_reset events (default 0: a failover of asynchronous
 * replication that lost events tells each stream once). A closed stream
 * comes back after RETRY_MS with the last id it saw as Last-Event-ID, as
 * EventSource does (an id line counts even in an event without data).
 * It prints, on standard output:
 *   ready N          once all N streams have been answered 200
 *   all S MS         when every stream has seq S (MS: CLOCK_REALTIME, ms)
 *   resets K MS      when every stream has had K stream_reset
 *   result k=v...    at the end: once all have every event, or at SECONDS
 * Exits 0 if every stream got every event once, in order, and RESETS
 * stream_reset; 1 otherwise; 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNS_MAX 1024
#define HOSTS_MAX 8
#define LINE_MAX_B 4096
#define ID_MAX_B 256
/* How long a closed stream waits before it comes back. */
#define RETRY_MS 300
/* How long a stream may go unanswered (no headers) before it is retried. */
#define ANSWER_MS 10000

struct conn {
	int		 fd;		/* -1 while closed */
	struct sockaddr_in sa;
	char		 host[64];
	int		 up;		/* headers seen */
	int		 answered;	/* ever answered 200 */
	int64_t		 since;		/* opened at, ms */
	int64_t		 retry_at;	/* ms, while closed */
	char		 line[LINE_MAX_B];
	size_t		 len;
	char		 id[ID_MAX_B];	/* the last event's, for resuming */
	char		 idbuf[ID_MAX_B];
	char		 event[64];
	char		 data[LINE_MAX_B];
	int64_t		 lastseq;
	int64_t		 resets;	/* stream_reset events seen */
};

static struct conn	 conns[CONNS_MAX];
static int		 nconns;
static int64_t		 events, delivered, gaps, dups, disorder, resets;
static int64_t		 want_resets;
static int64_t		 reconnects, refused;
static const char	*path;

static int64_t
now_ms(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Splits id into the text before its last digits and their value. */
static int64_t
id_split(const char *id, size_t *prefix)
{
	size_t	 n = strlen(id);

	while (n > 0 && id[n - 1] >= '0' && id[n - 1] <= '9')
		n--;
	*prefix = n;
	return id[n] != '\0' ? strtoll(id + n, NULL, 10) : -1;
}

/* Checks a new id against c's last one: the number must increase. */
static void
check_id(struct conn *c, const char *id)
{
	size_t	 pa, pb;
	int64_t	 a = id_split(c->id, &pa), b = id_split(id, &pb);

	if (c->id[0] == '\0' || pa != pb || strncmp(c->id, id, pa) != 0)
		return;		/* the first, or another epoch */
	if (b <= a) {
		disorder++;
		fprintf(stderr, "ssecheck: conn %td: id %s after %s\n",
		    c - conns, id, c->id);
	}
}

/* An event was dispatched on c: checks its id and seq. */
static void
on_event(struct conn *c)
{
	const char	*p;
	int64_t		 seq;

	if (strcmp(c->event, "stream_reset") == 0) {
		resets++;
		if (++c->resets > want_resets)
			fprintf(stderr, "ssecheck: conn %td (%s): stream_reset "
			    "%" PRId64 ": %s\n", c - conns, c->host, c->resets,
			    c->data);
	}
	if (c->idbuf[0] != '\0') {
		check_id(c, c->idbuf);
		memcpy(c->id, c->idbuf, sizeof(c->id));
	}
	if ((p = strstr(c->data, "\"seq\":")) == NULL)
		return;
	seq = strtoll(p + 6, NULL, 10);
	delivered++;
	if (seq <= c->lastseq)
		dups++;
	else if (seq > c->lastseq + 1)
		gaps += seq - c->lastseq - 1;
	if (seq != c->lastseq + 1)
		fprintf(stderr, "ssecheck: conn %td (%s): seq %" PRId64
		    " after %" PRId64 ", id %s\n", c - conns, c->host, seq,
		    c->lastseq, c->id);
	if (seq > c->lastseq)
		c->lastseq = seq;
}

/* One line of c's response. */
static void
on_line(struct conn *c, char *z)
{
	if (!c->up) {
		if (strncmp(z, "HTTP/", 5) == 0 && strstr(z, " 200") == NULL) {
			if (refused++ < 5)
				fprintf(stderr, "ssecheck: conn %td: %s\n",
				    c - conns, z);
			close(c->fd);
			c->fd = -1;
			c->retry_at = now_ms() + RETRY_MS;
		} else if (*z == '\0')
			c->up = c->answered = 1;
		return;
	}
	if (strncmp(z, "data:", 5) == 0)
		snprintf(c->data, sizeof(c->data), "%s", z + 5);
	else if (strncmp(z, "id:", 3) == 0)
		snprintf(c->idbuf, sizeof(c->idbuf), "%s", z + (z[3] == ' ' ?
		    4 : 3));
	else if (strncmp(z, "event:", 6) == 0)
		snprintf(c->event, sizeof(c->event), "%s", z + (z[6] == ' ' ?
		    7 : 6));
	else if (*z == '\0') {
		/* Dispatch, as EventSource does: an event cut short by a
		 * closed connection was never received; an id without data
		 * (a stream's first line) still sets the last id. */
		if (c->data[0] != '\0')
			on_event(c);
		else if (c->idbuf[0] != '\0')
			memcpy(c->id, c->idbuf, sizeof(c->id));
		c->data[0] = c->idbuf[0] = c->event[0] = '\0';
	}
}

static void
on_bytes(struct conn *c, const char *buf, size_t n)
{
	size_t	 i;

	for (i = 0; i < n && c->fd != -1; i++) {
		if (buf[i] != '\n') {
			if (c->len < LINE_MAX_B - 1)
				c->line[c->len++] = buf[i];
			continue;
		}
		if (c->len > 0 && c->line[c->len - 1] == '\r')
			c->len--;
		c->line[c->len] = '\0';
		c->len = 0;
		on_line(c, c->line);
	}
}

/* Opens c's stream, resuming from its last id. Returns -1 on failure. */
static int
conn_open(struct conn *c)
{
	char	 req[1024];
	int	 n;

	c->up = 0;
	c->len = 0;
	c->data[0] = c->idbuf[0] = c->event[0] = '\0';
	c->since = now_ms();
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n"
	    "Accept: text/event-stream\r\n%s%s%s\r\n", path, c->host,
	    c->id[0] ? "Last-Event-ID: " : "", c->id, c->id[0] ? "\r\n" : "");
	if (connect(c->fd, (struct sockaddr *)&c->sa, sizeof(c->sa)) == -1 ||
	    n < 0 || (size_t)n >= sizeof(req) ||
	    write(c->fd, req, (size_t)n) != n) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/* Returns the smallest seq all streams have. */
static int64_t
min_seq(void)
{
	int64_t	 m = INT64_MAX;
	int	 i;

	for (i = 0; i < nconns; i++)
		if (conns[i].lastseq < m)
			m = conns[i].lastseq;
	return m;
}

/* Returns the fewest stream_reset any stream has had. */
static int64_t
min_resets(void)
{
	int64_t	 m = INT64_MAX;
	int	 i;

	for (i = 0; i < nconns; i++)
		if (conns[i].resets < m)
			m = conns[i].resets;
	return m;
}

/* Sets up the streams over the n hosts ("a.b.c.d:port"). */
static int
conns_init(int nc, char **hosts, int n)
{
	struct conn	*c;
	char		*colon;
	int		 i;

	for (i = 0; i < nc; i++) {
		c = &conns[i];
		c->fd = -1;
		c->lastseq = -1;
		snprintf(c->host, sizeof(c->host), "%s", hosts[i % n]);
		if ((colon = strchr(c->host, ':')) == NULL)
			return -1;
		c->sa.sin_family = AF_INET;
		c->sa.sin_port = htons((uint16_t)atoi(colon + 1));
		*colon = '\0';
		if (inet_pton(AF_INET, c->host, &c->sa.sin_addr) != 1)
			return -1;
		*colon = ':';
	}
	nconns = nc;
	return 0;
}

/* Opens, reads and reopens streams until all have every event or the
 * deadline (ms) passes. */
static void
run(int64_t deadline)
{
	struct pollfd	 pfd[CONNS_MAX];
	char		 buf[65536];
	int64_t		 shown = -1, shown_resets = 0, m, t;
	ssize_t		 r;
	int		 i, ready = 0, nup;

	while ((t = now_ms()) < deadline && (m = min_seq()) < events - 1) {
		if (m > shown) {
			printf("all %" PRId64 " %" PRId64 "\n", m, t);
			fflush(stdout);
			shown = m;
		}
		if ((m = min_resets()) > shown_resets) {
			printf("resets %" PRId64 " %" PRId64 "\n", m, t);
			fflush(stdout);
			shown_resets = m;
		}
		for (i = 0, nup = 0; i < nconns; i++) {
			if (conns[i].fd == -1 && t >= conns[i].retry_at &&
			    conn_open(&conns[i]) == -1)
				conns[i].retry_at = t + RETRY_MS;
			if (conns[i].fd != -1 && !conns[i].up &&
			    t - conns[i].since > ANSWER_MS) {
				close(conns[i].fd);
				conns[i].fd = -1;
				conns[i].retry_at = t;
			}
			nup += conns[i].answered;
			pfd[i].fd = conns[i].fd;
			pfd[i].events = POLLIN;
		}
		if (!ready && nup == nconns) {
			printf("ready %d\n", nconns);
			fflush(stdout);
			ready = 1;
		}
		if (poll(pfd, (nfds_t)nconns, 100) == -1 && errno != EINTR)
			break;
		for (i = 0; i < nconns; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if ((r = read(pfd[i].fd, buf, sizeof(buf))) > 0) {
				on_bytes(&conns[i], buf, (size_t)r);
				continue;
			}
			if (r == -1 && errno == EINTR)
				continue;
			if (conns[i].fd != -1)
				close(conns[i].fd);
			conns[i].fd = -1;
			conns[i].retry_at = now_ms() + RETRY_MS;
			reconnects++;
		}
	}
	if ((m = min_seq()) > shown)
		printf("all %" PRId64 " %" PRId64 "\n", m, now_ms());
}

int
main(int argc, char *argv[])
{
	long	 nc = 0, secs = 0;
	int	 ch, i, ok;

	while ((ch = getopt(argc, argv, "c:e:r:t:u:")) != -1)
		switch (ch) {
		case 'c':
			nc = strtol(optarg, NULL, 10);
			break;
		case 'e':
			events = strtoll(optarg, NULL, 10);
			break;
		case 'r':
			want_resets = strtoll(optarg, NULL, 10);
			break;
		case 't':
			secs = strtol(optarg, NULL, 10);
			break;
		case 'u':
			path = optarg;
			break;
		default:
			return 2;
		}
	if (nc < 1 || nc > CONNS_MAX || events < 1 || secs < 1 ||
	    want_resets < 0 ||
	    path == NULL || optind == argc || argc - optind > HOSTS_MAX ||
	    conns_init((int)nc, argv + optind, argc - optind) == -1) {
		fprintf(stderr, "usage: ssecheck -c CONNS (1 to %d) -e EVENTS "
		    "[-r RESETS] -t SECONDS -u PATH HOST:PORT... (at most "
		    "%d)\n",
		    CONNS_MAX, HOSTS_MAX);
		return 2;
	}
	run(now_ms() + secs * 1000);
	for (i = 0; i < nconns; i++)
		if (conns[i].fd != -1)
			close(conns[i].fd);
	ok = delivered == nc * events && gaps == 0 && dups == 0 &&
	    disorder == 0 && resets == nc * want_resets &&
	    min_resets() == want_resets;
	printf("result conns=%ld events=%" PRId64 " delivered=%" PRId64
	    " expected=%" PRId64 " gaps=%" PRId64 " dups=%" PRId64
	    " disorder=%" PRId64 " resets=%" PRId64 " resets_expected=%"
	    PRId64 " reconnects=%" PRId64
	    " refused=%" PRId64 " ok=%d\n", nc, events, delivered,
	    nc * events, gaps, dups, disorder, resets, nc * want_resets,
	    reconnects, refused,
	    ok);
	return ok ? 0 : 1;
}
