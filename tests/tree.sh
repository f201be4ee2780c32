#!/bin/sh
# tree.sh: the shape of the source tree. No file in src/ is over 800 lines;
# src/main.c, the command, uses the library only through its public API:
# it includes "config.h", the headers of include/ (corun.h) and system
# headers, never a private header of src/; and the tree is self-contained:
# no file cites a document that is not in it (the contract is the manual
# pages, man/). Reads the source tree only.

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

# Every #include of src/main.c that is neither config.h, nor a header of
# include/, nor a system header (one not in src/).
private=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"]\)\([^>"]*\)[>"].*/\1\2/p' \
	"$S/src/main.c" | while read -r inc; do
	name=${inc#?}
	case $inc in
	'"config.h') continue ;;
	esac
	[ -e "$S/include/$name" ] && continue
	case $inc in
	'<'*) [ -e "$S/src/$name" ] || continue ;;
	esac
	echo "$name"
done)
is "$private" "" "src/main.c includes no private header, only corun.h"
check "src/main.c includes corun.h" \
	grep -Eq '^#include [<"]corun\.h[>"]' "$S/src/main.c"

# The tree cites only what is in it. The pattern is written so that this
# file does not match it.
cites=$(cd "$S" && grep -rEIl '(spec|decisions|style)\.md|\.\./shared' \
	src include tests scripts man examples README configure.ac \
	Makefile.am 2>/dev/null)
is "$cites" "" "no file cites a document outside the tree"

done_testing
