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

# The job log gains queued, then host (corun -S), last.
is "$(head -n 1 q.log | awk -F '\t' '{ print NF, $13, $14 }')" "14 queued host" \
	"--joblog: queued is the 13th field of the header, host the 14th and last"
is "$(awk -F '\t' 'NR > 1 && NF != 14' q.log)" "" "--joblog: 14 fields per line"
is "$(awk -F '\t' 'NR > 1 && $14 != "-"' q.log)" "" \
	"--joblog: a job run here has host -"
check "--joblog: b's queued >= 0.9" \
	awk -F '\t' '$1 == "b" { found = 1; ok = $13 >= 0.9 } END { exit !(found && ok) }' q.log
is "$(awk -F '\t' '$1 == "s" { print $8, $13 }' q.log)" "- -" \
	"--joblog: a job that never started has no start and no queued"
like "$(awk -F '\t' '$1 == "a" { print $13 }' q.log)" '^[0-9]+\.[0-9]{3}$' \
	"--joblog: queued with three decimals"

# --resume reads logs with 14 fields, 13 (before host), 12 (before queued)
# and 11 (before job).
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
	"--resume: a 14-field line appended to an old log counts too"

# --stats: queue-time percentiles next to the run-time ones.
corun --stats -j 1 q.jobs >st.out 2>st.err </dev/null
like "$(cat st.err)" '^  queued +loop +4 ' \
	"--stats: a queued line for the 4 loop jobs that started"
check "--stats: the queued p90 of the loop is 0.9 s or more" \
	awk '$1 == "queued" && $2 == "loop" { found = 1;
		v = $5; s = v; sub(/[a-z]+$/, "", s); u = substr(v, length(s) + 1)
		ok = (u == "s" && s + 0 >= 0.9) || u == "m" }
		END { exit !(found && ok) }' st.err

# --- --metrics FILE ----------------------------------------------------------

# metric FILE NAME{LABELS}: the value of one series of an exposition.
metric() {
	awk -v k="$2" '$1 == k { print $2; n++ } END { exit n != 1 }' "$1"
}

# promtool_check FILE DESC: promtool check metrics passes on FILE.
promtool_check() {
	if ! command -v promtool >/dev/null 2>&1; then
		skip "$2" "promtool is not installed (Debian: prometheus)"
		return
	fi
	promtool check metrics <"$1" >"$1.lint" 2>&1
	ok $? "$2" || diag "$(head -n 20 "$1.lint")"
}

cat >m.jobs <<'EOF2'
id=a exec echo hi
id=b sh 'exit 2'
id=c retries=2 backoff=10ms sh 'exit 1'
id=d after=b exec true
id=e primes 100
id=t timeout=0.1 sleep 5
frob
id=s sleep 0.2
EOF2
corun --json --metrics m.prom --metrics-interval 50ms <m.jobs >m.json 2>m.err
is "$?" 1 "--metrics: exit status 1 (some jobs fail)"
is "$(cat m.err)" "" "--metrics: nothing on stderr"
promtool_check m.prom "--metrics: promtool check metrics passes on the file"
is "$(metric m.prom corun_jobs_read_total)" 8 "--metrics: jobs read"
for st in ok failed timeout cancelled skipped error; do
	n=$(jpy m.json "sum(r['status'] == '$st' for r in R)")
	is "$(awk -v s="status=\"$st\"}" 'index($1, "corun_jobs_finished_total{") == 1 &&
		substr($1, length($1) - length(s) + 1) == s { t += $2 }
		END { print t + 0 }' m.prom)" "$n" \
		"--metrics: jobs finished $st ($n) agrees with the records"
done
is "$(metric m.prom 'corun_jobs_finished_total{kind="sh",status="failed"}')" 2 \
	"--metrics: finished by kind and state (two sh jobs failed)"
is "$(metric m.prom 'corun_jobs_finished_total{kind="none",status="error"}')" 1 \
	"--metrics: a line of no known kind counts as kind none"
is "$(metric m.prom corun_retries_total)" 2 "--metrics: retries"
is "$(metric m.prom corun_output_bytes_total)" "$(wc -c <m.json | tr -d ' ')" \
	"--metrics: output bytes are the bytes of the records"
is "$(metric m.prom 'corun_job_duration_seconds_count{executor="loop"}')" \
	"$(jpy m.json 'sum(r["executor"] == "loop" and r["start"] is not None for r in R)')" \
	"--metrics: the duration histogram counts every loop job that started"
is "$(metric m.prom 'corun_job_duration_seconds_bucket{executor="process",le="+Inf"}')" 1 \
	"--metrics: one process job in the duration histogram"
is "$(metric m.prom 'corun_job_queue_seconds_count{executor="process"}')" 1 \
	"--metrics: one process job in the queue-time histogram"
check "--metrics: the loop lag is sampled" \
	awk '$1 == "corun_loop_lag_seconds_count" { exit !($2 > 0) }' m.prom
is "$(metric m.prom 'corun_jobs_running{executor="loop"}'):$(metric m.prom corun_jobs_inflight)" \
	"0:0" "--metrics: at exit nothing runs and nothing is in flight"
is "$(ls | grep -c '^m\.prom\..*tmp$')" 0 "--metrics: no temporary file is left"

# Atomic replacement: a reader polling the file while it is rewritten every
# 10 ms always sees a whole exposition (it ends with the last series).
echo 'sleep 1.5' >long.jobs
: >reads.txt
"$PY" - >reads.txt <<'EOF2' &
import os, time
seen = bad = 0
end = time.time() + 60
while time.time() < end and not os.path.exists("at.done"):
    try:
        with open("at.prom") as f:
            t = f.read()
    except FileNotFoundError:
        continue
    seen += 1
    lines = t.split("\n")
    if len(lines) < 3 or lines[-1] != "" or \
            not lines[-2].startswith("corun_loop_lag_seconds_count "):
        bad += 1
print(seen, bad)
EOF2
reader=$!
bg_track "$reader"
corun --metrics at.prom --metrics-interval 10ms long.jobs >at.out 2>&1 </dev/null
: >at.done
wait "$reader"
read -r seen bad <reads.txt
diag "the reader read the file $seen times"
check "--metrics: a reader read the file many times while it was rewritten" \
	test "${seen:-0}" -gt 20
is "${bad:-x}" 0 "--metrics: a reader never sees a partial file"

corun --metrics /nonexistent/dir/m.prom long.jobs >bad.out 2>bad.err </dev/null
is "$?" 2 "--metrics in a directory that does not exist: exit status 2"
like "$(cat bad.err)" '^corun: --metrics: /nonexistent/dir/m\.prom: ' \
	"--metrics: the message names the file"
corun --metrics-interval 0 long.jobs >/dev/null 2>&1 </dev/null
is "$?" 2 "--metrics-interval 0: usage error"

# --- --metrics-addr ----------------------------------------------------------

# addr_of ERRFILE: the address corun said it serves on (port 0), polling up
# to 5 s (scaled) for the line.
addr_of() {
	ao_i=0
	ao_max=$(ticks 5)
	while [ "$ao_i" -lt "$ao_max" ]; do
		ao=$(sed -n 's|^corun: metrics on http://\(.*\)/metrics$|\1|p' "$1")
		[ -n "$ao" ] && { printf '%s\n' "$ao"; return 0; }
		sleep 0.05
		ao_i=$((ao_i + 1))
	done
	return 1
}

# scrape URL FILE: GET URL into FILE (bounded); print the HTTP status.
scrape() {
	curl -sg -m "$(scaled 5)" -o "$2" -w '%{http_code}' "$1"
}

if ! command -v curl >/dev/null 2>&1; then
	skip "--metrics-addr tests" "curl is not installed"
	done_testing
fi

# A run that lasts while we scrape: one job runs until the file "stop"
# exists, one waits behind it (-j 1), one is finished.
cat >h.jobs <<'EOF2'
id=done exec true
id=run timeout=60s sh 'while [ ! -e stop ]; do sleep 0.05; done'
id=wait exec true
EOF2
bg_corun h /dev/null h.out h.err --json -j 1 --metrics-addr 127.0.0.1:0 h.jobs
addr=$(addr_of h.err)
ok $? "--metrics-addr 127.0.0.1:0: the port is said on stderr" ||
	diag "$(cat h.err)"
# Poll until the sleep runs (bounded).
i=0
while [ "$i" -lt "$(ticks 10)" ]; do
	scrape "http://$addr/metrics" h1.prom >h1.code
	grep -q '^corun_jobs_running{executor="loop"} 1$' h1.prom && break
	sleep 0.05
	i=$((i + 1))
done
is "$(cat h1.code)" 200 "GET /metrics during a run: 200"
promtool_check h1.prom "promtool check metrics passes on the scraped text"
is "$(metric h1.prom 'corun_jobs_running{executor="loop"}')" 1 \
	"scraped during the run: one loop job running"
is "$(metric h1.prom 'corun_jobs_queued{executor="loop"}')" 1 \
	"scraped during the run: one job queued behind -j 1"
is "$(metric h1.prom corun_jobs_read_total):$(metric h1.prom corun_jobs_inflight)" \
	"3:2" "scraped during the run: 3 read, 2 in flight"
is "$(metric h1.prom 'corun_jobs_finished_total{kind="exec",status="ok"}')" 1 \
	"scraped during the run: the first job is counted ok"
is "$(scrape "http://$addr/" h2.txt)" 404 "GET / gets 404"
is "$(scrape "http://$addr/metrics/x" h2.txt)" 404 "GET /metrics/x gets 404"
is "$(curl -sg -m "$(scaled 5)" -o /dev/null -w '%{http_code}' -X POST \
	"http://$addr/metrics")" 405 "POST /metrics gets 405"
is "$(scrape "http://$addr/metrics?x=1" h3.prom)" 200 \
	"GET /metrics with a query string: 200"
headers=$(curl -sg -m "$(scaled 5)" -D - -o /dev/null "http://$addr/metrics" | tr -d '\r')
contains "$headers" 'Content-Type: text/plain; version=0.0.4' \
	"the text has Prometheus' content type"

# Slow clients: one sends half a request and nothing more, one sends nothing,
# one sends a request and never reads. The loop still serves, and the run
# still ends when its jobs do.
"$PY" - "$addr" >slow.txt 2>&1 <<'EOF2' &
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
conns = []
for data in (b"GET /metr", b"", b"GET /metrics HTTP/1.1\r\n\r\n"):
    s = socket.create_connection((host.strip("[]"), int(port)))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.sendall(data)
    conns.append(s)
print("connected", flush=True)
time.sleep(60)
EOF2
slow=$!
bg_track "$slow"
wait_for_line() {
	i=0
	while [ "$i" -lt "$(ticks 5)" ] && ! grep -q connected "$1"; do
		sleep 0.05
		i=$((i + 1))
	done
}
wait_for_line slow.txt
is "$(scrape "http://$addr/metrics" h4.prom)" 200 \
	"with three slow clients connected, GET /metrics still gets 200"
# End the running job: the run ends while the slow clients hold on.
t0=$(now)
: >stop
rc=$(bg_wait h 10)
is "$rc" 0 "the run ends (exit status 0)"
lt "$(since "$t0")" "$(bound 3 9)" \
	"slow clients do not hold up the end of the run (their timeout is 10 s)"
kill "$slow" 2>/dev/null
is "$(jpy h.out 'sorted(r["id"] + "=" + r["status"] for r in R)')" \
	'["done=ok", "run=ok", "wait=ok"]' "every job has its record"

# IPv6: ::1, when the machine has it.
if "$PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	echo 'sleep 30' >six.jobs
	bg_corun six /dev/null six.out six.err --metrics-addr '[::1]:0' six.jobs
	addr=$(addr_of six.err)
	like "$addr" '^\[::1\]:[0-9]+$' "--metrics-addr [::1]:0: the address is said"
	is "$(scrape "http://$addr/metrics" six.prom)" 200 "GET /metrics over IPv6: 200"
	is "$(metric six.prom 'corun_jobs_running{executor="loop"}')" 1 \
		"over IPv6: the sleep is running"
	kill -TERM "$bg_pid"
	is "$(bg_wait six 10)" 143 "SIGTERM ends the run with the server (143)"
else
	skip "--metrics-addr [::1]:0" "no IPv6 loopback"
fi

corun --metrics-addr localhost:0 long.jobs >/dev/null 2>ba.err </dev/null
is "$?" 2 "--metrics-addr with a name, not an address: usage error"
like "$(cat ba.err)" "^corun: --metrics-addr: bad address 'localhost:0'" \
	"--metrics-addr: the message names the address"

done_testing
