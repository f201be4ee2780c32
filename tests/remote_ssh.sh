#!/bin/sh
# remote_ssh.sh: remote workers over a real ssh (corun -S, --launcher,
# corun --serve), as root, against a throwaway sshd on 127.0.0.1 (set up as
# tests/remote-lib.sh says): two Host aliases of it are two "hosts".
#  - Jobs over the two hosts: one record per job, each with the host it ran
#    on, run as the remote user.
#  - The ssh client of one host killed with SIGKILL mid-run (its sshd can
#    take no new session, so the host stays down): the worker on the
#    "remote" side sees its input end and kills its jobs' process groups,
#    so no job process of the remote user is left (bounded wait: the jobs
#    would sleep for 15 minutes), nor the worker; the run still gives one
#    ok record per job, the jobs that had started remotely having moved to
#    this machine (`:`).
# Skipped (TAP SKIP) when not root or sshd cannot be set up; the checks of
# -S are skipped while corun --help lists no --hosts.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"
# shellcheck source=tests/remote-lib.sh
. "$SRCDIR/tests/remote-lib.sh"

remote_require /usr/sbin/sshd ssh ssh-keygen useradd userdel pgrep
# The remote user reaches the staged corun, its home and its key in $T.
chmod 711 "$T"
remote_stage_corun "$T/stage"
remote_user "$T/home"
remote_keys "$T/ssh"
PORT=$(remote_free_port)
remote_sshd "$T/ssh" 127.0.0.1 "$PORT"
remote_ssh_config "$T/ssh" 127.0.0.1 "$PORT" h1 h2
SSH="ssh -F $T/ssh/ssh_config"

# The harness itself: ssh logs in as the test user and runs the copy.
got=$(remote_within 10 h2 "id -un; $RCORUN --version" \
	2>ssh.err | head -n 1)
is "$got" "$RUSER" "ssh to a Host alias logs in as the test user" ||
	diag "$(cat ssh.err)" "$(tail -n 5 "$T/ssh/sshd.log")"
like "$(remote_within 10 h1 "$RCORUN --version" 2>&1)" \
	'^corun ' "the test user runs the copy of the built corun"

if ! "$CORUN" --help | grep -q -- '--hosts'; then
	skip "remote workers over ssh" "corun --help lists no --hosts"
	done_testing
fi

LAUNCH="$SSH {host} $RCORUN --serve"

# Jobs over two hosts: each job says who ran it. One slot per host and a
# few tenths of a second per job, so that both hosts get some.
corun --json -S 1/h1,1/h2 --launcher "$LAUNCH" \
	-c "exec sh -c 'sleep 0.3; id -un' $T/mark-{}" ::: 1 2 3 4 5 6 \
	>two.json 2>two.err
is "$?" 0 "two ssh hosts: exit status 0" || diag "$(cat two.err)"
is "$(jpy two.json '[len(R), sorted(r["id"] for r in R),
	sorted({r["status"] for r in R})]')" \
	'[6, ["1", "2", "3", "4", "5", "6"], ["ok"]]' \
	"two ssh hosts: one ok record per job"
is "$(jpy two.json '[r["id"] for r in R
	if r.get("host") not in ("h1", "h2")]')" '[]' \
	"two ssh hosts: each record names its host, h1 or h2"
is "$(jpy two.json 'sorted({r.get("host") for r in R})')" '["h1", "h2"]' \
	"two ssh hosts: both hosts ran jobs"
is "$(jpy two.json '[r["id"] for r in R
	if r["value"] != "'"$RUSER"'\n"]')" '[]' \
	"two ssh hosts: every job ran as the remote user"

# A launcher killed mid-run. This machine (`:`, one slot) holds its job
# until the test lets it go, so that h1 gets two jobs; on h1 (not root) a
# job would sleep for 15 minutes. Once both run there, sshd is stopped (no
# new session: h1 cannot come back) and h1's ssh client is killed.
JOB="exec sh -c 'if [ \$(id -u) = 0 ]; then \
while [ ! -e $T/release ]; do sleep 0.05; done; echo local; \
else sleep $REMOTE_SLEEP; fi' $T/mark-{}"
bg_corun kill /dev/null kill.json kill.err --json -S 1/:,2/h1 \
	--launcher "$LAUNCH" -c "$JOB" ::: 1 2 3 4
remote_wait_procs "$T/mark-" 2
is "$(remote_user_procs "$T/mark-" | wc -w)" 2 \
	"killed launcher: two jobs run on h1 as the remote user"
kill -9 "$SSHD_PID"
client=$(ps -eo pid=,comm=,args= | awk -v c="$T/ssh/ssh_config" \
	'$2 == "ssh" && index($0, c) && / h1 / { print $1 }')
check "killed launcher: h1's ssh client is found" test -n "$client"
# shellcheck disable=SC2086 # one pid, or none
[ -n "$client" ] && kill -9 $client
: >release
i=0
max=$(remote_ticks 10)
while [ -n "$(remote_user_procs "$T/mark-")" ] && [ $i -lt "$max" ]; do
	sleep 0.05
	i=$((i + 1))
done
is "$(remote_user_procs "$T/mark-")" "" \
	"killed launcher: no job process of the remote user is left" ||
	diag "$(ps -o pid,args -u "$RUSER")"
is "$(remote_user_procs "$RCORUN")" "" \
	"killed launcher: the remote worker is gone too"
is "$(bg_wait kill 20)" 0 "killed launcher: exit status 0" ||
	diag "$(cat kill.err)"
is "$(jpy kill.json '[len(R), sorted(r["id"] for r in R),
	sorted({r["status"] for r in R}), sorted({r["value"] for r in R})]')" \
	'[4, ["1", "2", "3", "4"], ["ok"], ["local\n"]]' \
	"killed launcher: one ok record per job, all ended on this machine"
is "$(jpy kill.json '[r["id"] for r in R if r.get("host") == "h1"]')" '[]' \
	"killed launcher: no record names h1"
like "$(cat kill.err)" '^corun: host lost: h1: ' \
	"killed launcher: standard error says the host is lost"
no_leftovers "no corun, launcher, worker or job is left"

done_testing
