/*
 * engine.h: what the CLI's run (corun_run) and libcorun's runner (api.c)
 * ask of the engine: start the loop, the scheduler and the pools for a
 * set of options, and stop them.
 */
#ifndef CORUN_ENGINE_H
#define CORUN_ENGINE_H

#include <ev.h>

struct corun_options;

/* Start the engine for opts (which must outlive it); the loop. */
struct ev_loop *corun_engine_start(const struct corun_options *);
/* Stop what corun_engine_start started. */
void corun_engine_stop(const struct corun_options *);

#endif
