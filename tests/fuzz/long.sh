#!/usr/bin/env bash
# tests/fuzz/long.sh BUILD SECONDS [NAME...]: a fuzzing campaign.
#
# Runs each fuzz target named (default: every one built), one after the
# other, for SECONDS seconds on a persistent corpus:
#
#	BUILD/fuzz-corpus/NAME/		the corpus, seeded from fuzz/corpus/NAME
#					(seeds added since are copied in again)
#	BUILD/fuzz-artifacts/NAME/	crash-*, timeout-*, oom-*, leak-* inputs
#	BUILD/fuzz-logs/NAME.log	libFuzzer's output (NAME.merge.log: the
#					merge after the run)
#
# and prints one line per target:
#
#	fuzz-long NAME: E execs, R exec/s, cov C, ft F, corpus N files (K KiB),
#	    wall W s, cpu U s, exit S, artifacts: none | FILE...
#
# cov and ft are libFuzzer's last edge and feature counts; cpu is the user
# plus system time of the fuzzer process.  After a run without an
# artifact the corpus is merged (-merge=1) into a fresh directory that
# takes its place; the corpus size is that of the merged corpus.  A run stops early at its first
# crash, timeout or out-of-memory input (libFuzzer's rule).  The exit
# status is 1 when any target left a new artifact or failed.
#
# Environment: FUZZ_TIMEOUT (seconds for one input, default 25),
# FUZZ_RSS_MB (default 2048), FUZZ_ARGS (more libFuzzer flags).
set -u
if [ $# -lt 2 ] || ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -eq 0 ]; then
	echo "usage: $0 BUILD SECONDS [NAME...] (SECONDS a positive integer)" >&2
	exit 64
fi
BUILD=$1
secs=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

. tests/fuzz/lib.sh
fuzz_targets "$BUILD" "$@"
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz-long: no target in $BUILD/fuzz: run make fuzz" >&2
	exit 1
fi

# last_field LOG WORD: the number after the last "WORD:" of a status line.
last_field() {
	grep -o " $2: [0-9]*" "$1" | tail -n 1 | sed 's/.*: //'
}
stat_field() {
	sed -n "s/^stat::$2: *\([0-9]*\).*/\1/p" "$1" | tail -n 1
}

status=0
for name in "${targets[@]}"; do
	f=$BUILD/fuzz/fuzz_$name
	if [ ! -x "$f" ]; then
		echo "fuzz-long $name: no $f (run make fuzz)"
		status=1
		continue
	fi
	corpus=$BUILD/fuzz-corpus/$name
	art=$BUILD/fuzz-artifacts/$name
	log=$BUILD/fuzz-logs/$name.log
	times=$BUILD/fuzz-logs/$name.time
	mkdir -p "$corpus" "$art" "${log%/*}"
	[ -d "fuzz/corpus/$name" ] && cp -n "fuzz/corpus/$name/"* "$corpus/" 2>/dev/null
	before=$(ls "$art")

	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
	/usr/bin/time -f '%e %U %S' -o "$times" \
	    "$f" -max_total_time="$secs" -print_final_stats=1 \
	    -timeout="${FUZZ_TIMEOUT:-25}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
	    -artifact_prefix="$art/" ${FUZZ_ARGS:-} "$corpus" >"$log" 2>&1
	rc=$?

	# libFuzzer only adds files (a reduced input is a new one): merge
	# the corpus into a fresh directory that keeps the inputs covering
	# what the whole did, and put it in place.
	if [ $rc -eq 0 ]; then
		merged=$(mktemp -d "$corpus.merge-XXXXXX")
		if "$f" -merge=1 -timeout="${FUZZ_TIMEOUT:-25}" \
		    -rss_limit_mb="${FUZZ_RSS_MB:-2048}" "$merged" "$corpus" \
		    >"${log%.log}.merge.log" 2>&1; then
			rm -rf "$corpus" && mv "$merged" "$corpus"
		else
			rm -rf "$merged"
		fi
	fi

	read -r wall user sys < <(grep -E '^[0-9.]+ [0-9.]+ [0-9.]+$' "$times")
	cpu=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { printf "%.0f", u + s }')
	new=$(comm -13 <(printf '%s\n' "$before") <(ls "$art") | sed "s|^|$art/|")
	files=$(find "$corpus" -type f | wc -l)
	kib=$(find "$corpus" -type f -printf "%s\n" | awk "{ s += \$1 } END { printf \"%.0f\", s / 1024 }")
	printf 'fuzz-long %s: %s execs, %s exec/s, cov %s, ft %s, corpus %s files (%s KiB), wall %.0f s, cpu %s s, exit %s, artifacts: %s\n' \
	    "$name" "$(stat_field "$log" number_of_executed_units)" \
	    "$(stat_field "$log" average_exec_per_sec)" \
	    "$(last_field "$log" cov)" "$(last_field "$log" ft)" \
	    "$files" "$kib" "${wall:-0}" "$cpu" "$rc" \
	    "$(if [ -n "$new" ]; then echo $new; else echo none; fi)"
	if [ $rc -ne 0 ] || [ -n "$new" ]; then
		tail -n 30 "$log" | sed 's/^/    /'
		status=1
	fi
done
exit $status
