/*
 * pool_thread.h: the thread pool (-T) for blocking calls.
 *
 * Generic: it runs a blocking run function (work.h) for an opaque context and
 * hands the result back on the loop thread, so it can be tested without the
 * scheduler. At most as many calls are submitted as there are idle threads.
 */
#ifndef CORUN_POOL_THREAD_H
#define CORUN_POOL_THREAD_H

#include <ev.h>

#include "work.h"

struct result;

/* Called on the loop thread when a call finishes; res is moved from. */
typedef void (*tpool_done_fn)(void *ctx, struct result *res);
/* Called on the loop thread when a call has a thread: at submit when one
 * was idle (when = now), else just before done with the time (ev_time) the
 * thread took it. */
typedef void (*tpool_start_fn)(void *ctx, double when);

/* Create the pool (threads start at the first submit): 0, or -1 with
 * errno when its lock cannot be made. */
int tpool_init(struct ev_loop *, int nthreads, tpool_start_fn, tpool_done_fn);
/* Threads neither busy nor reserved by a submit. */
int tpool_idle(void);
/* Calls that may be submitted now, queued behind busy threads or not. */
int tpool_room(void);
/* Run run(argc, argv) in a thread; the arguments are copied. */
void tpool_submit(void *ctx, kind_run_fn run, int argc, char *const argv[]);
/* Forget ctx: its call's result, when it comes, is discarded; the thread
 * stays busy until then. done is not called for ctx. */
void tpool_cancel(void *ctx);
/* Stop idle threads; never wait for a busy one (its call is abandoned). */
void tpool_shutdown(void);

#endif
