/*
 * serve.h: corun --serve, the remote worker (corun(1), --serve): a whole
 * engine that takes jobs as frames (wire.h) on standard input and answers
 * with frames on standard output.
 */
#ifndef CORUN_SERVE_H
#define CORUN_SERVE_H

struct corun_options;

/* Run the worker with opts (the run's own copy: the parent's HELLO sets
 * its grace) until the parent says BYE, goes away or a signal stops it.
 * Returns the exit status: 0 after BYE, 1 when the parent's stream ended
 * or fell silent, broke the protocol or a basefile could not be written,
 * 2 for a bad greeting or HELLO, 128 + N after signal N. */
int serve_run(struct corun_options *opts);

#endif
