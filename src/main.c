/*
 * main.c: turn argv into corun options and run them.
 *
 * It uses only libcorun's API (include/corun.h): option values are read
 * with corun_parse_*, and the defaults the help text shows are corun.h's.
 */
#include "config.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corun.h"
#include "main.h"

enum {
	OPT_MAX_INFLIGHT = 256,
	OPT_LIMIT,
	OPT_BACKOFF,
	OPT_GRACE,
	OPT_FAIL_FAST,
	OPT_JSON,
	OPT_JOBLOG,
	OPT_RESUME,
	OPT_PROGRESS,
	OPT_STATS,
	OPT_WORKER_NICE,
	OPT_OUTPUT_BUFFER,
	OPT_COLSEP,
	OPT_MAX_ARGS,
	OPT_SH,
	OPT_TAGSTRING,
	OPT_PIPE,
	OPT_BLOCK,
	OPT_RECEND,
	OPT_RECSTART,
	/* Output modes: */
	OPT_GROUP,
	OPT_LINE_BUFFER,
	OPT_RECORDS,
	OPT_TAG,
	OPT_RESULTS,
	/* Live metrics. */
	OPT_METRICS,
	OPT_METRICS_INTERVAL,
	OPT_METRICS_ADDR,
	/* Pacing. */
	OPT_DEADLINE,
	OPT_RATE,
	OPT_DELAY,
	OPT_LOAD,
	OPT_MEMFREE,
	/* Retry rules. */
	OPT_RETRY_ON,
	/* Remote workers. */
	OPT_HOSTS_FILE,
	OPT_LAUNCHER,
	OPT_HOST_TIMEOUT,
	OPT_MAX_HOST_LOSSES,
	OPT_ENV,
	OPT_WORKDIR,
	OPT_BASEFILE,
	OPT_SERVE,
};

static const struct option longopts[] = {
	{"procs", required_argument, NULL, 'P'},
	{"threads", required_argument, NULL, 'T'},
	{"jobs", required_argument, NULL, 'j'},
	{"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"worker-nice", required_argument, NULL, OPT_WORKER_NICE},
	{"output-buffer", required_argument, NULL, OPT_OUTPUT_BUFFER},
	{"timeout", required_argument, NULL, 't'},
	{"retries", required_argument, NULL, 'r'},
	{"backoff", required_argument, NULL, OPT_BACKOFF},
	{"grace", required_argument, NULL, OPT_GRACE},
	{"keep-order", no_argument, NULL, 'k'},
	{"fail-fast", no_argument, NULL, OPT_FAIL_FAST},
	{"json", no_argument, NULL, OPT_JSON},
	{"joblog", required_argument, NULL, OPT_JOBLOG},
	{"resume", no_argument, NULL, OPT_RESUME},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"stats", no_argument, NULL, OPT_STATS},
	{"dry-run", no_argument, NULL, 'n'},
	{"pipe", no_argument, NULL, OPT_PIPE},
	{"block", required_argument, NULL, OPT_BLOCK},
	{"recend", required_argument, NULL, OPT_RECEND},
	{"recstart", required_argument, NULL, OPT_RECSTART},
	/* Output modes: */
	{"group", no_argument, NULL, OPT_GROUP},
	{"line-buffer", no_argument, NULL, OPT_LINE_BUFFER},
	{"lb", no_argument, NULL, OPT_LINE_BUFFER},
	{"ungroup", no_argument, NULL, 'u'},
	{"records", no_argument, NULL, OPT_RECORDS},
	{"tag", no_argument, NULL, OPT_TAG},
	{"results", required_argument, NULL, OPT_RESULTS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{"command", required_argument, NULL, 'c'},
	{"arg-file", required_argument, NULL, 'a'},
	{"null", no_argument, NULL, '0'},
	{"delimiter", required_argument, NULL, 'd'},
	{"colsep", required_argument, NULL, OPT_COLSEP},
	{"max-args", required_argument, NULL, OPT_MAX_ARGS},
	{"sh", no_argument, NULL, OPT_SH},
	{"tagstring", required_argument, NULL, OPT_TAGSTRING},
	{"metrics", required_argument, NULL, OPT_METRICS},
	{"metrics-interval", required_argument, NULL, OPT_METRICS_INTERVAL},
	{"metrics-addr", required_argument, NULL, OPT_METRICS_ADDR},
	{"deadline", required_argument, NULL, OPT_DEADLINE},
	{"rate", required_argument, NULL, OPT_RATE},
	{"delay", required_argument, NULL, OPT_DELAY},
	{"load", required_argument, NULL, OPT_LOAD},
	{"memfree", required_argument, NULL, OPT_MEMFREE},
	{"retry-on", required_argument, NULL, OPT_RETRY_ON},
	{"hosts", required_argument, NULL, 'S'},
	{"hosts-file", required_argument, NULL, OPT_HOSTS_FILE},
	{"launcher", required_argument, NULL, OPT_LAUNCHER},
	{"host-timeout", required_argument, NULL, OPT_HOST_TIMEOUT},
	{"max-host-losses", required_argument, NULL, OPT_MAX_HOST_LOSSES},
	{"env", required_argument, NULL, OPT_ENV},
	{"workdir", required_argument, NULL, OPT_WORKDIR},
	{"basefile", required_argument, NULL, OPT_BASEFILE},
	{"serve", no_argument, NULL, OPT_SERVE},
	{NULL, 0, NULL, 0},
};

/* The long name of the option getopt_long returned as c. */
static const char *
longopt_name(int c)
{
	const struct option *p = longopts;

	while (p->name != NULL && p->val != c)
		p++;
	return p->name != NULL ? p->name : "?";
}

/* Complain about the command line and exit 2. */
_Noreturn void
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "corun: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'corun --help' for more information.\n");
	exit(2);
}

/* A count option in [min, max]. */
static int
opt_count(const char *name, const char *arg, long long min, long long max)
{
	long long n;

	if (corun_parse_count(arg, &n) == -1 || n < min || n > max) {
		fprintf(stderr,
			"corun: %s: '%s' is not a whole number from %lld to "
			"%lld\nTry 'corun --help' for more information.\n",
			name, arg, min, max);
		exit(2);
	}
	return (int)n;
}

/* A size option (corun_parse_size). */
static size_t
opt_size(const char *name, const char *arg)
{
	size_t n;

	if (corun_parse_size(arg, &n) == -1) {
		fprintf(stderr,
			"corun: %s: bad size '%s' (bytes, or a number with K, M "
			"or G, at most 1024G)\nTry 'corun --help' for more "
			"information.\n",
			name, arg);
		exit(2);
	}
	return n;
}

/* A duration option. */
double
opt_duration(const char *name, const char *arg)
{
	double d;

	if (corun_parse_duration(arg, &d) == -1) {
		fprintf(stderr,
			"corun: %s: bad duration '%s'\nTry 'corun --help' for "
			"more information.\n",
			name, arg);
		exit(2);
	}
	return d;
}

/* realloc(p, n), or exit 2 when there is no memory. */
void *
main_alloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		fprintf(stderr, "corun: out of memory\n");
		exit(2);
	}
	return p;
}

/* The group name of "GROUP=..." (eq is its '='), a copy; a bad one is
 * the usage error msg. */
static char *
opt_group(const char *arg, const char *eq, const char *msg)
{
	char *group = main_alloc(NULL, (size_t)(eq - arg) + 1);

	memcpy(group, arg, (size_t)(eq - arg));
	group[eq - arg] = '\0';
	if (corun_parse_group(group) == -1)
		usage_error(msg, arg);
	return group;
}

/* --limit GROUP=N, appended to the options (main frees them: limits_free).
 * A group named twice is a usage error, as a key given twice in a job line
 * is. */
static void
opt_limit(struct corun_options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *group;

	if (eq == NULL)
		usage_error("--limit: expected GROUP=N, got '%s'", arg);
	group = opt_group(arg, eq, "--limit: bad group name in '%s'");
	for (size_t i = 0; i < o->nlimits; i++)
		if (strcmp(o->limits[i].group, group) == 0)
			usage_error("--limit: group '%s' named twice", group);
	o->limits = main_alloc(o->limits, (o->nlimits + 1) * sizeof *o->limits);
	o->limits[o->nlimits].group = group;
	o->limits[o->nlimits].n = opt_count("--limit", eq + 1, 1, 1000000);
	o->nlimits++;
}

/* --rate N/DUR or GROUP=N/DUR, appended to the options (main frees
 * them: limits_free). The whole run's rate, or a group's, given twice is
 * a usage error. */
static void
opt_rate(struct corun_options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct corun_rate *rates = (struct corun_rate *)o->rates, r = {0};
	char *group =
	    eq != NULL ? opt_group(arg, eq, "--rate: bad group name in '%s'")
		       : NULL;

	if (corun_parse_rate(eq != NULL ? eq + 1 : arg, &r.n, &r.per) == -1)
		usage_error("--rate: expected [GROUP=]N/DUR (N from 1 to "
			    "1000000, DUR more than 0), got '%s'",
			    arg);
	for (size_t i = 0; i < o->nrates; i++)
		if (group == NULL ? rates[i].group == NULL
				  : rates[i].group != NULL &&
					strcmp(rates[i].group, group) == 0)
			usage_error("--rate: a rate for %s given twice",
				    group != NULL ? group : "the whole run");
	r.group = group;
	rates = main_alloc(rates, (o->nrates + 1) * sizeof *rates);
	rates[o->nrates++] = r;
	o->rates = rates;
}

/* Free what opt_limit and opt_rate allocated (the group names are their
 * copies). */
static void
limits_free(struct corun_options *o)
{
	for (size_t i = 0; i < o->nlimits; i++)
		free((char *)o->limits[i].group);
	free(o->limits);
	o->limits = NULL;
	o->nlimits = 0;
	for (size_t i = 0; i < o->nrates; i++)
		free((char *)o->rates[i].group);
	free((void *)o->rates);
	o->rates = NULL;
	o->nrates = 0;
}

/* -d's delimiter: one byte, or \n \t \r \0 \\ \xHH. */
static int
opt_delimiter(const char *arg)
{
	static const char esc[] = "n\nt\tr\r0\0\\\\";
	unsigned hex;
	char extra;

	if (arg[0] != '\0' && arg[1] == '\0')
		return (unsigned char)arg[0];
	if (arg[0] == '\\' && arg[1] != '\0' && arg[2] == '\0')
		for (size_t i = 0; i + 1 < sizeof esc; i += 2)
			if (esc[i] == arg[1])
				return (unsigned char)esc[i + 1];
	if (strncmp(arg, "\\x", 2) == 0 && strlen(arg) == 4 &&
	    sscanf(arg + 2, "%2x%c", &hex, &extra) == 1)
		return (int)hex;
	usage_error("--delimiter: expected one byte or \\n, \\t, \\r, \\0, "
		    "\\\\ or \\xHH, got '%s'", arg);
}

/* The argument lists after the options (corun(1), COMMAND MODE): each
 * ":::" starts a list of inputs, each file after "::::" is one; a "+"
 * pairs the list with the one before. Appended to *src (main frees the
 * array; the strings are argv's). */
static void
opt_sources(char *argv[], int argc, struct corun_source **src, size_t *n)
{
	for (int i = 0; i < argc;) {
		int files = strncmp(argv[i], "::::", 4) == 0;
		int linked = argv[i][files ? 4 : 3] == '+';
		int first = ++i;

		while (i < argc && strcmp(argv[i], ":::") != 0 &&
		       strcmp(argv[i], ":::+") != 0 &&
		       strcmp(argv[i], "::::") != 0 &&
		       strcmp(argv[i], "::::+") != 0)
			i++;
		if (files && i == first)
			usage_error("%s needs a file", argv[first - 1]);
		for (int f = first; f < i || (!files && f == first); f++) {
			struct corun_source *s;

			*src = main_alloc(*src, (*n + 1) * sizeof **src);
			s = &(*src)[(*n)++];
			memset(s, 0, sizeof *s);
			s->linked = linked;
			if (files) {
				s->file = argv[f];
				continue;
			}
			s->args = argv + first;
			s->nargs = (size_t)(i - first);
			break;
		}
	}
}

/* Is a an argument list separator (:::, :::+, ::::, ::::+)? */
static int
is_list_sep(const char *a)
{
	return strcmp(a, ":::") == 0 || strcmp(a, ":::+") == 0 ||
	       strcmp(a, "::::") == 0 || strcmp(a, "::::+") == 0;
}

/* libev could not get what it needs from the system (fds, memory): the
 * command ends with exit status 2 (the library leaves libev's callback,
 * which aborts, to the program: corun(3)). */
static void
main_syserr(const char *msg)
{
	fprintf(stderr, "corun: %s: %s\n", msg, strerror(errno));
	exit(2);
}

/* Make sure fds 0, 1 and 2 are open before anything else takes them: a
 * closed one would be reused by the first fd corun makes (the fork
 * server's socket), which would then be read as jobs or written records
 * to. Closed standard input or error become /dev/null; without standard
 * output there is nowhere for records to go. */
static void
std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			exit(2);
		if (fd == 1) {
			fprintf(stderr, "corun: standard output is closed\n");
			exit(2);
		}
	}
}

/*
 * The long options corun had before new ones began to share their
 * prefixes. Scripts may abbreviate them (getopt_long takes any unique
 * prefix): each prefix that was unique among these keeps meaning the same
 * option whatever options come later (--res stays --resume):
 * abbrev_expand spells it out. tests/cli.sh holds the same list.
 */
static const char *const abbrev_kept[] = {
	"procs", "threads", "jobs", "max-inflight", "limit", "worker-nice",
	"output-buffer", "timeout", "retries", "backoff", "grace", "keep-order",
	"fail-fast", "json", "joblog", "resume", "progress", "stats", "dry-run",
	"help", "version",
};

/* The entry of longopts named name (len bytes of it), or NULL. */
static const struct option *
longopt_find(const char *name, size_t len)
{
	for (const struct option *o = longopts; o->name != NULL; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

/* The kept option a prefix of len bytes abbreviates, if it was unique
 * among abbrev_kept and no longer is among longopts; else NULL. */
static const struct option *
abbrev_old(const char *p, size_t len)
{
	const char *hit = NULL;
	int now = 0;

	for (size_t i = 0; i < sizeof abbrev_kept / sizeof *abbrev_kept; i++)
		if (strncmp(abbrev_kept[i], p, len) == 0) {
			if (hit != NULL)
				return NULL; /* ambiguous before */
			hit = abbrev_kept[i];
		}
	for (const struct option *o = longopts; o->name != NULL; o++)
		now += strncmp(o->name, p, len) == 0;
	return hit != NULL && now > 1 ? longopt_find(hit, strlen(hit)) : NULL;
}

/*
 * Spell out the old abbreviations (abbrev_kept) in argv before getopt_long
 * sees them, so that each names what it named before and messages show
 * the whole name. Option values are skipped; "--" and an argument list
 * (":::...") end the options. The new strings live for the whole run.
 */
static void
abbrev_expand(int argc, char *argv[], const char *shortopts)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *sc;
		const struct option *o;
		size_t len;

		if (strcmp(a, "--") == 0 || strncmp(a, ":::", 3) == 0)
			return;
		if (a[0] != '-' || a[1] == '\0')
			continue;
		if (a[1] != '-') { /* a cluster of short options */
			for (a++; *a != '\0'; a++)
				if ((sc = strchr(shortopts, *a)) != NULL &&
				    sc[1] == ':') {
					i += a[1] == '\0';
					break;
				}
			continue;
		}
		a += 2;
		eq = strchr(a, '=');
		len = eq != NULL ? (size_t)(eq - a) : strlen(a);
		if ((o = longopt_find(a, len)) == NULL &&
		    (o = abbrev_old(a, len)) != NULL) {
			size_t n = strlen(o->name), rest = strlen(a + len);
			char *full = main_alloc(NULL, 2 + n + rest + 1);

			memcpy(full, "--", 2);
			memcpy(full + 2, o->name, n);
			memcpy(full + 2 + n, a + len, rest + 1);
			argv[i] = full;
		}
		if (o != NULL && o->has_arg == required_argument && eq == NULL)
			i++;
	}
}

int
main(int argc, char *argv[])
{
	struct corun_options o;
	static const char shortopts[] = "P:T:j:t:r:knhVc:a:0d:uS:";
	struct corun_source *src = NULL;
	size_t nsrc = 0;
	char **inputs;
	size_t ninputs = 0, nstdin = 0;
	int c, lists;

	std_fds();
	ev_set_syserr_cb(main_syserr);
	corun_options_init(&o);
	o.handle_signals = 1;
	/* Argument lists are never options: getopt_long sees only what comes
	 * before the first. */
	for (lists = 1; lists < argc && !is_list_sep(argv[lists]); lists++)
		;
	abbrev_expand(lists, argv, shortopts);
	while ((c = getopt_long(lists, argv, shortopts, longopts,
				NULL)) != -1) {
		switch (c) {
		case 'P':
			o.procs = opt_count("--procs", optarg, 1, 4096);
			break;
		case 'T':
			o.threads = opt_count("--threads", optarg, 1, 4096);
			break;
		case 'j':
			if (corun_parse_jobs(optarg, &o.jobs) == -1)
				usage_error("--jobs: '%s' is not N, N%%, +N, -N "
					    "or 0",
					    optarg);
			break;
		case OPT_MAX_INFLIGHT:
			o.max_inflight =
			    opt_count("--max-inflight", optarg, 1, 100000000);
			break;
		case OPT_LIMIT:
			opt_limit(&o, optarg);
			break;
		case OPT_DEADLINE:
			o.deadline = opt_duration("--deadline", optarg);
			break;
		case OPT_RATE:
			opt_rate(&o, optarg);
			break;
		case OPT_DELAY:
			o.delay = opt_duration("--delay", optarg);
			break;
		case OPT_LOAD:
			if (corun_parse_load(optarg, &o.load) == -1)
				usage_error("--load: '%s' is not a number, N%%, "
					    "+N or -N",
					    optarg);
			break;
		case OPT_MEMFREE:
			o.memfree = opt_size("--memfree", optarg);
			break;
		case OPT_WORKER_NICE:
			o.worker_nice = opt_count("--worker-nice", optarg, 0, 19);
			break;
		case OPT_OUTPUT_BUFFER:
			o.output_buffer = opt_size("--output-buffer", optarg);
			break;
		case 't':
			o.timeout = opt_duration("--timeout", optarg);
			break;
		case 'r':
			o.retries = opt_count("--retries", optarg, 0, 1000000);
			break;
		case OPT_BACKOFF:
			if (corun_parse_backoff(optarg, &o.backoff,
						&o.backoff_max) == -1)
				usage_error("--backoff: bad value '%s'", optarg);
			break;
		case OPT_GRACE:
			o.grace = opt_duration("--grace", optarg);
			break;
		case 'k':
			o.keep_order = 1;
			break;
		case OPT_FAIL_FAST:
			o.fail_fast = 1;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_JOBLOG:
			o.joblog = optarg;
			break;
		case OPT_RESUME:
			o.resume = 1;
			break;
		case OPT_PROGRESS:
			o.progress = 1;
			break;
		case OPT_STATS:
			o.stats = 1;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'c':
			o.command = optarg;
			break;
		case 'a':
			src = main_alloc(src, (nsrc + 1) * sizeof *src);
			memset(&src[nsrc], 0, sizeof *src);
			src[nsrc++].file = optarg;
			break;
		case '0':
			o.delimiter = '\0';
			break;
		case 'd':
			o.delimiter = opt_delimiter(optarg);
			break;
		case OPT_COLSEP:
			o.colsep = optarg;
			break;
		case OPT_MAX_ARGS:
			o.max_args = opt_count("--max-args", optarg, 1, 1000000);
			break;
		case OPT_SH:
			o.shell_lines = 1;
			break;
		case OPT_TAGSTRING:
			o.tagstring = optarg;
			break;
		case OPT_PIPE:
			o.pipe = 1;
			break;
		case OPT_BLOCK:
			/* -N: N blocks per job slot (a regular file). */
			o.block_parts = optarg[0] == '-'
			    ? opt_count("--block -N", optarg + 1, 1, 1000000)
			    : 0;
			o.block = o.block_parts > 0
			    ? (size_t)CORUN_DEFAULT_BLOCK_MB << 20
			    : opt_size("--block", optarg);
			break;
		case OPT_RECEND:
			o.recend = optarg;
			break;
		case OPT_RECSTART:
			o.recstart = optarg;
			break;
		case OPT_GROUP:
			o.output_mode = CORUN_OUTPUT_GROUP;
			break;
		case OPT_LINE_BUFFER:
			o.output_mode = CORUN_OUTPUT_LINE;
			break;
		case 'u':
			o.output_mode = CORUN_OUTPUT_UNGROUP;
			break;
		case OPT_RECORDS:
			o.output_mode = CORUN_OUTPUT_RECORDS;
			break;
		case OPT_TAG:
			o.tag = 1;
			break;
		case OPT_RESULTS:
			o.results = optarg;
			break;
		case OPT_METRICS:
			o.metrics = optarg;
			break;
		case OPT_METRICS_INTERVAL:
			o.metrics_interval =
			    opt_duration("--metrics-interval", optarg);
			if (!(o.metrics_interval >= 0.01))
				usage_error("--metrics-interval: '%s' is "
					    "under 10ms", optarg);
			break;
		case OPT_METRICS_ADDR:
			o.metrics_addr = optarg;
			break;
		case OPT_RETRY_ON:
			if (corun_parse_retry_on(optarg) == -1)
				usage_error("--retry-on: bad list '%s'",
					    optarg);
			o.retry_on = optarg;
			break;
		case 'S':
		case OPT_HOSTS_FILE:
		case OPT_LAUNCHER:
		case OPT_HOST_TIMEOUT:
		case OPT_MAX_HOST_LOSSES:
		case OPT_ENV:
		case OPT_WORKDIR:
		case OPT_BASEFILE:
			opt_remote(&o, longopt_name(c), optarg);
			break;
		case OPT_SERVE:
			o.serve = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("corun %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fprintf(stderr,
				"Try 'corun --help' for more information.\n");
			return 2;
		}
	}
	if (o.resume && o.joblog == NULL)
		usage_error("%s needs --joblog FILE", "--resume");
	/* --sh alone: the template is the sh kind, inputs its scripts. */
	if (o.shell_lines && o.command == NULL)
		o.command = "sh";
	if (o.command == NULL && (lists < argc || nsrc > 0))
		usage_error("'%s': argument lists need a template (-c)",
			    lists < argc ? argv[lists] : "--arg-file");
	if (o.command != NULL && optind < lists)
		usage_error("'%s': a job file and a template (-c) together",
			    argv[optind]);
	opt_sources(argv + lists, argc - lists, &src, &nsrc);
	o.sources = src;
	o.nsources = nsrc;
	if (o.pipe && o.command == NULL)
		usage_error("%s needs -c TEMPLATE", "--pipe");
	if (o.pipe && nsrc > 0)
		usage_error("%s reads standard input: no argument lists",
			    "--pipe");
	if (!o.pipe && (o.recend != NULL || o.recstart != NULL))
		usage_error("%s needs --pipe",
			    o.recend != NULL ? "--recend" : "--recstart");
	if (o.json && o.output_mode > CORUN_OUTPUT_RECORDS)
		usage_error("%s writes records: it does not go with --group, "
			    "--line-buffer or --ungroup", "--json");
	if (o.results != NULL && (o.json || o.output_mode == CORUN_OUTPUT_RECORDS)) {
		size_t n = strlen(o.results);

		if (n <= 5 || strcmp(o.results + n - 5, ".json") != 0)
			usage_error("--results %s writes the jobs' output, not "
				    "records: use --results NAME.json",
				    o.results);
	}

	inputs = main_alloc(NULL, ((size_t)(lists - optind) + 1) * sizeof *inputs);
	for (int i = optind; i < lists; i++) {
		if (strcmp(argv[i], "-") == 0)
			nstdin++;
		inputs[ninputs++] = argv[i];
	}
	if (nstdin > 1)
		usage_error("%s: standard input can be read only once", "-");
	if (ninputs == 0 && o.command == NULL && !o.serve)
		inputs[ninputs++] = "-";
	c = corun_run(&o, inputs, ninputs);
	free(inputs);
	free(src);
	limits_free(&o);
	remote_free_opts(&o);
	return c;
}
