#!/usr/bin/env bash
# mkinitramfs.sh CACHE_DIR OUT.cpio MODE [EXTRA_DIR]: build the guest's
# initramfs, an uncompressed newc cpio (a gzip'd one costs ~10 s of guest
# time where KVM emulates guest kernel code).
#
# CACHE_DIR is what fetch.sh left (busybox, modules/).  MODE picks /init:
#   demo            busybox init, a shell on the console, poweroff/reboot
#                   from it, virtio and power-button drivers
#   test-poweroff   check CPUs, memory, RTC, ACPI tables, console; print
#                   KHYVE-CHECK/KHYVE-RESULT lines; poweroff -f
#   test-reboot     print KHYVE-REBOOT; reboot -f
#   test-acpid      acpid on the power button; print KHYVE-READY; wait
#   test-vda        the virtio-blk driver; check, read, write and discard
#                   /dev/vda (khyve-vda-check); print KHYVE-CHECK and
#                   KHYVE-RESULT lines; poweroff -f
#   test-net        the virtio-net driver; DHCP, a download from the host,
#                   a one-shot server for a host forward; poweroff -f
# EXTRA_DIR, if given, is copied over the tree last (extra files for a test).
#
# Contents: busybox and all its applet links, /bin/outb (built here from
# outb.c with the host's C compiler), the scripts from guest/, /dev/console
# and /dev/null, and the kernel modules the mode needs with their
# dependencies (from modules.dep, decompressed, in /lib/modules/NAME.ko, the
# load order in /etc/modules-*).  Every file is owned by root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
guest=$here/guest

usage() {
	echo "usage: $0 CACHE_DIR OUT.cpio demo|test-poweroff|test-reboot|test-acpid|test-vda|test-net [EXTRA_DIR]" >&2
	exit 2
}
say() { printf 'mkinitramfs: %s\n' "$*"; }
die() { printf 'mkinitramfs: error: %s\n' "$*" >&2; exit 1; }

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
	usage
fi
cache=$1
out=$2
mode=$3
extra=${4:-}
case $mode in
demo|test-poweroff|test-reboot|test-acpid|test-vda|test-net) ;;
*) usage ;;
esac
command -v cpio >/dev/null 2>&1 || die "cpio not found (apt-get install cpio)"
if [ ! -x "$cache/busybox" ] || [ ! -s "$cache/modules/modules.dep" ]; then
	die "$cache is incomplete: run tests/linux/fetch.sh $cache first"
fi
[ -z "$extra" ] || [ -d "$extra" ] || die "$extra is not a directory"
mdir=$cache/modules

stage=$(mktemp -d "${TMPDIR:-/tmp}/khyve-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root} \
    "$stage"/{etc/acpi,lib/modules,var/log}
chmod 1777 "$stage/tmp"

# busybox and a link for each applet (its own list: bin/sh, sbin/init...).
cp "$cache/busybox" "$stage/bin/busybox"
chmod 755 "$stage/bin/busybox"
# The test modes link only the applets their scripts run: the kernel
# unpacks each archive entry with its own code, which costs seconds in all
# for the ~400 links where KVM emulates guest kernel code.
test_applets=" sh ash init mount mkdir cat ls grep cut date hwclock stty \
    sleep insmod acpid poweroff reboot halt "
case $mode in
test-vda) test_applets="$test_applets awk dd cmp md5sum blockdev blkdiscard \
    hexdump tr " ;;
test-net) test_applets="$test_applets ifconfig route udhcpc wget nc md5sum \
    wc sed " ;;
esac
applets=$("$cache/busybox" --list-full) ||
    die "cannot run $cache/busybox --list-full on this host"
for a in $applets; do
	case $a in
	*/*) ;;
	*) continue ;;		# linuxrc: not wanted at the root
	esac
	case $mode in
	test-*) [[ $test_applets == *" ${a##*/} "* ]] || continue ;;
	esac
	[ -e "$stage/$a" ] || ln -s /bin/busybox "$stage/$a"
done

# /bin/outb: a byte to an I/O port, for the port 0x80 mark.
if command -v "${CC:-cc}" >/dev/null 2>&1 &&
    "${CC:-cc}" -std=c11 -Os -static -nostdlib -ffreestanding \
    -fno-stack-protector -fno-pie -no-pie -fno-asynchronous-unwind-tables \
    -Wl,--build-id=none -s -o "$stage/bin/outb" "$here/outb.c"; then
	:
else
	say "warning: cannot build outb.c with ${CC:-cc}: no port 0x80 mark" >&2
fi

install -m 755 "$guest/init-$mode" "$stage/init"
install -m 644 "$guest/lib.sh" "$stage/lib/khyve.sh"
install -m 755 "$guest/check.sh" "$stage/bin/khyve-check"
case $mode in
demo)
	install -m 644 "$guest/inittab" "$stage/etc/inittab"
	install -m 755 "$guest/rc-demo" "$stage/etc/rc"
	install -m 755 "$guest/rc-shutdown" "$stage/etc/rc.shutdown"
	install -m 755 "$guest/shell-demo" "$stage/etc/shell"
	install -m 755 "$guest/dhcp-script" "$stage/bin/khyve-dhcp"
	install -m 644 "$guest/profile" "$stage/etc/profile"
	;;
esac
case $mode in
demo|test-acpid)
	install -m 644 "$guest/acpid.conf" "$stage/etc/acpid.conf"
	install -m 755 "$guest/acpi-power" "$stage/etc/acpi/power"
	;;
test-vda)
	install -m 755 "$guest/vda-check.sh" "$stage/bin/khyve-vda-check"
	install -m 644 "$guest/vda-pattern.awk" "$stage/lib/vda-pattern.awk"
	;;
test-net)
	install -m 755 "$guest/dhcp-script" "$stage/bin/khyve-dhcp"
	;;
esac
echo khyve >"$stage/etc/hostname"
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"

# Kernel modules.  modules.dep lines are "path: dep dep ..."; a module's
# dependencies load first, as modprobe does (kmod's libkmod-module.c walks
# the list backwards).  Module names treat '-' and '_' alike.
declare -A dep_of=() path_of=() builtin=() seen=()
modname() {
	local n=${1##*/}
	n=${n%%.ko*}
	printf '%s\n' "${n//-/_}"
}
while IFS= read -r line; do
	p=${line%%:*}
	dep_of[$p]=${line#*:}
	path_of[$(modname "$p")]=$p
done <"$mdir/modules.dep"
if [ -r "$mdir/modules.builtin" ]; then
	while IFS= read -r line; do
		builtin[$(modname "$line")]=1
	done <"$mdir/modules.builtin"
fi

order=()
visit() {
	local p=$1 i
	local -a deps
	[ -z "${seen[$p]:-}" ] || return 0
	seen[$p]=1
	read -r -a deps <<<"${dep_of[$p]}"
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		visit "${deps[i]}"
	done
	order+=("$p")
}

# The test modes strip each module's BTF section (type information for
# BPF programs).  The first module with BTF makes the kernel parse its own
# (5 MB of it, btf_parse_vmlinux), about a minute of guest kernel time
# where KVM emulates guest kernel code.  objcopy drops the appended
# signature with it: the kernel loads the module unsigned (the Debian
# kernel does not enforce signatures) and notes that it is tainted.
strip_btf=0
case $mode in
test-*) strip_btf=1 ;;
esac
strip_module() {
	command -v objcopy >/dev/null 2>&1 ||
	    die "objcopy not found (apt-get install binutils)"
	if ! objcopy --remove-section=.BTF "$1" "$1.tmp" ||
	    ! mv "$1.tmp" "$1"; then
		die "objcopy cannot strip $1"
	fi
}

# add_modules LIST NAME...: copy NAME and its dependencies into the tree
# and append them, in load order, to /etc/LIST.  A module already in an
# earlier list is left out: that list loads first.
add_modules() {
	local name=$1 list=$stage/etc/$1 n p base
	shift
	: >"$list"
	order=()
	for n in "$@"; do
		n=${n//-/_}
		if [ -n "${builtin[$n]:-}" ]; then
			say "module $n is built into the kernel"
		elif [ -n "${path_of[$n]:-}" ]; then
			visit "${path_of[$n]}"
		else
			say "warning: kernel has no module $n" >&2
		fi
	done
	for p in ${order[@]+"${order[@]}"}; do
		base=${p##*/}
		base=${base%%.ko*}
		case $p in
		*.ko) cp "$mdir/$p" "$stage/lib/modules/$base.ko" ;;
		*.ko.xz) xz -dc "$mdir/$p" >"$stage/lib/modules/$base.ko" ;;
		*.ko.zst) zstd -qdc "$mdir/$p" >"$stage/lib/modules/$base.ko" ;;
		*.ko.gz) gzip -dc "$mdir/$p" >"$stage/lib/modules/$base.ko" ;;
		*) die "unknown module file type: $p" ;;
		esac || die "cannot copy module $p"
		[ "$strip_btf" -eq 0 ] || strip_module "$stage/lib/modules/$base.ko"
		echo "$base" >>"$list"
	done
	say "$name: $(wc -l <"$list") modules: $(tr '\n' ' ' <"$list")"
}

# Tests load modules only where they must: each insmod costs ~5 s where
# KVM emulates guest kernel code.  The demo's /etc/rc loads the virtio
# transport, then the driver of each kind of virtio device it finds.
case $mode in
demo)
	add_modules modules-virtio virtio_pci
	add_modules modules-virtio-blk virtio_blk
	add_modules modules-virtio-net virtio_net
	add_modules modules-virtio-console virtio_console
	add_modules modules-virtio-rng virtio_rng
	add_modules modules-acpi button evdev
	;;
test-acpid)
	add_modules modules-acpi button evdev
	;;
test-vda)
	# Whatever of these the kernel has built in is left out (the cloud
	# kernel: none).
	add_modules modules-vda virtio_pci virtio_blk
	;;
test-net)
	add_modules modules-net virtio_pci virtio_net
	;;
esac

[ -z "$extra" ] || cp -a "$extra/." "$stage/"

# /dev/console must exist before /init runs (the kernel opens it for init's
# stdio) and devtmpfs is mounted only later.  mknod needs root; without it,
# append a second archive with the nodes (the kernel unpacks concatenated
# archives, Documentation/driver-api/early-userspace/buffer-format.rst).
nodes_inline=1
if ! mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null ||
    ! mknod -m 666 "$stage/dev/null" c 1 3 2>/dev/null; then
	rm -f "$stage/dev/console" "$stage/dev/null"
	nodes_inline=0
fi

# newc_entry NAME MODE MAJOR MINOR INO: one newc header for a device node
# (buffer-format.rst: "070701" and 13 eight-digit hex fields, the name with
# its NUL, padded to a multiple of 4; no data).
newc_entry() {
	local name=$1 mode=$2 major=$3 minor=$4 ino=$5 nlen pad
	nlen=$((${#name} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
	    "$ino" "$mode" 0 0 1 0 0 0 0 "$major" "$minor" "$nlen" 0
	printf '%s\0' "$name"
	pad=$(((4 - (110 + nlen) % 4) % 4))
	head -c "$pad" /dev/zero
}

mkdir -p "$(dirname "$out")"
tmpout=$out.tmp.$$
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --quiet) >"$tmpout" || die "cpio failed"
if [ $nodes_inline -eq 0 ]; then
	{
		newc_entry dev/console $((0x2180)) 5 1 900001
		newc_entry dev/null $((0x21b6)) 1 3 900002
		newc_entry TRAILER!!! 0 0 0 0
	} >>"$tmpout"
fi
mv "$tmpout" "$out"
say "$out: mode $mode, $(($(stat -c %s "$out") / 1024)) KiB, uncompressed newc"
