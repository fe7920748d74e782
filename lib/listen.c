/*
 * listen.c: the FastCGI socket a program opens itself (--socket), for
 * libfcgi to accept on (FCGX_InitRequest takes its descriptor).
 *
 * libfcgi's own FCGX_OpenSocket will not do: it calls exit() when it
 * cannot bind, with "bind/listen: <error>" and errno as the exit
 * status, so the program cannot say which path or what to do, and it
 * first removes whatever is at a Unix path, another program's live
 * socket or a regular file alike.
 *
 * Here an address with a ':' is TCP: ":PORT" listens on 127.0.0.1 only,
 * because a FastCGI peer is trusted (REMOTE_USER names the user), and
 * "HOST:PORT" (or "[V6]:PORT") on HOST's: "0.0.0.0:PORT" or "[::]:PORT"
 * for every address, where a firewall must keep all but the web server
 * out. Anything else is the
 * path of a Unix socket. Where a socket file already is, a connection
 * is tried: if something answers, another program listens there and
 * this fails; if nothing does, its program died, and the file is
 * removed and bound again. A file that is not a socket is never
 * removed. A failure is one log line naming the address, the setting
 * it came from, the error and the fix.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pgsse.h"
#include "extern.h"

/* Longest "HOST" of HOST:PORT. */
#define LISTEN_HOST_MAX 255

/* Returns what to do about errno er when listening on addr (tcp or not). */
static const char *
listen_fix(int er, int tcp)
{
	switch (er) {
	case EADDRINUSE:
		return tcp ? "another program listens on that port: stop it or "
		    "choose another port" : "another program listens on that "
		    "socket: stop it or choose another path";
	case ENOENT:
		return "its folder does not exist: create it (under systemd, "
		    "RuntimeDirectory= makes it)";
	case ENOTDIR:
		return "a part of the path is not a folder: fix the path";
	case EACCES:
	case EPERM:
		return tcp ? "ports below 1024 need privileges: choose a port "
		    "above 1023" : "this user may not create a file in that "
		    "folder: run as its owner, or change its owner or mode";
	case EADDRNOTAVAIL:
		return "no interface of this host has that address: give "
		    "one it has, or :PORT for loopback";
	case ENAMETOOLONG:
		return "a Unix socket's path holds at most 107 bytes: choose "
		    "a shorter one";
	case EROFS:
		return "that file system is read-only: choose a writable folder";
	default:
		return "check the address and its folder";
	}
}

/* Logs why addr (from setting) cannot be listened on; returns -1. */
static int
listen_fail(const char *addr, const char *setting, const char *why,
    const char *fix)
{
	pgsse_log(PGSSE_LOG_ERROR, "cannot listen on %s (%s): %s; %s", addr,
	    setting, why, fix);
	return -1;
}

/*
 * Says if something accepts connections at the Unix socket sa: 1 if
 * so, 0 if nothing does (ECONNREFUSED), -1 if it cannot tell.
 */
static int
listen_live(const struct sockaddr_un *sa)
{
	int	 fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		rc = 1;
	else
		rc = errno == ECONNREFUSED ? 0 : -1;
	close(fd);
	return rc;
}

/*
 * Binds fd to the Unix path at sa, replacing a stale socket (see the
 * top of the file). Returns 0, or -1 after logging why.
 */
static int
listen_bind_unix(int fd, const struct sockaddr_un *sa, const char *setting)
{
	struct stat	 st;
	const char	*path = sa->sun_path;

	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return 0;
	if (errno != EADDRINUSE)
		return listen_fail(path, setting, strerror(errno),
		    listen_fix(errno, 0));
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return listen_fail(path, setting, "a file that is not a socket "
		    "is there", "remove it, or choose another path");
	if (listen_live(sa) != 0)
		return listen_fail(path, setting, strerror(EADDRINUSE),
		    listen_fix(EADDRINUSE, 0));
	pgsse_log(PGSSE_LOG_INFO, "%s: replacing a stale socket nobody "
	    "listens on", path);
	if (unlink(path) == -1 && errno != ENOENT)
		return listen_fail(path, setting, strerror(errno),
		    listen_fix(errno, 0));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) == -1)
		return listen_fail(path, setting, strerror(errno),
		    listen_fix(errno, 0));
	return 0;
}

/* Listens on the Unix path. Returns the socket, or -1 after logging. */
static int
listen_unix(const char *path, int backlog, const char *setting)
{
	struct sockaddr_un	 sa;
	int			 fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return listen_fail(path, setting, strerror(ENAMETOOLONG),
		    listen_fix(ENAMETOOLONG, 0));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return listen_fail(path, setting, strerror(errno),
		    listen_fix(errno, 0));
	if (listen_bind_unix(fd, &sa, setting) == -1)
		goto fail;
	if (listen(fd, backlog) == -1) {
		listen_fail(path, setting, strerror(errno),
		    listen_fix(errno, 0));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * Listens on HOST:PORT, ":PORT" (loopback) or "[V6]:PORT". Returns the socket, or
 * -1 after logging why.
 */
static int
listen_tcp(const char *addr, int backlog, const char *setting)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		 host[LISTEN_HOST_MAX + 1], *end;
	const char	*colon = strrchr(addr, ':'), *h = addr;
	size_t		 hlen = (size_t)(colon - addr);
	long		 port;
	int		 fd = -1, on = 1, er = 0, rc;

	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
		return listen_fail(addr, setting, "no port",
		    "give :PORT or HOST:PORT, PORT 1 to 65535");
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen > LISTEN_HOST_MAX)
		return listen_fail(addr, setting, "host name too long",
		    "give a shorter one");
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	/* No host: IPv4 loopback, where the samples' web servers connect. */
	if ((rc = getaddrinfo(hlen > 0 ? host : "127.0.0.1", colon + 1,
	    &hints, &res)) != 0)
		return listen_fail(addr, setting, gai_strerror(rc),
		    "give an address, or a name this host resolves");
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1) {
			er = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(fd, backlog) == -1) {
			er = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd == -1)
		listen_fail(addr, setting, strerror(er), listen_fix(er, 1));
	return fd;
}

/*
 * Listens on addr (see the top of the file) with a queue of backlog
 * connections; setting names where addr came from, for the message.
 * Returns the listening socket, which the caller owns, or -1 after
 * logging one line that says why and what to do.
 */
int
pgsse_listen(const char *addr, int backlog, const char *setting)
{
	if (addr == NULL || *addr == '\0')
		return listen_fail("\"\"", setting, "no address",
		    "give a path, :PORT or HOST:PORT");
	if (addr[0] != '/' && addr[0] != '.' && strchr(addr, ':') != NULL)
		return listen_tcp(addr, backlog, setting);
	return listen_unix(addr, backlog, setting);
}
