/*
 * basefile.h: a basefile arriving in FILE frames (wire.h) at a remote
 * worker, written beside its name and renamed over it at the last chunk.
 */
#ifndef CORUN_BASEFILE_H
#define CORUN_BASEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct wire_file;

/* The file being received; fd -1 when none. Start it with BASEFILE_INIT. */
struct basefile {
	int fd;
	char *name, *tmp; /* the name, and the temporary file beside it */
	uint64_t off;	  /* bytes written */
	mode_t umask;	  /* the process's, for the file's mode */
};

#define BASEFILE_INIT                                                          \
	{                                                                      \
		-1, NULL, NULL, 0, 022                                         \
	}

/* Write one chunk (in order: the first at offset 0, each where the last
 * ended, all of one name; the last renames the file over its name): 0,
 * or -1 with a message in err. */
int basefile_chunk(struct basefile *, const struct wire_file *, char *err,
		   size_t errlen);
/* Drop a file left half-received (its temporary file is removed). */
void basefile_abort(struct basefile *);

#endif
