/*
 * pgsse-runner: runs queued jobs (pgsse.enqueue) with the scripts in a
 * folder, publishing their lifecycle, progress and output as events.
 *
 * Each worker thread holds its own libpq connection and publishes only
 * through it: no connection is ever shared between threads (the C form
 * of the seed's "capture the loop before the thread" rule).
 *
 * A job of kind K runs DIR/K with PGSSE_JOB_ID, PGSSE_JOB_KIND,
 * PGSSE_JOB_ARGS (JSON), PGSSE_ARG_<key> for each plain top-level
 * argument and, for a job a web user enqueued, PGSSE_JOB_OWNER in its
 * environment, in a process group of its own. Every event of a job
 * with an owner is published to that user (pgsse.publish's user), so
 * it reaches only the owner's streams and the user_readers'.
 * Every line it prints becomes a "log" event, except lines of the form
 * "PROGRESS <percent> <step>", which become "progress" events on the
 * job's own stream. Bytes that are not UTF-8, and NUL, become U+FFFD.
 *
 * Workers fork while other workers run: so every descriptor is opened
 * close-on-exec, and a child does nothing between fork and execve but
 * async-signal-safe calls; its environment is made before the fork.
 */
#define _GNU_SOURCE		/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <dirent.h>
#include <limits.h>
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
/* Bytes read from a job's pipe at once. */
#define RUNNER_READ_MAX 4096
/* Seconds between SIGTERM and SIGKILL for a job past its timeout. */
#define RUNNER_KILL_GRACE 5
/* Default seconds between SIGTERM and SIGKILL for a cancelled job
 * (pgsse.cancel): --cancel-grace. */
#define RUNNER_CANCEL_GRACE_SEC 5
/* The NOTIFY channel pgsse.cancel() rings for a running job: its id. */
#define RUNNER_CANCEL_BELL "pgsse_cancel"
/* Milliseconds between looks at a job's process group. */
#define RUNNER_TICK_MS 100
/* Most bytes read from a job's pipe once its process group is gone. */
#define RUNNER_DRAIN_MAX 65536
/* Most worker threads. */
#define RUNNER_WORKERS_MAX 64
/* Where the runner's connection settings come from, for messages. */
#define RUNNER_SETTING "PGSSE_CONNINFO or the PG* variables"

struct cfg {
	const char	*jobs;
	unsigned int	 workers;
	unsigned int	 timeout;
	unsigned int	 prune_every;
	unsigned int	 cancel_grace;
};

/* A job's output: the read end of its pipe and the line so far. */
struct out {
	int	 fd;
	size_t	 len;
	int	 cont;	/* the line is the tail of a split one */
	char	 line[RUNNER_LINE_MAX];
};

/* What a job's child needs, made before the fork. */
struct spawn {
	char	  path[PATH_MAX];
	char	 *argv[2];
	char	**envp;		/* NULL-terminated */
	size_t	  nenv;		/* entries in envp */
	size_t	  own;		/* envp[own] on are ours to free */
	char	  why[PGSSE_EVENT_MAX + 64];	/* why the job is refused */
};

struct job {
	int64_t		 id;
	char		*kind;
	char		*args;
	char		*owner;		/* NULL: everyone's */
};

static struct cfg		 cfg = { NULL, 2, 600, 60, RUNNER_CANCEL_GRACE_SEC };
static volatile sig_atomic_t	 stopping;
static char			 runner_name[128];

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Publishes an event of job j over the worker's own connection, to its
 * owner if it has one; logs failures.
 */
static void
emit(PGconn *conn, const struct job *j, const char *channel,
    const char *event, struct json_object *o)
{
	char	*err = NULL;

	if (pgsse_publish_user(conn, channel, event,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    j->owner, NULL, &err) != PGSSE_OK)
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
	emit(conn, j, "operations", "operation_status",
	    with(with(with(obj(), "job_id", json_object_new_int64(j->id)),
	    "kind", json_object_new_string(j->kind)), "state",
	    json_object_new_string(state)));
}

/*
 * Copies the len bytes at z into out as a string, each byte that is not
 * part of a UTF-8 character replaced by U+FFFD. out has room for
 * 3 * len + 1 bytes. Can't fail.
 */
static void
utf8_clean(const char *z, size_t len, char *out)
{
	const unsigned char	*u = (const unsigned char *)z;
	size_t			 i = 0, n;

	while (i < len) {
		if ((n = pgsse_utf8_len(u + i, len - i)) == 0) {
			memcpy(out, "\xef\xbf\xbd", 3);
			out += 3;
			i++;
			continue;
		}
		memcpy(out, z + i, n);
		out += n;
		i += n;
	}
	*out = '\0';
}

/*
 * Where to split a line of len bytes that is full: before a character
 * it would cut in two, if any, else at len.
 */
static size_t
utf8_cut(const char *z, size_t len)
{
	const unsigned char	*u = (const unsigned char *)z;
	size_t			 k, need;

	for (k = len; k > 0 && len - k < 3; k--) {
		if (u[k - 1] < 0x80)
			return len;
		if (u[k - 1] >= 0xc0) {
			need = u[k - 1] >= 0xf0 ? 4 : u[k - 1] >= 0xe0 ? 3 : 2;
			return need > len - (k - 1) ? k - 1 : len;
		}
	}
	return len;
}

/*
 * One line of output (len bytes): a progress report or a log line. The
 * tail of a split line (cont) is a log line, whatever it says.
 */
static void
emit_line(PGconn *conn, const struct job *j, const char *z, size_t len,
    int cont)
{
	char	 line[RUNNER_LINE_MAX * 3 + 1];
	int	 pct, off = 0;

	utf8_clean(z, len, line);
	if (!cont && sscanf(line, "PROGRESS %d %n", &pct, &off) == 1 && off > 0 &&
	    pct >= 0 && pct <= 100) {
		emit(conn, j, "job", "progress", with(with(with(obj(), "job_id",
		    json_object_new_int64(j->id)), "percent",
		    json_object_new_int(pct)), "step",
		    json_object_new_string(line + off)));
		return;
	}
	emit(conn, j, "logs", "log", with(with(with(obj(), "source",
	    json_object_new_string(j->kind)), "line",
	    json_object_new_string(line)), "job_id",
	    json_object_new_int64(j->id)));
}

/* Frees what spawn_make made. Accepts an empty s. */
static void
spawn_free(struct spawn *s)
{
	size_t	 i;

	if (s->envp != NULL)
		for (i = s->own; i < s->nenv; i++)
			free(s->envp[i]);
	free(s->envp);
	s->envp = NULL;
	s->nenv = s->own = 0;
}

/* Appends "name=value" to s->envp. Returns 0, or -1 out of memory. */
static int
spawn_env(struct spawn *s, const char *name, const char *value)
{
	char	**envp, *z;

	if ((envp = reallocarray(s->envp, s->nenv + 2, sizeof(*envp))) ==
	    NULL)
		return -1;
	s->envp = envp;
	if (asprintf(&z, "%s=%s", name, value) == -1)
		return -1;
	envp[s->nenv++] = z;
	envp[s->nenv] = NULL;
	return 0;
}

/* Tells whether z holds a control character (C0 or DEL). */
static int
has_control(const char *z)
{
	for (; *z != '\0'; z++)
		if ((unsigned char)*z < 0x20 || *z == 0x7f)
			return 1;
	return 0;
}

/*
 * Adds each top-level string or number of the job's arguments whose key
 * is a plain name as PGSSE_ARG_<key>, so scripts need no JSON parser.
 * A value with a control character is refused, not passed on: a script
 * that prints it would print a line of the value's choosing
 * (PGSSE_JOB_ARGS, JSON, has it escaped). Returns 0; -1 out of memory;
 * -2 refused, the reason in s->why.
 */
static int
spawn_args(struct spawn *s, const char *args)
{
	struct json_object	*a;
	char			 name[PGSSE_EVENT_MAX + 16];
	const char		*v;
	int			 rc = 0;

	if ((a = json_tokener_parse(args)) == NULL ||
	    !json_object_is_type(a, json_type_object))
		goto out;
	json_object_object_foreach(a, key, val) {
		if (!pgsse_name_event_ok(key) ||
		    !(json_object_is_type(val, json_type_string) ||
		    json_object_is_type(val, json_type_int)))
			continue;
		v = json_object_get_string(val);
		if (has_control(v)) {
			snprintf(s->why, sizeof(s->why), "argument \"%s\" "
			    "holds a control character", key);
			rc = -2;
			break;
		}
		snprintf(name, sizeof(name), "PGSSE_ARG_%s", key);
		if ((rc = spawn_env(s, name, v)) != 0)
			break;
	}
out:
	json_object_put(a);
	return rc;
}

/*
 * Makes the path, argv and environment of j's child in s: this
 * process's environment without any PGSSE_JOB_ or PGSSE_ARG_ variable,
 * then the job's. Returns 0, or -1 with the reason in s->why (the rest
 * of s is then freed).
 */
static int
spawn_make(const struct job *j, struct spawn *s)
{
	extern char	**environ;
	char		  id[32];
	size_t		  i, n = 0;
	int		  rc;

	memset(s, 0, sizeof(*s));
	snprintf(s->why, sizeof(s->why), "out of memory");
	snprintf(s->path, sizeof(s->path), "%s/%s", cfg.jobs, j->kind);
	s->argv[0] = s->path;
	while (environ[n] != NULL)
		n++;
	if ((s->envp = calloc(n + 1, sizeof(*s->envp))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "PGSSE_JOB_", 10) != 0 &&
		    strncmp(environ[i], "PGSSE_ARG_", 10) != 0)
			s->envp[s->nenv++] = environ[i];
	s->own = s->nenv;
	snprintf(id, sizeof(id), "%" PRId64, j->id);
	if ((rc = spawn_env(s, "PGSSE_JOB_ID", id)) == 0 &&
	    (rc = spawn_env(s, "PGSSE_JOB_KIND", j->kind)) == 0 &&
	    (rc = spawn_env(s, "PGSSE_JOB_ARGS", j->args)) == 0 &&
	    (j->owner == NULL ||
	    (rc = spawn_env(s, "PGSSE_JOB_OWNER", j->owner)) == 0))
		rc = spawn_args(s, j->args);
	if (rc != 0) {
		spawn_free(s);
		return -1;
	}
	return 0;
}

/*
 * Starts the job's script in a process group of its own, its output on
 * a pipe and its input on /dev/null. Returns its pid and the pipe's
 * read end (non-blocking) in *fd; -1 and the reason in why (of whylen
 * bytes) on error.
 */
static pid_t
job_spawn(const struct job *j, int *fd, char *why, size_t whylen)
{
	struct spawn		 s;
	struct sigaction	 dfl;
	int			 p[2] = { -1, -1 }, null = -1;
	pid_t			 pid = -1;

	if (spawn_make(j, &s) == -1) {
		snprintf(why, whylen, "%s", s.why);
		return -1;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	snprintf(why, whylen, "no runnable script for this kind");
	if (access(s.path, X_OK) == -1)
		goto out;
	snprintf(why, whylen, "cannot start the script");
	if (pipe2(p, O_CLOEXEC) == -1 ||
	    (null = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    (pid = fork()) == -1)
		goto out;
	if (pid == 0) {
		/* Async-signal-safe calls only, up to execve. */
		setpgid(0, 0);
		if (dup2(null, STDIN_FILENO) == -1 ||
		    dup2(p[1], STDOUT_FILENO) == -1 ||
		    dup2(p[1], STDERR_FILENO) == -1)
			_exit(127);
		sigaction(SIGPIPE, &dfl, NULL);
		execve(s.path, s.argv, s.envp);
		_exit(127);
	}
	setpgid(pid, pid);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*fd = p[0];
	p[0] = -1;
out:
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	if (null != -1)
		close(null);
	spawn_free(&s);
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
 * Adds byte c to the line in o, emitting the line on a newline, or its
 * head when it is full.
 */
static void
out_byte(PGconn *conn, const struct job *j, struct out *o, char c)
{
	size_t	 cut;

	if (c == '\n') {
		emit_line(conn, j, o->line, o->len, o->cont);
		o->len = 0;
		o->cont = 0;
		return;
	}
	if (o->len == RUNNER_LINE_MAX) {
		cut = utf8_cut(o->line, o->len);
		emit_line(conn, j, o->line, cut, o->cont);
		memmove(o->line, o->line + cut, o->len - cut);
		o->len -= cut;
		o->cont = 1;
	}
	o->line[o->len++] = c;
}

/*
 * Reads what the script printed into o, emitting each whole line.
 * Returns the bytes read, 0 if nothing is there yet, -1 at the end of
 * the output or on error.
 */
static ssize_t
out_read(PGconn *conn, const struct job *j, struct out *o)
{
	char	 buf[RUNNER_READ_MAX];
	ssize_t	 n, i;

	if ((n = read(o->fd, buf, sizeof(buf))) <= 0)
		return n == -1 && (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	for (i = 0; i < n; i++)
		out_byte(conn, j, o, buf[i]);
	return n;
}

/* Emits what is left of the output as a last line, and closes it. */
static void
out_close(PGconn *conn, const struct job *j, struct out *o)
{
	if (o->fd == -1)
		return;
	if (o->len > 0) {
		emit_line(conn, j, o->line, o->len, o->cont);
		o->len = 0;
	}
	close(o->fd);
	o->fd = -1;
}

/*
 * Drains conn's notifications: returns 1 if one was pgsse.cancel()'s
 * for job j, else 0. Others (pgsse_jobs) need no answer while a job
 * runs: the worker claims again after it.
 */
static int
cancelled(PGconn *conn, const struct job *j)
{
	PGnotify	*n;
	char		 id[32];
	int		 hit = 0;

	snprintf(id, sizeof(id), "%" PRId64, j->id);
	PQconsumeInput(conn);
	while ((n = PQnotifies(conn)) != NULL) {
		if (strcmp(n->relname, RUNNER_CANCEL_BELL) == 0 &&
		    strcmp(n->extra, id) == 0)
			hit = 1;
		PQfreemem(n);
	}
	return hit;
}

/*
 * Turns the script's output into events until its whole process group
 * pid is gone, the deadline passes or the job is cancelled. A script that closes its output
 * and goes on running is still running; output that a process outside
 * the group still holds ends with the group. The leader is reaped only
 * at the end, so that no other process can get the group's id while the
 * runner may still signal it. Returns 1 on time-out or stop, 2 when
 * cancelled (the caller kills the group), else 0 with the leader's
 * wait status in *st.
 */
static int
job_wait(PGconn *conn, const struct job *j, pid_t pid, struct out *o,
    time_t deadline, int *st)
{
	struct pollfd	 pfd;
	ssize_t		 n, left = RUNNER_DRAIN_MAX;
	int		 done = 0;

	for (;;) {
		if (time(NULL) >= deadline || stopping)
			return 1;
		if (cancelled(conn, j))
			return 2;
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
	while (o->fd != -1 && left > 0 && (n = out_read(conn, j, o)) > 0)
		left -= n;
	out_close(conn, j, o);
	waitpid(pid, st, 0);
	return 0;
}

/*
 * Ends the process group pid: TERM, then KILL if any of it is still
 * alive after grace seconds. Reaps the leader; returns its wait status.
 */
static int
job_kill(pid_t pid, unsigned int grace)
{
	int	 st = 0, i;

	kill(-pid, SIGTERM);
	for (i = 0; i < (int)(grace * 1000 / RUNNER_TICK_MS); i++) {
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
	emit(conn, j, "job", "complete", with(with(obj(), "job_id",
	    json_object_new_int64(j->id)), "state",
	    json_object_new_string(state)));
	emit_state(conn, j, state);
}

/* Runs one claimed job to its end. */
static void
job_run(PGconn *conn, const struct job *j)
{
	const char	*state = "failed", *error = NULL;
	char		 why[PGSSE_EVENT_MAX + 64];
	int		 st = 0, code = -1, rc;
	pid_t		 pid;
	struct out	 o;

	emit_state(conn, j, "running");
	o.len = 0;
	o.cont = 0;
	if ((pid = job_spawn(j, &o.fd, why, sizeof(why))) == -1) {
		error = why;
		goto out;
	}
	if ((rc = job_wait(conn, j, pid, &o, time(NULL) + cfg.timeout,
	    &st)) == 2) {
		st = job_kill(pid, cfg.cancel_grace);
		out_close(conn, j, &o);
		error = "cancelled";
		state = "cancelled";
	} else if (rc == 1) {
		st = job_kill(pid, RUNNER_KILL_GRACE);
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
	const char	*params[1] = { runner_name };
	PGresult	*res;
	int		 rc = 0;

	memset(j, 0, sizeof(*j));
	res = PQexecParams(conn, "select id, kind, args::text, owner from "
	    "pgsse.claim($1)", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = -1;
	else if (PQntuples(res) == 1) {
		j->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		j->kind = strdup(PQgetvalue(res, 0, 1));
		j->args = strdup(PQgetvalue(res, 0, 2));
		if (!PQgetisnull(res, 0, 3))
			j->owner = strdup(PQgetvalue(res, 0, 3));
		rc = j->kind != NULL && j->args != NULL &&
		    (j->owner != NULL || PQgetisnull(res, 0, 3)) ? 1 : -1;
	}
	PQclear(res);
	return rc;
}

static void
job_clear(struct job *j)
{
	free(j->kind);
	free(j->args);
	free(j->owner);
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
				pgsse_db_wait(&stopping);
				continue;
			}
			exec_simple(conn, "LISTEN pgsse_jobs");
			exec_simple(conn, "LISTEN " RUNNER_CANCEL_BELL);
			pgsse_sdnotify_ready("waiting for jobs");
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

/* The main thread: retention. */
static void
housekeeping(void)
{
	PGconn		*conn = NULL;
	time_t		 next_prune = 0, now;

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
		sleep(1);
	}
	pgsse_db_close(conn);
}

/*
 * Opens /dev/null on each of descriptors 0, 1 and 2 that is closed, so
 * that no pipe of a job gets one of them. Returns -1 if it cannot.
 */
static int
std_fds(void)
{
	int	 fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= STDERR_FILENO)
		continue;
	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

/*
 * Checks that the jobs folder dir is a folder this user may read.
 * Returns 0, or -1 after saying why and what to do.
 */
static int
jobs_ok(const char *dir)
{
	struct stat	 st;

	if (stat(dir, &st) == -1) {
		pgsse_log(PGSSE_LOG_ERROR, "cannot start: the jobs folder %s "
		    "(--jobs): %s; give the folder that holds the job scripts",
		    dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		pgsse_log(PGSSE_LOG_ERROR, "cannot start: the jobs folder %s "
		    "(--jobs) is not a folder; give the folder that holds the "
		    "job scripts", dir);
		return -1;
	}
	if (access(dir, R_OK | X_OK) == -1) {
		pgsse_log(PGSSE_LOG_ERROR, "cannot start: the jobs folder %s "
		    "(--jobs): %s; let this user read it", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
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
	    "[--timeout SEC] [--prune-every SEC] [--cancel-grace SEC]\n"
	    "Runs queued pgsse jobs with the scripts in DIR.\n"
	    "Effective configuration:\n  jobs          %s\n  workers       %u\n"
	    "  timeout       %u s\n  prune-every   %u s\n"
	    "  cancel-grace  %u s\n"
	    "The database comes from PGSSE_CONNINFO or the PG* variables.\n",
	    cfg.jobs ? cfg.jobs : "(none)", cfg.workers, cfg.timeout,
	    cfg.prune_every, cfg.cancel_grace);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "workers", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "prune-every", required_argument, NULL, 'p' },
		{ "cancel-grace", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	pthread_t		 t[RUNNER_WORKERS_MAX];
	struct sigaction	 sa;
	PGconn			*conn;
	char			 host[64];
	unsigned int		 i;
	int			 ch;

	if (std_fds() == -1)
		return 1;
	while ((ch = getopt_long(argc, argv, "j:w:t:p:g:hV", opts, NULL)) != -1) {
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
		case 'g':
			cfg.cancel_grace = number("--cancel-grace", optarg, 0,
			    3600);
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
	if (jobs_ok(cfg.jobs) == -1)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pgsse_sdnotify_init();
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(runner_name, sizeof(runner_name), "%s:%d", host,
	    (int)getpid());
	if (pgsse_db_start(getenv("PGSSE_CONNINFO"), RUNNER_SETTING,
	    &stopping, 1, &conn) != PGSSE_OK)
		return stopping ? 0 : 1;
	pgsse_db_close(conn);
	for (i = 0; i < cfg.workers; i++)
		if (pthread_create(&t[i], NULL, worker, NULL) != 0)
			return 1;
	housekeeping();
	pgsse_sdnotify("STOPPING=1");
	for (i = 0; i < cfg.workers; i++)
		pthread_join(t[i], NULL);
	return 0;
}
