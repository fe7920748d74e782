/*
 * check_sdnotify.c: readiness for systemd (lib/sdnotify.c). PID 1 here
 * is not systemd, so the test listens on a NOTIFY_SOCKET of its own and
 * starts each program as a Type=notify unit would, on a real PostgreSQL:
 *  - pgsse-stream says READY=1 only once its socket listens and its
 *    LISTEN connection is up: not while the database is down, and when
 *    it does, its health answers "db":"up" over the socket;
 *  - pgsse-app once its socket listens and its app folder is loaded
 *    (with a folder that does not load it exits 2 and says nothing);
 *  - pgsse-runner once connected, and no job inherits NOTIFY_SOCKET;
 *  - each says STOPPING=1 on SIGTERM, then exits 0.
 * With NOTIFY_SOCKET unset, naming nothing or malformed, the programs
 * serve and stop as ever, and say nothing about it.
 */
#define _GNU_SOURCE		/* strcasestr */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "harness.h"
#include "fcgiparse.h"

/* Milliseconds a message, an answer or an exit may take. */
#define WAIT_MS 30000
/* Milliseconds in which a message that must not come does not come. */
#define QUIET_MS 1500
/* Bytes of messages a listener keeps. */
#define SEEN_MAX 4096

struct lsn {
	int	 fd;
	char	 addr[108];		/* NOTIFY_SOCKET's value */
	char	 seen[SEEN_MAX];	/* every message, one a line */
	size_t	 len;
};

static struct h_pg	 pg;
static char		 tmp[512];	/* this test's folder */

static void
pg_up(void)
{
	char	 base[512];

	h_pg_start(&pg, NULL);
	h_pg_load("demo/schema.sql");
	h_pg_load("sql/roles.sql");
	h_secret_init();
	snprintf(base, sizeof(base), "%s/tests/tmp", h_builddir());
	mkdir(base, 0755);
	if (snprintf(tmp, sizeof(tmp), "%s/notify.XXXXXX", base) >=
	    (int)sizeof(tmp) || mkdtemp(tmp) == NULL)
		ck_abort_msg("mkdtemp: %s", strerror(errno));
}

static void
pg_down(void)
{
	h_pg_stop(&pg);
	h_run("rm -rf %s", tmp);
}

/* Starts the cluster again if a test left it stopped. */
static void
setup(void)
{
	h_run("test -f %s/c/data/postmaster.pid || %s/bin/pgsse-cluster "
	    "start %s/c", pg.dir, h_srcdir(), pg.dir);
}

static void
teardown(void)
{
}

static void
cluster(const char *verb)
{
	if (h_run("%s/bin/pgsse-cluster %s %s/c", h_srcdir(), verb,
	    pg.dir) != 0)
		ck_abort_msg("pgsse-cluster %s failed", verb);
}

static long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Opens a listener on a path in tmp or, with abstract, a name. */
static void
lsn_open(struct lsn *l, int abstract)
{
	static int		 n;
	struct sockaddr_un	 sa;
	socklen_t		 len;

	memset(l, 0, sizeof(*l));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (abstract)
		snprintf(l->addr, sizeof(l->addr), "@pgsse-check-%d-%d",
		    (int)getpid(), n++);
	else if (snprintf(l->addr, sizeof(l->addr), "%s/notify-%d", tmp,
	    n++) >= (int)sizeof(l->addr))
		ck_abort_msg("%s: too long for a socket address", tmp);
	memcpy(sa.sun_path, l->addr, strlen(l->addr));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(l->addr));
	if (abstract)
		sa.sun_path[0] = '\0';
	else
		unlink(l->addr);
	if ((l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(l->fd, (struct sockaddr *)&sa, len) == -1)
		ck_abort_msg("notify socket %s: %s", l->addr, strerror(errno));
}

static void
lsn_close(struct lsn *l)
{
	close(l->fd);
	if (l->addr[0] == '/')
		unlink(l->addr);
}

/*
 * Keeps every message that comes within ms, until one holds the line
 * want. Returns 1 if one did, 0 if none did in time.
 */
static int
lsn_wait(struct lsn *l, const char *want, int ms)
{
	struct pollfd	 pfd = { l->fd, POLLIN, 0 };
	char		 msg[1024], line[1100];
	long		 end = now_ms() + ms, left;
	ssize_t		 n;

	snprintf(line, sizeof(line), "\n%s\n", want);
	while ((left = end - now_ms()) > 0) {
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if ((n = recv(l->fd, msg + 1, sizeof(msg) - 3, 0)) <= 0)
			continue;
		msg[0] = '\n';
		msg[n + 1] = '\n';
		msg[n + 2] = '\0';
		if (l->len + (size_t)n + 1 < sizeof(l->seen)) {
			memcpy(l->seen + l->len, msg + 1, (size_t)n + 1);
			l->len += (size_t)n + 1;
		}
		if (strstr(msg, line) != NULL)
			return 1;
	}
	return 0;
}

/*
 * Starts argv[0] with NOTIFY_SOCKET notify (NULL: unset) and standard
 * error in tmp/NAME.err. Returns its pid.
 */
static pid_t
prog_start(const char *notify, const char *name, char *const argv[])
{
	char	 err[600];
	pid_t	 pid;
	int	 fd;

	snprintf(err, sizeof(err), "%s/%s.err", tmp, name);
	if ((pid = fork()) == 0) {
		if (notify != NULL)
			setenv("NOTIFY_SOCKET", notify, 1);
		else
			unsetenv("NOTIFY_SOCKET");
		if ((fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0)
			dup2(fd, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	return pid;
}

/* Waits up to WAIT_MS for pid to exit; returns its exit status, or -1
 * if it was killed (by the test, when it did not exit in time). */
static int
prog_wait(pid_t pid)
{
	long	 end = now_ms() + WAIT_MS;
	int	 st;

	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(20000);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Returns what program name wrote on standard error (caller frees). */
static char *
prog_err(const char *name)
{
	char	 path[600], *z;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/%s.err", tmp, name);
	if ((f = fopen(path, "r")) == NULL || (z = calloc(1, 65536)) == NULL)
		ck_abort_msg("cannot read %s", path);
	n = fread(z, 1, 65535, f);
	z[n] = '\0';
	fclose(f);
	return z;
}

/* Appends a FastCGI record of type for request 1 to b at *n. */
static void
fcgi_record(unsigned char *b, size_t *n, int type, const void *body,
    size_t len)
{
	const unsigned char	 h[8] = { 1, (unsigned char)type, 0, 1,
	    (unsigned char)(len >> 8), (unsigned char)(len & 0xff), 0, 0 };

	memcpy(b + *n, h, sizeof(h));
	memcpy(b + *n + sizeof(h), body, len);
	*n += sizeof(h) + len;
}

/* Appends a FastCGI name-value pair (each under 128 bytes) to b at *n. */
static void
fcgi_pair(unsigned char *b, size_t *n, const char *name, const char *val)
{
	b[(*n)++] = (unsigned char)strlen(name);
	b[(*n)++] = (unsigned char)strlen(val);
	memcpy(b + *n, name, strlen(name));
	*n += strlen(name);
	memcpy(b + *n, val, strlen(val));
	*n += strlen(val);
}

/*
 * Sends GET uri to the FastCGI server on the Unix socket sock, as a web
 * server would, and reads its answer. Returns the answer (headers and
 * body, which the caller frees), or NULL with none within WAIT_MS.
 */
static char *
fcgi_get(const char *sock, const char *uri)
{
	static const unsigned char begin[8] = { 0, 1 };	/* responder */
	static unsigned char	 in[1 << 16];
	unsigned char		 req[1024], params[512];
	struct sockaddr_un	 sa;
	struct timeval		 tv = { WAIT_MS / 1000, 0 };
	struct fcgi_resp	 r;
	const char		*why;
	size_t			 n = 0, np = 0, got = 0;
	ssize_t			 k;
	int			 fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fcgi_pair(params, &np, "REQUEST_METHOD", "GET");
	fcgi_pair(params, &np, "REQUEST_URI", uri);
	fcgi_pair(params, &np, "HTTP_HOST", "localhost");
	fcgi_record(req, &n, 1, begin, sizeof(begin));
	fcgi_record(req, &n, 4, params, np);
	fcgi_record(req, &n, 4, "", 0);
	fcgi_record(req, &n, 5, "", 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    write(fd, req, n) != (ssize_t)n) {
		close(fd);
		return NULL;
	}
	while (got < sizeof(in) && (k = read(fd, in + got,
	    sizeof(in) - got)) > 0)
		got += (size_t)k;
	close(fd);
	if (fcgi_read_response(in, got, 1, &r, &why) != 0) {
		free(r.out);
		return NULL;
	}
	return r.out;
}

/* Waits up to WAIT_MS for the file at path to exist. */
static void
wait_file(const char *path)
{
	long	 end = now_ms() + WAIT_MS;

	while (access(path, F_OK) != 0 && now_ms() < end)
		usleep(20000);
	ck_assert_msg(access(path, F_OK) == 0, "%s never came", path);
}

/* Starts pgsse-stream on tmp/stream.sock with NOTIFY_SOCKET notify. */
static pid_t
stream_start(const char *notify, char *sock, size_t socksz)
{
	char	 bin[600];
	char	*argv[] = { bin, "--socket", sock, NULL };

	snprintf(bin, sizeof(bin), "%s/pgsse-stream", h_cgibin());
	snprintf(sock, socksz, "%s/stream.sock", tmp);
	unlink(sock);
	return prog_start(notify, "stream", argv);
}

/* Asks the stream on sock for its health until it says the database
 * is up, for up to WAIT_MS. Returns the last answer (caller frees). */
static char *
health_up(const char *sock)
{
	long	 end = now_ms() + WAIT_MS;
	char	*z = NULL;

	do {
		free(z);
		if ((z = fcgi_get(sock, "/api/sse-health")) != NULL &&
		    strstr(z, "\"db\":\"up\"") != NULL)
			break;
		usleep(50000);
	} while (now_ms() < end);
	return z;
}

/* Sends SIGTERM to pid; it must say STOPPING=1 (if l) and exit 0. */
static void
stop_cleanly(pid_t pid, struct lsn *l)
{
	kill(pid, SIGTERM);
	if (l != NULL)
		ck_assert_msg(lsn_wait(l, "STOPPING=1", WAIT_MS),
		    "no STOPPING=1 after SIGTERM; got: %s", l->seen);
	ck_assert_int_eq(prog_wait(pid), 0);
}

/*
 * Waits for READY=1 on l; then the program on sock must answer GET uri
 * with an answer that holds want.
 */
static void
ready_serving(struct lsn *l, const char *sock, const char *uri,
    const char *want)
{
	char	*z;

	ck_assert_msg(lsn_wait(l, "READY=1", WAIT_MS), "no READY=1; got: %s",
	    l->seen);
	z = fcgi_get(sock, uri);
	ck_assert_msg(z != NULL && strstr(z, want) != NULL,
	    "READY=1, but GET %s answers %s", uri, z ? z : "nothing");
	free(z);
}

START_TEST(stream_ready_once_listening)
{
	struct lsn	 l;
	char		 sock[600];
	pid_t		 pid;

	lsn_open(&l, 0);
	cluster("stop");
	pid = stream_start(l.addr, sock, sizeof(sock));
	wait_file(sock);
	ck_assert_msg(!lsn_wait(&l, "READY=1", QUIET_MS),
	    "READY=1 with the database down");
	cluster("start");
	ready_serving(&l, sock, "/api/sse-health", "\"db\":\"up\"");
	stop_cleanly(pid, &l);
	lsn_close(&l);
}
END_TEST

/* Starts pgsse-app on tmp/app.sock, serving the app folder dir, with
 * NOTIFY_SOCKET notify. */
static pid_t
app_start(const char *notify, const char *dir, char *sock, size_t socksz)
{
	char	 bin[600];
	char	*argv[] = { bin, "--socket", sock, "--app", (char *)dir, NULL };

	snprintf(bin, sizeof(bin), "%s/pgsse-app", h_cgibin());
	snprintf(sock, socksz, "%s/app.sock", tmp);
	unlink(sock);
	return prog_start(notify, "app", argv);
}

START_TEST(app_ready_once_loaded)
{
	struct lsn	 l;
	char		 sock[600];
	pid_t		 pid;

	lsn_open(&l, 1);
	pid = app_start(l.addr, h_app_dir(), sock, sizeof(sock));
	ready_serving(&l, sock, "/no/such/route", "Status: 404");
	stop_cleanly(pid, &l);
	lsn_close(&l);
}
END_TEST

START_TEST(app_bad_folder_never_ready)
{
	struct lsn	 l;
	char		 sock[600], dir[600];

	lsn_open(&l, 0);
	snprintf(dir, sizeof(dir), "%s/no-such-app", tmp);
	ck_assert_int_eq(prog_wait(app_start(l.addr, dir, sock,
	    sizeof(sock))), 2);
	ck_assert_msg(!lsn_wait(&l, "READY=1", 0) && l.len == 0,
	    "pgsse-app with no app folder said: %s", l.seen);
	lsn_close(&l);
}
END_TEST

/* Returns the one value sql selects (caller frees), waiting up to
 * WAIT_MS for it to be want if want is not NULL. */
static char *
pg_value(PGconn *c, const char *sql, const char *want)
{
	PGresult	*res;
	char		*z = NULL;
	long		 end = now_ms() + WAIT_MS;

	do {
		free(z);
		res = PQexec(c, sql);
		z = strdup(PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
		PQclear(res);
		if (want == NULL || strcmp(z, want) == 0)
			break;
		usleep(50000);
	} while (now_ms() < end);
	return z;
}

START_TEST(runner_ready_once_connected)
{
	struct lsn	 l;
	char		 bin[600], jobs[600], sql[700], *z;
	char		*argv[] = { bin, "--jobs", jobs, "--workers", "2", NULL };
	PGconn		*c;
	int64_t		 id;
	pid_t		 pid;
	FILE		*f;

	lsn_open(&l, 0);
	snprintf(bin, sizeof(bin), "%s/bin/pgsse-runner", h_builddir());
	snprintf(jobs, sizeof(jobs), "%s/jobs", tmp);
	mkdir(jobs, 0755);
	snprintf(sql, sizeof(sql), "%s/env", jobs);
	if ((f = fopen(sql, "w")) == NULL || fputs("#!/bin/sh\n"
	    "echo \"NOTIFY_SOCKET=${NOTIFY_SOCKET-unset}\"\n", f) < 0 ||
	    fclose(f) != 0 || chmod(sql, 0755) != 0)
		ck_abort_msg("cannot write %s", sql);
	cluster("stop");
	pid = prog_start(l.addr, "runner", argv);
	ck_assert_msg(!lsn_wait(&l, "READY=1", QUIET_MS),
	    "READY=1 with the database down");
	cluster("start");
	ck_assert_msg(lsn_wait(&l, "READY=1", WAIT_MS),
	    "no READY=1 once the database is up; got: %s", l.seen);
	c = h_pg_connect();
	z = pg_value(c, "select pgsse.enqueue('env')", NULL);
	id = strtoll(z, NULL, 10);
	free(z);
	snprintf(sql, sizeof(sql), "select state from pgsse.jobs where id = %"
	    PRId64, id);
	z = pg_value(c, sql, "succeeded");
	ck_assert_str_eq(z, "succeeded");
	free(z);
	snprintf(sql, sizeof(sql), "select string_agg(payload ->> 'line', "
	    "',') from pgsse.log where channel = 'logs' and (payload ->> "
	    "'job_id')::bigint = %" PRId64, id);
	z = pg_value(c, sql, NULL);
	ck_assert_str_eq(z, "NOTIFY_SOCKET=unset");
	free(z);
	PQfinish(c);
	stop_cleanly(pid, &l);
	lsn_close(&l);
}
END_TEST

/*
 * NOTIFY_SOCKET unset, naming nothing (a path, an abstract name),
 * malformed (relative, empty, longer than a socket path can be): the
 * stream serves, stops cleanly, and says nothing about it.
 */
START_TEST(stream_without_listener)
{
	char		 sock[600], longpath[300], *z;
	const char	*notify[] = { NULL, "/nonexistent/notify",
	    "@pgsse-nobody-listens", "relative/notify", "", "@", longpath };
	size_t		 i;
	pid_t		 pid;

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	for (i = 0; i < sizeof(notify) / sizeof(notify[0]); i++) {
		pid = stream_start(notify[i], sock, sizeof(sock));
		wait_file(sock);
		z = health_up(sock);
		ck_assert_msg(z != NULL && strstr(z, "\"db\":\"up\"") != NULL,
		    "NOTIFY_SOCKET=%s: health %s", notify[i] ? notify[i] :
		    "(unset)", z ? z : "(none)");
		free(z);
		stop_cleanly(pid, NULL);
		z = prog_err("stream");
		ck_assert_msg(strcasestr(z, "notif") == NULL,
		    "NOTIFY_SOCKET=%s: the stream said %s", notify[i] ?
		    notify[i] : "(unset)", z);
		free(z);
	}
}
END_TEST

/* Makes a test case of s with its own cluster. */
static TCase *
test_case(Suite *s, const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, pg_up, pg_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return tc;
}

int
main(void)
{
	Suite	*s = suite_create("sdnotify");
	TCase	*tc = test_case(s, "core");

	tcase_add_test(tc, stream_ready_once_listening);
	tcase_add_test(tc, app_ready_once_loaded);
	tcase_add_test(tc, app_bad_folder_never_ready);
	tcase_add_test(tc, runner_ready_once_connected);
	tc = test_case(s, "hostile");
	tcase_add_test(tc, stream_without_listener);
	return h_run_suite(s);
}
