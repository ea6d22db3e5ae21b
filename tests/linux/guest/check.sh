#!/bin/sh
# shellcheck shell=dash
# khyve-check: compare what the guest kernel sees with what the monitor was
# asked to build, and print one line per check plus a verdict:
#
#   KHYVE-CHECK name=value expect=... ok|FAIL|unchecked
#   KHYVE-RESULT PASS            or    KHYVE-RESULT FAIL name...
#
# Expectations come from the kernel command line: expect_cpus=N,
# expect_mem_mb=M (MiB given to -m), expect_epoch=S (host time when the
# monitor was started, seconds since 1970, RTC kept in UTC by -u).  A
# missing expectation leaves its check unchecked, not failed.  Exit
# status 0 when all checks passed.
#
# KHYVE_ROOT (default empty) prefixes every /proc and /sys path, so the
# script can be tried on the host against a made-up tree.

R=${KHYVE_ROOT:-}
failed=

# report NAME VALUE EXPECT VERDICT: print a check's line; remember failures.
report() {
	echo "KHYVE-CHECK $1=$2 expect=$3 $4"
	[ "$4" = FAIL ] && failed="$failed $1"
}

# arg NAME: NAME=value from the kernel command line, if it is a number.
arg() {
	local w
	for w in $(cat "$R/proc/cmdline" 2>/dev/null); do
		case $w in
		"$1"=*)
			w=${w#*=}
			case $w in ''|*[!0-9]*) return 1 ;; esac
			echo "$w"
			return 0
			;;
		esac
	done
	return 1
}

# verdict EXPECT OK?: "unchecked" without an expectation, else ok or FAIL.
verdict() {
	if [ -z "$1" ]; then
		echo unchecked
	elif [ "$2" = 1 ]; then
		echo ok
	else
		echo FAIL
	fi
}

# count_cpulist LIST: number of CPUs in a sysfs list such as "0-3,5".
count_cpulist() {
	local n=0 r a b IFS=,
	for r in $1; do
		case $r in
		*-*) a=${r%-*}; b=${r#*-}; n=$((n + b - a + 1)) ;;
		[0-9]*) n=$((n + 1)) ;;
		esac
	done
	echo $n
}

within() {	# within VALUE LOW HIGH: 1 when LOW <= VALUE <= HIGH
	if [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; then echo 1; else echo 0; fi
}

expect_cpus=$(arg expect_cpus)
expect_mem=$(arg expect_mem_mb)
expect_epoch=$(arg expect_epoch)

# CPUs: processors the kernel brought up, two ways.
n=$(grep -c '^processor' "$R/proc/cpuinfo" 2>/dev/null)
report cpus "${n:-0}" "${expect_cpus:-?}" \
    "$(verdict "$expect_cpus" "$([ "${n:-0}" = "$expect_cpus" ] && echo 1)")"
online=$(cat "$R/sys/devices/system/cpu/online" 2>/dev/null)
n=$(count_cpulist "$online")
report cpus_online "${online:-none}" "${expect_cpus:-?}" \
    "$(verdict "$expect_cpus" "$([ "$n" = "$expect_cpus" ] && echo 1)")"

# Memory.  The firmware map (e820, /sys/firmware/memmap) must hold the RAM
# the monitor was given, within 10%.  MemTotal is that less what the kernel
# keeps for itself (its image, struct pages: tens of MiB), so it is only
# checked against a looser bound: at least 3/4 of it, never more than it.
ram_kb=0
for d in "$R"/sys/firmware/memmap/*; do
	[ -r "$d/type" ] || continue
	read t <"$d/type"
	[ "$t" = "System RAM" ] || continue
	read s <"$d/start"
	read e <"$d/end"
	ram_kb=$((ram_kb + (e - s + 1) / 1024))
done
ram_mb=$((ram_kb / 1024))
if [ -n "$expect_mem" ]; then
	ok=$(within "$ram_mb" $((expect_mem * 9 / 10)) $((expect_mem * 11 / 10)))
else
	ok=0
fi
report mem_e820_mb "$ram_mb" "${expect_mem:-?}" "$(verdict "$expect_mem" "$ok")"
total_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' "$R/proc/meminfo" 2>/dev/null)
total_mb=$((${total_kb:-0} / 1024))
if [ -n "$expect_mem" ]; then
	ok=$(within "$total_mb" $((expect_mem * 3 / 4)) "$expect_mem")
else
	ok=0
fi
report memtotal_mb "$total_mb" "${expect_mem:-?}" "$(verdict "$expect_mem" "$ok")"

# Time.  The boot took minutes on some hosts, so compare when the guest
# booted (clock minus uptime) with when the monitor started: within 10 min.
read up rest <"$R/proc/uptime"
up=${up%.*}
rtc=$(cat "$R/sys/class/rtc/rtc0/since_epoch" 2>/dev/null)
if [ -z "$rtc" ] && [ -r "$R/sys/class/rtc/rtc0/date" ]; then
	rtc=$(date -u -d "$(cat "$R/sys/class/rtc/rtc0/date") $(cat \
	    "$R/sys/class/rtc/rtc0/time")" +%s 2>/dev/null)
fi
if [ -z "$rtc" ] && [ -z "$R" ]; then
	# busybox hwclock prints "Sat Nov 22 08:10:11 2025  0.000000 seconds".
	rtc=$(date -u -D '%a %b %e %H:%M:%S %Y' \
	    -d "$(hwclock -r -u 2>/dev/null | cut -c1-24)" +%s 2>/dev/null)
fi
if [ -n "$rtc" ] && [ -n "$expect_epoch" ]; then
	ok=$(within $((rtc - up)) $((expect_epoch - 600)) $((expect_epoch + 600)))
else
	ok=0
fi
report rtc_epoch "${rtc:-none}" "${expect_epoch:-?}" \
    "$(verdict "$expect_epoch" "$ok")"
[ -n "$rtc" ] && echo "KHYVE-INFO rtc=$(date -u -d "@$rtc") uptime=${up}s"
now=$(date -u +%s)
if [ -n "$expect_epoch" ]; then
	ok=$(within $((now - up)) $((expect_epoch - 600)) $((expect_epoch + 600)))
else
	ok=0
fi
report date_epoch "$now" "${expect_epoch:-?}" "$(verdict "$expect_epoch" "$ok")"

# ACPI: the tables the monitor must build.
missing=
for t in APIC FACP DSDT; do
	[ -e "$R/sys/firmware/acpi/tables/$t" ] || missing="$missing,$t"
done
if [ -z "$missing" ]; then
	report acpi_tables APIC,FACP,DSDT APIC,FACP,DSDT ok
else
	report acpi_tables "missing:${missing#,}" APIC,FACP,DSDT FAIL
fi

# Console: the kernel's console is the first UART.
active=$(cat "$R/sys/class/tty/console/active" 2>/dev/null)
case " $active " in
*" ttyS0 "*) ok=1 ;;
*) ok=0 ;;
esac
report console "${active:-none}" ttyS0 "$(verdict ttyS0 "$ok")"

if [ -z "$failed" ]; then
	echo "KHYVE-RESULT PASS"
	exit 0
fi
echo "KHYVE-RESULT FAIL${failed}"
exit 1
