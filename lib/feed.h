/*
 * feed.h: an event (feed.c), as the hub hands it out and a client
 * writes it. Immutable once made, but for the hub marking a removed
 * channel before handing it out. Include after pgsse.h and extern.h.
 */
#ifndef PGSSE_FEED_H
#define PGSSE_FEED_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct pgsse_event {
	atomic_int	 refs;
	int64_t		 id;		/* 0 for raw notifications */
	int64_t		 job_id;	/* job channel: payload's job_id */
	int		 chan;		/* slot in the registry (registry.c) */
	int		 end;		/* ends a per-job stream */
	int		 reset;		/* a rebase: the log's history changed
					 * (hub.c); the fields below say how */
	int		 epoch;		/* rebase: the log's epoch now */
	int		 from;		/* rebase: the epoch it was */
	size_t		 nslots;	/* rebase: of keep and tails */
	const int64_t	*keep;		/* rebase, per registry slot: the
					 * highest cursor of epoch from that
					 * still resumes exactly */
	const int64_t	*tails;		/* rebase, per slot: where a cursor
					 * past keep starts again */
	int		 gone;		/* its channel was removed: the end */
	double		 published;	/* the log row's created_at, in
					 * seconds since the epoch; 0: not
					 * from the log (metrics' lag) */
	size_t		 len;		/* of frame */
	size_t		 head;		/* of frame's "event: e\n" */
	size_t		 qlen;		/* of qhead, 0: none */
	const char	*qhead;		/* in frame[]: "event: ch.e\n" */
	const char	*user;		/* in frame[]: the one user it is
					 * for, or NULL: everyone */
	char		 frame[];	/* "event: ...\ndata: ...\n\n" */
};

#endif /* PGSSE_FEED_H */
