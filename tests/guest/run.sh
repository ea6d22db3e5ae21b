#!/usr/bin/env bash
# Boot every test guest under khyve (and a few under QEMU) and check both
# the exit status and the guest's own console verdict.
#
#   tests/guest/run.sh [BUILD]       BUILD defaults to "build"
#
# Prints one line per test: "PASS guest:NAME", "FAIL guest:NAME (why)"
# followed by the console indented, or "SKIP guest:NAME: reason".  QEMU
# runs are named "qemu:NAME".  Environment: GUEST_TIMEOUT (seconds per
# boot, default 120), QEMU (the QEMU binary, default qemu-system-x86_64).
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
TIMEOUT=${GUEST_TIMEOUT:-120}
QEMU=${QEMU:-qemu-system-x86_64}
KHYVE=$BUILD/khyve
work=$(mktemp -d)
qpid=
kpid=
trap '[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
      [ -n "$kpid" ] && kill -KILL "$kpid" 2>/dev/null; rm -rf "$work"' EXIT
failed=0

# Why KVM cannot be used, or nothing when it can.
kvm_problem() {
	[ -e /dev/kvm ] || { echo "no /dev/kvm on this host"; return; }
	[ -c /dev/kvm ] || { echo "/dev/kvm is not a character device"; return; }
	if ! (exec 3<>/dev/kvm) 2>/dev/null; then
		echo "cannot open /dev/kvm read-write as $(id -un)"
	fi
}

# show FILE: the console (or log) indented under a FAIL line.
show() {
	[ -s "$1" ] || { echo "    (no output)"; return; }
	tr -d '\r' <"$1" | tail -n 60 | sed 's/^/    /'
}

# verdict KIND:NAME RC WANT_RC CONSOLE LOG MUST... [-- FORBID...]
# Decides PASS or FAIL from the exit status and the console contents.
verdict() {
	local id=$1 rc=$2 want=$3 out=$4 log=$5 why="" pat forbid=0
	shift 5
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="timed out after ${TIMEOUT}s"
	elif [ "$want" != any ] && [ "$rc" -ne "$want" ]; then
		why="exit status $rc, expected $want"
	fi
	for pat in "$@"; do
		[ -n "$why" ] && break
		if [ "$pat" = -- ]; then
			forbid=1
			continue
		fi
		if [ $forbid -eq 0 ] && ! tr -d '\r' <"$out" | grep -qE -- "$pat"; then
			why="console lacks /$pat/"
		elif [ $forbid -eq 1 ] && tr -d '\r' <"$out" | grep -qE -- "$pat"; then
			why="console has /$pat/"
		fi
	done
	if [ -z "$why" ]; then
		echo "PASS $id"
		return
	fi
	failed=1
	echo "FAIL $id ($why)"
	echo "    console:"
	show "$out"
	if [ -s "$log" ]; then
		echo "    stderr:"
		show "$log"
	fi
}

# log_verdict ID NAME MUST...: PASS when khyve's standard error from the
# boot NAME (above) matches every MUST pattern.
log_verdict() {
	local id=$1 name=$2 pat
	shift 2
	if [ -n "$kvm_why" ]; then
		echo "SKIP guest:$id: $kvm_why"
		return
	fi
	for pat in "$@"; do
		if ! tr -d '\r' 2>/dev/null <"$work/$name.err" |
		    grep -qE -- "$pat"; then
			failed=1
			echo "FAIL guest:$id (stderr of guest:$name lacks /$pat/)"
			echo "    stderr:"
			show "$work/$name.err"
			return
		fi
	done
	echo "PASS guest:$id"
}

# can_boot NAME ELF: 0 when KVM, khyve and the guest are there; otherwise
# prints the SKIP or FAIL line and returns 1.
can_boot() {
	if [ -n "$kvm_why" ]; then
		echo "SKIP guest:$1: $kvm_why"
		return 1
	fi
	if [ ! -x "$KHYVE" ]; then
		failed=1
		echo "FAIL guest:$1 ($KHYVE is missing: run make)"
		return 1
	fi
	if [ ! -f "$2" ]; then
		failed=1
		echo "FAIL guest:$1 ($2 is missing: run make guests)"
		return 1
	fi
}

# khyve NAME ELF CPUS WANT_RC CMDLINE MUST... [-- FORBID...]
# CPUS is anything -c takes ("4", "cpus=4,sockets=2,cores=2").
khyve() {
	local name=$1 elf=$BUILD/guest/$2.elf cpus=$3 want=$4 cmd=$5 rc
	shift 5
	can_boot "$name" "$elf" || return
	# shellcheck disable=SC2086 # KOPTS: extra khyve options, word-split
	timeout -k 5 "$TIMEOUT" "$KHYVE" -c "$cpus" -m 128M -u ${KOPTS:-} \
	    -s 0,hostbridge -s 31,lpc -l com1,stdio \
	    --kernel "$elf" --cmdline "$cmd" "g$name" \
	    </dev/null >"$work/$name.out" 2>"$work/$name.err"
	rc=$?
	verdict "guest:$name" "$rc" "$want" "$work/$name.out" \
	    "$work/$name.err" "$@"
}

# khyve_signal NAME ELF CPUS WANT_RC CMDLINE WAITFOR SIG MUST... [-- FORBID...]
# Like khyve, but sends khyve SIG once its console matches WAITFOR.  khyve
# runs under a watchdog of our own, not timeout(1), which would deliver
# the signal twice (to the command and again to its process group).
khyve_signal() {
	local name=$1 elf=$BUILD/guest/$2.elf cpus=$3 want=$4 cmd=$5 wait=$6
	local sig=$7 rc sent=0 late=0 end=$((SECONDS + TIMEOUT))
	shift 7
	can_boot "$name" "$elf" || return
	: >"$work/$name.out"
	"$KHYVE" -c "$cpus" -m 128M -u -s 0,hostbridge -s 31,lpc \
	    -l com1,stdio --kernel "$elf" --cmdline "$cmd" "g$name" \
	    </dev/null >"$work/$name.out" 2>"$work/$name.err" &
	kpid=$!
	while kill -0 "$kpid" 2>/dev/null; do
		if [ $sent -eq 0 ] &&
		    tr -d '\r' <"$work/$name.out" | grep -qE -- "$wait"; then
			kill -"$sig" "$kpid"
			sent=1
		fi
		if [ $SECONDS -ge $end ]; then
			kill -KILL "$kpid"
			late=1
			break
		fi
		sleep 0.1
	done
	wait "$kpid"
	rc=$?
	kpid=
	[ $late -eq 1 ] && rc=124
	verdict "guest:$name" "$rc" "$want" "$work/$name.out" \
	    "$work/$name.err" "$@"
}

# qemu_boot NAME ELF CMDLINE [QEMU_ARG...]: boot under QEMU, leaving the
# console in $work/qNAME.out and the exit status in $work/qNAME.rc.
qemu_boot() {
	local name=$1 elf=$BUILD/guest/$2.elf cmd=$3
	shift 3
	[ -f "$elf" ] || return
	: >"$work/q$name.out"
	timeout -k 5 "$TIMEOUT" "$QEMU" -M pc -enable-kvm -m 128 "$@" \
	    -kernel "$elf" -append "$cmd" -display none \
	    -serial "file:$work/q$name.out" -no-reboot \
	    </dev/null >"$work/q$name.err" 2>&1
	echo $? >"$work/q$name.rc"
}

# qemu_verdict NAME ELF MUST... [-- FORBID...]
# QEMU exits 0 for poweroff, reset (-no-reboot) and triple fault alike, so
# only the console decides.
qemu_verdict() {
	local name=$1 elf=$BUILD/guest/$2.elf
	shift 2
	if [ -n "$kvm_why" ]; then
		echo "SKIP qemu:$name: $kvm_why"
	elif [ -z "$have_qemu" ]; then
		echo "SKIP qemu:$name: $QEMU is not installed"
	elif [ ! -f "$elf" ]; then
		failed=1
		echo "FAIL qemu:$name ($elf is missing: run make guests)"
	else
		verdict "qemu:$name" "$(cat "$work/q$name.rc")" 0 \
		    "$work/q$name.out" "$work/q$name.err" "$@"
	fi
}

kvm_why=$(kvm_problem)
# Nested, software-assisted KVM (docs/boot.md "PVM hosts").
pvm_host=
[ -e /sys/module/kvm_pvm ] && pvm_host=1
have_qemu=$(command -v "$QEMU" 2>/dev/null)

# QEMU boots slowly here (its firmware runs emulated): boot those guests
# in the background while khyve's run, and judge them at the end.
if [ -z "$kvm_why" ] && [ -n "$have_qemu" ]; then
	(
		qemu_boot hello hello "hello=world"
		qemu_boot acpi acpi "ncpus=1 pm1a_cnt=0x604 s5=0"
		qemu_boot pci pci "hostbridge=8086:1237 lpc=1"
		qemu_boot uart uart ""
		qemu_boot user user ""
		qemu_boot smp smp "ncpus=4 sockets=2 cores=2" \
		    -smp 4,sockets=2,cores=2,threads=1
	) &
	qpid=$!
fi

# The guest's own verdict is a line "PASS"; anything the kit reports as a
# failure starts with "FAIL" or "kit: exception".
ok=('^PASS$' -- '^FAIL' 'kit: exception')
acpi_args="pm1a_cnt=0x404 s5=5 reset=0xcf9 reset_value=6"

khyve hello hello 1 1 "hello=world" "${ok[@]}"
khyve acpi-c1 acpi 1 1 "ncpus=1 $acpi_args" "${ok[@]}"
khyve acpi-c2 acpi 2 1 "ncpus=2 $acpi_args" "${ok[@]}"
khyve acpi-c4 acpi 4 1 "ncpus=4 $acpi_args" "${ok[@]}"
khyve rtc rtc 1 1 "epoch=$(date +%s) memsize=128M" "${ok[@]}"
khyve pci pci 1 1 "devices=0,31" "${ok[@]}"
khyve uart uart 1 1 "" "${ok[@]}" LEAK
khyve user user 1 1 "" "${ok[@]}"
khyve reset_cf9 reset_cf9 1 0 "" 'resetting through the reset control' \
    -- '^FAIL' 'still running' 'kit: exception'
khyve reset_kbd reset_kbd 1 0 "" 'resetting through the keyboard' \
    -- '^FAIL' 'still running' 'kit: exception'
khyve triple triple 1 3 "" 'triple fault now' \
    -- '^FAIL' 'still running' 'kit: exception'
khyve halt halt 1 2 "" 'halting with interrupts off' \
    -- '^FAIL' 'kit: exception'
khyve halt-c2 halt 2 2 "" 'halting with interrupts off' \
    -- '^FAIL' 'kit: exception'
khyve fault fault 1 3 "" '^FAIL exception$' 'exception 14 \(#PF\)' \
    'address 0x200000000' -- '^PASS' 'did not fault'
# The MUST patterns go before "${ok[@]}": it ends with the FORBID list.
# Unclaimed ports and MMIO read all-ones; an unknown MSR raises #GP, or
# reads 0 with -w; with -e the first unclaimed access stops the VM.
khyve unclaimed unclaimed 1 1 "msr=gp" "${ok[@]}"
KOPTS=-w khyve unclaimed-w unclaimed 1 1 "msr=zero" "${ok[@]}"
KOPTS=-e khyve unclaimed-e unclaimed 1 4 "msr=gp" \
    'touching unclaimed port' -- 'still running' '^PASS'
grep -q 'unhandled read from port 0x1234' "$work/unclaimed-e.err" ||
    { failed=1; echo "FAIL guest:unclaimed-e-message (no strictio message)"; }
# Interrupts reach the vCPU: LAPIC timer (spinning and halted), PIT on pin 2.
khyve timer timer 1 1 "" "${ok[@]}"
# x86.pvm_timer_min_us spaces TSC-deadline interrupts (1 ms asked for):
# at most one per 20 ms with it, hundreds in 500 ms without it.
KOPTS="-o x86.pvm_quirks=true -o x86.pvm_timer_min_us=20000" \
    khyve timer-spaced timer 1 1 "deadline_min=10 deadline_max=30" "${ok[@]}"
KOPTS="-o x86.pvm_quirks=true -o x86.pvm_timer_min_us=0" \
    khyve timer-unspaced timer 1 1 "deadline_min=100" "${ok[@]}"
# -p pins vCPU 0 to host CPU 0; the guest runs as usual.
KOPTS="-p 0:0" khyve pinned hello 1 1 "" "${ok[@]}"
khyve smp-c2 smp 2 1 "ncpus=2" '^AP 1: apic id 1$' "${ok[@]}"
khyve smp-c4 smp cpus=4,sockets=2,cores=2 1 "ncpus=4 sockets=2 cores=2" \
    '^AP 1: apic id 1$' '^AP 2: apic id 2$' '^AP 3: apic id 3$' "${ok[@]}"
# SIGTERM presses the ACPI power button; the guest waits for it in hlt.
khyve_signal pwrbtn pwrbtn 1 1 "" '^READY$' TERM '^READY$' \
    '^power button$' "${ok[@]}"
# int3 and fwait at CPL0 (emul.c).  A PVM host's KVM cannot emulate
# them and khyve does, counting each in its stats=true line; on hardware
# KVM they run natively and the counts are not asserted.
KOPTS="-o stats=true" khyve emul emul 1 1 "" '^int3: 5 #BP' \
    '^fwait: 3 done' "${ok[@]}"
if [ -n "$pvm_host" ]; then
	log_verdict emul-stats-pvm emul 'emulated for KVM: int3 5, fwait 3$'
	# popcnt: KVM cannot emulate it here and khyve does not, so the VM
	# stops (exit 4) with the instruction's address and bytes.
	khyve emul-popcnt-pvm emul 1 4 "popcnt" \
	    '^popcnt: .* running f3 48 0f b8 c0 at rip 0x' \
	    -- '^PASS' '^FAIL' 'kit: exception'
	rip=$(tr -d '\r' 2>/dev/null <"$work/emul-popcnt-pvm.out" |
	    sed -n 's/^popcnt: .* at rip \(0x[0-9a-f]*\)$/\1/p')
	pat="KVM cannot emulate the instruction at rip ${rip:-unknown}: "
	log_verdict emul-popcnt-pvm-message emul-popcnt-pvm \
	    "${pat}f3 48 0f b8 c0 .*\\(popcnt\\)\$"
else
	# Hardware KVM: the counts are KVM's business; popcnt runs natively.
	log_verdict emul-stats-hw emul 'emulated for KVM: int3 [0-9]+, fwait'
	khyve emul-popcnt-hw emul 1 1 "popcnt" \
	    '^popcnt: 0xf0f0f0f0f0f0f0f0 has 32 bits set$' "${ok[@]}"
fi
# An ELF64 without a PVH note is entered through the Linux 64-bit boot
# protocol (boot64.c); the guest prints the command line it read back.
boot64_elf=$BUILD/guest/boot64.elf
if ! command -v readelf >/dev/null 2>&1; then
	echo "SKIP guest:boot64-no-pvh-note: readelf is not installed"
elif [ ! -f "$boot64_elf" ]; then
	failed=1
	echo "FAIL guest:boot64-no-pvh-note ($boot64_elf is missing)"
elif readelf -n "$boot64_elf" | grep -q Xen; then
	failed=1
	echo "FAIL guest:boot64-no-pvh-note (readelf -n shows a Xen note)"
else
	echo "PASS guest:boot64-no-pvh-note"
fi
boot64_cmd="boot64 zeropage=0x7000 cmdline_pa=0x20000 memsize=128M"
boot64_cmd="$boot64_cmd tag=khyve-zero-page-7c41"
khyve boot64 boot64 1 1 "$boot64_cmd" "^cmdline \"$boot64_cmd\"\$" \
    '^identity map .*: 0 of 2048' "${ok[@]}"

if [ -n "$qpid" ]; then
	wait "$qpid"
	qpid=
fi
qemu_verdict hello hello "${ok[@]}"
qemu_verdict acpi acpi "${ok[@]}"
qemu_verdict pci pci "${ok[@]}"
qemu_verdict uart uart "${ok[@]}" LEAK
qemu_verdict user user "${ok[@]}"
qemu_verdict smp smp '^AP 1: apic id 1$' '^AP 2: apic id 2$' \
    '^AP 3: apic id 3$' "${ok[@]}"

exit $failed
