#!/usr/bin/env bash
# Run every test and print one summary line: "N passed, N failed, N skipped".
#
#   tests/run-all.sh [BUILD [SANBUILD]]
#
# Each test program prints lines "PASS name", "FAIL name" or "SKIP name";
# this script runs them all, keeps their output, and counts those lines.
# A BUILD made with SANITIZE= runs everything under its sanitizers; a
# SANBUILD (one made with SANITIZE=) runs the unit and guest tests once
# more that way, as lines "PASS san:name" ...  (tests/san.sh).
set -u
BUILD=${1:-build}
SAN=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
. tests/san.sh
san_build "$BUILD" && san_env "$BUILD"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

section() { printf '\n== %s\n' "$1" | tee -a "$log"; }

run() {
	# run NAME CMD...: a crashing or silent test binary counts as a failure.
	local name=$1 rc out
	shift
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' <<<"$out"; then
		echo "FAIL $name (exit status $rc)"
	fi
	if ! grep -qE '^(PASS|FAIL|SKIP) ' <<<"$out" && [ $rc -eq 0 ]; then
		echo "FAIL $name (ran no test)"
	fi
}

# unit_tests BUILD: every unit test binary of BUILD.
unit_tests() {
	local t name
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		run "$(basename "$t")" san_leaks "$t"
	done
	# The fuzz targets' seeds and regression inputs, without libFuzzer.
	for t in "$1"/replay/fuzz_*; do
		[ -x "$t" ] || continue
		name=${t##*/fuzz_}
		run "replay:$name" san_leaks "$t" "fuzz/corpus/$name"
	done
}

# The Linux boots go first, in the background: on a software-assisted
# (PVM) host each takes minutes of guest kernel code emulated instruction
# by instruction, so they overlap everything else.  Their output is shown
# (and counted) at the end.
linux_log=$(mktemp)
linux_pid=
if [ -x tests/linux/run.sh ]; then
	rm -f "$BUILD/linux/fetch.done"	# not a previous run's
	if [ -e /sys/module/kvm_pvm ]; then
		echo "Linux boot tests: started in the background; on this" \
		    "software-assisted KVM host (kvm_pvm) they take about 10 minutes"
	fi
	tests/linux/run.sh "$BUILD" >"$linux_log" 2>&1 &
	linux_pid=$!
fi
trap 'rm -f "$log" "$linux_log"; [ -n "$linux_pid" ] && kill "$linux_pid" 2>/dev/null' EXIT

section "dependencies (scripts/deps.sh covers every header, library and program)"
tests/deps/run.sh "$BUILD" 2>&1 | tee -a "$log"

section "hardened build (readelf and objdump on khyve and khyve-slirp)"
tests/harden/run.sh "$BUILD" 2>&1 | tee -a "$log"

section "unit tests"
# A Debian kernel fetched by the Linux tests also exercises the bzImage
# parser and decompressor on a real image.  The Linux tests fetch it in
# the background; wait for that (seconds) so the unit test can use it.
if [ -z "${KHYVE_TEST_KERNEL:-}" ] && [ -n "$linux_pid" ]; then
	for _ in $(seq 120); do
		[ -f "$BUILD/linux/fetch.done" ] && break
		kill -0 "$linux_pid" 2>/dev/null || break
		sleep 1
	done
fi
if [ -z "${KHYVE_TEST_KERNEL:-}" ] && [ -f "$BUILD/cache/vmlinuz" ]; then
	export KHYVE_TEST_KERNEL=$BUILD/cache/vmlinuz
fi
unit_tests "$BUILD" | tee -a "$log"

section "fuzz targets (smoke run over the seed corpus plus 2000 inputs each)"
tests/fuzz/smoke.sh "$BUILD" 2>&1 | tee -a "$log"

section "command line"
tests/cli/run.sh "$BUILD" 2>&1 | tee -a "$log"

section "console under KVM"
tests/console/run.sh "$BUILD" 2>&1 | tee -a "$log"

if [ -x tests/guest/run.sh ]; then
	section "guest tests under KVM"
	tests/guest/run.sh "$BUILD" 2>&1 | tee -a "$log"
fi

if [ -n "$SAN" ]; then
	section "unit and guest tests under the sanitizers ($SAN, reports in $SAN/san/)"
	(
		san_env "$SAN"
		unit_tests "$SAN"
		# Fewer kill -9 trials and one shorter chaos seed: the
		# normal build runs the full counts.
		GUEST_QEMU=0 DURABLE_TRIALS=20 CHAOS_SEEDS=1 CHAOS_N=200000 \
		    tests/guest/run.sh "$SAN" 2>&1
	) | sed -E 's/^(PASS|FAIL|SKIP) /\1 san:/' | tee -a "$log"
	san_reports "$SAN" unit-guest | tee -a "$log"
fi

if [ -n "$linux_pid" ]; then
	section "Linux boot tests under KVM"
	wait "$linux_pid"
	linux_pid=
	tee -a "$log" <"$linux_log"
fi

if san_build "$BUILD"; then
	section "sanitizer reports ($BUILD/san/)"
	san_reports "$BUILD" suite | tee -a "$log"
fi

pass=$(grep -c '^PASS ' "$log")
fail=$(grep -c '^FAIL ' "$log")
skip=$(grep -c '^SKIP ' "$log")
echo
if [ "$fail" -ne 0 ]; then
	echo "Failed:"
	grep '^FAIL ' "$log" | sed 's/^/  /'
	status=1
fi
if [ "$skip" -ne 0 ]; then
	echo "Skipped:"
	grep '^SKIP ' "$log" | sed 's/^/  /'
fi
echo "$pass passed, $fail failed, $skip skipped"
exit $status
