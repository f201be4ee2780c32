/*
 * net_http.c: the http kind, every transfer on one libcurl multi handle.
 *
 *     http [-X METHOD] [-H 'NAME: VALUE']... [-d DATA] [-L] URL
 *
 * Design. The multi handle is created at the first http job and lives until
 * net_shutdown. libcurl never blocks and never waits on its own: it tells us
 * which sockets to watch (CURLMOPT_SOCKETFUNCTION: one ev_io per socket) and
 * when it next wants to be called (CURLMOPT_TIMERFUNCTION: one ev_timer for
 * the whole handle), and each event is fed back to curl_multi_socket_action.
 * Finished transfers are collected with curl_multi_info_read after every
 * call into curl, never from inside a curl callback, so the scheduler (which
 * may cancel or start other transfers) is only entered where curl allows
 * it. The multi handle keeps its connection cache and DNS cache across jobs,
 * so sequential jobs to one server reuse their connections. Names are
 * resolved by libcurl's threaded resolver (AsynchDNS), off the loop.
 *
 * One job attempt is one easy handle (struct http_xfer, the attempt's xdata).
 * The body goes to the value, kept up to CORUN_OUTPUT_CAP bytes and the
 * rest dropped (truncated). The attempt is ok for a 2xx or 3xx final status
 * (redirects are followed only with -L), failed for any other status ("HTTP
 * status 404") or a transport error (curl's message). Stopping a transfer
 * (timeout, cancel) removes it from the multi handle at once. For the
 * retry rules (retry.c) the result also says when the attempt never
 * started (a transfer that could not be set up, a name that did not
 * resolve, a connection refused before a byte of the request was sent)
 * and holds the Retry-After of a 429 or 503 response.
 *
 * File descriptors. Every connection is a socket opened through
 * http_opensocket, which counts them. libcurl holds at most a set number
 * of connections (CURLMOPT_MAX_TOTAL_CONNECTIONS, from the limit on open
 * files); transfers beyond them wait inside libcurl for a free one. A
 * transfer is a user of the room that children and network jobs share
 * (room.c) from its start to its end. When its socket cannot be opened
 * for want of descriptors (EMFILE, ENFILE) before any request was sent,
 * the transfer is dropped and its job waits at the head of its queue as a
 * child does (sched_attempt_requeue) until a job ends; the connection cap
 * drops to the connections open then, so the transfers that follow wait
 * for a free connection instead of failing, and it comes back when a
 * child ends (net_http_fds_freed). With nothing running, idle connections
 * in the cache are closed to make room (http_reclaim); when there are
 * none, the job fails with the error.
 *
 * Threads: loop thread only; curl's resolver threads never call us.
 * Memory: a transfer owns its easy handle, header list and body buffer;
 * the body moves into the attempt's result. The header strings and the -d
 * data are the job's argv, which outlives the attempt.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <ev.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "corun.h"
#include "curl_lazy.h"
#include "executors.h"
#include "net.h"
#include "net_check.h"
#include "parse.h"
#include "pool_proc.h"
#include "room.h"
#include "util.h"

/* Redirects followed with -L at most (curl(1)'s default). */
#define HTTP_MAX_REDIRS 50L
/* File descriptors kept back from HTTP connections for everything else. */
#define HTTP_FD_RESERVE 64

/* One attempt's transfer (the attempt's xdata). */
struct http_xfer {
	LIST_ENTRY(http_xfer) link; /* live transfers, for shutdown */
	struct attempt *at;
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;
	bool truncated;
	bool entered; /* a user of the room (room.c) until it ends */
	int nofd;     /* errno when its socket could not be opened, or 0 */
	unsigned long shortages; /* room_shortages() as it started */
	char errbuf[CURL_ERROR_SIZE];
};

/* One socket libcurl asked us to watch (its socketp). */
struct http_sock {
	ev_io io;
	LIST_ENTRY(http_sock) link; /* live watchers, for shutdown */
};

/* The multi handle and its watchers: loop thread only. */
static struct {
	bool global;	/* curl_global_init done */
	CURLM *multi;	/* NULL until the first http job */
	ev_timer timer; /* when libcurl next wants to be called */
	long nsocks;	/* sockets open (connections) */
	long cap;	/* the connection cap set; 0: none */
	long cap_max;	/* the cap from the limit on open files; 0: none */
	LIST_HEAD(, http_xfer) xfers;
	LIST_HEAD(, http_sock) socks;
} H;

/* CURLMOPT_SOCKETFUNCTION's events as libev's. */
static int
http_events(int what)
{
	return (what & CURL_POLL_IN ? EV_READ : 0) |
	       (what & CURL_POLL_OUT ? EV_WRITE : 0);
}

/* Collect the transfers libcurl has finished. */
static void http_collect(void);

/* Tell libcurl about an event (or its timeout), then collect. */
static void
http_action(curl_socket_t s, int ev_bitmask)
{
	int running;

	lcurl.multi_socket_action(H.multi, s, ev_bitmask, &running);
	http_collect();
}

/* A watched socket is ready. */
static void
http_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	int ev = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
		 (revents & EV_WRITE ? CURL_CSELECT_OUT : 0) |
		 (revents & EV_ERROR ? CURL_CSELECT_ERR : 0);

	(void)loop;
	http_action(w->fd, ev);
}

/* libcurl's timeout has come. */
static void
http_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	http_action(CURL_SOCKET_TIMEOUT, 0);
}

/* Stop and free a socket watcher. */
static void
http_sock_free(struct http_sock *hs)
{
	ev_io_stop(sched_loop, &hs->io);
	LIST_REMOVE(hs, link);
	free(hs);
}

/* CURLMOPT_SOCKETFUNCTION: watch socket s for what (or stop watching). */
static int
http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
	       void *socketp)
{
	struct http_sock *hs = socketp;

	(void)easy, (void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (hs != NULL)
			http_sock_free(hs);
		return 0;
	}
	if (hs == NULL) {
		hs = xmalloc(sizeof *hs);
		ev_init(&hs->io, http_io_cb);
		LIST_INSERT_HEAD(&H.socks, hs, link);
		lcurl.multi_assign(H.multi, s, hs);
	} else {
		ev_io_stop(sched_loop, &hs->io);
	}
	ev_io_set(&hs->io, s, http_events(what));
	ev_io_start(sched_loop, &hs->io);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: call curl back in timeout_ms (never, if < 0).
 * The call itself happens from the loop, never from inside libcurl. */
static int
http_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi, (void)userp;
	ev_timer_stop(sched_loop, &H.timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&H.timer, (double)timeout_ms / 1000.0, 0.);
		ev_timer_start(sched_loop, &H.timer);
	}
	return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: every socket close-on-exec, so children
 * spawned meanwhile do not inherit connections; counted; a transfer that
 * finds no descriptor is marked (clientp is its struct http_xfer). */
static curl_socket_t
http_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct http_xfer *x = clientp;
	int s;

	(void)purpose;
	s = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	if (s >= 0)
		H.nsocks++;
	else if (errno == EMFILE || errno == ENFILE)
		x->nofd = errno;
	return s >= 0 ? s : CURL_SOCKET_BAD;
}

/* CURLOPT_CLOSESOCKETFUNCTION: close a socket http_opensocket opened. A
 * connection outlives the transfer that opened it: clientp is unused. */
static int
http_closesocket(void *clientp, curl_socket_t s)
{
	(void)clientp;
	H.nsocks--;
	return close(s);
}

/* CURLOPT_WRITEFUNCTION: keep the body up to the cap, drop the rest. */
static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_xfer *x = userdata;
	size_t n = size * nmemb, room = CORUN_OUTPUT_CAP - x->body.len;

	if (n > room) {
		x->truncated = true;
		buf_add(&x->body, ptr, room);
	} else {
		buf_add(&x->body, ptr, n);
	}
	return n;
}

/* Connections libcurl may hold open at once: half of what the descriptor
 * limit leaves once the rest of corun has its share, HTTP_FD_RESERVE or
 * half the limit if less (0: no limit); queued transfers wait inside
 * libcurl for a free connection. corun(1) states it. */
static long
http_max_connections(void)
{
	long lim = room_fd_limit(), keep;

	if (lim == 0)
		return 0;
	keep = lim / 2 < HTTP_FD_RESERVE ? lim / 2 : HTTP_FD_RESERVE;
	return (lim - keep) / 2 > 0 ? (lim - keep) / 2 : 1;
}

/* Set the connection cap to n (0: none), never above cap_max. Not from
 * inside a libcurl callback. */
static void
http_set_cap(long n)
{
	if (H.cap_max > 0 && (n == 0 || n > H.cap_max))
		n = H.cap_max;
	if (H.multi == NULL || n == H.cap)
		return;
	H.cap = n;
	lcurl.multi_setopt(H.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, n);
}

/* Close the multi handle, its connections and its watchers. */
static void
http_multi_close(void)
{
	ev_timer_stop(sched_loop, &H.timer);
	lcurl.multi_cleanup(H.multi);
	H.multi = NULL;
	while (!LIST_EMPTY(&H.socks))
		http_sock_free(LIST_FIRST(&H.socks));
	H.nsocks = 0; /* closed, whether or not through http_closesocket */
}

/* room.c's reclaim: with no transfer left, close the idle connections of
 * the cache (the multi handle goes; the next http job makes a new one).
 * Returns how many were closed. */
static int
http_reclaim(void)
{
	long n = H.nsocks;

	if (H.multi == NULL || !LIST_EMPTY(&H.xfers) || n <= 0)
		return 0;
	http_multi_close();
	return n > INT_MAX ? INT_MAX : (int)n;
}

/* Create the multi handle and its timer (first http job): 0, or -1 with a
 * message in err (the job fails; the next http job tries again). */
static int
http_init(char *err, size_t errlen)
{
	CURLcode rc;

	/* Loaded by net_http_start before, normally. */
	if (curl_lazy_load(err, errlen) == -1)
		return -1;
	if (!H.global) {
		rc = lcurl.global_init(CURL_GLOBAL_DEFAULT);
		if (rc != CURLE_OK) {
			errfmt(err, errlen, "libcurl: %s",
			       lcurl.easy_strerror(rc));
			return -1;
		}
		H.global = true;
	}
	H.multi = lcurl.multi_init();
	if (H.multi == NULL) {
		errfmt(err, errlen, "libcurl: cannot create a multi handle");
		return -1;
	}
	/* The multi handle's wakeup socket pair is not close-on-exec. */
	fd_cloexec_all();
	if (!(lcurl.version_info(CURLVERSION_NOW)->features &
	      CURL_VERSION_ASYNCHDNS))
		warnx("libcurl resolves names synchronously: http jobs that "
		      "name hosts will stall the loop while they resolve");
	lcurl.multi_setopt(H.multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	lcurl.multi_setopt(H.multi, CURLMOPT_TIMERFUNCTION, http_timer_set);
	H.cap_max = http_max_connections();
	H.cap = 0;
	http_set_cap(0);
	ev_init(&H.timer, http_timer_cb);
	room_set_reclaim(http_reclaim);
	return 0;
}

/* Add the job's -H headers to the transfer's list. */
static void
http_add_headers(struct http_xfer *x, int argc, char *const argv[])
{
	for (int i = 0; i + 1 < argc; i++) {
		struct curl_slist *l;

		if (strcmp(argv[i], "-X") == 0 || strcmp(argv[i], "-d") == 0) {
			i++;
		} else if (strcmp(argv[i], "-H") == 0) {
			l = lcurl.slist_append(x->headers, argv[++i]);
			if (l == NULL)
				util_oom(strlen(argv[i]));
			x->headers = l;
		}
	}
}

/* Set the easy handle up for the job's arguments. */
static void
http_setup(struct http_xfer *x, const struct http_args *a, int argc,
	   char *const argv[])
{
	CURL *e = x->easy;

	lcurl.easy_setopt(e, CURLOPT_URL, a->url);
	lcurl.easy_setopt(e, CURLOPT_PRIVATE, x);
	lcurl.easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	lcurl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	lcurl.easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	lcurl.easy_setopt(e, CURLOPT_WRITEDATA, x);
	lcurl.easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, http_opensocket);
	lcurl.easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
	lcurl.easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, http_closesocket);
	lcurl.easy_setopt(e, CURLOPT_USERAGENT,
			 PACKAGE_NAME "/" PACKAGE_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
	lcurl.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	lcurl.easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	lcurl.easy_setopt(e, CURLOPT_PROTOCOLS,
			 CURLPROTO_HTTP | CURLPROTO_HTTPS);
	lcurl.easy_setopt(e, CURLOPT_REDIR_PROTOCOLS,
			 CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
	if (a->follow) {
		lcurl.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		lcurl.easy_setopt(e, CURLOPT_MAXREDIRS, HTTP_MAX_REDIRS);
	}
	if (a->data != NULL) {
		lcurl.easy_setopt(e, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(a->data));
		lcurl.easy_setopt(e, CURLOPT_POSTFIELDS, a->data);
	}
	/* HEAD has no body to wait for: curl must know, not just send it. */
	if (a->method != NULL && strcmp(a->method, "HEAD") == 0)
		lcurl.easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (a->method != NULL)
		lcurl.easy_setopt(e, CURLOPT_CUSTOMREQUEST, a->method);
	http_add_headers(x, argc, argv);
	if (x->headers != NULL)
		lcurl.easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
}

/* Take a transfer off the multi handle and free it; the job is not
 * touched. */
static void
http_xfer_free(struct http_xfer *x)
{
	if (x->easy != NULL) {
		lcurl.multi_remove_handle(H.multi, x->easy);
		lcurl.easy_cleanup(x->easy);
	}
	lcurl.slist_free_all(x->headers);
	buf_free(&x->body);
	LIST_REMOVE(x, link);
	if (x->entered)
		room_leave();
	free(x);
}

/* Did the transfer fail for want of a descriptor before it sent anything
 * (so that trying it again later repeats nothing)? Its socket found none,
 * or its name lookup failed while descriptors ran short (room.c). */
static bool
http_nofd(struct http_xfer *x, CURLcode code)
{
	long sent = 0;

	if (code == CURLE_OK)
		return false;
	if (x->nofd == 0 &&
	    (code != CURLE_COULDNT_RESOLVE_HOST ||
	     (room_shortages() == x->shortages && room_fds_short() == 0)))
		return false;
	lcurl.easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &sent);
	return sent == 0;
}

/* Did the transfer fail before it sent a byte of its request, its name
 * unresolved or its connection refused (retry-on start)? */
static bool
http_unsent(struct http_xfer *x, CURLcode code)
{
	long sent = 0;

	if (code != CURLE_COULDNT_RESOLVE_HOST &&
	    code != CURLE_COULDNT_RESOLVE_PROXY &&
	    code != CURLE_COULDNT_CONNECT)
		return false;
	lcurl.easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &sent);
	return sent == 0;
}

/* The response's Retry-After in seconds (libcurl reads both its forms,
 * seconds and an HTTP-date), at most INT_MAX; 0 when it has none. */
static int
http_retry_after(struct http_xfer *x)
{
	curl_off_t after = 0;
	CURLcode rc = lcurl.easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &after);

	if (rc != CURLE_OK || after < 0)
		return 0;
	return after > INT_MAX ? INT_MAX : (int)after;
}

/* A transfer is over (code from libcurl): end the job's attempt, or put
 * it back in its queue when it found no descriptor. */
static void
http_finish(struct http_xfer *x, CURLcode code)
{
	struct attempt *at = x->at;
	struct result res;
	long status = 0;

	if (http_nofd(x, code)) {
		char msg[CURL_ERROR_SIZE + 64];

		if (x->nofd != 0)
			errfmt(msg, sizeof msg,
			       "http: cannot open a connection: %s",
			       strerror(x->nofd));
		else
			errfmt(msg, sizeof msg, "%s",
			       x->errbuf[0] != '\0'
				   ? x->errbuf
				   : lcurl.easy_strerror(code));
		http_xfer_free(x);
		if (room_wait()) {
			/* Connections beyond those open now would find no
			 * descriptor either: the next transfers wait for one
			 * of these inside libcurl. */
			http_set_cap(H.nsocks > 0 ? H.nsocks : 1);
			sched_attempt_requeue(at);
		} else {
			exec_attempt_unstarted(at, msg);
		}
		return;
	}
	result_init(&res);
	lcurl.easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	res.http_status = (int)status;
	if (status == 429 || status == 503)
		res.retry_after = http_retry_after(x);
	if (code != CURLE_OK) {
		res.status = ST_FAILED;
		res.unstarted = http_unsent(x, code);
		result_error(&res, "%s",
			     x->errbuf[0] != '\0' ? x->errbuf
						  : lcurl.easy_strerror(code));
	} else if (status >= 200 && status < 400) {
		res.status = ST_OK;
		res.truncated = x->truncated;
		res.value = x->body;
		x->body = (struct buf)BUF_INIT;
	} else {
		res.status = ST_FAILED;
		result_error(&res, "HTTP status %ld", status);
	}
	http_xfer_free(x);
	sched_attempt_done(at, &res);
}

/* Collect the transfers libcurl has finished. Ending an attempt may stop
 * other transfers (--fail-fast), which also drops their messages. */
static void
http_collect(void)
{
	CURLMsg *m;
	int left;

	/* A job's end may close the multi handle (room_wait, http_reclaim). */
	while (H.multi != NULL &&
	       (m = lcurl.multi_info_read(H.multi, &left)) != NULL) {
		char *priv = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		lcurl.easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		http_finish((struct http_xfer *)priv, m->data.result);
	}
}

/* Start the job's transfer on the multi handle. */
void
net_http_start(struct attempt *at)
{
	const struct job_spec *spec = at->spec;
	struct http_args a;
	struct http_xfer *x;
	char err[256];
	CURLMcode mc;

	/* Before the resolver threads: see ppool_forksrv. */
	ppool_before_thread();
	sched_attempt_started(at);
	if (net_check_http_args(spec->argc, spec->argv, &a, err, sizeof err) ==
	    -1) {
		exec_attempt_unstarted(at, err);
		return;
	}
	if (H.multi == NULL && http_init(err, sizeof err) == -1) {
		/* The multi handle's wakeup pair may have found no
		 * descriptor: wait for one as a transfer does. */
		if (room_fds_short() != 0 && room_wait())
			sched_attempt_requeue(at);
		else
			exec_attempt_unstarted(at, err);
		return;
	}
	x = xcalloc(1, sizeof *x);
	x->at = at;
	x->shortages = room_shortages();
	LIST_INSERT_HEAD(&H.xfers, x, link);
	x->easy = lcurl.easy_init();
	if (x->easy == NULL) {
		http_xfer_free(x);
		exec_attempt_unstarted(at, "http: cannot create a transfer");
		return;
	}
	http_setup(x, &a, spec->argc, spec->argv);
	mc = lcurl.multi_add_handle(H.multi, x->easy);
	if (mc != CURLM_OK) {
		http_xfer_free(x);
		exec_attempt_unstarted(at, lcurl.multi_strerror(mc));
		return;
	}
	x->entered = true;
	room_enter();
	at->xdata = x;
}

/* A child gave descriptors back: one more connection may open, up to the
 * cap from the limit on open files. */
void
net_http_fds_freed(void)
{
	if (H.multi != NULL && H.cap != H.cap_max)
		http_set_cap(H.cap + 1);
}

/* Stop the job's transfer now: off the multi handle, attempt ended. */
void
net_http_stop(struct attempt *at)
{
	http_xfer_free(at->xdata);
	sched_attempt_stopped(at, 0);
}

/* Drop what is left of http and tcp at exit. */
void
net_shutdown(void)
{
	while (!LIST_EMPTY(&H.xfers))
		http_xfer_free(LIST_FIRST(&H.xfers));
	if (H.multi != NULL)
		http_multi_close();
	if (H.global) {
		lcurl.global_cleanup();
		H.global = false;
	}
	net_tcp_shutdown();
}
