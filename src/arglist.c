/*
 * arglist.c: command mode's inputs (corun(1), COMMAND MODE), made into
 * jobs through the template (template.c).
 *
 * The sources are the argument lists of the command line in order
 * (::: A B, :::: FILE, -a FILE), or standard input's lines when there
 * is none. Each input ends at the delimiter (newline, NUL with -0, -d's
 * byte); --colsep cuts it into columns. Sources multiply (the cross
 * product, the last varying fastest, as GNU parallel); a source given
 * with :::+ or ::::+ is paired with the one before instead, input by
 * input (the shorter ends the pairs). The first source streams: its
 * inputs are read from the loop a chunk at a time while the scheduler
 * has room (backpressure through arglist_pause), and each one makes its
 * jobs at once, so memory stays bounded whatever its length; every other
 * source (and a source paired with the first) is read whole before the
 * run. --max-args N gathers N consecutive inputs into one job.
 *
 * The jobs are numbered here as the scheduler numbers them ({#}): every
 * job of the run comes from here, an error record too. {%} is known only
 * when an attempt gets its job slot: arglist_slotted fills the template
 * again then.
 *
 * Threads: loop thread only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arglist.h"
#include "corun.h"
#include "parse.h"
#include "sched.h"
#include "template.h"
#include "util.h"

/* One source: its inputs, when read whole. */
struct source {
	const char *name; /* in records: FILE, "-" or ":::" */
	char **v;
	size_t n;
	int linked; /* paired with the source before */
};

/* Values for one job, owned. */
struct vals {
	char **v;
	int n;
	int cap;
};

static struct {
	const struct corun_options *opts;
	struct ev_loop *loop;
	struct template *tpl;
	regex_t colsep;
	int has_colsep;
	char sep; /* the byte that ends an input */
	struct source *src;
	size_t nsrc;
	size_t ndim;	/* dimensions: a source and those paired to it */
	size_t *dfirst; /* a dimension's first source */
	size_t *dcount; /* its sources */
	size_t *dlen;	/* its inputs (the shortest source's) */
	size_t *odo;	/* the input of each dimension but the first */
	/* The first source, when it is a file or standard input. */
	int stream;
	int fd;
	int eof;
	int discard;	 /* skipping an over-long input */
	int stdin_flags; /* to restore, or -1 */
	struct buf buf;
	size_t off; /* bytes of buf already split off */
	ev_io io;
	size_t row;	   /* inputs of the first dimension so far */
	char *cur;	   /* the current input of the first source */
	int have_row;	   /* cur is set and its combinations not done */
	struct vals group; /* --max-args: the values gathered */
	int grouped;	   /* inputs in group */
	size_t grouprow;   /* the row of the group's first input */
	uint64_t seq;
	int paused;
	int busy;
	int stopped;
	int done;
	unsigned failed;
} A;

/* Append a copy of n bytes at s to vs. */
static void
vals_push(struct vals *vs, const char *s, size_t n)
{
	char *c = xmalloc(n + 1);

	memcpy(c, s, n);
	c[n] = '\0';
	if (vs->n == vs->cap) {
		vs->cap = vs->cap ? vs->cap * 2 : 8;
		vs->v = xrealloc(vs->v, (size_t)vs->cap * sizeof *vs->v);
	}
	vs->v[vs->n++] = c;
}

/* Empty vs (it keeps its array). */
static void
vals_clear(struct vals *vs)
{
	for (int i = 0; i < vs->n; i++)
		free(vs->v[i]);
	vs->n = 0;
}

/* Add an input's values: itself, or its columns with --colsep. */
static void
arglist_columns(struct vals *vs, const char *s)
{
	regmatch_t m;
	int flags = 0;

	while (A.has_colsep && *s != '\0' &&
	       regexec(&A.colsep, s, 1, &m, flags) == 0 && m.rm_eo > m.rm_so) {
		vals_push(vs, s, (size_t)m.rm_so);
		s += m.rm_eo;
		flags = REG_NOTBOL;
	}
	vals_push(vs, s, strlen(s));
}

/* The gathered values make a job (or an error record). */
static void
arglist_emit(void)
{
	const char *name = A.src[0].name;
	struct job_spec *spec = NULL;
	char err[512];

	if (A.grouped == 0)
		return;
	A.seq++;
	if (template_expand(A.tpl, (const char *const *)A.group.v, A.group.n,
			    A.seq, 0, &spec, err, sizeof err) == PARSE_JOB)
		sched_add(spec, name, (unsigned)A.grouprow);
	else
		sched_add_error(spec, name, (unsigned)A.grouprow, err);
	vals_clear(&A.group);
	A.grouped = 0;
}

/* One combination of inputs: add its values; a job when enough are
 * gathered. */
static void
arglist_combination(void)
{
	if (A.grouped == 0)
		A.grouprow = A.row;
	for (size_t d = 0; d < A.ndim; d++)
		for (size_t k = 0; k < A.dcount[d]; k++) {
			const struct source *s = &A.src[A.dfirst[d] + k];

			if (d == 0 && k == 0)
				arglist_columns(&A.group, A.cur);
			else
				arglist_columns(
				    &A.group,
				    s->v[d == 0 ? A.row - 1 : A.odo[d]]);
		}
	if (++A.grouped >= (A.opts->max_args > 0 ? A.opts->max_args : 1))
		arglist_emit();
}

/* Advance the odometer of the dimensions after the first; 0 when it
 * went round (every combination of the current row made). */
static int
arglist_advance(void)
{
	for (size_t d = A.ndim; d-- > 1;) {
		if (++A.odo[d] < A.dlen[d])
			return 1;
		A.odo[d] = 0;
	}
	return 0;
}

/* An input that cannot be one: an error record of its own. */
static void
arglist_bad(const char *why)
{
	A.seq++;
	sched_add_error(NULL, A.src[0].name, (unsigned)A.row, why);
}

/* The next input of the first source, in A.cur: 1; 0 when it must wait
 * for more bytes; -1 at its end. */
static int
arglist_next_input(void)
{
	char *p, *end;

	if (!A.stream) {
		if (A.row >= A.src[0].n)
			return -1;
		A.cur = xstrdup(A.src[0].v[A.row]);
		return 1;
	}
	if (A.buf.data == NULL) /* nothing read yet */
		return A.eof ? -1 : 0;
	for (;;) {
		p = A.buf.data + A.off;
		end = A.off < A.buf.len ? memchr(p, A.sep, A.buf.len - A.off)
					: NULL;
		if (end == NULL) {
			size_t left = A.buf.len - A.off;

			if (A.discard || left > PARSE_MAX_LINE) {
				/* Too long: reported once, skipped to its
				 * end. */
				if (!A.discard) {
					A.row++;
					arglist_bad("input too long");
				}
				A.discard = !A.eof;
				A.off = A.buf.len;
				return A.eof ? -1 : 0;
			}
			if (!A.eof)
				return 0;
			if (left == 0)
				return -1;
			/* The last input has no delimiter. */
			end = A.buf.data + A.buf.len;
			A.off = A.buf.len;
		} else {
			A.off = (size_t)(end - A.buf.data) + 1;
		}
		if (A.discard) {
			A.discard = 0;
			continue;
		}
		if (memchr(p, '\0', (size_t)(end - p)) != NULL) {
			A.row++;
			arglist_bad("NUL byte in input");
			continue;
		}
		A.cur = xmalloc((size_t)(end - p) + 1);
		memcpy(A.cur, p, (size_t)(end - p));
		A.cur[end - p] = '\0';
		return 1;
	}
}

/* Make jobs until the scheduler is full, the inputs wait for bytes, or
 * all are done. */
static void
arglist_pump(void)
{
	A.busy = 1;
	while (!A.paused && !A.stopped && !A.done) {
		int r;

		if (A.have_row) {
			arglist_combination();
			if (!arglist_advance()) {
				A.have_row = 0;
				free(A.cur);
				A.cur = NULL;
			}
			continue;
		}
		r = arglist_next_input();
		if (r == 0)
			break;
		/* A paired source that ran out ends the first dimension. */
		if (r == 1 && A.dlen[0] > 0 && A.row >= A.dlen[0]) {
			free(A.cur);
			A.cur = NULL;
			r = -1;
		}
		if (r == -1) {
			arglist_emit();
			A.done = 1;
			break;
		}
		A.row++;
		A.have_row = 1;
	}
	if (A.stream && A.off > 0 && (A.off == A.buf.len || A.off > IO_CHUNK)) {
		buf_consume(&A.buf, A.off);
		A.off = 0;
	}
	A.busy = 0;
	if (A.stopped) {
		arglist_stop();
		return;
	}
	if (A.stream && !A.done && !A.paused && !A.eof)
		ev_io_start(A.loop, &A.io);
	else if (A.stream)
		ev_io_stop(A.loop, &A.io);
}

/* The streamed input is readable. */
static void
arglist_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	ssize_t n;

	(void)loop, (void)w, (void)revents;
	buf_reserve(&A.buf, IO_CHUNK);
	do
		n = read(A.fd, A.buf.data + A.buf.len, IO_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		warnx("%s: %s", A.src[0].name, strerror(errno));
		A.failed++;
		n = 0;
	}
	A.buf.len += (size_t)n;
	if (n == 0)
		A.eof = 1;
	arglist_pump();
}

/* Read a whole file of inputs (standard input for "-") into s: 0, or -1
 * after a message. */
static int
arglist_read_whole(struct source *s, const char *file)
{
	int fd = strcmp(file, "-") == 0 ? STDIN_FILENO
					: open(file, O_RDONLY | O_CLOEXEC);
	struct buf b = BUF_INIT;
	size_t start = 0;
	ssize_t n;

	if (fd == -1) {
		warnx("%s: %s", file, strerror(errno));
		return -1;
	}
	for (;;) {
		buf_reserve(&b, IO_CHUNK);
		n = read(fd, b.data + b.len, IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		b.len += (size_t)n;
	}
	if (n < 0)
		warnx("%s: %s", file, strerror(errno));
	if (fd != STDIN_FILENO)
		close(fd);
	for (size_t i = 0; n == 0 && i <= b.len; i++) {
		if (i < b.len && b.data[i] != A.sep)
			continue;
		if (i == b.len && i == start)
			break;
		if (memchr(b.data + start, '\0', i - start) != NULL) {
			warnx("%s: NUL byte in input %zu", file, s->n + 1);
			n = -1;
			break;
		}
		s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
		s->v[s->n] = xmalloc(i - start + 1);
		memcpy(s->v[s->n], b.data + start, i - start);
		s->v[s->n++][i - start] = '\0';
		start = i + 1;
	}
	buf_free(&b);
	return n == 0 ? 0 : -1;
}

/* Open the first source to stream it: 0, or -1 after a message. */
static int
arglist_open_stream(const char *file)
{
	struct stat st;

	A.stream = 1;
	if (strcmp(file, "-") == 0) {
		A.fd = STDIN_FILENO;
		/* Pipes and sockets are read without blocking; their flags
		 * are put back at the end. */
		if (fstat(A.fd, &st) == 0 &&
		    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
			A.stdin_flags = fcntl(A.fd, F_GETFL);
			if (A.stdin_flags != -1)
				fcntl(A.fd, F_SETFL,
				      A.stdin_flags | O_NONBLOCK);
		}
		return 0;
	}
	A.fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (A.fd == -1 || fstat(A.fd, &st) == -1) {
		warnx("%s: %s", file, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		warnx("%s: %s", file, strerror(EISDIR));
		return -1;
	}
	return 0;
}

/* Set the sources up from the options: 0, or -1 after a message. */
static int
arglist_sources(const struct corun_options *o)
{
	static const struct corun_source stdin_source = {"-", NULL, 0, 0};
	const struct corun_source *cs =
	    o->nsources > 0 ? o->sources : &stdin_source;
	size_t n = o->nsources > 0 ? o->nsources : 1;

	A.src = xcalloc(n, sizeof *A.src);
	A.nsrc = n;
	A.dfirst = xcalloc(n, sizeof *A.dfirst);
	A.dcount = xcalloc(n, sizeof *A.dcount);
	A.dlen = xcalloc(n, sizeof *A.dlen);
	A.odo = xcalloc(n, sizeof *A.odo);
	for (size_t i = 0; i < n; i++) {
		struct source *s = &A.src[i];

		s->linked = i > 0 && cs[i].linked;
		s->name = cs[i].file != NULL ? cs[i].file : ":::";
		if (!s->linked) {
			A.dfirst[A.ndim] = i;
			A.ndim++;
		}
		A.dcount[A.ndim - 1]++;
		if (i == 0 && cs[i].file != NULL) {
			if (arglist_open_stream(cs[i].file) == -1)
				return -1;
		} else if (cs[i].file != NULL) {
			if (arglist_read_whole(s, cs[i].file) == -1)
				return -1;
		} else {
			s->v = xcalloc(cs[i].nargs + 1, sizeof *s->v);
			for (size_t k = 0; k < cs[i].nargs; k++)
				s->v[k] = xstrdup(cs[i].args[k]);
			s->n = cs[i].nargs;
		}
	}
	/* Each dimension is as long as its shortest source; the first
	 * counts only its paired sources here (0: no bound). */
	for (size_t d = 0; d < A.ndim; d++) {
		size_t len = (size_t)-1;

		for (size_t k = d == 0 ? 1 : 0; k < A.dcount[d]; k++)
			if (A.src[A.dfirst[d] + k].n < len)
				len = A.src[A.dfirst[d] + k].n;
		A.dlen[d] = len == (size_t)-1 ? 0 : len;
		/* An empty source makes no combination at all. */
		if (len == 0)
			A.done = 1;
	}
	return 0;
}

/* Compile the template, open and read the sources. */
int
arglist_init(const struct corun_options *o)
{
	char err[512];
	int flags = o->shell_lines ? TEMPLATE_RAW_SH : 0;

	template_free(A.tpl);
	memset(&A, 0, sizeof A);
	A.opts = o;
	A.fd = -1;
	A.stdin_flags = -1;
	A.sep = (char)o->delimiter;
	A.tpl = template_new(o->command, o->tagstring, flags, err, sizeof err);
	if (A.tpl == NULL) {
		warnx("-c: %s", err);
		return -1;
	}
	if (o->colsep != NULL) {
		int rc = regcomp(&A.colsep, o->colsep, REG_EXTENDED);

		if (rc != 0) {
			regerror(rc, &A.colsep, err, sizeof err);
			warnx("--colsep: %s", err);
			template_free(A.tpl);
			A.tpl = NULL;
			return -1;
		}
		A.has_colsep = 1;
	}
	if (arglist_sources(o) == -1) {
		arglist_stop();
		return -1;
	}
	return 0;
}

/* Start making jobs. */
void
arglist_start(struct ev_loop *loop)
{
	A.loop = loop;
	if (A.stream)
		ev_io_init(&A.io, arglist_read_cb, A.fd, EV_READ);
	arglist_pump();
}

/* Pause or resume making jobs (the scheduler's in-flight limit). */
static void
arglist_pause(int paused)
{
	if (A.stopped)
		return;
	A.paused = paused;
	if (paused && A.stream && A.loop != NULL)
		ev_io_stop(A.loop, &A.io);
	else if (!paused && !A.busy)
		arglist_pump();
}

/* Every input made into jobs? */
static int
arglist_done(void)
{
	return A.done;
}

/* The job of spec once its attempt has a job slot: the template filled
 * again when it uses {%} (spec is taken over; the result is the
 * caller's). */
static struct job_spec *
arglist_slotted(struct job_spec *spec, uint64_t seq, unsigned slot)
{
	struct job_spec *n = NULL;
	char err[512];

	if (A.tpl == NULL || !template_uses_slot(A.tpl) || spec->args == NULL)
		return spec;
	if (template_expand(A.tpl, spec->args, spec->nargs, seq, slot, &n, err,
			    sizeof err) != PARSE_JOB) {
		free(n);
		return spec;
	}
	free(spec);
	return n;
}

/* Could an input not be read while running? */
int
arglist_failed(void)
{
	return A.failed > 0;
}

/* Stop for good; called while making a job, it stops after it. */
void
arglist_stop(void)
{
	if (A.opts == NULL) /* not set up: job files */
		return;
	A.stopped = 1;
	A.done = 1;
	if (A.busy)
		return;
	if (A.stream && A.loop != NULL)
		ev_io_stop(A.loop, &A.io);
	if (A.fd == STDIN_FILENO && A.stdin_flags != -1)
		fcntl(STDIN_FILENO, F_SETFL, A.stdin_flags);
	A.stdin_flags = -1;
	if (A.fd > STDIN_FILENO)
		close(A.fd);
	A.fd = -1;
	A.stream = 0;
	for (size_t i = 0; i < A.nsrc; i++) {
		for (size_t k = 0; k < A.src[i].n; k++)
			free(A.src[i].v[k]);
		free(A.src[i].v);
	}
	free(A.src);
	free(A.dfirst);
	free(A.dcount);
	free(A.dlen);
	free(A.odo);
	A.src = NULL;
	A.nsrc = 0;
	free(A.cur);
	A.cur = NULL;
	vals_clear(&A.group);
	free(A.group.v);
	A.group.v = NULL;
	A.group.cap = 0;
	buf_free(&A.buf);
	if (A.has_colsep)
		regfree(&A.colsep);
	A.has_colsep = 0;
	/* The template stays until the next run: a job given a slot after
	 * the inputs stopped still fills it. */
}

/* The scheduler's view of the inputs. */
const struct sched_source arglist_source = {
    arglist_pause,
    arglist_stop,
    arglist_done,
    arglist_slotted,
    NULL,
};
