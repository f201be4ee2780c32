#!/bin/sh
# slurm.sh: remote workers through Slurm's srun (make check-slurm, not part
# of make check), as root. A one-node Slurm cluster of this run only:
# munged with a fresh key and its own socket, slurmctld and slurmd in the
# foreground with their own slurm.conf (SLURM_CONF, exported to everything
# here), state and spool directories, logs and free ports of 127.0.0.1, one
# node (NodeAddr=127.0.0.1, slurmd -N) with proctrack/linuxproc (no cgroup
# needed), no accounting. Nothing outside the test's directory is touched.
#  - Jobs through --launcher 'srun -u -N1 -n1 --exact -w {host} corun
#    --serve' run inside Slurm steps: one ok record per job, each naming
#    the node. (-u: without it slurmstepd holds a task's output until a
#    newline or its end, so the worker's frames wait, and the host is lost
#    for silence; with it, in Slurm 22.05, the bytes pass at once and as
#    they are, over pipes, not a terminal.)
#  - One srun killed with SIGKILL mid-run. Its step goes on (slurmstepd
#    keeps the task's standard input open: no end of input reaches the
#    worker, unlike ssh), so only the heartbeats tell: the worker, hearing
#    nothing for --host-timeout, kills its jobs (bounded wait: they would
#    sleep for 15 minutes) and exits, and the parent re-runs them (on this
#    machine, or on the node through a new srun): one ok record per job.
# At the end every Slurm job of the cluster is cancelled and the daemons
# stopped (before no_leftovers, and on every exit path). Skipped (TAP SKIP) when not root or Slurm or munge is missing or
# cannot start; the checks of -S are skipped while corun --help lists no
# --hosts.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"
# shellcheck source=tests/remote-lib.sh
. "$SRCDIR/tests/remote-lib.sh"

# The host timeout of the run (seconds): the workers get it in the HELLO.
HT=2
NODE=corun-node

[ "$(id -u)" = 0 ] || remote_skip "needs root (slurmctld, slurmd, munged)"
for c in munged munge unmunge slurmctld slurmd srun sinfo squeue scancel; do
	command -v "$c" >/dev/null 2>&1 ||
		remote_skip "needs Slurm and munge ($c not found: apt-get install slurm-wlm munge)"
done

S=$T/slurm
mkdir -p "$S/state" "$S/spool" || bail "cannot make $S"
chmod 700 "$S"

# munge: a fresh key, its own socket.
dd if=/dev/urandom of="$S/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$S/munge.key"
munged -f -F --key-file="$S/munge.key" --socket="$S/munge.sock" \
	--pid-file="$S/munged.pid" --seed-file="$S/munged.seed" \
	--log-file="$S/munged.log" >"$S/munged.out" 2>&1 &
MUNGED=$!
bg_track $MUNGED
i=0
until munge -S "$S/munge.sock" -n 2>/dev/null |
	unmunge -S "$S/munge.sock" >/dev/null 2>&1; do
	kill -0 $MUNGED 2>/dev/null ||
		remote_skip "munged did not start: $(tail -n 1 "$S/munged.out")"
	[ $i -ge "$(ticks 10)" ] && remote_skip "munged did not answer"
	sleep 0.05
	i=$((i + 1))
done

cat >"$S/slurm.conf" <<EOF
ClusterName=coruntest
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$(remote_free_port)
SlurmdPort=$(remote_free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge.sock
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
SLURM_CONF=$S/slurm.conf
export SLURM_CONF

slurmctld -D -i -f "$SLURM_CONF" >"$S/slurmctld.out" 2>&1 &
CTLD=$!
bg_track $CTLD
slurmd -D -f "$SLURM_CONF" -N "$NODE" >"$S/slurmd.out" 2>&1 &
SLURMD=$!
bg_track $SLURMD
remote_on_exit "slurm_down"

# Cancel every job of the cluster, wait (bounded) until none is left, and
# stop the daemons; once.
slurm_down() {
	[ -n "${SLURM_DOWN:-}" ] && return 0
	SLURM_DOWN=1
	timeout 5 scancel --full --partition=test 2>/dev/null
	sd_i=0
	while [ -n "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] &&
		[ "$sd_i" -lt 100 ]; do
		sleep 0.1
		sd_i=$((sd_i + 1))
	done
	remote_stop "$SLURMD"
	remote_stop "$CTLD"
	remote_stop "$MUNGED"
}

i=0
while :; do
	for p in $CTLD $SLURMD; do
		kill -0 "$p" 2>/dev/null || remote_skip "Slurm did not start: \
$(grep -h error "$S/slurmctld.out" "$S/slurmd.out" | tail -n 1)"
	done
	[ "$(timeout 5 sinfo -h -n "$NODE" -o %t 2>/dev/null)" = idle ] &&
		break
	[ $i -ge "$(ticks 20)" ] &&
		remote_skip "the Slurm node did not come up: $(sinfo 2>&1 | tail -n 1)"
	sleep 0.05
	i=$((i + 1))
done

SRUN="srun -u -N1 -n1 --exact -w"
like "$(timeout -k 3 "$(scaled 20)" srun -u -N1 -n1 --exact -w "$NODE" sh -c \
	"echo \$SLURM_JOB_ID; $CORUN_LINK --version" 2>&1)" \
	'^[0-9]+
corun ' "srun runs the built corun in a Slurm step"

if ! "$CORUN" --help | grep -q -- '--hosts'; then
	skip "remote workers through srun" "corun --help lists no --hosts"
	done_testing
fi

LAUNCH="$SRUN {host} $CORUN_LINK --serve"

# Jobs through srun: each says which Slurm job it ran in.
corun --json -S "2/$NODE" --launcher "$LAUNCH" \
	-c "exec sh -c 'echo \$SLURM_JOB_ID' $T/mark-{}" ::: 1 2 3 4 \
	>srun.json 2>srun.err
is "$?" 0 "srun: exit status 0" || diag "$(cat srun.err)"
is "$(jpy srun.json '[len(R), sorted(r["id"] for r in R),
	sorted({r["status"] for r in R}), sorted({r.get("host") for r in R})]')" \
	"[4, [\"1\", \"2\", \"3\", \"4\"], [\"ok\"], [\"$NODE\"]]" \
	"srun: one ok record per job, each naming the node"
is "$(jpy srun.json '[r["id"] for r in R
	if not r["value"].strip().isdigit()]')" '[]' \
	"srun: every job ran inside a Slurm job"

# One srun killed mid-run. This machine (`:`, one slot) holds its job until
# the test lets it go, so that the node gets two; there a job sleeps for a
# quarter of an hour (as sh -c ... slurm-MARK, to be found) unless let go
# too.
JOB="exec sh -c 'if [ -z \"\$SLURM_JOB_ID\" ]; then \
while [ ! -e $T/release ]; do sleep 0.05; done; echo local; \
elif [ -e $T/release ]; then echo slurm; \
else exec sh -c \"sleep $REMOTE_SLEEP\" slurm-\$0; fi' $T/mark-{}"
bg_corun kill /dev/null kill.json kill.err --json -S "1/:,2/$NODE" \
	--host-timeout ${HT}s --launcher "$LAUNCH" -c "$JOB" ::: 1 2 3 4
stepjobs() {
	pgrep -f -- "slurm-$T/mark-" | sort -n | tr '\n' ' ' | sed 's/ $//'
}
i=0
while [ "$(stepjobs | wc -w)" -lt 2 ] && [ $i -lt "$(ticks 20)" ]; do
	sleep 0.05
	i=$((i + 1))
done
is "$(stepjobs | wc -w)" 2 "killed srun: two jobs run in Slurm steps"
# The launcher of the node: srun is two processes, kill both.
sruns=$(ps -eo pid=,comm=,args= | awk -v c="$CORUN_LINK --serve" \
	'$2 == "srun" && index($0, c) { print $1 }')
check "killed srun: the srun is found" test -n "$sruns"
# shellcheck disable=SC2086 # a list of pids
[ -n "$sruns" ] && kill -9 $sruns
: >release
t0=$(now)
i=0
max=$(remote_ticks $((HT + 5)))
while [ -n "$(stepjobs)" ] && [ $i -lt "$max" ]; do
	sleep 0.05
	i=$((i + 1))
done
diag "killed srun: its step's jobs gone after $(since "$t0") s (--host-timeout ${HT}s)"
is "$(stepjobs)" "" "killed srun: no job is left in the Slurm steps" ||
	diag "$(procs_with "$T/mark")"
is "$(bg_wait kill 30)" 0 "killed srun: exit status 0" || diag "$(cat kill.err)"
is "$(jpy kill.json '[len(R), sorted(r["id"] for r in R),
	sorted({r["status"] for r in R})]')" '[4, ["1", "2", "3", "4"], ["ok"]]' \
	"killed srun: one ok record per job"
like "$(jpy kill.json 'sorted({r["value"] for r in R})')" \
	'^\["local\\n"(, "slurm\\n")?\]$' \
	"killed srun: the jobs moved to this machine or to a new srun"
# The daemons are the only processes left with $T in their command line.
slurm_down
no_leftovers "no corun, srun, worker or job is left"

done_testing
