#!/usr/bin/env bash
# tests/harden/run.sh: the hardening of the built programs, read from the
# binaries themselves (readelf, objdump), for build/khyve and
# build/khyve-slirp:
#
#   pie-NAME         ELF type DYN; khyve also static (no INTERP, no NEEDED)
#                    unless it is a sanitizer build (ASan needs ld.so)
#   relro-NAME       a GNU_RELRO segment
#   bindnow-NAME     DT_FLAGS BIND_NOW or DT_FLAGS_1 NOW (RELRO covers the GOT)
#   nxstack-NAME     a GNU_STACK segment without E
#   ssp-NAME         khyve's own functions call __stack_chk_fail
#   fortify-NAME     khyve's own functions call the __*_chk functions
#   stackclash-NAME  no own function moves %rsp down by more than a page at
#                    once, and the large frames probe each page (or/xor $0,(%rsp))
#   cet-NAME         khyve's global functions start with endbr64 (IBT)
#   cet-note-NAME    .note.gnu.property has x86 feature IBT and SHSTK
#
# "Own functions" are those defined in the program's own objects (nm of the
# build's objects): the C library and the static libraries bring their own
# __stack_chk_fail and __*_chk calls, which say nothing about our flags.
# cet-note is SKIP when the C library's start files carry no CET note
# themselves: ld keeps the note only if every input has it, so then no
# program linked on this system can have it.
#
#   tests/harden/run.sh [BUILD]
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for t in readelf objdump nm; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "SKIP harden:all: $t not found (scripts/deps.sh installs binutils)"
		exit 0
	fi
done

pass() { echo "PASS harden:$1${2:+ ($2)}"; }
fail() { echo "FAIL harden:$1 ($2)"; }

# own_funcs OBJ...: the text symbols the objects define, "T name" or
# "t name" one a line.
own_funcs() {
	nm --defined-only "$@" 2>/dev/null |
	    awk '$2 == "T" || $2 == "t" { print $2, $3 }' | sort -u
}

# scan BIN FUNCS: one line of counts over the own functions' disassembly:
# "ssp fortify probes bigsub globals endbr" and the names with a frame
# allocated in one step larger than a page (bigsub) on the next line.
scan() {
	objdump -d --no-show-raw-insn -w "$1" | awk -v funcs="$2" '
	BEGIN {
		while ((getline l < funcs) > 0) {
			split(l, f, " ")
			own[f[2]] = 1
			if (f[1] == "T")
				glob[f[2]] = 1
		}
	}
	function hex(s,	i, v) {
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	function done_fn() {
		if (!in_own)
			return
		ssp += f_ssp; fortify += f_fort; probes += f_probe
		if (f_big) { bigsub++; big = big " " fn }
	}
	/^[0-9a-f]+ <[^>]+>:$/ {
		done_fn()
		fn = $2; sub(/^</, "", fn); sub(/>:$/, "", fn)
		in_own = (fn in own); first = 1
		f_ssp = f_fort = f_probe = f_big = 0
		if (in_own && (fn in glob))
			globals++
		next
	}
	!in_own { next }
	/^ *[0-9a-f]+:/ {
		if (first && (fn in glob) && $2 == "endbr64")
			endbr++
		first = 0
		if ($0 ~ /<__stack_chk_fail(_local)?(@plt)?>/)
			f_ssp = 1
		else if ($0 ~ /<__[a-z0-9_]+_chk(@plt)?>/)
			f_fort = 1
		if ($2 ~ /^x?orq?$/ && $3 == "$0x0,(%rsp)")
			f_probe = 1
		if ($2 == "sub" && $3 ~ /^\$0x[0-9a-f]+,%rsp$/) {
			n = $3; sub(/^\$0x/, "", n); sub(/,%rsp$/, "", n)
			if (length(n) < 16 && hex(n) > 4096)
				f_big = 1
		}
	}
	END {
		done_fn()
		print ssp + 0, fortify + 0, probes + 0, bigsub + 0, globals + 0, endbr + 0
		print big
	}'
}

# units BIN: the compiler switches (DW_AT_producer) of each compilation
# unit built from the tree (a relative DW_AT_name), one a line.
units() {
	readelf --debug-dump=info "$1" 2>/dev/null | awk '
	/DW_TAG_compile_unit/ { prod = ""; cu = 1; next }
	cu && /DW_AT_producer/ { prod = $0; sub(/.*DW_AT_producer[^:]*: (\([^)]*\): )?/, "", prod) }
	cu && /DW_AT_name/ {
		n = $NF
		if (n !~ /^\// && prod != "")
			print n, prod
		cu = 0
	}'
}

# check NAME BIN OBJ...: every property of one program.
check() {
	local name=$1 bin=$2 hdr dyn prog notes san funcs counts big
	local ssp fort probes bigsub globals endbr crti
	shift 2
	if [ ! -x "$bin" ]; then
		fail "build-$name" "$bin missing: run make all"
		return
	fi
	hdr=$(readelf -hW "$bin")
	prog=$(readelf -lW "$bin")
	dyn=$(readelf -dW "$bin")
	notes=$(readelf -nW "$bin")
	san=0
	readelf -sW "$bin" | grep -qE ' (__asan_init|__ubsan_handle_[a-z_]+)(@|$)' && san=1

	if ! grep -qE '^ *Type: +DYN ' <<<"$hdr"; then
		fail "pie-$name" "ELF type $(awk '$1 == "Type:" { print $2 }' <<<"$hdr"), not DYN"
	elif [ "$name" = khyve ] && [ $san = 0 ] &&
	    { grep -q ' INTERP ' <<<"$prog" || grep -q '(NEEDED)' <<<"$dyn"; }; then
		fail "pie-$name" "a dynamic PIE: expected a static PIE (-static-pie), no INTERP, no NEEDED"
	elif grep -q ' INTERP ' <<<"$prog"; then
		pass "pie-$name" "dynamic PIE"
	else
		pass "pie-$name" "static PIE"
	fi

	if grep -qE '^ *GNU_RELRO ' <<<"$prog"; then
		pass "relro-$name"
	else
		fail "relro-$name" "no GNU_RELRO segment"
	fi

	if grep -qE '\(FLAGS\) +.*BIND_NOW|\(FLAGS_1\) +.*[: ]NOW( |$)' <<<"$dyn"; then
		pass "bindnow-$name"
	else
		fail "bindnow-$name" "neither DT_FLAGS BIND_NOW nor DT_FLAGS_1 NOW"
	fi

	local stack
	stack=$(awk '$1 == "GNU_STACK" { f = ""; for (i = 7; i < NF; i++) f = f $i; print f }' <<<"$prog")
	if [ -z "$stack" ]; then
		fail "nxstack-$name" "no GNU_STACK segment: the stack is executable"
	elif [[ $stack == *E* ]]; then
		fail "nxstack-$name" "GNU_STACK is $stack"
	else
		pass "nxstack-$name" "GNU_STACK $stack"
	fi

	funcs=$work/$name.funcs
	own_funcs "$@" >"$funcs"
	if [ ! -s "$funcs" ]; then
		fail "objects-$name" "no functions in $*: run make all"
		return
	fi
	{ read -r ssp fort probes bigsub globals endbr; read -r big; } < <(scan "$bin" "$funcs")

	if [ "$ssp" -gt 0 ]; then
		pass "ssp-$name" "$ssp own functions check their canary"
	else
		fail "ssp-$name" "no own function calls __stack_chk_fail"
	fi

	if [ $san = 1 ]; then
		echo "SKIP harden:fortify-$name: a sanitizer build (built without _FORTIFY_SOURCE)"
	elif [ "$fort" -gt 0 ]; then
		pass "fortify-$name" "$fort own functions call __*_chk"
	else
		fail "fortify-$name" "no own function calls a __*_chk function"
	fi

	if [ "$bigsub" -gt 0 ]; then
		fail "stackclash-$name" "$bigsub own functions allocate more than a page at once:$big"
	elif [ "$probes" -gt 0 ]; then
		pass "stackclash-$name" "$probes own functions probe their large frames"
	else
		# No frame to see it in: the compiler's recorded switches then.
		units "$bin" >"$work/$name.units"
		local nu nclash
		nu=$(grep -c . "$work/$name.units")
		nclash=$(grep -c -- ' -fstack-clash-protection' "$work/$name.units")
		if [ "$nu" -eq 0 ]; then
			echo "SKIP harden:stackclash-$name: no own frame over a page and no debug information to read the flags from"
		elif [ "$nclash" -eq "$nu" ]; then
			pass "stackclash-$name" "no own frame over a page; DW_AT_producer of all $nu units has -fstack-clash-protection"
		else
			fail "stackclash-$name" "DW_AT_producer of $((nu - nclash)) of $nu units lacks -fstack-clash-protection"
		fi
	fi

	# Every function that can be reached indirectly starts with endbr64
	# under -fcf-protection; gcc gives it to every global one.
	if [ "$globals" -gt 0 ] && [ "$endbr" -eq "$globals" ]; then
		pass "cet-$name" "all $globals global functions start with endbr64"
	else
		fail "cet-$name" "$endbr of $globals global functions start with endbr64"
	fi

	if grep -qE 'x86 feature: .*IBT' <<<"$notes" &&
	    grep -qE 'x86 feature: .*SHSTK' <<<"$notes"; then
		pass "cet-note-$name" "IBT and SHSTK"
	else
		crti=$(${CC:-cc} -print-file-name=crti.o 2>/dev/null)
		if [ -f "$crti" ] && ! readelf -nW "$crti" | grep -q 'x86 feature: .*IBT'; then
			echo "SKIP harden:cet-note-$name: no IBT/SHSTK note, and none can be had here: the C library's start files ($crti) have none, and ld keeps the note only when every input has it"
		else
			fail "cet-note-$name" "no x86 feature IBT and SHSTK in .note.gnu.property"
		fi
	fi
}

check khyve "$BUILD/khyve" "$BUILD/src/main.o" "$BUILD/libkhyve.a"
check khyve-slirp "$BUILD/khyve-slirp" "$BUILD/helper/khyve-slirp.o" \
    "$BUILD/src/backend/net_slirp_proto.o"
