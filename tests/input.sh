#!/bin/sh
# input.sh: the job language and the inputs: streaming standard input,
# comments, continuations, quoting, bad lines in files and on standard input,
# sequence numbers and ids across several inputs.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# Standard input is a stream: the first job's record comes out while the
# producer still holds its input open. The producer waits (up to 10 s) for
# the reader to have seen that record before it writes the second job.
{
	echo 'id=a sleep 0'
	if wait_for seen1 10; then echo early >producer.txt; fi
	echo 'id=b sleep 0'
} | corun --json 2>stream.err | {
	IFS= read -r first
	: >seen1
	printf '%s\n' "$first"
	cat
} >stream.json
is "$(cat producer.txt 2>/dev/null)" early \
	"a record is written while standard input is still open"
is "$(jpy stream.json '[r["id"] for r in R]')" '["a", "b"]' \
	"both streamed jobs have a record, the first one first"

# Blank lines and comments; a # inside a token or quotes is not a comment.
cat >comments.jobs <<'EOF'

# a comment
   	# an indented comment
id=c1 exec echo a # a trailing comment
id=c2 exec echo '#quoted' b#c "#dq"

EOF
corun --json comments.jobs >comments.json 2>comments.err </dev/null
is "$?" 0 "comments: exit status 0"
is "$(nlines comments.json)" 2 "blank and comment lines are not jobs"
jrec comments.json c1 value='"a\n"' seq=1 source='"comments.jobs:4"' \
	"a trailing comment is dropped; seq counts jobs, source counts lines"
jrec comments.json c2 value='"#quoted b#c #dq\n"' seq=2 \
	source='"comments.jobs:5"' "a comment sign inside a token or quotes is kept"

# Continuation lines: joined with one space; the source is the first line.
cat >cont.jobs <<'EOF'
id=k exec printf '%s,' \
    one \
  two
id=k2 exec echo after
EOF
corun --json cont.jobs >cont.json 2>cont.err </dev/null
jrec cont.json k value='"one,two,"' source='"cont.jobs:1"' \
	"a continued job is joined and its source is its first line"
jrec cont.json k2 value='"after\n"' source='"cont.jobs:4"' \
	"the job after a continued one has its own line number"
printf 'id=k3 exec echo x \\\n y\nid=k4 exec echo z\n' |
	corun --json >cont2.json 2>&1
jrec cont2.json k3 value='"x y\n"' source='"-:1"' \
	"a continued job on standard input"
jrec cont2.json k4 source='"-:3"' "standard input lines are counted too"

# Quoting reaches exec's argv exactly; nothing is expanded by a shell.
cat >quote.jobs <<'EOF'
id=q1 exec printf '%s|' 'a b' "c\"d" e\ f
id=q2 exec printf '%s|' "t\tn\nb\\s" 'x\ny' '' "" 'it'\''s' a'b'"c"
id=q3 exec printf '%s|' $HOME * ~ `x` $(y) ;
EOF
corun --json quote.jobs >quote.json 2>quote.err </dev/null
jrec quote.json q1 value='"a b|c\"d|e f|"' \
	"single quotes, double quotes and a backslash keep blanks and quotes"
jrec quote.json q2 value='"t\tn\nb\\s|x\\ny|||it'"'"'s|abc|"' \
	"escapes in double quotes, none in single quotes, empty and joined tokens"
# shellcheck disable=SC2016
jrec quote.json q3 value='"$HOME|*|~|`x`|$(y)|;|"' \
	"no shell expansion outside sh"

# A bad line in a file: every bad line is reported as FILE:LINE: message,
# nothing runs, exit status 2.
cat >bad.jobs <<'EOF'
id=t sh 'touch ran'
frob x
sleep
id=ok2 sleep 0.1
sleep x
exec 'unterminated
foo=1 sleep 1
EOF
corun --json bad.jobs >bad.out 2>bad.err </dev/null
is "$?" 2 "a bad job file: exit status 2"
check "a bad job file: no job runs" test ! -e ran
is "$(cat bad.out)" "" "a bad job file: no record"
check "bad.jobs:2: unknown kind 'frob'" \
	grep -qxF "bad.jobs:2: unknown kind 'frob'" bad.err
check "bad.jobs:3: sleep: expected 1 argument" \
	grep -qxF "bad.jobs:3: sleep: expected 1 argument" bad.err
check "bad.jobs:5: ...bad duration 'x'" \
	grep -qE "^bad\\.jobs:5: .*bad duration 'x'" bad.err
check "bad.jobs:6: unterminated quote" \
	grep -qxF "bad.jobs:6: unterminated quote" bad.err
check "bad.jobs:7: unknown option 'foo'" \
	grep -qxF "bad.jobs:7: unknown option 'foo'" bad.err
is "$(grep -c '^bad\.jobs:' bad.err)" 5 "each bad line is reported once"

# A bad second file stops the good first one from running.
echo "sh 'touch ran2'" >good.jobs
corun good.jobs bad.jobs >bad2.out 2>bad2.err </dev/null
is "$?" 2 "a good file then a bad one: exit status 2"
check "a good file then a bad one: nothing runs" test ! -e ran2
printf 'id=x sleep 0\nid=x sleep 0\n' >dup.jobs
corun dup.jobs >/dev/null 2>dup.err </dev/null
is "$?" 2 "duplicate ids in a file: exit status 2"
check "duplicate ids in a file: reported at the second" \
	grep -q '^dup\.jobs:2: ' dup.err
printf 'id=12 sleep 0\n' >digit.jobs
corun digit.jobs >/dev/null 2>digit.err </dev/null
is "$?" 2 "an all-digit id in a file: exit status 2"
check "an all-digit id in a file: reported" grep -q '^digit\.jobs:1: ' digit.err

# Control characters of a job line or a file name reach stderr escaped as
# \xHH: the check pass, -n on standard input, a file that cannot be opened.
printf 'fr\033]0;x\007ob x\nid=\033[2J sleep 0\n' >ctl.jobs
corun ctl.jobs >/dev/null 2>ctl.err </dev/null
is "$?" 2 "control characters in a bad file: exit status 2"
is "$(cat ctl.err)" "ctl.jobs:1: unknown kind 'fr\\x1b]0;x\\x07ob'
ctl.jobs:2: bad id '\\x1b[2J'" \
	"control characters in a bad file: escaped in FILE:LINE messages"
printf 'fr\033ob\n' | corun -n >/dev/null 2>ctln.err
is "$(cat ctln.err)" "-:1: unknown kind 'fr\\x1bob'" \
	"-n on standard input: a bad line's control characters escaped"
corun "$(printf 'no\033[31msuch')" >/dev/null 2>ctlf.err </dev/null
is "$(cat ctlf.err)" \
	"corun: no\\x1b[31msuch: No such file or directory" \
	"a missing file's name: its control characters escaped"
check "no raw control byte reaches stderr" \
	sh -c '! cat ctl.err ctln.err ctlf.err | LC_ALL=C grep -q "[[:cntrl:]]"'

# A bad line on standard input: an error record, the other jobs still run,
# exit status 1.
{
	echo 'id=g1 exec echo one'
	echo 'frob x'
	echo 'id=bad2 sleep'
	echo 'timeout=1'
	echo 'id=12 sleep 0'
	echo 'id=g1 sleep 0'
	printf 'sleep 0\000x\n'
	"$PY" -c 'print("exec echo " + "a" * (1 << 20))'
	echo 'id=g2 sleep 0'
} >badin.jobs
corun --json <badin.jobs >badin.json 2>badin.err
is "$?" 1 "bad lines on standard input: exit status 1"
is "$(nlines badin.json)" 9 "bad lines on standard input: one record each"
jrec badin.json g1 status='"ok"' value='"one\n"' "the job before them runs"
jrec badin.json g2 status='"ok"' seq=9 source='"-:9"' \
	"the job after them runs"
jrec badin.json 2 status='"error"' executor=null kind='"frob"' value=null \
	error="\"unknown kind 'frob'\"" source='"-:2"' seq=2 \
	"an unknown kind gives an error record"
jrec badin.json bad2 status='"error"' executor=null kind='"sleep"' \
	error='"sleep: expected 1 argument"' seq=3 \
	"a bad line keeps its id= when it parsed"
jrec badin.json 4 status='"error"' kind=null executor=null \
	"a line without a kind gives an error record with kind null"
jrec badin.json 5 status='"error"' "an all-digit id is an error, id is seq"
jrec badin.json 6 status='"error"' "a duplicate id is an error, id is seq"
jrec badin.json 7 status='"error"' error='"NUL byte in line"' \
	"a NUL byte in a line is an error"
jrec badin.json 8 status='"error"' error='"line too long"' \
	"a line over 1 MiB is an error"

# Sequence numbers run across every input in order; the default id is seq.
printf 'id=a1 sleep 0\nsleep 0\n' >a.jobs
printf 'sleep 0\n' >b.jobs
printf 'sleep 0\nid=s2 sleep 0\n' | corun --json a.jobs - b.jobs >seq.json 2>&1
is "$?" 0 "files and standard input together: exit status 0"
is "$(jpy seq.json '" ".join("%s=%s@%s" % (r["id"], r["seq"], r["source"])
	for r in sorted(R, key=lambda r: r["seq"]))')" \
	"a1=1@a.jobs:1 2=2@a.jobs:2 3=3@-:1 s2=4@-:2 5=5@b.jobs:1" \
	"seq runs across the inputs in order; the id is id= or seq"
is "$(jpy seq.json '" ".join(type(r["id"]).__name__ for r in R)')" \
	"str str str str str" "ids are strings"

# --max-inflight: reading pauses at the limit and resumes as jobs end, on
# every executor.
for k in 'sleep 0' 'exec true' 'block 0' 'primes 1'; do
	printf '%s\n' "$k" "$k" "$k" "$k" "$k" "$k" >inflight.jobs
	corun_within 5 -P1 --max-inflight 1 <inflight.jobs >inflight.out 2>&1
	is "$?:$(grep -c '^ok ' inflight.out)" 0:6 \
		"-P1 --max-inflight 1 with 6 x $k: every job ends ok"
done

# Backpressure: while the limit is reached corun does not read its input on,
# so a producer writing 4 MB after the first job stays blocked.
cat >producer.py <<'EOF'
import sys
w = sys.stdout.write
w("id=hold sh ': >started; i=0; while [ ! -e go ] && [ $i -lt %s ];"
  " do sleep 0.05; i=$((i+1)); done; [ -e go ]'\n" % sys.argv[1])
sys.stdout.flush()
for i in range(4000):
    w("#" + "x" * 999 + "\n")
sys.stdout.flush()
open("wrote-all", "w").close()
w("id=last sleep 0\n")
EOF
"$PY" producer.py "$(ticks 10)" | corun --json --max-inflight 1 >bp.json 2>bp.err &
wait_for started 10
sleep 1
check "a paused corun leaves its producer blocked" test ! -e wrote-all
: >go
wait
jrec bp.json hold status='"ok"' "the job that held the limit ends ok"
jrec bp.json last status='"ok"' "the job after the pause runs"

# Every named file is read and checked before any job runs: a directory, a
# bad line in a pipe (a FIFO here, as <(...) is) and a bad after= in a
# later file stop the run with exit status 2, and nothing runs.
echo "sh 'touch ran3'" >first.jobs
mkdir jobdir
corun first.jobs jobdir >dir.out 2>dir.err </dev/null
is "$?" 2 "a directory after a good file: exit status 2"
check "a directory after a good file: nothing runs" test ! -e ran3
is "$(cat dir.err)" "corun: jobdir: Is a directory" \
	"a directory: the message names it"
mkfifo bad.fifo
printf 'sleep 0\nfrob\n' >bad.fifo &
corun first.jobs bad.fifo >fifo.out 2>fifo.err </dev/null
is "$?" 2 "a bad line in a pipe: exit status 2"
wait
check "a bad line in a pipe: nothing runs" test ! -e ran3
is "$(cat fifo.err)" "bad.fifo:2: unknown kind 'frob'" \
	"a bad line in a pipe: reported as FILE:LINE"
mkfifo good.fifo
printf 'id=p sleep 0\n' >good.fifo &
printf 'id=q after=nope sleep 0\n' >later.jobs
corun first.jobs good.fifo later.jobs >after.out 2>after.err </dev/null
is "$?" 2 "a bad after= in a file after a pipe: exit status 2"
wait
check "a bad after= in a later file: nothing runs" test ! -e ran3
is "$(cat after.err)" "later.jobs:1: after: 'nope' names no earlier job" \
	"a bad after= in a later file: reported"
printf 'id=p exec echo from-pipe\n' >good.fifo &
printf 'id=q after=p exec echo after-pipe\n' >later.jobs
corun first.jobs good.fifo later.jobs >pipe.out 2>pipe.err </dev/null
is "$?" 0 "a good pipe between files: exit status 0"
wait
is "$(sed 's/ [0-9.]*s / /' pipe.out | sort)" "ok 1 sh:
ok p exec: from-pipe
ok q exec: after-pipe" "a good pipe between files: its jobs run from the checked copy"

# A file that grows while its jobs run: only the lines checked run. With
# --max-inflight 1 the rest of the file is read after the first job ended,
# and that job appended a bad line and a job.
cat >grow.jobs <<'EOF2'
sh 'printf "frob\nsh \"touch grown\"\n" >>grow.jobs'
sleep 0
EOF2
corun --max-inflight 1 grow.jobs >grow.out 2>grow.err </dev/null
is "$?" 0 "a file that grows while it runs: exit status 0"
is "$(nlines grow.out)" 2 "a file that grows: only its checked lines run"
check "a file that grows: the appended job does not run" test ! -e grown
# A file replaced (renamed over) between the check and its run is not run:
# reported, exit status 2.
echo "sh 'printf \"sh \\\\\"touch swapped\\\\\"\\\\n\" >new.jobs; mv new.jobs b.jobs'" >a.jobs
echo 'sleep 0' >b.jobs
corun --max-inflight 1 a.jobs b.jobs >swap.out 2>swap.err </dev/null
is "$?" 2 "a file replaced after the check: exit status 2"
check "a file replaced after the check: its new job does not run" \
	test ! -e swapped
is "$(cat swap.err)" "corun: b.jobs: replaced since it was checked" \
	"a file replaced after the check: reported"

# Standard input may be given once.
corun - - </dev/null >twice.out 2>twice.err
is "$?" 2 "'-' twice is a usage error (exit status 2)"
check "'-' twice: a message on stderr" test -s twice.err
is "$(cat twice.out)" "" "'-' twice: nothing on stdout"

# Standard input's flags are shared with every process that holds it:
# corun reads a pipe and a socket without blocking and never changes them,
# while it runs or when SIGKILL ends it.
for how in pipe socket; do
	"$PY" - "$CORUN_LINK" "$how" <<'EOF' >"sh$how.flags" 2>"sh$how.err"
import fcntl, os, socket, subprocess, sys
if sys.argv[2] == "pipe":
    r, w = os.pipe()
    send = lambda b: os.write(w, b)
else:
    a, b = socket.socketpair()
    r = b.fileno()
    send = a.sendall
before = fcntl.fcntl(r, fcntl.F_GETFL)
out_r, out_w = os.pipe()
p = subprocess.Popen([sys.argv[1]], stdin=r, stdout=out_w)
os.close(out_w)
send(b"exec echo first\n")
os.read(out_r, 1)  # its record came: corun reads and runs
during = fcntl.fcntl(r, fcntl.F_GETFL)
p.kill()
p.wait()
after = fcntl.fcntl(r, fcntl.F_GETFL)
print("same" if during == before else "changed",
      "same" if after == before else "changed")
EOF
	is "$(cat "sh$how.flags")" "same same" \
		"standard input a shared $how: its flags never change"
done

no_leftovers "no corun process is left"
done_testing
