/*
 * wire.c: the codec of the remote workers' protocol; the byte layout is
 * specified in wire.h.
 *
 * Encoders check a frame's fields by the same rules as the decoder (one
 * check function per body), compute the payload's length, then append the
 * header and the fields; a frame that breaks a rule appends nothing. The
 * decoder judges the header as soon as its bytes are there (so a peer
 * sending garbage is caught at once, not after megabytes), then reads the
 * payload field by field through a cursor that checks every length
 * against the bytes left and against the field's cap.
 *
 * Pure: no I/O, no state, no allocation; safe from any thread. Its input
 * comes from another machine (and from a fuzzer), so nothing is read
 * before its length is checked.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "future.h"
#include "kinds.h"
#include "wire.h"

/* The wire's status numbers are enum job_status's: keep them fixed. */
_Static_assert(ST_OK == 0 && ST_FAILED == 1 && ST_TIMEOUT == 2 &&
		   ST_CANCELLED == 3 && ST_SKIPPED == 4 && ST_ERROR == 5 &&
		   ST_COUNT == 6,
	       "enum job_status is wire protocol: do not renumber");
_Static_assert(CORUN_OUTPUT_CAP + CORUN_STDERR_CAP + WIRE_ERROR_MAX + 64 <=
		   WIRE_FRAME_MAX,
	       "a RESULT at its caps fits in a frame");
_Static_assert(WIRE_LINE_MAX + 64 <= WIRE_FRAME_MAX, "a JOB fits a frame");
_Static_assert(2 * WIRE_NAME_MAX + WIRE_ENV_MAX + 64 <= WIRE_FRAME_MAX,
	       "a HELLO fits a frame");
_Static_assert(WIRE_CHUNK_MAX + WIRE_NAME_MAX + 64 <= WIRE_FRAME_MAX,
	       "a FILE fits a frame");

#define GREETING_FIXED (WIRE_MAGIC_LEN + 3) /* magic, u16 proto, u8 n */
#define HELLO_FIXED 44 /* 4 x u32, 2 x u64, 3 lengths */
#define JOB_FIXED 16			    /* attempt, timeout, length */
#define RESULT_FIXED 36			    /* 6 x u32, 3 lengths */
#define CANCEL_LEN 12			    /* grace, flags */
#define FILE_FIXED 20			    /* offset, flags, 2 lengths */

#define RESULT_TRUNCATED 0x1u
#define RESULT_HAS_ERROUT 0x2u
#define RESULT_UNSTARTED 0x4u
#define RESULT_HAS_ERROR 0x8u
#define RESULT_FLAGS 0xfu
#define CANCEL_HURRY 0x1u
#define FILE_LAST 0x1u

/* The type's name; see wire.h. */
const char *
wire_type_name(uint32_t type)
{
	static const char *const names[] = {
	    NULL,     "HELLO", "JOB",  "STARTED", "RESULT",
	    "CANCEL", "PING",  "PONG", "FILE",	  "BYE",
	};

	if (type == 0 || type >= sizeof names / sizeof names[0])
		return "?";
	return names[type];
}

/* Seconds as microseconds, rounded; < 0 is none, huge is the largest. */
uint64_t
wire_usec(double seconds)
{
	double us;

	if (!(seconds >= 0))
		return WIRE_NO_TIME;
	us = seconds * 1e6 + 0.5;
	if (us >= 18446744073709549568.0) /* the largest double < 2^64 */
		return WIRE_NO_TIME - 1;
	return (uint64_t)us;
}

/* Microseconds as seconds; WIRE_NO_TIME is -1 (none). */
double
wire_seconds(uint64_t usec)
{
	if (usec == WIRE_NO_TIME)
		return -1;
	return (double)usec / 1e6;
}

/* Append a big-endian u16. */
static void
put16(struct buf *b, uint16_t v)
{
	unsigned char c[2] = {(unsigned char)(v >> 8), (unsigned char)v};

	buf_add(b, c, sizeof c);
}

/* Append a big-endian u32. */
static void
put32(struct buf *b, uint32_t v)
{
	unsigned char c[4];

	for (int i = 0; i < 4; i++)
		c[i] = (unsigned char)(v >> (24 - 8 * i));
	buf_add(b, c, sizeof c);
}

/* Append a big-endian u64. */
static void
put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

/* Append a string: its u32 length, then its bytes. */
static void
putstr(struct buf *b, const char *s, uint32_t len)
{
	put32(b, len);
	buf_add(b, s, len);
}

/* Read a big-endian u32 from unaligned bytes. */
static uint32_t
get32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	       (uint32_t)u[2] << 8 | u[3];
}

/* Read a big-endian u64 from unaligned bytes. */
static uint64_t
get64(const char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* Append a frame header for a payload of len bytes. */
static void
put_header(struct buf *b, enum wire_type type, uint64_t tag, size_t len)
{
	buf_reserve(b, WIRE_HDR + len);
	put32(b, (uint32_t)len);
	put32(b, type);
	put64(b, tag);
}

/* Is the string a NUL-free one of min..max bytes? (s may be NULL when
 * len is 0.) */
static int
str_ok(const char *s, uint32_t len, uint32_t min, uint32_t max)
{
	return len >= min && len <= max &&
	       (len == 0 || memchr(s, '\0', len) == NULL);
}

/* Append our greeting. */
void
wire_put_greeting(struct buf *b)
{
	size_t n = strlen(PACKAGE_VERSION);

	_Static_assert(sizeof PACKAGE_VERSION - 1 <= WIRE_VERSION_MAX &&
			   sizeof PACKAGE_VERSION > 1,
		       "PACKAGE_VERSION fits a greeting");
	buf_add(b, WIRE_MAGIC, WIRE_MAGIC_LEN);
	put16(b, WIRE_PROTO);
	buf_addc(b, (char)n);
	buf_add(b, PACKAGE_VERSION, n);
}

/* Quote up to 16 of the n bytes at p into out, control bytes as \xHH. */
static void
quote_start(char *out, size_t outlen, const char *p, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && i < 16 && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o +=
			    (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* Decode a greeting; see wire.h. A wrong byte is reported as soon as it
 * has arrived. */
ssize_t
wire_greeting_decode(const char *p, size_t n, struct wire_greeting *g,
		     char *err, size_t errlen)
{
	size_t vlen = 0;

	if (n > 0 &&
	    memcmp(p, WIRE_MAGIC, n < WIRE_MAGIC_LEN ? n : WIRE_MAGIC_LEN)) {
		char q[16 * 4 + 1];

		quote_start(q, sizeof q, p, n);
		errfmt(err, errlen,
		       "not a corun worker: its output begins \"%s\"", q);
		return -1;
	}
	if (n >= GREETING_FIXED) {
		vlen = (unsigned char)p[GREETING_FIXED - 1];
		if (vlen == 0 || vlen > WIRE_VERSION_MAX) {
			errfmt(err, errlen,
			       "greeting: corun version of %zu bytes", vlen);
			return -1;
		}
		for (size_t i = 0; i < vlen && GREETING_FIXED + i < n; i++) {
			unsigned char c = (unsigned char)p[GREETING_FIXED + i];
			if (c <= 0x20 || c >= 0x7f) {
				errfmt(err, errlen,
				       "greeting: byte 0x%02x in the corun "
				       "version",
				       c);
				return -1;
			}
		}
	}
	if (n < GREETING_FIXED || n - GREETING_FIXED < vlen)
		return 0;
	g->proto = (uint16_t)((unsigned char)p[WIRE_MAGIC_LEN] << 8 |
			      (unsigned char)p[WIRE_MAGIC_LEN + 1]);
	memcpy(g->version, p + GREETING_FIXED, vlen);
	g->version[vlen] = '\0';
	return (ssize_t)(GREETING_FIXED + vlen);
}

/* Check a peer's greeting against ours. */
int
wire_greeting_check(const char *host, const struct wire_greeting *peer,
		    char *err, size_t errlen)
{
	if (peer->proto == WIRE_PROTO)
		return 0;
	errfmt(err, errlen,
	       "%s: corun %s speaks wire protocol %u, this corun %s speaks %u",
	       host, peer->version, (unsigned)peer->proto, PACKAGE_VERSION,
	       (unsigned)WIRE_PROTO);
	return -1;
}

/* Is c a character of an environment variable's name (first: not a
 * digit)? */
static int
env_name_char(char c, int first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (!first && c >= '0' && c <= '9');
}

/* A HELLO's environment: NAME=VALUE entries, each ended by a NUL. */
int
wire_env_ok(const char *s, size_t n)
{
	const char *end = s + n;

	if (n > WIRE_ENV_MAX)
		return 0;
	while (s < end) {
		const char *nul = memchr(s, '\0', (size_t)(end - s));
		const char *p = s;

		if (nul == NULL)
			return 0;
		while (p < nul && *p != '=' && env_name_char(*p, p == s))
			p++;
		if (p == s || p == nul || *p != '=')
			return 0;
		s = nul + 1;
	}
	return 1;
}

/* The rules of a HELLO's body. */
static int
hello_ok(const struct wire_hello *h)
{
	return h->cpus >= 1 && h->jobs <= INT32_MAX && h->procs <= INT32_MAX &&
	       h->threads <= INT32_MAX && h->grace != WIRE_NO_TIME &&
	       str_ok(h->kinds, h->kindslen, 1, WIRE_NAME_MAX) &&
	       wire_env_ok(h->env, h->envlen) &&
	       str_ok(h->workdir, h->wdlen, 0, WIRE_NAME_MAX);
}

/* Append a HELLO frame. */
int
wire_put_hello(struct buf *b, const struct wire_hello *h)
{
	if (!hello_ok(h))
		return -1;
	put_header(b, WIRE_HELLO, 0,
		   HELLO_FIXED + (size_t)h->kindslen + h->envlen + h->wdlen);
	put32(b, h->cpus);
	put32(b, h->jobs);
	put32(b, h->procs);
	put32(b, h->threads);
	put64(b, h->heartbeat);
	put64(b, h->grace);
	putstr(b, h->kinds, h->kindslen);
	putstr(b, h->env, h->envlen);
	putstr(b, h->workdir, h->wdlen);
	return 0;
}

/* The rules of a JOB's body. */
static int
job_ok(const struct wire_job *j)
{
	return j->attempt >= 1 && str_ok(j->line, j->linelen, 1, WIRE_LINE_MAX);
}

/* Append a JOB frame. */
int
wire_put_job(struct buf *b, uint64_t tag, const struct wire_job *j)
{
	if (!job_ok(j))
		return -1;
	put_header(b, WIRE_JOB, tag, JOB_FIXED + (size_t)j->linelen);
	put32(b, j->attempt);
	put64(b, j->timeout);
	putstr(b, j->line, j->linelen);
	return 0;
}

/* Append a STARTED frame. */
void
wire_put_started(struct buf *b, uint64_t tag)
{
	put_header(b, WIRE_STARTED, tag, 0);
}

/* The rules of a RESULT's body. */
static int
result_ok(const struct wire_result *r)
{
	return r->status < ST_COUNT &&
	       (r->exit == WIRE_NO_EXIT || r->exit <= 255) &&
	       r->signal <= 127 && r->http_status <= 999 &&
	       r->vlen <= CORUN_OUTPUT_CAP && r->errlen <= CORUN_STDERR_CAP &&
	       (r->has_error || r->msglen == 0) &&
	       str_ok(r->error, r->msglen, 0, WIRE_ERROR_MAX);
}

/* Append a RESULT frame. */
int
wire_put_result(struct buf *b, uint64_t tag, const struct wire_result *r)
{
	uint32_t flags = (r->truncated ? RESULT_TRUNCATED : 0) |
			 (r->has_errout ? RESULT_HAS_ERROUT : 0) |
			 (r->unstarted ? RESULT_UNSTARTED : 0) |
			 (r->has_error ? RESULT_HAS_ERROR : 0);

	if (!result_ok(r))
		return -1;
	put_header(b, WIRE_RESULT, tag,
		   RESULT_FIXED + (size_t)r->vlen + r->errlen + r->msglen);
	put32(b, r->status);
	put32(b, r->exit);
	put32(b, r->signal);
	put32(b, r->http_status);
	put32(b, r->retry_after);
	put32(b, flags);
	putstr(b, r->value, r->vlen);
	putstr(b, r->errout, r->errlen);
	putstr(b, r->error, r->msglen);
	return 0;
}

/* Append a CANCEL frame. */
void
wire_put_cancel(struct buf *b, uint64_t tag, const struct wire_cancel *c)
{
	put_header(b, WIRE_CANCEL, tag, CANCEL_LEN);
	put64(b, c->grace);
	put32(b, c->hurry ? CANCEL_HURRY : 0);
}

/* Append a PING frame. */
void
wire_put_ping(struct buf *b, uint64_t nonce)
{
	put_header(b, WIRE_PING, nonce, 0);
}

/* Append a PONG frame. */
void
wire_put_pong(struct buf *b, uint64_t nonce)
{
	put_header(b, WIRE_PONG, nonce, 0);
}

/* The rules of a FILE's body. */
static int
file_ok(const struct wire_file *f)
{
	return str_ok(f->name, f->namelen, 1, WIRE_NAME_MAX) &&
	       f->datalen <= WIRE_CHUNK_MAX &&
	       f->offset <= UINT64_MAX - f->datalen;
}

/* Append a FILE frame. */
int
wire_put_file(struct buf *b, const struct wire_file *f)
{
	if (!file_ok(f))
		return -1;
	put_header(b, WIRE_FILE, 0,
		   FILE_FIXED + (size_t)f->namelen + f->datalen);
	put64(b, f->offset);
	put32(b, f->last ? FILE_LAST : 0);
	putstr(b, f->name, f->namelen);
	putstr(b, f->data, f->datalen);
	return 0;
}

/* Append a BYE frame. */
void
wire_put_bye(struct buf *b)
{
	put_header(b, WIRE_BYE, 0, 0);
}

/* A cursor over a payload; the first error is written to err. */
struct cur {
	const char *p;
	size_t n, off;
	const char *what; /* the frame type's name, for messages */
	char *err;
	size_t errlen;
};

/* Are n more bytes there? 0, or -1: the payload is too short. */
static int
cur_need(struct cur *c, size_t n)
{
	if (c->n - c->off >= n)
		return 0;
	errfmt(c->err, c->errlen, "%s: payload of %zu bytes too short",
	       c->what, c->n);
	return -1;
}

/* Take a u32 field, or fail: the payload is too short. */
static int
cur_u32(struct cur *c, uint32_t *v)
{
	if (cur_need(c, 4) == -1)
		return -1;
	*v = get32(c->p + c->off);
	c->off += 4;
	return 0;
}

/* Take a u64 field. */
static int
cur_u64(struct cur *c, uint64_t *v)
{
	if (cur_need(c, 8) == -1)
		return -1;
	*v = get64(c->p + c->off);
	c->off += 8;
	return 0;
}

/* Take a string field of at most max bytes (NUL-free if nonul). */
static int
cur_str(struct cur *c, const char *field, uint32_t max, int nonul,
	const char **s, uint32_t *len)
{
	if (cur_u32(c, len) < 0)
		return -1;
	if (*len > max) {
		errfmt(c->err, c->errlen, "%s: %s of %u bytes over the cap %u",
		       c->what, field, (unsigned)*len, (unsigned)max);
		return -1;
	}
	if (*len > c->n - c->off) {
		errfmt(c->err, c->errlen,
		       "%s: %s of %u bytes runs past the payload's end",
		       c->what, field, (unsigned)*len);
		return -1;
	}
	*s = c->p + c->off;
	c->off += *len;
	if (nonul && memchr(*s, '\0', *len) != NULL) {
		errfmt(c->err, c->errlen, "%s: NUL byte in the %s", c->what,
		       field);
		return -1;
	}
	return 0;
}

/* The payload must end where its fields did. */
static int
cur_end(struct cur *c)
{
	if (c->off != c->n) {
		errfmt(c->err, c->errlen, "%s: %zu bytes after the last field",
		       c->what, c->n - c->off);
		return -1;
	}
	return 0;
}

/* Fail with a message: a field broke its rule. */
static int
cur_bad(struct cur *c, const char *field)
{
	errfmt(c->err, c->errlen, "%s: %s out of range", c->what, field);
	return -1;
}

/* Decode a HELLO's body. */
static int
decode_hello(struct cur *c, struct wire_hello *h)
{
	if (cur_u32(c, &h->cpus) < 0 || cur_u32(c, &h->jobs) < 0 ||
	    cur_u32(c, &h->procs) < 0 || cur_u32(c, &h->threads) < 0 ||
	    cur_u64(c, &h->heartbeat) < 0 || cur_u64(c, &h->grace) < 0 ||
	    cur_str(c, "kinds", WIRE_NAME_MAX, 1, &h->kinds, &h->kindslen) <
		0 ||
	    cur_str(c, "env", WIRE_ENV_MAX, 0, &h->env, &h->envlen) < 0 ||
	    cur_str(c, "workdir", WIRE_NAME_MAX, 1, &h->workdir, &h->wdlen) <
		0 ||
	    cur_end(c) < 0)
		return -1;
	return hello_ok(h) ? 0
			   : cur_bad(c, "a count, the grace, the kinds or the "
					"environment");
}

/* Decode a JOB's body. */
static int
decode_job(struct cur *c, struct wire_job *j)
{
	if (cur_u32(c, &j->attempt) < 0 || cur_u64(c, &j->timeout) < 0 ||
	    cur_str(c, "line", WIRE_LINE_MAX, 1, &j->line, &j->linelen) < 0 ||
	    cur_end(c) < 0)
		return -1;
	return job_ok(j) ? 0 : cur_bad(c, "the attempt or the line");
}

/* Decode a RESULT's body. */
static int
decode_result(struct cur *c, struct wire_result *r)
{
	uint32_t flags;

	if (cur_u32(c, &r->status) < 0 || cur_u32(c, &r->exit) < 0 ||
	    cur_u32(c, &r->signal) < 0 || cur_u32(c, &r->http_status) < 0 ||
	    cur_u32(c, &r->retry_after) < 0 || cur_u32(c, &flags) < 0 ||
	    cur_str(c, "value", CORUN_OUTPUT_CAP, 0, &r->value, &r->vlen) < 0 ||
	    cur_str(c, "stderr tail", CORUN_STDERR_CAP, 0, &r->errout,
		    &r->errlen) < 0 ||
	    cur_str(c, "error", WIRE_ERROR_MAX, 1, &r->error, &r->msglen) < 0 ||
	    cur_end(c) < 0)
		return -1;
	if (flags & ~RESULT_FLAGS)
		return cur_bad(c, "flags");
	r->truncated = (flags & RESULT_TRUNCATED) != 0;
	r->has_errout = (flags & RESULT_HAS_ERROUT) != 0;
	r->unstarted = (flags & RESULT_UNSTARTED) != 0;
	r->has_error = (flags & RESULT_HAS_ERROR) != 0;
	return result_ok(r) ? 0 : cur_bad(c, "a status field");
}

/* Decode a CANCEL's body. */
static int
decode_cancel(struct cur *c, struct wire_cancel *k)
{
	uint32_t flags;

	if (cur_u64(c, &k->grace) < 0 || cur_u32(c, &flags) < 0 ||
	    cur_end(c) < 0)
		return -1;
	if (flags & ~CANCEL_HURRY)
		return cur_bad(c, "flags");
	k->hurry = (flags & CANCEL_HURRY) != 0;
	return 0;
}

/* Decode a FILE's body. */
static int
decode_file(struct cur *c, struct wire_file *f)
{
	uint32_t flags;

	if (cur_u64(c, &f->offset) < 0 || cur_u32(c, &flags) < 0 ||
	    cur_str(c, "name", WIRE_NAME_MAX, 1, &f->name, &f->namelen) < 0 ||
	    cur_str(c, "data", WIRE_CHUNK_MAX, 0, &f->data, &f->datalen) < 0 ||
	    cur_end(c) < 0)
		return -1;
	if (flags & ~FILE_LAST)
		return cur_bad(c, "flags");
	f->last = (flags & FILE_LAST) != 0;
	return file_ok(f) ? 0 : cur_bad(c, "the name or the offset");
}

/* The payload sizes each type can have, so that a header announcing
 * another is refused before its payload is awaited. */
static const struct {
	uint32_t min, max;
} sizes[] = {
    [WIRE_HELLO] = {HELLO_FIXED + 1,
		    HELLO_FIXED + 2 * WIRE_NAME_MAX + WIRE_ENV_MAX},
    [WIRE_JOB] = {JOB_FIXED + 1, JOB_FIXED + WIRE_LINE_MAX},
    [WIRE_STARTED] = {0, 0},
    [WIRE_RESULT] = {RESULT_FIXED, RESULT_FIXED + CORUN_OUTPUT_CAP +
				       CORUN_STDERR_CAP + WIRE_ERROR_MAX},
    [WIRE_CANCEL] = {CANCEL_LEN, CANCEL_LEN},
    [WIRE_PING] = {0, 0},
    [WIRE_PONG] = {0, 0},
    [WIRE_FILE] = {FILE_FIXED + 1, FILE_FIXED + WIRE_NAME_MAX + WIRE_CHUNK_MAX},
    [WIRE_BYE] = {0, 0},
};

/* Decode a frame; see wire.h. */
ssize_t
wire_decode(const char *p, size_t n, struct wire_msg *m, char *err,
	    size_t errlen)
{
	uint32_t len = 0, type = 0;
	struct cur c;
	int rc = 0;

	if (n >= 4) {
		len = get32(p);
		if (len > WIRE_FRAME_MAX) {
			errfmt(err, errlen, "frame of %u bytes over the cap %u",
			       (unsigned)len, (unsigned)WIRE_FRAME_MAX);
			return -1;
		}
	}
	if (n >= 8) {
		type = get32(p + 4);
		if (type < WIRE_HELLO || type > WIRE_BYE) {
			errfmt(err, errlen, "frame of unknown type %u",
			       (unsigned)type);
			return -1;
		}
		if (len < sizes[type].min || len > sizes[type].max) {
			errfmt(err, errlen, "%s frame of %u bytes, not %u..%u",
			       wire_type_name(type), (unsigned)len,
			       (unsigned)sizes[type].min,
			       (unsigned)sizes[type].max);
			return -1;
		}
	}
	if (n < WIRE_HDR || n - WIRE_HDR < len)
		return 0;
	memset(m, 0, sizeof *m);
	m->type = (enum wire_type)type;
	m->tag = get64(p + 8);
	c = (struct cur){.p = p + WIRE_HDR,
			 .n = len,
			 .what = wire_type_name(type),
			 .err = err,
			 .errlen = errlen};
	switch (m->type) {
	case WIRE_HELLO:
		rc = decode_hello(&c, &m->u.hello);
		break;
	case WIRE_JOB:
		rc = decode_job(&c, &m->u.job);
		break;
	case WIRE_RESULT:
		rc = decode_result(&c, &m->u.result);
		break;
	case WIRE_CANCEL:
		rc = decode_cancel(&c, &m->u.cancel);
		break;
	case WIRE_FILE:
		rc = decode_file(&c, &m->u.file);
		break;
	case WIRE_STARTED:
	case WIRE_PING:
	case WIRE_PONG:
	case WIRE_BYE:
		rc = cur_end(&c);
		break;
	}
	if (rc == 0 && m->tag != 0 &&
	    (m->type == WIRE_HELLO || m->type == WIRE_FILE ||
	     m->type == WIRE_BYE)) {
		errfmt(err, errlen, "%s: tag %llu, not 0", c.what,
		       (unsigned long long)m->tag);
		rc = -1;
	}
	return rc < 0 ? -1 : (ssize_t)(WIRE_HDR + len);
}
