#!/usr/bin/env bash
# fetch.sh [CACHE_DIR]: fetch the guest kernel and userland for the Linux
# boot tests and `make demo`, without installing anything on the host.
#
# Leaves in CACHE_DIR (default build/cache):
#   vmlinuz         the Debian cloud kernel's bzImage (boot/vmlinuz-*)
#   modules/        its lib/modules/<version> tree
#   kernel-version  <version>
#   kernel-config   its build configuration (boot/config-<version>)
#   busybox         the static busybox binary
#   debs/           the downloaded .deb files
#
# Packages: linux-image-cloud-amd64 resolved to the versioned
# linux-image-6.1.*-cloud-amd64 it depends on, and busybox-static, both with
# `apt-get download` and unpacked with `dpkg -x`.  `apt-get update` runs only
# when a package is unknown.  Work already done is skipped, so running it
# again is cheap.  Exit status: 0 done, 1 failure (message on stderr).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${1:-$top/build/cache}

say() { printf 'fetch: %s\n' "$*"; }
die() { printf 'fetch: error: %s\n' "$*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg dpkg-deb; do
	command -v "$tool" >/dev/null 2>&1 ||
	    die "'$tool' not found: fetch.sh needs a Debian or Debian-based host"
done

if [ -s "$cache/vmlinuz" ] && [ -s "$cache/modules/modules.dep" ] &&
    [ -x "$cache/busybox" ] && [ -s "$cache/kernel-version" ]; then
	say "cache complete in $cache (kernel $(cat "$cache/kernel-version"))"
	exit 0
fi

mkdir -p "$cache/debs" || die "cannot create $cache/debs"
cache=$(cd "$cache" && pwd)

updated=0
apt_update() {
	[ $updated -eq 0 ] || return 0
	updated=1
	say "package lists do not know $1: running apt-get update"
	apt-get update -qq >/dev/null 2>&1 ||
	    die "apt-get update failed (no network or no apt sources?)"
}

# The versioned kernel package the metapackage depends on, e.g.
# linux-image-6.1.0-56-cloud-amd64.
kernel_package() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	    sed -n 's/^ *|\{0,1\}Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' |
	    head -n 1 || true
}

known() { apt-cache show "$1" >/dev/null 2>&1; }

kpkg=$(kernel_package)
if [ -z "$kpkg" ]; then
	apt_update linux-image-cloud-amd64
	kpkg=$(kernel_package)
fi
[ -n "$kpkg" ] ||
    die "cannot resolve linux-image-cloud-amd64 to a kernel package"
known busybox-static || apt_update busybox-static
known busybox-static || die "package busybox-static not found"

# download PACKAGE: leave its .deb in debs/ (once) and set $deb to its path.
download() {
	local pkg=$1
	deb=$(ls "$cache/debs/${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -n "$deb" ]; then
		say "have $(basename "$deb")"
		return 0
	fi
	say "downloading $pkg"
	# Root's downloads would otherwise go through the _apt user, which
	# may not be able to write into the cache.
	(cd "$cache/debs" && apt-get download -q \
	    -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
	    die "apt-get download $pkg failed (no network?)"
	deb=$(ls "$cache/debs/${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
	[ -n "$deb" ] || die "apt-get download $pkg left no .deb"
}

download "$kpkg"
kdeb=$deb
download busybox-static
bdeb=$deb

# Unpack into a scratch directory and move the results into place, so an
# interrupted run never leaves a half-filled cache that looks complete.
tmp=$(mktemp -d "$cache/unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$cache/busybox" ]; then
	say "unpacking $(basename "$bdeb")"
	dpkg -x "$bdeb" "$tmp/b" || die "dpkg -x $bdeb failed"
	[ -x "$tmp/b/bin/busybox" ] ||
	    die "$(basename "$bdeb") has no bin/busybox"
	mv "$tmp/b/bin/busybox" "$cache/busybox"
	say "busybox: $cache/busybox"
fi

if [ ! -s "$cache/vmlinuz" ] || [ ! -s "$cache/modules/modules.dep" ] ||
    [ ! -s "$cache/kernel-version" ]; then
	say "unpacking $(basename "$kdeb")"
	dpkg -x "$kdeb" "$tmp/k" || die "dpkg -x $kdeb failed"
	set -- "$tmp"/k/boot/vmlinuz-*
	if [ $# -ne 1 ] || [ ! -f "$1" ]; then
		die "$(basename "$kdeb") holds no single boot/vmlinuz-*"
	fi
	kimg=$1
	kver=${kimg##*/vmlinuz-}
	mdir=$tmp/k/lib/modules/$kver
	[ -d "$mdir/kernel" ] ||
	    die "$(basename "$kdeb") has no lib/modules/$kver/kernel/"
	# Debian generates modules.dep in the package's postinst, so the
	# .deb has none: make it with kmod's depmod when the host has one,
	# else with busybox's (same format, a module's full dependency
	# list on its line).
	if command -v depmod >/dev/null 2>&1; then
		depmod -b "$tmp/k" "$kver" || die "depmod failed"
	else
		"$cache/busybox" depmod -b "$tmp/k" "$kver" ||
		    die "busybox depmod failed"
	fi
	[ -s "$mdir/modules.dep" ] || die "depmod wrote no modules.dep"
	rm -rf "$cache/modules" "$cache/vmlinuz" "$cache/kernel-version"
	mv "$mdir" "$cache/modules"
	mv "$kimg" "$cache/vmlinuz"
	mv "$tmp/k/boot/config-$kver" "$cache/kernel-config" 2>/dev/null || true
	printf '%s\n' "$kver" >"$cache/kernel-version"
	say "kernel $kver: $cache/vmlinuz, $cache/modules/"
fi

say "cache complete in $cache (kernel $(cat "$cache/kernel-version"))"
