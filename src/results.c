/*
 * results.c: --results DIR (corun(1), OUTPUT): each job's standard
 * output, standard error and sequence number in files, in the layout of
 * GNU parallel's --results DIR, so scripts written for it work:
 *
 *   DIR/1/ARG1/2/ARG2/.../seq      the sequence number, no newline
 *   DIR/1/ARG1/2/ARG2/.../stdout   the bytes, whole
 *   DIR/1/ARG1/2/ARG2/.../stderr
 *
 * one level per input source. In an ARG, '/' is written \_ and '\' is
 * written \\, as parallel does. A job line has no inputs: its id (id=, or
 * its sequence number) stands for ARG1.
 *
 * Threads: loop thread only; the writes are blocking writes to regular
 * files, like the spools' (spool.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results.h"
#include "spool.h"
#include "util.h"

/* mkdir path and every missing parent: 0, or -1 with errno. */
static int
results_mkdirs(char *path)
{
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0777) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* Append an input as one path component, '/' as \_ and '\' as \\. */
static void
results_component(struct buf *b, const char *arg)
{
	for (; *arg != '\0'; arg++) {
		if (*arg == '/')
			buf_add(b, "\\_", 2);
		else if (*arg == '\\')
			buf_add(b, "\\\\", 2);
		else
			buf_addc(b, *arg);
	}
}

/* Write the file dir/name with n bytes of p, or the spool's bytes: 0, or
 * -1 with errno. */
static int
results_file(const struct buf *dir, const char *name, const char *p, size_t n,
	     struct spool *sp)
{
	struct buf path = BUF_INIT;
	int fd, rc = 0, e = 0;

	buf_printf(&path, "%s/%s", dir->data, name);
	fd = open(path.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	buf_free(&path);
	if (fd == -1)
		return -1;
	if (sp == NULL)
		rc = write_all(fd, p, n);
	else if (sp->fd != -1)
		rc = (e = spool_copy(sp->fd, sp->len, fd)) != 0 ? -1 : 0;
	else
		rc = write_all(fd, sp->mem.data, sp->mem.len);
	if (rc == -1 && e == 0)
		e = errno;
	if (close(fd) == -1 && rc == 0) {
		rc = -1;
		e = errno;
	}
	errno = e;
	return rc;
}

/* Write a job's three files under dir; out and err are emptied. */
int
results_write(const char *dir, const char *const *args, int nargs,
	      const char *id, uint64_t seq, struct spool *out,
	      struct spool *err)
{
	static bool warned;
	struct buf path = BUF_INIT;
	char num[24];
	int rc, n;

	buf_adds(&path, dir);
	for (int i = 0; i < (nargs > 0 ? nargs : 1); i++) {
		buf_printf(&path, "/%d/", i + 1);
		results_component(&path, nargs > 0 ? args[i] : id);
	}
	n = snprintf(num, sizeof num, "%llu", (unsigned long long)seq);
	rc = results_mkdirs(path.data);
	if (rc == 0)
		rc = results_file(&path, "seq", num, (size_t)n, NULL);
	if (rc == 0)
		rc = results_file(&path, "stdout", NULL, 0, out);
	if (rc == 0)
		rc = results_file(&path, "stderr", NULL, 0, err);
	if (rc == -1 && !warned) {
		warned = true;
		warnx("--results: %s: %s", path.data, strerror(errno));
	}
	buf_free(&path);
	spool_free(out);
	spool_free(err);
	return rc;
}
