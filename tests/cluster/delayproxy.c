/*
 * delayproxy: added latency for the cluster test (tests/cluster/run.sh),
 * since this kernel has no netem.
 *
 *   delayproxy -l PORT -d MS HOST:PORT...
 *
 * Listens on 127.0.0.1:PORT; each connection it accepts is joined to the
 * first HOST:PORT that accepts one, and every byte either way is held
 * MS milliseconds before it is passed on. Prints "accepted N HOST:PORT"
 * for each. At most PAIRS_MAX connections, CHUNKS_MAX chunks in flight
 * each way (it stops reading a side while its queue is full). Runs
 * until killed; exits 2 on a usage error, 1 if it cannot listen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAIRS_MAX 16
#define TARGETS_MAX 4
#define CHUNKS_MAX 256
#define CHUNK_B 16384

struct chunk {
	int64_t	 due;		/* ms */
	size_t	 len, off;
	char	 b[CHUNK_B];
};

/* One direction: read from fd[from], held, written to fd[!from]. */
struct way {
	struct chunk	*q[CHUNKS_MAX];	/* a ring */
	size_t		 head, n;
};

struct pair {
	int		 fd[2];		/* the client's, the target's; -1 */
	struct way	 w[2];		/* w[i]: read from fd[i] */
};

static struct pair	 pairs[PAIRS_MAX];
static int64_t		 delay;

static int64_t
now_ms(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Parses "a.b.c.d:port" into sa. Returns -1 if it is not one. */
static int
addr(const char *z, struct sockaddr_in *sa)
{
	char	 host[64], *colon;

	snprintf(host, sizeof(host), "%s", z);
	if ((colon = strchr(host, ':')) == NULL)
		return -1;
	*colon = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* Closes p's sides and drops what it holds. */
static void
pair_close(struct pair *p)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (p->fd[i] != -1)
			close(p->fd[i]);
		p->fd[i] = -1;
		while (p->w[i].n > 0) {
			free(p->w[i].q[p->w[i].head]);
			p->w[i].head = (p->w[i].head + 1) % CHUNKS_MAX;
			p->w[i].n--;
		}
	}
}

/* Reads what side i of p has into a new chunk. Returns -1 at its end. */
static int
pair_read(struct pair *p, int i)
{
	struct way	*w = &p->w[i];
	struct chunk	*c;
	ssize_t		 r;

	if (w->n >= CHUNKS_MAX)
		return 0;
	if ((c = malloc(sizeof(*c))) == NULL)
		return -1;
	if ((r = read(p->fd[i], c->b, sizeof(c->b))) <= 0) {
		free(c);
		return r == -1 && errno == EINTR ? 0 : -1;
	}
	c->len = (size_t)r;
	c->off = 0;
	c->due = now_ms() + delay;
	w->q[(w->head + w->n) % CHUNKS_MAX] = c;
	w->n++;
	return 0;
}

/* Writes the chunks of way i that are due to the other side. */
static int
pair_flush(struct pair *p, int i)
{
	struct way	*w = &p->w[i];
	struct chunk	*c;
	ssize_t		 r;

	while (w->n > 0 && (c = w->q[w->head])->due <= now_ms()) {
		if ((r = write(p->fd[!i], c->b + c->off, c->len - c->off)) <= 0)
			return -1;
		if ((c->off += (size_t)r) < c->len)
			return 0;
		free(c);
		w->head = (w->head + 1) % CHUNKS_MAX;
		w->n--;
	}
	return 0;
}

/* Joins a connection accepted on lfd to the first target that takes it. */
static void
accept_one(int lfd, struct sockaddr_in *t, char **names, int nt)
{
	static long	 accepted;
	int		 fd, up, i, k;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		return;
	for (k = 0; k < PAIRS_MAX && pairs[k].fd[0] != -1; k++)
		;
	for (i = 0; k < PAIRS_MAX && i < nt; i++) {
		if ((up = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			break;
		if (connect(up, (struct sockaddr *)&t[i], sizeof(t[i])) == 0) {
			pairs[k].fd[0] = fd;
			pairs[k].fd[1] = up;
			printf("accepted %ld %s\n", ++accepted, names[i]);
			fflush(stdout);
			return;
		}
		close(up);
	}
	close(fd);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 la, t[TARGETS_MAX];
	struct pollfd		 pfd[1 + 2 * PAIRS_MAX];
	int			 ch, lfd, nt, i, k, one = 1, port = 0;

	while ((ch = getopt(argc, argv, "l:d:")) != -1)
		switch (ch) {
		case 'l':
			port = atoi(optarg);
			break;
		case 'd':
			delay = atoll(optarg);
			break;
		default:
			return 2;
		}
	nt = argc - optind;
	for (i = 0; i < nt && i < TARGETS_MAX; i++)
		if (addr(argv[optind + i], &t[i]) == -1)
			nt = 0;
	if (port < 1 || port > 65535 || delay < 0 || nt < 1 ||
	    nt > TARGETS_MAX) {
		fprintf(stderr, "usage: delayproxy -l PORT -d MS HOST:PORT... "
		    "(at most %d)\n", TARGETS_MAX);
		return 2;
	}
	memset(&la, 0, sizeof(la));
	la.sin_family = AF_INET;
	la.sin_port = htons((uint16_t)port);
	la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&la, sizeof(la)) == -1 ||
	    listen(lfd, 16) == -1) {
		perror("delayproxy: listen");
		return 1;
	}
	for (k = 0; k < PAIRS_MAX; k++)
		pairs[k].fd[0] = pairs[k].fd[1] = -1;
	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (k = 0; k < PAIRS_MAX; k++)
			for (i = 0; i < 2; i++) {
				pfd[1 + 2 * k + i].fd = pairs[k].fd[i];
				pfd[1 + 2 * k + i].events =
				    pairs[k].w[i].n < CHUNKS_MAX ? POLLIN : 0;
			}
		if (poll(pfd, 1 + 2 * PAIRS_MAX, 5) == -1 && errno != EINTR)
			return 1;
		if (pfd[0].revents & POLLIN)
			accept_one(lfd, t, argv + optind, nt);
		for (k = 0; k < PAIRS_MAX; k++)
			for (i = 0; i < 2 && pairs[k].fd[0] != -1; i++)
				if (((pfd[1 + 2 * k + i].revents &&
				    pfd[1 + 2 * k + i].fd == pairs[k].fd[i] &&
				    pair_read(&pairs[k], i) == -1)) ||
				    pair_flush(&pairs[k], i) == -1)
					pair_close(&pairs[k]);
	}
}
