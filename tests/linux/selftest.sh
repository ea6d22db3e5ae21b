#!/usr/bin/env bash
# selftest.sh BUILD: check the guest side of the Linux boot tests without
# khyve, so that a failing khyve boot points at khyve.
#
#   linux-guest:scripts        the guest scripts parse (busybox sh -n)
#   linux-guest:initramfs      each mode's archive: uncompressed newc, the
#                              files, device nodes and modules it needs
#   linux-guest:check-script   khyve-check against made-up /proc and /sys
#                              trees: passes a good one, names each fault
#   linux-guest:vda-script     khyve-vda-check against a made-up /sys and an
#                              image file: passes a good disk and leaves
#                              the image the host expects; names each
#                              fault, and so does the host's image check
#   linux-guest:qemu-*         the same kernel and initramfs under QEMU
#                              with TCG (pure emulation, no /dev/kvm): each
#                              mode reaches its marker and powers off,
#                              resets or answers the power button;
#                              qemu-vda passes with QEMU's virtio-blk disk
#
# Prints PASS/FAIL/SKIP lines; exit status 1 if anything failed.  Knobs:
# KHYVE_LINUX_QEMU=0 skips the QEMU boots (about 15 s each here).
set -u

BUILD=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 2
cache=$BUILD/cache
linux_out=$BUILD/linux/selftest
linux_timeout=${KHYVE_LINUX_QEMU_TIMEOUT:-240}
# shellcheck source=tests/linux/harness.sh
. "$here/harness.sh"

status=0
pass() { echo "PASS linux-guest:$1"; }
fail() { echo "FAIL linux-guest:$1"; status=1; }
names="scripts initramfs check-script vda-script qemu-poweroff qemu-reboot \
    qemu-acpid qemu-vda qemu-demo-poweroff qemu-demo-reboot qemu-demo-exit"

mkdir -p "$linux_out"
if ! "$here/fetch.sh" "$cache" >"$linux_out/fetch.log" 2>&1; then
	linux_banner "Linux guest self-test SKIPPED: fetching the kernel and busybox failed"
	sed 's/^/  /' "$linux_out/fetch.log"
	for n in $names; do
		echo "SKIP linux-guest:$n: package fetch failed (see $linux_out/fetch.log)"
	done
	exit 0
fi

# A directory of busybox applet links, so that scripts tried on the host
# run with the guest's tools.
bbdir=$linux_out/bin
rm -rf "$bbdir"
mkdir -p "$bbdir"
for a in $("$cache/busybox" --list); do
	ln -s "$(cd "$cache" && pwd)/busybox" "$bbdir/$a"
done

# --- scripts ---------------------------------------------------------
bad=
for f in "$here"/guest/*; do
	case $(head -c 2 "$f") in
	'#!') ;;
	*) [ "${f##*/}" = lib.sh ] || continue ;;
	esac
	"$cache/busybox" sh -n "$f" 2>>"$linux_out/scripts.log" || bad="$bad ${f##*/}"
done
if [ -z "$bad" ]; then pass scripts; else fail "scripts (syntax:$bad)"; fi

# --- initramfs -------------------------------------------------------
# has ARCHIVE-LISTING NAME...: every NAME is in the listing.
has() {
	local list=$1 n
	shift
	for n in "$@"; do
		grep -qxF -- "$n" "$list" || { echo "$n"; return 1; }
	done
}
why=
for mode in demo test-poweroff test-reboot test-acpid test-vda; do
	cpio_f=$linux_out/$mode.cpio
	if ! "$here/mkinitramfs.sh" "$cache" "$cpio_f" "$mode" \
	    >"$linux_out/mkinitramfs-$mode.log" 2>&1; then
		why="$why $mode:mkinitramfs-failed"
		continue
	fi
	[ "$(head -c 6 "$cpio_f")" = 070701 ] || why="$why $mode:not-newc"
	cpio -it <"$cpio_f" 2>/dev/null >"$linux_out/$mode.list"
	# Device nodes may sit in a second archive that cpio -t does not
	# reach: look for their headers' ends (name size, check, name).
	for n in 0000000C00000000dev/console 0000000900000000dev/null; do
		grep -qaF "$n" "$cpio_f" || why="$why $mode:no-${n#*dev/}"
	done
	miss=$(has "$linux_out/$mode.list" init bin/busybox bin/sh sbin/init \
	    bin/khyve-check lib/khyve.sh bin/outb sbin/poweroff) ||
	    why="$why $mode:no-$miss"
	nmod=$(grep -c '^lib/modules/.*\.ko$' "$linux_out/$mode.list")
	case $mode in
	demo)
		miss=$(has "$linux_out/$mode.list" etc/inittab etc/rc \
		    etc/shell etc/acpid.conf etc/acpi/power \
		    lib/modules/virtio_ring.ko lib/modules/virtio.ko \
		    lib/modules/virtio_pci.ko lib/modules/virtio_blk.ko \
		    lib/modules/virtio_net.ko lib/modules/button.ko \
		    lib/modules/evdev.ko) || why="$why $mode:no-$miss"
		# Load order: a module after what it needs.
		order=$(cpio -i --to-stdout etc/modules-virtio \
		    <"$cpio_f" 2>/dev/null | tr '\n' ' ')
		case $order in
		*virtio_ring*virtio\ *virtio_pci\ ) ;;
		*) why="$why $mode:module-order($order)" ;;
		esac
		# Each kind's driver alone: the transport's list loads first.
		order=$(cpio -i --to-stdout etc/modules-virtio-blk \
		    <"$cpio_f" 2>/dev/null | tr '\n' ' ')
		[ "$order" = "virtio_blk " ] ||
		    why="$why $mode:modules-virtio-blk($order)"
		;;
	test-vda)
		miss=$(has "$linux_out/$mode.list" bin/khyve-vda-check \
		    lib/vda-pattern.awk bin/dd usr/bin/cmp usr/bin/md5sum \
		    usr/bin/awk sbin/blockdev usr/bin/blkdiscard \
		    usr/bin/hexdump) || why="$why $mode:no-$miss"
		# virtio_blk, the transport and what they need, nothing else.
		order=$(cpio -i --to-stdout etc/modules-vda \
		    <"$cpio_f" 2>/dev/null | tr '\n' ' ')
		case $order in
		virtio_ring\ virtio\ *virtio_pci\ virtio_blk\ ) ;;
		*) why="$why $mode:module-order($order)" ;;
		esac
		[ "$nmod" -eq 6 ] || why="$why $mode:$nmod-modules"
		cpio -i --to-stdout lib/modules/virtio_blk.ko <"$cpio_f" \
		    2>/dev/null >"$linux_out/$mode.virtio_blk.ko"
		if ! readelf -S "$linux_out/$mode.virtio_blk.ko" 2>/dev/null |
		    grep -q '\.symtab'; then
			why="$why $mode:virtio_blk.ko-unreadable"
		elif readelf -S "$linux_out/$mode.virtio_blk.ko" |
		    grep -q '\.BTF'; then
			why="$why $mode:virtio_blk.ko-has-BTF"
		fi
		rm -f "$linux_out/$mode.virtio_blk.ko"
		;;
	test-acpid)
		miss=$(has "$linux_out/$mode.list" etc/acpid.conf \
		    etc/acpi/power lib/modules/button.ko lib/modules/evdev.ko) ||
		    why="$why $mode:no-$miss"
		[ "$nmod" -eq 2 ] || why="$why $mode:$nmod-modules"
		# Test modules lose their BTF (mkinitramfs.sh says why).
		cpio -i --to-stdout lib/modules/button.ko <"$cpio_f" \
		    2>/dev/null >"$linux_out/$mode.button.ko"
		if ! readelf -S "$linux_out/$mode.button.ko" 2>/dev/null |
		    grep -q '\.symtab'; then
			why="$why $mode:button.ko-unreadable"
		elif readelf -S "$linux_out/$mode.button.ko" | grep -q '\.BTF'; then
			why="$why $mode:button.ko-has-BTF"
		fi
		rm -f "$linux_out/$mode.button.ko"
		;;
	*)
		# Each insmod costs seconds where KVM emulates the guest
		# kernel: the other tests carry none.
		[ "$nmod" -eq 0 ] || why="$why $mode:$nmod-modules"
		;;
	esac
done
if [ -z "$why" ]; then pass initramfs; else fail "initramfs (${why# })"; fi

# --- check-script ----------------------------------------------------
# fake_tree DIR: /proc and /sys as the kernel shows a good 2-CPU, 256 MiB
# guest booted 190 s ago, with expectations on the command line.
now=$(date +%s)
fake_tree() {
	local r=$1
	rm -rf "$r"
	mkdir -p "$r/proc" "$r/sys/devices/system/cpu" \
	    "$r/sys/class/rtc/rtc0" "$r/sys/firmware/acpi/tables" \
	    "$r/sys/class/tty/console"
	echo "console=ttyS0 expect_cpus=2 expect_mem_mb=256 expect_epoch=$((now - 195)) panic=-1" \
	    >"$r/proc/cmdline"
	printf 'processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\nmodel name\t: x\n\n' \
	    >"$r/proc/cpuinfo"
	echo 0-1 >"$r/sys/devices/system/cpu/online"
	printf 'MemTotal:         223476 kB\nMemFree:          200000 kB\n' \
	    >"$r/proc/meminfo"
	echo "190.52 170.10" >"$r/proc/uptime"
	echo $((now - 3)) >"$r/sys/class/rtc/rtc0/since_epoch"
	: >"$r/sys/firmware/acpi/tables/APIC"
	: >"$r/sys/firmware/acpi/tables/FACP"
	: >"$r/sys/firmware/acpi/tables/DSDT"
	echo ttyS0 >"$r/sys/class/tty/console/active"
	memmap_entry "$r" 0 0x0 0x9fbff "System RAM"
	memmap_entry "$r" 1 0x9fc00 0x9ffff Reserved
	memmap_entry "$r" 2 0x100000 0xfffffff "System RAM"
}
memmap_entry() {
	mkdir -p "$1/sys/firmware/memmap/$2"
	echo "$3" >"$1/sys/firmware/memmap/$2/start"
	echo "$4" >"$1/sys/firmware/memmap/$2/end"
	echo "$5" >"$1/sys/firmware/memmap/$2/type"
}
# try_check TREE WANT_RESULT: run khyve-check over TREE with busybox; its
# KHYVE-RESULT line must be WANT_RESULT.
try_check() {
	local got
	got=$(KHYVE_ROOT=$1 PATH=$bbdir "$cache/busybox" sh \
	    "$here/guest/check.sh" 2>&1 | tee "$1.out" | grep '^KHYVE-RESULT')
	[ "$got" = "$2" ] && return 0
	echo "want '$2', got '${got:-nothing}'"
	return 1
}
tree=$linux_out/fake
why=
fake_tree "$tree"
r=$(try_check "$tree" "KHYVE-RESULT PASS") || why="$why good:$r"
[ "$(grep -c ' ok$' "$tree.out")" -eq 8 ] || why="$why good:not-8-ok"
fake_tree "$tree"
echo 0 >"$tree/sys/devices/system/cpu/online"
r=$(try_check "$tree" "KHYVE-RESULT FAIL cpus_online") || why="$why cpus:$r"
fake_tree "$tree"
printf 'processor\t: 0\n' >"$tree/proc/cpuinfo"
echo 0 >"$tree/sys/devices/system/cpu/online"
r=$(try_check "$tree" "KHYVE-RESULT FAIL cpus cpus_online") || why="$why cpus1:$r"
fake_tree "$tree"
memmap_entry "$tree" 2 0x100000 0x7ffffff "System RAM"
r=$(try_check "$tree" "KHYVE-RESULT FAIL mem_e820_mb") || why="$why e820:$r"
fake_tree "$tree"
memmap_entry "$tree" 3 0x100000000 0x10fffffff "System RAM"
r=$(try_check "$tree" "KHYVE-RESULT FAIL mem_e820_mb") || why="$why e820hi:$r"
fake_tree "$tree"
sed -i 's/223476/150000/' "$tree/proc/meminfo"
r=$(try_check "$tree" "KHYVE-RESULT FAIL memtotal_mb") || why="$why memtotal:$r"
fake_tree "$tree"
echo $((now - 5000)) >"$tree/sys/class/rtc/rtc0/since_epoch"
r=$(try_check "$tree" "KHYVE-RESULT FAIL rtc_epoch") || why="$why rtc:$r"
fake_tree "$tree"
rm "$tree/sys/class/rtc/rtc0/since_epoch"
r=$(try_check "$tree" "KHYVE-RESULT FAIL rtc_epoch") || why="$why nortc:$r"
fake_tree "$tree"
sed -i "s/expect_epoch=[0-9]*/expect_epoch=$((now + 3600))/" "$tree/proc/cmdline"
r=$(try_check "$tree" "KHYVE-RESULT FAIL rtc_epoch date_epoch") ||
    why="$why epoch:$r"
fake_tree "$tree"
rm "$tree/sys/firmware/acpi/tables/DSDT"
r=$(try_check "$tree" "KHYVE-RESULT FAIL acpi_tables") || why="$why acpi:$r"
fake_tree "$tree"
echo tty0 >"$tree/sys/class/tty/console/active"
r=$(try_check "$tree" "KHYVE-RESULT FAIL console") || why="$why console:$r"
fake_tree "$tree"
echo "console=ttyS0" >"$tree/proc/cmdline"
echo 0 >"$tree/sys/devices/system/cpu/online"
r=$(try_check "$tree" "KHYVE-RESULT PASS") || why="$why noexpect:$r"
[ "$(grep -c ' unchecked$' "$tree.out")" -eq 6 ] || why="$why noexpect:not-6-unchecked"
if [ -z "$why" ]; then
	pass check-script
else
	fail "check-script (${why# })"
	sed 's/^/  | /' "$tree.out"
fi

# --- vda-script ------------------------------------------------------
# khyve-vda-check with a made-up /sys/block/vda over an image file made as
# linux:vda makes its disk (vda_prepare, without discard: an image file is
# no block device).  A good run must also leave exactly the image the host
# expects (vda_verify): the guest's and the host's use of vda-pattern.awk
# are checked against each other.
# vda_tree DIR: /proc/cmdline and /sys/block/vda of a good disk.
vda_tree() {
	local r=$1 q=$1/sys/block/vda
	rm -rf "$r"
	mkdir -p "$r/proc" "$q/queue"
	echo "console=ttyS0 $vda_cmdline panic=-1" >"$r/proc/cmdline"
	echo "$vda_sectors" >"$q/size"
	echo "$vda_serial" >"$q/serial"
	echo 0 >"$q/ro"
	echo 512 >"$q/queue/logical_block_size"
	echo "write back" >"$q/queue/write_cache"
	echo 0 >"$q/queue/discard_max_bytes"
}
# try_vda TREE WANT_RESULT: khyve-vda-check over TREE and a fresh copy of
# the image; its KHYVE-RESULT line must be WANT_RESULT.
try_vda() {
	local got
	cp "$vbase.orig" "$vbase.img"
	got=$(KHYVE_ROOT=$1 KHYVE_VDA=$vbase.img TMPDIR=$linux_out \
	    KHYVE_VDA_PATTERN=$here/guest/vda-pattern.awk PATH=$bbdir \
	    "$cache/busybox" sh "$here/guest/vda-check.sh" 2>&1 |
	    tee "$1.out" | grep '^KHYVE-RESULT')
	[ "$got" = "$2" ] && return 0
	echo "want '$2', got '${got:-nothing}'"
	return 1
}
vbase=$linux_out/fake-vda
vtree=$linux_out/fake-vda-tree
why=
if ! vda_prepare "$vbase" none >"$vbase.log" 2>&1 ||
    ! cp "$vbase.img" "$vbase.orig"; then
	why=" cannot-make-the-image"
else
	vda_tree "$vtree"
	r=$(try_vda "$vtree" "KHYVE-RESULT PASS") || why="$why good:$r"
	[ "$(grep -c ' ok$' "$vtree.out")" -eq 14 ] || why="$why good:not-14-ok"
	r=$(vda_verify "$vbase") || why="$why good-image:$r"
	# A write lost (2100 as it was) and a stray one (9000): the host's
	# check names both.
	dd if="$vbase.orig" of="$vbase.img" bs=512 skip=2100 seek=2100 \
	    count=1 conv=notrunc status=none
	printf X | dd of="$vbase.img" bs=1 seek=$((9000 * 512 + 5)) \
	    conv=notrunc status=none
	r=$(vda_verify "$vbase")
	case $r in
	*" 2100,9000 "*) ;;
	*) why="$why lost-write:${r:-passed}" ;;
	esac
	vda_tree "$vtree"
	echo KHYVEOTHER >"$vtree/sys/block/vda/serial"
	r=$(try_vda "$vtree" "KHYVE-RESULT FAIL vda_serial") || why="$why serial:$r"
	vda_tree "$vtree"
	echo 1 >"$vtree/sys/block/vda/ro"
	echo 8192 >"$vtree/sys/block/vda/size"
	r=$(try_vda "$vtree" "KHYVE-RESULT FAIL vda_sectors vda_ro") ||
	    why="$why ro:$r"
	vda_tree "$vtree"
	echo "write through" >"$vtree/sys/block/vda/queue/write_cache"
	echo 2147483648 >"$vtree/sys/block/vda/queue/discard_max_bytes"
	r=$(try_vda "$vtree" "KHYVE-RESULT FAIL vda_write_cache vda_discard") ||
	    why="$why cache-discard:$r"
	# Sector 7 where sector 1000 should be: the read check names it.
	vda_tree "$vtree"
	dd if="$vbase.img" of="$vbase.orig" bs=512 skip=7 seek=1000 count=1 \
	    conv=notrunc status=none
	r=$(try_vda "$vtree" "KHYVE-RESULT FAIL vda_read vda_md5") ||
	    why="$why misplaced:$r"
	grep -q 'first difference: sector 1000, byte 17' "$vtree.out" ||
	    why="$why misplaced:not-named"
	sed -i 's/ vda_write=[^ ]*//' "$vtree/proc/cmdline"
	r=$(try_vda "$vtree" "KHYVE-RESULT FAIL vda_read vda_md5 vda_write") ||
	    why="$why no-write-list:$r"
	r=$(KHYVE_ROOT=$vtree KHYVE_VDA=$linux_out/no-such-disk PATH=$bbdir \
	    "$cache/busybox" sh "$here/guest/vda-check.sh" 2>&1 |
	    grep '^KHYVE-RESULT')
	[ "$r" = "KHYVE-RESULT FAIL vda_dev" ] || why="$why no-disk:$r"
fi
if [ -z "$why" ]; then
	pass vda-script
	rm -f "$vbase.img" "$vbase.orig" "$vbase.want"
else
	fail "vda-script (${why# })"
	sed 's/^/  | /' "$vtree.out" 2>/dev/null
fi

# --- QEMU ------------------------------------------------------------
qemu=$(command -v qemu-system-x86_64 || true)
qnames="qemu-poweroff qemu-reboot qemu-acpid qemu-vda qemu-demo-poweroff \
    qemu-demo-reboot qemu-demo-exit qemu-demo-web"
if [ "${KHYVE_LINUX_QEMU:-1}" = 0 ]; then
	for n in $qnames; do echo "SKIP linux-guest:$n: KHYVE_LINUX_QEMU=0"; done
	exit $status
fi
if [ -z "$qemu" ]; then
	for n in $qnames; do
		echo "SKIP linux-guest:$n: qemu-system-x86_64 not installed"
	done
	exit $status
fi

# qemu_boot NAME MODE SMP MARKERS ACTION [APPEND [QEMU ARGS...]]: boot
# MODE's initramfs.  -no-reboot makes a guest reset end QEMU too; the
# console tells a reset ("reboot: Restarting system") from a poweroff
# ("reboot: Power down").
qemu_boot() {
	local name=$1 mode=$2 smp=$3 markers=$4 action=$5 append=${6:-}
	shift 5
	[ $# -eq 0 ] || shift
	linux_boot "linux-guest:$name" 0 "$markers" "$action" \
	    "$qemu" -accel tcg -smp "$smp" -m 256 -no-reboot -rtc base=utc \
	    -display none -serial stdio -monitor none \
	    -chardev "pipe,id=mon,path=$linux_out/$name.mon" \
	    -mon chardev=mon,mode=readline "$@" \
	    -kernel "$cache/vmlinuz" -initrd "$linux_out/$mode.cpio" \
	    -append "console=ttyS0 panic=-1 $append" || status=1
}
# qemu_disk IMAGE SERIAL [DISCARD]: QEMU arguments for a virtio-blk disk
# (a transitional virtio PCI device, as khyve's).  QEMU offers discard
# unless told not to; with DISCARD "none" it does not, else it punches
# holes in the image as khyve does.
qemu_disk() {
	local d="discard=off" u="discard=ignore"
	if [ "${3:-none}" != none ]; then
		d="discard=on"
		u="discard=unmap"
	fi
	echo "-drive file=$1,format=raw,if=none,id=vda,$u"
	echo "-device virtio-blk-pci,drive=vda,serial=$2,$d"
}
# The guest's pipe monitor: QEMU opens NAME.mon.in and NAME.mon.out.
qemu_monitor_fifos() {
	rm -f "$linux_out/$1.mon.in" "$linux_out/$1.mon.out"
	mkfifo "$linux_out/$1.mon.in" "$linux_out/$1.mon.out"
}

# act_powerdown LOG PIDFILE FIFO: after KHYVE-READY, press the power button
# through QEMU's monitor (the NAME.mon.in FIFO next to the log).
act_powerdown() {
	linux_wait_for "$1" 'KHYVE-READY' "$2" 100000 || return 0
	sleep 1
	echo system_powerdown >"${1%.log}.mon.in"
}
# act_type LOG PIDFILE FIFO LINES...: at the demo shell's prompt, type LINES.
act_type() {
	local log=$1 pidf=$2 fifo=$3
	shift 3
	linux_wait_for "$log" 'root@khyve:' "$pidf" 100000 || return 0
	sleep 1
	for l in "$@"; do
		printf '%s\n' "$l" >"$fifo"
		sleep 2
	done
}
act_demo_poweroff() {
	act_type "$@" 'echo "tty is $(tty)"; sleep 1000 &' jobs \
	    'echo "vda: $(cat /sys/block/vda/size) sectors"' poweroff
}
act_demo_reboot() { act_type "$@" reboot; }
# act_demo_web LOG PIDFILE FIFO: once the demo says its web server
# listens, fetch its page through the host forward into LOG.page (as the
# README's curl does), then power the guest off.
act_demo_web() {
	linux_wait_for "$1" 'a web server listens on port 80' "$2" 100000 ||
	    return 0
	python3 - "$demo_web_port" >"$1.page" 2>&1 <<'PY'
import sys, time, urllib.request
for _ in range(30):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1],
                                    timeout=5) as r:
            sys.stdout.write(r.read().decode("ascii", "replace"))
            break
    except OSError as e:
        err = e
        time.sleep(1)
else:
    print("no page: %s" % err)
PY
	act_type "$@" poweroff
}
# The page the demo serves, fetched by act_demo_web.
demo_web_check() {
	grep -q '^Hello from the khyve demo guest (10\.0\.2\.15)$' "$1.page" ||
	    { echo "the host fetched: $(head -c 200 "$1.page")"; return 1; }
}
act_demo_exit() { act_type "$@" exit; }

for n in $qnames; do qemu_monitor_fifos "$n"; done
qemu_boot qemu-poweroff test-poweroff 2 \
    "KHYVE-RESULT PASS|reboot: Power down" - \
    "expect_cpus=2 expect_mem_mb=256 expect_epoch=$(date +%s)"
qemu_boot qemu-reboot test-reboot 1 \
    "KHYVE-REBOOT|reboot: Restarting system" -
qemu_boot qemu-acpid test-acpid 1 \
    "KHYVE-READY|power button pressed|reboot: Power down" act_powerdown
# linux:vda's disk and checks with QEMU's virtio-blk.
qvda=$linux_out/qemu-vda
qemu_vda_check() { vda_verify "$qvda"; }
if vda_prepare "$qvda" >"$qvda.prepare.log" 2>&1; then
	# shellcheck disable=SC2046
	linux_check=qemu_vda_check qemu_boot qemu-vda test-vda 1 \
	    "KHYVE-RESULT PASS|reboot: Power down" - "$vda_cmdline" \
	    $(qemu_disk "$qvda.img" "$vda_serial" "$vda_discard")
else
	fail "qemu-vda (cannot make the disk image: $(tail -n 1 "$qvda.prepare.log"))"
fi
# The demo with a disk: /etc/rc loads the virtio-blk driver and no other.
rm -f "$linux_out/qemu-demo.img"
truncate -s 8M "$linux_out/qemu-demo.img"
# shellcheck disable=SC2046
qemu_boot qemu-demo-poweroff demo 1 \
    "user space reached|virtio devices: blk; loading their drivers|loaded virtio_blk|acpid watches the power button|tty is /dev/ttyS0|Running|vda: 16384 sectors|shutting down|reboot: Power down" \
    act_demo_poweroff "" $(qemu_disk "$linux_out/qemu-demo.img" KHYVEDEMO)
qemu_boot qemu-demo-reboot demo 1 \
    "shutting down|reboot: Restarting system" act_demo_reboot
qemu_boot qemu-demo-exit demo 1 \
    "the shell exited, powering off|reboot: Power down" act_demo_exit
# The demo online, as README shows it: DHCP on eth0 from QEMU's
# libslirp, the web server reached through a host forward.
demo_web_port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
linux_check=demo_web_check qemu_boot qemu-demo-web demo 1 \
    "loaded virtio_net|eth0 is 10.0.2.15; a web server listens on port 80|reboot: Power down" \
    act_demo_web "" -netdev \
    "user,id=n0,hostfwd=tcp:127.0.0.1:$demo_web_port-:80" \
    -device virtio-net-pci,netdev=n0
for n in $qnames; do rm -f "$linux_out/$n.mon.in" "$linux_out/$n.mon.out"; done
exit $status
