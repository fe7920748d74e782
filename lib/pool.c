/*
 * pool.c: a few database connections shared by a stream process's client
 * threads, for replays. A connection belongs to the thread that took it
 * until it puts it back. Calls db.c only.
 *
 * An idle connection may have died while it waited: its server was
 * stopped or crashed, and a failover left it with the old primary. The
 * server's last words (a FATAL message) and its FIN make the socket
 * readable, whereas a healthy idle connection has nothing to say, so
 * one that is readable when taken is closed and a new one opened in its
 * place (to whichever server the conninfo reaches now). One whose peer
 * went silent (no FIN, no RST) looks alive until its keepalives give up
 * (PGSSE_DB_DEAD_MS, db.c), when its socket has an error to read; a
 * query on it before then fails within that bound, and pgsse_pool_put
 * closes it.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "pgsse.h"
#include "extern.h"

struct pgsse_pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* signalled when one is put back */
	PGconn		**idle;		/* lock: open, not taken */
	size_t		 nidle;		/* lock */
	size_t		 nopen;		/* lock: idle, taken or opening */
	size_t		 max;
	const char	*conninfo;
};

/*
 * Makes a pool of at most max connections. Returns NULL if memory ran
 * out. The caller frees it with pgsse_pool_free.
 */
struct pgsse_pool *
pgsse_pool_new(const char *conninfo, size_t max)
{
	struct pgsse_pool	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->idle = calloc(max, sizeof(PGconn *))) == NULL) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->conninfo = conninfo;
	p->max = max;
	return p;
}

/*
 * Returns 1 if the idle connection conn looks alive: libpq has it good
 * and idle, and its socket has nothing to read (see the top of the
 * file). Returns 0 otherwise. Can't fail.
 */
static int
pool_quiet(PGconn *conn)
{
	struct pollfd	 pfd;

	if (PQstatus(conn) != CONNECTION_OK ||
	    PQtransactionStatus(conn) != PQTRANS_IDLE)
		return 0;
	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	return pfd.fd != -1 && poll(&pfd, 1, 0) == 0;
}

/*
 * Takes a connection: an idle one that still looks alive (one that does
 * not is closed and replaced), else a new one if fewer than max are
 * open, else waits up to PGSSE_POOL_WAIT_SEC for one. Returns NULL on
 * failure or time-out. The caller owns the connection until
 * pgsse_pool_put.
 */
PGconn *
pgsse_pool_get(struct pgsse_pool *p)
{
	PGconn		*conn = NULL;
	struct timespec	 deadline;
	int		 open = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += PGSSE_POOL_WAIT_SEC;
	pthread_mutex_lock(&p->lock);
	while (p->nidle == 0 && p->nopen >= p->max)
		if (pthread_cond_timedwait(&p->cond, &p->lock, &deadline))
			break;
	if (p->nidle > 0)
		conn = p->idle[--p->nidle];
	else if (p->nopen < p->max) {
		p->nopen++;
		open = 1;
	}
	pthread_mutex_unlock(&p->lock);
	if (conn != NULL && !pool_quiet(conn)) {
		pgsse_db_close(conn);	/* its slot goes to a new one */
		conn = NULL;
		open = 1;
	}
	if (open && (conn = pgsse_db_connect(p->conninfo)) == NULL) {
		pthread_mutex_lock(&p->lock);
		p->nopen--;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	return conn;
}

/*
 * Gives a connection back; a broken one is closed instead. Accepts NULL.
 */
void
pgsse_pool_put(struct pgsse_pool *p, PGconn *conn)
{
	if (conn == NULL)
		return;
	if (PQstatus(conn) != CONNECTION_OK ||
	    PQtransactionStatus(conn) != PQTRANS_IDLE) {
		pgsse_db_close(conn);
		conn = NULL;
	}
	pthread_mutex_lock(&p->lock);
	if (conn == NULL)
		p->nopen--;
	else
		p->idle[p->nidle++] = conn;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* Closes every idle connection and frees the pool. Accepts NULL. */
void
pgsse_pool_free(struct pgsse_pool *p)
{
	size_t	 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nidle; i++)
		pgsse_db_close(p->idle[i]);
	free(p->idle);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}
