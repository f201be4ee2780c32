/*
 * output.c: getting the records to standard output without blocking the
 * loop.
 *
 * report.c formats records into one buffer and writes what a non-blocking
 * pipe takes; this module decides when: once per loop iteration from the
 * scheduler's prepare phase (output_flush), and again whenever a slow
 * reader makes room (the drain watcher), so a reader sees each record
 * before the loop blocks, without a write per record when many end at
 * once. While records wait, the scheduler holds back (output_held): no job
 * starts and no input is read until the reader catches up, so memory
 * stays bounded whatever the reader's speed.
 *
 * A pipe's reader that goes away is noticed even while no record is due
 * (epoll reports an error on our end); then, or when a write fails, the
 * lost callback ends the run at once, as a second signal would.
 *
 * Threads: loop thread only.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "output.h"
#include "report.h"
#include "stats.h"
#include "util.h"

static struct {
	struct ev_loop *loop;
	void (*lost)(void);
	ev_io reader; /* a pipe on standard output, for its reader's end */
	ev_io drain;  /* standard output, for room (fd -1: none) */
	int gone;     /* records were lost: lost() was called */
} O;

/* Set up on a loop. */
void
output_init(struct ev_loop *loop, void (*lost)(void))
{
	memset(&O, 0, sizeof O);
	O.loop = loop;
	O.lost = lost;
	ev_io_init(&O.drain, NULL, -1, EV_WRITE);
	ev_io_init(&O.reader, NULL, -1, EV_READ);
}

/* The records cannot be written any more (err: EPIPE when the reader is
 * gone, which needs no message): tell the run, once. */
static void
output_lost(int err)
{
	if (O.gone)
		return;
	if (err != EPIPE)
		warnx("writing records: %s", strerror(err));
	O.gone = 1;
	if (O.lost != NULL)
		O.lost();
}

/* The reader of standard output (a pipe) has gone. */
static void
output_reader_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	ev_ref(loop);
	ev_io_stop(loop, w);
	output_lost(EPIPE);
}

/* Standard output can take more of the records that wait for it. */
static void
output_drain_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	if (report_flush() == -1) {
		ev_io_stop(loop, w);
		output_lost(errno);
	} else if (!report_pending()) {
		ev_io_stop(loop, w);
	}
}

/* Watch standard output when it is a pipe or socket. */
void
output_watch(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1 ||
	    !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	ev_io_init(&O.drain, output_drain_cb, fd, EV_WRITE);
	if (!S_ISFIFO(st.st_mode))
		return;
	ev_io_init(&O.reader, output_reader_cb, fd, EV_READ);
	ev_io_start(O.loop, &O.reader);
	/* It watches; it does not keep the run alive. */
	ev_unref(O.loop);
}

/* Write what the reader takes now. */
int
output_flush(void)
{
	if (report_pending())
		stats_progress_clear();
	if (report_flush() == 0)
		return 0;
	output_lost(errno);
	return -1;
}

/* Do records wait for the reader? */
int
output_held(void)
{
	return report_pending();
}

/* Have the loop wake when the reader makes room. */
void
output_wait(void)
{
	if (report_pending() && O.drain.fd >= 0)
		ev_io_start(O.loop, &O.drain);
}

/* Were records lost? */
int
output_failed(void)
{
	return O.gone;
}

/* Stop the watchers. */
void
output_stop(void)
{
	if (ev_is_active(&O.reader)) {
		ev_ref(O.loop);
		ev_io_stop(O.loop, &O.reader);
	}
	ev_io_stop(O.loop, &O.drain);
}
