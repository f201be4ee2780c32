/*
 * parse.c: the job language (corun-jobs(5)): values, options, kinds, and
 * the parser that feeds lines to the tokenizer.
 *
 * Pure: no I/O and no global state, so it can be unit-tested and fuzzed. The
 * caller feeds physical lines; each is cut into tokens at once by lex.c,
 * because a token never spans two physical lines. The tokens of the logical
 * line so far sit NUL-terminated, one after the other, in the parser's
 * buffer. When the logical line is complete, its leading KEY=VALUE options
 * and their values (durations, counts, backoff, ids) are checked here, then
 * the kind, the on= executor, the arity and the kind's own check, and spec.c
 * copies the job into one allocation that the caller owns.
 *
 * Invariants: no line is read at line[len] or beyond. A logical line
 * holding a NUL byte (ntok < 0) or longer than PARSE_MAX_LINE bytes
 * (len > PARSE_MAX_LINE) is poisoned: its tokens are dropped and the rest of
 * it is only scanned to find where it ends, so memory stays bounded and the
 * next job starts at the right line. The first of the two errors wins.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "lex.h"
#include "parse.h"
#include "retry.h"
#include "spec.h"

/* Most retries= accepts. */
#define PARSE_MAX_RETRIES 1000000
/* A token buffer bigger than this is released after its line, not kept. */
#define PARSE_KEEP_BUF (64 * 1024)

enum parse_opt {
	OPT_ID,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_BACKOFF,
	OPT_AFTER,
	OPT_GROUP,
	OPT_ON,
	OPT_RETRY_ON,
	OPT_HOST,
	OPT_COUNT
};

static const char *const parse_opt_names[OPT_COUNT] = {
    "id", "timeout", "retries", "backoff", "after", "group", "on", "retry-on",
    "host",
};

/* True for an ASCII decimal digit. */
static int
parse_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* True when n bytes are all digits (and there is at least one). */
static int
parse_all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!parse_digit(s[i]))
			return 0;
	return 1;
}

/* True when n bytes (at least one) are all in [A-Za-z0-9_.:-]. */
static int
parse_name_chars(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!(parse_digit(c) || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
		      c == ':' || c == '-'))
			return 0;
	}
	return 1;
}

/* A group= value: one name, or up to PARSE_MAX_GROUPS of them separated
 * by commas, none twice: 0, or -1 with a message. */
static int
parse_group_list(const char *v, char *err, size_t errlen)
{
	const char *names[PARSE_MAX_GROUPS];
	size_t lens[PARSE_MAX_GROUPS];
	int n = 0;

	for (const char *p = v;; p++) {
		size_t len = strcspn(p, ",");

		if (len > PARSE_MAX_ID || !parse_name_chars(p, len)) {
			errfmt(err, errlen, "bad group '%s'", v);
			return -1;
		}
		if (n == PARSE_MAX_GROUPS) {
			errfmt(err, errlen, "more than %d groups in '%s'",
			       PARSE_MAX_GROUPS, v);
			return -1;
		}
		for (int i = 0; i < n; i++)
			if (lens[i] == len && memcmp(names[i], p, len) == 0) {
				errfmt(err, errlen, "group '%.*s' named twice",
				       (int)len, p);
				return -1;
			}
		names[n] = p;
		lens[n++] = len;
		p += len;
		if (*p == '\0')
			return 0;
	}
}

/* An id= value: the id charset, not all digits, at most PARSE_MAX_ID. */
static int
parse_id_ok(const char *s, size_t n)
{
	return n <= PARSE_MAX_ID && parse_name_chars(s, n) &&
	       !parse_all_digits(s, n);
}

/* Decimal digits that fit in long long, as n bytes: 0 or -1. */
static int
parse_count_n(const char *s, size_t n, long long *out)
{
	long long v = 0;

	if (!parse_all_digits(s, n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		int d = s[i] - '0';
		if (v > (LLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* A duration as n bytes (no sign, no exponent) into seconds: 0 or -1. */
static int
parse_duration_n(const char *s, size_t n, double *out)
{
	double mant = 0, scale = 1, v;
	size_t i = 0;
	int digits = 0;

	for (; i < n && parse_digit(s[i]); i++, digits++)
		mant = mant * 10 + (s[i] - '0');
	if (i < n && s[i] == '.') {
		/* Past 18 fraction digits nothing more is significant. */
		for (i++; i < n && parse_digit(s[i]); i++, digits++) {
			if (scale < 1e18) {
				mant = mant * 10 + (s[i] - '0');
				scale *= 10;
			}
		}
	}
	if (digits == 0)
		return -1;
	if (i == n || (n - i == 1 && s[i] == 's'))
		v = mant / scale;
	else if (n - i == 2 && s[i] == 'm' && s[i + 1] == 's')
		v = mant / (scale * 1000);
	else if (n - i == 1 && s[i] == 'm')
		v = mant / scale * 60;
	else if (n - i == 1 && s[i] == 'h')
		v = mant / scale * 3600;
	else
		return -1;
	if (!isfinite(v) || v > PARSE_MAX_DURATION)
		return -1;
	*out = v;
	return 0;
}

/* Parse a duration string into seconds. */
int
parse_duration(const char *s, double *out)
{
	return parse_duration_n(s, strlen(s), out);
}

/* Parse "DUR" or "DUR:MAX" (MAX >= DUR); *max is left alone without MAX. */
int
parse_backoff(const char *s, double *base, double *max)
{
	const char *colon = strchr(s, ':');
	double b, m;

	if (colon == NULL)
		return parse_duration(s, base);
	if (parse_duration_n(s, (size_t)(colon - s), &b) < 0 ||
	    parse_duration(colon + 1, &m) < 0 || m < b)
		return -1;
	*base = b;
	*max = m;
	return 0;
}

/* Parse a non-negative decimal count. */
int
parse_count(const char *s, long long *out)
{
	return parse_count_n(s, strlen(s), out);
}

/* Check a string against the id syntax of corun-jobs(5). */
int
parse_id_valid(const char *s)
{
	size_t n = strlen(s);

	return parse_name_chars(s, n) && !parse_all_digits(s, n);
}

/* Check an after= list; return its number of entries, or -1. */
static int
parse_after_count(const char *s)
{
	int count = 0;

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
		long long seq;

		if (parse_all_digits(s, n)) {
			if (parse_count_n(s, n, &seq) < 0 || seq == 0)
				return -1;
		} else if (!parse_id_ok(s, n)) {
			return -1;
		}
		count++;
		if (comma == NULL)
			return count;
		s = comma + 1;
	}
}

/* A job of kind k with these arguments and no options, in one allocation
 * like every spec (for jobs made by a program, not read from a line). The
 * caller owns the result. */
struct job_spec *
parse_spec_new(const struct kind *k, int argc, char *const argv[])
{
	struct spec_draft l;
	struct buf kseg = BUF_INIT;
	struct job_spec *n;

	spec_draft_init(&l);
	buf_add(&kseg, k->name, strlen(k->name) + 1);
	for (int i = 0; i < argc; i++)
		buf_add(&kseg, argv[i], strlen(argv[i]) + 1);
	l.s.kind = k;
	l.s.kindname = kseg.data;
	l.s.argc = argc;
	n = spec_build(&l, kseg.len);
	buf_free(&kseg);
	return n;
}

/* A copy of spec with argument i replaced by value, in one allocation like
 * every spec; spec is freed. The caller owns the result. */
struct job_spec *
parse_spec_set_arg(struct job_spec *spec, int i, const char *value)
{
	struct spec_draft l;
	struct buf after = BUF_INIT, kseg = BUF_INIT;
	struct job_spec *n;

	l.s = *spec;
	l.after = NULL;
	for (int k = 0; k < spec->nafter; k++) {
		if (k > 0)
			buf_addc(&after, ',');
		buf_adds(&after, spec->after[k]);
	}
	if (spec->nafter > 0)
		l.after = after.data;
	buf_add(&kseg, spec->kindname, strlen(spec->kindname) + 1);
	for (int k = 0; k < spec->argc; k++) {
		const char *a = k == i ? value : spec->argv[k];
		buf_add(&kseg, a, strlen(a) + 1);
	}
	l.s.kindname = kseg.data;
	n = spec_build(&l, kseg.len);
	buf_free(&after);
	buf_free(&kseg);
	free(spec);
	return n;
}

/*
 * The spec of a bad line: kind word and id when the tokens show them, else
 * NULL. The caller owns the result.
 */
static struct job_spec *
parse_error_spec(const char *tok, int ntok)
{
	struct spec_draft l;

	spec_draft_init(&l);
	for (int i = 0; i < ntok; i++, tok = lex_next(tok)) {
		const char *eq = strchr(tok, '=');
		if (eq == NULL) {
			l.s.kindname = tok;
			break;
		}
		if (l.s.id == NULL && eq - tok == 2 &&
		    memcmp(tok, "id", 2) == 0 &&
		    parse_id_ok(eq + 1, strlen(eq + 1)))
			l.s.id = eq + 1;
	}
	if (l.s.kindname == NULL && l.s.id == NULL)
		return NULL;
	return spec_build(&l,
			   l.s.kindname != NULL ? strlen(l.s.kindname) + 1 : 0);
}

/* Check one KEY=VALUE token (eq at its '=') and record it: 0 or -1. */
static int
parse_option(struct spec_draft *l, unsigned *seen, const char *tok,
	     const char *eq, char *err, size_t errlen)
{
	size_t klen = (size_t)(eq - tok);
	const char *v = eq + 1;
	long long n;
	int o, e;

	for (o = 0; o < OPT_COUNT; o++)
		if (strlen(parse_opt_names[o]) == klen &&
		    memcmp(parse_opt_names[o], tok, klen) == 0)
			break;
	if (o == OPT_COUNT) {
		errfmt(err, errlen, "unknown option '%.*s'", (int)klen, tok);
		return -1;
	}
	if (*seen & (1u << o)) {
		errfmt(err, errlen, "option '%s' given twice",
		       parse_opt_names[o]);
		return -1;
	}
	*seen |= 1u << o;
	switch (o) {
	case OPT_ID:
		if (!parse_id_ok(v, strlen(v))) {
			errfmt(err, errlen, "bad id '%s'", v);
			return -1;
		}
		l->s.id = v;
		return 0;
	case OPT_TIMEOUT:
		if (parse_duration(v, &l->s.timeout) < 0) {
			errfmt(err, errlen, "bad duration '%s'", v);
			return -1;
		}
		return 0;
	case OPT_RETRIES:
		if (parse_count(v, &n) < 0 || n > PARSE_MAX_RETRIES) {
			errfmt(err, errlen, "bad count '%s'", v);
			return -1;
		}
		l->s.retries = (int)n;
		return 0;
	case OPT_BACKOFF:
		if (parse_backoff(v, &l->s.backoff, &l->s.backoff_max) < 0) {
			errfmt(err, errlen, "bad backoff '%s'", v);
			return -1;
		}
		return 0;
	case OPT_AFTER:
		l->s.nafter = parse_after_count(v);
		if (l->s.nafter < 0) {
			errfmt(err, errlen, "bad after list '%s'", v);
			return -1;
		}
		l->after = v;
		return 0;
	case OPT_GROUP:
		if (parse_group_list(v, err, errlen) == -1)
			return -1;
		l->s.group = v;
		return 0;
	case OPT_RETRY_ON:
		if (retry_check(v, err, errlen) < 0)
			return -1;
		l->s.retry_on = v;
		return 0;
	case OPT_HOST:
		if (strcmp(v, "local") != 0) {
			errfmt(err, errlen, "bad host '%s': host= takes local",
			       v);
			return -1;
		}
		l->s.host_local = 1;
		return 0;
	default:
		e = executor_parse(v);
		if (e < 0) {
			errfmt(err, errlen, "bad executor '%s'", v);
			return -1;
		}
		l->s.on = e;
		return 0;
	}
}

/* Check that the kind may run on the on= executor: 0 or -1. */
static int
parse_on(const struct kind *k, int on, char *err, size_t errlen)
{
	char list[64] = "";
	size_t n = 0;

	if (on < 0 || (k->executors & (1u << on)))
		return 0;
	for (int e = 0; e < EX_COUNT; e++) {
		if (!(k->executors & (1u << e)))
			continue;
		int w = snprintf(list + n, sizeof list - n, "%s%s",
				 n > 0 ? " or " : "", executor_name(e));
		if (w < 0 || (size_t)w >= sizeof list - n)
			break;
		n += (size_t)w;
	}
	errfmt(err, errlen, "on=%s: kind '%s' runs only on %s",
	       executor_name(on), k->name, list);
	return -1;
}

/* Check the number of arguments against the kind: 0 or -1. */
static int
parse_arity(const struct kind *k, int argc, char *err, size_t errlen)
{
	int lo = k->min_args, hi = k->max_args;

	if (argc >= lo && (hi < 0 || argc <= hi))
		return 0;
	if (hi < 0)
		errfmt(err, errlen, "%s: expected at least %d argument%s",
		       k->name, lo, lo == 1 ? "" : "s");
	else if (lo == hi)
		errfmt(err, errlen, "%s: expected %d argument%s", k->name, lo,
		       lo == 1 ? "" : "s");
	else if (lo == 0)
		errfmt(err, errlen, "%s: expected at most %d argument%s",
		       k->name, hi, hi == 1 ? "" : "s");
	else
		errfmt(err, errlen, "%s: expected %d to %d arguments", k->name,
		       lo, hi);
	return -1;
}

/*
 * Turn the ntok tokens of a complete logical line (toklen bytes) into a
 * job. On PARSE_JOB and PARSE_ERROR, *out (possibly NULL on error) belongs
 * to the caller.
 */
static enum parse_rc
parse_tokens(const char *toks, size_t toklen, int ntok,
	     const struct job_spec *extra, struct job_spec **out, char *err,
	     size_t errlen)
{
	struct spec_draft l;
	struct job_spec *s;
	const char *tok = toks;
	unsigned seen = 0;
	int i;

	spec_draft_init(&l);
	for (i = 0; i < ntok; i++, tok = lex_next(tok)) {
		const char *eq = strchr(tok, '=');
		if (eq == NULL)
			break;
		if (parse_option(&l, &seen, tok, eq, err, errlen) < 0)
			goto fail;
	}
	if (i == ntok) {
		errfmt(err, errlen, "missing kind");
		goto fail;
	}
	l.s.kindname = tok;
	l.s.argc = ntok - i - 1;
	l.s.kind = kind_find(tok);
	if (l.s.kind == NULL) {
		errfmt(err, errlen, "unknown kind '%s'", tok);
		goto fail;
	}
	if (parse_on(l.s.kind, l.s.on, err, errlen) < 0 ||
	    parse_arity(l.s.kind, l.s.argc, err, errlen) < 0)
		goto fail;
	if (extra != NULL) {
		l.s.args = extra->args;
		l.s.nargs = extra->nargs;
		l.s.tag = extra->tag;
	}
	s = spec_build(&l, toklen - (size_t)(tok - toks));
	if (l.s.kind->check != NULL &&
	    l.s.kind->check(s->argc, s->argv, err, errlen) != 0) {
		free(s);
		goto fail;
	}
	*out = s;
	return PARSE_JOB;
fail:
	*out = parse_error_spec(toks, ntok);
	return PARSE_ERROR;
}

/* Forget the logical line, ready for the next one. */
static void
parse_reset(struct parser *p)
{
	if (p->toks.cap > PARSE_KEEP_BUF)
		buf_free(&p->toks);
	else
		buf_reset(&p->toks);
	p->ntok = 0;
	p->cont = 0;
	p->len = 0;
}

/* Finish the logical line in the parser and reset it. */
static enum parse_rc
parse_end(struct parser *p, struct job_spec **out, char *err, size_t errlen)
{
	enum parse_rc rc = PARSE_ERROR;

	if (p->ntok < 0)
		errfmt(err, errlen, "NUL byte in line");
	else if (p->len > PARSE_MAX_LINE)
		errfmt(err, errlen, "line too long");
	else if (p->ntok == 0)
		rc = PARSE_NONE;
	else
		rc = parse_tokens(p->toks.data, p->toks.len, p->ntok, NULL, out,
				  err, errlen);
	parse_reset(p);
	return rc;
}

/* Start with no pending line. */
void
parser_init(struct parser *p)
{
	struct buf empty = BUF_INIT;

	p->toks = empty;
	p->ntok = 0;
	p->cont = 0;
	p->len = 0;
}

/* Release the parser's buffer (a pending line is dropped). */
void
parser_free(struct parser *p)
{
	buf_free(&p->toks);
	parser_init(p);
}

/* Whether a continued line awaits its next physical line. */
int
parser_pending(const struct parser *p)
{
	return p->cont;
}

/* Take one physical line; see parse.h for what comes back. */
enum parse_rc
parser_feed(struct parser *p, const char *line, size_t len,
	    struct job_spec **out, char *err, size_t errlen)
{
	int store = p->ntok >= 0 && p->len <= PARSE_MAX_LINE;
	enum lex_end sc;

	*out = NULL;
	/* The continuation backslash counts as the joining blank. */
	if (p->len > PARSE_MAX_LINE || len > PARSE_MAX_LINE - p->len)
		p->len = PARSE_MAX_LINE + 1;
	else
		p->len += len;
	if (store && p->len > PARSE_MAX_LINE) {
		p->ntok = 0;
		buf_free(&p->toks);
		store = 0;
	} else if (store && memchr(line, '\0', len) != NULL) {
		p->ntok = -1;
		buf_free(&p->toks);
		store = 0;
	}
	sc = lex_scan(line, len, store ? &p->toks : NULL,
			store ? &p->ntok : NULL);
	if (sc == LEX_CONT) {
		p->cont = 1;
		return PARSE_MORE;
	}
	if (sc == LEX_QUOTE && store) {
		errfmt(err, errlen, "unterminated quote");
		*out = parse_error_spec(p->toks.data, p->ntok);
		parse_reset(p);
		return PARSE_ERROR;
	}
	return parse_end(p, out, err, errlen);
}

/* End of input: finish a pending continued line, if any. */
enum parse_rc
parser_finish(struct parser *p, struct job_spec **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!p->cont)
		return PARSE_NONE;
	return parse_end(p, out, err, errlen);
}

/* Parse one NUL-terminated line on its own; *out belongs to the caller. */
enum parse_rc
parse_line(const char *line, struct job_spec **out, char *err, size_t errlen)
{
	struct parser p;
	enum parse_rc rc;

	parser_init(&p);
	rc = parser_feed(&p, line, strlen(line), out, err, errlen);
	if (rc == PARSE_MORE)
		rc = parser_finish(&p, out, err, errlen);
	parser_free(&p);
	return rc;
}

/* Parse a logical line already cut into tokens, with extra's command-mode
 * fields copied in; *out belongs to the caller. */
enum parse_rc
parse_tokens_extra(const char *toks, size_t toklen, int ntok,
		   const struct job_spec *extra, struct job_spec **out,
		   char *err, size_t errlen)
{
	*out = NULL;
	if (ntok == 0) {
		errfmt(err, errlen, "missing kind");
		return PARSE_ERROR;
	}
	if (toklen > PARSE_MAX_LINE) {
		errfmt(err, errlen, "line too long");
		return PARSE_ERROR;
	}
	return parse_tokens(toks, toklen, ntok, extra, out, err, errlen);
}

/* Check one KEY=VALUE token on its own: 0, or -1 and a message. */
int
parse_option_check(const char *tok, char *err, size_t errlen)
{
	struct spec_draft l;
	const char *eq = strchr(tok, '=');
	unsigned seen = 0;

	spec_draft_init(&l);
	if (eq == NULL) {
		errfmt(err, errlen, "'%s' is not an option", tok);
		return -1;
	}
	return parse_option(&l, &seen, tok, eq, err, errlen);
}
