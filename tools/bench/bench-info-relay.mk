# tools/bench/bench-info-relay.mk - `make bench-info-relay`: in-dialog requests per
# second and CPU per 1,000 through the box in the three-namespace topology,
# Kamailio (dialog module) vs sipdlgd with the kernel relay off and on
# (tools/bench/bench-info-relay.sh).  Included by the top Makefile.
#   make bench-info-relay BENCH_RELAY_SECS=30 BENCH_RELAY_STEP_SECS=5 BENCH_RELAY_LADDER="2000 10000 30000"

# Defined before the rule that names it: prerequisites expand when read.
BENCH_RELAY_XDP := $(BUILD)/tools/bench/relay_xdp

.PHONY: bench-info-relay
bench-info-relay: $(BUILD)/sipdlgd $(BUILD)/sipdlgctl $(BENCH_FLOOD) $(BENCH_SINK) $(BENCH_RELAY_XDP) test-build
	@timeout -k 20 900 bash tools/bench/bench-info-relay.sh

# The sink and the reply counter in the kernel (XDP at the ends of the
# veths, tools/bench/relay_xdp.bpf.c) and their loader.
$(BUILD)/tools/bench/relay_xdp.bpf.o: tools/bench/relay_xdp.bpf.c tools/bench/relay_xdp.h vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -Itools/bench -c $< -o $@
$(BUILD)/tools/bench/relay_xdp.skel.h: $(BUILD)/tools/bench/relay_xdp.bpf.o
	$(BPFTOOL) gen skeleton $< name relay_xdp_bpf > $@.tmp && mv $@.tmp $@
$(BENCH_RELAY_XDP): tools/bench/relay_xdp.c tools/bench/relay_xdp.h $(BUILD)/tools/bench/relay_xdp.skel.h
	$(CC) $(CFLAGS) -Itools/bench -I$(BUILD)/tools/bench -o $@ $< -lbpf -lelf -lz

# `make bench-cps-ns`: CPU per basic call of sipdlgd with XDP attached
# natively (relay on) against XDP detached, in the same three namespaces
# (tools/bench/bench-cps-ns.sh, alternated runs, medians; LATEST-cps-ns.md).
#   make bench-cps-ns BENCH_NS_ROUNDS=5 BENCH_NS_RATE=800 BENCH_NS_SECS=8 BENCH_NS_STRACE=1
.PHONY: bench-cps-ns
bench-cps-ns: $(BUILD)/sipdlgd $(BUILD)/sipdlgctl test-build
	@timeout -k 20 900 bash tools/bench/bench-cps-ns.sh
