#!/bin/sh
# plugins.sh: the `call LIBRARY SYMBOL [ARG]` kind, with the example plugins
# of examples/plugins/ (built by make check into BUILDDIR/examples/plugins).
# A real zlib job gives a real ratio, on either executor; a plugin that
# crashes fails only its own job and its worker is replaced; a worker keeps
# a library loaded; bad libraries and symbols fail with a message naming
# them; timeouts and retries apply; LIBRARY is loaded only from the path
# given, a relative one against the job file's directory.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# A sanitizer build must let a plugin's SIGSEGV kill its worker, as it
# does in a normal build, rather than turn it into an exit status.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
export ASAN_OPTIONS

P="$BUILDDIR/examples/plugins"
for so in crash noabi badabi funcabi; do
	[ -r "$P/$so.so" ] || bail "plugin not built: $P/$so.so"
done
Z="$P/zratio.so"
C="$P/crash.so"
# zratio needs zlib, which is optional: configure says whether it found it
# (CORUN_ZLIB, from make check). Without it the tests of zratio are skipped.
if [ "${CORUN_ZLIB:-yes}" = no ]; then
	nozlib="zlib not found by configure: examples/plugins/zratio.so not built"
	diag "$nozlib; its tests are skipped"
else
	nozlib=
	[ -r "$Z" ] || bail "plugin not built: $Z"
fi


# zlib on a compressible file: the sizes are the file's and the ratio is
# their quotient, on the process pool by default and on a thread with on=.
if [ -z "$nozlib" ]; then
	seq 1 200000 >data.txt
	size=$(wc -c <data.txt | tr -d ' ')
	cat >z.jobs <<-EOF
	id=p call $Z ratio data.txt
	id=t on=thread call $Z ratio data.txt
	id=missing call $Z ratio no-such-file
	id=none call $Z ratio
	EOF
	corun --json z.jobs >z.json 2>z.err
	is "$?" 1 "zratio: exit status 1 (two jobs fail)"
	jrec z.json p status='"ok"' executor='"process"' attempts=1 \
		"call runs on the process pool by default"
	zp=$(jpy z.json 'by["p"]["value"]')
	like "$zp" "^ratio [0-9]+\\.[0-9]{2} \\($size -> [0-9]+ bytes\\)\$" \
		"zratio: value reads 'ratio R (SIZE -> N bytes)' with the file's size"
	check "zratio: compressible data compresses more than 2:1, R = SIZE / N" \
		awk -v v="$zp" 'BEGIN {
			split(v, f, /[ ()]+/)
			r = f[2]; n = f[5]
			exit !(r > 2 && n > 0 && sprintf("%.2f", f[3] / n) == r)
		}'
	jrec z.json t status='"ok"' executor='"thread"' "on=thread runs on a thread"
	is "$(jpy z.json 'by["t"]["value"]')" "$zp" \
		"on=thread: the same value as on the process pool"
	jrec z.json missing status='"failed"' value=null signal=null \
		error='"zratio: no-such-file: No such file or directory"' \
		"a plugin's own failure: failed, with the message it gave"
	jrec z.json none status='"failed"' error='"zratio: no file given"' \
		"no ARG: the function gets an empty argument"
	is "$("$PY" "$JQ" schema z.json)" "" "zratio: records follow the schema"
else
	for _ in 1 2 3 4 5 6 7 8 9; do
		skip "zratio" "$nozlib"
	done
fi

# Crashes in the process pool, one worker: each fails its own job with the
# signal, and the next job runs in a new worker with the library loaded
# afresh (its call counter starts again).
cat >crash.jobs <<EOF
id=c1 call $C count
id=c2 call $C count
id=segv call $C segv
id=c3 call $C count
id=abrt call $C abrt
id=c4 call $C count
id=echo call $C echo 'still here'
EOF
corun --json -k -P1 crash.jobs >crash.json 2>crash.err
is "$?" 1 "crashing plugins: exit status 1"
jrec crash.json segv status='"failed"' signal=11 value=null attempts=1 \
	error='"worker died: killed by signal 11 (SIGSEGV)"' \
	"SIGSEGV in a plugin: failed, signal 11"
jrec crash.json abrt status='"failed"' signal=6 \
	error='"worker died: killed by signal 6 (SIGABRT)"' \
	"abort in a plugin: failed, signal 6"
is "$(jpy crash.json '[r["value"].split(" in pid ")[0]
	for r in R if r["id"].startswith("c")]')" \
	'["call 1", "call 2", "call 1", "call 1"]' \
	"a worker keeps the library loaded; a crash starts a fresh worker"
is "$(jpy crash.json 'len({r["value"].split(" in pid ")[1]
	for r in R if r["id"].startswith("c")})')" 3 \
	"each crash replaced the worker (three pids for the counted calls)"
jrec crash.json echo status='"ok"' value='"still here"' \
	"a job after the crashes runs fine"
is "$("$PY" "$JQ" schema crash.json)" "" "crashes: records follow the schema"

# A long run of calls in one worker: the library is loaded once.
"$PY" -c 'print("call '"$C"' count\n" * 300, end="")' >many.jobs
corun --json -k -P1 many.jobs >many.json 2>many.err
is "$?" 0 "300 calls in one worker: exit status 0"
is "$(jpy many.json '[[r["value"].split(" in pid ")[0] for r in R] ==
	["call %d" % i for i in range(1, 301)],
	len({r["value"].split(" in pid ")[1] for r in R})]')" '[true, 1]' \
	"300 calls in one worker: the counter runs 1..300 in one process"

# Many concurrent calls on the thread pool: one library, shared by threads.
"$PY" -c 'print("on=thread call '"$C"' count\n" * 200, end="")' >thr.jobs
corun --json -T4 thr.jobs >thr.json 2>thr.err
is "$?" 0 "200 calls on four threads: exit status 0"
is "$(jpy thr.json 'sorted(int(r["value"].split()[1]) for r in R) ==
	list(range(1, 201))')" true \
	"200 calls on four threads: one library, each count seen once"

# Libraries and symbols that are not there, or not right.
cat >bad.jobs <<EOF
id=nolib call $P/no-such-plugin.so echo
id=nosym call $C no_such_function
id=dep call $C printf
id=abisym call $C corun_plugin_abi
id=noabi call $P/noabi.so echo
id=badabi call $P/badabi.so echo
id=funcabi call $P/funcabi.so echo
id=msg call $C fail 'it went wrong'
id=quiet call $C fail_quietly
id=text call $SRCDIR/examples/plugins/README echo
EOF
corun --json bad.jobs >bad.json 2>bad.err
is "$?" 1 "bad libraries: exit status 1"
jrec bad.json nolib status='"failed"' signal=null value=null \
	error="\"call: $P/no-such-plugin.so: cannot load: cannot open shared object file: No such file or directory\"" \
	"a missing library: failed, naming the file"
jrec bad.json nosym status='"failed"' \
	error="\"call: $C: no function 'no_such_function'\"" \
	"a missing symbol: failed, naming it"
jrec bad.json dep status='"failed"' \
	error="\"call: $C: no function 'printf'\"" \
	"a function of a library the plugin links (libc) is not called"
jrec bad.json abisym status='"failed"' \
	error="\"call: $C: no function 'corun_plugin_abi'\"" \
	"a data symbol is not called"
jrec bad.json noabi status='"failed"' \
	error="\"call: $P/noabi.so: not a corun plugin (no corun_plugin_abi)\"" \
	"a library without corun_plugin_abi: failed, not a plugin"
jrec bad.json badabi status='"failed"' \
	error="\"call: $P/badabi.so: plugin ABI 999, corun speaks 1\"" \
	"a library of another ABI version: failed, naming both versions"
# Under UBSan a misaligned read of the symbol kills the worker instead.
jrec bad.json funcabi status='"failed"' signal=null \
	"corun_plugin_abi a function at an odd address: failed, no crash"
like "$(jpy bad.json 'by["funcabi"]["error"]')" \
	"^call: $P/funcabi.so: plugin ABI -?[0-9]+, corun speaks 1\$" \
	"corun_plugin_abi a function: its first bytes are not the ABI"
jrec bad.json msg status='"failed"' error='"it went wrong"' \
	"a function that fails: its message is the error"
jrec bad.json quiet status='"failed"' \
	error='"call: fail_quietly failed"' \
	"a function that fails without a message: a generic one"
like "$(jpy bad.json 'by["text"]["error"]')" \
	"^call: $SRCDIR/examples/plugins/README: cannot load: .+" \
	"a file that is no library: cannot load"
is "$("$PY" "$JQ" schema bad.json)" "" "bad libraries: records follow the schema"

# Arguments are checked at parse time.
printf 'call %s 9lives\n' "$C" >badsym.jobs
corun badsym.jobs >badsym.out 2>badsym.err
is "$?" 2 "a symbol that is no C name: the file is rejected (exit 2)"
is "$(cat badsym.err)" "badsym.jobs:1: call: bad symbol name '9lives'" \
	"a symbol that is no C name: the message names it"
printf "call '' echo\n" >badlib.jobs
corun badlib.jobs >badlib.out 2>badlib.err
is "$(cat badlib.err)" "badlib.jobs:1: call: empty library path" \
	"an empty library path is rejected"
printf 'call %s\n' "$C" >noargs.jobs
corun noargs.jobs >noargs.out 2>noargs.err
is "$?" 2 "call with one argument: rejected"
printf 'on=loop call %s echo\n' "$C" >onloop.jobs
corun onloop.jobs >onloop.out 2>onloop.err
is "$?" 2 "call with on=loop: rejected"

# Timeouts and retries apply as to any job.
cat >tr.jobs <<EOF
id=spin timeout=300ms call $C spin
id=after call $C echo fine
id=segv3 retries=2 call $C segv
id=nap timeout=5s call $C nap 0.1
EOF
wall tr.time corun --json -k -P1 --backoff 10ms tr.jobs >tr.json 2>tr.err
is "$?" 1 "timeouts and retries: exit status 1"
jrec tr.json spin status='"timeout"' signal=9 attempts=1 \
	error='"timed out after 0.3s"' \
	"a spinning plugin function times out: timeout, signal 9"
lt "$(jpy tr.json 'by["spin"]["elapsed"]')" "$(scaled 3)" \
	"the spinning job ends near its deadline, not later"
jrec tr.json after status='"ok"' value='"fine"' \
	"after a timeout the next call runs in a new worker"
jrec tr.json segv3 status='"failed"' signal=11 attempts=3 \
	"retries=2 on a crashing plugin: three attempts, signal 11"
jrec tr.json nap status='"ok"' value='""' "a short nap within its timeout: ok"
lt "$(cat tr.time)" "$(scaled 15)" "timeouts and retries: the run ends in time"

# A retry in the same worker (alone in its run: a crash elsewhere would
# replace the worker and the function would fail again there).
printf 'id=flaky retries=1 call %s flaky\n' "$C" >flaky.jobs
corun --json -P1 --backoff 10ms flaky.jobs >flaky.json 2>flaky.err
jrec flaky.json flaky status='"ok"' attempts=2 value='"ok on call 2"' \
	"retries=1 on a function that fails once: ok on the second attempt"

# Output is capped at 1 MiB and flagged as truncated.
cat >big.jobs <<EOF
id=p call $C big 3000000
id=t on=thread call $C big 3000000
id=exact call $C big 1048576
EOF
corun --json big.jobs >big.json 2>big.err
is "$?" 0 "big values: exit status 0"
is "$(jpy big.json '[len(by["p"]["value"]), by["p"]["truncated"]]')" \
	'[1048576, true]' "a value past 1 MiB is cut there and truncated"
is "$(jpy big.json '[len(by["t"]["value"]), by["t"]["truncated"]]')" \
	'[1048576, true]' "on=thread too: cut at 1 MiB and truncated"
is "$(jpy big.json '[len(by["exact"]["value"]), by["exact"]["truncated"]]')" \
	'[1048576, false]' "a value of exactly 1 MiB is whole"

# LIBRARY is loaded only from the path given: a bare name is not looked for
# in LD_LIBRARY_PATH or the system's directories.
mkdir libdir elsewhere
cp "$C" libdir/crash.so
(cd elsewhere && LD_LIBRARY_PATH="$T/libdir" corun --json) >bare.json \
	2>bare.err <<EOF
id=bare call crash.so echo hi
id=sys call libz.so.1 echo hi
EOF
jrec bare.json bare status='"failed"' \
	"a bare library name is not searched for in LD_LIBRARY_PATH"
like "$(jpy bare.json 'by["sys"]["error"]')" \
	"^call: [^ ]*libz\\.so\\.1: cannot load: .*No such file" \
	"a bare library name is not searched for in the system's directories"

# A relative LIBRARY in a job file is relative to the file's directory.
mkdir -p jobdir/lib
cp "$C" jobdir/lib/crash.so
cp "$C" jobdir/crash.so
cat >jobdir/rel.jobs <<'EOF'
id=sub call lib/crash.so echo sub
id=bare call crash.so echo bare
EOF
(cd elsewhere && corun --json ../jobdir/rel.jobs) >rel.json 2>rel.err
is "$(jpy rel.json 'sorted(r["value"] for r in R)')" '["bare", "sub"]' \
	"relative LIBRARY paths resolve against the job file's directory"

# The example job file (it uses zratio), with the plugins as make check
# builds them.
if [ -z "$nozlib" ]; then
	mkdir -p ex/plugins
	cp "$SRCDIR/examples/plugins.jobs" ex/
	cp "$SRCDIR"/examples/plugins/*.c "$SRCDIR/examples/plugins/README" \
		"$P"/*.so ex/plugins/
	(cd ex && corun --json -k -P1 plugins.jobs) >ex.json 2>ex.err
	is "$?" 1 "examples/plugins.jobs: exit status 1 (it fails two jobs on purpose)"
	is "$(jpy ex.json '" ".join(r["id"] + ":" + r["status"] for r in R)')" \
		"text:ok source:ok library:ok thread:ok count1:ok count2:ok count3:ok crash:failed survivor:ok slow:timeout" \
		"examples/plugins.jobs: the documented outcome, job by job"
	is "$(jpy ex.json '[by["crash"]["signal"], by["slow"]["signal"],
		[by[i]["value"].split(" in pid ")[0] for i in ("count1", "count2",
		"count3")]]')" '[11, 9, ["call 1", "call 2", "call 3"]]' \
		"examples/plugins.jobs: signals in the records, the counter grows"
else
	for _ in 1 2 3; do
		skip "examples/plugins.jobs" "$nozlib"
	done
fi

no_leftovers "no corun process or worker is left"
done_testing
