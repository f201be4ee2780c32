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
done_testing
