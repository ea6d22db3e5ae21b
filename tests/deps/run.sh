#!/usr/bin/env bash
# tests/deps/run.sh: scripts/deps.sh names everything the build and the
# tests use, so that a new dependency cannot be forgotten (the README's
# commands install from that list on a fresh machine).
#
#   deps:headers   every header a C file includes (cc -M) comes from a
#                  listed package or one it depends on
#   deps:libs      every -l library of the Makefile, likewise
#   deps:tools     every program the scripts run comes from a listed
#                  package, one they depend on, or a package every Debian
#                  system has (Essential or Priority: required); the
#                  TOOLS table of deps.sh points at listed packages
#   deps:installed scripts/deps.sh --check finds nothing missing here
#
# Needs dpkg and apt-cache (a Debian system): SKIP otherwise.
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for t in dpkg dpkg-query apt-cache; do
	if ! command -v $t >/dev/null 2>&1; then
		for n in headers libs tools installed; do
			echo "SKIP deps:$n: $t not found (not a Debian system)"
		done
		exit 0
	fi
done

scripts/deps.sh --list | sort -u >"$work/listed"
# The listed packages and everything they depend on.
apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances $(cat "$work/listed") 2>/dev/null |
    sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: \([^ <>]*\).*/\2/p;
	    s/^\([a-z0-9][^ ]*\)$/\1/p' | sed 's/:.*//' |
    sort -u >"$work/closure"
# Packages every Debian system has.
dpkg-query -W -f='${Package} ${Essential} ${Priority}\n' 2>/dev/null |
    awk '$2 == "yes" || $3 == "required" { print $1 }' | sort -u >"$work/base"
sort -u "$work/closure" "$work/base" "$work/listed" >"$work/ok"

# owners FILE...: "package path" for each path dpkg knows.
owners() {
	dpkg -S "$@" 2>/dev/null | sed 's/^\([^:]*\)\(:[a-z0-9]*\)\{0,1\}: /\1 /' |
	    tr ',' '\n' | sed 's/^ *//'
}

# check NAME WHAT LIST: each line "package path" of LIST must name an ok
# package; a path no package owns is a failure too.
check() {
	local name=$1 what=$2 list=$3 bad
	bad=$(awk 'NR == FNR { ok[$1] = 1; next } !($1 in ok)' \
	    "$work/ok" "$list")
	if [ -z "$bad" ] && [ -s "$list" ]; then
		echo "PASS deps:$name ($(wc -l <"$list") $what)"
	else
		echo "FAIL deps:$name (not covered by scripts/deps.sh:)"
		printf '%s\n' "${bad:-(nothing found to check)}" | sed 's/^/    /'
		failed=1
	fi
}
failed=0

# Headers: what the compiler really opens for the C files, outside the
# tree (one cc -M for all of them).
files=$(find src tests fuzz bench helper -name '*.c' | sort)
# shellcheck disable=SC2086 # one word per file
cc -std=c11 -D_GNU_SOURCE -Isrc -Itests/unit -Itests/guest/kit -M $files \
    2>"$work/cc.err" | tr ' \\' '\n\n' | grep '^/' | sort -u |
    xargs -r realpath -e 2>/dev/null | sort -u >"$work/hpaths"
[ -s "$work/cc.err" ] && sed 's/^/    cc: /' "$work/cc.err" | head -5
xargs -r -a "$work/hpaths" dpkg -S 2>/dev/null |
    sed 's/^\([^:]*\)\(:[a-z0-9]*\)\{0,1\}: /\1 /' |
    sort -u >"$work/hown"
cut -d' ' -f2 "$work/hown" | sort -u >"$work/howned"
comm -23 "$work/hpaths" "$work/howned" | sed 's/^/(no package) /' \
    >>"$work/hown"
check headers "headers" "$work/hown"

# Libraries on the Makefile's LDLIBS lines (khyve links them statically).
: >"$work/lpaths"
for l in $(grep -E '^LDLIBS' Makefile | grep -oE -- '-l[a-z0-9_]+' |
    sed 's/^-l//' | sort -u); do
	p=$(ls /usr/lib/x86_64-linux-gnu/lib"$l".a /usr/lib/lib"$l".a \
	    2>/dev/null | head -n 1)
	echo "${p:-/nonexistent/lib$l.a}" >>"$work/lpaths"
done
# The slirp helper links its libraries dynamically: their .so.
for l in $(grep -E '^SLIRP_HELPER_LIBS' Makefile | grep -oE -- '-l[a-z0-9_]+' |
    sed 's/^-l//' | sort -u); do
	p=$(ls /usr/lib/x86_64-linux-gnu/lib"$l".so /usr/lib/lib"$l".so \
	    2>/dev/null | head -n 1)
	echo "${p:-/nonexistent/lib$l.so}" >>"$work/lpaths"
done
owners $(cat "$work/lpaths") | sort -u >"$work/lown"
cut -d' ' -f2 "$work/lown" | sort -u >"$work/lowned"
sort -u "$work/lpaths" | comm -23 - "$work/lowned" |
    sed 's/^/(no package) /' >>"$work/lown"
check libs "libraries" "$work/lown"

# Programs: the words in command position in the shell scripts and the
# Makefile that name a program on PATH.  A word can also be plain text in
# a message; that costs at most a look-up.  tests/linux/guest/ holds
# scripts the guest's busybox runs, not the host.
scripts=$(find tests bench scripts .ci -name '*.sh' -o -name run -o \
    -name '*.mk' | grep -v '^tests/linux/guest/'; echo Makefile)
: >"$work/tpaths"
# shellcheck disable=SC2086 # one word per file
for w in $(grep -hv '^[[:space:]]*#' $scripts |
    grep -oE '(^|[;&|({`]|\$\(|then|do|else)[[:space:]]*[a-z][a-z0-9_.+-]*' |
    grep -oE '[a-z][a-z0-9_.+-]*$' | sort -u); do
	case $(type -t "$w") in
	builtin | keyword | alias) continue ;;
	esac
	# Guest commands, and the host command to reach the guest, that the
	# demo's instructions name in plain text.
	case " poweroff reboot halt curl " in *" $w "*) continue ;; esac
	p=$(type -P "$w") || continue
	# A program from outside the system (a pyenv shim, ~/bin): what
	# counts is the system's own, as on a fresh machine.
	case $p in
	/usr/* | /bin/* | /sbin/*) ;;
	*) p=/usr/bin/$w ;;
	esac
	realpath -e "$p" >>"$work/tpaths" 2>/dev/null ||
	    echo "$p" >>"$work/tpaths"
done
sort -u -o "$work/tpaths" "$work/tpaths"
# Merged /usr: dpkg may know a program by its /bin or /usr/bin path.
sed 's|^/usr/|/|' "$work/tpaths" >"$work/tpaths.alt"
owners $(cat "$work/tpaths" "$work/tpaths.alt") | sort -u >"$work/town"
cut -d' ' -f2 "$work/town" | sed 's|^/usr/|/|' | sort -u >"$work/towned"
sed 's|^/usr/|/|' "$work/tpaths" | sort -u | comm -23 - "$work/towned" |
    sed 's/^/(no package) /' >>"$work/town"
# The TOOLS table itself: every package it names is listed.
scripts/deps.sh --tools | while read -r tool pkg; do
	grep -qxF "$pkg" "$work/listed" ||
	    echo "(not listed: $pkg) $tool" >>"$work/town"
done
sort -u -o "$work/town" "$work/town"
check tools "programs" "$work/town"

if out=$(scripts/deps.sh --check 2>&1); then
	echo "PASS deps:installed"
else
	echo "FAIL deps:installed ($out)"
	failed=1
fi
exit $failed
