#!/usr/bin/env bash
# Command-line behaviour of the khyve binary: usage errors exit 64 with one
# line naming the flag, help and config.dump exit 0, and bad boot images
# are refused before a VM exists.  These need no /dev/kvm.
#
#   tests/cli/run.sh [BUILD]
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
K=$BUILD/khyve
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
base=(-s 0,hostbridge -s 31,lpc -l com1,stdio)

# expect NAME STATUS PATTERN -- ARGS...: run khyve, check status and that
# stderr is exactly one line matching PATTERN (when PATTERN is not empty).
expect() {
	local name=$1 want=$2 pat=$3 rc lines
	shift 4
	timeout 20 "$K" "$@" </dev/null >"$work/out" 2>"$work/err"
	rc=$?
	lines=$(wc -l <"$work/err")
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL cli:$name (exit status $rc, expected $want)"
		sed 's/^/    /' "$work/err"
	elif [ -n "$pat" ] && { [ "$lines" -ne 1 ] ||
	    ! grep -qE -- "$pat" "$work/err"; }; then
		echo "FAIL cli:$name (stderr is not one line matching /$pat/)"
		sed 's/^/    /' "$work/err"
	else
		echo "PASS cli:$name"
	fi
}

printf 'not an elf\n' >"$work/text"
printf '\177ELF\002\001\001' >"$work/trunc.elf"
: >"$work/empty"

expect help 0 "" -- -h
expect memory-zero 64 '^khyve: -m' -- -m 0 "${base[@]}" --kernel "$work/text" vm
expect memory-garbage 64 '^khyve: -m' -- -m 12Q "${base[@]}" vm
expect cpus-zero 64 '^khyve: -c' -- -c 0 "${base[@]}" vm
expect cpus-topology 64 '^khyve: -c' -- -c 2,sockets=3 "${base[@]}" vm
expect unknown-emulation 64 'nosuchdev' -- -s 3,nosuchdev "${base[@]}" vm
expect unknown-lpc 64 'com5' -- -l com5,stdio vm
expect no-name 64 '' -- "${base[@]}" --kernel "$work/text"
expect no-kernel 64 'kernel' -- "${base[@]}" vm
expect missing-kernel 64 '^khyve: --kernel .*/nonexistent' -- "${base[@]}" \
    --kernel "$work/nonexistent" vm
expect not-elf 64 '^khyve: --kernel .*: not an ELF file or a Linux bzImage' -- \
    "${base[@]}" --kernel "$work/text" vm
expect empty-kernel 64 '^khyve: --kernel .*: empty file' -- "${base[@]}" \
    --kernel "$work/empty" vm
expect directory-kernel 64 '^khyve: --kernel .*: not a regular file' -- \
    "${base[@]}" --kernel "$work" vm
expect missing-initrd 64 '^khyve: --initrd' -- "${base[@]}" \
    --kernel "$work/text" --initrd "$work/nonexistent" vm
expect bad-decompress 64 'boot.decompress' -- "${base[@]}" \
    -o boot.decompress=maybe --kernel "$work/text" vm
expect timer-garbage 64 'x86.pvm_timer_min_us' -- "${base[@]}" \
    -o x86.pvm_quirks=true -o x86.pvm_timer_min_us=soon --kernel "$work/text" vm
expect timer-too-long 64 'x86.pvm_timer_min_us' -- "${base[@]}" \
    -o x86.pvm_quirks=true -o x86.pvm_timer_min_us=2000000 \
    --kernel "$work/text" vm
expect bad-bool 64 'x86.strictio' -- "${base[@]}" -o x86.strictio=perhaps \
    --kernel "$work/text" vm
expect console-timeout-garbage 64 'console.stall_timeout' -- "${base[@]}" \
    -o console.stall_timeout=soon --kernel "$work/text" vm
expect console-timeout-range 64 'console.drain_timeout' -- "${base[@]}" \
    -o console.drain_timeout=3601 --kernel "$work/text" vm
expect grace-negative 64 '^khyve: poweroff.grace: -1 seconds' -- \
    "${base[@]}" -o poweroff.grace=-1 --kernel "$work/text" vm
expect grace-garbage 64 'poweroff.grace' -- "${base[@]}" \
    -o poweroff.grace=abc --kernel "$work/text" vm
expect grace-huge 64 '^khyve: poweroff.grace: 86401 seconds' -- \
    "${base[@]}" -o poweroff.grace=86401 --kernel "$work/text" vm
expect grace-overflow 64 'poweroff.grace' -- "${base[@]}" \
    -o poweroff.grace=99999999999999999999 --kernel "$work/text" vm
expect lpc-without-bridge 64 'LPC' -- -l com1,stdio -s 0,hostbridge \
    --kernel "$BUILD/guest/hello.elf" vm
expect vcon-no-path 64 '^khyve: virtio-console: port port1: no path' -- \
    "${base[@]}" -s 4,virtio-console,port1 vm
expect vcon-too-many 64 '^khyve: virtio-console: too many ports' -- \
    "${base[@]}" -s 4,virtio-console,a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,\
j=10,k=11,l=12,m=13,n=14,o=15,p=16,q=17 vm

# config.dump prints the tree and exits 0 without a VM.
timeout 20 "$K" -c 2 -m 512M -o config.dump=1 -o x=%\(name\) "${base[@]}" vm \
    </dev/null >"$work/dump" 2>&1
if [ $? -eq 0 ] && grep -qx 'cpus=2' "$work/dump" &&
    grep -qx 'memory.size=512M' "$work/dump" &&
    grep -qx 'pci.0.31.0.device=lpc' "$work/dump" &&
    grep -qx 'lpc.com1.path=stdio' "$work/dump"; then
	echo "PASS cli:config-dump"
else
	echo "FAIL cli:config-dump"
	sed 's/^/    /' "$work/dump"
fi

# -k file with a %(var) reference, then config.dump.
cat >"$work/vm.conf" <<'CONF'
# a comment
name=fromfile
memory.size=64M
lpc.com1.path=/tmp/%(name).log
CONF
timeout 20 "$K" -k "$work/vm.conf" -o config.dump=1 </dev/null \
    >"$work/dump" 2>&1
if [ $? -eq 0 ] && grep -qx 'name=fromfile' "$work/dump" &&
    grep -qx 'lpc.com1.path=/tmp/%(name).log' "$work/dump"; then
	echo "PASS cli:config-file"
else
	echo "FAIL cli:config-file"
	sed 's/^/    /' "$work/dump"
fi
exit 0
