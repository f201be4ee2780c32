/*
 * lex.c: the tokenizer of the job language (corun-jobs(5), "Tokens and
 * quoting").
 *
 * Pure: no I/O and no global state. A physical line is cut into tokens at
 * blanks (space, tab, CR); within a token, '...' is literal, "..." knows
 * the escapes \" \\ \n \t and \xHH (HH two hex digits, not 00), and a
 * backslash outside quotes takes the next character literally. A token
 * never spans two physical lines: a quote ends on its own line, and a
 * backslash at the very end of a line (before an optional CR) continues the
 * logical line, which the parser joins with a blank. A '#' at the start of
 * a token starts a comment.
 *
 * Invariants: the scanner never reads s[len] or beyond; the tokens go to
 * the caller's buffer, NUL-terminated, and with no buffer the line is only
 * scanned to learn how it ends (the parser does that for a poisoned line).
 */
#include "config.h"

#include <string.h>

#include "lex.h"

/* True for the blanks that separate tokens. */
static int
lex_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Append n bytes to toks unless only scanning (toks NULL). */
static void
lex_put(struct buf *toks, const char *s, size_t n)
{
	if (toks != NULL)
		buf_add(toks, s, n);
}

/* True when the backslash at s[i] continues the line (CRLF tolerated). */
static int
lex_cont_at(const char *s, size_t len, size_t i)
{
	return i + 1 == len || (i + 2 == len && s[i + 1] == '\r');
}

/*
 * The escape of a double-quoted string at s[i] (a backslash): store the
 * byte it stands for in *c and return its length in s, or return 0 when
 * the backslash is not an escape and stays as written.
 */
static size_t
lex_escape(const char *s, size_t len, size_t i, char *c)
{
	char e = i + 1 < len ? s[i + 1] : '\0';
	int hi, lo;

	switch (e) {
	case '"':
	case '\\':
		*c = e;
		return 2;
	case 'n':
		*c = '\n';
		return 2;
	case 't':
		*c = '\t';
		return 2;
	case 'x':
		if (i + 3 >= len)
			return 0;
		hi = util_hexval(s[i + 2]);
		lo = util_hexval(s[i + 3]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return 0;
		*c = (char)(hi * 16 + lo);
		return 4;
	default:
		return 0;
	}
}

/*
 * Read a double-quoted string starting at s[*pi] (the quote) into toks;
 * advance *pi past the closing quote. -1 when the line ends first.
 */
static int
lex_dquote(const char *s, size_t len, size_t *pi, struct buf *toks)
{
	size_t i = *pi + 1;

	while (i < len) {
		char c = s[i];
		if (c == '"') {
			*pi = i + 1;
			return 0;
		}
		if (c == '\\') {
			size_t n = lex_escape(s, len, i, &c);
			lex_put(toks, &c, 1);
			i += n > 0 ? n : 1;
			continue;
		}
		size_t j = i;
		while (j < len && s[j] != '"' && s[j] != '\\')
			j++;
		lex_put(toks, s + i, j - i);
		i = j;
	}
	return -1;
}

/*
 * Read one token starting at s[*pi] into toks (when not NULL) and advance
 * *pi past it. LEX_END: the token is complete; LEX_CONT: it stops at a
 * continuation backslash, where *pi is left; LEX_QUOTE: a quote is not
 * closed on this line.
 */
static enum lex_end
lex_token(const char *s, size_t len, size_t *pi, struct buf *toks)
{
	size_t i = *pi;
	enum lex_end sc = LEX_END;

	while (i < len && !lex_blank(s[i])) {
		char c = s[i];
		if (c == '\'') {
			const char *q = memchr(s + i + 1, '\'', len - i - 1);
			if (q == NULL)
				return LEX_QUOTE;
			lex_put(toks, s + i + 1, (size_t)(q - s) - i - 1);
			i = (size_t)(q - s) + 1;
		} else if (c == '"') {
			if (lex_dquote(s, len, &i, toks) < 0)
				return LEX_QUOTE;
		} else if (c == '\\') {
			if (lex_cont_at(s, len, i)) {
				sc = LEX_CONT;
				break;
			}
			lex_put(toks, s + i + 1, 1);
			i += 2;
		} else {
			size_t j = i;
			while (j < len && !lex_blank(s[j]) && s[j] != '\'' &&
			       s[j] != '"' && s[j] != '\\')
				j++;
			lex_put(toks, s + i, j - i);
			i = j;
		}
	}
	*pi = i;
	return sc;
}

/* Cut one physical line into tokens; see lex.h. */
enum lex_end
lex_scan(const char *s, size_t len, struct buf *toks, int *ntok)
{
	size_t i = 0;

	for (;;) {
		while (i < len && lex_blank(s[i]))
			i++;
		if (i == len || s[i] == '#')
			return LEX_END;
		size_t start = i, mark = toks != NULL ? toks->len : 0;
		enum lex_end sc = lex_token(s, len, &i, toks);
		if (sc == LEX_QUOTE && toks != NULL && toks->data != NULL) {
			toks->len = mark;
			toks->data[mark] = '\0';
		}
		if (sc == LEX_QUOTE || (sc == LEX_CONT && i == start))
			return sc;
		if (toks != NULL) {
			buf_addc(toks, '\0');
			(*ntok)++;
		}
		if (sc == LEX_CONT)
			return sc;
	}
}

/* The token after tok in a NUL-separated run. */
const char *
lex_next(const char *tok)
{
	return tok + strlen(tok) + 1;
}
