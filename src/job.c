/*
 * job.c: a job's life outside the state machine: how a line becomes a job,
 * what it waits for, and how it leaves as a record.
 *
 * A line read becomes a job with the next sequence number (job_new); its
 * id is registered and its after= references resolved (deps.c): it is
 * queued, waits on earlier jobs, or ends at once (a bad reference, a
 * duplicate id, --resume, a stopping run). A dry run prints its plan
 * instead. When a job's future settles, job_settled logs it, counts it,
 * releases the jobs waiting on it and writes its record: at once, or with
 * -k when every earlier one has been written. Then the job is freed, or,
 * for libcorun, handed to the program's final function.
 *
 * Jobs live in a table by sequence number until their record is written.
 * Of a job that is gone only its status is needed (for a later after=), and
 * only if it was not ok: the set of not-ok sequence numbers is all that
 * grows with a long stream, besides the explicit ids.
 *
 * The state machine (sched.c) and this file are one module sharing job.h;
 * nothing else sees a job. Threads: loop thread only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corun.h"
#include "deps.h"
#include "group.h"
#include "job.h"
#include "joblog.h"
#include "output.h"
#include "parse.h"
#include "plan.h"
#include "rawout.h"
#include "remote.h"
#include "report.h"
#include "sched.h"
#include "stats.h"
#include "table.h"

/* A job waiting for another to end (kept on the other job). */
struct waiter {
	uint64_t seq;
	STAILQ_ENTRY(waiter) link;
};

static struct {
	const struct corun_options *opts;
	struct u64tab live;  /* seq -> job, until its record is written */
	struct u64tab notok; /* seq -> status + 1 of gone jobs not ok */
	struct deps deps;    /* id -> seq, every explicit id */
	uint64_t seq;	     /* last sequence number given */
	uint64_t finished;   /* jobs written, handed to the API or
			      * dropped after their plan (dry run) */
	uint64_t next_write; /* -k: the next record to write */
	size_t inflight;     /* jobs read and not yet written */
	unsigned long notok_count;
	int dry_run_bad; /* dry run: lines that did not parse */
} J;

/* Start a run's jobs. */
void
job_init(const struct corun_options *opts)
{
	memset(&J, 0, sizeof J);
	J.opts = opts;
	J.next_write = 1;
	rawout_init(opts);
}

/* Every job read has ended, once: free the tables. */
void
job_shutdown(void)
{
	/* Every job read has ended, once (a second signal ended the rest
	 * before this). */
	SCHED_CHECK(J.finished == J.seq && J.inflight == 0);
	u64tab_free(&J.live);
	u64tab_free(&J.notok);
	deps_free(&J.deps);
	rawout_shutdown();
}

/* The live job numbered seq, or NULL. */
struct job *
job_get(uint64_t seq)
{
	return u64tab_get(&J.live, seq);
}

/* The last sequence number given. */
uint64_t
job_last(void)
{
	return J.seq;
}

/* The sequence numbers of the live jobs (malloc'ed, the caller frees). */
uint64_t *
job_live_seqs(size_t *n)
{
	uint64_t *seqs = xmalloc((J.live.len + 1) * sizeof *seqs);

	*n = 0;
	for (size_t i = 0; i < J.live.cap; i++)
		if (J.live.keys[i] != 0)
			seqs[(*n)++] = J.live.keys[i];
	return seqs;
}

/* The earlier job that a cancel reference of job seq names, or 0. */
uint64_t
job_resolve(const char *ref, uint64_t seq)
{
	return deps_resolve(&J.deps, ref, seq);
}

/* The exit status for what has run (corun(1), EXIT STATUS). */
int
sched_exit_status(void)
{
	if (sched_stop_signal() != 0)
		return 128 + sched_stop_signal();
	if (J.dry_run_bad > 0)
		return 2;
	return J.notok_count > 0 || output_failed() || sched_deadline_passed()
		   ? 1
		   : 0;
}

#ifdef CORUN_DEBUG
/* An invariant does not hold: say which and abort. */
void
job_broken(const char *what, const char *file, int line)
{
	fprintf(stderr, "corun: %s:%d: invariant broken: %s\n", file, line,
		what);
	abort();
}
#endif

/* Seconds from a job's reading to its first start (0 if it never
 * started). */
double
job_queued(const struct job *job)
{
	double q = job->fut.started - job->read_at;

	return job->fut.started > 0 && q > 0 ? q : 0;
}

/* The record of a final job, as the reporter wants it. */
static void
job_record(const struct job *job, struct record *rec)
{
	const struct job_spec *spec = job->spec;

	memset(rec, 0, sizeof *rec);
	rec->id = spec != NULL ? spec->id : NULL;
	rec->seq = job->seq;
	rec->file = job->file;
	rec->line = job->line;
	rec->kind = spec != NULL ? spec->kindname : NULL;
	rec->output = spec != NULL && spec->kind != NULL && spec->kind->output;
	rec->http = spec != NULL && spec->kind != NULL && spec->kind->http;
	rec->executor =
	    job->fut.res.status == ST_ERROR ? NULL : executor_name(job->ex);
	rec->res = &job->fut.res;
	rec->attempts = job->at.number;
	rec->elapsed = future_elapsed(&job->fut);
	rec->start = job->fut.started;
	if (rec->start > 0)
		rec->queued = job_queued(job);
	rec->resumed = (job->flags & JOB_RESUMED) != 0;
	rec->args = spec != NULL ? spec->args : NULL;
	rec->nargs = spec != NULL ? spec->nargs : 0;
}

static const char *job_text(const struct job *, struct buf *);

/* Write a final job's record and free it. */
static void
job_write(struct job *job)
{
	struct record rec;
	struct waiter *w;

	if (job->final == NULL) {
		struct buf text = BUF_INIT;

		job_record(job, &rec);
		if (rec.args != NULL)
			rec.command = job_text(job, &text);
		if (rawout_on())
			rawout_write(&rec, job->spec);
		else
			report_write(&rec);
		buf_free(&text);
	}
	if (job->fut.res.status != ST_OK)
		u64tab_put(&J.notok, job->seq,
			   (void *)(uintptr_t)(job->fut.res.status + 1));
	u64tab_del(&J.live, job->seq);
	while ((w = STAILQ_FIRST(&job->waiters)) != NULL) {
		STAILQ_REMOVE_HEAD(&job->waiters, link);
		free(w);
	}
	J.inflight--;
	J.finished++;
	if (job->final != NULL) {
		/* The program's: it frees the job (maybe in the callback). */
		job->flags |= JOB_WRITTEN;
		job->final(job, job->final_arg);
		return;
	}
	sched_job_free(job);
}

/* Seconds until the job's timer fires, or -1. */
double
sched_timer_remaining(const struct attempt *at)
{
	const struct job *job = job_of(at);

	if (!ev_is_active(&job->timer))
		return -1;
	return ev_timer_remaining(sched_loop, (ev_timer *)&job->timer);
}

/* corun --serve's STARTED: called when an attempt of a job submitted with a
 * final function starts. */
static sched_started_fn *started_fn;

/* Have fn called when an attempt of a job with a final function starts. */
void
sched_on_started(sched_started_fn *fn)
{
	started_fn = fn;
}

/* An attempt of job has started (sched.c): tell its program. */
void
job_started(struct job *job)
{
	if (job->final != NULL && started_fn != NULL)
		started_fn(job, job->final_arg);
}

/* Free a job that has left the scheduler. */
void
sched_job_free(struct job *job)
{
	future_free(&job->fut);
	free(job->spec);
	free(job->groups);
	sched_input_free(&job->input);
	free(job);
}

/* A job's result. */
const struct result *
sched_job_result(const struct job *job)
{
	return &job->fut.res;
}

/* A job's attempts so far. */
int
sched_job_attempts(const struct job *job)
{
	return job->at.number;
}

/* A job's seconds from its first start to its end (or to now). */
double
sched_job_elapsed(const struct job *job)
{
	return future_elapsed(&job->fut);
}

/* Write the records that are due: all of them, or with -k those whose
 * every predecessor has been written. */
static void
job_write_due(struct job *job)
{
	if (!J.opts->keep_order) {
		job_write(job);
		return;
	}
	for (;;) {
		job = u64tab_get(&J.live, J.next_write);
		if (job == NULL || job->state != JS_DONE)
			return;
		J.next_write++;
		job_write(job);
	}
}

/* Release a job's waiters: each has one dependency fewer, or is skipped
 * when this one did not end ok. */
static void
job_wake(struct job *job)
{
	int ok = job->fut.res.status == ST_OK;
	struct waiter *w;

	/* In input order: the order they were added. */
	while ((w = STAILQ_FIRST(&job->waiters)) != NULL) {
		struct job *j = u64tab_get(&J.live, w->seq);

		STAILQ_REMOVE_HEAD(&job->waiters, link);
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

/* The canonical line of a job (plan_line's, without its id and executor:
 * what --resume matches with the id), in b; NULL for a line that did not
 * parse. */
static const char *
job_text(const struct job *job, struct buf *b)
{
	const char *p;

	if (job->spec == NULL || job->spec->kind == NULL)
		return NULL;
	buf_reset(b);
	plan_line(b, "-", executor_name(job->ex), job->spec,
		  job->spec->timeout);
	p = strchr(b->data, ' ');
	p = strchr(p + 1, ' ');
	return p + 1;
}

/* A job's future has settled: log it, count it, release its waiters,
 * write its record when due. */
static void
job_settled(struct future *fut, void *arg)
{
	struct job *job = arg;
	enum job_status st = fut->res.status;

	job->state = JS_DONE;
	if (st != ST_OK)
		J.notok_count++;
	stats_settled(job->ex,
		      job->spec != NULL && job->spec->kind != NULL
			  ? job->spec->kind->name
			  : NULL,
		      st, job->at.number > 0, future_elapsed(&job->fut));
	if (!(job->flags & JOB_RESUMED) && J.opts->joblog != NULL) {
		struct record rec;
		struct buf text = BUF_INIT;
		job_record(job, &rec);
		joblog_write(&rec, job_text(job, &text));
		buf_free(&text);
	}
	job_wake(job);
	/* --fail-fast (corun(1)): failed, timeout or error stops the run; a job
	 * cancelled or skipped is a consequence, not a cause. */
	if ((st == ST_FAILED || st == ST_TIMEOUT || st == ST_ERROR) &&
	    J.opts->fail_fast && sched_run_state() == RUN_GOING)
		sched_stop(0);
	job_write_due(job);
}

/* Settle a job now with a status and a message. */
void
job_settle_now(struct job *job, enum job_status status, const char *why)
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
job_new(struct job_spec *spec, const char *file, unsigned line)
{
	struct job *job = xcalloc(1, sizeof *job);

	job->spec = spec;
	job->seq = ++J.seq;
	job->at.seq = job->seq;
	job->file = file;
	job->line = line;
	job->read_at = ev_now(sched_loop);
	job->state = JS_QUEUED;
	job->at.timeout = -1;
	snprintf(job->idbuf, sizeof job->idbuf, "%llu",
		 (unsigned long long)job->seq);
	job->at.id = job->idbuf;
	STAILQ_INIT(&job->waiters);
	future_init(&job->fut, job_settled, job);
	u64tab_put(&J.live, job->seq, job);
	J.inflight++;
	sched_inflight_grew();
	return job;
}

/* Print the plan line of a job (dry run). */
static void
job_plan(const struct job *job)
{
	struct buf b = BUF_INIT;

	plan_line(&b, job->at.id, executor_name(job->ex), job->spec,
		  job->at.timeout);
	buf_addc(&b, '\n');
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
}

/* Drop a job that never runs nor has a record (dry run). */
static void
job_discard(struct job *job)
{
	u64tab_del(&J.live, job->seq);
	sched_job_free(job);
	J.inflight--;
	J.finished++;
}

/* A line that cannot run: an error record, or in a dry run a message. */
static void
job_reject(struct job *job, const char *msg)
{
	if (J.opts->dry_run) {
		warn_at(job->file, job->line, msg);
		J.dry_run_bad++;
		job_discard(job);
		return;
	}
	job_settle_now(job, ST_ERROR, msg);
}

/* Wait for the after= jobs of a new job, or queue it. Returns with the
 * job queued, waiting, deferred (skipped) or settled (error). */
static void
job_depend(struct job *job)
{
	const struct job_spec *spec = job->spec;

	for (int i = 0; i < spec->nafter; i++) {
		const char *ref = spec->after[i];
		uint64_t d = deps_resolve(&J.deps, ref, job->seq);
		struct job *dep;
		char why[PARSE_MAX_ID + 64];

		if (d == 0) {
			snprintf(why, sizeof why,
				 "after: '%s' names no earlier job", ref);
			job_reject(job, why);
			return;
		}
		dep = u64tab_get(&J.live, d);
		if (dep != NULL && dep->state != JS_DONE) {
			struct waiter *w = xmalloc(sizeof *w);
			w->seq = job->seq;
			STAILQ_INSERT_TAIL(&dep->waiters, w, link);
			job->ndeps++;
			continue;
		}
		uintptr_t st = dep != NULL
				   ? (dep->fut.res.status == ST_OK
					  ? 0
					  : (uintptr_t)dep->fut.res.status + 1)
				   : (uintptr_t)u64tab_get(&J.notok, d);
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
job_file_relative(struct job_spec *spec, const char *file)
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
	sched_submit(spec, file, line, NULL, NULL);
}

static struct job *job_submit(struct job_spec *, const char *, unsigned,
			      sched_final_fn *, void *, struct buf *,
			      const struct feed_src *);

/* A --pipe block: a job whose standard input is input's bytes (spec and
 * input are taken over). */
void
sched_add_input(struct job_spec *spec, const char *file, unsigned line,
		struct buf *input)
{
	job_submit(spec, file, line, NULL, NULL, input, NULL);
}

/* A --pipe block of a regular file: a job whose standard input is len
 * bytes of fd from off (spec is taken over; fd stays the caller's). */
void
sched_add_input_file(struct job_spec *spec, const char *file, unsigned line,
		     int fd, off_t off, size_t len)
{
	struct feed_src range = {NULL, fd, off, len};

	job_submit(spec, file, line, NULL, NULL, NULL, &range);
}

/* Make a job of spec (taken over) and queue it, or settle it at once when
 * it cannot run. With final, the job has no record: final is called when
 * it is final. Returns it, or NULL in a dry run (it is gone then). */
struct job *
sched_submit(struct job_spec *spec, const char *file, unsigned line,
	     sched_final_fn *final, void *arg)
{
	return job_submit(spec, file, line, final, arg, NULL, NULL);
}

/* sched_submit, with input (NULL: none) taken over as the job's standard
 * input, or a range of a file (NULL: none) as it. */
static struct job *
job_submit(struct job_spec *spec, const char *file, unsigned line,
	   sched_final_fn *final, void *arg, struct buf *input,
	   const struct feed_src *range)
{
	struct job *job;
	const char *id;

	/* A template's paths are the command line's: relative to here. */
	if (spec->kind->file_relative && spec->args == NULL)
		spec = job_file_relative(spec, file);
	job = job_new(spec, file, line);
	if (input != NULL) {
		job->input = *input;
		*input = (struct buf)BUF_INIT;
		job->src = (struct feed_src){job->input.data, -1, 0,
					     job->input.len};
		job->at.input = &job->src;
	} else if (range != NULL) {
		job->src = *range;
		job->at.input = &job->src;
	}
	job->final = final;
	job->final_arg = arg;
	id = spec->id;

	job->ex =
	    spec->on >= 0 ? (enum executor)spec->on : spec->kind->executor;
	if (remote_takes(spec, job->at.input != NULL))
		job->flags |= JOB_REMOTE;
	job->at.spec = spec;
	job->at.ex = job->ex;
	job->at.timeout = spec->timeout >= 0 ? spec->timeout : J.opts->timeout;
	if (spec->group != NULL)
		job->ngroups = group_list(spec->group, &job->groups);
	if (id != NULL && deps_register(&J.deps, id, job->seq) == -1) {
		char why[PARSE_MAX_ID + 32];

		snprintf(why, sizeof why, "duplicate id '%s'", id);
		/* The record's id is its sequence number then. */
		spec->id = NULL;
		job_reject(job, why);
		return J.opts->dry_run ? NULL : job;
	}
	if (id != NULL)
		job->at.id = id;
	if (sched_run_state() != RUN_GOING) {
		job_settle_now(job, ST_CANCELLED, sched_stop_why());
		return job;
	}
	if (J.opts->dry_run) {
		char why[PARSE_MAX_ID + 64];

		if (deps_check_after(&J.deps, spec, job->seq, why,
				     sizeof why) == -1) {
			job_reject(job, why);
			return NULL;
		}
		job_plan(job);
		job_discard(job);
		return NULL;
	}
	if (J.opts->resume) {
		struct buf text = BUF_INIT;
		if (joblog_was_ok(job->at.id, job_text(job, &text)))
			job->flags |= JOB_RESUMED;
		buf_free(&text);
	}
	if (job->flags & JOB_RESUMED) {
		job_settle_now(job, ST_OK, NULL);
		return job;
	}
	job_depend(job);
	return job;
}

/* A line did not parse: it ends at once as an error record. spec, if not
 * NULL, holds what did parse (kind word, id) and is taken over. */
void
sched_add_error(struct job_spec *spec, const char *file, unsigned line,
		const char *msg)
{
	struct job *job = job_new(spec, file, line);

	/* Its id is its id= only if that is unique. */
	if (spec != NULL && spec->id != NULL &&
	    deps_register(&J.deps, spec->id, job->seq) == -1)
		spec->id = NULL;
	job_reject(job, msg);
}

/* Jobs final so far that were not ok. */
unsigned long
sched_notok(void)
{
	return J.notok_count;
}

/* Jobs read and not yet final (or, with -k, not yet written). */
size_t
sched_inflight(void)
{
	return J.inflight;
}

/* Jobs read so far. */
uint64_t
sched_read(void)
{
	return J.seq;
}
