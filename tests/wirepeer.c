/*
 * wirepeer.c: a scripted parent for corun --serve (the frames of
 * src/wire.h), for the tests.
 *
 *   wirepeer [-t SECS] [-p PIDFILE] SCRIPT COMMAND [ARG]...
 *
 * Spawns COMMAND (e.g. `corun --serve -j4`) with its standard input and
 * output on pipes (its standard error is ours), runs SCRIPT ("-": our
 * standard input), one command a line, and prints every frame the worker
 * sends as one line on standard output. -p writes the worker's pid to
 * PIDFILE; -t bounds every wait (default 30 s): a wait that runs out
 * prints "TIMEOUT ..." and the peer exits 3 after killing the worker.
 *
 * Script commands (blank lines and lines starting with # are skipped;
 * DUR is seconds, a decimal number, or "none"):
 *
 *   greeting [proto=N]      our greeting (protocol N, default 1); sent by
 *                           the first hello when not given before it
 *   hello [KEY=VALUE]...    our HELLO: heartbeat=DUR (default none),
 *                           grace=DUR (default 2), env=NAME=VALUE (one per
 *                           entry, repeatable), workdir=DIR, kinds=A,B,...
 *                           (default: all of ours), cpus= jobs= procs=
 *                           threads= (default 1 0 0 0)
 *   job TAG DUR LINE...     a JOB: tag, timeout, the plan line (the rest
 *                           of the line, e.g. "1 loop exec echo hi")
 *   jobs N TAG DUR LINE...  N JOBs with tags TAG, TAG+1, ... (a bench)
 *   cancel TAG DUR [hurry]  a CANCEL with that grace
 *   ping N                  a PING with nonce N
 *   file NAME PATH [SIZE]   PATH's bytes as FILE chunks named NAME, of
 *                           SIZE bytes each at most (default the cap)
 *   bye                     a BYE
 *   close                   close the worker's standard input
 *   raw HEX                 these bytes, as they are
 *   kill SIG                send the worker signal SIG (TERM, STOP, ...)
 *   wait TYPE [TAG]         read (and print) frames until one of TYPE
 *                           (hello, started, result, pong, ping, bye) with
 *                           that tag or nonce (any without TAG) has come
 *   wait results N          ... until N RESULTs in all have come
 *   await FILE              read (and print) frames until FILE exists
 *   silence DUR             read and print frames for DUR seconds, sending
 *                           nothing, not even PONGs
 *   quiet                   print no more STARTED and RESULT lines (they
 *                           are still counted)
 *
 * While it sends or waits, the peer reads the worker's frames, so a
 * worker held back by its output never deadlocks it, and answers each
 * PING with a PONG (except in silence). After the script it reads until
 * the worker's output ends and prints "COUNT started=N results=N" (when
 * quiet), then "EXIT N" or "SIGNAL N" for the worker.
 *
 * Frames print as:
 *   GREETING PROTO
 *   HELLO cpus=N jobs=N procs=N threads=N heartbeat=DUR grace=DUR kinds=...
 *   STARTED TAG
 *   RESULT TAG status=NAME exit=N|none signal=N [http=N] [truncated]
 *          [unstarted] value="..." [errout="..."] [error="..."]
 *   PONG N | BYE        (the worker's PINGs are not printed)
 *   ERROR MESSAGE       the worker broke the protocol (reading stops)
 * Strings are quoted with \n, \t, \\, \" and \xHH escapes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

static struct {
	pid_t pid;
	int to, from; /* the worker's stdin (ours to write), stdout */
	struct buf in, out;
	int greeted;	  /* we sent our greeting */
	int got_greeting; /* the worker's has come */
	int eof, broken;  /* its output ended; it broke the protocol */
	int quiet, silent;
	double limit;
	unsigned long started, results, pings;
} P;

/* What a wait waits for: a frame of type (with tag unless any), or
 * results RESULTs in all (when not 0). */
struct want {
	uint32_t type;
	int any;
	uint64_t tag;
	unsigned long results;
	int seen;
};
static struct want *W;

static const char *const status_names[] = {"ok",	"failed",  "timeout",
					   "cancelled", "skipped", "error"};

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Print n bytes quoted. */
static void
quote(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Print a duration in microseconds as seconds or "none". */
static void
dur(const char *key, uint64_t us)
{
	if (us == WIRE_NO_TIME)
		printf(" %s=none", key);
	else
		printf(" %s=%g", key, wire_seconds(us));
}

/* Print one frame from the worker; answer its PINGs. */
static void
show(const struct wire_msg *m)
{
	const struct wire_result *r = &m->u.result;
	const struct wire_hello *h = &m->u.hello;

	if (W != NULL && W->results == 0 && m->type == W->type &&
	    (W->any || m->tag == W->tag))
		W->seen = 1;
	switch (m->type) {
	case WIRE_HELLO:
		printf("HELLO cpus=%u jobs=%u procs=%u threads=%u",
		       (unsigned)h->cpus, (unsigned)h->jobs, (unsigned)h->procs,
		       (unsigned)h->threads);
		dur("heartbeat", h->heartbeat);
		dur("grace", h->grace);
		printf(" kinds=%.*s\n", (int)h->kindslen, h->kinds);
		break;
	case WIRE_STARTED:
		P.started++;
		if (!P.quiet)
			printf("STARTED %llu\n", (unsigned long long)m->tag);
		break;
	case WIRE_RESULT:
		P.results++;
		if (P.quiet)
			break;
		printf("RESULT %llu status=%s", (unsigned long long)m->tag,
		       status_names[r->status]);
		if (r->exit == WIRE_NO_EXIT)
			fputs(" exit=none", stdout);
		else
			printf(" exit=%u", (unsigned)r->exit);
		printf(" signal=%u", (unsigned)r->signal);
		if (r->http_status)
			printf(" http=%u", (unsigned)r->http_status);
		if (r->truncated)
			fputs(" truncated", stdout);
		if (r->unstarted)
			fputs(" unstarted", stdout);
		fputs(" value=", stdout);
		quote(r->value, r->vlen);
		if (r->errlen > 0) {
			fputs(" errout=", stdout);
			quote(r->errout, r->errlen);
		}
		if (r->has_error) {
			fputs(" error=", stdout);
			quote(r->error, r->msglen);
		}
		putchar('\n');
		break;
	case WIRE_PING:
		P.pings++;
		if (!P.silent)
			wire_put_pong(&P.out, m->tag);
		break;
	case WIRE_PONG:
		printf("PONG %llu\n", (unsigned long long)m->tag);
		break;
	case WIRE_BYE:
		printf("BYE\n");
		break;
	default:
		printf("FRAME %s %llu\n", wire_type_name(m->type),
		       (unsigned long long)m->tag);
		break;
	}
	fflush(stdout);
}

/* Decode and show what has been read. Returns the frames shown. */
static int
decode(void)
{
	size_t off = 0;
	int shown = 0;
	char err[512];

	while (!P.broken && off < P.in.len) {
		ssize_t n;

		if (!P.got_greeting) {
			struct wire_greeting g;

			n = wire_greeting_decode(P.in.data + off,
						 P.in.len - off, &g, err,
						 sizeof err);
			if (n > 0) {
				P.got_greeting = 1;
				printf("GREETING %u\n", (unsigned)g.proto);
				fflush(stdout);
			}
		} else {
			struct wire_msg m;

			n = wire_decode(P.in.data + off, P.in.len - off, &m,
					err, sizeof err);
			if (n > 0) {
				show(&m);
				shown++;
			}
		}
		if (n == 0)
			break;
		if (n < 0) {
			printf("ERROR %s\n", err);
			fflush(stdout);
			P.broken = 1;
			break;
		}
		off += (size_t)n;
	}
	buf_consume(&P.in, off);
	return shown;
}

/* Kill the worker and leave (a wait ran out). */
static _Noreturn void
give_up(const char *what)
{
	printf("TIMEOUT %s\n", what);
	fflush(stdout);
	kill(P.pid, SIGKILL);
	waitpid(P.pid, NULL, 0);
	exit(3);
}

/*
 * Move bytes both ways for up to secs (< 0: the -t bound), returning as
 * soon as done() holds (NULL: when everything queued is written). What
 * comes is decoded and shown. Returns 0, or -1 when the time ran out.
 */
static int
pump(double secs, int (*done)(void *), void *arg)
{
	double end = now() + (secs < 0 ? P.limit : secs);

	for (;;) {
		struct pollfd p[2] = {{.fd = P.from, .events = POLLIN},
				      {.fd = P.to, .events = POLLOUT}};
		double left;
		int n;

		if (P.to < 0)
			buf_reset(&P.out); /* nobody to send it to */
		if (done != NULL ? done(arg) : P.out.len == 0)
			return 0;
		if ((left = end - now()) <= 0)
			return -1;
		if (P.eof)
			p[0].fd = -1;
		if (P.out.len == 0 || P.to < 0)
			p[1].fd = -1;
		if (p[0].fd < 0 && p[1].fd < 0) {
			if (done == NULL)
				return 0;
			usleep(10000); /* nothing can change: wait it out */
			continue;
		}
		/* A predicate may turn true without a byte moving (await):
		 * look again every 20 ms. */
		if (done != NULL && left > 0.02)
			left = 0.02;
		n = poll(p, 2, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n <= 0)
			continue;
		if (p[0].revents) {
			ssize_t r;

			buf_reserve(&P.in, 1 << 20);
			r = read(P.from, P.in.data + P.in.len, 1 << 20);
			if (r > 0) {
				P.in.len += (size_t)r;
				decode();
			} else if (r == 0 || errno != EINTR) {
				P.eof = 1;
			}
		}
		if (p[1].revents) {
			ssize_t w = write(P.to, P.out.data, P.out.len);

			if (w > 0) {
				buf_consume(&P.out, (size_t)w);
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				/* The worker is gone: drop what is left. */
				buf_reset(&P.out);
				close(P.to);
				P.to = -1;
			}
		}
	}
}

/* Has the frame wanted come (or the RESULTs, or the worker's end)? */
static int
want_done(void *arg)
{
	struct want *w = arg;

	if (w->results > 0)
		return P.results >= w->results || (P.eof && P.in.len == 0);
	return w->seen || P.eof;
}

/* Has the worker's output ended? */
static int
eof_done(void *arg)
{
	(void)arg;
	return P.eof;
}

/* Send what is queued (reading meanwhile). */
static void
flush_out(void)
{
	if (pump(-1, NULL, NULL) == -1)
		give_up("sending");
}

/* A duration: seconds, or "none". */
static double
parse_dur(const char *s)
{
	return strcmp(s, "none") == 0 ? -1 : strtod(s, NULL);
}

/* The frame types wait knows, by name. */
static uint32_t
type_of(const char *s)
{
	static const char *const names[] = {"hello", "started", "result",
					    "pong",  "ping",	"bye"};
	static const uint32_t types[] = {WIRE_HELLO, WIRE_STARTED, WIRE_RESULT,
					 WIRE_PONG,  WIRE_PING,	   WIRE_BYE};

	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (strcmp(s, names[i]) == 0)
			return types[i];
	fprintf(stderr, "wirepeer: wait: unknown frame type %s\n", s);
	exit(2);
}

/* wait: until the frame wanted (show marks it) or enough RESULTs. */
static void
cmd_wait(char **tok, int n)
{
	struct want w = {0};
	int rc;

	if (strcmp(tok[1], "results") == 0 && n >= 3) {
		w.results = strtoul(tok[2], NULL, 10);
	} else {
		w.type = type_of(tok[1]);
		w.any = n < 3;
		if (!w.any)
			w.tag = strtoull(tok[2], NULL, 10);
	}
	W = &w;
	rc = pump(-1, want_done, &w);
	W = NULL;
	if (rc == -1)
		give_up(tok[1]);
	if (w.results > 0 ? P.results < w.results : !w.seen)
		give_up("a frame: the worker's output ended");
}

/* hello: our greeting (unless sent) and HELLO. */
static void
cmd_hello(char **tok, int n)
{
	struct wire_hello h = {0};
	struct buf kinds = BUF_INIT, env = BUF_INIT;
	const char *workdir = "";

	h.cpus = 1;
	h.heartbeat = WIRE_NO_TIME;
	h.grace = wire_usec(2);
	wire_kinds(&kinds);
	for (int i = 1; i < n; i++) {
		char *k = tok[i], *v = strchr(k, '=');

		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(k, "heartbeat") == 0)
			h.heartbeat = wire_usec(parse_dur(v));
		else if (strcmp(k, "grace") == 0)
			h.grace = wire_usec(parse_dur(v));
		else if (strcmp(k, "env") == 0)
			buf_add(&env, v, strlen(v) + 1);
		else if (strcmp(k, "workdir") == 0)
			workdir = v;
		else if (strcmp(k, "kinds") == 0) {
			buf_reset(&kinds);
			for (char *c = v; *c; c++)
				buf_addc(&kinds, *c == ',' ? ' ' : *c);
		} else if (strcmp(k, "cpus") == 0)
			h.cpus = (uint32_t)atoi(v);
		else if (strcmp(k, "jobs") == 0)
			h.jobs = (uint32_t)atoi(v);
		else if (strcmp(k, "procs") == 0)
			h.procs = (uint32_t)atoi(v);
		else if (strcmp(k, "threads") == 0)
			h.threads = (uint32_t)atoi(v);
	}
	h.kinds = kinds.data;
	h.kindslen = (uint32_t)kinds.len;
	h.env = env.data;
	h.envlen = (uint32_t)env.len;
	h.workdir = workdir;
	h.wdlen = (uint32_t)strlen(workdir);
	if (!P.greeted)
		wire_put_greeting(&P.out);
	P.greeted = 1;
	if (wire_put_hello(&P.out, &h) == -1) {
		fprintf(stderr, "wirepeer: hello: a field breaks its rule\n");
		exit(2);
	}
	buf_free(&kinds);
	buf_free(&env);
}

/* greeting [proto=N]: our greeting, maybe of another protocol. */
static void
cmd_greeting(char **tok, int n)
{
	size_t at = P.out.len;

	wire_put_greeting(&P.out);
	if (n > 1 && strncmp(tok[1], "proto=", 6) == 0) {
		unsigned v = (unsigned)atoi(tok[1] + 6);

		P.out.data[at + WIRE_MAGIC_LEN] = (char)(v >> 8);
		P.out.data[at + WIRE_MAGIC_LEN + 1] = (char)v;
	}
	P.greeted = 1;
}

/* job / jobs: JOB frames; rest is the plan line. */
static void
cmd_jobs(unsigned long count, uint64_t tag, const char *timeout,
	 const char *rest)
{
	struct wire_job j = {.attempt = 1};

	j.timeout = wire_usec(parse_dur(timeout));
	j.line = rest;
	j.linelen = (uint32_t)strlen(rest);
	for (unsigned long i = 0; i < count; i++) {
		if (wire_put_job(&P.out, tag + i, &j) == -1) {
			fprintf(stderr, "wirepeer: job: bad line\n");
			exit(2);
		}
		if (P.out.len > (1u << 20))
			flush_out();
	}
}

/* file NAME PATH [SIZE]: the file as FILE chunks, each read from PATH
 * just before it is sent (so a worker that truncated PATH early would
 * send it short). */
static void
cmd_file(char **tok, int n)
{
	size_t size = n > 3 ? strtoul(tok[3], NULL, 10) : WIRE_CHUNK_MAX;
	struct wire_file f = {0};
	FILE *fp = fopen(tok[2], "rb");
	char *chunk = xmalloc(WIRE_CHUNK_MAX);
	long total;

	if (fp == NULL || size == 0 || size > WIRE_CHUNK_MAX ||
	    fseek(fp, 0, SEEK_END) == -1 || (total = ftell(fp)) < 0) {
		fprintf(stderr, "wirepeer: file %s: cannot read\n", tok[2]);
		exit(2);
	}
	rewind(fp);
	f.name = tok[1];
	f.namelen = (uint32_t)strlen(tok[1]);
	do {
		size_t len = fread(chunk, 1, size, fp);

		f.data = chunk;
		f.datalen = (uint32_t)len;
		f.last = len < size || f.offset + len == (uint64_t)total;
		wire_put_file(&P.out, &f);
		flush_out();
		f.offset += len;
	} while (!f.last);
	fclose(fp);
	free(chunk);
}

/* await FILE: wait until FILE exists, reading frames meanwhile. */
static int
file_done(void *arg)
{
	return access(arg, F_OK) == 0;
}

/* raw HEX: bytes as they are. */
static void
cmd_raw(const char *hex)
{
	for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
		unsigned v;

		sscanf(hex + i, "%2x", &v);
		buf_addc(&P.out, (char)v);
	}
}

/* Run one script line (line is modified). */
static void
run_line(char *line)
{
	char *tok[64], *save = NULL, *rest = NULL;
	int n = 0, fields;
	size_t skip;

	line[strcspn(line, "\n")] = '\0';
	if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
		return;
	/* jobs and job take the rest of the line after their fields. */
	skip = strspn(line, " ");
	fields = strncmp(line + skip, "jobs ", 5) == 0 ? 4 : 3;
	for (int f = 0; f < fields; f++) {
		skip += strcspn(line + skip, " ");
		skip += strspn(line + skip, " ");
	}
	if (skip <= strlen(line))
		rest = xstrdup(line + skip);
	for (char *t = strtok_r(line, " \t", &save); t && n < 64;
	     t = strtok_r(NULL, " \t", &save))
		tok[n++] = t;
	if (n == 0) {
		free(rest);
		return;
	}
	if (strcmp(tok[0], "greeting") == 0) {
		cmd_greeting(tok, n);
	} else if (strcmp(tok[0], "hello") == 0) {
		cmd_hello(tok, n);
	} else if (strcmp(tok[0], "job") == 0 && n >= 4) {
		cmd_jobs(1, strtoull(tok[1], NULL, 10), tok[2], rest);
	} else if (strcmp(tok[0], "jobs") == 0 && n >= 5) {
		cmd_jobs(strtoul(tok[1], NULL, 10), strtoull(tok[2], NULL, 10),
			 tok[3], rest);
	} else if (strcmp(tok[0], "cancel") == 0 && n >= 3) {
		struct wire_cancel c = {.grace = wire_usec(parse_dur(tok[2])),
					.hurry = n > 3 &&
						 strcmp(tok[3], "hurry") == 0};
		wire_put_cancel(&P.out, strtoull(tok[1], NULL, 10), &c);
	} else if (strcmp(tok[0], "ping") == 0 && n >= 2) {
		wire_put_ping(&P.out, strtoull(tok[1], NULL, 10));
	} else if (strcmp(tok[0], "file") == 0 && n >= 3) {
		cmd_file(tok, n);
	} else if (strcmp(tok[0], "bye") == 0) {
		wire_put_bye(&P.out);
	} else if (strcmp(tok[0], "close") == 0) {
		flush_out();
		if (P.to >= 0)
			close(P.to);
		P.to = -1;
	} else if (strcmp(tok[0], "raw") == 0 && n >= 2) {
		cmd_raw(tok[1]);
	} else if (strcmp(tok[0], "kill") == 0 && n >= 2) {
		flush_out();
		kill(P.pid, strcmp(tok[1], "TERM") == 0	  ? SIGTERM
			    : strcmp(tok[1], "INT") == 0  ? SIGINT
			    : strcmp(tok[1], "HUP") == 0  ? SIGHUP
			    : strcmp(tok[1], "STOP") == 0 ? SIGSTOP
			    : strcmp(tok[1], "CONT") == 0 ? SIGCONT
							  : SIGKILL);
	} else if (strcmp(tok[0], "wait") == 0 && n >= 2) {
		flush_out();
		cmd_wait(tok, n);
	} else if (strcmp(tok[0], "silence") == 0 && n >= 2) {
		flush_out();
		P.silent = 1;
		pump(parse_dur(tok[1]), eof_done, NULL);
		P.silent = 0;
	} else if (strcmp(tok[0], "await") == 0 && n >= 2) {
		flush_out();
		if (pump(-1, file_done, tok[1]) == -1)
			give_up(tok[1]);
	} else if (strcmp(tok[0], "quiet") == 0) {
		P.quiet = 1;
	} else {
		fprintf(stderr, "wirepeer: bad script line: %s\n", tok[0]);
		exit(2);
	}
	free(rest);
	flush_out();
}

/* Spawn the worker on two pipes. */
static void
spawn(char *argv[])
{
	int in[2], out[2];

	if (pipe(in) == -1 || pipe(out) == -1)
		fatal("pipe");
	P.pid = fork();
	if (P.pid == -1)
		fatal("fork");
	if (P.pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "wirepeer: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	P.to = in[1];
	P.from = out[0];
	fcntl(P.to, F_SETFL, O_NONBLOCK);
	fd_cloexec(P.to);
	fd_cloexec(P.from);
}

int
main(int argc, char *argv[])
{
	const char *pidfile = NULL;
	char line[1 << 16];
	FILE *script;
	int c, st;

	P.limit = 30;
	while ((c = getopt(argc, argv, "+t:p:")) != -1) {
		if (c == 't')
			P.limit = strtod(optarg, NULL);
		else if (c == 'p')
			pidfile = optarg;
		else
			return 2;
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: wirepeer [-t SECS] [-p PIDFILE] SCRIPT "
				"COMMAND [ARG]...\n");
		return 2;
	}
	script =
	    strcmp(argv[optind], "-") == 0 ? stdin : fopen(argv[optind], "r");
	if (script == NULL)
		fatal("%s", argv[optind]);
	signal(SIGPIPE, SIG_IGN);
	spawn(argv + optind + 1);
	if (pidfile != NULL) {
		FILE *f = fopen(pidfile, "w");

		if (f == NULL)
			fatal("%s", pidfile);
		fprintf(f, "%ld\n", (long)P.pid);
		fclose(f);
	}
	while (fgets(line, sizeof line, script) != NULL)
		run_line(line);
	/* Read to the end of the worker's output. */
	if (pump(-1, eof_done, NULL) == -1)
		give_up("the end of the worker's output");
	if (P.quiet)
		printf("COUNT started=%lu results=%lu\n", P.started, P.results);
	if (P.to >= 0)
		close(P.to);
	waitpid(P.pid, &st, 0);
	if (WIFEXITED(st))
		printf("EXIT %d\n", WEXITSTATUS(st));
	else
		printf("SIGNAL %d\n", WTERMSIG(st));
	return 0;
}
