/*
 * input.h: reading job lines from files and standard input.
 *
 * Files are checked whole before anything runs (every bad line reported as
 * FILE:LINE: message), and what runs is what was checked; then every input,
 * files and standard input alike, is read from the loop in order, a chunk at a time, while the scheduler has
 * room (backpressure). Each logical line goes to the scheduler as it is
 * parsed. Loop thread only.
 */
#ifndef CORUN_INPUT_H
#define CORUN_INPUT_H

#include <ev.h>
#include <stddef.h>

#include "sched.h"

/* Read and parse every named file whole; print each bad line, directory
 * or unreadable file to stderr. Returns their number (0: all good). "-" is
 * skipped. */
int input_check(char *const names[], size_t n);
/* After input_check: may the jobs need the fork server (process-pool
 * jobs, children)? True when standard input is among the inputs. */
int input_may_need_forksrv(void);
/* Start reading the inputs in order on the loop: what input_check checked
 * of the same names (it must come first, unless the only name is "-"). */
void input_start(struct ev_loop *, char *const names[], size_t n);
/* Pause or resume reading (the scheduler's in-flight limit). */
void input_pause(int paused);
/* True when an input could not be opened or read while running. */
int input_failed(void);
/* True once every input has reached end-of-file. */
int input_done(void);
/* Stop reading for good (shutdown). */
void input_stop(void);
/* The inputs as the scheduler's source of jobs (sched_set_source). */
extern const struct sched_source input_source;

#endif
