#!/bin/sh
# cmd.sh: command mode (corun(1), COMMAND MODE): -c TEMPLATE with the
# argument lists (::: :::: :::+ ::::+ -a, standard input), -0, -d,
# --colsep, --max-args, --sh, replacement strings and sh quoting, job
# slots and the CORUN_* environment, records and the job log, usage
# errors. Where GNU parallel (or xargs) is installed it is the oracle:
# the same inputs, the same bytes. Until the raw output modes exist the
# bytes are read from --json -k records (each job's value, in order).

# Replacement strings ({} {.}...) and $ in single quotes are literal on
# purpose throughout.
# shellcheck disable=SC1083,SC2016
# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# The values of the JSON records of FILE, one after the other.
values() {
	"$PY" -c 'import json, sys
sys.stdout.write("".join(json.loads(l)["value"] or "" for l in open(sys.argv[1])))' "$1"
}

# Run corun with --json -k and the arguments; its values to FILE (the
# first argument), its exit status returned.
cvals() {
	cv_out=$1
	shift
	corun --json -k "$@" >"$cv_out.json" 2>"$cv_out.err" </dev/null
	cv_rc=$?
	values "$cv_out.json" >"$cv_out"
	return $cv_rc
}

# The same with standard input from the file given first.
cvals_in() {
	cv_in=$1
	cv_out=$2
	shift 2
	corun --json -k "$@" >"$cv_out.json" 2>"$cv_out.err" <"$cv_in"
	cv_rc=$?
	values "$cv_out.json" >"$cv_out"
	return $cv_rc
}

# Pass when files A and B hold the same bytes.
same() {
	if cmp -s "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:      $(od -c "$1" | head -n 8)" \
			"expected: $(od -c "$2" | head -n 8)"
		return 1
	fi
}

have_parallel=
parallel --version 2>/dev/null | grep -q 'GNU parallel' && have_parallel=1
# Run GNU parallel quietly (no citation notice, no home directory state).
gnu() {
	HOME=$T parallel --will-cite "$@" 2>/dev/null
}

# Hostile names: blanks, quotes, $, a backslash, a glob, a leading dash,
# a newline (only with -0).
printf '%s\0' 'plain.txt' 'two words.tar.gz' "it's" 'say "hi"' '$HOME' \
	'back\slash' '*.c' '-dash' 'dir/sub.d/f.x' 'new
line' >names0
printf 'plain.txt\ntwo words.tar.gz\nit'"'"'s\n$HOME\n*.c\ndir/sub.d/f.x\n' \
	>names

# ---- Against GNU parallel ----
if [ -n "$have_parallel" ]; then
	gnu -0 -k -q printf '[%s]\n' {} :::: names0 >want
	cvals got -0 -c 'printf "[%s]\n" {}' :::: names0
	same got want "hostile names with -0: each one argument, as parallel"

	gnu -0 -k -q printf '%s|%s|%s|%s|%s\n' {} {.} {/} {//} {/.} \
		:::: names0 >want
	cvals got -0 -c 'printf "%s|%s|%s|%s|%s\n" {} {.} {/} {//} {/.}' \
		:::: names0
	same got want "{} {.} {/} {//} {/.} of hostile names, as parallel"

	gnu -k -q printf '<%s>\n' {} <names >want
	cvals_in names got -c 'printf "<%s>\n" {}'
	same got want "inputs are standard input's lines by default"

	# sh: values are quoted into the script.
	gnu -0 -k 'printf "<%s>\n" {}' :::: names0 >want
	tpl=$(cat <<'EOF'
sh 'printf "<%s>\n" {}'
EOF
)
	cvals got -0 -c "$tpl" :::: names0
	same got want "sh: hostile values quoted into the script, as parallel"

	gnu -k echo {1} {2} {3} ::: a b ::: 1 2 3 ::: x y >want
	cvals got -c 'echo {1} {2} {3}' ::: a b ::: 1 2 3 ::: x y
	same got want "several sources multiply, the last fastest, as parallel"

	gnu -k echo ::: a b c :::+ 1 2 3 ::: x y >want
	cvals got -c echo ::: a b c :::+ 1 2 3 ::: x y
	same got want ":::+ pairs a list with the one before, as parallel"

	printf 'p\nq\n' >pairs
	gnu -k echo ::: a b c ::::+ pairs >want
	cvals got -c echo ::: a b c ::::+ pairs
	same got want "::::+ pairs a file; the shorter ends the pairs"

	gnu -k echo {} x{}y ::: a b ::: 1 >want
	cvals got -c 'echo {} x{}y' ::: a b ::: 1
	same got want "{} of several sources: every value, text at the ends"

	seq 1 10 >ten
	gnu -n3 -k echo <ten >want
	cvals_in ten got --max-args 3 -c echo
	same got want "--max-args 3 as parallel -n3"
	xargs -n3 echo <ten >want
	same got want "--max-args 3 as xargs -n3"
	gnu -n3 -k echo {2}-{1} <ten >want
	cvals_in ten got --max-args 3 -c 'echo {2}-{1}'
	same got want "--max-args: {N} is the Nth input of the job"

	printf 'a,b,c\nd,,f\ng\n' >csv
	gnu --colsep , -k echo {3} {1} - {} <csv >want
	cvals_in csv got --colsep , -c 'echo {3} {1} - {}'
	same got want "--colsep: columns {N}, {} all of them, as parallel"
	printf 'a  b c\n' | gnu --colsep ' +' -k echo {2} >want
	printf 'a  b c\n' >cols
	cvals_in cols got --colsep ' +' -c 'echo {2}'
	same got want "--colsep takes a regular expression"

	gnu -k echo pre ::: a b >want
	cvals got -c 'echo pre' ::: a b
	same got want "a template without replacement strings gets {} appended"

	gnu -k echo {#} {} ::: a b c >want
	cvals got -c 'echo {#} {}' ::: a b c
	same got want "{#} is the sequence number, as parallel"

	printf 'a:b c:d' >colon.in
	gnu -d : -k echo <colon.in >want
	cvals_in colon.in got -d : -c echo
	same got want "-d: inputs end at the delimiter, as parallel"

	printf 'echo one\necho two; echo three\nprintf "%%s\\n" "$((1 + 2))"\n' \
		>cmds
	gnu -k <cmds >want
	cvals_in cmds got --sh
	same got want "--sh runs each line as a command line, as parallel < FILE"

	gnu -k echo ::: a '' b >want
	cvals got -c echo ::: a '' b
	same got want "an empty input is an empty argument, as parallel"

	printf '1\n2\n' >f1
	printf 'x\ny\n' >f2
	gnu -k echo :::: f1 f2 ::: z >want
	cvals got -c echo :::: f1 f2 ::: z
	same got want ":::: with two files: two sources, multiplied"
	gnu -k -a f1 echo ::: a b >want
	cvals got -a f1 -c echo ::: a b
	same got want "-a FILE is a source before the argument lists"
	gnu -k -n2 echo ::: a b c ::: 1 >want
	cvals got --max-args 2 -c echo ::: a b c ::: 1
	same got want "--max-args gathers combinations of several sources"
else
	skip "comparisons with GNU parallel" "parallel is not installed"
fi

# ---- Without an oracle ----

# Each value is one argument, never re-split nor globbed.
touch a.c b.c
cvals got -c 'printf "%s|" {} z' ::: '*.c' 'a  b'
printf '*.c|z|a  b|z|' >want
same got want "a value is one argument: not split, not globbed"

# sh: a file name that would break an unquoted script.
mkdir -p gz
printf 'hello\n' >"gz/it's \$x.txt"
printf 'world\n' >"gz/two words.txt"
tpl=$(cat <<'EOF'
sh 'gzip -c {} > {}.gz'
EOF
)
corun -k -c "$tpl" ::: gz/*.txt >sh.out 2>&1
rc=$?
is "$rc" 0 "sh with {} > {}.gz on hostile names: every job ok"
check "the .gz files hold the originals" sh -c '
	for f in gz/*.txt; do gzip -dc "$f.gz" | cmp -s - "$f" || exit 1; done'

# --sh with -c: options for every command line.
printf 'sleep 5\necho fast\n' >slow
corun --json -k -c 'timeout=0.3s sh' --sh <slow >slow.json 2>&1
is "$(jpy slow.json '",".join(r["status"] for r in R)')" "timeout,ok" \
	"--sh with -c 'timeout=0.3s sh': each line gets the options"

# Implied exec: any kind may come first, or a program.
cvals got -c 'timeout=5s retries=1 echo x' ::: a
printf 'x a\n' >want
same got want "options before an implied exec"
corun --json -c 'sleep' ::: 0 0.01 >sleep.json 2>&1
is "$(jpy sleep.json '",".join(r["kind"] + ":" + r["status"] for r in R)')" \
	"sleep:ok,sleep:ok" "a kind first: -c sleep runs sleep jobs, not a program"

# Empty lists make no jobs; an empty source in a product too.
corun -c echo ::: >empty.out 2>&1
is "$?:$(cat empty.out)" "0:" "an empty ::: list: no jobs, exit 0"
corun -c echo ::: a b ::: >empty.out 2>&1
is "$?:$(cat empty.out)" "0:" "an empty list in the product: no jobs"

# Job slots: {%} and CORUN_SLOT in 1..-j, never two running jobs on one.
tpl=$(cat <<'EOF'
sh 'mkdir slot.{%} && echo {%} $CORUN_SLOT && sleep 0.02 && rmdir slot.{%}'
EOF
)
seq 1 30 >thirty
cvals_in thirty slots -j3 -c "$tpl"
is "$(jpy slots.json 'sum(r["status"] == "ok" for r in R)')" 30 \
	"-j3: no two running jobs share a slot (mkdir per slot never clashed)"
is "$(awk '$1 != $2 || $1 < 1 || $1 > 3' slots)" "" \
	"{%} equals CORUN_SLOT and stays within 1..3"
is "$(awk '{print $1}' slots | sort -u | tr '\n' ' ')" "1 2 3 " \
	"-j3: the three slots are used"

# CORUN_SEQ, CORUN_ID: {#} and the id; inherited ones are replaced.
tpl=$(cat <<'EOF'
sh 'echo {#} $CORUN_SEQ $CORUN_ID'
EOF
)
CORUN_SEQ=99 CORUN_ID=zz CORUN_SLOT=77 cvals got -c "$tpl" ::: a b
printf '1 1 1\n2 2 2\n' >want
same got want "CORUN_SEQ and CORUN_ID are the job's, not inherited"
printf '%s\n' "id=first sh 'echo \$CORUN_ID \$CORUN_SEQ \$CORUN_SLOT'" |
	corun --json >envjob.json 2>&1
is "$(jpy envjob.json 'R[0]["value"]')" "first 1 1" "job files' children get CORUN_ID, CORUN_SEQ and CORUN_SLOT too"

# Records: args and command; text records and the job log show the
# command.
corun --json -k -c 'sh "exit {}"' ::: 0 3 >rec.json 2>&1
is "$(jpy rec.json 'R[1]["args"]')" '["3"]' "JSON records carry args"
is "$(jpy rec.json 'R[1]["command"]')" "sh 'exit 3'" \
	"JSON records carry the command that ran"
corun --records -k --joblog jl -c false ::: 'a b' >rec.txt 2>&1
like "$(cat rec.txt)" "^failed 1 [0-9.]+s exec false 'a b': exit status 1\$" \
	"a text record shows the failed command"
is "$(awk -F '\t' '$6 == "failed" { print $12 }' jl)" "exec false 'a b'" \
	"the job log's 12th field is the expanded command (awk lists failures)"
corun -n -c 'echo {#} {}' ::: 'x y' >plan.out 2>&1
is "$(cat plan.out)" "1 loop exec echo 1 'x y'" "-n prints the expanded jobs"

# Inputs stream: the first job runs before standard input ends.
mkfifo fifo
(
	corun -c touch <fifo >stream.out 2>&1
	echo $? >stream.rc
) &
bg_track $!
exec 3>fifo
echo first.mark >&3
wait_for first.mark 10
check "a job starts before its input ends (streamed)" test -e first.mark
echo second.mark >&3
exec 3>&-
wait_for stream.rc 10
is "$(cat stream.rc 2>/dev/null)" 0 "the streamed run ends when its input does"
check "every streamed input ran" test -e second.mark

# Memory stays bounded: 300k inputs need no more than 20k do.
if [ "$SANITIZED" = 0 ] && /usr/bin/time -f %M true >/dev/null 2>&1; then
	for n in 20000 300000; do
		yes 0 | head -n "$n" >"in.$n"
		timeout -k 3 "$CORUN_LIMIT" /usr/bin/time -f %M -o "rss.$n" \
			"$CORUN_LINK" --records -c sleep <"in.$n" >"out.$n" 2>&1
		is "$?:$(grep -c '^ok ' "out.$n")" "0:$n" "$n inputs: all ran"
	done
	small=$(tail -n 1 rss.20000)
	big=$(tail -n 1 rss.300000)
	check "300k inputs: peak RSS ($big KiB) within 1.5x of 20k's ($small KiB)" \
		num_lt "$big" "$(awk -v s="$small" 'BEGIN { print s * 1.5 }')"
else
	skip "300k inputs in bounded memory" \
		"no GNU /usr/bin/time, or a sanitizer build"
fi

# Bad inputs are error records, the rest runs.
printf 'a\nb\0c\nd\n' >nul.in
corun --json -k -c echo <nul.in >nul.json 2>&1
is "$(jpy nul.json '",".join(r["status"] for r in R)')" "ok,error,ok" \
	"a NUL byte in an input line: an error record, the rest runs"
corun --json -c 'timeout={} sleep 0' ::: 1s soon >bad.json 2>&1
is "$?:$(jpy bad.json '",".join(sorted(r["status"] for r in R))')" \
	"1:error,ok" "a filled template that does not parse: an error record"

# Usage errors: exit 2 and a message.
usage() {
	u_desc=$1
	shift
	corun "$@" >usage.out 2>usage.err </dev/null
	u_rc=$?
	if [ "$u_rc" -eq 2 ] && [ -s usage.err ] && [ ! -s usage.out ]; then
		ok 0 "$u_desc"
	else
		ok 1 "$u_desc"
		diag "exit $u_rc; stderr: $(head -c 300 usage.err)"
	fi
}
echo 'exec true' >job.jobs
usage "a job file and a template together" -c echo job.jobs
usage "::: without a template" ::: a
usage "-a without a template" -a names
usage "an unterminated quote in the template" -c "echo 'open" ::: a
usage "a bad option in the template" -c 'timeout=soon echo' ::: a
usage "--max-args 0" --max-args 0 -c echo ::: a
usage "-d with two bytes" -d ab -c echo ::: a
usage "a bad --colsep" --colsep '(' -c echo ::: a
usage ":::: of a missing file" -c echo :::: no-such-file
usage ":::: without a file" -c echo ::::
usage "a NUL byte in a source read whole" -c echo ::: a :::: nul.in
# Arguments after ::: are never options.
cvals got -c 'printf "%s\n"' ::: -n --json -c
printf -- '-n\n--json\n-c\n' >want
same got want "arguments after ::: are inputs, never options"

done_testing
