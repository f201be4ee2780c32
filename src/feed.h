/*
 * feed.h: writing bytes into a pipe from the loop (feed.c): a --pipe
 * job's block into its child's standard input.
 */
#ifndef CORUN_FEED_H
#define CORUN_FEED_H

#include <ev.h>
#include <stddef.h>

struct feed;

/* Make a child's standard input pipe: both ends close-on-exec, the write
 * end fds[1] non-blocking, the read end fds[0] at fd 3 or above (spawn.c
 * puts the pipes on 0, 1 and 2 in that order). 0, or -1 with errno set and
 * nothing open. */
int feed_pipe(int fds[2]);
/* Write len bytes at data (the caller's: they must stay until feed_free)
 * into fd, which the feed takes over, as the reader takes them; close fd
 * once all is written or the reader takes no more. */
struct feed *feed_start(struct ev_loop *, int fd, const char *data, size_t len);
/* Stop writing, close the fd if still open, and free the feed (NULL: no
 * feed). */
void feed_free(struct feed *);

#endif
