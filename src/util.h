/*
 * util.h: memory, errors, byte buffers and fd helpers shared by every module.
 *
 * Two tiers of errors: fatal()/x*alloc() for what cannot be
 * survived at start-up or is an out-of-memory condition; everything a job or
 * an input line can get wrong is returned as a code plus a message.
 * Nothing here touches job state, so it is safe from any thread or process.
 */
#ifndef CORUN_UTIL_H
#define CORUN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CORUN_ATTR_NORETURN __attribute__((noreturn))
#define CORUN_ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Bytes asked for per read(2) of a pipe or a file: big enough that a busy
 * pipe is drained in few calls, small enough for a static buffer. */
#define IO_CHUNK 65536

/* Memory: abort() with a message on exhaustion; never return NULL. */
void util_oom(size_t) CORUN_ATTR_NORETURN;
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);

/* Print "corun: MSG: strerror(errno)" and exit 2. */
void fatal(const char *, ...) CORUN_ATTR_PRINTF(1, 2) CORUN_ATTR_NORETURN;
/* Print "corun: MSG" and exit 2. */
void fatalx(const char *, ...) CORUN_ATTR_PRINTF(1, 2) CORUN_ATTR_NORETURN;
/* Print "corun: MSG" on stderr and go on. */
void warnx(const char *, ...) CORUN_ATTR_PRINTF(1, 2);
/* Print "FILE:LINE: MSG" (a bad job line) on stderr. Both print control
 * characters escaped as \xHH. */
void warn_at(const char *file, unsigned line, const char *msg);

/* Format into a fixed buffer (an error message slot); always terminated. */
void errfmt(char *, size_t, const char *, ...) CORUN_ATTR_PRINTF(3, 4);

/*
 * A growable byte buffer. data is always NUL-terminated when non-NULL so it
 * can be used as a C string where the bytes hold none; len excludes the NUL.
 * The buffer owns data; buf_free releases it and leaves an empty buffer.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

void buf_reserve(struct buf *, size_t);
/* The same, or -1 with b unchanged when memory is short (a job's output:
 * its failure fails the job, not corun). */
int buf_try_reserve(struct buf *, size_t);
int buf_try_add(struct buf *, const void *, size_t);
/* Room to grow a job's buffer to n bytes and still leave MEM_HEADROOM? */
int mem_can_grow(size_t n);
void buf_add(struct buf *, const void *, size_t);
void buf_addc(struct buf *, char);
void buf_adds(struct buf *, const char *);
void buf_printf(struct buf *, const char *, ...) CORUN_ATTR_PRINTF(2, 3);
void buf_consume(struct buf *, size_t);
void buf_reset(struct buf *);
void buf_free(struct buf *);
/* Hand over data (caller frees); leaves the buffer empty. Never NULL. */
char *buf_steal(struct buf *);

/* fd flags; return 0 or -1 with errno set. */
int fd_cloexec(int);
int fd_nonblock(int);
/* Append s in single quotes, each ' in it as '\'' (sh and the job
 * language read it back as s). */
void buf_add_squoted(struct buf *, const char *s);
/* A full buffer used as a ring (its len is its size; *head is where the
 * oldest byte is): write n bytes over the oldest, keeping the last len. */
void buf_ring_write(struct buf *, size_t *head, const char *p, size_t n);
/* Put a ring in order, oldest byte first, in place (no allocation: it
 * cannot fail); *head becomes 0. */
void buf_ring_unwrap(struct buf *, size_t *head);
/* Standard input, to be read without blocking and without changing the
 * flags of its file description, which other processes share: a pipe is
 * opened anew through /proc/self/fd/0 (O_NONBLOCK, O_CLOEXEC; close it
 * when done); a socket is fd 0, read with recv(MSG_DONTWAIT) (*sock set);
 * anything else (a terminal, a file, a pipe without /proc) is fd 0 as it
 * is, read when the loop says bytes wait. */
int stdin_reader(int *sock);
/* One read(2) from what stdin_reader gave (EINTR retried). */
ssize_t stdin_read(int fd, int sock, void *p, size_t n);
/* Mark every fd above 2 close-on-exec (start-up: inherited fds). */
void fd_cloexec_all(void);
/* write(2) all of it, retrying on EINTR and waiting out EAGAIN; 0 or -1
 * with errno set. Blocking. */
int write_all(int, const void *, size_t);

/* Describe a wait status: "exit status 1", "killed by signal 9 (SIGKILL)". */
void wait_describe(char *, size_t, int status);

/* Monotonic clock in seconds (any thread or process). */
double mono_now(void);
/* Append a wall-clock time (seconds since the epoch) in RFC 3339, UTC,
 * with microseconds: 2026-12-04T07:39:42.123456Z. */
void buf_add_rfc3339(struct buf *, double when);

/* The number of online CPUs, at least 1. */
int util_cpus(void);

/* A uniform random double in [0, 1) (jitter), from a private per-thread
 * generator: the program's rand() state is left alone. */
double util_random(void);

/* Lower the priority of a single-threaded process (on Linux, of the calling
 * thread): add incr (> 0) to its nice value, capped at 19 by the kernel.
 * Best effort: failures are ignored. */
void nice_self(int incr);

/* The value of a hex digit (either case), or -1. */
int util_hexval(char);

#endif
