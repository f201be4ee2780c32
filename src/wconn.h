/*
 * wconn.h: the byte stream of a remote worker (corun --serve) over its
 * standard input and output: what was read and not yet decoded, the
 * frames queued and not yet written, and the reads and writes that move
 * them without blocking and without changing the flags of file
 * descriptions that other processes share (stdin_reader's way).
 */
#ifndef CORUN_WCONN_H
#define CORUN_WCONN_H

#include <sys/types.h>

#include "util.h"

struct wconn {
	int rfd, rsock; /* standard input as stdin_reader gave it */
	int wfd, wsock; /* standard output, opened likewise */
	struct buf in;	/* bytes read, not yet decoded */
	struct buf out; /* frames to write */
};

/* A decoder of the bytes at the start of in (wire_decode's shape): bytes
 * taken (> 0), 0 when more are needed, -1 with a message in err. */
typedef ssize_t wconn_decode_fn(const char *p, size_t n, void *item, char *err,
				size_t errlen);

/* Set c up on standard input and output. */
void wconn_stdio(struct wconn *c);
/* One read into c->in: bytes read, 0 at EOF, -1 with errno (EAGAIN:
 * nothing yet). */
ssize_t wconn_read(struct wconn *c);
/* One write from c->out (what was written is consumed): bytes written, or
 * -1 with errno. */
ssize_t wconn_write(struct wconn *c);
/* Write everything queued, waiting up to secs: 0, or -1 (given up). */
int wconn_flush_wait(struct wconn *c, double secs);
/* Read until decode takes a whole item from c->in, waiting up to secs
 * (start-up only: it blocks). Returns what decode returned (> 0, or -1),
 * or 0 with a message in err when the bytes never came. */
ssize_t wconn_read_until(struct wconn *c, wconn_decode_fn *decode, void *item,
			 char *err, size_t errlen, double secs);
/* What waits on standard input, looked at without reading: 0 nothing,
 * WCONN_BYTES bytes, WCONN_HUP its writer has gone (maybe after bytes). */
enum { WCONN_BYTES = 1, WCONN_HUP = 2 };
int wconn_pending(const struct wconn *c);
/* Free the buffers and close what wconn_stdio opened. */
void wconn_close(struct wconn *c);

#endif
