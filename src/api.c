/*
 * api.c: libcorun's runner and futures (include/corun.h).
 *
 * A future follows a job submitted with a final function: the scheduler
 * runs it like any other but writes no record; when it is final the
 * scheduler calls api_final, which runs the program's callback, and the
 * job stays allocated until corun_future_free (which may come first: the
 * job is then freed as soon as it is final). C functions travel as a hidden kind, fn,
 * whose two arguments are the function's address and the argument bytes,
 * both in hex: a worker is a fork of this program, so the address means
 * the same function there.
 *
 * Threads: everything here runs on the thread that made the runner; fn's
 * run function (api_run_fn) runs in a pool thread or a worker.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "corun.h"
#include "engine.h"
#include "options.h"
#include "parse.h"
#include "plugin.h"
#include "pool_proc.h"
#include "report.h"
#include "sched.h"

struct corun {
	struct ev_loop *loop;
	struct corun_options opts;
	unsigned lines; /* submissions so far: a job's "line" */
};

/* A future: the scheduler's job, and what the program asked of it. */
struct corun_future {
	struct job *job;   /* allocated until the future is freed */
	corun_done_fn *fn; /* its callback, or NULL */
	void *arg;
	int done;          /* the job is final */
	int released;      /* the program let go of it before the end */
};

static int api_used; /* a runner was made: the fork server is gone after */

/* Make the runner. */
struct corun *
corun_new(const struct corun_options *opts)
{
	char err[192]; /* corun_new says only EINVAL */
	struct corun *r;

	if (api_used) {
		errno = EBUSY;
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	if (options_import(&r->opts, opts, err, sizeof err) == -1) {
		free(r);
		return NULL;
	}
	api_used = 1;
	r->opts.dry_run = 0;
	r->opts.stats = 0;
	r->opts.progress = 0;
	report_init(-1, 0); /* futures have no records */
	r->loop = engine_start(&r->opts);
	if (r->loop == NULL) {
		free(r);
		return NULL;
	}
	/* Now, not at the first job: the program may start threads later. */
	if (ppool_forksrv() == -1) {
		int err = errno;

		engine_stop(&r->opts);
		free(r);
		errno = err;
		return NULL;
	}
	/* No source of jobs: the scheduler's run ends when its jobs do. */
	return r;
}

/* Cancel what is left, wait for it to end, stop the pools. */
void
corun_free(struct corun *r)
{
	if (r == NULL)
		return;
	sched_cancel_all();
	corun_wait(r);
	engine_stop(&r->opts);
	free(r);
}

static sched_final_fn api_final;

/* Take a job into the API: the future that follows it. */
static struct corun_future *
api_job(struct corun *r, struct job_spec *spec)
{
	struct corun_future *f = xcalloc(1, sizeof *f);
	struct job *job = sched_submit(spec, "api", ++r->lines, api_final, f);

	f->job = job;
	return f;
}

/* Submit a job line. */
struct corun_future *
corun_submit(struct corun *r, const char *line, char *err, size_t errlen)
{
	struct job_spec *spec = NULL;

	switch (parse_line(line, &spec, err, errlen)) {
	case PARSE_JOB:
		return api_job(r, spec);
	case PARSE_ERROR:
		free(spec);
		return NULL;
	default:
		errfmt(err, errlen, "no job in the line");
		return NULL;
	}
}

/* Append len bytes as hex. */
static void
api_hex(struct buf *b, const unsigned char *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	buf_reserve(b, len * 2);
	for (size_t i = 0; i < len; i++) {
		b->data[b->len++] = digits[p[i] >> 4];
		b->data[b->len++] = digits[p[i] & 15];
	}
	b->data[b->len] = '\0';
}

/* Submit a C function to a pool. */
struct corun_future *
corun_submit_fn(struct corun *r, enum corun_executor ex, corun_plugin_fn *fn,
		const void *arg, size_t len, double timeout)
{
	struct buf addr = BUF_INIT, data = BUF_INIT;
	char *argv[2];
	struct job_spec *spec;

	if (ex != CORUN_THREAD && ex != CORUN_PROCESS) {
		errno = EINVAL;
		return NULL;
	}
	/* The address as bytes, so no cast between function and object
	 * pointers is needed. */
	api_hex(&addr, (const unsigned char *)&fn, sizeof fn);
	api_hex(&data, arg, len);
	argv[0] = addr.data;
	argv[1] = data.data;
	spec = parse_spec_new(&kind_table[KIND_FN], 2, argv);
	buf_free(&addr);
	buf_free(&data);
	spec->timeout = timeout;
	spec->on = ex == CORUN_THREAD ? EX_THREAD : EX_PROCESS;
	return api_job(r, spec);
}

/* Decode hex into out (len / 2 bytes): 0, or -1 if it is not hex. */
static int
api_decode(const char *hex, unsigned char *out, size_t len)
{
	for (size_t i = 0; i < len; i += 2) {
		int hi = util_hexval(hex[i]), lo = util_hexval(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* fn's run function: call the function at argv[0] with the bytes of
 * argv[1], in a pool thread or a worker. */
int
api_run_fn(int argc, char *const argv[], struct buf *value, char *err,
	   size_t errlen)
{
	corun_plugin_fn *fn;
	size_t hlen = strlen(argv[1]);
	unsigned char *arg;
	struct plugin_sink sink;
	struct corun_out out;
	int rc;

	(void)argc;
	if (strlen(argv[0]) != 2 * sizeof fn ||
	    api_decode(argv[0], (unsigned char *)&fn, 2 * sizeof fn) == -1 ||
	    hlen % 2 != 0) {
		errfmt(err, errlen, "fn: bad function job");
		return -1;
	}
	arg = xmalloc(hlen / 2 + 1);
	if (api_decode(argv[1], arg, hlen) == -1) {
		free(arg);
		errfmt(err, errlen, "fn: bad function job");
		return -1;
	}
	arg[hlen / 2] = '\0';
	memset(&sink, 0, sizeof sink);
	sink.value = value;
	sink.cap = CORUN_OUTPUT_CAP;
	sink.err = err;
	sink.errlen = errlen;
	err[0] = '\0';
	plugin_out_init(&out, &sink);
	rc = fn((const char *)arg, hlen / 2, &out);
	free(arg);
	if (rc != 0) {
		if (err[0] == '\0')
			errfmt(err, errlen, "function failed");
		return -1;
	}
	return 0;
}

/* A future's job is final (maybe inside sched_submit): tell the program,
 * or free both if it let go. */
static void
api_final(struct job *job, void *arg)
{
	struct corun_future *f = arg;

	f->job = job;
	f->done = 1;
	if (f->released) {
		sched_job_free(job);
		free(f);
		return;
	}
	if (f->fn != NULL)
		f->fn(f, f->arg);
}

/* Set the callback; run it now if the future is done. */
void
corun_future_on_done(struct corun_future *f, corun_done_fn *fn, void *arg)
{
	f->fn = fn;
	f->arg = arg;
	if (f->done && fn != NULL)
		fn(f, arg);
}

/* Cancel. */
int
corun_cancel(struct corun_future *f)
{
	if (f->done)
		return -1;
	return sched_cancel_job(f->job);
}

/* Run the loop until the n futures are done. */
size_t
corun_gather(struct corun *r, struct corun_future *const *f, size_t n)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++)
		while (!f[i]->done)
			ev_run(r->loop, EVRUN_ONCE);
	for (size_t i = 0; i < n; i++)
		if (corun_future_status(f[i]) != CORUN_OK)
			bad++;
	return bad;
}

/* Run the loop until no job is left. */
void
corun_wait(struct corun *r)
{
	while (sched_inflight() > 0)
		ev_run(r->loop, EVRUN_ONCE);
}

/* The status, CORUN_PENDING until done. */
enum corun_status
corun_future_status(const struct corun_future *f)
{
	if (!f->done)
		return CORUN_PENDING;
	return (enum corun_status)sched_job_result(f->job)->status;
}

/* The value. */
const char *
corun_future_value(const struct corun_future *f, size_t *len)
{
	const struct result *res = sched_job_result(f->job);

	if (len != NULL)
		*len = res->value.len;
	return res->value.data != NULL ? res->value.data : "";
}

/* The error, NULL when ok. */
const char *
corun_future_error(const struct corun_future *f)
{
	const struct result *res = sched_job_result(f->job);

	if (!f->done || res->status == ST_OK)
		return NULL;
	return res->error != NULL ? res->error : status_name(res->status);
}

/* The exit status of a child, or -1. */
int
corun_future_exit(const struct corun_future *f)
{
	return sched_job_result(f->job)->exit;
}

/* The signal that ended a child or worker, or 0. */
int
corun_future_signal(const struct corun_future *f)
{
	return sched_job_result(f->job)->signal;
}

/* Attempts made. */
int
corun_future_attempts(const struct corun_future *f)
{
	return sched_job_attempts(f->job);
}

/* Seconds from the first start to the end. */
double
corun_future_elapsed(const struct corun_future *f)
{
	return sched_job_elapsed(f->job);
}

/* Let go of a future: now if its job is final, else when it is. */
void
corun_future_free(struct corun_future *f)
{
	if (f == NULL)
		return;
	if (f->done) {
		sched_job_free(f->job);
		free(f);
	} else {
		f->released = 1;
	}
}
