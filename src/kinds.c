/*
 * kinds.c: the built-in job kinds, one row each.
 *
 * The blocking run functions here are called in pool threads and in worker
 * processes: they take their arguments, return a value or an error message,
 * and touch nothing else (no job state, no globals, no output). The loop
 * kinds' start/stop functions live with the loop executor (executors.c),
 * and with the network kinds (net_http.c, net_tcp.c) for http and tcp.
 * call's run function is plugin_run_call (plugin.c), whose one piece of
 * state is its process's cache of loaded libraries.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kinds.h"
#include "net.h"
#include "parse.h"
#include "plugin.h"
#include "sched.h"
#include "util.h"

#define EXMASK(e) (1u << (e))

/* Largest N that primes accepts: the sieve is segmented, so this bounds
 * time, not memory. */
#define PRIMES_MAX 1000000000000LL

/* The name of an executor. */
const char *
executor_name(enum executor ex)
{
	static const char *const names[EX_COUNT] = {"loop", "thread",
						    "process"};

	return (unsigned)ex < EX_COUNT ? names[ex] : "?";
}

/* The executor called name, or -1. */
int
executor_parse(const char *name)
{
	for (int i = 0; i < EX_COUNT; i++)
		if (strcmp(name, executor_name((enum executor)i)) == 0)
			return i;
	return -1;
}

/* Check that argv[0] is a duration. */
static int
check_duration(int argc, char *const argv[], char *err, size_t errlen)
{
	double d;

	(void)argc;
	if (parse_duration(argv[0], &d) == -1) {
		errfmt(err, errlen, "bad duration '%s'", argv[0]);
		return -1;
	}
	return 0;
}

/* Check that argv[0] is not empty. */
static int
check_nonempty(int argc, char *const argv[], char *err, size_t errlen)
{
	(void)argc;
	if (argv[0][0] == '\0') {
		errfmt(err, errlen, "empty argument");
		return -1;
	}
	return 0;
}

/* Check that argv[0] can name a job: an id or a sequence number. */
static int
check_ref(int argc, char *const argv[], char *err, size_t errlen)
{
	long long n;

	(void)argc;
	if (!parse_id_valid(argv[0]) &&
	    (parse_count(argv[0], &n) == -1 || n < 1)) {
		errfmt(err, errlen, "bad id '%s'", argv[0]);
		return -1;
	}
	return 0;
}

/* Check primes' N. */
static int
check_primes(int argc, char *const argv[], char *err, size_t errlen)
{
	long long n;

	(void)argc;
	if (parse_count(argv[0], &n) == -1) {
		errfmt(err, errlen, "bad count '%s'", argv[0]);
		return -1;
	}
	if (n > PRIMES_MAX) {
		errfmt(err, errlen, "primes: N must be at most %lld",
		       PRIMES_MAX);
		return -1;
	}
	return 0;
}

/* resolve HOST: every address getaddrinfo gives, space-separated, each
 * once, in the resolver's order. */
static int
run_resolve(int argc, char *const argv[], struct buf *value, char *err,
	    size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	int rc;

	(void)argc;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(argv[0], NULL, &hints, &res);
	if (rc != 0) {
		errfmt(err, errlen, "resolve: %s: %s", argv[0],
		       rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		char addr[INET6_ADDRSTRLEN];
		const void *p;

		if (ai->ai_family == AF_INET)
			p = &((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			p = &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(ai->ai_family, p, addr, sizeof addr) == NULL)
			continue;
		/* Skip duplicates: "a b a" must not happen. */
		size_t alen = strlen(addr);
		const char *seen = value->len ? value->data : "";
		int dup = 0;
		for (const char *s = seen; *s != '\0';) {
			const char *e = strchr(s, ' ');
			size_t n = e ? (size_t)(e - s) : strlen(s);
			if (n == alen && memcmp(s, addr, n) == 0) {
				dup = 1;
				break;
			}
			s += n + (e != NULL);
		}
		if (dup)
			continue;
		if (value->len > 0)
			buf_addc(value, ' ');
		buf_add(value, addr, alen);
	}
	freeaddrinfo(res);
	return 0;
}

/* block DUR: sleep, occupying the calling thread. */
static int
run_block(int argc, char *const argv[], struct buf *value, char *err,
	  size_t errlen)
{
	double d, end;

	(void)argc, (void)value, (void)err, (void)errlen;
	parse_duration(argv[0], &d);
	end = mono_now() + d;
	for (;;) {
		double left = end - mono_now();
		struct timespec ts;

		if (left <= 0)
			return 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* read PATH: read the file whole; the value is its size in bytes. */
static int
run_read(int argc, char *const argv[], struct buf *value, char *err,
	 size_t errlen)
{
	char chunk[65536];
	unsigned long long total = 0;
	int fd;

	(void)argc;
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		errfmt(err, errlen, "read: %s: %s", argv[0], strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			errfmt(err, errlen, "read: %s: %s", argv[0],
			       strerror(errno));
			close(fd);
			return -1;
		}
		total += (unsigned long long)n;
	}
	close(fd);
	buf_printf(value, "%llu", total);
	return 0;
}

/* Count the primes <= n with a segmented sieve of odd numbers. */
static long long
primes_count(long long n)
{
	enum { SEG = 32768 };
	unsigned char seg[SEG];
	long long count, lo, root, *small = NULL;
	size_t nsmall = 0;

	if (n < 2)
		return 0;
	count = 1; /* 2 */
	for (root = 1; (root + 1) * (root + 1) <= n; root++)
		;
	/* Odd primes up to sqrt(n), by trial division of odd candidates
	 * against the primes found so far (sqrt(10^12) = 10^6: cheap). */
	if (root >= 3) {
		small = xmalloc(sizeof *small * (size_t)(root / 2 + 1));
		for (long long c = 3; c <= root; c += 2) {
			int prime = 1;
			for (size_t i = 0; i < nsmall; i++) {
				long long p = small[i];
				if (p * p > c)
					break;
				if (c % p == 0) {
					prime = 0;
					break;
				}
			}
			if (prime)
				small[nsmall++] = c;
		}
	}
	/* seg[i] stands for the odd number lo + 2i. */
	for (lo = 3; lo <= n; lo += 2 * SEG) {
		long long hi = lo + 2 * (SEG - 1);
		size_t len;

		if (hi > n)
			hi = n;
		len = (size_t)((hi - lo) / 2 + 1);
		memset(seg, 1, len);
		for (size_t i = 0; i < nsmall; i++) {
			long long p = small[i], start = p * p;
			if (start > hi)
				break;
			if (start < lo) {
				start = (lo + p - 1) / p * p;
				if (start % 2 == 0)
					start += p;
			}
			for (long long m = start; m <= hi; m += 2 * p)
				seg[(m - lo) / 2] = 0;
		}
		for (size_t i = 0; i < len; i++)
			count += seg[i];
	}
	free(small);
	return count;
}

/* primes N: the count of primes <= N. */
static int
run_primes(int argc, char *const argv[], struct buf *value, char *err,
	   size_t errlen)
{
	long long n;

	(void)argc, (void)err, (void)errlen;
	parse_count(argv[0], &n);
	buf_printf(value, "%lld", primes_count(n));
	return 0;
}

/* spin DUR: burn CPU for DUR of wall-clock time. */
static int
run_spin(int argc, char *const argv[], struct buf *value, char *err,
	 size_t errlen)
{
	volatile uint64_t x = 0;
	double d, end;

	(void)argc, (void)value, (void)err, (void)errlen;
	parse_duration(argv[0], &d);
	end = mono_now() + d;
	while (mono_now() < end)
		for (int i = 0; i < 10000; i++)
			x = x * 6364136223846793005ULL + 1;
	return 0;
}

#define LOOP EXMASK(EX_LOOP)
#define THREAD EXMASK(EX_THREAD)
#define PROCESS EXMASK(EX_PROCESS)

const struct kind kind_table[] = {
	{.name = "sleep", .executor = EX_LOOP, .executors = LOOP,
	 .min_args = 1, .max_args = 1, .check = check_duration,
	 .start = loop_sleep_start, .stop = loop_sleep_stop},
	{.name = "exec", .executor = EX_LOOP, .executors = LOOP,
	 .min_args = 1, .max_args = -1, .start = loop_child_start,
	 .stop = loop_child_stop, .spawns = 1},
	{.name = "sh", .executor = EX_LOOP, .executors = LOOP,
	 .min_args = 1, .max_args = 1, .start = loop_child_start,
	 .stop = loop_child_stop, .spawns = 1},
	{.name = "cancel", .executor = EX_LOOP, .executors = LOOP,
	 .min_args = 1, .max_args = 1, .check = check_ref,
	 .start = sched_cancel_start},
	{.name = "http", .executor = EX_LOOP, .executors = LOOP,
	 .min_args = 1, .max_args = -1, .check = net_http_check,
	 .start = net_http_start, .stop = net_http_stop},
	{.name = "tcp", .executor = EX_LOOP, .executors = LOOP,
	 .min_args = 1, .max_args = 1, .check = net_tcp_check,
	 .start = net_tcp_start, .stop = net_tcp_stop},
	{.name = "resolve", .executor = EX_THREAD, .executors = THREAD,
	 .min_args = 1, .max_args = 1, .check = check_nonempty,
	 .run = run_resolve},
	{.name = "block", .executor = EX_THREAD, .executors = THREAD,
	 .min_args = 1, .max_args = 1, .check = check_duration,
	 .run = run_block},
	{.name = "read", .executor = EX_THREAD, .executors = THREAD,
	 .min_args = 1, .max_args = 1, .check = check_nonempty,
	 .run = run_read},
	{.name = "primes", .executor = EX_PROCESS, .executors = PROCESS,
	 .min_args = 1, .max_args = 1, .check = check_primes,
	 .run = run_primes},
	{.name = "spin", .executor = EX_PROCESS, .executors = PROCESS,
	 .min_args = 1, .max_args = 1, .check = check_duration,
	 .run = run_spin},
	{.name = "call", .executor = EX_PROCESS, .executors = PROCESS | THREAD,
	 .min_args = 2, .max_args = 3, .check = plugin_check_call,
	 .run = plugin_run_call, .file_relative = 1},
	{.name = "fn", .executor = EX_PROCESS, .executors = PROCESS | THREAD,
	 .min_args = 2, .max_args = 2, .run = api_run_fn, .hidden = 1},
};

const size_t kind_count = sizeof kind_table / sizeof kind_table[0];

/* The row called name, or NULL. */
const struct kind *
kind_find(const char *name)
{
	for (size_t i = 0; i < kind_count; i++)
		if (!kind_table[i].hidden &&
		    strcmp(kind_table[i].name, name) == 0)
			return &kind_table[i];
	return NULL;
}

/* The hidden row of libcorun's C-function jobs. */
const struct kind *
kind_fn(void)
{
	for (size_t i = 0; i < kind_count; i++)
		if (kind_table[i].run == api_run_fn)
			return &kind_table[i];
	return NULL;
}

/* The index of a row. */
int
kind_index(const struct kind *k)
{
	return (int)(k - kind_table);
}
