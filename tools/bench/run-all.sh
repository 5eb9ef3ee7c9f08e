#!/bin/bash
# run-all.sh [SECONDS] - `make bench`: every tools/bench/bench-*.sh in
# name order, all of them within SECONDS (default 1500 = 25 min).  Each
# script gets BENCH_DEADLINE (epoch seconds) to plan with, and is stopped
# by timeout(1) at that point at the latest.  Absent or non-executable
# pieces are skipped; the exit status is 1 if any script failed.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
total=${1:-1500}
start=$(date +%s)
deadline=$((start + total))
found=0 ran=0 failed=""
shopt -s nullglob
for s in "$dir"/bench-*.sh; do
	name=$(basename "$s" .sh)
	found=$((found + 1))
	left=$((deadline - $(date +%s)))
	if [ "$left" -lt 120 ]; then
		echo "bench: skipping $name: $left s left of $total" >&2
		continue
	fi
	echo "bench: $name (at most $left s)" >&2
	BENCH_DEADLINE=$deadline timeout -k 20 "$left" bash "$s"
	rc=$?
	ran=$((ran + 1))
	if [ "$rc" -ne 0 ]; then
		failed="$failed $name($rc)"
	fi
done
if [ "$found" -eq 0 ]; then
	echo "bench: no benchmark scripts in $dir" >&2
fi
echo "bench: $ran run in $(($(date +%s) - start)) s${failed:+; failed:$failed}" >&2
[ -z "$failed" ]
