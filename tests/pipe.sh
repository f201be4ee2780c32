#!/bin/sh
# pipe.sh: --pipe (corun(1), "Standard input to jobs"): standard input cut
# into blocks at record ends, each block one job's standard input, written
# by the loop with backpressure. GNU parallel's --pipe is the oracle where
# it is installed. Jobs write records here: values are read from --json.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

have_parallel=0
command -v parallel >/dev/null 2>&1 && have_parallel=1
have_time=0
[ "$SANITIZED" = 0 ] && /usr/bin/time -f %M true >/dev/null 2>&1 &&
	have_time=1

# The values of the records of FILE, concatenated in record order.
values() {
	"$PY" -c 'import json, sys
sys.stdout.write("".join(json.loads(l)["value"] for l in open(sys.argv[1])))' \
		"$1"
}

# The sum of the values of FILE's records, as numbers.
vsum() {
	jpy "$1" 'sum(int(r["value"]) for r in R)'
}

# ---------------------------------------------------------------------
# 1M lines into wc -l jobs: the sum is the input's line count, over
# several blocks of the default 1 MiB.
seq 1000000 >big
corun --pipe -c 'wc -l' --json <big >wc.out 2>wc.err
is "$?" 0 "--pipe wc -l on 1M lines: exit status 0"
is "$(vsum wc.out)" 1000000 "--pipe wc -l on 1M lines: the sums add up to wc -l"
is "$(nlines wc.out)" 7 "--pipe: 6.9 MB in blocks of 1 MiB make 7 jobs"
is "$(jpy wc.out 'sorted(set(r["status"] for r in R))')" '["ok"]' \
	"--pipe: every block's job ends ok"

if [ $have_parallel = 1 ]; then
	parallel --pipe wc -l <big >par.out 2>/dev/null
	is "$(vsum wc.out)" "$(awk '{ s += $1 } END { print s }' par.out)" \
		"--pipe wc -l on 1M lines: the same sum as parallel --pipe"
else
	skip "--pipe wc -l: the same sum as parallel --pipe" "no GNU parallel"
fi

# ---------------------------------------------------------------------
# Blocks end at record ends: in -k order the blocks put back together are
# the input byte for byte, and each one ends with a newline.
corun --pipe -k --block 10K -c cat --json <big >cat.out
values cat.out >cat.back
check "--pipe -k: the blocks in order are the input, byte for byte" \
	cmp cat.back big
is "$(jpy cat.out 'sum(not r["value"].endswith("\n") for r in R)')" 0 \
	"--pipe: every block ends at the end of a line"
is "$(jpy cat.out 'max(len(r["value"]) for r in R) <= 10240')" true \
	"--block 10K: no block is over 10 KiB (the lines are short)"
is "$(jpy cat.out 'min(len(r["value"]) for r in R[:-1]) > 10240 - 8')" true \
	"--block 10K: every block but the last is 10 KiB less at most a line"

# The same cuts as parallel: the line count of each block, in order.
for b in 64K 100K 1M; do
	corun --pipe -k --block $b -c 'wc -l' --json <big >cuts.$b
	if [ $have_parallel = 1 ]; then
		parallel --pipe -k --block $b wc -l <big >pcuts.$b 2>/dev/null
		is "$(values cuts.$b | md5sum)" "$(md5sum <pcuts.$b)" \
			"--block $b: blocks cut where parallel --pipe cuts them"
	else
		skip "--block $b: blocks cut where parallel cuts them" \
			"no GNU parallel"
	fi
done

# ---------------------------------------------------------------------
# --recend and --recstart, as parallel's: each block shown as "---" and
# its bytes, compared with parallel -k --pipe 'echo ---; cat'.
# recpipe NAME INPUT ARG...: corun's blocks of INPUT into NAME.got.
recpipe() {
	rp_name=$1
	rp_in=$2
	shift 2
	printf '%s' "$rp_in" |
		corun --pipe -k -c cat --json "$@" >"$rp_name.out"
	jpy "$rp_name.out" '"".join("---\n" + r["value"] for r in R)' \
		>"$rp_name.got"
	if [ $have_parallel = 1 ]; then
		printf '%s' "$rp_in" |
			parallel --pipe -k "$@" 'echo ---; cat' \
				>"$rp_name.want" 2>/dev/null
	fi
}
recpipe rend 'a1;b2;c3;d4' --block 3 --recend ';'
is "$(cat rend.got)" "$(printf -- '---\na1;---\nb2;---\nc3;---\nd4')" \
	"--recend ';': blocks end after ';', the last one without"
recpipe rstart "$(printf 'a1\nb2\nXc3\nd4\nXe\n')" --block 3 --recstart X
is "$(cat rstart.got)" "$(printf -- '---\na1\nb2\n---\nXc3\nd4\n---\nXe')" \
	"--recstart X: blocks start at X"
recpipe both 'a;b;Xc;Xd;e;Xf;g;h;Xi' --block 8 --recend ';' --recstart X
is "$(cat both.got)" \
	"$(printf -- '---\na;b;Xc;---\nXd;e;---\nXf;g;h;---\nXi')" \
	"--recend ';' --recstart X: cut only between ';' and X"
recpipe none 'abcdefg' --block 3 --recend ''
is "$(cat none.got)" "$(printf -- '---\nabc---\ndef---\ng')" \
	"--recend '': blocks of exactly --block bytes"
for t in rend rstart both none; do
	if [ $have_parallel = 1 ]; then
		is "$(cat $t.got)" "$(cat $t.want)" \
			"--pipe $t: the blocks parallel --pipe makes"
	else
		skip "--pipe $t: the blocks parallel --pipe makes" \
			"no GNU parallel"
	fi
done

# Binary data, NUL bytes included, with no record separator: blocks of
# exactly --block bytes, each one's bytes intact (cksum of each block
# against split -b's pieces).
head -c 100000 /dev/urandom >bin
corun --pipe -k --recend '' --block 10000 -c cksum --json <bin >bin.out
split -b 10000 bin piece.
for p in piece.*; do cksum <"$p"; done >bin.want
is "$(values bin.out)" "$(cat bin.want)" \
	"--recend '': binary blocks of --block bytes, byte for byte"

# A record longer than the block is not split; a last line without a
# newline is a block too; no input, no job.
"$PY" -c 'print("x" * 5000); print("y")' >long
corun --pipe -k --block 100 -c cat --json <long >long.out
is "$(jpy long.out '[len(r["value"]) for r in R]')" "[5001, 2]" \
	"a record longer than --block stays whole in one block"
printf 'a\nb' | corun --pipe -c cat --json >nonl.out
is "$(jpy nonl.out '[r["value"] for r in R]')" '["a\nb"]' \
	"the last record needs no newline"
corun --pipe -c cat --json </dev/null >empty.out
is "$? $(wc -c <empty.out | tr -d ' ')" "0 0" \
	"empty standard input: no job, exit status 0"

# ---------------------------------------------------------------------
# Children that do not read their input, or read a little, are no error
# of corun's; the job's status is the child's.
corun --pipe --block 100K -c true --json <big >true.out
is "$? $(jpy true.out 'len(R)') $(jpy true.out 'sorted(set(r["status"] for r in R))')" \
	"0 $(nlines cuts.100K) [\"ok\"]" \
	"children that read nothing: every job ok, exit status 0"
corun --pipe -k -c 'head -c 3' --json <big >head.out
is "$? $(jpy head.out 'R[0]["value"]') $(jpy head.out 'len(R)')" \
	"0 $(printf '1\n2') 7" \
	"children that read 3 bytes and exit: ok (the rest is not theirs)"
corun --pipe --block 2M -c 'sh "wc -l; exit 3"' --json <big >fail.out
is "$? $(jpy fail.out '[r["exit"] for r in R]')" "1 [3, 3, 3, 3]" \
	"the child's exit status is the job's: exit status 1"

# A retried attempt gets its block again, whole: each first attempt keeps
# a copy and fails, the second one counts the same bytes.
cat >retry.sh <<'END'
#!/bin/sh
cat >"b.$$"
c=$(cksum <"b.$$" | tr ' ' _)
rm "b.$$"
if mkdir "seen.$c" 2>/dev/null; then exit 1; fi
echo "$c"
END
chmod +x retry.sh
corun --pipe --block 1M -r 1 --backoff 10ms --json -c ./retry.sh <big \
	>retry.out
is "$? $(jpy retry.out 'sorted(set(r["attempts"] for r in R))')" "0 [2]" \
	"a failed block is retried: exit status 0, two attempts each"
is "$(jpy retry.out 'sorted(r["value"].split("_")[0] for r in R)')" \
	"$(corun --pipe --block 1M --json -c cksum <big | jpy /dev/stdin \
		'sorted(r["value"].split(" ")[0] for r in R)')" \
	"the second attempt reads the same block as the first"

# ---------------------------------------------------------------------
# Memory stays bounded: 64 MiB of lines into slow jobs, two at a time,
# keep corun at a few blocks (1 MiB each), not the input, when it comes
# through a pipe; from a regular file no block is held at all, even of
# 16 MiB.
if [ $have_time = 1 ]; then
	"$PY" -c 'import sys; sys.stdout.write(("%063d\n" % 7) * (1 << 20))' \
		>huge
	cat huge | timeout -k 3 "$(scaled 120)" /usr/bin/time -f %M \
		-o huge.rss "$CORUN_LINK" --pipe -j2 --json \
		-c 'sh "sleep 0.02; wc -l"' >huge.out 2>huge.err
	is "$? $(vsum huge.out)" "0 1048576" \
		"64 MiB into slow jobs: every line counted, exit status 0"
	diag "peak RSS $(tail -n 1 huge.rss) KB for 64 MiB of input"
	lt "$(tail -n 1 huge.rss)" 30720 \
		"64 MiB through a pipe into slow jobs, -j2: corun stays under 30 MiB"
	timeout -k 3 "$(scaled 120)" /usr/bin/time -f %M -o hugef.rss \
		"$CORUN_LINK" --pipe -j2 --block 16M --json \
		-c 'sh "sleep 0.02; wc -l"' <huge >hugef.out 2>hugef.err
	is "$? $(vsum hugef.out)" "0 1048576" \
		"64 MiB from a file, --block 16M: every line counted"
	diag "peak RSS $(tail -n 1 hugef.rss) KB for 64 MiB in 16 MiB blocks"
	lt "$(tail -n 1 hugef.rss)" 16384 \
		"64 MiB from a file in 16 MiB blocks: corun stays under 16 MiB"
	timeout -k 3 "$(scaled 120)" /usr/bin/time -f %M -o hugep.rss \
		"$CORUN_LINK" --pipe -j2 --block -1 --json -c 'wc -l' \
		<huge >hugep.out 2>hugep.err
	is "$? $(jpy hugep.out 'len(R)') $(vsum hugep.out)" "0 2 1048576" \
		"64 MiB from a file, --block -1 -j2: two jobs, every line counted"
	diag "peak RSS $(tail -n 1 hugep.rss) KB for 64 MiB in 2 blocks"
	lt "$(tail -n 1 hugep.rss)" 16384 \
		"64 MiB from a file in 2 blocks: corun stays under 16 MiB"
else
	skip "64 MiB into slow jobs: memory bounded" \
		"no GNU /usr/bin/time, or a sanitizer build"
	skip "64 MiB from a file: memory bounded" \
		"no GNU /usr/bin/time, or a sanitizer build"
	skip "64 MiB from a file in 2 blocks: memory bounded" \
		"no GNU /usr/bin/time, or a sanitizer build"
fi

# ---------------------------------------------------------------------
# A regular file on standard input is read in place (its blocks spliced
# into the jobs' pipes): the same blocks as through a pipe, every rule.
# samecut NAME FILE ARG...: the blocks of FILE, from the file and from a
# pipe, shown as "---" and their bytes, must be the same.
samecut() {
	sc_name=$1
	sc_file=$2
	shift 2
	corun --pipe -k -c cat --json "$@" <"$sc_file" >"$sc_name.f"
	cat "$sc_file" | corun --pipe -k -c cat --json "$@" >"$sc_name.p"
	is "$(jpy "$sc_name.f" '"".join("---\n" + r["value"] for r in R)' |
		md5sum)" \
		"$(jpy "$sc_name.p" '"".join("---\n" + r["value"] for r in R)' |
			md5sum)" \
		"a file and a pipe are cut alike: $*"
}
printf 'a1;b2;c3;d4' >r1
printf 'a1\nb2\nXc3\nd4\nXe\n' >r2
printf 'a;b;Xc;Xd;e;Xf;g;h;Xi' >r3
"$PY" -c 'import sys; sys.stdout.write("".join("x" * n + "\n"
    for n in (5, 30000, 7, 200000, 3, 70000, 1)))' >long
samecut s1 r1 --block 3 --recend ';'
samecut s2 r2 --block 3 --recstart X
samecut s3 r3 --block 8 --recend ';' --recstart X
samecut s4 r1 --block 3 --recend ''
samecut s5 big --block 10K
samecut s6 long --block 10K
samecut s7 long --block 100K --recend 'x\n'
samecut s8 bin --block 10000 --recend ''
samecut s9 r2 --block 1

# Reading in place starts where standard input is and leaves it at the
# end, as reading would: what came before is not cut, what comes after
# sees nothing left.
seq 1000 >off
(
	dd bs=1000 count=1 of=/dev/null 2>/dev/null
	corun --pipe -k -c cat --json >off.out
	cat
) <off >off.rest
is "$(values off.out | md5sum)" "$(tail -c +1001 off | md5sum)" \
	"a file read in place: from where standard input is"
is "$(wc -c <off.rest | tr -d ' ')" 0 \
	"a file read in place: standard input is left at its end"
# A file whose size is 0 though it has bytes (/proc) is read, not skipped.
is "$(corun --pipe -c 'wc -l' </proc/self/status)" \
	"$(wc -l </proc/self/status | tr -d ' ')" \
	"--pipe on a /proc file (size 0): its lines are read"

# ---------------------------------------------------------------------
# --block -N: a regular file cut into N blocks per job slot (-j), each an
# even share of what is left, at record ends (GNU parallel's --pipepart
# --block -N, the oracle where installed).
for n in 1 2; do
	for j in 2 3; do
		corun --pipe --block -$n -j $j -c 'wc -l' --json <big \
			>part.$n.$j
		is "$? $(jpy part.$n.$j 'len(R)') $(vsum part.$n.$j)" \
			"0 $((n * j)) 1000000" \
			"--block -$n -j $j: $((n * j)) jobs, their lines add up to wc -l"
		if [ $have_parallel = 1 ]; then
			parallel --pipepart -a big --block -$n -j $j wc -l \
				>ppart.$n.$j 2>/dev/null
			is "$(jpy part.$n.$j 'len(R)') $(vsum part.$n.$j)" \
				"$(awk '{ s += $1 } END { print NR, s }' ppart.$n.$j)" \
				"--block -$n -j $j: as many jobs and lines as parallel --pipepart"
		else
			skip "--block -$n -j $j: the jobs and lines of parallel --pipepart" \
				"no GNU parallel"
		fi
	done
done
cpus=$(getconf _NPROCESSORS_ONLN)
corun --pipe --block -2 -j 0 -c 'wc -l' --json <big >part.j0
is "$(jpy part.j0 'len(R)') $(vsum part.j0)" "$((2 * cpus)) 1000000" \
	"--block -2 -j 0: two jobs per online CPU"

# The blocks put back together are the file; each ends at a line end and
# they are even shares of it, a line (7 bytes here) apart at most.
seq 100000 >mid
corun --pipe --block -2 -j 3 -k -c cat --json <mid >even.out
values even.out >even.back
check "--block -2: the blocks in order are the file, byte for byte" \
	cmp even.back mid
is "$(jpy even.out 'len(R)') $(jpy even.out 'sum(not r["value"].endswith("\n") for r in R)')" \
	"6 0" "--block -2 -j 3: six blocks, each ending at the end of a line"
is "$(jpy even.out 'max(len(r["value"]) for r in R) - min(len(r["value"]) for r in R) <= 7')" \
	true "--block -2 -j 3: the blocks are even shares, a line apart at most"

# --recend and --recstart: cut only where one record ends and the next
# starts ("y;" ends a record with no X after it, so it is no boundary).
"$PY" -c 'import sys; sys.stdout.write("".join("X%d;" % i + "y;" * (4 + i % 3)
    for i in range(20000)))' >recs
corun --pipe --block -2 -j 2 -k -c cat --json --recend ';' --recstart X \
	<recs >recs.out
values recs.out >recs.back
check "--block -2 --recend ';' --recstart X: the blocks are the file" \
	cmp recs.back recs
is "$(jpy recs.out 'len(R)') $(jpy recs.out 'all(r["value"].startswith("X") and r["value"].endswith(";") for r in R)')" \
	"4 true" \
	"--block -2 --recend ';' --recstart X: four blocks, cut between ';' and X"
tr ';' '\n' <recs >recs2
corun --pipe --block -1 -j 4 -k -c cat --json --recstart X <recs2 \
	>recs2.out
is "$(jpy recs2.out 'len(R)') $(jpy recs2.out 'all(r["value"].startswith("X") for r in R)')" \
	"4 true" "--block -1 --recstart X: four blocks, each starting with X"

# From where standard input stands: the rest of the file is shared out.
(
	dd bs=1000 count=1 of=/dev/null 2>/dev/null
	corun --pipe --block -2 -j 2 -k -c cat --json >offp.out
) <off
is "$(jpy offp.out 'len(R)') $(values offp.out | md5sum)" \
	"4 $(tail -c +1001 off | md5sum)" \
	"--block -2 -j 2 from an offset: the rest of the file in four blocks"

# Any standard input but a regular file is a usage error (its size is not
# known in advance); an empty file makes no job; a /proc file (size 0) is
# read in blocks of 1 MiB.
seq 10 | corun --pipe --block -1 -c 'wc -l' >nreg.out 2>nreg.err
is "$? $(wc -c <nreg.out | tr -d ' ')" "2 0" \
	"--block -1 with a pipe on standard input: usage error, no job"
contains "$(cat nreg.err)" "regular file" \
	"--block -1 with a pipe: the message says a regular file is needed"
corun --pipe --block -1 -c 'wc -l' </dev/null >nreg.out 2>&1
is "$?" 2 "--block -1 with /dev/null on standard input: usage error"
: >empty
corun --pipe --block -1 -c cat --json <empty >emptyp.out
is "$? $(wc -c <emptyp.out | tr -d ' ')" "0 0" \
	"--block -1 on an empty file: no job, exit status 0"
is "$(corun --pipe --block -1 -c 'wc -l' </proc/self/status)" \
	"$(wc -l </proc/self/status | tr -d ' ')" \
	"--block -1 on a /proc file (size 0): its lines are read"

# ---------------------------------------------------------------------
# Usage errors, and standard input without --pipe.
usage() {
	corun "$@" </dev/null >usage.out 2>usage.err
	is "$? $(wc -c <usage.out | tr -d ' ')" "2 0" "usage error: $*"
}
usage --pipe -c 'sleep 1'
usage --pipe -c 'http http://127.0.0.1:1/'
usage --pipe
usage --pipe -c 'id=x wc -l'
usage --pipe -c cat big
usage --recend x
usage --block 0 --pipe -c cat
usage --block -0 --pipe -c cat
usage --block -x --pipe -c cat
usage --block -1000001 --pipe -c cat
usage --block -1K --pipe -c cat
contains "$(corun --pipe -c 'sleep 1' </dev/null 2>&1)" "exec or sh" \
	"--pipe with another kind: the message says exec or sh"

printf 'sh "cat; readlink /proc/self/fd/0"\n' | corun --json >null.out
is "$(jpy null.out 'R[0]["value"]')" "/dev/null" \
	"without --pipe a job's standard input is /dev/null"
corun --pipe -c 'sh "readlink /proc/self/fd/0 | cut -d: -f1"' --json \
	<nonl.out >isp.out
is "$(jpy isp.out 'R[0]["value"]')" "pipe" \
	"with --pipe it is a pipe"

# SIGTERM stops reading: a producer that never ends does not hold corun.
mkfifo sig.fifo
{
	seq 3
	exec sleep 60
} >sig.fifo &
bg_track $!
bg_corun sig sig.fifo sig.out sig.err --pipe --block 1 -c cat
i=0
while [ "$(nlines sig.out)" -lt 3 ] && [ $i -lt "$(ticks 10)" ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -TERM "$bg_pid"
is "$(bg_wait sig 10) $(nlines sig.out)" "143 3" \
	"SIGTERM while standard input stays open: exit status 143, every record"

no_leftovers "no corun process is left"
done_testing
