# tools/bench/bench.mk - benchmark targets, included by the top Makefile
# (-include tools/bench/bench.mk).  Benchmarks print figures; they are not
# tests and exit 0 unless the reference proxy itself cannot run.
#
#   make bench-cps   calls/s and CPU per call, Kamailio vs sipdlgd (<= 15 min)
#   make bench       every benchmark in one run (<= 25 min in all), then
#                    tools/bench/results/LATEST.md and its PNG charts
#                    (run-all.sh, report.sh); BENCH_SECONDS=600 for a
#                    scaled-down trial run, BENCH_ONLY="info forged" for some
#   make bench-report  LATEST.md and the charts again from the last results
#
# Knobs are environment variables, listed at the top of each script, e.g.
#   make bench-cps BENCH_PROFILES="kamailio-dialog sipdlgd-dialog"
#   make bench-cps BENCH_PROFILES="kamailio-tls sipdlgd-tls"   (SIP over TLS)

BENCH_DIR := tools/bench

.PHONY: bench bench-cps bench-report

BENCH_SECONDS ?= 2100

# The script plans for 870 s; timeout is the hard stop (its traps still
# stop every process it started).
bench-cps:
	@timeout -k 20 900 bash $(BENCH_DIR)/bench-cps.sh

# run-all.sh plans for BENCH_SECONDS; timeout is the hard stop.
bench:
	@timeout -k 30 $$(($(BENCH_SECONDS) + 30)) bash $(BENCH_DIR)/run-all.sh $(BENCH_SECONDS)

bench-report:
	@bash $(BENCH_DIR)/report.sh
