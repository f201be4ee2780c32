/*
 * api.h: what the engine needs of libcorun's runner (api.c): the run
 * function of the hidden fn kind, through which corun_submit_fn's C
 * functions run in a pool thread or a worker process.
 */
#ifndef CORUN_API_H
#define CORUN_API_H

#include <stddef.h>

struct buf;

/* fn ADDR ARG: call the function at ADDR (hex) with the bytes of ARG
 * (hex); a blocking run function (work.h's type). */
int api_run_fn(int argc, char *const argv[], struct buf *value, char *err,
	       size_t errlen);

#endif
