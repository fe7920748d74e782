/*
 * check_starter.c: lib/starter.c, the threads that start streams: the
 * queue's bound, its order, and the groups of alike items.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "pgsse.h"
#include "extern.h"
#include "starter.h"
#include "harness.h"

/* Bound of every wait here, in seconds. */
#define WAIT_SEC 10
#define ITEMS_MAX 64

/* What the start function saw, and a gate that holds it. */
struct seen {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 open;		/* the gate */
	int		 in;		/* calls that reached the gate */
	int		 order[ITEMS_MAX];
	int		 group[ITEMS_MAX];	/* call each item came in */
	int		 n;
	int		 calls;
};

/* Items are ints: the key is the tens, so 10 and 11 are alike. */
static int
same(const void *lead, const void *item, void *arg)
{
	(void)arg;
	return *(const int *)lead / 10 == *(const int *)item / 10;
}

static void
start(void **v, size_t n, void *arg)
{
	struct seen	*sn = arg;
	size_t		 i;

	pthread_mutex_lock(&sn->lock);
	sn->in++;
	pthread_cond_broadcast(&sn->cond);
	while (!sn->open)
		pthread_cond_wait(&sn->cond, &sn->lock);
	for (i = 0; i < n && sn->n < ITEMS_MAX; i++) {
		sn->group[sn->n] = sn->calls;
		sn->order[sn->n++] = *(int *)v[i];
	}
	sn->calls++;
	pthread_cond_broadcast(&sn->cond);
	pthread_mutex_unlock(&sn->lock);
}

/* Waits (WAIT_SEC at most) until *v reaches want, under sn->lock. */
static int
wait_for(struct seen *sn, const int *v, int want)
{
	struct timespec	 ts;
	int		 ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_SEC;
	pthread_mutex_lock(&sn->lock);
	while (*v < want && pthread_cond_timedwait(&sn->cond, &sn->lock,
	    &ts) == 0)
		;
	ok = *v >= want;
	pthread_mutex_unlock(&sn->lock);
	return ok;
}

static void
gate(struct seen *sn, int open)
{
	pthread_mutex_lock(&sn->lock);
	sn->open = open;
	pthread_cond_broadcast(&sn->cond);
	pthread_mutex_unlock(&sn->lock);
}

static struct seen *
seen_new(void)
{
	struct seen	*sn = calloc(1, sizeof(*sn));

	ck_assert_ptr_nonnull(sn);
	pthread_mutex_init(&sn->lock, NULL);
	pthread_cond_init(&sn->cond, NULL);
	return sn;
}

/* A full queue refuses, keeping nothing; what it took is all started. */
START_TEST(starter_bound)
{
	struct seen		*sn = seen_new();
	struct pgsse_starter	*q;
	int			 items[8] = { 0, 10, 20, 30, 40, 50, 60, 70 };
	int			 i;

	q = pgsse_starter_new(1, 4, 8, start, NULL, sn);
	ck_assert_ptr_nonnull(q);
	/* The one starter takes the first and waits at the gate. */
	ck_assert_int_eq(pgsse_starter_push(q, &items[0]), PGSSE_OK);
	ck_assert(wait_for(sn, &sn->in, 1));
	for (i = 1; i <= 4; i++)
		ck_assert_int_eq(pgsse_starter_push(q, &items[i]), PGSSE_OK);
	ck_assert_uint_eq(pgsse_starter_queued(q), 4);
	ck_assert_int_eq(pgsse_starter_push(q, &items[5]), PGSSE_ERR_LIMIT);
	ck_assert_uint_eq(pgsse_starter_queued(q), 4);
	gate(sn, 1);
	ck_assert(wait_for(sn, &sn->n, 5));
	/* Room again once started. */
	ck_assert_int_eq(pgsse_starter_push(q, &items[6]), PGSSE_OK);
	ck_assert(wait_for(sn, &sn->n, 6));
	pgsse_starter_free(q);
	ck_assert_int_eq(sn->n, 6);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(sn->order[i], items[i]);
	ck_assert_int_eq(sn->order[5], items[6]);
	free(sn);
}
END_TEST

/*
 * What queued up while the starter was busy is started in groups of
 * alike items, each group in queue order and at most group_max long,
 * the others keeping their order.
 */
START_TEST(starter_groups)
{
	struct seen		*sn = seen_new();
	struct pgsse_starter	*q;
	int			 items[] = { 0, 10, 20, 11, 12, 21, 13, 14, 30 };
	int			 want[] = { 0, 10, 11, 12, 20, 21, 13, 14, 30 };
	int			 wgroup[] = { 0, 1, 1, 1, 2, 2, 3, 3, 4 };
	int			 i, n = (int)(sizeof(items) / sizeof(items[0]));

	q = pgsse_starter_new(1, 16, 3, start, same, sn);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(pgsse_starter_push(q, &items[0]), PGSSE_OK);
	ck_assert(wait_for(sn, &sn->in, 1));
	for (i = 1; i < n; i++)
		ck_assert_int_eq(pgsse_starter_push(q, &items[i]), PGSSE_OK);
	gate(sn, 1);
	ck_assert(wait_for(sn, &sn->n, n));
	pgsse_starter_free(q);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sn->order[i], want[i]);
		ck_assert_int_eq(sn->group[i], wgroup[i]);
	}
	free(sn);
}
END_TEST

/* Freeing starts what is still queued first. */
START_TEST(starter_free_drains)
{
	struct seen		*sn = seen_new();
	struct pgsse_starter	*q;
	int			 items[3] = { 0, 10, 20 };
	int			 i;

	q = pgsse_starter_new(2, 8, 8, start, same, sn);
	ck_assert_ptr_nonnull(q);
	gate(sn, 1);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(pgsse_starter_push(q, &items[i]), PGSSE_OK);
	pgsse_starter_free(q);
	ck_assert_int_eq(sn->n, 3);
	pgsse_starter_free(NULL);
	free(sn);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("starter");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, starter_groups);
	tcase_add_test(tc, starter_free_drains);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, starter_bound);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
