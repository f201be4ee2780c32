/*
 * net_tcp.c: the tcp kind, a non-blocking connect on the loop.
 *
 *     tcp HOST:PORT        tcp [IPV6-ADDRESS]:PORT
 *
 * The value is the connect time in seconds ("0.000123"): from the first
 * connect(2), once the name is resolved, until the connection is made.
 * Each address the name has (IPv6 and IPv4, in getaddrinfo's order) is
 * tried in turn until one accepts; the socket is closed at once. When none
 * does, the job fails with the last error: "tcp: HOST:PORT: Connection
 * refused".
 *
 * Descriptors. A connection is a user of the room that children and
 * network jobs share (room.c) from its start to its end. When its socket
 * cannot be opened for want of descriptors (EMFILE, ENFILE), it is
 * dropped and its job waits at the head of its queue, as a child does
 * (sched_attempt_requeue), until a job ends; with nothing running that
 * would give one back, the job fails with the error.
 *
 * Name resolution. A numeric address is converted on the loop thread
 * (getaddrinfo with AI_NUMERICHOST never blocks). A name goes to the
 * resolver: up to TCP_RESOLVERS threads, started when the queue has more
 * lookups than idle threads, with every signal blocked, detached, alive
 * until exit. The loop pushes a lookup on the pending queue (mutex +
 * condvar); a thread pops it, calls getaddrinfo, pushes it on the done
 * queue and wakes the loop with ev_async_send when that queue was empty.
 * Stopping a job while its name is being looked up only forgets the
 * lookup: its conn pointer is cleared, and whoever holds the lookup next
 * (a thread popping it, or the loop collecting it) frees it.
 *
 * Why not the thread pool (pool_thread.c): its threads are the -T slots
 * that thread jobs are counted against (tpool_idle, tpool_room), so a slow
 * lookup would hold a slot that -T promised to jobs and change what -T
 * means; and it runs a kind's run function, whose answer is a byte value
 * handed to the one done callback of the pool (the scheduler's), where a
 * lookup needs a struct addrinfo back in tcp's own callback. Four detached
 * threads that live until exit cost less than an API for both.
 *
 * Threads: a lookup's conn pointer and the queues are under R.mu (the loop
 * writes conn only with it held); a thread touches only the lookup it
 * holds. Connections and their watchers belong to the loop thread.
 * Memory: a connection (the attempt's xdata) owns its address list, socket and
 * lookup reference; a lookup owns its host string and result.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "executors.h"
#include "net.h"
#include "net_check.h"
#include "parse.h"
#include "pool_proc.h"
#include "room.h"
#include "util.h"

/* Resolver threads at most. */
#define TCP_RESOLVERS 4

struct tcp_lookup;

/* One attempt's connection (the attempt's xdata). */
struct tcp_conn {
	LIST_ENTRY(tcp_conn) link; /* live connections, for shutdown */
	struct attempt *at;
	struct tcp_lookup *lookup; /* the name lookup in flight, or NULL */
	struct addrinfo *ais;	   /* every address */
	struct addrinfo *ai;	   /* the next address to try */
	ev_io io;		   /* the connect in progress (fd >= 0) */
	int fd;
	int err;   /* errno of the last address tried */
	double t0; /* time of the first connect(2) */
	/* room_shortages() as its name lookup began */
	unsigned long shortages;
};

/* A name lookup for the resolver threads. */
struct tcp_lookup {
	STAILQ_ENTRY(tcp_lookup) link; /* pending or done queue, under R.mu */
	struct tcp_conn *conn;	       /* under R.mu; NULL: nobody waits */
	struct addrinfo *res;
	int rc;	     /* getaddrinfo's return value */
	int err;     /* errno for EAI_SYSTEM */
	bool nofd;   /* it failed while no descriptor was left */
	char *port;  /* points into host's allocation */
	char host[]; /* host, NUL, port, NUL */
};

STAILQ_HEAD(tcp_lookups, tcp_lookup);

/* The resolver and the live connections. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct tcp_lookups pending; /* under mu, FIFO */
	struct tcp_lookups done;    /* under mu, FIFO */
	int npending;		    /* under mu */
	int idle;		    /* threads waiting for work; under mu */
	int nthreads;		    /* under mu */
	bool stopping;		    /* under mu: shut down, send nothing */
	bool started;		    /* loop thread: async watcher set up */
	ev_async async;
	LIST_HEAD(, tcp_conn) conns; /* loop thread */
} R = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER,
    .pending = STAILQ_HEAD_INITIALIZER(R.pending),
    .done = STAILQ_HEAD_INITIALIZER(R.done),
    .conns = LIST_HEAD_INITIALIZER(R.conns),
};

/* Unlink and free a connection: its socket, lookup and addresses. The job
 * is not touched. */
static void
tcp_conn_free(struct tcp_conn *c)
{
	if (c->lookup != NULL) {
		pthread_mutex_lock(&R.mu);
		c->lookup->conn = NULL;
		pthread_mutex_unlock(&R.mu);
	}
	if (c->fd >= 0) {
		ev_io_stop(sched_loop, &c->io);
		close(c->fd);
	}
	if (c->ais != NULL)
		freeaddrinfo(c->ais);
	LIST_REMOVE(c, link);
	room_leave();
	free(c);
}

/* No descriptor for the socket or the lookup: drop the connection and
 * put the job back in its queue until a job ends, or fail it with msg if
 * none runs. */
static void
tcp_nofd(struct tcp_conn *c, const char *msg)
{
	struct attempt *at = c->at;
	struct result res;

	result_init(&res);
	res.status = ST_FAILED;
	res.unstarted = true; /* nothing was sent (retry-on start) */
	result_error(&res, "tcp: %s: %s", at->spec->argv[0], msg);
	tcp_conn_free(c);
	if (room_wait()) {
		result_free(&res);
		sched_attempt_requeue(at);
	} else {
		sched_attempt_done(at, &res);
	}
}

/* End the attempt: connected (err 0) or failed with err's message. */
static void
tcp_finish(struct tcp_conn *c, int err, const char *msg)
{
	struct attempt *at = c->at;
	struct result res;

	result_init(&res);
	if (msg == NULL && err == 0) {
		buf_printf(&res.value, "%.6f", mono_now() - c->t0);
	} else {
		/* A tcp job sends nothing: each failure is retry-on start. */
		res.status = ST_FAILED;
		res.unstarted = true;
		result_error(&res, "tcp: %s: %s", at->spec->argv[0],
			     msg != NULL ? msg : strerror(err));
	}
	tcp_conn_free(c);
	sched_attempt_done(at, &res);
}

/* A connect in progress has an outcome. */
static void tcp_io_cb(struct ev_loop *, ev_io *, int);

/* Try the addresses left until one connects or is in progress; end the
 * attempt when none is left. */
static void
tcp_connect_next(struct tcp_conn *c)
{
	while (c->ai != NULL) {
		struct addrinfo *ai = c->ai;
		int fd;

		c->ai = ai->ai_next;
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd == -1 && (errno == EMFILE || errno == ENFILE)) {
			tcp_nofd(c, strerror(errno));
			return;
		}
		if (fd == -1) {
			c->err = errno;
			continue;
		}
		if (c->t0 == 0)
			c->t0 = mono_now();
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			close(fd);
			tcp_finish(c, 0, NULL);
			return;
		}
		if (errno == EINPROGRESS || errno == EINTR) {
			c->fd = fd;
			ev_io_init(&c->io, tcp_io_cb, fd, EV_WRITE);
			c->io.data = c;
			ev_io_start(sched_loop, &c->io);
			return;
		}
		c->err = errno;
		close(fd);
	}
	tcp_finish(c, c->err != 0 ? c->err : EADDRNOTAVAIL, NULL);
}

/* The socket is writable: the connect is done, one way or the other. */
static void
tcp_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tcp_conn *c = w->data;
	socklen_t len = sizeof c->err;

	(void)revents;
	ev_io_stop(loop, w);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &c->err, &len) == -1)
		c->err = errno;
	close(c->fd);
	c->fd = -1;
	if (c->err == 0)
		tcp_finish(c, 0, NULL);
	else
		tcp_connect_next(c);
}

/* The message of a failed getaddrinfo. */
static const char *
tcp_gai_error(int rc, int err)
{
	return rc == EAI_SYSTEM ? strerror(err) : gai_strerror(rc);
}

/* Lookups resolved: go on connecting. */
static void
tcp_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct tcp_lookups done;
	struct tcp_lookup *l;

	(void)loop, (void)w, (void)revents;
	STAILQ_INIT(&done);
	pthread_mutex_lock(&R.mu);
	STAILQ_CONCAT(&done, &R.done);
	pthread_mutex_unlock(&R.mu);
	while ((l = STAILQ_FIRST(&done)) != NULL) {
		struct tcp_conn *c = l->conn;

		STAILQ_REMOVE_HEAD(&done, link);
		if (c != NULL) {
			c->lookup = NULL;
			if (l->rc != 0 &&
			    (l->nofd || room_shortages() != c->shortages)) {
				tcp_nofd(c, tcp_gai_error(l->rc, l->err));
			} else if (l->rc != 0) {
				tcp_finish(c, 0, tcp_gai_error(l->rc, l->err));
			} else {
				c->ais = c->ai = l->res;
				l->res = NULL;
				tcp_connect_next(c);
			}
		}
		if (l->res != NULL)
			freeaddrinfo(l->res);
		free(l);
	}
}

/* A resolver thread: look names up until shutdown. */
static void *
tcp_resolver(void *arg)
{
	struct addrinfo hints;

	(void)arg;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	pthread_mutex_lock(&R.mu);
	for (;;) {
		struct tcp_lookup *l;

		while (STAILQ_EMPTY(&R.pending) && !R.stopping) {
			R.idle++;
			pthread_cond_wait(&R.cond, &R.mu);
			R.idle--;
		}
		if (R.stopping)
			break;
		l = STAILQ_FIRST(&R.pending);
		STAILQ_REMOVE_HEAD(&R.pending, link);
		R.npending--;
		if (l->conn == NULL) {
			free(l);
			continue;
		}
		pthread_mutex_unlock(&R.mu);
		l->rc = getaddrinfo(l->host, l->port, &hints, &l->res);
		l->err = errno;
		/* It may have failed for want of a descriptor (room.c). */
		l->nofd = l->rc != 0 && room_fds_short() != 0;
		pthread_mutex_lock(&R.mu);
		if (R.stopping) {
			if (l->res != NULL)
				freeaddrinfo(l->res);
			free(l);
			break;
		}
		bool wake = STAILQ_EMPTY(&R.done);
		STAILQ_INSERT_TAIL(&R.done, l, link);
		if (wake)
			ev_async_send(sched_loop, &R.async);
	}
	R.nthreads--;
	pthread_mutex_unlock(&R.mu);
	return NULL;
}

/* Start one more resolver thread, signals blocked. Called with R.mu held.
 * 0, or an error number. */
static int
tcp_resolver_spawn(void)
{
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_attr_init(&attr);
	if (rc == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&tid, &attr, tcp_resolver, NULL);
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		R.nthreads++;
	return rc;
}

/* Hand the connection's host to the resolver threads (or end the attempt
 * if no thread can run). */
static void
tcp_resolve(struct tcp_conn *c, const char *host, size_t hlen, const char *port)
{
	size_t plen = strlen(port);
	struct tcp_lookup *l = xmalloc(sizeof *l + hlen + plen + 2);
	int rc = 0;

	memcpy(l->host, host, hlen);
	l->host[hlen] = '\0';
	l->port = l->host + hlen + 1;
	memcpy(l->port, port, plen + 1);
	l->conn = c;
	l->res = NULL;
	l->nofd = false;
	if (!R.started) {
		ev_async_init(&R.async, tcp_async_cb);
		ev_async_start(sched_loop, &R.async);
		R.started = true;
	}
	pthread_mutex_lock(&R.mu);
	if (R.npending >= R.idle && R.nthreads < TCP_RESOLVERS)
		rc = tcp_resolver_spawn();
	if (rc != 0 && R.nthreads == 0) {
		pthread_mutex_unlock(&R.mu);
		free(l);
		tcp_finish(c, rc, NULL);
		return;
	}
	STAILQ_INSERT_TAIL(&R.pending, l, link);
	R.npending++;
	if (R.idle > 0)
		pthread_cond_signal(&R.cond);
	pthread_mutex_unlock(&R.mu);
	c->lookup = l;
	c->shortages = room_shortages();
}

/* Start the job: resolve (numeric addresses at once), then connect. */
void
net_tcp_start(struct attempt *at)
{
	const char *arg = at->spec->argv[0];
	struct addrinfo hints, *res = NULL;
	struct tcp_conn *c;
	size_t hoff, hlen, poff;
	char err[256], *host;
	int rc;

	/* Before the resolver threads: see ppool_forksrv. */
	ppool_before_thread();
	sched_attempt_started(at);
	c = xcalloc(1, sizeof *c);
	c->at = at;
	c->fd = -1;
	LIST_INSERT_HEAD(&R.conns, c, link);
	room_enter();
	/* Checked at parse time: only a kind row without the check fails. */
	if (net_check_tcp_split(arg, &hoff, &hlen, &poff, err, sizeof err) == -1) {
		tcp_finish(c, EINVAL, NULL);
		return;
	}
	at->xdata = c;
	host = xstrndup(arg + hoff, hlen);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(host, arg + poff, &hints, &res);
	if (rc == 0) {
		c->ais = c->ai = res;
		tcp_connect_next(c);
	} else if (rc == EAI_NONAME) {
		tcp_resolve(c, host, hlen, arg + poff);
	} else {
		tcp_finish(c, 0, tcp_gai_error(rc, errno));
	}
	free(host);
}

/* Stop the job now: close its socket or forget its lookup. */
void
net_tcp_stop(struct attempt *at)
{
	tcp_conn_free(at->xdata);
	sched_attempt_stopped(at, 0);
}

/* At exit: free the connections left (their jobs are not touched), drop
 * the queued lookups and tell the resolver threads to go; a thread inside
 * getaddrinfo frees its lookup when the call returns and sends nothing. */
void
net_tcp_shutdown(void)
{
	struct tcp_lookup *l;

	while (!LIST_EMPTY(&R.conns))
		tcp_conn_free(LIST_FIRST(&R.conns));
	if (!R.started)
		return;
	ev_async_stop(sched_loop, &R.async);
	R.started = false;
	pthread_mutex_lock(&R.mu);
	R.stopping = true;
	while ((l = STAILQ_FIRST(&R.pending)) != NULL) {
		STAILQ_REMOVE_HEAD(&R.pending, link);
		free(l);
	}
	while ((l = STAILQ_FIRST(&R.done)) != NULL) {
		STAILQ_REMOVE_HEAD(&R.done, link);
		if (l->res != NULL)
			freeaddrinfo(l->res);
		free(l);
	}
	R.npending = 0;
	pthread_cond_broadcast(&R.cond);
	pthread_mutex_unlock(&R.mu);
}
