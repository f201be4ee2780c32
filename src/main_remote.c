/*
 * main_remote.c: the command's remote-worker options (corun(1), REMOTE
 * WORKERS): -S lists and --hosts-file become the hosts array, --env and
 * --basefile are collected, the rest checked and set.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corun.h"
#include "main.h"

/* Append a copy of s to a list of strings. */
static void
list_add(const char *const **list, size_t *n, const char *s, size_t len)
{
	char **l = main_alloc((void *)*list, (*n + 1) * sizeof *l);
	char *copy = main_alloc(NULL, len + 1);

	memcpy(copy, s, len);
	copy[len] = '\0';
	l[(*n)++] = copy;
	*list = (const char *const *)l;
}

/* Add the hosts of text (entries separated by commas or blanks); a bad
 * entry is a usage error naming where (FILE:LINE or the option). */
static void
hosts_add(struct corun_options *o, const char *text, const char *where)
{
	const char *p = text;

	while (*p != '\0') {
		size_t len = strcspn(p, ", \t\r\n");
		char e[1024];

		if (len > 0) {
			snprintf(e, sizeof e, "%.*s", (int)len, p);
			if (len >= sizeof e || corun_parse_host(e) == -1) {
				fprintf(stderr,
					"corun: %s: bad host '%s' (want "
					"[N/]HOST, N >= 1, or :)\n",
					where, e);
				exit(2);
			}
			list_add(&o->hosts, &o->nhosts, p, len);
		}
		p += len;
		if (*p != '\0')
			p++;
	}
}

/* --hosts-file FILE: hosts, # starts a comment. */
static void
hosts_file(struct corun_options *o, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, where[4096];
	size_t cap = 0;
	unsigned n = 0;

	if (f == NULL) {
		fprintf(stderr, "corun: --hosts-file %s: %s\n", path,
			strerror(errno));
		exit(2);
	}
	while (getline(&line, &cap, f) != -1) {
		char *hash = strchr(line, '#');

		n++;
		if (hash != NULL)
			*hash = '\0';
		snprintf(where, sizeof where, "%s:%u", path, n);
		hosts_add(o, line, where);
	}
	free(line);
	fclose(f);
}

/* Is s an environment variable's name? */
static int
env_name(const char *s)
{
	if (*s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s != '\0'; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* One remote-worker option. */
void
opt_remote(struct corun_options *o, const char *name, const char *arg)
{
	long long n;

	if (strcmp(name, "hosts") == 0) {
		hosts_add(o, arg, "--hosts");
	} else if (strcmp(name, "hosts-file") == 0) {
		hosts_file(o, arg);
	} else if (strcmp(name, "launcher") == 0) {
		o->launcher = arg;
	} else if (strcmp(name, "host-timeout") == 0) {
		o->host_timeout = opt_duration("--host-timeout", arg);
		if (!(o->host_timeout >= 0.1))
			usage_error("--host-timeout: '%s' is under 100ms", arg);
	} else if (strcmp(name, "max-host-losses") == 0) {
		if (corun_parse_count(arg, &n) == -1 || n > 1000)
			usage_error("--max-host-losses: '%s' is not a whole "
				    "number from 0 to 1000",
				    arg);
		o->max_host_losses = (int)n;
	} else if (strcmp(name, "env") == 0) {
		if (!env_name(arg))
			usage_error("--env: '%s' is not a variable's name",
				    arg);
		list_add(&o->env, &o->nenv, arg, strlen(arg));
	} else if (strcmp(name, "workdir") == 0) {
		o->workdir = arg;
	} else if (strcmp(name, "basefile") == 0) {
		if (access(arg, R_OK) == -1) {
			fprintf(stderr, "corun: --basefile %s: %s\n", arg,
				strerror(errno));
			exit(2);
		}
		list_add(&o->basefiles, &o->nbasefiles, arg, strlen(arg));
	}
}

/* Free one list of strings. */
static void
list_free(const char *const **list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((void *)(*list)[i]);
	free((void *)*list);
	*list = NULL;
	*n = 0;
}

/* Free the lists opt_remote made. */
void
remote_free_opts(struct corun_options *o)
{
	list_free(&o->hosts, &o->nhosts);
	list_free(&o->env, &o->nenv);
	list_free(&o->basefiles, &o->nbasefiles);
}
