/*
 * child.h: child processes for exec and sh, driven by the loop.
 *
 * posix_spawn in a new process group, standard input /dev/null, standard
 * output and error on non-blocking pipes watched by ev_io, exit seen by
 * ev_child. Exit and EOF may come in either order: the child is done when
 * it has been reaped and both pipes are at EOF. Standard output is kept up
 * to CORUN_OUTPUT_CAP bytes and the rest drained; standard error keeps its
 * last CORUN_STDERR_CAP bytes. Loop thread only.
 */
#ifndef CORUN_CHILD_H
#define CORUN_CHILD_H

#include <ev.h>
#include <sys/types.h>

struct result;
struct child;

/* Called once, when the child is reaped and both pipes are closed: status
 * ok iff exit status 0; exit or signal set; res is moved from. The child
 * is freed after the callback returns. */
typedef void (*child_done_fn)(void *ctx, struct result *res);

/* Spawn argv[0] (searched in PATH). Returns the child, or NULL with a
 * one-line message in err and errno set (nothing to reap then): EMFILE or
 * ENFILE when out of fds, EAGAIN when out of processes. */
struct child *child_spawn(struct ev_loop *, char *const argv[],
			  child_done_fn, void *ctx, char *err, size_t errlen);
/* Stop it: SIGTERM to its process group, SIGKILL after grace seconds
 * (at once when grace <= 0). done is still called once, when reaped. */
void child_kill(struct child *, double grace);
/* The child's pid, which is also its process group id. */
pid_t child_pid(const struct child *);
/* Children not yet done (for shutdown). */
int child_count(void);
/* SIGKILL every live child's group (last-resort cleanup at exit). */
void child_kill_all(void);
/* Stop (pause 1) or resume (0) reading the pipes of every child: the
 * output module's backpressure on children. */
void child_pause_reads(int pause);

#endif
