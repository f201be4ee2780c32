/*
 * badabi.c: a plugin built for an ABI corun does not speak, for the tests.
 *
 * It declares corun_plugin_abi = 999 by hand instead of with
 * CORUN_PLUGIN_DECLARE, so corun refuses it:
 * "call: badabi.so: plugin ABI 999, corun speaks 1".
 */
#include "corun-plugin.h"

const int corun_plugin_abi = 999;

/* echo [TEXT]: would return TEXT, if corun ever called it. */
int
echo(const char *arg, size_t len, struct corun_out *out)
{
	out->write(out, arg, len);
	return 0;
}
