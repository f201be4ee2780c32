/*
 * report.c: result records (corun(1), OUTPUT), text or JSON Lines.
 *
 * report_format turns a record into bytes and is pure: it only appends to
 * the caller's buffer. Strings are made safe on the way: in JSON, invalid
 * UTF-8 becomes U+FFFD (one per maximal invalid subpart, as Unicode
 * recommends) and control characters are escaped; in text, invalid UTF-8
 * becomes U+FFFD too and control characters other than tab (C0, DEL and
 * C1) are shown as '?', so a child cannot drive the user's terminal.
 * Both scanners copy runs of plain bytes with one buf_add, since a busy run
 * formats hundreds of thousands of records a second.
 *
 * The loop thread formats records into one buffer (report_write appends a
 * whole record, with its output block in text mode, so records never
 * interleave) and hands the buffer itself, not a copy, to a writer thread
 * once per loop iteration (report_flush) or at once past 64 KiB. The
 * writer does blocking writes, chunk after chunk in order, and calls the
 * wake callback after each (the output module's ev_async): so the loop
 * never blocks on a slow reader and standard output's flags are never
 * touched (the file description may be shared with other processes). No
 * byte is moved once formatted: a slow reader costs pipe speed, not a
 * copy of what waits. report_backlog counts what is handed over and not
 * yet written; the output module bounds it. Once a write fails (EPIPE:
 * the reader is gone; corun ignores SIGPIPE), what is queued and every
 * later record is dropped and every later flush returns -1 with the same
 * errno, like ferror() on a stdio stream.
 *
 * Threads: the loop thread and the writer. W.mu guards the queue, the
 * pending count and the writer's error; report_out and the rest are the
 * loop thread's. The writer is started on the first bytes to write, after
 * the fork server (ppool_forksrv); if it cannot start, the loop thread
 * writes with blocking writes itself.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include "pool_proc.h"
#include "report.h"

/* Hand over to the writer at once when this much is queued. */
#define REPORT_HIGH_WATER (64 * 1024)

/* Byte classes for the scanners. */
enum {
	BC_PLAIN, /* printable ASCII: copied as is */
	BC_CTRL,  /* C0 control or DEL */
	BC_QUOTE, /* '"' or '\\': plain in text, escaped in JSON */
	BC_TAB,	  /* tab: plain in text, escaped in JSON */
	BC_HIGH,  /* 0x80-0xff: the start of a UTF-8 sequence, or invalid */
};

#define C4 BC_CTRL, BC_CTRL, BC_CTRL, BC_CTRL
#define P4 BC_PLAIN, BC_PLAIN, BC_PLAIN, BC_PLAIN
#define H4 BC_HIGH, BC_HIGH, BC_HIGH, BC_HIGH
#define H16 H4, H4, H4, H4

/* One row per 16 byte values. */
/* clang-format off */
static const unsigned char byte_class[] = {
	/* 0x00 */ C4, C4, BC_CTRL, BC_TAB, BC_CTRL, BC_CTRL, C4,
	/* 0x10 */ C4, C4, C4, C4,
	/* 0x20 */ BC_PLAIN, BC_PLAIN, BC_QUOTE, BC_PLAIN, P4, P4, P4,
	/* 0x30 */ P4, P4, P4, P4,
	/* 0x40 */ P4, P4, P4, P4,
	/* 0x50 */ P4, P4, P4, BC_QUOTE, BC_PLAIN, BC_PLAIN, BC_PLAIN,
	/* 0x60 */ P4, P4, P4, P4,
	/* 0x70 */ P4, P4, P4, BC_PLAIN, BC_PLAIN, BC_PLAIN, BC_CTRL,
	/* 0x80 */ H16, H16, H16, H16, H16, H16, H16, H16,
};
/* clang-format on */
_Static_assert(sizeof byte_class == 256, "one class per byte value");

static const char replacement[3] = {'\xef', '\xbf', '\xbd'}; /* U+FFFD */

/* The writer's state: loop thread only. */
static struct buf report_out = BUF_INIT;
static int report_fd = -1;
static int report_json;
static int report_errno; /* 0, or the errno of the failed write */

/*
 * The UTF-8 sequence at p (n > 0 bytes left, p[0] >= 0x80): its length if
 * it is valid, else minus the length of its maximal invalid subpart (the
 * lead byte and the continuation bytes that could still have completed it).
 */
static int
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return -1; /* continuation byte, C0, C1, F5-FF */
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi)
			return -(int)i;
		lo = 0x80;
		hi = 0xbf;
	}
	return (int)need + 1;
}

/* Append the bytes of s escaped for the inside of a JSON string. */
static void
json_add(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0;
	char esc[6];

	while (i < len) {
		unsigned char c = p[i];
		unsigned char cl = byte_class[c];
		int n;

		if (cl == BC_PLAIN) {
			i++;
			continue;
		}
		if (cl == BC_HIGH) {
			n = utf8_seq(p + i, len - i);
			if (n > 0) {
				i += (size_t)n;
				continue;
			}
			buf_add(out, p + run, i - run);
			buf_add(out, replacement, sizeof replacement);
			i += (size_t)-n;
			run = i;
			continue;
		}
		buf_add(out, p + run, i - run);
		esc[0] = '\\';
		n = 2;
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
			break;
		}
		buf_add(out, esc, (size_t)n);
		run = ++i;
	}
	buf_add(out, p + run, len - run);
}

/* Append s as a JSON string, quotes included. */
void
report_json_string(struct buf *out, const char *s, size_t len)
{
	buf_addc(out, '"');
	json_add(out, s, len);
	buf_addc(out, '"');
}

/* Append s for a terminal: invalid UTF-8 as U+FFFD, controls but tab as
 * '?'. */
static void
text_add(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0;

	while (i < len) {
		unsigned char cl = byte_class[p[i]];
		int n;

		if (cl == BC_PLAIN || cl == BC_QUOTE || cl == BC_TAB) {
			i++;
			continue;
		}
		if (cl == BC_CTRL) {
			buf_add(out, p + run, i - run);
			buf_addc(out, '?');
			run = ++i;
			continue;
		}
		n = utf8_seq(p + i, len - i);
		if (n > 0 && !(p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			i += (size_t)n;
			continue;
		}
		buf_add(out, p + run, i - run);
		if (n > 0) {
			buf_addc(out, '?'); /* C1 control, U+0080-U+009F */
		} else {
			buf_add(out, replacement, sizeof replacement);
			n = -n;
		}
		i += (size_t)n;
		run = i;
	}
	buf_add(out, p + run, len - run);
}

/* Append v in decimal. */
static void
add_u64(struct buf *out, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof tmp;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	buf_add(out, tmp + i, sizeof tmp - i);
}

/* Append v in decimal. */
static void
add_int(struct buf *out, int v)
{
	if (v < 0) {
		buf_addc(out, '-');
		add_u64(out, -(uint64_t)v);
	} else {
		add_u64(out, (uint64_t)v);
	}
}

/* Append seconds with the given number of decimals. */
static void
add_seconds(struct buf *out, double secs, int decimals)
{
	char tmp[64];
	int n;

	if (!(secs >= 0 && secs < 1e15)) /* negative, NaN, absurd: not JSON */
		secs = 0;
	n = snprintf(tmp, sizeof tmp, "%.*f", decimals, secs);
	buf_add(out, tmp, (size_t)n);
}

/* Append a string literal. */
#define ADD_LIT(out, lit) buf_add(out, lit, sizeof lit - 1)

/* Append a C string as a JSON string, or null. */
static void
add_json_cstr(struct buf *out, const char *s)
{
	if (s == NULL)
		ADD_LIT(out, "null");
	else
		report_json_string(out, s, strlen(s));
}

/* Does the record come from an exec or sh job (child output captured)? */
static bool
record_has_child(const struct record *rec)
{
	if (rec->res->has_errout)
		return true;
	return rec->executor != NULL && rec->output;
}

/* Does the record carry an HTTP status (an http job that got one)? */
static bool
record_is_http(const struct record *rec)
{
	return rec->res->http_status > 0 && rec->http;
}

/* The message of a job that is not ok: its error, or its status name. */
static const char *
record_error(const struct record *rec)
{
	const struct result *res = rec->res;

	if (res->status == ST_OK)
		return NULL;
	return res->error != NULL ? res->error : status_name(res->status);
}

/* Append one JSON Lines record. */
static void
format_json(struct buf *out, const struct record *rec)
{
	const struct result *res = rec->res;
	const char *file = rec->file != NULL ? rec->file : "-";
	bool child = record_has_child(rec);

	ADD_LIT(out, "{\"id\":");
	if (rec->id != NULL) {
		report_json_string(out, rec->id, strlen(rec->id));
	} else {
		buf_addc(out, '"');
		add_u64(out, rec->seq);
		buf_addc(out, '"');
	}
	ADD_LIT(out, ",\"seq\":");
	add_u64(out, rec->seq);
	ADD_LIT(out, ",\"source\":\"");
	json_add(out, file, strlen(file));
	buf_addc(out, ':');
	add_u64(out, rec->line);
	ADD_LIT(out, "\",\"kind\":");
	add_json_cstr(out, rec->kind);
	ADD_LIT(out, ",\"executor\":");
	add_json_cstr(out, rec->executor);
	ADD_LIT(out, ",\"status\":");
	add_json_cstr(out, status_name(res->status));

	ADD_LIT(out, ",\"value\":");
	if (res->status == ST_OK || child)
		report_json_string(out, res->value.data, res->value.len);
	else
		ADD_LIT(out, "null");
	ADD_LIT(out, ",\"stderr\":");
	if (child)
		report_json_string(out, res->errout.data, res->errout.len);
	else
		ADD_LIT(out, "null");

	if (res->truncated)
		ADD_LIT(out, ",\"truncated\":true,\"error\":");
	else
		ADD_LIT(out, ",\"truncated\":false,\"error\":");
	add_json_cstr(out, record_error(rec));
	ADD_LIT(out, ",\"exit\":");
	if (child && res->exit >= 0)
		add_int(out, res->exit);
	else
		ADD_LIT(out, "null");
	ADD_LIT(out, ",\"signal\":");
	if (res->signal > 0)
		add_int(out, res->signal);
	else
		ADD_LIT(out, "null");
	ADD_LIT(out, ",\"attempts\":");
	add_int(out, rec->attempts);
	if (rec->start > 0) {
		ADD_LIT(out, ",\"queued\":");
		add_seconds(out, rec->queued, 6);
		ADD_LIT(out, ",\"start\":\"");
		buf_add_rfc3339(out, rec->start);
		buf_addc(out, '"');
	} else {
		ADD_LIT(out, ",\"queued\":null,\"start\":null");
	}
	ADD_LIT(out, ",\"elapsed\":");
	add_seconds(out, rec->elapsed, 6);
	if (record_is_http(rec)) {
		ADD_LIT(out, ",\"http_status\":");
		add_int(out, res->http_status);
	}
	if (rec->resumed)
		ADD_LIT(out, ",\"resumed\":true");
	ADD_LIT(out, "}\n");
}

/* Append every line of b (the last one given a newline), each after
 * prefix. */
static void
format_lines(struct buf *out, const struct buf *b, const char *prefix)
{
	const char *p = b->data, *end = b->data + b->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;

		buf_add(out, prefix, 4);
		text_add(out, p, (size_t)(eol - p));
		buf_addc(out, '\n');
		p = eol + 1;
	}
}

/* Append one text record: its line, then the output block of a child. */
static void
format_text(struct buf *out, const struct record *rec)
{
	const struct result *res = rec->res;
	const struct buf *val = &res->value;
	const char *text;
	size_t len;

	buf_adds(out, status_name(res->status));
	buf_addc(out, ' ');
	if (rec->id != NULL)
		text_add(out, rec->id, strlen(rec->id));
	else
		add_u64(out, rec->seq);
	buf_addc(out, ' ');
	add_seconds(out, rec->elapsed, 3);
	buf_add(out, "s ", 2);
	if (rec->kind != NULL)
		text_add(out, rec->kind, strlen(rec->kind));
	else
		buf_addc(out, '-');
	buf_addc(out, ':');

	if (rec->resumed) {
		text = "(resumed)";
		len = strlen(text);
	} else if (res->status == ST_OK) {
		const char *nl =
		    val->len ? memchr(val->data, '\n', val->len) : NULL;
		text = val->data;
		len = nl != NULL ? (size_t)(nl - val->data) : val->len;
	} else {
		text = record_error(rec);
		len = strlen(text);
	}
	if (len > 0) {
		buf_addc(out, ' ');
		text_add(out, text, len);
	}
	buf_addc(out, '\n');

	if (!record_has_child(rec))
		return;
	bool multi = val->len > 1 && memchr(val->data, '\n', val->len - 1);
	bool show_out = val->len > 0 && (res->status != ST_OK || multi);
	if (!show_out && res->errout.len == 0)
		return;
	format_lines(out, val, "  | ");
	format_lines(out, &res->errout, "  ! ");
}

/* Append one record, with its trailing newline, to out. */
void
report_format(struct buf *out, const struct record *rec, int json)
{
	if (json)
		format_json(out, rec);
	else
		format_text(out, rec);
}

/* One buffer of whole records on its way to the writer. */
struct chunk {
	STAILQ_ENTRY(chunk) link;
	struct buf b;
};

/* The writer thread and what the loop hands it: W.mu guards the rest. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t work; /* the writer waits: a chunk, or stop */
	pthread_cond_t done; /* the loop waits at exit: a chunk written */
	STAILQ_HEAD(, chunk) q;
	size_t pending;	  /* bytes handed over and not yet written */
	uint64_t written; /* chunks written, to see progress */
	int err;	  /* errno of the failed write, or 0 */
	bool stop;
	bool started; /* loop thread only, like the two below */
	pthread_t tid;
	void (*wake)(void);
} W = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .q = STAILQ_HEAD_INITIALIZER(W.q),
};

/* Write all of b to fd, blocking: 0, or the errno of the failure. If
 * another process made the shared file description non-blocking, wait for
 * room with poll instead. */
static int
report_write_all(int fd, const struct buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off);

		if (n >= 0) {
			off += (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			(void)poll(&p, 1, -1);
		} else if (errno != EINTR) {
			return errno;
		}
	}
	return 0;
}

/* Free a chunk and its bytes. */
static void
chunk_free(struct chunk *c)
{
	buf_free(&c->b);
	free(c);
}

/* The writer thread: write the chunks in order with blocking writes, tell
 * the loop after each (W.wake); after a failure drop what is queued and
 * end. */
static void *
report_writer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&W.mu);
	for (;;) {
		struct chunk *c;
		int err;

		while (STAILQ_EMPTY(&W.q) && !W.stop)
			pthread_cond_wait(&W.work, &W.mu);
		if ((c = STAILQ_FIRST(&W.q)) == NULL)
			break;
		pthread_mutex_unlock(&W.mu);
		err = report_write_all(report_fd, &c->b);
		pthread_mutex_lock(&W.mu);
		STAILQ_REMOVE_HEAD(&W.q, link);
		W.pending -= c->b.len;
		W.written++;
		chunk_free(c);
		if (err != 0) {
			W.err = err;
			while ((c = STAILQ_FIRST(&W.q)) != NULL) {
				STAILQ_REMOVE_HEAD(&W.q, link);
				chunk_free(c);
			}
			W.pending = 0;
		}
		pthread_cond_broadcast(&W.done);
		/* Under the lock: once report_on_written(NULL) returns, no
		 * wake is under way. */
		if (W.wake != NULL)
			W.wake();
		if (err != 0)
			break;
	}
	pthread_mutex_unlock(&W.mu);
	return NULL;
}

/* Start the writer thread, signals blocked in it: 0, or -1 (the loop then
 * writes with blocking writes itself). */
static int
report_writer_start(void)
{
	sigset_t all, old;
	int rc;

	/* Before any thread: see ppool_forksrv. */
	ppool_before_thread();
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&W.tid, NULL, report_writer, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	W.started = true;
	return 0;
}

/* Write records to fd, text or JSON; forget what an earlier run queued.
 * fd's flags are left as they are: it is written by a thread. */
void
report_init(int fd, int json)
{
	report_close();
	buf_free(&report_out);
	report_fd = fd;
	report_json = json;
	report_errno = 0;
}

/* Call wake (from the writer thread, which holds W.mu then: wake must not
 * call back into this module) whenever records were written or a write
 * failed; NULL: no more calls. */
void
report_on_written(void (*wake)(void))
{
	pthread_mutex_lock(&W.mu);
	W.wake = wake;
	pthread_mutex_unlock(&W.mu);
}

/* Queue a record; hand it to the writer at once past the high-water mark.
 * Dropped after a failed write. Returns its size in bytes (0: dropped). */
size_t
report_write(const struct record *rec)
{
	size_t len = report_out.len; /* then the record's length */

	if (report_errno != 0)
		return 0;
	report_format(&report_out, rec, report_json);
	len = report_out.len - len;
	if (report_out.len > REPORT_HIGH_WATER)
		report_flush();
	return len;
}

/* Bytes of records queued and not yet written. */
size_t
report_backlog(void)
{
	size_t n;

	pthread_mutex_lock(&W.mu);
	n = W.pending;
	pthread_mutex_unlock(&W.mu);
	return n + report_out.len;
}

/* Are records queued and not yet written? */
int
report_pending(void)
{
	return report_backlog() > 0;
}

/* Take the writer's failure, if any: 0, or -1 with errno. */
static int
report_failed(void)
{
	if (report_errno == 0) {
		pthread_mutex_lock(&W.mu);
		report_errno = W.err;
		pthread_mutex_unlock(&W.mu);
	}
	if (report_errno == 0)
		return 0;
	buf_free(&report_out);
	errno = report_errno;
	return -1;
}

/* Drop every queued record but those being written: the chunk the writer
 * has started (chunks hold whole records, so the output still ends at a
 * record boundary). A third signal (corun(1), SIGNALS). */
void
report_cut(void)
{
	struct chunk *first, *c;

	buf_free(&report_out);
	pthread_mutex_lock(&W.mu);
	first = STAILQ_FIRST(&W.q);
	while (first != NULL && (c = STAILQ_NEXT(first, link)) != NULL) {
		STAILQ_REMOVE(&W.q, c, chunk, link);
		W.pending -= c->b.len;
		chunk_free(c);
	}
	pthread_mutex_unlock(&W.mu);
}

/* Hand what is queued to the writer thread (the buffer itself, no copy),
 * or write it here if the thread cannot start. Returns 0, or -1 with
 * errno, again on every call after the first failure. */
int
report_flush(void)
{
	struct chunk *c;

	if (report_failed() == -1)
		return -1;
	if (report_out.len == 0)
		return 0;
	if (!W.started && report_writer_start() == -1) {
		report_errno = report_write_all(report_fd, &report_out);
		buf_reset(&report_out);
		return report_failed();
	}
	c = xmalloc(sizeof *c);
	c->b = report_out;
	report_out = (struct buf)BUF_INIT;
	pthread_mutex_lock(&W.mu);
	W.pending += c->b.len;
	STAILQ_INSERT_TAIL(&W.q, c, link);
	pthread_cond_signal(&W.work);
	pthread_mutex_unlock(&W.mu);
	return 0;
}

/* Hand over what is queued and wait until it is written; with patience
 * >= 0, give up once the reader has taken nothing for that many seconds.
 * Returns 0, or -1 with errno (ETIMEDOUT: gave up). */
int
report_drain(double patience)
{
	if (report_flush() == -1)
		return -1;
	pthread_mutex_lock(&W.mu);
	while (W.pending > 0 && W.err == 0) {
		uint64_t seen = W.written;
		struct timespec ts;

		if (patience < 0) {
			pthread_cond_wait(&W.done, &W.mu);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)patience;
		ts.tv_nsec +=
		    (long)((patience - (double)(time_t)patience) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (W.pending > 0 && W.err == 0 && W.written == seen)
			if (pthread_cond_timedwait(&W.done, &W.mu, &ts) ==
			    ETIMEDOUT)
				break;
		if (W.written == seen && W.pending > 0 && W.err == 0) {
			pthread_mutex_unlock(&W.mu);
			errno = ETIMEDOUT;
			return -1;
		}
	}
	pthread_mutex_unlock(&W.mu);
	return report_failed();
}

/* End the writer thread if it has nothing left to write (one blocked on a
 * stalled reader is left to the process's exit). */
void
report_close(void)
{
	bool idle;

	if (!W.started)
		return;
	pthread_mutex_lock(&W.mu);
	idle = STAILQ_EMPTY(&W.q);
	if (idle) {
		W.stop = true;
		pthread_cond_signal(&W.work);
	}
	pthread_mutex_unlock(&W.mu);
	if (idle) {
		pthread_join(W.tid, NULL);
		W.started = false;
		W.stop = false;
		W.err = 0;
	}
}
