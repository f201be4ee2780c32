/*
 * pool_slot.h: the process pool's worker slots (pool_slot.c), as the pool
 * (pool_proc.c) sees them. Private to those two files.
 *
 * The pool deals tasks to slots and reads their results; the slot module
 * gets each slot a worker from the fork server, notices its death and
 * replaces it, and hands the tasks a dead worker held back to the pool
 * through struct pslot_ops. Both sides read and write a slot's fields; the
 * comments say which side owns what. Loop thread only.
 */
#ifndef CORUN_POOL_SLOT_H
#define CORUN_POOL_SLOT_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "util.h"

/* A task: one job on its way through the pool (pool_proc.c's). */
struct ptask {
	TAILQ_ENTRY(ptask) link; /* on one ptask_list at a time */
	void *ctx; /* NULL: cancelled once sent; its result is dropped */
	uint64_t tag;
	const char *err;  /* set: fail it without running (why) */
	struct buf frame; /* the encoded job, kept to send it again */
};

/* A list of tasks and its length. */
struct ptask_list {
	TAILQ_HEAD(, ptask) q;
	size_t n;
};

/* Make l an empty list. */
static inline void
ptask_list_init(struct ptask_list *l)
{
	TAILQ_INIT(&l->q);
	l->n = 0;
}

/* Append t to a list. */
static inline void
ptask_push(struct ptask_list *l, struct ptask *t)
{
	TAILQ_INSERT_TAIL(&l->q, t, link);
	l->n++;
}

/* Unlink t from the list it is on. */
static inline void
ptask_remove(struct ptask_list *l, struct ptask *t)
{
	TAILQ_REMOVE(&l->q, t, link);
	l->n--;
}

/* Take the first task of a list, or NULL. */
static inline struct ptask *
ptask_pop(struct ptask_list *l)
{
	struct ptask *t = TAILQ_FIRST(&l->q);

	if (t != NULL)
		ptask_remove(l, t);
	return t;
}

/* Move all of src to the front of dst; src is left empty. */
static inline void
ptask_prepend(struct ptask_list *dst, struct ptask_list *src)
{
	TAILQ_CONCAT(&src->q, &dst->q, link);
	TAILQ_CONCAT(&dst->q, &src->q, link);
	dst->n += src->n;
	src->n = 0;
}

enum wstate {
	W_EMPTY,    /* no process, none asked for */
	W_SPAWNING, /* asked the server for one */
	W_LIVE,	    /* running: takes tasks */
	W_DYING,    /* gone or going: waits for EOF and the exit report */
};

/* One worker slot. The slot module sets state, pid, the fds and the
 * death flags; the pool fills the FIFO and the buffers. */
struct pworker {
	enum wstate state;
	unsigned gen; /* bumped whenever the slot is reset */
	pid_t pid;
	int jobfd, resfd;
	ev_io rio, wio;		/* the pool's callbacks, data = the slot */
	struct buf out;		/* job frames not yet written ... */
	size_t outoff;		/* ... from here */
	struct buf in;		/* result bytes not yet decoded */
	struct ptask_list fifo; /* sent, in order; the head is running */
	bool eof;		/* the result pipe closed */
	bool exited;		/* the server reaped it; status is set */
	bool broken;		/* it sent garbage: killed, output ignored */
	int status;
	size_t vfill; /* tasks set aside while it starts */
	/* The pool's pace of this worker; zeroed when the slot is reset. */
	unsigned nres;	   /* results timed so far */
	double avg;	   /* their mean run time, moving (s) */
	double head_since; /* when its head task became head (ev_now) */
};

/* What the slot module asks of the pool. Each may run the pool's
 * callbacks, which may re-enter the pool (even shut it down). */
struct pslot_ops {
	/* A worker's result pipe is readable / its job pipe has room. */
	void (*readable)(struct ev_loop *, ev_io *, int);
	void (*writable)(struct ev_loop *, ev_io *, int);
	/* A worker died (wait status) holding fifo (taken over): its head
	 * was running, the others never started. */
	void (*lost)(struct ptask_list *fifo, int status);
	/* No worker is left or coming: fail what waits, with why. */
	void (*starved)(const char *why);
	/* The fork server is gone: fail every task, those of all (taken
	 * over, in order) and those waiting, with why. */
	void (*down)(struct ptask_list *all, const char *why);
};

/* Make sure the fork server runs, and watch it once the slots are set up. */
int pslot_forksrv(void);
/* ppool_forksrv_maybe and ppool_before_thread (pool_proc.h). */
void pslot_forksrv_maybe(int maybe);
int pslot_before_thread(void);
/* Set up n empty slots and return them (the slot module's, valid until
 * pslot_shutdown). */
struct pworker *pslot_init(struct ev_loop *, int n, const struct pslot_ops *);
/* Workers forked from now on run incr nice values below corun. */
void pslot_set_nice(int incr);
/* Why nothing can run any more (the fork server is gone), or NULL. */
const char *pslot_down(void);
/* Ask for a worker for every empty slot. */
void pslot_spawn_missing(void);
/* Kill w's worker through the server, unless it was reaped already. */
void pslot_kill(struct pworker *w);
/* Reset w (its FIFO emptied by the caller) and ask for a new worker. */
void pslot_replace(struct pworker *w);
/* w's result pipe closed or failed: its worker is gone or going. */
void pslot_eof(struct pworker *w);
/* w's worker broke the protocol: kill it and ignore what it says. */
void pslot_broken(struct pworker *w);
/* Worker replacements so far. */
unsigned long pslot_replacements(void);
/* Stop watching the server, close every slot (their FIFOs emptied by the
 * caller), free them, then stop the fork server and reap it. */
void pslot_shutdown(void);

#endif
