# tools/bench/bench-info-relay.mk - `make bench-info-relay`: in-dialog requests per
# second and CPU per 1,000 through the box in the three-namespace topology,
# Kamailio (dialog module) vs sipdlgd with the kernel relay off and on
# (tools/bench/bench-info-relay.sh).  Included by the top Makefile.
#   make bench-info-relay BENCH_RELAY_SECS=10 BENCH_RELAY_STEP_SECS=5 BENCH_RELAY_LADDER="20000 100000"

.PHONY: bench-info-relay
bench-info-relay: $(BUILD)/sipdlgd $(BUILD)/sipdlgctl $(BENCH_FLOOD) $(BENCH_SINK) test-build
	@timeout -k 20 900 bash tools/bench/bench-info-relay.sh
