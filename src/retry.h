/*
 * retry.h: which failures are retried (retry-on= in corun-jobs(5),
 * --retry-on in corun(1)), as a pure module (retry.c).
 */
#ifndef CORUN_RETRY_H
#define CORUN_RETRY_H

#include <stddef.h>

#include "future.h"

/* One word of a retry-on list. */
struct retry_word {
	enum {
		RETRY_TIMEOUT, /* timeout: the attempt timed out */
		RETRY_SIGNAL, /* signal: a signal corun did not send ended it */
		RETRY_START,  /* start: corun could not start the attempt */
		RETRY_EXIT,   /* exit:N[-M]: an exit status in lo..hi */
		RETRY_HTTP,   /* http:N[-M], http:Nxx: a status in lo..hi */
	} what;
	int lo, hi;
};

/*
 * Read the next word of the comma list at *list into *w and move *list past
 * it (and past its comma). Returns 1 with a word, 0 at the end of the list,
 * or -1 with a message in err ("bad retry-on word 'x'") for a word that is
 * not one of the list's (an empty one included).
 */
int retry_next(const char **list, struct retry_word *w, char *err,
	       size_t errlen);

/* Check a whole list (at least one word): 0, or -1 and a message. */
int retry_check(const char *list, char *err, size_t errlen);

/*
 * Should a failed or timed-out attempt with result res be retried under
 * list, the job's retry-on= (NULL: dflt, the run's --retry-on; NULL too:
 * every failure is)? Lists must have passed retry_check. The retry count
 * (retries=) is the caller's to check.
 */
int retry_wanted(const char *list, const char *dflt, const struct result *res);

#endif
