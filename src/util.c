/*
 * util.c: allocation wrappers, fatal errors, byte buffers, fd flags.
 *
 * Used from the loop thread, pool threads and worker processes alike, so
 * nothing here keeps shared state: util_random's generator state is
 * per thread, and the host's rand()/srand() are never touched.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_CLOSE_RANGE
#include <linux/close_range.h>
#endif
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "util.h"

/* Out of memory: say so and abort() (corun(3): a library cannot go on, and
 * must not exit()). */
void
util_oom(size_t n)
{
	fprintf(stderr, "corun: out of memory (%zu bytes)\n", n);
	abort();
}

/* Allocate or abort. */
void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		util_oom(n);
	return p;
}

/* Allocate zeroed memory or die. */
void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		util_oom(n * size);
	return p;
}

/* Resize or die. */
void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		util_oom(n);
	return p;
}

/* Duplicate a string or die; the caller owns the copy. */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* Duplicate n bytes as a string or die; the caller owns the copy. */
char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Write line and a newline to stderr with every control character but a
 * tab escaped as \xHH: messages quote job lines and file names, and must
 * not send ESC or BEL to a terminal (corun(1), Error messages). */
static void
msg_put(const char *line)
{
	char out[4 * 1024 + 2];
	size_t n = 0;

	for (const char *p = line; *p != '\0' && n < sizeof out - 6; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			n += (size_t)snprintf(out + n, sizeof out - n,
					      "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n++] = '\n';
	fwrite(out, 1, n, stderr);
	fflush(stderr);
}

/* Format a message ("corun: " fmt [": " suffix]) and write it escaped. */
static void
vmsg(const char *fmt, va_list ap, const char *suffix)
{
	char line[1024];
	int n = snprintf(line, sizeof line, "corun: ");

	vsnprintf(line + n, sizeof line - n, fmt, ap);
	if (suffix != NULL) {
		size_t len = strlen(line);
		snprintf(line + len, sizeof line - len, ": %s", suffix);
	}
	msg_put(line);
}

/* Report a bad job line as FILE:LINE: MSG, control characters escaped. */
void
warn_at(const char *file, unsigned line, const char *msg)
{
	char buf[1024];

	snprintf(buf, sizeof buf, "%s:%u: %s", file, line, msg);
	msg_put(buf);
}

/* Report an OS error and exit 2. */
void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vmsg(fmt, ap, e);
	va_end(ap);
	exit(2);
}

/* Report an error and exit 2. */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, NULL);
	va_end(ap);
	exit(2);
}

/* Report a warning on stderr. */
void
warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, NULL);
	va_end(ap);
}

/* Format an error message into a caller's fixed buffer. */
void
errfmt(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* The capacity b grows to for n more bytes plus the terminating NUL
 * (doubling from 64), or 0 when it has room already. */
static size_t
buf_grown(const struct buf *b, size_t n)
{
	size_t want = b->len + n + 1, cap = b->cap ? b->cap : 64;

	if (want <= b->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	return cap;
}

/* Make room for n more bytes plus the terminating NUL. */
void
buf_reserve(struct buf *b, size_t n)
{
	size_t cap = buf_grown(b, n);

	if (cap == 0)
		return;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

/* Buffers of a job's output below this size grow without a check. */
#define MEM_CHECK_MIN (64 * 1024)
/* Memory left free when a job's buffer grows: room for the records of the
 * jobs that ended (a 1 MiB value takes up to 6 MiB in JSON) and for
 * corun's bookkeeping, whose allocations abort when they fail. */
#define MEM_HEADROOM (16 * 1024 * 1024)

/* Can a job's buffer grow to n bytes and leave MEM_HEADROOM? 1 or 0.
 * Asked of malloc itself (the limit may be ulimit -v), for big buffers
 * only. */
int
mem_can_grow(size_t n)
{
	void *p;

	if (n < MEM_CHECK_MIN)
		return 1;
	if ((p = malloc(n + MEM_HEADROOM)) == NULL)
		return 0;
	free(p);
	return 1;
}

/* Make room for n more bytes plus the NUL without aborting, leaving
 * memory for the rest (mem_can_grow): 0, or -1 with b unchanged. */
int
buf_try_reserve(struct buf *b, size_t n)
{
	size_t cap = buf_grown(b, n);
	char *p;

	if (cap == 0)
		return 0;
	if (!mem_can_grow(cap) || (p = realloc(b->data, cap)) == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Append n bytes without aborting: 0, or -1 with b unchanged. */
int
buf_try_add(struct buf *b, const void *p, size_t n)
{
	if (buf_try_reserve(b, n) == -1)
		return -1;
	buf_add(b, p, n);
	return 0;
}

/* Append n bytes. */
void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append one byte. */
void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

/* Append a C string. */
void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Append formatted text. */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Drop the first n bytes. */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* Empty the buffer, keeping its memory. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Release the buffer's memory. */
void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Take ownership of the bytes; the caller frees them. */
char *
buf_steal(struct buf *b)
{
	char *p = b->data != NULL ? b->data : xstrdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* Set FD_CLOEXEC. */
int
fd_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

/* Append s single-quoted. */
void
buf_add_squoted(struct buf *b, const char *s)
{
	buf_addc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *s);
	}
	buf_addc(b, '\'');
}

/* Write n bytes into a full ring buffer over its oldest bytes. */
void
buf_ring_write(struct buf *b, size_t *head, const char *p, size_t n)
{
	size_t cap = b->len, first;

	if (n >= cap) {
		memcpy(b->data, p + n - cap, cap);
		*head = 0;
		return;
	}
	first = n < cap - *head ? n : cap - *head;
	memcpy(b->data + *head, p, first);
	memcpy(b->data, p + first, n - first);
	*head = (*head + n) % cap;
}

/* Reverse the bytes p[0..n). */
static void
mem_reverse(char *p, size_t n)
{
	for (size_t i = 0; n > 1 && i < n / 2; i++) {
		char t = p[i];

		p[i] = p[n - 1 - i];
		p[n - 1 - i] = t;
	}
}

/* Put a ring in order, oldest byte first (three reversals). */
void
buf_ring_unwrap(struct buf *b, size_t *head)
{
	if (*head == 0)
		return;
	mem_reverse(b->data, *head);
	mem_reverse(b->data + *head, b->len - *head);
	mem_reverse(b->data, b->len);
	*head = 0;
}

/* Standard input to read without touching its flags (util.h). */
int
stdin_reader(int *sock)
{
	struct stat st;
	int fd;

	*sock = 0;
	if (fstat(STDIN_FILENO, &st) == -1)
		return STDIN_FILENO;
	if (S_ISSOCK(st.st_mode)) {
		*sock = 1;
		return STDIN_FILENO;
	}
	if (S_ISFIFO(st.st_mode) &&
	    (fd = open("/proc/self/fd/0", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) !=
		-1)
		return fd;
	return STDIN_FILENO;
}

/* One read from standard input as stdin_reader set it up. */
ssize_t
stdin_read(int fd, int sock, void *p, size_t n)
{
	ssize_t r;

	do
		r = sock ? recv(fd, p, n, MSG_DONTWAIT) : read(fd, p, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Set O_NONBLOCK. */
int
fd_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Mark every inherited fd above stderr close-on-exec. */
void
fd_cloexec_all(void)
{
#ifdef HAVE_CLOSE_RANGE
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (d == NULL) {
		for (int fd = 3; fd < 1024; fd++)
			fd_cloexec(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);
		if (fd > 2 && fd != dirfd(d))
			fd_cloexec(fd);
	}
	closedir(d);
}

/* Write everything, retrying short writes and EINTR, and waiting when the
 * fd is non-blocking. */
int
write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* An fd inherited non-blocking: wait. */
				struct pollfd pfd = {fd, POLLOUT, 0};
				poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Seconds on the monotonic clock. */
double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The number of online CPUs, at least 1. */
int
util_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int)n;
}

/* A uniform double in [0, 1) from a per-thread xorshift64* generator,
 * seeded at its first use from the pid, the clock and the state's own
 * address: a library must not reseed (or draw from) the program's rand(). */
double
util_random(void)
{
	static _Thread_local uint64_t state;
	struct timespec ts;

	if (state == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		state = (uint64_t)getpid() << 32 ^ (uint64_t)ts.tv_sec * 1000003u ^
			(uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&state;
		if (state == 0)
			state = 0x9e3779b97f4a7c15u;
	}
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (double)((state * 0x2545f4914f6cdd1du) >> 11) / 9007199254740992.0;
}

/* Lower the calling process's priority by incr. */
void
nice_self(int incr)
{
	int now;

	if (incr <= 0)
		return;
	errno = 0;
	now = getpriority(PRIO_PROCESS, 0); /* may be -1 */
	if (now == -1 && errno != 0)
		return;
	(void)setpriority(PRIO_PROCESS, 0, now + incr);
}

/* The SIG names of the common signals. */
static const char *const signames[] = {
	[SIGHUP] = "SIGHUP",
	[SIGINT] = "SIGINT",
	[SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL",
	[SIGTRAP] = "SIGTRAP",
	[SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS",
	[SIGFPE] = "SIGFPE",
	[SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1",
	[SIGSEGV] = "SIGSEGV",
	[SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE",
	[SIGALRM] = "SIGALRM",
	[SIGTERM] = "SIGTERM",
	[SIGCHLD] = "SIGCHLD",
	[SIGCONT] = "SIGCONT",
	[SIGSTOP] = "SIGSTOP",
	[SIGTSTP] = "SIGTSTP",
	[SIGTTIN] = "SIGTTIN",
	[SIGTTOU] = "SIGTTOU",
	[SIGURG] = "SIGURG",
	[SIGXCPU] = "SIGXCPU",
	[SIGXFSZ] = "SIGXFSZ",
	[SIGVTALRM] = "SIGVTALRM",
	[SIGPROF] = "SIGPROF",
	[SIGWINCH] = "SIGWINCH",
	[SIGSYS] = "SIGSYS",
};

/* Describe a wait status: "exit status 1", "killed by signal 9 (SIGKILL)". */
void
wait_describe(char *s, size_t len, int status)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		size_t n = sizeof signames / sizeof signames[0];

		if ((size_t)sig < n && signames[sig] != NULL)
			errfmt(s, len, "killed by signal %d (%s)", sig,
			       signames[sig]);
		else
			errfmt(s, len, "killed by signal %d", sig);
	} else {
		errfmt(s, len, "exit status %d", WEXITSTATUS(status));
	}
}

/* The value of a hex digit (either case), or -1. */
int
util_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Append a wall-clock time in RFC 3339 (UTC, microseconds). */
void
buf_add_rfc3339(struct buf *out, double when)
{
	char tmp[48];
	time_t sec = (time_t)when;
	long us = lround((when - (double)sec) * 1e6);
	struct tm tm;
	size_t n;

	if (us >= 1000000) {
		sec++;
		us -= 1000000;
	}
	gmtime_r(&sec, &tm);
	n = strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(tmp + n, sizeof tmp - n, ".%06ldZ", us);
	buf_adds(out, tmp);
}
