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

/* Append s as one token of the job language, quoted where needed, on one
 * line and without raw control characters. */
void plan_quote(struct buf *b, const char *s);

/* Append a duration that parse_duration reads back as v (v >= 0). */
void plan_duration(struct buf *b, double v);

#endif
