/*
 * check_future.c: unit tests for results and the future state machine.
 *
 * Every transition and every refused one, the callback's exactly-once
 * rule, elapsed time and result ownership (run under valgrind with
 * CK_FORK=no to see that nothing leaks).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "future.h"

struct cbrec {
	int calls;
	struct future *f;
	enum fut_state state; /* the future's state when the callback ran */
	char value[64];	      /* its value then */
	bool free_it;	      /* free the (heap) future from the callback */
};

/* Record a settlement callback. */
static void
record_cb(struct future *f, void *arg)
{
	struct cbrec *r = arg;

	r->calls++;
	r->f = f;
	r->state = f->state;
	snprintf(r->value, sizeof r->value, "%s",
		 f->res.value.data != NULL ? f->res.value.data : "");
	if (r->free_it) {
		future_free(f);
		free(f);
	}
}

/* A result with a value, an error and captured stderr. */
static void
make_result(struct result *r, enum job_status st, const char *value)
{
	result_init(r);
	r->status = st;
	buf_adds(&r->value, value);
	buf_adds(&r->errout, "err text");
	r->has_errout = true;
	r->exit = 3;
	result_error(r, "exit status %d", 3);
}

START_TEST(status_names_are_the_record_words)
{
	ck_assert_str_eq(status_name(ST_OK), "ok");
	ck_assert_str_eq(status_name(ST_FAILED), "failed");
	ck_assert_str_eq(status_name(ST_TIMEOUT), "timeout");
	ck_assert_str_eq(status_name(ST_CANCELLED), "cancelled");
	ck_assert_str_eq(status_name(ST_SKIPPED), "skipped");
	ck_assert_str_eq(status_name(ST_ERROR), "error");
	ck_assert_str_eq(status_name((enum job_status)ST_COUNT), "?");
}
END_TEST

START_TEST(result_init_is_empty_with_no_exit_and_no_signal)
{
	struct result r;

	memset(&r, 0x5a, sizeof r);
	result_init(&r);
	ck_assert_int_eq(r.status, ST_OK);
	ck_assert_int_eq(r.exit, -1);
	ck_assert_int_eq(r.signal, 0);
	ck_assert(!r.truncated);
	ck_assert(!r.has_errout);
	ck_assert_ptr_null(r.value.data);
	ck_assert_uint_eq(r.value.len, 0);
	ck_assert_ptr_null(r.errout.data);
	ck_assert_uint_eq(r.errout.len, 0);
	ck_assert_ptr_null(r.error);
}
END_TEST

START_TEST(result_error_sets_and_replaces_the_message)
{
	struct result r;

	result_init(&r);
	result_error(&r, "read: %s: %s", "/nope", "No such file or directory");
	ck_assert_str_eq(r.error, "read: /nope: No such file or directory");
	result_error(&r, "timed out after %s", "0.5s");
	ck_assert_str_eq(r.error, "timed out after 0.5s");
	result_error(&r, "%s", "");
	ck_assert_str_eq(r.error, "");
	result_free(&r);
}
END_TEST

START_TEST(result_error_may_quote_the_old_message)
{
	struct result r;

	result_init(&r);
	result_error(&r, "inner");
	result_error(&r, "outer: %s", r.error);
	ck_assert_str_eq(r.error, "outer: inner");
	result_free(&r);
}
END_TEST

START_TEST(result_free_releases_and_reinitialises)
{
	struct result r;

	make_result(&r, ST_FAILED, "out");
	r.signal = 9;
	r.truncated = true;
	result_free(&r);
	ck_assert_int_eq(r.status, ST_OK);
	ck_assert_int_eq(r.exit, -1);
	ck_assert_int_eq(r.signal, 0);
	ck_assert(!r.truncated);
	ck_assert(!r.has_errout);
	ck_assert_ptr_null(r.value.data);
	ck_assert_ptr_null(r.errout.data);
	ck_assert_ptr_null(r.error);
	result_free(&r);
}
END_TEST

START_TEST(result_move_hands_everything_over_and_empties_src)
{
	struct result src, dst;

	make_result(&src, ST_FAILED, "new value");
	src.signal = 15;
	src.truncated = true;
	make_result(&dst, ST_OK, "old value"); /* freed by the move */
	char *data = src.value.data;

	result_move(&dst, &src);
	ck_assert_int_eq(dst.status, ST_FAILED);
	ck_assert_ptr_eq(dst.value.data, data);
	ck_assert_str_eq(dst.value.data, "new value");
	ck_assert_str_eq(dst.errout.data, "err text");
	ck_assert_str_eq(dst.error, "exit status 3");
	ck_assert_int_eq(dst.exit, 3);
	ck_assert_int_eq(dst.signal, 15);
	ck_assert(dst.truncated);
	ck_assert(dst.has_errout);

	ck_assert_int_eq(src.status, ST_OK);
	ck_assert_int_eq(src.exit, -1);
	ck_assert_int_eq(src.signal, 0);
	ck_assert_ptr_null(src.value.data);
	ck_assert_ptr_null(src.errout.data);
	ck_assert_ptr_null(src.error);
	result_free(&dst);
	result_free(&src);
}
END_TEST

START_TEST(result_move_onto_itself_changes_nothing)
{
	struct result r;

	make_result(&r, ST_FAILED, "v");
	result_move(&r, &r);
	ck_assert_str_eq(r.value.data, "v");
	ck_assert_str_eq(r.error, "exit status 3");
	result_free(&r);
}
END_TEST

START_TEST(future_init_is_pending_and_silent)
{
	struct future f;
	struct cbrec rec = {0};

	future_init(&f, record_cb, &rec);
	ck_assert_int_eq(f.state, FUT_PENDING);
	ck_assert(f.started == 0);
	ck_assert(f.ended == 0);
	ck_assert_int_eq(f.res.exit, -1);
	ck_assert_ptr_null(f.res.error);
	ck_assert_int_eq(rec.calls, 0);
	ck_assert(future_elapsed(&f) == 0);
	future_free(&f);
}
END_TEST

START_TEST(future_start_moves_pending_to_running_once)
{
	struct future f;
	struct cbrec rec = {0};

	future_init(&f, record_cb, &rec);
	ck_assert_int_eq(future_start(&f, 10.0), 0);
	ck_assert_int_eq(f.state, FUT_RUNNING);
	ck_assert(f.started == 10.0);
	/* Refused from RUNNING: the first start time stays. */
	ck_assert_int_eq(future_start(&f, 11.0), -1);
	ck_assert_int_eq(f.state, FUT_RUNNING);
	ck_assert(f.started == 10.0);
	ck_assert_int_eq(rec.calls, 0);
	future_free(&f);
}
END_TEST

START_TEST(future_settle_from_running_moves_result_and_calls_back)
{
	struct future f;
	struct cbrec rec = {0};
	struct result r;

	future_init(&f, record_cb, &rec);
	future_start(&f, 10.0);
	make_result(&r, ST_OK, "42");
	ck_assert_int_eq(future_settle(&f, &r, 12.5), 0);
	ck_assert_int_eq(f.state, FUT_DONE);
	ck_assert(f.ended == 12.5);
	ck_assert_str_eq(f.res.value.data, "42");
	ck_assert_str_eq(f.res.error, "exit status 3");
	/* The offered result was moved from. */
	ck_assert_ptr_null(r.value.data);
	ck_assert_ptr_null(r.error);
	/* The callback ran once, on the settled future. */
	ck_assert_int_eq(rec.calls, 1);
	ck_assert_ptr_eq(rec.f, &f);
	ck_assert_int_eq(rec.state, FUT_DONE);
	ck_assert_str_eq(rec.value, "42");
	ck_assert(future_elapsed(&f) == 2.5);
	future_free(&f);
}
END_TEST

START_TEST(future_settle_twice_is_refused_and_leaves_the_result)
{
	struct future f;
	struct cbrec rec = {0};
	struct result r1, r2;

	future_init(&f, record_cb, &rec);
	future_start(&f, 1.0);
	make_result(&r1, ST_OK, "first");
	ck_assert_int_eq(future_settle(&f, &r1, 2.0), 0);
	make_result(&r2, ST_FAILED, "second");
	ck_assert_int_eq(future_settle(&f, &r2, 3.0), -1);
	ck_assert_int_eq(rec.calls, 1);
	ck_assert_str_eq(f.res.value.data, "first");
	ck_assert_int_eq(f.res.status, ST_OK);
	ck_assert(f.ended == 2.0);
	/* r2 is untouched and still the caller's. */
	ck_assert_int_eq(r2.status, ST_FAILED);
	ck_assert_str_eq(r2.value.data, "second");
	ck_assert_str_eq(r2.error, "exit status 3");
	result_free(&r2);
	result_free(&r1);
	future_free(&f);
}
END_TEST

START_TEST(future_start_after_settle_is_refused)
{
	struct future f;
	struct cbrec rec = {0};
	struct result r;

	future_init(&f, record_cb, &rec);
	future_start(&f, 1.0);
	result_init(&r);
	future_settle(&f, &r, 4.0);
	ck_assert_int_eq(future_start(&f, 5.0), -1);
	ck_assert_int_eq(f.state, FUT_DONE);
	ck_assert(f.started == 1.0);
	ck_assert(future_elapsed(&f) == 3.0);
	ck_assert_int_eq(rec.calls, 1);
	future_free(&f);
}
END_TEST

START_TEST(future_settle_without_start_has_no_elapsed_time)
{
	struct future f;
	struct cbrec rec = {0};
	struct result r;

	future_init(&f, record_cb, &rec);
	result_init(&r);
	r.status = ST_SKIPPED;
	ck_assert_int_eq(future_settle(&f, &r, 7.0), 0);
	ck_assert_int_eq(f.state, FUT_DONE);
	ck_assert_int_eq(f.res.status, ST_SKIPPED);
	ck_assert(f.started == 0);
	ck_assert(f.ended == 7.0);
	ck_assert(future_elapsed(&f) == 0);
	ck_assert_int_eq(rec.calls, 1);
	/* Settled without running: it can never start now. */
	ck_assert_int_eq(future_start(&f, 8.0), -1);
	ck_assert(future_elapsed(&f) == 0);
	future_free(&f);
}
END_TEST

START_TEST(future_running_has_no_elapsed_time_yet)
{
	struct future f;

	future_init(&f, NULL, NULL);
	future_start(&f, 3.0);
	ck_assert(future_elapsed(&f) == 0);
	future_free(&f);
}
END_TEST

START_TEST(future_without_callback_settles)
{
	struct future f;
	struct result r;

	future_init(&f, NULL, NULL);
	make_result(&r, ST_OK, "x");
	ck_assert_int_eq(future_settle(&f, &r, 1.0), 0);
	ck_assert_int_eq(f.state, FUT_DONE);
	ck_assert_str_eq(f.res.value.data, "x");
	future_free(&f);
}
END_TEST

START_TEST(future_callback_may_free_the_future)
{
	struct future *f = malloc(sizeof *f);
	struct cbrec rec = {0};
	struct result r;

	rec.free_it = true;
	future_init(f, record_cb, &rec);
	future_start(f, 1.0);
	make_result(&r, ST_OK, "gone");
	ck_assert_int_eq(future_settle(f, &r, 2.0), 0);
	ck_assert_int_eq(rec.calls, 1);
	ck_assert_str_eq(rec.value, "gone");
}
END_TEST

START_TEST(future_free_releases_the_result)
{
	struct future f;
	struct result r;

	future_init(&f, NULL, NULL);
	make_result(&r, ST_OK, "value");
	future_settle(&f, &r, 1.0);
	future_free(&f);
	ck_assert_ptr_null(f.res.value.data);
	ck_assert_ptr_null(f.res.error);
}
END_TEST

/* The future suite. */
static Suite *
future_suite(void)
{
	Suite *s = suite_create("future");
	TCase *tc = tcase_create("result");

	tcase_add_test(tc, status_names_are_the_record_words);
	tcase_add_test(tc, result_init_is_empty_with_no_exit_and_no_signal);
	tcase_add_test(tc, result_error_sets_and_replaces_the_message);
	tcase_add_test(tc, result_error_may_quote_the_old_message);
	tcase_add_test(tc, result_free_releases_and_reinitialises);
	tcase_add_test(tc, result_move_hands_everything_over_and_empties_src);
	tcase_add_test(tc, result_move_onto_itself_changes_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("future");
	tcase_add_test(tc, future_init_is_pending_and_silent);
	tcase_add_test(tc, future_start_moves_pending_to_running_once);
	tcase_add_test(tc,
		       future_settle_from_running_moves_result_and_calls_back);
	tcase_add_test(tc,
		       future_settle_twice_is_refused_and_leaves_the_result);
	tcase_add_test(tc, future_start_after_settle_is_refused);
	tcase_add_test(tc, future_settle_without_start_has_no_elapsed_time);
	tcase_add_test(tc, future_running_has_no_elapsed_time_yet);
	tcase_add_test(tc, future_without_callback_settles);
	tcase_add_test(tc, future_callback_may_free_the_future);
	tcase_add_test(tc, future_free_releases_the_result);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; EXIT_FAILURE on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(future_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
