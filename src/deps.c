/*
 * deps.c: job ids and the references that name them (after=, cancel).
 *
 * The ids map to sequence numbers for the whole run: a long stream keeps
 * only the explicit ids, never one entry per job. A reference that is a
 * count is a sequence number; anything else is an id. A job's own id is
 * registered before its references are resolved, and "earlier" is checked
 * by number, so a job can never name itself. Loop thread only.
 */
#include "config.h"

#include <stdio.h>

#include "deps.h"
#include "parse.h"

/* Register id for job seq. */
int
deps_register(struct deps *d, const char *id, uint64_t seq)
{
	return strtab_add(&d->ids, id, seq);
}

/* The earlier job that ref names, or 0. */
uint64_t
deps_resolve(const struct deps *d, const char *ref, uint64_t seq)
{
	long long n;
	uint64_t found;

	if (parse_count(ref, &n) == 0)
		return n > 0 && (uint64_t)n < seq ? (uint64_t)n : 0;
	found = strtab_get(&d->ids, ref);
	return found < seq ? found : 0;
}

/* Check every after= reference of a job. */
int
deps_check_after(const struct deps *d, const struct job_spec *spec,
		 uint64_t seq, char *why, size_t whylen)
{
	for (int i = 0; i < spec->nafter; i++) {
		if (deps_resolve(d, spec->after[i], seq) == 0) {
			snprintf(why, whylen,
				 "after: '%s' names no earlier job",
				 spec->after[i]);
			return -1;
		}
	}
	return 0;
}

/* Forget every id. */
void
deps_free(struct deps *d)
{
	strtab_free(&d->ids);
}
