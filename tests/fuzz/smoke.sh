#!/usr/bin/env bash
# tests/fuzz/smoke.sh BUILD [NAME...]: run every fuzz target (or the ones
# named) over a scratch copy of its seed corpus plus 2000 mutated inputs.
#
# Prints "PASS fuzz:NAME" or, with the end of libFuzzer's output,
# "FAIL fuzz:NAME (exit status N; ...)", the input that failed being kept
# in BUILD/fuzz-artifacts/NAME/.  make fuzz-smoke and tests/run-all.sh
# run it.
set -u
BUILD=${1:-build}
[ $# -gt 0 ] && shift
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

. tests/fuzz/lib.sh
fuzz_targets "$BUILD" "$@"
[ ${#targets[@]} -gt 0 ] ||
	echo "FAIL fuzz:smoke (no target in $BUILD/fuzz: run make fuzz)"

for name in "${targets[@]}"; do
	f=$BUILD/fuzz/fuzz_$name
	if [ ! -x "$f" ]; then
		echo "FAIL fuzz:$name (no $f: run make fuzz)"
		continue
	fi
	# libFuzzer adds new inputs to the first corpus directory: give it a
	# scratch copy so the checked-in seeds stay as they are.
	scratch=$(mktemp -d)
	[ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$scratch/"
	art=$BUILD/fuzz-artifacts/$name
	mkdir -p "$art"
	out=$("$f" -runs=2000 -seed=1 -artifact_prefix="$art/" "$scratch" 2>&1)
	rc=$?
	rm -rf "$scratch"
	if [ $rc -eq 0 ]; then
		echo "PASS fuzz:$name"
	else
		printf '%s\n' "$out" | tail -40
		echo "FAIL fuzz:$name (exit status $rc; the input is in $art)"
	fi
done
