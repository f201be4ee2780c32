/*
 * lex.h: the tokenizer of the job language (corun-jobs(5), "Tokens and
 * quoting"), private to the parser.
 *
 * One physical line in, its tokens out, NUL-terminated one after the other
 * in a buffer. Pure: no I/O and no global state.
 */
#ifndef CORUN_LEX_H
#define CORUN_LEX_H

#include <stddef.h>

#include "util.h"

/* How a physical line ends. */
enum lex_end {
	LEX_END,  /* the line (or its last token) is complete */
	LEX_CONT, /* a continuation backslash ends it */
	LEX_QUOTE /* a quote is not closed on this line */
};

/*
 * Split one physical line of len bytes into tokens appended NUL-terminated
 * to toks, counting them in *ntok; with toks NULL only find out how the
 * line ends. On LEX_QUOTE the unfinished token is dropped and the earlier
 * ones stay. Never reads s[len] or beyond.
 */
enum lex_end lex_scan(const char *s, size_t len, struct buf *toks, int *ntok);

/* The token after tok in a run of NUL-terminated tokens. */
const char *lex_next(const char *tok);

#endif
