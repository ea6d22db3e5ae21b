#!/usr/bin/env bash
# durable.sh BUILD: kill -9 durability of khyve's virtio-blk.
#
# Each trial boots the vblk_durable guest on a fresh sparse image of
# DURABLE_MB MiB and three sectors (not a whole number of 4 KiB blocks),
# kills khyve with SIGKILL at a random moment, and checks the image on the
# host (docs/testing.md, "The durability test"):
#   - its size is what it was (nothing written past the end: the guest
#     also tries a write at the sector after the last and one across the
#     end, "edges", and must see both fail);
#   - every block up to the last "FLUSHED n" the console showed holds
#     its pattern, byte for byte;
#   - every block after it holds its pattern or zeroes (written, or
#     flushed before the line got out, or not yet), nothing else;
#   - of the three sectors after the last whole block, the first two are
#     zeroes and the last holds "durable last sector" once "EDGES ok" was
#     seen (it was flushed), else that or zeroes.
# One line per trial: "PASS guest:durable-I (...)" or "FAIL guest:durable-I
# (why)" with the console indented; "SKIP guest:durable: reason" without
# KVM.  Environment: DURABLE_TRIALS (default 100), DURABLE_MAX_MS (latest
# kill after the guest's start line, default 1000), DURABLE_MB (image
# size, default 16), DURABLE_BATCH (writes in flight per flush, default 8),
# GUEST_TIMEOUT (seconds allowed to reach the start line, default 120).
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
KHYVE=$BUILD/khyve
ELF=$BUILD/guest/vblk_durable.elf
TRIALS=${DURABLE_TRIALS:-100}
MAX_MS=${DURABLE_MAX_MS:-1000}
MB=${DURABLE_MB:-16}
BATCH=${DURABLE_BATCH:-8}
TIMEOUT=${GUEST_TIMEOUT:-120}
BS=4096
TAIL=1536	# three sectors after the last whole block
work=$(mktemp -d)
kpid=
trap '[ -n "$kpid" ] && kill -KILL "$kpid" 2>/dev/null; wait; rm -rf "$work"' EXIT
failed=0

if [ ! -e /dev/kvm ] || ! (exec 3<>/dev/kvm) 2>/dev/null; then
	echo "SKIP guest:durable: /dev/kvm cannot be used on this host"
	exit 0
fi
for f in "$KHYVE" "$ELF"; do
	if [ ! -f "$f" ]; then
		echo "FAIL guest:durable ($f is missing: run make all guests)"
		exit 1
	fi
done

# blocks FIRST LAST: the pattern of blocks FIRST..LAST (vblk_durable.c).
blocks() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		for (s = a; s <= b; s++) {
			r = sprintf("%-31s\n", "durable seq=" s)
			for (i = 0; i < 128; i++)
				printf "%s", r
		}
	}'
}

# tail IMG EDGES: why the three sectors after the last whole block are
# wrong ("EDGES ok" seen: EDGES=1), or "".
tail_check() {
	local img=$1 edges=$2 off=$((MB * 1024 * 1024))
	if ! cmp -s -i "$off:0" -n 1024 "$img" /dev/zero; then
		echo "the two sectors before the last are not zeroes"
	elif cmp -s -i "$((off + 1024)):0" -n 512 "$img" "$work/lastsect"; then
		:
	elif [ "$edges" -eq 1 ] || ! cmp -s -i "$((off + 1024)):0" -n 512 \
	    "$img" /dev/zero; then
		echo "the last sector is $([ "$edges" -eq 1 ] && echo not || echo neither) \"durable last sector\"$([ "$edges" -eq 0 ] && echo ' nor zeroes'): \"$(tail -c 512 "$img" | head -c 31 | tr -c '[:print:]' .)\""
	fi
}

# check IMG N EDGES: why the image is wrong after "FLUSHED N" (-1: none),
# or "".  $work/all holds every block's pattern (made once).
check() {
	local img=$1 n=$2 size want k b last off rest
	size=$(stat -c %s "$img")
	want=$((MB * 1024 * 1024 + TAIL))
	if [ "$size" -ne "$want" ]; then
		echo "image is $size bytes, was $want"
		return
	fi
	tail_check "$img" "$3"
	size=$((MB * 1024 * 1024))	# the whole blocks
	last=$((size / BS - 1))
	[ "$n" -gt "$last" ] && { echo "FLUSHED $n past the last block $last"; return; }
	if [ "$n" -ge 0 ] && ! cmp -s -n $(((n + 1) * BS)) "$img" "$work/all"; then
		echo "flushed blocks 0-$n differ: $(LC_ALL=C cmp -n $(((n + 1) * BS)) "$img" "$work/all" 2>&1 | head -n 1)"
		return
	fi
	# After it: each block its pattern (written, or flushed before the
	# line got out) or zeroes.  Jump from one non-zero byte to the next.
	off=$(((n + 1) * BS))
	for ((k = 0; k < 4096 && off < size; k++)); do
		rest=$(LC_ALL=C cmp -i "$off:0" -n $((size - off)) "$img" /dev/zero 2>&1 |
		    sed -nE 's/.* differ: (byte|char) ([0-9]+),.*/\2/p')
		[ -z "$rest" ] && return
		b=$(((off + rest - 1) / BS))
		if ! cmp -s -i $((b * BS)):$((b * BS)) -n $BS "$img" "$work/all"; then
			echo "block $b (after FLUSHED $n) is neither its pattern nor zeroes: \"$(dd if="$img" bs=$BS skip="$b" count=1 status=none | head -c 31 | tr -c '[:print:]' .)\""
			return
		fi
		off=$(((b + 1) * BS))
	done
}

trial() {
	local i=$1 img=$work/d$1.img out=$work/d$1.out err=$work/d$1.err
	local ms how end n why t0 ndone
	rm -f "$work"/d*.img
	truncate -s $((MB * 1024 * 1024 + TAIL)) "$img"
	# One trial in five kills during the boot, the others while the
	# guest writes: up to MAX_MS after its start line.
	if [ $((RANDOM % 5)) -eq 0 ]; then
		ms=$((RANDOM % 300)) how=boot
	else
		ms=$((RANDOM * 32768 + RANDOM)) ms=$((ms % (MAX_MS + 1))) how=run
	fi
	: >"$out"
	"$KHYVE" -c 1 -m 128M -u -s 0,hostbridge -s 31,lpc -l com1,stdio \
	    -s "3,virtio-blk,$img" --kernel "$ELF" --cmdline "batch=$BATCH edges" \
	    "gdurable$i" </dev/null >"$out" 2>"$err" &
	kpid=$!
	t0=$SECONDS
	end=$((SECONDS + TIMEOUT))
	if [ $how = run ]; then
		until tr -d '\r' <"$out" | grep -q '^DURABLE start'; do
			if ! kill -0 "$kpid" 2>/dev/null || [ $SECONDS -ge $end ]; then
				break
			fi
			sleep 0.05
		done
	fi
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$kpid" 2>/dev/null
	wait "$kpid" 2>/dev/null
	kpid=
	n=$(tr -d '\r' <"$out" | sed -n 's/^FLUSHED \([0-9]*\)$/\1/p' | tail -n 1)
	n=${n:--1}
	ndone=$(tr -d '\r' <"$out" | grep -c '^DURABLE done')
	why=
	if ! tr -d '\r' <"$out" | grep -q '^DURABLE start' && [ $how = run ]; then
		why="no DURABLE start line within ${TIMEOUT}s"
	elif tr -d '\r' <"$out" | grep -qE '^FAIL|kit: exception'; then
		why="the guest failed"
	elif tr -d '\r' <"$out" | grep -q '^EDGES ok'; then
		why=$(check "$img" "$n" 1)
	else
		why=$(check "$img" "$n" 0)
	fi
	if [ -z "$why" ]; then
		echo "PASS guest:durable-$i (killed $ms ms after the $how start, FLUSHED ${n}$([ "$ndone" -gt 0 ] && echo ', all written'), $((SECONDS - t0)) s)"
	else
		failed=1
		echo "FAIL guest:durable-$i ($why; killed $ms ms after the $how start, FLUSHED $n)"
		echo "    console:"
		tr -d '\r' <"$out" | tail -n 20 | sed 's/^/    /'
		if [ -s "$err" ]; then
			echo "    stderr:"
			sed 's/^/    /' "$err" | tail -n 20
		fi
	fi
}

blocks 0 $((MB * 1024 * 1024 / BS - 1)) >"$work/all"
printf '%-511s\n' "durable last sector" >"$work/lastsect"
t_all=$SECONDS
for ((t = 1; t <= TRIALS; t++)); do
	trial "$t"
done
echo "durable: $TRIALS trials in $((SECONDS - t_all)) s" >&2
exit $failed
