/*
 * group.h: the groups of --limit and --rate (group.c), for the scheduler.
 * A job's groups are in job->groups; the scheduler asks group_full before
 * it starts a job, and takes and gives back its places.
 */
#ifndef CORUN_GROUP_H
#define CORUN_GROUP_H

#include <ev.h>
#include <stddef.h>

#include "executors.h"

struct corun_options;
struct group;
struct job;

/* Make the groups of opts' --limit and --rate GROUP=... options. */
void group_init(struct ev_loop *, const struct corun_options *);
void group_shutdown(void);
/* The groups of a group= list that have a --limit or a --rate, in an
 * array of their own in *out (NULL when none): how many. */
unsigned group_list(const char *list, struct group ***out);
/* The first of the job's groups without room now, or NULL. */
struct group *group_full(const struct job *, double now);
/* Hold a queued job back in g's queue (g: group_full's answer). */
void group_park(struct job *, struct group *g, double now);
/* Take the job out of the queue of the group holding it back. */
void group_unpark(struct job *);
/* The job starts: take a place (and a start of its rate) in each group. */
void group_take(struct job *, double now);
/* Its attempt ended (undo: it never started): give the places back. */
void group_release(struct job *, int undo);
/* A job that a group let back into its class queue left that queue
 * otherwise than by starting: the group may let the next one go. */
void group_woke_done(struct job *);
/* Jobs of an executor held back by their groups now. */
size_t group_queued(enum executor);

#endif
