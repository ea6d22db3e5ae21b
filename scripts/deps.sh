#!/usr/bin/env bash
# scripts/deps.sh: the Debian packages khyve's build, tests and demo need.
#
#   scripts/deps.sh            install what is missing (make check, make demo
#                              and .ci/run call this first)
#   scripts/deps.sh --check    only say what is missing (exit 1 if anything)
#   scripts/deps.sh --list     print the package list, one per line
#   scripts/deps.sh --tools    print "tool package" for the programs the tests
#                              run (tests/deps/run.sh checks both lists)
#
# Installing runs apt-get (through sudo when not root), after printing the
# packages it is about to install.  Without root and without sudo it stops
# with one line naming the missing packages and the command to run.  When
# everything is installed it prints nothing and costs one dpkg-query.
set -u

# Build: the compiler, the fuzzing toolchain and the libraries linked in
# (libslirp only into the khyve-slirp helper, dynamically).
BUILD_PKGS="build-essential make clang llvm libclang-rt-14-dev
	zlib1g-dev liblzma-dev liblz4-dev libzstd-dev libbz2-dev liblzo2-dev
	libseccomp-dev liburing-dev libslirp-dev"
# Tests, benchmarks and the demo: QEMU to compare with (and its firmware),
# the guest userland and the initramfs tools, the script helpers, passt
# (the passt network backend's peer).
TEST_PKGS="qemu-system-x86 seabios ipxe-qemu busybox-static cpio gzip
	xz-utils lz4 zstd bzip2 lzop ca-certificates python3 iproute2 binutils
	procps git bsdextrautils passt time"

# Programs the test and benchmark scripts run, and where they come from.
# Programs of Debian's Essential packages (coreutils, grep, sed, ...) need
# no entry.
TOOLS="qemu-system-x86_64 qemu-system-x86
clang clang
llvm-symbolizer llvm
busybox busybox-static
cpio cpio
gzip gzip
xz xz-utils
lz4 lz4
zstd zstd
bzip2 bzip2
lzop lzop
python3 python3
ss iproute2
readelf binutils
objdump binutils
nm binutils
objcopy binutils
pgrep procps
ps procps
git git
hexdump bsdextrautils
passt passt
time time"

packages() { printf '%s\n' $BUILD_PKGS $TEST_PKGS; }

# One dpkg-query for all of them; a package it does not know is missing.
missing() {
	local have
	have=$(dpkg-query -W -f='${Package} ${Status}\n' $(packages) 2>/dev/null |
	    sed -n 's/^\([^ :]*\)[^ ]* .* installed$/\1/p')
	packages | grep -vxF -f <(printf '%s\n' "$have")
}

case ${1:-} in
--list)
	packages
	exit 0
	;;
--tools)
	printf '%s\n' "$TOOLS"
	exit 0
	;;
--check | "") ;;
*)
	echo "usage: scripts/deps.sh [--check | --list | --tools]" >&2
	exit 2
	;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian system (no dpkg-query): install by hand:" \
	    $(packages) >&2
	exit 1
fi
need=$(missing | tr '\n' ' ')
need=${need% }
[ -n "$need" ] || exit 0
if [ "${1:-}" = --check ]; then
	echo "deps: missing packages: $need"
	exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1 &&
    { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
	sudo=sudo		# may ask for the password on the terminal
else
	echo "deps: missing packages: $need; install them with:" \
	    "sudo apt-get install -y --no-install-recommends $need" >&2
	exit 1
fi
echo "deps: installing: $need"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update only then, or when
# the first install attempt cannot find a package.
if ! $sudo apt-get install -y -q --no-install-recommends $need; then
	$sudo apt-get update -q &&
	    $sudo apt-get install -y -q --no-install-recommends $need || {
		echo "deps: apt-get could not install: $need" >&2
		exit 1
	}
fi
exit 0
