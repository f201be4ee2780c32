/*
 * check_sched.c: unit tests for the scheduler's state machine.
 *
 * Every executor is replaced by a fake (sched_set_executor) whose submit
 * only records the job: the test ends attempts itself, or has the fake end
 * them from a timer, inside submit or when cancelled. The scheduler runs on
 * the real default loop, stepped with EVRUN_NOWAIT (it dispatches in its
 * prepare phase) or run with EVRUN_ONCE until something happened, and its
 * JSON records go to a temporary file that the tests read back. Every test
 * runs in its own forked process (forced, whatever CK_FORK says), so each
 * starts with a fresh scheduler, reporter and input reader.
 *
 * Covered: queued -> running -> final, executor routing and per-class
 * queues, retries with the backoff formula and its timer, timeouts (the
 * executor's cancel, the clock starting with the slot), after= (waiting,
 * skipped, chains of 10000), cancel of a job in each state, --limit groups,
 * --fail-fast, -k, --max-inflight through the real input reader, an
 * executor that deals jobs out in its own prepare phase, the first and
 * run abandoned (a second signal), --resume, and exactly one record per job each time.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corun.h"
#include "input.h"
#include "joblog.h"
#include "parse.h"
#include "report.h"
#include "executors.h"
#include "sched.h"

#define RUNMAX 1024

/* A fake executor: what it was asked to do, and how it answers. */
struct fake {
	int room;	 /* attempts it runs at once */
	int spawn_room;	 /* of which exec/sh (the loop's child class) */
	int sync_cancel; /* cancel() ends the attempt at once */
	int sync_ok;	 /* submit() ends the attempt ok at once */
	int no_start;	 /* submit() does not start the attempt's clock */
	int batch;	 /* submit() only queues; batch_prep starts it */
	int requeue;	 /* exec/sh submits to put back while one runs */
	double auto_s;	 /* >= 0: each attempt ends ok after this long */
	int nsubmit;
	int ncancel;
	int nrun;
	int nspawn;
	int maxrun;	   /* most attempts running at once */
	int gmax;	   /* most attempts of group "g" running at once */
	double submit_now; /* loop time of the last submit */
	double cancel_now; /* loop time of the last cancel */
	struct attempt *run[RUNMAX];
	struct buf log; /* "s:ID " per submit, "c:ID " per cancel */
};

static struct fake F[EX_COUNT];
static struct attempt *batchq[RUNMAX]; /* submitted to a batching fake */
static int nbatch;
static ev_prepare batch_prep;
static int nshutdown;
static struct ev_loop *loop;
static struct corun_options O;
static FILE *recfile;
static unsigned lineno;

/* The id a job is known by in the tests: its id= or sequence number. */
static const char *
job_name(const struct attempt *at)
{
	return at->id;
}

/* Attempts of group "g" running on every fake. */
static int
group_g_running(void)
{
	int n = 0;

	for (int ex = 0; ex < EX_COUNT; ex++)
		for (int i = 0; i < F[ex].nrun; i++) {
			const char *g = F[ex].run[i]->spec->group;
			if (g != NULL && strcmp(g, "g") == 0)
				n++;
		}
	return n;
}

/* Take a job off its fake's running list. */
static void
fake_forget(struct attempt *at)
{
	struct fake *f = &F[at->ex];

	for (int i = 0; i < f->nrun; i++) {
		if (f->run[i] == at) {
			f->run[i] = f->run[--f->nrun];
			if (at->spec->kind->spawns)
				f->nspawn--;
			return;
		}
	}
	ck_abort_msg("job %s is not running", job_name(at));
}

/* End a running attempt as the executor would. */
static void
fake_end(struct attempt *at, enum job_status st, const char *err, int sig)
{
	struct result res;

	if (at->xdata != NULL) {
		ev_timer_stop(loop, at->xdata);
		free(at->xdata);
	}
	fake_forget(at);
	result_init(&res);
	res.status = st;
	res.signal = sig;
	if (err != NULL)
		result_error(&res, "%s", err);
	sched_attempt_done(at, &res);
}

/* An automatic attempt's time is up: it ends ok. */
static void
fake_auto_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct attempt *at = w->data;

	(void)l, (void)revents;
	fake_end(at, ST_OK, NULL, 0);
}

/* Room for this job? cancel jobs always run (they end inside submit). */
static int
fake_ready(const struct attempt *at)
{
	const struct fake *f = &F[at->ex];

	if (at->spec->kind->id == KIND_CANCEL)
		return 1;
	if (at->spec->kind->spawns && f->nspawn >= f->spawn_room)
		return 0;
	return f->nrun < f->room;
}

/* Start a submitted attempt as the fake is told to. */
static void
fake_begin(struct attempt *at)
{
	struct fake *f = &F[at->ex];

	if (!f->no_start)
		sched_attempt_started(at);
	if (f->sync_ok) {
		fake_end(at, ST_OK, NULL, 0);
		return;
	}
	if (f->auto_s >= 0) {
		ev_timer *w = xmalloc(sizeof *w);

		ev_timer_init(w, fake_auto_cb, f->auto_s, 0.);
		w->data = at;
		at->xdata = w;
		ev_timer_start(loop, w);
	}
}

/* A batching executor's own prepare phase: start what it was given. */
static void
batch_prepare_cb(struct ev_loop *l, ev_prepare *w, int revents)
{
	int n = nbatch;

	(void)l, (void)w, (void)revents;
	nbatch = 0;
	for (int i = 0; i < n; i++)
		fake_begin(batchq[i]);
}

/* Record a submit; start the attempt unless told not to (or later, for a
 * batching fake). */
static void
fake_submit(struct attempt *at)
{
	struct fake *f = &F[at->ex];
	int g;

	if (at->spec->kind->spawns && f->requeue > 0 && f->nspawn > 0) {
		/* Out of fds, as the loop executor would be: no child starts
		 * until a running one ends. */
		f->requeue--;
		buf_printf(&f->log, "r:%s ", job_name(at));
		f->spawn_room = f->nspawn;
		sched_attempt_requeue(at);
		return;
	}
	buf_printf(&f->log, "s:%s ", job_name(at));
	if (at->spec->kind->id == KIND_CANCEL) {
		/* The real cancel kind, on the scheduler. */
		sched_cancel_start(at);
		return;
	}
	f->nsubmit++;
	f->submit_now = ev_now(loop);
	ck_assert_int_lt(f->nrun, RUNMAX);
	f->run[f->nrun++] = at;
	if (at->spec->kind->spawns)
		f->nspawn++;
	if (f->nrun > f->maxrun)
		f->maxrun = f->nrun;
	g = group_g_running();
	if (g > f->gmax)
		f->gmax = g;
	at->xdata = NULL;
	if (f->batch) {
		batchq[nbatch++] = at;
		return;
	}
	fake_begin(at);
}

/* Record a cancel; end the attempt at once if told to (signal 15). */
static void
fake_cancel(struct attempt *at)
{
	struct fake *f = &F[at->ex];

	f->ncancel++;
	f->cancel_now = ev_now(loop);
	buf_printf(&f->log, "c:%s ", job_name(at));
	if (f->sync_cancel)
		fake_end(at, ST_FAILED, "stopped", 15);
}

/* Count shutdowns. */
static void
fake_shutdown(void)
{
	nshutdown++;
}

static const struct executor_ops fake_ops = {
    "fake", fake_ready, fake_submit, fake_cancel, fake_shutdown,
};

/* A fresh world for each test (runs in the test's own process). */
static void
setup(void)
{
	memset(F, 0, sizeof F);
	for (int ex = 0; ex < EX_COUNT; ex++) {
		F[ex].room = 1000;
		F[ex].spawn_room = 1000;
		F[ex].auto_s = -1;
		sched_set_executor((enum executor)ex, &fake_ops);
	}
	nshutdown = 0;
	lineno = 0;
	corun_options_init(&O);
	O.handle_signals = 1;
	O.json = 1;
	recfile = tmpfile();
	ck_assert_ptr_nonnull(recfile);
	report_init(fileno(recfile), 1);
	loop = ev_default_loop(0);
	ck_assert_ptr_nonnull(loop);
}

/* Start the scheduler with the options the test has set. */
static void
begin(void)
{
	sched_init(loop, &O);
	sched_set_source(&input_source);
}

/* Feed one job line, as from file "t" at the next line number. */
static void
add(const char *line)
{
	struct job_spec *spec = NULL;
	char err[256];

	lineno++;
	ck_assert_msg(parse_line(line, &spec, err, sizeof err) == PARSE_JOB,
		      "%s: %s", line, err);
	sched_add(spec, "t", lineno);
}

/* One loop iteration without blocking. */
static void
step(void)
{
	ev_run(loop, EVRUN_NOWAIT);
}

static ev_timer heartbeat;

/* The heartbeat only wakes the loop. */
static void
heartbeat_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l, (void)w, (void)revents;
}

/* Run the loop until cond holds. A heartbeat wakes it every 2 ms
 * meanwhile: cond may become true in a prepare phase, after which the
 * loop would otherwise block. The test's timeout guards against cond
 * never holding. */
#define RUN_UNTIL(cond)                                                        \
	do {                                                                   \
		ev_timer_init(&heartbeat, heartbeat_cb, 0.002, 0.002);         \
		ev_timer_start(loop, &heartbeat);                              \
		for (int i_ = 0; !(cond) && i_ < 1000000; i_++)                \
			ev_run(loop, EVRUN_ONCE);                              \
		ev_timer_stop(loop, &heartbeat);                               \
		ck_assert_msg((cond), "never: %s", #cond);                     \
	} while (0)

/* A timer's callback: note that it fired. */
static void
run_for_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l, (void)revents;
	*(int *)w->data = 1;
}

/* Run the loop for about this many seconds. */
static void
run_for(double seconds)
{
	ev_timer w;
	int fired = 0;

	ev_timer_init(&w, run_for_cb, seconds, 0.);
	w.data = &fired;
	ev_timer_start(loop, &w);
	RUN_UNTIL(fired);
}

/* The running attempt of the job called id, on any fake. */
static struct attempt *
running(const char *id)
{
	for (int ex = 0; ex < EX_COUNT; ex++)
		for (int i = 0; i < F[ex].nrun; i++)
			if (strcmp(job_name(F[ex].run[i]), id) == 0)
				return F[ex].run[i];
	return NULL;
}

/* End the running attempt of job id. */
static void
finish_sig(const char *id, enum job_status st, const char *err, int sig)
{
	struct attempt *at = running(id);

	ck_assert_msg(at != NULL, "job %s is not running", id);
	fake_end(at, st, err, sig);
}

/* End the running attempt of job id, no signal. */
static void
finish(const char *id, enum job_status st, const char *err)
{
	finish_sig(id, st, err, 0);
}

/* Every record written so far (the writer drained first); a static copy. */
static const char *
recs(void)
{
	static struct buf b = BUF_INIT;
	struct stat st;

	report_drain(-1);
	ck_assert_int_eq(fstat(fileno(recfile), &st), 0);
	buf_reset(&b);
	buf_reserve(&b, (size_t)st.st_size + 1);
	ck_assert_int_eq(pread(fileno(recfile), b.data, (size_t)st.st_size, 0),
			 st.st_size);
	b.len = (size_t)st.st_size;
	b.data[b.len] = '\0';
	return b.data;
}

/* The number of records written. */
static int
nrecs(void)
{
	int n = 0;

	for (const char *p = recs(); *p != '\0'; p++)
		if (*p == '\n')
			n++;
	return n;
}

/* The record of job id (a static copy); fails unless there is exactly
 * one. */
static const char *
rec(const char *id)
{
	static char line[4096];
	const char *all = recs(), *found = NULL;
	char key[300];
	int n = 0;

	snprintf(key, sizeof key, "{\"id\":\"%s\",", id);
	for (const char *p = all; *p != '\0';) {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, key, strlen(key)) == 0) {
			found = p;
			n++;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	ck_assert_msg(n == 1, "%d records for %s in:\n%s", n, id, all);
	snprintf(line, sizeof line, "%.*s", (int)strcspn(found, "\n"), found);
	return line;
}

/* Assert that job id's record holds a JSON fragment. */
#define HAS(id, frag)                                                          \
	do {                                                                   \
		const char *r_ = rec(id);                                      \
		ck_assert_msg(strstr(r_, (frag)) != NULL, "%s lacks %s: %s",   \
			      (id), (frag), r_);                               \
	} while (0)

/* The position of job id's record among all of them (0-based). */
static int
rec_index(const char *id)
{
	const char *all = recs();
	char key[300];
	int i = 0;

	snprintf(key, sizeof key, "{\"id\":\"%s\",", id);
	for (const char *p = all; *p != '\0'; i++) {
		if (strncmp(p, key, strlen(key)) == 0)
			return i;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	return -1;
}

/* Exactly one record for every job read so far, and no other. */
static void
one_each(void)
{
	uint64_t n = sched_read();
	unsigned char *seen = calloc(n + 1, 1);
	const char *all = recs();
	uint64_t lines = 0;

	ck_assert_ptr_nonnull(seen);
	for (const char *p = all; *p != '\0'; lines++) {
		const char *s = strstr(p, "\"seq\":");
		const char *nl = strchr(p, '\n');
		unsigned long long q;

		ck_assert_ptr_nonnull(nl);
		ck_assert_msg(s != NULL && s < nl, "no seq in a record");
		q = strtoull(s + 6, NULL, 10);
		ck_assert_msg(q >= 1 && q <= n, "seq %llu out of range", q);
		ck_assert_msg(!seen[q], "two records for seq %llu", q);
		seen[q] = 1;
		p = nl + 1;
	}
	ck_assert_msg(lines == n, "%llu records for %llu jobs",
		      (unsigned long long)lines, (unsigned long long)n);
	free(seen);
}

/* How many times a fragment occurs in all the records. */
static int
count_in_recs(const char *frag)
{
	int n = 0;

	for (const char *p = recs(); (p = strstr(p, frag)) != NULL; p++)
		n++;
	return n;
}

START_TEST(job_runs_when_dispatched_and_ends_ok)
{
	begin();
	add("id=a sleep 1");
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 0);
	step();
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 1);
	ck_assert_uint_eq(sched_running(EX_LOOP), 1);
	ck_assert_uint_eq(sched_read(), 1);
	ck_assert_int_eq(nrecs(), 0);
	finish("a", ST_OK, NULL);
	step();
	HAS("a", "\"seq\":1,\"source\":\"t:1\",\"kind\":\"sleep\","
		 "\"executor\":\"loop\",\"status\":\"ok\"");
	HAS("a", "\"error\":null");
	HAS("a", "\"attempts\":1,");
	ck_assert_uint_eq(sched_running(EX_LOOP), 0);
	ck_assert_int_eq(sched_exit_status(), 0);
	ck_assert_uint_eq(sched_notok(), 0);
	one_each();
}
END_TEST

START_TEST(jobs_go_to_their_executor)
{
	begin();
	add("id=s sleep 1");
	add("id=b block 1");
	add("id=p primes 10");
	add("id=o read /dev/null");
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:s ");
	ck_assert_str_eq(F[EX_THREAD].log.data, "s:b s:o ");
	ck_assert_str_eq(F[EX_PROCESS].log.data, "s:p ");
	finish("s", ST_OK, NULL);
	finish("b", ST_OK, NULL);
	finish("p", ST_FAILED, "bad");
	finish("o", ST_OK, NULL);
	step();
	HAS("b", "\"executor\":\"thread\"");
	HAS("o", "\"executor\":\"thread\"");
	HAS("p", "\"executor\":\"process\",\"status\":\"failed\"");
	HAS("p", "\"error\":\"bad\"");
	ck_assert_int_eq(sched_exit_status(), 1);
	ck_assert_uint_eq(sched_notok(), 1);
	one_each();
}
END_TEST

START_TEST(a_full_executor_holds_only_its_own_queue)
{
	F[EX_THREAD].room = 1;
	F[EX_LOOP].spawn_room = 0;
	begin();
	add("id=b1 block 1");
	add("id=b2 block 1");
	add("id=e exec true");
	add("id=s sleep 1");
	step();
	/* A sleep does not wait behind an exec held back by -j. */
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:s ");
	ck_assert_str_eq(F[EX_THREAD].log.data, "s:b1 ");
	finish("b1", ST_OK, NULL);
	step();
	ck_assert_str_eq(F[EX_THREAD].log.data, "s:b1 s:b2 ");
	F[EX_LOOP].spawn_room = 1;
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:s s:e ");
	finish("b2", ST_OK, NULL);
	finish("e", ST_OK, NULL);
	finish("s", ST_OK, NULL);
	step();
	one_each();
}
END_TEST

START_TEST(a_requeued_attempt_waits_and_is_not_a_retry)
{
	static struct corun_limit lim[] = {{"g", 1}};

	O.limits = lim;
	O.nlimits = 1;
	F[EX_LOOP].requeue = 1;
	begin();
	add("id=a exec true");
	add("id=b group=g exec true");
	add("id=c group=g exec true");
	add("id=s sleep 1");
	step();
	/* b is put back at the head of the child queue; the sleep runs. */
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:s s:a r:b ");
	step();
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 2);
	finish("a", ST_OK, NULL);
	F[EX_LOOP].spawn_room = 1000; /* a gave its fds back */
	step();
	/* b first, and its group slot was given back: c waits for it. */
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:s s:a r:b s:b ");
	finish("b", ST_OK, NULL);
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:s s:a r:b s:b s:c ");
	finish("c", ST_OK, NULL);
	finish("s", ST_OK, NULL);
	step();
	HAS("b", "\"attempts\":1,");
	HAS("b", "\"status\":\"ok\"");
	ck_assert_int_eq(F[EX_LOOP].gmax, 1);
	one_each();
}
END_TEST

START_TEST(a_requeued_job_can_be_cancelled)
{
	F[EX_LOOP].requeue = 1;
	begin();
	add("id=a exec true");
	add("id=b exec true");
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a r:b ");
	add("cancel b");
	step();
	HAS("b", "\"status\":\"cancelled\"");
	HAS("b", "\"attempts\":0,");
	finish("a", ST_OK, NULL);
	step();
	one_each();
}
END_TEST

START_TEST(failed_attempt_is_retried_after_backoff_then_ok)
{
	struct attempt *j;
	double t0, d;

	begin();
	add("id=a retries=2 backoff=10ms sleep 1");
	step();
	for (int n = 1; n <= 2; n++) {
		j = running("a");
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(j->number, n);
		ev_now_update(loop);
		t0 = ev_now(loop);
		finish("a", ST_FAILED, "boom");
		/* Backing off: not running, no record, a timer armed. */
		ck_assert_ptr_null(running("a"));
		ck_assert_uint_eq(sched_running(EX_LOOP), 0);
		ck_assert(sched_timer_remaining(j) >= 0);
		d = sched_timer_remaining(j);
		ck_assert_msg(d >= 0.01 * (1 << (n - 1)) - 1e-9 &&
				  d <= 0.012 * (1 << (n - 1)) + 1e-9,
			      "retry %d after %g s", n, d);
		step();
		ck_assert_int_eq(nrecs(), 0);
		RUN_UNTIL(F[EX_LOOP].nsubmit == n + 1);
		/* Not submitted again before the delay had passed. */
		ck_assert_msg(F[EX_LOOP].submit_now - t0 >= d - 1e-9,
			      "resubmitted after %g s, delay %g s",
			      F[EX_LOOP].submit_now - t0, d);
	}
	finish("a", ST_OK, NULL);
	step();
	HAS("a", "\"status\":\"ok\"");
	HAS("a", "\"error\":null");
	HAS("a", "\"attempts\":3,");
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 3);
	ck_assert_int_eq(sched_exit_status(), 0);
	one_each();
}
END_TEST

START_TEST(backoff_doubles_up_to_its_max)
{
	static const double want[] = {0.01, 0.02, 0.03, 0.03};

	begin();
	add("id=a retries=4 backoff=10ms:30ms sleep 1");
	for (int n = 0; n < 4; n++) {
		struct attempt *j;
		double d;

		RUN_UNTIL(F[EX_LOOP].nsubmit == n + 1);
		j = running("a");
		finish("a", ST_FAILED, "again");
		d = sched_timer_remaining(j);
		ck_assert_msg(d >= want[n] - 1e-9 && d <= want[n] * 1.2 + 1e-9,
			      "retry %d after %g s, want %g..%g", n + 1, d,
			      want[n], want[n] * 1.2);
	}
	RUN_UNTIL(F[EX_LOOP].nsubmit == 5);
	finish("a", ST_FAILED, "last");
	step();
	HAS("a", "\"status\":\"failed\"");
	HAS("a", "\"attempts\":5,");
	one_each();
}
END_TEST

START_TEST(retries_and_backoff_default_to_the_options)
{
	struct attempt *j;
	double d;

	O.retries = 1;
	O.backoff = 0.02;
	O.backoff_max = 10;
	begin();
	add("id=a sleep 1");
	step();
	j = running("a");
	finish("a", ST_FAILED, "x");
	d = sched_timer_remaining(j);
	ck_assert_msg(d >= 0.02 - 1e-9 && d <= 0.024 + 1e-9, "delay %g", d);
	RUN_UNTIL(F[EX_LOOP].nsubmit == 2);
	finish("a", ST_FAILED, "y");
	step();
	HAS("a", "\"attempts\":2,");
	HAS("a", "\"status\":\"failed\"");
	one_each();
}
END_TEST

START_TEST(exhausted_retries_keep_the_last_error)
{
	begin();
	add("id=a retries=1 backoff=1ms sleep 1");
	add("id=n sleep 1");
	step();
	finish("a", ST_FAILED, "first");
	finish("n", ST_FAILED, "no retries");
	RUN_UNTIL(F[EX_LOOP].nsubmit == 3);
	finish("a", ST_FAILED, "second");
	step();
	HAS("a", "\"status\":\"failed\"");
	HAS("a", "\"error\":\"second\"");
	HAS("a", "\"attempts\":2,");
	HAS("n", "\"attempts\":1,");
	HAS("n", "\"error\":\"no retries\"");
	ck_assert_int_eq(sched_exit_status(), 1);
	one_each();
}
END_TEST

START_TEST(timeout_cancels_the_attempt)
{
	begin();
	add("id=a timeout=50ms sleep 1");
	step();
	RUN_UNTIL(F[EX_LOOP].ncancel == 1);
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a c:a ");
	ck_assert_msg(F[EX_LOOP].cancel_now - F[EX_LOOP].submit_now >=
			  0.05 - 1e-9,
		      "cancelled after %g s",
		      F[EX_LOOP].cancel_now - F[EX_LOOP].submit_now);
	/* The record waits for the executor to end the attempt. */
	step();
	ck_assert_int_eq(nrecs(), 0);
	finish_sig("a", ST_FAILED, NULL, 15);
	step();
	HAS("a", "\"status\":\"timeout\"");
	HAS("a", "\"error\":\"timed out after 0.05s\"");
	HAS("a", "\"signal\":15,");
	HAS("a", "\"attempts\":1,");
	ck_assert_int_eq(sched_exit_status(), 1);
	one_each();
}
END_TEST

START_TEST(timed_out_attempts_are_retried)
{
	F[EX_LOOP].sync_cancel = 1;
	begin();
	add("id=a retries=1 timeout=80ms backoff=1ms sleep 1");
	add("id=b timeout=100ms retries=1 sleep 1");
	step();
	/* b ends in time: its timer must not fire later. */
	finish("b", ST_OK, NULL);
	RUN_UNTIL(nrecs() == 2);
	HAS("a", "\"status\":\"timeout\"");
	HAS("a", "\"attempts\":2,");
	HAS("b", "\"status\":\"ok\"");
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a s:b c:a s:a c:a ");
	one_each();
}
END_TEST

START_TEST(a_retry_after_a_timeout_can_end_ok)
{
	F[EX_LOOP].sync_cancel = 1;
	begin();
	add("id=a retries=1 timeout=200ms backoff=1ms sleep 1");
	step();
	RUN_UNTIL(F[EX_LOOP].nsubmit == 2);
	finish("a", ST_OK, NULL);
	step();
	HAS("a", "\"status\":\"ok\"");
	HAS("a", "\"error\":null");
	HAS("a", "\"signal\":null");
	HAS("a", "\"attempts\":2,");
	one_each();
}
END_TEST

START_TEST(timeout_defaults_to_the_option)
{
	F[EX_LOOP].sync_cancel = 1;
	O.timeout = 0.02;
	begin();
	add("id=a sleep 1");
	add("id=b timeout=5 sleep 1");
	RUN_UNTIL(nrecs() == 1);
	HAS("a", "\"error\":\"timed out after 0.02s\"");
	ck_assert_ptr_nonnull(running("b"));
	finish("b", ST_OK, NULL);
	step();
	one_each();
}
END_TEST

START_TEST(the_clock_starts_when_the_executor_starts_the_attempt)
{
	struct attempt *p;

	F[EX_PROCESS].no_start = 1;
	F[EX_PROCESS].sync_cancel = 1;
	F[EX_LOOP].auto_s = 0.08;
	begin();
	add("id=p timeout=20ms primes 10");
	add("id=z sleep 1");
	/* p is submitted but waits inside its executor: no timeout. */
	RUN_UNTIL(nrecs() == 1);
	HAS("z", "\"status\":\"ok\"");
	ck_assert_int_eq(F[EX_PROCESS].ncancel, 0);
	p = running("p");
	ck_assert_ptr_nonnull(p);
	sched_attempt_started(p);
	RUN_UNTIL(F[EX_PROCESS].ncancel == 1);
	step();
	HAS("p", "\"status\":\"timeout\"");
	one_each();
}
END_TEST

START_TEST(after_waits_until_its_dependencies_end_ok)
{
	begin();
	add("id=a sleep 1");
	add("id=b after=a sleep 1");
	add("id=c after=1,b sleep 1");
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a ");
	finish("a", ST_OK, NULL);
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a s:b ");
	finish("b", ST_OK, NULL);
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a s:b s:c ");
	finish("c", ST_OK, NULL);
	step();
	ck_assert_int_eq(count_in_recs("\"status\":\"ok\""), 3);
	one_each();
}
END_TEST

START_TEST(after_a_job_already_gone)
{
	begin();
	add("id=a sleep 1");
	add("id=f sleep 1");
	add("sleep 1");
	step();
	finish("a", ST_OK, NULL);
	finish("f", ST_TIMEOUT, "timed out after 1s");
	finish("3", ST_FAILED, "x");
	step();
	ck_assert_int_eq(nrecs(), 3);
	add("id=b after=a sleep 1");
	add("id=g after=a,f sleep 1");
	add("id=h after=3 sleep 1");
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a s:f s:3 s:b ");
	HAS("g", "\"status\":\"skipped\"");
	HAS("g", "\"error\":\"dependency 'f' ended timeout\"");
	HAS("h", "\"error\":\"dependency '3' ended failed\"");
	finish("b", ST_OK, NULL);
	step();
	one_each();
}
END_TEST

START_TEST(a_failed_dependency_skips_its_waiters)
{
	begin();
	add("sleep 1");
	add("id=b after=1 sleep 1");
	add("id=c after=b sleep 1");
	add("id=d after=b block 1");
	step();
	finish("1", ST_FAILED, "exit status 1");
	step();
	HAS("b", "\"status\":\"skipped\"");
	HAS("b", "\"error\":\"dependency '1' ended failed\"");
	HAS("b", "\"executor\":\"loop\"");
	HAS("b", "\"attempts\":0,\"queued\":null,\"start\":null,"
	    "\"elapsed\":0.000000}");
	HAS("c", "\"error\":\"dependency 'b' ended skipped\"");
	HAS("d", "\"status\":\"skipped\"");
	HAS("d", "\"executor\":\"thread\"");
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 1);
	ck_assert_int_eq(F[EX_THREAD].nsubmit, 0);
	/* Waiters are released in input order. */
	ck_assert_int_lt(rec_index("b"), rec_index("c"));
	ck_assert_int_lt(rec_index("c"), rec_index("d"));
	ck_assert_int_eq(sched_exit_status(), 1);
	one_each();
}
END_TEST

START_TEST(waiters_start_in_input_order)
{
	F[EX_LOOP].room = 1;
	begin();
	add("id=a sleep 1");
	for (int i = 0; i < 5; i++)
		add("after=a sleep 1");
	step();
	finish("a", ST_OK, NULL);
	for (int i = 2; i <= 6; i++) {
		char id[16];

		step();
		snprintf(id, sizeof id, "%d", i);
		ck_assert_msg(running(id) != NULL, "%s is not next: %s", id,
			      F[EX_LOOP].log.data);
		finish(id, ST_OK, NULL);
	}
	step();
	one_each();
}
END_TEST

START_TEST(long_chain_is_skipped_without_recursion)
{
	char line[64];

	begin();
	add("id=j1 sleep 1");
	for (int i = 2; i <= 10000; i++) {
		snprintf(line, sizeof line, "id=j%d after=j%d sleep 1", i,
			 i - 1);
		add(line);
	}
	step();
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 1);
	finish("j1", ST_FAILED, "exit status 1");
	step();
	ck_assert_int_eq(nrecs(), 10000);
	ck_assert_int_eq(count_in_recs("\"status\":\"skipped\""), 9999);
	HAS("j10000", "\"error\":\"dependency 'j9999' ended skipped\"");
	HAS("j2", "\"error\":\"dependency 'j1' ended failed\"");
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 1);
	one_each();
}
END_TEST

START_TEST(long_chain_runs_in_order)
{
	char line[64];

	begin();
	add("sleep 1");
	for (int i = 2; i <= 10000; i++) {
		snprintf(line, sizeof line, "after=%d sleep 1", i - 1);
		add(line);
	}
	for (int i = 1; i <= 10000; i++) {
		char id[16];

		step();
		ck_assert_int_eq(F[EX_LOOP].nrun, 1);
		snprintf(id, sizeof id, "%d", i);
		finish(id, ST_OK, NULL);
	}
	step();
	ck_assert_int_eq(count_in_recs("\"status\":\"ok\""), 10000);
	one_each();
}
END_TEST

START_TEST(a_bad_reference_is_an_error_record)
{
	begin();
	add("id=a sleep 1");
	add("id=x after=zz sleep 1");
	add("id=y after=4 sleep 1");
	add("id=s after=s sleep 1");
	step();
	HAS("x", "\"executor\":null,\"status\":\"error\"");
	HAS("x", "\"kind\":\"sleep\"");
	HAS("x", "\"error\":\"after: 'zz' names no earlier job\"");
	HAS("x", "\"attempts\":0,");
	HAS("y", "\"error\":\"after: '4' names no earlier job\"");
	HAS("s", "\"error\":\"after: 's' names no earlier job\"");
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a ");
	finish("a", ST_OK, NULL);
	step();
	ck_assert_int_eq(sched_exit_status(), 1);
	one_each();
}
END_TEST

START_TEST(a_duplicate_id_is_an_error_record)
{
	begin();
	add("id=a sleep 1");
	add("id=a block 1");
	add("id=b after=a sleep 1");
	step();
	HAS("2", "\"status\":\"error\"");
	HAS("2", "\"error\":\"duplicate id 'a'\"");
	HAS("2", "\"kind\":\"block\"");
	ck_assert_int_eq(F[EX_THREAD].nsubmit, 0);
	/* after=a names the first job a. */
	finish("a", ST_OK, NULL);
	step();
	ck_assert_ptr_nonnull(running("b"));
	finish("b", ST_OK, NULL);
	step();
	one_each();
}
END_TEST

START_TEST(a_line_that_did_not_parse_is_an_error_record)
{
	struct job_spec *spec = NULL;
	char err[256];

	begin();
	sched_add_error(NULL, "t", 7, "unknown kind 'frob'");
	ck_assert_int_eq(parse_line("id=e sleep x", &spec, err, sizeof err),
			 PARSE_ERROR);
	sched_add_error(spec, "t", 8, err);
	add("id=w after=e sleep 1");
	step();
	HAS("1", "\"source\":\"t:7\",\"kind\":null,\"executor\":null,"
		 "\"status\":\"error\"");
	HAS("1", "\"error\":\"unknown kind 'frob'\"");
	HAS("e", "\"status\":\"error\"");
	HAS("w", "\"error\":\"dependency 'e' ended error\"");
	ck_assert_int_eq(sched_exit_status(), 1);
	one_each();
}
END_TEST

START_TEST(cancel_a_queued_job)
{
	F[EX_THREAD].room = 0;
	begin();
	add("id=t block 1");
	step();
	add("id=c cancel t");
	step();
	HAS("t", "\"status\":\"cancelled\"");
	HAS("t", "\"error\":\"cancelled\"");
	HAS("t", "\"attempts\":0,\"queued\":null,\"start\":null,"
	    "\"elapsed\":0.000000}");
	HAS("c", "\"status\":\"ok\",\"value\":\"\"");
	HAS("c", "\"executor\":\"loop\"");
	ck_assert_int_eq(F[EX_THREAD].nsubmit, 0);
	ck_assert_int_eq(F[EX_THREAD].ncancel, 0);
	F[EX_THREAD].room = 1;
	step();
	ck_assert_int_eq(F[EX_THREAD].nsubmit, 0);
	ck_assert_int_eq(sched_exit_status(), 1);
	one_each();
}
END_TEST

START_TEST(cancel_a_running_job)
{
	begin();
	add("id=r retries=3 sleep 1");
	step();
	add("id=c cancel r");
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:r s:c c:r ");
	HAS("c", "\"status\":\"ok\"");
	/* r's record comes when its executor has stopped it. */
	ck_assert_int_eq(nrecs(), 1);
	finish_sig("r", ST_FAILED, NULL, 15);
	step();
	HAS("r", "\"status\":\"cancelled\"");
	HAS("r", "\"error\":\"cancelled\"");
	HAS("r", "\"attempts\":1,");
	/* No retry for a cancelled job. */
	step();
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 1);
	one_each();
}
END_TEST

START_TEST(cancel_a_waiting_job)
{
	begin();
	add("id=a sleep 1");
	add("id=w after=a sleep 1");
	add("id=v after=w sleep 1");
	step();
	add("cancel w");
	step();
	HAS("w", "\"status\":\"cancelled\"");
	HAS("w", "\"attempts\":0,");
	HAS("v", "\"status\":\"skipped\"");
	HAS("v", "\"error\":\"dependency 'w' ended cancelled\"");
	HAS("4", "\"status\":\"ok\"");
	finish("a", ST_OK, NULL);
	step();
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a s:4 ");
	one_each();
}
END_TEST

START_TEST(cancel_a_job_backing_off)
{
	double t0;

	begin();
	add("id=b retries=1 backoff=10s sleep 1");
	step();
	finish("b", ST_FAILED, "first");
	add("id=c cancel b");
	step();
	HAS("b", "\"status\":\"cancelled\"");
	HAS("b", "\"error\":\"cancelled\"");
	HAS("b", "\"attempts\":1,");
	HAS("c", "\"status\":\"ok\"");
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 1);
	one_each();
	/* Its backoff timer is stopped: with the scheduler's own watchers
	 * gone, the loop has nothing to wait for. */
	sched_shutdown();
	ev_now_update(loop);
	t0 = ev_now(loop);
	ev_run(loop, 0);
	ev_now_update(loop);
	ck_assert_double_lt(ev_now(loop) - t0, 5);
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 1);
}
END_TEST

START_TEST(cancel_of_an_unknown_or_final_job_fails)
{
	begin();
	add("id=a sleep 1");
	step();
	finish("a", ST_OK, NULL);
	step();
	add("id=c1 cancel zz");
	add("id=c2 cancel 99");
	add("id=c3 cancel a");
	add("id=c4 cancel 1");
	add("id=c5 cancel c1");
	step();
	HAS("c1", "\"status\":\"failed\"");
	HAS("c1", "\"error\":\"no job 'zz'\"");
	HAS("c2", "\"error\":\"no job '99'\"");
	HAS("c3", "\"error\":\"job 'a' is already final\"");
	HAS("c4", "\"error\":\"job '1' is already final\"");
	HAS("c5", "\"error\":\"job 'c1' is already final\"");
	HAS("a", "\"status\":\"ok\"");
	ck_assert_int_eq(sched_exit_status(), 1);
	one_each();
}
END_TEST

START_TEST(cancel_while_timing_out_ends_cancelled)
{
	begin();
	add("id=t retries=2 timeout=20ms sleep 1");
	step();
	RUN_UNTIL(F[EX_LOOP].ncancel == 1);
	add("id=c cancel t");
	step();
	HAS("c", "\"status\":\"ok\"");
	/* The executor is already stopping t: not asked twice. */
	ck_assert_int_eq(F[EX_LOOP].ncancel, 1);
	finish_sig("t", ST_FAILED, NULL, 15);
	step();
	HAS("t", "\"status\":\"cancelled\"");
	HAS("t", "\"attempts\":1,");
	step();
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 1);
	one_each();
}
END_TEST

START_TEST(limit_caps_a_group)
{
	static struct corun_limit lim[] = {{"g", 2}};
	char line[64];

	O.limits = lim;
	O.nlimits = 1;
	begin();
	for (int i = 1; i <= 5; i++) {
		snprintf(line, sizeof line, "id=g%d group=g sleep 1", i);
		add(line);
	}
	add("id=gt group=g block 1");
	add("id=x sleep 1");
	add("id=h group=h sleep 1");
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:g1 s:g2 s:x s:h ");
	ck_assert_int_eq(F[EX_THREAD].nsubmit, 0);
	finish("g1", ST_OK, NULL);
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:g1 s:g2 s:x s:h s:g3 ");
	add("cancel g5");
	step();
	HAS("g5", "\"status\":\"cancelled\"");
	HAS("g5", "\"attempts\":0,");
	finish("g2", ST_FAILED, "x");
	finish("g3", ST_OK, NULL);
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data,
			 "s:g1 s:g2 s:x s:h s:g3 s:9 s:g4 ");
	ck_assert_int_eq(F[EX_THREAD].nsubmit, 1);
	finish("g4", ST_OK, NULL);
	finish("gt", ST_OK, NULL);
	finish("x", ST_OK, NULL);
	finish("h", ST_OK, NULL);
	step();
	ck_assert_int_eq(F[EX_LOOP].gmax, 2);
	ck_assert_int_le(F[EX_THREAD].gmax, 2);
	one_each();
}
END_TEST

START_TEST(limit_counts_retries_and_backoff_frees_the_slot)
{
	static struct corun_limit lim[] = {{"g", 1}};

	O.limits = lim;
	O.nlimits = 1;
	begin();
	add("id=a group=g retries=1 backoff=20ms sleep 1");
	add("id=b group=g sleep 1");
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a ");
	finish("a", ST_FAILED, "x");
	step();
	/* a backs off: its slot is b's now. */
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a s:b ");
	/* Its retry waits for the slot. */
	run_for(0.06);
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 2);
	finish("b", ST_OK, NULL);
	step();
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a s:b s:a ");
	finish("a", ST_OK, NULL);
	step();
	ck_assert_int_eq(F[EX_LOOP].gmax, 1);
	one_each();
}
END_TEST

START_TEST(fail_fast_cancels_everything_else)
{
	O.fail_fast = 1;
	F[EX_LOOP].room = 2;
	F[EX_THREAD].sync_cancel = 1;
	begin();
	add("id=a sleep 1");
	add("id=b sleep 1");
	add("id=c sleep 1");
	add("id=d after=a sleep 1");
	add("id=e retries=1 backoff=10s block 1");
	add("id=t block 1");
	add("id=s after=b block 1");
	step();
	finish("e", ST_FAILED, "first");
	step();
	ck_assert_int_eq(nrecs(), 0);
	finish("b", ST_FAILED, "exit status 1");
	step();
	HAS("b", "\"status\":\"failed\"");
	HAS("s", "\"status\":\"skipped\"");
	HAS("c", "\"status\":\"cancelled\"");
	HAS("c", "\"attempts\":0,");
	HAS("d", "\"status\":\"cancelled\"");
	HAS("d", "\"attempts\":0,");
	HAS("e", "\"status\":\"cancelled\"");
	HAS("e", "\"attempts\":1,");
	HAS("t", "\"status\":\"cancelled\"");
	HAS("t", "\"attempts\":1,");
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a s:b c:a ");
	ck_assert(input_done());
	/* A line read after the stop is cancelled at once. */
	add("id=late sleep 1");
	step();
	HAS("late", "\"status\":\"cancelled\"");
	ck_assert_int_eq(nrecs(), 7);
	finish_sig("a", ST_FAILED, NULL, 15);
	step();
	HAS("a", "\"status\":\"cancelled\"");
	HAS("a", "\"signal\":15,");
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 2);
	ck_assert_int_eq(sched_exit_status(), 1);
	one_each();
}
END_TEST

START_TEST(fail_fast_cancels_waiters_before_their_dependency)
{
	O.fail_fast = 1;
	F[EX_THREAD].sync_cancel = 1;
	begin();
	add("id=t block 1");
	for (int i = 0; i < 40; i++)
		add("after=t sleep 1");
	add("id=f sleep 1");
	step();
	finish("f", ST_FAILED, "x");
	step();
	/* Whatever order the jobs are found in, none ends skipped. */
	ck_assert_int_eq(count_in_recs("\"status\":\"cancelled\""), 41);
	ck_assert_int_eq(count_in_recs("\"status\":\"skipped\""), 0);
	one_each();
}
END_TEST

START_TEST(fail_fast_ignores_a_job_cancelled_by_cancel)
{
	O.fail_fast = 1;
	F[EX_LOOP].sync_cancel = 1;
	begin();
	add("id=a sleep 1");
	add("id=b sleep 1");
	step();
	/* a ends cancelled: a consequence, not a failure (corun(1),
	 * --fail-fast: failed, timeout or error stop the run), so b goes on. */
	add("id=c cancel a");
	step();
	HAS("a", "\"status\":\"cancelled\"");
	HAS("c", "\"status\":\"ok\"");
	ck_assert_int_eq(rec_index("b"), -1);
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:a s:b s:c c:a ");
	finish("b", ST_OK, NULL);
	step();
	HAS("b", "\"status\":\"ok\"");
	one_each();
}
END_TEST

START_TEST(fail_fast_on_an_error_record)
{
	O.fail_fast = 1;
	F[EX_LOOP].sync_cancel = 1;
	begin();
	add("id=a sleep 1");
	step();
	sched_add_error(NULL, "t", 2, "unknown kind 'frob'");
	step();
	HAS("2", "\"status\":\"error\"");
	HAS("a", "\"status\":\"cancelled\"");
	one_each();
}
END_TEST

START_TEST(no_fail_fast_keeps_going)
{
	begin();
	add("id=a sleep 1");
	add("id=b sleep 1");
	step();
	finish("b", ST_FAILED, "x");
	step();
	ck_assert_ptr_nonnull(running("a"));
	add("id=c sleep 1");
	step();
	ck_assert_ptr_nonnull(running("c"));
	ck_assert(!input_done());
	finish("a", ST_OK, NULL);
	finish("c", ST_OK, NULL);
	step();
	one_each();
}
END_TEST

START_TEST(keep_order_holds_later_records)
{
	O.keep_order = 1;
	begin();
	add("id=a sleep 1");
	add("id=b sleep 1");
	add("id=c sleep 1");
	add("id=x after=zz sleep 1");
	step();
	finish("c", ST_OK, NULL);
	step();
	ck_assert_int_eq(nrecs(), 0);
	/* A job may depend on one that is final but not yet written. */
	add("id=d after=c sleep 1");
	step();
	ck_assert_ptr_nonnull(running("d"));
	finish("d", ST_FAILED, "x");
	step();
	add("id=e after=d sleep 1");
	step();
	ck_assert_int_eq(nrecs(), 0);
	finish("a", ST_OK, NULL);
	step();
	ck_assert_int_eq(nrecs(), 1);
	ck_assert_int_eq(rec_index("a"), 0);
	finish("b", ST_OK, NULL);
	step();
	ck_assert_int_eq(nrecs(), 6);
	ck_assert_int_eq(rec_index("b"), 1);
	ck_assert_int_eq(rec_index("c"), 2);
	ck_assert_int_eq(rec_index("x"), 3);
	ck_assert_int_eq(rec_index("d"), 4);
	ck_assert_int_eq(rec_index("e"), 5);
	HAS("e", "\"error\":\"dependency 'd' ended failed\"");
	one_each();
}
END_TEST

/* Feed text to the scheduler through the real input reader, as standard
 * input (a pipe). The write end is closed unless keep_open. */
static int
feed_stdin(const char *text, int keep_open)
{
	static char *names[] = {"-"};
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	ck_assert_int_eq(write(p[1], text, strlen(text)),
			 (ssize_t)strlen(text));
	if (!keep_open) {
		close(p[1]);
		p[1] = -1;
	}
	input_start(loop, names, 1);
	return p[1];
}

START_TEST(max_inflight_pauses_reading)
{
	O.max_inflight = 2;
	begin();
	feed_stdin("id=m1 sleep 1\nid=m2 sleep 1\nid=m3 sleep 1\n"
		   "id=m4 sleep 1\nid=m5 sleep 1\nid=m6 sleep 1\n",
		   0);
	step();
	step();
	step();
	ck_assert_uint_eq(sched_read(), 2);
	ck_assert_int_eq(F[EX_LOOP].nsubmit, 2);
	finish("m1", ST_OK, NULL);
	step();
	step();
	ck_assert_uint_eq(sched_read(), 3);
	ck_assert_ptr_nonnull(running("m3"));
	for (int i = 2; i <= 6; i++) {
		char id[16];

		snprintf(id, sizeof id, "m%d", i);
		RUN_UNTIL(running(id) != NULL);
		finish(id, ST_OK, NULL);
	}
	/* Input at its end and nothing in flight: the run ends. */
	ev_run(loop, 0);
	ck_assert(input_done());
	ck_assert_int_eq(F[EX_LOOP].maxrun, 2);
	ck_assert_int_eq(count_in_recs("\"status\":\"ok\""), 6);
	one_each();
}
END_TEST

START_TEST(max_inflight_one_runs_to_the_end)
{
	O.max_inflight = 1;
	F[EX_LOOP].auto_s = 0.001;
	begin();
	feed_stdin("sleep 1\nsleep 1\nsleep 1\nsleep 1\nsleep 1\n", 0);
	ev_run(loop, 0);
	ck_assert_int_eq(count_in_recs("\"status\":\"ok\""), 5);
	ck_assert_int_eq(F[EX_LOOP].maxrun, 1);
	one_each();
}
END_TEST

START_TEST(max_inflight_one_with_lines_that_end_at_once)
{
	O.max_inflight = 1;
	F[EX_LOOP].auto_s = 0.001;
	begin();
	/* Error lines end as they are read: reading must go on by itself. */
	feed_stdin("frob\nid=x after=nope sleep 1\nfrob\nsleep 1\nfrob\n", 0);
	ev_run(loop, 0);
	ck_assert_int_eq(count_in_recs("\"status\":\"error\""), 4);
	ck_assert_int_eq(count_in_recs("\"status\":\"ok\""), 1);
	one_each();
}
END_TEST

START_TEST(max_inflight_counts_records_held_by_keep_order)
{
	O.max_inflight = 2;
	O.keep_order = 1;
	begin();
	feed_stdin("id=a sleep 1\nid=b sleep 1\nid=c sleep 1\n", 0);
	step();
	step();
	finish("b", ST_OK, NULL);
	step();
	step();
	/* b is final but held behind a: still in flight. */
	ck_assert_uint_eq(sched_read(), 2);
	finish("a", ST_OK, NULL);
	step();
	step();
	ck_assert_uint_eq(sched_read(), 3);
	finish("c", ST_OK, NULL);
	ev_run(loop, 0);
	one_each();
}
END_TEST

START_TEST(an_executor_batching_in_its_prepare_phase_is_not_stalled)
{
	O.max_inflight = 1;
	F[EX_PROCESS].batch = 1;
	F[EX_PROCESS].auto_s = 0.001;
	begin();
	/* Started after the scheduler's: libev runs it first. */
	ev_prepare_init(&batch_prep, batch_prepare_cb);
	ev_prepare_start(loop, &batch_prep);
	feed_stdin("primes 1\nprimes 1\nprimes 1\nprimes 1\n", 0);
	ev_run(loop, 0);
	ck_assert_int_eq(count_in_recs("\"status\":\"ok\""), 4);
	one_each();
}
END_TEST

START_TEST(a_group_slot_freed_inside_submit_is_used_at_once)
{
	static struct corun_limit lim[] = {{"g", 1}};

	O.limits = lim;
	O.nlimits = 1;
	F[EX_LOOP].auto_s = 0.005;
	F[EX_PROCESS].sync_ok = 1;
	begin();
	input_stop(); /* no input: the run ends when the jobs do */
	add("id=a group=g sleep 1");
	add("id=b group=g primes 10");
	step();
	add("id=c group=g sleep 1");
	step();
	/* a ends; b runs and ends inside submit; c must still start. */
	ev_run(loop, 0);
	HAS("c", "\"status\":\"ok\"");
	one_each();
}
END_TEST

START_TEST(stop_for_a_signal_cancels_and_writes_every_record)
{
	F[EX_LOOP].room = 1;
	F[EX_THREAD].sync_cancel = 1;
	begin();
	add("id=r sleep 1");
	add("id=q sleep 1");
	add("id=w after=r block 1");
	add("id=t block 1");
	add("id=k retries=1 backoff=10s primes 1");
	step();
	finish("k", ST_FAILED, "x");
	step();
	/* What corun's SIGTERM handler does first (tests/signals.sh sends
	 * real signals to the command). */
	sched_stop(SIGTERM);
	RUN_UNTIL(F[EX_LOOP].ncancel == 1);
	step();
	ck_assert_int_eq(nrecs(), 4);
	HAS("q", "\"status\":\"cancelled\"");
	HAS("q", "\"attempts\":0,");
	HAS("w", "\"status\":\"cancelled\"");
	HAS("t", "\"status\":\"cancelled\"");
	HAS("t", "\"attempts\":1,");
	HAS("k", "\"status\":\"cancelled\"");
	ck_assert(input_done());
	finish_sig("r", ST_FAILED, NULL, 15);
	/* The last record ends the run. */
	ev_run(loop, 0);
	HAS("r", "\"status\":\"cancelled\"");
	HAS("r", "\"signal\":15,");
	ck_assert_int_eq(count_in_recs("\"status\":\"cancelled\""), 5);
	ck_assert_int_eq(sched_exit_status(), 143);
	sched_shutdown();
	ck_assert_int_eq(nshutdown, 3);
	one_each();
}
END_TEST

START_TEST(abandoning_a_stopped_run_ends_it_at_once)
{
	begin();
	add("id=r sleep 1");
	add("id=w after=r sleep 1");
	add("id=b retries=1 backoff=10s block 1");
	step();
	finish("b", ST_FAILED, "x");
	sched_stop(SIGINT);
	RUN_UNTIL(F[EX_LOOP].ncancel == 1);
	step();
	HAS("w", "\"status\":\"cancelled\"");
	HAS("b", "\"status\":\"cancelled\"");
	/* r ignores its cancel; a second signal does not wait for it. */
	sched_abandon_run();
	step();
	ck_assert_int_eq(nrecs(), 2);
	sched_shutdown();
	HAS("r", "\"status\":\"cancelled\"");
	HAS("r", "\"error\":\"cancelled\"");
	ck_assert_int_eq(nshutdown, 3);
	ck_assert_int_eq(sched_exit_status(), 130);
	one_each();
}
END_TEST

START_TEST(hurrying_a_stopped_run_stops_attempts_again_and_waits)
{
	begin();
	add("id=r sleep 1");
	add("id=s sleep 1");
	step();
	sched_stop(SIGINT);
	RUN_UNTIL(F[EX_LOOP].ncancel == 2);
	ck_assert(!sched_hurried());
	/* Both ignore their cancel; a second signal asks again, at once. */
	sched_hurry(SIGTERM);
	ck_assert(sched_hurried());
	ck_assert_int_eq(F[EX_LOOP].ncancel, 4);
	step();
	/* It still waits for them: their records carry what they did. */
	ck_assert_int_eq(nrecs(), 0);
	finish_sig("r", ST_FAILED, "x", 9);
	finish_sig("s", ST_FAILED, "x", 9);
	ev_run(loop, 0);
	HAS("r", "\"status\":\"cancelled\"");
	HAS("r", "\"signal\":9,");
	HAS("s", "\"signal\":9,");
	/* The first signal's status. */
	ck_assert_int_eq(sched_exit_status(), 130);
	sched_shutdown();
	one_each();
}
END_TEST

START_TEST(resume_skips_jobs_logged_ok)
{
	char path[] = "/tmp/check_sched_joblog.XXXXXX";
	int fd = mkstemp(path);
	static const char old[] =
	    "id\tseq\tsource\tkind\texecutor\tstatus\tattempts\tstart\t"
	    "elapsed\texit\tsignal\n"
	    "a\t1\tt:1\tsleep\tloop\tok\t1\t1700000000.000\t0.100\t-\t-\n"
	    "b\t2\tt:2\tsleep\tloop\tfailed\t1\t1700000000.000\t0.100\t-\t-\n"
	    "4\t4\tt:4\tsleep\tloop\tok\t1\t1700000000.000\t0.100\t-\t-\n";
	struct buf log = BUF_INIT;
	char chunk[4096];
	ssize_t n;

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, old, sizeof old - 1), sizeof old - 1);
	close(fd);
	ck_assert_int_eq(joblog_open(path, 1), 0);
	O.resume = 1;
	O.joblog = path;
	begin();
	add("id=a sleep 1");
	add("id=b sleep 1");
	add("id=c after=a sleep 1");
	add("sleep 1");
	step();
	HAS("4", "\"resumed\":true");
	HAS("a", "\"status\":\"ok\"");
	HAS("a", "\"attempts\":0,");
	HAS("a", "\"resumed\":true");
	ck_assert_str_eq(F[EX_LOOP].log.data, "s:b s:c ");
	finish("b", ST_OK, NULL);
	finish("c", ST_FAILED, "x");
	step();
	joblog_close();
	fd = open(path, O_RDONLY);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		buf_add(&log, chunk, (size_t)n);
	close(fd);
	unlink(path);
	/* Appended: b and c, not the resumed a. */
	ck_assert_ptr_nonnull(
	    strstr(log.data, "\nb\t2\tt:2\tsleep\tloop\tok\t1\t"));
	ck_assert_ptr_nonnull(
	    strstr(log.data, "\nc\t3\tt:3\tsleep\tloop\tfailed\t1\t"));
	ck_assert_ptr_null(strstr(log.data + sizeof old - 2, "\na\t"));
	ck_assert_ptr_null(strstr(log.data + sizeof old - 2, "\n4\t"));
	ck_assert_int_eq(sched_exit_status(), 1);
	buf_free(&log);
	one_each();
}
END_TEST

START_TEST(shutdown_stops_every_executor)
{
	begin();
	add("id=a sleep 1");
	step();
	finish("a", ST_OK, NULL);
	step();
	sched_shutdown();
	ck_assert_int_eq(nshutdown, 3);
	one_each();
}
END_TEST

/* The suite. */
static Suite *
sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("attempts");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, job_runs_when_dispatched_and_ends_ok);
	tcase_add_test(tc, jobs_go_to_their_executor);
	tcase_add_test(tc, a_full_executor_holds_only_its_own_queue);
	tcase_add_test(tc, failed_attempt_is_retried_after_backoff_then_ok);
	tcase_add_test(tc, backoff_doubles_up_to_its_max);
	tcase_add_test(tc, retries_and_backoff_default_to_the_options);
	tcase_add_test(tc, exhausted_retries_keep_the_last_error);
	tcase_add_test(tc, timeout_cancels_the_attempt);
	tcase_add_test(tc, timed_out_attempts_are_retried);
	tcase_add_test(tc, a_retry_after_a_timeout_can_end_ok);
	tcase_add_test(tc, timeout_defaults_to_the_option);
	tcase_add_test(tc,
		       the_clock_starts_when_the_executor_starts_the_attempt);
	suite_add_tcase(s, tc);

	tc = tcase_create("after");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, after_waits_until_its_dependencies_end_ok);
	tcase_add_test(tc, after_a_job_already_gone);
	tcase_add_test(tc, a_failed_dependency_skips_its_waiters);
	tcase_add_test(tc, waiters_start_in_input_order);
	tcase_add_test(tc, long_chain_is_skipped_without_recursion);
	tcase_add_test(tc, long_chain_runs_in_order);
	tcase_add_test(tc, a_bad_reference_is_an_error_record);
	tcase_add_test(tc, a_duplicate_id_is_an_error_record);
	tcase_add_test(tc, a_line_that_did_not_parse_is_an_error_record);
	suite_add_tcase(s, tc);

	tc = tcase_create("cancel");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, cancel_a_queued_job);
	tcase_add_test(tc, cancel_a_running_job);
	tcase_add_test(tc, cancel_a_waiting_job);
	tcase_add_test(tc, cancel_a_job_backing_off);
	tcase_add_test(tc, cancel_of_an_unknown_or_final_job_fails);
	tcase_add_test(tc, cancel_while_timing_out_ends_cancelled);
	suite_add_tcase(s, tc);

	tc = tcase_create("run");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, limit_caps_a_group);
	tcase_add_test(tc, limit_counts_retries_and_backoff_frees_the_slot);
	tcase_add_test(tc, fail_fast_cancels_everything_else);
	tcase_add_test(tc, fail_fast_cancels_waiters_before_their_dependency);
	tcase_add_test(tc, fail_fast_ignores_a_job_cancelled_by_cancel);
	tcase_add_test(tc, fail_fast_on_an_error_record);
	tcase_add_test(tc, no_fail_fast_keeps_going);
	tcase_add_test(tc, keep_order_holds_later_records);
	tcase_add_test(tc, max_inflight_pauses_reading);
	tcase_add_test(tc, max_inflight_one_runs_to_the_end);
	tcase_add_test(tc, max_inflight_one_with_lines_that_end_at_once);
	tcase_add_test(tc, max_inflight_counts_records_held_by_keep_order);
	tcase_add_test(
	    tc, an_executor_batching_in_its_prepare_phase_is_not_stalled);
	tcase_add_test(tc, a_group_slot_freed_inside_submit_is_used_at_once);
	tcase_add_test(tc, stop_for_a_signal_cancels_and_writes_every_record);
	tcase_add_test(tc, abandoning_a_stopped_run_ends_it_at_once);
	tcase_add_test(tc, hurrying_a_stopped_run_stops_attempts_again_and_waits);
	tcase_add_test(tc, resume_skips_jobs_logged_ok);
	tcase_add_test(tc, shutdown_stops_every_executor);
	tcase_add_test(tc, a_requeued_attempt_waits_and_is_not_a_retry);
	tcase_add_test(tc, a_requeued_job_can_be_cancelled);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; EXIT_FAILURE on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(sched_suite());
	int failed;

	/* The scheduler and the input reader are per process. */
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
