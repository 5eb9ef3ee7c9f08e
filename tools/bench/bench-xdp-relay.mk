# tools/bench/bench-xdp-relay.mk - the kernel relay's rows of `make bench-xdp`
# (tools/bench/bench_relay.c): ns per relayed in-dialog INFO and per
# relayed reply, in a network namespace of their own.  Needs root.
#   make bench-xdp-relay                          the rows alone
#   make bench-xdp-relay BENCH_XDP_RELAY_ARGS=-r50000 fewer repeats
# (Named bench-xdp-relay when merged with the three-namespace `make
# bench-relay` of bench-relay.mk, issue #14 item 5.)

BENCH_XDP_RELAY      := $(BUILD)/tools/bench/bench_relay
BENCH_XDP_RELAY_ARGS ?=

.PHONY: bench-xdp-relay
bench-xdp-relay: $(BENCH_XDP_RELAY)
	$(BENCH_XDP_RELAY) $(BENCH_XDP_RELAY_ARGS)

# make bench-xdp prints these rows too (before its own table)
bench-xdp: bench-xdp-relay

$(BENCH_XDP_RELAY): tools/bench/bench_relay.c tests/lib/pkt.c tests/lib/pkt.h \
		$(BPF_SKEL) include/sipdlg_shared.h include/sipdlg_hash.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -o $@ tools/bench/bench_relay.c tests/lib/pkt.c \
		-lbpf -lelf -lz
