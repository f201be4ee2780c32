/*
 * crash.c: a corun plugin that misbehaves on request, for the tests.
 *
 *     call crash.so segv            dies of SIGSEGV (a real bad access)
 *     call crash.so abrt            dies of SIGABRT (abort)
 *     call crash.so fail [MSG]      fails with MSG (default "told to fail")
 *     call crash.so fail_quietly    fails without a message
 *     call crash.so echo [TEXT]     succeeds; the value is TEXT
 *     call crash.so count           "call N in pid P": N counts this
 *                                   library's count calls in its process,
 *                                   so it grows while a worker keeps the
 *                                   library loaded
 *     call crash.so flaky           fails on its first call in a process,
 *                                   then succeeds: "ok on call N"
 *     call crash.so nap SECS        sleeps, then succeeds
 *     call crash.so spin [SECS]     burns CPU for SECS, or forever
 *     call crash.so big BYTES       writes BYTES bytes of 'x' (to test the
 *                                   1 MiB output cap)
 *
 * With on=thread, segv and abrt take corun down with them (that is what
 * the process pool is for), and spin without SECS never gives its thread
 * back (a thread call cannot be interrupted).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corun-plugin.h"

CORUN_PLUGIN_DECLARE;

/* NULL, read at run time so the compiler cannot see the bad access. */
static int *volatile crash_nowhere;

static atomic_ulong crash_counted;
static atomic_ulong crash_flaky_calls;

/* SECS as a number of seconds; 0 when absent or bad. */
static double
crash_seconds(const char *arg)
{
	double d = strtod(arg, NULL);

	return d > 0 ? d : 0;
}

/* Seconds on the monotonic clock. */
static double
crash_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* segv: write through a null pointer. */
int
segv(const char *arg, size_t len, struct corun_out *out)
{
	(void)arg, (void)len, (void)out;
	*crash_nowhere = 1;
	return 0;
}

/* abrt: abort(). */
int
abrt(const char *arg, size_t len, struct corun_out *out)
{
	(void)arg, (void)len, (void)out;
	abort();
}

/* fail [MSG]: fail with MSG. */
int
fail(const char *arg, size_t len, struct corun_out *out)
{
	out->fail(out, len > 0 ? arg : "told to fail");
	return -1;
}

/* fail_quietly: fail without saying why. */
int
fail_quietly(const char *arg, size_t len, struct corun_out *out)
{
	(void)arg, (void)len, (void)out;
	return -1;
}

/* echo [TEXT]: the value is TEXT. */
int
echo(const char *arg, size_t len, struct corun_out *out)
{
	out->write(out, arg, len);
	return 0;
}

/* count: how many times count ran in this process, and the pid. */
int
count(const char *arg, size_t len, struct corun_out *out)
{
	char line[64];
	int n;

	(void)arg, (void)len;
	n = snprintf(line, sizeof line, "call %lu in pid %ld",
		     atomic_fetch_add(&crash_counted, 1) + 1, (long)getpid());
	out->write(out, line, (size_t)n);
	return 0;
}

/* flaky: fail the first call in this process, succeed afterwards. */
int
flaky(const char *arg, size_t len, struct corun_out *out)
{
	unsigned long n = atomic_fetch_add(&crash_flaky_calls, 1) + 1;
	char line[64];
	int w;

	(void)arg, (void)len;
	if (n == 1) {
		out->fail(out, "flaky: first call in this process");
		return -1;
	}
	w = snprintf(line, sizeof line, "ok on call %lu", n);
	out->write(out, line, (size_t)w);
	return 0;
}

/* nap SECS: sleep, then succeed. */
int
nap(const char *arg, size_t len, struct corun_out *out)
{
	double end = crash_now() + crash_seconds(arg);
	double left;

	(void)len, (void)out;
	while ((left = end - crash_now()) > 0) {
		struct timespec ts;

		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* spin [SECS]: burn CPU for SECS seconds, or forever without SECS. */
int
spin(const char *arg, size_t len, struct corun_out *out)
{
	double secs = crash_seconds(arg), end = crash_now() + secs;
	volatile unsigned long x = 0;

	(void)len, (void)out;
	while (secs == 0 || crash_now() < end)
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005UL + 1;
	return 0;
}

/* big BYTES: write BYTES bytes of 'x' in 4 KiB pieces, stopping when the
 * host says the value is full. */
int
big(const char *arg, size_t len, struct corun_out *out)
{
	unsigned long long left = strtoull(arg, NULL, 10);
	char chunk[4096];

	(void)len;
	memset(chunk, 'x', sizeof chunk);
	while (left > 0) {
		size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;

		if (out->write(out, chunk, n) != 0)
			break;
		left -= n;
	}
	return 0;
}
