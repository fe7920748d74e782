/*
 * registry.h: the registry's data, which the stream's modules and the
 * tools read (registry.c builds it). Include after pgsse.h and extern.h.
 */
#ifndef PGSSE_REGISTRY_H
#define PGSSE_REGISTRY_H

#include <stdatomic.h>
#include <stddef.h>

struct pgsse_field {
	char	*name;
	char	*type;
};
struct pgsse_event_def {
	char			*name;
	char			*description;
	struct pgsse_field	*fields;
	size_t			 nfields;
};
/* A channel; at its slot in a snapshot (registry.c), or a tombstone. */
struct pgsse_channel {
	char			*name;
	char			*description;
	int			 private;
	int			 personal;	/* every event to one user */
	char			**readers;
	size_t			 nreaders;
	struct pgsse_event_def	*events;
	size_t			 nevents;
	int			 removed;	/* tombstone: name only */
};
/* Immutable once made; shared by reference (pgsse_registry_ref). */
struct pgsse_registry {
	atomic_int		 refs;
	struct pgsse_channel	*channels;	/* by slot */
	size_t			 n;		/* slots, tombstones too */
	char			**user_readers;	/* read every user's events */
	size_t			 nuser_readers;
};

#endif /* PGSSE_REGISTRY_H */
