/*
 * report.h: result records (corun(1), OUTPUT), text or JSON Lines.
 *
 * report_format is pure (tested on its own; report.c); report_write
 * (report_writer.c) appends a record
 * to the output buffer, which is handed to the writer thread once per loop
 * iteration (before the loop blocks) so a reader of a pipe sees each record
 * as soon as its job ends, without a write per record when many end at
 * once.
 *
 * JSON records carry "queued" and "start" (RFC 3339, UTC, microseconds)
 * before "elapsed", both null for a job that never started; text records
 * leave them out, to stay one short line.
 *
 * Beyond the fields every record has, a JSON record of an http job that
 * got a response carries "http_status":N (the final status, after any -L
 * redirects) right after "elapsed"; records of other jobs, and of http jobs
 * that got no status (connection refused, timed out before the response),
 * do not have the field. A record of command mode carries "args" (the
 * inputs, a list of strings) and "command" (the job line it ran) right
 * after "kind".
 */
#ifndef CORUN_REPORT_H
#define CORUN_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "future.h"
#include "util.h"

struct record {
	const char *id;          /* NULL: the sequence number is the id */
	uint64_t seq;
	const char *file;        /* source is FILE:LINE */
	unsigned line;
	const char *kind;        /* NULL when the line has none */
	int output;              /* its kind captures a child's output
				  * (stdout, stderr, exit, signal) */
	int http;                /* its kind may carry an HTTP status */
	const char *executor;    /* NULL for error records */
	const struct result *res; /* status, value, stderr, error, exit... */
	int attempts;
	double elapsed;
	double queued;           /* seconds from read to the first start */
	double start;            /* wall-clock time of the first start
				  * (seconds since the epoch); 0: never */
	int resumed;             /* --resume found it ok in the job log */
	/* Command mode (corun -c): the inputs that filled the template, and
	 * the job as a job line (JSON "args" and "command"; a text record
	 * shows the command in place of the kind). NULL otherwise. */
	const char *const *args;
	int nargs;
	const char *command;
};

/* Append one record, with its trailing newline, to out. */
void report_format(struct buf *out, const struct record *, int json);
/* Append s as a JSON string (quotes included): invalid UTF-8 becomes
 * U+FFFD, control characters are escaped. */
void report_json_string(struct buf *out, const char *s, size_t len);

/* Write records to fd (standard output), text or JSON, by a writer
 * thread with blocking writes; fd's flags are never changed. */
void report_init(int fd, int json);
/* Call wake, from the writer thread, after records were written or a write
 * failed (wake must not call this module); NULL: no more calls once this
 * returns. */
void report_on_written(void (*wake)(void));
/* Queue a record for writing. */
void report_write(const struct record *);
/* Queue n raw bytes for fd (standard output or error), after what is
 * queued (the raw output modes, rawout.c). */
void report_raw(int fd, const void *p, size_t n);
/* Queue the first len bytes of the spool file from for fd; the writer
 * copies them and closes from (which is the writer's from now on). */
void report_spool(int fd, int from, size_t len);
/* Bytes queued for standard output so far: records (or for --results
 * NAME.json) and raw output (the metrics' corun_output_bytes_total). */
unsigned long long report_output_bytes(void);
/* Bytes of records queued and not yet written. */
size_t report_backlog(void);
/* Are records queued and not yet written? */
int report_pending(void);
/* Drop every queued record but those being written (a third signal: the
 * output ends at a record boundary). */
void report_cut(void);
/* Hand what is queued to the writer; report_pending then says whether it
 * has been written. Returns 0, or -1 with errno (EPIPE: the reader is
 * gone). */
int report_flush(void);
/* Hand over what is queued and wait until it is written; patience >= 0:
 * give up (-1, ETIMEDOUT) when the reader takes nothing for that many
 * seconds. Returns 0, or -1 with errno. */
int report_drain(double patience);
/* End the writer thread when it is idle (at exit). */
void report_close(void);

#endif
