/*
 * corun.c: one run, from options to exit status.
 *
 * The order matters: job files are checked before anything starts; the fork
 * server is forked before the loop and before any thread exists (pool
 * workers are forked by it, never by this threaded process); then the loop
 * runs until every input is read and every job is final.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "corun.h"
#include "engine.h"
#include "executors.h"
#include "input.h"
#include "joblog.h"
#include "options.h"
#include "output.h"
#include "pool_proc.h"
#include "report.h"
#include "sched.h"
#include "stats.h"

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

/* Start the engine for opts: the loop, the scheduler and the pools, which
 * start the fork server, their threads and workers when first needed (the
 * fork server before any thread: ppool_forksrv). A dry run needs only the
 * scheduler. */
struct ev_loop *
engine_start(const struct corun_options *opts)
{
	struct ev_loop *loop;

	/* Writes to a pipe whose reader is gone fail with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	/* libev's syserr callback is the program's: libev aborts on a system
	 * error it cannot survive (corun(3)). */
	loop = ev_default_loop(EVFLAG_AUTO);
	if (loop == NULL) {
		if (errno == 0)
			errno = ENOMEM;
		return NULL;
	}
	sched_init(loop, opts);
	if (!opts->dry_run) {
		if (executors_init(loop, opts) == -1) {
			int err = errno;

			sched_shutdown();
			errno = err;
			return NULL;
		}
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

/* Stop what engine_start started. */
void
engine_stop(const struct corun_options *opts)
{
	if (!opts->dry_run) {
		sched_shutdown();
		stats_finish();
	}
	/* Only now: a signal of a burst that comes while the last records
	 * are written must not kill corun. Stopping the watchers puts SIG_DFL
	 * back; once a signal has stopped the run, the exit status is the
	 * first signal's, and later ones are ignored (corun(1), SIGNALS). */
	if (ev_is_active(&corun_sigint)) {
		ev_signal_stop(sched_loop, &corun_sigint);
		ev_signal_stop(sched_loop, &corun_sigterm);
		if (sched_stop_signal() != 0) {
			signal(SIGINT, SIG_IGN);
			signal(SIGTERM, SIG_IGN);
		}
	}
}

/* Run the inputs; return the exit status. */
int
corun_run(const struct corun_options *program_opts, char *const inputs[],
	  size_t ninputs)
{
	struct corun_options whole, *opts = &whole;
	struct ev_loop *loop;
	int status;

	if (options_import(&whole, program_opts) == -1) {
		warnx("options not set up by corun_options_init");
		return 2;
	}
	fd_cloexec_all();
	if (input_check(inputs, ninputs) > 0)
		return 2;
	if (opts->joblog != NULL && !opts->dry_run &&
	    joblog_open(opts->joblog, opts->resume) == -1)
		return 2;
	/* A dry run prints its plan with stdio. */
	report_init(opts->dry_run ? -1 : STDOUT_FILENO, opts->json);
	loop = engine_start(opts);
	if (loop == NULL) {
		warnx("cannot start the event loop or the thread pool: %s", strerror(errno));
		report_close();
		joblog_close();
		return 2;
	}
	if (!opts->dry_run)
		output_watch(STDOUT_FILENO, opts->output_buffer);
	sched_set_source(&input_source);
	input_start(loop, inputs, ninputs);
	ev_run(loop, 0);

	input_stop();
	engine_stop(opts);
	status = sched_exit_status();
	/* An input that could not be read while running: a usage error,
	 * unless a signal stopped the run. */
	if (status < 128 && input_failed())
		status = 2;
	/* Wait for the writer, which has written everything unless a second
	 * signal or a lost reader ended the run: then give up as soon as the
	 * reader stops taking. */
	report_drain(sched_stop_signal() != 0 || output_failed() ? 0.1 : -1);
	report_close();
	joblog_close();
	fflush(stdout);
	return status;
}
