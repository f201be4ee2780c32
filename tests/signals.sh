#!/bin/sh
# signals.sh: SIGINT and SIGTERM while every executor is busy (exec
# children, a pool thread, a process worker, loop timers): exit 130/143, a
# cancelled record for every job, a quick exit, and nothing left behind;
# SIGKILL after --grace for a child that ignores SIGTERM; a second signal
# during the grace period ends the run at once. A second signal kills
# every job at once and still writes their output; SIGHUP stops the run
# like SIGTERM unless ignored (nohup); SIGQUIT stops it without grace;
# SIGUSR1 prints a progress line. An inherited signal mask or SIG_IGN does
# not keep corun from reaping or from hearing signals.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# shellcheck source=tests/data/faults-lib.sh
. "$SRCDIR/tests/data/faults-lib.sh"

# bg_wait, waiting out the moment when NAME.rc exists but is still empty
# (lib.sh writes it with a plain redirection).
bg_status() {
	bs_rc=$(bg_wait "$1" "$2")
	if [ -z "$bs_rc" ]; then
		sleep 0.2
		bs_rc=$(cat "$1.rc")
	fi
	printf '%s\n' "$bs_rc"
}

# Print the pids of every descendant of pid $1 (children, their children...).
descendants() {
	ps -eo pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			want[root] = 1
			for (more = 1; more;) {
				more = 0
				for (p in parent)
					if (!(p in want) && (parent[p] in want)) {
						want[p] = 1
						more = 1
					}
			}
			for (p in want)
				if (p != root)
					print p
		}'
}

# Print "pid args" of each pid in the file $1 that still runs (not a zombie)
# with the same command line as recorded in $1.args.
survivors() {
	while read -r sv_pid; do
		sv_now=$(ps -o stat=,args= -p "$sv_pid" 2>/dev/null) || continue
		case $sv_now in Z*) continue ;; esac
		sv_then=$(awk -v p="$sv_pid" '$1 == p { $1 = ""; print }' "$1.args")
		case $sv_now in *"$sv_then"*) printf '%s %s\n' "$sv_pid" "$sv_now" ;; esac
	done <"$1"
}

# Remember corun's descendants (pid $1) in file $2 and their command lines.
snapshot() {
	descendants "$1" >"$2"
	: >"$2.args"
	while read -r sn_pid; do
		printf '%s %s\n' "$sn_pid" "$(ps -o args= -p "$sn_pid")" >>"$2.args"
	done <"$2"
}

# Wait up to 5 s (scaled) until a process has the string in its command
# line.
wait_proc() {
	wp_i=0
	wp_max=$(ticks 5)
	while [ -z "$(procs_with "$1")" ]; do
		[ $wp_i -ge "$wp_max" ] && return 1
		sleep 0.05
		wp_i=$((wp_i + 1))
	done
	return 0
}

# Wait up to 5 s (scaled) until pid $1 has at least $2 descendants running
# corun (the fork server and workers carry its command line); true if it
# has.
wait_workers() {
	ww_i=0
	ww_max=$(ticks 5)
	while :; do
		ww_n=0
		for ww_p in $(descendants "$1"); do
			case $(ps -o args= -p "$ww_p") in
			*"$CORUN_LINK"*) ww_n=$((ww_n + 1)) ;;
			esac
		done
		[ $ww_n -ge "$2" ] && return 0
		[ $ww_i -ge "$ww_max" ] && return 1
		sleep 0.05
		ww_i=$((ww_i + 1))
	done
}

# Pass when none of the snapshot's processes is left within a second
# (scaled).
none_left() {
	nl_i=0
	nl_max=$(ticks 1)
	while [ -n "$(survivors "$1")" ] && [ $nl_i -lt "$nl_max" ]; do
		sleep 0.05
		nl_i=$((nl_i + 1))
	done
	nl_left=$(survivors "$1")
	if [ -z "$nl_left" ]; then
		ok 0 "$2"
	else
		ok 1 "$2"
		diag "still running:" "$nl_left"
		return 1
	fi
}

# One run per signal, every executor busy.
for sig in INT TERM; do
	if [ $sig = INT ]; then want=130; else want=143; fi
	m="$T/mk$sig"
	ln -s "$(command -v sleep)" "$m"
	cat >busy.$sig.jobs <<EOF
id=e exec $m 31.5
id=s sh '$m 32.5 & $m 33.5; :'
id=q exec $m 34.5
id=b block 30
id=p spin 30s
id=l sleep 30
id=w after=l sleep 0
EOF
	bg_corun b$sig /dev/null busy.$sig.json busy.$sig.err --json -j 2 -P 1 \
		-T 1 --joblog busy.$sig.log busy.$sig.jobs
	wait_proc "$m 31.5" && wait_proc "$m 33.5"
	ok $? "SIG$sig: the children have started"
	wait_workers "$bg_pid" 2
	ok $? "SIG$sig: corun has a fork server and a worker"
	# Let the thread and the worker take their jobs.
	sleep 0.2
	snapshot "$bg_pid" desc.$sig
	sent=$(now)
	kill -$sig "$bg_pid"
	is "$(bg_status b$sig 20)" "$want" "SIG$sig: exit status $want"
	lt "$(since "$sent")" "$(bound 5 25)" "SIG$sig: corun exits quickly (not after 30 s)"
	is "$(jpy busy.$sig.json 'len(R), len({r["id"] for r in R})')" "[7, 7]" \
		"SIG$sig: one record per job"
	is "$(jpy busy.$sig.json '" ".join(sorted({r["status"] for r in R}))')" \
		cancelled "SIG$sig: every record is cancelled"
	jrec busy.$sig.json e signal=15 attempts=1 error='"cancelled"' \
		"SIG$sig: the exec child got SIGTERM"
	jrec busy.$sig.json q attempts=0 "SIG$sig: the queued exec never started"
	jrec busy.$sig.json w attempts=0 "SIG$sig: the waiting job never started"
	is "$(tail -n +2 busy.$sig.log | awk -F '\t' '$6 == "cancelled"' | wc -l |
		tr -d ' ')" 7 "SIG$sig: the job log has every job"
	gone "$m" "SIG$sig: no child, grandchild or queued child is left"
	none_left desc.$sig "SIG$sig: no fork server, worker or child of corun is left"
done

# A child that ignores SIGTERM is killed after --grace.
ln -s "$(command -v sleep)" "$T/mkign"
cat >ign.jobs <<EOF
id=i sh 'trap "" TERM; $T/mkign 35; :'
id=l sleep 30
EOF
bg_corun ign /dev/null ign.json ign.err --json --grace 0.7 ign.jobs
wait_proc "$T/mkign 35"
ok $? "grace: the child has started"
snapshot "$bg_pid" desc.ign
sent=$(now)
kill -TERM "$bg_pid"
is "$(bg_status ign 20)" 143 "grace: exit status 143"
el=$(since "$sent")
check "grace: corun waited for the grace period ($el s)" num_lt 0.6 "$el"
lt "$el" "$(bound 5 25)" "grace: ...and not much longer"
jrec ign.json i status='"cancelled"' signal=9 \
	"grace: the child ignoring SIGTERM ends with SIGKILL"
jrec ign.json l status='"cancelled"' "grace: the other job is cancelled"
gone "$T/mkign" "grace: the child is gone"
none_left desc.ign "grace: nothing of corun is left"

# A second signal during the grace period: out at once, every record written.
ln -s "$(command -v sleep)" "$T/mktwo"
cat >two.jobs <<EOF
id=i sh 'trap "" TERM; $T/mktwo 36; :'
id=i2 sh 'trap "" TERM INT; $T/mktwo 37; :'
id=b block 30
id=p spin 30s
id=l sleep 30
id=q after=l sleep 0
EOF
bg_corun two /dev/null two.json two.err --json --grace 10s -P 1 two.jobs
wait_proc "$T/mktwo 36" && wait_proc "$T/mktwo 37" &&
	wait_workers "$bg_pid" 2
ok $? "second signal: the children and the worker have started"
sleep 0.2
snapshot "$bg_pid" desc.two
kill -TERM "$bg_pid"
sleep 0.5
check "second signal: after the first, corun waits for the grace period" \
	test ! -e two.rc
sent=$(now)
kill -INT "$bg_pid"
is "$(bg_status two 20)" 143 "second signal: exit status of the first signal (143)"
lt "$(since "$sent")" "$(bound 3 9)" "second signal: corun exits at once (grace was 10 s)"
is "$(jpy two.json 'len(R), len({r["id"] for r in R})')" "[6, 6]" \
	"second signal: one record per job"
is "$(jpy two.json '" ".join(sorted({r["status"] for r in R}))')" cancelled \
	"second signal: every record is cancelled"
gone "$T/mktwo" "second signal: the children ignoring SIGTERM are gone"
none_left desc.two "second signal: no fork server, worker or child is left"

# Two SIGTERMs, as GNU timeout sends (to corun, then to its group): every
# job is killed at once, and each record still has the output its job
# printed.
ln -s "$(command -v sleep)" "$T/mkto"
i=0
while [ $i -lt 60 ]; do
	echo "id=t$i sh 'echo out$i; : >to.$i; $T/mkto 30'"
	i=$((i + 1))
done >to.jobs
bg_corun to /dev/null to.json to.err --json -j60 --grace 30 to.jobs
# shellcheck disable=SC2016
check "timeout's two SIGTERMs: the 60 jobs have printed" \
	within 20 sh -c '[ "$(ls | grep -c "^to\.[0-9]")" -ge 60 ]'
kill -TERM "$bg_pid"
kill -TERM "$bg_pid"
is "$(bg_status to 20)" 143 "timeout's two SIGTERMs: exit status 143"
is "$(jpy to.json 'len(R), sum(r["value"] == "out%s\n" % r["id"][1:]
	and r["status"] == "cancelled" for r in R)')" "[60, 60]" \
	"timeout's two SIGTERMs: 60 cancelled records, each with its job's output"
gone "$T/mkto" "timeout's two SIGTERMs: no child is left"

# SIGHUP (the terminal closed): a graceful stop like SIGTERM, status 129.
ln -s "$(command -v sleep)" "$T/mkhup"
printf "id=h exec %s 30\nid=l sleep 30\n" "$T/mkhup" >hup.jobs
bg_corun hup /dev/null hup.json hup.err --json hup.jobs
wait_proc "$T/mkhup 30"
ok $? "SIGHUP: the child has started"
kill -HUP "$bg_pid"
is "$(bg_status hup 20)" 129 "SIGHUP: exit status 129"
jrec hup.json h status='"cancelled"' signal=15 \
	"SIGHUP: the child got SIGTERM, its record is written"
jrec hup.json l status='"cancelled"' "SIGHUP: the sleep is cancelled"

# SIGHUP ignored (nohup): it stays ignored; SIGUSR1 prints a progress line
# (pending signals are handled in the order of their numbers: HUP first).
bg_pre nohup /dev/null nohup.json nohup.err : \
	"$PY $SD/sigstate.py ignore HUP --" --json hup.jobs
wait_proc "$T/mkhup 30"
ok $? "nohup: the child has started"
kill -HUP "$bg_pid"
kill -USR1 "$bg_pid"
check "SIGUSR1: a progress line on standard error" \
	within 5 grep -q "2 read, 2 not final (running: loop 2, thread 0, process 0), 0 not ok" nohup.err
check "nohup: SIGHUP is ignored, corun goes on" test ! -e nohup.rc
check "SIGUSR1: corun goes on" test ! -s nohup.json
kill -TERM "$bg_pid"
is "$(bg_status nohup 20)" 143 "nohup: SIGTERM still stops it (143)"
is "$(jpy nohup.json 'len(R)')" 2 "nohup: every record is written"

# SIGQUIT: a stop without --grace that still writes every record whole,
# with what the jobs printed; exit status 131.
ln -s "$(command -v sleep)" "$T/mkquit"
cat >quit.jobs <<EOF
id=i sh 'trap "" TERM; echo before; : >quit.ran; $T/mkquit 30; :'
id=b block 30
id=l sleep 30
EOF
bg_corun quit /dev/null quit.json quit.err --json --grace 30 -T1 quit.jobs
check "SIGQUIT: the job has printed" within 10 test -e quit.ran
sent=$(now)
kill -QUIT "$bg_pid"
is "$(bg_status quit 20)" 131 "SIGQUIT: exit status 131"
lt "$(since "$sent")" 5 "SIGQUIT: corun does not wait for --grace (30 s)"
jrec quit.json i status='"cancelled"' signal=9 value='"before\n"' \
	"SIGQUIT: the child ignoring SIGTERM is killed, its output kept"
is "$(jpy quit.json 'len(R), sorted({r["status"] for r in R})')" \
	'[3, ["cancelled"]]' "SIGQUIT: every record is written"
gone "$T/mkquit" "SIGQUIT: the child is gone"

# A signal state inherited from the parent (it survives exec): SIGCHLD,
# SIGINT, SIGTERM, SIGHUP and SIGQUIT blocked, or ignored. corun still
# reaps its children and hears signals; the children get an empty mask
# and default dispositions all the same.
printf '%s\n' "id=a exec true" "id=b sh 'echo hi'" "id=c primes 10" \
	"id=m exec grep -E ^Sig(Blk|Ign) /proc/self/status" >inh.jobs
for how in block ignore; do
	timeout -k 3 20 "$PY" "$SD/sigstate.py" $how CHLD,INT,TERM,HUP,QUIT \
		-- "$CORUN_LINK" --json inh.jobs >inh.$how.json 2>inh.$how.err
	is "$?" 0 "signals $how at start: corun finishes (exit status 0)"
	is "$(jpy inh.$how.json 'sorted((r["id"], r["status"]) for r in R)')" \
		'[["a", "ok"], ["b", "ok"], ["c", "ok"], ["m", "ok"]]' \
		"signals $how at start: every job runs and ends ok"
	# (glibc's posix_spawn ignores its own signals 32 and 33 in a child:
	# the standard ones, 1 to 31, are the low 31 bits.)
	is "$(jpy inh.$how.json '[int(v, 16) & 0x7fffffff for v in
		[r["value"].split() for r in R if r["id"] == "m"][0][1::2]]')" \
		'[0, 0]' \
		"signals $how at start: a child has none blocked or ignored"
	ln -s "$(command -v sleep)" "$T/mkinh$how"
	printf "id=w exec %s 30\n" "$T/mkinh$how" >inh2.jobs
	bg_pre inh$how /dev/null inh2.$how.json inh2.$how.err : \
		"$PY $SD/sigstate.py $how CHLD,INT,TERM,HUP,QUIT --" --json inh2.jobs
	wait_proc "$T/mkinh$how 30"
	ok $? "signals $how at start: the child has started"
	kill -TERM "$bg_pid"
	is "$(bg_status inh$how 20)" 143 \
		"signals $how at start: SIGTERM stops corun (143)"
	jrec inh2.$how.json w status='"cancelled"' signal=15 \
		"signals $how at start: the child got SIGTERM"
done

no_leftovers "no process left behind"
done_testing
