/*
 * fuzz_wire.c: libFuzzer harness for the remote workers' protocol decoder.
 *
 * Reads the input as a peer's stream: a greeting when it starts with one,
 * then frames one by one, as a parent or a worker would. A frame that
 * decodes must re-encode to the same bytes (the encoding is canonical), a
 * RESULT also through a struct result, and one byte less of it must be
 * "need more", never an error; an error must come with a message. Built by
 * scripts/fuzz, replayed by make check.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "future.h"
#include "wire.h"

/* Re-encode a decoded frame. */
static void
reencode(struct buf *b, const struct wire_msg *m)
{
	int rc = 0;

	switch (m->type) {
	case WIRE_HELLO:
		rc = wire_put_hello(b, &m->u.hello);
		break;
	case WIRE_JOB:
		rc = wire_put_job(b, m->tag, &m->u.job);
		break;
	case WIRE_STARTED:
		wire_put_started(b, m->tag);
		break;
	case WIRE_RESULT:
		rc = wire_put_result(b, m->tag, &m->u.result);
		break;
	case WIRE_CANCEL:
		wire_put_cancel(b, m->tag, &m->u.cancel);
		break;
	case WIRE_PING:
		wire_put_ping(b, m->tag);
		break;
	case WIRE_PONG:
		wire_put_pong(b, m->tag);
		break;
	case WIRE_FILE:
		rc = wire_put_file(b, &m->u.file);
		break;
	case WIRE_BYE:
		wire_put_bye(b);
		break;
	default:
		abort();
	}
	if (rc != 0)
		abort();
}

/* A decoded RESULT taken into a struct result and back must encode to
 * the same frame (retry_after past INT_MAX is clamped: skipped). */
static void
through_result(const struct wire_msg *m, const char *frame, size_t n)
{
	struct result r;
	struct wire_result w;
	struct buf b = BUF_INIT;

	if (m->u.result.retry_after > INT32_MAX)
		return;
	memset(&r, 0, sizeof r);
	wire_result_to(&r, &m->u.result);
	wire_result_from(&w, &r);
	if (wire_put_result(&b, m->tag, &w) != 0 || b.len != n ||
	    memcmp(b.data, frame, n) != 0)
		abort();
	buf_free(&b);
	buf_free(&r.value);
	buf_free(&r.errout);
	free(r.error);
}

/* A decoded HELLO checked against ours: a message when it fails. */
static void
check_hello(const struct wire_msg *m)
{
	struct buf kinds = BUF_INIT;
	struct wire_hello ours = {.cpus = 1};
	char err[256] = "";

	wire_kinds(&kinds);
	ours.kinds = kinds.data;
	ours.kindslen = (uint32_t)kinds.len;
	if (wire_hello_check("fuzz", &ours, &m->u.hello, err, sizeof err) !=
		0 &&
	    err[0] == '\0')
		abort();
	buf_free(&kinds);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so reading past the end is caught. */
	char *p = malloc(size ? size : 1);
	size_t off = 0;
	char err[256];
	struct wire_greeting g;
	ssize_t n;

	memcpy(p, data, size);
	err[0] = '\0';
	n = wire_greeting_decode(p, size, &g, err, sizeof err);
	if (n < 0 && err[0] == '\0')
		abort();
	if (n > 0) {
		if (strlen(g.version) == 0 ||
		    strlen(g.version) > WIRE_VERSION_MAX)
			abort();
		(void)wire_greeting_check("fuzz", &g, err, sizeof err);
		off = (size_t)n;
	}
	while (off < size) {
		struct wire_msg m;
		struct buf b = BUF_INIT;

		err[0] = '\0';
		n = wire_decode(p + off, size - off, &m, err, sizeof err);
		if (n < 0 && err[0] == '\0')
			abort();
		if (n <= 0)
			break;
		reencode(&b, &m);
		if (b.len != (size_t)n || memcmp(b.data, p + off, b.len) != 0)
			abort();
		buf_free(&b);
		if (m.type == WIRE_RESULT)
			through_result(&m, p + off, (size_t)n);
		if (m.type == WIRE_HELLO)
			check_hello(&m);
		if (wire_decode(p + off, (size_t)n - 1, &m, err, sizeof err) !=
		    0)
			abort();
		off += (size_t)n;
	}
	free(p);
	return 0;
}
