/*
 * check_plan.c: unit tests of the dry run's plan line (src/plan.c).
 *
 * The plan line must round-trip: read as corun(1) describes it (drop the id
 * and executor columns, move the option words at the end of the line before
 * the kind, the id column becoming id= unless it is a sequence number), the
 * job language gives back the same job: same kind, the same argv byte for
 * byte, the same options. Specs are built directly (not parsed), with
 * hostile arguments and random ones, so the test does not rely on the
 * parser to produce them.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "parse.h"
#include "plan.h"
#include "spec.h"

#define ERRLEN 512

/* Arguments a quoting scheme can get wrong. */
static const char *const hostile[] = {
    "", " ", "a b", "  lead", "trail ", "it's", "'", "''", "\"", "x\"y",
    "\\", "back\\slash", "a\\", "\\n", "\\x41", "\\x00", "\"\\\"", "$HOME",
    "${x}", "`id`", "#", "#x", "a#b", "\n", "a\nb", "\n\n", "\t", "a\tb",
    "\r", "a\r\n", "\x1b[31mred\x1b[0m", "\a", "\x01", "\x7f", "\x1f",
    "=", "a=b", "key=value", "timeout=5s", "id=x", "retries=3", "on=thread",
    "after=1", "group=g", "=x", "x=", "-X", "--", "~", "*", "?", "[a]", "{}",
    "(", ")", ";", "&", "|", "<", ">", "!", "caf\xc3\xa9", "\xff\xfe",
    "'\\''", "a'b\"c\\d\ne\tf=g#h$i",
};

/* retry-on= lists (the words of corun-jobs(5)). */
static const char *const retry_lists[] = {
    "timeout", "signal", "start", "exit:1", "exit:0-255", "http:429",
    "http:5xx", "http:500-504", "timeout,exit:3,http:4xx,start,signal",
};

/* A small deterministic generator (xorshift64). */
static uint64_t rng = 88172645463325252ULL;

/* The next pseudo-random number. */
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A pseudo-random number below n. */
static unsigned
rndn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* A random duration as parse_duration reads it, as seconds; one past the
 * longest it accepts (1e9 s) is drawn again in one hour. */
static double
rnd_duration(void)
{
	static const char *const unit[] = {"", "s", "ms", "m", "h"};
	char s[64];
	double v;
	int n = snprintf(s, sizeof s, "%u", rndn(4) ? rndn(1000) : rndn(~0u));

	if (rndn(2))
		n += snprintf(s + n, sizeof s - (size_t)n, ".%0*u",
			      (int)rndn(9) + 1, rndn(1000000000));
	snprintf(s + n, sizeof s - (size_t)n, "%s", unit[rndn(5)]);
	if (parse_duration(s, &v) == -1)
		snprintf(s, sizeof s, "%uh", rndn(277777));
	ck_assert_msg(parse_duration(s, &v) == 0, "duration '%s'", s);
	return v;
}

/* A random argument: hostile bytes mostly, any byte but NUL sometimes. */
static void
rnd_arg(struct buf *b)
{
	static const char palette[] = " \t\n\r'\"\\#$=a-Z0\x1b\x7f\x01\xc3\xa9";
	unsigned n = rndn(9);

	for (unsigned i = 0; i < n; i++) {
		char c = rndn(4) ? palette[rndn(sizeof palette - 1)]
				 : (char)(rndn(255) + 1);
		buf_addc(b, c);
	}
}

/* Read a plan line back as corun(1) says (plan_read), into job. */
static void
plan_back(const char *line, struct buf *job)
{
	const char *ex;
	size_t exlen;

	ck_assert_int_eq(plan_read(line, 1, job, &ex, &exlen), 0);
}

/* Assert that the plan line of spec reads back as the same job. */
static void
round_trip(const struct job_spec *spec)
{
	struct buf line = BUF_INIT, job = BUF_INIT;
	struct job_spec *back = NULL;
	char err[ERRLEN];
	int on = spec->on >= 0 ? spec->on : (int)spec->kind->executor;

	plan_line(&line, spec->id != NULL ? spec->id : "7",
		  executor_name((enum executor)on), spec, spec->timeout);
	ck_assert_msg(strpbrk(line.data, "\n\r\x1b\a\x7f") == NULL,
		      "control byte in plan line '%s'", line.data);
	plan_back(line.data, &job);
	ck_assert_msg(parse_line(job.data, &back, err, sizeof err) == PARSE_JOB,
		      "plan '%s' as '%s': %s", line.data, job.data, err);
	ck_assert_ptr_eq(back->kind, spec->kind);
	ck_assert_int_eq(back->argc, spec->argc);
	for (int i = 0; i < spec->argc; i++)
		ck_assert_msg(strcmp(back->argv[i], spec->argv[i]) == 0,
			      "plan '%s': argument %d differs", line.data, i);
	ck_assert_ptr_null(back->argv[back->argc]);
	if (spec->id == NULL)
		ck_assert_ptr_null(back->id);
	else
		ck_assert_str_eq(back->id, spec->id);
	ck_assert_msg(back->timeout == spec->timeout, "plan '%s': %.17g != %.17g",
		      line.data, back->timeout, spec->timeout);
	ck_assert_int_eq(back->retries, spec->retries);
	ck_assert(back->backoff == spec->backoff);
	ck_assert(back->backoff_max == spec->backoff_max);
	ck_assert_int_eq(back->nafter, spec->nafter);
	for (int i = 0; i < spec->nafter; i++)
		ck_assert_str_eq(back->after[i], spec->after[i]);
	if (spec->group == NULL)
		ck_assert_ptr_null(back->group);
	else
		ck_assert_str_eq(back->group, spec->group);
	ck_assert_int_eq(back->on, spec->on);
	if (spec->retry_on == NULL)
		ck_assert_ptr_null(back->retry_on);
	else
		ck_assert_str_eq(back->retry_on, spec->retry_on);
	free(back);
	buf_free(&line);
	buf_free(&job);
}

/* A spec of kind name with argc arguments (kseg: "name\0arg\0...") and the
 * options of draft d; the caller frees it. */
static struct job_spec *
make(struct spec_draft *d, const char *name, int argc, const struct buf *kseg)
{
	d->s.kind = kind_find(name);
	ck_assert_ptr_nonnull(d->s.kind);
	d->s.kindname = kseg->data;
	d->s.argc = argc;
	return spec_build(d, kseg->len);
}

/* An exec spec with these arguments and no options; the caller frees it. */
static struct job_spec *
exec_spec(int argc, const char *const *argv)
{
	struct spec_draft d;
	struct buf kseg = BUF_INIT;
	struct job_spec *s;

	spec_draft_init(&d);
	buf_add(&kseg, "exec", 5);
	for (int i = 0; i < argc; i++)
		buf_add(&kseg, argv[i], strlen(argv[i]) + 1);
	s = make(&d, "exec", argc, &kseg);
	buf_free(&kseg);
	return s;
}

START_TEST(each_hostile_argument_reads_back)
{
	size_t n = sizeof hostile / sizeof hostile[0];

	for (size_t i = 0; i < n; i++) {
		const char *argv[] = {"printf", hostile[i]};
		struct job_spec *s = exec_spec(2, argv);
		round_trip(s);
		free(s);
		/* As the program too: the first argument after the kind. */
		argv[0] = hostile[i];
		s = exec_spec(1, argv);
		round_trip(s);
		free(s);
	}
}
END_TEST

START_TEST(all_hostile_arguments_in_one_job_read_back)
{
	struct job_spec *s =
	    exec_spec((int)(sizeof hostile / sizeof hostile[0]), hostile);

	round_trip(s);
	free(s);
}
END_TEST

START_TEST(an_argument_never_reads_as_an_option)
{
	const char *argv[] = {"echo", "timeout=5s"};
	struct job_spec *s = exec_spec(2, argv);
	struct buf line = BUF_INIT;

	plan_line(&line, "1", "loop", s, -1);
	ck_assert_str_eq(line.data, "1 loop exec echo 'timeout=5s'");
	buf_free(&line);
	free(s);
}
END_TEST

START_TEST(control_characters_are_escaped)
{
	struct buf b = BUF_INIT;

	plan_quote(&b, "a\nb\tc\x1b[0m\a\"\\'$");
	ck_assert_str_eq(b.data, "\"a\\nb\\tc\\x1b[0m\\x07\\\"\\\\'$\"");
	buf_reset(&b);
	plan_quote(&b, "it's a \\ test");
	ck_assert_str_eq(b.data, "'it'\\''s a \\ test'");
	buf_reset(&b);
	plan_quote(&b, "plain-word_1.2:3@x,y%z^+/");
	ck_assert_str_eq(b.data, "plain-word_1.2:3@x,y%z^+/");
	buf_reset(&b);
	plan_quote(&b, "");
	ck_assert_str_eq(b.data, "''");
	buf_free(&b);
}
END_TEST

START_TEST(durations_are_short_and_exact)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
	    {0, "0s"},          {1, "1s"},
	    {0.25, "0.25s"},    {0.1, "0.1s"},
	    {30, "30s"},        {1e6, "1000000s"},
	    {0.001, "0.001s"},  {1e-5, "0.00001s"},
	    {6120, "6120s"},    {1.5, "1.5s"},
	};
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_reset(&b);
		plan_duration(&b, cases[i].v);
		ck_assert_str_eq(b.data, cases[i].want);
	}
	buf_free(&b);
}
END_TEST

START_TEST(every_option_reads_back)
{
	struct spec_draft d;
	struct buf kseg = BUF_INIT;
	struct job_spec *s;

	spec_draft_init(&d);
	d.s.id = "build.1";
	d.s.timeout = 1.7 * 3600;
	d.s.retries = 1000000;
	d.s.backoff = 0.1;
	d.s.backoff_max = 90;
	d.after = "a,2,b:c";
	d.s.nafter = 3;
	d.s.group = "net-1";
	d.s.on = EX_THREAD;
	d.s.retry_on = "timeout,signal,start,exit:3-5,http:429,http:5xx";
	buf_add(&kseg, "call\0./lib.so\0fn\0x=y z", 23);
	s = make(&d, "call", 3, &kseg);
	round_trip(s);
	free(s);
	buf_free(&kseg);
}
END_TEST

START_TEST(random_jobs_read_back)
{
	for (int n = 0; n < 3000; n++) {
		struct spec_draft d;
		struct buf kseg = BUF_INIT, after = BUF_INIT;
		char id[32], group[32];
		int argc = (int)rndn(6) + 1;
		struct job_spec *s;

		spec_draft_init(&d);
		buf_add(&kseg, "exec", 5);
		for (int i = 0; i < argc; i++) {
			rnd_arg(&kseg);
			buf_addc(&kseg, '\0');
		}
		if (rndn(2)) {
			snprintf(id, sizeof id, "j%u.x-y:z", rndn(100000));
			d.s.id = id;
		}
		if (rndn(2))
			d.s.timeout = rnd_duration();
		if (rndn(3) == 0)
			d.s.retries = (int)rndn(1000001);
		if (rndn(3) == 0) {
			d.s.backoff = rnd_duration();
			double max = rnd_duration();
			if (rndn(2) && max >= d.s.backoff)
				d.s.backoff_max = max;
		}
		if (rndn(3) == 0) {
			d.s.nafter = (int)rndn(3) + 1;
			for (int i = 0; i < d.s.nafter; i++)
				buf_printf(&after, i ? ",%u" : "a%u",
					   rndn(1000) + 1);
			d.after = after.data;
		}
		if (rndn(4) == 0) {
			snprintf(group, sizeof group, "g_%u", rndn(100));
			d.s.group = group;
		}
		if (rndn(4) == 0)
			d.s.on = EX_LOOP;
		/* Not from rnd(): the jobs drawn before retry-on= stay the
		 * same. */
		if (n % 3 == 0)
			d.s.retry_on =
			    retry_lists[(n / 3) % (sizeof retry_lists /
						   sizeof *retry_lists)];
		s = make(&d, "exec", argc, &kseg);
		round_trip(s);
		free(s);
		buf_free(&kseg);
		buf_free(&after);
	}
}
END_TEST

/* The suite: every test above in one test case. */
static Suite *
plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("round trip");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, each_hostile_argument_reads_back);
	tcase_add_test(tc, all_hostile_arguments_in_one_job_read_back);
	tcase_add_test(tc, an_argument_never_reads_as_an_option);
	tcase_add_test(tc, control_characters_are_escaped);
	tcase_add_test(tc, durations_are_short_and_exact);
	tcase_add_test(tc, every_option_reads_back);
	tcase_add_test(tc, random_jobs_read_back);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; fail the process on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(plan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
