/*
 * serve.c: corun --serve, the remote worker (corun(1), --serve).
 *
 * A parent corun starts this through its launcher (ssh, srun, kubectl
 * exec) and talks to it over its standard input and output in the frames
 * of wire.h; standard output carries nothing else, standard error is free
 * for messages (the parent keeps the last line).
 *
 * Start-up, before the engine exists (so blocking reads, bounded by
 * SERVE_HELLO_WAIT, are fine): our greeting and HELLO go out at once, then
 * the parent's greeting and HELLO are read and checked (a bad one: one
 * line on stderr, exit 2). The HELLO's environment is set, its workdir
 * entered and its grace made ours, and only then is the engine started, so
 * the fork server, the pools and every child inherit them.
 *
 * Then everything runs on the loop thread. Standard input is read without
 * blocking (stdin_reader) and every whole frame in what was read is
 * handled at once; frames to send are appended to one buffer, written when
 * standard output is writable (at most once per loop iteration, so many
 * RESULTs go out in one write). A JOB's line is a plan line (plan.h): its
 * id and executor, then the job in the job language, which is parsed and
 * submitted with a final function (no record): STARTED goes out when its
 * attempt starts, RESULT when it is final. Retries, ids, after= and
 * group= are the parent's business and are dropped here.
 *
 * Backpressure: this module is the scheduler's source of jobs. While the
 * scheduler is full (--max-inflight) or the outgoing buffer holds more
 * than SERVE_OUT_HIGH bytes, nothing more is decoded or read; the frames
 * after the JOB that filled it wait, in order, in the input buffer.
 *
 * Ending. BYE: no more JOBs; the jobs in flight finish, their RESULTs and
 * our BYE go out, exit 0. The end of standard input without BYE, a
 * protocol error, no byte from the parent for its heartbeat (while we
 * read), SIGTERM, SIGINT or SIGHUP (the engine's handlers: sched_stop)
 * tear the worker down: every job is cancelled as a local run's first
 * signal does (TERM to its process group, KILL after the grace), their
 * RESULTs and a BYE are sent if standard output still takes them, and the
 * worker exits; SERVE_GIVE_UP seconds after the grace it stops waiting. A
 * cut-off host is left with nothing running, whatever sshd does.
 *
 * Threads: loop thread only, after start-up. Memory: a struct sjob per
 * JOB in flight, freed with its job when its RESULT is queued.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corun.h"
#include "engine.h"
#include "kinds.h"
#include "parse.h"
#include "pool_proc.h"
#include "report.h"
#include "sched.h"
#include "serve.h"
#include "table.h"
#include "util.h"
#include "wire.h"

#define SERVE_HELLO_WAIT 60.0 /* seconds for the parent's greeting, HELLO */
#define SERVE_GIVE_UP 5.0     /* seconds after the grace, tearing down */
#define SERVE_FLUSH_WAIT 5.0  /* seconds for the last bytes at exit */
#define SERVE_OUT_HIGH (8u << 20) /* outgoing bytes that stop reading */
#define SERVE_READ (256u * 1024)  /* bytes asked for per read */

/* A JOB in flight: its tag, and its job once submitted. */
struct sjob {
	uint64_t tag;
	struct job *job;
	int submitting; /* inside sched_submit: its final call must wait */
	int final;	/* final inside sched_submit */
	int cancelled;	/* a CANCEL came for it */
};

static struct {
	struct corun_options *opts;
	struct ev_loop *loop;
	int rfd, rsock;	   /* standard input, as stdin_reader gave it */
	int wfd, wsock;	   /* standard output, opened likewise */
	struct buf in;	   /* bytes read, not yet decoded */
	struct buf out;	   /* frames to write */
	ev_io rio, wio;
	ev_timer beat;	   /* our PINGs, and the parent's silence */
	ev_timer give_up;  /* tearing down for too long */
	double heartbeat;  /* the parent's, seconds; < 0: none */
	double heard;	   /* ev_now when the parent last sent a byte */
	uint64_t nonce;
	int paused;	   /* the scheduler is full */
	int eof;	   /* read no more: input ended, or tearing down */
	int bye;	   /* the parent said BYE */
	int bye_sent;
	int teardown;	   /* cancelling everything, then exit */
	int out_dead;	   /* standard output failed: drop what is queued */
	int status;	   /* the exit status */
	struct u64tab tags; /* tag -> struct sjob (tag 0: tag0) */
	struct sjob *tag0;
	/* The basefile being received (FILE), fd -1 when none. */
	int ffd;
	char *fname, *ftmp;
	uint64_t foff;
	mode_t umask;
} V;

/* One line on standard error, "corun --serve: MSG". */
static void CORUN_ATTR_PRINTF(1, 2)
serve_warn(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "corun --serve: %s\n", msg);
}

/* Standard output, to be written without blocking and without changing
 * its file description's flags (stdin_reader's way): a pipe is opened
 * anew, a socket is written with send(MSG_DONTWAIT), anything else (a
 * file) is fd 1 as it is. */
static int
serve_writer(int *sock)
{
	struct stat st;
	int fd;

	*sock = 0;
	if (fstat(STDOUT_FILENO, &st) == -1)
		return STDOUT_FILENO;
	if (S_ISSOCK(st.st_mode)) {
		*sock = 1;
		return STDOUT_FILENO;
	}
	if (S_ISFIFO(st.st_mode) &&
	    (fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC)) !=
		-1)
		return fd;
	return STDOUT_FILENO;
}

/* One write of what is queued: bytes written, or -1 with errno. */
static ssize_t
serve_write_some(void)
{
	ssize_t n;

	do
		n = V.wsock ? send(V.wfd, V.out.data, V.out.len,
				   MSG_DONTWAIT | MSG_NOSIGNAL)
			    : write(V.wfd, V.out.data, V.out.len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		buf_consume(&V.out, (size_t)n);
	return n;
}

/* Wait up to secs for fd to be ready for events (POLLIN or POLLOUT): 1
 * ready, 0 timed out, -1 error. */
static int
serve_poll(int fd, short events, double secs)
{
	double end = mono_now() + secs, left;
	struct pollfd p = {.fd = fd, .events = events};
	int rc;

	while ((left = end - mono_now()) > 0) {
		rc = poll(&p, 1, (int)(left * 1000) + 1);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

/* Write everything queued, waiting up to secs: 0, or -1 (given up). */
static int
serve_flush_wait(double secs)
{
	double end = mono_now() + secs;

	while (V.out.len > 0) {
		if (serve_write_some() < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (serve_poll(V.wfd, POLLOUT, end - mono_now()) != 1)
				return -1;
		}
	}
	return 0;
}

/* Read once into the input buffer: bytes read, 0 at EOF, -1 with errno. */
static ssize_t
serve_read_some(void)
{
	ssize_t n;

	buf_reserve(&V.in, SERVE_READ);
	n = stdin_read(V.rfd, V.rsock, V.in.data + V.in.len, SERVE_READ);
	if (n > 0) {
		V.in.len += (size_t)n;
		V.in.data[V.in.len] = '\0';
	}
	return n;
}

/* Start-up: read until decode takes a whole item from the input buffer
 * (SERVE_HELLO_WAIT at most). Returns what decode returned (> 0 consumed,
 * -1 error), or 0 with a message in err when the bytes never came. */
static ssize_t
serve_read_until(ssize_t (*decode)(const char *, size_t, void *, char *,
				   size_t),
		 void *item, char *err, size_t errlen)
{
	double end = mono_now() + SERVE_HELLO_WAIT;
	ssize_t n;

	while ((n = decode(V.in.data, V.in.len, item, err, errlen)) == 0) {
		ssize_t r = serve_read_some();

		if (r > 0)
			continue;
		if (r == 0) {
			errfmt(err, errlen, "standard input ended before the "
					    "parent's HELLO");
			return 0;
		}
		if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
		    serve_poll(V.rfd, POLLIN, end - mono_now()) != 1) {
			errfmt(err, errlen, "no HELLO from the parent: %s",
			       errno == EAGAIN || errno == EWOULDBLOCK
				   ? "timed out"
				   : strerror(errno));
			return 0;
		}
	}
	return n;
}

/* wire_greeting_decode with serve_read_until's signature. */
static ssize_t
serve_dec_greeting(const char *p, size_t n, void *g, char *err, size_t len)
{
	return wire_greeting_decode(p, n, g, err, len);
}

/* wire_decode with serve_read_until's signature. */
static ssize_t
serve_dec_frame(const char *p, size_t n, void *m, char *err, size_t len)
{
	return wire_decode(p, n, m, err, len);
}

/* Our HELLO: CPUs, limits, heartbeat, grace, kinds; no env, no workdir. */
static void
serve_put_hello(const struct corun_options *o, struct buf *kinds)
{
	struct wire_hello h = {0};

	wire_kinds(kinds);
	h.cpus = (uint32_t)util_cpus();
	h.jobs = (uint32_t)(o->jobs > 0 ? o->jobs : 0);
	h.procs = (uint32_t)(o->procs > 0 ? o->procs : 0);
	h.threads = (uint32_t)(o->threads > 0 ? o->threads : 0);
	h.heartbeat = WIRE_NO_TIME;
	h.grace = wire_usec(o->grace > 0 ? o->grace : 0);
	h.kinds = kinds->data;
	h.kindslen = (uint32_t)kinds->len;
	wire_put_greeting(&V.out);
	if (wire_put_hello(&V.out, &h) == -1)
		fatalx("--serve: our HELLO does not encode");
}

/* Take the parent's HELLO: its environment, workdir, grace, heartbeat.
 * 0, or the exit status (a workdir that cannot be entered: 1). */
static int
serve_apply_hello(const struct wire_hello *h)
{
	const char *s = h->env, *end = h->env + h->envlen;

	while (s < end) {
		size_t n = strlen(s); /* wire_env_ok: each entry ends in NUL */
		char *e = xstrndup(s, n), *eq = strchr(e, '=');

		*eq = '\0';
		if (setenv(e, eq + 1, 1) == -1) {
			serve_warn("setenv %s: %s", e, strerror(errno));
			free(e);
			return 1;
		}
		free(e);
		s += n + 1;
	}
	if (h->wdlen > 0) {
		char *wd = xstrndup(h->workdir, h->wdlen);

		if (chdir(wd) == -1) {
			serve_warn("workdir %s: %s", wd, strerror(errno));
			free(wd);
			return 1;
		}
		free(wd);
	}
	V.opts->grace = wire_seconds(h->grace);
	V.heartbeat = wire_seconds(h->heartbeat);
	return 0;
}

/* Start-up: greetings and HELLOs both ways; 0, or the exit status. */
static int
serve_handshake(void)
{
	struct wire_greeting g;
	struct wire_msg m;
	struct buf kinds = BUF_INIT, ours = BUF_INIT;
	struct wire_hello mine = {0};
	char err[512];
	ssize_t n;
	int rc = 2;

	serve_put_hello(V.opts, &kinds);
	if (serve_flush_wait(SERVE_HELLO_WAIT) == -1) {
		serve_warn("writing the HELLO: %s", strerror(errno));
		goto out;
	}
	if ((n = serve_read_until(serve_dec_greeting, &g, err, sizeof err)) <
	    0) {
		serve_warn("bad greeting from the parent (%s)", err);
		goto out;
	}
	if (n == 0 || (buf_consume(&V.in, (size_t)n),
		       wire_greeting_check("the parent", &g, err,
					   sizeof err) == -1) ||
	    (n = serve_read_until(serve_dec_frame, &m, err, sizeof err)) == 0) {
		serve_warn("%s", err);
		goto out;
	}
	if (n < 0) {
		serve_warn("bad HELLO from the parent (%s)", err);
		goto out;
	}
	if (m.type != WIRE_HELLO) {
		serve_warn("the parent's first frame is %s, not HELLO",
			   wire_type_name(m.type));
		goto out;
	}
	/* Every kind the parent may send must be one of ours. */
	wire_kinds(&ours);
	mine.kinds = ours.data;
	mine.kindslen = (uint32_t)ours.len;
	if (wire_hello_check("this worker", &m.u.hello, &mine, err,
			     sizeof err) == -1) {
		serve_warn("%s", err);
		goto out;
	}
	rc = serve_apply_hello(&m.u.hello);
	buf_consume(&V.in, (size_t)n);
out:
	buf_free(&kinds);
	buf_free(&ours);
	return rc;
}

static void serve_read_update(void);

/* Frames were queued: write them when standard output takes them. */
static void
serve_kick(void)
{
	if (V.out_dead) {
		buf_reset(&V.out);
		return;
	}
	if (V.out.len > 0 && !ev_is_active(&V.wio))
		ev_io_start(V.loop, &V.wio);
}

/* The BYE that ends our stream, once the jobs are final. */
static void
serve_maybe_bye(void)
{
	if ((V.bye || V.teardown) && !V.bye_sent && sched_inflight() == 0) {
		wire_put_bye(&V.out);
		V.bye_sent = 1;
		serve_kick();
	}
}

/* Cancel every job and leave once their RESULTs are out; why (NULL: a
 * signal, already stopping the scheduler) goes to stderr. */
static void
serve_teardown(const char *why, int status)
{
	if (V.teardown)
		return;
	V.teardown = 1;
	V.status = status;
	V.eof = 1;
	if (why != NULL)
		serve_warn("%s: stopping every job", why);
	ev_timer_stop(V.loop, &V.beat);
	serve_read_update();
	ev_timer_set(&V.give_up, V.opts->grace + SERVE_GIVE_UP, 0.);
	ev_timer_start(V.loop, &V.give_up);
	if (why != NULL)
		sched_stop(0);
	serve_maybe_bye();
}

/* Standard output is writable: write what is queued. */
static void
serve_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	int was_high = V.out.len >= SERVE_OUT_HIGH;

	(void)revents;
	if (serve_write_some() < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		int e = errno;

		V.out_dead = 1;
		buf_reset(&V.out);
		ev_io_stop(loop, w);
		if (!V.teardown)
			serve_teardown(e == EPIPE ? "standard output closed"
						  : strerror(e),
				       1);
		return;
	}
	if (V.out.len == 0)
		ev_io_stop(loop, w);
	if (was_high && V.out.len < SERVE_OUT_HIGH)
		serve_read_update();
}

/* The tag's entry, or NULL. */
static struct sjob *
serve_get(uint64_t tag)
{
	return tag == 0 ? V.tag0 : u64tab_get(&V.tags, tag);
}

/* Enter or remove (s NULL) the tag's entry. */
static void
serve_set(uint64_t tag, struct sjob *s)
{
	if (tag == 0)
		V.tag0 = s;
	else if (s != NULL)
		u64tab_put(&V.tags, tag, s);
	else
		u64tab_del(&V.tags, tag);
}

/* Queue a RESULT of status error with a message (a JOB that cannot run). */
static void
serve_reject(uint64_t tag, const char *msg)
{
	struct wire_result w = {0};

	w.status = ST_ERROR;
	w.exit = WIRE_NO_EXIT;
	w.unstarted = 1;
	w.has_error = 1;
	w.error = msg;
	w.msglen = (uint32_t)strnlen(msg, WIRE_ERROR_MAX);
	if (wire_put_result(&V.out, tag, &w) == -1)
		fatalx("--serve: an error RESULT does not encode");
	serve_kick();
}

/* An attempt of a job started: STARTED. */
static void
serve_started(struct job *job, void *arg)
{
	struct sjob *s = arg;

	(void)job;
	wire_put_started(&V.out, s->tag);
	serve_kick();
}

/* A job is final: its RESULT; then the job and its entry go (or, inside
 * sched_submit, when it returns). */
static void
serve_final(struct job *job, void *arg)
{
	struct sjob *s = arg;
	struct wire_result w;

	wire_result_from(&w, sched_job_result(job));
	if (wire_put_result(&V.out, s->tag, &w) == -1)
		serve_reject(s->tag, "the result does not fit a RESULT frame");
	serve_kick();
	serve_set(s->tag, NULL);
	sched_job_free(job);
	if (s->submitting)
		s->final = 1;
	else
		free(s);
	serve_maybe_bye();
}

/* A JOB: parse its plan line and submit it, or answer with an error. */
static void
serve_job(uint64_t tag, const struct wire_job *j)
{
	char *line = xstrndup(j->line, j->linelen), *p = line, *ex;
	struct job_spec *spec = NULL;
	char err[512];
	struct sjob *s;
	int on;

	p += strcspn(p, " "); /* the id */
	p += strspn(p, " ");
	ex = p;
	p += strcspn(p, " ");
	if (*p != '\0')
		*p++ = '\0';
	if ((on = executor_parse(ex)) < 0) {
		errfmt(err, sizeof err, "not a plan line: no executor");
		goto bad;
	}
	switch (parse_line(p, &spec, err, sizeof err)) {
	case PARSE_JOB:
		break;
	case PARSE_ERROR:
		goto bad;
	default:
		errfmt(err, sizeof err, "no job in the line");
		goto bad;
	}
	if (spec->kind->id == KIND_CANCEL) {
		errfmt(err, sizeof err, "cancel runs on the parent");
		goto bad;
	}
	if (!(spec->kind->executors & (1u << on))) {
		errfmt(err, sizeof err, "%s cannot run on %s", spec->kind->name,
		       ex);
		goto bad;
	}
	/* Retries, dependencies and groups are the parent's. */
	spec->on = on;
	spec->timeout = wire_seconds(j->timeout);
	spec->retries = 0;
	spec->id = NULL;
	spec->after = NULL;
	spec->nafter = 0;
	spec->group = NULL;
	spec->retry_on = NULL;
	free(line);
	s = xcalloc(1, sizeof *s);
	s->tag = tag;
	s->submitting = 1;
	serve_set(tag, s);
	s->job = sched_submit(spec, "-", 0, serve_final, s);
	s->submitting = 0;
	if (s->final)
		free(s);
	return;
bad:
	free(spec);
	free(line);
	serve_reject(tag, err);
}

/* A CANCEL: stop the job with the frame's grace, or at once (hurry). */
static void
serve_cancel(uint64_t tag, const struct wire_cancel *c)
{
	struct sjob *s = serve_get(tag);
	double grace = V.opts->grace;
	int again;

	if (s == NULL || s->job == NULL)
		return;
	again = s->cancelled;
	s->cancelled = 1;
	if (again) {
		/* Already being stopped: only a run-wide hurry asks its
		 * executor again (a parent hurries its whole run). */
		if (c->hurry)
			sched_hurry(0);
		return;
	}
	/* The executor reads the run's grace while it is asked to stop the
	 * attempt: this frame's, for this job. The job may be final (and s
	 * freed) when this returns. */
	V.opts->grace = c->hurry ? 0 : wire_seconds(c->grace);
	sched_cancel_job(s->job);
	V.opts->grace = grace;
}

/* A FILE chunk of a basefile: 0, or -1 with a message in err. */
static int
serve_file(const struct wire_file *f, char *err, size_t errlen)
{
	char *name = xstrndup(f->name, f->namelen);
	int rc = -1;

	if (V.ffd == -1) {
		if (f->offset != 0) {
			errfmt(err, errlen, "FILE %s: first chunk at offset %llu",
			       name, (unsigned long long)f->offset);
			goto out;
		}
		/* Beside it, so the rename is atomic and a source that is
		 * this very file is never truncated. */
		V.ftmp = xmalloc(strlen(name) + 16);
		sprintf(V.ftmp, "%s.corunXXXXXX", name);
		if ((V.ffd = mkstemp(V.ftmp)) == -1) {
			errfmt(err, errlen, "FILE %s: %s", name, strerror(errno));
			free(V.ftmp);
			V.ftmp = NULL;
			goto out;
		}
		fd_cloexec(V.ffd);
		V.fname = xstrdup(name);
		V.foff = 0;
	}
	if (strcmp(name, V.fname) != 0 || f->offset != V.foff) {
		errfmt(err, errlen, "FILE %s: chunk at %llu, expected %s at %llu",
		       name, (unsigned long long)f->offset, V.fname,
		       (unsigned long long)V.foff);
		goto out;
	}
	if (write_all(V.ffd, f->data, f->datalen) == -1) {
		errfmt(err, errlen, "FILE %s: %s", name, strerror(errno));
		goto out;
	}
	V.foff += f->datalen;
	if (f->last) {
		if (fchmod(V.ffd, 0666 & ~V.umask) == -1 || close(V.ffd) == -1 ||
		    rename(V.ftmp, V.fname) == -1) {
			V.ffd = -1;
			errfmt(err, errlen, "FILE %s: %s", name, strerror(errno));
			goto out;
		}
		V.ffd = -1;
		free(V.ftmp);
		free(V.fname);
		V.ftmp = V.fname = NULL;
	}
	rc = 0;
out:
	free(name);
	return rc;
}

/* Drop a basefile left half-received. */
static void
serve_file_abort(void)
{
	if (V.ffd != -1) {
		close(V.ffd);
		unlink(V.ftmp);
		V.ffd = -1;
	}
	free(V.ftmp);
	free(V.fname);
	V.ftmp = V.fname = NULL;
}

/* Handle one frame from the parent. */
static void
serve_frame(const struct wire_msg *m)
{
	char err[512];

	switch (m->type) {
	case WIRE_JOB:
		if (V.bye) {
			serve_teardown("a JOB after BYE", 1);
			break;
		}
		if (serve_get(m->tag) != NULL) {
			serve_warn("JOB: tag %llu is in flight",
				   (unsigned long long)m->tag);
			serve_teardown("protocol error", 1);
			break;
		}
		serve_job(m->tag, &m->u.job);
		break;
	case WIRE_CANCEL:
		serve_cancel(m->tag, &m->u.cancel);
		break;
	case WIRE_PING:
		wire_put_pong(&V.out, m->tag);
		serve_kick();
		break;
	case WIRE_PONG:
		break;
	case WIRE_FILE:
		if (serve_file(&m->u.file, err, sizeof err) == -1) {
			serve_warn("%s", err);
			serve_file_abort();
			serve_teardown("basefile failed", 1);
		}
		break;
	case WIRE_BYE:
		V.bye = 1;
		serve_maybe_bye();
		break;
	default:
		serve_warn("protocol error: a %s frame from the parent",
			   wire_type_name(m->type));
		serve_teardown("protocol error", 1);
		break;
	}
}

/* Decode and handle every whole frame buffered, until the scheduler is
 * full or the worker stops reading. */
static void
serve_decode(void)
{
	size_t off = 0;
	char err[512];

	while (!V.paused && !V.eof && off < V.in.len) {
		struct wire_msg m;
		ssize_t n = wire_decode(V.in.data + off, V.in.len - off, &m,
					err, sizeof err);

		if (n == 0)
			break;
		if (n < 0) {
			serve_warn("protocol error: %s", err);
			off = V.in.len;
			serve_teardown("protocol error", 1);
			break;
		}
		off += (size_t)n;
		serve_frame(&m);
	}
	buf_consume(&V.in, off);
}

/* Read standard input exactly while frames are wanted. */
static void
serve_read_update(void)
{
	int want = !V.eof && !V.paused && V.out.len < SERVE_OUT_HIGH;

	if (want && !ev_is_active(&V.rio)) {
		/* The parent was not silent while we did not listen. */
		V.heard = ev_now(V.loop);
		ev_io_start(V.loop, &V.rio);
	} else if (!want && ev_is_active(&V.rio)) {
		ev_io_stop(V.loop, &V.rio);
	}
}

/* Standard input is readable. */
static void
serve_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	ssize_t n;

	(void)w, (void)revents;
	n = serve_read_some();
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	V.heard = ev_now(loop);
	if (n > 0) {
		serve_decode();
	} else if (!V.bye) {
		serve_teardown(n == 0 ? "standard input ended without BYE"
				      : strerror(errno),
			       1);
	} else {
		V.eof = 1;
	}
	serve_read_update();
}

/* Has standard input's writer gone (checked while we do not read)? */
static int
serve_input_hung_up(void)
{
	struct pollfd p = {.fd = V.rfd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* Every quarter heartbeat: a PING, and the parent's silence checked. */
static void
serve_beat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w, (void)revents;
	wire_put_ping(&V.out, ++V.nonce);
	serve_kick();
	if (V.bye)
		return;
	if (!ev_is_active(&V.rio)) {
		/* Not reading (backpressure): silence says nothing, a writer
		 * that has gone does. */
		if (serve_input_hung_up())
			serve_teardown("standard input ended without BYE", 1);
		return;
	}
	if (ev_now(loop) - V.heard > V.heartbeat) {
		char why[96];

		snprintf(why, sizeof why,
			 "nothing from the parent for %gs (its heartbeat)",
			 V.heartbeat);
		serve_teardown(why, 1);
	}
}

/* Tearing down has taken too long: give up on the jobs and the output. */
static void
serve_give_up_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w, (void)revents;
	serve_warn("giving up on the last jobs and results");
	V.out_dead = 1;
	buf_reset(&V.out);
	ev_io_stop(loop, &V.wio);
	if (sched_inflight() > 0)
		sched_abandon_run();
	else
		ev_break(loop, EVBREAK_ALL);
}

/* The scheduler is full, or has room again. */
static void
serve_pause(int paused)
{
	V.paused = paused;
	if (!paused)
		serve_decode();
	serve_read_update();
}

/* The scheduler stops: for a signal (the engine's handler), tear down;
 * for a hurry (a CANCEL's), go on serving: JOBs now end cancelled. */
static void
serve_stop(void)
{
	int sig = sched_stop_signal();

	if (sig != 0)
		serve_teardown(NULL, 128 + sig);
}

/* The run is over once the parent is done with us, or we with it, and
 * what we had to say is out. */
static int
serve_done(void)
{
	serve_maybe_bye();
	return V.bye_sent && (V.out.len == 0 || V.out_dead);
}

static const struct sched_source serve_source = {
	serve_pause, serve_stop, serve_done, NULL, NULL,
};

/* Run the worker; see serve.h. */
int
serve_run(struct corun_options *opts)
{
	int rc;

	memset(&V, 0, sizeof V);
	V.opts = opts;
	V.ffd = -1;
	V.heartbeat = -1;
	V.umask = umask(022);
	umask(V.umask);
	V.rfd = stdin_reader(&V.rsock);
	V.wfd = serve_writer(&V.wsock);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = serve_handshake()) != 0)
		goto out;
	report_init(-1, 0); /* no records: RESULT frames */
	V.loop = engine_start(opts);
	if (V.loop == NULL || ppool_forksrv() == -1) {
		serve_warn("cannot start the engine: %s", strerror(errno));
		if (V.loop != NULL)
			engine_stop(opts);
		rc = 1;
		goto out;
	}
	sched_on_started(serve_started);
	sched_set_source(&serve_source);
	ev_io_init(&V.rio, serve_read_cb, V.rfd, EV_READ);
	ev_io_init(&V.wio, serve_write_cb, V.wfd, EV_WRITE);
	ev_timer_init(&V.beat, serve_beat_cb, V.heartbeat / 4,
		      V.heartbeat / 4);
	ev_timer_init(&V.give_up, serve_give_up_cb, 0., 0.);
	if (V.heartbeat > 0)
		ev_timer_start(V.loop, &V.beat);
	serve_read_update();
	serve_decode(); /* what came with the HELLO */
	ev_run(V.loop, 0);
	ev_timer_stop(V.loop, &V.beat);
	ev_timer_stop(V.loop, &V.give_up);
	ev_io_stop(V.loop, &V.rio);
	ev_io_stop(V.loop, &V.wio);
	engine_stop(opts);
	sched_on_started(NULL);
	serve_file_abort();
	rc = V.status;
out:
	if (!V.out_dead && serve_flush_wait(SERVE_FLUSH_WAIT) == -1 && rc == 0)
		rc = 1;
	u64tab_free(&V.tags);
	buf_free(&V.in);
	buf_free(&V.out);
	if (V.rfd != STDIN_FILENO)
		close(V.rfd);
	if (V.wfd != STDOUT_FILENO)
		close(V.wfd);
	return rc;
}
