/*
 * table.c: the hash tables of table.h (linear probing).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "util.h"

/* Mix a 64-bit key (splitmix64's finaliser). */
static uint64_t
hash_u64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* FNV-1a over a string. */
static uint64_t
hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return hash_u64(h);
}

/* The slot of key, or of the empty slot where it would go. */
static size_t
u64tab_slot(const struct u64tab *t, uint64_t key)
{
	size_t mask = t->cap - 1, i = hash_u64(key) & mask;

	while (t->keys[i] != 0 && t->keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

/* Double the table (or make its first slots). */
static void
u64tab_grow(struct u64tab *t)
{
	struct u64tab n = {NULL, NULL, t->cap ? t->cap * 2 : 16, 0};

	n.keys = xcalloc(n.cap, sizeof *n.keys);
	n.vals = xcalloc(n.cap, sizeof *n.vals);
	for (size_t i = 0; i < t->cap; i++)
		if (t->keys[i] != 0)
			u64tab_put(&n, t->keys[i], t->vals[i]);
	free(t->keys);
	free(t->vals);
	*t = n;
}

/* Look key up. */
void *
u64tab_get(const struct u64tab *t, uint64_t key)
{
	size_t i;

	if (t->cap == 0)
		return NULL;
	i = u64tab_slot(t, key);
	return t->keys[i] == key ? t->vals[i] : NULL;
}

/* Insert or replace. */
void
u64tab_put(struct u64tab *t, uint64_t key, void *val)
{
	size_t i;

	if ((t->len + 1) * 2 > t->cap)
		u64tab_grow(t);
	i = u64tab_slot(t, key);
	if (t->keys[i] == 0) {
		t->keys[i] = key;
		t->len++;
	}
	t->vals[i] = val;
}

/* Remove, shifting later members of the probe run back. */
void
u64tab_del(struct u64tab *t, uint64_t key)
{
	size_t mask, i, j;

	if (t->cap == 0)
		return;
	mask = t->cap - 1;
	i = u64tab_slot(t, key);
	if (t->keys[i] != key)
		return;
	t->len--;
	for (j = (i + 1) & mask; t->keys[j] != 0; j = (j + 1) & mask) {
		size_t home = hash_u64(t->keys[j]) & mask;

		/* Move j into the hole at i if its home is not in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->keys[i] = t->keys[j];
			t->vals[i] = t->vals[j];
			i = j;
		}
	}
	t->keys[i] = 0;
	t->vals[i] = NULL;
}

/* Release the table. */
void
u64tab_free(struct u64tab *t)
{
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof *t);
}

/* The slot of key, or of the empty slot where it would go. */
static size_t
strtab_slot(const struct strtab *t, const char *key)
{
	size_t mask = t->cap - 1, i = hash_str(key) & mask;

	while (t->keys[i] != NULL && strcmp(t->keys[i], key) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Look key up. */
uint64_t
strtab_get(const struct strtab *t, const char *key)
{
	size_t i;

	if (t->cap == 0)
		return 0;
	i = strtab_slot(t, key);
	return t->keys[i] != NULL ? t->vals[i] : 0;
}

/* Insert a copy of key unless present. */
int
strtab_add(struct strtab *t, const char *key, uint64_t val)
{
	size_t i;

	if ((t->len + 1) * 2 > t->cap) {
		struct strtab n = {NULL, NULL, t->cap ? t->cap * 2 : 16, 0};

		n.keys = xcalloc(n.cap, sizeof *n.keys);
		n.vals = xcalloc(n.cap, sizeof *n.vals);
		for (size_t k = 0; k < t->cap; k++) {
			if (t->keys[k] == NULL)
				continue;
			i = strtab_slot(&n, t->keys[k]);
			n.keys[i] = t->keys[k];
			n.vals[i] = t->vals[k];
			n.len++;
		}
		free(t->keys);
		free(t->vals);
		*t = n;
	}
	i = strtab_slot(t, key);
	if (t->keys[i] != NULL)
		return -1;
	t->keys[i] = xstrdup(key);
	t->vals[i] = val;
	t->len++;
	return 0;
}

/* Release the table and its key copies. */
void
strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof *t);
}
