/*
 * arglist.h: command mode's inputs (corun(1), COMMAND MODE): argument
 * lists, files of inputs and standard input, made into jobs through the
 * template. Loop thread only.
 */
#ifndef CORUN_ARGLIST_H
#define CORUN_ARGLIST_H

#include <ev.h>

#include "sched.h"

struct corun_options;

/* Compile the template, open the streamed input and read the other
 * argument lists whole. 0, or -1 after a message on stderr (a usage
 * error: exit status 2). opts must outlive the run. */
int arglist_init(const struct corun_options *);
/* Start making jobs on the loop. */
void arglist_start(struct ev_loop *);
/* Stop for good (shutdown) and free everything. */
void arglist_stop(void);
/* True when an input could not be read while running. */
int arglist_failed(void);
/* The inputs as the scheduler's source of jobs (sched_set_source). */
extern const struct sched_source arglist_source;

#endif
