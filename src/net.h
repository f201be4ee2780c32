/*
 * net.h: the loop kinds that talk to the network, http and tcp.
 *
 * http runs every transfer on one libcurl multi handle driven by the loop
 * (net_http.c); tcp makes one non-blocking connect, with names resolved by
 * a few resolver threads (net_tcp.c). Both are loop kinds (kinds.h): start
 * and stop are called on the loop thread, and every start is answered by
 * exactly one sched_attempt_done. Their parse-time checks are pure and
 * live apart, in net_check.c.
 */
#ifndef CORUN_NET_H
#define CORUN_NET_H

struct attempt;

/* Start a transfer on the shared multi handle. */
void net_http_start(struct attempt *);
/* Remove the attempt's transfer from the multi handle at once. */
void net_http_stop(struct attempt *);
/* Children gave descriptors back: http's connections may grow again. */
void net_http_fds_freed(void);

/* Resolve the host if needed, then connect without blocking. */
void net_tcp_start(struct attempt *);
/* Close the attempt's socket, or forget its name lookup, at once. */
void net_tcp_stop(struct attempt *);
/* Release tcp's resources at exit (net_shutdown calls it). */
void net_tcp_shutdown(void);

/* At exit: drop every transfer and connection left without touching their
 * jobs, clean the multi handle up and let the resolver threads go. */
void net_shutdown(void);

#endif
