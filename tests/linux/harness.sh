# shellcheck shell=bash
# harness.sh: host-side helpers for run.sh and selftest.sh (sourced, bash).
#
# A boot test runs one monitor (khyve, or QEMU for the self-test) with a
# time limit, its console in a log, and passes when the monitor's exit
# status and the console markers are the expected ones.  Failures print
# the reason and the last lines of the console.
#
# Needs: $linux_out (directory for logs), $linux_timeout (seconds).

# Console lines shown with a failure.
linux_tail_lines=60

# linux_tail LOG: the end of a console log, indented so that no guest line
# can pass for a PASS/FAIL/SKIP line of the test summary.
linux_tail() {
	echo "  --- last $linux_tail_lines lines of the guest console ($1) ---"
	tail -n "$linux_tail_lines" "$1" 2>/dev/null | tr -d '\r' |
	    sed 's/^/  | /'
	echo "  --- end of console ---"
}

# linux_wait_for LOG PATTERN PIDFILE SECONDS: wait until the console shows
# PATTERN (grep -E); fail when the monitor has gone or time is up.
linux_wait_for() {
	local log=$1 pat=$2 pidf=$3 left=$4 pid
	while [ "$left" -gt 0 ]; do
		grep -qE "$pat" "$log" 2>/dev/null && return 0
		pid=$(cat "$pidf" 2>/dev/null || true)
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		sleep 1
		left=$((left - 1))
	done
	return 1
}

# linux_boot NAME WANT_STATUS MARKERS ACTION CMD...: run CMD (a monitor)
# under `timeout -k 10 $linux_timeout`, stdin an idle FIFO (never any
# input, never EOF), stdout and stderr to $linux_out/BASE.log, BASE being
# NAME without its "prefix:".  ACTION, if
# not "-", is a function run alongside as ACTION LOG PIDFILE FIFO, where
# PIDFILE holds the monitor's own pid (not timeout's: timeout would turn a
# forwarded SIGTERM into a SIGKILL 10 s later) and writes to FIFO reach the
# monitor's stdin.  Passes when CMD exits with WANT_STATUS and the console
# holds each |-separated fixed string of MARKERS.  Prints one PASS or FAIL
# line (with the console's tail); returns 0 on PASS.
linux_boot() {
	local name=$1 want=$2 markers=$3 action=$4
	shift 4
	local file=$linux_out/${name#*:}
	local log=$file.log fifo=$file.stdin pidf=$file.pid
	local t0=$SECONDS rc apid='' why='' m
	local IFS_save=$IFS

	rm -f "$log" "$fifo" "$pidf"
	mkfifo "$fifo" || { echo "FAIL $name (cannot make $fifo)"; return 1; }
	: >"$log"
	# shellcheck disable=SC2016
	timeout -k 10 "$linux_timeout" sh -c 'echo $$ >"$0"; exec "$@"' \
	    "$pidf" "$@" <>"$fifo" >"$log" 2>&1 &
	local tpid=$!
	if [ "$action" != - ]; then
		"$action" "$log" "$pidf" "$fifo" &
		apid=$!
	fi
	# (bash reports a killed job on wait's stderr: not a console line)
	wait "$tpid" 2>/dev/null
	rc=$?
	if [ -n "$apid" ]; then
		kill "$apid" 2>/dev/null
		wait "$apid" 2>/dev/null
	fi
	rm -f "$fifo" "$pidf"

	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		why="timed out after ${linux_timeout} s"
	elif [ $rc -ne "$want" ]; then
		why="exit status $rc, want $want"
	fi
	IFS='|'
	for m in $markers; do
		[ -z "$why" ] || break
		grep -qF -- "$m" "$log" || why="console lacks '$m'"
	done
	IFS=$IFS_save
	if [ -z "$why" ] && grep -q 'KHYVE-RESULT FAIL' "$log"; then
		why=$(grep -m1 -o 'KHYVE-RESULT FAIL.*' "$log" | tr -d '\r')
	fi
	if [ -z "$why" ]; then
		echo "PASS $name ($((SECONDS - t0)) s)"
		return 0
	fi
	echo "FAIL $name ($why, after $((SECONDS - t0)) s)"
	linux_tail "$log"
	return 1
}

# linux_act_sigterm LOG PIDFILE FIFO: once the guest says KHYVE-READY,
# send SIGTERM to the monitor (bhyve: press the ACPI power button).
linux_act_sigterm() {
	linux_wait_for "$1" 'KHYVE-READY' "$2" 100000 || return 0
	sleep 1
	kill -TERM "$(cat "$2")" 2>/dev/null
}

# linux_banner TEXT: a message that stands out in a long test log.
linux_banner() {
	echo "**********************************************************************"
	echo "* $*"
	echo "**********************************************************************"
}
