# tools/bench/bench-perf.mk - `make bench-perf`: perf record -g of sipdlgd
# (profile sipdlgd-dialog) under a fixed call rate, top symbols by self time
# into tools/bench/results/LATEST-perf.txt (tools/bench/perf-profile.sh).
#   make bench-perf BENCH_PERF_RATE=2000 BENCH_PERF_SECS=20

.PHONY: bench-perf
bench-perf: $(BUILD)/sipdlgd $(BUILD)/sipdlgctl
	@timeout -k 20 180 bash tools/bench/perf-profile.sh
