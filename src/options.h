/*
 * options.h: how corun_run and a runner take a program's struct
 * corun_options, whatever version of corun.h it was built with (options.c).
 */
#ifndef CORUN_OPTIONS_H
#define CORUN_OPTIONS_H

struct corun_options;

/* Copy src into dst, a whole struct of this library: fields src lacks
 * (an older program) get their defaults. 0, or -1 with errno EINVAL when
 * src->size is not one corun_options_init set. */
int options_import(struct corun_options *dst, const struct corun_options *src);

#endif
