/*
 * joblog.h: the job log (--joblog FILE) and --resume.
 *
 * One tab-separated line per final job, after a header line: id, seq,
 * source, kind, executor, status, attempts, start (seconds since the
 * epoch), elapsed, exit, signal ("-" where there is none). Each line is
 * appended with one write(2) as its job ends, so a crash of corun loses at
 * most the line being written. --resume reads the file first and remembers
 * the ids recorded ok. Loop thread only.
 */
#ifndef CORUN_JOBLOG_H
#define CORUN_JOBLOG_H

struct record;

/* Open path for appending (a new or empty file gets the header line);
 * with resume, first read the ids it has recorded ok. 0, or -1 with a
 * message on stderr. */
int joblog_open(const char *path, int resume);
/* Was id recorded ok before this run (--resume)? */
int joblog_was_ok(const char *id);
/* Append the line of a final job (no-op without --joblog). started is the
 * wall-clock time of its first attempt, 0 if it never started. */
void joblog_write(const struct record *, double started);
/* Close the file and forget the resumed ids. */
void joblog_close(void);

#endif
