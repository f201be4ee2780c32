#!/bin/sh
# modes-parallel.sh: the output modes in command mode, byte for byte
# against GNU parallel (corun(1), OUTPUT, Raw output): the default
# (--group), -k, --tag, --line-buffer, --results DIR's layout, binary and
# large output, standard error. Skipped (TAP SKIP) when parallel is not
# installed or when this corun has no command mode (corun -c is then a
# usage error).

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

if ! command -v parallel >/dev/null 2>&1; then
	echo "1..0 # SKIP GNU parallel is not installed"
	exit 0
fi
if ! corun -c true ::: x >/dev/null 2>&1; then
	echo "1..0 # SKIP no command mode: corun -c true ::: x fails"
	exit 0
fi
# parallel's notice about citing it, once and for all.
mkdir -p home/.parallel
touch home/.parallel/will-cite
HOME=$T/home
export HOME

# ---------------------------------------------------------------------
# The default in command mode is --group: each job's stdout whole, byte
# for byte; records only when asked for.
corun -k -c 'echo {}' ::: a 'b c' "d'e" >c.out 2>c.err
parallel -k echo ::: a 'b c' "d'e" >p.out 2>p.err
check "command mode: raw output by default, the same bytes as parallel" \
	cmp c.out p.out
corun --records -c 'echo {}' ::: a >rec.out
like "$(cat rec.out)" '^ok 1 [0-9.]+s exec echo a: a$' "--records in command mode: text records"

# -k: input order, whatever order the jobs end in.
corun -k -j3 -c 'sh "sleep {}; echo {}"' ::: 0.3 0.1 0.2 >k.out
parallel -k -j3 'sleep {}; echo {}' ::: 0.3 0.1 0.2 >kp.out
check "-k: the same bytes as parallel -k" cmp k.out kp.out

# --tag, stdout and stderr.
corun -k --tag -c 'sh "echo {}; echo err{} >&2"' ::: a 'b c' >t.out 2>t.err
parallel -k --tag 'echo {}; echo err{} >&2' ::: a 'b c' >tp.out 2>tp.err
check "--tag: the same stdout as parallel --tag" cmp t.out tp.out
check "--tag: the same stderr as parallel --tag" cmp t.err tp.err

# --line-buffer -k.
corun -k --line-buffer -c 'sh "echo 1{}; sleep 0.1; echo 2{}"' ::: a b >l.out
parallel -k --line-buffer 'echo 1{}; sleep 0.1; echo 2{}' ::: a b >lp.out
check "--line-buffer -k: the same bytes as parallel" cmp l.out lp.out

# Binary and large output: 10 MB of random bytes, twice, and gzip.
head -c 10000000 /dev/urandom >big.bin
cp big.bin big2.bin
corun -k -c 'cat {}' ::: big.bin big2.bin >b.out
parallel -k cat ::: big.bin big2.bin >bp.out
check "10 MB of binary output per job: the same bytes as parallel" \
	cmp b.out bp.out
corun -c 'gzip -c {}' ::: big.bin | gunzip >gz.out
check "gzip -c through corun | gunzip gives the file back" cmp gz.out big.bin

# Standard error goes to standard error.
corun -c 'sh "echo out{}; echo err{} >&2"' ::: x >e.out 2>e.err
parallel 'echo out{}; echo err{} >&2' ::: x >ep.out 2>ep.err
check "stdout: the same bytes as parallel" cmp e.out ep.out
check "stderr: the same bytes as parallel" cmp e.err ep.err

# --results DIR: the same files, holding the same bytes.
corun --results rc -c 'sh "echo {1} {2}; echo e{2} >&2"' ::: x 'a/b' ::: y z \
	>rc.out
parallel --results rp 'echo {1} {2}; echo e{2} >&2' ::: x 'a/b' ::: y z \
	>rp.out
is "$(cd rc && find . | sort)" "$(cd rp && find . | sort)" \
	"--results DIR: the layout of parallel --results DIR"
is "$(cd rc && find . -type f | sort | xargs cat)" \
	"$(cd rp && find . -type f | sort | xargs cat)" \
	"--results DIR: the same contents"
is "$(cat rc.out)" "$(cat rp.out)" "--results DIR: the same standard output"

no_leftovers "nothing is left running"
done_testing
