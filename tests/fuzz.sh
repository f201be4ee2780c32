#!/bin/sh
# fuzz.sh: the fuzz harnesses replay their seed corpus and every input that
# ever crashed them (tests/fuzz/seeds-*), in this build (see scripts/fuzz).
echo "1..3"
n=0
for name in parse frame wire; do
	n=$((n + 1))
	if "$BUILDDIR/tests/fuzz/replay_$name" "$SRCDIR"/tests/fuzz/seeds-$name/* >/dev/null; then
		echo "ok $n - fuzz_$name replays its seeds"
	else
		echo "not ok $n - fuzz_$name replays its seeds"
	fi
done
