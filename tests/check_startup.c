/*
 * check_startup.c: how the programs start and fail to: the FastCGI
 * socket they listen on (--socket), fatal start-up errors, reconnects
 * that back off, and usage errors. Each program is run as installed
 * would be, its exit status and its standard error read.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>

#include "harness.h"

/* How long a program that should fail at once may take to exit. */
#define ST_EXIT_MS 10000
/* Exit status of a program that did not exit in time. */
#define ST_RUNNING (-1)

/* What a run left. */
struct st_run {
	int	 rc;		/* exit status, or ST_RUNNING */
	char	*out;		/* standard output */
	char	*err;		/* standard error */
	pid_t	 pid;		/* while it runs (st_start) */
	char	 dir[600];	/* its capture files */
};

static char *
st_slurp(const char *path)
{
	FILE	*f;
	char	*p;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(p);
	if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n)
		ck_abort_msg("cannot read %s", path);
	fclose(f);
	return p;
}

/* Returns a new folder under tests/tmp, readable by anyone. */
static void
st_tmpdir(char *dir, size_t len, const char *what)
{
	char	 base[512];

	snprintf(base, sizeof(base), "%s/tests/tmp", h_builddir());
	mkdir(base, 0755);
	snprintf(dir, len, "%s/%s.XXXXXX", base, what);
	if (mkdtemp(dir) == NULL)
		ck_abort_msg("mkdtemp: %s", strerror(errno));
	chmod(dir, 0777);
}

/*
 * Starts argv (argv[0] relative to the build folder, or absolute) with the
 * environment changes env ("K=V" sets, "K" unsets; NULL-terminated,
 * or NULL), as user nobody if nobody is set and this runs as root, its
 * output in files of r->dir.
 */
static void
st_start(struct st_run *r, const char *const *argv, const char *const *env,
    int nobody)
{
	char		 prog[1024], path[700];
	const char	*args[32];
	int		 n = 0, i, fd;

	memset(r, 0, sizeof(*r));
	st_tmpdir(r->dir, sizeof(r->dir), "run");
	if (argv[0][0] == '/')
		snprintf(prog, sizeof(prog), "%s", argv[0]);
	else
		snprintf(prog, sizeof(prog), "%s/%s", h_builddir(), argv[0]);
	if (nobody && geteuid() == 0) {
		args[n++] = "setpriv";
		args[n++] = "--reuid=nobody";
		args[n++] = "--regid=nogroup";
		args[n++] = "--clear-groups";
	}
	args[n++] = prog;
	for (i = 1; argv[i] != NULL && n < 31; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	if ((r->pid = fork()) == 0) {
		for (i = 0; env != NULL && env[i] != NULL; i++)
			if (strchr(env[i], '=') != NULL)
				putenv((char *)env[i]);
			else
				unsetenv(env[i]);
		snprintf(path, sizeof(path), "%s/out", r->dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		dup2(fd, STDOUT_FILENO);
		snprintf(path, sizeof(path), "%s/err", r->dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		dup2(fd, STDERR_FILENO);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, STDIN_FILENO);
		execvp(args[0], (char *const *)args);
		_exit(127);
	}
	ck_assert_int_gt(r->pid, 0);
}

/*
 * Waits up to ms for r's program to exit, then kills it (r->rc is then
 * ST_RUNNING), and reads what it wrote.
 */
static void
st_wait(struct st_run *r, int ms)
{
	char	 path[700];
	int	 st, waited;

	r->rc = ST_RUNNING;
	for (waited = 0; waited <= ms; waited += 50) {
		if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
			r->rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
			    WTERMSIG(st);
			break;
		}
		usleep(50000);
	}
	if (r->rc == ST_RUNNING) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &st, 0);
	}
	snprintf(path, sizeof(path), "%s/out", r->dir);
	r->out = st_slurp(path);
	snprintf(path, sizeof(path), "%s/err", r->dir);
	r->err = st_slurp(path);
}

/* Runs argv until it exits (up to ST_EXIT_MS). */
static void
st_run(struct st_run *r, const char *const *argv, const char *const *env,
    int nobody)
{
	st_start(r, argv, env, nobody);
	st_wait(r, ST_EXIT_MS);
}

static void
st_free(struct st_run *r)
{
	free(r->out);
	free(r->err);
	h_run("rm -rf %s", r->dir);
}

/* Counts the lines in z. */
static int
st_lines(const char *z)
{
	int	 n = 0;

	for (; *z != '\0'; z++)
		n += *z == '\n';
	return n;
}

/* Asserts that z holds each of the strings after it (NULL-ended). */
static void
st_says(const char *z, ...)
{
	va_list		 ap;
	const char	*want;

	va_start(ap, z);
	while ((want = va_arg(ap, const char *)) != NULL)
		ck_assert_msg(strstr(z, want) != NULL, "\"%.600s\" does not say "
		    "\"%s\"", z, want);
	va_end(ap);
}

/* Binds a Unix socket at path; listens on it if live. Returns its fd. */
static int
st_unix(const char *path, int live)
{
	struct sockaddr_un	 sa;
	int			 fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    (live && listen(fd, 8) == -1))
		ck_abort_msg("%s: %s", path, strerror(errno));
	return fd;
}

/* Returns 1 if something accepts connections at the Unix path. */
static int
st_answers(const char *path)
{
	struct sockaddr_un	 sa;
	int			 fd, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return 0;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return rc;
}

/* The FastCGI servers, by index _i of a loop test. */
static const char *const st_fcgi[] = {
	"cgi-bin/pgsse-stream", "cgi-bin/pgsse-app",
};

/*
 * The listen tests' environment: the database is never reached; the
 * app serves the demo folder, with a secret for its actions.
 */
static char	 st_appdir[700], st_secret[700];
static const char *st_nodb[] = {
	"PGHOST=/nonexistent", "PGSSE_CONNINFO", "PGSSE_STREAM_CONNINFO",
	"PGSSE_APP_CONNINFO", st_appdir, st_secret, NULL
};

/* Fills st_nodb's app folder and secret. */
static void
st_nodb_init(void)
{
	char	 dir[600];

	st_tmpdir(dir, sizeof(dir), "secret");
	snprintf(st_secret, sizeof(st_secret), "PGSSE_SECRET_FILE=%s/secret",
	    dir);
	if (h_run("head -c 32 /dev/urandom >%s", st_secret + 18) != 0)
		ck_abort_msg("cannot write %s", st_secret + 18);
	chmod(st_secret + 18, 0600);
	snprintf(st_appdir, sizeof(st_appdir), "PGSSE_APP_DIR=%s/demo",
	    h_srcdir());
}

/* Asserts r failed at once with one line naming prog, addr, why. */
static void
st_listen_failed(struct st_run *r, const char *prog, const char *addr,
    const char *why)
{
	ck_assert_msg(r->rc == 1, "%s --socket %s: exit %d (want 1), "
	    "stderr \"%.600s\"", prog, addr, r->rc, r->err);
	ck_assert_msg(st_lines(r->err) == 1, "not one line: \"%.600s\"", r->err);
	st_says(r->err, strrchr(prog, '/') + 1, addr, why, "--socket", NULL);
}

/* A Unix socket another program listens on is left to it. */
START_TEST(listen_unix_in_use)
{
	struct st_run	 r;
	char		 dir[600], sock[700];
	const char	*argv[] = { st_fcgi[_i], "--socket", sock, NULL };
	int		 fd;

	st_tmpdir(dir, sizeof(dir), "sock");
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	fd = st_unix(sock, 1);
	st_run(&r, argv, st_nodb, 0);
	st_listen_failed(&r, st_fcgi[_i], sock, strerror(EADDRINUSE));
	close(fd);
	st_free(&r);
	h_run("rm -rf %s", dir);
}
END_TEST

/* A TCP port another program listens on. */
START_TEST(listen_tcp_in_use)
{
	struct st_run		 r;
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);
	char			 addr[64];
	const char		*argv[] = { st_fcgi[_i], "--socket", addr, NULL };
	int			 fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sa.sin_port));
	st_run(&r, argv, st_nodb, 0);
	st_listen_failed(&r, st_fcgi[_i], addr, strerror(EADDRINUSE));
	close(fd);
	st_free(&r);
}
END_TEST

/* The socket's folder does not exist. */
START_TEST(listen_no_folder)
{
	struct st_run	 r;
	char		 dir[600], sock[700];
	const char	*argv[] = { st_fcgi[_i], "--socket", sock, NULL };

	st_tmpdir(dir, sizeof(dir), "sock");
	snprintf(sock, sizeof(sock), "%s/missing/s.sock", dir);
	st_run(&r, argv, st_nodb, 0);
	st_listen_failed(&r, st_fcgi[_i], sock, strerror(ENOENT));
	st_free(&r);
	h_run("rm -rf %s", dir);
}
END_TEST

/* The program may not write in the socket's folder. */
START_TEST(listen_denied)
{
	struct st_run	 r;
	char		 dir[600], sock[700];
	const char	*argv[] = { st_fcgi[_i], "--socket", sock, NULL };

	st_tmpdir(dir, sizeof(dir), "sock");
	chmod(dir, 0555);
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	st_run(&r, argv, st_nodb, 1);
	st_listen_failed(&r, st_fcgi[_i], sock, strerror(EACCES));
	st_free(&r);
	h_run("rm -rf %s", dir);
}
END_TEST

/* A file that is not a socket is never removed to make room. */
START_TEST(listen_not_socket)
{
	struct st_run	 r;
	struct stat	 st;
	char		 dir[600], sock[700];
	const char	*argv[] = { st_fcgi[_i], "--socket", sock, NULL };

	st_tmpdir(dir, sizeof(dir), "sock");
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	ck_assert_int_eq(h_run("echo keep >%s", sock), 0);
	st_run(&r, argv, st_nodb, 0);
	ck_assert_msg(r.rc == 1, "exit %d, stderr \"%.600s\"", r.rc, r.err);
	st_says(r.err, sock, "not a socket", NULL);
	ck_assert_int_eq(stat(sock, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	st_free(&r);
	h_run("rm -rf %s", dir);
}
END_TEST

/* A socket nobody listens on (its program died) is replaced. */
START_TEST(listen_stale)
{
	struct st_run	 r;
	char		 dir[600], sock[700];
	const char	*argv[] = { st_fcgi[_i], "--socket", sock, NULL };
	int		 i;

	st_tmpdir(dir, sizeof(dir), "sock");
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	close(st_unix(sock, 0));
	ck_assert(!st_answers(sock));
	st_start(&r, argv, st_nodb, 0);
	for (i = 0; i < 100 && !st_answers(sock); i++)
		usleep(50000);
	ck_assert_msg(st_answers(sock), "nothing listens on %s", sock);
	st_wait(&r, 0);
	ck_assert_int_eq(r.rc, ST_RUNNING);
	st_free(&r);
	h_run("rm -rf %s", dir);
}
END_TEST

/*
 * Returns how many sockets listen on TCP port, and in *wild how many of
 * them on an address that is not loopback, from /proc/net/tcp and tcp6.
 */
static int
st_tcp_listeners(int port, int *wild)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char		 line[512], local[64];
	unsigned int	 p, st;
	size_t		 i;
	int		 n = 0;
	FILE		*f;

	*wild = 0;
	for (i = 0; i < 2; i++) {
		if ((f = fopen(files[i], "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "%*d: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x "
			    "%x", local, &p, &st) == 3 && (int)p == port &&
			    st == 0x0A) {
				n++;
				if (strcmp(local, "0100007F") != 0 && strcmp(local,
				    "00000000000000000000000001000000") != 0)
					(*wild)++;
			}
		fclose(f);
	}
	return n;
}

/* ":PORT" listens on loopback only: FastCGI trusts its peer. */
START_TEST(listen_port_loopback)
{
	struct st_run		 r;
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);
	char			 addr[64];
	const char		*argv[] = { st_fcgi[_i], "--socket", addr, NULL };
	int			 fd, i, wild = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(addr, sizeof(addr), ":%d", ntohs(sa.sin_port));
	st_start(&r, argv, st_nodb, 0);
	for (i = 0; i < 100 && st_tcp_listeners(ntohs(sa.sin_port),
	    &wild) == 0; i++)
		usleep(50000);
	ck_assert_msg(st_tcp_listeners(ntohs(sa.sin_port), &wild) > 0,
	    "%s: nothing listens on %s", st_fcgi[_i], addr);
	ck_assert_msg(wild == 0, "%s --socket %s listens beyond loopback "
	    "(%d sockets)", st_fcgi[_i], addr, wild);
	/* The samples' web servers connect to 127.0.0.1, not ::1. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "%s --socket %s: nothing on 127.0.0.1: %s", st_fcgi[_i], addr,
	    strerror(errno));
	close(fd);
	st_free(&r);
}
END_TEST

/*
 * The installed programs (PGSSE_PROGRAMS: make check sets it from
 * Makefile.am's lists, so a new program is tested too), relative to
 * the build folder.
 */
#define ST_PROGS_MAX 32
static char	*st_progs[ST_PROGS_MAX];
static int	 st_nprogs;

static void
st_progs_init(void)
{
	static char	 buf[4096];
	const char	*z = getenv("PGSSE_PROGRAMS");
	char		*p, *last;

	if (z == NULL || *z == '\0')
		z = "bin/pgsse-publish bin/pgsse-registry bin/pgsse-runner "
		    "bin/pgsse-lint cgi-bin/pgsse-stream cgi-bin/pgsse-app";
	snprintf(buf, sizeof(buf), "%s", z);
	for (p = strtok_r(buf, " \t", &last); p != NULL && st_nprogs <
	    ST_PROGS_MAX; p = strtok_r(NULL, " \t", &last))
		st_progs[st_nprogs++] = p;
}

/*
 * Returns argv[0] for program prog: the build folder's, or the source
 * folder's for a script that is not built.
 */
static const char *
st_prog_path(const char *prog)
{
	static char	 path[1024];

	snprintf(path, sizeof(path), "%s/%s", h_builddir(), prog);
	if (access(path, X_OK) == 0)
		return prog;
	snprintf(path, sizeof(path), "%s/%s", h_srcdir(), prog);
	return path;
}

/* A flag no program has: exit 2, the usage on standard error. */
START_TEST(usage_bad_flag)
{
	struct st_run	 r;
	const char	*argv[] = { st_prog_path(st_progs[_i]),
	    "--no-such-flag", NULL };

	st_run(&r, argv, st_nodb, 0);
	ck_assert_msg(r.rc == 2, "%s --no-such-flag: exit %d (want 2), "
	    "stderr \"%.600s\"", st_progs[_i], r.rc, r.err);
	ck_assert_msg(strstr(r.err, "usage") != NULL, "%s --no-such-flag: "
	    "no usage on stderr: \"%.600s\"", st_progs[_i], r.err);
	ck_assert_msg(*r.out == '\0', "%s --no-such-flag: stdout \"%.300s\"",
	    st_progs[_i], r.out);
	st_free(&r);
}
END_TEST

/* --version: exit 0, "NAME VERSION" on standard output. */
START_TEST(usage_version)
{
	struct st_run	 r;
	const char	*argv[] = { st_prog_path(st_progs[_i]), "--version",
	    NULL };
	char		 want[256];

	snprintf(want, sizeof(want), "%s %s\n", strrchr(st_progs[_i], '/') +
	    1, getenv("PGSSE_VERSION") ? getenv("PGSSE_VERSION") : "0.1.0");
	st_run(&r, argv, st_nodb, 0);
	ck_assert_msg(r.rc == 0 && strcmp(r.out, want) == 0, "%s --version: "
	    "exit %d, stdout \"%.300s\" (want \"%s\"), stderr \"%.600s\"",
	    st_progs[_i], r.rc, r.out, want, r.err);
	st_free(&r);
}
END_TEST

/* --help: exit 0, the usage on standard output. */
START_TEST(usage_help)
{
	struct st_run	 r;
	const char	*argv[] = { st_prog_path(st_progs[_i]), "--help",
	    NULL };

	st_run(&r, argv, st_nodb, 0);
	ck_assert_msg(r.rc == 0 && strstr(r.out, "usage") != NULL &&
	    *r.err == '\0', "%s --help: exit %d, stdout \"%.300s\", stderr "
	    "\"%.600s\"", st_progs[_i], r.rc, r.out, r.err);
	st_free(&r);
}
END_TEST

/* pgsse-app's bad values and a flag without its value are usage errors. */
START_TEST(usage_app_values)
{
	static const char *const bad[][4] = {
		{ "cgi-bin/pgsse-app", "--threads", "0", NULL },
		{ "cgi-bin/pgsse-app", "--threads", "x", NULL },
		{ "cgi-bin/pgsse-app", "--socket", NULL, NULL },
		{ "cgi-bin/pgsse-app", "extra", NULL, NULL },
	};
	struct st_run	 r;

	st_run(&r, bad[_i], st_nodb, 0);
	ck_assert_msg(r.rc == 2, "%s %s: exit %d (want 2), stderr \"%.600s\"",
	    bad[_i][0], bad[_i][1], r.rc, r.err);
	st_free(&r);
}
END_TEST

/*
 * A batch wait that is no number of 0 to its _MAX is a usage error,
 * said with the variable's name, before anything else is tried.
 */
START_TEST(usage_batch_wait)
{
	static const char *const bad[] = { "abc", "-1", "", "0x10", "5 ",
	    "99999999999999999999" };
	static const char *const var[] = { "PGSSE_STREAM_BATCH_WAIT_MS",
	    "PGSSE_APP_BATCH_WAIT_MS" };
	static const char *const prog[] = { "cgi-bin/pgsse-stream",
	    "cgi-bin/pgsse-app" };
	const char	*argv[] = { NULL, NULL }, *env[8];
	char		 kv[100], top[8];
	struct st_run	 r;
	size_t		 k = (size_t)_i % 2, i;

	snprintf(top, sizeof(top), "%s", k == 0 ? "1001" : "10001");
	snprintf(kv, sizeof(kv), "%s=%s", var[k], (size_t)_i / 2 <
	    sizeof(bad) / sizeof(bad[0]) ? bad[_i / 2] : top);
	argv[0] = prog[k];
	for (i = 0; st_nodb[i] != NULL; i++)
		env[i] = st_nodb[i];
	env[i++] = kv;
	env[i] = NULL;
	st_run(&r, argv, env, 0);
	ck_assert_msg(r.rc == 2, "%s with %s: exit %d (want 2), stderr "
	    "\"%.600s\"", prog[k], kv, r.rc, r.err);
	st_says(r.err, var[k], "must be 0 to", NULL);
	st_free(&r);
}
END_TEST

/*
 * Fatal start-up errors: a database that answers, but not as the
 * programs need. st_pg's cluster has the pgsse database and an empty
 * one, "empty", with no pgsse schema.
 */
static struct h_pg	 st_pg;
static char		 st_pgport[32];

static void
st_pg_up(void)
{
	PGconn	*c;

	h_pg_start(&st_pg, NULL);
	h_pg_load("demo/schema.sql");	/* the demo folder's, for pgsse-app */
	c = h_pg_connect();
	h_exec(c, "create database empty");
	PQfinish(c);
	snprintf(st_pgport, sizeof(st_pgport), "PGPORT=%d", st_pg.port);
}

static void
st_pg_down(void)
{
	h_pg_stop(&st_pg);
}

/* The long-running programs, as the fatal and backoff tests start them. */
#define ST_STREAM	0
#define ST_APP		1
#define ST_RUNNER	2
#define ST_DAEMONS	3

/*
 * Fills argv (of 8) to start daemon which, its socket (if it has one)
 * in dir (of r, say). Returns argv.
 */
static const char **
st_daemon(int which, const char *dir, const char **argv, char *buf,
    size_t bufsz)
{
	static char	 jobs[700];

	memset(argv, 0, 8 * sizeof(*argv));
	snprintf(jobs, sizeof(jobs), "%s/demo/jobs", h_srcdir());
	switch (which) {
	case ST_STREAM:
		snprintf(buf, bufsz, "%s/stream.sock", dir);
		argv[0] = "cgi-bin/pgsse-stream";
		argv[1] = "--socket";
		argv[2] = buf;
		break;
	case ST_APP:
		snprintf(buf, bufsz, "%s/app.sock", dir);
		argv[0] = "cgi-bin/pgsse-app";
		argv[1] = "--socket";
		argv[2] = buf;
		break;
	default:
		argv[0] = "bin/pgsse-runner";
		argv[1] = "--jobs";
		argv[2] = jobs;
		break;
	}
	return argv;
}

/* Runs daemon _i with env; asserts it exits 1 at once, saying each of
 * the strings after env (NULL-ended) and its name. */
static void
st_fatal(int which, const char *const *env, ...)
{
	struct st_run	 r;
	const char	*argv[8], *want;
	char		 dir[600], sock[700];
	va_list		 ap;

	st_tmpdir(dir, sizeof(dir), "fatal");
	st_daemon(which, dir, argv, sock, sizeof(sock));
	st_run(&r, argv, env, 0);
	ck_assert_msg(r.rc == 1, "%s: exit %d (want 1), stderr \"%.600s\"",
	    argv[0], r.rc, r.err);
	st_says(r.err, strrchr(argv[0], '/') + 1, NULL);
	va_start(ap, env);
	while ((want = va_arg(ap, const char *)) != NULL)
		st_says(r.err, want, NULL);
	va_end(ap);
	st_free(&r);
	h_run("rm -rf %s", dir);
}

/* No pgsse schema in the database: say to load it. */
START_TEST(fatal_no_schema)
{
	const char *env[] = { "PGDATABASE=empty", "PGUSER=pgsse",
	    st_appdir, st_secret, NULL };

	st_fatal(_i, env, "empty", "3F000", "pgsse-schema install", NULL);
}
END_TEST

/* No such database. */
START_TEST(fatal_no_database)
{
	const char *env[] = { "PGDATABASE=nosuchdb", "PGUSER=pgsse",
	    st_appdir, st_secret, NULL };

	st_fatal(_i, env, "nosuchdb", "3D000", "PGDATABASE", NULL);
}
END_TEST

/* A wrong password. */
START_TEST(fatal_password)
{
	const char *env[] = { "PGHOST=127.0.0.1", st_pgport,
	    "PGUSER=pgsse_stream", "PGPASSWORD=wrong", "PGPASSFILE",
	    "PGSSLMODE=disable", st_appdir, st_secret, NULL };

	st_fatal(_i, env, "28P01", "pgsse_stream", "PGPASSWORD", NULL);
}
END_TEST

/* pgsse-runner --jobs with no folder there: it says so, and exits. */
START_TEST(fatal_runner_jobs)
{
	static const char *const paths[] = { "/nonexistent", "/etc/passwd" };
	struct st_run	 r;
	const char	*argv[] = { "bin/pgsse-runner", "--jobs", paths[_i],
	    NULL };

	st_run(&r, argv, st_nodb, 0);
	ck_assert_msg(r.rc == 1, "--jobs %s: exit %d (want 1), stderr "
	    "\"%.600s\"", paths[_i], r.rc, r.err);
	st_says(r.err, "pgsse-runner", paths[_i], "--jobs", NULL);
	st_free(&r);
}
END_TEST

/*
 * A server that takes connections and closes them at once, as a
 * database that is down (or restarting) would: counts them.
 */
struct st_fake {
	int		 fd;
	int		 port;
	int		 accepts;	/* lock */
	int		 stop;		/* lock */
	pthread_mutex_t	 lock;
	pthread_t	 thread;
};

static void *
st_fake_main(void *arg)
{
	struct st_fake	*f = arg;
	struct pollfd	 pfd = { f->fd, POLLIN, 0 };
	int		 c, stop = 0;

	while (!stop) {
		if (poll(&pfd, 1, 100) > 0 && (c = accept(f->fd, NULL,
		    NULL)) >= 0) {
			close(c);
			pthread_mutex_lock(&f->lock);
			f->accepts++;
			pthread_mutex_unlock(&f->lock);
		}
		pthread_mutex_lock(&f->lock);
		stop = f->stop;
		pthread_mutex_unlock(&f->lock);
	}
	return NULL;
}

static void
st_fake_start(struct st_fake *f)
{
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);

	memset(f, 0, sizeof(*f));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(f->fd, 64), 0);
	ck_assert_int_eq(getsockname(f->fd, (struct sockaddr *)&sa, &len), 0);
	f->port = ntohs(sa.sin_port);
	pthread_mutex_init(&f->lock, NULL);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, st_fake_main, f), 0);
}

/* Stops f; returns how many connections it took. */
static int
st_fake_stop(struct st_fake *f)
{
	pthread_mutex_lock(&f->lock);
	f->stop = 1;
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	close(f->fd);
	return f->accepts;
}

/* Writes a FastCGI record of type with len bytes of body to fd. */
static void
st_fcgi_record(int fd, int type, const void *body, size_t len)
{
	unsigned char	 h[8] = { 1, (unsigned char)type, 0, 1,
	    (unsigned char)(len >> 8), (unsigned char)len, 0, 0 };

	if (write(fd, h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    (len > 0 && write(fd, body, len) != (ssize_t)len))
		ck_abort_msg("FastCGI write: %s", strerror(errno));
}

/*
 * GETs uri from the FastCGI server at the Unix path sock and reads the
 * answer (up to 5 seconds). Returns 0, or -1 if it did not connect.
 */
static int
st_fcgi_get(const char *sock, const char *uri)
{
	static const unsigned char begin[8] = { 0, 1, 0 };	/* responder */
	struct sockaddr_un	 sa;
	unsigned char		 p[512], buf[4096];
	const char		*kv[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    uri, "SCRIPT_NAME", "", "PATH_INFO", uri, "QUERY_STRING", "",
	    "SERVER_PROTOCOL", "HTTP/1.1", "HTTP_HOST", "localhost", NULL };
	struct pollfd		 pfd;
	size_t			 n = 0, kl, vl;
	int			 fd, i;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, sock, strlen(sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	for (i = 0; kv[i] != NULL; i += 2) {
		kl = strlen(kv[i]);
		vl = strlen(kv[i + 1]);
		p[n++] = (unsigned char)kl;
		p[n++] = (unsigned char)vl;
		memcpy(p + n, kv[i], kl);
		memcpy(p + n + kl, kv[i + 1], vl);
		n += kl + vl;
	}
	st_fcgi_record(fd, 1, begin, sizeof(begin));	/* BEGIN_REQUEST */
	st_fcgi_record(fd, 4, p, n);			/* PARAMS */
	st_fcgi_record(fd, 4, NULL, 0);
	st_fcgi_record(fd, 5, NULL, 0);			/* STDIN */
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 5000) > 0 && read(fd, buf, sizeof(buf)) > 0)
		continue;
	close(fd);
	return 0;
}

/* How long the backoff tests watch, and the most connections in it. */
#define ST_WATCH_MS 10000
#define ST_WATCH_MAX 6

/*
 * With the database down (connections closed at once), each daemon
 * tries again less and less often: at most ST_WATCH_MAX connections in
 * ST_WATCH_MS, whatever its threads; the app is sent a request that
 * needs the database every 250 ms. Each runs against a server of its
 * own, all at the same time.
 */
START_TEST(backoff_down)
{
	struct st_fake	 f[ST_DAEMONS];
	struct st_run	 r[ST_DAEMONS];
	char		 dir[600], sock[ST_DAEMONS][700];
	char		 port[ST_DAEMONS][32];
	const char	*argv[ST_DAEMONS][8];
	const char	*env[ST_DAEMONS][10];
	char		 msg[1024];
	int		 i, n[ST_DAEMONS], waited, ok, len;

	st_tmpdir(dir, sizeof(dir), "backoff");
	for (i = 0; i < ST_DAEMONS; i++) {
		st_fake_start(&f[i]);
		snprintf(port[i], sizeof(port[i]), "PGPORT=%d", f[i].port);
		env[i][0] = "PGHOST=127.0.0.1";
		env[i][1] = port[i];
		env[i][2] = "PGSSLMODE=disable";
		env[i][3] = "PGGSSENCMODE=disable";
		env[i][4] = "PGSSE_CONNINFO";
		env[i][5] = "PGSSE_STREAM_CONNINFO";
		env[i][6] = "PGSSE_APP_CONNINFO";
		env[i][7] = st_appdir;
		env[i][8] = st_secret;
		env[i][9] = NULL;
		st_daemon(i, dir, argv[i], sock[i], sizeof(sock[i]));
		st_start(&r[i], argv[i], env[i], 0);
	}
	for (waited = 0; waited < ST_WATCH_MS; waited += 250) {
		st_fcgi_get(sock[ST_APP], "/status/content");
		usleep(250000);
	}
	for (i = 0; i < ST_DAEMONS; i++) {
		st_wait(&r[i], 0);
		n[i] = st_fake_stop(&f[i]);
	}
	for (i = 0, ok = 1, len = 0; i < ST_DAEMONS; i++) {
		ok = ok && r[i].rc == ST_RUNNING && n[i] >= 2 &&
		    n[i] <= ST_WATCH_MAX && st_lines(r[i].err) <= ST_WATCH_MAX + 2;
		len += snprintf(msg + len, sizeof(msg) - len, "%s: %s, %d "
		    "connections and %d log lines in %d ms; ", argv[i][0],
		    r[i].rc == ST_RUNNING ? "running" : "exited", n[i],
		    st_lines(r[i].err), ST_WATCH_MS);
	}
	ck_assert_msg(ok, "want 2 to %d connections each: %s", ST_WATCH_MAX,
	    msg);
	for (i = 0; i < ST_DAEMONS; i++)
		st_free(&r[i]);
	h_run("rm -rf %s", dir);
}
END_TEST

/*
 * The secrets test. A sentinel password is planted, one way per
 * variant, and no program may ever print it: not in --help, --version
 * or a usage error, not in start-up failures (a database that is
 * unreachable or refuses the password, a conninfo libpq cannot parse),
 * not in the logs of a normal start, where the sentinel is the roles'
 * real password.
 */
#define ST_SENTINEL "Sentinel-Pw-8c1e"
#define ST_VARIANTS 6

/* Fills env (of 12) for variant v of the secrets test. Returns env. */
static const char **
st_secret_env(int v, const char **env)
{
	static char	 a[ST_VARIANTS][3][512], port[64];
	int		 dead = h_free_port(), n = 0;

	snprintf(port, sizeof(port), "PGPORT=%d", dead);
	env[n++] = "PGHOST=127.0.0.1";
	env[n++] = "PGSSLMODE=disable";
	env[n++] = "PGPASSFILE";
	env[n++] = st_appdir;
	env[n++] = st_secret;
	switch (v) {
	case 0:		/* PGPASSWORD, nothing listening */
		env[n++] = "PGPASSWORD=" ST_SENTINEL;
		env[n++] = port;
		break;
	case 1:		/* key=value, nothing listening */
		snprintf(a[v][0], sizeof(a[v][0]), "PGSSE_CONNINFO=host=127.0.0.1 "
		    "port=%d user=pgsse_publisher password=" ST_SENTINEL, dead);
		snprintf(a[v][1], sizeof(a[v][1]), "PGSSE_STREAM_CONNINFO="
		    "port=%d password='" ST_SENTINEL "' user=pgsse_stream",
		    dead);
		snprintf(a[v][2], sizeof(a[v][2]), "PGSSE_APP_CONNINFO="
		    "password = " ST_SENTINEL " port=%d", dead);
		break;
	case 2:		/* URI, nothing listening */
		snprintf(a[v][0], sizeof(a[v][0]), "PGSSE_CONNINFO=postgresql://"
		    "pgsse_publisher:" ST_SENTINEL "@127.0.0.1:%d/pgsse", dead);
		snprintf(a[v][1], sizeof(a[v][1]), "PGSSE_STREAM_CONNINFO="
		    "postgres://pgsse_stream:" ST_SENTINEL "@127.0.0.1:%d/pgsse",
		    dead);
		snprintf(a[v][2], sizeof(a[v][2]), "PGSSE_APP_CONNINFO="
		    "postgresql://127.0.0.1:%d/pgsse?password=" ST_SENTINEL
		    "&user=pgsse_web", dead);
		break;
	case 3:		/* what libpq cannot parse */
		snprintf(a[v][0], sizeof(a[v][0]), "PGSSE_CONNINFO=postgresql://"
		    "u:" ST_SENTINEL "%%zz@127.0.0.1:%d/pgsse", dead);
		snprintf(a[v][1], sizeof(a[v][1]), "PGSSE_STREAM_CONNINFO="
		    "host=127.0.0.1 password=" ST_SENTINEL " bogus");
		snprintf(a[v][2], sizeof(a[v][2]), "PGSSE_APP_CONNINFO="
		    "postgresql://u:" ST_SENTINEL "@[::1/pgsse");
		break;
	case 4:		/* the real database, the wrong password */
	case 5:		/* the real database, the right password */
		snprintf(a[v][0], sizeof(a[v][0]), "PGSSE_CONNINFO=host=127.0.0.1 "
		    "port=%d dbname=pgsse user=pgsse_publisher password=%s%s",
		    st_pg.port, ST_SENTINEL, v == 4 ? "x" : "");
		snprintf(a[v][1], sizeof(a[v][1]), "PGSSE_STREAM_CONNINFO="
		    "postgresql://pgsse_stream:%s%s@127.0.0.1:%d/pgsse",
		    ST_SENTINEL, v == 4 ? "x" : "", st_pg.port);
		snprintf(a[v][2], sizeof(a[v][2]), "PGSSE_APP_CONNINFO="
		    "host=127.0.0.1 port=%d dbname=pgsse user=pgsse_web "
		    "password='%s%s'", st_pg.port, ST_SENTINEL,
		    v == 4 ? "x" : "");
		break;
	}
	if (a[v][0][0] != '\0') {
		env[n++] = a[v][0];
		env[n++] = a[v][1];
		env[n++] = a[v][2];
	} else {
		env[n++] = "PGSSE_CONNINFO";
		env[n++] = "PGSSE_STREAM_CONNINFO";
		env[n++] = "PGSSE_APP_CONNINFO";
	}
	env[n] = NULL;
	return env;
}

/* Fails if r's output shows the sentinel. */
static void
st_no_sentinel(const struct st_run *r, int v, const char *const *argv)
{
	const char	*z, *line;

	z = strstr(r->out, ST_SENTINEL) ? r->out : r->err;
	if ((line = strstr(z, ST_SENTINEL)) == NULL)
		return;
	while (line > z && line[-1] != '\n')
		line--;
	ck_abort_msg("variant %d: %s %s printed the password: \"%.300s\"",
	    v, argv[0], argv[1] ? argv[1] : "", line);
}

/* Sets the pgsse roles' passwords to the sentinel, once. */
static void
st_sentinel_roles(void)
{
	static int	 done;
	PGconn		*c;

	if (done++)
		return;
	c = h_pg_connect();
	h_exec(c, "alter role pgsse_stream password '" ST_SENTINEL "'; "
	    "alter role pgsse_web password '" ST_SENTINEL "'; "
	    "alter role pgsse_publisher password '" ST_SENTINEL "'");
	PQfinish(c);
}

START_TEST(secrets_never_printed)
{
	static const char *const flags[] = { "--help", "--version",
	    "--no-such-flag" };
	struct st_run	 r, d[ST_DAEMONS + 2];
	const char	*env[16], *argv[8], *dargv[ST_DAEMONS + 2][8];
	char		 dir[600], sock[ST_DAEMONS][100], reg[700];
	size_t		 f;
	int		 i;

	st_sentinel_roles();
	st_secret_env(_i, env);
	for (i = 0; i < st_nprogs; i++)
		for (f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
			argv[0] = st_prog_path(st_progs[i]);
			argv[1] = flags[f];
			argv[2] = NULL;
			st_run(&r, argv, env, 0);
			st_no_sentinel(&r, _i, argv);
			st_free(&r);
		}
	/* The daemons, and the one-shot programs that connect, at once. */
	st_tmpdir(dir, sizeof(dir), "secrets");
	for (i = 0; i < ST_DAEMONS; i++) {
		st_daemon(i, dir, dargv[i], sock[i], sizeof(sock[i]));
		st_start(&d[i], dargv[i], env, 0);
	}
	memset(dargv[i], 0, sizeof(dargv[i]));
	dargv[i][0] = "bin/pgsse-publish";
	dargv[i][1] = "status";
	dargv[i][2] = "heartbeat";
	st_start(&d[i], dargv[i], env, 0);
	i++;
	snprintf(reg, sizeof(reg), "%s/sql/registry.json", h_srcdir());
	memset(dargv[i], 0, sizeof(dargv[i]));
	dargv[i][0] = "bin/pgsse-registry";
	dargv[i][1] = "load";
	dargv[i][2] = reg;
	st_start(&d[i], dargv[i], env, 0);
	usleep(3000000);
	st_fcgi_get(sock[ST_APP], "/status/content");
	for (i = 0; i < ST_DAEMONS + 2; i++) {
		st_wait(&d[i], 0);
		if (_i == 5 && i < ST_DAEMONS)
			ck_assert_msg(d[i].rc == ST_RUNNING, "%s did not start: "
			    "\"%.600s\"", dargv[i][0], d[i].err);
		st_no_sentinel(&d[i], _i, dargv[i]);
		st_free(&d[i]);
	}
	h_run("rm -rf %s", dir);
}
END_TEST

static Suite *
startup_suite(void)
{
	Suite	*s = suite_create("startup");
	TCase	*tc = tcase_create("listen");
	int	 n = (int)(sizeof(st_fcgi) / sizeof(st_fcgi[0]));

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, listen_unix_in_use, 0, n);
	tcase_add_loop_test(tc, listen_tcp_in_use, 0, n);
	tcase_add_loop_test(tc, listen_no_folder, 0, n);
	tcase_add_loop_test(tc, listen_denied, 0, n);
	tcase_add_loop_test(tc, listen_not_socket, 0, n);
	tcase_add_loop_test(tc, listen_stale, 0, n);
	tcase_add_loop_test(tc, listen_port_loopback, 0, n);
	suite_add_tcase(s, tc);
	tc = tcase_create("usage");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, usage_bad_flag, 0, st_nprogs);
	tcase_add_loop_test(tc, usage_version, 0, st_nprogs);
	tcase_add_loop_test(tc, usage_help, 0, st_nprogs);
	tcase_add_loop_test(tc, usage_app_values, 0, 4);
	tcase_add_loop_test(tc, usage_batch_wait, 0, 14);
	suite_add_tcase(s, tc);
	tc = tcase_create("fatal");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, st_pg_up, st_pg_down);
	tcase_add_loop_test(tc, fatal_no_schema, 0, ST_DAEMONS);
	tcase_add_loop_test(tc, fatal_no_database, 0, ST_DAEMONS);
	tcase_add_loop_test(tc, fatal_password, 0, ST_DAEMONS);
	tcase_add_loop_test(tc, fatal_runner_jobs, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("backoff");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, backoff_down);
	suite_add_tcase(s, tc);
	tc = tcase_create("secrets");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, st_pg_up, st_pg_down);
	tcase_add_loop_test(tc, secrets_never_printed, 0, ST_VARIANTS);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	st_nodb_init();
	st_progs_init();
	return h_run_suite(startup_suite());
}
