/*
 * net_check.h: the http kind's arguments, checked without libcurl.
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

#endif
