/*
 * pipe_in.c: --pipe: standard input cut into blocks, each one job's
 * standard input (corun(1), "Standard input to jobs").
 *
 * Standard input is read on the loop into one buffer. Once it holds
 * --block bytes (or at end-of-file) a block is cut off at the last record
 * boundary at or before that size, or, when a record is longer than the
 * block, at the first boundary after it. A boundary is where --recend ends
 * and --recstart begins (GNU parallel's rule: both must match when both
 * are given; by default records end with "\n"; with only --recstart,
 * recend is ""; with both empty a block is cut at exactly --block bytes).
 * At end-of-file whatever is left is the last block, boundary or not.
 * Each block becomes a job (sched_add_input) made from the -c template
 * (no {} appended; {#} is the block's number, {%} its job's slot);
 * the job owns its block until it is freed, so every attempt (retries)
 * gets the same bytes, and child.c's feed writes them to the child.
 *
 * Memory is bounded whatever the input's size: the engine caps
 * --max-inflight at -j under --pipe, so the scheduler pauses this source
 * while -j jobs (each holding its block) are not yet written; then nothing
 * is cut until one of them is freed, and only the next block is read
 * meanwhile (so that it is ready when a job ends). So at most -j blocks and
 * the one being read are in memory (a record longer than the block makes
 * that block longer, as it must). A job done with its block gives the
 * buffer back (pipe_recycle) for a later block, so that a block's pages
 * are not faulted in anew each time. A regular file is not read into
 * blocks at all (the file mode, below), and only it can be cut into N
 * blocks per job slot (--block -N).
 *
 * Threads: loop thread only. Standard input is read without blocking and
 * its flags are never changed (stdin_reader), as input.c does.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corun.h"
#include "kinds.h"
#include "parse.h"
#include "pipe_in.h"
#include "sched.h"
#include "template.h"
#include "util.h"

/* The most one read asks for: big enough for speed, small enough that the
 * loop is not held up by one read of a big file. */
#define PIPE_READ_MAX (1024 * 1024)

/* The bytes read at a time looking for a boundary in a regular file. */
#define PIPE_WINDOW (64 * 1024)

static struct {
	struct ev_loop *loop;
	const struct corun_options *opts;
	struct template *tpl; /* -c: each block's job */
	char *sep;  /* recend then recstart */
	size_t seplen;
	size_t endlen;	 /* the boundary is endlen bytes into sep */
	size_t block;	 /* --block */
	struct buf buf;	 /* read and not yet cut off */
	size_t scan;	 /* where the search past block goes on */
	int searched;	 /* nothing at or before block: search on */
	unsigned blocks; /* blocks handed out */
	int eof, paused, stopped, done, busy, failed;
	int fd, sock;	 /* standard input, as stdin_reader gave it */
	ev_io io;
	struct buf *spares; /* blocks' buffers that jobs are done with */
	size_t nspares, maxspares;
	int file;	 /* standard input is a regular file: read in place */
	off_t pos, size; /* the file: where the next block starts, its end */
	off_t parts;	 /* --block -N: blocks of the file still to cut */
} P;

/* A buffer for the next bytes: a spare one (its pages are in memory
 * already: a new one costs a page fault per 4 KiB, the most of a block's
 * cost where faults are dear), else an empty one. */
static struct buf
pipe_spare(void)
{
	struct buf b = BUF_INIT;

	if (P.nspares > 0) {
		b = P.spares[--P.nspares];
		b.len = 0;
	}
	return b;
}

/* A job is done with its block: keep the buffer for a later block. Each
 * spare was a block in flight, so blocks and spares together stay within
 * the bound of memory above. */
static void
pipe_recycle(struct buf *b)
{
	if (!P.stopped && P.nspares < P.maxspares) {
		P.spares[P.nspares++] = *b;
		*b = (struct buf)BUF_INIT;
		return;
	}
	buf_free(b);
}

/* Free the spare buffers. */
static void
pipe_spares_free(void)
{
	while (P.nspares > 0)
		buf_free(&P.spares[--P.nspares]);
	free(P.spares);
	P.spares = NULL;
	P.maxspares = 0;
}

/* The -c template for --pipe: no {} is appended (a block is not an
 * argument); NULL after a message. */
static struct template *
pipe_template(const struct corun_options *opts)
{
	char err[512];
	struct template *t = template_new(opts->command, opts->tagstring,
					  TEMPLATE_NO_APPEND, err, sizeof err);

	if (t == NULL)
		warnx("-c: %s", err);
	return t;
}

/* Is standard input a regular file? */
static int
pipe_stdin_file(void)
{
	struct stat st;

	return fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
}

/* Check the template of -c for --pipe: it parses, and its kind is exec
 * or sh; --block -N has a regular file to share out. 0, or -1 after a
 * message. */
int
pipe_in_check(const struct corun_options *opts)
{
	struct template *t;
	struct job_spec *spec = NULL;
	char err[512] = "";
	int rc = -1;

	if (opts->command == NULL) {
		warnx("--pipe needs -c TEMPLATE");
		return -1;
	}
	if ((t = pipe_template(opts)) == NULL)
		return -1;
	if (template_expand(t, NULL, 0, 1, 1, &spec, err, sizeof err) !=
	    PARSE_JOB)
		warnx("-c: %s",
		      spec == NULL && err[0] == '\0' ? "no command" : err);
	else if (spec->kind->id != KIND_EXEC && spec->kind->id != KIND_SH)
		warnx("--pipe: the job must be exec or sh, not %s",
		      spec->kind->name);
	else if (spec->id != NULL || spec->nafter > 0)
		warnx("--pipe: every block runs the same line: no id= or "
		      "after=");
	else if (opts->block_parts > 0 && !pipe_stdin_file())
		warnx("--block -%d: standard input must be a regular file "
		      "(corun --pipe ... < FILE)", opts->block_parts);
	else
		rc = 0;
	free(spec);
	template_free(t);
	return rc;
}

/* Is sep at w? */
static int
pipe_sep_in(const char *w)
{
	return w[0] == P.sep[0] && memcmp(w, P.sep, P.seplen) == 0;
}

/* Is there a boundary at offset o of the buffer (sep starts there)? */
static int
pipe_sep_at(const char *b, size_t o)
{
	return pipe_sep_in(b + o) && o + P.endlen > 0;
}

/* The bytes to read before looking for the end of a block: the block and
 * the --recstart after it. */
static size_t
pipe_want(void)
{
	return P.block + (P.seplen - P.endlen);
}

/* Where the next block ends in the buffer: its length, or 0 when more
 * bytes are needed to tell. */
static size_t
pipe_cut(void)
{
	const char *b = P.buf.data;
	size_t len = P.buf.len, o;

	/* A boundary at block needs the recstart bytes after it. */
	if (len == 0 || (len < pipe_want() && !P.eof))
		return 0;
	if (P.eof && len <= P.block)
		return len; /* the last block */
	if (P.seplen == 0)
		return P.block;
	/* The last boundary at or before block: sep at o ends at or
	 * before the buffer's end, its boundary at or before block. */
	if (!P.searched && P.block >= P.endlen && len >= P.seplen) {
		size_t hi = P.block - P.endlen;

		if (hi > len - P.seplen)
			hi = len - P.seplen;
		for (o = hi + 1; o-- > 0;)
			if (pipe_sep_at(b, o))
				return o + P.endlen;
	}
	if (!P.searched) {
		P.searched = 1;
		P.scan = P.block >= P.endlen ? P.block - P.endlen + 1 : 0;
	}
	/* A record longer than the block: the first boundary after it. */
	for (o = P.scan; o + P.seplen <= len; o++) {
		const char *q = memchr(b + o, P.sep[0], len - P.seplen + 1 - o);

		if (q == NULL) {
			o = len - P.seplen + 1;
			break;
		}
		o = (size_t)(q - b);
		if (pipe_sep_at(b, o))
			return o + P.endlen;
	}
	P.scan = o;
	return P.eof ? len : 0;
}

/* The next block's job: 0 and *spec, or -1 after an error record. */
static int
pipe_job(struct job_spec **spec)
{
	char err[512];

	*spec = NULL;
	/* {%} is filled when the job gets its slot (pipe_in_slotted). */
	P.blocks++;
	if (template_expand(P.tpl, NULL, 0, P.blocks, 0, spec, err,
			    sizeof err) == PARSE_JOB)
		return 0;
	sched_add_error(*spec, "-", P.blocks, err);
	return -1;
}

/* Cut the first n bytes off the buffer and run them as a job. */
static void
pipe_emit(size_t n)
{
	struct buf block = P.buf, rest = pipe_spare();
	struct job_spec *spec;

	if (n < P.buf.len) {
		buf_reserve(&rest,
			    P.block < PIPE_READ_MAX ? P.block : PIPE_READ_MAX);
		buf_add(&rest, P.buf.data + n, P.buf.len - n);
		block.len = n;
	}
	P.buf = rest;
	P.searched = 0;
	P.scan = 0;
	if (pipe_job(&spec) == -1) {
		buf_free(&block);
		return;
	}
	sched_add_input(spec, "-", P.blocks, &block);
}

/* The file mode. A regular file on standard input is not copied into
 * blocks: boundaries are found by reading a window around each block's
 * end (the same rule as pipe_cut), and each job's standard input is its
 * range of the file, which its feed splices into the child's pipe (no
 * copy through corun; feed.c). No block is held in memory, whatever
 * --block says. With --block -N the file's size sets the blocks': before
 * each cut, block is an equal share of what is left among the blocks
 * still to cut (N per job slot at first), so the last one takes the rest
 * and there are N per slot at most, fewer when a record is longer than a
 * share; pipe_in_check makes any other standard input a usage error. */

/* Read len bytes of the file at off into w: 0, or -1 (an error, or the
 * file shrank). */
static int
pipe_pread(char *w, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pread(P.fd, w, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = 0;
		if (n <= 0)
			return -1;
		w += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Where the block of the file that starts at start ends (pipe_cut's
 * rule), or -1 when the file cannot be read. */
static off_t
pipe_file_cut(off_t start)
{
	char w[PIPE_WINDOW];
	off_t end = start + (off_t)P.block, hi, lo, o;
	off_t sep = (off_t)P.seplen, endlen = (off_t)P.endlen;

	if (end >= P.size)
		return P.size;
	if (sep == 0)
		return end;
	/* The last boundary at or before end: sep at o, from start on. */
	hi = P.block >= P.endlen ? end - endlen : start - 1;
	if (hi > P.size - sep)
		hi = P.size - sep;
	for (; hi >= start; hi = lo - 1) {
		lo = hi - (off_t)(PIPE_WINDOW - P.seplen) + 1;
		if (lo < start)
			lo = start;
		if (pipe_pread(w, (size_t)(hi + sep - lo), lo) == -1)
			return -1;
		for (o = hi; o >= lo; o--)
			if (pipe_sep_in(w + (o - lo)) && o + endlen > start)
				return o + endlen;
	}
	/* A record longer than the block: the first boundary after it. */
	o = P.block >= P.endlen ? end - endlen + 1 : start;
	while (o + sep <= P.size) {
		size_t n = P.size - o < PIPE_WINDOW ? (size_t)(P.size - o)
						    : PIPE_WINDOW;

		if (pipe_pread(w, n, o) == -1)
			return -1;
		for (size_t i = 0; i + P.seplen <= n; i++)
			if (pipe_sep_in(w + i) && o + (off_t)i + endlen > start)
				return o + (off_t)i + endlen;
		o += (off_t)(n - P.seplen + 1);
	}
	return P.size;
}

/* Hand out the file's blocks while the scheduler has room. */
static void
pipe_file_pump(void)
{
	struct job_spec *spec;
	off_t end;

	P.busy = 1;
	while (!P.paused && !P.stopped && P.pos < P.size) {
		if (P.parts > 0) {
			/* --block -N: the rest shared out evenly among the
			 * blocks still to cut; the last one takes it all. */
			P.block = (size_t)((P.size - P.pos + P.parts - 1) /
					   P.parts);
			if (P.parts > 1)
				P.parts--;
		}
		if ((end = pipe_file_cut(P.pos)) == -1) {
			warnx("standard input: %s",
			      errno != 0 ? strerror(errno) : "the file shrank");
			P.failed = 1;
			break;
		}
		if (pipe_job(&spec) == 0)
			sched_add_input_file(spec, "-", P.blocks, P.fd, P.pos,
					     (size_t)(end - P.pos));
		P.pos = end;
	}
	P.busy = 0;
	if (P.stopped) {
		pipe_in_stop();
		return;
	}
	if (P.pos >= P.size || P.failed) {
		/* Read, as far as whoever shares standard input can tell. */
		(void)lseek(P.fd, P.pos, SEEK_SET);
		P.done = 1;
	}
}

/* Is standard input a regular file to read in place? Then set the file
 * mode up. */
static int
pipe_file_start(void)
{
	struct stat st;
	off_t at;

	/* A file whose size says nothing is left (empty, or in /proc where
	 * sizes are 0) is read as any other input. */
	if (P.sock || fstat(P.fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (at = lseek(P.fd, 0, SEEK_CUR)) == -1 || st.st_size <= at)
		return 0;
	P.file = 1;
	P.pos = at;
	P.size = st.st_size;
	if (P.opts->block_parts > 0)
		P.parts = (off_t)P.opts->block_parts *
			  (P.opts->jobs > 0 ? P.opts->jobs : util_cpus());
	return 1;
}

/* Stop watching standard input and close what stdin_reader opened. */
static void
pipe_close(void)
{
	ev_io_stop(P.loop, &P.io);
	if (P.fd > STDIN_FILENO)
		close(P.fd);
	P.fd = STDIN_FILENO;
}

/* Cut every block the buffer holds while the scheduler has room; keep the
 * watcher started exactly while more bytes are wanted. */
static void
pipe_pump(void)
{
	size_t n;

	if (P.file) {
		pipe_file_pump();
		return;
	}
	P.busy = 1;
	while (!P.paused && !P.stopped && (n = pipe_cut()) > 0)
		pipe_emit(n);
	P.busy = 0;
	if (P.stopped) {
		pipe_in_stop();
		return;
	}
	if (P.eof && P.buf.len == 0) {
		P.done = 1;
		pipe_close();
		buf_free(&P.buf);
		return;
	}
	/* Paused, the next block is still read, so that it is ready to go
	 * when a job ends: it is the one being read. */
	if (!P.eof && (!P.paused || P.buf.len < pipe_want()))
		ev_io_start(P.loop, &P.io);
	else
		ev_io_stop(P.loop, &P.io);
}

/* Standard input is readable: read into the buffer, up to the block (or
 * on, looking for the end of a long record), and cut. */
static void
pipe_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	size_t want =
	    P.buf.len < pipe_want() ? pipe_want() - P.buf.len : PIPE_READ_MAX;
	ssize_t n;

	(void)loop, (void)revents;
	if (want > PIPE_READ_MAX)
		want = PIPE_READ_MAX;
	if (P.buf.data == NULL)
		P.buf = pipe_spare();
	buf_reserve(&P.buf, want);
	n = stdin_read(w->fd, P.sock, P.buf.data + P.buf.len, want);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		warnx("standard input: %s", strerror(errno));
		P.failed = 1;
	}
	if (n > 0)
		P.buf.len += (size_t)n;
	else
		P.eof = 1;
	pipe_pump();
}

/* Start reading standard input into blocks. */
void
pipe_in_start(struct ev_loop *loop, const struct corun_options *opts)
{
	const char *end = opts->recend, *start = opts->recstart;
	struct buf sep = BUF_INIT;

	template_free(P.tpl);
	free(P.sep);
	memset(&P, 0, sizeof P);
	P.loop = loop;
	P.opts = opts;
	P.block = opts->block > 0 ? opts->block : 1;
	P.maxspares = (size_t)opts->max_inflight + 1;
	P.spares = xcalloc(P.maxspares, sizeof *P.spares);
	P.tpl = pipe_template(opts); /* pipe_in_check made it once */
	if (P.tpl == NULL) {
		P.failed = P.done = 1;
		return;
	}
	if (end == NULL)
		end = start == NULL ? "\n" : "";
	if (start == NULL)
		start = "";
	buf_adds(&sep, end);
	buf_adds(&sep, start);
	buf_addc(&sep, '\0'); /* sep[0] exists when both are empty */
	P.endlen = strlen(end);
	P.seplen = sep.len - 1;
	P.sep = buf_steal(&sep);
	/* Its flags are shared with other processes: never changed. */
	P.fd = stdin_reader(&P.sock);
	ev_io_init(&P.io, pipe_read_cb, P.fd, EV_READ);
	(void)pipe_file_start();
	pipe_pump();
}

/* Pause or resume cutting and reading (the scheduler's in-flight
 * limit). */
static void
pipe_in_pause(int paused)
{
	if (P.stopped || P.done)
		return;
	P.paused = paused;
	if (!P.busy)
		pipe_pump();
}

/* Could standard input not be read? */
int
pipe_in_failed(void)
{
	return P.failed;
}

/* Has all of standard input gone out in blocks (or reading stopped)? */
static int
pipe_in_done(void)
{
	return P.done;
}

/* Stop reading for good; called while a block is being handed out (the
 * scheduler stops on --fail-fast), it stops after that block. */
void
pipe_in_stop(void)
{
	P.stopped = 1;
	P.done = 1;
	if (P.busy || P.loop == NULL)
		return;
	pipe_close();
	buf_free(&P.buf);
	pipe_spares_free();
	template_free(P.tpl);
	free(P.sep);
	P.tpl = NULL;
	P.sep = NULL;
}

/* A block's job got its slot: fill {%} in (a template without it keeps
 * the spec as it is). */
static struct job_spec *
pipe_in_slotted(struct job_spec *spec, uint64_t seq, unsigned slot)
{
	struct job_spec *n = NULL;
	char err[512];

	if (P.tpl == NULL || !template_uses_slot(P.tpl))
		return spec;
	if (template_expand(P.tpl, NULL, 0, seq, slot, &n, err, sizeof err) !=
	    PARSE_JOB) {
		free(n);
		return spec;
	}
	free(spec);
	return n;
}

/* The scheduler's view of the blocks: where its jobs come from. */
const struct sched_source pipe_in_source = {
	pipe_in_pause,
	pipe_in_stop,
	pipe_in_done,
	pipe_in_slotted,
	pipe_recycle,
};
