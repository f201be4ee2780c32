/*
 * spec.c: a job_spec (parse.h) in one allocation.
 *
 * A spec is read by the scheduler, the executors and the records long after
 * its line is gone, so it owns every string it points to, all in the same
 * block as the struct: the after[] and argv[] pointer arrays (and command
 * mode's args[]), then the id, the group, the after= list (its commas
 * turned into NULs), the kind word with its arguments, command mode's
 * inputs and tag, and the retry-on= list. One free() releases it. Pure:
 * no I/O, no global state.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "util.h"

/* Set every option of a draft to unset. */
void
spec_draft_init(struct spec_draft *l)
{
	memset(l, 0, sizeof *l);
	l->s.timeout = -1;
	l->s.retries = -1;
	l->s.backoff = -1;
	l->s.backoff_max = -1;
	l->s.on = -1;
}

/* Copy a draft into one allocation; the caller owns the result. */
struct job_spec *
spec_build(const struct spec_draft *l, size_t kseg)
{
	const struct job_spec *t = &l->s;
	size_t idlen = t->id != NULL ? strlen(t->id) + 1 : 0;
	size_t glen = t->group != NULL ? strlen(t->group) + 1 : 0;
	size_t alen = l->after != NULL ? strlen(l->after) + 1 : 0;
	size_t tlen = t->tag != NULL ? strlen(t->tag) + 1 : 0;
	size_t rlen = t->retry_on != NULL ? strlen(t->retry_on) + 1 : 0;
	size_t nptr = (size_t)t->nafter + (size_t)t->argc + 1 +
		      (t->args != NULL ? (size_t)t->nargs : 0);
	size_t vlen = 0;
	struct job_spec *s;

	for (int i = 0; t->args != NULL && i < t->nargs; i++)
		vlen += strlen(t->args[i]) + 1;
	s = xmalloc(sizeof *s + nptr * sizeof(char *) + idlen + glen + alen +
		    kseg + tlen + vlen + rlen);
	char **ptr = (char **)(void *)(s + 1);
	char *str = (char *)(ptr + nptr);

	*s = *t;
	s->after = (const char *const *)ptr;
	if (t->id != NULL) {
		s->id = memcpy(str, t->id, idlen);
		str += idlen;
	}
	if (t->group != NULL) {
		s->group = memcpy(str, t->group, glen);
		str += glen;
	}
	if (l->after != NULL) {
		char *a = memcpy(str, l->after, alen);
		for (int i = 0; i < t->nafter; i++) {
			char *comma = strchr(a, ',');
			ptr[i] = a;
			if (comma != NULL) {
				*comma = '\0';
				a = comma + 1;
			}
		}
		str += alen;
	}
	ptr += t->nafter;
	s->argv = ptr;
	if (t->kindname != NULL) {
		char *a = memcpy(str, t->kindname, kseg);
		s->kindname = a;
		for (int i = 0; i < t->argc; i++) {
			a += strlen(a) + 1;
			ptr[i] = a;
		}
	}
	ptr[t->argc] = NULL;
	ptr += t->argc + 1;
	str += kseg;
	/* Command mode's inputs and tag (parse.h), after everything else. */
	if (t->args != NULL) {
		s->args = (const char *const *)ptr;
		for (int i = 0; i < t->nargs; i++) {
			size_t n = strlen(t->args[i]) + 1;

			ptr[i] = memcpy(str, t->args[i], n);
			str += n;
		}
	}
	if (t->tag != NULL) {
		s->tag = memcpy(str, t->tag, tlen);
		str += tlen;
	}
	if (t->retry_on != NULL)
		s->retry_on = memcpy(str, t->retry_on, rlen);
	return s;
}
