#!/bin/sh
# crash.sh: corun killed with SIGKILL (it can clean nothing up itself).
# Its fork server notices and takes down the workers and the process groups
# of the exec and sh children still running, so nothing outlives corun.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

cat >k.jobs <<'EOF2'
exec sleep 61.25
sh "sleep 62.25; :"
sh "sleep 63.25 & wait"
spin 30s
EOF2
bg_corun k /dev/null k.out k.err -P1 -j4 k.jobs
i=0
max=$(ticks 5)
while [ $i -lt "$max" ]; do
	[ -n "$(procs_with 'sleep 61.25')" ] && [ -n "$(procs_with 'sleep 62.25')" ] &&
		[ -n "$(procs_with 'sleep 63.25')" ] && break
	sleep 0.05
	i=$((i + 1))
done
ok $((i < max ? 0 : 1)) "the children are running"
kill -9 "$bg_pid"
gone "sleep 61.25" "kill -9 of corun: an exec child is gone"
gone "sleep 62.25" "kill -9 of corun: an sh child is gone"
gone "sleep 63.25" "kill -9 of corun: a grandchild in the job's group is gone"
no_leftovers "kill -9 of corun: no fork server or worker is left"

# The fork server killed first: the watchdog forked with it takes over its
# watch (threads run by then: -T2 and a thread job), so a kill -9 of corun
# right after still leaves nothing behind.
cat >f.jobs <<'EOF2'
exec sleep 71.25
sh "sleep 72.25; :"
sh "sleep 73.25 & wait"
block 30
EOF2
bg_corun f /dev/null f.out f.err -T2 -P1 -j4 f.jobs
i=0
while [ $i -lt 100 ]; do
	[ -n "$(procs_with 'sleep 71.25')" ] && [ -n "$(procs_with 'sleep 72.25')" ] &&
		[ -n "$(procs_with 'sleep 73.25')" ] && break
	sleep 0.05
	i=$((i + 1))
done
ok $((i < 100 ? 0 : 1)) "the children are running"
ps -o pid=,comm=,args= --ppid "$bg_pid" >f.ps
fs=$(awk '$2 != "corun-watchdog" && /corun-itest/ { print $1 }' f.ps)
is "$(printf '%s\n' "$fs" | grep -c .)" 1 "the fork server is found"
is "$(awk '$2 == "corun-watchdog"' f.ps | grep -c .)" 1 \
	"a watchdog waits beside it"
kill -9 $fs
kill -9 "$bg_pid"
gone "sleep 71.25" "kill -9 of the fork server, then of corun: an exec child is gone"
gone "sleep 72.25" "kill -9 of the fork server, then of corun: an sh child is gone"
gone "sleep 73.25" "kill -9 of the fork server, then of corun: a grandchild is gone"
no_leftovers "kill -9 of the fork server, then of corun: nothing is left"
done_testing
