# lib.sh: shared helpers of the TAP integration tests (sourced, POSIX sh).
#
# The environment comes from `make check`: CORUN (the built binary), SRCDIR
# (source root), BUILDDIR (build root). Sourcing this file makes a fresh
# temporary directory, cds into it and removes it on exit, after killing any
# background process a test registered with bg_track. Each test prints
# `ok N - description` lines through the helpers below and ends with
# done_testing, which prints the plan (TAP allows it last).
#
# corun is always run through a symlink inside the temporary directory, so
# every process it makes (the fork server, workers) carries that unique path
# in its command line and no_leftovers can find them. Each run is bounded by
# timeout(1): a hung binary fails the test instead of hanging the suite.
#
# Time limits are hang detectors, not speed tests. Each is written as what
# an idle machine needs, with room to spare, and multiplied by one factor,
# TIME_SCALE, so that a loaded machine (make -j8 check, a load average of 8)
# passes too: CORUN_TIME_SCALE if set, else 2 * (1 + load average / CPUs),
# rounded up (2 on an idle machine). Every helper below that waits takes
# unscaled seconds and scales them (wait_for, bg_wait, gone, corun_within,
# and CORUN_LIMIT). A bound that must stay below the time a test tells
# apart (a job killed after 0.3 s, not after its 10 s) is scaled and capped
# under it: see bound.

set -u
LC_ALL=C
export LC_ALL

: "${CORUN:?CORUN must name the built corun binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
: "${BUILDDIR:=.}"

tap_n=0
tap_bg=
JQ="$SRCDIR/tests/data/jq.py"

# The factor of every time limit (see above).
if [ -n "${CORUN_TIME_SCALE:-}" ]; then
	TIME_SCALE=$CORUN_TIME_SCALE
else
	ts_load=0
	[ -r /proc/loadavg ] && read -r ts_load _ </proc/loadavg
	ts_cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
	TIME_SCALE=$(awk -v l="$ts_load" -v n="$ts_cpus" 'BEGIN {
		s = 2 * (1 + l / (n > 0 ? n : 1))
		printf "%d\n", s == int(s) ? s : int(s) + 1 }')
fi
case $TIME_SCALE in
'' | *[!0-9.]* | .* | *.*.*) TIME_SCALE=2 ;;
esac


# Print SECS times the time factor.
scaled() {
	awk -v s="$1" -v f="$TIME_SCALE" 'BEGIN { printf "%g\n", s * f }'
}

# Print SECS times the time factor, but no more than CAP: the bound of a
# test that tells a time under CAP from one at CAP or over (bound SECS CAP).
bound() {
	awk -v s="$1" -v c="$2" -v f="$TIME_SCALE" \
		'BEGIN { v = s * f; printf "%g\n", v < c ? v : c }'
}

# Seconds one corun run may take before it is killed as hung (CORUN_LIMIT,
# if set, is taken as it is).
CORUN_LIMIT=${CORUN_LIMIT:-$(scaled 20)}

# 1 when corun is built with a sanitizer (ASan, TSan): its shadow memory
# makes peak-RSS bounds meaningless, so those checks are skipped.
SANITIZED=0
if nm "$CORUN" 2>/dev/null | grep -Eq ' (__asan_init|__tsan_init)$'; then
	SANITIZED=1
fi

# Print a TAP diagnostic line for each line of the arguments.
diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# Abort the whole test file.
bail() {
	printf 'Bail out! %s\n' "$*"
	exit 1
}

# Remember a background pid to kill when the test ends.
bg_track() {
	tap_bg="$tap_bg $1"
}

# Kill what is still running and remove the temporary directory.
lib_cleanup() {
	for p in $tap_bg; do
		kill -9 "$p" 2>/dev/null
	done
	cd / && rm -rf "$T"
}

T=$(mktemp -d "${TMPDIR:-/tmp}/corun-itest.XXXXXX") || bail "mktemp failed"
trap lib_cleanup EXIT
trap 'exit 1' HUP INT TERM
cd "$T" || bail "cannot cd to $T"

[ -x "$CORUN" ] || bail "corun binary not found: $CORUN"
[ -r "$JQ" ] || bail "helper not found: $JQ"
# The interpreter itself, not a wrapper script (pyenv shims are slow).
PY=$(python3 -c 'import sys; print(sys.executable)') || bail "python3 missing"
CORUN_LINK="$T/corun-itest"
ln -s "$CORUN" "$CORUN_LINK" || bail "cannot link $CORUN"

# Run corun with the arguments, bounded in time; stdin/stdout/stderr as given.
corun() {
	timeout -k 3 "$CORUN_LIMIT" "$CORUN_LINK" "$@"
}

# The same, bounded to SECS (scaled) seconds instead: corun_within SECS ARG...
corun_within() {
	cw_secs=$(scaled "$1")
	shift
	timeout -k 3 "$cw_secs" "$CORUN_LINK" "$@"
}

# Start corun in the background: bg_corun NAME IN OUT ERR ARG... with
# standard input, output and error from and to the files given. NAME.pid
# gets its pid as soon as it runs, NAME.rc its exit status when it ends.
# Sets bg_pid.
bg_corun() {
	bc_name=$1
	bc_in=$2
	bc_out=$3
	bc_err=$4
	shift 4
	rm -f "$bc_name.pid" "$bc_name.rc"
	(
		# shellcheck disable=SC2016
		sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0.pid" && exec "$@"' \
			"$bc_name" "$CORUN_LINK" "$@" <"$bc_in" >"$bc_out" \
			2>"$bc_err"
		echo $? >"$bc_name.rc.tmp" && mv "$bc_name.rc.tmp" "$bc_name.rc"
	) &
	bg_track $!
	wait_for "$bc_name.pid" 5 || bail "corun did not start"
	bg_pid=$(cat "$bc_name.pid")
	bg_track "$bg_pid"
}

# Wait up to SECS (scaled) for the background corun NAME to end, kill it if
# it does not; print its exit status.
bg_wait() {
	if ! wait_for "$1.rc" "$2"; then
		kill -9 "$(cat "$1.pid")"
		wait_for "$1.rc" 2
		diag "corun ($1) did not end within $(scaled "$2") s: killed"
	fi
	cat "$1.rc"
}

# One test result: ok when the status of the last command ($1) is 0.
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		printf 'ok %d - %s\n' "$tap_n" "$2"
	else
		printf 'not ok %d - %s\n' "$tap_n" "$2"
	fi
	return "$1"
}

# Pass when the command given after the description succeeds.
check() {
	tap_desc=$1
	shift
	"$@" >&2
	ok $? "$tap_desc"
}

# Pass when GOT equals EXPECTED.
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:      $(printf '%s' "$1" | head -c 600)" \
			"expected: $(printf '%s' "$2" | head -c 600)"
		return 1
	fi
}

# Pass when GOT matches the extended regular expression (whole text).
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:      $(printf '%s' "$1" | head -c 600)" \
			"expected to match: $2"
		return 1
	fi
}

# Pass when GOT contains the fixed string.
contains() {
	case $1 in
	*"$2"*) ok 0 "$3" ;;
	*)
		ok 1 "$3"
		diag "got:      $(printf '%s' "$1" | head -c 600)" \
			"expected to contain: $2"
		return 1
		;;
	esac
}

# True when the number A is less than B (decimals allowed).
num_lt() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'
}

# Pass when A < B.
lt() {
	if num_lt "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "expected $1 < $2"
		return 1
	fi
}

# A skipped test.
skip() {
	tap_n=$((tap_n + 1))
	printf 'ok %d - %s # SKIP %s\n' "$tap_n" "$1" "$2"
}

# Print the plan and end the test file.
done_testing() {
	printf '1..%d\n' "$tap_n"
	exit 0
}

# Print how many polls 0.05 s apart make SECS (scaled) seconds: the bound
# of a loop that polls for something, `[ $i -ge "$max" ]`.
ticks() {
	awk -v s="$1" -v f="$TIME_SCALE" 'BEGIN { printf "%d\n", s * f * 20 }'
}

# Wall-clock time in seconds with fractions.
now() {
	date +%s.%N
}

# Seconds since START.
since() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f\n", b - a }'
}

# Run the command after FILE and write its wall-clock seconds to FILE;
# return its status.
wall() {
	w_file=$1
	shift
	w_start=$(now)
	"$@"
	w_rc=$?
	since "$w_start" >"$w_file"
	return $w_rc
}

# make install into the scratch root DIR: one test result.
install_into() {
	if make -s -C "$BUILDDIR" install DESTDIR="$1" >install.log 2>&1; then
		ok 0 "make install DESTDIR=... works"
	else
		ok 1 "make install DESTDIR=... works"
		diag "$(tail -20 install.log)"
	fi
}

# Wait up to SECS (scaled) seconds for FILE to have N lines or more.
wait_lines() {
	wl_i=0
	while [ "$(nlines "$1")" -lt "$2" ] && [ "$wl_i" -lt "$(ticks "$3")" ]; do
		sleep 0.05
		wl_i=$((wl_i + 1))
	done
}

# Start the test HTTP server (tests/data/httpd.py) for at most SECS
# (scaled) seconds; its standard input is a fifo held open on fd 3, so it
# exits when the test does. Sets HTTPD_PORT and HTTPD_FULL (a port whose
# server accepts nothing more), or bails out.
start_httpd() {
	mkfifo httpd.in || bail "mkfifo failed"
	"$PY" "$SRCDIR/tests/data/httpd.py" "$(scaled "$1")" <httpd.in \
		>httpd.port &
	bg_track $!
	exec 3>httpd.in
	wait_lines httpd.port 2 5
	[ "$(nlines httpd.port)" -ge 2 ] || bail "the test server did not start"
	HTTPD_PORT=$(sed -n 1p httpd.port)
	HTTPD_FULL=$(sed -n 2p httpd.port)
}

# Wait up to SECS (scaled) seconds for FILE to exist; false if it never did.
wait_for() {
	wf_i=0
	wf_max=$(ticks "$2")
	while [ ! -e "$1" ]; do
		[ "$wf_i" -ge "$wf_max" ] && return 1
		sleep 0.05
		wf_i=$((wf_i + 1))
	done
	return 0
}

# Flatten the JSON records of FILE into FILE.flat (see data/jq.py).
jflat() {
	"$PY" "$JQ" flat "$1" >"$1.flat"
}

# Print the JSON-encoded FIELD of the record with id ID in FILE; fail if
# there is not exactly one such record.
jget() {
	[ -e "$1.flat" ] || jflat "$1" || {
		printf 'BAD-JSON\n'
		return 1
	}
	awk -F '\t' -v id="$2" -v f="$3" '
		$1 == id && $2 == f { v = $3; n++ }
		END {
			if (n == 1)
				print v
			else
				print "(" n + 0 " records with this field)"
			exit n != 1
		}' "$1.flat"
}

# Print the value of a Python expression over the records of FILE (R: the
# records in order, by: the records by id).
jpy() {
	"$PY" "$JQ" py "$1" "$2"
}

# Check one record: FILE ID then FIELD=JSON pairs, as one test named DESC
# (the last argument).
jrec() {
	jr_file=$1
	jr_id=$2
	shift 2
	jr_bad=
	while [ $# -gt 1 ]; do
		jr_f=${1%%=*}
		jr_want=${1#*=}
		jr_got=$(jget "$jr_file" "$jr_id" "$jr_f")
		if [ "$jr_got" != "$jr_want" ]; then
			jr_bad="$jr_bad
$jr_id.$jr_f: got $(printf '%s' "$jr_got" | head -c 300), expected $jr_want"
		fi
		shift
	done
	if [ -z "$jr_bad" ]; then
		ok 0 "$1"
	else
		ok 1 "$1"
		diag "${jr_bad#?}"
		return 1
	fi
}

# Number of lines of FILE.
nlines() {
	wc -l <"$1" | tr -d ' '
}

# Print the processes, not zombies, whose command line contains the string.
procs_with() {
	PW_M=$1 ps -eo pid=,stat=,args= |
		PW_M=$1 awk 'index($0, ENVIRON["PW_M"]) && $2 !~ /^Z/'
}

# Pass when, within a second (scaled), no process (but zombies) has the
# string in its command line.
gone() {
	gn_i=0
	gn_max=$(ticks 1)
	while [ -n "$(procs_with "$1")" ] && [ $gn_i -lt "$gn_max" ]; do
		sleep 0.05
		gn_i=$((gn_i + 1))
	done
	gn_left=$(procs_with "$1")
	if [ -z "$gn_left" ]; then
		ok 0 "$2"
	else
		ok 1 "$2"
		diag "still running:" "$gn_left"
		return 1
	fi
}

# Pass when no process is left with the temporary directory in its command
# line: corun (run through a link in it), its fork server and workers, and
# the children the tests started with paths in it.
no_leftovers() {
	gone "$T" "$1"
}
