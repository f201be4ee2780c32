/*
 * sched.c: the scheduler, one state machine per job.
 *
 *   waiting --(every after= job ended ok)--> queued
 *   waiting --(an after= job ended otherwise)--> final: skipped
 *   queued --(executor and group have room)--> running attempt N
 *   running --(attempt failed or timed out, retries left)--> backing off
 *   backing off --(delay passed)--> queued
 *   running --(attempt ended otherwise)--> final
 *   any state --(cancel ID, --fail-fast, a signal)--> final: cancelled
 *
 * A final job's record is written at once, or with -k when every earlier
 * job's has been; then the job is freed. Jobs live in a table by sequence
 * number until then; ids map to sequence numbers for the whole run. Of a
 * job that is gone only its status is needed (for a later after=), and
 * only if it was not ok: the set of not-ok sequence numbers is all that
 * grows with a long stream, besides the explicit ids.
 *
 * Queues are per slot class (loop timers, child processes, thread pool,
 * process pool) and are drained in the loop's prepare phase, once per
 * iteration: an executor that frees room, or an attempt that ends inside
 * submit(), never recurses into the scheduler, and many starts are batched
 * into one pass. The same pass settles jobs skipped or cancelled in bulk,
 * goes round again while that queued more jobs (so the loop never blocks
 * with a job that could start), and flushes the records written during
 * the iteration, so a reader sees each one before the loop blocks again.
 *
 * Threads: only the loop thread runs any of this. Memory: a job owns its
 * spec and its future's result; both go when its record has been written.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "corun.h"
#include "input.h"
#include "joblog.h"
#include "parse.h"
#include "report.h"
#include "sched.h"
#include "stats.h"
#include "table.h"

/*
 * Debug builds (--enable-debug, and the sanitizer builds) check the
 * promise at run time: a job is settled exactly once, and at the end every
 * job read has had its record (or, in a dry run, its plan). A broken
 * invariant aborts with its place, so the test suites fail loudly.
 */
#ifdef CORUN_DEBUG
#define SCHED_CHECK(c) ((c) ? (void)0 : sched_broken(#c, __FILE__, __LINE__))

/* An invariant does not hold: say which and abort. */
static void
sched_broken(const char *what, const char *file, int line)
{
	fprintf(stderr, "corun: %s:%d: invariant broken: %s\n", file, line,
		what);
	abort();
}
#else
#define SCHED_CHECK(c) ((void)(c))
#endif

/* Slot classes: the loop executor has two, timers and child processes,
 * so a sleep never waits behind an exec held back by -j. */
enum { Q_LOOP, Q_CHILD, Q_THREAD, Q_PROCESS, Q_COUNT };

/* Where a job is in its life. */
enum {
	JS_WAITING,  /* on after= jobs */
	JS_QUEUED,   /* in a class queue or a group queue */
	JS_RUNNING,  /* an attempt is with its executor */
	JS_BACKOFF,  /* between attempts */
	JS_PENDING,  /* to be settled by the next prepare phase (skipq) */
	JS_DONE,     /* final; its record waits for -k */
};

struct queue {
	struct job *head;
	struct job *tail;
	size_t len;
};

/* A --limit group: its jobs waiting for room, and how many run. */
struct group {
	const char *name;
	int limit;
	int running;
	struct queue wait;
};

/* A job waiting for another to end (kept on the other job). */
struct waiter {
	uint64_t seq;
	struct waiter *next;
};

static struct {
	const struct corun_options *opts;
	struct queue q[Q_COUNT];
	struct queue skipq;     /* jobs to settle as skipped or cancelled */
	struct group *groups;
	size_t ngroups;
	struct u64tab live;     /* seq -> job, until its record is written */
	struct u64tab notok;    /* seq -> status + 1 of gone jobs not ok */
	struct strtab ids;      /* id -> seq, every explicit id */
	ev_prepare prepare;
	ev_idle nudge;          /* one more iteration before blocking */
	ev_io output;           /* standard output, for its reader's end */
	ev_io drain;            /* standard output, for room (fd -1: none) */
	int output_lost;        /* records could not be written */
	ev_signal sigint;
	ev_signal sigterm;
	uint64_t seq;           /* last sequence number given */
	uint64_t finished;      /* jobs written, handed to the API or
				 * dropped after their plan (dry run) */
	uint64_t next_write;    /* -k: the next record to write */
	size_t inflight;        /* jobs read and not yet written */
	size_t running[EX_COUNT];
	unsigned long notok_count;
	int input_paused;
	int again;              /* jobs were queued or deferred: dispatch */
	struct job *canceller;  /* the cancel job running its action */
	int submitted;          /* jobs went to executors in this pass */
	int stopping;           /* cancelling everything: fail-fast/signal */
	int signal;             /* the signal that stopped the run */
	int dry_run_bad;        /* dry run: lines that did not parse */
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
	if (job->ex == EX_LOOP)
		return job->spec->kind->spawns ? Q_CHILD : Q_LOOP;
	return job->ex == EX_THREAD ? Q_THREAD : Q_PROCESS;
}

/* Append a job to a queue. */
static void
queue_push(struct queue *q, struct job *job)
{
	job->next = NULL;
	job->prev = q->tail;
	if (q->tail != NULL)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
	q->len++;
}

/* Put a job first in a queue. */
static void
queue_push_front(struct queue *q, struct job *job)
{
	job->prev = NULL;
	job->next = q->head;
	if (q->head != NULL)
		q->head->prev = job;
	else
		q->tail = job;
	q->head = job;
	q->len++;
}

/* Take a job out of a queue. */
static void
queue_remove(struct queue *q, struct job *job)
{
	if (job->prev != NULL)
		job->prev->next = job->next;
	else
		q->head = job->next;
	if (job->next != NULL)
		job->next->prev = job->prev;
	else
		q->tail = job->prev;
	job->prev = job->next = NULL;
	q->len--;
}

/* The options of the run. */
const struct corun_options *
sched_options(void)
{
	return S.opts;
}

/* Queue a job for its executor. */
static void
sched_enqueue(struct job *job)
{
	int c = sched_class(job);

	job->state = JS_QUEUED;
	queue_push(&S.q[c], job);
	stats_queue_depth(job->ex, S.q[c].len);
	S.again = 1;
}

/* Take a queued job out of whichever queue holds it. */
static void
sched_unqueue(struct job *job)
{
	if (job->flags & JOB_INGROUP) {
		queue_remove(&job->group->wait, job);
		job->flags &= ~JOB_INGROUP;
	} else {
		queue_remove(&S.q[sched_class(job)], job);
	}
}

/* Start the attempts their executors and groups have room for. */
static void
sched_dispatch(void)
{
	for (int c = 0; c < Q_COUNT; c++) {
		struct queue *q = &S.q[c];

		while (q->head != NULL) {
			struct job *job = q->head;
			const struct executor_ops *ops = ops_of[job->ex];
			struct group *g = job->group;

			if (!ops->ready(job))
				break;
			queue_remove(q, job);
			if (g != NULL && g->running >= g->limit) {
				job->flags |= JOB_INGROUP;
				queue_push(&g->wait, job);
				continue;
			}
			if (g != NULL)
				g->running++;
			job->attempts++;
			if (job->attempts > 1 && !(job->flags & JOB_REQUEUED))
				stats_retry();
			job->flags &= ~JOB_REQUEUED;
			job->state = JS_RUNNING;
			job->flags &= ~(JOB_TIMEDOUT | JOB_CANCELLED);
			S.running[job->ex]++;
			S.submitted = 1;
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
	rec->resumed = (job->flags & JOB_RESUMED) != 0;
}

/* Write a final job's record and free it. */
static void
sched_write(struct job *job)
{
	struct record rec;

	if (!(job->flags & JOB_API)) {
		sched_record(job, &rec);
		report_write(&rec);
	}
	if (job->fut.res.status != ST_OK)
		u64tab_put(&S.notok, job->seq,
			   (void *)(uintptr_t)(job->fut.res.status + 1));
	u64tab_del(&S.live, job->seq);
	while (job->waiters != NULL) {
		struct waiter *w = job->waiters;
		job->waiters = w->next;
		free(w);
	}
	S.inflight--;
	S.finished++;
	if (job->flags & JOB_API) {
		/* The program's: it frees the job (maybe in the callback). */
		job->flags |= JOB_WRITTEN;
		api_final(job);
		return;
	}
	sched_job_free(job);
}

/* Free a job that has left the scheduler. */
void
sched_job_free(struct job *job)
{
	future_free(&job->fut);
	free(job->spec);
	free(job->api);
	free(job);
}

/* Write the records that are due: all of them, or with -k those whose
 * every predecessor has been written. */
static void
sched_write_due(struct job *job)
{
	if (!S.opts->keep_order) {
		sched_write(job);
		return;
	}
	for (;;) {
		job = u64tab_get(&S.live, S.next_write);
		if (job == NULL || job->state != JS_DONE)
			return;
		S.next_write++;
		sched_write(job);
	}
}

/* Mark a job to be settled by the prepare phase (not from inside another
 * job's settlement, which would recurse along dependency chains). */
static void
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

/* Release a job's waiters: each has one dependency fewer, or is skipped
 * when this one did not end ok. */
static void
sched_wake(struct job *job)
{
	int ok = job->fut.res.status == ST_OK;
	struct waiter *rev = NULL;

	/* The list is newest first: release the waiters in input order. */
	while (job->waiters != NULL) {
		struct waiter *w = job->waiters;

		job->waiters = w->next;
		w->next = rev;
		rev = w;
	}
	while (rev != NULL) {
		struct waiter *w = rev;
		struct job *j = u64tab_get(&S.live, w->seq);

		rev = w->next;
		free(w);
		if (j == NULL || j->state != JS_WAITING)
			continue;
		if (!ok) {
			char why[PARSE_MAX_ID + 64];
			if (job->spec != NULL && job->spec->id != NULL)
				snprintf(why, sizeof why,
					 "dependency '%s' ended %s",
					 job->spec->id,
					 status_name(job->fut.res.status));
			else
				snprintf(why, sizeof why,
					 "dependency '%llu' ended %s",
					 (unsigned long long)job->seq,
					 status_name(job->fut.res.status));
			sched_defer(j, ST_SKIPPED, why);
		} else if (--j->ndeps == 0) {
			sched_enqueue(j);
		}
	}
}

static void sched_stop(int signo);

/* A job's future has settled: log it, count it, release its waiters,
 * write its record when due. */
static void
sched_settled(struct future *fut, void *arg)
{
	struct job *job = arg;
	enum job_status st = fut->res.status;

	job->state = JS_DONE;
	if (st != ST_OK)
		S.notok_count++;
	stats_settled(job->ex, st, job->attempts > 0,
		      future_elapsed(&job->fut));
	if (!(job->flags & JOB_RESUMED)) {
		struct record rec;
		sched_record(job, &rec);
		joblog_write(&rec, job->fut.started);
	}
	sched_wake(job);
	/* Spec section 2: failed, timeout or error stops the run; a job
	 * cancelled or skipped is a consequence, not a cause. */
	if ((st == ST_FAILED || st == ST_TIMEOUT || st == ST_ERROR) &&
	    S.opts->fail_fast && !S.stopping)
		sched_stop(0);
	sched_write_due(job);
}

/* Settle a job now with a status and a message. */
static void
sched_settle_now(struct job *job, enum job_status status, const char *why)
{
	struct result res;

	result_init(&res);
	res.status = status;
	if (why != NULL)
		result_error(&res, "%s", why);
	SCHED_CHECK(future_settle(&job->fut, &res, ev_now(sched_loop)) == 0);
}

/* Make a new job for the next sequence number; it owns spec (may be
 * NULL). It is live from now until its record is written. */
static struct job *
sched_new(struct job_spec *spec, const char *file, unsigned line)
{
	struct job *job = xcalloc(1, sizeof *job);

	job->spec = spec;
	job->seq = ++S.seq;
	job->file = file;
	job->line = line;
	job->timeout = -1;
	job->state = JS_QUEUED;
	future_init(&job->fut, sched_settled, job);
	u64tab_put(&S.live, job->seq, job);
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

/*
 * The sequence number that an after= or cancel reference names among the
 * jobs before seq: an explicit id, or a sequence number. 0 if none.
 */
static uint64_t
sched_resolve(const char *ref, uint64_t seq)
{
	long long n;
	uint64_t d;

	if (parse_count(ref, &n) == 0)
		return n > 0 && (uint64_t)n < seq ? (uint64_t)n : 0;
	/* The job's own id is registered already: it is not earlier. */
	d = strtab_get(&S.ids, ref);
	return d < seq ? d : 0;
}

/* The --limit group called name, or NULL. */
static struct group *
sched_group(const char *name)
{
	for (size_t i = 0; i < S.ngroups; i++)
		if (strcmp(S.groups[i].name, name) == 0)
			return &S.groups[i];
	return NULL;
}

/* Drop a job that never runs nor has a record (dry run). */
static void
sched_discard(struct job *job)
{
	u64tab_del(&S.live, job->seq);
	sched_job_free(job);
	S.inflight--;
	S.finished++;
}

/* A line that cannot run: an error record, or in a dry run a message. */
static void
sched_reject(struct job *job, const char *msg)
{
	if (S.opts->dry_run) {
		fprintf(stderr, "%s:%u: %s\n", job->file, job->line, msg);
		S.dry_run_bad++;
		sched_discard(job);
		return;
	}
	sched_settle_now(job, ST_ERROR, msg);
}

/* Wait for the after= jobs of a new job, or queue it. Returns with the
 * job queued, waiting, deferred (skipped) or settled (error). */
static void
sched_depend(struct job *job)
{
	const struct job_spec *spec = job->spec;

	for (int i = 0; i < spec->nafter; i++) {
		const char *ref = spec->after[i];
		uint64_t d = sched_resolve(ref, job->seq);
		struct job *dep;
		char why[PARSE_MAX_ID + 64];

		if (d == 0) {
			snprintf(why, sizeof why,
				 "after: '%s' names no earlier job", ref);
			sched_reject(job, why);
			return;
		}
		dep = u64tab_get(&S.live, d);
		if (dep != NULL && dep->state != JS_DONE) {
			struct waiter *w = xmalloc(sizeof *w);
			w->seq = job->seq;
			w->next = dep->waiters;
			dep->waiters = w;
			job->ndeps++;
			continue;
		}
		uintptr_t st = dep != NULL
				   ? (dep->fut.res.status == ST_OK
					  ? 0
					  : (uintptr_t)dep->fut.res.status + 1)
				   : (uintptr_t)u64tab_get(&S.notok, d);
		if (st != 0) {
			snprintf(why, sizeof why, "dependency '%s' ended %s",
				 ref, status_name((enum job_status)(st - 1)));
			sched_defer(job, ST_SKIPPED, why);
			return;
		}
	}
	if (job->ndeps > 0)
		job->state = JS_WAITING;
	else
		sched_enqueue(job);
}

/* A relative path argument of a job from a file, made relative to the
 * file's directory (spec is replaced). */
static struct job_spec *
sched_file_relative(struct job_spec *spec, const char *file)
{
	const char *slash = strrchr(file, '/');
	struct buf path = BUF_INIT;

	if (spec->argv[0][0] == '/' || strcmp(file, "-") == 0)
		return spec;
	if (slash != NULL)
		buf_add(&path, file, (size_t)(slash - file) + 1);
	else
		buf_adds(&path, "./");
	buf_adds(&path, spec->argv[0]);
	spec = parse_spec_set_arg(spec, 0, path.data);
	buf_free(&path);
	return spec;
}

/* A job line was read: check its id and dependencies and queue it (spec
 * is taken over). */
void
sched_add(struct job_spec *spec, const char *file, unsigned line)
{
	sched_submit(spec, file, line, 0);
}

/* Make a job of spec (taken over) with flags (JOB_API) and queue it, or
 * settle it at once when it cannot run. Returns it, or NULL in a dry run
 * (it is gone then). */
struct job *
sched_submit(struct job_spec *spec, const char *file, unsigned line,
	     unsigned flags)
{
	struct job *job;
	char idbuf[32];
	const char *id;

	if (spec->kind->file_relative)
		spec = sched_file_relative(spec, file);
	job = sched_new(spec, file, line);
	job->flags |= (unsigned short)flags;
	id = spec->id;

	job->ex = spec->on >= 0 ? (enum executor)spec->on : spec->kind->executor;
	job->timeout = spec->timeout >= 0 ? spec->timeout : S.opts->timeout;
	if (spec->group != NULL)
		job->group = sched_group(spec->group);
	if (id != NULL && strtab_add(&S.ids, id, job->seq) == -1) {
		char why[PARSE_MAX_ID + 32];

		snprintf(why, sizeof why, "duplicate id '%s'", id);
		/* The record's id is its sequence number then. */
		spec->id = NULL;
		sched_reject(job, why);
		return S.opts->dry_run ? NULL : job;
	}
	if (S.stopping) {
		sched_settle_now(job, ST_CANCELLED, "cancelled");
		return job;
	}
	if (S.opts->dry_run) {
		for (int i = 0; i < spec->nafter; i++) {
			if (sched_resolve(spec->after[i], job->seq) == 0) {
				char why[PARSE_MAX_ID + 64];
				snprintf(why, sizeof why,
					 "after: '%s' names no earlier job",
					 spec->after[i]);
				sched_reject(job, why);
				return NULL;
			}
		}
		sched_plan(job);
		sched_discard(job);
		return NULL;
	}
	if (id == NULL) {
		snprintf(idbuf, sizeof idbuf, "%llu",
			 (unsigned long long)job->seq);
		id = idbuf;
	}
	if (S.opts->resume && joblog_was_ok(id)) {
		job->flags |= JOB_RESUMED;
		sched_settle_now(job, ST_OK, NULL);
		return job;
	}
	sched_depend(job);
	return job;
}

/* A line did not parse: it ends at once as an error record. spec, if not
 * NULL, holds what did parse (kind word, id) and is taken over. */
void
sched_add_error(struct job_spec *spec, const char *file, unsigned line,
		const char *msg)
{
	struct job *job = sched_new(spec, file, line);

	/* Its id is its id= only if that is unique. */
	if (spec != NULL && spec->id != NULL &&
	    strtab_add(&S.ids, spec->id, job->seq) == -1)
		spec->id = NULL;
	sched_reject(job, msg);
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
	(void)loop, (void)revents;
	sched_enqueue(w->data);
}

/* The executor has started an attempt. */
void
sched_attempt_started(struct job *job)
{
	sched_attempt_started_at(job, ev_now(sched_loop));
}

/* The executor started an attempt at time when (ev_time's clock). */
void
sched_attempt_started_at(struct job *job, double when)
{
	if (job->fut.state == FUT_PENDING)
		future_start(&job->fut, when);
	if (job->timeout >= 0) {
		ev_timer_init(&job->timer, sched_timeout_cb, job->timeout, 0.);
		job->timer.data = job;
		ev_timer_start(sched_loop, &job->timer);
	}
}

/* The executor could not start the attempt: undo the dispatch. */
void
sched_attempt_requeue(struct job *job)
{
	SCHED_CHECK(job->state == JS_RUNNING);
	job->attempts--;
	job->flags |= JOB_REQUEUED;
	if (job->group != NULL)
		job->group->running--;
	S.running[job->ex]--;
	job->state = JS_QUEUED;
	queue_push_front(&S.q[sched_class(job)], job);
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
	return d * (1.0 + 0.2 * util_random());
}

/* Let a group's next waiting job back into its class queue. */
static void
sched_group_release(struct group *g)
{
	g->running--;
	if (g->wait.head != NULL) {
		struct job *next = g->wait.head;
		queue_remove(&g->wait, next);
		next->flags &= ~JOB_INGROUP;
		queue_push_front(&S.q[sched_class(next)], next);
		S.again = 1;
	}
}

/* An attempt ended: retry, or settle the job's future. */
void
sched_attempt_done(struct job *job, struct result *res)
{
	int retries;

	ev_timer_stop(sched_loop, &job->timer);
	S.running[job->ex]--;
	if (job->group != NULL)
		sched_group_release(job->group);
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
	    job->attempts <= retries && !S.stopping) {
		/* The record will carry the last attempt's result. */
		result_move(&job->fut.res, res);
		job->state = JS_BACKOFF;
		ev_timer_init(&job->timer, sched_backoff_cb,
			      sched_backoff(job, job->attempts), 0.);
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
sched_attempt_stopped(struct job *job, int signal)
{
	struct result res;

	result_init(&res);
	res.status = ST_FAILED;
	res.signal = signal;
	sched_attempt_done(job, &res);
}

/*
 * Cancel a job that is not final: settle it at once if it is not running
 * (with the last attempt's result replaced), or have its executor stop the
 * attempt. Returns 0, or -1 if it was already final.
 */
static int
sched_cancel(struct job *job)
{
	int stopping;

	switch (job->state) {
	case JS_WAITING:
		sched_defer(job, ST_CANCELLED, "cancelled");
		return 0;
	case JS_QUEUED:
		sched_unqueue(job);
		sched_defer(job, ST_CANCELLED, "cancelled");
		return 0;
	case JS_BACKOFF:
		ev_timer_stop(sched_loop, &job->timer);
		sched_defer(job, ST_CANCELLED, "cancelled");
		return 0;
	case JS_RUNNING:
		/* A cancel job whose action stopped the run (--fail-fast)
		 * ends on its own right after: nothing to stop. */
		if (job == S.canceller)
			return 0;
		/* An attempt already being stopped for its timeout ends
		 * cancelled too (no retry); the executor is asked once. */
		stopping = job->flags & (JOB_CANCELLED | JOB_TIMEDOUT);
		job->flags |= JOB_CANCELLED;
		if (!stopping)
			ops_of[job->ex]->cancel(job);
		return 0;
	default:
		return -1;
	}
}

/* Cancel a job for the library API: 0, or -1 if it was already final. */
int
sched_cancel_job(struct job *job)
{
	return sched_cancel(job);
}

/* The `cancel ID` kind: cancel a queued or running job. */
void
sched_cancel_start(struct job *job)
{
	const char *ref = job->spec->argv[0];
	uint64_t seq = sched_resolve(ref, job->seq);
	struct job *target = seq ? u64tab_get(&S.live, seq) : NULL;
	struct result res;
	int rc = -1;

	sched_attempt_started(job);
	result_init(&res);
	if (target != NULL && target != job) {
		/* The target may end at once and stop the run. */
		S.canceller = job;
		rc = sched_cancel(target);
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
	sched_attempt_done(job, &res);
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
static void
sched_stop(int signo)
{
	size_t n = 0;
	uint64_t *seqs;

	S.stopping = 1;
	if (signo != 0)
		S.signal = signo;
	input_stop();
	/* Cancelling changes the table: walk a copy of its keys. */
	seqs = xmalloc((S.live.len + 1) * sizeof *seqs);
	for (size_t i = 0; i < S.live.cap; i++)
		if (S.live.keys[i] != 0)
			seqs[n++] = S.live.keys[i];
	/* Latest first: a job waiting on another is cancelled before its
	 * dependency ends, so it ends cancelled, never skipped, whatever
	 * order the table keeps and whichever executor stops at once. */
	qsort(seqs, n, sizeof *seqs, sched_seq_cmp);
	for (size_t i = 0; i < n; i++) {
		struct job *job = u64tab_get(&S.live, seqs[i]);
		if (job != NULL)
			sched_cancel(job);
	}
	free(seqs);
}

/* SIGINT or SIGTERM: the first stops gracefully, the second at once. */
static void
sched_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (S.signal == 0) {
		sched_stop(w->signum);
		return;
	}
	/* Second signal: kill everything, write a cancelled record for
	 * every job that is not final, without waiting for anything. */
	child_kill_all();
	S.stopping = 2;
	ev_break(loop, EVBREAK_ALL);
}

/* Settle what sched_defer queued; settling may queue more. */
static void
sched_settle_deferred(void)
{
	struct job *job;

	while ((job = S.skipq.head) != NULL) {
		struct result res;

		queue_remove(&S.skipq, job);
		result_init(&res);
		result_move(&res, &job->fut.res);
		SCHED_CHECK(future_settle(&job->fut, &res, ev_now(sched_loop)) == 0);
	}
}

/* The records cannot be written any more (err: EPIPE when the reader is
 * gone, which needs no message): stop at once, as for a second signal. */
static void
sched_output_lost(int err)
{
	if (err != EPIPE && !S.output_lost)
		warnx("writing records: %s", strerror(err));
	S.output_lost = 1;
	if (!S.stopping)
		sched_stop(0);
	S.stopping = 2;
	ev_break(sched_loop, EVBREAK_ALL);
}

/* The reader of standard output (a pipe) has gone: epoll reports an error
 * on our end even while no record is due. */
static void
sched_output_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop, (void)revents;
	ev_io_stop(sched_loop, w);
	sched_output_lost(EPIPE);
}

/* Standard output can take more of the records that wait for it. */
static void
sched_drain_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	if (report_flush() == -1) {
		ev_io_stop(loop, w);
		sched_output_lost(errno);
	} else if (!report_pending()) {
		ev_io_stop(loop, w);
	}
}

/* Watch fd (standard output) when it is a pipe or socket: for room when
 * records wait for a slow reader, and, for a pipe, for the reader's end. */
void
sched_watch_output(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1 ||
	    !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	ev_io_init(&S.drain, sched_drain_cb, fd, EV_WRITE);
	if (!S_ISFIFO(st.st_mode))
		return;
	ev_io_init(&S.output, sched_output_cb, fd, EV_READ);
	ev_io_start(sched_loop, &S.output);
	/* It watches; it does not keep the run alive. */
	ev_unref(sched_loop);
}

/* Write what records the reader takes (off the progress line): 0, or -1
 * when the records are lost and the run is ending. */
static int
sched_flush(void)
{
	if (report_pending())
		stats_progress_clear();
	if (report_flush() == 0)
		return 0;
	sched_output_lost(errno);
	return -1;
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
	/* Records the reader has not taken yet: start nothing, read nothing,
	 * until it catches up (backpressure; the loop still serves signals
	 * meanwhile, and the drain watcher wakes it when there is room). */
	if (sched_flush() == -1)
		return;
	held = report_pending();
	S.submitted = 0;
	do {
		S.again = 0;
		sched_settle_deferred();
		if (!S.stopping && !held)
			sched_dispatch();
		sched_settle_deferred();
		if (S.input_paused && !held &&
		    S.inflight < (size_t)S.opts->max_inflight) {
			/* What is read may start now, or end at once (an
			 * error line, a resumed job) and leave room. */
			S.input_paused = 0;
			input_pause(0);
			S.again = 1;
		}
	} while (S.again);
	/* An executor may deal out what it was given in its own prepare
	 * phase, which may have run already in this iteration: do not
	 * block before the next one. */
	if (S.submitted)
		ev_idle_start(loop, &S.nudge);
	if (held && !S.input_paused) {
		S.input_paused = 1;
		input_pause(1);
	}
	if (sched_flush() == -1)
		return;
	if (report_pending() && S.drain.fd >= 0)
		ev_io_start(loop, &S.drain);
	if (S.inflight == 0 && input_done() && !report_pending())
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
	S.next_write = 1;
	ev_io_init(&S.drain, sched_drain_cb, -1, EV_WRITE);
	sched_loop = loop;
	S.ngroups = opts->nlimits;
	S.groups = xcalloc(S.ngroups, sizeof *S.groups);
	for (size_t i = 0; i < S.ngroups; i++) {
		S.groups[i].name = opts->limits[i].group;
		S.groups[i].limit = opts->limits[i].n;
	}
	ev_prepare_init(&S.prepare, sched_prepare_cb);
	ev_prepare_start(loop, &S.prepare);
	ev_idle_init(&S.nudge, sched_nudge_cb);
	if (opts->handle_signals && !opts->dry_run) {
		ev_signal_init(&S.sigint, sched_signal_cb, SIGINT);
		ev_signal_init(&S.sigterm, sched_signal_cb, SIGTERM);
		ev_signal_start(loop, &S.sigint);
		ev_signal_start(loop, &S.sigterm);
	}
}

/* After a second signal or a lost reader: every job that is not final
 * ends cancelled now, whatever its executor is doing. */
static void
sched_abandon(void)
{
	for (uint64_t seq = 1; seq <= S.seq && S.live.len > 0; seq++) {
		struct job *job = u64tab_get(&S.live, seq);

		if (job == NULL || job->state == JS_DONE)
			continue;
		if (job->state == JS_PENDING)
			queue_remove(&S.skipq, job);
		else if (job->state == JS_QUEUED)
			sched_unqueue(job);
		ev_timer_stop(sched_loop, &job->timer);
		job->state = JS_DONE;
		sched_settle_now(job, ST_CANCELLED, "cancelled");
	}
}

/* Stop every executor and write what is left. */
void
sched_shutdown(void)
{
	if (S.stopping == 2)
		sched_abandon();
	for (int ex = 0; ex < EX_COUNT; ex++)
		ops_of[ex]->shutdown();
	ev_prepare_stop(sched_loop, &S.prepare);
	ev_idle_stop(sched_loop, &S.nudge);
	if (ev_is_active(&S.output)) {
		ev_ref(sched_loop);
		ev_io_stop(sched_loop, &S.output);
	}
	ev_io_stop(sched_loop, &S.drain);
	ev_signal_stop(sched_loop, &S.sigint);
	ev_signal_stop(sched_loop, &S.sigterm);
	report_flush();
	/* Every job read has ended, once (a second signal ended the rest
	 * above). */
	SCHED_CHECK(S.finished == S.seq && S.inflight == 0);
	u64tab_free(&S.live);
	u64tab_free(&S.notok);
	strtab_free(&S.ids);
	free(S.groups);
}

/* Jobs final so far that were not ok. */
unsigned long
sched_notok(void)
{
	return S.notok_count;
}

/* Jobs running now on an executor. */
size_t
sched_running(enum executor ex)
{
	return S.running[ex];
}

/* Jobs read and not yet final (or, with -k, not yet written). */
size_t
sched_inflight(void)
{
	return S.inflight;
}

/* Cancel everything left (the library's runner is being freed). */
void
sched_cancel_all(void)
{
	if (!S.stopping)
		sched_stop(0);
}

/* Jobs read so far. */
uint64_t
sched_read(void)
{
	return S.seq;
}

/* The exit status of spec section 6 for what has run. */
int
sched_exit_status(void)
{
	if (S.signal != 0)
		return 128 + S.signal;
	if (S.dry_run_bad > 0 || input_failed())
		return 2;
	return S.notok_count > 0 || S.output_lost ? 1 : 0;
}
