/*
 * work.h: the blocking run functions of the built-in thread and process
 * kinds. Each appends its value to *value and returns 0, or writes a
 * one-line message to err and returns -1; none touches anything else.
 */
#ifndef CORUN_WORK_H
#define CORUN_WORK_H

#include <stddef.h>

struct buf;

/* The type of every blocking run function (work.c's, plugin_run_call,
 * api_run_fn). */
typedef int (*kind_run_fn)(int argc, char *const argv[], struct buf *value,
			   char *err, size_t errlen);

int work_resolve(int, char *const[], struct buf *, char *, size_t);
int work_block(int, char *const[], struct buf *, char *, size_t);
int work_read(int, char *const[], struct buf *, char *, size_t);
int work_primes(int, char *const[], struct buf *, char *, size_t);
int work_spin(int, char *const[], struct buf *, char *, size_t);

#endif
