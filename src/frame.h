/*
 * frame.h: length-prefixed frames between the loop and the workers.
 *
 * A frame is a fixed header (payload length, type, tag) and a payload. The
 * decoder takes whatever bytes have arrived and says how many make up the
 * next whole frame, so callers handle partial reads and writes by keeping
 * a buffer. Pure: no I/O, unit-tested and fuzzed.
 */
#ifndef CORUN_FRAME_H
#define CORUN_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

#define FRAME_HDR 16                 /* u32 len, u32 type, u64 tag */
#define FRAME_MAX (4u * 1024 * 1024) /* largest payload accepted */

enum frame_type { FRAME_JOB = 1, FRAME_RESULT = 2 };

struct frame {
	uint32_t type;
	uint64_t tag;
	const char *payload; /* points into the decoded bytes */
	uint32_t len;
};

/* Append a whole frame. */
void frame_put(struct buf *, uint32_t type, uint64_t tag, const void *, size_t);
/* Decode the frame at the start of p: bytes consumed (> 0), 0 if more bytes
 * are needed, -1 if the bytes cannot be a frame (bad type or length). */
ssize_t frame_decode(const char *p, size_t n, struct frame *);

/*
 * A job's payload: u32 kind index, u32 argc, then argc NUL-terminated
 * strings back to back, ending exactly at the end of the payload.
 */
struct frame_job {
	uint32_t kind;
	uint32_t argc;
	const char *args; /* the strings, pointing into the payload */
	size_t argslen;
};

/* Append a whole job frame. Returns 0, or -1 (nothing appended) if its
 * payload would exceed FRAME_MAX. */
int frame_put_job(struct buf *, uint64_t tag, int kind, int argc,
		  char *const argv[]);
/* Check and decode a job payload: 0, or -1 if malformed. */
int frame_job_decode(const char *p, size_t n, struct frame_job *);
/* Point argv[0..argc-1] at a decoded job's strings and set argv[argc] to
 * NULL; argv has argc + 1 slots. The strings stay in the payload. */
void frame_job_argv(const struct frame_job *, char **argv);

/*
 * A result's payload: u32 status (0 ok, 1 failed), u32 flags (bit 0:
 * truncated), u32 value length, the value, u32 error length, the error.
 */
struct frame_result {
	int ok;
	int truncated;
	const char *value; /* pointing into the payload when decoded */
	uint32_t vlen;
	const char *error; /* not NUL-terminated; empty when elen is 0 */
	uint32_t elen;
};

/* Append a whole result frame. Returns 0, or -1 (nothing appended) if its
 * payload would exceed FRAME_MAX. */
int frame_put_result(struct buf *, uint64_t tag, const struct frame_result *);
/* Check and decode a result payload: 0, or -1 if malformed. */
int frame_result_decode(const char *p, size_t n, struct frame_result *);

#endif
