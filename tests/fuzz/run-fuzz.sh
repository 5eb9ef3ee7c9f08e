#!/bin/sh
# run-fuzz.sh BINARY SECONDS - run one libFuzzer target for SECONDS on a
# scratch copy of its seed corpus and report one TAP line.  A crash, leak
# or sanitizer report fails the test; the reproducer is kept under
# build/fuzz/artifacts/.
set -u
bin=$1 secs=$2
name=${bin##*/}
seeds="tests/fuzz/corpus"
[ -d "tests/fuzz/corpus/$name" ] && seeds="tests/fuzz/corpus/$name"
work=$(mktemp -d /tmp/sipdlg-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" build/fuzz/artifacts
cp -r "$seeds"/. "$work/corpus/" 2>/dev/null
echo "1..1"
if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/ \
	"$work/corpus" >"$work/log" 2>&1; then
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$')
	echo "ok 1 - $name: ${secs}s, ${runs:-?} inputs, no crash"
else
	echo "not ok 1 - $name: the fuzzer found a problem"
	tail -n 40 "$work/log" | sed 's/^/# /'
	exit 1
fi
