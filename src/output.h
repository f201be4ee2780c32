/*
 * output.h: getting the records to standard output without blocking the
 * loop.
 *
 * The scheduler hands finished records to the reporter (report_write);
 * this module pumps them out once per loop iteration and applies
 * backpressure: while the reader has not taken what is written, the
 * scheduler starts nothing and reads nothing (output_held), and a watcher
 * wakes the loop when the reader makes room. When the reader goes away,
 * or a write fails, the run is told to end at once (the lost callback).
 * Loop thread only.
 */
#ifndef CORUN_OUTPUT_H
#define CORUN_OUTPUT_H

#include <ev.h>

/* Set up on a loop; lost() is called once if the records cannot be
 * written any more. */
void output_init(struct ev_loop *, void (*lost)(void));
/* Watch fd (standard output) when it is a pipe or socket: for room when
 * records wait for a slow reader and, for a pipe, for the reader's end. */
void output_watch(int fd);
/* Write what the reader takes now (off the progress line): 0, or -1 when
 * the records are lost and the run is ending. */
int output_flush(void);
/* Do records wait for the reader? */
int output_held(void);
/* Records wait: have the loop wake when the reader makes room. */
void output_wait(void);
/* Were records lost (the reader went away, or a write failed)? */
int output_failed(void);
/* Stop the watchers. */
void output_stop(void);

#endif
