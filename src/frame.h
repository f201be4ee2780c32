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

#endif
