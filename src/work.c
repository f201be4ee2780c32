/*
 * work.c: the blocking run functions of the built-in thread and process
 * kinds (resolve, block, read, primes, spin).
 *
 * They are called in pool threads and in worker processes: they take their
 * arguments, return a value or an error message, and touch nothing else (no
 * job state, no globals, no output). Their arguments were checked at parse
 * time (kinds.c), so a duration or a count here always converts.
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

#include "parse.h"
#include "util.h"
#include "work.h"

/* resolve HOST: every address getaddrinfo gives, space-separated, each
 * once, in the resolver's order. */
int
work_resolve(int argc, char *const argv[], struct buf *value, char *err,
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
int
work_block(int argc, char *const argv[], struct buf *value, char *err,
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
int
work_read(int argc, char *const argv[], struct buf *value, char *err,
	  size_t errlen)
{
	char chunk[IO_CHUNK];
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
int
work_primes(int argc, char *const argv[], struct buf *value, char *err,
	    size_t errlen)
{
	long long n;

	(void)argc, (void)err, (void)errlen;
	parse_count(argv[0], &n);
	buf_printf(value, "%lld", primes_count(n));
	return 0;
}

/* spin DUR: burn CPU for DUR of wall-clock time. */
int
work_spin(int argc, char *const argv[], struct buf *value, char *err,
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
