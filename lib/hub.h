/*
 * hub.h: the hub's figures (hub.c), which the stream's health and
 * metrics pages print. Include after pgsse.h and extern.h.
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
};

#endif /* PGSSE_HUB_H */
