#!/bin/sh
# remote_netns.sh: a remote host cut off by the network, as root. A network
# namespace joined to this one by a veth pair (a /30 of 10.251.0.0/16, so
# nothing leaves the pair) runs a throwaway sshd (tests/remote-lib.sh);
# corun -S 1/:,2/nsh reaches it with ssh. Once two jobs run there, the link
# is set down: no packet passes, no connection is closed, so only the
# heartbeats can tell. Then:
#  - the host is declared lost within --host-timeout + 1 s (measured from
#    the cut to corun's end; the limit is scaled, as every limit here);
#  - its two started jobs end on this machine (`:`): exactly one ok record
#    per job, none naming the lost host;
#  - the cut-off worker, hearing nothing from its parent for the host
#    timeout, kills its jobs: no job process and no worker is left in the
#    namespace (bounded wait: the jobs would sleep for 15 minutes).
# The namespace, the link, the user and sshd are removed on every exit
# path. Skipped (TAP SKIP) when not root or ip netns, a veth pair or sshd
# cannot be set up; the checks of -S are skipped while corun --help lists
# no --hosts.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"
# shellcheck source=tests/remote-lib.sh
. "$SRCDIR/tests/remote-lib.sh"

# The host timeout of the run (seconds): the worker gets it in the HELLO.
HT=2

remote_require /usr/sbin/sshd ssh ssh-keygen useradd userdel pgrep ip

# The namespace and the veth pair, with names of this run.
NS=corun-rt-$$
VA=crt$$a
VB=crt$$b
NET=10.251.$(($$ % 250)).$((($$ / 250) % 60 * 4))
A=${NET%.*}.$((${NET##*.} + 1))
B=${NET%.*}.$((${NET##*.} + 2))
ip netns add "$NS" 2>netns.err ||
	remote_skip "needs root and ip netns: $(head -n 1 netns.err)"
remote_on_exit "ip netns del $NS"
remote_on_exit "remote_kill_netns $NS"
ip link add "$VA" type veth peer name "$VB" 2>netns.err ||
	remote_skip "cannot make a veth pair: $(head -n 1 netns.err)"
remote_on_exit "ip link del $VA"
{
	ip link set "$VB" netns "$NS" &&
		ip addr add "$A/30" dev "$VA" &&
		ip link set "$VA" up &&
		ip -n "$NS" addr add "$B/30" dev "$VB" &&
		ip -n "$NS" link set "$VB" up &&
		ip -n "$NS" link set lo up
} 2>netns.err || remote_skip "cannot set up the link: $(head -n 1 netns.err)"

# Kill (KILL) every process of the namespace NS, by pid (at exit).
# shellcheck disable=SC2317 # called by remote_cleanup
remote_kill_netns() {
	# shellcheck disable=SC2046 # a list of pids
	kill -9 $(ip netns pids "$1") 2>/dev/null
}

chmod 711 "$T"
remote_stage_corun "$T/stage"
remote_user "$T/home"
remote_keys "$T/ssh"
remote_sshd "$T/ssh" "$B" 22 "$NS"
remote_ssh_config "$T/ssh" "$B" 22 nsh
SSH="ssh -F $T/ssh/ssh_config"

like "$(remote_within 10 nsh "id -un; ip netns identify" \
	2>&1)" "^$RUSER\$" "ssh across the veth pair logs in as the test user"

if ! "$CORUN" --help | grep -q -- '--hosts'; then
	skip "a host cut off by the network" "corun --help lists no --hosts"
	done_testing
fi

# This machine (one slot) holds its job until the test lets it go, so that
# nsh gets two; there (not root) a job would sleep for 15 minutes.
JOB="exec sh -c 'if [ \$(id -u) = 0 ]; then \
while [ ! -e $T/release ]; do sleep 0.05; done; echo local; \
else sleep $REMOTE_SLEEP; fi' $T/mark-{}"
bg_corun cut /dev/null cut.json cut.err --json -S 1/:,2/nsh \
	--host-timeout ${HT}s \
	--launcher "$SSH {host} $RCORUN --serve" \
	-c "$JOB" ::: 1 2 3
remote_wait_procs "$T/mark-" 2
is "$(remote_user_procs "$T/mark-" | wc -w)" 2 \
	"cut link: two jobs run in the namespace as the remote user"
t0=$(now)
ip link set "$VA" down
: >release
rc=$(bg_wait cut 30)
took=$(since "$t0")
is "$rc" 0 "cut link: exit status 0" || diag "$(cat cut.err)"
diag "from the cut to corun's end: $took s (--host-timeout ${HT}s)"
lt "$took" "$(scaled $((HT + 1)))" \
	"cut link: the host is lost within --host-timeout + 1 s (scaled)"
is "$(jpy cut.json '[len(R), sorted(r["id"] for r in R),
	sorted({r["status"] for r in R}), sorted({r["value"] for r in R})]')" \
	'[3, ["1", "2", "3"], ["ok"], ["local\n"]]' \
	"cut link: one ok record per job, all ended on this machine"
is "$(jpy cut.json '[r["id"] for r in R if r.get("host") == "nsh"]')" '[]' \
	"cut link: no record names the lost host"
like "$(cat cut.err)" '^corun: host lost: nsh: ' \
	"cut link: standard error says the host is lost"
i=0
max=$(remote_ticks $((HT + 3)))
while [ -n "$(remote_user_procs "$T/mark-")$(remote_user_procs "$RCORUN")" ] &&
	[ $i -lt "$max" ]; do
	sleep 0.05
	i=$((i + 1))
done
is "$(remote_user_procs "$T/mark-")" "" \
	"cut link: the cut-off worker killed its jobs" ||
	diag "$(ps -o pid,args -u "$RUSER")"
is "$(remote_user_procs "$RCORUN")" "" \
	"cut link: the cut-off worker is gone"
# Our sshd is the one process left with $T in its command line.
remote_stop "$SSHD_PID"
no_leftovers "no corun, launcher, worker or job is left"

done_testing
