#!/bin/sh
# remote.sh: remote workers (corun(1), REMOTE WORKERS) through a fake
# launcher: each "host" is this machine, its worker `corun --serve` started
# by a script as ssh would start it, so no privileges are needed. Faults by
# host name: dead* exits 255 at once as ssh does when it cannot connect,
# old* answers with a greeting of protocol 2. Each case checks one record
# per job, where the jobs ran, and that nothing is left running.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# launch HOST: the fake launcher. Its pid goes to launch.HOST.pid (so a
# test can kill it, as if ssh died), the worker's to worker.HOST.pid; the
# worker is its child (not exec'ed), as a remote corun is not ssh itself.
cat >launch <<EOF2
#!/bin/sh
h=\$1
echo \$\$ >"launch.\$h.pid.tmp" && mv "launch.\$h.pid.tmp" "launch.\$h.pid"
case \$h in
dead*)
	echo "ssh: connect to host \$h port 22: Connection refused" >&2
	exit 255 ;;
old*)
	printf 'CORUNW\\000\\002\\0039.9'
	exec cat >/dev/null ;;
esac
sh -c 'echo \$\$ >"\$0.tmp" && mv "\$0.tmp" "\$0" && exec "\$@"' \\
	"worker.\$h.pid" env CORUN_HOST="\$h" "$CORUN_LINK" --serve
EOF2
chmod +x launch
L="./launch {host}"

# --- jobs spread over the hosts ---------------------------------------------

i=0
: >spread.jobs
while [ $i -lt 30 ]; do
	i=$((i + 1))
	echo "id=j$i sh 'sleep 0.05; printf %s \"\$CORUN_HOST\"'" >>spread.jobs
done
corun --json -S 2/a,2/b,2/c --launcher "$L" spread.jobs >spread.json \
	2>spread.err
is "$?" 0 "three hosts: every job ok"
is "$(jpy spread.json 'len(R)')" 30 "three hosts: one record per job"
is "$(jpy spread.json 'sum(r["value"] != r.get("host") for r in R)')" 0 \
	"three hosts: each job ran where its record says (the worker's environment)"
is "$(jpy spread.json '" ".join(sorted(set(r["host"] for r in R)))')" "a b c" \
	"three hosts: every host took jobs"
is "$(cat spread.err)" "" "three hosts: nothing on stderr"
no_leftovers "three hosts: no worker or job is left"

# A job with host=local, and a cancel job, run here; text records say where
# the others ran.
cat >local.jobs <<'EOF2'
id=here host=local sh 'printf %s "${CORUN_HOST-here}"'
id=there sh 'printf %s "${CORUN_HOST-here}"'
id=c cancel nothing
EOF2
corun --json -S a --launcher "$L" local.jobs >local.json 2>local.err
jrec local.json here value='"here"' host='(0 records with this field)' \
	"host=local: the job runs here, its record has no host"
jrec local.json there value='"a"' host='"a"' "a job without host= runs on the host"
jrec local.json c status='"failed"' host='(0 records with this field)' \
	"a cancel job stays here"
corun -S a --launcher "$L" -c 'echo {}' ::: one two >cmd.out 2>cmd.err
is "$(sort cmd.out | tr '\n' ' ')" "one two " \
	"command mode: a host's output is written as a local job's"
printf 'id=t sh "echo out"\n' | corun -S b --launcher "$L" >text.out 2>&1
like "$(cat text.out)" '^ok t [0-9.]+s sh@b: out$' "a text record shows KIND@HOST"

# --env, --workdir and --basefile reach the hosts' jobs.
mkdir wd
echo "the base" >base.txt
: >env.jobs
for i in 1 2 3 4; do
	echo "sh 'sleep 0.1; printf \"%s|%s|%s\" \"\$CORUN_TEST_VAR\" \"\$(pwd)\" \"\$(cat base.txt)\"'" >>env.jobs
done
CORUN_TEST_VAR='a b$c' corun --json -S 2/a,2/b --launcher "$L" \
	--env CORUN_TEST_VAR --workdir "$T/wd" --basefile base.txt env.jobs \
	>env.json 2>env.err
is "$(jpy env.json 'len(set(r["value"] for r in R))') $(jpy env.json 'R[0]["value"]')" \
	"1 a b\$c|$T/wd|the base" \
	"--env, --workdir, --basefile: each host's jobs see them"
is "$(jpy env.json '" ".join(sorted(set(r["host"] for r in R)))')" "a b" \
	"--basefile: both hosts got it"
cmp -s base.txt wd/base.txt
ok $? "--basefile: the copy is whole"

# --- a host that cannot start, or speaks another protocol --------------------

printf 'sleep 0\nsleep 0\n' >two.jobs
corun_within 10 --json -S dead1 --launcher "$L" two.jobs >dead.json 2>dead.err
is "$?" 1 "only a dead host: exit status 1, no hang"
is "$(jpy dead.json '" ".join(r["status"] for r in R)')" "failed failed" \
	"only a dead host: every job fails"
is "$(jpy dead.json 'R[0]["error"]')" \
	"no host is up: dead1: ssh: connect to host dead1 port 22: Connection refused" \
	"only a dead host: the error names it and quotes its launcher"
contains "$(cat dead.err)" "host lost: dead1: ssh: connect to host dead1" \
	"only a dead host: stderr says it was lost"

corun --json -S dead2,a --launcher "$L" spread.jobs >dead2.json 2>dead2.err
is "$?" 0 "a dead host and a good one: every job ok"
is "$(jpy dead2.json '" ".join(sorted(set(r["host"] for r in R)))')" "a" \
	"a dead host and a good one: the good one ran them all"

corun_within 10 --json -S old1 --launcher "$L" two.jobs >old.json 2>old.err
is "$?" 1 "a host of protocol 2: exit status 1"
contains "$(cat old.err)" "host lost: old1: old1:" \
	"a host of protocol 2: stderr names it"
contains "$(cat old.err)" "protocol 2" "a host of protocol 2: and says why"
no_leftovers "faulty hosts: nothing is left"

# --- a launcher killed mid-run -------------------------------------------

# x runs on whichever host takes it; its launcher is killed while it runs:
# x runs again on the other host, without using a retry.
cat >kill.jobs <<'EOF2'
id=x sh 'echo "$CORUN_HOST" >>x.ran; sleep 1; printf %s "$CORUN_HOST"'
id=y sh 'sleep 0.2'
id=z sh 'sleep 0.2'
EOF2
: >x.ran
bg_corun k /dev/null k.json k.err --json -S 1/a,1/b --launcher "$L" kill.jobs
wait_lines x.ran 1 10
xh=$(cat x.ran)
kill -9 "$(cat "launch.$xh.pid")"
k_rc=$(bg_wait k 20)
is "$k_rc" 0 "launcher killed: every job ok"
is "$(jpy k.json 'len(R)')" 3 "launcher killed: one record per job"
other=a
[ "$xh" = a ] && other=b
jrec k.json x value="\"$other\"" host="\"$other\"" attempts=1 \
	"launcher killed: x ran again on the other host, as attempt 1"
is "$(tr '\n' ' ' <x.ran)" "$xh $other " "launcher killed: x started on both"
contains "$(cat k.err)" "host lost: $xh:" "launcher killed: stderr says so"
no_leftovers "launcher killed: the lost worker's job is gone too"

# --- a stopped worker: heartbeats ------------------------------------------

# The worker running s is stopped (SIGSTOP): after --host-timeout without a
# word it is lost, s runs on the other host, and the stopped worker, sent
# SIGTERM and SIGCONT, kills its job.
cat >stop.jobs <<'EOF2'
id=s sh 'echo "$CORUN_HOST $(date +%s.%N)" >>s.ran; sleep 1.5; printf %s "$CORUN_HOST"'
EOF2
: >s.ran
bg_corun st /dev/null st.json st.err --json --host-timeout 1s -S 1/a,1/b \
	--launcher "$L" stop.jobs
wait_lines s.ran 1 10
set -- $(cat s.ran)
sh_=$1
kill -STOP "$(cat "worker.$sh_.pid")"
t_stop=$(now)
st_rc=$(bg_wait st 20)
is "$st_rc" 0 "stopped worker: the job ends ok"
set -- $(sed -n 2p s.ran)
lag=$(awk -v a="$t_stop" -v b="${2:-0}" 'BEGIN { printf "%.3f\n", b - a }')
diag "stopped worker: s ran again on $1 after ${lag}s (--host-timeout 1s)"
check "stopped worker: s ran again elsewhere within --host-timeout + 1s (scaled: $(scaled 2)s; got $lag)" \
	awk -v l="$lag" -v m="$(scaled 2)" 'BEGIN { exit !(l > 0.9 && l < m) }'
jrec st.json s host="\"$1\"" attempts=1 status='"ok"' \
	"stopped worker: one record, from the other host"
contains "$(cat st.err)" "host lost: $sh_: no word from it for 1s" \
	"stopped worker: stderr says the heartbeats stopped"
no_leftovers "stopped worker: it and its job are gone"

# --- a host lost twice ---------------------------------------------------------

cat >twice.jobs <<'EOF2'
id=w sh 'echo "$CORUN_HOST" >>w.ran; sleep 30'
EOF2
: >w.ran
bg_corun tw /dev/null tw.json tw.err --json --max-host-losses 1 -S 1/a,1/b \
	--launcher "$L" twice.jobs
wait_lines w.ran 1 10
kill -9 "$(cat "launch.$(sed -n 1p w.ran).pid")"
wait_lines w.ran 2 10
kill -9 "$(cat "launch.$(sed -n 2p w.ran).pid")"
tw_rc=$(bg_wait tw 20)
is "$tw_rc" 1 "lost twice with --max-host-losses 1: exit status 1"
is "$(jpy tw.json 'len(R)')" 1 "lost twice: one record"
like "$(jpy tw.json 'R[0]["error"]')" "^host lost: $(sed -n 2p w.ran): " \
	"lost twice: the job fails, naming the second host"
jrec tw.json w status='"failed"' attempts=1 host="\"$(sed -n 2p w.ran)\"" \
	"lost twice: its record"
no_leftovers "lost twice: nothing is left"

# --- timeouts, retries and signals reach remote jobs -----------------------

cat >tr.jobs <<'EOF2'
id=slow timeout=0.5s sh 'sleep 30'
id=bad retries=2 backoff=10ms sh 'exit 3'
EOF2
corun --json -S a --launcher "$L" tr.jobs >tr.json 2>tr.err
jrec tr.json slow status='"timeout"' host='"a"' \
	"timeout=: a remote job is stopped at its timeout"
jrec tr.json bad status='"failed"' attempts=3 exit=3 host='"a"' \
	"retries=: the parent retries a remote job"

# The job runs a link to sleep in the test's directory: no_leftovers and
# gone find it, and no other test's sleep.
ln -s "$(command -v sleep)" "$T/sleeper"
printf 'id=long exec %s 30\n' "$T/sleeper" >sig.jobs
rm -f worker.a.pid
bg_corun sg /dev/null sg.json sg.err --json -S a --launcher "$L" sig.jobs
wait_for worker.a.pid 10
wait_for_job() {
	[ -n "$(procs_with "$T/sleeper")" ]
}
i=0
while ! wait_for_job && [ $i -lt "$(ticks 5)" ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -TERM "$bg_pid"
sg_rc=$(bg_wait sg 20)
is "$sg_rc" 143 "SIGTERM: exit status 143"
jrec sg.json long status='"cancelled"' host='"a"' \
	"SIGTERM: the remote job is cancelled (CANCEL frame)"
gone "$T/sleeper" "SIGTERM: the remote job's process is gone"
no_leftovers "SIGTERM: nothing is left"

# --- usage errors ----------------------------------------------------------------

corun -S 0/a -c true ::: x >u1.out 2>u1.err
is "$?" 2 "-S 0/a: usage error"
contains "$(cat u1.err)" "bad host '0/a'" "-S 0/a: the message names the entry"
printf 'a\n# comment\n2/b c\nx y/\n' >hosts.txt
corun --hosts-file hosts.txt -c true ::: x >u2.out 2>u2.err
is "$?" 2 "--hosts-file with a bad entry: usage error"
contains "$(cat u2.err)" "hosts.txt:4: bad host 'y/'" \
	"--hosts-file: the message names FILE:LINE"
corun --env 1X -S a -c true ::: x >u3.out 2>u3.err
is "$?" 2 "--env 1X: usage error"

done_testing
