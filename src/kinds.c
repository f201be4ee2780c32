/*
 * kinds.c: the built-in job kinds as the job language sees them, one row
 * each, and their parse-time checks.
 *
 * Everything here is pure: the parser and its tests link this file without
 * any of the runtime. How each kind runs is bound to its row in
 * executors.c: the loop kinds' start/stop functions (executors.c, and
 * net_http.c, net_tcp.c for http and tcp), the run functions of the thread
 * and process kinds (work.c, plugin.c for call, api.c for fn).
 */
#include "config.h"

#include <string.h>

#include "kinds.h"
#include "net_check.h"
#include "parse.h"
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

/* Is s a C identifier? (ASCII only, whatever the locale.) */
static int
check_ident(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	      *s == '_'))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Check call's arguments at parse time: LIBRARY SYMBOL [ARG]. */
static int
check_call(int argc, char *const argv[], char *err, size_t errlen)
{
	(void)argc;
	if (argv[0][0] == '\0') {
		errfmt(err, errlen, "call: empty library path");
		return -1;
	}
	if (!check_ident(argv[1])) {
		errfmt(err, errlen, "call: bad symbol name '%s'", argv[1]);
		return -1;
	}
	return 0;
}

#define LOOP EXMASK(EX_LOOP)
#define THREAD EXMASK(EX_THREAD)
#define PROCESS EXMASK(EX_PROCESS)

const struct kind kind_table[KIND_COUNT] = {
	[KIND_SLEEP] = {.name = "sleep", .id = KIND_SLEEP, .executor = EX_LOOP,
	 .executors = LOOP, .min_args = 1, .max_args = 1,
	 .check = check_duration},
	[KIND_EXEC] = {.name = "exec", .id = KIND_EXEC, .executor = EX_LOOP,
	 .executors = LOOP, .min_args = 1, .max_args = -1, .spawns = 1,
	 .output = 1},
	[KIND_SH] = {.name = "sh", .id = KIND_SH, .executor = EX_LOOP,
	 .executors = LOOP, .min_args = 1, .max_args = 1, .spawns = 1,
	 .shell = 1, .output = 1},
	[KIND_CANCEL] = {.name = "cancel", .id = KIND_CANCEL,
	 .executor = EX_LOOP, .executors = LOOP, .min_args = 1, .max_args = 1,
	 .check = check_ref},
	[KIND_HTTP] = {.name = "http", .id = KIND_HTTP, .executor = EX_LOOP,
	 .executors = LOOP, .min_args = 1, .max_args = -1,
	 .check = net_check_http, .http = 1},
	[KIND_TCP] = {.name = "tcp", .id = KIND_TCP, .executor = EX_LOOP,
	 .executors = LOOP, .min_args = 1, .max_args = 1,
	 .check = net_check_tcp},
	[KIND_RESOLVE] = {.name = "resolve", .id = KIND_RESOLVE,
	 .executor = EX_THREAD, .executors = THREAD, .min_args = 1,
	 .max_args = 1, .check = check_nonempty},
	[KIND_BLOCK] = {.name = "block", .id = KIND_BLOCK,
	 .executor = EX_THREAD, .executors = THREAD, .min_args = 1,
	 .max_args = 1, .check = check_duration},
	[KIND_READ] = {.name = "read", .id = KIND_READ, .executor = EX_THREAD,
	 .executors = THREAD, .min_args = 1, .max_args = 1,
	 .check = check_nonempty},
	[KIND_PRIMES] = {.name = "primes", .id = KIND_PRIMES,
	 .executor = EX_PROCESS, .executors = PROCESS, .min_args = 1,
	 .max_args = 1, .check = check_primes},
	[KIND_SPIN] = {.name = "spin", .id = KIND_SPIN, .executor = EX_PROCESS,
	 .executors = PROCESS, .min_args = 1, .max_args = 1,
	 .check = check_duration},
	[KIND_CALL] = {.name = "call", .id = KIND_CALL, .executor = EX_PROCESS,
	 .executors = PROCESS | THREAD, .min_args = 2, .max_args = 3,
	 .check = check_call, .file_relative = 1},
	[KIND_FN] = {.name = "fn", .id = KIND_FN, .executor = EX_PROCESS,
	 .executors = PROCESS | THREAD, .min_args = 2, .max_args = 2,
	 .hidden = 1},
};

/* The row called name, or NULL. */
const struct kind *
kind_find(const char *name)
{
	for (size_t i = 0; i < KIND_COUNT; i++)
		if (!kind_table[i].hidden &&
		    strcmp(kind_table[i].name, name) == 0)
			return &kind_table[i];
	return NULL;
}
