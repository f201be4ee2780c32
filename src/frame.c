/*
 * frame.c: the byte format of jobs and results between corun and workers.
 *
 * A frame is a 16-byte header (u32 payload length, u32 type, u64 tag, host
 * byte order: both ends run on the same machine) followed by the payload.
 * Job and result payloads are built of u32 fields and byte strings; see
 * frame.h. Encoders append straight to a caller's buffer, so a sender can
 * batch many frames into one write; decoders return pointers into the bytes
 * they were given, so nothing is allocated or copied.
 *
 * Pure: no I/O, no state. Every decoder checks every length against the
 * bytes it was given before reading, since its input comes from another
 * process (and from a fuzzer).
 */
#include "config.h"

#include <string.h>

#include "frame.h"

#define JOB_FIXED 8	/* kind, argc */
#define RESULT_FIXED 16 /* status, flags, value length, error length */
#define RESULT_TRUNCATED 0x1u

/* Read a u32 from unaligned bytes. */
static uint32_t
frame_get32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* Append a u32. */
static void
frame_add32(struct buf *b, uint32_t v)
{
	buf_add(b, &v, sizeof v);
}

/* Append a frame header. */
static void
frame_put_header(struct buf *b, uint32_t type, uint64_t tag, size_t len)
{
	frame_add32(b, (uint32_t)len);
	frame_add32(b, type);
	buf_add(b, &tag, sizeof tag);
}

/* Append a whole frame: header, then the n payload bytes at p. */
void
frame_put(struct buf *b, uint32_t type, uint64_t tag, const void *p, size_t n)
{
	buf_reserve(b, FRAME_HDR + n);
	frame_put_header(b, type, tag, n);
	buf_add(b, p, n);
}

/* Decode the frame at the start of p; see frame.h. Bad lengths and types
 * are reported as soon as the bytes that hold them have arrived. */
ssize_t
frame_decode(const char *p, size_t n, struct frame *f)
{
	uint32_t len = 0, type;

	if (n >= 4) {
		len = frame_get32(p);
		if (len > FRAME_MAX)
			return -1;
	}
	if (n >= 8) {
		type = frame_get32(p + 4);
		if (type != FRAME_JOB && type != FRAME_RESULT)
			return -1;
	}
	if (n < FRAME_HDR || n - FRAME_HDR < len)
		return 0;
	f->len = len;
	f->type = frame_get32(p + 4);
	memcpy(&f->tag, p + 8, sizeof f->tag);
	f->payload = p + FRAME_HDR;
	return (ssize_t)(FRAME_HDR + len);
}

/* Append a job frame for kind index kind and its arguments. */
int
frame_put_job(struct buf *b, uint64_t tag, int kind, int argc,
	      char *const argv[])
{
	size_t len = JOB_FIXED;

	if (kind < 0 || argc < 0)
		return -1;
	for (int i = 0; i < argc; i++) {
		len += strlen(argv[i]) + 1;
		if (len > FRAME_MAX)
			return -1;
	}
	buf_reserve(b, FRAME_HDR + len);
	frame_put_header(b, FRAME_JOB, tag, len);
	frame_add32(b, (uint32_t)kind);
	frame_add32(b, (uint32_t)argc);
	for (int i = 0; i < argc; i++)
		buf_add(b, argv[i], strlen(argv[i]) + 1);
	return 0;
}

/* Decode a job payload; the strings must fill it exactly. */
int
frame_job_decode(const char *p, size_t n, struct frame_job *j)
{
	const char *s, *end;
	uint32_t seen = 0;

	if (n < JOB_FIXED)
		return -1;
	j->kind = frame_get32(p);
	j->argc = frame_get32(p + 4);
	j->args = p + JOB_FIXED;
	j->argslen = n - JOB_FIXED;
	if (j->kind > INT32_MAX || j->argc > j->argslen)
		return -1;
	s = j->args;
	end = j->args + j->argslen;
	while (s < end) {
		const char *nul = memchr(s, '\0', (size_t)(end - s));
		if (nul == NULL)
			return -1;
		seen++;
		s = nul + 1;
	}
	return seen == j->argc ? 0 : -1;
}

/* Point argv at the strings of a decoded job. The payload is the caller's
 * own buffer, which run functions may read but are not given as const. */
void
frame_job_argv(const struct frame_job *j, char **argv)
{
	const char *s = j->args;

	for (uint32_t i = 0; i < j->argc; i++) {
		argv[i] = (char *)s;
		s += strlen(s) + 1;
	}
	argv[j->argc] = NULL;
}

/* Append a result frame. */
int
frame_put_result(struct buf *b, uint64_t tag, const struct frame_result *r)
{
	size_t len = RESULT_FIXED + (size_t)r->vlen + r->elen;

	if (r->vlen > FRAME_MAX || r->elen > FRAME_MAX || len > FRAME_MAX)
		return -1;
	buf_reserve(b, FRAME_HDR + len);
	frame_put_header(b, FRAME_RESULT, tag, len);
	frame_add32(b, r->ok ? 0 : 1);
	frame_add32(b, r->truncated ? RESULT_TRUNCATED : 0);
	frame_add32(b, r->vlen);
	buf_add(b, r->value, r->vlen);
	frame_add32(b, r->elen);
	buf_add(b, r->error, r->elen);
	return 0;
}

/* Decode a result payload; its fields must fill it exactly. */
int
frame_result_decode(const char *p, size_t n, struct frame_result *r)
{
	uint32_t status, flags;
	size_t off;

	if (n < RESULT_FIXED)
		return -1;
	status = frame_get32(p);
	flags = frame_get32(p + 4);
	if (status > 1 || (flags & ~RESULT_TRUNCATED) != 0)
		return -1;
	r->ok = status == 0;
	r->truncated = (flags & RESULT_TRUNCATED) != 0;
	r->vlen = frame_get32(p + 8);
	if (r->vlen > n - RESULT_FIXED)
		return -1;
	r->value = p + 12;
	off = 12 + (size_t)r->vlen;
	r->elen = frame_get32(p + off);
	if (r->elen != n - off - 4)
		return -1;
	r->error = p + off + 4;
	return 0;
}
