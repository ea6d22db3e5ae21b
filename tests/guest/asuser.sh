#!/bin/sh
# asuser.sh USER CMD [ARG...]: run under `unshare -m` (a mount namespace
# of its own, as root): /dev/kvm (and /dev/net/tun) replaced, in this
# namespace only, by nodes USER owns with mode 0600, as a host with a
# kvm group gives its users; then CMD as USER, with no supplementary
# groups and no capabilities, in the caller's place (same pid, so the
# caller's timeout and kill reach CMD).
set -e
user=$1
shift
dir=$(mktemp -d)
mount -t tmpfs -o mode=0755 khyve-dev "$dir"
for dev in kvm:10:232 tun:10:200; do
	name=${dev%%:*}
	rest=${dev#*:}
	path=/dev/$name
	[ "$name" = tun ] && path=/dev/net/tun
	[ -c "$path" ] || continue
	mknod "$dir/$name" c "${rest%%:*}" "${rest#*:}"
	chown "$user" "$dir/$name"
	chmod 0600 "$dir/$name"
	mount --bind "$dir/$name" "$path"
done
uid=$(id -u "$user")
gid=$(id -g "$user")
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups \
    --inh-caps=-all --bounding-set=-all -- "$@"
