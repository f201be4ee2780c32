/*
 * parse.h: the job language (corun-jobs(5)), as a pure module.
 *
 * No I/O and no global state: the caller feeds physical lines (without their
 * newline) and gets back parsed jobs or error messages, so the module can be
 * unit-tested and fuzzed. A logical line may span several physical lines
 * through backslash continuations; the parser keeps the tokens so far.
 */
#ifndef CORUN_PARSE_H
#define CORUN_PARSE_H

#include <stddef.h>

#include "util.h"

struct kind;

/* Longest logical line accepted, in bytes; a longer one is an error. */
#define PARSE_MAX_LINE (1024 * 1024)
/* Longest id accepted. */
#define PARSE_MAX_ID 256
/* Most groups in one group= list. */
#define PARSE_MAX_GROUPS 16
/* Longest duration accepted, in seconds (corun-jobs(5), Durations): about
 * 31 years, far from where a time_t or a timer could overflow. */
#define PARSE_MAX_DURATION 1e9

/*
 * A parsed job line. One allocation holds the struct and every string it
 * points to: free() it whole. Unset options are negative or NULL.
 */
struct job_spec {
	const struct kind *kind; /* NULL in an error spec */
	const char *kindname;    /* the kind word as written, or NULL */
	const char *id;          /* id=, or NULL */
	double timeout;          /* timeout= in seconds; < 0: unset */
	int retries;             /* retries=; < 0: unset */
	double backoff;          /* backoff= base; < 0: unset */
	double backoff_max;      /* backoff= max; < 0: unset */
	const char *const *after; /* after= ids, nafter of them */
	int nafter;
	const char *group;       /* group=, or NULL */
	int on;                  /* on= as enum executor; -1: unset */
	int argc;                /* arguments after the kind */
	char *const *argv;       /* argc entries, then NULL */
	/* Command mode (corun -c): the inputs that filled the template,
	 * nargs of them, and the text --tag puts before each output line
	 * (NULL: the id). NULL and 0 for a job line. */
	const char *const *args;
	int nargs;
	const char *tag;
	/* retry-on= (retry.h): which failures are retried, as written;
	 * NULL: unset. */
	const char *retry_on;
	int host_local;          /* host=local: never on a remote host */
};

enum parse_rc {
	PARSE_NONE,  /* blank or comment line: nothing to do */
	PARSE_MORE,  /* line continues: feed the next one */
	PARSE_JOB,   /* *out holds a job; the caller owns it */
	PARSE_ERROR, /* err holds a message; *out may hold a partial spec
	              * (kindname and id, when they parsed) that the caller
	              * owns, or NULL */
};

struct parser {
	struct buf toks; /* NUL-terminated tokens of the logical line so far */
	int ntok;
	int cont;        /* inside a continued logical line */
	size_t len;      /* bytes of the logical line so far */
};

void parser_init(struct parser *);
void parser_free(struct parser *);
/* True while a continued line awaits its next physical line. */
int parser_pending(const struct parser *);

/*
 * Feed one physical line of len bytes (no newline; may hold NUL bytes,
 * which are an error). On PARSE_JOB and PARSE_ERROR the logical line is
 * complete and the parser is ready for the next one.
 */
enum parse_rc parser_feed(struct parser *, const char *line, size_t len,
			  struct job_spec **out, char *err, size_t errlen);

/* End of input: a pending continuation is finished as if the backslash
 * were absent. Returns PARSE_NONE, PARSE_JOB or PARSE_ERROR as above. */
enum parse_rc parser_finish(struct parser *, struct job_spec **out, char *err,
			    size_t errlen);

/* Parse a whole single line (convenience for tests and the dry run). */
enum parse_rc parse_line(const char *line, struct job_spec **out, char *err,
			 size_t errlen);

/* A logical line already cut into ntok tokens (NUL-terminated, back to
 * back, toklen bytes; command mode's template, lex.h), parsed as
 * parser_feed would, with the args, nargs and tag of extra (or none:
 * NULL) copied into the spec. *out is the caller's, as parser_feed's. */
enum parse_rc parse_tokens_extra(const char *toks, size_t toklen, int ntok,
				 const struct job_spec *extra,
				 struct job_spec **out, char *err,
				 size_t errlen);
/* Check one KEY=VALUE option token on its own: 0, or -1 and a message. */
int parse_option_check(const char *tok, char *err, size_t errlen);

/* A job of a kind with arguments and no options (made by a program). */
struct job_spec *parse_spec_new(const struct kind *, int argc,
				char *const argv[]);
/* A copy of a parsed job with argument i replaced (spec is freed). */
struct job_spec *parse_spec_set_arg(struct job_spec *spec, int i,
				    const char *value);

/* "250ms", "1.5", "1.5s", "2m", "1h" -> seconds. 0 or -1. */
int parse_duration(const char *, double *);
/* "DUR" or "DUR:MAX" -> base and max (max stays untouched when absent).
 * 0 or -1. */
int parse_backoff(const char *, double *base, double *max);
/* A non-negative decimal integer that fits in long long. 0 or -1. */
int parse_count(const char *, long long *);
/* An id as corun-jobs(5) allows: [A-Za-z0-9_.:-]+, not all digits. */
int parse_id_valid(const char *);

#endif
