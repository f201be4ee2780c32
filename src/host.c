/*
 * host.c: one remote host's connection (corun(1), REMOTE WORKERS): its
 * launcher, the pipes the loop watches, the greeting and HELLO, frames
 * both ways, basefiles, heartbeats, and what a loss does to the
 * connection (remote.c decides what happens to its jobs).
 *
 * The launcher is `sh -c` of --launcher with {host} shell-quoted (":" is
 * this binary started directly with --serve and the run's -j, -P, -T),
 * in its own process group, with its stdin, stdout and stderr on pipes.
 * The parent speaks first and does not wait: greeting, HELLO, then each
 * --basefile as FILE chunks, queued a chunk at a time as the pipe drains
 * so a big file never sits whole in memory. The host is up once the
 * worker's greeting and HELLO have come and check out. Frames are decoded
 * as they arrive (wire.h); everything queued for a host in one loop
 * iteration goes out in one write when its pipe is writable.
 *
 * A host is lost when its launcher exits (its pidfd; stdout's EOF alone
 * only stops reading), it breaks the protocol, or nothing has come from it
 * for --host-timeout (it is pinged every quarter of that, and so is the
 * worker's side). Then its pipes are closed, so nothing it sends later is
 * believed, its launcher's process group gets SIGTERM and SIGCONT (a
 * stopped worker must see it) and SIGKILL after --grace and a second, and
 * it is launched again after 1 s, doubling to 60 s while it keeps failing
 * (reset by a RESULT). The message of a loss quotes the launcher's last
 * stderr line when there is one (ssh's "Connection refused").
 *
 * Threads: loop thread only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corun.h"
#include "host.h"
#include "spawn.h"
#include "util.h"
#include "wire.h"

#define READ_CHUNK (256 * 1024)	  /* bytes asked of one read(2) */
#define READ_TURN (4u << 20)	  /* bytes read per callback, at most */
#define BACKOFF_MAX 60.0

struct host_ctx HC;

/* The host's slot for a new attempt: its tag. */
uint64_t
host_tag(struct host *h, struct rjob *rj)
{
	size_t i;

	if (h->nfree > 0) {
		i = h->freeslots[--h->nfree];
	} else {
		if (h->ntab == h->tabcap) {
			h->tabcap = h->tabcap ? 2 * h->tabcap : 64;
			h->tab = xrealloc(h->tab, h->tabcap * sizeof *h->tab);
			h->freeslots = xrealloc(
			    h->freeslots, h->tabcap * sizeof *h->freeslots);
		}
		i = h->ntab++;
	}
	h->tab[i] = rj;
	return ((uint64_t)++h->gen << 32) | (uint64_t)(i + 1);
}

/* The attempt a frame's tag names, or NULL. */
struct rjob *
host_find(struct host *h, uint64_t tag)
{
	uint64_t i = tag & 0xffffffffu;

	if (i == 0 || i > h->ntab || h->tab[i - 1] == NULL ||
	    h->tab[i - 1]->tag != tag)
		return NULL;
	return h->tab[i - 1];
}

/* The attempt is no longer the host's. */
void
host_forget(struct host *h, struct rjob *rj)
{
	size_t i = (size_t)(rj->tag & 0xffffffffu) - 1;

	h->tab[i] = NULL;
	h->freeslots[h->nfree++] = i;
	TAILQ_REMOVE(&h->jobs, rj, entry);
	h->busy[rj->rc]--;
	h->nbusy--;
	slots_give(&h->jslots, rj->at->slot);
	rj->at->slot = 0;
	rj->at->xdata = NULL;
}

/* There is something to send: write when the pipe takes it. */
void
host_want_write(struct host *h)
{
	if (h->in >= 0 && h->wbuf.len > 0 && !ev_is_active(&h->wio))
		ev_io_start(HC.loop, &h->wio);
}

/* Queue the next chunk of the basefile being sent, opening the next
 * file when one is done; all queued: nfile == nbasefiles. */
static void
host_queue_files(struct host *h)
{
	char *chunk = NULL;

	while (h->nfile < HC.opts->nbasefiles && h->wbuf.len < SEND_HIGH) {
		const char *name = HC.opts->basefiles[h->nfile];
		struct wire_file f = {0};
		ssize_t n;

		if (h->filefd < 0) {
			h->filefd = open(name, O_RDONLY | O_CLOEXEC);
			h->fileoff = 0;
			if (h->filefd < 0) {
				char why[256];

				errfmt(why, sizeof why, "--basefile %s: %s",
				       name, strerror(errno));
				free(chunk);
				host_lost(h, why, 1);
				return;
			}
		}
		if (chunk == NULL)
			chunk = xmalloc(WIRE_CHUNK_MAX);
		n = pread(h->filefd, chunk, WIRE_CHUNK_MAX, (off_t)h->fileoff);
		if (n < 0) {
			char why[256];

			free(chunk);
			errfmt(why, sizeof why, "--basefile %s: %s", name,
			       strerror(errno));
			host_lost(h, why, 1);
			return;
		}
		f = (struct wire_file){.offset = h->fileoff,
				       .last = n == 0,
				       .name = name,
				       .namelen = (uint32_t)strlen(name),
				       .data = chunk,
				       .datalen = (uint32_t)n};
		(void)wire_put_file(&h->wbuf, &f);
		h->fileoff += (uint64_t)n;
		if (n == 0) {
			close(h->filefd);
			h->filefd = -1;
			h->nfile++;
		}
	}
	free(chunk);
	host_want_write(h);
}

/* Write what waits for the worker. */
static void
host_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct host *h = w->data;
	ssize_t n;

	(void)revents;
	while (h->wbuf.len > 0) {
		n = write(h->in, h->wbuf.data, h->wbuf.len);
		if (n > 0) {
			buf_consume(&h->wbuf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		host_lost(h, "its standard input closed", 0);
		return;
	}
	ev_io_stop(loop, w);
	if (h->nfile < HC.opts->nbasefiles)
		host_queue_files(h);
}

/* Keep the last non-empty line of bytes from the launcher's stderr. */
static void
host_err_bytes(struct host *h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n' && p[i] != '\r') {
			if (h->epart.len < ERRLINE - 1)
				buf_addc(&h->epart, p[i]);
			continue;
		}
		if (h->epart.len > 0) {
			snprintf(h->errline, sizeof h->errline, "%s",
				 h->epart.data);
			buf_reset(&h->epart);
		}
	}
}

/* Read what the launcher wrote to stderr (until it would block). */
static void
host_drain_err(struct host *h)
{
	char tmp[4096];
	ssize_t n;

	if (h->err < 0)
		return;
	while ((n = read(h->err, tmp, sizeof tmp)) > 0)
		host_err_bytes(h, tmp, (size_t)n);
	if (n == 0 && h->epart.len > 0)
		host_err_bytes(h, "\n", 1);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		ev_io_stop(HC.loop, &h->eio);
		close(h->err);
		h->err = -1;
	}
}

/* The launcher's stderr is readable. */
static void
host_err_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop, (void)revents;
	host_drain_err(w->data);
}

/* The launcher has changed state: reap it if it ended. */
static void
host_reap(struct host *h)
{
	char why[128];
	int st;

	if (h->pid <= 0 || waitpid(h->pid, &st, WNOHANG) != h->pid)
		return;
	h->pid = 0;
	if (ev_is_active(&h->pio)) {
		ev_io_stop(HC.loop, &h->pio);
		close(h->pio.fd);
	}
	ev_timer_stop(HC.loop, &h->kill);
	if (h->state == H_STARTING || h->state == H_UP) {
		char desc[96];

		wait_describe(desc, sizeof desc, st);
		errfmt(why, sizeof why, "its launcher %s", desc);
		host_lost(h, why, 0);
	}
}

/* The launcher's pidfd is readable: it ended. */
static void
host_exit_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop, (void)revents;
	host_reap(w->data);
}

/* A lost launcher had its grace: SIGKILL its group. */
static void
host_kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct host *h = w->data;

	(void)loop, (void)revents;
	if (h->pid > 0)
		killpg(h->pid, SIGKILL);
}

/* A frame from an up host. */
static void
host_frame(struct host *h, const struct wire_msg *m)
{
	struct rjob *rj;
	char why[WIRE_VERSION_MAX + 512];

	switch (m->type) {
	case WIRE_HELLO:
		if (h->state != H_STARTING)
			break;
		if (wire_hello_check(h->name, HC.ours, &m->u.hello, why,
				     sizeof why) == -1) {
			host_lost(h, why, 1);
			return;
		}
		/* The worker's -j, -T and -P, as they limit jobs there; -j 0
		 * is no limit but the window. */
		h->cap[RC_CHILD] =
		    m->u.hello.jobs ? (int)m->u.hello.jobs : RC_WINDOW;
		h->cap[RC_THREAD] =
		    m->u.hello.threads ? (int)m->u.hello.threads : 1;
		h->cap[RC_PROCESS] =
		    m->u.hello.procs ? (int)m->u.hello.procs : 1;
		h->cap[RC_LOOP] = RC_WINDOW;
		h->state = H_UP;
		h->dead = 0;
		return;
	case WIRE_STARTED:
		if (h->state != H_UP || (rj = host_find(h, m->tag)) == NULL)
			break;
		if (!rj->started) {
			rj->started = 1;
			remote_started(rj);
		}
		return;
	case WIRE_RESULT:
		if (h->state != H_UP || (rj = host_find(h, m->tag)) == NULL)
			break;
		host_forget(h, rj);
		h->backoff = BACKOFF_FIRST;
		remote_result(rj, &m->u.result);
		return;
	case WIRE_PING:
		wire_put_pong(&h->wbuf, m->tag);
		host_want_write(h);
		return;
	case WIRE_PONG:
		return;
	case WIRE_BYE:
		host_lost(h, "its worker said goodbye", 0);
		return;
	default:
		break;
	}
	errfmt(why, sizeof why, "protocol error: an unexpected %s frame",
	       wire_type_name(m->type));
	host_lost(h, why, 0);
}

/* Take the whole frames (and first the greeting) that have come. */
static void
host_parse(struct host *h)
{
	size_t off = 0;
	char why[WIRE_VERSION_MAX + 512];

	while (h->state == H_STARTING || h->state == H_UP) {
		const char *p = h->rbuf.data + off;
		size_t n = h->rbuf.len - off;
		struct wire_greeting g;
		struct wire_msg m;
		ssize_t rc;

		if (!h->greeted) {
			rc = wire_greeting_decode(p, n, &g, why, sizeof why);
			if (rc > 0 && wire_greeting_check(h->name, &g, why,
							  sizeof why) == -1)
				rc = -1;
			if (rc < 0)
				host_lost(h, why, 1);
			if (rc <= 0)
				break;
			h->greeted = 1;
			off += (size_t)rc;
			continue;
		}
		rc = wire_decode(p, n, &m, why, sizeof why);
		if (rc == 0)
			break;
		if (rc < 0) {
			char msg[sizeof why + 32];

			errfmt(msg, sizeof msg, "protocol error: %s", why);
			host_lost(h, msg, 0);
			break;
		}
		off += (size_t)rc;
		host_frame(h, &m);
	}
	if (h->state == H_STARTING || h->state == H_UP)
		buf_consume(&h->rbuf, off);
}

/* The worker's stdout is readable. */
static void
host_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct host *h = w->data;
	size_t got = 0;

	(void)revents;
	while (got < READ_TURN) {
		ssize_t n;

		buf_reserve(&h->rbuf, READ_CHUNK);
		n = read(h->out, h->rbuf.data + h->rbuf.len, READ_CHUNK);
		if (n > 0) {
			h->rbuf.len += (size_t)n;
			got += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		/* EOF: the launcher is ending; its exit (or the heartbeat)
		 * says why. */
		ev_io_stop(loop, w);
		break;
	}
	if (got > 0) {
		h->heard = ev_now(loop);
		host_parse(h);
	}
	if (!ev_is_active(w) && (h->state == H_STARTING || h->state == H_UP)) {
		host_reap(h);
		if (h->pid == 0 || h->out < 0)
			return;
		if (h->state == H_STARTING || h->state == H_UP) {
			/* Stdout closed, launcher alive: lost once it exits
			 * or the heartbeat says so. */
			close(h->out);
			h->out = -1;
		}
	}
}

/* Every quarter of --host-timeout: is the host still there? Ping it.
 * While H_WAIT: the relaunch delay has passed. */
static void
host_beat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct host *h = w->data;
	char why[96];

	(void)revents;
	if (h->state == H_WAIT) {
		ev_timer_stop(loop, w);
		host_launch(h);
		return;
	}
	host_reap(h);
	if (h->state != H_STARTING && h->state != H_UP)
		return;
	if (ev_now(loop) - h->heard > HC.opts->host_timeout) {
		errfmt(why, sizeof why, "no word from it for %gs (--host-timeout)",
		       HC.opts->host_timeout);
		host_lost(h, why, 0);
		return;
	}
	wire_put_ping(&h->wbuf, ++h->nonce);
	host_want_write(h);
}

/* Stop watching the host's pipes and close them. */
void
host_close(struct host *h)
{
	ev_io_stop(HC.loop, &h->rio);
	ev_io_stop(HC.loop, &h->wio);
	ev_io_stop(HC.loop, &h->eio);
	if (h->in >= 0)
		close(h->in);
	if (h->out >= 0)
		close(h->out);
	if (h->err >= 0)
		close(h->err);
	if (h->filefd >= 0)
		close(h->filefd);
	h->in = h->out = h->err = h->filefd = -1;
	buf_reset(&h->rbuf);
	buf_reset(&h->wbuf);
	buf_reset(&h->epart);
}

/* The host is gone: stop it, settle or move its attempts, and launch it
 * again later (refused: never). */
void
host_lost(struct host *h, const char *why, int refused)
{
	const char *reason;
	char msg[ERRLINE + 512];

	if (h->state != H_STARTING && h->state != H_UP)
		return;
	host_drain_err(h);
	reason = refused || h->errline[0] == '\0' ? why : h->errline;
	errfmt(msg, sizeof msg, "host lost: %s: %s", h->name, reason);
	warnx("%s", msg);
	if (h->state == H_STARTING)
		h->dead = 1;
	host_close(h);
	ev_timer_stop(HC.loop, &h->beat);
	if (h->pid > 0) {
		killpg(h->pid, SIGTERM);
		killpg(h->pid, SIGCONT);
		ev_timer_set(&h->kill, HC.opts->grace + 1, 0.);
		ev_timer_start(HC.loop, &h->kill);
	}
	h->state = refused ? H_REFUSED : H_WAIT;
	remote_lost(h, msg);
	if (!refused) {
		ev_timer_set(&h->beat, h->backoff, 0.);
		ev_timer_start(HC.loop, &h->beat);
		h->backoff = fmin(h->backoff * 2, BACKOFF_MAX);
	}
}

/* Append a job's line to the host's command template: {host} becomes the
 * host's name, shell-quoted. */
static void
host_command(struct buf *b, const char *tmpl, const char *name)
{
	const char *p = tmpl, *q;

	while ((q = strstr(p, "{host}")) != NULL) {
		buf_add(b, p, (size_t)(q - p));
		buf_add_squoted(b, name);
		p = q + 6;
	}
	buf_adds(b, p);
}

/* Start the host's worker: spawn its launcher with three pipes, and send
 * our greeting, HELLO and basefiles. */
void
host_launch(struct host *h)
{
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	struct buf cmd = BUF_INIT;
	char nums[3][16], why[300];
	char *argv[10];
	int rc = 0, pidfd;
	pid_t pid;

	/* The last launcher is normally reaped by now (its pidfd); without
	 * pidfds, make sure. */
	if (h->pid > 0)
		host_end(h, mono_now());
	if (h->local) {
		snprintf(nums[0], sizeof nums[0], "%d", HC.opts->jobs);
		snprintf(nums[1], sizeof nums[1], "%d", HC.opts->procs);
		snprintf(nums[2], sizeof nums[2], "%d", HC.opts->threads);
		argv[0] = (char *)HC.self;
		argv[1] = (char *)"--serve";
		argv[2] = (char *)"-j";
		argv[3] = nums[0];
		argv[4] = (char *)"-P";
		argv[5] = nums[1];
		argv[6] = (char *)"-T";
		argv[7] = nums[2];
		argv[8] = NULL;
	} else {
		host_command(&cmd, HC.opts->launcher ? HC.opts->launcher
						    : CORUN_DEFAULT_LAUNCHER,
			     h->name);
		argv[0] = (char *)"sh";
		argv[1] = (char *)"-c";
		argv[2] = cmd.data;
		argv[3] = NULL;
	}
	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1 ||
	    pipe2(perr, O_CLOEXEC) == -1)
		rc = errno;
	if (rc == 0)
		rc = spawn_child_in(&pid, argv, pin[0], pout[1], perr[1]);
	buf_free(&cmd);
	/* The child's ends are the child's now. */
	if (pin[0] >= 0)
		close(pin[0]);
	if (pout[1] >= 0)
		close(pout[1]);
	if (perr[1] >= 0)
		close(perr[1]);
	h->in = pin[1];
	h->out = pout[0];
	h->err = perr[0];
	h->state = H_STARTING;
	h->greeted = 0;
	h->errline[0] = '\0';
	h->heard = ev_now(HC.loop);
	if (rc != 0) {
		errfmt(why, sizeof why, "cannot start its launcher: %s",
		       strerror(rc));
		h->pid = 0;
		host_lost(h, why, 0);
		return;
	}
	h->pid = pid;
	fd_nonblock(h->in);
	fd_nonblock(h->out);
	fd_nonblock(h->err);
	ev_io_set(&h->rio, h->out, EV_READ);
	ev_io_set(&h->wio, h->in, EV_WRITE);
	ev_io_set(&h->eio, h->err, EV_READ);
	ev_io_start(HC.loop, &h->rio);
	ev_io_start(HC.loop, &h->eio);
	if ((pidfd = pidfd_open(pid, 0)) >= 0) {
		fd_cloexec(pidfd);
		ev_io_set(&h->pio, pidfd, EV_READ);
		ev_io_start(HC.loop, &h->pio);
	}
	ev_timer_set(&h->beat, HC.opts->host_timeout / 4,
		     HC.opts->host_timeout / 4);
	ev_timer_start(HC.loop, &h->beat);
	wire_put_greeting(&h->wbuf);
	(void)wire_put_hello(&h->wbuf, HC.ours);
	h->nfile = 0;
	host_queue_files(h);
	host_want_write(h);
}

/* Wait until the time until (mono_now's clock) for the host's launcher
 * to end, then kill its group; reap it. */
void
host_end(struct host *h, double until)
{
	int st;

	while (h->pid > 0 && waitpid(h->pid, &st, WNOHANG) == 0) {
		if (mono_now() >= until) {
			killpg(h->pid, SIGKILL);
			while (waitpid(h->pid, &st, 0) == -1 && errno == EINTR)
				;
			break;
		}
		usleep(10000);
	}
	h->pid = 0;
}

/* Set up a host from its -S entry ("[N/]HOST" or ":"), not launched. */
void
host_init(struct host *h, const char *e)
{
	const char *slash = strchr(e, '/');


	if (slash != NULL) {
		h->slots = atoi(e);
		e = slash + 1;
	}
	h->name = xstrdup(e);
	h->local = strcmp(e, ":") == 0;
	h->in = h->out = h->err = h->filefd = -1;
	h->backoff = BACKOFF_FIRST;
	TAILQ_INIT(&h->jobs);
	ev_io_init(&h->rio, host_read_cb, -1, EV_READ);
	ev_io_init(&h->wio, host_write_cb, -1, EV_WRITE);
	ev_io_init(&h->eio, host_err_cb, -1, EV_READ);
	ev_io_init(&h->pio, host_exit_cb, -1, EV_READ);
	ev_init(&h->beat, host_beat_cb);
	ev_init(&h->kill, host_kill_cb);
	h->rio.data = h->wio.data = h->eio.data = h->pio.data = h;
	h->beat.data = h->kill.data = h;
}

/* Free what a host holds (its launcher is reaped by then). */
void
host_free(struct host *h)
{
	free(h->name);
	free(h->tab);
	free(h->freeslots);
	buf_free(&h->rbuf);
	buf_free(&h->wbuf);
	buf_free(&h->epart);
	slots_free(&h->jslots);
}
