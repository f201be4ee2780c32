/*
 * embed.c: a small program that uses libcorun.
 *
 * It runs a shell command on the loop, a blocking call in the thread pool,
 * and one of its own C functions in the process pool, all at once, then
 * prints what each came to. Build it against the installed library:
 *
 *     cc -o embed embed.c $(pkg-config --cflags --libs corun)
 *
 * Exit status 0 when every job ended ok.
 */
#include <stdio.h>
#include <string.h>

#include <corun.h>

/* A C function for the process pool: the sum of 1..N, N given as text. */
static int
sum_to(const char *arg, size_t len, struct corun_out *out)
{
	unsigned long long n = 0, sum = 0;
	char text[32];

	for (size_t i = 0; i < len; i++) {
		if (arg[i] < '0' || arg[i] > '9') {
			out->fail(out, "sum_to: not a number");
			return -1;
		}
		n = n * 10 + (unsigned long long)(arg[i] - '0');
	}
	for (unsigned long long i = 1; i <= n; i++)
		sum += i;
	snprintf(text, sizeof text, "%llu", sum);
	out->write(out, text, strlen(text));
	return 0;
}

/* Print a future's outcome when it is done. */
static void
show(struct corun_future *f, void *name)
{
	const char *value = corun_future_value(f, NULL);

	/* The first line of the value is enough here. */
	if (corun_future_status(f) == CORUN_OK)
		printf("%s: ok: %.*s\n", (const char *)name,
		       (int)strcspn(value, "\n"), value);
	else
		printf("%s: not ok: %s\n", (const char *)name,
		       corun_future_error(f));
}

int
main(void)
{
	struct corun_options opts;
	struct corun *r;
	struct corun_future *f[3];
	char err[256];
	size_t bad;

	/* Before any thread of ours: the runner forks its fork server. */
	corun_options_init(&opts);
	opts.procs = 2;
	r = corun_new(&opts);
	if (r == NULL)
		return 2;

	f[0] = corun_submit(r, "timeout=5s sh 'echo hello from a child'", err,
			    sizeof err);
	f[1] = corun_submit(r, "read /etc/passwd", err, sizeof err);
	f[2] = corun_submit_fn(r, CORUN_PROCESS, sum_to, "1000000", 7, 10.0);
	if (f[0] == NULL || f[1] == NULL || f[2] == NULL) {
		fprintf(stderr, "embed: %s\n", err);
		return 2;
	}
	corun_future_on_done(f[0], show, "sh");
	corun_future_on_done(f[1], show, "read");
	corun_future_on_done(f[2], show, "sum_to");

	bad = corun_gather(r, f, 3);

	for (int i = 0; i < 3; i++)
		corun_future_free(f[i]);
	corun_free(r);
	return bad == 0 ? 0 : 1;
}
