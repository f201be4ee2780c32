/*
 * check_room.c: unit tests for room.h, the room for file descriptors that
 * children and network jobs share.
 *
 * A job that runs out waits while others run (room_ready false until one
 * leaves), fails when none runs, and tries again at once when the reclaim
 * function freed idle descriptors; every shortage is counted; the probe
 * finds a full descriptor table and a free slot; the limit is getrlimit's.
 * Each test leaves no user behind, so they pass in one process too
 * (CK_FORK=no).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "room.h"

/* A reclaim function that frees nothing. */
static int
reclaim_none(void)
{
	return 0;
}

/* A reclaim function that closed three idle descriptors. */
static int
reclaim_three(void)
{
	return 3;
}

START_TEST(room_open_until_a_shortage)
{
	ck_assert(room_ready());
	room_enter();
	room_enter();
	ck_assert(room_ready());
	ck_assert_int_eq(room_wait(), 1); /* two run: wait for one */
	ck_assert(!room_ready());
	room_leave();
	ck_assert(room_ready()); /* one gave some back */
	room_enter();
	ck_assert(room_ready());
	room_leave();
	room_leave();
	ck_assert(room_ready());
}
END_TEST

START_TEST(room_nothing_running_fails)
{
	room_set_reclaim(NULL);
	ck_assert_int_eq(room_wait(), 0);
	ck_assert(room_ready());
	room_set_reclaim(reclaim_none);
	ck_assert_int_eq(room_wait(), 0);
	room_set_reclaim(NULL);
}
END_TEST

START_TEST(room_reclaim_tries_again_at_once)
{
	room_set_reclaim(reclaim_three);
	ck_assert_int_eq(room_wait(), 1);
	ck_assert(room_ready()); /* not held back: nothing would free it */
	room_set_reclaim(NULL);
}
END_TEST

START_TEST(room_shortages_are_counted)
{
	unsigned long n = room_shortages();

	room_wait();
	room_enter();
	room_wait();
	room_leave();
	ck_assert_uint_eq(room_shortages(), n + 2);
}
END_TEST

START_TEST(room_probe_sees_a_full_table)
{
	struct rlimit old, rl;
	int fds[64], n = 0, low = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* A limit 8 above the lowest free descriptor; the soft limit only:
	 * the hard one could not come back. */
	ck_assert_int_ge(low, 0);
	close(low);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)low + 8;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(room_fd_limit(), (long)rl.rlim_cur);
	ck_assert_int_eq(room_fds_short(), 0);
	while (n < 64 &&
	       (fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		n++;
	ck_assert_int_ge(n, 1);
	ck_assert_int_lt(n, 64);
	ck_assert_int_eq(errno, EMFILE);
	ck_assert_int_eq(room_fds_short(), EMFILE);
	close(fds[--n]);
	ck_assert_int_eq(room_fds_short(), 0);
	while (n > 0)
		close(fds[--n]);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
}
END_TEST

/* The suite. */
static Suite *
room_suite(void)
{
	Suite *s = suite_create("room");
	TCase *tc = tcase_create("room");

	tcase_add_test(tc, room_open_until_a_shortage);
	tcase_add_test(tc, room_nothing_running_fails);
	tcase_add_test(tc, room_reclaim_tries_again_at_once);
	tcase_add_test(tc, room_shortages_are_counted);
	tcase_add_test(tc, room_probe_sees_a_full_table);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; EXIT_FAILURE on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(room_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
