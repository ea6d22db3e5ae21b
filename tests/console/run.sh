#!/usr/bin/env bash
# The console under real guests (the flood test guest, tests/guest/flood.c):
# output is not lost when the VM ends, a peer that does not read cannot
# stall the guest for good, hung-up descriptors cost no CPU and free the
# console for the next client, and a fatal signal removes the socket file.
#
#   tests/console/run.sh [BUILD]        BUILD defaults to "build"
#
# Prints "PASS console:NAME", "FAIL console:NAME (why)" followed by
# khyve's stderr indented, or "SKIP console:NAME: reason".  Environment:
# CONSOLE_TIMEOUT (seconds per boot, default 60).
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
TIMEOUT=${CONSOLE_TIMEOUT:-60}
KHYVE=$BUILD/khyve
ELF=$BUILD/guest/flood.elf
H=tests/console/helper.py
# The system's python3 where there is one: a version manager's shim can
# take seconds to start, and some steps here race the guest's idle time.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
work=$(mktemp -d)
pids=()
trap '[ ${#pids[@]} -gt 0 ] && kill -KILL "${pids[@]}" 2>/dev/null
      wait 2>/dev/null; rm -rf "$work"' EXIT
K=("$KHYVE" -c 1 -m 128M -u -s "0,hostbridge" -s "31,lpc")
failed=0

kvm_problem() {
	[ -e /dev/kvm ] || { echo "no /dev/kvm on this host"; return; }
	[ -c /dev/kvm ] || { echo "/dev/kvm is not a character device"; return; }
	if ! (exec 3<>/dev/kvm) 2>/dev/null; then
		echo "cannot open /dev/kvm read-write as $(id -un)"
	fi
}

pass() { echo "PASS console:$1"; }

# fail NAME WHY [STDERR]: the FAIL line, then khyve's stderr indented.
fail() {
	failed=1
	echo "FAIL console:$1 ($2)"
	if [ -n "${3:-}" ] && [ -s "$3" ]; then
		echo "    stderr:"
		tr -d '\r' <"$3" | tail -n 30 | sed 's/^/    /'
	fi
}

# reap PID: wait for a background khyve, killing it after $TIMEOUT s;
# sets rc to its exit status (124 when it had to be killed).
reap() {
	local pid=$1 end=$((SECONDS + TIMEOUT))
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rc=124
	else
		wait "$pid" 2>/dev/null		# no "Hangup" notice from bash
		rc=$?
	fi
	pids=()
}

# wait_for FILE ERE: up to $TIMEOUT s for FILE to match; 1 if it never did.
wait_for() {
	local end=$((SECONDS + TIMEOUT))
	while ! tr -d '\r' 2>/dev/null <"$1" | grep -qE -- "$2"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}

# sched_ns PID: "RUN WAIT", the nanoseconds its threads ran and waited
# to run (schedstat in proc(5)); empty once it is gone.
sched_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
	    awk '{ r += $1; w += $2 } END { if (NR) printf "%.0f %.0f\n", r, w }'
}

# judge NAME RC WANT_RC CONSOLE ERR CHECK_ARGS...: exit status, then the
# console against the pattern (helper.py check CONSOLE CHECK_ARGS...).
judge() {
	local name=$1 rc=$2 want=$3 out=$4 err=$5 why
	shift 5
	if [ "$rc" -ne "$want" ]; then
		[ "$rc" -eq 124 ] && why="timed out after ${TIMEOUT}s" ||
		    why="exit status $rc, expected $want"
		fail "$name" "$why" "$err"
	elif ! why=$("$PY" "$H" check "$out" "$@"); then
		fail "$name" "$why" "$err"
	else
		pass "$name"
	fi
}

# late_pipe NAME BYTES WANT_RC KOPTS CMDLINE...: the console on stdout, a
# pipe that is not read until the VM has ended (khyve's "exit" mark with
# -o boot.timer=true, or khyve gone): BYTES beyond the pipe's 64 KiB are
# still in khyve then, for the drain to write.  Sets rc.
late_pipe() {
	local name=$1 bytes=$2 want=$3 kopts=$4 out=$work/$1.out err=$work/$1.err
	local rcf=$work/$1.rc
	shift 4
	# shellcheck disable=SC2086 # kopts: options, word-split
	{ timeout -k 5 "$TIMEOUT" "${K[@]}" -o boot.timer=true $kopts \
	    -l com1,stdio --kernel "$ELF" --cmdline "bytes=$bytes $*" \
	    "c$name" </dev/null 2>"$err"; echo $? >"$rcf"; } |
	    { until [ -e "$rcf" ] || grep -q 'ms  exit' "$err" 2>/dev/null; do
		sleep 0.1
	    done; cat >"$out"; }
	rc=$(cat "$rcf")
}

# idle_cpu PID ERR: once the guest sleeps (POST 0x1d in ERR, khyve's
# stderr), khyve must stay idle for 3 s: under 1 s of CPU, and under 2 s
# of CPU plus waiting for one (a busy loop on a loaded host waits more
# than it runs; a descriptor that wakes the event loop for ever keeps a
# thread running or runnable all the time).  Sets why, or "".
idle_cpu() {
	local pid=$1 err=$2 a b run busy
	why=
	if ! wait_for "$err" 'port 0x80 <- 0x1d'; then
		why="the guest never went idle"
		return
	fi
	a=$(sched_ns "$pid")
	sleep 3
	b=$(sched_ns "$pid")
	if [ -z "$a" ] || [ -z "$b" ]; then
		why="khyve exited while the guest was idle"
		return
	fi
	# shellcheck disable=SC2086 # "RUN WAIT": two words
	set -- $a $b
	run=$((($3 - $1) / 10000000))		# centiseconds
	busy=$((($3 + $4 - $1 - $2) / 10000000))
	if [ $run -ge 100 ] || [ $busy -ge 200 ]; then
		why=$(printf 'khyve ran %d.%02d s and waited to run %d.%02d s in' \
		    $((run / 100)) $((run % 100)) $(((busy - run) / 100)) \
		    $(((busy - run) % 100)))
		why="$why 3 s of an idle guest"
	fi
}

tests=(pipe-late-reader pty-late-reader file fate-reset fate-halt
    fate-triple fate-error fifo-no-reader fifo-stalled-reader
    fifo-late-reader idle-stdin-eof idle-stdout-gone idle-unix-dead-client
    idle-tcp-dead-client sigint-unlink sighup-unlink)
kvm_why=$(kvm_problem)
[ -x "$KHYVE" ] || kvm_why="$KHYVE is missing: run make"
[ -f "$ELF" ] || kvm_why="$ELF is missing: run make guests"
command -v "$PY" >/dev/null || kvm_why="python3 is not installed"
if [ -n "$kvm_why" ]; then
	echo "console tests: SKIPPED, every one of them: $kvm_why" >&2
	for t in "${tests[@]}"; do
		echo "SKIP console:$t: $kvm_why"
	done
	exit 0
fi

# ---- A: nothing the guest printed is lost when the VM ends ----

# 100,000 bytes and the final lines, to a reader that starts late.
late_pipe pipe-late-reader 100000 1 ""
judge pipe-late-reader "$rc" 1 "$work/pipe-late-reader.out" \
    "$work/pipe-late-reader.err" 100000

# The same on a terminal not read until the VM has ended: it holds 20 KiB
# or so, khyve the rest of 60,000 bytes.
name=pty-late-reader
# shellcheck disable=SC2094 # the helper waits for the mark khyve writes
"$PY" "$H" pty "$work/$name.err" 'ms  exit' "$work/$name.out" "$TIMEOUT" -- \
    "${K[@]}" -o boot.timer=true -l com1,stdio --kernel "$ELF" \
    --cmdline "bytes=60000" "c$name" 2>"$work/$name.err"
judge $name $? 1 "$work/$name.out" "$work/$name.err" 60000

name="file"
timeout -k 5 "$TIMEOUT" "${K[@]}" -l "com1,$work/$name.out" --kernel "$ELF" \
    --cmdline "bytes=100000" "c$name" </dev/null >/dev/null 2>"$work/$name.err"
judge $name $? 1 "$work/$name.out" "$work/$name.err" 100000

# Every fate drains: 70,000 bytes leave some in khyve's buffer.
late_pipe fate-reset 70000 0 "" end=reset
judge fate-reset "$rc" 0 "$work/fate-reset.out" "$work/fate-reset.err" 70000 \
    --tail 'kit: reset: [^\r]*\r\n'
late_pipe fate-halt 70000 2 "" end=halt
judge fate-halt "$rc" 2 "$work/fate-halt.out" "$work/fate-halt.err" 70000 \
    --tail ''
late_pipe fate-triple 70000 3 "" end=triple
judge fate-triple "$rc" 3 "$work/fate-triple.out" "$work/fate-triple.err" \
    70000 --tail ''
late_pipe fate-error 70000 4 "-e" end=unclaimed
judge fate-error "$rc" 4 "$work/fate-error.out" "$work/fate-error.err" \
    70000 --tail ''

# ---- B: a peer that does not read never stalls the guest for good ----

# A FIFO nobody opens: output is discarded, the guest runs to its end.
name=fifo-no-reader
mkfifo "$work/$name.fifo"
timeout -k 5 "$TIMEOUT" "${K[@]}" -l "com1,$work/$name.fifo" --kernel "$ELF" \
    --cmdline "bytes=100000" "c$name" </dev/null >/dev/null 2>"$work/$name.err"
rc=$?
if [ $rc -ne 1 ]; then
	fail $name "exit status $rc, expected 1" "$work/$name.err"
elif ! grep -q 'has no reader yet' "$work/$name.err"; then
	fail $name "no 'has no reader yet' message" "$work/$name.err"
else
	pass $name
fi

# A reader that opens the FIFO and reads nothing until khyve is gone:
# after console.stall_timeout the guest goes on (output dropped, counted);
# the reader finds the output up to the stall, uncut.
name=fifo-stalled-reader
mkfifo "$work/$name.fifo"
"$PY" "$H" fifo "$work/$name.fifo" "$work/$name.out" "$work/$name.ready" \
    "$work/$name.done" &
rpid=$!
for _ in $(seq 100); do
	[ -e "$work/$name.ready" ] && break
	sleep 0.1
done
"${K[@]}" -o console.stall_timeout=1 -l "com1,$work/$name.fifo" \
    --kernel "$ELF" --cmdline "bytes=200000" "c$name" </dev/null >/dev/null \
    2>"$work/$name.err" &
pids=($!)
reap $!
touch "$work/$name.done"
wait "$rpid"
if [ $rc -ne 1 ]; then
	fail $name "exit status $rc, expected 1" "$work/$name.err"
elif ! grep -qE 'took [0-9]+ bytes of output in 1000 ms' "$work/$name.err"; then
	fail $name "no message for the stall" "$work/$name.err"
elif ! grep -qE '[0-9]+ bytes of output discarded' "$work/$name.err"; then
	fail $name "no count of the bytes discarded" "$work/$name.err"
elif ! why=$("$PY" "$H" check "$work/$name.out" 200000 --prefix 4096); then
	fail $name "$why" "$work/$name.err"
else
	pass $name
fi

# A reader that comes once khyve runs gets the output from then on.
name=fifo-late-reader
mkfifo "$work/$name.fifo"
"${K[@]}" -o boot.timer=true -l "com1,$work/$name.fifo" --kernel "$ELF" \
    --cmdline "idle=6 bytes=100000" "c$name" </dev/null >/dev/null \
    2>"$work/$name.err" &
pids=($!)
kpid=$!
if wait_for "$work/$name.err" 'port 0x80 <- 0x1d'; then
	timeout "$TIMEOUT" cat "$work/$name.fifo" >"$work/$name.out"
fi
reap "$kpid"
judge $name "$rc" 1 "$work/$name.out" "$work/$name.err" 100000

# ---- C: hung-up descriptors cost nothing, and free the console ----

# stdin a pipe at end of file with a byte the guest never reads.
name=idle-stdin-eof
printf x | "${K[@]}" -o boot.timer=true -l com1,stdio --kernel "$ELF" \
    --cmdline "idle=8 bytes=1000" "c$name" >"$work/$name.out" \
    2>"$work/$name.err" &
pids=($!)
kpid=$!
idle_cpu "$kpid" "$work/$name.err"
reap "$kpid"
if [ -n "$why" ]; then
	fail $name "$why" "$work/$name.err"
else
	judge $name "$rc" 1 "$work/$name.out" "$work/$name.err" 1000 --idle 8
fi

# stdout a pipe whose reader left after 7 bytes.
name=idle-stdout-gone
"${K[@]}" -o boot.timer=true -l com1,stdio --kernel "$ELF" \
    --cmdline "idle=8 bytes=1000" "c$name" </dev/null 2>"$work/$name.err" \
    > >(head -c 7 >/dev/null) &
pids=($!)
kpid=$!
idle_cpu "$kpid" "$work/$name.err"
reap "$kpid"
if [ -n "$why" ]; then
	fail $name "$why" "$work/$name.err"
elif [ "$rc" -ne 1 ]; then
	fail $name "exit status $rc, expected 1" "$work/$name.err"
else
	pass $name
fi

# dead_client NAME SPEC ADDR: a client sends a byte and hangs up while
# the guest is idle; then a second one must get the guest's output.
dead_client() {
	local name=$1 spec=$2 addr=$3
	"${K[@]}" -o boot.timer=true -l "com1,$spec" --kernel "$ELF" \
	    --cmdline "idle=12 bytes=1000" "c$name" </dev/null >/dev/null \
	    2>"$work/$name.err" &
	pids=($!)
	kpid=$!
	why=
	if ! wait_for "$work/$name.err" 'port 0x80 <- 0x1d'; then
		why="the guest never went idle"
	elif ! "$PY" "$H" dead "$addr"; then
		why="cannot connect to $addr"
	else
		idle_cpu "$kpid" "$work/$name.err"
	fi
	[ -z "$why" ] && "$PY" "$H" read "$addr" "$work/$name.out" "$TIMEOUT"
	reap "$kpid"
	if [ -n "$why" ]; then
		fail "$name" "$why" "$work/$name.err"
	elif grep -q 'already has a client' "$work/$name.out"; then
		fail "$name" "the second client was turned away" "$work/$name.err"
	else
		judge "$name" "$rc" 1 "$work/$name.out" "$work/$name.err" 1000
	fi
}
dead_client idle-unix-dead-client "unix=$work/dead.sock" "$work/dead.sock"
port=$("$PY" "$H" port)
dead_client idle-tcp-dead-client "tcp=127.0.0.1:$port" "127.0.0.1:$port"

# ---- D: a signal that ends khyve removes the unix= socket file ----

# signal_unlink NAME SIG STATUS: STATUS is 128 + the signal's number for
# one khyve dies of (SIGHUP), 1 for SIGINT (the VM stopped, khyve.8).
signal_unlink() {
	local name=$1 sig=$2 want=$3 sock=$work/$1.sock
	"${K[@]}" -o boot.timer=true -l "com1,unix=$sock" --kernel "$ELF" \
	    --cmdline "idle=30 bytes=100" "c$name" </dev/null >/dev/null \
	    2>"$work/$name.err" &
	pids=($!)
	kpid=$!
	if ! wait_for "$work/$name.err" 'port 0x80 <- 0x1d'; then
		reap "$kpid"
		fail "$name" "the guest never went idle" "$work/$name.err"
		return
	fi
	if [ ! -S "$sock" ]; then
		kill -KILL "$kpid"
		reap "$kpid"
		fail "$name" "no socket file $sock" "$work/$name.err"
		return
	fi
	# (bash reports a job killed by SIGHUP on its stderr: not news here)
	{ kill -"$sig" "$kpid"; reap "$kpid"; } 2>/dev/null
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit status $rc, expected $want" "$work/$name.err"
	elif [ -e "$sock" ]; then
		fail "$name" "$sock is still there" "$work/$name.err"
	else
		pass "$name"
	fi
}
signal_unlink sigint-unlink INT 1
signal_unlink sighup-unlink HUP 129

exit $failed
