/*
 * stats.h: counters for --stats and the --progress line.
 *
 * The scheduler reports what happens (a queue's depth, a retry, a job's
 * end); stats keeps counts and latency histograms, measures the loop's lag
 * with a periodic timer when --stats is on, redraws the progress line at
 * most ten times a second when --progress is on and stderr is a terminal,
 * and prints the summary at the end. It passes what it hears on to the
 * metrics (metrics.h). Loop thread only.
 */
#ifndef CORUN_STATS_H
#define CORUN_STATS_H

#include <ev.h>
#include <stddef.h>

#include "future.h"
#include "kinds.h"

/* Start the timers the options ask for; lag: sample the loop lag even
 * without stats (for the metrics). */
void stats_init(struct ev_loop *, int stats, int progress, int lag);
/* A queue of an executor is this deep now. */
void stats_queue_depth(enum executor, size_t depth);
/* A job's first attempt started, queued seconds after it was read. */
void stats_started(enum executor, double queued);
/* An attempt after the first is starting. */
void stats_retry(void);
/* A job is final; ran: it had an attempt, elapsed: its seconds; kind:
 * its kind's name, NULL if none. */
void stats_settled(enum executor, const char *kind, enum job_status, int ran,
		   double elapsed);
/* Clear the progress line (records are about to be written on the same
 * terminal); the next redraw puts it back. */
void stats_progress_clear(void);
/* Stop the timers, clear the progress line, print the summary if asked. */
void stats_finish(void);

/* A log-linear histogram of durations (1 us resolution, ~3% buckets). */
#define HIST_SUB 32
#define HIST_BUCKETS (HIST_SUB * 44)
struct hist {
	unsigned long long n;
	double max;
	unsigned long long count[HIST_BUCKETS];
};

void hist_add(struct hist *, double seconds);
/* The q-quantile (0 < q <= 1) in seconds, 0 when empty: the upper bound
 * of the bucket holding it, capped at the maximum seen. */
double hist_quantile(const struct hist *, double q);

#endif
