/*
 * remote.h: the remote executor (corun -S; corun(1), REMOTE WORKERS):
 * jobs run by corun --serve workers that --launcher starts, one
 * connection per host, frames as src/wire.h specifies.
 */
#ifndef CORUN_REMOTE_H
#define CORUN_REMOTE_H

#include <stddef.h>

struct ev_loop;
struct corun_options;
struct job_spec;
struct executor_ops;

/* Check one -S entry, "[N/]HOST" or ":" (N >= 1, HOST without spaces or
 * commas): 0, or -1 and a message. */
int remote_host_check(const char *entry, char *err, size_t errlen);
/* Launch the hosts of opts (none: nothing to do). 0, or -1 with a
 * message (a bad entry). */
int remote_init(struct ev_loop *, const struct corun_options *, char *err,
		size_t errlen);
/* Does a job of spec go to a host? Only with -S, for a kind that can move
 * (not fn, not cancel), without host=local and without --pipe input. */
int remote_takes(const struct job_spec *, int has_input);
/* The executor the scheduler runs those jobs through. */
extern const struct executor_ops exec_remote_ops;
/* Free the hosts (after the last record is written: records point to
 * their names). */
void remote_free(void);

#endif
