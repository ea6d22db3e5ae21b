#!/bin/sh
# shellcheck shell=dash
# khyve-vda-check: the guest side of linux:vda.  Look at the virtio-blk disk
# the monitor was given (/dev/vda), read it, write and discard parts of it,
# and print one line per check plus a verdict:
#
#   KHYVE-CHECK name=value expect=... ok|FAIL
#   KHYVE-RESULT PASS            or    KHYVE-RESULT FAIL name...
#
# Expectations come from the kernel command line (run.sh sets them):
#   vda_sectors=N      the disk's size in 512-byte sectors
#   vda_serial=S       its serial number (-s ...,ser=S)
#   vda_md5=H          md5 of the whole disk as the host made it
#   vda_read=S+N,...   ranges (first sector + count) to read and compare
#                      with what vda-pattern.awk makes of them, tag "khyve"
#   vda_write=S+N,...  ranges to overwrite with tag "WROTE" (dd conv=fsync:
#                      written back and flushed), read back from the disk
#                      after blockdev --flushbufs
#   vda_discard=S+N    a range to discard (blkdiscard) and read back as
#                      zeroes; the disk must offer discard.  "none": it must
#                      not (the host's filesystem cannot punch holes)
# A missing expectation fails its check.  The host then compares the image
# with what exactly these writes and this discard make of it.
#
# Where KVM emulates guest kernel code every fork and exec costs a good
# fraction of a second, so sysfs is read with the shell's `read`, and each
# range costs three or four commands.
#
# KHYVE_ROOT (default empty) prefixes /proc and /sys, KHYVE_VDA (default
# /dev/vda) names the disk and KHYVE_VDA_PATTERN (/lib/vda-pattern.awk) the
# pattern program, so that the script can be tried on the host against a
# made-up tree and an image file.  There the disk is not a block device:
# blockdev --flushbufs is skipped and discard must be "none".

R=${KHYVE_ROOT:-}
dev=${KHYVE_VDA:-/dev/vda}
pat=${KHYVE_VDA_PATTERN:-/lib/vda-pattern.awk}
sys=$R/sys/block/vda
tmp=${TMPDIR:-/tmp}/vda.$$
failed=

# report NAME VALUE EXPECT VERDICT: print a check's line; remember failures.
report() {
	echo "KHYVE-CHECK $1=$2 expect=$3 $4"
	[ "$4" = FAIL ] && failed="$failed $1"
}

# same NAME VALUE EXPECT: ok when VALUE is EXPECT (not empty), else FAIL.
same() {
	if [ -n "$3" ] && [ "$2" = "$3" ]; then
		report "$1" "$2" "$3" ok
	else
		report "$1" "${2:-none}" "${3:-?}" FAIL
	fi
}

cmdline=
read -r cmdline 2>/dev/null <"$R/proc/cmdline"

# want NAME: set $want to the value of NAME=value on the kernel command
# line, or empty.
want() {
	local w
	want=
	for w in $cmdline; do
		case $w in
		"$1"=*) want=${w#*=}; return 0 ;;
		esac
	done
	return 1
}

# ranges LIST: set $ranges to the S+N items of the comma-separated LIST,
# separated by spaces; return 1 if LIST is empty or an item is not
# two numbers.
ranges() {
	local r IFS=,
	ranges=
	for r in $1; do
		case $r in
		*+*+*|+*|*+) return 1 ;;
		*+*) ;;
		*) return 1 ;;
		esac
		case ${r%+*}${r#*+} in
		*[!0-9]*) return 1 ;;
		esac
		ranges="$ranges $r"
	done
	[ -n "$ranges" ]
}

# sysfs FILE: set $val to the first line of /sys/block/vda/FILE, or empty.
sysfs() {
	val=
	read -r val 2>/dev/null <"$sys/$1"
}

# show_diff GOT WANT FIRST: where GOT, read from sector FIRST on, first
# differs from WANT, and that 32-byte line of each.
show_diff() {
	local out off f l
	out=$(cmp "$1" "$2" 2>&1)
	case $out in
	*differ:*)
		off=${out##*differ: }
		off=${off#* }
		off=${off%%,*}
		;;
	*)
		echo "KHYVE-INFO   $out"
		return 0
		;;
	esac
	off=$((off - 1))
	echo "KHYVE-INFO   first difference: sector $(($3 + off / 512))," \
	    "byte $((off % 512)); read, then wanted:"
	for f in "$1" "$2"; do
		dd if="$f" bs=32 skip=$((off / 32)) count=1 2>/dev/null |
		    hexdump -C | while read -r l; do
			echo "KHYVE-INFO   | $l"
		done
	done
}

# first_line FILE: print FILE's first line (dd's error, not its counts).
first_line() {
	local l=
	read -r l 2>/dev/null <"$1"
	echo "$l"
}

# read_range S N OUT: the disk's sectors S to S+N-1 into OUT.
read_range() {
	dd if="$dev" of="$3" bs=512 skip="$1" count="$2" 2>"$tmp.err" &&
	    return 0
	echo "KHYVE-INFO   reading $2 sector(s) at $1 failed: $(first_line "$tmp.err")"
	return 1
}

# pattern TAG S N OUT: what vda-pattern.awk makes of sectors S to S+N-1.
pattern() {
	awk -v tag="$1" -v first="$2" -v count="$3" -f "$pat" >"$4"
}

# --- the disk --------------------------------------------------------
is_blk=0
if [ -b "$dev" ]; then
	is_blk=1
elif [ -z "$R" ] || [ ! -f "$dev" ]; then
	report vda_dev missing block-device FAIL
	echo "KHYVE-INFO block devices: $(ls "$R/sys/block" 2>/dev/null | tr '\n' ' ')"
	echo "KHYVE-RESULT FAIL${failed}"
	exit 1
fi
want vda_sectors; sysfs size; same vda_sectors "$val" "$want"
want vda_serial; sysfs serial; same vda_serial "$val" "$want"
sysfs ro; same vda_ro "$val" 0
sysfs queue/logical_block_size; same vda_block_size "$val" 512
# "write back": the device offered FLUSH, so fsync reaches the host's disk.
sysfs queue/write_cache
case $val in
*" "*) val="${val% *}_${val#* }" ;;
esac
same vda_write_cache "$val" write_back

# --- reading ---------------------------------------------------------
# Known ranges first, while the page cache has (almost) nothing of the
# disk, then the whole disk.
if want vda_read && ranges "$want"; then
	for r in $ranges; do
		s=${r%+*}
		n=${r#*+}
		if ! read_range "$s" "$n" "$tmp.got"; then
			report vda_read "$r:error" "$r:pattern" FAIL
		elif pattern khyve "$s" "$n" "$tmp.want" &&
		    cmp -s "$tmp.got" "$tmp.want"; then
			report vda_read "$r:pattern" "$r:pattern" ok
		else
			report vda_read "$r:differs" "$r:pattern" FAIL
			show_diff "$tmp.got" "$tmp.want" "$s"
		fi
	done
else
	report vda_read "${want:-none}" S+N,... FAIL
fi
sum=$(md5sum "$dev" 2>&1)
want vda_md5; same vda_md5 "${sum%% *}" "$want"

# --- writing and discarding ------------------------------------------
wranges=
if want vda_write && ranges "$want"; then
	wranges=$ranges
	for r in $wranges; do
		s=${r%+*}
		n=${r#*+}
		pattern WROTE "$s" "$n" "$tmp.w$s"
		if ! dd if="$tmp.w$s" of="$dev" bs=512 seek="$s" \
		    conv=notrunc,fsync 2>"$tmp.err"; then
			echo "KHYVE-INFO writing $n sector(s) at $s failed: $(first_line "$tmp.err")"
			: >"$tmp.w$s.failed"
		fi
	done
else
	report vda_write "${want:-none}" S+N,... FAIL
fi
want vda_discard
dranges=
sysfs queue/discard_max_bytes
dmax=${val:-0}
if [ "$want" = none ]; then
	if [ "$dmax" = 0 ]; then
		report vda_discard unoffered none ok
	else
		report vda_discard "offered:$dmax" none FAIL
	fi
elif ! ranges "$want"; then
	report vda_discard "${want:-none}" S+N FAIL
elif [ "$dmax" = 0 ]; then
	report vda_discard unoffered "$want" FAIL
else
	dranges=$ranges
	for r in $dranges; do
		s=${r%+*}
		n=${r#*+}
		if ! blkdiscard -o $((s * 512)) -l $((n * 512)) "$dev" \
		    2>"$tmp.err"; then
			echo "KHYVE-INFO discarding $n sector(s) at $s failed: $(first_line "$tmp.err")"
			: >"$tmp.d$s.failed"
		fi
	done
fi

# Read back from the disk, not the page cache: --flushbufs writes back
# and drops the disk's cached pages (BLKFLSBUF).
if [ $is_blk -eq 1 ] && ! blockdev --flushbufs "$dev"; then
	echo "KHYVE-INFO blockdev --flushbufs $dev failed: reading back from the page cache"
fi
for r in $wranges; do
	s=${r%+*}
	n=${r#*+}
	if [ -e "$tmp.w$s.failed" ]; then
		report vda_write "$r:error" "$r:written" FAIL
	elif ! read_range "$s" "$n" "$tmp.got"; then
		report vda_write "$r:unreadable" "$r:written" FAIL
	elif cmp -s "$tmp.got" "$tmp.w$s"; then
		report vda_write "$r:written" "$r:written" ok
	else
		report vda_write "$r:differs" "$r:written" FAIL
		show_diff "$tmp.got" "$tmp.w$s" "$s"
	fi
done
for r in $dranges; do
	s=${r%+*}
	n=${r#*+}
	if [ -e "$tmp.d$s.failed" ]; then
		report vda_discard "$r:error" "$r:zeroes" FAIL
	elif ! read_range "$s" "$n" "$tmp.got"; then
		report vda_discard "$r:unreadable" "$r:zeroes" FAIL
	elif dd if=/dev/zero of="$tmp.zero" bs=512 count="$n" 2>/dev/null &&
	    cmp -s "$tmp.got" "$tmp.zero"; then
		report vda_discard "$r:zeroes" "$r:zeroes" ok
	else
		report vda_discard "$r:differs" "$r:zeroes" FAIL
		show_diff "$tmp.got" "$tmp.zero" "$s"
	fi
done
rm -f "$tmp".*

if [ -z "$failed" ]; then
	echo "KHYVE-RESULT PASS"
	exit 0
fi
echo "KHYVE-RESULT FAIL${failed}"
exit 1
