#!/bin/sh
# output.sh: how records get to standard output (corun(1), Guarantees).
# corun never changes the flags of standard output, which it may share
# with other processes: a sibling writing to the same pipe sees no EAGAIN,
# and nothing is left set when corun is killed. Records waiting for a slow
# reader are bounded by --output-buffer, and they drain at pipe speed.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

have_time=0
[ "$SANITIZED" = 0 ] && /usr/bin/time -f %M true >/dev/null 2>&1 &&
	have_time=1

# ---------------------------------------------------------------------
# A sibling writes 20 MB to the pipe corun writes its records to, while
# corun runs and the reader is slow: `{ corun jobs & head -c 20M
# /dev/zero; } | cat`. Its writes block as they should, never EAGAIN.
printf 'exec sleep 2\nexec echo a\nexec sleep 2\n' >sib.jobs
{
	corun sib.jobs &
	sleep 0.3
	head -c 20000000 /dev/zero 2>sib.err
	echo $? >sib.rc
	wait
} | {
	sleep 1
	wc -c >sib.count
}
is "$(cat sib.rc)" 0 "a sibling writing to corun's stdout pipe: exit status 0"
is "$(cat sib.err)" "" "a sibling writing to corun's stdout pipe: no EAGAIN"
like "$(cat sib.count)" '^ *200000[0-9][0-9]$' \
	"a sibling writing to corun's stdout pipe: the reader got it all"

# corun killed with SIGKILL leaves standard output's flags as they were.
printf 'exec echo first\nsh '\''echo $$ >k.pid; exec sleep 30'\''\n' >k.jobs
"$PY" - "$CORUN_LINK" <<'EOF' >k.flags 2>k.err
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
before = fcntl.fcntl(w, fcntl.F_GETFL)
p = subprocess.Popen([sys.argv[1], "k.jobs"], stdout=w,
                     stdin=subprocess.DEVNULL)
os.read(r, 1)  # a record came: corun runs and writes
deadline = time.time() + 10
while not os.path.exists("k.pid") and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.2)
p.kill()
p.wait()
print("nonblock" if fcntl.fcntl(w, fcntl.F_GETFL) & os.O_NONBLOCK else
      "blocking", "same" if fcntl.fcntl(w, fcntl.F_GETFL) == before else
      "changed")
EOF
[ -s k.pid ] && kill -9 "$(cat k.pid)" 2>/dev/null
is "$(cat k.flags)" "blocking same" \
	"corun killed with SIGKILL: stdout's flags are as they were"
# Records for a regular file have no reader to wait for: the loop writes
# them itself and no writer thread starts.
printf 'sleep 0\nsleep 30\n' >file.jobs
bg_corun fileout /dev/null fileout.txt fileout.err file.jobs
wait_lines fileout.txt 1 10
is "$(nlines fileout.txt)" 1 "records to a file: the first is written"
# (The sanitizers' runtimes have threads of their own.)
if [ "$SANITIZED" = 0 ]; then
	is "$(ls /proc/"$bg_pid"/task | wc -l | tr -d ' ')" 1 \
		"records to a file: no writer thread"
else
	skip "records to a file: no writer thread" "a sanitizer build"
fi
kill -TERM "$bg_pid"
is "$(bg_wait fileout 10)" 143 "records to a file: SIGTERM ends the run"
is "$(nlines fileout.txt)" 2 "records to a file: every record is written"

no_leftovers "corun killed with SIGKILL: nothing is left"

# ---------------------------------------------------------------------
# 120 jobs of 1 MB of NUL bytes each (6 MB each in JSON), 100 at once,
# behind a reader that does not read for 3 s: past --output-buffer (64 MiB
# by default) output waits in the children's pipes, not in corun, which
# holds the bound, each running child's capture (1 MiB) and the records of
# the jobs that end in the iteration that reaches the bound (the old code
# went past 500 MiB here).
# stalled_run NAME ARG...: run corun on nul.jobs behind a reader stalled
# for 3 s, then counting bytes and lines; NAME.rss gets corun's peak RSS in
# KB when GNU time is there, NAME.count the lines, NAME.rc the status.
stalled_run() {
	sr_name=$1
	shift
	rm -f "$sr_name.fifo" "$sr_name.rss"
	mkfifo "$sr_name.fifo"
	{
		sleep 3
		wc -l >"$sr_name.count"
	} <"$sr_name.fifo" &
	sr_reader=$!
	bg_track $sr_reader
	if [ $have_time = 1 ]; then
		timeout -k 3 120 /usr/bin/time -f %M -o "$sr_name.rss" \
			"$CORUN_LINK" "$@" nul.jobs >"$sr_name.fifo" \
			2>"$sr_name.err" </dev/null
	else
		corun_within 120 "$@" nul.jobs >"$sr_name.fifo" \
			2>"$sr_name.err" </dev/null
	fi
	echo $? >"$sr_name.rc"
	wait $sr_reader
	diag "$sr_name: peak RSS $(tail -n 1 "$sr_name.rss" 2>/dev/null) KB"
}
"$PY" -c 'print("sh \x27head -c 1000000 /dev/zero\x27\n" * 120, end="")' \
	>nul.jobs
stalled_run def --json -j100
is "$(cat def.rc) $(tr -d ' ' <def.count)" "0 120" \
	"120 records of 6 MB behind a stalled reader: exit 0, every record"
if [ $have_time = 1 ]; then
	lt "$(tail -n 1 def.rss)" 327680 \
		"120 records of 6 MB behind a stalled reader: corun stays under 320 MiB"
else
	skip "120 records of 6 MB behind a stalled reader: corun stays under 320 MiB" \
		"no GNU /usr/bin/time, or a sanitizer build"
fi
head -n 60 nul.jobs >nul60.jobs
mv nul60.jobs nul.jobs
stalled_run small --json -j4 --output-buffer 8M
is "$(cat small.rc) $(tr -d ' ' <small.count)" "0 60" \
	"--output-buffer 8M behind a stalled reader: exit 0, every record"
if [ $have_time = 1 ]; then
	lt "$(tail -n 1 small.rss)" 40960 \
		"--output-buffer 8M behind a stalled reader: corun stays under 40 MiB"
else
	skip "--output-buffer 8M behind a stalled reader: corun stays under 40 MiB" \
		"no GNU /usr/bin/time, or a sanitizer build"
fi

# Buffered records drain at pipe speed: 50 records of 6 MB, all finished
# at once with -j100, go out in seconds and are not all kept at once
# (a minute means something is quadratic: only a hang detector, no speed
# is asserted).
"$PY" -c 'print("sh \x27head -c 1000000 /dev/zero\x27\n" * 50, end="")' \
	>drain.jobs
if [ $have_time = 1 ]; then
	timeout -k 3 60 /usr/bin/time -f %M -o drain.rss "$CORUN_LINK" \
		--json -j100 drain.jobs 2>drain.err </dev/null | wc -l >drain.count
else
	corun_within 60 --json -j100 drain.jobs 2>drain.err </dev/null |
		wc -l >drain.count
fi
is "$(tr -d ' ' <drain.count)" 50 \
	"50 records of 6 MB with -j100 into a pipe: every record, no hang"
if [ $have_time = 1 ]; then
	diag "drain: peak RSS $(tail -n 1 drain.rss) KB"
	lt "$(tail -n 1 drain.rss)" 204800 \
		"50 records of 6 MB with -j100 into a pipe: corun stays under 200 MiB"
else
	skip "50 records of 6 MB with -j100 into a pipe: corun stays under 200 MiB" \
		"no GNU /usr/bin/time, or a sanitizer build"
fi

# --output-buffer's values.
for v in 0 -1 1X 2048G abc ''; do
	corun --output-buffer "$v" nul.jobs >bad.out 2>bad.err </dev/null
	rc=$?
	got=$([ "$rc" = 2 ] && [ ! -s bad.out ] && grep -q "bad size" bad.err &&
		echo yes)
	is "$got" yes "--output-buffer '$v': a usage error (exit 2), nothing runs"
done
printf 'exec echo a\n' >one.jobs
out=$(corun --output-buffer 1 one.jobs </dev/null)
like "$out" '^ok 1 [0-9.]+s exec: a$' \
	"--output-buffer 1: a record bigger than the bound still goes out"

done_testing
