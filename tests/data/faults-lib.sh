# shellcheck shell=sh
# faults-lib.sh: helpers of the fault-injection tests (faults.sh,
# faults-big.sh), sourced after tests/lib.sh (POSIX sh, Linux: /proc).
# Sets SL and SD for the tests.

# Poll up to SECS seconds, scaled (see lib.sh), for a command to succeed:
# within SECS CMD...
within() {
	wi_secs=$(scaled "$1")
	shift
	within_abs "$wi_secs" "$@"
}

# The same for SECS seconds as given, for a bound that is already capped
# (see bound in lib.sh): within_abs SECS CMD... The clock is /proc/uptime
# (hundredths of a second), read without a fork.
within_abs() {
	read -r wi_up _ </proc/uptime
	wi_end=$(awk -v u="$wi_up" -v s="$1" \
		'BEGIN { printf "%d\n", (u + s) * 100 }')
	shift
	until "$@"; do
		read -r wi_up _ </proc/uptime
		[ "${wi_up%.*}${wi_up#*.}" -ge "$wi_end" ] && return 1
		sleep 0.05
	done
	return 0
}

# True when FILE has at least N lines.
has_lines() {
	[ -e "$1" ] && [ "$(nlines "$1")" -ge "$2" ]
}

# True when process PID is gone (or a zombie).
dead() {
	[ ! -e "/proc/$1" ] || grep -q ') Z' "/proc/$1/stat" 2>/dev/null
}

# Print "pid ppid stat args" of every descendant of PID.
tree_of() {
	ps -eo pid=,ppid=,stat=,args= | awk -v top="$1" '
		{ pp[$1] = $2; line[$1] = $0 }
		END {
			for (p in pp) {
				q = pp[p]
				while (q != "" && q != top && q > 1)
					q = pp[q]
				if (q == top)
					print line[p]
			}
		}'
}

# bg_wait, but never an empty status: NAME.rc exists a moment before it is
# written.
bg_rc() {
	br_rc=$(bg_wait "$1" "$2")
	if [ -z "$br_rc" ]; then
		within 1 test -s "$1.rc"
		br_rc=$(cat "$1.rc")
	fi
	printf '%s\n' "$br_rc"
}

# Start corun in the background like bg_corun, after the shell commands
# PRE (e.g. a ulimit, or : for none) and under the wrapper command WRAP
# (e.g. setsid, or "" for none): bg_pre NAME IN OUT ERR PRE WRAP ARG...
# Sets bg_pid.
bg_pre() {
	bp_name=$1
	bp_in=$2
	bp_out=$3
	bp_err=$4
	bp_pre=$5
	bp_wrap=$6
	shift 6
	rm -f "$bp_name.pid" "$bp_name.rc"
	(
		# shellcheck disable=SC2016,SC2086
		$bp_wrap sh -c "$bp_pre"'
			echo $$ >"$0.tmp" && mv "$0.tmp" "$0.pid" && exec "$@"' \
			"$bp_name" "$CORUN_LINK" "$@" <"$bp_in" >"$bp_out" \
			2>"$bp_err"
		echo $? >"$bp_name.rc.tmp" && mv "$bp_name.rc.tmp" "$bp_name.rc"
	) &
	bg_track $!
	wait_for "$bp_name.pid" 5 || bail "corun did not start"
	bg_pid=$(cat "$bp_name.pid")
	bg_track "$bg_pid"
}

# The helper scripts.
# shellcheck disable=SC2034 # for the sourcing test
SD="$SRCDIR/tests/data"
# A sleep(1) with a path in the temporary directory, so that no_leftovers
# finds what is left of it.
SL="$T/fz-sleep"
ln -s "$(command -v sleep)" "$SL" || bail "cannot link sleep"
