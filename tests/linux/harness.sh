# shellcheck shell=bash
# harness.sh: host-side helpers for run.sh and selftest.sh (sourced, bash).
#
# A boot test runs one monitor (khyve, or QEMU for the self-test) with a
# time limit, its console in a log, and passes when the monitor's exit
# status and the console markers are the expected ones.  Failures print
# the reason and the last lines of the console.
#
# Needs: $linux_out (directory for logs), $linux_timeout (seconds); the
# disk helpers of linux:vda also $cache (what fetch.sh left) and $here
# (tests/linux).

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
# holds each |-separated fixed string of MARKERS.  If $linux_check names a
# function, it runs after the boot whatever the outcome, as
# $linux_check LOG; when it fails, what it printed is (part of) the reason.
# Prints one PASS or FAIL line (with the console's tail); returns 0 on PASS.
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
	# The guest's own verdict says more than a missing PASS marker.
	if [ -z "$why" ] && grep -q 'KHYVE-RESULT FAIL' "$log"; then
		why=$(grep -m1 -o 'KHYVE-RESULT FAIL.*' "$log" | tr -d '\r')
	fi
	IFS='|'
	for m in $markers; do
		[ -z "$why" ] || break
		grep -qF -- "$m" "$log" || why="console lacks '$m'"
	done
	IFS=$IFS_save
	if [ -n "${linux_check:-}" ] && ! m=$("$linux_check" "$log"); then
		why="${why:+$why; }${m:-$linux_check failed}"
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

# --- linux:vda's disk -------------------------------------------------
# An 8 MiB raw image, each sector filled by guest/vda-pattern.awk (tag
# "khyve").  The guest (guest/vda-check.sh) reads the vda_read ranges and
# the whole disk, overwrites the vda_write ranges (tag "WROTE") and
# discards vda_discard_range when the image's filesystem can punch holes
# (khyve offers discard only then); ranges are FIRST_SECTOR+COUNT.  The
# host then compares the image with what exactly that makes of it.
vda_sectors=16384
vda_serial=KHYVETEST01
vda_read=0+8,1000+1,3000+300,16376+8
vda_write=100+1,2048+256,16383+1
vda_discard_range=4096+128

# vda_pattern TAG FIRST COUNT: COUNT sectors of TAG's pattern on stdout,
# made by the guest's busybox awk.
vda_pattern() {
	"$cache/busybox" awk -v tag="$1" -v first="$2" -v count="$3" \
	    -f "$here/guest/vda-pattern.awk"
}

# vda_can_punch DIR: whether a file in DIR can have a hole punched
# (fallocate(1) from util-linux; khyve tries fallocate(2) itself).
vda_can_punch() {
	local f=$1/.punch-probe.$$ ok=0
	head -c 8192 /dev/zero >"$f" 2>/dev/null || return 1
	fallocate -p -o 0 -l 4096 "$f" 2>/dev/null && ok=1
	rm -f "$f"
	[ $ok -eq 1 ]
}

# vda_prepare BASE [none]: make BASE.img, the disk, and BASE.want, what it
# must hold once the guest is done; set $vda_discard (the range, or "none"
# when the filesystem cannot punch holes or the second argument says so)
# and $vda_cmdline (the guest's expectations, for the kernel command line).
vda_prepare() {
	local base=$1 r s n sum
	rm -f "$base.img" "$base.want" "$base.tmp"
	vda_pattern khyve 0 "$vda_sectors" >"$base.img" || return 1
	cp "$base.img" "$base.want" || return 1
	for r in ${vda_write//,/ }; do
		s=${r%+*}
		n=${r#*+}
		vda_pattern WROTE "$s" "$n" >"$base.tmp" &&
		    dd if="$base.tmp" of="$base.want" bs=512 seek="$s" \
		    conv=notrunc status=none || return 1
	done
	rm -f "$base.tmp"
	vda_discard=none
	if [ "${2:-}" != none ] && vda_can_punch "$(dirname "$base")"; then
		vda_discard=$vda_discard_range
		for r in ${vda_discard//,/ }; do
			s=${r%+*}
			n=${r#*+}
			dd if=/dev/zero of="$base.want" bs=512 seek="$s" \
			    count="$n" conv=notrunc status=none || return 1
		done
	fi
	sum=$(md5sum <"$base.img") || return 1
	vda_cmdline="vda_sectors=$vda_sectors vda_serial=$vda_serial"
	vda_cmdline="$vda_cmdline vda_md5=${sum%% *} vda_read=$vda_read"
	vda_cmdline="$vda_cmdline vda_write=$vda_write vda_discard=$vda_discard"
}

# vda_verify BASE: BASE.img holds exactly BASE.want; else print which
# sectors differ and return 1.
vda_verify() {
	local base=$1 a b list
	cmp -s "$base.img" "$base.want" && return 0
	a=$(stat -c %s "$base.img" 2>/dev/null || echo none)
	b=$(stat -c %s "$base.want")
	if [ "$a" != "$b" ]; then
		echo "disk image is $a bytes, want $b"
		return 1
	fi
	list=$(cmp -l "$base.img" "$base.want" 2>/dev/null | awk '
	    { s = int(($1 - 1) / 512) }
	    n && s <= e + 1 { e = s; next }
	    n { l = l sep (b == e ? b : b "-" e); sep = "," }
	    { b = e = s; n = 1 }
	    END { if (n) l = l sep (b == e ? b : b "-" e); print l }')
	[ ${#list} -le 120 ] || list="${list:0:120}..."
	echo "disk image differs from the expected one in sector(s) $list" \
	    "(written ${vda_write}, discarded ${vda_discard:-none})"
	return 1
}
