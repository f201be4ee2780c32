/*
 * output.h: getting the records to standard output without blocking the
 * loop, in bounded memory.
 *
 * The scheduler hands finished records to the reporter (report_write);
 * this module hands them to the reporter's writer thread once per loop
 * iteration and applies backpressure: while more than the bound
 * (--output-buffer) waits for the reader, the scheduler starts nothing and
 * reads nothing (output_held) and no child's output is read. When the
 * reader goes away, or a write fails, the run is told to end at once (the
 * lost callback). Loop thread only.
 */
#ifndef CORUN_OUTPUT_H
#define CORUN_OUTPUT_H

#include <ev.h>
#include <stddef.h>

/* Set up on a loop; lost() is called once if the records cannot be
 * written any more. */
void output_init(struct ev_loop *, void (*lost)(void));
/* Bound the records waiting for the reader to max bytes (0: the default,
 * CORUN_DEFAULT_OUTPUT_BUFFER_MB); watch fd (standard output) for its
 * reader's end when it is a pipe. */
void output_watch(int fd, size_t max);
/* Hand the records over to be written (off the progress line): 0, or -1
 * when the records are lost and the run is ending. */
int output_flush(void);
/* Do records wait for the reader beyond the bound (hold back)? */
int output_held(void);
/* Do records wait for the reader at all (the run is not over)? */
int output_pending(void);
/* Were records lost (the reader went away, or a write failed)? */
int output_failed(void);
/* Stop the watchers. */
void output_stop(void);

#endif
