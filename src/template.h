/*
 * template.h: command mode's template (corun(1), COMMAND MODE): a job
 * line of corun-jobs(5) with replacement strings, filled in once per job.
 *
 * Pure: no I/O and no global state, linked with the parser.
 */
#ifndef CORUN_TEMPLATE_H
#define CORUN_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"

/* template_new's flags. TEMPLATE_NO_APPEND: no implied " {}" when the
 * template has no replacement string (--pipe). TEMPLATE_RAW_SH: values go
 * into an sh script as they are, unquoted (--sh: inputs are command
 * lines). */
#define TEMPLATE_NO_APPEND 0x1
#define TEMPLATE_RAW_SH 0x2

struct template;

/*
 * Compile a template (text as given to -c) and the --tagstring (NULL:
 * none). NULL with a message in err when it cannot make jobs: a quote not
 * closed, a NUL byte, an option that is wrong whatever fills it. The
 * caller owns the result (template_free).
 */
struct template *template_new(const char *text, const char *tagstring,
			      int flags, char *err, size_t errlen);
void template_free(struct template *);
/* Does the template (or its tag string) use {%}, the job slot? */
int template_uses_slot(const struct template *);

/*
 * The job of one set of values (nvalues strings: an input, or its
 * columns, or several inputs), with sequence number seq and job slot
 * slot (0: not known yet, {%} is left as written). Returns PARSE_JOB with
 * the job in *out, its args the values and its tag the expanded tag
 * string (or the values joined by blanks), or PARSE_ERROR with a message
 * and *out NULL or partial, as parser_feed. *out is the caller's.
 */
enum parse_rc template_expand(const struct template *,
			      const char *const *values, int nvalues,
			      uint64_t seq, unsigned slot,
			      struct job_spec **out, char *err, size_t errlen);

/* Append s to b quoted for sh: as it is when only plain characters, else
 * in single quotes ('\'' for a quote). */
void template_shquote(struct buf *b, const char *s);

#endif
