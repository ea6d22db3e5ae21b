# tests/fuzz/lib.sh: sourced by smoke.sh and long.sh.

# fuzz_targets BUILD [NAME...]: set the array `targets` to the names
# given, or to every fuzz target built in BUILD/fuzz (NAME of fuzz_NAME).
fuzz_targets() {
	local build=$1 f
	shift
	targets=("$@")
	[ $# -gt 0 ] && return
	for f in "$build"/fuzz/fuzz_*; do
		[ -x "$f" ] && targets+=("${f##*/fuzz_}")
	done
}
