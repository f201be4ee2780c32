/*
 * pool_slot.c: the process pool's worker slots and their lives (prefix
 * pslot_).
 *
 * The pool (pool_proc.c) has N slots. A slot is W_EMPTY until the pool
 * needs it, W_SPAWNING once a worker is asked of the fork server
 * (forksrv.c), W_LIVE when the worker's pid and pipes arrive (the pipes made
 * non-blocking, the result pipe watched with the pool's callback) and
 * W_DYING from the first sign of its end until the last.
 *
 * A worker's death is known from two events that come in either order:
 * end of file on its result pipe (every result it wrote has been read by
 * then) and the server's FS_EXITED report (the wait status). With both in,
 * the slot is reset, a replacement is asked for and the pool gets the
 * worker's FIFO back (ops->lost): its head failed with the worker's signal,
 * the rest never started. A worker that breaks the protocol is killed and
 * its output ignored until both events are in. Kills go through the
 * server, which signals only a pid it has not reaped.
 *
 * Requests to the server wait in order in a queue while its socket is
 * full. If the server cannot fork, the slot goes back to W_EMPTY; with no
 * worker left or coming the pool fails what waits (ops->starved). If the
 * server dies, every worker is killed and every task fails, now and at
 * every later submit (ops->down; pslot_down says why), and the watchdog
 * forked with the server keeps its watch over children (forksrv.c). The
 * server's exit is seen on its pidfd, and it is reaped here: nothing else
 * reaps corun's children (child.c).
 *
 * The watchers never keep the loop alive by themselves (the pool holds the
 * loop while it holds tasks). The pool's callbacks may re-enter the pool,
 * even shut it down: after one, the server's messages are read on only if
 * the epoch (bumped by pslot_shutdown) is unchanged. Loop thread only.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "forksrv.h"
#include "pool_slot.h"
#include "util.h"

static struct {
	bool on;
	struct ev_loop *loop;
	int n;
	struct pworker *w;
	struct pslot_ops ops;
	int nempty; /* slots in W_EMPTY */
	int nice;   /* added to a new worker's nice value */
	unsigned long replacements;
	unsigned epoch;	 /* bumped by shutdown */
	char *down;	 /* why nothing can run any more, or NULL */
	bool fs_watched; /* the fork server's watchers are set up */
	ev_io fsr, fsw;
	ev_io fsexit;	     /* the server's pidfd: readable once it exited */
	struct fs_msg *pend; /* requests waiting for the socket */
	size_t npend, pendcap;
} ps;

/* Start an io watcher that does not keep the loop alive. */
static void
pslot_bg_start(ev_io *w)
{
	ev_io_start(ps.loop, w);
	ev_unref(ps.loop);
}

/* Stop a watcher started by pslot_bg_start, if it is active. */
static void
pslot_bg_stop(ev_io *w)
{
	if (!ev_is_active(w))
		return;
	ev_ref(ps.loop);
	ev_io_stop(ps.loop, w);
}

/* Write queued requests to the server until the socket is full. */
static void
pslot_fs_flush(void)
{
	size_t i = 0;

	while (i < ps.npend && forksrv_send(&ps.pend[i]) == 0)
		i++;
	memmove(ps.pend, ps.pend + i, (ps.npend - i) * sizeof *ps.pend);
	ps.npend -= i;
	if (ps.npend > 0 && !ev_is_active(&ps.fsw))
		ev_io_start(ps.loop, &ps.fsw);
	else if (ps.npend == 0 && ev_is_active(&ps.fsw))
		ev_io_stop(ps.loop, &ps.fsw);
}

/* Ask the server for something, in order with earlier requests. */
static void
pslot_request(int type, pid_t pid)
{
	pslot_forksrv();
	if (ps.down != NULL)
		return;
	if (ps.npend == ps.pendcap) {
		ps.pendcap = ps.pendcap ? 2 * ps.pendcap : 16;
		ps.pend = xrealloc(ps.pend, ps.pendcap * sizeof *ps.pend);
	}
	ps.pend[ps.npend].type = type;
	ps.pend[ps.npend].pid = pid;
	/* A spawn says how much nicer the worker is to be. */
	ps.pend[ps.npend].status = type == FS_SPAWN ? ps.nice : 0;
	ps.npend++;
	pslot_fs_flush();
}

/* The socket to the server is writable again. */
static void
pslot_fs_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	pslot_fs_flush();
}

/* Ask for a worker for every empty slot (none once the server is gone). */
void
pslot_spawn_missing(void)
{
	if (ps.down != NULL)
		return;
	for (int i = 0; i < ps.n && ps.nempty > 0; i++) {
		if (ps.w[i].state != W_EMPTY)
			continue;
		ps.w[i].state = W_SPAWNING;
		ps.nempty--;
		pslot_request(FS_SPAWN, 0);
	}
}

/* Close a slot's pipes and empty its buffers; it becomes W_EMPTY. The
 * caller has emptied its FIFO. */
static void
pslot_reset(struct pworker *w)
{
	pslot_bg_stop(&w->rio);
	if (ev_is_active(&w->wio))
		ev_io_stop(ps.loop, &w->wio);
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
	w->nres = 0;
	w->avg = w->head_since = 0;
	w->gen++;
	if (w->state != W_EMPTY)
		ps.nempty++;
	w->state = W_EMPTY;
}

/* Reset a slot whose worker is gone and ask for a replacement. */
void
pslot_replace(struct pworker *w)
{
	pslot_reset(w);
	if (ps.down != NULL)
		return;
	ps.replacements++;
	w->state = W_SPAWNING;
	ps.nempty--;
	pslot_request(FS_SPAWN, 0);
}

/* Both signs of a worker's death are in: replace it and give its tasks
 * back to the pool. */
static void
pslot_died(struct pworker *w)
{
	struct ptask_list lost;
	int status = w->status;

	ptask_list_init(&lost);
	ptask_prepend(&lost, &w->fifo);
	pslot_replace(w);
	ps.ops.lost(&lost, status);
}

/* The result pipe closed (or failed): the worker is gone or going. */
void
pslot_eof(struct pworker *w)
{
	pslot_bg_stop(&w->rio);
	if (ev_is_active(&w->wio))
		ev_io_stop(ps.loop, &w->wio);
	close(w->jobfd);
	close(w->resfd);
	w->jobfd = w->resfd = -1;
	buf_reset(&w->in);
	buf_reset(&w->out);
	w->outoff = 0;
	w->eof = true;
	w->state = W_DYING;
	if (w->exited)
		pslot_died(w);
}

/* The worker broke the protocol: kill it and ignore what it says. */
void
pslot_broken(struct pworker *w)
{
	w->broken = true;
	buf_reset(&w->in);
	w->state = W_DYING;
	pslot_kill(w);
}

/* Kill w's worker through the server, unless it was reaped already. */
void
pslot_kill(struct pworker *w)
{
	if (!w->exited)
		pslot_request(FS_KILL, w->pid);
}

/* The server could not fork a worker. With no worker left at all, the
 * pool fails what waits: nothing would ever run it. */
static void
pslot_spawn_failed(int err)
{
	char msg[160];

	for (int i = 0; i < ps.n; i++) {
		if (ps.w[i].state == W_SPAWNING) {
			ps.w[i].state = W_EMPTY;
			ps.nempty++;
			break;
		}
	}
	for (int i = 0; i < ps.n; i++)
		if (ps.w[i].state == W_LIVE || ps.w[i].state == W_SPAWNING)
			return;
	errfmt(msg, sizeof msg, "process pool: cannot start a worker: %s",
	       strerror(err));
	ps.ops.starved(msg);
}

/* The server forked a worker: put it in a slot that waits for one. */
static void
pslot_spawned(pid_t pid, int fds[2])
{
	struct pworker *w = NULL;

	for (int i = 0; i < ps.n && w == NULL; i++)
		if (ps.w[i].state == W_SPAWNING)
			w = &ps.w[i];
	if (w == NULL || fds[0] < 0 || fd_nonblock(fds[0]) < 0 ||
	    fd_nonblock(fds[1]) < 0) {
		int err = fds[0] < 0 ? EMFILE : errno;

		if (fds[0] >= 0) {
			close(fds[0]);
			close(fds[1]);
		}
		pslot_request(FS_KILL, pid);
		if (w != NULL)
			pslot_spawn_failed(err);
		return;
	}
	w->state = W_LIVE;
	w->pid = pid;
	w->jobfd = fds[0];
	w->resfd = fds[1];
	ev_io_set(&w->rio, w->resfd, EV_READ);
	ev_io_set(&w->wio, w->jobfd, EV_WRITE);
	pslot_bg_start(&w->rio);
}

/* The server reaped pid; its death is complete once its pipe is at EOF. */
static void
pslot_exited(pid_t pid, int status)
{
	for (int i = 0; i < ps.n; i++) {
		struct pworker *w = &ps.w[i];

		if ((w->state != W_LIVE && w->state != W_DYING) ||
		    w->pid != pid)
			continue;
		w->exited = true;
		w->status = status;
		w->state = W_DYING;
		if (w->eof)
			pslot_died(w);
		return;
	}
}

/* Stop the watchers on the fork server (its socket and its exit). */
static void
pslot_unwatch_forksrv(void)
{
	pslot_bg_stop(&ps.fsr);
	if (ev_is_active(&ps.fsw))
		ev_io_stop(ps.loop, &ps.fsw);
	pslot_bg_stop(&ps.fsexit);
	if (ps.fs_watched && ps.fsexit.fd >= 0) {
		close(ps.fsexit.fd);
		ev_io_set(&ps.fsexit, -1, EV_READ);
	}
}

/* The server is gone: kill the workers it can no longer reap and have the
 * pool fail every task, now and at every later submit. */
static void
pslot_gone(const char *why)
{
	struct ptask_list all;

	if (ps.down != NULL)
		return;
	ps.down = xstrdup(why);
	ps.npend = 0;
	pslot_unwatch_forksrv();
	ptask_list_init(&all);
	for (int i = 0; i < ps.n; i++) {
		struct pworker *w = &ps.w[i];

		if ((w->state == W_LIVE || w->state == W_DYING) && !w->exited)
			kill(-w->pid, SIGKILL);
		ptask_prepend(&all, &w->fifo);
		pslot_reset(w);
	}
	ps.ops.down(&all, ps.down);
}

/* Messages from the server. */
static void
pslot_fs_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	unsigned epoch = ps.epoch;

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
			pslot_gone("process pool: the fork server is gone");
			return;
		}
		if (m.type == FS_SPAWNED)
			pslot_spawned(m.pid, fds);
		else if (m.type == FS_FAILED)
			pslot_spawn_failed(m.status);
		else if (m.type == FS_EXITED)
			pslot_exited(m.pid, m.status);
		if (ps.epoch != epoch || ps.down != NULL)
			return;
	}
}

/* The server exited (its pidfd is readable): reap it. */
static void
pslot_fs_exit_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char why[96], msg[160];
	int status = 0;
	pid_t r;

	(void)loop;
	(void)w;
	(void)revents;
	while ((r = waitpid(forksrv_pid(), &status, WNOHANG)) == -1 &&
	       errno == EINTR)
		;
	if (r == 0)
		return;
	forksrv_reaped();
	if (r == -1)
		errfmt(why, sizeof why, "reaped elsewhere");
	else
		wait_describe(why, sizeof why, status);
	errfmt(msg, sizeof msg, "process pool: the fork server died (%s)", why);
	pslot_gone(msg);
}

/* The run said it needs no fork server (pslot_forksrv_maybe), and a
 * thread may run now: forking one would break the rule above. */
static bool fs_maybe = true, fs_unwanted;

/* Whether the run may need the fork server. */
void
pslot_forksrv_maybe(int maybe)
{
	fs_maybe = maybe != 0;
	fs_unwanted = false;
}

/* Before a thread starts: the server first if the run may need it; else
 * none is forked from now on. */
int
pslot_before_thread(void)
{
	if (fs_maybe)
		return pslot_forksrv();
	fs_unwanted = forksrv_fd() < 0;
	return 0;
}

/*
 * Make sure the fork server runs, and watch it. It must be forked before
 * any thread exists, so everything that starts threads (the thread pool,
 * the network kinds) or needs the server (workers, the watch over
 * children) calls this first (as ppool_forksrv); a run that needs none of
 * it never forks one. 0, or -1 with errno when the server cannot be had.
 */
int
pslot_forksrv(void)
{
	if (ps.down != NULL)
		return -1;
	if (forksrv_fd() >= 0 && (!ps.on || ps.fs_watched))
		return 0; /* the common case: once per job */
	child_own_reaping();
	if (forksrv_fd() < 0 &&
	    (fs_unwanted ? (errno = EDEADLK, -1) : forksrv_start()) == -1) {
		int err = errno;
		char msg[160];

		/* No worker can be had: process-pool jobs fail with this;
		 * children and threads do without the server's watch. */
		errfmt(msg, sizeof msg,
		       "process pool: cannot start the fork server: %s",
		       strerror(err));
		if (ps.on)
			pslot_gone(msg);
		errno = err;
		return -1;
	}
	if (!ps.on || ps.fs_watched)
		return 0;
	ps.fs_watched = true;
	ev_io_init(&ps.fsr, pslot_fs_read_cb, forksrv_fd(), EV_READ);
	ev_io_init(&ps.fsw, pslot_fs_write_cb, forksrv_fd(), EV_WRITE);
	pslot_bg_start(&ps.fsr);
	/* Nobody reaps but us (child_own_reaping): the pid is the server's. */
	ev_io_init(&ps.fsexit, pslot_fs_exit_cb, pidfd_open(forksrv_pid(), 0),
		   EV_READ);
	if (ps.fsexit.fd >= 0)
		pslot_bg_start(&ps.fsexit);
	return 0;
}

/* Set up n empty slots; workers are asked for by pslot_spawn_missing. */
struct pworker *
pslot_init(struct ev_loop *loop, int n, const struct pslot_ops *ops)
{
	unsigned epoch = ps.epoch;

	memset(&ps, 0, sizeof ps);
	ps.epoch = epoch;
	ps.on = true;
	ps.loop = loop;
	ps.n = n;
	ps.nempty = n;
	ps.ops = *ops;
	ps.w = xcalloc((size_t)n, sizeof *ps.w);
	ev_io_init(&ps.fsexit, pslot_fs_exit_cb, -1, EV_READ);
	for (int i = 0; i < n; i++) {
		struct pworker *w = &ps.w[i];

		w->jobfd = w->resfd = -1;
		ptask_list_init(&w->fifo);
		ev_io_init(&w->rio, ops->readable, -1, EV_READ);
		ev_io_init(&w->wio, ops->writable, -1, EV_WRITE);
		w->rio.data = w->wio.data = w;
	}
	return ps.w;
}

/* Workers forked from now on run incr nice values below corun. */
void
pslot_set_nice(int incr)
{
	ps.nice = incr;
}

/* Why nothing can run any more, or NULL. */
const char *
pslot_down(void)
{
	return ps.down;
}

/* Worker replacements so far. */
unsigned long
pslot_replacements(void)
{
	return ps.replacements;
}

/* Close and free every slot, then stop the fork server and reap it. */
void
pslot_shutdown(void)
{
	if (ps.on) {
		pslot_unwatch_forksrv();
		for (int i = 0; i < ps.n; i++) {
			struct pworker *w = &ps.w[i];

			pslot_reset(w);
			buf_free(&w->in);
			buf_free(&w->out);
		}
		free(ps.w);
		free(ps.pend);
		free(ps.down);
		ps.w = NULL;
		ps.pend = NULL;
		ps.npend = ps.pendcap = 0;
		ps.down = NULL;
		ps.n = 0;
		ps.on = false;
		ps.epoch++;
	}
	forksrv_stop();
}
