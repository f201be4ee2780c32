/*
 * fuzz_frame.c: libFuzzer harness for the frame decoder.
 *
 * Decodes the input as a stream of frames, as the loop and the workers do,
 * and each payload as a job and as a result. A frame that decodes must
 * re-encode to the same bytes, and a payload that decodes must have its
 * pieces inside it. Built by scripts/fuzz.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so reading past the end is caught. */
	char *p = malloc(size ? size : 1);
	size_t off = 0;

	memcpy(p, data, size);
	while (off < size) {
		struct frame f;
		struct frame_job j;
		struct frame_result r;
		ssize_t n = frame_decode(p + off, size - off, &f);

		if (n <= 0)
			break;
		if ((size_t)n != FRAME_HDR + f.len || f.len > FRAME_MAX)
			abort();
		struct buf b = BUF_INIT;
		frame_put(&b, f.type, f.tag, f.payload, f.len);
		if (b.len != (size_t)n || memcmp(b.data, p + off, b.len) != 0)
			abort();
		buf_free(&b);
		if (frame_job_decode(f.payload, f.len, &j) == 0) {
			char **argv = malloc((j.argc + 1) * sizeof *argv);
			if (j.args < f.payload ||
			    j.args + j.argslen > f.payload + f.len)
				abort();
			frame_job_argv(&j, argv);
			for (uint32_t i = 0; i < j.argc; i++)
				(void)strlen(argv[i]);
			free(argv);
		}
		if (frame_result_decode(f.payload, f.len, &r) == 0) {
			if (r.vlen > f.len || r.elen > f.len)
				abort();
		}
		off += (size_t)n;
	}
	free(p);
	return 0;
}
