# tools/bench/bench.mk - benchmark targets, included by the top Makefile
# (-include tools/bench/bench.mk).  Benchmarks print figures; they are not
# tests and exit 0 unless the reference proxy itself cannot run.
#
#   make bench-cps   calls/s and CPU per call, Kamailio vs sipdlgd (<= 15 min)
#   make bench       every tools/bench/bench-*.sh in turn (<= 25 min in all)
#
# Knobs are environment variables, listed at the top of each script, e.g.
#   make bench-cps BENCH_PROFILES="kamailio-dialog sipdlgd-dialog"

BENCH_DIR := tools/bench

.PHONY: bench bench-cps

# The script plans for 870 s; timeout is the hard stop (its traps still
# stop every process it started).
bench-cps:
	@timeout -k 20 900 bash $(BENCH_DIR)/bench-cps.sh

bench:
	@bash $(BENCH_DIR)/run-all.sh 1500
