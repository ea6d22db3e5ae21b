# shellcheck shell=dash
# /lib/khyve.sh: shell functions shared by the guest's /init scripts
# (busybox ash).  Sourced, not run.  Built into the initramfs by
# tests/linux/mkinitramfs.sh.

export PATH=/sbin:/usr/sbin:/bin:/usr/bin

# Mount what every mode needs.  The Debian cloud kernel does not mount
# devtmpfs on its own for an initramfs (CONFIG_DEVTMPFS_MOUNT is off).
# Where KVM emulates guest kernel code each command run costs the kernel
# a second or more, so the test modes run no more than they need.
mount_basic() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
}

# What the demo's shell also needs: pseudo-terminals, shared memory.
mount_more() {
	mkdir -p /dev/pts /dev/shm /run /tmp
	mount -t devpts devpts /dev/pts 2>/dev/null
}

# cmdline_arg NAME: the value of NAME=value on the kernel command line.
cmdline_arg() {
	local w
	for w in $(cat /proc/cmdline); do
		case $w in
		"$1"=*) echo "${w#*=}"; return 0 ;;
		esac
	done
	return 1
}

# Tell the monitor that user space runs: one byte ('A') to port 0x80, the
# POST-code port.  Debian's kernels have no /dev/port, hence /bin/outb.
mark_userspace() {
	[ -x /bin/outb ] && /bin/outb 0x80 0x41
}

# Wait until the console has sent everything written so far: stty sets
# the mode with TCSADRAIN (busybox coreutils/stty.c), which waits for the
# UART to drain.  Without it a poweroff can cut off the last lines.
drain_console() {
	stty opost <&1 2>/dev/null || sleep 2
}

# load_modules LIST: insmod each module named in LIST (one a line, in load
# order, files in /lib/modules/NAME.ko), reporting each one.
load_modules() {
	local m t0 t1 rest
	[ -s "$1" ] || return 0
	for m in $(cat "$1"); do
		read t0 rest </proc/uptime
		if insmod "/lib/modules/$m.ko"; then
			read t1 rest </proc/uptime
			echo "  loaded $m (${t0%.*}-${t1%.*} s)"
		else
			echo "  FAILED to load $m"
		fi
	done
}

# The input device the ACPI button driver creates for the power button
# (drivers/acpi/button.c: "Power Button"), as /dev/input/eventN, or nothing.
power_button_event() {
	local d n
	for d in /sys/class/input/event*; do
		[ -r "$d/device/name" ] || continue
		read n <"$d/device/name"
		if [ "$n" = "Power Button" ]; then
			echo "/dev/input/${d##*/}"
			return 0
		fi
	done
	return 1
}

# List the input devices, for a failure report.
list_input_devices() {
	local d n
	for d in /sys/class/input/input*; do
		[ -r "$d/name" ] || continue
		read n <"$d/name"
		echo "  ${d##*/}: $n"
	done
}
