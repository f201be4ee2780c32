/*
 * rawout.h: the raw output modes (corun(1), OUTPUT): a job's own bytes
 * on corun's standard output and error instead of records.
 */
#ifndef CORUN_RAWOUT_H
#define CORUN_RAWOUT_H

#include <stddef.h>

struct attempt;
struct corun_options;
struct job_spec;
struct record;

/* The output mode of a run's options, AUTO resolved
 * (CORUN_OUTPUT_RECORDS, _GROUP, _LINE or _UNGROUP). */
int rawout_mode(const struct corun_options *);
/* Does --results name a JSON Lines file (NAME.json), which gets the
 * records instead of standard output? */
int rawout_results_json(const struct corun_options *);
/* Set up for a run; nothing is done in the records mode. */
void rawout_init(const struct corun_options *);
/* Is a raw mode on (rather than records)? */
int rawout_on(void);
/* A child's bytes (stream 0: stdout, 1: stderr) of the attempt at (a
 * struct attempt; child.c's tap). */
void rawout_tap(void *at, int stream, const char *p, size_t n);
/* The file the child of attempt at (a struct attempt) is to write its
 * standard output into, or -1 for a pipe (a file per job in --group, as
 * GNU parallel does). */
int rawout_stdout_file(const struct attempt *);
/* A job is final and its turn has come (in place of its record): write
 * what it holds, its value if it is not a child's, and why it did not
 * end ok; its --results files. spec may be NULL (a line that did not
 * parse). */
void rawout_write(const struct record *, const struct job_spec *);
/* Drop what is held (the end of a run). */
void rawout_shutdown(void);

#endif
