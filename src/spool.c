/*
 * spool.c: a job's output held until it is written (the --group output
 * mode, and jobs behind the head of -k order).
 *
 * Output of any size is held whole, in bounded memory: a spool keeps its
 * bytes in memory up to SPOOL_MEM_ONE, and all spools together up to
 * SPOOL_MEM_ALL; past either it moves them to a temporary file, opened
 * O_TMPFILE (or made and unlinked at once) in $TMPDIR or /tmp,
 * close-on-exec, so it is gone with the last fd whatever happens to
 * corun. Writes to it are blocking writes to a regular file, on the loop
 * thread, as a disk is. A file is handed to the writer thread whole
 * (report_spool) and copied in the kernel by spool_copy: sendfile, or
 * read and write where sendfile cannot (an O_APPEND file).
 *
 * Threads: everything but spool_copy is the loop thread's (the memory
 * count is static); spool_copy runs in the writer thread.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "report.h"
#include "spool.h"

#define SPOOL_MEM_ONE (1024 * 1024)	/* bytes in memory per spool */
#define SPOOL_MEM_ALL (8 * 1024 * 1024) /* bytes in memory in all */

static size_t spool_mem; /* bytes held in memory by every spool */

/* A new unlinked temporary file: its fd, or -1 with errno. */
int
spool_file(void)
{
	const char *dir = getenv("TMPDIR");
	struct buf path = BUF_INIT;
	int fd;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1)
		return fd;
#endif
	buf_printf(&path, "%s/corun-XXXXXX", dir);
	fd = mkostemp(path.data, O_CLOEXEC);
	if (fd != -1)
		unlink(path.data);
	buf_free(&path);
	return fd;
}

/* Move the spool's bytes from memory to a new file: 0, or -1. */
static int
spool_to_file(struct spool *s)
{
	if ((s->fd = spool_file()) == -1)
		return -1;
	if (write_all(s->fd, s->mem.data, s->mem.len) == -1)
		return -1;
	spool_mem -= s->mem.len;
	buf_free(&s->mem);
	return 0;
}

/* Append n bytes, in memory or in the file. */
int
spool_add(struct spool *s, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (s->fd == -1 &&
	    (s->mem.len + n > SPOOL_MEM_ONE || spool_mem + n > SPOOL_MEM_ALL) &&
	    spool_to_file(s) == -1) {
		spool_free(s);
		return -1;
	}
	s->len += n;
	if (s->fd != -1)
		return write_all(s->fd, p, n);
	buf_add(&s->mem, p, n);
	spool_mem += n;
	return 0;
}

/* Queue what is held for fd and start empty again. */
void
spool_hand(struct spool *s, int fd)
{
	if (s->fd != -1) {
		report_spool(fd, s->fd, s->len);
		s->fd = -1;
	} else {
		report_raw(fd, s->mem.data, s->mem.len);
	}
	spool_free(s);
}

/* Drop what is held: free the memory, close the file. */
void
spool_free(struct spool *s)
{
	spool_mem -= s->mem.len;
	buf_free(&s->mem);
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->len = 0;
}

/* Wait until fd takes bytes (another process made it non-blocking). */
static void
spool_wait(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	(void)poll(&p, 1, -1);
}

/* Copy len bytes of from, from its start, to fd with read and write. */
static int
spool_copy_rw(int from, off_t off, size_t len, int fd)
{
	static _Thread_local char chunk[IO_CHUNK];

	while (len > 0) {
		ssize_t n = pread(from, chunk,
				  len < sizeof chunk ? len : sizeof chunk, off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? EIO : errno;
		if (write_all(fd, chunk, (size_t)n) == -1)
			return errno;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copy the first len bytes of from to fd: sendfile while it works. */
int
spool_copy(int from, size_t len, int fd)
{
	off_t off = 0;

	while (len > 0) {
		ssize_t n = sendfile(fd, from, &off,
				     len < (1u << 30) ? len : (1u << 30));

		if (n > 0) {
			len -= (size_t)n;
		} else if (n == -1 && errno == EINTR) {
			continue;
		} else if (n == -1 && errno == EAGAIN) {
			spool_wait(fd);
		} else if (n == -1 && (errno == EINVAL || errno == ENOSYS)) {
			return spool_copy_rw(from, off, len, fd);
		} else {
			return n == 0 ? EIO : errno;
		}
	}
	return 0;
}
