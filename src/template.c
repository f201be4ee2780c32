/*
 * template.c: command mode's template (corun(1), COMMAND MODE).
 *
 * A template is a job line of corun-jobs(5) whose tokens may hold GNU
 * parallel's replacement strings: {} {.} {/} {//} {/.} (every value, or a
 * transformation of each), {N} {N.} {N/} {N//} {N/.} (the Nth value),
 * {#} (the sequence number) and {%} (the job slot). template_new cuts the
 * template into tokens once (lex.c, so quoting is the job language's),
 * and each token into pieces: literal bytes and replacement strings.
 * template_expand puts values in and hands the tokens to the parser
 * (parse_tokens_extra), so a filled template is checked exactly as a job
 * line is.
 *
 * How a value lands depends on where its replacement string is:
 *
 *  - in an argument of a kind that is not a shell kind, each value is an
 *    argument of its own: never re-split, never globbed. Several values
 *    ({} with --max-args, several sources or --colsep) make several
 *    arguments; text around the replacement string sticks to the first
 *    and the last, as the words of parallel's command line do;
 *  - in the script of a shell kind (sh), each value is shell-quoted
 *    (template_shquote) and several are joined by blanks, so a script
 *    like "gzip -c {} > {}.gz" is safe whatever the file's name; with
 *    TEMPLATE_RAW_SH (--sh) values are the script's own text;
 *  - in an option (timeout={1}) or the tag string, values are joined by
 *    blanks as they are.
 *
 * {N} past the last value is nothing (not even an empty argument, when it
 * is a whole argument), as in parallel.
 *
 * When the first word that is not an option is not a kind (or holds a
 * replacement string), "exec" is put before it. A template without any
 * replacement string gets " {}": a new last argument, or, for a shell
 * kind, the end of its script (unless TEMPLATE_NO_APPEND).
 *
 * Pure: no I/O and no global state.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "lex.h"
#include "template.h"

enum piece_type { P_TEXT, P_ALL, P_NTH, P_SEQ, P_SLOT };
/* What a replacement string does to a value. */
enum xform { X_NONE, X_NOEXT, X_BASE, X_DIR, X_BASENOEXT };
/* Where a token is: how its values are joined and quoted. */
enum ctx { C_RAW, C_ARG, C_SCRIPT };

struct piece {
	enum piece_type type;
	enum xform x;
	int n;	    /* P_NTH: 1-based value number */
	size_t off; /* P_TEXT: its bytes in text */
	size_t len;
};

struct tok {
	size_t first; /* its pieces: p[first .. first + n) */
	size_t n;
	enum ctx ctx;
};

struct template {
	struct buf text; /* the literal bytes of every piece */
	struct piece *p;
	size_t np;
	size_t tokfirst; /* the first piece of the token being cut */
	struct tok *t;	 /* the tokens of the job line */
	int nt;
	struct tok tag; /* --tagstring's pieces */
	int has_tag;
	int uses_slot;
	int raw_sh;
};

/* Add a piece to the template. */
static void
template_piece(struct template *tp, enum piece_type type, enum xform x, int n,
	       const char *s, size_t len)
{
	struct piece *pc;

	/* Literal text next to literal text of its token: one piece. */
	if (type == P_TEXT && tp->np > tp->tokfirst &&
	    tp->p[tp->np - 1].type == P_TEXT &&
	    tp->p[tp->np - 1].off + tp->p[tp->np - 1].len == tp->text.len) {
		buf_add(&tp->text, s, len);
		tp->p[tp->np - 1].len += len;
		return;
	}
	tp->p = xrealloc(tp->p, (tp->np + 1) * sizeof *tp->p);
	pc = &tp->p[tp->np++];
	pc->type = type;
	pc->x = x;
	pc->n = n;
	pc->off = tp->text.len;
	pc->len = len;
	if (type == P_TEXT)
		buf_add(&tp->text, s, len);
	if (type == P_SLOT)
		tp->uses_slot = 1;
}

/* The replacement string at s (a '{'), if it is one: its length, with
 * its piece in *type, *x and *n; else 0. */
static size_t
template_match(const char *s, enum piece_type *type, enum xform *x, int *n)
{
	static const struct {
		const char *suffix;
		enum xform x;
	} xf[] = {{"}", X_NONE},
		  {".}", X_NOEXT},
		  {"/}", X_BASE},
		  {"//}", X_DIR},
		  {"/.}", X_BASENOEXT}};
	size_t i = 1;
	long num = 0;

	if (strncmp(s, "{#}", 3) == 0 || strncmp(s, "{%}", 3) == 0) {
		*type = s[1] == '#' ? P_SEQ : P_SLOT;
		*x = X_NONE;
		return 3;
	}
	while (s[i] >= '0' && s[i] <= '9' && num < 1000000)
		num = num * 10 + (s[i++] - '0');
	if (i > 1 && (num < 1 || num >= 1000000))
		return 0;
	for (size_t k = 0; k < sizeof xf / sizeof *xf; k++) {
		size_t l = strlen(xf[k].suffix);

		if (strncmp(s + i, xf[k].suffix, l) == 0) {
			*type = i > 1 ? P_NTH : P_ALL;
			*x = xf[k].x;
			*n = (int)num;
			return i + l;
		}
	}
	return 0;
}

/* Cut a token's text into pieces, as a token of context ctx; returns
 * whether it holds a replacement string. */
static int
template_token(struct template *tp, struct tok *t, const char *s, enum ctx ctx)
{
	int any = 0;

	t->first = tp->np;
	tp->tokfirst = tp->np;
	t->ctx = ctx;
	while (*s != '\0') {
		const char *brace = strchr(s, '{');
		enum piece_type type;
		enum xform x;
		int n = 0;
		size_t len;

		if (brace == NULL) {
			template_piece(tp, P_TEXT, X_NONE, 0, s, strlen(s));
			break;
		}
		if (brace > s)
			template_piece(tp, P_TEXT, X_NONE, 0, s,
				       (size_t)(brace - s));
		len = template_match(brace, &type, &x, &n);
		if (len == 0) {
			template_piece(tp, P_TEXT, X_NONE, 0, brace, 1);
			s = brace + 1;
			continue;
		}
		template_piece(tp, type, x, n, NULL, 0);
		any = 1;
		s = brace + len;
	}
	t->n = tp->np - t->first;
	return any;
}

/* Add a token to the job line. */
static struct tok *
template_addtok(struct template *tp)
{
	tp->t = xrealloc(tp->t, ((size_t)tp->nt + 1) * sizeof *tp->t);
	return &tp->t[tp->nt++];
}

/* Release a template. */
void
template_free(struct template *tp)
{
	if (tp == NULL)
		return;
	buf_free(&tp->text);
	free(tp->p);
	free(tp->t);
	free(tp);
}

/* Does a token have a replacement string? */
static int
template_tok_replaces(const struct template *tp, const struct tok *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (tp->p[t->first + i].type != P_TEXT)
			return 1;
	return 0;
}

/* Compile a template; see template.h. The caller owns the result. */
struct template *
template_new(const char *text, const char *tagstring, int flags, char *err,
	     size_t errlen)
{
	struct template *tp = xcalloc(1, sizeof *tp);
	struct buf toks = BUF_INIT;
	const struct kind *k = NULL;
	const char *tok;
	int ntok = 0, i, any = 0, kidx;
	enum lex_end end;

	tp->raw_sh = (flags & TEMPLATE_RAW_SH) != 0;
	if (strlen(text) > PARSE_MAX_LINE) {
		errfmt(err, errlen, "template too long");
		goto fail;
	}
	end = lex_scan(text, strlen(text), &toks, &ntok);
	if (end != LEX_END) {
		errfmt(err, errlen,
		       end == LEX_QUOTE ? "unterminated quote in template"
					: "template ends with a backslash");
		goto fail;
	}
	/* Options first, then the kind (or "exec" before the command). */
	for (i = 0, tok = toks.data; i < ntok; i++, tok = lex_next(tok)) {
		if (strchr(tok, '=') == NULL)
			break;
		any |= template_token(tp, template_addtok(tp), tok, C_RAW);
		if (!template_tok_replaces(tp, &tp->t[tp->nt - 1]) &&
		    parse_option_check(tok, err, errlen) == -1)
			goto fail;
	}
	if (i < ntok && strchr(tok, '{') == NULL)
		k = kind_find(tok);
	if (k == NULL)
		k = kind_find("exec");
	kidx = tp->nt;
	template_token(tp, template_addtok(tp), k->name, C_RAW);
	if (i < ntok && strcmp(tok, k->name) == 0) {
		i++;
		tok = lex_next(tok);
	}
	for (; i < ntok; i++, tok = lex_next(tok))
		any |= template_token(tp, template_addtok(tp), tok,
				      k->shell ? C_SCRIPT : C_ARG);
	if (!any && !(flags & TEMPLATE_NO_APPEND)) {
		if (k->shell && tp->nt - 1 > kidx &&
		    tp->t[tp->nt - 1].first + tp->t[tp->nt - 1].n == tp->np) {
			/* The end of the script: its last token. */
			struct tok *last = &tp->t[tp->nt - 1];

			tp->tokfirst = last->first;
			template_piece(tp, P_TEXT, X_NONE, 0, " ", 1);
			template_piece(tp, P_ALL, X_NONE, 0, NULL, 0);
			last->n = tp->np - last->first;
		} else {
			template_token(tp, template_addtok(tp), "{}",
				       k->shell ? C_SCRIPT : C_ARG);
		}
	}
	if (tagstring != NULL) {
		tp->has_tag = 1;
		template_token(tp, &tp->tag, tagstring, C_RAW);
	}
	buf_free(&toks);
	return tp;
fail:
	buf_free(&toks);
	template_free(tp);
	return NULL;
}

/* Does the template use {%}? */
int
template_uses_slot(const struct template *tp)
{
	return tp->uses_slot;
}

/* Append s quoted for sh. */
void
template_shquote(struct buf *b, const char *s)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    "_-+./:@,%";

	if (*s != '\0' && strspn(s, plain) == strlen(s)) {
		buf_adds(b, s);
		return;
	}
	buf_add_squoted(b, s);
}

/* Append value v as replacement string x makes it (GNU parallel's
 * {.} {/} {//} {/.}). */
static void
template_xform(struct buf *b, const char *v, enum xform x)
{
	size_t len = strlen(v);
	const char *dot, *slash;

	switch (x) {
	case X_NONE:
		buf_add(b, v, len);
		return;
	case X_DIR:
		/* dirname(1): trailing slashes do not count. */
		while (len > 1 && v[len - 1] == '/')
			len--;
		while (len > 0 && v[len - 1] != '/')
			len--;
		if (len == 0) {
			buf_addc(b, v[0] == '/' ? '/' : '.');
			return;
		}
		while (len > 1 && v[len - 1] == '/')
			len--;
		buf_add(b, v, len);
		return;
	case X_BASE:
	case X_BASENOEXT:
		slash = strrchr(v, '/');
		if (slash != NULL)
			v = slash + 1;
		len = strlen(v);
		if (x == X_BASE)
			break;
		/* fall through */
	case X_NOEXT:
		/* The last '.' and what follows, when no '/' does. */
		dot = strrchr(v, '.');
		if (dot != NULL && strchr(dot, '/') == NULL)
			len = (size_t)(dot - v);
		break;
	}
	buf_add(b, v, len);
}

/* Append one value to the token being built in out, as ctx wants it. */
static void
template_put(struct buf *out, const struct template *tp, enum ctx ctx,
	     const char *v, enum xform x)
{
	struct buf tmp = BUF_INIT;

	if (ctx != C_SCRIPT || tp->raw_sh) {
		template_xform(out, v, x);
		return;
	}
	template_xform(&tmp, v, x);
	buf_addc(&tmp, '\0');
	template_shquote(out, tmp.data);
	buf_free(&tmp);
}

/* Append a token filled with the values to out: one NUL-terminated token,
 * or several (C_ARG with several values). Returns how many. */
static int
template_fill(struct buf *out, const struct template *tp, const struct tok *t,
	      const char *const *values, int nvalues, uint64_t seq,
	      unsigned slot)
{
	int ntok = 1;

	/* A value past the last one is nothing: a token of it alone is no
	 * argument at all, as a word of parallel's command line. */
	if (t->n == 1 && tp->p[t->first].type == P_NTH &&
	    tp->p[t->first].n > nvalues && t->ctx == C_ARG)
		return 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct piece *pc = &tp->p[t->first + i];

		switch (pc->type) {
		case P_TEXT:
			buf_add(out, tp->text.data + pc->off, pc->len);
			break;
		case P_ALL:
			for (int v = 0; v < nvalues; v++) {
				if (v > 0 && t->ctx == C_ARG) {
					buf_addc(out, '\0');
					ntok++;
				} else if (v > 0) {
					buf_addc(out, ' ');
				}
				template_put(out, tp, t->ctx, values[v], pc->x);
			}
			break;
		case P_NTH:
			if (pc->n <= nvalues)
				template_put(out, tp, t->ctx, values[pc->n - 1],
					     pc->x);
			break;
		case P_SEQ:
			buf_printf(out, "%llu", (unsigned long long)seq);
			break;
		case P_SLOT:
			if (slot > 0)
				buf_printf(out, "%u", slot);
			else
				buf_adds(out, "{%}");
			break;
		}
	}
	buf_addc(out, '\0');
	return ntok;
}

/* Fill the template in; see template.h. *out belongs to the caller. */
enum parse_rc
template_expand(const struct template *tp, const char *const *values,
		int nvalues, uint64_t seq, unsigned slot, struct job_spec **out,
		char *err, size_t errlen)
{
	struct buf toks = BUF_INIT, tag = BUF_INIT;
	struct job_spec extra;
	enum parse_rc rc;
	int ntok = 0;

	for (int i = 0; i < tp->nt; i++)
		ntok += template_fill(&toks, tp, &tp->t[i], values, nvalues,
				      seq, slot);
	if (tp->has_tag) {
		template_fill(&tag, tp, &tp->tag, values, nvalues, seq, slot);
	} else {
		for (int v = 0; v < nvalues; v++) {
			if (v > 0)
				buf_addc(&tag, ' ');
			buf_adds(&tag, values[v]);
		}
		buf_addc(&tag, '\0');
	}
	memset(&extra, 0, sizeof extra);
	extra.args = values;
	extra.nargs = nvalues;
	extra.tag = tag.data;
	rc = parse_tokens_extra(toks.data, toks.len, ntok, &extra, out, err,
				errlen);
	buf_free(&toks);
	buf_free(&tag);
	return rc;
}
