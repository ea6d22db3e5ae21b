#!/bin/sh
# tapns.sh IFNAME ADDR/PREFIX CMD [ARG...]: run under `unshare -n` (a
# network namespace of its own): a persistent multi-queue tap IFNAME,
# the host's end with ADDR, up; then CMD in its place (same pid, so the
# caller's timeout and kill reach CMD).
set -e
ifn=$1 addr=$2
shift 2
ip link set lo up
ip tuntap add dev "$ifn" mode tap multi_queue
ip addr add "$addr" dev "$ifn"
ip link set "$ifn" up
exec "$@"
