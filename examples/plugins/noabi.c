/*
 * noabi.c: a shared library that is not a corun plugin, for the tests.
 *
 * It has a function of the right type but does not declare
 * corun_plugin_abi, so corun refuses to call anything in it:
 * "call: noabi.so: not a corun plugin (no corun_plugin_abi)".
 */
#include "corun-plugin.h"

/* echo [TEXT]: would return TEXT, if corun ever called it. */
int
echo(const char *arg, size_t len, struct corun_out *out)
{
	out->write(out, arg, len);
	return 0;
}
