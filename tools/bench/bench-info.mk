# tools/bench/bench-info.mk - `make bench-info`: in-dialog requests (INFO)
# per second and CPU per 1,000 INFO, Kamailio (dialog module) vs sipdlgd
# (tools/bench/bench-info.sh, bench-cps.sh's ramp on the info-call
# scenario).  Included by the top Makefile.
#   make bench-info BENCH_INFO_BUDGET=120

.PHONY: bench-info
bench-info:
	@timeout -k 20 360 bash tools/bench/bench-info.sh
