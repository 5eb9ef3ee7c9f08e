# tools/bench/bench-mem.mk - `make bench-mem`: memory per dialog with
# 100,000 confirmed dialogs held, Kamailio (dialog module) vs sipdlgd
# (tools/bench/bench-mem.sh).  Included by the top Makefile; a benchmark,
# not part of `make test`.  Knobs: environment, e.g.
#   make bench-mem BENCH_MEM_DIALOGS=50000 BENCH_MEM_RATE=1500

.PHONY: bench-mem

# The script plans for 720 s; timeout is the hard stop (its traps still
# stop every process it started).
bench-mem:
	@timeout -k 20 780 bash tools/bench/bench-mem.sh
