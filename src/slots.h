/*
 * slots.h: job slots (corun(1), {%} and CORUN_SLOT): each running job of
 * a set has the smallest number of 1, 2, ... that no other running job of
 * the set has. Free numbers are those given back (a min-heap) and every
 * one above top. Pure; loop thread only where it is used.
 */
#ifndef CORUN_SLOTS_H
#define CORUN_SLOTS_H

#include <stddef.h>

struct slots {
	unsigned *heap; /* numbers given back, a min-heap */
	size_t n, cap;
	unsigned top;	/* the largest number ever taken */
};

#define SLOTS_INIT {NULL, 0, 0, 0}

/* Take the smallest free slot number (>= 1). */
unsigned slots_take(struct slots *);
/* Give a slot number back (0: none, ignored). */
void slots_give(struct slots *, unsigned);
/* Free what the set holds; it is empty again. */
void slots_free(struct slots *);

#endif
