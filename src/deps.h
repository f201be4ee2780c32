/*
 * deps.h: job ids and the references that name them (after=, cancel).
 *
 * A job is named by its id= or by its sequence number (1-based, across
 * all inputs). A reference names an earlier job only: an id registered by
 * a job before it, or a smaller sequence number. The scheduler and the
 * check pass over job files (input.c) both resolve references here, so
 * they agree on what a line may name. Loop thread only.
 */
#ifndef CORUN_DEPS_H
#define CORUN_DEPS_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"

struct job_spec;

/* The ids seen so far, each with its job's sequence number. */
struct deps {
	struct strtab ids;
};

/* Register id as the name of job seq: 0, or -1 when an earlier job has
 * it (it is not registered then). */
int deps_register(struct deps *, const char *id, uint64_t seq);
/* The sequence number that ref names among the jobs before seq, or 0. */
uint64_t deps_resolve(const struct deps *, const char *ref, uint64_t seq);
/* Check spec's after= references for job seq: 0, or -1 with "after: 'REF'
 * names no earlier job" in why. */
int deps_check_after(const struct deps *, const struct job_spec *, uint64_t seq,
		     char *why, size_t whylen);
/* Forget every id. */
void deps_free(struct deps *);

#endif
