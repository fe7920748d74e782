/*
 * pgsse-runner: runs queued jobs (pgsse.enqueue) with the scripts in a
 * folder, publishing their lifecycle, progress and output as events.
 *
 * Each worker thread holds its own libpq connection and publishes only
 * through it: no connection is ever shared between threads (the C form
 * of the seed's "capture the loop before the thread" rule).
 *
 * A job of kind K runs DIR/K with PGSSE_JOB_ID, PGSSE_JOB_KIND,
 * PGSSE_JOB_ARGS (JSON) and PGSSE_ARG_<key> for each plain top-level
 * argument in its environment, in a process group of its own.
 * Every line it prints becomes a "log" event, except lines of the form
 * "PROGRESS <percent> <step>", which become "progress" events on the
 * job's own stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"

/* Longest output line turned into one event; longer lines are split. */
#define RUNNER_LINE_MAX 4096
/* Seconds between SIGTERM and SIGKILL for a job past its timeout. */
#define RUNNER_KILL_GRACE 5
/* Milliseconds between looks at a job's process group. */
#define RUNNER_TICK_MS 100
/* Most bytes read from a job's pipe once its process group is gone. */
#define RUNNER_DRAIN_MAX 65536
/* Most worker threads. */
#define RUNNER_WORKERS_MAX 64

struct cfg {
	const char	*jobs;
	unsigned int	 workers;
	unsigned int	 timeout;
	unsigned int	 prune_every;
	unsigned int	 status_every;
};

/* A job's output: the read end of its pipe and the line so far. */
struct out {
	int	 fd;
	size_t	 len;
	char	 line[RUNNER_LINE_MAX + 1];
};

struct job {
	int64_t		 id;
	char		*kind;
	char		*args;
	char		*demo_id;	/* args.demo_id, or NULL */
};

static struct cfg		 cfg = { NULL, 2, 600, 60, 0 };
static volatile sig_atomic_t	 stopping;
static char			 runner_name[128];

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Publishes over the worker's own connection; logs failures. */
static void
emit(PGconn *conn, const char *channel, const char *event,
    struct json_object *o)
{
	char	*err = NULL;

	if (pgsse_publish(conn, channel, event,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), NULL,
	    &err) != PGSSE_OK)
		pgsse_log(PGSSE_LOG_WARN, "publish %s.%s: %s", channel, event,
		    err ? err : "failed");
	free(err);
	json_object_put(o);
}

static struct json_object *
obj(void)
{
	return json_object_new_object();
}

static struct json_object *
with(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
	return o;
}

static void
emit_state(PGconn *conn, const struct job *j, const char *state)
{
	emit(conn, "operations", "operation_status",
	    with(with(with(obj(), "job_id", json_object_new_int64(j->id)),
	    "kind", json_object_new_string(j->kind)), "state",
	    json_object_new_string(state)));
}

/* One line of output: a progress report or a log line. */
static void
emit_line(PGconn *conn, const struct job *j, const char *line)
{
	int	 pct, off = 0;

	if (sscanf(line, "PROGRESS %d %n", &pct, &off) == 1 && off > 0 &&
	    pct >= 0 && pct <= 100) {
		emit(conn, "job", "progress", with(with(with(obj(), "job_id",
		    json_object_new_int64(j->id)), "percent",
		    json_object_new_int(pct)), "step",
		    json_object_new_string(line + off)));
		return;
	}
	emit(conn, "logs", "log", with(with(with(obj(), "source",
	    json_object_new_string(j->kind)), "line",
	    json_object_new_string(line)), "job_id",
	    json_object_new_int64(j->id)));
}

/*
 * Exports each top-level string or number of the job's arguments whose
 * key is a plain name as PGSSE_ARG_<key>, so scripts need no JSON parser.
 */
static void
job_arg_env(const char *args)
{
	struct json_object	*a;
	char			 name[PGSSE_EVENT_MAX + 16];

	if ((a = json_tokener_parse(args)) == NULL)
		return;
	json_object_object_foreach(a, key, val) {
		if (!pgsse_name_event_ok(key) ||
		    !(json_object_is_type(val, json_type_string) ||
		    json_object_is_type(val, json_type_int)))
			continue;
		snprintf(name, sizeof(name), "PGSSE_ARG_%s", key);
		setenv(name, json_object_get_string(val), 1);
	}
	json_object_put(a);
}

/* Starts the job's script; returns its pid and the read end in *fd. */
static pid_t
job_spawn(const struct job *j, int *fd)
{
	char	 path[PATH_MAX], id[32];
	int	 p[2];
	pid_t	 pid;

	snprintf(path, sizeof(path), "%s/%s", cfg.jobs, j->kind);
	if (access(path, X_OK) == -1 || pipe(p) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		snprintf(id, sizeof(id), "%" PRId64, j->id);
		setenv("PGSSE_JOB_ID", id, 1);
		setenv("PGSSE_JOB_KIND", j->kind, 1);
		setenv("PGSSE_JOB_ARGS", j->args, 1);
		job_arg_env(j->args);
		signal(SIGPIPE, SIG_DFL);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(p[1]);
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*fd = p[0];
	return pid;
}

/*
 * Tells whether any process of process group pgid is alive: a zombie is
 * not. Reads /proc, as nothing else tells of a group whose leader has
 * exited. Returns 0 if /proc cannot be read.
 */
static int
group_live(pid_t pgid)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[sizeof("/proc//stat") + NAME_MAX], buf[128];
	char		*p, state;
	int		 fd, pg, live = 0;
	ssize_t		 n;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (!live && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) state ppid pgrp ...", and comm may hold ')'. */
		if ((p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %c %*d %d", &state, &pg) == 2 &&
		    pg == pgid && state != 'Z' && state != 'X')
			live = 1;
	}
	closedir(d);
	return live;
}

/* Tells whether process pid has exited, without reaping it. */
static int
exited(pid_t pid)
{
	siginfo_t	 si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && si.si_pid == pid;
}

/*
 * Reads what the script printed (one byte) into o, emitting each whole
 * line. Returns 1 if it read, 0 if nothing is there yet, -1 at the end
 * of the output or on error.
 */
static int
out_read(PGconn *conn, const struct job *j, struct out *o)
{
	ssize_t	 n;
	char	 c;

	if ((n = read(o->fd, &c, 1)) <= 0)
		return n == -1 && (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	if (c != '\n' && o->len < RUNNER_LINE_MAX) {
		o->line[o->len++] = c;
		return 1;
	}
	o->line[o->len] = '\0';
	emit_line(conn, j, o->line);
	o->len = 0;
	if (c != '\n')
		o->line[o->len++] = c;
	return 1;
}

/* Emits what is left of the output as a last line, and closes it. */
static void
out_close(PGconn *conn, const struct job *j, struct out *o)
{
	if (o->fd == -1)
		return;
	if (o->len > 0) {
		o->line[o->len] = '\0';
		emit_line(conn, j, o->line);
		o->len = 0;
	}
	close(o->fd);
	o->fd = -1;
}

/*
 * Turns the script's output into events until its whole process group
 * pid is gone, or the deadline passes. A script that closes its output
 * and goes on running is still running; output that a process outside
 * the group still holds ends with the group. The leader is reaped only
 * at the end, so that no other process can get the group's id while the
 * runner may still signal it. Returns 1 on time-out or stop (the caller
 * kills the group), else 0 with the leader's wait status in *st.
 */
static int
job_wait(PGconn *conn, const struct job *j, pid_t pid, struct out *o,
    time_t deadline, int *st)
{
	struct pollfd	 pfd;
	size_t		 i;
	int		 done = 0;

	for (;;) {
		if (time(NULL) >= deadline || stopping)
			return 1;
		pfd.fd = o->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, RUNNER_TICK_MS) > 0 && out_read(conn, j, o) < 0)
			out_close(conn, j, o);
		if (!done)
			done = exited(pid);
		/* Output flowing: the group is alive, or about to be read out. */
		if (done && (o->fd == -1 || pfd.revents == 0) &&
		    !group_live(pid))
			break;
	}
	/* What the group wrote before it went is still in the pipe. */
	for (i = 0; o->fd != -1 && i < RUNNER_DRAIN_MAX &&
	    out_read(conn, j, o) > 0; i++)
		continue;
	out_close(conn, j, o);
	waitpid(pid, st, 0);
	return 0;
}

/*
 * Ends the process group pid: TERM, then KILL if any of it is still
 * alive after the grace. Reaps the leader; returns its wait status.
 */
static int
job_kill(pid_t pid)
{
	int	 st = 0, i;

	kill(-pid, SIGTERM);
	for (i = 0; i < RUNNER_KILL_GRACE * 1000 / RUNNER_TICK_MS; i++) {
		if (exited(pid) && !group_live(pid))
			break;
		usleep(RUNNER_TICK_MS * 1000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, &st, 0);
	return st;
}

static void
job_finish(PGconn *conn, const struct job *j, const char *state, int code,
    const char *error)
{
	char		 id[32], ex[16];
	const char	*params[4] = { id, state, ex, error };
	PGresult	*res;

	snprintf(id, sizeof(id), "%" PRId64, j->id);
	snprintf(ex, sizeof(ex), "%d", code);
	res = PQexecParams(conn, "select pgsse.finish($1, $2, $3, $4)", 4,
	    NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		pgsse_log(PGSSE_LOG_ERROR, "finishing job %" PRId64 ": %s",
		    j->id, PQerrorMessage(conn));
	PQclear(res);
	emit(conn, "job", "complete", with(with(obj(), "job_id",
	    json_object_new_int64(j->id)), "state",
	    json_object_new_string(state)));
	emit_state(conn, j, state);
	if (j->demo_id != NULL)
		emit(conn, "demos", "operation_completed", with(with(with(obj(),
		    "demo_id", json_object_new_string(j->demo_id)), "status",
		    json_object_new_string(state)), "job_id",
		    json_object_new_int64(j->id)));
}

/* Runs one claimed job to its end. */
static void
job_run(PGconn *conn, const struct job *j)
{
	const char	*state = "failed", *error = NULL;
	int		 st = 0, code = -1;
	pid_t		 pid;
	struct out	 o;

	emit_state(conn, j, "running");
	if (j->demo_id != NULL)
		emit(conn, "demos", "operation_started", with(with(with(obj(),
		    "demo_id", json_object_new_string(j->demo_id)), "operation",
		    json_object_new_string(j->kind)), "job_id",
		    json_object_new_int64(j->id)));
	o.len = 0;
	if ((pid = job_spawn(j, &o.fd)) == -1) {
		error = "no runnable script for this kind";
		goto out;
	}
	if (job_wait(conn, j, pid, &o, time(NULL) + cfg.timeout, &st)) {
		st = job_kill(pid);
		out_close(conn, j, &o);
		if (stopping) {
			/* Left running: once this process is gone, its lock
			 * is too, and pgsse.recover() requeues the job. */
			pgsse_log(PGSSE_LOG_INFO, "job %" PRId64 " stopped; "
			    "it will be retried", j->id);
			return;
		}
		error = "timed out";
	}
	if (WIFEXITED(st))
		code = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		code = 128 + WTERMSIG(st);
	if (error == NULL && code == 0)
		state = "succeeded";
	else if (error == NULL)
		error = WIFSIGNALED(st) ? "killed by a signal" : "exited non-zero";
out:
	pgsse_log(PGSSE_LOG_INFO, "job %" PRId64 " (%s): %s, status %d",
	    j->id, j->kind, state, code);
	job_finish(conn, j, state, code, error);
}

/* Claims one job into j. Returns 1 if it got one, 0 if none, -1 on error. */
static int
job_claim(PGconn *conn, struct job *j)
{
	const char		*params[1] = { runner_name };
	PGresult		*res;
	struct json_object	*a, *v;
	int			 rc = 0;

	memset(j, 0, sizeof(*j));
	res = PQexecParams(conn, "select id, kind, args::text from "
	    "pgsse.claim($1)", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = -1;
	else if (PQntuples(res) == 1) {
		j->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		j->kind = strdup(PQgetvalue(res, 0, 1));
		j->args = strdup(PQgetvalue(res, 0, 2));
		if ((a = json_tokener_parse(j->args)) != NULL &&
		    json_object_object_get_ex(a, "demo_id", &v) &&
		    json_object_is_type(v, json_type_string))
			j->demo_id = strdup(json_object_get_string(v));
		json_object_put(a);
		rc = j->kind != NULL && j->args != NULL ? 1 : -1;
	}
	PQclear(res);
	return rc;
}

static void
job_clear(struct job *j)
{
	free(j->kind);
	free(j->args);
	free(j->demo_id);
}

/* Waits up to ms for a NOTIFY pgsse_jobs on conn. */
static void
wait_jobs(PGconn *conn, int ms)
{
	struct pollfd	 pfd = { PQsocket(conn), POLLIN, 0 };
	PGnotify	*n;

	if (poll(&pfd, 1, ms) > 0)
		PQconsumeInput(conn);
	while ((n = PQnotifies(conn)) != NULL)
		PQfreemem(n);
}

static void
exec_simple(PGconn *conn, const char *sql)
{
	PGresult	*res = PQexecParams(conn, sql, 0, NULL, NULL, NULL,
	    NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK)
		pgsse_log(PGSSE_LOG_WARN, "%s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
}

static void *
worker(void *arg)
{
	PGconn		*conn = NULL;
	struct job	 j;
	int		 rc;

	(void)arg;
	while (!stopping) {
		if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
			pgsse_db_close(conn);
			if ((conn = pgsse_db_connect(getenv("PGSSE_CONNINFO")))
			    == NULL) {
				sleep(1);
				continue;
			}
			exec_simple(conn, "LISTEN pgsse_jobs");
		}
		exec_simple(conn, "select pgsse.recover()");
		if ((rc = job_claim(conn, &j)) == 1)
			job_run(conn, &j);
		else if (rc == 0)
			wait_jobs(conn, 1000);
		else
			sleep(1);
		job_clear(&j);
	}
	pgsse_db_close(conn);
	return NULL;
}

/* The main thread: retention and the demo's system_status heartbeat. */
static void
housekeeping(void)
{
	PGconn		*conn = NULL;
	time_t		 start = time(NULL), next_prune = 0, next_status = 0;
	time_t		 now;

	while (!stopping) {
		if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
			pgsse_db_close(conn);
			conn = pgsse_db_connect(getenv("PGSSE_CONNINFO"));
		}
		now = time(NULL);
		if (conn != NULL && now >= next_prune) {
			exec_simple(conn, "select pgsse.prune()");
			next_prune = now + cfg.prune_every;
		}
		if (conn != NULL && cfg.status_every > 0 && now >= next_status) {
			emit(conn, "status", "system_status", with(with(obj(),
			    "status", json_object_new_string("ok")), "uptime",
			    json_object_new_int64(now - start)));
			next_status = now + cfg.status_every;
		}
		sleep(1);
	}
	pgsse_db_close(conn);
}

static unsigned int
number(const char *name, const char *z, unsigned int lo, unsigned int hi)
{
	char		*end;
	unsigned long	 v = strtoul(z, &end, 10);

	if (*z == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "pgsse-runner: %s must be %u to %u\n", name,
		    lo, hi);
		exit(2);
	}
	return (unsigned int)v;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: pgsse-runner --jobs DIR [--workers N] "
	    "[--timeout SEC] [--prune-every SEC] [--status-every SEC]\n"
	    "Runs queued pgsse jobs with the scripts in DIR.\n"
	    "Effective configuration:\n  jobs          %s\n  workers       %u\n"
	    "  timeout       %u s\n  prune-every   %u s\n  status-every  %u s%s\n"
	    "The database comes from PGSSE_CONNINFO or the PG* variables.\n",
	    cfg.jobs ? cfg.jobs : "(none)", cfg.workers, cfg.timeout,
	    cfg.prune_every, cfg.status_every,
	    cfg.status_every ? "" : " (off)");
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "workers", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "prune-every", required_argument, NULL, 'p' },
		{ "status-every", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	pthread_t		 t[RUNNER_WORKERS_MAX];
	struct sigaction	 sa;
	char			 host[64];
	unsigned int		 i;
	int			 ch;

	while ((ch = getopt_long(argc, argv, "j:w:t:p:s:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			cfg.jobs = optarg;
			break;
		case 'w':
			cfg.workers = number("--workers", optarg, 1,
			    RUNNER_WORKERS_MAX);
			break;
		case 't':
			cfg.timeout = number("--timeout", optarg, 1, 86400);
			break;
		case 'p':
			cfg.prune_every = number("--prune-every", optarg, 1,
			    86400);
			break;
		case 's':
			cfg.status_every = number("--status-every", optarg, 0,
			    86400);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("pgsse-runner " PGSSE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (cfg.jobs == NULL) {
		usage(stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(runner_name, sizeof(runner_name), "%s:%d", host,
	    (int)getpid());
	for (i = 0; i < cfg.workers; i++)
		if (pthread_create(&t[i], NULL, worker, NULL) != 0)
			return 1;
	housekeeping();
	for (i = 0; i < cfg.workers; i++)
		pthread_join(t[i], NULL);
	return 0;
}
