/*
 * check_retry.c: unit tests of the retry rules (src/retry.c): which lists
 * retry-on= and --retry-on accept, and which attempt results each word
 * retries. Results are built by hand: the parser's library, which this
 * suite links alone, has no future.c.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "retry.h"

static char err[512];

/* A result as an executor would hand it over, without buffers. */
static struct result
res(enum job_status status, int exit, int sig, int http, bool unstarted)
{
	struct result r;

	memset(&r, 0, sizeof r);
	r.status = status;
	r.exit = exit;
	r.signal = sig;
	r.http_status = http;
	r.unstarted = unstarted;
	return r;
}

START_TEST(good_lists_are_accepted)
{
	static const char *const good[] = {
	    "timeout",	     "signal",
	    "start",	     "exit:0",
	    "exit:255",	     "exit:3-5",
	    "exit:0-255",    "http:429",
	    "http:5xx",	     "http:1xx",
	    "http:100",	     "http:599",
	    "http:500-504",  "timeout,signal,start,exit:1,http:4xx",
	    "exit:1,exit:1",
	};

	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		ck_assert_msg(retry_check(good[i], err, sizeof err) == 0,
			      "'%s': %s", good[i], err);
}
END_TEST

START_TEST(bad_lists_name_the_bad_word)
{
	static const struct {
		const char *list, *word;
	} bad[] = {
	    {"", ""},
	    {"timeout,", ""},
	    {",timeout", ""},
	    {"timeout,,signal", ""},
	    {"Timeout", "Timeout"},
	    {"timeouts", "timeouts"},
	    {"signal,nope", "nope"},
	    {"exit", "exit"},
	    {"exit:", "exit:"},
	    {"exit:256", "exit:256"},
	    {"exit:-1", "exit:-1"},
	    {"exit:5-3", "exit:5-3"},
	    {"exit:1-", "exit:1-"},
	    {"exit:1-2-3", "exit:1-2-3"},
	    {"exit:0001", "exit:0001"},
	    {"exit:x", "exit:x"},
	    {"http:99", "http:99"},
	    {"http:600", "http:600"},
	    {"http:6xx", "http:6xx"},
	    {"http:0xx", "http:0xx"},
	    {"http:5XX", "http:5XX"},
	    {"http:5x", "http:5x"},
	    {"http:504-500", "http:504-500"},
	    {"http", "http"},
	    {"start:1", "start:1"},
	    {"exit: 1", "exit: 1"},
	};
	char want[128];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		ck_assert_msg(retry_check(bad[i].list, err, sizeof err) == -1,
			      "'%s' accepted", bad[i].list);
		snprintf(want, sizeof want, "bad retry-on word '%s'",
			 bad[i].word);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

START_TEST(no_list_retries_every_failure)
{
	struct result r = res(ST_FAILED, 1, 0, 0, false);
	struct result t = res(ST_TIMEOUT, -1, 15, 0, false);

	ck_assert(retry_wanted(NULL, NULL, &r));
	ck_assert(retry_wanted(NULL, NULL, &t));
}
END_TEST

START_TEST(exit_words_match_their_range_only)
{
	struct result r3 = res(ST_FAILED, 3, 0, 0, false);
	struct result r6 = res(ST_FAILED, 6, 0, 0, false);
	struct result sig = res(ST_FAILED, -1, 9, 0, false);

	ck_assert(retry_wanted("exit:3", NULL, &r3));
	ck_assert(!retry_wanted("exit:3", NULL, &r6));
	ck_assert(retry_wanted("exit:3-6", NULL, &r6));
	ck_assert(!retry_wanted("exit:0-2,exit:7-255", NULL, &r6));
	ck_assert(retry_wanted("exit:0-2,exit:6", NULL, &r6));
	ck_assert(!retry_wanted("exit:0-255", NULL, &sig));
}
END_TEST

START_TEST(http_words_match_statuses_and_classes)
{
	struct result r404 = res(ST_FAILED, -1, 0, 404, false);
	struct result r503 = res(ST_FAILED, -1, 0, 503, false);
	struct result r429 = res(ST_FAILED, -1, 0, 429, false);
	struct result none = res(ST_FAILED, -1, 0, 0, false);

	ck_assert(!retry_wanted("http:5xx", NULL, &r404));
	ck_assert(retry_wanted("http:5xx", NULL, &r503));
	ck_assert(retry_wanted("http:429", NULL, &r429));
	ck_assert(!retry_wanted("http:429", NULL, &r503));
	ck_assert(retry_wanted("http:500-503", NULL, &r503));
	ck_assert(!retry_wanted("http:500-502", NULL, &r503));
	ck_assert(retry_wanted("http:4xx", NULL, &r404));
	ck_assert(!retry_wanted("http:1xx,http:2xx,http:3xx,http:4xx,"
				"http:5xx",
				NULL, &none));
}
END_TEST

START_TEST(timeout_signal_and_start_are_classes)
{
	struct result t = res(ST_TIMEOUT, -1, 15, 0, false);
	struct result t3 = res(ST_TIMEOUT, 3, 0, 0, false);
	struct result sig = res(ST_FAILED, -1, 9, 0, false);
	struct result start = res(ST_FAILED, -1, 0, 0, true);
	struct result fail = res(ST_FAILED, 1, 0, 0, false);

	ck_assert(retry_wanted("timeout", NULL, &t));
	ck_assert(!retry_wanted("signal", NULL, &t));
	ck_assert(!retry_wanted("exit:3", NULL, &t3));
	ck_assert(retry_wanted("signal", NULL, &sig));
	ck_assert(!retry_wanted("timeout,start", NULL, &sig));
	ck_assert(retry_wanted("start", NULL, &start));
	ck_assert(!retry_wanted("signal,timeout", NULL, &start));
	ck_assert(!retry_wanted("timeout,signal,start", NULL, &fail));
}
END_TEST

START_TEST(a_jobs_list_replaces_the_runs)
{
	struct result r1 = res(ST_FAILED, 1, 0, 0, false);
	struct result t = res(ST_TIMEOUT, -1, 15, 0, false);

	ck_assert(retry_wanted(NULL, "exit:1", &r1));
	ck_assert(!retry_wanted(NULL, "exit:1", &t));
	ck_assert(retry_wanted("timeout", "exit:1", &t));
	ck_assert(!retry_wanted("timeout", "exit:1", &r1));
}
END_TEST

START_TEST(the_job_language_takes_retry_on)
{
	struct job_spec *s = NULL;

	ck_assert_int_eq(parse_line("retry-on=exit:3,timeout retries=2 exec "
				    "false",
				    &s, err, sizeof err),
			 PARSE_JOB);
	ck_assert_str_eq(s->retry_on, "exit:3,timeout");
	free(s);
	ck_assert_int_eq(parse_line("exec false", &s, err, sizeof err),
			 PARSE_JOB);
	ck_assert_ptr_null(s->retry_on);
	free(s);
	ck_assert_int_eq(
	    parse_line("retry-on=exit:3,oops exec false", &s, err, sizeof err),
	    PARSE_ERROR);
	ck_assert_str_eq(err, "bad retry-on word 'oops'");
	free(s);
	ck_assert_int_eq(parse_line("retry-on=start retry-on=start exec x", &s,
				    err, sizeof err),
			 PARSE_ERROR);
	ck_assert_str_eq(err, "option 'retry-on' given twice");
	free(s);
}
END_TEST

/* The suite: every test above in one test case. */
static Suite *
retry_suite(void)
{
	Suite *s = suite_create("retry");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, good_lists_are_accepted);
	tcase_add_test(tc, bad_lists_name_the_bad_word);
	tcase_add_test(tc, no_list_retries_every_failure);
	tcase_add_test(tc, exit_words_match_their_range_only);
	tcase_add_test(tc, http_words_match_statuses_and_classes);
	tcase_add_test(tc, timeout_signal_and_start_are_classes);
	tcase_add_test(tc, a_jobs_list_replaces_the_runs);
	tcase_add_test(tc, the_job_language_takes_retry_on);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; fail the process on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(retry_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
