#!/bin/sh
# netfds.sh: network jobs under a low limit on open files (ulimit -n 40 in a
# subshell), against a server on 127.0.0.1 only. A transfer or a connect
# that finds no descriptor waits for a running job to end, as a child does,
# instead of failing: 200 requests all end ok, so do 200 connects, names
# looked up under the limit, a mix of http, tcp and exec children, and
# children that follow a burst of transfers whose idle connections hold
# the descriptors.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# The test HTTP server (lib.sh).
start_httpd 120
PORT=$HTTPD_PORT
U="http://127.0.0.1:$PORT"

# Run corun with at most 40 open files (or LIMIT): lowfd [-LIMIT] NAME
# ARG... (NAME.json, NAME.err, NAME.wall; the exit status in NAME.rc).
lowfd() {
	lf_limit=40
	case $1 in -*) lf_limit=${1#-} && shift ;; esac
	lf_name=$1
	shift
	(
		# shellcheck disable=SC3045 # dash's and bash's ulimit have -n
		ulimit -n "$lf_limit" || exit 99
		wall "$lf_name.wall" corun --json "$@" >"$lf_name.json" \
			2>"$lf_name.err"
	)
	echo $? >"$lf_name.rc"
}

# What a run gave: its exit status, its records and their statuses, and
# the errors of the jobs that were not ok (none, when all is well).
outcome() {
	jpy "$1.json" '"%s %d %s" % (open("'"$1"'.rc").read().strip(), len(R),
		sorted({r["error"] for r in R if r["status"] != "ok"}))'
}

# Lines of a job file: lines N FORMAT (FORMAT gets the line's number).
lines() {
	l_i=1
	while [ $l_i -le "$1" ]; do
		# shellcheck disable=SC2059
		printf "$2\n" "$l_i"
		l_i=$((l_i + 1))
	done
}

# 200 requests at once: more than the descriptors left, so most wait for a
# connection.
lines 200 "id=h%d http $U/status/200" >http.jobs
lowfd http http.jobs
is "$(outcome http)" "0 200 []" \
	"ulimit -n 40: 200 http requests all end ok"
is "$(cat http.err)" "" "ulimit -n 40, http: nothing on stderr"
lt "$(cat http.wall)" "$(scaled 20)" \
	"ulimit -n 40: the 200 requests do not stall"

# A host name: libcurl's resolver needs descriptors of its own.
lines 200 "id=n%d http http://localhost:$PORT/status/200" >name.jobs
lowfd name name.jobs
is "$(outcome name)" "0 200 []" \
	"ulimit -n 40: 200 http requests to a name all end ok"

# tcp: one socket per connect.
lines 200 "id=t%d tcp 127.0.0.1:$PORT" >tcp.jobs
lines 50 "id=tn%d tcp localhost:$PORT" >>tcp.jobs
lowfd tcp tcp.jobs
is "$(outcome tcp)" "0 250 []" "ulimit -n 40: 250 tcp connects all end ok"

# Children and network jobs share the descriptors: each waits for either
# to give some back.
{
	lines 200 "id=mh%d http $U/slow?s=0.05"
	lines 100 "id=mc%d exec sh -c 'echo child; sleep 0.05'"
	lines 50 "id=mt%d tcp 127.0.0.1:$PORT"
} >mix.jobs
lowfd mix -j 100 mix.jobs
is "$(outcome mix)" "0 350 []" \
	"ulimit -n 40, -j 100: http, tcp and exec children mixed all end ok"
is "$(jpy mix.json '[r["value"] for r in R
	if r["id"].startswith("mc")] == ["child\n"] * 100')" true \
	"mixed: every child's output is there"
is "$(cat mix.err)" "" "mixed: nothing on stderr"

# After a burst of transfers, their idle connections hold the descriptors
# (20: the cache can hold them all) and nothing runs that would free one:
# they are closed for the children.
{
	lines 200 "id=bh%d http $U/slow?s=0.02"
	echo "id=gate after=bh200 sleep 0.5"
	lines 50 "id=bc%d after=gate exec echo child"
	echo "id=gate2 after=bc50 sleep 0.1"
	lines 20 "id=ba%d after=gate2 http $U/status/200"
} >burst.jobs
lowfd -20 burst -j 100 burst.jobs
is "$(outcome burst)" "0 272 []" \
	"ulimit -n 20: children after a burst of transfers all end ok"

# Jobs that wait for a descriptor hold up no timer: children take the
# descriptors, transfers wait behind them, a sleep given after the
# transfers ends long before any child.
{
	echo "id=gate sleep 0.3"
	lines 20 "id=qc%d exec sleep 3"
	lines 20 "id=qh%d after=gate http $U/slow?s=0.1"
	echo "id=nap after=gate sleep 0.1"
} >queue.jobs
lowfd queue -j 100 queue.jobs
is "$(outcome queue)" "0 42 []" \
	"ulimit -n 40: children, transfers and timers all end ok"
is "$(jpy queue.json '[r["id"] for r in R].index("nap") <
	min(i for i, r in enumerate(R) if r["id"].startswith("qc"))')" true \
	"ulimit -n 40: a timer does not wait behind transfers that wait"

# A job that waits for a descriptor keeps its timeout: a server that never
# answers holds its transfers, and those that wait behind them time out.
lines 60 "id=s%d timeout=1s http $U/slow?s=30" >slow.jobs
lowfd slow slow.jobs
is "$(jpy slow.json '[len(R), sorted({r["status"] for r in R})]')" \
	'[60, ["timeout"]]' "ulimit -n 40: waiting transfers still time out"
lt "$(cat slow.wall)" "$(bound 10 25)" \
	"ulimit -n 40: the timeouts end the run long before the server answers"

exec 3>&-
no_leftovers "nothing left running"
done_testing
