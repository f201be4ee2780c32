/*
 * output.c: getting the records to standard output without blocking the
 * loop, in bounded memory.
 *
 * report.c formats records and hands them to its writer thread, which
 * does blocking writes: standard output's flags are never changed, since
 * its file description may be shared with other processes (corun(1),
 * Guarantees). This module decides when records are handed over: once
 * per loop iteration from the scheduler's prepare phase (output_flush), so
 * a reader sees each record before the loop blocks, without a write per
 * record when many end at once. The writer wakes the loop (an ev_async)
 * after each buffer it wrote, or when a write failed.
 *
 * Backpressure: records not yet written (report_backlog) are bounded by
 * --output-buffer. At the bound the scheduler holds back (output_held: no
 * job starts, no input is read) and no child's pipe is read
 * (child_pause_reads), so no child job can finish and add a record, until
 * the reader has taken enough. While records are in flight the async
 * watcher keeps the loop alive, so the run ends only when they are
 * written (output_pending).
 *
 * A pipe's reader that goes away is noticed even while no record is due
 * (epoll reports an error on our end); then, or when a write fails, the
 * lost callback ends the run at once, as a second signal would.
 *
 * Threads: loop thread only (the writer thread only sends the async).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "child.h"
#include "corun.h"
#include "output.h"
#include "report.h"
#include "stats.h"
#include "util.h"

static struct {
	struct ev_loop *loop;
	void (*lost)(void);
	ev_io reader;	/* a pipe on standard output, for its reader's end */
	ev_async wrote; /* the writer wrote a buffer, or failed */
	bool alive;	/* wrote holds the loop (records in flight) */
	bool full;	/* the backlog reached the bound */
	size_t max;	/* the bound, bytes */
	int gone;	/* records were lost: lost() was called */
} O;

/* Send the loop the writer's news (any thread). */
static void
output_wake(void)
{
	if (O.loop != NULL)
		ev_async_send(O.loop, &O.wrote);
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

/* Follow the backlog: hold the loop while records are in flight, pause
 * the children's pipes at the bound and resume them below it. */
static void
output_update(void)
{
	bool pending = report_pending();
	bool full = report_backlog() >= O.max && !O.gone;

	if (pending && !O.alive)
		ev_ref(O.loop);
	else if (!pending && O.alive)
		ev_unref(O.loop);
	O.alive = pending;
	if (full != O.full)
		child_pause_reads(full);
	O.full = full;
}

/* The writer wrote records, or failed. */
static void
output_wrote_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	if (report_flush() == -1)
		output_lost(errno);
	output_update();
}

/* Set up on a loop. */
void
output_init(struct ev_loop *loop, void (*lost)(void))
{
	memset(&O, 0, sizeof O);
	O.loop = loop;
	O.lost = lost;
	O.max = (size_t)CORUN_DEFAULT_OUTPUT_BUFFER_MB << 20;
	ev_io_init(&O.reader, NULL, -1, EV_READ);
	ev_async_init(&O.wrote, output_wrote_cb);
	ev_async_start(loop, &O.wrote);
	/* It holds the loop only while records are in flight. */
	ev_unref(loop);
	report_on_written(output_wake);
}

/* The reader of standard output (a pipe) has gone. */
static void
output_reader_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	ev_ref(loop);
	ev_io_stop(loop, w);
	output_lost(EPIPE);
	output_update();
}

/* Bound the records waiting for the reader to max bytes (0: the
 * default); watch fd for its reader's end when it is a pipe. */
void
output_watch(int fd, size_t max)
{
	struct stat st;

	if (max > 0)
		O.max = max;
	if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode))
		return;
	ev_io_init(&O.reader, output_reader_cb, fd, EV_READ);
	ev_io_start(O.loop, &O.reader);
	/* It watches; it does not keep the run alive. */
	ev_unref(O.loop);
}

/* Hand the records over to the writer. */
int
output_flush(void)
{
	int rc = 0;

	if (report_pending())
		stats_progress_clear();
	if (report_flush() == -1) {
		output_lost(errno);
		rc = -1;
	}
	output_update();
	return rc;
}

/* Do records wait beyond the bound? */
int
output_held(void)
{
	return O.full;
}

/* Do records wait for the reader at all? */
int
output_pending(void)
{
	return report_pending();
}

/* Were records lost? */
int
output_failed(void)
{
	return O.gone;
}

/* Stop the watchers; the children's pipes are read again. */
void
output_stop(void)
{
	if (ev_is_active(&O.reader)) {
		ev_ref(O.loop);
		ev_io_stop(O.loop, &O.reader);
	}
	if (ev_is_active(&O.wrote)) {
		report_on_written(NULL);
		if (!O.alive)
			ev_ref(O.loop);
		ev_async_stop(O.loop, &O.wrote);
	}
	O.alive = false;
	if (O.full)
		child_pause_reads(0);
	O.full = false;
}
