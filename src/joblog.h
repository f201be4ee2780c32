/*
 * joblog.h: the job log (--joblog FILE) and --resume.
 *
 * One tab-separated line per final job, after a header line: id, seq,
 * source, kind, executor, status, attempts, start (seconds since the
 * epoch), elapsed, exit, signal ("-" where there is none), job (its
 * canonical line, plan_line's without id and executor), queued (seconds
 * from its reading to its first start), host (the remote host it ran on,
 * "-": here); columns are added last so that older logs, with 11, 12 or
 * 13 fields, still read. Each line is
 * appended with one write(2) as its job ends, so a crash of corun loses at
 * most the line being written. --resume reads the file first and remembers
 * the jobs recorded ok, by id and job. Loop thread only.
 */
#ifndef CORUN_JOBLOG_H
#define CORUN_JOBLOG_H

struct record;

/* Open path for appending (a new or empty file gets the header line);
 * with resume, first read the ids it has recorded ok. 0, or -1 with a
 * message on stderr. */
int joblog_open(const char *path, int resume);
/* Was the job id with canonical line job recorded ok before this run
 * (--resume)? A line of a log written before the job column matches by id
 * alone. */
int joblog_was_ok(const char *id, const char *job);
/* Append the line of a final job (no-op without --joblog); job is its
 * canonical line or NULL. The record's start and queued are logged. */
void joblog_write(const struct record *, const char *job);
/* True when a write to the log failed (reported on stderr). */
int joblog_failed(void);
/* Close the file and forget the resumed ids. */
void joblog_close(void);

#endif
