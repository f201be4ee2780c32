#!/bin/sh
# cli.sh: the command line: --help, --version, usage errors, bad option
# values, the dry run, a missing job file.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

echo "sh 'touch ran'" >side.jobs

# --help lists every option of corun(1) and exits 0.
for h in --help -h; do
	corun $h >help.out 2>help.err </dev/null
	is "$?" 0 "$h: exit status 0"
done
missing=
for o in --procs --threads --jobs --max-inflight --limit --timeout \
	--retries --backoff --keep-order --fail-fast --json --joblog --resume \
	--progress --stats --grace --worker-nice --dry-run --help --version \
	--command --arg-file --null --delimiter --colsep --max-args --sh \
	--tagstring; do
	grep -qF -- "$o" help.out || missing="$missing $o"
done
for o in -P -T -j -t -r -k -n -h -V -c -a -0 -d; do
	grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|\$)" help.out ||
		missing="$missing $o"
done
is "$missing" "" "--help lists every option"
check "--help: nothing on stderr" test ! -s help.err

# --version: GNU style, the configured version.
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
	"$BUILDDIR/config.h" 2>/dev/null)
[ -n "$version" ] || version=0.1.0
for v in --version -V; do
	corun $v >version.out 2>&1 </dev/null
	is "$?" 0 "$v: exit status 0"
	like "$(head -n 1 version.out)" "^corun .*$version" \
		"$v: the first line names corun $version"
done

# Unknown options and bad values: exit 2, a message, nothing runs.
usage() {
	corun "$@" side.jobs >usage.out 2>usage.err </dev/null
	u_rc=$?
	if [ $u_rc -eq 2 ] && [ -s usage.err ] && [ ! -s usage.out ] &&
		[ ! -e ran ]; then
		ok 0 "usage error: $*"
	else
		ok 1 "usage error: $*"
		diag "exit $u_rc; stdout: $(head -c 200 usage.out)" \
			"stderr: $(head -c 200 usage.err)"
		rm -f ran
	fi
}
usage --frobnicate
check "an unknown option is named in the message" \
	grep -q frobnicate usage.err
usage -Z
usage -j x
usage -j 1.5
usage -j 5%x
usage --rate 0/1s
usage --rate 1/1s --rate 2/2s
usage --rate g=1/1s --rate g=2/2s
usage --delay x
usage --deadline x
usage --load x
usage --memfree 0
usage -P x
usage -T x
usage -t x
usage --timeout=10q
usage -r x
usage --max-inflight 0
usage --grace x
usage --backoff x
usage --limit foo
usage --limit g=x
usage --limit a=1 --limit a=3
check "--limit: a group given twice is named in the message" \
	grep -q "group 'a' named twice" usage.err
usage -t 1000000001
usage --grace 99999999999999999999

# A duration beyond the maximum (1e9 s) is a bad duration, not a job that
# spins for ever on an overflowed time_t.
printf 'block 99999999999999999999\n' >huge.jobs
corun huge.jobs >huge.out 2>huge.err </dev/null
is "$?" 2 "block 99999999999999999999: exit status 2, nothing runs"
is "$(cat huge.err)" "huge.jobs:1: bad duration '99999999999999999999'" \
	"block 99999999999999999999: a bad duration"
usage --worker-nice 20
usage --worker-nice -1
usage -j

# A missing job file, a directory: exit 2 naming it.
corun nonexist.jobs >missing.out 2>missing.err </dev/null
is "$?" 2 "a missing job file: exit status 2"
check "a missing job file: the message names it" \
	grep -q nonexist.jobs missing.err
mkdir adir
corun adir >dir.out 2>dir.err </dev/null
is "$?" 2 "a directory as job file: exit status 2"

# Empty input: nothing to do, exit 0.
corun </dev/null >empty.out 2>empty.err
is "$?" 0 "empty standard input: exit status 0"
is "$(cat empty.out empty.err)" "" "empty standard input: no output"

# Dry run: the plan, one line per job, and nothing runs.
cat >dry.jobs <<'EOF'
id=t sh 'touch ran'
sleep 1s
id=build timeout=30s retries=2 sh 'make all'
primes 10
resolve localhost
block 1s
EOF
corun -n dry.jobs >dry.out 2>dry.err </dev/null
is "$?" 0 "-n: exit status 0"
check "-n: no job runs" test ! -e ran
is "$(cat dry.out)" "t loop sh 'touch ran'
2 loop sleep 1s
build loop sh 'make all' timeout=30s retries=2
4 process primes 10
5 thread resolve localhost
6 thread block 1s" "-n: ID EXECUTOR KIND ARGS OPTIONS per job"
corun --dry-run -t 5s side.jobs >dry2.out 2>&1 </dev/null
is "$?" 0 "--dry-run: exit status 0"
check "--dry-run: no job runs" test ! -e ran
like "$(cat dry2.out)" "^1 loop sh 'touch ran' .*timeout=5" \
	"--dry-run shows the effective timeout from -t"
printf 'sleep 1s\n' | corun -n >dry3.out 2>&1
is "$(cat dry3.out)" "1 loop sleep 1s" "-n reads standard input too"
printf 'frob\n' >drybad.jobs
corun -n drybad.jobs >drybad.out 2>drybad.err </dev/null
is "$?" 2 "-n on a bad file: exit status 2"

# The plan reads back in the job language: the arguments of a plan line,
# run as a job, give the same argv as the original line.
cat >rt.jobs <<'EOF'
exec printf '%s|' 'a b' "it's" 'x"y' '' "t\tn" back\\slash $HOME '#x' = \
	"n\nl" "e\x1bc" timeout=1s
EOF
corun -n rt.jobs >rt.plan 2>rt.err </dev/null
cut -d' ' -f3- rt.plan >rt2.jobs
corun --json rt.jobs >rt.json 2>&1 </dev/null
corun --json rt2.jobs >rt2.json 2>&1 </dev/null
is "$(jpy rt2.json 'R[0]["value"]')" "$(jpy rt.json 'R[0]["value"]')" \
	"a plan line reads back as the same job"
# shellcheck disable=SC2016
is "$(jpy rt.json 'R[0]["value"]')" "$(printf '%s|' 'a b' "it's" 'x"y' '' \
	"$(printf 't\tn')" 'back\slash' '$HOME' '#x' = "$(printf 'n\nl')" \
	"$(printf 'e\033c')" timeout=1s)" \
	"the original job ran with the exact arguments"
printf 'exec printf "a\\nb\\x07"\nsleep 1\n' >nl.jobs
corun -n nl.jobs >nl.plan 2>&1 </dev/null
is "$(nlines nl.plan)" 2 "-n: an argument holding a newline stays on one line"
is "$(sed -n 1p nl.plan)" '1 loop exec printf "a\nb\x07"' \
	"-n: control characters are escaped in double quotes"

# Abbreviations: every prefix that was unique among corun's long options
# before command mode still names the same option (the list in main.c).
kept="procs: threads: jobs: max-inflight: limit: worker-nice: output-buffer:
timeout: retries: backoff: grace: keep-order fail-fast json joblog: resume
progress stats dry-run help version"
bad=
for o in $kept; do
	name=${o%:}
	n=1
	while [ "$n" -lt "${#name}" ]; do
		p=$(printf %s "$name" | cut -c1-"$n")
		n=$((n + 1))
		[ "$(printf '%s\n' $kept | grep -c "^$p")" = 1 ] || continue
		if [ "$o" = "$name" ]; then
			corun "--$p=x" >abbr.out 2>&1 </dev/null
			want="'--$name' doesn't allow an argument"
		else
			corun "--$p" >abbr.out 2>&1 </dev/null
			want="'--$name' requires an argument"
		fi
		grep -qF -- "$want" abbr.out || bad="$bad --$p"
	done
done
is "$bad" "" "old abbreviations of long options keep their meaning"

no_leftovers "no corun process is left"
done_testing
