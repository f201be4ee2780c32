/*
 * kinds.h: the table of job kinds, as the job language sees them.
 *
 * A kind is one row: its name, the executor it runs on by default (and the
 * others on= may choose), how many arguments it takes, a check of those
 * arguments run at parse time, and its properties as columns (does it
 * spawn a child, is its argument a shell script, what its record carries).
 * This is the kind's syntax only: pure data and pure checks, so the parser
 * links without any of the runtime. How a kind runs (its run function, or
 * its start/stop on the loop) is bound to the same row by executors.c. A
 * new kind is a new row here and a new runtime entry there.
 */
#ifndef CORUN_KINDS_H
#define CORUN_KINDS_H

#include <stddef.h>

enum executor { EX_LOOP, EX_THREAD, EX_PROCESS };
#define EX_COUNT 3

/* "loop", "thread" or "process". */
const char *executor_name(enum executor);
/* The executor of that name, or -1. */
int executor_parse(const char *);

/* The kinds, in table order (frames carry a kind by this number). */
enum kind_id {
	KIND_SLEEP,
	KIND_EXEC,
	KIND_SH,
	KIND_CANCEL,
	KIND_HTTP,
	KIND_TCP,
	KIND_RESOLVE,
	KIND_BLOCK,
	KIND_READ,
	KIND_PRIMES,
	KIND_SPIN,
	KIND_CALL,
	KIND_FN,
	KIND_COUNT
};

struct kind {
	const char *name;
	enum kind_id id;        /* its row: kind_table[id] */
	enum executor executor; /* default executor */
	unsigned executors;     /* bit mask (1 << EX_*) of allowed executors */
	int min_args;
	int max_args;           /* -1: no upper bound */
	/* Validate the arguments at parse time: 0, or -1 and a message. */
	int (*check)(int argc, char *const argv[], char *err, size_t errlen);
	unsigned spawns : 1;    /* runs a child process: counts against -j */
	unsigned shell : 1;     /* its one argument is a script for sh -c */
	unsigned output : 1;    /* its record carries a child's stdout,
				 * stderr, exit status and signal */
	unsigned http : 1;      /* its record carries an HTTP status */
	unsigned file_relative : 1; /* argv[0] is a path that, when relative,
				     * is relative to the job file's directory */
	unsigned hidden : 1;    /* not in the job language (libcorun's fn) */
};

extern const struct kind kind_table[KIND_COUNT];

/* The row for a kind name of the job language, or NULL. */
const struct kind *kind_find(const char *);

#endif
