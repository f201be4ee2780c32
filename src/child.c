/*
 * child.c: child processes of exec and sh jobs, driven by the loop.
 *
 * A child is spawned (spawn.c) in a process group of its own (pgid =
 * pid), signals unblocked and set to their defaults, standard input on
 * /dev/null and standard output and error on two pipes. Every pipe end is
 * created close-on-exec, so a child sees only fds 0, 1 and 2. The loop's
 * read ends are non-blocking and watched by ev_io, and so is the child's
 * pidfd, which becomes readable when the child exits. In the raw output
 * modes every byte read goes to a tap instead (child_set_tap), and
 * --group may put standard output on a file instead of a pipe
 * (child_next_stdout): then there is no stdout pipe to read or wait for.
 *
 * Reaping is ours alone. libev's default loop reaps every child it hears
 * of (waitpid(-1) on SIGCHLD), which would free a child's pid, and with it
 * its process group id, while a descendant may still hold the pipes and
 * the group may still need a signal. So child_own_reaping puts SIGCHLD
 * back to its default action (children still become zombies, and libev's
 * handler never runs: its child watchers are not used in corun), every
 * spawn opens a pidfd at once, waitid(WNOWAIT) reads the status when the
 * pidfd says the child exited (without pidfds, before Linux 5.3 or under
 * valgrind, a timer polls waitid), and the zombie is reaped only when the
 * child finishes, after the last signal to its group. While the leader is
 * unreaped, its pid, and so its group id, cannot be reused: every
 * kill(-pgid) corun sends is to a group that is provably its own, and none
 * is ever sent after the reap. The fork server is watched the same way
 * (pool_slot.c).
 *
 * State machine: a child is live from child_spawn until it has exited and
 * its pipes are at EOF or its drain limit passed. The events come in any
 * order (a descendant may hold the pipes after the child exited, even one
 * that left the group with setsid). The drain limit: once the child has
 * exited, its pipes get the drain time (child_set_drain: --grace, at least
 * CHILD_DRAIN_MIN) to reach EOF; once the child is stopped (child_kill),
 * the child ends at the latest CHILD_KILL_MARGIN after the SIGKILL that
 * follows the grace period, whatever its descendants do. Output still in
 * the pipes is read, the pipes are closed and the standard error field
 * says the output was cut. child_check_done finishes the child: it builds
 * the result (exit and signal are the child's own), calls done exactly
 * once, then reaps the zombie and frees everything.
 *
 * With --pipe, standard input is a pipe instead, which a feed (feed.c)
 * fills with the job's block; it is closed when the child finishes.
 *
 * Output memory is bounded. Standard output is kept up to CORUN_OUTPUT_CAP
 * bytes; the rest is read and dropped (and counted), so the writer never
 * blocks on a full pipe or gets SIGPIPE. Standard error is kept in a buffer
 * of at most CORUN_STDERR_CAP bytes that becomes a ring once full, so it
 * holds the last bytes written; it is put in order when the child ends.
 * These buffers are a job's big allocations: when one cannot grow, the
 * job's output is dropped from then on (its pipes are still drained) and
 * the job fails with "out of memory"; corun and the other jobs go on.
 * Reads go through one static chunk, at most CHILD_READS of them per
 * callback, so a chatty child cannot starve the rest of the loop. While
 * records wait for a slow reader beyond the bound (child_pause_reads, from
 * the output module), no pipe is read: children block on full pipes and
 * none finishes, so no record is added.
 *
 * Stopping: child_kill sends SIGTERM to the group and arms a timer that
 * sends SIGKILL after the grace period; both go to the group only while
 * the leader is unreaped, which it is until the child finishes.
 * child_shutdown (every way out of a run) SIGKILLs every live child's
 * group and reaps the leaders, waiting at most CHILD_REAP_WAIT.
 *
 * Threads: loop thread only (the spawn stack is static). The list of live
 * children is static.
 * Memory: a child owns its buffers until it finishes; they are moved into
 * the result handed to done, and the child is freed after done returns.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "corun.h"
#include "child.h"
#include "feed.h"
#include "spawn.h"
#include "table.h"
#include "future.h"
#include "util.h"

#define CHILD_READS 4	      /* reads per callback before yielding */
#define CHILD_DRAIN_MIN 0.1   /* seconds: the least drain after exit */
#define CHILD_KILL_MARGIN 0.2 /* seconds after SIGKILL to reach EOF */
#define CHILD_REAP_WAIT 2.0   /* seconds child_shutdown waits at most */
#define CHILD_POLL 0.01	      /* seconds between polls without pidfds */

enum child_stop { STOP_NONE, STOP_TERM, STOP_KILL };

struct child {
	struct ev_loop *loop;
	pid_t pid; /* also the process group id */
	child_done_fn done;
	void *ctx;

	ev_io exit_w;	  /* the pidfd; fd -1 once the child exited */
	ev_io out_w;	  /* standard output; fd -1 at EOF */
	ev_io err_w;	  /* standard error; fd -1 at EOF */
	struct feed *in;  /* --pipe: writes its standard input, or NULL */
	ev_timer kill_w;  /* SIGKILL after the grace period */
	ev_timer drain_w; /* the drain limit, once the child exited */

	bool exited; /* its status is read (the zombie is still ours) */
	bool reaped; /* the zombie is gone: its group is no longer ours */
	bool cut;    /* the drain limit closed a pipe before EOF */
	bool draining; /* inside child_drain_cb: do not finish yet */
	int status;  /* wait status, once exited */
	enum child_stop stop;
	ev_tstamp drain_by; /* exited: end by then at the latest */
	ev_tstamp stop_by;  /* stopped: end by then at the latest; 0: no */

	struct buf out;	  /* stdout, at most CORUN_OUTPUT_CAP bytes */
	uint64_t dropped; /* stdout bytes read beyond the cap */
	struct buf err;	  /* stderr; a ring once CORUN_STDERR_CAP full */
	size_t err_head;  /* ring: index of the oldest byte */
	bool oom;	  /* a buffer could not grow: output dropped */
	child_tap_fn tap; /* NULL, or where every byte goes instead */
	void *tap_arg;

	LIST_ENTRY(child) link; /* in child_list */
};

static LIST_HEAD(, child) child_list = LIST_HEAD_INITIALIZER(child_list);
static int child_live;
static bool child_paused; /* child_pause_reads: pipes are not watched */
static char child_chunk[IO_CHUNK];
static double child_drain = 2.0; /* seconds the pipes get after exit */
static int (*child_killer)(pid_t, int) = kill;
static ev_timer child_poll_w; /* children without a pidfd: poll them */
static int child_outfile = -1; /* child_next_stdout: the next one's file */

/* Grow b so that n more bytes fit, never beyond limit bytes of content:
 * 0, or -1 (b unchanged) when memory is short (see mem_can_grow). */
static int
child_buf_fit(struct buf *b, size_t n, size_t limit)
{
	size_t want = b->len + n + 1;
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (want <= b->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > limit + 1)
		cap = limit + 1;
	if (!mem_can_grow(cap) || (p = realloc(b->data, cap)) == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Out of memory for c's output: free what it kept, drop the rest. */
static void
child_oom(struct child *c)
{
	c->oom = true;
	buf_free(&c->out);
	buf_free(&c->err);
	c->err_head = 0;
}

/* Keep stdout bytes up to the cap; count and drop the rest. */
static void
child_take_out(struct child *c, const char *p, size_t n)
{
	size_t room = CORUN_OUTPUT_CAP - c->out.len;
	size_t keep = n < room ? n : room;

	if (c->oom)
		return;
	if (keep > 0) {
		if (child_buf_fit(&c->out, keep, CORUN_OUTPUT_CAP) == -1) {
			child_oom(c);
			return;
		}
		buf_add(&c->out, p, keep);
	}
	c->dropped += n - keep;
}

/* Keep the last CORUN_STDERR_CAP bytes of stderr: fill, then wrap. */
static void
child_take_err(struct child *c, const char *p, size_t n)
{
	const size_t cap = CORUN_STDERR_CAP;
	struct buf *b = &c->err;

	if (c->oom)
		return;
	if (b->len < cap) {
		size_t take = n < cap - b->len ? n : cap - b->len;

		if (child_buf_fit(b, take, cap) == -1) {
			child_oom(c);
			return;
		}
		buf_add(b, p, take);
		p += take;
		n -= take;
	}
	if (n > 0)
		buf_ring_write(b, &c->err_head, p, n);
}

/* Send sig to the child's group (to the child alone if it left its group
 * itself), only while the leader is unreaped: then the group is ours. */
static void
child_signal(struct child *c, int sig)
{
	if (c->reaped)
		return;
	if (child_killer(-c->pid, sig) == -1)
		child_killer(c->pid, sig);
}

/* Reap the child's zombie (it has exited), unless it is gone already. */
static void
child_reap(struct child *c)
{
	siginfo_t si;

	if (c->reaped)
		return;
	while (waitid(P_PID, (id_t)c->pid, &si, WEXITED) == -1 &&
	       errno == EINTR)
		;
	c->reaped = true;
}

/* Stop watching a pipe and close it (EOF, a read error, the drain). */
static void
child_pipe_close(struct child *c, ev_io *w)
{
	ev_io_stop(c->loop, w);
	close(w->fd);
	ev_io_set(w, -1, 0);
}

/* Build the result and hand it to done; then free the child. */
static void
child_finish(struct child *c)
{
	struct result res;

	feed_free(c->in);
	ev_timer_stop(c->loop, &c->kill_w);
	ev_timer_stop(c->loop, &c->drain_w);
	LIST_REMOVE(c, link);
	child_live--;
	if (c->cut) {
		static const char note[] =
		    "\ncorun: output cut: a descendant of the child still "
		    "held its pipes after it had exited\n";
		size_t skip = c->err.len == 0; /* no blank first line */

		if (c->tap != NULL)
			c->tap(c->tap_arg, 1, note + 1, sizeof note - 2);
		else
			child_take_err(c, note + skip, sizeof note - 1 - skip);
	}

	result_init(&res);
	if (WIFEXITED(c->status))
		res.exit = WEXITSTATUS(c->status);
	else
		res.signal = WTERMSIG(c->status);
	if (c->status != 0) {
		char why[64];

		wait_describe(why, sizeof why, c->status);
		res.status = ST_FAILED;
		result_error(&res, "%s", why);
	}
	if (c->oom) {
		res.status = ST_FAILED;
		result_error(&res, "out of memory");
	}
	res.truncated = c->dropped > 0;
	res.has_errout = true;
	buf_ring_unwrap(&c->err, &c->err_head);
	res.value = c->out;
	res.errout = c->err;

	/* done forgets the group (forksrv_unwatch) before the reap. */
	c->done(c->ctx, &res);
	result_free(&res);
	child_reap(c);
	free(c);
}

/* Finish the child if it exited and both pipes are closed. */
static void
child_check_done(struct child *c)
{
	if (c->exited && !c->draining && c->out_w.fd == -1 &&
	    c->err_w.fd == -1)
		child_finish(c);
}

/* Once the child exited, (re)arm the drain timer for the earlier of its
 * two limits: the drain time after exit, the end of a stop. */
static void
child_arm_drain(struct child *c)
{
	ev_tstamp by = c->drain_by;
	double after;

	if (!c->exited)
		return;
	if (c->stop_by > 0 && c->stop_by < by)
		by = c->stop_by;
	after = by - ev_now(c->loop);
	ev_timer_stop(c->loop, &c->drain_w);
	ev_timer_set(&c->drain_w, after > 0 ? after : 0, 0);
	ev_timer_start(c->loop, &c->drain_w);
}

/* A pipe is readable: read a bounded amount, keep what the caps allow. */
static void
child_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct child *c = w->data;

	(void)loop;
	(void)revents;
	for (int i = 0; i < CHILD_READS; i++) {
		ssize_t n = read(w->fd, child_chunk, sizeof child_chunk);

		if (n > 0 && c->tap != NULL) {
			c->tap(c->tap_arg, w == &c->err_w, child_chunk,
			       (size_t)n);
			continue;
		}
		if (n > 0) {
			if (w == &c->out_w)
				child_take_out(c, child_chunk, (size_t)n);
			else
				child_take_err(c, child_chunk, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		child_pipe_close(c, w);
		child_check_done(c);
		return;
	}
}

/* The wait status that waitid's si describes. */
static int
child_wstatus(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return (si->si_status & 0xff) << 8;
	if (si->si_code == CLD_DUMPED)
		return (si->si_status & 0x7f) | 0x80;
	return si->si_status & 0x7f;
}

/* Has the child exited? If so read its status, leave the zombie (its
 * group id stays ours), start the drain, and maybe finish the child. */
static void
child_check_exit(struct child *c)
{
	struct ev_loop *loop = c->loop;
	ev_io *w = &c->exit_w;
	siginfo_t si;

	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    -1) {
		if (errno == EINTR)
			return;
		/* Reaped behind our back (a program embedding libcorun). */
		c->reaped = true;
		si.si_code = CLD_KILLED;
		si.si_status = SIGKILL;
	} else if (si.si_pid == 0) {
		return;
	}
	c->status = child_wstatus(&si);
	c->exited = true;
	if (w->fd != -1) {
		ev_io_stop(loop, w);
		close(w->fd);
		ev_io_set(w, -1, 0);
	}
	c->drain_by =
	    ev_now(loop) +
	    (child_drain > CHILD_DRAIN_MIN ? child_drain : CHILD_DRAIN_MIN);
	child_arm_drain(c);
	child_check_done(c);
}

/* The pidfd is readable: the child exited. */
static void
child_exit_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	child_check_exit(w->data);
}

/* No pidfd (a kernel before 5.3, valgrind): poll the children that have
 * none, every CHILD_POLL seconds while there are any. */
static void
child_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child *c, *next;
	int left = 0;

	(void)revents;
	for (c = LIST_FIRST(&child_list); c != NULL; c = next) {
		next = LIST_NEXT(c, link);
		if (c->exited || c->exit_w.fd != -1)
			continue;
		child_check_exit(c); /* may free c */
		left++;
	}
	if (left == 0)
		ev_timer_stop(loop, w);
}

/* The drain limit passed: read what the pipes hold, close them and
 * finish; the record says the output was cut. */
static void
child_drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child *c = w->data;
	ev_io *pipes[2] = {&c->out_w, &c->err_w};

	(void)loop;
	(void)revents;
	/* Reading may close a pipe; the child is finished (and freed) only
	 * after the loop, once. */
	c->draining = true;
	for (int i = 0; i < 2; i++) {
		if (pipes[i]->fd == -1)
			continue;
		child_read_cb(c->loop, pipes[i], EV_READ);
		if (pipes[i]->fd == -1)
			continue;
		child_pipe_close(c, pipes[i]);
		c->cut = true;
	}
	c->draining = false;
	child_check_done(c);
}

/* The grace period is over: SIGKILL the group. */
static void
child_kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child *c = w->data;

	(void)revents;
	c->stop = STOP_KILL;
	child_signal(c, SIGKILL);
	c->stop_by = ev_now(loop) + CHILD_KILL_MARGIN;
	child_arm_drain(c);
}

/* Close both ends of a pipe (-1: none). */
static void
child_close_pair(const int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

/* Make a close-on-exec pipe whose read end is non-blocking; 0, or -1 with
 * errno set and nothing open. */
static int
child_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	if (fd_nonblock(fds[0]) == -1) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		errno = e;
		return -1;
	}
	return 0;
}

/* Take reaping from libev: SIGCHLD to its default action, so that no
 * child is reaped before corun is done with its process group. */
void
child_own_reaping(void)
{
	struct sigaction sa;

	if (sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
}

/* Spawn argv and start watching it; the caller gets a handle it must not
 * free (the child frees itself after done). NULL, err and errno on
 * failure. */
struct child *
child_spawn(struct ev_loop *loop, char *const argv[], child_done_fn done,
	    void *ctx, char *err, size_t errlen)
{
	return child_spawn_in(loop, argv, NULL, done, ctx, err, errlen);
}

/* child_spawn with in's bytes (kept by the caller until done; NULL:
 * /dev/null) fed to the child's standard input. */
struct child *
child_spawn_in(struct ev_loop *loop, char *const argv[],
	       const struct feed_src *in, child_done_fn done, void *ctx,
	       char *err, size_t errlen)
{
	int outp[2], errp[2], inp[2] = {-1, -1};
	pid_t pid;
	int rc, pidfd = -1, outfile = child_outfile;

	child_own_reaping();
	child_outfile = -1;

	if (in != NULL && feed_pipe(inp) == -1) {
		rc = errno;
		errfmt(err, errlen, "cannot create pipe: %s", strerror(rc));
		errno = rc;
		return NULL;
	}
	if (outfile != -1) {
		outp[0] = -1; /* no pipe: the child writes the file */
		outp[1] = outfile;
	} else if (child_pipe(outp) == -1) {
		rc = errno;
		errfmt(err, errlen, "cannot create pipe: %s", strerror(rc));
		child_close_pair(inp);
		errno = rc;
		return NULL;
	}
	if (child_pipe(errp) == -1) {
		rc = errno;
		errfmt(err, errlen, "cannot create pipe: %s", strerror(rc));
		if (outfile == -1) {
			close(outp[0]);
			close(outp[1]);
		}
		child_close_pair(inp);
		errno = rc;
		return NULL;
	}
	rc = spawn_child_in(&pid, argv, inp[0], outp[1], errp[1]);
	if (outfile == -1)
		close(outp[1]);
	close(errp[1]);
	if (inp[0] != -1)
		close(inp[0]);
	/* Nobody reaps but us (child_own_reaping): the pid is still ours.
	 * Without pidfds (ENOSYS) the child is polled instead. */
	if (rc == 0 && (pidfd = pidfd_open(pid, 0)) == -1 && errno != ENOSYS) {
		rc = errno;
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	if (rc != 0) {
		errfmt(err, errlen, "exec: %s: %s", argv[0], strerror(rc));
		if (outp[0] != -1)
			close(outp[0]);
		close(errp[0]);
		if (inp[1] != -1)
			close(inp[1]);
		errno = rc;
		return NULL;
	}

	struct child *c = xcalloc(1, sizeof *c);

	c->loop = loop;
	c->pid = pid;
	c->done = done;
	c->ctx = ctx;
	ev_io_init(&c->exit_w, child_exit_cb, pidfd, EV_READ);
	ev_io_init(&c->out_w, child_read_cb, outp[0], EV_READ);
	ev_io_init(&c->err_w, child_read_cb, errp[0], EV_READ);
	ev_timer_init(&c->kill_w, child_kill_cb, 0, 0);
	ev_timer_init(&c->drain_w, child_drain_cb, 0, 0);
	c->exit_w.data = c->out_w.data = c->err_w.data = c;
	c->kill_w.data = c->drain_w.data = c;
	if (pidfd != -1) {
		ev_io_start(loop, &c->exit_w);
	} else if (!ev_is_active(&child_poll_w)) {
		ev_timer_init(&child_poll_w, child_poll_cb, CHILD_POLL,
			      CHILD_POLL);
		ev_timer_start(loop, &child_poll_w);
	}
	if (!child_paused) {
		if (outp[0] != -1)
			ev_io_start(loop, &c->out_w);
		ev_io_start(loop, &c->err_w);
	}

	if (inp[1] != -1)
		c->in = feed_start(loop, inp[1], in);
	LIST_INSERT_HEAD(&child_list, c, link);
	child_live++;
	return c;
}

/* SIGTERM the group and SIGKILL it grace seconds later (at once when
 * grace <= 0); the child ends CHILD_KILL_MARGIN after the SIGKILL at the
 * latest. Later calls change nothing, except that grace <= 0 still sends
 * SIGKILL at once. */
void
child_kill(struct child *c, double grace)
{
	if (c->stop == STOP_KILL)
		return;
	if (grace <= 0) {
		ev_timer_stop(c->loop, &c->kill_w);
		c->stop = STOP_KILL;
		child_signal(c, SIGKILL);
		c->stop_by = ev_now(c->loop) + CHILD_KILL_MARGIN;
		child_arm_drain(c);
		return;
	}
	if (c->stop == STOP_TERM)
		return;
	c->stop = STOP_TERM;
	child_signal(c, SIGTERM);
	ev_timer_set(&c->kill_w, grace, 0);
	ev_timer_start(c->loop, &c->kill_w);
	c->stop_by = ev_now(c->loop) + grace + CHILD_KILL_MARGIN;
	child_arm_drain(c);
}

/* Give the pipes secs (at least CHILD_DRAIN_MIN) to reach EOF once a
 * child has exited; for children spawned from now on. */
void
child_set_drain(double secs)
{
	child_drain = secs;
}

/* Signal with fn instead of kill(2) (tests watch the signals sent). */
void
child_set_killer(int (*fn)(pid_t, int))
{
	child_killer = fn != NULL ? fn : kill;
}

/* The child's pid (and process group). */
pid_t
child_pid(const struct child *c)
{
	return c->pid;
}

/* Number of children spawned and not yet finished. */
int
child_count(void)
{
	return child_live;
}

/* The way out of a run: SIGKILL every live child's group, close its
 * pipes and reap it (waiting CHILD_REAP_WAIT at most for all), calling
 * forget(pid) before each reap; done is not called. */
void
child_shutdown(void (*forget)(pid_t))
{
	struct child *c;
	int left = 0;

	LIST_FOREACH(c, &child_list, link) {
		child_signal(c, SIGKILL);
		left++;
	}
	for (int tries = 0; left > 0 && tries <= CHILD_REAP_WAIT * 100;
	     tries++) {
		struct child *next;

		if (tries > 0)
			nanosleep(&(struct timespec){0, 10000000}, NULL);
		for (c = LIST_FIRST(&child_list); c != NULL; c = next) {
			siginfo_t si;

			next = LIST_NEXT(c, link);
			memset(&si, 0, sizeof si);
			if (!c->reaped &&
			    waitid(P_PID, (id_t)c->pid, &si,
				   WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == 0)
				continue;
			if (forget != NULL)
				forget(c->pid);
			child_reap(c);
			ev_timer_stop(c->loop, &child_poll_w);
			ev_io_stop(c->loop, &c->exit_w);
			if (c->exit_w.fd != -1)
				close(c->exit_w.fd);
			if (c->out_w.fd != -1)
				child_pipe_close(c, &c->out_w);
			if (c->err_w.fd != -1)
				child_pipe_close(c, &c->err_w);
			feed_free(c->in);
			ev_timer_stop(c->loop, &c->kill_w);
			ev_timer_stop(c->loop, &c->drain_w);
			LIST_REMOVE(c, link);
			child_live--;
			left--;
			buf_free(&c->out);
			buf_free(&c->err);
			free(c);
		}
	}
}

/* The next child_spawn puts the child's standard output on fd (a file
 * the caller keeps) instead of a pipe. */
void
child_next_stdout(int fd)
{
	child_outfile = fd;
}

/* Send the child's bytes to tap(arg, ...) from now on. */
void
child_set_tap(struct child *c, child_tap_fn tap, void *arg)
{
	c->tap = tap;
	c->tap_arg = arg;
}

/* Stop (pause 1) or resume (0) reading every child's pipes, now and for
 * children spawned meanwhile. */
void
child_pause_reads(int pause)
{
	struct child *c;

	if (child_paused == (pause != 0))
		return;
	child_paused = pause != 0;
	LIST_FOREACH(c, &child_list, link) {
		ev_io *ws[2] = {&c->out_w, &c->err_w};

		for (int i = 0; i < 2; i++) {
			if (ws[i]->fd == -1)
				continue;
			if (child_paused)
				ev_io_stop(c->loop, ws[i]);
			else
				ev_io_start(c->loop, ws[i]);
		}
	}
}
