/*
 * group.c: the groups of --limit and --rate, for the scheduler (sched.c).
 *
 * A --limit or --rate group: its jobs waiting for room, and how many
 * run. A job of several groups (group=a,b) starts only when each has room
 * and then takes a slot of each at once, so no job ever holds some of its
 * slots while waiting for the others: jobs cannot deadlock each other.
 * A job held back waits in the queue of the first group without room;
 * when that group has room again it lets its first waiter back into its
 * class queue (group_wake), which the dispatch retries; a waiter
 * let back that finds another group full waits there, and the group that
 * let it back lets the next one go, so room never stays unused while jobs
 * wait for it.
 *
 * A job's groups are those of its group= list that have a --limit or a
 * --rate (group_list); the others limit nothing. The loop thread runs all
 * of this.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corun.h"
#include "flow.h"
#include "group.h"
#include "job.h"
#include "parse.h"

struct group {
	const char *name;
	int limit;        /* --limit, or INT_MAX */
	int running;
	struct rate rate; /* --rate GROUP=N/DUR (n 0: none) */
	ev_timer wake;    /* when the rate lets the next start happen */
	struct queue wait;
};

static struct {
	struct ev_loop *loop;
	struct group *groups;
	size_t ngroups;
} G;

/* Has the group room for one more start now? */
static int
group_room(const struct group *g, double now)
{
	return g->running < g->limit &&
	       (g->rate.n == 0 || rate_next(&g->rate, now) <= now);
}

/* Set the group's timer for when its rate lets a start happen, if its
 * rate is what holds its waiters back. */
static void
group_rate_wait(struct group *g, double now)
{
	if (g->rate.n == 0 || g->running >= g->limit ||
	    ev_is_active(&g->wake))
		return;
	ev_timer_set(&g->wake, fmax(0., rate_next(&g->rate, now) - now), 0.);
	ev_timer_start(G.loop, &g->wake);
}

/* Let the group's first waiting job back into its class queue, first,
 * when the group has room (the dispatch checks its other groups). */
static void
group_wake(struct group *g)
{
	double now = ev_now(G.loop);
	struct job *next = queue_head(&g->wait);

	if (next == NULL)
		return;
	if (!group_room(g, now)) {
		group_rate_wait(g, now);
		return;
	}
	queue_remove(&g->wait, next);
	next->flags &= ~JOB_INGROUP;
	next->woke = g;
	sched_requeue_front(next);
}

/* The group's rate lets a start happen again. */
static void
group_wake_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)revents;
	group_wake(w->data);
}

/* A job that a group let back is out of the class queue (started, held
 * back elsewhere, cancelled): the group may let the next one go. */
void
group_woke_done(struct job *job)
{
	struct group *w = job->woke;

	job->woke = NULL;
	if (w != NULL)
		group_wake(w);
}

/* The first of the job's groups without room now, or NULL. */
struct group *
group_full(const struct job *job, double now)
{
	for (unsigned i = 0; i < job->ngroups; i++)
		if (!group_room(job->groups[i], now))
			return job->groups[i];
	return NULL;
}

/* Hold a job back in group g's queue: first if g let it back (it keeps
 * its place), else last. */
void
group_park(struct job *job, struct group *g, double now)
{
	struct group *w = job->woke;

	job->woke = NULL;
	job->flags |= JOB_INGROUP;
	job->parked = g;
	if (w == g)
		queue_push_front(&g->wait, job);
	else
		queue_push(&g->wait, job);
	group_rate_wait(g, now);
	if (w != NULL && w != g)
		group_wake(w);
}

/* Take a slot (and a start of its rate) in each of the job's groups. */
void
group_take(struct job *job, double now)
{
	for (unsigned i = 0; i < job->ngroups; i++) {
		struct group *g = job->groups[i];

		g->running++;
		if (g->rate.n > 0)
			rate_take(&g->rate, now);
	}
	group_woke_done(job);
}

/* Give the job's slots back; undo: its start did not happen either. */
void
group_release(struct job *job, int undo)
{
	for (unsigned i = 0; i < job->ngroups; i++) {
		struct group *g = job->groups[i];

		g->running--;
		if (undo && g->rate.n > 0)
			rate_untake(&g->rate);
		group_wake(g);
	}
}

/* The --limit or --rate group called name (len bytes), or NULL. */
static struct group *
group_find(const char *name, size_t len)
{
	for (size_t i = 0; i < G.ngroups; i++)
		if (strlen(G.groups[i].name) == len &&
		    memcmp(G.groups[i].name, name, len) == 0)
			return &G.groups[i];
	return NULL;
}

/* The groups of a group= list ("a,b") that have a --limit or a --rate,
 * in an array of its own in *out (NULL when none): how many. */
unsigned
group_list(const char *list, struct group ***out)
{
	struct group *found[PARSE_MAX_GROUPS];
	unsigned n = 0;

	*out = NULL;
	for (const char *p = list; *p != '\0' && n < PARSE_MAX_GROUPS;) {
		size_t len = strcspn(p, ",");
		struct group *g = group_find(p, len);

		if (g != NULL)
			found[n++] = g;
		p += len + (p[len] == ',');
	}
	if (n > 0)
		*out = memcpy(xmalloc(n * sizeof *found), found,
			      n * sizeof *found);
	return n;
}

/* The group called name, made if it is not there yet. */
static struct group *
group_add(const char *name)
{
	struct group *g = group_find(name, strlen(name));

	if (g != NULL)
		return g;
	g = &G.groups[G.ngroups++];
	g->name = name;
	g->limit = INT_MAX;
	queue_init(&g->wait);
	ev_timer_init(&g->wake, group_wake_cb, 0., 0.);
	g->wake.data = g;
	return g;
}

/* Make the groups of --limit and of the groups' --rate. */
void
group_init(struct ev_loop *loop, const struct corun_options *opts)
{
	G.loop = loop;
	G.groups = xcalloc(opts->nlimits + opts->nrates + 1, sizeof *G.groups);
	for (size_t i = 0; i < opts->nlimits; i++)
		group_add(opts->limits[i].group)->limit =
		    opts->limits[i].n;
	for (size_t i = 0; i < opts->nrates; i++)
		if (opts->rates[i].group != NULL)
			rate_init(&group_add(opts->rates[i].group)->rate,
				  opts->rates[i].n,
				  opts->rates[i].per);
}

/* Stop the groups' timers and free them. */
void
group_shutdown(void)
{
	for (size_t i = 0; i < G.ngroups; i++) {
		ev_timer_stop(G.loop, &G.groups[i].wake);
		rate_free(&G.groups[i].rate);
	}
	free(G.groups);
	G.groups = NULL;
	G.ngroups = 0;
}

/* Take a job out of the queue of the group that holds it back. */
void
group_unpark(struct job *job)
{
	queue_remove(&job->parked->wait, job);
	job->flags &= ~JOB_INGROUP;
}

/* Jobs of an executor held back by their groups now (the metrics). */
size_t
group_queued(enum executor ex)
{
	struct job *job;
	size_t n = 0;

	for (size_t i = 0; i < G.ngroups; i++)
		TAILQ_FOREACH(job, &G.groups[i].wait.jobs, entry)
			n += job->ex == ex;
	return n;
}
