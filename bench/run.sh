#!/usr/bin/env bash
# run.sh BUILD quick|full: khyve against QEMU and a raw KVM_RUN loop, on the
# same guest, in one run (docs/performance.md).
#
#   make bench            full: 5 rounds, 100000 iterations, Linux timeline
#   make bench QUICK=1    quick: 1 round, 20000 iterations, under a minute
#
# Each round runs every monitor once, in an order that alternates between
# rounds (khyve, QEMU, raw; then raw, QEMU, khyve; ...), so that a drifting
# host load falls on all of them.  Figures are the median over the rounds
# with the spread (min-max).  The table goes to bench/results.md and to
# stdout; raw outputs stay in BUILD/bench/.
#
# Then the disk: the bench_blk guest on one image under khyve and QEMU
# (virtio-blk, round by round), and bench/blk_host's figures for the host
# itself, the limit.
#
# Then the network: the bench_net guest under khyve and QEMU on each
# backend (slirp; passt and tap when khyve has them: a backend khyve does
# not know is a row saying so), UDP to and from bench/net_host, and two
# net_host processes over loopback for the host's own limit.  The tap rows
# run in a network namespace of their own (unshare -n, root only).
#
# Environment: QEMU (binary, default qemu-system-x86_64), BENCH_RUNS,
# BENCH_ITERS (override the mode's rounds and iterations), BENCH_PARTS
# (which parts: "exits disk net" by default, any of them), BENCH_BLK_DIR
# (where the disk image goes, default /var/tmp), BENCH_BLK_MB (its size),
# BENCH_BLK_MS (milliseconds per disk figure), BENCH_BLK_RT (GET_ID round
# trips),
# BENCH_NET_BACKENDS (default "slirp passt tap", quick "slirp"), BENCH_NET_PORT (the
# host sink's UDP port, default 29000; the forward into the guest is the
# next one), BENCH_NET_FORCE (set: run QEMU's column of a backend khyve
# does not have yet),
# BENCH_LINUX_TIMEOUT (seconds for each Linux boot, default 1800),
# BENCH_NICE (niceness of the measured processes, default -10 as root so
# that other work on a shared host preempts them less; 0 to leave it).
set -u

BUILD=${1:-build}
MODE=${2:-full}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
QEMU=${QEMU:-qemu-system-x86_64}
KHYVE=$BUILD/khyve
ELF=$BUILD/guest/bench_exit.elf
OUT=$BUILD/bench
WORK=$OUT/work
RESULTS=bench/results.md
MEM_MB=128
GUEST_KB=$((MEM_MB * 1024))

# ROUNDS boots per monitor; in each, REPS runs of each loop of ITERS
# iterations; UP_REPS start-up runs per round for khyve and raw KVM.
# BLK_MB MiB of disk image, BLK_MS ms per disk figure, BLK_RT GET_ID
# round trips each way.
case $MODE in
quick)	RUNS=${BENCH_RUNS:-1}; REPS=2; ITERS=${BENCH_ITERS:-20000}
	UP_REPS=5; IDLE_MS=1000; BLK_MB=64; BLK_MS=1000; BLK_RT=1000
	NET_TX_MS=1000; NET_RX_S=1; NET_BACKENDS=${BENCH_NET_BACKENDS:-slirp} ;;
full)	RUNS=${BENCH_RUNS:-5}; REPS=3; ITERS=${BENCH_ITERS:-50000}
	UP_REPS=3; IDLE_MS=2000; BLK_MB=256; BLK_MS=2000; BLK_RT=5000
	NET_TX_MS=3000; NET_RX_S=3
	NET_BACKENDS=${BENCH_NET_BACKENDS:-slirp passt tap} ;;
*)	echo "usage: bench/run.sh BUILD quick|full" >&2; exit 64 ;;
esac

BLK_MB=${BENCH_BLK_MB:-$BLK_MB}
BLK_MS=${BENCH_BLK_MS:-$BLK_MS}
BLK_RT=${BENCH_BLK_RT:-$BLK_RT}
PARTS=${BENCH_PARTS:-exits disk net}
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

notes=()
note() { notes+=("$*"); echo "bench: $*" >&2; }
say() { echo "bench: $*" >&2; }

# ---- tools --------------------------------------------------------------

CFLAGS_BENCH="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
-Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
-Wformat=2 -Wpointer-arith -Wundef -Wvla -Wwrite-strings \
-Wold-style-definition -Wmissing-declarations -Wnested-externs"
mkdir -p "$OUT"
for tool in rawkvm runstat; do
	if [ ! -x "$OUT/$tool" ] || [ "bench/$tool.c" -nt "$OUT/$tool" ]; then
		# shellcheck disable=SC2086
		${CC:-cc} $CFLAGS_BENCH -o "$OUT/$tool" "bench/$tool.c" ||
		    { echo "bench: cannot build $tool" >&2; exit 1; }
	fi
done
RAWKVM=$OUT/rawkvm
RUNSTAT=$OUT/runstat

if [ ! -x "$KHYVE" ] || [ ! -f "$ELF" ]; then
	echo "bench: $KHYVE or $ELF missing: run make all guests" >&2
	exit 1
fi
if ! (exec 3<>/dev/kvm) 2>/dev/null; then
	echo "bench: cannot open /dev/kvm: nothing to measure" >&2
	exit 1
fi
have_qemu=1
command -v "$QEMU" >/dev/null 2>&1 || { have_qemu=0; note "$QEMU not installed: no QEMU column"; }

# The tap rows' child (net_tap_child) writes into its parent's WORK.
[ -n "${NET_TAP_CHILD:-}" ] || rm -rf "$WORK"
mkdir -p "$WORK"
NICE=${BENCH_NICE:--10}
if [ "$(id -u)" != 0 ] && [ "$NICE" -lt 0 ]; then
	NICE=0
fi
# run CMD...: a measured process, at the chosen niceness (runstat takes
# -n instead: nice(1) in between would count in its child's ru_maxrss).
run() { nice -n "$NICE" "$@"; }
GUEST_ARGS="loop=$ITERS pio=$ITERS mmio=$ITERS reps=$REPS idle=$IDLE_MS"

# ---- recording ------------------------------------------------------------

# rec MON KEY VALUE: one sample of a figure.
rec() { [ -n "$3" ] && [ "$3" != -1 ] && [ "$3" != -1.000 ] && echo "$3" >>"$WORK/$1.$2"; }

# field LINE KEY: the value of KEY=value in a BENCH, RAW or RUN line.
field() { sed -n "s/.*[[:space:]]$2=\\([^[:space:]]*\\).*/\\1/p" <<<"$1" | head -n 1; }

# bench_lines FILE: the console's BENCH name=... lines, CRs removed.
bench_lines() { tr -d '\r' <"$1" | grep '^BENCH name='; }

# rec_bench MON CONSOLE: record every BENCH line of a benchmark boot.
rec_bench() {
	local mon=$1 l n tsc pm
	while read -r l; do
		n=$(field "$l" name)
		tsc=$(field "$l" ns_per_iter)
		pm=$(field "$l" pm_ns_per_iter)
		rec "$mon" "$n" "$tsc"
		[ "$n" = mmio ] && field "$l" value >"$WORK/$mon.mmio_value"
		# The PM-timer cross-check: relative gap to the TSC figure.
		[ -n "$pm" ] && rec "$mon" pmdev "$(awk -v a="$tsc" -v b="$pm" \
		    'BEGIN { d = (a - b) / b; printf "%.5f", d < 0 ? -d : d }')"
	done <<<"$(bench_lines "$2")"
	for n in loop pio mmio; do
		[ "$(bench_lines "$2" | grep -c "name=$n ")" = "$REPS" ] ||
		    note "$mon: $(bench_lines "$2" | grep -c "name=$n ") BENCH $n lines, expected $REPS (see $2)"
	done
}

# rec_mem MON RUNLINE: the memory figures of a benchmark boot.
rec_mem() {
	rec "$1" rss "$(field "$2" rss_kb)"
	rec "$1" priv "$(field "$2" priv_kb)"
	rec "$1" guest_rss "$(field "$2" guest_rss_kb)"
	rec "$1" maxrss "$(field "$2" maxrss_kb)"
}

# startup MON RUNLINE WANT_STATUS: the figures of a start-up run.
startup() {
	local first err
	[ "$(field "$2" status)" = "$3" ] || note "$1 start-up run: exit status $(field "$2" status), expected $3"
	first=$(field "$2" first_ms)
	err=$(field "$2" err_ms)
	rec "$1" up_wall "$(field "$2" wall_ms)"
	rec "$1" up_cpu "$(awk -v u="$(field "$2" user_ms)" -v s="$(field "$2" sys_ms)" 'BEGIN { printf "%.3f", u + s }')"
	rec "$1" up_first "$first"
	rec "$1" up_run "$err"
	rec "$1" up_maxrss "$(field "$2" maxrss_kb)"
	[ "$first" != -1.000 ] && [ "$err" != -1.000 ] &&
	    rec "$1" up_guest "$(awk -v a="$first" -v b="$err" 'BEGIN { printf "%.3f", a - b }')"
	return 0
}

# khyve_cmd CMDLINE: CMD becomes the khyve command for the bench guest.
khyve_cmd() {
	# shellcheck disable=SC2054	# the commas are bhyve's -s syntax
	CMD=("$KHYVE" -c 1 -m "${MEM_MB}M" -s 0,hostbridge -s 31,lpc
	    -l com1,stdio -o boot.timer=true -o stats=true
	    --kernel "$ELF" --cmdline "$1" bench)
}

run_khyve() {
	local r=$1 line l n con err
	con=$WORK/khyve.$r.con
	err=$WORK/khyve.$r.err
	khyve_cmd "$GUEST_ARGS pm1a_cnt=0x404 s5=5"
	line=$("$RUNSTAT" -n "$NICE" -O "$con" -p "BENCH idle" -g "$GUEST_KB" -d 300 -t 300 \
	    -- "${CMD[@]}" </dev/null 2>"$err")
	echo "$line" >"$WORK/khyve.$r.run"
	[ "$(field "$line" status)" = 1 ] || note "khyve round $r: exit status $(field "$line" status), expected 1 (see $err)"
	rec_bench khyve "$con"
	rec_mem khyve "$line"
	# Every MMIO read must have been an exit to khyve (-o stats=true).
	l=$(grep -m 1 'khyve: exits:' "$err" | tr -d '\r')
	n=$(sed -n 's/.*mmio \([0-9]*\),.*/\1/p' <<<"$l")
	[ "$n" = "$((ITERS * REPS))" ] || note "khyve round $r: $n MMIO exits for $((ITERS * REPS)) reads"

	# Start-up: the guest writes one line and powers off at once.
	khyve_cmd "pm1a_cnt=0x404 s5=5"
	for _ in $(seq 1 "$UP_REPS"); do
		line=$("$RUNSTAT" -n "$NICE" -O "$con.up" -e "first KVM_RUN" -t 120 -- "${CMD[@]}" \
		    </dev/null 2>"$err.up")
		startup khyve "$line" 1
		rec khyve up_timer "$(sed -n 's/.*boot.timer: *\([0-9.]*\) ms  first KVM_RUN.*/\1/p' "$err.up" | head -n 1)"
	done
}

# qemu_cmd CMDLINE CONSOLE: CMD becomes the QEMU command (docs/testing.md).
qemu_cmd() {
	CMD=("$QEMU" -M pc -enable-kvm -m "$MEM_MB" -kernel "$ELF" -append "$1"
	    -display none -serial "file:$2" -no-reboot)
}

run_qemu() {
	local r=$1 line con err
	[ $have_qemu = 1 ] || return 0
	con=$WORK/qemu.$r.con
	err=$WORK/qemu.$r.err
	qemu_cmd "$GUEST_ARGS pm1a_cnt=0x604 s5=0" "$con"
	line=$("$RUNSTAT" -n "$NICE" -c "$con" -p "BENCH idle" -g "$GUEST_KB" -d 300 -t 300 \
	    -- "${CMD[@]}" </dev/null 2>"$err")
	echo "$line" >"$WORK/qemu.$r.run"
	[ "$(field "$line" status)" = 0 ] || note "QEMU round $r: exit status $(field "$line" status) (see $err)"
	rec_bench qemu "$con"
	rec_mem qemu "$line"

	# Start-up: one boot per round (the firmware takes 10-20 s here).
	qemu_cmd "pm1a_cnt=0x604 s5=0" "$con.up"
	line=$("$RUNSTAT" -n "$NICE" -c "$con.up" -t 180 -- "${CMD[@]}" </dev/null 2>"$err.up")
	startup qemu "$line" 0
}

run_raw() {
	local r=$1 line n
	for _ in $(seq 1 "$REPS"); do
		for n in loop pio mmio mmio16; do
			line=$(run "$RAWKVM" -m "$MEM_MB" $n "$ITERS" 2>>"$WORK/raw.err")
			echo "$line" >>"$WORK/raw.$r.run"
			[ -n "$line" ] || note "rawkvm $n failed (see $WORK/raw.err)"
			rec raw $n "$(field "$line" ns_per_iter)"
		done
		# bench_blk's register read, on the hole (raw KVM has no device).
		rec raw mmio_bar "$(field "$line" ns_per_iter)"
	done
	# Memory: the rawkvm process at the end of its run (it has no idle phase).
	rec raw rss "$(field "$line" rss_kb)"
	rec raw priv "$(field "$line" priv_kb)"
	rec raw maxrss "$(field "$line" maxrss_kb)"
	for _ in $(seq 1 "$UP_REPS"); do
		line=$("$RUNSTAT" -n "$NICE" -O "$WORK/raw.up.out" -e "first KVM_RUN" -t 60 \
		    -- "$RAWKVM" -v -m "$MEM_MB" pio 2 2>>"$WORK/raw.err")
		startup raw "$line" 0
	done
}

# ---- the disk: bench_blk under khyve and QEMU, blk_host ------------------

BLK_ELF=$BUILD/guest/bench_blk.elf
BLK_DIR=${BENCH_BLK_DIR:-/var/tmp}
BLK_IMG=$BLK_DIR/khyve-bench-blk.$$.img
BLK_ARGS="time_ms=$BLK_MS rt=$BLK_RT mmio=$ITERS"

# blk_setup: the image (written, not sparse), and whether its filesystem
# has O_DIRECT: then khyve runs nocache, QEMU cache=none, blk_host bare.
blk_setup() {
	BLK_DIRECT=1
	if ! dd if=/dev/zero of="$BLK_IMG" bs=1M count="$BLK_MB" \
	    conv=fsync status=none; then
		note "cannot write $BLK_IMG: no disk figures"
		return 1
	fi
	if ! dd if="$BLK_IMG" of=/dev/null bs=4096 count=1 iflag=direct \
	    status=none 2>/dev/null; then
		BLK_DIRECT=0
		note "$BLK_DIR has no O_DIRECT: disk figures through the page cache (khyve without nocache, QEMU cache=writeback, blk_host -b)"
	fi
}

# rec_blk MON CONSOLE RUNLINE [SUFFIX]: the figures of a bench_blk boot
# (SUFFIX _p: the polled boot, disk figures only).
rec_blk() {
	local mon=$1 l n sfx=${4:-} want="rr1 rr32 sr sw rt_poll mmio"
	[ -n "$sfx" ] && want="rr1 rr32 sr sw"
	while read -r l; do
		n=$(field "$l" name)
		case $n in
		rr1|rr32) rec "$mon" "$n$sfx" "$(field "$l" iops)" ;;
		sr|sw) rec "$mon" "$n$sfx" "$(field "$l" mbps)" ;;
		rt_poll|rt_intr) rec "$mon" "$n" "$(field "$l" ns_per_iter)" ;;
		mmio) rec "$mon" mmio_bar "$(field "$l" ns_per_iter)"
		      field "$l" value >"$WORK/$mon.mmio_bar_value" ;;
		esac
	done <<<"$(bench_lines "$2")"
	tr -d '\r' <"$2" | grep -q '^BENCH error' &&
	    note "$mon bench_blk: $(tr -d '\r' <"$2" | grep -m 1 '^BENCH error') (see $2)"
	for n in $want; do
		bench_lines "$2" | grep -q "name=$n " ||
		    note "$mon bench_blk: no $n figure (see $2)"
	done
	[ -n "$sfx" ] && return
	rec "$mon" blk_maxrss "$(field "$3" maxrss_kb)"
	rec "$mon" blk_rss "$(field "$3" rss_kb)"
}

# run_blk MON ROUND [poll]: one bench_blk boot; with poll the disk figures
# again, each request's end seen by polling the used ring (no interrupt).
run_blk() {
	local mon=$1 r=$2 how=${3:-intr} sfx= args=$BLK_ARGS
	local con=$WORK/$1.blk.$2.$how.con err=$WORK/$1.blk.$2.$how.err line
	local opt qc want pat="BENCH name=rt_poll"
	if [ "$how" = poll ]; then
		sfx=_p
		args="$BLK_ARGS wait=poll tests=rr1,rr32,sr,sw"
		pat="BENCH name=sw"
	fi
	if [ "$mon" = khyve ]; then
		opt=
		[ "$BLK_DIRECT" = 1 ] && opt=,nocache
		# shellcheck disable=SC2054	# the commas are bhyve's -s syntax
		CMD=("$KHYVE" -c 1 -m "${MEM_MB}M" -s 0,hostbridge -s 31,lpc
		    -s "3,virtio-blk,$BLK_IMG$opt" -l com1,stdio
		    --kernel "$BLK_ELF" --cmdline "$args pm1a_cnt=0x404 s5=5"
		    benchblk)
		line=$("$RUNSTAT" -n "$NICE" -O "$con" -p "$pat" \
		    -d 0 -g "$GUEST_KB" -t 900 -- "${CMD[@]}" </dev/null 2>"$err")
		want=1
	else
		qc=cache=none
		[ "$BLK_DIRECT" = 1 ] || qc=cache=writeback
		CMD=("$QEMU" -M pc -enable-kvm -m "$MEM_MB" -kernel "$BLK_ELF"
		    -append "$args pm1a_cnt=0x604 s5=0"
		    -drive "file=$BLK_IMG,if=none,id=d0,format=raw,$qc,aio=io_uring"
		    -device virtio-blk-pci,drive=d0
		    -display none -serial "file:$con" -no-reboot)
		line=$("$RUNSTAT" -n "$NICE" -c "$con" -p "$pat" \
		    -d 0 -g "$GUEST_KB" -t 900 -- "${CMD[@]}" </dev/null 2>"$err")
		want=0
	fi
	echo "$line" >"$WORK/$mon.blk.$r.$how.run"
	[ "$(field "$line" status)" = "$want" ] || note "$mon disk round $r ($how): exit status $(field "$line" status), expected $want (see $err)"
	rec_blk "$mon" "$con" "$line" "$sfx"
}

# blk_host_run: the host's own figures on a file next to the image.
blk_host_run() {
	local b=
	[ "$BLK_DIRECT" = 1 ] || b=-b
	if [ ! -x "$OUT/blk_host" ]; then
		note "$OUT/blk_host missing (make bench builds it): no host column"
		return
	fi
	# shellcheck disable=SC2086
	run "$OUT/blk_host" -f "$BLK_DIR/khyve-blk-host.$$.img" -s "$BLK_MB" \
	    -t "$(awk -v m="$BLK_MS" 'BEGIN { print m / 1000 }')" $b \
	    >"$WORK/blk_host.out" 2>&1 || note "blk_host failed (see $WORK/blk_host.out)"
}

# host_fig LABEL COLUMN: a blk_host figure (1 host, 2 blockif io_uring,
# 3 blockif thread), or "n/a".
host_fig() {
	local v
	v=$(grep -F -- "$1" "$WORK/blk_host.out" 2>/dev/null | head -n 1 |
	    cut -c 35- | awk -v c="$2" '{ print $c }')
	echo "${v:-n/a}"
}

# hratio MON KEY LABEL: median of MON / the host figure.
hratio() {
	local a b
	a=$(median "$1" "$2")
	b=$(host_fig "$3" 1)
	if [ -z "$a" ] || [ "$b" = n/a ] || [ "$b" = - ]; then
		echo "-"
		return
	fi
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'
}

# qratio KEY: median of khyve / median of QEMU.
qratio() {
	local a b
	a=$(median khyve "$1")
	b=$(median qemu "$1")
	if [ -z "$a" ] || [ -z "$b" ]; then
		echo "-"
		return
	fi
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'
}

# ---- the network: bench_net under khyve and QEMU, net_host ------------------

NET_ELF=$BUILD/guest/bench_net.elf
NET_HOST=$OUT/net_host
NET_PORT=${BENCH_NET_PORT:-29000}	# the host sink; +1: the forward in
NET_FWD=$((NET_PORT + 1))
NET_GPORT=9001				# the guest's receive port
NET_TAP=kbtap0
NET_TAP_HOST=10.0.3.1 NET_TAP_GUEST=10.0.3.2

# net_probe SPEC: why khyve cannot use the backend SPEC, or nothing.  The
# hello guest, which powers off at once; only an unknown backend counts
# (any other complaint shows in the run itself).
net_probe() {
	local out
	out=$(timeout 30 "$KHYVE" -c 1 -m 32M -s 0,hostbridge -s 31,lpc \
	    -s "3,virtio-net,$1" -l com1,stdio --kernel "$BUILD/guest/hello.elf" \
	    probe </dev/null 2>&1 >/dev/null | grep -m 1 'no such network backend')
	[ -n "$out" ] && echo "khyve has no ${1%%,*} backend yet: \"$out\""
}

# net_wait FILE ERE PID SECONDS: 0 once FILE matches ERE; 1 when PID ends
# first or SECONDS pass.
net_wait() {
	local end=$((SECONDS + $4))
	while [ $SECONDS -lt $end ]; do
		tr -d '\r' 2>/dev/null <"$1" | grep -qE -- "$2" && return 0
		kill -0 "$3" 2>/dev/null || {
			tr -d '\r' 2>/dev/null <"$1" | grep -qE -- "$2"
			return
		}
		sleep 0.1
	done
	return 1
}

# net_kill PID...: end processes this script started, by PID.
net_kill() {
	local p
	for p in "$@"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	for p in "$@"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null
	done
	return 0
}

# net_line FILE PREFIX ID|NAME: the first "SINK id=1 ..."/"BENCH name=txl"
# line of FILE.
net_line() { tr -d '\r' 2>/dev/null <"$1" | grep -m 1 "^$2 $3 "; }

# net_cost MBPS_OR_PPS CPU_MS MS SCALE: CPU (cores busy over MS) per unit
# of rate, times SCALE: s per Gbit from Mbit/s (SCALE 1000), µs per
# packet from packets/s (SCALE 1000000).
net_cost() {
	awk -v r="$1" -v c="$2" -v m="$3" -v s="$4" 'BEGIN {
	    if (r > 0 && m > 0 && c >= 0) printf "%.6f", c / m / r * s }'
}

# net_rec MON B KEY RATE_LINE RATE_FIELD CPU_LINE SCALE: record KEY (the
# rate) and KEY_cpu (its cost, net_cost) from two result lines.
net_rec() {
	local rate cpu ms
	rate=$(field " $4" "$5")
	cpu=$(field " $6" cpu_ms)
	ms=$(field " $6" ms)
	rec "$1" "$2_$3" "$rate"
	rec "$1" "$2_$3_cpu" "$(net_cost "$rate" "$cpu" "$ms" "$7")"
}

# net_run MON BACKEND ROUND: one bench_net boot: sink, go, both transmit
# tests, then both receive tests fed by net_host source; every process
# started here is killed by PID if it outlives its part.
net_run() {
	local mon=$1 b=$2 r=$3 p=$WORK/net.$2.$1.$3 mpid spid ppid="" line
	# The receive window: the sending and 4 s more (what a backend has
	# buffered by then is no longer the rate).
	local args="port=$NET_PORT rx_port=$NET_GPORT tx_ms=$NET_TX_MS"
	args="$args rx_ms=$((NET_RX_S * 1000 + 4000))"
	local kdev qnet saddr=127.0.0.1 gaddr=127.0.0.1 gport=$NET_FWD
	local fwd="udp:127.0.0.1:$NET_FWD-:$NET_GPORT" want g s l t sock=""
	: >"$p.con"
	case $b in
	slirp)	kdev="slirp,open=true,hostfwd=$fwd"
		qnet="user,id=n0,hostfwd=$fwd"
		args="$args dst=10.0.2.2" ;;
	passt)	kdev="passt,hostfwd=$fwd"
		# passt maps the guest's gateway address to the host.
		# A short absolute path: sun_path holds 108 bytes.
		sock=${TMPDIR:-/tmp}/khyve-bench-passt.$$.sock
		qnet="stream,id=n0,server=off,addr.type=unix,addr.path=$sock"
		args="$args dst=router" ;;
	tap)	kdev="tap,ifname=$NET_TAP"
		qnet="tap,id=n0,ifname=$NET_TAP,script=no,downscript=no,vhost=off"
		args="$args ip=$NET_TAP_GUEST dst=$NET_TAP_HOST"
		saddr=$NET_TAP_HOST gaddr=$NET_TAP_GUEST gport=$NET_GPORT ;;
	esac
	if [ "$mon" = khyve ]; then
		# shellcheck disable=SC2054	# the commas are bhyve's -s syntax
		run "$KHYVE" -c 1 -m "${MEM_MB}M" -s 0,hostbridge -s 31,lpc \
		    -s "3,virtio-net,$kdev" -l com1,stdio --kernel "$NET_ELF" \
		    --cmdline "$args pm1a_cnt=0x404 s5=5" benchnet \
		    </dev/null >"$p.con" 2>"$p.err" &
		mpid=$! want=1
	else
		if [ "$b" = passt ]; then
			rm -f "$sock"
			run passt -f -1 -s "$sock" -t none \
			    -u "127.0.0.1/$NET_FWD:$NET_GPORT" \
			    </dev/null >"$p.passt" 2>&1 &
			ppid=$!
			# A client that comes before this line is dropped.
			net_wait "$p.passt" 'You can now start qemu' "$ppid" 10 ||
			    note "$mon $b round $r: passt did not start (see $p.passt)"
		fi
		run "$QEMU" -M pc -enable-kvm -m "$MEM_MB" -kernel "$NET_ELF" \
		    -append "$args pm1a_cnt=0x604 s5=0" -netdev "$qnet" \
		    -device virtio-net-pci,netdev=n0 -display none \
		    -serial "file:$p.con" -no-reboot </dev/null >"$p.err" 2>&1 &
		mpid=$! want=0
	fi
	if ! net_wait "$p.con" '^BENCH ready' "$mpid" 180; then
		note "$mon $b round $r: no \"BENCH ready\" ($(tr -d '\r' <"$p.con" | grep -m 1 '^BENCH error' || tail -n 1 "$p.err"); see $p.con, $p.err)"
		net_kill "$mpid" $ppid
		return
	fi
	run "$NET_HOST" sink -b "$saddr" -p "$NET_PORT" -n 2 -i 3000 -t 300 \
	    -P "$mpid" ${ppid:+-P "$ppid"} >"$p.sink" 2>&1 &
	spid=$!
	net_wait "$p.sink" '^SINK ready' "$spid" 10 ||
	    note "$mon $b round $r: the sink did not start (see $p.sink)"
	# Three times: a datagram may be lost (the guest takes the first).
	for _ in 1 2 3; do
		"$NET_HOST" go -d "$gaddr" -p "$gport" 2>>"$p.sink"
		sleep 0.2
	done
	for t in rxl:1472:3 rxs:18:4; do
		IFS=: read -r l s g <<<"$t"
		if ! net_wait "$p.con" "^BENCH $l ready" "$mpid" 300; then
			note "$mon $b round $r: no \"BENCH $l ready\" (see $p.con)"
			break
		fi
		run "$NET_HOST" source -d "$gaddr" -p "$gport" -s "$s" \
		    -t "$NET_RX_S" -T "$g" -P "$mpid" ${ppid:+-P "$ppid"} \
		    >>"$p.src" 2>&1
	done
	net_wait "$p.con" '^BENCH done' "$mpid" 120 ||
	    note "$mon $b round $r: no \"BENCH done\" (see $p.con)"
	# The guest powers off after "BENCH done": a monitor still there
	# 30 s later is killed.
	for _ in $(seq 300); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$mpid" 2>/dev/null; then
		note "$mon $b round $r: still running after the guest's poweroff: killed"
		net_kill "$mpid"
	else
		wait "$mpid"
		line=$?
		[ "$line" = "$want" ] || note "$mon $b round $r: exit status $line, expected $want (see $p.err)"
	fi
	net_kill $ppid
	[ -n "$sock" ] && rm -f "$sock"
	for _ in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
	net_kill "$spid"
	tr -d '\r' <"$p.con" | grep -m 1 '^BENCH error' >/dev/null &&
	    note "$mon $b round $r: $(tr -d '\r' <"$p.con" | grep -m 1 '^BENCH error')"
	# guest -> host: the sink's rate and the monitor's CPU over it.
	net_rec "$mon" "$b" txl "$(net_line "$p.sink" SINK id=1)" mbps \
	    "$(net_line "$p.sink" SINK id=1)" 1000
	net_rec "$mon" "$b" txs "$(net_line "$p.sink" SINK id=2)" pps \
	    "$(net_line "$p.sink" SINK id=2)" 1000000
	# host -> guest: what the guest counted, the CPU over the sending.
	net_rec "$mon" "$b" rxl "$(net_line "$p.con" BENCH name=rxl)" mbps \
	    "$(net_line "$p.src" SOURCE id=3)" 1000
	net_rec "$mon" "$b" rxs "$(net_line "$p.con" BENCH name=rxs)" pps \
	    "$(net_line "$p.src" SOURCE id=4)" 1000000
	# Delivered: datagrams that arrived over those sent, in % (guest ->
	# host only: host -> guest it says how much the backend buffers).
	for t in txl:1 txs:2; do
		IFS=: read -r l g <<<"$t"
		rec "$mon" "${b}_${l}_got" "$(awk -v a="$(field " $(net_line "$p.sink" SINK "id=$g")" frames)" \
		    -v b="$(field " $(net_line "$p.con" BENCH "name=$l")" frames)" \
		    'BEGIN { if (b > 0 && a != "") printf "%.2f", 100 * a / b }')"
	done
}

# net_host_limit ROUND: two host processes over loopback, the same sizes
# and times: the most a monitor could pass on (host -> guest too).
net_host_limit() {
	local p=$WORK/net.host.$1 spid l g f s t line
	run "$NET_HOST" sink -b 127.0.0.1 -p "$NET_PORT" -n 2 -i 3000 -t 120 \
	    >"$p.sink" 2>&1 &
	spid=$!
	net_wait "$p.sink" '^SINK ready' "$spid" 10
	for t in 1472:1 18:2; do
		IFS=: read -r l g <<<"$t"
		run "$NET_HOST" source -d 127.0.0.1 -p "$NET_PORT" -s "$l" \
		    -t "$NET_RX_S" -T "$g" >>"$p.src" 2>&1
	done
	for _ in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
	net_kill "$spid"
	# Both processes' CPU over the sending: the source's own and the
	# sink's own, over the source's time.
	for t in l:1:mbps:1000 s:2:pps:1000000; do
		IFS=: read -r l g f s <<<"$t"
		line=$(net_line "$p.sink" SINK "id=$g")
		rec host "net_$l" "$(field " $line" "$f")"
		rec host "net_${l}_cpu" "$(net_cost "$(field " $line" "$f")" \
		    "$(awk -v a="$(field " $line" self_cpu_ms)" \
		    -v b="$(field " $(net_line "$p.src" SOURCE "id=$g")" self_cpu_ms)" \
		    'BEGIN { print a + b }')" "$(field " $line" ms)" "$s")"
	done
}

# net_backend B: every round of backend B, or the reason it is skipped in
# $WORK/net.B.skip.
net_backend() {
	local b=$1 why="" spec r m order
	case $b in
	slirp) spec=slirp ;;
	passt) spec=passt ;;
	tap) spec="tap,ifname=$NET_TAP" ;;
	esac
	why=$(net_probe "$spec")
	if [ -z "$why" ] && [ "$b" = passt ] && ! command -v passt >/dev/null; then
		why="passt is not installed"
	fi
	if [ -n "$why" ] && [ -z "${BENCH_NET_FORCE:-}" ]; then
		echo "$why" >"$WORK/net.$b.skip"
		say "network $b: SKIP: $why"
		return
	fi
	[ -n "$why" ] && echo "$why" >"$WORK/net.$b.khyve_skip"
	for r in $(seq 1 "$RUNS"); do
		if [ $((r % 2)) = 1 ]; then order="khyve qemu"; else order="qemu khyve"; fi
		for m in $order; do
			[ "$m" = qemu ] && [ $have_qemu = 0 ] && continue
			[ "$m" = khyve ] && [ -n "$why" ] && continue
			say "network $b round $r/$RUNS: $m"
			net_run "$m" "$b" "$r"
		done
	done
}

# net_tap_child: inside a network namespace of its own (unshare -n, run
# by the parent as "run.sh BUILD MODE --net-tap"): the tap, both
# monitors and net_host all in it; notes go to the parent by a file.
net_tap_child() {
	note() { echo "$*" >>"$WORK/net.notes"; echo "bench: $*" >&2; }
	if ! { ip link set lo up &&
	    ip tuntap add dev "$NET_TAP" mode tap &&
	    ip addr add "$NET_TAP_HOST/24" dev "$NET_TAP" &&
	    ip link set "$NET_TAP" up; }; then
		echo "cannot set up $NET_TAP in a new network namespace" >"$WORK/net.tap.skip"
		return
	fi
	net_backend tap
}

# net_part: the network rows' samples (net_table prints them).
net_part() {
	local b l r
	if [ ! -f "$NET_ELF" ] || [ ! -x "$NET_HOST" ]; then
		note "$NET_ELF or $NET_HOST missing (make bench builds them): no network figures"
		return
	fi
	say "network: host limit (loopback UDP between two net_host)"
	for r in $(seq 1 "$RUNS"); do
		net_host_limit "$r"
	done
	for b in $NET_BACKENDS; do
		if [ "$b" != tap ]; then
			net_backend "$b"
		elif [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
			echo "the tap needs root and unshare(1) for a network namespace" >"$WORK/net.tap.skip"
		else
			NET_TAP_CHILD=1 unshare -n "$0" "$BUILD" "$MODE" ||
			    note "the tap run in its network namespace failed"
			if [ -s "$WORK/net.notes" ]; then
				while read -r l; do notes+=("$l"); done <"$WORK/net.notes"
			fi
		fi
	done
	NET_DONE=1
}

# net_rows B: the table rows of backend B.
net_rows() {
	local b=$1 k
	if [ -s "$WORK/net.$b.skip" ]; then
		echo "| **$b**: not measured: $(cat "$WORK/net.$b.skip") | | | | | | |"
		return
	fi
	k=khyve
	[ -s "$WORK/net.$b.khyve_skip" ] && k="khyve (not run: $(cat "$WORK/net.$b.khyve_skip"))"
	echo "| **$b** ($k, QEMU) | | | | | | |"
	echo "| guest -> host, 1472-byte payloads (Gbit/s at the host) | $(fig khyve "${b}_txl" 1000 3) | $(fig qemu "${b}_txl" 1000 3) | $(fig host net_l 1000 3) | $(qratio "${b}_txl") | $(nratio khyve "${b}_txl" net_l) | $(nratio qemu "${b}_txl" net_l) |"
	echo "| guest -> host, host CPU s per Gbit | $(fig khyve "${b}_txl_cpu" 1 2) | $(fig qemu "${b}_txl_cpu" 1 2) | $(fig host net_l_cpu 1 2) | $(qratio "${b}_txl_cpu") | | |"
	echo "| guest -> host, 18-byte payloads (packets/s at the host) | $(fig khyve "${b}_txs" 1 0) | $(fig qemu "${b}_txs" 1 0) | $(fig host net_s 1 0) | $(qratio "${b}_txs") | $(nratio khyve "${b}_txs" net_s) | $(nratio qemu "${b}_txs" net_s) |"
	echo "| guest -> host, host CPU µs per packet | $(fig khyve "${b}_txs_cpu" 1 1) | $(fig qemu "${b}_txs_cpu" 1 1) | $(fig host net_s_cpu 1 2) | $(qratio "${b}_txs_cpu") | | |"
	echo "| guest -> host, datagrams delivered, 1472 / 18 bytes (%, medians) | $(nmed khyve "${b}_txl_got") / $(nmed khyve "${b}_txs_got") | $(nmed qemu "${b}_txl_got") / $(nmed qemu "${b}_txs_got") | | | | |"
	echo "| host -> guest, 1472-byte payloads (Gbit/s in the guest) | $(fig khyve "${b}_rxl" 1000 3) | $(fig qemu "${b}_rxl" 1000 3) | $(fig host net_l 1000 3) | $(qratio "${b}_rxl") | $(nratio khyve "${b}_rxl" net_l) | $(nratio qemu "${b}_rxl" net_l) |"
	echo "| host -> guest, host CPU s per Gbit | $(fig khyve "${b}_rxl_cpu" 1 2) | $(fig qemu "${b}_rxl_cpu" 1 2) | $(fig host net_l_cpu 1 2) | $(qratio "${b}_rxl_cpu") | | |"
	echo "| host -> guest, 18-byte payloads (packets/s in the guest) | $(fig khyve "${b}_rxs" 1 0) | $(fig qemu "${b}_rxs" 1 0) | $(fig host net_s 1 0) | $(qratio "${b}_rxs") | $(nratio khyve "${b}_rxs" net_s) | $(nratio qemu "${b}_rxs" net_s) |"
	echo "| host -> guest, host CPU µs per packet | $(fig khyve "${b}_rxs_cpu" 1 1) | $(fig qemu "${b}_rxs_cpu" 1 1) | $(fig host net_s_cpu 1 2) | $(qratio "${b}_rxs_cpu") | | |"
}

# nmed MON KEY: the median with one decimal, or n/a.
nmed() {
	local m
	m=$(median "$1" "$2")
	[ -n "$m" ] || { echo n/a; return; }
	awk -v m="$m" 'BEGIN { printf "%.1f", m }'
}

# nratio MON KEY HOSTKEY: median of MON's KEY / median of the host's.
nratio() {
	local a b
	a=$(median "$1" "$2")
	b=$(median host "$3")
	if [ -z "$a" ] || [ -z "$b" ]; then
		echo "-"
		return
	fi
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4fx", (b > 0 ? a / b : 0) }'
}

# ---- statistics -----------------------------------------------------------

# fig MON KEY SCALE DIGITS: "median (min-max)" of the samples / SCALE.
fig() {
	local f=$WORK/$1.$2
	[ -s "$f" ] || { echo "n/a"; return; }
	sort -g "$f" | awk -v s="$3" -v d="$4" '
	    { v[NR] = $1 / s }
	    END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		if (NR == 1)
			printf "%.*f", d, m
		else
			printf "%.*f (%.*f-%.*f)", d, m, d, v[1], d, v[NR]
	    }'
}

# median MON KEY: the bare median, or nothing.
median() {
	local f=$WORK/$1.$2
	[ -s "$f" ] || return 0
	sort -g "$f" | awk '{ v[NR] = $1 } END {
	    print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# minimum MON KEY: the smallest sample, or nothing.
minimum() {
	local f=$WORK/$1.$2
	[ -s "$f" ] || return 0
	sort -g "$f" | head -n 1
}

# ratio MON KEY: median of MON / median of raw, then the same for the
# minimums (the least disturbed runs), as "1.03x (min 0.98x)".
ratio() {
	local a b c d
	a=$(median "$1" "$2")
	b=$(median raw "$2")
	c=$(minimum "$1" "$2")
	d=$(minimum raw "$2")
	if [ -z "$a" ] || [ -z "$b" ]; then
		echo "-"
		return
	fi
	awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN {
	    printf "%.2fx", (b > 0 ? a / b : 0)
	    if (c != "" && d > 0 && (c != a || d != b))
		printf " (min %.2fx)", c / d }'
}

# net MON: median PIO (or MMIO) iteration minus median bare loop, in us.
net() {
	local a b
	a=$(median "$1" "$2")
	b=$(median "$1" loop)
	if [ -z "$a" ] || [ -z "$b" ]; then
		echo "n/a"
		return
	fi
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (a - b) / 1000 }'
}

# pm_check: the largest gap between a TSC and a PM-timer figure.
pm_check() {
	cat "$WORK"/*.pmdev 2>/dev/null | sort -g | tail -n 1 |
	    awk '{ printf "%.2f%%", $1 * 100 } END { if (NR == 0) printf "n/a" }'
}

# ---- the Linux boot timeline (full mode) ----------------------------------

# linux_boot PATH: boot the test-poweroff initramfs with khyve decompressing
# the kernel (PATH monitor) or with the kernel's own decompressor (guest);
# runstat's line goes to $WORK/linux-PATH.run.
linux_boot() {
	local path=$1 kernel=$BUILD/cache/vmlinuz
	local initrd=$BUILD/linux/test-poweroff.cpio
	"$RUNSTAT" -O "$WORK/linux-$path.con" -f "Linux version" \
	    -t "${BENCH_LINUX_TIMEOUT:-1800}" \
	    -- "$KHYVE" -c 1 -m 256M -u -s 0,hostbridge -s 31,lpc -l com1,stdio \
	    -o boot.timer=true -o stats=true -o boot.decompress="$path" \
	    --kernel "$kernel" --initrd "$initrd" \
	    --cmdline "console=ttyS0 expect_cpus=1 expect_mem_mb=256 expect_epoch=$(date +%s)" \
	    "linux-bench-$path" </dev/null >"$WORK/linux-$path.run" \
	    2>"$WORK/linux-$path.err"
}

# linux_event PATH WHAT: ms since start of one boot.timer event, or "-".
linux_event() {
	local v
	v=$(tr -d '\r' <"$WORK/linux-$1.err" |
	    sed -n "s/^khyve: boot.timer: *\([0-9.]*\) ms  $2\$/\1/p" | head -n 1)
	echo "${v:--}"
}

# linux_printk PATH TEXT: the kernel clock of the first console line with
# TEXT, "no timestamp" for a line without one, or "not reached".
linux_printk() {
	local l t
	l=$(tr -d '\r' <"$WORK/linux-$1.con" | grep -m 1 -F "$2")
	t=$(sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p' <<<"$l")
	if [ -z "$l" ]; then
		echo "not reached"
	else
		echo "${t:-no timestamp}"
	fi
}

# linux_counter PATH NAME: one of KVM's counters printed at exit.
linux_counter() {
	local v
	v=$(tr -d '\r' <"$WORK/linux-$1.err" | grep 'KVM counters' |
	    sed -n "s/.* $2=\([0-9]*\).*/\1/p" | head -n 1)
	echo "${v:--}"
}

linux_timeline() {
	local p line first
	LINUX_TABLE=
	if [ "$MODE" != full ]; then
		LINUX_NOTE="not measured in quick mode (a boot takes minutes here)"
		return
	fi
	if [ ! -f "$BUILD/cache/vmlinuz" ] ||
	    [ ! -f "$BUILD/linux/test-poweroff.cpio" ]; then
		LINUX_NOTE="not measured: $BUILD/cache/vmlinuz or $BUILD/linux/test-poweroff.cpio missing (make check builds them)"
		return
	fi
	say "Linux boot timeline: both decompression paths at once (minutes on a host that emulates guest kernel code)"
	# At normal priority: minutes of a niced boot would starve the host.
	linux_boot monitor &
	linux_boot guest &
	wait
	LINUX_NOTE="khyve at nice 0, 1 vCPU, 256 MiB each, Debian kernel $(cat "$BUILD/cache/kernel-version" 2>/dev/null || echo "(version unknown)"), initramfs test-poweroff; the two boots ran at the same time, one per core"
	for p in monitor guest; do
		line=$(cat "$WORK/linux-$p.run")
		LINUX_NOTE="$LINUX_NOTE; $p: exit status $(field "$line" status), CPU $(field "$line" user_ms) ms user + $(field "$line" sys_ms) ms system, peak RSS $(field "$line" maxrss_kb) kB"
		[ "$(field "$line" status)" = 1 ] ||
		    note "Linux boot ($p): exit status $(field "$line" status) (1 = powered off; console in $WORK/linux-$p.con)"
	done
	LINUX_TABLE=$(
		echo "| Event (host side), ms since start | khyve decompresses (default) | kernel decompresses itself (\`boot.decompress=guest\`) |"
		echo "|---|---:|---:|"
		echo "| first \`KVM_RUN\` | $(linux_event monitor 'first KVM_RUN') | $(linux_event guest 'first KVM_RUN') |"
		for p in monitor guest; do
			line=$(cat "$WORK/linux-$p.run")
			first=$(field "$line" first_ms)
			[ "$first" = -1.000 ] && first=-
			eval "first_$p=\$first"
		done
		# shellcheck disable=SC2154 # first_monitor, first_guest: set by eval
		echo "| console: first \`Linux version\` line | $first_monitor | $first_guest |"
		echo "| \`/init\`: port 0x80 <- 0x41 | $(linux_event monitor 'port 0x80 <- 0x41') | $(linux_event guest 'port 0x80 <- 0x41') |"
		echo "| exit | $(linux_event monitor exit) | $(linux_event guest exit) |"
		echo
		echo "| Milestone on the console, kernel clock (s) | khyve decompresses | kernel decompresses itself |"
		echo "|---|---:|---:|"
		for m in "Switched to clocksource" "Freeing unused kernel image" \
		    "Run /init as init process" "reboot: Power down"; do
			echo "| $m | $(linux_printk monitor "$m") | $(linux_printk guest "$m") |"
		done
		echo
		echo "| KVM's counters at exit | khyve decompresses | kernel decompresses itself |"
		echo "|---|---:|---:|"
		for c in insn_emulation irq_injections exits; do
			echo "| \`$c\` | $(linux_counter monitor $c) | $(linux_counter guest $c) |"
		done
		echo
		echo "khyve's \`boot.timer\` counts from its main(), the console line from exec (runstat): they differ by about a millisecond. \`insn_emulation\` counts the guest instructions KVM emulated; on this host that is all guest kernel code."
	)
}

if [ -n "${NET_TAP_CHILD:-}" ]; then
	net_tap_child
	exit 0
fi

# ---- the run --------------------------------------------------------------

say "mode $MODE: $RUNS round(s), $ITERS iterations per loop, idle ${IDLE_MS} ms"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$SECONDS
if part exits; then
	for r in $(seq 1 "$RUNS"); do
		if [ $((r % 2)) = 1 ]; then order="khyve qemu raw"; else order="raw qemu khyve"; fi
		for m in $order; do
			say "round $r/$RUNS: $m"
			"run_$m" "$r"
		done
	done
	linux_timeline
else
	LINUX_TABLE= LINUX_NOTE="not measured (BENCH_PARTS=$PARTS)"
fi
BLK_DONE=0
if part disk; then
	if [ ! -f "$BLK_ELF" ]; then
		note "$BLK_ELF missing: no disk figures"
	elif blk_setup; then
		for r in $(seq 1 "$RUNS"); do
			if [ $((r % 2)) = 1 ]; then order="khyve qemu"; else order="qemu khyve"; fi
			for m in $order; do
				[ "$m" = qemu ] && [ $have_qemu = 0 ] && continue
				say "disk round $r/$RUNS: $m"
				run_blk "$m" "$r"
				run_blk "$m" "$r" poll
			done
		done
		# rawkvm's mmio16 is the raw column of bench_blk's BAR read.
		if ! part exits; then
			for _ in $(seq 1 "$REPS"); do
				line=$(run "$RAWKVM" -m "$MEM_MB" mmio16 "$ITERS" 2>>"$WORK/raw.err")
				rec raw mmio_bar "$(field "$line" ns_per_iter)"
			done
		fi
		rm -f "$BLK_IMG"
		say "disk: blk_host (the host's own figures)"
		blk_host_run
		BLK_DONE=1
	fi
fi
NET_DONE=0
part net && net_part
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the report -------------------------------------------------------------

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
if [ -e /sys/module/kvm_pvm ]; then
	flavour="nested, software-assisted KVM (kvm_pvm loaded: guest kernel code is emulated)"
elif [ -e /sys/module/kvm_intel ]; then
	flavour="hardware KVM (kvm_intel)"
elif [ -e /sys/module/kvm_amd ]; then
	flavour="hardware KVM (kvm_amd)"
else
	flavour="KVM (module unknown)"
fi
rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
qver=n/a
[ $have_qemu = 1 ] && qver=$("$QEMU" --version | head -n 1)
khyve_v=$(cat "$WORK/khyve.mmio_value" 2>/dev/null || echo "?")
qemu_v=$(cat "$WORK/qemu.mmio_value" 2>/dev/null || echo "?")
khyve_bv=$(cat "$WORK/khyve.mmio_bar_value" 2>/dev/null || echo "?")
qemu_bv=$(cat "$WORK/qemu.mmio_bar_value" 2>/dev/null || echo "?")
if [ "$BLK_DONE" = 1 ]; then
	blk_how="O_DIRECT: khyve \`nocache\`, QEMU \`cache=none\`, blk_host bare"
	[ "$BLK_DIRECT" = 1 ] || blk_how="no O_DIRECT there: through the host page cache (khyve without \`nocache\`, QEMU \`cache=writeback\`, blk_host \`-b\`)"
	L1="4K random read QD1 (IOPS)" L32="4K random read QD32 (IOPS)"
	LSR="128K sequential read QD1 (MB/s)" LSW="128K sequential write QD1 (MB/s)"
	DISK_TABLE=$(
		echo "\`tests/guest/bench_blk.c\` at CPL0 through the kit's virtio driver (modern registers, one queue of the device's size, requests ended by the MSI-X interrupt, or in the rows marked polled by polling the used ring with the queue's vector off), 1 vCPU, $MEM_MB MiB, on one $BLK_MB MiB image in $BLK_DIR, $blk_how. khyve: \`-s 3,virtio-blk,IMG\` (io_uring engine); QEMU: \`-drive file=IMG,if=none,format=raw,aio=io_uring,...\` \`-device virtio-blk-pci\`. Host: \`bench/blk_host\` on a file of the same size in the same directory (pread/pwrite at depth 1, a bare io_uring at depth 32); its blockif column is khyve's disk engine without a VM. $BLK_MS ms per figure, $BLK_RT round trips."
		echo
		echo "| | khyve | QEMU | host (blk_host) | blockif io_uring, no VM | khyve / QEMU | khyve / host | QEMU / host |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|"
		echo "| 4 KiB random reads, depth 1 (IOPS) | $(fig khyve rr1 1 0) | $(fig qemu rr1 1 0) | $(host_fig "$L1" 1) | $(host_fig "$L1" 2) | $(qratio rr1) | $(hratio khyve rr1 "$L1") | $(hratio qemu rr1 "$L1") |"
		echo "| 4 KiB random reads, depth 32 (IOPS) | $(fig khyve rr32 1 0) | $(fig qemu rr32 1 0) | $(host_fig "$L32" 1) | $(host_fig "$L32" 2) | $(qratio rr32) | $(hratio khyve rr32 "$L32") | $(hratio qemu rr32 "$L32") |"
		echo "| 128 KiB sequential reads, depth 1 (MB/s) | $(fig khyve sr 1 1) | $(fig qemu sr 1 1) | $(host_fig "$LSR" 1) | $(host_fig "$LSR" 2) | $(qratio sr) | $(hratio khyve sr "$LSR") | $(hratio qemu sr "$LSR") |"
		echo "| 128 KiB sequential writes, depth 1 (MB/s) | $(fig khyve sw 1 1) | $(fig qemu sw 1 1) | $(host_fig "$LSW" 1) | $(host_fig "$LSW" 2) | $(qratio sw) | $(hratio khyve sw "$LSW") | $(hratio qemu sw "$LSW") |"
		echo "| 4 KiB random reads, depth 1, polled (IOPS) | $(fig khyve rr1_p 1 0) | $(fig qemu rr1_p 1 0) | $(host_fig "$L1" 1) | $(host_fig "$L1" 2) | $(qratio rr1_p) | $(hratio khyve rr1_p "$L1") | $(hratio qemu rr1_p "$L1") |"
		echo "| 4 KiB random reads, depth 32, polled (IOPS) | $(fig khyve rr32_p 1 0) | $(fig qemu rr32_p 1 0) | $(host_fig "$L32" 1) | $(host_fig "$L32" 2) | $(qratio rr32_p) | $(hratio khyve rr32_p "$L32") | $(hratio qemu rr32_p "$L32") |"
		echo "| 128 KiB sequential reads, depth 1, polled (MB/s) | $(fig khyve sr_p 1 1) | $(fig qemu sr_p 1 1) | $(host_fig "$LSR" 1) | $(host_fig "$LSR" 2) | $(qratio sr_p) | $(hratio khyve sr_p "$LSR") | $(hratio qemu sr_p "$LSR") |"
		echo "| 128 KiB sequential writes, depth 1, polled (MB/s) | $(fig khyve sw_p 1 1) | $(fig qemu sw_p 1 1) | $(host_fig "$LSW" 1) | $(host_fig "$LSW" 2) | $(qratio sw_p) | $(hratio khyve sw_p "$LSW") | $(hratio qemu sw_p "$LSW") |"
		echo "| GET_ID notify -> used element, polled, no interrupt (µs) | $(fig khyve rt_poll 1000 1) | $(fig qemu rt_poll 1000 1) | - | - | $(qratio rt_poll) | | |"
		echo "| GET_ID notify -> MSI-X interrupt -> used element (µs) | $(fig khyve rt_intr 1000 1) | $(fig qemu rt_intr 1000 1) | - | - | $(qratio rt_intr) | | |"
		echo "| Peak RSS of the disk boot, guest RAM touched included (MiB) | $(fig khyve blk_maxrss 1024 2) | $(fig qemu blk_maxrss 1024 2) | | | $(qratio blk_maxrss) | | |"
		echo "| RSS outside guest RAM during the disk boot (MiB) | $(fig khyve blk_rss 1024 2) | $(fig qemu blk_rss 1024 2) | | | $(qratio blk_rss) | | |"
		echo
		echo "IOPS and MB/s: higher is better; µs and MiB: lower. GET_ID moves no disk data: the request goes in through the notify register (an ioeventfd under both monitors) and comes back as a used element, polled with the queue's vector off, or with the MSI-X interrupt taken by the guest's handler (EOI included) before the used ring is read. blk_host's own output:"
		echo
		echo '```'
		cat "$WORK/blk_host.out" 2>/dev/null
		echo '```'
	)
else
	DISK_TABLE="Not measured (BENCH_PARTS=$PARTS, or see the notes)."
fi
if [ "$NET_DONE" = 1 ]; then
	NET_TABLE=$(
		echo "\`tests/guest/bench_net.c\` at CPL0 through the kit's virtio-net driver (modern registers, VERSION_1 and MAC only, no offloads, both queues of the device's size, polled), 1 vCPU, $MEM_MB MiB; \`bench/net_host\` at the host end. Guest -> host: the guest sends UDP datagrams as fast as its transmit ring takes them for $NET_TX_MS ms (one notification per 32), counted by net_host's sink. Host -> guest: net_host sends as fast as sendto(2) takes them for $NET_RX_S s, counted by the guest. slirp: khyve \`-s 3,virtio-net,slirp,open=true,hostfwd=udp:127.0.0.1:$NET_FWD-:$NET_GPORT\`, QEMU \`-netdev user,hostfwd=...\` (both libslirp; the guest sends to 10.0.2.2, the host's loopback). passt: khyve \`passt,hostfwd=...\` (khyve starts passt), QEMU \`-netdev stream\` to a passt started with \`-u 127.0.0.1/$NET_FWD:$NET_GPORT\` (the guest sends to its gateway, which passt maps to the host). tap: \`$NET_TAP\` in a network namespace of its own, the host $NET_TAP_HOST, the guest $NET_TAP_GUEST static; khyve \`tap,ifname=$NET_TAP\`, QEMU \`-netdev tap,...,vhost=off\`. Host limit: two net_host processes over loopback with the same sizes and time."
		echo
		echo "| | khyve | QEMU | host limit (loopback) | khyve / QEMU | khyve / host | QEMU / host |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
		for b in $NET_BACKENDS; do
			net_rows "$b"
		done
		echo
		echo "Gbit/s and packets/s: higher is better; CPU: lower. Rates count UDP payload (10^9 bits); 1472-byte payloads make 1514-byte frames, 18-byte ones 60-byte frames (64 with the FCS). Host CPU is user + system time of the monitor's process and its children (all threads: the vCPU's, whose guest code runs emulated in the kernel here, and khyve's slirp helper), plus passt's under QEMU; net_host's own for the host limit. It is taken over the traffic (the sink from its first datagram to the test's end marker; the source over its sending) and divided by the rate of the same run. Guest kernel code is emulated on this host: the guest's own speed bounds every figure, and both monitors run the same guest."
	)
else
	NET_TABLE="Not measured (BENCH_PARTS=$PARTS, or see the notes)."
fi
make_cmd="make bench"
[ "$MODE" = quick ] && make_cmd="make bench QUICK=1"

{
cat <<EOF
# khyve benchmark results

Produced by \`bench/run.sh $BUILD $MODE\` (\`$make_cmd\`); see
[docs/performance.md](../docs/performance.md) for what each figure measures.

| | |
|---|---|
| Date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| Machine | $cpu, $(nproc) cores, $mem |
| Host kernel | $(uname -r) |
| KVM | $flavour |
| khyve | git $rev |
| QEMU | $qver, \`-M pc -enable-kvm -m $MEM_MB\` |
| Mode | $MODE: $RUNS round(s), interleaved; per round and monitor one benchmark boot running each loop $REPS times ($ITERS iterations), and start-up runs (khyve and raw KVM $UP_REPS, QEMU 1) |
| Host load average (1, 5, 15 min) | $load_start at the start, $load_end at the end; measured processes at nice $NICE |
| Run time | $((SECONDS - t_start)) s |

Figures are medians over all samples with the spread (min-max).  Guest:
\`tests/guest/bench_exit.c\` at CPL0, 1 vCPU, $MEM_MB MiB; raw KVM: \`bench/rawkvm.c\`
running the same loop bytes.  Ratios divide by raw KVM: medians, then (min)
the smallest samples, the runs least disturbed by other work on the host.

## VM exits

| Round trip, µs per loop iteration | khyve | QEMU | raw KVM | khyve / raw | QEMU / raw |
|---|---:|---:|---:|---:|---:|
| PIO: \`out %al,(%dx)\` to port 0x3ff (COM1 scratch); \`dec\`; \`jnz\` | $(fig khyve pio 1000 2) | $(fig qemu pio 1000 2) | $(fig raw pio 1000 2) | $(ratio khyve pio) | $(ratio qemu pio) |
| MMIO: \`movzwl (%rsi),%eax\` from virtio-blk's \`num_queues\` (common configuration, a register the device model serves in user space; raw KVM, which has no device: the same bytes on an unclaimed hole); \`dec\`; \`jnz\` | $(fig khyve mmio_bar 1000 2) | $(fig qemu mmio_bar 1000 2) | $(fig raw mmio_bar 1000 2) | $(ratio khyve mmio_bar) | $(ratio qemu mmio_bar) |
| Bare loop, no exit: \`dec\`; \`jnz\` | $(fig khyve loop 1000 2) | $(fig qemu loop 1000 2) | $(fig raw loop 1000 2) | $(ratio khyve loop) | $(ratio qemu loop) |
| PIO minus bare loop (medians): the exit alone | $(net khyve pio) | $(net qemu pio) | $(net raw pio) | | |
| MMIO minus bare loop (medians): the exit alone | $(net khyve mmio_bar) | $(net qemu mmio_bar) | $(net raw mmio_bar) | | |

The register read returns $khyve_bv under khyve and $qemu_bv under QEMU (one
queue); it runs in the disk boots below (\`tests/guest/bench_blk.c\`, the
\`mmio\` figure).  It replaces bench_exit's read of the unclaimed hole
(\`mov (%rsi),%eax\` from 0xd0000000, answered $khyve_v by khyve, $qemu_v by
QEMU, 0xffffffff by raw KVM), which took $(fig khyve mmio 1000 2) µs under khyve,
$(fig qemu mmio 1000 2) under QEMU and $(fig raw mmio 1000 2) under raw KVM.  Guest
figures use the TSC calibrated against the ACPI PM timer; timing the same
loops with the PM timer itself agreed within $(pm_check).  Raw KVM figures
are host clock_gettime() from the first exit to the exit that ends the loop.

## Disk (virtio-blk)

$DISK_TABLE

## Network (virtio-net)

$NET_TABLE

## Start-up

A guest that writes one line and powers off at once (\`bench_exit\` with no
benchmark): exec -> exit, and when the line reaches the console.  The guest's
own boot (the kit's entry, page tables, IDT, command line; the same code under
every monitor, emulated instruction by instruction where KVM emulates guest
kernel code) is inside those figures; QEMU's also hold its firmware (SeaBIOS
and the PVH option ROM).  Raw KVM makes two exits and stops.

| ms | khyve | QEMU | raw KVM |
|---|---:|---:|---:|
| exec -> exit, wall | $(fig khyve up_wall 1 1) | $(fig qemu up_wall 1 1) | $(fig raw up_wall 1 1) |
| exec -> exit, CPU (user + system, all threads) | $(fig khyve up_cpu 1 1) | $(fig qemu up_cpu 1 1) | $(fig raw up_cpu 1 1) |
| exec -> first KVM_RUN (its stderr mark, seen from outside) | $(fig khyve up_run 1 1) | n/a | $(fig raw up_run 1 1) |
| main() -> first KVM_RUN (khyve's own \`boot.timer\`) | $(fig khyve up_timer 1 1) | n/a | n/a |
| first KVM_RUN -> the guest's line on the console | $(fig khyve up_guest 1 1) | n/a | n/a |
| exec -> the guest's line on the console | $(fig khyve up_first 1 1) | $(fig qemu up_first 1 1) | n/a |

## Memory

Sampled from \`/proc/PID/smaps\` 300 ms after the guest starts idling (it spins
on the TSC without exits after the benchmarks); guest RAM is the
\`memfd:khyve-guest-ram\` mapping for khyve and the one ${MEM_MB} MiB mapping (\`pc.ram\`)
for QEMU.  Raw KVM measures itself at the end of its run.

| MiB | khyve | QEMU | raw KVM | khyve / raw | QEMU / raw |
|---|---:|---:|---:|---:|---:|
| RSS outside guest RAM | $(fig khyve rss 1024 2) | $(fig qemu rss 1024 2) | $(fig raw rss 1024 2) | $(ratio khyve rss) | $(ratio qemu rss) |
| of which private (not shared with other processes) | $(fig khyve priv 1024 2) | $(fig qemu priv 1024 2) | $(fig raw priv 1024 2) | $(ratio khyve priv) | $(ratio qemu priv) |
| Peak RSS (ru_maxrss, raw KVM: VmHWM; guest pages touched included) | $(fig khyve maxrss 1024 2) | $(fig qemu maxrss 1024 2) | $(fig raw maxrss 1024 2) | $(ratio khyve maxrss) | $(ratio qemu maxrss) |
| Peak RSS of the start-up run | $(fig khyve up_maxrss 1024 2) | $(fig qemu up_maxrss 1024 2) | $(fig raw up_maxrss 1024 2) | | |
| Guest RAM resident | $(fig khyve guest_rss 1024 2) | $(fig qemu guest_rss 1024 2) | - | | |

## Linux boot timeline

EOF
if [ -n "$LINUX_TABLE" ]; then
	echo "$LINUX_NOTE."
	echo
	echo "$LINUX_TABLE"
	echo
	echo "QEMU is not run: QEMU 7.2 stops with an emulation failure on the kernel's"
	echo "int3 self-test on this kind of host (docs/performance.md)."
else
	echo "$LINUX_NOTE."
fi
if [ ${#notes[@]} -gt 0 ]; then
	echo
	echo "## Notes from this run"
	echo
	for n in "${notes[@]}"; do
		echo "- $n"
	done
fi
} >"$OUT/results-$MODE.md"

cp "$OUT/results-$MODE.md" "$RESULTS"
cat "$RESULTS"
say "written to $RESULTS (raw outputs in $WORK)"
