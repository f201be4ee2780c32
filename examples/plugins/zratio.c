/*
 * zratio.c: a corun plugin doing real CPU-bound work with a real library.
 *
 *     call zratio.so ratio FILE
 *
 * compresses FILE with zlib (deflate, default level) and reports how well it
 * compressed: "ratio 3.21 (12345 -> 3845 bytes)", the file's size over the
 * compressed size. The file is streamed through 64 KiB buffers, so memory
 * stays small whatever its size; the compressed bytes are only counted.
 * FILE is opened as given: a relative name is relative to corun's working
 * directory (only LIBRARY is resolved against the job file's directory).
 *
 * No state is kept between calls, so it is safe with on=thread too.
 * Built against include/corun-plugin.h alone, plus zlib:
 *
 *     cc -shared -fPIC -I include -o zratio.so zratio.c -lz
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "corun-plugin.h"

CORUN_PLUGIN_DECLARE;

#define ZRATIO_CHUNK 65536

/* Fail the job with "zratio: FILE: WHY". */
static int
zratio_fail(struct corun_out *out, const char *file, const char *why)
{
	char msg[512];

	snprintf(msg, sizeof msg, "zratio: %s: %s", file, why);
	out->fail(out, msg);
	return -1;
}

/* Fail the job with errno's message. */
static int
zratio_fail_errno(struct corun_out *out, const char *file, int err)
{
	char why[256];

	if (strerror_r(err, why, sizeof why) != 0)
		snprintf(why, sizeof why, "error %d", err);
	return zratio_fail(out, file, why);
}

/* Deflate what zs holds with flush, counting the output in *total;
 * returns deflate's last code. */
static int
zratio_drain(z_stream *zs, unsigned char *obuf, int flush,
	     unsigned long long *total)
{
	int rc;

	do {
		zs->next_out = obuf;
		zs->avail_out = ZRATIO_CHUNK;
		rc = deflate(zs, flush);
		if (rc == Z_STREAM_ERROR)
			return rc;
		*total += ZRATIO_CHUNK - zs->avail_out;
	} while (zs->avail_out == 0);
	return rc;
}

/* ratio FILE: compress FILE and report sizes and ratio. */
int
ratio(const char *arg, size_t len, struct corun_out *out)
{
	unsigned long long in = 0, zout = 0;
	unsigned char *ibuf, *obuf;
	char line[128];
	z_stream zs;
	int fd, rc = 0, n;

	if (len == 0) {
		out->fail(out, "zratio: no file given");
		return -1;
	}
	fd = open(arg, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return zratio_fail_errno(out, arg, errno);
	ibuf = malloc(ZRATIO_CHUNK);
	obuf = malloc(ZRATIO_CHUNK);
	memset(&zs, 0, sizeof zs);
	if (ibuf == NULL || obuf == NULL ||
	    deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(ibuf);
		free(obuf);
		close(fd);
		return zratio_fail(out, arg, "out of memory");
	}
	for (;;) {
		ssize_t r = read(fd, ibuf, ZRATIO_CHUNK);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = zratio_fail_errno(out, arg, errno);
			break;
		}
		zs.next_in = ibuf;
		zs.avail_in = (unsigned)r;
		in += (unsigned long long)r;
		if (zratio_drain(&zs, obuf, r == 0 ? Z_FINISH : Z_NO_FLUSH,
				 &zout) == Z_STREAM_ERROR) {
			rc = zratio_fail(out, arg, "deflate failed");
			break;
		}
		if (r == 0)
			break;
	}
	deflateEnd(&zs);
	free(ibuf);
	free(obuf);
	close(fd);
	if (rc != 0)
		return rc;
	n = snprintf(line, sizeof line, "ratio %.2f (%llu -> %llu bytes)",
		     (double)in / (double)zout, in, zout);
	out->write(out, line, (size_t)n);
	return 0;
}
