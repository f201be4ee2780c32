#!/bin/sh
# modes.sh: the raw output modes (corun(1), OUTPUT): --group, --line-buffer
# and --ungroup write the jobs' own bytes, byte-exact and uncapped, their
# standard error on corun's standard error; -k keeps input order in each;
# --tag puts the job's id and a tab before each line; a job that did not
# end ok gets a line on standard error (none for a child's own exit
# status); memory stays bounded behind a slow reader.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

have_time=0
[ "$SANITIZED" = 0 ] && /usr/bin/time -f %M true >/dev/null 2>&1 &&
	have_time=1

# ---------------------------------------------------------------------
# Byte-exact and uncapped: 10 MB of random bytes from one job, and a gzip
# stream through corun that gunzip takes back (records would have cut it
# at 1 MiB and replaced invalid UTF-8).
head -c 10000000 /dev/urandom >big.bin
for m in --group --line-buffer --ungroup; do
	printf 'exec cat big.bin\n' | corun $m >big.out 2>big.err
	echo $? >big.rc
	check "$m: 10 MB from one job come out byte-exact" cmp big.out big.bin
	is "$(cat big.rc)$(cat big.err)" 0 "$m: exit 0, nothing on stderr"
done
printf 'exec gzip -c big.bin\n' | corun --group | gunzip >gz.out
check "--group: gzip -c through corun | gunzip gives the file back" \
	cmp gz.out big.bin
printf 'exec cat big.bin\nexec cat big.bin\nexec cat big.bin\n' |
	corun --group -j3 >three.out
cat big.bin big.bin big.bin >three.want
check "--group: three jobs of 10 MB at once, each whole" cmp three.out three.want
# Standard output a file opened for appending (no sendfile there).
printf 'x\n' >app.out
printf 'exec cat big.bin\n' | corun --group >>app.out
{ printf 'x\n'; cat big.bin; } >app.want
check "--group into a file opened for appending" cmp app.out app.want

# ---------------------------------------------------------------------
# Standard error goes to corun's standard error, standard output to its
# standard output, in every mode.
cat >se.jobs <<'EOF'
sh 'echo out1; echo err1 >&2; echo out2'
EOF
for m in --group --line-buffer --ungroup; do
	corun $m se.jobs >se.out 2>se.err
	is "$(cat se.out)|$(cat se.err)" "out1
out2|err1" "$m: a job's stdout on stdout, its stderr on stderr"
done

# ---------------------------------------------------------------------
# --group: two jobs' outputs never interleave, though they write at the
# same time (--ungroup, run alike, mixes them: the check can fail).
cat >gr.jobs <<'EOF'
sh 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo A$i; sleep 0.02; done'
sh 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo B$i; sleep 0.02; done'
sh 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo C$i; sleep 0.02; done'
EOF
# How many times the job letter changes from one line to the next.
changes() {
	cut -c1 "$1" | uniq | wc -l | tr -d ' '
}
corun --group -j3 gr.jobs >gr.out
is "$(changes gr.out) $(nlines gr.out)" "3 45" \
	"--group: three jobs writing at once come out in three whole blocks"
corun --ungroup -j3 gr.jobs >gru.out
is "$(nlines gru.out)" 45 "--ungroup: every line of three jobs"
diag "--ungroup: $(changes gru.out) blocks (interleaved)"

# ---------------------------------------------------------------------
# --line-buffer: 12 jobs write 300 lines of 3000 bytes each, every line in
# three writes; no line is mixed with another job's.
i=0
: >lb.jobs
while [ $i -lt 12 ]; do
	printf 'exec %s lbw.py %d\n' "$PY" $i >>lb.jobs
	i=$((i + 1))
done
cat >lbw.py <<'EOF'
import os, sys
for i in range(300):
    os.write(1, b"w%s-%d-" % (sys.argv[1].encode(), i))
    os.write(1, b"x" * 1500)
    os.write(1, b"y" * 1490 + b"\n")
EOF
bad_lines() {
	grep -Evc '^w[0-9]+-[0-9]+-x{1500}y{1490}$' "$1"
}
corun --line-buffer -j12 lb.jobs >lb.out
is "$(nlines lb.out) $(bad_lines lb.out)" "3600 0" \
	"--line-buffer: 12 jobs writing 3000-byte lines in pieces: no line mixed"
corun --ungroup -j12 lb.jobs >lbu.out
diag "--ungroup, alike: $(bad_lines lbu.out) mixed lines"

# ---------------------------------------------------------------------
# -k: input order in every mode, whatever order the jobs end in.
cat >k.jobs <<'EOF'
sh 'sleep 0.6; echo 1; echo e1 >&2'
sh 'sleep 0.3; echo 2'
sh 'echo 3a; sleep 0.1; echo 3b'
sleep 0.05
EOF
for m in --group --line-buffer --ungroup; do
	corun $m -k -j4 k.jobs >k.out 2>k.err
	is "$(tr '\n' ' ' <k.out)|$(cat k.err)" "1 2 3a 3b |e1" \
		"$m -k: output in input order"
done

# ---------------------------------------------------------------------
# --tag: each line after the job's id and a tab, stdout and stderr alike;
# a last line without a newline gets its tag too.
cat >tag.jobs <<'EOF'
id=one sh 'echo a; echo b >&2; printf c'
sh 'printf "x\ny\n"'
EOF
corun --group --tag -k tag.jobs >tag.out 2>tag.err
is "$(cat tag.out)|$(cat tag.err)" "one	a
one	c2	x
2	y|one	b" "--tag: lines after the job's id and a tab, stdout and stderr"
corun --line-buffer --tag -k tag.jobs >tagl.out 2>/dev/null
check "--tag: the same in --line-buffer" cmp tagl.out tag.out

# ---------------------------------------------------------------------
# A job that does not end ok: a line on stderr naming it and why (not for
# a child's own exit status: its stderr speaks), exit status 1 either way.
cat >bad.jobs <<'EOF'
id=t timeout=0.2s exec sleep 10
id=f sh 'echo partial; exit 3'
id=n exec ./no-such-program
EOF
corun --group -k bad.jobs >bad.out 2>bad.err
echo $? >bad.rc
is "$(cat bad.rc)|$(cat bad.out)|$(cat bad.err)" "1|partial|corun: job t: timed out after 0.2s
corun: job n: exec: ./no-such-program: No such file or directory" \
	"jobs not ok: their output, a line each on stderr but for an exit status; exit 1"

# A job of another kind writes its value.
printf 'primes 100\n' | corun --group >pr.out
is "$(cat pr.out)" 25 "--group: a primes job writes its value"

# A retried job prints only its last attempt's output in --group.
cat >retry.jobs <<'EOF'
retries=2 backoff=10ms sh 'n=$(cat n 2>/dev/null || echo 0); echo try$n; echo $((n + 1)) >n; [ $n -ge 2 ]'
EOF
corun --group retry.jobs >retry.out 2>/dev/null
is "$(cat retry.out)" try2 "--group: a retried job: its last attempt's output only"

# --json and a raw mode do not go together; --records is the records.
corun --json --group se.jobs >/dev/null 2>js.err
is "$?" 2 "--json --group: usage error"
corun --records se.jobs >rec.out 2>&1
like "$(head -n 1 rec.out)" '^ok 1 [0-9.]+s sh: out1$' "--records: text records"

# ---------------------------------------------------------------------
# --results DIR: GNU parallel's layout, DIR/1/ARG/{seq,stdout,stderr}; a
# job line's id stands for its argument; nothing on stdout. NAME.json:
# JSON Lines records in that file instead of stdout.
cat >res.jobs <<'EOF'
id=a sh 'echo out; echo err >&2'
sh 'printf "%s" "no newline"'
EOF
corun --results res res.jobs >res.out 2>res.err
echo $? >res.rc
is "$(cat res.rc)|$(cat res.out)|$(cat res.err)" "0||" \
	"--results DIR: exit 0, nothing on stdout or stderr"
is "$(cd res && find . -type f | sort | tr '\n' ' ')" \
	"./1/2/seq ./1/2/stderr ./1/2/stdout ./1/a/seq ./1/a/stderr ./1/a/stdout " \
	"--results DIR: DIR/1/ID/seq, stdout and stderr per job"
is "$(cat res/1/a/seq)|$(cat res/1/a/stdout)|$(cat res/1/a/stderr)|$(cat res/1/2/seq)|$(cat res/1/2/stdout)" \
	"1|out|err|2|no newline" "--results DIR: the files hold seq, stdout and stderr"
printf 'exec cat big.bin\n' | corun --results resbig --group >resbig.out
check "--results DIR --group: 10 MB in DIR/1/1/stdout, byte-exact" \
	cmp resbig/1/1/stdout big.bin
check "--results DIR --group: and on stdout" cmp resbig.out big.bin
corun --results res.json res.jobs >resj.out
is "$(cat resj.out)$(nlines res.json)" 2 \
	"--results NAME.json: nothing on stdout, a record per job in NAME.json"
like "$(grep '"id":"a"' res.json)" '^\{"id":"a",.*"value":"out\\n","stderr":"err\\n"' \
	"--results NAME.json: JSON Lines records"
corun --json --results res2 res.jobs >/dev/null 2>&1
is "$?" 2 "--json --results DIR: usage error"

# A reader that goes away ends the run, without a line per cancelled job.
for m in --ungroup --line-buffer; do
	printf 'exec yes\n' | corun $m 2>gone.err | head -c 100 >/dev/null
	is "$(cat gone.err)" "" "$m: a reader gone ends the run, nothing on stderr"
done

# ---------------------------------------------------------------------
# Memory stays bounded behind a reader that reads nothing for 3 s: --group
# spools 4 jobs of 40 MB to files; --ungroup holds --output-buffer.
printf 'sh "head -c 40000000 /dev/zero"\n%.0s' 1 2 3 4 >z.jobs
stalled() {
	st_name=$1
	shift
	rm -f "$st_name.fifo"
	mkfifo "$st_name.fifo"
	{
		sleep 3
		wc -c >"$st_name.count"
	} <"$st_name.fifo" &
	st_reader=$!
	bg_track $st_reader
	if [ $have_time = 1 ]; then
		timeout -k 3 120 /usr/bin/time -f %M -o "$st_name.rss" \
			"$CORUN_LINK" "$@" z.jobs >"$st_name.fifo" </dev/null
	else
		corun_within 120 "$@" z.jobs >"$st_name.fifo" </dev/null
	fi
	echo $? >"$st_name.rc"
	wait $st_reader
	diag "$st_name: peak RSS $(tail -n 1 "$st_name.rss" 2>/dev/null) KB"
}
for m in group ungroup line-buffer; do
	stalled $m --$m -j4 --output-buffer 8M
	is "$(cat $m.rc) $(tr -d ' ' <$m.count)" "0 160000000" \
		"--$m: 160 MB behind a stalled reader: every byte"
	if [ $have_time = 1 ]; then
		lt "$(tail -n 1 $m.rss)" 40960 \
			"--$m: 160 MB behind a stalled reader: corun stays under 40 MiB"
	else
		skip "--$m: 160 MB behind a stalled reader: corun stays under 40 MiB" \
			"no GNU /usr/bin/time, or a sanitizer build"
	fi
done

no_leftovers "nothing is left running"
done_testing
