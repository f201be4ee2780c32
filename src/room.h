/*
 * room.h: room for the jobs that open file descriptors or processes:
 * children (exec, sh) and network jobs (http, tcp). See room.c.
 */
#ifndef CORUN_ROOM_H
#define CORUN_ROOM_H

/* May a job that opens descriptors start now? */
int room_ready(void);
/* Such a job has started (it holds descriptors, or may open some). */
void room_enter(void);
/* Such a job has ended: what it held is free, any job may try again. */
void room_leave(void);
/* A job found no descriptor or process (EMFILE, ENFILE, EAGAIN), after
 * it left or before it entered: 1 if it may wait (put it back in its
 * queue), 0 if nothing running would give any back (fail its job). */
int room_wait(void);
/* Descriptors that idle resources hold (http's open but unused
 * connections) can be given back when a job finds none: fn closes them
 * and returns how many, or 0. One function; NULL for none. */
void room_set_reclaim(int (*fn)(void));
/* How many times a job found no descriptor or process so far: a failure
 * that hides its reason, seen while this changed, may be a shortage. */
unsigned long room_shortages(void);
/* Are descriptors short right now? errno's EMFILE or ENFILE when a probe
 * (opening /dev/null) finds none, else 0. For failures that hide the
 * reason (a name lookup that could not open its files or sockets). Any
 * thread. */
int room_fds_short(void);
/* The limit on open files (RLIMIT_NOFILE's soft limit), or 0: none. */
long room_fd_limit(void);

#endif
