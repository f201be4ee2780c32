#!/bin/sh
# faults-big.sh: fault injection, part 2 (issue 5). SIGKILL of random
# workers and children while thousands of mixed jobs run, SIGKILL of the
# fork server, a low `ulimit -n`, and a child writing 1 GiB. Every job
# read gets exactly one record, retried jobs succeed, the pool keeps
# serving, corun's memory stays flat, nothing outlives corun. Outcomes
# never depend on timing: conditions are polled for with a deadline.

# Conditions are functions that only `within` calls (SC2317).
# shellcheck disable=SC2317
# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# shellcheck source=tests/data/faults-lib.sh
. "$SRCDIR/tests/data/faults-lib.sh"

# ---------------------------------------------------------------------
# The kill storm: 3000 mixed jobs (process, thread, loop, exec, sh), each
# with its own value, and 25 retries. faults-kill.py SIGKILLs 20 random
# workers and 20 random children while they run; as fewer kills than
# retries are made, every job must end ok. Then 400 more jobs, once the
# storm is over: the pool keeps serving.
"$PY" "$SD/faults-storm.py" jobs A 3000 >a.jobs
"$PY" "$SD/faults-storm.py" jobs B 400 >b.jobs
mkfifo storm.fifo
{
	cat a.jobs
	wait_for kill.log.done 30
	cat b.jobs
	wait_for storm.checked 30
} >storm.fifo &
bg_track $!
bg_corun storm storm.fifo storm.json storm.err --json --stats -P2 -j3 -T2 \
	-r 25 --backoff 1ms:5ms --joblog storm.log
"$PY" "$SD/faults-kill.py" "$bg_pid" 20 20 "$(scaled 15)" 7 kill.log
is "$(cat kill.log.done)" "20 20" \
	"the storm: 20 workers and 20 children killed"

# True when corun's pool is whole and idle: the fork server and its two
# workers, the watchdog, no child, no zombie.
pool_whole() {
	tree_of "$bg_pid" >tree.txt
	[ "$(awk '$3 !~ /^Z/' tree.txt | wc -l)" -eq 4 ] &&
		[ "$(awk '$3 ~ /^Z/' tree.txt | wc -l)" -eq 0 ]
}

check "the storm: all 3400 records are out" within 20 has_lines storm.json 3400
if ! check "after the storm: the fork server, 2 workers, the watchdog, no zombie" \
	within 5 pool_whole; then
	diag "$(cat tree.txt)"
fi
: >storm.checked
is "$(bg_rc storm 10)" 0 "the storm: exit status 0, every job ended ok"
"$PY" "$SD/faults-storm.py" check storm.json A 3000 B 400 >storm.check
is "$(grep -v '^retried' storm.check | head -n 5)" "" \
	"the storm: exactly one record per job, each with its own value"
retried=$(awk '$1 == "retried" { print $2 }' storm.check)
cretried=$(awk '$1 == "retried-children" { print $2 }' storm.check)
retries=$(awk '$1 == "retries" { print $2 }' storm.err)
replaced=$(awk '$1 == "workers" { print $2 }' storm.err)
diag "storm: $retried jobs retried ($cretried exec/sh), $retries retries," \
	"$replaced workers replaced"
check "the storm: killed jobs were retried (exec/sh too)" \
	test "$retried" -ge 1 -a "$cretried" -ge 1
check "the storm: at most one retry per kill" test "$retries" -le 40
is "$replaced" 20 "the storm: every killed worker was replaced"
is "$(awk -F '\t' 'NR > 1 && $6 == "ok" { print $1 }' storm.log | sort -u |
	wc -l | tr -d ' '):$(nlines storm.log)" 3400:3401 \
	"the storm: the job log has one ok line per job"
no_leftovers "the storm: no worker or child is left"

# The fork server killed between two batches: the process jobs of the
# second batch cannot get a worker and fail with a clear error (or run,
# should corun keep its workers); every other job runs; one record each,
# in input order (-k).
"$PY" "$SD/faults-storm.py" jobs C 80 >c.jobs
"$PY" "$SD/faults-storm.py" jobs D 80 >d.jobs
mkfifo fs.fifo
{
	cat c.jobs
	wait_for fs.killed 30
	cat d.jobs
} >fs.fifo &
bg_track $!
bg_corun fs fs.fifo fs.json fs.err --json -k -P2 -j3 -T2 -r 2 --backoff 1ms
check "fork server: the first batch is done" within 10 has_lines fs.json 80
fsrv=$(ps -o pid=,comm=,args= --ppid "$bg_pid" |
	awk -v m="$T/corun-itest" '$2 != "corun-watchdog" && index($0, m) {
		print $1 }')
check "fork server: found (a child of corun)" test -n "$fsrv"
[ -n "$fsrv" ] && kill -9 "$fsrv"
check "fork server: it is dead" within 5 dead "$fsrv"
: >fs.killed
is "$(bg_rc fs 20)" 1 "fork server killed: exit status 1"
"$PY" "$SD/faults-storm.py" check fs.json C 80 D 80 >fs.check
is "$(grep -v '^retried' fs.check |
	grep -Ev "^D-[0-9]+: failed attempts 3 error 'process pool: the fork server (died|is gone)" |
	head -n 5)" "" \
	"fork server killed: one record each; only process jobs fail, clearly"
check "fork server killed: some process job failed" \
	grep -Eq "fork server (died|is gone)" fs.check
is "$(jpy fs.json '[r["seq"] for r in R] == list(range(1, 161))')" true \
	"fork server killed: -k keeps the records in input order"
no_leftovers "fork server killed: no worker or child is left"

# ---------------------------------------------------------------------
# ulimit -n 64 and -j 100: 300 children want 600 pipe ends. A child that
# finds no fd waits until a running child ends and gives some back, so
# every child runs; other jobs (read, primes) run, or fail with a clear
# EMFILE message; none is lost; corun does not crash, and serves the next
# batch in full.
{
	i=0
	while [ $i -lt 300 ]; do
		echo "id=e$i exec $SL 0.2"
		[ $((i % 10)) = 0 ] && echo "id=r$i read /etc/passwd" &&
			echo "id=p$i primes 1000"
		i=$((i + 1))
	done
} >em.jobs
{
	i=0
	while [ $i -lt 20 ]; do
		echo "id=ok$i exec echo ok$i"
		[ $((i % 2)) = 0 ] && echo "id=okr$i read /etc/passwd" &&
			echo "id=okp$i primes 1000"
		i=$((i + 1))
	done
} >em2.jobs
mkfifo em.fifo
{
	cat em.jobs
	wait_for em.next 30
	cat em2.jobs
} >em.fifo &
bg_track $!
bg_pre em em.fifo em.json em.err 'ulimit -n 64 &&' '' --json -j 100 -P2 -T2 \
	--joblog em.log
check "ulimit -n 64: the first 360 jobs end" within 20 has_lines em.json 360
: >em.next
rc=$(bg_rc em 20)
emfail=$(jpy em.json 'sum(r["status"] != "ok" for r in R)')
is "$rc" "$((emfail > 0))" \
	"ulimit -n 64, -j 100: exit status 1 if and only if a job failed"
is "$(jpy em.json '[len(R), sorted(r["seq"] for r in R)
	== list(range(1, 401))]')" '[400, true]' \
	"ulimit -n 64, -j 100: one record for each of the 400 jobs"
is "$(jpy em.json '"\n".join(sorted({r["error"] for r in R
	if r["status"] != "ok" and "Too many open files" not in r["error"]}))')" \
	"" "ulimit -n 64, -j 100: every failure says Too many open files"
diag "ulimit -n 64, -j 100: $emfail read or primes jobs failed on EMFILE"
is "$(jpy em.json 'sum(r["status"] == "ok" for r in R
	if r["id"].startswith("e"))')" 300 \
	"ulimit -n 64, -j 100: all 300 children run, waiting for fds"
is "$(jpy em.json '[r["id"] for r in R
	if r["id"].startswith("ok") and r["status"] != "ok"]')" '[]' \
	"ulimit -n 64: the next batch runs in full"
is "$(cat em.err)" "" "ulimit -n 64: nothing on stderr"
is "$(awk -F '\t' 'NR > 1 { print $1 }' em.log | sort -u | wc -l |
	tr -d ' '):$(nlines em.log)" 400:401 \
	"ulimit -n 64: the job log has one line per job"
no_leftovers "ulimit -n 64: no worker or child is left"

# With -j 4 the same limit is enough: jobs wait for their slot, all ok.
sed 's/ 0\.2$/ 0.01/' em.jobs >em4.jobs
bg_pre em4 em4.jobs em4.json em4.err 'ulimit -n 64 &&' '' --json -j 4 -P2 \
	-T2
is "$(bg_rc em4 20)" 0 "ulimit -n 64, -j 4: exit status 0"
is "$(jpy em4.json '[len(R), sum(r["status"] == "ok" for r in R)]')" \
	'[360, 360]' "ulimit -n 64, -j 4: 360 jobs wait their turn, all ok"

# Every fd limit from 4 up: corun never crashes (aborts), and never exits
# 0 having lost a job; failed jobs and messages name the cause.
printf 'id=%s\n' 'a exec echo a' 'b primes 10' 'c read /etc/passwd' \
	'd sleep 0' 'e block 0' >lo.jobs
n=4
crashes=
losses=
unclear=
while [ $n -le 16 ]; do
	# shellcheck disable=SC2016 # expanded by that sh
	timeout -k 1 "$(scaled 10)" sh -c 'ulimit -n "$1" && exec "$2" --json lo.jobs' \
		sh "$n" "$CORUN_LINK" <lo.jobs >lo.json 2>lo.err
	rc=$?
	# Too few fds for the dynamic loader: not corun's to handle.
	if grep -q 'error while loading shared libraries' lo.err; then
		n=$((n + 1))
		continue
	fi
	[ "$rc" -ge 128 ] && crashes="$crashes $n:$rc"
	oks=$(grep -c '"status":"ok"' lo.json)
	[ "$rc" = 0 ] && [ "$oks" != 5 ] && losses="$losses $n"
	if grep -v '"status":"ok"' lo.json | grep -qv 'Too many open files' ||
		{ [ ! -s lo.json ] && ! grep -q 'Too many open files' lo.err; }; then
		unclear="$unclear $n"
	fi
	n=$((n + 1))
done
is "$crashes" "" "ulimit -n 4..16: corun never crashes"
is "$losses" "" "ulimit -n 4..16: never exit 0 with jobs not run"
is "$unclear" "" "ulimit -n 4..16: every failure says Too many open files"
is "$rc:$(grep -c '"status":"ok"' lo.json)" 0:5 "ulimit -n 16: all ok"
no_leftovers "fd limits: nothing is left"

# ---------------------------------------------------------------------
# A child writing 1 GiB on stdout, one writing 1 GiB on stderr, at once:
# 1 MiB and 64 KiB are kept, the rest read and thrown away, and corun's
# maximum resident size stays far below (64 MiB).
cat >g.jobs <<'EOF'
id=out exec head -c 1073741824 /dev/zero
id=err sh 'head -c 1073741824 /dev/zero >&2; echo done'
EOF
if /usr/bin/time -f %M true >/dev/null 2>&1; then
	timeout -k 3 "$CORUN_LIMIT" /usr/bin/time -f %M -o g.rss \
		"$CORUN_LINK" --json -j2 g.jobs >g.json 2>g.err </dev/null
	is "$?" 0 "1 GiB from a child: exit status 0"
	lt "$(tail -n 1 g.rss)" 65536 "1 GiB from a child: corun stays under 64 MiB"
	diag "1 GiB from a child: corun's maximum RSS $(tail -n 1 g.rss) KiB"
	jrec g.json out exit=0 signal=null truncated=true \
		"1 GiB on stdout: exit 0, truncated"
	jrec g.json err exit=0 value='"done\n"' truncated=false \
		"1 GiB on stderr: exit 0"
	is "$(jpy g.json '[len(by["out"]["value"]), len(by["err"]["stderr"])]')" \
		'[1048576, 65536]' "1 GiB: 1 MiB of stdout and 64 KiB of stderr kept"
else
	for _ in 1 2 3 4 5; do
		skip "1 GiB from a child" "no GNU /usr/bin/time"
	done
fi

# ---------------------------------------------------------------------
# Out of memory (ulimit -v): 40 children print 2 MB each and keep the
# pipe open, more than corun may hold. A job whose output buffer cannot
# grow fails with "out of memory"; the others go on; every job gets its
# record and the exit status is 1. Skipped where corun cannot run under
# the limit at all (a sanitizer build reserves terabytes).
{
	i=0
	while [ $i -lt 40 ]; do
		echo "id=b$i sh 'yes a | head -c 2000000; sleep 1'"
		i=$((i + 1))
	done
	echo "id=small exec echo hi"
} >oom.jobs
echo 'exec echo probe' >probe.jobs
if (ulimit -v 60000 && corun probe.jobs) >/dev/null 2>&1; then
	(ulimit -v 60000 && corun --json -j 50 oom.jobs) >oom.json 2>oom.err \
		</dev/null
	is "$?" 1 "ulimit -v: corun ends with exit status 1, not an abort"
	is "$(jpy oom.json 'len(R)')" 41 "ulimit -v: every job has its record"
	is "$(jpy oom.json 'sorted({r["error"] for r in R
		if r["status"] != "ok"})')" '["out of memory"]' \
		"ulimit -v: every failure says out of memory"
	check "ulimit -v: some jobs did fail for lack of memory" \
		test "$(jpy oom.json 'sum(r["status"] != "ok" for r in R)')" -gt 0
	is "$(jpy oom.json 'sorted({len(r["value"]) for r in R
		if r["status"] == "ok" and r["id"] != "small"})')" '[1048576]' \
		"ulimit -v: the others keep their 1 MiB"
	jrec oom.json small status='"ok"' value='"hi\n"' \
		"ulimit -v: a small job beside them is ok"
	is "$(cat oom.err)" "" "ulimit -v: nothing on stderr"
else
	for _ in 1 2 3 4 5 6 7; do
		skip "out of memory under ulimit -v" "corun cannot run under it"
	done
fi

no_leftovers "no corun process or child is left"
done_testing
