/*
 * sched.h: the scheduler, as the engine (corun.c), the library (api.c) and
 * the input reader (input.c) see it.
 *
 * The scheduler owns every job from the moment its line is read until its
 * record is written: a job is opaque outside sched.c. It queues jobs per
 * executor, starts attempts when the executor has room, arms per-attempt
 * timeouts, and settles each job's future exactly once. Executors see an
 * attempt, not a job (executors.h). Only the loop thread touches a job.
 */
#ifndef CORUN_SCHED_H
#define CORUN_SCHED_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "future.h"
#include "kinds.h"

struct job;
struct job_spec;
struct corun_options;
struct executor_ops;
struct attempt;

/* Where jobs come from (input.c, or arglist.c in command mode): the
 * scheduler asks it to pause while too many jobs are in flight, to stop
 * when the run is stopping, and whether everything has been read. Without
 * a source, nothing more comes. */
struct sched_source {
	void (*pause)(int paused);
	void (*stop)(void);
	int (*done)(void);
	/* Optional (NULL: none): the job of spec once its attempt has job
	 * slot slot (command mode's {%}); takes spec over, returns the spec
	 * to run (maybe spec itself). */
	struct job_spec *(*slotted)(struct job_spec *, uint64_t seq,
				    unsigned slot);
	/* Optional (NULL: freed): a job is done with the standard input
	 * sched_add_input gave it; takes the buffer over (--pipe reuses
	 * its blocks' memory). */
	void (*recycle)(struct buf *);
};

/* Set the scheduler up on a loop; opts must outlive the run. */
void sched_init(struct ev_loop *, const struct corun_options *);
/* Take jobs from source (NULL: none). */
void sched_set_source(const struct sched_source *);
/* Replace an executor's ops (tests plug in fakes). */
void sched_set_executor(enum executor, const struct executor_ops *);

/* A job line was read; the scheduler takes spec over. */
void sched_add(struct job_spec *, const char *file, unsigned line);
/* A --pipe block was read: a job of spec (taken over) whose standard
 * input is input's bytes (taken over: input is left empty), every
 * attempt's. */
void sched_add_input(struct job_spec *, const char *file, unsigned line,
		     struct buf *input);
/* The same for a block of a regular file: len bytes of fd from off (fd
 * stays the caller's and open until the run ends). */
void sched_add_input_file(struct job_spec *, const char *file, unsigned line,
			  int fd, off_t off, size_t len);
/* A line did not parse: an error record (spec, partial or NULL, is taken
 * over). */
void sched_add_error(struct job_spec *, const char *file, unsigned line,
		     const char *msg);

/* Called once when a job submitted with it is final (it has no record). */
typedef void sched_final_fn(struct job *, void *arg);
/* Make a job of spec (taken over) and queue it; NULL in a dry run. With
 * final (libcorun's futures) the job writes no record: final(job, arg) is
 * called when it is final, maybe before this returns, and the job stays
 * allocated until sched_job_free. */
struct job *sched_submit(struct job_spec *, const char *file, unsigned line,
			 sched_final_fn *final, void *arg);
/* Called when an attempt of a job submitted with a final function starts
 * (corun --serve's STARTED frame). */
typedef void sched_started_fn(struct job *, void *arg);
void sched_on_started(sched_started_fn *);
/* Free a job submitted with a final function, once it is final. */
void sched_job_free(struct job *);
/* A job's outcome (its result is complete once it is final). */
const struct result *sched_job_result(const struct job *);
int sched_job_attempts(const struct job *);
double sched_job_elapsed(const struct job *);
/* Seconds until the timer of an attempt's job fires (its timeout while it
 * runs, the backoff delay between attempts), or -1 when none is armed:
 * for tests and diagnostics. */
double sched_timer_remaining(const struct attempt *);
/* Cancel a job: 0, or -1 if it was already final. */
int sched_cancel_job(struct job *);
/* Cancel everything left. */
void sched_cancel_all(void);
/* Stop the run for a signal (the first SIGINT or SIGTERM): cancel every
 * job that is not final, with --grace, and read no more; the exit status
 * becomes 128 + signo. */
void sched_stop(int signo);
/* Stop the run without --grace (a second signal, or SIGQUIT, which is
 * then signo): as sched_stop, and every running attempt is stopped at
 * once; the run ends when each has ended and its record is written. */
void sched_hurry(int signo);
/* End the run at once (a third signal): every job not final ends
 * cancelled without waiting for its executor, and the loop stops. */
void sched_abandon_run(void);
/* The signal that stopped the run, or 0. */
int sched_stop_signal(void);
/* Did --deadline stop the run? */
int sched_deadline_passed(void);

/* For progress and stats: jobs not ok so far, running per executor, read,
 * and not yet final. */
unsigned long sched_notok(void);
size_t sched_running(enum executor);
size_t sched_queued(enum executor);
uint64_t sched_read(void);
size_t sched_inflight(void);
/* The exit status (corun(1), EXIT STATUS) for what has run: 128 + the
 * signal that stopped the run, 2 for bad lines in a dry run, 1 when a job
 * did not end ok or records were lost, else 0. */
int sched_exit_status(void);
/* Stop every executor and write what is left. */
void sched_shutdown(void);

#endif
