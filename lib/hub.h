/*
 * hub.h: the hub's figures (hub.c), which the stream's health and
 * metrics pages print. Include after pgsse.h, extern.h and metrics.h.
 */
#ifndef PGSSE_HUB_H
#define PGSSE_HUB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct pgsse_hub_stats {
	size_t		 clients;
	size_t		 replays;
	size_t		 replay_bytes;
	size_t		 channels;
	uint64_t	 events;
	uint64_t	 delivered;
	uint64_t	 dropped;
	uint64_t	 slow;
	uint64_t	 refused;
	int		 db_up;
	uint64_t	 reconnects;
	time_t		 last_connect;
	size_t		 queued;	/* events in clients' queues */
	size_t		 queued_max;	/* in the longest one */
	size_t		 out_bytes;	/* unwritten, of attached clients */
	size_t		 out_max;	/* of the one with most; sampled by
					 * the pump once a second */
	uint64_t	 replays_total;	/* replays begun */
	uint64_t	 replayed;	/* events they framed */
	uint64_t	 replay_reads;	/* reads of the log for them: one
					 * serves a group (stream.c) */
	uint64_t	 replays_cut;	/* cut at PGSSE_REPLAY_BYTES or the
					 * budget */
	struct pgsse_metrics_hist lag;	/* publish to send, seconds */
};

/* One registry slot's figures (pgsse_hub_chans). */
struct pgsse_hub_chan {
	uint64_t	 events;	/* handed out by the hub */
	uint64_t	 delivered;	/* copies queued for clients */
	uint64_t	 sent;		/* copies framed for clients (pump) */
	size_t		 clients;	/* subscribed now */
};

/* hub.c: counts one read of the log for a group of replays. */
void	pgsse_hub_replay_read(struct pgsse_hub *);

#endif /* PGSSE_HUB_H */
