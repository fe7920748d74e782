/*
 * harness.h: what the integration tests share. Each test binary starts
 * its own PostgreSQL cluster and lighttpd in a temporary folder on free
 * ports, and never talks to a server it did not start.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>
#include <libpq-fe.h>

#include "sseparse.h"

struct h_pg {
	char	dir[512];
	int	port;
};

struct h_web {
	char	dir[512];
	int	port;
	pid_t	pid;		/* the web server */
	pid_t	fcgi[2];	/* spawn-fcgi'd pgsse-stream and pgsse-app */
	int	sig;		/* how to stop the web server */
	char	pwdir[64];	/* a short folder for Apache's password file */
};

/* A received event, as a browser would see it. */
struct h_msg {
	char	*id;
	char	*event;
	char	*data;
};

struct h_sse {
	int			 fd;
	int			 status;	/* HTTP status, 0 until read */
	char			 head[4096];	/* response headers */
	size_t			 headlen;
	int			 eof;
	struct sse_parser	 parser;
	struct h_msg		*msgs;
	size_t			 nmsgs;
	size_t			 cap;
};

int		 h_run_suite(Suite *);
const char	*h_srcdir(void);
const char	*h_builddir(void);
const char	*h_cgibin(void);
int		 h_free_port(void);
int		 h_run(const char *fmt, ...);

void		 h_pg_start(struct h_pg *, const char *registry);
void		 h_pg_stop(struct h_pg *);
void		 h_pg_load(const char *rel);
int		 h_browser(int port, const char *name);
void		 h_pg_restart(struct h_pg *, const char *mode);
PGconn		*h_pg_connect(void);
long		 h_pg_count(const char *sql);
int64_t		 h_publish(PGconn *, const char *, const char *, const char *);
void		 h_exec(PGconn *, const char *);

pid_t		 h_runner_start(const char *jobs, const char *timeout);
void		 h_runner_stop(pid_t, int);
void		 h_web_start(struct h_web *, const char *extra_conf);
void		 h_web_stop(struct h_web *);
void		 h_apache_start(struct h_web *, const char *sample);
void		 h_nginx_start(struct h_web *);
void		 h_fcgi_spawn(struct h_web *, int which);
int		 h_web_kill_streams(struct h_web *);

struct h_sse	*h_sse_open(int port, const char *path, const char *lastid);
struct h_sse	*h_sse_open_hdr(int port, const char *path, const char *headers);
int		 h_sse_ready(struct h_sse *, int timeout_ms);
struct h_sse	*h_sse_connect(int port, const char *path, const char *lastid);
int		 h_sse_read(struct h_sse *, int timeout_ms);
int		 h_sse_wait(struct h_sse *, size_t nmsgs, int timeout_ms);
void		 h_sse_close(struct h_sse *);

int		 h_connect(int port);
int		 h_connect_from(const char *src, int port);
long		 h_health(int port, const char *field);
long		 h_health_wait(int port, const char *field, long want,
		    int timeout_ms);
int		 h_http_get_from(const char *, int, const char *, const char *,
		    char **);
int		 h_http_get(int port, const char *path, const char *headers,
		    char **body);
void		 h_secret_init(void);
int		 h_http(int port, const char *method, const char *path,
		    const char *hdrs, const char *body, int timeout_sec,
		    char **resp);
const char	*h_app_dir(void);
const char	*h_sqlstate(PGconn *, const char *sql);

/* A streaming-replication standby of a cluster, on loopback (check_epoch). */
void		 h_pg_standby(struct h_pg *standby, const struct h_pg *primary,
		    int sync);
void		 h_pg_catch_up(const struct h_pg *primary,
		    const struct h_pg *standby);
void		 h_pg_promote(struct h_pg *);
PGconn		*h_pg_connect_to(const struct h_pg *);
struct h_sse	*h_sse_connect_retry(int port, const char *path,
		    const char *lastid);
int64_t		 h_pg_scalar(PGconn *, const char *sql);

#endif
