/*
 * corun.h: libcorun, the corun engine as a library.
 *
 * Two ways in. corun_run() does what the command does: it runs job files
 * and standard input and writes records. A runner (corun_new) is for C
 * programs: submit job lines or C functions, get futures, wait for them.
 * See corun(3).
 *
 * A runner owns the process's libev default loop, a thread pool and a
 * process pool whose workers are forked by a fork server created by
 * corun_new(): call corun_new() before your program starts any thread, and
 * have at most one runner at a time. Everything here is called from the
 * thread that made the runner; callbacks run on it, inside corun_gather()
 * or corun_wait().
 */
#ifndef CORUN_H
#define CORUN_H

#include <stddef.h>

#include "corun-plugin.h"

#define CORUN_OUTPUT_CAP (1024 * 1024) /* bytes of stdout kept per job */
#define CORUN_STDERR_CAP (64 * 1024)   /* bytes of stderr kept (the tail) */

struct corun_limit {
	const char *group;
	int n;
};

/* --rate: at most n job starts in any window of per seconds, of the
 * whole run (group NULL) or of group=GROUP's jobs. */
struct corun_rate {
	const char *group;
	int n;
	double per;
};

/* One argument list of command mode (corun(1), COMMAND MODE): a file of
 * inputs (:::: FILE, -a FILE; "-" is standard input) or the inputs
 * themselves (::: ARG...). */
struct corun_source {
	const char *file; /* the file to read, or NULL: args */
	char *const *args; /* the inputs of a ::: list, nargs of them */
	size_t nargs;
	int linked;       /* :::+ or ::::+: paired with the source before,
			   * input by input, not multiplied */
};

/* The defaults of corun(1)'s options, which corun_options_init fills in
 * (with the number of online CPUs for procs and jobs, and no timeout). */
#define CORUN_DEFAULT_THREADS 4
#define CORUN_DEFAULT_MAX_INFLIGHT 10000
#define CORUN_DEFAULT_RETRIES 0
#define CORUN_DEFAULT_BACKOFF "100ms:10s"
#define CORUN_DEFAULT_GRACE "2s"
#define CORUN_DEFAULT_WORKER_NICE 3
#define CORUN_DEFAULT_METRICS_INTERVAL "5s"
/* Records waiting for the reader before corun holds back, in MiB. */
#define CORUN_DEFAULT_OUTPUT_BUFFER_MB 64
/* --block: bytes of standard input per --pipe job, about. */
#define CORUN_DEFAULT_BLOCK_MB 1
/* Remote workers: a host is lost after this long without a word from it;
 * a job whose host was lost is re-run on another this many times. */
#define CORUN_DEFAULT_HOST_TIMEOUT "30s"
#define CORUN_DEFAULT_MAX_HOST_LOSSES 2
/* The default --launcher. */
#define CORUN_DEFAULT_LAUNCHER                                                 \
	"ssh -o BatchMode=yes -o ServerAliveInterval=5 {host} corun --serve"

/*
 * A run's options. Fill one in with corun_options_init, then change the
 * fields you need. The struct may grow in a later release, only at its
 * end: corun_options_init records in size how large the program's struct
 * is, so a library newer than the program gives the fields the program
 * does not know their defaults. Leave size as corun_options_init set it.
 */
struct corun_options {
	size_t size;      /* set by corun_options_init; do not change */
	int procs;        /* -P: process-pool workers */
	int threads;      /* -T: thread-pool threads */
	int jobs;         /* -j: child processes at once */
	int max_inflight; /* jobs read and not yet final */
	double timeout;   /* -t: seconds per attempt; < 0: none */
	int retries;      /* -r */
	double backoff;   /* --backoff base, seconds */
	double backoff_max;
	double grace;     /* --grace: SIGTERM to SIGKILL, seconds */
	int keep_order;   /* -k */
	int fail_fast;    /* --fail-fast */
	int json;         /* --json */
	int dry_run;      /* -n */
	int progress;     /* --progress */
	int stats;        /* --stats */
	int resume;       /* --resume */
	const char *joblog;          /* --joblog FILE or NULL */
	struct corun_limit *limits;  /* --limit GROUP=N, nlimits of them */
	size_t nlimits;
	int handle_signals; /* SIGINT/SIGTERM stop the run (the command) */
	int worker_nice;    /* --worker-nice: workers run this much nicer */
	size_t output_buffer; /* --output-buffer: bytes of records waiting
			       * for the reader before the run holds back */
	/* Command mode (corun(1), COMMAND MODE): a template run once per
	 * input instead of job files (corun_run's inputs must be none). */
	const char *command;  /* -c TEMPLATE, or NULL: job files */
	const struct corun_source *sources; /* nsources argument lists, in
					     * order; none: standard input */
	size_t nsources;
	int delimiter;        /* the byte that ends an input: '\n', '\0'
			       * (-0) or -d's */
	const char *colsep;   /* --colsep: a POSIX extended regex, or NULL */
	int max_args;         /* --max-args: inputs per job (default 1) */
	int shell_lines;      /* --sh: inputs go into sh scripts unquoted */
	const char *tagstring; /* --tagstring, or NULL */
	/* --pipe (corun(1), "Standard input to jobs"): standard input cut
	 * into blocks of about block bytes at record boundaries, one job
	 * each; recend and recstart as GNU parallel's (NULL: recend "\n"
	 * unless recstart is set, then ""). */
	int pipe;
	size_t block;
	const char *recend, *recstart;
	/* Output modes (corun(1), OUTPUT): */
	int output_mode;       /* CORUN_OUTPUT_*; AUTO: records, but --group
				* in command mode */
	int tag;               /* --tag: raw output lines after the job's
				* tag (or id) and a tab */
	const char *results;   /* --results DIR (or NAME.json), or NULL */
	/* New fields go here, at the end. */
	/* Live metrics (corun(1), METRICS); corun_run only. */
	const char *metrics;	 /* --metrics FILE or NULL */
	double metrics_interval; /* --metrics-interval, seconds (> 0) */
	const char *metrics_addr; /* --metrics-addr HOST:PORT or NULL */
	/* Pacing and the run's deadline (corun(1), "Pacing"). jobs 0 (-j 0)
	 * is no limit of its own. */
	double deadline;          /* --deadline: seconds from the start of
				   * the run (corun_new for a runner) after
				   * which whatever is left is cancelled;
				   * < 0: none */
	const struct corun_rate *rates; /* --rate, nrates of them */
	size_t nrates;
	double delay;             /* --delay: seconds from one start to the
				   * next; 0: none */
	double load;              /* --load: no start while the 1-minute
				   * load average is over it; < 0: none */
	size_t memfree;           /* --memfree: no start while MemAvailable
				   * is below it, in bytes; 0: none */
	/* Which failures are retried (corun(1), --retry-on): a comma list of
	 * the words of corun-jobs(5)'s retry-on=, or NULL (the default):
	 * every failure. A job's retry-on= replaces it. It must outlive the
	 * run or the runner; a bad list makes corun_run return 2 and
	 * corun_new fail with EINVAL. */
	const char *retry_on;
	/* Remote workers (corun(1), REMOTE WORKERS); corun_run only. */
	const char *const *hosts; /* -S: "[N/]HOST" each (":" is this
				   * machine, without a launcher), nhosts */
	size_t nhosts;
	const char *launcher;	  /* --launcher TEMPLATE; NULL: ssh */
	double host_timeout;	  /* --host-timeout, seconds (> 0) */
	int max_host_losses;	  /* --max-host-losses: re-runs of a job
				   * whose host was lost */
	const char *const *env;	  /* --env NAME, nenv of them */
	size_t nenv;
	const char *workdir;	  /* --workdir DIR, or NULL */
	const char *const *basefiles; /* --basefile FILE, nbasefiles */
	size_t nbasefiles;
	/* corun --serve (corun(1)): be a remote worker, taking jobs as frames
	 * on standard input and answering with frames on standard output;
	 * corun_run's inputs must be none. Default 0. */
	int serve;
	/* --pipe's --block -N (corun(1), --block): with standard input a
	 * regular file, what is left of it is cut into block_parts blocks
	 * per job slot (-j, or the online CPUs with -j 0), each at a record
	 * end, instead of blocks of block bytes; any other standard input is
	 * a usage error. 0 (the default): blocks of block bytes. */
	int block_parts;
};

/* output_mode: records (the default for job files, and with --json), or
 * a job's own bytes: whole per job (--group, the default in command mode),
 * whole lines (--line-buffer) or as they come (--ungroup). */
enum corun_output_mode {
	CORUN_OUTPUT_AUTO,
	CORUN_OUTPUT_RECORDS,
	CORUN_OUTPUT_GROUP,
	CORUN_OUTPUT_LINE,
	CORUN_OUTPUT_UNGROUP,
};

/* Fill in the documented defaults (online CPUs for -P and -j) and the
 * size of the program's struct: call it as corun_options_init(&opts). */
#define corun_options_init(o) corun_options_init_size((o), sizeof *(o))
void corun_options_init_size(struct corun_options *, size_t size);

/*
 * The value syntax of corun(1)'s options, for a program that takes them
 * as text (the command does). Each returns 0, or -1 with errno EINVAL when
 * s is not such a value (the output is then left alone).
 */
/* A count: decimal digits that fit in long long. */
int corun_parse_count(const char *s, long long *n);
/* A duration, "250ms", "1.5", "1.5s", "2m", "1h", in seconds. */
int corun_parse_duration(const char *s, double *seconds);
/* --backoff's "DUR" (max left alone) or "DUR:MAX" (MAX >= DUR). */
int corun_parse_backoff(const char *s, double *base, double *max);
/* A group name of --limit and group=: an id, or all digits. */
int corun_parse_group(const char *s);
/* A size, "512", "64K", "1M", "2G" (KiB, MiB, GiB): 1 byte to 1 TiB. */
int corun_parse_size(const char *s, size_t *bytes);
/* --rate's "N/DUR" (N >= 1, DUR > 0). */
int corun_parse_rate(const char *s, int *n, double *per);
/* -j's value: N, N% of the online CPUs, +N or -N added to them (at least
 * 1), or 0 (no limit). */
int corun_parse_jobs(const char *s, int *n);
/* --load's value: a number (L >= 0), or as -j's N%, +N or -N. */
int corun_parse_load(const char *s, double *load);
/* A list of --retry-on (and retry-on=): "timeout,exit:3-5,http:5xx"... */
int corun_parse_retry_on(const char *s);
/* An entry of -S: "[N/]HOST" (N >= 1, HOST without spaces or commas) or
 * ":" (this machine). */
int corun_parse_host(const char *s);

/*
 * Run the jobs of the given inputs ("-" is standard input) and write one
 * record per job on standard output. Returns the exit status of spec
 * section 6 (0, 1 or 2). The caller keeps ownership of everything passed.
 */
int corun_run(const struct corun_options *, char *const inputs[], size_t ninputs);

/* A runner, and a future: one submitted job. */
struct corun;
struct corun_future;

enum corun_executor { CORUN_LOOP, CORUN_THREAD, CORUN_PROCESS };

/* A future's status: CORUN_PENDING until it is final, then one of the
 * final states of corun(1) ("Final states"). */
enum corun_status {
	CORUN_OK,
	CORUN_FAILED,
	CORUN_TIMEOUT,
	CORUN_CANCELLED,
	CORUN_SKIPPED,
	CORUN_ERROR,
	CORUN_PENDING = -1,
};

typedef void corun_done_fn(struct corun_future *, void *arg);

/* Make the runner (opts is copied; its limits strings must outlive the
 * runner). NULL on a second call: one runner per process. */
struct corun *corun_new(const struct corun_options *);
/* Cancel what is left, stop the pools and free the runner. Futures not
 * yet freed stay readable until corun_future_free. */
void corun_free(struct corun *);

/*
 * Submit a line of the job language (corun-jobs(5)), e.g. "timeout=2s exec
 * make". Returns its future, or NULL with a message in err when the line
 * does not parse. The future is the caller's: free it with
 * corun_future_free, before or after it is done.
 */
struct corun_future *corun_submit(struct corun *, const char *line,
				  char *err, size_t errlen);
/*
 * Submit a C function (corun-plugin.h's type) to the thread or process
 * pool, with a copy of len bytes at arg, and a timeout in seconds (< 0:
 * the runner's default, opts.timeout). In the process pool the function runs in a worker forked from
 * this program, so any function of the program can be sent. NULL with
 * errno EINVAL for the loop executor.
 */
struct corun_future *corun_submit_fn(struct corun *, enum corun_executor,
				     corun_plugin_fn *fn, const void *arg,
				     size_t len, double timeout);

/* Call fn(future, arg) once when the future is done: inside
 * corun_gather, corun_wait or corun_cancel, or right away if it already
 * is. One callback per future; a later call replaces it. */
void corun_future_on_done(struct corun_future *, corun_done_fn *fn,
			  void *arg);
/* Cancel the job: 0, or -1 if it was already final. */
int corun_cancel(struct corun_future *);
/* Run the loop until every one of the n futures is done. Returns how many
 * of them did not end CORUN_OK. */
size_t corun_gather(struct corun *, struct corun_future *const *, size_t n);
/* Run the loop until no submitted job is left. */
void corun_wait(struct corun *);

enum corun_status corun_future_status(const struct corun_future *);
/* The value (len bytes, NUL-terminated), owned by the future. */
const char *corun_future_value(const struct corun_future *, size_t *len);
/* The error message, or NULL when ok. Owned by the future. */
const char *corun_future_error(const struct corun_future *);
/* Exit status and signal of a child or worker; -1 and 0 when none. */
int corun_future_exit(const struct corun_future *);
int corun_future_signal(const struct corun_future *);
int corun_future_attempts(const struct corun_future *);
double corun_future_elapsed(const struct corun_future *);
/* Release the future (a pending job keeps running, unobserved). */
void corun_future_free(struct corun_future *);

#endif
