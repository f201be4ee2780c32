#!/bin/sh
# docs.sh: the manual pages, the README and the examples agree with corun.
#
# A TAP test run by make check with CORUN (the built binary), SRCDIR (the
# source root) and BUILDDIR in the environment. It checks that:
#   - man/corun.1, man/corun-jobs.5 and man/corun.3 are clean under
#     mandoc -Tlint and groff -ww -z -man (whichever is installed; both
#     when both are);
#   - every long option that corun --help prints is in corun.1, and the
#     version of corun --version is the one in the pages' .TH lines;
#   - the README names the three manual pages;
#   - the C code of corun.3 builds without a warning (below);
#   - every documented example command runs as documented (below);
#   - every examples/*.jobs passes corun -n, and examples/tour.jobs runs
#     with exit status 0, one JSON record per job, all three executors.
#
# Documented examples. In a manual page, a line inside .EX/.EE that starts
# with "$ "; in the README, a line that starts with four spaces and "$ ".
# Such a line is run when it invokes corun (at its start or after |, ; or
# &). It runs with sh, in a scratch directory holding a link to examples/,
# with the built corun first in PATH; all the examples of one document run
# in the same directory, in order. It must exit 0, or N when the line ends
# with the comment "# exit status N". The lines after it (in a man page up
# to the next "$ " line or .EE; in the README every following line indented
# by four spaces) are its output, standard output and standard error
# together, compared in any order once elapsed times are masked. A line
# that ends in " ..." matches any line that starts like it; a line that is
# only "..." stands for lines left out, and without one the output must
# have exactly the lines shown. With -k or -n, whose lines come in input
# order, the lines must come in the order shown too. A command is skipped
# (TAP SKIP) when it uses an option that corun --help does not list, or
# when corun exits 2 saying that something is "not implemented": that part
# is not built yet. A command whose line ends with a comment that starts
# with "needs", as in "# needs a server on 127.0.0.1:8000", is not run at
# all (TAP SKIP with that reason): its output depends on something that a
# test run does not have.
#
# C code. In a manual page (corun.3), an .EX/.EE block whose first line is a
# comment that starts "/* NAME.c:" is the file NAME.c. It is built with
# -std=c11 -Wall -Wextra, in the directory where that page's examples run:
# into the program NAME, linked with the built libcorun, when it defines
# main(), else into the plugin NAME.so. A "$ " line of that page that starts
# with ./NAME runs that program, as a corun line would run.

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR}
CORUN=${CORUN:-$BUILDDIR/src/corun}
case $CORUN in /*) ;; *) CORUN=$PWD/$CORUN ;; esac
# Seconds one example may take: a hang detector, scaled like the limits
# of tests/lib.sh when CORUN_TIME_SCALE is set.
LIMIT=$(awk -v f="${CORUN_TIME_SCALE:-2}" 'BEGIN { printf "%d\n", 30 * f }')

n=0
failed=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/corun-docs.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM

# ok NAME: report a passing test.
ok() {
	n=$((n + 1))
	printf 'ok %d - %s\n' "$n" "$1"
}

# not_ok NAME: report a failing test.
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	printf 'not ok %d - %s\n' "$n" "$1"
}

# skip NAME REASON: report a skipped test.
skip() {
	n=$((n + 1))
	printf 'ok %d - %s # SKIP %s\n' "$n" "$1" "$2"
}

# check NAME COMMAND...: one test, passing when COMMAND succeeds.
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# diag FILE: show a file as TAP diagnostics.
diag() {
	sed 's/^/# /' "$1"
}

# lint PAGE: the page is clean under the formatters that are installed.
lint() {
	: >"$tmp/lint"
	if command -v mandoc >/dev/null 2>&1; then
		mandoc -Tlint "$1" >>"$tmp/lint" 2>&1
	fi
	if command -v groff >/dev/null 2>&1; then
		groff -ww -z -man "$1" >>"$tmp/lint" 2>&1
	fi
	if [ -s "$tmp/lint" ]; then
		diag "$tmp/lint"
		return 1
	fi
	return 0
}

# unroff: turn the roff escapes the pages use into plain text.
unroff() {
	sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' \
	    -e 's/\\&//g' -e 's/\\ / /g' -e 's/\\e/\\/g'
}

# mask: hide what changes from run to run (elapsed and queue times, start
# times).
mask() {
	sed -E \
	    -e 's/^((ok|failed|timeout|cancelled|skipped|error) [^ ]+ )[0-9]+\.[0-9]{3}s( |$)/\1T\3/' \
	    -e 's/"(elapsed|queued)":[0-9.eE+-]+/"\1":T/g' \
	    -e 's/"start":"[-0-9T:.]+Z"/"start":T/g'
}

# extract_man PAGE DIR: write each example of a page as DIR/NNN.cmd,
# DIR/NNN.out (its documented output) and DIR/NNN.where (PAGE:LINE).
extract_man() {
	awk -v dir="$2" -v page="${1##*/}" '
	function close_ex() { if (cur != "") { close(cur ".out") } cur = "" }
	/^\.EX/ { inex = 1; next }
	/^\.EE/ { inex = 0; close_ex(); next }
	!inex { next }
	/^\$ / {
		close_ex()
		k++
		cur = sprintf("%s/%03d", dir, k)
		print substr($0, 3) > (cur ".cmd"); close(cur ".cmd")
		print page ":" NR > (cur ".where"); close(cur ".where")
		printf "" > (cur ".out")
		next
	}
	/^\./ { next }
	cur != "" { print > (cur ".out") }' "$1"
	for f in "$2"/*.cmd "$2"/*.out; do
		[ -e "$f" ] || continue
		unroff <"$f" >"$f.txt" && mv "$f.txt" "$f"
	done
}

# extract_readme FILE DIR: the same for the README.
extract_readme() {
	awk -v dir="$2" -v file="${1##*/}" '
	function close_ex() { if (cur != "") { close(cur ".out") } cur = "" }
	/^    \$ / {
		close_ex()
		k++
		cur = sprintf("%s/%03d", dir, k)
		print substr($0, 7) > (cur ".cmd"); close(cur ".cmd")
		print file ":" NR > (cur ".where"); close(cur ".where")
		printf "" > (cur ".out")
		next
	}
	/^    / && cur != "" { print substr($0, 5) > (cur ".out"); next }
	{ close_ex() }' "$1"
}

# compare DOC ACTUAL ORDERED: the documented output matches the real one
# (above); with ORDERED 1 the lines must also come in the documented order.
compare() {
	mask <"$1" >"$tmp/cmp.doc"
	mask <"$2" >"$tmp/cmp.act"
	awk -v ordered="$3" '
	function matches(d, a) {
		if (d ~ / \.\.\.$/)
			return substr(a, 1, length(d) - 3) == substr(d, 1, length(d) - 3)
		return a == d
	}
	# Find an unused line for doc[i] from line "from" on; 0 if none.
	function find(i, from,  j) {
		for (j = from; j <= na; j++)
			if (!used[j] && matches(doc[i], act[j]))
				return j
		return 0
	}
	FNR == NR { doc[++nd] = $0; next }
	{ act[++na] = $0 }
	END {
		bad = 0
		last = 0
		# Exact lines first, so that a " ..." line cannot take theirs.
		for (pass = 1; pass <= 2; pass++) {
			for (i = 1; i <= nd; i++) {
				if (doc[i] == "...") { elided = 1; continue }
				if (!ordered && (pass == 1) == (doc[i] ~ / \.\.\.$/))
					continue
				if (ordered && pass == 2)
					continue
				j = find(i, ordered ? last + 1 : 1)
				if (j == 0) { print "# missing: " doc[i]; bad = 1 }
				else { used[j] = 1; last = j }
			}
		}
		if (!elided)
			for (j = 1; j <= na; j++)
				if (!used[j]) { print "# unexpected: " act[j]; bad = 1 }
		exit bad
	}' "$tmp/cmp.doc" "$tmp/cmp.act"
}

# corun_args CMD: the arguments of the corun invocations in a command line,
# quoted words (a template) as Q, up to an argument list (:::, ::::).
corun_args() {
	printf '%s\n' "$1" | sed -e "s/'[^']*'/Q/g" -e 's/"[^"]*"/Q/g' \
	    -e 's/#.*//' | tr '|;&<>' '[\n*]' |
	    awk '$1 == "corun" {
		for (i = 2; i <= NF && $i !~ /^::::?\+?$/; i++) print $i }'
}

# unknown_option CMD: print the first option of corun in CMD that
# corun --help does not list; false when there is none.
unknown_option() {
	for a in $(corun_args "$1"); do
		case $a in
		--*) o=${a%%=*} ;;
		-?*) o=$(printf '%s\n' "$a" | cut -c1-2) ;;
		*) continue ;;
		esac
		if ! grep -qxF -e "$o" "$tmp/helpopts"; then
			printf '%s\n' "$o"
			return 0
		fi
	done
	return 1
}

# runs CMD WORK: CMD invokes corun, or starts with ./NAME for a program
# built in WORK from a page's code.
runs() {
	if printf '%s\n' "$1" |
	    grep -Eq '(^|[|;&][[:space:]]*)corun([[:space:]]|$)'; then
		return 0
	fi
	prog=$(printf '%s\n' "$1" |
	    sed -nE 's|^\./([[:alnum:]_-]+)([[:space:]].*)?$|\1|p')
	[ -n "$prog" ] && [ -f "$2/$prog" ] && [ -x "$2/$prog" ]
}

# build_code PAGE DIR: write the C files of a page into DIR and build them
# there (above), one test each.
build_code() {
	bdir=$2
	mkdir -p "$bdir"
	awk -v dir="$bdir" '
	/^\.EX/ { inex = 1; first = 1; next }
	/^\.EE/ { if (cur != "") close(cur); inex = 0; cur = ""; next }
	!inex { next }
	first {
		first = 0
		if (match($0, /^\/\* [A-Za-z0-9_-]+\.c:/))
			cur = dir "/" substr($0, 4, RLENGTH - 4)
	}
	cur != "" { print > cur }' "$1"
	for c in "$bdir"/*.c; do
		[ -e "$c" ] || continue
		unroff <"$c" >"$c.txt" && mv "$c.txt" "$c"
		name=${c##*/}
		name=${name%.c}
		if grep -q '^main(' "$c"; then
			what="${1##*/}: $name.c builds with libcorun"
			# The build's compiler and flags: a sanitizer build's
			# library needs its runtime in the program too.
			# shellcheck disable=SC2086
			(cd "$bdir" && "$BUILDDIR/libtool" --quiet --tag=CC \
			    --mode=link ${EMBED_CC:-cc -std=c11 -Wall -Wextra} \
			    -I"$SRCDIR/include" -o "$name" "$name.c" \
			    "$BUILDDIR/libcorun.la" -static) >"$tmp/cc" 2>&1
		else
			what="${1##*/}: $name.c builds as a plugin"
			(cd "$bdir" && cc -std=c11 -Wall -Wextra -shared -fPIC \
			    -I"$SRCDIR/include" -o "$name.so" "$name.c") \
			    >"$tmp/cc" 2>&1
		fi
		rc=$?
		if [ "$rc" -eq 0 ] && [ ! -s "$tmp/cc" ]; then
			ok "$what"
		else
			not_ok "$what"
			diag "$tmp/cc"
		fi
	done
}

# ordered CMD: 1 when corun writes its lines in input order (-k, -n).
ordered() {
	for a in $(corun_args "$1"); do
		case $a in
		-k | --keep-order | -n | --dry-run) echo 1 && return ;;
		esac
	done
	echo 0
}

# run_examples DIR: run the extracted examples in DIR, one test each.
run_examples() {
	work=$1.work
	mkdir -p "$work/bin"
	ln -s "$SRCDIR/examples" "$work/examples"
	ln -s "$CORUN" "$work/bin/corun"
	for c in "$1"/*.cmd; do
		[ -e "$c" ] || continue
		e=${c%.cmd}
		cmd=$(cat "$c")
		where=$(cat "$e.where")
		if ! runs "$cmd" "$work"; then
			continue
		fi
		want=$(printf '%s\n' "$cmd" |
		    sed -nE 's/.*#[[:space:]]*exit status ([0-9]+)[[:space:]]*$/\1/p')
		want=${want:-0}
		needs=$(printf '%s\n' "$cmd" |
		    sed -nE 's/.*#[[:space:]]*(needs [^#]*[^#[:space:]])[[:space:]]*$/\1/p')
		name="$where: $cmd"
		if [ -n "$needs" ]; then
			skip "$name" "$needs"
			continue
		fi
		if o=$(unknown_option "$cmd"); then
			skip "$name" "corun --help does not list $o"
			continue
		fi
		(cd "$work" && PATH="$work/bin:$PATH" \
		    timeout "$LIMIT" sh -c "$cmd" </dev/null >"$e.got" 2>&1)
		got=$?
		if [ "$got" -eq 2 ] && [ "$want" -ne 2 ] &&
		    grep -q 'not implemented' "$e.got"; then
			skip "$name" "$(grep -m1 'not implemented' "$e.got")"
		elif [ "$got" -ne "$want" ]; then
			not_ok "$name"
			echo "# exit status $got, documented $want; output:"
			diag "$e.got"
		elif ! compare "$e.out" "$e.got" "$(ordered "$cmd")" >"$tmp/cmp"
		then
			not_ok "$name"
			cat "$tmp/cmp"
		else
			ok "$name"
		fi
	done
}

# count_jobs FILE: the number of jobs in a job file (logical lines that
# hold more than blanks and a comment).
count_jobs() {
	awk '
	{ line = $0; cont = (line ~ /\\$/) }
	!prev && line !~ /^[[:space:]]*(#.*)?$/ { jobs++ }
	{ prev = cont }
	END { print jobs + 0 }' "$1"
}

cd "$SRCDIR" || exit 99

# The pages are well formed.
for page in man/corun.1 man/corun-jobs.5 man/corun.3; do
	if command -v mandoc >/dev/null 2>&1 ||
	    command -v groff >/dev/null 2>&1; then
		check "$page lints clean" lint "$page"
	else
		skip "$page lints clean" "neither mandoc nor groff is installed"
	fi
done

# The options of --help are documented.
if "$CORUN" --help >"$tmp/help" 2>&1; then
	ok "corun --help exits 0"
else
	not_ok "corun --help exits 0"
	diag "$tmp/help"
fi
grep -oE '(^|[^-[:alnum:]])--?[[:alnum:]][-[:alnum:]]*' "$tmp/help" |
    sed 's/^[^-]*//' | sort -u >"$tmp/helpopts"
unroff <man/corun.1 >"$tmp/corun.1.txt"
grep -E '^--' "$tmp/helpopts" >"$tmp/longopts"
if [ -s "$tmp/longopts" ]; then
	ok "corun --help lists long options"
else
	not_ok "corun --help lists long options"
fi
while read -r opt; do
	check "corun.1 documents $opt" \
	    grep -qE -e "(^|[^-[:alnum:]])$opt([^-[:alnum:]]|\$)" "$tmp/corun.1.txt"
done <"$tmp/longopts"
grep -oE '(^|[ ,])--[a-z][-a-z]*' "$tmp/corun.1.txt" | sed 's/^[ ,]*//' |
    sort -u | while read -r opt; do
	if ! grep -qxF -e "$opt" "$tmp/helpopts"; then
		echo "# corun.1 documents $opt, which corun --help does not list"
	fi
done

# The pages carry the version of the program.
version=$("$CORUN" --version 2>/dev/null | head -n 1 | awk '{ print $NF }')
for page in man/corun.1 man/corun-jobs.5 man/corun.3; do
	check "$page is for corun ${version:-?}" \
	    grep -qE "^\.TH .*\"corun $version\"" "$page"
done

# The README leads to the manual.
for page in 'corun(1)' 'corun-jobs(5)' 'corun(3)'; do
	check "README names $page" grep -qF -e "$page" README
done

# The code builds, and the examples run as documented.
for page in man/corun.1 man/corun-jobs.5 man/corun.3; do
	d=$tmp/ex.${page##*/}
	mkdir -p "$d"
	build_code "$page" "$d.work"
	extract_man "$page" "$d"
	run_examples "$d"
done
mkdir -p "$tmp/ex.README"
extract_readme README "$tmp/ex.README"
run_examples "$tmp/ex.README"

# Every example file parses.
for f in examples/*.jobs; do
	if "$CORUN" -n "$f" >"$tmp/plan" 2>&1; then
		ok "corun -n $f"
	else
		not_ok "corun -n $f"
		diag "$tmp/plan"
	fi
done

# The tour runs: exit 0, one record per job, all three executors.
tour=examples/tour.jobs
"$CORUN" --json "$tour" </dev/null >"$tmp/tour.json" 2>"$tmp/tour.err"
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "$tour exits 0"
else
	not_ok "$tour exits 0"
	echo "# exit status $rc"
	diag "$tmp/tour.json"
	diag "$tmp/tour.err"
fi
check "$tour writes nothing on stderr" test ! -s "$tmp/tour.err"
jobs=$(count_jobs "$tour")
records=$(grep -c '^{"id":' "$tmp/tour.json")
if [ "$records" -eq "$jobs" ] && [ "$(wc -l <"$tmp/tour.json")" -eq "$jobs" ]
then
	ok "$tour: one record for each of its $jobs jobs"
else
	not_ok "$tour: one record for each of its $jobs jobs"
	echo "# $records records"
fi
sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$tmp/tour.json" | sort >"$tmp/ids.run"
"$CORUN" -n "$tour" 2>/dev/null | awk '{ print $1 }' | sort >"$tmp/ids.plan"
check "$tour: the records are those of the plan" \
    cmp -s "$tmp/ids.run" "$tmp/ids.plan"
check "$tour: every record is ok" \
    test "$(grep -c '"status":"ok"' "$tmp/tour.json")" -eq "$jobs"
for ex in loop thread process; do
	check "$tour runs jobs on the $ex executor" \
	    grep -q "\"executor\":\"$ex\"" "$tmp/tour.json"
done

echo "1..$n"
[ "$failed" -eq 0 ]
