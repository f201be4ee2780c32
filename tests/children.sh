#!/bin/sh
# children.sh: what an exec/sh child sees (fds 0-2 only, /dev/null on
# stdin, its own process group), output capture (stdout apart from stderr,
# the 1 MiB cap without SIGPIPE and in little memory, the 64 KiB stderr
# tail), and no zombie or leftover process.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# shellcheck disable=SC2016
cat >see.jobs <<'EOF'
id=fd sh 'ls /proc/$$/fd'
id=fdx exec sh -c 'ls /proc/$$/fd'
id=in sh 'readlink /proc/$$/fd/0'
id=pg sh 'cut -d" " -f5 /proc/$$/stat; echo $$'
id=pgx exec sh -c 'cut -d" " -f5 /proc/$$/stat; echo $$'
id=sep sh 'echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 4'
EOF
# Extra fds open in corun must not reach its children.
corun --json see.jobs >see.json 2>see.err </dev/null 3</dev/null 7>extra.fd
jrec see.json fd status='"ok"' value='"0\n1\n2\n"' \
	"sh: the child has only fds 0, 1 and 2"
jrec see.json fdx status='"ok"' value='"0\n1\n2\n"' \
	"exec: the child has only fds 0, 1 and 2"
jrec see.json in value='"/dev/null\n"' "the child's stdin is /dev/null"
is "$(jpy see.json 'len(set(by["pg"]["value"].split())) == 1')" true \
	"sh: the child leads its own process group"
is "$(jpy see.json 'len(set(by["pgx"]["value"].split())) == 1')" true \
	"exec: the child leads its own process group"
jrec see.json sep status='"failed"' exit=4 value='"out1\nout2\n"' \
	stderr='"err1\nerr2\n"' \
	"stdout and stderr are captured apart, also for a failed child"

# A child reading its stdin gets EOF and does not eat corun's job stream.
printf "id=cat sh 'cat; echo end'\nid=z exec echo z\n" |
	corun --json >eat.json 2>&1
jrec eat.json cat status='"ok"' value='"end\n"' \
	"a child reading stdin gets EOF at once"
jrec eat.json z status='"ok"' value='"z\n"' \
	"the job stream on corun's stdin is not eaten by a child"

# 200 MB of output: 1 MiB kept, the rest read and thrown away, the child
# never gets SIGPIPE, and corun stays small.
cat >big.jobs <<'EOF'
id=big sh 'yes abcdefghijklmnopqrstuvwxy | head -c 200000000'
id=bigx exec head -c 200000000 /dev/zero
id=err sh 'seq 1 30000 >&2; echo done'
EOF
if [ "$SANITIZED" = 0 ] && /usr/bin/time -f %M true >/dev/null 2>&1; then
	timeout -k 3 "$CORUN_LIMIT" /usr/bin/time -f %M -o rss.txt \
		"$CORUN_LINK" --json big.jobs >big.json 2>big.err </dev/null
	rc=$?
	have_rss=1
else
	corun --json big.jobs >big.json 2>big.err </dev/null
	rc=$?
	have_rss=0
fi
is "$rc" 0 "200 MB of output: exit status 0"
jrec big.json big status='"ok"' exit=0 signal=null truncated=true \
	"sh writing 200 MB: ok, exit 0, truncated"
is "$(jpy big.json 'len(by["big"]["value"])')" 1048576 \
	"sh writing 200 MB: the value is exactly 1 MiB"
is "$(jpy big.json \
	'by["big"]["value"] == ("abcdefghijklmnopqrstuvwxy\n" * 40330)[:1048576]')" \
	true "sh writing 200 MB: the value is the first MiB"
jrec big.json bigx status='"ok"' exit=0 signal=null truncated=true \
	"exec writing 200 MB: ok, exit 0 (no SIGPIPE), truncated"
is "$(jpy big.json 'len(by["bigx"]["value"])')" 1048576 \
	"exec writing 200 MB: the value is exactly 1 MiB"
if [ $have_rss = 1 ]; then
	lt "$(tail -n 1 rss.txt)" 50000 "corun's max RSS stays under 50 MB"
else
	skip "corun's max RSS stays under 50 MB" \
	    "no GNU /usr/bin/time, or a sanitizer build"
fi
jrec big.json err status='"ok"' value='"done\n"' truncated=false \
	"a child writing 170 KB on stderr is ok"
is "$(jpy big.json 'by["err"]["stderr"] == "".join(
	"%d\n" % i for i in range(1, 30001))[-65536:]')" true \
	"stderr keeps exactly its last 64 KiB"

# No zombie while corun runs: children that ended have been reaped by the
# time their records are out.
for i in 1 2 3 4 5; do echo "id=z$i exec true"; done >zombie.jobs
printf 'id=w sh %s\n' "'i=0; while [ ! -e go ] && [ \$i -lt $(ticks 10) ]; do sleep 0.05; i=\$((i+1)); done; [ -e go ]'" >>zombie.jobs
bg_corun zombie /dev/null zombie.json zombie.err --json zombie.jobs
i=0
max=$(ticks 10)
while [ "$(nlines zombie.json)" -lt 5 ] && [ $i -lt "$max" ]; do
	sleep 0.05
	i=$((i + 1))
done
is "$(nlines zombie.json)" 5 "five short children end while one runs on"
zombies=$(ps -o pid=,stat=,args= --ppid "$bg_pid" | awk '$2 ~ /^Z/')
is "$zombies" "" "corun has no zombie child"
: >go
is "$(bg_wait zombie 10)" 0 "corun ends ok when the last child ends"
jrec zombie.json w status='"ok"' "the long child saw its go"

# Every way out of corun reaps its children: under a subreaper, nothing of
# corun's (zombie or live) is left to it once corun has exited, after a
# second SIGINT or when the reader of the records goes away.
cat >reap.py <<'EOF'
import ctypes, os, signal, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
mode, jobs = sys.argv[1], sys.argv[2]
p = subprocess.Popen([sys.argv[3], "--grace", "30", jobs],
                     stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
if mode == "reader":
    p.stdout.readline()
    p.stdout.close()
else:
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
p.wait()
time.sleep(0.3)
left = 0
while True:
    try:
        pid, st = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:
        # A live process was handed to us: count it and end it.
        for d in os.listdir("/proc"):
            try:
                if d.isdigit() and open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()[1] == str(os.getpid()):
                    os.kill(int(d), signal.SIGKILL)
                    left += 1
            except (OSError, IndexError):
                pass
        time.sleep(0.2)
        continue
    left += 1
print(left)
EOF
cat >reap1.jobs <<'EOF'
exec echo first
sh 'trap "" TERM INT; exec sleep 30'
sh 'trap "" TERM INT; exec sleep 30'
sh 'sleep 0.6; echo second'
EOF
cat >reap2.jobs <<'EOF'
sh 'trap "" TERM INT; exec sleep 30'
sh 'trap "" TERM INT; exec sleep 30'
exec sleep 30
EOF
is "$(timeout "$(scaled 20)" "$PY" reap.py reader reap1.jobs "$CORUN_LINK")" 0 \
	"the reader goes away: corun reaps every child before it exits"
is "$(timeout "$(scaled 20)" "$PY" reap.py signal reap2.jobs "$CORUN_LINK")" 0 \
	"a second SIGINT: corun reaps every child before it exits"

# No signal reaches a process group after pid reuse: a job's child exits
# while a descendant that left its group holds its pipe; another job's
# grandchild is then given the child's pid (ns_last_pid, in a pid
# namespace) and must not get the first job's timeout SIGTERM.
if unshare -Urpf --mount-proc sh -c 'echo 50 >/proc/sys/kernel/ns_last_pid' \
	2>/dev/null; then
	cat >reuse.jobs <<'EOF'
id=a timeout=1.5s sh 'echo $$ >a.pid; setsid sleep 4 & exit 0'
id=b sh 'while [ ! -s a.pid ]; do sleep 0.05; done; sleep 0.5; echo $(($(cat a.pid) - 1)) >/proc/sys/kernel/ns_last_pid; setsid sh -c "echo \$\$ >b.pid; sleep 2.5"; echo rc=$?'
EOF
	timeout 30 unshare -Urpf --mount-proc "$CORUN_LINK" --json --grace 3 \
		reuse.jobs >reuse.json 2>reuse.err </dev/null
	jrec reuse.json b value='"rc=0\n"' \
		"pid reuse: a timeout signals no other job's process group"
	isnt_reused=$( [ "$(cat b.pid 2>/dev/null)" != "$(cat a.pid 2>/dev/null)" ] && echo yes)
	is "$isnt_reused" yes "pid reuse: an unreaped child keeps its pid"
else
	skip "pid reuse: a timeout signals no other job's process group" \
		"no unprivileged user and pid namespaces"
	skip "pid reuse: an unreaped child keeps its pid" \
		"no unprivileged user and pid namespaces"
fi

no_leftovers "no corun process or child is left"
done_testing
