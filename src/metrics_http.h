/*
 * metrics_http.h: --metrics-addr, the metrics served over HTTP by the
 * event loop itself (GET /metrics; corun(1), METRICS).
 */
#ifndef CORUN_METRICS_HTTP_H
#define CORUN_METRICS_HTTP_H

#include <ev.h>

#include "util.h"

/* Listen on addr ("HOST:PORT", HOST an IPv4 literal, a bracketed IPv6
 * literal or empty for every IPv4 address; PORT 0 picks a free port,
 * which is said on stderr) and answer GET /metrics with the text fill
 * appends. 0, or -1 with a message on stderr. */
int mhttp_start(struct ev_loop *, const char *addr, void (*fill)(struct buf *));
/* Close the connections and stop listening (no-op if not started). */
void mhttp_stop(void);

#endif
