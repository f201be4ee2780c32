/*
 * main.h: what the command's files (main.c, main_usage.c, main_remote.c)
 * share. They use only libcorun's API (include/corun.h).
 */
#ifndef CORUN_MAIN_H
#define CORUN_MAIN_H

#include <stddef.h>

struct corun_options;

/* A macro's value as a string literal. */
#define STR(x) STR_(x)
#define STR_(x) #x

/* --help's text. */
extern const char usage_text[];

/* Complain about the command line (fmt has one %s, arg) and exit 2. */
_Noreturn void usage_error(const char *fmt, const char *arg);
/* realloc, or exit 1 with a message. */
void *main_alloc(void *p, size_t n);
/* A duration option's value, or a usage error naming the option. */
double opt_duration(const char *name, const char *arg);

/* A remote-worker option (its long name without dashes: "hosts",
 * "hosts-file", "launcher", "host-timeout", "max-host-losses", "env",
 * "workdir", "basefile") and its argument, into o (main_remote.c). */
void opt_remote(struct corun_options *o, const char *name, const char *arg);
/* Free the lists opt_remote made. */
void remote_free_opts(struct corun_options *o);

#endif
