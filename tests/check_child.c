/*
 * check_child.c: child processes on a real libev default loop.
 *
 * Every test spawns real children (sh, seq, head, cat, sleep) and runs the
 * loop until their done callbacks have all fired. A 10 s safety timer
 * stops the loop and fails the test instead of hanging; nothing asserts on
 * a tuned sleep. Where a test must act at a precise point in the child's
 * script (after a trap is set, after a grandchild started) the child
 * writes to a FIFO the test watches.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corun.h"
#include "child.h"
#include "feed.h"
#include "future.h"
#include "util.h"

#define SAFETY 10.0 /* seconds before a test gives up on its children */

struct outcome {
	int calls;
	struct result res;
};

static struct ev_loop *loop;
static int waiting;	  /* done callbacks still expected */
static int gave_up;	  /* the safety timer fired */
static char fifo_dir[64]; /* a private directory for the FIFO */
static char fifo_path[96];

/* Record the result of a child and stop the loop when none is left. */
static void
on_done(void *ctx, struct result *res)
{
	struct outcome *o = ctx;

	o->calls++;
	result_move(&o->res, res);
	if (--waiting == 0)
		ev_break(loop, EVBREAK_ALL);
}

/* The safety net: stop waiting. */
static void
on_safety(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	gave_up = 1;
	ev_break(l, EVBREAK_ALL);
}

/* Run the loop until every expected child is done (or the safety fires). */
static void
run_children(void)
{
	ev_timer safety;

	ev_timer_init(&safety, on_safety, SAFETY, 0);
	ev_timer_start(loop, &safety);
	if (waiting > 0)
		ev_run(loop, 0);
	ev_timer_stop(loop, &safety);
	ck_assert_msg(!gave_up, "children not done after %.0f s", SAFETY);
	ck_assert_int_eq(waiting, 0);
}

/* Spawn argv with o collecting the result; it must succeed. */
static struct child *
spawn_argv(char *const argv[], struct outcome *o)
{
	char err[256] = "";
	struct child *c;

	result_init(&o->res);
	o->calls = 0;
	c = child_spawn(loop, argv, on_done, o, err, sizeof err);
	ck_assert_msg(c != NULL, "spawn failed: %s", err);
	waiting++;
	return c;
}

/* Spawn sh -c script. */
static struct child *
spawn_sh(const char *script, struct outcome *o)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};

	return spawn_argv(argv, o);
}

/* sh -c with "FIFO" in fmt replaced by the test's FIFO path. */
static struct child *
spawn_sh_fifo(const char *fmt, struct outcome *o)
{
	struct buf script = BUF_INIT;
	const char *at = strstr(fmt, "FIFO");
	struct child *c;

	ck_assert_ptr_nonnull(at);
	buf_add(&script, fmt, (size_t)(at - fmt));
	buf_printf(&script, "'%s'", fifo_path);
	buf_adds(&script, at + 4);
	c = spawn_sh(script.data, o);
	buf_free(&script);
	return c;
}

/* Fresh loop state for every test; corun's start-up marks inherited fds
 * (such as Check's) close-on-exec, and so does the fixture. */
static void
setup(void)
{
	loop = ev_default_loop(0);
	ck_assert_ptr_nonnull(loop);
	waiting = 0;
	gave_up = 0;
	fd_cloexec_all();
	snprintf(fifo_dir, sizeof fifo_dir, "/tmp/check_child.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fifo_dir));
	snprintf(fifo_path, sizeof fifo_path, "%s/fifo", fifo_dir);
	ck_assert_int_eq(mkfifo(fifo_path, 0600), 0);
}

/* Remove the FIFO. */
static void
teardown(void)
{
	unlink(fifo_path);
	rmdir(fifo_dir);
}

struct on_fifo {
	ev_io io;
	struct child *c;
	double grace;
	int escalate; /* then call child_kill again, and with grace 0 */
	double at;    /* when the child said it was ready */
};

/* The child wrote to the FIFO: it is ready; stop it now. */
static void
on_fifo_ready(struct ev_loop *l, ev_io *w, int revents)
{
	struct on_fifo *f = (struct on_fifo *)w;
	char b[64];

	(void)revents;
	if (read(w->fd, b, sizeof b) <= 0)
		return;
	ev_io_stop(l, w);
	f->at = mono_now();
	child_kill(f->c, f->grace);
	if (f->escalate) {
		child_kill(f->c, f->grace);
		child_kill(f->c, 0);
		child_kill(f->c, 0);
	}
}

/* Open the FIFO for reading without waiting for a writer. */
static int
fifo_open(void)
{
	int fd = open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* The bytes "1\n2\n...n\n", as seq prints them. */
static void
seq_text(struct buf *b, int n)
{
	for (int i = 1; i <= n; i++)
		buf_printf(b, "%d\n", i);
}

/* Number of fds open in this process. */
static int
fd_count(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

START_TEST(test_stdout_and_stderr_are_captured_separately)
{
	struct outcome o;

	spawn_sh("echo out; echo err >&2; echo out2", &o);
	run_children();
	ck_assert_int_eq(o.calls, 1);
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_int_eq(o.res.exit, 0);
	ck_assert_int_eq(o.res.signal, 0);
	ck_assert_ptr_null(o.res.error);
	ck_assert(o.res.has_errout);
	ck_assert(!o.res.truncated);
	ck_assert_str_eq(o.res.value.data, "out\nout2\n");
	ck_assert_int_eq(o.res.value.len, 9);
	ck_assert_str_eq(o.res.errout.data, "err\n");
	result_free(&o.res);
}
END_TEST

START_TEST(test_nonzero_exit_is_failed_with_status)
{
	struct outcome o;

	spawn_sh("echo partial; exit 3", &o);
	run_children();
	ck_assert_int_eq(o.res.status, ST_FAILED);
	ck_assert_int_eq(o.res.exit, 3);
	ck_assert_int_eq(o.res.signal, 0);
	ck_assert_str_eq(o.res.error, "exit status 3");
	ck_assert_str_eq(o.res.value.data, "partial\n");
	result_free(&o.res);
}
END_TEST

START_TEST(test_death_by_signal_is_reported_by_name)
{
	struct outcome o;

	spawn_sh("kill -USR1 $$", &o);
	run_children();
	ck_assert_int_eq(o.res.status, ST_FAILED);
	ck_assert_int_eq(o.res.exit, -1);
	ck_assert_int_eq(o.res.signal, SIGUSR1);
	ck_assert_str_eq(o.res.error, "killed by signal 10 (SIGUSR1)");
	result_free(&o.res);
}
END_TEST

START_TEST(test_unnamed_signal_is_reported_by_number)
{
	struct outcome o;
	char script[64], want[64];
	int sig = SIGRTMIN + 2;

	snprintf(script, sizeof script, "kill -%d $$", sig);
	snprintf(want, sizeof want, "killed by signal %d", sig);
	spawn_sh(script, &o);
	run_children();
	ck_assert_int_eq(o.res.signal, sig);
	ck_assert_str_eq(o.res.error, want);
	result_free(&o.res);
}
END_TEST

START_TEST(test_eof_before_exit_waits_for_exit)
{
	struct outcome o;

	spawn_sh("echo early; echo e >&2; exec 1>&- 2>&-; sleep 0.2; exit 4",
		 &o);
	run_children();
	ck_assert_int_eq(o.calls, 1);
	ck_assert_int_eq(o.res.status, ST_FAILED);
	ck_assert_int_eq(o.res.exit, 4);
	ck_assert_str_eq(o.res.value.data, "early\n");
	ck_assert_str_eq(o.res.errout.data, "e\n");
	result_free(&o.res);
}
END_TEST

START_TEST(test_exit_before_eof_waits_for_eof)
{
	struct outcome o;

	spawn_sh("(sleep 0.3; echo late; echo warn >&2) & exit 0", &o);
	run_children();
	ck_assert_int_eq(o.calls, 1);
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_int_eq(o.res.exit, 0);
	ck_assert_str_eq(o.res.value.data, "late\n");
	ck_assert_str_eq(o.res.errout.data, "warn\n");
	result_free(&o.res);
}
END_TEST

START_TEST(test_stdout_is_capped_and_the_rest_drained)
{
	struct outcome o;
	struct buf want = BUF_INIT;

	/* About 2 MB: if corun stopped reading at the cap, seq would block
	 * forever or die of SIGPIPE, and report a non-zero status. */
	spawn_sh("seq 1 400000; echo seq=$? >&2", &o);
	run_children();
	seq_text(&want, 400000);
	ck_assert_uint_gt(want.len, 2 * CORUN_OUTPUT_CAP);
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_str_eq(o.res.errout.data, "seq=0\n");
	ck_assert(o.res.truncated);
	ck_assert_uint_eq(o.res.value.len, CORUN_OUTPUT_CAP);
	ck_assert_uint_le(o.res.value.cap, CORUN_OUTPUT_CAP + 1);
	ck_assert(memcmp(o.res.value.data, want.data, CORUN_OUTPUT_CAP) == 0);
	ck_assert_int_eq(o.res.value.data[CORUN_OUTPUT_CAP], '\0');
	buf_free(&want);
	result_free(&o.res);
}
END_TEST

START_TEST(test_output_exactly_at_cap_is_not_truncated)
{
	struct outcome o;
	char script[64];

	snprintf(script, sizeof script, "head -c %d /dev/zero",
		 CORUN_OUTPUT_CAP);
	spawn_sh(script, &o);
	run_children();
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert(!o.res.truncated);
	ck_assert_uint_eq(o.res.value.len, CORUN_OUTPUT_CAP);
	result_free(&o.res);
}
END_TEST

START_TEST(test_huge_output_is_drained_quickly)
{
	struct outcome o;
	char *argv[] = {"head", "-c", "200000000", "/dev/zero", NULL};
	double t0 = mono_now();

	spawn_argv(argv, &o);
	run_children();
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert(o.res.truncated);
	ck_assert_uint_eq(o.res.value.len, CORUN_OUTPUT_CAP);
	ck_assert_uint_le(o.res.value.cap, CORUN_OUTPUT_CAP + 1);
	fprintf(stderr, "# 200 MB drained in %.3f s\n", mono_now() - t0);
	result_free(&o.res);
}
END_TEST

START_TEST(test_stderr_keeps_its_last_64k)
{
	struct outcome o;
	struct buf want = BUF_INIT;

	spawn_sh("seq 1 100000 >&2; echo out", &o);
	run_children();
	seq_text(&want, 100000);
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_str_eq(o.res.value.data, "out\n");
	ck_assert(!o.res.truncated);
	ck_assert_uint_eq(o.res.errout.len, CORUN_STDERR_CAP);
	ck_assert_uint_le(o.res.errout.cap, CORUN_STDERR_CAP + 1);
	ck_assert(memcmp(o.res.errout.data,
			 want.data + want.len - CORUN_STDERR_CAP,
			 CORUN_STDERR_CAP) == 0);
	ck_assert_int_eq(o.res.errout.data[CORUN_STDERR_CAP], '\0');
	buf_free(&want);
	result_free(&o.res);
}
END_TEST

START_TEST(test_kill_ends_with_sigterm_when_child_obeys)
{
	struct outcome o;
	struct child *c = spawn_sh("sleep 30", &o);

	child_kill(c, 20);
	run_children();
	ck_assert_int_eq(o.res.status, ST_FAILED);
	ck_assert_int_eq(o.res.signal, SIGTERM);
	ck_assert_int_eq(o.res.exit, -1);
	ck_assert_str_eq(o.res.error, "killed by signal 15 (SIGTERM)");
	result_free(&o.res);
}
END_TEST

START_TEST(test_kill_escalates_to_sigkill_after_grace)
{
	struct outcome o;
	struct on_fifo f = {.grace = 0.3};
	double done_at;

	ev_io_init(&f.io, on_fifo_ready, fifo_open(), EV_READ);
	ev_io_start(loop, &f.io);
	f.c = spawn_sh_fifo("trap '' TERM; echo ready > FIFO; sleep 30", &o);
	run_children();
	done_at = mono_now();
	close(f.io.fd);
	ck_assert(f.at > 0);
	ck_assert_int_eq(o.res.signal, SIGKILL);
	ck_assert_str_eq(o.res.error, "killed by signal 9 (SIGKILL)");
	/* SIGKILL must not come before the grace period. */
	ck_assert_double_ge(done_at - f.at, 0.25);
	result_free(&o.res);
}
END_TEST

START_TEST(test_second_kill_with_zero_grace_kills_at_once)
{
	struct outcome o;
	struct on_fifo f = {.grace = 60, .escalate = 1};

	ev_io_init(&f.io, on_fifo_ready, fifo_open(), EV_READ);
	ev_io_start(loop, &f.io);
	f.c = spawn_sh_fifo("trap '' TERM; echo ready > FIFO; sleep 30", &o);
	run_children();
	ck_assert(f.at > 0);
	close(f.io.fd);
	ck_assert_int_eq(o.calls, 1);
	ck_assert_int_eq(o.res.signal, SIGKILL);
	result_free(&o.res);
}
END_TEST

START_TEST(test_kill_reaches_the_whole_group)
{
	struct outcome o;
	struct on_fifo f = {.grace = 60};

	/* The sleeps hold the pipes: killing sh alone would leave the
	 * child without EOF for 30 s and trip the safety timer. */
	ev_io_init(&f.io, on_fifo_ready, fifo_open(), EV_READ);
	ev_io_start(loop, &f.io);
	f.c =
	    spawn_sh_fifo("sleep 30 & sleep 30 & echo ready > FIFO; wait", &o);
	run_children();
	close(f.io.fd);
	ck_assert_int_eq(o.res.signal, SIGTERM);
	result_free(&o.res);
}
END_TEST

struct on_reaped {
	ev_io io;
	ev_timer poll;
	struct child *c;
	pid_t pid;
	int killed;
};

/* The child sent its pid through the FIFO: start polling for its reap. */
static void
on_pid(struct ev_loop *l, ev_io *w, int revents)
{
	struct on_reaped *r = (struct on_reaped *)w;
	char b[32];
	ssize_t n = read(w->fd, b, sizeof b - 1);

	(void)revents;
	if (n <= 0)
		return;
	b[n] = '\0';
	r->pid = (pid_t)atol(b);
	ev_io_stop(l, w);
	ev_timer_start(l, &r->poll);
}

/* Is pid a zombie (exited, not reaped)? */
static int
is_zombie(pid_t pid)
{
	char path[64], buf[256];
	FILE *f;
	char *p;
	int z = 0;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof buf, f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		z = p[1] == ' ' && p[2] == 'Z';
	fclose(f);
	return z;
}

/* Once the direct child has exited (a zombie, still unreaped), kill the
 * group. */
static void
on_poll(struct ev_loop *l, ev_timer *w, int revents)
{
	struct on_reaped *r = w->data;

	(void)revents;
	if (!is_zombie(r->pid))
		return;
	ev_timer_stop(l, w);
	r->killed = 1;
	child_kill(r->c, 60);
}

START_TEST(test_kill_after_exit_still_reaches_the_group)
{
	struct outcome o;
	struct on_reaped r = {.killed = 0};

	ev_io_init(&r.io, on_pid, fifo_open(), EV_READ);
	ev_io_start(loop, &r.io);
	ev_timer_init(&r.poll, on_poll, 0.01, 0.01);
	r.poll.data = &r;
	r.c = spawn_sh_fifo("sleep 30 & echo $$ > FIFO; exit 0", &o);
	run_children();
	close(r.io.fd);
	ev_timer_stop(loop, &r.poll);
	ck_assert(r.killed);
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_int_eq(o.res.exit, 0);
	/* The group's SIGTERM gave EOF: nothing was cut. */
	ck_assert_str_eq(o.res.errout.data ? o.res.errout.data : "", "");
	result_free(&o.res);
}
END_TEST

static int kills, kills_unproven;

/* child_set_killer's fn: count the signals sent to a group whose leader
 * is already reaped (no proof the group is still the child's). */
static int
watch_kill(pid_t pid, int sig)
{
	siginfo_t si;
	pid_t leader = pid < 0 ? -pid : pid;

	kills++;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)leader, &si, WEXITED | WNOHANG | WNOWAIT) == -1)
		kills_unproven++;
	return kill(pid, sig);
}

struct stop_later {
	ev_timer t;
	struct child *c;
	double grace;
};

/* Stop the child now. */
static void
on_stop_later(struct ev_loop *l, ev_timer *w, int revents)
{
	struct stop_later *s = (struct stop_later *)w;

	(void)l;
	(void)revents;
	child_kill(s->c, s->grace);
}

START_TEST(test_no_signal_after_the_reap)
{
	struct outcome o;
	struct stop_later s;
	ev_tstamp t0;

	/* The child exits at once; an escaped descendant holds its pipes
	 * for 4 s; the stop comes after the exit. Every signal must go to
	 * a group whose leader corun has not reaped, and the child must end
	 * within the grace period plus a margin. */
	kills = kills_unproven = 0;
	child_set_killer(watch_kill);
	child_set_drain(30);
	s.c = spawn_sh("setsid sleep 4 & exit 0", &o);
	s.grace = 0.3;
	ev_timer_init(&s.t, on_stop_later, 0.3, 0);
	ev_timer_start(loop, &s.t);
	ev_now_update(loop);
	t0 = ev_now(loop);
	run_children();
	ev_now_update(loop);
	child_set_killer(NULL);
	child_set_drain(2);
	ck_assert_int_ge(kills, 2); /* SIGTERM, then SIGKILL */
	ck_assert_int_eq(kills_unproven, 0);
	ck_assert_int_eq(o.res.exit, 0);
	ck_assert_int_eq(o.res.signal, 0);
	ck_assert_msg(ev_now(loop) - t0 < 3, "ended after %.1f s",
		      ev_now(loop) - t0);
	ck_assert_ptr_nonnull(strstr(o.res.errout.data, "output cut"));
	result_free(&o.res);
}
END_TEST

START_TEST(test_escaped_pipe_holder_is_cut_after_the_drain)
{
	struct outcome o;
	ev_tstamp t0;

	child_set_drain(0.3);
	ev_now_update(loop);
	t0 = ev_now(loop);
	spawn_sh("echo out; setsid sleep 4 & exit 0", &o);
	run_children();
	ev_now_update(loop);
	child_set_drain(2);
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_int_eq(o.res.exit, 0);
	ck_assert_str_eq(o.res.value.data, "out\n");
	ck_assert_ptr_nonnull(strstr(o.res.errout.data, "output cut"));
	ck_assert_msg(ev_now(loop) - t0 < 3, "ended after %.1f s",
		      ev_now(loop) - t0);
	result_free(&o.res);
}
END_TEST

START_TEST(test_drain_reads_both_pipes_to_eof_while_reads_are_paused)
{
	struct outcome o;

	/* Reads paused (output backpressure): the child exits with bytes in
	 * both pipes, and the drain limit reads them both to EOF in one go.
	 * The child is finished once, after both (valgrind, ASan: no use of
	 * a freed child). */
	child_set_drain(0.2);
	child_pause_reads(1);
	spawn_sh("echo out; echo err >&2", &o);
	run_children();
	child_pause_reads(0);
	child_set_drain(2);
	ck_assert_int_eq(o.calls, 1);
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_str_eq(o.res.value.data, "out\n");
	ck_assert_str_eq(o.res.errout.data, "err\n");
	result_free(&o.res);
}
END_TEST

START_TEST(test_child_sees_only_fds_0_1_2)
{
	struct outcome busy, o;
	struct child *b;
	int extra[3];

	for (int i = 0; i < 3; i++) {
		extra[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		ck_assert_int_ge(extra[i], 3);
	}
	/* As corun does at start-up, for what Check itself keeps open. */
	fd_cloexec_all();
	/* Another live child's pipes are open in the parent too. */
	b = spawn_sh("sleep 30", &busy);
	spawn_sh("ls /proc/$$/fd; exit 0", &o);
	child_kill(b, 0);
	run_children();
	for (int i = 0; i < 3; i++)
		close(extra[i]);
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_str_eq(o.res.value.data, "0\n1\n2\n");
	result_free(&o.res);
	result_free(&busy.res);
}
END_TEST

START_TEST(test_child_leads_its_own_process_group)
{
	struct outcome o;
	long pid = 0, pgid = 0;

	spawn_sh("echo $$ $(ps -o pgid= -p $$)", &o);
	run_children();
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_int_eq(sscanf(o.res.value.data, "%ld %ld", &pid, &pgid), 2);
	ck_assert_int_gt(pid, 1);
	ck_assert_int_eq(pgid, pid);
	ck_assert_int_ne(pgid, (long)getpgrp());
	result_free(&o.res);
}
END_TEST

START_TEST(test_stdin_is_dev_null)
{
	struct outcome o;
	int p[2], saved = fcntl(0, F_DUPFD_CLOEXEC, 3);

	/* Give this process a stdin that never ends: a child inheriting it
	 * would block in cat until the safety timer fires. */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(dup2(p[0], 0), 0);
	spawn_sh("cat; readlink /proc/$$/fd/0", &o);
	run_children();
	dup2(saved, 0);
	close(saved);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_str_eq(o.res.value.data, "/dev/null\n");
	result_free(&o.res);
}
END_TEST

/* Spawn sh -c script with len bytes of data on its standard input. */
static void
spawn_sh_in(const char *script, const char *data, size_t len,
	    struct outcome *o)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	char err[256] = "";

	struct feed_src src = {data, -1, 0, len};

	result_init(&o->res);
	o->calls = 0;
	ck_assert_msg(child_spawn_in(loop, argv, &src, on_done, o, err,
				     sizeof err) != NULL,
		      "spawn failed: %s", err);
	waiting++;
}

START_TEST(test_input_is_fed_whole_then_eof)
{
	/* Many times a pipe's size, under the output cap: cat gives it all
	 * back, and ends, so end-of-file came after the last byte. */
	size_t len = CORUN_OUTPUT_CAP - 4096;
	char *data = xmalloc(len);
	struct outcome o;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i % 251);
	spawn_sh_in("cat", data, len, &o);
	run_children();
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_uint_eq(o.res.value.len, len);
	ck_assert(memcmp(o.res.value.data, data, len) == 0);
	result_free(&o.res);
	free(data);
}
END_TEST

START_TEST(test_input_from_a_file_range)
{
	/* A range of a regular file, spliced: cat gives back exactly those
	 * bytes, many pipes' worth, from an offset that is not a page's. */
	size_t len = 700 * 1000, off = 12345;
	char *data = xmalloc(off + len + 100);
	char path[] = "/tmp/check_child.XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = {"cat", NULL};
	char err[256] = "";
	struct outcome o;

	ck_assert_int_ne(fd, -1);
	unlink(path);
	for (size_t i = 0; i < off + len + 100; i++)
		data[i] = (char)(i % 253);
	ck_assert(write(fd, data, off + len + 100) == (ssize_t)(off + len + 100));
	{
		struct feed_src src = {NULL, fd, (off_t)off, len};

		result_init(&o.res);
		o.calls = 0;
		ck_assert_msg(child_spawn_in(loop, argv, &src, on_done, &o, err,
					     sizeof err) != NULL,
			      "spawn failed: %s", err);
		waiting++;
	}
	run_children();
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_uint_eq(o.res.value.len, len);
	ck_assert(memcmp(o.res.value.data, data + off, len) == 0);
	result_free(&o.res);
	close(fd);
	free(data);
}
END_TEST

START_TEST(test_input_not_read_is_no_error)
{
	size_t len = 1024 * 1024;
	char *data = xcalloc(1, len);
	struct outcome o, p;

	/* One child reads nothing, one a byte: neither fails for it, and
	 * the loop does not wait for the rest to be taken. */
	signal(SIGPIPE, SIG_IGN); /* as the engine has it (engine_start) */
	spawn_sh_in("exit 0", data, len, &o);
	spawn_sh_in("head -c 1 >/dev/null; exit 4", data, len, &p);
	run_children();
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_int_eq(p.res.status, ST_FAILED);
	ck_assert_int_eq(p.res.exit, 4);
	result_free(&o.res);
	result_free(&p.res);
	free(data);
}
END_TEST

START_TEST(test_signals_start_with_defaults)
{
	struct outcome o;
	char *argv[] = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status",
			NULL};
	unsigned long long blk = 1, ign = 1, internal = 0;
	sigset_t block, old;

	/* Blocked or ignored here, default in the child. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	spawn_argv(argv, &o);
	run_children();
	sigprocmask(SIG_SETMASK, &old, NULL);
	ck_assert_int_eq(o.res.status, ST_OK);
	ck_assert_int_eq(
	    sscanf(o.res.value.data, "SigBlk: %llx SigIgn: %llx", &blk, &ign),
	    2);
	ck_assert_uint_eq(blk, 0);
	/* glibc's posix_spawn leaves its own internal signals (32 and 33,
	 * below SIGRTMIN) ignored; no application can use those. */
	for (int sig = 32; sig < SIGRTMIN; sig++)
		internal |= 1ULL << (sig - 1);
	ck_assert_uint_eq(ign & ~internal, 0);
	result_free(&o.res);
}
END_TEST

START_TEST(test_missing_program_fails_without_leaks)
{
	char *argv[] = {"corun-no-such-program", "x", NULL};
	char *argv2[] = {"/etc/passwd", NULL};
	char err[256] = "";
	int fds = fd_count();

	/* valgrind runs the exec itself and cannot report its failure. */
	if (getenv("CORUN_VALGRIND") != NULL)
		return;

	ck_assert_ptr_null(
	    child_spawn(loop, argv, on_done, NULL, err, sizeof err));
	ck_assert_str_eq(
	    err, "exec: corun-no-such-program: No such file or directory");
	ck_assert_ptr_null(
	    child_spawn(loop, argv2, on_done, NULL, err, sizeof err));
	ck_assert_str_eq(err, "exec: /etc/passwd: Permission denied");
	ck_assert_int_eq(fd_count(), fds);
	ck_assert_int_eq(child_count(), 0);
}
END_TEST

static pid_t forgotten[4];
static int nforgotten;

/* child_shutdown's forget: remember the pid. */
static void
on_forget(pid_t pid)
{
	if (nforgotten < 4)
		forgotten[nforgotten++] = pid;
}

START_TEST(test_shutdown_kills_and_reaps_every_child)
{
	struct outcome a, b;
	struct child *ca, *cb;
	pid_t pa, pb;
	siginfo_t si;

	ck_assert_int_eq(child_count(), 0);
	ca = spawn_sh("trap '' TERM; sleep 30", &a);
	cb = spawn_sh("sleep 30", &b);
	pa = child_pid(ca);
	pb = child_pid(cb);
	ck_assert_int_eq(child_count(), 2);
	nforgotten = 0;
	child_shutdown(on_forget);
	ck_assert_int_eq(child_count(), 0);
	ck_assert_int_eq(nforgotten, 2);
	ck_assert(forgotten[0] == pa || forgotten[1] == pa);
	ck_assert(forgotten[0] == pb || forgotten[1] == pb);
	/* Reaped: nothing of theirs is left to wait for. */
	ck_assert_int_eq(waitid(P_PID, (id_t)pa, &si, WEXITED | WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	ck_assert_int_eq(waitid(P_PID, (id_t)pb, &si, WEXITED | WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	ck_assert_int_eq(a.calls + b.calls, 0);
	waiting = 0;
}
END_TEST

struct chatty {
	struct child *flood;
	int ticks;
};

static struct chatty chatty;

/* A quiet child finished while the flood goes on; stop the flood. */
static void
on_quiet_done(void *ctx, struct result *res)
{
	on_done(ctx, res);
	child_kill(chatty.flood, 0);
}

/* A timer tick while the flood goes on. */
static void
on_tick(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	chatty.ticks++;
}

START_TEST(test_chatty_child_does_not_starve_the_loop)
{
	struct outcome flood, quiet;
	/* Long enough for the flood to pass its 1 MiB cap on a loaded
	 * machine under valgrind. */
	char *argv[] = {"sh", "-c", "sleep 1; echo hi", NULL};
	char err[256];
	ev_timer tick;

	ev_timer_init(&tick, on_tick, 0.01, 0.01);
	ev_timer_start(loop, &tick);
	chatty.ticks = 0;
	chatty.flood = spawn_sh("cat /dev/zero", &flood);
	result_init(&quiet.res);
	quiet.calls = 0;
	ck_assert_ptr_nonnull(
	    child_spawn(loop, argv, on_quiet_done, &quiet, err, sizeof err));
	waiting++;
	run_children();
	ev_timer_stop(loop, &tick);
	ck_assert_str_eq(quiet.res.value.data, "hi\n");
	ck_assert_int_eq(flood.res.signal, SIGKILL);
	ck_assert(flood.res.truncated);
	ck_assert_int_gt(chatty.ticks, 5);
	result_free(&flood.res);
	result_free(&quiet.res);
}
END_TEST

/* The suite "child". */
static Suite *
child_suite(void)
{
	Suite *s = suite_create("child");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_stdout_and_stderr_are_captured_separately);
	tcase_add_test(tc, test_nonzero_exit_is_failed_with_status);
	tcase_add_test(tc, test_death_by_signal_is_reported_by_name);
	tcase_add_test(tc, test_unnamed_signal_is_reported_by_number);
	tcase_add_test(tc, test_eof_before_exit_waits_for_exit);
	tcase_add_test(tc, test_exit_before_eof_waits_for_eof);
	tcase_add_test(tc, test_stdout_is_capped_and_the_rest_drained);
	tcase_add_test(tc, test_output_exactly_at_cap_is_not_truncated);
	tcase_add_test(tc, test_huge_output_is_drained_quickly);
	tcase_add_test(tc, test_stderr_keeps_its_last_64k);
	tcase_add_test(tc, test_kill_ends_with_sigterm_when_child_obeys);
	tcase_add_test(tc, test_kill_escalates_to_sigkill_after_grace);
	tcase_add_test(tc, test_second_kill_with_zero_grace_kills_at_once);
	tcase_add_test(tc, test_kill_reaches_the_whole_group);
	tcase_add_test(tc, test_kill_after_exit_still_reaches_the_group);
	tcase_add_test(tc, test_child_sees_only_fds_0_1_2);
	tcase_add_test(tc, test_child_leads_its_own_process_group);
	tcase_add_test(tc, test_stdin_is_dev_null);
	tcase_add_test(tc, test_input_is_fed_whole_then_eof);
	tcase_add_test(tc, test_input_from_a_file_range);
	tcase_add_test(tc, test_input_not_read_is_no_error);
	tcase_add_test(tc, test_signals_start_with_defaults);
	tcase_add_test(tc, test_missing_program_fails_without_leaks);
	tcase_add_test(tc, test_shutdown_kills_and_reaps_every_child);
	tcase_add_test(tc, test_no_signal_after_the_reap);
	tcase_add_test(tc, test_escaped_pipe_holder_is_cut_after_the_drain);
	tcase_add_test(tc, test_drain_reads_both_pipes_to_eof_while_reads_are_paused);
	tcase_add_test(tc, test_chatty_child_does_not_starve_the_loop);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(child_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
