#!/bin/sh
# tests/run.sh TIER... - run every test of the named tiers (unit, bpf, e2e)
# and end with one line "N passed, N failed, N skipped".
#
# Every test program speaks TAP ("ok N - name", "not ok N - name", a
# "# SKIP" directive for skips).  Unit tests run under valgrind's leak
# check; a leak or a crash counts as one more failure.  Each program runs
# under a timeout so a hang cannot stall CI.  Logs: build/test-logs/.
set -u
cd "$(dirname "$0")/.." || exit 2

LOGDIR=build/test-logs
mkdir -p "$LOGDIR"
PASS=0 FAIL=0 SKIP=0
FAILED_NAMES=""

VALGRIND=""
if command -v valgrind >/dev/null 2>&1 && [ "${SIPDLG_NO_VALGRIND:-0}" != 1 ]; then
	VALGRIND="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99"
fi

# run_one NAME TIMEOUT CMD... : run, count its TAP lines, report.
run_one() {
	name=$1 limit=$2
	shift 2
	log="$LOGDIR/$(echo "$name" | tr '/' '_').log"
	start=$(date +%s)
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	p=$(grep -E '^ok ' "$log" | grep -vc '# SKIP')
	s=$(grep -Ec '^(not )?ok .*# SKIP' "$log")
	f=$(grep -E '^not ok ' "$log" | grep -vc '# SKIP')
	extra=""
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		f=$((f + 1)); extra=" (timed out after ${limit}s)"
	elif [ "$rc" -eq 99 ]; then
		f=$((f + 1)); extra=" (valgrind found leaks or memory errors)"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=$((f + 1)); extra=" (exit status $rc)"
	elif [ $((p + s + f)) -eq 0 ]; then
		f=1; extra=" (ran no test)"
	fi
	PASS=$((PASS + p)) FAIL=$((FAIL + f)) SKIP=$((SKIP + s))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name: $p passed, $f failed, $s skipped, ${secs}s$extra"
		grep -E '^not ok ' "$log" | grep -v '# SKIP' | sed 's/^/     /'
		echo "     --- last lines of $log ---"
		tail -n 25 "$log" | sed 's/^/     | /'
		FAILED_NAMES="$FAILED_NAMES $name"
	else
		echo "ok   $name: $p passed, $s skipped, ${secs}s"
	fi
}

for tier in "$@"; do
	case "$tier" in
	unit)
		for t in build/tests/unit/test_*; do
			[ -x "$t" ] || continue
			CMOCKA_MESSAGE_OUTPUT=TAP run_one "unit/${t##*/}" 600 $VALGRIND "$t"
		done ;;
	bpf)
		for t in build/tests/bpf/test_*; do
			[ -x "$t" ] || continue
			CMOCKA_MESSAGE_OUTPUT=TAP run_one "bpf/${t##*/}" 600 "$t"
		done ;;
	fuzz)
		# libFuzzer over a copy of the seed corpus (the seeds stay as
		# committed); TAP from tests/fuzz/run-fuzz.sh.
		for t in build/fuzz/fuzz_*; do
			[ -x "$t" ] || continue
			run_one "fuzz/${t##*/}" $(( ${FUZZ_SECONDS:-60} + 120 )) \
				sh tests/fuzz/run-fuzz.sh "$t" "${FUZZ_SECONDS:-60}"
		done
		# The differential test on many generated messages, only when
		# `make fuzz` asks (SIPDLG_DIFF_FUZZ_N); a new seed each run,
		# printed, and every failure names its own message seed.
		t=build/tests/bpf/test_xdp_diff
		if [ -n "${SIPDLG_DIFF_FUZZ_N:-}" ] && [ -x "$t" ]; then
			SIPDLG_DIFF_N=$SIPDLG_DIFF_FUZZ_N SIPDLG_DIFF_SPREAD=1 \
			SIPDLG_DIFF_SEED=${SIPDLG_DIFF_SEED:-$(date +%s)} \
			CMOCKA_MESSAGE_OUTPUT=TAP run_one "fuzz/test_xdp_diff" 3600 "$t"
		fi ;;
	e2e)
		for t in tests/e2e/test_*.sh; do
			[ -f "$t" ] || continue
			run_one "e2e/${t##*/}" 900 bash "$t"
		done ;;
	*)
		echo "run.sh: unknown tier '$tier' (unit, bpf, fuzz, e2e)" >&2
		exit 2 ;;
	esac
done

[ -n "$FAILED_NAMES" ] && echo "failed:$FAILED_NAMES"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
