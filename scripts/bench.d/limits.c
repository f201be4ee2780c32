/*
 * limits.c: the machine's physical limits that bound corun's benchmarks.
 *
 *   limits pipe-proc N [A B]    N one-byte round trips between two
 *                          processes over a pair of pipes, the first pinned
 *                          to CPU A and the second to CPU B when given;
 *                          prints microseconds per trip
 *   limits pipe-thread N [A B]  the same between two threads of one process
 *   limits spawn N P PROG  N posix_spawn+waitpid of "PROG I" (I = 1..N, as
 *                          W1's jobs) with at most P running at once;
 *                          prints microseconds per spawn and the total
 *                          seconds
 *   limits fork N PROG     N fork+execv+waitpid of PROG, one at a time;
 *                          prints microseconds per child
 *   limits lag SECS        a 10 ms periodic sleep for SECS seconds; prints
 *                          how late it woke: p50, p99 and max in ms
 *   limits spin SECS       busy-loops for SECS seconds (load for "lag")
 *
 * Built by scripts/bench with the system compiler; not part of corun.
 * Single-threaded except pipe-thread (one extra thread, joined at the end).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The monotonic clock in seconds. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Print a message with errno and exit 1. */
static void
die(const char *what)
{
	fprintf(stderr, "limits: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Read exactly one byte from fd or die. */
static void
get1(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		die("read");
}

/* Write exactly one byte to fd or die. */
static void
put1(int fd)
{
	if (write(fd, "x", 1) != 1)
		die("write");
}

/* Pin the calling thread to cpu; a negative cpu leaves it free. */
static void
pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0)
		die("sched_setaffinity");
}

/* The echo side of a ping-pong: the fds it reads from and writes to. */
struct echo {
	int in, out;
	long n;
	int cpu;
};

/* Echo n bytes back, one at a time (the thread body of pipe-thread). */
static void *
echo_run(void *arg)
{
	struct echo *e = arg;
	long i;

	pin(e->cpu);
	for (i = 0; i < e->n; i++) {
		get1(e->in);
		put1(e->out);
	}
	return NULL;
}

/* Time n round trips over two pipes to a child process or a thread, this
 * side on cpu a and the other on cpu b (negative: free). */
static void
pipe_pingpong(long n, int threaded, int a, int b)
{
	int ab[2], ba[2];
	struct echo e;
	pthread_t th;
	pid_t pid = 0;
	double t0, t;
	long i;

	if (pipe(ab) < 0 || pipe(ba) < 0)
		die("pipe");
	e.in = ab[0];
	e.out = ba[1];
	e.n = n;
	e.cpu = b;
	pin(a);
	if (threaded) {
		if (pthread_create(&th, NULL, echo_run, &e) != 0)
			die("pthread_create");
	} else {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			echo_run(&e);
			_exit(0);
		}
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		put1(ab[1]);
		get1(ba[0]);
	}
	t = now() - t0;
	if (threaded)
		pthread_join(th, NULL);
	else
		waitpid(pid, NULL, 0);
	printf("%.2f\n", t / (double)n * 1e6);
}

/* Time n spawns of prog with at most p children at once. */
static void
spawn_many(long n, long p, const char *prog)
{
	char num[24];
	char *argv[] = {(char *)prog, num, NULL};
	long started = 0, running = 0;
	double t0, t;
	pid_t pid;

	t0 = now();
	while (started < n || running > 0) {
		if (started < n && running < p) {
			/* PROG N, as W1 runs it (true with an argument sets
			 * up its locale: twice the work of a bare true). */
			snprintf(num, sizeof num, "%ld", started + 1);
			if (posix_spawn(&pid, prog, NULL, NULL, argv,
					environ) != 0)
				die("posix_spawn");
			started++;
			running++;
			continue;
		}
		if (wait(NULL) < 0)
			die("wait");
		running--;
	}
	t = now() - t0;
	printf("%.1f %.3f\n", t / (double)n * 1e6, t);
}

/* Time n fork+exec+wait of prog, one at a time. */
static void
fork_many(long n, const char *prog)
{
	char *argv[] = {(char *)prog, NULL};
	double t0, t;
	pid_t pid;
	long i;

	t0 = now();
	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execv(prog, argv);
			_exit(127);
		}
		if (waitpid(pid, NULL, 0) < 0)
			die("waitpid");
	}
	t = now() - t0;
	printf("%.1f\n", t / (double)n * 1e6);
}

/* Order two doubles (for qsort). */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sleep 10 ms at a time for secs seconds; print the lateness quantiles. */
static void
lag(double secs)
{
	size_t n = (size_t)(secs / 0.01), i;
	double *late = calloc(n ? n : 1, sizeof(*late));
	struct timespec ts = {0, 10 * 1000 * 1000};
	double due;

	if (!late || n == 0)
		die("lag");
	for (i = 0; i < n; i++) {
		due = now() + 0.01;
		nanosleep(&ts, NULL);
		late[i] = (now() - due) * 1e3;
	}
	qsort(late, n, sizeof(*late), cmp_double);
	printf("%.3f %.3f %.3f\n", late[n / 2], late[n * 99 / 100],
	       late[n - 1]);
	free(late);
}

/* Busy-loop for secs seconds of wall-clock time. */
static void
spin(double secs)
{
	double end = now() + secs;

	while (now() < end)
		;
}

/* Parse the mode and its numbers, and run it. */
int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	int a = argc == 5 ? atoi(argv[3]) : -1;
	int b = argc == 5 ? atoi(argv[4]) : -1;

	if (!strcmp(mode, "pipe-proc") && (argc == 3 || argc == 5))
		pipe_pingpong(atol(argv[2]), 0, a, b);
	else if (!strcmp(mode, "pipe-thread") && (argc == 3 || argc == 5))
		pipe_pingpong(atol(argv[2]), 1, a, b);
	else if (!strcmp(mode, "spawn") && argc == 5)
		spawn_many(atol(argv[2]), atol(argv[3]), argv[4]);
	else if (!strcmp(mode, "fork") && argc == 4)
		fork_many(atol(argv[2]), argv[3]);
	else if (!strcmp(mode, "lag") && argc == 3)
		lag(atof(argv[2]));
	else if (!strcmp(mode, "spin") && argc == 3)
		spin(atof(argv[2]));
	else {
		fprintf(stderr, "usage: limits pipe-proc|pipe-thread N [A B] | "
				"spawn N P PROG | fork N PROG | lag SECS | "
				"spin SECS\n");
		return 2;
	}
	return 0;
}
