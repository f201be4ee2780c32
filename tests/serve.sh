#!/bin/sh
# serve.sh: corun --serve, the remote worker, driven by tests/wirepeer (a
# scripted parent: its script language is in its top comment) over its
# standard input and output. Every kind runs; results come by tag, out of
# order, each after its STARTED; a JOB's timeout, CANCEL with a grace and
# with hurry, the HELLO's environment and workdir, basefiles (whole, and
# onto their own source); a worker whose input ends, whose parent falls
# silent (also across SIGSTOP) or that gets SIGTERM leaves nothing
# running; bad greetings, HELLOs and bytes are refused with one line;
# backpressure and the jobs per second through one worker.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

WIREPEER="$BUILDDIR/tests/wirepeer"
[ -x "$WIREPEER" ] || bail "tests/wirepeer is not built"

# Run the script on standard input against `corun --serve ARG...`:
# serve NAME ARG... (NAME.out: the frames, NAME.err: the worker's standard
# error, NAME.pid: its pid).
serve() {
	sv_name=$1
	shift
	timeout -k 3 "$CORUN_LIMIT" "$WIREPEER" -t "$(scaled 15)" \
		-p "$sv_name.pid" - "$CORUN_LINK" --serve "$@" \
		>"$sv_name.out" 2>"$sv_name.err"
}

# The frame lines of NAME.out that start with WORD (and a tag): frames
# NAME RESULT 3.
frames() {
	grep "^$2${3:+ $3 }" "$1.out"
}

# --- Start-up ---------------------------------------------------------------

serve hello -j3 -P1 -T2 <<EOF
hello
wait hello
bye
EOF
like "$(sed -n 2p hello.out)" \
	'^HELLO cpus=[1-9][0-9]* jobs=3 procs=1 threads=2 heartbeat=none grace=2 kinds=sleep exec sh .*primes spin call$' \
	"the worker's HELLO: CPUs, its own -j/-P/-T, no heartbeat, its grace, kinds"
is "$(sed -n '1p;3,$p' hello.out)" "GREETING 1
BYE
EXIT 0" "greeting first; BYE answered by BYE and exit 0"
is "$(cat hello.err)" "" "nothing on stderr"

# --- Every kind, by tag ---------------------------------------------------

start_httpd 60
printf 'abcdef' >six.bytes
serve kinds <<EOF
hello
job 1 none 1 loop exec echo hi
job 2 none two loop sh 'echo out; echo err >&2; exit 3'
job 3 none 3 loop sleep 10ms
job 4 none 4 process primes 1000
job 5 none 5 thread read $T/six.bytes
job 6 none 6 process spin 10ms
job 7 none 7 thread block 10ms
job 8 none 8 thread resolve 127.0.0.1
job 9 none 9 loop http http://127.0.0.1:$HTTPD_PORT/status/200
job 10 none 10 loop tcp 127.0.0.1:$HTTPD_PORT
job 11 none 11 thread primes 100
job 12 none 12 loop bogus 1
job 13 none 13 thread exec true
job 14 none 14 loop cancel 1
wait results 14
bye
EOF
is "$(frames kinds RESULT | sort -n -k2 | sed 's/ value="0\.[0-9]*"/ value=T/')" \
	'RESULT 1 status=ok exit=0 signal=0 value="hi\n"
RESULT 2 status=failed exit=3 signal=0 value="out\n" errout="err\n" error="exit status 3"
RESULT 3 status=ok exit=none signal=0 value=""
RESULT 4 status=ok exit=none signal=0 value="168"
RESULT 5 status=ok exit=none signal=0 value="6"
RESULT 6 status=ok exit=none signal=0 value=""
RESULT 7 status=ok exit=none signal=0 value=""
RESULT 8 status=ok exit=none signal=0 value="127.0.0.1"
RESULT 9 status=ok exit=none signal=0 http=200 value="status 200\n"
RESULT 10 status=ok exit=none signal=0 value=T
RESULT 11 status=error exit=none signal=0 unstarted value="" error="primes cannot run on thread"
RESULT 12 status=error exit=none signal=0 unstarted value="" error="unknown kind '\''bogus'\''"
RESULT 13 status=error exit=none signal=0 unstarted value="" error="exec cannot run on thread"
RESULT 14 status=error exit=none signal=0 unstarted value="" error="cancel runs on the parent"' \
	"every kind runs on its executor; a line that cannot run is an error RESULT"
ok_started=0
for t in 1 2 3 4 5 6 7 8 9 10; do
	s=$(grep -n "^STARTED $t\$" kinds.out | cut -d: -f1)
	r=$(grep -n "^RESULT $t " kinds.out | cut -d: -f1)
	[ -n "$s" ] && [ -n "$r" ] && [ "$s" -lt "$r" ] || ok_started=1
done
ok $ok_started "each job's STARTED comes before its RESULT"
is "$(frames kinds STARTED 11; frames kinds STARTED 12; frames kinds STARTED 14)" "" \
	"a line that cannot run has no STARTED"
is "$(tail -2 kinds.out)" "BYE
EXIT 0" "BYE after the last RESULT"

serve order <<EOF
hello
job 1 none 1 loop sleep 1
job 2 none 2 loop exec echo quick
wait result 2
bye
EOF
is "$(grep '^RESULT' order.out | cut -d' ' -f2 | tr '\n' ' ')" "2 1 " \
	"results come in the order jobs end, by tag"

# --- Timeouts and cancel ---------------------------------------------------

wall cancel.wall serve cancel <<EOF
hello grace=10
job 1 0.3 1 loop sh 'sleep 30'
job 2 none 2 loop sh 'trap "echo term; exit 7" TERM; touch ready.2; while :; do sleep 0.05; done'
job 3 none 3 loop sh 'trap "" TERM; touch ready.3; while :; do sleep 0.05; done'
job 4 none 4 loop sh 'trap "" TERM; touch ready.4; while :; do sleep 0.05; done'
job 5 none 5 loop sleep 60
cancel 99 1
await ready.2
cancel 2 10
await ready.3
cancel 3 0.2
await ready.4
cancel 4 60 hurry
cancel 5 0
wait results 5
bye
EOF
is "$(frames cancel RESULT | sort -n -k2 | sed 's/ errout="[^"]*"//')" \
	'RESULT 1 status=timeout exit=none signal=15 value="" error="timed out after 0.3s"
RESULT 2 status=cancelled exit=7 signal=0 value="term\n" error="cancelled"
RESULT 3 status=cancelled exit=none signal=9 value="" error="cancelled"
RESULT 4 status=cancelled exit=none signal=9 value="" error="cancelled"
RESULT 5 status=cancelled exit=none signal=0 value="" error="cancelled"' \
	"a JOB's timeout; CANCEL: TERM, KILL after its grace, at once with hurry; an unknown tag is ignored"
is "$(tail -1 cancel.out)" "EXIT 0" "the worker goes on after its jobs are cancelled"
lt "$(cat cancel.wall)" "$(bound 4 9.5)" \
	"... the CANCEL's grace and hurry, not the HELLO's grace of 10 s, apply"

serve rehurry <<EOF
hello
job 1 none 1 loop sh 'trap "" TERM; touch ready.h; while :; do sleep 0.05; done'
await ready.h
cancel 1 60
cancel 1 60 hurry
wait result 1
job 2 none 2 loop exec echo late
wait result 2
bye
EOF
is "$(grep '^RESULT' rehurry.out; tail -1 rehurry.out)" \
	'RESULT 1 status=cancelled exit=none signal=9 value="" error="cancelled"
RESULT 2 status=cancelled exit=none signal=0 value="" error="cancelled"
EXIT 0' "a hurried CANCEL after a graceful one: KILL now, and the worker's run is hurried (later JOBs end cancelled)"

# --- Environment, workdir, basefiles ---------------------------------------

mkdir wd
serve env <<EOF
hello env=CORUN_T1=one env=CORUN_T2=a=b workdir=$T/wd
job 1 none 1 loop sh 'echo "\$CORUN_T1 \$CORUN_T2"; pwd'
job 2 none 2 loop exec printenv CORUN_T1
job 3 none 3 thread read here
wait result 3
bye
EOF
is "$(frames env RESULT | sort -n -k2)" "RESULT 1 status=ok exit=0 signal=0 value=\"one a=b\\n$T/wd\\n\"
RESULT 2 status=ok exit=0 signal=0 value=\"one\\n\"
RESULT 3 status=failed exit=none signal=0 value=\"\" error=\"read: here: No such file or directory\"" \
	"the HELLO's environment and workdir reach the jobs"

serve nowd <<EOF
hello workdir=$T/missing
bye
EOF
is "$(tail -1 nowd.out)" "EXIT 1" "a workdir that cannot be entered: exit 1"
is "$(cat nowd.err)" "corun --serve: workdir $T/missing: No such file or directory" \
	"... with one line on stderr"

"$PY" -c 'import os, sys; sys.stdout.buffer.write(os.urandom(300000))' >src.bin
cp src.bin same.bin
cp src.bin same.orig
serve file <<EOF
hello workdir=$T/wd
file copy.bin $T/src.bin 65536
file empty.bin /dev/null
job 1 none 1 thread read copy.bin
file $T/same.bin $T/same.bin 4096
bye
EOF
check "a basefile of several chunks arrives whole" cmp src.bin wd/copy.bin
check "an empty basefile arrives" test -f wd/empty.bin -a ! -s wd/empty.bin
is "$(frames file RESULT 1)" 'RESULT 1 status=ok exit=none signal=0 value="300000"' \
	"a job after the FILE chunks finds the whole file"
check "a basefile sent onto its own source is neither truncated nor changed" \
	cmp same.orig same.bin
is "$(find wd -name '*.corun*' | wc -l | tr -d ' ')" "0" "no temporary file is left"
serve badfile <<EOF
hello workdir=$T/wd
file nodir/x.bin $T/src.bin
EOF
is "$(tail -1 badfile.out)" "EXIT 1" "a basefile that cannot be written: exit 1"
like "$(cat badfile.err)" "^corun --serve: FILE nodir/x.bin: No such file" \
	"... with the reason on stderr"

# --- Ending ----------------------------------------------------------------

M=$$
serve eof <<EOF
hello grace=0.5
job 1 none 1 loop sh 'sleep 31$M & sleep 32$M; wait'
job 2 none 2 loop sh 'trap "" TERM; sleep 33$M & touch ready.e; wait'
await ready.e
close
EOF
is "$(frames eof RESULT | sort -n -k2 | cut -d' ' -f1-3; tail -2 eof.out)" \
	"RESULT 1 status=cancelled
RESULT 2 status=cancelled
BYE
EXIT 1" "standard input ends without BYE: jobs cancelled, their RESULTs, BYE, exit 1"
like "$(cat eof.err)" "standard input ended without BYE: stopping every job" \
	"... said on stderr"
gone "sleep 3[123]$M" "... and nothing it started survives (TERM, then KILL after the grace)"

serve held-eof --max-inflight 2 <<EOF
hello
job 1 none 1 loop sh 'sleep 37$M & touch ready.h1; wait'
job 2 none 2 loop sh 'sleep 38$M & wait'
job 3 none 3 loop exec echo held
await ready.h1
close
EOF
is "$(frames held-eof RESULT | sort -n -k2 | cut -d' ' -f1-3; tail -1 held-eof.out)" \
	"RESULT 1 status=cancelled
RESULT 2 status=cancelled
EXIT 1" "a worker not reading (--max-inflight) still notices its input's end"
gone "sleep 3[78]$M" "... and leaves nothing running"

serve beat <<EOF
hello heartbeat=1 grace=0.2
job 1 none 1 loop sh 'sleep 34$M & wait'
wait started 1
silence 60
EOF
is "$(frames beat RESULT | cut -d' ' -f1-3; tail -2 beat.out)" "RESULT 1 status=cancelled
BYE
EXIT 1" "a parent silent for its heartbeat: the worker cancels its jobs and exits"
like "$(cat beat.err)" "nothing from the parent for 1s \\(its heartbeat\\)" \
	"... saying why"
gone "sleep 34$M" "... leaving nothing running"

serve pings <<EOF
hello heartbeat=0.4
wait ping
ping 5
wait pong 5
bye
EOF
is "$(grep -v '^HELLO' pings.out)" "GREETING 1
PONG 5
BYE
EXIT 0" "the worker PINGs every quarter heartbeat and answers a PING with a PONG"

serve stop <<EOF
hello heartbeat=1 grace=0.2
job 1 none 1 loop sh 'sleep 35$M & wait'
wait started 1
kill STOP
silence 1.5
kill CONT
silence 60
EOF
is "$(tail -1 stop.out)" "EXIT 1" \
	"a worker stopped longer than the heartbeat exits once continued"
gone "sleep 35$M" "... and leaves nothing running"

serve term <<EOF
hello grace=0.2
job 1 none 1 loop sh 'sleep 36$M & wait'
wait started 1
kill TERM
EOF
is "$(frames term RESULT | cut -d' ' -f1-3; tail -2 term.out)" "RESULT 1 status=cancelled
BYE
EXIT 143" "SIGTERM: jobs cancelled, their RESULTs, BYE, exit 143"
gone "sleep 36$M" "... leaving nothing running"

serve byewait <<EOF
hello
job 1 none 1 loop sleep 0.3
bye
EOF
is "$(sed 1,2d byewait.out)" "STARTED 1
RESULT 1 status=ok exit=none signal=0 value=\"\"
BYE
EXIT 0" "BYE: the jobs in flight finish first"

# --- Refusals --------------------------------------------------------------

serve proto2 <<EOF
greeting proto=2
hello
EOF
is "$(tail -1 proto2.out)" "EXIT 2" "a parent of protocol 2: exit 2"
is "$(cat proto2.err)" \
	"corun --serve: the parent: corun $(sed -n 's/^PACKAGE_VERSION = //p' "$BUILDDIR/Makefile") speaks wire protocol 2, this corun $(sed -n 's/^PACKAGE_VERSION = //p' "$BUILDDIR/Makefile") speaks 1" \
	"... said in one line"

serve kindless <<EOF
hello kinds=sleep,exec,teleport
EOF
is "$(tail -1 kindless.out)$(cat kindless.err)" \
	"EXIT 2corun --serve: this worker: its corun does not know kind teleport" \
	"a HELLO naming a kind we lack: exit 2, one line"

serve badhello <<EOF
greeting
raw 0000002d000000010000000000000000$("$PY" -c 'print("00" * 45)')
EOF
is "$(tail -1 badhello.out)" "EXIT 2" "a HELLO that breaks the protocol: exit 2"
like "$(cat badhello.err)" '^corun --serve: bad HELLO from the parent \(HELLO: ' \
	"... with the decoder's message"

serve login <<EOF
raw 6c6f67696e3a20
EOF
is "$(tail -1 login.out)$(cat login.err)" \
	'EXIT 2corun --serve: bad greeting from the parent (not a corun worker: its output begins "login: ")' \
	"bytes that are no greeting: exit 2"

serve garbage <<EOF
hello
job 1 none 1 loop sleep 30
raw 00000000000000ff0000000000000000
EOF
is "$(frames garbage RESULT | cut -d' ' -f1-3; tail -1 garbage.out)" \
	"RESULT 1 status=cancelled
EXIT 1" "garbage after the HELLO: a protocol error ends the worker, its jobs cancelled"
like "$(head -1 garbage.err)" "^corun --serve: protocol error: frame of unknown type 255$" \
	"... said on stderr"

for opt in "-c true" --json --pipe -k "-t 1s" "--joblog x"; do
	# shellcheck disable=SC2086 # the option and its value
	corun --serve $opt </dev/null >usage.out 2>usage.err
	is "$?:$(cat usage.out)" "2:" "--serve $opt: a usage error (exit 2)"
done
corun --serve x.jobs </dev/null >/dev/null 2>usage.err
is "$?" 2 "--serve with a job file: a usage error"

# --- Backpressure and speed ------------------------------------------------

serve held --max-inflight 10 <<EOF
hello
quiet
jobs 2000 1 none 1 loop sleep 0
wait results 2000
bye
EOF
is "$(tail -3 held.out)" "BYE
COUNT started=2000 results=2000
EXIT 0" "--max-inflight 10: reading pauses and resumes, every job runs"

N=100000
wall speed.wall serve speed <<EOF
hello
quiet
jobs $N 1 none 1 loop sleep 0
wait results $N
bye
EOF
is "$(tail -2 speed.out)" "COUNT started=$N results=$N
EXIT 0" "$N trivial jobs through one worker"
diag "$N sleep 0 jobs through one worker: $(cat speed.wall) s," \
	"$(awk -v n=$N -v s="$(cat speed.wall)" 'BEGIN { printf "%d", n / s }') jobs/s"
lt "$(cat speed.wall)" "$(scaled 30)" "... without stalling"

no_leftovers "no process of the test is left"
done_testing
