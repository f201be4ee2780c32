/*
 * pool_proc.h: the process pool (-P) for CPU-bound jobs.
 *
 * Workers are forked by a fork server that is itself forked at start-up,
 * before any thread exists (forksrv_start, forksrv.h); the pool asks it for
 * workers and their pipes arrive over a unix socket. Jobs and results travel
 * as frames (frame.h); the loop side is non-blocking. Generic like the thread
 * pool: tasks are opaque contexts, so the pool can be tested without the
 * scheduler.
 */
#ifndef CORUN_POOL_PROC_H
#define CORUN_POOL_PROC_H

#include <ev.h>
#include <sys/types.h>

#include "kinds.h"

struct result;

/* Called on the loop thread when a task starts running in a worker. */
typedef void (*ppool_start_fn)(void *ctx);
/* Called on the loop thread when a task ends (res moved from): the kind's
 * result, or failed with signal set when its worker died under it. */
typedef void (*ppool_done_fn)(void *ctx, struct result *res);

/* Make sure the fork server runs (fork it now if not): before any thread
 * starts, and before anything that needs it. 0, or -1 with errno when it
 * cannot be started (process-pool jobs then fail with the reason). */
int ppool_forksrv(void);
/* Say whether this run may need the fork server at all (process-pool jobs,
 * the watch over children); without it, threads start without one. A run
 * that has not said may need it. */
void ppool_forksrv_maybe(int maybe);
/* A thread is about to start: fork the server first if the run may need
 * it (ppool_forksrv); once a thread runs, no server is forked. 0, or -1
 * with errno. */
int ppool_before_thread(void);

/* Set the pool up (workers are forked at the first submit). */
void ppool_init(struct ev_loop *, int nworkers, ppool_start_fn, ppool_done_fn);
/* Workers forked from now on run incr nice values below corun (0: at its
 * priority). */
void ppool_set_nice(int incr);
/* Room for one more task now (a worker's window is not full). */
int ppool_ready(void);
/* Queue a task; the arguments are copied. */
void ppool_submit(void *ctx, const struct kind *, int argc, char *const argv[]);
/* Stop ctx's task: a worker running it is killed (SIGKILL) and replaced.
 * done is not called for ctx. Returns the signal sent, or 0 if the task
 * had not started. */
int ppool_cancel(void *ctx);
/* Kill every worker and the fork server and reap them. */
void ppool_shutdown(void);
/* Worker replacements so far (for --stats). */
unsigned long ppool_replacements(void);
/* For the unit tests: the pid of the worker running ctx (the head of its
 * FIFO), or 0. */
pid_t ppool_worker_pid(const void *ctx);

#endif
