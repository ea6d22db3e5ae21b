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

# Where KVM emulates guest kernel code every fork and exec costs a good
# fraction of a second of kernel work, so this script forks as little as it
# can: helpers set variables instead of printing for $(...), files are read
# with the shell's own `read`.

# report NAME VALUE EXPECT VERDICT: print a check's line; remember failures.
report() {
	echo "KHYVE-CHECK $1=$2 expect=$3 $4"
	[ "$4" = FAIL ] && failed="$failed $1"
}

cmdline=
read -r cmdline 2>/dev/null <"$R/proc/cmdline"

# arg NAME: set $val to NAME=value from the kernel command line, if it is
# a number; else empty.
arg() {
	local w
	val=
	for w in $cmdline; do
		case $w in
		"$1"=*)
			w=${w#*=}
			case $w in ''|*[!0-9]*) return 1 ;; esac
			val=$w
			return 0
			;;
		esac
	done
	return 1
}

# verdict EXPECT OK: set $v to "unchecked" without an expectation, else to
# ok (OK is 1) or FAIL.
verdict() {
	if [ -z "$1" ]; then
		v=unchecked
	elif [ "$2" = 1 ]; then
		v=ok
	else
		v=FAIL
	fi
}

# count_cpulist LIST: set $n to the number of CPUs in a sysfs list such
# as "0-3,5".
count_cpulist() {
	local r a b IFS=,
	n=0
	for r in $1; do
		case $r in
		*-*) a=${r%-*}; b=${r#*-}; n=$((n + b - a + 1)) ;;
		[0-9]*) n=$((n + 1)) ;;
		esac
	done
}

# within VALUE LOW HIGH: set $ok to 1 when LOW <= VALUE <= HIGH, else 0.
within() {
	if [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; then ok=1; else ok=0; fi
}

arg expect_cpus; expect_cpus=$val
arg expect_mem_mb; expect_mem=$val
arg expect_epoch; expect_epoch=$val

# CPUs: processors the kernel brought up, two ways.
n=0
if [ -r "$R/proc/cpuinfo" ]; then
	while read -r key rest; do
		[ "$key" = processor ] && n=$((n + 1))
	done <"$R/proc/cpuinfo"
fi
ok=0
[ "$n" = "$expect_cpus" ] && ok=1
verdict "$expect_cpus" "$ok"
report cpus "$n" "${expect_cpus:-?}" "$v"
online=
read -r online 2>/dev/null <"$R/sys/devices/system/cpu/online"
count_cpulist "$online"
ok=0
[ "$n" = "$expect_cpus" ] && ok=1
verdict "$expect_cpus" "$ok"
report cpus_online "${online:-none}" "${expect_cpus:-?}" "$v"

# Memory.  The firmware map (e820, /sys/firmware/memmap) must hold the RAM
# the monitor was given, within 10%.  MemTotal is that less what the kernel
# keeps for itself (its image, struct pages: tens of MiB), so it is only
# checked against a looser bound: at least 3/4 of it, never more than it.
ram_kb=0
for d in "$R"/sys/firmware/memmap/*; do
	[ -r "$d/type" ] || continue
	read -r t <"$d/type"
	[ "$t" = "System RAM" ] || continue
	read -r s <"$d/start"
	read -r e <"$d/end"
	ram_kb=$((ram_kb + (e - s + 1) / 1024))
done
ram_mb=$((ram_kb / 1024))
ok=0
[ -n "$expect_mem" ] &&
    within "$ram_mb" $((expect_mem * 9 / 10)) $((expect_mem * 11 / 10))
verdict "$expect_mem" "$ok"
report mem_e820_mb "$ram_mb" "${expect_mem:-?}" "$v"
total_kb=0
if [ -r "$R/proc/meminfo" ]; then
	while read -r key val _; do
		[ "$key" = MemTotal: ] && total_kb=$val && break
	done <"$R/proc/meminfo"
fi
total_mb=$((total_kb / 1024))
ok=0
[ -n "$expect_mem" ] && within "$total_mb" $((expect_mem * 3 / 4)) "$expect_mem"
verdict "$expect_mem" "$ok"
report memtotal_mb "$total_mb" "${expect_mem:-?}" "$v"

# Time.  The boot took minutes on some hosts, so compare when the guest
# booted (clock minus uptime) with when the monitor started: within 10 min.
up=0
read -r up rest 2>/dev/null <"$R/proc/uptime"
up=${up%.*}
rtc=
read -r rtc 2>/dev/null <"$R/sys/class/rtc/rtc0/since_epoch"
if [ -z "$rtc" ] && [ -r "$R/sys/class/rtc/rtc0/date" ]; then
	read -r rdate <"$R/sys/class/rtc/rtc0/date"
	read -r rtime <"$R/sys/class/rtc/rtc0/time"
	rtc=$(date -u -d "$rdate $rtime" +%s 2>/dev/null)
fi
if [ -z "$rtc" ] && [ -z "$R" ]; then
	# busybox hwclock prints "Sat Nov 22 08:10:11 2025  0.000000 seconds".
	rtc=$(date -u -D '%a %b %e %H:%M:%S %Y' \
	    -d "$(hwclock -r -u 2>/dev/null | cut -c1-24)" +%s 2>/dev/null)
fi
ok=0
[ -n "$rtc" ] && [ -n "$expect_epoch" ] &&
    within $((rtc - up)) $((expect_epoch - 600)) $((expect_epoch + 600))
verdict "$expect_epoch" "$ok"
report rtc_epoch "${rtc:-none}" "${expect_epoch:-?}" "$v"
now=$(date -u +%s)
[ -n "$rtc" ] && echo "KHYVE-INFO rtc=$rtc now=$now uptime=${up}s"
ok=0
[ -n "$expect_epoch" ] &&
    within $((now - up)) $((expect_epoch - 600)) $((expect_epoch + 600))
verdict "$expect_epoch" "$ok"
report date_epoch "$now" "${expect_epoch:-?}" "$v"

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
active=
read -r active 2>/dev/null <"$R/sys/class/tty/console/active"
ok=0
case " $active " in
*" ttyS0 "*) ok=1 ;;
esac
verdict ttyS0 "$ok"
report console "${active:-none}" ttyS0 "$v"

if [ -z "$failed" ]; then
	echo "KHYVE-RESULT PASS"
	exit 0
fi
echo "KHYVE-RESULT FAIL${failed}"
exit 1
