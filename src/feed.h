/*
 * feed.h: writing bytes into a pipe from the loop (feed.c): a --pipe
 * job's block into its child's standard input.
 */
#ifndef CORUN_FEED_H
#define CORUN_FEED_H

#include <ev.h>
#include <stddef.h>
#include <sys/types.h>

struct feed;

/* What a feed writes: len bytes at data, or, with data NULL, len bytes
 * of the regular file fd from offset off (spliced: the file's pages go
 * into the pipe without a copy). The bytes, or the fd, are the caller's
 * and must stay until feed_free. */
struct feed_src {
	const char *data;
	int fd;
	off_t off;
	size_t len;
};

/* Make a child's standard input pipe: both ends close-on-exec, the write
 * end fds[1] non-blocking, the read end fds[0] at fd 3 or above (spawn.c
 * puts the pipes on 0, 1 and 2 in that order). 0, or -1 with errno set and
 * nothing open. */
int feed_pipe(int fds[2]);
/* Write src's bytes into fd, which the feed takes over, as the reader
 * takes them; close fd once all is written, the reader takes no more, or
 * the file ends early (it shrank). */
struct feed *feed_start(struct ev_loop *, int fd, const struct feed_src *src);
/* Stop writing, close the fd if still open, and free the feed (NULL: no
 * feed). */
void feed_free(struct feed *);

#endif
