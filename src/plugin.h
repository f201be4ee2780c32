/*
 * plugin.h: the `call LIBRARY SYMBOL [ARG]` kind and the host side of the
 * plugin ABI (include/corun-plugin.h).
 *
 * plugin_run_call is the kind's run function: it is called in a worker
 * process or a pool thread, loads the library once per process (and keeps
 * it), and calls the function. plugin_out_init is the host side of a struct
 * corun_out on its own, independent of dlopen, for any caller that hands one
 * to a C function.
 */
#ifndef CORUN_PLUGIN_HOST_H
#define CORUN_PLUGIN_HOST_H

#include <stddef.h>

#include "corun-plugin.h"

struct buf;

/*
 * Where a struct corun_out delivers. The caller owns every buffer here and
 * must keep them alive while the out is in use.
 *
 * - value: out->write appends to it. It keeps at most cap bytes; a write
 *   that goes past cap drops the rest and returns -1, but the first byte
 *   dropped is still appended, so value->len > cap tells a caller that sees
 *   only the buffer (the pools cut at the cap and flag `truncated`).
 * - err, errlen: out->fail copies its message here, cut at the first line
 *   break and at errlen - 1 bytes, always terminated. err[0] stays '\0'
 *   when fail is never called (or with an empty message).
 * - truncated: set to 1 when a write was cut (never reset).
 */
struct plugin_sink {
	struct buf *value;
	size_t cap;
	char *err;
	size_t errlen;
	int truncated;
};

/* Make out deliver to sink (both the caller's; sink->truncated and err are
 * reset). Any thread; no state but the two structs. */
void plugin_out_init(struct corun_out *out, struct plugin_sink *sink);


/* The `call` kind's run function (a kind_run_fn): argv is LIBRARY SYMBOL
 * [ARG]. Appends the function's output to value and returns 0, or writes
 * the error to err and returns -1. Thread-safe; keeps every library it
 * loaded open until the process exits. */
int plugin_run_call(int argc, char *const argv[], struct buf *value, char *err,
		    size_t errlen);

#endif
