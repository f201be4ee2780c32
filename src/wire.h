/*
 * wire.h: the frames a parent corun and a remote worker (corun --serve)
 * exchange over a launcher's stdio (ssh, srun, kubectl exec): protocol 1.
 *
 * This comment is the protocol's specification. Pure codec: no I/O, no
 * global state. Encoders append to a struct buf, so a sender batches many
 * frames into one write; the decoder takes whatever bytes have arrived and
 * returns the next whole frame, "need more" or an error with a message.
 * Decoded strings point into the caller's bytes: nothing is allocated.
 *
 * Conventions. Every integer is unsigned, big-endian (network order), of
 * the width written: u8, u16, u32, u64. A string is a u32 byte length then
 * that many bytes, no terminator. Durations are u64 microseconds; the
 * value WIRE_NO_TIME (all ones) means "none" (no timeout). Nothing else is
 * ever sent: no struct goes out raw, there is no padding.
 *
 * The stream. Each side's stream opens with a GREETING, then frames. The
 * greeting is frozen across protocol versions, so any two coruns can tell
 * each other apart and say which versions they run:
 *
 *   "CORUNW" (6 bytes), u16 protocol version (1), u8 n (1..64), n bytes:
 *   the sender's corun version (PACKAGE_VERSION: printable ASCII, no space).
 *
 * A peer whose protocol version differs from ours is refused (the greeting
 * check says so in one line); the frames after the greeting are those of
 * the version it names. Bytes that do not begin with "CORUNW" (a login
 * banner, "corun: command not found") are refused with the first of them
 * quoted. The first frame after the greeting, each way, is a HELLO.
 *
 * A frame: a 16-byte header, then its payload.
 *
 *   u32 payload length (at most WIRE_FRAME_MAX), u32 type, u64 tag
 *
 * The tag is the attempt's tag (chosen by the parent, unique among the
 * attempts in flight on the connection) for JOB, STARTED, RESULT and
 * CANCEL; the nonce for PING and PONG; 0 for HELLO, FILE and BYE. A type
 * this version does not know is an error: a newer peer announces itself in
 * its greeting.
 * Each payload must be filled exactly by its fields, and every length is
 * checked against the bytes present and against its field's cap.
 *
 *   1 HELLO   both ways, first. u32 cpus (online CPUs of the sender, >= 1),
 *             u32 jobs (-j), u32 procs (-P), u32 threads (-T) (the sender's
 *             limits, as corun_options holds them; 0 where it has none),
 *             u64 heartbeat (the sender's host timeout: it gives the peer
 *             up when nothing has come from it for that long, so the peer
 *             sends something, a PING if nothing else, at least every
 *             quarter of it; WIRE_NO_TIME: never), u64 grace (the sender's
 *             --grace: a worker stops its jobs with the parent's), string
 *             kinds: the names of the kinds the sender knows, separated by
 *             one space (1..WIRE_NAME_MAX bytes, no NUL), string env: the
 *             environment the worker's jobs get on top of its own, each
 *             entry NAME=VALUE and a NUL (NAME: a letter or _, then
 *             letters, digits or _; 0..WIRE_ENV_MAX bytes; a worker sends
 *             none), string workdir: the directory the worker runs its jobs
 *             in (0..WIRE_NAME_MAX bytes, no NUL; empty: where it started).
 *   2 JOB     parent -> worker. u32 attempt (>= 1), u64 timeout of this
 *             attempt (WIRE_NO_TIME: none), string line: the job as its
 *             plan line (src/plan.h, corun(1)'s -n: id, executor, kind,
 *             arguments, options), which the worker parses back
 *             (1..WIRE_LINE_MAX bytes, no NUL).
 *   3 STARTED worker -> parent, empty: the attempt has started (its clock
 *             starts there).
 *   4 RESULT  worker -> parent, the attempt's end (struct result, in
 *             src/future.h): u32 status (enum job_status: 0 ok, 1 failed,
 *             2 timeout, 3 cancelled, 4 skipped, 5 error), u32 exit
 *             (0xffffffff: none, else 0..255), u32 signal (0: none, else
 *             1..127), u32 http_status (0: none, else 1..999), u32
 *             retry_after (seconds; 0: none), u32 flags (bit 0 truncated,
 *             bit 1 has_errout, bit 2 unstarted, bit 3 has_error; other
 *             bits 0), string value (any bytes, at most CORUN_OUTPUT_CAP),
 *             string errout (the stderr tail, any bytes, at most
 *             CORUN_STDERR_CAP), string error (no NUL, at most
 *             WIRE_ERROR_MAX; empty unless has_error; has_error with an
 *             empty string is an empty message, not "no message").
 *   5 CANCEL  parent -> worker: stop the attempt. u64 grace (as --grace:
 *             TERM, then KILL after grace), u32 flags (bit 0 hurry: stop
 *             it at once, as a run stopping without --grace does; other
 *             bits 0). A CANCEL with hurry may follow one without; a
 *             CANCEL for a tag not in flight is ignored.
 *   6 PING    either way, empty; the nonce in the tag.
 *   7 PONG    the answer to a PING, empty, with the PING's nonce.
 *   8 FILE    parent -> worker, a chunk of a basefile: u64 offset, u32
 *             flags (bit 0 last chunk; other bits 0), string name (the
 *             path, 1..WIRE_NAME_MAX bytes, no NUL), string data (any
 *             bytes, at most WIRE_CHUNK_MAX). offset + data length must not
 *             wrap.
 *   9 BYE     either way, empty: the sender will send nothing more.
 *
 * A session: each side sends its greeting and HELLO; the parent sends a
 * basefile's FILE chunks (in order, the last flagged) before the first JOB
 * that may need it; every JOB is answered by exactly one RESULT with its
 * tag, after a STARTED if the attempt started; results come in any order.
 * Either side may PING at any time and the other answers PONG.
 *
 * Everything a decoder reports as an error is a protocol violation: the
 * connection cannot be believed any more. A prefix of a valid stream is
 * never an error (only "need more"); a header's length and type are judged
 * as soon as their bytes have arrived (a length no frame of that type can
 * have, such as a PING with a payload, is refused at once), the payload
 * once it is whole.
 */
#ifndef CORUN_WIRE_H
#define CORUN_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "corun.h"
#include "util.h"

#define WIRE_PROTO 1 /* the protocol version spoken here */
#define WIRE_MAGIC "CORUNW"
#define WIRE_MAGIC_LEN 6
#define WIRE_VERSION_MAX 64		  /* bytes of a corun version */
#define WIRE_HDR 16			  /* u32 length, u32 type, u64 tag */
#define WIRE_FRAME_MAX (4u * 1024 * 1024) /* largest payload */
#define WIRE_LINE_MAX (2u * 1024 * 1024)  /* a JOB's line */
#define WIRE_CHUNK_MAX (1024u * 1024)	  /* a FILE's data */
#define WIRE_NAME_MAX 4096u		  /* a FILE's name, HELLO's kinds */
#define WIRE_ERROR_MAX (64u * 1024)	  /* a RESULT's error message */
#define WIRE_ENV_MAX (256u * 1024)	  /* a HELLO's environment */
#define WIRE_NO_TIME UINT64_MAX		  /* a duration that is none */
#define WIRE_NO_EXIT UINT32_MAX		  /* a RESULT without exit status */

enum wire_type {
	WIRE_HELLO = 1,
	WIRE_JOB = 2,
	WIRE_STARTED = 3,
	WIRE_RESULT = 4,
	WIRE_CANCEL = 5,
	WIRE_PING = 6,
	WIRE_PONG = 7,
	WIRE_FILE = 8,
	WIRE_BYE = 9,
};

/* What opens a stream. version is NUL-terminated. */
struct wire_greeting {
	uint16_t proto;
	char version[WIRE_VERSION_MAX + 1];
};

/* The strings of decoded frames below point into the decoded bytes and
 * are not NUL-terminated; those of frames to encode are the caller's. */
struct wire_hello {
	uint32_t cpus;
	uint32_t jobs, procs, threads;
	uint64_t heartbeat; /* microseconds or WIRE_NO_TIME */
	uint64_t grace;	    /* microseconds */
	const char *kinds;  /* "sleep exec sh ..." */
	uint32_t kindslen;
	const char *env; /* "A=1\0B=2\0" */
	uint32_t envlen;
	const char *workdir; /* empty: none */
	uint32_t wdlen;
};

struct wire_job {
	uint32_t attempt;
	uint64_t timeout; /* microseconds or WIRE_NO_TIME */
	const char *line;
	uint32_t linelen;
};

struct wire_result {
	uint32_t status; /* enum job_status */
	uint32_t exit;	 /* WIRE_NO_EXIT: none */
	uint32_t signal, http_status, retry_after;
	int truncated, has_errout, unstarted, has_error;
	const char *value;
	uint32_t vlen;
	const char *errout;
	uint32_t errlen;
	const char *error; /* meaningful only with has_error */
	uint32_t msglen;
};

struct wire_cancel {
	uint64_t grace; /* microseconds */
	int hurry;
};

struct wire_file {
	uint64_t offset;
	int last;
	const char *name;
	uint32_t namelen;
	const char *data;
	uint32_t datalen;
};

/* A decoded frame: its type, its tag (or nonce) and, by type, its body. */
struct wire_msg {
	enum wire_type type;
	uint64_t tag;
	union {
		struct wire_hello hello;
		struct wire_job job;
		struct wire_result result;
		struct wire_cancel cancel;
		struct wire_file file;
	} u;
};

/* The type's name ("HELLO"), or "?" for an unknown one. */
const char *wire_type_name(uint32_t type);

/* Seconds (< 0: none) as wire microseconds, and back (WIRE_NO_TIME: -1). */
uint64_t wire_usec(double seconds);
double wire_seconds(uint64_t usec);

/* Append our greeting: WIRE_PROTO and PACKAGE_VERSION. */
void wire_put_greeting(struct buf *);
/* Decode the greeting at the start of p: bytes consumed (> 0), 0 if more
 * are needed, -1 with a message in err if these bytes are not one. */
ssize_t wire_greeting_decode(const char *p, size_t n, struct wire_greeting *,
			     char *err, size_t errlen);
/* 0 if we can talk to a peer that sent this greeting; else -1 and a
 * one-line message naming host. */
int wire_greeting_check(const char *host, const struct wire_greeting *peer,
			char *err, size_t errlen);

/* Append our kinds (the job language's, space-separated) to b. */
void wire_kinds(struct buf *b);
/* Is s, n bytes, a HELLO's environment: NAME=VALUE entries, each ended by
 * a NUL? */
int wire_env_ok(const char *s, size_t n);
/* 0 if the peer's HELLO knows every kind ours does; else -1 and a
 * one-line message naming host and the kinds it lacks. */
int wire_hello_check(const char *host, const struct wire_hello *ours,
		     const struct wire_hello *peer, char *err, size_t errlen);

struct result;
/* Point w at r's fields for wire_put_result (w borrows r's buffers):
 * exit -1 is WIRE_NO_EXIT, an error of NULL is no has_error. What no
 * local result holds is made to fit, so wire_put_result takes it: the
 * value is cut at CORUN_OUTPUT_CAP (truncated), the stderr tail keeps its
 * last CORUN_STDERR_CAP bytes, the error its first WIRE_ERROR_MAX, an
 * exit, signal or HTTP status out of range becomes none. */
void wire_result_from(struct wire_result *w, const struct result *r);
/* Fill r, just result_init'ed, from a decoded w: the reverse mapping; r
 * owns copies of the bytes. */
void wire_result_to(struct result *r, const struct wire_result *w);

/* Encoders: append one whole frame and return 0, or return -1 and append
 * nothing when a field breaks its rule (a cap, a NUL, a range). */
int wire_put_hello(struct buf *, const struct wire_hello *);
int wire_put_job(struct buf *, uint64_t tag, const struct wire_job *);
void wire_put_started(struct buf *, uint64_t tag);
int wire_put_result(struct buf *, uint64_t tag, const struct wire_result *);
void wire_put_cancel(struct buf *, uint64_t tag, const struct wire_cancel *);
void wire_put_ping(struct buf *, uint64_t nonce);
void wire_put_pong(struct buf *, uint64_t nonce);
int wire_put_file(struct buf *, const struct wire_file *);
void wire_put_bye(struct buf *);

/* Decode the frame at the start of p (after the greeting): bytes consumed
 * (> 0), 0 if more are needed, or -1 with a one-line message in err if the
 * bytes break the protocol. m's strings point into p. */
ssize_t wire_decode(const char *p, size_t n, struct wire_msg *m, char *err,
		    size_t errlen);

#endif
