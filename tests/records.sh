#!/bin/sh
# records.sh: exactly one record per job whatever its end, the JSON fields
# and their types (corun(1), OUTPUT), the text format, records
# flushed as jobs end, -k, and the exit status.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# Every final state, from standard input.
cat >all.jobs <<'EOF'
id=ok1 sleep 0
id=f1 sh 'exit 1'
id=to timeout=0.2 sleep 5
id=sk after=f1 sleep 0
id=long sleep 5
id=c cancel long
frob
id=hold exec sleep 0.5
id=queued exec true
id=c2 cancel queued
id=p primes 10
id=r read /dev/null
id=u sh 'printf "a\377b"; printf "x\033y" >&2'
EOF
corun --json -j1 <all.jobs >all.json 2>all.err
is "$?" 1 "some jobs not ok: exit status 1"
is "$(nlines all.json)" 13 "one record per job"
is "$(jpy all.json 'len({r["seq"] for r in R})')" 13 "one record per seq"
is "$(jpy all.json '" ".join("%s=%s" % (r["id"], r["status"])
	for r in sorted(R, key=lambda r: r["seq"]))')" \
	"ok1=ok f1=failed to=timeout sk=skipped long=cancelled c=ok 7=error hold=ok queued=cancelled c2=ok p=ok r=ok u=ok" \
	"every final state"
is "$(jpy all.json '[by["sk"]["attempts"], by["sk"]["elapsed"] == 0]')" \
	"[0, true]" "skipped: attempts 0, elapsed 0"
is "$(jpy all.json '[by["queued"]["attempts"],
	by["queued"]["elapsed"] == 0]')" "[0, true]" \
	"cancelled while queued: attempts 0, elapsed 0"
jrec all.json long attempts=1 "cancelled while running: attempts 1"
jrec all.json u value='"a\ufffdb"' stderr='"x\u001by"' \
	"JSON: invalid UTF-8 becomes U+FFFD"
check "JSON: a control character is escaped as \\u00XX" \
	grep -qiF '"x\u001by"' all.json
problems=$("$PY" "$JQ" schema all.json)
is "$problems" "" "JSON: 14 fields in order, types and rules of every record"

# Text records: STATUS ID ELAPSED KIND: TEXT and the output block.
cat >text.jobs <<'EOF'
id=s sleep 0.1
sleep 0
id=m sh 'echo one; echo two'
id=single exec echo hi
id=e sh 'echo oops >&2; exit 2'
id=nl sh 'printf "a\nb"'
id=p primes 10
id=cc sh 'printf "x\033y\tz"'
id=ef sh 'echo out; exit 5'
id=to timeout=0.2 sleep 5
frob x
timeout=1
id=u sh 'printf "a\377b"'
EOF
corun <text.jobs >text.out 2>text.err
is "$?" 1 "text: exit status 1"
# The record of job ID and its block, with ELAPSED (N.NNNs) shown as T.
rec() {
	"$PY" "$JQ" text text.out "$1" |
		sed -E 's/^([a-z]+ [^ ]+ )[0-9]+\.[0-9]{3}s /\1T /'
}
is "$(rec s)" "ok s T sleep:" "text: ok with an empty value"
is "$(rec 2)" "ok 2 T sleep:" "text: the default id is seq"
is "$(rec m)" "ok m T sh: one
  | one
  | two" "text: the first line, then every stdout line after '  | '"
is "$(rec single)" "ok single T exec: hi" \
	"text: no block when the line shows all the output"
is "$(rec e)" "failed e T sh: exit status 2
  ! oops" "text: failed shows the error, stderr after '  ! '"
is "$(rec nl)" "ok nl T sh: a
  | a
  | b" "text: a last line without newline still gets one"
is "$(rec p)" "ok p T primes: 4" "text: a process job's value"
is "$(rec cc)" "ok cc T sh: x?y	z" \
	"text: control characters but tab shown as ?"
is "$(rec ef)" "failed ef T sh: exit status 5
  | out" "text: stdout of a failed job is shown"
is "$(rec to)" "timeout to T sleep: timed out after 0.2s" "text: a timeout"
is "$(rec 11)" "error 11 T frob: unknown kind 'frob'" "text: an error record"
like "$(rec 12)" "^error 12 T -: .+" "text: - when the line has no kind"
is "$(rec u)" "ok u T sh: a$(printf '\357\277\275')b" \
	"text: invalid UTF-8 shown as U+FFFD"
is "$(grep -cvE '^(ok|failed|timeout|cancelled|skipped|error) |^  [|!] ' \
	text.out)" 0 "text: nothing but records and block lines"
is "$(grep -cE '^[a-z]+ ' text.out)" 13 "text: one record line per job"

# A record is written as soon as its job ends, also into a pipe: the slow
# job only ends ok if the reader saw the fast job's record first.
cat >flush.jobs <<EOF
id=fast sleep 0
id=slow sh 'i=0; while [ ! -e go ] && [ \$i -lt $(ticks 10) ]; do sleep 0.05; i=\$((i+1)); done; [ -e go ]'
EOF
corun --json flush.jobs 2>flush.err </dev/null | {
	IFS= read -r first
	: >go
	printf '%s\n' "$first"
	cat
} >flush.json
is "$(jpy flush.json '[r["id"] for r in R]')" '["fast", "slow"]' \
	"the fast job's record comes first"
jrec flush.json slow status='"ok"' \
	"the reader saw the fast job's record while the slow job ran"

# -k writes in input order; by default, in completion order.
printf 'id=a sleep 0.3\nid=b sleep 0\n' >order.jobs
corun --json order.jobs >order.json 2>&1 </dev/null
corun --json -k order.jobs >keep.json 2>&1 </dev/null
is "$(jpy order.json '[r["id"] for r in R]')" '["b", "a"]' \
	"records come in completion order"
is "$(jpy keep.json '[r["id"] for r in R]')" '["a", "b"]' \
	"-k: records come in input order"

# Exit status.
printf 'sleep 0\nprimes 3\nexec true\nread /dev/null\n' | corun >/dev/null 2>&1
is "$?" 0 "every job ok: exit status 0"
printf 'sleep 0\nsh "exit 1"\n' | corun >/dev/null 2>&1
is "$?" 1 "one job failed: exit status 1"

no_leftovers "no corun process is left"
done_testing
