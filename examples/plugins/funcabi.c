/*
 * funcabi.c: a plugin whose corun_plugin_abi is a function, not an int,
 * for the tests.
 *
 * corun reads the symbol's first bytes as the ABI version, whatever the
 * symbol is, and refuses the plugin: "plugin ABI N, corun speaks 1". On
 * x86 the function is placed one byte past a 16-byte boundary, so reading
 * it through an int pointer is a misaligned load (UBSan reports it); corun
 * copies the bytes instead.
 */
#include <stddef.h>

struct corun_out;

#if defined(__x86_64__) || defined(__i386__)
__asm__(".text\n"
	".p2align 4\n"
	".byte 0x90\n"
	".globl corun_plugin_abi\n"
	".type corun_plugin_abi, @function\n"
	"corun_plugin_abi:\n"
	"\tret\n"
	".size corun_plugin_abi, . - corun_plugin_abi\n");
#else
/* corun_plugin_abi: a function where an int is expected. */
void
corun_plugin_abi(void)
{
}
#endif

/* echo [TEXT]: would return TEXT, if corun ever called it. */
int echo(const char *arg, size_t len, struct corun_out *out);

/* echo: never called (the plugin is refused). */
int
echo(const char *arg, size_t len, struct corun_out *out)
{
	(void)arg, (void)len, (void)out;
	return 0;
}
