/*
 * pool_proc.c: the process pool, on the loop side (prefix ppool_): the
 * queue of tasks, dealing them to workers and reading their results.
 *
 * N worker slots (pool_slot.c gets each a worker from the fork server and
 * replaces it when it dies); each worker arrives as a pid and two pipes,
 * both non-blocking here and watched with ev_io. Tasks wait in the pool's
 * queue until a worker has room, then join that worker's FIFO: the FIFO's
 * head is the task the worker is running (the start callback fires when a
 * task becomes head), the others are sent and wait in the worker's pipe.
 * Results come back in order, so a result frame belongs to the head of its
 * FIFO.
 *
 * Batching: submits only queue (the pool accepts up to 64 tasks per
 * worker). An ev_prepare watcher, run once per loop iteration before the
 * loop blocks, deals queued tasks out and writes each worker's pending
 * frames with one write. Tasks go to the least loaded worker first, and a
 * worker takes at most min(64, 1 + queued / N), recomputed as the queue
 * drains, so a few long tasks spread over all workers (none waits behind
 * another while a worker is free or starting) while many trivial ones are
 * batched. Results are read in big chunks and every whole frame in them
 * handled.
 *
 * Pace: a task sent to a worker cannot be taken back, so a worker is dealt
 * only as much as it is seen to get through quickly. Each worker's mean
 * run time (a moving average of its results, each timed from when its
 * task became head to when its result was read) sets its window: as many
 * tasks as fit in PPOOL_BUDGET, at least 1, at most 64. A new worker has
 * run nothing yet and gets one task; a worker whose head has run longer
 * than the budget gets nothing more until it ends. So a long task holds up
 * only the tasks dealt with it while the worker still looked quick (none
 * when it comes first), and the other workers take the rest.
 * Partial reads and writes stay in per-worker buffers; a task record and
 * its encoded frame are recycled, so the hot path allocates nothing but
 * the value handed to the done callback.
 *
 * When a worker dies, the slot module hands its FIFO back (ppool_lost):
 * the head task fails with the worker's signal and the rest go back to the
 * front of the queue (those tasks never started). Cancelling a running
 * task kills its worker through the server and replaces it.
 *
 * The pool's own watchers never keep the loop alive by themselves; the pool
 * holds one loop reference while it holds tasks. Callbacks may re-enter
 * the pool (submit, cancel, even shutdown): every loop over pool state
 * re-checks the pool's epoch and the worker's generation after a callback.
 * Loop thread only.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"
#include "future.h"
#include "pool_proc.h"
#include "pool_slot.h"
#include "util.h"

#define PPOOL_WINDOW 64	      /* most tasks sent to one worker at once */
#define PPOOL_BUDGET 0.002    /* seconds of work one worker is dealt ahead */
#define PPOOL_KEEP_FRAME 4096 /* largest frame buffer kept for reuse */

static struct {
	bool on;
	struct ev_loop *loop;
	int n;
	struct pworker *w; /* the slots (pool_slot.c's) */
	ppool_start_fn start;
	ppool_done_fn done;
	struct ptask_list queue;  /* waiting for a worker */
	struct ptask_list reject; /* to fail at the next iteration */
	struct ptask_list spare;  /* recycled task records */
	size_t ntasks;		  /* every task held, on any list */
	bool holding;		  /* the loop reference for ntasks > 0 */
	uint64_t tag;
	unsigned epoch; /* bumped by shutdown */
	ev_prepare prep;
} pp;

static const char ppool_too_long[] = "process pool: job arguments too long";

/* Take or reuse a task record for ctx. */
static struct ptask *
ppool_task_new(void *ctx)
{
	struct ptask *t = ptask_pop(&pp.spare);

	if (t == NULL)
		t = xcalloc(1, sizeof *t);
	t->ctx = ctx;
	t->err = NULL;
	buf_reset(&t->frame);
	return t;
}

/* Release a task record (kept for reuse while the pool is up). */
static void
ppool_task_drop(struct ptask *t)
{
	if (!pp.on) {
		buf_free(&t->frame);
		free(t);
		return;
	}
	if (t->frame.cap > PPOOL_KEEP_FRAME)
		buf_free(&t->frame);
	TAILQ_INSERT_HEAD(&pp.spare.q, t, link);
	pp.spare.n++;
}

/* Free every task of a list without callbacks. */
static void
ppool_free_list(struct ptask_list *l)
{
	struct ptask *t;

	while ((t = ptask_pop(l)) != NULL) {
		buf_free(&t->frame);
		free(t);
	}
}

/* Hold the loop while tasks are held, and only then. */
static void
ppool_hold(void)
{
	bool want = pp.on && pp.ntasks > 0;

	if (want == pp.holding)
		return;
	pp.holding = want;
	if (want)
		ev_ref(pp.loop);
	else
		ev_unref(pp.loop);
}

/* Count tasks entering (d > 0) or leaving the pool. */
static void
ppool_count(long d)
{
	pp.ntasks = (size_t)((long)pp.ntasks + d);
	ppool_hold();
}

/* Tell done that ctx failed with msg (and the signal, if any);
 * unstarted: it never reached a worker (retry-on start). */
static void
ppool_fail_ctx(void *ctx, const char *msg, int sig, bool unstarted)
{
	struct result res;

	result_init(&res);
	res.status = ST_FAILED;
	res.signal = sig;
	res.unstarted = unstarted;
	result_error(&res, "%s", msg);
	pp.done(ctx, &res);
	result_free(&res);
}

/* Fail every task of a list (taken over) with msg (unstarted: as
 * ppool_fail_ctx). Stops if the pool is shut down by a callback; the
 * tasks left are then freed. */
static void
ppool_fail_list(struct ptask_list *l, const char *msg, bool unstarted)
{
	unsigned epoch = pp.epoch;
	struct ptask *t;

	while ((t = ptask_pop(l)) != NULL) {
		void *ctx = t->ctx;
		const char *why = t->err != NULL ? t->err : msg;

		ppool_count(-1);
		if (ctx != NULL)
			ppool_fail_ctx(ctx, why, 0, unstarted);
		ppool_task_drop(t);
		if (pp.epoch != epoch) {
			ppool_free_list(l);
			return;
		}
	}
}

/* Put the tasks of a FIFO that never started back at the front of the
 * queue, in order; cancelled ones are dropped. */
static void
ppool_requeue(struct ptask_list *fifo)
{
	struct ptask_list keep;
	struct ptask *t;

	ptask_list_init(&keep);
	while ((t = ptask_pop(fifo)) != NULL) {
		if (t->ctx != NULL) {
			ptask_push(&keep, t);
			continue;
		}
		ppool_count(-1);
		ppool_task_drop(t);
	}
	ptask_prepend(&pp.queue, &keep);
}

/* A worker died (wait status) holding fifo: fail its running task and
 * requeue the others. */
static void
ppool_lost(struct ptask_list *fifo, int status)
{
	struct ptask *head = ptask_pop(fifo);
	char why[96], msg[128];
	void *ctx = NULL;

	ppool_requeue(fifo);
	if (head == NULL)
		return;
	ctx = head->ctx;
	ppool_count(-1);
	ppool_task_drop(head);
	if (ctx == NULL)
		return;
	wait_describe(why, sizeof why, status);
	errfmt(msg, sizeof msg, "worker died: %s", why);
	ppool_fail_ctx(ctx, msg, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
		       false);
}

/* No worker is left or coming: fail every waiting task with why. */
static void
ppool_starved(const char *why)
{
	struct ptask_list q;

	ptask_list_init(&q);
	ptask_prepend(&q, &pp.queue);
	ppool_fail_list(&q, why, true);
}

/* The fork server is gone: fail the tasks of all, after the waiting ones. */
static void
ppool_down(struct ptask_list *all, const char *why)
{
	ptask_prepend(all, &pp.queue);
	ppool_fail_list(all, why, false);
}

/* Fill res from a decoded result frame. */
static void
ppool_result(struct result *res, const struct frame_result *fr)
{
	result_init(res);
	res->status = fr->ok ? ST_OK : ST_FAILED;
	res->truncated = fr->truncated;
	if (fr->vlen > 0 &&
	    buf_try_add(&res->value, fr->value, fr->vlen) == -1) {
		/* The value is the job's big allocation: fail the job. */
		res->status = ST_FAILED;
		result_error(res, "out of memory");
		return;
	}
	if (fr->elen > 0)
		result_error(res, "%.*s", (int)fr->elen, fr->error);
}

/* w's head task ended: fold its run time into w's pace; the next one is
 * head from now. */
static void
ppool_timed(struct pworker *w)
{
	double now = ev_now(pp.loop), ran = now - w->head_since;

	if (ran < 0)
		ran = 0;
	w->avg = w->nres == 0 ? ran : w->avg + (ran - w->avg) / 8;
	if (w->nres < UINT_MAX)
		w->nres++;
	w->head_since = now;
}

/* How many tasks w may hold, by its pace (see the design note). */
static size_t
ppool_pace(const struct pworker *w)
{
	double fit;

	if (w->nres == 0)
		return 1;
	if (w->fifo.n > 0 && ev_now(pp.loop) - w->head_since > PPOOL_BUDGET)
		return w->fifo.n;
	if (w->avg * PPOOL_WINDOW <= PPOOL_BUDGET)
		return PPOOL_WINDOW;
	fit = PPOOL_BUDGET / w->avg;
	return fit < 1 ? 1 : (size_t)fit;
}

/* Handle every whole result frame read from w. For each: the next task
 * starts (the worker went on to it), then the finished one is done. */
static void
ppool_results(struct pworker *w)
{
	unsigned epoch = pp.epoch, gen = w->gen;
	size_t pos = 0;

	for (;;) {
		struct frame f;
		struct frame_result fr;
		struct ptask *t;
		struct result res;
		void *ctx, *next;
		ssize_t n;

		n = frame_decode(w->in.data + pos, w->in.len - pos, &f);
		if (n == 0)
			break;
		t = TAILQ_FIRST(&w->fifo.q);
		if (n < 0 || f.type != FRAME_RESULT || t == NULL ||
		    f.tag != t->tag ||
		    frame_result_decode(f.payload, f.len, &fr) < 0) {
			pslot_broken(w);
			return;
		}
		pos += (size_t)n;
		ptask_pop(&w->fifo);
		ppool_timed(w);
		ctx = t->ctx;
		next = w->fifo.n > 0 ? TAILQ_FIRST(&w->fifo.q)->ctx : NULL;
		if (ctx != NULL)
			ppool_result(&res, &fr);
		ppool_count(-1);
		ppool_task_drop(t);
		if (next != NULL)
			pp.start(next);
		if (ctx != NULL) {
			pp.done(ctx, &res);
			result_free(&res);
		}
		if (pp.epoch != epoch || w->gen != gen)
			return;
	}
	buf_consume(&w->in, pos);
}

/* A worker's result pipe is readable: read a big chunk, handle it. */
static void
ppool_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct pworker *w = io->data;
	ssize_t r;

	(void)loop;
	(void)revents;
	buf_reserve(&w->in, IO_CHUNK);
	r = read(w->resfd, w->in.data + w->in.len, w->in.cap - w->in.len - 1);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		pslot_eof(w);
		return;
	}
	w->in.len += (size_t)r;
	w->in.data[w->in.len] = '\0';
	if (w->broken)
		buf_reset(&w->in);
	else
		ppool_results(w);
}

/* Write what is pending for w; watch for room if some is left. */
static void
ppool_flush(struct pworker *w)
{
	ssize_t r =
	    write(w->jobfd, w->out.data + w->outoff, w->out.len - w->outoff);

	if (r < 0 && errno != EAGAIN && errno != EINTR) {
		/* Gone: EOF on its result pipe will follow. */
		buf_reset(&w->out);
		w->outoff = 0;
		w->state = W_DYING;
	} else if (r > 0) {
		w->outoff += (size_t)r;
	}
	if (w->outoff == w->out.len) {
		buf_reset(&w->out);
		w->outoff = 0;
		if (ev_is_active(&w->wio))
			ev_io_stop(pp.loop, &w->wio);
	} else if (!ev_is_active(&w->wio)) {
		ev_io_start(pp.loop, &w->wio);
	}
}

/* A worker's job pipe has room again. */
static void
ppool_write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	ppool_flush(io->data);
}

/* How many tasks one worker may hold while waiting tasks remain. */
static size_t
ppool_window(size_t waiting)
{
	size_t win = 1 + waiting / (size_t)pp.n;

	return win < PPOOL_WINDOW ? win : PPOOL_WINDOW;
}

/* Deal one level: a task to each live worker holding exactly level tasks,
 * or (starting) one set aside for each worker still starting. Returns
 * false when dealing is over: the window is reached, the queue is empty
 * or the pool was shut down by a callback. */
static bool
ppool_deal(size_t level, bool starting, size_t *held)
{
	unsigned epoch = pp.epoch;

	for (int i = 0; i < pp.n; i++) {
		struct pworker *w = &pp.w[i];
		struct ptask *t;

		if (pp.queue.n <= *held ||
		    level >= ppool_window(pp.queue.n - *held))
			return false;
		if (starting) {
			/* A new worker's pace: one task. */
			if (w->state == W_SPAWNING && w->vfill == level &&
			    level == 0) {
				w->vfill++;
				(*held)++;
			}
			continue;
		}
		if (w->state != W_LIVE || w->fifo.n != level ||
		    level >= ppool_pace(w))
			continue;
		t = ptask_pop(&pp.queue);
		buf_add(&w->out, t->frame.data, t->frame.len);
		ptask_push(&w->fifo, t);
		if (level == 0) {
			w->head_since = ev_now(pp.loop);
			pp.start(t->ctx);
			if (pp.epoch != epoch)
				return false;
		}
	}
	return true;
}

/* Deal queued tasks out, least loaded worker first, level by level, while
 * the window allows. Workers still starting are dealt their share too,
 * which stays in the queue until they come, so the first worker up does
 * not take everything; live workers go first, so none idles while a task
 * waits for a worker still starting. */
static void
ppool_dispatch(void)
{
	size_t level = PPOOL_WINDOW, held = 0;

	if (pp.queue.n == 0)
		return;
	for (int i = 0; i < pp.n; i++) {
		struct pworker *w = &pp.w[i];

		w->vfill = 0;
		if (w->state == W_SPAWNING)
			level = 0;
		else if (w->state == W_LIVE && w->fifo.n < level)
			level = w->fifo.n;
	}
	for (; level < PPOOL_WINDOW; level++)
		if (!ppool_deal(level, false, &held) ||
		    !ppool_deal(level, true, &held))
			return;
}

/* Once per loop iteration, before it blocks: fail rejected tasks, deal
 * out queued ones and write every worker's frames at once. */
static void
ppool_prepare_cb(struct ev_loop *loop, ev_prepare *p, int revents)
{
	unsigned epoch = pp.epoch;
	struct ptask_list rej;

	(void)loop;
	(void)p;
	(void)revents;
	ptask_list_init(&rej);
	ptask_prepend(&rej, &pp.reject);
	ppool_fail_list(&rej, pslot_down(), true);
	if (pp.epoch != epoch)
		return;
	ppool_dispatch();
	if (pp.epoch != epoch)
		return;
	for (int i = 0; i < pp.n; i++) {
		struct pworker *w = &pp.w[i];

		if (w->state == W_LIVE && w->out.len > w->outoff &&
		    !ev_is_active(&w->wio))
			ppool_flush(w);
	}
}

/* Workers forked from now on run incr nice values below corun. */
void
ppool_set_nice(int incr)
{
	pslot_set_nice(incr);
}

/* Set the pool up; workers are asked for at the first submit. */
void
ppool_init(struct ev_loop *loop, int nworkers, ppool_start_fn start,
	   ppool_done_fn done)
{
	static const struct pslot_ops ops = {
	    ppool_read_cb, ppool_write_cb, ppool_lost,
	    ppool_starved, ppool_down,
	};
	unsigned epoch = pp.epoch;

	if (pp.on)
		fatalx("process pool set up twice");
	memset(&pp, 0, sizeof pp);
	pp.epoch = epoch;
	pp.on = true;
	pp.loop = loop;
	pp.n = nworkers > 0 ? nworkers : 1;
	pp.start = start;
	pp.done = done;
	ptask_list_init(&pp.queue);
	ptask_list_init(&pp.reject);
	ptask_list_init(&pp.spare);
	pp.w = pslot_init(loop, pp.n, &ops);
	ev_prepare_init(&pp.prep, ppool_prepare_cb);
	/* After the scheduler's prepare, which submits: what it queues in an
	 * iteration goes out in that iteration. */
	ev_set_priority(&pp.prep, EV_MINPRI);
	ev_prepare_start(loop, &pp.prep);
	ev_unref(loop);
}

/* Make sure the fork server runs (pool_slot.c says when that matters):
 * 0, or -1 with errno when it cannot be started. */
int
ppool_forksrv(void)
{
	return pslot_forksrv();
}

/* Whether the run may need the fork server. */
void
ppool_forksrv_maybe(int maybe)
{
	pslot_forksrv_maybe(maybe);
}

/* Before a thread: the fork server, if it may be needed. */
int
ppool_before_thread(void)
{
	return pslot_before_thread();
}

/* Room for one more task: fewer held than every window full. */
int
ppool_ready(void)
{
	return pp.on && pp.ntasks < (size_t)pp.n * PPOOL_WINDOW;
}

/* Queue a task; its frame is encoded now, so argv is not kept. */
void
ppool_submit(void *ctx, const struct kind *kind, int argc, char *const argv[])
{
	struct ptask *t;

	if (!pp.on)
		fatalx("process pool used before ppool_init");
	t = ppool_task_new(ctx);
	t->tag = ++pp.tag;
	if (frame_put_job(&t->frame, t->tag, (int)kind->id, argc, argv) < 0)
		t->err = ppool_too_long;
	else if (pslot_down() != NULL)
		t->err = pslot_down();
	if (t->err != NULL)
		ptask_push(&pp.reject, t);
	else
		ptask_push(&pp.queue, t);
	ppool_count(1);
	pslot_spawn_missing();
}

/* Find ctx on a list, or NULL. */
static struct ptask *
ppool_find(struct ptask_list *l, void *ctx)
{
	struct ptask *t;

	TAILQ_FOREACH(t, &l->q, link)
		if (t->ctx == ctx)
			return t;
	return NULL;
}

/* Stop ctx's task; see pool_proc.h. */
int
ppool_cancel(void *ctx)
{
	struct ptask_list *l = &pp.queue;
	struct ptask *t;

	if (!pp.on || ctx == NULL)
		return 0;
	t = ppool_find(l, ctx);
	if (t == NULL) {
		l = &pp.reject;
		t = ppool_find(l, ctx);
	}
	if (t != NULL) {
		ptask_remove(l, t);
		ppool_count(-1);
		ppool_task_drop(t);
		return 0;
	}
	for (int i = 0; i < pp.n; i++) {
		struct pworker *w = &pp.w[i];

		if ((t = ppool_find(&w->fifo, ctx)) == NULL)
			continue;
		if (t != TAILQ_FIRST(&w->fifo.q)) {
			t->ctx = NULL;
			return 0;
		}
		pslot_kill(w);
		ptask_pop(&w->fifo);
		ppool_count(-1);
		ppool_task_drop(t);
		ppool_requeue(&w->fifo);
		pslot_replace(w);
		return SIGKILL;
	}
	return 0;
}

/* Kill every worker and the fork server, reap them, free everything. No
 * callback runs; tasks still held are forgotten. */
void
ppool_shutdown(void)
{
	if (pp.on) {
		if (pp.holding)
			ev_unref(pp.loop);
		pp.holding = false;
		ev_ref(pp.loop);
		ev_prepare_stop(pp.loop, &pp.prep);
		for (int i = 0; i < pp.n; i++)
			ppool_free_list(&pp.w[i].fifo);
		ppool_free_list(&pp.queue);
		ppool_free_list(&pp.reject);
		ppool_free_list(&pp.spare);
		pp.w = NULL;
		pp.n = 0;
		pp.ntasks = 0;
		pp.on = false;
		pp.epoch++;
	}
	pslot_shutdown();
}

/* The pid of the worker running ctx, or 0 (for the unit tests). */
pid_t
ppool_worker_pid(const void *ctx)
{
	for (int i = 0; pp.on && i < pp.n; i++) {
		struct ptask *head = TAILQ_FIRST(&pp.w[i].fifo.q);

		if (head != NULL && head->ctx == ctx)
			return pp.w[i].pid;
	}
	return 0;
}

/* Worker replacements so far. */
unsigned long
ppool_replacements(void)
{
	return pslot_replacements();
}
