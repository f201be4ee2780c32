/*
 * plan.h: the plan line of the dry run (corun(1), -n), as a pure function.
 */
#ifndef CORUN_PLAN_H
#define CORUN_PLAN_H

#include "parse.h"
#include "util.h"

/*
 * Append to b the plan line of a job, without a newline: id, executor, the
 * kind and its arguments quoted in the job language, then the options set
 * on the line, with timeout (the effective one, < 0: none) in place of
 * spec->timeout. Everything after the executor reads back as the job
 * (corun(1) says how): same kind, same argv, same options.
 */
void plan_line(struct buf *b, const char *id, const char *executor,
	       const struct job_spec *spec, double timeout);

/*
 * Read a plan line (NUL-terminated) back as the job line it stands for,
 * as corun(1) says: drop the id and executor words and put the trailing
 * option words before the kind; with with_id, an id that is not all
 * digits becomes an id= option. The job line goes to job; *ex and *exlen
 * give the executor word. 0, or -1 when the line has fewer than three
 * words.
 */
int plan_read(const char *line, int with_id, struct buf *job,
	      const char **ex, size_t *exlen);

/* Append s as one token of the job language, quoted where needed, on one
 * line and without raw control characters. */
void plan_quote(struct buf *b, const char *s);

/* Append a duration that parse_duration reads back as v (v >= 0). */
void plan_duration(struct buf *b, double v);

#endif
