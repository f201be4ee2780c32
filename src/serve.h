/*
 * serve.h: corun --serve, the remote worker (corun(1), --serve): a whole
 * engine that takes jobs as frames (wire.h) on standard input and answers
 * with frames on standard output. serve.c runs it; serve_hello.c is its
 * start-up.
 */
#ifndef CORUN_SERVE_H
#define CORUN_SERVE_H

#include <stddef.h>

#include "util.h"

struct corun_options;
struct wconn;

/* 0 if a worker can run with these options and ninputs inputs; else -1
 * and a message naming the first thing that does not go with --serve. */
int serve_options_check(const struct corun_options *, size_t ninputs, char *err,
			size_t errlen);
/* Run the worker with opts (the run's own copy: the parent's HELLO sets
 * its grace) until the parent says BYE, goes away or a signal stops it.
 * Returns the exit status: 0 after BYE, 1 when the parent's stream ended
 * or fell silent, broke the protocol or a basefile could not be written,
 * 2 for a bad greeting or HELLO, 128 + N after signal N. */
int serve_run(struct corun_options *opts);

/* Start-up (serve_hello.c): send our greeting and HELLO, read and check
 * the parent's, and apply its HELLO (environment, working directory, its
 * grace into opts, its heartbeat in seconds, < 0 none). Blocking, before
 * the engine starts. 0, or the exit status (2 for a greeting or HELLO we
 * cannot take, 1 for a workdir we cannot enter), said on stderr. */
int serve_hello_exchange(struct wconn *, struct corun_options *opts,
			 double *heartbeat);
/* One line on standard error: "corun --serve: MSG". */
void serve_warn(const char *fmt, ...) CORUN_ATTR_PRINTF(1, 2);

#endif
