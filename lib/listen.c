/*
 * listen.c: FastCGI sockets: the one a program opens itself (--socket),
 * and accepting on that or on the one a web server hands over, with
 * libfcgi's allow-list of web servers (FCGI_WEB_SERVER_ADDRS).
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
#define _GNU_SOURCE		/* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pgsse.h"
#include "extern.h"

/* Longest "HOST" of HOST:PORT. */
#define LISTEN_HOST_MAX 255
/* Addresses in FCGI_WEB_SERVER_ADDRS. */
#define LISTEN_WEB_SERVERS_MAX 64
/* Pause of an acceptor after accept() failed for want of descriptors
 * or memory: the listening socket stays readable, and would spin it. */
#define LISTEN_ACCEPT_PAUSE_MS 100

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

/*
 * The web servers' IPv4 addresses a TCP peer must have, from
 * FCGI_WEB_SERVER_ADDRS (libfcgi's allow-list), read at start; none:
 * any peer. A Unix socket's peers are not checked, as in libfcgi.
 */
static struct in_addr	 listen_web[LISTEN_WEB_SERVERS_MAX];
static size_t		 listen_nweb;

/*
 * Reads FCGI_WEB_SERVER_ADDRS, a comma-separated list of IPv4
 * addresses, into listen_web. Returns 1, or 0 after saying why on
 * standard error: an entry is no IPv4 address, or there are more
 * than LISTEN_WEB_SERVERS_MAX.
 */
int
pgsse_listen_peers(const char *name)
{
	const char	*z = getenv("FCGI_WEB_SERVER_ADDRS");
	char		 one[INET_ADDRSTRLEN];
	size_t		 i, n, len;

	listen_nweb = 0;
	for (; z != NULL && *z != '\0'; z += len + (z[len] == ',')) {
		len = strcspn(z, ",");
		for (n = len; n > 0 && (z[n - 1] == ' ' || z[n - 1] == '\t');)
			n--;
		if ((i = strspn(z, " \t")) >= n)
			continue;	/* an empty entry */
		one[0] = '\0';
		if (n - i < sizeof(one)) {
			memcpy(one, z + i, n - i);
			one[n - i] = '\0';
		}
		if (listen_nweb == LISTEN_WEB_SERVERS_MAX ||
		    inet_pton(AF_INET, one, &listen_web[listen_nweb]) != 1) {
			fprintf(stderr, "%s: FCGI_WEB_SERVER_ADDRS must list at "
			    "most %d IPv4 addresses of web servers, separated "
			    "by commas: %.*s is not one\n", name,
			    LISTEN_WEB_SERVERS_MAX, (int)len, z);
			return 0;
		}
		listen_nweb++;
	}
	return 1;
}

/*
 * Returns 1 if the peer ss may talk to us: any but a TCP one, and that
 * only if its address is in listen_web (IPv4, or IPv4-mapped IPv6), or
 * listen_web is empty; else 0.
 */
static int
listen_peer_ok(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6	*s6 = (const void *)ss;
	struct in_addr			 in;
	size_t				 i;

	if (listen_nweb == 0 || (ss->ss_family != AF_INET &&
	    ss->ss_family != AF_INET6))
		return 1;
	if (ss->ss_family == AF_INET)
		in = ((const struct sockaddr_in *)(const void *)ss)->sin_addr;
	else if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		memcpy(&in, s6->sin6_addr.s6_addr + 12, sizeof(in));
	else
		return 0;
	for (i = 0; i < listen_nweb; i++)
		if (listen_web[i].s_addr == in.s_addr)
			return 1;
	return 0;
}

/*
 * Pauses the caller after accept() failed with er for want of
 * descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the
 * listening socket stays readable, and every acceptor would spin on it.
 * The first such failure is logged. Other failures (another worker
 * took the connection, the peer went) need no pause.
 */
static void
listen_accept_failed(int er)
{
	static atomic_int	 logged;
	struct timespec		 ts = { 0, LISTEN_ACCEPT_PAUSE_MS * 1000000L };

	if (er != EMFILE && er != ENFILE && er != ENOBUFS && er != ENOMEM)
		return;
	if (atomic_exchange(&logged, 1) == 0)
		pgsse_log(PGSSE_LOG_ERROR, "accept: %s: each worker pauses "
		    "%d ms after every such failure; raise the descriptor "
		    "limit (LimitNOFILE)", strerror(er), LISTEN_ACCEPT_PAUSE_MS);
	nanosleep(&ts, NULL);
}

/*
 * Accepts a connection on the listening socket sock (TCP's if tcp is
 * set): close-on-exec, with a receive timeout of rsec seconds (none if
 * 0) and a send timeout of wsec (SO_RCVTIMEO, SO_SNDTIMEO), and TCP_NODELAY on
 * TCP (each record goes out at once, as libfcgi did). A TCP peer not in
 * FCGI_WEB_SERVER_ADDRS is closed at once. Returns the descriptor,
 * which the caller owns, or -1 if there was none to take (errno says
 * why).
 */
int
pgsse_listen_accept(int sock, int tcp, int rsec, int wsec)
{
	struct sockaddr_storage	 ss;
	struct timeval		 tv = { rsec, 0 }, tw = { wsec, 0 };
	socklen_t		 len = sizeof(ss);
	int			 fd, one = 1;

	if ((fd = accept4(sock, (struct sockaddr *)&ss, &len,
	    SOCK_CLOEXEC)) == -1) {
		listen_accept_failed(errno);
		return -1;
	}
	if (!listen_peer_ok(&ss)) {
		pgsse_log(PGSSE_LOG_DEBUG, "a FastCGI peer not in "
		    "FCGI_WEB_SERVER_ADDRS: closed");
		close(fd);
		errno = EPERM;
		return -1;
	}
	if (rsec > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tw, sizeof(tw));
	if (tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Returns 1 if sock is a TCP socket (IPv4 or IPv6), else 0. */
int
pgsse_listen_is_tcp(int sock)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	return getsockname(sock, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}
