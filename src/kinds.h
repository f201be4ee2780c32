/*
 * kinds.h: the table of job kinds.
 *
 * A kind is one row: its name, the executor it runs on by default (and the
 * others on= may choose), how many arguments it takes, a check of those
 * arguments run at parse time, and how it runs. Thread and process kinds have
 * a blocking run function that is called in a pool thread or a worker process
 * and touches no job state; loop kinds have start/stop functions called on
 * the loop thread. A new kind is a new row in kinds.c.
 */
#ifndef CORUN_KINDS_H
#define CORUN_KINDS_H

#include <stddef.h>

struct buf;
struct job;

enum executor { EX_LOOP, EX_THREAD, EX_PROCESS };
#define EX_COUNT 3

/* "loop", "thread" or "process". */
const char *executor_name(enum executor);
/* The executor of that name, or -1. */
int executor_parse(const char *);

/* A blocking run function: append the value to *value and return 0, or
 * write a one-line message to err and return -1. */
typedef int (*kind_run_fn)(int argc, char *const argv[], struct buf *value,
			   char *err, size_t errlen);

struct kind {
	const char *name;
	enum executor executor; /* default executor */
	unsigned executors;     /* bit mask (1 << EX_*) of allowed executors */
	int min_args;
	int max_args;           /* -1: no upper bound */
	/* Validate the arguments at parse time: 0, or -1 and a message. */
	int (*check)(int argc, char *const argv[], char *err, size_t errlen);
	kind_run_fn run;        /* thread and process kinds */
	/* Loop kinds: start an attempt; stop it early (timeout, cancel).
	 * Either way the attempt ends with exactly one sched_attempt_done. */
	void (*start)(struct job *);
	void (*stop)(struct job *);
	int spawns;             /* runs a child process: counts against -j */
	int file_relative;      /* argv[0] is a path that, when relative, is
				 * relative to the job file's directory */
	int hidden;             /* not in the job language (libcorun's fn) */
};

extern const struct kind kind_table[];
extern const size_t kind_count;

/* Loop kinds' entry points (executors.c). */
void loop_sleep_start(struct job *);
void loop_sleep_stop(struct job *);
void loop_child_start(struct job *);
void loop_child_stop(struct job *);

/* libcorun's C-function jobs (api.c): the hidden row and its run. */
const struct kind *kind_fn(void);
int api_run_fn(int argc, char *const argv[], struct buf *value, char *err,
	       size_t errlen);

/* The row for a kind name of the job language, or NULL. */
const struct kind *kind_find(const char *);
/* A row's index in kind_table (frames carry kinds by index). */
int kind_index(const struct kind *);

#endif
