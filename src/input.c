/*
 * input.c: job lines from files and standard input.
 *
 * Two passes over job files. input_check reads every named file to its
 * end and parses it, reporting every bad line, a directory or a file it
 * cannot read before anything runs (corun(1), Inputs). Then input_start
 * streams every input through the loop. Streaming reads a chunk at a time,
 * hands each logical line to the scheduler as soon as it is complete, and
 * stops reading while the scheduler says it is full (input_pause).
 *
 * What runs is what was checked: a regular file is opened again and run
 * only up to the length the check read, and only if it is still the same
 * file (device and inode), so lines appended while corun runs are not run
 * and a file replaced by another is an error; memory stays bounded
 * whatever the file's size. (A file rewritten in place is not detected:
 * its lines are parsed again, and a bad one becomes an error record.) Any
 * other named file (a pipe such as <(...), a device) can be read only
 * once: the check keeps its bytes in memory and the run reads that copy.
 * Standard input ("-") is not checked: it stays a stream.
 *
 * Lines are split here; everything about their contents is the parser's.
 * A physical line longer than PARSE_MAX_LINE is not buffered: its bytes are
 * skipped up to the next newline and it is reported as too long.
 *
 * Threads: loop thread only. Regular files are watched with ev_io too: the
 * epoll backend reports them as always readable.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deps.h"
#include "input.h"
#include "parse.h"
#include "sched.h"
#include "util.h"

/* Where parsed lines go: the scheduler, or the error printer of the check
 * pass. Both take the spec over. */
struct sink {
	void (*job)(struct job_spec *, const char *file, unsigned line);
	void (*error)(struct job_spec *, const char *file, unsigned line,
		      const char *msg);
};

struct input {
	const char *name;   /* as given on the command line; "-": stdin */
	int fd;
	int sock;           /* a socket: read with recv(MSG_DONTWAIT) */
	unsigned line;      /* physical lines consumed */
	unsigned start;     /* first line of the logical line being read */
	int discard;        /* skipping the rest of an over-long line */
	int eof;            /* read() said end-of-file */
	long long left;     /* bytes still to read, or -1: to end-of-file */
	unsigned errors;    /* bad lines (check pass) */
	struct buf buf;     /* bytes read and not yet split into lines */
	struct parser parser;
};

/* What the check pass learnt of a named file, for the run. */
struct checked {
	int regular;        /* read again, up to len bytes of dev/ino */
	long long len;
	dev_t dev;
	ino_t ino;
	struct buf data;    /* any other file: its bytes, read once */
};

static struct checked *K; /* one per name, from input_check */
static size_t nK;

static struct {
	struct ev_loop *loop;
	char *const *names;
	size_t n;
	size_t next;        /* index of the next input to open */
	struct input in;    /* the input being read, when open */
	int open;
	int paused;
	int done;
	int busy;           /* inside input_pump: close later */
	int stopped;        /* input_stop was called */
	unsigned failed;    /* inputs that could not be opened or read */
	ev_io io;
} I;

/* Set an input up to read fd. */
static void
input_open(struct input *in, const char *name, int fd)
{
	memset(in, 0, sizeof *in);
	in->name = name;
	in->fd = fd;
	in->left = -1;
	parser_init(&in->parser);
}

/* Release an input's buffers (the fd is the caller's). */
static void
input_release(struct input *in)
{
	buf_free(&in->buf);
	parser_free(&in->parser);
}

/* Hand what the parser made of a logical line to the sink. */
static void
input_deliver(struct input *in, enum parse_rc rc, struct job_spec *spec,
	      const char *err, const struct sink *sink)
{
	if (rc == PARSE_JOB)
		sink->job(spec, in->name, in->start);
	else if (rc == PARSE_ERROR)
		sink->error(spec, in->name, in->start, err);
}

/* One physical line (without its newline). */
static void
input_line(struct input *in, const char *p, size_t len,
	   const struct sink *sink)
{
	struct job_spec *spec = NULL;
	enum parse_rc rc;
	char err[512];

	in->line++;
	if (!parser_pending(&in->parser))
		in->start = in->line;
	rc = parser_feed(&in->parser, p, len, &spec, err, sizeof err);
	input_deliver(in, rc, spec, err, sink);
}

/* End of an input: finish a pending continuation. */
static void
input_finish(struct input *in, const struct sink *sink)
{
	struct job_spec *spec = NULL;
	enum parse_rc rc;
	char err[512];

	rc = parser_finish(&in->parser, &spec, err, sizeof err);
	input_deliver(in, rc, spec, err, sink);
}

/*
 * Split the buffered bytes into lines and feed them, until the buffer has
 * no whole line left or *stop becomes true (the scheduler is full). At
 * end-of-file (in->eof) a last line without newline is fed too, and the
 * parser is finished. Returns 1 when everything in the input was consumed.
 */
static int
input_process(struct input *in, const struct sink *sink, const int *stop)
{
	size_t off = 0;
	int all = 0;

	while (!*stop && off < in->buf.len) {
		char *p = in->buf.data + off;
		char *nl = memchr(p, '\n', in->buf.len - off);

		if (in->discard) {
			if (nl == NULL) {
				off = in->buf.len;
				break;
			}
			in->discard = 0;
			off += (size_t)(nl - p) + 1;
			continue;
		}
		if (nl == NULL) {
			if (in->buf.len - off <= PARSE_MAX_LINE && !in->eof)
				break;
			if (in->buf.len - off <= PARSE_MAX_LINE) {
				/* The last line has no newline. */
				input_line(in, p, in->buf.len - off, sink);
				off = in->buf.len;
				break;
			}
			/* Too long: report it, skip to its newline. */
			in->line++;
			if (!parser_pending(&in->parser))
				in->start = in->line;
			parser_free(&in->parser);
			parser_init(&in->parser);
			sink->error(NULL, in->name, in->start, "line too long");
			in->discard = 1;
			off = in->buf.len;
			break;
		}
		input_line(in, p, (size_t)(nl - p), sink);
		off += (size_t)(nl - p) + 1;
	}
	buf_consume(&in->buf, off);
	if (in->eof && in->buf.len == 0 && !*stop) {
		input_finish(in, sink);
		all = 1;
	}
	return all;
}

/* Read one chunk into the input's buffer: bytes read, 0 at end-of-file
 * (or once in->left bytes were read), -1 with errno. */
static ssize_t
input_read(struct input *in)
{
	size_t want = IO_CHUNK;
	ssize_t n;

	if (in->left == 0)
		return 0;
	if (in->left > 0 && (unsigned long long)in->left < want)
		want = (size_t)in->left;
	buf_reserve(&in->buf, want);
	n = stdin_read(in->fd, in->sock, in->buf.data + in->buf.len, want);
	if (n > 0) {
		in->buf.len += (size_t)n;
		in->buf.data[in->buf.len] = '\0';
		if (in->left > 0)
			in->left -= n;
	}
	return n;
}

static struct input *check_in;
static const int never = 0;

/* What the check pass knows of the jobs before the current line: their
 * ids and how many there were (unknown once standard input came first). */
static struct {
	struct deps deps;
	uint64_t seq;
	int seq_known;
	int forksrv; /* a job needs the fork server, or stdin may hold one */
} C;

/* Check pass: a line that parsed must also have a unique id and name only
 * earlier jobs in after=; then it is dropped. */
static void
check_job(struct job_spec *spec, const char *file, unsigned line)
{
	char why[PARSE_MAX_ID + 64] = "";

	C.seq++;
	if (spec->kind->spawns ||
	    (spec->on >= 0 ? spec->on : (int)spec->kind->executor) ==
		EX_PROCESS)
		C.forksrv = 1;
	/* After standard input, the numbers and ids before are unknown. */
	if (C.seq_known)
		deps_check_after(&C.deps, spec, C.seq, why, sizeof why);
	if (spec->id != NULL && deps_register(&C.deps, spec->id, C.seq) == -1 &&
	    why[0] == '\0')
		snprintf(why, sizeof why, "duplicate id '%s'", spec->id);
	free(spec);
	if (why[0] != '\0') {
		warn_at(file, line, why);
		check_in->errors++;
	}
}

/* Check pass: a bad line is reported as FILE:LINE: message. */
static void
check_error(struct job_spec *spec, const char *file, unsigned line,
	    const char *msg)
{
	C.seq++;
	if (spec != NULL && spec->id != NULL)
		deps_register(&C.deps, spec->id, C.seq);
	free(spec);
	warn_at(file, line, msg);
	check_in->errors++;
}

static const struct sink check_sink = {check_job, check_error};

/* Forget what input_check learnt. */
static void
input_forget(void)
{
	for (size_t i = 0; i < nK; i++)
		buf_free(&K[i].data);
	free(K);
	K = NULL;
	nK = 0;
}

/* Check one named file whole, remembering in k how to run what was
 * checked. Returns its bad lines (an unreadable file counts as one). */
static unsigned
input_check_file(const char *name, struct checked *k)
{
	struct input in;
	struct stat st;
	long long total = 0;
	int fd;

	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		warnx("%s: %s", name, strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) == -1) {
		warnx("%s: %s", name, strerror(errno));
		close(fd);
		return 1;
	}
	if (S_ISDIR(st.st_mode)) {
		warnx("%s: %s", name, strerror(EISDIR));
		close(fd);
		return 1;
	}
	k->regular = S_ISREG(st.st_mode);
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	input_open(&in, name, fd);
	check_in = &in;
	for (;;) {
		ssize_t r = input_read(&in);

		if (r < 0) {
			warnx("%s: %s", name, strerror(errno));
			in.errors++;
			break;
		}
		total += r;
		/* Not a regular file: keep the bytes for the run. */
		if (!k->regular && r > 0)
			buf_add(&k->data, in.buf.data + in.buf.len - (size_t)r,
				(size_t)r);
		in.eof = r == 0;
		if (input_process(&in, &check_sink, &never))
			break;
	}
	k->len = total;
	input_release(&in);
	close(fd);
	return in.errors;
}

/* May the jobs checked need the fork server (process-pool jobs, the watch
 * over children)? Standard input may hold any job. */
int
input_may_need_forksrv(void)
{
	return C.forksrv;
}

/* Read and parse every named file whole; report each bad line, and each
 * file that is a directory or cannot be read. */
int
input_check(char *const names[], size_t n)
{
	int bad = 0;

	input_forget();
	K = xcalloc(n, sizeof *K);
	nK = n;
	memset(&C, 0, sizeof C);
	C.seq_known = 1;
	C.forksrv = n == 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], "-") == 0) {
			/* Standard input is read once while the jobs run: its
			 * ids are not known yet, and later numbers are
			 * shifted. */
			C.seq_known = 0;
			C.forksrv = 1;
			continue;
		}
		bad += (int)input_check_file(names[i], &K[i]);
	}
	deps_free(&C.deps);
	if (bad > 0)
		input_forget();
	return bad;
}

static const struct sink run_sink = {sched_add, sched_add_error};

static void input_read_cb(struct ev_loop *, ev_io *, int);

/* Close the input being read. */
static void
input_close(void)
{
	ev_io_stop(I.loop, &I.io);
	if (I.in.fd != STDIN_FILENO && I.in.fd != -1)
		close(I.in.fd);
	input_release(&I.in);
	I.open = 0;
}

/* Open the next input, or note that all are done. Returns 0 when one is
 * open. */
static int
input_next(void)
{
	while (I.next < I.n) {
		size_t i = I.next++;
		const char *name = I.names[i];
		int fd, sock = 0;

		if (strcmp(name, "-") == 0) {
			/* Its flags are shared with other processes: never
			 * changed (stdin_reader). */
			fd = stdin_reader(&sock);
		} else if (!K[i].regular) {
			/* Read once by the check: run its copy. */
			input_open(&I.in, name, -1);
			I.in.buf = K[i].data;
			memset(&K[i].data, 0, sizeof K[i].data);
			I.in.eof = 1;
			I.open = 1;
			return 0;
		} else {
			struct stat st;

			fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
			if (fd == -1) {
				warnx("%s: %s", name, strerror(errno));
				I.failed++;
				continue;
			}
			if (fstat(fd, &st) == -1 || st.st_dev != K[i].dev ||
			    st.st_ino != K[i].ino) {
				warnx("%s: replaced since it was checked", name);
				close(fd);
				I.failed++;
				continue;
			}
		}
		input_open(&I.in, name, fd);
		I.in.sock = sock;
		/* Only what was checked: not what was appended since. */
		if (strcmp(name, "-") != 0)
			I.in.left = K[i].len;
		I.open = 1;
		ev_io_init(&I.io, input_read_cb, fd, EV_READ);
		return 0;
	}
	I.done = 1;
	input_forget();
	return -1;
}

/* Feed what is buffered, move on through the inputs, and keep the watcher
 * started exactly while more bytes are wanted. */
static void
input_pump(void)
{
	I.busy = 1;
	while (I.open && !I.paused) {
		if (!input_process(&I.in, &run_sink, &I.paused))
			break;
		input_close();
		input_next();
	}
	I.busy = 0;
	if (I.stopped) {
		input_stop();
		return;
	}
	if (I.open && !I.paused && !I.in.eof && I.in.fd != -1)
		ev_io_start(I.loop, &I.io);
	else if (I.open)
		ev_io_stop(I.loop, &I.io);
}

/* The input is readable. */
static void
input_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	ssize_t n;

	(void)loop, (void)w, (void)revents;
	n = input_read(&I.in);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		warnx("%s: %s", I.in.name, strerror(errno));
		I.failed++;
		n = 0;
	}
	if (n == 0)
		I.in.eof = 1;
	input_pump();
}

/* Start streaming the inputs. */
void
input_start(struct ev_loop *loop, char *const names[], size_t n)
{
	memset(&I, 0, sizeof I);
	I.loop = loop;
	I.names = names;
	I.n = n;
	if (input_next() == 0)
		input_pump();
}

/* Pause or resume reading. */
void
input_pause(int paused)
{
	if (I.stopped)
		return;
	I.paused = paused;
	if (!I.open)
		return;
	if (paused)
		ev_io_stop(I.loop, &I.io);
	else
		input_pump();
}

/* Could an input not be opened or read while running? */
int
input_failed(void)
{
	return I.failed > 0;
}

/* Every input read to its end? */
int
input_done(void)
{
	return I.done;
}

/* Stop reading for good. Called while a line is being fed (the scheduler
 * stops on --fail-fast), it makes the feeding stop and closes after. */
void
input_stop(void)
{
	I.stopped = 1;
	I.paused = 1;
	I.next = I.n;
	I.done = 1;
	input_forget();
	if (I.open && !I.busy)
		input_close();
}

/* The scheduler's view of the inputs: where its jobs come from. */
const struct sched_source input_source = {
	input_pause,
	input_stop,
	input_done,
	NULL,
	NULL,
};
