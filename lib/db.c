/*
 * db.c: libpq connections. A connection belongs to one thread at a time:
 * the hub's LISTEN connection to the hub thread, pooled ones (pool.c) to
 * whichever thread took them (a starter, a per-job stream's thread, a
 * metrics page's) until it puts them back.
 *
 * Backoff. Every connection of a process goes to one database, so one
 * gate per process spaces out the attempts: after a failed connection
 * no thread tries again for PGSSE_DB_BACKOFF_MIN_MS, then one thread
 * tries; each failure of that one attempt doubles the pause, up to
 * PGSSE_DB_BACKOFF_MAX_MS, plus up to an eighth more so that processes
 * do not come back in step. A connection that succeeds opens the gate.
 * While it is open (the database is taken to be up) any number of
 * threads connect at once.
 * While it is shut pgsse_db_connect fails at once and logs nothing: a
 * request is answered 503, a reconnect loop waits (pgsse_db_wait).
 *
 * Start-up. pgsse_db_start tells a database that will not do until
 * someone changes something (a wrong password, no such database, no
 * pgsse schema: SQLSTATE 28P01, 3D000, 3F000), which is fatal, from one
 * that is down or busy, which is retried. libpq keeps a failed
 * connection's SQLSTATE to itself, so connections are made with
 * verbose errors, whose first line carries it ("FATAL:  28P01: ...").
 *
 * Every connection gets TCP keepalives, a TCP user timeout and a connect
 * timeout (extern.h) unless its conninfo sets them: without them a LISTEN
 * connection whose peer went silent waits for notifications forever, and
 * a query on one waits for the kernel's retransmissions (15 minutes).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pgsse.h"
#include "extern.h"

#define DB_STR(x) DB_STR2(x)
#define DB_STR2(x) #x

/* The defaults; env names the PG* variable that sets one, if any. */
static const struct {
	const char	*kw;
	const char	*env;
	const char	*val;
} db_defaults[] = {
	{ "keepalives", NULL, "1" },
	{ "keepalives_idle", NULL, DB_STR(PGSSE_DB_KEEPALIVE_IDLE_S) },
	{ "keepalives_interval", NULL, DB_STR(PGSSE_DB_KEEPALIVE_INTERVAL_S) },
	{ "keepalives_count", NULL, DB_STR(PGSSE_DB_KEEPALIVE_COUNT) },
	{ "tcp_user_timeout", NULL, DB_STR(PGSSE_DB_DEAD_MS) },
	{ "connect_timeout", "PGCONNECT_TIMEOUT",
	    DB_STR(PGSSE_DB_CONNECT_TIMEOUT_S) },
};
#define DB_NDEFAULTS (sizeof(db_defaults) / sizeof(db_defaults[0]))


/* Longest connection error kept for the log. */
#define DB_ERR_MAX 512
/* Longest step of pgsse_db_wait, so that a stop is seen soon. */
#define DB_WAIT_STEP_MS 100
/* Milliseconds a connection's wait outlasts its TCP user timeout, so
 * that the kernel ends a dark host's attempt first and libpq goes on to
 * the next host of the conninfo. */
#define DB_DARK_SLACK_MS 2000

static struct {
	pthread_mutex_t	 lock;
	unsigned int	 ms;		/* the pause after the next failure */
	struct timespec	 next;		/* no attempt before (monotonic) */
	int		 busy;		/* an attempt is in flight */
} gate = { PTHREAD_MUTEX_INITIALIZER, 0, { 0, 0 }, 0 };

/* Returns the monotonic clock in milliseconds. Can't fail. */
static long long
db_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Returns the gate's next attempt in milliseconds; gate.lock held. */
static long long
db_gate_next(void)
{
	return (long long)gate.next.tv_sec * 1000 +
	    gate.next.tv_nsec / 1000000;
}

/*
 * Takes the gate for an attempt. Returns 0 if it is shut, 1 if the
 * database is taken to be up (any number of attempts may go), 2 for
 * the one attempt that may go after a pause.
 */
static int
db_gate_enter(void)
{
	int	 pass = 0;

	pthread_mutex_lock(&gate.lock);
	if (gate.ms == 0)
		pass = 1;
	else if (!gate.busy && db_now_ms() >= db_gate_next()) {
		gate.busy = 1;
		pass = 2;
	}
	pthread_mutex_unlock(&gate.lock);
	return pass;
}

/* Shuts the gate after a failure; gate.lock held. */
static void
db_gate_shut(int after_pause)
{
	long long	 next;
	unsigned int	 jitter;

	if (gate.ms == 0)
		gate.ms = PGSSE_DB_BACKOFF_MIN_MS;
	else if (after_pause)
		gate.ms = gate.ms > PGSSE_DB_BACKOFF_MAX_MS / 2 ?
		    PGSSE_DB_BACKOFF_MAX_MS : gate.ms * 2;
	else
		return;		/* one of several that were in flight */
	jitter = (unsigned int)(db_now_ms() ^ getpid()) % (gate.ms / 8 + 1);
	next = db_now_ms() + gate.ms + jitter;
	gate.next.tv_sec = (time_t)(next / 1000);
	gate.next.tv_nsec = (long)(next % 1000) * 1000000L;
}

/*
 * Gives the gate back after an attempt that db_gate_enter let through
 * as pass: success opens it; a failure shuts it for the first pause,
 * or, after a pause, for twice the last, up to PGSSE_DB_BACKOFF_MAX_MS.
 */
static void
db_gate_leave(int pass, int ok)
{
	pthread_mutex_lock(&gate.lock);
	if (pass == 2)
		gate.busy = 0;
	if (ok) {
		gate.ms = 0;
		gate.next.tv_sec = gate.next.tv_nsec = 0;
	} else
		db_gate_shut(pass == 2);
	pthread_mutex_unlock(&gate.lock);
}

/*
 * Counts a failure that came after the connection, such as a registry
 * that would not load, as a failed connection: the gate shuts, or its
 * pause doubles. Can't fail.
 */
void
pgsse_db_backoff(void)
{
	pthread_mutex_lock(&gate.lock);
	db_gate_shut(1);
	pthread_mutex_unlock(&gate.lock);
}

/*
 * Sleeps until the gate opens, or *stop (if not NULL) is set. Can't
 * fail.
 */
void
pgsse_db_wait(const volatile sig_atomic_t *stop)
{
	struct timespec	 ts;
	long long	 left;

	for (;;) {
		pthread_mutex_lock(&gate.lock);
		left = db_gate_next() - db_now_ms();
		pthread_mutex_unlock(&gate.lock);
		if (left <= 0 || (stop != NULL && *stop))
			return;
		if (left > DB_WAIT_STEP_MS)
			left = DB_WAIT_STEP_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		nanosleep(&ts, NULL);
	}
}

/* Drops the newlines and spaces that end err. Can't fail. */
static void
db_trim(char *err)
{
	size_t	 i;

	for (i = strlen(err); i > 0 && (err[i - 1] == '\n' ||
	    err[i - 1] == ' '); i--)
		err[i - 1] = '\0';
}

/*
 * Copies conn's error into err (of DB_ERR_MAX bytes) without verbose
 * mode's LOCATION line and conninfo's passwords (redact.c), and its SQLSTATE, if the server sent one, into
 * state (of 6 bytes; "" if none). Can't fail.
 */
static void
db_error(PGconn *conn, const char *conninfo, char *err, char *state)
{
	const char	*z = PQerrorMessage(conn), *p;
	char		*loc;
	size_t		 i;

	state[0] = '\0';
	if ((p = strstr(z, "FATAL:  ")) != NULL) {
		p += 8;
		for (i = 0; i < 5 && ((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'A' && p[i] <= 'Z')); i++)
			continue;
		if (i == 5 && p[5] == ':') {
			memcpy(state, p, 5);
			state[5] = '\0';
		}
	}
	pgsse_redact_message(err, DB_ERR_MAX, z, conninfo);
	if ((loc = strstr(err, "\nLOCATION:")) != NULL)
		*loc = '\0';
	db_trim(err);
}

/*
 * Returns conn's value of option kw in the unit it has, or dflt if it
 * is unset or unreadable.
 */
static long
db_opt(PGconn *conn, const char *kw, long dflt)
{
	PQconninfoOption	*o, *p;
	long			 v = dflt;
	char			*end;

	if ((o = PQconninfo(conn)) == NULL)
		return dflt;
	for (p = o; p->keyword != NULL; p++)
		if (strcmp(p->keyword, kw) == 0 && p->val != NULL &&
		    *p->val != '\0') {
			v = strtol(p->val, &end, 10);
			if (*end != '\0' || v < 0)
				v = dflt;
		}
	PQconninfoFree(o);
	return v;
}

/*
 * Returns the milliseconds a connection attempt may wait without
 * progress: its connect_timeout, but at least its TCP user timeout and
 * DB_DARK_SLACK_MS more. A host that went dark (SYNs unanswered) ends
 * at the user timeout, and libpq then tries the conninfo's next host;
 * waiting less would give up on all of them at the first.
 */
static int
db_wait_ms(PGconn *conn)
{
	long	 wait, user;

	wait = db_opt(conn, "connect_timeout", PGSSE_DB_CONNECT_TIMEOUT_S);
	wait = (wait > 0 && wait < INT_MAX / 1000 ? wait :
	    PGSSE_DB_CONNECT_TIMEOUT_S) * 1000;
	user = db_opt(conn, "tcp_user_timeout", PGSSE_DB_DEAD_MS);
	if (user > 0 && user < INT_MAX - DB_DARK_SLACK_MS &&
	    user + DB_DARK_SLACK_MS > wait)
		wait = user + DB_DARK_SLACK_MS;
	return (int)wait;
}

/*
 * Connects, with verbose errors and the defaults above: they come first
 * and conninfo (a key=value string or a URI) is expanded after them, so
 * that what it sets wins (libpq's rule for PQconnectStartParams).
 * Returns the connection, bad or good (PQstatus says), or NULL if memory
 * ran out.
 */
static PGconn *
db_open(const char *conninfo)
{
	const char		*kw[DB_NDEFAULTS + 2], *val[DB_NDEFAULTS + 2];
	PGconn			*conn;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	struct pollfd		 pfd;
	size_t			 i, n = 0;
	int			 rc, wait;

	for (i = 0; i < DB_NDEFAULTS; i++) {
		if (db_defaults[i].env != NULL &&
		    getenv(db_defaults[i].env) != NULL)
			continue;
		kw[n] = db_defaults[i].kw;
		val[n++] = db_defaults[i].val;
	}
	kw[n] = "dbname";
	val[n++] = conninfo != NULL ? conninfo : "";
	kw[n] = val[n] = NULL;
	if ((conn = PQconnectStartParams(kw, val, 1)) == NULL)
		return NULL;
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
	wait = db_wait_ms(conn);
	while (PQstatus(conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
	    st != PGRES_POLLING_FAILED) {
		pfd.fd = PQsocket(conn);
		pfd.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		pfd.revents = 0;
		/* libpq enforces connect_timeout only when it blocks. */
		rc = poll(&pfd, 1, wait);
		if (rc == 0 || (rc == -1 && errno != EINTR))
			break;
		st = PQconnectPoll(conn);
	}
	PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
	return conn;
}

/*
 * Connects through the gate. Returns the connection, or NULL with the
 * error in err (of DB_ERR_MAX bytes; "" when the gate was shut) and its
 * SQLSTATE in state (of 6).
 */
static PGconn *
db_connect(const char *conninfo, char *err, char *state)
{
	PGconn	*conn;
	int	 pass;

	err[0] = state[0] = '\0';
	if ((pass = db_gate_enter()) == 0)
		return NULL;
	if ((conn = db_open(conninfo)) == NULL)
		snprintf(err, DB_ERR_MAX, "out of memory");
	else if (PQstatus(conn) != CONNECTION_OK) {
		db_error(conn, conninfo, err, state);
		if (err[0] == '\0')
			snprintf(err, DB_ERR_MAX, "no answer within %d s",
			    PGSSE_DB_CONNECT_TIMEOUT_S);
		PQfinish(conn);
		conn = NULL;
	}
	db_gate_leave(pass, conn != NULL);
	return conn;
}

/*
 * Opens a connection. conninfo "" or NULL uses the PG* environment.
 * Returns NULL, after logging why, on failure, and at once, logging
 * nothing, while the gate is shut (see the top of the file). The
 * caller owns the connection and closes it with pgsse_db_close.
 */
PGconn *
pgsse_db_connect(const char *conninfo)
{
	PGconn	*conn;
	char	 err[DB_ERR_MAX], state[6];

	if ((conn = db_connect(conninfo, err, state)) == NULL &&
	    err[0] != '\0')
		pgsse_log(PGSSE_LOG_WARN, "connecting: %s", err);
	return conn;
}

/*
 * Writes into fix (of len bytes) what to do about a connection that
 * failed with SQLSTATE state, setting naming where its settings come
 * from. Returns 1 if it failed for good, 0 if it is worth retrying
 * (fix untouched).
 */
static int
db_fatal(const char *state, const char *setting, char *fix, size_t len)
{
	if (strcmp(state, "28P01") == 0)
		snprintf(fix, len, "set the right password (password= in %s, "
		    "PGPASSWORD or PGPASSFILE), or let the user in through "
		    "pg_hba.conf", setting);
	else if (strcmp(state, "3D000") == 0)
		snprintf(fix, len, "create the database (createdb), or name "
		    "the right one (dbname= in %s, or PGDATABASE)", setting);
	else
		return 0;
	return 1;
}

/*
 * Returns 1, after logging what is wrong and the fix, if conninfo
 * (from setting) does not parse, else 0.
 */
static int
db_parse_fatal(const char *conninfo, const char *setting)
{
	PQconninfoOption	*opts;
	char			*why = NULL, err[DB_ERR_MAX];

	if ((opts = PQconninfoParse(conninfo ? conninfo : "", &why)) != NULL) {
		PQconninfoFree(opts);
		return 0;
	}
	if (why == NULL)	/* out of memory: let the connection say */
		return 0;
	pgsse_redact_message(err, sizeof(err), why, conninfo);
	PQfreemem(why);
	db_trim(err);
	pgsse_log(PGSSE_LOG_ERROR, "cannot start: the connection settings "
	    "(%s) do not parse: %s; write key=value pairs or a postgresql:// "
	    "URI", setting, err);
	return 1;
}

/*
 * Checks that conn's database has the pgsse schema. Returns 0, 1 if
 * it has not (logged, with the fix), -1 if the check itself failed
 * (the connection is then worth retrying).
 */
static int
db_check_schema(PGconn *conn)
{
	PGresult	*res;
	const char	*state;
	int		 rc = 0;

	res = PQexec(conn, "select 'pgsse'::regnamespace");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		rc = state != NULL && strcmp(state, "3F000") == 0 ? 1 : -1;
		if (rc == 1)
			pgsse_log(PGSSE_LOG_ERROR, "cannot start: database \"%s\" "
			    "has no pgsse schema (SQLSTATE 3F000): load it with "
			    "`pgsse-schema install` (or psql -f sql/pgsse.sql "
			    "-f sql/roles.sql)",
			    PQdb(conn));
		else
			pgsse_log(PGSSE_LOG_WARN, "checking the schema: %s",
			    PQerrorMessage(conn));
	}
	PQclear(res);
	return rc;
}

/*
 * Connects at start-up and checks the database has the pgsse schema;
 * with retry, waits through every failure but the fatal ones until
 * *stop (if not NULL) is set. setting names where the connection
 * settings come from, for the messages. Returns PGSSE_OK with the
 * connection in *connp (the caller owns it), PGSSE_ERR_INVAL if the
 * database will not do until someone changes something (logged: what,
 * and the fix), PGSSE_ERR_DB if it failed (logged) and is worth
 * retrying, or, with retry, the process is stopping.
 */
enum pgsse_err
pgsse_db_start(const char *conninfo, const char *setting,
    const volatile sig_atomic_t *stop, int retry, PGconn **connp)
{
	PGconn		*conn = NULL;
	char		 err[DB_ERR_MAX], state[6], fix[512];
	int		 rc;

	*connp = NULL;
	if (db_parse_fatal(conninfo, setting))
		return PGSSE_ERR_INVAL;
	do {
		pgsse_db_wait(stop);
		if (stop != NULL && *stop)
			return PGSSE_ERR_DB;
		if ((conn = db_connect(conninfo, err, state)) == NULL) {
			if (db_fatal(state, setting, fix, sizeof(fix))) {
				pgsse_log(PGSSE_LOG_ERROR, "cannot start: %s; %s",
				    err, fix);
				return PGSSE_ERR_INVAL;
			}
			if (err[0] != '\0')
				pgsse_log(PGSSE_LOG_WARN, "connecting: %s "
				    "(retrying)", err);
			continue;
		}
		if ((rc = db_check_schema(conn)) == 0) {
			*connp = conn;
			return PGSSE_OK;
		}
		pgsse_db_close(conn);
		if (rc == 1)
			return PGSSE_ERR_INVAL;
		pgsse_db_backoff();
	} while (retry);
	return PGSSE_ERR_DB;
}

/* Closes a connection. Accepts NULL. */
void
pgsse_db_close(PGconn *conn)
{
	if (conn != NULL)
		PQfinish(conn);
}
