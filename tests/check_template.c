/*
 * check_template.c: unit tests of command mode's template
 * (src/template.c): replacement strings, implied exec and {}, sh quoting,
 * and what the filled template parses into.
 *
 * The transformations are checked against what GNU parallel 20221122
 * prints for the same values ({.} {/} {//} {/.}).
 */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "parse.h"
#include "template.h"

static char err[512];

/* Fill text with n values (seq 7, slot as given); the job, which the
 * test frees. Fails the test when the template or the job is bad. */
static struct job_spec *
fill(const char *text, const char *tagstring, int flags,
     const char *const *values, int n, unsigned slot)
{
	struct template *tp =
	    template_new(text, tagstring, flags, err, sizeof err);
	struct job_spec *spec = NULL;

	ck_assert_msg(tp != NULL, "template '%s': %s", text, err);
	ck_assert_msg(template_expand(tp, values, n, 7, slot, &spec, err,
				      sizeof err) == PARSE_JOB,
		      "'%s': %s", text, err);
	template_free(tp);
	return spec;
}

/* Check a job's kind and arguments (NULL-terminated list). */
static void
check_argv(const struct job_spec *spec, const char *kind, ...)
{
	va_list ap;
	int i = 0;
	const char *a;

	ck_assert_str_eq(spec->kind->name, kind);
	va_start(ap, kind);
	while ((a = va_arg(ap, const char *)) != NULL) {
		ck_assert_int_lt(i, spec->argc);
		ck_assert_str_eq(spec->argv[i], a);
		i++;
	}
	va_end(ap);
	ck_assert_int_eq(spec->argc, i);
}

START_TEST(implied_exec_and_implied_braces)
{
	const char *v[] = {"a b"};
	struct job_spec *s = fill("gzip -9", NULL, 0, v, 1, 0);

	check_argv(s, "exec", "gzip", "-9", "a b", NULL);
	free(s);
	s = fill("exec echo {}", NULL, 0, v, 1, 0);
	check_argv(s, "exec", "echo", "a b", NULL);
	free(s);
	/* A first word holding a replacement string is the program. */
	s = fill("{} --version", NULL, 0, v, 1, 0);
	check_argv(s, "exec", "a b", "--version", NULL);
	free(s);
	/* Any replacement string stops the implied {}. */
	s = fill("echo {#}", NULL, 0, v, 1, 0);
	check_argv(s, "exec", "echo", "7", NULL);
	free(s);
	/* Options before the command stay options. */
	s = fill("timeout=5s retries=2 echo", NULL, 0, v, 1, 0);
	check_argv(s, "exec", "echo", "a b", NULL);
	ck_assert(s->timeout == 5 && s->retries == 2);
	free(s);
}
END_TEST

START_TEST(no_append_flag_leaves_the_template_alone)
{
	const char *v[] = {"x"};
	struct job_spec *s = fill("wc -l", NULL, TEMPLATE_NO_APPEND, v, 1, 0);

	check_argv(s, "exec", "wc", "-l", NULL);
	free(s);
}
END_TEST

START_TEST(a_value_is_one_argument_whatever_it_holds)
{
	const char *v[] = {"a b 'c' \"d\" $HOME *.c\nx"};
	struct job_spec *s = fill("printf %s {}", NULL, 0, v, 1, 0);

	check_argv(s, "exec", "printf", "%s", v[0], NULL);
	free(s);
	s = fill("echo pre{}post", NULL, 0, v, 1, 0);
	ck_assert_int_eq(s->argc, 2);
	ck_assert(strncmp(s->argv[1], "prea b", 6) == 0);
	free(s);
}
END_TEST

START_TEST(sh_values_are_quoted_in_the_script)
{
	const char *v[] = {"it's $x `y` a b"};
	struct job_spec *s = fill("sh 'gzip -c {} > {}.gz'", NULL, 0, v, 1, 0);

	check_argv(s, "sh",
		   "gzip -c 'it'\\''s $x `y` a b' > 'it'\\''s $x `y` a b'.gz",
		   NULL);
	free(s);
	/* Plain values are left bare; the implied {} ends the script. */
	v[0] = "plain.txt";
	s = fill("sh 'wc -c'", NULL, 0, v, 1, 0);
	check_argv(s, "sh", "wc -c plain.txt", NULL);
	free(s);
	/* --sh: values are the script's own text. */
	v[0] = "echo hi; exit 3";
	s = fill("sh", NULL, TEMPLATE_RAW_SH, v, 1, 0);
	check_argv(s, "sh", "echo hi; exit 3", NULL);
	free(s);
	s = fill("timeout=1s sh", NULL, TEMPLATE_RAW_SH, v, 1, 0);
	check_argv(s, "sh", "echo hi; exit 3", NULL);
	free(s);
}
END_TEST

START_TEST(shquote_round_trips_through_plain_rules)
{
	struct buf b = BUF_INIT;

	template_shquote(&b, "");
	buf_addc(&b, '|');
	template_shquote(&b, "a-b_c.d/e:f@g,h%+");
	buf_addc(&b, '|');
	template_shquote(&b, "~x=y");
	buf_addc(&b, '\0');
	ck_assert_str_eq(b.data, "''|a-b_c.d/e:f@g,h%+|'~x=y'");
	buf_free(&b);
}
END_TEST

/* What GNU parallel prints for {} {.} {/} {//} {/.} of each value. */
static const char *const xforms[][6] = {
    {"a/b.c", "a/b.c", "a/b", "b.c", "a", "b"},
    {"a/b/", "a/b/", "a/b/", "", "a", ""},
    {".bashrc", ".bashrc", "", ".bashrc", ".", ""},
    {"x.tar.gz", "x.tar.gz", "x.tar", "x.tar.gz", ".", "x.tar"},
    {"/abs", "/abs", "/abs", "abs", "/", "abs"},
    {"/abs/f.x", "/abs/f.x", "/abs/f", "f.x", "/abs", "f"},
    {"d.x/f", "d.x/f", "d.x/f", "f", "d.x", "f"},
    {"sp ace.t", "sp ace.t", "sp ace", "sp ace.t", ".", "sp ace"},
    {"./f.x", "./f.x", "./f", "f.x", ".", "f"},
    {"../f", "../f", "../f", "f", "..", "f"},
    {"", "", "", "", ".", ""},
    {"a.b/c", "a.b/c", "a.b/c", "c", "a.b", "c"},
    {"/", "/", "/", "", "/", ""},
    {"a/.x", "a/.x", "a/", ".x", "a", ""},
    {"..", "..", ".", "..", ".", "."},
    {"a//b.c", "a//b.c", "a//b", "b.c", "a", "b"},
    {"a.", "a.", "a", "a.", ".", "a"},
};

START_TEST(transformations_match_gnu_parallel)
{
	const char *v[1];
	struct job_spec *s;

	v[0] = xforms[_i][0];
	s = fill("echo {} {.} {/} {//} {/.}", NULL, 0, v, 1, 0);
	ck_assert_int_eq(s->argc, 6);
	for (int k = 1; k <= 5; k++)
		ck_assert_msg(strcmp(s->argv[k], xforms[_i][k]) == 0,
			      "'%s' #%d: '%s', want '%s'", v[0], k, s->argv[k],
			      xforms[_i][k]);
	free(s);
	/* The same through {1...}. */
	s = fill("echo {1} {1.} {1/} {1//} {1/.}", NULL, 0, v, 1, 0);
	for (int k = 1; k <= 5; k++)
		ck_assert_str_eq(s->argv[k], xforms[_i][k]);
	free(s);
}
END_TEST

START_TEST(positional_values_and_several_values)
{
	const char *v[] = {"a", "b", "c"};
	struct job_spec *s = fill("echo {3} {1} {4}", NULL, 0, v, 3, 0);

	/* Past the last value: nothing, as parallel. */
	check_argv(s, "exec", "echo", "c", "a", NULL);
	free(s);
	s = fill("sh 'echo x{4}y {4}'", NULL, 0, v, 3, 0);
	check_argv(s, "sh", "echo xy ", NULL);
	free(s);
	/* {} is every value, one argument each; text sticks to the ends. */
	s = fill("echo x{}y", NULL, 0, v, 3, 0);
	check_argv(s, "exec", "echo", "xa", "b", "cy", NULL);
	free(s);
	s = fill("echo {.}", NULL, 0, v, 3, 0);
	check_argv(s, "exec", "echo", "a", "b", "c", NULL);
	free(s);
	/* In a script: quoted values joined by blanks. */
	v[1] = "b b";
	s = fill("sh 'echo {}'", NULL, 0, v, 3, 0);
	check_argv(s, "sh", "echo a 'b b' c", NULL);
	free(s);
}
END_TEST

START_TEST(literal_braces_stay)
{
	const char *v[] = {"x"};
	struct job_spec *s = fill("echo {foo} {0} { {1x}", NULL, 0, v, 1, 0);

	check_argv(s, "exec", "echo", "{foo}", "{0}", "{", "{1x}", "x", NULL);
	free(s);
}
END_TEST

START_TEST(sequence_and_slot)
{
	const char *v[] = {"x"};
	struct template *tp =
	    template_new("echo {%}", NULL, 0, err, sizeof err);
	struct job_spec *s;

	ck_assert(template_uses_slot(tp));
	template_free(tp);
	tp = template_new("echo {#}", "{%}", 0, err, sizeof err);
	ck_assert(template_uses_slot(tp));
	template_free(tp);
	tp = template_new("echo {#}", NULL, 0, err, sizeof err);
	ck_assert(!template_uses_slot(tp));
	template_free(tp);
	/* Until the slot is known, {%} stays as written. */
	s = fill("echo {#}-{%}", NULL, 0, v, 1, 0);
	check_argv(s, "exec", "echo", "7-{%}", NULL);
	free(s);
	s = fill("echo {#}-{%}", NULL, 0, v, 1, 3);
	check_argv(s, "exec", "echo", "7-3", NULL);
	free(s);
}
END_TEST

START_TEST(values_in_options)
{
	const char *v[] = {"2s", "job-a"};
	struct job_spec *s =
	    fill("timeout={1} id={2} sleep 0", NULL, 0, v, 2, 0);

	ck_assert(s->timeout == 2);
	ck_assert_str_eq(s->id, "job-a");
	free(s);
}
END_TEST

START_TEST(args_and_tag)
{
	const char *v[] = {"a", "b c"};
	struct job_spec *s = fill("echo", NULL, 0, v, 2, 0);

	ck_assert_int_eq(s->nargs, 2);
	ck_assert_str_eq(s->args[0], "a");
	ck_assert_str_eq(s->args[1], "b c");
	ck_assert_str_eq(s->tag, "a b c");
	free(s);
	s = fill("echo", "{2}/{#}", 0, v, 2, 0);
	ck_assert_str_eq(s->tag, "b c/7");
	free(s);
}
END_TEST

START_TEST(bad_templates)
{
	static const char *const bad[] = {
	    "echo 'open",
	    "timeout=5x echo",
	    "nosuch=1 echo",
	    "echo \\",
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct template *tp =
		    template_new(bad[i], NULL, 0, err, sizeof err);
		ck_assert_msg(tp == NULL, "'%s' accepted", bad[i]);
		ck_assert(err[0] != '\0');
	}
}
END_TEST

START_TEST(a_bad_filled_job_is_an_error)
{
	const char *v[] = {"soon"};
	struct template *tp =
	    template_new("timeout={} sleep 1", NULL, 0, err, sizeof err);
	struct job_spec *s = NULL;

	ck_assert_ptr_nonnull(tp);
	ck_assert_int_eq(template_expand(tp, v, 1, 1, 0, &s, err, sizeof err),
			 PARSE_ERROR);
	ck_assert(strstr(err, "soon") != NULL);
	free(s);
	template_free(tp);
}
END_TEST

/* The suite. */
static Suite *
template_suite(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("template");

	tcase_add_test(tc, implied_exec_and_implied_braces);
	tcase_add_test(tc, no_append_flag_leaves_the_template_alone);
	tcase_add_test(tc, a_value_is_one_argument_whatever_it_holds);
	tcase_add_test(tc, sh_values_are_quoted_in_the_script);
	tcase_add_test(tc, shquote_round_trips_through_plain_rules);
	tcase_add_loop_test(tc, transformations_match_gnu_parallel, 0,
			    sizeof xforms / sizeof *xforms);
	tcase_add_test(tc, positional_values_and_several_values);
	tcase_add_test(tc, literal_braces_stay);
	tcase_add_test(tc, sequence_and_slot);
	tcase_add_test(tc, values_in_options);
	tcase_add_test(tc, args_and_tag);
	tcase_add_test(tc, bad_templates);
	tcase_add_test(tc, a_bad_filled_job_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; fail the process on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(template_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
