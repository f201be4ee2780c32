#!/bin/sh
# kinds.sh: every built-in kind gives the right status, value and executor,
# from a job file and from standard input; -j, -P and -T bound concurrency.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

head -c 12345 /dev/zero >data.bin
cat >kinds.jobs <<EOF
id=s sleep 0.1
id=e exec echo hello
id=h sh 'echo hi; echo err >&2'
id=r resolve localhost
id=b block 0.1
id=rd read data.bin
id=p100 primes 100
id=p1 primes 1
id=p2 primes 2
id=sp spin 0.1s
id=rm read $T/missing.file
id=ex exec no-such-program-xyz
id=sh3 sh 'exit 3'
id=cl sleep 5
id=cc cancel cl
id=cu cancel nosuch
EOF

# Both runs must give the same records; only the source differs.
corun --json kinds.jobs >file.json 2>file.err </dev/null
rc_file=$?
corun --json <kinds.jobs >stdin.json 2>stdin.err
rc_stdin=$?

for m in file stdin; do
	out=$m.json
	if [ $m = file ]; then
		rc=$rc_file
		src=kinds.jobs
	else
		rc=$rc_stdin
		src=-
	fi
	is "$rc" 1 "$m: exit status 1 when some jobs fail"
	is "$(nlines $out)" 16 "$m: one record per job"
	jrec $out s status='"ok"' executor='"loop"' kind='"sleep"' \
		value='""' stderr=null exit=null signal=null error=null \
		source="\"$src:1\"" "$m: sleep is ok on the loop with an empty value"
	jrec $out e status='"ok"' executor='"loop"' kind='"exec"' \
		value='"hello\n"' stderr='""' exit=0 signal=null \
		"$m: exec gives the program's stdout"
	jrec $out h status='"ok"' executor='"loop"' kind='"sh"' \
		value='"hi\n"' stderr='"err\n"' exit=0 \
		"$m: sh runs a script, stdout and stderr apart"
	jrec $out r status='"ok"' executor='"thread"' kind='"resolve"' \
		"$m: resolve runs on the thread pool"
	like "$(jget $out r value)" '127\.0\.0\.1|::1' \
		"$m: resolve localhost gives a loopback address"
	jrec $out b status='"ok"' executor='"thread"' value='""' \
		"$m: block is ok on the thread pool with an empty value"
	jrec $out rd status='"ok"' executor='"thread"' value='"12345"' \
		source="\"$src:6\"" "$m: read gives the file's size"
	jrec $out p100 status='"ok"' executor='"process"' value='"25"' \
		"$m: primes 100 is 25 on the process pool"
	jrec $out p1 status='"ok"' value='"0"' "$m: primes 1 is 0"
	jrec $out p2 status='"ok"' value='"1"' "$m: primes 2 is 1"
	jrec $out sp status='"ok"' executor='"process"' value='""' \
		"$m: spin is ok on the process pool with an empty value"
	jrec $out rm status='"failed"' executor='"thread"' value=null \
		error="\"read: $T/missing.file: No such file or directory\"" \
		"$m: read of a missing file fails naming it"
	jrec $out ex status='"failed"' executor='"loop"' \
		error='"exec: no-such-program-xyz: No such file or directory"' \
		"$m: exec of a missing program fails with the message"
	jrec $out sh3 status='"failed"' exit=3 signal=null \
		error='"exit status 3"' value='""' \
		"$m: sh 'exit 3' fails with exit 3"
	jrec $out cc status='"ok"' executor='"loop"' kind='"cancel"' value='""' \
		"$m: cancel of a running job is ok on the loop"
	jrec $out cl status='"cancelled"' executor='"loop"' value=null \
		attempts=1 "$m: the job it names ends cancelled"
	lt "$(jget $out cl elapsed)" "$(bound 3 4.5)" "$m: the cancelled sleep 5 ends early"
	jrec $out cu status='"failed"' executor='"loop"' \
		"$m: cancel of an unknown id fails"
done
is "$(cat file.err stdin.err)" "" "nothing on stderr"

# Concurrency. Jobs that write timestamps show overlap whatever the load:
# with -j4 every one of 4 jobs starts before any of them ends.
for i in 1 2 3 4; do
	echo "sh 'date +%s.%N >c$i.start; sleep 1; date +%s.%N >c$i.end'"
done >j4.jobs
for i in 1 2; do
	echo "sh 'date +%s.%N >d$i.start; sleep 0.2; date +%s.%N >d$i.end'"
done >j1.jobs
printf 'block 1\nblock 1\n' >t2.jobs
printf 'block 0.2\nblock 0.2\n' >t1.jobs
wall j4.time corun -j4 j4.jobs >j4.out 2>&1 </dev/null &
wall t2.time corun -T2 --joblog t2.log t2.jobs >t2.out 2>&1 </dev/null &
wall j1.time corun -j1 j1.jobs >j1.out 2>&1 </dev/null &
wall t1.time corun -T1 t1.jobs >t1.out 2>&1 </dev/null &
wait

# The jobs of a job log, as start-end spans (corun's clock).
spans() {
	awk -F '\t' 'NR > 1 { printf "%s%.3f-%.3f", n++ ? " " : "", $8, $8 + $9 }' "$1"
}

# True when every job of a job log starts at least 0.1 s before any of them
# ends (when one job starts as another ends, the log's milliseconds can
# show them overlapping by one).
overlap() {
	awk -F '\t' 'NR > 1 { s = $8 + 0; e = s + $9
		if (n++ == 0 || s > ls) ls = s
		if (n == 1 || e < fe) fe = e }
		END { exit !(n > 1 && ls + 0.1 < fe) }' "$1"
}

# The latest start and the earliest end of a set of jobs.
last_start=$(sort -n c?.start | tail -n 1)
first_end=$(sort -n c?.end | head -n 1)
lt "$last_start" "$first_end" "-j4: four sh jobs all run at once"
lt "$(cat j4.time)" "$(scaled 3.5)" "-j4: the run ends in time"
last_start=$(sort -n d?.start | tail -n 1)
first_end=$(sort -n d?.end | head -n 1)
check "-j1: two sh jobs do not overlap" num_lt "$first_end" "$last_start"
check "-T2: two block 1 run at once ($(spans t2.log))" overlap t2.log
check "-T1: two block 0.2 take 0.4 s or more" num_lt 0.399 "$(cat t1.time)"
is "$(cut -d' ' -f1 j4.out j1.out t2.out t1.out | sort | uniq -c |
	tr -s ' ')" " 10 ok" "every concurrency job is ok"

printf 'spin 1s\nspin 1s\n' >p2.jobs
printf 'spin 0.2s\nspin 0.2s\n' >p1.jobs
wall p2.time corun -P2 --joblog p2.log p2.jobs >p2.out 2>&1 </dev/null
wall p1.time corun -P1 p1.jobs >p1.out 2>&1 </dev/null
check "-P2: two spin 1s run at once ($(spans p2.log))" overlap p2.log
check "-P1: two spin 0.2s take 0.4 s or more" num_lt 0.399 "$(cat p1.time)"
is "$(cut -d' ' -f1 p2.out p1.out | sort | uniq -c | tr -s ' ')" " 4 ok" \
	"every spin job is ok"

no_leftovers "no corun process is left"
done_testing
