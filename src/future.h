/*
 * future.h: a job's future and the result it settles with.
 *
 * A future goes PENDING -> RUNNING -> DONE, or PENDING -> DONE when it is
 * settled without ever running (cancelled or skipped while queued). It is
 * settled exactly once; its done callback runs exactly once, at settlement.
 * Futures are touched only by the loop thread.
 */
#ifndef CORUN_FUTURE_H
#define CORUN_FUTURE_H

#include <stdbool.h>

#include "util.h"

enum job_status {
	ST_OK,
	ST_FAILED,
	ST_TIMEOUT,
	ST_CANCELLED,
	ST_SKIPPED,
	ST_ERROR,
};
#define ST_COUNT 6

/* "ok", "failed", ... */
const char *status_name(enum job_status);

/* What one attempt, or the job as a whole, came to. The struct owns its
 * buffers and error string; result_free releases them. */
struct result {
	enum job_status status;
	int exit;            /* exit status of a child; -1: none */
	int signal;          /* signal that ended the child or worker; 0: none */
	int http_status;     /* final HTTP status of an http job; 0: none */
	int retry_after;     /* a 429 or 503's Retry-After, seconds; 0: none */
	bool truncated;      /* value cut at the output cap */
	bool has_errout;     /* errout is meaningful (exec, sh) */
	bool unstarted;      /* corun could not start it (retry-on start) */
	struct buf value;    /* the value (stdout for exec/sh) */
	struct buf errout;   /* the tail of the child's stderr */
	char *error;         /* one-line message, or NULL */
	const char *host;    /* the remote host it ran on (corun -S), or
			      * NULL: here; the name lives for the run */
};

void result_init(struct result *);
void result_free(struct result *);
/* Replace the error message with a formatted one. */
void result_error(struct result *, const char *, ...) CORUN_ATTR_PRINTF(2, 3);
/* Move src into dst (dst's old contents are freed); src is left empty. */
void result_move(struct result *dst, struct result *src);

enum fut_state { FUT_PENDING, FUT_RUNNING, FUT_DONE };

struct future;
typedef void (*future_cb)(struct future *, void *);

struct future {
	enum fut_state state;
	double started;      /* time of the first start; 0 if never */
	double ended;        /* time of settlement */
	struct result res;
	future_cb cb;
	void *cb_arg;
};

void future_init(struct future *, future_cb, void *);
/* PENDING -> RUNNING at time now. Returns 0, or -1 if not PENDING. */
int future_start(struct future *, double now);
/* Settle with res (moved in, left empty) at time now and run the
 * callback. Returns 0, or -1 if already DONE (res is then untouched). */
int future_settle(struct future *, struct result *res, double now);
/* Seconds from the first start to settlement; 0 if it never started. */
double future_elapsed(const struct future *);
/* Release the result. */
void future_free(struct future *);

#endif
