/*
 * host.h: a remote host and the attempts sent to it, as host.c (its
 * connection) and remote.c (the executor) share them.
 */
#ifndef CORUN_HOST_H
#define CORUN_HOST_H

#include <ev.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "executors.h"
#include "slots.h"
#include "util.h"
#include "wire.h"

struct corun_options;

#define SEND_HIGH (8u << 20)	  /* no new JOB while this much waits */
#define BACKOFF_FIRST 1.0	  /* seconds before the first relaunch */
#define ERRLINE 256

enum hstate {
	H_STARTING, /* launched; its greeting and HELLO not yet in */
	H_UP,	    /* takes jobs */
	H_WAIT,	    /* lost; launched again when its timer fires */
	H_REFUSED,  /* a greeting or HELLO we cannot work with: never again */
};

struct host;

/* What limits a job on its host, as here (corun(1), -j, -P, -T): child
 * processes, the thread pool, the process pool, or only a window of
 * RC_WINDOW (timers and network jobs, which -j does not count). */
enum rclass { RC_CHILD, RC_THREAD, RC_PROCESS, RC_LOOP, RC_COUNT };
#define RC_WINDOW 1024

/* An attempt sent to a host. */
struct rjob {
	struct attempt *at;
	struct host *host;
	uint64_t tag;
	enum rclass rc;
	unsigned started : 1, cancelling : 1;
	TAILQ_ENTRY(rjob) entry;
};
TAILQ_HEAD(rjobs, rjob);

struct host {
	char *name;	  /* as -S gave it, without N/ */
	int local;	  /* ":": this machine, no launcher */
	int slots;	  /* N/: jobs at once, whatever they are; 0: by class */
	int cap[RC_COUNT]; /* without N/: jobs of a class at once (HELLO) */
	int busy[RC_COUNT], nbusy; /* jobs it has, by class and in all */
	struct slots jslots; /* its jobs' slots ({%}): 1..its jobs at once */
	enum hstate state;
	int dead;	  /* its last launch ended before its HELLO */
	pid_t pid;	  /* its launcher, or 0 once reaped */
	int in, out, err; /* our ends of its stdin, stdout, stderr; -1 */
	ev_io rio, wio, eio, pio;
	ev_timer beat; /* heartbeats; the relaunch delay while H_WAIT */
	ev_timer kill; /* SIGKILL for a lost launcher */
	struct buf rbuf, wbuf, epart;
	char errline[ERRLINE]; /* the last line of its stderr */
	int greeted;
	double heard; /* when it last sent a byte */
	double backoff;
	uint64_t nonce;
	struct rjobs jobs;
	struct rjob **tab; /* by tag slot */
	size_t *freeslots;
	size_t ntab, nfree, tabcap;
	uint32_t gen;
	size_t nfile;	/* basefiles fully queued */
	int filefd;	/* the one being queued, or -1 */
	uint64_t fileoff;
};

/* What every host's connection needs (remote_init fills it in). */
struct host_ctx {
	struct ev_loop *loop;
	const struct corun_options *opts;
	const struct wire_hello *ours; /* our HELLO */
	const char *self;	       /* this binary, for ":" */
};
extern struct host_ctx HC;

/* host.c */
/* Set up a host from its -S entry ("[N/]HOST" or ":"), not launched; free
 * what it holds once its launcher is reaped. */
void host_init(struct host *, const char *entry);
void host_free(struct host *);
/* Launch the host's worker and send our greeting, HELLO and basefiles. */
void host_launch(struct host *);
/* The host is lost (why: our reason, if its launcher said nothing): close
 * it, stop its launcher, have remote_lost settle or move its attempts,
 * launch it again later (refused: never). */
void host_lost(struct host *, const char *why, int refused);
/* Queue nothing, but write what is queued when the pipe takes it. */
void host_want_write(struct host *);
/* A new attempt's tag on the host; the attempt a tag names (or NULL);
 * forget an attempt (answered, or moved). */
uint64_t host_tag(struct host *, struct rjob *);
struct rjob *host_find(struct host *, uint64_t tag);
void host_forget(struct host *, struct rjob *);
/* Stop watching the host's pipes and close them. */
void host_close(struct host *);
/* Wait until the time until (mono_now's clock) for its launcher to end,
 * then SIGKILL its group; reap it. */
void host_end(struct host *, double until);

/* remote.c, for host.c */
/* The worker says the attempt started. */
void remote_started(struct rjob *);
/* The attempt's RESULT (rj, forgotten by its host, is freed). */
void remote_result(struct rjob *, const struct wire_result *);
/* The host was lost (msg: "host lost: HOST: why"): its attempts. */
void remote_lost(struct host *, const char *msg);

#endif
