/*
 * joblog.c: the job log and --resume (see joblog.h for the format).
 *
 * --resume remembers each job logged ok under the key "ID\tJOB" (JOB, its
 * canonical job line, holds no tab), so that a job of another file with
 * the same id is not taken for it. A line of an older log, written before
 * the job column existed (11 fields), is remembered under its id alone and
 * matches by id, as it did then; a line written before the host column
 * (13 fields) or the queued column
 * (12 fields, the job last) is read as a new one. A failed write (a full
 * disk) is reported once; the log is closed and joblog_failed says so
 * (exit status 1).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "joblog.h"
#include "report.h"
#include "table.h"
#include "util.h"

#define JOBLOG_HEADER                                                          \
	"id\tseq\tsource\tkind\texecutor\tstatus\tattempts\tstart\telapsed\t" \
	"exit\tsignal\tjob\tqueued\thost\n"
#define JOBLOG_FIELDS 14
/* Fields of a line of a log written before the host column. */
#define JOBLOG_FIELDS_NOHOST 13
/* Fields of a line of a log written before the queued column, and before
 * the job column. */
#define JOBLOG_FIELDS_NOQUEUED 12
#define JOBLOG_FIELDS_OLD 11

static int joblog_fd = -1;
static int joblog_err;          /* a write failed: the log is incomplete */
static struct strtab joblog_ok; /* "ID\tJOB" (or "ID", old lines) ok */
static struct buf joblog_line = BUF_INIT;

/* Remember the id and job of every well-formed line of buf whose status is
 * ok. A last line without its newline was cut short by a crash: ignored. */
static void
joblog_scan(const char *p, size_t len)
{
	const char *end = p + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *f[JOBLOG_FIELDS + 1];
		int n = 0;

		if (nl == NULL)
			break;
		f[n++] = p;
		for (const char *c = p; c < nl && n <= JOBLOG_FIELDS; c++)
			if (*c == '\t')
				f[n++] = c + 1;
		if ((n == JOBLOG_FIELDS || n == JOBLOG_FIELDS_NOHOST ||
		     n == JOBLOG_FIELDS_NOQUEUED ||
		     n == JOBLOG_FIELDS_OLD) &&
		    strncmp(f[5], "ok\t", 3) == 0 && f[1] - f[0] > 1) {
			/* "ID" of an old line, "ID\tJOB" of a new one. */
			char *key;

			if (n != JOBLOG_FIELDS_OLD) {
				size_t idlen = (size_t)(f[1] - f[0]);
				/* The job ends at the queued field's tab. */
				const char *je = n >= JOBLOG_FIELDS_NOHOST
						     ? f[12] - 1
						     : nl;
				key = xmalloc(idlen + (size_t)(je - f[11]) + 1);
				memcpy(key, f[0], idlen);
				memcpy(key + idlen, f[11],
				       (size_t)(je - f[11]));
				key[idlen + (size_t)(je - f[11])] = '\0';
			} else {
				key = xstrndup(f[0], (size_t)(f[1] - f[0] - 1));
			}
			strtab_add(&joblog_ok, key, 1);
			free(key);
		}
		p = nl + 1;
	}
}

/* Read the whole log for --resume. */
static int
joblog_load(const char *path)
{
	struct buf b = BUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		ssize_t n;

		buf_reserve(&b, IO_CHUNK);
		n = read(fd, b.data + b.len, IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			buf_free(&b);
			return -1;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
	}
	close(fd);
	joblog_scan(b.data, b.len);
	buf_free(&b);
	return 0;
}

/* A write to the log failed (errno): say so once and stop logging. */
static void
joblog_fail(void)
{
	warnx("job log: %s", strerror(errno));
	close(joblog_fd);
	joblog_fd = -1;
	joblog_err = 1;
}

/* End a last line cut short by a crash, so that this run's first line is
 * not glued to it (and lost to --resume). */
static void
joblog_end_line(const char *path, off_t size)
{
	char last;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return;
	if (pread(fd, &last, 1, size - 1) == 1 && last != '\n' &&
	    write_all(joblog_fd, "\n", 1) == -1)
		joblog_fail();
	close(fd);
}

/* Open the log. */
int
joblog_open(const char *path, int resume)
{
	struct stat st;

	if (resume && joblog_load(path) == -1) {
		warnx("%s: %s", path, strerror(errno));
		return -1;
	}
	joblog_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (joblog_fd == -1) {
		warnx("%s: %s", path, strerror(errno));
		return -1;
	}
	joblog_err = 0;
	if (fstat(joblog_fd, &st) == 0) {
		if (st.st_size == 0 &&
		    write_all(joblog_fd, JOBLOG_HEADER,
			      sizeof JOBLOG_HEADER - 1) == -1)
			joblog_fail();
		else if (st.st_size > 0 && S_ISREG(st.st_mode))
			joblog_end_line(path, st.st_size);
	}
	return 0;
}

/* Was the job id, whose canonical line is job, ok in the log (or, in a log
 * of the old format, any job of that id)? */
int
joblog_was_ok(const char *id, const char *job)
{
	struct buf key = BUF_INIT;
	int ok;

	if (strtab_get(&joblog_ok, id) != 0)
		return 1;
	buf_adds(&key, id);
	buf_addc(&key, '\t');
	buf_adds(&key, job);
	ok = strtab_get(&joblog_ok, key.data) != 0;
	buf_free(&key);
	return ok;
}

/* Append a field, tabs and newlines made blanks so the line stays one. */
static void
joblog_field(struct buf *b, const char *s)
{
	if (s == NULL) {
		buf_addc(b, '-');
		return;
	}
	for (; *s != '\0'; s++)
		buf_addc(b, *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

/* Append a final job's line; job is its canonical line (NULL: none). */
void
joblog_write(const struct record *rec, const char *job)
{
	struct buf *b = &joblog_line;
	const struct result *res = rec->res;

	if (joblog_fd == -1)
		return;
	buf_reset(b);
	if (rec->id != NULL)
		joblog_field(b, rec->id);
	else
		buf_printf(b, "%llu", (unsigned long long)rec->seq);
	buf_printf(b, "\t%llu\t", (unsigned long long)rec->seq);
	joblog_field(b, rec->file);
	buf_printf(b, ":%u\t", rec->line);
	joblog_field(b, rec->kind);
	buf_addc(b, '\t');
	joblog_field(b, rec->executor);
	buf_printf(b, "\t%s\t%d\t", status_name(res->status), rec->attempts);
	if (rec->start > 0)
		buf_printf(b, "%.3f", rec->start);
	else
		buf_addc(b, '-');
	buf_printf(b, "\t%.3f\t", rec->elapsed);
	if (res->exit >= 0)
		buf_printf(b, "%d\t", res->exit);
	else
		buf_adds(b, "-\t");
	if (res->signal > 0)
		buf_printf(b, "%d\t", res->signal);
	else
		buf_adds(b, "-\t");
	joblog_field(b, job != NULL && *job != '\0' ? job : NULL);
	if (rec->start > 0)
		buf_printf(b, "\t%.3f\t", rec->queued);
	else
		buf_adds(b, "\t-\t");
	joblog_field(b, res->host);
	buf_addc(b, '\n');
	if (write_all(joblog_fd, b->data, b->len) == -1)
		joblog_fail();
}

/* Did a write to the log fail (the log lacks lines)? */
int
joblog_failed(void)
{
	return joblog_err;
}

/* Close the log. */
void
joblog_close(void)
{
	if (joblog_fd != -1 && close(joblog_fd) == -1 && errno != EINTR) {
		warnx("job log: %s", strerror(errno));
		joblog_err = 1;
	}
	joblog_fd = -1;
	strtab_free(&joblog_ok);
	buf_free(&joblog_line);
}
