/*
 * corun.c: one run, from options to exit status.
 *
 * The order matters: job files are checked before anything starts; the fork
 * server is forked before the loop and before any thread exists (pool
 * workers are forked by it, never by this threaded process); then the loop
 * runs until every input is read and every job is final.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "corun.h"
#include "engine.h"
#include "input.h"
#include "executors.h"
#include "joblog.h"
#include "output.h"
#include "pool_proc.h"
#include "report.h"
#include "sched.h"
#include "stats.h"

/* Fill in the documented defaults. */
void
corun_options_init(struct corun_options *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(o, 0, sizeof *o);
	if (cpus < 1)
		cpus = 1;
	o->procs = (int)cpus;
	o->threads = 4;
	o->jobs = (int)cpus;
	o->max_inflight = 10000;
	o->timeout = -1;
	o->retries = 0;
	o->backoff = 0.1;
	o->backoff_max = 10;
	o->grace = 2;
	o->worker_nice = 3;
}

static ev_signal corun_sigint, corun_sigterm;

/* SIGINT or SIGTERM: the first stops the run gracefully, the second at
 * once (corun(1), SIGNALS). */
static void
corun_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop, (void)revents;
	if (sched_stop_signal() == 0)
		sched_stop(w->signum);
	else
		sched_abandon_run();
}

/* libev could not get what it needs from the system (fds, memory). */
static void
corun_syserr(const char *msg)
{
	fatal("%s", msg);
}

/* Start the engine for opts: the loop, the scheduler and the pools, which
 * start the fork server, their threads and workers when first needed (the
 * fork server before any thread: ppool_forksrv). A dry run needs only the
 * scheduler. */
struct ev_loop *
corun_engine_start(const struct corun_options *opts)
{
	struct ev_loop *loop;

	ev_set_syserr_cb(corun_syserr);
	/* Writes to a pipe whose reader is gone fail with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	loop = ev_default_loop(EVFLAG_AUTO);
	if (loop == NULL)
		fatalx("cannot initialise the event loop");
	sched_init(loop, opts);
	if (!opts->dry_run) {
		executors_init(loop, opts);
		stats_init(loop, opts->stats, opts->progress);
	}
	if (opts->handle_signals && !opts->dry_run) {
		ev_signal_init(&corun_sigint, corun_signal_cb, SIGINT);
		ev_signal_init(&corun_sigterm, corun_signal_cb, SIGTERM);
		ev_signal_start(loop, &corun_sigint);
		ev_signal_start(loop, &corun_sigterm);
	}
	return loop;
}

/* Stop what corun_engine_start started. */
void
corun_engine_stop(const struct corun_options *opts)
{
	ev_signal_stop(sched_loop, &corun_sigint);
	ev_signal_stop(sched_loop, &corun_sigterm);
	if (!opts->dry_run) {
		sched_shutdown();
		stats_finish();
	}
}

/* Run the inputs; return the exit status. */
int
corun_run(const struct corun_options *opts, char *const inputs[],
	  size_t ninputs)
{
	struct ev_loop *loop;
	int status;

	fd_cloexec_all();
	if (input_check(inputs, ninputs) > 0)
		return 2;
	if (opts->joblog != NULL && !opts->dry_run &&
	    joblog_open(opts->joblog, opts->resume) == -1)
		return 2;
	/* A dry run prints its plan with stdio: standard output stays as it
	 * is then (report_init makes a pipe non-blocking). */
	report_init(opts->dry_run ? -1 : STDOUT_FILENO, opts->json);
	loop = corun_engine_start(opts);
	if (!opts->dry_run)
		output_watch(STDOUT_FILENO);
	sched_set_source(&input_source);
	input_start(loop, inputs, ninputs);
	ev_run(loop, 0);

	input_stop();
	corun_engine_stop(opts);
	status = sched_exit_status();
	/* An input that could not be read while running: a usage error,
	 * unless a signal stopped the run. */
	if (status < 128 && input_failed())
		status = 2;
	/* Drained unless a second signal or a lost reader ended the run. */
	report_flush();
	report_close();
	joblog_close();
	fflush(stdout);
	return status;
}
