#!/usr/bin/env bash
# run.sh BUILD: the Linux boot tests.  khyve boots the Debian cloud kernel
# with an initramfs from mkinitramfs.sh and each test checks khyve's exit
# status and the guest's console:
#
#   linux:poweroff          test-poweroff, -c 2 -m 256M: the guest sees 2
#                           CPUs, the RAM, the RTC's time, the ACPI tables
#                           and its console on ttyS0 (KHYVE-RESULT PASS),
#                           then poweroff -f: ACPI S5, exit status 1
#   linux:reboot            test-reboot, -c 1, -o boot.decompress=guest
#                           (the kernel's own decompressor runs, where
#                           poweroff and acpid have khyve decompress it):
#                           reboot -f, exit status 0
#   linux:acpid             test-acpid, -c 1, -o poweroff.grace=0: SIGTERM
#                           to khyve once the guest's acpid is ready; khyve
#                           presses the ACPI power button, acpid powers
#                           off: exit status 1
#   linux:vda               test-vda, -c 1, -s 3,virtio-blk,IMG,ser=...: an
#                           8 MiB image made here with a known pattern
#                           (BUILD/linux/vda.img); the guest loads only the
#                           virtio-blk driver and what it needs, checks the
#                           disk's size, serial, flags, reads known sectors
#                           and the whole disk, writes (and, where the
#                           image's filesystem can punch holes, discards)
#                           ranges, reads them back (KHYVE-RESULT PASS),
#                           powers off: exit status 1; then the image must
#                           hold exactly what those writes make of it
#   linux:net               test-net, -c 1, -s 3,virtio-net,slirp with
#                           open=true and a host forward to the guest's
#                           port 8080: the guest loads only virtio-net and
#                           what it needs, checks its MAC (the one bhyve's
#                           rule derives), gets 10.0.2.15 by DHCP,
#                           downloads a file from an HTTP server this
#                           script runs on 127.0.0.1 (through the router
#                           10.0.2.2; md5 checked), then serves a token on
#                           port 8080 that this script reads through the
#                           host forward; powers off: exit status 1
#
# First it runs selftest.sh (the guest side alone, under QEMU with TCG).
# A boot takes minutes where KVM emulates guest kernel code (a nested,
# software-assisted KVM such as kvm_pvm): each has a generous time limit,
# two run at once.  A failure prints the reason and the end of the guest's
# console; full logs stay in BUILD/linux/.  Without /dev/kvm, or when the
# packages cannot be fetched, each test prints SKIP with the reason.
#
# Environment:
#   KHYVE_LINUX_TESTS    tests to run (names without "linux:"), default
#                        all; "none" skips every boot
#   KHYVE_LINUX_TIMEOUT  seconds per boot, default 600 (1200 on a kvm_pvm
#                        host)
#   KHYVE_LINUX_JOBS     boots at once, default 2
#   KHYVE_LINUX_QEMU=0   skip the QEMU boots of the self-test
#   KHYVE_LINUX_SELFTEST=0  skip the self-test altogether (one SKIP line)
set -u

BUILD=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 2
khyve=$BUILD/khyve
cache=$BUILD/cache
linux_out=$BUILD/linux
# Where KVM emulates guest kernel code (kvm_pvm) a boot takes minutes of a
# core: two at once (one a core), each allowed 20 minutes.
pvm_host=0
[ -e /sys/module/kvm_pvm ] && pvm_host=1
if [ $pvm_host -eq 1 ]; then
	linux_timeout=${KHYVE_LINUX_TIMEOUT:-1200}
else
	linux_timeout=${KHYVE_LINUX_TIMEOUT:-600}
fi
jobs=${KHYVE_LINUX_JOBS:-2}
all="poweroff reboot acpid vda net"
want=${KHYVE_LINUX_TESTS:-$all}
# shellcheck source=tests/linux/harness.sh
. "$here/harness.sh"

mkdir -p "$linux_out"

skip_all() {
	linux_banner "Linux boot tests SKIPPED: $1"
	for t in $all; do
		echo "SKIP linux:$t: $1"
	done
	exit 0
}

# Fetch first: run-all.sh's unit tests wait for fetch.done to try the
# bzImage parser on the real kernel.
rm -f "$linux_out/fetch.done"
"$here/fetch.sh" "$cache" >"$linux_out/fetch.log" 2>&1
fetched=$?
: >"$linux_out/fetch.done"

selftest=0
if [ "${KHYVE_LINUX_SELFTEST:-1}" = 0 ]; then
	echo "SKIP linux-guest:selftest: KHYVE_LINUX_SELFTEST=0"
else
	"$here/selftest.sh" "$BUILD"
	selftest=$?
fi

if [ "$want" = none ]; then
	skip_all "${KHYVE_LINUX_SKIP_REASON:-KHYVE_LINUX_TESTS=none}"
fi
if [ ! -e /dev/kvm ]; then
	skip_all "/dev/kvm is missing (no KVM on this host)"
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip_all "/dev/kvm is not readable and writable by $(id -un)"
fi
if [ $fetched -ne 0 ]; then
	sed 's/^/  /' "$linux_out/fetch.log"
	skip_all "fetching the kernel and busybox packages failed (no network?)"
fi
# Only the archives of the boots asked for (each test-NAME).
modes=
for t in $want; do
	case " $all " in
	*" $t "*) modes="$modes test-$t" ;;
	esac
done
for mode in $modes; do
	if ! "$here/mkinitramfs.sh" "$cache" "$linux_out/$mode.cpio" "$mode" \
	    >"$linux_out/mkinitramfs-$mode.log" 2>&1; then
		sed 's/^/  /' "$linux_out/mkinitramfs-$mode.log"
		for t in $all; do
			echo "FAIL linux:$t (mkinitramfs.sh $mode failed)"
		done
		exit 1
	fi
done
if [ ! -x "$khyve" ]; then
	for t in $all; do
		echo "FAIL linux:$t (no $khyve: run make)"
	done
	exit 1
fi

# On a host whose KVM emulates guest kernel code (kvm_pvm) the boots also
# skip, for speed, kernel set-up that no test uses (khyve itself adds the
# switches every Linux guest needs there, x86.pvm_quirks).  Measured on a
# 2-core PVM host, 1 vCPU, 256 MiB: 382 s from exec to poweroff without
# these, 267 s with them (418 and 245 million emulated instructions).
#   initcall_blacklist=
#     tracer_init_tracefs      the tracing filesystem: a directory of files
#                              for each of ~1,800 trace events, ~40 s
#     cubictcp_register, bpf_rstat_kfunc_init, bpf_prog_test_run_init,
#     bpf_key_sig_kfuncs_init, bpf_tcp_ca_kfunc_init, kfunc_init
#                              BPF kfunc sets: the first one registered makes
#                              the kernel parse its own 5 MB of BTF, ~60 s
#                              (the guests have no network; without CUBIC,
#                              TCP would use Reno)
#     slab_sysfs_init          /sys/kernel/slab, ~27 s
#   ipv6.disable=1             ~5-15 s of IPv6 set-up
#   mitigations=off            retpolines, return thunks and RSB filling:
#                              4% of the emulated instructions
# An initcall name a kernel does not have is ignored.
test_switches=
if [ $pvm_host -eq 1 ]; then
	test_switches="initcall_blacklist=tracer_init_tracefs,cubictcp_register"
	test_switches="$test_switches,bpf_rstat_kfunc_init,bpf_prog_test_run_init"
	test_switches="$test_switches,bpf_key_sig_kfuncs_init,bpf_tcp_ca_kfunc_init"
	test_switches="$test_switches,kfunc_init,slab_sysfs_init"
	test_switches="$test_switches ipv6.disable=1 mitigations=off"
	echo "linux: this host's KVM emulates guest kernel code (kvm_pvm):" \
	    "each boot takes about 4-6 minutes of a core (more with -c 2" \
	    "or the guest's own decompressor)"
fi

# khyve_boot NAME MODE CPUS WANT_STATUS MARKERS ACTION [KHYVE ARGS...]:
# $extra_cmdline, if set, goes on the kernel command line too.
khyve_boot() {
	local name=$1 mode=$2 cpus=$3 want_rc=$4 markers=$5 action=$6
	shift 6
	linux_boot "linux:$name" "$want_rc" "$markers" "$action" \
	    "$khyve" -c "$cpus" -m 256M -u -s 0,hostbridge -s 31,lpc \
	    -l com1,stdio "$@" \
	    --kernel "$cache/vmlinuz" --initrd "$linux_out/$mode.cpio" \
	    --cmdline "console=ttyS0 expect_cpus=$cpus expect_mem_mb=256 expect_epoch=$(date +%s)${extra_cmdline:+ $extra_cmdline}${test_switches:+ $test_switches}" \
	    "linux-$name"
}

# After linux:vda's boot: the image holds exactly what the guest wrote.
vda_check() { vda_verify "$linux_out/vda"; }

# linux:net: a free TCP port on the host's loopback.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# net_act LOG PIDFILE FIFO: once the guest serves, read its token through
# the host forward (into $linux_out/net/got).  The forward accepts at once
# and the guest's server may not listen yet (the guest then resets the
# connection: EOF here), so try again every 2 s, for 2 minutes.
net_act() {
	linux_wait_for "$1" 'KHYVE-READY' "$2" 100000 || return 0
	python3 - "$net_fwd" >"$linux_out/net/got" 2>"$linux_out/net/got.err" <<'PY'
import socket, sys, time
for attempt in range(60):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
        data = b""
        while b"\n" not in data and len(data) < 64:
            b = s.recv(64)
            if not b:
                break
            data += b
        s.close()
        if data:
            sys.stdout.write(data.decode(errors="replace"))
            sys.exit(0)
    except OSError as e:
        print(f"attempt {attempt}: {e}", file=sys.stderr)
    time.sleep(2)
print("no data through the host forward in 60 attempts", file=sys.stderr)
PY
}
net_check() {
	local got
	got=$(tr -d '\r\n' <"$linux_out/net/got" 2>/dev/null)
	[ "$got" = "$net_token" ] && return 0
	echo "the host forward gave '${got}', want '$net_token' ($(tail -n 1 "$linux_out/net/got.err" 2>/dev/null))"
	return 1
}
# A MAC by bhyve's rule (net_genmac: MD5 of "SLOT-FUNC-NAME", OUI 00:a0:98).
bhyve_mac() {
	printf '%s' "$1" | md5sum | sed 's/^\(..\)\(..\)\(..\).*/00:a0:98:\1:\2:\3/'
}

run_test() {
	case $1 in
	poweroff)
		khyve_boot poweroff test-poweroff 2 1 "KHYVE-RESULT PASS" - ;;
	reboot)
		khyve_boot reboot test-reboot 1 0 "KHYVE-REBOOT" - \
		    -o boot.decompress=guest ;;
	acpid)
		# Shutting down takes this host minutes: no poweroff.grace,
		# so the guest's own power-off is what is tested.
		khyve_boot acpid test-acpid 1 1 "KHYVE-READY" \
		    linux_act_sigterm -o poweroff.grace=0 ;;
	vda)
		# A fresh disk each time; the expectations go on the kernel
		# command line (harness.sh, vda_prepare).
		if ! vda_prepare "$linux_out/vda" \
		    >"$linux_out/vda-prepare.log" 2>&1; then
			echo "FAIL linux:vda (cannot make the disk image:" \
			    "$(tail -n 1 "$linux_out/vda-prepare.log"))"
			return
		fi
		linux_check=vda_check extra_cmdline=$vda_cmdline \
		    khyve_boot vda test-vda 1 1 "KHYVE-RESULT PASS" - \
		    -s "3,virtio-blk,$linux_out/vda.img,ser=$vda_serial" ;;
	net)
		if [ ! -x "$BUILD/khyve-slirp" ]; then
			echo "FAIL linux:net (no $BUILD/khyve-slirp: run make)"
			return
		fi
		mkdir -p "$linux_out/net/www"
		rm -f "$linux_out/net/got"
		head -c 262144 /dev/urandom >"$linux_out/net/www/blob"
		local md5 hport srv
		md5=$(md5sum <"$linux_out/net/www/blob" | cut -d' ' -f1)
		hport=$(free_port)
		net_fwd=$(free_port)
		net_token=khyve-net-$$-$RANDOM
		python3 -m http.server --bind 127.0.0.1 --directory \
		    "$linux_out/net/www" "$hport" >"$linux_out/net/http.log" 2>&1 &
		srv=$!
		linux_check=net_check extra_cmdline="net_url=http://10.0.2.2:$hport/blob net_md5=$md5 net_token=$net_token net_mac=$(bhyve_mac 3-0-linux-net)" \
		    khyve_boot net test-net 1 1 "KHYVE-RESULT PASS" net_act \
		    -s "3,virtio-net,slirp,open=true,hostfwd=tcp:127.0.0.1:$net_fwd-:8080"
		kill "$srv" 2>/dev/null
		wait "$srv" 2>/dev/null ;;
	*)
		echo "FAIL linux:$1 (no such test; have: $all)" ;;
	esac
}

# Run up to $jobs boots at once; print each one's result in order once all
# are done (progress goes to the terminal as they finish).
running=0
for t in $want; do
	if [ $running -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	echo "linux: starting linux:$t"
	(run_test "$t" >"$linux_out/$t.result" 2>&1
	    echo "linux: linux:$t finished: $(head -n 1 "$linux_out/$t.result")") &
	running=$((running + 1))
done
wait
status=$selftest
for t in $want; do
	cat "$linux_out/$t.result"
	grep -q '^PASS ' "$linux_out/$t.result" || status=1
done
exit $status
