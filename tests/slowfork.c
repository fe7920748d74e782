/*
 * slowfork.c: an LD_PRELOAD shim for tests that makes every fork() wait
 * SLOWFORK_MS first. A race between one thread's fork and another's
 * open descriptors, which a real program loses once in a thousand
 * forks, is then lost often enough for a test to see it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#define SLOWFORK_MS 5

pid_t	fork(void);

/*
 * Waits SLOWFORK_MS, then forks with the next fork() in the search
 * order. Returns as fork() does; -1 with ENOSYS if there is none.
 */
pid_t
fork(void)
{
	static pid_t		(*next)(void);
	struct timespec		 ts = { 0, SLOWFORK_MS * 1000000L };

	if (next == NULL &&
	    (next = (pid_t (*)(void))dlsym(RTLD_NEXT, "fork")) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	nanosleep(&ts, NULL);
	return next();
}
