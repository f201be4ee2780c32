/*
 * plan.c: the plan line of the dry run (corun(1), -n).
 *
 *     ID EXECUTOR KIND [ARG]... [OPTION=VALUE]...
 *
 * Pure: no I/O and no global state; the scheduler prints the line. The line
 * round-trips: drop its first two words and put its trailing option words
 * before the kind, and the job language (corun-jobs(5)) reads back the same
 * job, byte for byte. So that this holds:
 *
 *  - an argument is written bare only when it is made of plain characters
 *    and holds no '=' (so no argument is ever mistaken for an option, the
 *    unquoted KEY=VALUE words at the end of the line);
 *  - otherwise it is single-quoted (a ' as '\''), or, when it holds a
 *    control character, double-quoted with \" \\ \n \t and \xHH, so a plan
 *    line is one line and sends no raw control byte to a terminal (bytes
 *    from 0x80 up are kept as they are, for UTF-8 text);
 *  - a duration is written in seconds, else in ms, m or h, with the fewest
 *    decimals that read back as the same number of seconds (the closest
 *    when none does, which only a duration of more than 15 significant
 *    digits can need), never with an exponent.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kinds.h"
#include "plan.h"

/* Most fraction digits a duration is written with (parse_duration reads
 * no more). */
#define PLAN_MAX_DECIMALS 18

/* True when c is a control character (never written raw in a plan). */
static int
plan_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Append s double-quoted with escapes for \ " and control characters. */
static void
plan_dquote(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)c);
		} else if (c == '\n') {
			buf_adds(b, "\\n");
		} else if (c == '\t') {
			buf_adds(b, "\\t");
		} else if (plan_control(c)) {
			buf_printf(b, "\\x%02x", c);
		} else {
			buf_addc(b, (char)c);
		}
	}
	buf_addc(b, '"');
}

/* Append s as one token that the job language reads back as s. */
void
plan_quote(struct buf *b, const char *s)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    "_-+./:@,%^";

	if (*s != '\0' && strspn(s, plain) == strlen(s)) {
		buf_adds(b, s);
		return;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (plan_control((unsigned char)*p)) {
			plan_dquote(b, s);
			return;
		}
	}
	buf_add_squoted(b, s);
}

/* Write v in unit (seconds per unit) with n decimals into d, trailing
 * zeros dropped, and return how far from v the job language reads it. */
static double
plan_try(struct buf *d, double v, double unit, const char *name, int n)
{
	double back;

	buf_reset(d);
	buf_printf(d, "%.*f", n, v / unit);
	/* With decimals there is a '.': drop the zeros after it, then it. */
	if (n > 0) {
		while (d->data[d->len - 1] == '0')
			d->data[--d->len] = '\0';
		if (d->data[d->len - 1] == '.')
			d->data[--d->len] = '\0';
	}
	buf_adds(d, name);
	if (parse_duration(d->data, &back) < 0)
		return HUGE_VAL;
	return fabs(back - v);
}

/* Append v seconds as a duration of the job language, unit included. */
void
plan_duration(struct buf *b, double v)
{
	static const struct {
		const char *name;
		double unit;
	} units[] = {{"s", 1}, {"ms", 0.001}, {"m", 60}, {"h", 3600}};
	struct buf d = BUF_INIT, best = BUF_INIT;
	double off = HUGE_VAL;

	for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
		for (int n = 0; n <= PLAN_MAX_DECIMALS && off > 0; n++) {
			double o = plan_try(&d, v, units[u].unit, units[u].name,
					    n);
			if (o < off) {
				off = o;
				buf_reset(&best);
				buf_add(&best, d.data, d.len);
			}
		}
	}
	buf_add(b, best.data, best.len);
	buf_free(&d);
	buf_free(&best);
}

/* Append the plan line of a job; see plan.h. */
void
plan_line(struct buf *b, const char *id, const char *executor,
	  const struct job_spec *spec, double timeout)
{
	buf_printf(b, "%s %s %s", id, executor, spec->kind->name);
	for (int i = 0; i < spec->argc; i++) {
		buf_addc(b, ' ');
		plan_quote(b, spec->argv[i]);
	}
	if (timeout >= 0) {
		buf_adds(b, " timeout=");
		plan_duration(b, timeout);
	}
	if (spec->retries >= 0)
		buf_printf(b, " retries=%d", spec->retries);
	if (spec->backoff >= 0) {
		buf_adds(b, " backoff=");
		plan_duration(b, spec->backoff);
		if (spec->backoff_max >= 0) {
			buf_addc(b, ':');
			plan_duration(b, spec->backoff_max);
		}
	}
	for (int i = 0; i < spec->nafter; i++)
		buf_printf(b, "%s%s", i ? "," : " after=", spec->after[i]);
	if (spec->group != NULL)
		buf_printf(b, " group=%s", spec->group);
	if (spec->on >= 0)
		buf_printf(b, " on=%s", executor_name((enum executor)spec->on));
	if (spec->retry_on != NULL)
		buf_printf(b, " retry-on=%s", spec->retry_on);
	if (spec->host_local)
		buf_adds(b, " host=local");
}

/* Read a plan line back as its job line; see plan.h. */
int
plan_read(const char *line, int with_id, struct buf *job, const char **ex,
	  size_t *exlen)
{
	const char *id = line, *e = strchr(id, ' '), *rest;
	size_t end, idlen;

	if (e == NULL || (rest = strchr(e + 1, ' ')) == NULL)
		return -1;
	idlen = (size_t)(e - id);
	*ex = e + 1;
	*exlen = (size_t)(rest - *ex);
	rest++;
	end = strlen(rest);
	if (with_id && strspn(id, "0123456789") < idlen)
		buf_printf(job, "id=%.*s ", (int)idlen, id);
	/* The option words: unquoted KEY=VALUE words at the end (an
	 * argument holding '=' is always quoted). */
	for (;;) {
		size_t sp = end, wlen;
		const char *w;

		while (sp > 0 && rest[sp - 1] != ' ')
			sp--;
		wlen = end - sp;
		w = rest + sp;
		if (sp == 0 || memchr(w, '=', wlen) == NULL ||
		    strcspn(w, "'\"\\") < wlen)
			break;
		end = sp - 1;
	}
	if (rest[end] != '\0') {
		buf_adds(job, rest + end + 1);
		buf_addc(job, ' ');
	}
	buf_add(job, rest, end);
	return 0;
}
