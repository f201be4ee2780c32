/*
 * wconn.c: a remote worker's byte stream over standard input and output;
 * see wconn.h.
 *
 * Standard input comes from stdin_reader (a pipe opened anew, non-blocking;
 * a socket read with MSG_DONTWAIT); standard output is opened the same
 * way, so the worker never sets O_NONBLOCK on a file description its
 * launcher (sshd, srun) shares. Loop thread only, or before the loop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wconn.h"

#define WCONN_READ (256u * 1024) /* bytes asked for per read */

/* Standard output to write without blocking: a pipe opened anew, a socket
 * written with send(MSG_DONTWAIT), anything else (a file) fd 1 as it is. */
static int
wconn_writer(int *sock)
{
	struct stat st;
	int fd;

	*sock = 0;
	if (fstat(STDOUT_FILENO, &st) == -1)
		return STDOUT_FILENO;
	if (S_ISSOCK(st.st_mode)) {
		*sock = 1;
		return STDOUT_FILENO;
	}
	if (S_ISFIFO(st.st_mode) &&
	    (fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC)) !=
		-1)
		return fd;
	return STDOUT_FILENO;
}

/* Set c up on standard input and output. */
void
wconn_stdio(struct wconn *c)
{
	memset(c, 0, sizeof *c);
	c->rfd = stdin_reader(&c->rsock);
	c->wfd = wconn_writer(&c->wsock);
}

/* One read into c->in. */
ssize_t
wconn_read(struct wconn *c)
{
	ssize_t n;

	buf_reserve(&c->in, WCONN_READ);
	n = stdin_read(c->rfd, c->rsock, c->in.data + c->in.len, WCONN_READ);
	if (n > 0) {
		c->in.len += (size_t)n;
		c->in.data[c->in.len] = '\0';
	}
	return n;
}

/* One write from c->out. */
ssize_t
wconn_write(struct wconn *c)
{
	ssize_t n;

	do
		n = c->wsock ? send(c->wfd, c->out.data, c->out.len,
				    MSG_DONTWAIT | MSG_NOSIGNAL)
			     : write(c->wfd, c->out.data, c->out.len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		buf_consume(&c->out, (size_t)n);
	return n;
}

/* Wait up to secs for fd to be ready for events: 1 ready, 0 timed out,
 * -1 error. */
static int
wconn_poll(int fd, short events, double secs)
{
	double end = mono_now() + secs, left;
	struct pollfd p = {.fd = fd, .events = events};
	int rc;

	while ((left = end - mono_now()) > 0) {
		rc = poll(&p, 1, (int)(left * 1000) + 1);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

/* Write everything queued, waiting up to secs. */
int
wconn_flush_wait(struct wconn *c, double secs)
{
	double end = mono_now() + secs;

	while (c->out.len > 0) {
		if (wconn_write(c) < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (wconn_poll(c->wfd, POLLOUT, end - mono_now()) != 1)
				return -1;
		}
	}
	return 0;
}

/* Read until decode takes a whole item. */
ssize_t
wconn_read_until(struct wconn *c, wconn_decode_fn *decode, void *item,
		 char *err, size_t errlen, double secs)
{
	double end = mono_now() + secs;
	ssize_t n;

	while ((n = decode(c->in.data, c->in.len, item, err, errlen)) == 0) {
		ssize_t r = wconn_read(c);

		if (r > 0)
			continue;
		if (r == 0) {
			errfmt(err, errlen,
			       "standard input ended before the "
			       "parent's HELLO");
			return 0;
		}
		if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
		    wconn_poll(c->rfd, POLLIN, end - mono_now()) != 1) {
			errfmt(err, errlen, "no HELLO from the parent: %s",
			       errno == EAGAIN || errno == EWOULDBLOCK
				   ? "timed out"
				   : strerror(errno));
			return 0;
		}
	}
	return n;
}

/* What is waiting on standard input, without reading it. */
int
wconn_pending(const struct wconn *c)
{
	struct pollfd p = {.fd = c->rfd, .events = POLLIN};

	if (poll(&p, 1, 0) != 1)
		return 0;
	return p.revents & (POLLHUP | POLLERR) ? WCONN_HUP : WCONN_BYTES;
}

/* Free the buffers, close what wconn_stdio opened. */
void
wconn_close(struct wconn *c)
{
	buf_free(&c->in);
	buf_free(&c->out);
	if (c->rfd != STDIN_FILENO)
		close(c->rfd);
	if (c->wfd != STDOUT_FILENO)
		close(c->wfd);
	c->rfd = STDIN_FILENO;
	c->wfd = STDOUT_FILENO;
}
