/*
 * check_tpool.c: unit tests for the thread pool on a real ev_loop.
 *
 * The pool is driven the way the scheduler drives it (submit only while
 * tpool_idle() > 0), with kinds defined here: "echo" returns its
 * arguments (or fails), "gate" blocks until the test opens the gate, and
 * "sigmask" reports which signals are blocked in the thread running it;
 * one test runs real rows of the kind table.
 * Waiting is on conditions, never on tuned sleeps; every wait gives up
 * after SAFETY seconds and fails the test.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "future.h"
#include "executors.h"
#include "kinds.h"
#include "pool_thread.h"

#define SAFETY 10.0 /* seconds before a wait counts as a hang */
#define MAXCTX 2000

/* echo ARG...: the arguments joined by spaces; "fail" as the first
 * argument fails with a message naming the second. */
static int
run_echo(int argc, char *const argv[], struct buf *value, char *err,
	 size_t errlen)
{
	if (argc > 0 && strcmp(argv[0], "fail") == 0) {
		errfmt(err, errlen, "echo: %s: refused",
		       argc > 1 ? argv[1] : "");
		return -1;
	}
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			buf_addc(value, ' ');
		buf_adds(value, argv[i]);
	}
	return 0;
}

/* A gate that blocking calls wait at until the test opens it. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int entered;
	int left;
	bool open;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, false};

/* gate: wait for the gate to open; the value is "gate". */
static int
run_gate(int argc, char *const argv[], struct buf *value, char *err,
	 size_t errlen)
{
	(void)argc;
	(void)argv;
	(void)err;
	(void)errlen;
	pthread_mutex_lock(&gate.mu);
	gate.entered++;
	pthread_cond_broadcast(&gate.cond);
	while (!gate.open)
		pthread_cond_wait(&gate.cond, &gate.mu);
	gate.left++;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.mu);
	buf_adds(value, "gate");
	return 0;
}

/* sigmask: the signals of a fixed list that are NOT blocked here, or
 * "all blocked". */
static int
run_sigmask(int argc, char *const argv[], struct buf *value, char *err,
	    size_t errlen)
{
	static const int sigs[] = {SIGINT,  SIGTERM, SIGHUP,  SIGCHLD, SIGPIPE,
				   SIGALRM, SIGUSR1, SIGUSR2, SIGQUIT};
	sigset_t cur;

	(void)argc;
	(void)argv;
	if (pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0) {
		errfmt(err, errlen, "pthread_sigmask failed");
		return -1;
	}
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (!sigismember(&cur, sigs[i]))
			buf_printf(value, "%d ", sigs[i]);
	if (value->len == 0)
		buf_adds(value, "all blocked");
	return 0;
}


/* What the pool reported for one context. */
struct tctx {
	int id;
	int starts;
	int dones;
	bool started_first; /* start came before done */
	struct result res;
};

static struct ev_loop *loop;
static struct tctx ctxs[MAXCTX];
static int nstarts, ndones;
/* Called after each done, to submit more (a scheduler's kick). */
static void (*after_done)(void);

/* start function: count it. */
static void
on_start(void *ctx, double when)
{
	(void)when;
	struct tctx *c = ctx;

	c->starts++;
	nstarts++;
}

/* done function: count it and keep the result. */
static void
on_done(void *ctx, struct result *res)
{
	struct tctx *c = ctx;

	c->started_first = c->starts > c->dones;
	c->dones++;
	ndones++;
	result_move(&c->res, res);
	if (after_done != NULL)
		after_done();
}

/* Fresh loop and counters for a test. */
static void
setup(void)
{
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	for (int i = 0; i < MAXCTX; i++) {
		ctxs[i] = (struct tctx){.id = i};
		result_init(&ctxs[i].res);
	}
	nstarts = ndones = 0;
	after_done = NULL;
	pthread_mutex_lock(&gate.mu);
	gate.entered = gate.left = 0;
	gate.open = false;
	pthread_mutex_unlock(&gate.mu);
}

/* Shut the pool down (if a test did not) and free what the test kept. */
static void
teardown(void)
{
	tpool_shutdown();
	ev_loop_destroy(loop);
	for (int i = 0; i < MAXCTX; i++)
		result_free(&ctxs[i].res);
}

static bool (*until)(void);
static bool safety_fired;

/* ev_check: stop the loop once the awaited condition holds. */
static void
until_check_cb(struct ev_loop *l, ev_check *w, int revents)
{
	(void)w;
	(void)revents;
	if (until())
		ev_break(l, EVBREAK_ONE);
}

/* Safety timer: the awaited condition never came. */
static void
safety_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	safety_fired = true;
	ev_break(l, EVBREAK_ONE);
}

/* Run the loop until pred() holds, or SAFETY seconds; pred()'s final
 * value. */
static bool
run_until(bool (*pred)(void))
{
	ev_check check;
	ev_timer safety;

	if (pred())
		return true;
	until = pred;
	safety_fired = false;
	ev_check_init(&check, until_check_cb);
	ev_check_start(loop, &check);
	ev_timer_init(&safety, safety_cb, SAFETY, 0);
	ev_timer_start(loop, &safety);
	ev_run(loop, 0);
	ev_timer_stop(loop, &safety);
	ev_check_stop(loop, &check);
	return pred();
}

/* Run the loop until it has nothing left to do (the pool must let it
 * return); an unreferenced safety timer catches a hang. True unless the
 * safety timer fired. */
static bool
run_to_completion(void)
{
	ev_timer safety;

	safety_fired = false;
	ev_timer_init(&safety, safety_cb, SAFETY, 0);
	ev_timer_start(loop, &safety);
	ev_unref(loop);
	ev_run(loop, 0);
	ev_ref(loop);
	ev_timer_stop(loop, &safety);
	return !safety_fired;
}

/* Absolute CLOCK_REALTIME deadline SAFETY seconds from now. */
static struct timespec
deadline(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)SAFETY;
	return ts;
}

/* Block until n calls are inside the gate (or SAFETY); the count then.
 * One loop iteration first: the pool hands what was submitted to its
 * threads in the loop's prepare phase. */
static int
gate_wait_entered(int n)
{
	struct timespec ts = deadline();
	int entered;

	ev_run(loop, EVRUN_NOWAIT);
	pthread_mutex_lock(&gate.mu);
	while (gate.entered < n &&
	       pthread_cond_timedwait(&gate.cond, &gate.mu, &ts) != ETIMEDOUT)
		;
	entered = gate.entered;
	pthread_mutex_unlock(&gate.mu);
	return entered;
}

/* Let every call at the gate through, now and later. */
static void
gate_open(void)
{
	pthread_mutex_lock(&gate.mu);
	gate.open = true;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.mu);
}

/* Open the gate and block until every call that entered has left it. */
static bool
gate_drain(void)
{
	struct timespec ts = deadline();
	bool drained;

	gate_open();
	pthread_mutex_lock(&gate.mu);
	while (gate.left < gate.entered &&
	       pthread_cond_timedwait(&gate.cond, &gate.mu, &ts) != ETIMEDOUT)
		;
	drained = gate.left == gate.entered;
	pthread_mutex_unlock(&gate.mu);
	return drained;
}

/* Submit one echo of ctxs[i]'s number. */
static void
submit_echo(int i)
{
	char num[16];
	char *argv[] = {num, NULL};

	snprintf(num, sizeof num, "%d", i);
	tpool_submit(&ctxs[i], run_echo, 1, argv);
}

static int nwanted, nsubmitted;

/* Submit echoes while the pool has an idle thread (the scheduler's way). */
static void
fill_echoes(void)
{
	while (nsubmitted < nwanted && tpool_idle() > 0)
		submit_echo(nsubmitted++);
}

START_TEST(every_call_completes_exactly_once_with_its_value)
{
	nwanted = MAXCTX;
	nsubmitted = 0;
	tpool_init(loop, 4, on_start, on_done);
	ck_assert_int_eq(tpool_idle(), 4);
	after_done = fill_echoes;
	fill_echoes();
	ck_assert_int_eq(nsubmitted, 4);
	ck_assert_int_eq(tpool_idle(), 0);
	ck_assert(run_to_completion());
	ck_assert_int_eq(ndones, MAXCTX);
	ck_assert_int_eq(nstarts, MAXCTX);
	for (int i = 0; i < MAXCTX; i++) {
		char num[16];

		snprintf(num, sizeof num, "%d", i);
		ck_assert_int_eq(ctxs[i].starts, 1);
		ck_assert_int_eq(ctxs[i].dones, 1);
		ck_assert(ctxs[i].started_first);
		ck_assert_int_eq(ctxs[i].res.status, ST_OK);
		ck_assert_str_eq(ctxs[i].res.value.data, num);
		ck_assert_ptr_null(ctxs[i].res.error);
		ck_assert_int_eq(ctxs[i].res.exit, -1);
	}
	ck_assert_int_eq(tpool_idle(), 4);
}
END_TEST

START_TEST(arguments_are_copied_at_submit)
{
	char a[] = "alpha", b[] = "beta";
	char *argv[] = {a, b, NULL};

	tpool_init(loop, 2, on_start, on_done);
	tpool_submit(&ctxs[0], run_echo, 2, argv);
	strcpy(a, "XXXXX");
	b[0] = '\0';
	tpool_submit(&ctxs[1], run_echo, 0, argv);
	ck_assert(run_to_completion());
	ck_assert_str_eq(ctxs[0].res.value.data, "alpha beta");
	ck_assert_int_eq(ctxs[1].dones, 1);
	ck_assert_uint_eq(ctxs[1].res.value.len, 0);
}
END_TEST

START_TEST(a_failing_call_settles_failed_with_its_message)
{
	char *argv[] = {"fail", "x", NULL};

	tpool_init(loop, 1, on_start, on_done);
	tpool_submit(&ctxs[0], run_echo, 2, argv);
	ck_assert(run_to_completion());
	ck_assert_int_eq(ctxs[0].dones, 1);
	ck_assert_int_eq(ctxs[0].res.status, ST_FAILED);
	ck_assert_str_eq(ctxs[0].res.error, "echo: x: refused");
	ck_assert_int_eq(ctxs[0].res.exit, -1);
	ck_assert_int_eq(ctxs[0].res.signal, 0);
}
END_TEST

/* The process's virtual memory size in bytes, or 0. */
static rlim_t
vm_size(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;

	if (f != NULL) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
}

/* Has one call been done? */
static bool
one_done(void)
{
	return ndones == 1;
}

START_TEST(without_threads_a_call_fails_and_the_next_submit_retries)
{
	char *argv[] = {"a", NULL};
	struct rlimit old, low;
	rlim_t vm = vm_size();

	/* No room for a thread's stack (8 MiB): pthread_create fails. Not
	 * under a sanitizer, whose shadow memory is most of the size, nor
	 * under valgrind, which makes the threads' stacks itself. */
	if (vm == 0 || vm > ((rlim_t)1 << 32) || getenv("CORUN_VALGRIND"))
		return;
	ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
	low = old;
	low.rlim_cur = vm + 2 * 1024 * 1024;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &low), 0);
	tpool_init(loop, 2, on_start, on_done);
	tpool_submit(&ctxs[0], run_echo, 1, argv);
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &old), 0);
	ck_assert(run_until(one_done));
	ck_assert_int_eq(ctxs[0].dones, 1);
	ck_assert_int_eq(ctxs[0].res.status, ST_FAILED);
	ck_assert_ptr_nonnull(strstr(ctxs[0].res.error,
				     "cannot start a thread"));
	tpool_submit(&ctxs[1], run_echo, 1, argv);
	ck_assert(run_to_completion());
	ck_assert_int_eq(ctxs[1].res.status, ST_OK);
	ck_assert_str_eq(ctxs[1].res.value.data, "a");
}
END_TEST

static bool
gate_all_done(void)
{
	return ndones == 5;
}

START_TEST(calls_run_concurrently_on_every_thread)
{
	enum { T = 4 };

	tpool_init(loop, T, on_start, on_done);
	for (int i = 0; tpool_idle() > 0; i++)
		tpool_submit(&ctxs[i], run_gate, 0, NULL);
	/* All T calls are inside the gate at once: T threads run them. */
	ck_assert_int_eq(nstarts, T);
	ck_assert_int_eq(gate_wait_entered(T), T);
	ck_assert_int_eq(tpool_idle(), 0);
	ck_assert_int_eq(ndones, 0);
	for (int i = 0; i < T; i++)
		ck_assert_int_eq(ctxs[i].starts, 1);

	/* The T+1th goes in once a thread is free again. */
	nwanted = T + 1;
	nsubmitted = T;
	after_done = fill_echoes;
	gate_open();
	ck_assert(run_until(gate_all_done));
	ck_assert_int_eq(nstarts, T + 1);
	for (int i = 0; i < T; i++) {
		ck_assert_int_eq(ctxs[i].dones, 1);
		ck_assert_str_eq(ctxs[i].res.value.data, "gate");
	}
	ck_assert_int_eq(ctxs[T].dones, 1);
	ck_assert_str_eq(ctxs[T].res.value.data, "4");
	ck_assert_int_eq(gate.entered, T);
	ck_assert_int_eq(tpool_idle(), T);
}
END_TEST

static bool
pool_all_idle_2(void)
{
	return tpool_idle() == 2;
}

START_TEST(a_cancelled_calls_late_result_is_discarded)
{
	tpool_init(loop, 2, on_start, on_done);
	tpool_submit(&ctxs[0], run_gate, 0, NULL);
	ck_assert_int_eq(gate_wait_entered(1), 1);
	tpool_cancel(&ctxs[0]);
	/* Its thread is written off and replaced: both slots serve. */
	ck_assert_int_eq(tpool_idle(), 2);
	/* An abandoned call does not keep the loop running. */
	ck_assert(run_to_completion());
	ck_assert_int_eq(tpool_idle(), 2);

	ck_assert(gate_drain());
	ck_assert(run_until(pool_all_idle_2));
	ck_assert_int_eq(ctxs[0].starts, 1);
	ck_assert_int_eq(ctxs[0].dones, 0);
	ck_assert_int_eq(ndones, 0);
	ck_assert_ptr_null(ctxs[0].res.value.data);
}
END_TEST

static bool
ctx0_done(void)
{
	return ctxs[0].dones == 1;
}

START_TEST(a_retry_after_cancel_gets_only_its_own_result)
{
	char *argv[] = {"retry", NULL};

	tpool_init(loop, 2, on_start, on_done);
	tpool_submit(&ctxs[0], run_gate, 0, NULL);
	ck_assert_int_eq(gate_wait_entered(1), 1);
	tpool_cancel(&ctxs[0]);
	ck_assert_int_eq(tpool_idle(), 2);
	/* The same context again, on another thread. */
	tpool_submit(&ctxs[0], run_echo, 1, argv);
	ck_assert_int_eq(tpool_idle(), 1);
	ck_assert(run_until(ctx0_done));
	/* The cancelled call's thread was written off, not counted. */
	ck_assert_int_eq(tpool_idle(), 2);
	ck_assert_str_eq(ctxs[0].res.value.data, "retry");

	ck_assert(gate_drain());
	ck_assert(run_until(pool_all_idle_2));
	ck_assert_int_eq(ctxs[0].starts, 2);
	ck_assert_int_eq(ctxs[0].dones, 1);
	ck_assert_str_eq(ctxs[0].res.value.data, "retry");
}
END_TEST

static bool
three_done(void)
{
	return ndones == 3;
}

START_TEST(a_cancelled_blocking_call_does_not_starve_a_one_thread_pool)
{
	tpool_init(loop, 1, on_start, on_done);
	tpool_submit(&ctxs[0], run_gate, 0, NULL);
	ck_assert_int_eq(gate_wait_entered(1), 1);
	ck_assert_int_eq(tpool_idle(), 0);
	tpool_cancel(&ctxs[0]);
	ck_assert_int_eq(tpool_idle(), 1);
	/* The gate stays shut: a new thread serves these, one by one. */
	nwanted = 4;
	nsubmitted = 1;
	after_done = fill_echoes;
	fill_echoes();
	ck_assert(run_until(three_done));
	for (int i = 1; i < 4; i++) {
		ck_assert_int_eq(ctxs[i].dones, 1);
		ck_assert_int_eq(ctxs[i].res.status, ST_OK);
	}
	ck_assert_int_eq(ctxs[0].dones, 0);
	/* Shutdown does not wait for the written-off thread. */
	tpool_shutdown();
	ck_assert(gate_drain());
	ck_assert_int_eq(ctxs[0].dones, 0);
}
END_TEST

START_TEST(cancelling_an_unknown_context_changes_nothing)
{
	tpool_init(loop, 2, on_start, on_done);
	submit_echo(0);
	tpool_cancel(&ctxs[1]);
	ck_assert_int_eq(tpool_idle(), 1);
	ck_assert(run_to_completion());
	ck_assert_int_eq(ctxs[0].dones, 1);
	ck_assert_str_eq(ctxs[0].res.value.data, "0");
}
END_TEST

START_TEST(signals_are_blocked_in_pool_threads_only)
{
	sigset_t before, after, usr2;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr2, &before);
	tpool_init(loop, 2, on_start, on_done);
	tpool_submit(&ctxs[0], run_sigmask, 0, NULL);
	tpool_submit(&ctxs[1], run_sigmask, 0, NULL);
	/* The loop thread's mask is what it was. */
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	ck_assert(sigismember(&after, SIGUSR2));
	ck_assert_int_eq(sigismember(&after, SIGINT),
			 sigismember(&before, SIGINT));
	ck_assert_int_eq(sigismember(&after, SIGTERM),
			 sigismember(&before, SIGTERM));
	ck_assert(run_to_completion());
	pthread_sigmask(SIG_SETMASK, &before, NULL);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(ctxs[i].res.status, ST_OK);
		ck_assert_str_eq(ctxs[i].res.value.data, "all blocked");
	}
}
END_TEST

static bool shutdown_returned, watchdog_fired;
static pthread_mutex_t watchdog_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watchdog_cond = PTHREAD_COND_INITIALIZER;

/* If shutdown has not returned within SAFETY, open the gate to unblock
 * it and say so. */
static void *
watchdog_main(void *arg)
{
	struct timespec ts = deadline();

	(void)arg;
	pthread_mutex_lock(&watchdog_mu);
	while (!shutdown_returned &&
	       pthread_cond_timedwait(&watchdog_cond, &watchdog_mu, &ts) !=
		   ETIMEDOUT)
		;
	if (!shutdown_returned) {
		watchdog_fired = true;
		gate_open();
	}
	pthread_mutex_unlock(&watchdog_mu);
	return NULL;
}

START_TEST(shutdown_does_not_wait_for_a_busy_thread)
{
	pthread_t wd;

	tpool_init(loop, 3, on_start, on_done);
	tpool_submit(&ctxs[0], run_gate, 0, NULL);
	submit_echo(1);
	ck_assert_int_eq(gate_wait_entered(1), 1);
	shutdown_returned = watchdog_fired = false;
	ck_assert_int_eq(pthread_create(&wd, NULL, watchdog_main, NULL), 0);
	tpool_shutdown();
	pthread_mutex_lock(&watchdog_mu);
	shutdown_returned = true;
	pthread_cond_signal(&watchdog_cond);
	pthread_mutex_unlock(&watchdog_mu);
	pthread_join(wd, NULL);
	ck_assert(!watchdog_fired);
	ck_assert_int_eq(tpool_idle(), 0);
	/* The abandoned call's result goes nowhere; the loop is free. */
	ck_assert(gate_drain());
	ck_assert(run_to_completion());
	ck_assert_int_eq(ctxs[0].dones, 0);
}
END_TEST

START_TEST(shutdown_drops_queued_and_finished_calls)
{
	tpool_init(loop, 2, on_start, on_done);
	submit_echo(0);
	submit_echo(1);
	tpool_shutdown();
	ck_assert(run_to_completion());
	ck_assert_int_eq(ndones, 0);
	/* A new pool can be set up on the same loop. */
	tpool_init(loop, 1, on_start, on_done);
	submit_echo(2);
	ck_assert(run_to_completion());
	ck_assert_int_eq(ctxs[2].dones, 1);
	ck_assert_int_eq(ndones, 1);
}
END_TEST

/* done hook: submit one more call (held until the batch of results is
 * delivered), then shut the pool down. */
static void
shutdown_at_first(void)
{
	ck_assert_int_eq(tpool_idle(), 1);
	submit_echo(10);
	tpool_shutdown();
}

START_TEST(shutdown_from_a_done_function_stops_delivery)
{
	enum { T = 4 };

	tpool_init(loop, T, on_start, on_done);
	for (int i = 0; i < T; i++)
		tpool_submit(&ctxs[i], run_gate, 0, NULL);
	ck_assert_int_eq(gate_wait_entered(T), T);
	after_done = shutdown_at_first;
	ck_assert(gate_drain());
	ck_assert(run_to_completion());
	ck_assert_int_eq(ndones, 1);
	ck_assert_int_eq(ctxs[10].starts, 1);
	ck_assert_int_eq(ctxs[10].dones, 0);
	ck_assert_int_eq(tpool_idle(), 0);
}
END_TEST

START_TEST(an_idle_pool_lets_the_loop_return)
{
	tpool_init(loop, 2, on_start, on_done);
	ck_assert(run_to_completion());
	submit_echo(0);
	ck_assert(run_to_completion());
	ck_assert_int_eq(ctxs[0].dones, 1);
	ck_assert(run_to_completion());
}
END_TEST

START_TEST(kinds_from_the_table_run_in_the_pool)
{
	char *block_argv[] = {"0", NULL};
	char *read_argv[] = {"/nonexistent/corun-check", NULL};
	kind_run_fn block = exec_run_fn(kind_find("block")->id);
	kind_run_fn rd = exec_run_fn(kind_find("read")->id);

	ck_assert_ptr_nonnull(block);
	ck_assert_ptr_nonnull(rd);
	tpool_init(loop, 2, on_start, on_done);
	tpool_submit(&ctxs[0], block, 1, block_argv);
	tpool_submit(&ctxs[1], rd, 1, read_argv);
	ck_assert(run_to_completion());
	ck_assert_int_eq(ctxs[0].res.status, ST_OK);
	ck_assert_uint_eq(ctxs[0].res.value.len, 0);
	ck_assert_int_eq(ctxs[1].res.status, ST_FAILED);
	ck_assert_str_eq(ctxs[1].res.error, "read: /nonexistent/corun-check: "
					    "No such file or directory");
}
END_TEST

/* The tpool suite. */
static Suite *
tpool_suite(void)
{
	Suite *s = suite_create("tpool");
	TCase *tc = tcase_create("pool");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 3 * SAFETY);
	tcase_add_test(tc, every_call_completes_exactly_once_with_its_value);
	tcase_add_test(tc, arguments_are_copied_at_submit);
	tcase_add_test(tc, a_failing_call_settles_failed_with_its_message);
	tcase_add_test(tc, calls_run_concurrently_on_every_thread);
	tcase_add_test(tc, a_cancelled_calls_late_result_is_discarded);
	tcase_add_test(tc, a_retry_after_cancel_gets_only_its_own_result);
	tcase_add_test(tc, cancelling_an_unknown_context_changes_nothing);
	tcase_add_test(
	    tc, a_cancelled_blocking_call_does_not_starve_a_one_thread_pool);
	tcase_add_test(tc, signals_are_blocked_in_pool_threads_only);
	tcase_add_test(tc, shutdown_does_not_wait_for_a_busy_thread);
	tcase_add_test(tc, shutdown_drops_queued_and_finished_calls);
	tcase_add_test(tc, shutdown_from_a_done_function_stops_delivery);
	tcase_add_test(tc, an_idle_pool_lets_the_loop_return);
	tcase_add_test(tc, kinds_from_the_table_run_in_the_pool);
	tcase_add_test(tc,
		       without_threads_a_call_fails_and_the_next_submit_retries);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; EXIT_FAILURE on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(tpool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
