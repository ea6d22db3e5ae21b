#!/usr/bin/env bash
# sandbox.sh BUILD: the sandbox of a running khyve, seen from /proc
# (SECURITY.md, "How each guarantee is tested").
#
# The pwrbtn guest waits for the power button, so khyve stays up while
# its threads' /proc/PID/task/TID/status are read; SIGTERM ends it.
#   sandbox-filters    NoNewPrivs 1, Seccomp 2 (filter) on every thread;
#                      the event loop and each vCPU thread 2 filters (the
#                      process one and its own), the device workers 1
#   sandbox-off        -o sandbox=false: no filter at all
#   sandbox-user       as root with -o user=nobody: every thread's real,
#                      effective, saved and file-system IDs are nobody's,
#                      no supplementary groups, no capabilities
#   sandbox-user-bad   user=no-such-user: status 64 and one line;
#                      user=root as nobody: status 4 and one line
# One line per case: PASS guest:NAME, FAIL guest:NAME (why), or SKIP.
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
KHYVE=$BUILD/khyve
ELF=$BUILD/guest/pwrbtn.elf
TIMEOUT=${GUEST_TIMEOUT:-120}
work=$(mktemp -d)
chmod 0755 "$work"
kpid=
trap '[ -n "$kpid" ] && kill -KILL "$kpid" 2>/dev/null; wait; rm -rf "$work"' EXIT
failed=0

if [ ! -e /dev/kvm ] || ! (exec 3<>/dev/kvm) 2>/dev/null; then
	echo "SKIP guest:sandbox: /dev/kvm cannot be used on this host"
	exit 0
fi

# start NAME WRAP... -- KHYVE-OPTIONS...: khyve with the pwrbtn guest and
# a virtio-rnd (a device worker), in the background; waits for READY.
start() {
	local name=$1 wrap=() end
	shift
	while [ "$1" != -- ]; do wrap+=("$1"); shift; done
	shift
	: >"$work/$name.out"
	"${wrap[@]}" "$KHYVE" -c 2 -m 64M -u "$@" -s 0,hostbridge \
	    -s 3,virtio-rnd -s 31,lpc -l com1,stdio --kernel "$ELF" "g$name" \
	    </dev/null >"$work/$name.out" 2>"$work/$name.err" &
	kpid=$!
	end=$((SECONDS + TIMEOUT))
	until tr -d '\r' <"$work/$name.out" | grep -q '^READY$'; do
		if ! kill -0 "$kpid" 2>/dev/null || [ $SECONDS -ge $end ]; then
			return 1
		fi
		sleep 0.1
	done
}

# stop: SIGTERM presses the button; the guest powers off (status 1).
stop() {
	local rc
	kill -TERM "$kpid"
	wait "$kpid"
	rc=$?
	kpid=
	return $rc
}

# field PID TID KEY: a line's value from the thread's status.
field() {
	sed -n "s/^$3:[[:space:]]*//p" "/proc/$1/task/$2/status" 2>/dev/null
}

# khyve's own pid: under setpriv it is the same (exec), as under unshare.
threads() {
	ls "/proc/$kpid/task"
}

report() {
	if [ -z "$2" ]; then
		echo "PASS guest:$1"
	else
		failed=1
		echo "FAIL guest:$1 ($2)"
		tr -d '\r' <"$work/$1.err" | tail -n 10 | sed 's/^/    /'
	fi
}

# ---- the filters, per thread
why=
if start sandbox-filters --; then
	n_vcpu=0 n_loop=0 n_worker=0
	for t in $(threads); do
		comm=$(cat "/proc/$kpid/task/$t/comm" 2>/dev/null)
		# KVM's own kernel worker (kvm-nx-lpage-recovery) is listed
		# among the process's tasks; it runs no user code.
		case $comm in kvm-*) continue ;; esac
		nnp=$(field "$kpid" "$t" NoNewPrivs)
		mode=$(field "$kpid" "$t" Seccomp)
		nf=$(field "$kpid" "$t" Seccomp_filters)
		if [ "$nnp" != 1 ] || [ "$mode" != 2 ]; then
			why="thread $t ($comm): NoNewPrivs $nnp, Seccomp $mode"
			break
		fi
		case $comm in
		"vcpu "*) want=2; n_vcpu=$((n_vcpu + 1)) ;;
		khyve) want=2; n_loop=$((n_loop + 1)) ;;
		*) want=1; n_worker=$((n_worker + 1)) ;;
		esac
		if [ "$nf" != "$want" ]; then
			why="thread $t ($comm): $nf filters, want $want"
			break
		fi
	done
	if [ -z "$why" ] && { [ $n_vcpu -ne 2 ] || [ $n_loop -ne 1 ] ||
	    [ $n_worker -lt 1 ]; }; then
		why="threads seen: $n_vcpu vCPU, $n_loop event loop, $n_worker workers"
	fi
	stop
	rc=$?
	[ -z "$why" ] && [ $rc -ne 1 ] && why="exit status $rc after SIGTERM, expected 1"
else
	why="the guest never said READY"
fi
report sandbox-filters "$why"

# ---- sandbox=false
why=
if start sandbox-off -- -o sandbox=false; then
	for t in $(threads); do
		mode=$(field "$kpid" "$t" Seccomp)
		[ "$mode" != 0 ] && why="thread $t: Seccomp $mode with sandbox=false"
	done
	stop
else
	why="the guest never said READY"
fi
report sandbox-off "$why"

# ---- user=nobody, started as root
if [ "$(id -u)" != 0 ]; then
	echo "SKIP guest:sandbox-user: not root (user= needs root)"
elif ! uid=$(id -u nobody 2>/dev/null); then
	echo "SKIP guest:sandbox-user: no user nobody"
else
	why=
	gid=$(id -g nobody)
	if start sandbox-user -- -o user=nobody; then
		for t in $(threads); do
			case $(cat "/proc/$kpid/task/$t/comm") in kvm-*) continue ;; esac
			u=$(field "$kpid" "$t" Uid | tr -s '\t ' ' ')
			g=$(field "$kpid" "$t" Gid | tr -s '\t ' ' ')
			grp=$(field "$kpid" "$t" Groups)
			cap=$(field "$kpid" "$t" CapEff)
			if [ "$u" != "$uid $uid $uid $uid" ] ||
			    [ "$g" != "$gid $gid $gid $gid" ] || [ -n "$grp" ] ||
			    [ "$cap" != 0000000000000000 ]; then
				why="thread $t: Uid $u, Gid $g, Groups '$grp', CapEff $cap"
				break
			fi
		done
		stop
		rc=$?
		[ -z "$why" ] && [ $rc -ne 1 ] && why="exit status $rc, expected 1"
	else
		why="the guest never said READY"
	fi
	report sandbox-user "$why"

	why=
	timeout -k 5 "$TIMEOUT" "$KHYVE" -o user=no-such-user-khyve -m 64M \
	    -s 0,hostbridge -s 31,lpc -l com1,stdio --kernel "$ELF" gbad \
	    </dev/null >"$work/sandbox-user-bad.out" 2>"$work/sandbox-user-bad.err"
	rc=$?
	if [ $rc -ne 64 ]; then
		why="user=no-such-user-khyve: exit status $rc, expected 64"
	elif ! grep -q '^khyve: user=no-such-user-khyve: no such user' \
	    "$work/sandbox-user-bad.err"; then
		why="user=no-such-user-khyve: no line naming the problem"
	else
		timeout -k 5 "$TIMEOUT" unshare -m tests/guest/asuser.sh nobody \
		    "$KHYVE" -o user=root -m 64M -s 0,hostbridge -s 31,lpc \
		    -l com1,stdio --kernel "$ELF" gbad </dev/null \
		    >"$work/sandbox-user-bad.out" 2>"$work/sandbox-user-bad.err"
		rc=$?
		if [ $rc -ne 4 ]; then
			why="user=root as nobody: exit status $rc, expected 4"
		elif ! grep -q '^khyve: user=root: cannot become that user' \
		    "$work/sandbox-user-bad.err"; then
			why="user=root as nobody: no line naming the problem"
		fi
	fi
	report sandbox-user-bad "$why"
fi
exit $failed
