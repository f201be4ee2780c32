/*
 * room.c: room for the jobs that open file descriptors or processes.
 *
 * Children (exec, sh) take pipes, a pidfd and a process; network jobs
 * (http, tcp) take sockets. They share the process's limit on open files
 * (RLIMIT_NOFILE) and the system's, and nothing counts descriptors ahead:
 * a job just starts. One that finds none left (EMFILE, ENFILE, or EAGAIN
 * for a process) while other such jobs run waits, first in its queue,
 * until one of them ends and gives some back: room_wait() sets the room to
 * the jobs running then, so room_ready() is false until room_leave(). A
 * running job of either sort frees room for both: a child may wait for a
 * transfer to end and a transfer for a child. With none running, nothing
 * would give any back, except idle resources (http's connection cache):
 * the reclaim function closes those and the job tries again at once;
 * when there are none, the job fails with the error.
 *
 * Some failures hide their reason: a name lookup that could not open
 * /etc/hosts or a socket says the name is unknown. Such a failure is
 * taken for a shortage when another job found none while it ran
 * (room_shortages changed) or when room_fds_short() finds none left
 * right after it: its job waits like the others, and fails with its own
 * error only when nothing runs that would free one.
 *
 * Threads: loop thread only, but room_fds_short (any thread).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <sys/resource.h>
#include <unistd.h>

#include "room.h"

static unsigned users;		 /* jobs running that hold descriptors */
static unsigned room = UINT_MAX; /* jobs allowed to run; UINT_MAX: any */
static int (*reclaim)(void);	 /* closes idle descriptors, or NULL */
static unsigned long shortages;	 /* room_wait calls */

/* May a job that opens descriptors start now? */
int
room_ready(void)
{
	return users < room;
}

/* A job that holds descriptors has started. */
void
room_enter(void)
{
	users++;
}

/* A job that held descriptors has ended: room for any job again. */
void
room_leave(void)
{
	users--;
	room = UINT_MAX;
}

/* A job found no descriptor or process: may it wait? */
int
room_wait(void)
{
	shortages++;
	if (users > 0) {
		room = users;
		return 1;
	}
	/* Nothing runs to give any back: only idle descriptors can. */
	return reclaim != NULL && reclaim() > 0;
}

/* Set the function that closes idle descriptors. */
void
room_set_reclaim(int (*fn)(void))
{
	reclaim = fn;
}

/* How many times a job found no descriptor or process. */
unsigned long
room_shortages(void)
{
	return shortages;
}

/* Probe for a free descriptor: EMFILE or ENFILE if there is none, else
 * 0. */
int
room_fds_short(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EMFILE || errno == ENFILE ? errno : 0;
}

/* The soft limit on open files, or 0 when there is none. */
long
room_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LONG_MAX)
		return 0;
	return (long)rl.rlim_cur;
}
