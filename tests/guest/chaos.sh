#!/usr/bin/env bash
# chaos.sh BUILD SEED [N]: the hostile guest (chaos.c) against every
# device khyve has, checked from the outside (docs/testing.md, "The chaos
# guest").
#
# khyve runs with -c 2, the hostbridge, the LPC bridge with COM1 (stdio:
# a FIFO the runner writes to) and COM2 (a file), two virtio-blk disks on
# scratch images (the second with engine=thread), virtio-net on slirp
# (restricted), virtio-rnd and a virtio-console with two ports (sockets
# nobody connects to).  The guest makes N (default CHAOS_N, 1000000)
# seeded random accesses.  PASS when:
#   - khyve exits 1 (the guest's power-off), within GUEST_TIMEOUT (default
#     120 + N / 2000) seconds: no crash, abort or hang;
#   - the console has "chaos: seed=SEED n=N", "chaos: done accesses=N"
#     and PASS, and no FAIL or kit exception;
#   - khyve's RSS outside guest RAM (the sum of Rss: over
#     /proc/PID/smaps without the memfd:khyve-guest-ram mapping, as
#     bench/runstat.c measures it) grows by at most 8 MiB between the
#     guest's start line and its done line (the guest waits for a byte on
#     COM1 after each, so the samples are taken while it waits);
#   - khyve's stderr is bounded: no message (digits aside) more often
#     than its rate limit allows, 11 a second (log_ratelimit());
#   - over the same span its open descriptors grow by at most 8 and its
#     threads by at most 32 (io_uring starts workers as it needs them);
#   - no sanitizer report on stderr (for a sanitizer build);
#   - the disk images have the size they had.
# Prints "PASS guest:chaos-SEED (...)" or "FAIL guest:chaos-SEED (why)"
# with the console and stderr, or "SKIP guest:chaos-SEED: reason".
set -u
BUILD=${1:-build}
SEED=${2:-1}
N=${3:-${CHAOS_N:-1000000}}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
KHYVE=$BUILD/khyve
ELF=$BUILD/guest/chaos.elf
TIMEOUT=${GUEST_TIMEOUT:-$((120 + N / 2000))}
RSS_MAX_KB=8192
IMG_BYTES=$((8 << 20))
id=guest:chaos-$SEED
work=$(mktemp -d)
kpid=
cfd=
trap '[ -n "$kpid" ] && kill -KILL "$kpid" 2>/dev/null
      [ -n "$cfd" ] && exec {cfd}>&-
      wait; rm -rf "$work"' EXIT

if [ ! -e /dev/kvm ] || ! (exec 3<>/dev/kvm) 2>/dev/null; then
	echo "SKIP $id: /dev/kvm cannot be used on this host"
	exit 0
fi
for f in "$KHYVE" "$ELF" "$BUILD/khyve-slirp"; do
	if [ ! -f "$f" ]; then
		echo "FAIL $id ($f is missing: run make all guests)"
		exit 1
	fi
done

# rss_outside PID: kB resident outside the guest RAM mapping.
rss_outside() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { g = index($0, "khyve-guest-ram") > 0 }
	    /^Rss:/ { if (!g) s += $2 } END { print s + 0 }' \
	    "/proc/$1/smaps" 2>/dev/null
}

# fds PID, threads PID: how many khyve has open, and runs.
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
threads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }

# await PATTERN: wait until the console matches PATTERN (0), khyve has
# ended (1) or the time is up (2).
await() {
	while ! tr -d '\r' <"$work/out" | grep -qE -- "$1"; do
		kill -0 "$kpid" 2>/dev/null || return 1
		[ $SECONDS -ge $end ] && return 2
		sleep 0.1
	done
}

fail() {
	echo "FAIL $id ($*)"
	for f in out err; do
		echo "    $f:"
		if [ -s "$work/$f" ]; then
			tr -d '\r' <"$work/$f" | tail -n 40 | sed 's/^/      /'
		else
			echo "      (empty)"
		fi
	done
	exit 1
}

truncate -s "$IMG_BYTES" "$work/d1.img" "$work/d2.img"
mkfifo "$work/in"
# A khyve that dies between a line and the runner's byte must not kill us.
trap '' PIPE
: >"$work/out"
start=$SECONDS
end=$((SECONDS + TIMEOUT))
"$KHYVE" -c 2 -m 128M -u -s 0,hostbridge -s 31,lpc -l com1,stdio \
    -l com2,"$work/com2" -s 3,virtio-blk,"$work/d1.img" \
    -s 4,virtio-blk,"$work/d2.img",engine=thread -s 5,virtio-net,slirp \
    -s 6,virtio-rnd \
    -s 7,virtio-console,p0="$work/vc0.sock",p1="$work/vc1.sock" \
    --kernel "$ELF" --cmdline "seed=$SEED n=$N go" "gchaos$SEED" \
    <"$work/in" >"$work/out" 2>"$work/err" &
kpid=$!
exec {cfd}>"$work/in"
why=
await '^chaos: start$'
case $? in
1) why="khyve ended before the start line" ;;
2) why="no start line after ${TIMEOUT}s" ;;
esac
if [ -z "$why" ]; then
	rss0=$(rss_outside "$kpid") fd0=$(fds "$kpid") th0=$(threads "$kpid")
	printf g >&"$cfd"
fi
[ -z "$why" ] && await '^chaos: done accesses='
case $? in
1) why=${why:-khyve ended before the done line} ;;
2) why=${why:-no done line after ${TIMEOUT}s} ;;
esac
if [ -z "$why" ]; then
	rss1=$(rss_outside "$kpid") fd1=$(fds "$kpid") th1=$(threads "$kpid")
	printf g >&"$cfd"
fi
while kill -0 "$kpid" 2>/dev/null && [ $SECONDS -lt $end ]; do
	sleep 0.1
done
if kill -0 "$kpid" 2>/dev/null; then
	kill -KILL "$kpid"
	why=${why:-still running after ${TIMEOUT}s}
fi
wait "$kpid"
rc=$?
kpid=
trap - PIPE
secs=$((SECONDS - start))
[ -n "$why" ] && fail "$why; exit status $rc"
[ "$rc" -eq 1 ] || fail "exit status $rc, expected 1 (power-off)"
con=$(tr -d '\r' <"$work/out")
for pat in "^chaos: seed=$SEED n=$N\$" "^chaos: done accesses=$N\$" '^PASS$'; do
	grep -qE -- "$pat" <<<"$con" || fail "console lacks /$pat/"
done
for pat in '^FAIL' 'kit: exception' 'no go byte'; do
	grep -qE -- "$pat" <<<"$con" && fail "console has /$pat/"
done
grow=$((rss1 - rss0))
# Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
# default) and shadow memory follows the heap: the bound is the normal
# build's, checked there.
if readelf -sW "$KHYVE" 2>/dev/null | grep -q ' __asan_init'; then
	:
elif [ "$grow" -gt "$RSS_MAX_KB" ]; then
	fail "RSS outside guest RAM grew by $grow kB ($rss0 -> $rss1), more than $RSS_MAX_KB"
fi
[ "$fd1" -le $((fd0 + 8)) ] || fail "open descriptors grew from $fd0 to $fd1"
[ "$th1" -le $((th0 + 32)) ] || fail "threads grew from $th0 to $th1"
# A sanitizer build (docs/testing.md) reports on stderr and may go on.
pat='runtime error|AddressSanitizer|LeakSanitizer|ThreadSanitizer'
grep -qE "$pat" "$work/err" && fail "stderr has a sanitizer report"
# The most frequent message, digits aside (the suppression notes apart).
top_msg=$(grep -v 'similar messages suppressed' "$work/err" |
    sed 's/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn | head -n 1)
top_n=$(awk '{ print $1 + 0 }' <<<"$top_msg")
[ "${top_n:-0}" -le $((11 * (secs + 2))) ] ||
    fail "stderr not rate-limited: $top_msg in ${secs}s"
for img in d1 d2; do
	size=$(stat -c %s "$work/$img.img")
	[ "$size" -eq "$IMG_BYTES" ] ||
	    fail "$img.img is $size bytes, was $IMG_BYTES"
done
echo "PASS $id ($N accesses, ${secs}s, RSS outside guest RAM $rss0 -> $rss1 kB, fds $fd0 -> $fd1, threads $th0 -> $th1, $(wc -l <"$work/err") stderr lines)"
