#!/bin/sh
# faults.sh: fault injection, part 1 (issue 5). Signals (one, a burst, to
# the process group), kill -9 of corun with --joblog then --resume, the
# reader of standard output going away or stalling, output errors and
# closed standard fds, job lines of 10 MB, NUL bytes and invalid UTF-8 in
# input and output, job files that are pipes. Every job read gets exactly
# one record, nothing outlives corun, nothing crashes. Outcomes never
# depend on timing: conditions are polled for with a deadline.

# Conditions are functions that only `within` calls (SC2317).
# shellcheck disable=SC2317
# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# shellcheck source=tests/data/faults-lib.sh
. "$SRCDIR/tests/data/faults-lib.sh"

# ---------------------------------------------------------------------
# Signals. Jobs on every executor, two children running (one ignores
# SIGTERM), one queued behind -j2, and 40 quick jobs already done.
{
	cat <<EOF
id=x exec $SL 30
id=t sh 'trap "" TERM; $SL 30; :'
id=s spin 30s
id=b block 30
id=l sleep 30
id=q exec $SL 30
EOF
	i=0
	while [ $i -lt 40 ]; do
		echo "id=z$i sleep 0"
		i=$((i + 1))
	done
} >sig.jobs

# True when the run NAME is where the signals go: the quick jobs are out
# and both children run, t's grandchild too (so t ignores SIGTERM by now:
# the `:` after it keeps sh from exec'ing it).
sig_ready() {
	has_lines "$1.json" 40 && [ "$(procs_with "$SL 30" | wc -l)" -ge 3 ]
}

# The checks common to the signal runs of NAME, exit status RC.
sig_checks() {
	is "$(jpy "$1.json" '[len(R), sorted(r["seq"] for r in R)
		== list(range(1, 47))]')" '[46, true]' \
		"$2: one record for each of the 46 jobs"
	is "$(jpy "$1.json" '" ".join("%s=%s" % (r["id"], r["status"])
		for r in sorted(R, key=lambda r: r["seq"])
		if not r["id"].startswith("z"))')" \
		"x=cancelled t=cancelled s=cancelled b=cancelled l=cancelled q=cancelled" \
		"$2: every running or queued job ends cancelled"
	is "$("$PY" "$JQ" schema "$1.json")" "" "$2: every record is well-formed"
	no_leftovers "$2: no corun, worker or child is left"
}

bg_corun sig1 /dev/null sig1.json sig1.err --json -j2 -P2 --grace 0.3 \
	sig.jobs
check "one SIGTERM: the jobs are running" within 10 sig_ready sig1
kill -TERM "$bg_pid"
is "$(bg_rc sig1 10)" 143 "one SIGTERM: exit status 143"
sig_checks sig1 "one SIGTERM"
jrec sig1.json x signal=15 exit=null "one SIGTERM: the child got SIGTERM"
jrec sig1.json t signal=9 \
	"one SIGTERM: SIGKILL after --grace for the child ignoring it"
jrec sig1.json q attempts=0 elapsed=0.0 \
	"one SIGTERM: the queued job never started"
is "$(cat sig1.err)" "" "one SIGTERM: nothing on stderr"

# A second signal does not wait for --grace (20 s here): a SIGINT, then,
# once corun is stopping, a burst of SIGTERM and SIGINT.
bg_corun sig2 /dev/null sig2.json sig2.err --json -j2 -P2 --grace 20 \
	sig.jobs
check "a burst: the jobs are running" within 10 sig_ready sig2
start=$(now)
kill -INT "$bg_pid"
check "a burst: the first SIGINT stops the quick part" \
	within_abs "$(bound 5 25)" \
	grep -q '"id":"l"' sig2.json
for s in TERM INT TERM INT TERM; do
	kill -"$s" "$bg_pid" 2>/dev/null
done
is "$(bg_rc sig2 10)" 130 \
	"a burst after SIGINT: exit status 130 (the first signal)"
lt "$(since "$start")" "$(bound 5 15)" \
	"a burst: corun exits at once, not after --grace 20s"
sig_checks sig2 "a burst"

# Ctrl-C at a terminal signals the whole foreground process group: five
# SIGINTs to the group of corun (the leader of a session of its own). The
# fork server, workers and children are in other groups, so only corun
# gets them.
if command -v setsid >/dev/null 2>&1; then
	bg_pre sig3 /dev/null sig3.json sig3.err : setsid --json -j2 -P2 \
		--grace 0.3 sig.jobs
	check "Ctrl-C: the jobs are running" within 10 sig_ready sig3
	pg=$(ps -o pgid= -p "$bg_pid" | tr -d ' ')
	is "$(ps -eo pid=,pgid= | awk -v g="$pg" '$2 == g { print $1 }')" \
		"$bg_pid" "Ctrl-C: corun is alone in its process group"
	for _ in 1 2 3 4 5; do
		kill -INT "-$pg" 2>/dev/null
	done
	is "$(bg_rc sig3 10)" 130 "Ctrl-C (5 x SIGINT to the group): exit status 130"
	sig_checks sig3 "Ctrl-C"
else
	for _ in 1 2 3 4 5 6; do
		skip "Ctrl-C to the process group" "no setsid(1)"
	done
fi

# ---------------------------------------------------------------------
# kill -9 of corun while --joblog is on, then --resume: no job logged ok
# runs again. The sh jobs leave a trace of each run in runs.
"$PY" -c '
for i in range(1500):
    if i % 3 == 0:
        print("id=j%d sh \x27echo j%d >>runs\x27" % (i, i))
    elif i % 3 == 1:
        print("id=j%d primes %d" % (i, 1000 + i))
    else:
        print("id=j%d exec true" % i)' >rs.jobs
bg_corun rs1 /dev/null rs1.json rs1.err --json -j3 -P2 --joblog rs.log \
	rs.jobs
check "kill -9: 300 jobs are logged" within 15 has_lines rs.log 301
kill -9 "$bg_pid"
is "$(bg_rc rs1 10)" 137 "kill -9 of corun: it dies at once"
gone "$T/corun-itest" "kill -9 of corun: its fork server and workers exit"
cp rs.log rs1.log
# Children still running then end on their own (they are not stopped: a
# SIGKILL leaves corun no chance); wait for the last sh job to end.
no_sh_job() {
	[ -z "$(procs_with '>>runs')" ]
}
check "kill -9: the sh jobs left running end" within 5 no_sh_job
is "$(awk -F '\t' 'NR > 1 && (NF != 14 || $6 != "ok")' rs1.log |
	head -n 3)" "" "kill -9: every logged line is whole and ok"
nok=$(awk -F '\t' 'NR > 1 && $6 == "ok"' rs1.log | wc -l | tr -d ' ')
diag "kill -9 after $nok of 1500 jobs logged ok"
cp runs runs1 2>/dev/null || : >runs1

corun --json -j3 -P2 --joblog rs.log --resume rs.jobs >rs2.json 2>rs2.err \
	</dev/null
is "$?" 0 "--resume after kill -9: exit status 0"
is "$(jpy rs2.json '[len(R), len({r["id"] for r in R}),
	sum(r["status"] == "ok" for r in R)]')" '[1500, 1500, 1500]' \
	"--resume: one ok record for each of the 1500 jobs"
awk -F '\t' 'NR > 1 && $6 == "ok" { print $1 }' rs1.log | sort >ok1.ids
"$PY" "$JQ" py rs2.json '"\n".join(sorted(r["id"] for r in R
	if r.get("resumed")))' >resumed.ids
check "--resume: exactly the jobs logged ok are resumed" \
	cmp ok1.ids resumed.ids
is "$(jpy rs2.json '[r["id"] for r in R
	if r.get("resumed") and r["attempts"] != 0][:3]')" '[]' \
	"--resume: resumed records have attempts 0"
is "$(sort runs | uniq -c | awk '$1 > 1 { print $2 }' | sort |
	comm -12 - ok1.ids | head -n 3)" "" \
	"--resume: no sh job logged ok ran again"
is "$(sort -u runs | wc -l | tr -d ' ')" 500 "--resume: every sh job ran"
diag "$(sort runs | uniq -d | wc -l | tr -d ' ') sh job(s) ran twice" \
	"(running at the kill, so not logged)"
is "$(awk -F '\t' 'NR > 1 && $6 == "ok" { print $1 }' rs.log | sort |
	uniq -c | awk '$1 != 1' | head -n 3)" "" \
	"--resume: the log has one ok line per job, never two"
is "$(awk -F '\t' 'NR > 1 && $6 == "ok"' rs.log | wc -l | tr -d ' ')" 1500 \
	"--resume: the log has an ok line for every job"
cp runs runs2
corun --json --joblog rs.log --resume rs.jobs >rs3.json 2>&1 </dev/null
is "$?:$(jpy rs3.json 'sum(bool(r.get("resumed")) for r in R)')" 0:1500 \
	"a second --resume runs nothing"
check "a second --resume: no sh job ran" cmp runs runs2

# A crash can cut the log's last line short (the disk filled, the power
# went): that job runs again, and the next lines must not be glued to the
# cut one, or their jobs run again on every later --resume.
printf 'id=a exec true\nid=b exec true\nid=c exec true\n' >cut.jobs
corun --joblog cut.log cut.jobs >/dev/null 2>&1 </dev/null
awk -F '\t' 'NR == 1 || $1 == "a" || $1 == "b"' cut.log >cut2.log
printf 'c\t3\tcut.jobs:3\texec\tloop\tok' >>cut2.log
mv cut2.log cut.log
corun --json --joblog cut.log --resume cut.jobs >cut1.json 2>&1 </dev/null
is "$(jpy cut1.json '" ".join("%s:%s" % (r["id"], bool(r.get("resumed")))
	for r in sorted(R, key=lambda r: r["seq"]))')" "a:True b:True c:False" \
	"a log line cut short: that job runs again"
corun --json --joblog cut.log --resume cut.jobs >cut2.json 2>&1 </dev/null
is "$(jpy cut2.json 'sum(bool(r.get("resumed")) for r in R)')" 3 \
	"after a cut log line, the next --resume runs nothing"

# ---------------------------------------------------------------------
# The reader of standard output goes away: `corun | head -n 1`. Records
# keep coming (8000 quick jobs, far more than a pipe holds) while four
# long jobs run on every executor.
{
	echo "exec $SL 30"
	echo "spin 30s"
	echo "block 30"
	echo "sleep 30"
	"$PY" -c 'print("sleep 0\nprimes 10\nexec true\nblock 0\n" * 2000, end="")'
} >ep.jobs
mkfifo ep.fifo
head -n 1 <ep.fifo >ep.first &
bg_track $!
start=$(now)
bg_corun ep /dev/null ep.fifo ep.err -P2 ep.jobs
rc=$(bg_rc ep 10)
lt "$(since "$start")" "$(bound 5 25)" "corun | head -n 1: corun ends at once"
is "$rc" 1 "corun | head -n 1: exit status 1 (jobs were cancelled)"
like "$(cat ep.first)" '^ok [0-9]+ ' "corun | head -n 1: head got a record"
is "$(cat ep.err)" "" "corun | head -n 1: nothing on stderr"
no_leftovers "corun | head -n 1: no worker or child is left"

# The reader goes away while no record is due: only long jobs run on.
printf 'id=first sleep 0\nexec %s 20\nspin 20s\n' "$SL" >ep2.jobs
mkfifo ep2.fifo
head -n 1 <ep2.fifo >ep2.first &
bg_track $!
bg_corun ep2 /dev/null ep2.fifo ep2.err -P2 --grace 0.2 ep2.jobs
check "reader gone early: head got the first record" within 5 \
	test -s ep2.first
check "reader gone early: corun ends without waiting for a record" \
	within_abs "$(bound 2 15)" dead "$bg_pid"
kill -TERM "$bg_pid" 2>/dev/null
bg_rc ep2 10 >/dev/null
no_leftovers "reader gone early: no worker or child is left"

# A reader that stops reading: the pipe is full and records wait in corun
# (which writes standard output without blocking). Every record is 100 kB
# of text (a line and 11,112 "  | " lines), more than a pipe holds, so one
# is always partly written. Two signals kill every job at once, but corun
# still writes every record; a third makes it exit at a record boundary:
# it finishes the record it was writing (the reader must take it) and
# drops the others.
# The jobs ignore SIGTERM: only the second signal's SIGKILL stops them.
ln -s "$(command -v sleep)" "$T/stsleep"
ST="$T/stsleep" "$PY" -c 'import os
print("sh \x27trap \"\" TERM; yes abcdefgh | head -c 100000; : >ran.$$; %s 30; :\x27\n"
      % os.environ["ST"] * 50, end="")' >st.jobs

# True when no job's sleep is left.
st_killed() {
	[ -z "$(procs_with "$T/stsleep")" ]
}

# Check the text records of FILE: N whole ones, every one of them whole
# (a status line, then 11,112 output lines), and nothing after the last.
st_whole() {
	awk -v want="$2" '
		/^  \| / { n++; next }
		{ if (recs && n != 11112) bad++; recs++; n = 0 }
		END {
			if (recs && n != 11112) bad++
			ok = want == "" || recs == want
			printf "%s %d bad\n", ok ? "ok" : "got " recs, bad
		}' "$1"
}

# Start corun NAME on st.jobs with a stalled reader of its output (which
# copies to NAME.out once NAME.go exists); true once every job has run.
st_start() {
	rm -f ran.*
	mkfifo "$1.fifo"
	sh -c 'while [ ! -e "$1.go" ]; do sleep 0.05; done; exec cat >"$1.out"' \
		sh "$1" <"$1.fifo" &
	bg_track $!
	bg_corun "$1" /dev/null "$1.fifo" "$1.err" -j50 --grace 30 \
		--joblog "$1.log" st.jobs
	# shellcheck disable=SC2016
	within 20 sh -c '[ "$(ls ran.* 2>/dev/null | wc -l)" -ge 50 ]'
}

st_start st2
ok $? "stalled reader: every job has printed its output"
kill -TERM "$bg_pid"
kill -INT "$bg_pid"
check "stalled reader, two signals: the jobs are killed at once (--grace 30)" \
	within 5 st_killed
check "stalled reader, two signals: corun waits for the reader" \
	test ! -e st2.rc
: >st2.go
st_rc=$(bg_rc st2 20)
# Sent back to back, both signals are pending at once and the kernel
# delivers the lower-numbered first: either exit status is right.
check "stalled reader, two signals: exit status of the first (130 or 143, got $st_rc)" \
	test "$st_rc" = 143 -o "$st_rc" = 130
within 5 test -s st2.out
is "$(st_whole st2.out 50)" "ok 0 bad" \
	"stalled reader, two signals: every record is written, whole"
is "$(tail -n +2 st2.log | awk -F '\t' '$6 == "cancelled" && $11 == 9' |
	wc -l | tr -d ' ')" 50 \
	"stalled reader, two signals: the job log has every job, killed by SIGKILL"
no_leftovers "stalled reader, two signals: no worker or child is left"

st_start st3
ok $? "stalled reader, three signals: every job has printed its output"
kill -TERM "$bg_pid"
kill -INT "$bg_pid"
# The jobs end (the job log has them): their records wait, the first
# partly written.
check "stalled reader, three signals: the jobs end after two" \
	within 10 has_lines st3.log 51
kill -TERM "$bg_pid"
check "stalled reader, three signals: corun waits to finish the record it was writing" \
	test ! -e st3.rc
: >st3.go
st_rc=$(bg_rc st3 20)
check "stalled reader, three signals: exit status of the first (got $st_rc)" \
	test "$st_rc" = 143 -o "$st_rc" = 130
within 5 test -s st3.out
is "$(st_whole st3.out 1)" "ok 0 bad" \
	"stalled reader, three signals: the record being written, whole, and no other"
no_leftovers "stalled reader, three signals: no worker or child is left"

# Output errors other than EPIPE are reported, and fail the run.
printf 'id=a exec echo a\nid=b primes 10\n' >out.jobs
corun --json out.jobs >/dev/full 2>full.err </dev/null
rc=$?
got=$([ "$rc" -ne 0 ] && grep -q "No space left on device" full.err &&
	echo yes)
is "$got" yes "stdout on a full disk: an error message, exit status not 0"
corun --json out.jobs >&- 2>closed.err </dev/null
rc=$?
got=$([ "$rc" -ne 0 ] && [ -s closed.err ] && echo yes)
is "$got" yes "stdout closed: an error message, exit status not 0"
# With fd 0 closed, no job to read: corun must not take one of its own fds
# (the fork-server socket) for standard input and wait on it for good.
timeout -k 1 "$(scaled 2)" "$CORUN_LINK" --json >closed0.json 2>closed0.err <&-
rc=$?
check "stdin closed: corun ends at once (exit 0 or 2, got $rc)" \
	test "$rc" = 0 -o "$rc" = 2
no_leftovers "output errors: nothing is left"

# ---------------------------------------------------------------------
# Hostile input: lines of 10 MB, a logical line of 2.4 MB made of
# continued lines, a NUL byte, invalid UTF-8 and an escape sequence as the
# kind, an over-long last line without newline.
"$PY" -c '
import sys
w = sys.stdout.buffer.write
w(b"id=a exec touch ran.a\n")
w(b"exec echo " + b"x" * 10000000 + b"\n")
w(b"id=b exec echo b\n")
w(b"exec echo \\\n" * 200000)
w(b"echo end\n")
w(b"id=c exec echo c\n")
w(b"id=n exec echo a\0b\n")
w(b"\xff\xfe x\n")
w(b"\x1b[31mred x\n")
w(b"id=d exec echo d\n")
w(b"id=y exec printf " + b"y" * 10000000)' >long.jobs
if /usr/bin/time -f %M true >/dev/null 2>&1; then
	timeout -k 3 "$CORUN_LIMIT" /usr/bin/time -f %M -o long.rss \
		"$CORUN_LINK" --json <long.jobs >long.json 2>long.err
	rc=$?
else
	corun --json <long.jobs >long.json 2>long.err
	rc=$?
fi
is "$rc" 1 "hostile lines on stdin: exit status 1"
is "$("$PY" "$SD/faults-bytes.py" json long.json)" "" \
	"hostile lines on stdin: every record is valid UTF-8 JSON"
is "$(jpy long.json '" ".join("%s/%s/%s" % (r["id"], r["status"],
	r["source"]) for r in sorted(R, key=lambda r: r["seq"]))')" \
	"a/ok/-:1 2/error/-:2 b/ok/-:3 4/error/-:4 c/ok/-:200005 6/error/-:200006 7/error/-:200007 8/error/-:200008 d/ok/-:200009 10/error/-:200010" \
	"hostile lines on stdin: one record each, the good jobs run"
for id in 2 4 10; do
	jrec long.json $id error='"line too long"' executor=null \
		"stdin: line $id is too long"
done
jrec long.json 6 error='"NUL byte in line"' "stdin: a NUL byte in a line"
jrec long.json 7 kind='"\ufffd\ufffd"' \
	error="\"unknown kind '\\ufffd\\ufffd'\"" \
	"stdin: an invalid UTF-8 kind becomes U+FFFD in JSON"
jrec long.json 8 kind='"\u001b[31mred"' \
	error="\"unknown kind '\\u001b[31mred'\"" \
	"stdin: an escape character in the kind is escaped in JSON"
if [ -e long.rss ]; then
	lt "$(tail -n 1 long.rss)" 65536 "lines of 10 MB: corun stays under 64 MiB"
else
	skip "lines of 10 MB: corun stays under 64 MiB" "no GNU /usr/bin/time"
fi
corun <long.jobs >long.txt 2>&1
is "$("$PY" "$SD/faults-bytes.py" text long.txt)" "" \
	"hostile lines, text records: UTF-8 without control characters"
rm -f ran.a
corun long.jobs >longf.out 2>longf.err </dev/null
is "$?" 2 "hostile lines in a job file: exit status 2"
is "$(sed 's/^long\.jobs:\([0-9]*\): \([a-zA-Z ]*\).*/\1 \2/' longf.err)" \
	"2 line too long
4 line too long
200006 NUL byte in line
200007 unknown kind 
200008 unknown kind 
200010 line too long" \
	"hostile lines in a job file: FILE:LINE: message for each"
check "hostile lines in a job file: nothing runs" test ! -e ran.a

# 500 lines of random bytes (quotes, escapes, controls, invalid UTF-8,
# NUL) after id=gI and an unknown kind: 500 error records, no crash.
"$PY" "$SD/faults-bytes.py" lines 5 500 >junk.jobs
corun --json <junk.jobs >junk.json 2>junk.err
is "$?" 1 "500 junk lines: exit status 1"
is "$("$PY" "$SD/faults-bytes.py" json junk.json)" "" \
	"500 junk lines: every record is valid UTF-8 JSON"
is "$(jpy junk.json '[len(R), sorted(r["seq"] for r in R)
	== list(range(1, 501)), all(r["status"] == "error" for r in R)]')" \
	'[500, true, true]' "500 junk lines: 500 error records"
corun <junk.jobs >junk.txt 2>&1
is "$("$PY" "$SD/faults-bytes.py" text junk.txt)" "" \
	"500 junk lines, text records: UTF-8 without control characters"
corun junk.jobs >junkf.out 2>junkf.err </dev/null
is "$?:$(nlines junkf.err)" 2:500 \
	"500 junk lines in a file: 500 messages, exit 2"

# A job file that is not a regular file is read once only: a FIFO or a
# pipe (corun <(gen), corun /dev/stdin). Bounded: open(2) of the FIFO may
# block for good.
mkfifo jobs.fifo
(printf 'id=f exec echo fifo\n' >jobs.fifo) &
bg_track $!
timeout -k 1 "$(scaled 1)" "$CORUN_LINK" --json jobs.fifo >fifo.json 2>fifo.err \
	</dev/null
rc=$?
is "$rc:$(jget fifo.json f status 2>/dev/null)" '0:"ok"' \
	"a FIFO as job file: its job runs"
printf 'id=p exec echo pipe\n' | corun --json /dev/stdin >pipe.json \
	2>pipe.err
rc=$?
is "$rc:$(jget pipe.json p status 2>/dev/null)" '0:"ok"' \
	"/dev/stdin (a pipe) as job file: its job runs"

# ---------------------------------------------------------------------
# Hostile output: random bytes (invalid UTF-8 of every sort, NUL, C0 and
# C1 controls, escape sequences) on stdout and stderr, cut at the 1 MiB
# cap and to the last 64 KiB of stderr; a 10 MB line; NUL bytes.
cat >by.jobs <<EOF
id=o exec $PY $SD/faults-bytes.py gen 1 300000
id=big exec $PY $SD/faults-bytes.py gen 2 1300000
id=e sh '"$PY" "$SD/faults-bytes.py" gen 3 300000 >&2'
id=line sh 'head -c 10000000 /dev/zero | tr "\\0" x'
id=nul exec head -c 1000 /dev/zero
EOF
corun --json by.jobs >by.json 2>by.err </dev/null
is "$?" 0 "hostile output: exit status 0"
is "$("$PY" "$SD/faults-bytes.py" json by.json)" "" \
	"hostile output: every record is valid UTF-8 JSON"
is "$("$PY" "$SD/faults-bytes.py" value by.json o value 1 300000 0)" same \
	"hostile stdout: the value is the bytes with U+FFFD for invalid UTF-8"
is "$("$PY" "$SD/faults-bytes.py" value by.json big value 2 1300000 1048576)" \
	same "hostile stdout over the cap: its first MiB, decoded"
jrec by.json big truncated=true "hostile stdout over the cap: truncated"
is "$("$PY" "$SD/faults-bytes.py" value by.json e stderr 3 300000 -65536)" \
	same "hostile stderr: its last 64 KiB, decoded"
is "$(jpy by.json '[by["line"]["value"] == "x" * 1048576,
	by["line"]["truncated"], by["nul"]["value"] == "\0" * 1000]')" \
	'[true, true, true]' "a 10 MB line and NUL bytes in the value"
corun by.jobs >by.txt 2>&1 </dev/null
is "$?" 0 "hostile output, text records: exit status 0"
is "$("$PY" "$SD/faults-bytes.py" text by.txt)" "" \
	"hostile output, text records: UTF-8 without control characters"

# ---------------------------------------------------------------------
# Output that cannot be written (a full disk: /dev/full) is reported on
# stderr and the exit status is 1: records, the -n plan, the job log.
printf 'id=a exec true\nid=b exec true\n' >full.jobs
corun full.jobs >/dev/full 2>full1.err </dev/null
is "$?" 1 "records to a full disk: exit status 1"
check "records to a full disk: reported" \
	grep -q '^corun: writing records: No space left on device$' full1.err
corun -n full.jobs >/dev/full 2>full2.err </dev/null
is "$?" 1 "-n to a full disk: exit status 1"
check "-n to a full disk: reported" \
	grep -q '^corun: writing the plan: No space left on device$' full2.err
corun --joblog /dev/full full.jobs >full3.out 2>full3.err </dev/null
is "$?" 1 "--joblog on a full disk: exit status 1"
check "--joblog on a full disk: reported" \
	grep -q '^corun: job log: No space left on device$' full3.err
is "$(nlines full3.out)" 2 "--joblog on a full disk: the jobs still run"

# --resume matches a logged job by its id and its job line: a job of
# another file with the same id runs. A log of the old format (no job
# column) still resumes by id.
printf 'id=a exec true\nid=b sh "echo b1 >>ran"\n' >r1.jobs
printf 'id=a exec true\nid=b sh "echo b2 >>ran"\n' >r2.jobs
corun --joblog rid.log r1.jobs >/dev/null 2>&1 </dev/null
is "$(awk -F '\t' '$1 == "a" { print NF ":" $12 }' rid.log)" "14:exec true" \
	"the job log's 12th field is the job line (queued follows)"
corun --json --joblog rid.log --resume r2.jobs >rid.json 2>&1 </dev/null
is "$?" 0 "--resume with another file: exit status 0"
is "$(jpy rid.json '" ".join("%s:%s" % (r["id"], bool(r.get("resumed")))
	for r in sorted(R, key=lambda r: r["seq"]))')" "a:True b:False" \
	"--resume: the same id with another job line runs"
is "$(cat ran)" "b1
b2" "--resume: the job of the other file ran once"
corun --json --joblog rid.log --resume r2.jobs >rid2.json 2>&1 </dev/null
is "$(jpy rid2.json 'sum(bool(r.get("resumed")) for r in R)')" 2 \
	"--resume: once logged, the other file's jobs are resumed too"
printf 'id\tseq\tsource\tkind\texecutor\tstatus\tattempts\tstart\telapsed\texit\tsignal\n' >old.log
printf 'a\t1\tx:1\texec\tloop\tok\t1\t1.000\t0.001\t0\t-\n' >>old.log
printf 'b\t2\tx:2\tsh\tloop\tfailed\t1\t1.000\t0.001\t1\t-\n' >>old.log
corun --json --joblog old.log --resume r2.jobs >old.json 2>&1 </dev/null
is "$(jpy old.json '" ".join("%s:%s" % (r["id"], bool(r.get("resumed")))
	for r in sorted(R, key=lambda r: r["seq"]))')" "a:True b:False" \
	"--resume with a log of the old format: matched by id"

no_leftovers "no corun process or child is left"
done_testing
