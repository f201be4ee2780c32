/*
 * sched.h: jobs and the scheduler.
 *
 * The scheduler owns every job from the moment its line is read until its
 * record is written. It queues jobs per executor, starts attempts when the
 * executor has room, arms per-attempt timeouts, and settles each job's
 * future exactly once. Only the loop thread touches a job.
 */
#ifndef CORUN_SCHED_H
#define CORUN_SCHED_H

#include <ev.h>
#include <stdint.h>

#include "future.h"
#include "kinds.h"

struct job_spec;
struct corun_options;

struct group;
struct waiter;

struct job {
	struct job *prev;       /* links in the queue the job waits in */
	struct job *next;
	struct job_spec *spec;  /* owned; NULL for some error lines */
	uint64_t seq;           /* 1-based across all inputs */
	const char *file;       /* input name, lives for the whole run */
	unsigned line;          /* first physical line */
	enum executor ex;
	unsigned char state;    /* sched.c's JS_* */
	unsigned short flags;   /* JOB_* */
	int attempts;
	int ndeps;              /* after= jobs not yet final */
	double timeout;         /* effective per-attempt timeout; < 0: none */
	struct waiter *waiters; /* jobs whose after= names this one */
	struct group *group;    /* its --limit group, or NULL */
	struct future fut;
	ev_timer timer;         /* the attempt's timeout, or the backoff */
	void *xdata;            /* the executor's per-attempt state */
	void *api;              /* api.c's callback of a JOB_API job, or NULL */
};

#define JOB_TIMEDOUT 0x1  /* the running attempt is being stopped: timeout */
#define JOB_CANCELLED 0x2 /* the running attempt is being stopped: cancel */
#define JOB_RESUMED 0x4   /* --resume: ok in the job log, not run */
#define JOB_INGROUP 0x8   /* queued in its group's wait queue */
#define JOB_API 0x10      /* submitted through libcorun: no record; the
			   * program frees it (corun_future_free) */
#define JOB_WRITTEN 0x20  /* final and out of the scheduler's hands */
#define JOB_RELEASED 0x40 /* the program let go of it before the end */
#define JOB_REQUEUED 0x80 /* put back by its executor: not a new attempt */

/*
 * An executor: the scheduler sees every executor through these, so it does
 * not care which one runs a job, and a test can plug in a fake.
 * Every submit() is answered by exactly one sched_attempt_done() for that
 * job, later or from inside submit() or cancel().
 */
struct executor_ops {
	const char *name;
	int (*ready)(const struct job *);  /* room to start this job now? */
	void (*submit)(struct job *);      /* start an attempt */
	void (*cancel)(struct job *);      /* stop the running attempt */
	void (*shutdown)(void);            /* stop everything at exit */
};

/* The loop every watcher of the run lives on. */
extern struct ev_loop *sched_loop;

/* An attempt has really started (its executor slot is taken): start the
 * job's clock and its timeout. Every executor calls it once per attempt,
 * from submit() or, if it queues internally, when the job leaves its queue;
 * never after the attempt is done. */
void sched_attempt_started(struct job *);
/* The same, at a time in the past (a thread took a queued call then). */
void sched_attempt_started_at(struct job *, double when);
/* Instead of starting it: the executor could not start the attempt for
 * want of something a running job gives back when it ends (fds,
 * processes). The job goes back to the head of its queue as if it had not
 * been dispatched; the executor's ready() keeps it there until then. */
void sched_attempt_requeue(struct job *);
/* An attempt ended; res is moved from (left empty). */
void sched_attempt_done(struct job *, struct result *res);
/* An executor stopped an attempt early (timeout, cancel): end it; signal
 * is the one it sent to stop it, or 0. */
void sched_attempt_stopped(struct job *, int signal);

/* Set the scheduler up on a loop; opts must outlive the run. */
void sched_init(struct ev_loop *, const struct corun_options *);
/* The options of the run. */
const struct corun_options *sched_options(void);
/* A job line was read; the scheduler takes spec over. */
void sched_add(struct job_spec *, const char *file, unsigned line);
/* Make a job of spec (taken over) with flags and queue it; NULL in a dry
 * run. A JOB_API job stays allocated after it is final: api_final(job) is
 * called then, and sched_job_free releases it. */
struct job *sched_submit(struct job_spec *, const char *file, unsigned line,
			 unsigned flags);
void sched_job_free(struct job *);
/* A JOB_API job is final (api.c). */
void api_final(struct job *);
/* Cancel a job: 0, or -1 if it was already final. */
int sched_cancel_job(struct job *);
/* Cancel everything left. */
void sched_cancel_all(void);
/* Jobs not yet final. */
size_t sched_inflight(void);
/* A line did not parse: an error record (spec, partial or NULL, is taken
 * over). */
void sched_add_error(struct job_spec *, const char *file, unsigned line,
		     const char *msg);
/* Stop at once when the reader of fd (standard output) goes away. */
void sched_watch_output(int fd);
/* Stop every executor and write what is left. */
void sched_shutdown(void);
/* The cancel kind's start (a loop kind). */
void sched_cancel_start(struct job *);
/* For progress and stats: jobs not ok so far, running per executor, read. */
unsigned long sched_notok(void);
size_t sched_running(enum executor);
uint64_t sched_read(void);
/* The exit status of spec section 6 for what has run. */
int sched_exit_status(void);

/* The executors, as the scheduler uses them (executors.c). */
extern const struct executor_ops exec_loop_ops;
extern const struct executor_ops exec_thread_ops;
extern const struct executor_ops exec_process_ops;
/* Replace an executor's ops (tests plug in fakes). */
void sched_set_executor(enum executor, const struct executor_ops *);
/* Set the pools up; threads and workers start at their first job. */
void executors_init(struct ev_loop *, const struct corun_options *);

#endif
