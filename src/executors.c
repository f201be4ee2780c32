/*
 * executors.c: the three executors as the scheduler sees them, and how
 * each kind runs.
 *
 * Each executor is an executor_ops table over a module that knows nothing
 * of jobs: the loop executor runs sleep on a timer, exec/sh through
 * child.c and http/tcp through net_http.c/net_tcp.c; the thread executor
 * hands calls to pool_thread.c, the process executor to pool_proc.c. The
 * adapters here turn their callbacks into the scheduler's
 * sched_attempt_started/sched_attempt_done, so every submit is answered by
 * exactly one sched_attempt_done. Children and network jobs that find no
 * file descriptor wait for one through room.c. The runtime table binds each
 * row of the kind table (kinds.c) to its run function or its start/stop
 * functions.
 * Loop thread only (the run functions run in pool threads and workers).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "child.h"
#include "corun.h"
#include "executors.h"
#include "forksrv.h"
#include "net.h"
#include "parse.h"
#include "plugin.h"
#include "pool_proc.h"
#include "pool_thread.h"
#include "rawout.h"
#include "room.h"
#include "spawn.h"
#include "slots.h"
#include "work.h"

static int children; /* exec/sh children running (the -j slots) */
/* Job slots (corun(1), {%} and CORUN_SLOT): each running child has the
 * smallest free one of 1..-j. */
static struct slots slots = SLOTS_INIT;

/* End an attempt that could not start; see executors.h. */
void
exec_attempt_unstarted(struct attempt *at, const char *msg)
{
	struct result res;

	result_init(&res);
	res.status = ST_FAILED;
	res.unstarted = true;
	result_error(&res, "%s", msg);
	sched_attempt_done(at, &res);
}

/* sleep's timer fired. */
static void
loop_sleep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct attempt *at = w->data;
	struct result res;

	(void)revents;
	ev_timer_stop(loop, w);
	free(w);
	result_init(&res);
	res.status = ST_OK;
	sched_attempt_done(at, &res);
}

/* sleep DUR: a timer on the loop. */
static void
loop_sleep_start(struct attempt *at)
{
	ev_timer *w = xmalloc(sizeof *w);
	double d = 0;

	parse_duration(at->spec->argv[0], &d);
	ev_timer_init(w, loop_sleep_cb, d, 0.);
	w->data = at;
	at->xdata = w;
	sched_attempt_started(at);
	ev_timer_start(sched_loop, w);
}

/* Stop a sleep early. */
static void
loop_sleep_stop(struct attempt *at)
{
	ev_timer *w = at->xdata;

	ev_timer_stop(sched_loop, w);
	free(w);
	sched_attempt_stopped(at, 0);
}

/* A child of exec or sh is done: the fork server forgets its group
 * before child.c reaps it. */
static void
loop_child_done(void *ctx, struct result *res)
{
	struct attempt *at = ctx;

	forksrv_unwatch(child_pid(at->xdata));
	children--;
	slots_give(&slots, at->slot);
	room_leave(); /* what ran out may be there again */
	net_http_fds_freed();
	sched_attempt_done(at, res);
}

/* exec PROGRAM [ARG]... or sh SCRIPT: a child process. */
static void
loop_child_start(struct attempt *at)
{
	const struct job_spec *spec;
	char *shargv[] = {"/bin/sh", "-c", NULL, NULL};
	char *const *argv;
	char err[512];
	struct child *c;

	/* The fork server watches over children should corun be killed. */
	ppool_forksrv();
	/* Its job slot first: the spec may hold {%}. */
	at->slot = slots_take(&slots);
	sched_attempt_slotted(at);
	spec = at->spec;
	argv = spec->argv;
	if (spec->kind->shell) {
		shargv[2] = spec->argv[0];
		argv = shargv;
	}
	spawn_env(at->seq, at->slot, at->id);
	if (rawout_on())
		child_next_stdout(rawout_stdout_file(at));
	c = child_spawn_in(sched_loop, argv, at->input, loop_child_done, at,
			   err, sizeof err);
	if (c == NULL &&
	    (errno == EMFILE || errno == ENFILE || errno == EAGAIN) &&
	    room_wait()) {
		/* Out of fds or processes: a running child or network job
		 * gives some back when it ends (room.c). Until then the job
		 * waits at the head of its queue and none of them starts. */
		slots_give(&slots, at->slot);
		sched_attempt_requeue(at);
		return;
	}
	sched_attempt_started(at);
	if (c == NULL) {
		struct result res;

		result_init(&res);
		res.status = ST_FAILED;
		res.has_errout = 1;
		res.unstarted = true; /* retry-on start */
		result_error(&res, "%s", err);
		slots_give(&slots, at->slot);
		sched_attempt_done(at, &res);
		return;
	}
	children++;
	room_enter();
	at->xdata = c;
	if (rawout_on())
		child_set_tap(c, rawout_tap, at);
	/* Should corun die without stopping it (kill -9), the fork server
	 * kills its group. */
	forksrv_watch(child_pid(c));
}

/* Stop a child: SIGTERM, SIGKILL after --grace (SIGKILL now when the run
 * is hurried); done comes when it is reaped and its pipes are at EOF. */
static void
loop_child_stop(struct attempt *at)
{
	child_kill(at->xdata, sched_hurried() ? 0 : sched_options()->grace);
}

/* How each kind runs: a blocking run function (thread and process kinds),
 * or start/stop functions on the loop (loop kinds). Either way an attempt
 * ends with exactly one sched_attempt_done. */
struct kind_runtime {
	kind_run_fn run;
	void (*start)(struct attempt *);
	void (*stop)(struct attempt *);
};

static const struct kind_runtime runtime[KIND_COUNT] = {
	[KIND_SLEEP] = {.start = loop_sleep_start, .stop = loop_sleep_stop},
	[KIND_EXEC] = {.start = loop_child_start, .stop = loop_child_stop},
	[KIND_SH] = {.start = loop_child_start, .stop = loop_child_stop},
	[KIND_CANCEL] = {.start = sched_cancel_start},
	[KIND_HTTP] = {.start = net_http_start, .stop = net_http_stop},
	[KIND_TCP] = {.start = net_tcp_start, .stop = net_tcp_stop},
	[KIND_RESOLVE] = {.run = work_resolve},
	[KIND_BLOCK] = {.run = work_block},
	[KIND_READ] = {.run = work_read},
	[KIND_PRIMES] = {.run = work_primes},
	[KIND_SPIN] = {.run = work_spin},
	[KIND_CALL] = {.run = plugin_run_call},
	[KIND_FN] = {.run = api_run_fn},
};

/* The blocking run function of a thread or process kind (NULL for a loop
 * kind). */
kind_run_fn
exec_run_fn(enum kind_id id)
{
	return (unsigned)id < KIND_COUNT ? runtime[id].run : NULL;
}

/* Room for this loop job? Child processes are limited by -j; they and
 * network jobs wait while descriptors or processes ran out (room.c). */
static int
loop_ready(const struct attempt *at)
{
	const struct kind *k = at->spec->kind;

	if (k->spawns)
		return (sched_options()->jobs == 0 ||
			children < sched_options()->jobs) &&
		       room_ready();
	if (k->id == KIND_HTTP || k->id == KIND_TCP)
		return room_ready();
	return 1;
}

/* Start a loop job. */
static void
loop_submit(struct attempt *at)
{
	runtime[at->spec->kind->id].start(at);
}

/* Stop a loop job. */
static void
loop_cancel(struct attempt *at)
{
	runtime[at->spec->kind->id].stop(at);
}

/* Kill what is left at exit, and reap it: nothing outlives the run. */
static void
loop_shutdown(void)
{
	child_shutdown(forksrv_unwatch);
	net_shutdown();
}

const struct executor_ops exec_loop_ops = {
	"loop", loop_ready, loop_submit, loop_cancel, loop_shutdown,
};

/* Room in the thread pool? A job with a timeout needs a thread at once,
 * for its clock; one without may wait in the pool's queue. */
static int
thread_ready(const struct attempt *at)
{
	return at->timeout >= 0 ? tpool_idle() > 0 : tpool_room() > 0;
}

/* Hand a job to a pool thread. */
static void
thread_submit(struct attempt *at)
{
	const struct job_spec *spec = at->spec;

	/* Before the pool's first thread: see ppool_before_thread. */
	ppool_before_thread();
	tpool_submit(at, runtime[spec->kind->id].run, spec->argc, spec->argv);
}

/* A thread call cannot be interrupted: forget it, end the attempt now. */
static void
thread_cancel(struct attempt *at)
{
	tpool_cancel(at);
	sched_attempt_stopped(at, 0);
}

const struct executor_ops exec_thread_ops = {
	"thread", thread_ready, thread_submit, thread_cancel, tpool_shutdown,
};

/* Room in the process pool? */
static int
process_ready(const struct attempt *at)
{
	(void)at;
	return ppool_ready();
}

/* Queue a job for a worker. */
static void
process_submit(struct attempt *at)
{
	const struct job_spec *spec = at->spec;

	ppool_submit(at, spec->kind, spec->argc, spec->argv);
}

/* Kill the worker running the job (it is replaced). */
static void
process_cancel(struct attempt *at)
{
	sched_attempt_stopped(at, ppool_cancel(at));
}

const struct executor_ops exec_process_ops = {
	"process", process_ready, process_submit, process_cancel,
	ppool_shutdown,
};
/* Pool callbacks: an attempt really started / ended. */
static void
exec_pool_started(void *ctx)
{
	sched_attempt_started(ctx);
}

static void
exec_thread_started(void *ctx, double when)
{
	sched_attempt_started_at(ctx, when);
}

static void
exec_pool_done(void *ctx, struct result *res)
{
	sched_attempt_done(ctx, res);
}

/* Set the pools up (they start threads and workers lazily): 0, or -1
 * with errno. */
int
executors_init(struct ev_loop *loop, const struct corun_options *opts)
{
	if (tpool_init(loop, opts->threads, exec_thread_started,
		       exec_pool_done) == -1)
		return -1;
	ppool_init(loop, opts->procs, exec_pool_started, exec_pool_done);
	ppool_set_nice(opts->worker_nice);
	child_set_drain(opts->grace);
	/* Every slot is free at the start of a run. */
	slots_free(&slots);
	return 0;
}
