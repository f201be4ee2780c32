#!/bin/sh
# library.sh: libcorun is a clean library (corun(3), "LINKING").
#
# - The built shared library exports exactly the functions declared in
#   include/corun.h: no internal function leaks out, none is missing.
# - Every library that `make install` puts in place defines no global
#   symbol outside the corun_ prefix, so a program linking it (shared or,
#   if a static archive were installed, static) gets no clash with its own
#   names or libc's (warnx, fatal, xmalloc...).
# - A program built against the library (only its API) keeps its own
#   rand() sequence (the library never reseeds nor draws from it, even for
#   backoff jitter), gets EINVAL for options whose size it does not know,
#   and has its options from an older, smaller struct accepted.
# - The command, src/main.c, includes no private header of src/: it uses
#   only include/corun.h, so it could link against the installed library.

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
}' "$SRCDIR/include/corun.h" | grep -v '^ *typedef' | grep -v '^ *# *define' |
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
install_into "$root"
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

# A program of ours against the built shared library.
cat >api.c <<'EOF2'
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <corun.h>

int
main(void)
{
	struct corun_options o, old;
	struct corun *r;
	struct corun_future *f;
	char err[128];
	int want, got;

	srand(42);
	want = rand();
	srand(42);
	corun_options_init(&o);
	o.size = sizeof o + 8;
	setvbuf(stdout, NULL, _IONBF, 0);
	errno = 0;
	r = corun_new(&o);
	printf("bigger: %s %s\n", r == NULL ? "NULL" : "runner",
	       errno == EINVAL ? "EINVAL" : "?");
	printf("run bigger: %d\n", corun_run(&o, NULL, 0));
	corun_options_init(&old);
	old.size = offsetof(struct corun_options, worker_nice);
	old.procs = 1;
	r = corun_new(&old);
	printf("older: %s\n", r != NULL ? "runner" : "NULL");
	if (r == NULL)
		return 1;
	errno = 0;
	corun_options_init(&o);
	printf("second: %s ", corun_new(&o) == NULL ? "NULL" : "runner");
	printf("%s\n", errno == EBUSY ? "EBUSY" : "?");
	f = corun_submit(r, "retries=2 backoff=1ms exec false", err, sizeof err);
	corun_gather(r, &f, 1);
	printf("attempts: %d\n", corun_future_attempts(f));
	corun_future_free(f);
	corun_free(r);
	got = rand();
	printf("rand: %s\n", got == want ? "same" : "reseeded");
	return 0;
}
EOF2
# shellcheck disable=SC2086
${EMBED_CC:-cc} -std=c11 -I"$SRCDIR/include" -o api api.c \
	-L"$(dirname "$so")" -lcorun >cc.log 2>&1
ok $? "a program builds against libcorun.so" || diag "$(cat cc.log)"
out=$(LD_LIBRARY_PATH=$(dirname "$so") timeout 20 ./api 2>&1)
is "$out" "bigger: NULL EINVAL
corun: options not set up by corun_options_init
run bigger: 2
older: runner
second: NULL EBUSY
attempts: 3
rand: same" "options' size checked, one runner, the program's rand() untouched"

# The command (src/main*.c): system headers, config.h, corun.h and its
# own main.h only.
cat "$SRCDIR"/src/main*.c | grep '^#[ ]*include[ ]*"' |
	grep -v '"config\.h"' | grep -v '"corun\.h"' | grep -v '"main\.h"' \
	>private.txt
is "$(cat private.txt)" "" "the command (src/main*.c) includes no private header"

done_testing
