/*
 * pipe_in.h: --pipe, standard input cut into blocks, one job each
 * (pipe_in.c).
 */
#ifndef CORUN_PIPE_IN_H
#define CORUN_PIPE_IN_H

#include <ev.h>

#include "sched.h"

struct corun_options;

/* Check the job line that -c makes for --pipe: 0, or -1 after a message
 * on standard error (a usage error). */
int pipe_in_check(const struct corun_options *);
/* Start reading standard input on the loop, a job per block (opts must
 * outlive the run). */
void pipe_in_start(struct ev_loop *, const struct corun_options *);
/* True when standard input could not be read. */
int pipe_in_failed(void);
/* Stop reading for good (the end of the run). */
void pipe_in_stop(void);
/* The blocks as the scheduler's source of jobs (sched_set_source). */
extern const struct sched_source pipe_in_source;

#endif
