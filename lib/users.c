/*
 * users.c: clients by user name, so that an event to one user is handed
 * to that user's clients without a look at anyone else's.
 *
 * A hash table of user names (FNV-1a, chained, its buckets doubled once
 * there are more names than buckets), each name with the vector of its
 * clients. Adding, removing and finding cost one hash of the name plus
 * a walk of that user's clients: nothing depends on how many other
 * users or clients there are. A name leaves the table with its last
 * client. The table does not lock: its owner (the hub) holds its lock
 * around every call, and never reads a client through it but as an
 * opaque pointer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"

/* Buckets of a new table. */
#define USERS_BUCKETS_MIN 64

struct users_entry {
	char			 *name;
	void			**v;		/* its clients */
	size_t			  n;
	size_t			  cap;
	struct users_entry	 *next;		/* in its bucket */
};

struct pgsse_users {
	struct users_entry	**b;
	size_t			  nb;		/* buckets, a power of two */
	size_t			  n;		/* names */
};

static uint64_t
users_hash(const char *z)
{
	uint64_t	 h = 1469598103934665603ULL;

	for (; *z != '\0'; z++) {
		h ^= (unsigned char)*z;
		h *= 1099511628211ULL;
	}
	return h;
}

/*
 * Makes an empty table. Returns NULL if memory ran out; the caller
 * frees it with pgsse_users_free.
 */
struct pgsse_users *
pgsse_users_new(void)
{
	struct pgsse_users	*u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	if ((u->b = calloc(USERS_BUCKETS_MIN, sizeof(*u->b))) == NULL) {
		free(u);
		return NULL;
	}
	u->nb = USERS_BUCKETS_MIN;
	return u;
}

/* Frees the table, not the clients it names. Accepts NULL. */
void
pgsse_users_free(struct pgsse_users *u)
{
	struct users_entry	*e, *next;
	size_t			 i;

	if (u == NULL)
		return;
	for (i = 0; i < u->nb; i++)
		for (e = u->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e->name);
			free(e->v);
			free(e);
		}
	free(u->b);
	free(u);
}

/* Returns the entry of name, or NULL, and its bucket in *slot. */
static struct users_entry *
users_find(const struct pgsse_users *u, const char *name,
    struct users_entry ***slot)
{
	struct users_entry	**p;

	p = &u->b[users_hash(name) & (u->nb - 1)];
	while (*p != NULL && strcmp((*p)->name, name) != 0)
		p = &(*p)->next;
	if (slot != NULL)
		*slot = p;
	return *p;
}

/* Doubles the buckets; on failure keeps the old ones (only slower). */
static void
users_grow(struct pgsse_users *u)
{
	struct users_entry	**b, *e, *next;
	size_t			  i, nb = u->nb * 2, k;

	if ((b = calloc(nb, sizeof(*b))) == NULL)
		return;
	for (i = 0; i < u->nb; i++)
		for (e = u->b[i]; e != NULL; e = next) {
			next = e->next;
			k = users_hash(e->name) & (nb - 1);
			e->next = b[k];
			b[k] = e;
		}
	free(u->b);
	u->b = b;
	u->nb = nb;
}

/*
 * Adds client c under name. Returns PGSSE_ERR_NOMEM if memory ran out
 * (the table is as it was).
 */
enum pgsse_err
pgsse_users_add(struct pgsse_users *u, const char *name, void *c)
{
	struct users_entry	**slot, *e;
	void			**v;
	size_t			  cap;

	if ((e = users_find(u, name, &slot)) == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL ||
		    (e->name = strdup(name)) == NULL) {
			free(e);
			return PGSSE_ERR_NOMEM;
		}
		*slot = e;
		u->n++;
	}
	if (e->n == e->cap) {
		cap = e->cap ? e->cap * 2 : 4;
		if ((v = reallocarray(e->v, cap, sizeof(*v))) == NULL) {
			if (e->n == 0)
				pgsse_users_remove(u, name, NULL);
			return PGSSE_ERR_NOMEM;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = c;
	if (u->n > u->nb)
		users_grow(u);
	return PGSSE_OK;
}

/*
 * Removes client c from under name, and name with its last client.
 * Can't fail; a client that is not there changes nothing.
 */
void
pgsse_users_remove(struct pgsse_users *u, const char *name, void *c)
{
	struct users_entry	**slot, *e;
	size_t			  i;

	if ((e = users_find(u, name, &slot)) == NULL)
		return;
	for (i = 0; i < e->n; i++)
		if (e->v[i] == c) {
			e->v[i] = e->v[--e->n];
			break;
		}
	if (e->n > 0)
		return;
	*slot = e->next;
	free(e->name);
	free(e->v);
	free(e);
	u->n--;
}

/*
 * Returns the clients under name, *n of them, or NULL with *n 0. The
 * table owns the vector, which the next add or remove may move.
 */
void *const *
pgsse_users_find(const struct pgsse_users *u, const char *name, size_t *n)
{
	const struct users_entry	*e = users_find(u, name, NULL);

	*n = e != NULL ? e->n : 0;
	return e != NULL ? e->v : NULL;
}

/* Returns how many names the table holds. Can't fail. */
size_t
pgsse_users_count(const struct pgsse_users *u)
{
	return u->n;
}
