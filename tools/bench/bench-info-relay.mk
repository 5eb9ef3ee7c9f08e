# tools/bench/bench-info-relay.mk - `make bench-info-relay`: in-dialog requests per
# second and CPU per 1,000 through the box in the three-namespace topology,
# Kamailio (dialog module) vs sipdlgd with the kernel relay off and on
# (tools/bench/bench-info-relay.sh).  Included by the top Makefile.
#   make bench-info-relay BENCH_RELAY_SECS=30 BENCH_RELAY_STEP_SECS=5 BENCH_RELAY_LADDER="2000 10000 30000"

.PHONY: bench-info-relay
bench-info-relay: $(BUILD)/sipdlgd $(BUILD)/sipdlgctl $(BENCH_FLOOD) $(BENCH_SINK) test-build
	@timeout -k 20 900 bash tools/bench/bench-info-relay.sh

# `make bench-cps-ns`: CPU per basic call of sipdlgd with XDP attached
# natively (relay on) against XDP detached, in the same three namespaces
# (tools/bench/bench-cps-ns.sh, alternated runs, medians; LATEST-cps-ns.md).
#   make bench-cps-ns BENCH_NS_ROUNDS=5 BENCH_NS_RATE=800 BENCH_NS_SECS=8 BENCH_NS_STRACE=1
.PHONY: bench-cps-ns
bench-cps-ns: $(BUILD)/sipdlgd $(BUILD)/sipdlgctl test-build
	@timeout -k 20 900 bash tools/bench/bench-cps-ns.sh
