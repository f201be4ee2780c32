/*
 * serve_hello.c: a remote worker's start-up (corun --serve): our greeting
 * and HELLO out at once, then the parent's read and checked, and its
 * HELLO applied (environment, working directory, grace, heartbeat).
 *
 * This runs before the engine exists (no loop, no thread), so it may
 * block: each wait is bounded by SERVE_HELLO_WAIT. A greeting or HELLO we
 * cannot take is one line on standard error and exit status 2; a
 * workdir that cannot be entered, status 1.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corun.h"
#include "serve.h"
#include "wconn.h"
#include "wire.h"

#define SERVE_HELLO_WAIT 60.0 /* seconds for each step */

/* wire_greeting_decode with wconn_read_until's signature. */
static ssize_t
serve_hello_dec_greeting(const char *p, size_t n, void *g, char *err,
			 size_t len)
{
	return wire_greeting_decode(p, n, g, err, len);
}

/* wire_decode with wconn_read_until's signature. */
static ssize_t
serve_hello_dec_frame(const char *p, size_t n, void *m, char *err, size_t len)
{
	return wire_decode(p, n, m, err, len);
}

/* Our HELLO: CPUs, limits, heartbeat, grace, kinds; no env, no workdir. */
static void
serve_hello_put(struct buf *out, const struct corun_options *o,
		struct buf *kinds)
{
	struct wire_hello h = {0};

	wire_kinds(kinds);
	h.cpus = (uint32_t)util_cpus();
	h.jobs = (uint32_t)(o->jobs > 0 ? o->jobs : 0);
	h.procs = (uint32_t)(o->procs > 0 ? o->procs : 0);
	h.threads = (uint32_t)(o->threads > 0 ? o->threads : 0);
	h.heartbeat = WIRE_NO_TIME;
	h.grace = wire_usec(o->grace > 0 ? o->grace : 0);
	h.kinds = kinds->data;
	h.kindslen = (uint32_t)kinds->len;
	wire_put_greeting(out);
	if (wire_put_hello(out, &h) == -1)
		fatalx("--serve: our HELLO does not encode");
}

/* Take the parent's HELLO: its environment, workdir, grace, heartbeat.
 * 0, or the exit status (a workdir that cannot be entered: 1). */
static int
serve_hello_apply(const struct wire_hello *h, struct corun_options *opts,
		  double *heartbeat)
{
	const char *s = h->env, *end = h->env + h->envlen;

	while (s < end) {
		size_t n = strlen(s); /* wire_env_ok: each entry ends in NUL */
		char *e = xstrndup(s, n), *eq = strchr(e, '=');

		*eq = '\0';
		if (setenv(e, eq + 1, 1) == -1) {
			serve_warn("setenv %s: %s", e, strerror(errno));
			free(e);
			return 1;
		}
		free(e);
		s += n + 1;
	}
	if (h->wdlen > 0) {
		char *wd = xstrndup(h->workdir, h->wdlen);

		if (chdir(wd) == -1) {
			serve_warn("workdir %s: %s", wd, strerror(errno));
			free(wd);
			return 1;
		}
		free(wd);
	}
	opts->grace = wire_seconds(h->grace);
	*heartbeat = wire_seconds(h->heartbeat);
	return 0;
}

/* Greetings and HELLOs both ways; see serve.h. */
int
serve_hello_exchange(struct wconn *c, struct corun_options *opts,
		     double *heartbeat)
{
	struct wire_greeting g;
	struct wire_msg m;
	struct buf kinds = BUF_INIT, ours = BUF_INIT;
	struct wire_hello mine = {0};
	char err[512];
	ssize_t n;
	int rc = 2;

	serve_hello_put(&c->out, opts, &kinds);
	if (wconn_flush_wait(c, SERVE_HELLO_WAIT) == -1) {
		serve_warn("writing the HELLO: %s", strerror(errno));
		goto out;
	}
	n = wconn_read_until(c, serve_hello_dec_greeting, &g, err, sizeof err,
			     SERVE_HELLO_WAIT);
	if (n < 0) {
		serve_warn("bad greeting from the parent (%s)", err);
		goto out;
	}
	if (n == 0 ||
	    (buf_consume(&c->in, (size_t)n),
	     wire_greeting_check("the parent", &g, err, sizeof err) == -1) ||
	    (n = wconn_read_until(c, serve_hello_dec_frame, &m, err, sizeof err,
				  SERVE_HELLO_WAIT)) == 0) {
		serve_warn("%s", err);
		goto out;
	}
	if (n < 0) {
		serve_warn("bad HELLO from the parent (%s)", err);
		goto out;
	}
	if (m.type != WIRE_HELLO) {
		serve_warn("the parent's first frame is %s, not HELLO",
			   wire_type_name(m.type));
		goto out;
	}
	/* Every kind the parent may send must be one of ours. */
	wire_kinds(&ours);
	mine.kinds = ours.data;
	mine.kindslen = (uint32_t)ours.len;
	if (wire_hello_check("this worker", &m.u.hello, &mine, err,
			     sizeof err) == -1) {
		serve_warn("%s", err);
		goto out;
	}
	rc = serve_hello_apply(&m.u.hello, opts, heartbeat);
	buf_consume(&c->in, (size_t)n);
out:
	buf_free(&kinds);
	buf_free(&ours);
	return rc;
}
