/*
 * flow.c: pacing of job starts (corun(1), "Pacing"), for the scheduler.
 *
 * The scheduler asks flow_open() before each start and calls flow_take()
 * for each start it makes (a retry's too). Four gates, each off unless its
 * option is given:
 *
 *   --rate N/DUR  the whole run's rate (struct rate: at most N starts in
 *                 any window of DUR; the --rate GROUP=N/DUR rates use the
 *                 same struct from the scheduler's groups)
 *   --delay DUR   at least DUR from one start to the next
 *   --load L      no start while the 1-minute load average is over L
 *   --memfree SZ  no start while MemAvailable is below SZ
 *
 * A closed gate sets one timer for when to look again: when the rate's
 * oldest start leaves its window, when the delay has passed, or a second
 * later for the load and memory, which are read from /proc at most once a
 * second (a read of procfs does not block). The timer's callback does
 * nothing: the loop iteration it causes runs the scheduler's dispatch.
 *
 * Tests point the /proc reads at files of their own with the environment
 * variable CORUN_TEST_PROC (a directory holding loadavg and meminfo).
 *
 * Threads: only the loop thread runs any of this.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corun.h"
#include "flow.h"
#include "util.h"

/* Seconds between two reads of the load average or of MemAvailable. */
#define FLOW_SAMPLE 1.0

static struct {
	struct ev_loop *loop;
	int on;            /* any gate is set */
	struct rate rate;  /* the whole run's --rate (n 0: none) */
	double delay;      /* --delay, or 0 */
	double last;       /* the last start, for --delay */
	double before;     /* the start before it */
	double load;       /* --load, or < 0 */
	size_t memfree;    /* --memfree in bytes, or 0 */
	double sampled;    /* when load and memory were last read */
	int low;           /* the last read found too much load or too
			    * little memory */
	const char *proc;  /* where loadavg and meminfo are */
	ev_timer timer;
} F;

/* Make an empty rate of n starts per per seconds (no rate when n is 0 or
 * per is not more than 0: a library program's options are not checked
 * elsewhere). */
void
rate_init(struct rate *r, int n, double per)
{
	memset(r, 0, sizeof *r);
	if (n <= 0 || !(per > 0))
		return;
	r->n = (unsigned)n;
	r->per = per;
	r->starts = xcalloc(r->n, sizeof *r->starts);
}

/* Release a rate's ring. */
void
rate_free(struct rate *r)
{
	free(r->starts);
	r->starts = NULL;
}

/* When the next start may happen: the oldest of the last n starts plus
 * the window, or now when fewer than n are kept. */
double
rate_next(const struct rate *r, double now)
{
	if (r->len < r->n)
		return now;
	return r->starts[r->head] + r->per;
}

/* A start happened at now: it replaces the oldest once n are kept (only
 * ever one that has left the window: rate_next said so). */
void
rate_take(struct rate *r, double now)
{
	if (r->len < r->n) {
		r->starts[(r->head + r->len) % r->n] = now;
		r->len++;
		return;
	}
	r->starts[r->head] = now;
	r->head = (r->head + 1) % r->n;
}

/* Forget the newest start. When the ring was full, the start it replaced
 * had left the window: an entry that old counts the same. */
void
rate_untake(struct rate *r)
{
	if (r->len < r->n) {
		if (r->len > 0)
			r->len--;
		return;
	}
	r->head = (r->head + r->n - 1) % r->n;
	r->starts[r->head] = -INFINITY;
}

/* The timer only wakes the loop: its iteration runs the dispatch. */
static void
flow_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)w, (void)revents;
}

/* Look again in after seconds (an earlier wake-up set stays). */
static void
flow_wake_in(double after)
{
	if (ev_is_active(&F.timer) &&
	    ev_timer_remaining(F.loop, &F.timer) <= after)
		return;
	ev_timer_stop(F.loop, &F.timer);
	ev_timer_set(&F.timer, after > 0 ? after : 0., 0.);
	ev_timer_start(F.loop, &F.timer);
}

/* Read a small file of the proc directory into buf: its length, or -1. */
static ssize_t
flow_read_proc(const char *name, char *buf, size_t len)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/%s", F.proc, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Is the 1-minute load average over --load? An unreadable one is not
 * (said once). */
static int
flow_load_high(void)
{
	static int warned;
	char buf[256];
	double l;

	if (flow_read_proc("loadavg", buf, sizeof buf) <= 0 ||
	    sscanf(buf, "%lf", &l) != 1) {
		if (!warned++)
			warnx("--load: cannot read %s/loadavg", F.proc);
		return 0;
	}
	return l > F.load;
}

/* Is MemAvailable below --memfree? An unreadable one is not (said once). */
static int
flow_mem_low(void)
{
	static int warned;
	char buf[8192];
	const char *p;
	unsigned long long kb;

	if (flow_read_proc("meminfo", buf, sizeof buf) <= 0 ||
	    (p = strstr(buf, "MemAvailable:")) == NULL ||
	    sscanf(p + strlen("MemAvailable:"), "%llu", &kb) != 1) {
		if (!warned++)
			warnx("--memfree: cannot read MemAvailable in %s/meminfo",
			      F.proc);
		return 0;
	}
	return kb < F.memfree / 1024 + (F.memfree % 1024 != 0);
}

/* Set the run's pacing up. */
void
flow_init(struct ev_loop *loop, const struct corun_options *opts)
{
	memset(&F, 0, sizeof F);
	F.loop = loop;
	ev_timer_init(&F.timer, flow_timer_cb, 0., 0.);
	for (size_t i = 0; i < opts->nrates; i++)
		if (opts->rates[i].group == NULL)
			rate_init(&F.rate, opts->rates[i].n,
				  opts->rates[i].per);
	F.delay = opts->delay;
	F.last = -INFINITY;
	F.load = opts->load;
	F.memfree = opts->memfree;
	F.sampled = -INFINITY;
	F.proc = getenv("CORUN_TEST_PROC");
	if (F.proc == NULL)
		F.proc = "/proc";
	F.on = F.rate.n > 0 || F.delay > 0 || F.load >= 0 || F.memfree > 0;
}

/* Stop the timer and free the rate. */
void
flow_free(void)
{
	if (F.loop != NULL)
		ev_timer_stop(F.loop, &F.timer);
	rate_free(&F.rate);
}

/* May a job start now? Each gate in turn; a closed one sets the timer. */
int
flow_open(void)
{
	double now, t;

	if (!F.on)
		return 1;
	now = ev_now(F.loop);
	if (F.rate.n > 0 && (t = rate_next(&F.rate, now)) > now) {
		flow_wake_in(t - now);
		return 0;
	}
	if (F.delay > 0 && F.last + F.delay > now) {
		flow_wake_in(F.last + F.delay - now);
		return 0;
	}
	if (F.load >= 0 || F.memfree > 0) {
		if (now - F.sampled >= FLOW_SAMPLE) {
			F.sampled = now;
			F.low = (F.load >= 0 && flow_load_high()) ||
				(F.memfree > 0 && flow_mem_low());
		}
		if (F.low) {
			flow_wake_in(F.sampled + FLOW_SAMPLE - now);
			return 0;
		}
	}
	return 1;
}

/* A job started now. */
void
flow_take(void)
{
	double now;

	if (!F.on)
		return;
	now = ev_now(F.loop);
	if (F.rate.n > 0)
		rate_take(&F.rate, now);
	F.before = F.last;
	F.last = now;
}

/* The last start did not happen (its executor put the job back). */
void
flow_untake(void)
{
	if (!F.on)
		return;
	if (F.rate.n > 0)
		rate_untake(&F.rate);
	F.last = F.before;
}
