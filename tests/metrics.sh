#!/bin/sh
# metrics.sh: where a job's time went (the queued and start fields of
# records and of the job log, queue-time percentiles in --stats) and live
# metrics (--metrics FILE, --metrics-addr), corun(1), METRICS.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# --- queued and start --------------------------------------------------------

# With -j 1, b waits behind a's sleep 1 before it starts; c never starts.
cat >q.jobs <<'EOF2'
id=a exec sleep 1
id=b exec true
id=c after=b sh 'exit 0'
id=f sh 'exit 3'
id=s after=f exec true
EOF2
t0=$(date +%s)
corun --json -j 1 --joblog q.log q.jobs >q.json 2>q.err </dev/null
is "$?" 1 "queued: exit status 1 (f fails, s is skipped)"
is "$("$PY" "$JQ" schema q.json)" "" "queued: the records follow the record rules"
is "$(jpy q.json '[k for k in R[0] if k in ("attempts", "queued", "start", "elapsed")]')" \
	'["attempts", "queued", "start", "elapsed"]' \
	"JSON: queued and start come between attempts and elapsed"
check "a job held back by -j 1 behind a sleep 1 has queued >= 0.9" \
	test "$(jpy q.json 'by["b"]["queued"] >= 0.9')" = true
check "the job that started at once has queued < 0.5" \
	test "$(jpy q.json 'by["a"]["queued"] < 0.5')" = true
is "$(jpy q.json '[by["s"]["queued"], by["s"]["start"]]')" "[null, null]" \
	"a job that never started: queued and start are null"
like "$(jget q.json b start)" '^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"$' \
	"start: RFC 3339, UTC, six decimals"
# start is the wall-clock time: b starts about when a ends.
check "start: a's start is the time of the run, b starts after a ended" \
	"$PY" -c '
import datetime, json, sys
R = {r["id"]: r for r in map(json.loads, open("q.json"))}
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
    tzinfo=datetime.timezone.utc).timestamp()
a, b = t(R["a"]["start"]), t(R["b"]["start"])
t0 = float(sys.argv[1])
sys.exit(not (t0 - 1 <= a <= t0 + 30 and b >= a + R["a"]["elapsed"] - 0.01))
' "$t0"

# The job log gains queued, last.
is "$(head -n 1 q.log | awk -F '\t' '{ print NF, $13 }')" "13 queued" \
	"--joblog: queued is the 13th and last field of the header"
is "$(awk -F '\t' 'NR > 1 && NF != 13' q.log)" "" "--joblog: 13 fields per line"
check "--joblog: b's queued >= 0.9" \
	awk -F '\t' '$1 == "b" { found = 1; ok = $13 >= 0.9 } END { exit !(found && ok) }' q.log
is "$(awk -F '\t' '$1 == "s" { print $8, $13 }' q.log)" "- -" \
	"--joblog: a job that never started has no start and no queued"
like "$(awk -F '\t' '$1 == "a" { print $13 }' q.log)" '^[0-9]+\.[0-9]{3}$' \
	"--joblog: queued with three decimals"

# --resume reads logs with 13 fields, 12 (before queued) and 11 (before job).
printf 'id\tseq\tsource\tkind\texecutor\tstatus\tattempts\tstart\telapsed\texit\tsignal\tjob\n' >old.log
printf 'x\t1\tr.jobs:1\tsh\tloop\tok\t1\t1.000\t0.001\t0\t-\tsh '"'"'echo >>x.runs'"'"'\n' >>old.log
printf 'y\t2\tr.jobs:2\tsh\tloop\tok\t1\t1.000\t0.001\t0\t-\n' >>old.log
cat >r.jobs <<'EOF2'
id=x sh 'echo >>x.runs'
id=y sh 'echo >>y.runs'
id=z sh 'echo >>z.runs'
EOF2
corun --joblog old.log --resume r.jobs >r1.out 2>&1 </dev/null
is "$?" 0 "--resume with an old log: exit status 0"
is "$(cat x.runs y.runs z.runs 2>/dev/null | wc -l | tr -d ' ')" 1 \
	"--resume: 12-field and 11-field lines still count; only z runs"
corun --joblog old.log --resume r.jobs >r2.out 2>&1 </dev/null
is "$(cat z.runs | wc -l | tr -d ' ')" 1 \
	"--resume: a 13-field line appended to an old log counts too"

# --stats: queue-time percentiles next to the run-time ones.
corun --stats -j 1 q.jobs >st.out 2>st.err </dev/null
like "$(cat st.err)" '^  queued +loop +4 ' \
	"--stats: a queued line for the 4 loop jobs that started"
check "--stats: the queued p90 of the loop is 0.9 s or more" \
	awk '$1 == "queued" && $2 == "loop" { found = 1;
		v = $5; s = v; sub(/[a-z]+$/, "", s); u = substr(v, length(s) + 1)
		ok = (u == "s" && s + 0 >= 0.9) || u == "m" }
		END { exit !(found && ok) }' st.err

done_testing
