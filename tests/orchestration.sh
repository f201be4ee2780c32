#!/bin/sh
# orchestration.sh: retries and backoff, after= (ok, skipped, chains, bad
# references), --fail-fast, -k, --limit, --max-inflight backpressure, jobs
# streamed while input stays open, the cancel kind, --joblog and --resume,
# --stats and --progress, with the built binary, on job files and on
# standard input.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# bg_wait, waiting out the moment when NAME.rc exists but is still empty
# (lib.sh writes it with a plain redirection).
bg_status() {
	bs_rc=$(bg_wait "$1" "$2")
	if [ -z "$bs_rc" ]; then
		sleep 0.2
		bs_rc=$(cat "$1.rc")
	fi
	printf '%s\n' "$bs_rc"
}

# The most intervals open at once; each file holds "START END" lines.
max_overlap() {
	cat "$@" | awk '{ print $1, 1; print $2, -1 }' |
		sort -k1,1g -k2,2n |
		awk '{ n += $2; if (n > m) m = n } END { print m + 0 }'
}

# The gaps between consecutive times (one a line) of FILE, space-separated.
gaps() {
	awk 'NR > 1 { printf "%s%.3f", sep, $1 - p; sep = " " } { p = $1 }
		END { print "" }' "$1"
}

# Print field N (1-based) of the gaps of FILE.
gap() {
	gaps "$1" | awk -v n="$2" '{ print $n }'
}


# --- Retries ---------------------------------------------------------------

for src in file stdin; do
	cat >retry.jobs <<EOF
id=r retries=2 backoff=10ms sh 'exit 1'
id=c retries=3 backoff=10ms sh 'n=\$(cat cnt.$src 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >cnt.$src; [ \$n -ge 2 ]'
id=n sh 'exit 4'
EOF
	if [ $src = file ]; then
		corun --json retry.jobs >retry.$src.json 2>&1 </dev/null
	else
		corun --json <retry.jobs >retry.$src.json 2>&1
	fi
	is "$?" 1 "$src: retries: exit status 1"
	jrec retry.$src.json r status='"failed"' attempts=3 exit=1 \
		error='"exit status 1"' "$src: retries=2 of a failing job: 3 attempts"
	jrec retry.$src.json c status='"ok"' attempts=2 error=null \
		"$src: a job that succeeds on its 2nd attempt ends ok, attempts 2"
	is "$(cat cnt.$src)" 2 "$src: ...and is not run a 3rd time"
	jrec retry.$src.json n attempts=1 exit=4 "$src: no retries by default"
done

printf 'id=d sh "exit 3"\nid=o retries=0 sh "exit 3"\n' >r1.jobs
corun --json -r 2 --backoff 10ms r1.jobs >r1.json 2>&1 </dev/null
jrec r1.json d attempts=3 "-r 2 is the default for every job"
jrec r1.json o attempts=1 "retries=0 overrides -r"

# --- Backoff ---------------------------------------------------------------

# Each attempt writes its start time; the gaps are the delays (plus the
# short run of an attempt).
cat >bo.jobs <<'EOF'
id=b retries=2 backoff=300ms sh 'date +%s.%N >>bo.times; exit 1'
EOF
cat >cap.jobs <<'EOF'
id=m retries=5 sh 'date +%s.%N >>cap.times; exit 1'
EOF
corun --json bo.jobs >bo.json 2>&1 </dev/null &
corun --json --backoff 100ms:100ms cap.jobs >cap.json 2>&1 </dev/null &
wait
jrec bo.json b attempts=3 "backoff=300ms: 3 attempts"
is "$(nlines bo.times)" 3 "backoff=300ms: each attempt ran"
check "backoff=300ms: the first retry waits at least 300 ms ($(gaps bo.times))" \
	num_lt 0.299 "$(gap bo.times 1)"
check "backoff=300ms: the second retry waits at least 600 ms (doubled)" \
	num_lt 0.599 "$(gap bo.times 2)"
lt "$(gap bo.times 2)" "$(scaled 3)" "backoff=300ms: the second retry comes in time"
jrec cap.json m attempts=6 "--backoff 100ms:100ms: 6 attempts"
check "--backoff: the first retry waits at least 100 ms ($(gaps cap.times))" \
	num_lt 0.099 "$(gap cap.times 1)"
# Uncapped, the fifth delay would be 1.6 s (1.28 s at the least).
lt "$(gap cap.times 5)" "$(bound 0.45 1.2)" \
	"--backoff 100ms:100ms: the fifth delay is capped (not 1.6 s)"

# --- after= ----------------------------------------------------------------

for src in file stdin; do
	cat >after.jobs <<'EOF'
id=a sh 'echo A >>order'
id=b after=a sh 'echo B >>order'
id=c after=b,1 sh 'echo C >>order'
id=f sh 'exit 1'
id=g after=f sh 'touch g.ran'
id=h after=g sh 'touch h.ran'
id=i after=4 sh 'touch i.ran'
id=j after=c,g sh 'touch j.ran'
EOF
	rm -f order g.ran h.ran i.ran j.ran
	if [ $src = file ]; then
		corun --json -j 8 after.jobs >after.json 2>&1 </dev/null
	else
		corun --json -j 8 <after.jobs >after.json 2>&1
	fi
	is "$?" 1 "$src: after=: a skipped job makes exit status 1"
	is "$(tr '\n' ' ' <order)" "A B C " "$src: after= chain a <- b <- c runs in order"
	jrec after.json c status='"ok"' "$src: after=b,1 (id and sequence number) ran"
	jrec after.json g status='"skipped"' attempts=0 elapsed=0.0 \
		error="\"dependency 'f' ended failed\"" \
		"$src: after= a failed job: skipped, attempts 0"
	jrec after.json h status='"skipped"' \
		error="\"dependency 'g' ended skipped\"" \
		"$src: after= a skipped job: skipped too"
	jrec after.json i status='"skipped"' \
		error="\"dependency 'f' ended failed\"" \
		"$src: after=4 names job f by its number"
	jrec after.json j status='"skipped"' "$src: one dependency not ok is enough"
	is "$(ls ./*.ran 2>/dev/null)" "" "$src: no skipped job ran"
	is "$(jpy after.json 'len(R)')" 8 "$src: one record per job"
done

# A long chain: every job skipped after the first fails.
awk 'BEGIN { print "id=k1 sh \"exit 1\"";
	for (i = 2; i <= 3000; i++) printf "id=k%d after=k%d sleep 0\n", i, i - 1 }' \
	>chain.jobs
corun --json chain.jobs >chain.json 2>&1 </dev/null
is "$(jpy chain.json 'len(R), sum(r["status"] == "skipped" for r in R)')" \
	"[3000, 2999]" "a chain of 3000: one record each, 2999 skipped"

# Bad references in a file: FILE:LINE, exit 2, nothing runs.
printf 'id=x after=y sh "touch bad.ran"\nid=y sleep 0\n' >later.jobs
corun later.jobs >later.out 2>later.err </dev/null
is "$?" 2 "after= a later id in a file: exit status 2"
is "$(cat later.err)" "later.jobs:1: after: 'y' names no earlier job" \
	"after= a later id in a file: FILE:LINE message"
is "$(cat later.out; ls bad.ran 2>/dev/null)" "" "after= a later id in a file: nothing runs"
printf 'sleep 0\nid=z after=nope,1 sleep 0\nafter=3 sleep 0\n' >unk.jobs
corun unk.jobs >unk.out 2>unk.err </dev/null
is "$?" 2 "after= an unknown id in a file: exit status 2"
is "$(cat unk.err)" "unk.jobs:2: after: 'nope' names no earlier job
unk.jobs:3: after: '3' names no earlier job" \
	"after= an unknown id, or its own number: FILE:LINE each"
printf 'id=a sleep 0\nid=a sh "touch dup.ran"\n' >dup.jobs
corun dup.jobs >dup.out 2>dup.err </dev/null
is "$?" 2 "a duplicate id in a file: exit status 2"
is "$(cat dup.err)" "dup.jobs:2: duplicate id 'a'" "a duplicate id in a file: FILE:LINE"
echo 'id=s after=s sh "touch self.ran"' >self.jobs
corun self.jobs >self.out 2>self.err </dev/null
is "$?" 2 "after= its own id in a file: exit status 2"
is "$(ls self.ran 2>/dev/null)" "" "after= its own id in a file: it does not run"

# The same on standard input: error records, the run goes on.
printf '%s\n' 'id=x after=y sleep 0' 'id=y sleep 0' 'id=s after=s sleep 0' \
	'id=y sleep 0' 'id=w after=y sleep 0' 'after=9 sleep 0' |
	corun --json >bad.json 2>bad.err
is "$?" 1 "bad references on stdin: exit status 1"
jrec bad.json x status='"error"' executor=null attempts=0 \
	error="\"after: 'y' names no earlier job\"" \
	"stdin: after= a later id is an error record"
jrec bad.json s status='"error"' \
	error="\"after: 's' names no earlier job\"" \
	"stdin: after= its own id is an error record (no hang)"
jrec bad.json 4 status='"error"' error="\"duplicate id 'y'\"" \
	"stdin: a duplicate id is an error record with its number as id"
jrec bad.json w status='"ok"' "stdin: after= a duplicated id names the first"
jrec bad.json 6 status='"error"' error="\"after: '9' names no earlier job\"" \
	"stdin: after= a later number is an error record"
jrec bad.json y status='"ok"' "stdin: the good jobs run"

# --- --fail-fast -----------------------------------------------------------

ln -s "$(command -v sleep)" "$T/ffsleep"
cat >ff.jobs <<EOF
id=e1 exec $T/ffsleep 10
id=e2 sh 'touch e2.ran'
id=s sleep 10
id=w after=e1 sleep 0
id=b block 10
id=f timeout=0.3 sleep 5
id=z sh 'touch z.ran'
EOF
wall ff.time corun --json -j 1 --fail-fast ff.jobs >ff.json 2>ff.err </dev/null
is "$?" 1 "--fail-fast: exit status 1"
lt "$(cat ff.time)" "$(bound 5 9)" "--fail-fast: the run stops at the first failure"
is "$(jpy ff.json 'len(R), len({r["id"] for r in R})')" "[7, 7]" \
	"--fail-fast: every job gets exactly one record"
jrec ff.json f status='"timeout"' "--fail-fast: the failing job keeps its status"
jrec ff.json e1 status='"cancelled"' signal=15 attempts=1 \
	error='"cancelled"' "--fail-fast: a running exec is cancelled (SIGTERM)"
jrec ff.json e2 status='"cancelled"' attempts=0 \
	"--fail-fast: a job queued behind -j is cancelled"
jrec ff.json s status='"cancelled"' "--fail-fast: a running sleep is cancelled"
jrec ff.json w status='"cancelled"' attempts=0 "--fail-fast: a waiting job is cancelled"
jrec ff.json b status='"cancelled"' "--fail-fast: a running thread job is cancelled"
jrec ff.json z status='"cancelled"' attempts=0 "--fail-fast: a later job is cancelled"
is "$(ls e2.ran z.ran 2>/dev/null)" "" "--fail-fast: cancelled jobs did not run"
gone "$T/ffsleep" "--fail-fast: the cancelled child is gone"

# On standard input: reading stops at the failure. The producer writes a
# second line once the first job's record is out, then holds its end of
# the pipe open until corun has exited.
# shellcheck disable=SC2094
{
	trap '' PIPE
	echo 'id=f sh "exit 1"'
	i=0
	max=$(ticks 5)
	while [ $i -lt "$max" ] && ! grep -q '"f"' ffin.json 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
	echo 'id=l sh "touch late.ran"' 2>/dev/null
	i=0
	while [ $i -lt "$max" ] && [ ! -e ffin.time ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -e ffin.time ] && echo open >ffin.flag
} | wall ffin.time corun --json --fail-fast >ffin.json 2>&1
is "$?" 1 "--fail-fast on stdin: exit status 1"
is "$(cat ffin.flag 2>/dev/null)" open \
	"--fail-fast on stdin: corun does not wait for the end of its input"
is "$(jpy ffin.json '[r["id"] for r in R]')" '["f"]' \
	"--fail-fast on stdin: later lines are not read"
is "$(ls late.ran 2>/dev/null)" "" "--fail-fast on stdin: the later job did not run"

# A job cancelled by a cancel job does not set --fail-fast off (spec
# section 2: failed, timeout or error do); the run goes on.
printf 'id=a sleep 5\nid=c cancel a\nid=b sleep 0.2\n' |
	corun --json --fail-fast >ffc.json 2>ffc.err
is "$?" 1 "--fail-fast with a cancel job: exit status 1 (a was cancelled)"
is "$(jpy ffc.json '" ".join(sorted("%s=%s" % (r["id"], r["status"]) for r in R))')" \
	"a=cancelled b=ok c=ok" "--fail-fast with a cancel job: the records"

# Without --fail-fast the rest goes on.
printf 'id=f sh "exit 1"\nid=s sleep 0.2\n' | corun --json >noff.json 2>&1
jrec noff.json s status='"ok"' "without --fail-fast a failure stops nothing"

# --- -k --------------------------------------------------------------------

printf '%s\n' 'id=a sleep 0.4' 'id=b sleep 0.1' 'id=c sleep 0.25' 'id=d sleep 0' \
	'id=x after=nope sleep 0' >k.jobs
corun --json <k.jobs >nok.json 2>&1 &
corun --json -k <k.jobs >k.json 2>&1 &
wait
is "$(jpy nok.json '" ".join(r["id"] for r in R)')" "x d b c a" \
	"without -k: records in completion order"
is "$(jpy k.json '" ".join(r["id"] for r in R)')" "a b c d x" \
	"-k: records in input order"

# --- --limit ---------------------------------------------------------------

# Each job writes its own start and end times.
interval_job() {
	printf "id=%s %s sh 'a=\$(date +%%s.%%N); sleep %s; echo \"\$a \$(date +%%s.%%N)\" >iv.%s.%s'\n" \
		"$2" "$3" "$4" "$1" "$2"
}
: >lim1.jobs
: >lim2.jobs
: >lim0.jobs
for i in 1 2 3; do
	interval_job l1 "j$i" group=g 0.3 >>lim1.jobs
	interval_job l0 "j$i" group=g 0.3 >>lim0.jobs
done
for i in 1 2 3 4 5; do
	interval_job l2 "j$i" group=h 0.3 >>lim2.jobs
done
interval_job l2 free "" 0.3 >>lim2.jobs
wall lim1.time corun -j 8 --limit g=1 lim1.jobs >lim1.out 2>&1 </dev/null &
corun -j 8 --limit h=2 lim2.jobs >lim2.out 2>&1 </dev/null &
corun -j 8 lim0.jobs >lim0.out 2>&1 </dev/null &
wait
is "$(max_overlap iv.l1.*)" 1 "--limit g=1: the group's jobs never overlap"
check "--limit g=1: 3 jobs of 0.3 s take at least 0.8 s" \
	num_lt 0.8 "$(cat lim1.time)"
is "$(max_overlap iv.l2.j*)" 2 "--limit h=2: at most 2 of the group at once"
is "$(max_overlap iv.l2.*)" 3 "--limit h=2: a job outside the group runs beside them"
is "$(max_overlap iv.l0.*)" 3 "without --limit the same jobs overlap"
is "$(cat lim1.out lim2.out lim0.out | grep -c '^ok ')" 12 "--limit: every job ends ok"

# --- --max-inflight --------------------------------------------------------

# A producer of many long jobs blocks: corun reads no further than its
# in-flight limit (and a pipe's worth of bytes).
mkfifo mi.fifo
(
	yes 'sleep 30' | head -n 40000
	touch prod.done
) >mi.fifo &
bg_track $!
bg_corun mi mi.fifo mi.json mi.err --json --max-inflight 2
sleep 1
is "$(ls prod.done 2>/dev/null)" "" "--max-inflight 2: the producer is blocked"
kill -TERM "$bg_pid"
is "$(bg_status mi 10)" 143 "--max-inflight 2: SIGTERM ends the run (143)"
is "$(jpy mi.json 'len(R), sorted({r["status"] for r in R})')" \
	'[2, ["cancelled"]]' "--max-inflight 2: only 2 jobs were read, both cancelled"

# At the limit the run still goes to its end.
awk 'BEGIN { for (i = 0; i < 20; i++) print "sleep 0.02" }' |
	wall mi1.time corun --max-inflight 1 >mi1.out 2>&1
is "$?" 0 "--max-inflight 1: exit status 0"
is "$(grep -c '^ok ' mi1.out)" 20 "--max-inflight 1: every job runs"
check "--max-inflight 1: one job at a time" num_lt 0.39 "$(cat mi1.time)"
printf 'frob\nfrob\nid=x after=nope sleep 0\nsleep 0\nfrob\n' |
	corun --max-inflight 1 >mi3.out 2>&1
is "$?" 1 "--max-inflight 1: lines that end at once (errors) do not stall reading"
is "$(nlines mi3.out)" 5 "--max-inflight 1: a record for every line"
awk 'BEGIN { for (i = 0; i < 10; i++) print "sleep 0.02"; print "sleep 0.02 x" }' \
	>mi2.jobs
corun --max-inflight 1 mi2.jobs >mi2.out 2>&1 </dev/null
is "$?" 2 "--max-inflight 1: a bad job file is still rejected"

# A job streamed while input stays open runs at once, on every executor
# (the process pool deals jobs out in its own prepare phase).
# A producer that writes a second job and waits for its record (3 s at
# most) before closing: run N with kind K.
stream_two() {
	# The producer watches the records on purpose.
	# shellcheck disable=SC2094
	(
		echo "id=one $2"
		sleep 0.3
		echo "id=two $2"
		i=0
		max=$(ticks 3)
		while [ $i -lt "$max" ] && ! grep -q '"two"' "st.$1.json"; do
			sleep 0.05
			i=$((i + 1))
		done
		grep -q '"two"' "st.$1.json" && echo early >"st.$1.flag"
	) | corun --json -P 1 -T 1 >"st.$1.json" 2>&1
}
stream_two 1 'primes 10' &
stream_two 2 'block 0' &
stream_two 3 'sleep 0' &
stream_two 4 'exec true' &
wait
n=0
for k in 'primes 10' 'block 0' 'sleep 0' 'exec true'; do
	n=$((n + 1))
	is "$(cat st.$n.flag 2>/dev/null)" early \
		"$k: a job streamed later runs while input stays open"
done

# --- The cancel kind -------------------------------------------------------

ln -s "$(command -v sleep)" "$T/cxsleep"
cat >cx.jobs <<EOF
id=h exec $T/cxsleep 0.5
id=q sh 'touch q.ran'
id=cq cancel q
id=r exec $T/cxsleep 30
id=t sleep 0.3
id=cr after=t cancel r
id=a sleep 0
id=ca after=t cancel a
id=cn cancel nosuch
id=c9 cancel 99
EOF
wall cx.time corun --json -j 2 cx.jobs >cx.json 2>&1 </dev/null
is "$?" 1 "cancel: exit status 1"
jrec cx.json q status='"cancelled"' attempts=0 error='"cancelled"' \
	"cancel of a queued job: cancelled, attempts 0"
jrec cx.json cq status='"ok"' value='""' error=null "cancel of a queued job: ok"
is "$(ls q.ran 2>/dev/null)" "" "cancel of a queued job: it never runs"
jrec cx.json r status='"cancelled"' attempts=1 signal=15 \
	"cancel of a running exec: cancelled by SIGTERM"
jrec cx.json cr status='"ok"' "cancel of a running exec: ok"
lt "$(cat cx.time)" "$(bound 10 25)" "cancel of a running exec: its 30 s are not waited for"
gone "$T/cxsleep" "cancel of a running exec: its process is gone"
jrec cx.json ca status='"failed"' error="\"job 'a' is already final\"" \
	"cancel of a final job: failed"
jrec cx.json cn status='"failed"' error="\"no job 'nosuch'\"" \
	"cancel of an unknown id: failed"
jrec cx.json c9 status='"failed"' error="\"no job '99'\"" \
	"cancel of a later number: failed"
jrec cx.json h status='"ok"' "the job before the cancelled one is untouched"

# --- --joblog and --resume -------------------------------------------------

cat >jl.jobs <<'EOF'
id=a sh 'echo >>a.runs'
id=b sh 'echo >>b.runs; [ -e b.ok ]'
id=c after=a sh 'echo >>c.runs'
id=d after=b sh 'echo >>d.runs'
sh 'echo >>n.runs; exit 3'
id=t timeout=0.1 sleep 5
EOF
start=$(date +%s)
corun --joblog jl.log jl.jobs >jl1.out 2>&1 </dev/null
is "$?" 1 "--joblog: exit status 1 (b fails)"
is "$(head -n 1 jl.log)" "$(printf 'id\tseq\tsource\tkind\texecutor\tstatus\tattempts\tstart\telapsed\texit\tsignal\tjob\tqueued\thost')" \
	"--joblog: the header line"
is "$(nlines jl.log)" 7 "--joblog: one line per job after the header"
is "$(awk -F '\t' 'NF != 14' jl.log)" "" "--joblog: 14 tab-separated fields per line"
is "$(awk -F '\t' '$1 == "c" || $1 == "t" { print $12 }' jl.log | sort)" \
	"sh 'echo >>c.runs' after=a
sleep 5 timeout=0.1s" "--joblog: the job field is the job's canonical line"
is "$(awk -F '\t' '$1 == "b" { print $2, $3, $4, $5, $6, $7, $10, $11 }' jl.log)" \
	"2 jl.jobs:2 sh loop failed 1 1 -" "--joblog: a failed sh job's line"
is "$(awk -F '\t' '$1 == "5" { print $6, $10 }' jl.log)" "failed 3" \
	"--joblog: a job without id is logged by its number, with its exit"
is "$(awk -F '\t' '$1 == "d" { print $6, $7, $8, $10, $11 }' jl.log)" \
	"skipped 0 - - -" "--joblog: a skipped job has no start"
is "$(awk -F '\t' '$1 == "t" { print $6, $10, $11 }' jl.log)" "timeout - -" \
	"--joblog: a timed-out sleep"
like "$(awk -F '\t' '$1 == "a" { print $8, $9 }' jl.log)" \
	'^[0-9]+\.[0-9]{3} [0-9]+\.[0-9]{3}$' "--joblog: start and elapsed with 3 decimals"
check "--joblog: start is the epoch time of the run" \
	awk -v s="$(awk -F '\t' '$1 == "a" { print $8 }' jl.log)" -v t="$start" \
	'BEGIN { exit !(s >= t - 1 && s <= t + 30) }'

touch b.ok
corun --json --joblog jl.log --resume jl.jobs >jl2.json 2>&1 </dev/null
is "$?" 1 "--resume: exit status 1 (5 and t still fail)"
is "$(cat a.runs b.runs c.runs d.runs n.runs | wc -l | tr -d ' ')" 7 \
	"--resume: a and c do not run again; b, d and 5 do"
is "$(nlines b.runs) $(nlines a.runs)" "2 1" "--resume: the failed job runs again, the ok one not"
jrec jl2.json a status='"ok"' attempts=0 resumed=true elapsed=0.0 \
	"--resume: a job ok in the log has a resumed record"
jrec jl2.json c resumed=true "--resume: so has c (ok after a)"
jrec jl2.json b status='"ok"' attempts=1 "--resume: b ran again and is ok"
jrec jl2.json d status='"ok"' "--resume: d, skipped before, now runs"
is "$(jpy jl2.json 'sum("resumed" in r for r in R)')" 2 \
	"--resume: only resumed records carry resumed"
is "$(awk -F '\t' '$1 == "a"' jl.log | wc -l | tr -d ' ')" 1 \
	"--resume: a resumed job is not logged again"
is "$(grep -c '^id	' jl.log)" 1 "--resume: the header is written once"
corun --joblog jl.log --resume --max-inflight 1 jl.jobs >jl3.out 2>&1 </dev/null
like "$(cat jl3.out)" '^ok a 0\.000s sh: \(resumed\)$' \
	"--resume: text record of a resumed job"
is "$(nlines jl3.out)" 6 "--resume --max-inflight 1: resumed jobs do not stall reading"
# A line cut short by a crash does not swallow the next run's first line.
head -n 2 jl.log | tr -d '\n' >cut.log
echo 'id=z sh "echo >>z.runs"' >cut.jobs
corun --joblog cut.log cut.jobs >cut1.out 2>&1 </dev/null
corun --joblog cut.log --resume cut.jobs >cut2.out 2>&1 </dev/null
is "$(nlines z.runs)" 1 "--resume after a line cut short: the next run's line counts"
is "$(awk -F '\t' 'NF == 14 && $1 == "z"' cut.log | wc -l | tr -d ' ')" 1 \
	"--joblog after a line cut short: the new line is whole"
corun --resume jl.jobs >nojl.out 2>&1 </dev/null
is "$?" 2 "--resume without --joblog: exit status 2"

# --- --stats ---------------------------------------------------------------

cat >st.jobs <<'EOF'
id=a sleep 0.1
id=f retries=1 backoff=10ms sh 'exit 1'
id=s after=f sleep 0
id=b block 0.05
id=p primes 100
id=t timeout=0.1 sleep 5
EOF
corun --stats st.jobs >st.out 2>st.err </dev/null
is "$?" 1 "--stats: exit status 1"
is "$(nlines st.out)" 6 "--stats: the records are on stdout as usual"
is "$(head -n 1 st.err)" "corun stats" "--stats: the summary on stderr"
like "$(cat st.err)" '^  jobs +6 \(ok 3, failed 1, timeout 1, cancelled 0, skipped 1, error 0\)$' \
	"--stats: jobs per status"
like "$(cat st.err)" '^  retries +1$' "--stats: retries"
like "$(cat st.err)" '^  workers +0 replaced$' "--stats: workers replaced"
like "$(cat st.err)" '^  latency +executor +jobs +p50 +p90 +p99 +max$' \
	"--stats: the latency header"
like "$(cat st.err)" '^ +loop +3 ' "--stats: 3 loop jobs ran (the skipped one did not)"
like "$(cat st.err)" '^ +thread +1 ' "--stats: 1 thread job"
like "$(cat st.err)" '^ +process +1 ' "--stats: 1 process job"
like "$(cat st.err)" '^  queue peak +loop [0-9]+, thread [0-9]+, process [0-9]+$' \
	"--stats: queue peaks"
like "$(cat st.err)" '^  loop lag +p99 [0-9.]+(us|ms|s), max [0-9.]+(us|ms|s) \([0-9]+ samples\)$' \
	"--stats: loop lag"
corun st.jobs >nost.out 2>nost.err </dev/null
is "$(cat nost.err)" "" "without --stats nothing is on stderr"

# The loop lag is sampled every 10 ms whatever the loop is doing: a loop
# stopped for 0.3 s shows as lag, and no 10 ms period goes uncounted.
printf 'sh %s\nsleep 3\n' "'touch lag.started'" >lag.jobs
bg_corun lag /dev/null lag.out lag.err --stats lag.jobs
wait_for lag.started 10 || diag "the first job did not run"
kill -STOP "$bg_pid"
sleep 0.3
kill -CONT "$bg_pid"
is "$(bg_status lag 20)" 0 "--stats, stopped for 0.3 s: exit status 0"
# "max 312.4ms (301 samples)" -> "0.3124 301"
set -- $(sed -n 's/^  loop lag .*max \([0-9.]*\)\([a-z]*\) (\([0-9]*\) samples)$/\1 \2 \3/p' \
	lag.err | awk '{ m = $1
		if ($2 == "us") m /= 1e6; else if ($2 == "ms") m /= 1e3
		print m, $3 }')
lt 0.25 "${1:-0}" "--stats: a loop stopped for 0.3 s has a lag max >= 0.25 s"
lt 290 "${2:-0}" "--stats: every 10 ms of a 3 s run is a lag sample"

# --- --progress ------------------------------------------------------------

printf 'sleep 0.1\nsleep 0.35\nblock 0.2\n' >pg.jobs
corun --progress pg.jobs >pg.out 2>pg.err </dev/null
is "$?" 0 "--progress: exit status 0"
is "$(cat pg.err)" "" "--progress: nothing on stderr when it is not a terminal"
is "$(nlines pg.out)" 3 "--progress: records as usual"
if command -v script >/dev/null 2>&1; then
	script -qfec "$CORUN_LINK --progress $T/pg.jobs" /dev/null \
		</dev/null >pg.tty 2>&1
	is "$("$PY" - pg.tty <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
draws = d.count(b"\r\x1b[K")
last = d.rfind(b"\r\x1b[K")
ok = (draws >= 2 and b"/3 | running loop" in d and b"| failed 0" in d
      and last > d.rfind(b"| running") and draws <= 12)
print("good" if ok else "bad %d %r" % (draws, d[-300:]))
EOF
)" good "--progress on a terminal: redrawn with \\r ESC[K, cleared at the end"
else
	skip "--progress on a terminal" "script(1) not found"
fi

no_leftovers "no process left behind"
done_testing
