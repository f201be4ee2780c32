/*
 * fuzz_parse.c: libFuzzer harness for the job language parser.
 *
 * The input is split into physical lines and fed to one parser, as input.c
 * does; every job it returns must be well formed, every error must come
 * without a kind, and parser_finish must close a pending continuation. The
 * value parsers run on the whole input as a C string too. Built by
 * scripts/fuzz with clang's -fsanitize=fuzzer,address,undefined.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "parse.h"

/* Check one parser answer; abort() tells libFuzzer it found a bug. */
static void
check(enum parse_rc rc, struct job_spec *spec)
{
	if (rc == PARSE_JOB) {
		if (spec == NULL || spec->kind == NULL ||
		    spec->kindname == NULL || spec->argv[spec->argc] != NULL)
			abort();
		if (spec->argc < spec->kind->min_args ||
		    (spec->kind->max_args >= 0 &&
		     spec->argc > spec->kind->max_args))
			abort();
		for (int i = 0; i < spec->argc; i++)
			(void)strlen(spec->argv[i]);
		for (int i = 0; i < spec->nafter; i++)
			if (strlen(spec->after[i]) == 0)
				abort();
		if (spec->id != NULL && !parse_id_valid(spec->id))
			abort();
	} else if (rc == PARSE_ERROR) {
		if (spec != NULL && (spec->kind != NULL || spec->argc != 0))
			abort();
	} else if (spec != NULL) {
		abort();
	}
	free(spec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parser p;
	struct job_spec *spec;
	char err[256], *s;
	size_t i = 0;
	double a, b;
	long long c;

	parser_init(&p);
	for (;;) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t n = nl != NULL ? (size_t)(nl - (data + i)) : size - i;
		/* An exact-size copy, so reading past len is caught. */
		char *line = malloc(n ? n : 1);
		enum parse_rc rc;

		memcpy(line, data + i, n);
		spec = NULL;
		rc = parser_feed(&p, line, n, &spec, err, sizeof err);
		free(line);
		check(rc, spec);
		if (nl == NULL)
			break;
		i += n + 1;
	}
	spec = NULL;
	check(parser_finish(&p, &spec, err, sizeof err), spec);
	if (parser_pending(&p))
		abort();
	parser_free(&p);

	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (parse_duration(s, &a) == 0 && !(a >= 0))
		abort();
	parse_backoff(s, &a, &b);
	parse_count(s, &c);
	parse_id_valid(s);
	free(s);
	return 0;
}
