/*
 * registry.h: the registry's data, which the stream's modules and the
 * tools read (registry.c builds it). Include after pgsse.h and extern.h.
 */
#ifndef PGSSE_REGISTRY_H
#define PGSSE_REGISTRY_H

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
struct pgsse_channel {
	char			*name;
	char			*description;
	int			 private;
	char			**readers;
	size_t			 nreaders;
	struct pgsse_event_def	*events;
	size_t			 nevents;
};
struct pgsse_registry {
	struct pgsse_channel	*channels;
	size_t			 n;
};

#endif /* PGSSE_REGISTRY_H */
