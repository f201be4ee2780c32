/*
 * table.h: two small open-addressing hash tables.
 *
 * u64tab maps a non-zero 64-bit key (a sequence number) to a pointer;
 * strtab maps a string (a job id, copied in) to a non-zero 64-bit value.
 * Both grow by doubling at 1/2 load and shrink never. Deletion (u64tab)
 * uses backward-shift, so there are no tombstones and a long stream of
 * inserts and deletes keeps the table as small as its live contents.
 * Not thread-safe: the loop thread's.
 */
#ifndef CORUN_TABLE_H
#define CORUN_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct u64tab {
	uint64_t *keys; /* 0: empty slot */
	void **vals;
	size_t cap;     /* a power of two, or 0 */
	size_t len;
};

/* The value for key, or NULL. */
void *u64tab_get(const struct u64tab *, uint64_t key);
/* Set key's value (key != 0, val != NULL). */
void u64tab_put(struct u64tab *, uint64_t key, void *val);
/* Remove key if present. */
void u64tab_del(struct u64tab *, uint64_t key);
void u64tab_free(struct u64tab *);

struct strtab {
	char **keys;    /* NULL: empty slot; owned copies */
	uint64_t *vals;
	size_t cap;
	size_t len;
};

/* The value for key, or 0. */
uint64_t strtab_get(const struct strtab *, const char *key);
/* Add key -> val (val != 0). Returns 0, or -1 if key is already there. */
int strtab_add(struct strtab *, const char *key, uint64_t val);
void strtab_free(struct strtab *);

#endif
