/*
 * basefile.c: a basefile arriving at a remote worker (corun --serve) in
 * FILE chunks; see basefile.h.
 *
 * The chunks go to a temporary file in the same directory as the name
 * (NAME.corunXXXXXX), renamed over the name at the last chunk: the rename
 * is atomic, a job never sees half a file, and a "remote" host that is
 * this very machine (the tests' local hosts) never truncates the source
 * the parent is still reading. The file gets the mode a new file gets
 * (0666 less the umask). A relative name is taken from the working
 * directory (the HELLO's workdir). Writes to a regular file are not
 * waited for on the loop.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basefile.h"
#include "util.h"
#include "wire.h"

/* Start receiving name: its temporary file. */
static int
basefile_open(struct basefile *b, const char *name, char *err, size_t errlen)
{
	b->tmp = xmalloc(strlen(name) + sizeof ".corunXXXXXX");
	sprintf(b->tmp, "%s.corunXXXXXX", name);
	if ((b->fd = mkstemp(b->tmp)) == -1) {
		errfmt(err, errlen, "FILE %s: %s", name, strerror(errno));
		free(b->tmp);
		b->tmp = NULL;
		return -1;
	}
	fd_cloexec(b->fd);
	b->name = xstrdup(name);
	b->off = 0;
	return 0;
}

/* Write one chunk; see basefile.h. */
int
basefile_chunk(struct basefile *b, const struct wire_file *f, char *err,
	       size_t errlen)
{
	char *name = xstrndup(f->name, f->namelen);
	int rc = -1;

	if (b->fd == -1 && f->offset != 0) {
		errfmt(err, errlen, "FILE %s: first chunk at offset %llu", name,
		       (unsigned long long)f->offset);
		goto out;
	}
	if (b->fd == -1 && basefile_open(b, name, err, errlen) == -1)
		goto out;
	if (strcmp(name, b->name) != 0 || f->offset != b->off) {
		errfmt(err, errlen,
		       "FILE %s: chunk at %llu, expected %s at %llu", name,
		       (unsigned long long)f->offset, b->name,
		       (unsigned long long)b->off);
		goto out;
	}
	if (write_all(b->fd, f->data, f->datalen) == -1) {
		errfmt(err, errlen, "FILE %s: %s", name, strerror(errno));
		goto out;
	}
	b->off += f->datalen;
	if (f->last) {
		int bad = fchmod(b->fd, 0666 & ~b->umask) == -1;

		bad |= close(b->fd) == -1;
		b->fd = -1;
		if (bad || rename(b->tmp, b->name) == -1) {
			errfmt(err, errlen, "FILE %s: %s", name,
			       strerror(errno));
			unlink(b->tmp);
			goto out;
		}
		basefile_abort(b);
	}
	rc = 0;
out:
	free(name);
	return rc;
}

/* Drop a file left half-received. */
void
basefile_abort(struct basefile *b)
{
	if (b->fd != -1) {
		close(b->fd);
		unlink(b->tmp);
		b->fd = -1;
	}
	free(b->tmp);
	free(b->name);
	b->tmp = b->name = NULL;
}
