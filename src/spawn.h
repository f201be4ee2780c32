/*
 * spawn.h: making a child process of an exec or sh job (spawn.c).
 */
#ifndef CORUN_SPAWN_H
#define CORUN_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

/* Spawn argv (its program searched in PATH) with /dev/null, out and err on
 * 0, 1 and 2, in a new process group with default signals; 0 or an errno
 * value. */
int spawn_child(pid_t *pid, char *const argv[], int out, int err);
/* The job the next spawn_child is for: that child (only) gets CORUN_SEQ,
 * CORUN_SLOT and CORUN_ID (id is copied) in its environment, in place of
 * any it would inherit. */
void spawn_env(uint64_t seq, unsigned slot, const char *id);
/* The same with in (-1: /dev/null) on 0: the read end of a --pipe job's
 * input. */
int spawn_child_in(pid_t *pid, char *const argv[], int in, int out, int err);

#endif
