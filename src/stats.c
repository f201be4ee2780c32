/*
 * stats.c: --stats and --progress (see stats.h).
 *
 * Latencies go into log-linear histograms: HIST_SUB buckets per power of
 * two of microseconds, so memory is fixed whatever the number of jobs and
 * a quantile is exact to about 3%.
 *
 * Loop lag is how long an expired 10 ms periodic timer waits before the
 * loop runs its callback: how long any ready event waits for a busy or
 * descheduled loop. On Linux the timer is a timerfd, watched like any other
 * fd: it expires on time (high-resolution timers), so only the loop's own
 * delay is counted. An ev_timer cannot serve: the epoll backend rounds its
 * timeout up to a whole millisecond, so on a loop woken by other events an
 * ev_timer fires up to 1 ms late even when the loop is idle (measured: p99
 * 1.2 ms for an idle corun, 0.17 ms with the timerfd). Without timerfd, an
 * ev_timer is used all the same, that rounding included.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYS_TIMERFD_H
#include <sys/timerfd.h>
#endif

#include "input.h"
#include "metrics.h"
#include "output.h"
#include "pool_proc.h"
#include "sched.h"
#include "stats.h"
#include "util.h"

#define LAG_INTERVAL 0.01
#define PROGRESS_INTERVAL 0.1

static struct {
	struct ev_loop *loop;
	int stats;
	int progress;
	double start;
	unsigned long long by_status[ST_COUNT];
	unsigned long long done;
	unsigned long long retries;
	size_t peak_queue[EX_COUNT];
	struct hist latency[EX_COUNT];
	struct hist queued[EX_COUNT];	/* read to first start */
	struct hist lag;
	int lag_on;			/* --stats or --metrics: sample lag */
	int lag_off;			/* no lag timer could be made */
#ifdef HAVE_SYS_TIMERFD_H
	ev_io lag_io;
	double lag_first;		/* first expiry, mono_now() time */
	unsigned long long lag_seen;	/* expiries read so far */
#else
	double lag_due;
	ev_timer lag_timer;
#endif
	ev_timer progress_timer;
	int drawn;
} T;

/* The bucket of a duration. */
static size_t
hist_bucket(double seconds)
{
	double us = seconds * 1e6;
	unsigned long long v;
	int e;

	if (!(us > 0))
		return 0;
	if (us >= 0x1p43)
		return HIST_BUCKETS - 1;
	v = (unsigned long long)us;
	if (v < HIST_SUB)
		return (size_t)v;
	e = 63 - __builtin_clzll(v); /* v in [2^e, 2^(e+1)) */
	/* HIST_SUB sub-buckets per power of two from 2^5 = HIST_SUB up. */
	return (size_t)((e - 4) * HIST_SUB) +
	       (size_t)((v >> (e - 5)) - HIST_SUB);
}

/* The upper bound of a bucket, in seconds. */
static double
hist_upper(size_t b)
{
	size_t e, sub;

	if (b < HIST_SUB)
		return (double)(b + 1) / 1e6;
	e = b / HIST_SUB + 4;
	sub = b % HIST_SUB + HIST_SUB;
	return ldexp((double)(sub + 1), (int)e - 5) / 1e6;
}

/* Count a duration. */
void
hist_add(struct hist *h, double seconds)
{
	h->count[hist_bucket(seconds)]++;
	h->n++;
	if (seconds > h->max)
		h->max = seconds;
}

/* A quantile of the histogram. */
double
hist_quantile(const struct hist *h, double q)
{
	unsigned long long rank, seen = 0;

	if (h->n == 0)
		return 0;
	rank = (unsigned long long)ceil(q * (double)h->n);
	if (rank == 0)
		rank = 1;
	for (size_t b = 0; b < HIST_BUCKETS; b++) {
		seen += h->count[b];
		if (seen >= rank) {
			/* The last bucket also holds everything longer. */
			double u = b == HIST_BUCKETS - 1 ? h->max
							 : hist_upper(b);
			return u < h->max ? u : h->max;
		}
	}
	return h->max;
}

#ifdef HAVE_SYS_TIMERFD_H
/* The lag timer expired, once or more since last read: how long has each
 * expiry waited? */
static void
stats_lag_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	unsigned long long n;
	double now, due;

	(void)loop;
	(void)revents;
	if (read(w->fd, &n, sizeof n) != (ssize_t)sizeof n)
		return; /* EAGAIN: nothing expired after all */
	now = mono_now();
	for (unsigned long long i = 0; i < n; i++) {
		due = T.lag_first + (double)(T.lag_seen++) * LAG_INTERVAL;
		hist_add(&T.lag, now > due ? now - due : 0);
		metrics_lag(now > due ? now - due : 0);
	}
}

/* Start the lag timer; -1 if there is no timerfd to be had. */
static int
stats_lag_start(struct ev_loop *loop)
{
	struct itimerspec its = {0};
	double first;
	int fd;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd == -1)
		return -1;
	first = mono_now() + LAG_INTERVAL;
	its.it_value.tv_sec = (time_t)first;
	its.it_value.tv_nsec = (long)((first - (double)(time_t)first) * 1e9);
	its.it_interval.tv_nsec = (long)(LAG_INTERVAL * 1e9);
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) == -1) {
		close(fd);
		return -1;
	}
	T.lag_first = first;
	ev_io_init(&T.lag_io, stats_lag_cb, fd, EV_READ);
	ev_io_start(loop, &T.lag_io);
	return 0;
}

/* Stop the lag timer. */
static void
stats_lag_stop(struct ev_loop *loop)
{
	ev_io_stop(loop, &T.lag_io);
	close(T.lag_io.fd);
}
#else
/* The lag timer fired: how late was it? ev_time(), not the loop's cached
 * time. */
static void
stats_lag_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	double now = ev_time();

	(void)revents;
	hist_add(&T.lag, now > T.lag_due ? now - T.lag_due : 0);
	metrics_lag(now > T.lag_due ? now - T.lag_due : 0);
	T.lag_due = now + LAG_INTERVAL;
	ev_timer_set(w, LAG_INTERVAL, 0.);
	ev_timer_start(loop, w);
}

/* Start the lag timer. */
static int
stats_lag_start(struct ev_loop *loop)
{
	T.lag_due = ev_time() + LAG_INTERVAL;
	ev_timer_init(&T.lag_timer, stats_lag_cb, LAG_INTERVAL, 0.);
	ev_timer_start(loop, &T.lag_timer);
	return 0;
}

/* Stop the lag timer. */
static void
stats_lag_stop(struct ev_loop *loop)
{
	ev_timer_stop(loop, &T.lag_timer);
}
#endif

/* Seconds as a short human figure. */
static void
fmt_secs(char *out, size_t len, double s)
{
	if (s < 1e-3)
		snprintf(out, len, "%.0fus", s * 1e6);
	else if (s < 1)
		snprintf(out, len, "%.2fms", s * 1e3);
	else if (s < 120)
		snprintf(out, len, "%.2fs", s);
	else
		snprintf(out, len, "%.0fm%02.0fs", floor(s / 60),
			 fmod(s, 60));
}

/* Redraw the progress line. */
static void
stats_progress_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	char line[256], eta[32] = "";
	double el = ev_time() - T.start;
	int n;

	(void)loop, (void)w, (void)revents;
	/* Records on their way to a terminal, maybe this one: not now. */
	if (output_pending())
		return;
	if (input_done()) {
		unsigned long long total = sched_read();
		n = snprintf(line, sizeof line, "%llu/%llu", T.done, total);
		if (T.done > 0 && total > T.done) {
			fmt_secs(eta, sizeof eta,
				 el / (double)T.done * (double)(total - T.done));
		}
	} else {
		n = snprintf(line, sizeof line, "%llu done, %.0f/s", T.done,
			     el > 0 ? (double)T.done / el : 0.0);
	}
	snprintf(line + n, sizeof line - (size_t)n,
		 " | running loop %zu thread %zu process %zu | failed %lu%s%s",
		 sched_running(EX_LOOP), sched_running(EX_THREAD),
		 sched_running(EX_PROCESS), sched_notok(),
		 eta[0] ? " | ETA " : "", eta);
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	T.drawn = 1;
}

/* Take the progress line away until the next redraw. */
void
stats_progress_clear(void)
{
	if (T.drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		T.drawn = 0;
	}
}

/* Start what the options ask for. */
void
stats_init(struct ev_loop *loop, int stats, int progress, int lag)
{
	static int used;

	/* The histograms are most of T's 80 KiB: a process's first run finds
	 * them zero already, and leaves their pages untouched until a job
	 * ends (clearing them cost a short run 20 page faults: W6). */
	if (used)
		memset(&T, 0, sizeof T);
	used = 1;
	T.loop = loop;
	T.stats = stats;
	T.lag_on = stats || lag;
	T.progress = progress && isatty(STDERR_FILENO);
	T.start = ev_time();
	if (T.lag_on) {
		/* Lag is measured while there is work: don't keep the
		 * loop alive for it. Without a timer (no fd left), the
		 * summary shows no lag sample. */
		if (stats_lag_start(loop) == 0)
			ev_unref(loop);
		else
			T.lag_off = 1;
	}
	if (T.progress) {
		ev_timer_init(&T.progress_timer, stats_progress_cb,
			      PROGRESS_INTERVAL, PROGRESS_INTERVAL);
		ev_timer_start(loop, &T.progress_timer);
		ev_unref(loop);
	}
}

/* Note a queue depth. */
void
stats_queue_depth(enum executor ex, size_t depth)
{
	if (depth > T.peak_queue[ex])
		T.peak_queue[ex] = depth;
}

/* Note a job's first start. */
void
stats_started(enum executor ex, double queued)
{
	if (T.stats)
		hist_add(&T.queued[ex], queued);
	metrics_started(ex, queued);
}

/* Note a retry. */
void
stats_retry(void)
{
	T.retries++;
	metrics_retry();
}

/* Note a final job. */
void
stats_settled(enum executor ex, const char *kind, enum job_status st,
	      int ran, double elapsed)
{
	metrics_settled(ex, kind, st, ran, elapsed);
	T.by_status[st]++;
	T.done++;
	if (ran && T.stats)
		hist_add(&T.latency[ex], elapsed);
}

/* Print one line of a latency table: an executor's histogram. */
static void
stats_print_hist(const char *title, enum executor ex, const struct hist *h)
{
	char p50[16], p90[16], p99[16], max[16];

	fmt_secs(p50, sizeof p50, hist_quantile(h, 0.50));
	fmt_secs(p90, sizeof p90, hist_quantile(h, 0.90));
	fmt_secs(p99, sizeof p99, hist_quantile(h, 0.99));
	fmt_secs(max, sizeof max, h->max);
	fprintf(stderr, "  %-11s %-8s %8llu %9s %9s %9s %9s\n", title,
		executor_name(ex), h->n, p50, p90, p99, max);
}

/* Print the summary. */
static void
stats_print(void)
{
	char p99[16], max[16];

	fprintf(stderr, "corun stats\n  jobs        %llu (", T.done);
	for (int s = 0; s < ST_COUNT; s++)
		fprintf(stderr, "%s%s %llu", s ? ", " : "",
			status_name((enum job_status)s), T.by_status[s]);
	fprintf(stderr, ")\n  retries     %llu\n", T.retries);
	fprintf(stderr, "  workers     %lu replaced\n", ppool_replacements());
	fprintf(stderr, "  latency     %-8s %8s %9s %9s %9s %9s\n", "executor",
		"jobs", "p50", "p90", "p99", "max");
	for (int ex = 0; ex < EX_COUNT; ex++)
		stats_print_hist("", (enum executor)ex, &T.latency[ex]);
	/* Queue time: from a job's reading to its first start. */
	for (int ex = 0; ex < EX_COUNT; ex++)
		stats_print_hist(ex == 0 ? "queued" : "",
				 (enum executor)ex, &T.queued[ex]);
	fprintf(stderr, "  queue peak  loop %zu, thread %zu, process %zu\n",
		T.peak_queue[EX_LOOP], T.peak_queue[EX_THREAD],
		T.peak_queue[EX_PROCESS]);
	fmt_secs(p99, sizeof p99, hist_quantile(&T.lag, 0.99));
	fmt_secs(max, sizeof max, T.lag.max);
	fprintf(stderr, "  loop lag    p99 %s, max %s (%llu samples)\n", p99,
		max, T.lag.n);
}

/* The end of the run. */
void
stats_finish(void)
{
	if (T.lag_on && !T.lag_off) {
		ev_ref(T.loop);
		stats_lag_stop(T.loop);
	}
	if (T.progress) {
		ev_ref(T.loop);
		ev_timer_stop(T.loop, &T.progress_timer);
		stats_progress_clear();
	}
	if (T.stats)
		stats_print();
	fflush(stderr);
}
