/*
 * metrics_http.c: the --metrics-addr server (see metrics_http.h).
 *
 * A minimal HTTP/1.x server on the event loop: one non-blocking listening
 * socket and at most MHTTP_CONNS connections, each with a fixed request
 * buffer, its response made whole in memory when the request's headers
 * have arrived, and one deadline (MHTTP_TIMEOUT) for the whole exchange,
 * so a slow or silent client costs a slot for a while and nothing else.
 * A connection past the limit is closed at once; out of fds, accepting
 * pauses for MHTTP_PAUSE. Every request gets one
 * response and the connection is closed (no keep-alive): GET /metrics
 * (a query string is ignored) 200 with the text, another path 404,
 * another method 405, headers over MHTTP_REQ_MAX bytes 431, a request
 * line that does not parse 400.
 *
 * Nothing here blocks: accept, reads and writes are non-blocking and
 * driven by ev_io watchers. None of the watchers keeps the loop alive
 * (each is unreferenced while active), so the run ends when its jobs do,
 * whatever a client does. Every fd is close-on-exec. Loop thread only.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics_http.h"

#define MHTTP_CONNS 8
#define MHTTP_REQ_MAX 4096
#define MHTTP_TIMEOUT 10.0
#define MHTTP_BACKLOG 16
#define MHTTP_PAUSE 0.1

struct mconn {
	int fd; /* -1: the slot is free */
	ev_io io;
	ev_timer timer;
	char req[MHTTP_REQ_MAX];
	size_t reqlen;
	struct buf out;
	size_t off; /* bytes of out sent */
};

static struct {
	struct ev_loop *loop;
	int fd; /* the listening socket; -1: not started */
	ev_io io;
	ev_timer pause; /* out of fds: accept again later */
	void (*fill)(struct buf *);
	struct mconn conns[MHTTP_CONNS];
} H = {.fd = -1};

/* Start an io watcher that does not keep the loop alive. */
static void
mhttp_io_start(ev_io *w)
{
	ev_io_start(H.loop, w);
	ev_unref(H.loop);
}

/* Stop an io watcher started by mhttp_io_start, if active. */
static void
mhttp_io_stop(ev_io *w)
{
	if (!ev_is_active(w))
		return;
	ev_ref(H.loop);
	ev_io_stop(H.loop, w);
}

/* Close a connection and free its slot. */
static void
mconn_close(struct mconn *c)
{
	mhttp_io_stop(&c->io);
	if (ev_is_active(&c->timer)) {
		ev_ref(H.loop);
		ev_timer_stop(H.loop, &c->timer);
	}
	close(c->fd);
	c->fd = -1;
	buf_free(&c->out);
}

/* Send what is left of the response; close when it is all sent or the
 * client is gone. */
static void
mconn_send(struct mconn *c)
{
	while (c->off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->off,
				 c->out.len - c->off, MSG_NOSIGNAL);

		if (n > 0) {
			c->off += (size_t)n;
		} else if (n == -1 && errno == EINTR) {
			continue;
		} else if (n == -1 &&
			   (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return; /* the watcher waits for room */
		} else {
			break;
		}
	}
	mconn_close(c);
}

/* Make the response of a request (the text up to its empty line) and
 * start sending it. */
static void
mconn_respond(struct mconn *c, int code)
{
	static const char *const reason[] = {
	    [0] = "OK",
	    [1] = "Bad Request",
	    [2] = "Not Found",
	    [3] = "Method Not Allowed",
	    [4] = "Request Header Fields Too Large",
	};
	struct buf body = BUF_INIT;
	int r = code == 200   ? 0
		: code == 400 ? 1
		: code == 404 ? 2
		: code == 405 ? 3
			      : 4;

	if (code == 200)
		H.fill(&body);
	else
		buf_printf(&body, "%d %s\n", code, reason[r]);
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\n", code, reason[r]);
	if (code == 200)
		buf_adds(&c->out, "Content-Type: text/plain; version=0.0.4; "
				  "charset=utf-8\r\n");
	else
		buf_adds(&c->out,
			 "Content-Type: text/plain; charset=utf-8\r\n");
	if (code == 405)
		buf_adds(&c->out, "Allow: GET\r\n");
	buf_printf(&c->out, "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		   body.len);
	buf_add(&c->out, body.data, body.len);
	buf_free(&body);
	mhttp_io_stop(&c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	mhttp_io_start(&c->io);
	mconn_send(c);
}

/* The status a complete request gets. */
static int
mconn_route(const char *req)
{
	const char *sp = strchr(req, ' '), *target, *end;
	size_t tlen;

	if (sp == NULL || sp == req)
		return 400;
	target = sp + 1;
	end = target + strcspn(target, " \r\n");
	if (end == target || *end != ' ')
		return 400;
	if (sp - req != 3 || memcmp(req, "GET", 3) != 0)
		return 405;
	tlen = strcspn(target, "? ");
	return tlen == 8 && memcmp(target, "/metrics", 8) == 0 ? 200 : 404;
}

/* Bytes came from the client (or EOF, or an error). */
static void
mconn_read(struct mconn *c)
{
	for (;;) {
		ssize_t n;

		if (c->reqlen == sizeof c->req - 1) {
			mconn_respond(c, 431);
			return;
		}
		n = recv(c->fd, c->req + c->reqlen,
			 sizeof c->req - 1 - c->reqlen, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			mconn_close(c);
			return;
		}
		c->reqlen += (size_t)n;
		c->req[c->reqlen] = '\0';
		if (strstr(c->req, "\r\n\r\n") != NULL ||
		    strstr(c->req, "\n\n") != NULL) {
			mconn_respond(c, mconn_route(c->req));
			return;
		}
	}
}

/* A connection is readable or writable. */
static void
mconn_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mconn *c = w->data;

	(void)loop;
	if (revents & EV_READ)
		mconn_read(c);
	else if (revents & EV_WRITE)
		mconn_send(c);
}

/* A connection's deadline passed: drop it. */
static void
mconn_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)revents;
	ev_ref(H.loop); /* the timer stopped itself: undo its ev_unref */
	mconn_close(w->data);
}

/* The pause after running out of fds is over: accept again. */
static void
mhttp_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	ev_ref(H.loop); /* the timer stopped itself: undo its ev_unref */
	mhttp_io_start(&H.io);
}

/* New connections: take each into a free slot, or close it. Out of fds,
 * stop accepting for MHTTP_PAUSE seconds (the pending connection would
 * wake the loop at once, again and again). */
static void
mhttp_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop, (void)revents;
	for (;;) {
		int fd =
		    accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct mconn *c = NULL;

		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				mhttp_io_stop(&H.io);
				ev_timer_set(&H.pause, MHTTP_PAUSE, 0.);
				ev_timer_start(H.loop, &H.pause);
				ev_unref(H.loop);
			}
			return;
		}
		for (size_t i = 0; i < MHTTP_CONNS && c == NULL; i++)
			if (H.conns[i].fd == -1)
				c = &H.conns[i];
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->reqlen = 0;
		c->off = 0;
		buf_reset(&c->out);
		ev_io_init(&c->io, mconn_cb, fd, EV_READ);
		c->io.data = c;
		mhttp_io_start(&c->io);
		ev_timer_init(&c->timer, mconn_timeout_cb, MHTTP_TIMEOUT, 0.);
		c->timer.data = c;
		ev_timer_start(H.loop, &c->timer);
		ev_unref(H.loop);
	}
}

/* Parse "HOST:PORT" into a socket address; -1 if it is not one. */
static int
mhttp_parse(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(addr, ':');
	char host[64];
	size_t hlen;
	long port;
	char *end;

	if (colon == NULL || colon[1] == '\0')
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535 || errno != 0 ||
	    colon[1] == '-' || colon[1] == '+' || colon[1] == ' ')
		return -1;
	hlen = (size_t)(colon - addr);
	if (hlen >= sizeof host)
		return -1;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof *ss);
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (hlen == 0)
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof *s4;
	}
	return 0;
}

/* Say on stderr where a server on port 0 listens. */
static void
mhttp_say_port(int fd, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	const char *colon = strrchr(addr, ':');
	unsigned port;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return;
	port = ss.ss_family == AF_INET6
		   ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
		   : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	warnx("metrics on http://%.*s:%u/metrics",
	      colon == addr ? 7 : (int)(colon - addr),
	      colon == addr ? "0.0.0.0" : addr, port);
}

/* Listen on addr. */
int
mhttp_start(struct ev_loop *loop, const char *addr, void (*fill)(struct buf *))
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (mhttp_parse(addr, &ss, &len) == -1) {
		warnx("--metrics-addr: bad address '%s' (HOST:PORT, HOST an "
		      "IPv4 address or an IPv6 one in brackets)",
		      addr);
		return -1;
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) ==
		 -1) ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, MHTTP_BACKLOG) == -1) {
		warnx("--metrics-addr: %s: %s", addr, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	H.loop = loop;
	H.fd = fd;
	H.fill = fill;
	for (size_t i = 0; i < MHTTP_CONNS; i++)
		H.conns[i].fd = -1;
	ev_io_init(&H.io, mhttp_accept_cb, fd, EV_READ);
	mhttp_io_start(&H.io);
	ev_timer_init(&H.pause, mhttp_resume_cb, MHTTP_PAUSE, 0.);
	if (strcmp(strrchr(addr, ':'), ":0") == 0)
		mhttp_say_port(fd, addr);
	return 0;
}

/* Stop serving. */
void
mhttp_stop(void)
{
	if (H.fd == -1)
		return;
	for (size_t i = 0; i < MHTTP_CONNS; i++)
		if (H.conns[i].fd != -1)
			mconn_close(&H.conns[i]);
	mhttp_io_stop(&H.io);
	if (ev_is_active(&H.pause)) {
		ev_ref(H.loop);
		ev_timer_stop(H.loop, &H.pause);
	}
	close(H.fd);
	H.fd = -1;
}
