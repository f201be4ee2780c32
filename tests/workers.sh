#!/bin/sh
# workers.sh: the process pool. A worker killed with SIGKILL fails exactly
# the job it ran and is replaced; many trivial jobs each get exactly one
# record; no worker outlives corun.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# Print the pids of corun's grandchildren (the workers, children of the fork
# server) that are running (state R), from a ps listing on stdin.
running_workers() {
	awk -v top="$1" '
		{ ppid[$1] = $2; stat[$1] = $3 }
		END {
			for (p in ppid)
				if (ppid[ppid[p]] == top && stat[p] ~ /^R/)
					print p
		}'
}

# Two spinning jobs on two workers; kill the worker of one of them, then
# send one more job on the still open standard input.
mkfifo wk.fifo
{
	printf 'id=a spin 2s\nid=b spin 2s\n'
	wait_for killed 10
	printf 'id=c primes 100\n'
} >wk.fifo &
bg_track $!
bg_corun wk wk.fifo wk.json wk.err --json -P2
victim=
i=0
max=$(ticks 5)
while [ -z "$victim" ] && [ $i -lt "$max" ]; do
	victim=$(ps -eo pid=,ppid=,stat= | running_workers "$bg_pid" | head -n 1)
	[ -n "$victim" ] || sleep 0.05
	i=$((i + 1))
done
check "a running worker is found (a grandchild of corun)" test -n "$victim"
[ -n "$victim" ] && kill -9 "$victim"
: >killed
is "$(bg_wait wk 10)" 1 "a killed worker: exit status 1"
is "$(nlines wk.json)" 3 "a killed worker: one record per job"
is "$(jpy wk.json '" ".join(sorted(r["status"] for r in R
	if r["id"] in ("a", "b")))')" "failed ok" \
	"exactly one of the two spinning jobs failed"
is "$(jpy wk.json '[(r["executor"], r["signal"], r["error"], r["value"])
	for r in R if r["status"] == "failed"]')" \
	'[["process", 9, "worker died: killed by signal 9 (SIGKILL)", null]]' \
	"the failed job: signal 9, error names the dead worker"
jrec wk.json c status='"ok"' value='"25"' "a later job runs fine"
gone "$T/corun-itest" "no worker remains after corun exits"

# Many trivial process jobs from standard input: one record each.
"$PY" -c 'print("primes 1\n" * 20000, end="")' >many.jobs
corun --json <many.jobs >many.json 2>many.err
is "$?" 0 "20000 trivial process jobs: exit status 0"
is "$(jpy many.json '[len(R), len({r["id"] for r in R}),
	sum(r["status"] == "ok" and r["value"] == "0" for r in R),
	sorted(r["seq"] for r in R) == list(range(1, 20001)),
	all(r["id"] == str(r["seq"]) for r in R)]')" \
	'[20000, 20000, 20000, true, true]' \
	"20000 trivial process jobs: 20000 records, unique ids, all ok"

# A small in-flight limit on a mix of executors: still one record each.
"$PY" -c 'print("primes 1\nblock 0\nsleep 0\nexec true\n" * 500, end="")' \
	>mix.jobs
corun --json -P2 -T2 -j2 --max-inflight 8 <mix.jobs >mix.json 2>mix.err
is "$?" 0 "2000 mixed jobs with --max-inflight 8: exit status 0"
is "$(jpy mix.json '[len(R), len({r["id"] for r in R}),
	sum(r["status"] == "ok" for r in R)]')" '[2000, 2000, 2000]' \
	"2000 mixed jobs with --max-inflight 8: one ok record each"

# Workers run nicer than corun: --worker-nice N, 3 by default. The event
# loop and the thread pool (calls that wait, not compute) keep corun's nice
# value; on Linux nice is per thread, so ps shows each thread's.
base=$(ps -o ni= -p $$ | tr -d ' ')
printf 'id=s spin 10s\nid=b block 10s\n' >wn.jobs
for n in default 0 7; do
	if [ "$n" = default ]; then
		set -- wn.jobs
		add=3
	else
		set -- --worker-nice "$n" wn.jobs
		add=$n
	fi
	want=$((base + add > 19 ? 19 : base + add))
	bg_corun wn /dev/null wn.out wn.err "$@"
	# Wait for a spinning worker and for the pool's threads (made together
	# at the first call).
	worker= i=0
	max=$(ticks 5)
	while [ $i -lt "$max" ]; do
		worker=$(ps -eo pid=,ppid=,stat= | running_workers "$bg_pid" |
			head -n 1)
		nthreads=$(ps -L -o tid= -p "$bg_pid" | wc -l)
		[ -n "$worker" ] && [ "$nthreads" -ge 5 ] && break
		sleep 0.05
		i=$((i + 1))
	done
	threads_ni=$(ps -L -o ni= -p "$bg_pid" | tr -d ' ' | sort -u |
		tr '\n' ' ')
	worker_ni=$(ps -o ni= -p "${worker:-0}" | tr -d ' ')
	kill -TERM "$bg_pid"
	is "$(bg_wait wn 10)" 143 "--worker-nice $n: SIGTERM ends the run"
	is "$worker_ni" "$want" "--worker-nice $n: the worker runs at +$add"
	is "$nthreads:$threads_ni" "5:$base " \
		"--worker-nice $n: the loop and the 4 pool threads keep corun's nice value"
done

# No head-of-line blocking: with -P2, short jobs given after a long one
# run on the other worker instead of waiting behind the long one.
{
	echo 'id=long spin 2s'
	i=0
	while [ $i -lt 200 ]; do
		echo "id=s$i primes 10"
		i=$((i + 1))
	done
} >hol.jobs
corun -P2 --joblog hol.log hol.jobs >/dev/null 2>&1 </dev/null
is "$?" 0 "-P2, spin 2s then 200 primes 10: all ok"
# Seconds from the long job's start to its end and to the last short one's.
hol_ends=$(awk -F'\t' '$1 == "long" { s = $8; e = $8 + $9 }
	$4 == "primes" && $8 + $9 > m { m = $8 + $9 }
	END { printf "%.3f %.3f\n", e - s, m - s }' hol.log)
check "every short job ends well before the long one ($hol_ends)" \
	awk -v l="${hol_ends% *}" -v s="${hol_ends#* }" \
	'BEGIN { exit !(s < l - 1) }'

# A job file with no process-pool job and no child needs no fork server:
# the writer's thread and the thread pool's start without one (the server
# would have to come before the first record, written by that thread).
printf 'sleep 0\nread /etc/hostname\nsleep 30\n' >nofs.jobs
bg_corun nofs /dev/null nofs.out nofs.err nofs.jobs
wait_lines nofs.out 2 10
is "$(nlines nofs.out)" 2 "no fork server: the first records are written"
is "$(ps -o pid= --ppid "$bg_pid" | grep -c .)" 0 \
	"loop and thread jobs from a file: no fork server is forked"
kill -TERM "$bg_pid"
is "$(bg_wait nofs 10)" 143 "no fork server: SIGTERM ends the run"

no_leftovers "no corun process or worker is left"
done_testing
