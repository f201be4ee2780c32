/*
 * future.c: results and the future every job settles through.
 *
 * A struct result owns its two buffers and its error string; result_move
 * hands them over without copying, so a result travels from an executor to
 * the job's future and on to the reporter with no duplication.
 *
 * A future is a three-state machine: PENDING -> RUNNING (future_start) ->
 * DONE (future_settle), or PENDING -> DONE directly when a queued job is
 * settled without running. DONE is final: a second settle is refused and
 * leaves the offered result with the caller, so the done callback runs
 * exactly once. The callback runs last and may free the future (and the
 * job it is embedded in). Only the loop thread touches futures; the struct
 * stays small because one is embedded in every job.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "future.h"

/* The status word used in records; "?" for a value out of range. */
const char *
status_name(enum job_status st)
{
	switch (st) {
	case ST_OK:
		return "ok";
	case ST_FAILED:
		return "failed";
	case ST_TIMEOUT:
		return "timeout";
	case ST_CANCELLED:
		return "cancelled";
	case ST_SKIPPED:
		return "skipped";
	case ST_ERROR:
		return "error";
	}
	return "?";
}

/* Make r an empty ok result: no exit status, no signal, no value. */
void
result_init(struct result *r)
{
	r->status = ST_OK;
	r->exit = -1;
	r->signal = 0;
	r->http_status = 0;
	r->retry_after = 0;
	r->truncated = false;
	r->has_errout = false;
	r->unstarted = false;
	r->value = (struct buf)BUF_INIT;
	r->errout = (struct buf)BUF_INIT;
	r->error = NULL;
	r->host = NULL;
}

/* Release what r owns and leave it as result_init does. */
void
result_free(struct result *r)
{
	buf_free(&r->value);
	buf_free(&r->errout);
	free(r->error);
	result_init(r);
}

/* Replace r's error message with a formatted one (owned by r). The
 * arguments may refer to the old message. */
void
result_error(struct result *r, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	msg = xmalloc((size_t)n + 1);
	msg[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	free(r->error);
	r->error = msg;
}

/* Hand src's contents to dst, freeing dst's old ones; src ends empty. */
void
result_move(struct result *dst, struct result *src)
{
	if (dst == src)
		return;
	result_free(dst);
	*dst = *src;
	result_init(src);
}

/* Make f a pending future with an empty result; cb(f, arg) runs when it
 * settles. */
void
future_init(struct future *f, future_cb cb, void *arg)
{
	f->state = FUT_PENDING;
	f->started = 0;
	f->ended = 0;
	result_init(&f->res);
	f->cb = cb;
	f->cb_arg = arg;
}

/* PENDING -> RUNNING at time now; -1 (and no change) from any other state. */
int
future_start(struct future *f, double now)
{
	if (f->state != FUT_PENDING)
		return -1;
	f->state = FUT_RUNNING;
	f->started = now;
	return 0;
}

/* Settle f with res at time now: res is moved in and the callback runs.
 * Returns -1, leaving res with the caller, if f is already DONE. */
int
future_settle(struct future *f, struct result *res, double now)
{
	if (f->state == FUT_DONE)
		return -1;
	f->state = FUT_DONE;
	f->ended = now;
	result_move(&f->res, res);
	if (f->cb != NULL)
		f->cb(f, f->cb_arg);
	return 0;
}

/* Seconds from start to settlement; 0 unless it started and settled. */
double
future_elapsed(const struct future *f)
{
	if (f->state != FUT_DONE || f->started == 0)
		return 0;
	return f->ended - f->started;
}

/* Release the future's result. */
void
future_free(struct future *f)
{
	result_free(&f->res);
}
