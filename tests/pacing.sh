#!/bin/sh
# pacing.sh: when jobs may start and when the run must end, corun(1),
# "Pacing": --rate (the run's and a group's), --delay, -j's relative
# forms and 0, --load, --memfree, --deadline, and jobs of several groups
# (group=a,b), which must never deadlock. Rates are measured from the
# start times the records give, with a tolerance for a busy machine.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# starts.py FILE N DUR [ID-PREFIX]: the first start times of the records
# (of the jobs whose id starts with the prefix), checked against "at most N
# starts in any window of DUR": prints the smallest gap between a start and
# the Nth start after it ("gap"), and the span from first to last start.
cat >starts.py <<'EOF2'
import datetime, json, sys
path, n, dur = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
pre = sys.argv[4] if len(sys.argv) > 4 else ""
def t(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
st = sorted(t(r["start"]) for r in map(json.loads, open(path))
            if r["id"].startswith(pre) and r["start"] is not None)
gap = min((st[i + n] - st[i] for i in range(len(st) - n)), default=dur)
print("%d %.3f %.3f" % (len(st), gap, st[-1] - st[0]))
EOF2

# --- --rate ---------------------------------------------------------------

# 15 jobs at 5 per second: 5 at once, then 5 a second later, 5 more after.
i=0
: >rate.jobs
while [ $i -lt 15 ]; do
	i=$((i + 1))
	echo "id=r$i sleep 0" >>rate.jobs
done
corun --json --rate 5/1s rate.jobs >rate.json 2>rate.err
is "$?" 0 "--rate 5/1s: every job ok"
set -- $("$PY" starts.py rate.json 5 1)
is "$1" 15 "--rate 5/1s: 15 starts"
check "--rate 5/1s: no 6 starts within a second (smallest gap $2 s)" \
	awk -v g="$2" 'BEGIN { exit !(g >= 0.98) }'
check "--rate 5/1s: the 15 starts span two seconds, not more than $(scaled 3) ($3 s)" \
	awk -v s="$3" -v m="$(scaled 3)" 'BEGIN { exit !(s >= 1.98 && s < m) }'
# The same jobs without a rate start together: the check above can fail.
corun --json rate.jobs >norate.json 2>&1
set -- $("$PY" starts.py norate.json 5 1)
check "without --rate the same jobs start within $(bound 0.5 0.9) s" \
	awk -v g="$2" -v b="$(bound 0.5 0.9)" 'BEGIN { exit !(g < b) }'

# A group's rate holds its jobs only; the run's rate and a group's both
# hold. 6 jobs of g at 3 per second, 6 others at once.
: >grate.jobs
i=0
while [ $i -lt 6 ]; do
	i=$((i + 1))
	echo "id=g$i group=g sleep 0" >>grate.jobs
	echo "id=o$i sleep 0" >>grate.jobs
done
corun --json --rate g=3/1s grate.jobs >grate.json 2>grate.err
is "$?" 0 "--rate g=3/1s: every job ok"
set -- $("$PY" starts.py grate.json 3 1 g)
check "--rate g=3/1s: no 4 starts of g within a second (gap $2 s)" \
	awk -v g="$2" 'BEGIN { exit !(g >= 0.98) }'
set -- $("$PY" starts.py grate.json 5 1 o)
check "--rate g=3/1s: the other jobs are not held back (gap $2 s)" \
	awk -v g="$2" -v b="$(bound 0.5 0.9)" 'BEGIN { exit !(g < b) }'

# A retry's start counts: at 2 per second, 4 attempts need a second.
echo 'id=f retries=3 backoff=1ms sh "exit 1"' >retry.jobs
corun --json --rate 2/1s retry.jobs >retry.json 2>retry.err
is "$(jpy retry.json 'by["f"]["attempts"]')" 4 "--rate: the job made 4 attempts"
check "--rate 2/1s: 4 attempts take a second at least (retries count)" \
	test "$(jpy retry.json 'by["f"]["elapsed"] >= 0.95')" = true

# --- --delay --------------------------------------------------------------

printf 'id=d1 sleep 0\nid=d2 sleep 0\nid=d3 sleep 0\nid=d4 sleep 0\n' >delay.jobs
corun --json --delay 300ms delay.jobs >delay.json 2>delay.err
is "$?" 0 "--delay: every job ok"
set -- $("$PY" starts.py delay.json 1 0.3)
check "--delay 300ms: starts at least 0.3 s apart (smallest gap $2 s)" \
	awk -v g="$2" 'BEGIN { exit !(g >= 0.295) }'

# --- -j's forms -----------------------------------------------------------

cpus=$(getconf _NPROCESSORS_ONLN)
# The largest job slot in use when each job waits (up to 10 s, a hang
# detector) until N jobs have started: -j N lets exactly N run at once, so
# slot N is reached however slowly children start, and none above it.
cat >barrier.sh <<'EOF2'
touch "bar/$2"
i=0
while [ "$(ls bar | wc -l)" -lt "$1" ] && [ $i -lt 500 ]; do
	sleep 0.02
	i=$((i + 1))
done
echo "$CORUN_SLOT"
EOF2
jslots() {
	rm -rf bar && mkdir bar
	corun -j "$1" -c "exec sh $T/barrier.sh $2 {}" ::: $(seq $(($2 + 3))) \
		2>jslot.err |
		"$PY" -c 'import sys; print(max(int(l) for l in sys.stdin))'
}
n=$((cpus / 2 > 0 ? cpus / 2 : 1))
is "$(jslots 50% $n)" $n "-j 50%: half the CPUs"
is "$(jslots +1 $((cpus + 1)))" $((cpus + 1)) "-j +1: one more than the CPUs"
n=$((cpus > 1 ? cpus - 1 : 1))
is "$(jslots -1 $n)" $n "-j -1: one fewer, at least 1"
is "$(jslots 200% $((cpus * 2)))" $((cpus * 2)) "-j 200%: twice the CPUs"
check "-j 0: of 23 jobs, 20 run at once at least (no limit of its own)" \
	test "$(jslots 0 20)" -ge 20
is "$(seq 100000 | corun --pipe -j 0 --block 10K -c 'wc -l' |
	awk '{ s += $1 } END { print s }')" 100000 \
	"-j 0 with --pipe: every block is counted once"
for bad in 1.5 abc 5%x +1% '' -1.5 0x10; do
	corun -j "$bad" -c true ::: a >/dev/null 2>jbad.err
	is "$?" 2 "-j '$bad' is a usage error"
done

# --- --load and --memfree -------------------------------------------------

# A fake /proc: no job starts while its load average is over --load.
mkdir proc
echo '9.00 9.00 9.00 1/100 1000' >proc/loadavg
printf 'MemTotal:       8000000 kB\nMemAvailable:     100000 kB\n' >proc/meminfo
# held ID DESC FILE TEXT OPTION...: job ID, run with OPTION... while the
# fake /proc holds it back, has not started 1.5 s later (a corun that
# ignored the option starts it at once); once proc/FILE holds TEXT it
# runs, and its record's queued covers the wait.
held() {
	h_id=$1 h_desc=$2 h_file=$3 h_text=$4
	shift 4
	echo "id=$h_id exec touch $h_id.started" >"$h_id.jobs"
	CORUN_TEST_PROC=$T/proc bg_corun "$h_id" /dev/null "$h_id.json" \
		"$h_id.err" --json "$@" "$h_id.jobs"
	sleep 1.5
	check "$h_desc: the job does not start" test ! -e "$h_id.started"
	printf "$h_text" >"proc/$h_file"
	is "$(bg_wait "$h_id" 20)" 0 "$h_desc: the job ran once it could"
	check "$h_desc: the record's queued covers the wait" \
		test "$(jpy "$h_id.json" "by['$h_id']['queued'] >= 1.4")" = true
}
held l "--load 2, load average 9" loadavg '0.50 1.00 1.00 1/100 1000\n' \
	--load 2
held m "--memfree 1G, 100000 kB available" meminfo \
	'MemTotal:       8000000 kB\nMemAvailable:    2000000 kB\n' --memfree 1G

# (With the fake /proc: the machine's own load may be anything.)
CORUN_TEST_PROC=$T/proc corun --load 100% --memfree 1K -c true ::: a \
	>/dev/null 2>lm.err
is "$?" 0 "--load 100% and --memfree 1K are taken"
corun --load x -c true ::: a >/dev/null 2>lm.err
is "$?" 2 "--load x is a usage error"
for bad in 5 5/ /1s 0/1s 5/0 5/-1s g=5 =5/1s 'a b=1/1s'; do
	corun --rate "$bad" -c true ::: a >/dev/null 2>rbad.err
	is "$?" 2 "--rate '$bad' is a usage error"
done
corun --rate 1/1s --rate 2/1s -c true ::: a >/dev/null 2>rbad.err
is "$?" 2 "--rate: the run's rate given twice is a usage error"

# --- --deadline -----------------------------------------------------------

cat >dl.jobs <<'EOF2'
id=fast sleep 0
id=timer sleep 30
id=child exec sleep 30
id=q1 exec sleep 30
id=q2 exec sleep 30
id=back retries=5 backoff=30s sh 'exit 1'
id=wait after=timer sleep 0
EOF2
wall dl.wall corun --json -j 1 --deadline 1s --grace 5s dl.jobs >dl.json 2>dl.err
is "$?" 1 "--deadline: exit status 1"
is "$(jpy dl.json '[r["id"] + ":" + r["status"] for r in R if r["id"] == "fast"]')" \
	'["fast:ok"]' "--deadline: a job that ended before it is ok"
is "$(jpy dl.json 'sorted(r["id"] for r in R if r["status"] == "cancelled" and r["error"] == "run deadline")')" \
	'["back", "child", "q1", "q2", "timer", "wait"]' \
	"--deadline: every other job is cancelled, error 'run deadline'"
is "$(jpy dl.json 'by["child"]["signal"]')" 15 \
	"--deadline: a running child gets SIGTERM (--grace)"
check "--deadline 1s: the run ends within $(bound 4 20) s ($(cat dl.wall) s)" \
	num_lt "$(cat dl.wall)" "$(bound 4 20)"

# A stream: input is no longer read.
(
	echo 'id=s1 sleep 0'
	sleep 30
) | corun --json --deadline 1s >dls.json 2>dls.err &
dls=$!
bg_track $dls
i=0
while kill -0 $dls 2>/dev/null && [ $i -lt "$(ticks 10)" ]; do
	sleep 0.05
	i=$((i + 1))
done
check "--deadline: a run reading a silent stream ends" test $i -lt "$(ticks 10)"
wait $dls
is "$?" 1 "--deadline on a stream: exit status 1"
is "$(jpy dls.json '[r["status"] for r in R]')" '["ok"]' \
	"--deadline on a stream: the job read is ok"

corun --json --deadline 30s rate.jobs >dlok.json 2>&1
is "$?" 0 "--deadline not reached: exit status 0"

# --- group=a,b --------------------------------------------------------------

# Jobs in several groups, randomly: each starts only with room in all of
# them, the run never deadlocks, and no group ever has more jobs running
# than its --limit (from the records' start and elapsed).
"$PY" - >multi.jobs <<'EOF2'
import random
random.seed(14)
for i in range(300):
    gs = random.sample("abcd", random.randint(1, 3))
    print("id=j%d group=%s sleep %.3f" % (i, ",".join(gs),
                                           random.uniform(0.02, 0.06)))
EOF2
cat >overlap.py <<'EOF2'
import datetime, json, sys
lim = dict(kv.split("=") for kv in sys.argv[2:])
def t(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
groups = {l.split()[0][3:]: l.split()[1][6:].split(",")
          for l in open("multi.jobs")}
ev = []
for r in map(json.loads, open(sys.argv[1])):
    s = t(r["start"])
    # 1 ms in from each end: a start at the instant another job ended is
    # not an overlap.
    ev += [(s + 0.001, 1, r["id"]), (s + r["elapsed"] - 0.001, -1, r["id"])]
run = {g: 0 for g in lim}
worst = {g: 0 for g in lim}
for _, d, i in sorted(ev):
    for g in groups[i]:
        if g in run:
            run[g] += d
            worst[g] = max(worst[g], run[g])
print(" ".join("%s=%d" % (g, worst[g]) for g in sorted(worst)))
EOF2
corun_within 60 --json -j 8 --limit a=2 --limit b=1 --limit c=3 --limit d=2 \
	multi.jobs >multi.json 2>multi.err
is "$?" 0 "group=a,b: 300 jobs of random groups all end (no deadlock)"
is "$(jpy multi.json 'sorted(set(r["status"] for r in R))')" '["ok"]' \
	"group=a,b: every job ok"
is "$("$PY" overlap.py multi.json a=2 b=1 c=3 d=2)" "a=2 b=1 c=3 d=2" \
	"group=a,b: no group ever ran more jobs than its --limit, each reached it"
# The same jobs with a rate on one group and a limit on the others.
corun_within 60 --json -j 8 --limit a=2 --limit b=1 --rate c=30/1s \
	multi.jobs >multi2.json 2>multi2.err
is "$?" 0 "group=a,b with --rate c=30/1s: every job ends"
set -- $("$PY" - <<'EOF2'
import datetime, json
def t(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
groups = {l.split()[0][3:]: l.split()[1][6:].split(",")
          for l in open("multi.jobs")}
st = sorted(t(r["start"]) for r in map(json.loads, open("multi2.json"))
            if "c" in groups[r["id"]])
print(len(st), "%.3f" % min(st[i + 30] - st[i] for i in range(len(st) - 30)))
EOF2
)
check "--rate c=30/1s: no 31 starts of c's $1 jobs within a second ($2 s)" \
	awk -v g="$2" 'BEGIN { exit !(g >= 0.98) }'
is "$("$PY" overlap.py multi2.json a=2 b=1)" "a=2 b=1" \
	"group=a,b with a rate: the limits still hold"

# A job waiting for a group that another job's other group blocks: b's
# job waits for a, a's job for nothing; both end.
printf 'id=x group=a,b sleep 0.3\nid=y group=b sleep 0.1\nid=z group=a sleep 0.1\n' >ab.jobs
corun_within 20 --json --limit a=1 --limit b=1 ab.jobs >ab.json 2>ab.err
is "$?" 0 "group=a,b: overlapping jobs all end ok"

# Room is never left unused: z, let back by a when y ends, finds b full
# and waits there; a lets w go at once instead of when x ends.
printf 'id=x group=b sleep 1.5\nid=y group=a sleep 0.2\nid=z group=a,b sleep 0\nid=w group=a sleep 0\n' >room.jobs
corun_within 20 --json --limit a=1 --limit b=1 room.jobs >room.json 2>room.err
is "$?" 0 "group=a,b: the jobs end ok"
check "group=a,b: w starts when y ends, not when x does ($(jpy room.json 'by["w"]["queued"]') s)" \
	test "$(jpy room.json '0.15 <= by["w"]["queued"] < 1.2')" = true
check "group=a,b: z starts when x ends" \
	test "$(jpy room.json 'by["z"]["queued"] >= 1.4')" = true

# Parse errors name the line.
printf 'sleep 0\ngroup=a,a sleep 0\ngroup=a, sleep 0\ngroup=,a sleep 0\n' >gbad.jobs
corun gbad.jobs >/dev/null 2>gbad.err
is "$?" 2 "group= errors: exit status 2"
contains "$(cat gbad.err)" "gbad.jobs:2: group 'a' named twice" \
	"group=a,a: named twice, with FILE:LINE"
contains "$(cat gbad.err)" "gbad.jobs:3: bad group 'a,'" "group=a,: bad group"
contains "$(cat gbad.err)" "gbad.jobs:4: bad group ',a'" "group=,a: bad group"
printf 'group=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q sleep 0\n' >g17.jobs
corun g17.jobs >/dev/null 2>g17.err
contains "$(cat g17.err)" "more than 16 groups" "group=: at most 16 groups"

done_testing
