# tests/san.sh: sourced by tests/run-all.sh for sanitizer builds
# (make SANITIZE=LIST, docs/testing.md#sanitizers).
#
#   san_build BUILD     true when BUILD/khyve carries a sanitizer runtime
#   san_env BUILD [LEAKS]
#                       export ASAN_OPTIONS and UBSAN_OPTIONS so that every
#                       program of BUILD (and any child) stops at its first
#                       report and writes it to BUILD/san/report.PID,
#                       whatever the test does with its standard error;
#                       empties BUILD/san first; LEAKS (1, default 0) is
#                       detect_leaks
#   san_reports BUILD NAME
#                       "FAIL san:NAME:report.PID (first line)" and the
#                       report, for each report written; else
#                       "PASS san:NAME (no reports)"
#
# exitcode=99: a program stopped by a report exits 99, a status khyve
# never uses.  LeakSanitizer works on this host, but not inside khyve once
# its sandbox is in: the check at exit stops the threads with ptrace and
# clone, which the seccomp filter refuses (SIGSYS, exit 159).  So leaks
# are checked in the unit tests (san_leaks) and not in
# khyve and khyve-slirp processes.

san_build() {
	readelf -sW "$1/khyve" 2>/dev/null |
	    grep -qE ' (__asan_init|__ubsan_handle_[a-z0-9_]+|__tsan_init|__msan_init)(@|$)'
}

san_env() {
	local dir
	dir=$(cd "$1" && pwd)/san
	rm -rf "$dir"
	mkdir -p "$dir"
	export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=99:detect_leaks=${2:-0}:log_path=$dir/report"
	export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=99:print_stacktrace=1:log_path=$dir/report"
	export LSAN_OPTIONS="exitcode=99:log_path=$dir/report"
}

san_reports() {
	local f n=0 what
	for f in "$1"/san/report.*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		what=$(grep -m 1 -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$f" |
		    sed 's/^==[0-9]*==//')
		echo "FAIL san:$2:$(basename "$f") (${what:-a sanitizer report})"
		sed 's/^/    /' "$f" | head -n 60
	done
	[ $n -eq 0 ] && echo "PASS san:$2 (no reports)"
	return 0
}

# san_leaks CMD...: CMD with LeakSanitizer on (the unit tests).
san_leaks() {
	if [ -n "${ASAN_OPTIONS:-}" ]; then
		ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=0/detect_leaks=1} "$@"
	else
		"$@"
	fi
}
