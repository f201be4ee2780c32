/*
 * sched.c: the scheduler, one state machine per job.
 *
 *   queued --(executor has room)--> running attempt N
 *   running --(attempt ends, retries left)--> backing off --> queued
 *   running --(attempt ends otherwise)--> final (record written, freed)
 *
 * A job is queued in the FIFO of its slot class (loop timers, child
 * processes, thread pool, process pool). Queues are drained in the loop's
 * prepare phase, once per iteration: an executor that frees room, or an
 * attempt that ends inside submit(), never recurses into the scheduler, and
 * many starts are batched into one pass. The same pass flushes the records
 * written during the iteration, so a reader sees each one before the loop
 * blocks again.
 *
 * Threads: only the loop thread runs any of this. Memory: a job owns its
 * spec and its future's result; both go when its record has been written.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corun.h"
#include "input.h"
#include "parse.h"
#include "report.h"
#include "sched.h"

/* Slot classes: the loop executor has two, timers and child processes,
 * so a sleep never waits behind an exec held back by -j. */
enum { Q_LOOP, Q_CHILD, Q_THREAD, Q_PROCESS, Q_COUNT };

struct queue {
	struct job *head;
	struct job *tail;
	size_t len;
};

static struct {
	const struct corun_options *opts;
	struct queue q[Q_COUNT];
	ev_prepare prepare;
	uint64_t seq;          /* last sequence number given */
	size_t inflight;       /* jobs read and not yet final */
	unsigned long notok;   /* final records other than ok */
	int input_paused;
	int dry_run_bad;       /* dry run: lines that did not parse */
} S;

struct ev_loop *sched_loop;

static const struct executor_ops *const ops_of[EX_COUNT] = {
	&exec_loop_ops,
	&exec_thread_ops,
	&exec_process_ops,
};

/* The slot class a job waits in. */
static int
sched_class(const struct job *job)
{
	if (job->ex == EX_LOOP)
		return job->spec->kind->spawns ? Q_CHILD : Q_LOOP;
	return job->ex == EX_THREAD ? Q_THREAD : Q_PROCESS;
}

/* Append a job to a queue. */
static void
queue_push(struct queue *q, struct job *job)
{
	job->next = NULL;
	if (q->tail != NULL)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
	q->len++;
}

/* Take the first job of a queue. */
static struct job *
queue_pop(struct queue *q)
{
	struct job *job = q->head;

	if (job != NULL) {
		q->head = job->next;
		if (q->head == NULL)
			q->tail = NULL;
		job->next = NULL;
		q->len--;
	}
	return job;
}

/* The options of the run. */
const struct corun_options *
sched_options(void)
{
	return S.opts;
}

/* Start the attempts their executors have room for, class by class. */
static void
sched_dispatch(void)
{
	for (int c = 0; c < Q_COUNT; c++) {
		struct queue *q = &S.q[c];

		while (q->head != NULL) {
			struct job *job = q->head;
			const struct executor_ops *ops = ops_of[job->ex];

			if (!ops->ready(job))
				break;
			queue_pop(q);
			job->attempts++;
			job->flags |= JOB_RUNNING;
			job->flags &= ~(JOB_TIMEDOUT | JOB_CANCELLED);
			ops->submit(job);
		}
	}
}

/* The record of a final job, as the reporter wants it. */
static void
sched_record(const struct job *job, struct record *rec)
{
	const struct job_spec *spec = job->spec;

	memset(rec, 0, sizeof *rec);
	rec->id = spec != NULL ? spec->id : NULL;
	rec->seq = job->seq;
	rec->file = job->file;
	rec->line = job->line;
	rec->kind = spec != NULL ? spec->kindname : NULL;
	rec->executor = job->fut.res.status == ST_ERROR
			    ? NULL
			    : executor_name(job->ex);
	rec->res = &job->fut.res;
	rec->attempts = job->attempts;
	rec->elapsed = future_elapsed(&job->fut);
}

/* Free a job and everything it owns. */
static void
sched_free(struct job *job)
{
	future_free(&job->fut);
	free(job->spec);
	free(job);
}

/* A job's future has settled: write its record and let it go. */
static void
sched_settled(struct future *fut, void *arg)
{
	struct job *job = arg;
	struct record rec;

	(void)fut;
	if (job->fut.res.status != ST_OK)
		S.notok++;
	sched_record(job, &rec);
	report_write(&rec);
	sched_free(job);
	S.inflight--;
}

/* Make a new job for a sequence number; it owns spec (may be NULL). */
static struct job *
sched_new(struct job_spec *spec, const char *file, unsigned line)
{
	struct job *job = xcalloc(1, sizeof *job);

	job->spec = spec;
	job->seq = ++S.seq;
	job->file = file;
	job->line = line;
	job->timeout = -1;
	future_init(&job->fut, sched_settled, job);
	S.inflight++;
	if (S.inflight >= (size_t)S.opts->max_inflight && !S.input_paused) {
		S.input_paused = 1;
		input_pause(1);
	}
	return job;
}

/* Append s so that the job language reads it back as one token. */
static void
sched_quote(struct buf *b, const char *s)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    "_-+./:@,%^=";

	if (*s != '\0' && strspn(s, plain) == strlen(s)) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *s);
	}
	buf_addc(b, '\'');
}

/* Print the plan line of a job (dry run). */
static void
sched_plan(const struct job *job)
{
	const struct job_spec *spec = job->spec;
	struct buf b = BUF_INIT;

	if (spec->id != NULL)
		buf_adds(&b, spec->id);
	else
		buf_printf(&b, "%llu", (unsigned long long)job->seq);
	buf_printf(&b, " %s %s", executor_name(job->ex), spec->kind->name);
	for (int i = 0; i < spec->argc; i++) {
		buf_addc(&b, ' ');
		sched_quote(&b, spec->argv[i]);
	}
	if (job->timeout >= 0)
		buf_printf(&b, " timeout=%gs", job->timeout);
	if (spec->retries >= 0)
		buf_printf(&b, " retries=%d", spec->retries);
	if (spec->backoff >= 0) {
		buf_printf(&b, " backoff=%gs", spec->backoff);
		if (spec->backoff_max >= 0)
			buf_printf(&b, ":%gs", spec->backoff_max);
	}
	for (int i = 0; i < spec->nafter; i++)
		buf_printf(&b, "%s%s", i ? "," : " after=", spec->after[i]);
	if (spec->group != NULL)
		buf_printf(&b, " group=%s", spec->group);
	if (spec->on >= 0)
		buf_printf(&b, " on=%s", executor_name((enum executor)spec->on));
	buf_addc(&b, '\n');
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
}

/* A job line was read: queue it (spec is taken over). */
void
sched_add(struct job_spec *spec, const char *file, unsigned line)
{
	struct job *job = sched_new(spec, file, line);

	job->ex = spec->on >= 0 ? (enum executor)spec->on : spec->kind->executor;
	job->timeout = spec->timeout >= 0 ? spec->timeout : S.opts->timeout;
	if (S.opts->dry_run) {
		sched_plan(job);
		sched_free(job);
		S.inflight--;
		return;
	}
	queue_push(&S.q[sched_class(job)], job);
}

/* A line did not parse: it ends at once as an error record. spec, if not
 * NULL, holds what did parse (kind word, id) and is taken over. */
void
sched_add_error(struct job_spec *spec, const char *file, unsigned line,
		const char *msg)
{
	struct job *job = sched_new(spec, file, line);
	struct result res;

	if (S.opts->dry_run) {
		fprintf(stderr, "%s:%u: %s\n", file, line, msg);
		S.dry_run_bad++;
		sched_free(job);
		S.inflight--;
		return;
	}
	result_init(&res);
	res.status = ST_ERROR;
	result_error(&res, "%s", msg);
	future_settle(&job->fut, &res, ev_now(sched_loop));
}

/* The attempt's timeout fired: have the executor stop it. */
static void
sched_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *job = w->data;

	(void)loop, (void)revents;
	job->flags |= JOB_TIMEDOUT;
	ops_of[job->ex]->cancel(job);
}

/* The backoff delay before a retry has passed: queue the job again. */
static void
sched_backoff_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *job = w->data;

	(void)loop, (void)revents;
	queue_push(&S.q[sched_class(job)], job);
}

/* The executor has started an attempt. */
void
sched_attempt_started(struct job *job)
{
	double now = ev_now(sched_loop);

	if (job->fut.state == FUT_PENDING)
		future_start(&job->fut, now);
	if (job->timeout >= 0) {
		ev_timer_init(&job->timer, sched_timeout_cb, job->timeout, 0.);
		job->timer.data = job;
		ev_timer_start(sched_loop, &job->timer);
	}
}

/* Seconds to wait before retry number n (1-based): the base doubled per
 * retry, capped, plus 0-20% jitter. */
static double
sched_backoff(const struct job *job, int n)
{
	double base = job->spec->backoff >= 0 ? job->spec->backoff
					      : S.opts->backoff;
	double max = job->spec->backoff_max >= 0 ? job->spec->backoff_max
						 : S.opts->backoff_max;
	double d = base * ldexp(1.0, n - 1 > 60 ? 60 : n - 1);

	if (d > max)
		d = max;
	return d * (1.0 + 0.2 * ((double)rand() / ((double)RAND_MAX + 1)));
}

/* An attempt ended: retry, or settle the job's future. */
void
sched_attempt_done(struct job *job, struct result *res)
{
	int retries;

	ev_timer_stop(sched_loop, &job->timer);
	job->flags &= ~JOB_RUNNING;
	job->xdata = NULL;
	if (job->flags & JOB_CANCELLED) {
		res->status = ST_CANCELLED;
		result_error(res, "cancelled");
	} else if (job->flags & JOB_TIMEDOUT) {
		res->status = ST_TIMEOUT;
		result_error(res, "timed out after %gs", job->timeout);
	}
	retries = job->spec->retries >= 0 ? job->spec->retries
					  : S.opts->retries;
	if ((res->status == ST_FAILED || res->status == ST_TIMEOUT) &&
	    job->attempts <= retries) {
		result_free(res);
		ev_timer_init(&job->timer, sched_backoff_cb,
			      sched_backoff(job, job->attempts), 0.);
		job->timer.data = job;
		ev_timer_start(sched_loop, &job->timer);
		return;
	}
	future_settle(&job->fut, res, ev_now(sched_loop));
}

/* An executor has room again; the next prepare phase fills it. */
void
sched_kick(enum executor ex)
{
	(void)ex;
}

/* Once per loop iteration, before it blocks: start what has room, write
 * the records, manage input backpressure, and end the run when done. */
static void
sched_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)w, (void)revents;
	sched_dispatch();
	if (report_flush() == -1 && errno == EPIPE) {
		/* Nobody reads the records any more: stop cleanly. */
		input_stop();
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (S.input_paused && S.inflight < (size_t)S.opts->max_inflight) {
		S.input_paused = 0;
		input_pause(0);
	}
	if (S.inflight == 0 && input_done())
		ev_break(loop, EVBREAK_ALL);
}

/* Set the scheduler up on a loop. */
void
sched_init(struct ev_loop *loop, const struct corun_options *opts)
{
	memset(&S, 0, sizeof S);
	S.opts = opts;
	sched_loop = loop;
	ev_prepare_init(&S.prepare, sched_prepare_cb);
	ev_prepare_start(loop, &S.prepare);
}

/* Stop every executor. */
void
sched_shutdown(void)
{
	for (int ex = 0; ex < EX_COUNT; ex++)
		ops_of[ex]->shutdown();
	ev_prepare_stop(sched_loop, &S.prepare);
	report_flush();
}

/* The exit status of spec section 6 for what has run. */
int
sched_exit_status(void)
{
	if (S.dry_run_bad > 0)
		return 2;
	return S.notok > 0 ? 1 : 0;
}
