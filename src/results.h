/*
 * results.h: --results DIR, each job's output in files laid out as GNU
 * parallel's --results DIR lays them out (results.c).
 */
#ifndef CORUN_RESULTS_H
#define CORUN_RESULTS_H

#include <stdint.h>

struct spool;

/* Write seq, the bytes of out and err into DIR/1/ARG1/2/ARG2/.../seq,
 * stdout and stderr (args: the job's inputs; none: its id alone); out and
 * err are emptied. 0, or -1 with a message on standard error once. Loop
 * thread (blocking writes to files, as a disk is). */
int results_write(const char *dir, const char *const *args, int nargs,
		  const char *id, uint64_t seq, struct spool *out,
		  struct spool *err);

#endif
