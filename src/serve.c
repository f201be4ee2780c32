/*
 * serve.c: corun --serve, the remote worker (corun(1), --serve).
 *
 * A parent corun starts this through its launcher (ssh, srun, kubectl
 * exec) and talks to it over its standard input and output in the frames
 * of wire.h; standard output carries nothing else, standard error is free
 * for messages (the parent keeps the last line).
 *
 * Start-up (serve_hello.c), before the engine exists: greetings and HELLOs
 * both ways; the parent's environment is set, its workdir entered and its
 * grace made ours, and only then is the engine started, so the fork
 * server, the pools and every child inherit them.
 *
 * Then everything runs on the loop thread. Standard input is read without
 * blocking (wconn.c) and every whole frame in what was read is handled at
 * once; frames to send are appended to one buffer, written when standard
 * output is writable (at most once per loop iteration, so many RESULTs go
 * out in one write). A JOB's line is a plan line (plan.h): its id and
 * executor, then the job in the job language with its options last;
 * plan_read turns it back into a job line, which is parsed and
 * submitted with a final function (no record): STARTED goes out when its
 * attempt starts, RESULT when it is final. Retries, ids, after= and
 * group= are the parent's business and are dropped here. A CANCEL stops
 * its job with the frame's grace (the executor reads the run's grace while
 * it is asked, so it is the frame's for that call), or at once with hurry;
 * a hurry for a job already being stopped hurries the whole run
 * (sched_hurry: the parent only hurries when its whole run does). FILE
 * chunks go to basefile.c.
 *
 * Backpressure: this module is the scheduler's source of jobs. While the
 * scheduler is full (--max-inflight) or the outgoing buffer holds more
 * than SERVE_OUT_HIGH bytes, nothing more is decoded or read; the frames
 * after the JOB that filled it wait, in order, in the input buffer. The
 * parent's silence is not held against it meanwhile, but a hang-up of
 * standard input is looked for at every heartbeat tick (every
 * SERVE_HUP_CHECK seconds without a heartbeat).
 *
 * Ending. BYE: no more JOBs; the jobs in flight finish, their RESULTs and
 * our BYE go out, exit 0. The end of standard input without BYE, a
 * protocol error, no byte from the parent for its heartbeat (we PING it
 * every quarter of that, and a live parent answers each PING), SIGTERM,
 * SIGINT or SIGHUP (the engine's handlers: sched_stop) tear the worker
 * down: every job is cancelled as a local run's first signal does (TERM
 * to its process group, KILL after the grace), their RESULTs and a BYE
 * are sent if standard output still takes them, and the worker exits;
 * SERVE_GIVE_UP seconds after the grace it stops waiting. A cut-off host
 * is left with nothing running, whatever sshd does.
 *
 * Threads: loop thread only, after start-up. Memory: a struct sjob per
 * JOB in flight, freed with its job when its RESULT is queued.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basefile.h"
#include "corun.h"
#include "engine.h"
#include "kinds.h"
#include "parse.h"
#include "plan.h"
#include "pool_proc.h"
#include "report.h"
#include "sched.h"
#include "serve.h"
#include "table.h"
#include "util.h"
#include "wconn.h"
#include "wire.h"

#define SERVE_GIVE_UP 5.0	  /* seconds after the grace, tearing down */
#define SERVE_FLUSH_WAIT 5.0	  /* seconds for the last bytes at exit */
#define SERVE_OUT_HIGH (8u << 20) /* outgoing bytes that stop reading */
#define SERVE_HUP_CHECK 1.0 /* seconds between hang-up checks, no heartbeat */

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
	struct wconn c; /* standard input and output */
	ev_io rio, wio;
	ev_timer beat;	  /* our PINGs, and the parent's silence */
	ev_timer give_up; /* tearing down for too long */
	double heartbeat; /* the parent's, seconds; < 0: none */
	double heard;	  /* ev_now when the parent last sent a byte */
	uint64_t nonce;
	int paused; /* the scheduler is full */
	int eof;    /* read no more: input ended, or tearing down */
	int bye;    /* the parent said BYE */
	int bye_sent;
	int teardown;	    /* cancelling everything, then exit */
	int out_dead;	    /* standard output failed: drop what is queued */
	int status;	    /* the exit status */
	struct u64tab tags; /* tag -> struct sjob (tag 0: tag0) */
	struct sjob *tag0;
	struct basefile file; /* the basefile being received */
} V;

/* One line on standard error, "corun --serve: MSG". */
void
serve_warn(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "corun --serve: %s\n", msg);
}

static void serve_read_update(void);

/* Frames were queued: write them when standard output takes them. */
static void
serve_kick(void)
{
	if (V.out_dead) {
		buf_reset(&V.c.out);
		return;
	}
	if (V.c.out.len > 0 && !ev_is_active(&V.wio))
		ev_io_start(V.loop, &V.wio);
}

/* The BYE that ends our stream, once the jobs are final. */
static void
serve_maybe_bye(void)
{
	if ((V.bye || V.teardown) && !V.bye_sent && sched_inflight() == 0) {
		wire_put_bye(&V.c.out);
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
	int was_high = V.c.out.len >= SERVE_OUT_HIGH;

	(void)revents;
	if (wconn_write(&V.c) < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		int e = errno;

		V.out_dead = 1;
		buf_reset(&V.c.out);
		ev_io_stop(loop, w);
		if (!V.teardown)
			serve_teardown(e == EPIPE ? "standard output closed"
						  : strerror(e),
				       1);
		return;
	}
	if (V.c.out.len == 0)
		ev_io_stop(loop, w);
	if (was_high && V.c.out.len < SERVE_OUT_HIGH)
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
	if (wire_put_result(&V.c.out, tag, &w) == -1)
		fatalx("--serve: an error RESULT does not encode");
	serve_kick();
}

/* An attempt of a job started: STARTED. */
static void
serve_started(struct job *job, void *arg)
{
	struct sjob *s = arg;

	(void)job;
	wire_put_started(&V.c.out, s->tag);
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
	if (wire_put_result(&V.c.out, s->tag, &w) == -1)
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
	char *line = xstrndup(j->line, j->linelen), exname[16];
	struct buf job = BUF_INIT;
	struct job_spec *spec = NULL;
	char err[512];
	struct sjob *s;
	const char *ex;
	size_t exlen;
	int on = -1;

	/* The plan line back as its job line (plan.h): options first. */
	if (plan_read(line, 0, &job, &ex, &exlen) == 0 &&
	    exlen < sizeof exname) {
		memcpy(exname, ex, exlen);
		exname[exlen] = '\0';
		on = executor_parse(exname);
	}
	if (on < 0) {
		errfmt(err, sizeof err, "not a plan line: no executor");
		goto bad;
	}
	switch (parse_line(job.data, &spec, err, sizeof err)) {
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
		       exname);
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
	buf_free(&job);
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
	buf_free(&job);
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
		wire_put_pong(&V.c.out, m->tag);
		serve_kick();
		break;
	case WIRE_PONG:
		break;
	case WIRE_FILE:
		if (basefile_chunk(&V.file, &m->u.file, err, sizeof err) ==
		    -1) {
			serve_warn("%s", err);
			basefile_abort(&V.file);
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

	while (!V.paused && !V.eof && off < V.c.in.len) {
		struct wire_msg m;
		ssize_t n = wire_decode(V.c.in.data + off, V.c.in.len - off, &m,
					err, sizeof err);

		if (n == 0)
			break;
		if (n < 0) {
			serve_warn("protocol error: %s", err);
			off = V.c.in.len;
			serve_teardown("protocol error", 1);
			break;
		}
		off += (size_t)n;
		serve_frame(&m);
	}
	buf_consume(&V.c.in, off);
}

/* Read standard input exactly while frames are wanted. */
static void
serve_read_update(void)
{
	int want = !V.eof && !V.paused && V.c.out.len < SERVE_OUT_HIGH;

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
	n = wconn_read(&V.c);
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

/* Every quarter heartbeat (every SERVE_HUP_CHECK seconds without one): a
 * PING, and the parent's silence or, while we do not read, its hang-up
 * looked for. */
static void
serve_beat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w, (void)revents;
	if (V.heartbeat > 0) {
		wire_put_ping(&V.c.out, ++V.nonce);
		serve_kick();
	}
	if (V.bye)
		return;
	if (!ev_is_active(&V.rio)) {
		/* Not reading (backpressure): silence says nothing, a writer
		 * that has gone does. */
		if (wconn_pending(&V.c) == WCONN_HUP)
			serve_teardown("standard input ended without BYE", 1);
		return;
	}
	/* Bytes that wait unread (this process was stopped, say) are not
	 * silence: the read callback takes them. */
	if (V.heartbeat > 0 && ev_now(loop) - V.heard > V.heartbeat &&
	    !wconn_pending(&V.c)) {
		char why[96];

		snprintf(why, sizeof why,
			 "nothing from the parent for %gs (its heartbeat)",
			 V.heartbeat);
		serve_teardown(why, 1);
	}
}

/* Tearing down has taken too long: jobs still not final end cancelled
 * now (their RESULTs get SERVE_FLUSH_WAIT more at exit); output still not
 * taken is dropped. */
static void
serve_give_up_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w, (void)revents;
	if (sched_inflight() > 0) {
		serve_warn("giving up on %zu jobs", sched_inflight());
		sched_abandon_run();
		return;
	}
	serve_warn("giving up on a parent that reads nothing");
	V.out_dead = 1;
	buf_reset(&V.c.out);
	ev_io_stop(loop, &V.wio);
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
	return V.bye_sent && (V.c.out.len == 0 || V.out_dead);
}

static const struct sched_source serve_source = {
    serve_pause, serve_stop, serve_done, NULL, NULL,
};

/* What the worker takes; see serve.h. It takes -P, -T, -j, --grace,
 * --max-inflight, --worker-nice and the host's pacing (--rate, --delay,
 * --load, --memfree); everything else is the parent's. */
int
serve_options_check(const struct corun_options *o, size_t ninputs, char *err,
		    size_t errlen)
{
	struct corun_options d;
	const char *bad = NULL;

	corun_options_init(&d);
	if (ninputs > 0)
		bad = "a job file";
	else if (o->command != NULL || o->nsources > 0)
		bad = "-c";
	else if (o->pipe)
		bad = "--pipe";
	else if (o->dry_run)
		bad = "-n";
	else if (o->json)
		bad = "--json";
	else if (o->keep_order)
		bad = "-k";
	else if (o->fail_fast)
		bad = "--fail-fast";
	else if (o->joblog != NULL || o->resume)
		bad = "--joblog";
	else if (o->progress || o->stats)
		bad = o->progress ? "--progress" : "--stats";
	else if (o->output_mode != d.output_mode || o->tag ||
		 o->results != NULL)
		bad = "an output option";
	else if (o->metrics != NULL || o->metrics_addr != NULL)
		bad = "--metrics";
	else if (o->deadline != d.deadline)
		bad = "--deadline";
	else if (o->timeout != d.timeout)
		bad = "-t";
	else if (o->retries != d.retries || o->retry_on != NULL ||
		 o->backoff != d.backoff || o->backoff_max != d.backoff_max)
		bad = "a retry option";
	else if (o->nlimits > 0)
		bad = "--limit";
	else if (o->nhosts > 0 || o->launcher != NULL || o->nenv > 0 ||
		 o->workdir != NULL || o->nbasefiles > 0)
		bad = "a remote-worker option";
	if (bad == NULL)
		return 0;
	errfmt(err, errlen, "%s does not go with --serve", bad);
	return -1;
}

/* Run the worker; see serve.h. */
int
serve_run(struct corun_options *opts)
{
	double tick;
	int rc;

	memset(&V, 0, sizeof V);
	V.opts = opts;
	V.file = (struct basefile)BASEFILE_INIT;
	V.file.umask = umask(022);
	umask(V.file.umask);
	V.heartbeat = -1;
	wconn_stdio(&V.c);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = serve_hello_exchange(&V.c, opts, &V.heartbeat)) != 0)
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
	ev_io_init(&V.rio, serve_read_cb, V.c.rfd, EV_READ);
	ev_io_init(&V.wio, serve_write_cb, V.c.wfd, EV_WRITE);
	tick = V.heartbeat > 0 ? V.heartbeat / 4 : SERVE_HUP_CHECK;
	ev_timer_init(&V.beat, serve_beat_cb, tick, tick);
	ev_timer_init(&V.give_up, serve_give_up_cb, 0., 0.);
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
	basefile_abort(&V.file);
	rc = V.status;
out:
	if (!V.out_dead && wconn_flush_wait(&V.c, SERVE_FLUSH_WAIT) == -1 &&
	    rc == 0)
		rc = 1;
	u64tab_free(&V.tags);
	wconn_close(&V.c);
	return rc;
}
