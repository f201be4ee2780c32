#!/bin/sh
# timeouts.sh: a timeout on each executor ends the job as corun(1) says
# (loop timer, SIGTERM then SIGKILL for children, abandoned thread call,
# killed and replaced worker), -t and timeout=, and no process left behind.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

cat >to.jobs <<'EOF'
id=l timeout=0.3 sleep 10
id=e timeout=0.3 exec sleep 10
id=t timeout=0.3 sh 'trap "" TERM; sleep 10'
id=tx timeout=0.3 exec sh -c 'trap "" TERM; sleep 10'
id=b timeout=0.3 block 10
id=p timeout=0.3 spin 10s
id=q primes 10
EOF
wall to.time corun --json -P1 --grace 0.3 to.jobs >to.json 2>to.err </dev/null
is "$?" 1 "timed-out jobs: exit status 1"
lt "$(cat to.time)" "$(bound 5 9)" "no timed-out job runs its 10 s"
jrec to.json l status='"timeout"' executor='"loop"' signal=null exit=null \
	error='"timed out after 0.3s"' "loop: sleep 10 with timeout=0.3 times out"
jrec to.json e status='"timeout"' executor='"loop"' signal=15 exit=null \
	error='"timed out after 0.3s"' "exec: timeout ends the child with SIGTERM"
jrec to.json t status='"timeout"' signal=9 exit=null \
	"sh ignoring SIGTERM: SIGKILL after --grace"
check "sh ignoring SIGTERM: the record waits for the grace period" \
	num_lt 0.5 "$(jget to.json t elapsed)"
jrec to.json tx status='"timeout"' executor='"loop"' signal=9 exit=null \
	error='"timed out after 0.3s"' "exec ignoring SIGTERM: SIGKILL after --grace"
jrec to.json b status='"timeout"' executor='"thread"' signal=null \
	error='"timed out after 0.3s"' "thread: block 10 times out"
lt "$(jget to.json b elapsed)" "$(bound 3 9)" "thread: the timeout ends the job at once"
jrec to.json p status='"timeout"' executor='"process"' signal=9 \
	error='"timed out after 0.3s"' "process: spin 10s times out, signal 9"
jrec to.json q status='"ok"' value='"4"' \
	"process: the next job runs on the replaced worker (-P1)"
for id in l e b p; do
	lt "$(jget to.json $id elapsed)" "$(bound 3 9)" "$id: elapsed is short"
done

# corun does not wait for an abandoned thread call before exiting.
echo 'timeout=0.3 block 10' >block.jobs
wall block.time corun block.jobs >block.out 2>&1 </dev/null
is "$?" 1 "a timed-out block: exit status 1"
lt "$(cat block.time)" "$(bound 5 9)" "corun exits without waiting for the blocked call"
like "$(cat block.out)" '^timeout 1 [0-9]+\.[0-9]{3}s block: timed out after 0\.3s$' \
	"a timed-out block: text record"

# The abandoned call's thread is written off and replaced (-T1): the next
# thread job does not wait for the call to return.
printf 'timeout=0.2 block 3\nid=n block 0\n' >busy.jobs
wall busy.time corun --json -T1 busy.jobs >busy.json 2>&1 </dev/null
lt "$(cat busy.time)" "$(bound 1 2.8)" "the next thread job does not wait for the abandoned call"
jrec busy.json n status='"ok"' "the next thread job runs on a new thread"

# -t is the default timeout; timeout= overrides it either way.
printf 'id=d sleep 10\nid=o timeout=5 sleep 0.6\n' >t1.jobs
printf 'id=x timeout=0.2 sleep 5\nid=y sleep 0.1\n' >t2.jobs
printf 'id=r timeout=0.2 retries=1 backoff=10ms sleep 5\n' >t3.jobs
corun --json -t 0.3 t1.jobs >t1.json 2>&1 </dev/null &
corun --json -t 10 t2.jobs >t2.json 2>&1 </dev/null &
corun --json t3.jobs >t3.json 2>&1 </dev/null &
wait
jrec t1.json d status='"timeout"' error='"timed out after 0.3s"' \
	"-t 0.3 times sleep 10 out"
jrec t1.json o status='"ok"' "timeout=5 overrides a shorter -t"
jrec t2.json x status='"timeout"' error='"timed out after 0.2s"' \
	"timeout=0.2 overrides a longer -t"
jrec t2.json y status='"ok"' "-t 10 lets a short job end ok"
jrec t3.json r status='"timeout"' attempts=2 \
	"a timed-out attempt is retried; the job ends timeout"

# A timed-out sh leaves no process behind: its whole process group goes,
# even a background grandchild, even one that ignores SIGTERM.
ln -s "$(command -v sleep)" "$T/zzsleep"
cat >group.jobs <<EOF
id=g1 timeout=0.3 sh '$T/zzsleep 30 & $T/zzsleep 31'
id=g2 timeout=0.3 sh 'trap "" TERM; $T/zzsleep 32 & $T/zzsleep 33'
EOF
wall group.time corun --json --grace 0.3 group.jobs >group.json 2>&1 </dev/null
jrec group.json g1 status='"timeout"' signal=15 \
	"sh with a background child: timeout, SIGTERM"
jrec group.json g2 status='"timeout"' signal=9 \
	"sh ignoring SIGTERM with a background child: timeout, SIGKILL"
lt "$(cat group.time)" "$(bound 5 25)" "the grandchildren do not hold corun up"
gone "$T/zzsleep" "no grandchild of a timed-out sh is left"

# A descendant that left the job's process group (setsid) and holds its
# output pipe does not hold the job up: the job ends within --grace (plus
# a margin) of its timeout or of the first SIGINT, and its record has the
# child's own exit status and says the output was cut.
cat >esc.jobs <<EOF
id=e timeout=1s sh 'setsid $T/zzsleep 8 & echo \$! >e.holder'
EOF
wall esc.time corun --json --grace 1 esc.jobs >esc.json 2>&1 </dev/null
jrec esc.json e status='"timeout"' exit=0 signal=null \
	"an escaped pipe holder: timeout, the child's own exit status"
lt "$(cat esc.time)" "$(bound 4.5 7)" \
	"an escaped pipe holder: the timeout ends the job within grace"
like "$(jget esc.json e stderr)" "output cut" \
	"an escaped pipe holder: the record says the output was cut"
kill "$(cat e.holder)" 2>/dev/null
cat >esc2.jobs <<EOF
id=i sh 'setsid $T/zzsleep 20 & echo \$! >i.holder'
EOF
bg_corun esc2 /dev/null esc2.json esc2.err --json --grace 1 esc2.jobs
wait_for i.holder 5
sleep 0.3
kill -INT "$bg_pid"
t0=$(now)
is "$(bg_wait esc2 10)" 130 "an escaped pipe holder: the first SIGINT ends corun"
lt "$(since "$t0")" "$(bound 4.5 15)" "an escaped pipe holder: corun ends within grace of SIGINT"
kill "$(cat i.holder)" 2>/dev/null

# A thread call blocked for good (a FIFO nobody writes) that times out
# writes its thread off: with -T1 the next thread job still runs on a new
# thread, and corun exits without waiting for the blocked one.
mkfifo "$T/nowriter" || bail "mkfifo failed"
cat >fifo.jobs <<EOF
id=f timeout=0.5s read $T/nowriter
id=h read /etc/hostname
id=h2 read /etc/hostname
EOF
wall fifo.time corun_within 10 --json -T1 fifo.jobs >fifo.json 2>&1 </dev/null
is "$?" 1 "-T1 after a blocked read times out: corun ends, exit 1"
jrec fifo.json f status='"timeout"' "the blocked read times out"
jrec fifo.json h status='"ok"' "a read queued behind it runs on a new thread"
jrec fifo.json h2 status='"ok"' "and so does the next"
lt "$(cat fifo.time)" "$(bound 5 9)" "corun does not wait for the written-off thread"

no_leftovers "no corun process is left"
done_testing
