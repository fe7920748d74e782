/*
 * sdnotify.c: tells systemd how a program goes (sd_notify(3)), without
 * libsystemd. For a unit with Type=notify, systemd names a datagram
 * socket in NOTIFY_SOCKET: an absolute path, or "@name" for a name in
 * the abstract namespace. Each message is one datagram of KEY=value
 * lines: READY=1 once the program serves, STOPPING=1 when it begins to
 * stop, STATUS=... for `systemctl status`.
 *
 * pgsse_sdnotify_init takes the variable out of the environment at
 * start-up, before any thread runs, so that no child inherits it: a
 * job's script that said STOPPING=1 would speak for the runner. With no
 * NOTIFY_SOCKET, or one that is not an absolute path or "@name" that
 * fits a socket address, nothing is ever sent; a message that cannot be
 * sent (nobody listens) is dropped. Either way the program says
 * nothing about it: run outside systemd, it notices nothing.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pgsse.h"
#include "extern.h"

/* Longest message: READY=1 and a status line; longer ones are cut. */
#define SDNOTIFY_MSG_MAX 256

/* Written by pgsse_sdnotify_init alone, before any thread; a length of
 * 0 means no socket. */
static struct sockaddr_un	 sd_addr;
static socklen_t		 sd_len;
/* Set once READY=1 was sent. */
static atomic_int		 sd_ready;

/*
 * Takes NOTIFY_SOCKET out of the environment and keeps its address for
 * pgsse_sdnotify. Call it once, before any thread starts. Can't fail:
 * a malformed value is dropped like a missing one.
 */
void
pgsse_sdnotify_init(void)
{
	const char	*z = getenv("NOTIFY_SOCKET");
	size_t		 n = z == NULL ? 0 : strlen(z);

	sd_len = 0;
	if (n >= 2 && n < sizeof(sd_addr.sun_path) &&
	    (z[0] == '/' || z[0] == '@')) {
		memset(&sd_addr, 0, sizeof(sd_addr));
		sd_addr.sun_family = AF_UNIX;
		memcpy(sd_addr.sun_path, z, n);
		if (z[0] == '@')
			sd_addr.sun_path[0] = '\0';	/* abstract: no NUL after */
		sd_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    n + (z[0] == '/'));
	}
	unsetenv("NOTIFY_SOCKET");
}

/*
 * Sends msg (KEY=value lines) to systemd. Returns PGSSE_OK if it was
 * sent or there is nobody to send it to (no NOTIFY_SOCKET),
 * PGSSE_ERR_IO if it could not be sent. Safe from any thread.
 */
enum pgsse_err
pgsse_sdnotify(const char *msg)
{
	size_t	 len = strlen(msg);
	ssize_t	 rc;
	int	 fd;

	if (sd_len == 0)
		return PGSSE_OK;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return PGSSE_ERR_IO;
	rc = sendto(fd, msg, len, MSG_NOSIGNAL,
	    (const struct sockaddr *)&sd_addr, sd_len);
	close(fd);
	return rc == (ssize_t)len ? PGSSE_OK : PGSSE_ERR_IO;
}

/*
 * Says READY=1 with STATUS=status the first time, STATUS=status alone
 * after that (a reconnect). Errors are ignored: see pgsse_sdnotify.
 * Safe from any thread.
 */
void
pgsse_sdnotify_ready(const char *status)
{
	char	 msg[SDNOTIFY_MSG_MAX];

	snprintf(msg, sizeof(msg), "%sSTATUS=%s",
	    atomic_exchange(&sd_ready, 1) ? "" : "READY=1\n", status);
	pgsse_sdnotify(msg);
}
