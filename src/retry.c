/*
 * retry.c: which failures are retried (retry-on=, --retry-on).
 *
 * A list is a comma list of words (corun-jobs(5), "Retry rules"):
 *
 *     timeout  signal  start  exit:N  exit:N-M  http:N  http:N-M  http:Nxx
 *
 * The list stays the text it was written as (the spec keeps it, so the
 * plan prints it back as it was); retry_next reads it one word at a time
 * into a small struct, both when a line is checked and when an attempt
 * has failed and the scheduler asks retry_wanted, which is rare enough
 * that reading a few bytes again costs nothing. Pure: no I/O, no state.
 * A word is matched against the attempt's result only: a timeout is
 * status timeout; signal, start, exit and http apply to a failed attempt,
 * whose result says what ended it (a signal corun sends to stop an attempt
 * makes it timeout or cancelled, never failed).
 */
#include "config.h"

#include <string.h>

#include "retry.h"
#include "util.h"

/* The highest exit status, and the range of HTTP statuses. */
#define RETRY_EXIT_MAX 255
#define RETRY_HTTP_MIN 100
#define RETRY_HTTP_MAX 599

/* n bytes of decimal digits (1 to 3 of them) into *v: 0 or -1. */
static int
retry_number(const char *s, size_t n, int *v)
{
	if (n == 0 || n > 3 || strspn(s, "0123456789") < n)
		return -1;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v * 10 + (s[i] - '0');
	return 0;
}

/* "N" or "N-M" (n bytes) within min..max into w: 0 or -1. */
static int
retry_range(const char *s, size_t n, int min, int max, struct retry_word *w)
{
	const char *dash = memchr(s, '-', n);
	size_t k = dash != NULL ? (size_t)(dash - s) : n;

	if (retry_number(s, k, &w->lo) < 0)
		return -1;
	w->hi = w->lo;
	if (dash != NULL && retry_number(dash + 1, n - k - 1, &w->hi) < 0)
		return -1;
	return w->lo >= min && w->hi <= max && w->lo <= w->hi ? 0 : -1;
}

/* Does word (n bytes) start with prefix? Then *rest is what follows. */
static int
retry_prefix(const char *word, size_t n, const char *prefix, const char **rest)
{
	size_t p = strlen(prefix);

	if (n < p || memcmp(word, prefix, p) != 0)
		return 0;
	*rest = word + p;
	return 1;
}

/* One word of n bytes into w: 0 or -1. */
static int
retry_word(const char *s, size_t n, struct retry_word *w)
{
	static const struct {
		const char *name;
		int what;
	} plain[] = {
	    {"timeout", RETRY_TIMEOUT},
	    {"signal", RETRY_SIGNAL},
	    {"start", RETRY_START},
	};
	const char *r;

	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		if (strlen(plain[i].name) == n &&
		    memcmp(plain[i].name, s, n) == 0) {
			w->what = plain[i].what;
			w->lo = w->hi = 0;
			return 0;
		}
	if (retry_prefix(s, n, "exit:", &r)) {
		w->what = RETRY_EXIT;
		return retry_range(r, n - (size_t)(r - s), 0, RETRY_EXIT_MAX,
				   w);
	}
	if (!retry_prefix(s, n, "http:", &r))
		return -1;
	w->what = RETRY_HTTP;
	n -= (size_t)(r - s);
	/* A class: 1xx to 5xx. */
	if (n == 3 && r[0] >= '1' && r[0] <= '5' && r[1] == 'x' &&
	    r[2] == 'x') {
		w->lo = (r[0] - '0') * 100;
		w->hi = w->lo + 99;
		return 0;
	}
	return retry_range(r, n, RETRY_HTTP_MIN, RETRY_HTTP_MAX, w);
}

/* Read the next word of a list; see retry.h. */
int
retry_next(const char **list, struct retry_word *w, char *err, size_t errlen)
{
	const char *s = *list, *comma;
	size_t n;

	if (s == NULL)
		return 0;
	comma = strchr(s, ',');
	n = comma != NULL ? (size_t)(comma - s) : strlen(s);
	if (retry_word(s, n, w) < 0) {
		if (err != NULL)
			errfmt(err, errlen, "bad retry-on word '%.*s'", (int)n,
			       s);
		return -1;
	}
	*list = comma != NULL ? comma + 1 : NULL;
	return 1;
}

/* Check a whole list: 0, or -1 and a message. */
int
retry_check(const char *list, char *err, size_t errlen)
{
	struct retry_word w;
	int rc;

	while ((rc = retry_next(&list, &w, err, errlen)) == 1)
		;
	return rc;
}

/* Does one word describe how the attempt of res ended? */
static int
retry_matches(const struct retry_word *w, const struct result *res)
{
	if (w->what == RETRY_TIMEOUT)
		return res->status == ST_TIMEOUT;
	if (res->status != ST_FAILED)
		return 0;
	switch (w->what) {
	case RETRY_SIGNAL:
		return res->signal != 0;
	case RETRY_START:
		return res->unstarted;
	case RETRY_EXIT:
		return res->exit >= w->lo && res->exit <= w->hi;
	default:
		return res->http_status >= w->lo && res->http_status <= w->hi;
	}
}

/* Should the attempt be retried under list? See retry.h. */
int
retry_wanted(const char *list, const char *dflt, const struct result *res)
{
	struct retry_word w;

	if (list == NULL)
		list = dflt;
	if (list == NULL)
		return 1;
	while (retry_next(&list, &w, NULL, 0) == 1)
		if (retry_matches(&w, res))
			return 1;
	return 0;
}
