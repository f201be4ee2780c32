/*
 * child.c: child processes of exec and sh jobs, driven by the loop.
 *
 * A child is spawned with posix_spawnp in a process group of its own
 * (pgid = pid), signals unblocked and set to their defaults, standard input
 * on /dev/null and standard output and error on two pipes. Every pipe end
 * is created close-on-exec, so a child sees only the three descriptors its
 * file actions put on 0, 1 and 2; the loop's read ends are non-blocking
 * and watched by ev_io, the child's exit by ev_child (libev's default loop
 * only, which is the one that reaps).
 *
 * State machine: a child is live from child_spawn until both pipes are at
 * EOF and the process has been reaped. The two events come in either order
 * (a grandchild may hold the pipes after the child exited; a child may
 * close its output long before it exits); child_check_done runs after each
 * of them and finishes the child once all three have happened: it builds
 * the result, calls done exactly once and frees everything.
 *
 * Output memory is bounded. Standard output is kept up to CORUN_OUTPUT_CAP
 * bytes; the rest is read and dropped (and counted), so the writer never
 * blocks on a full pipe or gets SIGPIPE. Standard error is kept in a buffer
 * of at most CORUN_STDERR_CAP bytes that becomes a ring once full, so it
 * holds the last bytes written; it is put in order when the child ends.
 * Reads go through one static chunk, at most CHILD_READS of them per
 * callback, so a chatty child cannot starve the rest of the loop. While
 * records wait for a slow reader beyond the bound (child_pause_reads, from
 * the output module), no pipe is read: children block on full pipes and
 * none finishes, so no record is added.
 *
 * Stopping: child_kill sends SIGTERM to the group and arms a timer that
 * sends SIGKILL after the grace period. Signals go to the group even after
 * the child itself was reaped, since grandchildren may still hold the
 * pipes; the group id cannot be reused while any member lives (only a
 * pipe holder that left the group could leave it empty but the child
 * unfinished).
 *
 * Threads: loop thread only. The list of live children is static.
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
#include <sys/stat.h>
#include <unistd.h>

#include "corun.h"
#include "child.h"
#include "table.h"
#include "future.h"
#include "util.h"

#define CHILD_READS 4 /* reads per callback before yielding */

enum child_stop { STOP_NONE, STOP_TERM, STOP_KILL };

struct child {
	struct ev_loop *loop;
	pid_t pid; /* also the process group id */
	child_done_fn done;
	void *ctx;

	ev_child exit_w;
	ev_io out_w;	 /* standard output; fd -1 at EOF */
	ev_io err_w;	 /* standard error; fd -1 at EOF */
	ev_timer kill_w; /* SIGKILL after the grace period */

	bool reaped;
	int status; /* wait status, once reaped */
	enum child_stop stop;

	struct buf out;	  /* stdout, at most CORUN_OUTPUT_CAP bytes */
	uint64_t dropped; /* stdout bytes read beyond the cap */
	struct buf err;	  /* stderr; a ring once CORUN_STDERR_CAP full */
	size_t err_head;  /* ring: index of the oldest byte */

	LIST_ENTRY(child) link; /* in child_list */
};

static LIST_HEAD(, child) child_list = LIST_HEAD_INITIALIZER(child_list);
static int child_live;
static bool child_paused; /* child_pause_reads: pipes are not watched */
static char child_chunk[IO_CHUNK];

/* Grow b so that n more bytes fit, never beyond limit bytes of content. */
static void
child_buf_fit(struct buf *b, size_t n, size_t limit)
{
	size_t want = b->len + n + 1;
	size_t cap = b->cap ? b->cap : 256;

	if (want <= b->cap)
		return;
	while (cap < want)
		cap *= 2;
	if (cap > limit + 1)
		cap = limit + 1;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

/* Keep stdout bytes up to the cap; count and drop the rest. */
static void
child_take_out(struct child *c, const char *p, size_t n)
{
	size_t room = CORUN_OUTPUT_CAP - c->out.len;
	size_t keep = n < room ? n : room;

	if (keep > 0) {
		child_buf_fit(&c->out, keep, CORUN_OUTPUT_CAP);
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

	if (b->len < cap) {
		size_t take = n < cap - b->len ? n : cap - b->len;

		child_buf_fit(b, take, cap);
		buf_add(b, p, take);
		p += take;
		n -= take;
	}
	if (n == 0)
		return;
	if (n >= cap) {
		memcpy(b->data, p + n - cap, cap);
		c->err_head = 0;
		return;
	}
	size_t first = n < cap - c->err_head ? n : cap - c->err_head;

	memcpy(b->data + c->err_head, p, first);
	memcpy(b->data, p + first, n - first);
	c->err_head = (c->err_head + n) % cap;
}

/* Put the stderr ring in order, oldest byte first. */
static void
child_err_unwrap(struct child *c)
{
	struct buf *b = &c->err;
	size_t head = c->err_head;

	if (head == 0)
		return;
	char *p = xmalloc(b->len + 1);

	memcpy(p, b->data + head, b->len - head);
	memcpy(p + b->len - head, b->data, head);
	p[b->len] = '\0';
	free(b->data);
	b->data = p;
	b->cap = b->len + 1;
	c->err_head = 0;
}

/* Send sig to the child's group; to the child alone if the group is gone
 * while the child is not reaped (it left the group itself). */
static void
child_signal(struct child *c, int sig)
{
	if (kill(-c->pid, sig) == -1 && !c->reaped)
		kill(c->pid, sig);
}

/* Build the result and hand it to done; then free the child. */
static void
child_finish(struct child *c)
{
	struct result res;

	ev_timer_stop(c->loop, &c->kill_w);
	LIST_REMOVE(c, link);
	child_live--;

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
	res.truncated = c->dropped > 0;
	res.has_errout = true;
	child_err_unwrap(c);
	res.value = c->out;
	res.errout = c->err;

	c->done(c->ctx, &res);
	result_free(&res);
	free(c);
}

/* Finish the child if it is reaped and both pipes are at EOF. */
static void
child_check_done(struct child *c)
{
	if (c->reaped && c->out_w.fd == -1 && c->err_w.fd == -1)
		child_finish(c);
}

/* Stop watching a pipe and close it (EOF or a read error). */
static void
child_pipe_close(struct child *c, ev_io *w)
{
	ev_io_stop(c->loop, w);
	close(w->fd);
	ev_io_set(w, -1, 0);
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

/* The child terminated (libev reaped it). */
static void
child_exit_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct child *c = w->data;

	(void)revents;
	ev_child_stop(loop, w);
	c->status = w->rstatus;
	c->reaped = true;
	child_check_done(c);
}

/* The grace period is over: SIGKILL the group. */
static void
child_kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child *c = w->data;

	(void)loop;
	(void)revents;
	c->stop = STOP_KILL;
	child_signal(c, SIGKILL);
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


/* Close every fd above 2 in the child. corun's own fds are close-on-exec
 * already; this also covers fds a library thread (curl's resolver) opens
 * without it while a child is being spawned. */
static int
child_closefrom(posix_spawn_file_actions_t *fa)
{
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	return posix_spawn_file_actions_addclosefrom_np(fa, 3);
#else
	(void)fa;
	return 0;
#endif
}

/*
 * The file a program name runs, searched in PATH once and remembered, as a
 * shell's command hash does: a name without a slash would otherwise cost
 * every child a failed exec for each PATH directory before its own (W1:
 * half of a trivial child's time here). NULL when no directory has it;
 * the caller then lets posix_spawnp report the error.
 */
static const char *
child_which(const char *name)
{
	static struct strtab seen;   /* name -> index + 1 in paths */
	static char **paths;
	static size_t npaths;
	const char *path = getenv("PATH");
	uint64_t i;

	if (strchr(name, '/') != NULL || name[0] == '\0')
		return name;
	if ((i = strtab_get(&seen, name)) != 0)
		return paths[i - 1];
	if (path == NULL)
		return NULL;
	for (const char *p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t dlen = end != NULL ? (size_t)(end - p) : strlen(p);
		struct buf file = BUF_INIT;
		struct stat st;

		/* An empty entry is the current directory: not cached. */
		if (dlen == 0)
			return NULL;
		buf_add(&file, p, dlen);
		buf_addc(&file, '/');
		buf_adds(&file, name);
		if (stat(file.data, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(file.data, X_OK) == 0) {
			paths = xrealloc(paths, (npaths + 1) * sizeof *paths);
			paths[npaths++] = buf_steal(&file);
			strtab_add(&seen, name, npaths);
			return paths[npaths - 1];
		}
		buf_free(&file);
		if (end == NULL)
			return NULL;
		p = end;
	}
}

/*
 * The signals a child must have reset to their default action: those
 * corun ignores (SIGPIPE, and any it inherited ignored), since exec keeps
 * an ignored signal ignored. Caught ones are reset by exec itself. Asking
 * posix_spawn to reset only these, rather than every signal, saves some
 * sixty sigaction calls in each child before its exec. Computed at the
 * first spawn: corun sets its dispositions once, at start-up.
 */
static const sigset_t *
child_sigdefault(void)
{
	static sigset_t set;
	static int ready;

	if (!ready) {
		sigemptyset(&set);
		for (int sig = 1; sig < NSIG; sig++) {
			struct sigaction sa;

			if (sig != SIGKILL && sig != SIGSTOP &&
			    sigaction(sig, NULL, &sa) == 0 &&
			    sa.sa_handler == SIG_IGN)
				sigaddset(&set, sig);
		}
		ready = 1;
	}
	return &set;
}

/* Spawn argv (its program searched in PATH) with /dev/null, out and err on
 * 0, 1 and 2, in a new process group with default signals; 0 or an errno
 * value. */
static int
child_exec(pid_t *pid, char *const argv[], int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
		      POSIX_SPAWN_SETSIGDEF;
	const char *file = child_which(argv[0]);
	sigset_t none;
	int rc;

	rc = posix_spawn_file_actions_init(&fa);
	if (rc != 0)
		return rc;
	rc = posix_spawnattr_init(&at);
	if (rc != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	sigemptyset(&none);
	/* dup2 before the open: the pipe ends can be low fds when corun was
	 * started with 0, 1 or 2 closed, and a write end is never fd 0. */
	if ((rc = posix_spawn_file_actions_adddup2(&fa, out, 1)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, err, 2)) == 0 &&
	    (rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
						   O_RDONLY, 0)) == 0 &&
	    (rc = child_closefrom(&fa)) == 0 &&
	    (rc = posix_spawnattr_setflags(&at, flags)) == 0 &&
	    (rc = posix_spawnattr_setpgroup(&at, 0)) == 0 &&
	    (rc = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (rc = posix_spawnattr_setsigdefault(&at, child_sigdefault())) == 0)
		rc = file != NULL
			 ? posix_spawn(pid, file, &fa, &at, argv, environ)
			 : posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* Spawn argv and start watching it; the caller gets a handle it must not
 * free (the child frees itself after done). NULL, err and errno on
 * failure. */
struct child *
child_spawn(struct ev_loop *loop, char *const argv[], child_done_fn done,
	    void *ctx, char *err, size_t errlen)
{
	int outp[2], errp[2];
	pid_t pid;
	int rc;

	if (child_pipe(outp) == -1) {
		rc = errno;
		errfmt(err, errlen, "cannot create pipe: %s", strerror(rc));
		errno = rc;
		return NULL;
	}
	if (child_pipe(errp) == -1) {
		rc = errno;
		errfmt(err, errlen, "cannot create pipe: %s", strerror(rc));
		close(outp[0]);
		close(outp[1]);
		errno = rc;
		return NULL;
	}
	rc = child_exec(&pid, argv, outp[1], errp[1]);
	close(outp[1]);
	close(errp[1]);
	if (rc != 0) {
		errfmt(err, errlen, "exec: %s: %s", argv[0], strerror(rc));
		close(outp[0]);
		close(errp[0]);
		errno = rc;
		return NULL;
	}

	struct child *c = xcalloc(1, sizeof *c);

	c->loop = loop;
	c->pid = pid;
	c->done = done;
	c->ctx = ctx;
	ev_child_init(&c->exit_w, child_exit_cb, pid, 0);
	ev_io_init(&c->out_w, child_read_cb, outp[0], EV_READ);
	ev_io_init(&c->err_w, child_read_cb, errp[0], EV_READ);
	ev_timer_init(&c->kill_w, child_kill_cb, 0, 0);
	c->exit_w.data = c->out_w.data = c->err_w.data = c->kill_w.data = c;
	ev_child_start(loop, &c->exit_w);
	if (!child_paused) {
		ev_io_start(loop, &c->out_w);
		ev_io_start(loop, &c->err_w);
	}

	LIST_INSERT_HEAD(&child_list, c, link);
	child_live++;
	return c;
}

/* SIGTERM the group and SIGKILL it grace seconds later (at once when
 * grace <= 0). Later calls change nothing, except that grace <= 0 still
 * sends SIGKILL at once. */
void
child_kill(struct child *c, double grace)
{
	if (c->stop == STOP_KILL)
		return;
	if (grace <= 0) {
		ev_timer_stop(c->loop, &c->kill_w);
		c->stop = STOP_KILL;
		child_signal(c, SIGKILL);
		return;
	}
	if (c->stop == STOP_TERM)
		return;
	c->stop = STOP_TERM;
	child_signal(c, SIGTERM);
	ev_timer_set(&c->kill_w, grace, 0);
	ev_timer_start(c->loop, &c->kill_w);
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

/* SIGKILL every live child's group now. */
void
child_kill_all(void)
{
	struct child *c;

	LIST_FOREACH(c, &child_list, link)
		child_kill(c, 0);
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
