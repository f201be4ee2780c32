#!/bin/sh
# library.sh: libcorun is a clean library (corun(3), "LINKING").
#
# - The built shared library exports exactly the functions declared in
#   include/corun.h: no internal function leaks out, none is missing.
# - Every library that `make install` puts in place defines no global
#   symbol outside the corun_ prefix, so a program linking it (shared or,
#   if a static archive were installed, static) gets no clash with its own
#   names or libc's (warnx, fatal, xmalloc...).

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# The function names declared in include/corun.h: comments and typedefs
# removed, every identifier corun_... followed by "(".
awk '
{
	line = $0
	out = ""
	while (line != "") {
		if (incomment) {
			i = index(line, "*/")
			if (i == 0) { line = ""; break }
			line = substr(line, i + 2)
			incomment = 0
		} else {
			i = index(line, "/*")
			if (i == 0) { out = out line; line = ""; break }
			out = out substr(line, 1, i - 1)
			line = substr(line, i + 2)
			incomment = 1
		}
	}
	print out
}' "$SRCDIR/include/corun.h" | grep -v '^ *typedef' |
	grep -o 'corun_[a-z0-9_]*[ ]*(' | tr -d ' (' | sort -u >api.txt
api_n=$(wc -l <api.txt | tr -d ' ')
lt 10 "$api_n" "corun.h declares the API (found $api_n functions)"

so=$BUILDDIR/.libs/libcorun.so
[ -e "$so" ] || bail "no shared library at $so"
nm -D --defined-only "$so" | awk 'NF == 3 && $2 != "A" { print $3 }' |
	sed 's/@.*//' | sort -u >exported.txt
is "$(cat exported.txt)" "$(cat api.txt)" \
	"libcorun.so exports exactly the functions of corun.h" ||
	diag "$(diff api.txt exported.txt)"

# Install into a scratch root; look at every library that lands there.
root=$T/root
if make -s -C "$BUILDDIR" install DESTDIR="$root" >install.log 2>&1; then
	ok 0 "make install DESTDIR=... works"
else
	ok 1 "make install DESTDIR=... works"
	diag "$(tail -20 install.log)"
fi
find "$root" \( -name '*.a' -o -name '*.so' -o -name '*.so.*' \) -type f |
	sort >libs.txt
like "$(cat libs.txt)" 'libcorun\.so' "a shared libcorun is installed"
bad=
while read -r f; do
	case $f in
	*.a) nm -g --defined-only "$f" 2>/dev/null ;;
	*) nm -D --defined-only "$f" ;;
	esac | awk 'NF == 3 && $2 != "A" { print $3 }' | sed 's/@.*//' |
		grep -v '^corun_' >names.txt
	if [ -s names.txt ]; then
		bad="$bad $(basename "$f"): $(head -5 names.txt | tr '\n' ' ')"
	fi
done <libs.txt
is "$bad" "" "installed libraries define no global name outside corun_"

done_testing
