#!/bin/sh
# embed.sh: libcorun from a C program. examples/embed (linked by make
# check) runs a child, a thread-pool call and one of its own C functions in
# the process pool; then the library is installed into a scratch root and
# the example is built against it with pkg-config, as corun(3) says, and
# run again.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

out=$("$BUILDDIR/examples/embed" 2>embed.err)
is "$?" 0 "embed: exit status 0"
is "$(printf '%s\n' "$out" | sort)" "read: ok: $(wc -c </etc/passwd | tr -d ' ')
sh: ok: hello from a child
sum_to: ok: 500000500000" "embed: a child, a thread call and a C function in a worker"
is "$(cat embed.err)" "" "embed: nothing on stderr"

# Install into a scratch root and build against it.
root=$T/root
install_into "$root"
pc=$(find "$root" -name corun.pc | head -1)
is "$(basename "${pc:-none}")" corun.pc "corun.pc is installed"
flags=$(PKG_CONFIG_PATH=$(dirname "${pc:-/nonexistent}") \
	PKG_CONFIG_SYSROOT_DIR=$root pkg-config --cflags --libs corun 2>&1)
# The build's compiler and flags (a sanitizer build's runtime must come
# first in a program that loads its library).
# shellcheck disable=SC2086
${EMBED_CC:-cc} -o embed-installed "$SRCDIR/examples/embed.c" $flags \
	>cc.log 2>&1
is "$?" 0 "embed.c builds with \$(pkg-config --cflags --libs corun)"
lib=$(dirname "$(find "$root" -name 'libcorun.so' | head -1)")
out2=$(LD_LIBRARY_PATH=$lib ./embed-installed 2>&1)
is "$?" 0 "the installed build runs: exit status 0"
is "$(printf '%s\n' "$out2" | sort)" "$(printf '%s\n' "$out" | sort)" \
	"the installed build prints the same"

done_testing
