/*
 * feed.c: bytes written into a pipe from the loop, as its reader takes
 * them: a --pipe job's block into its child's standard input.
 *
 * The write end is non-blocking and watched by ev_io, so the loop never
 * blocks on a child that reads slowly or not at all; each callback writes
 * until the pipe is full: a write that takes less than it was given means
 * full, and the callback returns to the loop rather than chase a reader
 * that frees a little at a time (it would hold the loop, and the other
 * feeds, on one pipe, and fight the reader for the pipe's lock). A pipe
 * is grown to hold up to 1 MiB of a big block (F_SETPIPE_SZ), so the loop
 * and the reader wake each other several times less often than with the
 * 64 KiB default; the feeds' pipes together stay within 16 MiB, inside the
 * system's limit on a user's pipes (/proc/sys/fs/pipe-user-pages-soft,
 * 64 MiB), so many jobs share it and the rest keep the default size.
 * When every byte is written the pipe is closed,
 * and the reader sees end-of-file. A reader that goes away before taking
 * everything (a child that exits or closes its standard input early, as
 * head(1) does) is not an error: the write fails with EPIPE (corun ignores
 * SIGPIPE), and the pipe is closed; the job's status is the child's. The
 * bytes are the caller's (the job keeps its block for retries): a feed
 * only points into them. A block of a regular file (--pipe reading its
 * standard input in place) is spliced from the file into the pipe: the
 * file's pages go in without a copy; a file that shrank ends the feed
 * early, as a reader that went away does.
 *
 * Threads: loop thread only. Memory: a feed is freed by feed_free, which
 * its owner (child.c) calls when the child finishes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "feed.h"
#include "util.h"

/* A pipe's size as it is made, and the most a feed's pipe is grown to
 * (/proc/sys/fs/pipe-max-size is 1 MiB by default). */
#define FEED_PIPE_DEF (64 * 1024)
#define FEED_PIPE_MAX (1024 * 1024)
/* The most the feeds' grown pipes hold together. */
#define FEED_PIPES_ALL (16 * 1024 * 1024)

struct feed {
	struct ev_loop *loop;
	ev_io w;	  /* the write end; fd -1 once closed */
	struct feed_src src;
	size_t off;  /* bytes written so far */
	size_t pipe; /* the pipe's size, when grown; else 0 */
};

/* The bytes of the live feeds' grown pipes (loop thread only). */
static size_t feed_pipes;

/* Write what the pipe takes of the bytes left, asking for *ask of them
 * at most (set): as write(2). */
static ssize_t
feed_put(struct feed *f, size_t *ask)
{
	size_t left = f->src.len - f->off;

	*ask = left;
	if (f->src.data != NULL)
		return write(f->w.fd, f->src.data + f->off, left);
#ifdef HAVE_SPLICE
	{
		loff_t at = (loff_t)f->src.off + (loff_t)f->off;
		ssize_t n = splice(f->src.fd, &at, f->w.fd, NULL, left,
				   SPLICE_F_NONBLOCK);

		if (n != -1 || (errno != EINVAL && errno != ENOSYS))
			return n;
	}
#endif
	/* No splice: through a buffer. */
	{
		char buf[64 * 1024];
		ssize_t n = pread(f->src.fd, buf, left < sizeof buf ? left
								   : sizeof buf,
				  f->src.off + (off_t)f->off);

		if (n <= 0)
			return n;
		*ask = (size_t)n;
		return write(f->w.fd, buf, (size_t)n);
	}
}

/* Close fd1 and fd2 (-1: none), set errno to e and return -1. */
static int
feed_fail(int fd1, int fd2, int e)
{
	if (fd1 != -1)
		close(fd1);
	if (fd2 != -1)
		close(fd2);
	errno = e;
	return -1;
}

/* Make a child's standard input pipe (feed.h). */
int
feed_pipe(int fds[2])
{
	int low;

	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	if (fd_nonblock(fds[1]) == -1)
		return feed_fail(fds[0], fds[1], errno);
	if (fds[0] > 2)
		return 0;
	/* corun was started with 0, 1 or 2 closed: move the read end out
	 * of the way of the write ends that go on 1 and 2. */
	low = fds[0];
	fds[0] = fcntl(low, F_DUPFD_CLOEXEC, 3);
	if (fds[0] == -1)
		return feed_fail(low, fds[1], errno);
	close(low);
	return 0;
}

/* Grow the pipe fd to hold up to len bytes, as far as the feeds' share
 * of pipes allows and the system lets (best effort: a pipe that cannot
 * grow works as it is). */
static void
feed_grow(struct feed *f, int fd, size_t len)
{
#ifdef F_SETPIPE_SZ
	size_t want = len < FEED_PIPE_MAX ? len : FEED_PIPE_MAX;
	size_t room = feed_pipes < FEED_PIPES_ALL ? FEED_PIPES_ALL - feed_pipes
						  : 0;
	int got;

	/* (The kernel rounds a size up: room may run out a little early.) */
	if (want > room)
		want = room;
	/* pipe-max-size may be lower than ours: try half as much. */
	for (; want > FEED_PIPE_DEF; want /= 2)
		if ((got = fcntl(fd, F_SETPIPE_SZ, (int)want)) != -1) {
			f->pipe = (size_t)got;
			feed_pipes += f->pipe;
			return;
		}
#else
	(void)f, (void)fd, (void)len;
#endif
}

/* Close the write end: the reader sees end-of-file; the pipe's share
 * goes back. */
static void
feed_close(struct feed *f)
{
	if (f->w.fd == -1)
		return;
	ev_io_stop(f->loop, &f->w);
	close(f->w.fd);
	ev_io_set(&f->w, -1, 0);
	feed_pipes -= f->pipe;
	f->pipe = 0;
}

/* The pipe has room: write what it takes, until it takes less than it is
 * given (it is full); close it when all is written or the reader takes no
 * more (EPIPE, any other error). */
static void
feed_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct feed *f = w->data;

	(void)loop;
	(void)revents;
	while (f->off < f->src.len) {
		size_t ask;
		ssize_t n = feed_put(f, &ask);

		if (n > 0) {
			f->off += (size_t)n;
			if ((size_t)n < ask && f->off < f->src.len)
				return; /* full: the loop says when not */
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break;
	}
	feed_close(f);
}

/* Start writing data into fd (taken over); the caller frees the feed with
 * feed_free, and keeps data until then. */
struct feed *
feed_start(struct ev_loop *loop, int fd, const struct feed_src *src)
{
	struct feed *f = xcalloc(1, sizeof *f);

	f->loop = loop;
	f->src = *src;
	feed_grow(f, fd, src->len);
	ev_io_init(&f->w, feed_write_cb, fd, EV_WRITE);
	f->w.data = f;
	ev_io_start(loop, &f->w);
	return f;
}

/* Stop, close and free a feed (NULL: nothing). */
void
feed_free(struct feed *f)
{
	if (f == NULL)
		return;
	feed_close(f);
	free(f);
}
