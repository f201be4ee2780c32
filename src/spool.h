/*
 * spool.h: a job's output held until it is written: in memory while it
 * is small, then in an unlinked temporary file (spool.c).
 */
#ifndef CORUN_SPOOL_H
#define CORUN_SPOOL_H

#include <stddef.h>

#include "util.h"

struct spool {
	struct buf mem; /* the bytes, while they are in memory */
	int fd;		/* the file once past memory, or -1 */
	size_t len;	/* bytes held in all */
};

#define SPOOL_INIT {BUF_INIT, -1, 0}

/* Append n bytes: 0, or -1 with errno when the file cannot be made or
 * written (the bytes are then lost). Loop thread. */
int spool_add(struct spool *, const void *p, size_t n);
/* Queue what is held for fd with the writer (report_raw, report_spool)
 * and empty the spool. Loop thread. */
void spool_hand(struct spool *, int fd);
/* A new unlinked temporary file in $TMPDIR (or /tmp), close-on-exec:
 * its fd, or -1 with errno. */
int spool_file(void);
/* Drop what is held. */
void spool_free(struct spool *);
/* Copy the first len bytes of the file from to fd, blocking (the writer
 * thread): 0, or the errno of a failed write. */
int spool_copy(int from, size_t len, int fd);

#endif
