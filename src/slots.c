/*
 * slots.c: job slot numbers, the smallest free one first (slots.h).
 */
#include "config.h"

#include <stdlib.h>

#include "slots.h"
#include "util.h"

/* Take the smallest free slot number. */
unsigned
slots_take(struct slots *sl)
{
	unsigned s;
	size_t i = 0;

	if (sl->n == 0)
		return ++sl->top;
	s = sl->heap[0];
	sl->heap[0] = sl->heap[--sl->n];
	for (;;) {
		size_t c = 2 * i + 1;
		unsigned t;

		if (c >= sl->n)
			break;
		if (c + 1 < sl->n && sl->heap[c + 1] < sl->heap[c])
			c++;
		if (sl->heap[i] <= sl->heap[c])
			break;
		t = sl->heap[i];
		sl->heap[i] = sl->heap[c];
		sl->heap[c] = t;
		i = c;
	}
	return s;
}

/* Give a slot number back (0: none). */
void
slots_give(struct slots *sl, unsigned s)
{
	size_t i;

	if (s == 0)
		return;
	i = sl->n++;
	if (sl->n > sl->cap) {
		sl->cap = sl->cap ? sl->cap * 2 : 16;
		sl->heap = xrealloc(sl->heap, sl->cap * sizeof *sl->heap);
	}
	while (i > 0 && sl->heap[(i - 1) / 2] > s) {
		sl->heap[i] = sl->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	sl->heap[i] = s;
}

/* Free what the set holds. */
void
slots_free(struct slots *sl)
{
	free(sl->heap);
	*sl = (struct slots)SLOTS_INIT;
}
