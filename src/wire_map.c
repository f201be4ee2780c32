/*
 * wire_map.c: between the engine's own structs and the remote workers'
 * frames (wire.h): a local result as a RESULT and back, the kinds a HELLO
 * names and the check of a peer's. Pure, as wire.c.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "future.h"
#include "kinds.h"
#include "wire.h"

/* Append the names of the job language's kinds, space-separated. */
void
wire_kinds(struct buf *b)
{
	int first = 1;

	for (size_t i = 0; i < KIND_COUNT; i++) {
		if (kind_table[i].hidden)
			continue;
		if (!first)
			buf_addc(b, ' ');
		buf_adds(b, kind_table[i].name);
		first = 0;
	}
}

/* Is the name (len bytes) one of the space-separated words of list? */
static int
list_has(const char *list, uint32_t listlen, const char *name, size_t len)
{
	const char *s = list, *end = list + listlen;

	while (s < end) {
		const char *sp = memchr(s, ' ', (size_t)(end - s));
		size_t wl = (size_t)((sp ? sp : end) - s);
		if (wl == len && memcmp(s, name, len) == 0)
			return 1;
		s += wl + 1;
	}
	return 0;
}

/* Check a peer's HELLO against ours: it must know all our kinds. */
int
wire_hello_check(const char *host, const struct wire_hello *ours,
		 const struct wire_hello *peer, char *err, size_t errlen)
{
	struct buf missing = BUF_INIT;
	const char *s = ours->kinds, *end = ours->kinds + ours->kindslen;
	int rc = 0;

	while (s < end) {
		const char *sp = memchr(s, ' ', (size_t)(end - s));
		size_t wl = (size_t)((sp ? sp : end) - s);
		if (wl > 0 && !list_has(peer->kinds, peer->kindslen, s, wl)) {
			if (missing.len > 0)
				buf_adds(&missing, ", ");
			buf_add(&missing, s, wl);
		}
		s += wl + 1;
	}
	if (missing.len > 0) {
		errfmt(err, errlen, "%s: its corun does not know kind%s %s",
		       host, strchr(missing.data, ',') ? "s" : "",
		       missing.data);
		rc = -1;
	}
	buf_free(&missing);
	return rc;
}

/* Point w at a local result's fields, made to fit; see wire.h. */
void
wire_result_from(struct wire_result *w, const struct result *r)
{
	size_t msglen = r->error ? strlen(r->error) : 0;

	*w = (struct wire_result){
	    .status = (uint32_t)r->status,
	    .exit = r->exit >= 0 && r->exit <= 255 ? (uint32_t)r->exit
						   : WIRE_NO_EXIT,
	    .signal =
		r->signal > 0 && r->signal <= 127 ? (uint32_t)r->signal : 0,
	    .http_status = r->http_status > 0 && r->http_status <= 999
			       ? (uint32_t)r->http_status
			       : 0,
	    .retry_after = r->retry_after > 0 ? (uint32_t)r->retry_after : 0,
	    .truncated = r->truncated || r->value.len > CORUN_OUTPUT_CAP,
	    .has_errout = r->has_errout,
	    .unstarted = r->unstarted,
	    .has_error = r->error != NULL,
	    .value = r->value.data,
	    .vlen =
		(uint32_t)(r->value.len > CORUN_OUTPUT_CAP ? CORUN_OUTPUT_CAP
							   : r->value.len),
	    .errout = r->errout.data,
	    .errlen = (uint32_t)r->errout.len,
	    .error = r->error,
	    .msglen =
		(uint32_t)(msglen > WIRE_ERROR_MAX ? WIRE_ERROR_MAX : msglen),
	};
	if (r->errout.len > CORUN_STDERR_CAP) {
		w->errout += r->errout.len - CORUN_STDERR_CAP;
		w->errlen = CORUN_STDERR_CAP;
	}
}

/* Fill a fresh local result from a decoded one. */
void
wire_result_to(struct result *r, const struct wire_result *w)
{
	r->status = (enum job_status)w->status;
	r->exit = w->exit == WIRE_NO_EXIT ? -1 : (int)w->exit;
	r->signal = (int)w->signal;
	r->http_status = (int)w->http_status;
	r->retry_after =
	    w->retry_after > INT32_MAX ? INT32_MAX : (int)w->retry_after;
	r->truncated = w->truncated;
	r->has_errout = w->has_errout;
	r->unstarted = w->unstarted;
	if (w->vlen > 0)
		buf_add(&r->value, w->value, w->vlen);
	if (w->errlen > 0)
		buf_add(&r->errout, w->errout, w->errlen);
	r->error = w->has_error ? xstrndup(w->msglen ? w->error : "", w->msglen)
				: NULL;
}
