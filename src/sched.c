/*
 * sched.c: the scheduler, one state machine per job.
 *
 *   waiting --(every after= job ended ok)--> queued
 *   waiting --(an after= job ended otherwise)--> pending: skipped
 *   queued --(executor and group have room)--> running attempt N
 *   running --(attempt failed or timed out, retries left, retry-on=
 *             matches: retry.c)--> backing off
 *   backing off --(delay passed)--> queued
 *   running --(attempt ended otherwise)--> done
 *   any state --(cancel ID, --fail-fast, a signal)--> done: cancelled
 *
 * The states (job->state):
 *
 *   JS_WAITING  on after= jobs (ndeps of them not final yet)
 *   JS_QUEUED   in its slot class's queue, or in its group's wait queue
 *   JS_RUNNING  an attempt is with its executor
 *   JS_BACKOFF  between attempts: job->timer runs the delay
 *   JS_PENDING  to be settled by the next prepare phase (on S.skipq)
 *   JS_DONE     final; its record waits for -k, or for the program (API)
 *
 * The flags (job->flags):
 *
 *   JOB_TIMEDOUT  the running attempt is being stopped: its timeout
 *   JOB_CANCELLED the running attempt is being stopped: cancel
 *   JOB_RESUMED   --resume: ok in the job log, not run
 *   JOB_INGROUP   queued in its group's wait queue, not its class queue
 *   JOB_REQUEUED  put back by its executor: the next dispatch is not a
 *                 new attempt
 *   JOB_WRITTEN   final and out of the scheduler's hands (API jobs)
 *   JOB_DEADLINE  the running attempt is being stopped: --deadline
 *   JOB_REMOTE    its attempts go to a remote host (remote.c, corun -S)
 *
 * How a line becomes a job (ids, after=, --resume, the -n plan) and how a
 * final job leaves (the job log, its record, -k order) is job.c's part of
 * the scheduler; the two share job.h and nothing else sees a job. A run's
 * signals are the engine's (corun.c): it calls sched_stop for the first,
 * sched_hurry for the second (or SIGQUIT) and sched_abandon_run for the
 * third. A hurried run asks the executors to stop their attempts again,
 * now without --grace (sched_hurried), and still waits for every attempt
 * to end, so each record has what its job produced.
 *
 * Queues are per slot class (loop timers, child processes, network jobs,
 * thread pool, process pool) and are drained in the loop's prepare phase,
 * once per iteration: an executor that frees room, or an attempt that ends
 * inside submit(), never recurses into the scheduler, and many starts are
 * batched into one pass. The same pass settles jobs skipped or cancelled in
 * bulk, goes round again while that queued more jobs (so the loop never
 * blocks with a job that could start), and has the output module flush the
 * records written during the iteration, so a reader sees each one before
 * the loop blocks again.
 *
 * Executors never see a job: each attempt is a struct attempt inside it
 * (executors.h), their token for the sched_attempt_* calls.
 *
 * Threads: only the loop thread runs any of this. Memory: a job owns its
 * spec and its future's result; both go when its record has been written.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "corun.h"
#include "executors.h"
#include "flow.h"
#include "group.h"
#include "job.h"
#include "output.h"
#include "parse.h"
#include "remote.h"
#include "report.h"
#include "retry.h"
#include "sched.h"
#include "stats.h"

/* Retry backoff: the base doubles per retry up to 2^BACKOFF_MAX_DOUBLINGS
 * times (then --backoff's maximum caps it anyway), plus a random 0 to
 * BACKOFF_JITTER of it so that retries of many jobs spread out. */
#define BACKOFF_MAX_DOUBLINGS 60
#define BACKOFF_JITTER 0.2

/* Slot classes: the loop executor has three, timers, child processes and
 * network jobs, so a sleep never waits behind an exec held back by -j or a
 * transfer waiting for a file descriptor. */
enum { Q_LOOP, Q_CHILD, Q_THREAD, Q_PROCESS, Q_NET, Q_REMOTE, Q_COUNT };

static struct {
	const struct corun_options *opts;
	const struct sched_source *source; /* NULL: no more jobs come */
	struct queue q[Q_COUNT];
	struct queue skipq;     /* jobs to settle as skipped or cancelled */
	ev_timer deadline;      /* --deadline */
	int deadline_passed;
	ev_prepare prepare;
	ev_idle nudge;          /* one more iteration before blocking */
	size_t running[EX_COUNT];
	int input_paused;
	int again;              /* jobs were queued or deferred: dispatch */
	struct job *canceller;  /* the cancel job running its action */
	int submitted;          /* jobs went to executors in this pass */
	enum run_state run;
	int signal;             /* the signal that stopped the run */
} S;

struct ev_loop *sched_loop;

static const struct executor_ops *ops_of[EX_COUNT] = {
	&exec_loop_ops,
	&exec_thread_ops,
	&exec_process_ops,
};

/* Run an executor's jobs through other ops (a test's fake). */
void
sched_set_executor(enum executor ex, const struct executor_ops *ops)
{
	ops_of[ex] = ops;
}

/* The slot class a job waits in. */
static int
sched_class(const struct job *job)
{
	enum kind_id k = job->spec->kind->id;

	if (job->flags & JOB_REMOTE)
		return Q_REMOTE;
	if (job->ex == EX_LOOP && job->spec->kind->spawns)
		return Q_CHILD;
	if (job->ex == EX_LOOP)
		return k == KIND_HTTP || k == KIND_TCP ? Q_NET : Q_LOOP;
	return job->ex == EX_THREAD ? Q_THREAD : Q_PROCESS;
}

/* The executor a job's attempts go to. */
static const struct executor_ops *
sched_ops(const struct job *job)
{
	return job->flags & JOB_REMOTE ? &exec_remote_ops : ops_of[job->ex];
}

/* What a running job stopped by a cancel was cancelled for. */
static const char *
sched_cancel_why(const struct job *job)
{
	return job->flags & JOB_DEADLINE ? "run deadline" : "cancelled";
}

/* The options of the run. */
const struct corun_options *
sched_options(void)
{
	return S.opts;
}

/* Queue a job for its executor. */
void
sched_enqueue(struct job *job)
{
	int c = sched_class(job);

	job->state = JS_QUEUED;
	queue_push(&S.q[c], job);
	stats_queue_depth(job->ex, S.q[c].len);
	S.again = 1;
}

/* Put a job that a group lets go first in its class queue. */
void
sched_requeue_front(struct job *job)
{
	queue_push_front(&S.q[sched_class(job)], job);
	S.again = 1;
}

/* Take a queued job out of whichever queue holds it. */
static void
sched_unqueue(struct job *job)
{
	if (job->flags & JOB_INGROUP) {
		group_unpark(job);
	} else {
		queue_remove(&S.q[sched_class(job)], job);
		group_woke_done(job);
	}
}

/* Start the attempts their executors, groups and pacing have room for. */
static void
sched_dispatch(void)
{
	double now = ev_now(sched_loop);

	for (int c = 0; c < Q_COUNT; c++) {
		struct queue *q = &S.q[c];

		struct job *job;

		while ((job = queue_head(q)) != NULL) {
			const struct executor_ops *ops = sched_ops(job);
			struct group *g;

			if (!ops->ready(&job->at))
				break;
			if (!flow_open())
				return;
			queue_remove(q, job);
			if (job->ngroups > 0 &&
			    (g = group_full(job, now)) != NULL) {
				group_park(job, g, now);
				continue;
			}
			group_take(job, now);
			flow_take();
			job->at.number++;
			if (job->at.number > 1 && !(job->flags & JOB_REQUEUED))
				stats_retry();
			job->flags &= ~JOB_REQUEUED;
			job->state = JS_RUNNING;
			job->flags &= ~(JOB_TIMEDOUT | JOB_CANCELLED);
			job->at.xdata = NULL;
			S.running[job->ex]++;
			S.submitted = 1;
			ops->submit(&job->at);
		}
	}
}

/* Mark a job to be settled by the prepare phase (not from inside another
 * job's settlement, which would recurse along dependency chains). */
void
sched_defer(struct job *job, enum job_status status, const char *why)
{
	struct result res;

	result_init(&res);
	res.status = status;
	result_error(&res, "%s", why);
	result_move(&job->fut.res, &res);
	job->state = JS_PENDING;
	queue_push(&S.skipq, job);
	S.again = 1;
}

/* Pause or resume the source of jobs (backpressure). */
static void
sched_pause_input(int paused)
{
	S.input_paused = paused;
	if (S.source != NULL)
		S.source->pause(paused);
}

/* A job was read: pause reading while --max-inflight jobs are in flight. */
void
sched_inflight_grew(void)
{
	if (sched_inflight() >= (size_t)S.opts->max_inflight && !S.input_paused)
		sched_pause_input(1);
}

/* How far the run is from its end. */
enum run_state
sched_run_state(void)
{
	return S.run;
}

/* The attempt's timeout fired: have the executor stop it. */
static void
sched_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *job = w->data;

	(void)loop, (void)revents;
	job->flags |= JOB_TIMEDOUT;
	sched_ops(job)->cancel(&job->at);
}

/* The backoff delay before a retry has passed: queue the job again. */
static void
sched_backoff_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)revents;
	sched_enqueue(w->data);
}

/* The executor has started an attempt. */
void
sched_attempt_started(struct attempt *at)
{
	sched_attempt_started_at(at, ev_now(sched_loop));
}

/* The executor started an attempt at time when (ev_time's clock). */
void
sched_attempt_started_at(struct attempt *at, double when)
{
	struct job *job = job_of(at);

	if (job->fut.state == FUT_PENDING && future_start(&job->fut, when) == 0)
		stats_started(job->ex, job_queued(job));
	job_started(job);
	if (at->timeout >= 0) {
		ev_timer_init(&job->timer, sched_timeout_cb, at->timeout, 0.);
		job->timer.data = job;
		ev_timer_start(sched_loop, &job->timer);
	}
}

/* The attempt got its job slot: the source may fill it into the job. */
void
sched_attempt_slotted(struct attempt *at)
{
	struct job *job = job_of(at);

	if (S.source == NULL || S.source->slotted == NULL)
		return;
	job->spec = S.source->slotted(job->spec, job->seq, at->slot);
	if (at->id != job->idbuf && job->spec->id != NULL)
		at->id = job->spec->id;
	at->spec = job->spec;
}

/* The executor could not start the attempt: undo the dispatch. */
void
sched_attempt_requeue(struct attempt *at)
{
	struct job *job = job_of(at);

	SCHED_CHECK(job->state == JS_RUNNING);
	/* A network job is put back after it started: its clock starts
	 * again when it is dispatched again. */
	ev_timer_stop(sched_loop, &job->timer);
	at->number--;
	job->flags |= JOB_REQUEUED;
	flow_untake();
	group_release(job, 1);
	S.running[job->ex]--;
	job->state = JS_QUEUED;
	queue_push_front(&S.q[sched_class(job)], job);
}

/* Seconds to wait before retry number n (1-based): the base doubled per
 * retry, capped, plus 0-20% jitter; at least after (a Retry-After) up to
 * the cap. */
static double
sched_backoff(const struct job *job, int n, double after)
{
	double base = job->spec->backoff >= 0 ? job->spec->backoff
					      : S.opts->backoff;
	double max = job->spec->backoff_max >= 0 ? job->spec->backoff_max
						 : S.opts->backoff_max;
	double d = base * ldexp(1.0, n - 1 > BACKOFF_MAX_DOUBLINGS
					  ? BACKOFF_MAX_DOUBLINGS
					  : n - 1);

	if (d > max)
		d = max;
	d *= 1.0 + BACKOFF_JITTER * util_random();
	return fmax(d, fmin(after, max));
}

/* An attempt ended: retry, or settle the job's future. */
void
sched_attempt_done(struct attempt *at, struct result *res)
{
	struct job *job = job_of(at);
	int retries;

	ev_timer_stop(sched_loop, &job->timer);
	S.running[job->ex]--;
	group_release(job, 0);
	at->xdata = NULL;
	if (job->flags & JOB_CANCELLED) {
		res->status = ST_CANCELLED;
		result_error(res, "%s", sched_cancel_why(job));
	} else if (job->flags & JOB_TIMEDOUT) {
		res->status = ST_TIMEOUT;
		result_error(res, "timed out after %gs", at->timeout);
	}
	retries = job->spec->retries >= 0 ? job->spec->retries
					  : S.opts->retries;
	if ((res->status == ST_FAILED || res->status == ST_TIMEOUT) &&
	    at->number <= retries && S.run == RUN_GOING &&
	    retry_wanted(job->spec->retry_on, S.opts->retry_on, res)) {
		/* The record will carry the last attempt's result. */
		double after = res->retry_after;

		result_move(&job->fut.res, res);
		job->state = JS_BACKOFF;
		ev_timer_init(&job->timer, sched_backoff_cb,
			      sched_backoff(job, at->number, after), 0.);
		job->timer.data = job;
		ev_timer_start(sched_loop, &job->timer);
		return;
	}
	SCHED_CHECK(future_settle(&job->fut, res, ev_now(sched_loop)) == 0);
}

/* An executor stopped an attempt early (timeout, cancel): end it; the
 * scheduler records it as timeout or cancelled. signal: what the executor
 * sent to stop it, or 0. */
void
sched_attempt_stopped(struct attempt *at, int signal)
{
	struct result res;

	result_init(&res);
	res.status = ST_FAILED;
	res.signal = signal;
	sched_attempt_done(at, &res);
}

/*
 * Cancel a job that is not final: settle it at once if it is not running
 * (with the last attempt's result replaced), or have its executor stop the
 * attempt. Returns 0, or -1 if it was already final.
 */
int
sched_cancel_job(struct job *job)
{
	const char *why = sched_stop_why();
	int stopping;

	switch (job->state) {
	case JS_WAITING:
		sched_defer(job, ST_CANCELLED, why);
		return 0;
	case JS_QUEUED:
		sched_unqueue(job);
		sched_defer(job, ST_CANCELLED, why);
		return 0;
	case JS_BACKOFF:
		ev_timer_stop(sched_loop, &job->timer);
		sched_defer(job, ST_CANCELLED, why);
		return 0;
	case JS_RUNNING:
		/* A cancel job whose action stopped the run (--fail-fast)
		 * ends on its own right after: nothing to stop. */
		if (job == S.canceller)
			return 0;
		/* An attempt already being stopped for its timeout ends
		 * cancelled too (no retry); the executor is asked once. */
		stopping = job->flags & (JOB_CANCELLED | JOB_TIMEDOUT);
		if (!(job->flags & JOB_CANCELLED) && S.deadline_passed)
			job->flags |= JOB_DEADLINE;
		job->flags |= JOB_CANCELLED;
		if (!stopping)
			sched_ops(job)->cancel(&job->at);
		return 0;
	default:
		return -1;
	}
}

/* What a job cancelled now is cancelled for: the record's error. */
const char *
sched_stop_why(void)
{
	return S.deadline_passed ? "run deadline" : "cancelled";
}

/* The `cancel ID` kind: cancel a queued or running job. */
void
sched_cancel_start(struct attempt *at)
{
	struct job *job = job_of(at);
	const char *ref = job->spec->argv[0];
	uint64_t seq = job_resolve(ref, job->seq);
	struct job *target = seq ? job_get(seq) : NULL;
	struct result res;
	int rc = -1;

	sched_attempt_started(at);
	result_init(&res);
	if (target != NULL && target != job) {
		/* The target may end at once and stop the run. */
		S.canceller = job;
		rc = sched_cancel_job(target);
		S.canceller = NULL;
	}
	if (seq == 0) {
		res.status = ST_FAILED;
		result_error(&res, "no job '%s'", ref);
	} else if (rc == -1) {
		res.status = ST_FAILED;
		result_error(&res, "job '%s' is already final", ref);
	} else {
		res.status = ST_OK;
	}
	sched_attempt_done(at, &res);
}

/* Order sequence numbers from the latest. */
static int
sched_seq_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y) - (x > y);
}

/* Cancel every job that is not final and stop reading: --fail-fast
 * (signo 0) or the first SIGINT/SIGTERM. */
void
sched_stop(int signo)
{
	size_t n = 0;
	uint64_t *seqs;

	if (S.run == RUN_GOING)
		S.run = RUN_STOPPING;
	if (signo != 0 && S.signal == 0)
		S.signal = signo;
	ev_timer_stop(sched_loop, &S.deadline);
	if (S.source != NULL)
		S.source->stop();
	/* Cancelling changes the table: walk a copy of its keys. */
	seqs = job_live_seqs(&n);
	/* Latest first: a job waiting on another is cancelled before its
	 * dependency ends, so it ends cancelled, never skipped, whatever
	 * order the table keeps and whichever executor stops at once. */
	qsort(seqs, n, sizeof *seqs, sched_seq_cmp);
	for (size_t i = 0; i < n; i++) {
		struct job *job = job_get(seqs[i]);
		if (job != NULL)
			sched_cancel_job(job);
	}
	free(seqs);
}

/* Stop the run without --grace (a second signal, or SIGQUIT: signo stops
 * the run if nothing did yet): cancel every job left, and have each
 * executor stop what still runs at once. The run still ends when every
 * attempt has ended and every record is written. */
void
sched_hurry(int signo)
{
	size_t n = 0;
	uint64_t *seqs;

	if (S.run == RUN_ABANDONED)
		return;
	S.run = RUN_HURRYING;
	sched_stop(signo);
	/* Attempts already being stopped with --grace: once more, now. */
	seqs = job_live_seqs(&n);
	for (size_t i = 0; i < n; i++) {
		struct job *job = job_get(seqs[i]);

		if (job != NULL && job->state == JS_RUNNING &&
		    job != S.canceller)
			sched_ops(job)->cancel(&job->at);
	}
	free(seqs);
}

/* Is the run stopping without --grace? Executors then stop an attempt at
 * once, even one they were asked to stop before. */
int
sched_hurried(void)
{
	return S.run >= RUN_HURRYING;
}

/* End the run at once: every job not final ends cancelled without
 * waiting for its executor (a third signal, lost records). */
void
sched_abandon_run(void)
{
	if (S.run == RUN_GOING)
		sched_stop(0);
	S.run = RUN_ABANDONED;
	ev_break(sched_loop, EVBREAK_ALL);
}

/* Settle what sched_defer queued; settling may queue more. */
static void
sched_settle_deferred(void)
{
	struct job *job;

	while ((job = queue_head(&S.skipq)) != NULL) {
		struct result res;

		queue_remove(&S.skipq, job);
		result_init(&res);
		result_move(&res, &job->fut.res);
		SCHED_CHECK(future_settle(&job->fut, &res, ev_now(sched_loop)) == 0);
	}
}

/* --deadline has passed: cancel what is left, with --grace, and stop
 * reading; the run ends not ok (sched_exit_status). */
static void
sched_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	if (S.run != RUN_GOING)
		return;
	S.deadline_passed = 1;
	sched_stop(0);
}

/* Did --deadline stop the run? */
int
sched_deadline_passed(void)
{
	return S.deadline_passed;
}

/* End the run now, as for a third signal: the records cannot be written
 * any more (the output module's lost callback). */
static void
sched_output_lost(void)
{
	sched_abandon_run();
}

/* Once per loop iteration, before it blocks: start what has room, write
 * the records, manage input backpressure, and end the run when done.
 * Starting and settling jobs and reading more input can queue more jobs
 * (an attempt that ends inside submit() frees a group's slot, resumed
 * input adds jobs): go round until nothing new was queued and input is
 * not held back with room left, or the loop would block with jobs that
 * could run or lines that could be read. */
static void
sched_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	int held;

	(void)w, (void)revents;
	/* Records the reader has not taken beyond the bound: start nothing,
	 * read nothing, until it catches up (backpressure; the loop still
	 * serves signals meanwhile, and the writer wakes it). */
	if (output_flush() == -1)
		return;
	held = output_held();
	S.submitted = 0;
	do {
		S.again = 0;
		sched_settle_deferred();
		if (S.run == RUN_GOING && !held)
			sched_dispatch();
		sched_settle_deferred();
		if (S.input_paused && !held &&
		    sched_inflight() < (size_t)S.opts->max_inflight) {
			/* What is read may start now, or end at once (an
			 * error line, a resumed job) and leave room. */
			sched_pause_input(0);
			S.again = 1;
		}
	} while (S.again);
	/* An executor may deal out what it was given in its own prepare
	 * phase, which may have run already in this iteration: do not
	 * block before the next one. */
	if (S.submitted)
		ev_idle_start(loop, &S.nudge);
	if (held && !S.input_paused)
		sched_pause_input(1);
	if (output_flush() == -1)
		return;
	if (sched_inflight() == 0 && (S.source == NULL || S.source->done()) &&
	    !output_pending())
		ev_break(loop, EVBREAK_ALL);
}

/* The iteration that sched_prepare_cb asked for has come: no more. */
static void
sched_nudge_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)revents;
	ev_idle_stop(loop, w);
}

/* Set the scheduler up on a loop. */
void
sched_init(struct ev_loop *loop, const struct corun_options *opts)
{
	memset(&S, 0, sizeof S);
	S.opts = opts;
	for (int c = 0; c < Q_COUNT; c++)
		queue_init(&S.q[c]);
	queue_init(&S.skipq);
	sched_loop = loop;
	output_init(loop, sched_output_lost);
	group_init(loop, opts);
	flow_init(loop, opts);
	ev_timer_init(&S.deadline, sched_deadline_cb, fmax(0., opts->deadline),
		      0.);
	if (opts->deadline >= 0)
		ev_timer_start(loop, &S.deadline);
	ev_prepare_init(&S.prepare, sched_prepare_cb);
	ev_prepare_start(loop, &S.prepare);
	ev_idle_init(&S.nudge, sched_nudge_cb);
	job_init(opts);
}

/* After a third signal or a lost reader: every job that is not final
 * ends cancelled now, whatever its executor is doing. */
static void
sched_abandon(void)
{
	for (uint64_t seq = 1; seq <= job_last() && sched_inflight() > 0;
	     seq++) {
		struct job *job = job_get(seq);

		if (job == NULL || job->state == JS_DONE)
			continue;
		if (job->state == JS_PENDING)
			queue_remove(&S.skipq, job);
		else if (job->state == JS_QUEUED)
			sched_unqueue(job);
		ev_timer_stop(sched_loop, &job->timer);
		job->state = JS_DONE;
		job_settle_now(job, ST_CANCELLED, "cancelled");
	}
}

/* Stop every executor and write what is left. */
void
sched_shutdown(void)
{
	if (S.run == RUN_ABANDONED)
		sched_abandon();
	for (int ex = 0; ex < EX_COUNT; ex++)
		ops_of[ex]->shutdown();
	exec_remote_ops.shutdown();
	ev_prepare_stop(sched_loop, &S.prepare);
	ev_idle_stop(sched_loop, &S.nudge);
	ev_timer_stop(sched_loop, &S.deadline);
	output_stop();
	report_flush();
	job_shutdown();
	group_shutdown();
	flow_free();
}

/* Jobs running now on an executor. */
size_t
sched_running(enum executor ex)
{
	return S.running[ex];
}

/* Jobs of an executor queued (ready, waiting for room) now: a walk of
 * the queues, for the metrics only (no cost per job). */
size_t
sched_queued(enum executor ex)
{
	struct job *job;
	size_t n = 0;

	for (int c = 0; c < Q_COUNT; c++)
		TAILQ_FOREACH(job, &S.q[c].jobs, entry)
			n += job->ex == ex;
	return n + group_queued(ex);
}

/* Cancel everything left (the library's runner is being freed). */
void
sched_cancel_all(void)
{
	if (S.run == RUN_GOING)
		sched_stop(0);
}

/* The signal that stopped the run, or 0. */
int
sched_stop_signal(void)
{
	return S.signal;
}

/* A job is done with its standard input: back to its source, or freed. */
void
sched_input_free(struct buf *b)
{
	if (b->data != NULL && S.source != NULL && S.source->recycle != NULL)
		S.source->recycle(b);
	else
		buf_free(b);
}

/* Take jobs from source. */
void
sched_set_source(const struct sched_source *source)
{
	S.source = source;
}
