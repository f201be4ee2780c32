/*
 * job.h: a job, private to the scheduler (sched.c, its state machine, and
 * job.c, its intake and records). Nothing else includes this file: the
 * engine and the library hold a job as an opaque pointer (sched.h), an
 * executor sees only its attempt (executors.h).
 */
#ifndef CORUN_JOB_H
#define CORUN_JOB_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "executors.h"
#include "feed.h"
#include "future.h"
#include "kinds.h"
#include "sched.h"

/*
 * Debug builds (--enable-debug, and the sanitizer builds) check the
 * promise at run time: a job is settled exactly once, and at the end every
 * job read has had its record (or, in a dry run, its plan). A broken
 * invariant aborts with its place, so the test suites fail loudly.
 */
#ifdef CORUN_DEBUG
#define SCHED_CHECK(c) ((c) ? (void)0 : job_broken(#c, __FILE__, __LINE__))
/* An invariant does not hold: say which and abort. */
void job_broken(const char *what, const char *file, int line);
#else
#define SCHED_CHECK(c) ((void)(c))
#endif

/* Where a job is in its life (the table at the top of sched.c). */
enum job_state {
	JS_WAITING,
	JS_QUEUED,
	JS_RUNNING,
	JS_BACKOFF,
	JS_PENDING,
	JS_DONE,
};

/* Its flags (the table at the top of sched.c). */
#define JOB_TIMEDOUT 0x1
#define JOB_CANCELLED 0x2
#define JOB_RESUMED 0x4
#define JOB_INGROUP 0x8
#define JOB_REQUEUED 0x10
#define JOB_WRITTEN 0x20
#define JOB_DEADLINE 0x40
#define JOB_REMOTE 0x80

/* How far the run is from its end. */
enum run_state {
	RUN_GOING,     /* jobs start as they have room */
	RUN_STOPPING,  /* --fail-fast or a first signal: everything left is
			* being cancelled, with --grace */
	RUN_HURRYING,  /* a second signal or SIGQUIT: as stopping, without
			* --grace; every record is still written */
	RUN_ABANDONED, /* a third signal or lost records: end now, every
			* job not final is cancelled without waiting */
};

struct waiter;
struct group;
STAILQ_HEAD(waitlist, waiter);

struct job {
	TAILQ_ENTRY(job) entry; /* in the queue the job waits in */
	struct job_spec *spec;	/* owned; NULL for some error lines */
	uint64_t seq;		/* 1-based across all inputs */
	const char *file;	/* input name, lives for the whole run */
	unsigned line;		/* first physical line */
	enum executor ex;
	enum job_state state;
	unsigned flags;		 /* JOB_* */
	int ndeps;		 /* after= jobs not yet final */
	struct waitlist waiters; /* jobs whose after= names this one */
	struct group **groups;	 /* its groups with a --limit or --rate */
	unsigned ngroups;
	struct group *parked;	 /* the group whose queue holds it */
	struct group *woke;	 /* the group that let it back (sched.c) */
	struct future fut;
	ev_timer timer;	       /* the attempt's timeout, or the backoff */
	struct attempt at;     /* what its executor sees of the attempt */
	char idbuf[24];	       /* at.id when the job has no id= */
	double read_at;	       /* when it was read (ev_now's clock) */
	sched_final_fn *final; /* libcorun: called instead of a record */
	void *final_arg;
	struct buf input;      /* --pipe: its standard input's bytes */
	struct feed_src src;   /* --pipe: what at.input points to */
};

/* A queue of jobs (sched.c's: per slot class, per --limit group). */
TAILQ_HEAD(jobq, job);

struct queue {
	struct jobq jobs;
	size_t len;
};

/* Make a queue empty. */
static inline void
queue_init(struct queue *q)
{
	TAILQ_INIT(&q->jobs);
	q->len = 0;
}

/* The first job of a queue, or NULL. */
static inline struct job *
queue_head(struct queue *q)
{
	return TAILQ_FIRST(&q->jobs);
}

/* Append a job to a queue. */
static inline void
queue_push(struct queue *q, struct job *job)
{
	TAILQ_INSERT_TAIL(&q->jobs, job, entry);
	q->len++;
}

/* Put a job first in a queue. */
static inline void
queue_push_front(struct queue *q, struct job *job)
{
	TAILQ_INSERT_HEAD(&q->jobs, job, entry);
	q->len++;
}

/* Take a job out of a queue. */
static inline void
queue_remove(struct queue *q, struct job *job)
{
	TAILQ_REMOVE(&q->jobs, job, entry);
	q->len--;
}

/* The job an attempt belongs to. */
static inline struct job *
job_of(const struct attempt *at)
{
	return (struct job *)(void *)((char *)(uintptr_t)at -
				      offsetof(struct job, at));
}

/* job.c, for the state machine. */
void job_init(const struct corun_options *);
void job_shutdown(void);
struct job *job_get(uint64_t seq);
uint64_t job_last(void);
uint64_t *job_live_seqs(size_t *n);
uint64_t job_resolve(const char *ref, uint64_t seq);
void job_settle_now(struct job *, enum job_status, const char *why);
double job_queued(const struct job *);
void job_started(struct job *);

/* sched.c, for job.c. */
enum run_state sched_run_state(void);
void sched_enqueue(struct job *);
void sched_defer(struct job *, enum job_status, const char *why);
const char *sched_stop_why(void);
void sched_input_free(struct buf *);
/* sched.c, for group.c. */
void sched_requeue_front(struct job *);
void sched_inflight_grew(void);

#endif
