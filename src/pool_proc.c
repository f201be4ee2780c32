/*
 * pool_proc.c: the process pool, on the loop side (prefix ppool_).
 *
 * N worker slots. At the first submit the pool asks the fork server
 * (forksrv.c) for N workers; each arrives as a pid and two pipes, both
 * non-blocking here and watched with ev_io. Tasks wait in the pool's queue
 * until a worker has room, then join that worker's FIFO: the FIFO's head is
 * the task the worker is running (the start callback fires when a task
 * becomes head), the others are sent and wait in the worker's pipe. Results
 * come back in order, so a result frame belongs to the head of its FIFO.
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
 * Partial reads and writes stay in per-worker buffers; a task record and
 * its encoded frame are recycled, so the hot path allocates nothing but
 * the value handed to the done callback.
 *
 * A worker's death is known from two events that come in either order:
 * end of file on its result pipe (every result it wrote has been read by
 * then) and the server's FS_EXITED report (the wait status). With both in,
 * the head task fails with the worker's signal, the rest of the FIFO goes
 * back to the front of the queue (those tasks never started) and a
 * replacement is requested. Cancelling a running task kills its worker
 * through the server, which signals only a pid it has not reaped.
 *
 * The pool's own watchers never keep the loop alive by themselves; the pool
 * holds one loop reference while it holds tasks. Callbacks may re-enter
 * the pool (submit, cancel, even shutdown): every loop over pool state
 * re-checks the pool's epoch and the worker's generation after a callback.
 * Loop thread only.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forksrv.h"
#include "frame.h"
#include "future.h"
#include "pool_proc.h"
#include "util.h"

#define PPOOL_WINDOW 64	      /* most tasks sent to one worker at once */
#define PPOOL_KEEP_FRAME 4096 /* largest frame buffer kept for reuse */

struct ptask {
	struct ptask *next;
	void *ctx; /* NULL: cancelled once sent; its result is dropped */
	uint64_t tag;
	const char *err;  /* set: fail it without running (why) */
	struct buf frame; /* the encoded job, kept to send it again */
};

struct ptask_list {
	struct ptask *head, *tail;
	size_t n;
};

enum wstate {
	W_EMPTY,    /* no process, none asked for */
	W_SPAWNING, /* asked the server for one */
	W_LIVE,	    /* running: takes tasks */
	W_DYING,    /* gone or going: waits for EOF and the exit report */
};

struct pworker {
	enum wstate state;
	unsigned gen; /* bumped whenever the slot is reset */
	pid_t pid;
	int jobfd, resfd;
	ev_io rio, wio;
	struct buf out;		/* job frames not yet written ... */
	size_t outoff;		/* ... from here */
	struct buf in;		/* result bytes not yet decoded */
	struct ptask_list fifo; /* sent, in order; the head is running */
	bool eof;		/* the result pipe closed */
	bool exited;		/* the server reaped it; status is set */
	bool broken;		/* it sent garbage: killed, output ignored */
	int status;
	size_t vfill; /* tasks set aside while it starts */
};

static struct {
	bool on;
	struct ev_loop *loop;
	int n;
	int nice; /* added to a new worker's nice value */
	struct pworker *w;
	int nempty; /* slots in W_EMPTY */
	ppool_start_fn start;
	ppool_done_fn done;
	struct ptask_list queue;  /* waiting for a worker */
	struct ptask_list reject; /* to fail at the next iteration */
	size_t ntasks;		  /* every task held, on any list */
	bool holding;		  /* the loop reference for ntasks > 0 */
	bool fs_watched;	  /* the fork server's watchers are set up */
	struct ptask *spare;	  /* recycled task records */
	uint64_t tag;
	unsigned long replacements;
	unsigned epoch; /* bumped by shutdown */
	char *down;	/* why nothing can run any more, or NULL */
	ev_io fsr, fsw;
	ev_child fschild;
	ev_prepare prep;
	struct fs_msg *pend; /* requests waiting for the socket */
	size_t npend, pendcap;
} pp;

static const char ppool_too_long[] = "process pool: job arguments too long";

/* Append t to a list. */
static void
ppool_push(struct ptask_list *l, struct ptask *t)
{
	t->next = NULL;
	if (l->tail != NULL)
		l->tail->next = t;
	else
		l->head = t;
	l->tail = t;
	l->n++;
}

/* Take the first task of a list, or NULL. */
static struct ptask *
ppool_pop(struct ptask_list *l)
{
	struct ptask *t = l->head;

	if (t == NULL)
		return NULL;
	l->head = t->next;
	if (l->head == NULL)
		l->tail = NULL;
	l->n--;
	t->next = NULL;
	return t;
}

/* Move all of src to the front of dst; src is left empty. */
static void
ppool_prepend(struct ptask_list *dst, struct ptask_list *src)
{
	if (src->head == NULL)
		return;
	src->tail->next = dst->head;
	if (dst->tail == NULL)
		dst->tail = src->tail;
	dst->head = src->head;
	dst->n += src->n;
	src->head = src->tail = NULL;
	src->n = 0;
}

/* Take or reuse a task record for ctx. */
static struct ptask *
ppool_task_new(void *ctx)
{
	struct ptask *t = pp.spare;

	if (t != NULL)
		pp.spare = t->next;
	else
		t = xcalloc(1, sizeof *t);
	t->next = NULL;
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
	t->next = pp.spare;
	pp.spare = t;
}

/* Free every task of a list without callbacks. */
static void
ppool_free_list(struct ptask_list *l)
{
	struct ptask *t;

	while ((t = ppool_pop(l)) != NULL) {
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

/* Start an io watcher that does not keep the loop alive. */
static void
ppool_bg_start(ev_io *w)
{
	ev_io_start(pp.loop, w);
	ev_unref(pp.loop);
}

/* Stop a watcher started by ppool_bg_start, if it is active. */
static void
ppool_bg_stop(ev_io *w)
{
	if (!ev_is_active(w))
		return;
	ev_ref(pp.loop);
	ev_io_stop(pp.loop, w);
}

/* Tell done that ctx failed with msg (and the signal, if any). */
static void
ppool_fail_ctx(void *ctx, const char *msg, int sig)
{
	struct result res;

	result_init(&res);
	res.status = ST_FAILED;
	res.signal = sig;
	result_error(&res, "%s", msg);
	pp.done(ctx, &res);
	result_free(&res);
}

/* Fail every task of a list (taken over) with msg. Stops if the pool is
 * shut down by a callback; the tasks left are then freed. */
static void
ppool_fail_list(struct ptask_list *l, const char *msg)
{
	unsigned epoch = pp.epoch;
	struct ptask *t;

	while ((t = ppool_pop(l)) != NULL) {
		void *ctx = t->ctx;
		const char *why = t->err != NULL ? t->err : msg;

		ppool_count(-1);
		if (ctx != NULL)
			ppool_fail_ctx(ctx, why, 0);
		ppool_task_drop(t);
		if (pp.epoch != epoch) {
			ppool_free_list(l);
			return;
		}
	}
}

/* Write queued requests to the server until the socket is full. */
static void
ppool_fs_flush(void)
{
	size_t i = 0;

	while (i < pp.npend && forksrv_send(&pp.pend[i]) == 0)
		i++;
	memmove(pp.pend, pp.pend + i, (pp.npend - i) * sizeof *pp.pend);
	pp.npend -= i;
	if (pp.npend > 0 && !ev_is_active(&pp.fsw))
		ev_io_start(pp.loop, &pp.fsw);
	else if (pp.npend == 0 && ev_is_active(&pp.fsw))
		ev_io_stop(pp.loop, &pp.fsw);
}

/* Ask the server for something, in order with earlier requests. */
static void
ppool_request(int type, pid_t pid)
{
	ppool_forksrv();
	if (pp.down != NULL)
		return;
	if (pp.npend == pp.pendcap) {
		pp.pendcap = pp.pendcap ? 2 * pp.pendcap : 16;
		pp.pend = xrealloc(pp.pend, pp.pendcap * sizeof *pp.pend);
	}
	pp.pend[pp.npend].type = type;
	pp.pend[pp.npend].pid = pid;
	/* A spawn says how much nicer the worker is to be. */
	pp.pend[pp.npend].status = type == FS_SPAWN ? pp.nice : 0;
	pp.npend++;
	ppool_fs_flush();
}

/* The socket to the server is writable again. */
static void
ppool_fs_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	ppool_fs_flush();
}

/* Ask for a worker for every empty slot. */
static void
ppool_spawn_missing(void)
{
	for (int i = 0; i < pp.n && pp.nempty > 0; i++) {
		if (pp.w[i].state != W_EMPTY)
			continue;
		pp.w[i].state = W_SPAWNING;
		pp.nempty--;
		ppool_request(FS_SPAWN, 0);
	}
}

/* Close a slot's pipes and empty its buffers; it becomes W_EMPTY. The
 * caller has emptied its FIFO. */
static void
ppool_slot_reset(struct pworker *w)
{
	ppool_bg_stop(&w->rio);
	if (ev_is_active(&w->wio))
		ev_io_stop(pp.loop, &w->wio);
	if (w->jobfd >= 0)
		close(w->jobfd);
	if (w->resfd >= 0)
		close(w->resfd);
	w->jobfd = w->resfd = -1;
	buf_reset(&w->out);
	w->outoff = 0;
	buf_reset(&w->in);
	w->pid = 0;
	w->eof = w->exited = w->broken = false;
	w->status = 0;
	w->gen++;
	if (w->state != W_EMPTY)
		pp.nempty++;
	w->state = W_EMPTY;
}

/* Reset a slot whose worker is gone and ask for a replacement. */
static void
ppool_replace(struct pworker *w)
{
	ppool_slot_reset(w);
	if (pp.down != NULL)
		return;
	pp.replacements++;
	w->state = W_SPAWNING;
	pp.nempty--;
	ppool_request(FS_SPAWN, 0);
}

/* Put the tasks of a FIFO that never started back at the front of the
 * queue, in order; cancelled ones are dropped. */
static void
ppool_requeue(struct ptask_list *fifo)
{
	struct ptask_list keep = {NULL, NULL, 0};
	struct ptask *t;

	while ((t = ppool_pop(fifo)) != NULL) {
		if (t->ctx != NULL) {
			ppool_push(&keep, t);
			continue;
		}
		ppool_count(-1);
		ppool_task_drop(t);
	}
	ppool_prepend(&pp.queue, &keep);
}

/* Both signs of a worker's death are in: fail its running task, requeue
 * the others and replace it. */
static void
ppool_worker_died(struct pworker *w)
{
	struct ptask *head = ppool_pop(&w->fifo);
	int status = w->status;
	char why[96], msg[128];
	void *ctx = NULL;

	ppool_requeue(&w->fifo);
	ppool_replace(w);
	if (head == NULL)
		return;
	ctx = head->ctx;
	ppool_count(-1);
	ppool_task_drop(head);
	if (ctx == NULL)
		return;
	wait_describe(why, sizeof why, status);
	errfmt(msg, sizeof msg, "worker died: %s", why);
	ppool_fail_ctx(ctx, msg, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The result pipe closed (or failed): the worker is gone or going. */
static void
ppool_eof(struct pworker *w)
{
	ppool_bg_stop(&w->rio);
	if (ev_is_active(&w->wio))
		ev_io_stop(pp.loop, &w->wio);
	close(w->jobfd);
	close(w->resfd);
	w->jobfd = w->resfd = -1;
	buf_reset(&w->in);
	buf_reset(&w->out);
	w->outoff = 0;
	w->eof = true;
	w->state = W_DYING;
	if (w->exited)
		ppool_worker_died(w);
}

/* The worker broke the protocol: kill it and ignore what it says. */
static void
ppool_broken(struct pworker *w)
{
	w->broken = true;
	buf_reset(&w->in);
	w->state = W_DYING;
	if (!w->exited)
		ppool_request(FS_KILL, w->pid);
}

/* Fill res from a decoded result frame. */
static void
ppool_result(struct result *res, const struct frame_result *fr)
{
	result_init(res);
	res->status = fr->ok ? ST_OK : ST_FAILED;
	res->truncated = fr->truncated;
	if (fr->vlen > 0)
		buf_add(&res->value, fr->value, fr->vlen);
	if (fr->elen > 0)
		result_error(res, "%.*s", (int)fr->elen, fr->error);
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
		t = w->fifo.head;
		if (n < 0 || f.type != FRAME_RESULT || t == NULL ||
		    f.tag != t->tag ||
		    frame_result_decode(f.payload, f.len, &fr) < 0) {
			ppool_broken(w);
			return;
		}
		pos += (size_t)n;
		ppool_pop(&w->fifo);
		ctx = t->ctx;
		next = w->fifo.head != NULL ? w->fifo.head->ctx : NULL;
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
		ppool_eof(w);
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
			if (w->state == W_SPAWNING && w->vfill == level) {
				w->vfill++;
				(*held)++;
			}
			continue;
		}
		if (w->state != W_LIVE || w->fifo.n != level)
			continue;
		t = ppool_pop(&pp.queue);
		buf_add(&w->out, t->frame.data, t->frame.len);
		ppool_push(&w->fifo, t);
		if (level == 0) {
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

	if (pp.queue.head == NULL)
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
	struct ptask_list rej = pp.reject;

	(void)loop;
	(void)p;
	(void)revents;
	pp.reject.head = pp.reject.tail = NULL;
	pp.reject.n = 0;
	ppool_fail_list(&rej, pp.down);
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

/* The server could not fork a worker. With no worker left at all, fail
 * what waits: nothing would ever run it. */
static void
ppool_spawn_failed(int err)
{
	struct ptask_list q;
	char msg[160];

	for (int i = 0; i < pp.n; i++) {
		if (pp.w[i].state == W_SPAWNING) {
			pp.w[i].state = W_EMPTY;
			pp.nempty++;
			break;
		}
	}
	for (int i = 0; i < pp.n; i++)
		if (pp.w[i].state == W_LIVE || pp.w[i].state == W_SPAWNING)
			return;
	q = pp.queue;
	pp.queue.head = pp.queue.tail = NULL;
	pp.queue.n = 0;
	errfmt(msg, sizeof msg, "process pool: cannot start a worker: %s",
	       strerror(err));
	ppool_fail_list(&q, msg);
}

/* The server forked a worker: put it in a slot that waits for one. */
static void
ppool_spawned(pid_t pid, int fds[2])
{
	struct pworker *w = NULL;

	for (int i = 0; i < pp.n && w == NULL; i++)
		if (pp.w[i].state == W_SPAWNING)
			w = &pp.w[i];
	if (w == NULL || fds[0] < 0 || fd_nonblock(fds[0]) < 0 ||
	    fd_nonblock(fds[1]) < 0) {
		int err = fds[0] < 0 ? EMFILE : errno;

		if (fds[0] >= 0) {
			close(fds[0]);
			close(fds[1]);
		}
		ppool_request(FS_KILL, pid);
		if (w != NULL)
			ppool_spawn_failed(err);
		return;
	}
	w->state = W_LIVE;
	w->pid = pid;
	w->jobfd = fds[0];
	w->resfd = fds[1];
	ev_io_set(&w->rio, w->resfd, EV_READ);
	ev_io_set(&w->wio, w->jobfd, EV_WRITE);
	ppool_bg_start(&w->rio);
}

/* The server reaped pid; its death is complete once its pipe is at EOF. */
static void
ppool_exited(pid_t pid, int status)
{
	for (int i = 0; i < pp.n; i++) {
		struct pworker *w = &pp.w[i];

		if ((w->state != W_LIVE && w->state != W_DYING) ||
		    w->pid != pid)
			continue;
		w->exited = true;
		w->status = status;
		w->state = W_DYING;
		if (w->eof)
			ppool_worker_died(w);
		return;
	}
}

/* Stop the watchers on the fork server (its socket and its exit). */
static void
ppool_unwatch_forksrv(void)
{
	ppool_bg_stop(&pp.fsr);
	if (ev_is_active(&pp.fsw))
		ev_io_stop(pp.loop, &pp.fsw);
	if (ev_is_active(&pp.fschild)) {
		ev_ref(pp.loop);
		ev_child_stop(pp.loop, &pp.fschild);
	}
}

/* The server is gone: kill the workers it can no longer reap and fail
 * every task, now and at every later submit. */
static void
ppool_down(const char *why)
{
	struct ptask_list all = {NULL, NULL, 0};

	if (pp.down != NULL)
		return;
	pp.down = xstrdup(why);
	pp.npend = 0;
	ppool_unwatch_forksrv();
	for (int i = 0; i < pp.n; i++) {
		struct pworker *w = &pp.w[i];

		if ((w->state == W_LIVE || w->state == W_DYING) && !w->exited)
			kill(-w->pid, SIGKILL);
		ppool_prepend(&all, &w->fifo);
		ppool_slot_reset(w);
	}
	ppool_prepend(&all, &pp.queue);
	ppool_fail_list(&all, pp.down);
}

/* Messages from the server. */
static void
ppool_fs_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	unsigned epoch = pp.epoch;

	(void)loop;
	(void)io;
	(void)revents;
	for (;;) {
		struct fs_msg m;
		int fds[2];
		int r = forksrv_recv(&m, fds);

		if (r == 0)
			return;
		if (r < 0) {
			ppool_down("process pool: the fork server is gone");
			return;
		}
		if (m.type == FS_SPAWNED)
			ppool_spawned(m.pid, fds);
		else if (m.type == FS_FAILED)
			ppool_spawn_failed(m.status);
		else if (m.type == FS_EXITED)
			ppool_exited(m.pid, m.status);
		if (pp.epoch != epoch || pp.down != NULL)
			return;
	}
}

/* The loop reaped the server. */
static void
ppool_fs_child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
	char why[96], msg[160];

	(void)loop;
	(void)revents;
	forksrv_reaped();
	wait_describe(why, sizeof why, c->rstatus);
	errfmt(msg, sizeof msg, "process pool: the fork server died (%s)", why);
	ppool_down(msg);
}

/* Workers forked from now on run incr nice values below corun. */
void
ppool_set_nice(int incr)
{
	pp.nice = incr;
}

/* Set the pool up; workers are asked for at the first submit. */
void
ppool_init(struct ev_loop *loop, int nworkers, ppool_start_fn start,
	   ppool_done_fn done)
{
	unsigned epoch = pp.epoch;

	if (pp.on)
		fatalx("process pool set up twice");
	memset(&pp, 0, sizeof pp);
	pp.epoch = epoch;
	pp.on = true;
	pp.loop = loop;
	pp.n = nworkers > 0 ? nworkers : 1;
	pp.nempty = pp.n;
	pp.start = start;
	pp.done = done;
	pp.w = xcalloc((size_t)pp.n, sizeof *pp.w);
	for (int i = 0; i < pp.n; i++) {
		struct pworker *w = &pp.w[i];

		w->jobfd = w->resfd = -1;
		ev_io_init(&w->rio, ppool_read_cb, -1, EV_READ);
		ev_io_init(&w->wio, ppool_write_cb, -1, EV_WRITE);
		w->rio.data = w->wio.data = w;
	}
	ev_prepare_init(&pp.prep, ppool_prepare_cb);
	/* After the scheduler's prepare, which submits: what it queues in an
	 * iteration goes out in that iteration. */
	ev_set_priority(&pp.prep, EV_MINPRI);
	ev_prepare_start(loop, &pp.prep);
	ev_unref(loop);
}

/*
 * Make sure the fork server runs, and watch it. It must be forked before
 * any thread exists, so everything that starts threads (the thread pool,
 * the network kinds) or needs the server (workers, the watch over
 * children) calls this first; a run that needs none of it never forks one.
 */
void
ppool_forksrv(void)
{
	if (pp.down != NULL)
		return;
	if (forksrv_fd() < 0)
		forksrv_start();
	if (!pp.on || pp.fs_watched)
		return;
	pp.fs_watched = true;
	ev_io_init(&pp.fsr, ppool_fs_read_cb, forksrv_fd(), EV_READ);
	ev_io_init(&pp.fsw, ppool_fs_write_cb, forksrv_fd(), EV_WRITE);
	ppool_bg_start(&pp.fsr);
	ev_child_init(&pp.fschild, ppool_fs_child_cb, forksrv_pid(), 0);
	ev_child_start(pp.loop, &pp.fschild);
	ev_unref(pp.loop);
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
	if (frame_put_job(&t->frame, t->tag, kind_index(kind), argc, argv) < 0)
		t->err = ppool_too_long;
	else if (pp.down != NULL)
		t->err = pp.down;
	if (t->err != NULL)
		ppool_push(&pp.reject, t);
	else
		ppool_push(&pp.queue, t);
	ppool_count(1);
	if (pp.nempty > 0 && pp.down == NULL)
		ppool_spawn_missing();
}

/* Find ctx on a list: its predecessor in *prev. */
static struct ptask *
ppool_find(struct ptask_list *l, void *ctx, struct ptask **prev)
{
	*prev = NULL;
	for (struct ptask *t = l->head; t != NULL; t = t->next) {
		if (t->ctx == ctx)
			return t;
		*prev = t;
	}
	return NULL;
}

/* Unlink t (after prev) from a list. */
static void
ppool_unlink(struct ptask_list *l, struct ptask *prev, struct ptask *t)
{
	if (prev != NULL)
		prev->next = t->next;
	else
		l->head = t->next;
	if (l->tail == t)
		l->tail = prev;
	l->n--;
	t->next = NULL;
}

/* Stop ctx's task; see pool_proc.h. */
int
ppool_cancel(void *ctx)
{
	struct ptask_list *l = &pp.queue;
	struct ptask *t, *prev;

	if (!pp.on || ctx == NULL)
		return 0;
	t = ppool_find(l, ctx, &prev);
	if (t == NULL) {
		l = &pp.reject;
		t = ppool_find(l, ctx, &prev);
	}
	if (t != NULL) {
		ppool_unlink(l, prev, t);
		ppool_count(-1);
		ppool_task_drop(t);
		return 0;
	}
	for (int i = 0; i < pp.n; i++) {
		struct pworker *w = &pp.w[i];

		if ((t = ppool_find(&w->fifo, ctx, &prev)) == NULL)
			continue;
		if (t != w->fifo.head) {
			t->ctx = NULL;
			return 0;
		}
		if (!w->exited)
			ppool_request(FS_KILL, w->pid);
		ppool_pop(&w->fifo);
		ppool_count(-1);
		ppool_task_drop(t);
		ppool_requeue(&w->fifo);
		ppool_replace(w);
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
		ppool_unwatch_forksrv();
		for (int i = 0; i < pp.n; i++) {
			struct pworker *w = &pp.w[i];

			ppool_free_list(&w->fifo);
			ppool_slot_reset(w);
			buf_free(&w->in);
			buf_free(&w->out);
		}
		ppool_free_list(&pp.queue);
		ppool_free_list(&pp.reject);
		while (pp.spare != NULL) {
			struct ptask *t = pp.spare;

			pp.spare = t->next;
			buf_free(&t->frame);
			free(t);
		}
		free(pp.w);
		free(pp.pend);
		free(pp.down);
		pp.w = NULL;
		pp.pend = NULL;
		pp.down = NULL;
		pp.n = 0;
		pp.ntasks = 0;
		pp.on = false;
		pp.epoch++;
	}
	forksrv_stop();
}

/* The pid of the worker running ctx, or 0 (for the unit tests). */
pid_t
ppool_worker_pid(const void *ctx)
{
	for (int i = 0; pp.on && i < pp.n; i++)
		if (pp.w[i].fifo.head != NULL && pp.w[i].fifo.head->ctx == ctx)
			return pp.w[i].pid;
	return 0;
}

/* Worker replacements so far. */
unsigned long
ppool_replacements(void)
{
	return pp.replacements;
}
