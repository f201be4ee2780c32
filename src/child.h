/*
 * child.h: child processes for exec and sh, driven by the loop.
 *
 * posix_spawn in a new process group, standard input /dev/null (or,
 * with --pipe, a pipe the loop writes the job's block into),
 * standard output and error on non-blocking pipes watched by ev_io, exit
 * seen on its pidfd. The child stays unreaped until it is
 * done, so its process group id is never reused while corun may signal
 * it. It is done when it has exited and both pipes are at EOF or its
 * drain limit passed (child.c). Standard output is kept up to
 * CORUN_OUTPUT_CAP bytes and the rest drained; standard error keeps its
 * last CORUN_STDERR_CAP bytes. Loop thread only.
 */
#ifndef CORUN_CHILD_H
#define CORUN_CHILD_H

#include <ev.h>
#include <sys/types.h>

struct result;
struct child;

/* Called once, when the child has exited and both pipes are closed: status
 * ok iff exit status 0; exit or signal set; res is moved from. The child
 * is freed after the callback returns. */
typedef void (*child_done_fn)(void *ctx, struct result *res);

/* Spawn argv[0] (searched in PATH). Returns the child, or NULL with a
 * one-line message in err and errno set (nothing to reap then): EMFILE or
 * ENFILE when out of fds, EAGAIN when out of processes. */
struct child *child_spawn(struct ev_loop *, char *const argv[],
			  child_done_fn, void *ctx, char *err, size_t errlen);
/* The same, with in's bytes (NULL: /dev/null instead) written to the
 * child's standard input by the loop as it reads them, then EOF (feed.c);
 * they are the caller's and must stay until done is called. A child that
 * does not read them all is no error. */
struct feed_src;
struct child *child_spawn_in(struct ev_loop *, char *const argv[],
			     const struct feed_src *in, child_done_fn,
			     void *ctx, char *err, size_t errlen);
/* Stop it: SIGTERM to its process group, SIGKILL after grace seconds
 * (at once when grace <= 0). done is still called once, at most a fraction
 * of a second after the SIGKILL whatever the child's descendants do. */
void child_kill(struct child *, double grace);
/* The child's pid, which is also its process group id. */
pid_t child_pid(const struct child *);
/* Children not yet done (for shutdown). */
int child_count(void);
/* Every way out of a run: SIGKILL every live child's group and reap it
 * (bounded wait), calling forget(pid), if not NULL, before each reap;
 * done is not called. */
void child_shutdown(void (*forget)(pid_t));
/* Seconds the pipes get to reach EOF after a child exited (--grace; at
 * least 0.1 s) before its output is cut; for children spawned later. */
void child_set_drain(double secs);
/* Reap children ourselves: SIGCHLD to its default action, so that libev
 * reaps nothing (its child watchers are not used). Called by every spawn,
 * and before the fork server starts. */
void child_own_reaping(void);
/* Send signals with fn instead of kill(2), NULL for kill (tests). */
void child_set_killer(int (*fn)(pid_t, int));
/* A child's bytes as they are read (stream 0: stdout, 1: stderr). */
typedef void (*child_tap_fn)(void *arg, int stream, const char *p, size_t n);
/* Give every byte the child writes to tap(arg, ...) instead of keeping
 * it for the result (the raw output modes); call it right after
 * child_spawn. */
void child_set_tap(struct child *, child_tap_fn tap, void *arg);
/* The next child_spawn puts the child's standard output on fd, a file
 * the caller keeps open, instead of a pipe, and reads none of it (the
 * --group output mode, as GNU parallel's temporary files). */
void child_next_stdout(int fd);
/* Stop (pause 1) or resume (0) reading the pipes of every child: the
 * output module's backpressure on children. */
void child_pause_reads(int pause);

#endif
