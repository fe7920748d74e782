/*
 * harness.c: see harness.h. Test code: it aborts the test with
 * ck_abort_msg when a server cannot be started.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

static struct h_pg	*live_pg;
static struct h_web	*live_web;
static pid_t		 live_owner;	/* the process that started them */

const char *
h_srcdir(void)
{
	const char *z = getenv("PGSSE_SRCDIR");
	return z ? z : ".";
}

const char *
h_builddir(void)
{
	const char *z = getenv("PGSSE_BUILDDIR");
	return z ? z : ".";
}

/*
 * The folder of the FastCGI programs the web servers run: the build's,
 * or PGSSE_CGIBIN (tests/valgrind.sh points it at wrappers).
 */
const char *
h_cgibin(void)
{
	static char	 dir[600];
	const char	*z = getenv("PGSSE_CGIBIN");

	if (z != NULL)
		return z;
	snprintf(dir, sizeof(dir), "%s/cgi-bin", h_builddir());
	return dir;
}

/* Runs a shell command; returns its exit status. */
int
h_run(const char *fmt, ...)
{
	char	 cmd[4096];
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int
h_free_port(void)
{
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);
	int			 fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		ck_abort_msg("no free port: %s", strerror(errno));
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* At exit, stops what this process started; forked test children skip. */
static void web_wait(struct h_web *, const char *);
static void make_tmpdir(char *, size_t, const char *);

static void
h_cleanup(void)
{
	if (getpid() != live_owner)
		return;
	if (live_web != NULL)
		h_web_stop(live_web);
	if (live_pg != NULL)
		h_pg_stop(live_pg);
}

static void
make_tmpdir(char *dir, size_t len, const char *what)
{
	char	 base[400];

	snprintf(base, sizeof(base), "%s/tests/tmp", h_builddir());
	mkdir(base, 0755);
	snprintf(dir, len, "%s/%s.XXXXXX", base, what);
	if (mkdtemp(dir) == NULL)
		ck_abort_msg("mkdtemp: %s", strerror(errno));
	chmod(dir, 0755);
}

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*p;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		ck_abort_msg("cannot read %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = calloc(1, (size_t)n + 1);
	if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n)
		ck_abort_msg("cannot read %s", path);
	fclose(f);
	return p;
}

void
h_exec(PGconn *conn, const char *sql)
{
	PGresult	*res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		ck_abort_msg("%s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
}

/*
 * Starts a private cluster, loads sql/pgsse.sql and the registry file
 * (relative to the source tree; NULL for sql/registry.json), and points
 * the PG* variables at it.
 */
void
h_pg_start(struct h_pg *pg, const char *registry)
{
	char		 path[1024], port[16];
	char		*sql, *reg;
	const char	*params[1];
	PGconn		*conn;
	PGresult	*res;

	make_tmpdir(pg->dir, sizeof(pg->dir), "pg");
	pg->port = h_free_port();
	if (h_run("%s/bin/pgsse-cluster init %s/c %d", h_srcdir(), pg->dir,
	    pg->port) != 0 || h_run("%s/bin/pgsse-cluster start %s/c",
	    h_srcdir(), pg->dir) != 0)
		ck_abort_msg("cannot start PostgreSQL in %s", pg->dir);
	live_pg = pg;
	if (live_owner == 0)
		atexit(h_cleanup);
	live_owner = getpid();
	snprintf(path, sizeof(path), "%s/c", pg->dir);
	snprintf(port, sizeof(port), "%d", pg->port);
	setenv("PGHOST", path, 1);
	setenv("PGPORT", port, 1);
	setenv("PGDATABASE", "pgsse", 1);
	setenv("PGUSER", "pgsse", 1);
	snprintf(path, sizeof(path), "%s/c/pgpass", pg->dir);
	setenv("PGPASSFILE", path, 1);
	unsetenv("PGSERVICE");
	unsetenv("PGSSE_CONNINFO");
	conn = h_pg_connect();
	snprintf(path, sizeof(path), "%s/sql/pgsse.sql", h_srcdir());
	sql = slurp(path);
	h_exec(conn, sql);
	snprintf(path, sizeof(path), "%s/%s", h_srcdir(),
	    registry ? registry : "sql/registry.json");
	reg = slurp(path);
	params[0] = reg;
	res = PQexecParams(conn, "select pgsse.load_registry($1::jsonb)", 1,
	    NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		ck_abort_msg("registry: %s", PQerrorMessage(conn));
	PQclear(res);
	free(sql);
	/* The programs connect with their own roles, as deployed: the
	 * superuser would bypass row-level security. */
	free(reg);
	snprintf(path, sizeof(path), "%s/sql/roles.sql", h_srcdir());
	reg = slurp(path);
	h_exec(conn, reg);
	if (h_run("%s/bin/pgsse-cluster passwords %s/c", h_srcdir(),
	    pg->dir) != 0)
		ck_abort_msg("cannot set the roles' passwords");
	free(reg);
	PQfinish(conn);
}

void
h_pg_stop(struct h_pg *pg)
{
	if (pg->dir[0] == '\0')
		return;
	h_run("%s/bin/pgsse-cluster stop %s/c immediate", h_srcdir(),
	    pg->dir);
	h_run("rm -rf %s", pg->dir);
	pg->dir[0] = '\0';
	if (live_pg == pg)
		live_pg = NULL;
}

/* Restarts the cluster: stop with mode (fast, immediate), then start. */
void
h_pg_restart(struct h_pg *pg, const char *mode)
{
	if (h_run("%s/bin/pgsse-cluster stop %s/c %s", h_srcdir(), pg->dir,
	    mode) != 0 || h_run("%s/bin/pgsse-cluster start %s/c",
	    h_srcdir(), pg->dir) != 0)
		ck_abort_msg("cannot restart PostgreSQL");
}

PGconn *
h_pg_connect(void)
{
	PGconn	*conn = PQconnectdb("");

	if (PQstatus(conn) != CONNECTION_OK)
		ck_abort_msg("connect: %s", PQerrorMessage(conn));
	return conn;
}

int64_t
h_publish(PGconn *conn, const char *ch, const char *ev, const char *json)
{
	const char	*params[3] = { ch, ev, json };
	PGresult	*res;
	int64_t		 id;

	res = PQexecParams(conn, "select pgsse.publish($1, $2, $3::jsonb)",
	    3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		ck_abort_msg("publish: %s", PQerrorMessage(conn));
	id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return id;
}

/* Returns a TCP connection to port on loopback, or -1. */
int
h_connect(int port)
{
	return h_connect_from(NULL, port);
}

/*
 * Returns a TCP connection to port on 127.0.0.1 from the loopback
 * address src (say "127.0.0.2"; NULL: the kernel's choice), or -1.
 */
int
h_connect_from(const char *src, int port)
{
	struct sockaddr_in	 sa;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (src != NULL && (inet_pton(AF_INET, src, &sa.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)) {
		close(fd);
		return -1;
	}
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Starts lighttpd with the shipped etc/lighttpd/pgsse.conf, adjusted only
 * for port and paths, plus extra_conf lines (or NULL).
 */
void
h_web_start(struct h_web *w, const char *extra_conf)
{
	char	 conf[1024];
	FILE	*f;
	const char *lighttpd = getenv("LIGHTTPD") ? getenv("LIGHTTPD") :
	    "/usr/sbin/lighttpd";

	h_secret_init();
	make_tmpdir(w->dir, sizeof(w->dir), "web");
	w->port = h_free_port();
	snprintf(conf, sizeof(conf), "%s/lighttpd.conf", w->dir);
	if ((f = fopen(conf, "w")) == NULL)
		ck_abort_msg("cannot write %s", conf);
	fprintf(f, "var.pgsse_bind = \"127.0.0.1\"\nvar.pgsse_port = %d\n"
	    "var.pgsse_www = \"%s/www\"\nvar.pgsse_cgibin = \"%s\"\n"
	    "var.pgsse_app = \"%s\"\n"
	    "var.pgsse_run = \"%s\"\ninclude \"%s/etc/lighttpd/pgsse.conf\"\n"
	    "%s\n", w->port, h_srcdir(), h_cgibin(), h_app_dir(), w->dir,
	    h_srcdir(), extra_conf ? extra_conf : "");
	fclose(f);
	if ((w->pid = fork()) == 0) {
		execl(lighttpd, "lighttpd", "-D", "-f", conf, (char *)NULL);
		_exit(127);
	}
	live_web = w;
	web_wait(w, "lighttpd-error.log");
}

/* Waits for the web server to accept connections; aborts otherwise. */
static void
web_wait(struct h_web *w, const char *log)
{
	int	 i, fd;

	for (i = 0; i < 200; i++) {
		if ((fd = h_connect(w->port)) >= 0) {
			close(fd);
			return;
		}
		usleep(50000);
	}
	h_run("cat %s/%s >&2", w->dir, log);
	ck_abort_msg("web server did not start on port %d", w->port);
}

/*
 * Starts pgsse-stream (which 0) or pgsse-app (1) under spawn-fcgi on a
 * socket in the server's folder, as the samples expect for Apache
 * mod_proxy_fcgi and nginx.
 */
void
h_fcgi_spawn(struct h_web *w, int which)
{
	static const char *const prog[2] = { "pgsse-stream", "pgsse-app" };
	static const char *const role[2] = { "pgsse_stream", "pgsse_web" };
	char	 sock[600], bin[600];
	int	 i;

	snprintf(sock, sizeof(sock), "%s/%s.sock", w->dir, prog[which]);
	snprintf(bin, sizeof(bin), "%s/%s", h_cgibin(), prog[which]);
	unlink(sock);
	if ((w->fcgi[which] = fork()) == 0) {
		setenv("PGUSER", role[which], 1);
		setenv("PGSSE_APP_DIR", h_app_dir(), 1);
		execlp("spawn-fcgi", "spawn-fcgi", "-n", "-s", sock, "-M", "0666",
		    "--", bin, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && access(sock, F_OK) != 0; i++)
		usleep(50000);
	if (i == 100)
		ck_abort_msg("spawn-fcgi did not make %s", sock);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		ck_abort_msg("cannot write %s", path);
}

/*
 * Starts Apache with the shipped sample (etc/apache/pgsse-SAMPLE.conf,
 * "proxy-fcgi" or "fcgid") under a minimal main configuration that sets
 * only the port and the paths.
 */
void
h_apache_start(struct h_web *w, const char *sample)
{
	char	 conf[8192], path[600];
	int	 fcgid = strcmp(sample, "fcgid") == 0;

	h_secret_init();
	make_tmpdir(w->dir, sizeof(w->dir), "apache");
	/* mod_fcgid's programs run as www-data and connect over TCP: a
	 * copy of the cluster's password file that they may read, at a
	 * short path (mod_fcgid cuts FcgidInitialEnv values at 128 bytes). */
	snprintf(w->pwdir, sizeof(w->pwdir), "/tmp/pgsse-pw.XXXXXX");
	if (mkdtemp(w->pwdir) == NULL || chmod(w->pwdir, 0755) != 0 ||
	    h_run("install -m 600 -o www-data %s %s/pgpass",
	    getenv("PGPASSFILE"), w->pwdir) != 0)
		ck_abort_msg("cannot copy the password file for Apache");
	w->port = h_free_port();
	w->sig = SIGTERM;
	if (!fcgid) {
		h_fcgi_spawn(w, 0);
		h_fcgi_spawn(w, 1);
	}
	snprintf(conf, sizeof(conf),
	    "ServerName localhost\nListen 127.0.0.1:%d\n"
	    "PidFile %s/apache.pid\nErrorLog %s/error.log\nLogLevel warn\n"
	    "DefaultRuntimeDir %s\nMutex file:%s default\n"
	    "User www-data\nGroup www-data\nTypesConfig /etc/mime.types\n"
	    "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
	    "LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"
	    "LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so\n"
	    "LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so\n"
	    "LoadModule env_module /usr/lib/apache2/modules/mod_env.so\n"
	    "LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so\n"
	    "%s"
	    "ThreadsPerChild 64\nMaxRequestWorkers 512\nServerLimit 8\n"
	    "Define PGSSE_WWW %s/www\nDefine PGSSE_RUN %s\n"
	    "Define PGSSE_CGIBIN %s/cgi-bin\n"
	    "Define PGSSE_CONNINFO \"host=127.0.0.1 port=%s dbname=pgsse "
	    "passfile=%s/pgpass\"\n"
	    "Define PGSSE_SECRET_FILE %s\nDefine PGSSE_APP_DIR %s\n"
	    "FcgidIPCDir %s/fcgid\nFcgidProcessTableFile %s/fcgid.shm\n"
	    "Include %s/etc/apache/pgsse-%s.conf\n", w->port, w->dir, w->dir,
	    w->dir, w->dir, fcgid ?
	    "LoadModule fcgid_module /usr/lib/apache2/modules/mod_fcgid.so\n" :
	    "LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so\n"
	    "LoadModule proxy_fcgi_module /usr/lib/apache2/modules/mod_proxy_fcgi.so\n",
	    h_srcdir(), w->dir, h_builddir(), getenv("PGPORT"), w->pwdir,
	    getenv("PGSSE_SECRET_FILE"), h_app_dir(), w->dir, w->dir,
	    h_builddir(), sample);
	if (!fcgid) {
		/* FcgidIPCDir is mod_fcgid's: drop it for proxy_fcgi. */
		char *x = strstr(conf, "FcgidIPCDir");
		char *y = strstr(conf, "Include ");
		memmove(x, y, strlen(y) + 1);
	}
	snprintf(path, sizeof(path), "%s/apache.conf", w->dir);
	write_file(path, conf);
	h_run("mkdir -p %s/fcgid && chown www-data %s/fcgid 2>/dev/null",
	    w->dir, w->dir);
	if ((w->pid = fork()) == 0) {
		execl("/usr/sbin/apache2", "apache2", "-f", path, "-DFOREGROUND",
		    (char *)NULL);
		_exit(127);
	}
	live_web = w;
	web_wait(w, "error.log");
}

/*
 * Starts nginx with the shipped etc/nginx/pgsse-nginx.conf, its listen, root
 * and socket paths adjusted, in a minimal main configuration.
 */
void
h_nginx_start(struct h_web *w)
{
	char	 conf[4096], path[600];

	h_secret_init();
	make_tmpdir(w->dir, sizeof(w->dir), "nginx");
	w->port = h_free_port();
	w->sig = SIGTERM;
	h_fcgi_spawn(w, 0);
	h_fcgi_spawn(w, 1);
	if (h_run("sed -e 's|listen 127.0.0.1:8080;|listen 127.0.0.1:%d;|' "
	    "-e 's|root .*;|root %s/www;|' -e 's|unix:[^;]*/pgsse-|unix:%s/pgsse-|' "
	    "%s/etc/nginx/pgsse-nginx.conf >%s/pgsse-site.conf && "
	    "cp /etc/nginx/fastcgi_params /etc/nginx/mime.types %s/",
	    w->port, h_srcdir(), w->dir, h_builddir(), w->dir, w->dir) != 0)
		ck_abort_msg("cannot adjust the nginx sample");
	snprintf(conf, sizeof(conf), "daemon off;\nworker_processes 1;\n"
	    "pid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
	    "events { worker_connections 8192; }\nhttp {\n include mime.types;\n"
	    " access_log off;\n client_body_temp_path %s/tmp;\n"
	    " fastcgi_temp_path %s/tmp;\n proxy_temp_path %s/tmp;\n"
	    " include %s/pgsse-site.conf;\n}\n", w->dir, w->dir, w->dir,
	    w->dir, w->dir, w->dir);
	snprintf(path, sizeof(path), "%s/nginx.conf", w->dir);
	write_file(path, conf);
	if ((w->pid = fork()) == 0) {
		execl("/usr/sbin/nginx", "nginx", "-p", w->dir, "-c", path,
		    (char *)NULL);
		_exit(127);
	}
	live_web = w;
	web_wait(w, "error.log");
}

/*
 * Fills out with the descendants of pid (at most max), from /proc: the
 * FastCGI programs a web server spawned. Returns how many.
 */
static size_t
descendants(pid_t pid, pid_t *out, size_t max)
{
	DIR		*d;
	struct dirent	*e;
	FILE		*f;
	char		 path[64];
	pid_t		 p, pp, all[8192][2];
	size_t		 n = 0, k = 0, i, j;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < 8192) {
		if ((p = (pid_t)atoi(e->d_name)) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)p);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%*d (%*[^)]) %*c %d", &pp) == 1) {
			all[n][0] = p;
			all[n++][1] = pp;
		}
		fclose(f);
	}
	closedir(d);
	out[k++] = pid;
	for (i = 0; i < k && k < max; i++)
		for (j = 0; j < n && k < max; j++)
			if (all[j][1] == out[i])
				out[k++] = all[j][0];
	memmove(out, out + 1, (k - 1) * sizeof(*out));
	return k - 1;
}

/* Returns 1 if any of the n processes in v is still there. */
static int
alive(const pid_t *v, size_t n)
{
	char	 path[64], state = 'Z';
	FILE	*f;
	size_t	 k;

	for (k = 0; k < n; k++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)v[k]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
			state = 'Z';
		fclose(f);
		if (state != 'Z')
			return 1;
	}
	return 0;
}

void
h_web_stop(struct h_web *w)
{
	pid_t	 kids[256];
	size_t	 nkids, k;
	int	 i, st;

	for (i = 0; i < 2; i++)
		if (w->fcgi[i] > 0) {
			kill(w->fcgi[i], SIGKILL);
			waitpid(w->fcgi[i], &st, 0);
			w->fcgi[i] = 0;
		}
	if (w->pid <= 0)
		return;
	nkids = descendants(w->pid, kids, 256);
	kill(w->pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(w->pid, &st, WNOHANG) == w->pid)
			break;
		usleep(50000);
	}
	if (i == 100) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, &st, 0);
	}
	/* Whatever the server spawned and left behind is told to stop,
	 * given the time a program under valgrind needs, then killed. */
	for (k = 0; k < nkids; k++)
		kill(kids[k], SIGTERM);
	for (i = 0; i < 300 && alive(kids, nkids); i++)
		usleep(50000);
	for (k = 0; k < nkids; k++)
		kill(kids[k], SIGKILL);
	w->pid = 0;
	if (w->pwdir[0] != '\0')
		h_run("rm -rf %s", w->pwdir);
	w->pwdir[0] = '\0';
	if (getenv("PGSSE_KEEP_TMP") == NULL)
		h_run("rm -rf %s", w->dir);
	if (live_web == w)
		live_web = NULL;
}

static void
on_msg(const struct sse_msg *m, void *arg)
{
	struct h_sse	*c = arg;

	if (c->nmsgs == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->msgs = realloc(c->msgs, c->cap * sizeof(*c->msgs));
		ck_assert_ptr_nonnull(c->msgs);
	}
	c->msgs[c->nmsgs].id = strdup(m->id);
	c->msgs[c->nmsgs].event = strdup(m->event);
	c->msgs[c->nmsgs].data = strdup(m->data);
	c->nmsgs++;
}

/* Opens a stream with HTTP/1.0 (close-delimited, as a proxy sees it). */
struct h_sse *
h_sse_open(int port, const char *path, const char *lastid)
{
	char	 hdr[4096];

	snprintf(hdr, sizeof(hdr), "%s%s%s", lastid ? "Last-Event-ID: " : "",
	    lastid ? lastid : "", lastid ? "\r\n" : "");
	return h_sse_open_hdr(port, path, hdr);
}

/* As h_sse_open, with extra header lines (each ending in CRLF). */
struct h_sse *
h_sse_open_hdr(int port, const char *path, const char *headers)
{
	struct h_sse	*c;
	char		 req[8192];
	int		 n;

	c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	if ((c->fd = h_connect(port)) < 0)
		ck_abort_msg("connect to port %d: %s", port, strerror(errno));
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1"
	    "\r\nAccept: text/event-stream\r\n%s\r\n", path, headers);
	if (write(c->fd, req, (size_t)n) != n)
		ck_abort_msg("write request");
	sse_parser_init(&c->parser, on_msg, c);
	return c;
}

/* Reads what arrives within timeout_ms. Returns -1 at EOF, else 0. */
int
h_sse_read(struct h_sse *c, int timeout_ms)
{
	struct pollfd	 pfd = { c->fd, POLLIN, 0 };
	char		 buf[65536], *end;
	ssize_t		 n;
	size_t		 take;

	if (c->eof)
		return -1;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	if ((n = read(c->fd, buf, sizeof(buf))) <= 0) {
		c->eof = 1;
		return -1;
	}
	if (c->status == 0) {
		take = (size_t)n < sizeof(c->head) - c->headlen - 1 ?
		    (size_t)n : sizeof(c->head) - c->headlen - 1;
		memcpy(c->head + c->headlen, buf, take);
		c->headlen += take;
		c->head[c->headlen] = '\0';
		if ((end = strstr(c->head, "\r\n\r\n")) == NULL)
			return 0;
		c->status = atoi(c->head + 9);
		if (c->status == 0)
			c->status = -1;
		take = (size_t)(end + 4 - c->head) - (c->headlen - take);
		*(end + 2) = '\0';
		sse_parser_feed(&c->parser, buf + take, (size_t)n - take);
		return 0;
	}
	sse_parser_feed(&c->parser, buf, (size_t)n);
	return 0;
}

/* Reads until nmsgs events arrived, EOF, or timeout. Returns nmsgs seen. */
int
h_sse_wait(struct h_sse *c, size_t nmsgs, int timeout_ms)
{
	struct timespec	 t0, t;
	long		 ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (c->nmsgs < nmsgs && !c->eof) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= timeout_ms)
			break;
		h_sse_read(c, (int)(timeout_ms - ms));
	}
	return (int)c->nmsgs;
}

void
h_sse_close(struct h_sse *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	close(c->fd);
	for (i = 0; i < c->nmsgs; i++) {
		free(c->msgs[i].id);
		free(c->msgs[i].event);
		free(c->msgs[i].data);
	}
	free(c->msgs);
	sse_parser_free(&c->parser);
	free(c);
}

/* A whole GET; returns the status and the body in *body (caller frees). */
int
h_http_get(int port, const char *path, const char *headers, char **body)
{
	return h_http_get_from(NULL, port, path, headers, body);
}

/* h_http_get, from the loopback address src (h_connect_from). */
int
h_http_get_from(const char *src, int port, const char *path,
    const char *headers, char **body)
{
	char	 req[16384], *resp = NULL, *end;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd, status;

	if ((fd = h_connect_from(src, port)) < 0)
		return -1;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1"
	    "\r\n%s\r\n", path, headers ? headers : "");
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	for (;;) {
		resp = realloc(resp, len + 65536 + 1);
		if ((n = read(fd, resp + len, 65536)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	resp[len] = '\0';
	status = len > 12 ? atoi(resp + 9) : -1;
	if (body != NULL) {
		end = strstr(resp, "\r\n\r\n");
		*body = strdup(end ? end + 4 : "");
	}
	free(resp);
	return status;
}

/*
 * Returns the number field of the stream program's /api/sse-health
 * answer through the web server on port, or -1 if there is none.
 */
long
h_health(int port, const char *field)
{
	char	*body = NULL, key[64], *p;
	long	 v = -1;

	snprintf(key, sizeof(key), "\"%s\":", field);
	if (h_http_get(port, "/api/sse-health", NULL, &body) == 200 &&
	    (p = strstr(body, key)) != NULL)
		v = strtol(p + strlen(key), NULL, 10);
	free(body);
	return v;
}

/*
 * Waits up to timeout_ms for the health field to equal want. Returns
 * the last value read.
 */
long
h_health_wait(int port, const char *field, long want, int timeout_ms)
{
	long	 v = -1;
	int	 waited;

	for (waited = 0; waited <= timeout_ms; waited += 100) {
		if ((v = h_health(port, field)) == want)
			break;
		usleep(100000);
	}
	return v;
}

/*
 * Reads until the stream's headers and its first id block arrived (the
 * stream is then subscribed). Returns 0 when ready, -1 otherwise.
 */
int
h_sse_ready(struct h_sse *c, int timeout_ms)
{
	int	 waited = 0;

	while (!c->eof && waited < timeout_ms &&
	    (c->status == 0 || c->parser.lastid[0] == '\0')) {
		h_sse_read(c, 50);
		waited += 50;
	}
	return c->status == 200 && c->parser.lastid[0] != '\0' ? 0 : -1;
}

/* Opens a stream and waits until it is subscribed; aborts otherwise. */
struct h_sse *
h_sse_connect(int port, const char *path, const char *lastid)
{
	struct h_sse	*c = h_sse_open(port, path, lastid);

	if (h_sse_ready(c, 10000) != 0)
		ck_abort_msg("stream %s not ready: status %d, head %s", path,
		    c->status, c->head);
	return c;
}

/* Runs every test of s; returns the process exit status. */
int
h_run_suite(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Runs the SQL file rel (relative to the source tree) in the cluster. */
void
h_pg_load(const char *rel)
{
	char	 path[1024], *sql;
	PGconn	*conn = h_pg_connect();

	snprintf(path, sizeof(path), "%s/%s", h_srcdir(), rel);
	sql = slurp(path);
	h_exec(conn, sql);
	free(sql);
	PQfinish(conn);
}

/*
 * Runs a browser test script (tests/browser/NAME.mjs) with node against
 * the web server on port; returns its exit status.
 */
int
h_browser(int port, const char *name)
{
	char	 url[64], path[4096];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	setenv("PGSSE_URL", url, 1);
	snprintf(path, sizeof(path), "%s/bin:%s", h_builddir(),
	    getenv("PATH"));
	setenv("PATH", path, 1);
	return h_run("node %s/tests/browser/%s.mjs", h_srcdir(), name);
}

/*
 * Starts bin/pgsse-runner on the job scripts in jobs (relative to the
 * source tree) with its own bin/ first in PATH. Returns its pid.
 */
pid_t
h_runner_start(const char *jobs, const char *timeout)
{
	char	 prog[1024], dir[1024], path[4096];
	pid_t	 pid;

	snprintf(prog, sizeof(prog), "%s/bin/pgsse-runner", h_builddir());
	snprintf(dir, sizeof(dir), "%s/%s", h_srcdir(), jobs);
	if ((pid = fork()) == 0) {
		snprintf(path, sizeof(path), "%s/bin:%s", h_builddir(),
		    getenv("PATH"));
		setenv("PATH", path, 1);
		setenv("PGUSER", "pgsse_publisher", 1);
		execl(prog, prog, "--jobs", dir, "--timeout", timeout,
		    "--workers", "2", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	return pid;
}

/* Stops a runner with sig and reaps it. */
void
h_runner_stop(pid_t pid, int sig)
{
	int	 st;

	if (pid <= 0)
		return;
	kill(pid, sig);
	waitpid(pid, &st, 0);
}

/*
 * Kills with SIGKILL every pgsse-stream process the web server spawned
 * (under mod_fcgid, one per open stream). Returns how many.
 */
int
h_web_kill_streams(struct h_web *w)
{
	pid_t	 kids[256];
	char	 path[64], cmd[256];
	FILE	*f;
	size_t	 n, i, len;
	int	 killed = 0;

	n = descendants(w->pid, kids, 256);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)kids[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		len = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		cmd[len] = '\0';
		if (strstr(cmd, "pgsse-stream") != NULL &&
		    kill(kids[i], SIGKILL) == 0)
			killed++;
	}
	return killed;
}

/*
 * Makes the CSRF secret for the FastCGI programs this process starts
 * and exports PGSSE_SECRET_FILE, once (forked tests inherit it): every
 * web server a test starts shares it, as the hosts of one site do. 32 random bytes,
 * mode 600, owned by www-data where that user exists (Apache's
 * mod_fcgid runs the programs as www-data).
 */
void
h_secret_init(void)
{
	static int	 done;
	char		 dir[512], path[600];
	unsigned char	 k[32];
	FILE		*f;

	if (done)
		return;
	make_tmpdir(dir, sizeof(dir), "secret");
	snprintf(path, sizeof(path), "%s/secret", dir);
	if ((f = fopen("/dev/urandom", "rb")) == NULL ||
	    fread(k, 1, sizeof(k), f) != sizeof(k))
		ck_abort_msg("cannot read /dev/urandom");
	fclose(f);
	if ((f = fopen(path, "wb")) == NULL || fchmod(fileno(f), 0600) != 0 ||
	    fwrite(k, 1, sizeof(k), f) != sizeof(k) || fclose(f) != 0)
		ck_abort_msg("cannot write %s", path);
	h_run("chown www-data %s 2>/dev/null", path);
	setenv("PGSSE_SECRET_FILE", path, 1);
	done = 1;
}

/*
 * Sends method path to port with Host 127.0.0.1:port, the extra header
 * lines hdrs (each ending in "\r\n", or NULL) and an urlencoded body
 * (or NULL: none, Content-Length: 0 for a POST), and
 * reads the whole answer, giving up after timeout_sec without one.
 * Returns the status, or -1; *resp (if not NULL) gets the answer,
 * headers included, which the caller frees.
 */
int
h_http(int port, const char *method, const char *path, const char *hdrs,
    const char *body, int timeout_sec, char **resp)
{
	struct timeval	 tv = { timeout_sec, 0 };
	char		*req, *p = NULL, clen[96] = "";
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, status, reqlen;

	if (body != NULL)
		snprintf(clen, sizeof(clen), "Content-Type: application/"
		    "x-www-form-urlencoded\r\nContent-Length: %zu\r\n",
		    strlen(body));
	else if (strcmp(method, "POST") == 0)
		snprintf(clen, sizeof(clen), "Content-Length: 0\r\n");
#define H_HTTP_REQ "%s %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n%s%s\r\n%s"
	reqlen = snprintf(NULL, 0, H_HTTP_REQ, method, path, port,
	    hdrs ? hdrs : "", clen, body ? body : "");
	if (reqlen < 0 || (req = malloc((size_t)reqlen + 1)) == NULL)
		ck_abort_msg("out of memory");
	snprintf(req, (size_t)reqlen + 1, H_HTTP_REQ, method, path, port,
	    hdrs ? hdrs : "", clen, body ? body : "");
	if ((fd = h_connect(port)) < 0) {
		free(req);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = write(fd, req, (size_t)reqlen);
	free(req);
	for (; n >= 0;) {
		if ((p = realloc(p, len + 65536 + 1)) == NULL)
			ck_abort_msg("out of memory");
		if ((n = read(fd, p + len, 65536)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (p == NULL && (p = malloc(1)) == NULL)
		ck_abort_msg("out of memory");
	p[len] = '\0';
	status = len > 12 ? atoi(p + 9) : -1;
	if (resp != NULL)
		*resp = p;
	else
		free(p);
	return status;
}

/* Returns the number in the one row of sql, run as the superuser;
 * aborts the test if the query fails. */
long
h_pg_count(const char *sql)
{
	PGconn		*c = h_pg_connect();
	PGresult	*r = PQexec(c, sql);
	long		 n;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		ck_abort_msg("%s: %s", sql, PQerrorMessage(c));
	n = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return n;
}

/*
 * Returns the app folder the web servers' pgsse-app serves:
 * PGSSE_APP_DIR if set, else the source tree's demo/. The string is
 * static or the environment's.
 */
const char *
h_app_dir(void)
{
	static char	 dir[1024];

	if (getenv("PGSSE_APP_DIR") != NULL)
		return getenv("PGSSE_APP_DIR");
	snprintf(dir, sizeof(dir), "%s/demo", h_srcdir());
	return dir;
}

/* Returns the SQLSTATE sql raises as c's role, or "" if it succeeds, in
 * a static buffer that the next call overwrites. */
const char *
h_sqlstate(PGconn *c, const char *sql)
{
	static char	 st[6];
	PGresult	*res = PQexec(c, sql);
	const char	*z = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	snprintf(st, sizeof(st), "%s", z ? z : "");
	PQclear(res);
	return st;
}

/* The standby this process started, stopped at exit like live_pg. */
static struct h_pg	*live_standby;
static pid_t		 standby_owner;

static void
standby_cleanup(void)
{
	if (getpid() == standby_owner && live_standby != NULL)
		h_pg_stop(live_standby);
}

/* The shell words that run a PostgreSQL program as the cluster's owner,
 * from PG_BINDIR as bin/pgsse-cluster finds it. */
#define H_PG_AS_OWNER "$( [ \"$(id -u)\" = 0 ] && echo runuser -u pgsse --) " \
	"\"${PG_BINDIR:-/usr/lib/postgresql/15/bin}\"/"

/* Returns a connection, as the superuser, to the cluster pg; aborts the
 * test if there is none. The caller closes it. */
PGconn *
h_pg_connect_to(const struct h_pg *pg)
{
	char	 info[700];
	PGconn	*conn;

	snprintf(info, sizeof(info), "host=%s/c port=%d dbname=pgsse "
	    "user=pgsse target_session_attrs=any", pg->dir, pg->port);
	conn = PQconnectdb(info);
	if (PQstatus(conn) != CONNECTION_OK)
		ck_abort_msg("connect to %s: %s", pg->dir,
		    PQerrorMessage(conn));
	return conn;
}

/* Waits up to 30 s for sql, run on pg, to return true; aborts if not. */
static void
pg_wait_true(const struct h_pg *pg, const char *sql)
{
	PGconn		*conn = h_pg_connect_to(pg);
	PGresult	*res;
	int		 i, ok = 0;

	for (i = 0; i < 300 && !ok; i++) {
		res = PQexec(conn, sql);
		ok = PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0),
		    "t") == 0;
		PQclear(res);
		if (!ok)
			usleep(100000);
	}
	PQfinish(conn);
	if (!ok)
		ck_abort_msg("%s: not true on %s within 30 s", sql, pg->dir);
}

/*
 * Makes standby a hot standby of primary, fed by streaming replication
 * (pg_basebackup -R) on its own port and socket folder, starts it and
 * waits until it streams. With sync, the primary commits only once the
 * standby has the WAL (synchronous_standby_names = '*'). Stopped with
 * h_pg_stop, and at exit. Aborts the test on failure.
 */
void
h_pg_standby(struct h_pg *standby, const struct h_pg *primary, int sync)
{
	PGconn	*conn;

	make_tmpdir(standby->dir, sizeof(standby->dir), "pgstandby");
	standby->port = h_free_port();
	if (h_run("set -e; d=%s/c; mkdir -m 700 $d; [ \"$(id -u)\" != 0 ] || "
	    "chown pgsse $d; " H_PG_AS_OWNER "pg_basebackup -h %s/c -p %d "
	    "-U pgsse -D $d/data -R -X stream -c fast; printf \"port = %d\\n"
	    "unix_socket_directories = '%%s'\\n\" $d >>$d/data/"
	    "postgresql.auto.conf; echo %d >$d/port", standby->dir,
	    primary->dir, primary->port, standby->port, standby->port) != 0)
		ck_abort_msg("pg_basebackup of %s failed", primary->dir);
	if (h_run("%s/bin/pgsse-cluster start %s/c", h_srcdir(),
	    standby->dir) != 0)
		ck_abort_msg("cannot start the standby in %s", standby->dir);
	live_standby = standby;
	if (standby_owner == 0)
		atexit(standby_cleanup);
	standby_owner = getpid();
	if (sync) {
		conn = h_pg_connect_to(primary);
		h_exec(conn, "alter system set synchronous_standby_names = '*'");
		h_exec(conn, "select pg_reload_conf()");
		PQfinish(conn);
	}
	pg_wait_true(primary, sync ? "select count(*) = 1 from "
	    "pg_stat_replication where sync_state = 'sync'" : "select count(*)"
	    " = 1 from pg_stat_replication where state = 'streaming'");
}

/* Waits until standby has replayed all the WAL primary has now. */
void
h_pg_catch_up(const struct h_pg *primary, const struct h_pg *standby)
{
	PGconn		*conn = h_pg_connect_to(primary);
	PGresult	*res = PQexec(conn, "select pg_current_wal_lsn()");
	char		 sql[128];

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		ck_abort_msg("pg_current_wal_lsn: %s", PQerrorMessage(conn));
	snprintf(sql, sizeof(sql), "select pg_last_wal_replay_lsn() >= "
	    "'%s'::pg_lsn", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	pg_wait_true(standby, sql);
}

/* Promotes the standby pg and waits until it takes writes. */
void
h_pg_promote(struct h_pg *pg)
{
	if (h_run(H_PG_AS_OWNER "pg_ctl -D %s/c/data -w -t 60 promote "
	    ">/dev/null", pg->dir) != 0)
		ck_abort_msg("cannot promote %s", pg->dir);
	pg_wait_true(pg, "select not pg_is_in_recovery()");
}

/*
 * Opens a stream as an EventSource does after the stream process lost
 * its database connections (a failover, a new log epoch): one whose
 * pooled connection went turns the first tries away with retry:, and
 * the browser comes back. Aborts the test if the stream is not ready
 * after 20 tries.
 */
struct h_sse *
h_sse_connect_retry(int port, const char *path, const char *lastid)
{
	struct h_sse	*s;
	int		 i;

	for (i = 0; i < 20; i++) {
		s = h_sse_open(port, path, lastid);
		if (h_sse_ready(s, 10000) == 0)
			return s;
		h_sse_close(s);
		usleep(250000);
	}
	ck_abort_msg("stream %s not ready after 20 tries", path);
	return NULL;
}

/* Returns the one integer sql gives on c; fails the test if none. */
int64_t
h_pg_scalar(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);
	int64_t		 v;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) == 1, "%s: %s", sql, PQerrorMessage(c));
	v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}
