/*
 * pool_thread.c: the thread pool (-T) that runs kinds' blocking calls.
 *
 * Design. One pool per process, N threads created together at the first
 * submit with every signal blocked (signals are the loop thread's business).
 * A submitted call becomes one task: a single allocation holding the task,
 * its argv array and the argument strings. The loop pushes it on the work
 * queue (mutex + condvar; the condvar is signalled only when a thread waits
 * on it). A thread pops it, runs its run function, fills the task's result, pushes
 * the task on the done queue and, when that queue was empty, wakes the loop
 * with ev_async_send (which coalesces and carries no data). The loop's
 * ev_async callback takes the whole done queue under one lock and hands each
 * result to the done function, then frees the task; calls submitted from
 * those done functions are queued together when the callback ends (one lock,
 * and no more condvar signals than there are waiting threads). A thread takes
 * the lock once per task: pushing a result and popping the next call share it.
 *
 * A task submitted while a thread is idle gets it at once: the start
 * function is called inside tpool_submit. A task may also wait in the work
 * queue behind the others (up to TPOOL_DEPTH per thread: the scheduler
 * does that for jobs without a timeout, which need no start on time, and so
 * keeps the threads busy without a loop round trip per call); its thread
 * notes when it took it, and the start function gets that time just before
 * the done function.
 *
 * Threads. Fields under "mu" are shared with the pool threads and only
 * touched with mu held. Everything else (busy and live counts, the list of
 * tasks in flight, a task's cancelled flag and list links) belongs to the
 * loop thread; a pool thread touches only its own task's result and queue
 * link, and only while it holds that task.
 *
 * Cancel and shutdown. A call cannot be interrupted. tpool_cancel of a call
 * no thread has taken yet marks it skipped: the thread that pops it drops
 * it. A call a thread is running is written off with its thread: the task
 * leaves the pool's books at once (its slot is free again), the thread is
 * detached and dropped from the pool's list, and a new thread is created
 * in its place, so a call blocked for good (a read of a FIFO nobody
 * writes) never takes a thread from later jobs. A written-off thread frees
 * its task and itself when its call returns, sends nothing, and exits; if
 * the call never returns, the process exits without it. When no thread can
 * be created in its place the pool runs with the threads it still has;
 * with none, the next submit tries again. The ev_async watcher holds a
 * reference on the loop only while a call that is not cancelled is in
 * flight. tpool_shutdown stops the watcher, tells the threads to stop,
 * joins those that are idle (they exit at once) and writes off the busy
 * ones the same way. The pool struct is reference-counted (the loop's
 * reference plus one per live thread); the last one out frees it. The pool
 * may be shut down from inside a done function and initialised again
 * afterwards.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "future.h"
#include "corun.h"
#include "pool_thread.h"
#include "util.h"

/* Calls queued per thread at most (busy ones included). */
#define TPOOL_DEPTH 64

/* Room for a run function's one-line error message. */
#define TPOOL_ERRLEN 512

struct tpool_task {
	STAILQ_ENTRY(tpool_task) qlink; /* batch (loop), work or done (mu) */
	LIST_ENTRY(tpool_task) flight;	/* tasks in flight: loop thread only */
	void *ctx;
	kind_run_fn run;
	bool cancelled; /* loop thread only */
	bool announced; /* start was called at submit; loop thread only */
	bool skip;      /* cancelled before a thread took it; under mu */
	struct tpool_thread *owner; /* the thread running it; under mu */
	double started; /* when a thread took it (ev_time), written by it */
	int argc;
	struct result res; /* written by the thread running it */
	char *argv[];	   /* argc + 1 pointers, then the strings */
};

STAILQ_HEAD(tpool_queue, tpool_task);

struct tpool_thread {
	LIST_ENTRY(tpool_thread) link; /* the pool's threads: loop thread */
	struct tpool *pool;
	pthread_t tid;
	bool running; /* holds a task; under mu */
	bool abandon; /* written off: detached, frees itself; under mu */
};

struct tpool {
	struct ev_loop *loop;
	ev_async async;
	tpool_start_fn start;
	tpool_done_fn done;
	int nthreads;		     /* slots: threads wanted */
	int nlive;		     /* threads created and not written off */
	int busy;		     /* tasks submitted and not yet collected */
	int live;		     /* of those, the ones not cancelled */
	LIST_HEAD(, tpool_task) inflight; /* every busy task, for cancel */
	bool collecting;	     /* inside tpool_async_cb */
	ev_prepare flush;	     /* hands the batch to the threads */
	struct tpool_queue batch; /* submitted, not yet queued */
	int nbatch;
	LIST_HEAD(, tpool_thread) threads; /* not written off: loop thread */

	pthread_mutex_t mu;
	pthread_cond_t cond; /* work arrived, or stopping */
	struct tpool_queue work; /* under mu */
	struct tpool_queue finished; /* under mu */
	int nwait;     /* threads waiting on cond; under mu */
	int refs;      /* loop + live threads; under mu */
	bool stopping; /* under mu */
};

static struct tpool *tp;
/* Bumped by every shutdown, so a callback can tell it happened under it. */
static unsigned long tpool_generation;

/* Free a task and the result it still holds. */
static void
tpool_task_free(struct tpool_task *t)
{
	result_free(&t->res);
	free(t);
}

/* Free every task of a queue (left empty). */
static void
tpool_queue_free(struct tpool_queue *q)
{
	struct tpool_task *t;

	while ((t = STAILQ_FIRST(q)) != NULL) {
		STAILQ_REMOVE_HEAD(q, qlink);
		tpool_task_free(t);
	}
}

/* Release the pool itself once nothing refers to it. */
static void
tpool_free(struct tpool *p)
{
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* Drop one reference to p (mu not held); the last one frees it. */
static void
tpool_unref(struct tpool *p)
{
	bool last;

	pthread_mutex_lock(&p->mu);
	last = --p->refs == 0;
	pthread_mutex_unlock(&p->mu);
	if (last)
		tpool_free(p);
}

/* Run a task's call in the current thread and fill in its result. */
static void
tpool_run(struct tpool_task *t)
{
	char err[TPOOL_ERRLEN];

	err[0] = '\0';
	if (t->run(t->argc, t->argv, &t->res.value, err, sizeof err) ==
	    0) {
		t->res.status = ST_OK;
		/* The same cap as a worker's or a child's value. */
		if (t->res.value.len > CORUN_OUTPUT_CAP) {
			t->res.value.len = CORUN_OUTPUT_CAP;
			t->res.value.data[CORUN_OUTPUT_CAP] = '\0';
			t->res.truncated = true;
		}
		return;
	}
	err[sizeof err - 1] = '\0';
	t->res.status = ST_FAILED;
	t->res.error = xstrdup(err);
}

/* A pool thread: take calls from the work queue until the pool stops. */
static void *
tpool_thread_main(void *arg)
{
	struct tpool_thread *th = arg;
	struct tpool *p = th->pool;
	struct tpool_task *t;
	bool skip;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (STAILQ_EMPTY(&p->work) && !p->stopping) {
			p->nwait++;
			pthread_cond_wait(&p->cond, &p->mu);
			p->nwait--;
		}
		if (p->stopping)
			break;
		t = STAILQ_FIRST(&p->work);
		STAILQ_REMOVE_HEAD(&p->work, qlink);
		th->running = true;
		skip = t->skip;
		if (!skip)
			t->owner = th;
		pthread_mutex_unlock(&p->mu);

		t->started = ev_time();
		if (!skip)
			tpool_run(t);

		pthread_mutex_lock(&p->mu);
		th->running = false;
		t->owner = NULL;
		if (th->abandon || p->stopping) {
			/* Written off: nobody will collect it. */
			tpool_task_free(t);
			break;
		}
		bool wake = STAILQ_EMPTY(&p->finished);
		STAILQ_INSERT_TAIL(&p->finished, t, qlink);
		if (wake)
			ev_async_send(p->loop, &p->async);
	}
	bool last = --p->refs == 0;
	bool own = th->abandon;
	pthread_mutex_unlock(&p->mu);
	if (own)
		free(th);
	if (last)
		tpool_free(p);
	return NULL;
}

/* Create threads, each with every signal blocked, until nthreads are
 * live. When only some can be created the pool runs with those; when none
 * is live, -1 is returned with errno set (the next submit tries again). */
static int
tpool_spawn(struct tpool *p)
{
	sigset_t all, old;
	int rc = 0;

	sigfillset(&all);
	/* Fails only for a bad first argument. */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (p->nlive < p->nthreads) {
		struct tpool_thread *th = xcalloc(1, sizeof *th);

		th->pool = p;
		pthread_mutex_lock(&p->mu);
		p->refs++;
		pthread_mutex_unlock(&p->mu);
		rc = pthread_create(&th->tid, NULL, tpool_thread_main, th);
		if (rc != 0) {
			pthread_mutex_lock(&p->mu);
			p->refs--;
			pthread_mutex_unlock(&p->mu);
			free(th);
			break;
		}
		LIST_INSERT_HEAD(&p->threads, th, link);
		p->nlive++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->nlive == 0) {
		errno = rc;
		return -1;
	}
	p->nthreads = p->nlive;
	return 0;
}

/* Move the n tasks of q (left empty) to the work queue and wake up to n
 * waiting threads. The condvar is signalled after the unlock, so a woken
 * thread does not block on mu at once; no work is left behind, because a
 * thread waits only when it found the queue empty, and a busy one looks
 * again when its call returns. */
static void
tpool_push(struct tpool *p, struct tpool_queue *q, int n)
{
	int wake;

	pthread_mutex_lock(&p->mu);
	STAILQ_CONCAT(&p->work, q);
	wake = n < p->nwait ? n : p->nwait;
	pthread_mutex_unlock(&p->mu);
	while (wake-- > 0)
		pthread_cond_signal(&p->cond);
}

/* No thread is left and none can be created (err): fail every call
 * queued or submitted, reported from the loop as if a thread had run it. */
static void
tpool_fail_queued(struct tpool *p, int err)
{
	struct tpool_queue q;
	struct tpool_task *t;

	STAILQ_INIT(&q);
	pthread_mutex_lock(&p->mu);
	STAILQ_CONCAT(&q, &p->work);
	pthread_mutex_unlock(&p->mu);
	STAILQ_CONCAT(&q, &p->batch);
	p->nbatch = 0;
	STAILQ_FOREACH(t, &q, qlink) {
		t->started = ev_now(p->loop);
		t->res.status = ST_FAILED;
		t->res.unstarted = true;
		result_error(&t->res, "cannot start a thread: %s",
			     strerror(err));
	}
	pthread_mutex_lock(&p->mu);
	STAILQ_CONCAT(&p->finished, &q);
	pthread_mutex_unlock(&p->mu);
	ev_async_send(p->loop, &p->async);
}

/* Hand the calls submitted and not yet queued to the threads. */
static void
tpool_flush(struct tpool *p)
{
	if (STAILQ_EMPTY(&p->batch))
		return;
	if (p->nlive == 0 && tpool_spawn(p) == -1) {
		tpool_fail_queued(p, errno);
		return;
	}
	tpool_push(p, &p->batch, p->nbatch);
	p->nbatch = 0;
}

/* One fewer call that keeps the loop running. */
static void
tpool_live_dec(struct tpool *p)
{
	if (--p->live == 0)
		ev_unref(p->loop);
}

/* Loop side: hand every finished call's result to the done function. */
static void
tpool_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct tpool *p = w->data;
	struct tpool_queue done;
	struct tpool_task *t;
	unsigned long gen = tpool_generation;

	(void)loop;
	(void)revents;
	p->collecting = true;
	STAILQ_INIT(&done);
	pthread_mutex_lock(&p->mu);
	STAILQ_CONCAT(&done, &p->finished);
	pthread_mutex_unlock(&p->mu);

	while ((t = STAILQ_FIRST(&done)) != NULL) {
		STAILQ_REMOVE_HEAD(&done, qlink);
		LIST_REMOVE(t, flight);
		p->busy--;
		if (!t->cancelled) {
			tpool_live_dec(p);
			if (!t->announced && p->start != NULL)
				p->start(t->ctx, t->started);
			p->done(t->ctx, &t->res);
		}
		tpool_task_free(t);
		if (tpool_generation != gen) {
			/* Shut down from inside done: p may be gone. */
			tpool_queue_free(&done);
			return;
		}
	}
	p->collecting = false;
	tpool_flush(p);
}

/* Loop side, before it blocks: queue what was submitted meanwhile. Its
 * priority puts it after the scheduler's prepare, which submits. */
static void
tpool_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop, (void)revents;
	tpool_flush(w->data);
}

/* Create the pool for loop with nthreads threads (started at the first
 * submit); start and done are called on the loop thread. 0, or -1 with
 * errno. */
int
tpool_init(struct ev_loop *loop, int nthreads, tpool_start_fn start,
	   tpool_done_fn done)
{
	struct tpool *p;
	int rc;

	if (tp != NULL)
		fatalx("thread pool initialised twice");
	if (nthreads < 1)
		fatalx("thread pool needs at least one thread");
	p = xcalloc(1, sizeof *p);
	p->loop = loop;
	p->start = start;
	p->done = done;
	p->nthreads = nthreads;
	STAILQ_INIT(&p->work);
	STAILQ_INIT(&p->finished);
	STAILQ_INIT(&p->batch);
	LIST_INIT(&p->inflight);
	LIST_INIT(&p->threads);
	p->refs = 1;
	rc = pthread_mutex_init(&p->mu, NULL);
	if (rc == 0 && (rc = pthread_cond_init(&p->cond, NULL)) != 0)
		pthread_mutex_destroy(&p->mu);
	if (rc != 0) {
		free(p);
		errno = rc;
		return -1;
	}
	ev_async_init(&p->async, tpool_async_cb);
	p->async.data = p;
	ev_prepare_init(&p->flush, tpool_flush_cb);
	p->flush.data = p;
	ev_set_priority(&p->flush, EV_MINPRI);
	ev_prepare_start(loop, &p->flush);
	ev_unref(loop); /* it serves calls; it does not keep the loop */
	ev_async_start(loop, &p->async);
	ev_unref(loop);
	tp = p;
	return 0;
}

/* Threads neither busy nor reserved by a submit; 0 without a pool. */
int
tpool_idle(void)
{
	if (tp == NULL || tp->busy >= tp->nthreads)
		return 0;
	return tp->nthreads - tp->busy;
}

/* Calls that may still be submitted, queued or not; 0 without a pool. */
int
tpool_room(void)
{
	if (tp == NULL)
		return 0;
	return tp->nthreads * TPOOL_DEPTH - tp->busy;
}

/* Run run(argc, argv) in a thread for ctx; the arguments are copied.
 * The caller must have checked tpool_room() > 0. start(ctx, when) is called
 * before this returns if a thread was idle, else just before done(ctx, res),
 * later, from the loop. */
void
tpool_submit(void *ctx, kind_run_fn run, int argc, char *const argv[])
{
	struct tpool *p = tp;
	struct tpool_task *t;
	size_t size, ptrs;
	char *s;
	int spawn_errno = 0;

	if (p == NULL || p->busy >= p->nthreads * TPOOL_DEPTH)
		fatalx("thread pool: submit without room");
	if (p->nlive == 0 && tpool_spawn(p) == -1)
		spawn_errno = errno;

	ptrs = sizeof(char *) * ((size_t)argc + 1);
	size = sizeof *t + ptrs;
	for (int i = 0; i < argc; i++)
		size += strlen(argv[i]) + 1;
	t = xmalloc(size);
	t->ctx = ctx;
	t->run = run;
	t->cancelled = false;
	t->skip = false;
	t->owner = NULL;
	t->announced = p->busy < p->nthreads;
	t->started = 0;
	t->argc = argc;
	result_init(&t->res);
	s = (char *)t->argv + ptrs;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;

		memcpy(s, argv[i], n);
		t->argv[i] = s;
		s += n;
	}
	t->argv[argc] = NULL;

	LIST_INSERT_HEAD(&p->inflight, t, flight);
	p->busy++;
	if (p->live++ == 0)
		ev_ref(p->loop);

	if (spawn_errno != 0) {
		/* No thread: the call fails, reported from the loop as if a
		 * thread had run it. */
		t->announced = false;
		t->started = ev_now(p->loop);
		t->res.status = ST_FAILED;
		t->res.unstarted = true;
		result_error(&t->res, "cannot start a thread: %s",
			     strerror(spawn_errno));
		pthread_mutex_lock(&p->mu);
		STAILQ_INSERT_TAIL(&p->finished, t, qlink);
		pthread_mutex_unlock(&p->mu);
		ev_async_send(p->loop, &p->async);
		return;
	}
	/* Queued with the others submitted in this loop iteration, at the
	 * end of tpool_async_cb or in the prepare phase: one lock, and no
	 * more condvar signals than threads waiting. */
	STAILQ_INSERT_TAIL(&p->batch, t, qlink);
	p->nbatch++;
	if (t->announced && p->start != NULL)
		p->start(ctx, ev_now(p->loop));
}

/* Write off th, whose call was cancelled: it is detached and leaves the
 * pool's list; it frees itself when its call returns. mu held. */
static void
tpool_write_off(struct tpool *p, struct tpool_thread *th)
{
	th->abandon = true;
	LIST_REMOVE(th, link);
	p->nlive--;
	pthread_detach(th->tid);
}

/* Forget ctx's call: done is never called for it. A call no thread has
 * taken is dropped; a running one is written off with its thread, and a
 * new thread takes that thread's place. No effect if ctx has no call in
 * flight. */
void
tpool_cancel(void *ctx)
{
	struct tpool *p = tp;
	struct tpool_task *t;
	bool running = false;

	if (p == NULL)
		return;
	LIST_FOREACH(t, &p->inflight, flight) {
		if (t->ctx == ctx && !t->cancelled)
			break;
	}
	if (t == NULL)
		return;
	t->cancelled = true;
	tpool_live_dec(p);
	pthread_mutex_lock(&p->mu);
	if (t->owner != NULL) {
		/* The thread frees the task; the pool forgets both. */
		tpool_write_off(p, t->owner);
		running = true;
	} else {
		/* Not run at all if no thread has taken it yet. */
		t->skip = true;
	}
	pthread_mutex_unlock(&p->mu);
	if (!running)
		return;
	LIST_REMOVE(t, flight);
	p->busy--;
	/* Fails only when no thread can be created: then fewer serve. */
	if (tpool_spawn(p) == -1)
		tpool_fail_queued(p, errno);
}

/* Stop the pool: idle threads exit (and are joined), busy ones are left to
 * finish their call and exit on their own; queued and finished tasks are
 * freed without calling done. */
void
tpool_shutdown(void)
{
	struct tpool *p = tp;
	struct tpool_queue work, done;
	struct tpool_thread *th, *next;

	if (p == NULL)
		return;
	tp = NULL;
	tpool_generation++;
	if (p->live == 0)
		ev_ref(p->loop);
	ev_async_stop(p->loop, &p->async);
	ev_ref(p->loop);
	ev_prepare_stop(p->loop, &p->flush);

	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	STAILQ_INIT(&work);
	STAILQ_INIT(&done);
	STAILQ_CONCAT(&work, &p->work);
	STAILQ_CONCAT(&done, &p->finished);
	for (th = LIST_FIRST(&p->threads); th != NULL; th = next) {
		next = LIST_NEXT(th, link);
		if (th->running)
			tpool_write_off(p, th);
	}
	pthread_mutex_unlock(&p->mu);

	tpool_queue_free(&work);
	tpool_queue_free(&done);
	tpool_queue_free(&p->batch);
	/* Only idle threads are left: they exit at once. */
	while ((th = LIST_FIRST(&p->threads)) != NULL) {
		LIST_REMOVE(th, link);
		pthread_join(th->tid, NULL);
		free(th);
	}
	tpool_unref(p);
}
