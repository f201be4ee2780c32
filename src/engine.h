/*
 * engine.h: what corun_run (corun.c) and a libcorun runner (api.c) ask of
 * the engine: start the loop, the scheduler and the pools for a set of
 * options, and stop them. Not part of libcorun's API (include/corun.h).
 */
#ifndef CORUN_ENGINE_H
#define CORUN_ENGINE_H

struct corun_options;
struct ev_loop;

/* Start the loop, the scheduler and (unless a dry run) the pools for opts,
 * which must outlive the engine. Returns the loop, or NULL with errno set
 * when it cannot be made (nothing is left started then). */
struct ev_loop *engine_start(const struct corun_options *);
/* Stop what engine_start started. */
void engine_stop(const struct corun_options *);

#endif
