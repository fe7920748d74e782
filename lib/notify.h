/*
 * notify.h: what one notification maps to (notify.c), which the hub
 * acts on. Include after pgsse.h and extern.h.
 */
#ifndef PGSSE_NOTIFY_H
#define PGSSE_NOTIFY_H

enum pgsse_notify_kind {
	PGSSE_NOTIFY_DOORBELL,	/* durable: fetch channel from the log */
	PGSSE_NOTIFY_RAW,	/* raw NOTIFY with a documented event */
	PGSSE_NOTIFY_REGISTRY,	/* the registry changed: reload it */
	PGSSE_NOTIFY_DROP,	/* malformed or undocumented: dropped */
	PGSSE_NOTIFY__MAX
};
struct pgsse_notify {
	enum pgsse_notify_kind	 kind;
	const struct pgsse_channel *channel;	/* registry owns it */
	char			*event;		/* RAW: the event name */
	char			*data;		/* RAW: JSON text of "data" */
	char			*user;		/* RAW: "user", or NULL: all */
	const char		*why;		/* DROP: static reason */
};

#endif /* PGSSE_NOTIFY_H */
