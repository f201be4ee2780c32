/*
 * spec.h: building a job_spec (parse.h) in one allocation, private to the
 * parser.
 */
#ifndef CORUN_SPEC_H
#define CORUN_SPEC_H

#include <stddef.h>

#include "parse.h"

/* A logical line's values while they still point into the token buffer. */
struct spec_draft {
	struct job_spec s; /* after and argv not set yet */
	const char *after; /* after= as written, or NULL */
};

/* Set every option of a draft to unset and its strings to NULL. */
void spec_draft_init(struct spec_draft *);

/*
 * Copy a draft into one allocation holding the struct, the after[] and
 * argv[] arrays and every string; kseg is the byte count of the kind word
 * and its arguments (NUL-terminated, back to back, from s.kindname). The
 * caller owns the result and frees it with free().
 */
struct job_spec *spec_build(const struct spec_draft *, size_t kseg);

#endif
