/*
 * options.c: libcorun's options (include/corun.h): their defaults, the
 * size check that lets struct corun_options grow, and the value syntax of
 * corun(1)'s options for programs that read them as text (the command).
 *
 * How the struct grows (corun(3), "OPTIONS"): corun_options_init is a macro
 * that passes sizeof the struct the program was compiled with; the library
 * records it in the size field. Fields are only ever added at the end, so
 * options_import can take a smaller struct from a program built against an
 * older corun.h (the fields it lacks keep their defaults) and refuses one
 * larger than the library knows (EINVAL). Nothing here keeps state.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corun.h"
#include "options.h"
#include "parse.h"
#include "retry.h"

/* Fill in the whole struct's defaults (this library's size). */
static void
options_defaults(struct corun_options *o)
{
	int cpus = util_cpus();

	memset(o, 0, sizeof *o);
	o->size = sizeof *o;
	o->procs = cpus;
	o->threads = CORUN_DEFAULT_THREADS;
	o->jobs = cpus;
	o->max_inflight = CORUN_DEFAULT_MAX_INFLIGHT;
	o->timeout = -1;
	o->retries = CORUN_DEFAULT_RETRIES;
	(void)parse_backoff(CORUN_DEFAULT_BACKOFF, &o->backoff,
			    &o->backoff_max);
	(void)parse_duration(CORUN_DEFAULT_GRACE, &o->grace);
	o->worker_nice = CORUN_DEFAULT_WORKER_NICE;
	o->output_buffer = (size_t)CORUN_DEFAULT_OUTPUT_BUFFER_MB << 20;
	o->delimiter = '\n';
	o->max_args = 1;
	o->block = (size_t)CORUN_DEFAULT_BLOCK_MB << 20;
	(void)parse_duration(CORUN_DEFAULT_METRICS_INTERVAL,
			     &o->metrics_interval);
	o->deadline = -1;
	o->load = -1;
	(void)parse_duration(CORUN_DEFAULT_HOST_TIMEOUT, &o->host_timeout);
	o->max_host_losses = CORUN_DEFAULT_MAX_HOST_LOSSES;
}

/* Fill in the documented defaults of the first size bytes. */
void
corun_options_init_size(struct corun_options *o, size_t size)
{
	struct corun_options d;

	options_defaults(&d);
	if (size > sizeof d)
		size = sizeof d;
	if (size < offsetof(struct corun_options, size) + sizeof d.size)
		return;
	memcpy(o, &d, size);
	o->size = size;
}

/* Copy a program's options into a whole struct of this library, and
 * check what the library reads as text (retry_on). */
int
options_import(struct corun_options *dst, const struct corun_options *src,
	       char *err, size_t errlen)
{
	char why[128];

	options_defaults(dst);
	if (src->size < offsetof(struct corun_options, size) + sizeof src->size ||
	    src->size > sizeof *dst) {
		snprintf(err, errlen, "options not set up by corun_options_init");
		errno = EINVAL;
		return -1;
	}
	memcpy(dst, src, src->size);
	dst->size = sizeof *dst;
	if (dst->retry_on != NULL &&
	    retry_check(dst->retry_on, why, sizeof why) == -1) {
		snprintf(err, errlen, "--retry-on: %s", why);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* A count (decimal digits). */
int
corun_parse_count(const char *s, long long *n)
{
	if (parse_count(s, n) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* A duration ("250ms", "1.5", "2m"...) in seconds. */
int
corun_parse_duration(const char *s, double *seconds)
{
	if (parse_duration(s, seconds) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* --backoff's "DUR" or "DUR:MAX". */
int
corun_parse_backoff(const char *s, double *base, double *max)
{
	if (parse_backoff(s, base, max) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* A group name: an id, or all digits. */
int
corun_parse_group(const char *s)
{
	if (parse_id_valid(s) ||
	    (s[0] != '\0' && strspn(s, "0123456789") == strlen(s)))
		return 0;
	errno = EINVAL;
	return -1;
}

/* A size: digits with an optional K, M or G (KiB, MiB, GiB), from 1
 * byte to 1 TiB. */
int
corun_parse_size(const char *s, size_t *bytes)
{
	static const char units[] = "KMG";
	size_t len = strlen(s);
	const char *u = len > 0 ? strchr(units, s[len - 1]) : NULL;
	int shift = u != NULL ? 10 * (int)(u - units + 1) : 0;
	char digits[32];
	long long n;

	len -= u != NULL;
	if (len == 0 || len >= sizeof digits)
		goto bad;
	memcpy(digits, s, len);
	digits[len] = '\0';
	if (parse_count(digits, &n) == -1 || n < 1 ||
	    n > (1LL << 40) >> shift)
		goto bad;
	*bytes = (size_t)n << shift;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* --rate's "N/DUR". */
int
corun_parse_rate(const char *s, int *n, double *per)
{
	const char *slash = strchr(s, '/');
	char digits[24];
	long long v;
	double d;

	if (slash == NULL || slash == s ||
	    (size_t)(slash - s) >= sizeof digits)
		goto bad;
	memcpy(digits, s, (size_t)(slash - s));
	digits[slash - s] = '\0';
	if (parse_count(digits, &v) == -1 || v < 1 || v > 1000000 ||
	    parse_duration(slash + 1, &d) == -1 || !(d > 0))
		goto bad;
	*n = (int)v;
	*per = d;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* N, N% of the online CPUs, +N or -N: the value, at least 1 but for a
 * plain 0; or -1. */
static double
options_cpus_relative(const char *s)
{
	int cpus = util_cpus();
	size_t len = strlen(s);
	char *end;
	double v;

	if (len == 0 || strchr("+-.0123456789", s[0]) == NULL ||
	    strspn(s, "+-.0123456789%") != len)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v) || fabs(v) > 1e6)
		return -1;
	if (*end == '%' && end[1] == '\0' && s[0] != '+' && s[0] != '-')
		return fmax(1, floor((double)cpus * v / 100));
	if (*end != '\0')
		return -1;
	if (s[0] == '+' || s[0] == '-')
		return fmax(1, (double)cpus + v);
	return v;
}

/* -j's value. */
int
corun_parse_jobs(const char *s, int *n)
{
	double v = options_cpus_relative(s);

	if (v < 0 || v != floor(v) || v > 1000000 ||
	    (strchr(s, '.') != NULL)) {
		errno = EINVAL;
		return -1;
	}
	*n = (int)v;
	return 0;
}

/* --load's value. */
int
corun_parse_load(const char *s, double *load)
{
	double v = options_cpus_relative(s);

	if (v < 0) {
		errno = EINVAL;
		return -1;
	}
	*load = v;
	return 0;
}

/* A retry-on list: timeout, signal, start, exit:N[-M], http:N[-M],
 * http:Nxx, comma-separated. */
int
corun_parse_retry_on(const char *s)
{
	char err[128];

	if (retry_check(s, err, sizeof err) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}
