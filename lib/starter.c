/*
 * starter.c: a few threads that start streams, fed by a bounded queue.
 *
 * Design. Starting a stream that resumes, or follows a job, takes the
 * database: its cursors are checked and its replay read from the log.
 * The acceptor must not wait for that, and a thread per stream costs
 * more than the start itself in a connection storm (a clone, a stack,
 * a scheduler wake-up each). So the acceptor pushes such a stream on
 * one queue of at most PGSSE_START_QUEUE_MAX items, refused past it,
 * and PGSSE_STARTERS threads take them off in order.
 *
 * Groups. A starter takes the oldest item and, with it, every later
 * queued one that its owner's same function calls alike, in queue
 * order, up to PGSSE_START_GROUP_MAX in all, and starts them with one
 * call: so resumes that arrive together are served by one read of the
 * log (stream.c). Nothing is held back to make a group: a group is
 * whatever queued up while the starters were busy.
 *
 * Locking. q->lock guards the queue and the stop flag; it stands apart
 * (see client.c): nothing is taken under it, and the start function
 * runs without it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "starter.h"

/* Stack of a starter thread: it reads the log and frames replays. */
#define STARTER_STACK (256 * 1024)

struct pgsse_starter {
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* an item, or stop */
	void			**ring;		/* lock: max items */
	size_t			 max;
	size_t			 head;		/* lock: oldest */
	size_t			 n;		/* lock: queued */
	size_t			 group_max;
	int			 stop;		/* lock */
	pgsse_starter_fn	 start;
	pgsse_starter_same	 same;
	void			*arg;
	pthread_t		*threads;
	size_t			 nthreads;	/* started */
};

/*
 * Moves the oldest item, and the later ones alike to it, from the queue
 * to v (up to q->group_max), keeping the rest in order. Returns how
 * many. Called with q->lock held and the queue not empty.
 */
static size_t
starter_take(struct pgsse_starter *q, void **v)
{
	size_t	 i, k = 0, kept = 0, n = q->n;
	void	*it;

	v[k++] = q->ring[q->head];
	for (i = 1; i < n; i++) {
		it = q->ring[(q->head + i) % q->max];
		if (k < q->group_max && q->same != NULL &&
		    q->same(v[0], it, q->arg))
			v[k++] = it;
		else
			q->ring[(q->head + 1 + kept++) % q->max] = it;
	}
	/* The kept items moved up behind the taken oldest, in order. */
	q->head = (q->head + 1) % q->max;
	q->n = kept;
	return k;
}

/* A starter thread: starts groups until stopped with nothing queued. */
static void *
starter_main(void *arg)
{
	struct pgsse_starter	*q = arg;
	void			**v;
	size_t			  k;

	if ((v = calloc(q->group_max, sizeof(*v))) == NULL)
		return NULL;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->n == 0 && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->n == 0)
			break;
		k = starter_take(q, v);
		pthread_mutex_unlock(&q->lock);
		q->start(v, k, q->arg);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	free(v);
	return NULL;
}

/*
 * Starts nthreads starter threads over a queue of at most max items,
 * handing start groups of at most group_max items that same (NULL: none
 * are) calls alike to the oldest, with arg. Returns NULL if memory or
 * threads ran out. The caller frees it with pgsse_starter_free.
 */
struct pgsse_starter *
pgsse_starter_new(size_t nthreads, size_t max, size_t group_max,
    pgsse_starter_fn start, pgsse_starter_same same, void *arg)
{
	struct pgsse_starter	*q;
	pthread_attr_t		 attr;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->max = max ? max : 1;
	q->group_max = group_max ? group_max : 1;
	q->start = start;
	q->same = same;
	q->arg = arg;
	if ((q->ring = calloc(q->max, sizeof(*q->ring))) == NULL ||
	    (q->threads = calloc(nthreads ? nthreads : 1,
	    sizeof(*q->threads))) == NULL)
		goto fail;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STARTER_STACK);
	while (q->nthreads < nthreads && pthread_create(
	    &q->threads[q->nthreads], &attr, starter_main, q) == 0)
		q->nthreads++;
	pthread_attr_destroy(&attr);
	if (q->nthreads == nthreads)
		return q;
fail:
	pgsse_starter_free(q);
	return NULL;
}

/*
 * Queues item for a starter, which owns it from now on. Returns
 * PGSSE_ERR_LIMIT, keeping nothing, if PGSSE_START_QUEUE_MAX (the
 * queue's max) items wait already or the starters are stopping.
 */
enum pgsse_err
pgsse_starter_push(struct pgsse_starter *q, void *item)
{
	enum pgsse_err	 er = PGSSE_ERR_LIMIT;

	pthread_mutex_lock(&q->lock);
	if (q->n < q->max && !q->stop) {
		q->ring[(q->head + q->n++) % q->max] = item;
		pthread_cond_signal(&q->cond);
		er = PGSSE_OK;
	}
	pthread_mutex_unlock(&q->lock);
	return er;
}

/* Returns how many items wait. Can't fail. */
size_t
pgsse_starter_queued(struct pgsse_starter *q)
{
	size_t	 n;

	pthread_mutex_lock(&q->lock);
	n = q->n;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/*
 * Stops the starters once they have started everything queued, waits
 * for them and frees q. Accepts NULL.
 */
void
pgsse_starter_free(struct pgsse_starter *q)
{
	size_t	 i;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q->threads);
	free(q->ring);
	free(q);
}
