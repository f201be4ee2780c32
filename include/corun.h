/*
 * corun.h: the entry point of the corun engine.
 *
 * The command-line program is a thin shell around this: it turns argv into a
 * struct corun_options and calls corun_run(). Everything else (the loop, the
 * pools, the scheduler) lives in the library behind it.
 */
#ifndef CORUN_H
#define CORUN_H

#include <stddef.h>

#define CORUN_OUTPUT_CAP (1024 * 1024) /* bytes of stdout kept per job */
#define CORUN_STDERR_CAP (64 * 1024)   /* bytes of stderr kept (the tail) */

struct corun_limit {
	const char *group;
	int n;
};

struct corun_options {
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
};

/* Fill in the documented defaults (online CPUs for -P and -j). */
void corun_options_init(struct corun_options *);

/*
 * Run the jobs of the given inputs ("-" is standard input) and write one
 * record per job on standard output. Returns the exit status of spec
 * section 6 (0, 1 or 2). The caller keeps ownership of everything passed.
 */
int corun_run(const struct corun_options *, char *const inputs[], size_t ninputs);

#endif
