/*
 * flow.h: pacing of job starts (corun(1), "Pacing"): --rate, --delay,
 * --load and --memfree, for the scheduler's dispatch.
 */
#ifndef CORUN_FLOW_H
#define CORUN_FLOW_H

#include <ev.h>
#include <stddef.h>

struct corun_options;

/*
 * A rate: at most n starts in any window of per seconds. The times of the
 * last n starts are kept in a ring; a start may happen when fewer than n
 * happened in the per seconds before it (a token bucket of n tokens where
 * each token comes back per seconds after it was taken).
 */
struct rate {
	unsigned n;
	double per;
	double *starts; /* the last len start times, oldest at head */
	unsigned head, len;
};

void rate_init(struct rate *, int n, double per);
void rate_free(struct rate *);
/* When a start may happen: now or earlier if it may happen now. */
double rate_next(const struct rate *, double now);
/* A start happened at now. */
void rate_take(struct rate *, double now);
/* The last start did not happen after all (its executor put it back). */
void rate_untake(struct rate *);

/* Set the run's pacing up from opts (the whole-run --rate, --delay,
 * --load, --memfree). */
void flow_init(struct ev_loop *, const struct corun_options *);
void flow_free(void);
/* May a job start now? 1, or 0 with a timer set for when to look again
 * (its iteration runs the scheduler's dispatch). */
int flow_open(void);
/* A job started now; flow_untake: it did not after all. */
void flow_take(void);
void flow_untake(void);

#endif
