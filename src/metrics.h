/*
 * metrics.h: live metrics in the Prometheus text exposition format
 * (corun(1), METRICS): --metrics FILE, rewritten atomically every
 * --metrics-interval and at exit, and --metrics-addr HOST:PORT, served by
 * metrics_http.c.
 *
 * stats.c feeds it what happens (a first start, a retry, a final job, a
 * loop lag sample); the gauges (running, queued, in flight) and the other
 * totals are read from the scheduler, the process pool and the reporter
 * when the text is made. Loop thread only.
 */
#ifndef CORUN_METRICS_H
#define CORUN_METRICS_H

#include <ev.h>

#include "future.h"
#include "kinds.h"
#include "util.h"

struct corun_options;

/* Start what the options ask for (the file's timer, the HTTP server).
 * 0, or -1 with a message on stderr (a usage error: exit status 2). */
int metrics_start(struct ev_loop *, const struct corun_options *);
/* Is any metric wanted (the loop lag is then sampled)? */
int metrics_wanted(const struct corun_options *);
/* A job's first attempt started, queued seconds after it was read. */
void metrics_started(enum executor, double queued);
/* An attempt after the first is starting. */
void metrics_retry(void);
/* A job is final; ran: it had an attempt, elapsed: its seconds; kind: its
 * kind's name (NULL: the line had no known kind). */
void metrics_settled(enum executor, const char *kind, enum job_status, int ran,
		     double elapsed);
/* The loop was this late for a periodic timer. */
void metrics_lag(double seconds);
/* Append the whole exposition to out. */
void metrics_format(struct buf *out);
/* The end of the run: write the file a last time, stop the server. */
void metrics_finish(void);

#endif
