/*
 * executors.h: what the scheduler asks of an executor, and what an
 * executor may tell the scheduler.
 *
 * The scheduler hands an executor one attempt at a time: a struct attempt
 * that says what to run (the parsed job line, its effective timeout) and
 * that is also the executor's token for the attempt. The executor answers
 * through the sched_attempt_* functions below, with that token; it never
 * sees the scheduler's job. Every submit() is answered by exactly one
 * sched_attempt_done() (or sched_attempt_stopped()) for that attempt,
 * later or from inside submit() or cancel(), unless the executor puts the
 * attempt back with sched_attempt_requeue() instead of starting it.
 *
 * Loop kinds (kinds.h) are started and stopped through this interface
 * too: their start/stop functions take the attempt.
 *
 * Threads: everything here is called on the loop thread only.
 */
#ifndef CORUN_EXECUTORS_H
#define CORUN_EXECUTORS_H

#include <ev.h>
#include <stdint.h>

#include "future.h"
#include "kinds.h"
#include "work.h"

struct job_spec;
struct corun_options;
struct feed_src;

/* One attempt of a job, as its executor sees it. The scheduler owns it;
 * it stays valid until the attempt has been answered. */
struct attempt {
	const struct job_spec *spec; /* the job line: kind, argv, options */
	const char *id;		     /* the job's id= or its sequence number */
	enum executor ex;	     /* the executor it runs on */
	double timeout;		     /* seconds for this attempt; < 0: none */
	int number;		     /* 1 for the first attempt */
	uint64_t seq;		     /* the job's sequence number, from 1 */
	unsigned slot;		     /* its job slot, 1..-j, or 0: none */
	const struct feed_src *input; /* --pipe: the job's standard input
				       * (feed.h); NULL: /dev/null */
	void *xdata;		     /* the executor's state for the attempt */
	int lost;		     /* times its host was lost (remote.c) */
};

/*
 * An executor: the scheduler sees every executor through these, so it does
 * not care which one runs a job, and a test can plug in a fake.
 */
struct executor_ops {
	const char *name;
	int (*ready)(const struct attempt *); /* room to start it now? */
	void (*submit)(struct attempt *);     /* start the attempt */
	void (*cancel)(struct attempt *);     /* stop the running attempt */
	void (*shutdown)(void);		      /* stop everything at exit */
};

/* The loop every watcher of the run lives on. */
extern struct ev_loop *sched_loop;
/* The options of the run. */
const struct corun_options *sched_options(void);
/* Is the run stopping without --grace (a second signal, SIGQUIT)? Then
 * cancel() may come again for an attempt being stopped: stop it at once. */
int sched_hurried(void);

/* An attempt has really started (its executor slot is taken): start the
 * job's clock and its timeout. Every executor calls it once per attempt,
 * from submit() or, if it queues internally, when the attempt leaves its
 * queue; never after the attempt is done. */
void sched_attempt_started(struct attempt *);
/* The same, at a time in the past (a thread took a queued call then). */
void sched_attempt_started_at(struct attempt *, double when);
/* The executor gave the attempt a job slot (at->slot, before it starts
 * it): the scheduler may change at->spec (command mode's {%}). */
void sched_attempt_slotted(struct attempt *);
/* Instead of starting it: the executor could not start the attempt for
 * want of something a running job gives back when it ends (fds,
 * processes). The job goes back to the head of its queue as if it had not
 * been dispatched; the executor's ready() keeps it there until then. A
 * loop kind may do so after sched_attempt_started (a transfer that found
 * no descriptor): its timeout is stopped and starts again with the next
 * dispatch. */
void sched_attempt_requeue(struct attempt *);
/* An attempt ended; res is moved from (left empty). */
void sched_attempt_done(struct attempt *, struct result *res);
/* End an attempt that could not start (no host, no transfer set up):
 * failed, unstarted (retry-on start), with msg as its error. */
void exec_attempt_unstarted(struct attempt *, const char *msg);
/* An executor stopped an attempt early (timeout, cancel): end it; signal
 * is the one it sent to stop it, or 0. */
void sched_attempt_stopped(struct attempt *, int signal);

/* The cancel kind's start: a loop kind that runs on the scheduler. */
void sched_cancel_start(struct attempt *);

/* The blocking run function of a thread or process kind; NULL for a loop
 * kind (a worker looks a frame's kind up here). */
kind_run_fn exec_run_fn(enum kind_id);

/* The executors, as the scheduler uses them (executors.c). */
extern const struct executor_ops exec_loop_ops;
extern const struct executor_ops exec_thread_ops;
extern const struct executor_ops exec_process_ops;
/* Set the pools up; threads and workers start at their first job. 0, or
 * -1 with errno. */
int executors_init(struct ev_loop *, const struct corun_options *);

#endif
