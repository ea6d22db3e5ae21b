#!/usr/bin/env bash
# demo.sh BUILD [KHYVE ARGS...]: `make demo`.  Fetch the Debian cloud kernel
# and busybox (once, into BUILD/cache), build the demo initramfs and boot it
# with khyve to a shell on this terminal.  Extra arguments go to khyve
# before the VM name (for example -s 2,virtio-blk,disk.img).  Exits with
# khyve's status: 1 after poweroff, 0 after reboot.
set -euo pipefail

BUILD=${1:-build}
[ $# -eq 0 ] || shift
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"
cache=$BUILD/cache
khyve=$BUILD/khyve
# The host port forwarded to the guest's web server (port 80).
http_port=${DEMO_HTTP_PORT:-8080}

[ -x "$khyve" ] || { echo "demo: no $khyve: run make first" >&2; exit 2; }
"$here/fetch.sh" "$cache"
"$here/mkinitramfs.sh" "$cache" "$cache/demo.cpio" demo

if [ -e /sys/module/kvm_pvm ]; then
	how_long="5 to 10 minutes: this host's KVM (kvm_pvm) emulates guest
  kernel code instruction by instruction; user space then runs at full speed"
else
	how_long="a few seconds"
fi
cat <<EOF

khyve demo: booting Linux $(cat "$cache/kernel-version") with 2 vCPUs and
512 MiB, console on this terminal (COM1).  The kernel reaches the shell in
  $how_long.
At the shell prompt:
  poweroff   power the guest off (khyve exits with status 1)
  reboot     reset the guest (khyve exits with status 0)
  exit       leave the shell: the guest powers off
The guest is on a user-mode network (virtio-net, slirp: no root needed)
and runs a web server; from another terminal, once it says so:
  curl http://127.0.0.1:$http_port/
From another terminal, \`kill -TERM <khyve pid>\` presses the ACPI power
button: the guest shuts down cleanly (slowly on a nested host: the demo
gives it 10 minutes, -o poweroff.grace=600, before khyve stops the VM).

EOF

exec "$khyve" -c 2 -m 512M -u -s 0,hostbridge -s 31,lpc -l com1,stdio \
    -s "2,virtio-net,slirp,hostfwd=tcp:127.0.0.1:$http_port-:80" \
    --kernel "$cache/vmlinuz" --initrd "$cache/demo.cpio" \
    --cmdline "console=ttyS0" -o poweroff.grace=600 "$@" demo
