/*
 * rawout.c: the raw output modes (corun(1), OUTPUT): a job's own bytes on
 * corun's standard output and error, in place of its record.
 *
 * A child's bytes come here from child.c as they are read (rawout_tap,
 * the child's tap, set by the executor for every exec and sh child) and
 * go to the writer thread (report_raw, report_spool) in one of three
 * ways, per job and stream (stdout to corun's stdout, stderr to its
 * stderr):
 *
 *   --group        held in a spool (spool.c: memory, then a file) and
 *                  handed over whole when the job's turn comes
 *                  (rawout_write), so no two jobs' bytes interleave; a
 *                  child's stdout is not even read: the child writes it
 *                  into a temporary file (rawout_stdout_file, as GNU
 *                  parallel does), which the writer copies in the kernel
 *                  (unless --tag or --results must see the bytes);
 *   --line-buffer  whole lines handed over as they end; the line not yet
 *                  ended waits in a spool of its own;
 *   --ungroup      handed over as they come.
 *
 * With -k, only the job at the head of input order (R.head: every job
 * before it has been written) streams; the others are held as in --group
 * until they reach the head, which rawout_write moves on (the scheduler
 * writes jobs in order with -k). --tag puts the job's tag and a tab before
 * every line, as the bytes arrive, so every mode and spool sees tagged
 * lines. A job of another kind has no stream: its value is written when
 * its turn comes, and so is a line on standard error when a job did not
 * end ok, unless it is a child that exited with a status of its own (its
 * stderr says why; grep exits 1 for no match).
 *
 * Everything written goes through the writer thread, in order, and is
 * bounded as records are: the writer's backlog pauses the children's
 * pipes (output.c). Only spool files grow with a job's output.
 *
 * Threads: loop thread only. Memory: a job's state lives from its first
 * bytes to its rawout_write.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corun.h"
#include "executors.h"
#include "output.h"
#include "parse.h"
#include "rawout.h"
#include "report.h"
#include "results.h"
#include "spool.h"
#include "table.h"

/* Empty temporary files kept for the next jobs (--group): a job without
 * output (true, mkdir...) costs no new file. */
#define RAWOUT_SPARES 16

/* The bytes a job holds, per stream (0: stdout, 1: stderr). */
struct rawjob {
	int attempt;	      /* the attempt its bytes are from */
	int file;	      /* --group: the file its child writes, or -1 */
	bool bol[2];	      /* --tag: the next byte begins a line */
	struct spool held[2]; /* --group, or behind the head of -k */
	struct spool part[2]; /* --line-buffer: the line not yet ended */
	struct spool res[2];  /* --results DIR: every byte */
};

static struct {
	int mode;	     /* CORUN_OUTPUT_*; RECORDS: off */
	int keep;	     /* -k */
	int tag;	     /* --tag or --tagstring */
	const char *results; /* --results DIR, or NULL */
	bool quiet;	     /* --results DIR alone: nothing on stdout */
	uint64_t head;	     /* -k: the job that streams */
	struct u64tab jobs;  /* seq -> struct rawjob */
	bool files; /* --group, untouched bytes: children write files */
	int spare[RAWOUT_SPARES]; /* files left empty by their jobs */
	int nspare;
	struct buf tagged; /* --tag: the bytes being tagged */
} R;

/* The output mode the options ask for, AUTO resolved. */
int
rawout_mode(const struct corun_options *opts)
{
	if (opts->json || rawout_results_json(opts) ||
	    (opts->output_mode == CORUN_OUTPUT_AUTO && opts->results == NULL &&
	     opts->command == NULL))
		return CORUN_OUTPUT_RECORDS;
	if (opts->output_mode == CORUN_OUTPUT_AUTO)
		return CORUN_OUTPUT_GROUP;
	return opts->output_mode;
}

/* Does --results name a JSON Lines file (NAME.json) rather than a
 * directory? */
int
rawout_results_json(const struct corun_options *opts)
{
	size_t n = opts->results != NULL ? strlen(opts->results) : 0;

	return n > 5 && strcmp(opts->results + n - 5, ".json") == 0;
}

/* Set up for a run. */
void
rawout_init(const struct corun_options *opts)
{
	rawout_shutdown();
	R.mode = rawout_mode(opts);
	R.keep = opts->keep_order;
	R.tag = opts->tag || opts->tagstring != NULL;
	R.results = rawout_results_json(opts) ? NULL : opts->results;
	R.quiet = R.results != NULL && opts->output_mode == CORUN_OUTPUT_AUTO;
	R.head = 1;
	R.files = R.mode == CORUN_OUTPUT_GROUP && !R.tag && R.results == NULL;
}

/* Is a raw mode on? */
int
rawout_on(void)
{
	return (R.mode != CORUN_OUTPUT_RECORDS && R.mode != 0) ||
	       R.results != NULL;
}

/* Free a job's state and what it holds. */
static void
rawjob_free(struct rawjob *j)
{
	for (int s = 0; s < 2; s++) {
		spool_free(&j->held[s]);
		spool_free(&j->part[s]);
		spool_free(&j->res[s]);
	}
	if (j->file != -1)
		close(j->file);
	free(j);
}

/* Hand over what a job holds, stream by stream: held bytes, then the
 * line not yet ended. */
static void
rawjob_hand(struct rawjob *j)
{
	for (int s = 0; s < 2; s++) {
		spool_hand(&j->held[s], s + 1);
		spool_hand(&j->part[s], s + 1);
	}
}

/* Keep bytes in a spool; a spool that fails (no room for its file) says
 * so on standard error once and drops them. */
static void
rawout_hold(struct spool *sp, const char *p, size_t n)
{
	static bool warned;

	if (spool_add(sp, p, n) == -1 && !warned) {
		warned = true;
		warnx("output of a job lost: cannot spool it: %s",
		      strerror(errno));
	}
}

/* Route bytes of a job's stream to where its mode sends them. */
static void
rawout_route(struct rawjob *j, uint64_t seq, int s, const char *p, size_t n)
{
	const char *nl;

	if (R.mode == CORUN_OUTPUT_GROUP || (R.keep && seq != R.head)) {
		rawout_hold(&j->held[s], p, n);
		return;
	}
	if (R.mode == CORUN_OUTPUT_UNGROUP || R.keep) {
		report_raw(s + 1, p, n);
		return;
	}
	/* --line-buffer: up to the last newline goes out, after the start
	 * of its first line. */
	for (nl = p + n; nl > p && nl[-1] != '\n'; nl--)
		;
	if (nl > p) {
		if (j->part[s].len > 0)
			spool_hand(&j->part[s], s + 1);
		report_raw(s + 1, p, (size_t)(nl - p));
	}
	rawout_hold(&j->part[s], nl, (size_t)(p + n - nl));
}

/* Put tag and a tab before every line of p into out; *bol says whether
 * p begins a line, and is left saying whether the next byte does. */
static void
rawout_tag_lines(struct buf *out, const char *tag, bool *bol, const char *p,
		 size_t n)
{
	const char *end = p + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl + 1 : end;

		if (*bol) {
			buf_adds(out, tag);
			buf_addc(out, '\t');
		}
		buf_add(out, p, (size_t)(eol - p));
		*bol = nl != NULL;
		p = eol;
	}
}

/* The state of the job numbered seq, made on its first bytes. */
static struct rawjob *
rawout_job(uint64_t seq)
{
	struct rawjob *j = u64tab_get(&R.jobs, seq);

	if (j == NULL) {
		j = xcalloc(1, sizeof *j);
		j->file = -1;
		for (int s = 0; s < 2; s++) {
			j->bol[s] = true;
			j->held[s] = (struct spool)SPOOL_INIT;
			j->part[s] = (struct spool)SPOOL_INIT;
			j->res[s] = (struct spool)SPOOL_INIT;
		}
		u64tab_put(&R.jobs, seq, j);
	}
	return j;
}

/* The file the attempt's child is to write its standard output into
 * (--group), or -1 for a pipe; the job keeps it. A retry starts it
 * empty. */
int
rawout_stdout_file(const struct attempt *at)
{
	struct rawjob *j;

	if (!R.files)
		return -1;
	j = rawout_job(at->seq);
	if (j->file == -1) {
		j->file = R.nspare > 0 ? R.spare[--R.nspare] : spool_file();
	} else if (ftruncate(j->file, 0) == -1 ||
		   lseek(j->file, 0, SEEK_SET) == -1) {
		close(j->file);
		j->file = spool_file();
	}
	for (int s = 0; s < 2; s++)
		spool_free(&j->held[s]);
	j->attempt = at->number;
	return j->file;
}

/* Hand the file a job's child wrote to the writer; keep an empty one for
 * the next job. */
static void
rawout_file_hand(struct rawjob *j)
{
	struct stat st;

	if (fstat(j->file, &st) == 0 && st.st_size > 0)
		report_spool(1, j->file, (size_t)st.st_size);
	else if (R.nspare < RAWOUT_SPARES && lseek(j->file, 0, SEEK_SET) == 0)
		R.spare[R.nspare++] = j->file;
	else
		close(j->file);
	j->file = -1;
}

/* A child's bytes: tag them, then route them. A retry's first bytes drop
 * what the attempt before it held (what was handed over is out). */
void
rawout_tap(void *arg, int stream, const char *p, size_t n)
{
	const struct attempt *at = arg;
	struct rawjob *j = rawout_job(at->seq);

	if (j->attempt != at->number) {
		for (int s = 0; s < 2; s++) {
			spool_free(&j->held[s]);
			spool_free(&j->res[s]);
			if (j->part[s].len > 0)
				spool_hand(&j->part[s], s + 1);
			j->bol[s] = true;
		}
		j->attempt = at->number;
	}
	if (R.results != NULL)
		rawout_hold(&j->res[stream], p, n);
	if (R.quiet)
		return;
	if (R.tag) {
		const char *tag =
		    at->spec->tag != NULL ? at->spec->tag : at->id;

		buf_reset(&R.tagged);
		rawout_tag_lines(&R.tagged, tag, &j->bol[stream], p, n);
		p = R.tagged.data;
		n = R.tagged.len;
	}
	rawout_route(j, at->seq, stream, p, n);
}

/* Say on standard error why a job did not end ok, unless it is a child
 * that exited with a status of its own, or the output's reader is gone
 * (the jobs cancelled then are no news). */
static void
rawout_why(const struct record *rec, const char *id)
{
	const struct result *res = rec->res;
	struct buf msg = BUF_INIT;

	if (res->status == ST_OK || rec->resumed || output_failed() ||
	    (res->status == ST_FAILED && rec->output && res->exit > 0))
		return;
	buf_printf(&msg, "corun: job %s: %s\n", id,
		   res->error != NULL ? res->error : status_name(res->status));
	report_raw(2, msg.data, msg.len);
	buf_free(&msg);
}

/* A job's turn has come: hand over what it holds and its value, say why
 * it failed; with -k, the next job in order streams from now on. */
void
rawout_write(const struct record *rec, const struct job_spec *spec)
{
	struct rawjob *j = u64tab_get(&R.jobs, rec->seq);
	const char *tag = spec != NULL ? spec->tag : NULL;
	const struct buf *val = &rec->res->value;
	const struct buf *err = &rec->res->errout;
	/* A child's bytes came through the tap; a remote host's come in
	 * its result (stdout and the stderr tail). */
	bool remote = rec->res->host != NULL;
	bool tapped = rec->output && !remote;
	char num[24];
	const char *id = rec->id;

	if (id == NULL) {
		snprintf(num, sizeof num, "%llu", (unsigned long long)rec->seq);
		id = num;
	}
	if (j == NULL && R.results != NULL)
		j = rawout_job(rec->seq);
	if (j != NULL && R.results != NULL) {
		if (!tapped)
			rawout_hold(&j->res[0], val->data, val->len);
		if (remote)
			rawout_hold(&j->res[1], err->data, err->len);
		results_write(R.results, spec != NULL ? spec->args : NULL,
			      spec != NULL ? spec->nargs : 0, id, rec->seq,
			      &j->res[0], &j->res[1]);
	}
	if (j != NULL && j->file != -1)
		rawout_file_hand(j);
	if (j != NULL) {
		rawjob_hand(j);
		u64tab_del(&R.jobs, rec->seq);
		rawjob_free(j);
	}
	for (int s = 0; s < 2 && !tapped && !R.quiet; s++) {
		const struct buf *v = s == 0 ? val : err;
		bool bol = true;

		if (v->len == 0 || (s == 1 && !remote))
			continue;
		if (R.tag) {
			buf_reset(&R.tagged);
			rawout_tag_lines(&R.tagged, tag != NULL ? tag : id,
					 &bol, v->data, v->len);
			v = &R.tagged;
		}
		report_raw(s + 1, v->data, v->len);
	}
	rawout_why(rec, id);
	if (R.keep && rec->seq == R.head) {
		R.head++;
		if ((j = u64tab_get(&R.jobs, R.head)) != NULL)
			for (int s = 0; s < 2; s++)
				spool_hand(&j->held[s], s + 1);
	}
}

/* Drop every job's state (what was never written). */
void
rawout_shutdown(void)
{
	for (size_t i = 0; i < R.jobs.cap; i++)
		if (R.jobs.keys[i] != 0)
			rawjob_free(R.jobs.vals[i]);
	while (R.nspare > 0)
		close(R.spare[--R.nspare]);
	u64tab_free(&R.jobs);
	buf_free(&R.tagged);
}
