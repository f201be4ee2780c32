/*
 * net_check.h: the network kinds' arguments (http, tcp), checked without
 * libcurl and without the network: pure functions for the kind table's
 * parse-time checks, which the runtime (net_http.c, net_tcp.c) uses too.
 */
#ifndef CORUN_NET_CHECK_H
#define CORUN_NET_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* The arguments of one http job line (pointers into its argv). */
struct http_args {
	const char *method; /* -X, or NULL */
	const char *data;   /* -d, or NULL */
	const char *url;
	bool follow;        /* -L */
};

/*
 * Split and check an http job's arguments,
 * [-X METHOD] [-H 'NAME: VALUE']... [-d DATA] [-L] URL in any order, into
 * *a; the headers are checked but not kept. 0, or -1 and a message.
 */
int net_check_http_args(int argc, char *const argv[], struct http_args *a,
			char *err, size_t errlen);

/* The http kind's parse-time check: net_check_http_args, *a dropped. */
int net_check_http(int argc, char *const argv[], char *err, size_t errlen);

/*
 * Split "HOST:PORT" or "[ADDR]:PORT": the host is arg[*hoff] for *hlen
 * bytes, the port starts at arg + *poff. 0, or -1 and a message.
 */
int net_check_tcp_split(const char *arg, size_t *hoff, size_t *hlen,
			size_t *poff, char *err, size_t errlen);
/* The tcp kind's parse-time check: tcp HOST:PORT. */
int net_check_tcp(int argc, char *const argv[], char *err, size_t errlen);

#endif
