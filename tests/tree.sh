#!/bin/sh
# tree.sh: the shape of the source tree. No file in src/ is over 800 lines;
# the command (src/main*.c, src/main.h) uses the library only through its
# public API: it includes "config.h", the headers of include/ (corun.h),
# its own main.h and system headers, never a private header of src/; the tree is self-contained: no
# file cites a document that is not in it (the contract is the manual
# pages, man/); and the job language's library (the parser, the kind
# table, the plan) needs none of the runtime: no libcurl, no dlopen, no
# event loop, no threads. Reads the source tree and the built parser
# library.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

S=$SRCDIR
MAX_LINES=800

# Every file of src/ longer than MAX_LINES, as "NAME: N lines".
long=$(cd "$S" && for f in src/*.c src/*.h; do
	n=$(wc -l <"$f" | tr -d ' ')
	[ "$n" -gt "$MAX_LINES" ] && echo "$f: $n lines"
done)
is "$long" "" "no file in src/ is over $MAX_LINES lines"

# Every #include of the command's files that is neither config.h, nor
# main.h, nor a header of include/, nor a system header (one not in src/).
private=$(cat "$S"/src/main*.c "$S/src/main.h" |
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"]\)\([^>"]*\)[>"].*/\1\2/p' |
	while read -r inc; do
	name=${inc#?}
	case $inc in
	'"config.h' | '"main.h') continue ;;
	esac
	[ -e "$S/include/$name" ] && continue
	case $inc in
	'<'*) [ -e "$S/src/$name" ] || continue ;;
	esac
	echo "$name"
done)
is "$private" "" "the command (src/main*.c) includes no private header, only corun.h"
check "src/main.c includes corun.h" \
	grep -Eq '^#include [<"]corun\.h[>"]' "$S/src/main.c"

# The tree cites only what is in it. The pattern is written so that this
# file does not match it.
cites=$(cd "$S" && grep -rEIl '(spec|decisions|style)\.md|\.\./shared' \
	src include tests scripts man examples README configure.ac \
	Makefile.am 2>/dev/null)
is "$cites" "" "no file cites a document outside the tree"

# Every symbol the parser's library takes from outside, as nm -u lists it,
# that belongs to the runtime: libcurl (curl_*), the loader (dl*), libev
# (ev_*), threads (pthread_*), process creation (fork, posix_spawn*).
lib=$BUILDDIR/.libs/libcorun_parse.a
if [ -f "$lib" ]; then
	runtime=$(nm -u "$lib" | awk '{print $NF}' |
		grep -E '^(curl_|dl[a-z]|ev_|pthread_|fork$|posix_spawn)' |
		sort -u)
	is "$runtime" "" "the parser's library needs no runtime (libcurl, dlopen, libev, threads)"
	# The check has teeth: the engine's library does take those.
	check "the engine's library does need the runtime (the check can fail)" \
		sh -c "nm -u '$BUILDDIR/.libs/libcorun_engine.a' | grep -Eq ' (dlopen|ev_run|pthread_create)\$'"
else
	skip "the parser's library is not built ($lib)"
	skip "the engine's library is not built"
fi

done_testing
