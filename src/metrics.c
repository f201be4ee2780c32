/*
 * metrics.c: the Prometheus text exposition of a run (see metrics.h and
 * corun(1), METRICS) and --metrics FILE.
 *
 * Counters and histograms are kept here, fed by stats.c as things happen;
 * gauges are read from the scheduler when the text is made. Histograms
 * have fixed buckets (Prometheus' cumulative "le" counts, exact), apart
 * from --stats' log-linear ones. Job kinds are few (the kind table and
 * the plugins' kinds), so the per-kind counters are a short list searched
 * in order; a line with no known kind counts as kind "none".
 *
 * The file is written whole to FILE.PID.tmp in the same directory, then
 * renamed over FILE, so a reader (node_exporter's textfile collector) sees
 * the old text or the new, never a part. The first write happens at start
 * (a FILE that cannot be written is a usage error), then one every
 * --metrics-interval and one at the end. The timer does not keep the loop
 * alive. A later write that fails is reported once, until one succeeds;
 * the run goes on. Loop thread only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corun.h"
#include "metrics.h"
#include "metrics_http.h"
#include "pool_proc.h"
#include "report.h"
#include "sched.h"

/* Bucket bounds, seconds: jobs (duration, queue time) and the loop lag. */
static const double job_le[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1,
				5,     10,    30,   60,	  300, 1800};
#define JOB_NLE (sizeof job_le / sizeof job_le[0])
static const double lag_le[] = {0.0001, 0.0005, 0.001, 0.005, 0.01,
				0.05,	0.1,	0.5,   1};
#define LAG_NLE (sizeof lag_le / sizeof lag_le[0])

/* A histogram: counts per bucket (not cumulative; the last is +Inf). */
struct mhist {
	unsigned long long count[JOB_NLE + 1];
	unsigned long long n;
	double sum;
};

/* Jobs finished of one kind, by final state. */
struct mkind {
	char *name;
	unsigned long long by_status[ST_COUNT];
};

static struct {
	struct ev_loop *loop;
	const struct corun_options *opts;
	int on; /* metrics_start ran: count */
	struct mkind *kinds;
	size_t nkinds;
	unsigned long long retries;
	struct mhist duration[EX_COUNT];
	struct mhist queued[EX_COUNT];
	struct mhist lag;
	ev_timer timer; /* --metrics FILE's rewrite */
	int timer_on;
	char *tmp;  /* FILE.PID.tmp */
	int failed; /* the last write failed (reported) */
	struct buf text;
} M;

/* Count a value in a histogram with bounds le (nle of them). */
static void
mhist_add(struct mhist *h, const double *le, size_t nle, double v)
{
	size_t b = 0;

	while (b < nle && v > le[b])
		b++;
	h->count[b]++;
	h->n++;
	h->sum += v > 0 ? v : 0;
}

/* Is any metric wanted? */
int
metrics_wanted(const struct corun_options *opts)
{
	return opts->metrics != NULL || opts->metrics_addr != NULL;
}

/* Note a first start. */
void
metrics_started(enum executor ex, double queued)
{
	if (M.on)
		mhist_add(&M.queued[ex], job_le, JOB_NLE, queued);
}

/* Note a retry. */
void
metrics_retry(void)
{
	M.retries++;
}

/* Note a final job. */
void
metrics_settled(enum executor ex, const char *kind, enum job_status st, int ran,
		double elapsed)
{
	size_t i;

	if (!M.on)
		return;
	if (kind == NULL)
		kind = "none";
	for (i = 0; i < M.nkinds; i++)
		if (strcmp(M.kinds[i].name, kind) == 0)
			break;
	if (i == M.nkinds) {
		M.kinds = xrealloc(M.kinds, (M.nkinds + 1) * sizeof *M.kinds);
		memset(&M.kinds[i], 0, sizeof M.kinds[i]);
		M.kinds[i].name = xstrdup(kind);
		M.nkinds++;
	}
	M.kinds[i].by_status[st]++;
	if (ran)
		mhist_add(&M.duration[ex], job_le, JOB_NLE, elapsed);
}

/* Note a loop lag sample. */
void
metrics_lag(double seconds)
{
	if (M.on)
		mhist_add(&M.lag, lag_le, LAG_NLE, seconds);
}

/* Append a metric's HELP and TYPE lines. */
static void
metric_head(struct buf *out, const char *name, const char *type,
	    const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Append a label value, escaped as the format wants. */
static void
label_value(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_addc(out, '\\');
		if (*s == '\n')
			buf_adds(out, "\\n");
		else
			buf_addc(out, *s);
	}
}

/* Append a histogram's series (labels: "" or 'executor="loop",'). */
static void
metric_hist(struct buf *out, const char *name, const char *labels,
	    const struct mhist *h, const double *le, size_t nle)
{
	unsigned long long cum = 0;
	size_t len = strlen(labels);

	for (size_t b = 0; b <= nle; b++) {
		cum += h->count[b];
		if (b < nle)
			buf_printf(out, "%s_bucket{%sle=\"%g\"} %llu\n", name,
				   labels, le[b], cum);
		else
			buf_printf(out, "%s_bucket{%sle=\"+Inf\"} %llu\n", name,
				   labels, cum);
	}
	/* The labels without their trailing comma, if any. */
	if (len > 0)
		buf_printf(out, "%s_sum{%.*s} %.9g\n%s_count{%.*s} %llu\n",
			   name, (int)len - 1, labels, h->sum, name,
			   (int)len - 1, labels, h->n);
	else
		buf_printf(out, "%s_sum %.9g\n%s_count %llu\n", name, h->sum,
			   name, h->n);
}

/* Append a histogram per executor. */
static void
metric_hist_ex(struct buf *out, const char *name, const struct mhist *h)
{
	char labels[64];

	for (int ex = 0; ex < EX_COUNT; ex++) {
		snprintf(labels, sizeof labels, "executor=\"%s\",",
			 executor_name((enum executor)ex));
		metric_hist(out, name, labels, &h[ex], job_le, JOB_NLE);
	}
}

/* Append a gauge per executor. */
static void
metric_per_ex(struct buf *out, const char *name, size_t (*value)(enum executor))
{
	for (int ex = 0; ex < EX_COUNT; ex++)
		buf_printf(out, "%s{executor=\"%s\"} %zu\n", name,
			   executor_name((enum executor)ex),
			   value((enum executor)ex));
}

/* Append the whole exposition. */
void
metrics_format(struct buf *out)
{
	metric_head(out, "corun_jobs_read_total", "counter",
		    "Jobs read from the inputs.");
	buf_printf(out, "corun_jobs_read_total %llu\n",
		   (unsigned long long)sched_read());
	metric_head(out, "corun_jobs_finished_total", "counter",
		    "Jobs that reached their final state, by kind and state.");
	for (size_t i = 0; i < M.nkinds; i++)
		for (int st = 0; st < ST_COUNT; st++) {
			buf_adds(out, "corun_jobs_finished_total{kind=\"");
			label_value(out, M.kinds[i].name);
			buf_printf(out, "\",status=\"%s\"} %llu\n",
				   status_name((enum job_status)st),
				   M.kinds[i].by_status[st]);
		}
	metric_head(out, "corun_jobs_running", "gauge",
		    "Jobs with an attempt running, by executor.");
	metric_per_ex(out, "corun_jobs_running", sched_running);
	metric_head(out, "corun_jobs_queued", "gauge",
		    "Jobs ready to run and waiting for room, by executor.");
	metric_per_ex(out, "corun_jobs_queued", sched_queued);
	metric_head(out, "corun_jobs_inflight", "gauge",
		    "Jobs read and not yet final (reading pauses at "
		    "corun_jobs_inflight_limit).");
	buf_printf(out, "corun_jobs_inflight %zu\n", sched_inflight());
	metric_head(out, "corun_jobs_inflight_limit", "gauge",
		    "The --max-inflight limit.");
	buf_printf(out, "corun_jobs_inflight_limit %d\n", M.opts->max_inflight);
	metric_head(out, "corun_retries_total", "counter",
		    "Attempts after a job's first.");
	buf_printf(out, "corun_retries_total %llu\n", M.retries);
	metric_head(out, "corun_worker_replacements_total", "counter",
		    "Process-pool workers replaced after they died.");
	buf_printf(out, "corun_worker_replacements_total %lu\n",
		   ppool_replacements());
	metric_head(out, "corun_output_bytes_total", "counter",
		    "Bytes of records or raw output queued for standard output.");
	buf_printf(out, "corun_output_bytes_total %llu\n", report_output_bytes());
	metric_head(out, "corun_job_duration_seconds", "histogram",
		    "Seconds from a job's first start to its final state.");
	metric_hist_ex(out, "corun_job_duration_seconds", M.duration);
	metric_head(out, "corun_job_queue_seconds", "histogram",
		    "Seconds from a job's reading to its first start.");
	metric_hist_ex(out, "corun_job_queue_seconds", M.queued);
	metric_head(out, "corun_loop_lag_seconds", "histogram",
		    "How late the event loop ran a 10 ms periodic timer.");
	metric_hist(out, "corun_loop_lag_seconds", "", &M.lag, lag_le, LAG_NLE);
}

/* Write the file: the whole text to the temporary name, then rename it
 * over FILE. 0, or -1 with errno. */
static int
metrics_write(void)
{
	int fd, err;

	buf_reset(&M.text);
	metrics_format(&M.text);
	fd = open(M.tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd == -1)
		return -1;
	if (write_all(fd, M.text.data, M.text.len) == -1) {
		err = errno;
		close(fd);
		unlink(M.tmp);
		errno = err;
		return -1;
	}
	if (close(fd) == -1 || rename(M.tmp, M.opts->metrics) == -1) {
		err = errno;
		unlink(M.tmp);
		errno = err;
		return -1;
	}
	return 0;
}

/* Rewrite the file; report a failure once, until a write succeeds. */
static void
metrics_rewrite(void)
{
	if (metrics_write() == 0) {
		M.failed = 0;
	} else if (!M.failed) {
		warnx("%s: %s", M.opts->metrics, strerror(errno));
		M.failed = 1;
	}
}

/* The interval has passed: rewrite the file. */
static void
metrics_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	metrics_rewrite();
}

/* Start the file's timer and the server. */
int
metrics_start(struct ev_loop *loop, const struct corun_options *opts)
{
	struct buf tmp = BUF_INIT;

	memset(&M, 0, sizeof M);
	M.loop = loop;
	M.opts = opts;
	if (!metrics_wanted(opts))
		return 0;
	M.on = 1;
	if (opts->metrics != NULL) {
		buf_printf(&tmp, "%s.%ld.tmp", opts->metrics, (long)getpid());
		M.tmp = tmp.data;
		if (metrics_write() == -1) {
			warnx("--metrics: %s: %s", opts->metrics,
			      strerror(errno));
			metrics_finish();
			return -1;
		}
		ev_timer_init(&M.timer, metrics_timer_cb,
			      opts->metrics_interval, opts->metrics_interval);
		ev_timer_start(loop, &M.timer);
		ev_unref(loop);
		M.timer_on = 1;
	}
	if (opts->metrics_addr != NULL &&
	    mhttp_start(loop, opts->metrics_addr, metrics_format) == -1) {
		metrics_finish();
		return -1;
	}
	return 0;
}

/* Write the file a last time and stop everything. */
void
metrics_finish(void)
{
	if (!M.on)
		return;
	if (M.timer_on) {
		ev_ref(M.loop);
		ev_timer_stop(M.loop, &M.timer);
		M.timer_on = 0;
		metrics_rewrite();
	}
	mhttp_stop();
	for (size_t i = 0; i < M.nkinds; i++)
		free(M.kinds[i].name);
	free(M.kinds);
	free(M.tmp);
	buf_free(&M.text);
	M.kinds = NULL;
	M.nkinds = 0;
	M.tmp = NULL;
	M.on = 0;
}
