/*
 * corun.c: one run, from options to exit status.
 *
 * The order matters: job files are checked before anything starts; the fork
 * server is forked before the loop and before any thread exists (pool
 * workers are forked by it, never by this threaded process); then the loop
 * runs until every input is read and every job is final.
 *
 * Signals (corun(1), SIGNALS): the engine sets up what it relies on
 * whatever it inherited. SIGCHLD (libev reaps children on it) and, when
 * it handles signals, the ones it watches are unblocked in the thread
 * that starts it, and its watchers replace an inherited SIG_IGN, except
 * for SIGHUP, which nohup(1) ignores on purpose. SIGINT, SIGTERM and
 * SIGHUP count up: the first stops the run with --grace (sched_stop), the
 * second without (sched_hurry: every job is killed, every record still
 * written), the third ends it at once (sched_abandon_run: what the reader
 * takes without waiting is written, then the rest of a record partly
 * written, and no more); later ones change nothing, and once the loop
 * has ended they are ignored. SIGQUIT counts as the first two at once;
 * SIGUSR1 prints a progress line on standard error. The exit status is
 * the first signal's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arglist.h"
#include "corun.h"
#include "engine.h"
#include "executors.h"
#include "input.h"
#include "joblog.h"
#include "metrics.h"
#include "options.h"
#include "output.h"
#include "pipe_in.h"
#include "pool_proc.h"
#include "rawout.h"
#include "report.h"
#include "remote.h"
#include "sched.h"
#include "serve.h"
#include "stats.h"
#include "util.h"

/* The signals the engine handles. */
static const int corun_signos[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1};
#define CORUN_NSIG (sizeof corun_signos / sizeof corun_signos[0])
static ev_signal corun_sigw[CORUN_NSIG];
/* Stop signals so far: 1 graceful, 2 hurried, 3 abandoned. */
static int corun_stops;

/* SIGUSR1: where the run stands, one line on standard error. */
static void
corun_progress(void)
{
	stats_progress_clear();
	warnx("%llu read, %zu not final (running: loop %zu, thread %zu, "
	      "process %zu), %lu not ok",
	      (unsigned long long)sched_read(), sched_inflight(),
	      sched_running(EX_LOOP), sched_running(EX_THREAD),
	      sched_running(EX_PROCESS), sched_notok());
}

/* Stop the engine's signal watchers: each signal gets its default action
 * back (SIGHUP stays ignored under nohup: never watched). */
static void
corun_unwatch(void)
{
	for (size_t i = 0; i < CORUN_NSIG; i++)
		if (ev_is_active(&corun_sigw[i]))
			ev_signal_stop(sched_loop, &corun_sigw[i]);
}

/* A signal the engine handles (corun(1), SIGNALS): a stop signal stops
 * the run with --grace, then without, then at once. */
static void
corun_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop, (void)revents;
	if (w->signum == SIGUSR1) {
		corun_progress();
		return;
	}
	if (w->signum == SIGQUIT && corun_stops == 0)
		corun_stops = 1;
	if (corun_stops >= 3)
		return;
	switch (++corun_stops) {
	case 1:
		sched_stop(w->signum);
		break;
	case 2:
		sched_hurry(w->signum);
		break;
	default:
		sched_abandon_run();
		break;
	}
}

/* Unblock SIGCHLD and, when the engine handles signals, the ones it
 * watches, and watch them; a parent's mask and SIG_IGN survive exec. */
static void
corun_signals_start(struct ev_loop *loop, int handle)
{
	sigset_t set;

	corun_stops = 0;
	memset(corun_sigw, 0, sizeof corun_sigw);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; handle && i < CORUN_NSIG; i++) {
		struct sigaction sa;

		if (corun_signos[i] == SIGHUP &&
		    sigaction(SIGHUP, NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN)
			continue;
		sigaddset(&set, corun_signos[i]);
		ev_signal_init(&corun_sigw[i], corun_signal_cb,
			       corun_signos[i]);
		ev_signal_start(loop, &corun_sigw[i]);
	}
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* Start the engine for opts: the loop, the scheduler and the pools, which
 * start the fork server, their threads and workers when first needed (the
 * fork server before any thread: ppool_forksrv). A dry run needs only the
 * scheduler. */
struct ev_loop *
engine_start(const struct corun_options *opts)
{
	struct ev_loop *loop;
	char why[256];

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
	ppool_forksrv_maybe(1);
	if (!opts->dry_run) {
		if (executors_init(loop, opts) == -1) {
			int err = errno;

			sched_shutdown();
			errno = err;
			return NULL;
		}
		stats_init(loop, opts->stats, opts->progress,
			   metrics_wanted(opts));
		if (remote_init(loop, opts, why, sizeof why) == -1) {
			warnx("%s", why);
			sched_shutdown();
			errno = EINVAL;
			return NULL;
		}
	}
	if (!opts->dry_run)
		corun_signals_start(loop, opts->handle_signals);
	return loop;
}

/* Stop what engine_start started. */
void
engine_stop(const struct corun_options *opts)
{
	if (!opts->dry_run) {
		sched_shutdown();
		stats_finish();
		remote_free();
	}
	/* Only now: a signal of a burst that comes while the last records
	 * are written must not kill corun. Stopping the watchers puts SIG_DFL
	 * back; once a signal has stopped the run, later ones are ignored
	 * until exit, so the exit status is the first signal's (corun(1),
	 * SIGNALS). */
	if (!opts->dry_run) {
		corun_unwatch();
		if (corun_stops > 0)
			for (size_t i = 0; i < CORUN_NSIG; i++)
				if (corun_signos[i] != SIGUSR1 &&
				    corun_sigw[i].signum != 0)
					signal(corun_signos[i], SIG_IGN);
	}
}

/* After a third signal, only the record being written goes out. */
static int
engine_abandoned(void)
{
	return corun_stops >= 3;
}

/* Run the inputs; return the exit status. */
int
corun_run(const struct corun_options *program_opts, char *const inputs[],
	  size_t ninputs)
{
	struct corun_options whole, *opts = &whole;
	struct ev_loop *loop;
	int status, plan_err, out = STDOUT_FILENO;
	char msg[192];

	if (options_import(&whole, program_opts, msg, sizeof msg) == -1) {
		warnx("%s", msg);
		return 2;
	}
	fd_cloexec_all();
	/* --serve: frames on standard input and output, nothing else. */
	if (opts->serve) {
		if (serve_options_check(opts, ninputs, msg, sizeof msg) == -1) {
			warnx("%s", msg);
			return 2;
		}
		return serve_run(opts);
	}
	if (opts->command != NULL && ninputs > 0) {
		warnx("a job file and a template (-c) together");
		return 2;
	}
	if (opts->pipe) {
		/* --pipe: standard input is the jobs' input, -c their
		 * template; -j blocks in flight at most (pipe_in.c). */
		if (pipe_in_check(opts) == -1)
			return 2;
		int cap = opts->jobs > 0 ? opts->jobs : util_cpus();

		if (opts->max_inflight > cap)
			opts->max_inflight = cap;
	}
	/* Command mode reads its argument lists instead of job files;
	 * --pipe, standard input. */
	if (opts->pipe ? 0
	    : opts->command != NULL ? arglist_init(opts) == -1
				    : input_check(inputs, ninputs) > 0)
		return 2;
	if (opts->joblog != NULL && !opts->dry_run &&
	    joblog_open(opts->joblog, opts->resume) == -1) {
		arglist_stop();
		return 2;
	}
	/* A dry run prints its plan with stdio; --results NAME.json gets the
	 * records instead of standard output. */
	if (rawout_results_json(opts) && !opts->dry_run &&
	    (out = open(opts->results, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			0666)) == -1) {
		warnx("--results: %s: %s", opts->results, strerror(errno));
		joblog_close();
		arglist_stop();
		return 2;
	}
	report_init(opts->dry_run ? -1 : out,
		    opts->json || out != STDOUT_FILENO);
	loop = engine_start(opts);
	if (loop == NULL) {
		warnx("cannot start the event loop or the thread pool: %s", strerror(errno));
		report_close();
		joblog_close();
		arglist_stop();
		return 2;
	}
	/* --metrics, --metrics-addr: a file or address that cannot be used
	 * is a usage error. */
	if (!opts->dry_run && metrics_start(loop, opts) == -1) {
		engine_stop(opts);
		report_close();
		joblog_close();
		return 2;
	}
	if (!opts->dry_run)
		output_watch(out, opts->output_buffer);
	/* No process-pool job or child to come: threads (the writer's, the
	 * thread pool's) start without forking the server first. */
	ppool_forksrv_maybe(opts->command != NULL || input_may_need_forksrv());
	if (opts->pipe) {
		sched_set_source(&pipe_in_source);
		pipe_in_start(loop, opts);
	} else if (opts->command != NULL) {
		sched_set_source(&arglist_source);
		arglist_start(loop);
	} else {
		sched_set_source(&input_source);
		input_start(loop, inputs, ninputs);
	}
	ev_run(loop, 0);

	if (opts->pipe)
		pipe_in_stop();
	else if (opts->command != NULL)
		arglist_stop();
	else
		input_stop();
	metrics_finish();
	engine_stop(opts);
	status = sched_exit_status();
	/* An input that could not be read while running: a usage error,
	 * unless a signal stopped the run. */
	if (status < 128 &&
	    (opts->pipe		       ? pipe_in_failed()
	     : opts->command != NULL ? arglist_failed()
				     : input_failed()))
		status = 2;
	/* Wait for the writer: every record goes out (the reader is waited
	 * for; signals cannot kill corun by now), unless the reader is gone
	 * (give up as soon as it takes nothing) or a third signal ended the
	 * run: then only the records being written are finished, so the
	 * output ends at a record boundary (corun(1), SIGNALS). */
	if (engine_abandoned())
		report_cut();
	report_drain(output_failed() ? 0.1 : -1);
	report_close();
	joblog_close();
	if (out != STDOUT_FILENO && close(out) == -1 && status == 0)
		status = 1;
	/* A plan or job log that could not be written whole: exit status 1
	 * (corun(1), EXIT STATUS); lost records already make it 1. */
	plan_err = fflush(stdout) == EOF ? errno : 0;
	if (opts->dry_run && (plan_err != 0 || ferror(stdout))) {
		warnx("writing the plan: %s",
		      plan_err != 0 ? strerror(plan_err) : "write error");
		if (status == 0)
			status = 1;
	}
	if (status == 0 && joblog_failed())
		status = 1;
	return status;
}
