#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs what is missing, checks formatting, builds vpngw twice (release,
# and ASan+UBSan) and runs every test suite. Exits non-zero on any failure.
#
#   scripts/test.sh            everything
#   scripts/test.sh --quick    release build and tests only (no ASan build)
set -euo pipefail

cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

step() { printf '\n== %s ==\n' "$*"; }

step "dependencies"
bash scripts/deps.sh

step "format (clang-format, .clang-format)"
mapfile -t sources < <(git ls-files -- '*.c' '*.h' 2>/dev/null || find lib dataplane control tests -name '*.[ch]')
if ! clang-format --dry-run --Werror "${sources[@]}"; then
	echo "format: run clang-format -i on the files above" >&2
	exit 1
fi
echo "format: ${#sources[@]} files clean"

# UBSan findings fail the test instead of only printing.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"

passed=0
failed=0
run_suites() { # build-dir, meson test args...
	local dir=$1
	shift
	local rc=0
	meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" || rc=$?
	# Count check's individual test cases ("Checks: N, Failures: F, Errors: E");
	# a test that is not a check suite counts as one.
	local counts
	counts=$(/usr/bin/python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, re, sys
ok = bad = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    m = re.search(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)", t.get("stdout") or "")
    if m:
        n, f, e = map(int, m.groups())
        ok += n - f - e
        bad += f + e
        if t["result"] != "OK" and f + e == 0:
            bad += 1
    elif t["result"] == "OK":
        ok += 1
    else:
        bad += 1
print(ok, bad)
PY
	)
	passed=$((passed + ${counts% *}))
	failed=$((failed + ${counts#* }))
	return $rc
}

setup() { # build-dir, meson options...
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

status=0

step "release build"
setup build
ninja -C build
step "tests (release build)"
run_suites build || status=1

if [ $quick -eq 0 ]; then
	step "ASan+UBSan build"
	setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
	ninja -C build-asan
	step "unit, fuzz-replay and data plane tests (ASan+UBSan build)"
	run_suites build-asan --suite unit --suite fuzz --suite dp || status=1

	# libFuzzer (clang) on every fuzz target for a bounded time each.
	step "fuzzing (libFuzzer, ${FUZZ_SECONDS:-30} s per target)"
	CC=clang setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C build-fuzz
	for target in build-fuzz/tests/fuzz/fuzz_*; do
		[ -x "$target" ] && [ -f "$target" ] || continue
		name=$(basename "$target")
		corpus=$(mktemp -d)
		cp build-fuzz/tests/fuzz/"${name#fuzz_}"_*.bin "$corpus"/ 2>/dev/null || true
		if "$target" -max_total_time="${FUZZ_SECONDS:-30}" -max_len=4000 -artifact_prefix=build-fuzz/ \
			"$corpus" >"build-fuzz/$name.log" 2>&1; then
			passed=$((passed + 1))
			echo "$name: $(grep -o 'Done [0-9]* runs in [0-9]* second' "build-fuzz/$name.log")"
		else
			failed=$((failed + 1))
			status=1
			tail -40 "build-fuzz/$name.log"
			echo "$name: FAILED (crash input and log in build-fuzz/)"
		fi
		rm -rf "$corpus"
	done
fi

echo
echo "tests: $passed passed, $failed failed"
exit $status
