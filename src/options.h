/*
 * options.h: how corun_run and a runner take a program's struct
 * corun_options, whatever version of corun.h it was built with (options.c).
 */
#ifndef CORUN_OPTIONS_H
#define CORUN_OPTIONS_H

struct corun_options;

#include <stddef.h>

/* Copy src into dst, a whole struct of this library: fields src lacks
 * (an older program) get their defaults. 0, or -1 with errno EINVAL and a
 * message in err when src->size is not one corun_options_init set or
 * retry_on is not a valid list. */
int options_import(struct corun_options *dst, const struct corun_options *src,
		   char *err, size_t errlen);

#endif
