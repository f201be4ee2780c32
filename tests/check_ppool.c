/*
 * check_ppool.c: the process pool on a real loop with a real fork server.
 *
 * Every test forks its own fork server (Check runs each test in a child
 * process, which has no thread) and drives the pool with the real kinds
 * (primes, spin, read). A test ends when the loop runs out of work: the
 * pool holds the loop only while it holds tasks. An unreferenced timer
 * fails a test that hangs; no timing is asserted but with wide margins.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forksrv.h"
#include "future.h"
#include "kinds.h"
#include "pool_proc.h"
#include "util.h"

#define MAXREC 3000

struct rec {
	const char *kind;
	char *argv[2];
	int starts, dones;
	int start_seq, done_seq;
	pid_t pid; /* worker pid at start */
	enum job_status status;
	int signal;
	char value[64];
	char error[128];
};

static struct rec recs[MAXREC];
static int nrecs, nsubmitted, ndone, seq;
static struct ev_loop *loop;
static ev_timer safety;
static void (*start_hook)(struct rec *);
static void (*done_hook)(struct rec *);

/* Fail a test that hangs. */
static void
safety_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)l;
	(void)t;
	(void)revents;
	ck_abort_msg("test timed out (%d of %d tasks done)", ndone, nrecs);
}

/* The pool's start callback. */
static void
on_start(void *ctx)
{
	struct rec *r = ctx;

	r->starts++;
	r->start_seq = ++seq;
	r->pid = ppool_worker_pid(r);
	if (start_hook != NULL)
		start_hook(r);
}

/* Submit the next records while the pool has room. */
static void
pump(void)
{
	while (nsubmitted < nrecs && ppool_ready()) {
		struct rec *r = &recs[nsubmitted++];

		ppool_submit(r, kind_find(r->kind), 1, r->argv);
	}
}

/* The pool's done callback. */
static void
on_done(void *ctx, struct result *res)
{
	struct rec *r = ctx;

	r->dones++;
	r->done_seq = ++seq;
	r->status = res->status;
	r->signal = res->signal;
	snprintf(r->value, sizeof r->value, "%s",
		 res->value.data != NULL ? res->value.data : "");
	snprintf(r->error, sizeof r->error, "%s",
		 res->error != NULL ? res->error : "");
	result_free(res);
	ndone++;
	if (done_hook != NULL)
		done_hook(r);
	pump();
}

/* Add a task record (not yet submitted). */
static struct rec *
add(const char *kind, const char *arg)
{
	struct rec *r = &recs[nrecs++];

	ck_assert_int_lt(nrecs, MAXREC);
	r->kind = kind;
	r->argv[0] = (char *)arg;
	r->argv[1] = NULL;
	return r;
}

/* A fork server, a loop and a pool of n workers. */
static void
setup(int n)
{
	signal(SIGPIPE, SIG_IGN);
	forksrv_start();
	loop = ev_default_loop(0);
	ppool_init(loop, n, on_start, on_done);
	ev_timer_init(&safety, safety_cb, 20, 0);
	ev_timer_start(loop, &safety);
	ev_unref(loop);
}

/* Run the loop until the pool holds nothing. */
static void
run(void)
{
	pump();
	ev_run(loop, 0);
}

/* Is pid gone (or a zombie nobody will wait for here)? */
static int
pid_gone(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;
	char *p;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 1;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	p = p != NULL ? strrchr(buf, ')') : NULL;
	return p != NULL && p[2] == 'Z';
}

/* Shut down and check that no child is left, nor any of the given pids. */
static void
teardown_checked(const pid_t *pids, int npids)
{
	pid_t fs = forksrv_pid();

	ck_assert_int_gt(fs, 0);
	ppool_shutdown();
	ck_assert_int_eq(kill(fs, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	for (int i = 0; i < npids; i++)
		ck_assert_msg(kill(pids[i], 0) == -1 && errno == ESRCH,
			      "worker %d outlived shutdown", (int)pids[i]);
}

/* Every record started once and ended once, in that order. */
static void
assert_all_done_once(void)
{
	ck_assert_int_eq(ndone, nrecs);
	for (int i = 0; i < nrecs; i++) {
		ck_assert_int_eq(recs[i].starts, 1);
		ck_assert_int_eq(recs[i].dones, 1);
		ck_assert_int_lt(recs[i].start_seq, recs[i].done_seq);
	}
}

START_TEST(test_ppool_many_trivial_tasks_complete_once_with_values)
{
	static const char *const n[] = {"1", "2", "10", "100", "1000"};
	static const char *const want[] = {"0", "1", "4", "25", "168"};
	pid_t pids[2];
	int npids = 0;

	setup(2);
	for (int i = 0; i < 2500; i++)
		add("primes", n[i % 5]);
	run();
	assert_all_done_once();
	for (int i = 0; i < nrecs; i++) {
		ck_assert_int_eq(recs[i].status, ST_OK);
		ck_assert_str_eq(recs[i].value, want[i % 5]);
		ck_assert_int_gt(recs[i].pid, 0);
		if (npids < 2 && (npids == 0 || recs[i].pid != pids[0]))
			pids[npids++] = recs[i].pid;
	}
	ck_assert_int_eq(npids, 2);
	ck_assert_uint_eq(ppool_replacements(), 0);
	teardown_checked(pids, npids);
}
END_TEST

START_TEST(test_ppool_job_errors_come_back_as_failed)
{
	struct rec *r;

	setup(1);
	r = add("read", "/nonexistent/corun-check");
	run();
	assert_all_done_once();
	ck_assert_int_eq(r->status, ST_FAILED);
	ck_assert_int_eq(r->signal, 0);
	ck_assert_str_eq(r->error,
			 "read: /nonexistent/corun-check: No such file or "
			 "directory");
	teardown_checked(NULL, 0);
}
END_TEST

START_TEST(test_ppool_two_workers_run_in_parallel)
{
	struct rec *a, *b;
	double t0, took;

	setup(2);
	a = add("spin", "1s");
	b = add("spin", "1s");
	t0 = mono_now();
	run();
	took = mono_now() - t0;
	assert_all_done_once();
	ck_assert_int_eq(a->status, ST_OK);
	ck_assert_int_eq(b->status, ST_OK);
	ck_assert_int_lt(a->start_seq, b->done_seq);
	ck_assert_int_lt(b->start_seq, a->done_seq);
	ck_assert_int_ne(a->pid, b->pid);
	/* One after the other would take 2 s. */
	ck_assert_msg(took < 1.9, "two 1 s spins took %.2f s", took);
	teardown_checked(NULL, 0);
}
END_TEST

START_TEST(test_ppool_few_tasks_do_not_queue_behind_a_long_one)
{
	struct rec *a, *b, *c;

	setup(2);
	a = add("spin", "2s");
	b = add("spin", "0.2s");
	c = add("primes", "100");
	run();
	assert_all_done_once();
	ck_assert_str_eq(c->value, "25");
	/* c waited for a free worker rather than behind a's 2 s. */
	ck_assert_int_lt(c->done_seq, a->done_seq);
	ck_assert_int_eq(c->pid, b->pid);
	ck_assert_int_ne(a->pid, b->pid);
	teardown_checked(NULL, 0);
}
END_TEST

static ev_timer act;
static struct rec *victim;
static pid_t victim_pid;

/* Kill the victim's worker. */
static void
kill_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)l;
	(void)t;
	(void)revents;
	ck_assert_int_eq(kill(victim_pid, SIGKILL), 0);
}

/* When the victim starts, kill its worker a little later. */
static void
kill_victim_on_start(struct rec *r)
{
	if (r != victim)
		return;
	victim_pid = r->pid;
	ck_assert_int_gt(victim_pid, 0);
	ev_timer_init(&act, kill_cb, 0.2, 0);
	ev_timer_start(loop, &act);
}

START_TEST(test_ppool_killed_worker_fails_only_its_task)
{
	pid_t pids[1];

	setup(1);
	victim = add("spin", "30s");
	for (int i = 0; i < 3; i++)
		add("primes", "100");
	start_hook = kill_victim_on_start;
	run();
	assert_all_done_once();
	ck_assert_int_eq(victim->status, ST_FAILED);
	ck_assert_int_eq(victim->signal, SIGKILL);
	ck_assert_str_eq(victim->error,
			 "worker died: killed by signal 9 (SIGKILL)");
	for (int i = 1; i < 4; i++) {
		ck_assert_int_eq(recs[i].status, ST_OK);
		ck_assert_str_eq(recs[i].value, "25");
		ck_assert_int_ne(recs[i].pid, victim_pid);
	}
	/* The pool keeps serving. */
	for (int i = 0; i < 5; i++)
		add("primes", "1000");
	run();
	assert_all_done_once();
	for (int i = 4; i < nrecs; i++) {
		ck_assert_int_eq(recs[i].status, ST_OK);
		ck_assert_str_eq(recs[i].value, "168");
	}
	ck_assert_uint_eq(ppool_replacements(), 1);
	pids[0] = victim_pid;
	teardown_checked(pids, 1);
}
END_TEST

START_TEST(test_ppool_killed_worker_others_keep_running)
{
	pid_t pids[1];

	setup(2);
	victim = add("spin", "30s");
	for (int i = 0; i < 40; i++)
		add("primes", "100");
	start_hook = kill_victim_on_start;
	run();
	assert_all_done_once();
	ck_assert_int_eq(victim->signal, SIGKILL);
	for (int i = 1; i < nrecs; i++)
		ck_assert_str_eq(recs[i].value, "25");
	ck_assert_uint_eq(ppool_replacements(), 1);
	pids[0] = victim_pid;
	teardown_checked(pids, 1);
}
END_TEST

static struct rec *queued, *waiting;
static int cancel_rc, cancel_queued_rc, cancel_waiting_rc;

/* Cancel the victim (running), and two tasks that have not started. */
static void
cancel_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)l;
	(void)t;
	(void)revents;
	cancel_waiting_rc = ppool_cancel(waiting);
	cancel_rc = ppool_cancel(victim);
	cancel_queued_rc = ppool_cancel(queued);
	ppool_submit(queued, kind_find("primes"), 1, (char *[]){"10", NULL});
	cancel_queued_rc += ppool_cancel(queued);
}

/* When the victim starts, cancel it a little later. */
static void
cancel_victim_on_start(struct rec *r)
{
	if (r != victim)
		return;
	victim_pid = r->pid;
	ev_timer_init(&act, cancel_cb, 0.2, 0);
	ev_timer_start(loop, &act);
}

START_TEST(test_ppool_cancel_running_kills_and_replaces)
{
	pid_t pids[1];

	setup(1);
	victim = add("spin", "30s");
	waiting = add("primes", "10");
	add("primes", "100");
	queued = &recs[MAXREC - 1];
	start_hook = cancel_victim_on_start;
	run();
	ck_assert_int_eq(cancel_rc, SIGKILL);
	ck_assert_int_eq(cancel_waiting_rc, 0);
	ck_assert_int_eq(cancel_queued_rc, 0);
	ck_assert_int_eq(victim->dones, 0);
	ck_assert_int_eq(waiting->dones, 0);
	ck_assert_int_eq(queued->dones, 0);
	ck_assert_int_eq(queued->starts, 0);
	ck_assert_int_eq(recs[2].dones, 1);
	ck_assert_str_eq(recs[2].value, "25");
	ck_assert_int_ne(recs[2].pid, victim_pid);
	ck_assert_uint_eq(ppool_replacements(), 1);
	/* Really killed, not just forgotten: the server reaps it. */
	for (int i = 0; i < 500 && kill(victim_pid, 0) == 0; i++)
		usleep(10000);
	ck_assert_int_eq(kill(victim_pid, 0), -1);
	pids[0] = victim_pid;
	teardown_checked(pids, 1);
}
END_TEST

static struct rec *second;

/* Cancel the second task (sent, not started). */
static void
cancel_second_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)l;
	(void)t;
	(void)revents;
	cancel_waiting_rc = ppool_cancel(second);
}

/* Once the first task has started and the others have been dealt out
 * (the next loop iteration), cancel the second. */
static void
cancel_second_on_start(struct rec *r)
{
	if (r != victim)
		return;
	ev_timer_init(&act, cancel_second_cb, 0, 0);
	ev_timer_start(loop, &act);
}

START_TEST(test_ppool_cancel_not_started_drops_result)
{
	setup(1);
	victim = add("spin", "1s");
	second = add("primes", "100");
	add("primes", "1000");
	start_hook = cancel_second_on_start;
	run();
	ck_assert_int_eq(cancel_waiting_rc, 0);
	ck_assert_int_eq(second->starts, 0);
	ck_assert_int_eq(second->dones, 0);
	ck_assert_int_eq(victim->dones, 1);
	ck_assert_int_eq(recs[2].dones, 1);
	ck_assert_str_eq(recs[2].value, "168");
	ck_assert_uint_eq(ppool_replacements(), 0);
	teardown_checked(NULL, 0);
}
END_TEST

static char fdlinks[16][128];
static int nfdlinks;
static char status_blk[64], status_ign[64];

/* glibc reserves signals 32 and 33 for itself: sigaction cannot reset
 * them, and a process started by posix_spawn (make does that) may have
 * them ignored from the start. */
#define GLIBC_RESERVED_SIGS 0x180000000ULL

/* Read the links of /proc/PID/fd, sorted by fd number. */
static void
read_fds(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *de;

	nfdlinks = 0;
	memset(fdlinks, 0, sizeof fdlinks);
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		char p[128];
		int fd;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		ck_assert_int_lt(fd, 16);
		snprintf(p, sizeof p, "%s/%d", path, fd);
		n = readlink(p, fdlinks[fd], sizeof fdlinks[fd] - 1);
		ck_assert_int_gt(n, 0);
		fdlinks[fd][n] = '\0';
		nfdlinks++;
	}
	closedir(d);
}

/* How many of the fds read by read_fds above 2 are pipes. */
static int
count_pipes(void)
{
	int n = 0;

	for (int fd = 3; fd < 16; fd++)
		if (strncmp(fdlinks[fd], "pipe:", 5) == 0)
			n++;
	return n;
}

/* Read SigBlk and SigIgn of /proc/PID/status. */
static void
read_sigs(pid_t pid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "SigBlk:", 7) == 0)
			sscanf(line + 7, "%63s", status_blk);
		if (strncmp(line, "SigIgn:", 7) == 0)
			sscanf(line + 7, "%63s", status_ign);
	}
	fclose(f);
	snprintf(status_ign, sizeof status_ign, "%016llx",
		 strtoull(status_ign, NULL, 16) & ~GLIBC_RESERVED_SIGS);
}

/* Look at the worker and the server while the victim runs. */
static void
inspect_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	pid_t fs = forksrv_pid();

	(void)l;
	(void)t;
	(void)revents;
	read_fds(victim_pid);
	ck_assert_int_eq(nfdlinks, 5);
	ck_assert_str_eq(fdlinks[0], "/dev/null");
	ck_assert_str_eq(fdlinks[1], "/dev/null");
	ck_assert(fdlinks[2][0] != '\0');
	ck_assert_int_eq(count_pipes(), 2);
	ck_assert_int_eq(getpgid(victim_pid), victim_pid);
	read_sigs(victim_pid);
	ck_assert_str_eq(status_blk, "0000000000000000");
	ck_assert_str_eq(status_ign, "0000000000000000");

	/* The server: 0-2, its socket, the watchdog's pipe, its signalfd. */
	read_fds(fs);
	ck_assert_int_eq(nfdlinks, 6);
	ck_assert(strncmp(fdlinks[3], "socket:", 7) == 0);
	ck_assert(strncmp(fdlinks[4], "pipe:", 5) == 0);
	ck_assert(strstr(fdlinks[5], "signalfd") != NULL);
	ck_assert_int_eq(getpgid(fs), fs);
	read_sigs(fs);
	ck_assert_str_eq(status_ign, "0000000000000000");
	ppool_cancel(victim);
}

/* When the victim starts, inspect its worker a little later. */
static void
inspect_on_start(struct rec *r)
{
	victim_pid = r->pid;
	ev_timer_init(&act, inspect_cb, 0.2, 0);
	ev_timer_start(loop, &act);
}

START_TEST(test_ppool_worker_holds_only_its_pipes)
{
	/* valgrind keeps fds of its own in every process it runs. */
	if (getenv("CORUN_VALGRIND") != NULL)
		return;

	setup(1);
	victim = add("spin", "30s");
	start_hook = inspect_on_start;
	run();
	ck_assert_int_eq(nfdlinks, 6); /* the server was inspected last */
	teardown_checked(&victim_pid, 1);
}
END_TEST

/* Kill the fork server itself. */
static void
kill_server_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)l;
	(void)t;
	(void)revents;
	ck_assert_int_eq(kill(forksrv_pid(), SIGKILL), 0);
}

/* When the victim starts, kill the fork server a little later. */
static void
kill_server_on_start(struct rec *r)
{
	victim_pid = r->pid;
	ev_timer_init(&act, kill_server_cb, 0.2, 0);
	ev_timer_start(loop, &act);
}

/* After the failures, one more task, which must fail too. */
static void
one_more(struct rec *r)
{
	if (r == victim)
		add("primes", "10");
}

START_TEST(test_ppool_fork_server_death_fails_everything)
{
	setup(1);
	victim = add("spin", "30s");
	add("primes", "100");
	start_hook = kill_server_on_start;
	done_hook = one_more;
	run();
	ck_assert_int_eq(nrecs, 3);
	ck_assert_int_eq(ndone, 3);
	for (int i = 0; i < nrecs; i++) {
		ck_assert_int_eq(recs[i].dones, 1);
		ck_assert_int_eq(recs[i].status, ST_FAILED);
		ck_assert_int_eq(recs[i].signal, 0);
		ck_assert_msg(strstr(recs[i].error, "fork server") != NULL,
			      "error: %s", recs[i].error);
	}
	ck_assert_int_eq(victim->starts, 1);
	ck_assert_int_eq(recs[2].starts, 0);
	/* Its worker was killed; init reaps it in its own time. */
	for (int i = 0; i < 500 && !pid_gone(victim_pid); i++)
		usleep(10000);
	ck_assert(pid_gone(victim_pid));
	teardown_checked(NULL, 0);
}
END_TEST

/* The suite. */
static Suite *
ppool_suite(void)
{
	Suite *s = suite_create("ppool");
	TCase *tc = tcase_create("ppool");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		       test_ppool_many_trivial_tasks_complete_once_with_values);
	tcase_add_test(tc, test_ppool_job_errors_come_back_as_failed);
	tcase_add_test(tc, test_ppool_two_workers_run_in_parallel);
	tcase_add_test(tc, test_ppool_few_tasks_do_not_queue_behind_a_long_one);
	tcase_add_test(tc, test_ppool_killed_worker_fails_only_its_task);
	tcase_add_test(tc, test_ppool_killed_worker_others_keep_running);
	tcase_add_test(tc, test_ppool_cancel_running_kills_and_replaces);
	tcase_add_test(tc, test_ppool_cancel_not_started_drops_result);
	tcase_add_test(tc, test_ppool_worker_holds_only_its_pipes);
	tcase_add_test(tc, test_ppool_fork_server_death_fails_everything);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; fail on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(ppool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
