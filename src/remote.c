/*
 * remote.c: the remote executor (corun(1), REMOTE WORKERS): jobs run by
 * `corun --serve` workers, one per -S host; host.c keeps each host's
 * connection, this file decides which host takes a job and what becomes
 * of a job whose host is lost.
 *
 * A host takes as many jobs at once as N/ says or, without it, as many as
 * its worker runs at once (its HELLO's -j, -T and -P, each for the jobs it
 * limits there; timers and network jobs up to a window of RC_WINDOW), so
 * jobs do not wait in a busy worker while another has room; a job goes to
 * the up host with the most free room for its class, equals taking turns. Its JOB frame carries the attempt's plan line
 * (plan.h) without what the parent keeps for itself (after=, group=,
 * retries, backoff, retry-on=: the parent orders, paces and retries), and
 * its timeout, which the worker enforces (the parent's own timer is the
 * backstop). STARTED starts the attempt's clock here; RESULT ends it, with
 * the host's name on the record. Cancels, timeouts and signals go out as
 * CANCEL frames with --grace (at once when the run is hurried).
 *
 * When a host is lost, its attempts being stopped end stopped; those not
 * started go back to the front of the queue; those started are re-run
 * elsewhere without using a retry (sched_attempt_requeue), up to
 * --max-host-losses times each, then fail with "host lost: HOST: <its
 * launcher's last stderr line>". A host whose last launch ended before its
 * HELLO is down; when every host is down, a job fails at once (unstarted:
 * retry-on=start may retry it) rather than wait for a host that may never
 * come. Nothing from a lost connection is read (host.c closes it first),
 * so each job still gets exactly one record.
 *
 * Tags: a slot index in the host's table in the low 32 bits and a
 * generation above it, so a frame naming a slot reused since is refused.
 *
 * Threads: loop thread only.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corun.h"
#include "executors.h"
#include "host.h"
#include "kinds.h"
#include "parse.h"
#include "plan.h"
#include "remote.h"
#include "util.h"
#include "wire.h"

static struct {
	struct ev_loop *loop;
	const struct corun_options *opts;
	struct host *hosts;
	size_t nhosts;
	size_t next;	    /* where the next pick starts looking */
	struct wire_hello ours; /* our HELLO */
	struct buf kinds, env;	/* what it points to */
	struct buf line;	/* a JOB's plan line */
	char self[4096];    /* this binary, for ":" */
} R;


/* corun_parse_host: an -S entry, as the command checks it. */
int
corun_parse_host(const char *s)
{
	char err[160];

	if (remote_host_check(s, err, sizeof err) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Check one -S entry. */
int
remote_host_check(const char *e, char *err, size_t errlen)
{
	const char *slash = strchr(e, '/');
	long long n;

	if (slash != NULL) {
		char num[24];
		size_t len = (size_t)(slash - e);

		if (len == 0 || len >= sizeof num)
			goto bad_n;
		memcpy(num, e, len);
		num[len] = '\0';
		if (parse_count(num, &n) == -1 || n < 1 || n > INT32_MAX)
			goto bad_n;
		e = slash + 1;
	}
	if (*e == '\0' || strpbrk(e, " \t\n,") != NULL) {
		errfmt(err, errlen, "host '%s': a name without spaces or commas",
		       e);
		return -1;
	}
	return 0;
bad_n:
	errfmt(err, errlen, "host '%s': N/ must be a number of jobs, 1 or more",
	       e);
	return -1;
}

/* The worker says the attempt started: its clock starts here. */
void
remote_started(struct rjob *rj)
{
	sched_attempt_started(rj->at);
}

/* The attempt's RESULT: its end, with the host on the record. */
void
remote_result(struct rjob *rj, const struct wire_result *w)
{
	struct result res;

	result_init(&res);
	wire_result_to(&res, w);
	res.host = rj->host->name;
	sched_attempt_done(rj->at, &res);
	free(rj);
}

/* A host was lost: an attempt being stopped ends stopped; one not started
 * goes back to the queue; one started runs again elsewhere, without using
 * a retry, up to --max-host-losses times, then fails with msg. */
void
remote_lost(struct host *h, const char *msg)
{
	struct rjob *rj;

	while ((rj = TAILQ_FIRST(&h->jobs)) != NULL) {
		struct attempt *at = rj->at;
		int started = rj->started, cancelling = rj->cancelling;
		struct result res;

		host_forget(h, rj);
		free(rj);
		if (cancelling) {
			sched_attempt_stopped(at, 0);
		} else if (!started ||
			   ++at->lost <= R.opts->max_host_losses) {
			sched_attempt_requeue(at);
		} else {
			result_init(&res);
			res.status = ST_FAILED;
			res.host = h->name;
			result_error(&res, "%s", msg);
			sched_attempt_done(at, &res);
		}
	}
}

/* The class of an attempt on its host. */
static enum rclass
remote_class(const struct attempt *at)
{
	if (at->ex == EX_THREAD)
		return RC_THREAD;
	if (at->ex == EX_PROCESS)
		return RC_PROCESS;
	return at->spec->kind->spawns ? RC_CHILD : RC_LOOP;
}

/* Room on a host for a job of class rc. */
static int
remote_room(const struct host *h, enum rclass rc)
{
	if (h->state != H_UP || h->nfile < R.opts->nbasefiles ||
	    h->wbuf.len >= SEND_HIGH)
		return 0;
	return h->slots ? h->slots - h->nbusy : h->cap[rc] - h->busy[rc];
}

/* The up host with the most free room for a job of class rc (from the
 * one after the last pick, so equals take turns), or NULL. */
static struct host *
remote_pick(enum rclass rc)
{
	struct host *best = NULL;
	int most = 0;

	for (size_t k = 0; k < R.nhosts; k++) {
		struct host *h = &R.hosts[(R.next + k) % R.nhosts];
		int room = remote_room(h, rc);

		if (room > most) {
			best = h;
			most = room;
		}
	}
	if (best != NULL)
		R.next = (size_t)(best - R.hosts) + 1;
	return best;
}

/* Is every host down (none up, and each one's last launch failed)? */
static const struct host *
remote_all_down(void)
{
	for (size_t i = 0; i < R.nhosts; i++)
		if (R.hosts[i].state == H_UP ||
		    (R.hosts[i].state != H_REFUSED && !R.hosts[i].dead))
			return NULL;
	return R.nhosts > 0 ? &R.hosts[0] : NULL;
}

/* Room for a job: a host with room, or every host down (the job fails). */
static int
remote_ready(const struct attempt *at)
{
	return remote_pick(remote_class(at)) != NULL ||
	       remote_all_down() != NULL;
}

/* Send the attempt to the host with the most room. */
static void
remote_submit(struct attempt *at)
{
	enum rclass rc = remote_class(at);
	struct host *h = remote_pick(rc);
	struct job_spec spec;
	struct wire_job wj;
	struct rjob *rj;
	char msg[ERRLINE + 128];

	if (h == NULL) {
		const struct host *d = remote_all_down();
		errfmt(msg, sizeof msg, "no host is up: %s: %s",
		       d ? d->name : "?",
		       d && d->errline[0] ? d->errline : "it did not start");
		exec_attempt_unstarted(at, msg);
		return;
	}
	/* Its slot on the host: command mode's {%} is filled in now. */
	at->slot = slots_take(&h->jslots);
	sched_attempt_slotted(at);
	/* The parent keeps dependencies, groups, retries and pacing. */
	spec = *at->spec;
	spec.after = NULL;
	spec.nafter = 0;
	spec.group = NULL;
	spec.retries = -1;
	spec.backoff = spec.backoff_max = -1;
	spec.retry_on = NULL;
	spec.on = -1;
	spec.host_local = 0;
	spec.id = NULL;
	buf_reset(&R.line);
	plan_line(&R.line, at->id, executor_name(at->ex), &spec, at->timeout);
	wj = (struct wire_job){(uint32_t)at->number, wire_usec(at->timeout),
			       R.line.data, (uint32_t)R.line.len};
	rj = xcalloc(1, sizeof *rj);
	rj->at = at;
	rj->host = h;
	rj->tag = host_tag(h, rj);
	if (wire_put_job(&h->wbuf, rj->tag, &wj) == -1) {
		size_t i = (size_t)(rj->tag & 0xffffffffu) - 1;

		h->tab[i] = NULL;
		h->freeslots[h->nfree++] = i;
		free(rj);
		slots_give(&h->jslots, at->slot);
		at->slot = 0;
		exec_attempt_unstarted(at,
				       "the job's line is too long to send");
		return;
	}
	TAILQ_INSERT_TAIL(&h->jobs, rj, entry);
	rj->rc = rc;
	h->busy[rc]++;
	h->nbusy++;
	at->xdata = rj;
	host_want_write(h);
}

/* Stop an attempt: a CANCEL with --grace (at once when hurried). */
static void
remote_cancel(struct attempt *at)
{
	struct rjob *rj = at->xdata;
	struct wire_cancel c;

	if (rj == NULL)
		return;
	rj->cancelling = 1;
	c = (struct wire_cancel){wire_usec(R.opts->grace), sched_hurried()};
	wire_put_cancel(&rj->host->wbuf, rj->tag, &c);
	host_want_write(rj->host);
}

/* The run is over: say BYE to every worker, and make sure each launcher
 * ends and is reaped. Attempts still out (an abandoned run) are dropped:
 * the scheduler settled their jobs. */
static void
remote_shutdown(void)
{
	double until;

	if (R.nhosts == 0)
		return;
	for (size_t i = 0; i < R.nhosts; i++) {
		struct host *h = &R.hosts[i];
		struct rjob *rj;

		while ((rj = TAILQ_FIRST(&h->jobs)) != NULL) {
			host_forget(h, rj);
			free(rj);
		}
		if (h->state == H_UP && h->in >= 0) {
			wire_put_bye(&h->wbuf);
			(void)write(h->in, h->wbuf.data, h->wbuf.len);
		}
		ev_timer_stop(R.loop, &h->beat);
		ev_timer_stop(R.loop, &h->kill);
		if (ev_is_active(&h->pio)) {
			ev_io_stop(R.loop, &h->pio);
			close(h->pio.fd);
		}
		host_close(h);
		if (h->pid > 0 && h->state != H_UP) {
			killpg(h->pid, SIGTERM);
			killpg(h->pid, SIGCONT);
		}
		h->state = H_REFUSED;
	}
	/* One deadline for all: each worker ends on its own once its
	 * stdin is closed. */
	until = mono_now() + R.opts->grace + 1;
	for (size_t i = 0; i < R.nhosts; i++)
		host_end(&R.hosts[i], until);
}

const struct executor_ops exec_remote_ops = {
    "remote", remote_ready, remote_submit, remote_cancel, remote_shutdown,
};

/* Does a job of spec go to a host? */
int
remote_takes(const struct job_spec *spec, int has_input)
{
	return R.nhosts > 0 && !has_input && spec->kind != NULL &&
	       spec->kind->id != KIND_CANCEL && spec->kind->id != KIND_FN &&
	       !spec->host_local;
}

/* Our HELLO: limits, heartbeat, grace, kinds, --env, --workdir. */
static void
remote_hello(const struct corun_options *o)
{
	wire_kinds(&R.kinds);
	for (size_t i = 0; i < o->nenv; i++) {
		const char *v = getenv(o->env[i]);

		if (v == NULL)
			continue;
		buf_printf(&R.env, "%s=%s", o->env[i], v);
		buf_addc(&R.env, '\0');
	}
	R.ours = (struct wire_hello){
	    .cpus = (uint32_t)util_cpus(),
	    .jobs = (uint32_t)(o->jobs > 0 ? o->jobs : 0),
	    .procs = (uint32_t)(o->procs > 0 ? o->procs : 0),
	    .threads = (uint32_t)(o->threads > 0 ? o->threads : 0),
	    .heartbeat = wire_usec(o->host_timeout),
	    .grace = wire_usec(o->grace),
	    .kinds = R.kinds.data,
	    .kindslen = (uint32_t)R.kinds.len,
	    .env = R.env.data,
	    .envlen = (uint32_t)R.env.len,
	    .workdir = o->workdir,
	    .wdlen = (uint32_t)(o->workdir ? strlen(o->workdir) : 0),
	};
}

/* Launch the hosts of opts. */
int
remote_init(struct ev_loop *loop, const struct corun_options *o, char *err,
	    size_t errlen)
{
	ssize_t n;

	memset(&R, 0, sizeof R);
	R.loop = loop;
	R.opts = o;
	if (o->nhosts == 0 || o->dry_run)
		return 0;
	for (size_t i = 0; i < o->nhosts; i++)
		if (remote_host_check(o->hosts[i], err, errlen) == -1)
			return -1;
	n = readlink("/proc/self/exe", R.self, sizeof R.self - 1);
	R.self[n > 0 ? n : 0] = '\0';
	remote_hello(o);
	HC = (struct host_ctx){loop, o, &R.ours, R.self};
	R.hosts = xcalloc(o->nhosts, sizeof *R.hosts);
	R.nhosts = o->nhosts;
	for (size_t i = 0; i < o->nhosts; i++) {
		host_init(&R.hosts[i], o->hosts[i]);
	}
	for (size_t i = 0; i < R.nhosts; i++)
		host_launch(&R.hosts[i]);
	return 0;
}

/* Free the hosts. */
void
remote_free(void)
{
	for (size_t i = 0; i < R.nhosts; i++) {
		host_free(&R.hosts[i]);
	}
	free(R.hosts);
	buf_free(&R.kinds);
	buf_free(&R.env);
	buf_free(&R.line);
	memset(&R, 0, sizeof R);
}
