/*
 * report_writer.c: records (and the raw output modes' bytes) on their way
 * to standard output, by a writer thread.
 *
 * The loop thread formats records into one buffer (report_write appends a
 * whole record, with its output block in text mode, so records never
 * interleave) and hands the buffer itself, not a copy, to a writer thread
 * once per loop iteration (report_flush) or at once past 64 KiB. The
 * writer does blocking writes, chunk after chunk in order, and calls the
 * wake callback after each (the output module's ev_async): so the loop
 * never blocks on a slow reader and standard output's flags are never
 * touched (the file description may be shared with other processes). No
 * byte is moved once formatted: a slow reader costs pipe speed, not a
 * copy of what waits. report_backlog counts what is handed over and not
 * yet written; the output module bounds it. Once a write fails (EPIPE:
 * the reader is gone; corun ignores SIGPIPE), what is queued and every
 * later record is dropped and every later flush returns -1 with the same
 * errno, like ferror() on a stdio stream.
 *
 * The raw output modes (rawout.c) queue bytes the same way, in the same
 * order: for standard output or for standard error (report_raw; a chunk
 * holds bytes for one fd), and whole spool files (report_spool), which
 * the writer copies in the kernel (spool_copy) and closes. A spool file is
 * not memory: report_backlog leaves it out, report_pending counts it. A
 * failed write to standard error loses only those bytes.
 *
 * Threads: the loop thread and the writer. W.mu guards the queue, the
 * pending counts and the writer's error; report_out and the rest are the
 * loop thread's. The writer is started on the first bytes to write, after
 * the fork server if the run may need one (ppool_before_thread); if it
 * cannot start, the loop thread writes with blocking writes itself. Bytes
 * for a regular file or /dev/null, which have no reader to wait for, are
 * written by the loop itself as long as the writer has not started (a run
 * whose output goes to a file needs no thread, nor a wakeup per chunk);
 * once it has, everything goes through it, in order.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "pool_proc.h"
#include "report.h"
#include "spool.h"

/* Hand over to the writer at once when this much is queued. */
#define REPORT_HIGH_WATER (64 * 1024)

/* The writer's state: loop thread only. */
static struct buf report_out = BUF_INIT;
static int report_fd = -1;
static int report_out_fd = -1; /* where report_out's bytes go */
static int report_json;
static int report_errno; /* 0, or the errno of the failed write */

/* One buffer of whole records (or a raw mode's bytes) on its way to the
 * writer: b's bytes, or flen bytes of the spool file from, to fd. */
struct chunk {
	STAILQ_ENTRY(chunk) link;
	struct buf b;
	int fd, from;
	size_t flen;
};

/* The writer thread and what the loop hands it: W.mu guards the rest. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t work; /* the writer waits: a chunk, or stop */
	pthread_cond_t done; /* the loop waits at exit: a chunk written */
	STAILQ_HEAD(, chunk) q;
	size_t pending;	  /* bytes handed over and not yet written */
	size_t files;	  /* spool files handed over, not yet written */
	uint64_t written; /* chunks written, to see progress */
	int err;	  /* errno of the failed write, or 0 */
	bool stop;
	bool started; /* loop thread only, like the two below */
	pthread_t tid;
	void (*wake)(void);
} W = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .q = STAILQ_HEAD_INITIALIZER(W.q),
};

/* report_fd_direct's answers for fds 0-2 (-1: not asked yet this run). */
static signed char report_direct[3] = {-1, -1, -1};

/* Write all of b to fd, blocking: 0, or the errno of the failure. If
 * another process made the shared file description non-blocking, wait for
 * room with poll instead. */
static int
report_write_all(int fd, const struct buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off);

		if (n >= 0) {
			off += (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			(void)poll(&p, 1, -1);
		} else if (errno != EINTR) {
			return errno;
		}
	}
	return 0;
}

/* Free a chunk and its bytes (and its spool file). */
static void
chunk_free(struct chunk *c)
{
	buf_free(&c->b);
	if (c->from != -1)
		close(c->from);
	free(c);
}

/* Write a chunk: 0, or the errno of a failed write to standard output
 * (corun's standard error failing loses only its own bytes). */
static int
chunk_write(const struct chunk *c)
{
	int err = c->from != -1 ? spool_copy(c->from, c->flen, c->fd)
				: report_write_all(c->fd, &c->b);

	return c->fd == report_fd ? err : 0;
}

/* The writer thread: write the chunks in order with blocking writes, tell
 * the loop after each (W.wake); after a failure drop what is queued and
 * end. */
static void *
report_writer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&W.mu);
	for (;;) {
		struct chunk *c;
		int err;

		while (STAILQ_EMPTY(&W.q) && !W.stop)
			pthread_cond_wait(&W.work, &W.mu);
		if ((c = STAILQ_FIRST(&W.q)) == NULL)
			break;
		pthread_mutex_unlock(&W.mu);
		err = chunk_write(c);
		pthread_mutex_lock(&W.mu);
		STAILQ_REMOVE_HEAD(&W.q, link);
		W.pending -= c->b.len;
		W.files -= c->from != -1;
		W.written++;
		chunk_free(c);
		if (err != 0) {
			W.err = err;
			while ((c = STAILQ_FIRST(&W.q)) != NULL) {
				STAILQ_REMOVE_HEAD(&W.q, link);
				chunk_free(c);
			}
			W.pending = 0;
			W.files = 0;
		}
		pthread_cond_broadcast(&W.done);
		/* Under the lock: once report_on_written(NULL) returns, no
		 * wake is under way. */
		if (W.wake != NULL)
			W.wake();
		if (err != 0)
			break;
	}
	pthread_mutex_unlock(&W.mu);
	return NULL;
}

/* Start the writer thread, signals blocked in it: 0, or -1 (the loop then
 * writes with blocking writes itself). */
static int
report_writer_start(void)
{
	sigset_t all, old;
	int rc;

	/* Before any thread: see ppool_before_thread. */
	ppool_before_thread();
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&W.tid, NULL, report_writer, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	W.started = true;
	return 0;
}

/* Write records to fd, text or JSON; forget what an earlier run queued.
 * fd's flags are left as they are: it is written by a thread. */
void
report_init(int fd, int json)
{
	report_close();
	buf_free(&report_out);
	report_fd = report_out_fd = fd;
	report_json = json;
	memset(report_direct, -1, sizeof report_direct);
	report_errno = 0;
}

/* Call wake (from the writer thread, which holds W.mu then: wake must not
 * call back into this module) whenever records were written or a write
 * failed; NULL: no more calls. */
void
report_on_written(void (*wake)(void))
{
	pthread_mutex_lock(&W.mu);
	W.wake = wake;
	pthread_mutex_unlock(&W.mu);
}

/* Bytes queued for standard output (report_output_bytes). */
static unsigned long long report_bytes;

/* Bytes queued for standard output so far. */
unsigned long long
report_output_bytes(void)
{
	return report_bytes;
}

/* Queue a record; hand it to the writer at once past the high-water mark.
 * Dropped after a failed write. */
void
report_write(const struct record *rec)
{
	size_t before;

	if (report_errno != 0)
		return;
	if (report_out_fd != report_fd && report_out.len > 0)
		report_flush();
	report_out_fd = report_fd;
	before = report_out.len;
	report_format(&report_out, rec, report_json);
	report_bytes += report_out.len - before;
	if (report_out.len > REPORT_HIGH_WATER)
		report_flush();
}

/* Bytes of records queued and not yet written. */
size_t
report_backlog(void)
{
	size_t n;

	pthread_mutex_lock(&W.mu);
	n = W.pending;
	pthread_mutex_unlock(&W.mu);
	return n + report_out.len;
}

/* Are records (or spool files) queued and not yet written? */
int
report_pending(void)
{
	size_t files;

	pthread_mutex_lock(&W.mu);
	files = W.files;
	pthread_mutex_unlock(&W.mu);
	return files > 0 || report_backlog() > 0;
}

/* Take the writer's failure, if any: 0, or -1 with errno. */
static int
report_failed(void)
{
	if (report_errno == 0) {
		pthread_mutex_lock(&W.mu);
		report_errno = W.err;
		pthread_mutex_unlock(&W.mu);
	}
	if (report_errno == 0)
		return 0;
	buf_free(&report_out);
	errno = report_errno;
	return -1;
}

/* Drop every queued record but those being written: the chunk the writer
 * has started (chunks hold whole records, so the output still ends at a
 * record boundary). A third signal (corun(1), SIGNALS). */
void
report_cut(void)
{
	struct chunk *first, *c;

	buf_free(&report_out);
	pthread_mutex_lock(&W.mu);
	first = STAILQ_FIRST(&W.q);
	while (first != NULL && (c = STAILQ_NEXT(first, link)) != NULL) {
		STAILQ_REMOVE(&W.q, c, chunk, link);
		W.pending -= c->b.len;
		W.files -= c->from != -1;
		chunk_free(c);
	}
	pthread_mutex_unlock(&W.mu);
}

/* Can a write to fd not wait for a reader: a regular file or /dev/null?
 * (Asked once per fd.) */
static bool
report_fd_direct(int fd)
{
	signed char *known = report_direct;
	struct stat st;
	int direct;

	if (fd >= 0 && fd <= 2 && known[fd] != -1)
		return known[fd] == 1;
	direct = fstat(fd, &st) == 0 &&
		 (S_ISREG(st.st_mode) ||
		  (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)));
	if (fd >= 0 && fd <= 2)
		known[fd] = (signed char)direct;
	return direct;
}

/* Hand a chunk to the writer thread, or write it here if the thread
 * cannot start, or has not started and fd has no reader to wait for (a
 * file or /dev/null: no thread for a run that writes there): 0, or -1
 * with errno. */
static int
report_queue(struct chunk *c)
{
	if (!W.started && report_fd_direct(c->fd)) {
		report_errno = chunk_write(c);
		chunk_free(c);
		return report_errno != 0 ? report_failed() : 0;
	}
	if (!W.started && report_writer_start() == -1) {
		report_errno = chunk_write(c);
		chunk_free(c);
		return report_failed();
	}
	pthread_mutex_lock(&W.mu);
	W.pending += c->b.len;
	W.files += c->from != -1;
	STAILQ_INSERT_TAIL(&W.q, c, link);
	pthread_cond_signal(&W.work);
	pthread_mutex_unlock(&W.mu);
	return 0;
}

/* Hand what is queued to the writer thread (the buffer itself, no copy),
 * or write it here if the thread cannot start. Returns 0, or -1 with
 * errno, again on every call after the first failure. */
int
report_flush(void)
{
	struct chunk *c;

	if (report_failed() == -1)
		return -1;
	if (report_out.len == 0)
		return 0;
	c = xmalloc(sizeof *c);
	c->b = report_out;
	c->fd = report_out_fd;
	c->from = -1;
	c->flen = 0;
	report_out = (struct buf)BUF_INIT;
	return report_queue(c);
}

/* Queue raw bytes for fd (standard output or error) after everything
 * queued so far. */
void
report_raw(int fd, const void *p, size_t n)
{
	if (report_errno != 0 || n == 0)
		return;
	if (fd == STDOUT_FILENO)
		report_bytes += n;
	if (fd != report_out_fd && report_out.len > 0)
		report_flush();
	report_out_fd = fd;
	/* Room for what comes before the high-water mark, at once: bytes
	 * are copied in once, never moved by growing. */
	if (report_out.cap == 0 && n <= IO_CHUNK) {
		report_out.cap = REPORT_HIGH_WATER + IO_CHUNK + 1;
		report_out.data = xmalloc(report_out.cap);
	}
	buf_add(&report_out, p, n);
	if (report_out.len > REPORT_HIGH_WATER)
		report_flush();
}

/* Queue len bytes of the spool file from (from its start; the writer
 * closes it) for fd, after everything queued so far. */
void
report_spool(int fd, int from, size_t len)
{
	struct chunk *c;

	if (report_flush() == -1) {
		close(from);
		return;
	}
	if (fd == STDOUT_FILENO)
		report_bytes += len;
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->from = from;
	c->flen = len;
	report_queue(c);
}

/* Hand over what is queued and wait until it is written; with patience
 * >= 0, give up once the reader has taken nothing for that many seconds.
 * Returns 0, or -1 with errno (ETIMEDOUT: gave up). */
int
report_drain(double patience)
{
	if (report_flush() == -1)
		return -1;
	pthread_mutex_lock(&W.mu);
	while ((W.pending > 0 || W.files > 0) && W.err == 0) {
		uint64_t seen = W.written;
		struct timespec ts;

		if (patience < 0) {
			pthread_cond_wait(&W.done, &W.mu);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)patience;
		ts.tv_nsec +=
		    (long)((patience - (double)(time_t)patience) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while ((W.pending > 0 || W.files > 0) && W.err == 0 &&
		       W.written == seen)
			if (pthread_cond_timedwait(&W.done, &W.mu, &ts) ==
			    ETIMEDOUT)
				break;
		if (W.written == seen && (W.pending > 0 || W.files > 0) &&
		    W.err == 0) {
			pthread_mutex_unlock(&W.mu);
			errno = ETIMEDOUT;
			return -1;
		}
	}
	pthread_mutex_unlock(&W.mu);
	return report_failed();
}

/* End the writer thread if it has nothing left to write (one blocked on a
 * stalled reader is left to the process's exit). */
void
report_close(void)
{
	bool idle;

	if (!W.started)
		return;
	pthread_mutex_lock(&W.mu);
	idle = STAILQ_EMPTY(&W.q);
	if (idle) {
		W.stop = true;
		pthread_cond_signal(&W.work);
	}
	pthread_mutex_unlock(&W.mu);
	if (idle) {
		pthread_join(W.tid, NULL);
		W.started = false;
		W.stop = false;
		W.err = 0;
	}
}
