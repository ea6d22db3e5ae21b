#!/usr/bin/env bash
# Boot every test guest under khyve (and under QEMU, when it is installed)
# and check both the exit status and the guest's own console verdict.
#
#   tests/guest/run.sh [BUILD]       BUILD defaults to "build"
#
# Prints one line per test: "PASS guest:NAME", "FAIL guest:NAME (why)"
# followed by the console indented, or "SKIP guest:NAME: reason".  QEMU
# runs are named "qemu:NAME".  Environment: GUEST_TIMEOUT (seconds per
# boot, default 120), QEMU (the QEMU binary, default qemu-system-x86_64),
# QEMU_JOBS (QEMU boots at once, default 2), GUEST_QEMU=0 (no QEMU cases
# at all: tests/run-all.sh's sanitizer run, whose guests are the same).
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
TIMEOUT=${GUEST_TIMEOUT:-120}
QEMU=${QEMU:-qemu-system-x86_64}
QEMU_JOBS=${QEMU_JOBS:-2}
KHYVE=$BUILD/khyve
work=$(mktemp -d)
qpids=()
kpid=
tpid=
# The QEMU workers kill their QEMU when told to stop (qemu_worker);
# timeout(1) runs khyve in a process group of its own.
trap '[ ${#qpids[@]} -gt 0 ] && kill -TERM "${qpids[@]}" 2>/dev/null
      [ -n "$kpid" ] && kill -KILL "$kpid" 2>/dev/null
      [ -n "$tpid" ] && { kill -KILL -- -"$tpid" || kill -KILL "$tpid"; } 2>/dev/null
      wait; rm -rf "$work"' EXIT
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

# judge RC WANT_RC CONSOLE MUST... [-- FORBID...]: sets why to what is
# wrong with a run (its exit status, its console), or to "".
judge() {
	local rc=$1 want=$2 out=$3 pat forbid=0
	shift 3
	why=
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
}

# report KIND:NAME CONSOLE [LABEL FILE]...: "PASS KIND:NAME" when $why is
# empty, else the FAIL line, the console and each non-empty FILE indented.
report() {
	local id=$1 out=$2
	shift 2
	if [ -z "$why" ]; then
		echo "PASS $id"
		return
	fi
	failed=1
	echo "FAIL $id ($why)"
	echo "    console:"
	show "$out"
	while [ $# -ge 2 ]; do
		if [ -s "$2" ]; then
			echo "    $1:"
			show "$2"
		fi
		shift 2
	done
}

# verdict KIND:NAME RC WANT_RC CONSOLE LOG MUST... [-- FORBID...]
# Decides PASS or FAIL from the exit status and the console contents.
verdict() {
	local id=$1 rc=$2 want=$3 out=$4 log=$5
	shift 5
	judge "$rc" "$want" "$out" "$@"
	report "$id" "$out" stderr "$log"
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
	# shellcheck disable=SC2086 # KWRAP: a command khyve runs under
	timeout -k 5 "$TIMEOUT" ${KWRAP:-} "$KHYVE" -c "$cpus" -m 128M -u \
	    ${KOPTS:-} \
	    -s 0,hostbridge -s 31,lpc -l com1,stdio \
	    --kernel "$elf" --cmdline "$cmd" "g$name" \
	    </dev/null >"$work/$name.out" 2>"$work/$name.err" &
	tpid=$!
	wait "$tpid"
	rc=$?
	tpid=
	verdict "guest:$name" "$rc" "$want" "$work/$name.out" \
	    "$work/$name.err" "$@"
}

# watchdog PID CONSOLE WAITFOR ACTION...: wait for the child PID, killing
# it after $TIMEOUT s; run ACTION once CONSOLE matches the ERE WAITFOR
# (an empty one never does).  Returns PID's exit status, or 124 if killed.
watchdog() {
	local pid=$1 out=$2 wait=$3 sent=0 end=$((SECONDS + TIMEOUT))
	shift 3
	while kill -0 "$pid" 2>/dev/null; do
		if [ $sent -eq 0 ] && [ -n "$wait" ] &&
		    tr -d '\r' <"$out" | grep -qE -- "$wait"; then
			"$@"
			sent=1
		fi
		if [ $SECONDS -ge $end ]; then
			kill -KILL "$pid"
			wait "$pid" 2>/dev/null
			return 124
		fi
		sleep 0.1
	done
	wait "$pid" 2>/dev/null		# no "Killed" notice from bash
}

# khyve_signal NAME ELF CPUS WANT_RC CMDLINE WAITFOR SIG MUST... [-- FORBID...]
# Like khyve, but sends khyve SIG once its console matches WAITFOR.  khyve
# runs under a watchdog of our own, not timeout(1), which would deliver
# the signal twice (to the command and again to its process group).
khyve_signal() {
	local name=$1 elf=$BUILD/guest/$2.elf cpus=$3 want=$4 cmd=$5 wait=$6
	local sig=$7 rc
	shift 7
	can_boot "$name" "$elf" || return
	: >"$work/$name.out"
	"$KHYVE" -c "$cpus" -m 128M -u -s 0,hostbridge -s 31,lpc \
	    -l com1,stdio --kernel "$elf" --cmdline "$cmd" "g$name" \
	    </dev/null >"$work/$name.out" 2>"$work/$name.err" &
	kpid=$!
	watchdog "$kpid" "$work/$name.out" "$wait" kill -"$sig" "$kpid"
	rc=$?
	kpid=
	verdict "guest:$name" "$rc" "$want" "$work/$name.out" \
	    "$work/$name.err" "$@"
}

# The QEMU cases, registered by qemu (below) and booted by qemu_start.
declare -A q_elf q_cmd q_reason q_accel q_args q_wait q_send q_log q_pats
q_names=()

# qemu NAME ELF CMDLINE REASON MUST... [-- FORBID...]
# A QEMU case: booted in the background by qemu_start, judged at the end
# by qemu_judge.  QEMU exits 0 for poweroff, reset (-no-reboot) and triple
# fault alike; its QMP SHUTDOWN event tells them apart, so REASON is the
# event's reason: guest-shutdown (ACPI S5), guest-reset (reset or triple
# fault) or host-qmp-quit (the runner's "quit").  "@now@" in CMDLINE
# becomes the time of the boot (date +%s).  Environment, like KOPTS for
# khyve: QACCEL (default "-enable-kvm"), QARGS (more QEMU options,
# word-split), QWAIT (an ERE) and QSEND (monitor commands separated by
# ";", sent once the console matches QWAIT), QLOG (an ERE that QEMU's QMP
# transcript must match).
qemu() {
	local name=$1
	[ "${GUEST_QEMU:-1}" = 0 ] && return
	q_names+=("$name")
	q_elf[$name]=$2 q_cmd[$name]=$3 q_reason[$name]=$4
	q_accel[$name]=${QACCEL:--enable-kvm} q_args[$name]=${QARGS:-}
	q_wait[$name]=${QWAIT:-} q_send[$name]=${QSEND:-} q_log[$name]=${QLOG:-}
	shift 4
	q_pats[$name]=$(printf '%q ' "$@")
}

# qemu_hmp FD "COMMAND[;COMMAND...]": human monitor commands through QMP
# on FD, after half a second (to let the guest get past its last line).
# shellcheck disable=SC2317 # called through watchdog
qemu_hmp() {
	local c cmds

	sleep 0.5
	IFS=';' read -ra cmds <<<"$2"
	for c in "${cmds[@]}"; do
		printf '{"execute": "human-monitor-command", '
		printf '"arguments": {"command-line": "%s"}}\n' "$c"
	done >&"$1"
}

# qemu_boot NAME: boot a registered case, leaving the console in
# $work/qNAME.out, QEMU's stderr in .err, the QMP transcript in .qmp and
# the exit status in .rc.  QEMU starts stopped (-S) with QMP on a pair of
# FIFOs (chardev "pipe"), so nothing the guest does can come before the
# runner listens.  A watchdog of our own kills it after $TIMEOUT s.
qemu_boot() {
	local name=$1 q=$work/q$1 elf=$BUILD/guest/${q_elf[$1]}.elf
	local cmd=${q_cmd[$1]//@now@/$(date +%s)} rc fd
	[ -f "$elf" ] || return
	: >"$q.out"
	mkfifo "$q.qmp.in" "$q.qmp.out" || { echo 126 >"$q.rc"; return; }
	# shellcheck disable=SC2086 # q_accel, q_args: options, word-split
	"$QEMU" -M pc ${q_accel[$name]} -m 128 ${q_args[$name]} \
	    -kernel "$elf" -append "$cmd" -display none \
	    -serial "file:$q.out" -no-reboot -S -qmp "pipe:$q.qmp" \
	    </dev/null >"$q.err" 2>&1 &
	qemu_pid=$!
	cat "$q.qmp.out" >"$q.qmp.raw" &
	cat_pid=$!
	exec {fd}<>"$q.qmp.in"
	printf '{"execute": "%s"}\n' qmp_capabilities cont >&"$fd"
	watchdog "$qemu_pid" "$q.out" "${q_wait[$name]}" \
	    qemu_hmp "$fd" "${q_send[$name]}"
	rc=$?
	qemu_pid=
	# A QEMU that never opened the FIFO would leave cat waiting for it.
	: <>"$q.qmp.out"
	wait "$cat_pid"
	cat_pid=
	exec {fd}>&-
	# The monitor's output comes as JSON strings: one line each.
	sed 's/\\r\\n/\n/g' "$q.qmp.raw" >"$q.qmp"
	echo "$rc" >"$q.rc"
}

# qemu_worker I N: boot the registered cases I, I+N, I+2N... in turn.
qemu_worker() {
	local i
	qemu_pid='' cat_pid=''
	trap '[ -n "$qemu_pid" ] && kill -KILL "$qemu_pid" 2>/dev/null
	      [ -n "$cat_pid" ] && kill -KILL "$cat_pid" 2>/dev/null
	      wait; exit 1' TERM
	for ((i = $1; i < ${#q_names[@]}; i += $2)); do
		qemu_boot "${q_names[i]}"
	done
}

# qemu_start: QEMU boots slowly here (its firmware runs emulated), so the
# cases boot in the background, QEMU_JOBS at a time, while khyve's run.
qemu_start() {
	local i
	[ -z "$kvm_why" ] && [ -n "$have_qemu" ] || return
	for ((i = 0; i < QEMU_JOBS; i++)); do
		qemu_worker "$i" "$QEMU_JOBS" &
		qpids+=($!)
	done
}

# qemu_judge: wait for the boots, then one verdict per case, in order.
qemu_judge() {
	local name q rc got pat p pats
	for p in "${qpids[@]}"; do
		wait "$p"
	done
	qpids=()
	for name in "${q_names[@]}"; do
		q=$work/q$name
		if [ -n "$kvm_why" ]; then
			echo "SKIP qemu:$name: $kvm_why"
			continue
		elif [ -z "$have_qemu" ]; then
			echo "SKIP qemu:$name: $QEMU is not installed"
			continue
		elif [ ! -f "$BUILD/guest/${q_elf[$name]}.elf" ]; then
			failed=1
			echo "FAIL qemu:$name ($BUILD/guest/${q_elf[$name]}.elf" \
			    "is missing: run make guests)"
			continue
		fi
		rc=$(cat "$q.rc" 2>/dev/null)
		eval "pats=(${q_pats[$name]})"
		judge "${rc:-125}" 0 "$q.out" "${pats[@]}"
		got=$(sed -n 's/.*"event": "SHUTDOWN".*"reason": "\([^"]*\)".*/\1/p' \
		    "$q.qmp" 2>/dev/null)
		if [ -z "$why" ] && [ "$got" != "${q_reason[$name]}" ]; then
			why="QEMU stopped for ${got:-no SHUTDOWN event}, expected"
			why="$why ${q_reason[$name]}"
		fi
		pat=${q_log[$name]}
		if [ -z "$why" ] && [ -n "$pat" ] && ! grep -qE -- "$pat" "$q.qmp"
		then
			why="QMP transcript lacks /$pat/"
		fi
		report "qemu:$name" "$q.out" stderr "$q.err" QMP "$q.qmp"
	done
}

kvm_why=$(kvm_problem)
# Nested, software-assisted KVM (docs/boot.md "PVM hosts").
pvm_host=
[ -e /sys/module/kvm_pvm ] && pvm_host=1
have_qemu=$(command -v "$QEMU" 2>/dev/null)
[ "${GUEST_QEMU:-1}" = 0 ] && have_qemu=

# The guest's own verdict is a line "PASS"; anything the kit reports as a
# failure starts with "FAIL" or "kit: exception".
ok=('^PASS$' -- '^FAIL' 'kit: exception')
# A guest that ends another way must say so first and not "still running".
end_ok=(-- '^FAIL' 'still running' 'kit: exception')
acpi_args="pm1a_cnt=0x404 s5=5 reset=0xcf9 reset_value=6"

# Under QEMU 7.2 (-M pc): PM1a_CNT 0x604, \_S5_ 0, the i440FX host bridge,
# PIIX3 in slot 1, VGA and e1000 in slots 2 and 3; FADT rev 1 without a
# reset register (the kit resets through 0xCF9); unassigned memory reads
# 0; the MADT makes the SCI level-triggered, active-high.
qemu hello hello "hello=world" guest-shutdown "${ok[@]}"
qemu acpi acpi "ncpus=1 pm1a_cnt=0x604 s5=0" guest-shutdown "${ok[@]}"
qemu rtc rtc "epoch=@now@ memsize=128M" guest-shutdown "${ok[@]}"
qemu pci pci "hostbridge=8086:1237 lpc=1 devices=0,1,2,3" guest-shutdown \
    "${ok[@]}"
qemu uart uart "" guest-shutdown "${ok[@]}" LEAK
qemu user user "" guest-shutdown "${ok[@]}"
qemu reset_cf9 reset_cf9 "" guest-reset 'resetting through the reset control' \
    '^kit: reset: ' "${end_ok[@]}"
qemu reset_kbd reset_kbd "" guest-reset 'resetting through the keyboard' \
    "${end_ok[@]}"
qemu triple triple "" guest-reset 'triple fault now' "${end_ok[@]}"
# The guest halts for good: once it has, the runner asks for the registers
# (HLT=1, RFLAGS.IF clear) and quits.
QWAIT='^halting with interrupts off$' QSEND='info registers;quit' \
    QLOG='RFL=[0-9a-f]{5}[014589cd][0-9a-f]{2} .*CPL=0 .*HLT=1' \
    qemu halt halt "" host-qmp-quit 'halting with interrupts off' \
    -- '^FAIL' 'kit: exception'
# halt_race: the AP computes for 1.5 s while the BSP is halted, then
# powers off.
QARGS="-smp 2" qemu halt_race halt_race "" guest-shutdown '^AP 1: computed ' \
    "${ok[@]}"
qemu fault fault "" guest-reset '^FAIL exception$' 'exception 14 \(#PF\)' \
    'address 0x200000000' -- '^PASS' 'did not fault'
qemu unclaimed unclaimed "msr=gp hole_byte=0" guest-shutdown "${ok[@]}"
qemu timer timer "" guest-shutdown "${ok[@]}"
QARGS="-smp 4,sockets=2,cores=2,threads=1" qemu smp smp \
    "ncpus=4 sockets=2 cores=2" guest-shutdown '^AP 1: apic id 1$' \
    '^AP 2: apic id 2$' '^AP 3: apic id 3$' "${ok[@]}"
# system_powerdown is QEMU's power button.
QWAIT='^READY$' QSEND=system_powerdown qemu pwrbtn pwrbtn "sci_polarity=high" \
    guest-shutdown '^READY$' '^power button$' "${ok[@]}"
# bench_exit prints no PASS: its lines, and it powers off (pm1a_cnt, s5).
bench_args="loop=1000 pio=1000 mmio=1000"
bench_ok=('^BENCH up$' '^BENCH name=loop iters=1000 ' \
    '^BENCH name=pio iters=1000 ' '^BENCH name=mmio iters=1000 ' \
    '^BENCH done$' -- '^FAIL' 'kit: exception')
qemu bench_exit bench_exit "$bench_args pm1a_cnt=0x604 s5=0" guest-shutdown \
    "${bench_ok[@]}"
# On a PVM host QEMU/KVM stops at the first int3 ("emulation failure") and
# waits there: emul runs under QEMU's own CPU emulation (TCG) instead.  -cpu
# max offers popcnt, which TCG does not decode otherwise.
emul_accel=-enable-kvm emul_sfx=
[ -n "$pvm_host" ] && emul_accel="-accel tcg" emul_sfx=-tcg
popcnt_ok='^popcnt: 0xf0f0f0f0f0f0f0f0 has 32 bits set$'
QACCEL=$emul_accel qemu "emul$emul_sfx" emul "" guest-shutdown \
    '^int3: 5 #BP' '^fwait: 3 done' "${ok[@]}"
QACCEL=$emul_accel QARGS="-cpu max" qemu "emul-popcnt$emul_sfx" emul popcnt \
    guest-shutdown "$popcnt_ok" "${ok[@]}"
# syscall: on a PVM host QEMU/KVM leaves a CPL3 syscall at LSTAR in user
# mode, as khyve's repair alone fixes: there it runs under TCG, like emul.
QACCEL=$emul_accel qemu "syscall$emul_sfx" syscall "" guest-shutdown \
    '^first kernel: syscall entered ' '^after kexec: syscall entered ' \
    "${ok[@]}"
# ---- virtio-net (vnet.c): DHCP, ARP and ping over libslirp: QEMU's
# -netdev user; a NIC with no network behind it must fail by timeout. ----
vnet_ok=('^dhcp: OFFER 10\.0\.2\.15 from 10\.0\.2\.2$' \
    '^dhcp: lease 10\.0\.2\.15 from server 10\.0\.2\.2, mask 255\.255\.255\.0' \
    '^arp: 10\.0\.2\.2 is at 52:55:0a:00:02:02$' \
    '^ping: reply from 10\.0\.2\.2: seq 3, 64 bytes, id and payload match' \
    '^ping: 3 of 3 replies$' '^vnet: ok$' "${ok[@]}")
QARGS="-netdev user,id=n0 -device virtio-net-pci,netdev=n0" qemu vnet vnet \
    "" guest-shutdown 'device 1000, modern, mac 52:54:00:12:34:56, .*, MSI-X' \
    'router 10\.0\.2\.2, dns 10\.0\.2\.3' "${vnet_ok[@]}"
QARGS="-device virtio-net-pci" qemu vnet-silent vnet "timeout_ms=300" \
    guest-shutdown '^dhcp: DISCOVER: no OFFER after 3 tries$' \
    '^vnet: dhcp failed$' '^FAIL 3$' -- '^PASS' 'kit: exception'
# bench_net (bench/run.sh's network guest) sends 64 datagrams of each
# size to nobody: its lines, then it powers off (no PASS line).
bnet_ok=('^BENCH net ip=10\.0\.2\.15 dst=10\.0\.2\.2:9000 ' '^BENCH ready$' \
    '^BENCH name=txl frames=64 bytes=94208 ' \
    '^BENCH name=txs frames=64 bytes=1152 ' '^BENCH done' \
    -- '^FAIL' 'kit: exception' '^BENCH error')
QARGS="-netdev user,id=n0 -device virtio-net-pci,netdev=n0" qemu bench_net \
    bench_net "go=0 tests=txl,txs tx_count=64 pm1a_cnt=0x604 s5=0" \
    guest-shutdown "${bnet_ok[@]}"
# ---- virtio-rnd (vrnd.c): buffers filled, a chain, MSI-X; QEMU's
# virtio-rng-pci for the same guest. ----
vrnd_ok=('^vrnd: 4 buffers of 64 bytes filled, all different$' \
    '^vrnd: a chain of 3 buffers: 117 bytes$' '^vrnd: ok$' "${ok[@]}")
QARGS="-device virtio-rng-pci" qemu vrnd vrnd "" guest-shutdown \
    '^vrnd: device 1005, modern' '^vrnd: by MSI-X: 64 bytes' "${vrnd_ok[@]}"
# boot64 has no PVH note: QEMU's -kernel cannot load it (docs/testing.md).
qemu_start

khyve hello hello 1 1 "hello=world" "${ok[@]}"
khyve acpi-c1 acpi 1 1 "ncpus=1 $acpi_args" "${ok[@]}"
khyve acpi-c2 acpi 2 1 "ncpus=2 $acpi_args" "${ok[@]}"
khyve acpi-c4 acpi 4 1 "ncpus=4 $acpi_args" "${ok[@]}"
khyve rtc rtc 1 1 "epoch=$(date +%s) memsize=128M" "${ok[@]}"
khyve pci pci 1 1 "devices=0,31" "${ok[@]}"
khyve uart uart 1 1 "" "${ok[@]}" LEAK
khyve user user 1 1 "" "${ok[@]}"
khyve reset_cf9 reset_cf9 1 0 "" 'resetting through the reset control' \
    "${end_ok[@]}"
khyve reset_kbd reset_kbd 1 0 "" 'resetting through the keyboard' \
    "${end_ok[@]}"
khyve triple triple 1 3 "" 'triple fault now' "${end_ok[@]}"
khyve halt halt 1 2 "" 'halting with interrupts off' \
    -- '^FAIL' 'kit: exception'
khyve halt-c2 halt 2 2 "" 'halting with interrupts off' \
    -- '^FAIL' 'kit: exception'
# halt_race: the AP computes for 1.5 s without an exit while the BSP is
# halted with interrupts off; khyve must wait for its poweroff (1), not
# declare the VM halted (2).  Twice alone, then three times beside a CPU
# hog that the runner starts and kills (and that ends by itself if the
# runner dies first).
khyve halt_race halt_race 2 1 "" '^AP 1: computed ' "${ok[@]}"
khyve halt_race-2 halt_race 2 1 "" '^AP 1: computed ' "${ok[@]}"
( while kill -0 $$ 2>/dev/null; do :; done ) &
hog=$!
for i in 1 2 3; do
	khyve "halt_race-load-$i" halt_race 2 1 "" '^AP 1: computed ' "${ok[@]}"
done
kill -KILL "$hog" 2>/dev/null
wait "$hog" 2>/dev/null
khyve fault fault 1 3 "" '^FAIL exception$' 'exception 14 \(#PF\)' \
    'address 0x200000000' -- '^PASS' 'did not fault'
# The MUST patterns go before "${ok[@]}": it ends with the FORBID list.
# Unclaimed ports and MMIO read all-ones; an unknown MSR raises #GP, or
# reads 0 with -w; with -e the first unclaimed access stops the VM.
khyve unclaimed unclaimed 1 1 "msr=gp" "${ok[@]}"
KOPTS=-w khyve unclaimed-w unclaimed 1 1 "msr=zero" "${ok[@]}"
KOPTS=-e khyve unclaimed-e unclaimed 1 4 "msr=gp" \
    'touching unclaimed port' -- 'still running' '^PASS'
log_verdict unclaimed-e-message unclaimed-e 'unhandled read from port 0x1234'
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
khyve bench_exit bench_exit 1 1 "$bench_args pm1a_cnt=0x404 s5=5" \
    "${bench_ok[@]}"
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
	khyve emul-popcnt-hw emul 1 1 "popcnt" "$popcnt_ok" "${ok[@]}"
fi
# The PVM SYSCALL repair, armed on any host (x86.pvm_quirks=true): real
# syscalls from CPL3 reach the guest's entry at CPL0 (natively, or
# repaired on a PVM host), jumps to LSTAR with made-up RCX/R11 are the
# #PF they are (four: two before, two after a simulated kexec), and after
# the kexec the old #PF entry is left alone and the new one patched.
KOPTS="-o x86.pvm_quirks=true -o stats=true" khyve syscall syscall 1 1 \
    "hook" '^first kernel: syscall entered ' '^after kexec: syscall entered ' \
    '^kexec: after 600 ms, old #PF entry 90 90 90, new one .* e6 ef ' \
    "${ok[@]}"
# Repaired: the two real syscalls on a PVM host, none where SYSCALL works.
repaired=0
[ -n "$pvm_host" ] && repaired=2
log_verdict syscall-stats syscall \
    "system calls repaired $repaired, user faults at LSTAR delivered 4,"
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

# vcons: a virtio-console port on khyve's stdio (no MULTIPORT) with "ping"
# on its input; the kit's verdict goes to COM1, in a file.  The guest's
# lines through the port (emerg_wr before set-up, transmitq0 with one and
# with three descriptors, the input read back) come out on stdout.
vcons_run() {
	local name=vcons elf=$BUILD/guest/vcons.elf rc
	can_boot "$name" "$elf" || return
	: >"$work/$name.com1"
	printf 'ping\n' | timeout -k 5 "$TIMEOUT" "$KHYVE" -c 1 -m 128M -u \
	    -s 0,hostbridge -s 31,lpc -l com1,"$work/$name.com1" \
	    -s 4,virtio-console,console --kernel "$elf" "g$name" \
	    >"$work/$name.out" 2>"$work/$name.err"
	rc=$?
	judge "$rc" 1 "$work/$name.com1" "${ok[@]}"
	[ -z "$why" ] && judge 0 0 "$work/$name.out" \
	    '^vcons: emergency before set-up$' \
	    '^vcons: hello through transmitq0$' \
	    '^vcons: one line in three descriptors$' '^vcons: read "ping"$' \
	    '^vcons: emergency after$'
	report "guest:$name" "$work/$name.com1" "virtio-console" \
	    "$work/$name.out" stderr "$work/$name.err"
}
vcons_run

# ---- The process around the VM: closed standard fds, set-up failures,
# a flood of POST writes, signals on a terminal (signals.py). ----
# closed_fd NAME REDIRECT: khyve with one of fds 0-2 closed (REDIRECT is
# ">&-", "<&-" or "2>&-").  Its own fds must not take the free number
# (the console would poll the epoll fd); the guest runs as usual.
closed_fd() {
	local name=$1 redir=$2 elf=$BUILD/guest/hello.elf rc
	can_boot "$name" "$elf" || return
	: >"$work/$name.out"
	: >"$work/$name.err"
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout -k 5 "$TIMEOUT" bash -c '
	    out=$1 err=$2 redir=$3; shift 3
	    case $redir in
	    ">&-") exec "$@" </dev/null >&- 2>"$err" ;;
	    "<&-") exec "$@" <&- >"$out" 2>"$err" ;;
	    "2>&-") exec "$@" </dev/null >"$out" 2>&- ;;
	    esac' closed_fd "$work/$name.out" "$work/$name.err" "$redir" \
	    "$KHYVE" -c 1 -m 128M -u -s 0,hostbridge -s 31,lpc -l com1,stdio \
	    --kernel "$elf" --cmdline "hello=world" "g$name"
	rc=$?
	if [ "$redir" = ">&-" ]; then
		# No console to judge: the status and stderr tell.
		judge "$rc" 1 "$work/$name.err" -- 'cannot poll' 'khyve:'
	else
		judge "$rc" 1 "$work/$name.out" "${ok[@]}"
	fi
	report "guest:$name" "$work/$name.out" stderr "$work/$name.err"
}
closed_fd stdout-closed ">&-"
closed_fd stdin-closed "<&-"
closed_fd stderr-closed "2>&-"

# setup_fail NAME WANT_RC PATTERN ARGS...: a device that cannot be set up
# stops khyve before the guest runs with one line on stderr: 4 when the
# host refused (a missing directory, a port in use), 64 for a bad option.
setup_fail() {
	local name=$1 want=$2 pat=$3 rc elf=$BUILD/guest/hello.elf
	shift 3
	can_boot "$name" "$elf" || return
	timeout -k 5 "$TIMEOUT" "$KHYVE" -c 1 -m 128M -u -s 0,hostbridge \
	    -s 31,lpc "$@" --kernel "$elf" "g$name" </dev/null \
	    >"$work/$name.out" 2>"$work/$name.err"
	rc=$?
	judge "$rc" "$want" "$work/$name.err" "$pat" -- 'PASS'
	if [ -z "$why" ] && [ "$(wc -l <"$work/$name.err")" -ne 1 ]; then
		why="stderr is not one line"
	fi
	report "guest:$name" "$work/$name.out" stderr "$work/$name.err"
}
setup_fail console-missing-dir 4 '^khyve: com1: /nonexistent/dir/x: ' \
    -l com1,/nonexistent/dir/x
setup_fail console-bad-backend 64 '^khyve: com1: bogus=1: unknown backend' \
    -l com1,bogus=1
# A TCP port already in use: khyve's own console listener holds it.
if [ -z "$kvm_why" ] && [ -x "$KHYVE" ]; then
	"$KHYVE" -c 1 -m 128M -u -s 0,hostbridge -s 31,lpc \
	    -l com1,tcp=127.0.0.1:0 -o log.level=1 \
	    --kernel "$BUILD/guest/pwrbtn.elf" gport </dev/null \
	    >/dev/null 2>"$work/port-holder.err" &
	kpid=$!
	port=
	for _ in $(seq 100); do
		port=$(ss -Hltnp 2>/dev/null | grep "pid=$kpid," |
		    sed -n 's/.*127\.0\.0\.1:\([0-9]*\) .*/\1/p' | head -n 1)
		[ -n "$port" ] && break
		sleep 0.1
	done
	if [ -n "$port" ]; then
		setup_fail console-port-in-use 4 \
		    "^khyve: com1: tcp=127.0.0.1:$port: cannot listen: " \
		    -l "com1,tcp=127.0.0.1:$port"
	else
		failed=1
		echo "FAIL guest:console-port-in-use (no listening port seen" \
		    "for the first khyve)"
	fi
	kill -KILL "$kpid" 2>/dev/null
	wait "$kpid" 2>/dev/null
	kpid=
else
	echo "SKIP guest:console-port-in-use: ${kvm_why:-$KHYVE is missing}"
fi
# virtio-net set-up errors: one line naming the device and the variable;
# 64 for a bad value, 4 for what cannot be set up (a port in use).
setup_fail net-bad-mac 64 '^khyve: virtio-net 0:3:0: mac=01:00:00:00:00:01: ' \
    -s 3,virtio-net,slirp,mac=01:00:00:00:00:01
setup_fail net-bad-hostfwd 64 '^khyve: virtio-net 0:3:0: hostfwd=tcp:127.0.0.1:0-:22: ' \
    -s 3,virtio-net,slirp,hostfwd=tcp:127.0.0.1:0-:22
setup_fail net-bad-backend 64 '^khyve: virtio-net 0:3:0: backend=nosuch: no such network backend' \
    -s 3,virtio-net,nosuch
setup_fail net-no-helper 4 '^khyve: virtio-net 0:3:0: slirp helper /nonexistent: ' \
    -s 3,virtio-net,slirp,helper=/nonexistent
if [ -x "$BUILD/khyve-slirp" ]; then
	# A host port already taken (a listener this script holds open).
	exec {nport_fd}< <(python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(120)')
	npid=$!
	read -r nport <&"$nport_fd"
	setup_fail net-port-in-use 4 \
	    "^khyve: virtio-net 0:3:0: hostfwd=tcp:127.0.0.1:$nport-10.0.2.15:22: address in use" \
	    -s "3,virtio-net,slirp,hostfwd=tcp:127.0.0.1:$nport-:22"
	exec {nport_fd}<&-
	kill -KILL "$npid" 2>/dev/null
else
	echo "SKIP guest:net-port-in-use: $BUILD/khyve-slirp is missing (make)"
fi
# 20,000 writes to the POST port with boot.timer=true: its lines are
# rate-limited (10 a second) like every guest-triggered message.
KOPTS="-o boot.timer=true" khyve post-flood bench_exit 1 1 \
    "pio=20000 pio_port=0x80 pm1a_cnt=0x404 s5=5" '^BENCH done$' \
    -- '^FAIL' 'kit: exception'
if [ -z "$kvm_why" ] && [ -f "$work/post-flood.err" ]; then
	n=$(grep -c 'port 0x80 <- ' "$work/post-flood.err")
	if [ "$n" -gt 0 ] && [ "$n" -le 100 ]; then
		echo "PASS guest:post-flood-ratelimited ($n lines)"
	else
		failed=1
		echo "FAIL guest:post-flood-ratelimited ($n boot.timer lines" \
		    "for 20000 writes, expected 1-100)"
	fi
fi
if command -v python3 >/dev/null 2>&1; then
	python3 tests/guest/signals.py "$BUILD" || failed=1
else
	failed=1
	echo "FAIL guest:signals (python3 is not installed: run scripts/deps.sh)"
fi


# ---- virtio-blk: the vblk guest on a 4 MiB image the runner fills with
# its base pattern; once the VM is off the runner compares the image byte
# for byte with what the guest wrote (cmp).  Under khyve: transitional
# device with the modern and the legacy registers, a legacy-only and a
# modern-only device, a read-only disk; under QEMU the same guest and
# checks.  Then the kill -9 durability test (durable.sh). ----
vblk_cap=8192 vblk_count=8 vblk_zero=2048:16 vblk_discard=4096:16
vblk_offs="0 100 $((vblk_cap - vblk_count))"	# the last sector too
# vblk_sectors FIRST COUNT TAG: the guest's pattern (vblk.c): per sector
# 16 records "TAG sector=N" padded with spaces to 31 bytes, newline.
vblk_sectors() {
	awk -v a="$1" -v n="$2" -v t="$3" 'BEGIN {
		for (s = a; s < a + n; s++) {
			r = sprintf("%-31s\n", t " sector=" s)
			for (i = 0; i < 16; i++)
				printf "%s", r
		}
	}'
}
# vblk_args SEED SERIAL: vblk's command line for the default plan (no
# serial= when SERIAL is empty).
vblk_args() {
	echo "base seed=$1${2:+ serial=$2} capacity=$vblk_cap count=$vblk_count" \
	    "offsets=$(echo "$vblk_offs" | tr ' ' ,) zero=$vblk_zero" \
	    "discard=$vblk_discard discard_zeroes"
}
# vblk_expect SEED FILE: the image that plan leaves: the base, the
# written ranges, the zeroed and discarded ones.
vblk_expect() {
	local o r
	cp "$work/vblk-base.img" "$2"
	for o in $vblk_offs; do
		vblk_sectors "$o" "$vblk_count" "vblk seed=$1" |
		    dd of="$2" bs=512 seek="$o" conv=notrunc status=none
	done
	for r in $vblk_zero $vblk_discard; do
		dd if=/dev/zero of="$2" bs=512 seek="${r%:*}" count="${r#*:}" \
		    conv=notrunc status=none
	done
}
# vblk_image ID IMG WANT: PASS when the image is WANT byte for byte; else
# the first differing sector, from the image and as wanted (od).
vblk_image() {
	local id=$1 img=$2 want=$3 d byte sec f
	if cmp -s "$img" "$want"; then
		echo "PASS $id"
		return
	fi
	failed=1
	d=$(LC_ALL=C cmp "$img" "$want" 2>&1 | head -n 1)
	echo "FAIL $id (not what the guest wrote: $d; $(stat -c %s "$img")" \
	    "bytes, want $(stat -c %s "$want"))"
	byte=$(sed -nE 's/.* differ: (byte|char) ([0-9]+),.*/\2/p' <<<"$d")
	[ -n "$byte" ] || return
	sec=$(((byte - 1) / 512))
	for f in "$img" "$want"; do
		echo "    sector $sec of $f:"
		dd if="$f" bs=512 skip="$sec" count=1 status=none |
		    od -A d -c | head -n 4 | sed 's/^/      /'
	done
}
# vblk_ran NAME: the khyve boot NAME happened (not skipped).
vblk_ran() { [ -z "$kvm_why" ] && [ -f "$work/$1.out" ]; }

vblk_sectors 0 "$vblk_cap" base >"$work/vblk-base.img"
# QEMU first, in the background while khyve's cases run: O_DIRECT where
# the filesystem has it (not on tmpfs), io_uring as khyve's default engine.
qcache=cache=none
dd if=/dev/zero of="$work/odirect" bs=4096 count=1 oflag=direct \
    status=none 2>/dev/null || qcache=cache=writeback
cp "$work/vblk-base.img" "$work/vblk-qemu.img"
QARGS="-drive file=$work/vblk-qemu.img,if=none,id=d0,format=raw,$qcache"
QARGS="$QARGS,aio=io_uring,discard=unmap"
QARGS="$QARGS -device virtio-blk-pci,drive=d0,serial=qemu-vblk-0001" \
    qemu vblk vblk "$(vblk_args 5 qemu-vblk-0001)" guest-shutdown \
    '^GET_ID: status 0, serial "qemu-vblk-0001"' "${ok[@]}"
qvblk=
if [ -z "$kvm_why" ] && [ -n "$have_qemu" ] && [ -f "$BUILD/guest/vblk.elf" ]
then
	qemu_worker $((${#q_names[@]} - 1)) ${#q_names[@]} &
	qvblk=$!
	qpids+=("$qvblk")
fi
vblk_msix='^capacity 8192 sectors, blk_size 512, seg_max [0-9]+, .* MSI-X$'
# Transitional device (khyve's default), modern registers, MSI-X waits
# and indirect chains.
cp "$work/vblk-base.img" "$work/vblk.img"
# "strict": FEATURES_OK refused without VERSION_1 and with a feature
# khyve did not offer (QEMU accepts both).
KOPTS="-s 3,virtio-blk,$work/vblk.img,ser=khyve-vblk-0001" khyve vblk vblk \
    1 1 "$(vblk_args 1 khyve-vblk-0001) strict" 'device 1001, modern' \
    "$vblk_msix" '^GET_ID: status 0, serial "khyve-vblk-0001"' \
    '^interrupt: came' '^reset with 32 reads in flight' \
    'no VERSION_1\): status 0x03, FEATURES_OK refused' \
    'one not offered\): status 0x03, FEATURES_OK refused' "${ok[@]}"
vblk_expect 1 "$work/vblk.want"
vblk_ran vblk && vblk_image guest:vblk-image "$work/vblk.img" "$work/vblk.want"
# The same device through its legacy registers, polled, direct chains.
cp "$work/vblk-base.img" "$work/vblk-lr.img"
KOPTS="-s 3,virtio-blk,$work/vblk-lr.img" khyve vblk-legacy-regs vblk 1 1 \
    "$(vblk_args 2 "") transport=legacy msix=0 indirect=0" \
    'device 1001, legacy' '^GET_ID: status 0, serial "KHYVE-' "${ok[@]}"
vblk_expect 2 "$work/vblk-lr.want"
vblk_ran vblk-legacy-regs && vblk_image guest:vblk-legacy-regs-image \
    "$work/vblk-lr.img" "$work/vblk-lr.want"
# transport=legacy: no capabilities, the legacy device ID; MSI-X moves
# the device configuration (0x18 instead of 0x14).
cp "$work/vblk-base.img" "$work/vblk-l.img"
KOPTS="-s 3,virtio-blk,$work/vblk-l.img,transport=legacy,ser=L" \
    khyve vblk-legacy vblk 1 1 "$(vblk_args 3 L)" 'device 1001, legacy' \
    "$vblk_msix" '^interrupt: came' "${ok[@]}"
vblk_expect 3 "$work/vblk-l.want"
vblk_ran vblk-legacy && vblk_image guest:vblk-legacy-image \
    "$work/vblk-l.img" "$work/vblk-l.want"
# transport=modern: the modern device ID 0x1042, no I/O BAR.
cp "$work/vblk-base.img" "$work/vblk-m.img"
KOPTS="-s 3,virtio-blk,$work/vblk-m.img,transport=modern,ser=M" \
    khyve vblk-modern vblk 1 1 "$(vblk_args 4 M)" 'device 1042, modern' \
    "$vblk_msix" "${ok[@]}"
vblk_expect 4 "$work/vblk-m.want"
vblk_ran vblk-modern && vblk_image guest:vblk-modern-image \
    "$work/vblk-m.img" "$work/vblk-m.want"
# Read-only: RO offered, every write IOERR, reads the base, flush OK; the
# image is unchanged.
cp "$work/vblk-base.img" "$work/vblk-ro.img"
KOPTS="-s 3,virtio-blk,$work/vblk-ro.img,ro" khyve vblk-ro vblk 1 1 \
    "ro capacity=$vblk_cap count=4 offsets=5,$((vblk_cap - 4))" \
    "${ok[@]}"
vblk_ran vblk-ro && vblk_image guest:vblk-ro-image "$work/vblk-ro.img" \
    "$work/vblk-base.img"
if [ -n "$qvblk" ]; then
	wait "$qvblk"
	vblk_expect 5 "$work/vblk-qemu.want"
	vblk_image qemu:vblk-image "$work/vblk-qemu.img" "$work/vblk-qemu.want"
fi
# ---- virtio-net under khyve: the slirp backend in restricted mode (no
# router or DNS option: the DHCP server is the router; libslirp answers
# ping to 10.0.2.2 all the same), open=true, and the legacy registers
# polled (the 10-byte header). ----
vnet_mac='mac [0-9a-f]{2}(:[0-9a-f]{2}){5}'
KOPTS="-s 3,virtio-net,slirp" khyve vnet vnet 1 1 "" \
    "device 1000, modern, $vnet_mac, .*, MSI-X" \
    '^dhcp: no router option: using the server 10\.0\.2\.2$' \
    "${vnet_ok[@]}" 'dns 10\.0\.2\.3'	# after "--": forbidden
KOPTS="-s 3,virtio-net,slirp,open=true" khyve vnet-open vnet 1 1 "" \
    "device 1000, modern, $vnet_mac, .*, MSI-X" \
    'router 10\.0\.2\.2, dns 10\.0\.2\.3, 86400 s$' "${vnet_ok[@]}"
KOPTS="-s 3,virtio-net,slirp" khyve vnet-legacy vnet 1 1 \
    "transport=legacy msix=0" "device 1000, legacy, $vnet_mac, .*, polled" \
    "${vnet_ok[@]}"
# The tap backend: the guest on a multi-queue tap in a network namespace
# of the case's own, a static address, ARP for and ping of the host's end
# (the host's kernel answers), with 2 vCPUs and so 2 queue pairs offered.
if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
	echo "SKIP guest:vnet-tap: cannot make a network namespace with a tap" \
	    "(needs root and unshare -n)"
elif [ ! -c /dev/net/tun ]; then
	echo "SKIP guest:vnet-tap: /dev/net/tun is missing (modprobe tun)"
else
	KWRAP="unshare -n tests/guest/tapns.sh khyvetap0 10.9.0.1/24" \
	KOPTS="-s 3,virtio-net,tap,ifname=khyvetap0" khyve vnet-tap vnet 2 1 \
	    "ip=10.9.0.2 router=10.9.0.1" \
	    "device 1000, modern, $vnet_mac, .*, MSI-X" \
	    '^static: 10\.9\.0\.2, router 10\.9\.0\.1$' \
	    '^arp: 10\.9\.0\.1 is at ([0-9a-f]{2}:){5}[0-9a-f]{2}$' \
	    '^ping: reply from 10\.9\.0\.1: seq 3, 64 bytes, id and payload match' \
	    '^ping: 3 of 3 replies$' '^vnet: ok$' "${ok[@]}"
fi
# Unprivileged: the same guests as user nobody, with no capabilities and
# /dev/kvm a node nobody owns (tests/guest/asuser.sh, in a mount namespace
# of the case's own): a disk nobody owns, slirp (its helper started by
# nobody).  Then the sandbox seen from /proc (tests/guest/sandbox.sh).
if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1 ||
    ! unshare -m true 2>/dev/null; then
	echo "SKIP guest:unpriv-*: needs root (to make nobody's /dev/kvm)," \
	    "a user nobody and unshare -m"
else
	upriv=$work/unpriv
	mkdir -p "$upriv"
	chmod 0711 "$work"
	cp "$work/vblk-base.img" "$upriv/vblk.img"
	chown -R nobody "$upriv"
	KWRAP="unshare -m tests/guest/asuser.sh nobody" \
	    khyve unpriv-hello hello 1 1 "hello=world" "${ok[@]}"
	KWRAP="unshare -m tests/guest/asuser.sh nobody" \
	KOPTS="-s 3,virtio-blk,$upriv/vblk.img,ser=khyve-vblk-0001" \
	    khyve unpriv-vblk vblk 1 1 "$(vblk_args 1 khyve-vblk-0001)" \
	    '^GET_ID: status 0, serial "khyve-vblk-0001"' "${ok[@]}"
	if vblk_ran unpriv-vblk; then
		vblk_expect 1 "$work/unpriv-vblk.want"
		vblk_image guest:unpriv-vblk-image "$upriv/vblk.img" \
		    "$work/unpriv-vblk.want"
	fi
	KWRAP="unshare -m tests/guest/asuser.sh nobody" \
	KOPTS="-s 3,virtio-net,slirp" khyve unpriv-vnet vnet 1 1 "" \
	    '^vnet: ok$' "${ok[@]}"
fi
tests/guest/sandbox.sh "$BUILD" || failed=1

KOPTS="-s 3,virtio-rnd" khyve vrnd vrnd 1 1 "mode=modern" \
    '^vrnd: device 1005, modern' '^vrnd: by MSI-X: 64 bytes' "${vrnd_ok[@]}"
KOPTS="-s 3,virtio-rnd" khyve vrnd-legacy vrnd 1 1 "mode=legacy" \
    '^vrnd: device 1005, legacy' "${vrnd_ok[@]}"
KOPTS="-s 3,virtio-net,slirp" khyve bench_net bench_net 1 1 \
    "go=0 tests=txl,txs tx_count=64 pm1a_cnt=0x404 s5=5" "${bnet_ok[@]}"

# kill -9 at random moments: what was flushed is on the image.
tests/guest/durable.sh "$BUILD" || failed=1

# The hostile guest, three seeds: random accesses to every port, BAR,
# configuration register and virtqueue; khyve must power off normally
# with its memory and its stderr bounded (chaos.sh).  CHAOS_SEEDS and
# CHAOS_N change the seeds and the accesses per seed.
for s in ${CHAOS_SEEDS:-1 2 3}; do
	tests/guest/chaos.sh "$BUILD" "$s" || failed=1
done

qemu_judge

exit $failed
