/*
 * corun-plugin.h: the ABI between corun and the C functions it runs.
 *
 * A plugin is a shared library that corun loads (the `call LIBRARY SYMBOL
 * [ARG]` kind) in a process-pool worker, or in a pool thread with
 * `on=thread`. It needs nothing from corun but this header: no symbol of
 * the host is used, everything the function may call comes in `out`.
 *
 * The library exports, next to its functions:
 *
 *     CORUN_PLUGIN_DECLARE;    expands to the ABI version variable
 *
 * and each function that jobs may call has the type corun_plugin_fn:
 *
 *     int my_fn(const char *arg, size_t len, struct corun_out *out);
 *
 * Ownership: arg (len bytes, plus a terminating NUL not counted in len) is
 * the host's and lives only during the call. Bytes given to out->write and
 * the message given to out->fail are copied by the host before it returns;
 * the plugin keeps ownership of its buffers. The function returns 0 for
 * success (the job's value is what it wrote) or -1 for failure (the job
 * ends `failed` with the message given to out->fail, or a generic one; any
 * other non-zero value is a failure too, and the value is dropped).
 *
 * A worker loads a library once and keeps it loaded, so a plugin may keep
 * state across calls in its process; with on=thread, several threads may
 * call it at once. A plugin that crashes in a worker fails only its job
 * (the worker is replaced); in a thread it takes corun down.
 */
#ifndef CORUN_PLUGIN_H
#define CORUN_PLUGIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CORUN_PLUGIN_ABI 1

/* What the host gives a plugin function to report through. */
struct corun_out {
	void *host; /* the host's; do not touch */
	/* Append n bytes to the job's value. 0, or -1 when they did not all
	 * fit: the value is at its cap (1 MiB), the rest is dropped and the
	 * job is truncated; later writes drop everything. */
	int (*write)(struct corun_out *, const void *, size_t n);
	/* Set the job's error message (copied up to its first line break;
	 * a later call replaces it). Used only if the function fails. */
	void (*fail)(struct corun_out *, const char *msg);
};

typedef int corun_plugin_fn(const char *arg, size_t len, struct corun_out *out);

/* The variable the host checks before it calls anything in a library. */
#define CORUN_PLUGIN_ABI_SYMBOL "corun_plugin_abi"
#if defined(__GNUC__)
#define CORUN_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define CORUN_PLUGIN_EXPORT
#endif
/* Exported even from C++ (extern "C" above) and with -fvisibility=hidden;
 * mark plugin functions CORUN_PLUGIN_EXPORT too when hiding symbols. */
#define CORUN_PLUGIN_DECLARE                                                   \
	extern CORUN_PLUGIN_EXPORT const int corun_plugin_abi;                 \
	CORUN_PLUGIN_EXPORT const int corun_plugin_abi = CORUN_PLUGIN_ABI

#ifdef __cplusplus
}
#endif

#endif
